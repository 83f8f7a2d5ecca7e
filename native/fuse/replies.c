/*
 * READ answers, written to /dev/fuse by a thread of their own. Writing a reply copies it into
 * the kernel's page cache, which on a VM costs more than everything else a read does here
 * (about 1.2 s of CPU per GiB of fresh pages on the machine this was measured on); done on the
 * JS thread it stalled every other request behind it. The bytes are copied once into the
 * queued reply, so JS may reuse its buffer at once; order between replies does not matter.
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"

static void *reply_main(void *arg) {
  struct mp_session *s = arg;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    while (s->replies_head == NULL && !s->reply_stop) pthread_cond_wait(&s->reply_cond, &s->lock);
    struct mp_reply *r = s->replies_head;
    if (r == NULL) break;
    s->replies_head = r->next;
    if (s->replies_head == NULL) s->replies_tail = NULL;
    pthread_mutex_unlock(&s->lock);
    fuse_reply_buf(r->req, r->data, r->len);
    free(r);
    pthread_mutex_lock(&s->lock);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

int mp_replies_start(struct mp_session *s) {
  pthread_cond_init(&s->reply_cond, NULL);
  return pthread_create(&s->reply_thread, NULL, reply_main, s);
}

void mp_replies_push(struct mp_session *s, struct mp_reply *r) {
  r->next = NULL;
  pthread_mutex_lock(&s->lock);
  if (s->replies_tail == NULL) s->replies_head = r;
  else s->replies_tail->next = r;
  s->replies_tail = r;
  pthread_cond_signal(&s->reply_cond);
  pthread_mutex_unlock(&s->lock);
}

/* Sends what is queued, then ends the thread (before the session's fd is closed). */
void mp_replies_stop(struct mp_session *s) {
  pthread_mutex_lock(&s->lock);
  s->reply_stop = 1;
  pthread_cond_signal(&s->reply_cond);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->reply_thread, NULL);
}
