/*
 * ipmi_lan: the RMCP and RMCP+ session layer. IPMI 1.5 session-less requests (Get Channel
 * Authentication Capabilities, announcing 2.0), Get Channel Cipher Suites, Open Session,
 * RAKP 1-4 with cipher suites 3 (HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128) and 17 (HMAC-SHA256,
 * HMAC-SHA256-128, AES-CBC-128), integrity and confidentiality of every message of a session,
 * a sliding window against replays, Set Session Privilege Level and Close Session; the rest
 * goes to ipmi_cmd.c. Crypto is OpenSSL's. A bounded table of sessions, idle ones dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ipmi.h"
#include "ipmi_cmd.h"
#include "log.h"
#include "throttle.h"

#define LOG_PREFIX "IPMI: "

#define SESSIONS_MAX    16
#define SESSION_IDLE_MS 60000
#define REPLAY_WINDOW   32
#define HEADER_V2       16 /* RMCP (4) + the IPMI 2.0 session header (12) */
#define HEADER_V15      14 /* RMCP (4) + the IPMI 1.5 session header without AuthCode (10) */

enum payload {
	PAYLOAD_IPMI = 0x00,
	PAYLOAD_OPEN_REQ = 0x10,
	PAYLOAD_OPEN_RSP = 0x11,
	PAYLOAD_RAKP1 = 0x12,
	PAYLOAD_RAKP2 = 0x13,
	PAYLOAD_RAKP3 = 0x14,
	PAYLOAD_RAKP4 = 0x15,
};

enum { CMD_AUTH_CAPS = 0x38, CMD_SET_PRIV = 0x3b, CMD_CLOSE = 0x3c, CMD_CIPHER_SUITES = 0x54 };

/* RMCP+ status codes of Open Session and RAKP. */
enum {
	ST_OK = 0x00,
	ST_NO_RESOURCES = 0x01,
	ST_INVALID_SESSION = 0x02,
	ST_INVALID_ROLE = 0x09,
	ST_INVALID_NAME_LENGTH = 0x0c,
	ST_INVALID_ICV = 0x0f,
	ST_NO_SUITE = 0x11,
	ST_ILLEGAL = 0x12,
};

struct suite {
	uint8_t id;
	uint8_t auth, integrity, confidentiality; /* algorithm numbers */
	const char *md_name;                      /* the HMACs' hash */
	size_t icv_len;                           /* the integrity code's length on the wire */
};

static const struct suite suites[] = {
    {3, 0x01, 0x01, 0x01, "SHA1", 12},
    {17, 0x03, 0x04, 0x01, "SHA256", 16},
};

#define SUITES (sizeof(suites) / sizeof(suites[0]))

enum state { FREE, OPENED, RAKP2_SENT, ACTIVE };

struct session {
	enum state state;
	uint32_t id;         /* ours (SIDc): what the console puts in its packets */
	uint32_t console_id; /* the console's (SIDm): what we put in ours */
	const struct suite *suite;
	uint8_t max_priv; /* what the session may rise to */
	uint8_t priv;     /* what it has */
	uint8_t role_byte;
	uint8_t name_len;
	char name[GD_IPMI_NAME_MAX + 1];
	bool known; /* a user with a password (else a session that can never verify) */
	uint8_t kuid[GD_IPMI_PASSWORD_MAX];
	uint8_t rm[16], rc[16];
	uint8_t sik[32], k1[32], k2[32];
	uint32_t out_seq;
	uint32_t in_high, in_seen; /* the highest sequence number, and which of the 32 below came */
	uint64_t last_ms;
};

struct gd_ipmi_lan {
	struct gd_ipmi_ops ops;
	uint8_t guid[16];
	struct gd_throttle *throttle;
	struct session sessions[SESSIONS_MAX];
};

