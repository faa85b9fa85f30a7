/*
 * console: the server's serial console (the gadget's ACM port, /dev/ttyGSn): read without pause
 * into a ring buffer and a log file, reopened by itself when the host hangs it up; serialized
 * writes; subscribers that are woken by new output; waiting for a pattern (expect).
 */
#ifndef GD_CONSOLE_H
#define GD_CONSOLE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

struct gd_console;
struct gd_console_sub;

/* Who is attached, for the status. */
enum gd_console_client { GD_CONSOLE_WS, GD_CONSOLE_TCP, GD_CONSOLE_CLIENT_KINDS };

struct gd_console_status {
	char tty[64];
	bool open;        /* the port is open (it may still have no host behind it) */
	uint64_t next;    /* the offset the next output byte will get */
	uint64_t start;   /* the oldest offset the ring buffer still holds */
	uint64_t reopens; /* times the port was hung up and reopened */
	unsigned clients[GD_CONSOLE_CLIENT_KINDS];
	int log_error; /* the last log write's -errno, 0 when it went well */
};

/*
 * Opens TTY in raw mode (retrying in the background while it cannot be opened) and starts
 * reading it into a ring buffer of CFG->console_buffer bytes and the log in LOG_PATH.
 * Returns 0, or -errno with a message in ERR.
 */
int gd_console_open(struct gd_console **out, const struct gd_config *cfg, const char *tty,
                    const char *log_path, char *err, size_t errlen);
/* Stops reading and frees C; every subscriber must be gone. */
void gd_console_close(struct gd_console *c);
/* Wakes every waiter and subscriber for good: the daemon is stopping. */
void gd_console_interrupt(struct gd_console *c);
bool gd_console_closing(struct gd_console *c);

void gd_console_get_status(struct gd_console *c, struct gd_console_status *st);
/* The log file being written, and rotated part N (1..keep) into BUF; the number kept. */
const char *gd_console_log_path(struct gd_console *c);
void gd_console_log_part(struct gd_console *c, unsigned n, char *buf, size_t len);
unsigned gd_console_log_keep(struct gd_console *c);

/*
 * Writes LEN bytes to the server, after any other writer's. Waits at most the configured write
 * timeout for a host that does not read. Returns the bytes written (all, or fewer on a
 * timeout), or -errno: -ETIMEDOUT when none went, -ENOTCONN when the port is not open.
 */
ssize_t gd_console_write(struct gd_console *c, const void *data, size_t len);

/* Copies output from *OFFSET on (see gd_ring_read()). */
size_t gd_console_read(struct gd_console *c, uint64_t *offset, void *buf, size_t max,
                       uint64_t *lost);
/* Waits up to TIMEOUT_MS for output at or after OFFSET: 0, -ETIMEDOUT, or -ECANCELED. */
int gd_console_wait(struct gd_console *c, uint64_t offset, int timeout_ms);

/* A reader woken through an eventfd; starts reading at the next byte to arrive. */
struct gd_console_sub *gd_console_subscribe(struct gd_console *c, enum gd_console_client kind);
void gd_console_unsubscribe(struct gd_console_sub *sub);
/* Becomes readable when output arrives or the console closes; gd_console_sub_read() clears it. */
int gd_console_sub_fd(const struct gd_console_sub *sub);
uint64_t *gd_console_sub_offset(struct gd_console_sub *sub);
/* Like gd_console_read() from the subscriber's offset; clears the eventfd first. */
size_t gd_console_sub_read(struct gd_console_sub *sub, void *buf, size_t max, uint64_t *lost);

/* Where expect found its pattern: absolute offsets of the match, and its text (truncated). */
struct gd_console_match {
	uint64_t start;
	uint64_t end;
	char text[1024];
};

/*
 * Waits up to TIMEOUT_MS for output from SINCE on to match RE (compiled with REG_NEWLINE, so
 * a match lies within a line). Returns 0 with *M filled, -ETIMEDOUT, or -ECANCELED.
 */
int gd_console_expect(struct gd_console *c, const regex_t *re, uint64_t since, int timeout_ms,
                      struct gd_console_match *m);

#endif
