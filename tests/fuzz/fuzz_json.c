/*
 * Fuzzes JSON request decoding, route by route. The input is a request body: it goes through
 * gd_json_parse_object() as http.c's dispatch does, and the object is handed to the daemon's
 * own handler of every route that takes a JSON body (each ignores the others' fields and
 * answers 400, or gets further when the body is meant for it):
 *
 *   POST /api/gadget           gd_api_gadget_post         gadget stubbed (connects at once)
 *   POST /api/keys             gd_api_keys_post           keys, macro or text, layout "us"
 *                                                         (keymaps/us.keymap); the program is
 *                                                         checked by the keyboard stub, not played
 *   PUT  /api/macros/fuzz      gd_api_macro_put           the real macro store, in a temporary
 *                                                         directory (tmpfs when there is one)
 *   POST /api/macros/fuzz/run  gd_api_macro_run           runs what that PUT saved
 *   PUT  /api/media            gd_api_media_put           the real image store without a LUN:
 *                                                         decoding and name checks, then 409
 *   POST /api/power            gd_api_power_post          no ATX lines: decoding, then 409
 *   POST /api/console          gd_api_console_post        console stubbed (takes every byte)
 *   POST /api/console/expect   gd_api_console_expect_post the pattern really goes to regcomp;
 *                                                         the wait is stubbed (times out at once)
 *   POST /api/images           gd_api_images_post         the JSON download body through the
 *                                                         route's stream operations;
 *                                                         gd_media_download is wrapped
 *                                                         (-Wl,--wrap): name and scheme checks,
 *                                                         then a job that does nothing (no
 *                                                         network)
 *
 * Replaced by stubs below (no hardware): the gadget, the keyboard (hid), the console (tty) and
 * http.c's query and header accessors (no query parameters, no headers). Everything else is
 * the daemon's code. Invariants: every reply exists and encodes (json_dumps, as send_json
 * does); an error status comes with {"error": {"code": "...", "message": "..."}}; a keyboard
 * program ends with every key released. The raw bytes also go through gd_json_text (console
 * output as a JSON string): the text is valid UTF-8 and USED never passes the input.
 * FUZZ_TRACE=1 fuzz_json FILE... prints each route's status and reply.
 */
#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <string.h>

#include "api.h"
#include "console.h"
#include "console_ws.h"
#include "fuzz.h"
#include "gadget.h"
#include "jobs.h"
#include "json.h"
#include "keyboard.h"
#include "keymap.h"
#include "log.h"
#include "macro.h"
#include "macros.h"
#include "media.h"

#ifndef GD_KEYMAPS_DIR
#define GD_KEYMAPS_DIR "keymaps"
#endif

/* ---- stubs: what would touch hardware or the HTTP connection -------------------------- */

struct gd_keyboard {
	int unused;
};
struct gd_console {
	int unused;
};
struct gd_gadget {
	int unused;
};

static struct gd_layout *us;
static struct gd_jobs *keys_jobs;

static int noop_job(struct gd_job *job, void *ctx)
{
	(void)job;
	(void)ctx;
	return 0;
}

const char *gd_api_query(struct gd_api_request *req, const char *key)
{
	(void)req;
	(void)key;
	return NULL;
}

int gd_api_query_uint(struct gd_api_request *req, const char *key, uint64_t max, uint64_t *out)
{
	(void)req;
	(void)key;
	(void)max;
	(void)out;
	return 0; /* absent */
}

const char *gd_api_header(struct gd_api_request *req, const char *name)
{
	(void)req;
	(void)name;
	return NULL;
}

void gd_gadget_get_info(struct gd_gadget *g, struct gd_gadget_info *info)
{
	(void)g;
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "gadgetd");
	snprintf(info->udc, sizeof(info->udc), "dummy_udc.0");
	snprintf(info->host_state, sizeof(info->host_state), "configured");
	info->bound = true;
	info->functions = GD_FUNC_KEYBOARD | GD_FUNC_ACM;
	info->vendor_id = 0x1d6b;
	info->product_id = 0x0104;
}

int gd_gadget_set_connected(struct gd_gadget *g, bool connected, char *err, size_t errlen)
{
	(void)g;
	(void)connected;
	(void)err;
	(void)errlen;
	return 0;
}

const struct gd_layout *gd_keyboard_layout(struct gd_keyboard *kb, const char *name)
{
	(void)kb;
	return name == NULL || strcmp(name, "us") == 0 ? us : NULL;
}

