/*
 * script_run: runs a validated, expanded reinstall script as a job, one at a time: each step
 * with its timeout and retries, its timing in the job, and on failure or cancellation every
 * key released and power and media left as the script's on_failure says.
 */
#ifndef GD_SCRIPT_RUN_H
#define GD_SCRIPT_RUN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "jobs.h"

struct gd_media;
struct gd_power;
struct gd_keyboard;
struct gd_console;

/* What a script drives; any but MEDIA may be NULL (a step that needs it then fails). */
struct gd_script_deps {
	struct gd_media *media;
	struct gd_power *power;
	struct gd_keyboard *keyboard;
	struct gd_console *console;
	const char *seed_lun_dir; /* the answer-file disk's LUN; NULL or empty: none */
	const char *seed_path;    /* where its image is built */
};

/*
 * Queues a run of NAME for USER on JOBS: DOC (for its on_failure) with STEPS, the steps as
 * gd_script_expand() gave them (both referenced, not taken). Returns the job id, 0 when out of
 * memory. The job's JSON gains "script", "steps" ([{"index", "kind", "name", "state",
 * "attempts", "duration_ms", "message"}]), and on failure "failed_step" and "console_tail".
 */
uint64_t gd_script_run(struct gd_jobs *jobs, const struct gd_script_deps *deps, const char *name,
                       json_t *doc, json_t *steps, const char *user);

#endif
