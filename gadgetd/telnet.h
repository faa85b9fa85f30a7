/* telnet: one TCP console client's protocol: RFC 854 telnet (via libtelnet) or raw bytes. */
#ifndef GD_TELNET_H
#define GD_TELNET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gd_telnet;

/* Growable byte buffer the session appends to; the owner consumes from the front. */
struct gd_telnet_buf {
	uint8_t *data;
	size_t len, cap;
};

/* A session; TELNET false = raw. The negotiation (telnet) goes into the session's output
 * buffer right away: IAC WILL ECHO, IAC WILL SGA, IAC DO SGA, in that order (character mode,
 * no local echo). Options accepted when the client asks: ECHO and SGA from us, SGA, BINARY
 * and NAWS (sizes ignored) from the client, BINARY from us; every other one is refused.
 * NULL on allocation failure. */
struct gd_telnet *gd_telnet_new(bool telnet);
void gd_telnet_free(struct gd_telnet *t);
/* Bytes from the client: the console data among them is appended to IN (telnet commands
 * answered into the output buffer). Unless the client sends BINARY, "CR NUL" and "CR LF"
 * arrive as a lone CR (Enter = CR, as a serial console wants). 0, -ENOMEM, or -EPROTO once
 * the client starts a compressed stream (MCCP, never offered): the session is over. */
int gd_telnet_from_client(struct gd_telnet *t, const uint8_t *data, size_t len,
                          struct gd_telnet_buf *in);
/* Console output for the client, escaped into the output buffer (0xFF as IAC IAC; nothing
 * else is translated). 0 or -ENOMEM. */
int gd_telnet_to_client(struct gd_telnet *t, const uint8_t *data, size_t len);
/* The bytes waiting to be sent to the client (negotiation, answers, escaped output). */
struct gd_telnet_buf *gd_telnet_output(struct gd_telnet *t);
/* Drops N sent bytes from the front of BUF. */
void gd_telnet_buf_consume(struct gd_telnet_buf *buf, size_t n);
void gd_telnet_buf_free(struct gd_telnet_buf *buf);
#endif
