/*
 * http: the libmicrohttpd servers (plain HTTP and HTTPS): listening sockets, authentication
 * (Basic, Bearer, session cookie with CSRF), routing by role, limits, JSON replies.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conns.h"
#include "json.h"
#include "log.h"
#include "redfish.h"
#include "tls.h"
#include "webui.h"

#define LOG_PREFIX     "HTTP: "
#define SESSION_COOKIE "gadgetd_session"
#define CSRF_HEADER    "X-CSRF-Token"
#define REDFISH_TOKEN  "X-Auth-Token"
/* A failed login's reply waits this long at most; the address waits longer to try again. */
#define FAIL_REPLY_MAX_MS 2000
/* A connection's memory beyond the headers: its read buffer, so uploads come in large chunks
 * (header_max itself is checked here, with JSON replies). */
#define POOL_EXTRA ((size_t)64 * 1024)
/* Modern TLS only: 1.2 and 1.3, GnuTLS's default ciphers for them. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* ROLE: the least role that may call the route (VIEWER, OPERATOR, ADMIN). */
#define ROUTE(method, path, role, handler, body)                                                   \
	{                                                                                          \
		method, path, GD_ROLE_##role, body, handler, NULL, false                           \
	}
#define STREAM(method, path, role, ops)                                                            \
	{                                                                                          \
		method, path, GD_ROLE_##role, GD_BODY_STREAM, NULL, &(ops), false                  \
	}
/* No credentials needed. */
#define PUBLIC(method, path, handler, body)                                                        \
	{                                                                                          \
		method, path, GD_ROLE_VIEWER, body, handler, NULL, true                            \
	}

