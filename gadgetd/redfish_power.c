/*
 * redfish_power: ComputerSystem.Reset mapped onto the ATX actions, queued in order (fleet
 * tools send a reset and at once poll PowerState, or send the next), and PowerState from the
 * LED and the resets still to run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "redfish.h"
#include "redfish_state.h"

#define LOG_PREFIX "REDFISH: "
/* How long a reset waits for a power action of /api or a script to end before giving up. */
#define BUSY_WAIT_MS 120000

struct reset_type {
	const char *name;
	const char *actions[2]; /* gd_power actions run in turn */
	bool ends_on;           /* PowerState while it waits or runs */
	bool needs_led;
	bool needs_reset_line;
};

static const struct reset_type reset_types[] = {
    {"On", {"on", NULL}, true, true, false},
    {"ForceOff", {"force-off", NULL}, false, false, false},
    {"GracefulShutdown", {"off", NULL}, false, true, false},
    {"ForceRestart", {"reset", NULL}, true, false, true},
    {"GracefulRestart", {"off", "on"}, true, true, false},
    {"PushPowerButton", {"press", NULL}, true, false, false},
    {"PowerCycle", {"cycle", NULL}, true, true, false},
};

#define RESET_TYPES (sizeof(reset_types) / sizeof(reset_types[0]))

static bool available(const struct gd_app *app, const struct reset_type *t)
{
	return app->power != NULL && (!t->needs_led || app->power_led) &&
	       (!t->needs_reset_line || app->cfg->reset_line[0] != '\0');
}

json_t *gd_redfish_reset_action(struct gd_app *app)
{
	json_t *types = json_array();
	for (size_t i = 0; i < RESET_TYPES; i++)
		if (available(app, &reset_types[i]))
			json_array_append_new(types, json_string(reset_types[i].name));
	if (json_array_size(types) == 0) {
		json_decref(types);
		return json_object(); /* no ATX lines: nothing to offer */
	}
	return json_pack("{s:{s:s, s:o}}", "#ComputerSystem.Reset", "target",
	                 "/redfish/v1/Systems/" GD_REDFISH_SYSTEM "/Actions/ComputerSystem.Reset",
	                 "ResetType@Redfish.AllowableValues", types);
}

const char *gd_redfish_power_state(struct gd_app *app)
{
	struct gd_redfish *rf = app->redfish;
	if (app->power == NULL)
		return NULL;
	if (rf != NULL && gd_jobs_pending(rf->resets) > 0) {
		pthread_mutex_lock(&rf->lock);
		bool on = rf->last_reset_on;
		pthread_mutex_unlock(&rf->lock);
		return on ? "PoweringOn" : "PoweringOff";
	}
	switch (gd_power_state(app->power, NULL)) {
	case GD_POWER_ON:
	case GD_POWER_SLEEPING: return "On";
	case GD_POWER_OFF: return "Off";
	default: return NULL;
	}
}

struct reset_job {
	struct gd_app *app;
	const struct reset_type *type;
	char user[GD_API_USER_MAX];
};

static void sleep_ms(unsigned ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

/* One power action, waiting its turn behind one of /api or a script. */
static int run_action(struct gd_job *job, struct reset_job *r, const char *name)
{
	struct gd_power_result res;
	int rc;
	for (unsigned waited = 0;; waited += 100) {
		rc = gd_power_run(r->app->power, gd_power_action_parse(name), r->user, &res);
		if (rc != -EBUSY || waited >= BUSY_WAIT_MS || atomic_load(gd_job_cancelled(job)))
			break;
		sleep_ms(100);
	}
	if (rc == 0)
		return 0;
	if (rc == -EBUSY && atomic_load(gd_job_cancelled(job)))
		return -ECANCELED;
	gd_job_fail(job, rc == -ETIMEDOUT ? "power_timeout" : "power_failed", "%s: %s",
	            r->type->name, res.message[0] ? res.message : strerror(-rc));
	return -1;
}

static int run_reset(struct gd_job *job, void *ctx)
{
	struct reset_job *r = ctx;
	for (size_t i = 0; i < 2 && r->type->actions[i] != NULL; i++) {
		int rc = run_action(job, r, r->type->actions[i]);
		if (rc < 0)
			return rc;
		gd_job_progress(job, i + 1);
	}
	return 0;
}

static const struct reset_type *find_type(const char *name)
{
	for (size_t i = 0; name != NULL && i < RESET_TYPES; i++)
		if (strcmp(name, reset_types[i].name) == 0)
			return &reset_types[i];
	return NULL;
}

int gd_redfish_reset_queue(struct gd_app *app, const char *name, const char *user)
{
	const struct reset_type *type = find_type(name);
	if (type == NULL || !available(app, type))
		return -ENOTSUP;
	struct gd_redfish *rf = app->redfish;
	if (gd_jobs_pending(rf->resets) > GD_REDFISH_RESETS_MAX)
		return -EBUSY;
	struct reset_job *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->app = app;
	r->type = type;
	snprintf(r->user, sizeof(r->user), "%s", user);
	bool ends_on = type->ends_on;
	if (type->actions[0] != NULL && strcmp(type->actions[0], "press") == 0)
		ends_on = gd_power_state(app->power, NULL) == GD_POWER_OFF; /* a press toggles */
	pthread_mutex_lock(&rf->lock);
	rf->last_reset_on = ends_on;
	pthread_mutex_unlock(&rf->lock);
	if (gd_jobs_submit(rf->resets, "redfish-reset", user, 2, run_reset, r, free) == 0)
		return -ENOMEM;
	GD_LOG_INFO("user '%s' asked for %s", user, type->name);
	return 0;
}

unsigned gd_redfish_reset_post(struct gd_api_request *req, json_t **reply)
{
	unsigned status =
	    gd_redfish_check_id(req->params[0], GD_REDFISH_SYSTEM, "/redfish/v1/Systems", reply);
	if (status != 0)
		return status;
	const char *name = NULL;
	const struct gd_json_field fields[] = {{"ResetType", GD_JSON_STRING, true, 1, 64, &name}};
	char err[256];
	if (gd_json_fields(req->body, fields, 1, err, sizeof(err)) < 0) {
		*reply = gd_redfish_fail(gd_redfish_field_error(err, true),
		                         "%s (expected {\"ResetType\": \"On\"})", err);
		return 400;
	}
	int rc = gd_redfish_reset_queue(req->app, name, req->user);
	*reply = rc == 0          ? NULL
	         : rc == -ENOTSUP ? gd_redfish_fail("ActionParameterNotSupported",
	                                            "ResetType '%.32s' is not one this system "
	                                            "offers: see ResetType@Redfish.AllowableValues",
	                                            name)
	         : rc == -EBUSY   ? gd_redfish_fail("ResourceInUse",
	                                            "%u resets are waiting already: try again "
	                                              "when they have run",
	                                            GD_REDFISH_RESETS_MAX)
	                          : gd_redfish_fail("InternalError", "out of memory");
	return rc == 0 ? 204 : rc == -ENOTSUP ? 400 : rc == -EBUSY ? 409 : 500;
}
