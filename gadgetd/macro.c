/*
 * macro: programs of boot keyboard reports, and the key macro language (syntax in macro.h).
 * Owns the program builder (chords pressed in order and released in reverse, text typed with
 * a layout), the parser (macro text -> steps, errors with line and column) and the compiler
 * (steps -> actions). Pure: no logging, no I/O; input is LEN bytes, never read past, and errors
 * are returned as valid UTF-8 messages.
 *
 * Grammar, as parsed here (keywords and key names case-insensitive; blanks are ' ', '\t', '\r'):
 *   macro  := line { '\n' line }                 a UTF-8 BOM is skipped; NUL and bad UTF-8 fail
 *   line   := [ steps ] [ '#' comment ]
 *   steps  := [ step ] { ';' [ step ] }          empty steps are skipped
 *   step   := chord | 'wait' DURATION | 'hold' chord DURATION | 'type' STRING
 *           | 'repeat' COUNT [ 'every' DURATION ] ':' steps     (the body is the rest of the line)
 *   chord  := KEY { '+' KEY }                    at most 6 keys besides modifiers, no key twice
 *   DURATION := digits [ '.' digits ] ( 'ms' | 's' )   whole milliseconds, at most 1 hour
 *   COUNT  := 1 to 10000
 *   STRING := '"' ... '"' on one line, not empty; escapes \n \t \r \" \\ \uXXXX (not U+0000
 *             nor surrogates); raw control characters other than tab must be escaped
 * Repeats nest at most REPEAT_DEPTH deep, and only one of them may have 'every' (the HID engine
 * keeps a single period start). Columns count characters, not bytes.
 */
#include "macro.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHORD_MAX_KEYS 6                    /* non-modifier keys in one boot report */
#define CHORD_MAX      (8 + CHORD_MAX_KEYS) /* strokes in a chord: each modifier once, 6 keys */
#define DURATION_MAX   (3600u * 1000u)      /* milliseconds: 1 hour */
#define REPEAT_MAX     10000u
#define REPEAT_DEPTH   4u
#define QUOTE_MAX      40 /* bytes of user input quoted in an error */
#define MAX_ACTIONS    ((size_t)GD_PROGRAM_MAX_ACTIONS)

/* ---- UTF-8 ---- */

/* Decodes the sequence at S (LEN > 0 bytes) into *CP: its length, or 0 if it is not valid. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, c = s[0] & 0x1fu, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0fu, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, c = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Encodes CP (a valid scalar value) into OUT: its length. */
static size_t utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Cuts a multi-byte sequence that truncation left incomplete at the end of S. */
static void utf8_trim(char *s)
{
	size_t len = strlen(s), start = len;
	while (start > 0 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0 || ((unsigned char)s[start - 1] & 0x80) == 0)
		return;
	uint32_t cp;
	start--;
	if (utf8_decode((const unsigned char *)s + start, len - start, &cp) != len - start)
		s[start] = '\0';
}

/* ---- programs ---- */

void gd_program_init(struct gd_program *prog)
{
	memset(prog, 0, sizeof(*prog));
}

void gd_program_free(struct gd_program *prog)
{
	free(prog->actions);
	memset(prog, 0, sizeof(*prog));
}

static int too_long(char *err, size_t errlen)
{
	snprintf(err, errlen, "macro is too long: more than %u actions", GD_PROGRAM_MAX_ACTIONS);
	return -1;
}

