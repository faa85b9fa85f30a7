/* api_images: the image store: list, read, stream uploads (raw or multipart), URL downloads. */
#include "api.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "json.h"
#include "log.h"

#define LOG_PREFIX "API: "
#define JSON_MAX   (64 * 1024)

static unsigned no_image(const char *name, json_t **reply)
{
	*reply = gd_json_error("no_such_image", "no image named '%.128s'", name);
	return 404;
}

/* An upload error as status and reply. */
static unsigned upload_error(int rc, const char *err, json_t **reply)
{
	switch (rc) {
	case -EINVAL: *reply = gd_json_error("bad_request", "%s", err); return 400;
	case -EBADMSG: *reply = gd_json_error("checksum_mismatch", "%s", err); return 400;
	case -EBUSY: *reply = gd_json_error("image_inserted", "%s", err); return 409;
	case -ENOSPC:
		*reply = gd_json_error("insufficient_storage", "%s",
		                       err[0] ? err : "the image store is full: nothing was kept");
		return 507;
	default: *reply = gd_json_error("storage_error", "%s", err); return 500;
	}
}

/* A name no image can have is refused as such (400), not looked for. */
static unsigned bad_name(const char *name, json_t **reply)
{
	char err[128];
	if (gd_media_name_valid(name, err, sizeof(err)))
		return 0;
	*reply = gd_json_error("bad_request", "%s", err);
	return 400;
}

unsigned gd_api_images_get(struct gd_api_request *req, json_t **reply)
{
	*reply = json_pack("{s:o}", "images", gd_media_list(req->app->media));
	return 200;
}

unsigned gd_api_image_get(struct gd_api_request *req, json_t **reply)
{
	unsigned status = bad_name(req->params[0], reply);
	if (status != 0)
		return status;
	*reply = gd_media_image(req->app->media, req->params[0]);
	return *reply ? 200 : no_image(req->params[0], reply);
}

unsigned gd_api_image_content_get(struct gd_api_request *req, json_t **reply)
{
	unsigned status = bad_name(req->params[0], reply);
	if (status != 0)
		return status;
	int fd = gd_media_open_image(req->app->media, req->params[0], &req->reply_size);
	if (fd < 0)
		return no_image(req->params[0], reply);
	req->reply_fd = fd;
	*reply = NULL;
	return 200;
}

unsigned gd_api_image_delete(struct gd_api_request *req, json_t **reply)
{
	char err[256];
	int rc = gd_media_delete(req->app->media, req->params[0], err, sizeof(err));
	if (rc == -ENOENT)
		return no_image(req->params[0], reply);
	if (rc < 0)
		return upload_error(rc, err, reply);
	GD_LOG_INFO("user '%s' deleted image '%s'", req->user, req->params[0]);
	*reply = json_pack("{s:s, s:b}", "name", req->params[0], "deleted", 1);
	return 200;
}

/* ---- PUT /api/images/{name}: the body is the image ---------------------------------------- */

struct put {
	struct gd_upload *up;
	uint64_t received;
	char user[GD_API_USER_MAX];
};

static unsigned put_begin(struct gd_api_request *req, void **ctx, json_t **reply)
{
	const char *length = gd_api_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t expected = length ? strtoull(length, NULL, 10) : 0;
	struct put *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		*reply = gd_json_error("internal", "out of memory");
		return 500;
	}
	char err[256] = "";
	int rc = gd_media_upload_begin(req->app->media, req->params[0], expected,
	                               gd_api_header(req, "X-Checksum-Sha256"), &p->up, err,
	                               sizeof(err));
	if (rc < 0) {
		free(p);
		return upload_error(rc, err, reply);
	}
	snprintf(p->user, sizeof(p->user), "%s", req->user);
	*ctx = p;
	return 0;
}

static unsigned put_data(void *ctx, const char *data, size_t len, json_t **reply)
{
	struct put *p = ctx;
	int rc = gd_media_upload_write(p->up, data, len);
	p->received += len;
	return rc == 0 ? 0 : upload_error(rc, "", reply);
}

