/* Unit tests of keymap: every key name and alias, lookups, and the reports a tap of each key gives.
 */
#include "keymap.h"
#include "macro.h"

#include "unit.h"

static struct gd_stroke key(const char *name)
{
	struct gd_stroke s = {0xee, 0xee};
	if (gd_keymap_key(name, strlen(name), &s) != 0)
		fail_msg("'%s' is not a key name", name);
	return s;
}

static void expect_key(const char *name, uint8_t usage, uint8_t mods)
{
	struct gd_stroke s = key(name);
	if (s.usage != usage || s.mods != mods)
		fail_msg("'%s': got usage 0x%02x mods 0x%02x, expected 0x%02x 0x%02x", name,
		         s.usage, s.mods, usage, mods);
}

static void test_every_name_resolves(void **state)
{
	(void)state;
	assert_int_equal(gd_keymap_names_count, 130); /* 0x04-0x73, 10 keys above, 8 modifiers */
	for (size_t i = 0; i < gd_keymap_names_count; i++) {
		const struct gd_key_name *k = &gd_keymap_names[i];
		expect_key(k->name, k->usage, k->mods);
		/* A key is either a usage or one modifier bit. */
		if (k->usage != 0) {
			assert_int_equal(k->mods, 0);
			assert_string_equal(gd_keymap_usage_name(k->usage), k->name);
		} else {
			assert_int_not_equal(k->mods, 0);
			assert_int_equal(k->mods & (k->mods - 1), 0);
		}
	}
}

