/*
 * ipmi_cmd: Get Device ID, Get Self Test Results, Get Chassis Status, Chassis Control, and
 * Set/Get System Boot Options (parameters 0, 3, 4 and 5, the boot flags mapped onto the boot
 * override Redfish sets too). Everything else answers 0xC1.
 */
#include "ipmi_cmd.h"

#include <string.h>

#define CMD_GET_DEVICE_ID   0x01
#define CMD_GET_SELF_TEST   0x04
#define CMD_CHASSIS_STATUS  0x01
#define CMD_CHASSIS_CONTROL 0x02
#define CMD_SET_BOOT        0x08
#define CMD_GET_BOOT        0x09
#define CC_PARAM_UNKNOWN    0x80

/* Boot flags' device selector (parameter 5, byte 2, bits 5:2) <-> the override's target. */
static const struct {
	uint8_t selector;
	enum gd_boot_target target;
} devices[] = {
    {0x0, GD_BOOT_NONE}, {0x1, GD_BOOT_PXE},   {0x2, GD_BOOT_HDD},
    {0x5, GD_BOOT_CD},   {0x6, GD_BOOT_SETUP}, {0xf, GD_BOOT_USB},
};

#define DEVICES (sizeof(devices) / sizeof(devices[0]))

static unsigned device_id(uint8_t *rsp, size_t *len)
{
	/* Device 0x20, revision 1, firmware 0.10, IPMI 2.0, a chassis device, no IANA number. */
	static const uint8_t id[] = {0x20, 0x01, 0x00, 0x10, 0x02, 0x80, 0, 0, 0, 0, 0};
	memcpy(rsp, id, sizeof(id));
	*len = sizeof(id);
	return GD_IPMI_CC_OK;
}

static unsigned chassis_status(const struct gd_ipmi_ops *ops, uint8_t *rsp, size_t *len)
{
	rsp[0] = ops->power_state(ops->ctx) == 1 ? 0x01 : 0x00;
	rsp[1] = rsp[2] = rsp[3] = 0;
	*len = 4;
	return GD_IPMI_CC_OK;
}

static unsigned chassis_control(const struct gd_ipmi_ops *ops, const struct gd_ipmi_request *rq)
{
	if (rq->len != 1)
		return GD_IPMI_CC_BAD_LENGTH;
	unsigned action = rq->data[0] & 0x0f;
	if (action > 5 || action == 4)
		return GD_IPMI_CC_BAD_DATA;
	return ops->chassis_control(ops->ctx, action, rq->user);
}

static unsigned set_boot_flags(const struct gd_ipmi_ops *ops, const uint8_t *d, size_t len)
{
	if (len != 5)
		return GD_IPMI_CC_BAD_LENGTH;
	unsigned selector = (d[1] >> 2) & 0x0f;
	size_t i = 0;
	while (i < DEVICES && devices[i].selector != selector)
		i++;
	if (i == DEVICES)
		return GD_IPMI_CC_BAD_DATA;
	struct gd_boot_override o = {
	    .target = devices[i].target,
	    .enabled = !(d[0] & 0x80) ? GD_BOOT_DISABLED
	               : d[0] & 0x40  ? GD_BOOT_CONTINUOUS
	                              : GD_BOOT_ONCE,
	    .mode = d[0] & 0x20 ? GD_BOOT_UEFI : GD_BOOT_LEGACY,
	};
	return ops->boot_set(ops->ctx, &o) == 0 ? GD_IPMI_CC_OK : GD_IPMI_CC_UNSPECIFIED;
}

static unsigned set_boot(const struct gd_ipmi_ops *ops, const struct gd_ipmi_request *rq)
{
	if (rq->len < 1)
		return GD_IPMI_CC_BAD_LENGTH;
	if (ops->boot_set == NULL)
		return GD_IPMI_CC_NOT_NOW;
	/* Set in progress (0) and service partition scan (3) take one byte, the boot info
	 * acknowledge (4) two: taken and ignored; the boot flags (5) are the override. */
	unsigned param = rq->data[0] & 0x7f;
	if (param == 5)
		return set_boot_flags(ops, rq->data + 1, rq->len - 1);
	if (param != 0 && param != 3 && param != 4)
		return CC_PARAM_UNKNOWN;
	return rq->len == (param == 4 ? 3u : 2u) ? GD_IPMI_CC_OK : GD_IPMI_CC_BAD_LENGTH;
}

