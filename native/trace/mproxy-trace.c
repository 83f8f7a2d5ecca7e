/*
 * mproxy-trace: runs PROGRAM so that every exec by it or any descendant goes through the shim.
 *
 *   mproxy-trace SHIM PENDING-DIR -- PROGRAM ARGS...
 *   mproxy-trace --no-trace -- PROGRAM ARGS...     (PATH interception: only the fd hygiene)
 *
 * Either way, descriptors above 2 that the sandbox inherited by accident (libfuse's /dev/fuse
 * is opened without O_CLOEXEC) are closed before PROGRAM runs.
 *
 * A seccomp filter traps only execve/execveat (SECCOMP_RET_TRACE); every other syscall runs at
 * full speed. This supervisor (the tracer, PTRACE_SEIZE with fork/clone following) sees each
 * trapped exec and lets it through unchanged when:
 *   - it is the program's own first exec, or `env` (a `#!/usr/bin/env X` shebang) exec'ing
 *     for the program's process: the program, its interpreter and an env shebang's target stay
 *     local;
 *   - the exec'ing process is the shim itself (a command the policy keeps local);
 *   - the path is the shim;
 *   - the file is not an executable (the kernel fails the exec as it would anyway: execvp's
 *     PATH walk goes on to the next directory).
 * Otherwise the exec is rewritten to exec the shim with the same argv and envp; the path that
 * would have run is left in PENDING-DIR/PID (the process's pid, also for an exec from another
 * thread: the process keeps it across exec), where the shim reads it. execveat is turned into
 * execve of the shim. When that cannot be arranged (the tracee's memory unreadable or not
 * writable, the hand-off not written) the exec fails (EFAULT, EPERM): nothing runs here that
 * should have gone through the policy.
 *
 * Exit status: the program's, or 128+N when a signal ended it. Stopped processes stay stopped
 * (PTRACE_LISTEN) so job control works as without the tracer. Tracees are killed if the tracer
 * dies (PTRACE_O_EXITKILL). Tracing is x86_64 only; elsewhere mproxy uses PATH stubs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracee.h"


#ifdef __x86_64__
static const char *shim_path;
static const char *pending_dir;
static pid_t root_pid;
static int root_started;
static char self_path[PATH_MAX];

static void die(const char *what) {
  fprintf(stderr, "mproxy-trace: %s: %s\n", what, strerror(errno));
  exit(125);
}

static int install_filter(void) {
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
  };
  struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void pending_file(pid_t pid, char *file, size_t cap) {
  snprintf(file, cap, "%s/%d", pending_dir, mp_thread_group(pid));
}

static int write_pending(pid_t pid, const char *path) {
  char file[PATH_MAX];
  pending_file(pid, file, sizeof file);
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  size_t len = strlen(path);
  ssize_t n = write(fd, path, len);
  close(fd);
  return n == (ssize_t)len ? 0 : -1;
}

/* The exec fails with -err instead of running: when interception cannot be arranged, nothing
 * runs unseen here (fail closed). */
static void refuse_exec(pid_t pid, struct user_regs_struct *regs, int err) {
  char file[PATH_MAX];
  pending_file(pid, file, sizeof file);
  unlink(file);
  regs->orig_rax = (unsigned long long)-1; /* skip the syscall */
  regs->rax = (unsigned long long)-err;
  ptrace(PTRACE_SETREGS, pid, 0, regs);
}

