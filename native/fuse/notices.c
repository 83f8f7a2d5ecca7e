/*
 * The notices JS gives the kernel, as JS calls them: invalidations of entries and inodes,
 * deletions, and contents stored into the page cache. Each is queued for the notifier thread
 * (notify.c) and the call returns at once: written here, on the JS thread, one could wait on a
 * request only JS can answer.
 */
#include <stdlib.h>
#include <string.h>

#include "args.h"

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
  size_t len = 0;
  void *data = typed_bytes(env, argv[3], &len);
  if (data == NULL || len == 0) return NULL;
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

/* notesCount(session, done): how many notes were queued (done false) or written (true) so far. */
static napi_value notes_count(napi_env env, napi_callback_info info) {
  ARGS(2)
  bool done = false;
  napi_get_value_bool(env, argv[1], &done);
  pthread_mutex_lock(&s->lock);
  uint64_t count = done ? s->notes_done : s->notes_queued;
  pthread_mutex_unlock(&s->lock);
  napi_value out;
  napi_create_double(env, (double)count, &out);
  return out;
}

void mp_define_notices(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"notifyInvalEntry", NULL, notify_inval_entry, NULL, NULL, NULL, napi_default, NULL},
      {"notifyInvalInode", NULL, notify_inval_inode, NULL, NULL, NULL, napi_default, NULL},
      {"notifyDelete", NULL, notify_delete, NULL, NULL, NULL, napi_default, NULL},
      {"notifyStore", NULL, notify_store, NULL, NULL, NULL, napi_default, NULL},
      {"notesCount", NULL, notes_count, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
