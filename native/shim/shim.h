/* The shim's parts shared between its files: the link to the broker, the terminal, signals. */
#ifndef MPROXY_SHIM_H
#define MPROXY_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>
#include "buf.h"

enum {
  F_REQUEST = 1, F_DATA = 2, F_EOF = 3, F_SIGNAL = 4, F_RESIZE = 5,
  F_LOCAL = 16, F_OUT = 17, F_OUT_EOF = 18, F_EXIT = 19, F_ERROR = 20, F_REMOTE = 21, F_SEEK = 22,
};

extern int sock, sig_read_fd;
extern struct buf out;
extern int have_tty;
/* Set once the broker said REMOTE: until then no input is read and the terminal is left alone. */
extern int remote;
extern struct termios saved_tty;

void fail(const char *what);
void catch_signals(void);
void ignored_signals(char *list, size_t size);
/* pipes.c: the pipe ends among fds 0-2 the broker may join on the remote ("0r123x 1w456-"). */
void pipe_ends(char *spec, size_t cap);
/* procs.c: the session of process PID ("123"), or -1. */
pid_t session_of(const char *pid);
/* What session_fds tells: each fd of every other process of this session (its link's target),
 * and each such process whose fds cannot be read (or 0 for all, when /proc cannot be). */
struct fd_visitor {
  void (*visit)(void *arg, const char *pid, const char *fd, const char *target, int parent);
  void (*unreadable)(void *arg, int parent);
  void *arg;
};
void session_fds(const struct fd_visitor *v);
/* files.c: the fds that are files of a FUSE mount, one line each ("1 w 0 -1 x /work/log"). */
void mount_files(char *spec, size_t cap);
void enter_raw(void);
void leave_raw(void);
void send_frame(uint8_t type, const void *a, size_t alen, const void *b, size_t blen);
void flush_out(int all);
void send_size(void);
void drain_signals(void);
void go_remote(void);
void go_local(void);
void write_all(int fd, const char *p, size_t n);
void finish(int32_t code, int sig);

#endif
