/*
 * media: the image store (list, kinds, checksums, streamed uploads through a temporary file,
 * downloads from a URL, delete) and the medium inserted in the gadget's LUN, restored at start.
 */
#include "media.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"
#include "media_state.h"

#define LOG_PREFIX    "MEDIA: "
#define UPLOAD_PREFIX ".upload-"
#define HEAD_BYTES    ((size_t)36 * 1024) /* enough to see an ISO9660 volume descriptor at 32 KiB */
#define SPARE_BYTES   ((uint64_t)1 << 20)

/* A Windows ISO is over 4 GiB: on 32-bit ARM the build must ask for a 64-bit off_t. */
_Static_assert(sizeof(off_t) == 8, "images over 4 GiB need -D_FILE_OFFSET_BITS=64");

struct gd_media {
	pthread_mutex_t lock; /* guards state and the LUN */
	char store[PATH_MAX];
	char state_path[PATH_MAX + 32];
	char lun_dir[PATH_MAX];
	bool has_lun;
	struct gd_gadget *gadget; /* to re-enumerate on a change of device type */
	struct gd_media_state state;
	struct gd_jobs *jobs;
	unsigned upload_seq;
};

struct gd_upload {
	struct gd_media *media;
	char name[GD_MEDIA_NAME_MAX + 1];
	char tmp_path[PATH_MAX + 256];
	int fd;
	EVP_MD_CTX *sha;
	uint64_t written;
	char expect[65];
};

/* ---- names, kinds, paths ---------------------------------------------------------------- */

/*
 * Whether S is UTF-8 without overlong forms, surrogates, code points past U+10FFFF or C1
 * control characters (U+0080-U+009F). Returns 1, 0 if not UTF-8, -1 for a C1 control.
 */
static int utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned char c = *s;
		int extra = c < 0x80                 ? 0
		            : c >= 0xc2 && c <= 0xdf ? 1
		            : c >= 0xe0 && c <= 0xef ? 2
		            : c >= 0xf0 && c <= 0xf4 ? 3
		                                     : -1;
		if (extra < 0)
			return 0;
		/* The second byte's range excludes overlongs, surrogates and past U+10FFFF. */
		unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
		for (int i = 1; i <= extra; i++) {
			unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;
			if (s[i] < min || s[i] > max)
				return 0;
		}
		if (c == 0xc2 && s[1] <= 0x9f)
			return -1;
		s += 1 + extra;
	}
	return 1;
}

int gd_media_name_valid(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);
	const char *why = NULL;
	int utf8;
	if (len == 0 || len > GD_MEDIA_NAME_MAX)
		why = "must be 1 to 128 bytes long";
	else if (name[0] == '.' || name[0] == '-')
		why = "must not start with '.' (no hidden files) or '-'";
	else if (strchr(name, '/') != NULL || strchr(name, '\\') != NULL)
		why = "must not contain '/' or '\\'";
	else if (strstr(name, "..") != NULL)
		why = "must not contain '..'";
	else if ((utf8 = utf8_valid((const unsigned char *)name)) == 0)
		why = "must be UTF-8";
	else if (utf8 < 0)
		why = "must not contain control characters";
	for (size_t i = 0; why == NULL && i < len; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			why = "must not contain control characters";
	}
	if (why == NULL)
		return 1;
	snprintf(err, errlen, "image name %s", why);
	return 0;
}

enum gd_media_kind gd_media_detect_kind(const uint8_t *head, size_t len)
{
	/* ISO9660's primary volume descriptor sits at 32 KiB + 1; hybrid ISOs also have an MBR. */
	if (len >= 32774 && memcmp(head + 32769, "CD001", 5) == 0)
		return GD_MEDIA_ISO;
	if (len >= 520 && memcmp(head + 512, "EFI PART", 8) == 0)
		return GD_MEDIA_IMG;
	if (len >= 512 && head[510] == 0x55 && head[511] == 0xaa)
		return GD_MEDIA_IMG;
	return GD_MEDIA_UNKNOWN;
}

