/*
 * keymap: the names of keys (Linux input names, lower case) and their USB HID usages on the
 * Keyboard/Keypad page (0x07), or their modifier bits. One static table of canonical names in
 * usage order, one of aliases; lookups are linear, case-insensitive and bounded by LEN.
 * Layout files (gd_layout_*) live in layout.c.
 */
#include "keymap.h"

#include <string.h>

#define KEY(n, u)                                                                                  \
	{                                                                                          \
		n, u, 0                                                                            \
	}
#define MOD(n, m)                                                                                  \
	{                                                                                          \
		n, 0, m                                                                            \
	}
#define COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

const struct gd_key_name gd_keymap_names[] = {
    KEY("a", 0x04),
    KEY("b", 0x05),
    KEY("c", 0x06),
    KEY("d", 0x07),
    KEY("e", 0x08),
    KEY("f", 0x09),
    KEY("g", 0x0a),
    KEY("h", 0x0b),
    KEY("i", 0x0c),
    KEY("j", 0x0d),
    KEY("k", 0x0e),
    KEY("l", 0x0f),
    KEY("m", 0x10),
    KEY("n", 0x11),
    KEY("o", 0x12),
    KEY("p", 0x13),
    KEY("q", 0x14),
    KEY("r", 0x15),
    KEY("s", 0x16),
    KEY("t", 0x17),
    KEY("u", 0x18),
    KEY("v", 0x19),
    KEY("w", 0x1a),
    KEY("x", 0x1b),
    KEY("y", 0x1c),
    KEY("z", 0x1d),
    KEY("1", 0x1e),
    KEY("2", 0x1f),
    KEY("3", 0x20),
    KEY("4", 0x21),
    KEY("5", 0x22),
    KEY("6", 0x23),
    KEY("7", 0x24),
    KEY("8", 0x25),
    KEY("9", 0x26),
    KEY("0", 0x27),
    KEY("enter", 0x28),
    KEY("esc", 0x29),
    KEY("backspace", 0x2a),
    KEY("tab", 0x2b),
    KEY("space", 0x2c),
    KEY("minus", 0x2d),
    KEY("equal", 0x2e),
    KEY("leftbrace", 0x2f),
    KEY("rightbrace", 0x30),
    KEY("backslash", 0x31),
    KEY("nonus-hash", 0x32), /* ISO: the key left of Enter (# ~ on UK keyboards) */
    KEY("semicolon", 0x33),
    KEY("apostrophe", 0x34),
    KEY("grave", 0x35),
    KEY("comma", 0x36),
    KEY("dot", 0x37),
    KEY("slash", 0x38),
    KEY("capslock", 0x39),
    KEY("f1", 0x3a),
    KEY("f2", 0x3b),
    KEY("f3", 0x3c),
    KEY("f4", 0x3d),
    KEY("f5", 0x3e),
    KEY("f6", 0x3f),
    KEY("f7", 0x40),
    KEY("f8", 0x41),
    KEY("f9", 0x42),
    KEY("f10", 0x43),
    KEY("f11", 0x44),
    KEY("f12", 0x45),
    KEY("printscreen", 0x46),
    KEY("scrolllock", 0x47),
    KEY("pause", 0x48),
    KEY("insert", 0x49),
    KEY("home", 0x4a),
    KEY("pageup", 0x4b),
    KEY("delete", 0x4c),
    KEY("end", 0x4d),
    KEY("pagedown", 0x4e),
    KEY("right", 0x4f),
    KEY("left", 0x50),
    KEY("down", 0x51),
    KEY("up", 0x52),
    KEY("numlock", 0x53),
    KEY("kpslash", 0x54),
    KEY("kpasterisk", 0x55),
    KEY("kpminus", 0x56),
    KEY("kpplus", 0x57),
    KEY("kpenter", 0x58),
    KEY("kp1", 0x59),
    KEY("kp2", 0x5a),
    KEY("kp3", 0x5b),
    KEY("kp4", 0x5c),
    KEY("kp5", 0x5d),
    KEY("kp6", 0x5e),
    KEY("kp7", 0x5f),
    KEY("kp8", 0x60),
    KEY("kp9", 0x61),
    KEY("kp0", 0x62),
    KEY("kpdot", 0x63),
    KEY("102nd", 0x64),   /* ISO: the key between left Shift and Z (< > | on German keyboards) */
    KEY("compose", 0x65), /* the Menu/Application key */
    KEY("power", 0x66),
    KEY("kpequal", 0x67),
    KEY("f13", 0x68),
    KEY("f14", 0x69),
    KEY("f15", 0x6a),
    KEY("f16", 0x6b),
    KEY("f17", 0x6c),
    KEY("f18", 0x6d),
    KEY("f19", 0x6e),
    KEY("f20", 0x6f),
    KEY("f21", 0x70),
    KEY("f22", 0x71),
    KEY("f23", 0x72),
    KEY("f24", 0x73),
    KEY("mute", 0x7f),
    KEY("volumeup", 0x80),
    KEY("volumedown", 0x81),
    KEY("ro", 0x87),               /* Japanese: International1, \ _ */
    KEY("katakanahiragana", 0x88), /* Japanese: International2 */
    KEY("yen", 0x89),              /* Japanese: International3 */
    KEY("henkan", 0x8a),           /* Japanese: International4 */
    KEY("muhenkan", 0x8b),         /* Japanese: International5 */
    KEY("hangeul", 0x90),          /* Korean: LANG1 */
    KEY("hanja", 0x91),            /* Korean: LANG2 */
    MOD("ctrl", GD_MOD_LCTRL),
    MOD("shift", GD_MOD_LSHIFT),
    MOD("alt", GD_MOD_LALT),
    MOD("meta", GD_MOD_LMETA),
    MOD("rightctrl", GD_MOD_RCTRL),
    MOD("rightshift", GD_MOD_RSHIFT),
    MOD("rightalt", GD_MOD_RALT),
    MOD("rightmeta", GD_MOD_RMETA),
};