static void put_abort(void *ctx)
{
	struct put *p = ctx;
	GD_LOG_WARN("upload of '%s' abandoned after %llu bytes: nothing kept",
	            gd_media_upload_name(p->up), (unsigned long long)p->received);
	gd_media_upload_abort(p->up);
	free(p);
}

static unsigned finish_upload(struct gd_media *media, struct gd_upload *up, const char *user,
                              json_t **reply)
{
	char name[GD_MEDIA_NAME_MAX + 1], err[256] = "";
	snprintf(name, sizeof(name), "%s", gd_media_upload_name(up));
	int rc = gd_media_upload_finish(up, err, sizeof(err));
	if (rc < 0)
		return upload_error(rc, err, reply);
	GD_LOG_INFO("user '%s' uploaded image '%s'", user, name);
	*reply = gd_media_image(media, name);
	return 201;
}

static unsigned put_end(struct gd_api_request *req, void *ctx, json_t **reply)
{
	struct put *p = ctx;
	unsigned status;
	if (p->received == 0) {
		gd_media_upload_abort(p->up);
		*reply = gd_json_error("bad_request", "empty upload: the body is the image");
		status = 400;
	} else {
		status = finish_upload(req->app->media, p->up, p->user, reply);
	}
	free(p);
	return status;
}

const struct gd_api_stream gd_api_image_put = {put_begin, put_data, put_end, put_abort};

/* ---- POST /api/images: a browser's multipart upload, or {"url": ..., "name": ...} --------- */

struct post {
	struct gd_media *media;
	struct MHD_PostProcessor *pp; /* multipart; NULL for a JSON body */
	struct gd_upload *up;
	char name_field[GD_MEDIA_NAME_MAX + 1];
	uint64_t name_len; /* the "name" field's bytes, kept or not */
	bool name_nul;     /* it had a NUL byte, which would cut it short */
	uint64_t file_bytes;
	unsigned status; /* an error met inside the post processor */
	json_t *reply;
	char user[GD_API_USER_MAX];
	size_t len;
	char json[JSON_MAX];
};

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	struct post *p = cls;
	if (filename == NULL) {
		if (strcmp(key, "name") != 0)
			return MHD_YES;
		if (p->up != NULL) {
			p->status = 400;
			p->reply = gd_json_error("bad_request",
			                         "the 'name' field must come before the file part");
			return MHD_NO;
		}
		if (off + size < sizeof(p->name_field)) {
			memcpy(p->name_field + off, data, size);
			p->name_field[off + size] = '\0';
		}
		p->name_len = off + size;
		p->name_nul |= memchr(data, '\0', size) != NULL;
		return MHD_YES;
	}
	char err[256] = "";
	int rc = 0;
	if (p->up == NULL) {
		const char *name = p->name_field[0] ? p->name_field : filename;
		if (p->name_len > GD_MEDIA_NAME_MAX || p->name_nul) {
			snprintf(err, sizeof(err), "'name' field: image name %s",
			         p->name_nul ? "must not contain control characters"
			                     : "must be 1 to 128 bytes long");
			rc = -EINVAL;
		} else {
			rc = gd_media_upload_begin(p->media, name, 0, NULL, &p->up, err,
			                           sizeof(err));
		}
	} else if (off == 0 && p->file_bytes > 0) {
		snprintf(err, sizeof(err),
		         "the form has more than one file part: one image at a time");
		rc = -EINVAL;
	}
	if (rc == 0 && size > 0)
		rc = gd_media_upload_write(p->up, data, size);
	if (rc < 0) {
		p->status = upload_error(rc, err, &p->reply);
		return MHD_NO;
	}
	p->file_bytes += size;
	return MHD_YES;
}

static unsigned post_begin(struct gd_api_request *req, void **ctx, json_t **reply)
{
	struct post *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		*reply = gd_json_error("internal", "out of memory");
		return 500;
	}
	p->media = req->app->media;
	snprintf(p->user, sizeof(p->user), "%s", req->user);
	const char *type = gd_api_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (type != NULL && strncasecmp(type, "multipart/form-data", 19) == 0) {
		p->pp = MHD_create_post_processor(req->conn, (size_t)64 * 1024, on_part, p);
		if (p->pp == NULL) {
			free(p);
			*reply = gd_json_error("bad_request", "malformed multipart/form-data");
			return 400;
		}
	}
	*ctx = p;
	return 0;
}