struct gd_ipmi_lan *gd_ipmi_lan_new(const struct gd_ipmi_ops *ops, const uint8_t guid[16])
{
	struct gd_ipmi_lan *lan = calloc(1, sizeof(*lan));
	if (lan == NULL)
		return NULL;
	lan->throttle = gd_throttle_new(1000, 30000, 15ULL * 60 * 1000);
	if (lan->throttle == NULL) {
		free(lan);
		return NULL;
	}
	lan->ops = *ops;
	memcpy(lan->guid, guid, 16);
	return lan;
}

void gd_ipmi_lan_free(struct gd_ipmi_lan *lan)
{
	if (lan == NULL)
		return;
	gd_throttle_free(lan->throttle);
	OPENSSL_cleanse(lan->sessions, sizeof(lan->sessions));
	free(lan);
}

/* ---- bytes ---- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

/* HMAC of the session's suite: its full length. */
static size_t hmac(const struct suite *s, const uint8_t *key, size_t keylen, const uint8_t *data,
                   size_t len, uint8_t out[32])
{
	unsigned outlen = 0;
	const EVP_MD *md = strcmp(s->md_name, "SHA1") == 0 ? EVP_sha1() : EVP_sha256();
	if (HMAC(md, key, (int)keylen, data, len, out, &outlen) == NULL)
		return 0;
	return outlen;
}

/* The length of the suite's keys (SIK, K1, K2): its hash's. */
static size_t key_len(const struct suite *s)
{
	return strcmp(s->md_name, "SHA1") == 0 ? 20 : 32;
}

static void address_text(const struct sockaddr *sa, char *buf, size_t len);

/* ---- the session table ---- */

static void drop(struct session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

static void expire(struct gd_ipmi_lan *lan, uint64_t now_ms)
{
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &lan->sessions[i];
		if (s->state != FREE && now_ms - s->last_ms > SESSION_IDLE_MS) {
			if (s->state == ACTIVE)
				GD_LOG_INFO("session %08x of '%s' timed out", s->id, s->name);
			drop(s);
		}
	}
}

static struct session *find(struct gd_ipmi_lan *lan, uint32_t id, enum state state)
{
	for (size_t i = 0; id != 0 && i < SESSIONS_MAX; i++)
		if (lan->sessions[i].state == state && lan->sessions[i].id == id)
			return &lan->sessions[i];
	return NULL;
}

static struct session *new_session(struct gd_ipmi_lan *lan)
{
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &lan->sessions[i];
		if (s->state != FREE)
			continue;
		do {
			if (RAND_bytes((uint8_t *)&s->id, sizeof(s->id)) != 1)
				return NULL;
		} while (s->id == 0 || find(lan, s->id, ACTIVE) || find(lan, s->id, OPENED) ||
		         find(lan, s->id, RAKP2_SENT));
		return s;
	}
	return NULL;
}

unsigned gd_ipmi_lan_sessions(struct gd_ipmi_lan *lan, uint64_t now_ms)
{
	unsigned n = 0;
	for (size_t i = 0; i < SESSIONS_MAX; i++)
		n += lan->sessions[i].state == ACTIVE &&
		     now_ms - lan->sessions[i].last_ms <= SESSION_IDLE_MS;
	return n;
}

/* Whether SEQ is new for S (a window of REPLAY_WINDOW below the highest), and notes it. */
static bool fresh(struct session *s, uint32_t seq)
{
	if (seq == 0)
		return false;
	if (seq > s->in_high) {
		uint32_t shift = seq - s->in_high;
		s->in_seen = shift >= REPLAY_WINDOW ? 0 : s->in_seen << shift;
		s->in_seen |= 1;
		s->in_high = seq;
		return true;
	}
	uint32_t back = s->in_high - seq;
	if (back >= REPLAY_WINDOW || (s->in_seen & (1u << back)))
		return false;
	s->in_seen |= 1u << back;
	return true;
}

/* ---- framing ---- */

struct frame {
	uint8_t *out;
	size_t max;
	size_t len;
};

static bool put(struct frame *f, const void *data, size_t len)
{
	if (len > f->max - f->len)
		return false;
	memcpy(f->out + f->len, data, len);
	f->len += len;
	return true;
}

