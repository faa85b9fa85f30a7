/*
 * Fuzzes keyboard layout files and key names: the input is a layout file's bytes for
 * gd_layout_parse (as gd_layout_load reads keymaps/NAME.keymap). A parsed layout is then
 * queried (its name, every codepoint the input mentions, the codepoints around them) and used
 * to type a fixed text and the input itself. The input is also looked up as a key name
 * (gd_keymap_key, as macros and POST /api/keys {"keys": [...]} do).
 *
 * Invariants: errors are terminated and start with "line "; a layout has a valid name, at
 * least one character, and 1 or 2 strokes per character it can type, none of them empty.
 */
#include <string.h>

#include "fuzz.h"
#include "keymap.h"
#include "macro.h"

static void check_strokes(const struct gd_layout *lay, uint32_t cp)
{
	struct gd_stroke s[GD_LAYOUT_MAX_STROKES];
	size_t n = gd_layout_strokes(lay, cp, s);
	FUZZ_CHECK(n <= GD_LAYOUT_MAX_STROKES);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(s[i].usage != 0 || s[i].mods != 0);
}

static void use_layout(const struct gd_layout *lay, const uint8_t *data, size_t size)
{
	const char *name = gd_layout_name(lay);
	FUZZ_CHECK(name != NULL && name[0] != '\0' && strlen(name) <= 64);
	FUZZ_CHECK(gd_layout_size(lay) > 0);
	/* Every "U+XXXX" in the input, and its neighbours, looked up. */
	for (size_t i = 0; i + 2 < size; i++) {
		if (data[i] != 'U' || data[i + 1] != '+')
			continue;
		uint32_t cp = 0;
		for (size_t k = i + 2; k < size && k < i + 8; k++) {
			char c = (char)data[k];
			int d = c >= '0' && c <= '9'   ? c - '0'
			        : c >= 'A' && c <= 'F' ? c - 'A' + 10
			        : c >= 'a' && c <= 'f' ? c - 'a' + 10
			                               : -1;
			if (d < 0)
				break;
			cp = cp * 16 + (uint32_t)d;
		}
		check_strokes(lay, cp);
		check_strokes(lay, cp + 1);
		check_strokes(lay, cp - 1);
	}
	check_strokes(lay, 0);
	check_strokes(lay, 0x10ffff);
	check_strokes(lay, UINT32_MAX);

	static const char text[] = "root\tpassword\n\xc3\xa9\xe2\x82\xac!";
	char err[256];
	for (int pass = 0; pass < 2; pass++) {
		struct gd_program prog;
		gd_program_init(&prog);
		memset(err, 'x', sizeof(err));
		int rc = pass == 0 ? gd_program_add_text(&prog, text, sizeof(text) - 1, lay, err,
		                                         sizeof(err))
		                   : gd_program_add_text(&prog, (const char *)data, size, lay, err,
		                                         sizeof(err));
		if (rc < 0) {
			FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
			FUZZ_CHECK(prog.count == 0);
		}
		gd_program_free(&prog);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gd_layout *lay = (struct gd_layout *)&size; /* must become NULL or a layout */
	char err[256];
	memset(err, 'x', sizeof(err));
	if (gd_layout_parse(data, size, &lay, err, sizeof(err)) < 0) {
		FUZZ_CHECK(lay == NULL);
		FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
		FUZZ_CHECK(strncmp(err, "line ", 5) == 0 || strcmp(err, "out of memory") == 0);
	} else {
		FUZZ_CHECK(lay != NULL);
		use_layout(lay, data, size);
		gd_layout_free(lay);
	}

	struct gd_stroke key;
	if (gd_keymap_key((const char *)data, size, &key) == 0) {
		FUZZ_CHECK((key.usage != 0) != (key.mods != 0));
		if (key.usage != 0)
			FUZZ_CHECK(gd_keymap_usage_name(key.usage) != NULL);
	}
	if (size > 0)
		(void)gd_keymap_usage_name(data[0]);
	return 0;
}
