/*
 * api_session: logging in and out (browser sessions), who the caller is, and the API tokens
 * an admin hands to scripts.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "json.h"
#include "log.h"

#define LOG_PREFIX "AUTH: "

unsigned gd_api_open_session(struct gd_api_request *req, const char *user, const char *password,
                             enum gd_role *role, char secret[GD_SECRET_TEXT + 1],
                             char csrf[GD_SESSION_CSRF_LEN + 1], json_t **reply)
{
	enum gd_auth_result res = gd_api_check_password(req, user, password, role);
	if (res != GD_AUTH_OK)
		return gd_api_auth_failed(req, res, user, reply);
	if (gd_sessions_create(req->app->sessions, user, gd_api_now_ms(), secret, csrf) < 0) {
		*reply = gd_json_error("internal", "no randomness for a session");
		return 500;
	}
	return 0;
}

unsigned gd_api_login_post(struct gd_api_request *req, json_t **reply)
{
	const char *user = NULL, *password = NULL;
	const struct gd_json_field fields[] = {
	    {"user", GD_JSON_STRING, true, 1, GD_AUTH_NAME_MAX, &user},
	    {"password", GD_JSON_STRING, true, 1, 1024, &password},
	};
	char err[256];
	if (gd_json_fields(req->body, fields, 2, err, sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request",
		                       "%s (expected {\"user\": \"name\", "
		                       "\"password\": \"secret\"})",
		                       err);
		return 400;
	}
	enum gd_role role;
	char secret[GD_SECRET_TEXT + 1], csrf[GD_SESSION_CSRF_LEN + 1];
	unsigned status = gd_api_open_session(req, user, password, &role, secret, csrf, reply);
	if (status != 0)
		return status;
	gd_api_set_session_cookie(req, secret);
	explicit_bzero(secret, sizeof(secret));
	GD_LOG_INFO("user '%s' logged in", user);
	const struct gd_config *cfg = req->app->cfg;
	*reply =
	    json_pack("{s:s, s:s, s:s, s:I, s:I}", "user", user, "role", gd_auth_role_name(role),
	              "csrf_token", csrf, "idle_timeout_s", (json_int_t)cfg->session_idle,
	              "lifetime_s", (json_int_t)cfg->session_lifetime);
	return 200;
}

unsigned gd_api_logout_post(struct gd_api_request *req, json_t **reply)
{
	bool ended =
	    req->session != NULL && gd_sessions_revoke(req->app->sessions, req->session) == 0;
	if (req->via == GD_VIA_SESSION)
		gd_api_set_session_cookie(req, NULL);
	if (ended)
		GD_LOG_INFO("user '%s' logged out", req->user);
	*reply = json_pack("{s:b}", "logged_out", ended);
	return 200;
}

static const char *via_name(enum gd_api_via via)
{
	return via == GD_VIA_BASIC     ? "basic"
	       : via == GD_VIA_SESSION ? "session"
	       : via == GD_VIA_BEARER  ? "bearer"
	                               : "none";
}

unsigned gd_api_session_get(struct gd_api_request *req, json_t **reply)
{
	*reply = json_pack("{s:s, s:s, s:s}", "user", req->user, "role",
	                   gd_auth_role_name(req->role), "via", via_name(req->via));
	if (req->csrf != NULL)
		json_object_set_new(*reply, "csrf_token", json_string(req->csrf));
	return 200;
}

unsigned gd_api_tokens_get(struct gd_api_request *req, json_t **reply)
{
	*reply = json_pack("{s:o}", "tokens", gd_tokens_list(req->app->tokens));
	return 200;
}

static unsigned token_error(int rc, const char *err, json_t **reply)
{
	unsigned status = rc == -EEXIST ? 409 : rc == -EINVAL || rc == -ENOSPC ? 400 : 500;
	*reply = gd_json_error(status == 409   ? "conflict"
	                       : status == 400 ? "bad_request"
	                                       : "internal",
	                       "%s", err);
	return status;
}

unsigned gd_api_tokens_post(struct gd_api_request *req, json_t **reply)
{
	const char *name = NULL, *role_name = NULL;
	json_int_t expires_in = 0;
	const struct gd_json_field fields[] = {
	    {"name", GD_JSON_STRING, true, 1, GD_AUTH_NAME_MAX, &name},
	    {"role", GD_JSON_STRING, true, 1, 16, &role_name},
	    {"expires_in_s", GD_JSON_INTEGER, false, 60, 86400LL * 3650, &expires_in},
	};
	char err[256];
	if (gd_json_fields(req->body, fields, 3, err, sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request",
		                       "%s (expected {\"name\": \"ci\", \"role\": \"operator\", "
		                       "\"expires_in_s\": 86400})",
		                       err);
		return 400;
	}
	int role = gd_auth_role_parse(role_name);
	if (role < 0) {
		*reply =
		    gd_json_error("bad_request",
		                  "'role': unknown role '%s' (viewer, operator, admin)", role_name);
		return 400;
	}
	char secret[GD_TOKEN_TEXT + 1];
	json_t *record = NULL;
	time_t expires = expires_in ? time(NULL) + (time_t)expires_in : 0;
	int rc = gd_tokens_create(req->app->tokens, name, (enum gd_role)role, req->user, expires,
	                          secret, &record, err, sizeof(err));
	if (rc == -EINVAL) {
		*reply = gd_json_error("bad_request", "'name': %s", err);
		return 400;
	}
	if (rc < 0)
		return token_error(rc, err, reply);
	GD_LOG_INFO("user '%s' created API token '%s' (%s)", req->user, name, role_name);
	/* The only time the secret is shown. */
	json_object_set_new(record, "token", json_string(secret));
	explicit_bzero(secret, sizeof(secret));
	*reply = record;
	return 201;
}

unsigned gd_api_token_delete(struct gd_api_request *req, json_t **reply)
{
	int rc = gd_tokens_delete(req->app->tokens, req->params[0]);
	if (rc == -ENOENT) {
		*reply = gd_json_error("not_found", "no token with id '%s'", req->params[0]);
		return 404;
	}
	if (rc < 0) {
		*reply =
		    gd_json_error("internal", "cannot write the tokens file: %s", strerror(-rc));
		return 500;
	}
	GD_LOG_INFO("user '%s' revoked API token %s", req->user, req->params[0]);
	*reply = json_pack("{s:s}", "revoked", req->params[0]);
	return 200;
}
