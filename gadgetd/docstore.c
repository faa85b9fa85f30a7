/*
 * docstore: a directory of named JSON documents: one NAME.json file each, written atomically,
 * names that are safe as file names.
 */
#include "docstore.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

struct gd_docstore {
	pthread_mutex_t lock;
	char dir[PATH_MAX];
};

bool gd_docstore_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > GD_DOCSTORE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '_' || *p == '-'))
			return false;
	return true;
}

int gd_docstore_open(struct gd_docstore **out, const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	struct gd_docstore *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	*out = s;
	return 0;
}

void gd_docstore_close(struct gd_docstore *store)
{
	if (store == NULL)
		return;
	pthread_mutex_destroy(&store->lock);
	free(store);
}

static void doc_path(const struct gd_docstore *s, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.json", s->dir, name);
}

json_t *gd_docstore_get(struct gd_docstore *store, const char *name)
{
	if (!gd_docstore_name_valid(name))
		return NULL;
	char path[PATH_MAX + 80];
	doc_path(store, name, path, sizeof(path));
	pthread_mutex_lock(&store->lock);
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	pthread_mutex_unlock(&store->lock);
	return doc;
}

int gd_docstore_put(struct gd_docstore *store, const char *name, json_t *doc, bool *created)
{
	if (!gd_docstore_name_valid(name))
		return -EINVAL;
	char path[PATH_MAX + 80];
	doc_path(store, name, path, sizeof(path));
	pthread_mutex_lock(&store->lock);
	*created = access(path, F_OK) != 0;
	int rc = gd_json_save(path, doc, 0640);
	pthread_mutex_unlock(&store->lock);
	return rc;
}

int gd_docstore_delete(struct gd_docstore *store, const char *name)
{
	if (!gd_docstore_name_valid(name))
		return -ENOENT;
	char path[PATH_MAX + 80];
	doc_path(store, name, path, sizeof(path));
	pthread_mutex_lock(&store->lock);
	int rc = unlink(path) < 0 ? -errno : 0;
	pthread_mutex_unlock(&store->lock);
	return rc;
}

json_t *gd_docstore_names(struct gd_docstore *store)
{
	json_t *names = json_array();
	struct dirent **entries;
	pthread_mutex_lock(&store->lock);
	int n = scandir(store->dir, &entries, NULL, alphasort);
	pthread_mutex_unlock(&store->lock);
	for (int i = 0; i < n; i++) {
		char name[GD_DOCSTORE_NAME_MAX + 8];
		size_t len = strlen(entries[i]->d_name);
		if (len > 5 && len - 5 <= GD_DOCSTORE_NAME_MAX &&
		    strcmp(entries[i]->d_name + len - 5, ".json") == 0) {
			snprintf(name, sizeof(name), "%.*s", (int)(len - 5), entries[i]->d_name);
			if (gd_docstore_name_valid(name))
				json_array_append_new(names, json_string(name));
		}
		free(entries[i]);
	}
	if (n >= 0)
		free(entries);
	return names;
}
