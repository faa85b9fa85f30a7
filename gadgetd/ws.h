/* ws: one WebSocket session (RFC 6455) over a connected socket; framing by wslay. */
#ifndef GD_WS_H
#define GD_WS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GD_WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */

struct gd_ws;

/* What the session hands to its owner: each complete message (text or binary) from the client. */
typedef void (*gd_ws_on_message)(void *ctx, const uint8_t *data, size_t len);

/* Sec-WebSocket-Accept for KEY (the client's Sec-WebSocket-Key) into OUT (NUL-terminated).
 * Returns 0, or -EINVAL when KEY is not a base64 16-byte nonce (24 chars). */
int gd_ws_accept_key(const char *key, char out[GD_WS_ACCEPT_LEN + 1]);

/* A session on FD (not owned: the caller closes it). Messages longer than MAX_MESSAGE are
 * refused with close code 1009. Returns NULL on allocation failure. */
struct gd_ws *gd_ws_new(int fd, size_t max_message, gd_ws_on_message on_message, void *ctx);
void gd_ws_free(struct gd_ws *ws);
/* Bytes the client sent right after its handshake: gd_ws_read() takes them first. 0/-ENOMEM. */
int gd_ws_preload(struct gd_ws *ws, const void *data, size_t len);

/* Reads what FD has (call when poll says POLLIN); answers pings, handles close. Returns 0, or
 * -errno when the connection failed (peer gone: -ECONNRESET/-EPIPE). */
int gd_ws_read(struct gd_ws *ws);
/* Queues DATA as one binary message. 0 or -errno (-ENOMEM, -ESHUTDOWN once closing). */
int gd_ws_send(struct gd_ws *ws, const void *data, size_t len);
/* Queues a ping with PAYLOAD (<=125 bytes). */
int gd_ws_ping(struct gd_ws *ws, const void *payload, size_t len);
/* Starts a clean close with CODE and REASON (may be NULL). */
int gd_ws_close(struct gd_ws *ws, uint16_t code, const char *reason);
/* Writes what is queued as far as FD takes it now (non-blocking socket). 0 or -errno. */
int gd_ws_flush(struct gd_ws *ws);
/* Whether queued output waits for POLLOUT. */
bool gd_ws_want_write(const struct gd_ws *ws);
/* Bytes queued but not yet written (so the owner can stop feeding a slow client). */
size_t gd_ws_queued(const struct gd_ws *ws);
/* Whether the session is over: close frames exchanged (or sent and peer gone), or error. */
bool gd_ws_done(const struct gd_ws *ws);
/* Time of the last frame received from the peer (CLOCK_MONOTONIC ms), for idle/pong checks. */
uint64_t gd_ws_last_seen_ms(const struct gd_ws *ws);
#endif
