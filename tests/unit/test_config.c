/* Unit tests of config: defaults, a good file, and each kind of bad file. */
#include "config.h"

#include "log.h"
#include "unit.h"

static void test_defaults(void **state)
{
	(void)state;
	struct gd_config cfg;
	gd_config_defaults(&cfg);
	assert_string_equal(cfg.gadget_name, "gadgetd");
	assert_string_equal(cfg.configfs, "/sys/kernel/config");
	assert_string_equal(cfg.udc, "");
	assert_int_equal(cfg.vendor_id, 0x1d6b);
	assert_int_equal(cfg.product_id, 0x0104);
	assert_int_equal(cfg.functions.mask, GD_FUNC_KEYBOARD | GD_FUNC_MASS_STORAGE | GD_FUNC_ACM);
	assert_int_equal(cfg.port, 8080);
	assert_true(cfg.cdrom);
	assert_false(cfg.keep_on_exit);
	assert_int_equal(cfg.log_level, GD_LOG_INFO);
	assert_string_equal(cfg.layout, "us");
	assert_int_equal(cfg.pacing_ms, 20);
}

static void test_good_file(void **state)
{
	(void)state;
	const char *path = unit_write("good.conf", "# a comment\n"
	                                           "[gadget]\n"
	                                           "name = bmc0\n"
	                                           "udc = fe980000.usb\n"
	                                           "functions = keyboard, acm\n"
	                                           "keep_on_exit = yes\n"
	                                           "\n"
	                                           "[usb]\n"
	                                           "vendor_id = 0x1209\n"
	                                           "product_id = 4660\n"
	                                           "manufacturer = Example Corp\n"
	                                           "serial = ABC123\n"
	                                           "[media]\n"
	                                           "image_store = /srv/images\n"
	                                           "cdrom = off\n"
	                                           "readonly = False\n"
	                                           "[http]\n"
	                                           "bind = ::1\n"
	                                           "port = 443\n"
	                                           "users = /etc/bmc/users\n"
	                                           "[keyboard]\n"
	                                           "layout = de\n"
	                                           "pacing_ms = 0\n"
	                                           "keymaps = /opt/keymaps\n"
	                                           "[daemon]\n"
	                                           "state_dir = /var/lib/bmc\n"
	                                           "log_level = debug\n");
	struct gd_config cfg;
	gd_config_defaults(&cfg);
	char err[512] = "";
	assert_int_equal(gd_config_load(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.gadget_name, "bmc0");
	assert_string_equal(cfg.udc, "fe980000.usb");
	assert_int_equal(cfg.functions.mask, GD_FUNC_KEYBOARD | GD_FUNC_ACM);
	assert_true(cfg.keep_on_exit);
	assert_int_equal(cfg.vendor_id, 0x1209);
	assert_int_equal(cfg.product_id, 4660);
	assert_string_equal(cfg.manufacturer, "Example Corp");
	assert_string_equal(cfg.product, "gadgetd USB BMC"); /* untouched default */
	assert_string_equal(cfg.serial, "ABC123");
	assert_string_equal(cfg.image_store, "/srv/images");
	assert_false(cfg.cdrom);
	assert_false(cfg.readonly);
	assert_string_equal(cfg.bind, "::1");
	assert_int_equal(cfg.port, 443);
	assert_string_equal(cfg.users_file, "/etc/bmc/users");
	assert_string_equal(cfg.layout, "de");
	assert_int_equal(cfg.pacing_ms, 0);
	assert_string_equal(cfg.keymaps_dir, "/opt/keymaps");
	assert_string_equal(cfg.state_dir, "/var/lib/bmc");
	assert_int_equal(cfg.log_level, GD_LOG_DEBUG);
	char names[64];
	gd_config_functions_str(cfg.functions.mask, names, sizeof(names));
	assert_string_equal(names, "keyboard,acm");
}

/* The listed order is the order the server sees: BIOS firmware looks at the first alone. */
static void test_functions_keep_their_order(void **state)
{
	(void)state;
	const char *path =
	    unit_write("order.conf", "[gadget]\nfunctions = mass_storage, acm keyboard\n");
	struct gd_config cfg;
	gd_config_defaults(&cfg);
	assert_int_equal(cfg.functions.count, 3);
	assert_int_equal(cfg.functions.order[0], GD_FUNC_KEYBOARD);
	char err[512] = "";
	assert_int_equal(gd_config_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.functions.count, 3);
	assert_int_equal(cfg.functions.order[0], GD_FUNC_MASS_STORAGE);
	assert_int_equal(cfg.functions.order[1], GD_FUNC_ACM);
	assert_int_equal(cfg.functions.order[2], GD_FUNC_KEYBOARD);
	assert_int_equal(cfg.functions.mask, GD_FUNC_KEYBOARD | GD_FUNC_MASS_STORAGE | GD_FUNC_ACM);
}

/* A boot profile sets the [boot] keys; keys after it in the config win. */
static void test_boot_profile(void **state)
{
	(void)state;
	const char *profile = unit_write("fw.conf", "[boot]\nmenu = repeat 20 every 250ms: f2\n"
	                                            "cd = down; enter\nhdd = enter\n");
	char text[512];
	snprintf(text, sizeof(text), "[boot]\nprofile = %s\nhdd = up; enter\n", profile);
	const char *path = unit_write("with-profile.conf", text);
	struct gd_config cfg;
	gd_config_defaults(&cfg);
	char err[512] = "";
	assert_int_equal(gd_config_load(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(cfg.boot_menu, "repeat 20 every 250ms: f2");
	assert_string_equal(cfg.boot_cd, "down; enter");
	assert_string_equal(cfg.boot_hdd, "up; enter");
	assert_string_equal(cfg.boot_pxe, "down; enter"); /* the default, untouched */
}

/* Loads TEXT and expects an error naming the file, LINE and containing WHAT. */
static void expect_error(const char *text, int line, const char *what)
{
	const char *path = unit_write("bad.conf", text);
	struct gd_config cfg;
	gd_config_defaults(&cfg);
	char err[512] = "";
	assert_int_equal(gd_config_load(&cfg, path, err, sizeof(err)), -1);
	char where[300];
	snprintf(where, sizeof(where), "%s:%d: ", path, line);
	if (strncmp(err, where, strlen(where)) != 0 || strstr(err, what) == NULL)
		fail_msg("got \"%s\", expected \"%s...%s\"", err, where, what);
	assert_null(strchr(err, '\n')); /* one line */
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("[http]\nport = 80\nprot = 81\n", 3, "unknown key 'prot' in [http]");
}

static void test_unknown_section(void **state)
{
	(void)state;
	expect_error("[htp]\nport = 80\n", 2, "unknown section [htp]");
}

static void test_key_outside_section(void **state)
{
	(void)state;
	expect_error("port = 80\n", 1, "outside any [section]");
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_error("[http]\nport = 70000\n", 2, "'70000' is not a port number");
	expect_error("[http]\nport = -1\n", 2, "is not a port number");
	expect_error("[http]\nport = 80x\n", 2, "is not a port number");
	expect_error("[http]\n\nbind = localhost\n", 3, "not an IPv4 or IPv6 address");
	expect_error("[usb]\nvendor_id = 0x1ffff\n", 2, "not a 16-bit number");
	expect_error("[gadget]\nkeep_on_exit = maybe\n", 2, "'maybe' is not a boolean");
	expect_error("[gadget]\nfunctions = keyboard, mouse\n", 2, "unknown function 'mouse'");
	expect_error("[gadget]\nfunctions = ,\n", 2, "at least one function");
	expect_error("[gadget]\nfunctions = acm, keyboard, acm\n", 2, "'acm' is listed twice");
	expect_error("[boot]\nprofile = .hidden\n", 2, "not a profile name");
	expect_error("[boot]\nprofile = /nonexistent/fw.conf\n", 2, "cannot open");
	char text[512];
	snprintf(text, sizeof(text), "[boot]\nprofile = %s\n",
	         unit_write("other.conf", "[http]\nport = 1\n"));
	expect_error(text, 2, "holds [boot] keys alone");
	snprintf(text, sizeof(text), "[boot]\nprofile = %s\n",
	         unit_write("nested.conf", "[boot]\nprofile = other\n"));
	expect_error(text, 2, "holds [boot] keys alone");
	expect_error("[gadget]\nname = ../evil\n", 2, "not a valid name");
	expect_error("[media]\nimage_store = images\n", 2, "not an absolute path");
	expect_error("[daemon]\nlog_level = loud\n", 2, "not a log level");
	expect_error("[keyboard]\npacing_ms = 1001\n", 2, "not a pacing in milliseconds");
	expect_error("[keyboard]\nlayout = ../us\n", 2, "not a valid name");
	expect_error(
	    "[usb]\nproduct = "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	    2, "longer than 126");
}

/* The API's access and limits: secure defaults, each setting read, each range enforced. */
static void test_http_limits_and_tls(void **state)
{
	(void)state;
	struct gd_config cfg;
	gd_config_defaults(&cfg);
	assert_string_equal(cfg.bind, "127.0.0.1"); /* plain HTTP stays on the machine */
	assert_int_equal(cfg.tls_port, 8443);
	assert_string_equal(cfg.tls_cert, "");
	assert_int_equal(cfg.body_max, 1024 * 1024);
	const char *path = unit_write("limits.conf", "[http]\n"
	                                             "port = 0\n"
	                                             "session_idle = 600\n"
	                                             "auth_delay_ms = 250\n"
	                                             "max_connections = 128\n"
	                                             "header_timeout = 5\n"
	                                             "header_max = 8K\n"
	                                             "body_max = 4M\n"
	                                             "[tls]\n"
	                                             "port = 443\n"
	                                             "bind = ::\n"
	                                             "cert = /etc/bmc/cert.pem\n"
	                                             "key = /etc/bmc/key.pem\n");
	char err[512] = "";
	assert_int_equal(gd_config_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.port, 0);
	assert_int_equal(cfg.session_idle, 600);
	assert_int_equal(cfg.auth_delay_ms, 250);
	assert_int_equal(cfg.max_connections, 128);
	assert_int_equal(cfg.header_timeout, 5);
	assert_int_equal(cfg.header_max, 8192);
	assert_int_equal(cfg.body_max, 4 << 20);
	assert_int_equal(cfg.tls_port, 443);
	assert_string_equal(cfg.tls_bind, "::");
	assert_string_equal(cfg.tls_key, "/etc/bmc/key.pem");
	expect_error("[http]\nmax_connections = 2\n", 2, "(4-1024)");
	expect_error("[http]\nheader_max = 1M\n", 2, "not a size from 1K to 64K");
	expect_error("[http]\nheader_timeout = 0\n", 2, "a number of seconds");
	expect_error("[tls]\ncert = relative.pem\n", 2, "not an absolute path");
	expect_error("[tls]\nport = 70000\n", 2, "a port number, or 0 for none");
}

static void test_syntax_error(void **state)
{
	(void)state;
	expect_error("[http]\nport 80\n", 2, "syntax error");
	expect_error("[http\nport = 80\n", 1, "syntax error");
	/* The first error wins, whichever kind it is. */
	expect_error("[http]\nport 80\nprot = 1\n", 2, "syntax error");
	expect_error("[http]\nprot = 1\nport 80\n", 2, "unknown key 'prot'");
}

static void test_missing_file(void **state)
{
	(void)state;
	struct gd_config cfg;
	gd_config_defaults(&cfg);
	char err[512];
	assert_int_equal(gd_config_load(&cfg, "/nonexistent/gadgetd.conf", err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "/nonexistent/gadgetd.conf: cannot open: No such file or directory");
}

int main(void)
{
	gd_log_set_level(GD_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_good_file),
	    cmocka_unit_test(test_functions_keep_their_order),
	    cmocka_unit_test(test_boot_profile),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_unknown_section),
	    cmocka_unit_test(test_key_outside_section),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_http_limits_and_tls),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_missing_file),
	};
	int failed = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	unit_scratch_cleanup();
	return failed;
}
