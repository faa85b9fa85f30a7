/*
 * Unit tests of console on a pseudo-terminal standing in for ttyGS0: output into the ring and
 * the log, writes, subscribers, expect, and a port hung up and reopened under a new device.
 */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <sys/stat.h>

#include "config.h"
#include "console_client.h"
#include "unit.h"

/* The "server" end of a pty; the console opens the symlink unit_path("tty") to its other end. */
static int open_server(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	const char *tty = unit_path("tty");
	unlink(tty);
	assert_int_equal(symlink(ptsname(master), tty), 0);
	return master;
}

static struct gd_console *start(struct gd_config *cfg)
{
	gd_config_defaults(cfg);
	cfg->console_buffer = 4096;
	cfg->console_write_timeout_ms = 200;
	struct gd_console *c;
	char err[256], tty[256], log[256];
	snprintf(tty, sizeof(tty), "%s", unit_path("tty"));
	snprintf(log, sizeof(log), "%s", unit_path("console.log"));
	unlink(log);
	assert_int_equal(gd_console_open(&c, cfg, tty, log, err, sizeof(err)), 0);
	struct gd_console_status st;
	for (int i = 0; i < 200; i++) {
		gd_console_get_status(c, &st);
		if (st.open)
			break;
		usleep(10000);
	}
	assert_true(st.open);
	return c;
}

static void server_says(int master, const char *text)
{
	assert_int_equal(write(master, text, strlen(text)), (ssize_t)strlen(text));
}

/* Reads all output from *OFFSET until it holds WANT bytes or a second passes. */
static size_t read_until(struct gd_console *c, uint64_t *offset, char *buf, size_t want)
{
	size_t got = 0;
	for (int i = 0; i < 100 && got < want; i++) {
		uint64_t lost;
		got += gd_console_read(c, offset, buf + got, want - got, &lost);
		if (got < want)
			gd_console_wait(c, *offset, 10);
	}
	buf[got] = '\0';
	return got;
}

