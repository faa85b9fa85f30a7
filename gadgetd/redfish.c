/*
 * redfish: the service root, the OData service document, sessions, the ComputerSystem (power
 * state, boot override with its ETag) and the Manager; errors in Redfish's form. Resets are in
 * redfish_power.c, virtual media and tasks in redfish_media.c.
 */
#include "redfish.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "json.h"
#include "log.h"
#include "redfish_state.h"
#include "secret.h"

#define LOG_PREFIX   "REDFISH: "
#define BASE         "Base.1.8."
#define V1           "/redfish/v1"
#define SESSIONS     V1 "/SessionService/Sessions"
#define SYSTEM_PATH  V1 "/Systems/" GD_REDFISH_SYSTEM
#define MANAGER_PATH V1 "/Managers/" GD_REDFISH_MANAGER

json_t *gd_redfish_link(const char *path)
{
	return json_pack("{s:s}", "@odata.id", path);
}

json_t *gd_redfish_fail(const char *message_id, const char *fmt, ...)
{
	char message[400], code[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	snprintf(code, sizeof(code), BASE "%s", message_id);
	return gd_json_error(code, "%s", message);
}

const char *gd_redfish_field_error(const char *err, bool action)
{
	if (strncmp(err, "unknown field", 13) == 0)
		return action ? "ActionParameterUnknown" : "PropertyUnknown";
	if (strstr(err, "is required") != NULL)
		return action ? "ActionParameterMissing" : "PropertyMissing";
	return action ? "ActionParameterValueTypeError" : "PropertyValueTypeError";
}

/* The Base registry's message for a status the handler did not name. */
static const char *message_for(unsigned status)
{
	switch (status) {
	case 401: return "NoValidSession";
	case 403: return "InsufficientPrivilege";
	case 404: return "ResourceMissingAtURI";
	case 405: return "OperationNotAllowed";
	case 409: return "ResourceInUse";
	case 412: return "PreconditionFailed";
	case 429:
	case 503: return "ServiceTemporarilyUnavailable";
	case 500: return "InternalError";
	default: return "GeneralError";
	}
}

json_t *gd_redfish_error(unsigned status, json_t *api_error)
{
	json_t *error = json_object_get(api_error, "error");
	const char *code = json_string_value(json_object_get(error, "code"));
	const char *message = json_string_value(json_object_get(error, "message"));
	char id[64];
	if (code != NULL && strncmp(code, BASE, strlen(BASE)) == 0)
		snprintf(id, sizeof(id), "%s", code);
	else
		snprintf(id, sizeof(id), BASE "%s", message_for(status));
	if (message == NULL)
		message = "the request failed";
	json_t *info = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@odata.type",
	                         "#Message.v1_1_1.Message", "MessageId", id, "Message", message,
	                         "Severity", status >= 500 ? "Critical" : "Warning", "Resolution",
	                         status == 401 ? "Log in, or send valid credentials."
	                                       : "Correct the request and resubmit it.");
	json_t *reply = json_pack("{s:{s:s, s:s, s:[o]}}", "error", "code", id, "message", message,
	                          "@Message.ExtendedInfo", info);
	json_decref(api_error);
	return reply;
}

unsigned gd_redfish_check_id(const char *param, const char *id, const char *path, json_t **reply)
{
	if (strcmp(param, id) == 0)
		return 0;
	*reply = gd_redfish_fail("ResourceMissingAtURI", "the resource at %s/%.64s was not found",
	                         path, param);
	return 404;
}

/* A resource's common members; PATH without "/redfish/v1/" is its own name for context. */
static json_t *resource(const char *type, const char *context, const char *path, const char *id,
                        const char *name)
{
	json_t *r = json_pack("{s:s, s:s, s:s, s:s}", "@odata.type", type, "@odata.id", path, "Id",
	                      id, "Name", name);
	if (context != NULL) {
		char ctx[128];
		snprintf(ctx, sizeof(ctx), V1 "/$metadata#%s", context);
		json_object_set_new(r, "@odata.context", json_string(ctx));
	}
	return r;
}

