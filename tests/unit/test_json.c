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
	expect_parse_error("42", "expected a JSON object, got a number");
	expect_parse_error("null", "expected a JSON object, got a literal");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text),          cmocka_unit_test(test_object),
	    cmocka_unit_test(test_not_an_object), cmocka_unit_test(test_binary_body),
	    cmocka_unit_test(test_error_body),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
