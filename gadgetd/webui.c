/* webui: the browser panel's static files: which file a URL names, its type and encoding. */
#include "webui.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEGMENT_MAX 128

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static bool under(const char *url, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(url, prefix, n) == 0 && (url[n] == '\0' || url[n] == '/');
}

bool gd_webui_owns(const char *url)
{
	return url[0] == '/' && !under(url, "/api") && !under(url, "/redfish");
}

static const char *type_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* Whether every segment of the relative PATH is a plain name. */
static bool plain_path(const char *path)
{
	size_t seg = 0;
	for (const char *p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			if (seg == 0 || seg > SEGMENT_MAX || p[-(ptrdiff_t)seg] == '.')
				return false;
			if (*p == '\0')
				return true;
			seg = 0;
			continue;
		}
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		          (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-';
		if (!ok)
			return false;
		seg++;
	}
}

static int open_regular(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int gd_webui_open(const char *root, const char *url, bool accept_gzip, struct gd_webui_file *out)
{
	char rel[PATH_MAX];
	const char *tail = url[0] == '/' ? url + 1 : url;
	size_t len = strlen(tail);
	bool dir = len == 0 || tail[len - 1] == '/';
	if (snprintf(rel, sizeof(rel), "%s%s", tail, dir ? "index.html" : "") >= (int)sizeof(rel) ||
	    !plain_path(rel))
		return -EINVAL;
	char path[PATH_MAX + 8], packed[PATH_MAX + 16];
	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path) - 3)
		return -EINVAL;
	snprintf(packed, sizeof(packed), "%s.gz", path);
	struct stat st;
	int fd = accept_gzip ? open_regular(packed, &st) : -ENOENT;
	out->gzip = fd >= 0;
	if (fd < 0 && (fd = open_regular(path, &st)) < 0)
		return fd;
	out->fd = fd;
	out->size = (uint64_t)st.st_size;
	out->type = type_of(rel);
	snprintf(out->etag, sizeof(out->etag), "\"%" PRIx64 "-%" PRIx64 "%s\"", out->size,
	         (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec,
	         out->gzip ? "-gz" : "");
	return 0;
}

bool gd_webui_accepts_gzip(const char *accept_encoding)
{
	if (accept_encoding == NULL)
		return false;
	for (const char *p = accept_encoding; (p = strcasestr(p, "gzip")) != NULL; p += 4) {
		bool starts = p == accept_encoding || p[-1] == ',' || p[-1] == ' ';
		if (!starts)
			continue;
		const char *q = p + 4;
		while (*q == ' ')
			q++;
		if (*q == '\0' || *q == ',')
			return true;
		if (*q != ';')
			continue;
		const char *qv = strstr(q, "q=");
		const char *end = strchr(q, ',');
		if (qv == NULL || (end != NULL && qv > end))
			return true;
		return strtod(qv + 2, NULL) > 0;
	}
	return false;
}
