/* api: what every resource handler sees, and the table of routes http.c serves. */
#ifndef GD_API_H
#define GD_API_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "gadget.h"

/* The modules a handler may use; owned by main.c, alive while the server runs. */
struct gd_app {
	const struct gd_config *cfg;
	struct gd_gadget *gadget;
	struct gd_auth *auth;
	struct timespec started; /* CLOCK_MONOTONIC */
};

struct gd_api_request {
	struct gd_app *app;
	const char *method;
	const char *path;
	const char *user; /* authenticated user */
	json_t *body;     /* the request's JSON object when the route takes one, else NULL */
};

/*
 * Handles a request: returns the HTTP status and sets *REPLY to a new JSON
 * reference (the body; gd_json_error() for errors). Never NULL on return.
 */
typedef unsigned (*gd_api_handler)(struct gd_api_request *req, json_t **reply);

struct gd_api_route {
	const char *method;
	const char *path;
	gd_api_handler handler;
	bool takes_body; /* the body must be a JSON object */
};

extern const struct gd_api_route gd_api_routes[];

/* The gadget as the API shows it (a new reference), shared by /api/status and /api/gadget. */
json_t *gd_api_gadget_json(struct gd_gadget *gadget);

unsigned gd_api_status_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_gadget_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_gadget_post(struct gd_api_request *req, json_t **reply);

#endif