const struct gd_api_route gd_api_routes[] = {
    PUBLIC("POST", "/api/login", gd_api_login_post, GD_BODY_JSON),
    ROUTE("POST", "/api/logout", VIEWER, gd_api_logout_post, GD_BODY_NONE),
    ROUTE("GET", "/api/session", VIEWER, gd_api_session_get, GD_BODY_NONE),
    ROUTE("GET", "/api/tokens", ADMIN, gd_api_tokens_get, GD_BODY_NONE),
    ROUTE("POST", "/api/tokens", ADMIN, gd_api_tokens_post, GD_BODY_JSON),
    ROUTE("DELETE", "/api/tokens/{}", ADMIN, gd_api_token_delete, GD_BODY_NONE),
    ROUTE("GET", "/api/status", VIEWER, gd_api_status_get, GD_BODY_NONE),
    ROUTE("GET", "/api/gadget", VIEWER, gd_api_gadget_get, GD_BODY_NONE),
    ROUTE("POST", "/api/gadget", ADMIN, gd_api_gadget_post, GD_BODY_JSON),
    ROUTE("POST", "/api/keys", OPERATOR, gd_api_keys_post, GD_BODY_JSON),
    ROUTE("GET", "/api/keyboard", VIEWER, gd_api_keyboard_get, GD_BODY_NONE),
    ROUTE("GET", "/api/keyboard/layouts", VIEWER, gd_api_keyboard_layouts_get, GD_BODY_NONE),
    ROUTE("GET", "/api/keyboard/keys", VIEWER, gd_api_keyboard_keys_get, GD_BODY_NONE),
    ROUTE("GET", "/api/jobs", VIEWER, gd_api_jobs_get, GD_BODY_NONE),
    ROUTE("GET", "/api/jobs/{}", VIEWER, gd_api_job_get, GD_BODY_NONE),
    ROUTE("DELETE", "/api/jobs/{}", OPERATOR, gd_api_job_delete, GD_BODY_NONE),
    ROUTE("GET", "/api/macros", VIEWER, gd_api_macros_get, GD_BODY_NONE),
    ROUTE("GET", "/api/macros/{}", VIEWER, gd_api_macro_get, GD_BODY_NONE),
    ROUTE("PUT", "/api/macros/{}", OPERATOR, gd_api_macro_put, GD_BODY_JSON),
    ROUTE("DELETE", "/api/macros/{}", OPERATOR, gd_api_macro_delete, GD_BODY_NONE),
    ROUTE("POST", "/api/macros/{}/run", OPERATOR, gd_api_macro_run, GD_BODY_OPTIONAL),
    ROUTE("GET", "/api/scripts", VIEWER, gd_api_scripts_get, GD_BODY_NONE),
    ROUTE("GET", "/api/scripts/{}", VIEWER, gd_api_script_get, GD_BODY_NONE),
    ROUTE("PUT", "/api/scripts/{}", OPERATOR, gd_api_script_put, GD_BODY_JSON),
    ROUTE("DELETE", "/api/scripts/{}", OPERATOR, gd_api_script_delete, GD_BODY_NONE),
    ROUTE("POST", "/api/scripts/{}/run", OPERATOR, gd_api_script_run, GD_BODY_OPTIONAL),
    ROUTE("GET", "/api/images", VIEWER, gd_api_images_get, GD_BODY_NONE),
    STREAM("POST", "/api/images", OPERATOR, gd_api_images_post),
    ROUTE("GET", "/api/images/{}", VIEWER, gd_api_image_get, GD_BODY_NONE),
    STREAM("PUT", "/api/images/{}", OPERATOR, gd_api_image_put),
    ROUTE("DELETE", "/api/images/{}", OPERATOR, gd_api_image_delete, GD_BODY_NONE),
    ROUTE("GET", "/api/images/{}/content", OPERATOR, gd_api_image_content_get, GD_BODY_NONE),
    ROUTE("GET", "/api/media", VIEWER, gd_api_media_get, GD_BODY_NONE),
    ROUTE("PUT", "/api/media", OPERATOR, gd_api_media_put, GD_BODY_JSON),
    ROUTE("DELETE", "/api/media", OPERATOR, gd_api_media_delete, GD_BODY_NONE),
    ROUTE("GET", "/api/power", VIEWER, gd_api_power_get, GD_BODY_NONE),
    ROUTE("POST", "/api/power", OPERATOR, gd_api_power_post, GD_BODY_JSON),
    ROUTE("GET", "/api/console", VIEWER, gd_api_console_get, GD_BODY_NONE),
    ROUTE("POST", "/api/console", OPERATOR, gd_api_console_post, GD_BODY_JSON),
    ROUTE("GET", "/api/console/log", VIEWER, gd_api_console_log_get, GD_BODY_NONE),
    ROUTE("GET", "/api/console/ws", VIEWER, gd_api_console_ws_get, GD_BODY_NONE),
    ROUTE("POST", "/api/console/expect", VIEWER, gd_api_console_expect_post, GD_BODY_JSON),
    PUBLIC("GET", "/redfish", gd_redfish_versions_get, GD_BODY_NONE),
    PUBLIC("GET", "/redfish/v1", gd_redfish_root_get, GD_BODY_NONE),
    PUBLIC("GET", "/redfish/v1/odata", gd_redfish_odata_get, GD_BODY_NONE),
    ROUTE("GET", "/redfish/v1/SessionService", VIEWER, gd_redfish_session_service_get,
          GD_BODY_NONE),
    ROUTE("GET", "/redfish/v1/SessionService/Sessions", VIEWER, gd_redfish_sessions_get,
          GD_BODY_NONE),
    PUBLIC("POST", "/redfish/v1/SessionService/Sessions", gd_redfish_sessions_post, GD_BODY_JSON),
    ROUTE("GET", "/redfish/v1/SessionService/Sessions/{}", VIEWER, gd_redfish_session_get,
          GD_BODY_NONE),
    ROUTE("DELETE", "/redfish/v1/SessionService/Sessions/{}", VIEWER, gd_redfish_session_delete,
          GD_BODY_NONE),
    ROUTE("GET", "/redfish/v1/Systems", VIEWER, gd_redfish_systems_get, GD_BODY_NONE),
    ROUTE("GET", "/redfish/v1/Systems/{}", VIEWER, gd_redfish_system_get, GD_BODY_NONE),
    ROUTE("PATCH", "/redfish/v1/Systems/{}", OPERATOR, gd_redfish_system_patch, GD_BODY_JSON),
    ROUTE("POST", "/redfish/v1/Systems/{}/Actions/ComputerSystem.Reset", OPERATOR,
          gd_redfish_reset_post, GD_BODY_JSON),
    ROUTE("GET", "/redfish/v1/Managers", VIEWER, gd_redfish_managers_get, GD_BODY_NONE),
    ROUTE("GET", "/redfish/v1/Managers/{}", VIEWER, gd_redfish_manager_get, GD_BODY_NONE),
    ROUTE("GET", "/redfish/v1/Managers/{}/VirtualMedia", VIEWER, gd_redfish_vmedia_list_get,
          GD_BODY_NONE),
    ROUTE("GET", "/redfish/v1/Managers/{}/VirtualMedia/{}", VIEWER, gd_redfish_vmedia_get,
          GD_BODY_NONE),
    ROUTE("POST", "/redfish/v1/Managers/{}/VirtualMedia/{}/Actions/VirtualMedia.InsertMedia",
          OPERATOR, gd_redfish_vmedia_insert_post, GD_BODY_JSON),
    ROUTE("POST", "/redfish/v1/Managers/{}/VirtualMedia/{}/Actions/VirtualMedia.EjectMedia",
          OPERATOR, gd_redfish_vmedia_eject_post, GD_BODY_OPTIONAL),
    ROUTE("GET", "/redfish/v1/TaskService", VIEWER, gd_redfish_task_service_get, GD_BODY_NONE),
    ROUTE("GET", "/redfish/v1/TaskService/Tasks", VIEWER, gd_redfish_tasks_get, GD_BODY_NONE),
    ROUTE("GET", "/redfish/v1/TaskService/Tasks/{}", VIEWER, gd_redfish_task_get, GD_BODY_NONE),
    ROUTE("DELETE", "/redfish/v1/TaskService/Tasks/{}", OPERATOR, gd_redfish_task_delete,
          GD_BODY_NONE),
    {NULL, NULL, GD_ROLE_ADMIN, GD_BODY_NONE, NULL, NULL, false},
};

/* One listening socket: plain HTTP or HTTPS. */
struct listener {
	struct gd_http *http;
	struct MHD_Daemon *mhd;
	bool tls;
};

struct gd_http {
	struct gd_app *app;
	struct gd_conns *conns;
	struct listener plain, secure;
	struct gd_tls_material tls;
};

/* What one request accumulates between the calls libmicrohttpd makes for it. */
struct request_state {
	char user[GD_API_USER_MAX];
	enum gd_role role;
	char session[GD_SECRET_TEXT + 1]; /* the session secret it came with */
	char csrf[GD_SESSION_CSRF_LEN + 1];
	struct gd_conns *conns;
	struct gd_conn *conn_entry;
	bool answered; /* a reply was queued: what else arrives is discarded */
	bool too_large;
	bool failed; /* a streaming route gave up mid-body: ROUTE_STATUS is the answer */
	bool webui;  /* a file of the browser panel: public, GET and HEAD only */
	const struct gd_api_route *route; /* NULL: no route (404) or wrong method (405) */
	unsigned route_status;
	json_t *route_error;
	char params[512]; /* the path segments REQ.params point into */
	char allow[64];   /* the methods of the path: the Allow of a 405 and of Redfish replies */
	struct gd_api_request req;
	void *stream; /* a streaming route's context, until its end or abort */
	size_t len;
	size_t cap;
	char *body;
};

