/*
 * Unit tests of media_state: the JSON document that remembers the inserted medium, its strict
 * parser, loading (missing = empty, corrupt = -EINVAL and empty) and the atomic save.
 */
#include "media_state.h"

#include <dirent.h>
#include <sys/stat.h>
#include <errno.h>

#include "unit.h"

static void expect_parse_error(const char *text, const char *what)
{
	char err[256] = "";
	struct gd_media_state st;
	memset(&st, 0x55, sizeof(st));
	int rc = gd_media_state_parse((const uint8_t *)text, strlen(text), &st, err, sizeof(err));
	if (rc != -1 || strstr(err, what) == NULL)
		fail_msg("'%s': got %d \"%s\", expected \"%s\"", text, rc, err, what);
	assert_string_equal(st.image, "");
	assert_int_equal(st.mode, GD_LUN_CDROM);
	assert_false(st.readonly);
}

static void test_parse(void **state)
{
	(void)state;
	char err[256] = "";
	struct gd_media_state st;
	const char *text =
	    "{\"image\": \"debian-12.iso\", \"mode\": \"cdrom\", \"readonly\": true}";
	assert_int_equal(
	    gd_media_state_parse((const uint8_t *)text, strlen(text), &st, err, sizeof(err)), 0);
	assert_string_equal(st.image, "debian-12.iso");
	assert_int_equal(st.mode, GD_LUN_CDROM);
	assert_true(st.readonly);

	text = "{\"readonly\": false, \"mode\": \"disk\", \"image\": \"usb.img\"}\n";
	assert_int_equal(
	    gd_media_state_parse((const uint8_t *)text, strlen(text), &st, err, sizeof(err)), 0);
	assert_string_equal(st.image, "usb.img");
	assert_int_equal(st.mode, GD_LUN_DISK);
	assert_false(st.readonly);

	/* Ejected: no image, or an empty one; mode and readonly are then optional. */
	const char *ejected[] = {"{}", "{\"image\": \"\"}",
	                         "{\"image\": \"\", \"mode\": \"disk\", \"readonly\": false}"};
	for (size_t i = 0; i < sizeof(ejected) / sizeof(ejected[0]); i++) {
		strcpy(st.image, "stale");
		assert_int_equal(gd_media_state_parse((const uint8_t *)ejected[i],
		                                      strlen(ejected[i]), &st, err, sizeof(err)),
		                 0);
		assert_string_equal(st.image, "");
	}

	/* The longest name that fits. */
	char doc[400];
	char name[256];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(doc, sizeof(doc), "{\"image\":\"%s\",\"mode\":\"disk\",\"readonly\":true}", name);
	assert_int_equal(
	    gd_media_state_parse((const uint8_t *)doc, strlen(doc), &st, err, sizeof(err)), 0);
	assert_string_equal(st.image, name);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("", "empty file");
	expect_parse_error("not json", "invalid JSON at line 1");
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": \"cd", "invalid JSON");
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": \"cdrom\", \"readonly\": true",
	                   "invalid JSON");
	expect_parse_error("[\"x.iso\"]", "expected a JSON object");
	expect_parse_error("{\"image\": 42}", "\"image\" must be a string");
	expect_parse_error("{\"image\": null}", "\"image\" must be a string");
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": 1, \"readonly\": true}",
	                   "\"mode\" must be \"cdrom\" or \"disk\"");
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": \"dvd\", \"readonly\": true}",
	                   "\"mode\" must be \"cdrom\" or \"disk\"");
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": \"CDROM\", \"readonly\": true}",
	                   "\"mode\" must be \"cdrom\" or \"disk\"");
	/* jansson refuses NUL in strings; were it allowed, the checks on lengths would. */
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": \"disk\\u0000\", \"readonly\": true}",
	                   "invalid JSON");
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": \"disk\", \"readonly\": \"yes\"}",
	                   "\"readonly\" must be true or false");
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": \"disk\", \"readonly\": 1}",
	                   "\"readonly\" must be true or false");
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": \"disk\", \"readonly\": true, "
	                   "\"size\": 10}",
	                   "unknown key \"size\"");
	expect_parse_error("{\"image\": \"x.iso\", \"image\": \"y.iso\"}", "duplicate");
	expect_parse_error("{\"image\": \"x.iso\", \"readonly\": true}", "\"mode\" is missing");
	expect_parse_error("{\"image\": \"x.iso\", \"mode\": \"cdrom\"}",
	                   "\"readonly\" is missing");
	expect_parse_error("{\"image\": \"../etc/shadow\", \"mode\": \"disk\", \"readonly\": true}",
	                   "\"image\" must be a file name in the image store");
	expect_parse_error("{\"image\": \"..\", \"mode\": \"disk\", \"readonly\": true}",
	                   "\"image\" must be a file name");
	expect_parse_error("{\"image\": \"a\\nb\", \"mode\": \"disk\", \"readonly\": true}",
	                   "\"image\" must be a file name");
	expect_parse_error("{\"image\": \"a\\u0000b\", \"mode\": \"disk\", \"readonly\": true}",
	                   "invalid JSON");

	char doc[400];
	char name[257];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(doc, sizeof(doc), "{\"image\":\"%s\",\"mode\":\"disk\",\"readonly\":true}", name);
	expect_parse_error(doc, "\"image\" is 256 bytes, longer than the limit of 255");
}