/* An IPMI message answering REQ (its first 6 bytes) with CC and DATA. */
static size_t ipmi_response(const uint8_t *req, uint8_t cc, const uint8_t *data, size_t len,
                            uint8_t *out)
{
	out[0] = req[3];                                               /* rqAddr */
	out[1] = (uint8_t)((((req[1] >> 2) | 1) << 2) | (req[4] & 3)); /* netFn + 1, rqLUN */
	out[2] = checksum(out, 2);
	out[3] = req[0]; /* rsAddr */
	out[4] = (uint8_t)((req[4] & 0xfc) | (req[1] & 3));
	out[5] = req[5];
	out[6] = cc;
	memcpy(out + 7, data, len);
	out[7 + len] = checksum(out + 3, 4 + len);
	return 8 + len;
}

/* The RMCP+ header of an answer: session ID, sequence number, payload type. */
static void v2_header(struct frame *f, uint8_t type, uint32_t sid, uint32_t seq, size_t plen)
{
	uint8_t h[HEADER_V2] = {0x06, 0x00, 0xff, 0x07, 0x06, type};
	put32(h + 6, sid);
	put32(h + 10, seq);
	h[14] = (uint8_t)plen;
	h[15] = (uint8_t)(plen >> 8);
	put(f, h, sizeof(h));
}

/* A session-less RMCP+ payload (Open Session, RAKP). */
static size_t v2_plain(struct frame *f, uint8_t type, const uint8_t *payload, size_t len)
{
	v2_header(f, type, 0, 0, len);
	return put(f, payload, len) ? f->len : 0;
}

/* AES-CBC-128 with K2 over MSG, padded as IPMI pads: IV, then the ciphertext, into OUT. */
static size_t encrypt(const struct session *s, const uint8_t *msg, size_t len, uint8_t *out)
{
	uint8_t plain[320];
	size_t pad = (16 - (len + 1) % 16) % 16;
	if (len + pad + 1 > sizeof(plain) || RAND_bytes(out, 16) != 1)
		return 0;
	memcpy(plain, msg, len);
	for (size_t i = 0; i < pad; i++)
		plain[len + i] = (uint8_t)(i + 1);
	plain[len + pad] = (uint8_t)pad;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, s->k2, out) == 1 &&
	                EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	                EVP_EncryptUpdate(ctx, out + 16, &n, plain, (int)(len + pad + 1)) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 16 + (size_t)n : 0;
}

/* The plaintext of an encrypted payload (IV + ciphertext) into OUT: its length, or -1. */
static long decrypt(const struct session *s, const uint8_t *in, size_t len, uint8_t *out)
{
	if (len < 32 || (len - 16) % 16 != 0 || len - 16 > 320)
		return -1;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, s->k2, in) == 1 &&
	                EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	                EVP_DecryptUpdate(ctx, out, &n, in + 16, (int)(len - 16)) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok || n != (int)(len - 16))
		return -1;
	size_t pad = out[n - 1];
	if (pad > 15 || pad + 1 > (size_t)n)
		return -1;
	for (size_t i = 0; i < pad; i++)
		if (out[(size_t)n - 1 - pad + i] != i + 1)
			return -1;
	return (long)((size_t)n - 1 - pad);
}

/* A message of session S: encrypted and signed as its suite says. */
static size_t v2_session(struct frame *f, struct session *s, const uint8_t *msg, size_t len)
{
	uint8_t payload[352];
	size_t plen = encrypt(s, msg, len, payload);
	if (plen == 0)
		return 0;
	v2_header(f, PAYLOAD_IPMI | 0xc0, s->console_id, ++s->out_seq, plen);
	put(f, payload, plen);
	size_t pad = (4 - (f->len - 4 + 2) % 4) % 4;
	static const uint8_t ff[4] = {0xff, 0xff, 0xff, 0xff};
	const uint8_t tail[2] = {(uint8_t)pad, 0x07};
	if (!put(f, ff, pad) || !put(f, tail, 2))
		return 0;
	uint8_t code[32];
	if (hmac(s->suite, s->k1, key_len(s->suite), f->out + 4, f->len - 4, code) == 0)
		return 0;
	return put(f, code, s->suite->icv_len) ? f->len : 0;
}

