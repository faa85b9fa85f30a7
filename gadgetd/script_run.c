/*
 * script_run: runs a reinstall script as a job: each step with its timeout and retries, its
 * timing in the job, and on failure or cancellation every key released and power and media
 * left as the script's on_failure says.
 */
#include "script_run.h"

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "json.h"
#include "keyboard.h"
#include "log.h"
#include "macro.h"
#include "media.h"
#include "power.h"
#include "script.h"
#include "seed.h"

#define LOG_PREFIX "SCRIPT: "
#define SLICE_MS   50
#define TAIL_BYTES 2048
#define MS_PER_S   1000LL

struct run {
	struct gd_script_deps deps;
	char name[72];
	char user[64];
	json_t *doc, *steps;
	json_t *detail; /* what the job shows; published as a copy after each change */
	struct gd_job *job;
	uint64_t key_job;      /* the keyboard job of the current step, 0 if none */
	uint64_t console_mark; /* console output offset when the step before began */
	char code[32];
	char why[320];
	char seed_lun_dir[4224];
	char seed_path[4224];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * MS_PER_S + ts.tv_nsec / 1000000;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int failed(struct run *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failed(struct run *r, const char *code, const char *fmt, ...)
{
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -1;
}

static bool cancelled(struct run *r)
{
	return atomic_load(gd_job_cancelled(r->job));
}

static void publish(struct run *r)
{
	gd_job_set_detail(r->job, json_deep_copy(r->detail));
}

/* Sleeps MS, in slices, unless the job is cancelled: 0 or -ECANCELED. */
static int pause_ms(struct run *r, int64_t ms)
{
	int64_t end = now_ms() + ms;
	while (now_ms() < end) {
		if (cancelled(r))
			return -ECANCELED;
		int64_t left = end - now_ms();
		struct timespec ts = {0, (left < SLICE_MS ? left : SLICE_MS) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return cancelled(r) ? -ECANCELED : 0;
}

static const char *str(json_t *step, const char *key)
{
	return json_string_value(json_object_get(step, key));
}

/* ---- keys and text ------------------------------------------------------------------------ */

/* Waits for keyboard job ID until TIMEOUT_MS; cancels it (releasing every key) on the way out
 * unless it finished. */
static int wait_keys(struct run *r, uint64_t id, int64_t timeout_ms)
{
	struct gd_jobs *jobs = gd_keyboard_jobs(r->deps.keyboard);
	int64_t end = now_ms() + timeout_ms;
	for (;;) {
		json_t *job = gd_jobs_get(jobs, id);
		const char *state = str(job, "state");
		json_t *error = json_object_get(job, "error");
		int rc = 1;
		if (state == NULL || strcmp(state, "done") == 0)
			rc = 0;
		else if (strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0)
			rc = failed(r, str(error, "code") ? str(error, "code") : "keys_failed",
			            "%s", str(error, "message") ? str(error, "message") : state);
		json_decref(job);
		if (rc <= 0)
			return rc;
		if (cancelled(r) || now_ms() >= end) {
			json_decref(gd_jobs_cancel(jobs, id));
			return cancelled(r) ? -ECANCELED
			                    : failed(r, "step_timeout", "the keys took over %llds",
			                             (long long)(timeout_ms / MS_PER_S));
		}
		struct timespec ts = {0, SLICE_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static int step_keys(struct run *r, json_t *step, const char *kind, int64_t timeout_ms)
{
	if (r->deps.keyboard == NULL)
		return failed(r, "no_keyboard", "the gadget has no keyboard");
	const struct gd_layout *layout = gd_keyboard_layout(r->deps.keyboard, str(step, "layout"));
	if (layout == NULL)
		return failed(r, "bad_layout", "no layout '%s'", str(step, "layout"));
	struct gd_program prog;
	gd_program_init(&prog);
	const char *text = str(step, kind);
	int rc;
	if (strcmp(kind, "type") == 0) {
		rc = gd_program_add_text(&prog, text, strlen(text), layout, r->why, sizeof(r->why));
	} else {
		struct gd_macro *macro = NULL;
		rc = gd_macro_parse(text, strlen(text), &macro, r->why, sizeof(r->why));
		if (rc == 0)
			rc = gd_macro_compile(macro, layout, &prog, r->why, sizeof(r->why));
		gd_macro_free(macro);
	}
	if (rc < 0) {
		gd_program_free(&prog);
		snprintf(r->code, sizeof(r->code), "bad_keys");
		return -1;
	}
	r->key_job = gd_keyboard_submit(r->deps.keyboard, r->user, &prog, -1);
	if (r->key_job == 0)
		return failed(r, "internal", "out of memory");
	return wait_keys(r, r->key_job, timeout_ms);
}

/* ---- power, media, console ---------------------------------------------------------------- */

static int step_power(struct run *r, json_t *step, int64_t timeout_ms)
{
	if (r->deps.power == NULL)
		return failed(r, "no_power", "no ATX lines are configured ([power])");
	struct gd_power_result res = {0};
	int rc =
	    gd_power_run(r->deps.power, gd_power_action_parse(str(step, "power")), r->user, &res);
	if (rc == -EBUSY)
		return failed(r, "power_busy", "another power action is running");
	if (rc < 0)
		return failed(r, res.error_code[0] ? res.error_code : "power_failed", "%s",
		              res.message[0] ? res.message : strerror(-rc));
	snprintf(r->why, sizeof(r->why), "%s", res.message);
	const char *want = str(step, "wait_for");
	int64_t end = now_ms() + timeout_ms;
	while (want != NULL &&
	       strcmp(gd_power_state_name(gd_power_state(r->deps.power, NULL)), want) != 0) {
		if (now_ms() >= end)
			return failed(r, "power_timeout", "the server was not %s after %llds", want,
			              (long long)(timeout_ms / MS_PER_S));
		if (pause_ms(r, 100) < 0)
			return -ECANCELED;
	}
	return 0;
}

static int step_media(struct run *r, json_t *step)
{
	bool forced = false, reenumerated = false;
	int rc;
	if (strcmp(str(step, "media"), "eject") == 0) {
		rc = gd_media_eject(r->deps.media, &forced, r->why, sizeof(r->why));
	} else {
		const char *mode = str(step, "mode");
		json_t *ro = json_object_get(step, "readonly");
		enum gd_lun_mode m = mode && strcmp(mode, "disk") == 0 ? GD_LUN_DISK : GD_LUN_CDROM;
		rc = gd_media_insert(r->deps.media, str(step, "image"), m,
		                     ro == NULL || json_is_true(ro), &forced, &reenumerated, r->why,
		                     sizeof(r->why));
	}
	if (rc < 0) {
		snprintf(r->code, sizeof(r->code), "media_failed");
		return -1;
	}
	snprintf(r->why, sizeof(r->why), "%s%s", forced ? "forced " : "",
	         reenumerated ? "re-enumerated" : "");
	return 0;
}

static int step_console(struct run *r, json_t *step)
{
	if (r->deps.console == NULL)
		return failed(r, "no_console", "the gadget has no serial console");
	const char *data = str(step, "console");
	ssize_t n = gd_console_write(r->deps.console, data, strlen(data));
	if (n < 0)
		return failed(r, n == -ETIMEDOUT ? "console_timeout" : "console_closed",
		              "writing to the console: %s", strerror((int)-n));
	return 0;
}

/* Waits for the pattern in the output since the step before this one began (what a typed
 * command prints may come before the expect starts). */
static int step_expect(struct run *r, json_t *step, int64_t timeout_ms)
{
	if (r->deps.console == NULL)
		return failed(r, "no_console", "the gadget has no serial console");
	regex_t re;
	if (regcomp(&re, str(step, "expect"), REG_EXTENDED | REG_NEWLINE) != 0)
		return failed(r, "bad_pattern", "the pattern does not compile");
	struct gd_console_match m;
	int64_t end = now_ms() + timeout_ms;
	int rc = -ETIMEDOUT;
	while (rc == -ETIMEDOUT && now_ms() < end && !cancelled(r)) {
		int64_t left = end - now_ms();
		rc = gd_console_expect(r->deps.console, &re, r->console_mark,
		                       (int)(left < 500 ? left : 500), &m);
	}
	regfree(&re);
	if (rc == 0) {
		snprintf(r->why, sizeof(r->why), "matched '%.200s'", m.text);
		return 0;
	}
	if (cancelled(r))
		return -ECANCELED;
	return failed(r, "expect_timeout", "no match for '%.100s' within %llds",
	              str(step, "expect"), (long long)(timeout_ms / MS_PER_S));
}

/* {"seed": {"label", "files"}} builds and inserts the answer-file disk; {"seed": "eject"}. */
static int step_seed(struct run *r, json_t *step)
{
	if (r->seed_lun_dir[0] == '\0')
		return failed(r, "no_seed_disk", "this gadget has no answer-file disk");
	json_t *seed = json_object_get(step, "seed");
	int rc = json_is_string(seed)
	             ? gd_seed_eject(r->seed_lun_dir, r->seed_path, r->why, sizeof(r->why))
	             : gd_seed_insert(r->seed_lun_dir, r->seed_path, str(seed, "label"),
	                              json_object_get(seed, "files"), r->why, sizeof(r->why));
	if (rc < 0) {
		snprintf(r->code, sizeof(r->code), "seed_failed");
		return -1;
	}
	if (!json_is_string(seed))
		snprintf(r->why, sizeof(r->why), "%s with %zu files", str(seed, "label"),
		         json_object_size(json_object_get(seed, "files")));
	return 0;
}

/* ---- one step ----------------------------------------------------------------------------- */

static int64_t default_timeout_ms(const char *kind)
{
	if (strcmp(kind, "keys") == 0 || strcmp(kind, "type") == 0)
		return 600 * MS_PER_S;
	if (strcmp(kind, "power") == 0)
		return 120 * MS_PER_S;
	return 60 * MS_PER_S;
}

static int run_step(struct run *r, json_t *step, const char *kind)
{
	json_t *t = json_object_get(step, "timeout");
	int64_t timeout_ms = t ? json_integer_value(t) * MS_PER_S : default_timeout_ms(kind);
	r->why[0] = '\0';
	r->key_job = 0;
	if (strcmp(kind, "keys") == 0 || strcmp(kind, "type") == 0)
		return step_keys(r, step, kind, timeout_ms);
	if (strcmp(kind, "power") == 0)
		return step_power(r, step, timeout_ms);
	if (strcmp(kind, "media") == 0)
		return step_media(r, step);
	if (strcmp(kind, "console") == 0)
		return step_console(r, step);
	if (strcmp(kind, "expect") == 0)
		return step_expect(r, step, timeout_ms);
	if (strcmp(kind, "wait") == 0)
		return pause_ms(r, gd_script_duration_ms(json_object_get(step, "wait")));
	if (strcmp(kind, "log") == 0) {
		GD_LOG_INFO("script '%s': %s", r->name, str(step, "log"));
		snprintf(r->why, sizeof(r->why), "%.300s", str(step, "log"));
		return 0;
	}
	return step_seed(r, step);
}

static uint64_t console_next(struct run *r)
{
	struct gd_console_status st = {0};
	if (r->deps.console != NULL)
		gd_console_get_status(r->deps.console, &st);
	return st.next;
}

/* Runs step I with its retries, recording its state, attempts, timing and message. */
static int attempt_step(struct run *r, size_t i)
{
	json_t *step = json_array_get(r->steps, i);
	json_t *shown = json_array_get(json_object_get(r->detail, "steps"), i);
	const char *kind = gd_script_step_kind(step);
	json_t *retries = json_object_get(step, "retries");
	json_t *delay = json_object_get(step, "retry_delay");
	json_int_t attempts = 1 + (retries ? json_integer_value(retries) : 0);
	uint64_t mark = console_next(r);
	int64_t started = now_ms();
	json_object_set_new(shown, "state", json_string("running"));
	json_object_set_new(shown, "started", json_real(wall_s()));
	publish(r);
	int rc = -1;
	for (json_int_t n = 1; n <= attempts && rc == -1; n++) {
		json_object_set_new(shown, "attempts", json_integer(n));
		rc = run_step(r, step, kind);
		if (rc == -1 && n < attempts) {
			GD_LOG_WARN("script '%s' step %zu (%s), attempt %lld: %s", r->name, i, kind,
			            (long long)n, r->why);
			if (pause_ms(r, delay ? gd_script_duration_ms(delay) : MS_PER_S) < 0)
				rc = -ECANCELED;
		}
	}
	r->console_mark = mark;
	json_object_set_new(shown, "duration_ms", json_integer(now_ms() - started));
	json_object_set_new(shown, "state",
	                    json_string(rc == 0            ? "done"
	                                : rc == -ECANCELED ? "cancelled"
	                                                   : "failed"));
	json_object_set_new(shown, "message", json_string(rc == -ECANCELED ? "cancelled" : r->why));
	GD_LOG_INFO("script '%s' step %zu (%s): %s in %lld ms%s%s", r->name, i, kind,
	            rc == 0            ? "done"
	            : rc == -ECANCELED ? "cancelled"
	                               : "failed",
	            (long long)(now_ms() - started), r->why[0] ? ": " : "", r->why);
	return rc;
}

/* ---- failure ------------------------------------------------------------------------------ */

static json_t *console_tail(struct run *r)
{
	if (r->deps.console == NULL)
		return json_null();
	struct gd_console_status st;
	gd_console_get_status(r->deps.console, &st);
	uint64_t from = st.next > TAIL_BYTES ? st.next - TAIL_BYTES : 0;
	if (from < st.start)
		from = st.start;
	char buf[TAIL_BYTES];
	uint64_t lost = 0;
	size_t n = gd_console_read(r->deps.console, &from, buf, sizeof(buf), &lost);
	size_t used;
	json_t *text = gd_json_text(buf, n, &used);
	return text ? text : json_null();
}

/* Leaves the server as the script says for a failure: no key held, media and power. */
static void clean_up(struct run *r)
{
	if (r->key_job != 0)
		json_decref(gd_jobs_cancel(gd_keyboard_jobs(r->deps.keyboard), r->key_job));
	json_t *policy = json_object_get(r->doc, "on_failure");
	const char *media = str(policy, "media"), *power = str(policy, "power");
	char err[256];
	bool forced;
	bool eject = media == NULL || strcmp(media, "eject") == 0;
	if (eject && gd_media_eject(r->deps.media, &forced, err, sizeof(err)) < 0)
		GD_LOG_WARN("script '%s': ejecting after the failure: %s", r->name, err);
	if (eject && r->seed_lun_dir[0] &&
	    gd_seed_eject(r->seed_lun_dir, r->seed_path, err, sizeof(err)) < 0)
		GD_LOG_WARN("script '%s': ejecting the answer files after the failure: %s", r->name,
		            err);
	if (power != NULL && strcmp(power, "keep") != 0 && r->deps.power != NULL) {
		struct gd_power_result res = {0};
		if (gd_power_run(r->deps.power, gd_power_action_parse(power), r->user, &res) < 0)
			GD_LOG_WARN("script '%s': %s after the failure: %s", r->name, power,
			            res.message);
	}
}

static int run_script(struct gd_job *job, void *ctx)
{
	struct run *r = ctx;
	r->job = job;
	r->console_mark = console_next(r);
	size_t n = json_array_size(r->steps);
	int rc = 0;
	size_t i;
	for (i = 0; i < n && rc == 0; i++) {
		gd_job_progress(job, i);
		rc = cancelled(r) ? -ECANCELED : attempt_step(r, i);
		publish(r);
	}
	if (rc == 0) {
		gd_job_progress(job, n);
		GD_LOG_INFO("script '%s' for '%s': all %zu steps done", r->name, r->user, n);
		return 0;
	}
	json_object_set_new(r->detail, "failed_step", json_integer((json_int_t)(i - 1)));
	json_object_set_new(r->detail, "console_tail", console_tail(r));
	clean_up(r);
	publish(r);
	if (rc == -ECANCELED)
		return rc;
	const char *kind = gd_script_step_kind(json_array_get(r->steps, i - 1));
	GD_LOG_WARN("script '%s' for '%s' failed at step %zu (%s): %s", r->name, r->user, i - 1,
	            kind, r->why);
	gd_job_fail(job, r->code[0] ? r->code : "step_failed", "step %zu (%s): %s", i - 1, kind,
	            r->why);
	return -1;
}

static void free_run(void *ctx)
{
	struct run *r = ctx;
	json_decref(r->doc);
	json_decref(r->steps);
	json_decref(r->detail);
	free(r);
}

static json_t *initial_detail(const char *name, json_t *steps)
{
	json_t *shown = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s)
	{
		json_t *entry = json_pack("{s:I, s:s, s:s, s:I}", "index", (json_int_t)i, "kind",
		                          gd_script_step_kind(s), "state", "pending", "attempts",
		                          (json_int_t)0);
		if (json_is_string(json_object_get(s, "name")))
			json_object_set(entry, "name", json_object_get(s, "name"));
		json_array_append_new(shown, entry);
	}
	return json_pack("{s:s, s:o}", "script", name, "steps", shown);
}

uint64_t gd_script_run(struct gd_jobs *jobs, const struct gd_script_deps *deps, const char *name,
                       json_t *doc, json_t *steps, const char *user)
{
	struct run *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return 0;
	r->deps = *deps;
	snprintf(r->seed_lun_dir, sizeof(r->seed_lun_dir), "%s",
	         deps->seed_lun_dir ? deps->seed_lun_dir : "");
	snprintf(r->seed_path, sizeof(r->seed_path), "%s", deps->seed_path ? deps->seed_path : "");
	r->deps.seed_lun_dir = r->deps.seed_path = NULL; /* the copies above are the run's */
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->user, sizeof(r->user), "%s", user);
	r->doc = json_incref(doc);
	r->steps = json_incref(steps);
	r->detail = initial_detail(name, steps);
	if (r->detail == NULL) {
		free_run(r);
		return 0;
	}
	return gd_jobs_submit(jobs, "script", user, json_array_size(steps), run_script, r,
	                      free_run);
}