static void test_output_to_ring_log_and_subscriber(void **state)
{
	(void)state;
	int master = open_server();
	struct gd_config cfg;
	struct gd_console *c = start(&cfg);
	struct gd_console_sub *sub = gd_console_subscribe(c, GD_CONSOLE_TCP);
	assert_non_null(sub);
	server_says(master, "login: ");
	char buf[64];
	uint64_t off = 0;
	assert_int_equal(read_until(c, &off, buf, 7), 7);
	assert_string_equal(buf, "login: ");
	struct pollfd p = {.fd = gd_console_sub_fd(sub), .events = POLLIN};
	assert_int_equal(poll(&p, 1, 1000), 1);
	uint64_t lost;
	assert_int_equal(gd_console_sub_read(sub, buf, sizeof(buf), &lost), 7);
	assert_int_equal(poll(&p, 1, 0), 0); /* read: quiet until more comes */
	struct gd_console_status st;
	gd_console_get_status(c, &st);
	assert_int_equal(st.next, 7);
	assert_int_equal(st.clients[GD_CONSOLE_TCP], 1);
	gd_console_unsubscribe(sub);
	gd_console_close(c);
	FILE *f = fopen(unit_path("console.log"), "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf + 25, "login: ");
	close(master);
}

static void test_write_reaches_server(void **state)
{
	(void)state;
	int master = open_server();
	struct gd_config cfg;
	struct gd_console *c = start(&cfg);
	assert_int_equal(gd_console_write(c, "root\r", 5), 5);
	char buf[8] = "";
	struct pollfd p = {.fd = master, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_int_equal(read(master, buf, sizeof(buf)), 5); /* raw: no echo, CR unchanged */
	assert_memory_equal(buf, "root\r", 5);
	gd_console_close(c);
	close(master);
}

static void test_write_to_a_server_that_does_not_read(void **state)
{
	(void)state;
	int master = open_server();
	struct gd_config cfg;
	struct gd_console *c = start(&cfg);
	static char big[1 << 20];
	memset(big, 'x', sizeof(big));
	ssize_t rc = gd_console_write(c, big, sizeof(big));
	assert_true(rc > 0 && rc < (ssize_t)sizeof(big)); /* the pty's buffer took some */
	assert_int_equal(gd_console_write(c, big, sizeof(big)), -ETIMEDOUT);
	gd_console_close(c);
	close(master);
}

static void test_expect(void **state)
{
	(void)state;
	int master = open_server();
	struct gd_config cfg;
	struct gd_console *c = start(&cfg);
	regex_t re;
	assert_int_equal(regcomp(&re, "log+in: ?$", REG_EXTENDED | REG_NEWLINE), 0);
	server_says(master, "Debian GNU/Linux 12\r\nhost lo");
	struct gd_console_match m;
	assert_int_equal(gd_console_expect(c, &re, 0, 300, &m), -ETIMEDOUT);
	server_says(master, "gin: ");
	assert_int_equal(gd_console_expect(c, &re, 0, 1000, &m), 0);
	assert_string_equal(m.text, "login: ");
	assert_int_equal(m.start, 26);
	assert_int_equal(m.end, 33);
	/* From after the match on, it is not seen again. */
	assert_int_equal(gd_console_expect(c, &re, m.end, 200, &m), -ETIMEDOUT);
	regfree(&re);
	/* NUL bytes in the output do not end the text. */
	assert_int_equal(regcomp(&re, "a.b", REG_EXTENDED | REG_NEWLINE), 0);
	assert_int_equal(write(master, "\0a\0b", 4), 4);
	assert_int_equal(gd_console_expect(c, &re, 33, 1000, &m), 0);
	assert_int_equal(m.start, 34);
	regfree(&re);
	gd_console_close(c);
	close(master);
}

/* Output long past the window and the ring: the pattern at the end is still found. */
static void test_expect_after_much_output(void **state)
{
	(void)state;
	int master = open_server();
	struct gd_config cfg;
	struct gd_console *c = start(&cfg);
	regex_t re;
	assert_int_equal(regcomp(&re, "^DONE [0-9]+$", REG_EXTENDED | REG_NEWLINE), 0);
	char line[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(line, sizeof(line), "progress %d\n", i);
		server_says(master, line);
	}
	server_says(master, "DONE 42\n");
	struct gd_console_match m;
	assert_int_equal(gd_console_expect(c, &re, 0, 3000, &m), 0);
	assert_string_equal(m.text, "DONE 42");
	regfree(&re);
	gd_console_close(c);
	close(master);
}

static void test_hangup_reopens_and_keeps_offsets(void **state)
{
	(void)state;
	int master = open_server();
	struct gd_config cfg;
	struct gd_console *c = start(&cfg);
	server_says(master, "before\n");
	char buf[64];
	uint64_t off = 0;
	assert_int_equal(read_until(c, &off, buf, 7), 7);
	close(master);          /* the host side goes away: the console reads EIO */
	master = open_server(); /* and comes back as another device */
	struct gd_console_status st;
	for (int i = 0; i < 300; i++) {
		gd_console_get_status(c, &st);
		if (st.reopens == 1 && st.open)
			break;
		usleep(10000);
	}
	assert_int_equal(st.reopens, 1);
	assert_true(st.open);
	server_says(master, "after\n");
	assert_int_equal(read_until(c, &off, buf, 6), 6);
	assert_string_equal(buf, "after\n");
	assert_int_equal(off, 13); /* offsets go on across the reopen */
	assert_int_equal(gd_console_write(c, "x", 1), 1);
	gd_console_close(c);
	close(master);
}

/* A client that falls behind the ring gets a notice of the gap, then the output after it. */
static void test_slow_client_is_told_what_it_missed(void **state)
{
	(void)state;
	int master = open_server();
	struct gd_config cfg;
	struct gd_console *c = start(&cfg); /* a 4 KiB ring */
	struct gd_console_sub *sub = gd_console_subscribe(c, GD_CONSOLE_WS);
	char chunk[1000];
	memset(chunk, 'a', sizeof(chunk));
	for (int i = 0; i < 6; i++)
		assert_int_equal(write(master, chunk, sizeof(chunk)), sizeof(chunk));
	server_says(master, "END");
	char text[64];
	uint64_t off = 6000;
	assert_int_equal(read_until(c, &off, text, 3), 3);
	uint8_t buf[8192];
	size_t n = gd_console_client_read(sub, buf, sizeof(buf));
	buf[n] = '\0';
	const char *note = "\r\n[gadgetd: 1907 bytes skipped: the client fell behind]\r\n";
	assert_memory_equal(buf, note, strlen(note));
	assert_int_equal(n, strlen(note) + 4096);
	assert_memory_equal(buf + n - 3, "END", 3);
	assert_int_equal(gd_console_client_read(sub, buf, sizeof(buf)), 0);
	gd_console_unsubscribe(sub);
	gd_console_close(c);
	close(master);
}

static void test_interrupt_wakes_waiters(void **state)
{
	(void)state;
	int master = open_server();
	struct gd_config cfg;
	struct gd_console *c = start(&cfg);
	gd_console_interrupt(c);
	assert_int_equal(gd_console_wait(c, 0, 5000), -ECANCELED);
	regex_t re;
	assert_int_equal(regcomp(&re, "never", REG_EXTENDED), 0);
	struct gd_console_match m;
	assert_int_equal(gd_console_expect(c, &re, 0, 5000, &m), -ECANCELED);
	regfree(&re);
	gd_console_close(c);
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_output_to_ring_log_and_subscriber),
	    cmocka_unit_test(test_write_reaches_server),
	    cmocka_unit_test(test_write_to_a_server_that_does_not_read),
	    cmocka_unit_test(test_expect),
	    cmocka_unit_test(test_expect_after_much_output),
	    cmocka_unit_test(test_hangup_reopens_and_keeps_offsets),
	    cmocka_unit_test(test_slow_client_is_told_what_it_missed),
	    cmocka_unit_test(test_interrupt_wakes_waiters),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	unit_scratch_cleanup();
	return failed;
}
