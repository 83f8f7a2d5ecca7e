#define _GNU_SOURCE
/*
 * The N-API surface (src/mount/native.ts types it): start(), close(), and the reply and
 * notify functions. A session is an external value; every reply names the request's id, and
 * one that finds its request already answered (the deadline came first) does nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The signal that interrupts the loop thread's read() of /dev/fuse at close. */
#define WAKE_SIGNAL (SIGRTMIN + 5)

static double num(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

static napi_value ret_bool(napi_env env, int b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

static char *str(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *out = malloc(len + 1);
  if (out == NULL) abort();
  napi_get_value_string_utf8(env, v, out, len + 1, &len);
  return out;
}

/* [ino, mode, nlink, uid, gid, rdev, size, blocks, atimeMs, mtimeMs, ctimeMs] */
static void read_attr(napi_env env, napi_value arr, struct stat *st) {
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

static void entry_param(napi_env env, napi_value ino, napi_value attr, napi_value et, napi_value at, struct fuse_entry_param *e) {
  memset(e, 0, sizeof(*e));
  e->ino = (fuse_ino_t)num(env, ino);
  e->entry_timeout = num(env, et);
  e->attr_timeout = num(env, at);
  read_attr(env, attr, &e->attr);
  /* The kernel knows the inode by its node id; st_ino is what stat shows (the remote's). */
}

static void *loop_main(void *arg) {
  struct mp_session *s = arg;
  fuse_session_loop(s->se);
  struct mp_req *r = calloc(1, sizeof(*r));
  if (r != NULL) {
    r->op = MP_EXITED;
    mp_enqueue(s, r, NULL);
  }
  return NULL;
}

static void on_wake_signal(int sig) {
  (void)sig;
}

/* start(mountpoint, options, writeback, onRequests) → session. options: a -o list. */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "start(mountpoint, options, writeback, onRequests)");
    return NULL;
  }
  struct mp_session *s = calloc(1, sizeof(*s));
  if (s == NULL) abort();
  pthread_mutex_init(&s->lock, NULL);
  s->mountpoint = str(env, argv[0]);
  char *options = str(env, argv[1]);
  bool writeback = false;
  napi_get_value_bool(env, argv[2], &writeback);
  s->writeback = writeback;

  char *fargv[] = {"mproxy", "-o", options, NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
  s->se = fuse_session_new(&args, &mp_ops, sizeof(mp_ops), s);
  free(options);
  if (s->se == NULL) {
    napi_throw_error(env, "E_FUSE_SESSION", "libfuse refused the session options");
    return NULL;
  }
  if (fuse_session_mount(s->se, s->mountpoint) != 0) {
    fuse_session_destroy(s->se);
    napi_throw_error(env, "E_FUSE_MOUNT", "libfuse could not mount (is /dev/fuse there, and fusermount3 installed?)");
    return NULL;
  }
  napi_value name;
  napi_create_string_utf8(env, "mproxy-fuse", NAPI_AUTO_LENGTH, &name);
  napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, NULL, NULL, s, mp_call_js, &s->tsfn);
  /* The mount does not keep Node alive by itself: its owner decides when it ends. */
  napi_unref_threadsafe_function(env, s->tsfn);

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_wake_signal;
  sigaction(WAKE_SIGNAL, &sa, NULL);
  mp_notify_start(s);
  mp_replies_start(s);
  if (pthread_create(&s->loop_thread, NULL, loop_main, s) != 0) {
    fuse_session_unmount(s->se);
    fuse_session_destroy(s->se);
    napi_throw_error(env, "E_FUSE_THREAD", "could not start the FUSE thread");
    return NULL;
  }
  s->loop_started = 1;
  napi_value ext;
  napi_create_external(env, s, NULL, NULL, &ext);
  return ext;
}

/*
 * close(session): ends the loop (it is interrupted out of read()), stops the notifier, unmounts
 * if still mounted, and closes /dev/fuse — the kernel fails whatever is still pending.
 */
