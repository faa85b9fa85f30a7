/*
 * token: API tokens for scripts ("Authorization: Bearer gdt_..."), created by an admin with a
 * name, a role and an optional expiry. The file keeps only each token's SHA-256: the secret
 * is shown once, when it is created.
 */
#ifndef GD_TOKEN_H
#define GD_TOKEN_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "auth.h"
#include "secret.h"

#define GD_TOKEN_PREFIX "gdt_"
#define GD_TOKEN_TEXT   (4 + GD_SECRET_TEXT)
#define GD_TOKEN_MAX    64

struct gd_tokens;

/* Loads the tokens file at PATH (missing: no tokens). 0, or -errno with a message in ERR. */
int gd_tokens_open(struct gd_tokens **out, const char *path, char *err, size_t errlen);
void gd_tokens_close(struct gd_tokens *t);

/*
 * A new token NAME with ROLE, made by CREATOR, valid until EXPIRES (0: no expiry): its secret
 * into SECRET, its record (as listed) into *RECORD (a new reference). Returns 0, or -EINVAL
 * (bad name), -EEXIST (name taken), -ENOSPC (GD_TOKEN_MAX reached), -errno (file), each
 * with a message in ERR.
 */
int gd_tokens_create(struct gd_tokens *t, const char *name, enum gd_role role, const char *creator,
                     time_t expires, char secret[GD_TOKEN_TEXT + 1], json_t **record, char *err,
                     size_t errlen);

/*
 * Checks SECRET at NOW: 0 with the token's name into NAME and role into *ROLE, -ENOENT for
 * no such token, -EKEYEXPIRED for one past its expiry.
 */
int gd_tokens_check(struct gd_tokens *t, const char *secret, time_t now, char *name, size_t namelen,
                    enum gd_role *role);

/* The tokens, without secrets: a new JSON array reference (NULL without memory). */
json_t *gd_tokens_list(struct gd_tokens *t);

/* Revokes the token with ID: 0, -ENOENT, or -errno when the file cannot be written. */
int gd_tokens_delete(struct gd_tokens *t, const char *id);

#endif