static void test_round_trip(void **state)
{
	(void)state;
	const char *path = unit_path("media.json");
	struct gd_media_state st = {.mode = GD_LUN_DISK, .readonly = true};
	strcpy(st.image, "installer \"v2\".img");
	assert_int_equal(gd_media_state_save(path, &st), 0);

	struct gd_media_state back;
	char err[256] = "";
	assert_int_equal(gd_media_state_load(path, &back, err, sizeof(err)), 0);
	assert_string_equal(back.image, "installer \"v2\".img");
	assert_int_equal(back.mode, GD_LUN_DISK);
	assert_true(back.readonly);

	st = (struct gd_media_state){.mode = GD_LUN_CDROM, .readonly = false};
	strcpy(st.image, "debian.iso");
	assert_int_equal(gd_media_state_save(path, &st), 0);
	assert_int_equal(gd_media_state_load(path, &back, err, sizeof(err)), 0);
	assert_string_equal(back.image, "debian.iso");
	assert_int_equal(back.mode, GD_LUN_CDROM);
	assert_false(back.readonly);

	/* The document itself, as documented. */
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char text[256] = "";
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text,
	                    "{\"image\":\"debian.iso\",\"mode\":\"cdrom\",\"readonly\":false}\n");

	/* Ejected. */
	st = (struct gd_media_state){0};
	assert_int_equal(gd_media_state_save(path, &st), 0);
	strcpy(back.image, "stale");
	assert_int_equal(gd_media_state_load(path, &back, err, sizeof(err)), 0);
	assert_string_equal(back.image, "");
}

