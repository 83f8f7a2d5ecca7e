/*
 * Which of the command's fds are regular files of a FUSE mount (`< f`, `> f`, `>> f`, `2> f`,
 * `3<> f`): the broker may have the agent open such a file on the remote itself, so its bytes
 * never come here and go back.
 *
 * One line per fd: "FD MODE OFFSET SAME HELD PATH". MODE is r, w or rw, followed by "a" for
 * O_APPEND; OFFSET the fd's position; SAME the lowest lower fd sharing its open file description
 * (`> f 2>&1`), or -1; HELD "x" when this process alone holds the file open here, "-" when
 * another process of the session holds it too (its offset or writes could interleave with the
 * remote's: never taken on a guess). PATH is /proc/self/fd/FD's target, as this process sees
 * it. Files with a newline in their path, unlinked ones and other filesystems are left out.
 *
 * Each listed file is flushed first (close of a dup: the kernel writes its dirty pages and waits
 * for them), so the remote reads what was written here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define FUSE_MAGIC 0x65735546
#define MAX_FILES 16

struct file_fd { int fd, flags; long long offset; struct stat st; char path[4096]; int held; };

/* Do fds a and b of this process share one open file description (kcmp; same file, flags and
 * offset where kcmp is not allowed)? */
static int same_description(const struct file_fd *a, const struct file_fd *b) {
  long r = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, a->fd, b->fd);
  if (r >= 0) return r == 0;
  return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino && a->flags == b->flags && a->offset == b->offset;
}

struct candidates { struct file_fd *files; int n; };

static void visit_file(void *arg, const char *pid, const char *fd, const char *target, int parent) {
  (void)pid, (void)fd, (void)parent;
  struct candidates *c = arg;
  for (int i = 0; i < c->n; i++) if (strcmp(c->files[i].path, target) == 0) c->files[i].held = 1;
}

static void unreadable_file(void *arg, int parent) {
  (void)parent;
  struct candidates *c = arg;
  for (int i = 0; i < c->n; i++) c->files[i].held = 1;
}

/* Marks each file another process of this session holds open too (its path among their fds). */
static void find_other_holders(struct file_fd *files, int n) {
  struct candidates c = { files, n };
  session_fds(&(struct fd_visitor){ visit_file, unreadable_file, &c });
}

/* fd as a candidate: a regular file of a FUSE filesystem, still linked, with a path to name it by. */
static int inspect(int fd, struct file_fd *out) {
  struct statfs sfs;
  out->fd = fd;
  out->held = 0;
  if ((out->flags = fcntl(fd, F_GETFL)) < 0 || fstat(fd, &out->st) != 0 || !S_ISREG(out->st.st_mode) || out->st.st_nlink == 0) return 0;
  if (fstatfs(fd, &sfs) != 0 || sfs.f_type != FUSE_MAGIC) return 0;
  char link[32];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t len = readlink(link, out->path, sizeof out->path - 1);
  if (len <= 0 || out->path[0] != '/') return 0;
  out->path[len] = 0;
  if (strchr(out->path, '\n') != NULL) return 0;
  out->offset = (long long)lseek(fd, 0, SEEK_CUR);
  return out->offset >= 0;
}

void mount_files(char *spec, size_t cap) {
  static struct file_fd files[MAX_FILES];
  int n = 0;
  spec[0] = 0;
  for (int fd = 0; fd < 256 && n < MAX_FILES; fd++)
    if (fcntl(fd, F_GETFD) >= 0 && inspect(fd, &files[n])) n++;
  if (n == 0) return;
  find_other_holders(files, n);
  size_t used = 0;
  for (int i = 0; i < n; i++) {
    const struct file_fd *f = &files[i];
    int same = -1;
    for (int j = 0; j < i && same < 0; j++) if (same_description(&files[j], f)) same = files[j].fd;
    if (same < 0) {
      int copy = dup(f->fd);
      if (copy >= 0) close(copy);
    }
    int mode = f->flags & O_ACCMODE;
    const char *m = mode == O_RDONLY ? "r" : mode == O_WRONLY ? "w" : "rw";
    int wrote = snprintf(spec + used, cap - used, "%d %s%s %lld %d %c %s\n", f->fd, m, (f->flags & O_APPEND) ? "a" : "", f->offset, same,
                         f->held ? '-' : 'x', f->path);
    if (wrote < 0 || (size_t)wrote >= cap - used) {
      spec[used] = 0; /* no room: the rest are carried as always */
      return;
    }
    used += (size_t)wrote;
  }
}
