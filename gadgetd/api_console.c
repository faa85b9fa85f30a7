/*
 * api_console: /api/console: the server's serial console read by offset, written, its log
 * downloaded, waited on for a pattern, and served to WebSocket clients.
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "ws.h"

#define LOG_PREFIX "API: "

#define READ_MAX       ((uint64_t)4 << 20) /* bytes one GET returns at most */
#define WAIT_MAX_S     300                 /* for GET ?wait= */
#define EXPECT_MAX_S   3600
#define EXPECT_DEFAULT 30
#define WS_REPLAY      ((uint64_t)64 << 10)
#define PATTERN_MAX    1024  /* bytes of an expect pattern */
#define PATTERN_GROUPS 64    /* its '(' */
#define PATTERN_COST   50000 /* its length times the counts of its intervals */

static unsigned no_console(json_t **reply)
{
	*reply = gd_json_error("no_console", "the gadget has no serial port (functions: acm)");
	return 404;
}

static unsigned bad_query(json_t **reply, const char *key, uint64_t max)
{
	*reply = gd_json_error("bad_request", "'%s' must be a number from 0 to %llu", key,
	                       (unsigned long long)max);
	return 400;
}

json_t *gd_api_console_status(struct gd_app *app)
{
	if (app->console == NULL)
		return json_null();
	struct gd_console_status st;
	gd_console_get_status(app->console, &st);
	return json_pack("{s:s, s:b, s:I, s:I, s:I, s:{s:i, s:i}, s:s*}", "tty", st.tty, "open",
	                 st.open, "next", (json_int_t)st.next, "start", (json_int_t)st.start,
	                 "reopens", (json_int_t)st.reopens, "clients", "websocket",
	                 (int)st.clients[GD_CONSOLE_WS], "tcp", (int)st.clients[GD_CONSOLE_TCP],
	                 "log_error", st.log_error ? strerror(-st.log_error) : NULL);
}

static json_t *base64(const uint8_t *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	json_t *s = json_stringn(out, (size_t)n);
	free(out);
	return s;
}

/* The output from SINCE on, as text or base64, with the offsets to poll on from. */
static unsigned read_reply(struct gd_console *c, uint64_t since, size_t max, bool b64,
                           json_t **reply)
{
	uint8_t *buf = malloc(max ? max : 1);
	if (buf == NULL) {
		*reply = gd_json_error("internal", "out of memory");
		return 500;
	}
	uint64_t offset = since, lost;
	size_t n = gd_console_read(c, &offset, buf, max, &lost);
	uint64_t start = offset - n;
	size_t used = n;
	json_t *data = b64 ? base64(buf, n) : gd_json_text(buf, n, &used);
	free(buf);
	uint64_t next = start + used;
	*reply = json_pack("{s:o*, s:s, s:I, s:I, s:I}", "data", data, "encoding",
	                   b64 ? "base64" : "text", "offset", (json_int_t)start, "next",
	                   (json_int_t)next, "lost", (json_int_t)lost);
	return *reply ? 200 : 500;
}

unsigned gd_api_console_get(struct gd_api_request *req, json_t **reply)
{
	struct gd_console *c = req->app->console;
	if (c == NULL)
		return no_console(reply);
	struct gd_console_status st;
	gd_console_get_status(c, &st);
	uint64_t since = st.start, wait = 0, max = READ_MAX;
	if (gd_api_query_uint(req, "since", UINT64_MAX >> 1, &since) < 0)
		return bad_query(reply, "since", UINT64_MAX >> 1);
	if (gd_api_query_uint(req, "wait", WAIT_MAX_S, &wait) < 0)
		return bad_query(reply, "wait", WAIT_MAX_S);
	if (gd_api_query_uint(req, "max", READ_MAX, &max) < 0 || max == 0) {
		*reply = gd_json_error("bad_request", "'max' must be a number from 1 to %llu",
		                       (unsigned long long)READ_MAX);
		return 400;
	}
	const char *enc = gd_api_query(req, "encoding");
	if (enc && strcmp(enc, "text") != 0 && strcmp(enc, "base64") != 0) {
		*reply = gd_json_error("bad_request", "'encoding' is text or base64");
		return 400;
	}
	if (since > st.next) {
		*reply = gd_json_error("bad_offset",
		                       "offset %llu is ahead of the output (next is %llu; offsets "
		                       "start at 0 when gadgetd starts)",
		                       (unsigned long long)since, (unsigned long long)st.next);
		return 400;
	}
	if (wait > 0 && gd_console_wait(c, since, (int)wait * 1000) == -ECANCELED) {
		*reply = gd_json_error("stopping", "gadgetd is stopping");
		return 503;
	}
	return read_reply(c, since, (size_t)max, enc && strcmp(enc, "base64") == 0, reply);
}

