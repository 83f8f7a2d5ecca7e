/*
 * READ answers, written to /dev/fuse by a thread of their own. Writing a reply copies it into
 * the kernel's page cache, which on a VM costs more than everything else a read does here
 * (about 1.2 s of CPU per GiB of fresh pages on the machine this was measured on); done on the
 * JS thread it stalled every other request behind it. The bytes are copied once into the
 * reply's own block, or — for large ones — not at all: the JS buffers are held by references
 * and written as they are, the references dropped on the JS thread afterwards (reap). Order
 * between replies does not matter. Blocks are kept for the next replies: a fresh 1 MiB block is
 * fresh pages, each faulted in by the copy.
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* Blocks kept, and the smallest worth keeping (smaller ones come cheaply from malloc). */
#define POOL_MAX 16
#define POOL_MIN (64 * 1024)

/* A reply with room for len bytes: a kept block where one is large enough, else a new one. */
struct mp_reply *mp_reply_alloc(struct mp_session *s, size_t len) {
  if (len >= POOL_MIN) {
    pthread_mutex_lock(&s->lock);
    for (struct mp_reply **at = &s->reply_pool; *at != NULL; at = &(*at)->next) {
      if ((*at)->cap < len) continue;
      struct mp_reply *r = *at;
      *at = r->next;
      s->reply_pooled--;
      pthread_mutex_unlock(&s->lock);
      r->len = len;
      return r;
    }
    pthread_mutex_unlock(&s->lock);
  }
  struct mp_reply *r = malloc(sizeof(*r) + len);
  if (r == NULL) abort();
  r->len = len;
  r->cap = len;
  r->n = 0;
  r->iov = NULL;
  r->refs = NULL;
  return r;
}

/* Called with s->lock held. */
static void release(struct mp_session *s, struct mp_reply *r) {
  if (r->cap < POOL_MIN || s->reply_pooled >= POOL_MAX || s->reply_stop) {
    free(r);
    return;
  }
  r->next = s->reply_pool;
  s->reply_pool = r;
  s->reply_pooled++;
}

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
    if (r->refs != NULL) fuse_reply_iov(r->req, r->iov, (int)r->n);
    else fuse_reply_buf(r->req, r->data, r->len);
    pthread_mutex_lock(&s->lock);
    if (r->refs != NULL) {
      r->next = s->replies_done;
      __atomic_store_n(&s->replies_done, r, __ATOMIC_RELEASE);
    } else release(s, r);
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

/* On the JS thread: lets go of the buffers of replies written since the last call. */
void mp_replies_reap(napi_env env, struct mp_session *s) {
  /* Every reply calls this: most find nothing, and need not take the lock to see so. */
  if (__atomic_load_n(&s->replies_done, __ATOMIC_ACQUIRE) == NULL) return;
  pthread_mutex_lock(&s->lock);
  struct mp_reply *done = s->replies_done;
  __atomic_store_n(&s->replies_done, NULL, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&s->lock);
  while (done != NULL) {
    struct mp_reply *r = done;
    done = r->next;
    for (uint32_t i = 0; i < r->n; i++) napi_delete_reference(env, r->refs[i]);
    free(r->refs);
    free(r->iov);
    free(r);
  }
}

/* Sends what is queued, then ends the thread (before the session's fd is closed). */
void mp_replies_stop(struct mp_session *s) {
  pthread_mutex_lock(&s->lock);
  s->reply_stop = 1;
  pthread_cond_signal(&s->reply_cond);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->reply_thread, NULL);
  while (s->reply_pool != NULL) {
    struct mp_reply *r = s->reply_pool;
    s->reply_pool = r->next;
    free(r);
  }
  s->reply_pooled = 0;
}
