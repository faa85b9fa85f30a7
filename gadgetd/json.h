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

#endif
