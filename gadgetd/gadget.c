/*
 * gadget: the configfs USB gadget, composed with libusbgx (boot keyboard, removable LUN,
 * ACM serial), bound to a UDC, reused or torn down idempotently. libusbgx stays in here.
 */
#include "gadget.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysmacros.h>
#include <usbg/function/hid.h>
#include <usbg/function/ms.h>
#include <usbg/function/serial.h>
#include <usbg/usbg.h>

#include "log.h"
#include "lun.h"

#define LOG_PREFIX "USB: "
#define LANG_US    0x409

struct gd_gadget {
	pthread_mutex_t lock;
	usbg_state *state;
	usbg_gadget *gadget;
	usbg_udc *udc;
	bool reused;
	bool keep_on_exit;
	unsigned functions; /* 0: functions = none, nothing in configfs, no UDC (benchmarks) */
	char udc_class[PATH_MAX];
	char configfs[PATH_MAX];
};

/* Instance and config binding names: what shows under functions/ in configfs. */
static const struct {
	enum gd_function bit;
	usbg_function_type type;
	const char *instance;
} function_table[] = {
    {GD_FUNC_KEYBOARD, USBG_F_HID, "keyboard"},
    {GD_FUNC_MASS_STORAGE, USBG_F_MASS_STORAGE, "disk"},
    {GD_FUNC_ACM, USBG_F_ACM, "console"},
};

static size_t table_index(enum gd_function bit)
{
	size_t i = 0;
	while (function_table[i].bit != bit)
		i++;
	return i;
}

const unsigned char gd_gadget_boot_keyboard_desc[65] = {
    0x05,
    0x01,
    0x09,
    0x06,
    0xa1,
    0x01, /* Generic Desktop, Keyboard, Application */
    0x05,
    0x07,
    0x19,
    0xe0,
    0x29,
    0xe7,
    0x15,
    0x00,
    0x25,
    0x01, /* modifiers E0-E7 */
    0x75,
    0x01,
    0x95,
    0x08,
    0x81,
    0x02, /* 8 x 1 bit, Input (Data, Var, Abs) */
    0x95,
    0x01,
    0x75,
    0x08,
    0x81,
    0x03, /* reserved byte */
    0x95,
    0x05,
    0x75,
    0x01,
    0x05,
    0x08,
    0x19,
    0x01,
    0x29,
    0x05, /* 5 LEDs */
    0x91,
    0x02, /* Output (Data, Var, Abs) */
    0x95,
    0x01,
    0x75,
    0x03,
    0x91,
    0x03, /* LED padding */
    /* 6 key codes, usages 0-255 so F13-F24, media and Japanese keys reach an OS too
     * (firmware uses the fixed boot format and never reads this descriptor). */
    0x95,
    0x06,
    0x75,
    0x08,
    0x15,
    0x00,
    0x26,
    0xff,
    0x00,
    0x05,
    0x07,
    0x19,
    0x00,
    0x2a,
    0xff,
    0x00,
    0x81,
    0x00,
    0xc0,
};

static void set_err(char *err, size_t errlen, int usbg_rc, const char *what)
{
	snprintf(err, errlen, "%s: %s (%s)", what, usbg_strerror((usbg_error)usbg_rc),
	         usbg_error_name((usbg_error)usbg_rc));
}

static int usbg_to_errno(int usbg_rc)
{
	switch (usbg_rc) {
	case USBG_SUCCESS: return 0;
	case USBG_ERROR_NO_MEM: return -ENOMEM;
	case USBG_ERROR_NO_ACCESS: return -EACCES;
	case USBG_ERROR_NOT_FOUND: return -ENOENT;
	case USBG_ERROR_BUSY: return -EBUSY;
	case USBG_ERROR_EXIST: return -EEXIST;
	default: return -EIO;
	}
}

/* Lists the UDCs in UDC_CLASS as "a, b" into BUF, or "none". */
static void list_udcs(const char *udc_class, char *buf, size_t len)
{
	snprintf(buf, len, "none");
	DIR *d = opendir(udc_class);
	if (d == NULL)
		return;
	size_t used = 0;
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", e->d_name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	closedir(d);
}

