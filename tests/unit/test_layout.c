/*
 * Unit tests of layout: the keymap file parser's errors and lookups, and the round trip of every
 * shipped keymaps/NAME.keymap through libxkbcommon: each character's strokes, replayed on the
 * xkb layout the file was generated from (and its compose table for dead keys), type it.
 */
#include "keymap.h"

#include "unit.h"

#include <dirent.h>
#include <linux/input-event-codes.h>
#include <xkbcommon/xkbcommon-compose.h>
#include <xkbcommon/xkbcommon.h>

#ifndef GD_KEYMAPS_DIR
#error "GD_KEYMAPS_DIR must name the keymaps directory"
#endif

#define EVDEV_OFFSET 8

/* HID keyboard usage -> evdev code, as the Linux HID driver maps them (hid-input.c). */
static const uint16_t hid_to_evdev[256] = {
    [0x04] = KEY_A,
    [0x05] = KEY_B,
    [0x06] = KEY_C,
    [0x07] = KEY_D,
    [0x08] = KEY_E,
    [0x09] = KEY_F,
    [0x0a] = KEY_G,
    [0x0b] = KEY_H,
    [0x0c] = KEY_I,
    [0x0d] = KEY_J,
    [0x0e] = KEY_K,
    [0x0f] = KEY_L,
    [0x10] = KEY_M,
    [0x11] = KEY_N,
    [0x12] = KEY_O,
    [0x13] = KEY_P,
    [0x14] = KEY_Q,
    [0x15] = KEY_R,
    [0x16] = KEY_S,
    [0x17] = KEY_T,
    [0x18] = KEY_U,
    [0x19] = KEY_V,
    [0x1a] = KEY_W,
    [0x1b] = KEY_X,
    [0x1c] = KEY_Y,
    [0x1d] = KEY_Z,
    [0x1e] = KEY_1,
    [0x1f] = KEY_2,
    [0x20] = KEY_3,
    [0x21] = KEY_4,
    [0x22] = KEY_5,
    [0x23] = KEY_6,
    [0x24] = KEY_7,
    [0x25] = KEY_8,
    [0x26] = KEY_9,
    [0x27] = KEY_0,
    [0x28] = KEY_ENTER,
    [0x29] = KEY_ESC,
    [0x2a] = KEY_BACKSPACE,
    [0x2b] = KEY_TAB,
    [0x2c] = KEY_SPACE,
    [0x2d] = KEY_MINUS,
    [0x2e] = KEY_EQUAL,
    [0x2f] = KEY_LEFTBRACE,
    [0x30] = KEY_RIGHTBRACE,
    [0x31] = KEY_BACKSLASH,
    [0x32] = KEY_BACKSLASH, /* non-US # */
    [0x33] = KEY_SEMICOLON,
    [0x34] = KEY_APOSTROPHE,
    [0x35] = KEY_GRAVE,
    [0x36] = KEY_COMMA,
    [0x37] = KEY_DOT,
    [0x38] = KEY_SLASH,
    [0x64] = KEY_102ND,
    [0x87] = KEY_RO,
    [0x88] = KEY_KATAKANAHIRAGANA,
    [0x89] = KEY_YEN,
    [0x8a] = KEY_HENKAN,
    [0x8b] = KEY_MUHENKAN,
    [0x90] = KEY_HANGEUL,
    [0x91] = KEY_HANJA,
    [0x92] = KEY_KATAKANA,
    [0x93] = KEY_HIRAGANA,
    [0x94] = KEY_ZENKAKUHANKAKU,
};

/* Modifier bit i of a boot report -> evdev code. */
static const uint16_t mod_to_evdev[8] = {
    KEY_LEFTCTRL,  KEY_LEFTSHIFT,  KEY_LEFTALT,  KEY_LEFTMETA,
    KEY_RIGHTCTRL, KEY_RIGHTSHIFT, KEY_RIGHTALT, KEY_RIGHTMETA,
};

/* ---- the parser ---- */

