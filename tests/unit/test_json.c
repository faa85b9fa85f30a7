/* Unit tests of json: request bodies that are, or are not, the JSON object asked for; error bodies.
 */
#include "json.h"

#include "unit.h"

static void expect_parse_error(const char *body, const char *what)
{
	char err[256] = "";
	json_t *obj = gd_json_parse_object(body, strlen(body), err, sizeof(err));
	if (obj != NULL || strstr(err, what) == NULL)
		fail_msg("body '%s': got \"%s\", expected \"%s\"", body, err, what);
}

static void test_object(void **state)
{
	(void)state;
	char err[256] = "";
	const char body[] = "{\"connected\": true, \"n\": [1, 2]}";
	json_t *obj = gd_json_parse_object(body, strlen(body), err, sizeof(err));
	assert_non_null(obj);
	assert_true(json_is_true(json_object_get(obj, "connected")));
	assert_int_equal(json_array_size(json_object_get(obj, "n")), 2);
	json_decref(obj);
}

static void test_not_an_object(void **state)
{
	(void)state;
	expect_parse_error("", "request body is empty");
	expect_parse_error("{\"a\": ", "invalid JSON at line 1, column");
	expect_parse_error("{\n  \"a\": tru\n}", "invalid JSON at line 2");
	expect_parse_error("[1, 2]", "expected a JSON object, got an array");
	expect_parse_error("\"text\"", "expected a JSON object, got a string");
	expect_parse_error("42", "expected a JSON object, got an integer");
	expect_parse_error("null", "expected a JSON object, got null");
	expect_parse_error("{\"a\": 1, \"a\": 2}", "duplicate object key");
	expect_parse_error("{} trailing", "invalid JSON");
}

static void test_binary_body(void **state)
{
	(void)state;
	const char body[] = {'{', '"', 'a', '"', ':', '\0', '}'};
	char err[256] = "";
	assert_null(gd_json_parse_object(body, sizeof(body), err, sizeof(err)));
	assert_non_null(strstr(err, "invalid JSON"));
}

static void test_error_body(void **state)
{
	(void)state;
	json_t *e = gd_json_error("bad_request", "field '%s' must be %d", "x", 3);
	assert_non_null(e);
	assert_int_equal(json_object_size(e), 1);
	json_t *inner = json_object_get(e, "error");
	assert_int_equal(json_object_size(inner), 2);
	assert_string_equal(json_string_value(json_object_get(inner, "code")), "bad_request");
	assert_string_equal(json_string_value(json_object_get(inner, "message")),
	                    "field 'x' must be 3");
	char *text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
	    text, "{\"error\":{\"code\":\"bad_request\",\"message\":\"field 'x' must be 3\"}}");
	free(text);
	json_decref(e);
	/* Messages that quote user input stay valid JSON. */
	e = gd_json_error("not_found", "no such resource: %s", "/api/\"x\"\n");
	text = json_dumps(e, JSON_COMPACT);
	json_t *back = json_loads(text, 0, NULL);
	assert_non_null(back);
	json_decref(back);
	free(text);
	json_decref(e);
}

static void expect_text(const char *in, size_t len, const char *out, size_t used_expected)
{
	size_t used = 0;
	json_t *s = gd_json_text(in, len, &used);
	assert_non_null(s);
	assert_int_equal(json_string_length(s), strlen(out));
	assert_memory_equal(json_string_value(s), out, strlen(out));
	assert_int_equal(used, used_expected);
	json_decref(s);
}

