/* json: request bodies parsed into jansson objects with precise errors; the error body shape. */
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Whether arrays and objects in BUF nest deeper than GD_JSON_DEPTH_MAX, looking at brackets
 * outside strings: jansson's own limit (2048) is fixed when it is built. Sets *LINE and
 * *COLUMN (characters, as jansson counts them) to the bracket that goes too deep.
 */
static bool too_deep(const char *buf, size_t len, int *line, int *column)
{
	int depth = 0;
	bool in_string = false, escaped = false;
	*line = 1;
	*column = 0;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == '\n') {
			(*line)++;
			*column = 0;
		} else if (((unsigned char)c & 0xc0) != 0x80) {
			(*column)++;
		}
		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > GD_JSON_DEPTH_MAX)
				return true;
		} else if (c == ']' || c == '}') {
			if (--depth < 0)
				return false; /* not JSON: jansson says where */
		}
	}
	return false;
}

/* "a string", "an integer", ... for messages about what a value is. */
static const char *kind_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	default: return "null";
	}
}

/* One level of nesting while looking for the member an error is in. */
struct level {
	bool array;
	bool expect_key; /* an object, before its next member's key */
	size_t index;    /* an array's element */
	char key[48];    /* an object's member (as written, cut short) */
};

/*
 * Where in BUF the byte at END lies, as "'keys[2]'" or "'a.b'", in PATH; "" at the top. BUF
 * nests at most GD_JSON_DEPTH_MAX deep (too_deep() said so).
 */
static void member_at(const char *buf, size_t len, size_t end, char *path, size_t pathlen)
{
	struct level levels[GD_JSON_DEPTH_MAX + 1];
	int depth = 0;
	path[0] = '\0';
	for (size_t i = 0; i < end && i < len; i++) {
		char c = buf[i];
		struct level *top = depth > 0 ? &levels[depth - 1] : NULL;
		if (c == '"') {
			size_t start = ++i;
			while (i < len && buf[i] != '"')
				i += buf[i] == '\\' ? 2 : 1;
			if (top && !top->array && top->expect_key && i < end) {
				size_t n = i - start < sizeof(top->key) - 1 ? i - start
				                                            : sizeof(top->key) - 1;
				memcpy(top->key, buf + start, n);
				top->key[n] = '\0';
				top->expect_key = false;
			}
		} else if ((c == '{' || c == '[') && depth <= GD_JSON_DEPTH_MAX) {
			levels[depth++] = (struct level){.array = c == '[', .expect_key = c == '{'};
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		} else if (c == ',' && top) {
			top->index++;
			top->expect_key = !top->array;
		}
	}
	size_t used = 0;
	for (int d = 0; d < depth && used + 1 < pathlen; d++) {
		const struct level *l = &levels[d];
		int n = l->array        ? snprintf(path + used, pathlen - used, "[%zu]", l->index)
		        : l->expect_key ? 0
		                        : snprintf(path + used, pathlen - used, "%s%s",
		                                   used ? "." : "", l->key);
		if (l->expect_key && !l->array)
			break; /* between members: deeper levels are not inside any */
		used += n > 0 ? (size_t)n : 0;
	}
	if (used >= pathlen)
		used = pathlen - 1;
	path[used] = '\0';
}

json_t *gd_json_parse_object(const char *buf, size_t len, char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "request body is empty: expected a JSON object");
		return NULL;
	}
	int line, column;
	if (too_deep(buf, len, &line, &column)) {
		snprintf(err, errlen,
		         "invalid JSON at line %d, column %d: nested deeper than %d levels", line,
		         column, GD_JSON_DEPTH_MAX);
		return NULL;
	}
	json_error_t jerr;
	/* No JSON_ALLOW_NUL: "\u0000" in a string is refused, as are bytes that are not UTF-8. */
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		/* Name the member the error is in: "... column 14, in 'pacing_ms': ...". */
		char path[128];
		member_at(buf, len, jerr.position > 0 ? (size_t)jerr.position : 0, path,
		          sizeof(path));
		snprintf(err, errlen, "invalid JSON at line %d, column %d%s%s%s: %s", jerr.line,
		         jerr.column, path[0] ? ", in '" : "", path, path[0] ? "'" : "", jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "expected a JSON object, got %s", kind_of(root));
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
	/* Messages quote paths and values: never let a stray byte (or one cut by %.Ns, or by
	 * the buffer's end) make the reply fail to encode. */
	size_t used;
	return json_pack("{s:{s:s, s:o}}", "error", "code", code, "message",
	                 gd_json_text(message, strlen(message), &used));
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