static void expect_error(const char *text, const char *what)
{
	char err[256] = "";
	struct gd_layout *lay = (struct gd_layout *)&err; /* must be reset to NULL */
	int rc = gd_layout_parse((const uint8_t *)text, strlen(text), &lay, err, sizeof(err));
	if (rc != -1 || lay != NULL || strstr(err, what) == NULL)
		fail_msg("text '%s': got %d \"%s\", expected \"%s\"", text, rc, err, what);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_error("", "line 1: no 'layout' line");
	expect_error("# only\n\nsource xkb us\n", "line 3: no 'layout' line");
	expect_error("# c\nU+0041 04:02\n", "line 2: 'U+0041' before the 'layout' line");
	expect_error("layout x\n", "line 1: layout 'x' has no characters");
	expect_error("layout x\nlayout y\nU+0041 04:02\n", "line 2: a second 'layout' line");
	expect_error("layout\nU+0041 04:02\n", "line 1: bad layout name ''");
	expect_error("layout a/b\n", "line 1: bad layout name 'a/b'");
	expect_error("layout a b\n", "line 1: unexpected 'b' after the layout name");
	expect_error("layout x\nkeys 1\n", "line 2: unknown line 'keys'");
	expect_error("layout x\nU+00G1 04:02\n", "line 2: bad codepoint 'U+00G1'");
	expect_error("layout x\nU+41 04:02\n", "line 2: bad codepoint 'U+41'");
	expect_error("layout x\nU+1234567 04:02\n", "line 2: bad codepoint 'U+1234567'");
	expect_error("layout x\nU+110000 04:02\n", "line 2: bad codepoint 'U+110000'");
	expect_error("layout x\nU+D800 04:02\n", "line 2: bad codepoint 'U+D800'");
	expect_error("layout x\nU+ 04:02\n", "line 2: bad codepoint 'U+'");
	expect_error("layout x\nU+0041\n", "line 2: no strokes after the codepoint");
	expect_error("layout x\nU+0041 4:02\n", "line 2: bad stroke '4:02'");
	expect_error("layout x\nU+0041 04-02\n", "line 2: bad stroke '04-02'");
	expect_error("layout x\nU+0041 0x:02\n", "line 2: bad stroke '0x:02'");
	expect_error("layout x\nU+0041 04:2g\n", "line 2: bad stroke '04:2g'");
	expect_error("layout x\nU+0041 04:020\n", "line 2: bad stroke '04:020'");
	expect_error("layout x\nU+0041 04:02 05:00 06:00\n",
	             "line 2: more than 2 strokes, at '06:00'");
	expect_error("layout x\nU+0041 00:00\n", "line 2: stroke '00:00' presses no key");
	expect_error("layout x\nU+0042 05:02\nU+0041 04:02\n",
	             "line 3: U+0041 out of order: codepoints must ascend");
	expect_error("layout x\nU+0041 04:02\n\n# c\nU+0041 04:02\n",
	             "line 5: U+0041 again: each codepoint once");
	expect_error("layout x\nU+0041 04:02 #\n", "line 2: bad stroke '#'");
	const char nul[] = "layout x\nU+0041\0 04:02\n";
	char err[128] = "";
	struct gd_layout *lay = NULL;
	assert_int_equal(
	    gd_layout_parse((const uint8_t *)nul, sizeof(nul) - 1, &lay, err, sizeof(err)), -1);
	assert_null(lay);
	assert_string_equal(err, "line 2: control character 0x00");
}

static void test_parse_ok(void **state)
{
	(void)state;
	const char text[] = "# header\r\n"
	                    "layout my-Layout_1.0\r\n"
	                    "source xkb de(nodeadkeys)\r\n"
	                    "\r\n"
	                    "U+0009 2b:00\r\n"
	                    "  U+0041\t04:02  \r\n"
	                    "U+00e9 2e:00 08:00\n"
	                    "U+1F600 00:40\n"
	                    "U+10FFFF 04:ff";
	char err[128] = "";
	struct gd_layout *lay = NULL;
	assert_int_equal(
	    gd_layout_parse((const uint8_t *)text, sizeof(text) - 1, &lay, err, sizeof(err)), 0);
	assert_string_equal(gd_layout_name(lay), "my-Layout_1.0");
	assert_int_equal(gd_layout_size(lay), 5);
	struct gd_stroke s[GD_LAYOUT_MAX_STROKES];
	assert_int_equal(gd_layout_strokes(lay, 'A', s), 1);
	assert_int_equal(s[0].usage, 0x04);
	assert_int_equal(s[0].mods, GD_MOD_LSHIFT);
	assert_int_equal(gd_layout_strokes(lay, 0xe9, s), 2);
	assert_int_equal(s[0].usage, 0x2e);
	assert_int_equal(s[0].mods, 0);
	assert_int_equal(s[1].usage, 0x08);
	assert_int_equal(gd_layout_strokes(lay, 0x1f600, s), 1);
	assert_int_equal(s[0].usage, 0);
	assert_int_equal(s[0].mods, GD_MOD_RALT);
	assert_int_equal(gd_layout_strokes(lay, 0x10ffff, s), 1);
	assert_int_equal(gd_layout_strokes(lay, 0x09, s), 1);
	const uint32_t absent[] = {0, 0x08, 0x0a, 0x40, 0x42, 0xe8, 0xea, 0x1f5ff, 0x10fffe};
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		assert_int_equal(gd_layout_strokes(lay, absent[i], s), 0);
	gd_layout_free(lay);
	gd_layout_free(NULL);
}

