/*
 * keyboard: the keyboard as a service: the layouts from the keymaps directory, the default
 * layout and pacing, and the one queue that plays key programs on the HID engine, so two
 * clients never interleave their keys.
 */
#ifndef GD_KEYBOARD_H
#define GD_KEYBOARD_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "jobs.h"
#include "keymap.h"
#include "macro.h"

struct gd_keyboard;

/*
 * Loads the layouts of CFG->keymaps_dir and opens HID_DEVICE; HOST_STATE is the UDC's
 * sysfs state file. Returns 0 or -errno with a one-line message in ERR.
 */
int gd_keyboard_open(struct gd_keyboard **out, const struct gd_config *cfg, const char *hid_device,
                     const char *host_state, char *err, size_t errlen);
void gd_keyboard_close(struct gd_keyboard *kb);

/* The layout called NAME, or the default one for NULL; NULL if there is none. */
const struct gd_layout *gd_keyboard_layout(struct gd_keyboard *kb, const char *name);

/*
 * Queues PROG (the queue takes it over, even on failure) to be played with PACING_MS, or
 * the default pacing when PACING_MS is negative. Returns the job id, 0 when out of memory.
 */
uint64_t gd_keyboard_submit(struct gd_keyboard *kb, const char *user, struct gd_program *prog,
                            int pacing_ms);

struct gd_jobs *gd_keyboard_jobs(struct gd_keyboard *kb);

/*
 * Plays macro TEXT (default layout and pacing) once the host takes keys, waiting up to
 * HOST_WAIT_MS for it, and returns when it has been played: 0, -ECANCELED (*CANCELLED was
 * set), or -errno with ERR. Blocks: for threads of their own (the boot override's queue).
 */
int gd_keyboard_play_macro(struct gd_keyboard *kb, const char *user, const char *text,
                           unsigned host_wait_ms, const atomic_bool *cancelled, char *err,
                           size_t errlen);

/* {"leds": {...}, "layout", "pacing_ms", "host_online", "device", "pending"} */
json_t *gd_keyboard_state_json(struct gd_keyboard *kb);
/* {"default": NAME, "layouts": [{"name", "characters"}...]} */
json_t *gd_keyboard_layouts_json(struct gd_keyboard *kb);

#endif
