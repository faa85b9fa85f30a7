/*
 * Fuzzes Redfish request decoding: the input is a request body, parsed as http.c's dispatch
 * does, and handed to every Redfish handler that takes a body; a digest of its bytes also picks an
 * If-Match header, a status for the error conversion and the path's ids:
 *
 *   POST  .../SessionService/Sessions     logins: user "fuzz", password "fuzz-pw" opens a
 *                                         real session
 *   PATCH /redfish/v1/Systems/{id}        the real boot override, kept in a temporary
 *                                         directory (tmpfs when there is one), a player that
 *                                         checks the macro instead of typing it
 *   POST  .../ComputerSystem.Reset        the real queue and power.c on fake lines (no LED:
 *                                         the types that need none), presses of 1 ms
 *   POST  .../VirtualMedia.InsertMedia    the real store without a LUN (inserts fail); the
 *   POST  .../VirtualMedia.EjectMedia     HEAD and the download are wrapped (-Wl,--wrap): no
 *                                         network, the download writes the input as the image
 *   the error conversion                  gd_redfish_error() over the parsed body itself
 *
 * Also GET of the system, the slots, the sessions and the tasks after each input, so state
 * left by one input is read by the next. Invariants: every reply encodes, an error is in
 * Redfish's form (code and MessageId from Base.1.8), a 204 has no body, a 201 carries
 * X-Auth-Token and Location.
 */
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <string.h>

#include "api.h"
#include "boot.h"
#include "fuzz.h"
#include "jobs.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "media.h"
#include "power.h"
#include "redfish.h"

struct gd_gadget {
	int unused;
};

static const char *if_match; /* the If-Match header of the request being made */

/* ---- stubs: http.c's accessors and authentication, the gadget ----------------------------- */

const char *gd_api_header(struct gd_api_request *req, const char *name)
{
	(void)req;
	return strcmp(name, "If-Match") == 0 ? if_match : NULL;
}

void gd_api_add_header(struct gd_api_request *req, const char *name, const char *fmt, ...)
{
	FUZZ_CHECK(req->nheaders < GD_API_HEADERS_MAX);
	struct gd_api_header *h = &req->headers[req->nheaders++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->value, sizeof(h->value), fmt, ap);
	va_end(ap);
}

uint64_t gd_api_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* api_session.c's login, with one user: "fuzz", password "fuzz-pw"; real sessions. */
unsigned gd_api_open_session(struct gd_api_request *req, const char *user, const char *password,
                             enum gd_role *role, char secret[GD_SECRET_TEXT + 1],
                             char csrf[GD_SESSION_CSRF_LEN + 1], json_t **reply)
{
	*role = GD_ROLE_OPERATOR;
	if (strcmp(user, "fuzz") != 0 || strcmp(password, "fuzz-pw") != 0) {
		*reply =
		    gd_json_error("unauthorized", "wrong user name or password for '%.32s'", user);
		return 401;
	}
	FUZZ_CHECK(gd_sessions_create(req->app->sessions, user, gd_api_now_ms(), secret, csrf) ==
	           0);
	return 0;
}

void gd_gadget_get_info(struct gd_gadget *g, struct gd_gadget_info *info)
{
	(void)g;
	memset(info, 0, sizeof(*info));
}

int gd_gadget_set_connected(struct gd_gadget *g, bool connected, char *err, size_t errlen)
{
	(void)g;
	(void)connected;
	(void)err;
	(void)errlen;
	return 0;
}

/* No network: a HEAD answers as the input's digest says; a download writes the URL. */
static uint8_t probe_answer;

int __wrap_gd_media_probe(const char *url, struct gd_media_source *out, char *err, size_t errlen);
int __wrap_gd_media_probe(const char *url, struct gd_media_source *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "'url' must be http:// or https://");
		return -EINVAL;
	}
	if (probe_answer & 1) {
		snprintf(err, errlen, "no answer");
		return -EIO;
	}
	snprintf(out->etag, sizeof(out->etag), "\"%u\"", probe_answer >> 1);
	out->size = 1 + strlen(url);
	return 0;
}

int __wrap_gd_media_fetch(struct gd_media *media, struct gd_job *job, const char *url,
                          const char *name, char *err, size_t errlen);
int __wrap_gd_media_fetch(struct gd_media *media, struct gd_job *job, const char *url,
                          const char *name, char *err, size_t errlen)
{
	(void)job;
	struct gd_upload *up = NULL;
	if (gd_media_upload_begin(media, name, 0, NULL, &up, err, errlen) < 0)
		return -1;
	char line[2100];
	int n = snprintf(line, sizeof(line), "%s\n", url);
	if (gd_media_upload_write(up, line, (size_t)n) < 0) {
		gd_media_upload_abort(up);
		snprintf(err, errlen, "write failed");
		return -1;
	}
	return gd_media_upload_finish(up, err, errlen) < 0 ? -1 : 0;
}

/* ---- the daemon's modules, set up once -------------------------------------------------- */

static struct gd_gadget gadget;
static struct gd_config cfg;
static struct gd_app app;
static char dir[64];
static bool trace;

static int fake_set(void *ctx, enum gd_power_button button, bool pressed)
{
	(void)ctx;
	(void)button;
	(void)pressed;
	return 0;
}

/* The boot override's keys are checked, not typed. */
static int check_play(void *ctx, const char *macro, const atomic_bool *cancelled, char *err,
                      size_t errlen)
{
	(void)ctx;
	(void)cancelled;
	struct gd_macro *m = NULL;
	FUZZ_CHECK(gd_macro_parse(macro, strlen(macro), &m, err, errlen) == 0);
	gd_macro_free(m);
	return 0;
}

