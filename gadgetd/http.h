/* http: the libmicrohttpd server: listening socket, authentication, routing, JSON replies. */
#ifndef GD_HTTP_H
#define GD_HTTP_H

#include <stddef.h>

#include "api.h"

struct gd_http;

/* Listens on APP->cfg's HTTP and HTTPS addresses and ports. Returns 0, or -errno with a message in
 * ERR. */
int gd_http_start(struct gd_http **out, struct gd_app *app, char *err, size_t errlen);

/* Connections, sessions, throttled addresses and the certificate, for /api/status. */
json_t *gd_http_status(struct gd_http *http);

/* Stops accepting, finishes the requests in flight, frees HTTP. */
void gd_http_stop(struct gd_http *http);

#endif