/* ---- session setup ---- */

static const struct suite *choose(const uint8_t *p, size_t len, uint8_t *status)
{
	uint8_t want[3] = {0xff, 0xff, 0xff}; /* 0xff: any */
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *a = p + 8 + 8 * i;
		if (8 + 8 * (i + 1) > len || a[0] != i) {
			*status = ST_ILLEGAL;
			return NULL;
		}
		if (a[3] != 0)
			want[i] = a[4] & 0x3f;
	}
	for (size_t i = 0; i < SUITES; i++) {
		const struct suite *s = &suites[i];
		if ((want[0] == 0xff || want[0] == s->auth) &&
		    (want[1] == 0xff || want[1] == s->integrity) &&
		    (want[2] == 0xff || want[2] == s->confidentiality))
			return s;
	}
	*status = ST_NO_SUITE;
	return NULL;
}

static size_t open_session(struct gd_ipmi_lan *lan, const uint8_t *p, size_t len, uint64_t now,
                           struct frame *f)
{
	if (len < 32)
		return 0;
	uint8_t rsp[36] = {p[0]};
	memcpy(rsp + 4, p + 4, 4); /* the console's session ID */
	uint8_t status = ST_OK;
	const struct suite *suite = choose(p, len, &status);
	struct session *s = suite ? new_session(lan) : NULL;
	if (suite != NULL && s == NULL)
		status = ST_NO_RESOURCES;
	uint8_t priv = p[1] & 0x0f;
	if (s != NULL && priv > GD_IPMI_PRIV_ADMIN)
		status = ST_INVALID_ROLE;
	rsp[1] = status;
	if (status != ST_OK)
		return v2_plain(f, PAYLOAD_OPEN_RSP, rsp, 8);
	s->state = OPENED;
	s->console_id = le32(p + 4);
	s->suite = suite;
	s->last_ms = now;
	rsp[2] = priv ? priv : GD_IPMI_PRIV_ADMIN;
	put32(rsp + 8, s->id);
	const uint8_t algs[3] = {suite->auth, suite->integrity, suite->confidentiality};
	for (size_t i = 0; i < 3; i++) {
		uint8_t *a = rsp + 12 + 8 * i;
		a[0] = (uint8_t)i;
		a[3] = 8;
		a[4] = algs[i];
	}
	return v2_plain(f, PAYLOAD_OPEN_RSP, rsp, sizeof(rsp));
}

static uint8_t role_priv(enum gd_role role)
{
	return role == GD_ROLE_ADMIN      ? GD_IPMI_PRIV_ADMIN
	       : role == GD_ROLE_OPERATOR ? GD_IPMI_PRIV_OPERATOR
	                                  : GD_IPMI_PRIV_USER;
}

/* Looks the user of RAKP1 up: a name with no password gets a key nobody knows, so that
 * RAKP 2 tells no one which names exist; RAKP 3 then fails as for a wrong password. */
static void take_user(struct gd_ipmi_lan *lan, struct session *s, uint8_t requested)
{
	char password[GD_IPMI_PASSWORD_MAX + 1] = "";
	enum gd_role role = GD_ROLE_VIEWER;
	s->known = s->name_len > 0 && lan->ops.user(lan->ops.ctx, s->name, password, &role) == 0;
	if (s->known)
		memcpy(s->kuid, password, strlen(password));
	else if (RAND_bytes(s->kuid, sizeof(s->kuid)) != 1)
		s->known = false;
	OPENSSL_cleanse(password, sizeof(password));
	uint8_t limit = role_priv(role);
	s->max_priv = requested && requested < limit ? requested : limit;
}

