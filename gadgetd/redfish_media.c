/*
 * redfish_media: the Manager's VirtualMedia slots (Cd: the drive as a CD-ROM; Usb: as a disk;
 * one drive, so one slot at a time) and their InsertMedia/EjectMedia actions. An Image that is
 * a URL is downloaded into the store by a job, the Task of TaskService, then inserted; a URL
 * fetched before whose server still reports the same ETag or Last-Modified is not fetched again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "json.h"
#include "log.h"
#include "redfish.h"
#include "redfish_state.h"
#include "secret.h"

#define LOG_PREFIX "REDFISH: "
#define VMEDIA     "/redfish/v1/Managers/" GD_REDFISH_MANAGER "/VirtualMedia"
#define TASKS      "/redfish/v1/TaskService/Tasks"
/* An insert that finishes within this answers 204 at once; a longer one 202 with its Task. */
#define SYNC_WAIT_MS 5000

struct slot {
	const char *id;
	const char *name;
	enum gd_lun_mode mode;
	const char *types[2];
	const char *ext; /* of an image named after its URL's digest */
};

static const struct slot slots[] = {
    {"Cd", "Virtual CD/DVD", GD_LUN_CDROM, {"CD", "DVD"}, ".iso"},
    {"Usb", "Virtual USB stick", GD_LUN_DISK, {"USBStick", NULL}, ".img"},
};

static const struct slot *find_slot(const char *id)
{
	for (size_t i = 0; i < 2; i++)
		if (strcmp(id, slots[i].id) == 0)
			return &slots[i];
	return NULL;
}

/* The slot of the request's path, or NULL with a 404 in *REPLY / *STATUS. */
static const struct slot *request_slot(struct gd_api_request *req, json_t **reply, unsigned *status)
{
	*status =
	    gd_redfish_check_id(req->params[0], GD_REDFISH_MANAGER, "/redfish/v1/Managers", reply);
	if (*status != 0)
		return NULL;
	const struct slot *s = find_slot(req->params[1]);
	if (s == NULL) {
		*reply = gd_redfish_fail("ResourceMissingAtURI", "no virtual media slot %.32s",
		                         req->params[1]);
		*status = 404;
	}
	return s;
}

/* ---- where images came from: STATE_DIR/redfish-sources.json ---- */

static json_t *load_sources(struct gd_redfish *rf)
{
	json_t *doc = json_load_file(rf->sources, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		doc = json_object();
	}
	return doc;
}

/* The source recorded for image NAME (a new reference), or NULL. */
static json_t *source_of(struct gd_redfish *rf, const char *name)
{
	pthread_mutex_lock(&rf->lock);
	json_t *doc = load_sources(rf);
	pthread_mutex_unlock(&rf->lock);
	json_t *src = json_incref(json_object_get(doc, name));
	json_decref(doc);
	return src;
}

/* Records SRC (taken) as where image NAME came from. */
static void record_source(struct gd_redfish *rf, const char *name, json_t *src)
{
	pthread_mutex_lock(&rf->lock);
	json_t *doc = load_sources(rf);
	json_object_set_new(doc, name, src);
	int rc = gd_json_save(rf->sources, doc, 0600);
	pthread_mutex_unlock(&rf->lock);
	json_decref(doc);
	if (rc < 0)
		GD_LOG_WARN("%s: %s: '%s' will be downloaded again next time", rf->sources,
		            strerror(-rc), name);
}

/* ---- slots ---- */

