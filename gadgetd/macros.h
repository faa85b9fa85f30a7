/*
 * macros: the named macros: a built-in library (Ctrl+Alt+Del, BIOS setup and boot-menu keys
 * per vendor, GRUB, SysRq) and the user's saved macros, one JSON file each in a directory.
 */
#ifndef GD_MACROS_H
#define GD_MACROS_H

#include <jansson.h>
#include <stddef.h>

struct gd_macros;

/* Opens (creating it if needed) the directory of saved macros. Returns 0 or -errno. */
int gd_macros_open(struct gd_macros **out, const char *dir, char *err, size_t errlen);
void gd_macros_close(struct gd_macros *macros);

/* 1-64 of [a-z0-9._-], not starting with '.' or '-'. */
int gd_macros_name_valid(const char *name);

/* [{"name", "description", "builtin"}...], built-in ones first. */
json_t *gd_macros_list(struct gd_macros *macros);
/* {"name", "macro", "description", "builtin"}, or NULL if there is no such macro. */
json_t *gd_macros_get(struct gd_macros *macros, const char *name);

/*
 * Saves a macro after checking that TEXT parses. Returns 0, -EINVAL (bad name or macro;
 * the parser's message in ERR), -EPERM (a built-in name) or another -errno.
 */
int gd_macros_put(struct gd_macros *macros, const char *name, const char *text,
                  const char *description, char *err, size_t errlen);
/* Returns 0, -ENOENT, or -EPERM for a built-in macro. */
int gd_macros_delete(struct gd_macros *macros, const char *name);

#endif