/* No sniffing, no framing, no leaking of the address bar, what the page may load. */
static void add_safety_headers(struct MHD_Response *resp, const struct gd_api_request *req,
                               const char *csp)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	if (req->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

/* What every API reply carries: the above, and no caching of what may be secret. */
static void add_common_headers(struct MHD_Response *resp, const struct gd_api_request *req,
                               unsigned status)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	add_safety_headers(resp, req, "default-src 'none'; frame-ancestors 'none'");
	if (req->set_cookie[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, req->set_cookie);
	if (req->retry_after) {
		char secs[16];
		snprintf(secs, sizeof(secs), "%u", req->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	if (status == 503 || status == 408)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	for (unsigned i = 0; i < req->nheaders; i++)
		MHD_add_response_header(resp, req->headers[i].name, req->headers[i].value);
	if (req->redfish)
		MHD_add_response_header(resp, "OData-Version", "4.0");
}

void gd_api_add_header(struct gd_api_request *req, const char *name, const char *fmt, ...)
{
	if (req->nheaders == GD_API_HEADERS_MAX)
		return;
	struct gd_api_header *h = &req->headers[req->nheaders++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->value, sizeof(h->value), fmt, ap);
	va_end(ap);
}

/* Whether a 401 should bring up the browser's own password prompt: for curl and for a URL
 * typed into the address bar, never for a page's scripts (the panel has its login form) nor
 * where a session is in play. */
static bool wants_challenge(struct MHD_Connection *conn, const struct gd_api_request *req)
{
	const char *mode = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Mode");
	return req->via != GD_VIA_SESSION && req->session == NULL &&
	       MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Requested-With") == NULL &&
	       (mode == NULL || strcmp(mode, "navigate") == 0);
}

static enum MHD_Result send_json(struct MHD_Connection *conn, const struct gd_api_request *req,
                                 unsigned status, json_t *body)
{
	/* A 204 has no body at all (Redfish's actions answer with one). */
	char *text = status == 204 ? strdup("") : body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL) {
		status = 500;
		text = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
		if (text == NULL)
			return MHD_NO;
	}
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	if (status != 204)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        req->redfish ? "application/json; charset=utf-8"
		                                     : "application/json");
	add_common_headers(resp, req, status);
	if (status == 401 && wants_challenge(conn, req))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Basic realm=\"gadgetd\", charset=\"UTF-8\"");
	enum MHD_Result ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_file(struct MHD_Connection *conn, struct gd_api_request *req)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_fd64((uint64_t)req->reply_size, req->reply_fd);
	if (resp == NULL) {
		close(req->reply_fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	add_common_headers(resp, req, 200);
	enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A file of the panel, revalidated on every load (a cheap 304) so an upgrade shows at once. */
static enum MHD_Result send_webui(struct MHD_Connection *conn, struct request_state *st)
{
	struct gd_api_request *req = &st->req;
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		json_t *reply = gd_json_error("method_not_allowed",
		                              "%s %s is not supported (allowed: GET, HEAD)",
		                              req->method, req->path);
		return send_json(conn, req, 405, reply);
	}
	const char *encoding =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	struct gd_webui_file file;
	int rc = gd_webui_open(req->app->cfg->webui_dir, req->path, gd_webui_accepts_gzip(encoding),
	                       &file);
	if (rc < 0)
		return send_json(
		    conn, req, rc == -EINVAL ? 400 : 404,
		    rc == -EINVAL ? gd_json_error("bad_request", "not a file name: %s", req->path)
		                  : gd_json_error("not_found", "no such resource: %s", req->path));
	const char *match =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	bool unchanged = match != NULL && strcmp(match, file.etag) == 0;
	struct MHD_Response *resp =
	    unchanged ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
	              : MHD_create_response_from_fd64(file.size, file.fd);
	if (unchanged || resp == NULL)
		close(file.fd);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, file.type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, file.etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (file.gzip)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	add_safety_headers(resp, req, GD_WEBUI_CSP);
	enum MHD_Result ret = MHD_queue_response(conn, unchanged ? 304 : 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A connection handed over after a 101, until its new owner closes it. */
struct upgraded {
	struct gd_app *app;
	struct gd_api_upgrade upgrade;
	char user[GD_API_USER_MAX];
	struct MHD_UpgradeResponseHandle *urh;
};

static void upgraded_done(void *arg)
{
	struct upgraded *u = arg;
	MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(u);
}

static void on_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra,
                        size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	(void)conn;
	(void)con_cls;
	struct upgraded *u = cls;
	u->urh = urh;
	int rc = u->upgrade.start(u->app, u->user, u->upgrade.read_only, u->upgrade.arg, sock,
	                          extra, extra_len, upgraded_done, u);
	if (rc < 0) {
		GD_LOG_ERROR("cannot take over an upgraded connection: %s", strerror(-rc));
		upgraded_done(u);
	}
}

/* The 101 of a WebSocket handshake; the handler's upgrade takes the socket once it is out. */
static enum MHD_Result send_upgrade(struct MHD_Connection *conn, struct gd_api_request *req)
{
	struct upgraded *u = calloc(1, sizeof(*u));
	struct MHD_Response *resp = u ? MHD_create_response_for_upgrade(on_upgraded, u) : NULL;
	if (resp == NULL) {
		free(u);
		return MHD_NO;
	}
	u->app = req->app;
	u->upgrade = req->upgrade;
	snprintf(u->user, sizeof(u->user), "%s", req->user);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", req->upgrade.accept);
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	if (ret != MHD_YES)
		free(u);
	return ret;
}

uint64_t gd_api_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void address_text(const void *addr, char *buf, size_t len)
{
	const struct sockaddr *sa = addr;
	snprintf(buf, len, "?");
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, buf,
		          (socklen_t)len);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, buf,
		          (socklen_t)len);
}

enum gd_auth_result gd_api_check_password(struct gd_api_request *req, const char *name,
                                          const char *password, enum gd_role *role)
{
	struct gd_app *app = req->app;
	enum gd_auth_result res = gd_auth_check_password(app->auth, name, password, false, role);
	if (res == GD_AUTH_THROTTLED &&
	    gd_throttle_wait_ms(app->throttle, req->client, gd_api_now_ms()) == 0)
		res = gd_auth_check_password(app->auth, name, password, true, role);
	return res;
}

unsigned gd_api_auth_failed(struct gd_api_request *req, enum gd_auth_result res, const char *user,
                            json_t **reply)
{
	char addr[INET6_ADDRSTRLEN];
	address_text(req->client, addr, sizeof(addr));
	if (res == GD_AUTH_MISSING) {
		GD_LOG_DEBUG("no credentials from %s for %s %s", addr, req->method, req->path);
		*reply = gd_json_error("unauthorized", "credentials required: HTTP Basic, a Bearer "
		                                       "token, or a session from POST /api/login");
		return 401;
	}
	uint64_t now = gd_api_now_ms();
	if (res == GD_AUTH_THROTTLED) {
		uint64_t wait = gd_throttle_wait_ms(req->app->throttle, req->client, now);
		req->retry_after = (unsigned)((wait + 999) / 1000);
		GD_LOG_WARN(
		    "'%s' from %s refused unchecked after failed logins from there (%llu ms "
		    "to wait)",
		    user, addr, (unsigned long long)wait);
		*reply = gd_json_error("too_many_attempts",
		                       "too many failed logins from %s: try again in %u s", addr,
		                       req->retry_after);
		return 429;
	}
	uint64_t wait = gd_throttle_fail(req->app->throttle, req->client, now);
	GD_LOG_WARN(
	    "authentication failed for '%s' from %s (%s %s); next try from there in %llu ms", user,
	    addr, req->method, req->path, (unsigned long long)wait);
	uint64_t pause = wait < FAIL_REPLY_MAX_MS ? wait : FAIL_REPLY_MAX_MS;
	struct timespec ts = {(time_t)(pause / 1000), (long)(pause % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	*reply = res == GD_AUTH_MALFORMED
	             ? gd_json_error("unauthorized", "malformed Authorization header: expected "
	                                             "Basic base64(user:password) or Bearer TOKEN")
	             : gd_json_error("unauthorized", "wrong user name or password, or an unknown "
	                                             "or expired token");
	return 401;
}

void gd_api_set_session_cookie(struct gd_api_request *req, const char *secret)
{
	snprintf(req->set_cookie, sizeof(req->set_cookie),
	         SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u%s",
	         secret ? secret : "", secret ? req->app->cfg->session_lifetime : 0,
	         req->tls ? "; Secure" : "");
}

/* A browser session's secret: alive, and its user still there (with the role it has now). */
static enum gd_auth_result check_session(struct gd_app *app, const char *secret,
                                         struct request_state *st)
{
	if (strlen(secret) != GD_SECRET_TEXT ||
	    gd_sessions_find(app->sessions, secret, gd_api_now_ms(), st->user, sizeof(st->user),
	                     st->csrf) < 0)
		return GD_AUTH_DENIED;
	if (gd_auth_user_role(app->auth, st->user, &st->role) < 0) {
		gd_sessions_revoke(app->sessions, secret);
		return GD_AUTH_DENIED;
	}
	memcpy(st->session, secret, sizeof(st->session));
	st->req.session = st->session;
	st->req.csrf = st->csrf;
	return GD_AUTH_OK;
}

/* Authorization: Bearer: an API token, or the secret of a session. */
static enum gd_auth_result check_bearer(struct gd_app *app, const char *secret,
                                        struct request_state *st)
{
	while (*secret == ' ')
		secret++;
	char name[GD_AUTH_NAME_MAX + 1] = "";
	int rc = gd_tokens_check(app->tokens, secret, time(NULL), name, sizeof(name), &st->role);
	if (rc == 0) {
		snprintf(st->user, sizeof(st->user), "token:%s", name);
		return GD_AUTH_OK;
	}
	snprintf(st->user, sizeof(st->user), "%s", rc == -EKEYEXPIRED ? "expired token" : "bearer");
	return rc == -EKEYEXPIRED ? GD_AUTH_DENIED : check_session(app, secret, st);
}

static enum gd_auth_result check_basic(struct gd_app *app, const char *header,
                                       struct request_state *st)
{
	enum gd_auth_result res =
	    gd_auth_check_basic(app->auth, header, false, st->user, sizeof(st->user), &st->role);
	if (res == GD_AUTH_THROTTLED &&
	    gd_throttle_wait_ms(app->throttle, st->req.client, gd_api_now_ms()) == 0)
		res = gd_auth_check_basic(app->auth, header, true, st->user, sizeof(st->user),
		                          &st->role);
	return res;
}

/* Returns 0 when the request may proceed, else the status of the reply already built. */
static unsigned authenticate(struct gd_app *app, struct MHD_Connection *conn,
                             struct request_state *st, json_t **reply)
{
	const char *header =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, SESSION_COOKIE);
	const char *token = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, REDFISH_TOKEN);
	enum gd_auth_result res = GD_AUTH_MISSING;
	if (token != NULL) {
		/* Redfish's sessions: the secret comes back in a header, never on its own. */
		st->req.via = GD_VIA_BEARER;
		snprintf(st->user, sizeof(st->user), "%s", "session token");
		res = check_session(app, token, st);
	} else if (header != NULL && strncasecmp(header, "Bearer ", 7) == 0) {
		st->req.via = GD_VIA_BEARER;
		res = check_bearer(app, header + 7, st);
	} else if (header != NULL) {
		st->req.via = GD_VIA_BASIC;
		res = check_basic(app, header, st);
	} else if (cookie != NULL) {
		st->req.via = GD_VIA_SESSION;
		res = check_session(app, cookie, st);
		if (res != GD_AUTH_OK) {
			/* A stale cookie is no attack: not counted, and cleared. */
			gd_api_set_session_cookie(&st->req, NULL);
			*reply =
			    gd_json_error("session_expired",
			                  "the session expired or was logged out: log in again");
			return 401;
		}
	}
	st->req.role = st->role;
	return res == GD_AUTH_OK ? 0 : gd_api_auth_failed(&st->req, res, st->user, reply);
}

/* Whether a cookie-authenticated request came from a page of this server (Origin vs Host). */
static bool same_origin(struct MHD_Connection *conn, bool tls)
{
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (origin == NULL)
		return true; /* not a browser's cross-site request: those always carry Origin */
	const char *scheme = tls ? "https://" : "http://";
	return host != NULL && strncmp(origin, scheme, strlen(scheme)) == 0 &&
	       strcmp(origin + strlen(scheme), host) == 0;
}

/* A cookie is sent by the browser whoever made the page: state changes prove they are ours. */
static unsigned check_csrf(struct MHD_Connection *conn, struct request_state *st, json_t **reply)
{
	if (st->req.via != GD_VIA_SESSION)
		return 0;
	if (!same_origin(conn, st->req.tls)) {
		*reply = gd_json_error("forbidden", "cross-origin request refused");
		return 403;
	}
	const char *method = st->req.method;
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return 0;
	const char *token = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, CSRF_HEADER);
	if (token != NULL && strlen(token) == GD_SESSION_CSRF_LEN &&
	    CRYPTO_memcmp(token, st->csrf, GD_SESSION_CSRF_LEN) == 0)
		return 0;
	GD_LOG_WARN("user '%s': %s %s without a valid " CSRF_HEADER " refused", st->user, method,
	            st->req.path);
	*reply = gd_json_error(
	    "csrf", "a session's %s needs the " CSRF_HEADER " header that POST /api/login returned",
	    method);
	return 403;
}

