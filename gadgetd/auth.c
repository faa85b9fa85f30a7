/*
 * auth: the users file (name:crypt-hash:role lines) and HTTP Basic credentials checked against it.
 * Hashes are crypt(3) strings (yescrypt by default); comparisons take constant time.
 */
#include "auth.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define LOG_PREFIX "AUTH: "
#define HEADER_MAX 1024
#define MAC_LEN    32

struct user {
	char name[GD_AUTH_NAME_MAX + 1];
	char *hash;
	enum gd_role role;
	/* A verified password is remembered as a keyed MAC so repeated requests skip crypt(3). */
	unsigned char verified_mac[MAC_LEN];
	bool verified;
};

struct gd_auth {
	pthread_mutex_t lock;
	char *path;
	struct stat loaded; /* identity of the file the users came from */
	struct user *users;
	size_t count;
	unsigned char mac_key[32];
	char *dummy_hash; /* a hash to verify against for unknown users */
};

static char *hash_password(const char *password);

static const char *const role_names[] = {"viewer", "operator", "admin"};

const char *gd_auth_role_name(enum gd_role role)
{
	return role_names[role];
}

int gd_auth_role_parse(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(name, role_names[i]) == 0)
			return i;
	return -1;
}

int gd_auth_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > GD_AUTH_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

static void free_users(struct user *users, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		OPENSSL_cleanse(users[i].verified_mac, MAC_LEN);
		free(users[i].hash);
	}
	free(users);
}

/*
 * Parses one "name:hash[:role]" line into U (no role: admin, as before roles existed).
 * Returns 0, 1 for a line to skip, or -1 with MSG.
 */
static int parse_line(char *line, struct user *u, char *msg, size_t msglen)
{
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0' || line[0] == '#')
		return 1;
	char *colon = strchr(line, ':');
	if (colon == NULL) {
		snprintf(msg, msglen, "expected 'name:hash'");
		return -1;
	}
	*colon = '\0';
	char *hash = colon + 1;
	char *role_text = strchr(hash, ':');
	int role = GD_ROLE_ADMIN;
	if (role_text != NULL) {
		*role_text++ = '\0';
		role = gd_auth_role_parse(role_text);
	}
	if (!gd_auth_name_valid(line)) {
		snprintf(msg, msglen, "invalid user name");
		return -1;
	}
	if (hash[0] != '$') {
		snprintf(msg, msglen, "user '%.32s': not a crypt(3) hash (run 'gadgetd passwd')",
		         line);
		return -1;
	}
	if (role < 0) {
		snprintf(msg, msglen,
		         "user '%.32s': unknown role '%.16s' (viewer, operator, admin)", line,
		         role_text);
		return -1;
	}
	memset(u, 0, sizeof(*u));
	u->role = (enum gd_role)role;
	memcpy(u->name, line, strlen(line) + 1);
	u->hash = strdup(hash);
	return u->hash ? 0 : -1;
}

static int read_users(FILE *f, const char *path, struct user **out, size_t *count, char *err,
                      size_t errlen)
{
	struct user *users = NULL;
	size_t n = 0;
	char line[1024];
	for (int lineno = 1; fgets(line, sizeof(line), f) != NULL; lineno++) {
		struct user u;
		char msg[160];
		int rc = parse_line(line, &u, msg, sizeof(msg));
		if (rc == 1)
			continue;
		struct user *grown = rc == 0 ? realloc(users, (n + 1) * sizeof(*users)) : NULL;
		if (grown == NULL) {
			if (rc == 0)
				free(u.hash);
			free_users(users, n);
			snprintf(err, errlen, "%s:%d: %s", path, lineno,
			         rc < 0 ? msg : "out of memory");
			return -EINVAL;
		}
		users = grown;
		users[n++] = u;
	}
	*out = users;
	*count = n;
	return 0;
}

/* Loads PATH into AUTH, replacing the users it had. Caller holds the lock (or owns AUTH). */
static int load(struct gd_auth *auth, char *err, size_t errlen)
{
	FILE *f = fopen(auth->path, "re");
	if (f == NULL) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", auth->path, strerror(e));
		return -e;
	}
	struct stat st;
	struct user *users = NULL;
	size_t count = 0;
	int rc = fstat(fileno(f), &st) < 0 ? -errno : 0;
	if (rc == 0)
		rc = read_users(f, auth->path, &users, &count, err, errlen);
	else
		snprintf(err, errlen, "%s: %s", auth->path, strerror(-rc));
	fclose(f);
	if (rc < 0)
		return rc;
	free_users(auth->users, auth->count);
	auth->users = users;
	auth->count = count;
	auth->loaded = st;
	return 0;
}

