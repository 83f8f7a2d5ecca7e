/*
 * One wake-up of JS: every request queued since the last one, as an array of plain objects
 * {op, id, ino, …} handed to the filesystem's dispatcher in one call. Only the fields an
 * operation uses are set; a WRITE's payload becomes an external Buffer over the bytes copied
 * off /dev/fuse's buffer (freed when JS lets go of it), so it is not copied again.
 */
#include <stdlib.h>

#include "session.h"

static void set_num(napi_env env, napi_value obj, const char *key, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, key, n);
}

static void set_str(napi_env env, napi_value obj, const char *key, const char *v) {
  napi_value str;
  napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &str);
  napi_set_named_property(env, obj, key, str);
}

static void free_payload(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value request_object(napi_env env, struct mp_req *r) {
  napi_value obj;
  napi_create_object(env, &obj);
  set_num(env, obj, "op", r->op);
  set_num(env, obj, "id", r->id);
  set_num(env, obj, "ino", (double)r->ino);
  switch (r->op) {
    case MP_FORGET:
      set_num(env, obj, "n", (double)r->ino2);
      break;
    case MP_SETATTR:
      set_num(env, obj, "valid", r->flags);
      set_num(env, obj, "mode", r->mode);
      set_num(env, obj, "uid", r->uid);
      set_num(env, obj, "gid", r->gid);
      set_num(env, obj, "size", (double)r->size);
      set_num(env, obj, "atime", r->atime_ms);
      set_num(env, obj, "mtime", r->mtime_ms);
      break;
    case MP_READ:
    case MP_READDIR:
    case MP_READDIRPLUS:
      set_num(env, obj, "size", (double)r->size);
      set_num(env, obj, "off", (double)r->off);
      break;
    case MP_WRITE: {
      napi_value buf;
      set_num(env, obj, "off", (double)r->off);
      if (napi_create_external_buffer(env, r->data_len, r->data, free_payload, NULL, &buf) == napi_ok) {
        r->data = NULL; /* owned by the Buffer now */
      } else {
        void *copy;
        napi_create_buffer_copy(env, r->data_len, r->data, &copy, &buf);
      }
      napi_set_named_property(env, obj, "data", buf);
      break;
    }
    case MP_FSYNC:
      set_num(env, obj, "datasync", r->flags);
      break;
    case MP_RENAME:
      set_num(env, obj, "newParent", (double)r->ino2);
      set_num(env, obj, "flags", r->flags);
      break;
    case MP_LINK:
      set_num(env, obj, "newParent", (double)r->ino2);
      break;
    case MP_MKNOD:
    case MP_MKDIR:
    case MP_CREATE:
      set_num(env, obj, "mode", r->mode);
      set_num(env, obj, "flags", r->flags);
      break;
    default:
      break;
  }
  if (r->name != NULL) set_str(env, obj, "name", r->name);
  if (r->name2 != NULL) set_str(env, obj, "name2", r->name2);
  return obj;
}

void mp_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)data;
  struct mp_session *s = context;
  if (env == NULL) return; /* the function is being torn down */
  struct mp_req *all = mp_take_all(s);
  if (all == NULL) return;
  uint32_t count = 0;
  for (struct mp_req *r = all; r != NULL; r = r->next) count++;
  napi_value array;
  napi_create_array_with_length(env, count, &array);
  uint32_t i = 0;
  for (struct mp_req *r = all; r != NULL;) {
    struct mp_req *next = r->next;
    napi_set_element(env, array, i++, request_object(env, r));
    free(r->data);
    mp_free_req(r);
    r = next;
  }
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, js_cb, 1, &array, NULL);
}
