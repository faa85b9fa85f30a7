/*
 * Fuzzes image-name validation (gd_media_name_valid), which stands between a name from the API
 * (PUT /api/images/{name}, {"image": ...}, {"name": ...}) and a path in the image store. The
 * input is the name. Invariants checked independently of media.c: a valid name is 1 to
 * GD_MEDIA_NAME_MAX bytes of UTF-8, has no '/', '\\', "..", control character or DEL, and does
 * not start with '.' or '-'; an invalid one comes with a terminated message. The input's bytes
 * also go to gd_media_detect_kind (the first bytes of an image).
 */
#include <string.h>

#include "fuzz.h"
#include "media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_string(data, size);
	size_t len = strlen(name);
	char err[256];
	memset(err, 'x', sizeof(err));
	if (gd_media_name_valid(name, err, sizeof(err))) {
		FUZZ_CHECK(len >= 1 && len <= GD_MEDIA_NAME_MAX);
		FUZZ_CHECK(name[0] != '.' && name[0] != '-');
		FUZZ_CHECK(strchr(name, '/') == NULL && strchr(name, '\\') == NULL);
		FUZZ_CHECK(strstr(name, "..") == NULL);
		FUZZ_CHECK(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK((unsigned char)name[i] >= 0x20 && name[i] != 0x7f);
		FUZZ_CHECK(fuzz_utf8_valid(name, len));
	} else {
		FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
		FUZZ_CHECK(strncmp(err, "image name ", 11) == 0);
	}
	free(name);

	enum gd_media_kind kind = gd_media_detect_kind(data, size);
	FUZZ_CHECK(kind == GD_MEDIA_UNKNOWN || kind == GD_MEDIA_ISO || kind == GD_MEDIA_IMG);
	FUZZ_CHECK(gd_media_kind_name(kind) != NULL);
	return 0;
}
