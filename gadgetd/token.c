/*
 * token: API tokens for scripts, created by an admin with a name, a role and an optional
 * expiry. The file (JSON, mode 0600) keeps only each token's SHA-256.
 */
#include "token.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct token {
	char id[13]; /* 48 random bits, hex: what lists and DELETE name */
	char name[GD_AUTH_NAME_MAX + 1];
	char creator[GD_AUTH_NAME_MAX + 1];
	unsigned char digest[GD_SECRET_DIGEST];
	enum gd_role role;
	time_t created, expires, last_used;
};

struct gd_tokens {
	pthread_mutex_t lock;
	char *path;
	struct token table[GD_TOKEN_MAX];
	size_t count;
};

static int hex_to_digest(const char *hex, unsigned char out[GD_SECRET_DIGEST])
{
	size_t len = 0;
	return hex != NULL && OPENSSL_hexstr2buf_ex(out, GD_SECRET_DIGEST, &len, hex, '\0') == 1 &&
	               len == GD_SECRET_DIGEST
	           ? 0
	           : -1;
}

/* One record of the file into TK: 0, or -1 when it is not a token. */
static int parse_record(json_t *rec, struct token *tk)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	const char *name = json_string_value(json_object_get(rec, "name"));
	const char *creator = json_string_value(json_object_get(rec, "created_by"));
	const char *role = json_string_value(json_object_get(rec, "role"));
	int r = role ? gd_auth_role_parse(role) : -1;
	memset(tk, 0, sizeof(*tk));
	if (id == NULL || strlen(id) != 12 || name == NULL || !gd_auth_name_valid(name) || r < 0 ||
	    hex_to_digest(json_string_value(json_object_get(rec, "sha256")), tk->digest) < 0)
		return -1;
	memcpy(tk->id, id, sizeof(tk->id));
	snprintf(tk->name, sizeof(tk->name), "%s", name);
	snprintf(tk->creator, sizeof(tk->creator), "%s", creator ? creator : "");
	tk->role = (enum gd_role)r;
	tk->created = (time_t)json_integer_value(json_object_get(rec, "created"));
	tk->expires = (time_t)json_integer_value(json_object_get(rec, "expires"));
	return 0;
}

static int load(struct gd_tokens *t, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(t->path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL && json_error_code(&jerr) == json_error_cannot_open_file &&
	    errno == ENOENT)
		return 0;
	if (!json_is_array(root) || json_array_size(root) > GD_TOKEN_MAX) {
		snprintf(err, errlen, "%s: %s", t->path,
		         root ? "not an array of at most 64 tokens" : jerr.text);
		json_decref(root);
		return -EINVAL;
	}
	size_t i;
	json_t *rec;
	json_array_foreach(root, i, rec)
	{
		if (parse_record(rec, &t->table[t->count]) < 0) {
			snprintf(err, errlen, "%s: token %zu is malformed", t->path, i + 1);
			json_decref(root);
			return -EINVAL;
		}
		t->count++;
	}
	json_decref(root);
	return 0;
}

int gd_tokens_open(struct gd_tokens **out, const char *path, char *err, size_t errlen)
{
	struct gd_tokens *t = calloc(1, sizeof(*t));
	if (t == NULL || (t->path = strdup(path)) == NULL) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	int rc = load(t, err, errlen);
	if (rc < 0) {
		gd_tokens_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

void gd_tokens_close(struct gd_tokens *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->path);
	free(t);
}

/* A token as lists show it; WITH_DIGEST for the file. */
static json_t *record_json(const struct token *tk, bool with_digest)
{
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", tk->id, "name", tk->name, "role",
	                        gd_auth_role_name(tk->role), "created_by", tk->creator, "created",
	                        (json_int_t)tk->created);
	if (rec == NULL)
		return NULL;
	json_object_set_new(rec, "expires", tk->expires ? json_integer(tk->expires) : json_null());
	if (with_digest) {
		char hex[2 * GD_SECRET_DIGEST + 1];
		for (size_t i = 0; i < GD_SECRET_DIGEST; i++)
			snprintf(hex + 2 * i, 3, "%02x", tk->digest[i]);
		json_object_set_new(rec, "sha256", json_string(hex));
	} else {
		json_object_set_new(rec, "last_used",
		                    tk->last_used ? json_integer(tk->last_used) : json_null());
	}
	return rec;
}

