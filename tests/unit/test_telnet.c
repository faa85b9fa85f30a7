/* Unit tests of telnet: negotiation, option answers, IAC escaping, NVT CRs, raw mode. */
#include "unit.h"

#include "telnet.h"

#define IAC      255
#define DONT     254
#define DO       253
#define WONT     252
#define WILL     251
#define SB       250
#define GA       249
#define AYT      246
#define NOP      241
#define SE       240
#define BINARY   0
#define ECHO     1
#define SGA      3
#define TTYPE    24
#define NAWS     31
#define LINEMODE 34

/* The session's output must be exactly WANT; it is then consumed. */
static void expect_output(struct gd_telnet *t, const uint8_t *want, size_t len)
{
	struct gd_telnet_buf *out = gd_telnet_output(t);
	assert_int_equal(out->len, len);
	if (len != 0)
		assert_memory_equal(out->data, want, len);
	gd_telnet_buf_consume(out, out->len);
}

static void expect_buf(struct gd_telnet_buf *buf, const void *want, size_t len)
{
	assert_int_equal(buf->len, len);
	if (len != 0)
		assert_memory_equal(buf->data, want, len);
}

static void feed(struct gd_telnet *t, const void *data, size_t len, struct gd_telnet_buf *in)
{
	assert_int_equal(gd_telnet_from_client(t, data, len, in), 0);
}

/* A telnet session past its initial negotiation. */
static struct gd_telnet *session(void)
{
	struct gd_telnet *t = gd_telnet_new(true);
	assert_non_null(t);
	gd_telnet_buf_consume(gd_telnet_output(t), gd_telnet_output(t)->len);
	return t;
}

/* The client sends IAC CMD OPT; the session answers IAC REPLY OPT (nothing if REPLY is 0) and
 * delivers no data. */
static void expect_answer(struct gd_telnet *t, uint8_t cmd, uint8_t opt, uint8_t reply)
{
	struct gd_telnet_buf in = {0};
	const uint8_t ask[] = {IAC, cmd, opt};
	const uint8_t want[] = {IAC, reply, opt};
	feed(t, ask, sizeof(ask), &in);
	expect_output(t, want, reply != 0 ? sizeof(want) : 0);
	assert_int_equal(in.len, 0);
	gd_telnet_buf_free(&in);
}

static void test_initial_negotiation(void **state)
{
	(void)state;
	struct gd_telnet *t = gd_telnet_new(true);
	assert_non_null(t);
	const uint8_t want[] = {IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, SGA};
	expect_output(t, want, sizeof(want));
	gd_telnet_free(t);
}

/* The client's confirmations (and repeats of them) are not answered again. */
static void test_confirmations_end_negotiation(void **state)
{
	(void)state;
	struct gd_telnet *t = session();
	for (int round = 0; round < 2; round++) {
		expect_answer(t, DO, ECHO, 0);
		expect_answer(t, DO, SGA, 0);
		expect_answer(t, WILL, SGA, 0);
	}
	gd_telnet_free(t);
}

static void test_unsupported_refused(void **state)
{
	(void)state;
	struct gd_telnet *t = session();
	expect_answer(t, WILL, LINEMODE, DONT);
	expect_answer(t, DO, LINEMODE, WONT);
	expect_answer(t, DO, TTYPE, WONT);
	expect_answer(t, WILL, TTYPE, DONT);
	expect_answer(t, DO, NAWS, WONT);
	expect_answer(t, WILL, ECHO, DONT); /* the client must not echo */
	expect_answer(t, DO, 200, WONT);
	/* A refused option asked again is refused again, never accepted. */
	expect_answer(t, WILL, LINEMODE, DONT);
	gd_telnet_free(t);
}

static void test_binary_and_naws_accepted(void **state)
{
	(void)state;
	struct gd_telnet *t = session();
	expect_answer(t, DO, BINARY, WILL);
	expect_answer(t, WILL, BINARY, DO);
	expect_answer(t, WILL, NAWS, DO);
	expect_answer(t, DO, BINARY, 0);
	/* The client may turn off what it enabled: acknowledged once. */
	expect_answer(t, WONT, NAWS, DONT);
	expect_answer(t, WONT, NAWS, 0);
	gd_telnet_free(t);
}

