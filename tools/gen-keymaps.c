/*
 * gen-keymaps: writes keymaps/NAME.keymap, one per shipped layout, from xkeyboard-config as
 * compiled by libxkbcommon: which USB HID usage and modifiers type each character, directly or
 * as a dead key then a base key (resolved with the en_US.UTF-8 compose table of libx11-data).
 * Owns the list of shipped layouts and the evdev -> HID usage table of the keys that type text.
 *   gen-keymaps OUTDIR [NAME...]     all layouts, or only the NAMEs
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xkbcommon/xkbcommon-compose.h>
#include <xkbcommon/xkbcommon.h>

#ifndef XKB_BASE
#define XKB_BASE "/usr/share/X11/xkb"
#endif
#define COMPOSE_LOCALE "en_US.UTF-8"
#define EVDEV_OFFSET   8 /* xkb keycode = evdev code + 8 */
#define MOD_LSHIFT     0x02
#define MOD_RALT       0x40 /* AltGr: the level-3 shift of every layout that has one */
#define USAGE_ENTER    0x28
#define USAGE_TAB      0x2b

struct layout_def {
	const char *name; /* gadgetd's name, and the file's */
	const char *layout;
	const char *variant; /* "" for the layout's default */
	int ansi;            /* made for keyboards without the 102nd key (US ANSI, JIS, Korean) */
};

static const struct layout_def layouts[] = {
    {"us", "us", "", 1},
    {"us-intl", "us", "intl", 1},
    {"us-dvorak", "us", "dvorak", 1},
    {"us-colemak", "us", "colemak", 1},
    {"gb", "gb", "", 0},
    {"ie", "ie", "", 0},
    {"de", "de", "", 0},
    {"de-nodeadkeys", "de", "nodeadkeys", 0},
    {"at", "at", "", 0},
    {"ch-de", "ch", "de", 0},
    {"ch-fr", "ch", "fr", 0},
    {"fr", "fr", "", 0},
    {"fr-bepo", "fr", "bepo", 0},
    {"be", "be", "", 0},
    {"ca-fr", "ca", "", 0},
    {"nl", "nl", "", 0},
    {"es", "es", "", 0},
    {"latam", "latam", "", 0},
    {"it", "it", "", 0},
    {"pt", "pt", "", 0},
    {"br", "br", "", 0},
    {"se", "se", "", 0},
    {"no", "no", "", 0},
    {"dk", "dk", "", 0},
    {"fi", "fi", "", 0},
    {"is", "is", "", 0},
    {"ee", "ee", "", 0},
    {"lv", "lv", "", 0},
    {"lt", "lt", "", 0},
    {"pl", "pl", "", 0},
    {"cz", "cz", "", 0},
    {"sk", "sk", "", 0},
    {"hu", "hu", "", 0},
    {"si", "si", "", 0},
    {"hr", "hr", "", 0},
    {"ro", "ro", "", 0},
    {"tr", "tr", "", 0},
    {"gr", "gr", "", 0},
    {"ru", "ru", "", 0},
    {"ua", "ua", "", 0},
    {"bg", "bg", "", 0},
    {"il", "il", "", 0},
    {"jp", "jp", "", 1},
    {"kr", "kr", "", 1},
};

/* Keys that type text. The main block is on every keyboard; the others are used only when they
 * are the only way, or (the 102nd key, on a layout made for ISO keyboards) to save a modifier. */
enum key_class {
	MAIN,
	ISO,  /* the 102nd key, between left shift and Z */
	ASIA, /* JIS and Korean keys: usages above 0x65, which boot keyboards often do not send */
};

struct key_def {
	uint16_t evdev;
	uint8_t usage;
	uint8_t where; /* enum key_class */
};

