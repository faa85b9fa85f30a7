/* api_power: GET/POST /api/power: the server's power state and its ATX buttons. */
#include "api.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "json.h"

/* CLOCK_MONOTONIC seconds -> seconds since the epoch, for "since". */
static double wall_time(double monotonic)
{
	struct timespec mono, real;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	double mono_now = (double)mono.tv_sec + (double)mono.tv_nsec / 1e9;
	double real_now = (double)real.tv_sec + (double)real.tv_nsec / 1e9;
	return (double)(long long)((real_now - (mono_now - monotonic)) * 1000) / 1000; /* ms */
}

static json_t *state_json(struct gd_app *app)
{
	if (app->power == NULL)
		return json_pack("{s:s, s:n, s:b, s:b}", "state", "unknown", "since",
		                 "led_configured", 0, "buttons_configured", 0);
	double since;
	enum gd_power_state s = gd_power_state(app->power, &since);
	return json_pack("{s:s, s:f, s:b, s:b}", "state", gd_power_state_name(s), "since",
	                 wall_time(since), "led_configured", app->power_led, "buttons_configured",
	                 1);
}

unsigned gd_api_power_get(struct gd_api_request *req, json_t **reply)
{
	*reply = state_json(req->app);
	return 200;
}

unsigned gd_api_power_post(struct gd_api_request *req, json_t **reply)
{
	const char *name = NULL;
	const struct gd_json_field fields[] = {{"action", GD_JSON_STRING, true, 0, 0, &name}};
	char err[256];
	if (gd_json_fields(req->body, fields, 1, err, sizeof(err)) < 0) {
		*reply =
		    gd_json_error("bad_request",
		                  "%s (expected {\"action\": \"on\"|\"off\"|"
		                  "\"force-off\"|\"reset\"|\"cycle\"|\"press\"|\"long-press\"})",
		                  err);
		return 400;
	}
	int action = gd_power_action_parse(name);
	if (action < 0) {
		*reply =
		    gd_json_error("bad_request",
		                  "'action': unknown action '%.32s' (on, off, force-off, reset, "
		                  "cycle, press, long-press)",
		                  name);
		return 400;
	}
	if (req->app->power == NULL) {
		*reply = gd_json_error("no_power_lines", "no ATX lines are configured ([power])");
		return 409;
	}
	struct gd_power_result r;
	int rc = gd_power_run(req->app->power, action, req->user, &r);
	if (rc == -EBUSY || rc == -ENOTSUP) {
		*reply =
		    gd_json_error(rc == -EBUSY ? "power_busy" : "no_power_led", "%s", r.message);
		return 409;
	}
	if (rc == -ETIMEDOUT) {
		*reply = gd_json_error(r.error_code, "%s", r.message);
		json_object_set_new(*reply, "power", state_json(req->app));
		return 504;
	}
	if (rc < 0) {
		*reply = gd_json_error("gpio_error", "the ATX lines failed: %s", strerror(-rc));
		return 500;
	}
	*reply = state_json(req->app);
	json_object_set_new(*reply, "action", json_string(name));
	json_object_set_new(*reply, "changed", json_boolean(r.changed));
	json_object_set_new(*reply, "presses", json_integer(r.presses));
	json_object_set_new(*reply, "message", json_string(r.message));
	return 200;
}