/* Makes room for EXTRA more actions, within GD_PROGRAM_MAX_ACTIONS. */
static int reserve(struct gd_program *prog, size_t extra, char *err, size_t errlen)
{
	if (prog->count > MAX_ACTIONS || extra > MAX_ACTIONS - prog->count)
		return too_long(err, errlen);
	size_t need = prog->count + extra;
	if (need <= prog->cap)
		return 0;
	size_t cap = prog->cap < 64 ? 64 : prog->cap;
	while (cap < need)
		cap *= 2;
	if (cap > MAX_ACTIONS)
		cap = MAX_ACTIONS;
	struct gd_action *actions = realloc(prog->actions, cap * sizeof(*actions));
	if (actions == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	prog->actions = actions;
	prog->cap = cap;
	return 0;
}

static int emit(struct gd_program *prog, const struct gd_action *action, char *err, size_t errlen)
{
	if (reserve(prog, 1, err, errlen) < 0)
		return -1;
	prog->actions[prog->count++] = *action;
	return 0;
}

/* A report with MODS and at most one key (USAGE 0: none). */
static int emit_report(struct gd_program *prog, uint8_t mods, uint8_t usage, char *err,
                       size_t errlen)
{
	struct gd_action a = {.kind = GD_ACT_REPORT, .mods = mods, .keys = {usage}};
	return emit(prog, &a, err, errlen);
}

static int emit_timed(struct gd_program *prog, enum gd_action_kind kind, uint32_t ms, char *err,
                      size_t errlen)
{
	struct gd_action a = {.kind = (uint8_t)kind, .ms = ms};
	return emit(prog, &a, err, errlen);
}

/* A chord being pressed: the report so far, and what each stroke added, to take it back. */
struct chord {
	struct gd_action report;
	size_t nkeys; /* used slots of report.keys */
	size_t n;     /* strokes */
	uint8_t added_mods[CHORD_MAX];
	uint8_t added_key[CHORD_MAX];
};

static int check_chord(const struct gd_stroke *keys, size_t n, char *err, size_t errlen)
{
	if (n == 0 || n > CHORD_MAX) {
		snprintf(err, errlen, "a chord has 1 to %d keys, not %zu", CHORD_MAX, n);
		return -1;
	}
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = keys[j].usage == keys[i].usage;
		distinct += keys[i].usage != 0 && !seen;
	}
	if (distinct > CHORD_MAX_KEYS) {
		snprintf(err, errlen, "a chord has at most %d keys besides modifiers",
		         CHORD_MAX_KEYS);
		return -1;
	}
	return 0;
}

/* Presses the strokes of a checked chord one at a time, a report per change. */
static int chord_press(struct gd_program *prog, struct chord *c, const struct gd_stroke *keys,
                       size_t n, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->report.kind = GD_ACT_REPORT;
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		c->added_mods[i] = (uint8_t)(keys[i].mods & ~c->report.mods);
		if (c->added_mods[i] != 0) {
			c->report.mods |= c->added_mods[i];
			if (emit(prog, &c->report, err, errlen) < 0)
				return -1;
		}
		if (keys[i].usage != 0 && memchr(c->report.keys, keys[i].usage, c->nkeys) == NULL) {
			c->added_key[i] = keys[i].usage;
			c->report.keys[c->nkeys++] = keys[i].usage;
			if (emit(prog, &c->report, err, errlen) < 0)
				return -1;
		}
	}
	return 0;
}

static void chord_remove_key(struct chord *c, uint8_t usage)
{
	uint8_t *at = memchr(c->report.keys, usage, c->nkeys);
	size_t i = (size_t)(at - c->report.keys);
	memmove(at, at + 1, c->nkeys - i - 1);
	c->report.keys[--c->nkeys] = 0;
}

/* Releases what chord_press pressed, in reverse order; the last report is all zero. */
static int chord_release(struct gd_program *prog, struct chord *c, char *err, size_t errlen)
{
	for (size_t i = c->n; i-- > 0;) {
		if (c->added_key[i] != 0) {
			chord_remove_key(c, c->added_key[i]);
			if (emit(prog, &c->report, err, errlen) < 0)
				return -1;
		}
		if (c->added_mods[i] != 0) {
			c->report.mods &= (uint8_t)~c->added_mods[i];
			if (emit(prog, &c->report, err, errlen) < 0)
				return -1;
		}
	}
	return 0;
}

