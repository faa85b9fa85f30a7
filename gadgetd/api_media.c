/* api_media: GET/PUT/DELETE /api/media: what the server's drive holds, insert and eject. */
#include "api.h"

#include <errno.h>
#include <string.h>

#include "json.h"
#include "log.h"

#define LOG_PREFIX "API: "

static unsigned media_error(int rc, const char *err, json_t **reply)
{
	switch (rc) {
	case -ENOENT: *reply = gd_json_error("no_such_image", "%s", err); return 404;
	case -EINVAL:
	case -EFBIG: *reply = gd_json_error("bad_request", "%s", err); return 400;
	case -ENODEV: *reply = gd_json_error("no_mass_storage", "%s", err); return 409;
	case -EBUSY: *reply = gd_json_error("drive_busy", "%s", err); return 409;
	default: *reply = gd_json_error("media_error", "%s", err); return 500;
	}
}

static json_t *with_forced(json_t *state, bool forced)
{
	json_object_set_new(state, "forced", json_boolean(forced));
	return state;
}

unsigned gd_api_media_get(struct gd_api_request *req, json_t **reply)
{
	*reply = gd_media_state_json(req->app->media);
	return 200;
}

unsigned gd_api_media_put(struct gd_api_request *req, json_t **reply)
{
	const char *image = NULL, *mode = "cdrom";
	bool readonly = true;
	const struct gd_json_field fields[] = {
	    {"image", GD_JSON_STRING, true, 0, 0, &image},
	    {"mode", GD_JSON_STRING, false, 0, 0, &mode},
	    {"readonly", GD_JSON_BOOLEAN, false, 0, 0, &readonly},
	};
	char err[512] = "";
	if (gd_json_fields(req->body, fields, 3, err, sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request",
		                       "%s (expected {\"image\": ..., \"mode\": "
		                       "\"cdrom\"|\"disk\", \"readonly\": true|false})",
		                       err);
		return 400;
	}
	bool cdrom = strcmp(mode, "cdrom") == 0;
	if (!cdrom && strcmp(mode, "disk") != 0) {
		*reply = gd_json_error("bad_request",
		                       "'mode' must be \"cdrom\" or \"disk\", not '%.32s'", mode);
		return 400;
	}
	/* A CD-ROM is read-only; a disk is read-only unless asked otherwise. */
	bool ro = readonly;
	if (cdrom && !ro) {
		*reply = gd_json_error(
		    "bad_request", "'readonly': a CD-ROM is read-only: use mode \"disk\" to write");
		return 400;
	}
	if (!gd_media_name_valid(image, err, sizeof(err))) {
		*reply = gd_json_error("bad_request", "'image': %s", err);
		return 400;
	}
	bool forced = false, reenumerated = false;
	int rc = gd_media_insert(req->app->media, image, cdrom ? GD_LUN_CDROM : GD_LUN_DISK, ro,
	                         &forced, &reenumerated, err, sizeof(err));
	if (rc < 0)
		return media_error(rc, err, reply);
	GD_LOG_INFO("user '%s' inserted '%s' as %s%s%s", req->user, image, mode,
	            ro ? ", read-only" : ", read-write",
	            forced ? " (forced: the host had it locked)" : "");
	*reply = with_forced(gd_media_state_json(req->app->media), forced);
	json_object_set_new(*reply, "reenumerated", json_boolean(reenumerated));
	return 200;
}

unsigned gd_api_media_delete(struct gd_api_request *req, json_t **reply)
{
	char err[512] = "";
	bool forced = false;
	int rc = gd_media_eject(req->app->media, &forced, err, sizeof(err));
	if (rc < 0)
		return media_error(rc, err, reply);
	GD_LOG_INFO("user '%s' ejected the medium%s", req->user,
	            forced ? " (forced: the host had it locked)" : "");
	*reply = with_forced(gd_media_state_json(req->app->media), forced);
	return 200;
}
