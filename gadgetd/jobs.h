/*
 * jobs: long actions run asynchronously, one at a time per queue, in submission order, with
 * state, progress, cancellation and waiting. Finished jobs are kept for a while to be read.
 */
#ifndef GD_JOBS_H
#define GD_JOBS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum gd_job_state { GD_JOB_QUEUED, GD_JOB_RUNNING, GD_JOB_DONE, GD_JOB_FAILED, GD_JOB_CANCELLED };

struct gd_jobs;
struct gd_job;

/* Runs the job's work; returns 0, or -1 after gd_job_fail(), or -ECANCELED. */
typedef int (*gd_job_run_fn)(struct gd_job *job, void *ctx);
typedef void (*gd_job_free_fn)(void *ctx);

/* A queue with its worker thread. Returns NULL when out of memory or threads. */
struct gd_jobs *gd_jobs_new(const char *name);
/* Cancels what is queued or running, waits for the worker, frees everything. */
void gd_jobs_free(struct gd_jobs *jobs);

/*
 * Queues a job of KIND for USER with TOTAL units of work; the queue owns CTX and frees it
 * with FREE_CTX once the job has run. Returns the job's id, or 0 when out of memory.
 */
uint64_t gd_jobs_submit(struct gd_jobs *jobs, const char *kind, const char *user, size_t total,
                        gd_job_run_fn run, void *ctx, gd_job_free_fn free_ctx);

/* The job as the API shows it (a new reference), or NULL if no such job is kept. */
json_t *gd_jobs_get(struct gd_jobs *jobs, uint64_t id);
/* Requests cancellation; returns the job's JSON (NULL if unknown). */
json_t *gd_jobs_cancel(struct gd_jobs *jobs, uint64_t id);
/* Waits until the job has finished; returns its JSON (NULL if unknown). */
json_t *gd_jobs_wait(struct gd_jobs *jobs, uint64_t id);
/* Waits until the job has finished or TIMEOUT_MS passed; returns its JSON (NULL if unknown). */
json_t *gd_jobs_wait_ms(struct gd_jobs *jobs, uint64_t id, unsigned timeout_ms);
/* The jobs kept, newest first. */
json_t *gd_jobs_list(struct gd_jobs *jobs);
/* Jobs queued or running. */
size_t gd_jobs_pending(struct gd_jobs *jobs);

/* For a job's RUN function. */
void gd_job_progress(struct gd_job *job, size_t done);
/* For work whose size is learnt on the way (a download's Content-Length). */
void gd_job_total(struct gd_job *job, size_t total);
/* Members the job adds to its JSON (a script's steps): takes DETAIL, an object, replacing the
 * last one. Its keys never replace the job's own (id, state, ...). */
void gd_job_set_detail(struct gd_job *job, json_t *detail);
const atomic_bool *gd_job_cancelled(struct gd_job *job);
void gd_job_fail(struct gd_job *job, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
