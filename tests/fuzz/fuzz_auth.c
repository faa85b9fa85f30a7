/*
 * Fuzzes the users file parser: the input is a users file ("name:crypt-hash[:role]" lines),
 * opened with gd_auth_open as the daemon does at start. No password is checked (crypt(3) is
 * slow by design): only parsing, counting and freeing. The input is also tried as a user
 * name (gd_auth_name_valid) and a role (gd_auth_role_parse).
 *
 * Invariants: an error is -EINVAL with "PATH:LINE: ..." (or -ENOMEM); a file opens only if
 * every line is blank, a comment or a valid user; a valid user name is 1-32 of
 * [A-Za-z0-9._-], not starting with '.' or '-'.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "auth.h"
#include "fuzz.h"

static void check_name(const char *name)
{
	size_t len = strlen(name);
	if (!gd_auth_name_valid(name))
		return;
	FUZZ_CHECK(len >= 1 && len <= GD_AUTH_NAME_MAX);
	FUZZ_CHECK(name[0] != '.' && name[0] != '-');
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(isalnum((unsigned char)name[i]) || strchr("._-", name[i]) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct gd_auth *auth = NULL;
	char err[512];
	memset(err, 'x', sizeof(err));
	int rc = gd_auth_open(&auth, path, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(auth != NULL);
		size_t users = gd_auth_user_count(auth);
		size_t lines = 0;
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n';
		FUZZ_CHECK(users <= lines + 1);
		gd_auth_close(auth);
	} else {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM);
		FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
	}

	char *s = fuzz_string(data, size);
	check_name(s);
	int role = gd_auth_role_parse(s);
	FUZZ_CHECK(role >= -1 && role <= GD_ROLE_ADMIN);
	if (role >= 0)
		FUZZ_CHECK(strcmp(gd_auth_role_name((enum gd_role)role), s) == 0);
	free(s);
	return 0;
}
