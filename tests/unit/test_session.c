/* Unit tests of session and secret: fresh secrets, CSRF, idle and absolute expiry, revocation. */
#include "session.h"

#include <errno.h>

#include "unit.h"

static void test_create_find_revoke(void **state)
{
	(void)state;
	struct gd_sessions *s = gd_sessions_new(4, 1000, 10000);
	char secret[GD_SECRET_TEXT + 1], other[GD_SECRET_TEXT + 1];
	char csrf[GD_SESSION_CSRF_LEN + 1], csrf2[GD_SESSION_CSRF_LEN + 1],
	    got[GD_SESSION_CSRF_LEN + 1];
	char user[64];
	assert_int_equal(gd_sessions_create(s, "alice", 100, secret, csrf), 0);
	assert_int_equal(strlen(secret), GD_SECRET_TEXT);
	assert_int_equal(strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                "0123456789-_"),
	                 GD_SECRET_TEXT);
	assert_int_equal(strlen(csrf), GD_SESSION_CSRF_LEN);
	assert_int_equal(gd_sessions_create(s, "bob", 100, other, csrf2), 0);
	assert_string_not_equal(secret, other);
	assert_string_not_equal(csrf, csrf2);
	assert_int_equal(gd_sessions_find(s, secret, 200, user, sizeof(user), got), 0);
	assert_string_equal(user, "alice");
	assert_string_equal(got, csrf);
	assert_int_equal(gd_sessions_find(s, "not-a-session", 200, user, sizeof(user), got),
	                 -ENOENT);
	assert_int_equal(gd_sessions_count(s, 200), 2);
	assert_int_equal(gd_sessions_revoke(s, secret), 0);
	assert_int_equal(gd_sessions_find(s, secret, 300, user, sizeof(user), got), -ENOENT);
	assert_int_equal(gd_sessions_revoke(s, secret), -ENOENT);
	assert_int_equal(gd_sessions_find(s, other, 300, user, sizeof(user), got), 0);
	gd_sessions_free(s);
}

/* Redfish's Sessions/{id}: a public id per session, listed and ended by its owner or anyone. */
static void test_public_ids(void **state)
{
	(void)state;
	struct gd_sessions *s = gd_sessions_new(4, 1000, 10000);
	char a[GD_SECRET_TEXT + 1], b[GD_SECRET_TEXT + 1], csrf[GD_SESSION_CSRF_LEN + 1];
	char ida[GD_SESSION_ID_LEN + 1], idb[GD_SESSION_ID_LEN + 1], user[64];
	char ids[4][GD_SESSION_ID_LEN + 1];
	assert_int_equal(gd_sessions_create(s, "alice", 100, a, csrf), 0);
	assert_int_equal(gd_sessions_create(s, "bob", 100, b, csrf), 0);
	assert_int_equal(gd_sessions_id(s, a, ida), 0);
	assert_int_equal(gd_sessions_id(s, b, idb), 0);
	assert_int_equal(strlen(ida), GD_SESSION_ID_LEN);
	assert_int_equal(strspn(ida, "0123456789abcdef"), GD_SESSION_ID_LEN);
	assert_string_not_equal(ida, idb);
	assert_null(strstr(a, ida)); /* the id tells nothing of the secret */
	assert_int_equal(gd_sessions_id(s, "nope", ida), -ENOENT);
	assert_int_equal(gd_sessions_find_id(s, idb, 200, user, sizeof(user)), 0);
	assert_string_equal(user, "bob");
	assert_int_equal(gd_sessions_ids(s, 200, NULL, ids, 4), 2);
	assert_int_equal(gd_sessions_ids(s, 200, "alice", ids, 4), 1);
	assert_string_equal(ids[0], ida);
	assert_int_equal(gd_sessions_revoke_id(s, idb, "alice", 200), -EPERM);
	assert_int_equal(gd_sessions_revoke_id(s, idb, NULL, 200), 0);
	assert_int_equal(gd_sessions_find(s, b, 200, user, sizeof(user), csrf), -ENOENT);
	assert_int_equal(gd_sessions_revoke_id(s, idb, NULL, 200), -ENOENT);
	/* An expired session has no id any more. */
	assert_int_equal(gd_sessions_find_id(s, ida, 5000, user, sizeof(user)), -ENOENT);
	assert_int_equal(gd_sessions_ids(s, 5000, NULL, ids, 4), 0);
	gd_sessions_free(s);
}

