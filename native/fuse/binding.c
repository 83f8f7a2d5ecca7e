#define _GNU_SOURCE
/*
 * The N-API module (src/mount/native.ts types it): a session's life — start() mounts and starts
 * the loop, notifier and reply threads; close() ends them — and the module's registration. A
 * session is an external value; the answers JS gives through it are in answers.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"

/* The signal that interrupts the loop thread's read() of /dev/fuse at close. */
#define WAKE_SIGNAL (SIGRTMIN + 5)

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

/* start(mountpoint, options, flags, onRequests) → session. options: a -o list; flags: MP_FLAG_*. */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "start(mountpoint, options, flags, onRequests)");
    return NULL;
  }
  struct mp_session *s = calloc(1, sizeof(*s));
  if (s == NULL) abort();
  pthread_mutex_init(&s->lock, NULL);
  s->mountpoint = str(env, argv[0]);
  char *options = str(env, argv[1]);
  uint32_t flags = 0;
  napi_get_value_uint32(env, argv[2], &flags);
  s->writeback = (flags & MP_FLAG_WRITEBACK) != 0;
  s->close_to_open = (flags & MP_FLAG_CLOSE_TO_OPEN) != 0;

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
  mp_replies_reap(env, s);
  fuse_session_unmount(s->se);
  fuse_session_destroy(s->se);
  s->se = NULL;
  mp_attr_clear(s);
  napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_session, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  mp_define_answers(env, exports);
  mp_define_notices(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
