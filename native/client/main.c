/* mproxy-client MAIN_JS ARGS...: ARGS as given to `mproxy`; MAIN_JS is the CLI to become. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

/* The full CLI, with the flags its bin gives node (src/cli/main.ts's first line). */
static void become_cli(char *main_js, int argc, char **args) {
	char **argv = calloc((size_t)argc + 4, sizeof *argv);
	if (argv == NULL) _exit(125);
	argv[0] = "node";
	argv[1] = "--initial-old-space-size=64";
	argv[2] = main_js;
	for (int i = 0; i < argc; i++) argv[3 + i] = args[i];
	execvp("node", argv);
	fprintf(stderr, "mproxy: error: cannot start node: %s\n  hint: install Node.js >= 20 and put it on PATH\n",
	        strerror(errno));
	_exit(125);
}

/* `exec [-t|-T] PROFILE [-t|-T] -- CMD...` and nothing else: any other flag is the CLI's to read. */
static int parse_exec(int argc, char **args, struct request *req) {
	if (argc < 1 || strcmp(args[0], "exec") != 0) return 0;
	req->tty = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = args[i];
		if (strcmp(a, "--") == 0) {
			if (req->profile_arg == NULL || i + 1 >= argc) return 0;
			req->argc = argc - i - 1;
			req->argv = args + i + 1;
			return 1;
		}
		if (strcmp(a, "-t") == 0 || strcmp(a, "--tty") == 0) req->tty = 1;
		else if (strcmp(a, "-T") == 0 || strcmp(a, "--no-tty") == 0) req->tty = 0;
		else if (a[0] == '-' || req->profile_arg != NULL) return 0;
		else req->profile_arg = a;
	}
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: mproxy-client MAIN_JS [ARGS...] (the mproxy bin runs it)\n");
		return 125;
	}
	char *main_js = argv[1];
	int n = argc - 2;
	char **args = argv + 2;
	struct request req = {0};
	const char *off = getenv("MPROXY_NO_SESSION");
	char profile[PATH_MAX];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if ((off != NULL && off[0] != '\0') || !parse_exec(n, args, &req) || !resolve_profile(req.profile_arg, main_js, profile) ||
	    !socket_path(profile, path))
		become_cli(main_js, n, args);
	int sock = connect_live(path);
	if (sock < 0) become_cli(main_js, n, args);
	return relay(sock, &req, profile, path);
}
