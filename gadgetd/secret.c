/* secret: random bearer secrets (session cookies, API tokens) and the digests stored for them. */
#include "secret.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0 && errno != EINTR)
			return -errno;
		got += r > 0 ? (size_t)r : 0;
	}
	return 0;
}

int gd_secret_new(char out[GD_SECRET_TEXT + 1])
{
	unsigned char raw[GD_SECRET_BYTES];
	char b64[GD_SECRET_TEXT + 2]; /* EVP_EncodeBlock pads to 44 and adds a NUL */
	int rc = random_bytes(raw, sizeof(raw));
	if (rc < 0)
		return rc;
	EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	for (size_t i = 0; i < GD_SECRET_TEXT; i++)
		out[i] = (char)(b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i]);
	out[GD_SECRET_TEXT] = '\0';
	OPENSSL_cleanse(b64, sizeof(b64));
	return 0;
}

int gd_secret_hex(char *out, size_t n)
{
	unsigned char raw[64];
	if (n > sizeof(raw))
		return -EINVAL;
	int rc = random_bytes(raw, n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

void gd_secret_digest(const char *text, unsigned char out[GD_SECRET_DIGEST])
{
	unsigned int len = GD_SECRET_DIGEST;
	EVP_Digest(text, strlen(text), out, &len, EVP_sha256(), NULL);
}

bool gd_secret_digest_equal(const unsigned char *a, const unsigned char *b)
{
	return CRYPTO_memcmp(a, b, GD_SECRET_DIGEST) == 0;
}
