/*
 * xkb-decode: what a host with an xkb layout would see typed. Reads the VM rig's server.log
 * (the observer's JSON lines, {"source":"keyboard","event":"key","key":"KEY_A","value":1,...};
 * other lines and autorepeats are ignored), replays the key events through libxkbcommon and the
 * en_US.UTF-8 compose table (so dead keys compose), and writes the text typed to stdout; Return
 * gives "\n". Owns nothing else; for the end-to-end tests.
 *   xkb-decode LAYOUT [VARIANT] < server.log       e.g. xkb-decode de, xkb-decode ch de
 */
#include <jansson.h>
#include <libevdev/libevdev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xkbcommon/xkbcommon-compose.h>
#include <xkbcommon/xkbcommon.h>

#define EVDEV_OFFSET 8 /* xkb keycode = evdev code + 8 */

struct decoder {
	struct xkb_state *state;
	struct xkb_compose_state *compose;
};

static void put_text(const char *text)
{
	for (const char *p = text; *p; p++)
		putchar(*p == '\r' ? '\n' : *p);
}

/* A key press: the text it types, if any, through the compose state machine. */
static void key_press(struct decoder *d, xkb_keycode_t kc)
{
	char text[64];
	xkb_keysym_t sym = xkb_state_key_get_one_sym(d->state, kc);
	xkb_compose_state_feed(d->compose, sym);
	switch (xkb_compose_state_get_status(d->compose)) {
	case XKB_COMPOSE_COMPOSING: break;
	case XKB_COMPOSE_COMPOSED:
		xkb_compose_state_get_utf8(d->compose, text, sizeof(text));
		put_text(text);
		xkb_compose_state_reset(d->compose);
		break;
	case XKB_COMPOSE_CANCELLED: xkb_compose_state_reset(d->compose); break;
	case XKB_COMPOSE_NOTHING:
		xkb_state_key_get_utf8(d->state, kc, text, sizeof(text));
		put_text(text);
		break;
	}
}

/* One line of the log: a key event of the observed keyboard, or something to ignore. */
static void decode_line(struct decoder *d, const char *line)
{
	json_t *ev = json_loads(line, 0, NULL);
	if (ev == NULL)
		return;
	const char *source = json_string_value(json_object_get(ev, "source"));
	const char *event = json_string_value(json_object_get(ev, "event"));
	const char *key = json_string_value(json_object_get(ev, "key"));
	json_t *value = json_object_get(ev, "value");
	if (source && event && key && json_is_integer(value) && strcmp(source, "keyboard") == 0 &&
	    strcmp(event, "key") == 0) {
		int code = libevdev_event_code_from_name(EV_KEY, key);
		json_int_t v = json_integer_value(value);
		xkb_keycode_t kc = (xkb_keycode_t)code + EVDEV_OFFSET;
		if (code < 0) {
			fprintf(stderr, "xkb-decode: unknown key %s\n", key);
		} else if (v == 1) {
			key_press(d, kc);
			xkb_state_update_key(d->state, kc, XKB_KEY_DOWN);
		} else if (v == 0) {
			xkb_state_update_key(d->state, kc, XKB_KEY_UP);
		}
	}
	json_decref(ev);
}

static int decode(struct decoder *d, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, in) >= 0)
		decode_line(d, line);
	free(line);
	return ferror(in) ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: xkb-decode LAYOUT [VARIANT] < server.log\n");
		return 2;
	}
	/* The system's compose table, as tools/gen-keymaps reads it: no user overrides. */
	unsetenv("XCOMPOSEFILE");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	struct xkb_context *ctx = xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES);
	struct xkb_rule_names names = {
	    .rules = "evdev",
	    .model = "pc105",
	    .layout = argv[1],
	    .variant = argc > 2 ? argv[2] : "",
	    .options = "",
	};
	struct xkb_keymap *keymap =
	    ctx ? xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS) : NULL;
	struct xkb_compose_table *table =
	    ctx ? xkb_compose_table_new_from_locale(ctx, "en_US.UTF-8",
	                                            XKB_COMPOSE_COMPILE_NO_FLAGS)
	        : NULL;
	int rc = 1;
	if (keymap == NULL || table == NULL) {
		fprintf(stderr, "xkb-decode: cannot compile layout \"%s\" variant \"%s\"%s\n",
		        names.layout, names.variant,
		        table ? "" : " or the en_US.UTF-8 compose table");
	} else {
		struct decoder d = {xkb_state_new(keymap),
		                    xkb_compose_state_new(table, XKB_COMPOSE_STATE_NO_FLAGS)};
		if (d.state && d.compose && decode(&d, stdin) == 0 && fflush(stdout) == 0)
			rc = 0;
		else
			fprintf(stderr, "xkb-decode: failed\n");
		xkb_compose_state_unref(d.compose);
		xkb_state_unref(d.state);
	}
	xkb_compose_table_unref(table);
	xkb_keymap_unref(keymap);
	xkb_context_unref(ctx);
	return rc;
}