static json_t *collection(const char *type, const char *path, const char *name, json_t *members)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:o}", "@odata.type", type, "@odata.id", path,
	                      "Name", name, "Members@odata.count",
	                      (json_int_t)json_array_size(members), "Members", members);
	return c;
}

/* A stable UUID for this device: /etc/machine-id's, else a digest of the state directory. */
static void service_uuid(const struct gd_config *cfg, char out[37])
{
	char id[64] = "";
	FILE *f = fopen("/etc/machine-id", "re");
	if (f == NULL || fgets(id, sizeof(id), f) == NULL || strspn(id, "0123456789abcdef") < 32) {
		unsigned char digest[GD_SECRET_DIGEST];
		gd_secret_digest(cfg->state_dir, digest);
		for (size_t i = 0; i < 16; i++)
			snprintf(id + 2 * i, 3, "%02x", digest[i]);
	}
	if (f != NULL)
		fclose(f);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12, id + 16, id + 20);
}

unsigned gd_redfish_versions_get(struct gd_api_request *req, json_t **reply)
{
	(void)req;
	*reply = json_pack("{s:s}", "v1", V1 "/");
	return 200;
}

unsigned gd_redfish_root_get(struct gd_api_request *req, json_t **reply)
{
	char uuid[37];
	service_uuid(req->app->cfg, uuid);
	*reply = resource("#ServiceRoot.v1_5_0.ServiceRoot", "ServiceRoot.ServiceRoot", V1 "/",
	                  "RootService", "gadgetd Redfish service");
	json_object_update_new(
	    *reply, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:{s:o}}", "RedfishVersion",
	                      "1.6.0", "UUID", uuid, "Product", "gadgetd", "Vendor",
	                      "gadgetd " GD_VERSION, "Systems", gd_redfish_link(V1 "/Systems"),
	                      "Managers", gd_redfish_link(V1 "/Managers"), "SessionService",
	                      gd_redfish_link(V1 "/SessionService"), "TaskService",
	                      gd_redfish_link(V1 "/TaskService"), "Links", "Sessions",
	                      gd_redfish_link(SESSIONS)));
	return 200;
}

unsigned gd_redfish_odata_get(struct gd_api_request *req, json_t **reply)
{
	(void)req;
	static const char *const sets[][2] = {
	    {"Systems", V1 "/Systems"},
	    {"Managers", V1 "/Managers"},
	    {"SessionService", V1 "/SessionService"},
	    {"Sessions", SESSIONS},
	    {"TaskService", V1 "/TaskService"},
	};
	json_t *value = json_array();
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		json_array_append_new(value, json_pack("{s:s, s:s, s:s}", "name", sets[i][0],
		                                       "kind", "Singleton", "url", sets[i][1]));
	*reply = json_pack("{s:s, s:o}", "@odata.context", V1 "/$metadata", "value", value);
	return 200;
}

/* ---- sessions ---- */

unsigned gd_redfish_session_service_get(struct gd_api_request *req, json_t **reply)
{
	*reply = resource("#SessionService.v1_1_8.SessionService", "SessionService.SessionService",
	                  V1 "/SessionService", "SessionService", "Session Service");
	json_object_update_new(
	    *reply, json_pack("{s:b, s:I, s:{s:s}, s:o}", "ServiceEnabled", 1, "SessionTimeout",
	                      (json_int_t)req->app->cfg->session_idle, "Status", "State", "Enabled",
	                      "Sessions", gd_redfish_link(SESSIONS)));
	return 200;
}

/* Admins see everyone's sessions; others their own. */
static const char *owner_filter(const struct gd_api_request *req)
{
	return req->role == GD_ROLE_ADMIN ? NULL : req->user;
}

unsigned gd_redfish_sessions_get(struct gd_api_request *req, json_t **reply)
{
	char ids[64][GD_SESSION_ID_LEN + 1];
	unsigned n =
	    gd_sessions_ids(req->app->sessions, gd_api_now_ms(), owner_filter(req), ids, 64);
	json_t *members = json_array();
	for (unsigned i = 0; i < n; i++) {
		char path[128];
		snprintf(path, sizeof(path), SESSIONS "/%.16s", ids[i]);
		json_array_append_new(members, gd_redfish_link(path));
	}
	*reply = collection("#SessionCollection.SessionCollection", SESSIONS, "Sessions", members);
	return 200;
}

