/*
 * Unit tests of macro: the exact actions of chords, waits, holds, repeats and typed text; parse
 * errors with their line and column; untypable characters, bad UTF-8, programs too long.
 */
#include "macro.h"

#include <stdbool.h>

#include "unit.h"

#define R(m, ...)                                                                                  \
	{                                                                                          \
		.kind = GD_ACT_REPORT, .mods = (m), .keys = { __VA_ARGS__ }                        \
	}
#define W(t)                                                                                       \
	{                                                                                          \
		.kind = GD_ACT_WAIT, .ms = (t)                                                     \
	}
#define PS                                                                                         \
	{                                                                                          \
		.kind = GD_ACT_PERIOD_START                                                        \
	}
#define PE(t)                                                                                      \
	{                                                                                          \
		.kind = GD_ACT_PERIOD_END, .ms = (t)                                               \
	}
#define N(arr) (sizeof(arr) / sizeof((arr)[0]))

/* A small layout: a b c A B, space, ! " # ; \ tab, newline and CR as Enter, é with a dead key. */
static const char layout_text[] = "layout test\n"
                                  "source unit test\n"
                                  "U+0009 2b:00\n"
                                  "U+000A 28:00\n"
                                  "U+000D 28:00\n"
                                  "U+0020 2c:00\n"
                                  "U+0021 1e:02\n"
                                  "U+0022 34:02\n"
                                  "U+0023 20:02\n"
                                  "U+003B 33:00\n"
                                  "U+0041 04:02\n"
                                  "U+0042 05:02\n"
                                  "U+005C 31:00\n"
                                  "U+0061 04:00\n"
                                  "U+0062 05:00\n"
                                  "U+0063 06:00\n"
                                  "U+00E9 2e:00 08:00\n";

static struct gd_layout *layout;

