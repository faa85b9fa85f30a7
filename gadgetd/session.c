/*
 * session: browser sessions after POST /api/login: a random cookie secret (only its digest is
 * kept), the CSRF token that goes with it, idle and absolute expiry.
 */
#include "session.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
	unsigned char digest[GD_SECRET_DIGEST];
	char user[GD_AUTH_NAME_MAX + 1];
	char csrf[GD_SESSION_CSRF_LEN + 1];
	char id[GD_SESSION_ID_LEN + 1];
	uint64_t created_ms;
	uint64_t used_ms;
	bool live;
};

struct gd_sessions {
	pthread_mutex_t lock;
	uint64_t idle_ms, lifetime_ms;
	unsigned max;
	struct session *table;
};

struct gd_sessions *gd_sessions_new(unsigned max, uint64_t idle_ms, uint64_t lifetime_ms)
{
	struct gd_sessions *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->table = calloc(max ? max : 1, sizeof(*s->table))) == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->max = max ? max : 1;
	s->idle_ms = idle_ms;
	s->lifetime_ms = lifetime_ms;
	return s;
}

void gd_sessions_free(struct gd_sessions *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s->table, s->max * sizeof(*s->table));
	free(s->table);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* B - A, or 0 when B is earlier: threads read the clock before they take the lock, so the
 * times they bring may arrive out of order. */
static uint64_t since(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

static bool alive(const struct gd_sessions *s, const struct session *e, uint64_t now_ms)
{
	return e->live && since(e->used_ms, now_ms) < s->idle_ms &&
	       since(e->created_ms, now_ms) < s->lifetime_ms;
}

int gd_sessions_create(struct gd_sessions *s, const char *user, uint64_t now_ms,
                       char secret[GD_SECRET_TEXT + 1], char csrf[GD_SESSION_CSRF_LEN + 1])
{
	char id[GD_SESSION_ID_LEN + 1];
	int rc = gd_secret_new(secret);
	if (rc == 0)
		rc = gd_secret_hex(csrf, GD_SESSION_CSRF_LEN / 2);
	if (rc == 0)
		rc = gd_secret_hex(id, GD_SESSION_ID_LEN / 2);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	struct session *slot = &s->table[0];
	for (unsigned i = 0; i < s->max; i++) {
		struct session *e = &s->table[i];
		if (!alive(s, e, now_ms)) {
			slot = e;
			break;
		}
		if (e->used_ms < slot->used_ms)
			slot = e;
	}
	memset(slot, 0, sizeof(*slot));
	gd_secret_digest(secret, slot->digest);
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	memcpy(slot->csrf, csrf, sizeof(slot->csrf));
	memcpy(slot->id, id, sizeof(slot->id));
	slot->created_ms = slot->used_ms = now_ms;
	slot->live = true;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The live entry of SECRET, or NULL. Caller holds the lock. */
static struct session *lookup(struct gd_sessions *s, const char *secret)
{
	unsigned char digest[GD_SECRET_DIGEST];
	gd_secret_digest(secret, digest);
	struct session *found = NULL;
	for (unsigned i = 0; i < s->max; i++) {
		if (s->table[i].live && gd_secret_digest_equal(s->table[i].digest, digest))
			found = &s->table[i];
	}
	return found;
}

int gd_sessions_find(struct gd_sessions *s, const char *secret, uint64_t now_ms, char *user,
                     size_t userlen, char csrf[GD_SESSION_CSRF_LEN + 1])
{
	pthread_mutex_lock(&s->lock);
	struct session *e = lookup(s, secret);
	int rc = -ENOENT;
	if (e != NULL && alive(s, e, now_ms)) {
		if (now_ms > e->used_ms)
			e->used_ms = now_ms;
		snprintf(user, userlen, "%s", e->user);
		memcpy(csrf, e->csrf, GD_SESSION_CSRF_LEN + 1);
		rc = 0;
	} else if (e != NULL) {
		memset(e, 0, sizeof(*e)); /* expired: gone for good, even if the clock were reset */
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int gd_sessions_revoke(struct gd_sessions *s, const char *secret)
{
	pthread_mutex_lock(&s->lock);
	struct session *e = lookup(s, secret);
	if (e != NULL)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&s->lock);
	return e != NULL ? 0 : -ENOENT;
}

unsigned gd_sessions_count(struct gd_sessions *s, uint64_t now_ms)
{
	unsigned n = 0;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->max; i++)
		n += alive(s, &s->table[i], now_ms);
	pthread_mutex_unlock(&s->lock);
	return n;
}

int gd_sessions_id(struct gd_sessions *s, const char *secret, char id[GD_SESSION_ID_LEN + 1])
{
	pthread_mutex_lock(&s->lock);
	struct session *e = lookup(s, secret);
	if (e != NULL)
		memcpy(id, e->id, GD_SESSION_ID_LEN + 1);
	pthread_mutex_unlock(&s->lock);
	return e != NULL ? 0 : -ENOENT;
}

/* The live entry whose public id is ID, or NULL. Caller holds the lock. */
static struct session *lookup_id(struct gd_sessions *s, const char *id, uint64_t now_ms)
{
	for (unsigned i = 0; i < s->max; i++) {
		if (alive(s, &s->table[i], now_ms) && strcmp(s->table[i].id, id) == 0)
			return &s->table[i];
	}
	return NULL;
}

int gd_sessions_find_id(struct gd_sessions *s, const char *id, uint64_t now_ms, char *user,
                        size_t userlen)
{
	pthread_mutex_lock(&s->lock);
	struct session *e = lookup_id(s, id, now_ms);
	if (e != NULL)
		snprintf(user, userlen, "%s", e->user);
	pthread_mutex_unlock(&s->lock);
	return e != NULL ? 0 : -ENOENT;
}

int gd_sessions_revoke_id(struct gd_sessions *s, const char *id, const char *owner, uint64_t now_ms)
{
	pthread_mutex_lock(&s->lock);
	struct session *e = lookup_id(s, id, now_ms);
	int rc = e == NULL ? -ENOENT : owner != NULL && strcmp(owner, e->user) != 0 ? -EPERM : 0;
	if (rc == 0)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&s->lock);
	return rc;
}

unsigned gd_sessions_ids(struct gd_sessions *s, uint64_t now_ms, const char *owner,
                         char (*ids)[GD_SESSION_ID_LEN + 1], unsigned max)
{
	unsigned n = 0;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->max && n < max; i++) {
		const struct session *e = &s->table[i];
		if (alive(s, e, now_ms) && (owner == NULL || strcmp(owner, e->user) == 0))
			memcpy(ids[n++], e->id, GD_SESSION_ID_LEN + 1);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}
