/* A growable byte buffer: what the shim has queued for the broker, or read from it. */
#ifndef MPROXY_BUF_H
#define MPROXY_BUF_H
#include <stddef.h>

struct buf {
  char *data;
  size_t len, cap;
};

void buf_put(struct buf *b, const void *p, size_t n);
void buf_drop(struct buf *b, size_t n);

#endif
