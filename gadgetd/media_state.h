/*
 * media_state: what is inserted, persisted in the state directory (written atomically) so a
 * restart of gadgetd or a reboot of the Pi puts the same medium back. Pure parser for tests.
 */
#ifndef GD_MEDIA_STATE_H
#define GD_MEDIA_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lun.h"

struct gd_media_state {
	char image[256]; /* image name in the store; empty when nothing is inserted */
	enum gd_lun_mode mode;
	bool readonly;
};

/*
 * Parses the state file's bytes: {"image": NAME, "mode": "cdrom"|"disk", "readonly": BOOL},
 * where an empty or absent image means ejected (mode and readonly are then optional). Strict:
 * wrong types, other modes, unknown or duplicate keys, names that are not a plain file name
 * or longer than 255 bytes are errors. Returns 0, or -1 with a message in ERR (never logs)
 * and *OUT empty.
 */
int gd_media_state_parse(const uint8_t *data, size_t len, struct gd_media_state *out, char *err,
                         size_t errlen);

/*
 * Loads PATH. A missing file is an empty state (returns 0); a corrupt one (or one over 4 KiB)
 * returns -EINVAL with ERR ("PATH: why") and leaves *OUT empty. Other errors -errno.
 */
int gd_media_state_load(const char *path, struct gd_media_state *out, char *err, size_t errlen);

/*
 * Writes STATE to PATH through PATH.tmp (fsync, rename, fsync of the directory), so PATH is
 * always the old or the new document. Returns 0, -EINVAL for a state that would not load
 * back, or -errno (PATH.tmp is removed on failure).
 */
int gd_media_state_save(const char *path, const struct gd_media_state *state);

#endif
