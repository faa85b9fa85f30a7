/*
 * lun: the mass-storage LUN's configfs attributes, written one open/write/close at a time in
 * the order the 6.1 kernel's f_mass_storage demands: `ro` and `cdrom` return EBUSY while a
 * backing file is open, so eject (an empty line to `file`, or 1 to `forced_eject` when the
 * host has locked the door), set `cdrom`, `ro` and `removable`, then write the path to
 * `file`. Sizes the kernel would refuse (ETOOSMALL) or silently truncate are refused here
 * first. Nothing in here logs: errors come back as -errno and a one-line message.
 */
#include "lun.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The kernel's errno for a backing file with fewer sectors than the minimum (not in libc). */
#define KERNEL_ETOOSMALL 525

/* configfs passes at most a page minus the terminating NUL to the attribute's store(). */
#define ATTR_MAX 4095

/* Smallest images the kernel accepts: 300 blocks of 2048 bytes (a CD-ROM's shortest track),
 * one block of 512 bytes for a disk. */
#define CDROM_MIN_BYTES ((uint64_t)300 * 2048)
#define DISK_MIN_BYTES  ((uint64_t)512)

static const char *errno_text(int e)
{
	if (e == KERNEL_ETOOSMALL)
		return "the kernel found the image too small (ETOOSMALL)";
	return strerror(e);
}

static int attr_path(const char *dir, const char *attr, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dir, attr);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Writes VALUE to DIR/ATTR in one write(2), as configfs wants. */
static int write_attr(const char *dir, const char *attr, const char *value, char *err,
                      size_t errlen)
{
	char path[4096 + 64];
	if (attr_path(dir, attr, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "LUN attribute %s/%s: path too long", dir, attr);
		return -ENAMETOOLONG;
	}
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "LUN attribute %s: %s", path, errno_text(e));
		return -e;
	}
	size_t len = strlen(value);
	ssize_t n;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	int e = n < 0 ? errno : (size_t)n != len ? EIO : 0;
	if (close(fd) < 0 && e == 0)
		e = errno;
	if (e != 0) {
		if (strcmp(value, "\n") == 0)
			snprintf(err, errlen,
			         "cannot write an empty line to LUN attribute '%s': %s", attr,
			         errno_text(e));
		else
			snprintf(err, errlen, "cannot write '%s' to LUN attribute '%s': %s", value,
			         attr, errno_text(e));
		return -e;
	}
	return 0;
}

