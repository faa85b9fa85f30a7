/*
 * Fuzzes the macro language: the input is macro text (raw bytes, not NUL-terminated), parsed
 * with gd_macro_parse and compiled with gd_macro_compile against keymaps/us.keymap, appended to
 * a program that already holds a chord. The same bytes are also typed as text
 * (gd_program_add_text), as POST /api/keys {"text": ...} does.
 *
 * Invariants: errors are terminated, valid UTF-8 and say where; a failed compile or text
 * leaves the program as it was; a program ends with all keys released, its periods are
 * balanced, and each report holds distinct keys packed at the front.
 */
#include <string.h>

#include "fuzz.h"
#include "keymap.h"
#include "macro.h"

#ifndef GD_KEYMAPS_DIR
#define GD_KEYMAPS_DIR "keymaps"
#endif

static struct gd_layout *us;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[512];
	if (gd_layout_load(GD_KEYMAPS_DIR "/us.keymap", &us, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_macro: %s\n", err);
		abort();
	}
	return 0;
}

static void check_error(const char *err, size_t size)
{
	FUZZ_CHECK(fuzz_terminated(err, size));
	FUZZ_CHECK(err[0] != '\0');
	FUZZ_CHECK(fuzz_utf8_valid(err, strlen(err)));
}

static void check_report(const struct gd_action *a)
{
	size_t n = 0;
	while (n < sizeof(a->keys) && a->keys[n] != 0)
		n++;
	for (size_t i = n; i < sizeof(a->keys); i++)
		FUZZ_CHECK(a->keys[i] == 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(a->keys[i] != a->keys[j]);
}

static void check_program(const struct gd_program *prog)
{
	FUZZ_CHECK(prog->count <= prog->cap);
	FUZZ_CHECK(prog->count <= GD_PROGRAM_MAX_ACTIONS);
	int open = 0;
	for (size_t i = 0; i < prog->count; i++) {
		const struct gd_action *a = &prog->actions[i];
		switch (a->kind) {
		case GD_ACT_REPORT: check_report(a); break;
		case GD_ACT_WAIT: FUZZ_CHECK(a->ms <= 3600u * 1000u); break;
		case GD_ACT_PERIOD_START: FUZZ_CHECK(++open == 1); break;
		case GD_ACT_PERIOD_END: FUZZ_CHECK(--open == 0); break;
		default: FUZZ_CHECK(!"unknown action kind");
		}
	}
	FUZZ_CHECK(open == 0);
	if (prog->count > 0) {
		const struct gd_action *last = &prog->actions[prog->count - 1];
		static const uint8_t none[6];
		FUZZ_CHECK(last->kind == GD_ACT_REPORT && last->mods == 0 &&
		           memcmp(last->keys, none, sizeof(none)) == 0);
	}
}

static void compile(const struct gd_macro *macro)
{
	struct gd_program prog;
	gd_program_init(&prog);
	char err[512];
	static const struct gd_stroke ctrl_c[] = {{GD_MOD_LCTRL, 0}, {0, 0x06}};
	FUZZ_CHECK(gd_program_add_chord(&prog, ctrl_c, 2, err, sizeof(err)) == 0);
	size_t before = prog.count, chars = prog.chars;
	memset(err, 'x', sizeof(err));
	if (gd_macro_compile(macro, us, &prog, err, sizeof(err)) < 0) {
		check_error(err, sizeof(err));
		FUZZ_CHECK(strncmp(err, "line ", 5) == 0);
		FUZZ_CHECK(prog.count == before && prog.chars == chars);
	}
	check_program(&prog);
	gd_program_free(&prog);
}

static void type_text(const uint8_t *data, size_t size)
{
	struct gd_program prog;
	gd_program_init(&prog);
	char err[512];
	memset(err, 'x', sizeof(err));
	if (gd_program_add_text(&prog, (const char *)data, size, us, err, sizeof(err)) < 0) {
		check_error(err, sizeof(err));
		FUZZ_CHECK(prog.count == 0 && prog.chars == 0);
	} else {
		FUZZ_CHECK(prog.chars <= size);
	}
	check_program(&prog);
	gd_program_free(&prog);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gd_macro *macro = NULL;
	char err[512];
	memset(err, 'x', sizeof(err));
	if (gd_macro_parse((const char *)data, size, &macro, err, sizeof(err)) < 0) {
		FUZZ_CHECK(macro == NULL);
		check_error(err, sizeof(err));
		FUZZ_CHECK(strncmp(err, "line ", 5) == 0 || strcmp(err, "macro is empty") == 0);
	} else {
		FUZZ_CHECK(macro != NULL);
		compile(macro);
		gd_macro_free(macro);
	}
	type_text(data, size);
	return 0;
}
