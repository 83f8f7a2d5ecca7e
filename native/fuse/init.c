/*
 * INIT: what mproxy asks of the kernel for the whole mount. READDIRPLUS always (a walk is one
 * request per directory batch, attributes included), parallel directory operations, asynchronous
 * reads, cached symlinks, the writeback cache where JS asked for it, and 1 MiB requests.
 */
#include "session.h"

void mp_op_init(void *userdata, struct fuse_conn_info *conn) {
  struct mp_session *s = userdata;
  /* Always READDIRPLUS (a walk is one request per directory batch, attributes included). */
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  /* O_TRUNC must reach us as a SETATTR: with no OPEN sent, an atomic one would be lost. */
  conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
  conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
  conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  if (conn->capable & FUSE_CAP_ASYNC_READ) conn->want |= FUSE_CAP_ASYNC_READ;
  if (conn->capable & FUSE_CAP_CACHE_SYMLINKS) conn->want |= FUSE_CAP_CACHE_SYMLINKS;
  if (s->writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE)) conn->want |= FUSE_CAP_WRITEBACK_CACHE;
  else s->writeback = 0;
  conn->max_write = 1u << 20;
  conn->max_readahead = 1u << 20;
  conn->max_background = 64;
  conn->congestion_threshold = 48;
}
