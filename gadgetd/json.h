/* json: request bodies parsed into jansson objects with precise errors; the error body shape. */
#ifndef GD_JSON_H
#define GD_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* How deep arrays and objects may nest in a request body (the body itself is level 1). */
#define GD_JSON_DEPTH_MAX 32

/*
 * Parses BUF as a JSON object. Returns a new reference, or NULL with a message
 * in ERR naming what is wrong and where (line, column). Refused: an empty body, anything but
 * one object (trailing bytes too), nesting deeper than GD_JSON_DEPTH_MAX, duplicate keys,
 * invalid UTF-8, \u0000 in strings or keys, numbers out of range. Never logs.
 */
json_t *gd_json_parse_object(const char *buf, size_t len, char *err, size_t errlen);

/*
 * {"error": {"code": CODE, "message": ...}}, a new reference. The message may quote anything:
 * bytes that are not UTF-8 become U+FFFD (so the reply is always valid JSON).
 */
json_t *gd_json_error(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Bytes as a JSON string (a new reference): invalid UTF-8 becomes U+FFFD. A character cut at
 * the end is left out, so that *USED (the bytes taken) stops before it. NULL without memory.
 */
json_t *gd_json_text(const void *data, size_t len, size_t *used);

/* Whether S (LEN bytes) is valid UTF-8: no overlong forms, surrogates or code points past
 * U+10FFFF. */
bool gd_json_utf8_valid(const char *s, size_t len);

/* The kinds of member gd_json_fields() checks. */
enum gd_json_kind {
	GD_JSON_STRING,  /* OUT: const char ** (borrowed from the object) */
	GD_JSON_INTEGER, /* OUT: json_int_t *; a real such as 1.0 is not an integer */
	GD_JSON_BOOLEAN, /* OUT: bool * */
	GD_JSON_ARRAY,   /* OUT: json_t ** (borrowed) */
	GD_JSON_OBJECT,  /* OUT: json_t ** (borrowed) */
};

struct gd_json_field {
	const char *key;
	enum gd_json_kind kind;
	bool required;
	/* INTEGER: the range of the value; STRING: of its length in bytes (MAX 0: no limit). */
	json_int_t min, max;
	void *out; /* set only when the member is present and valid */
};

/*
 * Checks the members of OBJ against the N FIELDS: each member is one of them (else "unknown
 * field 'x' (expected: a, b)"), of its kind ("'pacing_ms' must be an integer, got a string")
 * and range ("'pacing_ms' must be from 0 to 1000, got 5000"); each required one is present.
 * Fills the OUT of the members present. Returns 0, or -1 with the first problem in ERR.
 */
int gd_json_fields(json_t *obj, const struct gd_json_field *fields, size_t n, char *err,
                   size_t errlen);

/*
 * Writes BODY to PATH with MODE through PATH.tmp, fsync and a rename: a crash leaves the old
 * file or the new one, never half of one. Returns 0 or -errno.
 */
int gd_json_save(const char *path, json_t *body, unsigned mode);

#endif
