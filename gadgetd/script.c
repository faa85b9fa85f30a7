/*
 * script: the reinstall script language: a JSON document of steps with ${variables}; its
 * validation, with the index of the step at fault, and the expansion of its variables.
 */
#include "script.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "macro.h"
#include "power.h"

#define VAR_NAME_MAX 32
#define DAY_MS       (24LL * 3600 * 1000)
#define SEED_BYTES   (1 << 20)

static const char *const kinds[] = {"media",  "power", "keys", "type", "console",
                                    "expect", "wait",  "seed", "log"};
#define KIND_COUNT (sizeof(kinds) / sizeof(kinds[0]))

static bool var_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > VAR_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      name[i] == '_'))
			return false;
	return true;
}

const char *gd_script_step_kind(json_t *step)
{
	for (size_t i = 0; i < KIND_COUNT; i++)
		if (json_object_get(step, kinds[i]) != NULL)
			return kinds[i];
	return "?";
}

int64_t gd_script_duration_ms(json_t *value)
{
	if (json_is_integer(value)) {
		json_int_t s = json_integer_value(value);
		return s >= 0 && s <= DAY_MS / 1000 ? s * 1000 : -1;
	}
	if (!json_is_string(value))
		return -1;
	const char *text = json_string_value(value);
	char *end;
	double n = strtod(text, &end);
	if (end == text || !isdigit((unsigned char)text[0]) || !isfinite(n))
		return -1;
	double ms = strcmp(end, "ms") == 0  ? n
	            : strcmp(end, "s") == 0 ? n * 1000
	            : strcmp(end, "m") == 0 ? n * 60000
	                                    : -1;
	return ms >= 0 && ms <= (double)DAY_MS ? (int64_t)ms : -1;
}

/* ---- expansion ---------------------------------------------------------------------------- */

struct expansion {
	json_t *vars, *defaults;
	bool lenient;    /* leave unknown references in place (a saved script's run-time vars) */
	bool unresolved; /* a reference was left in place */
	char *err;
	size_t errlen;
};

