/* Unit tests of media: hostile names, kind detection, the store's uploads, listing and cleanup. */
#include "media.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"
#include "unit.h"

static void test_hostile_names(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    ".",
	    "..",
	    ".hidden",
	    "../etc/passwd",
	    "a/b",
	    "/abs",
	    "a\\b",
	    "a..b",
	    "..x",
	    "x..",
	    "tab\there",
	    "nl\nhere",
	    "del\x7f",
	    "esc\x1b[0m",
	    ".upload-1-1.tmp",
	    "\xff\xfe",
	    "\xc0\xaf", /* overlong '/' */
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", /* 129 */
	};
	char err[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (gd_media_name_valid(bad[i], err, sizeof(err)))
			fail_msg("name %zu accepted", i);
		assert_non_null(strstr(err, "image name"));
	}
	static const char *const good[] = {"debian-12.iso", "Win11_23H2.iso",   "rescue",
	                                   "a.b.c",         "ubuntu 24.04.iso", "café.img",
	                                   "dash-.img"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!gd_media_name_valid(good[i], err, sizeof(err)))
			fail_msg("name '%s' refused: %s", good[i], err);
	}
}

static void test_kind_detection(void **state)
{
	(void)state;
	static uint8_t head[40 * 1024];
	memset(head, 0, sizeof(head));
	assert_int_equal(gd_media_detect_kind(head, sizeof(head)), GD_MEDIA_UNKNOWN);
	head[510] = 0x55;
	head[511] = 0xaa;
	assert_int_equal(gd_media_detect_kind(head, sizeof(head)), GD_MEDIA_IMG);
	memcpy(head + 32769, "CD001", 5); /* a hybrid ISO: MBR and ISO9660 */
	assert_int_equal(gd_media_detect_kind(head, sizeof(head)), GD_MEDIA_ISO);
	assert_int_equal(gd_media_detect_kind(head, 32770), GD_MEDIA_IMG); /* too short to see it */
	memset(head, 0, sizeof(head));
	memcpy(head + 512, "EFI PART", 8);
	assert_int_equal(gd_media_detect_kind(head, sizeof(head)), GD_MEDIA_IMG);
	assert_int_equal(gd_media_detect_kind(head, 0), GD_MEDIA_UNKNOWN);
	assert_string_equal(gd_media_kind_name(GD_MEDIA_ISO), "iso");
}

static struct gd_media *open_store(struct gd_config *cfg, const char *dir)
{
	gd_config_defaults(cfg);
	snprintf(cfg->image_store, sizeof(cfg->image_store), "%s", unit_path(dir));
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", unit_path(""));
	struct gd_media *media = NULL;
	char err[256];
	assert_int_equal(gd_media_open(&media, cfg, NULL, NULL, err, sizeof(err)), 0);
	return media;
}

static json_t *find(json_t *list, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
			return e;
	}
	return NULL;
}

static void test_upload_checksum_and_listing(void **state)
{
	(void)state;
	struct gd_config cfg;
	struct gd_media *media = open_store(&cfg, "store1");
	struct gd_upload *up;
	char err[256];
	/* sha256("abc") */
	const char *abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	assert_int_equal(gd_media_upload_begin(media, "a.img", 3, abc, &up, err, sizeof(err)), 0);
	assert_int_equal(gd_media_upload_write(up, "ab", 2), 0);
	assert_int_equal(gd_media_upload_write(up, "c", 1), 0);
	json_t *list = gd_media_list(media);
	assert_int_equal(json_array_size(list), 0); /* not listed until complete */
	json_decref(list);
	assert_int_equal(gd_media_upload_finish(up, err, sizeof(err)), 0);
	list = gd_media_list(media);
	json_t *e = find(list, "a.img");
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "sha256")), abc);
	assert_int_equal(json_integer_value(json_object_get(e, "size")), 3);
	assert_string_equal(json_string_value(json_object_get(e, "kind")), "img"); /* by name */
	json_decref(list);

	/* A wrong checksum keeps nothing; an abort keeps nothing. */
	assert_int_equal(gd_media_upload_begin(media, "b.img", 0, abc, &up, err, sizeof(err)), 0);
	assert_int_equal(gd_media_upload_write(up, "abd", 3), 0);
	assert_int_equal(gd_media_upload_finish(up, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "checksum mismatch"));
	assert_int_equal(gd_media_upload_begin(media, "c.img", 0, NULL, &up, err, sizeof(err)), 0);
	assert_int_equal(gd_media_upload_write(up, "xyz", 3), 0);
	gd_media_upload_abort(up);
	list = gd_media_list(media);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	char cmd[PATH_MAX + 128];
	snprintf(cmd, sizeof(cmd),
	         "test -z \"$(ls -A %s | grep -v '^.a.img.sha256$' | grep -v '^a.img$')\"",
	         cfg.image_store);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(gd_media_upload_begin(media, "../x", 0, NULL, &up, err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(gd_media_upload_begin(media, "x", 0, "nothex", &up, err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(
	    gd_media_upload_begin(media, "x", UINT64_MAX / 2, NULL, &up, err, sizeof(err)),
	    -ENOSPC);
	assert_int_equal(gd_media_delete(media, "a.img", err, sizeof(err)), 0);
	assert_int_equal(gd_media_delete(media, "a.img", err, sizeof(err)), -ENOENT);
	gd_media_close(media);
}

static void test_leftovers_cleaned_and_large_sizes(void **state)
{
	(void)state;
	struct gd_config cfg;
	struct gd_media *media = open_store(&cfg, "store2");
	gd_media_close(media);
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/.upload-99-1.tmp", cfg.image_store);
	FILE *f = fopen(path, "w");
	fputs("partial", f);
	fclose(f);
	/* A 5 GiB sparse image: sizes past 4 GiB must come out whole. */
	snprintf(path, sizeof(path), "%s/big.iso", cfg.image_store);
	int fd = open(path, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)5 << 30), 0);
	close(fd);
	media = open_store(&cfg, "store2");
	snprintf(path, sizeof(path), "%s/.upload-99-1.tmp", cfg.image_store);
	assert_int_equal(access(path, F_OK), -1);
	json_t *list = gd_media_list(media);
	assert_int_equal(json_array_size(list), 1);
	json_t *e = find(list, "big.iso");
	assert_true(json_integer_value(json_object_get(e, "size")) == (json_int_t)5 << 30);
	assert_true(json_is_null(json_object_get(e, "sha256")));
	json_decref(list);
	uint64_t size = 0;
	fd = gd_media_open_image(media, "big.iso", &size);
	assert_true(fd >= 0 && size == (uint64_t)5 << 30);
	close(fd);
	gd_media_close(media);
}

int main(void)
{
	gd_log_set_level(GD_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostile_names),
	    cmocka_unit_test(test_kind_detection),
	    cmocka_unit_test(test_upload_checksum_and_listing),
	    cmocka_unit_test(test_leftovers_cleaned_and_large_sizes),
	};
	int failed = cmocka_run_group_tests_name("media", tests, NULL, NULL);
	unit_scratch_cleanup();
	return failed;
}