/* Decide one trapped exec; rewrite it to the shim when it is to go through the policy. */
static void on_exec(pid_t pid) {
  struct user_regs_struct regs;
  if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0) return;
  long nr = (long)regs.orig_rax;
  unsigned long path_addr, argv, envp;
  long dirfd = AT_FDCWD, flags = 0;
  if (nr == __NR_execve) {
    path_addr = regs.rdi, argv = regs.rsi, envp = regs.rdx;
  } else if (nr == __NR_execveat) {
    dirfd = (int)regs.rdi, path_addr = regs.rsi, argv = regs.rdx, envp = regs.r10, flags = (long)regs.r8;
  } else {
    return;
  }
  char exe[PATH_MAX];
  if (mp_proc_link(pid, "exe", exe, sizeof exe) == 0) {
    /* execvp's PATH walk for the program: every attempt until one succeeds stays local (until
       then the root process is still this binary). */
    if (pid == root_pid && !root_started) {
      if (strcmp(exe, self_path) == 0) return;
      root_started = 1;
    }
    if (strcmp(exe, shim_path) == 0) return;
    if (pid == root_pid && strcmp(mp_base_name(exe), "env") == 0) return;
  }
  char path[PATH_MAX], resolved[PATH_MAX];
  /* An unreadable path: the kernel would fail it with EFAULT; so does this, never a guess. */
  if (mp_read_string(pid, path_addr, path, sizeof path) != 0) { refuse_exec(pid, &regs, EFAULT); return; }
  if (mp_resolve(pid, dirfd, path, flags, resolved, sizeof resolved) != 0) return;
  if (strcmp(resolved, shim_path) == 0) return;
  char seen[PATH_MAX + 32];
  /* As the tracee would see it: /proc/PID/root keeps its mount namespace and root. */
  snprintf(seen, sizeof seen, "/proc/%d/root%s", pid, resolved);
  if (access(seen, X_OK) != 0) return;
  if (write_pending(pid, resolved) != 0) { refuse_exec(pid, &regs, EPERM); return; }

  /* The shim's path goes below the red zone of the tracee's stack; argv and envp stay. */
  size_t len = strlen(shim_path) + 1;
  unsigned long at = (regs.rsp - 128 - len - 64) & ~15UL;
  struct iovec local = { (void *)shim_path, len };
  struct iovec remote = { (void *)at, len };
  if (process_vm_writev(pid, &local, 1, &remote, 1, 0) != (ssize_t)len) { refuse_exec(pid, &regs, EPERM); return; }
  regs.orig_rax = __NR_execve;
  regs.rdi = at;
  regs.rsi = argv;
  regs.rdx = envp;
  ptrace(PTRACE_SETREGS, pid, 0, &regs);
}

static int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

#endif

static void close_inherited(void) {
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    for (int fd = 3; fd < 1024; fd++) close(fd);
  }
}

static int run_untraced(char **program) {
  close_inherited();
  execvp(program[0], program);
  fprintf(stderr, "mproxy: cannot run %s: %s\n", program[0], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "--no-trace") == 0 && strcmp(argv[2], "--") == 0) return run_untraced(argv + 3);
#ifndef __x86_64__
  fprintf(stderr, "mproxy-trace: tracing needs x86_64; use --no-trace\n");
  return 125;
#else
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: mproxy-trace SHIM PENDING-DIR -- PROGRAM ARGS...\n       mproxy-trace --no-trace -- PROGRAM ARGS...\n");
    return 125;
  }
  shim_path = argv[1];
  pending_dir = argv[2];
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (install_filter() != 0) die("seccomp filter");
    raise(SIGSTOP);
    _exit(run_untraced(argv + 4));
  }
  root_pid = child;
  ssize_t self_len = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
  if (self_len < 0) die("readlink /proc/self/exe");
  self_path[self_len] = 0;
  int status;
  if (waitpid(child, &status, WSTOPPED) != child || !WIFSTOPPED(status)) die("waiting for the program");
  long options = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SEIZE, child, 0, options) != 0) die("ptrace");
  kill(child, SIGCONT);
  /* The terminal's signals reach the program directly; the tracer outlives them. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGTSTP, SIG_IGN);
  signal(SIGTTOU, SIG_IGN);
  signal(SIGTTIN, SIG_IGN);
  for (;;) {
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0) {
      if (errno == EINTR) continue;
      die("waitpid");
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (pid == root_pid) return exit_status(status);
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status);
    int event = status >> 16;
    if (event == PTRACE_EVENT_SECCOMP) {
      on_exec(pid);
      ptrace(PTRACE_CONT, pid, 0, 0);
    } else if (event == PTRACE_EVENT_STOP) {
      /* Group-stop (job control): stay stopped until SIGCONT. Else a new tracee's first stop. */
      if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) ptrace(PTRACE_LISTEN, pid, 0, 0);
      else ptrace(PTRACE_CONT, pid, 0, 0);
    } else if (event != 0) {
      ptrace(PTRACE_CONT, pid, 0, 0);
    } else {
      ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig);
    }
  }
#endif
}