static json_t *slot_json(struct gd_app *app, const struct slot *s)
{
	char path[128];
	snprintf(path, sizeof(path), VMEDIA "/%s", s->id);
	json_t *media = gd_media_state_json(app->media);
	const char *image = json_string_value(json_object_get(media, "image"));
	const char *mode = json_string_value(json_object_get(media, "mode"));
	bool inserted = image != NULL && mode != NULL &&
	                strcmp(mode, s->mode == GD_LUN_CDROM ? "cdrom" : "disk") == 0;
	json_t *src = inserted ? source_of(app->redfish, image) : NULL;
	const char *url = json_string_value(json_object_get(src, "url"));
	json_t *types = json_pack("[s]", s->types[0]);
	if (s->types[1])
		json_array_append_new(types, json_string(s->types[1]));
	json_t *o = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:b, s:s, s:{s:{s:s}, s:{s:s}}}",
	    "@odata.type", "#VirtualMedia.v1_4_0.VirtualMedia", "@odata.context",
	    "/redfish/v1/$metadata#VirtualMedia.VirtualMedia", "@odata.id", path, "Id", s->id,
	    "Name", s->name, "MediaTypes", types, "Image",
	    inserted ? json_string(url ? url : image) : json_null(), "ImageName",
	    inserted ? json_string(image) : json_null(), "Inserted", inserted, "WriteProtected",
	    inserted ? json_is_true(json_object_get(media, "readonly")) : s->mode == GD_LUN_CDROM,
	    "ConnectedVia", inserted ? (url ? "URI" : "Applet") : "NotConnected", "Actions",
	    "#VirtualMedia.InsertMedia", "target", "", "#VirtualMedia.EjectMedia", "target", "");
	json_t *actions = json_object_get(o, "Actions");
	char target[192];
	snprintf(target, sizeof(target), "%s/Actions/VirtualMedia.InsertMedia", path);
	json_object_set_new(json_object_get(actions, "#VirtualMedia.InsertMedia"), "target",
	                    json_string(target));
	snprintf(target, sizeof(target), "%s/Actions/VirtualMedia.EjectMedia", path);
	json_object_set_new(json_object_get(actions, "#VirtualMedia.EjectMedia"), "target",
	                    json_string(target));
	if (url != NULL)
		json_object_set_new(o, "TransferProtocolType",
		                    json_string(strncmp(url, "https:", 6) == 0 ? "HTTPS" : "HTTP"));
	json_decref(src);
	json_decref(media);
	return o;
}

unsigned gd_redfish_vmedia_list_get(struct gd_api_request *req, json_t **reply)
{
	unsigned status =
	    gd_redfish_check_id(req->params[0], GD_REDFISH_MANAGER, "/redfish/v1/Managers", reply);
	if (status != 0)
		return status;
	json_t *members = json_array();
	for (size_t i = 0; i < 2; i++) {
		char path[128];
		snprintf(path, sizeof(path), VMEDIA "/%s", slots[i].id);
		json_array_append_new(members, gd_redfish_link(path));
	}
	*reply =
	    json_pack("{s:s, s:s, s:s, s:I, s:o}", "@odata.type",
	              "#VirtualMediaCollection.VirtualMediaCollection", "@odata.id", VMEDIA, "Name",
	              "Virtual Media", "Members@odata.count", (json_int_t)2, "Members", members);
	return 200;
}

unsigned gd_redfish_vmedia_get(struct gd_api_request *req, json_t **reply)
{
	unsigned status;
	const struct slot *s = request_slot(req, reply, &status);
	if (s == NULL)
		return status;
	*reply = slot_json(req->app, s);
	return 200;
}

/* ---- inserting ---- */

struct insert_request {
	const char *image;
	const char *protocol;
	const char *user;
	const char *password;
	bool write_protected;
};

