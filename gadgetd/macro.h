/*
 * macro: the key macro language -> parsed steps -> a program of reports the HID engine
 * plays. Pure: parsers take bytes and return messages with line and column; nothing logs.
 *
 * One step per line or ';'-separated; '#' starts a comment; names are case-insensitive.
 *   f12                      tap a key
 *   ctrl+alt+delete          chord: modifiers and up to 6 keys, pressed in order, released reversed
 *   wait 2s | wait 150ms | wait 1.5s
 *   hold shift 500ms         hold a key or chord for a time, then release
 *   type "text\n"            type text in the layout in use; escapes \n \t \r \" \\ \uXXXX
 *   repeat 30 every 200ms: f12       the rest of the line (';'-separated steps allowed) N times,
 *   repeat 3: down; enter            each round starting a period after the last (if 'every')
 * Repeats nest up to 4 deep, at most one of them with 'every'. Keys, key names: keymap.h.
 */
#ifndef GD_MACRO_H
#define GD_MACRO_H

#include <stddef.h>
#include <stdint.h>

#include "keymap.h"

enum gd_action_kind {
	GD_ACT_REPORT,       /* send the report, then wait the engine's pacing interval */
	GD_ACT_WAIT,         /* wait MS milliseconds */
	GD_ACT_PERIOD_START, /* remember now */
	GD_ACT_PERIOD_END,   /* wait until MS milliseconds after the matching PERIOD_START */
};

struct gd_action {
	uint8_t kind; /* enum gd_action_kind */
	uint8_t mods;
	uint8_t keys[6];
	uint32_t ms;
};

/* What the HID engine plays. Every program ends with all keys released. */
struct gd_program {
	struct gd_action *actions;
	size_t count;
	size_t cap;
	size_t chars; /* characters typed by 'type' steps and text, for progress */
};

#define GD_PROGRAM_MAX_ACTIONS (4u * 1024 * 1024)

void gd_program_init(struct gd_program *prog);
void gd_program_free(struct gd_program *prog);

/*
 * Appends a tap of the N strokes in KEYS pressed together (a chord): pressed one at a time in
 * order (a stroke's modifiers before its key), released in reverse, one report per change, the
 * last all zero. Returns 0, or -1 with ERR (no keys, more than 6 besides modifiers, program too
 * long) and nothing appended.
 */
int gd_program_add_chord(struct gd_program *prog, const struct gd_stroke *keys, size_t n, char *err,
                         size_t errlen);

/*
 * Appends the strokes that type UTF8 (LEN bytes) with LAYOUT. A character the layout
 * cannot type, or bad UTF-8, is an error naming the character and its position
 * (1-based, in characters), and nothing is appended.
 */
int gd_program_add_text(struct gd_program *prog, const char *utf8, size_t len,
                        const struct gd_layout *layout, char *err, size_t errlen);

struct gd_macro;

/* Parses macro TEXT. Returns 0 and *OUT, or -1 with "line L, column C: expected ..." in ERR. */
int gd_macro_parse(const char *text, size_t len, struct gd_macro **out, char *err, size_t errlen);
void gd_macro_free(struct gd_macro *macro);

/*
 * Appends MACRO's steps to PROG, typing text with LAYOUT. Errors (a character LAYOUT
 * cannot type, a program over GD_PROGRAM_MAX_ACTIONS) name the line; returns 0 or -1.
 */
int gd_macro_compile(const struct gd_macro *macro, const struct gd_layout *layout,
                     struct gd_program *prog, char *err, size_t errlen);

#endif
