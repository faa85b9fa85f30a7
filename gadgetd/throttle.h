/*
 * throttle: failed logins per client address, and how long that address must wait before
 * a password is hashed for it again. IPv6 clients count per /64, as one host usually has a
 * whole prefix. Addresses are independent: a flood from one never locks out another.
 */
#ifndef GD_THROTTLE_H
#define GD_THROTTLE_H

#include <stdint.h>
#include <sys/socket.h>

struct gd_throttle;

/*
 * The Nth failure in a row makes the address wait BASE_MS * 2^(N-1), at most MAX_MS; an
 * address is forgotten FORGET_MS after its last failure. NULL when out of memory.
 */
struct gd_throttle *gd_throttle_new(uint64_t base_ms, uint64_t max_ms, uint64_t forget_ms);
void gd_throttle_free(struct gd_throttle *t);

/* Milliseconds ADDR must still wait at NOW_MS (any monotonic clock); 0: it may try. */
uint64_t gd_throttle_wait_ms(struct gd_throttle *t, const struct sockaddr *addr, uint64_t now_ms);

/* Records a failure of ADDR at NOW_MS; returns the wait it now has, in milliseconds. */
uint64_t gd_throttle_fail(struct gd_throttle *t, const struct sockaddr *addr, uint64_t now_ms);

/* The number of addresses tracked (for /api/status). */
unsigned gd_throttle_count(struct gd_throttle *t, uint64_t now_ms);

#endif