static int find_udc(struct gd_gadget *g, const struct gd_config *cfg, char *err, size_t errlen)
{
	g->udc = cfg->udc[0] ? usbg_get_udc(g->state, cfg->udc) : usbg_get_first_udc(g->state);
	if (g->udc != NULL)
		return 0;
	char names[256];
	list_udcs(cfg->udc_class, names, sizeof(names));
	if (cfg->udc[0])
		snprintf(err, errlen, "UDC '%s' not found (available: %s)", cfg->udc, names);
	else
		snprintf(err, errlen,
		         "no UDC found in %s: on a Pi, is dtoverlay=dwc2 set and dwc2 loaded?",
		         cfg->udc_class);
	return -ENODEV;
}

static unsigned gadget_functions(usbg_gadget *gadget)
{
	unsigned mask = 0;
	for (usbg_function *f = usbg_get_first_function(gadget); f; f = usbg_get_next_function(f)) {
		for (size_t i = 0; i < sizeof(function_table) / sizeof(function_table[0]); i++) {
			if (usbg_get_function_type(f) == function_table[i].type &&
			    strcmp(usbg_get_function_instance(f), function_table[i].instance) == 0)
				mask |= function_table[i].bit;
		}
	}
	return mask;
}

/* A leftover gadget can be adopted only if the host already sees what CFG asks for. */
static bool leftover_matches(struct gd_gadget *g, usbg_gadget *old, const struct gd_config *cfg)
{
	struct usbg_gadget_attrs attrs;
	if (usbg_get_gadget_attrs(old, &attrs) != USBG_SUCCESS)
		return false;
	return attrs.idVendor == cfg->vendor_id && attrs.idProduct == cfg->product_id &&
	       gadget_functions(old) == cfg->functions.mask && usbg_get_gadget_udc(old) == g->udc;
}

static int handle_leftover(struct gd_gadget *g, const struct gd_config *cfg, char *err,
                           size_t errlen)
{
	usbg_gadget *old = usbg_get_gadget(g->state, cfg->gadget_name);
	if (old == NULL)
		return 0;
	if (cfg->keep_on_exit && leftover_matches(g, old, cfg)) {
		GD_LOG_INFO("reusing gadget '%s' left up by a previous run", cfg->gadget_name);
		g->gadget = old;
		g->reused = true;
		return 0;
	}
	GD_LOG_INFO("removing gadget '%s' left by a previous run", cfg->gadget_name);
	if (usbg_get_gadget_udc(old) != NULL)
		usbg_disable_gadget(old);
	int rc = usbg_rm_gadget(old, USBG_RM_RECURSE);
	if (rc != USBG_SUCCESS) {
		set_err(err, errlen, rc, "removing the leftover gadget");
		return usbg_to_errno(rc);
	}
	return 0;
}

static void default_serial(char *buf, size_t len)
{
	snprintf(buf, len, "0");
	FILE *f = fopen("/etc/machine-id", "re");
	if (f == NULL)
		return;
	char id[64];
	if (fgets(id, sizeof(id), f) != NULL && strlen(id) >= 16)
		snprintf(buf, len, "%.16s", id);
	fclose(f);
}

static int create_function(usbg_gadget *gadget, size_t index, const struct gd_config *cfg,
                           usbg_function **f)
{
	static char report_desc[sizeof(gd_gadget_boot_keyboard_desc)];
	memcpy(report_desc, gd_gadget_boot_keyboard_desc, sizeof(report_desc));
	struct usbg_f_hid_attrs hid = {
	    .protocol = 1, /* keyboard */
	    .subclass = 1, /* boot interface */
	    .report_length = 8,
	    .report_desc = {.desc = report_desc, .len = sizeof(report_desc)},
	};
	struct usbg_f_ms_lun_attrs lun = {
	    .id = 0, .cdrom = cfg->cdrom, .ro = cfg->readonly, .removable = true, .file = ""};
	/* The answer-file disk a scripted install reads its seed from, empty until then. */
	struct usbg_f_ms_lun_attrs seed = {
	    .id = 1, .cdrom = false, .ro = true, .removable = true, .file = ""};
	struct usbg_f_ms_lun_attrs *luns[] = {&lun, &seed, NULL}; /* libusbgx reads luns[nluns] */
	struct usbg_f_ms_attrs ms = {.stall = true, .nluns = 2, .luns = luns};
	void *attrs = NULL;
	if (function_table[index].type == USBG_F_HID)
		attrs = &hid;
	else if (function_table[index].type == USBG_F_MASS_STORAGE)
		attrs = &ms;
	return usbg_create_function(gadget, function_table[index].type,
	                            function_table[index].instance, attrs, f);
}

