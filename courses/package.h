/*
 * package.h - a course as a package: a zip file holding manifest.json
 * (the course, its units in order, and which file each unit holds) and the
 * material files under materials/<sha256>, so that a course moves between
 * institutions or servers intact (`tinchi course export|import`, and the
 * HTTP API).
 *
 * manifest.json:
 *   {"format": "tinchi-course", "version": 1,
 *    "course": {"code", "title", "description", "language", "credits",
 *               "level", "tags": [...], "starts_on", "ends_on", "capacity"},
 *    "units": [{"kind", "title", "required", "body"?,
 *               "material"?: {"file": "materials/<sha256>", "kind", "name",
 *                             "type", "sha256", "size"}}]}
 *
 * Importing trusts nothing in the package: the zip is refused whole if any
 * entry is unsafe (storage/zip.h), every field is checked by the same rules
 * as the API, every file's type is decided again from its bytes and its
 * SHA-256 must match the manifest. The course is created as a draft.
 */
#ifndef TINCHI_PACKAGE_H
#define TINCHI_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "courses/course.h"
#include "storage/store.h"

#define COURSE_PACKAGE_FORMAT "tinchi-course"
#define COURSE_PACKAGE_VERSION 1

/* Writes course C (with its units and their materials from DATA_DIR's
 * content store) as a package to OUT_FD (seekable). 0, TC_EIO, TC_ENOMEM,
 * TC_EDB; WHY says what failed. */
int package_export(struct store *st, const char *data_dir, const struct course *c,
		   int out_fd, char *why, size_t whylen);

/* WHY of an import refused for the institution's storage quota. */
#define PACKAGE_QUOTA_WHY "the institution's storage quota is used up"

/*
 * Creates a draft course at INSTITUTION_ID owned by OWNER_ID from the
 * package IN_FD. CODE (may be NULL) replaces the package's course code.
 * ROOM is how many bytes of materials the institution may still add (its
 * quota less its usage; INT64_MAX: no quota): every unit's material counts
 * (as its own material row does), checked from the declared sizes before
 * any file is read. A file is extracted and stored once however many units
 * name it. OUT receives the course. 0; TC_EINVALID (the package is unsafe
 * or not valid, or a unit holds a material of a kind it cannot hold: WHY
 * says which part), TC_ECONFLICT (the code is taken), TC_EUNSUPPORTED (a
 * file's type does not fit its kind), TC_ETOOBIG (a file over its kind's
 * size limit, or over ROOM: WHY is PACKAGE_QUOTA_WHY), TC_EIO, TC_EDB. On
 * failure nothing is left behind.
 */
int package_import(struct store *st, const char *data_dir, int in_fd, int64_t institution_id,
		   int64_t owner_id, const char *code, int64_t room, struct course *out,
		   char *why, size_t whylen);

#endif