/* The names in DIR other than . and .., sorted and joined with spaces. */
static const char *dir_entries(const char *dir)
{
	static char list[512];
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	list[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
			size_t used = strlen(list);
			snprintf(list + used, sizeof(list) - used, "%s%s", used ? " " : "",
			         names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return list;
}

static void test_save_leaves_no_tmp(void **state)
{
	(void)state;
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", unit_path("save"));
	assert_int_equal(mkdir(dir, 0755), 0);
	char path[300];
	snprintf(path, sizeof(path), "%s/media.json", dir);
	struct gd_media_state st = {.mode = GD_LUN_CDROM, .readonly = true};
	strcpy(st.image, "x.iso");
	for (int i = 0; i < 3; i++)
		assert_int_equal(gd_media_state_save(path, &st), 0);
	assert_string_equal(dir_entries(dir), "media.json");

	/* A state that could not be read back is refused, and nothing is written. */
	strcpy(st.image, "../x.iso");
	assert_int_equal(gd_media_state_save(path, &st), -EINVAL);
	strcpy(st.image, "y.iso");
	st.mode = (enum gd_lun_mode)7;
	assert_int_equal(gd_media_state_save(path, &st), -EINVAL);
	st.mode = GD_LUN_DISK;
	memset(st.image, 'n', sizeof(st.image));
	assert_int_equal(gd_media_state_save(path, &st), -EINVAL);
	strcpy(st.image, "caf\xe9.iso"); /* Latin-1, not UTF-8 */
	assert_int_equal(gd_media_state_save(path, &st), -EINVAL);
	char err[256] = "";
	assert_int_equal(gd_media_state_load(path, &st, err, sizeof(err)), 0);
	assert_string_equal(st.image, "x.iso");
	assert_int_equal(st.mode, GD_LUN_CDROM);
	assert_string_equal(dir_entries(dir), "media.json");

	strcpy(st.image, "caf\xc3\xa9.iso");
	assert_int_equal(gd_media_state_save(path, &st), 0);
	assert_int_equal(gd_media_state_load(path, &st, err, sizeof(err)), 0);
	assert_string_equal(st.image, "caf\xc3\xa9.iso");

	/* A rename that fails (the target is a directory) cleans up its temporary file. */
	char taken[300];
	snprintf(taken, sizeof(taken), "%s/taken.json", dir);
	assert_int_equal(mkdir(taken, 0755), 0);
	assert_int_equal(gd_media_state_save(taken, &st), -EISDIR);
	assert_string_equal(dir_entries(dir), "media.json taken.json");

	/* A directory that does not exist. */
	snprintf(path, sizeof(path), "%s/missing/media.json", dir);
	assert_int_equal(gd_media_state_save(path, &st), -ENOENT);
}

static void test_load_missing(void **state)
{
	(void)state;
	struct gd_media_state st;
	memset(&st, 0x55, sizeof(st));
	char err[256] = "";
	assert_int_equal(
	    gd_media_state_load(unit_path("never-written.json"), &st, err, sizeof(err)), 0);
	assert_string_equal(st.image, "");
	assert_int_equal(st.mode, GD_LUN_CDROM);
	assert_false(st.readonly);
	assert_string_equal(err, "");
}

static void expect_load_corrupt(const char *text, const char *what)
{
	const char *path = unit_write("corrupt.json", text);
	struct gd_media_state st;
	memset(&st, 0x55, sizeof(st));
	char err[300] = "";
	int rc = gd_media_state_load(path, &st, err, sizeof(err));
	if (rc != -EINVAL || strstr(err, what) == NULL || strstr(err, path) != err)
		fail_msg("'%s': got %d \"%s\", expected \"%s: ...%s\"", text, rc, err, path, what);
	assert_string_equal(st.image, "");
	assert_false(st.readonly);
}

static void test_load_corrupt(void **state)
{
	(void)state;
	expect_load_corrupt("", "empty file");
	expect_load_corrupt("garbage\n", "invalid JSON");
	expect_load_corrupt("{\"image\":\"x.iso\",\"mode\":\"cdr", "invalid JSON");
	expect_load_corrupt("{\"image\":[],\"mode\":\"cdrom\",\"readonly\":true}",
	                    "\"image\" must be a string");
	expect_load_corrupt("{\"image\":\"x.iso\",\"mode\":\"tape\",\"readonly\":true}",
	                    "\"mode\" must be");
	expect_load_corrupt("{\"image\":\"x.iso\",\"mode\":\"disk\",\"readonly\":true,\"x\":1}",
	                    "unknown key \"x\"");
	char big[5000];
	memset(big, ' ', sizeof(big) - 3);
	big[0] = '{';
	big[sizeof(big) - 3] = '}';
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	expect_load_corrupt(big, "larger than 4096 bytes");

	/* Not a file at all. */
	struct gd_media_state st;
	char err[300] = "";
	assert_int_equal(gd_media_state_load(unit_path(""), &st, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "Is a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),        cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_save_leaves_no_tmp),
	    cmocka_unit_test(test_load_missing), cmocka_unit_test(test_load_corrupt),
	};
	int failed = cmocka_run_group_tests_name("media_state", tests, NULL, NULL);
	unit_scratch_cleanup();
	return failed;
}
