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
/* A session's public name (Redfish's Sessions/{id}): 64 random bits in hex, no secret. */
#define GD_SESSION_ID_LEN 16

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

/* The public id of SECRET's session into ID: 0, or -ENOENT. */
int gd_sessions_id(struct gd_sessions *s, const char *secret, char id[GD_SESSION_ID_LEN + 1]);

/* The user of the live session whose public id is ID: 0, or -ENOENT. */
int gd_sessions_find_id(struct gd_sessions *s, const char *id, uint64_t now_ms, char *user,
                        size_t userlen);

/* Ends the session whose public id is ID if OWNER (NULL: anyone's) holds it: 0, -ENOENT or
 * -EPERM. */
int gd_sessions_revoke_id(struct gd_sessions *s, const char *id, const char *owner,
                          uint64_t now_ms);

/* The ids of the live sessions of OWNER (NULL: everyone's), at most MAX: how many. */
unsigned gd_sessions_ids(struct gd_sessions *s, uint64_t now_ms, const char *owner,
                         char (*ids)[GD_SESSION_ID_LEN + 1], unsigned max);

/* Sessions alive at NOW_MS. */
unsigned gd_sessions_count(struct gd_sessions *s, uint64_t now_ms);

#endif