static unsigned parse_insert(json_t *body, const struct slot *s, struct insert_request *in,
                             json_t **reply)
{
	bool inserted = true, wp_given = false;
	const char *method = NULL;
	in->write_protected = true;
	const struct gd_json_field fields[] = {
	    {"Image", GD_JSON_STRING, true, 1, 2047, &in->image},
	    {"Inserted", GD_JSON_BOOLEAN, false, 0, 0, &inserted},
	    {"WriteProtected", GD_JSON_BOOLEAN, false, 0, 0, &in->write_protected},
	    {"TransferProtocolType", GD_JSON_STRING, false, 0, 16, &in->protocol},
	    {"TransferMethod", GD_JSON_STRING, false, 0, 16, &method},
	    {"UserName", GD_JSON_STRING, false, 0, 256, &in->user},
	    {"Password", GD_JSON_STRING, false, 0, 256, &in->password},
	};
	char err[256];
	if (gd_json_fields(body, fields, 7, err, sizeof(err)) < 0) {
		*reply = gd_redfish_fail(gd_redfish_field_error(err, true), "%s", err);
		return 400;
	}
	wp_given = json_object_get(body, "WriteProtected") != NULL;
	const char *bad = !inserted ? "Inserted must be true (EjectMedia ejects)"
	                  : in->protocol && strcmp(in->protocol, "HTTP") != 0 &&
	                          strcmp(in->protocol, "HTTPS") != 0
	                      ? "TransferProtocolType must be HTTP or HTTPS"
	                  : method && strcmp(method, "Stream") != 0 && strcmp(method, "Upload") != 0
	                      ? "TransferMethod must be Stream or Upload"
	                  : wp_given && !in->write_protected && s->mode == GD_LUN_CDROM
	                      ? "a CD is write-protected (use the Usb slot for a writable disk)"
	                      : NULL;
	if (bad != NULL) {
		*reply = gd_redfish_fail("ActionParameterNotSupported", "%s", bad);
		return 400;
	}
	return 0;
}

/* The store's name for the image at URL: its last path segment, or a digest of the URL. */
static void name_for_url(const char *url, const struct slot *s, char *name, size_t len)
{
	const char *end = url + strcspn(url, "?#");
	const char *start = end;
	while (start > url && start[-1] != '/')
		start--;
	char err[128];
	snprintf(name, len, "%.*s", (int)(end - start), start);
	if (end > start && gd_media_name_valid(name, err, sizeof(err)))
		return;
	unsigned char digest[GD_SECRET_DIGEST];
	gd_secret_digest(url, digest);
	snprintf(name, len, "redfish-%02x%02x%02x%02x%02x%02x%s", digest[0], digest[1], digest[2],
	         digest[3], digest[4], digest[5], s->ext);
}

static unsigned insert_now(struct gd_api_request *req, const struct slot *s, const char *name,
                           bool readonly, json_t **reply)
{
	bool forced = false, reenumerated = false;
	char err[256];
	int rc = gd_media_insert(req->app->media, name, s->mode, readonly, &forced, &reenumerated,
	                         err, sizeof(err));
	if (rc == -ENOENT) {
		*reply = gd_redfish_fail("ResourceNotFound", "%s", err);
		return 404;
	}
	if (rc < 0) {
		*reply =
		    gd_redfish_fail(rc == -EBUSY ? "ResourceInUse" : "GeneralError", "%s", err);
		return rc == -EBUSY ? 409 : 400;
	}
	GD_LOG_INFO("user '%s' inserted '%s' in %s", req->user, name, s->id);
	*reply = NULL;
	return 204;
}

struct fetch_job {
	struct gd_app *app;
	const struct slot *slot;
	char url[2048];       /* with the credentials, if any */
	char shown_url[2048]; /* as the client gave it */
	char name[GD_MEDIA_NAME_MAX + 1];
	bool readonly;
	struct gd_media_source source;
};

static int run_fetch(struct gd_job *job, void *ctx)
{
	struct fetch_job *f = ctx;
	char err[512];
	gd_job_set_detail(job, json_pack("{s:s, s:s}", "image", f->name, "slot", f->slot->id));
	int rc = gd_media_fetch(f->app->media, job, f->url, f->name, err, sizeof(err));
	if (rc == -ECANCELED)
		return rc;
	if (rc < 0) {
		gd_job_fail(job, "download_failed", "%s", err);
		return -1;
	}
	record_source(f->app->redfish, f->name,
	              json_pack("{s:s, s:s, s:s, s:I}", "url", f->shown_url, "etag", f->source.etag,
	                        "last_modified", f->source.last_modified, "size",
	                        (json_int_t)f->source.size));
	bool forced, reenumerated;
	if (gd_media_insert(f->app->media, f->name, f->slot->mode, f->readonly, &forced,
	                    &reenumerated, err, sizeof(err)) < 0) {
		gd_job_fail(job, "insert_failed", "%s", err);
		return -1;
	}
	GD_LOG_INFO("downloaded '%s' and inserted it in %s", f->name, f->slot->id);
	return 0;
}

