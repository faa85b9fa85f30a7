/*
 * boot: the boot source override and the keys that carry it out at the firmware's next start
 * (the menu key hammered, then the entry of the target), played on a queue of its own so the
 * power LED's watcher never waits.
 */
#include "boot.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "macro.h"

#define LOG_PREFIX "BOOT: "

static const char *const target_names[] = {"None", "Cd", "Usb", "Hdd", "Pxe", "BiosSetup"};
static const char *const enabled_names[] = {"Disabled", "Once", "Continuous"};
static const char *const mode_names[] = {"UEFI", "Legacy"};

struct gd_boot {
	const struct gd_config *cfg;
	struct gd_boot_player player;
	struct gd_jobs *jobs;
	pthread_mutex_t lock;
	struct gd_boot_override cur;
	char path[PATH_MAX + 32];
};

static int parse_name(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name != NULL && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *gd_boot_target_name(enum gd_boot_target target)
{
	return target_names[target];
}

int gd_boot_target_parse(const char *name)
{
	return parse_name(target_names, COUNT(target_names), name);
}

const char *gd_boot_enabled_name(enum gd_boot_enabled enabled)
{
	return enabled_names[enabled];
}

int gd_boot_enabled_parse(const char *name)
{
	return parse_name(enabled_names, COUNT(enabled_names), name);
}

const char *gd_boot_mode_name(enum gd_boot_mode mode)
{
	return mode_names[mode];
}

int gd_boot_mode_parse(const char *name)
{
	return parse_name(mode_names, COUNT(mode_names), name);
}

void gd_boot_macro(const struct gd_config *cfg, enum gd_boot_target target, char *buf, size_t len)
{
	const char *entry[] = {NULL, cfg->boot_cd, cfg->boot_usb, cfg->boot_hdd, cfg->boot_pxe};
	if (target == GD_BOOT_NONE)
		snprintf(buf, len, "%s", "");
	else if (target == GD_BOOT_SETUP)
		snprintf(buf, len, "%s", cfg->boot_setup);
	else
		snprintf(buf, len, "%s\n%s", cfg->boot_menu, entry[target]);
}

/* Every target's macro parses, so a typo in [boot] shows at start, not at a reinstall. */
static int check_macros(const struct gd_config *cfg, char *err, size_t errlen)
{
	for (int t = GD_BOOT_CD; t <= GD_BOOT_SETUP; t++) {
		char text[2 * GD_BOOT_MACRO_MAX + 2], why[256];
		gd_boot_macro(cfg, t, text, sizeof(text));
		struct gd_macro *macro = NULL;
		if (gd_macro_parse(text, strlen(text), &macro, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "[boot] the keys for %s: %s", target_names[t], why);
			return -EINVAL;
		}
		gd_macro_free(macro);
	}
	return 0;
}

static json_t *override_json(const struct gd_boot_override *o)
{
	return json_pack("{s:s, s:s, s:s}", "target", target_names[o->target], "enabled",
	                 enabled_names[o->enabled], "mode", mode_names[o->mode]);
}

static void load(struct gd_boot *boot)
{
	json_error_t jerr;
	json_t *doc = json_load_file(boot->path, 0, &jerr);
	if (doc == NULL) {
		if (access(boot->path, F_OK) == 0)
			GD_LOG_WARN("%s: %s: no override kept", boot->path, jerr.text);
		return;
	}
	int t = gd_boot_target_parse(json_string_value(json_object_get(doc, "target")));
	int e = gd_boot_enabled_parse(json_string_value(json_object_get(doc, "enabled")));
	int m = gd_boot_mode_parse(json_string_value(json_object_get(doc, "mode")));
	if (t < 0 || e < 0 || m < 0)
		GD_LOG_WARN("%s: not a boot override: no override kept", boot->path);
	else
		boot->cur = (struct gd_boot_override){t, e, m};
	json_decref(doc);
}

int gd_boot_open(struct gd_boot **out, const struct gd_config *cfg,
                 const struct gd_boot_player *player, char *err, size_t errlen)
{
	int rc = check_macros(cfg, err, errlen);
	if (rc < 0)
		return rc;
	struct gd_boot *boot = calloc(1, sizeof(*boot));
	if (boot == NULL || (boot->jobs = gd_jobs_new("boot")) == NULL) {
		free(boot);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	boot->cfg = cfg;
	boot->player = *player;
	pthread_mutex_init(&boot->lock, NULL);
	snprintf(boot->path, sizeof(boot->path), "%s/boot-override.json", cfg->state_dir);
	load(boot);
	*out = boot;
	return 0;
}

void gd_boot_close(struct gd_boot *boot)
{
	if (boot == NULL)
		return;
	gd_jobs_free(boot->jobs);
	pthread_mutex_destroy(&boot->lock);
	free(boot);
}

void gd_boot_get(struct gd_boot *boot, struct gd_boot_override *out)
{
	pthread_mutex_lock(&boot->lock);
	*out = boot->cur;
	pthread_mutex_unlock(&boot->lock);
}

/* Caller holds the lock. */
static int set_locked(struct gd_boot *boot, const struct gd_boot_override *value)
{
	json_t *doc = override_json(value);
	int rc = doc ? gd_json_save(boot->path, doc, 0600) : -ENOMEM;
	json_decref(doc);
	if (rc < 0) {
		GD_LOG_ERROR("%s: %s: the override is unchanged", boot->path, strerror(-rc));
		return rc;
	}
	boot->cur = *value;
	return 0;
}

int gd_boot_set(struct gd_boot *boot, const struct gd_boot_override *value)
{
	pthread_mutex_lock(&boot->lock);
	int rc = set_locked(boot, value);
	pthread_mutex_unlock(&boot->lock);
	if (rc == 0)
		GD_LOG_INFO("override: %s %s (%s)", target_names[value->target],
		            enabled_names[value->enabled], mode_names[value->mode]);
	return rc;
}

struct play {
	struct gd_boot *boot;
	char target[16];
	char macro[2 * GD_BOOT_MACRO_MAX + 2];
};

static int run_play(struct gd_job *job, void *ctx)
{
	struct play *p = ctx;
	char err[256] = "";
	int rc = p->boot->player.play(p->boot->player.ctx, p->macro, gd_job_cancelled(job), err,
	                              sizeof(err));
	if (rc == -ECANCELED)
		return rc;
	if (rc < 0) {
		GD_LOG_WARN("the keys for %s were not played: %s", p->target, err);
		gd_job_fail(job, "boot_keys_failed", "the keys for %s were not played: %s",
		            p->target, err);
		return -1;
	}
	GD_LOG_INFO("the keys for %s were played", p->target);
	return 0;
}

void gd_boot_started(void *ctx)
{
	struct gd_boot *boot = ctx;
	struct play *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return;
	pthread_mutex_lock(&boot->lock);
	struct gd_boot_override o = boot->cur;
	bool armed = o.enabled != GD_BOOT_DISABLED && o.target != GD_BOOT_NONE;
	if (armed && o.enabled == GD_BOOT_ONCE) {
		struct gd_boot_override done = o;
		done.enabled = GD_BOOT_DISABLED;
		set_locked(boot, &done);
	}
	pthread_mutex_unlock(&boot->lock);
	if (!armed) {
		free(p);
		return;
	}
	p->boot = boot;
	snprintf(p->target, sizeof(p->target), "%s", target_names[o.target]);
	gd_boot_macro(boot->cfg, o.target, p->macro, sizeof(p->macro));
	GD_LOG_INFO("the server starts: playing the keys for %s (%s)", p->target,
	            enabled_names[o.enabled]);
	if (gd_jobs_submit(boot->jobs, "boot-override", "boot", 1, run_play, p, free) == 0)
		GD_LOG_ERROR("out of memory: the keys for %s are not played",
		             target_names[o.target]);
}

json_t *gd_boot_json(struct gd_boot *boot)
{
	struct gd_boot_override o;
	gd_boot_get(boot, &o);
	return override_json(&o);
}

struct gd_jobs *gd_boot_jobs(struct gd_boot *boot)
{
	return boot->jobs;
}
