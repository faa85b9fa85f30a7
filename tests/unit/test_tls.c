/* Unit tests of tls: generating a self-signed pair, loading it back, and files missing, garbage,
 * mismatched, encrypted, chained or combined. */
#include "tls.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <time.h>

#include "unit.h"

#define PATH_LEN 256

struct pair {
	char dir[PATH_LEN];
	char cert[PATH_LEN + 16];
	char key[PATH_LEN + 16];
};

/* Paths DIR/cert.pem and DIR/key.pem in the scratch directory; DIR is not created. */
static struct pair pair_in(const char *dir)
{
	struct pair p;
	snprintf(p.dir, sizeof(p.dir), "%s", unit_path(dir));
	snprintf(p.cert, sizeof(p.cert), "%s/cert.pem", p.dir);
	snprintf(p.key, sizeof(p.key), "%s/key.pem", p.dir);
	return p;
}

/* A newly generated pair in DIR, its material in M. */
static struct pair generate(const char *dir, struct gd_tls_material *m)
{
	struct pair p = pair_in(dir);
	char err[512] = "";
	int rc = gd_tls_load(m, p.cert, p.key, true, err, sizeof(err));
	if (rc != 0)
		print_error("gd_tls_load: %s\n", err);
	assert_int_equal(rc, 0);
	assert_true(m->generated);
	return p;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static X509 *cert_of(const char *pem)
{
	BIO *in = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(in, NULL, NULL, NULL);
	BIO_free(in);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *key_of(const char *pem)
{
	BIO *in = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	BIO_free(in);
	assert_non_null(k);
	return k;
}

/* Loads CERT and KEY expecting failure RC with an error naming NEEDLE1 and NEEDLE2. */
static void load_fails(const char *cert, const char *key, int rc, const char *needle1,
                       const char *needle2)
{
	struct gd_tls_material m;
	char err[512] = "";
	assert_int_equal(gd_tls_load(&m, cert, key, true, err, sizeof(err)), rc);
	if (strstr(err, needle1) == NULL || (needle2 != NULL && strstr(err, needle2) == NULL))
		fail_msg("unexpected error message: %s", err);
	assert_null(strchr(err, '\n'));
	assert_null(m.cert_pem);
	assert_null(m.key_pem);
	assert_false(m.generated);
}

static int mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

static int entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_generate_then_load(void **state)
{
	(void)state;
	struct gd_tls_material m;
	time_t before = time(NULL);
	struct pair p = generate("gen", &m);
	assert_int_equal(mode_of(p.dir), 0700);
	assert_int_equal(mode_of(p.key), 0600);
	assert_int_equal(mode_of(p.cert), 0644);
	assert_int_equal(entries_in(p.dir), 2); /* no temporary file left */

	char *cert_file = slurp(p.cert), *key_file = slurp(p.key);
	assert_string_equal(m.cert_pem, cert_file);
	assert_string_equal(m.key_pem, key_file);
	assert_true(strncmp(m.cert_pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	assert_true(strncmp(m.key_pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);

	/* "SHA256:" and 32 uppercase hex bytes separated by colons. */
	assert_int_equal(strlen(m.fingerprint), 7 + 32 * 3 - 1);
	assert_true(strncmp(m.fingerprint, "SHA256:", 7) == 0);
	for (size_t i = 7; m.fingerprint[i] != '\0'; i++) {
		char c = m.fingerprint[i];
		if ((i - 7) % 3 == 2)
			assert_int_equal(c, ':');
		else
			assert_true((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
	}
	/* Ten calendar years: 3652 or 3653 days, give or take the test's own duration. */
	assert_true(m.not_after >= before + 3652L * 86400);
	assert_true(m.not_after <= time(NULL) + 3653L * 86400);

	struct gd_tls_material again;
	char err[512] = "";
	assert_int_equal(gd_tls_load(&again, p.cert, p.key, true, err, sizeof(err)), 0);
	assert_false(again.generated);
	assert_string_equal(again.fingerprint, m.fingerprint);
	assert_string_equal(again.cert_pem, m.cert_pem);
	assert_string_equal(again.key_pem, m.key_pem);
	assert_int_equal(again.not_after, m.not_after);
	/* Reloading without GENERATE is the same. */
	gd_tls_free(&again);
	assert_int_equal(gd_tls_load(&again, p.cert, p.key, false, err, sizeof(err)), 0);
	assert_string_equal(again.fingerprint, m.fingerprint);

	free(cert_file);
	free(key_file);
	gd_tls_free(&again);
	gd_tls_free(&m);
	gd_tls_free(&m); /* harmless twice */
	assert_null(m.key_pem);
	gd_tls_free(NULL);
}

static void test_fingerprint_matches_openssl(void **state)
{
	(void)state;
	struct gd_tls_material m;
	struct pair p = generate("fp", &m);

	/* The digest of the DER certificate, computed here. */
	X509 *x = cert_of(m.cert_pem);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &len), 1);
	assert_int_equal(len, 32);
	char expect[128] = "SHA256";
	for (unsigned int i = 0; i < len; i++)
		snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), ":%02X", md[i]);
	assert_string_equal(m.fingerprint, expect);
	X509_free(x);

	/* What `openssl x509 -fingerprint -sha256` prints: "sha256 Fingerprint=AB:CD:...". */
	char cmd[PATH_LEN + 96], line[256] = "";
	snprintf(cmd, sizeof(cmd), "openssl x509 -noout -fingerprint -sha256 -in '%s' 2>/dev/null",
	         p.cert);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char *got = fgets(line, sizeof(line), f);
	int status = pclose(f);
	gd_tls_free(&m);
	if (got == NULL || status != 0) {
		print_message("openssl CLI not available: comparison skipped\n");
		skip();
	}
	line[strcspn(line, "\n")] = '\0';
	const char *eq = strchr(line, '=');
	assert_non_null(eq);
	assert_string_equal(eq + 1, expect + 7);
}

static bool has_name(GENERAL_NAMES *names, int type, const char *dns, const unsigned char *ip)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type != type)
			continue;
		if (type == GEN_DNS &&
		    strcmp((const char *)ASN1_STRING_get0_data(g->d.dNSName), dns) == 0)
			return true;
		if (type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4 &&
		    memcmp(ASN1_STRING_get0_data(g->d.iPAddress), ip, 4) == 0)
			return true;
	}
	return false;
}

