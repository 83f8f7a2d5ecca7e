/*
 * The binding's answers to the kernel, as JS calls them: replies to requests (each names the
 * request's id; one whose request was already answered, its deadline first, does nothing and
 * returns false), and the write and attribute bookkeeping that lets C answer alone. The
 * invalidations and stores are notices.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "args.h"

/*
 * Claims the request `id` for a reply; NULL when already answered or the session is closed.
 * Every reply first lets go of the JS buffers of READ replies written since the last one.
 */
static fuse_req_t claim(napi_env env, struct mp_session *s, napi_value id) {
  if (s->se == NULL) return NULL;
  mp_replies_reap(env, s);
  return mp_claim(s, num(env, id));
}

/* The request named by argv[1], or return false: it was answered already (the deadline came first). */
#define CLAIM_OR_FALSE                           \
  fuse_req_t req = claim(env, s, argv[1]);       \
  if (req == NULL) return ret_bool(env, 0);

/* replyErr(session, id, errno) — errno 0 is success for ops that return nothing. */
static napi_value reply_err(napi_env env, napi_callback_info info) {
  ARGS(3)
  CLAIM_OR_FALSE
  fuse_reply_err(req, (int)num(env, argv[2]));
  return ret_bool(env, 1);
}

/* replyEntry(session, id, ino, attr, entryTimeout, attrTimeout) — ino 0: a cached negative entry. */
static napi_value reply_entry(napi_env env, napi_callback_info info) {
  ARGS(6)
  CLAIM_OR_FALSE
  struct fuse_entry_param e;
  entry_param(env, argv[2], argv[3], argv[4], argv[5], &e);
  if (e.ino != 0) mp_attr_put(s, e.ino, &e.attr, e.attr_timeout);
  fuse_reply_entry(req, &e);
  return ret_bool(env, 1);
}

/* replyCreate(session, id, ino, attr, entryTimeout, attrTimeout) */
static napi_value reply_create(napi_env env, napi_callback_info info) {
  ARGS(6)
  CLAIM_OR_FALSE
  struct fuse_entry_param e;
  entry_param(env, argv[2], argv[3], argv[4], argv[5], &e);
  struct fuse_file_info fi;
  memset(&fi, 0, sizeof(fi));
  fi.keep_cache = 1;
  mp_attr_put(s, e.ino, &e.attr, e.attr_timeout);
  fuse_reply_create(req, &e, &fi);
  return ret_bool(env, 1);
}

/* replyAttr(session, id, attr, timeout, ino) */
static napi_value reply_attr(napi_env env, napi_callback_info info) {
  ARGS(5)
  CLAIM_OR_FALSE
  struct stat st;
  read_attr(env, argv[2], &st);
  double timeout = num(env, argv[3]);
  mp_attr_put(s, (uint64_t)num(env, argv[4]), &st, timeout);
  fuse_reply_attr(req, &st, timeout);
  return ret_bool(env, 1);
}

/* Replies at least this large are written from the JS buffers themselves (no copy). */
#define BY_REFERENCE 65536
#define MAX_PIECES 256

/* The reply for pieces argv[2] (one typed array or a list of them), or NULL if one is not. */
static struct mp_reply *reply_of(napi_env env, struct mp_session *s, napi_value bytes) {
  bool is_list = false;
  napi_is_array(env, bytes, &is_list);
  uint32_t count = 1;
  if (is_list) napi_get_array_length(env, bytes, &count);
  napi_value e[MAX_PIECES];
  void *data[MAX_PIECES];
  size_t len[MAX_PIECES];
  size_t total = 0;
  bool by_ref = count <= MAX_PIECES;
  for (uint32_t i = 0; i < count; i++) {
    napi_value v = bytes;
    size_t n = 0;
    if (is_list) napi_get_element(env, bytes, i, &v);
    void *p = typed_bytes(env, v, &n);
    if (p == NULL) return NULL;
    if (i < MAX_PIECES) e[i] = v, data[i] = p, len[i] = n;
    total += n;
  }
  if (by_ref && total >= BY_REFERENCE) {
    struct mp_reply *r = mp_reply_alloc(s, 0);
    r->len = total;
    r->n = count;
    r->iov = malloc(count * sizeof(*r->iov));
    r->refs = malloc(count * sizeof(*r->refs));
    if (r->iov == NULL || r->refs == NULL) abort();
    for (uint32_t i = 0; i < count; i++) {
      napi_create_reference(env, e[i], 1, &r->refs[i]);
      r->iov[i].iov_base = data[i];
      r->iov[i].iov_len = len[i];
    }
    return r;
  }
  struct mp_reply *r = mp_reply_alloc(s, total);
  size_t at = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value v = bytes;
    size_t n = 0;
    if (is_list) napi_get_element(env, bytes, i, &v);
    void *p = typed_bytes(env, v, &n);
    memcpy(r->data + at, p, n);
    at += n;
  }
  return r;
}

/*
 * replyBuf(session, id, bytes | [bytes, ...]) — read data, whole or in the pieces it arrived in
 * (no join in JS); written to /dev/fuse by replies.c, large replies from the JS buffers held.
 */
static napi_value reply_buf(napi_env env, napi_callback_info info) {
  ARGS(3)
  CLAIM_OR_FALSE
  struct mp_reply *r = reply_of(env, s, argv[2]);
  if (r == NULL) {
    fuse_reply_err(req, EIO);
    return ret_bool(env, 1);
  }
  r->req = req;
  mp_replies_push(s, r);
  return ret_bool(env, 1);
}

