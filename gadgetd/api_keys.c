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
	if (!json_is_array(keys) || n == 0 || n > sizeof(strokes) / sizeof(strokes[0])) {
		snprintf(err, errlen, "\"keys\" must be an array of 1 to 16 key names");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_array_get(keys, i));
		if (name == NULL || gd_keymap_key(name, strlen(name), &strokes[i]) < 0) {
			snprintf(err, errlen,
			         "keys[%zu]: unknown key name %s%.40s%s (see /api/keyboard/keys)",
			         i, name ? "'" : "", name ? name : "(not a string)",
			         name ? "'" : "");
			return -1;
		}
	}
	return gd_program_add_chord(prog, strokes, n, err, errlen);
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

/* Reads "layout" and "pacing_ms" from BODY (may be NULL). Returns 0 or an error status. */
static unsigned options(struct gd_api_request *req, json_t *body, const struct gd_layout **layout,
                        int *pacing, json_t **reply)
{
	*layout = gd_keyboard_layout(req->app->keyboard, NULL);
	*pacing = -1;
	json_t *name = json_object_get(body, "layout");
	if (name != NULL) {
		*layout = json_is_string(name)
		              ? gd_keyboard_layout(req->app->keyboard, json_string_value(name))
		              : NULL;
		if (*layout == NULL) {
			*reply = gd_json_error("bad_request",
			                       "unknown layout (see /api/keyboard/layouts)");
			return 400;
		}
	}
	json_t *pacing_ms = json_object_get(body, "pacing_ms");
	if (pacing_ms != NULL) {
		json_int_t v = json_integer_value(pacing_ms);
		if (!json_is_integer(pacing_ms) || v < 0 || v > 1000) {
			*reply = gd_json_error("bad_request", "\"pacing_ms\" must be 0 to 1000");
			return 400;
		}
		*pacing = (int)v;
	}
	return 0;
}

/* Queues PROG; answers 202 with the job, or with ?wait=1 the finished job. */
static unsigned submit(struct gd_api_request *req, struct gd_program *prog, int pacing,
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
	const char *wait = gd_api_query(req, "wait");
	if (wait == NULL || strcmp(wait, "0") == 0) {
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
	const char *macro = NULL, *text = NULL, *layout_name = NULL;
	json_t *keys = NULL;
	int pacing_ms = -1;
	json_error_t jerr;
	if (json_unpack_ex(req->body, &jerr, JSON_STRICT, "{s?s, s?o, s?s, s?s, s?i}", "macro",
	                   &macro, "keys", &keys, "text", &text, "layout", &layout_name,
	                   "pacing_ms", &pacing_ms) < 0) {
		*reply = gd_json_error("bad_request", "%s", jerr.text);
		return 400;
	}
	if ((macro != NULL) + (keys != NULL) + (text != NULL) != 1) {
		*reply = gd_json_error("bad_request",
		                       "give exactly one of \"macro\", \"keys\" or \"text\"");
		return 400;
	}
	const struct gd_layout *layout;
	int pacing;
	unsigned status = options(req, req->body, &layout, &pacing, reply);
	if (status != 0)
		return status;
	struct gd_program prog;
	gd_program_init(&prog);
	char err[512];
	int rc = macro  ? add_macro(&prog, macro, layout, err, sizeof(err))
	         : keys ? add_keys(&prog, keys, err, sizeof(err))
	                : gd_program_add_text(&prog, text, strlen(text), layout, err, sizeof(err));
	if (rc < 0) {
		gd_program_free(&prog);
		*reply = gd_json_error("bad_request", "%s", err);
		return 400;
	}
	return submit(req, &prog, pacing, macro ? "a macro" : keys ? "keys" : "text", reply);
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
	json_t *macro = gd_macros_get(req->app->macros, req->params[0]);
	if (macro == NULL) {
		*reply = gd_json_error("no_such_macro", "no macro named '%.64s'", req->params[0]);
		return 404;
	}
	json_error_t jerr;
	const char *unused_layout = NULL;
	int unused_pacing = 0;
	unsigned status = 0;
	if (req->body != NULL &&
	    json_unpack_ex(req->body, &jerr, JSON_STRICT, "{s?s, s?i}", "layout", &unused_layout,
	                   "pacing_ms", &unused_pacing) < 0) {
		*reply = gd_json_error("bad_request", "%s", jerr.text);
		status = 400;
	}
	const struct gd_layout *layout;
	int pacing;
	if (status == 0)
		status = options(req, req->body, &layout, &pacing, reply);
	struct gd_program prog;
	gd_program_init(&prog);
	char err[512];
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
	return submit(req, &prog, pacing, "a saved macro", reply);
}