/* Whether URL matches PATTERN, "{}" standing for one segment; fills PARAMS. */
static bool match(const char *pattern, const char *url, const char *params[2], char *buf,
                  size_t buflen)
{
	size_t nparams = 0, used = 0;
	while (*pattern && *url) {
		if (strncmp(pattern, "{}", 2) == 0) {
			size_t seg = strcspn(url, "/");
			if (seg == 0 || nparams == 2 || used + seg + 1 > buflen)
				return false;
			memcpy(buf + used, url, seg);
			buf[used + seg] = '\0';
			params[nparams++] = buf + used;
			used += seg + 1;
			url += seg;
			pattern += 2;
		} else if (*pattern++ != *url++) {
			return false;
		}
	}
	return *pattern == '\0' && *url == '\0';
}

/* The methods the routes of URL take, ", "-separated, into ALLOW. */
static void allowed_methods(const char *url, char *allow, size_t len)
{
	char scratch[512];
	allow[0] = '\0';
	for (const struct gd_api_route *r = gd_api_routes; r->path; r++) {
		const char *p[2];
		if (match(r->path, url, p, scratch, sizeof(scratch)))
			snprintf(allow + strlen(allow), len - strlen(allow), "%s%s",
			         allow[0] ? ", " : "", r->method);
	}
}

