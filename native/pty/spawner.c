/*
 * `mproxy-pty --spawner`: starts programs for the agent. Node's spawn forks the whole agent
 * (tens of MB of page tables) and waits for the exec; this small process uses posix_spawn
 * (glibc: clone with CLONE_VFORK), so a remote command starts in a fraction of the time.
 * agent/src/spawner.ts is the other end.
 *
 * Requests on stdin, each a u32 little-endian length and that many bytes:
 *   'R' u32 id, u32 argc, u32 envc, then NUL-terminated: cwd, argv[argc], env[envc]
 *        start argv in cwd with exactly env, in a new session (its own process group), signals
 *        at their defaults, stdin/stdout/stderr new pipes
 *   'C' u32 id      the agent has opened the pipes: close this process's ends of them
 * Replies on stdout, one ASCII line each:
 *   "S id pid IN OUT ERR\n"  started; IN OUT ERR are this process's fds of the pipes' other
 *                            ends, for the agent to open as /proc/SPAWNER/fd/N
 *   "E id ERRNO\n"           could not start (ENOENT: no such program, or no such cwd)
 *   "X id STATUS\n"          exited; STATUS as waitpid gives it
 * PATH is looked up in the request's env, as execvp in the child would; a file without a #!
 * line runs with /bin/sh, as execvp does. End of stdin: exit (children keep running).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

#define MAX_CHILDREN 4096

struct child {
  uint32_t id;
  pid_t pid;
  int ends[3]; /* this process's ends: stdin's write end, stdout's and stderr's read ends */
  int exited;  /* reaped; the slot is free once the agent has its ends ('C') too */
};

static struct child children[MAX_CHILDREN];

static void reply(const char *fmt, uint32_t id, long a, int b, int c, int d) {
  char line[96];
  int n = snprintf(line, sizeof line, fmt, (unsigned)id, a, b, c, d);
  if (write_all(1, line, (size_t)n) < 0) exit(0); /* the agent is gone */
}

static struct child *slot_of(uint32_t id) {
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i].pid != 0 && children[i].id == id) return &children[i];
  return NULL;
}

/* 'C': the agent has opened its ends. Output a quick program left in the pipes stays there. */
static void close_ends(struct child *c) {
  for (int i = 0; i < 3; i++)
    if (c->ends[i] >= 0) close(c->ends[i]), c->ends[i] = -1;
  if (c->exited) c->pid = 0;
}

static const char *env_path(char **env) {
  for (; *env != NULL; env++)
    if (strncmp(*env, "PATH=", 5) == 0) return *env + 5;
  return "/usr/local/bin:/usr/bin:/bin";
}

/* Where execvp would find `file`: into buf; 0, or the errno execvp would end with. */
static int lookup(const char *file, const char *cwd, char **env, char *buf, size_t size) {
  if (strchr(file, '/') != NULL) {
    snprintf(buf, size, "%s%s%s", file[0] == '/' ? "" : cwd, file[0] == '/' ? "" : "/", file);
    return 0;
  }
  int err = ENOENT;
  for (const char *dir = env_path(env); dir != NULL;) {
    const char *colon = strchr(dir, ':');
    int len = colon == NULL ? (int)strlen(dir) : (int)(colon - dir);
    if (len == 0) snprintf(buf, size, "%s/%s", cwd, file);
    else if (dir[0] == '/') snprintf(buf, size, "%.*s/%s", len, dir, file);
    else snprintf(buf, size, "%s/%.*s/%s", cwd, len, dir, file);
    struct stat st;
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(buf, X_OK) == 0) return 0;
      err = EACCES;
    }
    dir = colon == NULL ? NULL : colon + 1;
  }
  return err;
}

static void refuse(uint32_t id, int err) {
  char line[64];
  int n = snprintf(line, sizeof line, "E %u %s\n", (unsigned)id, errno_name(err));
  if (write_all(1, line, (size_t)n) < 0) exit(0);
}