/*
 * A boot keyboard has one interrupt IN endpoint; LED reports come by SET_REPORT on the
 * control endpoint, as from real keyboards, which some firmware insists on. libusbgx has no
 * setter for this attribute, so it is written directly, before the function is linked.
 */
static int hid_without_out_endpoint(struct gd_gadget *g, const struct gd_config *cfg)
{
	char path[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/usb_gadget/%s/functions/hid.keyboard/no_out_endpoint",
	         cfg->configfs, cfg->gadget_name);
	FILE *f = fopen(path, "we");
	if (f == NULL)
		return USBG_ERROR_NOT_FOUND;
	int rc = fputs("1\n", f) < 0 ? USBG_ERROR_IO : USBG_SUCCESS;
	if (fclose(f) != 0)
		rc = USBG_ERROR_IO;
	(void)g;
	return rc;
}

/* The host reads the drive's SCSI INQUIRY once, when it enumerates: set it before binding. */
static void name_the_drive(const struct gd_config *cfg)
{
	char dir[PATH_MAX + 128];
	snprintf(dir, sizeof(dir), "%s/usb_gadget/%s/functions/mass_storage.disk/lun.0",
	         cfg->configfs, cfg->gadget_name);
	if (gd_lun_set_inquiry(dir, "gadgetd", "Virtual Media", "0100") < 0)
		GD_LOG_WARN("could not set the drive's inquiry string");
	snprintf(dir, sizeof(dir), "%s/usb_gadget/%s/functions/mass_storage.disk/lun.1",
	         cfg->configfs, cfg->gadget_name);
	if (gd_lun_set_inquiry(dir, "gadgetd", "Answer Files", "0100") < 0)
		GD_LOG_WARN("could not set the answer-file disk's inquiry string");
}

static int compose(struct gd_gadget *g, const struct gd_config *cfg, char *err, size_t errlen)
{
	struct usbg_gadget_attrs attrs = {
	    .bcdUSB = 0x0200,
	    .idVendor = cfg->vendor_id,
	    .idProduct = cfg->product_id,
	    .bcdDevice = 0x0100,
	};
	char serial[GD_USB_STR_MAX];
	if (cfg->serial[0])
		snprintf(serial, sizeof(serial), "%s", cfg->serial);
	else
		default_serial(serial, sizeof(serial));
	struct usbg_gadget_strs strs = {
	    .manufacturer = (char *)cfg->manufacturer,
	    .product = (char *)cfg->product,
	    .serial = serial,
	};
	int rc = usbg_create_gadget(g->state, cfg->gadget_name, &attrs, &strs, &g->gadget);
	if (rc != USBG_SUCCESS) {
		set_err(err, errlen, rc, "creating the gadget");
		return usbg_to_errno(rc);
	}
	struct usbg_config_attrs cattrs = {.bmAttributes = 0x80, .bMaxPower = 250};
	struct usbg_config_strs cstrs = {.configuration = "gadgetd"};
	usbg_config *config;
	rc = usbg_create_config(g->gadget, 1, "c", &cattrs, &cstrs, &config);
	if (rc != USBG_SUCCESS) {
		set_err(err, errlen, rc, "creating the configuration");
		return usbg_to_errno(rc);
	}
	/* Linked in the configured order, which the kernel keeps as the interface order. */
	for (unsigned n = 0; n < cfg->functions.count; n++) {
		size_t i = table_index(cfg->functions.order[n]);
		usbg_function *f;
		rc = create_function(g->gadget, i, cfg, &f);
		if (rc == USBG_SUCCESS && function_table[i].type == USBG_F_HID)
			rc = hid_without_out_endpoint(g, cfg);
		if (rc == USBG_SUCCESS && function_table[i].type == USBG_F_MASS_STORAGE)
			name_the_drive(cfg);
		if (rc == USBG_SUCCESS)
			rc = usbg_add_config_function(config, function_table[i].instance, f);
		if (rc != USBG_SUCCESS) {
			char what[64];
			snprintf(what, sizeof(what), "adding function '%s'",
			         function_table[i].instance);
			set_err(err, errlen, rc, what);
			return usbg_to_errno(rc);
		}
	}
	return 0;
}

