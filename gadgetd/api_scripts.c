/* api_scripts: GET /api/scripts, GET/PUT/DELETE /api/scripts/{name} and POST .../run: saved
 * reinstall scripts, validated when saved and run as jobs, one at a time. */
#include "api.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "docstore.h"
#include "gadget.h"
#include "json.h"
#include "keyboard.h"
#include "log.h"
#include "media.h"
#include "script.h"
#include "script_run.h"

#define LOG_PREFIX "API: "

static unsigned no_script(struct gd_api_request *req, json_t **reply)
{
	*reply = gd_json_error("no_such_script", "no script named '%.64s'", req->params[0]);
	return 404;
}

/* A name no script can have is refused as such, not looked for. 0 or 400. */
static unsigned bad_name(struct gd_api_request *req, json_t **reply)
{
	if (gd_docstore_name_valid(req->params[0]))
		return 0;
	*reply = gd_json_error("bad_request",
	                       "'%.64s' is not a valid script name (1-64 of a-z 0-9 . _ -)",
	                       req->params[0]);
	return 400;
}

static bool image_exists(void *ctx, const char *name)
{
	json_t *image = gd_media_image(((struct gd_app *)ctx)->media, name);
	json_decref(image);
	return image != NULL;
}

static bool layout_exists(void *ctx, const char *name)
{
	struct gd_app *app = ctx;
	return app->keyboard == NULL || gd_keyboard_layout(app->keyboard, name) != NULL;
}

/* Validates DOC: 0, or 400 with the message and the index of the step at fault. */
static unsigned check(struct gd_app *app, json_t *doc, json_t **reply)
{
	const struct gd_script_env env = {app, image_exists, layout_exists};
	char err[512];
	int step;
	if (gd_script_validate(doc, &env, err, sizeof(err), &step) == 0)
		return 0;
	*reply = gd_json_error("bad_script", "%s", err);
	json_object_set_new(json_object_get(*reply, "error"), "step",
	                    step < 0 ? json_null() : json_integer(step));
	return 400;
}

unsigned gd_api_scripts_get(struct gd_api_request *req, json_t **reply)
{
	json_t *names = gd_docstore_names(req->app->scripts), *list = json_array(), *name;
	size_t i;
	json_array_foreach(names, i, name)
	{
		json_t *doc = gd_docstore_get(req->app->scripts, json_string_value(name));
		json_t *desc = json_object_get(doc, "description");
		json_array_append_new(
		    list, json_pack("{s:O, s:s, s:I}", "name", name, "description",
		                    json_is_string(desc) ? json_string_value(desc) : "", "steps",
		                    (json_int_t)json_array_size(json_object_get(doc, "steps"))));
		json_decref(doc);
	}
	json_decref(names);
	*reply = json_pack("{s:o}", "scripts", list);
	return 200;
}

unsigned gd_api_script_get(struct gd_api_request *req, json_t **reply)
{
	unsigned status = bad_name(req, reply);
	if (status != 0)
		return status;
	*reply = gd_docstore_get(req->app->scripts, req->params[0]);
	return *reply ? 200 : no_script(req, reply);
}

unsigned gd_api_script_put(struct gd_api_request *req, json_t **reply)
{
	unsigned status = bad_name(req, reply);
	if (status == 0)
		status = check(req->app, req->body, reply);
	if (status != 0)
		return status;
	bool created;
	int rc = gd_docstore_put(req->app->scripts, req->params[0], req->body, &created);
	if (rc < 0) {
		GD_LOG_ERROR("saving script '%s': %s", req->params[0], strerror(-rc));
		*reply = gd_json_error("storage_error", "saving script '%s': %s", req->params[0],
		                       strerror(-rc));
		return 500;
	}
	GD_LOG_INFO("user '%s' saved script '%s'", req->user, req->params[0]);
	*reply = json_pack("{s:s, s:I}", "name", req->params[0], "steps",
	                   (json_int_t)json_array_size(json_object_get(req->body, "steps")));
	return created ? 201 : 200;
}

