/* conslog: the console's log file: a UTC timestamp at the start of each line, rotated by size. */
#include "conslog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A line longer than this past the size limit is cut by a rotation anyway. */
#define LONG_LINE_SLACK ((uint64_t)64 << 10)

struct gd_conslog {
	int fd;
	uint64_t size;
	uint64_t max_size;
	unsigned keep;
	bool line_start; /* the next byte starts a line: stamp it */
	char path[PATH_MAX];
	char stamp[GD_CONSLOG_STAMP_LEN + 1]; /* formatted once per write: its lines share NOW */
	uint8_t buf[64 * 1024];
	size_t used;
};

static int open_file(struct gd_conslog *log)
{
	log->fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log->fd < 0)
		return -errno;
	struct stat st;
	if (fstat(log->fd, &st) < 0)
		return -errno;
	log->size = (uint64_t)st.st_size;
	return 0;
}

int gd_conslog_open(struct gd_conslog **out, const char *path, uint64_t max_size, unsigned keep,
                    char *err, size_t errlen)
{
	struct gd_conslog *log = calloc(1, sizeof(*log));
	if (log == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	log->max_size = max_size;
	log->keep = keep;
	log->line_start = true;
	snprintf(log->path, sizeof(log->path), "%s", path);
	int rc = open_file(log);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open console log %s: %s", path, strerror(-rc));
		if (log->fd >= 0)
			close(log->fd);
		free(log);
		return rc;
	}
	*out = log;
	return 0;
}

void gd_conslog_close(struct gd_conslog *log)
{
	if (log == NULL)
		return;
	close(log->fd);
	free(log);
}

const char *gd_conslog_path(const struct gd_conslog *log)
{
	return log->path;
}

void gd_conslog_part_path(const struct gd_conslog *log, unsigned n, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%u", log->path, n);
}

unsigned gd_conslog_keep(const struct gd_conslog *log)
{
	return log->keep;
}

/* PATH.keep-1 -> PATH.keep, ..., PATH -> PATH.1, and a fresh PATH. */
static int rotate(struct gd_conslog *log)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];
	close(log->fd);
	log->fd = -1;
	for (unsigned n = log->keep; n > 1; n--) {
		gd_conslog_part_path(log, n - 1, from, sizeof(from));
		gd_conslog_part_path(log, n, to, sizeof(to));
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	if (log->keep == 0) {
		if (unlink(log->path) < 0 && errno != ENOENT)
			return -errno;
	} else {
		gd_conslog_part_path(log, 1, to, sizeof(to));
		if (rename(log->path, to) < 0)
			return -errno;
	}
	return open_file(log);
}

static int flush(struct gd_conslog *log)
{
	size_t done = 0;
	while (done < log->used) {
		ssize_t n = write(log->fd, log->buf + done, log->used - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			log->used = 0;
			return -e;
		}
		done += (size_t)n;
		log->size += (uint64_t)n;
	}
	log->used = 0;
	return 0;
}

static void format_stamp(struct gd_conslog *log, const struct timespec *now)
{
	struct tm tm;
	char text[80];
	gmtime_r(&now->tv_sec, &tm);
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (long)(now->tv_nsec / 1000000));
	memcpy(log->stamp, text, GD_CONSLOG_STAMP_LEN);
}

static void stamp(struct gd_conslog *log)
{
	memcpy(log->buf + log->used, log->stamp, GD_CONSLOG_STAMP_LEN);
	log->used += GD_CONSLOG_STAMP_LEN;
}

/* Rotation happens at a line start, so each file begins with a stamped line. */
static int maybe_rotate(struct gd_conslog *log)
{
	uint64_t size = log->size + log->used;
	if (size < log->max_size || (!log->line_start && size < log->max_size + LONG_LINE_SLACK))
		return 0;
	int rc = flush(log);
	if (rc == 0)
		rc = rotate(log);
	if (rc == 0 && !log->line_start)
		log->line_start = true; /* the rest of a very long line gets a stamp of its own */
	return rc;
}

int gd_conslog_write(struct gd_conslog *log, const void *data, size_t len,
                     const struct timespec *now)
{
	if (log->fd < 0) {
		int rc = open_file(log); /* a rotation that failed: try again */
		if (rc < 0)
			return rc;
	}
	const uint8_t *p = data;
	int rc = 0;
	format_stamp(log, now);
	while (len > 0 && rc == 0) {
		rc = maybe_rotate(log);
		if (rc < 0)
			break;
		if (sizeof(log->buf) - log->used < GD_CONSLOG_STAMP_LEN + 256)
			rc = flush(log);
		if (rc < 0)
			break;
		if (log->line_start) {
			stamp(log);
			log->line_start = false;
		}
		size_t room = sizeof(log->buf) - log->used;
		const uint8_t *nl = memchr(p, '\n', len < room ? len : room);
		size_t n = nl ? (size_t)(nl - p) + 1 : (len < room ? len : room);
		memcpy(log->buf + log->used, p, n);
		log->used += n;
		log->line_start = nl != NULL;
		p += n;
		len -= n;
	}
	int frc = flush(log);
	return rc < 0 ? rc : frc;
}
