/* config: the INI config file -> struct gd_config, with defaults and validation. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

#include "log.h"

#ifndef GD_DATADIR
#define GD_DATADIR "/usr/local/share/gadgetd"
#endif
#ifndef GD_SYSCONFDIR
#define GD_SYSCONFDIR "/etc/gadgetd"
#endif

struct parse_ctx {
	struct gd_config *cfg;
	const char *only_section; /* a boot profile: [boot] and nothing else */
	FILE *file;
	int line; /* lines read so far: the handler's entry ends on this line */
	int error_line;
	char msg[256]; /* first error, without file and line */
};

struct option;
typedef int (*setter_fn)(void *field, const struct option *o, const char *value, char *msg,
                         size_t msglen);

struct option {
	const char *section;
	const char *key;
	setter_fn set;
	size_t offset;
	size_t size;
	unsigned long min, max; /* for numbers and sizes */
	const char *what;       /* for numbers: "a port number" */
};

static const struct {
	const char *name;
	enum gd_function bit;
} function_names[] = {
    {"keyboard", GD_FUNC_KEYBOARD},
    {"mass_storage", GD_FUNC_MASS_STORAGE},
    {"acm", GD_FUNC_ACM},
};

void gd_config_defaults(struct gd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->gadget_name, sizeof(cfg->gadget_name), "gadgetd");
	snprintf(cfg->configfs, sizeof(cfg->configfs), "/sys/kernel/config");
	snprintf(cfg->udc_class, sizeof(cfg->udc_class), "/sys/class/udc");
	cfg->functions = (struct gd_function_list){
	    .mask = GD_FUNC_KEYBOARD | GD_FUNC_MASS_STORAGE | GD_FUNC_ACM,
	    .count = 3,
	    .order = {GD_FUNC_KEYBOARD, GD_FUNC_MASS_STORAGE, GD_FUNC_ACM},
	};
	/* Linux Foundation "Multifunction Composite Gadget", the id meant for configfs gadgets. */
	cfg->vendor_id = 0x1d6b;
	cfg->product_id = 0x0104;
	snprintf(cfg->manufacturer, sizeof(cfg->manufacturer), "gadgetd");
	snprintf(cfg->product, sizeof(cfg->product), "gadgetd USB BMC");
	snprintf(cfg->image_store, sizeof(cfg->image_store), "/var/lib/gadgetd/images");
	cfg->cdrom = true;
	cfg->readonly = true;
	/* Plain HTTP for this machine only; the network gets HTTPS. */
	snprintf(cfg->bind, sizeof(cfg->bind), "127.0.0.1");
	cfg->port = 8080;
	snprintf(cfg->users_file, sizeof(cfg->users_file), "%s/users", GD_SYSCONFDIR);
	cfg->session_idle = 30 * 60;
	cfg->session_lifetime = 12 * 3600;
	cfg->auth_delay_ms = 500;
	cfg->auth_delay_max_ms = 60000;
	cfg->max_connections = 64;
	cfg->header_timeout = 10;
	cfg->idle_timeout = 60;
	cfg->header_max = 16 * 1024;
	cfg->body_max = 1024 * 1024;
	cfg->tls_port = 8443;
	snprintf(cfg->tls_bind, sizeof(cfg->tls_bind), "0.0.0.0");
	snprintf(cfg->layout, sizeof(cfg->layout), "us");
	/* 20 ms a report: a tap takes 40 ms. Firmware that polls its keyboard slowly drops keys
	 * sent faster; requests may ask for less. */
	cfg->pacing_ms = 20;
	snprintf(cfg->keymaps_dir, sizeof(cfg->keymaps_dir), "%s/keymaps", GD_DATADIR);
	snprintf(cfg->webui_dir, sizeof(cfg->webui_dir), "%s/webui", GD_DATADIR);
	snprintf(cfg->power_chip, sizeof(cfg->power_chip), "gpiochip0");
	cfg->press_ms = 500;
	cfg->long_press_ms = 5000;
	cfg->reset_ms = 500;
	cfg->off_timeout_ms = 60000;
	cfg->cycle_pause_ms = 5000;
	/* Common firmware: F12 hammered from power-on opens the one-time boot menu, whose first
	 * entry past the default (the internal disk) is the USB drive; DEL enters setup. */
	snprintf(cfg->boot_menu, sizeof(cfg->boot_menu), "repeat 25 every 200ms: f12");
	snprintf(cfg->boot_cd, sizeof(cfg->boot_cd), "up; enter");
	snprintf(cfg->boot_usb, sizeof(cfg->boot_usb), "up; enter");
	snprintf(cfg->boot_hdd, sizeof(cfg->boot_hdd), "enter");
	snprintf(cfg->boot_pxe, sizeof(cfg->boot_pxe), "down; enter");
	snprintf(cfg->boot_setup, sizeof(cfg->boot_setup), "repeat 25 every 200ms: delete");
	cfg->boot_host_wait_ms = 10000;
	snprintf(cfg->ipmi_bind, sizeof(cfg->ipmi_bind), "0.0.0.0");
	cfg->ipmi_port = 623;
	snprintf(cfg->ipmi_users, sizeof(cfg->ipmi_users), "%s/ipmi-users", GD_SYSCONFDIR);
	cfg->console_buffer = 1024 * 1024;
	cfg->console_log_size = 4 * 1024 * 1024;
	cfg->console_log_files = 4;
	cfg->console_write_timeout_ms = 2000;
	/* The TCP port has no authentication: local use and SSH tunnels only, unless moved. */
	snprintf(cfg->console_tcp_bind, sizeof(cfg->console_tcp_bind), "127.0.0.1");
	cfg->console_tcp_port = 2323;
	cfg->console_telnet = true;
	cfg->console_tcp_clients = 8;
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/gadgetd");
	cfg->log_level = GD_LOG_INFO;
}