static void test_generated_certificate_fields(void **state)
{
	(void)state;
	struct gd_tls_material m;
	generate("fields", &m);
	X509 *x = cert_of(m.cert_pem);
	EVP_PKEY *key = key_of(m.key_pem);
	time_t now = time(NULL);

	char host[256] = "";
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	char cn[256] = "";
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
	                                      sizeof(cn)) > 0);
	/* The host name, unless it is not a usable DNS name. */
	if (strcmp(cn, "gadgetd") != 0)
		assert_string_equal(cn, host);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);

	/* Self-signed with SHA-256 by an EC P-256 key that is the one returned. */
	EVP_PKEY *pub = X509_get0_pubkey(x);
	assert_true(EVP_PKEY_is_a(pub, "EC"));
	char group[64] = "";
	assert_int_equal(EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL), 1);
	assert_string_equal(group, "prime256v1");
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(X509_check_private_key(x, key), 1);

	/* Trusted as itself, a client accepts it for the names in it (no CA certificate). */
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, x), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	assert_int_equal(
	    X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), "localhost", 0), 1);
	int ok = X509_verify_cert(ctx);
	if (ok != 1)
		print_error("verify: %s\n",
		            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	assert_int_equal(ok, 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);

	/* A positive serial of at most 128 random bits (under 97 bits: odds of 2^-32). */
	BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_non_null(serial);
	assert_false(BN_is_negative(serial));
	assert_in_range(BN_num_bits(serial), 97, 128);
	BN_free(serial);

	/* Validity: from an hour ago (within a minute), for ten years. The date is read back with
	 * the C library: OpenSSL's time_t calls are 32-bit on bookworm's armhf. */
	struct tm tm;
	assert_int_equal(ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm), 1);
	time_t not_before = timegm(&tm);
	assert_in_range(not_before, now - 3600 - 60, now - 3600 + 60);
	int days = 0, secs = 0;
	assert_int_equal(
	    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
	assert_in_range(days, 3652, 3653);

	/* Extensions: SAN, CA:FALSE critical, digitalSignature, serverAuth. */
	int crit = -1;
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(names);
	assert_int_equal(crit, 0);
	static const unsigned char loopback[4] = {127, 0, 0, 1};
	assert_true(has_name(names, GEN_DNS, cn, NULL));
	assert_true(has_name(names, GEN_DNS, "localhost", NULL));
	assert_true(has_name(names, GEN_IPADD, NULL, loopback));
	assert_int_equal(sk_GENERAL_NAME_num(names), strcmp(cn, "localhost") == 0 ? 2 : 3);
	GENERAL_NAMES_free(names);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, cn, 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);

	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_int_equal(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);

	/* Another generation: another key, serial and fingerprint. */
	struct gd_tls_material other;
	generate("fields2", &other);
	X509 *y = cert_of(other.cert_pem);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x), X509_get0_serialNumber(y)),
	                     0);
	assert_string_not_equal(m.fingerprint, other.fingerprint);
	assert_int_not_equal(X509_check_private_key(y, key), 1);
	X509_free(y);
	gd_tls_free(&other);

	EVP_PKEY_free(key);
	X509_free(x);
	gd_tls_free(&m);
}

