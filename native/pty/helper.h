/* What the agent's native helper's two modes share (mproxy-pty.c, spawner.c). */
#ifndef MPROXY_HELPER_H
#define MPROXY_HELPER_H
#include <stddef.h>

/* The errno's name as Node spells it ("ENOENT"), EIO for the rest. */
const char *errno_name(int e);
/* Writes all of buf (EINTR retried); -1 when the fd fails. */
int write_all(int fd, const char *buf, size_t len);
/* A SIGCHLD handler that writes one byte to chld_pipe[1] (make it non-blocking), so a poll
 * loop on chld_pipe[0] learns a child changed state. */
extern int chld_pipe[2];
void on_chld(int sig);
/* Requests read from stdin and not yet taken (the spawner's and the watcher's). */
struct inbox { char *data; size_t len, cap; };
/* One read of stdin into `in`, grown as needed: 1 read, 0 stdin ended or failed, -1 interrupted. */
int inbox_read(struct inbox *in);
/* The first `used` bytes were taken. */
void inbox_drop(struct inbox *in, size_t used);
/* `mproxy-pty --spawner`. */
int spawner_main(void);
/* `mproxy-pty --watcher` (watcher.c). */
int watcher_main(void);

#endif