static int set_string(void *field, const struct option *o, const char *value, char *msg,
                      size_t msglen)
{
	if (strlen(value) >= o->size) {
		snprintf(msg, msglen, "value is longer than %zu characters", o->size - 1);
		return -1;
	}
	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(msg, msglen, "value contains a control character");
			return -1;
		}
	}
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

static int set_path(void *field, const struct option *o, const char *value, char *msg,
                    size_t msglen)
{
	if (value[0] != '/') {
		snprintf(msg, msglen, "'%s' is not an absolute path", value);
		return -1;
	}
	return set_string(field, o, value, msg, msglen);
}

/* An absolute path, or nothing to turn the feature off. */
static int set_path_or_off(void *field, const struct option *o, const char *value, char *msg,
                           size_t msglen)
{
	return value[0] ? set_path(field, o, value, msg, msglen)
	                : set_string(field, o, value, msg, msglen);
}

static int set_name(void *field, const struct option *o, const char *value, char *msg,
                    size_t msglen)
{
	if (value[0] == '\0' || value[0] == '.' || strpbrk(value, "/ \t") != NULL) {
		snprintf(msg, msglen, "'%s' is not a valid name (no '/', spaces or leading '.')",
		         value);
		return -1;
	}
	return set_string(field, o, value, msg, msglen);
}

static int set_address(void *field, const struct option *o, const char *value, char *msg,
                       size_t msglen)
{
	unsigned char addr[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, value, addr) != 1 && inet_pton(AF_INET6, value, addr) != 1) {
		snprintf(msg, msglen, "'%s' is not an IPv4 or IPv6 address", value);
		return -1;
	}
	return set_string(field, o, value, msg, msglen);
}

static int parse_ulong(const char *value, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	if (value[0] == '-' || value[0] == '\0')
		return -1;
	unsigned long v = strtoul(value, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int set_u16(void *field, const struct option *o, const char *value, char *msg, size_t msglen)
{
	(void)o;
	unsigned long v;
	if (parse_ulong(value, 0xffff, &v) < 0) {
		snprintf(msg, msglen, "'%s' is not a 16-bit number (e.g. 0x1d6b)", value);
		return -1;
	}
	*(uint16_t *)field = (uint16_t)v;
	return 0;
}

/* An unsigned number in [O->min, O->max], for options whose field is an unsigned. */
static int set_uint(void *field, const struct option *o, const char *value, char *msg,
                    size_t msglen)
{
	unsigned long v;
	if (parse_ulong(value, o->max, &v) < 0 || v < o->min) {
		snprintf(msg, msglen, "'%s' is not %s (%lu-%lu)", value, o->what, o->min, o->max);
		return -1;
	}
	*(unsigned *)field = (unsigned)v;
	return 0;
}

/* A byte count in [O->min, O->max] with an optional K, M or G suffix (powers of 1024). */
static int set_size(void *field, const struct option *o, const char *value, char *msg,
                    size_t msglen)
{
	unsigned long min = o->min, max = o->max;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(value, &end, 10);
	unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
	end += shift ? 1 : 0;
	if (end == value || *end != '\0' || errno || value[0] == '-' || v > (max >> shift) ||
	    (v << shift) < min) {
		bool mib = max >= (1UL << 20);
		snprintf(msg, msglen, "'%s' is not a size from %luK to %lu%s (e.g. 512K, 4M)",
		         value, min >> 10, mib ? max >> 20 : max >> 10, mib ? "M" : "K");
		return -1;
	}
	*(unsigned *)field = (unsigned)(v << shift);
	return 0;
}

static int set_tcp_mode(void *field, const struct option *o, const char *value, char *msg,
                        size_t msglen)
{
	(void)o;
	if (strcmp(value, "telnet") != 0 && strcmp(value, "raw") != 0) {
		snprintf(msg, msglen, "'%s' is not a mode (telnet, raw)", value);
		return -1;
	}
	*(bool *)field = strcmp(value, "telnet") == 0;
	return 0;
}

static int set_bool(void *field, const struct option *o, const char *value, char *msg,
                    size_t msglen)
{
	(void)o;
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*(bool *)field = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*(bool *)field = false;
			return 0;
		}
	}
	snprintf(msg, msglen, "'%s' is not a boolean (yes/no)", value);
	return -1;
}

