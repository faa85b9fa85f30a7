/*
 * hid: the keyboard as the host sees it: plays programs of boot reports on the hidg device
 * (non-blocking, paced), fails fast with host_offline when the host cannot take keys, never
 * leaves a key held, and tracks the host's LED output report (Num/Caps/Scroll Lock).
 */
#ifndef GD_HID_H
#define GD_HID_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define GD_HID_LED_NUM_LOCK    0x01
#define GD_HID_LED_CAPS_LOCK   0x02
#define GD_HID_LED_SCROLL_LOCK 0x04
#define GD_HID_LED_COMPOSE     0x08
#define GD_HID_LED_KANA        0x10

struct gd_hid;

/*
 * Opens DEVICE (/dev/hidgN) and starts watching it. HOST_STATE is the UDC's sysfs state
 * file ("configured" when the host can take keys). Returns 0 or -errno with ERR.
 */
int gd_hid_open(struct gd_hid **out, const char *device, const char *host_state, char *err,
                size_t errlen);
void gd_hid_close(struct gd_hid *hid);

/* Called after each action with the count of actions done. */
typedef void (*gd_hid_progress_fn)(void *ctx, size_t done);

/*
 * Plays PROG with PACING_MS after each report; one caller at a time (the keys job queue).
 * Returns 0, -ECANCELED when *CANCEL became true, or -EHOSTDOWN when the host is off,
 * suspended or unplugged. On any error every key is released, now or once the host is back.
 */
int gd_hid_play(struct gd_hid *hid, const struct gd_program *prog, unsigned pacing_ms,
                const atomic_bool *cancel, gd_hid_progress_fn progress, void *ctx);

/* The last LED report from the host (GD_HID_LED_* bits). */
uint8_t gd_hid_leds(struct gd_hid *hid);

/* Whether the host has the device configured (it can take keys now). */
bool gd_hid_host_online(struct gd_hid *hid);

#endif
