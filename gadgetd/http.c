/* http: the libmicrohttpd server: listening socket, authentication, routing, JSON replies. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "json.h"
#include "log.h"

#define LOG_PREFIX "HTTP: "

/* ROLE: the least role that may call the route (VIEWER, OPERATOR, ADMIN). */
#define ROUTE(method, path, role, handler, body)                                                   \
	{                                                                                          \
		method, path, GD_ROLE_##role, body, handler, NULL                                  \
	}
#define STREAM(method, path, role, ops)                                                            \
	{                                                                                          \
		method, path, GD_ROLE_##role, GD_BODY_STREAM, NULL, &(ops)                         \
	}

const struct gd_api_route gd_api_routes[] = {
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
    {NULL, NULL, GD_ROLE_ADMIN, GD_BODY_NONE, NULL, NULL},
};

struct gd_http {
	struct MHD_Daemon *mhd;
	struct gd_app *app;
};

/* What one request accumulates between the calls libmicrohttpd makes for it. */
struct request_state {
	char user[GD_AUTH_NAME_MAX + 1];
	enum gd_role role;
	bool answered; /* a reply was queued: what else arrives is discarded */
	bool too_large;
	bool failed; /* a streaming route gave up mid-body: ROUTE_STATUS is the answer */
	const struct gd_api_route *route; /* NULL: no route (404) or wrong method (405) */
	unsigned route_status;
	json_t *route_error;
	char params[512]; /* the path segments REQ.params point into */
	struct gd_api_request req;
	void *stream; /* a streaming route's context, until its end or abort */
	size_t len;
	size_t cap;
	char *body;
};

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
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
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (status == 401)
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
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A connection handed over after a 101, until its new owner closes it. */
struct upgraded {
	struct gd_app *app;
	struct gd_api_upgrade upgrade;
	char user[GD_AUTH_NAME_MAX + 1];
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

static void client_address(struct MHD_Connection *conn, char *buf, size_t len)
{
	snprintf(buf, len, "?");
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          buf, (socklen_t)len);
}

/* Returns 0 when the request may proceed, else the status of the reply already built. */
static unsigned authenticate(struct gd_http *http, struct MHD_Connection *conn,
                             struct request_state *st, json_t **reply)
{
	const char *header =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	enum gd_auth_result res =
	    gd_auth_check_basic(http->app->auth, header, st->user, sizeof(st->user), &st->role);
	if (res == GD_AUTH_OK)
		return 0;
	char addr[INET6_ADDRSTRLEN];
	client_address(conn, addr, sizeof(addr));
	if (res == GD_AUTH_MISSING) {
		GD_LOG_DEBUG("no credentials from %s", addr);
		*reply = gd_json_error("unauthorized", "credentials required (HTTP Basic)");
	} else if (res == GD_AUTH_MALFORMED) {
		GD_LOG_WARN("malformed Authorization header from %s", addr);
		*reply = gd_json_error(
		    "unauthorized",
		    "malformed Authorization header: expected Basic base64(user:password)");
	} else {
		GD_LOG_WARN("authentication failed from %s", addr);
		*reply = gd_json_error("unauthorized", "wrong user name or password");
	}
	return 401;
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

/* Finds the route of a request before its body arrives; records a 404 or 405 otherwise. */
static void find_route(struct gd_http *http, struct MHD_Connection *conn, const char *method,
                       const char *url, struct request_state *st)
{
	char allow[64] = "";
	st->req = (struct gd_api_request){.app = http->app,
	                                  .method = method,
	                                  .path = url,
	                                  .user = st->user,
	                                  .role = st->role,
	                                  .conn = conn,
	                                  .reply_fd = -1};
	for (const struct gd_api_route *r = gd_api_routes; r->path; r++) {
		const char *p[2] = {NULL, NULL};
		if (!match(r->path, url, p, st->params, sizeof(st->params)))
			continue;
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
		         allow[0] ? ", " : "", r->method);
		if (strcmp(r->method, method) == 0) {
			st->route = r;
			memcpy(st->req.params, p, sizeof(p));
			return;
		}
	}
	if (allow[0]) {
		st->route_error =
		    gd_json_error("method_not_allowed", "%s %s is not supported (allowed: %s)",
		                  method, url, allow);
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
	if (len > GD_HTTP_BODY_MAX - st->len)
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
		return send_upgrade(conn, &st->req);
	}
	return send_json(conn, status, reply);
}