static void test_missing_files(void **state)
{
	(void)state;
	struct gd_tls_material m;
	struct pair p = generate("missing", &m);
	gd_tls_free(&m);
	struct pair absent = pair_in("missing/nothing-here");

	/* Certificate only, key only: the missing one is named. */
	load_fails(p.cert, absent.key, -ENOENT, absent.key, "does not exist");
	load_fails(absent.cert, p.key, -ENOENT, absent.cert, "does not exist");

	/* Neither, without GENERATE: nothing is created. */
	char err[512] = "";
	assert_int_equal(gd_tls_load(&m, absent.cert, absent.key, false, err, sizeof(err)),
	                 -ENOENT);
	assert_non_null(strstr(err, absent.cert));
	assert_non_null(strstr(err, absent.key));
	assert_null(m.cert_pem);
	struct stat st;
	assert_int_equal(stat(absent.dir, &st), -1);

	/* Only one level of missing directory is created. */
	struct pair deep = pair_in("deep/er");
	assert_int_equal(gd_tls_load(&m, deep.cert, deep.key, true, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, deep.dir));
	assert_null(m.key_pem);

	/* Generating the certificate and the key into one file is refused. */
	assert_int_equal(gd_tls_load(&m, absent.cert, absent.cert, true, err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, absent.cert));
}

