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
/* `mproxy-pty --spawner`. */
int spawner_main(void);
/* `mproxy-pty --watcher` (watcher.c). */
int watcher_main(void);

#endif