static size_t rakp1(struct gd_ipmi_lan *lan, const uint8_t *p, size_t len,
                    const struct sockaddr *from, uint64_t now, struct frame *f)
{
	if (len < 28)
		return 0;
	struct session *s = find(lan, le32(p + 4), OPENED);
	uint8_t rsp[8 + 32 + 32] = {p[0]};
	if (s == NULL) {
		rsp[1] = ST_INVALID_SESSION;
		return v2_plain(f, PAYLOAD_RAKP2, rsp, 8);
	}
	put32(rsp + 4, s->console_id);
	uint8_t name_len = p[27], requested = p[24] & 0x0f;
	if (name_len > GD_IPMI_NAME_MAX || 28u + name_len > len || requested > GD_IPMI_PRIV_ADMIN) {
		rsp[1] = name_len > GD_IPMI_NAME_MAX ? ST_INVALID_NAME_LENGTH : ST_INVALID_ROLE;
		drop(s);
		return v2_plain(f, PAYLOAD_RAKP2, rsp, 8);
	}
	if (gd_throttle_wait_ms(lan->throttle, from, now) > 0) {
		drop(s); /* an address that failed lately: no answer, no work */
		return 0;
	}
	memcpy(s->rm, p + 8, 16);
	s->role_byte = p[24];
	s->name_len = name_len;
	memcpy(s->name, p + 28, name_len);
	s->name[name_len] = '\0';
	if (strlen(s->name) != name_len)
		s->name_len = 0; /* a NUL in the name: no such user */
	take_user(lan, s, requested);
	if (RAND_bytes(s->rc, 16) != 1)
		return 0;
	/* SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENGTHm, UNAMEm */
	uint8_t data[4 + 4 + 16 + 16 + 16 + 2 + GD_IPMI_NAME_MAX];
	put32(data, s->console_id);
	put32(data + 4, s->id);
	memcpy(data + 8, s->rm, 16);
	memcpy(data + 24, s->rc, 16);
	memcpy(data + 40, lan->guid, 16);
	data[56] = s->role_byte;
	data[57] = name_len;
	memcpy(data + 58, p + 28, name_len);
	memcpy(rsp + 8, s->rc, 16);
	memcpy(rsp + 24, lan->guid, 16);
	size_t n = hmac(s->suite, s->kuid, strnlen((char *)s->kuid, sizeof(s->kuid)), data,
	                58u + name_len, rsp + 40);
	s->state = RAKP2_SENT;
	s->last_ms = now;
	return n ? v2_plain(f, PAYLOAD_RAKP2, rsp, 40 + n) : 0;
}

/* SIK, K1 and K2 of S once RAKP 3 is verified. */
static void derive_keys(struct session *s)
{
	size_t keylen = strnlen((char *)s->kuid, sizeof(s->kuid));
	uint8_t data[16 + 16 + 2 + GD_IPMI_NAME_MAX], c[20];
	memcpy(data, s->rm, 16);
	memcpy(data + 16, s->rc, 16);
	data[32] = s->role_byte;
	data[33] = s->name_len;
	memcpy(data + 34, s->name, s->name_len);
	size_t n = hmac(s->suite, s->kuid, keylen, data, 34u + s->name_len, s->sik);
	/* The constants are 20 bytes for every suite (FreeIPMI and ipmitool agree). */
	memset(c, 0x01, sizeof(c));
	hmac(s->suite, s->sik, n, c, 20, s->k1);
	memset(c, 0x02, sizeof(c));
	hmac(s->suite, s->sik, n, c, 20, s->k2);
}

/* A login that failed: logged with the address, which waits longer before its next RAKP. */
static void fail(struct gd_ipmi_lan *lan, struct session *s, const struct sockaddr *from,
                 uint64_t now, const char *why)
{
	char addr[64];
	address_text(from, addr, sizeof(addr));
	uint64_t wait = gd_throttle_fail(lan->throttle, from, now);
	GD_LOG_WARN("user '%s' from %s: %s (its next try in %llu ms at the soonest)", s->name, addr,
	            why, (unsigned long long)wait);
	drop(s);
}

