/* json: request bodies parsed into jansson objects with precise errors; the error body shape. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>

json_t *gd_json_parse_object(const char *buf, size_t len, char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "request body is empty: expected a JSON object");
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line,
		         jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "expected a JSON object, got %s",
		         json_is_array(root)    ? "an array"
		         : json_is_string(root) ? "a string"
		         : json_is_number(root) ? "a number"
		                                : "a literal");
		json_decref(root);
		return NULL;
	}
	return root;
}

json_t *gd_json_error(const char *code, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
}
