/* log: one line per event on stderr, with a level and a module prefix. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum gd_log_level current_level = GD_LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

int gd_log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++) {
		if (strcmp(name, level_names[i]) == 0)
			return i;
	}
	return -1;
}

void gd_log_set_level(enum gd_log_level level)
{
	current_level = level;
}

enum gd_log_level gd_log_get_level(void)
{
	return current_level;
}

void gd_log(enum gd_log_level level, const char *prefix, const char *fmt, ...)
{
	if (level > current_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent threads never interleave within a line. */
	fprintf(stderr, "%-5s %s%s\n", level_names[level], prefix, line);
}