int gd_json_save(const char *path, json_t *body, unsigned mode)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	char *text = json_dumps(body, JSON_INDENT(2));
	int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode) : -1;
	int rc = text == NULL ? -ENOMEM : fd < 0 ? -errno : 0;
	size_t len = text ? strlen(text) : 0, done = 0;
	while (rc == 0 && done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		done += n > 0 ? (size_t)n : 0;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0 && fd >= 0)
		unlink(tmp);
	free(text);
	return rc;
}

bool gd_json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		int n = utf8_length(p + i, len - i);
		if (n <= 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

/* Checks V, the member F->key, against F; 0 or -1 with ERR. */
static int check_field(const struct gd_json_field *f, json_t *v, char *err, size_t errlen)
{
	static const char *const wanted[] = {
	    [GD_JSON_STRING] = "a string",       [GD_JSON_INTEGER] = "an integer",
	    [GD_JSON_BOOLEAN] = "true or false", [GD_JSON_ARRAY] = "an array",
	    [GD_JSON_OBJECT] = "an object",
	};
	bool ok = f->kind == GD_JSON_STRING    ? json_is_string(v)
	          : f->kind == GD_JSON_INTEGER ? json_is_integer(v)
	          : f->kind == GD_JSON_BOOLEAN ? json_is_boolean(v)
	          : f->kind == GD_JSON_ARRAY   ? json_is_array(v)
	                                       : json_is_object(v);
	if (!ok) {
		snprintf(err, errlen, "'%s' must be %s, got %s", f->key, wanted[f->kind],
		         kind_of(v));
		return -1;
	}
	if (f->kind == GD_JSON_INTEGER) {
		json_int_t i = json_integer_value(v);
		if (i < f->min || i > f->max) {
			snprintf(err, errlen,
			         "'%s' must be from %" JSON_INTEGER_FORMAT
			         " to %" JSON_INTEGER_FORMAT ", got %" JSON_INTEGER_FORMAT,
			         f->key, f->min, f->max, i);
			return -1;
		}
		*(json_int_t *)f->out = i;
	} else if (f->kind == GD_JSON_STRING) {
		size_t len = json_string_length(v);
		if (len < (size_t)f->min) {
			snprintf(err, errlen, "'%s' must not be empty", f->key);
			return -1;
		}
		if (f->max > 0 && len > (size_t)f->max) {
			snprintf(err, errlen,
			         "'%s' must be at most %" JSON_INTEGER_FORMAT " bytes, got %zu",
			         f->key, f->max, len);
			return -1;
		}
		*(const char **)f->out = json_string_value(v);
	} else if (f->kind == GD_JSON_BOOLEAN) {
		*(bool *)f->out = json_is_true(v);
	} else {
		*(json_t **)f->out = v;
	}
	return 0;
}

int gd_json_fields(json_t *obj, const struct gd_json_field *fields, size_t n, char *err,
                   size_t errlen)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		size_t i = 0;
		while (i < n && strcmp(fields[i].key, key) != 0)
			i++;
		if (i < n)
			continue;
		char names[256] = "";
		for (i = 0; i < n; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			         i ? ", " : "", fields[i].key);
		snprintf(err, errlen, "unknown field '%.64s' (expected: %s)", key, names);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(obj, fields[i].key);
		if (v == NULL && fields[i].required) {
			snprintf(err, errlen, "'%s' is required", fields[i].key);
			return -1;
		}
		if (v != NULL && check_field(&fields[i], v, err, errlen) < 0)
			return -1;
	}
	return 0;
}
