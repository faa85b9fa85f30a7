/* Unit tests of ws: hand-built client frames over a socketpair, server replies parsed here. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "ws.h"

#define MAX_MESSAGE 1024
#define TIMEOUT_MS  2000

enum {
	OP_CONT = 0x0,
	OP_TEXT = 0x1,
	OP_BINARY = 0x2,
	OP_CLOSE = 0x8,
	OP_PING = 0x9,
	OP_PONG = 0xa
};

static const uint8_t mask_key[4] = {0x37, 0xfa, 0x21, 0x3d};

struct fixture {
	int fds[2]; /* [0] the session's end, [1] the test's (the client) */
	struct gd_ws *ws;
	int delivered;
	uint8_t *msg;
	size_t msg_len;
};

/* A frame as the server sent it. */
struct frame {
	bool fin;
	bool masked;
	uint8_t opcode;
	int len_bits; /* 7, 16 or 64: the length form used */
	size_t len;
	uint8_t *payload; /* NUL-terminated; freed by the caller */
};

static void on_message(void *ctx, const uint8_t *data, size_t len)
{
	struct fixture *fx = ctx;
	fx->delivered++;
	free(fx->msg);
	fx->msg = malloc(len + 1);
	if (fx->msg == NULL)
		abort();
	memcpy(fx->msg, data, len);
	fx->msg_len = len;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	gd_ws_free(fx->ws);
	for (int i = 0; i < 2; i++) {
		if (fx->fds[i] >= 0)
			close(fx->fds[i]);
	}
	free(fx->msg);
	free(fx);
	return 0;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (fx == NULL)
		return -1;
	*state = fx;
	fx->fds[0] = fx->fds[1] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fx->fds) == 0 &&
	    fcntl(fx->fds[1], F_SETFL, O_NONBLOCK) == 0)
		fx->ws = gd_ws_new(fx->fds[0], MAX_MESSAGE, on_message, fx);
	if (fx->ws != NULL)
		return 0;
	teardown(state);
	return -1;
}

static void wait_for(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	if (poll(&pfd, 1, TIMEOUT_MS) != 1)
		fail_msg("socket not ready after %d ms", TIMEOUT_MS);
}

static void write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			wait_for(fd, POLLOUT);
			continue;
		}
		assert_true(n > 0);
		buf += n;
		len -= (size_t)n;
	}
}

/* Writes one client frame, masked with mask_key unless MASKED is false. */
static void client_frame(struct fixture *fx, bool fin, uint8_t opcode, bool masked,
                         const void *payload, size_t len)
{
	uint8_t *frame = malloc(len + 14);
	assert_non_null(frame);
	size_t n = 0;
	frame[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	uint8_t mask_bit = masked ? 0x80 : 0;
	if (len < 126) {
		frame[n++] = (uint8_t)(mask_bit | len);
	} else if (len <= 0xffff) {
		frame[n++] = mask_bit | 126;
		frame[n++] = (uint8_t)(len >> 8);
		frame[n++] = (uint8_t)len;
	} else {
		frame[n++] = mask_bit | 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			frame[n++] = (uint8_t)((uint64_t)len >> shift);
	}
	if (masked) {
		memcpy(frame + n, mask_key, 4);
		n += 4;
	}
	const uint8_t *p = payload;
	for (size_t i = 0; i < len; i++)
		frame[n++] = masked ? p[i] ^ mask_key[i % 4] : p[i];
	write_all(fx->fds[1], frame, n);
	free(frame);
}

static void client_close(struct fixture *fx, uint16_t code, const char *reason)
{
	uint8_t payload[125] = {(uint8_t)(code >> 8), (uint8_t)code};
	size_t len = strlen(reason);
	for (size_t i = 0; i < len; i++)
		payload[2 + i] = (uint8_t)reason[i];
	client_frame(fx, true, OP_CLOSE, true, payload, len + 2);
}

/* Reads N bytes the server sends, flushing its queue as the socket takes it. */
static void read_exact(struct fixture *fx, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		if (gd_ws_want_write(fx->ws))
			assert_int_equal(gd_ws_flush(fx->ws), 0);
		ssize_t r = recv(fx->fds[1], buf + got, n - got, 0);
		if (r == 0)
			fail_msg("the server closed the socket");
		if (r < 0 && errno == EAGAIN && !gd_ws_want_write(fx->ws))
			wait_for(fx->fds[1], POLLIN);
		else if (r < 0 && errno != EAGAIN)
			fail_msg("recv: %s", strerror(errno));
		else if (r > 0)
			got += (size_t)r;
	}
}

