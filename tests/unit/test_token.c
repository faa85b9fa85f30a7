/* Unit tests of token: create, check, persist without the secret, expire, revoke, refuse. */
#include "token.h"

#include <errno.h>
#include <sys/stat.h>

#include "unit.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_lifecycle(void **state)
{
	(void)state;
	char path[256], err[256], secret[GD_TOKEN_TEXT + 1], name[64];
	snprintf(path, sizeof(path), "%s", unit_path("tokens.json"));
	struct gd_tokens *t = NULL;
	assert_int_equal(gd_tokens_open(&t, path, err, sizeof(err)), 0);
	json_t *rec = NULL;
	assert_int_equal(
	    gd_tokens_create(t, "ci", GD_ROLE_OPERATOR, "admin", 0, secret, &rec, err, sizeof(err)),
	    0);
	assert_int_equal(strncmp(secret, "gdt_", 4), 0);
	assert_int_equal(strlen(secret), GD_TOKEN_TEXT);
	assert_string_equal(json_string_value(json_object_get(rec, "role")), "operator");
	char id[16];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(rec, "id")));
	json_decref(rec);
	enum gd_role role = GD_ROLE_ADMIN;
	assert_int_equal(gd_tokens_check(t, secret, time(NULL), name, sizeof(name), &role), 0);
	assert_string_equal(name, "ci");
	assert_int_equal(role, GD_ROLE_OPERATOR);
	/* The file holds the digest, never the secret, and only its owner may read it. */
	assert_null(strstr(slurp(path), secret + 4));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	gd_tokens_close(t);

	assert_int_equal(gd_tokens_open(&t, path, err, sizeof(err)), 0);
	assert_int_equal(gd_tokens_check(t, secret, time(NULL), name, sizeof(name), &role), 0);
	secret[10] ^= 1;
	assert_int_equal(gd_tokens_check(t, secret, time(NULL), name, sizeof(name), &role),
	                 -ENOENT);
	secret[10] ^= 1;
	json_t *all = gd_tokens_list(t);
	assert_int_equal(json_array_size(all), 1);
	assert_null(json_object_get(json_array_get(all, 0), "sha256"));
	json_decref(all);
	assert_int_equal(gd_tokens_delete(t, "000000000000"), -ENOENT);
	assert_int_equal(gd_tokens_delete(t, id), 0);
	assert_int_equal(gd_tokens_check(t, secret, time(NULL), name, sizeof(name), &role),
	                 -ENOENT);
	gd_tokens_close(t);
	assert_int_equal(gd_tokens_open(&t, path, err, sizeof(err)), 0);
	assert_int_equal(gd_tokens_check(t, secret, time(NULL), name, sizeof(name), &role),
	                 -ENOENT);
	gd_tokens_close(t);
}

static void test_refusals_and_expiry(void **state)
{
	(void)state;
	char path[256], err[256], secret[GD_TOKEN_TEXT + 1], name[64];
	snprintf(path, sizeof(path), "%s", unit_path("tokens2.json"));
	struct gd_tokens *t = NULL;
	json_t *rec = NULL;
	enum gd_role role;
	assert_int_equal(gd_tokens_open(&t, path, err, sizeof(err)), 0);
	assert_int_equal(
	    gd_tokens_create(t, "../x", GD_ROLE_VIEWER, "admin", 0, secret, &rec, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(gd_tokens_create(t, "old", GD_ROLE_VIEWER, "admin", time(NULL) - 1, secret,
	                                  &rec, err, sizeof(err)),
	                 0);
	json_decref(rec);
	assert_int_equal(gd_tokens_check(t, secret, time(NULL), name, sizeof(name), &role),
	                 -EKEYEXPIRED);
	assert_int_equal(
	    gd_tokens_create(t, "old", GD_ROLE_VIEWER, "admin", 0, secret, &rec, err, sizeof(err)),
	    -EEXIST);
	assert_non_null(strstr(err, "old"));
	assert_int_equal(gd_tokens_check(t, "Basic abc", time(NULL), name, sizeof(name), &role),
	                 -ENOENT);
	gd_tokens_close(t);
	/* A damaged file is refused with its name, not taken for "no tokens". */
	const char *bad = unit_write("tokens-bad.json", "[{\"id\": 1}]");
	assert_int_equal(gd_tokens_open(&t, bad, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tokens-bad.json"));
	/* A directory that cannot be written: creating fails, nothing is half-kept. */
	snprintf(path, sizeof(path), "/proc/gadgetd-no-such/tokens.json");
	assert_int_equal(gd_tokens_open(&t, path, err, sizeof(err)), 0);
	assert_true(gd_tokens_create(t, "x", GD_ROLE_VIEWER, "admin", 0, secret, &rec, err,
	                             sizeof(err)) < 0);
	assert_int_equal(json_array_size(rec = gd_tokens_list(t)), 0);
	json_decref(rec);
	gd_tokens_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lifecycle),
	    cmocka_unit_test(test_refusals_and_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