/* Whether the host has the gadget configured: else nothing written would be read. */
static bool host_present(struct gd_app *app)
{
	struct gd_gadget_info info;
	gd_gadget_get_info(app->gadget, &info);
	return strcmp(info.host_state, "configured") == 0;
}

static unsigned write_error(ssize_t rc, size_t len, json_t **reply)
{
	if (rc == -ENOTCONN) {
		*reply = gd_json_error("console_closed",
		                       "the console port is closed (the host hung it up); gadgetd "
		                       "reopens it by itself: try again");
		return 503;
	}
	if (rc == -ETIMEDOUT) {
		*reply = gd_json_error("console_timeout",
		                       "the server does not read its console (nothing open on "
		                       "its ttyACM, or flow stopped)");
		return 504;
	}
	if (rc >= 0) {
		*reply =
		    gd_json_error("console_timeout",
		                  "the server stopped reading: %zd of %zu bytes written", rc, len);
		return 504;
	}
	*reply = gd_json_error("console_error", "writing to the console: %s", strerror((int)-rc));
	return 502;
}

unsigned gd_api_console_post(struct gd_api_request *req, json_t **reply)
{
	struct gd_console *c = req->app->console;
	if (c == NULL)
		return no_console(reply);
	const char *data = NULL;
	const struct gd_json_field fields[] = {{"data", GD_JSON_STRING, true, 1, 0, &data}};
	char err[256];
	if (gd_json_fields(req->body, fields, 1, err, sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request", "%s (expected {\"data\": \"text\"})", err);
		return 400;
	}
	size_t len = json_string_length(json_object_get(req->body, "data"));
	if (!host_present(req->app)) {
		*reply = gd_json_error(
		    "host_offline", "the server has not enumerated the gadget (off, or unplugged)");
		return 503;
	}
	struct gd_console_status st;
	gd_console_get_status(c, &st);
	ssize_t rc = gd_console_write(c, data, len);
	if (rc < 0 || (size_t)rc < len)
		return write_error(rc, len, reply);
	GD_LOG_DEBUG("user '%s' wrote %zu bytes to the console", req->user, len);
	*reply = json_pack("{s:I, s:I}", "written", (json_int_t)rc, "offset", (json_int_t)st.next);
	return 200;
}

unsigned gd_api_console_log_get(struct gd_api_request *req, json_t **reply)
{
	struct gd_console *c = req->app->console;
	if (c == NULL)
		return no_console(reply);
	uint64_t part = 0;
	unsigned keep = gd_console_log_keep(c);
	if (gd_api_query_uint(req, "part", keep, &part) < 0)
		return bad_query(reply, "part", keep);
	char path[PATH_MAX + 16];
	if (part == 0)
		snprintf(path, sizeof(path), "%s", gd_console_log_path(c));
	else
		gd_console_log_part(c, (unsigned)part, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		*reply = gd_json_error("no_log", "no console log part %llu yet",
		                       (unsigned long long)part);
		return 404;
	}
	req->reply_fd = fd;
	req->reply_size = (uint64_t)st.st_size;
	*reply = json_null();
	return 200;
}

static int start_session(struct gd_app *app, const char *user, bool read_only, uint64_t replay,
                         int sock, const void *extra, size_t extra_len, gd_api_upgrade_done done,
                         void *done_arg)
{
	return gd_console_ws_start(app->console_ws, sock, extra, extra_len, replay, user, read_only,
	                           done, done_arg);
}

/* Whether the comma-separated header VALUE lists TOKEN (case-insensitively). */
static bool has_token(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = value; p && *p;) {
		p += strspn(p, " \t,");
		size_t len = strcspn(p, " \t,");
		if (len == n && strncasecmp(p, token, n) == 0)
			return true;
		p += len;
	}
	return false;
}

unsigned gd_api_console_ws_get(struct gd_api_request *req, json_t **reply)
{
	if (req->app->console == NULL)
		return no_console(reply);
	const char *upgrade = gd_api_header(req, "Upgrade");
	const char *version = gd_api_header(req, "Sec-WebSocket-Version");
	const char *key = gd_api_header(req, "Sec-WebSocket-Key");
	if (upgrade == NULL || !has_token(upgrade, "websocket") ||
	    !has_token(gd_api_header(req, "Connection"), "upgrade")) {
		*reply = gd_json_error("upgrade_required",
		                       "this is a WebSocket endpoint (Upgrade: websocket)");
		return 426;
	}
	if (version == NULL || strcmp(version, "13") != 0) {
		*reply = gd_json_error("bad_request", "Sec-WebSocket-Version must be 13");
		return 400;
	}
	if (key == NULL || gd_ws_accept_key(key, req->upgrade.accept) < 0) {
		*reply = gd_json_error("bad_request", "Sec-WebSocket-Key is not a base64 nonce");
		return 400;
	}
	uint64_t replay = WS_REPLAY;
	if (gd_api_query_uint(req, "replay", req->app->cfg->console_buffer, &replay) < 0)
		return bad_query(reply, "replay", req->app->cfg->console_buffer);
	req->upgrade.start = start_session;
	req->upgrade.read_only = req->role < GD_ROLE_OPERATOR;
	req->upgrade.arg = replay;
	*reply = json_null();
	return 101;
}

/*
 * Whether glibc's regcomp() compiles PATTERN in bounded stack, time and memory: it recurses once
 * per group (some thousands overflow the stack) and copies what an interval repeats once per
 * count ("((a{255}){255}){255}" takes seconds and gigabytes). Conservative: every '(' and every
 * interval counts, even inside a bracket expression, as if all were nested.
 */
static bool pattern_bounded(const char *pattern)
{
	double cost = (double)strlen(pattern);
	unsigned groups = 0;
	for (const char *p = pattern; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
		} else if (*p == '(') {
			groups++;
		} else if (*p == '{') {
			char *end;
			unsigned long n = strtoul(p + 1, &end, 10);
			if (*end == ',' && end[1] >= '0' && end[1] <= '9')
				n = strtoul(end + 1, NULL, 10); /* {m,n}: n copies */
			else if (*end == ',')
				n++; /* {m,}: m copies and a star */
			cost *= n > 1 ? (double)n : 1;
		}
	}
	return groups <= PATTERN_GROUPS && cost <= PATTERN_COST;
}

