/*
 * Unit tests of lun: plain files in a scratch directory stand in for the LUN's configfs
 * attributes. write(2) is wrapped (-Wl,--wrap=write) to record the order of the writes and
 * to play the kernel's part where a plain file cannot: EBUSY on `file` while the host holds
 * the door locked (until `forced_eject`), and refusing a backing file.
 */
#include "lun.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "unit.h"

ssize_t __real_write(int fd, const void *buf, size_t len);
ssize_t __wrap_write(int fd, const void *buf, size_t len);

static struct {
	char dir[256];  /* the scratch LUN directory */
	char log[8192]; /* "attr=value;" for each write into it, newlines dropped */
	bool locked;    /* the host has prevented medium removal */
	int file_errno; /* the kernel refuses a backing file with this errno */
} fake;

/* The attribute FD is open on, or NULL when it is not in the scratch LUN directory. */
static const char *fd_attr(int fd, char *target, size_t len)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, len - 1);
	size_t dirlen = strlen(fake.dir);
	if (n <= 0 || (size_t)n <= dirlen || strncmp(target, fake.dir, dirlen) != 0 ||
	    target[dirlen] != '/')
		return NULL;
	target[n] = '\0';
	return target + dirlen + 1;
}

ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
	char target[512];
	const char *attr = fd_attr(fd, target, sizeof(target));
	if (attr == NULL)
		return __real_write(fd, buf, len);
	const char *text = buf;
	size_t shown = len > 0 && text[len - 1] == '\n' ? len - 1 : len;
	size_t used = strlen(fake.log);
	snprintf(fake.log + used, sizeof(fake.log) - used, "%s=%.*s;", attr, (int)shown, text);
	if (strcmp(attr, "file") == 0 && fake.locked) {
		errno = EBUSY;
		return -1;
	}
	if (strcmp(attr, "forced_eject") == 0)
		fake.locked = false;
	if (strcmp(attr, "file") == 0 && shown > 0 && fake.file_errno != 0) {
		errno = fake.file_errno;
		return -1;
	}
	return __real_write(fd, buf, len);
}

static const char *attr_path(const char *attr)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", fake.dir, attr);
	return path;
}