/* Finds the route of a request before its body arrives; records a 404 or 405 otherwise.
 * Redfish's replies all say which methods their resource takes. */
static void find_route(const char *method, const char *url, struct request_state *st)
{
	char path[256];
	size_t len = strlen(url);
	if (st->req.redfish) {
		/* Redfish clients write collections with and without the slash; HEAD is GET. */
		if (len > 1 && len < sizeof(path) && url[len - 1] == '/') {
			memcpy(path, url, len - 1);
			path[len - 1] = '\0';
			url = path;
		}
		if (strcmp(method, "HEAD") == 0)
			method = "GET";
	}
	for (const struct gd_api_route *r = gd_api_routes; r->path && !st->route; r++) {
		const char *p[2] = {NULL, NULL};
		if (strcmp(r->method, method) == 0 &&
		    match(r->path, url, p, st->params, sizeof(st->params))) {
			st->route = r;
			memcpy(st->req.params, p, sizeof(p));
		}
	}
	if (st->route != NULL && !st->req.redfish)
		return;
	allowed_methods(url, st->allow, sizeof(st->allow));
	if (st->allow[0])
		gd_api_add_header(&st->req, MHD_HTTP_HEADER_ALLOW, "%s", st->allow);
	if (st->route != NULL)
		return;
	if (st->allow[0]) {
		st->route_error =
		    gd_json_error("method_not_allowed", "%s %s is not supported (allowed: %s)",
		                  method, url, st->allow);
		st->route_status = 405;
	} else {
		st->route_error = gd_json_error("not_found", "no such resource: %s", url);
		st->route_status = 404;
	}
}