static void cleanup(void)
{
	gd_redfish_close(app.redfish);
	gd_power_on_start(app.power, NULL, NULL);
	gd_boot_close(app.boot);
	gd_power_free(app.power);
	gd_media_close(app.media);
	gd_sessions_free(app.sessions);
	fuzz_remove_tree(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	gd_log_set_level(GD_LOG_ERROR);
	trace = getenv("FUZZ_TRACE") != NULL;
	/* On this thread, as the daemon does at start: else a download's thread would, and keep
	 * the error state it makes on the way. */
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	char err[512];
	fuzz_scratch_dir(dir);
	gd_config_defaults(&cfg);
	snprintf(cfg.image_store, sizeof(cfg.image_store), "%s/images", dir);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", dir);
	snprintf(cfg.reset_line, sizeof(cfg.reset_line), "ATX_RESET");
	app.cfg = &cfg;
	app.gadget = &gadget;
	struct gd_power_io io = {.set = fake_set, .has_led = false};
	struct gd_power_timing timing = {1, 1, 1, 10, 1};
	struct gd_boot_player player = {check_play, NULL};
	app.power = gd_power_new(&io, &timing);
	app.sessions = gd_sessions_new(8, 60000, 600000);
	if (app.power == NULL || app.sessions == NULL ||
	    gd_media_open(&app.media, &cfg, NULL, NULL, err, sizeof(err)) < 0 ||
	    gd_boot_open(&app.boot, &cfg, &player, err, sizeof(err)) < 0 ||
	    gd_redfish_open(&app.redfish, &app, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_redfish: %s\n", err);
		abort();
	}
	gd_power_on_start(app.power, gd_boot_started, app.boot);
	atexit(cleanup);
	return 0;
}

/* ---- the routes -------------------------------------------------------------------------- */

static const char *header(const struct gd_api_request *req, const char *name)
{
	for (unsigned i = 0; i < req->nheaders; i++)
		if (strcmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static void check_error(json_t *reply)
{
	json_t *error = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(error, "code"));
	FUZZ_CHECK(code != NULL && strncmp(code, "Base.1.8.", 9) == 0);
	FUZZ_CHECK(json_is_string(json_object_get(error, "message")));
	json_t *info = json_array_get(json_object_get(error, "@Message.ExtendedInfo"), 0);
	FUZZ_CHECK(json_is_string(json_object_get(info, "MessageId")));
}

static void call(const char *route, gd_api_handler handler, json_t *body, const char *p0,
                 const char *p1)
{
	struct gd_api_request req = {
	    .app = &app,
	    .method = route,
	    .path = route,
	    .user = "fuzz",
	    .role = GD_ROLE_ADMIN,
	    .redfish = true,
	    .body = body,
	    .params = {p0, p1},
	    .reply_fd = -1,
	};
	json_t *reply = NULL;
	unsigned status = handler(&req, &reply);
	if (status >= 400)
		reply = gd_redfish_error(status, reply); /* as http.c's answer() does */
	if (trace) {
		char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
		fprintf(stderr, "%s: %u %.300s\n", route, status, text ? text : "(null)");
		free(text);
	}
	FUZZ_CHECK(status >= 200 && status <= 599);
	FUZZ_CHECK(status == 204 ? reply == NULL : reply != NULL);
	if (reply != NULL) {
		char *text = json_dumps(reply, JSON_COMPACT);
		FUZZ_CHECK(text != NULL);
		free(text);
	}
	if (status >= 400)
		check_error(reply);
	if (status == 201)
		FUZZ_CHECK(header(&req, "X-Auth-Token") && header(&req, "Location"));
	json_decref(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Bodies all begin with '{': the choices come from every byte. */
	uint8_t first = (uint8_t)size;
	for (size_t i = 0; i < size; i++)
		first = (uint8_t)(first * 31 + data[i]);
	static const char *const matches[] = {NULL, "*", "\"0000000000000000\"", "W/\"x\""};
	static const char *const systems[] = {"host", "other", "..", ""};
	static const char *const slots[] = {"Cd", "Usb", "Floppy", "cd"};
	if_match = matches[first & 3];
	probe_answer = first;
	const char *system = systems[(first >> 2) & 3];
	const char *slot = slots[(first >> 4) & 3];

	char err[512];
	json_t *body = gd_json_parse_object((const char *)data, size, err, sizeof(err));
	if (body == NULL) {
		call("EjectMedia", gd_redfish_vmedia_eject_post, NULL, "gadgetd", slot);
		return 0;
	}
	/* The error conversion over anything shaped like an error, or not. */
	json_t *converted = gd_redfish_error(400u + (first % 200), json_incref(body));
	check_error(converted);
	json_decref(converted);

	call("Sessions", gd_redfish_sessions_post, body, NULL, NULL);
	call("PATCH System", gd_redfish_system_patch, body, system, NULL);
	call("Reset", gd_redfish_reset_post, body, system, NULL);
	call("InsertMedia", gd_redfish_vmedia_insert_post, body, "gadgetd", slot);
	call("EjectMedia", gd_redfish_vmedia_eject_post, body, "gadgetd", slot);
	json_decref(body);

	call("GET System", gd_redfish_system_get, NULL, system, NULL);
	call("GET Cd", gd_redfish_vmedia_get, NULL, "gadgetd", slot);
	call("GET Sessions", gd_redfish_sessions_get, NULL, NULL, NULL);
	call("GET Tasks", gd_redfish_tasks_get, NULL, NULL, NULL);
	gd_boot_started(app.boot);
	return 0;
}