static int setup(void **state)
{
	(void)state;
	char err[256] = "";
	if (gd_layout_parse((const uint8_t *)layout_text, strlen(layout_text), &layout, err,
	                    sizeof(err)) != 0) {
		fprintf(stderr, "test layout: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gd_layout_free(layout);
	return 0;
}

/* Parses LEN bytes from an exact-size copy (ASan catches reads past the end). */
static int parse(const char *text, size_t len, struct gd_macro **out, char *err, size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	int rc = gd_macro_parse(copy, len, out, err, errlen);
	free(copy);
	return rc;
}

static void compile(const char *text, struct gd_program *prog)
{
	char err[256] = "";
	struct gd_macro *m = NULL;
	if (parse(text, strlen(text), &m, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", text, err);
	gd_program_init(prog);
	if (gd_macro_compile(m, layout, prog, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", text, err);
	gd_macro_free(m);
}

static void print_action(const char *what, size_t i, const struct gd_action *a)
{
	fprintf(stderr, "%s[%zu]: kind %d mods %02x keys %02x %02x %02x %02x %02x %02x ms %u\n",
	        what, i, a->kind, a->mods, a->keys[0], a->keys[1], a->keys[2], a->keys[3],
	        a->keys[4], a->keys[5], (unsigned)a->ms);
}

static void expect_actions(const char *text, const struct gd_program *prog,
                           const struct gd_action *want, size_t n)
{
	bool same = prog->count == n;
	for (size_t i = 0; same && i < n; i++)
		same = memcmp(&prog->actions[i], &want[i], sizeof(want[i])) == 0;
	if (same)
		return;
	for (size_t i = 0; i < prog->count; i++)
		print_action("got", i, &prog->actions[i]);
	for (size_t i = 0; i < n; i++)
		print_action("want", i, &want[i]);
	fail_msg("'%s': %zu actions, expected %zu", text, prog->count, n);
}

static void expect_program(const char *text, const struct gd_action *want, size_t n)
{
	struct gd_program prog;
	compile(text, &prog);
	expect_actions(text, &prog, want, n);
	gd_program_free(&prog);
}

static void expect_parse_error(const char *text, size_t len, const char *want)
{
	char err[256] = "";
	struct gd_macro *m = (struct gd_macro *)&err; /* must become NULL */
	if (parse(text, len, &m, err, sizeof(err)) == 0 || m != NULL)
		fail_msg("'%s' parsed", text);
	if (strcmp(err, want) != 0)
		fail_msg("'%s': got \"%s\", expected \"%s\"", text, err, want);
}

#define PARSE_ERROR(text, want) expect_parse_error(text, sizeof(text) - 1, want)

static void expect_compile_error(const char *text, const char *want)
{
	char err[256] = "";
	struct gd_macro *m = NULL;
	struct gd_program prog;
	gd_program_init(&prog);
	if (parse(text, strlen(text), &m, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", text, err);
	if (gd_macro_compile(m, layout, &prog, err, sizeof(err)) == 0)
		fail_msg("'%s' compiled", text);
	if (strcmp(err, want) != 0)
		fail_msg("'%s': got \"%s\", expected \"%s\"", text, err, want);
	assert_int_equal(prog.count, 0);
	assert_int_equal(prog.chars, 0);
	gd_macro_free(m);
	gd_program_free(&prog);
}

static void test_ctrl_alt_delete(void **state)
{
	(void)state;
	const struct gd_action want[] = {R(0x01), R(0x05), R(0x05, 0x4c), R(0x05), R(0x01), R(0)};
	expect_program("ctrl+alt+delete", want, N(want));
	expect_program("  Ctrl + ALT +del  ", want, N(want));
	expect_program("lctrl+lalt+delete\n", want, N(want));
}

static void test_taps_and_chords(void **state)
{
	(void)state;
	const struct gd_action f12[] = {R(0, 0x45), R(0)};
	expect_program("f12", f12, N(f12));
	const struct gd_action shift[] = {R(0x02), R(0)};
	expect_program("shift", shift, N(shift));
	/* Keys in the written order, released in reverse. */
	const struct gd_action mixed[] = {
	    R(0, 0x04),          R(0x01, 0x04), R(0x01, 0x04, 0x05), R(0x41, 0x04, 0x05),
	    R(0x01, 0x04, 0x05), R(0x01, 0x04), R(0, 0x04),          R(0)};
	expect_program("a+ctrl+b+altgr", mixed, N(mixed));
	const struct gd_action six[] = {
	    R(0x02),
	    R(0x02, 0x04),
	    R(0x02, 0x04, 0x05),
	    R(0x02, 0x04, 0x05, 0x06),
	    R(0x02, 0x04, 0x05, 0x06, 0x07),
	    R(0x02, 0x04, 0x05, 0x06, 0x07, 0x08),
	    R(0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09),
	    R(0x02, 0x04, 0x05, 0x06, 0x07, 0x08),
	    R(0x02, 0x04, 0x05, 0x06, 0x07),
	    R(0x02, 0x04, 0x05, 0x06),
	    R(0x02, 0x04, 0x05),
	    R(0x02, 0x04),
	    R(0x02),
	    R(0),
	};
	expect_program("shift+a+b+c+d+e+f", six, N(six));
	/* Every modifier and six keys: 14 presses, 14 releases. */
	struct gd_program prog;
	compile("ctrl+shift+alt+meta+rctrl+rshift+ralt+rmeta+a+b+c+d+e+f", &prog);
	assert_int_equal(prog.count, 28);
	assert_int_equal(prog.actions[13].mods, 0xff);
	gd_program_free(&prog);
	/* Punctuation by its US legend, and keys beyond the boot range. */
	const struct gd_action punct[] = {R(0x01, 0), R(0x01, 0x2d), R(0x01),
	                                  R(0),       R(0, 0x7f),    R(0)};
	expect_program("ctrl+-; mute", punct, N(punct));
}

static void test_wait_and_hold(void **state)
{
	(void)state;
	const struct gd_action wait[] = {R(0, 0x04), R(0), W(1500), R(0, 0x05), R(0)};
	expect_program("a; wait 1.5s; b", wait, N(wait));
	/* A program that ends waiting still ends with a release. */
	const struct gd_action only[] = {W(2000), R(0)};
	expect_program("wait 2s", only, N(only));
	const struct gd_action units[] = {W(150), W(250), W(1001), W(0), W(3600000), W(7), R(0)};
	expect_program("wait 150ms\nwait 0.25s\nwait 1.001s\nwait 0ms\nwait 3600s\nWAIT 7MS", units,
	               N(units));
	const struct gd_action hold[] = {R(0x02), W(500), R(0)};
	expect_program("hold shift 500ms", hold, N(hold));
	const struct gd_action chord[] = {R(0x01), R(0x01, 0x2a), W(1000), R(0x01), R(0)};
	expect_program("hold ctrl+backspace 1s", chord, N(chord));
}

static void test_type(void **state)
{
	(void)state;
	const struct gd_action text[] = {R(0, 0x04), R(0), R(0x02), R(0x02, 0x05), R(0),
	                                 R(0, 0x28), R(0), R(0x02), R(0x02, 0x1e), R(0)};
	struct gd_program prog;
	compile("type \"aB\\n!\"", &prog);
	expect_actions("type", &prog, text, N(text));
	assert_int_equal(prog.chars, 4);
	gd_program_free(&prog);
	/* Every escape, a raw UTF-8 character and a dead key. */
	const struct gd_action escapes[] = {
	    R(0, 0x2b), R(0),       R(0, 0x28), R(0),    R(0x02),       R(0x02, 0x34), R(0),
	    R(0, 0x31), R(0),       R(0, 0x2e), R(0),    R(0, 0x08),    R(0),          R(0, 0x2e),
	    R(0),       R(0, 0x08), R(0),       R(0x02), R(0x02, 0x04), R(0),
	};
	compile("type \"\\t\\r\\\"\\\\\\u00e9é\\u0041\"", &prog);
	expect_actions("escapes", &prog, escapes, N(escapes));
	assert_int_equal(prog.chars, 7);
	gd_program_free(&prog);
	/* '#' and ';' inside a string are text. */
	compile("type \" # ; \" # comment", &prog);
	assert_int_equal(prog.count, 11);
	assert_int_equal(prog.actions[3].keys[0], 0x20);
	assert_int_equal(prog.actions[7].keys[0], 0x33);
	gd_program_free(&prog);
}

static void test_repeat(void **state)
{
	(void)state;
	const struct gd_action every[] = {PS,         R(0, 0x45), R(0),    PE(200), PS,
	                                  R(0, 0x45), R(0),       PE(200), PS,      R(0, 0x45),
	                                  R(0),       PE(200),    R(0)};
	expect_program("repeat 3 every 200ms: f12", every, N(every));
	expect_program("REPEAT 3 Every 0.2S : F12 # three", every, N(every));
	const struct gd_action plain[] = {R(0, 0x51), R(0), R(0, 0x28), R(0),
	                                  R(0, 0x51), R(0), R(0, 0x28), R(0)};
	expect_program("repeat 2: down; enter", plain, N(plain));
	const struct gd_action nested[] = {
	    R(0, 0x04), R(0),     PS,       R(0, 0x05), R(0), PE(1000), PS,
	    R(0, 0x05), R(0),     PE(1000), R(0, 0x04), R(0), PS,       R(0, 0x05),
	    R(0),       PE(1000), PS,       R(0, 0x05), R(0), PE(1000), R(0)};
	expect_program("repeat 2: a; repeat 2 every 1s: b", nested, N(nested));
	struct gd_program prog;
	compile("repeat 10000: type \"ab\"", &prog);
	assert_int_equal(prog.count, 40000);
	assert_int_equal(prog.chars, 20000);
	gd_program_free(&prog);
	compile("type \"c\"; repeat 3: type \"ab\"", &prog);
	assert_int_equal(prog.chars, 7);
	gd_program_free(&prog);
}

static void test_lines_comments_separators(void **state)
{
	(void)state;
	const struct gd_action want[] = {R(0, 0x3a), R(0), R(0, 0x3b), R(0),
	                                 R(0, 0x3c), R(0), R(0, 0x3d), R(0)};
	expect_program("# a comment\n\nf1 # tap\n  f2;f3;\n;;\n\tf4;", want, N(want));
	expect_program("\xef\xbb\xbf"
	               "f1\r\nf2 ; f3\r\n# end\r\nf4\r\n",
	               want, N(want));
	expect_program("f1;f2\nf3#x;y\nf4 #", want, N(want));
}

static void test_parse_errors(void **state)
{
	(void)state;
	PARSE_ERROR("", "macro is empty");
	PARSE_ERROR("  # only a comment\n\n;\n", "macro is empty");
	PARSE_ERROR("ctrl+alt+delete\nalt+ctlr",
	            "line 2, column 5: expected a key name, got 'ctlr'");
	PARSE_ERROR("wait 500",
	            "line 1, column 6: expected a duration like 500ms or 2s, got '500'");
	PARSE_ERROR(
	    "a\nb\ntyp \"x\"",
	    "line 3, column 1: unknown step 'typ': not a key name, wait, hold, type or repeat");
	PARSE_ERROR("wait",
	            "line 1, column 5: expected a duration like 500ms or 2s, got end of line");
	PARSE_ERROR("wait 2h", "line 1, column 6: expected a duration like 500ms or 2s, got '2h'");
	PARSE_ERROR("wait 1.5ms",
	            "line 1, column 6: expected a duration like 500ms or 2s, got '1.5ms'");
	PARSE_ERROR("wait .5s",
	            "line 1, column 6: expected a duration like 500ms or 2s, got '.5s'");
	PARSE_ERROR("wait 1.0005s",
	            "line 1, column 6: expected a duration like 500ms or 2s, got '1.0005s'");
	PARSE_ERROR("wait 3601s", "line 1, column 6: a duration is at most 1 hour, got '3601s'");
	PARSE_ERROR(
	    "wait 99999999999999999999999ms",
	    "line 1, column 6: a duration is at most 1 hour, got '99999999999999999999999ms'");
	PARSE_ERROR("wait 2s x", "line 1, column 9: expected ';' or end of line, got 'x'");
	PARSE_ERROR("ctrl+", "line 1, column 6: expected a key name, got end of line");
	PARSE_ERROR("ctrl++", "line 1, column 6: expected a key name, got '+'");
	PARSE_ERROR("+a",
	            "line 1, column 1: expected a key name, wait, hold, type or repeat, got '+'");
	PARSE_ERROR(
	    "\"hi\"",
	    "line 1, column 1: expected a key name, wait, hold, type or repeat, got a string");
	PARSE_ERROR("a+b+c+d+e+f+g",
	            "line 1, column 13: a chord has at most 6 keys besides modifiers");
	PARSE_ERROR("ctrl+lctrl", "line 1, column 6: 'lctrl' is already in the chord");
	PARSE_ERROR("a+A", "line 1, column 3: 'A' is already in the chord");
	PARSE_ERROR("f12 f11", "line 1, column 5: expected ';' or end of line, got 'f11'");
	PARSE_ERROR("f12:", "line 1, column 4: expected ';' or end of line, got ':'");
	PARSE_ERROR("hold shift",
	            "line 1, column 11: expected a duration like 500ms or 2s, got end "
	            "of line");
	PARSE_ERROR("hold 1s", "line 1, column 6: expected a key name, got '1s'");
	PARSE_ERROR("hold ctlr 1s", "line 1, column 6: expected a key name, got 'ctlr'");
	PARSE_ERROR("type abc", "line 1, column 6: expected a string in double quotes, got 'abc'");
	PARSE_ERROR("type",
	            "line 1, column 5: expected a string in double quotes, got end of line");
	PARSE_ERROR("type \"abc", "line 1, column 6: unterminated string: expected a closing '\"'");
	PARSE_ERROR("type \"abc\\\"",
	            "line 1, column 6: unterminated string: expected a closing '\"'");
	PARSE_ERROR("type \"abc\nd\"",
	            "line 1, column 6: unterminated string: expected a closing '\"'");
	PARSE_ERROR(
	    "type \"a\\qb\"",
	    "line 1, column 8: unknown escape '\\q': use \\n, \\t, \\r, \\\", \\\\ or \\uXXXX");
	PARSE_ERROR(
	    "type \"a\\éb\"",
	    "line 1, column 8: unknown escape '\\é': use \\n, \\t, \\r, \\\", \\\\ or \\uXXXX");
	PARSE_ERROR("type \"\\u12\"", "line 1, column 7: expected 4 hex digits after \\u");
	PARSE_ERROR("type \"\\u12g4\"", "line 1, column 7: expected 4 hex digits after \\u");
	PARSE_ERROR("type \"\\ud800\"",
	            "line 1, column 7: \\uD800 is not a character that can be typed");
	PARSE_ERROR("type \"\\u0000\"",
	            "line 1, column 7: \\u0000 is not a character that can be typed");
	PARSE_ERROR("type \"\"", "line 1, column 6: the string is empty");
	PARSE_ERROR("type \"a\x01\"",
	            "line 1, column 8: control character U+0001 in a string: use an escape");
	PARSE_ERROR("repeat 0: a", "line 1, column 8: expected a count from 1 to 10000, got '0'");
	PARSE_ERROR("repeat 10001: a",
	            "line 1, column 8: expected a count from 1 to 10000, got '10001'");
	PARSE_ERROR(
	    "repeat 99999999999999999999: a",
	    "line 1, column 8: expected a count from 1 to 10000, got '99999999999999999999'");
	PARSE_ERROR("repeat x: a", "line 1, column 8: expected a count from 1 to 10000, got 'x'");
	PARSE_ERROR("repeat: a", "line 1, column 7: expected a count from 1 to 10000, got ':'");
	PARSE_ERROR("repeat 3 a", "line 1, column 10: expected 'every' or ':', got 'a'");
	PARSE_ERROR("repeat 3 every 1s a", "line 1, column 19: expected ':', got 'a'");
	PARSE_ERROR("repeat 3 every: a",
	            "line 1, column 15: expected a duration like 500ms or 2s, got ':'");
	PARSE_ERROR("repeat 3:", "line 1, column 10: expected a step after ':'");
	PARSE_ERROR("repeat 3: ; # nothing", "line 1, column 10: expected a step after ':'");
	PARSE_ERROR("repeat 3: a; ctlr", "line 1, column 14: unknown step 'ctlr': not a key name, "
	                                 "wait, hold, type or repeat");
	PARSE_ERROR("repeat 2 every 1s: repeat 2 every 1s: a",
	            "line 1, column 29: a repeat with 'every' cannot be inside another one");
	PARSE_ERROR("repeat 2: repeat 2: repeat 2: repeat 2: repeat 2: a",
	            "line 1, column 41: repeats nest at most 4 deep");
	/* Columns count characters, not bytes; quoted input is cut at a character. */
	PARSE_ERROR("type \"éé\" x", "line 1, column 11: expected ';' or end of line, got 'x'");
	PARSE_ERROR("ctrl+é", "line 1, column 6: expected a key name, got 'é'");
	PARSE_ERROR("a+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxéééé",
	            "line 1, column 3: expected a key name, got "
	            "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxé...'");
	PARSE_ERROR("a\x01", "line 1, column 2: expected ';' or end of line, got control character "
	                     "U+0001");
}

static void test_bad_bytes(void **state)
{
	(void)state;
	PARSE_ERROR("a\0b", "line 1, column 2: NUL byte");
	PARSE_ERROR("type \"a\0\"", "line 1, column 8: NUL byte");
	PARSE_ERROR("\0", "line 1, column 1: NUL byte");
	PARSE_ERROR("a\n# \xff", "line 2, column 3: invalid UTF-8");
	PARSE_ERROR("a\nb\xc3", "line 2, column 2: invalid UTF-8");
	PARSE_ERROR("\xc0\xaf", "line 1, column 1: invalid UTF-8");
	PARSE_ERROR("type \"\xed\xa0\x80\"", "line 1, column 7: invalid UTF-8");
	PARSE_ERROR("\xf4\x90\x80\x80", "line 1, column 1: invalid UTF-8");
	PARSE_ERROR("\xef\xbb\xbf", "macro is empty");
}

static void test_untypable(void **state)
{
	(void)state;
	expect_compile_error("a\ntype \"ab€c\"",
	                     "line 2: character '€' (U+20AC) at position 3 cannot be typed with "
	                     "layout test");
	expect_compile_error(
	    "type \"\\u0001\"",
	    "line 1: character U+0001 at position 1 cannot be typed with layout test");
	expect_compile_error("repeat 2: a; type \"x\"",
	                     "line 1: character 'x' (U+0078) at position 1 cannot be typed with "
	                     "layout test");

	/* gd_program_add_text appends nothing when it fails, and keeps what was there. */
	char err[256] = "";
	struct gd_program prog;
	gd_program_init(&prog);
	assert_int_equal(gd_program_add_text(&prog, "ab", 2, layout, err, sizeof(err)), 0);
	assert_int_equal(prog.count, 4);
	assert_int_equal(prog.chars, 2);
	assert_int_equal(gd_program_add_text(&prog, "ab\x7f", 3, layout, err, sizeof(err)), -1);
	assert_string_equal(err, "character U+007F at position 3 cannot be typed with layout test");
	assert_int_equal(gd_program_add_text(&prog, "aé\xc2\xa0", 5, layout, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "character '\xc2\xa0' (U+00A0) at position 3 cannot be typed with layout test");
	assert_int_equal(
	    gd_program_add_text(&prog, "a\xf0\x9f\x98\x80", 5, layout, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "character '😀' (U+1F600) at position 2 cannot be typed with layout test");
	assert_int_equal(gd_program_add_text(&prog, "a\0b", 3, layout, err, sizeof(err)), -1);
	assert_string_equal(err, "character U+0000 at position 2 cannot be typed with layout test");
	assert_int_equal(prog.count, 4);
	assert_int_equal(prog.chars, 2);
	assert_int_equal(gd_program_add_text(&prog, "a", 1, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "no keyboard layout to type text with");
	assert_int_equal(gd_program_add_text(&prog, "", 0, layout, err, sizeof(err)), 0);
	assert_int_equal(prog.count, 4);
	gd_program_free(&prog);
	/* Without a layout, 'type' fails (macros that type nothing compile, see below). */
	struct gd_macro *m = NULL;
	assert_int_equal(parse("a\ntype \"a\"", 10, &m, err, sizeof(err)), 0);
	assert_int_equal(gd_macro_compile(m, NULL, &prog, err, sizeof(err)), -1);
	assert_string_equal(err, "line 2: no keyboard layout to type text with");
	assert_int_equal(prog.count, 0);
	gd_macro_free(m);
	gd_program_free(&prog);
}

static void test_invalid_utf8_text(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t len;
		const char *want;
	} bad[] = {
	    {"ab\xff"
	     "c",
	     4, "text is not valid UTF-8 at byte 3"},
	    {"é\xc3", 3, "text is not valid UTF-8 at byte 3"},
	    {"\xc0\x80", 2, "text is not valid UTF-8 at byte 1"},
	    {"a\xe2\x82", 3, "text is not valid UTF-8 at byte 2"},
	    {"\xed\xb0\x80", 3, "text is not valid UTF-8 at byte 1"},
	    {"\x80", 1, "text is not valid UTF-8 at byte 1"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		char err[256] = "";
		struct gd_program prog;
		gd_program_init(&prog);
		char *copy = malloc(bad[i].len);
		memcpy(copy, bad[i].text, bad[i].len);
		assert_int_equal(
		    gd_program_add_text(&prog, copy, bad[i].len, layout, err, sizeof(err)), -1);
		assert_string_equal(err, bad[i].want);
		assert_int_equal(prog.count, 0);
		assert_int_equal(prog.chars, 0);
		free(copy);
		gd_program_free(&prog);
	}
}

static void test_too_long(void **state)
{
	(void)state;
	char err[256] = "";
	/* 2049 * 2047 waits and the final release: exactly GD_PROGRAM_MAX_ACTIONS. */
	struct gd_program prog;
	compile("repeat 2049: repeat 2047: wait 1ms", &prog);
	assert_int_equal(prog.count, GD_PROGRAM_MAX_ACTIONS);
	struct gd_stroke a = {0, 0x04};
	assert_int_equal(gd_program_add_chord(&prog, &a, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "macro is too long: more than 4194304 actions");
	assert_int_equal(gd_program_add_text(&prog, "a", 1, layout, err, sizeof(err)), -1);
	assert_int_equal(prog.count, GD_PROGRAM_MAX_ACTIONS);
	gd_program_free(&prog);
	expect_compile_error("repeat 4096: repeat 1024: wait 1ms",
	                     "line 1: macro is too long: more than 4194304 actions");
	expect_compile_error("f1\nrepeat 10000: repeat 10000: a",
	                     "line 2: macro is too long: more than 4194304 actions");
	expect_compile_error("repeat 10000: repeat 10000: repeat 10000: repeat 10000: type \"a\"",
	                     "line 1: macro is too long: more than 4194304 actions");
}

static void test_ends_released(void **state)
{
	(void)state;
	static const char *const macros[] = {
	    "f12",
	    "shift",
	    "wait 1s",
	    "hold ctrl+alt+a+b 1s",
	    "type \"aB\\n\"",
	    "repeat 3 every 1s: ctrl+a",
	    "repeat 2: hold shift 1ms; wait 1ms",
	    "a; wait 10ms",
	    "repeat 2: repeat 3 every 5ms: wait 1ms",
	};
	for (size_t i = 0; i < N(macros); i++) {
		struct gd_program prog;
		compile(macros[i], &prog);
		assert_true(prog.count > 0);
		const struct gd_action *last = &prog.actions[prog.count - 1];
		const struct gd_action released = R(0);
		if (memcmp(last, &released, sizeof(released)) != 0)
			fail_msg("'%s' does not end released", macros[i]);
		/* Every key pressed is released before the end, and waits hold nothing extra. */
		gd_program_free(&prog);
	}
}

static void test_program_builder(void **state)
{
	(void)state;
	char err[256] = "";
	struct gd_program prog;
	gd_program_init(&prog);
	assert_int_equal(gd_program_add_chord(&prog, NULL, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "a chord has 1 to 14 keys, not 0");
	struct gd_stroke seven[7] = {{0, 4}, {0, 5}, {0, 6}, {0, 7}, {0, 8}, {0, 9}, {0, 10}};
	assert_int_equal(gd_program_add_chord(&prog, seven, 7, err, sizeof(err)), -1);
	assert_string_equal(err, "a chord has at most 6 keys besides modifiers");
	assert_int_equal(prog.count, 0);
	/* A stroke with modifiers presses them first; a key given twice is pressed once. */
	struct gd_stroke strokes[3] = {{0x02, 0x04}, {0, 0x04}, {0x01, 0}};
	assert_int_equal(gd_program_add_chord(&prog, strokes, 3, err, sizeof(err)), 0);
	const struct gd_action want[] = {R(0x02),       R(0x02, 0x04), R(0x03, 0x04),
	                                 R(0x02, 0x04), R(0x02),       R(0)};
	expect_actions("strokes", &prog, want, N(want));
	/* Compiling appends. */
	struct gd_macro *m = NULL;
	assert_int_equal(parse("f1", 2, &m, err, sizeof(err)), 0);
	assert_int_equal(gd_macro_compile(m, layout, &prog, err, sizeof(err)), 0);
	assert_int_equal(gd_macro_compile(m, NULL, &prog, err, sizeof(err)), 0);
	assert_int_equal(prog.count, 10);
	gd_macro_free(m);
	gd_program_free(&prog);
	assert_null(prog.actions);
	assert_int_equal(prog.count, 0);
	gd_macro_free(NULL);
}

/* Every prefix and many byte mutations of a busy macro: never a crash or a read past LEN. */
static void test_prefixes_and_mutations(void **state)
{
	(void)state;
	static const char macro[] = "# demo\nctrl+alt+delete; wait 1.5s\nhold shift+a 20ms\n"
	                            "type \"aB\\n\\u00e9\\\"é\" # x\nrepeat 3 every 200ms: f12; "
	                            "repeat 2: down\n"
	                            "repeat 2: type \"c\"\n";
	char err[256];
	size_t len = sizeof(macro) - 1;
	for (size_t n = 0; n <= len; n++) {
		struct gd_macro *m = NULL;
		if (parse(macro, n, &m, err, sizeof(err)) == 0) {
			struct gd_program prog;
			gd_program_init(&prog);
			(void)gd_macro_compile(m, layout, &prog, err, sizeof(err));
			gd_program_free(&prog);
			gd_macro_free(m);
		}
	}
	static const char bytes[] = "\0\n\r\t \"\\#;:+.u0s9xé\xff";
	uint32_t seed = 12345;
	char buf[sizeof(macro)];
	for (int round = 0; round < 3000; round++) {
		memcpy(buf, macro, len);
		for (int k = 0; k < 3; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			buf[at] = bytes[(seed >> 8) % (sizeof(bytes) - 1)];
		}
		struct gd_macro *m = NULL;
		if (parse(buf, len, &m, err, sizeof(err)) == 0) {
			struct gd_program prog;
			gd_program_init(&prog);
			if (gd_macro_compile(m, layout, &prog, err, sizeof(err)) == 0) {
				const struct gd_action *last = &prog.actions[prog.count - 1];
				assert_int_equal(last->kind, GD_ACT_REPORT);
				assert_int_equal(last->mods, 0);
			}
			gd_program_free(&prog);
			gd_macro_free(m);
		} else {
			assert_null(m);
			assert_true(strlen(err) > 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctrl_alt_delete),
	    cmocka_unit_test(test_taps_and_chords),
	    cmocka_unit_test(test_wait_and_hold),
	    cmocka_unit_test(test_type),
	    cmocka_unit_test(test_repeat),
	    cmocka_unit_test(test_lines_comments_separators),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_bad_bytes),
	    cmocka_unit_test(test_untypable),
	    cmocka_unit_test(test_invalid_utf8_text),
	    cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_ends_released),
	    cmocka_unit_test(test_program_builder),
	    cmocka_unit_test(test_prefixes_and_mutations),
	};
	return cmocka_run_group_tests_name("macro", tests, setup, teardown);
}
