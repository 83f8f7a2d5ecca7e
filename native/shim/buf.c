#include "buf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_put(struct buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + n) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (grown == NULL) {
      fputs("mproxy: out of memory\n", stderr);
      exit(255);
    }
    b->data = grown, b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void buf_drop(struct buf *b, size_t n) {
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}
