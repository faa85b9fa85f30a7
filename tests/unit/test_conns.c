/* Unit tests of conns: the request deadline (408), idle closing, making room, and 503. */
#include "conns.h"

#include <poll.h>
#include <sys/socket.h>

#include "unit.h"

/* What the client end of a dropped connection reads before EOF, within TIMEOUT_MS. */
static ssize_t read_until_eof(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t got = 0;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1; /* still open */
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void test_deadline_gives_408(void **state)
{
	(void)state;
	struct gd_conns *c = gd_conns_new(8, 1, 60);
	int slow[2], busy[2], secure[2];
	pair(slow);
	pair(busy);
	pair(secure);
	struct gd_conn *e_slow = gd_conns_add(c, slow[0], false);
	struct gd_conn *e_busy = gd_conns_add(c, busy[0], false);
	struct gd_conn *e_secure = gd_conns_add(c, secure[0], true);
	gd_conns_busy(c, e_busy);
	char buf[512];
	assert_true(read_until_eof(slow[1], buf, sizeof(buf), 3000) > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 408 Request Timeout"));
	assert_non_null(strstr(buf, "request_timeout"));
	/* TLS: no plaintext reply, just the close. */
	assert_int_equal(read_until_eof(secure[1], buf, sizeof(buf), 3000), 0);
	/* A connection being answered has no deadline. */
	assert_int_equal(read_until_eof(busy[1], buf, sizeof(buf), 300), -1);
	assert_int_equal(gd_conns_dropped(c), 2);
	assert_int_equal(gd_conns_count(c), 3);
	gd_conns_remove(c, e_slow);
	gd_conns_remove(c, e_busy);
	gd_conns_remove(c, e_secure);
	assert_int_equal(gd_conns_count(c), 0);
	gd_conns_free(c);
	for (int i = 0; i < 2; i++) {
		close(slow[i]);
		close(busy[i]);
		close(secure[i]);
	}
}

static void test_full_makes_room_or_503(void **state)
{
	(void)state;
	struct gd_conns *c = gd_conns_new(2, 2, 60);
	int a[2], b[2], d[2], e[2], f[2];
	pair(a);
	pair(b);
	pair(d);
	pair(e);
	pair(f);
	struct gd_conn *ea = gd_conns_add(c, a[0], false);
	struct gd_conn *eb = gd_conns_add(c, b[0], false);
	gd_conns_busy(c, eb);
	/* Full, and A's request began a moment ago: A is being served, the newcomer D waits. */
	struct gd_conn *ed = gd_conns_add(c, d[0], false);
	assert_true(gd_conns_over(c, ed));
	gd_conns_remove(c, ed);
	/* A quarter of the deadline later A counts as slow and makes room for E. */
	usleep(600 * 1000);
	struct gd_conn *ee = gd_conns_add(c, e[0], false);
	assert_false(gd_conns_over(c, ee));
	char buf[512];
	assert_true(read_until_eof(a[1], buf, sizeof(buf), 1000) > 0);
	assert_non_null(strstr(buf, " 408 "));
	/* B and E busy (A dropped): no one to make room for F, which gets 503. */
	gd_conns_busy(c, ee);
	struct gd_conn *ef = gd_conns_add(c, f[0], false);
	assert_true(gd_conns_over(c, ef));
	/* Handed-over connections are never dropped, idle or not. */
	gd_conns_upgraded(c, eb);
	gd_conns_idle(c, eb);
	assert_int_equal(read_until_eof(b[1], buf, sizeof(buf), 300), -1);
	gd_conns_remove(c, ea);
	gd_conns_remove(c, eb);
	gd_conns_remove(c, ee);
	gd_conns_remove(c, ef);
	gd_conns_free(c);
	int *all[] = {a, b, d, e, f};
	for (size_t i = 0; i < 5; i++) {
		close(all[i][0]);
		close(all[i][1]);
	}
}

static void test_idle_closed_quietly(void **state)
{
	(void)state;
	struct gd_conns *c = gd_conns_new(8, 60, 1);
	int a[2];
	pair(a);
	struct gd_conn *e = gd_conns_add(c, a[0], false);
	gd_conns_busy(c, e);
	gd_conns_idle(c, e); /* a keep-alive connection after its reply */
	char buf[64];
	assert_int_equal(read_until_eof(a[1], buf, sizeof(buf), 3000), 0);
	gd_conns_remove(c, e);
	gd_conns_free(c);
	close(a[0]);
	close(a[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deadline_gives_408),
	    cmocka_unit_test(test_full_makes_room_or_503),
	    cmocka_unit_test(test_idle_closed_quietly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
