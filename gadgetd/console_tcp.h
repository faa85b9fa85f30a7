/*
 * console_tcp: the console on a TCP port, as ser2net serves one: telnet (character mode) or
 * raw, an optional banner, an idle timeout. No authentication: loopback and SSH tunnels only.
 */
#ifndef GD_CONSOLE_TCP_H
#define GD_CONSOLE_TCP_H

#include <stddef.h>

#include "config.h"
#include "console.h"

struct gd_console_tcp;

/* Listens on CFG's console_tcp_bind and _port. Returns 0, or -errno with a message in ERR. */
int gd_console_tcp_start(struct gd_console_tcp **out, const struct gd_config *cfg,
                         struct gd_console *console, char *err, size_t errlen);
/* Closes the port and every client connection; frees T. */
void gd_console_tcp_stop(struct gd_console_tcp *t);

#endif
