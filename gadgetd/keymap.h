/*
 * keymap: key names <-> USB HID keyboard usages (boot protocol), and keyboard layout files
 * (generated from xkeyboard-config) that say which strokes type each character.
 * Pure: parsers take bytes and return messages; nothing here logs or touches devices.
 */
#ifndef GD_KEYMAP_H
#define GD_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

/* Modifier bits of byte 0 of a boot keyboard report. */
#define GD_MOD_LCTRL  0x01
#define GD_MOD_LSHIFT 0x02
#define GD_MOD_LALT   0x04
#define GD_MOD_LMETA  0x08
#define GD_MOD_RCTRL  0x10
#define GD_MOD_RSHIFT 0x20
#define GD_MOD_RALT   0x40 /* AltGr */
#define GD_MOD_RMETA  0x80

/* One key stroke: modifiers held while USAGE is pressed; USAGE 0 for modifiers alone. */
struct gd_stroke {
	uint8_t mods;
	uint8_t usage;
};

struct gd_key_name {
	const char *name; /* canonical, lower case: "ctrl", "f12", "pagedown", "a", "1" */
	uint8_t usage;    /* 0 for a modifier */
	uint8_t mods;     /* the modifier bit for a modifier key, else 0 */
};

/* Every canonical key name, in usage order then modifiers; for tests and the API. */
extern const struct gd_key_name gd_keymap_names[];
extern const size_t gd_keymap_names_count;

/*
 * Looks up a key by name or alias (NAME is LEN bytes, case-insensitive). Modifier keys
 * give {mods = bit, usage = 0}. Returns 0, or -1 if no key has that name.
 */
int gd_keymap_key(const char *name, size_t len, struct gd_stroke *out);

/* The canonical name of USAGE, or NULL if it has none. */
const char *gd_keymap_usage_name(uint8_t usage);

/* A layout: codepoint -> strokes, from a file in keymaps/ (NAME.keymap). */
#define GD_LAYOUT_MAX_STROKES 2 /* a dead key then a base key */

struct gd_layout;

/*
 * Parses a layout file's bytes. Returns 0 and a new layout in *OUT (free with
 * gd_layout_free), or -1 with "line L: what is wrong" in ERR.
 */
int gd_layout_parse(const uint8_t *data, size_t len, struct gd_layout **out, char *err,
                    size_t errlen);
/* Reads and parses PATH; errors are prefixed with the path. */
int gd_layout_load(const char *path, struct gd_layout **out, char *err, size_t errlen);
void gd_layout_free(struct gd_layout *layout);

/* The layout's name ("de", "us-dvorak"): the "layout" line of its file. */
const char *gd_layout_name(const struct gd_layout *layout);

/* Number of characters the layout can type. */
size_t gd_layout_size(const struct gd_layout *layout);

/*
 * The strokes that type codepoint CP, into OUT; returns how many (1 or 2), or 0 when the
 * layout cannot type CP.
 */
size_t gd_layout_strokes(const struct gd_layout *layout, uint32_t cp,
                         struct gd_stroke out[GD_LAYOUT_MAX_STROKES]);

#endif
