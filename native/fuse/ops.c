/*
 * The low-level operations as libfuse calls them on the loop thread. Most become a request for
 * JS (queue.c); what needs no knowledge of the filesystem is answered here:
 *   OPEN, OPENDIR  ENOSYS: the kernel stops sending them (and RELEASE) for the whole mount, so
 *                  a warm open/read/close of a cached file never leaves the kernel. Without
 *                  change notices (MP_FLAG_CLOSE_TO_OPEN) OPEN is answered 0 without keep_cache:
 *                  the kernel drops the file's pages at each open, so a remote rewrite that
 *                  kept size and mtime (whole seconds over SFTP) is never served stale.
 *   FLUSH          with the kernel's writeback cache: ENOSYS, and it is not sent again (close
 *                  still waits for the kernel's own writes, which JS answers only once they
 *                  are on the remote). Without: 0 when JS holds no unsettled write, else JS.
 *   RELEASE*, FSYNCDIR  0.   FORGET  no reply.   xattrs  no handler: libfuse answers ENOSYS
 *                  and the kernel stops asking.
 *   GETATTR        from attrs.c while the attributes given last are current and no write is
 *                  unsettled, else JS.
 * Requests that change an inode or a directory's entries drop their cached attributes first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

static struct mp_req *new_req(int op, fuse_ino_t ino) {
  struct mp_req *r = calloc(1, sizeof(*r));
  if (r == NULL) abort();
  r->op = op;
  r->ino = ino;
  return r;
}

static char *dup_name(const char *name) {
  char *copy = strdup(name);
  if (copy == NULL) abort();
  return copy;
}

static void to_js(fuse_req_t req, struct mp_req *r) {
  struct mp_session *s = fuse_req_userdata(req);
  switch (r->op) {
    case MP_SETATTR:
    case MP_WRITE:
      mp_attr_drop(s, r->ino);
      break;
    case MP_MKNOD:
    case MP_MKDIR:
    case MP_UNLINK:
    case MP_RMDIR:
    case MP_SYMLINK:
    case MP_CREATE:
      mp_attr_drop(s, r->ino); /* the parent: its times and size change */
      break;
    case MP_RENAME:
    case MP_LINK:
      mp_attr_drop(s, r->ino);
      mp_attr_drop(s, r->ino2);
      break;
    default:
      break;
  }
  mp_enqueue(s, r, req);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  struct mp_req *r = new_req(MP_LOOKUP, parent);
  r->name = dup_name(name);
  to_js(req, r);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  struct mp_session *s = fuse_req_userdata(req);
  struct mp_req *r = new_req(MP_FORGET, ino);
  r->ino2 = nlookup;
  mp_attr_drop(s, ino);
  mp_enqueue(s, r, NULL);
  fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  struct mp_session *s = fuse_req_userdata(req);
  for (size_t i = 0; i < count; i++) {
    struct mp_req *r = new_req(MP_FORGET, forgets[i].ino);
    r->ino2 = forgets[i].nlookup;
    mp_attr_drop(s, forgets[i].ino);
    mp_enqueue(s, r, NULL);
  }
  fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  struct mp_session *s = fuse_req_userdata(req);
  struct stat st;
  double remaining;
  if (mp_dirty_count(s, ino) == 0 && mp_attr_get(s, ino, &st, &remaining)) fuse_reply_attr(req, &st, remaining);
  else to_js(req, new_req(MP_GETATTR, ino));
}

static double time_ms(const struct timespec *t) {
  return (double)t->tv_sec * 1000.0 + (double)t->tv_nsec / 1e6;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
  (void)fi;
  struct mp_req *r = new_req(MP_SETATTR, ino);
  r->flags = (uint32_t)to_set;
  r->mode = attr->st_mode;
  r->uid = attr->st_uid;
  r->gid = attr->st_gid;
  r->size = (uint64_t)attr->st_size;
  r->atime_ms = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? -1 : time_ms(&attr->st_atim);
  r->mtime_ms = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? -1 : time_ms(&attr->st_mtim);
  to_js(req, r);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  to_js(req, new_req(MP_READLINK, ino));
}

static void named(fuse_req_t req, int op, fuse_ino_t parent, const char *name, uint32_t mode) {
  struct mp_req *r = new_req(op, parent);
  r->name = dup_name(name);
  r->mode = mode;
  to_js(req, r);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
  (void)rdev;
  named(req, MP_MKNOD, parent, name, mode);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  named(req, MP_MKDIR, parent, name, mode);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  named(req, MP_UNLINK, parent, name, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  named(req, MP_RMDIR, parent, name, 0);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
  struct mp_req *r = new_req(MP_SYMLINK, parent);
  r->name = dup_name(name);
  r->name2 = dup_name(link);
  to_js(req, r);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname, unsigned int flags) {
  struct mp_req *r = new_req(MP_RENAME, parent);
  r->name = dup_name(name);
  r->ino2 = newparent;
  r->name2 = dup_name(newname);
  r->flags = flags;
  to_js(req, r);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
  struct mp_req *r = new_req(MP_LINK, ino);
  r->ino2 = newparent;
  r->name = dup_name(newname);
  to_js(req, r);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  struct mp_session *s = fuse_req_userdata(req);
  if (!s->close_to_open) {
    fuse_reply_err(req, ENOSYS);
    return;
  }
  fi->fh = 0;
  fi->keep_cache = 0;
  fuse_reply_open(req, fi);
}

static void op_enosys(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  fuse_reply_err(req, ENOSYS);
}

static void op_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  fuse_reply_err(req, 0);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  struct mp_req *r = new_req(MP_READ, ino);
  r->size = size;
  r->off = (uint64_t)off;
  to_js(req, r);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  struct mp_req *r = new_req(MP_WRITE, ino);
  r->data = malloc(size > 0 ? size : 1);
  if (r->data == NULL) abort();
  memcpy(r->data, buf, size);
  r->data_len = size;
  r->off = (uint64_t)off;
  to_js(req, r);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  struct mp_session *s = fuse_req_userdata(req);
  if (s->writeback) fuse_reply_err(req, ENOSYS);
  else if (mp_dirty_count(s, ino) == 0) fuse_reply_err(req, 0);
  else to_js(req, new_req(MP_FLUSH, ino));
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  (void)fi;
  struct mp_req *r = new_req(MP_FSYNC, ino);
  r->flags = (uint32_t)datasync;
  to_js(req, r);
}

static void dir_request(fuse_req_t req, int op, fuse_ino_t ino, size_t size, off_t off) {
  struct mp_req *r = new_req(op, ino);
  r->size = size;
  r->off = (uint64_t)off;
  to_js(req, r);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  dir_request(req, MP_READDIR, ino, size, off);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  dir_request(req, MP_READDIRPLUS, ino, size, off);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  (void)ino;
  (void)datasync;
  (void)fi;
  fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino) {
  to_js(req, new_req(MP_STATFS, ino));
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
  struct mp_req *r = new_req(MP_CREATE, parent);
  r->name = dup_name(name);
  r->mode = mode;
  r->flags = (uint32_t)fi->flags;
  to_js(req, r);
}

const struct fuse_lowlevel_ops mp_ops = {
    .init = mp_op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readlink = op_readlink,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_ok,
    .fsync = op_fsync,
    .opendir = op_enosys,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .releasedir = op_ok,
    .fsyncdir = op_fsyncdir,
    .statfs = op_statfs,
    .create = op_create,
};
