/*
 * Cache invalidations, written to /dev/fuse by a thread of their own. notify_inval_entry takes
 * the directory's lock in the kernel, and inval_inode may write dirty pages back (a WRITE that
 * JS must answer): called on the JS thread or the loop thread, either could wait for itself.
 * JS queues them here and goes on at once; ENOENT (nothing cached) is the common answer.
 * Stores put contents fetched ahead straight into the kernel's page cache: the program's read
 * of them never becomes a READ (nor leaves the atime invalidation a READ does).
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"

enum { NOTE_INVAL_ENTRY = 1, NOTE_INVAL_INODE = 2, NOTE_DELETE = 3, NOTE_STORE = 4 };

static void deliver(struct mp_session *s, struct mp_note *n) {
  switch (n->kind) {
    case NOTE_INVAL_ENTRY:
      fuse_lowlevel_notify_inval_entry(s->se, n->parent, n->name, strlen(n->name));
      break;
    case NOTE_INVAL_INODE:
      fuse_lowlevel_notify_inval_inode(s->se, n->ino, n->off, n->len);
      break;
    case NOTE_DELETE:
      fuse_lowlevel_notify_delete(s->se, n->parent, n->ino, n->name, strlen(n->name));
      break;
    case NOTE_STORE: {
      struct fuse_bufvec bufv = FUSE_BUFVEC_INIT((size_t)n->len);
      bufv.buf[0].mem = n->data;
      fuse_lowlevel_notify_store(s->se, n->ino, n->off, &bufv, 0);
      break;
    }
    default:
      break;
  }
}

static void *notify_main(void *arg) {
  struct mp_session *s = arg;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    while (s->notes_head == NULL && !s->notify_stop) pthread_cond_wait(&s->notify_cond, &s->lock);
    struct mp_note *n = s->notes_head;
    if (n == NULL) break; /* stopping, and nothing left */
    s->notes_head = n->next;
    if (s->notes_head == NULL) s->notes_tail = NULL;
    int stopping = s->notify_stop;
    pthread_mutex_unlock(&s->lock);
    /* Past the stop, the session may be going: what is left is dropped, not written. */
    if (!stopping) deliver(s, n);
    free(n->name);
    free(n->data);
    free(n);
    pthread_mutex_lock(&s->lock);
    s->notes_done++;
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

int mp_notify_start(struct mp_session *s) {
  pthread_cond_init(&s->notify_cond, NULL);
  return pthread_create(&s->notify_thread, NULL, notify_main, s);
}

void mp_notify_push(struct mp_session *s, struct mp_note *n) {
  n->next = NULL;
  pthread_mutex_lock(&s->lock);
  if (s->notify_stop) {
    pthread_mutex_unlock(&s->lock);
    free(n->name);
    free(n->data);
    free(n);
    return;
  }
  s->notes_queued++;
  if (s->notes_tail == NULL) s->notes_head = n;
  else s->notes_tail->next = n;
  s->notes_tail = n;
  pthread_cond_signal(&s->notify_cond);
  pthread_mutex_unlock(&s->lock);
}

void mp_notify_stop(struct mp_session *s) {
  pthread_mutex_lock(&s->lock);
  s->notify_stop = 1;
  pthread_cond_signal(&s->notify_cond);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->notify_thread, NULL);
}