static int bind_udc(struct gd_gadget *g, char *err, size_t errlen)
{
	usbg_gadget *owner = usbg_get_udc_gadget(g->udc);
	if (owner != NULL && owner != g->gadget) {
		snprintf(err, errlen, "UDC '%s' is in use by gadget '%s'",
		         usbg_get_udc_name(g->udc), usbg_get_gadget_name(owner));
		return -EBUSY;
	}
	int rc = usbg_enable_gadget(g->gadget, g->udc);
	if (rc != USBG_SUCCESS) {
		set_err(err, errlen, rc, "binding to the UDC");
		return usbg_to_errno(rc);
	}
	return 0;
}

int gd_gadget_open(struct gd_gadget **out, const struct gd_config *cfg, char *err, size_t errlen)
{
	struct gd_gadget *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&g->lock, NULL);
	g->keep_on_exit = cfg->keep_on_exit;
	g->functions = cfg->functions.mask;
	snprintf(g->udc_class, sizeof(g->udc_class), "%s", cfg->udc_class);
	snprintf(g->configfs, sizeof(g->configfs), "%s", cfg->configfs);
	if (g->functions == 0) {
		/* functions = none: no configfs, no UDC; only the API runs (benchmarks, no USB). */
		GD_LOG_WARN("functions = none: no USB gadget, configfs and UDC untouched");
		*out = g;
		return 0;
	}
	int rc = usbg_init(cfg->configfs, &g->state);
	if (rc != USBG_SUCCESS) {
		char what[PATH_MAX + 64];
		snprintf(what, sizeof(what), "configfs at %s (is libcomposite loaded?)",
		         cfg->configfs);
		set_err(err, errlen, rc, what);
		free(g);
		return usbg_to_errno(rc);
	}
	rc = find_udc(g, cfg, err, errlen);
	if (rc == 0)
		rc = handle_leftover(g, cfg, err, errlen);
	if (rc == 0 && !g->reused) {
		rc = compose(g, cfg, err, errlen);
		if (rc == 0)
			rc = bind_udc(g, err, errlen);
		if (rc < 0 && g->gadget != NULL) {
			usbg_rm_gadget(g->gadget, USBG_RM_RECURSE);
			g->gadget = NULL;
		}
	}
	if (rc < 0) {
		usbg_cleanup(g->state);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return rc;
	}
	GD_LOG_INFO("gadget '%s' %s on UDC %s", cfg->gadget_name, g->reused ? "reused" : "bound",
	            usbg_get_udc_name(g->udc));
	*out = g;
	return 0;
}