/* The HID engine plays what it is given: check that it is a program it can play. */
uint64_t gd_keyboard_submit(struct gd_keyboard *kb, const char *user, struct gd_program *prog,
                            int pacing_ms)
{
	(void)kb;
	FUZZ_CHECK(pacing_ms >= -1 && pacing_ms <= 1000);
	FUZZ_CHECK(prog->count <= GD_PROGRAM_MAX_ACTIONS);
	if (prog->count > 0) {
		const struct gd_action *last = &prog->actions[prog->count - 1];
		static const uint8_t none[6];
		FUZZ_CHECK(last->kind == GD_ACT_REPORT && last->mods == 0 &&
		           memcmp(last->keys, none, sizeof(none)) == 0);
	}
	gd_program_free(prog);
	return gd_jobs_submit(keys_jobs, "keys", user, 0, noop_job, NULL, NULL);
}

struct gd_jobs *gd_keyboard_jobs(struct gd_keyboard *kb)
{
	(void)kb;
	return keys_jobs;
}

json_t *gd_keyboard_state_json(struct gd_keyboard *kb)
{
	(void)kb;
	return json_object();
}

json_t *gd_keyboard_layouts_json(struct gd_keyboard *kb)
{
	(void)kb;
	return json_array();
}

void gd_console_get_status(struct gd_console *c, struct gd_console_status *st)
{
	(void)c;
	memset(st, 0, sizeof(*st));
	snprintf(st->tty, sizeof(st->tty), "/dev/ttyGS0");
	st->open = true;
	st->next = 1u << 20;
}

const char *gd_console_log_path(struct gd_console *c)
{
	(void)c;
	return "/nonexistent/console.log";
}

void gd_console_log_part(struct gd_console *c, unsigned n, char *buf, size_t len)
{
	(void)c;
	snprintf(buf, len, "/nonexistent/console.log.%u", n);
}

unsigned gd_console_log_keep(struct gd_console *c)
{
	(void)c;
	return 0;
}

ssize_t gd_console_write(struct gd_console *c, const void *data, size_t len)
{
	(void)c;
	(void)data;
	return (ssize_t)len;
}

size_t gd_console_read(struct gd_console *c, uint64_t *offset, void *buf, size_t max,
                       uint64_t *lost)
{
	(void)c;
	(void)offset;
	(void)buf;
	(void)max;
	*lost = 0;
	return 0;
}

int gd_console_wait(struct gd_console *c, uint64_t offset, int timeout_ms)
{
	(void)c;
	(void)offset;
	(void)timeout_ms;
	return -ETIMEDOUT;
}

int gd_console_expect(struct gd_console *c, const regex_t *re, uint64_t since, int timeout_ms,
                      struct gd_console_match *m)
{
	(void)c;
	(void)re;
	(void)since;
	(void)timeout_ms;
	(void)m;
	return -ETIMEDOUT;
}

int gd_console_ws_start(struct gd_console_ws *ws, int sock, const void *extra, size_t extra_len,
                        uint64_t replay, const char *user, bool read_only, gd_console_ws_done done,
                        void *arg)
{
	(void)ws;
	(void)sock;
	(void)extra;
	(void)extra_len;
	(void)replay;
	(void)user;
	(void)read_only;
	(void)done;
	(void)arg;
	return -ENOSYS;
}

/* media.c's download, as api_images.c calls it: the same checks, and a job that does nothing. */
uint64_t __wrap_gd_media_download(struct gd_media *media, const char *url, const char *name,
                                  const char *user, char *err, size_t errlen);
uint64_t __wrap_gd_media_download(struct gd_media *media, const char *url, const char *name,
                                  const char *user, char *err, size_t errlen)
{
	if (!gd_media_name_valid(name, err, errlen))
		return 0;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "the URL must be http:// or https://");
		return 0;
	}
	return gd_jobs_submit(gd_media_jobs(media), "download", user, 0, noop_job, NULL, NULL);
}

/* ---- the daemon's modules, set up once -------------------------------------------------- */

static struct gd_keyboard keyboard;
static struct gd_console console;
static struct gd_gadget gadget;
static struct gd_config cfg;
static struct gd_app app;
static char dir[64];
static bool trace; /* FUZZ_TRACE set: each route's status and reply on stderr */

