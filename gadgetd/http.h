/* http: the libmicrohttpd server: listening socket, authentication, routing, JSON replies. */
#ifndef GD_HTTP_H
#define GD_HTTP_H

#include <stddef.h>

#include "api.h"

/* JSON request bodies (a kickstart file to type fits); uploads stream elsewhere. */
#define GD_HTTP_BODY_MAX ((size_t)1024 * 1024)

struct gd_http;

/* Listens on APP->cfg's bind address and port. Returns 0, or -errno with a message in ERR. */
int gd_http_start(struct gd_http **out, struct gd_app *app, char *err, size_t errlen);

/* Stops accepting, finishes the requests in flight, frees HTTP. */
void gd_http_stop(struct gd_http *http);

#endif