static json_t *session_json(const char *id, const char *user)
{
	char path[128];
	snprintf(path, sizeof(path), SESSIONS "/%s", id);
	json_t *s =
	    resource("#Session.v1_3_0.Session", "Session.Session", path, id, "User Session");
	json_object_set_new(s, "UserName", json_string(user));
	return s;
}

unsigned gd_redfish_sessions_post(struct gd_api_request *req, json_t **reply)
{
	const char *user = NULL, *password = NULL;
	const struct gd_json_field fields[] = {
	    {"UserName", GD_JSON_STRING, true, 1, GD_AUTH_NAME_MAX, &user},
	    {"Password", GD_JSON_STRING, true, 1, 1024, &password},
	};
	char err[256];
	if (gd_json_fields(req->body, fields, 2, err, sizeof(err)) < 0) {
		*reply = gd_redfish_fail(gd_redfish_field_error(err, false),
		                         "%s (expected {\"UserName\": \"name\", "
		                         "\"Password\": \"secret\"})",
		                         err);
		return 400;
	}
	enum gd_role role;
	char secret[GD_SECRET_TEXT + 1], csrf[GD_SESSION_CSRF_LEN + 1], id[GD_SESSION_ID_LEN + 1];
	unsigned status = gd_api_open_session(req, user, password, &role, secret, csrf, reply);
	if (status != 0)
		return status;
	if (gd_sessions_id(req->app->sessions, secret, id) < 0) {
		*reply = gd_redfish_fail("InternalError", "the session ended at once");
		return 500;
	}
	gd_api_add_header(req, "X-Auth-Token", "%s", secret);
	gd_api_add_header(req, "Location", SESSIONS "/%s", id);
	explicit_bzero(secret, sizeof(secret));
	GD_LOG_INFO("user '%s' opened session %s", user, id);
	*reply = session_json(id, user);
	return 201;
}

unsigned gd_redfish_session_get(struct gd_api_request *req, json_t **reply)
{
	char user[GD_AUTH_NAME_MAX + 1];
	const char *id = req->params[0];
	const char *owner = owner_filter(req);
	if (gd_sessions_find_id(req->app->sessions, id, gd_api_now_ms(), user, sizeof(user)) < 0 ||
	    (owner != NULL && strcmp(owner, user) != 0)) {
		*reply = gd_redfish_fail("ResourceMissingAtURI", "no session %.32s", id);
		return 404;
	}
	*reply = session_json(id, user);
	return 200;
}

unsigned gd_redfish_session_delete(struct gd_api_request *req, json_t **reply)
{
	const char *id = req->params[0];
	int rc = gd_sessions_revoke_id(req->app->sessions, id, owner_filter(req), gd_api_now_ms());
	if (rc < 0) {
		/* Another user's session is as good as missing to a non-admin. */
		*reply = gd_redfish_fail("ResourceMissingAtURI", "no session %.32s", id);
		return 404;
	}
	GD_LOG_INFO("user '%s' closed session %s", req->user, id);
	*reply = NULL;
	return 204;
}

/* ---- the system ---- */

static json_t *boot_json(struct gd_app *app)
{
	struct gd_boot_override o = {GD_BOOT_NONE, GD_BOOT_DISABLED, GD_BOOT_UEFI};
	if (app->boot != NULL)
		gd_boot_get(app->boot, &o);
	json_t *targets = json_array();
	for (int t = GD_BOOT_NONE; t <= GD_BOOT_SETUP && app->boot != NULL; t++)
		json_array_append_new(targets, json_string(gd_boot_target_name(t)));
	if (app->boot == NULL)
		json_array_append_new(targets, json_string("None"));
	return json_pack(
	    "{s:s, s:s, s:s, s:o, s:[sss], s:[ss]}", "BootSourceOverrideTarget",
	    gd_boot_target_name(o.target), "BootSourceOverrideEnabled",
	    gd_boot_enabled_name(o.enabled), "BootSourceOverrideMode", gd_boot_mode_name(o.mode),
	    "BootSourceOverrideTarget@Redfish.AllowableValues", targets,
	    "BootSourceOverrideEnabled@Redfish.AllowableValues", "Disabled", "Once", "Continuous",
	    "BootSourceOverrideMode@Redfish.AllowableValues", "UEFI", "Legacy");
}

