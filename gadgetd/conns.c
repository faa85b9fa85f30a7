/*
 * conns: the HTTP connections in flight and their deadlines. A thread wakes four times a
 * second to close the ones past due; closing is a shutdown(2) of the socket, which the
 * server's own thread for that connection then sees as the client leaving.
 */
#include "conns.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

#define LOG_PREFIX "HTTP: "
#define TICK_MS    250

enum state { HEADERS, BUSY, IDLE, UPGRADED, DROPPED };

struct gd_conn {
	struct gd_conn *prev, *next;
	int fd;
	bool tls;
	bool over;
	enum state state;
	uint64_t since_ms; /* when the current state began */
};

struct gd_conns {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stopping;
	unsigned max, count;
	uint64_t header_ms, idle_ms;
	unsigned long dropped;
	struct gd_conn *head;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char timeout_reply[] =
    "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 83\r\n\r\n"
    "{\"error\":{\"code\":\"request_timeout\",\"message\":\"the request did not arrive in time\"}}";

/* Closes E's connection under the lock; a plaintext one still waiting for its request gets
 * a 408 first. */
static void drop(struct gd_conns *c, struct gd_conn *e, const char *why)
{
	if (e->state == HEADERS && !e->tls)
		(void)send(e->fd, timeout_reply, sizeof(timeout_reply) - 1,
		           MSG_NOSIGNAL | MSG_DONTWAIT);
	GD_LOG_DEBUG("closing connection %d: %s", e->fd, why);
	shutdown(e->fd, SHUT_RDWR);
	e->state = DROPPED;
	c->dropped++;
}

static void enforce_deadlines(struct gd_conns *c, uint64_t now)
{
	for (struct gd_conn *e = c->head; e != NULL; e = e->next) {
		if (e->state == HEADERS && now - e->since_ms >= c->header_ms)
			drop(c, e, "request not complete in time");
		else if (e->state == IDLE && now - e->since_ms >= c->idle_ms)
			drop(c, e, "idle");
	}
}

static void *reaper(void *arg)
{
	struct gd_conns *c = arg;
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&c->wake, &c->lock, &ts);
		enforce_deadlines(c, now_ms());
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct gd_conns *gd_conns_new(unsigned max, unsigned header_timeout, unsigned idle_timeout)
{
	struct gd_conns *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->max = max;
	c->header_ms = (uint64_t)header_timeout * 1000;
	c->idle_ms = (uint64_t)idle_timeout * 1000;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&c->thread, NULL, reaper, c) != 0) {
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	return c;
}

void gd_conns_free(struct gd_conns *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The idle or unfinished connection that has waited the longest, or NULL. A request still
 * arriving counts only after a quarter of its time: one that came a moment ago is a client
 * being served, not a slow one, and the newcomer gets the 503 instead. */
static struct gd_conn *longest_waiting(struct gd_conns *c, uint64_t now)
{
	struct gd_conn *found = NULL;
	for (struct gd_conn *e = c->head; e != NULL; e = e->next) {
		bool slow = e->state == HEADERS && now - e->since_ms >= c->header_ms / 4;
		if ((slow || e->state == IDLE) && (found == NULL || e->since_ms < found->since_ms))
			found = e;
	}
	return found;
}

struct gd_conn *gd_conns_add(struct gd_conns *c, int fd, bool tls)
{
	struct gd_conn *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->fd = fd;
	e->tls = tls;
	e->state = HEADERS;
	e->since_ms = now_ms();
	pthread_mutex_lock(&c->lock);
	/* Dropped ones stay counted until the server lets go of them. */
	unsigned live = 0;
	for (struct gd_conn *x = c->head; x != NULL; x = x->next)
		live += x->state != DROPPED;
	if (live >= c->max) {
		struct gd_conn *victim = longest_waiting(c, e->since_ms);
		if (victim != NULL)
			drop(c, victim, "making room for a new connection");
		else
			e->over = true;
	}
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	c->count++;
	pthread_mutex_unlock(&c->lock);
	return e;
}

void gd_conns_remove(struct gd_conns *c, struct gd_conn *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	c->count--;
	pthread_mutex_unlock(&c->lock);
	free(e);
}

static void set_state(struct gd_conns *c, struct gd_conn *e, enum state state)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (e->state != DROPPED && e->state != UPGRADED) {
		e->state = state;
		e->since_ms = now_ms();
	}
	pthread_mutex_unlock(&c->lock);
}

void gd_conns_busy(struct gd_conns *c, struct gd_conn *e)
{
	set_state(c, e, BUSY);
}

void gd_conns_reading(struct gd_conns *c, struct gd_conn *e)
{
	set_state(c, e, HEADERS);
}

void gd_conns_idle(struct gd_conns *c, struct gd_conn *e)
{
	set_state(c, e, IDLE);
}

void gd_conns_upgraded(struct gd_conns *c, struct gd_conn *e)
{
	set_state(c, e, UPGRADED);
}

bool gd_conns_over(struct gd_conns *c, struct gd_conn *e)
{
	pthread_mutex_lock(&c->lock);
	bool over = e != NULL && e->over;
	pthread_mutex_unlock(&c->lock);
	return over;
}

unsigned gd_conns_count(struct gd_conns *c)
{
	pthread_mutex_lock(&c->lock);
	unsigned n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

unsigned long gd_conns_dropped(struct gd_conns *c)
{
	pthread_mutex_lock(&c->lock);
	unsigned long n = c->dropped;
	pthread_mutex_unlock(&c->lock);
	return n;
}
