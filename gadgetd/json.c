/* json: request bodies parsed into jansson objects with precise errors; the error body shape. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The length of the valid UTF-8 sequence at P (N bytes left): 1-4; 0 if invalid; -1 if cut. */
static int utf8_length(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	int len = c >= 0xc2 && c <= 0xdf   ? 2
	          : c >= 0xe0 && c <= 0xef ? 3
	          : c >= 0xf0 && c <= 0xf4 ? 4
	                                   : 0;
	if (len == 0)
		return 0;
	/* The second byte's range excludes overlongs, surrogates and code points past U+10FFFF. */
	unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;
		if (p[i] < min || p[i] > max)
			return 0;
	}
	return len;
}

json_t *gd_json_text(const void *data, size_t len, size_t *used)
{
	const unsigned char *in = data;
	char *out = malloc(len * 3 + 1);
	if (out == NULL)
		return NULL;
	size_t i = 0, o = 0;
	while (i < len) {
		int n = utf8_length(in + i, len - i);
		if (n < 0)
			break;
		if (n == 0) {
			static const char replacement[3] = {'\xef', '\xbf', '\xbd'}; /* U+FFFD */
			memcpy(out + o, replacement, sizeof(replacement));
			o += sizeof(replacement);
			i++;
			continue;
		}
		memcpy(out + o, in + i, (size_t)n);
		o += (size_t)n;
		i += (size_t)n;
	}
	json_t *text = json_stringn_nocheck(out, o);
	free(out);
	*used = i;
	return text;
}
