/*
 * mproxy-shim: stands in for one command the program runs. It asks the session's broker
 * whether the command runs here or on the remote; here: it execs the command; remote: it
 * carries argv, cwd, environment, stdio, extra fds, the terminal, signals and the exit status.
 *
 * It lives in the session directory (SESSION/mproxy-shim) beside broker.sock, token and
 * pending/. The tracer leaves the path the program exec'd in pending/PID; without one the shim
 * was run as a PATH stub (a symlink named after the command) and argv[0] names the command.
 *
 * Wire format, both ways: u32 little-endian length of what follows, u8 type, payload.
 *   shim -> broker   1 REQUEST  NUL-terminated strings: token, path, cwd, shebang line, tty
 *                               ("ROWS COLS" or ""), extra fds ("3r 4w"), signals ignored
 *                               ("1 2 "), pipe ends ("0r123x 1w456-", pipes.c), files of a
 *                               mount (a line each, files.c), argc, argv..., env...
 *                    2 DATA     u8 fd, bytes (stdin or an extra input fd)
 *                    3 EOF      u8 fd
 *                    4 SIGNAL   u8 signal number
 *                    5 RESIZE   u16 rows, u16 cols
 *   broker -> shim  16 LOCAL    the path to exec here
 *                   17 DATA     u8 fd, bytes (stdout, stderr or an extra output fd)
 *                   18 EOF      u8 fd
 *                   19 EXIT     i32 code (-1: killed by a signal), u8 signal number
 *                   20 ERROR    text, printed as "mproxy: TEXT"; an EXIT follows
 *                   21 REMOTE   u8 fd... the command runs on the remote: its input may be read
 *                               now, except from the fds listed (files the remote opened
 *                               itself). Until LOCAL or REMOTE nothing is read from stdin or
 *                               extra fds (a local command must find all of its input still
 *                               there) and the terminal is not touched.
 *                   22 SEEK     u8 fd, i64 offset: where the remote left a file it opened (sent
 *                               before EXIT; an O_APPEND fd is left as it is)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "shim.h"

extern char **environ;

#define MAX_FDS 32
#define OUT_LIMIT (1 << 20)

struct extra { int fd; char dir; int open; };
static struct extra extras[MAX_FDS];
static int n_extras;
/* Fds the remote opened itself (REMOTE): nothing of them is read or carried here. */
static unsigned char taken[256 / 8];
#define TAKEN(fd) (taken[(fd) / 8] & (1u << ((fd) % 8)))

/* The same file, open the same way, as a lower fd: carrying both would split its data. */
static int duplicate_of_lower(int fd, int mode) {
  struct stat st, other;
  if (fstat(fd, &st) != 0) return 1;
  for (int lower = 0; lower < fd; lower++) {
    int fl = fcntl(lower, F_GETFL);
    if (fl >= 0 && (fl & O_ACCMODE) == mode && fstat(lower, &other) == 0 && other.st_dev == st.st_dev && other.st_ino == st.st_ino)
      return 1;
  }
  return 0;
}

/* Extra fds the command inherited: read-only ones it reads, write-only ones it writes. */
static void find_extra_fds(char *spec, size_t cap) {
  spec[0] = 0;
  for (int fd = 3; fd < 256 && n_extras < MAX_FDS; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) continue;
    int mode = fl & O_ACCMODE;
    if (mode == O_RDWR) continue; /* a terminal or socket: not a stream we can carry */
    if (duplicate_of_lower(fd, mode)) continue;
    char dir = mode == O_RDONLY ? 'r' : 'w';
    extras[n_extras++] = (struct extra){ fd, dir, 1 };
    size_t used = strlen(spec);
    snprintf(spec + used, cap - used, "%s%d%c", used ? " " : "", fd, dir);
  }
}

static size_t read_small(const char *path, char *dst, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, dst, cap - 1);
  close(fd);
  dst[n > 0 ? n : 0] = 0;
  return n > 0 ? (size_t)n : 0;
}

static void put_str(struct buf *b, const char *s) { buf_put(b, s, strlen(s) + 1); }

static void connect_broker(const char *dir) {
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if ((size_t)snprintf(addr.sun_path, sizeof addr.sun_path, "%s/broker.sock", dir) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    fail("broker socket path");
  }
  sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) fail("cannot reach the mproxy session (is it still running?)");
}

static void send_request(int argc, char **argv, const char dir[PATH_MAX - 64], const char *path, const char *fds) {
  char file[PATH_MAX], token[128], cwd[PATH_MAX], shebang[256] = "", tty[32] = "";
  snprintf(file, sizeof file, "%s/token", dir);
  if (read_small(file, token, sizeof token) == 0) fail("cannot read the session token");
  if (getcwd(cwd, sizeof cwd) == NULL) cwd[0] = 0;
  if (path[0] != 0 && read_small(path, shebang, sizeof shebang) > 2 && shebang[0] == '#' && shebang[1] == '!') {
    shebang[strcspn(shebang, "\n")] = 0;
  } else {
    shebang[0] = 0;
  }
  have_tty = isatty(0) && isatty(1) && tcgetattr(0, &saved_tty) == 0;
  struct winsize ws;
  if (have_tty && ioctl(1, TIOCGWINSZ, &ws) == 0) snprintf(tty, sizeof tty, "%u %u", ws.ws_row, ws.ws_col);
  else if (have_tty) snprintf(tty, sizeof tty, "24 80");
  struct buf req = { 0 };
  char count[16], ignore[128], pipes[160];
  static char files[16384];
  ignored_signals(ignore, sizeof ignore);
  pipe_ends(pipes, sizeof pipes);
  mount_files(files, sizeof files);
  snprintf(count, sizeof count, "%d", argc);
  put_str(&req, token), put_str(&req, path), put_str(&req, cwd), put_str(&req, shebang);
  put_str(&req, tty), put_str(&req, fds), put_str(&req, ignore), put_str(&req, pipes), put_str(&req, files);
  put_str(&req, count);
  for (int i = 0; i < argc; i++) put_str(&req, argv[i]);
  for (char **e = environ; *e != NULL; e++) put_str(&req, *e);
  send_frame(F_REQUEST, req.data, req.len, NULL, 0);
  free(req.data);
}

