/* ring: a byte ring buffer addressed by absolute stream offsets, for the console's recent output.
 */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int gd_ring_init(struct gd_ring *ring, size_t cap)
{
	ring->data = malloc(cap);
	ring->cap = cap;
	ring->end = 0;
	return ring->data ? 0 : -ENOMEM;
}

void gd_ring_free(struct gd_ring *ring)
{
	free(ring->data);
	ring->data = NULL;
}

uint64_t gd_ring_start(const struct gd_ring *ring)
{
	return ring->end > ring->cap ? ring->end - ring->cap : 0;
}

void gd_ring_write(struct gd_ring *ring, const void *data, size_t len)
{
	const uint8_t *p = data;
	if (len > ring->cap) {
		p += len - ring->cap;
		ring->end += len - ring->cap;
		len = ring->cap;
	}
	size_t at = (size_t)(ring->end % ring->cap);
	size_t first = len < ring->cap - at ? len : ring->cap - at;
	memcpy(ring->data + at, p, first);
	memcpy(ring->data, p + first, len - first);
	ring->end += len;
}

size_t gd_ring_read(const struct gd_ring *ring, uint64_t *offset, void *buf, size_t max,
                    uint64_t *lost)
{
	uint64_t start = gd_ring_start(ring);
	*lost = 0;
	if (*offset < start) {
		*lost = start - *offset;
		*offset = start;
	}
	if (*offset >= ring->end)
		return 0;
	uint64_t avail = ring->end - *offset;
	size_t len = avail < max ? (size_t)avail : max;
	size_t at = (size_t)(*offset % ring->cap);
	size_t first = len < ring->cap - at ? len : ring->cap - at;
	memcpy(buf, ring->data + at, first);
	memcpy((uint8_t *)buf + first, ring->data, len - first);
	*offset += len;
	return len;
}
