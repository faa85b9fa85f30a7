/* api_keys: POST /api/keys and GET /api/keyboard*: keys, chords, macros and text as jobs. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "keymap.h"
#include "log.h"
#include "macro.h"

#define LOG_PREFIX "API: "

static unsigned no_keyboard(json_t **reply)
{
	*reply = gd_json_error("no_keyboard", "the gadget has no keyboard ([gadget] functions)");
	return 409;
}

/* Appends the chord named by KEYS (an array of key names) to PROG. */
static int add_keys(struct gd_program *prog, json_t *keys, char *err, size_t errlen)
{
	struct gd_stroke strokes[16];
	size_t n = json_array_size(keys);
	if (n == 0 || n > sizeof(strokes) / sizeof(strokes[0])) {
		snprintf(err, errlen, "'keys' must be an array of 1 to 16 key names, got %zu", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *key = json_array_get(keys, i);
		const char *name = json_string_value(key);
		if (name == NULL) {
			snprintf(err, errlen, "'keys[%zu]' must be a key name (a string)", i);
			return -1;
		}
		if (gd_keymap_key(name, strlen(name), &strokes[i]) < 0) {
			snprintf(err, errlen,
			         "'keys[%zu]': unknown key name '%.40s' (see /api/keyboard/keys)",
			         i, name);
			return -1;
		}
	}
	char why[256];
	if (gd_program_add_chord(prog, strokes, n, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "'keys': %s", why);
		return -1;
	}
	return 0;
}

static int add_macro(struct gd_program *prog, const char *text, const struct gd_layout *layout,
                     char *err, size_t errlen)
{
	struct gd_macro *macro;
	if (gd_macro_parse(text, strlen(text), &macro, err, errlen) < 0)
		return -1;
	int rc = gd_macro_compile(macro, layout, prog, err, errlen);
	gd_macro_free(macro);
	return rc;
}

/* The layout named NAME (NULL: the default) and PACING_MS (-1: the default). 0 or 400. */
static unsigned options(struct gd_api_request *req, const char *name, json_int_t pacing_ms,
                        const struct gd_layout **layout, int *pacing, json_t **reply)
{
	*layout = gd_keyboard_layout(req->app->keyboard, name);
	if (*layout == NULL) {
		*reply = gd_json_error(
		    "bad_request", "'layout': unknown layout '%.40s' (see /api/keyboard/layouts)",
		    name);
		return 400;
	}
	*pacing = (int)pacing_ms;
	return 0;
}

/* ?wait=1 waits for the job; absent or 0 answers at once. 0, or 400 for anything else. */
static unsigned wait_query(struct gd_api_request *req, bool *wait, json_t **reply)
{
	uint64_t v = 0;
	if (gd_api_query_uint(req, "wait", 1, &v) < 0) {
		*reply = gd_json_error("bad_request", "'wait' must be 0 or 1");
		return 400;
	}
	*wait = v == 1;
	return 0;
}

/* Queues PROG; answers 202 with the job, or with ?wait=1 the finished job. */
static unsigned submit(struct gd_api_request *req, struct gd_program *prog, int pacing, bool wait,
                       const char *what, json_t **reply)
{
	size_t actions = prog->count;
	uint64_t id = gd_keyboard_submit(req->app->keyboard, req->user, prog, pacing);
	if (id == 0) {
		*reply = gd_json_error("internal", "out of memory");
		return 500;
	}
	GD_LOG_INFO("user '%s' queued %s: job %llu, %zu actions", req->user, what,
	            (unsigned long long)id, actions);
	struct gd_jobs *jobs = gd_keyboard_jobs(req->app->keyboard);
	if (!wait) {
		*reply = gd_jobs_get(jobs, id);
		return 202;
	}
	*reply = gd_jobs_wait(jobs, id);
	const char *state = json_string_value(json_object_get(*reply, "state"));
	const char *code =
	    json_string_value(json_object_get(json_object_get(*reply, "error"), "code"));
	if (state != NULL && strcmp(state, "done") == 0)
		return 200;
	if (code != NULL && strcmp(code, "host_offline") == 0)
		return 503;
	return state != NULL && strcmp(state, "cancelled") == 0 ? 409 : 500;
}

unsigned gd_api_keys_post(struct gd_api_request *req, json_t **reply)
{
	if (req->app->keyboard == NULL)
		return no_keyboard(reply);
	bool wait;
	unsigned status = wait_query(req, &wait, reply);
	if (status != 0)
		return status;
	const char *macro = NULL, *text = NULL, *layout_name = NULL;
	json_t *keys = NULL;
	json_int_t pacing_ms = -1;
	const struct gd_json_field fields[] = {
	    {"keys", GD_JSON_ARRAY, false, 0, 0, &keys},
	    {"macro", GD_JSON_STRING, false, 1, 0, &macro},
	    {"text", GD_JSON_STRING, false, 1, 0, &text},
	    {"layout", GD_JSON_STRING, false, 0, 0, &layout_name},
	    {"pacing_ms", GD_JSON_INTEGER, false, 0, 1000, &pacing_ms},
	};
	char err[512];
	if (gd_json_fields(req->body, fields, sizeof(fields) / sizeof(fields[0]), err,
	                   sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request", "%s", err);
		return 400;
	}
	if ((macro != NULL) + (keys != NULL) + (text != NULL) != 1) {
		*reply =
		    gd_json_error("bad_request", "give exactly one of 'keys', 'macro' or 'text'");
		return 400;
	}
	const struct gd_layout *layout;
	int pacing;
	status = options(req, layout_name, pacing_ms, &layout, &pacing, reply);
	if (status != 0)
		return status;
	struct gd_program prog;
	gd_program_init(&prog);
	int rc = macro  ? add_macro(&prog, macro, layout, err, sizeof(err))
	         : keys ? add_keys(&prog, keys, err, sizeof(err))
	                : gd_program_add_text(&prog, text, strlen(text), layout, err, sizeof(err));
	if (rc < 0) {
		gd_program_free(&prog);
		*reply = gd_json_error("bad_request", "%s%s",
		                       macro  ? "'macro': "
		                       : text ? "'text': "
		                              : "",
		                       err);
		return 400;
	}
	return submit(req, &prog, pacing, wait, macro ? "a macro" : keys ? "keys" : "text", reply);
}

unsigned gd_api_keyboard_get(struct gd_api_request *req, json_t **reply)
{
	if (req->app->keyboard == NULL)
		return no_keyboard(reply);
	*reply = gd_keyboard_state_json(req->app->keyboard);
	return 200;
}

unsigned gd_api_keyboard_layouts_get(struct gd_api_request *req, json_t **reply)
{
	if (req->app->keyboard == NULL)
		return no_keyboard(reply);
	*reply = gd_keyboard_layouts_json(req->app->keyboard);
	return 200;
}

unsigned gd_api_keyboard_keys_get(struct gd_api_request *req, json_t **reply)
{
	(void)req;
	json_t *keys = json_array();
	for (size_t i = 0; i < gd_keymap_names_count; i++)
		json_array_append_new(keys, json_string(gd_keymap_names[i].name));
	*reply = json_pack("{s:o}", "keys", keys);
	return 200;
}

unsigned gd_api_macro_run(struct gd_api_request *req, json_t **reply)
{
	if (req->app->keyboard == NULL)
		return no_keyboard(reply);
	bool wait;
	unsigned status = wait_query(req, &wait, reply);
	if (status != 0)
		return status;
	const char *layout_name = NULL;
	json_int_t pacing_ms = -1;
	const struct gd_json_field fields[] = {
	    {"layout", GD_JSON_STRING, false, 0, 0, &layout_name},
	    {"pacing_ms", GD_JSON_INTEGER, false, 0, 1000, &pacing_ms},
	};
	char err[512];
	if (gd_json_fields(req->body, fields, 2, err, sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request", "%s (the body is optional)", err);
		return 400;
	}
	if (!gd_macros_name_valid(req->params[0])) {
		*reply = gd_json_error("bad_request",
		                       "'%.64s' is not a valid macro name (1-64 of a-z 0-9 . _ -)",
		                       req->params[0]);
		return 400;
	}
	json_t *macro = gd_macros_get(req->app->macros, req->params[0]);
	if (macro == NULL) {
		*reply = gd_json_error("no_such_macro", "no macro named '%.64s'", req->params[0]);
		return 404;
	}
	const struct gd_layout *layout;
	int pacing;
	status = options(req, layout_name, pacing_ms, &layout, &pacing, reply);
	struct gd_program prog;
	gd_program_init(&prog);
	if (status == 0 && add_macro(&prog, json_string_value(json_object_get(macro, "macro")),
	                             layout, err, sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request", "macro '%s': %s", req->params[0], err);
		status = 400;
	}
	json_decref(macro);
	if (status != 0) {
		gd_program_free(&prog);
		return status;
	}
	return submit(req, &prog, pacing, wait, "a saved macro", reply);
}