int gd_program_add_chord(struct gd_program *prog, const struct gd_stroke *keys, size_t n, char *err,
                         size_t errlen)
{
	size_t start = prog->count;
	struct chord c;
	if (check_chord(keys, n, err, errlen) < 0)
		return -1;
	if (chord_press(prog, &c, keys, n, err, errlen) < 0 ||
	    chord_release(prog, &c, err, errlen) < 0) {
		prog->count = start;
		return -1;
	}
	return 0;
}

/* One stroke of text: [mods], [mods + usage], [] with modifiers, else [usage], []. */
static int type_stroke(struct gd_program *prog, struct gd_stroke s, char *err, size_t errlen)
{
	if (s.mods != 0 && emit_report(prog, s.mods, 0, err, errlen) < 0)
		return -1;
	if (s.usage != 0 && emit_report(prog, s.mods, s.usage, err, errlen) < 0)
		return -1;
	return emit_report(prog, 0, 0, err, errlen);
}

static void cannot_type(uint32_t cp, size_t pos, const struct gd_layout *layout, char *err,
                        size_t errlen)
{
	char quoted[16] = "";
	if (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0)) {
		char u[4];
		size_t n = utf8_encode(cp, u);
		snprintf(quoted, sizeof(quoted), "'%.*s' (", (int)n, u);
	}
	snprintf(err, errlen, "character %sU+%04X%s at position %zu cannot be typed with layout %s",
	         quoted, (unsigned)cp, quoted[0] != '\0' ? ")" : "", pos, gd_layout_name(layout));
	utf8_trim(err);
}

