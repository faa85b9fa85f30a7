/*
 * ipmi_users: the IPMI passwords. RMCP+ (RAKP) needs each user's password itself, not a hash
 * of it, so IPMI users have a file of their own: "name:password" lines, mode 0600, readable by
 * the daemon alone. A name must also be in the users file, which gives its role.
 */
#ifndef GD_IPMI_USERS_H
#define GD_IPMI_USERS_H

#include <stddef.h>

#define GD_IPMI_PASSWORD_MAX 20 /* IPMI 2.0 passwords are 20 bytes at most */
#define GD_IPMI_NAME_MAX     16 /* and names 16 */

/*
 * The password of NAME in the file at PATH into PASSWORD (GD_IPMI_PASSWORD_MAX + 1 bytes):
 * 0, -ENOENT when NAME has none, or another -errno (a file readable by others is refused:
 * -EPERM).
 */
int gd_ipmi_users_password(const char *path, const char *name,
                           char password[GD_IPMI_PASSWORD_MAX + 1]);

/* Sets NAME's PASSWORD in the file at PATH (made 0600, replaced atomically): 0 or -errno
 * with ERR. */
int gd_ipmi_users_set(const char *path, const char *name, const char *password, char *err,
                      size_t errlen);

#endif
