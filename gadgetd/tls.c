/*
 * tls: the HTTPS certificate and key: PEM files parsed and checked against each other, or a
 * self-signed EC P-256 certificate generated and written atomically on first start.
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define PEM_MAX     1048576 /* a key or a certificate chain is a few KiB */
#define HOST_MAX    63      /* fits a CN (64 at most) and a DNS label */
#define SERIAL_LEN  16      /* 128 random bits */
#define VALID_YEARS 10

/* The reason of the thread's last OpenSSL error, for a message; empties the error queue. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	return reason != NULL ? reason : "unknown error";
}

/* True if the last OpenSSL error says the PEM input held no (more) block of the wanted kind. */
static bool ssl_no_pem_block(void)
{
	unsigned long e = ERR_peek_last_error();
	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* Passphrase callback: never prompts on a terminal; notes that a passphrase was wanted. */
static int no_passphrase(char *buf, int size, int rwflag, void *asked)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	if (asked != NULL)
		*(bool *)asked = true;
	return -1;
}

static void wipe_free(char *p, size_t len)
{
	if (p != NULL) {
		OPENSSL_cleanse(p, len);
		free(p);
	}
}

/* -errno, never 0 (for the flow of callers that test rc < 0). */
static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Stat PATH: *EXISTS true or false; any error other than ENOENT is reported. */
static int file_exists(const char *path, const char *what, bool *exists, char *err, size_t errlen)
{
	struct stat st;
	*exists = stat(path, &st) == 0;
	if (!*exists && errno != ENOENT) {
		int rc = neg_errno();
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-rc));
		return rc;
	}
	return 0;
}

/* Reads up to CAP bytes of FD into BUF; *N says how many (fewer if the file shrank). */
static int read_all(int fd, char *buf, size_t cap, size_t *n)
{
	*n = 0;
	while (*n < cap) {
		ssize_t got = read(fd, buf + *n, cap - *n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return neg_errno();
		if (got == 0)
			break;
		*n += (size_t)got;
	}
	return 0;
}

/* The regular file PATH whole (at most PEM_MAX bytes) in a new NUL-terminated buffer of *SIZE
 * bytes, or NULL with *RC and ERR set. */
static char *read_file(const char *path, const char *what, size_t *size, int *rc, char *err,
                       size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*rc = neg_errno();
		snprintf(err, errlen, "%s %s: cannot open: %s", what, path, strerror(-*rc));
		return NULL;
	}
	struct stat st;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	*rc = fstat(fd, &st) < 0 ? neg_errno() : 0;
	if (*rc < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-*rc));
	} else if (!S_ISREG(st.st_mode)) {
		*rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
	} else if (st.st_size > PEM_MAX) {
		*rc = -EFBIG;
		snprintf(err, errlen, "%s %s: larger than 1 MiB, not a PEM file", what, path);
	} else if ((buf = malloc((cap = (size_t)st.st_size) + 1)) == NULL) {
		*rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
	} else if ((*rc = read_all(fd, buf, cap, &n)) < 0) {
		snprintf(err, errlen, "%s %s: cannot read: %s", what, path, strerror(-*rc));
		wipe_free(buf, cap + 1);
		buf = NULL;
	}
	close(fd);
	if (buf != NULL) {
		buf[n] = '\0';
		*size = cap + 1;
	}
	return buf;
}

/* The contents of a memory BIO as a new NUL-terminated string, or NULL. */
static char *bio_string(BIO *bio)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || data == NULL)
		return NULL;
	char *s = malloc((size_t)len + 1);
	if (s != NULL) {
		memcpy(s, data, (size_t)len);
		s[len] = '\0';
	}
	return s;
}

/* "SHA256:AB:CD:..." of the DER encoding of X. */
static int fingerprint(const X509 *x, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (X509_digest(x, EVP_sha256(), md, &len) != 1 || 6 + 3 * (size_t)len + 1 > outlen)
		return -ENOMEM;
	char *p = out;
	memcpy(p, "SHA256", 6);
	p += 6;
	for (unsigned int i = 0; i < len; i++) {
		*p++ = ':';
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 0xf];
	}
	*p = '\0';
	return 0;
}

/* X's notAfter; clamped when a 32-bit time_t cannot hold it. */
static time_t not_after(const X509 *x)
{
	struct tm tm;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return 0;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 && tm.tm_year >= 138)
		t = (time_t)INT32_MAX;
	return t;
}

/* Fills M's key, fingerprint and end of validity from LEAF and PKEY; CERTS (PEM) becomes its
 * cert_pem. */
