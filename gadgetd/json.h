/* json: request bodies parsed into jansson objects with precise errors; the error body shape. */
#ifndef GD_JSON_H
#define GD_JSON_H

#include <jansson.h>
#include <stddef.h>

/*
 * Parses BUF as a JSON object. Returns a new reference, or NULL with a message
 * in ERR naming what is wrong and where (line, column). Never logs.
 */
json_t *gd_json_parse_object(const char *buf, size_t len, char *err, size_t errlen);

/* {"error": {"code": CODE, "message": ...}}, a new reference. */
json_t *gd_json_error(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Bytes as a JSON string (a new reference): invalid UTF-8 becomes U+FFFD. A character cut at
 * the end is left out, so that *USED (the bytes taken) stops before it. NULL without memory.
 */
json_t *gd_json_text(const void *data, size_t len, size_t *used);

#endif
