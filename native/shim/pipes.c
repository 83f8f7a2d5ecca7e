/*
 * Which of the command's stdin, stdout and stderr are pipes the broker may join on the remote.
 *
 * For each of fds 0 (read end), 1 and 2 (write ends) that is a pipe or FIFO, one entry
 * "FD" "r"|"w" INODE "x"|"-", space-separated. "x": this process holds its end alone (no
 * other process could write into or read from the pipe behind the remote's back) and a process
 * other than its parent holds the other end: a sibling, as in `a | b`, which may be a command on
 * its way to the remote. Only the parent at the other end is `$(a)` or a program reading its
 * child's output: nothing to wait for. "-": anything else — the broker then
 * carries the fd as always. Found by reading /proc/PID/fd of the processes visible here; a
 * process that cannot be read counts as holding both ends (never joined on a guess).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

/* How many times (1 ms apart) an end the parent still holds is looked at again. */
#define PARENT_CLOSE_TRIES 5

struct pipe_end { int fd; char dir; unsigned long ino; int others_same, others_opposite, parent_same; };

/* Is /proc/PID/fdinfo/FD open for writing (O_WRONLY or O_RDWR)? -1 when it cannot be read. */
static int fd_writes(const char *pid, const char *fd) {
  char path[600], line[128];
  snprintf(path, sizeof path, "/proc/%s/fdinfo/%s", pid, fd);
  FILE *f = fopen(path, "re");
  if (f == NULL) return -1;
  int writes = -1;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "flags:", 6) == 0) {
      writes = (strtoul(line + 6, NULL, 8) & O_ACCMODE) != O_RDONLY;
      break;
    }
  }
  fclose(f);
  return writes;
}

struct holders { struct pipe_end *ends; int n; };

static void visit_pipe(void *arg, const char *pid, const char *fd, const char *target, int parent) {
  struct holders *h = arg;
  unsigned long ino;
  if (sscanf(target, "pipe:[%lu]", &ino) != 1) return;
  int writes = -2;
  for (int i = 0; i < h->n; i++) {
    struct pipe_end *e = &h->ends[i];
    if (e->ino != ino) continue;
    if (writes == -2) writes = fd_writes(pid, fd);
    int same = writes < 0 || (writes == 1) == (e->dir == 'w');
    if (same) e->others_same++;
    if (same && parent) e->parent_same++;
    if ((writes < 0 || !same) && !parent) e->others_opposite++;
  }
}

/* A process that cannot be read counts as holding both ends. */
static void unreadable_pipe(void *arg, int parent) {
  (void)parent;
  struct holders *h = arg;
  for (int i = 0; i < h->n; i++) h->ends[i].others_same = 1;
}

/* Counts, over every other process of this session, the holders of each end of the pipes in `ends`. */
static void count_holders(struct pipe_end *ends, int n) {
  struct holders h = { ends, n };
  session_fds(&(struct fd_visitor){ visit_pipe, unreadable_pipe, &h });
}

void pipe_ends(char *spec, size_t cap) {
  struct pipe_end ends[3];
  int n = 0;
  spec[0] = 0;
  for (int fd = 0; fd <= 2; fd++) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
    ends[n++] = (struct pipe_end){ fd, fd == 0 ? 'r' : 'w', (unsigned long)st.st_ino, 0, 0, 0 };
  }
  if (n == 0) return;
  /* The shell closes its own copy of a pipe end just after forking the command that gets it;
   * the command can exec first. An end held besides only by the parent is looked at again
   * for a few ms (a group `{ a; b; } | c` holds it for good: those few ms are its cost). */
  for (int tries = 0;; tries++) {
    for (int i = 0; i < n; i++) ends[i].others_same = ends[i].others_opposite = ends[i].parent_same = 0;
    count_holders(ends, n);
    int parent_only = 0;
    for (int i = 0; i < n; i++) parent_only |= ends[i].others_same > 0 && ends[i].others_same == ends[i].parent_same;
    if (!parent_only || tries >= PARENT_CLOSE_TRIES) break;
    usleep(1000);
  }
  for (int i = 0; i < n; i++) {
    size_t used = strlen(spec);
    int joinable = ends[i].others_same == 0 && ends[i].others_opposite > 0;
    snprintf(spec + used, cap - used, "%s%d%c%lu%c", used ? " " : "", ends[i].fd, ends[i].dir, ends[i].ino, joinable ? 'x' : '-');
  }
}
