/* api_macros: GET /api/macros, GET/PUT/DELETE /api/macros/{name}: the named macros. */
#include "api.h"

#include <errno.h>
#include <string.h>

#include "json.h"
#include "log.h"

#define LOG_PREFIX "API: "

static unsigned no_macro(struct gd_api_request *req, json_t **reply)
{
	*reply = gd_json_error("no_such_macro", "no macro named '%.64s'", req->params[0]);
	return 404;
}

/* A name no macro can have is refused as such, not looked for. 0 or 400. */
static unsigned bad_name(struct gd_api_request *req, json_t **reply)
{
	if (gd_macros_name_valid(req->params[0]))
		return 0;
	*reply = gd_json_error("bad_request",
	                       "'%.64s' is not a valid macro name (1-64 of a-z 0-9 . _ -)",
	                       req->params[0]);
	return 400;
}

unsigned gd_api_macros_get(struct gd_api_request *req, json_t **reply)
{
	*reply = json_pack("{s:o}", "macros", gd_macros_list(req->app->macros));
	return 200;
}

unsigned gd_api_macro_get(struct gd_api_request *req, json_t **reply)
{
	unsigned status = bad_name(req, reply);
	if (status != 0)
		return status;
	*reply = gd_macros_get(req->app->macros, req->params[0]);
	return *reply ? 200 : no_macro(req, reply);
}

unsigned gd_api_macro_put(struct gd_api_request *req, json_t **reply)
{
	unsigned status = bad_name(req, reply);
	if (status != 0)
		return status;
	const char *text = NULL, *description = "";
	const struct gd_json_field fields[] = {
	    {"macro", GD_JSON_STRING, true, 0, 0, &text},
	    {"description", GD_JSON_STRING, false, 0, 0, &description},
	};
	char err[512];
	if (gd_json_fields(req->body, fields, 2, err, sizeof(err)) < 0) {
		*reply = gd_json_error(
		    "bad_request", "%s (expected {\"macro\": \"...\", \"description\": \"...\"})",
		    err);
		return 400;
	}
	int rc =
	    gd_macros_put(req->app->macros, req->params[0], text, description, err, sizeof(err));
	if (rc == -EINVAL || rc == -EPERM) {
		*reply = gd_json_error(rc == -EPERM ? "builtin_macro" : "bad_request", "%s%s",
		                       rc == -EPERM ? "" : "'macro': ", err);
		return rc == -EPERM ? 409 : 400;
	}
	if (rc < 0) {
		GD_LOG_ERROR("%s", err);
		*reply = gd_json_error("storage_error", "%s", err);
		return 500;
	}
	GD_LOG_INFO("user '%s' saved macro '%s'", req->user, req->params[0]);
	*reply = gd_macros_get(req->app->macros, req->params[0]);
	return 200;
}

unsigned gd_api_macro_delete(struct gd_api_request *req, json_t **reply)
{
	unsigned status = bad_name(req, reply);
	if (status != 0)
		return status;
	int rc = gd_macros_delete(req->app->macros, req->params[0]);
	if (rc == -EPERM) {
		*reply = gd_json_error("builtin_macro", "'%s' is a built-in macro", req->params[0]);
		return 409;
	}
	if (rc < 0)
		return no_macro(req, reply);
	GD_LOG_INFO("user '%s' deleted macro '%s'", req->user, req->params[0]);
	*reply = json_pack("{s:s, s:b}", "name", req->params[0], "deleted", 1);
	return 200;
}