/* A strong ETag of what PATCH may change: the Boot object. */
static void boot_etag(json_t *boot, char out[24])
{
	char *text = json_dumps(boot, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char digest[GD_SECRET_DIGEST];
	gd_secret_digest(text ? text : "", digest);
	free(text);
	snprintf(out, 24, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", digest[0], digest[1], digest[2],
	         digest[3], digest[4], digest[5], digest[6], digest[7]);
}

static json_t *system_json(struct gd_api_request *req)
{
	struct gd_app *app = req->app;
	json_t *s =
	    resource("#ComputerSystem.v1_13_0.ComputerSystem", "ComputerSystem.ComputerSystem",
	             SYSTEM_PATH, GD_REDFISH_SYSTEM, "The server gadgetd drives");
	const char *power = gd_redfish_power_state(app);
	json_t *boot = boot_json(app);
	char etag[24];
	boot_etag(boot, etag);
	gd_api_add_header(req, "ETag", "%s", etag);
	json_object_update_new(
	    s, json_pack("{s:s, s:s, s:o, s:{s:s, s:s}, s:o, s:{s:[o]}, s:o}", "SystemType",
	                 "Physical", "Description",
	                 "Driven through its USB port and front-panel header: keyboard, virtual "
	                 "media, ATX buttons and power LED",
	                 "PowerState", power ? json_string(power) : json_null(), "Status", "State",
	                 "Enabled", "Health", "OK", "Boot", boot, "Links", "ManagedBy",
	                 gd_redfish_link(MANAGER_PATH), "Actions", gd_redfish_reset_action(app)));
	return s;
}

unsigned gd_redfish_systems_get(struct gd_api_request *req, json_t **reply)
{
	(void)req;
	*reply = collection("#ComputerSystemCollection.ComputerSystemCollection", V1 "/Systems",
	                    "Computer System Collection",
	                    json_pack("[o]", gd_redfish_link(SYSTEM_PATH)));
	return 200;
}

unsigned gd_redfish_system_get(struct gd_api_request *req, json_t **reply)
{
	unsigned status =
	    gd_redfish_check_id(req->params[0], GD_REDFISH_SYSTEM, V1 "/Systems", reply);
	if (status == 0) {
		*reply = system_json(req);
		status = 200;
	}
	return status;
}

/* The Boot object of a PATCH onto *O: 0, or 400 with *REPLY. */
static unsigned parse_boot(json_t *boot, struct gd_boot_override *o, json_t **reply)
{
	const char *target = NULL, *enabled = NULL, *mode = NULL;
	const struct gd_json_field fields[] = {
	    {"BootSourceOverrideTarget", GD_JSON_STRING, false, 0, 0, &target},
	    {"BootSourceOverrideEnabled", GD_JSON_STRING, false, 0, 0, &enabled},
	    {"BootSourceOverrideMode", GD_JSON_STRING, false, 0, 0, &mode},
	};
	char err[256];
	if (gd_json_fields(boot, fields, 3, err, sizeof(err)) < 0) {
		*reply = gd_redfish_fail(gd_redfish_field_error(err, false), "Boot: %s", err);
		return 400;
	}
	int t = target ? gd_boot_target_parse(target) : (int)o->target;
	int e = enabled ? gd_boot_enabled_parse(enabled) : (int)o->enabled;
	int m = mode ? gd_boot_mode_parse(mode) : (int)o->mode;
	const char *bad = t < 0   ? "BootSourceOverrideTarget"
	                  : e < 0 ? "BootSourceOverrideEnabled"
	                  : m < 0 ? "BootSourceOverrideMode"
	                          : NULL;
	if (bad != NULL) {
		const char *value = t < 0 ? target : e < 0 ? enabled : mode;
		*reply = gd_redfish_fail("PropertyValueNotInList",
		                         "the value '%.32s' of %s is not in its "
		                         "@Redfish.AllowableValues",
		                         value, bad);
		return 400;
	}
	*o = (struct gd_boot_override){t, e, m};
	return 0;
}

unsigned gd_redfish_system_patch(struct gd_api_request *req, json_t **reply)
{
	unsigned status =
	    gd_redfish_check_id(req->params[0], GD_REDFISH_SYSTEM, V1 "/Systems", reply);
	if (status != 0)
		return status;
	json_t *boot = NULL;
	const struct gd_json_field fields[] = {{"Boot", GD_JSON_OBJECT, true, 0, 0, &boot}};
	char err[256];
	if (gd_json_fields(req->body, fields, 1, err, sizeof(err)) < 0) {
		/* Only the boot override is this system's to change. */
		*reply = gd_redfish_fail(gd_redfish_field_error(err, false), "%s", err);
		return 400;
	}
	const char *match = gd_api_header(req, "If-Match");
	char etag[24];
	json_t *before = boot_json(req->app);
	boot_etag(before, etag);
	json_decref(before);
	if (match != NULL && strcmp(match, "*") != 0 && strcmp(match, etag) != 0) {
		*reply = gd_redfish_fail(
		    "PreconditionFailed",
		    "the system changed since it was read (ETag %s, If-Match %.40s)", etag, match);
		return 412;
	}
	if (req->app->boot == NULL) {
		*reply = gd_redfish_fail("ActionNotSupported",
		                         "the boot override needs the keyboard function");
		return 409;
	}
	struct gd_boot_override o;
	gd_boot_get(req->app->boot, &o);
	if ((status = parse_boot(boot, &o, reply)) != 0)
		return status;
	if (gd_boot_set(req->app->boot, &o) < 0) {
		*reply = gd_redfish_fail("InternalError", "the boot override could not be kept");
		return 500;
	}
	GD_LOG_INFO("user '%s' set the boot override to %s %s", req->user,
	            gd_boot_target_name(o.target), gd_boot_enabled_name(o.enabled));
	*reply = system_json(req);
	return 200;
}

/* ---- the manager ---- */

unsigned gd_redfish_managers_get(struct gd_api_request *req, json_t **reply)
{
	(void)req;
	*reply = collection("#ManagerCollection.ManagerCollection", V1 "/Managers",
	                    "Manager Collection", json_pack("[o]", gd_redfish_link(MANAGER_PATH)));
	return 200;
}

unsigned gd_redfish_manager_get(struct gd_api_request *req, json_t **reply)
{
	unsigned status =
	    gd_redfish_check_id(req->params[0], GD_REDFISH_MANAGER, V1 "/Managers", reply);
	if (status != 0)
		return status;
	char uuid[37];
	service_uuid(req->app->cfg, uuid);
	*reply = resource("#Manager.v1_3_1.Manager", "Manager.Manager", MANAGER_PATH,
	                  GD_REDFISH_MANAGER, "gadgetd");
	json_object_update_new(
	    *reply, json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:o, s:{s:[o]}}",
	                      "ManagerType", "BMC", "Description",
	                      "A USB gadget acting as the BMC of a server that has none",
	                      "FirmwareVersion", GD_VERSION, "UUID", uuid, "Status", "State",
	                      "Enabled", "Health", "OK", "PowerState", "On", "VirtualMedia",
	                      gd_redfish_link(MANAGER_PATH "/VirtualMedia"), "Links",
	                      "ManagerForServers", gd_redfish_link(SYSTEM_PATH)));
	return 200;
}

/* ---- state ---- */

int gd_redfish_open(struct gd_redfish **out, struct gd_app *app, char *err, size_t errlen)
{
	struct gd_redfish *rf = calloc(1, sizeof(*rf));
	if (rf == NULL || (rf->resets = gd_jobs_new("redfish-resets")) == NULL) {
		free(rf);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rf->app = app;
	pthread_mutex_init(&rf->lock, NULL);
	snprintf(rf->sources, sizeof(rf->sources), "%s/redfish-sources.json", app->cfg->state_dir);
	*out = rf;
	return 0;
}

void gd_redfish_close(struct gd_redfish *rf)
{
	if (rf == NULL)
		return;
	gd_jobs_free(rf->resets);
	pthread_mutex_destroy(&rf->lock);
	free(rf);
}