static const struct key_def keys[] = {
    {KEY_A, 0x04, MAIN},
    {KEY_B, 0x05, MAIN},
    {KEY_C, 0x06, MAIN},
    {KEY_D, 0x07, MAIN},
    {KEY_E, 0x08, MAIN},
    {KEY_F, 0x09, MAIN},
    {KEY_G, 0x0a, MAIN},
    {KEY_H, 0x0b, MAIN},
    {KEY_I, 0x0c, MAIN},
    {KEY_J, 0x0d, MAIN},
    {KEY_K, 0x0e, MAIN},
    {KEY_L, 0x0f, MAIN},
    {KEY_M, 0x10, MAIN},
    {KEY_N, 0x11, MAIN},
    {KEY_O, 0x12, MAIN},
    {KEY_P, 0x13, MAIN},
    {KEY_Q, 0x14, MAIN},
    {KEY_R, 0x15, MAIN},
    {KEY_S, 0x16, MAIN},
    {KEY_T, 0x17, MAIN},
    {KEY_U, 0x18, MAIN},
    {KEY_V, 0x19, MAIN},
    {KEY_W, 0x1a, MAIN},
    {KEY_X, 0x1b, MAIN},
    {KEY_Y, 0x1c, MAIN},
    {KEY_Z, 0x1d, MAIN},
    {KEY_1, 0x1e, MAIN},
    {KEY_2, 0x1f, MAIN},
    {KEY_3, 0x20, MAIN},
    {KEY_4, 0x21, MAIN},
    {KEY_5, 0x22, MAIN},
    {KEY_6, 0x23, MAIN},
    {KEY_7, 0x24, MAIN},
    {KEY_8, 0x25, MAIN},
    {KEY_9, 0x26, MAIN},
    {KEY_0, 0x27, MAIN},
    {KEY_SPACE, 0x2c, MAIN},
    {KEY_MINUS, 0x2d, MAIN},
    {KEY_EQUAL, 0x2e, MAIN},
    {KEY_LEFTBRACE, 0x2f, MAIN},
    {KEY_RIGHTBRACE, 0x30, MAIN},
    {KEY_BACKSLASH, 0x31, MAIN},
    {KEY_SEMICOLON, 0x33, MAIN},
    {KEY_APOSTROPHE, 0x34, MAIN},
    {KEY_GRAVE, 0x35, MAIN},
    {KEY_COMMA, 0x36, MAIN},
    {KEY_DOT, 0x37, MAIN},
    {KEY_SLASH, 0x38, MAIN},
    {KEY_102ND, 0x64, ISO},
    {KEY_RO, 0x87, ASIA},
    {KEY_KATAKANAHIRAGANA, 0x88, ASIA},
    {KEY_YEN, 0x89, ASIA},
    {KEY_HENKAN, 0x8a, ASIA},
    {KEY_MUHENKAN, 0x8b, ASIA},
    {KEY_HANGEUL, 0x90, ASIA},
    {KEY_HANJA, 0x91, ASIA},
    {KEY_KATAKANA, 0x92, ASIA},
    {KEY_HIRAGANA, 0x93, ASIA},
    {KEY_ZENKAKUHANKAKU, 0x94, ASIA},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct stroke {
	uint8_t usage;
	uint8_t mods;
};

/* A character's best strokes so far; COST orders the alternatives (lower is better). */
struct entry {
	uint32_t cp;
	struct stroke s[2];
	int n;
	int cost;
};

/* A keysym the layout types (a character, a dead key, ...) and its cheapest stroke. */
struct sym_stroke {
	xkb_keysym_t sym;
	struct stroke s;
	int cost;
};

struct gen {
	const struct layout_def *def;
	struct xkb_keymap *keymap;
	struct xkb_compose_table *compose;
	xkb_mod_mask_t shift, level3;
	struct entry *entries;
	size_t n_entries, cap_entries;
	struct sym_stroke syms[NKEYS * 4];
	size_t n_syms;
};

static void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size);
	if (q == NULL) {
		fprintf(stderr, "gen-keymaps: out of memory\n");
		exit(1);
	}
	return q;
}

/*
 * Fewer modifiers first: none 0 < shift 2 < AltGr 6 < shift+AltGr 10. The 102nd key adds 3 on
 * a layout made for ISO keyboards: it beats AltGr but not Shift on the main block (gb's '\' is
 * the 102nd key rather than AltGr+minus, and '|' shift+102nd rather than AltGr+grave; ru's '/'
 * stays shift+backslash). On an ANSI layout (us types '<' with shift+comma), and for the JIS
 * and Korean keys everywhere, it adds 16: a last resort.
 */