static void test_load(void **state)
{
	(void)state;
	char err[512] = "";
	struct gd_layout *lay = NULL;
	const char *missing = unit_path("missing.keymap");
	assert_int_equal(gd_layout_load(missing, &lay, err, sizeof(err)), -1);
	assert_null(lay);
	assert_non_null(strstr(err, missing));
	assert_non_null(strstr(err, "No such file or directory"));

	const char *bad = unit_write("bad.keymap", "layout x\nU+0041 04:02\nU+0041 04:02\n");
	assert_int_equal(gd_layout_load(bad, &lay, err, sizeof(err)), -1);
	assert_null(lay);
	char want[512];
	snprintf(want, sizeof(want), "%s: line 3: U+0041 again", bad);
	assert_non_null(strstr(err, want));

	const char *good = unit_write("good.keymap", "layout x\nU+0041 04:02\n");
	assert_int_equal(gd_layout_load(good, &lay, err, sizeof(err)), 0);
	assert_string_equal(gd_layout_name(lay), "x");
	gd_layout_free(lay);
}

/* ---- the shipped layouts, through libxkbcommon ---- */

struct xkb {
	struct xkb_context *ctx;
	struct xkb_compose_table *compose;
};

static struct xkb xkb_open(void)
{
	/* The system's compose table, as tools/gen-keymaps reads it: no user overrides. */
	unsetenv("XCOMPOSEFILE");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	struct xkb x = {.ctx = xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES)};
	assert_non_null(x.ctx);
	x.compose =
	    xkb_compose_table_new_from_locale(x.ctx, "en_US.UTF-8", XKB_COMPOSE_COMPILE_NO_FLAGS);
	assert_non_null(x.compose);
	return x;
}

static void xkb_close(struct xkb *x)
{
	xkb_compose_table_unref(x->compose);
	xkb_context_unref(x->ctx);
}

/* A keymap file's "source xkb LAYOUT[(VARIANT)]" line and its codepoints, read directly. */
struct file_info {
	char layout[64];
	char variant[64];
	uint32_t *cps;
	size_t count;
};

static void parse_source(const char *spec, struct file_info *fi)
{
	const char *paren = strchr(spec, '(');
	size_t n = paren ? (size_t)(paren - spec) : strlen(spec);
	assert_true(n > 0 && n < sizeof(fi->layout));
	memcpy(fi->layout, spec, n);
	fi->layout[n] = '\0';
	fi->variant[0] = '\0';
	if (paren != NULL) {
		const char *close = strchr(paren, ')');
		assert_non_null(close);
		size_t v = (size_t)(close - paren - 1);
		assert_true(v > 0 && v < sizeof(fi->variant));
		memcpy(fi->variant, paren + 1, v);
		fi->variant[v] = '\0';
	}
}

static void read_file_info(const char *path, struct file_info *fi)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[256], spec[128];
	size_t cap = 0;
	memset(fi, 0, sizeof(*fi));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "source xkb %127s", spec) == 1) {
			parse_source(spec, fi);
		} else if (strncmp(line, "U+", 2) == 0) {
			char *end;
			unsigned long cp = strtoul(line + 2, &end, 16);
			assert_true(end > line + 2 && cp <= 0x10ffff);
			if (fi->count == cap) {
				cap = cap ? 2 * cap : 256;
				fi->cps = realloc(fi->cps, cap * sizeof(*fi->cps));
				assert_non_null(fi->cps);
			}
			fi->cps[fi->count++] = (uint32_t)cp;
		}
	}
	fclose(f);
	assert_true(fi->layout[0] != '\0');
}

