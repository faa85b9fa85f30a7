/* log: one line per event on stderr, with a level and a module prefix. */
#ifndef GD_LOG_H
#define GD_LOG_H

enum gd_log_level { GD_LOG_ERROR, GD_LOG_WARN, GD_LOG_INFO, GD_LOG_DEBUG };

/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int gd_log_level_parse(const char *name);
void gd_log_set_level(enum gd_log_level level);
enum gd_log_level gd_log_get_level(void);

void gd_log(enum gd_log_level level, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define GD_LOG_ERROR(...) gd_log(GD_LOG_ERROR, LOG_PREFIX, __VA_ARGS__)
#define GD_LOG_WARN(...)  gd_log(GD_LOG_WARN, LOG_PREFIX, __VA_ARGS__)
#define GD_LOG_INFO(...)  gd_log(GD_LOG_INFO, LOG_PREFIX, __VA_ARGS__)
#define GD_LOG_DEBUG(...) gd_log(GD_LOG_DEBUG, LOG_PREFIX, __VA_ARGS__)

#endif