int gd_auth_open(struct gd_auth **out, const char *path, char *err, size_t errlen)
{
	struct gd_auth *auth = calloc(1, sizeof(*auth));
	if (auth == NULL || (auth->path = strdup(path)) == NULL) {
		free(auth);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&auth->lock, NULL);
	int rc = 0;
	if (getrandom(auth->mac_key, sizeof(auth->mac_key), 0) != (ssize_t)sizeof(auth->mac_key)) {
		rc = -errno;
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
	}
	if (rc == 0)
		rc = load(auth, err, errlen);
	if (rc < 0) {
		gd_auth_close(auth);
		return rc;
	}
	*out = auth;
	return 0;
}

void gd_auth_close(struct gd_auth *auth)
{
	if (auth == NULL)
		return;
	free_users(auth->users, auth->count);
	OPENSSL_cleanse(auth->mac_key, sizeof(auth->mac_key));
	free(auth->dummy_hash);
	pthread_mutex_destroy(&auth->lock);
	free(auth->path);
	free(auth);
}

size_t gd_auth_user_count(struct gd_auth *auth)
{
	pthread_mutex_lock(&auth->lock);
	size_t n = auth->count;
	pthread_mutex_unlock(&auth->lock);
	return n;
}

/* Re-reads the users file if it was replaced or modified; keeps the old users on error. */
static void reload_if_changed(struct gd_auth *auth)
{
	struct stat st;
	if (stat(auth->path, &st) < 0)
		return;
	if (st.st_ino == auth->loaded.st_ino && st.st_size == auth->loaded.st_size &&
	    st.st_mtim.tv_sec == auth->loaded.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == auth->loaded.st_mtim.tv_nsec)
		return;
	char err[256];
	if (load(auth, err, sizeof(err)) < 0)
		GD_LOG_ERROR("keeping the previous users: %s", err);
	else
		GD_LOG_INFO("reloaded %zu user(s) from %s", auth->count, auth->path);
}

/* Splits "Basic base64(user:password)" into USER and PASS (both NUL-terminated). */
static int decode_basic(const char *header, char *user, size_t userlen, char *pass, size_t passlen)
{
	if (strlen(header) > HEADER_MAX || strncasecmp(header, "Basic ", 6) != 0)
		return -1;
	const char *b64 = header + 6;
	while (*b64 == ' ')
		b64++;
	size_t len = strlen(b64);
	if (len == 0 || len % 4 != 0)
		return -1;
	unsigned char decoded[HEADER_MAX];
	int n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts padding as zero bytes: drop one per '='. */
	for (size_t i = len; i > 0 && b64[i - 1] == '='; i--)
		n--;
	if (memchr(decoded, '\0', (size_t)n) != NULL)
		return -1;
	decoded[n] = '\0';
	char *colon = strchr((char *)decoded, ':');
	if (colon == NULL || colon == (char *)decoded)
		return -1;
	size_t ulen = (size_t)(colon - (char *)decoded);
	size_t plen = (size_t)n - ulen - 1;
	if (ulen >= userlen || plen >= passlen)
		return -1;
	snprintf(user, userlen, "%.*s", (int)ulen, (const char *)decoded);
	snprintf(pass, passlen, "%s", colon + 1);
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return 0;
}

static void password_mac(const struct gd_auth *auth, const char *password,
                         unsigned char out[MAC_LEN])
{
	/* Keyed by a per-process secret; a reload of the users file forgets every MAC. */
	unsigned int len = MAC_LEN;
	HMAC(EVP_sha256(), auth->mac_key, sizeof(auth->mac_key), (const unsigned char *)password,
	     strlen(password), out, &len);
}

static bool crypt_matches(const char *password, const char *hash)
{
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	const char *computed = crypt_r(password, hash, &data);
	bool ok = computed != NULL && computed[0] != '*' && strlen(computed) == strlen(hash) &&
	          CRYPTO_memcmp(computed, hash, strlen(hash)) == 0;
	OPENSSL_cleanse(&data, sizeof(data));
	return ok;
}

static struct user *find_user(struct gd_auth *auth, const char *name)
{
	for (size_t i = 0; i < auth->count; i++) {
		if (strcmp(auth->users[i].name, name) == 0)
			return &auth->users[i];
	}
	return NULL;
}