static const char *lookup(struct expansion *x, const char *name)
{
	json_t *v = json_object_get(x->vars, name);
	if (!json_is_string(v))
		v = json_object_get(x->defaults, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Appends N bytes of S to the growing BUF; -1 past GD_SCRIPT_VAR_MAX * 4. */
static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > (size_t)GD_SCRIPT_VAR_MAX * 16)
		return -1;
	if (*len + n + 1 > *cap) {
		size_t cap2 = (*len + n + 1) * 2;
		char *grown = realloc(*buf, cap2);
		if (grown == NULL)
			return -1;
		*buf = grown;
		*cap = cap2;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* One reference at P ("${name}"): appends its value; returns the bytes it spans, or -1. */
static long expand_reference(struct expansion *x, const char *p, char **buf, size_t *len,
                             size_t *cap)
{
	const char *close = strchr(p + 2, '}');
	size_t n = close ? (size_t)(close - (p + 2)) : 0;
	if (close == NULL || !var_name_valid(p + 2, n)) {
		snprintf(x->err, x->errlen,
		         "malformed variable reference at '%.20s' (expected ${name})", p);
		return -1;
	}
	char name[VAR_NAME_MAX + 1];
	memcpy(name, p + 2, n);
	name[n] = '\0';
	const char *value = lookup(x, name);
	if (value == NULL && !x->lenient) {
		snprintf(x->err, x->errlen, "unknown variable ${%s} (give it in \"vars\")", name);
		return -1;
	}
	if (value == NULL)
		x->unresolved = true;
	const char *out = value ? value : p;
	size_t outlen = value ? strlen(value) : n + 3;
	if (append(buf, len, cap, out, outlen) < 0) {
		snprintf(x->err, x->errlen, "the text is too long once ${%s} is expanded", name);
		return -1;
	}
	return (long)n + 3;
}

static json_t *expand_string(struct expansion *x, const char *text)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	if (append(&buf, &len, &cap, "", 0) < 0)
		return NULL;
	for (const char *p = text; *p;) {
		long used = 1;
		if (p[0] == '$' && p[1] == '$')
			used = append(&buf, &len, &cap, "$", 1) < 0 ? -1 : 2;
		else if (p[0] == '$' && p[1] == '{')
			used = expand_reference(x, p, &buf, &len, &cap);
		else if (append(&buf, &len, &cap, p, 1) < 0)
			used = -1;
		if (used < 0) {
			if (x->err[0] == '\0')
				snprintf(x->err, x->errlen, "the text is too long");
			free(buf);
			return NULL;
		}
		p += used;
	}
	json_t *s = json_stringn(buf, len);
	free(buf);
	return s;
}

static json_t *expand_value(struct expansion *x, json_t *v)
{
	if (json_is_string(v))
		return expand_string(x, json_string_value(v));
	if (json_is_array(v)) {
		json_t *out = json_array();
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item)
		{
			json_t *e = expand_value(x, item);
			if (e == NULL || json_array_append_new(out, e) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	if (json_is_object(v)) {
		json_t *out = json_object();
		const char *key;
		json_t *item;
		json_object_foreach(v, key, item)
		{
			json_t *e = expand_value(x, item);
			if (e == NULL || json_object_set_new(out, key, e) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	return json_copy(v);
}

static json_t *expand_steps(struct expansion *x, json_t *doc, int *step)
{
	json_t *steps = json_object_get(doc, "steps"), *out = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s)
	{
		json_t *e = expand_value(x, s);
		if (e == NULL) {
			*step = (int)i;
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, e);
	}
	return out;
}

json_t *gd_script_expand(json_t *doc, json_t *vars, char *err, size_t errlen, int *step)
{
	err[0] = '\0';
	*step = -1;
	struct expansion x = {vars, json_object_get(doc, "vars"), false, false, err, errlen};
	json_t *out = expand_steps(&x, doc, step);
	if (out == NULL && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	return out;
}

/* ---- validation --------------------------------------------------------------------------- */

struct check {
	const struct gd_script_env *env;
	char *err;
	size_t errlen;
};

static int fail(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct check *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* Checks STEP's members: its action's and the common ones. */
static int check_fields(struct check *c, json_t *step, const char *kind)
{
	static const char *const common[] = {"name", "timeout", "retries", "retry_delay", NULL};
	static const struct {
		const char *kind;
		const char *const extra[4];
	} allowed[] = {{"media", {"image", "mode", "readonly", NULL}},
	               {"power", {"wait_for", NULL}},
	               {"type", {"layout", NULL}}};
	const char *key;
	json_t *v;
	json_object_foreach(step, key, v)
	{
		bool ok = strcmp(key, kind) == 0 || one_of(key, common);
		for (size_t i = 0; !ok && i < sizeof(allowed) / sizeof(allowed[0]); i++)
			ok = strcmp(allowed[i].kind, kind) == 0 && one_of(key, allowed[i].extra);
		if (!ok)
			return fail(c, "unknown field '%s' in a %s step", key, kind);
	}
	json_int_t timeout = 60, retries = 0;
	const char *name = NULL;
	const struct gd_json_field fields[] = {
	    {"name", GD_JSON_STRING, false, 1, 64, &name},
	    {"timeout", GD_JSON_INTEGER, false, 1, DAY_MS / 1000, &timeout},
	    {"retries", GD_JSON_INTEGER, false, 0, 100, &retries},
	};
	json_t *common_only = json_object();
	for (size_t i = 0; i < 3; i++)
		if (json_object_get(step, fields[i].key))
			json_object_set(common_only, fields[i].key,
			                json_object_get(step, fields[i].key));
	int rc = gd_json_fields(common_only, fields, 3, c->err, c->errlen);
	json_decref(common_only);
	json_t *delay = json_object_get(step, "retry_delay");
	if (rc == 0 && delay != NULL && gd_script_duration_ms(delay) < 0)
		return fail(c, "'retry_delay' must be a duration such as \"5s\" or \"500ms\"");
	return rc;
}

static bool resolved(json_t *v)
{
	return !json_is_string(v) || strstr(json_string_value(v), "${") == NULL;
}

static int check_media(struct check *c, json_t *step)
{
	static const char *const ops[] = {"insert", "eject", NULL}, *const modes[] = {"cdrom",
	                                                                              "disk", NULL};
	const char *op = json_string_value(json_object_get(step, "media"));
	json_t *image = json_object_get(step, "image"), *mode = json_object_get(step, "mode");
	json_t *ro = json_object_get(step, "readonly");
	if (op == NULL || !one_of(op, ops))
		return fail(c, "'media' must be \"insert\" or \"eject\"");
	if (strcmp(op, "eject") == 0 && (image || mode || ro))
		return fail(c, "an eject takes no image, mode or readonly");
	if (strcmp(op, "insert") == 0 && !json_is_string(image))
		return fail(c, "an insert needs \"image\": the name of an image in the store");
	if (mode != NULL && (!json_is_string(mode) || !one_of(json_string_value(mode), modes)))
		return fail(c, "'mode' must be \"cdrom\" or \"disk\"");
	if (ro != NULL && !json_is_boolean(ro))
		return fail(c, "'readonly' must be true or false");
	if (image && resolved(image) && c->env && c->env->image_exists &&
	    !c->env->image_exists(c->env->ctx, json_string_value(image)))
		return fail(c, "no image '%s' in the store", json_string_value(image));
	return 0;
}

static int check_power(struct check *c, json_t *step)
{
	static const char *const states[] = {"on", "off", NULL};
	const char *action = json_string_value(json_object_get(step, "power"));
	json_t *wait_for = json_object_get(step, "wait_for");
	if (action == NULL || gd_power_action_parse(action) < 0)
		return fail(c, "'power' must be one of on, off, force-off, reset, cycle, press, "
		               "long-press");
	if (wait_for != NULL &&
	    (!json_is_string(wait_for) || !one_of(json_string_value(wait_for), states)))
		return fail(c, "'wait_for' must be \"on\" or \"off\"");
	return 0;
}

static int check_keys(struct check *c, json_t *value)
{
	const char *text = json_string_value(value);
	if (text == NULL || text[0] == '\0')
		return fail(c, "'keys' must be a macro such as \"repeat 40 every 200ms: f12\"");
	if (!resolved(value))
		return 0;
	struct gd_macro *macro = NULL;
	char why[256];
	if (gd_macro_parse(text, strlen(text), &macro, why, sizeof(why)) < 0)
		return fail(c, "bad macro: %s", why);
	gd_macro_free(macro);
	return 0;
}

static int check_type(struct check *c, json_t *step)
{
	json_t *layout = json_object_get(step, "layout");
	if (!json_is_string(json_object_get(step, "type")))
		return fail(c, "'type' must be the text to type");
	if (layout != NULL && !json_is_string(layout))
		return fail(c, "'layout' must be a layout name such as \"us\" or \"de\"");
	if (layout && resolved(layout) && c->env && c->env->layout_exists &&
	    !c->env->layout_exists(c->env->ctx, json_string_value(layout)))
		return fail(c, "no keyboard layout '%s'", json_string_value(layout));
	return 0;
}

static int check_expect(struct check *c, json_t *value)
{
	const char *pattern = json_string_value(value);
	if (pattern == NULL || pattern[0] == '\0')
		return fail(c, "'expect' must be a regular expression such as \"login: $\"");
	if (!resolved(value))
		return 0;
	regex_t re;
	int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB);
	if (rc != 0) {
		char why[128];
		regerror(rc, &re, why, sizeof(why));
		return fail(c, "bad pattern: %s", why);
	}
	regfree(&re);
	return 0;
}

static bool label_valid(const char *label)
{
	size_t len = strlen(label);
	if (len == 0 || len > 11)
		return false;
	for (const char *p = label; *p; p++)
		if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' ||
		      *p == '-'))
			return false;
	return true;
}

static bool file_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 64 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

static int check_seed(struct check *c, json_t *value)
{
	if (json_is_string(value) && strcmp(json_string_value(value), "eject") == 0)
		return 0;
	json_t *label = json_object_get(value, "label"), *files = json_object_get(value, "files");
	if (!json_is_object(value) || json_object_size(value) != 2 || !json_is_string(label) ||
	    !json_is_object(files))
		return fail(c, "'seed' must be {\"label\": \"CIDATA\", \"files\": {\"user-data\": "
		               "\"...\"}} or \"eject\"");
	if (resolved(label) && !label_valid(json_string_value(label)))
		return fail(c,
		            "the seed's label must be 1-11 of A-Z 0-9 _ - (OEMDRV, CIDATA, ...)");
	size_t total = 0;
	const char *name;
	json_t *text;
	json_object_foreach(files, name, text)
	{
		if (!file_name_valid(name))
			return fail(c, "seed file name '%s': 1-64 of A-Z a-z 0-9 . _ -", name);
		if (!json_is_string(text))
			return fail(c, "seed file '%s' must be its text", name);
		total += json_string_length(text);
	}
	if (json_object_size(files) == 0 || json_object_size(files) > 16 || total > SEED_BYTES)
		return fail(c, "a seed has 1 to 16 files, 1 MiB in all");
	return 0;
}

static int check_action(struct check *c, json_t *step, const char *kind)
{
	json_t *value = json_object_get(step, kind);
	if (strcmp(kind, "media") == 0)
		return check_media(c, step);
	if (strcmp(kind, "power") == 0)
		return check_power(c, step);
	if (strcmp(kind, "keys") == 0)
		return check_keys(c, value);
	if (strcmp(kind, "type") == 0)
		return check_type(c, step);
	if (strcmp(kind, "expect") == 0)
		return check_expect(c, value);
	if (strcmp(kind, "seed") == 0)
		return check_seed(c, value);
	if (strcmp(kind, "wait") == 0)
		return gd_script_duration_ms(value) < 0
		           ? fail(
		                 c,
		                 "'wait' must be a duration up to a day: \"2s\", \"500ms\", \"5m\"")
		           : 0;
	/* console, log */
	return json_is_string(value) && json_string_length(value) > 0
	           ? 0
	           : fail(c, "'%s' must be a non-empty string", kind);
}

static int check_step(struct check *c, json_t *step)
{
	if (!json_is_object(step))
		return fail(c, "a step must be an object such as {\"power\": \"on\"}");
	const char *kind = NULL;
	for (size_t i = 0; i < KIND_COUNT; i++) {
		if (json_object_get(step, kinds[i]) == NULL)
			continue;
		if (kind != NULL)
			return fail(c, "a step does one thing: '%s' and '%s' both given", kind,
			            kinds[i]);
		kind = kinds[i];
	}
	if (kind == NULL)
		return fail(c, "unknown step: expected one of media, power, keys, type, console, "
		               "expect, wait, seed, log");
	if (check_fields(c, step, kind) < 0)
		return -1;
	return check_action(c, step, kind);
}

int gd_script_check_vars(json_t *vars, char *err, size_t errlen)
{
	if (vars == NULL)
		return 0;
	if (!json_is_object(vars)) {
		snprintf(err, errlen, "'vars' must be an object of strings");
		return -1;
	}
	const char *name;
	json_t *v;
	json_object_foreach(vars, name, v)
	{
		if (!var_name_valid(name, strlen(name))) {
			snprintf(err, errlen, "variable name '%.40s': 1-32 of a-z 0-9 _", name);
			return -1;
		}
		if (!json_is_string(v) || json_string_length(v) > GD_SCRIPT_VAR_MAX) {
			snprintf(err, errlen, "variable '%s' must be a string of at most %d bytes",
			         name, GD_SCRIPT_VAR_MAX);
			return -1;
		}
	}
	return 0;
}

static int check_on_failure(struct check *c, json_t *policy)
{
	static const char *const media[] = {"eject", "keep", NULL}, *const power[] = {"keep", "off",
	                                                                              "force-off",
	                                                                              NULL};
	const char *m = NULL, *p = NULL;
	const struct gd_json_field fields[] = {
	    {"media", GD_JSON_STRING, false, 0, 0, &m},
	    {"power", GD_JSON_STRING, false, 0, 0, &p},
	};
	if (policy == NULL)
		return 0;
	if (!json_is_object(policy))
		return fail(c, "'on_failure' must be {\"media\": \"eject\", \"power\": \"keep\"}");
	if (gd_json_fields(policy, fields, 2, c->err, c->errlen) < 0)
		return -1;
	if (m && !one_of(m, media))
		return fail(c, "on_failure 'media' must be \"eject\" or \"keep\"");
	if (p && !one_of(p, power))
		return fail(c, "on_failure 'power' must be \"keep\", \"off\" or \"force-off\"");
	return 0;
}

static int check_document(struct check *c, json_t *doc)
{
	static const char *const keys[] = {"description", "vars", "on_failure", "steps", NULL};
	const char *key;
	json_t *v;
	if (!json_is_object(doc))
		return fail(c, "a script is a JSON object with \"steps\"");
	json_object_foreach(doc, key, v)
	{
		if (!one_of(key, keys))
			return fail(c,
			            "unknown field '%s' (expected: description, vars, on_failure, "
			            "steps)",
			            key);
	}
	json_t *desc = json_object_get(doc, "description"), *steps = json_object_get(doc, "steps");
	if (desc != NULL && (!json_is_string(desc) || json_string_length(desc) > 1024))
		return fail(c, "'description' must be a string of at most 1024 bytes");
	if (gd_script_check_vars(json_object_get(doc, "vars"), c->err, c->errlen) < 0 ||
	    check_on_failure(c, json_object_get(doc, "on_failure")) < 0)
		return -1;
	if (steps == NULL)
		return fail(c, "'steps' is required: an array of 1 to %d steps",
		            GD_SCRIPT_STEPS_MAX);
	if (!json_is_array(steps) || json_array_size(steps) == 0 ||
	    json_array_size(steps) > GD_SCRIPT_STEPS_MAX)
		return fail(c, "'steps' must be an array of 1 to %d steps", GD_SCRIPT_STEPS_MAX);
	return 0;
}

int gd_script_validate(json_t *doc, const struct gd_script_env *env, char *err, size_t errlen,
                       int *step)
{
	struct check c = {env, err, errlen};
	char why[384] = "";
	struct check inner = {env, why, sizeof(why)};
	*step = -1;
	err[0] = '\0';
	if (check_document(&c, doc) < 0)
		return -1;
	/* Run-time vars may be missing now: what they touch is checked when the script runs. */
	struct expansion x = {NULL, json_object_get(doc, "vars"), true, false, why, sizeof(why)};
	json_t *steps = json_object_get(doc, "steps");
	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s)
	{
		json_t *expanded = expand_value(&x, s);
		int rc = expanded ? check_step(&inner, expanded) : -1;
		json_decref(expanded);
		if (rc < 0) {
			*step = (int)i;
			snprintf(err, errlen, "step %zu (%s): %s", i, gd_script_step_kind(s),
			         why[0] ? why : "out of memory");
			return -1;
		}
	}
	return 0;
}