/* Console bytes as JSON text: valid UTF-8 kept, invalid replaced, a cut character held back. */
static void test_text(void **state)
{
	(void)state;
	expect_text("login: ", 7, "login: ", 7);
	expect_text("gr\xc3\xbc\xc3\x9f", 6, "gr\xc3\xbc\xc3\x9f", 6);
	expect_text("a\xff"
	            "b",
	            3,
	            "a\xef\xbf\xbd"
	            "b",
	            3);                                                            /* not UTF-8 */
	expect_text("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd", 2);                 /* overlong */
	expect_text("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 3); /* surrogate */
	expect_text("ok \xe2\x82", 5, "ok ", 3); /* euro sign, cut */
	expect_text("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80", 4);
	size_t used;
	json_t *nul = gd_json_text("a\0b", 3, &used);
	assert_int_equal(json_string_length(nul), 3);
	assert_memory_equal(json_string_value(nul), "a\0b", 3);
	json_decref(nul);
}

/* Nesting up to GD_JSON_DEPTH_MAX is taken; one level more is refused before jansson sees it. */
static void test_depth(void **state)
{
	(void)state;
	char body[4 * GD_JSON_DEPTH_MAX + 64], err[256];
	for (int levels = GD_JSON_DEPTH_MAX; levels <= GD_JSON_DEPTH_MAX + 1; levels++) {
		size_t n = 0;
		n += (size_t)sprintf(body + n, "{\"a\":");
		for (int i = 1; i < levels; i++)
			body[n++] = '[';
		body[n++] = '1';
		for (int i = 1; i < levels; i++)
			body[n++] = ']';
		body[n++] = '}';
		err[0] = '\0';
		json_t *obj = gd_json_parse_object(body, n, err, sizeof(err));
		if (levels == GD_JSON_DEPTH_MAX) {
			assert_non_null(obj);
			json_decref(obj);
		} else {
			assert_null(obj);
			assert_non_null(strstr(err, "nested deeper than 32 levels"));
			assert_non_null(strstr(err, "line 1, column 37"));
		}
	}
	/* Brackets inside strings (escaped quotes too) do not count. */
	char strings[8192];
	size_t n = (size_t)sprintf(strings, "{\"s\": \"\\\"");
	for (int i = 0; i < 2000; i++)
		strings[n++] = i % 2 ? '{' : '[';
	n += (size_t)sprintf(strings + n, "\", \"t\": [[{}]]}");
	json_t *obj = gd_json_parse_object(strings, n, err, sizeof(err));
	assert_non_null(obj);
	json_decref(obj);
	/* 1000 levels, the rest of the body never looked at. */
	static char deep[2100];
	memset(deep, '[', 1000);
	memset(deep + 1000, ']', 1000);
	expect_parse_error(deep, "nested deeper than 32 levels");
	expect_parse_error("{\"a\":\n [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	                   "line 2, column 33: nested");
}

/* What jansson refuses by default, and still must: NUL escapes, bad UTF-8, big numbers. */
static void test_hostile_values(void **state)
{
	(void)state;
	expect_parse_error("{\"a\": \"us\\u0000\"}", "\\u0000 is not allowed");
	expect_parse_error("{\"a\\u0000\": 1}", "NUL byte in object key");
	expect_parse_error("{\"a\": \"\xff\"}", "unable to decode byte 0xff");
	expect_parse_error("{\"a\": \"\xc0\xae\"}", "unable to decode byte 0xc0");
	expect_parse_error("{\"a\": \"\xed\xa0\x80\"}", "unable to decode byte 0xed");
	expect_parse_error("{\"a\": \"\\ud800\"}", "invalid Unicode");
	expect_parse_error("{\"a\": 1e400}", "real number overflow");
	expect_parse_error("{\"a\": 18446744073709551616}", "too big integer");
	expect_parse_error("{\"a\": -9223372036854775809}", "too big negative integer");
	expect_parse_error("{\"a\": 1, \"b\": {\"c\": 1, \"c\": 2}}", "duplicate object key");
	expect_parse_error("{}{}", "end of file expected");
	char err[256] = "";
	assert_null(gd_json_parse_object("{}\0", 3, err, sizeof(err)));
	assert_non_null(strstr(err, "end of file expected"));
	/* Errors inside a member name it. */
	expect_parse_error("{\"layout\": \"us\", \"pacing_ms\": 1e400}",
	                   "column 35, in 'pacing_ms': real number overflow");
	expect_parse_error("{\"action\": \"\xff\"}", "in 'action': unable to decode byte 0xff");
	expect_parse_error("{\"keys\": [\"a\", \"b\\u0000\"]}",
	                   "in 'keys[1]': \\u0000 is not allowed");
	expect_parse_error("{\"a\": {\"b\": [1, {\"c\": 99999999999999999999}]}}",
	                   "in 'a.b[1].c': too big integer");
	expect_parse_error("{\"a\": 1, \"a\": 2}", "in 'a': duplicate object key");
	expect_parse_error("{\"a\": 1, \"b\\u0000\": 2}",
	                   "column 18, in 'b\\u0000': NUL byte in object key");
	expect_parse_error("{\"a\": \"x\"} 1", "column 12: end of file expected");
	expect_parse_error("true", "expected a JSON object, got true");
	expect_parse_error("null", "expected a JSON object, got null");
	expect_parse_error("1.5", "expected a JSON object, got a real number");
}

static json_t *object(const char *text)
{
	json_t *obj = json_loads(text, 0, NULL);
	assert_non_null(obj);
	return obj;
}

static void expect_fields_error(const char *body, const char *what)
{
	const char *s = NULL;
	json_int_t i = -1;
	bool b = false;
	json_t *a = NULL;
	const struct gd_json_field fields[] = {
	    {"name", GD_JSON_STRING, true, 1, 8, &s},
	    {"count", GD_JSON_INTEGER, false, 0, 1000, &i},
	    {"flag", GD_JSON_BOOLEAN, false, 0, 0, &b},
	    {"list", GD_JSON_ARRAY, false, 0, 0, &a},
	};
	json_t *obj = object(body);
	char err[256] = "";
	int rc = gd_json_fields(obj, fields, 4, err, sizeof(err));
	json_decref(obj);
	if (rc != -1 || strstr(err, what) == NULL)
		fail_msg("body '%s': got %d \"%s\", expected \"%s\"", body, rc, err, what);
}

/* Members checked by name, kind and range, each message naming the field. */
static void test_fields(void **state)
{
	(void)state;
	const char *s = NULL;
	json_int_t i = -1;
	bool b = false;
	json_t *a = NULL;
	const struct gd_json_field fields[] = {
	    {"name", GD_JSON_STRING, true, 1, 8, &s},
	    {"count", GD_JSON_INTEGER, false, 0, 1000, &i},
	    {"flag", GD_JSON_BOOLEAN, false, 0, 0, &b},
	    {"list", GD_JSON_ARRAY, false, 0, 0, &a},
	};
	char err[256] = "";
	json_t *obj = object("{\"name\": \"x\", \"count\": 1000, \"flag\": true, \"list\": []}");
	assert_int_equal(gd_json_fields(obj, fields, 4, err, sizeof(err)), 0);
	assert_string_equal(s, "x");
	assert_int_equal(i, 1000);
	assert_true(b);
	assert_true(json_is_array(a));
	json_decref(obj);
	/* Absent optional members leave OUT as it was. */
	i = 20;
	obj = object("{\"name\": \"12345678\"}");
	assert_int_equal(gd_json_fields(obj, fields, 4, err, sizeof(err)), 0);
	assert_int_equal(i, 20);
	json_decref(obj);

	expect_fields_error("{}", "'name' is required");
	expect_fields_error("{\"name\": \"x\", \"nmae\": 1}",
	                    "unknown field 'nmae' (expected: name, count, flag, list)");
	expect_fields_error("{\"name\": 1}", "'name' must be a string, got an integer");
	expect_fields_error("{\"name\": null}", "'name' must be a string, got null");
	expect_fields_error("{\"name\": [\"x\"]}", "'name' must be a string, got an array");
	expect_fields_error("{\"name\": {}}", "'name' must be a string, got an object");
	expect_fields_error("{\"name\": \"\"}", "'name' must not be empty");
	expect_fields_error("{\"name\": \"123456789\"}", "'name' must be at most 8 bytes, got 9");
	expect_fields_error("{\"name\": \"x\", \"count\": \"5\"}",
	                    "'count' must be an integer, got a string");
	expect_fields_error("{\"name\": \"x\", \"count\": 1.5}",
	                    "'count' must be an integer, got a real number");
	expect_fields_error("{\"name\": \"x\", \"count\": 1.0}", "got a real number");
	expect_fields_error("{\"name\": \"x\", \"count\": true}", "got true");
	expect_fields_error("{\"name\": \"x\", \"count\": -1}",
	                    "'count' must be from 0 to 1000, got -1");
	expect_fields_error("{\"name\": \"x\", \"count\": 9223372036854775807}",
	                    "got 9223372036854775807");
	expect_fields_error("{\"name\": \"x\", \"flag\": \"true\"}",
	                    "'flag' must be true or false, got a string");
	expect_fields_error("{\"name\": \"x\", \"flag\": 1}", "'flag' must be true or false");
	expect_fields_error("{\"name\": \"x\", \"list\": {}}",
	                    "'list' must be an array, got an object");
}

/* Error messages that quote bytes which are not UTF-8, or a character cut short, still encode. */
static void test_error_quotes_bad_bytes(void **state)
{
	(void)state;
	json_t *e = gd_json_error("not_found", "no image named '%s'",
	                          "a\xff\xc0\xaf"
	                          "b");
	assert_non_null(e);
	const char *m = json_string_value(json_object_get(json_object_get(e, "error"), "message"));
	assert_string_equal(m, "no image named 'a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                       "b'");
	json_decref(e);
	e = gd_json_error("bad_request", "unknown action '%.3s'",
	                  "\xc3\xa9\xc3\xa9"); /* "é" + cut */
	assert_non_null(e);
	m = json_string_value(json_object_get(json_object_get(e, "error"), "message"));
	assert_string_equal(m, "unknown action '\xc3\xa9\xef\xbf\xbd'");
	json_decref(e);
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(gd_json_utf8_valid("", 0));
	assert_true(gd_json_utf8_valid("d\xc3\xa9"
	                               "bian.iso",
	                               11));
	assert_true(gd_json_utf8_valid("\xf0\x9f\x98\x80", 4));
	assert_false(gd_json_utf8_valid("\xff", 1));
	assert_false(gd_json_utf8_valid("\xc0\xae", 2));         /* overlong '.' */
	assert_false(gd_json_utf8_valid("\xe0\x80\xae", 3));     /* overlong '.' */
	assert_false(gd_json_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(gd_json_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_false(gd_json_utf8_valid("ok\xe2\x82", 4));       /* cut */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_object),
	    cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_binary_body),
	    cmocka_unit_test(test_error_body),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_hostile_values),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_error_quotes_bad_bytes),
	    cmocka_unit_test(test_utf8_valid),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
