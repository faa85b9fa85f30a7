/*
 * Fuzzes what a client controls of authentication besides the HTTP parser: the Authorization
 * header (Basic decoding; passwords are never hashed here, as for a throttled client), a
 * Bearer secret against the API tokens, and the tokens file itself as gd_tokens_open reads it.
 *
 * Invariants: a header decodes to a result of the enum, and the user name copied out is
 * terminated and fits; no input is a valid token but the one created at start; a tokens file
 * either opens (and lists at most GD_TOKEN_MAX tokens) or fails with -EINVAL naming the file.
 */
#include <errno.h>
#include <time.h>

#include "auth.h"
#include "fuzz.h"
#include "token.h"

static struct gd_auth *users;
static struct gd_tokens *tokens;
static char secret[GD_TOKEN_TEXT + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char dir[] = "/dev/shm/gadgetd-fuzz-access-XXXXXX", path[128], err[256];
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/users", dir);
	json_t *rec = NULL;
	if (gd_auth_set_password(path, "admin", "secret", -1, err, sizeof(err)) < 0 ||
	    gd_auth_open(&users, path, err, sizeof(err)) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	if (gd_tokens_open(&tokens, path, err, sizeof(err)) < 0 ||
	    gd_tokens_create(tokens, "ci", GD_ROLE_OPERATOR, "admin", 0, secret, &rec, err,
	                     sizeof(err)) < 0)
		abort();
	json_decref(rec);
	return 0;
}

static void check_header(const char *header)
{
	char user[GD_AUTH_NAME_MAX + 16];
	memset(user, 'x', sizeof(user));
	user[sizeof(user) - 1] = '\0';
	enum gd_role role = GD_ROLE_VIEWER;
	enum gd_auth_result res =
	    gd_auth_check_basic(users, header, false, user, sizeof(user), &role);
	FUZZ_CHECK(res == GD_AUTH_MALFORMED || res == GD_AUTH_THROTTLED);
	FUZZ_CHECK(fuzz_terminated(user, sizeof(user)));
}

static void check_bearer(const char *text)
{
	char name[GD_AUTH_NAME_MAX + 1];
	enum gd_role role;
	int rc = gd_tokens_check(tokens, text, time(NULL), name, sizeof(name), &role);
	FUZZ_CHECK(rc == -ENOENT || (rc == 0 && strcmp(text, secret) == 0));
}

static void check_tokens_file(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct gd_tokens *t = NULL;
	char err[512];
	memset(err, 'x', sizeof(err));
	int rc = gd_tokens_open(&t, path, err, sizeof(err));
	if (rc == 0) {
		json_t *list = gd_tokens_list(t);
		FUZZ_CHECK(list != NULL && json_array_size(list) <= GD_TOKEN_MAX);
		json_decref(list);
		gd_tokens_close(t);
	} else {
		FUZZ_CHECK(rc == -EINVAL);
		FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	check_header(text);
	size_t len = strlen(text) + 7;
	char *basic = malloc(len);
	if (basic == NULL)
		abort();
	snprintf(basic, len, "Basic %s", text);
	check_header(basic);
	free(basic);
	check_bearer(text);
	free(text);
	check_tokens_file(data, size);
	return 0;
}