/* The strokes of character CP, the POS-th of the text. */
static int type_char(struct gd_program *prog, const struct gd_layout *layout, uint32_t cp,
                     size_t pos, char *err, size_t errlen)
{
	struct gd_stroke strokes[GD_LAYOUT_MAX_STROKES];
	size_t n = gd_layout_strokes(layout, cp, strokes);
	if (n == 0 || n > GD_LAYOUT_MAX_STROKES) {
		cannot_type(cp, pos, layout, err, errlen);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (type_stroke(prog, strokes[i], err, errlen) < 0)
			return -1;
	return 0;
}

int gd_program_add_text(struct gd_program *prog, const char *utf8, size_t len,
                        const struct gd_layout *layout, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t start = prog->count, chars = prog->chars, pos = 0;
	if (layout == NULL) {
		snprintf(err, errlen, "no keyboard layout to type text with");
		return -1;
	}
	for (size_t at = 0; at < len; pos++) {
		uint32_t cp;
		size_t n = utf8_decode(s + at, len - at, &cp);
		if (n == 0) {
			snprintf(err, errlen, "text is not valid UTF-8 at byte %zu", at + 1);
			goto fail;
		}
		if (type_char(prog, layout, cp, pos + 1, err, errlen) < 0)
			goto fail;
		at += n;
		prog->chars++;
	}
	return 0;
fail:
	prog->count = start;
	prog->chars = chars;
	return -1;
}

/* Appends TIMES copies of the actions from START on (typing CHARS0.. characters). */
static int repeat_tail(struct gd_program *prog, size_t start, size_t chars0, uint32_t times,
                       char *err, size_t errlen)
{
	size_t n = prog->count - start, typed = prog->chars - chars0;
	if (times == 0 || n == 0)
		return 0;
	if (n > (MAX_ACTIONS - prog->count) / times)
		return too_long(err, errlen);
	if (reserve(prog, n * times, err, errlen) < 0)
		return -1;
	for (uint32_t t = 0; t < times; t++) {
		memcpy(prog->actions + prog->count, prog->actions + start,
		       n * sizeof(*prog->actions));
		prog->count += n;
	}
	prog->chars += typed * times;
	return 0;
}

/* ---- parsed macros ---- */

enum step_kind { STEP_CHORD, STEP_HOLD, STEP_WAIT, STEP_TYPE, STEP_REPEAT };

struct steps {
	struct step *v;
	size_t n, cap;
};

struct step {
	enum step_kind kind;
	unsigned line;
	uint32_t ms;    /* wait; hold; repeat's period when EVERY */
	uint32_t count; /* repeat */
	bool every;     /* repeat */
	size_t nkeys;   /* chord, hold */
	struct gd_stroke keys[CHORD_MAX];
	char *text; /* type: UTF-8, escapes resolved, not NUL-terminated */
	size_t textlen;
	struct steps body; /* repeat */
};

struct gd_macro {
	struct steps steps;
};

static void free_steps(struct steps *steps)
{
	for (size_t i = 0; i < steps->n; i++) {
		free(steps->v[i].text);
		free_steps(&steps->v[i].body);
	}
	free(steps->v);
}

void gd_macro_free(struct gd_macro *macro)
{
	if (macro == NULL)
		return;
	free_steps(&macro->steps);
	free(macro);
}

/* A new zeroed step at the end of STEPS, or NULL when out of memory. */
static struct step *new_step(struct steps *steps)
{
	if (steps->n == steps->cap) {
		size_t cap = steps->cap == 0 ? 8 : steps->cap * 2;
		struct step *v = realloc(steps->v, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		steps->v = v;
		steps->cap = cap;
	}
	struct step *step = &steps->v[steps->n++];
	memset(step, 0, sizeof(*step));
	return step;
}

/* ---- the parser ---- */

struct parser {
	const unsigned char *s;
	size_t len, pos;
	unsigned line;
	size_t line_start; /* offset of the current line */
	unsigned depth;    /* repeats around the step being parsed */
	bool in_every;     /* one of them has 'every' */
	char *err;
	size_t errlen;
};

/* 1-based column of offset AT on the current line, in characters. */
static size_t column(const struct parser *p, size_t at)
{
	size_t col = 1;
	for (size_t i = p->line_start; i < at; i++)
		col += (p->s[i] & 0xc0) != 0x80;
	return col;
}

__attribute__((format(printf, 3, 4))) static int fail(const struct parser *p, size_t at,
                                                      const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "line %u, column %zu: %s", p->line, column(p, at), msg);
	utf8_trim(p->err);
	return -1;
}

static int out_of_memory(const struct parser *p)
{
	snprintf(p->err, p->errlen, "out of memory");
	return -1;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Bytes of names, numbers and keywords: not blanks, controls or + ; # " : */
static bool is_word_byte(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != '+' && c != ';' && c != '#' && c != '"' && c != ':';
}

static void skip_blanks(struct parser *p)
{
	while (p->pos < p->len && is_blank(p->s[p->pos]))
		p->pos++;
}

static bool at_step_end(const struct parser *p)
{
	return p->pos >= p->len || p->s[p->pos] == '\n' || p->s[p->pos] == ';' ||
	       p->s[p->pos] == '#';
}

static size_t word_len(const struct parser *p, size_t at)
{
	size_t n = 0;
	while (at + n < p->len && is_word_byte(p->s[at + n]))
		n++;
	return n;
}

/* Whether the N bytes at S are, in any case, the lower-case keyword KW. */
static bool word_is(const unsigned char *s, size_t n, const char *kw)
{
	size_t i = 0;
	for (; i < n && kw[i] != '\0'; i++) {
		unsigned char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)kw[i])
			return false;
	}
	return i == n && kw[i] == '\0';
}

/* What is at AT, for "got ...": a quoted word, a string, a character or end of line. */
static const char *describe(const struct parser *p, size_t at, char *buf, size_t size)
{
	if (at >= p->len || p->s[at] == '\n' || p->s[at] == '#')
		return "end of line";
	size_t n = word_len(p, at);
	if (n > QUOTE_MAX) {
		n = QUOTE_MAX;
		while (n > 0 && (p->s[at + n] & 0xc0) == 0x80)
			n--;
		snprintf(buf, size, "'%.*s...'", (int)n, (const char *)p->s + at);
	} else if (n > 0) {
		snprintf(buf, size, "'%.*s'", (int)n, (const char *)p->s + at);
	} else if (p->s[at] == '"') {
		return "a string";
	} else if (p->s[at] < ' ' || p->s[at] == 0x7f) {
		snprintf(buf, size, "control character U+%04X", p->s[at]);
	} else {
		snprintf(buf, size, "'%c'", p->s[at]);
	}
	return buf;
}

