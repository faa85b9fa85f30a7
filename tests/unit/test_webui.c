/* Unit tests of webui: which file a URL names, what is refused, gzip and validators. */
#include "webui.h"

#include <errno.h>
#include <sys/stat.h>

#include "unit.h"

static const char *root;

static int setup(void **state)
{
	(void)state;
	unit_write("index.html", "<!doctype html>");
	unit_write("app.js", "export {};");
	unit_write("app.js.gz", "gz");
	unit_write(".hidden", "secret");
	mkdir(unit_path("vendor"), 0755);
	unit_write("vendor/xterm.css", ".xterm{}");
	mkdir(unit_path("dir.html"), 0755);
	if (symlink("/etc/passwd", unit_path("passwd.txt")) != 0)
		return -1;
	root = unit_path("");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_scratch_cleanup();
	return 0;
}

/* Opens URL, checks its result; returns the file (closed) for more checks. */
static struct gd_webui_file open_url(const char *url, bool gzip, int expected)
{
	struct gd_webui_file f = {.fd = -1};
	assert_int_equal(gd_webui_open(root, url, gzip, &f), expected);
	if (expected == 0) {
		assert_true(f.fd >= 0);
		close(f.fd);
	}
	return f;
}

static void test_names_and_types(void **state)
{
	(void)state;
	struct gd_webui_file f = open_url("/", false, 0);
	assert_string_equal(f.type, "text/html; charset=utf-8");
	assert_int_equal(f.size, strlen("<!doctype html>"));
	f = open_url("/vendor/xterm.css", true, 0);
	assert_string_equal(f.type, "text/css; charset=utf-8");
	assert_false(f.gzip); /* no .gz beside it: the plain file */
	open_url("/vendor/", false, -ENOENT);
	open_url("/missing.js", false, -ENOENT);
	open_url("/dir.html", false, -ENOENT);   /* a directory */
	open_url("/passwd.txt", false, -ENOENT); /* a symbolic link is not followed */
}

static void test_gzip_and_etag(void **state)
{
	(void)state;
	struct gd_webui_file plain = open_url("/app.js", false, 0);
	struct gd_webui_file packed = open_url("/app.js", true, 0);
	assert_false(plain.gzip);
	assert_true(packed.gzip);
	assert_int_equal(packed.size, 2);
	assert_string_equal(packed.type, "text/javascript; charset=utf-8");
	assert_string_not_equal(plain.etag, packed.etag);
	assert_string_equal(open_url("/app.js", false, 0).etag, plain.etag);
	assert_true(gd_webui_accepts_gzip("gzip, deflate, br"));
	assert_true(gd_webui_accepts_gzip("deflate, gzip"));
	assert_true(gd_webui_accepts_gzip("gzip;q=0.5, br"));
	assert_false(gd_webui_accepts_gzip("gzip;q=0"));
	assert_false(gd_webui_accepts_gzip("br, x-gzip"));
	assert_false(gd_webui_accepts_gzip(NULL));
}

static void test_hostile_paths(void **state)
{
	(void)state;
	const char *bad[] = {"/../etc/passwd",
	                     "/vendor/../index.html",
	                     "/.hidden",
	                     "//index.html",
	                     "/a b.html",
	                     "/app.js%00",
	                     "/vendor//xterm.css",
	                     "/\x01",
	                     "/é.html",
	                     "/..",
	                     "/."};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		open_url(bad[i], false, -EINVAL);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	open_url(longname, false, -EINVAL);
}

static void test_what_the_panel_owns(void **state)
{
	(void)state;
	assert_true(gd_webui_owns("/"));
	assert_true(gd_webui_owns("/index.html"));
	assert_true(gd_webui_owns("/apix.js"));
	assert_false(gd_webui_owns("/api"));
	assert_false(gd_webui_owns("/api/status"));
	assert_false(gd_webui_owns("/redfish/v1/"));
	assert_false(gd_webui_owns("relative"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_and_types),
	    cmocka_unit_test(test_gzip_and_etag),
	    cmocka_unit_test(test_hostile_paths),
	    cmocka_unit_test(test_what_the_panel_owns),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
