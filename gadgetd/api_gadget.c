/* api_gadget: GET/POST /api/gadget, the USB gadget and plugging it in or out of the host. */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"

#define LOG_PREFIX "API: "

json_t *gd_api_gadget_json(struct gd_gadget *gadget)
{
	struct gd_gadget_info info;
	gd_gadget_get_info(gadget, &info);
	json_t *functions = json_array();
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{GD_FUNC_KEYBOARD, "keyboard"},
	             {GD_FUNC_MASS_STORAGE, "mass_storage"},
	             {GD_FUNC_ACM, "acm"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (info.functions & names[i].bit)
			json_array_append_new(functions, json_string(names[i].name));
	}
	char vid[8], pid[8];
	snprintf(vid, sizeof(vid), "%04x", info.vendor_id);
	snprintf(pid, sizeof(pid), "%04x", info.product_id);
	return json_pack("{s:s, s:s, s:b, s:s, s:b, s:b, s:o, s:s, s:s}", "name", info.name, "udc",
	                 info.udc, "connected", info.bound, "host_state", info.host_state,
	                 "configured", info.bound && strcmp(info.host_state, "configured") == 0,
	                 "reused", info.reused, "functions", functions, "vendor_id", vid,
	                 "product_id", pid);
}

unsigned gd_api_gadget_get(struct gd_api_request *req, json_t **reply)
{
	*reply = gd_api_gadget_json(req->app->gadget);
	return 200;
}

unsigned gd_api_gadget_post(struct gd_api_request *req, json_t **reply)
{
	bool connected = false;
	const struct gd_json_field fields[] = {
	    {"connected", GD_JSON_BOOLEAN, true, 0, 0, &connected},
	};
	char err[256];
	if (gd_json_fields(req->body, fields, 1, err, sizeof(err)) < 0) {
		*reply =
		    gd_json_error("bad_request", "%s (expected {\"connected\": true|false})", err);
		return 400;
	}
	if (gd_gadget_set_connected(req->app->gadget, connected, err, sizeof(err)) < 0) {
		GD_LOG_ERROR("%s", err);
		*reply = gd_json_error("gadget_error", "%s", err);
		return 500;
	}
	GD_LOG_INFO("user '%s' %s the gadget", req->user, connected ? "connected" : "disconnected");
	*reply = gd_api_gadget_json(req->app->gadget);
	return 200;
}
