/* ws: one WebSocket session (RFC 6455) over a connected socket; framing by wslay. */
#include "ws.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>
#include <wslay/wslay.h>

#define KEY_LEN      24 /* base64 of the client's 16-byte nonce */
#define KEY_DATA_LEN 22 /* its characters before the "==" padding */
#define SHA1_LEN     20
#define MAX_REASON   123 /* a close frame's payload is at most 125 bytes, 2 for the code */
#define MAX_PING     125
/* Bytes one gd_ws_read takes at most, so a fast client cannot starve the owner's poll loop. */
#define READ_BUDGET ((size_t)256 * 1024)

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

struct gd_ws {
	wslay_event_context_ptr ctx;
	int fd;
	int err;     /* errno that ended the session, once failed */
	bool failed; /* a fatal error: nothing more is read or written */
	size_t read_budget;
	gd_ws_on_message on_message;
	void *on_message_ctx;
	uint64_t last_seen_ms;
	uint8_t *preload; /* bytes that came with the handshake, read before the socket */
	size_t preload_len, preload_off;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static bool is_nonce_key(const char *key)
{
	if (key == NULL || strnlen(key, KEY_LEN + 1) != KEY_LEN)
		return false;
	for (size_t i = 0; i < KEY_DATA_LEN; i++) {
		if (!is_base64_char(key[i]))
			return false;
	}
	return key[KEY_DATA_LEN] == '=' && key[KEY_DATA_LEN + 1] == '=';
}

int gd_ws_accept_key(const char *key, char out[GD_WS_ACCEPT_LEN + 1])
{
	if (!is_nonce_key(key))
		return -EINVAL;
	unsigned char text[KEY_LEN + sizeof(ws_guid) - 1];
	memcpy(text, key, KEY_LEN);
	memcpy(text + KEY_LEN, ws_guid, sizeof(ws_guid) - 1);
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	if (EVP_Digest(text, sizeof(text), digest, &digest_len, EVP_sha1(), NULL) != 1 ||
	    digest_len != SHA1_LEN)
		return -EIO;
	if (EVP_EncodeBlock((unsigned char *)out, digest, SHA1_LEN) != GD_WS_ACCEPT_LEN)
		return -EIO;
	return 0;
}

/* Marks the session failed with ERR (a positive errno); returns -ERR. */
static int fail(struct gd_ws *ws, int err)
{
	if (!ws->failed) {
		ws->failed = true;
		ws->err = err;
	}
	return -ws->err;
}

/* Fails the session after wslay returned R from recv or send. */
static int fail_wslay(struct gd_ws *ws, int r)
{
	if (ws->err != 0)
		return fail(ws, ws->err); /* what the socket said, kept by the callbacks */
	return fail(ws, r == WSLAY_ERR_NOMEM ? ENOMEM : EIO);
}

/* Tells wslay how the socket call failed: would block, or failed for good with ERR kept. */
static ssize_t io_error(struct gd_ws *ws, int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK) {
		wslay_event_set_error(ws->ctx, WSLAY_ERR_WOULDBLOCK);
	} else {
		ws->err = err;
		wslay_event_set_error(ws->ctx, WSLAY_ERR_CALLBACK_FAILURE);
	}
	return -1;
}

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user_data)
{
	(void)ctx;
	(void)flags;
	struct gd_ws *ws = user_data;
	if (ws->read_budget == 0)
		return io_error(ws, EAGAIN); /* the rest waits for the next POLLIN */
	if (len > ws->read_budget)
		len = ws->read_budget;
	if (ws->preload_off < ws->preload_len) {
		size_t n = ws->preload_len - ws->preload_off;
		n = n < len ? n : len;
		memcpy(buf, ws->preload + ws->preload_off, n);
		ws->preload_off += n;
		ws->read_budget -= n;
		return (ssize_t)n;
	}
	ssize_t n;
	do {
		n = recv(ws->fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return io_error(ws, ECONNRESET); /* the peer closed the connection */
	if (n < 0)
		return io_error(ws, errno);
	ws->read_budget -= (size_t)n;
	return n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user_data)
{
	(void)ctx;
	(void)flags;
	struct gd_ws *ws = user_data;
	ssize_t n;
	do {
		n = send(ws->fd, data, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return io_error(ws, errno);
	return n;
}

static void frame_start_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *user_data)
{
	(void)ctx;
	(void)arg;
	struct gd_ws *ws = user_data;
	ws->last_seen_ms = now_ms();
}

/* wslay answers pings and close frames itself; the owner gets data messages only. */
static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user_data)
{
	(void)ctx;
	struct gd_ws *ws = user_data;
	if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME)
		return;
	if (ws->on_message != NULL) {
		static const uint8_t empty[1];
		const uint8_t *data = arg->msg != NULL ? arg->msg : empty;
		ws->on_message(ws->on_message_ctx, data, arg->msg_length);
	}
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .genmask_callback = NULL, /* only clients mask */
    .on_frame_recv_start_callback = frame_start_cb,
    .on_msg_recv_callback = msg_cb,
};

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int gd_ws_preload(struct gd_ws *ws, const void *data, size_t len)
{
	uint8_t *copy = malloc(len);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, data, len);
	free(ws->preload);
	ws->preload = copy;
	ws->preload_len = len;
	ws->preload_off = 0;
	return 0;
}

