/*
 * gadget: the configfs USB gadget, composed with libusbgx (boot keyboard, removable LUN,
 * ACM serial), bound to a UDC, reused or torn down idempotently. libusbgx stays in here.
 */
#ifndef GD_GADGET_H
#define GD_GADGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct gd_gadget;

struct gd_gadget_info {
	char name[64];
	char udc[64];
	bool bound;          /* attached to the UDC (the host can see it) */
	char host_state[32]; /* the UDC's sysfs state: "configured", "not attached", ... */
	bool reused;         /* adopted from a previous run instead of created */
	unsigned functions;  /* bit set of enum gd_function */
	uint16_t vendor_id;
	uint16_t product_id;
	char hid_device[64];            /* /dev/hidgN of the keyboard, empty without one */
	char tty[64];                   /* /dev/ttyGSN of the serial console, empty without one */
	char state_path[PATH_MAX + 80]; /* the UDC's sysfs state file */
	char lun_dir[PATH_MAX + 160];   /* the LUN's configfs directory, empty without one */
	char seed_lun_dir[PATH_MAX + 160]; /* the answer-file disk's LUN, empty without one */
};

/*
 * Composes the gadget CFG describes and binds it. A gadget of the same name left
 * from an earlier run is reused when CFG keeps gadgets up and it matches, else
 * removed first. Returns 0, or -errno with a one-line message in ERR; on error
 * nothing of the new gadget is left in configfs.
 */
int gd_gadget_open(struct gd_gadget **out, const struct gd_config *cfg, char *err, size_t errlen);

/* Unbinds and removes the gadget, unless CFG said to keep it up; frees G. */
void gd_gadget_close(struct gd_gadget *g);

/* Binds (true) or unbinds (false) the gadget: the host sees it plugged or unplugged. */
int gd_gadget_set_connected(struct gd_gadget *g, bool connected, char *err, size_t errlen);

void gd_gadget_get_info(struct gd_gadget *g, struct gd_gadget_info *info);

/* The standard boot-protocol keyboard report descriptor (HID 1.11, appendix B.1). */
extern const unsigned char gd_gadget_boot_keyboard_desc[65];

#endif
