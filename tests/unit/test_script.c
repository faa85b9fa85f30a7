/* Unit tests of script: validation with the step at fault, variables, durations, names. */
#include "script.h"

#include "unit.h"

static bool image_exists(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "debian.iso") == 0 || strcmp(name, "seed.img") == 0;
}

static bool layout_exists(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "us") == 0 || strcmp(name, "de") == 0;
}

static const struct gd_script_env env = {NULL, image_exists, layout_exists};

/* Validates TEXT; returns the step index at fault (-1: the document, -2: valid). */
static int check(const char *text, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	assert_non_null(doc);
	int step = 99;
	int rc = gd_script_validate(doc, &env, err, errlen, &step);
	json_decref(doc);
	if (rc == 0) {
		assert_int_equal(step, -1);
		return -2;
	}
	assert_true(err[0] != '\0');
	return step;
}

static void expect_fault(const char *text, int step, const char *says)
{
	char err[512];
	int got = check(text, err, sizeof(err));
	if (got != step || strstr(err, says) == NULL)
		fail_msg("%s\n  -> step %d, '%s' (expected step %d saying '%s')", text, got, err,
		         step, says);
}

static void test_a_whole_reinstall_is_valid(void **state)
{
	(void)state;
	char err[512];
	const char *doc =
	    "{\"description\": \"Debian by preseed\", \"vars\": {\"image\": \"debian.iso\"},"
	    " \"on_failure\": {\"media\": \"eject\", \"power\": \"keep\"},"
	    " \"steps\": [{\"media\": \"eject\"},"
	    "  {\"seed\": {\"label\": \"OEMDRV\", \"files\": {\"ks.cfg\": \"network "
	    "--hostname=${hostname}\"}}},"
	    "  {\"media\": \"insert\", \"image\": \"${image}\", \"mode\": \"cdrom\", \"readonly\": "
	    "true},"
	    "  {\"power\": \"force-off\"}, {\"power\": \"on\", \"wait_for\": \"on\", \"timeout\": "
	    "60},"
	    "  {\"keys\": \"repeat 40 every 200ms: f12\", \"name\": \"boot menu\"},"
	    "  {\"keys\": \"down; enter\"}, {\"type\": \"auto hostname=${hostname}\\n\", "
	    "\"layout\": \"us\"},"
	    "  {\"expect\": \"login: $\", \"timeout\": 1800, \"retries\": 1, \"retry_delay\": "
	    "\"5s\"},"
	    "  {\"console\": \"root\\n\"}, {\"wait\": \"1.5s\"}, {\"wait\": 2}, {\"log\": \"done "
	    "${hostname}\"}]}";
	assert_int_equal(check(doc, err, sizeof(err)), -2);
}

static void test_each_fault_names_its_step(void **state)
{
	(void)state;
	expect_fault("{\"steps\": [{\"power\": \"on\"}, {\"power\": \"up\"}]}", 1,
	             "'power' must be");
	expect_fault("{\"steps\": [{\"jump\": 1}]}", 0, "unknown step");
	expect_fault("{\"steps\": [{\"power\": \"on\", \"keys\": \"f12\"}]}", 0, "does one thing");
	expect_fault("{\"steps\": [{\"media\": \"insert\", \"image\": \"gone.iso\"}]}", 0,
	             "no image 'gone.iso'");
	expect_fault("{\"vars\": {\"image\": \"gone.iso\"}, \"steps\": [{\"log\": \"x\"}, "
	             "{\"media\": \"insert\", \"image\": \"${image}\"}]}",
	             1, "no image 'gone.iso'");
	expect_fault("{\"steps\": [{\"media\": \"insert\"}]}", 0, "needs \"image\"");
	expect_fault("{\"steps\": [{\"media\": \"eject\", \"image\": \"debian.iso\"}]}", 0,
	             "eject takes no image");
	expect_fault(
	    "{\"steps\": [{\"media\": \"insert\", \"image\": \"debian.iso\", \"mode\": \"tape\"}]}",
	    0, "'mode'");
	expect_fault("{\"steps\": [{\"keys\": \"repeat 3 every: f12\"}]}", 0, "bad macro");
	expect_fault("{\"steps\": [{\"type\": \"x\", \"layout\": \"klingon\"}]}", 0,
	             "no keyboard layout");
	expect_fault("{\"steps\": [{\"expect\": \"login: (\"}]}", 0, "bad pattern");
	expect_fault("{\"steps\": [{\"wait\": \"2 days\"}]}", 0, "'wait'");
	expect_fault("{\"steps\": [{\"wait\": \"25h\"}]}", 0, "'wait'");
	expect_fault("{\"steps\": [{\"power\": \"on\", \"timeout\": 0}]}", 0, "'timeout'");
	expect_fault("{\"steps\": [{\"power\": \"on\", \"timeout\": \"60\"}]}", 0, "'timeout'");
	expect_fault("{\"steps\": [{\"power\": \"on\", \"retries\": 101}]}", 0, "'retries'");
	expect_fault("{\"steps\": [{\"power\": \"on\", \"image\": \"x\"}]}", 0,
	             "unknown field 'image'");
	expect_fault(
	    "{\"steps\": [{\"seed\": {\"label\": \"cidata\", \"files\": {\"a\": \"b\"}}}]}", 0,
	    "label");
	expect_fault(
	    "{\"steps\": [{\"seed\": {\"label\": \"CIDATA\", \"files\": {\"../x\": \"b\"}}}]}", 0,
	    "file name");
	expect_fault("{\"steps\": [{\"seed\": {\"label\": \"CIDATA\", \"files\": {}}}]}", 0,
	             "1 to 16");
	expect_fault("{\"steps\": [{\"console\": \"\"}]}", 0, "non-empty");
	expect_fault("{\"steps\": [{\"log\": \"${Bad}\"}]}", 0, "malformed variable");
	expect_fault("{\"steps\": [{\"log\": \"${unclosed\"}]}", 0, "malformed variable");
	expect_fault("{\"steps\": []}", -1, "1 to 256");
	expect_fault("{\"steps\": {}}", -1, "'steps'");
	expect_fault("{\"steps\": [{\"log\": \"x\"}], \"extra\": 1}", -1, "unknown field 'extra'");
	expect_fault("{\"vars\": {\"Image\": \"x\"}, \"steps\": [{\"log\": \"x\"}]}", -1,
	             "variable name");
	expect_fault("{\"vars\": {\"n\": 1}, \"steps\": [{\"log\": \"x\"}]}", -1,
	             "must be a string");
	expect_fault("{\"on_failure\": {\"power\": \"explode\"}, \"steps\": [{\"log\": \"x\"}]}",
	             -1, "on_failure 'power'");
	expect_fault("[1]", -1, "JSON object");
}