static size_t rakp3(struct gd_ipmi_lan *lan, const uint8_t *p, size_t len,
                    const struct sockaddr *from, uint64_t now, struct frame *f)
{
	if (len < 8)
		return 0;
	struct session *s = find(lan, le32(p + 4), RAKP2_SENT);
	uint8_t rsp[8 + 16] = {p[0]};
	if (s == NULL) {
		rsp[1] = ST_INVALID_SESSION;
		return v2_plain(f, PAYLOAD_RAKP4, rsp, 8);
	}
	put32(rsp + 4, s->console_id);
	if (p[1] != ST_OK) {
		/* The console could not verify RAKP 2: its password is not the user's. */
		fail(lan, s, from, now, "its client found the password wrong");
		return 0;
	}
	/* Rc, SIDm, ROLEm, ULENGTHm, UNAMEm */
	uint8_t data[16 + 4 + 2 + GD_IPMI_NAME_MAX], want[32];
	memcpy(data, s->rc, 16);
	put32(data + 16, s->console_id);
	data[20] = s->role_byte;
	data[21] = s->name_len;
	memcpy(data + 22, s->name, s->name_len);
	size_t n = hmac(s->suite, s->kuid, strnlen((char *)s->kuid, sizeof(s->kuid)), data,
	                22u + s->name_len, want);
	if (n == 0 || len != 8 + n || !s->known || CRYPTO_memcmp(p + 8, want, n) != 0) {
		fail(lan, s, from, now, "wrong password or no such IPMI user");
		rsp[1] = ST_INVALID_ICV;
		return v2_plain(f, PAYLOAD_RAKP4, rsp, 8);
	}
	derive_keys(s);
	/* Rm, SIDc, GUIDc */
	uint8_t icv[16 + 4 + 16], code[32];
	memcpy(icv, s->rm, 16);
	put32(icv + 16, s->id);
	memcpy(icv + 20, lan->guid, 16);
	n = hmac(s->suite, s->sik, key_len(s->suite), icv, sizeof(icv), code);
	memcpy(rsp + 8, code, s->suite->icv_len);
	s->state = ACTIVE;
	s->priv = s->max_priv < GD_IPMI_PRIV_USER ? s->max_priv : GD_IPMI_PRIV_USER;
	s->last_ms = now;
	char addr[64];
	address_text(from, addr, sizeof(addr));
	GD_LOG_INFO("session %08x: user '%s' from %s (cipher suite %u, up to privilege %u)", s->id,
	            s->name, addr, s->suite->id, s->max_priv);
	return n ? v2_plain(f, PAYLOAD_RAKP4, rsp, 8 + s->suite->icv_len) : 0;
}

/* ---- messages ---- */