static int stroke_cost(const struct gen *g, const struct key_def *key, uint8_t mods)
{
	static const int rank[4] = {0, 2, 6, 10};
	int cost = rank[(mods & MOD_LSHIFT ? 1 : 0) + (mods & MOD_RALT ? 2 : 0)];
	if (key->where == ISO)
		return cost + (g->def->ansi ? 16 : 3);
	return cost + (key->where == ASIA ? 16 : 0);
}

/* What pressing the key with MODS held gives, as libxkbcommon's state machine says. */
static xkb_keysym_t sym_for_stroke(struct xkb_keymap *keymap, xkb_keycode_t kc, uint8_t mods)
{
	struct xkb_state *state = xkb_state_new(keymap);
	if (state == NULL)
		return XKB_KEY_NoSymbol;
	if (mods & MOD_LSHIFT)
		xkb_state_update_key(state, KEY_LEFTSHIFT + EVDEV_OFFSET, XKB_KEY_DOWN);
	if (mods & MOD_RALT)
		xkb_state_update_key(state, KEY_RIGHTALT + EVDEV_OFFSET, XKB_KEY_DOWN);
	xkb_keysym_t sym = xkb_state_key_get_one_sym(state, kc);
	xkb_state_unref(state);
	return sym;
}

static int is_text(uint32_t cp)
{
	return cp >= 0x20 && !(cp >= 0x7f && cp < 0xa0) && cp <= 0x10ffff &&
	       !(cp >= 0xd800 && cp < 0xe000);
}

static struct entry *find_entry(struct gen *g, uint32_t cp)
{
	for (size_t i = 0; i < g->n_entries; i++)
		if (g->entries[i].cp == cp)
			return &g->entries[i];
	return NULL;
}

/* Records strokes for CP unless it already has cheaper (or as cheap, found earlier) ones. */
static void offer(struct gen *g, uint32_t cp, const struct stroke *s, int n, int cost)
{
	struct entry *e = find_entry(g, cp);
	if (e != NULL && (e->n < n || (e->n == n && e->cost <= cost)))
		return;
	if (e == NULL) {
		if (g->n_entries == g->cap_entries) {
			g->cap_entries = g->cap_entries ? 2 * g->cap_entries : 256;
			g->entries = xrealloc(g->entries, g->cap_entries * sizeof(*g->entries));
		}
		e = &g->entries[g->n_entries++];
	}
	*e = (struct entry){.cp = cp, .n = n, .cost = cost};
	memcpy(e->s, s, (size_t)n * sizeof(*s));
}

static void offer_sym(struct gen *g, xkb_keysym_t sym, struct stroke s, int cost)
{
	for (size_t i = 0; i < g->n_syms; i++) {
		if (g->syms[i].sym != sym)
			continue;
		if (cost < g->syms[i].cost)
			g->syms[i] = (struct sym_stroke){sym, s, cost};
		return;
	}
	/* At most 4 per key (one per modifier combination), so this never overflows. */
	if (g->n_syms < sizeof(g->syms) / sizeof(g->syms[0]))
		g->syms[g->n_syms++] = (struct sym_stroke){sym, s, cost};
}

/* The HID modifiers that select a level with real modifier mask MASK, or -1 if none can. */
static int mask_to_mods(const struct gen *g, xkb_mod_mask_t mask)
{
	if (mask & ~(g->shift | g->level3))
		return -1;
	return (mask & g->shift ? MOD_LSHIFT : 0) | (mask & g->level3 ? MOD_RALT : 0);
}

/* The cheapest stroke that reaches LEVEL of KEY, checked against the state machine. */
static int level_stroke(struct gen *g, const struct key_def *key, xkb_level_index_t level,
                        xkb_keysym_t sym, struct stroke *out)
{
	xkb_keycode_t kc = key->evdev + EVDEV_OFFSET;
	xkb_mod_mask_t masks[16];
	size_t n = xkb_keymap_key_get_mods_for_level(g->keymap, kc, 0, level, masks, 16);
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		int mods = mask_to_mods(g, masks[i]);
		if (mods < 0 || sym_for_stroke(g->keymap, kc, (uint8_t)mods) != sym)
			continue;
		int cost = stroke_cost(g, key, (uint8_t)mods);
		if (best < 0 || cost < best) {
			best = cost;
			*out = (struct stroke){key->usage, (uint8_t)mods};
		}
	}
	return best;
}

