/* ipmi_cmd: the IPMI commands about the server (device, chassis, boot options), below the
 * session layer of ipmi_lan.c. Private to the ipmi modules. */
#ifndef GD_IPMI_CMD_H
#define GD_IPMI_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "ipmi.h"

/* Privilege levels, as on the wire. */
enum { GD_IPMI_PRIV_USER = 2, GD_IPMI_PRIV_OPERATOR = 3, GD_IPMI_PRIV_ADMIN = 4 };

/* Completion codes. */
enum {
	GD_IPMI_CC_OK = 0x00,
	GD_IPMI_CC_BUSY = 0xc0,
	GD_IPMI_CC_INVALID_CMD = 0xc1,
	GD_IPMI_CC_BAD_LENGTH = 0xc7,
	GD_IPMI_CC_BAD_DATA = 0xcc,
	GD_IPMI_CC_NOT_NOW = 0xd5,
	GD_IPMI_CC_PRIVILEGE = 0xd4,
	GD_IPMI_CC_UNSPECIFIED = 0xff,
};

enum { GD_IPMI_NETFN_CHASSIS = 0x00, GD_IPMI_NETFN_APP = 0x06 };

struct gd_ipmi_request {
	uint8_t netfn, cmd;
	const uint8_t *data;
	size_t len;
	uint8_t priv;     /* the session's current privilege (0 before a session) */
	const char *user; /* for logs and the power queue */
};

/*
 * Runs RQ with OPS: the completion code, and the response's data into RSP (at most 32 bytes)
 * with its length in *RSPLEN.
 */
unsigned gd_ipmi_cmd(const struct gd_ipmi_ops *ops, const struct gd_ipmi_request *rq,
                     uint8_t rsp[32], size_t *rsplen);

#endif
