/*
 * auth: the users file (name:crypt-hash:role lines) and HTTP Basic credentials checked against it.
 * Hashes are crypt(3) strings (yescrypt by default); comparisons take constant time.
 */
#ifndef GD_AUTH_H
#define GD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define GD_AUTH_NAME_MAX 32

enum gd_auth_result {
	GD_AUTH_OK,
	GD_AUTH_MISSING,   /* no Authorization header */
	GD_AUTH_MALFORMED, /* not "Basic base64(user:password)" */
	GD_AUTH_DENIED,    /* unknown user or wrong password */
	GD_AUTH_THROTTLED, /* only a password hash could tell, and hashing was not allowed */
};

/* What a user may do, each role including the ones before it. */
enum gd_role {
	GD_ROLE_VIEWER,   /* read-only: status, console output, images list */
	GD_ROLE_OPERATOR, /* keys, media, power, console */
	GD_ROLE_ADMIN,    /* everything: the gadget itself, users, configuration */
};

/* "viewer", "operator", "admin"; parsing returns -1 for anything else. */
const char *gd_auth_role_name(enum gd_role role);
int gd_auth_role_parse(const char *name);

struct gd_auth;

/*
 * Loads the users file at PATH. Returns 0 and a new handle in *OUT (free with
 * gd_auth_close), or -errno with a one-line message in ERR: -ENOENT when the
 * file is missing, -EINVAL with "PATH:LINE: ..." for a bad line.
 */
int gd_auth_open(struct gd_auth **out, const char *path, char *err, size_t errlen);
void gd_auth_close(struct gd_auth *auth);
size_t gd_auth_user_count(struct gd_auth *auth);

/*
 * Checks NAME's PASSWORD; on GD_AUTH_OK its role goes to *ROLE. A password verified before
 * is recognised by a keyed MAC without hashing; any other needs crypt(3), which ALLOW_SLOW
 * false refuses (GD_AUTH_THROTTLED): a throttled client cannot make the daemon hash.
 * Re-reads the users file when it changed on disk. Safe to call from several threads.
 */
enum gd_auth_result gd_auth_check_password(struct gd_auth *auth, const char *name,
                                           const char *password, bool allow_slow,
                                           enum gd_role *role);

/*
 * The same for an Authorization header value (NULL when absent). The user name, when the
 * header has one, is copied to USER whatever the result (for the log).
 */
enum gd_auth_result gd_auth_check_basic(struct gd_auth *auth, const char *header, bool allow_slow,
                                        char *user, size_t userlen, enum gd_role *role);

/* NAME's current role into *ROLE: 0, or -ENOENT when the user is gone. */
int gd_auth_user_role(struct gd_auth *auth, const char *name, enum gd_role *role);

/* Whether NAME is a valid user name: 1-32 of [A-Za-z0-9._-], not starting with '.' or '-'. */
int gd_auth_name_valid(const char *name);

/*
 * Sets USER's password and ROLE in the users file at PATH (created if missing), replacing
 * the file atomically with mode 0600. ROLE -1 keeps the user's role (admin for a new user).
 * Returns 0 or -errno with a message in ERR.
 */
int gd_auth_set_password(const char *path, const char *user, const char *password, int role,
                         char *err, size_t errlen);

#endif
