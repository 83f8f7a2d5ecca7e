/*
 * `mproxy-pty --watcher`: directory watches for the agent (agent/src/watch.ts is the other end).
 * Node's fs.watch reads inotify the moment an event is queued, so a file being written wakes it
 * once per write(2): `head -c 1G > f` in a watched directory made 170,000 events and took 3.4x
 * as long. This reader takes what is queued, then waits QUIET_MS before reading again: meanwhile
 * the kernel folds repeated events of one file into one, and the writer runs undisturbed.
 *
 * Requests on stdin, each a u32 little-endian length and that many bytes:
 *   'A' u32 id, path bytes   watch directory `path` as watch `id`
 *   'D' u32 id               stop watch `id`
 *   'S' u32 id               read what is queued now, then reply 's' id: every event queued
 *                            before the request (a process that has exited) is told before it
 * Replies on stdout, each a u32 little-endian length and that many bytes, u8 kind, u32 id:
 *   'k'             the watch is up
 *   'e' ERRNO-NAME  it could not be made (ENOENT, ENOTDIR, ENOSPC: the inotify limit)
 *   'c' name        an entry's contents or attributes changed
 *   'r' name        an entry appeared, vanished or moved
 *   'n'             anything may have changed, and the watch has ended (the directory went
 *                   away, or events were lost): the agent says so to the client
 *   's'             the answer to 'S'
 * End of stdin: exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#define QUIET_MS 10
#define MASK (IN_ATTRIB | IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_MOVED_FROM | IN_MOVED_TO)
/* Replies of one batch remembered to drop repeats (an event's name and kind). */
#define SEEN_MAX 512

struct watch { uint32_t id; int wd; };
static struct watch *watches;
static size_t n_watches, cap_watches;
static int in_fd;
static char out[1 << 16];
static size_t out_len;

static void flush_out(void) {
  if (out_len > 0 && write_all(1, out, out_len) < 0) exit(0); /* the agent is gone */
  out_len = 0;
}

static void reply(char kind, uint32_t id, const char *tail, size_t tail_len) {
  if (tail_len > sizeof out - 16) tail_len = sizeof out - 16;
  if (out_len + 9 + tail_len > sizeof out) flush_out();
  uint32_t len = (uint32_t)(5 + tail_len);
  memcpy(out + out_len, &len, 4);
  out[out_len + 4] = kind;
  memcpy(out + out_len + 5, &id, 4);
  memcpy(out + out_len + 9, tail, tail_len);
  out_len += 9 + tail_len;
}

static void forget(size_t i) {
  int wd = watches[i].wd;
  watches[i] = watches[--n_watches];
  for (size_t j = 0; j < n_watches; j++) if (watches[j].wd == wd) return;
  inotify_rm_watch(in_fd, wd); /* no one else watches that directory */
}

static void add(uint32_t id, const char *path) {
  int wd = inotify_add_watch(in_fd, path, MASK | IN_ONLYDIR);
  if (wd < 0) {
    const char *e = errno == ENOSPC ? "ENOSPC" : errno_name(errno);
    reply('e', id, e, strlen(e));
    return;
  }
  if (n_watches == cap_watches) {
    cap_watches = cap_watches ? cap_watches * 2 : 256;
    watches = realloc(watches, cap_watches * sizeof *watches);
    if (watches == NULL) abort();
  }
  watches[n_watches++] = (struct watch){ id, wd };
  reply('k', id, "", 0);
}

static void events(void);

/* Takes the whole requests at the start of buf; how many bytes they were. */
static size_t requests(const char *buf, size_t len) {
  size_t at = 0;
  while (len - at >= 4) {
    uint32_t n;
    memcpy(&n, buf + at, 4);
    if (len - at - 4 < n) break;
    const char *r = buf + at + 4;
    uint32_t id = 0;
    if (n >= 5) memcpy(&id, r + 1, 4);
    if (n >= 5 && r[0] == 'A') {
      char path[4097];
      size_t plen = n - 5 < sizeof path - 1 ? n - 5 : sizeof path - 1;
      memcpy(path, r + 5, plen);
      path[plen] = 0;
      add(id, path);
    } else if (n >= 5 && r[0] == 'D') {
      for (size_t i = 0; i < n_watches; i++) if (watches[i].id == id) { forget(i); break; }
    } else if (n >= 5 && r[0] == 'S') {
      events();
      reply('s', id, "", 0);
    }
    at += 4 + n;
  }
  return at;
}

/* Everything queued: each event told once per batch, to every watch of its directory. */
static void events(void) {
  static char buf[1 << 16] __attribute__((aligned(__alignof__(struct inotify_event))));
  static struct { int wd; char kind; char name[256]; } seen[SEEN_MAX];
  size_t n_seen = 0;
  for (;;) {
    ssize_t r = read(in_fd, buf, sizeof buf);
    if (r <= 0) break;
    for (char *p = buf; p < buf + r;) {
      struct inotify_event *e = (struct inotify_event *)p;
      p += sizeof *e + e->len;
      if (e->mask & IN_Q_OVERFLOW) {
        /* Lost events: every watch says so and ends. */
        while (n_watches > 0) reply('n', watches[0].id, "", 0), forget(0);
        continue;
      }
      int gone = (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0;
      char kind = gone ? 'n' : (e->mask & (IN_MODIFY | IN_ATTRIB)) ? 'c' : 'r';
      size_t nlen = gone ? 0 : strnlen(e->name, e->len);
      if (!gone && nlen < 256) {
        size_t i = 0;
        while (i < n_seen && !(seen[i].wd == e->wd && seen[i].kind == kind && strcmp(seen[i].name, e->name) == 0)) i++;
        if (i < n_seen) continue;
        if (n_seen < SEEN_MAX) {
          seen[n_seen].wd = e->wd, seen[n_seen].kind = kind;
          memcpy(seen[n_seen].name, e->name, nlen + 1);
          n_seen++;
        }
      }
      for (size_t i = 0; i < n_watches; i++) {
        if (watches[i].wd != e->wd) continue;
        reply(kind, watches[i].id, e->name, nlen);
        if (gone) forget(i--);
      }
    }
  }
  flush_out();
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int watcher_main(void) {
  signal(SIGPIPE, SIG_IGN);
  in_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (in_fd < 0) return 1;
  struct inbox in = { 0 };
  long long quiet_until = 0; /* after a batch: only requests are taken, while the kernel folds repeats */
  for (;;) {
    struct pollfd fds[2] = { { .fd = 0, .events = POLLIN }, { .fd = in_fd, .events = POLLIN } };
    long long left = quiet_until - now_ms();
    int ready = poll(fds, left > 0 ? 1 : 2, left > 0 ? (int)left : -1);
    if (ready < 0 && errno != EINTR) return 1;
    if (ready > 0 && left <= 0 && (fds[1].revents & POLLIN)) {
      events();
      quiet_until = now_ms() + QUIET_MS;
    }
    if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP))) {
      int r = inbox_read(&in);
      if (r < 0) continue;
      if (r == 0) return 0;
      inbox_drop(&in, requests(in.data, in.len));
      flush_out();
    }
  }
}