static void cleanup(void)
{
	gd_media_close(app.media);
	gd_macros_close(app.macros);
	gd_jobs_free(keys_jobs);
	gd_layout_free(us);
	fuzz_remove_tree(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	gd_log_set_level(GD_LOG_ERROR);
	trace = getenv("FUZZ_TRACE") != NULL;
	char err[512];
	fuzz_scratch_dir(dir);
	gd_config_defaults(&cfg);
	snprintf(cfg.image_store, sizeof(cfg.image_store), "%s/images", dir);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", dir);
	char macros_dir[128];
	snprintf(macros_dir, sizeof(macros_dir), "%s/macros", dir);
	app.cfg = &cfg;
	app.gadget = &gadget;
	app.keyboard = &keyboard;
	app.console = &console;
	if (gd_layout_load(GD_KEYMAPS_DIR "/us.keymap", &us, err, sizeof(err)) < 0 ||
	    gd_media_open(&app.media, &cfg, NULL, NULL, err, sizeof(err)) < 0 ||
	    gd_macros_open(&app.macros, macros_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_json: %s\n", err);
		abort();
	}
	keys_jobs = gd_jobs_new("keys");
	if (keys_jobs == NULL)
		abort();
	atexit(cleanup);
	return 0;
}

/* ---- the routes -------------------------------------------------------------------------- */

static void check_reply(const char *route, unsigned status, json_t *reply)
{
	if (trace) {
		char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
		fprintf(stderr, "%s: %u %.300s\n", route, status, text ? text : "(null)");
		free(text);
	}
	if (reply == NULL || status < 200 || status > 599)
		fprintf(stderr, "%s: status %u, reply %p\n", route, status, (void *)reply);
	FUZZ_CHECK(status >= 200 && status <= 599);
	FUZZ_CHECK(reply != NULL);
	char *text = json_dumps(reply, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	free(text);
	if (status >= 400) {
		json_t *error = json_object_get(reply, "error");
		FUZZ_CHECK(json_is_string(json_object_get(error, "code")));
		FUZZ_CHECK(json_is_string(json_object_get(error, "message")));
	}
	json_decref(reply);
}

static void call(const char *route, gd_api_handler handler, json_t *body)
{
	struct gd_api_request req = {
	    .app = &app,
	    .method = route,
	    .path = route,
	    .user = "fuzz",
	    .role = GD_ROLE_ADMIN,
	    .body = body,
	    .params = {"fuzz", NULL},
	    .reply_fd = -1,
	};
	json_t *reply = NULL;
	unsigned status = handler(&req, &reply);
	check_reply(route, status, reply);
	FUZZ_CHECK(req.reply_fd < 0);
}

/* POST /api/images with a JSON body, through the route's stream operations. */
static void images_post(const uint8_t *data, size_t size)
{
	struct gd_api_request req = {
	    .app = &app,
	    .method = "POST",
	    .path = "/api/images",
	    .user = "fuzz",
	    .role = GD_ROLE_ADMIN,
	    .reply_fd = -1,
	};
	const struct gd_api_stream *ops = &gd_api_images_post;
	void *ctx = NULL;
	json_t *reply = NULL;
	unsigned status = ops->begin(&req, &ctx, &reply);
	if (status != 0) {
		check_reply("POST /api/images (begin)", status, reply);
		return;
	}
	/* In two chunks, as a body may arrive. */
	size_t half = size / 2;
	status = ops->data(ctx, (const char *)data, half, &reply);
	if (status == 0)
		status = ops->data(ctx, (const char *)data + half, size - half, &reply);
	if (status != 0) {
		ops->abort(ctx);
		check_reply("POST /api/images (data)", status, reply);
		return;
	}
	status = ops->end(&req, ctx, &reply);
	check_reply("POST /api/images", status, reply);
}

static void check_text(const uint8_t *data, size_t size)
{
	size_t used = SIZE_MAX;
	json_t *text = gd_json_text(data, size, &used);
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(used <= size && size - used < 4);
	FUZZ_CHECK(fuzz_utf8_valid(json_string_value(text), json_string_length(text)));
	json_decref(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_text(data, size);
	images_post(data, size);

	char err[512];
	memset(err, 'x', sizeof(err));
	json_t *body = gd_json_parse_object((const char *)data, size, err, sizeof(err));
	if (body == NULL) {
		FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
		check_reply("parse", 400, gd_json_error("bad_request", "%s", err));
		/* An optional body that is absent. */
		if (size == 0)
			call("POST /api/macros/fuzz/run", gd_api_macro_run, NULL);
		return 0;
	}
	call("POST /api/gadget", gd_api_gadget_post, body);
	call("POST /api/keys", gd_api_keys_post, body);
	call("PUT /api/macros/fuzz", gd_api_macro_put, body);
	call("POST /api/macros/fuzz/run", gd_api_macro_run, body);
	call("PUT /api/media", gd_api_media_put, body);
	call("POST /api/power", gd_api_power_post, body);
	call("POST /api/console", gd_api_console_post, body);
	call("POST /api/console/expect", gd_api_console_expect_post, body);
	json_decref(body);
	return 0;
}