const size_t gd_keymap_names_count = COUNT(gd_keymap_names);

/* Other names a key goes by: alias -> canonical name. */
static const struct {
	const char *alias;
	const char *name;
} aliases[] = {
    {"return", "enter"},
    {"escape", "esc"},
    {"bksp", "backspace"},
    {"caps", "capslock"},
    {"sysrq", "printscreen"},
    {"prtsc", "printscreen"},
    {"print", "printscreen"},
    {"break", "pause"},
    {"ins", "insert"},
    {"del", "delete"},
    {"pgup", "pageup"},
    {"pgdn", "pagedown"},
    {"nonus-backslash", "102nd"},
    {"menu", "compose"},
    {"application", "compose"},
    {"hangul", "hangeul"},
    /* The US legends of the punctuation keys; ";" cannot be used in macros (step separator). */
    {"-", "minus"},
    {"=", "equal"},
    {"[", "leftbrace"},
    {"]", "rightbrace"},
    {"\\", "backslash"},
    {";", "semicolon"},
    {"'", "apostrophe"},
    {"`", "grave"},
    {",", "comma"},
    {".", "dot"},
    {"/", "slash"},
    {"leftctrl", "ctrl"},
    {"lctrl", "ctrl"},
    {"leftshift", "shift"},
    {"lshift", "shift"},
    {"leftalt", "alt"},
    {"lalt", "alt"},
    {"leftmeta", "meta"},
    {"lmeta", "meta"},
    {"win", "meta"},
    {"super", "meta"},
    {"gui", "meta"},
    {"cmd", "meta"},
    {"rctrl", "rightctrl"},
    {"rshift", "rightshift"},
    {"ralt", "rightalt"},
    {"altgr", "rightalt"},
    {"rmeta", "rightmeta"},
};

/* Whether NAME (LEN bytes, any case) is the lower-case, NUL-terminated WORD. */
static int name_is(const char *name, size_t len, const char *word)
{
	size_t i = 0;
	for (; i < len && word[i] != '\0'; i++) {
		char c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return 0;
	}
	return i == len && word[i] == '\0';
}

static const struct gd_key_name *find_canonical(const char *name, size_t len)
{
	for (size_t i = 0; i < COUNT(gd_keymap_names); i++)
		if (name_is(name, len, gd_keymap_names[i].name))
			return &gd_keymap_names[i];
	return NULL;
}

int gd_keymap_key(const char *name, size_t len, struct gd_stroke *out)
{
	const struct gd_key_name *key = find_canonical(name, len);
	for (size_t i = 0; key == NULL && i < COUNT(aliases); i++)
		if (name_is(name, len, aliases[i].alias))
			key = find_canonical(aliases[i].name, strlen(aliases[i].name));
	if (key == NULL)
		return -1;
	out->mods = key->mods;
	out->usage = key->usage;
	return 0;
}

const char *gd_keymap_usage_name(uint8_t usage)
{
	if (usage == 0)
		return NULL;
	for (size_t i = 0; i < COUNT(gd_keymap_names); i++)
		if (gd_keymap_names[i].usage == usage)
			return gd_keymap_names[i].name;
	return NULL;
}