static int fill(struct gd_tls_material *m, const X509 *leaf, const EVP_PKEY *pkey, BIO *certs,
                char *err, size_t errlen)
{
	BIO *key = BIO_new(BIO_s_secmem()); /* its buffer is wiped when freed */
	m->cert_pem = bio_string(certs);
	if (key != NULL && PEM_write_bio_PrivateKey(key, pkey, NULL, NULL, 0, NULL, NULL) == 1)
		m->key_pem = bio_string(key);
	BIO_free(key);
	if (m->cert_pem == NULL || m->key_pem == NULL ||
	    fingerprint(leaf, m->fingerprint, sizeof(m->fingerprint)) < 0) {
		snprintf(err, errlen, "cannot encode the TLS certificate and key: %s",
		         ssl_reason());
		return -ENOMEM;
	}
	m->not_after = not_after(leaf);
	return 0;
}

/* Every certificate in the PEM text DATA (NUL-terminated), re-encoded into CERTS; the first one in
 * *LEAF. */
static int parse_certs(const char *path, const char *data, X509 **leaf, BIO *certs, char *err,
                       size_t errlen)
{
	BIO *in = BIO_new_mem_buf(data, -1);
	if (in == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = 0;
	for (int n = 1; rc == 0; n++) {
		X509 *x = PEM_read_bio_X509(in, NULL, no_passphrase, NULL);
		if (x == NULL && n > 1 && ssl_no_pem_block()) {
			ERR_clear_error();
			break;
		}
		if (x == NULL) {
			rc = -EINVAL;
			if (ssl_no_pem_block())
				snprintf(err, errlen,
				         "TLS certificate %s: no PEM certificate in it", path);
			else
				snprintf(err, errlen,
				         "TLS certificate %s: certificate %d is invalid: %s", path,
				         n, ssl_reason());
			break;
		}
		if (PEM_write_bio_X509(certs, x) != 1) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
		}
		if (n == 1)
			*leaf = x;
		else
			X509_free(x);
	}
	BIO_free(in);
	return rc;
}

/* True if TEXT has a PEM block labelled "... PRIVATE KEY" (the decoder's errors do not say). */
static bool has_key_block(const char *text)
{
	for (const char *p = text; (p = strstr(p, "-----BEGIN ")) != NULL; p++) {
		const char *end = strstr(p + 11, "-----");
		const char *label = strstr(p + 11, "PRIVATE KEY-----");
		if (end != NULL && label != NULL && label + 11 == end)
			return true;
	}
	return false;
}

