/*
 * console_ws: the console over WebSocket sessions (the browser terminal): recent output
 * replayed on connect, then the live stream both ways, pings to find dead peers.
 */
#ifndef GD_CONSOLE_WS_H
#define GD_CONSOLE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"

struct gd_console_ws;

/* Called once a session is over: the HTTP server closes the socket. */
typedef void (*gd_console_ws_done)(void *arg);

struct gd_console_ws *gd_console_ws_new(struct gd_console *console);
/*
 * Serves the console on SOCK, an upgraded HTTP connection (EXTRA: bytes the client sent
 * after its handshake), in a thread of its own, replaying up to REPLAY bytes of recent
 * output first; READ_ONLY: what the client sends is not written. DONE(ARG) runs at the end. Returns
 * 0 or -errno (DONE has not run then).
 */
int gd_console_ws_start(struct gd_console_ws *ws, int sock, const void *extra, size_t extra_len,
                        uint64_t replay, const char *user, bool read_only, gd_console_ws_done done,
                        void *arg);
/* Ends every session (the console is interrupted already), waits for them, refuses new ones. */
void gd_console_ws_stop(struct gd_console_ws *ws);
/* Stops (if not done) and frees WS. */
void gd_console_ws_free(struct gd_console_ws *ws);

#endif