static void test_iac_escaped_to_client(void **state)
{
	(void)state;
	struct gd_telnet *t = session();
	const uint8_t data[] = {'a', 0xff, 'b', 0xff, 0xff, 0};
	const uint8_t want[] = {'a', 0xff, 0xff, 'b', 0xff, 0xff, 0xff, 0xff, 0};
	assert_int_equal(gd_telnet_to_client(t, data, sizeof(data)), 0);
	expect_output(t, want, sizeof(want));
	assert_int_equal(gd_telnet_to_client(t, NULL, 0), 0);
	expect_output(t, NULL, 0);
	gd_telnet_free(t);
}

static void test_iac_iac_from_client(void **state)
{
	(void)state;
	struct gd_telnet *t = session();
	struct gd_telnet_buf in = {0};
	const uint8_t data[] = {'x', IAC, IAC, 'y', IAC, IAC, IAC, IAC};
	feed(t, data, sizeof(data), &in);
	expect_buf(&in, "x\xffy\xff\xff", 5);
	expect_output(t, NULL, 0);
	gd_telnet_buf_free(&in);
	gd_telnet_free(t);
}

/* Commands, escapes, subnegotiations and NVT CRs, every way of cutting them in two. */
static const uint8_t mixed[] = {'a',  IAC,  DO,  TTYPE, 'b', IAC,  IAC, 'c', IAC,  SB,  NAWS,
                                0,    IAC,  IAC, 0,     24,  IAC,  SE,  'd', '\r', 0,   'e',
                                '\r', '\n', IAC, NOP,   'f', '\r', IAC, AYT, 0,    IAC, WILL};
static const char mixed_data[] = "ab\xff"
                                 "cd\re\rf\r";
static const uint8_t mixed_answer[] = {IAC, WONT, TTYPE};

static void test_split_anywhere(void **state)
{
	(void)state;
	for (size_t cut = 0; cut <= sizeof(mixed); cut++) {
		struct gd_telnet *t = session();
		struct gd_telnet_buf in = {0};
		feed(t, mixed, cut, &in);
		feed(t, mixed + cut, sizeof(mixed) - cut, &in);
		if (in.len != strlen(mixed_data) || memcmp(in.data, mixed_data, in.len) != 0)
			fail_msg("cut at %zu: %zu bytes of data", cut, in.len);
		expect_output(t, mixed_answer, sizeof(mixed_answer));
		/* The trailing IAC WILL is still pending: its option completes it. */
		const uint8_t rest[] = {LINEMODE};
		feed(t, rest, sizeof(rest), &in);
		const uint8_t refuse[] = {IAC, DONT, LINEMODE};
		expect_output(t, refuse, sizeof(refuse));
		assert_int_equal(in.len, strlen(mixed_data));
		gd_telnet_buf_free(&in);
		gd_telnet_free(t);
	}
}

static void test_byte_at_a_time(void **state)
{
	(void)state;
	struct gd_telnet *t = session();
	struct gd_telnet_buf in = {0};
	for (size_t i = 0; i < sizeof(mixed); i++)
		feed(t, mixed + i, 1, &in);
	expect_buf(&in, mixed_data, strlen(mixed_data));
	expect_output(t, mixed_answer, sizeof(mixed_answer));
	gd_telnet_buf_free(&in);
	gd_telnet_free(t);
}

static void test_nvt_cr(void **state)
{
	(void)state;
	struct gd_telnet *t = session();
	struct gd_telnet_buf in = {0};
	const char text[] = "a\r\0b\r\nc\r\r\nd\ne\0f\n\r\rg\r";
	feed(t, text, sizeof(text) - 1, &in);
	expect_buf(&in, "a\rb\rc\r\rd\ne\0f\n\r\rg\r", 17);
	/* The CR ended the last call: the LF starting the next one is still dropped. */
	feed(t, "\nh\r", 3, &in);
	feed(t, "\0", 1, &in);
	feed(t, "\0", 1, &in);
	expect_buf(&in, "a\rb\rc\r\rd\ne\0f\n\r\rg\rh\r\0", 20);
	expect_output(t, NULL, 0);
	gd_telnet_buf_free(&in);
	gd_telnet_free(t);
}