/* The commands of the session layer; others go to ipmi_cmd.c. */
static unsigned session_cmd(struct gd_ipmi_lan *lan, struct session *s,
                            const struct gd_ipmi_request *rq, uint8_t *rsp, size_t *rsplen,
                            bool *close)
{
	(void)lan;
	*rsplen = 0;
	if (rq->netfn != GD_IPMI_NETFN_APP)
		return GD_IPMI_CC_INVALID_CMD;
	if (rq->cmd == CMD_AUTH_CAPS) {
		if (rq->len != 2)
			return GD_IPMI_CC_BAD_LENGTH;
		/* Channel 1; IPMI 2.0 extended data; non-null user names; 2.0 connections. */
		static const uint8_t caps[] = {0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0};
		memcpy(rsp, caps, sizeof(caps));
		*rsplen = sizeof(caps);
		return GD_IPMI_CC_OK;
	}
	if (rq->cmd == CMD_CIPHER_SUITES) {
		if (rq->len != 3)
			return GD_IPMI_CC_BAD_LENGTH;
		uint8_t records[5 * SUITES];
		for (size_t i = 0; i < SUITES; i++) {
			const uint8_t r[5] = {0xc0, suites[i].id, suites[i].auth,
			                      (uint8_t)(0x40 | suites[i].integrity),
			                      (uint8_t)(0x80 | suites[i].confidentiality)};
			memcpy(records + 5 * i, r, 5);
		}
		/* 16 bytes of the records a time, from index (0-63) * 16; past them, none. */
		size_t start = (size_t)(rq->data[2] & 0x3f) * 16;
		size_t n = start >= sizeof(records) ? 0 : sizeof(records) - start;
		n = n > 16 ? 16 : n;
		rsp[0] = 0x01;
		if (n > 0)
			memcpy(rsp + 1, records + start, n);
		*rsplen = 1 + n;
		return GD_IPMI_CC_OK;
	}
	if (s == NULL)
		return GD_IPMI_CC_PRIVILEGE; /* nothing else before a session */
	if (rq->cmd == CMD_SET_PRIV) {
		if (rq->len != 1)
			return GD_IPMI_CC_BAD_LENGTH;
		uint8_t want = rq->data[0] & 0x0f;
		if (want > GD_IPMI_PRIV_ADMIN || want == 1)
			return GD_IPMI_CC_BAD_DATA;
		if (want > s->max_priv)
			return 0x81; /* not available to this user */
		if (want != 0)
			s->priv = want;
		rsp[0] = s->priv;
		*rsplen = 1;
		return GD_IPMI_CC_OK;
	}
	if (rq->cmd == CMD_CLOSE) {
		if (rq->len < 4)
			return GD_IPMI_CC_BAD_LENGTH;
		if (le32(rq->data) != s->id)
			return 0x87; /* invalid session ID */
		*close = true;
		return GD_IPMI_CC_OK;
	}
	return GD_IPMI_CC_INVALID_CMD;
}

static bool session_command(uint8_t netfn, uint8_t cmd)
{
	return netfn == GD_IPMI_NETFN_APP && (cmd == CMD_AUTH_CAPS || cmd == CMD_CIPHER_SUITES ||
	                                      cmd == CMD_SET_PRIV || cmd == CMD_CLOSE);
}

/* An IPMI message (MSG, LEN bytes, checksums checked) into its answer in OUT; 0 to drop it. */
static size_t message(struct gd_ipmi_lan *lan, struct session *s, const uint8_t *msg, size_t len,
                      uint8_t *out, bool *close)
{
	if (len < 7 || len > 256 || checksum(msg, 2) != msg[2] ||
	    checksum(msg + 3, len - 4) != msg[len - 1])
		return 0;
	struct gd_ipmi_request rq = {.netfn = (uint8_t)(msg[1] >> 2),
	                             .cmd = msg[5],
	                             .data = msg + 6,
	                             .len = len - 7,
	                             .priv = s ? s->priv : 0,
	                             .user = s ? s->name : ""};
	if (rq.netfn & 1)
		return 0; /* a response */
	uint8_t rsp[32];
	size_t rsplen = 0;
	unsigned cc = session_command(rq.netfn, rq.cmd)
	                  ? session_cmd(lan, s, &rq, rsp, &rsplen, close)
	              : s != NULL ? gd_ipmi_cmd(&lan->ops, &rq, rsp, &rsplen)
	                          : GD_IPMI_CC_PRIVILEGE;
	return ipmi_response(msg, (uint8_t)cc, rsp, rsplen, out);
}

/* Checks the integrity trailer of a session's packet: the payload's length, or -1. */
static long verify(const struct session *s, const uint8_t *in, size_t len, size_t plen)
{
	size_t icv = s->suite->icv_len;
	if (len < HEADER_V2 + plen + 2 + icv || in[len - icv - 1] != 0x07)
		return -1;
	size_t pad = in[len - icv - 2];
	if (HEADER_V2 + plen + pad + 2 + icv != len || (len - icv - 4) % 4 != 0)
		return -1;
	uint8_t code[32];
	if (hmac(s->suite, s->k1, key_len(s->suite), in + 4, len - icv - 4, code) == 0 ||
	    CRYPTO_memcmp(code, in + len - icv, icv) != 0)
		return -1;
	return (long)plen;
}