static void on_frame(uint8_t type, const char *p, size_t n, char **argv) {
  if (type == F_LOCAL) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.*s", (int)n, p);
    close(sock);
    go_local();
    execv(path, argv);
    fprintf(stderr, "mproxy: cannot run %s: %s\n", path, strerror(errno));
    exit(errno == ENOENT ? 127 : 126);
  } else if (type == F_REMOTE) {
    for (size_t i = 0; i < n; i++) {
      int fd = (unsigned char)p[i];
      taken[fd / 8] |= (unsigned char)(1u << (fd % 8));
      for (int e = 0; e < n_extras; e++) if (extras[e].fd == fd) extras[e].open = 0;
    }
    go_remote();
  } else if (type == F_SEEK && n >= 9) {
    int fd = (unsigned char)p[0];
    int64_t off;
    memcpy(&off, p + 1, 8);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_APPEND)) (void)lseek(fd, (off_t)off, SEEK_SET);
  } else if (type == F_OUT && n >= 1) {
    write_all((unsigned char)p[0], p + 1, n - 1);
  } else if (type == F_OUT_EOF && n >= 1) {
    int fd = (unsigned char)p[0];
    if (fd > 2) close(fd);
    for (int i = 0; i < n_extras; i++) if (extras[i].fd == fd) extras[i].open = 0;
  } else if (type == F_ERROR) {
    leave_raw();
    fprintf(stderr, "mproxy: %.*s\n", (int)n, p);
  } else if (type == F_EXIT && n >= 5) {
    int32_t code;
    memcpy(&code, p, 4);
    finish(code, (unsigned char)p[4]);
  }
}

/* One read of an input fd forwarded; 0 once it is at its end. */
static int pump_input(int fd) {
  char chunk[65536];
  ssize_t r = read(fd, chunk, sizeof chunk);
  uint8_t f = (uint8_t)fd;
  if (r > 0) {
    send_frame(F_DATA, &f, 1, chunk, (size_t)r);
    return 1;
  }
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  send_frame(F_EOF, &f, 1, NULL, 0);
  for (int i = 0; i < n_extras; i++) if (extras[i].fd == fd) extras[i].open = 0;
  return 0;
}

int main(int argc, char **argv) {
  char fds[512];
  find_extra_fds(fds, sizeof fds);
  char dir[PATH_MAX - 64], pending[PATH_MAX], path[PATH_MAX] = "";
  ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
  if (n <= 0) fail("cannot find the session directory");
  dir[n] = 0;
  *strrchr(dir, '/') = 0;
  snprintf(pending, sizeof pending, "%s/pending/%d", dir, getpid());
  if (read_small(pending, path, sizeof path) > 0) unlink(pending);
  connect_broker(dir);
  send_request(argc, argv, dir, path, fds);
  flush_out(1);
  catch_signals();
  int stdin_open = 1;
  struct buf in = { 0 };
  for (;;) {
    struct pollfd pfd[3 + MAX_FDS];
    int nfd = 0, room = remote && out.len < OUT_LIMIT;
    pfd[nfd++] = (struct pollfd){ sock, (short)(POLLIN | (out.len ? POLLOUT : 0)), 0 };
    pfd[nfd++] = (struct pollfd){ sig_read_fd, POLLIN, 0 };
    /* A background job must not read the terminal (it would be stopped by SIGTTIN). */
    int read_stdin = stdin_open && !TAKEN(0) && room && (!isatty(0) || tcgetpgrp(0) == getpgrp());
    int stdin_slot = read_stdin ? nfd : -1;
    if (read_stdin) pfd[nfd++] = (struct pollfd){ 0, POLLIN, 0 };
    int first_extra = nfd;
    for (int i = 0; i < n_extras; i++)
      if (room && extras[i].open && extras[i].dir == 'r') pfd[nfd++] = (struct pollfd){ extras[i].fd, POLLIN, 0 };
    if (poll(pfd, (nfds_t)nfd, remote && stdin_open && !TAKEN(0) && !read_stdin ? 200 : -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    if (pfd[1].revents) drain_signals();
    if (stdin_slot >= 0 && pfd[stdin_slot].revents) {
      if (!pump_input(0)) stdin_open = 0;
    }
    for (int i = first_extra; i < nfd; i++) if (pfd[i].revents) pump_input(pfd[i].fd);
    if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      static char chunk[1 << 18];
      ssize_t r = recv(sock, chunk, sizeof chunk, 0);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
        leave_raw();
        fputs("mproxy: the session ended before the command did\n", stderr);
        exit(255);
      }
      if (r > 0) buf_put(&in, chunk, (size_t)r);
      size_t used = 0;
      while (in.len - used >= 5) {
        uint32_t len;
        memcpy(&len, in.data + used, 4);
        if (in.len - used - 4 < len) break;
        on_frame((uint8_t)in.data[used + 4], in.data + used + 5, len - 1, argv);
        used += 4 + len;
      }
      if (used) buf_drop(&in, used);
    }
    flush_out(0);
  }
}