void gd_gadget_close(struct gd_gadget *g)
{
	if (g == NULL)
		return;
	if (g->state == NULL) { /* functions = none */
		pthread_mutex_destroy(&g->lock);
		free(g);
		return;
	}
	if (g->keep_on_exit) {
		GD_LOG_INFO("leaving gadget '%s' up (keep_on_exit)",
		            usbg_get_gadget_name(g->gadget));
	} else {
		if (usbg_get_gadget_udc(g->gadget) != NULL)
			usbg_disable_gadget(g->gadget);
		int rc = usbg_rm_gadget(g->gadget, USBG_RM_RECURSE);
		if (rc != USBG_SUCCESS)
			GD_LOG_ERROR("removing the gadget: %s", usbg_strerror((usbg_error)rc));
		else
			GD_LOG_INFO("gadget removed");
	}
	usbg_cleanup(g->state);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int gd_gadget_set_connected(struct gd_gadget *g, bool connected, char *err, size_t errlen)
{
	if (g->state == NULL) {
		snprintf(err, errlen, "there is no USB gadget (functions = none)");
		return -ENODEV;
	}
	pthread_mutex_lock(&g->lock);
	bool bound = usbg_get_gadget_udc(g->gadget) != NULL;
	int rc = 0;
	if (connected && !bound) {
		rc = bind_udc(g, err, errlen);
	} else if (!connected && bound) {
		int urc = usbg_disable_gadget(g->gadget);
		if (urc != USBG_SUCCESS) {
			set_err(err, errlen, urc, "unbinding from the UDC");
			rc = usbg_to_errno(urc);
		}
	}
	pthread_mutex_unlock(&g->lock);
	if (rc == 0 && connected != bound)
		GD_LOG_INFO("gadget %s", connected ? "connected" : "disconnected");
	return rc;
}

static void read_host_state(const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "unknown");
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	if (fgets(buf, (int)len, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* The /dev node of the keyboard function, from its major:minor. */
static void hid_device(usbg_gadget *gadget, char *buf, size_t len)
{
	buf[0] = '\0';
	usbg_function *f = usbg_get_function(gadget, USBG_F_HID, "keyboard");
	dev_t dev;
	if (f == NULL || usbg_f_hid_get_dev(usbg_to_hid_function(f), &dev) != USBG_SUCCESS)
		return;
	char path[64], line[128];
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/uevent", major(dev), minor(dev));
	FILE *u = fopen(path, "re");
	if (u == NULL)
		return;
	while (fgets(line, sizeof(line), u) != NULL) {
		if (strncmp(line, "DEVNAME=", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "/dev/%.40s", line + 8);
		}
	}
	fclose(u);
}

/* The /dev node of the ACM function: ttyGS and the port number the kernel gave it. */
static void acm_tty(usbg_gadget *gadget, char *buf, size_t len)
{
	buf[0] = '\0';
	usbg_function *f = usbg_get_function(gadget, USBG_F_ACM, "console");
	int port;
	if (f != NULL &&
	    usbg_f_serial_get_port_num(usbg_to_serial_function(f), &port) == USBG_SUCCESS)
		snprintf(buf, len, "/dev/ttyGS%d", port);
}

void gd_gadget_get_info(struct gd_gadget *g, struct gd_gadget_info *info)
{
	memset(info, 0, sizeof(*info));
	if (g->state == NULL) { /* functions = none: empty name, UDC and paths, never bound */
		snprintf(info->host_state, sizeof(info->host_state), "disabled");
		return;
	}
	pthread_mutex_lock(&g->lock);
	snprintf(info->name, sizeof(info->name), "%s", usbg_get_gadget_name(g->gadget));
	snprintf(info->udc, sizeof(info->udc), "%s", usbg_get_udc_name(g->udc));
	info->bound = usbg_get_gadget_udc(g->gadget) != NULL;
	info->reused = g->reused;
	info->functions = g->functions;
	hid_device(g->gadget, info->hid_device, sizeof(info->hid_device));
	acm_tty(g->gadget, info->tty, sizeof(info->tty));
	if (g->functions & GD_FUNC_MASS_STORAGE) {
		snprintf(info->lun_dir, sizeof(info->lun_dir),
		         "%s/usb_gadget/%s/functions/mass_storage.disk/lun.0", g->configfs,
		         info->name);
		/* A gadget reused from an older gadgetd may lack it. */
		snprintf(info->seed_lun_dir, sizeof(info->seed_lun_dir),
		         "%s/usb_gadget/%s/functions/mass_storage.disk/lun.1", g->configfs,
		         info->name);
		if (access(info->seed_lun_dir, F_OK) != 0)
			info->seed_lun_dir[0] = '\0';
	}
	struct usbg_gadget_attrs attrs;
	if (usbg_get_gadget_attrs(g->gadget, &attrs) == USBG_SUCCESS) {
		info->vendor_id = attrs.idVendor;
		info->product_id = attrs.idProduct;
	}
	pthread_mutex_unlock(&g->lock);
	snprintf(info->state_path, sizeof(info->state_path), "%s/%s/state", g->udc_class,
	         info->udc);
	if (info->bound)
		read_host_state(info->state_path, info->host_state, sizeof(info->host_state));
	else
		snprintf(info->host_state, sizeof(info->host_state), "not attached");
}
