/* console_client: what the TCP and WebSocket clients of the console share: notices and pacing. */
#include "console_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

size_t gd_console_notice(char *buf, size_t len, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	int n = snprintf(buf, len, "\r\n[gadgetd: %s]\r\n", text);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

size_t gd_console_client_read(struct gd_console_sub *sub, uint8_t *buf, size_t max)
{
	uint64_t lost;
	size_t n = gd_console_sub_read(sub, buf, max, &lost);
	if (lost == 0)
		return n;
	/* The notice goes first; the output that followed the gap is read again after it. */
	*gd_console_sub_offset(sub) -= n;
	size_t note =
	    gd_console_notice((char *)buf, max, "%llu bytes skipped: the client fell behind",
	                      (unsigned long long)lost);
	return note + gd_console_sub_read(sub, buf + note, max - note, &lost);
}

size_t gd_console_write_notice(char *buf, size_t len, ssize_t rc)
{
	if (rc == -ETIMEDOUT)
		return gd_console_notice(buf, len, "the server is not reading its console");
	if (rc == -ENOTCONN)
		return gd_console_notice(buf, len, "the console port is closed; reopening");
	return gd_console_notice(buf, len, "writing to the console failed: %s", strerror((int)-rc));
}