/* The private key in the PEM text DATA (NUL-terminated), never asking for a passphrase. */
static EVP_PKEY *parse_key(const char *path, const char *data, char *err, size_t errlen)
{
	BIO *in = BIO_new_mem_buf(data, -1);
	if (in == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	bool asked = false;
	EVP_PKEY *pkey = PEM_read_bio_PrivateKey(in, NULL, no_passphrase, &asked);
	BIO_free(in);
	if (pkey != NULL)
		return pkey;
	if (asked)
		snprintf(err, errlen,
		         "TLS key %s: encrypted, and keys with a passphrase are not supported",
		         path);
	else if (!has_key_block(data))
		snprintf(err, errlen, "TLS key %s: no PEM private key in it", path);
	else
		snprintf(err, errlen, "TLS key %s: the PEM private key cannot be decoded", path);
	ERR_clear_error();
	return NULL;
}

/* Checks the PEM texts CERT and KEY and fills M from them. */
static int use_pair(struct gd_tls_material *m, const char *cert_path, const char *cert,
                    const char *key_path, const char *key, char *err, size_t errlen)
{
	X509 *leaf = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *certs = BIO_new(BIO_s_mem());
	int rc = 0;
	if (certs == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
	}
	if (rc == 0)
		rc = parse_certs(cert_path, cert, &leaf, certs, err, errlen);
	if (rc == 0 && (pkey = parse_key(key_path, key, err, errlen)) == NULL)
		rc = -EINVAL;
	if (rc == 0) {
		const EVP_PKEY *pub = X509_get0_pubkey(leaf);
		if (pub == NULL) {
			rc = -EINVAL;
			snprintf(err, errlen, "TLS certificate %s: unsupported public key: %s",
			         cert_path, ssl_reason());
		} else if (EVP_PKEY_eq(pub, pkey) != 1) {
			rc = -EINVAL;
			snprintf(err, errlen, "TLS key %s does not match the certificate %s",
			         key_path, cert_path);
		}
	}
	if (rc == 0)
		rc = fill(m, leaf, pkey, certs, err, errlen);
	EVP_PKEY_free(pkey);
	X509_free(leaf);
	BIO_free(certs);
	ERR_clear_error();
	return rc;
}

static int load_pair(struct gd_tls_material *m, const char *cert_path, const char *key_path,
                     char *err, size_t errlen)
{
	size_t cert_size = 0, key_size = 0;
	int rc = 0;
	char *cert = read_file(cert_path, "TLS certificate", &cert_size, &rc, err, errlen);
	char *key = NULL;
	if (cert != NULL)
		key = read_file(key_path, "TLS key", &key_size, &rc, err, errlen);
	if (key != NULL)
		rc = use_pair(m, cert_path, cert, key_path, key, err, errlen);
	free(cert);
	wipe_free(key, key_size);
	return rc;
}

static bool host_name_usable(const char *h)
{
	size_t len = strlen(h);
	if (len == 0 || len > HOST_MAX || h[0] == '.' || h[0] == '-' || h[len - 1] == '.' ||
	    strstr(h, "..") != NULL)
		return false;
	for (const char *p = h; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* gethostname(), or "gadgetd" if it fails or is not a usable DNS name. */
static void host_name(char *out, size_t outlen)
{
	char h[256] = "";
	if (gethostname(h, sizeof(h) - 1) == 0 && host_name_usable(h) && strlen(h) < outlen)
		memcpy(out, h, strlen(h) + 1);
	else
		snprintf(out, outlen, "gadgetd");
}

static bool add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	bool ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static bool leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/*
 * OUT = AT + ADD_YEARS calendar years (29 February becomes the 28th if need be). Through a
 * string, not OpenSSL's time_t calls: on 32-bit ARM gadgetd's time_t is 64 bits and bookworm's
 * libssl's is 32.
 */
static bool set_time(ASN1_TIME *out, time_t at, int add_years)
{
	struct tm tm;
	if (gmtime_r(&at, &tm) == NULL)
		return false;
	int year = tm.tm_year + 1900 + add_years;
	if (tm.tm_mon == 1 && tm.tm_mday == 29 && !leap_year(year))
		tm.tm_mday = 28;
	char s[64];
	snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec);
	return ASN1_TIME_set_string_X509(out, s) == 1;
}

/* The certificate's fields, signed by PKEY: all of them or false. */
static bool build_cert(X509 *x, EVP_PKEY *pkey, const char *host, time_t now)
{
	char san[3 * HOST_MAX];
	if (strcasecmp(host, "localhost") == 0)
		snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1");
	else
		snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1", host);

	unsigned char serial[SERIAL_LEN];
	if (X509_set_version(x, X509_VERSION_3) != 1 || RAND_bytes(serial, sizeof(serial)) != 1)
		return false;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	bool ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);

	X509_NAME *name = X509_NAME_new();
	ok = ok && name != NULL;
	ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	                                      (const unsigned char *)host, -1, -1, 0) == 1;
	ok = ok && X509_set_subject_name(x, name) == 1 && X509_set_issuer_name(x, name) == 1;
	X509_NAME_free(name);

	ok = ok && set_time(X509_getm_notBefore(x), now - 3600, 0);
	ok = ok && set_time(X509_getm_notAfter(x), now, VALID_YEARS);
	ok = ok && X509_set_pubkey(x, pkey) == 1;
	ok = ok && add_ext(x, NID_basic_constraints, "critical,CA:FALSE");
	ok = ok && add_ext(x, NID_key_usage, "critical,digitalSignature");
	ok = ok && add_ext(x, NID_ext_key_usage, "serverAuth");
	ok = ok && add_ext(x, NID_subject_alt_name, san);
	return ok && X509_sign(x, pkey, EVP_sha256()) > 0;
}

/* A new EC P-256 key and a self-signed certificate for this host, into M. */
static int make_self_signed(struct gd_tls_material *m, char *err, size_t errlen)
{
	char host[HOST_MAX + 1];
	host_name(host, sizeof(host));
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *certs = BIO_new(BIO_s_mem());
	int rc = 0;
	if (pkey == NULL || x == NULL || certs == NULL || !build_cert(x, pkey, host, time(NULL)) ||
	    PEM_write_bio_X509(certs, x) != 1) {
		rc = -ENOMEM;
		snprintf(err, errlen, "cannot create a self-signed TLS certificate: %s",
		         ssl_reason());
	} else {
		rc = fill(m, x, pkey, certs, err, errlen);
	}
	BIO_free(certs);
	X509_free(x);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* Creates PATH's directory (mode 0700) if it is missing; one level only. */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path);
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	const char *dir = dirname(copy);
	int rc = 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = neg_errno();
		snprintf(err, errlen, "cannot create the TLS directory %s: %s", dir, strerror(-rc));
	}
	free(copy);
	return rc;
}

