/* api_jobs: GET /api/jobs, GET and DELETE /api/jobs/{id}: follow and cancel long actions. */
#include "api.h"

#include <errno.h>
#include <stdlib.h>

#include "json.h"
#include "log.h"

#define LOG_PREFIX "API: "

/* Every queue whose jobs the API shows; returns how many (ids are unique across them). */
static size_t queues(struct gd_api_request *req, struct gd_jobs *out[3])
{
	size_t n = 0;
	if (req->app->script_jobs)
		out[n++] = req->app->script_jobs;
	if (req->app->keyboard)
		out[n++] = gd_keyboard_jobs(req->app->keyboard);
	if (req->app->media)
		out[n++] = gd_media_jobs(req->app->media);
	return n;
}

/* A job id: decimal digits only (no sign, space or exponent), within 64 bits. */
static int parse_id(const char *text, uint64_t *id)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || text[0] < '0' || text[0] > '9')
		return -1;
	*id = v;
	return 0;
}

static unsigned no_job(struct gd_api_request *req, json_t **reply)
{
	*reply = gd_json_error("no_such_job", "no job %.32s (finished jobs are kept for a while)",
	                       req->params[0]);
	return 404;
}

unsigned gd_api_jobs_get(struct gd_api_request *req, json_t **reply)
{
	struct gd_jobs *q[3];
	size_t n = queues(req, q);
	json_t *all = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *list = gd_jobs_list(q[i]);
		json_array_extend(all, list);
		json_decref(list);
	}
	*reply = json_pack("{s:o}", "jobs", all);
	return 200;
}

/* Applies FN (get or cancel) to the job named in the path, in whichever queue has it. */
static unsigned on_job(struct gd_api_request *req, json_t *(*fn)(struct gd_jobs *, uint64_t),
                       json_t **reply)
{
	uint64_t id;
	struct gd_jobs *q[3];
	size_t n = queues(req, q);
	*reply = NULL;
	if (parse_id(req->params[0], &id) < 0) {
		*reply = gd_json_error("bad_request",
		                       "a job id is a decimal number below 2^64, not '%.32s'",
		                       req->params[0]);
		return 400;
	}
	for (size_t i = 0; i < n && *reply == NULL; i++)
		*reply = fn(q[i], id);
	return *reply ? 200 : no_job(req, reply);
}

unsigned gd_api_job_get(struct gd_api_request *req, json_t **reply)
{
	return on_job(req, gd_jobs_get, reply);
}

unsigned gd_api_job_delete(struct gd_api_request *req, json_t **reply)
{
	unsigned status = on_job(req, gd_jobs_cancel, reply);
	if (status == 200)
		GD_LOG_INFO("user '%s' cancelled job %s", req->user, req->params[0]);
	return status;
}
