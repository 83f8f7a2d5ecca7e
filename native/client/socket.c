/*
 * Which file a PROFILE argument names — as src/profile/discover.ts and src/cli/profile-arg.ts
 * resolve it: a path (it has a slash or ends in .toml), else NAME.toml in the nearest .mproxy/
 * at or above the working directory (not above the git root), else for `local` the profile
 * embedded in mproxy — and where that profile's live session listens (src/util/live-socket.ts).
 * Anything this cannot resolve is left to the CLI, which says why.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

static int is_dir(const char *path) {
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path) {
	struct stat st;
	return stat(path, &st) == 0;
}

/* NAME.toml in the nearest .mproxy/: 1 found, 0 not there (or no .mproxy/ at all). */
static int find_named(const char *name, char out[PATH_MAX]) {
	char dir[PATH_MAX], candidate[PATH_MAX];
	if (getcwd(dir, sizeof dir) == NULL) return 0;
	for (;;) {
		if (snprintf(candidate, sizeof candidate, "%s/.mproxy", strcmp(dir, "/") == 0 ? "" : dir) >= (int)sizeof candidate) return 0;
		if (is_dir(candidate)) {
			char file[PATH_MAX];
			if (snprintf(file, sizeof file, "%s/%s.toml", candidate, name) >= (int)sizeof file) return 0;
			return exists(file) && realpath(file, out) != NULL;
		}
		if (snprintf(candidate, sizeof candidate, "%s/.git", dir) >= (int)sizeof candidate || exists(candidate)) return 0;
		char *slash = strrchr(dir, '/');
		if (slash == NULL || strcmp(dir, "/") == 0) return 0;
		if (slash == dir) slash[1] = '\0';
		else *slash = '\0';
	}
}

int resolve_profile(const char *arg, const char *main_js, char out[PATH_MAX]) {
	size_t len = strlen(arg);
	if (strchr(arg, '/') != NULL || (len >= 5 && strcmp(arg + len - 5, ".toml") == 0)) return realpath(arg, out) != NULL;
	if (find_named(arg, out)) return 1;
	if (strcmp(arg, "local") != 0) return 0;
	/* MAIN_JS is ROOT/dist/src/cli/main.js; the embedded profile is ROOT/profiles/local.toml. */
	char embedded[PATH_MAX];
	const char *slash = strrchr(main_js, '/');
	int dir_len = slash == NULL ? 1 : (int)(slash - main_js);
	if (snprintf(embedded, sizeof embedded, "%.*s/../../../profiles/local.toml", dir_len, slash == NULL ? "." : main_js) >=
	    (int)sizeof embedded)
		return 0;
	return realpath(embedded, out) != NULL;
}

/* FNV-1a, 64 bits, over the path's bytes: the socket's name. */
static uint64_t fnv1a64(const char *text) {
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

int socket_path(const char *profile, char out[sizeof(((struct sockaddr_un *)0)->sun_path)]) {
	char dir[PATH_MAX];
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (runtime != NULL && runtime[0] == '/') snprintf(dir, sizeof dir, "%s/mproxy", runtime);
	else snprintf(dir, sizeof dir, "/tmp/mproxy-%u", (unsigned)getuid());
	/* Only a directory of ours that nobody else can enter: the command's environment goes there. */
	struct stat st;
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) != 0) return 0;
	size_t size = sizeof(((struct sockaddr_un *)0)->sun_path);
	return snprintf(out, size, "%s/%016llx.sock", dir, (unsigned long long)fnv1a64(profile)) < (int)size;
}

int connect_live(const char *path) {
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return -1;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}
