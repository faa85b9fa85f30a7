/* main: options, config, signals, and the start and stop order of the modules. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "boot.h"
#include "config.h"
#include "console.h"
#include "console_tcp.h"
#include "console_ws.h"
#include "docstore.h"
#include "gadget.h"
#include "http.h"
#include "ipmi.h"
#include "keyboard.h"
#include "log.h"
#include "macros.h"
#include "media.h"
#include "power.h"
#include "power_gpio.h"
#include "redfish.h"

#define LOG_PREFIX  "MAIN: "
#define EXIT_CONFIG 78 /* sysexits EX_CONFIG; the unit does not restart on it */

#ifndef GD_VERSION
#define GD_VERSION "0.0.0"
#endif
#ifndef GD_SYSCONFDIR
#define GD_SYSCONFDIR "/etc/gadgetd"
#endif

static const char default_config[] = GD_SYSCONFDIR "/gadgetd.conf";

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: gadgetd [--config FILE] [--verbose]\n"
	        "       gadgetd passwd [--config FILE | --users FILE] [--role ROLE] USER\n"
	        "       gadgetd ipmi-passwd [--config FILE] USER\n"
	        "\n"
	        "A BMC for computers that have none: presents a USB keyboard, a removable disk\n"
	        "and a serial console to a server, and serves a JSON API to drive them.\n"
	        "\n"
	        "  -c, --config FILE  config file (default %s, if it exists)\n"
	        "  -u, --users FILE   users file, for 'passwd' (default: from the config)\n"
	        "  -r, --role ROLE    for 'passwd': viewer (read-only), operator (keys, media,\n"
	        "                     power, console) or admin (everything); default: the\n"
	        "                     user's role, admin for a new user\n"
	        "  -v, --verbose      log debug events too\n"
	        "  -h, --help         show this help\n"
	        "  -V, --version      show the version\n"
	        "\n"
	        "'passwd' sets USER's password in the users file; it reads the password from\n"
	        "the terminal without echo, or one line from standard input if that is not a\n"
	        "terminal. 'ipmi-passwd' sets USER's IPMI password the same way, in [ipmi] users:\n"
	        "IPMI needs the password itself, so that file holds it as it is (mode 0600);\n"
	        "give IPMI a password of its own, used nowhere else.\n",
	        default_config);
}

struct options {
	const char *config;
	const char *users;
	bool verbose;
	bool passwd;
	bool ipmi_passwd;
	const char *passwd_user;
	int role; /* -1: keep */
};