static void test_names_unique_and_lower_case(void **state)
{
	(void)state;
	uint8_t mods = 0;
	for (size_t i = 0; i < gd_keymap_names_count; i++) {
		const struct gd_key_name *k = &gd_keymap_names[i];
		for (const char *c = k->name; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				fail_msg("'%s' is not lower case", k->name);
		for (size_t j = i + 1; j < gd_keymap_names_count; j++) {
			const struct gd_key_name *o = &gd_keymap_names[j];
			if (strcmp(k->name, o->name) == 0)
				fail_msg("'%s' twice", k->name);
			if (k->usage != 0 && k->usage == o->usage)
				fail_msg("usage 0x%02x named '%s' and '%s'", k->usage, k->name,
				         o->name);
		}
		/* Usage order, then the modifiers. */
		if (i > 0 && k->usage != 0)
			assert_true(k->usage > gd_keymap_names[i - 1].usage);
		assert_int_equal(mods & k->mods, 0);
		mods |= k->mods;
	}
	assert_int_equal(mods, 0xff);
}

static void test_usages(void **state)
{
	(void)state;
	char name[16];
	for (int i = 0; i < 26; i++) {
		snprintf(name, sizeof(name), "%c", 'a' + i);
		expect_key(name, (uint8_t)(0x04 + i), 0);
	}
	for (int i = 1; i <= 10; i++) {
		snprintf(name, sizeof(name), "%d", i % 10);
		expect_key(name, (uint8_t)(0x1d + i), 0);
	}
	for (int i = 1; i <= 12; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		expect_key(name, (uint8_t)(0x39 + i), 0);
		snprintf(name, sizeof(name), "f%d", i + 12);
		expect_key(name, (uint8_t)(0x67 + i), 0);
	}
	for (int i = 1; i <= 10; i++) {
		snprintf(name, sizeof(name), "kp%d", i % 10);
		expect_key(name, (uint8_t)(0x58 + i), 0);
	}
	static const struct {
		const char *name;
		uint8_t usage;
	} keys[] = {
	    {"enter", 0x28},
	    {"esc", 0x29},
	    {"backspace", 0x2a},
	    {"tab", 0x2b},
	    {"space", 0x2c},
	    {"minus", 0x2d},
	    {"equal", 0x2e},
	    {"leftbrace", 0x2f},
	    {"rightbrace", 0x30},
	    {"backslash", 0x31},
	    {"nonus-hash", 0x32},
	    {"semicolon", 0x33},
	    {"apostrophe", 0x34},
	    {"grave", 0x35},
	    {"comma", 0x36},
	    {"dot", 0x37},
	    {"slash", 0x38},
	    {"capslock", 0x39},
	    {"printscreen", 0x46},
	    {"scrolllock", 0x47},
	    {"pause", 0x48},
	    {"insert", 0x49},
	    {"home", 0x4a},
	    {"pageup", 0x4b},
	    {"delete", 0x4c},
	    {"end", 0x4d},
	    {"pagedown", 0x4e},
	    {"right", 0x4f},
	    {"left", 0x50},
	    {"down", 0x51},
	    {"up", 0x52},
	    {"numlock", 0x53},
	    {"kpslash", 0x54},
	    {"kpasterisk", 0x55},
	    {"kpminus", 0x56},
	    {"kpplus", 0x57},
	    {"kpenter", 0x58},
	    {"kpdot", 0x63},
	    {"102nd", 0x64},
	    {"compose", 0x65},
	    {"power", 0x66},
	    {"kpequal", 0x67},
	    {"mute", 0x7f},
	    {"volumeup", 0x80},
	    {"volumedown", 0x81},
	    {"ro", 0x87},
	    {"katakanahiragana", 0x88},
	    {"yen", 0x89},
	    {"henkan", 0x8a},
	    {"muhenkan", 0x8b},
	    {"hangeul", 0x90},
	    {"hanja", 0x91},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		expect_key(keys[i].name, keys[i].usage, 0);
		assert_string_equal(gd_keymap_usage_name(keys[i].usage), keys[i].name);
	}
	assert_null(gd_keymap_usage_name(0));
	assert_null(gd_keymap_usage_name(0x01));
	assert_null(gd_keymap_usage_name(0x03));
	assert_null(gd_keymap_usage_name(0xe0)); /* modifiers are bits, not usages */
	assert_null(gd_keymap_usage_name(0xff));
}

static void test_modifiers_and_aliases(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint8_t usage, mods;
	} aliases[] = {
	    {"ctrl", 0, GD_MOD_LCTRL},
	    {"leftctrl", 0, GD_MOD_LCTRL},
	    {"lctrl", 0, GD_MOD_LCTRL},
	    {"shift", 0, GD_MOD_LSHIFT},
	    {"leftshift", 0, GD_MOD_LSHIFT},
	    {"lshift", 0, GD_MOD_LSHIFT},
	    {"alt", 0, GD_MOD_LALT},
	    {"leftalt", 0, GD_MOD_LALT},
	    {"lalt", 0, GD_MOD_LALT},
	    {"meta", 0, GD_MOD_LMETA},
	    {"leftmeta", 0, GD_MOD_LMETA},
	    {"lmeta", 0, GD_MOD_LMETA},
	    {"win", 0, GD_MOD_LMETA},
	    {"super", 0, GD_MOD_LMETA},
	    {"gui", 0, GD_MOD_LMETA},
	    {"cmd", 0, GD_MOD_LMETA},
	    {"rightctrl", 0, GD_MOD_RCTRL},
	    {"rctrl", 0, GD_MOD_RCTRL},
	    {"rightshift", 0, GD_MOD_RSHIFT},
	    {"rshift", 0, GD_MOD_RSHIFT},
	    {"rightalt", 0, GD_MOD_RALT},
	    {"ralt", 0, GD_MOD_RALT},
	    {"altgr", 0, GD_MOD_RALT},
	    {"rightmeta", 0, GD_MOD_RMETA},
	    {"rmeta", 0, GD_MOD_RMETA},
	    {"del", 0x4c, 0},
	    {"return", 0x28, 0},
	    {"escape", 0x29, 0},
	    {"ins", 0x49, 0},
	    {"pgup", 0x4b, 0},
	    {"pgdn", 0x4e, 0},
	    {"bksp", 0x2a, 0},
	    {"caps", 0x39, 0},
	    {"prtsc", 0x46, 0},
	    {"print", 0x46, 0},
	    {"sysrq", 0x46, 0},
	    {"break", 0x48, 0},
	    {"menu", 0x65, 0},
	    {"application", 0x65, 0},
	    {"nonus-backslash", 0x64, 0},
	    {"hangul", 0x90, 0},
	    {"-", 0x2d, 0},
	    {"=", 0x2e, 0},
	    {"[", 0x2f, 0},
	    {"]", 0x30, 0},
	    {"\\", 0x31, 0},
	    {";", 0x33, 0},
	    {"'", 0x34, 0},
	    {"`", 0x35, 0},
	    {",", 0x36, 0},
	    {".", 0x37, 0},
	    {"/", 0x38, 0},
	};
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		expect_key(aliases[i].name, aliases[i].usage, aliases[i].mods);
}

