/* secret: random bearer secrets (session cookies, API tokens) and the digests stored for them. */
#ifndef GD_SECRET_H
#define GD_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define GD_SECRET_BYTES  32 /* 256 bits from getrandom */
#define GD_SECRET_TEXT   43 /* their unpadded base64url length */
#define GD_SECRET_DIGEST 32 /* SHA-256 */

/* GD_SECRET_BYTES random bytes as base64url into OUT (GD_SECRET_TEXT + 1 bytes): 0 or -errno. */
int gd_secret_new(char out[GD_SECRET_TEXT + 1]);

/* N random bytes as lowercase hex into OUT (2N + 1 bytes): 0 or -errno. */
int gd_secret_hex(char *out, size_t n);

/* SHA-256 of TEXT: what is kept in place of a secret, so a memory or file leak reveals none. */
void gd_secret_digest(const char *text, unsigned char out[GD_SECRET_DIGEST]);

/* Whether two digests are equal, in constant time. */
bool gd_secret_digest_equal(const unsigned char *a, const unsigned char *b);

#endif
