/* Unit tests of boot: the override's names, keeping, and the keys played when the firmware
 * starts (Once clears itself, Continuous stays, Disabled plays nothing), on a fake keyboard. */
#include "boot.h"

#include <errno.h>
#include <pthread.h>

#include "log.h"
#include "unit.h"

struct fake_keyboard {
	char played[8][600];
	unsigned count;
	int fail; /* 0, or the error every play returns */
};

static int fake_play(void *ctx, const char *macro, const atomic_bool *cancelled, char *err,
                     size_t errlen)
{
	(void)cancelled;
	struct fake_keyboard *kb = ctx;
	if (kb->fail) {
		snprintf(err, errlen, "the server does not take keys");
		return kb->fail;
	}
	snprintf(kb->played[kb->count++ % 8], sizeof(kb->played[0]), "%s", macro);
	return 0;
}

static struct gd_config cfg;
static struct fake_keyboard kb;

static struct gd_boot *open_boot(void)
{
	struct gd_boot_player player = {fake_play, &kb};
	struct gd_boot *boot = NULL;
	char err[256];
	assert_int_equal(gd_boot_open(&boot, &cfg, &player, err, sizeof(err)), 0);
	return boot;
}

static int setup(void **state)
{
	(void)state;
	gd_config_defaults(&cfg);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", unit_path(""));
	unlink(unit_path("boot-override.json"));
	memset(&kb, 0, sizeof(kb));
	return 0;
}

/* The firmware starts; returns the state of the job it queued ("" when none). */
static const char *start_and_wait(struct gd_boot *boot)
{
	static char state[16];
	json_t *before = gd_jobs_list(gd_boot_jobs(boot));
	size_t n = json_array_size(before);
	json_decref(before);
	gd_boot_started(boot);
	json_t *jobs = gd_jobs_list(gd_boot_jobs(boot));
	state[0] = '\0';
	if (json_array_size(jobs) > n) {
		uint64_t id =
		    (uint64_t)json_integer_value(json_object_get(json_array_get(jobs, 0), "id"));
		json_t *job = gd_jobs_wait(gd_boot_jobs(boot), id);
		snprintf(state, sizeof(state), "%s",
		         json_string_value(json_object_get(job, "state")));
		json_decref(job);
	}
	json_decref(jobs);
	return state;
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(gd_boot_target_parse("Cd"), GD_BOOT_CD);
	assert_int_equal(gd_boot_target_parse("BiosSetup"), GD_BOOT_SETUP);
	assert_int_equal(gd_boot_target_parse("cd"), -1); /* Redfish's names are exact */
	assert_int_equal(gd_boot_target_parse("Floppy"), -1);
	assert_int_equal(gd_boot_target_parse(NULL), -1);
	assert_int_equal(gd_boot_enabled_parse("Continuous"), GD_BOOT_CONTINUOUS);
	assert_int_equal(gd_boot_enabled_parse("Always"), -1);
	assert_int_equal(gd_boot_mode_parse("Legacy"), GD_BOOT_LEGACY);
	assert_string_equal(gd_boot_target_name(GD_BOOT_PXE), "Pxe");
	assert_string_equal(gd_boot_enabled_name(GD_BOOT_ONCE), "Once");
}

static void test_macros(void **state)
{
	(void)state;
	char text[600];
	gd_boot_macro(&cfg, GD_BOOT_CD, text, sizeof(text));
	assert_string_equal(text, "repeat 25 every 200ms: f12\nup; enter");
	gd_boot_macro(&cfg, GD_BOOT_PXE, text, sizeof(text));
	assert_string_equal(text, "repeat 25 every 200ms: f12\ndown; enter");
	gd_boot_macro(&cfg, GD_BOOT_SETUP, text, sizeof(text));
	assert_string_equal(text, "repeat 25 every 200ms: delete");
	gd_boot_macro(&cfg, GD_BOOT_NONE, text, sizeof(text));
	assert_string_equal(text, "");
}

static void test_bad_macro_refused_at_open(void **state)
{
	(void)state;
	snprintf(cfg.boot_pxe, sizeof(cfg.boot_pxe), "down; entr");
	struct gd_boot_player player = {fake_play, &kb};
	struct gd_boot *boot = NULL;
	char err[256] = "";
	assert_int_equal(gd_boot_open(&boot, &cfg, &player, err, sizeof(err)), -EINVAL);
	assert_null(boot);
	assert_non_null(strstr(err, "Pxe"));
	assert_non_null(strstr(err, "entr"));
}

