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
#include <ctype.h>
#include <dirent.h>
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

/* The session of process PID (field 6 of /proc/PID/stat, after the command's parentheses). */
pid_t session_of(const char *pid) {
  char path[320], line[512];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t len = read(fd, line, sizeof line - 1);
  close(fd);
  if (len <= 0) return -1;
  line[len] = 0;
  char *end = strrchr(line, ')');
  int ppid, pgrp, session;
  char state;
  if (end == NULL || sscanf(end + 1, " %c %d %d %d", &state, &ppid, &pgrp, &session) != 4) return -1;
  return (pid_t)session;
}

/* Counts, over every other process of this session, the holders of each end of the pipes in `ends`. */
static void count_holders(struct pipe_end *ends, int n) {
  DIR *proc = opendir("/proc");
  if (proc == NULL) {
    for (int i = 0; i < n; i++) ends[i].others_same = 1;
    return;
  }
  char self[16], ppid[16];
  snprintf(self, sizeof self, "%d", getpid());
  snprintf(ppid, sizeof ppid, "%d", getppid());
  struct dirent *p;
  while ((p = readdir(proc)) != NULL) {
    if (!isdigit((unsigned char)p->d_name[0]) || strcmp(p->d_name, self) == 0 || session_of(p->d_name) != getsid(0)) continue;
    int parent = strcmp(p->d_name, ppid) == 0;
    char dir[288];
    snprintf(dir, sizeof dir, "/proc/%s/fd", p->d_name);
    DIR *fds = opendir(dir);
    if (fds == NULL) {
      /* Of this session but unreadable: it may hold anything. */
      for (int i = 0; i < n; i++) ends[i].others_same = 1;
      continue;
    }
    struct dirent *f;
    while ((f = readdir(fds)) != NULL) {
      if (f->d_name[0] == '.') continue;
      char link[576], target[64];
      snprintf(link, sizeof link, "%s/%s", dir, f->d_name);
      ssize_t len = readlink(link, target, sizeof target - 1);
      if (len <= 0) continue;
      target[len] = 0;
      unsigned long ino;
      if (sscanf(target, "pipe:[%lu]", &ino) != 1) continue;
      int writes = -2;
      for (int i = 0; i < n; i++) {
        if (ends[i].ino != ino) continue;
        if (writes == -2) writes = fd_writes(p->d_name, f->d_name);
        int same = writes < 0 || (writes == 1) == (ends[i].dir == 'w');
        if (same) ends[i].others_same++;
        if (same && parent) ends[i].parent_same++;
        if ((writes < 0 || !same) && !parent) ends[i].others_opposite++;
      }
    }
    closedir(fds);
  }
  closedir(proc);
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