/* Rejects NUL bytes and invalid UTF-8 anywhere, so that the rest can quote any input. */
static int check_bytes(struct parser *p)
{
	for (size_t i = 0; i < p->len;) {
		uint32_t cp;
		size_t n = p->s[i] == '\0' ? 0 : utf8_decode(p->s + i, p->len - i, &cp);
		if (n == 0)
			return fail(p, i, "%s", p->s[i] == '\0' ? "NUL byte" : "invalid UTF-8");
		if (p->s[i] == '\n') {
			p->line++;
			p->line_start = i + 1;
		}
		i += n;
	}
	p->line = 1;
	p->line_start = 0;
	return 0;
}

/*
 * Reads a DURATION of N bytes at S into *MS (clamped to UINT32_MAX). Returns -1 unless it is
 * digits, an optional fraction of up to 3 digits, then ms or s, and a whole number of ms.
 */
static int read_duration(const unsigned char *s, size_t n, uint32_t *ms)
{
	uint64_t whole = 0, frac = 0, frac_div = 1, scale;
	size_t i = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (whole < 1000000000000ull)
			whole = whole * 10 + (s[i] - '0');
	if (i == 0)
		return -1;
	if (i < n && s[i] == '.') {
		size_t first = ++i;
		for (; i < n && s[i] >= '0' && s[i] <= '9' && i - first < 3; i++) {
			frac = frac * 10 + (s[i] - '0');
			frac_div *= 10;
		}
		if (i == first)
			return -1;
	}
	if (word_is(s + i, n - i, "ms"))
		scale = 1;
	else if (word_is(s + i, n - i, "s"))
		scale = 1000;
	else
		return -1;
	if (frac * scale % frac_div != 0)
		return -1;
	uint64_t total = whole * scale + frac * scale / frac_div;
	*ms = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	return 0;
}

static int parse_duration(struct parser *p, uint32_t *ms)
{
	char buf[64];
	skip_blanks(p);
	size_t at = p->pos, n = word_len(p, at);
	if (read_duration(p->s + at, n, ms) < 0)
		return fail(p, at, "expected a duration like 500ms or 2s, got %s",
		            describe(p, at, buf, sizeof(buf)));
	if (*ms > DURATION_MAX)
		return fail(p, at, "a duration is at most 1 hour, got %s",
		            describe(p, at, buf, sizeof(buf)));
	p->pos = at + n;
	return 0;
}

/* Adds KEY, named by the N bytes at AT, to the chord of STEP. */
static int add_key(struct parser *p, struct step *step, struct gd_stroke key, size_t at, size_t n)
{
	size_t keys = 0;
	for (size_t i = 0; i < step->nkeys; i++) {
		if ((key.mods & step->keys[i].mods) != 0 ||
		    (key.usage != 0 && key.usage == step->keys[i].usage))
			return fail(p, at, "'%.*s' is already in the chord", (int)n,
			            (const char *)p->s + at);
		keys += step->keys[i].usage != 0;
	}
	if (key.usage != 0 && keys == CHORD_MAX_KEYS)
		return fail(p, at, "a chord has at most %d keys besides modifiers", CHORD_MAX_KEYS);
	step->keys[step->nkeys++] = key;
	return 0;
}

/* KEY { '+' KEY }. AS_STEP: the chord is a step of its own, its first word may be a typo. */
static int parse_chord(struct parser *p, struct step *step, bool as_step)
{
	char buf[64];
	for (;;) {
		skip_blanks(p);
		size_t at = p->pos, n = word_len(p, at);
		struct gd_stroke key;
		if (n == 0 || gd_keymap_key((const char *)p->s + at, n, &key) < 0) {
			size_t next = at + n;
			while (next < p->len && is_blank(p->s[next]))
				next++;
			if (as_step && step->nkeys == 0 && n > 0 &&
			    (next >= p->len || p->s[next] != '+'))
				return fail(
				    p, at,
				    "unknown step %s: not a key name, wait, hold, type or repeat",
				    describe(p, at, buf, sizeof(buf)));
			return fail(p, at, "expected a key name, got %s",
			            describe(p, at, buf, sizeof(buf)));
		}
		if (add_key(p, step, key, at, n) < 0)
			return -1;
		p->pos = at + n;
		skip_blanks(p);
		if (p->pos >= p->len || p->s[p->pos] != '+')
			return 0;
		p->pos++;
	}
}