static void start(uint32_t id, uint32_t argc, uint32_t envc, char *strings, char *end) {
  char **words = argc == 0 || argc + envc > (1u << 20) ? NULL : calloc((size_t)argc + envc + 3, sizeof *words);
  if (words == NULL) return refuse(id, E2BIG);
  char *cwd = strings, *p = strings + strlen(strings) + 1;
  for (uint32_t i = 0; i < argc + envc; i++) {
    if (p >= end) return free(words), refuse(id, E2BIG);
    words[i + 1] = p; /* words[0] is left for /bin/sh */
    p += strlen(p) + 1;
  }
  char **argv = words + 1, **env = words + argc + 2;
  memmove(env, words + argc + 1, envc * sizeof *env);
  env[envc] = NULL;
  argv[argc] = NULL;

  struct child *slot = NULL;
  for (int i = 0; i < MAX_CHILDREN && slot == NULL; i++)
    if (children[i].pid == 0) slot = &children[i];
  char path[4096];
  int err = slot == NULL ? EAGAIN : lookup(argv[0], cwd, env, path, sizeof path);
  int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
  pid_t pid = 0;
  if (err == 0 && (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)) err = errno;
  if (err == 0) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setsigmask(&at, &none);
    err = posix_spawn(&pid, path, &fa, &at, argv, env);
    if (err == ENOEXEC) { /* no #! line: execvp hands it to the shell */
      words[0] = "/bin/sh";
      argv[0] = path;
      err = posix_spawn(&pid, "/bin/sh", &fa, &at, words, env);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
  }
  int theirs[] = {in[0], out[1], errp[1]}, ours[] = {in[1], out[0], errp[0]};
  for (int i = 0; i < 3; i++) if (theirs[i] >= 0) close(theirs[i]);
  free(words);
  if (err != 0) {
    for (int i = 0; i < 3; i++) if (ours[i] >= 0) close(ours[i]);
    return refuse(id, err);
  }
  *slot = (struct child){.id = id, .pid = pid, .ends = {ours[0], ours[1], ours[2]}, .exited = 0};
  reply("S %u %ld %d %d %d\n", id, (long)pid, ours[0], ours[1], ours[2]);
}

static void reap(void) {
  char drain[64];
  while (read(chld_pipe[0], drain, sizeof drain) > 0) {}
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_CHILDREN; i++) {
      if (children[i].pid != pid || children[i].exited) continue; /* an exited one's pid may be reused */
      reply("X %u %ld\n", children[i].id, (long)status, 0, 0, 0);
      children[i].exited = 1;
      if (children[i].ends[0] < 0 && children[i].ends[1] < 0 && children[i].ends[2] < 0) children[i].pid = 0;
      break;
    }
  }
}

/* Handles every whole request in buf; returns the bytes used. */
static size_t requests(char *buf, size_t len) {
  size_t used = 0;
  while (len - used >= 4) {
    uint32_t n;
    memcpy(&n, buf + used, 4);
    if (n < 5 || n > (1u << 26)) exit(2); /* not our agent */
    if (len - used - 4 < n) break;
    char *req = buf + used + 4, *end = req + n;
    uint32_t id;
    memcpy(&id, req + 1, 4);
    if (req[0] == 'C') {
      struct child *c = slot_of(id);
      if (c != NULL) close_ends(c);
    } else if (req[0] == 'R' && n >= 13 && end[-1] == '\0') {
      uint32_t argc, envc;
      memcpy(&argc, req + 5, 4);
      memcpy(&envc, req + 9, 4);
      start(id, argc, envc, req + 13, end);
    } else {
      exit(2);
    }
    used += 4 + n;
  }
  return used;
}

int spawner_main(void) {
  for (int i = 0; i < MAX_CHILDREN; i++) children[i].ends[0] = children[i].ends[1] = children[i].ends[2] = -1;
  if (pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) return 1;
  struct sigaction sa = {.sa_handler = on_chld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct inbox in = { 0 };
  for (;;) {
    struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = chld_pipe[0], .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[1].revents & POLLIN) reap();
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      int r = inbox_read(&in);
      if (r < 0) continue;
      if (r == 0) return 0;
      inbox_drop(&in, requests(in.data, in.len));
    }
  }
}