static json_t *list(const struct gd_tokens *t, bool with_digest)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < t->count; i++)
		json_array_append_new(arr, record_json(&t->table[i], with_digest));
	return arr;
}

/* Caller holds the lock. */
static int save(const struct gd_tokens *t)
{
	json_t *arr = list(t, true);
	int rc = arr ? gd_json_save(t->path, arr, 0600) : -ENOMEM;
	json_decref(arr);
	return rc;
}

static int check_new(const struct gd_tokens *t, const char *name, char *err, size_t errlen)
{
	if (!gd_auth_name_valid(name)) {
		snprintf(err, errlen, "token name must be 1-32 of A-Z a-z 0-9 . _ -");
		return -EINVAL;
	}
	for (size_t i = 0; i < t->count; i++) {
		if (strcmp(t->table[i].name, name) == 0) {
			snprintf(err, errlen, "a token named '%s' exists", name);
			return -EEXIST;
		}
	}
	if (t->count == GD_TOKEN_MAX) {
		snprintf(err, errlen, "at most %d tokens: revoke one first", GD_TOKEN_MAX);
		return -ENOSPC;
	}
	return 0;
}

int gd_tokens_create(struct gd_tokens *t, const char *name, enum gd_role role, const char *creator,
                     time_t expires, char secret[GD_TOKEN_TEXT + 1], json_t **record, char *err,
                     size_t errlen)
{
	struct token tk = {.role = role, .created = time(NULL), .expires = expires};
	memcpy(secret, GD_TOKEN_PREFIX, 4);
	if (gd_secret_new(secret + 4) < 0 || gd_secret_hex(tk.id, 6) < 0) {
		snprintf(err, errlen, "no randomness: %s", strerror(errno));
		return -EIO;
	}
	gd_secret_digest(secret, tk.digest);
	snprintf(tk.name, sizeof(tk.name), "%s", name);
	snprintf(tk.creator, sizeof(tk.creator), "%s", creator);
	pthread_mutex_lock(&t->lock);
	int rc = check_new(t, name, err, errlen);
	if (rc == 0) {
		t->table[t->count++] = tk;
		rc = save(t);
		if (rc < 0) {
			t->count--;
			snprintf(err, errlen, "%s: %s", t->path, strerror(-rc));
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (rc == 0)
		*record = record_json(&tk, false);
	return rc;
}

int gd_tokens_check(struct gd_tokens *t, const char *secret, time_t now, char *name, size_t namelen,
                    enum gd_role *role)
{
	if (strncmp(secret, GD_TOKEN_PREFIX, 4) != 0)
		return -ENOENT;
	unsigned char digest[GD_SECRET_DIGEST];
	gd_secret_digest(secret, digest);
	int rc = -ENOENT;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->count; i++) {
		struct token *tk = &t->table[i];
		if (!gd_secret_digest_equal(tk->digest, digest))
			continue;
		rc = tk->expires && now >= tk->expires ? -EKEYEXPIRED : 0;
		if (rc == 0) {
			tk->last_used = now;
			snprintf(name, namelen, "%s", tk->name);
			*role = tk->role;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

json_t *gd_tokens_list(struct gd_tokens *t)
{
	pthread_mutex_lock(&t->lock);
	json_t *arr = list(t, false);
	pthread_mutex_unlock(&t->lock);
	return arr;
}

int gd_tokens_delete(struct gd_tokens *t, const char *id)
{
	pthread_mutex_lock(&t->lock);
	int rc = -ENOENT;
	for (size_t i = 0; i < t->count; i++) {
		if (strcmp(t->table[i].id, id) != 0)
			continue;
		struct token gone = t->table[i];
		memmove(&t->table[i], &t->table[i + 1], (t->count - i - 1) * sizeof(gone));
		t->count--;
		rc = save(t);
		if (rc < 0) /* not written: still valid on disk, so still valid here */
			t->table[t->count++] = gone;
		break;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}