/* RFC 856: a client in BINARY sends CR as it is; its NUL and LF are data. */
static void test_binary_client_keeps_cr(void **state)
{
	(void)state;
	struct gd_telnet *t = session();
	struct gd_telnet_buf in = {0};
	expect_answer(t, WILL, BINARY, DO);
	feed(t, "a\r\0b\r\n", 6, &in);
	expect_buf(&in, "a\r\0b\r\n", 6);
	gd_telnet_buf_consume(&in, in.len);
	expect_answer(t, WONT, BINARY, DONT);
	feed(t, "a\r\0b\r\n", 6, &in);
	expect_buf(&in, "a\rb\r", 4);
	gd_telnet_buf_free(&in);
	gd_telnet_free(t);
}

static void test_subnegotiation_swallowed(void **state)
{
	(void)state;
	struct gd_telnet *t = session();
	struct gd_telnet_buf in = {0};
	expect_answer(t, WILL, NAWS, DO);
	const uint8_t data[] = {'<', IAC, SB,  NAWS, 0,     80, 0,   24,  IAC, SE,
	                        IAC, GA,  IAC, SB,   TTYPE, 0,  'x', IAC, SE,  '>'};
	feed(t, data, sizeof(data), &in);
	expect_buf(&in, "<>", 2);
	expect_output(t, NULL, 0);
	gd_telnet_buf_free(&in);
	gd_telnet_free(t);
}

static void test_raw_mode(void **state)
{
	(void)state;
	struct gd_telnet *t = gd_telnet_new(false);
	assert_non_null(t);
	expect_output(t, NULL, 0);
	uint8_t all[512];
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] =
		    (uint8_t)(i * 7 % 256); /* every value, IAC and CR NUL/LF pairs among them */
	all[100] = '\r';
	all[101] = '\0';
	all[200] = '\r';
	all[201] = '\n';
	struct gd_telnet_buf in = {0};
	feed(t, all, sizeof(all), &in);
	expect_buf(&in, all, sizeof(all));
	assert_int_equal(gd_telnet_to_client(t, all, sizeof(all)), 0);
	expect_output(t, all, sizeof(all));
	gd_telnet_buf_free(&in);
	gd_telnet_free(t);
}

static void test_buffer_growth_and_consume(void **state)
{
	(void)state;
	struct gd_telnet *t = gd_telnet_new(false);
	assert_non_null(t);
	uint8_t chunk[1000];
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	for (int i = 0; i < 100; i++)
		assert_int_equal(gd_telnet_to_client(t, chunk, sizeof(chunk)), 0);
	struct gd_telnet_buf *out = gd_telnet_output(t);
	assert_int_equal(out->len, 100 * sizeof(chunk));
	assert_true(out->cap >= out->len);
	gd_telnet_buf_consume(out, 99 * sizeof(chunk) + 10);
	assert_int_equal(out->len, sizeof(chunk) - 10);
	assert_memory_equal(out->data, chunk + 10, sizeof(chunk) - 10);
	gd_telnet_buf_consume(out, 5000);
	assert_int_equal(out->len, 0);
	gd_telnet_free(t);
	gd_telnet_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_initial_negotiation),
	    cmocka_unit_test(test_confirmations_end_negotiation),
	    cmocka_unit_test(test_unsupported_refused),
	    cmocka_unit_test(test_binary_and_naws_accepted),
	    cmocka_unit_test(test_iac_escaped_to_client),
	    cmocka_unit_test(test_iac_iac_from_client),
	    cmocka_unit_test(test_split_anywhere),
	    cmocka_unit_test(test_byte_at_a_time),
	    cmocka_unit_test(test_nvt_cr),
	    cmocka_unit_test(test_binary_client_keeps_cr),
	    cmocka_unit_test(test_subnegotiation_swallowed),
	    cmocka_unit_test(test_raw_mode),
	    cmocka_unit_test(test_buffer_growth_and_consume),
	};
	return cmocka_run_group_tests_name("telnet", tests, NULL, NULL);
}
