/* ipmi_users: the file of IPMI passwords (see ipmi_users.h for why they are kept as such). */
#include "ipmi_users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth.h"

/* "NAME:" starts LINE. */
static const char *value_of(const char *line, const char *name)
{
	size_t n = strlen(name);
	return strncmp(line, name, n) == 0 && line[n] == ':' ? line + n + 1 : NULL;
}

int gd_ipmi_users_password(const char *path, const char *name,
                           char password[GD_IPMI_PASSWORD_MAX + 1])
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || (st.st_mode & 077) != 0) {
		fclose(f);
		return -EPERM;
	}
	char line[256];
	int rc = -ENOENT;
	while (rc == -ENOENT && fgets(line, sizeof(line), f) != NULL) {
		const char *v = value_of(line, name);
		size_t len = v ? strcspn(v, "\r\n") : 0;
		if (v != NULL && len > 0 && len <= GD_IPMI_PASSWORD_MAX) {
			memcpy(password, v, len);
			password[len] = '\0';
			rc = 0;
		}
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	return rc;
}

/* Copies the lines of PATH (if it exists) but NAME's into OUT. */
static int copy_others(const char *path, const char *name, FILE *out)
{
	FILE *in = fopen(path, "re");
	if (in == NULL)
		return errno == ENOENT ? 0 : -errno;
	char line[256];
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), in) != NULL)
		if (value_of(line, name) == NULL && fputs(line, out) < 0)
			rc = -EIO;
	OPENSSL_cleanse(line, sizeof(line));
	fclose(in);
	return rc;
}

int gd_ipmi_users_set(const char *path, const char *name, const char *password, char *err,
                      size_t errlen)
{
	size_t len = strlen(password);
	if (!gd_auth_name_valid(name) || strlen(name) > GD_IPMI_NAME_MAX) {
		snprintf(err, errlen,
		         "'%s' is not a valid IPMI user name (1-16 of A-Z a-z 0-9 . _ -)", name);
		return -EINVAL;
	}
	if (len == 0 || len > GD_IPMI_PASSWORD_MAX || strpbrk(password, ":\r\n") != NULL) {
		snprintf(err, errlen,
		         "an IPMI password has 1 to 20 bytes and no ':' or line break");
		return -EINVAL;
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	int rc = out ? copy_others(path, name, out) : -errno;
	if (rc == 0 && fprintf(out, "%s:%s\n", name, password) < 0)
		rc = -EIO;
	if (rc == 0 && (fflush(out) != 0 || fsync(fileno(out)) != 0))
		rc = -errno;
	if (out != NULL && fclose(out) != 0 && rc == 0)
		rc = -errno;
	else if (out == NULL && fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	}
	return rc;
}
