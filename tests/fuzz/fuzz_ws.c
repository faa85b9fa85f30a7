/*
 * Fuzzes the WebSocket session (ws.c over wslay): the input is what a client sends after its
 * handshake. The first third is handed over as the bytes that came with the handshake
 * (gd_ws_preload), the rest is written into the client's end of a socketpair, then that end
 * is shut down. gd_ws_read runs until the session is done, fails, or a bounded number of
 * rounds; every message is echoed back with gd_ws_send (as the console streams output), and
 * the server's frames are drained so that nothing blocks. Both ends are non-blocking.
 * The input is also tried as a Sec-WebSocket-Key (gd_ws_accept_key).
 *
 * Invariants: messages are at most MAX_MESSAGE bytes; once failed, gd_ws_read keeps failing
 * with the same error and queues nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "ws.h"

#define MAX_MESSAGE 1024
#define MAX_ROUNDS  64
#define MAX_ECHOES  16

struct session {
	struct gd_ws *ws;
	size_t messages;
};

static void on_message(void *ctx, const uint8_t *data, size_t len)
{
	struct session *s = ctx;
	FUZZ_CHECK(len <= MAX_MESSAGE);
	FUZZ_CHECK(data != NULL);
	if (len > 0) {
		volatile uint8_t ends = data[0] ^ data[len - 1]; /* both ends readable (ASan) */
		(void)ends;
	}
	if (s->messages++ < MAX_ECHOES)
		(void)gd_ws_send(s->ws, data, len);
}

/* Reads and drops what the server wrote to the client's end. */
static void drain(int fd)
{
	uint8_t buf[4096];
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void accept_key(const uint8_t *data, size_t size)
{
	char *key = fuzz_string(data, size);
	char out[GD_WS_ACCEPT_LEN + 1];
	memset(out, 'x', sizeof(out));
	if (gd_ws_accept_key(key, out) == 0) {
		FUZZ_CHECK(strnlen(out, sizeof(out)) == GD_WS_ACCEPT_LEN);
		FUZZ_CHECK(strlen(key) == 24);
	}
	free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	accept_key(data, size);

	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 ||
	    fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0)
		abort();
	struct session s = {0};
	s.ws = gd_ws_new(fds[0], MAX_MESSAGE, on_message, &s);
	FUZZ_CHECK(s.ws != NULL);

	size_t pre = size / 3;
	if (pre > 0)
		FUZZ_CHECK(gd_ws_preload(s.ws, data, pre) == 0);
	size_t off = pre;
	bool shut = false;
	int rc = 0;
	for (int round = 0; round < MAX_ROUNDS && !gd_ws_done(s.ws); round++) {
		if (off < size) {
			ssize_t n =
			    send(fds[1], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
		} else if (!shut) {
			shutdown(fds[1], SHUT_WR);
			shut = true;
		}
		rc = gd_ws_read(s.ws);
		if (rc == 0 && gd_ws_want_write(s.ws))
			rc = gd_ws_flush(s.ws);
		drain(fds[1]);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		/* A failed session stays failed, and takes nothing more. */
		FUZZ_CHECK(gd_ws_read(s.ws) == rc);
		FUZZ_CHECK(gd_ws_done(s.ws));
		FUZZ_CHECK(!gd_ws_want_write(s.ws));
		FUZZ_CHECK(gd_ws_queued(s.ws) == 0);
		FUZZ_CHECK(gd_ws_send(s.ws, "x", 1) < 0);
	} else {
		/* Still up: what the owner does when it leaves. */
		(void)gd_ws_ping(s.ws, "fuzz", 4);
		(void)gd_ws_close(s.ws, 1001, "going away");
		(void)gd_ws_flush(s.ws);
		drain(fds[1]);
	}
	(void)gd_ws_last_seen_ms(s.ws);
	gd_ws_free(s.ws);
	close(fds[0]);
	close(fds[1]);
	return 0;
}
