/* ring: a byte ring buffer addressed by absolute stream offsets, for the console's recent output.
 */
#ifndef GD_RING_H
#define GD_RING_H

#include <stddef.h>
#include <stdint.h>

/* Holds the last CAP bytes of a stream; offsets count every byte ever written. */
struct gd_ring {
	uint8_t *data;
	size_t cap;
	uint64_t end; /* offset of the next byte to be written */
};

/* 0, or -ENOMEM. */
int gd_ring_init(struct gd_ring *ring, size_t cap);
void gd_ring_free(struct gd_ring *ring);

/* The offset of the oldest byte still held. */
uint64_t gd_ring_start(const struct gd_ring *ring);

/* Appends LEN bytes; when more than CAP, only the last CAP are kept. */
void gd_ring_write(struct gd_ring *ring, const void *data, size_t len);

/*
 * Copies up to MAX bytes from *OFFSET on into BUF and advances *OFFSET past them. An offset
 * older than what is held skips to the oldest byte and reports the bytes skipped in *LOST; one
 * beyond the end copies nothing. Returns the bytes copied.
 */
size_t gd_ring_read(const struct gd_ring *ring, uint64_t *offset, void *buf, size_t max,
                    uint64_t *lost);

#endif
