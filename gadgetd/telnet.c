/* telnet: one TCP console client's protocol state: libtelnet session or raw pass-through. */
#include "telnet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libtelnet.h>

struct gd_telnet {
	telnet_t *tn; /* NULL in raw mode */
	struct gd_telnet_buf out;
	struct gd_telnet_buf *in; /* the caller's, during gd_telnet_from_client() only */
	int err;                  /* first -errno of the current call */
	bool client_binary;       /* the client sends BINARY (RFC 856): no NVT CR rules */
	bool after_cr;            /* the last console byte from the client was CR */
	bool compressed; /* the client started MCCP, never offered (libtelnet inflates it anyway) */
	int scan;        /* where the client's bytes are, for finding IAC SB COMPRESS2 */
};

enum { SCAN_DATA, SCAN_IAC, SCAN_OPTION, SCAN_SB };

/* What we do (us) and let the client do (him); libtelnet refuses the rest. */
static const telnet_telopt_t telopts[] = {
    {TELNET_TELOPT_BINARY, TELNET_WILL, TELNET_DO},
    {TELNET_TELOPT_ECHO, TELNET_WILL, TELNET_DONT},
    {TELNET_TELOPT_SGA, TELNET_WILL, TELNET_DO},
    {TELNET_TELOPT_NAWS, TELNET_WONT, TELNET_DO},
    {-1, 0, 0},
};

#define BUF_MIN_CAP 256

static int buf_reserve(struct gd_telnet_buf *buf, size_t more)
{
	if (buf->cap - buf->len >= more)
		return 0;
	size_t cap = buf->cap != 0 ? buf->cap : BUF_MIN_CAP;
	while (cap - buf->len < more) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	uint8_t *data = realloc(buf->data, cap);
	if (data == NULL)
		return -ENOMEM;
	buf->data = data;
	buf->cap = cap;
	return 0;
}

static int buf_append(struct gd_telnet_buf *buf, const uint8_t *data, size_t len)
{
	if (len == 0)
		return 0;
	int ret = buf_reserve(buf, len);
	if (ret < 0)
		return ret;
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	return 0;
}

static void note_err(struct gd_telnet *t, int ret)
{
	if (ret < 0 && t->err == 0)
		t->err = ret;
}

/* NVT: a CR from the client is followed by NUL or LF, which only say "just CR". */
static int deliver_nvt(struct gd_telnet *t, const uint8_t *data, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		bool drop = t->after_cr && (data[i] == '\0' || data[i] == '\n');
		t->after_cr = data[i] == '\r';
		if (!drop)
			continue;
		int ret = buf_append(t->in, data + start, i - start);
		if (ret < 0)
			return ret;
		start = i + 1;
	}
	return buf_append(t->in, data + start, len - start);
}

static int deliver(struct gd_telnet *t, const uint8_t *data, size_t len)
{
	if (t->in == NULL || t->compressed)
		return 0;
	if (t->client_binary) {
		t->after_cr = false;
		return buf_append(t->in, data, len);
	}
	return deliver_nvt(t, data, len);
}

/* Commands, subnegotiations (NAWS sizes) and libtelnet's warnings need nothing from us. */
static void on_event(telnet_t *tn, telnet_event_t *ev, void *user)
{
	struct gd_telnet *t = user;
	(void)tn;
	switch (ev->type) {
	case TELNET_EV_SEND:
		if (!t->compressed)
			note_err(t, buf_append(&t->out, (const uint8_t *)ev->data.buffer,
			                       ev->data.size));
		break;
	case TELNET_EV_DATA:
		note_err(t, deliver(t, (const uint8_t *)ev->data.buffer, ev->data.size));
		break;
	case TELNET_EV_WILL:
	case TELNET_EV_WONT:
		if (ev->neg.telopt == TELNET_TELOPT_BINARY)
			t->client_binary = ev->type == TELNET_EV_WILL;
		break;
	case TELNET_EV_COMPRESS:
		/* "IAC SB COMPRESS2 IAC SE" makes libtelnet inflate the rest, negotiated or not: a
		 * few KiB would become megabytes of console input. Drop it all, end the session. */
		if (ev->compress.state) {
			t->compressed = true;
			note_err(t, -EPROTO);
		}
		break;
	default: break;
	}
}

/* Character mode: we echo, nobody sends GA. */
static int negotiate(struct gd_telnet *t)
{
	t->err = 0;
	telnet_negotiate(t->tn, TELNET_WILL, TELNET_TELOPT_ECHO);
	telnet_negotiate(t->tn, TELNET_WILL, TELNET_TELOPT_SGA);
	telnet_negotiate(t->tn, TELNET_DO, TELNET_TELOPT_SGA);
	return t->err;
}

struct gd_telnet *gd_telnet_new(bool telnet)
{
	struct gd_telnet *t = calloc(1, sizeof(*t));
	if (t == NULL || !telnet)
		return t;
	t->tn = telnet_init(telopts, on_event, 0, t);
	if (t->tn == NULL || negotiate(t) < 0) {
		gd_telnet_free(t);
		return NULL;
	}
	return t;
}

void gd_telnet_free(struct gd_telnet *t)
{
	if (t == NULL)
		return;
	if (t->tn != NULL)
		telnet_free(t->tn);
	gd_telnet_buf_free(&t->out);
	free(t);
}

/*
 * How many of DATA's bytes come before a client's IAC SB COMPRESS2 (LEN: none). libtelnet
 * inflates whatever follows that, offered or not, and its inflater can be made to crash
 * (a NULL write when a nested stream ends): it must never see one.
 */
static size_t before_compress(struct gd_telnet *t, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = data[i];
		switch (t->scan) {
		case SCAN_IAC:
			t->scan = b == TELNET_SB                         ? SCAN_SB
			          : b >= TELNET_WILL && b <= TELNET_DONT ? SCAN_OPTION
			                                                 : SCAN_DATA;
			break;
		case SCAN_SB:
			if (b == TELNET_TELOPT_COMPRESS2)
				return i >= 2 ? i - 2 : 0;
			t->scan = SCAN_DATA; /* the option byte of some other subnegotiation */
			break;
		default: /* data, or the option byte of WILL, WONT, DO, DONT */
			t->scan = b == TELNET_IAC && t->scan == SCAN_DATA ? SCAN_IAC : SCAN_DATA;
		}
	}
	return len;
}

int gd_telnet_from_client(struct gd_telnet *t, const uint8_t *data, size_t len,
                          struct gd_telnet_buf *in)
{
	if (t->tn == NULL)
		return buf_append(in, data, len);
	if (t->compressed)
		return -EPROTO;
	size_t take = before_compress(t, data, len);
	t->err = 0;
	t->in = in;
	telnet_recv(t->tn, (const char *)data, take);
	t->in = NULL;
	if (take < len) {
		t->compressed = true;
		return -EPROTO;
	}
	return t->err;
}

int gd_telnet_to_client(struct gd_telnet *t, const uint8_t *data, size_t len)
{
	if (t->tn == NULL)
		return buf_append(&t->out, data, len);
	t->err = 0;
	telnet_send(t->tn, (const char *)data, len);
	return t->err;
}

struct gd_telnet_buf *gd_telnet_output(struct gd_telnet *t)
{
	return &t->out;
}

void gd_telnet_buf_consume(struct gd_telnet_buf *buf, size_t n)
{
	if (n >= buf->len) {
		buf->len = 0;
		return;
	}
	memmove(buf->data, buf->data + n, buf->len - n);
	buf->len -= n;
}

void gd_telnet_buf_free(struct gd_telnet_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}