static int set_log_level(void *field, const struct option *o, const char *value, char *msg,
                         size_t msglen)
{
	(void)o;
	int level = gd_log_level_parse(value);
	if (level < 0) {
		snprintf(msg, msglen, "'%s' is not a log level (error, warn, info, debug)", value);
		return -1;
	}
	*(int *)field = level;
	return 0;
}

static int set_functions(void *field, const struct option *o, const char *value, char *msg,
                         size_t msglen)
{
	(void)o;
	char copy[256];
	if (strlen(value) >= sizeof(copy)) {
		snprintf(msg, msglen, "list is too long");
		return -1;
	}
	memcpy(copy, value, strlen(value) + 1);
	struct gd_function_list list = {0};
	if (strcmp(value, "none") == 0) {
		/* No gadget at all, configfs and the UDC untouched: only to benchmark the API. */
		*(struct gd_function_list *)field = list;
		return 0;
	}
	char *save = NULL;
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		unsigned bit = 0;
		for (size_t i = 0; i < sizeof(function_names) / sizeof(function_names[0]); i++) {
			if (strcmp(tok, function_names[i].name) == 0)
				bit = function_names[i].bit;
		}
		if (bit == 0) {
			snprintf(msg, msglen, "unknown function '%s' (keyboard, mass_storage, acm)",
			         tok);
			return -1;
		}
		if (list.mask & bit) {
			snprintf(msg, msglen, "'%s' is listed twice", tok);
			return -1;
		}
		list.mask |= bit;
		list.order[list.count++] = (enum gd_function)bit;
	}
	if (list.mask == 0) {
		snprintf(msg, msglen, "at least one function is needed");
		return -1;
	}
	*(struct gd_function_list *)field = list;
	return 0;
}

static int set_boot_profile(void *field, const struct option *o, const char *value, char *msg,
                            size_t msglen);
/* What a boot profile's name may hold. */
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789._-"

#define OPT(sec, key, fn, member)                                                                  \
	{                                                                                          \
		sec, key, fn, offsetof(struct gd_config, member),                                  \
		    sizeof(((struct gd_config *)0)->member), 0, 0, NULL                            \
	}
/* An unsigned number: then MIN, MAX and WHAT names it in errors. */
#define NUM(sec, key, member, ...)                                                                 \
	{                                                                                          \
		sec, key, set_uint, offsetof(struct gd_config, member),                            \
		    sizeof(((struct gd_config *)0)->member), __VA_ARGS__                           \
	}
/* A byte count from MIN to MAX, with K, M or G. */
#define SIZE(sec, key, member, min, max)                                                           \
	{                                                                                          \
		sec, key, set_size, offsetof(struct gd_config, member),                            \
		    sizeof(((struct gd_config *)0)->member), min, max, NULL                        \
	}
#define PORT     1, 65535, "a port number"
#define PORT_OFF 0, 65535, "a port number, or 0 for none"
#define MS       100, 3600000, "a duration in milliseconds"
#define PRESS_MS 10, 60000, "a duration in milliseconds"
#define SECONDS  0, 86400UL * 7, "a number of seconds, 0 for never"

