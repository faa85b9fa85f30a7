/* conslog: the console's log file: a UTC timestamp at the start of each line, rotated by size. */
#ifndef GD_CONSLOG_H
#define GD_CONSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct gd_conslog;

/*
 * Appends to PATH (created 0600), keeping KEEP rotated files PATH.1 (newest) .. PATH.KEEP once
 * it reaches MAX_SIZE bytes. Returns 0, or -errno with a message in ERR.
 */
int gd_conslog_open(struct gd_conslog **out, const char *path, uint64_t max_size, unsigned keep,
                    char *err, size_t errlen);
void gd_conslog_close(struct gd_conslog *log);

/*
 * Logs LEN bytes that arrived at NOW (CLOCK_REALTIME), stamping each new line. Returns 0, or
 * -errno (a full disk): the bytes are lost to the log, which goes on with the next write.
 */
int gd_conslog_write(struct gd_conslog *log, const void *data, size_t len,
                     const struct timespec *now);

/* The file being written, and the path of rotated file N (1..keep) into BUF. */
const char *gd_conslog_path(const struct gd_conslog *log);
void gd_conslog_part_path(const struct gd_conslog *log, unsigned n, char *buf, size_t len);
unsigned gd_conslog_keep(const struct gd_conslog *log);

/* The length of a line's stamp: "2026-11-22T02:10:52.123Z ". */
#define GD_CONSLOG_STAMP_LEN 25

#endif
