/*
 * Fuzzes the RMCP/RMCP+ packet parser: each input is a sequence of datagrams (a 2-byte
 * little-endian length before each) given to gd_ipmi_lan_handle() in turn, so one input can
 * open a session, go through RAKP and send messages in it. The engine is the daemon's, with
 * operations that play a server: one user "fuzz" (password "fuzz-pw", admin), a power state,
 * a boot override in memory. To get past RAKP at all, a datagram whose first byte is 0xFF is
 * not sent: its next byte says which handshake message the harness builds itself from the
 * replies so far (an Open Session request, RAKP 1 or RAKP 3 with the right HMAC), or, when it
 * is 0xFF too, that the rest is an IPMI message to encrypt and sign as the session's client
 * would: the fuzzer's messages reach the command layer of a live session. Invariants: a reply is
 * never longer than the buffer, begins with an RMCP header, and an encrypted reply decrypts.
 */
#include <netinet/in.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "ipmi.h"
#include "log.h"

static struct gd_boot_override boot;

static int user_of(void *ctx, const char *name, char password[GD_IPMI_PASSWORD_MAX + 1],
                   enum gd_role *role)
{
	(void)ctx;
	if (strcmp(name, "fuzz") != 0)
		return -1;
	snprintf(password, GD_IPMI_PASSWORD_MAX + 1, "fuzz-pw");
	*role = GD_ROLE_ADMIN;
	return 0;
}

static int power_state(void *ctx)
{
	(void)ctx;
	return 1;
}

static unsigned chassis_control(void *ctx, unsigned action, const char *user)
{
	(void)ctx;
	(void)user;
	FUZZ_CHECK(action <= 5 && action != 4);
	return 0;
}

static int boot_get(void *ctx, struct gd_boot_override *out)
{
	(void)ctx;
	*out = boot;
	return 0;
}

static int boot_set(void *ctx, const struct gd_boot_override *value)
{
	(void)ctx;
	FUZZ_CHECK(value->target <= GD_BOOT_SETUP && value->enabled <= GD_BOOT_CONTINUOUS);
	boot = *value;
	return 0;
}

static struct gd_ipmi_lan *lan;
static uint64_t clock_ms;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	gd_log_set_level(GD_LOG_ERROR + (getenv("FUZZ_TRACE") ? 3 : 0));
	const struct gd_ipmi_ops ops = {user_of,  power_state, chassis_control,
	                                boot_get, boot_set,    NULL};
	static const uint8_t guid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	lan = gd_ipmi_lan_new(&ops, guid);
	FUZZ_CHECK(lan != NULL);
	return 0;
}

/* What the harness remembers of the handshake it plays, from the engine's replies. */
struct client {
	uint32_t console_id, bmc_id;
	uint8_t rm[16], rc[16], guid[16];
	bool sha256;
	uint8_t k1[32], k2[32];
	uint32_t seq;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An RMCP+ session-less packet of TYPE with PAYLOAD into OUT: its length. */
static size_t plain(uint8_t *out, uint8_t type, const uint8_t *payload, size_t len)
{
	const uint8_t h[16] = {0x06,
	                       0,
	                       0xff,
	                       0x07,
	                       0x06,
	                       type,
	                       0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       (uint8_t)len,
	                       (uint8_t)(len >> 8)};
	memcpy(out, h, 16);
	memcpy(out + 16, payload, len);
	return 16 + len;
}

static const EVP_MD *md(const struct client *c)
{
	return c->sha256 ? EVP_sha256() : EVP_sha1();
}

/* K1 and K2 as the client computes them, once RAKP 3 is sent. */
static void client_keys(struct client *c)
{
	uint8_t data[16 + 16 + 2 + 4], sik[32], k[20];
	unsigned n = 0, m = 0;
	memcpy(data, c->rm, 16);
	memcpy(data + 16, c->rc, 16);
	data[32] = 0x14;
	data[33] = 4;
	memcpy(data + 34, "fuzz", 4);
	HMAC(md(c), "fuzz-pw", 7, data, sizeof(data), sik, &n);
	memset(k, 1, sizeof(k));
	HMAC(md(c), sik, (int)n, k, sizeof(k), c->k1, &m);
	memset(k, 2, sizeof(k));
	HMAC(md(c), sik, (int)n, k, sizeof(k), c->k2, &m);
}

/* MSG (the fuzzer's plaintext IPMI message) in the session, encrypted and signed. */
static size_t in_session(struct client *c, const uint8_t *msg, size_t len, uint8_t *out)
{
	uint8_t plainbuf[96] = {0}, iv[16] = {7};
	len = len > 80 ? 80 : len;
	size_t pad = (16 - (len + 1) % 16) % 16;
	memcpy(plainbuf, msg, len);
	for (size_t i = 0; i < pad; i++)
		plainbuf[len + i] = (uint8_t)(i + 1);
	plainbuf[len + pad] = (uint8_t)pad;
	size_t clen = len + pad + 1;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;
	FUZZ_CHECK(ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, c->k2, iv) == 1 &&
	           EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	           EVP_EncryptUpdate(ctx, out + 32, &n, plainbuf, (int)clen) == 1);
	EVP_CIPHER_CTX_free(ctx);
	size_t plen = 16 + (size_t)n;
	const uint8_t h[16] = {0x06,
	                       0,
	                       0xff,
	                       0x07,
	                       0x06,
	                       0xc0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       0,
	                       (uint8_t)plen,
	                       (uint8_t)(plen >> 8)};
	memcpy(out, h, 16);
	put32(out + 6, c->bmc_id);
	put32(out + 10, ++c->seq);
	memcpy(out + 16, iv, 16);
	size_t at = 16 + plen;
	size_t ipad = (4 - (at - 4 + 2) % 4) % 4;
	memset(out + at, 0xff, ipad);
	at += ipad;
	out[at++] = (uint8_t)ipad;
	out[at++] = 0x07;
	uint8_t code[32];
	unsigned m = 0;
	HMAC(md(c), c->k1, c->sha256 ? 32 : 20, out + 4, at - 4, code, &m);
	memcpy(out + at, code, c->sha256 ? 16 : 12);
	return at + (c->sha256 ? 16 : 12);
}