unsigned gd_api_console_expect_post(struct gd_api_request *req, json_t **reply)
{
	struct gd_console *c = req->app->console;
	if (c == NULL)
		return no_console(reply);
	struct gd_console_status st;
	gd_console_get_status(c, &st);
	const char *pattern = NULL;
	json_int_t timeout = EXPECT_DEFAULT, since = (json_int_t)st.next;
	const struct gd_json_field fields[] = {
	    {"pattern", GD_JSON_STRING, true, 0, PATTERN_MAX, &pattern},
	    {"timeout", GD_JSON_INTEGER, false, 0, EXPECT_MAX_S, &timeout},
	    {"since", GD_JSON_INTEGER, false, 0, (json_int_t)st.next, &since},
	};
	char err[256];
	if (gd_json_fields(req->body, fields, 3, err, sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request",
		                       "%s (expected {\"pattern\": \"regex\", \"timeout\": "
		                       "seconds, \"since\": offset})",
		                       err);
		return 400;
	}
	if (!pattern_bounded(pattern)) {
		*reply = gd_json_error("bad_pattern",
		                       "'pattern' is too complex: at most %d groups, and intervals "
		                       "({n}) that repeat at most %d bytes of it",
		                       PATTERN_GROUPS, PATTERN_COST);
		return 400;
	}
	regex_t re;
	int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE);
	if (rc != 0) {
		char msg[128];
		regerror(rc, &re, msg, sizeof(msg));
		*reply = gd_json_error("bad_pattern", "'pattern': %s", msg);
		return 400;
	}
	struct gd_console_match m;
	rc = gd_console_expect(c, &re, (uint64_t)since, (int)timeout * 1000, &m);
	regfree(&re);
	if (rc == -ETIMEDOUT) {
		*reply = gd_json_error("expect_timeout", "no match for the pattern within %d s",
		                       (int)timeout);
		return 504;
	}
	if (rc < 0) {
		*reply = gd_json_error("stopping", "gadgetd is stopping");
		return 503;
	}
	size_t used;
	*reply = json_pack("{s:b, s:o*, s:I, s:I}", "matched", 1, "match",
	                   gd_json_text(m.text, strlen(m.text), &used), "start",
	                   (json_int_t)m.start, "end", (json_int_t)m.end);
	return 200;
}
