/*
 * Attributes the kernel was last given, by inode, until their timeout: a GETATTR the kernel
 * sends only because it dropped its own copy early (after every READ it invalidates atime, so
 * the next fstat asks again) is answered here on the loop thread, without waking JS. Every
 * attribute reply passes through the binding and refreshes its entry; a WRITE, a SETATTR or a
 * change of a directory's entries drops it on arrival, and JS drops it whenever it learns the
 * remote changed (every notify_inval_inode does).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session.h"

struct mp_attr_entry {
  struct mp_attr_entry *next;
  uint64_t ino;
  struct stat st;
  struct timespec until;
};

static uint32_t bucket_of(struct mp_session *s, uint64_t ino) {
  return (uint32_t)(ino * 0x9E3779B97F4A7C15ull >> 32) & (s->attr_nbuckets - 1);
}

static void grow(struct mp_session *s) {
  uint32_t n = s->attr_nbuckets == 0 ? 1024 : s->attr_nbuckets * 2;
  struct mp_attr_entry **buckets = calloc(n, sizeof(*buckets));
  if (buckets == NULL) abort();
  uint32_t old = s->attr_nbuckets;
  struct mp_attr_entry **prev = s->attr_buckets;
  s->attr_buckets = buckets;
  s->attr_nbuckets = n;
  for (uint32_t i = 0; i < old; i++) {
    for (struct mp_attr_entry *e = prev[i]; e != NULL;) {
      struct mp_attr_entry *next = e->next;
      uint32_t b = bucket_of(s, e->ino);
      e->next = buckets[b];
      buckets[b] = e;
      e = next;
    }
  }
  free(prev);
}

void mp_attr_put(struct mp_session *s, uint64_t ino, const struct stat *st, double timeout) {
  if (ino == 0 || !(timeout > 0)) {
    mp_attr_drop(s, ino);
    return;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  pthread_mutex_lock(&s->lock);
  if (s->attr_count >= s->attr_nbuckets) grow(s);
  uint32_t b = bucket_of(s, ino);
  struct mp_attr_entry *e = s->attr_buckets[b];
  while (e != NULL && e->ino != ino) e = e->next;
  if (e == NULL) {
    e = malloc(sizeof(*e));
    if (e == NULL) abort();
    e->ino = ino;
    e->next = s->attr_buckets[b];
    s->attr_buckets[b] = e;
    s->attr_count++;
  }
  e->st = *st;
  double whole = (double)(time_t)timeout;
  e->until.tv_sec = now.tv_sec + (time_t)timeout;
  e->until.tv_nsec = now.tv_nsec + (long)((timeout - whole) * 1e9);
  if (e->until.tv_nsec >= 1000000000L) {
    e->until.tv_sec++;
    e->until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_unlock(&s->lock);
}

int mp_attr_get(struct mp_session *s, uint64_t ino, struct stat *st, double *remaining) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int found = 0;
  pthread_mutex_lock(&s->lock);
  if (s->attr_nbuckets > 0) {
    struct mp_attr_entry *e = s->attr_buckets[bucket_of(s, ino)];
    while (e != NULL && e->ino != ino) e = e->next;
    if (e != NULL) {
      double left = (double)(e->until.tv_sec - now.tv_sec) + (double)(e->until.tv_nsec - now.tv_nsec) / 1e9;
      if (left > 0) {
        *st = e->st;
        *remaining = left;
        found = 1;
      }
    }
  }
  pthread_mutex_unlock(&s->lock);
  return found;
}

void mp_attr_drop(struct mp_session *s, uint64_t ino) {
  pthread_mutex_lock(&s->lock);
  if (s->attr_nbuckets > 0) {
    struct mp_attr_entry **at = &s->attr_buckets[bucket_of(s, ino)];
    while (*at != NULL && (*at)->ino != ino) at = &(*at)->next;
    if (*at != NULL) {
      struct mp_attr_entry *gone = *at;
      *at = gone->next;
      free(gone);
      s->attr_count--;
    }
  }
  pthread_mutex_unlock(&s->lock);
}

void mp_attr_clear(struct mp_session *s) {
  pthread_mutex_lock(&s->lock);
  for (uint32_t i = 0; i < s->attr_nbuckets; i++) {
    for (struct mp_attr_entry *e = s->attr_buckets[i]; e != NULL;) {
      struct mp_attr_entry *next = e->next;
      free(e);
      e = next;
    }
  }
  free(s->attr_buckets);
  s->attr_buckets = NULL;
  s->attr_nbuckets = s->attr_count = 0;
  pthread_mutex_unlock(&s->lock);
}