unsigned gd_api_script_delete(struct gd_api_request *req, json_t **reply)
{
	unsigned status = bad_name(req, reply);
	if (status != 0)
		return status;
	if (gd_docstore_delete(req->app->scripts, req->params[0]) < 0)
		return no_script(req, reply);
	GD_LOG_INFO("user '%s' deleted script '%s'", req->user, req->params[0]);
	*reply = json_pack("{s:s, s:b}", "name", req->params[0], "deleted", 1);
	return 200;
}

/* The run's variables from the optional body {"vars": {...}}: 0, or 400. */
static unsigned run_vars(struct gd_api_request *req, json_t **vars, json_t **reply)
{
	*vars = NULL;
	if (req->body == NULL)
		return 0;
	const char *key;
	json_t *v;
	json_object_foreach(req->body, key, v)
	{
		if (strcmp(key, "vars") != 0 || !json_is_object(v)) {
			*reply = gd_json_error("bad_request",
			                       strcmp(key, "vars") != 0
			                           ? "unknown field '%.40s' (expected: vars)"
			                           : "'%s' must be an object of strings",
			                       key);
			return 400;
		}
	}
	*vars = json_object_get(req->body, "vars");
	char err[256];
	if (gd_script_check_vars(*vars, err, sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request", "%s", err);
		return 400;
	}
	return 0;
}

/* DOC with its steps expanded for VARS and checked again: the steps, or NULL with a 400. */
static json_t *expanded_steps(struct gd_app *app, json_t *doc, json_t *vars, json_t **reply)
{
	char err[512];
	int step;
	json_t *steps = gd_script_expand(doc, vars, err, sizeof(err), &step);
	if (steps == NULL) {
		*reply = gd_json_error("bad_script", "step %d: %s", step, err);
		json_object_set_new(json_object_get(*reply, "error"), "step", json_integer(step));
		return NULL;
	}
	json_t *ready = json_deep_copy(doc);
	json_object_set(ready, "steps", steps);
	json_object_del(ready, "vars");
	unsigned status = check(app, ready, reply);
	json_decref(ready);
	if (status != 0) {
		json_decref(steps);
		return NULL;
	}
	return steps;
}

unsigned gd_api_script_run(struct gd_api_request *req, json_t **reply)
{
	json_t *vars;
	unsigned status = bad_name(req, reply);
	if (status == 0)
		status = run_vars(req, &vars, reply);
	if (status != 0)
		return status;
	json_t *doc = gd_docstore_get(req->app->scripts, req->params[0]);
	if (doc == NULL)
		return no_script(req, reply);
	json_t *steps = expanded_steps(req->app, doc, vars, reply);
	if (steps == NULL) {
		json_decref(doc);
		return 400;
	}
	if (gd_jobs_pending(req->app->script_jobs) > 0) {
		*reply =
		    gd_json_error("script_busy", "a script is running: one at a time (GET "
		                                 "/api/jobs, DELETE /api/jobs/{id} to cancel)");
		status = 409;
	} else {
		struct gd_gadget_info info;
		gd_gadget_get_info(req->app->gadget, &info);
		char seed_path[PATH_MAX + 16];
		snprintf(seed_path, sizeof(seed_path), "%s/seed.img", req->app->cfg->state_dir);
		const struct gd_script_deps deps = {req->app->media,    req->app->power,
		                                    req->app->keyboard, req->app->console,
		                                    info.seed_lun_dir,  seed_path};
		uint64_t id = gd_script_run(req->app->script_jobs, &deps, req->params[0], doc,
		                            steps, req->user);
		GD_LOG_INFO("user '%s' runs script '%s': job %llu", req->user, req->params[0],
		            (unsigned long long)id);
		*reply = id ? gd_jobs_get(req->app->script_jobs, id)
		            : gd_json_error("internal", "out of memory");
		status = id ? 202 : 500;
	}
	json_decref(steps);
	json_decref(doc);
	return status;
}
