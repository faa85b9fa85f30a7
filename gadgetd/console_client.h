/* console_client: what the TCP and WebSocket clients of the console share: notices and pacing. */
#ifndef GD_CONSOLE_CLIENT_H
#define GD_CONSOLE_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "console.h"

/* Console output is queued for a client only while less than this waits to be sent to it. */
#define GD_CONSOLE_CLIENT_QUEUE ((size_t)256 << 10)

/* A line for the client's terminal, framed so it stands out: "\r\n[gadgetd: TEXT]\r\n". */
size_t gd_console_notice(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The subscriber's next output into BUF (MAX bytes, at least 256), after a notice of the
 * bytes skipped when the client fell behind the ring buffer. Returns the bytes in BUF.
 */
size_t gd_console_client_read(struct gd_console_sub *sub, uint8_t *buf, size_t max);

/* The notice for a write to the console that failed (RC from gd_console_write()). */
size_t gd_console_write_notice(char *buf, size_t len, ssize_t rc);

#endif