/* Whether the copy of URL in the store as NAME is what the server still has. */
static bool cached(struct gd_app *app, const char *url, const char *name,
                   const struct gd_media_source *now)
{
	json_t *src = source_of(app->redfish, name);
	json_t *image = gd_media_image(app->media, name);
	const char *was = json_string_value(json_object_get(src, "url"));
	const char *etag = json_string_value(json_object_get(src, "etag"));
	const char *modified = json_string_value(json_object_get(src, "last_modified"));
	bool same = was != NULL && image != NULL && strcmp(was, url) == 0 &&
	            ((now->etag[0] && etag && strcmp(etag, now->etag) == 0) ||
	             (!now->etag[0] && now->last_modified[0] && modified &&
	              strcmp(modified, now->last_modified) == 0)) &&
	            (now->size == 0 ||
	             (json_int_t)now->size == json_integer_value(json_object_get(image, "size")));
	json_decref(src);
	json_decref(image);
	return same;
}

/* URL with USER and PASSWORD in it, percent-encoded, into OUT. */
static int with_credentials(const char *url, const char *user, const char *password, char *out,
                            size_t len)
{
	CURLU *h = curl_url();
	char *full = NULL;
	int rc = h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	                 curl_url_set(h, CURLUPART_USER, user, CURLU_URLENCODE) == CURLUE_OK &&
	                 (password == NULL || curl_url_set(h, CURLUPART_PASSWORD, password,
	                                                   CURLU_URLENCODE) == CURLUE_OK) &&
	                 curl_url_get(h, CURLUPART_URL, &full, 0) == CURLUE_OK && strlen(full) < len
	             ? 0
	             : -1;
	if (rc == 0)
		snprintf(out, len, "%s", full);
	curl_free(full);
	curl_url_cleanup(h);
	return rc;
}

static json_t *task_json(json_t *job);

/* Waits a moment for job ID: 204 when it is done by then, its error, or 202 with its Task. */
static unsigned answer_fetch(struct gd_api_request *req, uint64_t id, json_t **reply)
{
	json_t *job = gd_jobs_wait_ms(gd_media_jobs(req->app->media), id, SYNC_WAIT_MS);
	const char *state = json_string_value(json_object_get(job, "state"));
	if (state != NULL && strcmp(state, "done") == 0) {
		json_decref(job);
		*reply = NULL;
		return 204;
	}
	if (state != NULL && strcmp(state, "failed") == 0) {
		const char *message =
		    json_string_value(json_object_get(json_object_get(job, "error"), "message"));
		*reply = gd_redfish_fail("GeneralError", "the image was not inserted: %s",
		                         message ? message : "failed");
		json_decref(job);
		return 400;
	}
	gd_api_add_header(req, "Location", TASKS "/%llu", (unsigned long long)id);
	*reply = task_json(job);
	json_decref(job);
	return 202;
}