static void read_frame(struct fixture *fx, struct frame *f)
{
	uint8_t hdr[8];
	read_exact(fx, hdr, 2);
	f->fin = (hdr[0] & 0x80) != 0;
	assert_int_equal(hdr[0] & 0x70, 0); /* no RSV bits */
	f->opcode = hdr[0] & 0x0f;
	f->masked = (hdr[1] & 0x80) != 0;
	f->len = hdr[1] & 0x7f;
	f->len_bits = 7;
	if (f->len >= 126) {
		size_t ext = f->len == 126 ? 2 : 8;
		f->len_bits = f->len == 126 ? 16 : 64;
		read_exact(fx, hdr, ext);
		f->len = 0;
		for (size_t i = 0; i < ext; i++)
			f->len = (f->len << 8) | hdr[i];
	}
	uint8_t key[4] = {0};
	if (f->masked)
		read_exact(fx, key, 4);
	f->payload = malloc(f->len + 1);
	assert_non_null(f->payload);
	read_exact(fx, f->payload, f->len);
	for (size_t i = 0; f->masked && i < f->len; i++)
		f->payload[i] ^= key[i % 4];
	f->payload[f->len] = '\0';
}

/* The server's next frame is an unmasked close with CODE and REASON. */
static void expect_close(struct fixture *fx, uint16_t code, const char *reason)
{
	struct frame f;
	read_frame(fx, &f);
	assert_int_equal(f.opcode, OP_CLOSE);
	assert_true(f.fin);
	assert_false(f.masked);
	assert_true(f.len >= 2);
	assert_int_equal((f.payload[0] << 8) | f.payload[1], code);
	assert_string_equal((const char *)f.payload + 2, reason);
	free(f.payload);
}

/* The server has already put something on the wire, without a gd_ws_flush. */
static void expect_pending(struct fixture *fx)
{
	uint8_t byte;
	assert_int_equal(recv(fx->fds[1], &byte, 1, MSG_PEEK | MSG_DONTWAIT), 1);
}