static const struct option options[] = {
    OPT("gadget", "name", set_name, gadget_name),
    OPT("gadget", "configfs", set_path, configfs),
    OPT("gadget", "udc", set_string, udc),
    OPT("gadget", "udc_class", set_path, udc_class),
    OPT("gadget", "functions", set_functions, functions),
    OPT("gadget", "keep_on_exit", set_bool, keep_on_exit),
    OPT("usb", "vendor_id", set_u16, vendor_id),
    OPT("usb", "product_id", set_u16, product_id),
    OPT("usb", "manufacturer", set_string, manufacturer),
    OPT("usb", "product", set_string, product),
    OPT("usb", "serial", set_string, serial),
    OPT("media", "image_store", set_path, image_store),
    OPT("media", "cdrom", set_bool, cdrom),
    OPT("media", "readonly", set_bool, readonly),
    OPT("http", "bind", set_address, bind),
    NUM("http", "port", port, PORT_OFF),
    OPT("http", "users", set_path, users_file),
    NUM("http", "session_idle", session_idle, 1, 86400UL * 7, "a number of seconds"),
    NUM("http", "session_lifetime", session_lifetime, 1, 86400UL * 30, "a number of seconds"),
    NUM("http", "auth_delay_ms", auth_delay_ms, 0, 60000, "a duration in milliseconds"),
    NUM("http", "auth_delay_max_ms", auth_delay_max_ms, 0, 3600000, "a duration in milliseconds"),
    NUM("http", "max_connections", max_connections, 4, 1024, "a number of connections"),
    NUM("http", "header_timeout", header_timeout, 1, 600, "a number of seconds"),
    NUM("http", "idle_timeout", idle_timeout, 1, 86400, "a number of seconds"),
    SIZE("http", "header_max", header_max, 1024, 64UL << 10),
    SIZE("http", "body_max", body_max, 4096, 64UL << 20),
    OPT("http", "webui", set_path_or_off, webui_dir),
    NUM("tls", "port", tls_port, PORT_OFF),
    OPT("tls", "bind", set_address, tls_bind),
    OPT("tls", "cert", set_path, tls_cert),
    OPT("tls", "key", set_path, tls_key),
    OPT("keyboard", "layout", set_name, layout),
    NUM("keyboard", "pacing_ms", pacing_ms, 0, 1000, "a pacing in milliseconds"),
    OPT("keyboard", "keymaps", set_path, keymaps_dir),
    OPT("power", "chip", set_string, power_chip),
    OPT("power", "power_line", set_string, power_line),
    OPT("power", "reset_line", set_string, reset_line),
    OPT("power", "led_line", set_string, led_line),
    OPT("power", "power_active_low", set_bool, power_active_low),
    OPT("power", "reset_active_low", set_bool, reset_active_low),
    OPT("power", "led_active_low", set_bool, led_active_low),
    NUM("power", "press_ms", press_ms, PRESS_MS),
    NUM("power", "long_press_ms", long_press_ms, PRESS_MS),
    NUM("power", "reset_ms", reset_ms, PRESS_MS),
    NUM("power", "off_timeout_ms", off_timeout_ms, MS),
    NUM("power", "cycle_pause_ms", cycle_pause_ms, MS),
    /* The whole config: a profile sets any [boot] key. */
    {"boot", "profile", set_boot_profile, 0, sizeof(struct gd_config), 0, 0, NULL},
    OPT("boot", "menu", set_string, boot_menu),
    OPT("boot", "cd", set_string, boot_cd),
    OPT("boot", "usb", set_string, boot_usb),
    OPT("boot", "hdd", set_string, boot_hdd),
    OPT("boot", "pxe", set_string, boot_pxe),
    OPT("boot", "setup", set_string, boot_setup),
    NUM("boot", "host_wait_ms", boot_host_wait_ms, MS),
    OPT("ipmi", "enabled", set_bool, ipmi_enabled),
    OPT("ipmi", "bind", set_address, ipmi_bind),
    NUM("ipmi", "port", ipmi_port, 1, 65535, "a port number"),
    OPT("ipmi", "users", set_path, ipmi_users),
    OPT("console", "tty", set_path, console_tty),
    SIZE("console", "buffer_size", console_buffer, 4096, 256UL << 20),
    SIZE("console", "log_size", console_log_size, 4096, 1024UL << 20),
    NUM("console", "log_files", console_log_files, 0, 100, "a number of files"),
    NUM("console", "write_timeout_ms", console_write_timeout_ms, MS),
    OPT("console", "tcp_bind", set_address, console_tcp_bind),
    NUM("console", "tcp_port", console_tcp_port, PORT_OFF),
    OPT("console", "tcp_mode", set_tcp_mode, console_telnet),
    OPT("console", "banner", set_string, console_banner),
    NUM("console", "idle_timeout", console_idle_timeout, SECONDS),
    NUM("console", "tcp_clients", console_tcp_clients, 1, 64, "a number of clients"),
    OPT("daemon", "state_dir", set_path, state_dir),
    OPT("daemon", "log_level", set_log_level, log_level),
};