static unsigned insert_url(struct gd_api_request *req, const struct slot *s,
                           const struct insert_request *in, json_t **reply)
{
	struct fetch_job *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		*reply = gd_redfish_fail("InternalError", "out of memory");
		return 500;
	}
	f->app = req->app;
	f->slot = s;
	f->readonly = in->write_protected;
	snprintf(f->shown_url, sizeof(f->shown_url), "%s", in->image);
	name_for_url(in->image, s, f->name, sizeof(f->name));
	char err[512];
	if (in->user == NULL || !in->user[0]) {
		snprintf(f->url, sizeof(f->url), "%s", in->image);
	} else if (with_credentials(in->image, in->user, in->password, f->url, sizeof(f->url)) <
	           0) {
		free(f);
		*reply = gd_redfish_fail("ActionParameterValueFormatError",
		                         "Image: not a URL that can carry UserName and Password");
		return 400;
	}
	int rc = gd_media_probe(f->url, &f->source, err, sizeof(err));
	if (rc == -EINVAL) {
		free(f);
		*reply = gd_redfish_fail("ActionParameterValueFormatError", "Image: %s", err);
		return 400;
	}
	if (rc == 0 && cached(req->app, in->image, f->name, &f->source)) {
		GD_LOG_INFO("'%s' is current in the store as '%s': not downloaded again", in->image,
		            f->name);
		char name[GD_MEDIA_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%s", f->name);
		free(f);
		return insert_now(req, s, name, in->write_protected, reply);
	}
	/* A failed HEAD is no verdict (some servers refuse HEAD): the download will tell. */
	uint64_t id = gd_jobs_submit(gd_media_jobs(req->app->media), "redfish-insert", req->user, 0,
	                             run_fetch, f, free);
	if (id == 0) {
		*reply = gd_redfish_fail("InternalError", "out of memory");
		return 500;
	}
	GD_LOG_INFO("user '%s': downloading %s as '%s' for %s (task %llu)", req->user, in->image,
	            f->name, s->id, (unsigned long long)id);
	return answer_fetch(req, id, reply);
}

unsigned gd_redfish_vmedia_insert_post(struct gd_api_request *req, json_t **reply)
{
	unsigned status;
	const struct slot *s = request_slot(req, reply, &status);
	if (s == NULL)
		return status;
	struct insert_request in = {0};
	if ((status = parse_insert(req->body, s, &in, reply)) != 0)
		return status;
	json_t *media = gd_media_state_json(req->app->media);
	const char *current = json_string_value(json_object_get(media, "image"));
	if (current != NULL) {
		*reply =
		    gd_redfish_fail("ResourceInUse",
		                    "the drive holds '%s' already: EjectMedia first (Cd and Usb "
		                    "share one drive)",
		                    current);
		json_decref(media);
		return 409;
	}
	json_decref(media);
	if (strstr(in.image, "://") != NULL)
		return insert_url(req, s, &in, reply);
	char err[256];
	if (!gd_media_name_valid(in.image, err, sizeof(err))) {
		*reply =
		    gd_redfish_fail("ActionParameterValueFormatError",
		                    "Image: neither an http(s) URL nor an image name: %s", err);
		return 400;
	}
	return insert_now(req, s, in.image, s->mode == GD_LUN_CDROM || in.write_protected, reply);
}

unsigned gd_redfish_vmedia_eject_post(struct gd_api_request *req, json_t **reply)
{
	unsigned status;
	const struct slot *s = request_slot(req, reply, &status);
	if (s == NULL)
		return status;
	if (req->body != NULL && json_object_size(req->body) > 0) {
		*reply = gd_redfish_fail("ActionParameterNotSupported",
		                         "EjectMedia takes no parameters");
		return 400;
	}
	json_t *media = gd_media_state_json(req->app->media);
	const char *mode = json_string_value(json_object_get(media, "mode"));
	bool here = mode != NULL && strcmp(mode, s->mode == GD_LUN_CDROM ? "cdrom" : "disk") == 0;
	json_decref(media);
	*reply = NULL;
	if (!here)
		return 204; /* nothing in this slot: ejected already */
	bool forced = false;
	char err[256];
	if (gd_media_eject(req->app->media, &forced, err, sizeof(err)) < 0) {
		*reply = gd_redfish_fail("GeneralError", "%s", err);
		return 500;
	}
	GD_LOG_INFO("user '%s' ejected %s%s", req->user, s->id,
	            forced ? " (the host had it locked)" : "");
	return 204;
}

/* ---- tasks: the media jobs ---- */

