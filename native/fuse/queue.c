/*
 * The hand-over between libfuse's loop thread and JS: the request queue (one wake-up per
 * batch, not per request), the slots that let a reply find its fuse_req_t exactly once, and
 * the per-inode count of writes JS has not yet settled (FLUSH of an inode without any is
 * answered on the loop thread).
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define SLOT_BITS 24
#define SLOT_SPAN (1u << SLOT_BITS)

static uint32_t slot_alloc(struct mp_session *s, fuse_req_t req) {
  if (s->nfree == 0) {
    uint32_t grow = s->nslots == 0 ? 1024 : s->nslots;
    if (s->nslots + grow > SLOT_SPAN) grow = SLOT_SPAN - s->nslots;
    s->slots = realloc(s->slots, sizeof(*s->slots) * (s->nslots + grow));
    s->free_slots = realloc(s->free_slots, sizeof(*s->free_slots) * (s->nslots + grow));
    if (s->slots == NULL || s->free_slots == NULL) abort();
    for (uint32_t i = 0; i < grow; i++) {
      s->slots[s->nslots + i].req = NULL;
      s->slots[s->nslots + i].gen = 0;
      s->free_slots[s->nfree++] = s->nslots + grow - 1 - i;
    }
    s->nslots += grow;
  }
  uint32_t i = s->free_slots[--s->nfree];
  s->slots[i].req = req;
  s->slots[i].gen = (s->slots[i].gen + 1) & 0x1fffffff;
  if (s->slots[i].gen == 0) s->slots[i].gen = 1;
  return i;
}

void mp_enqueue(struct mp_session *s, struct mp_req *r, fuse_req_t req) {
  int wake;
  pthread_mutex_lock(&s->lock);
  if (req != NULL) {
    uint32_t i = slot_alloc(s, req);
    r->id = (double)s->slots[i].gen * SLOT_SPAN + i;
  }
  if (r->op == MP_WRITE) {
    /* Counted before JS sees it: a FLUSH right behind this WRITE must reach JS. */
    pthread_mutex_unlock(&s->lock);
    mp_dirty_add(s, r->ino, 1);
    pthread_mutex_lock(&s->lock);
  }
  r->next = NULL;
  if (s->tail == NULL) s->head = r;
  else s->tail->next = r;
  s->tail = r;
  wake = !s->wake_pending;
  s->wake_pending = 1;
  pthread_mutex_unlock(&s->lock);
  if (wake) napi_call_threadsafe_function(s->tsfn, NULL, napi_tsfn_nonblocking);
}

struct mp_req *mp_take_all(struct mp_session *s) {
  pthread_mutex_lock(&s->lock);
  struct mp_req *all = s->head;
  s->head = s->tail = NULL;
  s->wake_pending = 0;
  pthread_mutex_unlock(&s->lock);
  return all;
}

fuse_req_t mp_claim(struct mp_session *s, double id) {
  if (!(id >= 0)) return NULL;
  uint64_t n = (uint64_t)id;
  uint32_t i = (uint32_t)(n & (SLOT_SPAN - 1));
  uint32_t gen = (uint32_t)(n >> SLOT_BITS);
  fuse_req_t req = NULL;
  pthread_mutex_lock(&s->lock);
  if (i < s->nslots && s->slots[i].gen == gen && s->slots[i].req != NULL) {
    req = s->slots[i].req;
    s->slots[i].req = NULL;
    s->free_slots[s->nfree++] = i;
  }
  pthread_mutex_unlock(&s->lock);
  return req;
}

void mp_free_req(struct mp_req *r) {
  free(r->name);
  free(r->name2);
  free(r);
}

static uint32_t dirty_find(struct mp_session *s, uint64_t ino) {
  uint32_t mask = s->ndirty_cap - 1;
  uint32_t i = (uint32_t)(ino * 0x9E3779B97F4A7C15ull >> 32) & mask;
  while (s->dirty[i].ino != 0 && s->dirty[i].ino != ino) i = (i + 1) & mask;
  return i;
}

/* Linear probing without tombstones: a count that drops to zero keeps its slot; the table is
 * rebuilt without them when it fills past half. */
static void dirty_rebuild(struct mp_session *s, uint32_t cap) {
  struct mp_dirty *old = s->dirty;
  uint32_t oldcap = s->ndirty_cap;
  s->dirty = calloc(cap, sizeof(*s->dirty));
  if (s->dirty == NULL) abort();
  s->ndirty_cap = cap;
  s->ndirty_used = 0;
  for (uint32_t i = 0; i < oldcap; i++) {
    if (old[i].ino != 0 && old[i].count > 0) {
      s->dirty[dirty_find(s, old[i].ino)] = old[i];
      s->ndirty_used++;
    }
  }
  free(old);
}

void mp_dirty_add(struct mp_session *s, uint64_t ino, int32_t delta) {
  pthread_mutex_lock(&s->lock);
  if (s->ndirty_cap == 0) dirty_rebuild(s, 256);
  uint32_t i = dirty_find(s, ino);
  if (s->dirty[i].ino == 0) {
    if ((s->ndirty_used + 1) * 2 >= s->ndirty_cap) {
      uint32_t live = 0;
      for (uint32_t k = 0; k < s->ndirty_cap; k++) live += s->dirty[k].count > 0;
      dirty_rebuild(s, (live + 1) * 4 >= s->ndirty_cap ? s->ndirty_cap * 2 : s->ndirty_cap);
      i = dirty_find(s, ino);
    }
    s->dirty[i].ino = ino;
    s->ndirty_used++;
  }
  int64_t c = (int64_t)s->dirty[i].count + delta;
  s->dirty[i].count = c < 0 ? 0 : (uint32_t)c;
  pthread_mutex_unlock(&s->lock);
}

uint32_t mp_dirty_count(struct mp_session *s, uint64_t ino) {
  pthread_mutex_lock(&s->lock);
  uint32_t c = 0;
  if (s->ndirty_cap > 0) c = s->dirty[dirty_find(s, ino)].count;
  pthread_mutex_unlock(&s->lock);
  return c;
}
