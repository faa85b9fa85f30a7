/* Unit tests of ipmi_users, ipmi_cmd and the session-less part of ipmi_lan: the password file,
 * the commands' privileges and boot flags, channel capabilities, cipher suites, refusals. */
#include "ipmi.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "ipmi_cmd.h"
#include "log.h"
#include "unit.h"

static struct gd_boot_override boot;
static unsigned last_action = 99;

static int user_of(void *ctx, const char *name, char password[GD_IPMI_PASSWORD_MAX + 1],
                   enum gd_role *role)
{
	(void)ctx;
	(void)name;
	(void)password;
	(void)role;
	return -ENOENT;
}

static int power_state(void *ctx)
{
	(void)ctx;
	return 1;
}

static unsigned chassis_control(void *ctx, unsigned action, const char *user)
{
	(void)ctx;
	(void)user;
	last_action = action;
	return 0;
}

static int boot_get(void *ctx, struct gd_boot_override *out)
{
	(void)ctx;
	*out = boot;
	return 0;
}

static int boot_set(void *ctx, const struct gd_boot_override *value)
{
	(void)ctx;
	boot = *value;
	return 0;
}

static const struct gd_ipmi_ops ops = {user_of,  power_state, chassis_control,
                                       boot_get, boot_set,    NULL};

static unsigned run(uint8_t netfn, uint8_t cmd, const uint8_t *data, size_t len, uint8_t priv,
                    uint8_t *rsp, size_t *rsplen)
{
	struct gd_ipmi_request rq = {netfn, cmd, data, len, priv, "test"};
	return gd_ipmi_cmd(&ops, &rq, rsp, rsplen);
}

