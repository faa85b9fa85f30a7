/*
 * ipmi: IPMI 2.0 over LAN (RMCP+), what `ipmitool -I lanplus` and FreeIPMI need to read and
 * change the server's power and boot device: session setup (channel authentication
 * capabilities, cipher suites 3 and 17, RAKP 1-4), integrity and confidentiality, and a few
 * commands. The protocol engine (gd_ipmi_lan_*) takes one datagram and gives the reply, with
 * what it acts on behind a table of operations; gd_ipmi_open() runs it on a UDP socket.
 */
#ifndef GD_IPMI_H
#define GD_IPMI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth.h"
#include "boot.h"
#include "ipmi_users.h"

struct gd_app;

/* What the engine acts on (the daemon's, or a test's). */
struct gd_ipmi_ops {
	/* NAME's IPMI password and role: 0, or -ENOENT for a name that has none. */
	int (*user)(void *ctx, const char *name, char password[GD_IPMI_PASSWORD_MAX + 1],
	            enum gd_role *role);
	/* 1 on, 0 off, -1 unknown. */
	int (*power_state)(void *ctx);
	/* Chassis Control's action (0 off, 1 on, 2 cycle, 3 reset, 5 soft off) for USER, queued:
	 * 0, or an IPMI completion code. */
	unsigned (*chassis_control)(void *ctx, unsigned action, const char *user);
	/* The boot override: get, and set (0 or -errno); NULL without one. */
	int (*boot_get)(void *ctx, struct gd_boot_override *out);
	int (*boot_set)(void *ctx, const struct gd_boot_override *value);
	void *ctx;
};

struct gd_ipmi_lan;

/* GUID: the managed system's, for RAKP. NULL when out of memory. */
struct gd_ipmi_lan *gd_ipmi_lan_new(const struct gd_ipmi_ops *ops, const uint8_t guid[16]);
void gd_ipmi_lan_free(struct gd_ipmi_lan *lan);

/*
 * One datagram IN (LEN bytes) from FROM at NOW_MS (a monotonic clock): the reply into OUT
 * (OUTMAX bytes), its length; 0 when nothing is to be answered (dropped).
 */
size_t gd_ipmi_lan_handle(struct gd_ipmi_lan *lan, const uint8_t *in, size_t len,
                          const struct sockaddr *from, uint64_t now_ms, uint8_t *out,
                          size_t outmax);

/* Sessions open at NOW_MS. */
unsigned gd_ipmi_lan_sessions(struct gd_ipmi_lan *lan, uint64_t now_ms);

struct gd_ipmi;

/* The UDP server of APP's [ipmi] config; *OUT stays NULL when it is off. 0 or -errno. */
int gd_ipmi_open(struct gd_ipmi **out, struct gd_app *app, char *err, size_t errlen);
void gd_ipmi_close(struct gd_ipmi *ipmi);

#endif
