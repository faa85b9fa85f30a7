/* redfish_state: what redfish.c, redfish_power.c and redfish_media.c share (private). */
#ifndef GD_REDFISH_STATE_H
#define GD_REDFISH_STATE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>

#include "api.h"
#include "jobs.h"

/* Resets waiting to run beyond the one running: more is a client gone wrong (409). */
#define GD_REDFISH_RESETS_MAX 4

struct gd_redfish {
	struct gd_app *app;
	struct gd_jobs *resets; /* ComputerSystem.Reset actions, run in order */
	pthread_mutex_t lock;
	bool last_reset_on;          /* the last reset queued ends with the server on */
	char sources[PATH_MAX + 32]; /* STATE_DIR/redfish-sources.json: images and their URLs */
};

/* The Redfish error for STATUS with MESSAGE_ID ("ResourceInUse") and a message. */
json_t *gd_redfish_fail(const char *message_id, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The Base message for ERR, a gd_json_fields() refusal, of a resource's properties or (ACTION)
 * an action's parameters: ...Unknown, ...Missing or ...ValueTypeError. */
const char *gd_redfish_field_error(const char *err, bool action);

/* {"@odata.id": PATH} */
json_t *gd_redfish_link(const char *path);

/* "On", "Off", "PoweringOn", "PoweringOff", or NULL when unknown. */
const char *gd_redfish_power_state(struct gd_app *app);

/* The system's Actions: {"#ComputerSystem.Reset": ...} with the reset types that work here. */
json_t *gd_redfish_reset_action(struct gd_app *app);

/* Whether PARAM names the one system / manager: else 404 with *REPLY set. */
unsigned gd_redfish_check_id(const char *param, const char *id, const char *path, json_t **reply);

#endif