const char *gd_media_kind_name(enum gd_media_kind kind)
{
	return kind == GD_MEDIA_ISO ? "iso" : kind == GD_MEDIA_IMG ? "img" : "unknown";
}

static void image_path(const struct gd_media *m, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", m->store, name);
}

static void sha_path(const struct gd_media *m, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/.%s.sha256", m->store, name);
}

static enum gd_media_kind kind_of(const char *path, const char *name)
{
	uint8_t *head = malloc(HEAD_BYTES);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = (head && fd >= 0) ? pread(fd, head, HEAD_BYTES, 0) : -1;
	enum gd_media_kind kind = n > 0 ? gd_media_detect_kind(head, (size_t)n) : GD_MEDIA_UNKNOWN;
	if (fd >= 0)
		close(fd);
	free(head);
	const char *dot = strrchr(name, '.');
	if (kind == GD_MEDIA_UNKNOWN && dot != NULL)
		kind = strcasecmp(dot, ".iso") == 0 ? GD_MEDIA_ISO
		       : (strcasecmp(dot, ".img") == 0 || strcasecmp(dot, ".raw") == 0)
		           ? GD_MEDIA_IMG
		           : kind;
	return kind;
}

static bool hex_sha256(const char *s);

/* The "SIZE MTIME" a checksum file ends with, for the file as it is now. */
static void identity(const struct stat *st, char *buf, size_t len)
{
	snprintf(buf, len, "%llu %lld.%09lld", (unsigned long long)st->st_size,
	         (long long)st->st_mtim.tv_sec, (long long)st->st_mtim.tv_nsec);
}

/* The checksum recorded at upload, if the file has not changed since (size and mtime). */
static json_t *known_sha256(const struct gd_media *m, const char *name, const struct stat *st)
{
	char path[PATH_MAX + 256], line[160], now[96];
	sha_path(m, name, path, sizeof(path));
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return json_null();
	bool ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	identity(st, now, sizeof(now));
	if (!ok || strlen(line) < 66 || line[64] != ' ' || strcmp(line + 65, now) != 0)
		return json_null();
	line[64] = '\0';
	return hex_sha256(line) ? json_string(line) : json_null();
}

static void record_sha256(const struct gd_media *m, const char *name, const char *hex)
{
	char path[PATH_MAX + 256], img[PATH_MAX + 256];
	struct stat st;
	image_path(m, name, img, sizeof(img));
	sha_path(m, name, path, sizeof(path));
	FILE *f = stat(img, &st) == 0 ? fopen(path, "we") : NULL;
	if (f == NULL)
		return;
	char now[96];
	identity(&st, now, sizeof(now));
	fprintf(f, "%s %s\n", hex, now);
	fclose(f);
}

/* ---- listing ------------------------------------------------------------------------------ */

static json_t *entry(struct gd_media *m, const char *name)
{
	char path[PATH_MAX + 256];
	struct stat st;
	image_path(m, name, path, sizeof(path));
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	bool inserted = strcmp(m->state.image, name) == 0;
	return json_pack("{s:s, s:I, s:s, s:o, s:I, s:b}", "name", name, "size",
	                 (json_int_t)st.st_size, "kind", gd_media_kind_name(kind_of(path, name)),
	                 "sha256", known_sha256(m, name, &st), "mtime",
	                 (json_int_t)st.st_mtim.tv_sec, "inserted", inserted);
}

json_t *gd_media_list(struct gd_media *media)
{
	json_t *list = json_array();
	struct dirent **names;
	int n = scandir(media->store, &names, NULL, alphasort);
	pthread_mutex_lock(&media->lock);
	for (int i = 0; i < n; i++) {
		char err[8];
		json_t *e = gd_media_name_valid(names[i]->d_name, err, sizeof(err))
		                ? entry(media, names[i]->d_name)
		                : NULL;
		if (e != NULL)
			json_array_append_new(list, e);
		free(names[i]);
	}
	pthread_mutex_unlock(&media->lock);
	if (n >= 0)
		free(names);
	return list;
}

