/*
 * The other processes of this session and what their fds are (/proc/PID/fd links): what
 * pipes.c and files.c need to know whether anyone else holds an end of a pipe or a file.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

pid_t session_of(const char *pid) {
  char path[320], line[512];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t len = read(fd, line, sizeof line - 1);
  close(fd);
  if (len <= 0) return -1;
  line[len] = 0;
  /* Field 6, after the command's parentheses (which may hold anything). */
  char *end = strrchr(line, ')');
  int ppid, pgrp, session;
  char state;
  if (end == NULL || sscanf(end + 1, " %c %d %d %d", &state, &ppid, &pgrp, &session) != 4) return -1;
  return (pid_t)session;
}

void session_fds(const struct fd_visitor *v) {
  DIR *proc = opendir("/proc");
  if (proc == NULL) {
    v->unreadable(v->arg, 0);
    return;
  }
  char self[16], ppid[16];
  snprintf(self, sizeof self, "%d", getpid());
  snprintf(ppid, sizeof ppid, "%d", getppid());
  pid_t sid = getsid(0);
  struct dirent *p;
  while ((p = readdir(proc)) != NULL) {
    if (!isdigit((unsigned char)p->d_name[0]) || strcmp(p->d_name, self) == 0 || session_of(p->d_name) != sid) continue;
    int parent = strcmp(p->d_name, ppid) == 0;
    char dir[288];
    snprintf(dir, sizeof dir, "/proc/%s/fd", p->d_name);
    DIR *fds = opendir(dir);
    if (fds == NULL) {
      v->unreadable(v->arg, parent); /* of this session but unreadable: it may hold anything */
      continue;
    }
    struct dirent *f;
    while ((f = readdir(fds)) != NULL) {
      if (f->d_name[0] == '.') continue;
      char link[576], target[4096];
      snprintf(link, sizeof link, "%s/%s", dir, f->d_name);
      ssize_t len = readlink(link, target, sizeof target - 1);
      if (len <= 0) continue;
      target[len] = 0;
      v->visit(v->arg, p->d_name, f->d_name, target, parent);
    }
    closedir(fds);
  }
  closedir(proc);
}
