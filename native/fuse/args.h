/*
 * Reading N-API arguments for the binding's entry points (binding.c, answers.c, notices.c): the
 * session every call names first, numbers, strings, typed arrays, and attributes as JS sends them.
 */
#ifndef MPROXY_FUSE_ARGS_H
#define MPROXY_FUSE_ARGS_H

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "session.h"

#define ARGS(n)                                                            \
  size_t argc = n;                                                         \
  napi_value argv[n];                                                      \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);                    \
  struct mp_session *s = NULL;                                             \
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || s == NULL) { \
    napi_throw_type_error(env, NULL, "not an mproxy FUSE session");         \
    return NULL;                                                           \
  }

static inline double num(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

static inline napi_value ret_bool(napi_env env, int b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

static inline char *str(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *out = malloc(len + 1);
  if (out == NULL) abort();
  napi_get_value_string_utf8(env, v, out, len + 1, &len);
  return out;
}

/* [ino, mode, nlink, uid, gid, rdev, size, blocks, atimeMs, mtimeMs, ctimeMs] */
static inline void read_attr(napi_env env, napi_value arr, struct stat *st) {
  double f[11] = {0};
  for (uint32_t i = 0; i < 11; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) == napi_ok) f[i] = num(env, e);
  }
  memset(st, 0, sizeof(*st));
  st->st_ino = (ino_t)f[0];
  st->st_mode = (mode_t)f[1];
  st->st_nlink = (nlink_t)f[2];
  st->st_uid = (uid_t)f[3];
  st->st_gid = (gid_t)f[4];
  st->st_rdev = (dev_t)f[5];
  st->st_size = (off_t)f[6];
  st->st_blocks = (blkcnt_t)f[7];
  st->st_blksize = 4096;
  double *t[3] = {&f[8], &f[9], &f[10]};
  struct timespec *ts[3] = {&st->st_atim, &st->st_mtim, &st->st_ctim};
  for (int i = 0; i < 3; i++) {
    double ms = *t[i];
    ts[i]->tv_sec = (time_t)(ms / 1000.0);
    ts[i]->tv_nsec = (long)((ms - (double)ts[i]->tv_sec * 1000.0) * 1e6);
    if (ts[i]->tv_nsec < 0) ts[i]->tv_nsec = 0;
    if (ts[i]->tv_nsec > 999999999) ts[i]->tv_nsec = 999999999;
  }
}

static inline void entry_param(napi_env env, napi_value ino, napi_value attr, napi_value et, napi_value at, struct fuse_entry_param *e) {
  memset(e, 0, sizeof(*e));
  e->ino = (fuse_ino_t)num(env, ino);
  e->entry_timeout = num(env, et);
  e->attr_timeout = num(env, at);
  read_attr(env, attr, &e->attr);
  /* The kernel knows the inode by its node id; st_ino is what stat shows (the remote's). */
}

/* One typed array's bytes, or NULL when `v` is not one. */
static inline void *typed_bytes(napi_env env, napi_value v, size_t *len) {
  void *data = NULL;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &data, &ab, &off) != napi_ok) return NULL;
  return data != NULL ? data : (void *)"";
}

#endif