static void test_expiry(void **state)
{
	(void)state;
	struct gd_sessions *s = gd_sessions_new(4, 1000, 2500);
	char secret[GD_SECRET_TEXT + 1], csrf[GD_SESSION_CSRF_LEN + 1], user[64];
	assert_int_equal(gd_sessions_create(s, "alice", 0, secret, csrf), 0);
	/* Used within the idle time, it lives on ... */
	assert_int_equal(gd_sessions_find(s, secret, 900, user, sizeof(user), csrf), 0);
	assert_int_equal(gd_sessions_find(s, secret, 1800, user, sizeof(user), csrf), 0);
	/* ... but never past its lifetime. */
	assert_int_equal(gd_sessions_find(s, secret, 2600, user, sizeof(user), csrf), -ENOENT);
	assert_int_equal(gd_sessions_create(s, "alice", 3000, secret, csrf), 0);
	assert_int_equal(gd_sessions_find(s, secret, 4000, user, sizeof(user), csrf), -ENOENT);
	assert_int_equal(gd_sessions_count(s, 4000), 0);
	gd_sessions_free(s);
}

/* Threads read the clock before they take the lock: an older time must not end a session. */
static void test_times_out_of_order(void **state)
{
	(void)state;
	struct gd_sessions *s = gd_sessions_new(4, 1000, 100000);
	char secret[GD_SECRET_TEXT + 1], csrf[GD_SESSION_CSRF_LEN + 1], user[64];
	assert_int_equal(gd_sessions_create(s, "alice", 5000, secret, csrf), 0);
	assert_int_equal(gd_sessions_find(s, secret, 5500, user, sizeof(user), csrf), 0);
	assert_int_equal(gd_sessions_find(s, secret, 5400, user, sizeof(user), csrf), 0);
	assert_int_equal(gd_sessions_find(s, secret, 4999, user, sizeof(user), csrf), 0);
	/* The later use counts: idle from 5500, not from 4999. */
	assert_int_equal(gd_sessions_find(s, secret, 6400, user, sizeof(user), csrf), 0);
	gd_sessions_free(s);
}

static void test_full_table_drops_least_recent(void **state)
{
	(void)state;
	struct gd_sessions *s = gd_sessions_new(2, 10000, 100000);
	char a[GD_SECRET_TEXT + 1], b[GD_SECRET_TEXT + 1], c[GD_SECRET_TEXT + 1];
	char csrf[GD_SESSION_CSRF_LEN + 1], user[64];
	assert_int_equal(gd_sessions_create(s, "a", 10, a, csrf), 0);
	assert_int_equal(gd_sessions_create(s, "b", 20, b, csrf), 0);
	assert_int_equal(gd_sessions_find(s, a, 30, user, sizeof(user), csrf), 0);
	assert_int_equal(gd_sessions_create(s, "c", 40, c, csrf), 0);
	assert_int_equal(gd_sessions_find(s, b, 50, user, sizeof(user), csrf), -ENOENT);
	assert_int_equal(gd_sessions_find(s, a, 50, user, sizeof(user), csrf), 0);
	assert_int_equal(gd_sessions_find(s, c, 50, user, sizeof(user), csrf), 0);
	gd_sessions_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_find_revoke),
	    cmocka_unit_test(test_public_ids),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_times_out_of_order),
	    cmocka_unit_test(test_full_table_drops_least_recent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