static struct xkb_keymap *compile(struct xkb *x, const struct file_info *fi)
{
	struct xkb_rule_names names = {
	    .rules = "evdev",
	    .model = "pc105",
	    .layout = fi->layout,
	    .variant = fi->variant,
	    .options = "",
	};
	return xkb_keymap_new_from_names(x->ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
}

static void press(struct xkb_state *st, uint16_t evdev, enum xkb_key_direction dir)
{
	xkb_state_update_key(st, evdev + EVDEV_OFFSET, dir);
}

/* Plays one stroke on ST; returns the keysym the key gives while its modifiers are held. */
static xkb_keysym_t play(struct xkb_state *st, struct gd_stroke s)
{
	uint16_t key = hid_to_evdev[s.usage];
	if (s.usage != 0 && key == 0)
		fail_msg("usage 0x%02x has no evdev key", s.usage);
	for (int i = 0; i < 8; i++)
		if (s.mods & (1u << i))
			press(st, mod_to_evdev[i], XKB_KEY_DOWN);
	xkb_keysym_t sym = XKB_KEY_NoSymbol;
	if (key != 0) {
		press(st, key, XKB_KEY_DOWN);
		sym = xkb_state_key_get_one_sym(st, key + EVDEV_OFFSET);
		press(st, key, XKB_KEY_UP);
	}
	for (int i = 7; i >= 0; i--)
		if (s.mods & (1u << i))
			press(st, mod_to_evdev[i], XKB_KEY_UP);
	return sym;
}

static uint32_t utf8_one(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	if (p[0] < 0x80)
		return p[0] && !p[1] ? p[0] : 0;
	int n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	uint32_t cp = p[0] & (0x7f >> n);
	for (int i = 1; i < n; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	return p[n] == '\0' ? cp : 0;
}

/* Types CP with its strokes on a fresh xkb and compose state; returns what came out. */
static uint32_t replay(struct xkb_state *st, struct xkb_compose_state *cs,
                       const struct gd_stroke *s, size_t n)
{
	xkb_compose_state_reset(cs);
	if (n == 1) {
		xkb_keysym_t sym = play(st, s[0]);
		xkb_compose_state_feed(cs, sym);
		if (xkb_compose_state_get_status(cs) != XKB_COMPOSE_NOTHING)
			return 0xffffffff; /* a lone stroke that starts a compose sequence */
		return xkb_keysym_to_utf32(sym);
	}
	xkb_compose_state_feed(cs, play(st, s[0]));
	if (xkb_compose_state_get_status(cs) != XKB_COMPOSE_COMPOSING)
		return 0xfffffffe;
	xkb_compose_state_feed(cs, play(st, s[1]));
	if (xkb_compose_state_get_status(cs) != XKB_COMPOSE_COMPOSED)
		return 0xfffffffd;
	char text[64];
	xkb_compose_state_get_utf8(cs, text, sizeof(text));
	return utf8_one(text);
}

/* Returns how many characters of the layout in PATH did not type themselves. */
static size_t round_trip(struct xkb *x, const char *path, const char *name)
{
	char err[512] = "";
	struct gd_layout *lay = NULL;
	if (gd_layout_load(path, &lay, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(gd_layout_name(lay), name);
	struct file_info fi;
	read_file_info(path, &fi);
	assert_int_equal(gd_layout_size(lay), fi.count);
	struct xkb_keymap *km = compile(x, &fi);
	if (km == NULL)
		fail_msg("%s: xkb cannot compile %s(%s)", name, fi.layout, fi.variant);
	struct xkb_state *st = xkb_state_new(km);
	struct xkb_compose_state *cs = xkb_compose_state_new(x->compose, 0);
	assert_non_null(st);
	assert_non_null(cs);
	size_t bad = 0;
	for (size_t i = 0; i < fi.count; i++) {
		uint32_t cp = fi.cps[i];
		struct gd_stroke s[GD_LAYOUT_MAX_STROKES];
		size_t n = gd_layout_strokes(lay, cp, s);
		uint32_t want = cp == '\n' ? '\r' : cp, got = n ? replay(st, cs, s, n) : 0;
		if (got != want) {
			fprintf(stderr, "%s: U+%04X: %zu strokes type U+%04X\n", name, cp, n, got);
			bad++;
		}
	}
	xkb_compose_state_unref(cs);
	xkb_state_unref(st);
	xkb_keymap_unref(km);
	free(fi.cps);
	gd_layout_free(lay);
	return bad;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct xkb x = xkb_open();
	DIR *dir = opendir(GD_KEYMAPS_DIR);
	assert_non_null(dir);
	size_t files = 0, bad = 0;
	for (struct dirent *d = readdir(dir); d != NULL; d = readdir(dir)) {
		size_t len = strlen(d->d_name);
		if (len <= 7 || strcmp(d->d_name + len - 7, ".keymap") != 0)
			continue;
		char path[512], name[256];
		snprintf(path, sizeof(path), "%s/%s", GD_KEYMAPS_DIR, d->d_name);
		snprintf(name, sizeof(name), "%.*s", (int)(len - 7), d->d_name);
		bad += round_trip(&x, path, name);
		files++;
	}
	closedir(dir);
	xkb_close(&x);
	assert_true(files >= 25);
	assert_int_equal(bad, 0);
}

static struct gd_layout *shipped(const char *name)
{
	char path[512], err[512] = "";
	snprintf(path, sizeof(path), "%s/%s.keymap", GD_KEYMAPS_DIR, name);
	struct gd_layout *lay = NULL;
	if (gd_layout_load(path, &lay, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return lay;
}

static void test_shipped_names(void **state)
{
	(void)state;
	static const char *const names[] = {
	    "us", "gb", "de", "fr",    "es", "it",        "pt",         "br", "ch-de",
	    "se", "no", "dk", "fi",    "nl", "be",        "pl",         "cz", "hu",
	    "ru", "jp", "kr", "latam", "tr", "us-dvorak", "us-colemak",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct gd_layout *lay = shipped(names[i]);
		assert_string_equal(gd_layout_name(lay), names[i]);
		assert_true(gd_layout_size(lay) >= 60);
		struct gd_stroke s[GD_LAYOUT_MAX_STROKES];
		assert_int_equal(gd_layout_strokes(lay, '\n', s), 1);
		assert_int_equal(s[0].usage, 0x28);
		assert_int_equal(s[0].mods, 0);
		assert_int_equal(gd_layout_strokes(lay, '\t', s), 1);
		assert_int_equal(s[0].usage, 0x2b);
		assert_int_equal(gd_layout_strokes(lay, ' ', s), 1);
		assert_int_equal(s[0].usage, 0x2c);
		gd_layout_free(lay);
	}
}

/* Asserts LAYOUT types CP with N strokes. */
static void expect_types(const struct gd_layout *lay, uint32_t cp, size_t n)
{
	struct gd_stroke s[GD_LAYOUT_MAX_STROKES];
	size_t got = gd_layout_strokes(lay, cp, s);
	if (got != n)
		fail_msg("%s: U+%04X takes %zu strokes, expected %zu", gd_layout_name(lay), cp, got,
		         n);
}

static void test_shipped_contents(void **state)
{
	(void)state;
	struct gd_layout *us = shipped("us");
	assert_true(gd_layout_size(us) >= 98);
	for (uint32_t c = 0x20; c < 0x7f; c++)
		expect_types(us, c, 1);
	expect_types(us, 0xe9, 0);
	struct gd_stroke s[GD_LAYOUT_MAX_STROKES];
	assert_int_equal(gd_layout_strokes(us, 'A', s), 1);
	assert_int_equal(s[0].usage, 0x04);
	assert_int_equal(s[0].mods, GD_MOD_LSHIFT);
	assert_int_equal(gd_layout_strokes(us, '<', s), 1);
	assert_int_equal(s[0].usage, 0x36); /* shift+comma, not the 102nd key ANSI lacks */
	gd_layout_free(us);

	struct gd_layout *de = shipped("de");
	expect_types(de, 0xe4, 1);   /* ä */
	expect_types(de, 0xdf, 1);   /* ß */
	expect_types(de, 0x20ac, 1); /* € */
	expect_types(de, 0xe9, 2);   /* é: dead acute, e */
	assert_int_equal(gd_layout_strokes(de, 'z', s), 1);
	assert_int_equal(s[0].usage, 0x1c); /* QWERTZ */
	assert_int_equal(gd_layout_strokes(de, 0x20ac, s), 1);
	assert_int_equal(s[0].mods, GD_MOD_RALT);
	gd_layout_free(de);

	struct gd_layout *fr = shipped("fr");
	expect_types(fr, 0xe9, 1); /* é */
	expect_types(fr, 0xe0, 1); /* à */
	expect_types(fr, 0x20ac, 1);
	expect_types(fr, 0xea, 2); /* ê: dead circumflex, e */
	gd_layout_free(fr);

	struct gd_layout *ru = shipped("ru");
	expect_types(ru, 0x0436, 1); /* ж */
	gd_layout_free(ru);

	struct gd_layout *dvorak = shipped("us-dvorak");
	assert_int_equal(gd_layout_strokes(dvorak, 'a', s), 1);
	assert_int_equal(s[0].usage, 0x04);
	assert_int_equal(gd_layout_strokes(dvorak, 'o', s), 1);
	assert_int_equal(s[0].usage, 0x16); /* where qwerty has s */
	gd_layout_free(dvorak);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_errors),  cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_load),          cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_shipped_names), cmocka_unit_test(test_shipped_contents),
	};
	int rc = cmocka_run_group_tests_name("layout", tests, NULL, NULL);
	unit_scratch_cleanup();
	return rc;
}
