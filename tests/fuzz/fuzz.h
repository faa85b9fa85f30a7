/*
 * fuzz: what the libFuzzer harnesses share. Each harness is one LLVMFuzzerTestOneInput over
 * one parser, linked with only the gadgetd objects it needs (see the Makefile's fuzz targets).
 * An input that breaks an invariant calls FUZZ_CHECK, which aborts: libFuzzer reports it as a
 * crash and keeps the input.
 */
#ifndef GD_FUZZ_H
#define GD_FUZZ_H

#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * A path whose file holds DATA, for code that opens files by name: one memfd per process,
 * emptied and rewritten for each input ("/proc/self/fd/N" opens it again from the start).
 */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("gadgetd-fuzz", MFD_CLOEXEC);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0)
		abort();
	for (size_t off = 0; off < size;) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	return path;
}

/* DATA as a new NUL-terminated string (cut at its first NUL, as C strings from JSON are). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Whether the LEN bytes at S are valid UTF-8 (no overlongs, surrogates, or past U+10FFFF). */
static inline bool fuzz_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = c < 0x80                 ? 1
		           : c >= 0xc2 && c <= 0xdf ? 2
		           : c >= 0xe0 && c <= 0xef ? 3
		           : c >= 0xf0 && c <= 0xf4 ? 4
		                                    : 0;
		if (n == 0 || n > len - i)
			return false;
		unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
		for (size_t k = 1; k < n; k++) {
			unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xbf;
			if (s[i + k] < min || s[i + k] > max)
				return false;
		}
		i += n;
	}
	return true;
}

/* Whether ERR (a message buffer of SIZE bytes) is NUL-terminated, so that it can be printed. */
static inline bool fuzz_terminated(const char *err, size_t size)
{
	return memchr(err, '\0', size) != NULL;
}

/* A new directory for a harness's files into DIR (64 bytes): on tmpfs when there is one. */
static inline void fuzz_scratch_dir(char dir[64])
{
	snprintf(dir, 64, "%s/gadgetd-fuzz-XXXXXX",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

static inline int fuzz_remove_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes DIR and everything in it. */
static inline void fuzz_remove_tree(const char *dir)
{
	nftw(dir, fuzz_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
