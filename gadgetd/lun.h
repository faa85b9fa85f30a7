/*
 * lun: the mass-storage LUN's configfs attributes (file, cdrom, ro, removable, forced_eject,
 * inquiry_string), written in the order f_mass_storage demands. The seam is the LUN's
 * directory, so tests can point it at plain files.
 */
#ifndef GD_LUN_H
#define GD_LUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The kernel's CD-ROM emulation addresses at most (256*60*75 - 1) blocks of 2048 bytes
 * (MSF addressing) and silently truncates larger images.
 */
#define GD_LUN_CDROM_MAX_BYTES ((uint64_t)(256 * 60 * 75 - 1) * 2048)

enum gd_lun_mode { GD_LUN_CDROM, GD_LUN_DISK };

struct gd_lun_state {
	char file[4096];       /* backing file, empty when ejected */
	enum gd_lun_mode mode; /* as last set */
	bool readonly;
};

/*
 * Inserts PATH (SIZE bytes) into the LUN whose configfs directory is DIR: ejects what is
 * there (with forced_eject if the host holds the door locked), sets cdrom, ro and
 * removable (always 1), then file. *FORCED (may be NULL) tells whether the host had to be
 * forced. READONLY only matters for a disk: a CD-ROM is always read-only. Refuses, before
 * touching the LUN, CD-ROM images over GD_LUN_CDROM_MAX_BYTES (-EFBIG) or under 300 sectors
 * of 2048 bytes, the kernel's minimum (-EINVAL), and disk images under 512 bytes (-EINVAL),
 * with a message that says what to do. Returns 0 or -errno with a one-line ERR naming the
 * attribute; the kernel's own refusal of PATH comes back as its errno (it may be 525,
 * ETOOSMALL, which libc does not name) and leaves the LUN empty.
 */
int gd_lun_insert(const char *dir, const char *path, uint64_t size, enum gd_lun_mode mode,
                  bool readonly, bool *forced, char *err, size_t errlen);

/*
 * Empties the LUN (forced_eject if the host holds it; *FORCED, which may be NULL, says so).
 * Returns 0 or -errno with ERR.
 */
int gd_lun_eject(const char *dir, bool *forced, char *err, size_t errlen);

/*
 * Reads what DIR's LUN holds now (file, cdrom, ro). Returns 0, or -errno (-EINVAL for a
 * cdrom or ro that is not 0 or 1) and leaves *STATE zeroed.
 */
int gd_lun_read(const char *dir, struct gd_lun_state *state);

/*
 * Sets the SCSI INQUIRY string: VENDOR(8), PRODUCT(16) and REVISION(4), each cut or padded
 * with spaces to its width (NULL is empty). Returns 0, -EINVAL for characters outside
 * printable ASCII, or -errno.
 */
int gd_lun_set_inquiry(const char *dir, const char *vendor, const char *product,
                       const char *revision);

#endif
