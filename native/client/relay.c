/*
 * The command over a live session: the hello, then stdin, signals and window sizes out, stdout,
 * stderr and the exit status in, as frames of [type: u8][length: u32 BE][payload] (the table is
 * in src/runner/live-exec.ts). The socket is read at all times; stdin only while what was read
 * of it has been sent, so a slow command holds back its input, never its output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

extern char **environ;

/* A session that does not say it started the command within this long is stuck. */
#define ACCEPT_DEADLINE_MS 10000
#define CHUNK 65536

struct buf {
	char *data;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len) {
	if (b->len + len > b->cap) {
		size_t cap = b->cap == 0 ? 4096 : b->cap;
		while (cap < b->len + len) cap *= 2;
		char *grown = realloc(b->data, cap);
		if (grown == NULL) {
			fprintf(stderr, "mproxy: error: out of memory\n");
			_exit(125);
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void put_frame(struct buf *b, char type, const void *data, size_t len) {
	unsigned char head[5] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
	                         (unsigned char)len};
	put(b, head, sizeof head);
	put(b, data, len);
}

static void put_field(struct buf *b, const char *text) {
	put(b, text, strlen(text) + 1);
}

static int signal_pipe[2] = {-1, -1};
static struct termios saved_termios;
static int raw = 0;

static void on_signal(int sig) {
	int saved = errno;
	unsigned char n = (unsigned char)sig;
	if (write(signal_pipe[1], &n, 1) < 0) { /* full: the signal was sent already */ }
	errno = saved;
}

static int finish(int status) {
	if (raw) tcsetattr(0, TCSADRAIN, &saved_termios);
	return status;
}

static int failure(const char *message, const char *path) {
	fprintf(stderr, "mproxy: error: %s\n  hint: the session is the `mproxy up`, `mount` or `forward` listening at %s;"
	        " set MPROXY_NO_SESSION=1 to connect afresh\n", message, path);
	return finish(125);
}

/* Writes all of it; 0 when the reader is gone (EPIPE). A non-blocking fd is waited on. */
static int write_all(int fd, const char *data, size_t len) {
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			poll(&p, 1, -1);
		} else if (n < 0 && errno != EINTR) {
			return 0;
		}
	}
	return 1;
}

static void window(int fd, unsigned short *cols, unsigned short *rows) {
	struct winsize ws;
	*cols = 80;
	*rows = 24;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* A decimal number at the start of a payload (payloads are not NUL-terminated). */
static int number_of(const char *body, size_t len) {
	int n = 0;
	for (size_t i = 0; i < len && body[i] >= '0' && body[i] <= '9' && n < 1000; i++) n = n * 10 + (body[i] - '0');
	return n;
}

static long long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hello(struct buf *out, const struct request *req, const char *profile, int tty, int term_fd) {
	struct buf h = {0};
	char number[32];
	unsigned short cols, rows;
	window(term_fd, &cols, &rows);
	const char *term = getenv("TERM");
	put_field(&h, "1");
	put_field(&h, profile);
	put_field(&h, tty ? "1" : "0");
	snprintf(number, sizeof number, "%u", cols);
	put_field(&h, number);
	snprintf(number, sizeof number, "%u", rows);
	put_field(&h, number);
	put_field(&h, term != NULL && term[0] != '\0' ? term : "xterm-256color");
	snprintf(number, sizeof number, "%d", req->argc);
	put_field(&h, number);
	for (int i = 0; i < req->argc; i++) put_field(&h, req->argv[i]);
	for (char **e = environ; *e != NULL; e++) put_field(&h, *e);
	put_frame(out, 'H', h.data, h.len);
	free(h.data);
}

static void watch_signals(void) {
	static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) _exit(125);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaction(forwarded[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int relay(int sock, const struct request *req, const char *profile, const char *path) {
	int tty = req->tty != 0 && isatty(0);
	int term_fd = isatty(1) ? 1 : 2;
	struct buf out = {0}, in = {0};
	watch_signals();
	hello(&out, req, profile, tty, term_fd);
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	int accepted = 0, stdin_open = 1, stdout_open = 1;
	long long deadline = now_ms() + ACCEPT_DEADLINE_MS;
	char chunk[CHUNK];
	for (;;) {
		struct pollfd p[3] = {
		    {.fd = sock, .events = POLLIN | (out.len > 0 ? POLLOUT : 0)},
		    {.fd = signal_pipe[0], .events = POLLIN},
		    {.fd = accepted && stdin_open && out.len < CHUNK ? 0 : -1, .events = POLLIN},
		};
		int wait = accepted ? -1 : (int)(deadline - now_ms());
		if (!accepted && wait <= 0) return failure("the live session did not start the command within 10 s", path);
		if (poll(p, 3, wait) < 0 && errno != EINTR) return failure(strerror(errno), path);
		if (p[1].revents & POLLIN) {
			unsigned char sig;
			while (read(signal_pipe[0], &sig, 1) == 1) {
				char text[16];
				if (sig == SIGWINCH) {
					if (!tty) continue;
					unsigned short cols, rows;
					window(term_fd, &cols, &rows);
					snprintf(text, sizeof text, "%u %u", cols, rows);
					put_frame(&out, 'W', text, strlen(text));
				} else {
					snprintf(text, sizeof text, "%d", sig);
					put_frame(&out, 'S', text, strlen(text));
				}
			}
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, chunk, sizeof chunk);
			if (n > 0) put_frame(&out, 'I', chunk, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				put_frame(&out, 'I', "", 0);
				stdin_open = 0;
			}
		}
		if ((p[0].revents & POLLOUT) && out.len > 0) {
			ssize_t n = send(sock, out.data, out.len, MSG_NOSIGNAL);
			if (n > 0) {
				memmove(out.data, out.data + n, out.len - (size_t)n);
				out.len -= (size_t)n;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return failure("the live session ended while the command ran", path);
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
		ssize_t n = read(sock, chunk, sizeof chunk);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
		if (n <= 0) return failure("the live session ended while the command ran", path);
		put(&in, chunk, (size_t)n);
		size_t at = 0;
		while (in.len - at >= 5) {
			const unsigned char *h = (const unsigned char *)in.data + at;
			size_t len = ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | h[4];
			if (in.len - at < 5 + len) break;
			const char *body = in.data + at + 5;
			at += 5 + len;
			switch (h[0]) {
			case 'A':
				accepted = 1;
				if (tty && tcgetattr(0, &saved_termios) == 0) {
					struct termios t = saved_termios;
					cfmakeraw(&t);
					raw = tcsetattr(0, TCSADRAIN, &t) == 0;
				}
				break;
			case 'O':
				if (stdout_open && !write_all(1, body, len)) {
					/* The reader left: the command gets SIGPIPE, as it would writing to it itself. */
					stdout_open = 0;
					char text[16];
					snprintf(text, sizeof text, "%d", SIGPIPE);
					put_frame(&out, 'S', text, strlen(text));
				}
				break;
			case 'E':
				write_all(2, body, len);
				break;
			case 'X':
				return finish(number_of(body, len));
			case 'F': {
				const char *text = memchr(body, '\0', len);
				finish(0);
				if (text != NULL) write_all(2, text + 1, len - (size_t)(text + 1 - body));
				return number_of(body, len);
			}
			default:
				return failure("the live session sent something this mproxy does not understand", path);
			}
		}
		memmove(in.data, in.data + at, in.len - at);
		in.len -= at;
	}
}