/* Returns -1 to exit 0 (help, version), 0 to go on, 2 for a usage error. */
static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"users", required_argument, NULL, 'u'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"role", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	const char *role = NULL;
	opt->role = -1;
	while ((c = getopt_long(argc, argv, "c:u:r:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opt->config = optarg; break;
		case 'u': opt->users = optarg; break;
		case 'r': role = optarg; break;
		case 'v': opt->verbose = true; break;
		case 'h': usage(stdout); return -1;
		case 'V': printf("gadgetd %s\n", GD_VERSION); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "ipmi-passwd") == 0) {
		opt->ipmi_passwd = true;
		if (argc - optind != 2 || opt->users != NULL || role != NULL) {
			fprintf(stderr,
			        "gadgetd: usage: gadgetd ipmi-passwd [--config FILE] USER\n");
			return 2;
		}
		opt->passwd_user = argv[optind + 1];
		return 0;
	}
	if (optind < argc && strcmp(argv[optind], "passwd") == 0) {
		opt->passwd = true;
		if (argc - optind != 2) {
			fprintf(stderr, "gadgetd: usage: gadgetd passwd [--config FILE] USER\n");
			return 2;
		}
		opt->passwd_user = argv[optind + 1];
		opt->role = role ? gd_auth_role_parse(role) : -1;
		if (role && opt->role < 0) {
			fprintf(stderr, "gadgetd: unknown role '%s' (viewer, operator, admin)\n",
			        role);
			return 2;
		}
		return 0;
	}
	if (optind < argc) {
		fprintf(stderr, "gadgetd: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (opt->users != NULL || role != NULL) {
		fprintf(stderr, "gadgetd: --users and --role are for 'passwd' (the daemon reads "
		                "[http] users)\n");
		return 2;
	}
	return 0;
}

static int load_config(const struct options *opt, struct gd_config *cfg)
{
	gd_config_defaults(cfg);
	const char *path = opt->config;
	if (path == NULL && access(default_config, F_OK) == 0)
		path = default_config;
	if (path != NULL) {
		char err[512];
		if (gd_config_load(cfg, path, err, sizeof(err)) < 0) {
			fprintf(stderr, "gadgetd: %s\n", err);
			return -1;
		}
	}
	gd_log_set_level(opt->verbose ? GD_LOG_DEBUG : (enum gd_log_level)cfg->log_level);
	return 0;
}

/* Reads a password: twice without echo from a terminal, else one line from stdin. */
static int read_password(char *buf, size_t len)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios saved, quiet;
	if (tty) {
		tcgetattr(STDIN_FILENO, &saved);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fprintf(stderr, "New password: ");
	}
	char again[256];
	int rc = fgets(buf, (int)len, stdin) ? 0 : -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (tty && rc == 0) {
		fprintf(stderr, "\nRetype password: ");
		rc = fgets(again, sizeof(again), stdin) ? 0 : -1;
		again[strcspn(again, "\r\n")] = '\0';
		if (rc == 0 && strcmp(buf, again) != 0) {
			fprintf(stderr, "\ngadgetd: passwords do not match\n");
			rc = -1;
		}
		explicit_bzero(again, sizeof(again));
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	return rc;
}

static int run_ipmi_passwd(const struct options *opt, const struct gd_config *cfg)
{
	char password[256], err[512];
	if (read_password(password, sizeof(password)) < 0) {
		fprintf(stderr, "gadgetd: no password read\n");
		return 1;
	}
	int rc = gd_ipmi_users_set(cfg->ipmi_users, opt->passwd_user, password, err, sizeof(err));
	explicit_bzero(password, sizeof(password));
	if (rc < 0) {
		fprintf(stderr, "gadgetd: %s\n", err);
		return 1;
	}
	fprintf(stderr, "gadgetd: IPMI password for '%s' set in %s\n", opt->passwd_user,
	        cfg->ipmi_users);
	return 0;
}

static int run_passwd(const struct options *opt, const struct gd_config *cfg)
{
	const char *users = opt->users ? opt->users : cfg->users_file;
	char password[256], err[512];
	if (read_password(password, sizeof(password)) < 0) {
		fprintf(stderr, "gadgetd: no password read\n");
		return 1;
	}
	int rc =
	    gd_auth_set_password(users, opt->passwd_user, password, opt->role, err, sizeof(err));
	explicit_bzero(password, sizeof(password));
	if (rc < 0) {
		fprintf(stderr, "gadgetd: %s\n", err);
		return 1;
	}
	fprintf(stderr, "gadgetd: password for '%s' set in %s\n", opt->passwd_user, users);
	return 0;
}

/* One daemon per state dir: a second one would tear down the first one's gadget. */
static int lock_instance(const struct gd_config *cfg)
{
	char path[PATH_MAX + 32];
	if (mkdir(cfg->state_dir, 0750) < 0 && errno != EEXIST) {
		GD_LOG_ERROR("state dir %s: %s", cfg->state_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/gadgetd.lock", cfg->state_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		GD_LOG_ERROR("%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		GD_LOG_ERROR("another gadgetd is running with state dir %s", cfg->state_dir);
		close(fd);
		return -1;
	}
	return fd; /* held until exit */
}

static int wait_for_stop(const sigset_t *signals)
{
	for (;;) {
		int sig = sigwaitinfo(signals, NULL);
		if (sig == SIGTERM || sig == SIGINT) {
			GD_LOG_INFO("stopping on %s", strsignal(sig));
			return 0;
		}
		if (sig == SIGHUP)
			GD_LOG_INFO(
			    "SIGHUP: the users file reloads by itself; restart for other changes");
	}
}

static int open_keyboard(struct gd_app *app, const struct gd_config *cfg, char *err, size_t errlen)
{
	if (!(cfg->functions.mask & GD_FUNC_KEYBOARD))
		return 0;
	struct gd_gadget_info info;
	gd_gadget_get_info(app->gadget, &info);
	if (info.hid_device[0] == '\0') {
		snprintf(err, errlen, "the keyboard function has no /dev/hidg device");
		return -ENODEV;
	}
	return gd_keyboard_open(&app->keyboard, cfg, info.hid_device, info.state_path, err, errlen);
}

/* The boot override plays its keys on the keyboard, as the user "boot-override". */
static int play_boot_keys(void *ctx, const char *macro, const atomic_bool *cancelled, char *err,
                          size_t errlen)
{
	struct gd_app *app = ctx;
	return gd_keyboard_play_macro(app->keyboard, "boot-override", macro,
	                              app->cfg->boot_host_wait_ms, cancelled, err, errlen);
}

/* The boot override (with a keyboard) and Redfish's state; the hook is set once power is. */
static int open_redfish(struct gd_app *app, const struct gd_config *cfg, char *err, size_t errlen)
{
	if (app->keyboard != NULL) {
		struct gd_boot_player player = {play_boot_keys, app};
		int rc = gd_boot_open(&app->boot, cfg, &player, err, errlen);
		if (rc < 0)
			return rc;
		if (app->power != NULL)
			gd_power_on_start(app->power, gd_boot_started, app->boot);
	}
	return gd_redfish_open(&app->redfish, app, err, errlen);
}

static int open_macros(struct gd_app *app, const struct gd_config *cfg, char *err, size_t errlen)
{
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/macros", cfg->state_dir);
	return gd_macros_open(&app->macros, dir, err, errlen);
}

static int open_scripts(struct gd_app *app, const struct gd_config *cfg, char *err, size_t errlen)
{
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/scripts", cfg->state_dir);
	int rc = gd_docstore_open(&app->scripts, dir, err, errlen);
	if (rc == 0 && (app->script_jobs = gd_jobs_new("scripts")) == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	return rc;
}

static int open_media(struct gd_app *app, const struct gd_config *cfg, char *err, size_t errlen)
{
	struct gd_gadget_info info;
	gd_gadget_get_info(app->gadget, &info);
	return gd_media_open(&app->media, cfg, info.lun_dir[0] ? info.lun_dir : NULL, app->gadget,
	                     err, errlen);
}

/* The ATX lines, when wired: requested inactive, so nothing is ever pressed at start. */
static int open_power(struct gd_app *app, const struct gd_config *cfg, struct gd_power_gpio **gpio,
                      char *err, size_t errlen)
{
	if (!cfg->power_line[0] && !cfg->reset_line[0] && !cfg->led_line[0])
		return 0;
	int rc = gd_power_gpio_open(gpio, cfg, err, errlen);
	if (rc < 0)
		return rc;
	struct gd_power_timing timing = {cfg->press_ms, cfg->long_press_ms, cfg->reset_ms,
	                                 cfg->off_timeout_ms, cfg->cycle_pause_ms};
	app->power = gd_power_new(gd_power_gpio_io(*gpio), &timing);
	app->power_led = cfg->led_line[0] != '\0';
	if (app->power == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return gd_power_gpio_watch(*gpio, app->power);
}

/* The serial console, when the gadget has one: its reader, log, WebSocket and TCP clients. */
static int open_console(struct gd_app *app, const struct gd_config *cfg,
                        struct gd_console_tcp **tcp, char *err, size_t errlen)
{
	if (!(cfg->functions.mask & GD_FUNC_ACM))
		return 0;
	struct gd_gadget_info info;
	gd_gadget_get_info(app->gadget, &info);
	const char *tty = cfg->console_tty[0] ? cfg->console_tty : info.tty;
	if (tty[0] == '\0') {
		snprintf(err, errlen, "the serial function has no /dev/ttyGS device");
		return -ENODEV;
	}
	char dir[PATH_MAX + 16], log[PATH_MAX + 32];
	snprintf(dir, sizeof(dir), "%s/console", cfg->state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %.400s: %s", dir, strerror(errno));
		return -errno;
	}
	snprintf(log, sizeof(log), "%s/console.log", dir);
	int rc = gd_console_open(&app->console, cfg, tty, log, err, errlen);
	if (rc < 0)
		return rc;
	app->console_ws = gd_console_ws_new(app->console);
	if (app->console_ws == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (cfg->console_tcp_port == 0)
		return 0;
	return gd_console_tcp_start(tcp, cfg, app->console, err, errlen);
}

/* What the API's authentication keeps: browser sessions, API tokens, failed-login waits. */
static int open_access(struct gd_app *app, const struct gd_config *cfg, char *err, size_t errlen)
{
	app->sessions = gd_sessions_new(256, (uint64_t)cfg->session_idle * 1000,
	                                (uint64_t)cfg->session_lifetime * 1000);
	app->throttle =
	    gd_throttle_new(cfg->auth_delay_ms, cfg->auth_delay_max_ms, 15ULL * 60 * 1000);
	if (app->sessions == NULL || app->throttle == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/tokens.json", cfg->state_dir);
	return gd_tokens_open(&app->tokens, path, err, errlen);
}

static int run_daemon(const struct gd_config *cfg)
{
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, NULL); /* before any thread starts */
	signal(SIGPIPE, SIG_IGN);

	struct gd_app app = {.cfg = cfg};
	clock_gettime(CLOCK_MONOTONIC, &app.started);
	char err[512];
	int rc = gd_auth_open(&app.auth, cfg->users_file, err, sizeof(err));
	if (rc == 0 && gd_auth_user_count(app.auth) == 0) {
		snprintf(err, sizeof(err), "%.400s has no users", cfg->users_file);
		gd_auth_close(app.auth);
		rc = -ENOENT;
	}
	if (rc < 0) {
		GD_LOG_ERROR(
		    "%s: the API needs a user; create one with: gadgetd passwd --config FILE NAME",
		    err);
		return EXIT_CONFIG;
	}
	int lock_fd = lock_instance(cfg);
	if (lock_fd < 0) {
		gd_auth_close(app.auth);
		return 1;
	}
	int exit_code = 1;
	struct gd_http *http = NULL;
	struct gd_power_gpio *gpio = NULL;
	struct gd_console_tcp *console_tcp = NULL;
	struct gd_ipmi *ipmi = NULL;
	if (open_access(&app, cfg, err, sizeof(err)) < 0 ||
	    gd_gadget_open(&app.gadget, cfg, err, sizeof(err)) < 0 ||
	    open_keyboard(&app, cfg, err, sizeof(err)) < 0 ||
	    open_macros(&app, cfg, err, sizeof(err)) < 0 ||
	    open_scripts(&app, cfg, err, sizeof(err)) < 0 ||
	    open_media(&app, cfg, err, sizeof(err)) < 0 ||
	    open_power(&app, cfg, &gpio, err, sizeof(err)) < 0 ||
	    open_console(&app, cfg, &console_tcp, err, sizeof(err)) < 0 ||
	    open_redfish(&app, cfg, err, sizeof(err)) < 0 ||
	    gd_ipmi_open(&ipmi, &app, err, sizeof(err)) < 0 ||
	    gd_http_start(&http, &app, err, sizeof(err)) < 0) {
		GD_LOG_ERROR("%s", err);
	} else {
		sd_notify(0, "READY=1");
		GD_LOG_INFO("gadgetd %s ready", GD_VERSION);
		exit_code = wait_for_stop(&signals);
		sd_notify(0, "STOPPING=1");
	}
	gd_console_interrupt(app.console); /* requests waiting on output return */
	gd_console_ws_stop(app.console_ws);
	gd_http_stop(http);
	gd_jobs_free(app.script_jobs); /* a running script stops before what it drives goes */
	gd_docstore_close(app.scripts);
	gd_console_ws_free(app.console_ws);
	gd_console_tcp_stop(console_tcp);
	gd_console_close(app.console);
	gd_ipmi_close(ipmi);           /* it queues resets */
	gd_redfish_close(app.redfish); /* its resets end before the lines go */
	gd_power_gpio_close(gpio);     /* buttons released, the LED watcher (the start hook) gone */
	gd_boot_close(app.boot);
	gd_power_free(app.power);
	gd_media_close(app.media);
	gd_macros_close(app.macros);
	gd_keyboard_close(app.keyboard);
	gd_gadget_close(app.gadget);
	gd_tokens_close(app.tokens);
	gd_throttle_free(app.throttle);
	gd_sessions_free(app.sessions);
	gd_auth_close(app.auth);
	close(lock_fd);
	return exit_code;
}

int main(int argc, char **argv)
{
	struct options opt = {0};
	int rc = parse_options(argc, argv, &opt);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	struct gd_config cfg;
	if (load_config(&opt, &cfg) < 0)
		return EXIT_CONFIG;
	if (opt.passwd)
		return run_passwd(&opt, &cfg);
	if (opt.ipmi_passwd)
		return run_ipmi_passwd(&opt, &cfg);
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread starts */
	rc = run_daemon(&cfg);
	curl_global_cleanup();
	return rc;
}
