/* config: the INI config file -> struct gd_config, with defaults and validation. */
#ifndef GD_CONFIG_H
#define GD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GD_USB_STR_MAX 127 /* USB string descriptors hold at most 126 UTF-16 units */

enum gd_function {
	GD_FUNC_KEYBOARD = 1 << 0,
	GD_FUNC_MASS_STORAGE = 1 << 1,
	GD_FUNC_ACM = 1 << 2,
};
#define GD_FUNC_COUNT 3

/* [gadget] functions: which ones, in the order the server sees them (their interface order;
 * firmware such as SeaBIOS looks at the first interface alone). */
struct gd_function_list {
	unsigned mask; /* bit set of enum gd_function */
	unsigned count;
	enum gd_function order[GD_FUNC_COUNT];
};

#define GD_BOOT_MACRO_MAX 256

struct gd_config {
	/* [gadget] */
	char gadget_name[64];
	char configfs[PATH_MAX];
	char udc[64]; /* empty: the first UDC found */
	char udc_class[PATH_MAX];
	struct gd_function_list functions;
	bool keep_on_exit;
	/* [usb] */
	uint16_t vendor_id;
	uint16_t product_id;
	char manufacturer[GD_USB_STR_MAX];
	char product[GD_USB_STR_MAX];
	char serial[GD_USB_STR_MAX]; /* empty: derived from /etc/machine-id */
	/* [media] */
	char image_store[PATH_MAX];
	bool cdrom;
	bool readonly;
	/* [http] */
	char bind[64];
	unsigned port;
	char users_file[PATH_MAX];
	unsigned session_idle;      /* seconds a browser session lives unused */
	unsigned session_lifetime;  /* seconds it lives at most */
	unsigned auth_delay_ms;     /* the wait after a first failed login, doubling after each */
	unsigned auth_delay_max_ms; /* and its ceiling */
	unsigned max_connections;   /* beyond: 503, or the slowest idle client is dropped */
	unsigned header_timeout;    /* seconds to send a request's headers (else 408) */
	unsigned idle_timeout;      /* seconds a connection may stay silent */
	unsigned header_max;        /* bytes of request line and headers (else 431) */
	unsigned body_max;          /* bytes of a JSON body (else 413); uploads stream */
	char webui_dir[PATH_MAX];   /* the browser panel's files; empty: no panel */
	/* [tls] */
	unsigned tls_port; /* 0: no HTTPS */
	char tls_bind[64];
	char tls_cert[PATH_MAX]; /* empty: STATE_DIR/tls/cert.pem, made on first start */
	char tls_key[PATH_MAX];
	/* [keyboard] */
	char layout[32];    /* default layout for text */
	unsigned pacing_ms; /* pause after each report */
	char keymaps_dir[PATH_MAX];
	/* [power] */
	char power_chip[64]; /* gpiod_chip_open_lookup(): name, path, label or number */
	char power_line[64]; /* offset or line name; empty: not wired */
	char reset_line[64];
	char led_line[64];
	bool power_active_low;
	bool reset_active_low;
	bool led_active_low;
	unsigned press_ms;
	unsigned long_press_ms;
	unsigned reset_ms;
	unsigned off_timeout_ms;
	unsigned cycle_pause_ms;
	/* [boot]: the macros that pick a boot device in the server's firmware at power-on */
	char boot_menu[GD_BOOT_MACRO_MAX];  /* opens the one-time boot menu */
	char boot_cd[GD_BOOT_MACRO_MAX];    /* then picks the USB CD-ROM ... */
	char boot_usb[GD_BOOT_MACRO_MAX];   /* ... the USB disk */
	char boot_hdd[GD_BOOT_MACRO_MAX];   /* ... the internal disk */
	char boot_pxe[GD_BOOT_MACRO_MAX];   /* ... the network */
	char boot_setup[GD_BOOT_MACRO_MAX]; /* enters setup instead of the menu */
	unsigned boot_host_wait_ms;         /* how long to wait for the server to take keys */
	/* [ipmi]: IPMI over LAN (RMCP+), off unless enabled */
	bool ipmi_enabled;
	char ipmi_bind[64];
	unsigned ipmi_port;
	char ipmi_users[PATH_MAX]; /* the IPMI passwords (ipmi_users.h) */
	/* [console] */
	char console_tty[PATH_MAX]; /* empty: the gadget's ACM port */
	unsigned console_buffer;    /* bytes of recent output kept in memory */
	unsigned console_log_size;  /* bytes before the log rotates */
	unsigned console_log_files; /* rotated logs kept */
	unsigned console_write_timeout_ms;
	char console_tcp_bind[64];
	unsigned console_tcp_port; /* 0: no TCP port */
	bool console_telnet;       /* tcp_mode: telnet, else raw */
	char console_banner[256];
	unsigned console_idle_timeout; /* seconds; 0: never */
	unsigned console_tcp_clients;
	/* [daemon] */
	char state_dir[PATH_MAX];
	int log_level;
};

/* Fills every field with its documented default. */
void gd_config_defaults(struct gd_config *cfg);

/*
 * Reads PATH over the values already in CFG. Returns 0, or -1 with a one-line
 * message "PATH:LINE: what is wrong" in ERR.
 */
int gd_config_load(struct gd_config *cfg, const char *path, char *err, size_t errlen);

/* Names of the functions in MASK, comma-separated, into BUF. */
void gd_config_functions_str(unsigned mask, char *buf, size_t len);

#endif
