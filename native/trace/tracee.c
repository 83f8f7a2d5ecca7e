/*
 * What the tracer reads of a tracee: strings from its memory (page by page: the next page may
 * be unmapped), the absolute path an exec names as the tracee sees it (its cwd or a dirfd), and
 * the process a thread belongs to.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tracee.h"

/* A NUL-terminated string from the tracee, at most cap-1 bytes; -1 if unreadable. */
int mp_read_string(pid_t pid, unsigned long addr, char *out, size_t cap) {
  size_t got = 0;
  while (got < cap - 1) {
    /* Never cross a page boundary in one read: the next page may be unmapped. */
    size_t page_left = 4096 - ((addr + got) & 4095);
    size_t want = cap - 1 - got < page_left ? cap - 1 - got : page_left;
    struct iovec local = { out + got, want };
    struct iovec remote = { (void *)(addr + got), want };
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) return -1;
    void *nul = memchr(out + got, 0, (size_t)n);
    if (nul != NULL) return 0;
    got += (size_t)n;
  }
  out[cap - 1] = 0;
  return -1;
}

int mp_proc_link(pid_t pid, const char *what, char *out, size_t cap) {
  char link[64];
  snprintf(link, sizeof link, "/proc/%d/%s", pid, what);
  ssize_t n = readlink(link, out, cap - 1);
  if (n < 0) return -1;
  out[n] = 0;
  return 0;
}

const char *mp_base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash == NULL ? path : slash + 1;
}

/* The absolute path an exec of (dirfd, path, flags) names, seen from the tracee. */
int mp_resolve(pid_t pid, long dirfd, const char *path, long flags, char *out, size_t cap) {
  char base[PATH_MAX];
  if (path[0] == '/') {
    snprintf(out, cap, "%s", path);
    return 0;
  }
  if (dirfd == AT_FDCWD) {
    if (mp_proc_link(pid, "cwd", base, sizeof base) != 0) return -1;
  } else {
    char what[32];
    snprintf(what, sizeof what, "fd/%ld", dirfd);
    if (mp_proc_link(pid, what, base, sizeof base) != 0) return -1;
    if (path[0] == 0 && (flags & AT_EMPTY_PATH)) {
      snprintf(out, cap, "%s", base);
      return 0;
    }
  }
  if ((size_t)snprintf(out, cap, "%s/%s", strcmp(base, "/") == 0 ? "" : base, path) >= cap) return -1;
  return 0;
}

/* The process (thread group) of thread `tid`: an exec from any thread leaves the process with
 * the group's pid, which is what the shim reads its hand-off under. */
pid_t mp_thread_group(pid_t tid) {
  char file[64], buf[1024];
  snprintf(file, sizeof file, "/proc/%d/status", tid);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tid;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return tid;
  buf[n] = 0;
  const char *line = strstr(buf, "\nTgid:");
  return line == NULL ? tid : (pid_t)strtol(line + 6, NULL, 10);
}
