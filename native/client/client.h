/*
 * mproxy-client: the bin's fast path for `mproxy exec PROFILE -- CMD...`. When an `mproxy up`,
 * `mount` or `forward` of the same profile file is running, the command runs over that live
 * connection (src/runner/live-session.ts serves it); otherwise — or for any form this client does
 * not handle itself — it becomes the full CLI in Node, as if it had never been here.
 */
#ifndef MPROXY_CLIENT_H
#define MPROXY_CLIENT_H

#include <limits.h>
#include <sys/un.h>

struct request {
	const char *profile_arg;
	/* -1: a pty when stdin is a terminal; 0: -T; 1: -t. */
	int tty;
	int argc;
	char **argv;
};

/* socket.c: the profile file's real path and its live session's socket, as util/live-socket.ts. */
int resolve_profile(const char *arg, const char *main_js, char out[PATH_MAX]);
int socket_path(const char *profile, char out[sizeof(((struct sockaddr_un *)0)->sun_path)]);
int connect_live(const char *path);

/* relay.c: the command over the session; returns the exit status to exit with. */
int relay(int sock, const struct request *req, const char *profile, const char *path);

#endif
