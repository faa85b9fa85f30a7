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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_object),
	    cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_binary_body),
	    cmocka_unit_test(test_error_body),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