static size_t v2(struct gd_ipmi_lan *lan, const uint8_t *in, size_t len,
                 const struct sockaddr *from, uint64_t now, struct frame *f)
{
	if (len < HEADER_V2)
		return 0;
	uint8_t type = in[5];
	uint32_t sid = le32(in + 6), seq = le32(in + 10);
	size_t plen = (size_t)in[14] | (size_t)in[15] << 8;
	if (HEADER_V2 + plen > len)
		return 0;
	const uint8_t *payload = in + HEADER_V2;
	uint8_t msg[320], answer[64]; /* msg: what decrypt() may give */
	bool close = false;
	if (sid == 0) {
		if (type & 0xc0)
			return 0;
		switch (type) {
		case PAYLOAD_OPEN_REQ: return open_session(lan, payload, plen, now, f);
		case PAYLOAD_RAKP1: return rakp1(lan, payload, plen, from, now, f);
		case PAYLOAD_RAKP3: return rakp3(lan, payload, plen, from, now, f);
		case PAYLOAD_IPMI: {
			size_t n = message(lan, NULL, payload, plen, answer, &close);
			return n ? v2_plain(f, PAYLOAD_IPMI, answer, n) : 0;
		}
		default: return 0;
		}
	}
	struct session *s = find(lan, sid, ACTIVE);
	/* Both suites sign and encrypt: anything less from a session is not its. */
	if (s == NULL || (type & 0x3f) != PAYLOAD_IPMI || (type & 0xc0) != 0xc0) {
		GD_LOG_DEBUG("dropped: session %08x %s, payload type %02x", sid,
		             s ? "active" : "unknown", type);
		return 0;
	}
	if (verify(s, in, len, plen) < 0 || !fresh(s, seq)) {
		GD_LOG_DEBUG("dropped: session %08x: a bad integrity code or sequence %u", sid,
		             seq);
		return 0;
	}
	long mlen = decrypt(s, payload, plen, msg);
	if (mlen < 0) {
		GD_LOG_DEBUG("dropped: session %08x: cannot decrypt", sid);
		return 0;
	}
	s->last_ms = now;
	size_t n = message(lan, s, msg, (size_t)mlen, answer, &close);
	size_t out = n ? v2_session(f, s, answer, n) : 0;
	if (close) {
		GD_LOG_INFO("session %08x of '%s' closed", s->id, s->name);
		drop(s);
	}
	return out;
}

/* IPMI 1.5, session-less: what a client asks before it knows the BMC speaks 2.0. */
static size_t v15(struct gd_ipmi_lan *lan, const uint8_t *in, size_t len, struct frame *f)
{
	if (len < HEADER_V15 || le32(in + 9) != 0 || in[4] != 0x00)
		return 0;
	size_t mlen = in[13];
	if (HEADER_V15 + mlen > len)
		return 0;
	uint8_t answer[64];
	bool close = false;
	size_t n = message(lan, NULL, in + HEADER_V15, mlen, answer, &close);
	if (n == 0)
		return 0;
	const uint8_t h[HEADER_V15] = {0x06, 0x00, 0xff, 0x07, 0x00, 0, 0,
	                               0,    0,    0,    0,    0,    0, (uint8_t)n};
	return put(f, h, sizeof(h)) && put(f, answer, n) ? f->len : 0;
}

size_t gd_ipmi_lan_handle(struct gd_ipmi_lan *lan, const uint8_t *in, size_t len,
                          const struct sockaddr *from, uint64_t now_ms, uint8_t *out, size_t outmax)
{
	expire(lan, now_ms);
	struct frame f = {out, outmax, 0};
	/* RMCP version 1.0, no ACK, class IPMI. */
	if (len < 5 || in[0] != 0x06 || (in[3] & 0x1f) != 0x07)
		return 0;
	return in[4] == 0x06 ? v2(lan, in, len, from, now_ms, &f) : v15(lan, in, len, &f);
}

static void address_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
	}
	snprintf(buf, len, "%s port %u", host, port);
}