/* Calls a buffered route's handler once its body is complete. */
static unsigned dispatch(struct request_state *st, json_t **reply)
{
	const struct gd_api_route *r = st->route;
	if (r->body == GD_BODY_JSON || (r->body == GD_BODY_OPTIONAL && st->len > 0)) {
		char err[256];
		st->req.body = gd_json_parse_object(st->body, st->len, err, sizeof(err));
		if (st->req.body == NULL) {
			*reply = gd_json_error("bad_request", "%s", err);
			return 400;
		}
	}
	unsigned status = r->handler(&st->req, reply);
	json_decref(st->req.body);
	st->req.body = NULL;
	return status;
}

const char *gd_api_query(struct gd_api_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

int gd_api_query_uint(struct gd_api_request *req, const char *key, uint64_t max, uint64_t *out)
{
	const char *text = gd_api_query(req, key);
	if (text == NULL)
		return 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || text[0] < '0' || text[0] > '9' || v > max)
		return -1;
	*out = v;
	return 1;
}

const char *gd_api_header(struct gd_api_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static int append_body(struct request_state *st, const char *data, size_t len)
{
	if (len > st->req.app->cfg->body_max - st->len)
		return -1;
	if (st->len + len > st->cap) {
		size_t cap = st->cap ? st->cap : 1024;
		while (cap < st->len + len)
			cap *= 2;
		char *grown = realloc(st->body, cap);
		if (grown == NULL)
			return -1;
		st->body = grown;
		st->cap = cap;
	}
	memcpy(st->body + st->len, data, len);
	st->len += len;
	return 0;
}

static enum MHD_Result answer(struct MHD_Connection *conn, struct request_state *st,
                              unsigned status, json_t *reply)
{
	GD_LOG_DEBUG("%s %s %u user=%s", st->req.method, st->req.path, status, st->user);
	st->answered = true;
	if (st->req.reply_fd >= 0 && status == 200) {
		json_decref(reply);
		return send_file(conn, &st->req);
	}
	if (status == 101 && st->req.upgrade.start) {
		json_decref(reply);
		gd_conns_upgraded(st->conns, st->conn_entry);
		return send_upgrade(conn, &st->req);
	}
	if (st->req.redfish && status >= 400)
		reply = gd_redfish_error(status, reply);
	return send_json(conn, &st->req, status, reply);
}

static json_t *too_large_error(const struct request_state *st)
{
	return gd_json_error("body_too_large", "request body exceeds %u bytes",
	                     st->req.app->cfg->body_max);
}

/* Whether the client announced a body larger than a buffered route takes: refused unread. */
static bool announced_too_large(struct MHD_Connection *conn, const struct request_state *st)
{
	const char *length =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return length != NULL && strtoull(length, NULL, 10) > st->req.app->cfg->body_max;
}

static void init_request(struct listener *l, struct MHD_Connection *conn, const char *method,
                         const char *url, struct request_state *st)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const union MHD_ConnectionInfo *sc =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	st->conns = l->http->conns;
	st->conn_entry = sc ? sc->socket_context : NULL;
	st->req = (struct gd_api_request){.app = l->http->app,
	                                  .method = method,
	                                  .path = url,
	                                  .user = st->user,
	                                  .client = ci ? ci->client_addr : NULL,
	                                  .tls = l->tls,
	                                  .redfish = strncmp(url, "/redfish", 8) == 0 &&
	                                             (url[8] == '\0' || url[8] == '/'),
	                                  .conn = conn,
	                                  .reply_fd = -1};
}

static enum MHD_Result add_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
	(void)kind;
	*(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": ", CRLF or "=&" */
	return MHD_YES;
}

/* The request line and headers against header_max: 0, 414 or 431 with the reply built. */
static unsigned check_header_size(struct MHD_Connection *conn, const struct request_state *st,
                                  json_t **reply)
{
	unsigned max = st->req.app->cfg->header_max;
	size_t line = strlen(st->req.path);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_length, &line);
	size_t headers = 0;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, add_length, &headers);
	if (line > max) {
		*reply = gd_json_error("uri_too_long", "the request line exceeds %u bytes", max);
		return 414;
	}
	if (line + headers > max) {
		*reply = gd_json_error("headers_too_large", "the request's headers exceed %u bytes",
		                       max);
		return 431;
	}
	return 0;
}

/* Who may do what: 0, or the status of the refusal already built. */
static unsigned admit(struct listener *l, struct MHD_Connection *conn, struct request_state *st,
                      json_t **reply)
{
	unsigned status = check_header_size(conn, st, reply);
	if (status != 0)
		return status;
	if (gd_conns_over(l->http->conns, st->conn_entry)) {
		st->req.retry_after = 1;
		*reply = gd_json_error("busy", "all %u connections are in use: try again",
		                       st->req.app->cfg->max_connections);
		return 503;
	}
	if (st->webui || (st->route != NULL && st->route->public))
		return 0;
	status = authenticate(l->http->app, conn, st, reply);
	if (status == 0)
		status = check_csrf(conn, st, reply);
	return status;
}

