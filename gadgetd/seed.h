/*
 * seed: the answer-file disk: a small FAT image with a volume label (OEMDRV for Kickstart,
 * CIDATA for cloud-init, any for a preseed or autounattend.xml) holding the files given, made
 * with Debian's dosfstools (mkfs.fat) and mtools (mcopy), never by hand.
 */
#ifndef GD_SEED_H
#define GD_SEED_H

#include <jansson.h>
#include <stddef.h>

/*
 * Builds at PATH (through PATH.tmp, renamed when complete) a FAT image labelled LABEL with
 * FILES ({"name": "text", ...}) in its root. The image is sized for its files (1 MiB at
 * least). Returns 0, or -errno with ERR saying which tool failed and what it said; nothing is
 * left at PATH.tmp.
 */
int gd_seed_build(const char *path, const char *label, json_t *files, char *err, size_t errlen);

/*
 * The answer-file disk as the server sees it: builds the image at PATH as above and inserts
 * it, read-only, into the LUN whose configfs directory is LUN_DIR (replacing what was there:
 * a server holding the old one is forced). Returns 0 or -errno with ERR.
 */
int gd_seed_insert(const char *lun_dir, const char *path, const char *label, json_t *files,
                   char *err, size_t errlen);

/* Empties the answer-file LUN and removes its image at PATH. Returns 0 or -errno with ERR. */
int gd_seed_eject(const char *lun_dir, const char *path, char *err, size_t errlen);

#endif