static int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The character that backslash C stands for, or 0 if C is not a one-letter escape. */
static char simple_escape(unsigned char c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case '"': return '"';
	case '\\': return '\\';
	default: return 0;
	}
}

/* The escape at *I (a backslash before END) into the text of STEP; advances *I past it. */
static int read_escape(struct parser *p, size_t *i, size_t end, struct step *step)
{
	const unsigned char *e = p->s + *i + 1;
	char simple = simple_escape(*e);
	if (simple != 0) {
		step->text[step->textlen++] = simple;
		*i += 2;
		return 0;
	}
	if (*e != 'u') {
		uint32_t cp;
		size_t n = utf8_decode(e, end - *i - 1, &cp);
		return fail(p, *i,
		            "unknown escape '\\%.*s': use \\n, \\t, \\r, \\\", \\\\ or \\uXXXX",
		            (int)n, (const char *)e);
	}
	uint32_t cp = 0;
	for (size_t k = 1; k <= 4; k++) {
		int d = *i + 1 + k < end ? hex_digit(e[k]) : -1;
		if (d < 0)
			return fail(p, *i, "expected 4 hex digits after \\u");
		cp = cp << 4 | (uint32_t)d;
	}
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(p, *i, "\\u%04X is not a character that can be typed", (unsigned)cp);
	step->textlen += utf8_encode(cp, step->text + step->textlen);
	*i += 6;
	return 0;
}

/* '"' ... '"' on one line into the text of STEP. */
static int parse_string(struct parser *p, struct step *step)
{
	char buf[64];
	skip_blanks(p);
	size_t open = p->pos, end = open + 1;
	if (open >= p->len || p->s[open] != '"')
		return fail(p, open, "expected a string in double quotes, got %s",
		            describe(p, open, buf, sizeof(buf)));
	while (end < p->len && p->s[end] != '"' && p->s[end] != '\n')
		end += p->s[end] == '\\' && end + 1 < p->len && p->s[end + 1] != '\n' ? 2 : 1;
	if (end >= p->len || p->s[end] != '"')
		return fail(p, open, "unterminated string: expected a closing '\"'");
	step->text = malloc(end - open); /* escapes only shrink */
	if (step->text == NULL)
		return out_of_memory(p);
	for (size_t i = open + 1; i < end;) {
		unsigned char c = p->s[i];
		if (c == '\\') {
			if (read_escape(p, &i, end, step) < 0)
				return -1;
		} else if ((c < ' ' && c != '\t') || c == 0x7f) {
			return fail(p, i, "control character U+%04X in a string: use an escape", c);
		} else {
			step->text[step->textlen++] = (char)c;
			i++;
		}
	}
	if (step->textlen == 0)
		return fail(p, open, "the string is empty");
	p->pos = end + 1;
	return 0;
}

static int parse_steps(struct parser *p, struct steps *steps);

