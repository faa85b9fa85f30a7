/*
 * redfish: the DMTF Redfish subset fleet tools use (Ironic's sushy, redfishtool, Ansible),
 * mapped onto the same core as /api: one ComputerSystem ("host", the server), one Manager
 * ("gadgetd"), its VirtualMedia slots, sessions, and tasks for downloads. Routes live in
 * http.c's table; these are their handlers.
 */
#ifndef GD_REDFISH_H
#define GD_REDFISH_H

#include <jansson.h>

#include "api.h"

#define GD_REDFISH_SYSTEM  "host"
#define GD_REDFISH_MANAGER "gadgetd"

struct gd_redfish;

/* The state Redfish keeps beyond the core's: the queue of resets, image sources. */
int gd_redfish_open(struct gd_redfish **out, struct gd_app *app, char *err, size_t errlen);
void gd_redfish_close(struct gd_redfish *rf);

/*
 * Queues the power actions of Redfish's ResetType NAME ("ForceOff") for USER, in order after
 * those queued before (IPMI's Chassis Control uses it too): 0, -ENOTSUP (not a type the lines
 * wired can carry out), -EBUSY (too many waiting) or -ENOMEM.
 */
int gd_redfish_reset_queue(struct gd_app *app, const char *name, const char *user);

/* An /api error body (taken) for STATUS, in Redfish's form (a new reference). */
json_t *gd_redfish_error(unsigned status, json_t *api_error);

unsigned gd_redfish_versions_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_root_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_odata_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_session_service_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_sessions_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_sessions_post(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_session_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_session_delete(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_systems_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_system_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_system_patch(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_reset_post(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_managers_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_manager_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_vmedia_list_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_vmedia_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_vmedia_insert_post(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_vmedia_eject_post(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_task_service_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_tasks_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_task_get(struct gd_api_request *req, json_t **reply);
unsigned gd_redfish_task_delete(struct gd_api_request *req, json_t **reply);

#endif
