/*
 * mproxy-pty: runs one program on a new pseudo-terminal for the agent, which has no pty of its
 * own (Node cannot make one). Built static by node-gyp (binding.gyp) so it runs on any Linux of
 * the same architecture, however old its libc; uploaded beside the agent, content-addressed.
 *
 *   mproxy-pty CONTROL-FD ROWS COLS PROGRAM [ARG...]
 *
 * fd 0   bytes typed at the terminal (copied to the pty master)
 * fd 1   everything the program writes to the terminal
 * fd 2   exactly one status line: "ok PID\n" once PROGRAM runs (PID leads its session and
 *        process group), or "err ERRNO-NAME\n" when it could not be started (exit 127/126)
 * CONTROL-FD (or "-" for none): window sizes, one "ROWS COLS\n" per resize (the program
 *        gets SIGWINCH); closed in the program, which inherits every other fd (extra fds)
 *
 * Exits with the program's status; when the program died of signal N, dies of N too.
 *
 *   mproxy-pty --spawner
 *
 * The agent's fast spawn: a small process starts programs for it (spawner.c).
 *
 *   mproxy-pty --watcher
 *
 * The agent's directory watches, read in batches (watcher.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"


static unsigned short parse_dim(const char *s) {
  long v = strtol(s, NULL, 10);
  return v > 0 && v < 10000 ? (unsigned short)v : 0;
}

/* Applies every complete "ROWS COLS\n" line in buf; returns how many bytes were used. */
static size_t apply_sizes(int master, char *buf, size_t len) {
  size_t used = 0;
  for (char *eol; (eol = memchr(buf + used, '\n', len - used)) != NULL; used = (size_t)(eol - buf) + 1) {
    *eol = '\0';
    char *cols = strchr(buf + used, ' ');
    if (cols == NULL) continue;
    struct winsize ws = {.ws_row = parse_dim(buf + used), .ws_col = parse_dim(cols + 1)};
    if (ws.ws_row > 0 && ws.ws_col > 0) ioctl(master, TIOCSWINSZ, &ws);
  }
  return used;
}

static void die_like(int status) {
  if (WIFEXITED(status)) exit(WEXITSTATUS(status));
  int sig = WTERMSIG(status);
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  kill(getpid(), sig);
  exit(128 + sig);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--spawner") == 0) return spawner_main();
  if (argc == 2 && strcmp(argv[1], "--watcher") == 0) return watcher_main();
  if (argc < 5) {
    fputs("usage: mproxy-pty CONTROL-FD ROWS COLS PROGRAM [ARG...]\n", stderr);
    return 2;
  }
  int control = strcmp(argv[1], "-") == 0 ? -1 : atoi(argv[1]);
  if (control >= 0 && control <= 2) control = -1;
  struct winsize ws = {.ws_row = parse_dim(argv[2]), .ws_col = parse_dim(argv[3])};
  if (ws.ws_row == 0) ws.ws_row = 24;
  if (ws.ws_col == 0) ws.ws_col = 80;
  int master, slave;
  if (openpty(&master, &slave, NULL, NULL, &ws) < 0) {
    dprintf(2, "err %s\n", errno_name(errno));
    return 126;
  }
  int exec_err[2];
  if (pipe2(exec_err, O_CLOEXEC) < 0 || pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) return 126;
  signal(SIGCHLD, on_chld);
  signal(SIGPIPE, SIG_IGN);
  int control_open = control >= 0 && fcntl(control, F_GETFD) >= 0;

  pid_t pid = fork();
  if (pid < 0) {
    dprintf(2, "err %s\n", errno_name(errno));
    return 126;
  }
  if (pid == 0) {
    setsid();
    ioctl(slave, TIOCSCTTY, 0);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    if (slave > 2) close(slave);
    close(master);
    if (control_open) close(control);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[4], argv + 4);
    int e = errno;
    ssize_t ignored = write(exec_err[1], &e, sizeof e);
    (void)ignored;
    _exit(127);
  }
  close(slave);
  close(exec_err[1]);
  int e = 0;
  ssize_t got;
  while ((got = read(exec_err[0], &e, sizeof e)) < 0 && errno == EINTR) {}
  close(exec_err[0]);
  if (got == (ssize_t)sizeof e) {
    waitpid(pid, NULL, 0);
    dprintf(2, "err %s\n", errno_name(e));
    return e == ENOENT ? 127 : 126;
  }
  dprintf(2, "ok %d\n", (int)pid);
  close(2);

  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  char out[65536], in[65536], ctl[256];
  size_t in_len = 0, in_off = 0, ctl_len = 0;
  int stdin_open = 1, status = 0, exited = 0;
  for (;;) {
    struct pollfd p[4] = {
        {.fd = master, .events = POLLIN | (in_len > in_off ? POLLOUT : 0)},
        {.fd = stdin_open && in_len == in_off ? 0 : -1, .events = POLLIN},
        {.fd = control_open ? control : -1, .events = POLLIN},
        {.fd = chld_pipe[0], .events = POLLIN},
    };
    /* Once the program is gone, drain what it left in the pty, then stop. */
    int n = poll(p, 4, exited ? 100 : -1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break;
    if (p[3].revents & POLLIN) {
      char c;
      while (read(chld_pipe[0], &c, 1) > 0) {}
      if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = 1;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(master, out, sizeof out);
      if (r > 0) {
        if (write_all(1, out, (size_t)r) < 0) break;
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        /* EIO: no process has the terminal open any more. */
        if (!exited && waitpid(pid, &status, 0) == pid) exited = 1;
        break;
      }
    }
    if ((p[0].revents & POLLOUT) && in_len > in_off) {
      ssize_t w = write(master, in + in_off, in_len - in_off);
      if (w > 0) in_off += (size_t)w;
      if (in_off == in_len) in_off = in_len = 0;
    }
    if (p[1].revents & (POLLIN | POLLHUP)) {
      ssize_t r = read(0, in, sizeof in);
      if (r > 0) in_len = (size_t)r, in_off = 0;
      else if (r == 0 || errno != EINTR) stdin_open = 0;
    }
    if (p[2].revents & (POLLIN | POLLHUP)) {
      ssize_t r = read(control, ctl + ctl_len, sizeof ctl - ctl_len);
      if (r <= 0) control_open = 0;
      else {
        ctl_len += (size_t)r;
        size_t used = apply_sizes(master, ctl, ctl_len);
        memmove(ctl, ctl + used, ctl_len - used);
        ctl_len -= used;
        if (ctl_len == sizeof ctl) ctl_len = 0;
      }
    }
  }
  if (!exited) {
    /* Our reader went away (stdout closed): hang up the terminal and collect the program. */
    close(master);
    kill(-pid, SIGHUP);
    waitpid(pid, &status, 0);
  }
  die_like(status);
  return 0;
}