/* First call: authenticate and route before reading a byte of the body. */
static enum MHD_Result on_headers(struct listener *l, struct MHD_Connection *conn, const char *url,
                                  const char *method, struct request_state *st)
{
	json_t *reply = NULL;
	init_request(l, conn, method, url, st);
	/* Checking a password may take a while (and a failure waits): not the client's delay. */
	gd_conns_busy(l->http->conns, st->conn_entry);
	find_route(method, url, st);
	if (st->route_status == 404 && st->req.app->cfg->webui_dir[0] && gd_webui_owns(url)) {
		st->webui = true;
		json_decref(st->route_error);
		st->route_error = NULL;
	}
	unsigned status = admit(l, conn, st, &reply);
	if (status != 0)
		return answer(conn, st, status, reply);
	if (st->route != NULL && !st->route->public && st->role < st->route->role) {
		GD_LOG_WARN("user '%s' (%s) refused %s %s", st->user, gd_auth_role_name(st->role),
		            method, url);
		reply = gd_json_error("forbidden", "user '%s' is a%s %s; %s %s needs %s", st->user,
		                      st->role == GD_ROLE_OPERATOR ? "n" : "",
		                      gd_auth_role_name(st->role), method, url,
		                      gd_auth_role_name(st->route->role));
		return answer(conn, st, 403, reply);
	}
	if (st->route != NULL && st->route->body != GD_BODY_STREAM && announced_too_large(conn, st))
		return answer(conn, st, 413, too_large_error(st));
	if (st->route == NULL || st->route->body != GD_BODY_STREAM) {
		gd_conns_reading(l->http->conns, st->conn_entry); /* a JSON body: on time too */
		return MHD_YES;
	}
	/* An upload may take long: its stream and the idle timeout decide. */
	status = st->route->stream->begin(&st->req, &st->stream, &reply);
	return status != 0 ? answer(conn, st, status, reply) : MHD_YES;
}

static enum MHD_Result on_data(struct MHD_Connection *conn, struct request_state *st,
                               const char *data, size_t len)
{
	if (st->failed)
		return MHD_YES;
	if (st->stream == NULL) {
		if (!st->too_large && append_body(st, data, len) < 0)
			st->too_large = true;
		return MHD_YES;
	}
	json_t *reply = NULL;
	unsigned status = st->route->stream->data(st->stream, data, len, &reply);
	if (status == 0)
		return MHD_YES;
	/* libmicrohttpd takes no reply before the whole body is in: the rest is discarded. */
	(void)conn;
	st->route->stream->abort(st->stream);
	st->stream = NULL;
	st->route_status = status;
	st->route_error = reply;
	st->failed = true;
	return MHD_YES;
}

