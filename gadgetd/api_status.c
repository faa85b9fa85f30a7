/* api_status: GET /api/status, the daemon and its gadget at a glance. */
#include "api.h"
#include "boot.h"
#include "http.h"

#include <time.h>

#ifndef GD_VERSION
#define GD_VERSION "0.0.0"
#endif

unsigned gd_api_status_get(struct gd_api_request *req, json_t **reply)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	json_int_t uptime = (json_int_t)(now.tv_sec - req->app->started.tv_sec);
	*reply = json_pack("{s:s, s:I, s:o, s:o, s:o}", "version", GD_VERSION, "uptime_s", uptime,
	                   "gadget", gd_api_gadget_json(req->app->gadget), "console",
	                   gd_api_console_status(req->app), "http", gd_http_status(req->app->http));
	json_object_set_new(*reply, "boot_override",
	                    req->app->boot ? gd_boot_json(req->app->boot) : json_null());
	return 200;
}