/* Whether the client announced a body larger than a buffered route takes: refused unread. */
static bool announced_too_large(struct MHD_Connection *conn)
{
	const char *length =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return length != NULL && strtoull(length, NULL, 10) > GD_HTTP_BODY_MAX;
}

/* First call: authenticate and route before reading a byte of the body. */
static enum MHD_Result on_headers(struct gd_http *http, struct MHD_Connection *conn,
                                  const char *url, const char *method, struct request_state *st)
{
	json_t *reply = NULL;
	unsigned status = authenticate(http, conn, st, &reply);
	if (status != 0)
		return answer(conn, st, status, reply);
	find_route(http, conn, method, url, st);
	if (st->route != NULL && st->role < st->route->role) {
		GD_LOG_WARN("user '%s' (%s) refused %s %s", st->user, gd_auth_role_name(st->role),
		            method, url);
		reply = gd_json_error("forbidden", "user '%s' is a%s %s; %s %s needs %s", st->user,
		                      st->role == GD_ROLE_OPERATOR ? "n" : "",
		                      gd_auth_role_name(st->role), method, url,
		                      gd_auth_role_name(st->route->role));
		return answer(conn, st, 403, reply);
	}
	if (st->route != NULL && st->route->body != GD_BODY_STREAM && announced_too_large(conn)) {
		reply = gd_json_error("body_too_large", "request body exceeds %zu bytes",
		                      GD_HTTP_BODY_MAX);
		return answer(conn, st, 413, reply);
	}
	if (st->route == NULL || st->route->body != GD_BODY_STREAM)
		return MHD_YES;
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

static enum MHD_Result on_complete_body(struct MHD_Connection *conn, struct request_state *st)
{
	json_t *reply = NULL;
	unsigned status;
	if (st->route == NULL || st->failed) {
		status = st->route_status;
		reply = st->route_error;
		st->route_error = NULL;
	} else if (st->stream != NULL) {
		void *stream = st->stream;
		st->stream = NULL;
		status = st->route->stream->end(&st->req, stream, &reply);
	} else if (st->too_large) {
		reply = gd_json_error("body_too_large", "request body exceeds %zu bytes",
		                      GD_HTTP_BODY_MAX);
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
	return st->answered ? MHD_YES : on_complete_body(conn, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	struct request_state *st = *con_cls;
	if (st == NULL)
		return;
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

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	GD_LOG_WARN("%s", msg);
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
static int listen_socket(const struct gd_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t sslen;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)cfg->port);
		sslen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)cfg->port);
		sslen = sizeof(*v6);
	} else {
		snprintf(err, errlen, "bind address '%s' is not an IP address", cfg->bind);
		return -EINVAL;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s port %u: %s", cfg->bind, cfg->port,
		         strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

int gd_http_start(struct gd_http **out, struct gd_app *app, char *err, size_t errlen)
{
	int fd = listen_socket(app->cfg, err, errlen);
	if (fd < 0)
		return fd;
	struct gd_http *http = calloc(1, sizeof(*http));
	if (http == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	http->app = app;
	/* A thread per connection: handlers may wait on the host (keys, power) without stalling
	 * others. */
	http->mhd = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	        MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE,
	    0, NULL, NULL, on_request, http, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, http,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_UNESCAPE_CALLBACK, unescape, http,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, http, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_THREAD_STACK_SIZE,
	    (size_t)(256 * 1024), MHD_OPTION_END);
	if (http->mhd == NULL) {
		close(fd);
		free(http);
		snprintf(err, errlen, "libmicrohttpd failed to start");
		return -EIO;
	}
	GD_LOG_INFO("listening on %s port %u", app->cfg->bind, app->cfg->port);
	*out = http;
	return 0;
}

void gd_http_stop(struct gd_http *http)
{
	if (http == NULL)
		return;
	MHD_stop_daemon(http->mhd);
	free(http);
}
