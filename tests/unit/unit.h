/* unit: what every unit test includes: cmocka and a scratch directory for files. */
#ifndef GD_UNIT_H
#define GD_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four headers above first. */
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh directory per test binary, removed by unit_scratch_cleanup(). */
static char unit_dir[64];

static inline const char *unit_path(const char *name)
{
	static char path[256];
	if (unit_dir[0] == '\0') {
		snprintf(unit_dir, sizeof(unit_dir), "/tmp/gadgetd-unit-XXXXXX");
		if (mkdtemp(unit_dir) == NULL)
			abort();
	}
	snprintf(path, sizeof(path), "%s/%s", unit_dir, name);
	return path;
}

/* Writes TEXT to the scratch file NAME; returns its path. */
static inline const char *unit_write(const char *name, const char *text)
{
	const char *path = unit_path(name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

static inline void unit_scratch_cleanup(void)
{
	if (unit_dir[0] != '\0') {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", unit_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", unit_dir);
	}
}

#endif
