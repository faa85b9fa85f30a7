/*
 * Fuzzes the browser panel's URL-to-file mapping (gd_webui_open), which stands between any
 * URL outside /api and a file under the panel's directory. The input is the URL as
 * libmicrohttpd hands it over (already percent-decoded). The directory holds index.html, a
 * subdirectory with a file, a .gz copy, a hidden file and, beside it, a secret outside it.
 * Invariants: an opened file is one of the panel's (never the hidden one, never the secret);
 * a URL with a segment that is empty, starts with '.', or has a byte other than
 * [A-Za-z0-9._-] is refused with -EINVAL; Accept-Encoding parsing never reads past the string.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "webui.h"

static char root[64];

static void put(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

static void make_tree(void)
{
	char base[] = "/tmp/gadgetd-fuzz-webui-XXXXXX";
	if (mkdtemp(base) == NULL)
		abort();
	char secret[96];
	snprintf(secret, sizeof(secret), "%s/secret", base);
	FILE *f = fopen(secret, "w");
	if (f == NULL)
		abort();
	fputs("SECRET", f);
	fclose(f);
	snprintf(root, sizeof(root), "%s/ui", base);
	mkdir(root, 0700);
	put("index.html", "INDEX");
	put("index.html.gz", "INDEXGZ");
	put(".hidden", "HIDDEN");
	char sub[96];
	snprintf(sub, sizeof(sub), "%s/js", root);
	mkdir(sub, 0700);
	put("js/main.js", "MAIN");
}

static bool plain_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* Whether the path URL names (one leading '/' dropped, a trailing '/' or nothing meaning
 * index.html) is made only of plain segments: what may ever be opened. */
static bool plain(const char *url)
{
	char rel[8192];
	const char *tail = url[0] == '/' ? url + 1 : url;
	size_t len = strlen(tail);
	snprintf(rel, sizeof(rel), "%s%s", tail,
	         len == 0 || tail[len - 1] == '/' ? "index.html" : "");
	for (char *seg = strtok(rel, "/"); seg != NULL; seg = strtok(NULL, "/")) {
		if (seg[0] == '.')
			return false;
		for (const char *p = seg; *p; p++)
			if (!plain_byte(*p))
				return false;
	}
	return strstr(tail, "//") == NULL && tail[0] != '/';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (root[0] == '\0')
		make_tree();
	char *url = fuzz_string(data, size);
	struct gd_webui_file file;
	bool gzip = size > 0 && (data[0] & 1);
	int rc = gd_webui_open(root, url, gzip, &file);
	if (rc == 0) {
		char buf[16] = "";
		ssize_t n = read(file.fd, buf, sizeof(buf) - 1);
		close(file.fd);
		FUZZ_CHECK(n > 0);
		FUZZ_CHECK(strcmp(buf, "INDEX") == 0 || strcmp(buf, "INDEXGZ") == 0 ||
		           strcmp(buf, "MAIN") == 0);
		FUZZ_CHECK(file.gzip == (strcmp(buf, "INDEXGZ") == 0));
		FUZZ_CHECK(file.type != NULL && file.etag[0] == '"');
	} else {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOENT);
	}
	if (rc != -EINVAL)
		FUZZ_CHECK(plain(url));
	(void)gd_webui_owns(url);
	(void)gd_webui_accepts_gzip(url);
	free(url);
	return 0;
}
