/*
 * courses.h - persistence of courses, their lecturers, the catalog search
 * and enrolments (schema migration 3).
 *
 * The catalog's free-text index holds folded text (courses/fold.h) that
 * the caller computes, so the store needs no knowledge of Vietnamese;
 * SQLite's FTS5 is behind this interface (a PostgreSQL backend would use
 * its own full-text search). Same conventions as storage/identity.h.
 */
#ifndef TINCHI_STORE_COURSES_H
#define TINCHI_STORE_COURSES_H

#include <stddef.h>
#include <stdint.h>

#include "courses/course.h"
#include "storage/store.h"

/* Adds C (id, uid and timestamps as given; id is filled in) with its
 * folded search text. TC_ECONFLICT: the code is taken at the institution. */
int store_course_add(struct store *s, struct course *c, const char *search_text);
/* Replaces every field but id, uid, institution, owner and created_at. */
int store_course_update(struct store *s, const struct course *c, const char *search_text);
int store_course_get(struct store *s, const char *uid, struct course *out);
int store_course_get_id(struct store *s, int64_t id, struct course *out);
int store_course_get_by_code(struct store *s, int64_t institution_id, const char *code,
			     struct course *out);

int store_course_lecturer_add(struct store *s, int64_t course_id, int64_t person_id);
int store_course_lecturer_remove(struct store *s, int64_t course_id, int64_t person_id);
/* *yes = 1 when PERSON_ID owns or co-teaches the course. */
int store_course_is_lecturer(struct store *s, int64_t course_id, int64_t person_id, int *yes);

struct catalog_query {
	int64_t institution_id;		/* 0: all */
	char language[8];		/* "": all */
	char level[64];			/* "": all */
	int credits_x10;		/* 0: any; else exactly */
	char match[512];		/* FTS5 expression over folded text; "": none */
	/* keyset: the last row of the previous page */
	int64_t after_id;
	double after_rank;		/* with match */
	int limit;
};

/* Published courses matching Q, by rank then id (by id without MATCH).
 * CB gets each course and its rank (0 without MATCH). */
int store_catalog_each(struct store *s, const struct catalog_query *q,
		       int (*cb)(const struct course *c, double rank, void *arg), void *arg);

/* Enrols (or re-enrols) idempotently. *added = 1 when it was not enrolled. */
int store_enrol(struct store *s, int64_t course_id, int64_t person_id, int64_t now, int *added);
/* TC_ENOTFOUND when not enrolled. */
int store_unenrol(struct store *s, int64_t course_id, int64_t person_id, int64_t now);
int store_is_enrolled(struct store *s, int64_t course_id, int64_t person_id, int *yes);
int store_enrolment_count(struct store *s, int64_t course_id, int64_t *n);
/* Enrolled people by person id after AFTER_ID, at most LIMIT. */
int store_roster_each(struct store *s, int64_t course_id, int64_t after_id, int limit,
		      int (*cb)(int64_t person_id, const char *uid, const char *full_name,
				const char *student_code, int64_t enrolled_at, void *arg),
		      void *arg);
/*
 * The courses PERSON_ID is enrolled in now (not left), whatever their
 * status, the latest enrolment first, at most LIMIT (1-1000).
 */
int store_my_courses_each(struct store *s, int64_t person_id, int limit,
			  int (*cb)(const struct course *c, int64_t enrolled_at, void *arg),
			  void *arg);
/*
 * The courses PERSON_ID teaches (owns or co-teaches), whatever their status,
 * the newest first, at most LIMIT (1-1000).
 */
int store_teaching_each(struct store *s, int64_t person_id, int limit,
			int (*cb)(const struct course *c, void *arg), void *arg);

/* ---- materials (files in the content store) and units ------------------------ */

struct material {
	int64_t id;
	char uid[37];
	int64_t institution_id, course_id;
	char sha256[65];
	char type[64];			/* detected MIME type */
	int64_t size;
	char kind[16];			/* video, audio, document, captions, package */
	char name[256];			/* the uploader's file name, for downloads */
	int64_t created_by, created_at;
};

int store_material_add(struct store *s, struct material *m);
int store_material_get(struct store *s, const char *uid, struct material *out);
/* Materials rows that point at a content hash (0: the file may go). */
int store_material_refs(struct store *s, const char *sha256, int64_t *n);
/* Removes the stored file SHA256 from DATA_DIR's content store when no
 * material refers to it: 0 (removed, or still used), TC_E* of the look-up
 * or the removal (an absent file is not an error). */
int store_content_release(struct store *s, const char *data_dir, const char *sha256);
/* Removes a material no unit uses; TC_ECONFLICT when one does. */
int store_material_delete(struct store *s, int64_t id);
/* Bytes of all materials of an institution (its quota use). */
int store_institution_usage(struct store *s, int64_t institution_id, int64_t *bytes);

#define UNIT_TITLE_MAX 200
#define UNIT_BODY_MAX 65536

struct unit {
	int64_t id;
	char uid[37];
	int64_t course_id;
	int position;			/* 1-based */
	char kind[16];			/* video, document, text, quiz */
	char title[UNIT_TITLE_MAX + 1];
	char *body;			/* text units (Markdown): owned, may be NULL */
	int required;
	int64_t material_id;		/* 0: none */
	char material_uid[37];
	int64_t created_at, updated_at;
};

/* Appends U at the end of its course (position and id filled in). */
int store_unit_add(struct store *s, struct unit *u);
int store_unit_update(struct store *s, const struct unit *u);
/* OUT->body is allocated (free it). */
int store_unit_get(struct store *s, const char *uid, struct unit *out);
int store_unit_delete(struct store *s, int64_t id);
/* Units of a course in order; CB's unit body is borrowed for the call. */
int store_units_each(struct store *s, int64_t course_id,
		     int (*cb)(const struct unit *u, void *arg), void *arg);
/* Sets the order: IDS must be exactly the course's units (TC_EINVALID). */
int store_units_reorder(struct store *s, int64_t course_id, const int64_t *ids, size_t n);

/* ---- resumable uploads ------------------------------------------------------------ */

struct upload {
	int64_t id;
	char uid[37];
	int64_t institution_id, course_id, created_by;
	char kind[16];
	char name[256];
	int64_t size;			/* declared total */
	int64_t received;		/* bytes stored so far, from 0, without gaps */
	int64_t created_at, updated_at;
	char material_uid[37];		/* once finished: the material made, else "" */
};

int store_upload_add(struct store *s, struct upload *u);
int store_upload_get(struct store *s, const char *uid, struct upload *out);
/* Moves RECEIVED from FROM to TO (only if it is still FROM: TC_ECONFLICT
 * otherwise, e.g. two clients sending the same chunk at once). */
int store_upload_advance(struct store *s, int64_t id, int64_t from, int64_t to, int64_t now);
int store_upload_delete(struct store *s, int64_t id);
/* Marks upload ID finished as MATERIAL_UID (only once: TC_ECONFLICT after). */
int store_upload_finished(struct store *s, int64_t id, const char *material_uid, int64_t now);
/* Uploads not touched since BEFORE, oldest first, at most LIMIT. */
int store_uploads_stale(struct store *s, int64_t before, int limit,
			int (*cb)(const struct upload *u, void *arg), void *arg);

#endif