static void test_variables_expand_at_run_time(void **state)
{
	(void)state;
	json_error_t jerr;
	json_t *doc = json_loads("{\"vars\": {\"image\": \"debian.iso\", \"host\": \"d\"},"
	                         " \"steps\": [{\"log\": \"${host}-${image} costs $$5\"},"
	                         " {\"type\": \"hostname=${hostname}\\n\"}]}",
	                         0, &jerr);
	json_t *vars = json_pack("{s:s, s:s}", "hostname", "node7", "host", "given");
	char err[256];
	int step;
	json_t *steps = gd_script_expand(doc, vars, err, sizeof(err), &step);
	assert_non_null(steps);
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "log")),
	                    "given-debian.iso costs $5");
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 1), "type")),
	                    "hostname=node7\n");
	json_decref(steps);
	/* Without the run-time variable: refused, naming it and the step. */
	json_object_del(vars, "hostname");
	assert_null(gd_script_expand(doc, vars, err, sizeof(err), &step));
	assert_int_equal(step, 1);
	assert_non_null(strstr(err, "${hostname}"));
	/* A value that would make the text explode is refused, not allocated. */
	char *huge = malloc(GD_SCRIPT_VAR_MAX + 1);
	memset(huge, 'x', GD_SCRIPT_VAR_MAX);
	huge[GD_SCRIPT_VAR_MAX] = '\0';
	json_object_set_new(vars, "hostname", json_string(huge));
	json_t *many =
	    json_loads("{\"steps\": [{\"log\": \"${hostname}${hostname}${hostname}${hostname}"
	               "${hostname}${hostname}${hostname}${hostname}${hostname}${hostname}"
	               "${hostname}${hostname}${hostname}${hostname}${hostname}${hostname}"
	               "${hostname}\"}]}",
	               0, &jerr);
	assert_null(gd_script_expand(many, vars, err, sizeof(err), &step));
	assert_non_null(strstr(err, "too long"));
	free(huge);
	json_decref(many);
	json_decref(vars);
	json_decref(doc);
}

static void test_durations(void **state)
{
	(void)state;
	struct {
		const char *text;
		int64_t ms;
	} cases[] = {{"\"500ms\"", 500}, {"\"2s\"", 2000}, {"\"1.5s\"", 1500}, {"\"10m\"", 600000},
	             {"3", 3000},        {"\"2\"", -1},    {"\"-1s\"", -1},    {"\"s\"", -1},
	             {"\"1e9s\"", -1},   {"-4", -1},       {"\"nan s\"", -1},  {"true", -1},
	             {"\"1h\"", -1}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i].text, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		if (gd_script_duration_ms(v) != cases[i].ms)
			fail_msg("%s: %lld", cases[i].text, (long long)gd_script_duration_ms(v));
		json_decref(v);
	}
}

static bool any(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return true;
}

/* The examples and the rig's demo are valid scripts, and expand with their own defaults. */
static void test_the_examples_are_valid(void **state)
{
	(void)state;
	const char *paths[] = {
	    "examples/scripts/debian-preseed.json", "examples/scripts/ubuntu-autoinstall.json",
	    "examples/scripts/rocky-kickstart.json", "examples/scripts/windows-autounattend.json",
	    "tests/vm/reinstall-demo.json"};
	const struct gd_script_env lenient = {NULL, any, any};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *path = paths[i];
		char err[512];
		json_error_t jerr;
		json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
		if (doc == NULL)
			fail_msg("%s: %s", path, jerr.text);
		int step;
		if (gd_script_validate(doc, &lenient, err, sizeof(err), &step) < 0)
			fail_msg("%s: %s", path, err);
		json_t *steps = gd_script_expand(doc, NULL, err, sizeof(err), &step);
		if (steps == NULL)
			fail_msg("%s: %s", path, err);
		json_decref(steps);
		json_decref(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_whole_reinstall_is_valid),
	    cmocka_unit_test(test_each_fault_names_its_step),
	    cmocka_unit_test(test_variables_expand_at_run_time),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_the_examples_are_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
