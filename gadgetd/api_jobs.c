/* api_jobs: GET /api/jobs, GET and DELETE /api/jobs/{id}: follow and cancel long actions. */
#include "api.h"

#include <errno.h>
#include <stdlib.h>

#include "json.h"
#include "log.h"

#define LOG_PREFIX "API: "

/* Every queue whose jobs the API shows. */
static struct gd_jobs *queue(struct gd_api_request *req)
{
	return req->app->keyboard ? gd_keyboard_jobs(req->app->keyboard) : NULL;
}

static int parse_id(const char *text, uint64_t *id)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || text[0] < '1' || text[0] > '9')
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
	struct gd_jobs *jobs = queue(req);
	*reply = json_pack("{s:o}", "jobs", jobs ? gd_jobs_list(jobs) : json_array());
	return 200;
}

unsigned gd_api_job_get(struct gd_api_request *req, json_t **reply)
{
	uint64_t id;
	struct gd_jobs *jobs = queue(req);
	if (jobs == NULL || parse_id(req->params[0], &id) < 0 ||
	    (*reply = gd_jobs_get(jobs, id)) == NULL)
		return no_job(req, reply);
	return 200;
}

unsigned gd_api_job_delete(struct gd_api_request *req, json_t **reply)
{
	uint64_t id;
	struct gd_jobs *jobs = queue(req);
	if (jobs == NULL || parse_id(req->params[0], &id) < 0 ||
	    (*reply = gd_jobs_cancel(jobs, id)) == NULL)
		return no_job(req, reply);
	GD_LOG_INFO("user '%s' cancelled job %llu", req->user, (unsigned long long)id);
	return 200;
}