/* Debian's inih passes no line number to handlers: count lines in the reader instead. */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse_ctx *ctx = stream;
	char *line = fgets(buf, size, ctx->file);
	if (line != NULL)
		ctx->line++;
	return line;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct parse_ctx *ctx = user;
	if (ctx->msg[0] != '\0')
		return 0; /* keep the first error only */
	ctx->error_line = ctx->line;
	if (section[0] == '\0') {
		snprintf(ctx->msg, sizeof(ctx->msg), "key '%s' outside any [section]", key);
		return 0;
	}
	if (ctx->only_section != NULL &&
	    (strcmp(section, ctx->only_section) != 0 || strcmp(key, "profile") == 0)) {
		snprintf(ctx->msg, sizeof(ctx->msg),
		         "a boot profile holds [%s] keys alone, not %s in [%s]", ctx->only_section,
		         key, section);
		return 0;
	}
	bool section_known = false;
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		const struct option *o = &options[i];
		if (strcmp(section, o->section) != 0)
			continue;
		section_known = true;
		if (strcmp(key, o->key) != 0)
			continue;
		char msg[200];
		if (o->set((char *)ctx->cfg + o->offset, o, value, msg, sizeof(msg)) < 0) {
			snprintf(ctx->msg, sizeof(ctx->msg), "[%s] %s: %s", section, key, msg);
			return 0;
		}
		return 1;
	}
	if (!section_known)
		snprintf(ctx->msg, sizeof(ctx->msg), "unknown section [%s]", section);
	else
		snprintf(ctx->msg, sizeof(ctx->msg), "unknown key '%s' in [%s]", key, section);
	return 0;
}

static int load_file(struct gd_config *cfg, const char *path, const char *only_section, char *err,
                     size_t errlen)
{
	struct parse_ctx ctx = {.cfg = cfg, .only_section = only_section};
	ctx.file = fopen(path, "r");
	if (ctx.file == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	int rc = ini_parse_stream(read_line, &ctx, on_entry, &ctx);
	fclose(ctx.file);
	if (ctx.msg[0] != '\0' && (rc <= 0 || rc >= ctx.error_line)) {
		snprintf(err, errlen, "%s:%d: %s", path, ctx.error_line, ctx.msg);
		return -1;
	}
	if (rc != 0) {
		/* inih reports lines it cannot parse (no '=', unclosed '[') without calling us. */
		snprintf(err, errlen, "%s:%d: syntax error (expected 'key = value' or '[section]')",
		         path, rc);
		return -1;
	}
	return 0;
}

int gd_config_load(struct gd_config *cfg, const char *path, char *err, size_t errlen)
{
	return load_file(cfg, path, NULL, err, errlen);
}

/*
 * [boot] profile: the [boot] keys of a firmware family or vendor, from a file of [boot] keys
 * alone: a name (boot-profiles/NAME.conf in the data directory) or a path. Keys after it in
 * the config override it.
 */
static int set_boot_profile(void *field, const struct option *o, const char *value, char *msg,
                            size_t msglen)
{
	(void)o;
	char path[PATH_MAX];
	if (strchr(value, '/') != NULL) {
		snprintf(path, sizeof(path), "%s", value);
	} else if (value[0] == '\0' || value[0] == '.' ||
	           strspn(value, NAME_CHARS) != strlen(value)) {
		snprintf(msg, msglen, "'%.64s' is not a profile name (a-z 0-9 . _ -) or a path",
		         value);
		return -1;
	} else {
		snprintf(path, sizeof(path), "%s/boot-profiles/%s.conf", GD_DATADIR, value);
	}
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(msg, msglen, "%.200s is not a file", path);
		return -1;
	}
	return load_file(field, path, "boot", msg, msglen) < 0 ? -1 : 0;
}

void gd_config_functions_str(unsigned mask, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(function_names) / sizeof(function_names[0]); i++) {
		if (!(mask & function_names[i].bit))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
		                 function_names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}