static unsigned get_boot(const struct gd_ipmi_ops *ops, const struct gd_ipmi_request *rq,
                         uint8_t *rsp, size_t *len)
{
	if (rq->len != 3)
		return GD_IPMI_CC_BAD_LENGTH;
	if (ops->boot_get == NULL)
		return GD_IPMI_CC_NOT_NOW;
	unsigned param = rq->data[0] & 0x7f;
	rsp[0] = 0x01; /* parameter version */
	rsp[1] = (uint8_t)param;
	*len = 2;
	if (param == 0 || param == 3) {
		rsp[(*len)++] = 0;
	} else if (param == 4) {
		rsp[(*len)++] = 0;
		rsp[(*len)++] = 0;
	} else if (param == 5) {
		struct gd_boot_override o;
		if (ops->boot_get(ops->ctx, &o) < 0)
			return GD_IPMI_CC_UNSPECIFIED;
		size_t i = 0;
		while (i < DEVICES && devices[i].target != o.target)
			i++;
		uint8_t flags = o.enabled == GD_BOOT_DISABLED ? 0 : 0x80;
		flags |= o.enabled == GD_BOOT_CONTINUOUS ? 0x40 : 0;
		flags |= o.mode == GD_BOOT_UEFI ? 0x20 : 0;
		const uint8_t data[] = {flags, (uint8_t)(devices[i % DEVICES].selector << 2), 0, 0,
		                        0};
		memcpy(rsp + *len, data, sizeof(data));
		*len += sizeof(data);
	} else {
		return CC_PARAM_UNKNOWN;
	}
	return GD_IPMI_CC_OK;
}

/* The least privilege each command needs; 0: not one of ours. */
static uint8_t needs(uint8_t netfn, uint8_t cmd)
{
	if (netfn == GD_IPMI_NETFN_APP && (cmd == CMD_GET_DEVICE_ID || cmd == CMD_GET_SELF_TEST))
		return GD_IPMI_PRIV_USER;
	if (netfn != GD_IPMI_NETFN_CHASSIS)
		return 0;
	switch (cmd) {
	case CMD_CHASSIS_STATUS:
	case CMD_GET_BOOT: return GD_IPMI_PRIV_USER;
	case CMD_CHASSIS_CONTROL:
	case CMD_SET_BOOT: return GD_IPMI_PRIV_OPERATOR;
	default: return 0;
	}
}

unsigned gd_ipmi_cmd(const struct gd_ipmi_ops *ops, const struct gd_ipmi_request *rq,
                     uint8_t rsp[32], size_t *rsplen)
{
	*rsplen = 0;
	uint8_t priv = needs(rq->netfn, rq->cmd);
	if (priv == 0)
		return GD_IPMI_CC_INVALID_CMD;
	if (rq->priv < priv)
		return GD_IPMI_CC_PRIVILEGE;
	if (rq->netfn == GD_IPMI_NETFN_APP && rq->cmd == CMD_GET_DEVICE_ID)
		return device_id(rsp, rsplen);
	if (rq->netfn == GD_IPMI_NETFN_APP) { /* Get Self Test Results: no error */
		rsp[0] = 0x55;
		rsp[1] = 0x00;
		*rsplen = 2;
		return GD_IPMI_CC_OK;
	}
	switch (rq->cmd) {
	case CMD_CHASSIS_STATUS: return chassis_status(ops, rsp, rsplen);
	case CMD_CHASSIS_CONTROL: return chassis_control(ops, rq);
	case CMD_SET_BOOT: return set_boot(ops, rq);
	default: return get_boot(ops, rq, rsp, rsplen);
	}
}