static void test_users_file(void **state)
{
	(void)state;
	const char *path = unit_path("ipmi-users");
	char pw[GD_IPMI_PASSWORD_MAX + 1], err[256];
	assert_int_equal(gd_ipmi_users_password(path, "alice", pw), -ENOENT);
	assert_int_equal(gd_ipmi_users_set(path, "alice", "secret-1", err, sizeof(err)), 0);
	assert_int_equal(gd_ipmi_users_set(path, "bob", "secret-2", err, sizeof(err)), 0);
	assert_int_equal(gd_ipmi_users_set(path, "alice", "secret-3", err, sizeof(err)), 0);
	assert_int_equal(gd_ipmi_users_password(path, "alice", pw), 0);
	assert_string_equal(pw, "secret-3");
	assert_int_equal(gd_ipmi_users_password(path, "bob", pw), 0);
	assert_string_equal(pw, "secret-2");
	assert_int_equal(gd_ipmi_users_password(path, "ali", pw), -ENOENT);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Refused: too long, a colon, a line break, empty, a bad name. */
	assert_int_equal(
	    gd_ipmi_users_set(path, "alice", "123456789012345678901", err, sizeof(err)), -EINVAL);
	assert_int_equal(gd_ipmi_users_set(path, "alice", "a:b", err, sizeof(err)), -EINVAL);
	assert_int_equal(gd_ipmi_users_set(path, "alice", "a\nb", err, sizeof(err)), -EINVAL);
	assert_int_equal(gd_ipmi_users_set(path, "alice", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(gd_ipmi_users_set(path, "a-very-long-name-x", "pw", err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(gd_ipmi_users_password(path, "alice", pw), 0);
	assert_string_equal(pw, "secret-3"); /* nothing changed */
	/* A file others can read is not used at all. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(gd_ipmi_users_password(path, "alice", pw), -EPERM);
}

static void test_privileges(void **state)
{
	(void)state;
	uint8_t rsp[32];
	size_t n;
	const uint8_t off = 0;
	assert_int_equal(run(0x00, 0x01, NULL, 0, GD_IPMI_PRIV_USER, rsp, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(rsp[0] & 1, 1); /* on */
	assert_int_equal(run(0x00, 0x02, &off, 1, GD_IPMI_PRIV_USER, rsp, &n), 0xd4);
	assert_int_equal(last_action, 99);
	assert_int_equal(run(0x00, 0x02, &off, 1, GD_IPMI_PRIV_OPERATOR, rsp, &n), 0);
	assert_int_equal(last_action, 0);
	const uint8_t diag = 4, big = 9;
	assert_int_equal(run(0x00, 0x02, &diag, 1, GD_IPMI_PRIV_ADMIN, rsp, &n), 0xcc);
	assert_int_equal(run(0x00, 0x02, &big, 1, GD_IPMI_PRIV_ADMIN, rsp, &n), 0xcc);
	assert_int_equal(run(0x00, 0x02, NULL, 0, GD_IPMI_PRIV_ADMIN, rsp, &n), 0xc7);
	assert_int_equal(run(0x06, 0x01, NULL, 0, 0, rsp, &n), 0xd4); /* no session */
	assert_int_equal(run(0x06, 0x01, NULL, 0, GD_IPMI_PRIV_USER, rsp, &n), 0);
	assert_int_equal(rsp[4], 0x02); /* IPMI 2.0 */
	assert_int_equal(run(0x06, 0x48, NULL, 0, GD_IPMI_PRIV_ADMIN, rsp, &n), 0xc1); /* SOL */
	assert_int_equal(run(0x2c, 0x00, NULL, 0, GD_IPMI_PRIV_ADMIN, rsp, &n), 0xc1); /* PICMG */
}

static void test_boot_flags(void **state)
{
	(void)state;
	uint8_t rsp[32];
	size_t n;
	/* bootdev cdrom: valid, next boot only, legacy, CD/DVD (5 << 2). */
	const uint8_t cdrom[] = {0x05, 0x80, 0x14, 0, 0, 0};
	assert_int_equal(run(0x00, 0x08, cdrom, sizeof(cdrom), GD_IPMI_PRIV_OPERATOR, rsp, &n), 0);
	assert_int_equal(boot.target, GD_BOOT_CD);
	assert_int_equal(boot.enabled, GD_BOOT_ONCE);
	assert_int_equal(boot.mode, GD_BOOT_LEGACY);
	const uint8_t get5[] = {0x05, 0, 0};
	assert_int_equal(run(0x00, 0x09, get5, 3, GD_IPMI_PRIV_USER, rsp, &n), 0);
	assert_int_equal(n, 7);
	assert_memory_equal(rsp, ((const uint8_t[]){0x01, 0x05, 0x80, 0x14, 0, 0, 0}), 7);
	/* PXE, persistent, EFI. */
	const uint8_t pxe[] = {0x05, 0xe0, 0x04, 0, 0, 0};
	assert_int_equal(run(0x00, 0x08, pxe, sizeof(pxe), GD_IPMI_PRIV_OPERATOR, rsp, &n), 0);
	assert_int_equal(boot.target, GD_BOOT_PXE);
	assert_int_equal(boot.enabled, GD_BOOT_CONTINUOUS);
	assert_int_equal(boot.mode, GD_BOOT_UEFI);
	/* Not valid: disabled. An unknown device, a bad length, an unknown parameter. */
	const uint8_t clear[] = {0x05, 0x00, 0x04, 0, 0, 0};
	assert_int_equal(run(0x00, 0x08, clear, sizeof(clear), GD_IPMI_PRIV_OPERATOR, rsp, &n), 0);
	assert_int_equal(boot.enabled, GD_BOOT_DISABLED);
	const uint8_t floppy[] = {0x05, 0x80, 0x0c, 0, 0, 0}, short5[] = {0x05, 0x80};
	assert_int_equal(run(0x00, 0x08, floppy, 6, GD_IPMI_PRIV_OPERATOR, rsp, &n), 0xcc);
	assert_int_equal(run(0x00, 0x08, short5, 2, GD_IPMI_PRIV_OPERATOR, rsp, &n), 0xc7);
	const uint8_t p7[] = {0x07, 0}, get7[] = {0x07, 0, 0};
	assert_int_equal(run(0x00, 0x08, p7, 2, GD_IPMI_PRIV_OPERATOR, rsp, &n), 0x80);
	assert_int_equal(run(0x00, 0x09, get7, 3, GD_IPMI_PRIV_OPERATOR, rsp, &n), 0x80);
	assert_int_equal(run(0x00, 0x08, cdrom, sizeof(cdrom), GD_IPMI_PRIV_USER, rsp, &n), 0xd4);
}

static size_t handle(struct gd_ipmi_lan *lan, const uint8_t *in, size_t len, uint8_t *out)
{
	struct sockaddr_in from = {.sin_family = AF_INET};
	return gd_ipmi_lan_handle(lan, in, len, (struct sockaddr *)&from, 1000, out, 512);
}

static void test_sessionless(void **state)
{
	(void)state;
	static const uint8_t guid[16];
	struct gd_ipmi_lan *lan = gd_ipmi_lan_new(&ops, guid);
	uint8_t out[512];
	/* Get Channel Authentication Capabilities, IPMI 1.5 framing, as ipmitool sends it. */
	const uint8_t caps[] = {0x06, 0, 0xff, 0x07, 0x00, 0,    0,    0,    0,    0,    0,   0,
	                        0,    9, 0x20, 0x18, 0xc8, 0x81, 0x04, 0x38, 0x8e, 0x04, 0xb1};
	size_t n = handle(lan, caps, sizeof(caps), out);
	assert_int_equal(n, 14 + 8 + 8);
	assert_int_equal(out[13], 16);
	assert_int_equal(out[14 + 6], 0x00);  /* completion code */
	assert_int_equal(out[14 + 8], 0x80);  /* IPMI 2.0 extended capabilities */
	assert_int_equal(out[14 + 10], 0x02); /* IPMI 2.0 connections */
	uint8_t bad[sizeof(caps)];
	memcpy(bad, caps, sizeof(caps));
	bad[sizeof(bad) - 1] ^= 1; /* a wrong checksum: dropped */
	assert_int_equal(handle(lan, bad, sizeof(bad), out), 0);
	assert_int_equal(handle(lan, caps, 4, out), 0);
	bad[0] = 0x05; /* not RMCP 1.0 */
	assert_int_equal(handle(lan, bad, sizeof(bad), out), 0);
	/* Open Session asking for suite 1 (RAKP-HMAC-SHA1, no integrity): no match. */
	uint8_t open[16 + 32] = {0x06, 0, 0xff, 0x07, 0x06, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0};
	uint8_t *p = open + 16;
	p[4] = 0x11;
	const uint8_t algs[3] = {1, 0, 0};
	for (int i = 0; i < 3; i++) {
		p[8 + 8 * i] = (uint8_t)i;
		p[11 + 8 * i] = 8;
		p[12 + 8 * i] = algs[i];
	}
	n = handle(lan, open, sizeof(open), out);
	assert_int_equal(out[5], 0x11);  /* an Open Session response */
	assert_int_equal(out[17], 0x11); /* no cipher suite matches */
	assert_int_equal(gd_ipmi_lan_sessions(lan, 1000), 0);
	/* A message in a session that does not exist: dropped. */
	uint8_t stray[40] = {0x06, 0, 0xff, 0x07, 0x06, 0xc0, 1, 2, 3, 4, 1, 0, 0, 0, 16, 0};
	assert_int_equal(handle(lan, stray, sizeof(stray), out), 0);
	gd_ipmi_lan_free(lan);
}

int main(void)
{
	gd_log_set_level(GD_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_users_file),
	    cmocka_unit_test(test_privileges),
	    cmocka_unit_test(test_boot_flags),
	    cmocka_unit_test(test_sessionless),
	};
	int rc = cmocka_run_group_tests_name("ipmi", tests, NULL, NULL);
	unit_scratch_cleanup();
	return rc;
}
