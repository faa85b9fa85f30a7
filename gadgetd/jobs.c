/*
 * jobs: long actions run asynchronously, one at a time per queue, in submission order, with
 * state, progress, cancellation and waiting. Finished jobs are kept for a while to be read.
 */
#include "jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define LOG_PREFIX    "JOBS: "
#define KEEP_FINISHED 100

struct gd_job {
	struct gd_job *next; /* submission order */
	uint64_t id;
	char kind[16];
	char user[64];
	enum gd_job_state state;
	atomic_size_t done; /* written by the worker, read by anyone */
	atomic_size_t total;
	atomic_bool cancel;
	double created, started, finished; /* seconds since the epoch */
	char error_code[32];
	char error_message[256];
	gd_job_run_fn run;
	void *ctx;
	gd_job_free_fn free_ctx;
	struct gd_jobs *owner;
	json_t *detail; /* members the job's kind adds to its JSON (under the owner's lock) */
};

struct gd_jobs {
	char name[16];
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pthread_t worker;
	bool stopping;
	struct gd_job *head, *tail;
};

/* Ids are unique across queues, so /api/jobs/{id} needs no queue name. */
static atomic_uint_fast64_t next_id = 1;

static const char *const state_names[] = {"queued", "running", "done", "failed", "cancelled"};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool finished(const struct gd_job *job)
{
	return job->state >= GD_JOB_DONE;
}

static struct gd_job *find(struct gd_jobs *jobs, uint64_t id)
{
	for (struct gd_job *j = jobs->head; j; j = j->next) {
		if (j->id == id)
			return j;
	}
	return NULL;
}

static struct gd_job *next_queued(struct gd_jobs *jobs)
{
	for (struct gd_job *j = jobs->head; j; j = j->next) {
		if (j->state == GD_JOB_QUEUED)
			return j;
	}
	return NULL;
}

/* Drops the oldest finished jobs beyond KEEP_FINISHED. Caller holds the lock. */
static void prune(struct gd_jobs *jobs)
{
	size_t kept = 0;
	for (struct gd_job *j = jobs->head; j; j = j->next)
		kept += finished(j);
	struct gd_job **link = &jobs->head;
	while (*link && kept > KEEP_FINISHED) {
		struct gd_job *j = *link;
		if (!finished(j)) {
			link = &j->next;
			continue;
		}
		*link = j->next;
		kept--;
		json_decref(j->detail);
		free(j);
	}
	jobs->tail = NULL;
	for (struct gd_job *j = jobs->head; j; j = j->next)
		jobs->tail = j;
}

static void run_one(struct gd_jobs *jobs, struct gd_job *job)
{
	job->state = GD_JOB_RUNNING;
	job->started = now_s();
	pthread_cond_broadcast(&jobs->changed);
	pthread_mutex_unlock(&jobs->lock);

	int rc = atomic_load(&job->cancel) ? -ECANCELED : job->run(job, job->ctx);
	if (job->free_ctx)
		job->free_ctx(job->ctx);

	pthread_mutex_lock(&jobs->lock);
	job->ctx = NULL;
	job->finished = now_s();
	job->state = rc == 0 ? GD_JOB_DONE : rc == -ECANCELED ? GD_JOB_CANCELLED : GD_JOB_FAILED;
	if (job->state == GD_JOB_CANCELLED)
		snprintf(job->error_code, sizeof(job->error_code), "cancelled");
	GD_LOG_DEBUG("%s job %llu %s", job->kind, (unsigned long long)job->id,
	             state_names[job->state]);
	prune(jobs);
	pthread_cond_broadcast(&jobs->changed);
}

static void *work(void *arg)
{
	struct gd_jobs *jobs = arg;
	pthread_mutex_lock(&jobs->lock);
	for (;;) {
		struct gd_job *job = next_queued(jobs);
		if (job != NULL)
			run_one(jobs, job);
		else if (jobs->stopping)
			break;
		else
			pthread_cond_wait(&jobs->changed, &jobs->lock);
	}
	pthread_mutex_unlock(&jobs->lock);
	return NULL;
}

struct gd_jobs *gd_jobs_new(const char *name)
{
	struct gd_jobs *jobs = calloc(1, sizeof(*jobs));
	if (jobs == NULL)
		return NULL;
	snprintf(jobs->name, sizeof(jobs->name), "%s", name);
	pthread_mutex_init(&jobs->lock, NULL);
	pthread_cond_init(&jobs->changed, NULL);
	if (pthread_create(&jobs->worker, NULL, work, jobs) != 0) {
		pthread_cond_destroy(&jobs->changed);
		pthread_mutex_destroy(&jobs->lock);
		free(jobs);
		return NULL;
	}
	return jobs;
}

void gd_jobs_free(struct gd_jobs *jobs)
{
	if (jobs == NULL)
		return;
	pthread_mutex_lock(&jobs->lock);
	jobs->stopping = true;
	for (struct gd_job *j = jobs->head; j; j = j->next)
		atomic_store(&j->cancel, true);
	pthread_cond_broadcast(&jobs->changed);
	pthread_mutex_unlock(&jobs->lock);
	pthread_join(jobs->worker, NULL);
	while (jobs->head) {
		struct gd_job *j = jobs->head;
		jobs->head = j->next;
		if (j->ctx && j->free_ctx)
			j->free_ctx(j->ctx);
		json_decref(j->detail);
		free(j);
	}
	pthread_cond_destroy(&jobs->changed);
	pthread_mutex_destroy(&jobs->lock);
	free(jobs);
}

