/* Unit tests of auth: the users file, passwords, and Basic headers right, wrong, missing,
 * malformed. */
#include "auth.h"

#include <errno.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "log.h"
#include "unit.h"

/* "Basic " + base64(CREDS), into a static buffer. */
static const char *basic(const char *creds, size_t len)
{
	static char header[512];
	memcpy(header, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)header + 6, (const unsigned char *)creds, (int)len);
	return header;
}

#define BASIC(s) basic(s, strlen(s))

static enum gd_role role; /* what the last check said */

static struct gd_auth *open_users(const char *path)
{
	struct gd_auth *auth = NULL;
	char err[256];
	assert_int_equal(gd_auth_open(&auth, path, err, sizeof(err)), 0);
	return auth;
}

static void test_set_password_and_check(void **state)
{
	(void)state;
	const char *path = unit_path("users");
	char err[256];
	assert_int_equal(gd_auth_set_password(path, "admin", "s3cret pass", -1, err, sizeof(err)),
	                 0);
	assert_int_equal(gd_auth_set_password(path, "viewer", "other", -1, err, sizeof(err)), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	struct gd_auth *auth = open_users(path);
	assert_int_equal(gd_auth_user_count(auth), 2);
	char user[64] = "";
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("admin:s3cret pass"), true, user, sizeof(user), &role),
	    GD_AUTH_OK);
	assert_string_equal(user, "admin");
	/* Again: answered from the verified-password cache, same result. */
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("admin:s3cret pass"), true, user, sizeof(user), &role),
	    GD_AUTH_OK);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("viewer:other"), true, user, sizeof(user), &role),
	    GD_AUTH_OK);
	assert_string_equal(user, "viewer");
	gd_auth_close(auth);
}

static void test_wrong_credentials(void **state)
{
	(void)state;
	const char *path = unit_path("users-wrong");
	char err[256], user[64] = "untouched";
	assert_int_equal(gd_auth_set_password(path, "admin", "right", -1, err, sizeof(err)), 0);
	struct gd_auth *auth = open_users(path);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("admin:wrong"), true, user, sizeof(user), &role),
	    GD_AUTH_DENIED);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("admin:righ"), true, user, sizeof(user), &role),
	    GD_AUTH_DENIED);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("admin:right "), true, user, sizeof(user), &role),
	    GD_AUTH_DENIED);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("nobody:right"), true, user, sizeof(user), &role),
	    GD_AUTH_DENIED);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("admin:"), true, user, sizeof(user), &role),
	    GD_AUTH_DENIED);
	assert_string_equal(user, "admin"); /* named in the log line, whatever the result */
	gd_auth_close(auth);
}

/* A throttled client is answered from the verified-password cache or not at all. */
static void test_throttled_never_hashes(void **state)
{
	(void)state;
	const char *path = unit_path("users-throttled");
	char err[256];
	enum gd_role got = GD_ROLE_VIEWER;
	assert_int_equal(gd_auth_set_password(path, "admin", "right", -1, err, sizeof(err)), 0);
	struct gd_auth *auth = open_users(path);
	assert_int_equal(gd_auth_check_password(auth, "admin", "right", false, &got),
	                 GD_AUTH_THROTTLED);
	assert_int_equal(gd_auth_check_password(auth, "admin", "right", true, &got), GD_AUTH_OK);
	assert_int_equal(got, GD_ROLE_ADMIN);
	assert_int_equal(gd_auth_check_password(auth, "admin", "right", false, &got), GD_AUTH_OK);
	assert_int_equal(gd_auth_check_password(auth, "admin", "wrong", false, &got),
	                 GD_AUTH_THROTTLED);
	assert_int_equal(gd_auth_check_password(auth, "nobody", "right", false, &got),
	                 GD_AUTH_THROTTLED);
	assert_int_equal(gd_auth_user_role(auth, "admin", &got), 0);
	assert_int_equal(gd_auth_user_role(auth, "nobody", &got), -ENOENT);
	gd_auth_close(auth);
}

static void test_missing_and_malformed(void **state)
{
	(void)state;
	const char *path = unit_path("users-malformed");
	char err[256], user[64];
	assert_int_equal(gd_auth_set_password(path, "admin", "pw", -1, err, sizeof(err)), 0);
	struct gd_auth *auth = open_users(path);
	assert_int_equal(gd_auth_check_basic(auth, NULL, true, user, sizeof(user), &role),
	                 GD_AUTH_MISSING);
	static const char *const bad[] = {
	    "",
	    "Bearer abcdef",
	    "Basic",
	    "Basic ",
	    "Basic !!!!",
	    "Basic YWRtaW4",      /* not a multiple of 4 */
	    "Basic YWRtaW4=",     /* "admin": no colon */
	    "Basic OnB3",         /* ":pw": empty user */
	    "Basic YWRtaW4AOnB3", /* NUL inside */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gd_auth_check_basic(auth, bad[i], true, user, sizeof(user), &role) !=
		    GD_AUTH_MALFORMED)
			fail_msg("header \"%s\" was not malformed", bad[i]);
	}
	assert_int_equal(
	    gd_auth_check_basic(auth, basic("admin\0:pw", 9), true, user, sizeof(user), &role),
	    GD_AUTH_MALFORMED);
	char huge[2100] = "Basic ";
	memset(huge + 6, 'A', sizeof(huge) - 7);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(gd_auth_check_basic(auth, huge, true, user, sizeof(user), &role),
	                 GD_AUTH_MALFORMED);
	/* The scheme is case-insensitive (RFC 7617). */
	const char *lower = BASIC("admin:pw");
	char copy[128];
	snprintf(copy, sizeof(copy), "basic %s", lower + 6);
	assert_int_equal(gd_auth_check_basic(auth, copy, true, user, sizeof(user), &role),
	                 GD_AUTH_OK);
	gd_auth_close(auth);
}

