/*
 * The shim's side of a remote command: frames to the broker, the local terminal (raw input,
 * but Ctrl-C / Ctrl-Z / Ctrl-\ stay signals), and every catchable signal carried across.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "shim.h"

int sock = -1, sig_read_fd = -1, sig_write_fd = -1;
struct buf out;
int have_tty;
int remote;
/* Signals that came before the decision: forwarded once remote, acted on here once local. */
static unsigned char early_sigs[32];
static int n_early;
struct termios saved_tty;
static int tty_raw;

void fail(const char *what) {
  leave_raw();
  fprintf(stderr, "mproxy: %s: %s\n", what, strerror(errno));
  exit(255);
}

static void on_signal(int sig) {
  int saved = errno;
  unsigned char b = (unsigned char)sig;
  (void)!write(sig_write_fd, &b, 1);
  errno = saved;
}

static int catchable(int s) {
  return !(s == SIGKILL || s == SIGSTOP || s == SIGCHLD || s == SIGTTIN || s == SIGTTOU || s == SIGSEGV || s == SIGBUS ||
           s == SIGFPE || s == SIGILL || s == SIGTRAP);
}

static int ignored(int s) {
  struct sigaction old;
  return sigaction(s, NULL, &old) == 0 && old.sa_handler == SIG_IGN;
}

/* The signals this process was started with ignored ("1 2 "): `nohup`, `trap '' INT`, the
 * background jobs of a non-interactive shell. They stay ignored here and on the remote. */
void ignored_signals(char *list, size_t size) {
  size_t at = 0;
  list[0] = 0;
  for (int s = 1; s < 32 && at + 4 < size; s++) {
    if (catchable(s) && ignored(s)) at += (size_t)snprintf(list + at, size - at, "%d ", s);
  }
}

void catch_signals(void) {
  if (sig_read_fd < 0) {
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) fail("pipe");
    sig_read_fd = p[0], sig_write_fd = p[1];
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: a blocked write returns to the loop */
  for (int s = 1; s < 32; s++) {
    if (catchable(s) && !ignored(s)) sigaction(s, &sa, NULL);
  }
}

static int foreground(void) { return tcgetpgrp(0) == getpgrp(); }

void enter_raw(void) {
  if (!have_tty || tty_raw || !foreground()) return;
  struct termios t = saved_tty;
  t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  t.c_oflag &= ~OPOST;
  t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
  t.c_cflag |= CS8;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (tcsetattr(0, TCSADRAIN, &t) == 0) tty_raw = 1;
}

/* Restores the terminal even when the shell has already taken it back (Ctrl-Z: the job is
 * stopping around us): SIGTTOU held off, as shells do, so this never stops us halfway. */
void leave_raw(void) {
  if (tty_raw) {
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGTTOU, &ign, &old);
    tcsetattr(0, TCSADRAIN, &saved_tty);
    sigaction(SIGTTOU, &old, NULL);
  }
  tty_raw = 0;
}

void send_frame(uint8_t type, const void *a, size_t alen, const void *b, size_t blen) {
  uint32_t len = (uint32_t)(1 + alen + blen);
  buf_put(&out, &len, 4);
  buf_put(&out, &type, 1);
  if (alen) buf_put(&out, a, alen);
  if (blen) buf_put(&out, b, blen);
}

void flush_out(int all) {
  while (out.len > 0) {
    ssize_t n = send(sock, out.data, out.len, MSG_NOSIGNAL | (all ? 0 : MSG_DONTWAIT));
    if (n > 0) buf_drop(&out, (size_t)n);
    else if (n < 0 && errno == EINTR) continue;
    else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    else fail("lost the session");
  }
}

static void send_signal(int sig) {
  uint8_t s = (uint8_t)sig;
  send_frame(F_SIGNAL, &s, 1, NULL, 0);
}

void send_size(void) {
  struct winsize ws;
  if (ioctl(1, TIOCGWINSZ, &ws) != 0 && ioctl(0, TIOCGWINSZ, &ws) != 0) return;
  uint16_t rc[2] = { ws.ws_row, ws.ws_col };
  send_frame(F_RESIZE, rc, sizeof rc, NULL, 0);
}

/* Ctrl-Z: the remote command stops, then the shim does, so the local shell sees a stopped job. */
static void suspend(void) {
  send_signal(SIGTSTP);
  flush_out(1);
  leave_raw();
  signal(SIGTSTP, SIG_DFL);
  raise(SIGTSTP);
  /* Continued (fg or bg): SIGCONT is queued on the pipe and forwarded from there. */
  catch_signals();
}

static void handle_signal(int sig) {
  if (!remote && sig != SIGTSTP) {
    if (n_early < (int)sizeof early_sigs) early_sigs[n_early++] = (unsigned char)sig;
    return;
  }
  if (sig == SIGWINCH) {
    send_size();
  } else if (sig == SIGTSTP) {
    suspend();
  } else {
    if (sig == SIGCONT) enter_raw();
    send_signal(sig);
  }
}

void drain_signals(void) {
  unsigned char s;
  while (read(sig_read_fd, &s, 1) == 1) handle_signal(s);
}

/* REMOTE: the terminal goes raw, the size is sent again (it may have changed since the
 * request), and signals that came meanwhile are forwarded. */
void go_remote(void) {
  remote = 1;
  enter_raw();
  if (have_tty) send_size();
  for (int i = 0; i < n_early; i++) handle_signal(early_sigs[i]);
  n_early = 0;
}

/* Dies of `sig` if its default action is to end the process (returns for the others). */
static void die_of(int sig) {
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
}

/* LOCAL: a signal that came meanwhile does to us what it would have done to the command
 * (Ctrl-C before it started ends it); the rest are dropped, as for a program not yet running. */
void go_local(void) {
  drain_signals();
  for (int i = 0; i < n_early; i++) {
    int sig = early_sigs[i];
    if (sig != SIGWINCH && sig != SIGCONT && sig != SIGURG) die_of(sig);
  }
}

/* Outputs whose reader went away (fds 0-255): their later data is dropped, unsaid. */
static unsigned char reader_gone[256 / 8];

void write_all(int fd, const char *p, size_t n) {
  if (fd >= 0 && fd < 256 && (reader_gone[fd / 8] & (1u << (fd % 8)))) return;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w > 0) {
      p += w, n -= (size_t)w;
    } else if (w < 0 && errno == EINTR) {
      /* Handle the signal now: Ctrl-C must reach a command whose output is being written. */
      drain_signals();
      flush_out(0);
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      /* A non-blocking output (a Node parent's pipe) that is full: wait until it takes more,
       * handling signals meanwhile. POLLERR/POLLHUP end the wait; the next write says why. */
      struct pollfd p[2] = { { fd, POLLOUT, 0 }, { sig_read_fd, POLLIN, 0 } };
      if (poll(p, 2, -1) > 0 && p[1].revents) {
        drain_signals();
        flush_out(0);
      }
    } else {
      /* The reader went away: the remote writer learns it as it would here, once (what it sent
       * meanwhile is still arriving, and each piece would say it again). */
      if (fd >= 0 && fd < 256) reader_gone[fd / 8] |= (unsigned char)(1u << (fd % 8));
      send_signal(SIGPIPE);
      return;
    }
  }
}

void finish(int32_t code, int sig) {
  leave_raw();
  if (code < 0 && sig > 0) {
    /* Die of the same signal: a shell waiting for us reacts as to a local command (Ctrl-C). */
    die_of(sig);
    exit(128 + sig);
  }
  exit(code & 255);
}