static enum MHD_Result on_complete_body(struct listener *l, struct MHD_Connection *conn,
                                        struct request_state *st)
{
	json_t *reply = NULL;
	unsigned status;
	gd_conns_busy(l->http->conns, st->conn_entry);
	if (st->webui)
		return send_webui(conn, st);
	if (st->route == NULL || st->failed) {
		status = st->route_status;
		reply = st->route_error;
		st->route_error = NULL;
	} else if (st->stream != NULL) {
		void *stream = st->stream;
		st->stream = NULL;
		status = st->route->stream->end(&st->req, stream, &reply);
	} else if (st->too_large) {
		reply = too_large_error(st);
		status = 413;
	} else {
		status = dispatch(st, &reply);
	}
	return answer(conn, st, status, reply);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct request_state *st = *con_cls;
	if (st == NULL) {
		st = calloc(1, sizeof(*st));
		if (st == NULL)
			return MHD_NO;
		*con_cls = st;
		return on_headers(cls, conn, url, method, st);
	}
	if (*upload_data_size > 0) {
		size_t len = *upload_data_size;
		*upload_data_size = 0;
		return st->answered ? MHD_YES : on_data(conn, st, upload_data, len);
	}
	return st->answered ? MHD_YES : on_complete_body(cls, conn, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	struct listener *l = cls;
	struct request_state *st = *con_cls;
	if (st == NULL)
		return;
	gd_conns_idle(l->http->conns, st->conn_entry);
	if (st->stream != NULL) {
		/* The client went away mid-body (or was cut off): nothing half-done stays. */
		GD_LOG_WARN("%s %s ended before its body did (%d)", st->req.method, st->req.path,
		            (int)toe);
		st->route->stream->abort(st->stream);
	}
	json_decref(st->route_error);
	free(st->body);
	free(st);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct listener *l = cls;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		gd_conns_remove(l->http->conns, *socket_context);
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	*socket_context = ci ? gd_conns_add(l->http->conns, ci->connect_fd, l->tls) : NULL;
}

/* Mostly clients that went away (or were sent away): worth a debug line, not a warning each. */
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	GD_LOG_DEBUG("%s", msg);
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/*
 * Decodes %HH in paths and query values, except that %00 becomes 0x01: a NUL would cut the
 * path short unseen ("a%00b" naming "a"), while a control character is refused by name checks.
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	char *out = s;
	for (const char *in = s; *in; out++) {
		int hi = in[0] == '%' ? hex_digit(in[1]) : -1;
		int lo = hi >= 0 ? hex_digit(in[2]) : -1;
		if (lo >= 0) {
			int byte = hi * 16 + lo;
			*out = (char)(byte == 0 ? 1 : byte);
			in += 3;
		} else {
			*out = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

/* Binds the listening socket here, so a busy port gets a precise error. */
static int listen_socket(const char *addr, unsigned port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t sslen;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		sslen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*v6);
	} else {
		snprintf(err, errlen, "bind address '%s' is not an IP address", addr);
		return -EINVAL;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s port %u: %s", addr, port, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static bool is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

/*
 * The HTTPS certificate: the configured files, or STATE_DIR/tls/{cert,key}.pem, made
 * self-signed on first start.
 */
static int load_certificate(struct gd_http *http, char *err, size_t errlen)
{
	const struct gd_config *cfg = http->app->cfg;
	bool configured = cfg->tls_cert[0] != '\0';
	char cert[PATH_MAX + 16], key[PATH_MAX + 16];
	snprintf(cert, sizeof(cert), "%s%s", configured ? cfg->tls_cert : cfg->state_dir,
	         configured ? "" : "/tls/cert.pem");
	snprintf(key, sizeof(key), "%s%s", cfg->tls_key[0] ? cfg->tls_key : cfg->state_dir,
	         cfg->tls_key[0] ? ""
	         : configured    ? ""
	                         : "/tls/key.pem");
	if (configured && cfg->tls_key[0] == '\0')
		snprintf(key, sizeof(key), "%s", cfg->tls_cert); /* one file with both */
	int rc = gd_tls_load(&http->tls, cert, key, !configured, err, errlen);
	if (rc < 0)
		return rc;
	GD_LOG_INFO("TLS certificate %s (%s), fingerprint %s", cert,
	            http->tls.generated ? "generated, self-signed" : "loaded",
	            http->tls.fingerprint);
	snprintf(http->app->tls_fingerprint, sizeof(http->app->tls_fingerprint), "%s",
	         http->tls.fingerprint);
	return 0;
}

static int start_listener(struct gd_http *http, struct listener *l, bool tls, char *err,
                          size_t errlen)
{
	const struct gd_config *cfg = http->app->cfg;
	const char *addr = tls ? cfg->tls_bind : cfg->bind;
	unsigned port = tls ? cfg->tls_port : cfg->port;
	int fd = listen_socket(addr, port, err, errlen);
	if (fd < 0)
		return fd;
	l->http = http;
	l->tls = tls;
	/* A thread per connection: handlers may wait on the host (keys, power) without stalling
	 * others. Past max_connections the server still accepts a few, to answer them 503. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                 MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE |
	                 (tls ? MHD_USE_TLS : 0);
	struct MHD_OptionItem tls_options[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, http->tls.cert_pem},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, http->tls.key_pem},
	    {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
	    {MHD_OPTION_END, 0, NULL},
	};
	l->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, l, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, l,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_UNESCAPE_CALLBACK, unescape, l,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, l, MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections + 16,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)cfg->header_max + POOL_EXTRA, MHD_OPTION_THREAD_STACK_SIZE,
	    (size_t)(256 * 1024), MHD_OPTION_ARRAY, tls ? tls_options : tls_options + 3,
	    MHD_OPTION_END);
	if (l->mhd == NULL) {
		close(fd);
		snprintf(err, errlen, "libmicrohttpd failed to start on %s port %u", addr, port);
		return -EIO;
	}
	GD_LOG_INFO("listening on %s port %u (%s)", addr, port, tls ? "HTTPS" : "HTTP");
	if (!tls && !is_loopback(addr))
		GD_LOG_WARN("plain HTTP on %s: passwords and sessions cross the network in the "
		            "clear; prefer [tls] and bind = 127.0.0.1",
		            addr);
	return 0;
}

int gd_http_start(struct gd_http **out, struct gd_app *app, char *err, size_t errlen)
{
	const struct gd_config *cfg = app->cfg;
	if (cfg->port == 0 && cfg->tls_port == 0) {
		snprintf(err, errlen,
		         "[http] port and [tls] port are both 0: nothing to listen on");
		return -EINVAL;
	}
	if (cfg->tls_port != 0 && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		snprintf(err, errlen, "this libmicrohttpd has no TLS: set [tls] port = 0");
		return -ENOTSUP;
	}
	struct gd_http *http = calloc(1, sizeof(*http));
	if (http == NULL || (http->conns = gd_conns_new(cfg->max_connections, cfg->header_timeout,
	                                                cfg->idle_timeout)) == NULL) {
		free(http);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	http->app = app;
	app->http = http;
	int rc = 0;
	if (cfg->tls_port != 0)
		rc = load_certificate(http, err, errlen);
	if (rc == 0 && cfg->port != 0)
		rc = start_listener(http, &http->plain, false, err, errlen);
	if (rc == 0 && cfg->tls_port != 0)
		rc = start_listener(http, &http->secure, true, err, errlen);
	if (rc < 0) {
		gd_http_stop(http);
		return rc;
	}
	*out = http;
	return 0;
}

json_t *gd_http_status(struct gd_http *http)
{
	const struct gd_app *app = http->app;
	json_t *tls = app->tls_fingerprint[0]
	                  ? json_pack("{s:s, s:I}", "fingerprint", app->tls_fingerprint,
	                              "not_after", (json_int_t)http->tls.not_after)
	                  : json_null();
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:o}", "connections", (json_int_t)gd_conns_count(http->conns),
	    "connections_dropped", (json_int_t)gd_conns_dropped(http->conns), "sessions",
	    (json_int_t)gd_sessions_count(app->sessions, gd_api_now_ms()), "throttled_addresses",
	    (json_int_t)gd_throttle_count(app->throttle, gd_api_now_ms()), "tls", tls);
}

void gd_http_stop(struct gd_http *http)
{
	if (http == NULL)
		return;
	if (http->plain.mhd != NULL)
		MHD_stop_daemon(http->plain.mhd);
	if (http->secure.mhd != NULL)
		MHD_stop_daemon(http->secure.mhd);
	gd_conns_free(http->conns);
	gd_tls_free(&http->tls);
	http->app->http = NULL;
	free(http);
}