static void scan_key(struct gen *g, const struct key_def *key)
{
	xkb_keycode_t kc = key->evdev + EVDEV_OFFSET;
	xkb_level_index_t levels = xkb_keymap_num_levels_for_key(g->keymap, kc, 0);
	for (xkb_level_index_t level = 0; level < levels; level++) {
		const xkb_keysym_t *syms;
		if (xkb_keymap_key_get_syms_by_level(g->keymap, kc, 0, level, &syms) != 1)
			continue;
		struct stroke s;
		int cost = level_stroke(g, key, level, syms[0], &s);
		if (cost < 0)
			continue;
		offer_sym(g, syms[0], s, cost);
		uint32_t cp = xkb_keysym_to_utf32(syms[0]);
		if (is_text(cp))
			offer(g, cp, &s, 1, cost);
	}
}

static int is_dead(xkb_keysym_t sym)
{
	char name[64];
	return xkb_keysym_get_name(sym, name, sizeof(name)) > 0 && strncmp(name, "dead_", 5) == 0;
}

/* The single codepoint of UTF-8 text S, or 0 if it is not exactly one. */
static uint32_t one_codepoint(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	int n;
	if (p[0] < 0x80)
		cp = p[0], n = 1;
	else if ((p[0] & 0xe0) == 0xc0)
		cp = p[0] & 0x1f, n = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		cp = p[0] & 0x0f, n = 3;
	else if ((p[0] & 0xf8) == 0xf0)
		cp = p[0] & 0x07, n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	return p[n] == '\0' ? cp : 0;
}

/* What DEAD then BASE compose to, or 0. */
static uint32_t compose_pair(struct xkb_compose_state *cs, xkb_keysym_t dead, xkb_keysym_t base)
{
	char text[64];
	xkb_compose_state_reset(cs);
	xkb_compose_state_feed(cs, dead);
	if (xkb_compose_state_get_status(cs) != XKB_COMPOSE_COMPOSING)
		return 0;
	xkb_compose_state_feed(cs, base);
	if (xkb_compose_state_get_status(cs) != XKB_COMPOSE_COMPOSED)
		return 0;
	xkb_compose_state_get_utf8(cs, text, sizeof(text));
	return one_codepoint(text);
}

/* Characters that need a dead key: every dead key the layout has, then every base it types. */
static void scan_dead_keys(struct gen *g, struct xkb_compose_state *cs)
{
	for (size_t d = 0; d < g->n_syms; d++) {
		if (!is_dead(g->syms[d].sym))
			continue;
		for (size_t b = 0; b < g->n_syms; b++) {
			uint32_t cp = compose_pair(cs, g->syms[d].sym, g->syms[b].sym);
			if (!is_text(cp))
				continue;
			struct entry *e = find_entry(g, cp);
			if (e != NULL && e->n == 1)
				continue;
			struct stroke s[2] = {g->syms[d].s, g->syms[b].s};
			offer(g, cp, s, 2, g->syms[d].cost + g->syms[b].cost);
		}
	}
}

static int by_codepoint(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return x->cp < y->cp ? -1 : x->cp > y->cp;
}

/* Space first among the bases: dead key + space is the usual way to type a lone accent. */
static void move_space_first(struct gen *g)
{
	for (size_t i = 0; i < g->n_syms; i++) {
		if (g->syms[i].sym != XKB_KEY_space)
			continue;
		struct sym_stroke space = g->syms[i];
		memmove(&g->syms[1], &g->syms[0], i * sizeof(g->syms[0]));
		g->syms[0] = space;
		return;
	}
}

static xkb_mod_mask_t mod_mask(struct xkb_keymap *keymap, const char *name)
{
	xkb_mod_index_t i = xkb_keymap_mod_get_index(keymap, name);
	return i == XKB_MOD_INVALID ? 0 : 1u << i;
}

static void scan_layout(struct gen *g)
{
	g->shift = mod_mask(g->keymap, XKB_MOD_NAME_SHIFT);
	g->level3 = mod_mask(g->keymap, "Mod5"); /* where xkeyboard-config puts LevelThree */
	for (size_t i = 0; i < NKEYS; i++)
		scan_key(g, &keys[i]);
	move_space_first(g);
	struct xkb_compose_state *cs =
	    xkb_compose_state_new(g->compose, XKB_COMPOSE_STATE_NO_FLAGS);
	if (cs != NULL) {
		scan_dead_keys(g, cs);
		xkb_compose_state_unref(cs);
	}
	struct stroke enter = {USAGE_ENTER, 0}, tab = {USAGE_TAB, 0};
	offer(g, 0x09, &tab, 1, -1);
	offer(g, 0x0a, &enter, 1, -1);
	offer(g, 0x0d, &enter, 1, -1);
	qsort(g->entries, g->n_entries, sizeof(*g->entries), by_codepoint);
}