static void test_password_change_reloads(void **state)
{
	(void)state;
	const char *path = unit_path("users-reload");
	char err[256], user[64];
	assert_int_equal(gd_auth_set_password(path, "admin", "old", -1, err, sizeof(err)), 0);
	struct gd_auth *auth = open_users(path);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("admin:old"), true, user, sizeof(user), &role),
	    GD_AUTH_OK);
	assert_int_equal(gd_auth_set_password(path, "admin", "new", -1, err, sizeof(err)), 0);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("admin:old"), true, user, sizeof(user), &role),
	    GD_AUTH_DENIED);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("admin:new"), true, user, sizeof(user), &role),
	    GD_AUTH_OK);
	assert_int_equal(gd_auth_user_count(auth), 1); /* replaced, not added */
	gd_auth_close(auth);
}

static void test_bad_users_files(void **state)
{
	(void)state;
	struct gd_auth *auth = NULL;
	char err[256];
	assert_int_equal(gd_auth_open(&auth, unit_path("absent"), err, sizeof(err)), -ENOENT);
	assert_null(auth);
	const char *path = unit_write("users-bad", "# users\nadmin:$y$abc\nbroken line\n");
	assert_int_equal(gd_auth_open(&auth, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: expected 'name:hash'"));
	path = unit_write("users-plain", "admin:plaintext\n");
	assert_int_equal(gd_auth_open(&auth, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1: user 'admin': not a crypt(3) hash"));
	assert_int_equal(
	    gd_auth_set_password(unit_path("u"), "bad/name", "pw", -1, err, sizeof(err)), -EINVAL);
	assert_int_equal(gd_auth_set_password(unit_path("u"), "admin", "", -1, err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(
	    gd_auth_set_password("/nonexistent/dir/users", "admin", "pw", -1, err, sizeof(err)),
	    -ENOENT);
}

static void test_roles(void **state)
{
	(void)state;
	const char *path = unit_path("users-roles");
	char err[256], user[64];
	assert_int_equal(gd_auth_set_password(path, "boss", "a", -1, err, sizeof(err)), 0);
	assert_int_equal(gd_auth_set_password(path, "ops", "b", GD_ROLE_OPERATOR, err, sizeof(err)),
	                 0);
	assert_int_equal(gd_auth_set_password(path, "eyes", "c", GD_ROLE_VIEWER, err, sizeof(err)),
	                 0);
	/* A new password keeps the role unless one is given. */
	assert_int_equal(gd_auth_set_password(path, "eyes", "d", -1, err, sizeof(err)), 0);
	struct gd_auth *auth = open_users(path);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("boss:a"), true, user, sizeof(user), &role),
	    GD_AUTH_OK);
	assert_int_equal(role, GD_ROLE_ADMIN);
	assert_int_equal(gd_auth_check_basic(auth, BASIC("ops:b"), true, user, sizeof(user), &role),
	                 GD_AUTH_OK);
	assert_int_equal(role, GD_ROLE_OPERATOR);
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("eyes:d"), true, user, sizeof(user), &role),
	    GD_AUTH_OK);
	assert_int_equal(role, GD_ROLE_VIEWER);
	gd_auth_close(auth);
	/* A line from before roles is an admin; an unknown role is an error with its line. */
	char line[512];
	FILE *f = fopen(path, "r");
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(strstr(line, ":admin\n"));
	*strrchr(line, ':') = '\0';
	strcat(line, "\n");
	auth = open_users(unit_write("users-legacy", line));
	assert_int_equal(
	    gd_auth_check_basic(auth, BASIC("boss:a"), true, user, sizeof(user), &role),
	    GD_AUTH_OK);
	assert_int_equal(role, GD_ROLE_ADMIN);
	gd_auth_close(auth);
	line[strlen(line) - 1] = '\0';
	strcat(line, ":root\n");
	assert_int_equal(gd_auth_open(&auth, unit_write("users-badrole", line), err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, ":1: user 'boss': unknown role 'root'"));
	assert_int_equal(gd_auth_role_parse("operator"), GD_ROLE_OPERATOR);
	assert_int_equal(gd_auth_role_parse("Admin"), -1);
	assert_string_equal(gd_auth_role_name(GD_ROLE_VIEWER), "viewer");
}

static void test_name_valid(void **state)
{
	(void)state;
	assert_true(gd_auth_name_valid("admin"));
	assert_true(gd_auth_name_valid("ops.team-1_a"));
	assert_false(gd_auth_name_valid(""));
	assert_false(gd_auth_name_valid(".hidden"));
	assert_false(gd_auth_name_valid("-x"));
	assert_false(gd_auth_name_valid("a:b"));
	assert_false(gd_auth_name_valid("a b"));
	assert_false(gd_auth_name_valid("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
}

int main(void)
{
	gd_log_set_level(GD_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_password_and_check),
	    cmocka_unit_test(test_wrong_credentials),
	    cmocka_unit_test(test_throttled_never_hashes),
	    cmocka_unit_test(test_missing_and_malformed),
	    cmocka_unit_test(test_password_change_reloads),
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_bad_users_files),
	    cmocka_unit_test(test_name_valid),
	};
	int failed = cmocka_run_group_tests_name("auth", tests, NULL, NULL);
	unit_scratch_cleanup();
	return failed;
}