/* Reads DIR/ATTR into BUF (NUL-terminated, trailing newline removed). */
static int read_attr(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[4096 + 64];
	buf[0] = '\0';
	if (attr_path(dir, attr, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t used = 0;
	int rc = 0;
	for (;;) {
		if (used == len - 1) {
			char extra;
			ssize_t n = read(fd, &extra, 1);
			rc = n > 0 ? -EOVERFLOW : n < 0 ? -errno : 0;
			break;
		}
		ssize_t n = read(fd, buf + used, len - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		used += (size_t)n;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	buf[used] = '\0';
	if (used > 0 && buf[used - 1] == '\n')
		buf[used - 1] = '\0';
	return rc;
}

static int read_bool_attr(const char *dir, const char *attr, bool *out)
{
	char buf[16];
	int rc = read_attr(dir, attr, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	if (strcmp(buf, "0") != 0 && strcmp(buf, "1") != 0)
		return -EINVAL;
	*out = buf[0] == '1';
	return 0;
}

static int check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (stat(dir, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "LUN directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "LUN directory %s: %s", dir, strerror(ENOTDIR));
		return -ENOTDIR;
	}
	return 0;
}

/* "12 KiB", "4.4 GiB": one decimal under 10 units, none above. */
static void human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
		return;
	}
	double v = (double)bytes / 1024;
	size_t i = 0;
	while (v >= 1024 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, v < 9.95 ? "%.1f %s" : "%.0f %s", v, units[i]);
}

/* Formats SIZE and LIMIT for a message, in exact bytes when rounding would make them equal. */
static void size_pair(uint64_t size, uint64_t limit, char *a, char *b, size_t len)
{
	human_size(size, a, len);
	human_size(limit, b, len);
	if (strcmp(a, b) == 0) {
		snprintf(a, len, "%" PRIu64 " bytes", size);
		snprintf(b, len, "%" PRIu64 " bytes", limit);
	}
}

/* Refuses what the kernel would refuse (too small) or silently truncate (too big for MSF). */
static int check_size(uint64_t size, enum gd_lun_mode mode, char *err, size_t errlen)
{
	char a[32], b[32];
	if (mode == GD_LUN_CDROM && size > GD_LUN_CDROM_MAX_BYTES) {
		size_pair(size, GD_LUN_CDROM_MAX_BYTES, a, b, sizeof(a));
		snprintf(err, errlen,
		         "image is %s, larger than a CD-ROM can address (%s): insert it as a disk",
		         a, b);
		return -EFBIG;
	}
	if (mode == GD_LUN_CDROM && size < CDROM_MIN_BYTES) {
		size_pair(size, CDROM_MIN_BYTES, a, b, sizeof(a));
		snprintf(err, errlen,
		         "image is %s, smaller than a CD-ROM's minimum of %s: insert it as a disk",
		         a, b);
		return -EINVAL;
	}
	if (mode == GD_LUN_DISK && size < DISK_MIN_BYTES) {
		size_pair(size, DISK_MIN_BYTES, a, b, sizeof(a));
		snprintf(err, errlen, "image is %s, smaller than a disk's minimum of %s", a, b);
		return -EINVAL;
	}
	return 0;
}

static int check_path(const char *path, char *err, size_t errlen)
{
	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "no image path given");
		return -EINVAL;
	}
	if (strchr(path, '\n') != NULL) {
		snprintf(err, errlen, "image path contains a newline");
		return -EINVAL;
	}
	if (strlen(path) > ATTR_MAX) {
		snprintf(err, errlen, "image path is longer than %d bytes", ATTR_MAX);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Empties the LUN; on EBUSY (the host has prevented medium removal) forces it. */
static int eject(const char *dir, bool *forced, char *err, size_t errlen)
{
	int rc = write_attr(dir, "file", "\n", err, errlen);
	if (rc != -EBUSY)
		return rc;
	char why[512];
	rc = write_attr(dir, "forced_eject", "1", why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen,
		         "the host has locked the medium in and forcing it out failed: %s", why);
		return rc;
	}
	*forced = true;
	return 0;
}

int gd_lun_insert(const char *dir, const char *path, uint64_t size, enum gd_lun_mode mode,
                  bool readonly, bool *forced, char *err, size_t errlen)
{
	bool dummy;
	if (forced == NULL)
		forced = &dummy;
	*forced = false;
	int rc = check_path(path, err, errlen);
	if (rc == 0)
		rc = check_size(size, mode, err, errlen);
	if (rc == 0)
		rc = check_dir(dir, err, errlen);
	if (rc == 0)
		rc = eject(dir, forced, err, errlen);
	if (rc < 0)
		return rc;
	/* A CD-ROM is read-only whatever READONLY says (the kernel sets ro with cdrom too). */
	bool ro = mode == GD_LUN_CDROM || readonly;
	const struct {
		const char *attr, *value;
	} steps[] = {
	    {"cdrom", mode == GD_LUN_CDROM ? "1" : "0"},
	    {"ro", ro ? "1" : "0"},
	    {"removable", "1"},
	    {"file", path},
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		rc = write_attr(dir, steps[i].attr, steps[i].value, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int gd_lun_eject(const char *dir, bool *forced, char *err, size_t errlen)
{
	bool dummy;
	if (forced == NULL)
		forced = &dummy;
	*forced = false;
	int rc = check_dir(dir, err, errlen);
	if (rc < 0)
		return rc;
	return eject(dir, forced, err, errlen);
}

int gd_lun_read(const char *dir, struct gd_lun_state *state)
{
	bool cdrom = false;
	int rc = read_attr(dir, "file", state->file, sizeof(state->file));
	if (rc == 0)
		rc = read_bool_attr(dir, "cdrom", &cdrom);
	if (rc == 0)
		rc = read_bool_attr(dir, "ro", &state->readonly);
	if (rc < 0) {
		memset(state, 0, sizeof(*state));
		return rc;
	}
	state->mode = cdrom ? GD_LUN_CDROM : GD_LUN_DISK;
	return 0;
}

/* Appends S to OUT, cut or padded with spaces to WIDTH; -EINVAL for non-printable ASCII. */
static int pad_field(char *out, const char *s, size_t width)
{
	size_t n = 0;
	for (; s != NULL && s[n] != '\0' && n < width; n++) {
		unsigned char c = (unsigned char)s[n];
		if (c < 0x20 || c > 0x7e)
			return -EINVAL;
		out[n] = s[n];
	}
	memset(out + n, ' ', width - n);
	return 0;
}

int gd_lun_set_inquiry(const char *dir, const char *vendor, const char *product,
                       const char *revision)
{
	char inquiry[8 + 16 + 4 + 1];
	if (pad_field(inquiry, vendor, 8) < 0 || pad_field(inquiry + 8, product, 16) < 0 ||
	    pad_field(inquiry + 24, revision, 4) < 0)
		return -EINVAL;
	inquiry[28] = '\0';
	return write_attr(dir, "inquiry_string", inquiry, NULL, 0);
}
