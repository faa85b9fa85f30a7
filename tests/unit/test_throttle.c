/* Unit tests of throttle: growing waits, addresses kept apart, IPv6 per /64, forgetting. */
#include "throttle.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "unit.h"

static struct sockaddr_storage v4(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, text, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	sin6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void test_growing_wait_capped(void **state)
{
	(void)state;
	struct gd_throttle *t = gd_throttle_new(250, 2000, 60000);
	struct sockaddr_storage a = v4("192.0.2.1");
	assert_int_equal(gd_throttle_wait_ms(t, SA(a), 1000), 0);
	assert_int_equal(gd_throttle_fail(t, SA(a), 1000), 250);
	assert_int_equal(gd_throttle_wait_ms(t, SA(a), 1100), 150);
	assert_int_equal(gd_throttle_wait_ms(t, SA(a), 1250), 0);
	assert_int_equal(gd_throttle_fail(t, SA(a), 1300), 500);
	assert_int_equal(gd_throttle_fail(t, SA(a), 1900), 1000);
	assert_int_equal(gd_throttle_fail(t, SA(a), 3000), 2000);
	assert_int_equal(gd_throttle_fail(t, SA(a), 5000), 2000);
	assert_int_equal(gd_throttle_count(t, 5000), 1);
	/* A clock read before another thread's failure is older than it: still counted. */
	assert_true(gd_throttle_wait_ms(t, SA(a), 4999) > 0);
	assert_int_equal(gd_throttle_count(t, 4000), 1);
	gd_throttle_free(t);
}

static void test_addresses_apart(void **state)
{
	(void)state;
	struct gd_throttle *t = gd_throttle_new(1000, 60000, 60000);
	struct sockaddr_storage attacker = v4("198.51.100.7"), admin = v4("198.51.100.8");
	for (int i = 0; i < 20; i++)
		gd_throttle_fail(t, SA(attacker), 100);
	assert_true(gd_throttle_wait_ms(t, SA(attacker), 200) > 0);
	assert_int_equal(gd_throttle_wait_ms(t, SA(admin), 200), 0);
	/* One host's IPv6 prefix is one client; another prefix is not. */
	struct sockaddr_storage a = v6("2001:db8:1:2::1"), same = v6("2001:db8:1:2:ffff::9"),
	                        other = v6("2001:db8:1:3::1");
	gd_throttle_fail(t, SA(a), 100);
	assert_true(gd_throttle_wait_ms(t, SA(same), 200) > 0);
	assert_int_equal(gd_throttle_wait_ms(t, SA(other), 200), 0);
	gd_throttle_free(t);
}

static void test_forgets_and_makes_room(void **state)
{
	(void)state;
	struct gd_throttle *t = gd_throttle_new(100, 100000, 5000);
	struct sockaddr_storage a = v4("203.0.113.5");
	gd_throttle_fail(t, SA(a), 1000);
	gd_throttle_fail(t, SA(a), 1100);
	assert_int_equal(gd_throttle_fail(t, SA(a), 1200), 400);
	/* Quiet for longer than forget_ms: a fresh start. */
	assert_int_equal(gd_throttle_fail(t, SA(a), 7000), 100);
	/* More addresses than slots: the table stays bounded, the newest are tracked. */
	char text[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(text, sizeof(text), "10.%d.%d.1", i / 256, i % 256);
		struct sockaddr_storage x = v4(text);
		gd_throttle_fail(t, SA(x), 8000 + (uint64_t)i);
	}
	assert_int_equal(gd_throttle_count(t, 11000), 1024);
	struct sockaddr_storage last = v4("10.11.183.1"); /* i = 2999 */
	assert_true(gd_throttle_wait_ms(t, SA(last), 11000) > 0);
	gd_throttle_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_growing_wait_capped),
	    cmocka_unit_test(test_addresses_apart),
	    cmocka_unit_test(test_forgets_and_makes_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
