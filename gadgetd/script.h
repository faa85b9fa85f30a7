/*
 * script: the reinstall script language: a JSON document of steps (media, power, keys, type,
 * console, expect, wait, seed, log) with ${variables}; its validation, with the index of the
 * step at fault, and the expansion of its variables. Running it is script_run's.
 *
 *   {"description": "...", "vars": {"image": "debian.iso"},
 *    "on_failure": {"media": "eject", "power": "keep"},
 *    "steps": [{"media": "insert", "image": "${image}", "mode": "cdrom"},
 *              {"power": "on", "timeout": 60}, {"keys": "repeat 40 every 200ms: f12"},
 *              {"expect": "login: $", "timeout": 1800}]}
 */
#ifndef GD_SCRIPT_H
#define GD_SCRIPT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GD_SCRIPT_STEPS_MAX 256
#define GD_SCRIPT_VAR_MAX   4096 /* bytes of one variable's value */

/* What a script may name, checked when it is saved and again when it runs. */
struct gd_script_env {
	void *ctx;
	bool (*image_exists)(void *ctx, const char *name); /* NULL: not checked */
	bool (*layout_exists)(void *ctx, const char *name);
};

/*
 * Checks DOC (an object as above). Strings with ${...} are checked once expanded, so a saved
 * script is checked with its default vars and a run with the vars it is given. Returns 0, or
 * -1 with ERR saying what is wrong and *STEP the index of the step at fault (-1: the document).
 */
int gd_script_validate(json_t *doc, const struct gd_script_env *env, char *err, size_t errlen,
                       int *step);

/*
 * The steps of DOC with ${name} replaced by VARS' value, else the value in DOC's "vars"
 * ("$$" is a literal "$"). Returns a new array, or NULL with ERR and *STEP for an unknown
 * variable, a malformed reference or a value too long.
 */
json_t *gd_script_expand(json_t *doc, json_t *vars, char *err, size_t errlen, int *step);

/* Checks VARS (NULL, or an object of strings with names of 1-32 a-z 0-9 _): 0, or -1 with ERR. */
int gd_script_check_vars(json_t *vars, char *err, size_t errlen);

/* A step's action: its one member among media, power, keys, ... ("?" if none). */
const char *gd_script_step_kind(json_t *step);

/* Parses a duration: "500ms", "2s", "1.5s", "10m", or an integer of seconds. -1 if invalid. */
int64_t gd_script_duration_ms(json_t *value);

#endif