static unsigned post_data(void *ctx, const char *data, size_t len, json_t **reply)
{
	struct post *p = ctx;
	if (p->pp == NULL) {
		if (len > sizeof(p->json) - p->len) {
			*reply = gd_json_error("body_too_large",
			                       "a JSON body is at most %d bytes;"
			                       " upload images with PUT /api/images/{name}",
			                       JSON_MAX);
			return 413;
		}
		memcpy(p->json + p->len, data, len);
		p->len += len;
		return 0;
	}
	if (MHD_post_process(p->pp, data, len) == MHD_YES)
		return 0;
	*reply =
	    p->reply ? p->reply : gd_json_error("bad_request", "malformed multipart/form-data");
	p->reply = NULL;
	return p->status ? p->status : 400;
}

static void post_abort(void *ctx)
{
	struct post *p = ctx;
	if (p->pp)
		MHD_destroy_post_processor(p->pp);
	gd_media_upload_abort(p->up);
	json_decref(p->reply);
	free(p);
}

static unsigned start_download(struct gd_api_request *req, struct post *p, json_t **reply)
{
	char err[512];
	uint64_t wait = 0;
	if (gd_api_query_uint(req, "wait", 1, &wait) < 0) {
		*reply = gd_json_error("bad_request", "'wait' must be 0 or 1");
		return 400;
	}
	json_t *body = gd_json_parse_object(p->json, p->len, err, sizeof(err));
	const char *url = NULL, *name = NULL;
	const struct gd_json_field fields[] = {
	    {"url", GD_JSON_STRING, true, 0, 0, &url},
	    {"name", GD_JSON_STRING, true, 0, 0, &name},
	};
	if (body == NULL || gd_json_fields(body, fields, 2, err, sizeof(err)) < 0) {
		*reply = gd_json_error("bad_request", "%s (expected {\"url\": ..., \"name\": ...})",
		                       err);
		json_decref(body);
		return 400;
	}
	if (!gd_media_name_valid(name, err, sizeof(err))) {
		*reply = gd_json_error("bad_request", "'name': %s", err);
		json_decref(body);
		return 400;
	}
	uint64_t id = gd_media_download(req->app->media, url, name, req->user, err, sizeof(err));
	json_decref(body);
	if (id == 0) {
		*reply = gd_json_error("bad_request", "%s", err);
		return 400;
	}
	GD_LOG_INFO("user '%s' queued a download: job %llu", req->user, (unsigned long long)id);
	if (wait == 0) {
		*reply = gd_jobs_get(gd_media_jobs(req->app->media), id);
		return 202;
	}
	*reply = gd_jobs_wait(gd_media_jobs(req->app->media), id);
	const char *state = json_string_value(json_object_get(*reply, "state"));
	return state && strcmp(state, "done") == 0        ? 200
	       : state && strcmp(state, "cancelled") == 0 ? 409
	                                                  : 502;
}

static unsigned post_end(struct gd_api_request *req, void *ctx, json_t **reply)
{
	struct post *p = ctx;
	unsigned status;
	if (p->pp == NULL) {
		status = start_download(req, p, reply);
	} else if (p->up == NULL) {
		*reply = gd_json_error("bad_request", "the form has no file part");
		status = 400;
	} else {
		/* A form cut short (no closing boundary) is an upload that did not finish. */
		bool complete = MHD_destroy_post_processor(p->pp) == MHD_YES;
		p->pp = NULL;
		if (complete) {
			status = finish_upload(p->media, p->up, p->user, reply);
			p->up = NULL;
		} else {
			*reply = gd_json_error("bad_request", "the form ended before its closing "
			                                      "boundary: nothing was kept");
			status = 400;
		}
	}
	post_abort(p);
	return status;
}

const struct gd_api_stream gd_api_images_post = {post_begin, post_data, post_end, post_abort};