static json_t *task_json(json_t *job)
{
	static const char *const states[][3] = {{"queued", "New", "OK"},
	                                        {"running", "Running", "OK"},
	                                        {"done", "Completed", "OK"},
	                                        {"failed", "Exception", "Critical"},
	                                        {"cancelled", "Cancelled", "Warning"}};
	const char *state = json_string_value(json_object_get(job, "state"));
	size_t i = 0;
	while (i < 4 && (state == NULL || strcmp(state, states[i][0]) != 0))
		i++;
	json_int_t id = json_integer_value(json_object_get(job, "id"));
	char path[96], name[64];
	snprintf(path, sizeof(path), TASKS "/%lld", (long long)id);
	snprintf(name, sizeof(name), "%lld", (long long)id);
	double progress = json_number_value(json_object_get(job, "progress"));
	const char *message =
	    json_string_value(json_object_get(json_object_get(job, "error"), "message"));
	json_t *messages = json_array();
	if (message != NULL)
		json_array_append_new(messages,
		                      json_pack("{s:s, s:s}", "MessageId", "Base.1.8.GeneralError",
		                                "Message", message));
	json_t *t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "@odata.type",
	                      "#Task.v1_4_3.Task", "@odata.id", path, "Id", name, "Name",
	                      json_string_value(json_object_get(job, "kind")), "TaskState",
	                      states[i][1], "TaskStatus", states[i][2], "PercentComplete",
	                      (json_int_t)(progress * 100), "Messages", messages);
	return t;
}

unsigned gd_redfish_task_service_get(struct gd_api_request *req, json_t **reply)
{
	(void)req;
	*reply = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:{s:s}, s:o}", "@odata.type",
	                   "#TaskService.v1_1_4.TaskService", "@odata.id",
	                   "/redfish/v1/TaskService", "Id", "TaskService", "Name", "Task Service",
	                   "ServiceEnabled", 1, "CompletedTaskOverWritePolicy", "Oldest", "Status",
	                   "State", "Enabled", "Tasks", gd_redfish_link(TASKS));
	return 200;
}

unsigned gd_redfish_tasks_get(struct gd_api_request *req, json_t **reply)
{
	json_t *jobs = gd_jobs_list(gd_media_jobs(req->app->media));
	json_t *members = json_array();
	size_t i;
	json_t *job;
	json_array_foreach(jobs, i, job)
	{
		char path[96];
		snprintf(path, sizeof(path), TASKS "/%lld",
		         (long long)json_integer_value(json_object_get(job, "id")));
		json_array_append_new(members, gd_redfish_link(path));
	}
	json_decref(jobs);
	*reply =
	    json_pack("{s:s, s:s, s:s, s:I, s:o}", "@odata.type", "#TaskCollection.TaskCollection",
	              "@odata.id", TASKS, "Name", "Tasks", "Members@odata.count",
	              (json_int_t)json_array_size(members), "Members", members);
	return 200;
}

/* The media job the path names (a new reference), or NULL with a 404. */
static json_t *request_task(struct gd_api_request *req, uint64_t *id, json_t **reply)
{
	const char *text = req->params[0];
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	json_t *job = NULL;
	if (text[0] >= '1' && text[0] <= '9' && *end == '\0')
		job = gd_jobs_get(gd_media_jobs(req->app->media), v);
	if (job == NULL)
		*reply = gd_redfish_fail("ResourceMissingAtURI", "no task %.32s", text);
	*id = v;
	return job;
}

unsigned gd_redfish_task_get(struct gd_api_request *req, json_t **reply)
{
	uint64_t id;
	json_t *job = request_task(req, &id, reply);
	if (job == NULL)
		return 404;
	*reply = task_json(job);
	json_decref(job);
	return 200;
}

unsigned gd_redfish_task_delete(struct gd_api_request *req, json_t **reply)
{
	uint64_t id;
	json_t *job = request_task(req, &id, reply);
	if (job == NULL)
		return 404;
	json_decref(job);
	job = gd_jobs_cancel(gd_media_jobs(req->app->media), id);
	*reply = task_json(job);
	json_decref(job);
	GD_LOG_INFO("user '%s' cancelled task %llu", req->user, (unsigned long long)id);
	return 200;
}
