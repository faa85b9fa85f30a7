/* Unit tests of conslog: a stamp at each line start, lines across writes, rotation by size. */
#include "conslog.h"

#include <sys/stat.h>

#include "unit.h"

#include <errno.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	static char buf[1 << 20];
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* The log without its stamps; checks each stamp's shape on the way. */
static size_t strip(const char *log, size_t len, char *out)
{
	size_t o = 0;
	bool start = true;
	for (size_t i = 0; i < len;) {
		if (start) {
			assert_true(len - i >= GD_CONSLOG_STAMP_LEN);
			assert_int_equal(log[i + 4], '-');
			assert_int_equal(log[i + 10], 'T');
			assert_int_equal(log[i + 23], 'Z');
			assert_int_equal(log[i + 24], ' ');
			i += GD_CONSLOG_STAMP_LEN;
			start = false;
			continue;
		}
		out[o++] = log[i];
		start = log[i++] == '\n';
	}
	return o;
}

static void test_stamps(void **state)
{
	(void)state;
	const char *path = unit_path("stamps.log");
	struct gd_conslog *log;
	char err[256];
	assert_int_equal(gd_conslog_open(&log, path, 1 << 20, 2, err, sizeof(err)), 0);
	struct timespec t = {.tv_sec = 1795313452, .tv_nsec = 123456789}; /* 2026-11-22 */
	assert_int_equal(gd_conslog_write(log, "login: ", 7, &t), 0);
	assert_int_equal(gd_conslog_write(log, "root\r\nPassword:\n\n", 17, &t), 0);
	gd_conslog_close(log);
	size_t len;
	const char *text = slurp(path, &len);
	assert_non_null(text);
	assert_string_equal(text, "2026-11-22T02:10:52.123Z login: root\r\n"
	                          "2026-11-22T02:10:52.123Z Password:\n"
	                          "2026-11-22T02:10:52.123Z \n");
}

static void test_rotation_keeps_everything(void **state)
{
	(void)state;
	const char *path = unit_path("rot.log");
	struct gd_conslog *log;
	char err[256];
	assert_int_equal(gd_conslog_open(&log, path, 4096, 3, err, sizeof(err)), 0);
	struct timespec t = {.tv_sec = 1795313452};
	char line[64], expected[32768];
	size_t elen = 0;
	for (int i = 0; i < 600; i++) {
		int n = snprintf(line, sizeof(line), "line %d of the console\n", i);
		memcpy(expected + elen, line, (size_t)n);
		elen += (size_t)n;
		assert_int_equal(gd_conslog_write(log, line, (size_t)n, &t), 0);
	}
	gd_conslog_close(log);
	/* Oldest first: rot.log.3, .2, .1, rot.log; each file starts a line and stays near 4 KiB.
	 */
	static char all[65536], stripped[65536];
	size_t alen = 0;
	const char *names[] = {"rot.log.3", "rot.log.2", "rot.log.1", "rot.log"};
	for (int i = 0; i < 4; i++) {
		size_t len;
		const char *text = slurp(unit_path(names[i]), &len);
		assert_non_null(text);
		assert_true(len > 0 && len < 4096 + 64);
		memcpy(all + alen, text, len);
		alen += len;
	}
	struct stat st;
	assert_int_equal(stat(unit_path("rot.log.4"), &st), -1); /* only 3 kept */
	size_t slen = strip(all, alen, stripped);
	/* What is left is the end of the stream, whole lines, without a gap. */
	assert_true(slen < elen);
	assert_memory_equal(stripped, expected + elen - slen, slen);
	assert_true(stripped[0] == 'l');
}

static void test_long_line_rotates_anyway(void **state)
{
	(void)state;
	const char *path = unit_path("long.log");
	struct gd_conslog *log;
	char err[256];
	assert_int_equal(gd_conslog_open(&log, path, 4096, 1, err, sizeof(err)), 0);
	struct timespec t = {0};
	static char junk[200000];
	memset(junk, 'y', sizeof(junk));
	assert_int_equal(gd_conslog_write(log, junk, sizeof(junk), &t), 0);
	gd_conslog_close(log);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size < 200000); /* cut by a rotation, not grown without bound */
	assert_int_equal(stat(unit_path("long.log.1"), &st), 0);
}

/* A full disk: each write says so; the log goes on when there is room again. */
static void test_full_disk(void **state)
{
	(void)state;
	struct gd_conslog *log;
	char err[256];
	assert_int_equal(gd_conslog_open(&log, "/dev/full", 1 << 20, 0, err, sizeof(err)), 0);
	struct timespec t = {0};
	assert_int_equal(gd_conslog_write(log, "lost\n", 5, &t), -ENOSPC);
	assert_int_equal(gd_conslog_write(log, "lost too\n", 9, &t), -ENOSPC);
	gd_conslog_close(log);
}

static void test_open_error(void **state)
{
	(void)state;
	struct gd_conslog *log;
	char err[256] = "";
	assert_int_equal(
	    gd_conslog_open(&log, "/nonexistent/dir/console.log", 4096, 1, err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dir/console.log"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stamps),
	    cmocka_unit_test(test_rotation_keeps_everything),
	    cmocka_unit_test(test_long_line_rotates_anyway),
	    cmocka_unit_test(test_full_disk),
	    cmocka_unit_test(test_open_error),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	unit_scratch_cleanup();
	return failed;
}