/* COUNT [ 'every' DURATION ] ':' steps, after the keyword at KW. */
static int parse_repeat(struct parser *p, struct step *step, size_t kw)
{
	char buf[64];
	skip_blanks(p);
	size_t at = p->pos, n = word_len(p, at);
	for (size_t i = 0; i < n && step->count <= REPEAT_MAX; i++)
		step->count = p->s[at + i] >= '0' && p->s[at + i] <= '9'
		                  ? step->count * 10 + (uint32_t)(p->s[at + i] - '0')
		                  : REPEAT_MAX + 1;
	if (step->count < 1 || step->count > REPEAT_MAX)
		return fail(p, at, "expected a count from 1 to %u, got %s", REPEAT_MAX,
		            describe(p, at, buf, sizeof(buf)));
	p->pos = at + n;
	skip_blanks(p);
	at = p->pos;
	n = word_len(p, at);
	if (n > 0 && word_is(p->s + at, n, "every")) {
		if (p->in_every)
			return fail(p, at, "a repeat with 'every' cannot be inside another one");
		p->pos = at + n;
		step->every = true;
		if (parse_duration(p, &step->ms) < 0)
			return -1;
		skip_blanks(p);
		at = p->pos;
	}
	if (at >= p->len || p->s[at] != ':')
		return fail(p, at, "expected %s':', got %s", step->every ? "" : "'every' or ",
		            describe(p, at, buf, sizeof(buf)));
	if (p->depth == REPEAT_DEPTH)
		return fail(p, kw, "repeats nest at most %u deep", REPEAT_DEPTH);
	p->pos = at + 1;
	bool in_every = p->in_every;
	p->depth++;
	p->in_every = in_every || step->every;
	int rc = parse_steps(p, &step->body);
	p->depth--;
	p->in_every = in_every;
	if (rc < 0)
		return -1;
	if (step->body.n == 0)
		return fail(p, at + 1, "expected a step after ':'");
	return 0;
}

static int parse_step(struct parser *p, struct steps *steps)
{
	char buf[64];
	size_t at = p->pos, n = word_len(p, at);
	struct step *step = new_step(steps);
	if (step == NULL)
		return out_of_memory(p);
	step->line = p->line;
	if (n == 0)
		return fail(p, at, "expected a key name, wait, hold, type or repeat, got %s",
		            describe(p, at, buf, sizeof(buf)));
	p->pos = at + n;
	if (word_is(p->s + at, n, "wait")) {
		step->kind = STEP_WAIT;
		return parse_duration(p, &step->ms);
	}
	if (word_is(p->s + at, n, "hold")) {
		step->kind = STEP_HOLD;
		if (parse_chord(p, step, false) < 0)
			return -1;
		return parse_duration(p, &step->ms);
	}
	if (word_is(p->s + at, n, "type")) {
		step->kind = STEP_TYPE;
		return parse_string(p, step);
	}
	if (word_is(p->s + at, n, "repeat")) {
		step->kind = STEP_REPEAT;
		return parse_repeat(p, step, at);
	}
	p->pos = at;
	step->kind = STEP_CHORD;
	return parse_chord(p, step, true);
}

/* Steps up to the end of the line (not consumed), ';'-separated, then maybe a comment. */
static int parse_steps(struct parser *p, struct steps *steps)
{
	char buf[64];
	for (;;) {
		skip_blanks(p);
		if (!at_step_end(p) && parse_step(p, steps) < 0)
			return -1;
		skip_blanks(p);
		if (p->pos < p->len && p->s[p->pos] == ';') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '#')
			while (p->pos < p->len && p->s[p->pos] != '\n')
				p->pos++;
		if (p->pos >= p->len || p->s[p->pos] == '\n')
			return 0;
		return fail(p, p->pos, "expected ';' or end of line, got %s",
		            describe(p, p->pos, buf, sizeof(buf)));
	}
}

int gd_macro_parse(const char *text, size_t len, struct gd_macro **out, char *err, size_t errlen)
{
	struct parser p = {.s = (const unsigned char *)text, .len = len, .line = 1};
	p.err = err;
	p.errlen = errlen;
	*out = NULL;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		p.s += 3;
		p.len -= 3;
	}
	if (check_bytes(&p) < 0)
		return -1;
	struct gd_macro *macro = calloc(1, sizeof(*macro));
	if (macro == NULL)
		return out_of_memory(&p);
	for (;;) {
		if (parse_steps(&p, &macro->steps) < 0) {
			gd_macro_free(macro);
			return -1;
		}
		if (p.pos >= p.len)
			break;
		p.pos++; /* '\n' */
		p.line++;
		p.line_start = p.pos;
	}
	if (macro->steps.n == 0) {
		gd_macro_free(macro);
		snprintf(err, errlen, "macro is empty");
		return -1;
	}
	*out = macro;
	return 0;
}