uint64_t gd_jobs_submit(struct gd_jobs *jobs, const char *kind, const char *user, size_t total,
                        gd_job_run_fn run, void *ctx, gd_job_free_fn free_ctx)
{
	struct gd_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		if (free_ctx)
			free_ctx(ctx);
		return 0;
	}
	snprintf(job->kind, sizeof(job->kind), "%s", kind);
	snprintf(job->user, sizeof(job->user), "%s", user);
	atomic_store(&job->total, total);
	job->run = run;
	job->ctx = ctx;
	job->free_ctx = free_ctx;
	job->owner = jobs;
	job->created = now_s();
	pthread_mutex_lock(&jobs->lock);
	job->id = atomic_fetch_add(&next_id, 1);
	if (jobs->tail)
		jobs->tail->next = job;
	else
		jobs->head = job;
	jobs->tail = job;
	uint64_t id = job->id;
	pthread_cond_broadcast(&jobs->changed);
	pthread_mutex_unlock(&jobs->lock);
	return id;
}

static json_t *job_json(const struct gd_job *job)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:f}", "id", (json_int_t)job->id,
	                      "kind", job->kind, "state", state_names[job->state], "user",
	                      job->user, "done", (json_int_t)atomic_load(&job->done), "total",
	                      (json_int_t)atomic_load(&job->total), "created", job->created);
	size_t total = atomic_load(&job->total);
	double progress = total ? (double)atomic_load(&job->done) / (double)total : 0.0;
	json_object_set_new(o, "progress", json_real(job->state == GD_JOB_DONE ? 1.0 : progress));
	if (job->started > 0) {
		double end = finished(job) ? job->finished : now_s();
		json_object_set_new(o, "duration_ms",
		                    json_integer((json_int_t)((end - job->started) * 1000)));
	}
	/* The worker writes the error while running: read it only once the job has finished. */
	if (finished(job) && job->error_code[0])
		json_object_set_new(
		    o, "error",
		    json_pack("{s:s, s:s}", "code", job->error_code, "message",
		              job->error_message[0] ? job->error_message : "cancelled by request"));
	else
		json_object_set_new(o, "error", json_null());
	if (job->detail != NULL)
		json_object_update_missing(o, job->detail);
	return o;
}

json_t *gd_jobs_get(struct gd_jobs *jobs, uint64_t id)
{
	pthread_mutex_lock(&jobs->lock);
	struct gd_job *job = find(jobs, id);
	json_t *o = job ? job_json(job) : NULL;
	pthread_mutex_unlock(&jobs->lock);
	return o;
}

json_t *gd_jobs_cancel(struct gd_jobs *jobs, uint64_t id)
{
	pthread_mutex_lock(&jobs->lock);
	struct gd_job *job = find(jobs, id);
	if (job != NULL && !finished(job)) {
		atomic_store(&job->cancel, true);
		/* A queued job never starts; a running one stops at its next step. */
		while (!finished(job) && job->state == GD_JOB_RUNNING)
			pthread_cond_wait(&jobs->changed, &jobs->lock);
		if (job->state == GD_JOB_QUEUED) {
			job->state = GD_JOB_CANCELLED;
			job->finished = now_s();
			snprintf(job->error_code, sizeof(job->error_code), "cancelled");
			pthread_cond_broadcast(&jobs->changed);
		}
	}
	json_t *o = job ? job_json(job) : NULL;
	pthread_mutex_unlock(&jobs->lock);
	return o;
}

json_t *gd_jobs_wait(struct gd_jobs *jobs, uint64_t id)
{
	pthread_mutex_lock(&jobs->lock);
	struct gd_job *job = find(jobs, id);
	while (job != NULL && !finished(job)) {
		pthread_cond_wait(&jobs->changed, &jobs->lock);
		job = find(jobs, id); /* pruning may have dropped it */
	}
	json_t *o = job ? job_json(job) : NULL;
	pthread_mutex_unlock(&jobs->lock);
	return o;
}

json_t *gd_jobs_wait_ms(struct gd_jobs *jobs, uint64_t id, unsigned timeout_ms)
{
	struct timespec until; /* the condition variable's clock */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&jobs->lock);
	struct gd_job *job = find(jobs, id);
	while (job != NULL && !finished(job) &&
	       pthread_cond_timedwait(&jobs->changed, &jobs->lock, &until) != ETIMEDOUT)
		job = find(jobs, id);
	json_t *o = job ? job_json(job) : NULL;
	pthread_mutex_unlock(&jobs->lock);
	return o;
}

json_t *gd_jobs_list(struct gd_jobs *jobs)
{
	json_t *list = json_array();
	pthread_mutex_lock(&jobs->lock);
	for (struct gd_job *j = jobs->head; j; j = j->next)
		json_array_insert_new(list, 0, job_json(j));
	pthread_mutex_unlock(&jobs->lock);
	return list;
}

size_t gd_jobs_pending(struct gd_jobs *jobs)
{
	size_t n = 0;
	pthread_mutex_lock(&jobs->lock);
	for (struct gd_job *j = jobs->head; j; j = j->next)
		n += !finished(j);
	pthread_mutex_unlock(&jobs->lock);
	return n;
}

void gd_job_progress(struct gd_job *job, size_t done)
{
	atomic_store(&job->done, done);
}

void gd_job_total(struct gd_job *job, size_t total)
{
	atomic_store(&job->total, total);
}

void gd_job_set_detail(struct gd_job *job, json_t *detail)
{
	pthread_mutex_lock(&job->owner->lock);
	json_decref(job->detail);
	job->detail = detail;
	pthread_mutex_unlock(&job->owner->lock);
}

const atomic_bool *gd_job_cancelled(struct gd_job *job)
{
	return &job->cancel;
}

void gd_job_fail(struct gd_job *job, const char *code, const char *fmt, ...)
{
	snprintf(job->error_code, sizeof(job->error_code), "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(job->error_message, sizeof(job->error_message), fmt, ap);
	va_end(ap);
}
