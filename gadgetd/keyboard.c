/*
 * keyboard: the keyboard as a service: the layouts from the keymaps directory, the default
 * layout and pacing, and the one queue that plays key programs on the HID engine, so two
 * clients never interleave their keys.
 */
#include "keyboard.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hid.h"
#include "log.h"

#define LOG_PREFIX  "KBD: "
#define MAX_LAYOUTS 128

struct gd_keyboard {
	struct gd_hid *hid;
	struct gd_jobs *jobs;
	struct gd_layout *layouts[MAX_LAYOUTS];
	size_t layout_count;
	const struct gd_layout *default_layout;
	unsigned pacing_ms;
	char device[64];
};

struct play {
	struct gd_keyboard *kb;
	struct gd_program prog;
	unsigned pacing_ms;
};

static int compare_layouts(const void *a, const void *b)
{
	return strcmp(gd_layout_name(*(struct gd_layout *const *)a),
	              gd_layout_name(*(struct gd_layout *const *)b));
}

static int load_layouts(struct gd_keyboard *kb, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "keymaps directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	for (struct dirent *e = readdir(d); e != NULL && kb->layout_count < MAX_LAYOUTS;
	     e = readdir(d)) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < 8 || strcmp(e->d_name + len - 7, ".keymap") != 0)
			continue;
		char path[PATH_MAX + 256], msg[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct gd_layout *layout;
		if (gd_layout_load(path, &layout, msg, sizeof(msg)) < 0)
			GD_LOG_WARN("skipping layout: %s", msg);
		else
			kb->layouts[kb->layout_count++] = layout;
	}
	closedir(d);
	qsort(kb->layouts, kb->layout_count, sizeof(struct gd_layout *), compare_layouts);
	return 0;
}

const struct gd_layout *gd_keyboard_layout(struct gd_keyboard *kb, const char *name)
{
	if (name == NULL)
		return kb->default_layout;
	for (size_t i = 0; i < kb->layout_count; i++) {
		if (strcmp(gd_layout_name(kb->layouts[i]), name) == 0)
			return kb->layouts[i];
	}
	return NULL;
}

int gd_keyboard_open(struct gd_keyboard **out, const struct gd_config *cfg, const char *hid_device,
                     const char *host_state, char *err, size_t errlen)
{
	struct gd_keyboard *kb = calloc(1, sizeof(*kb));
	if (kb == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	kb->pacing_ms = cfg->pacing_ms;
	snprintf(kb->device, sizeof(kb->device), "%s", hid_device);
	int rc = load_layouts(kb, cfg->keymaps_dir, err, errlen);
	if (rc == 0 && (kb->default_layout = gd_keyboard_layout(kb, cfg->layout)) == NULL) {
		snprintf(err, errlen, "[keyboard] layout '%s' not found in %s", cfg->layout,
		         cfg->keymaps_dir);
		rc = -ENOENT;
	}
	if (rc == 0)
		rc = gd_hid_open(&kb->hid, hid_device, host_state, err, errlen);
	if (rc == 0 && (kb->jobs = gd_jobs_new("keys")) == NULL) {
		snprintf(err, errlen, "cannot start the keys queue");
		rc = -ENOMEM;
	}
	if (rc < 0) {
		gd_keyboard_close(kb);
		return rc;
	}
	GD_LOG_INFO("%zu layouts, default '%s', pacing %u ms, on %s", kb->layout_count, cfg->layout,
	            kb->pacing_ms, hid_device);
	*out = kb;
	return 0;
}

void gd_keyboard_close(struct gd_keyboard *kb)
{
	if (kb == NULL)
		return;
	gd_jobs_free(kb->jobs); /* first: it cancels and waits for the program playing */
	gd_hid_close(kb->hid);
	for (size_t i = 0; i < kb->layout_count; i++)
		gd_layout_free(kb->layouts[i]);
	free(kb);
}

static void on_progress(void *ctx, size_t done)
{
	gd_job_progress(ctx, done);
}

static int run_play(struct gd_job *job, void *ctx)
{
	struct play *p = ctx;
	int rc = gd_hid_play(p->kb->hid, &p->prog, p->pacing_ms, gd_job_cancelled(job), on_progress,
	                     job);
	if (rc == -EHOSTDOWN) {
		gd_job_fail(job, "host_offline",
		            "the server is off, asleep or unplugged: it does not take keys");
		return -1;
	}
	return rc;
}

static void free_play(void *ctx)
{
	struct play *p = ctx;
	gd_program_free(&p->prog);
	free(p);
}

uint64_t gd_keyboard_submit(struct gd_keyboard *kb, const char *user, struct gd_program *prog,
                            int pacing_ms)
{
	struct play *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		gd_program_free(prog);
		return 0;
	}
	p->kb = kb;
	p->prog = *prog;
	p->pacing_ms = pacing_ms < 0 ? kb->pacing_ms : (unsigned)pacing_ms;
	gd_program_init(prog); /* taken over */
	return gd_jobs_submit(kb->jobs, "keys", user, p->prog.count, run_play, p, free_play);
}