static void put(const char *attr, const char *text)
{
	FILE *f = fopen(attr_path(attr), "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const char *get(const char *attr)
{
	static char text[4200];
	FILE *f = fopen(attr_path(attr), "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* A fresh LUN directory: nothing inserted, a disk, read-write, not removable. */
static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	snprintf(fake.dir, sizeof(fake.dir), "%s", unit_path("lun"));
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir '%s'", fake.dir, fake.dir);
	if (system(cmd) != 0)
		return -1;
	put("file", "");
	put("cdrom", "0\n");
	put("ro", "0\n");
	put("removable", "0\n");
	put("forced_eject", "");
	put("inquiry_string", "");
	return 0;
}

static void test_insert_cdrom(void **state)
{
	(void)state;
	put("file", "/images/old.img\n");
	char err[256] = "";
	bool forced = true;
	int rc = gd_lun_insert(fake.dir, "/images/debian.iso", 700u << 20, GD_LUN_CDROM, false,
	                       &forced, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_false(forced);
	assert_string_equal(fake.log, "file=;cdrom=1;ro=1;removable=1;file=/images/debian.iso;");
	assert_string_equal(get("file"), "/images/debian.iso");
	assert_string_equal(get("cdrom"), "1");
	assert_string_equal(get("ro"), "1");
	assert_string_equal(get("removable"), "1");
	assert_string_equal(get("forced_eject"), "");
}

static void test_insert_disk(void **state)
{
	(void)state;
	char err[256] = "";
	bool forced = true;
	put("cdrom", "1\n");
	put("ro", "1\n");
	assert_int_equal(gd_lun_insert(fake.dir, "/images/usb.img", (uint64_t)8 << 30, GD_LUN_DISK,
	                               false, &forced, err, sizeof(err)),
	                 0);
	assert_false(forced);
	assert_string_equal(fake.log, "file=;cdrom=0;ro=0;removable=1;file=/images/usb.img;");
	assert_string_equal(get("file"), "/images/usb.img");
	assert_string_equal(get("cdrom"), "0");
	assert_string_equal(get("ro"), "0");
	assert_string_equal(get("removable"), "1");

	assert_int_equal(gd_lun_insert(fake.dir, "/images/usb.img", (uint64_t)8 << 30, GD_LUN_DISK,
	                               true, NULL, err, sizeof(err)),
	                 0);
	assert_string_equal(get("ro"), "1");
}

/* With `cdrom` unwritable (a directory), the old medium is out and the new one not yet in. */
static void test_order_eject_first_file_last(void **state)
{
	(void)state;
	put("file", "/images/old.iso\n");
	assert_int_equal(unlink(attr_path("cdrom")), 0);
	assert_int_equal(mkdir(attr_path("cdrom"), 0755), 0);
	char err[256] = "";
	int rc = gd_lun_insert(fake.dir, "/images/new.iso", 700u << 20, GD_LUN_CDROM, true, NULL,
	                       err, sizeof(err));
	assert_int_equal(rc, -EISDIR);
	assert_non_null(strstr(err, "cdrom"));
	assert_null(strchr(err, '\n'));
	assert_string_equal(get("file"), "\n");
	assert_string_equal(get("ro"), "0\n");
	assert_string_equal(fake.log, "file=;");

	/* Likewise a failing `ro`: cdrom is set, file still empty. */
	assert_int_equal(rmdir(attr_path("cdrom")), 0);
	put("cdrom", "0\n");
	assert_int_equal(unlink(attr_path("ro")), 0);
	assert_int_equal(mkdir(attr_path("ro"), 0755), 0);
	rc = gd_lun_insert(fake.dir, "/images/new.iso", 700u << 20, GD_LUN_CDROM, true, NULL, err,
	                   sizeof(err));
	assert_int_equal(rc, -EISDIR);
	assert_non_null(strstr(err, "ro"));
	assert_string_equal(get("cdrom"), "1");
	assert_string_equal(get("file"), "\n");
}

static void test_forced_eject(void **state)
{
	(void)state;
	char err[256] = "";
	bool forced = false;
	put("file", "/images/old.iso\n");
	fake.locked = true;
	assert_int_equal(gd_lun_insert(fake.dir, "/images/new.iso", 700u << 20, GD_LUN_CDROM, true,
	                               &forced, err, sizeof(err)),
	                 0);
	assert_true(forced);
	assert_string_equal(fake.log,
	                    "file=;forced_eject=1;cdrom=1;ro=1;removable=1;file=/images/new.iso;");
	assert_string_equal(get("file"), "/images/new.iso");

	fake.log[0] = '\0';
	fake.locked = true;
	assert_int_equal(gd_lun_eject(fake.dir, &forced, err, sizeof(err)), 0);
	assert_true(forced);
	assert_string_equal(fake.log, "file=;forced_eject=1;");

	fake.log[0] = '\0';
	assert_int_equal(gd_lun_eject(fake.dir, &forced, err, sizeof(err)), 0);
	assert_false(forced);
	assert_string_equal(fake.log, "file=;");
	assert_string_equal(get("file"), "\n");

	/* A kernel without forced_eject: the host's lock stands. */
	fake.locked = true;
	assert_int_equal(unlink(attr_path("forced_eject")), 0);
	assert_int_equal(gd_lun_eject(fake.dir, &forced, err, sizeof(err)), -ENOENT);
	assert_false(forced);
	assert_non_null(strstr(err, "the host has locked the medium in"));
	assert_non_null(strstr(err, "forced_eject"));
}

static void test_kernel_refuses_file(void **state)
{
	(void)state;
	char err[256] = "";
	fake.file_errno = 525; /* ETOOSMALL */
	int rc = gd_lun_insert(fake.dir, "/images/tiny.img", 4096, GD_LUN_DISK, false, NULL, err,
	                       sizeof(err));
	assert_int_equal(rc, -525);
	assert_string_equal(err, "cannot write '/images/tiny.img' to LUN attribute 'file': the "
	                         "kernel found the image too small (ETOOSMALL)");
	struct gd_lun_state st;
	assert_int_equal(gd_lun_read(fake.dir, &st), 0);
	assert_string_equal(st.file, "");

	fake.file_errno = ENOENT;
	rc = gd_lun_insert(fake.dir, "/images/gone.iso", 700u << 20, GD_LUN_CDROM, true, NULL, err,
	                   sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(err, "cannot write '/images/gone.iso' to LUN attribute 'file': No "
	                         "such file or directory");
}

static void expect_refused(uint64_t size, enum gd_lun_mode mode, int expect_rc,
                           const char *expect_err)
{
	char err[256] = "";
	fake.log[0] = '\0';
	put("file", "/images/old.iso\n");
	int rc = gd_lun_insert(fake.dir, "/images/x.iso", size, mode, true, NULL, err, sizeof(err));
	if (rc != expect_rc || strcmp(err, expect_err) != 0)
		fail_msg("size %llu: got %d \"%s\", expected %d \"%s\"", (unsigned long long)size,
		         rc, err, expect_rc, expect_err);
	/* Refused before anything was written. */
	assert_string_equal(fake.log, "");
	assert_string_equal(get("file"), "/images/old.iso\n");
}

static void expect_accepted(uint64_t size, enum gd_lun_mode mode)
{
	char err[256] = "";
	int rc = gd_lun_insert(fake.dir, "/images/x.iso", size, mode, true, NULL, err, sizeof(err));
	if (rc != 0)
		fail_msg("size %llu: got %d \"%s\"", (unsigned long long)size, rc, err);
	assert_string_equal(get("file"), "/images/x.iso");
}

static void test_cdrom_size_limits(void **state)
{
	(void)state;
	assert_true(GD_LUN_CDROM_MAX_BYTES == 2359293952u);
	expect_refused(4700000000u, GD_LUN_CDROM, -EFBIG,
	               "image is 4.4 GiB, larger than a CD-ROM can address (2.2 GiB): insert it as "
	               "a disk");
	expect_refused(GD_LUN_CDROM_MAX_BYTES + 1, GD_LUN_CDROM, -EFBIG,
	               "image is 2359293953 bytes, larger than a CD-ROM can address (2359293952 "
	               "bytes): insert it as a disk");
	expect_refused(12 << 10, GD_LUN_CDROM, -EINVAL,
	               "image is 12 KiB, smaller than a CD-ROM's minimum of 600 KiB: insert it as "
	               "a disk");
	expect_refused(300 * 2048 - 1, GD_LUN_CDROM, -EINVAL,
	               "image is 614399 bytes, smaller than a CD-ROM's minimum of 614400 bytes: "
	               "insert it as a disk");
	expect_refused(0, GD_LUN_CDROM, -EINVAL,
	               "image is 0 bytes, smaller than a CD-ROM's minimum of 600 KiB: insert it as "
	               "a disk");
	expect_refused(100, GD_LUN_DISK, -EINVAL,
	               "image is 100 bytes, smaller than a disk's minimum of 512 bytes");
	expect_accepted(GD_LUN_CDROM_MAX_BYTES, GD_LUN_CDROM);
	expect_accepted(300 * 2048, GD_LUN_CDROM);
	expect_accepted(4700000000u, GD_LUN_DISK);
	expect_accepted(12 << 10, GD_LUN_DISK);
	expect_accepted(512, GD_LUN_DISK);
}

static void test_bad_paths(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(
	    gd_lun_insert(fake.dir, "", 1 << 20, GD_LUN_DISK, true, NULL, err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "no image path given");
	assert_int_equal(gd_lun_insert(fake.dir, "/images/a\nb", 1 << 20, GD_LUN_DISK, true, NULL,
	                               err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "image path contains a newline");
	char longpath[4200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(
	    gd_lun_insert(fake.dir, longpath, 1 << 20, GD_LUN_DISK, true, NULL, err, sizeof(err)),
	    -ENAMETOOLONG);
	assert_string_equal(fake.log, "");
}

static void test_missing_dir(void **state)
{
	(void)state;
	char err[256] = "";
	const char *dir = unit_path("no-such-lun");
	bool forced = true;
	assert_int_equal(gd_lun_insert(dir, "/images/x.iso", 1 << 20, GD_LUN_DISK, true, &forced,
	                               err, sizeof(err)),
	                 -ENOENT);
	assert_false(forced);
	char expect[300];
	snprintf(expect, sizeof(expect), "LUN directory %s: No such file or directory", dir);
	assert_string_equal(err, expect);
	err[0] = '\0';
	assert_int_equal(gd_lun_eject(dir, NULL, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, expect);
	struct gd_lun_state st;
	assert_int_equal(gd_lun_read(dir, &st), -ENOENT);
	assert_int_equal(gd_lun_set_inquiry(dir, "a", "b", "c"), -ENOENT);

	/* A directory without the attribute names it. */
	assert_int_equal(unlink(attr_path("removable")), 0);
	assert_int_equal(gd_lun_insert(fake.dir, "/images/x.iso", 1 << 20, GD_LUN_DISK, true, NULL,
	                               err, sizeof(err)),
	                 -ENOENT);
	assert_non_null(strstr(err, "/removable: No such file or directory"));
}

static void test_read(void **state)
{
	(void)state;
	struct gd_lun_state st;
	put("file", "/images/debian.iso\n");
	put("cdrom", "1\n");
	put("ro", "1\n");
	assert_int_equal(gd_lun_read(fake.dir, &st), 0);
	assert_string_equal(st.file, "/images/debian.iso");
	assert_int_equal(st.mode, GD_LUN_CDROM);
	assert_true(st.readonly);

	put("file", "");
	put("cdrom", "0\n");
	put("ro", "0\n");
	assert_int_equal(gd_lun_read(fake.dir, &st), 0);
	assert_string_equal(st.file, "");
	assert_int_equal(st.mode, GD_LUN_DISK);
	assert_false(st.readonly);

	/* What insert leaves behind reads back. */
	assert_int_equal(
	    gd_lun_insert(fake.dir, "/images/usb.img", 1 << 20, GD_LUN_DISK, true, NULL, NULL, 0),
	    0);
	assert_int_equal(gd_lun_read(fake.dir, &st), 0);
	assert_string_equal(st.file, "/images/usb.img");
	assert_int_equal(st.mode, GD_LUN_DISK);
	assert_true(st.readonly);
	assert_int_equal(gd_lun_eject(fake.dir, NULL, NULL, 0), 0);
	assert_int_equal(gd_lun_read(fake.dir, &st), 0);
	assert_string_equal(st.file, "");

	put("cdrom", "yes\n");
	assert_int_equal(gd_lun_read(fake.dir, &st), -EINVAL);
	assert_string_equal(st.file, "");

	char big[sizeof(st.file) + 10];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("cdrom", "0\n");
	put("file", big);
	assert_int_equal(gd_lun_read(fake.dir, &st), -EOVERFLOW);
}

static void expect_inquiry(const char *vendor, const char *product, const char *revision,
                           const char *expect)
{
	assert_int_equal(gd_lun_set_inquiry(fake.dir, vendor, product, revision), 0);
	assert_int_equal(strlen(expect), 28);
	assert_string_equal(get("inquiry_string"), expect);
}

static void test_inquiry(void **state)
{
	(void)state;
	expect_inquiry("gadgetd", "Virtual Media", "0.1", "gadgetd Virtual Media   0.1 ");
	expect_inquiry("Linux", "File-Stor Gadget", "0601", "Linux   File-Stor Gadget0601");
	expect_inquiry("A Long Vendor", "A Product Name Too Long", "1.2.3",
	               "A Long VA Product Name T1.2.");
	expect_inquiry(NULL, "", NULL, "                            ");
	put("inquiry_string", "unchanged");
	assert_int_equal(gd_lun_set_inquiry(fake.dir, "bad\n", "x", "1"), -EINVAL);
	assert_int_equal(gd_lun_set_inquiry(fake.dir, "ok", "caf\xc3\xa9", "1"), -EINVAL);
	assert_string_equal(get("inquiry_string"), "unchanged");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_insert_cdrom, setup),
	    cmocka_unit_test_setup(test_insert_disk, setup),
	    cmocka_unit_test_setup(test_order_eject_first_file_last, setup),
	    cmocka_unit_test_setup(test_forced_eject, setup),
	    cmocka_unit_test_setup(test_kernel_refuses_file, setup),
	    cmocka_unit_test_setup(test_cdrom_size_limits, setup),
	    cmocka_unit_test_setup(test_bad_paths, setup),
	    cmocka_unit_test_setup(test_missing_dir, setup),
	    cmocka_unit_test_setup(test_read, setup),
	    cmocka_unit_test_setup(test_inquiry, setup),
	};
	int failed = cmocka_run_group_tests_name("lun", tests, NULL, NULL);
	unit_scratch_cleanup();
	return failed;
}
