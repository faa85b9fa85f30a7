/*
 * media_state: what is inserted, as a small JSON document in the state directory:
 * {"image": "x.iso", "mode": "cdrom" | "disk", "readonly": true}; an empty or absent image
 * means ejected. The parser is pure and strict (types, mode values, a plain file name of at
 * most 255 bytes, no unknown keys) so a corrupt file is reported, never half-applied; saving
 * goes through PATH.tmp, fsync and rename, then fsyncs the directory.
 */
#include "media_state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A state file is a few dozen bytes; anything much bigger is not ours. */
#define STATE_MAX_BYTES 4096

/* Room for an image name, its NUL included. */
#define IMAGE_SIZE sizeof(((struct gd_media_state *)NULL)->image)

/* An image name is a plain file name in the store: no '/', not "." or "..", no controls. */
static int check_image(const char *name, size_t len, char *err, size_t errlen)
{
	if (len >= IMAGE_SIZE) {
		snprintf(err, errlen, "\"image\" is %zu bytes, longer than the limit of %zu", len,
		         IMAGE_SIZE - 1);
		return -1;
	}
	bool plain = strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && strlen(name) == len;
	for (size_t i = 0; plain && i < len; i++)
		plain = name[i] != '/' && (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
	if (!plain) {
		snprintf(err, errlen, "\"image\" must be a file name in the image store");
		return -1;
	}
	return 0;
}

static int parse_image(json_t *v, struct gd_media_state *out, char *err, size_t errlen)
{
	if (!json_is_string(v)) {
		snprintf(err, errlen, "\"image\" must be a string");
		return -1;
	}
	const char *name = json_string_value(v);
	size_t len = json_string_length(v);
	if (check_image(name, len, err, errlen) < 0)
		return -1;
	memcpy(out->image, name, len + 1);
	return 0;
}

static int parse_mode(json_t *v, struct gd_media_state *out, char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	if (s != NULL && strcmp(s, "cdrom") == 0 && json_string_length(v) == 5)
		out->mode = GD_LUN_CDROM;
	else if (s != NULL && strcmp(s, "disk") == 0 && json_string_length(v) == 4)
		out->mode = GD_LUN_DISK;
	else {
		snprintf(err, errlen, "\"mode\" must be \"cdrom\" or \"disk\"");
		return -1;
	}
	return 0;
}

static int parse_readonly(json_t *v, struct gd_media_state *out, char *err, size_t errlen)
{
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "\"readonly\" must be true or false");
		return -1;
	}
	out->readonly = json_is_true(v);
	return 0;
}

/* Applies the object's keys to OUT; mode and readonly are required with an image. */
static int parse_object(json_t *root, struct gd_media_state *out, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v)
	{
		int rc;
		if (strcmp(key, "image") == 0)
			rc = parse_image(v, out, err, errlen);
		else if (strcmp(key, "mode") == 0)
			rc = parse_mode(v, out, err, errlen);
		else if (strcmp(key, "readonly") == 0)
			rc = parse_readonly(v, out, err, errlen);
		else {
			snprintf(err, errlen, "unknown key \"%s\"", key);
			rc = -1;
		}
		if (rc < 0)
			return -1;
	}
	if (out->image[0] != '\0' && json_object_get(root, "mode") == NULL) {
		snprintf(err, errlen, "\"mode\" is missing");
		return -1;
	}
	if (out->image[0] != '\0' && json_object_get(root, "readonly") == NULL) {
		snprintf(err, errlen, "\"readonly\" is missing");
		return -1;
	}
	return 0;
}

int gd_media_state_parse(const uint8_t *data, size_t len, struct gd_media_state *out, char *err,
                         size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (len == 0) {
		snprintf(err, errlen, "empty file: expected a JSON object");
		return -1;
	}
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line,
		         jerr.column, jerr.text);
		return -1;
	}
	int rc = -1;
	if (json_is_object(root))
		rc = parse_object(root, out, err, errlen);
	else
		snprintf(err, errlen, "expected a JSON object");
	json_decref(root);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* Reads up to MAX bytes of PATH into BUF; -EFBIG if there is more. */
static int read_file(const char *path, uint8_t *buf, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t used = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf + used, max + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used > max) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	*len = used;
	return rc;
}

int gd_media_state_load(const char *path, struct gd_media_state *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	uint8_t buf[STATE_MAX_BYTES + 1];
	size_t len = 0;
	int rc = read_file(path, buf, STATE_MAX_BYTES, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc == -EFBIG) {
		snprintf(err, errlen, "%s: larger than %d bytes, not a media state file", path,
		         STATE_MAX_BYTES);
		return -EINVAL;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	char why[256];
	if (gd_media_state_parse(buf, len, out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -EINVAL;
	}
	return 0;
}

/* Sets *TEXT to the document for STATE, newline-terminated: 0, -EINVAL (not UTF-8), -ENOMEM. */
static int serialize(const struct gd_media_state *state, char **text)
{
	json_error_t jerr;
	json_t *root = json_pack_ex(&jerr, 0, "{s:s, s:s, s:b}", "image", state->image, "mode",
	                            state->mode == GD_LUN_CDROM ? "cdrom" : "disk", "readonly",
	                            state->readonly);
	if (root == NULL)
		return json_error_code(&jerr) == json_error_invalid_utf8 ? -EINVAL : -ENOMEM;
	char *doc = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (doc == NULL)
		return -ENOMEM;
	size_t n = strlen(doc);
	char *line = realloc(doc, n + 2);
	if (line == NULL) {
		free(doc);
		return -ENOMEM;
	}
	memcpy(line + n, "\n", 2);
	*text = line;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes TEXT to TMP and makes it durable. */
static int write_tmp(const char *tmp, const char *text)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* Makes a rename in PATH's directory durable. */
static int sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int gd_media_state_save(const char *path, const struct gd_media_state *state)
{
	size_t len = strnlen(state->image, IMAGE_SIZE);
	if (len == IMAGE_SIZE || check_image(state->image, len, NULL, 0) < 0 ||
	    (state->mode != GD_LUN_CDROM && state->mode != GD_LUN_DISK))
		return -EINVAL;
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	char *text = NULL;
	int rc = serialize(state, &text);
	if (rc < 0)
		return rc;
	rc = write_tmp(tmp, text);
	free(text);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return sync_dir(path);
}
