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

unsigned gd_api_macros_get(struct gd_api_request *req, json_t **reply)
{
	*reply = json_pack("{s:o}", "macros", gd_macros_list(req->app->macros));
	return 200;
}

unsigned gd_api_macro_get(struct gd_api_request *req, json_t **reply)
{
	*reply = gd_macros_get(req->app->macros, req->params[0]);
	return *reply ? 200 : no_macro(req, reply);
}

unsigned gd_api_macro_put(struct gd_api_request *req, json_t **reply)
{
	const char *text, *description = "";
	json_error_t jerr;
	if (json_unpack_ex(req->body, &jerr, JSON_STRICT, "{s:s, s?s}", "macro", &text,
	                   "description", &description) < 0) {
		*reply =
		    gd_json_error("bad_request", "%s (expected {\"macro\": \"...\"})", jerr.text);
		return 400;
	}
	char err[512];
	int rc =
	    gd_macros_put(req->app->macros, req->params[0], text, description, err, sizeof(err));
	if (rc == -EINVAL || rc == -EPERM) {
		*reply = gd_json_error(rc == -EPERM ? "builtin_macro" : "bad_request", "%s", err);
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