static void test_garbage(void **state)
{
	(void)state;
	struct gd_tls_material m;
	struct pair p = generate("garbage", &m);
	gd_tls_free(&m);
	struct pair bad = pair_in("garbage");
	snprintf(bad.cert, sizeof(bad.cert), "%s/bad-cert.pem", bad.dir);
	snprintf(bad.key, sizeof(bad.key), "%s/bad-key.pem", bad.dir);

	spew(bad.cert, "hello, not a certificate\n");
	load_fails(bad.cert, p.key, -EINVAL, bad.cert, "no PEM certificate");
	spew(bad.cert, "");
	load_fails(bad.cert, p.key, -EINVAL, bad.cert, "no PEM certificate");
	spew(bad.cert, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n"
	               "-----END CERTIFICATE-----\n");
	load_fails(bad.cert, p.key, -EINVAL, bad.cert, "invalid");
	spew(bad.cert, "-----BEGIN CERTIFICATE-----\n!!!! not base64 ****\n"
	               "-----END CERTIFICATE-----\n");
	load_fails(bad.cert, p.key, -EINVAL, bad.cert, "invalid");
	/* The key's file given as the certificate. */
	load_fails(p.key, p.key, -EINVAL, p.key, "no PEM certificate");

	spew(bad.key, "hello, not a key\n");
	load_fails(p.cert, bad.key, -EINVAL, bad.key, "no PEM private key");
	spew(bad.key, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
	load_fails(p.cert, bad.key, -EINVAL, bad.key, "cannot be decoded");
	/* The certificate's file given as the key. */
	load_fails(p.cert, p.cert, -EINVAL, p.cert, "no PEM private key");

	/* A chain whose second certificate is broken. */
	char *cert = slurp(p.cert);
	char *chain = malloc(strlen(cert) + 128);
	assert_non_null(chain);
	sprintf(chain, "%s-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", cert);
	spew(bad.cert, chain);
	load_fails(bad.cert, p.key, -EINVAL, bad.cert, "certificate 2 is invalid");
	free(chain);
	free(cert);
}

static void test_mismatch(void **state)
{
	(void)state;
	struct gd_tls_material a, b;
	struct pair pa = generate("mismatch-a", &a), pb = generate("mismatch-b", &b);
	gd_tls_free(&a);
	gd_tls_free(&b);
	load_fails(pa.cert, pb.key, -EINVAL, pb.key, "does not match");
	load_fails(pb.cert, pa.key, -EINVAL, pb.cert, "does not match");
}

static void test_unreadable(void **state)
{
	(void)state;
	struct gd_tls_material m;
	struct pair p = generate("unreadable", &m);
	gd_tls_free(&m);
	/* A directory where the certificate should be. */
	load_fails(p.dir, p.key, -EISDIR, p.dir, "not a regular file");
	if (geteuid() != 0) {
		assert_int_equal(chmod(p.key, 0), 0);
		load_fails(p.cert, p.key, -EACCES, p.key, "Permission denied");
		assert_int_equal(chmod(p.key, 0600), 0);
	}
	/* A path through a file. */
	char through[PATH_LEN + 32];
	snprintf(through, sizeof(through), "%s/x", p.key);
	load_fails(through, p.key, -ENOTDIR, through, NULL);
}

/* Writes M's key to PATH in another form: traditional "EC PRIVATE KEY", or encrypted. */
static void rewrite_key(const struct gd_tls_material *m, const char *path, bool encrypt)
{
	EVP_PKEY *key = key_of(m->key_pem);
	BIO *out = BIO_new_file(path, "w");
	assert_non_null(out);
	if (encrypt)
		assert_int_equal(PEM_write_bio_PrivateKey(out, key, EVP_aes_256_cbc(),
		                                          (unsigned char *)"secret", 6, NULL, NULL),
		                 1);
	else
		assert_int_equal(
		    PEM_write_bio_PrivateKey_traditional(out, key, NULL, NULL, 0, NULL, NULL), 1);
	BIO_free(out);
	EVP_PKEY_free(key);
}

static void test_key_formats(void **state)
{
	(void)state;
	struct gd_tls_material m, got;
	struct pair p = generate("formats", &m);
	char err[512] = "";

	/* A traditional EC key is accepted and handed out as PKCS#8. */
	rewrite_key(&m, p.key, false);
	char *text = slurp(p.key);
	assert_non_null(strstr(text, "BEGIN EC PRIVATE KEY"));
	free(text);
	assert_int_equal(gd_tls_load(&got, p.cert, p.key, false, err, sizeof(err)), 0);
	assert_string_equal(got.key_pem, m.key_pem);
	gd_tls_free(&got);

	/* An encrypted key is refused without prompting for a passphrase. */
	rewrite_key(&m, p.key, true);
	load_fails(p.cert, p.key, -EINVAL, p.key, "encrypted");
	gd_tls_free(&m);
}

static void test_chain_and_combined(void **state)
{
	(void)state;
	struct gd_tls_material a, b, got;
	struct pair pa = generate("chain-a", &a), pb = generate("chain-b", &b);
	char err[512] = "";

	/* Leaf then another certificate, with text around: both kept, the leaf fingerprinted. */
	char chain_path[PATH_LEN + 32];
	snprintf(chain_path, sizeof(chain_path), "%s/chain.pem", pa.dir);
	char *chain = malloc(strlen(a.cert_pem) + strlen(b.cert_pem) + 64);
	assert_non_null(chain);
	sprintf(chain, "subject=leaf\n%s\nsubject=other\n%s", a.cert_pem, b.cert_pem);
	spew(chain_path, chain);
	assert_int_equal(gd_tls_load(&got, chain_path, pa.key, false, err, sizeof(err)), 0);
	assert_string_equal(got.fingerprint, a.fingerprint);
	sprintf(chain, "%s%s", a.cert_pem, b.cert_pem);
	assert_string_equal(got.cert_pem, chain);
	gd_tls_free(&got);
	free(chain);

	/* One file with the key and the certificate, given as both: the key stays out of
	 * cert_pem. */
	char both_path[PATH_LEN + 32];
	snprintf(both_path, sizeof(both_path), "%s/both.pem", pb.dir);
	char *both = malloc(strlen(b.cert_pem) + strlen(b.key_pem) + 1);
	assert_non_null(both);
	sprintf(both, "%s%s", b.key_pem, b.cert_pem);
	spew(both_path, both);
	free(both);
	assert_int_equal(gd_tls_load(&got, both_path, both_path, false, err, sizeof(err)), 0);
	assert_false(got.generated);
	assert_string_equal(got.cert_pem, b.cert_pem);
	assert_string_equal(got.key_pem, b.key_pem);
	assert_string_equal(got.fingerprint, b.fingerprint);
	gd_tls_free(&got);

	gd_tls_free(&a);
	gd_tls_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate_then_load),
	    cmocka_unit_test(test_fingerprint_matches_openssl),
	    cmocka_unit_test(test_generated_certificate_fields),
	    cmocka_unit_test(test_missing_files),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_mismatch),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_key_formats),
	    cmocka_unit_test(test_chain_and_combined),
	};
	int failed = cmocka_run_group_tests_name("tls", tests, NULL, NULL);
	unit_scratch_cleanup();
	return failed;
}