json_t *gd_media_image(struct gd_media *media, const char *name)
{
	char err[8];
	if (!gd_media_name_valid(name, err, sizeof(err)))
		return NULL;
	pthread_mutex_lock(&media->lock);
	json_t *e = entry(media, name);
	pthread_mutex_unlock(&media->lock);
	return e;
}

int gd_media_open_image(struct gd_media *media, const char *name, uint64_t *size)
{
	char err[8], path[PATH_MAX + 256];
	if (!gd_media_name_valid(name, err, sizeof(err)))
		return -ENOENT;
	image_path(media, name, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int gd_media_delete(struct gd_media *media, const char *name, char *err, size_t errlen)
{
	if (!gd_media_name_valid(name, err, errlen))
		return -EINVAL;
	char path[PATH_MAX + 256];
	image_path(media, name, path, sizeof(path));
	pthread_mutex_lock(&media->lock);
	int rc = 0;
	if (strcmp(media->state.image, name) == 0) {
		snprintf(err, errlen, "'%s' is inserted: eject it first (DELETE /api/media)", name);
		rc = -EBUSY;
	} else if (unlink(path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "no image named '%s'", name);
	} else {
		sha_path(media, name, path, sizeof(path));
		unlink(path);
	}
	pthread_mutex_unlock(&media->lock);
	return rc;
}

/* ---- uploads ------------------------------------------------------------------------------ */

static int check_space(const struct gd_media *m, uint64_t need, char *err, size_t errlen)
{
	struct statvfs vfs;
	if (need == 0 || statvfs(m->store, &vfs) < 0)
		return 0;
	uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (need + SPARE_BYTES <= avail)
		return 0;
	snprintf(err, errlen, "the image store has %llu MiB free, the image needs %llu MiB",
	         (unsigned long long)(avail >> 20),
	         (unsigned long long)((need + SPARE_BYTES) >> 20));
	return -ENOSPC;
}

static bool hex_sha256(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (const char *p = s; *p; p++) {
		if (!strchr("0123456789abcdefABCDEF", *p))
			return false;
	}
	return true;
}

int gd_media_upload_begin(struct gd_media *media, const char *name, uint64_t expected_size,
                          const char *sha256_hex, struct gd_upload **out, char *err, size_t errlen)
{
	if (!gd_media_name_valid(name, err, errlen))
		return -EINVAL;
	if (sha256_hex != NULL && !hex_sha256(sha256_hex)) {
		snprintf(err, errlen, "X-Checksum-Sha256 must be 64 hex digits");
		return -EINVAL;
	}
	pthread_mutex_lock(&media->lock);
	bool inserted = strcmp(media->state.image, name) == 0;
	unsigned seq = ++media->upload_seq;
	pthread_mutex_unlock(&media->lock);
	if (inserted) {
		snprintf(err, errlen, "'%s' is inserted: eject it before replacing it", name);
		return -EBUSY;
	}
	int rc = check_space(media, expected_size, err, errlen);
	if (rc < 0)
		return rc;
	struct gd_upload *up = calloc(1, sizeof(*up));
	if (up == NULL || (up->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(up->sha, EVP_sha256(), NULL) != 1) {
		if (up)
			EVP_MD_CTX_free(up->sha);
		free(up);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	up->media = media;
	snprintf(up->name, sizeof(up->name), "%s", name);
	snprintf(up->expect, sizeof(up->expect), "%s", sha256_hex ? sha256_hex : "");
	snprintf(up->tmp_path, sizeof(up->tmp_path), "%s/" UPLOAD_PREFIX "%d-%u.tmp", media->store,
	         (int)getpid(), seq);
	up->fd = open(up->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (up->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "image store %s: %s", media->store, strerror(errno));
		EVP_MD_CTX_free(up->sha);
		free(up);
		return rc;
	}
	*out = up;
	return 0;
}

int gd_media_upload_write(struct gd_upload *up, const void *data, size_t len)
{
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(up->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ENOSPC || errno == EDQUOT ? -ENOSPC : -EIO;
		p += n;
		left -= (size_t)n;
	}
	EVP_DigestUpdate(up->sha, data, len);
	up->written += len;
	return 0;
}

static void free_upload(struct gd_upload *up)
{
	if (up->fd >= 0)
		close(up->fd);
	EVP_MD_CTX_free(up->sha);
	free(up);
}

void gd_media_upload_abort(struct gd_upload *up)
{
	if (up == NULL)
		return;
	unlink(up->tmp_path);
	free_upload(up);
}

const char *gd_media_upload_name(const struct gd_upload *up)
{
	return up->name;
}

static void digest_hex(EVP_MD_CTX *sha, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(sha, md, &len);
	for (unsigned i = 0; i < len && i < 32; i++)
		snprintf(hex + (size_t)2 * i, 3, "%02x", md[i]);
}

int gd_media_upload_finish(struct gd_upload *up, char *err, size_t errlen)
{
	char hex[65] = "";
	digest_hex(up->sha, hex);
	int rc = 0;
	if (up->expect[0] && strcasecmp(hex, up->expect) != 0) {
		snprintf(err, errlen,
		         "checksum mismatch: X-Checksum-Sha256 is %s, the upload is %s", up->expect,
		         hex);
		rc = -EBADMSG;
	} else if (fsync(up->fd) < 0 || close(up->fd) < 0) {
		rc = errno == ENOSPC ? -ENOSPC : -EIO;
		snprintf(err, errlen, "writing the image: %s", strerror(errno));
	}
	if (rc == 0)
		up->fd = -1;
	char final[PATH_MAX + 256];
	image_path(up->media, up->name, final, sizeof(final));
	pthread_mutex_lock(&up->media->lock);
	if (rc == 0 && strcmp(up->media->state.image, up->name) == 0) {
		snprintf(err, errlen, "'%s' was inserted meanwhile: eject it first", up->name);
		rc = -EBUSY;
	}
	if (rc == 0 && rename(up->tmp_path, final) < 0) {
		rc = -errno;
		snprintf(err, errlen, "renaming the image into place: %s", strerror(errno));
	}
	if (rc == 0)
		record_sha256(up->media, up->name, hex);
	pthread_mutex_unlock(&up->media->lock);
	if (rc == 0)
		GD_LOG_INFO("stored '%s': %llu bytes, sha256 %s", up->name,
		            (unsigned long long)up->written, hex);
	else
		unlink(up->tmp_path);
	free_upload(up);
	return rc;
}

/* Removes what interrupted uploads left behind: they never list as images. */
static void clean_leftovers(const char *store)
{
	DIR *d = opendir(store);
	if (d == NULL)
		return;
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		if (strncmp(e->d_name, UPLOAD_PREFIX, strlen(UPLOAD_PREFIX)) != 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			GD_LOG_WARN("removed %s left by an interrupted upload", e->d_name);
	}
	closedir(d);
}

/* ---- downloads ---------------------------------------------------------------------------- */

struct download {
	struct gd_media *media;
	char url[2048];
	char name[GD_MEDIA_NAME_MAX + 1];
	struct gd_job *job;
	struct gd_upload *up;
	int write_error;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct download *d = ctx;
	d->write_error = gd_media_upload_write(d->up, data, size * nmemb);
	return d->write_error == 0 ? size * nmemb : 0;
}

static int on_progress(void *ctx, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
	(void)ut;
	(void)un;
	struct download *d = ctx;
	if (total > 0)
		gd_job_total(d->job, (size_t)total);
	gd_job_progress(d->job, (size_t)now);
	return atomic_load(gd_job_cancelled(d->job)) ? 1 : 0;
}

/* A transfer of URL over http(s) only, redirects followed, errors into CURL_ERR; or NULL. */
static CURL *new_transfer(const char *url, char curl_err[CURL_ERROR_SIZE])
{
	CURL *curl = curl_easy_init();
	if (curl == NULL)
		return NULL;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	return curl;
}

static int fetch(struct download *d, char *err, size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "";
	CURL *curl = new_transfer(d->url, curl_err);
	if (curl == NULL) {
		snprintf(err, errlen, "libcurl failed to start");
		return -1;
	}
	/* A stalled server ends the job instead of holding it forever. */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, d);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	CURLcode rc = curl_easy_perform(curl);
	curl_easy_cleanup(curl);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return -ECANCELED;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s",
		         d->write_error == -ENOSPC ? "the image store is full"
		         : curl_err[0]             ? curl_err
		                                   : curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

int gd_media_fetch(struct gd_media *media, struct gd_job *job, const char *url, const char *name,
                   char *err, size_t errlen)
{
	struct download d = {.media = media, .job = job};
	snprintf(d.url, sizeof(d.url), "%s", url);
	snprintf(d.name, sizeof(d.name), "%s", name);
	if (gd_media_upload_begin(media, name, 0, NULL, &d.up, err, errlen) < 0)
		return -1;
	int rc = fetch(&d, err, errlen);
	if (rc == 0) {
		rc = gd_media_upload_finish(d.up, err, errlen);
		d.up = NULL;
	}
	gd_media_upload_abort(d.up);
	if (rc < 0 && rc != -ECANCELED) {
		GD_LOG_WARN("download of '%s' failed: %s", name, err);
		rc = -1;
	}
	return rc;
}

static int check_url(const char *url, char *err, size_t errlen);

static int run_download(struct gd_job *job, void *ctx)
{
	struct download *d = ctx;
	char err[512];
	int rc = gd_media_fetch(d->media, job, d->url, d->name, err, sizeof(err));
	if (rc == -1)
		gd_job_fail(job, "download_failed", "%s", err);
	return rc;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct gd_media_source *src = ctx;
	size_t len = size * nmemb;
	static const struct {
		const char *name;
		size_t off;
	} wanted[] = {{"etag:", offsetof(struct gd_media_source, etag)},
	              {"last-modified:", offsetof(struct gd_media_source, last_modified)}};
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(wanted[i].name);
		if (len <= n || strncasecmp(data, wanted[i].name, n) != 0)
			continue;
		const char *v = data + n;
		size_t vlen = len - n;
		while (vlen > 0 && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen > 0 &&
		       (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
			vlen--;
		char *out = (char *)src + wanted[i].off;
		if (vlen >= GD_MEDIA_VALIDATOR_MAX)
			vlen = 0; /* too long to compare: as if absent */
		memcpy(out, v, vlen);
		out[vlen] = '\0';
	}
	return len;
}

int gd_media_probe(const char *url, struct gd_media_source *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (check_url(url, err, errlen) < 0)
		return -EINVAL;
	char curl_err[CURL_ERROR_SIZE] = "";
	CURL *curl = new_transfer(url, curl_err);
	if (curl == NULL) {
		snprintf(err, errlen, "libcurl failed to start");
		return -ENOMEM;
	}
	curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 15L);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
	CURLcode rc = curl_easy_perform(curl);
	curl_off_t length = -1;
	if (rc == CURLE_OK &&
	    curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
	    length >= 0)
		out->size = (uint64_t)length;
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
		return -EIO;
	}
	return 0;
}

/*
 * Whether URL is one libcurl would fetch as it is: http or https, a host, no spaces or control
 * characters (which libcurl refuses only once the job runs). 0, or -1 with ERR.
 */
static int check_url(const char *url, char *err, size_t errlen)
{
	const char *why = NULL;
	const char *authority = strncmp(url, "http://", 7) == 0    ? url + 7
	                        : strncmp(url, "https://", 8) == 0 ? url + 8
	                                                           : NULL;
	if (authority == NULL)
		why = "must be http:// or https://";
	else if (*authority == '/' || *authority == '\0') /* libcurl would take "http:///x" */
		why = "has no host";
	else if (strlen(url) >= sizeof(((struct download *)NULL)->url))
		why = "is too long (2047 bytes at most)";
	for (const unsigned char *p = (const unsigned char *)url; why == NULL && *p; p++) {
		if (*p <= 0x20 || *p == 0x7f)
			why = "must not contain spaces or control characters (percent-encode them)";
	}
	CURLU *h = why == NULL ? curl_url() : NULL;
	char *host = NULL;
	if (why == NULL &&
	    (h == NULL || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	     curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0'))
		why = "is not a valid URL with a host";
	curl_free(host);
	curl_url_cleanup(h);
	if (why == NULL)
		return 0;
	snprintf(err, errlen, "'url' %s", why);
	return -1;
}

uint64_t gd_media_download(struct gd_media *media, const char *url, const char *name,
                           const char *user, char *err, size_t errlen)
{
	if (!gd_media_name_valid(name, err, errlen))
		return 0;
	if (check_url(url, err, errlen) < 0)
		return 0;
	struct download *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return 0;
	}
	d->media = media;
	snprintf(d->url, sizeof(d->url), "%s", url);
	snprintf(d->name, sizeof(d->name), "%s", name);
	uint64_t id = gd_jobs_submit(media->jobs, "download", user, 0, run_download, d, free);
	if (id == 0)
		snprintf(err, errlen, "out of memory");
	return id;
}

struct gd_jobs *gd_media_jobs(struct gd_media *media)
{
	return media->jobs;
}

/* ---- the inserted medium ------------------------------------------------------------------ */

static int insert_locked(struct gd_media *m, const char *name, enum gd_lun_mode mode, bool readonly,
                         bool *forced, char *err, size_t errlen)
{
	char path[PATH_MAX + 256];
	struct stat st;
	image_path(m, name, path, sizeof(path));
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "no image named '%s'", name);
		return -ENOENT;
	}
	int rc = gd_lun_insert(m->lun_dir, path, (uint64_t)st.st_size, mode, readonly, forced, err,
	                       errlen);
	struct gd_lun_state now;
	if (rc == 0) {
		m->state = (struct gd_media_state){.mode = mode,
		                                   .readonly = mode == GD_LUN_CDROM || readonly};
		snprintf(m->state.image, sizeof(m->state.image), "%s", name);
	} else if (gd_lun_read(m->lun_dir, &now) == 0 && now.file[0] == '\0') {
		m->state.image[0] = '\0'; /* the old medium is out and the new one did not go in */
	} else {
		return rc == -ENOENT ? -EIO : rc; /* refused before the LUN was touched */
	}
	if (gd_media_state_save(m->state_path, &m->state) < 0)
		GD_LOG_WARN("could not save %s: the medium will not come back after a restart",
		            m->state_path);
	return rc == -ENOENT ? -EIO : rc; /* ENOENT means "no such image" to callers */
}

/* Unplugs and plugs the gadget so the host sees the LUN's new device type. */
static int reenumerate(struct gd_media *m, char *err, size_t errlen)
{
	if (m->gadget == NULL)
		return 0;
	int rc = gd_gadget_set_connected(m->gadget, false, err, errlen);
	if (rc == 0)
		rc = gd_gadget_set_connected(m->gadget, true, err, errlen);
	return rc;
}

int gd_media_insert(struct gd_media *media, const char *name, enum gd_lun_mode mode, bool readonly,
                    bool *forced, bool *reenumerated, char *err, size_t errlen)
{
	*forced = false;
	*reenumerated = false;
	if (!gd_media_name_valid(name, err, errlen))
		return -EINVAL;
	if (!media->has_lun) {
		snprintf(err, errlen, "the gadget has no mass storage ([gadget] functions)");
		return -ENODEV;
	}
	pthread_mutex_lock(&media->lock);
	struct gd_lun_state before;
	bool was_cdrom = gd_lun_read(media->lun_dir, &before) == 0 && before.mode == GD_LUN_CDROM;
	int rc = insert_locked(media, name, mode, readonly, forced, err, errlen);
	if (rc == 0 && was_cdrom != (mode == GD_LUN_CDROM)) {
		rc = reenumerate(media, err, errlen);
		*reenumerated = rc == 0;
	}
	pthread_mutex_unlock(&media->lock);
	return rc;
}

int gd_media_eject(struct gd_media *media, bool *forced, char *err, size_t errlen)
{
	*forced = false;
	if (!media->has_lun) {
		snprintf(err, errlen, "the gadget has no mass storage ([gadget] functions)");
		return -ENODEV;
	}
	pthread_mutex_lock(&media->lock);
	int rc = gd_lun_eject(media->lun_dir, forced, err, errlen);
	if (rc == 0) {
		media->state.image[0] = '\0';
		if (gd_media_state_save(media->state_path, &media->state) < 0)
			GD_LOG_WARN("could not save %s", media->state_path);
	}
	pthread_mutex_unlock(&media->lock);
	return rc;
}

json_t *gd_media_state_json(struct gd_media *media)
{
	pthread_mutex_lock(&media->lock);
	struct gd_media_state s = media->state;
	pthread_mutex_unlock(&media->lock);
	if (s.image[0] == '\0')
		return json_pack("{s:b, s:n}", "inserted", 0, "image");
	char path[PATH_MAX + 256];
	struct stat st;
	image_path(media, s.image, path, sizeof(path));
	json_int_t size = stat(path, &st) == 0 ? (json_int_t)st.st_size : 0;
	return json_pack("{s:b, s:s, s:s, s:b, s:I}", "inserted", 1, "image", s.image, "mode",
	                 s.mode == GD_LUN_CDROM ? "cdrom" : "disk", "readonly", s.readonly, "size",
	                 size);
}

/* Puts back what was inserted before the restart, if the image is still there. */
static void restore(struct gd_media *m)
{
	char err[512];
	struct gd_media_state saved;
	if (gd_media_state_load(m->state_path, &saved, err, sizeof(err)) < 0) {
		GD_LOG_WARN("%s; the drive starts empty", err);
		return;
	}
	if (saved.image[0] == '\0')
		return;
	bool forced;
	if (insert_locked(m, saved.image, saved.mode, saved.readonly, &forced, err, sizeof(err)) <
	    0) {
		GD_LOG_WARN("could not put '%s' back: %s; the drive is empty", saved.image, err);
		m->state.image[0] = '\0';
		gd_media_state_save(m->state_path, &m->state);
		return;
	}
	GD_LOG_INFO("put '%s' back in the drive (%s%s)", saved.image,
	            saved.mode == GD_LUN_CDROM ? "cdrom" : "disk",
	            saved.readonly ? ", read-only" : "");
}

int gd_media_open(struct gd_media **out, const struct gd_config *cfg, const char *lun_dir,
                  struct gd_gadget *gadget, char *err, size_t errlen)
{
	if (mkdir(cfg->image_store, 0750) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "image store %s: %s", cfg->image_store, strerror(e));
		return -e;
	}
	struct gd_media *m = calloc(1, sizeof(*m));
	if (m == NULL || (m->jobs = gd_jobs_new("media")) == NULL) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->store, sizeof(m->store), "%s", cfg->image_store);
	snprintf(m->state_path, sizeof(m->state_path), "%s/media.json", cfg->state_dir);
	m->has_lun = lun_dir != NULL;
	m->gadget = gadget;
	if (lun_dir)
		snprintf(m->lun_dir, sizeof(m->lun_dir), "%s", lun_dir);
	clean_leftovers(m->store);
	if (m->has_lun)
		restore(m);
	*out = m;
	return 0;
}

void gd_media_close(struct gd_media *media)
{
	if (media == NULL)
		return;
	gd_jobs_free(media->jobs);
	pthread_mutex_destroy(&media->lock);
	free(media);
}