struct gd_ws *gd_ws_new(int fd, size_t max_message, gd_ws_on_message on_message, void *ctx)
{
	struct gd_ws *ws = calloc(1, sizeof(*ws));
	if (ws == NULL)
		return NULL;
	ws->fd = fd;
	ws->on_message = on_message;
	ws->on_message_ctx = ctx;
	ws->last_seen_ms = now_ms();
	if (set_nonblocking(fd) < 0 ||
	    wslay_event_context_server_init(&ws->ctx, &callbacks, ws) != 0) {
		free(ws);
		return NULL;
	}
	wslay_event_config_set_max_recv_msg_length(ws->ctx, max_message);
	return ws;
}

void gd_ws_free(struct gd_ws *ws)
{
	if (ws == NULL)
		return;
	wslay_event_context_free(ws->ctx);
	free(ws->preload);
	free(ws);
}

/* Once wslay reads no more (close received or sent), what still comes is discarded. */
static int discard_input(struct gd_ws *ws)
{
	uint8_t buf[4096];
	size_t got = 0;
	while (got < READ_BUDGET) {
		ssize_t n = recv(ws->fd, buf, sizeof(buf), 0);
		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else
			return fail(ws, n == 0 ? ECONNRESET : errno);
	}
	return 0;
}

int gd_ws_read(struct gd_ws *ws)
{
	if (ws->failed)
		return -ws->err;
	if (!wslay_event_want_read(ws->ctx))
		return discard_input(ws);
	ws->read_budget = READ_BUDGET;
	wslay_event_set_error(ws->ctx, 0);
	int r = wslay_event_recv(ws->ctx);
	if (r != 0)
		return fail_wslay(ws, r);
	/* Pongs and close replies go out now if the socket takes them. */
	return wslay_event_want_write(ws->ctx) ? gd_ws_flush(ws) : 0;
}

static int queue_error(int r)
{
	switch (r) {
	case 0: return 0;
	case WSLAY_ERR_NO_MORE_MSG: return -ESHUTDOWN;
	case WSLAY_ERR_NOMEM: return -ENOMEM;
	case WSLAY_ERR_INVALID_ARGUMENT: return -EINVAL;
	default: return -EIO;
	}
}

static int queue(struct gd_ws *ws, uint8_t opcode, const void *data, size_t len)
{
	if (ws->failed)
		return -ESHUTDOWN;
	const struct wslay_event_msg msg = {.opcode = opcode, .msg = data, .msg_length = len};
	return queue_error(wslay_event_queue_msg(ws->ctx, &msg));
}

int gd_ws_send(struct gd_ws *ws, const void *data, size_t len)
{
	if (data == NULL && len > 0)
		return -EINVAL;
	return queue(ws, WSLAY_BINARY_FRAME, data, len);
}

int gd_ws_ping(struct gd_ws *ws, const void *payload, size_t len)
{
	if (len > MAX_PING || (payload == NULL && len > 0))
		return -EINVAL;
	return queue(ws, WSLAY_PING, payload, len);
}

/* Codes an endpoint may send (RFC 6455 7.4); 0 sends a close frame without a code. */
static bool is_sendable_code(uint16_t code)
{
	if (code == 0)
		return true;
	if (code < 1000 || code > 4999)
		return false;
	return code != 1004 && code != 1005 && code != 1006 && code != 1015;
}

int gd_ws_close(struct gd_ws *ws, uint16_t code, const char *reason)
{
	size_t reason_len = reason != NULL ? strnlen(reason, MAX_REASON + 1) : 0;
	if (!is_sendable_code(code) || reason_len > MAX_REASON)
		return -EINVAL;
	if (ws->failed)
		return -ESHUTDOWN;
	return queue_error(
	    wslay_event_queue_close(ws->ctx, code, (const uint8_t *)reason, reason_len));
}

int gd_ws_flush(struct gd_ws *ws)
{
	if (ws->failed)
		return -ws->err;
	wslay_event_set_error(ws->ctx, 0);
	int r = wslay_event_send(ws->ctx);
	if (r != 0)
		return fail_wslay(ws, r);
	return 0;
}

bool gd_ws_want_write(const struct gd_ws *ws)
{
	return !ws->failed && wslay_event_want_write(ws->ctx);
}

size_t gd_ws_queued(const struct gd_ws *ws)
{
	if (ws->failed)
		return 0;
	return wslay_event_get_queued_msg_length(ws->ctx);
}

bool gd_ws_done(const struct gd_ws *ws)
{
	return ws->failed || (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx));
}

uint64_t gd_ws_last_seen_ms(const struct gd_ws *ws)
{
	return ws->last_seen_ms;
}
