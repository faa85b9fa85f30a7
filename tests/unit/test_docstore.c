/* Unit tests of docstore: saved documents by name, atomically, with safe names only. */
#include "docstore.h"

#include <errno.h>

#include "unit.h"

static void test_put_get_list_delete(void **state)
{
	(void)state;
	struct gd_docstore *s;
	char err[256];
	assert_int_equal(gd_docstore_open(&s, unit_path("docs"), err, sizeof(err)), 0);
	json_t *doc = json_pack("{s:s, s:[{s:s}]}", "description", "d", "steps", "power", "on");
	bool created = false;
	assert_int_equal(gd_docstore_put(s, "reinstall-demo", doc, &created), 0);
	assert_true(created);
	assert_int_equal(gd_docstore_put(s, "reinstall-demo", doc, &created), 0);
	assert_false(created);
	assert_int_equal(gd_docstore_put(s, "a.b_c", doc, &created), 0);
	json_t *back = gd_docstore_get(s, "reinstall-demo");
	assert_true(json_equal(back, doc));
	json_decref(back);
	json_t *names = gd_docstore_names(s);
	assert_int_equal(json_array_size(names), 2);
	assert_string_equal(json_string_value(json_array_get(names, 0)), "a.b_c");
	assert_string_equal(json_string_value(json_array_get(names, 1)), "reinstall-demo");
	json_decref(names);
	/* Files that are not documents of the store are not listed. */
	unit_write("docs/.hidden.json", "{}");
	unit_write("docs/Upper.json", "{}");
	unit_write("docs/notes.txt", "x");
	names = gd_docstore_names(s);
	assert_int_equal(json_array_size(names), 2);
	json_decref(names);
	assert_int_equal(gd_docstore_delete(s, "a.b_c"), 0);
	assert_int_equal(gd_docstore_delete(s, "a.b_c"), -ENOENT);
	assert_null(gd_docstore_get(s, "a.b_c"));
	/* A damaged file reads as missing. */
	unit_write("docs/broken.json", "{\"steps\": [");
	assert_null(gd_docstore_get(s, "broken"));
	json_decref(doc);
	gd_docstore_close(s);
}

static void test_names(void **state)
{
	(void)state;
	const char *good[] = {"a", "reinstall-demo", "debian-12.preseed", "x_1"};
	const char *bad[] = {
	    "",    ".x",  "-x",
	    "A",   "a/b", "../x",
	    "a b", "é",   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(gd_docstore_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gd_docstore_name_valid(bad[i]))
			fail_msg("'%s' was taken", bad[i]);
	struct gd_docstore *s;
	char err[256];
	assert_int_equal(gd_docstore_open(&s, unit_path("docs2"), err, sizeof(err)), 0);
	json_t *doc = json_object();
	bool created;
	assert_int_equal(gd_docstore_put(s, "../escape", doc, &created), -EINVAL);
	assert_null(gd_docstore_get(s, "../escape"));
	json_decref(doc);
	gd_docstore_close(s);
	assert_true(gd_docstore_open(&s, "/nonexistent/x/y", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/x/y"));
}

static int teardown(void **state)
{
	(void)state;
	unit_scratch_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_get_list_delete),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