/* The server has sent nothing (more). */
static void expect_silence(struct fixture *fx)
{
	uint8_t byte;
	ssize_t r = recv(fx->fds[1], &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	assert_int_equal(r, -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_accept_key(void **state)
{
	(void)state;
	char out[GD_WS_ACCEPT_LEN + 1];
	assert_int_equal(gd_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 section 1.3 */
	static const char *const bad[] = {
	    "",
	    "dGhlIHNhbXBsZSBub25jZQ=",   /* 23 chars */
	    "dGhlIHNhbXBsZSBub25jZQ==A", /* 25 chars */
	    "dGhlIHNhbXBsZSBub25jZQAA",  /* 18 bytes, not 16 */
	    "dGhlIHNhbXBsZSBub25jZQA=",  /* 17 bytes */
	    "dGhlIHNhbXBsZSBub2!jZQ==",  /* not base64 */
	    "dGhlIHNhbXBsZSBub2 jZQ==",  /* a space inside */
	    "dGhlIHNhbXBsZSBub25j====",  /* 15 bytes */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gd_ws_accept_key(bad[i], out) != -EINVAL)
			fail_msg("key '%s' was accepted", bad[i]);
	}
	assert_int_equal(gd_ws_accept_key(NULL, out), -EINVAL);
}

static void test_binary_message(void **state)
{
	struct fixture *fx = *state;
	uint8_t data[300];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	client_frame(fx, true, OP_BINARY, true, data, sizeof(data));
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_int_equal(fx->delivered, 1);
	assert_int_equal(fx->msg_len, sizeof(data));
	assert_memory_equal(fx->msg, data, sizeof(data));
	assert_false(gd_ws_done(fx->ws));
	assert_false(gd_ws_want_write(fx->ws));
	expect_silence(fx);
	/* An empty binary message is a message too. */
	client_frame(fx, true, OP_BINARY, true, "", 0);
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_int_equal(fx->delivered, 2);
	assert_int_equal(fx->msg_len, 0);
}

static void test_text_message(void **state)
{
	struct fixture *fx = *state;
	const char text[] = "h\xc3\xa9llo, w\xc3\xb6rld";
	client_frame(fx, true, OP_TEXT, true, text, strlen(text));
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_int_equal(fx->delivered, 1);
	assert_int_equal(fx->msg_len, strlen(text));
	assert_memory_equal(fx->msg, text, strlen(text));
}

static void test_fragments_with_ping(void **state)
{
	struct fixture *fx = *state;
	client_frame(fx, false, OP_TEXT, true, "Hello, ", 7);
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_int_equal(fx->delivered, 0);
	client_frame(fx, true, OP_PING, true, "ping-42", 7);
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_int_equal(fx->delivered, 0);
	expect_pending(fx); /* gd_ws_read answered at once */
	struct frame f;
	read_frame(fx, &f);
	assert_int_equal(f.opcode, OP_PONG);
	assert_true(f.fin);
	assert_false(f.masked);
	assert_int_equal(f.len, 7);
	assert_string_equal((const char *)f.payload, "ping-42");
	free(f.payload);
	client_frame(fx, false, OP_CONT, true, "frag", 4);
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_int_equal(fx->delivered, 0);
	client_frame(fx, true, OP_CONT, true, "mented!", 7);
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_int_equal(fx->delivered, 1);
	assert_int_equal(fx->msg_len, 18);
	assert_memory_equal(fx->msg, "Hello, fragmented!", 18);
	expect_silence(fx);
	assert_false(gd_ws_done(fx->ws));
}

static void test_unmasked_frame(void **state)
{
	struct fixture *fx = *state;
	client_frame(fx, true, OP_BINARY, false, "bare", 4);
	assert_int_equal(gd_ws_read(fx->ws), 0);
	expect_close(fx, 1002, "");
	assert_int_equal(fx->delivered, 0);
	assert_true(gd_ws_done(fx->ws));
	assert_int_equal(gd_ws_send(fx->ws, "x", 1), -ESHUTDOWN);
}

static void test_oversize_message(void **state)
{
	struct fixture *fx = *state;
	uint8_t *data = calloc(1, MAX_MESSAGE + 1);
	assert_non_null(data);
	client_frame(fx, true, OP_BINARY, true, data, MAX_MESSAGE); /* just fits */
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_int_equal(fx->delivered, 1);
	client_frame(fx, true, OP_BINARY, true, data, MAX_MESSAGE + 1);
	assert_int_equal(gd_ws_read(fx->ws), 0);
	free(data);
	expect_close(fx, 1009, "");
	assert_int_equal(fx->delivered, 1);
	assert_true(gd_ws_done(fx->ws));
	/* What the client still sends is discarded. */
	client_frame(fx, true, OP_BINARY, true, "late", 4);
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_int_equal(fx->delivered, 1);
}

static void test_oversize_in_fragments(void **state)
{
	struct fixture *fx = *state;
	uint8_t half[MAX_MESSAGE / 2 + 1] = {0};
	client_frame(fx, false, OP_BINARY, true, half, sizeof(half));
	client_frame(fx, true, OP_CONT, true, half, sizeof(half));
	assert_int_equal(gd_ws_read(fx->ws), 0);
	expect_close(fx, 1009, "");
	assert_int_equal(fx->delivered, 0);
	assert_true(gd_ws_done(fx->ws));
}

/* The server sends LEN bytes as one message; the client gets it whole in the expected form. */
static void expect_server_message(struct fixture *fx, size_t len, int len_bits)
{
	uint8_t *data = malloc(len);
	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i % 251);
	assert_int_equal(gd_ws_send(fx->ws, data, len), 0);
	assert_true(gd_ws_want_write(fx->ws));
	assert_int_equal(gd_ws_queued(fx->ws), len);
	struct frame f;
	read_frame(fx, &f);
	assert_int_equal(f.opcode, OP_BINARY);
	assert_true(f.fin);
	assert_false(f.masked);
	assert_int_equal(f.len_bits, len_bits);
	assert_int_equal(f.len, len);
	assert_memory_equal(f.payload, data, len);
	free(f.payload);
	free(data);
	assert_int_equal(gd_ws_queued(fx->ws), 0);
	assert_false(gd_ws_want_write(fx->ws));
}

static void test_server_messages(void **state)
{
	struct fixture *fx = *state;
	expect_server_message(fx, 125, 7);
	expect_server_message(fx, 126, 16);
	expect_server_message(fx, 65535, 16);
	expect_server_message(fx, 70000, 64);
	expect_silence(fx);
}

static void test_close_from_client(void **state)
{
	struct fixture *fx = *state;
	client_close(fx, 1000, "bye");
	assert_int_equal(gd_ws_read(fx->ws), 0);
	expect_close(fx, 1000, "bye");
	assert_true(gd_ws_done(fx->ws));
	assert_false(gd_ws_want_write(fx->ws));
	assert_int_equal(gd_ws_send(fx->ws, "x", 1), -ESHUTDOWN);
	assert_int_equal(gd_ws_close(fx->ws, 1000, NULL), -ESHUTDOWN);
	assert_int_equal(fx->delivered, 0);
}

static void test_close_from_server(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(gd_ws_close(fx->ws, 1005, NULL), -EINVAL);
	assert_int_equal(gd_ws_close(fx->ws, 999, NULL), -EINVAL);
	assert_int_equal(gd_ws_close(fx->ws, 1001, "shutting down"), 0);
	assert_int_equal(gd_ws_send(fx->ws, "x", 1), -ESHUTDOWN);
	expect_close(fx, 1001, "shutting down");
	assert_false(gd_ws_done(fx->ws)); /* until the client answers */
	client_close(fx, 1001, "");
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_true(gd_ws_done(fx->ws));
	expect_silence(fx);
	/* The client hangs up afterwards: reading says so. */
	close(fx->fds[1]);
	fx->fds[1] = -1;
	assert_int_equal(gd_ws_read(fx->ws), -ECONNRESET);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void test_ping_and_pong(void **state)
{
	struct fixture *fx = *state;
	uint64_t start = gd_ws_last_seen_ms(fx->ws);
	uint8_t big[126] = {0};
	assert_int_equal(gd_ws_ping(fx->ws, big, sizeof(big)), -EINVAL);
	assert_int_equal(gd_ws_ping(fx->ws, "hb-1", 4), 0);
	struct frame f;
	read_frame(fx, &f);
	assert_int_equal(f.opcode, OP_PING);
	assert_false(f.masked);
	assert_string_equal((const char *)f.payload, "hb-1");
	free(f.payload);
	sleep_ms(30);
	client_frame(fx, true, OP_PONG, true, "hb-1", 4);
	assert_int_equal(gd_ws_read(fx->ws), 0);
	assert_true(gd_ws_last_seen_ms(fx->ws) >= start + 30);
	assert_int_equal(fx->delivered, 0);
	expect_silence(fx);
}

static void test_peer_gone_on_read(void **state)
{
	struct fixture *fx = *state;
	close(fx->fds[1]);
	fx->fds[1] = -1;
	assert_int_equal(gd_ws_read(fx->ws), -ECONNRESET);
	assert_true(gd_ws_done(fx->ws));
	assert_false(gd_ws_want_write(fx->ws));
	assert_int_equal(gd_ws_send(fx->ws, "x", 1), -ESHUTDOWN);
	assert_int_equal(gd_ws_read(fx->ws), -ECONNRESET);
}

static void test_peer_gone_on_write(void **state)
{
	struct fixture *fx = *state;
	close(fx->fds[1]);
	fx->fds[1] = -1;
	assert_int_equal(gd_ws_send(fx->ws, "data", 4), 0);
	assert_int_equal(gd_ws_flush(fx->ws), -EPIPE);
	assert_true(gd_ws_done(fx->ws));
	assert_true(gd_ws_read(fx->ws) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accept_key),
	    cmocka_unit_test_setup_teardown(test_binary_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_text_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fragments_with_ping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unmasked_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversize_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversize_in_fragments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_from_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_from_server, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping_and_pong, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_gone_on_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_gone_on_write, setup, teardown),
	};
	return cmocka_run_group_tests_name("ws", tests, NULL, NULL);
}