/* ---- the compiler ---- */

static int compile_steps(const struct steps *steps, const struct gd_layout *layout,
                         struct gd_program *prog, unsigned *line, char *err, size_t errlen);

static int compile_hold(const struct step *step, struct gd_program *prog, char *err, size_t errlen)
{
	struct chord c;
	if (check_chord(step->keys, step->nkeys, err, errlen) < 0 ||
	    chord_press(prog, &c, step->keys, step->nkeys, err, errlen) < 0 ||
	    emit_timed(prog, GD_ACT_WAIT, step->ms, err, errlen) < 0)
		return -1;
	return chord_release(prog, &c, err, errlen);
}

/* COUNT rounds of the body, each between PERIOD_START and PERIOD_END with 'every'. */
static int compile_repeat(const struct step *step, const struct gd_layout *layout,
                          struct gd_program *prog, unsigned *line, char *err, size_t errlen)
{
	size_t start = prog->count, chars = prog->chars;
	if (step->every && emit_timed(prog, GD_ACT_PERIOD_START, 0, err, errlen) < 0)
		return -1;
	if (compile_steps(&step->body, layout, prog, line, err, errlen) < 0)
		return -1;
	if (step->every && emit_timed(prog, GD_ACT_PERIOD_END, step->ms, err, errlen) < 0)
		return -1;
	return repeat_tail(prog, start, chars, step->count - 1, err, errlen);
}

static int compile_step(const struct step *step, const struct gd_layout *layout,
                        struct gd_program *prog, unsigned *line, char *err, size_t errlen)
{
	switch (step->kind) {
	case STEP_CHORD: return gd_program_add_chord(prog, step->keys, step->nkeys, err, errlen);
	case STEP_HOLD: return compile_hold(step, prog, err, errlen);
	case STEP_WAIT: return emit_timed(prog, GD_ACT_WAIT, step->ms, err, errlen);
	case STEP_TYPE:
		return gd_program_add_text(prog, step->text, step->textlen, layout, err, errlen);
	case STEP_REPEAT: return compile_repeat(step, layout, prog, line, err, errlen);
	}
	snprintf(err, errlen, "unknown step kind %d", (int)step->kind);
	return -1;
}

/* Compiles STEPS; on error *LINE is the line of the step that failed. */
static int compile_steps(const struct steps *steps, const struct gd_layout *layout,
                         struct gd_program *prog, unsigned *line, char *err, size_t errlen)
{
	for (size_t i = 0; i < steps->n; i++) {
		*line = steps->v[i].line;
		if (compile_step(&steps->v[i], layout, prog, line, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Ends what was appended since START with an all-zero report. */
static int end_released(struct gd_program *prog, size_t start, char *err, size_t errlen)
{
	if (prog->count == start)
		return 0;
	const struct gd_action *last = &prog->actions[prog->count - 1];
	static const uint8_t none[sizeof(last->keys)];
	if (last->kind == GD_ACT_REPORT && last->mods == 0 &&
	    memcmp(last->keys, none, sizeof(none)) == 0)
		return 0;
	return emit_report(prog, 0, 0, err, errlen);
}

int gd_macro_compile(const struct gd_macro *macro, const struct gd_layout *layout,
                     struct gd_program *prog, char *err, size_t errlen)
{
	size_t start = prog->count, chars = prog->chars;
	unsigned line = 1;
	char msg[256];
	if (compile_steps(&macro->steps, layout, prog, &line, msg, sizeof(msg)) < 0 ||
	    end_released(prog, start, msg, sizeof(msg)) < 0) {
		prog->count = start;
		prog->chars = chars;
		snprintf(err, errlen, "line %u: %s", line, msg);
		utf8_trim(err);
		return -1;
	}
	return 0;
}
