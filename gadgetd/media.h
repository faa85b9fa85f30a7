/*
 * media: the image store (list, kinds, checksums, streamed uploads through a temporary file,
 * downloads from a URL, delete) and the medium inserted in the gadget's LUN, restored at start.
 */
#ifndef GD_MEDIA_H
#define GD_MEDIA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "gadget.h"
#include "jobs.h"
#include "lun.h"

#define GD_MEDIA_NAME_MAX 128

enum gd_media_kind { GD_MEDIA_UNKNOWN, GD_MEDIA_ISO, GD_MEDIA_IMG };

/* Pure helpers, for tests. */
int gd_media_name_valid(const char *name, char *err, size_t errlen);
/* Kind from the first bytes of an image (at least 34 KiB for ISO9660, else fewer is fine). */
enum gd_media_kind gd_media_detect_kind(const uint8_t *head, size_t len);
const char *gd_media_kind_name(enum gd_media_kind kind);

struct gd_media;

/*
 * Opens the store of CFG (creating it), removes leftovers of interrupted uploads, and puts
 * back the medium recorded in the state dir into the LUN at LUN_DIR (NULL without mass
 * storage). Returns 0 or -errno with ERR.
 */
int gd_media_open(struct gd_media **out, const struct gd_config *cfg, const char *lun_dir,
                  struct gd_gadget *gadget, char *err, size_t errlen);
void gd_media_close(struct gd_media *media);

json_t *gd_media_list(struct gd_media *media);
/* One image's entry, or NULL if there is none by that name. */
json_t *gd_media_image(struct gd_media *media, const char *name);
/* Opens an image for reading: returns an fd and its size, or -errno. */
int gd_media_open_image(struct gd_media *media, const char *name, uint64_t *size);
/* Returns 0, -EINVAL (bad name), -ENOENT, or -EBUSY while inserted. */
int gd_media_delete(struct gd_media *media, const char *name, char *err, size_t errlen);

/* A streamed upload: begin, write chunks, then finish or abort. */
struct gd_upload;
/*
 * Starts an upload of NAME. EXPECTED_SIZE (0 if unknown) is checked against free space;
 * SHA256_HEX (or NULL) is verified before the image appears. Returns 0, -EINVAL (name or
 * checksum syntax), -EBUSY (NAME is inserted), -ENOSPC, or another -errno; ERR says why.
 */
int gd_media_upload_begin(struct gd_media *media, const char *name, uint64_t expected_size,
                          const char *sha256_hex, struct gd_upload **out, char *err, size_t errlen);
/* Returns 0, -ENOSPC (the store is full: the upload is over) or -EIO. */
int gd_media_upload_write(struct gd_upload *up, const void *data, size_t len);
/* Completes: checksum, fsync, rename. Returns 0 or -EBADMSG (checksum) / -errno; frees UP. */
int gd_media_upload_finish(struct gd_upload *up, char *err, size_t errlen);
/* Drops the temporary file; frees UP. */
void gd_media_upload_abort(struct gd_upload *up);
const char *gd_media_upload_name(const struct gd_upload *up);

/* Queues a download of URL into NAME; returns the job id or 0 with ERR. */
uint64_t gd_media_download(struct gd_media *media, const char *url, const char *name,
                           const char *user, char *err, size_t errlen);
struct gd_jobs *gd_media_jobs(struct gd_media *media);
/*
 * Downloads URL into NAME within JOB (its progress, its cancellation), for a job that does
 * more than download. Returns 0, -ECANCELED, or -1 with ERR.
 */
int gd_media_fetch(struct gd_media *media, struct gd_job *job, const char *url, const char *name,
                   char *err, size_t errlen);

/* What a HEAD request says of a URL's content, to tell whether a copy is still current. */
#define GD_MEDIA_VALIDATOR_MAX 128
struct gd_media_source {
	char etag[GD_MEDIA_VALIDATOR_MAX];          /* empty: none sent */
	char last_modified[GD_MEDIA_VALIDATOR_MAX]; /* empty: none sent */
	uint64_t size;                              /* 0: not said */
};
/* HEAD of URL into OUT: 0, or -errno with ERR (a bad URL: -EINVAL). */
int gd_media_probe(const char *url, struct gd_media_source *out, char *err, size_t errlen);

/*
 * Inserts NAME; *FORCED tells whether the host had the drive locked. A change between
 * CD-ROM and disk re-enumerates the gadget (*REENUMERATED): hosts keep the device type they
 * saw at enumeration. Returns 0 or -errno.
 */
int gd_media_insert(struct gd_media *media, const char *name, enum gd_lun_mode mode, bool readonly,
                    bool *forced, bool *reenumerated, char *err, size_t errlen);
int gd_media_eject(struct gd_media *media, bool *forced, char *err, size_t errlen);
/* {"inserted", "image", "mode", "readonly", "size"} */
json_t *gd_media_state_json(struct gd_media *media);

#endif