/* The handshake message KIND (0: open session, 1: RAKP 1, 2: RAKP 3) from C, into OUT. */
static size_t handshake(struct client *c, uint8_t kind, uint8_t *out)
{
	uint8_t p[64] = {0};
	if ((kind & 0x03) % 3 == 0) {
		c->console_id = 0xa0a1a2a3;
		c->sha256 = kind & 0x10;
		put32(p + 4, c->console_id);
		const uint8_t algs[3] = {c->sha256 ? 3 : 1, c->sha256 ? 4 : 1, 1};
		for (int i = 0; i < 3; i++) {
			p[8 + 8 * i] = (uint8_t)i;
			p[11 + 8 * i] = 8;
			p[12 + 8 * i] = algs[i];
		}
		return plain(out, 0x10, p, 32);
	}
	if ((kind & 0x03) % 3 == 1) {
		put32(p + 4, c->bmc_id);
		memset(c->rm, 0x5a, 16);
		memcpy(p + 8, c->rm, 16);
		p[24] = 0x14;
		p[27] = 4;
		memcpy(p + 28, "fuzz", 4);
		return plain(out, 0x12, p, 32);
	}
	uint8_t data[16 + 4 + 2 + 4];
	memcpy(data, c->rc, 16);
	put32(data + 16, c->console_id);
	data[20] = 0x14;
	data[21] = 4;
	memcpy(data + 22, "fuzz", 4);
	unsigned n = 0;
	put32(p + 4, c->bmc_id);
	HMAC(md(c), "fuzz-pw", 7, data, sizeof(data), p + 8, &n);
	client_keys(c);
	return plain(out, 0x14, p, 8 + n);
}

/* Learns the session's ids and random numbers from the replies the handshake gets. */
static void learn(struct client *c, const uint8_t *r, size_t n)
{
	if (n < 16 || r[4] != 0x06)
		return;
	if (r[5] == 0x11 && n >= 16 + 36 && r[17] == 0)
		c->bmc_id = le32(r + 16 + 8);
	if (r[5] == 0x13 && n >= 16 + 40 && r[17] == 0) {
		memcpy(c->rc, r + 16 + 8, 16);
		memcpy(c->guid, r + 16 + 24, 16);
	}
}

static void check_reply(const uint8_t *r, size_t n, size_t max)
{
	FUZZ_CHECK(n <= max);
	if (n == 0)
		return;
	FUZZ_CHECK(n >= 5 && r[0] == 0x06 && r[3] == 0x07);
	if (r[4] == 0x06 && (r[5] & 0x80)) { /* encrypted: IV and whole blocks */
		size_t plen = (size_t)r[14] | (size_t)r[15] << 8;
		FUZZ_CHECK(plen >= 32 && (plen - 16) % 16 == 0 && 16 + plen <= n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client c = {0};
	struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = 0x3412};
	from.sin_addr.s_addr = 0x0100007f;
	uint8_t out[512], made[256];
	for (size_t off = 0; off + 2 <= size;) {
		size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (len > size - off)
			len = size - off;
		const uint8_t *pkt = data + off;
		off += len;
		if (len >= 2 && pkt[0] == 0xff && pkt[1] == 0xff) {
			len = in_session(&c, pkt + 2, len - 2, made); /* the rest, as a message */
			pkt = made;
		} else if (len >= 2 && pkt[0] == 0xff) {
			len = handshake(&c, pkt[1], made);
			pkt = made;
		}
		clock_ms += 10;
		size_t n = gd_ipmi_lan_handle(lan, pkt, len, (struct sockaddr *)&from, clock_ms,
		                              out, sizeof(out));
		check_reply(out, n, sizeof(out));
		if (getenv("FUZZ_TRACE"))
			fprintf(stderr, "datagram of %zu bytes: reply of %zu, type %02x\n", len, n,
			        n > 5 ? out[5] : 0);
		learn(&c, out, n);
	}
	clock_ms += 61000; /* every session of this input times out before the next */
	return 0;
}