static void test_once_plays_and_clears_and_is_kept(void **state)
{
	(void)state;
	struct gd_boot *boot = open_boot();
	struct gd_boot_override o;
	gd_boot_get(boot, &o);
	assert_int_equal(o.target, GD_BOOT_NONE);
	assert_int_equal(o.enabled, GD_BOOT_DISABLED);
	assert_string_equal(start_and_wait(boot), ""); /* nothing armed: no job */
	o = (struct gd_boot_override){GD_BOOT_CD, GD_BOOT_ONCE, GD_BOOT_UEFI};
	assert_int_equal(gd_boot_set(boot, &o), 0);
	gd_boot_close(boot);
	boot = open_boot(); /* kept across restarts */
	gd_boot_get(boot, &o);
	assert_int_equal(o.target, GD_BOOT_CD);
	assert_int_equal(o.enabled, GD_BOOT_ONCE);
	assert_string_equal(start_and_wait(boot), "done");
	assert_int_equal(kb.count, 1);
	assert_string_equal(kb.played[0], "repeat 25 every 200ms: f12\nup; enter");
	gd_boot_get(boot, &o);
	assert_int_equal(o.enabled, GD_BOOT_DISABLED);
	assert_int_equal(o.target, GD_BOOT_CD); /* the target stays, disarmed */
	assert_string_equal(start_and_wait(boot), "");
	assert_int_equal(kb.count, 1);
	gd_boot_close(boot);
	boot = open_boot(); /* the clearing was kept too */
	gd_boot_get(boot, &o);
	assert_int_equal(o.enabled, GD_BOOT_DISABLED);
	gd_boot_close(boot);
}

static void test_continuous_stays(void **state)
{
	(void)state;
	struct gd_boot *boot = open_boot();
	struct gd_boot_override o = {GD_BOOT_SETUP, GD_BOOT_CONTINUOUS, GD_BOOT_LEGACY};
	assert_int_equal(gd_boot_set(boot, &o), 0);
	assert_string_equal(start_and_wait(boot), "done");
	assert_string_equal(start_and_wait(boot), "done");
	assert_int_equal(kb.count, 2);
	assert_string_equal(kb.played[1], "repeat 25 every 200ms: delete");
	json_t *j = gd_boot_json(boot);
	assert_string_equal(json_string_value(json_object_get(j, "enabled")), "Continuous");
	assert_string_equal(json_string_value(json_object_get(j, "mode")), "Legacy");
	json_decref(j);
	/* Target None arms nothing, whatever Enabled says. */
	o.target = GD_BOOT_NONE;
	assert_int_equal(gd_boot_set(boot, &o), 0);
	assert_string_equal(start_and_wait(boot), "");
	gd_boot_close(boot);
}

static void test_keys_refused_fail_the_job(void **state)
{
	(void)state;
	struct gd_boot *boot = open_boot();
	struct gd_boot_override o = {GD_BOOT_HDD, GD_BOOT_CONTINUOUS, GD_BOOT_UEFI};
	assert_int_equal(gd_boot_set(boot, &o), 0);
	kb.fail = -EHOSTDOWN;
	assert_string_equal(start_and_wait(boot), "failed");
	gd_boot_close(boot);
}

static void test_damaged_file_ignored(void **state)
{
	(void)state;
	unit_write("boot-override.json", "{\"target\": \"Floppy\", \"enabled\": \"Once\"}");
	struct gd_boot *boot = open_boot();
	struct gd_boot_override o;
	gd_boot_get(boot, &o);
	assert_int_equal(o.target, GD_BOOT_NONE);
	gd_boot_close(boot);
	unit_write("boot-override.json", "{not json");
	boot = open_boot();
	gd_boot_get(boot, &o);
	assert_int_equal(o.enabled, GD_BOOT_DISABLED);
	gd_boot_close(boot);
}

static void test_unwritable_state_changes_nothing(void **state)
{
	(void)state;
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", unit_path("missing/dir"));
	struct gd_boot *boot = open_boot();
	struct gd_boot_override o = {GD_BOOT_PXE, GD_BOOT_ONCE, GD_BOOT_UEFI};
	assert_true(gd_boot_set(boot, &o) < 0);
	gd_boot_get(boot, &o);
	assert_int_equal(o.target, GD_BOOT_NONE);
	gd_boot_close(boot);
}

int main(void)
{
	gd_log_set_level(GD_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_names, setup),
	    cmocka_unit_test_setup(test_macros, setup),
	    cmocka_unit_test_setup(test_bad_macro_refused_at_open, setup),
	    cmocka_unit_test_setup(test_once_plays_and_clears_and_is_kept, setup),
	    cmocka_unit_test_setup(test_continuous_stays, setup),
	    cmocka_unit_test_setup(test_keys_refused_fail_the_job, setup),
	    cmocka_unit_test_setup(test_damaged_file_ignored, setup),
	    cmocka_unit_test_setup(test_unwritable_state_changes_nothing, setup),
	};
	int rc = cmocka_run_group_tests_name("boot", tests, NULL, NULL);
	unit_scratch_cleanup();
	return rc;
}
