/* tracee.c: reading a traced process (mproxy-trace.c). */
#ifndef MPROXY_TRACEE_H
#define MPROXY_TRACEE_H

#include <stddef.h>
#include <sys/types.h>

/* A NUL-terminated string from the tracee at addr, at most cap-1 bytes; -1 if unreadable. */
int mp_read_string(pid_t pid, unsigned long addr, char *out, size_t cap);
/* The absolute path an exec of (dirfd, path, flags) names, seen from the tracee; -1 if unknown. */
int mp_resolve(pid_t pid, long dirfd, const char *path, long flags, char *out, size_t cap);
/* The process (thread group) of thread tid. */
pid_t mp_thread_group(pid_t tid);
const char *mp_base_name(const char *path);
/* The target of /proc/PID/WHAT (cwd, exe, fd/N); -1 if unreadable. */
int mp_proc_link(pid_t pid, const char *what, char *out, size_t cap);

#endif
