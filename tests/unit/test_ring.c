/* Unit tests of ring: offsets that keep counting, wraparound, reads of what was overwritten. */
#include "ring.h"

#include "unit.h"

static void test_offsets_and_wrap(void **state)
{
	(void)state;
	struct gd_ring r;
	assert_int_equal(gd_ring_init(&r, 8), 0);
	gd_ring_write(&r, "abcdef", 6);
	char buf[16];
	uint64_t off = 2, lost = 99;
	assert_int_equal(gd_ring_read(&r, &off, buf, sizeof(buf), &lost), 4);
	assert_memory_equal(buf, "cdef", 4);
	assert_int_equal(off, 6);
	assert_int_equal(lost, 0);
	gd_ring_write(&r, "ghijk", 5); /* wraps: holds "defghijk" */
	assert_int_equal(gd_ring_start(&r), 3);
	assert_int_equal(gd_ring_read(&r, &off, buf, sizeof(buf), &lost), 5);
	assert_memory_equal(buf, "ghijk", 5);
	off = 0;
	assert_int_equal(gd_ring_read(&r, &off, buf, sizeof(buf), &lost), 8);
	assert_int_equal(lost, 3);
	assert_memory_equal(buf, "defghijk", 8);
	assert_int_equal(off, 11);
	gd_ring_free(&r);
}

static void test_partial_reads_and_end(void **state)
{
	(void)state;
	struct gd_ring r;
	assert_int_equal(gd_ring_init(&r, 4), 0);
	gd_ring_write(&r, "wxyz", 4);
	gd_ring_write(&r, "12", 2); /* "yz12", start 2, the data wraps inside */
	char buf[4];
	uint64_t off = 2, lost;
	assert_int_equal(gd_ring_read(&r, &off, buf, 3, &lost), 3);
	assert_memory_equal(buf, "yz1", 3);
	assert_int_equal(gd_ring_read(&r, &off, buf, 3, &lost), 1);
	assert_int_equal(buf[0], '2');
	assert_int_equal(gd_ring_read(&r, &off, buf, 3, &lost), 0); /* at the end */
	off = 100;
	assert_int_equal(gd_ring_read(&r, &off, buf, 3, &lost), 0); /* beyond it */
	gd_ring_free(&r);
}

static void test_write_larger_than_ring(void **state)
{
	(void)state;
	struct gd_ring r;
	assert_int_equal(gd_ring_init(&r, 5), 0);
	gd_ring_write(&r, "ab", 2);
	gd_ring_write(&r, "0123456789", 10);
	assert_int_equal(r.end, 12);
	assert_int_equal(gd_ring_start(&r), 7);
	char buf[8];
	uint64_t off = 0, lost;
	assert_int_equal(gd_ring_read(&r, &off, buf, sizeof(buf), &lost), 5);
	assert_int_equal(lost, 7);
	assert_memory_equal(buf, "56789", 5);
	gd_ring_free(&r);
}

/* Many writes of odd sizes: every byte read back is the stream's byte at that offset. */
static void test_stream_matches(void **state)
{
	(void)state;
	struct gd_ring r;
	assert_int_equal(gd_ring_init(&r, 1000), 0);
	uint8_t chunk[777];
	uint64_t written = 0, off = 0;
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(round * 37 % 777) + 1;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)((written + i) * 7 % 251);
		gd_ring_write(&r, chunk, n);
		written += n;
		uint8_t out[1000];
		uint64_t lost;
		size_t got = gd_ring_read(&r, &off, out, sizeof(out), &lost);
		for (size_t i = 0; i < got; i++)
			assert_int_equal(out[i], (uint8_t)((off - got + i) * 7 % 251));
		assert_int_equal(off, written);
	}
	gd_ring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offsets_and_wrap),
	    cmocka_unit_test(test_partial_reads_and_end),
	    cmocka_unit_test(test_write_larger_than_ring),
	    cmocka_unit_test(test_stream_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