/* replyReadlink(session, id, target) */
static napi_value reply_readlink(napi_env env, napi_callback_info info) {
  ARGS(3)
  CLAIM_OR_FALSE
  char *target = str(env, argv[2]);
  fuse_reply_readlink(req, target != NULL ? target : "");
  free(target);
  return ret_bool(env, 1);
}

/* replyWrite(session, id, count) */
static napi_value reply_write(napi_env env, napi_callback_info info) {
  ARGS(3)
  CLAIM_OR_FALSE
  fuse_reply_write(req, (size_t)num(env, argv[2]));
  return ret_bool(env, 1);
}

/* replyStatfs(session, id, [bsize, blocks, bfree, bavail, files, ffree, namemax]) */
static napi_value reply_statfs(napi_env env, napi_callback_info info) {
  ARGS(3)
  CLAIM_OR_FALSE
  double f[7] = {0};
  for (uint32_t i = 0; i < 7; i++) {
    napi_value e;
    if (napi_get_element(env, argv[2], i, &e) == napi_ok) f[i] = num(env, e);
  }
  struct statvfs sv;
  memset(&sv, 0, sizeof(sv));
  sv.f_bsize = sv.f_frsize = (unsigned long)f[0];
  sv.f_blocks = (fsblkcnt_t)f[1];
  sv.f_bfree = (fsblkcnt_t)f[2];
  sv.f_bavail = (fsblkcnt_t)f[3];
  sv.f_files = (fsfilcnt_t)f[4];
  sv.f_ffree = sv.f_favail = (fsfilcnt_t)f[5];
  sv.f_namemax = (unsigned long)f[6];
  fuse_reply_statfs(req, &sv);
  return ret_bool(env, 1);
}

/*
 * replyDir(session, id, size, plus, entries, entryTimeout, attrTimeout) → how many entries fit.
 * entries: [name, ino, attr, nextOffset][]; with plus, ino 0 lists a name without an inode
 * (".", ".."). The caller counts a lookup for each entry that fit with a non-zero ino.
 */
static napi_value reply_dir(napi_env env, napi_callback_info info) {
  ARGS(7)
  fuse_req_t req = claim(env, s, argv[1]);
  napi_value count;
  if (req == NULL) {
    napi_create_uint32(env, 0, &count);
    return count;
  }
  size_t size = (size_t)num(env, argv[2]);
  bool plus = false;
  napi_get_value_bool(env, argv[3], &plus);
  uint32_t n = 0;
  napi_get_array_length(env, argv[4], &n);
  char *buf = malloc(size > 0 ? size : 1);
  if (buf == NULL) abort();
  size_t used = 0;
  uint32_t fit = 0;
  for (; fit < n; fit++) {
    napi_value e, v[4];
    napi_get_element(env, argv[4], fit, &e);
    for (uint32_t k = 0; k < 4; k++) napi_get_element(env, e, k, &v[k]);
    char *name = str(env, v[0]);
    off_t next = (off_t)num(env, v[3]);
    size_t need;
    if (plus) {
      struct fuse_entry_param ep;
      entry_param(env, v[1], v[2], argv[5], argv[6], &ep);
      need = fuse_add_direntry_plus(req, buf + used, size - used, name, &ep, next);
      if (need <= size - used && ep.ino != 0) mp_attr_put(s, ep.ino, &ep.attr, ep.attr_timeout);
    } else {
      struct stat st;
      read_attr(env, v[2], &st);
      need = fuse_add_direntry(req, buf + used, size - used, name, &st, next);
    }
    free(name);
    if (need > size - used) break;
    used += need;
  }
  fuse_reply_buf(req, buf, used);
  free(buf);
  napi_create_uint32(env, fit, &count);
  return count;
}

/* dropAttr(session, ino): what JS knows of ino's attributes changed; GETATTR goes to JS. */
static napi_value drop_attr(napi_env env, napi_callback_info info) {
  ARGS(2)
  mp_attr_drop(s, (uint64_t)num(env, argv[1]));
  return NULL;
}

/* settleWrites(session, ino, n): n writes to ino are settled on the remote (or reported). */
static napi_value settle_writes(napi_env env, napi_callback_info info) {
  ARGS(3)
  mp_dirty_add(s, (uint64_t)num(env, argv[1]), -(int32_t)num(env, argv[2]));
  return NULL;
}

void mp_define_answers(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"replyErr", NULL, reply_err, NULL, NULL, NULL, napi_default, NULL},
      {"replyEntry", NULL, reply_entry, NULL, NULL, NULL, napi_default, NULL},
      {"replyCreate", NULL, reply_create, NULL, NULL, NULL, napi_default, NULL},
      {"replyAttr", NULL, reply_attr, NULL, NULL, NULL, napi_default, NULL},
      {"replyBuf", NULL, reply_buf, NULL, NULL, NULL, napi_default, NULL},
      {"replyReadlink", NULL, reply_readlink, NULL, NULL, NULL, napi_default, NULL},
      {"replyWrite", NULL, reply_write, NULL, NULL, NULL, napi_default, NULL},
      {"replyStatfs", NULL, reply_statfs, NULL, NULL, NULL, napi_default, NULL},
      {"replyDir", NULL, reply_dir, NULL, NULL, NULL, napi_default, NULL},
      {"settleWrites", NULL, settle_writes, NULL, NULL, NULL, napi_default, NULL},
      {"dropAttr", NULL, drop_attr, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