static enum gd_auth_result verify(struct gd_auth *auth, const char *name, const char *password,
                                  bool allow_slow, enum gd_role *role)
{
	struct user *u = find_user(auth, name);
	unsigned char mac[MAC_LEN];
	password_mac(auth, password, mac);
	bool ok = u != NULL && u->verified && CRYPTO_memcmp(mac, u->verified_mac, MAC_LEN) == 0;
	enum gd_auth_result res = ok ? GD_AUTH_OK : GD_AUTH_DENIED;
	if (!ok && !allow_slow) {
		res = GD_AUTH_THROTTLED;
	} else if (!ok && u == NULL) {
		/* Unknown users cost as much as known ones. Made on first use: start-up stays fast.
		 */
		if (auth->dummy_hash == NULL)
			auth->dummy_hash = hash_password("unknown user");
		if (auth->dummy_hash != NULL)
			crypt_matches(password, auth->dummy_hash);
	} else if (!ok && crypt_matches(password, u->hash)) {
		memcpy(u->verified_mac, mac, MAC_LEN);
		u->verified = true;
		res = GD_AUTH_OK;
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	if (res == GD_AUTH_OK)
		*role = u->role;
	return res;
}

enum gd_auth_result gd_auth_check_password(struct gd_auth *auth, const char *name,
                                           const char *password, bool allow_slow,
                                           enum gd_role *role)
{
	pthread_mutex_lock(&auth->lock);
	reload_if_changed(auth);
	enum gd_auth_result res = verify(auth, name, password, allow_slow, role);
	pthread_mutex_unlock(&auth->lock);
	return res;
}

enum gd_auth_result gd_auth_check_basic(struct gd_auth *auth, const char *header, bool allow_slow,
                                        char *user, size_t userlen, enum gd_role *role)
{
	if (header == NULL)
		return GD_AUTH_MISSING;
	char name[HEADER_MAX], pass[HEADER_MAX];
	if (decode_basic(header, name, sizeof(name), pass, sizeof(pass)) < 0)
		return GD_AUTH_MALFORMED;
	enum gd_auth_result res = gd_auth_check_password(auth, name, pass, allow_slow, role);
	OPENSSL_cleanse(pass, sizeof(pass));
	/* The name goes to the log on failure too: only what fits, never the password. */
	snprintf(user, userlen, "%s", name);
	return res;
}

int gd_auth_user_role(struct gd_auth *auth, const char *name, enum gd_role *role)
{
	pthread_mutex_lock(&auth->lock);
	reload_if_changed(auth);
	const struct user *u = find_user(auth, name);
	if (u != NULL)
		*role = u->role;
	pthread_mutex_unlock(&auth->lock);
	return u != NULL ? 0 : -ENOENT;
}

/* Copies the users file at PATH to OUT, leaving out USER's line; its role into *ROLE. */
static int copy_other_users(const char *path, const char *user, FILE *out, int *role)
{
	FILE *in = fopen(path, "re");
	if (in == NULL)
		return errno == ENOENT ? 0 : -errno;
	char line[1024];
	size_t ulen = strlen(user);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, user, ulen) != 0 || line[ulen] != ':') {
			fputs(line, out);
			continue;
		}
		char *role_text = strchr(line + ulen + 1, ':');
		if (*role < 0 && role_text != NULL) {
			role_text[1 + strcspn(role_text + 1, "\r\n")] = '\0';
			*role = gd_auth_role_parse(role_text + 1);
		}
	}
	int rc = ferror(in) ? -EIO : 0;
	fclose(in);
	return rc;
}

static char *hash_password(const char *password)
{
	char *setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (setting == NULL)
		return NULL;
	void *data = NULL;
	int size = 0;
	char *hash = crypt_ra(password, setting, &data, &size);
	char *copy = (hash != NULL && hash[0] != '*') ? strdup(hash) : NULL;
	if (data != NULL)
		OPENSSL_cleanse(data, (size_t)size);
	free(data);
	free(setting);
	return copy;
}

int gd_auth_set_password(const char *path, const char *user, const char *password, int role,
                         char *err, size_t errlen)
{
	if (!gd_auth_name_valid(user)) {
		snprintf(err, errlen, "'%s' is not a valid user name (1-32 of A-Z a-z 0-9 . _ -)",
		         user);
		return -EINVAL;
	}
	if (password[0] == '\0') {
		snprintf(err, errlen, "empty password");
		return -EINVAL;
	}
	char *hash = hash_password(password);
	if (hash == NULL) {
		snprintf(err, errlen, "crypt(3) could not hash the password");
		return -EINVAL;
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	int rc = out ? 0 : -errno;
	if (rc == 0)
		rc = copy_other_users(path, user, out, &role);
	if (rc == 0 &&
	    fprintf(out, "%s:%s:%s\n", user, hash,
	            gd_auth_role_name(role < 0 ? GD_ROLE_ADMIN : (enum gd_role)role)) < 0)
		rc = -EIO;
	if (rc == 0 && (fflush(out) != 0 || fsync(fileno(out)) != 0))
		rc = -errno;
	if (out != NULL && fclose(out) != 0 && rc == 0)
		rc = -errno;
	else if (out == NULL && fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	free(hash);
	if (rc < 0) {
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	}
	return rc;
}