/* Makes a rename into PATH's directory durable; best effort. */
static void sync_parent(const char *path)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Writes TEXT to a new synced file next to PATH with MODE; its name in *TMP (to free). */
static int write_temp(const char *path, const char *text, mode_t mode, char **tmp)
{
	size_t n = strlen(path) + sizeof(".tmp.XXXXXX");
	char *name = malloc(n);
	if (name == NULL)
		return -ENOMEM;
	snprintf(name, n, "%s.tmp.XXXXXX", path);
	int fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0) {
		int rc = neg_errno();
		free(name);
		return rc;
	}
	int rc = fchmod(fd, mode) < 0 ? neg_errno() : 0;
	size_t len = strlen(text), off = 0;
	while (rc == 0 && off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno != EINTR)
			rc = neg_errno();
		else if (w == 0)
			rc = -EIO;
		else if (w > 0)
			off += (size_t)w;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = neg_errno();
	if (close(fd) < 0 && rc == 0)
		rc = neg_errno();
	if (rc < 0) {
		unlink(name);
		free(name);
		return rc;
	}
	*tmp = name;
	return 0;
}

/* Generates a pair and writes it: both files complete in temporary names, then renamed. */
static int generate_pair(struct gd_tls_material *m, const char *cert_path, const char *key_path,
                         char *err, size_t errlen)
{
	if (strcmp(cert_path, key_path) == 0) {
		snprintf(err, errlen,
		         "cannot generate a TLS certificate and key into the same file %s",
		         cert_path);
		return -EINVAL;
	}
	int rc = make_parent(key_path, err, errlen);
	if (rc == 0)
		rc = make_parent(cert_path, err, errlen);
	if (rc == 0)
		rc = make_self_signed(m, err, errlen);
	if (rc < 0)
		return rc;

	char *key_tmp = NULL, *cert_tmp = NULL;
	const char *failed = key_path;
	rc = write_temp(key_path, m->key_pem, 0600, &key_tmp);
	if (rc == 0) {
		failed = cert_path;
		rc = write_temp(cert_path, m->cert_pem, 0644, &cert_tmp);
	}
	if (rc == 0) {
		failed = key_path;
		rc = rename(key_tmp, key_path) < 0 ? neg_errno() : 0;
	}
	if (rc == 0) {
		failed = cert_path;
		rc = rename(cert_tmp, cert_path) < 0 ? neg_errno() : 0;
		if (rc < 0)
			unlink(key_path); /* neither existed: leave neither */
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot write the TLS %s %s: %s",
		         failed == key_path ? "key" : "certificate", failed, strerror(-rc));
		if (key_tmp != NULL)
			unlink(key_tmp);
		if (cert_tmp != NULL)
			unlink(cert_tmp);
	} else {
		sync_parent(key_path);
		sync_parent(cert_path);
		m->generated = true;
	}
	free(key_tmp);
	free(cert_tmp);
	return rc;
}

int gd_tls_load(struct gd_tls_material *out, const char *cert_path, const char *key_path,
                bool generate, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	bool have_cert = false, have_key = false;
	int rc = file_exists(cert_path, "TLS certificate", &have_cert, err, errlen);
	if (rc == 0)
		rc = file_exists(key_path, "TLS key", &have_key, err, errlen);
	if (rc < 0)
		return rc;

	if (have_cert && have_key) {
		rc = load_pair(out, cert_path, key_path, err, errlen);
	} else if (have_cert) {
		rc = -ENOENT;
		snprintf(err, errlen,
		         "TLS key %s does not exist but the certificate %s does: provide both or "
		         "neither",
		         key_path, cert_path);
	} else if (have_key) {
		rc = -ENOENT;
		snprintf(err, errlen,
		         "TLS certificate %s does not exist but the key %s does: provide both or "
		         "neither",
		         cert_path, key_path);
	} else if (!generate) {
		rc = -ENOENT;
		snprintf(err, errlen, "TLS certificate %s and key %s do not exist", cert_path,
		         key_path);
	} else {
		rc = generate_pair(out, cert_path, key_path, err, errlen);
	}
	if (rc < 0)
		gd_tls_free(out);
	return rc;
}

void gd_tls_free(struct gd_tls_material *m)
{
	if (m == NULL)
		return;
	if (m->key_pem != NULL)
		wipe_free(m->key_pem, strlen(m->key_pem));
	free(m->cert_pem);
	memset(m, 0, sizeof(*m));
}
