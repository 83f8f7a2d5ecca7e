/*
 * mproxy's libfuse 3 low-level binding: what the request loop, the JS bridge and the notifier
 * share. libfuse reads requests on a thread of its own (fuse_session_loop); each request that
 * needs the filesystem's logic becomes an mp_req on a queue, and JS is woken once per batch
 * through one napi_threadsafe_function call. JS answers through reply functions that write to
 * /dev/fuse directly (fuse_reply_* are thread-safe). Requests that need no logic (FLUSH of a
 * clean inode, RELEASE, FORGET's reply, xattrs) are answered on the loop thread.
 */
#ifndef MPROXY_FUSE_SESSION_H
#define MPROXY_FUSE_SESSION_H

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>

/* Request kinds as JS sees them (src/mount/native.ts mirrors these numbers). */
enum mp_op {
  MP_LOOKUP = 1,
  MP_FORGET = 2, /* ino, n: no reply; batch_forget arrives as several */
  MP_GETATTR = 3,
  MP_SETATTR = 4,
  MP_READLINK = 5,
  MP_MKNOD = 6,
  MP_MKDIR = 7,
  MP_UNLINK = 8,
  MP_RMDIR = 9,
  MP_SYMLINK = 10,
  MP_RENAME = 11,
  MP_LINK = 12,
  MP_READ = 13,
  MP_WRITE = 14,
  MP_FLUSH = 15,
  MP_FSYNC = 16,
  MP_READDIRPLUS = 17,
  MP_STATFS = 18,
  MP_CREATE = 19,
  MP_READDIR = 20,
  MP_EXITED = 99 /* the loop ended (unmounted, or the connection was aborted) */
};

/* start()'s flags (src/mount/native.ts mirrors them). */
enum mp_flag {
  MP_FLAG_WRITEBACK = 1, /* the kernel's writeback cache */
  /* No change notices: OPEN is answered (here, at once) without keep_cache, so each open drops
   * the file's cached pages and reads what the remote holds now (close-to-open, as NFS). */
  MP_FLAG_CLOSE_TO_OPEN = 2
};

struct mp_req {
  struct mp_req *next;
  int op;
  double id; /* slot reference for replies; 0 when none is expected */
  uint64_t ino;
  uint64_t ino2; /* rename: new parent; link: new parent; forget: nlookup */
  uint64_t off;
  uint64_t size;
  uint32_t flags; /* open flags, rename flags, setattr to_set, fsync datasync */
  uint32_t mode;
  uint32_t uid, gid; /* setattr */
  double atime_ms, mtime_ms; /* setattr; -1 = now */
  char *name;
  char *name2; /* rename: new name; symlink: target */
  void *data; /* write payload (owned; handed to JS as an external buffer) */
  size_t data_len;
};

struct mp_session {
  struct fuse_session *se;
  char *mountpoint;
  pthread_t loop_thread;
  int loop_started;
  napi_threadsafe_function tsfn;

  pthread_mutex_t lock; /* guards the queue, the slots and the dirty counts */
  struct mp_req *head, *tail;
  int wake_pending;

  /* Outstanding requests by slot: a reply names its slot and generation, so an answer that
   * comes after the deadline already answered EIO finds the slot moved on and is dropped. */
  struct mp_slot { fuse_req_t req; uint32_t gen; } *slots;
  uint32_t nslots;
  uint32_t *free_slots;
  uint32_t nfree;

  /* Inodes with writes JS has accepted but not yet settled on the remote: a FLUSH of any other
   * inode is answered here, without waking JS. Open addressing, keyed by ino. */
  struct mp_dirty { uint64_t ino; uint32_t count; } *dirty;
  uint32_t ndirty_cap, ndirty_used;

  /* The notifier: invalidations are written to /dev/fuse from a thread of their own, never
   * from one that must answer a request the kernel may hold a lock for. */
  pthread_t notify_thread;
  pthread_cond_t notify_cond;
  struct mp_note *notes_head, *notes_tail;
  int notify_stop;
  /* Notes queued and written so far (under lock): JS waits for a mark to be reached. */
  uint64_t notes_queued, notes_done;

  /* attrs.c: attributes last given to the kernel, by inode */
  struct mp_attr_entry **attr_buckets;
  uint32_t attr_nbuckets, attr_count;

  /* replies.c: READ data written to /dev/fuse by a thread of its own */
  pthread_t reply_thread;
  pthread_cond_t reply_cond;
  struct mp_reply *replies_head, *replies_tail;
  int reply_stop;
  struct mp_reply *reply_pool; /* written replies kept for reuse */
  int reply_pooled;
  struct mp_reply *replies_done; /* written from JS buffers: their references go on the JS thread */

  int writeback;
  int close_to_open;
};

struct mp_reply {
  struct mp_reply *next;
  fuse_req_t req;
  size_t len, cap;
  /* Written from JS's own buffers (held by refs) instead of data, when refs is set. */
  uint32_t n;
  struct iovec *iov;
  napi_ref *refs;
  char data[];
};

struct mp_note {
  struct mp_note *next;
  int kind; /* 1 inval_entry, 2 inval_inode, 3 delete, 4 store */
  uint64_t parent, ino;
  int64_t off, len;
  char *name;
  void *data; /* store: len bytes for the page cache at off */
};

/* queue.c */
void mp_enqueue(struct mp_session *s, struct mp_req *r, fuse_req_t req);
struct mp_req *mp_take_all(struct mp_session *s);
fuse_req_t mp_claim(struct mp_session *s, double id);
void mp_free_req(struct mp_req *r);
void mp_dirty_add(struct mp_session *s, uint64_t ino, int32_t delta);
uint32_t mp_dirty_count(struct mp_session *s, uint64_t ino);

/* replies.c */
int mp_replies_start(struct mp_session *s);
struct mp_reply *mp_reply_alloc(struct mp_session *s, size_t len);
void mp_replies_reap(napi_env env, struct mp_session *s);
void mp_replies_push(struct mp_session *s, struct mp_reply *r);
void mp_replies_stop(struct mp_session *s);

/* attrs.c */
void mp_attr_put(struct mp_session *s, uint64_t ino, const struct stat *st, double timeout);
int mp_attr_get(struct mp_session *s, uint64_t ino, struct stat *st, double *remaining);
void mp_attr_drop(struct mp_session *s, uint64_t ino);
void mp_attr_clear(struct mp_session *s);

/* ops.c */
extern const struct fuse_lowlevel_ops mp_ops;
/* init.c: the INIT request (what the mount asks of the kernel). */
void mp_op_init(void *userdata, struct fuse_conn_info *conn);

/* notify.c */
int mp_notify_start(struct mp_session *s);
void mp_notify_push(struct mp_session *s, struct mp_note *n);
void mp_notify_stop(struct mp_session *s);

/* answers.c: the reply entry points; notices.c: the invalidation and store entry points */
void mp_define_answers(napi_env env, napi_value exports);
void mp_define_notices(napi_env env, napi_value exports);

/* js.c: the batch delivered to JS */
void mp_call_js(napi_env env, napi_value js_cb, void *context, void *data);

#endif
