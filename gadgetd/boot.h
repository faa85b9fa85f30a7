/*
 * boot: the boot source override (Redfish's Boot.BootSourceOverride*) made real the way an
 * operator would: the server's boot order is out of reach, so at the next start of its firmware
 * the configured keys open the one-time boot menu and pick the entry for the target. The
 * override is kept in the state directory; "Once" clears itself when its keys are played.
 */
#ifndef GD_BOOT_H
#define GD_BOOT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "jobs.h"

enum gd_boot_target {
	GD_BOOT_NONE,
	GD_BOOT_CD,
	GD_BOOT_USB,
	GD_BOOT_HDD,
	GD_BOOT_PXE,
	GD_BOOT_SETUP
};
enum gd_boot_enabled { GD_BOOT_DISABLED, GD_BOOT_ONCE, GD_BOOT_CONTINUOUS };
enum gd_boot_mode { GD_BOOT_UEFI, GD_BOOT_LEGACY };

struct gd_boot_override {
	enum gd_boot_target target;
	enum gd_boot_enabled enabled;
	enum gd_boot_mode mode; /* kept and shown: the firmware's menu decides */
};

/* Redfish's names ("Cd", "Once", "UEFI"); parsing returns -1 for an unknown name. */
const char *gd_boot_target_name(enum gd_boot_target target);
int gd_boot_target_parse(const char *name);
const char *gd_boot_enabled_name(enum gd_boot_enabled enabled);
int gd_boot_enabled_parse(const char *name);
const char *gd_boot_mode_name(enum gd_boot_mode mode);
int gd_boot_mode_parse(const char *name);

/* What plays a macro on the server's keyboard: 0, or -errno with ERR. May block (it runs on the
 * override's own queue); returns -ECANCELED soon after *CANCELLED is set. */
struct gd_boot_player {
	int (*play)(void *ctx, const char *macro, const atomic_bool *cancelled, char *err,
	            size_t errlen);
	void *ctx;
};

struct gd_boot;

/*
 * Checks CFG's [boot] macros, loads the override kept in STATE_DIR/boot-override.json (a
 * damaged file is logged and ignored) and starts the queue that plays them with PLAYER.
 * Returns 0 or -errno with ERR.
 */
int gd_boot_open(struct gd_boot **out, const struct gd_config *cfg,
                 const struct gd_boot_player *player, char *err, size_t errlen);
void gd_boot_close(struct gd_boot *boot);

void gd_boot_get(struct gd_boot *boot, struct gd_boot_override *out);
/* Sets and keeps the override: 0 or -errno (it is not changed then). */
int gd_boot_set(struct gd_boot *boot, const struct gd_boot_override *value);

/* The macro that picks TARGET (NONE: empty) into BUF. */
void gd_boot_macro(const struct gd_config *cfg, enum gd_boot_target target, char *buf, size_t len);

/* The firmware starts (power.c's start hook, never blocks): queues the keys if armed. */
void gd_boot_started(void *boot);

/* {"target", "enabled", "mode"} */
json_t *gd_boot_json(struct gd_boot *boot);
/* The queue of the keys played, for /api/jobs-like reading. */
struct gd_jobs *gd_boot_jobs(struct gd_boot *boot);

#endif