static napi_value close_session(napi_env env, napi_callback_info info) {
  ARGS(1)
  if (!s->loop_started) return NULL;
  s->loop_started = 0;
  fuse_session_exit(s->se);
  for (int i = 0; i < 200 && pthread_tryjoin_np(s->loop_thread, NULL) == EBUSY; i++) {
    pthread_kill(s->loop_thread, WAKE_SIGNAL);
    usleep(5000);
  }
  mp_notify_stop(s);
  mp_replies_stop(s);
  fuse_session_unmount(s->se);
  fuse_session_destroy(s->se);
  s->se = NULL;
  mp_attr_clear(s);
  napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
  return NULL;
}

/* Claims the request `id` for a reply; NULL when already answered or the session is closed. */
static fuse_req_t claim(napi_env env, struct mp_session *s, napi_value id) {
  if (s->se == NULL) return NULL;
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

/* replyBuf(session, id, bytes) — read data; copied, and written to /dev/fuse by replies.c. */
static napi_value reply_buf(napi_env env, napi_callback_info info) {
  ARGS(3)
  CLAIM_OR_FALSE
  void *data = NULL;
  size_t len = 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, argv[2], &type, &len, &data, &ab, &off) != napi_ok) {
    fuse_reply_err(req, EIO);
    return ret_bool(env, 1);
  }
  struct mp_reply *r = malloc(sizeof(*r) + len);
  if (r == NULL) abort();
  r->req = req;
  r->len = len;
  memcpy(r->data, data, len);
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

static struct mp_note *note(int kind) {
  struct mp_note *n = calloc(1, sizeof(*n));
  if (n == NULL) abort();
  n->kind = kind;
  return n;
}

/* notifyInvalEntry(session, parent, name) */
static napi_value notify_inval_entry(napi_env env, napi_callback_info info) {
  ARGS(3)
  struct mp_note *n = note(1);
  n->parent = (uint64_t)num(env, argv[1]);
  n->name = str(env, argv[2]);
  mp_notify_push(s, n);
  return NULL;
}

/* notifyInvalInode(session, ino, off, len): off -1 drops only the attributes. */
static napi_value notify_inval_inode(napi_env env, napi_callback_info info) {
  ARGS(4)
  struct mp_note *n = note(2);
  n->ino = (uint64_t)num(env, argv[1]);
  mp_attr_drop(s, n->ino);
  n->off = (int64_t)num(env, argv[2]);
  n->len = (int64_t)num(env, argv[3]);
  mp_notify_push(s, n);
  return NULL;
}

/* notifyStore(session, ino, off, bytes): contents for the kernel's page cache (copied). */
static napi_value notify_store(napi_env env, napi_callback_info info) {
  ARGS(4)
  void *data = NULL;
  size_t len = 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, argv[3], &type, &len, &data, &ab, &off) != napi_ok || len == 0) return NULL;
  struct mp_note *n = note(4);
  n->ino = (uint64_t)num(env, argv[1]);
  n->off = (int64_t)num(env, argv[2]);
  n->len = (int64_t)len;
  n->data = malloc(len);
  if (n->data == NULL) abort();
  memcpy(n->data, data, len);
  mp_notify_push(s, n);
  return NULL;
}

/* notifyDelete(session, parent, child, name) */
static napi_value notify_delete(napi_env env, napi_callback_info info) {
  ARGS(4)
  struct mp_note *n = note(3);
  n->parent = (uint64_t)num(env, argv[1]);
  n->ino = (uint64_t)num(env, argv[2]);
  n->name = str(env, argv[3]);
  mp_notify_push(s, n);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_session, NULL, NULL, NULL, napi_default, NULL},
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
      {"notifyInvalEntry", NULL, notify_inval_entry, NULL, NULL, NULL, napi_default, NULL},
      {"notifyInvalInode", NULL, notify_inval_inode, NULL, NULL, NULL, napi_default, NULL},
      {"notifyDelete", NULL, notify_delete, NULL, NULL, NULL, napi_default, NULL},
      {"notifyStore", NULL, notify_store, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
