/*
 * Fuzzes the telnet console protocol (telnet.c over libtelnet): the input is what a TCP
 * console client sends. It is fed to one session at once (gd_telnet_from_client) and to another
 * in small pieces of 1 to 7 bytes, as TCP may cut it: both must deliver the same console bytes
 * and answer the same negotiation, or both end the session (-EPROTO) when the client starts a
 * compressed stream. A raw session must deliver the input unchanged. The input
 * is also sent to a client as console output (gd_telnet_to_client): after the negotiation,
 * the output must be the input with each 0xFF doubled (IAC IAC).
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "telnet.h"

#define IAC 255

static struct gd_telnet *session(bool telnet)
{
	struct gd_telnet *t = gd_telnet_new(telnet);
	FUZZ_CHECK(t != NULL);
	return t;
}

static bool same(const struct gd_telnet_buf *a, const struct gd_telnet_buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void from_client(const uint8_t *data, size_t size)
{
	struct gd_telnet *whole = session(true), *pieces = session(true);
	struct gd_telnet_buf in_whole = {0}, in_pieces = {0};
	int rc_whole = gd_telnet_from_client(whole, data, size, &in_whole), rc_pieces = 0;
	for (size_t off = 0, i = 0; off < size && rc_pieces == 0; i++) {
		size_t n = 1 + i % 7;
		if (n > size - off)
			n = size - off;
		rc_pieces = gd_telnet_from_client(pieces, data + off, n, &in_pieces);
		off += n;
	}
	/* -EPROTO: the client started a compressed stream (MCCP); the session is over. */
	FUZZ_CHECK(rc_whole == 0 || rc_whole == -EPROTO);
	FUZZ_CHECK(rc_pieces == rc_whole);
	if (rc_whole < 0) {
		struct gd_telnet_buf more = {0};
		FUZZ_CHECK(gd_telnet_from_client(whole, data, size, &more) == -EPROTO);
		FUZZ_CHECK(more.len == 0);
	}
	FUZZ_CHECK(in_whole.len <= size);
	/* A session ended by MCCP is cut at the command, wherever the reads split it: what came
	 * before in a protocol error that libtelnet reads differently when split may differ. */
	if (rc_whole == 0) {
		FUZZ_CHECK(same(&in_whole, &in_pieces));
		FUZZ_CHECK(same(gd_telnet_output(whole), gd_telnet_output(pieces)));
	}
	gd_telnet_buf_free(&in_whole);
	gd_telnet_buf_free(&in_pieces);
	gd_telnet_free(whole);
	gd_telnet_free(pieces);
}

static void raw(const uint8_t *data, size_t size)
{
	struct gd_telnet *t = session(false);
	struct gd_telnet_buf in = {0};
	FUZZ_CHECK(gd_telnet_from_client(t, data, size, &in) == 0);
	FUZZ_CHECK(in.len == size && (size == 0 || memcmp(in.data, data, size) == 0));
	FUZZ_CHECK(gd_telnet_output(t)->len == 0);
	gd_telnet_buf_free(&in);
	gd_telnet_free(t);
}

static void to_client(const uint8_t *data, size_t size)
{
	struct gd_telnet *t = session(true);
	struct gd_telnet_buf *out = gd_telnet_output(t);
	gd_telnet_buf_consume(out, out->len); /* the negotiation */
	FUZZ_CHECK(out->len == 0);
	FUZZ_CHECK(gd_telnet_to_client(t, data, size) == 0);
	size_t o = 0;
	for (size_t i = 0; i < size; i++) {
		FUZZ_CHECK(o < out->len && out->data[o++] == data[i]);
		if (data[i] == IAC)
			FUZZ_CHECK(o < out->len && out->data[o++] == IAC);
	}
	FUZZ_CHECK(o == out->len);
	/* The owner sends part of it, then the rest. */
	gd_telnet_buf_consume(out, out->len / 2);
	gd_telnet_buf_consume(out, out->len);
	FUZZ_CHECK(out->len == 0);
	gd_telnet_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	from_client(data, size);
	raw(data, size);
	to_client(data, size);
	return 0;
}
