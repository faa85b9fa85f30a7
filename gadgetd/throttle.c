/*
 * throttle: failed logins per client address, and how long that address must wait before
 * a password is hashed for it again. A bounded table: when full, the address whose last
 * failure is the oldest makes room.
 */
#include "throttle.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024

struct slot {
	unsigned char key[16]; /* IPv4 (as ::ffff:a.b.c.d) or an IPv6 /64 */
	unsigned failures;
	uint64_t last_ms; /* 0: free */
	uint64_t until_ms;
};

struct gd_throttle {
	pthread_mutex_t lock;
	uint64_t base_ms, max_ms, forget_ms;
	struct slot slots[SLOTS];
};

struct gd_throttle *gd_throttle_new(uint64_t base_ms, uint64_t max_ms, uint64_t forget_ms)
{
	struct gd_throttle *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	t->base_ms = base_ms;
	t->max_ms = max_ms;
	t->forget_ms = forget_ms;
	return t;
}

void gd_throttle_free(struct gd_throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static void address_key(const struct sockaddr *addr, unsigned char key[16])
{
	memset(key, 0, 16);
	if (addr == NULL)
		return;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)addr;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &v4->sin_addr, 4);
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)addr;
		memcpy(key, &v6->sin6_addr, 16);
		if (!IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
			memset(key + 8, 0, 8);
	}
}

/* Callers read the clock before the lock: a NOW_MS older than the slot's last failure is
 * no reason to forget it. */
static bool stale(const struct gd_throttle *t, const struct slot *s, uint64_t now_ms)
{
	return s->last_ms == 0 || (now_ms > s->last_ms && now_ms - s->last_ms >= t->forget_ms);
}

/* The slot of KEY, or NULL. Caller holds the lock. */
static struct slot *lookup(struct gd_throttle *t, const unsigned char key[16], uint64_t now_ms)
{
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &t->slots[i];
		if (!stale(t, s, now_ms) && memcmp(s->key, key, 16) == 0)
			return s;
	}
	return NULL;
}

/* A slot for a new address: a free or forgotten one, else the one idle the longest. */
static struct slot *claim(struct gd_throttle *t, const unsigned char key[16], uint64_t now_ms)
{
	struct slot *oldest = &t->slots[0];
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &t->slots[i];
		if (stale(t, s, now_ms)) {
			oldest = s;
			break;
		}
		if (s->last_ms < oldest->last_ms)
			oldest = s;
	}
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->key, key, 16);
	return oldest;
}

uint64_t gd_throttle_wait_ms(struct gd_throttle *t, const struct sockaddr *addr, uint64_t now_ms)
{
	unsigned char key[16];
	address_key(addr, key);
	pthread_mutex_lock(&t->lock);
	const struct slot *s = lookup(t, key, now_ms);
	uint64_t wait = s != NULL && s->until_ms > now_ms ? s->until_ms - now_ms : 0;
	pthread_mutex_unlock(&t->lock);
	return wait;
}

uint64_t gd_throttle_fail(struct gd_throttle *t, const struct sockaddr *addr, uint64_t now_ms)
{
	unsigned char key[16];
	address_key(addr, key);
	pthread_mutex_lock(&t->lock);
	struct slot *s = lookup(t, key, now_ms);
	if (s == NULL)
		s = claim(t, key, now_ms);
	s->failures++;
	uint64_t wait = t->base_ms;
	for (unsigned i = 1; i < s->failures && wait < t->max_ms; i++)
		wait *= 2;
	if (wait > t->max_ms)
		wait = t->max_ms;
	if (now_ms > s->last_ms)
		s->last_ms = now_ms;
	if (now_ms + wait > s->until_ms)
		s->until_ms = now_ms + wait;
	pthread_mutex_unlock(&t->lock);
	return wait;
}

unsigned gd_throttle_count(struct gd_throttle *t, uint64_t now_ms)
{
	unsigned n = 0;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < SLOTS; i++)
		n += !stale(t, &t->slots[i], now_ms);
	pthread_mutex_unlock(&t->lock);
	return n;
}