static int write_layout(const struct gen *g, const struct layout_def *def, const char *path)
{
	char tmp[4096];
	int len = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = len > 0 && (size_t)len < sizeof(tmp) ? fopen(tmp, "w") : NULL;
	if (f == NULL) {
		fprintf(stderr, "gen-keymaps: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	fprintf(f,
	        "# generated by tools/gen-keymaps from xkeyboard-config (layout \"%s\", variant "
	        "\"%s\") - do not edit\n",
	        def->layout, def->variant);
	fprintf(f, "layout %s\n", def->name);
	if (def->variant[0])
		fprintf(f, "source xkb %s(%s)\n", def->layout, def->variant);
	else
		fprintf(f, "source xkb %s\n", def->layout);
	for (size_t i = 0; i < g->n_entries; i++) {
		const struct entry *e = &g->entries[i];
		fprintf(f, "U+%04X", (unsigned)e->cp);
		for (int k = 0; k < e->n; k++)
			fprintf(f, " %02x:%02x", e->s[k].usage, e->s[k].mods);
		fputc('\n', f);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "gen-keymaps: %s: %s\n", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

static struct xkb_keymap *compile(struct xkb_context *ctx, const struct layout_def *def)
{
	struct xkb_rule_names names = {
	    .rules = "evdev",
	    .model = "pc105",
	    .layout = def->layout,
	    .variant = def->variant,
	    .options = "",
	};
	return xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
}

static int generate(struct xkb_context *ctx, struct xkb_compose_table *compose,
                    const struct layout_def *def, const char *outdir)
{
	struct gen g = {.def = def, .compose = compose};
	g.keymap = compile(ctx, def);
	if (g.keymap == NULL) {
		fprintf(stderr,
		        "gen-keymaps: %s: xkb cannot compile layout \"%s\" variant \"%s\"\n",
		        def->name, def->layout, def->variant);
		return -1;
	}
	scan_layout(&g);
	char path[4000];
	int len = snprintf(path, sizeof(path), "%s/%s.keymap", outdir, def->name);
	int rc = len > 0 && (size_t)len < sizeof(path) ? write_layout(&g, def, path) : -1;
	if (rc == 0)
		printf("%-14s %4zu characters\n", def->name, g.n_entries);
	free(g.entries);
	xkb_keymap_unref(g.keymap);
	return rc;
}

static int wanted(const char *name, int argc, char **argv)
{
	if (argc <= 2)
		return 1;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: gen-keymaps OUTDIR [NAME...]\n");
		return 2;
	}
	/* Only the system's xkeyboard-config and compose table: no user overrides. */
	unsetenv("XCOMPOSEFILE");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	unsetenv("XLOCALEDIR");
	struct xkb_context *ctx =
	    xkb_context_new(XKB_CONTEXT_NO_DEFAULT_INCLUDES | XKB_CONTEXT_NO_ENVIRONMENT_NAMES);
	if (ctx == NULL || !xkb_context_include_path_append(ctx, XKB_BASE)) {
		fprintf(stderr, "gen-keymaps: no xkeyboard-config in %s\n", XKB_BASE);
		return 1;
	}
	struct xkb_compose_table *compose =
	    xkb_compose_table_new_from_locale(ctx, COMPOSE_LOCALE, XKB_COMPOSE_COMPILE_NO_FLAGS);
	if (compose == NULL) {
		fprintf(stderr, "gen-keymaps: no compose table for %s (libx11-data)\n",
		        COMPOSE_LOCALE);
		return 1;
	}
	int rc = 0;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (wanted(layouts[i].name, argc, argv) &&
		    generate(ctx, compose, &layouts[i], argv[1]) != 0)
			rc = 1;
	xkb_compose_table_unref(compose);
	xkb_context_unref(ctx);
	return rc;
}
