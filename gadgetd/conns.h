/*
 * conns: the HTTP connections in flight, and the limits on them that a slow or greedy client
 * could otherwise abuse: a request's headers (and JSON body) must arrive within a deadline
 * (else 408 and the connection is closed), a keep-alive connection may idle only so long, and
 * past the connection limit the longest-waiting idle or unfinished connection makes room for
 * a new one; when none can, the new one is answered 503.
 */
#ifndef GD_CONNS_H
#define GD_CONNS_H

#include <stdbool.h>

struct gd_conns;
struct gd_conn;

/* Starts the thread that enforces the deadlines (seconds). NULL when out of resources. */
struct gd_conns *gd_conns_new(unsigned max, unsigned header_timeout, unsigned idle_timeout);
/* Stops the thread. Every connection must have been removed (the servers are stopped). */
void gd_conns_free(struct gd_conns *c);

/* A connection just accepted on socket FD; TLS ones are closed without a 408 (no plaintext). */
struct gd_conn *gd_conns_add(struct gd_conns *c, int fd, bool tls);
void gd_conns_remove(struct gd_conns *c, struct gd_conn *e);

/*
 * It is being answered (no deadline), reading a body (a new deadline), idle between requests,
 * or handed over (never dropped).
 */
void gd_conns_busy(struct gd_conns *c, struct gd_conn *e);
void gd_conns_reading(struct gd_conns *c, struct gd_conn *e);
void gd_conns_idle(struct gd_conns *c, struct gd_conn *e);
void gd_conns_upgraded(struct gd_conns *c, struct gd_conn *e);

/* Whether E came in over the limit with no one to make room: its request gets 503. */
bool gd_conns_over(struct gd_conns *c, struct gd_conn *e);

/* Connections open, and how many were dropped for a deadline or to make room. */
unsigned gd_conns_count(struct gd_conns *c);
unsigned long gd_conns_dropped(struct gd_conns *c);

#endif
