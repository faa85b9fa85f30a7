/* webui: the browser panel's static files: which file a URL names, its type and encoding. */
#ifndef GD_WEBUI_H
#define GD_WEBUI_H

#include <stdbool.h>
#include <stdint.h>

/* What the page may load and run: its own scripts only, nothing from elsewhere. Inline style
 * is allowed because the terminal library sets its colours and sizes in <style> elements. */
#define GD_WEBUI_CSP                                                                               \
	"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                \
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; "         \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct gd_webui_file {
	int fd;
	uint64_t size;
	const char *type; /* Content-Type */
	bool gzip;        /* FD is the precompressed NAME.gz */
	char etag[64];    /* a strong validator: size and modification time of what FD holds */
};

/* Whether URL is the panel's rather than an API's (anything outside /api and /redfish). */
bool gd_webui_owns(const char *url);

/*
 * Opens the file URL names under ROOT: "/" and a trailing "/" mean index.html; each segment
 * 1-128 of [A-Za-z0-9._-], not starting with '.'; a regular file only. With ACCEPT_GZIP and a
 * NAME.gz beside it, that one. Returns 0 (OUT->fd to close), -EINVAL for a URL that cannot
 * name a panel file, -ENOENT when there is none.
 */
int gd_webui_open(const char *root, const char *url, bool accept_gzip, struct gd_webui_file *out);

/* Whether an Accept-Encoding header value takes gzip (not "gzip;q=0"). */
bool gd_webui_accepts_gzip(const char *accept_encoding);

#endif
