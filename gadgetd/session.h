/*
 * session: browser sessions after POST /api/login: a random cookie secret (only its digest is
 * kept), the CSRF token that goes with it, idle and absolute expiry. In memory only: a
 * restart logs everyone out.
 */
#ifndef GD_SESSION_H
#define GD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "secret.h"

#define GD_SESSION_CSRF_LEN 32 /* hex of 128 random bits */

struct gd_sessions;

/* At most MAX sessions; each ends IDLE_MS after its last use or LIFETIME_MS after login. */
struct gd_sessions *gd_sessions_new(unsigned max, uint64_t idle_ms, uint64_t lifetime_ms);
void gd_sessions_free(struct gd_sessions *s);

/*
 * A new session for USER at NOW_MS (a monotonic clock): the cookie secret into SECRET and its
 * CSRF token into CSRF. When the table is full, the least recently used session ends.
 * Returns 0 or -errno.
 */
int gd_sessions_create(struct gd_sessions *s, const char *user, uint64_t now_ms,
                       char secret[GD_SECRET_TEXT + 1], char csrf[GD_SESSION_CSRF_LEN + 1]);

/*
 * The session whose cookie secret is SECRET, if it is alive at NOW_MS: 0 with its user and
 * CSRF token copied out, its idle clock restarted; -ENOENT otherwise.
 */
int gd_sessions_find(struct gd_sessions *s, const char *secret, uint64_t now_ms, char *user,
                     size_t userlen, char csrf[GD_SESSION_CSRF_LEN + 1]);

/* Ends the session of SECRET: 0, or -ENOENT when there was none. */
int gd_sessions_revoke(struct gd_sessions *s, const char *secret);

/* Sessions alive at NOW_MS. */
unsigned gd_sessions_count(struct gd_sessions *s, uint64_t now_ms);

#endif
