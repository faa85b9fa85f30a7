/* Unit tests of seed: the FAT image mounts with its label and files, as mtools reads it. */
#include "seed.h"

#include <errno.h>
#include <sys/stat.h>

#include "unit.h"

/* What COMMAND prints (at most LEN-1 bytes). */
static void output_of(const char *command, char *buf, size_t len)
{
	FILE *p = popen(command, "r");
	assert_non_null(p);
	size_t n = fread(buf, 1, len - 1, p);
	buf[n] = '\0';
	pclose(p);
}

static void test_label_and_files_as_mtools_reads_them(void **state)
{
	(void)state;
	const char *img = unit_path("cidata.img");
	json_t *files = json_pack("{s:s, s:s}", "user-data",
	                          "#cloud-config\nautoinstall:\n  identity:\n    hostname: node7\n",
	                          "meta-data", "instance-id: node7\n");
	char err[256] = "";
	assert_int_equal(gd_seed_build(img, "CIDATA", files, err, sizeof(err)), 0);
	char out[1024], cmd[512];
	snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 mlabel -s -i %s ::", img);
	output_of(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "CIDATA"));
	snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 mtype -i %s ::user-data", img);
	output_of(cmd, out, sizeof(out));
	assert_string_equal(out, "#cloud-config\nautoinstall:\n  identity:\n    hostname: node7\n");
	snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 mtype -i %s ::meta-data", img);
	output_of(cmd, out, sizeof(out));
	assert_string_equal(out, "instance-id: node7\n");
	/* The kernel would take it: a FAT boot sector, 1 MiB at least, nothing left over. */
	snprintf(cmd, sizeof(cmd), "file -b %s", img);
	output_of(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "FAT (12 bit)"));
	struct stat st;
	assert_int_equal(stat(img, &st), 0);
	assert_true(st.st_size >= (1 << 20));
	snprintf(cmd, sizeof(cmd), "%s.tmp", img);
	assert_int_equal(access(cmd, F_OK), -1);
	json_decref(files);
}

static void test_large_files_fit_and_a_rebuild_replaces(void **state)
{
	(void)state;
	const char *img = unit_path("oemdrv.img");
	char *big = malloc(600 * 1024 + 1);
	memset(big, 'k', 600 * 1024);
	big[600 * 1024] = '\0';
	json_t *files = json_pack("{s:s}", "ks.cfg", big);
	char err[256] = "";
	assert_int_equal(gd_seed_build(img, "OEMDRV", files, err, sizeof(err)), 0);
	json_decref(files);
	files = json_pack("{s:s}", "autounattend.xml", "<ComputerName>w1</ComputerName>");
	assert_int_equal(gd_seed_build(img, "OEMDRV", files, err, sizeof(err)), 0);
	char out[256], cmd[512];
	snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 mdir -b -i %s ::", img);
	output_of(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "autounattend.xml"));
	assert_null(strstr(out, "ks.cfg"));
	json_decref(files);
	free(big);
}

static void test_a_failure_leaves_nothing(void **state)
{
	(void)state;
	json_t *files = json_pack("{s:s}", "a", "b");
	char err[256] = "";
	/* mkfs.fat refuses a label it cannot store. */
	const char *img = unit_path("bad.img");
	assert_true(gd_seed_build(img, "WAY-TOO-LONG-LABEL", files, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "mkfs.fat"));
	assert_int_equal(access(img, F_OK), -1);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", img);
	assert_int_equal(access(tmp, F_OK), -1);
	/* No directory to write in. */
	assert_int_equal(gd_seed_build("/nonexistent/dir/x.img", "CIDATA", files, err, sizeof(err)),
	                 -ENOENT);
	json_decref(files);
}

/* What the LUN attribute NAME of the fake LUN directory DIR holds, without the newline. */
static const char *attr(const char *dir, const char *name)
{
	static char text[512];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	text[strcspn(text, "\n")] = '\0';
	fclose(f);
	return text;
}

static void test_insert_into_the_lun_read_only_then_eject(void **state)
{
	(void)state;
	assert_int_equal(mkdir(unit_path("lun1"), 0755), 0);
	const char *names[] = {"file", "cdrom", "ro", "removable", "forced_eject"};
	const char *values[] = {"", "1\n", "0\n", "1\n", ""};
	char name[64];
	for (size_t i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "lun1/%s", names[i]);
		unit_write(name, values[i]);
	}
	char dir[300], img[300];
	snprintf(dir, sizeof(dir), "%s", unit_path("lun1"));
	snprintf(img, sizeof(img), "%s", unit_path("seed.img"));
	json_t *files = json_pack("{s:s}", "ks.cfg", "network --hostname=rocky1\n");
	char err[256] = "";
	assert_int_equal(gd_seed_insert(dir, img, "OEMDRV", files, err, sizeof(err)), 0);
	assert_string_equal(attr(dir, "file"), img);
	assert_string_equal(attr(dir, "ro"), "1");
	assert_string_equal(attr(dir, "cdrom"), "0");
	assert_int_equal(access(img, R_OK), 0);
	assert_int_equal(gd_seed_eject(dir, img, err, sizeof(err)), 0);
	assert_string_equal(attr(dir, "file"), "");
	assert_int_equal(access(img, F_OK), -1);
	json_decref(files);
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
	    cmocka_unit_test(test_label_and_files_as_mtools_reads_them),
	    cmocka_unit_test(test_large_files_fit_and_a_rebuild_replaces),
	    cmocka_unit_test(test_a_failure_leaves_nothing),
	    cmocka_unit_test(test_insert_into_the_lun_read_only_then_eject),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