struct gd_jobs *gd_keyboard_jobs(struct gd_keyboard *kb)
{
	return kb->jobs;
}

json_t *gd_keyboard_state_json(struct gd_keyboard *kb)
{
	uint8_t leds = gd_hid_leds(kb->hid);
	json_t *led_json = json_pack(
	    "{s:b, s:b, s:b, s:b, s:b}", "num_lock", leds & GD_HID_LED_NUM_LOCK, "caps_lock",
	    leds & GD_HID_LED_CAPS_LOCK, "scroll_lock", leds & GD_HID_LED_SCROLL_LOCK, "compose",
	    leds & GD_HID_LED_COMPOSE, "kana", leds & GD_HID_LED_KANA);
	return json_pack("{s:o, s:s, s:i, s:b, s:s, s:I}", "leds", led_json, "layout",
	                 gd_layout_name(kb->default_layout), "pacing_ms", (int)kb->pacing_ms,
	                 "host_online", gd_hid_host_online(kb->hid), "device", kb->device,
	                 "pending", (json_int_t)gd_jobs_pending(kb->jobs));
}

json_t *gd_keyboard_layouts_json(struct gd_keyboard *kb)
{
	json_t *list = json_array();
	for (size_t i = 0; i < kb->layout_count; i++)
		json_array_append_new(list, json_pack("{s:s, s:I}", "name",
		                                      gd_layout_name(kb->layouts[i]), "characters",
		                                      (json_int_t)gd_layout_size(kb->layouts[i])));
	return json_pack("{s:s, s:o}", "default", gd_layout_name(kb->default_layout), "layouts",
	                 list);
}

static void nap_ms(unsigned ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

/* Whether job ID of the queue has ended: its final state into STATE. */
static bool play_ended(struct gd_keyboard *kb, uint64_t id, char *state, size_t len)
{
	json_t *job = gd_jobs_get(kb->jobs, id);
	const char *s = json_string_value(json_object_get(job, "state"));
	bool ended = s == NULL || (strcmp(s, "queued") != 0 && strcmp(s, "running") != 0);
	snprintf(state, len, "%s", s ? s : "gone");
	const char *why =
	    json_string_value(json_object_get(json_object_get(job, "error"), "message"));
	if (ended && why != NULL)
		snprintf(state, len, "%s", why);
	json_decref(job);
	return ended;
}

int gd_keyboard_play_macro(struct gd_keyboard *kb, const char *user, const char *text,
                           unsigned host_wait_ms, const atomic_bool *cancelled, char *err,
                           size_t errlen)
{
	for (unsigned waited = 0; !gd_hid_host_online(kb->hid); waited += 50) {
		if (atomic_load(cancelled))
			return -ECANCELED;
		if (waited >= host_wait_ms) {
			snprintf(err, errlen, "the server did not take keys within %u ms",
			         host_wait_ms);
			return -EHOSTDOWN;
		}
		nap_ms(50);
	}
	struct gd_macro *macro = NULL;
	struct gd_program prog;
	gd_program_init(&prog);
	if (gd_macro_parse(text, strlen(text), &macro, err, errlen) < 0 ||
	    gd_macro_compile(macro, kb->default_layout, &prog, err, errlen) < 0) {
		gd_macro_free(macro);
		gd_program_free(&prog);
		return -EINVAL;
	}
	gd_macro_free(macro);
	uint64_t id = gd_keyboard_submit(kb, user, &prog, -1);
	if (id == 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	char state[256];
	while (!play_ended(kb, id, state, sizeof(state))) {
		if (atomic_load(cancelled))
			json_decref(gd_jobs_cancel(kb->jobs, id));
		nap_ms(50);
	}
	if (strcmp(state, "done") == 0)
		return 0;
	snprintf(err, errlen, "%s", state);
	return strcmp(state, "cancelled") == 0 ? -ECANCELED : -EIO;
}
