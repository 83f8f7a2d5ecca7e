/* Small pieces both modes of the agent's helper use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

const char *errno_name(int e) {
  switch (e) {
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case ENOEXEC: return "ENOEXEC";
  case ENOTDIR: return "ENOTDIR";
  case ELOOP: return "ELOOP";
  case E2BIG: return "E2BIG";
  case ENOMEM: return "ENOMEM";
  case ETXTBSY: return "ETXTBSY";
  case EISDIR: return "EISDIR";
  case EPERM: return "EPERM";
  default: return "EIO";
  }
}

int chld_pipe[2];

void on_chld(int sig) {
  (void)sig;
  int saved = errno;
  ssize_t ignored = write(chld_pipe[1], "c", 1);
  (void)ignored;
  errno = saved;
}

int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int inbox_read(struct inbox *in) {
  if (in->cap - in->len < 8192) {
    size_t cap = in->cap ? in->cap * 2 : 1 << 16;
    char *bigger = realloc(in->data, cap);
    if (bigger == NULL) return 0;
    in->data = bigger, in->cap = cap;
  }
  ssize_t r = read(0, in->data + in->len, in->cap - in->len);
  if (r < 0 && errno == EINTR) return -1;
  if (r <= 0) return 0;
  in->len += (size_t)r;
  return 1;
}

void inbox_drop(struct inbox *in, size_t used) {
  memmove(in->data, in->data + used, in->len - used);
  in->len -= used;
}