static void test_case_insensitive(void **state)
{
	(void)state;
	expect_key("F12", 0x45, 0);
	expect_key("CTRL", 0, GD_MOD_LCTRL);
	expect_key("AltGr", 0, GD_MOD_RALT);
	expect_key("PageDown", 0x4e, 0);
	expect_key("KpEnter", 0x58, 0);
	expect_key("DEL", 0x4c, 0);
	expect_key("A", 0x04, 0);
	expect_key("NonUS-Hash", 0x32, 0);
}

static void test_unknown_and_bounded(void **state)
{
	(void)state;
	struct gd_stroke s;
	static const char *const bad[] = {"",   "ctlr", "f25", "ente", "enterx", "kp", " a",
	                                  "a ", "+",    "é",   "É",    "#",      ":",  "ctrl+a"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gd_keymap_key(bad[i], strlen(bad[i]), &s) == 0)
			fail_msg("'%s' should not be a key name", bad[i]);
	/* NAME is LEN bytes, not a C string. */
	assert_int_equal(gd_keymap_key("f12345", 3, &s), 0);
	assert_int_equal(s.usage, 0x45);
	assert_int_equal(gd_keymap_key("deletexyz", 6, &s), 0);
	assert_int_equal(s.usage, 0x4c);
	assert_int_equal(gd_keymap_key("a\0", 2, &s), -1);
	assert_int_equal(gd_keymap_key("\0a", 2, &s), -1);
	assert_int_equal(gd_keymap_key("f1\0", 3, &s), -1);
	char one = 'q';
	assert_int_equal(gd_keymap_key(&one, 1, &s), 0);
	assert_int_equal(s.usage, 0x14);
}

static void expect_report(const struct gd_action *a, uint8_t mods, uint8_t key0, uint8_t key1)
{
	const uint8_t keys[6] = {key0, key1};
	assert_int_equal(a->kind, GD_ACT_REPORT);
	assert_int_equal(a->mods, mods);
	assert_memory_equal(a->keys, keys, sizeof(keys));
}

static void test_tap_every_key(void **state)
{
	(void)state;
	char err[256];
	for (size_t i = 0; i < gd_keymap_names_count; i++) {
		const struct gd_key_name *k = &gd_keymap_names[i];
		struct gd_stroke s = key(k->name);
		struct gd_program prog;
		gd_program_init(&prog);
		assert_int_equal(gd_program_add_chord(&prog, &s, 1, err, sizeof(err)), 0);
		assert_int_equal(prog.count, 2);
		expect_report(&prog.actions[0], k->mods, k->usage, 0);
		expect_report(&prog.actions[1], 0, 0, 0);
		gd_program_free(&prog);
	}
}

static void test_chord_every_key(void **state)
{
	(void)state;
	char err[256];
	struct gd_stroke keys[3] = {key("ctrl"), key("a"), {0, 0}};
	for (size_t i = 0; i < gd_keymap_names_count; i++) {
		const struct gd_key_name *k = &gd_keymap_names[i];
		if (k->mods == GD_MOD_LCTRL || k->usage == 0x04)
			continue;
		keys[2] = key(k->name);
		struct gd_program prog;
		gd_program_init(&prog);
		assert_int_equal(gd_program_add_chord(&prog, keys, 3, err, sizeof(err)), 0);
		assert_int_equal(prog.count, 6);
		uint8_t mods = GD_MOD_LCTRL | k->mods;
		expect_report(&prog.actions[0], GD_MOD_LCTRL, 0, 0);
		expect_report(&prog.actions[1], GD_MOD_LCTRL, 0x04, 0);
		expect_report(&prog.actions[2], mods, 0x04, k->usage);
		expect_report(&prog.actions[3], GD_MOD_LCTRL, 0x04, 0);
		expect_report(&prog.actions[4], GD_MOD_LCTRL, 0, 0);
		expect_report(&prog.actions[5], 0, 0, 0);
		gd_program_free(&prog);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_name_resolves),
	    cmocka_unit_test(test_names_unique_and_lower_case),
	    cmocka_unit_test(test_usages),
	    cmocka_unit_test(test_modifiers_and_aliases),
	    cmocka_unit_test(test_case_insensitive),
	    cmocka_unit_test(test_unknown_and_bounded),
	    cmocka_unit_test(test_tap_every_key),
	    cmocka_unit_test(test_chord_every_key),
	};
	return cmocka_run_group_tests_name("keymap", tests, NULL, NULL);
}
