/*
 * docstore: a directory of named JSON documents (a user's saved scripts): one NAME.json file
 * each, written atomically, names that are safe as file names.
 */
#ifndef GD_DOCSTORE_H
#define GD_DOCSTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define GD_DOCSTORE_NAME_MAX 64

struct gd_docstore;

/* Whether NAME is 1-64 of a-z 0-9 . _ -, not starting with '.' or '-'. */
bool gd_docstore_name_valid(const char *name);

/* Opens DIR (creating it, 0750). Returns 0 or -errno with ERR. */
int gd_docstore_open(struct gd_docstore **out, const char *dir, char *err, size_t errlen);
void gd_docstore_close(struct gd_docstore *store);

/* The document NAME (a new reference), or NULL if there is none or it does not parse. */
json_t *gd_docstore_get(struct gd_docstore *store, const char *name);
/* Saves DOC as NAME, replacing it; *CREATED says whether it is new. Returns 0 or -errno. */
int gd_docstore_put(struct gd_docstore *store, const char *name, json_t *doc, bool *created);
/* Returns 0, or -ENOENT. */
int gd_docstore_delete(struct gd_docstore *store, const char *name);
/* The names held, sorted. */
json_t *gd_docstore_names(struct gd_docstore *store);

#endif
