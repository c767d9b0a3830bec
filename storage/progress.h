/*
 * progress.h - persistence of learning progress (schema migration 7):
 *
 *   progress    one row per (person, unit): the watched ranges (text form of
 *               courses/ranges.h, ms), the resume position and the client
 *               time of the message that set it, the media duration, the
 *               percent watched, when a document or text was viewed, when
 *               the unit was completed (set once, never cleared), and
 *               the pace credit of watched time (migration 24);
 *   deliveries  one row per (person, material): the media time actually
 *               sent to that person (whole HLS segments), ranges in ms.
 *
 * Writes are read-modify-write inside one transaction (BEGIN IMMEDIATE on
 * SQLite; a row lock on PostgreSQL), so two connections of one learner
 * never lose each other's ranges. Same conventions as storage/identity.h:
 * 0 or a TC_E* code; text out-parameters are allocated (free()).
 */
#ifndef TINCHI_STORE_PROGRESS_H
#define TINCHI_STORE_PROGRESS_H

#include <stdint.h>

#include "storage/store.h"

struct progress {
	int64_t person_id, unit_id, course_id;
	char *watched;			/* ranges text, owned ("" when none) */
	int64_t position_ms, position_at, duration_ms;
	double percent;			/* 0..100 watched of the duration */
	int64_t viewed_at, completed_at, updated_at;	/* unix seconds; 0: not yet */
	int64_t pace_ms, pace_at;	/* watched-time credit, ms of media, at server
					 * ms pace_at (0: never; courses/progress.h) */
	int exists;			/* 0: no row yet (a blank one) */
};

/* Frees what P owns; accepts NULL. */
void store_progress_cleanup(struct progress *p);

/* The row of PERSON_ID in UNIT_ID into OUT (clean it up). TC_ENOTFOUND. */
int store_progress_get(struct store *s, int64_t person_id, int64_t unit_id,
		       struct progress *out);

/*
 * Read-modify-write of one row in one transaction: loads the row of
 * (PERSON_ID, UNIT_ID) (a blank one with COURSE_ID when there is none) and
 * the delivered ranges of (PERSON_ID, MATERIAL_ID) ("" when MATERIAL_ID is
 * 0 or nothing was delivered), calls EDIT, which may change the row (it may
 * replace row->watched with another malloc'd string) and returns 0 to save
 * it, PROGRESS_UNCHANGED to leave it as it was, or a TC_E* code to roll back
 * and fail with it. Commits before returning 0. OUT (may be NULL) gets the
 * row as saved (clean it up; blank on failure). UPDATED_AT is NOW.
 */
#define PROGRESS_UNCHANGED 1
int store_progress_edit(struct store *s, int64_t person_id, int64_t unit_id, int64_t course_id,
			int64_t material_id, int64_t now,
			int (*edit)(struct progress *row, const char *delivered, void *arg),
			void *arg, struct progress *out);

/*
 * store_progress_edit without a transaction of its own, for a caller that
 * groups many edits in one (server/progress_writer.h: BEGIN, edits,
 * COMMIT): the same read-modify-write, seeing the caller's earlier writes.
 * Nothing is committed; on failure the caller rolls back (a failed EDIT or
 * argument check writes nothing). OUT as above.
 */
int store_progress_edit_in(struct store *s, int64_t person_id, int64_t unit_id,
			   int64_t course_id, int64_t material_id, int64_t now,
			   int (*edit)(struct progress *row, const char *delivered, void *arg),
			   void *arg, struct progress *out);

/*
 * Adds [FROM_MS, TO_MS) to what was delivered of MATERIAL_ID to PERSON_ID,
 * in one transaction. TC_EINVALID for a bad span, TC_ETOOBIG when the set
 * is full (nothing changes).
 */
int store_delivery_add(struct store *s, int64_t person_id, int64_t material_id, int64_t from_ms,
		       int64_t to_ms, int64_t now);
/* The delivered ranges text into *OUT (allocated; "" when none). */
int store_delivery_get(struct store *s, int64_t person_id, int64_t material_id, char **out);

/* A unit of a course with one learner's progress in it (for completion
 * rules and the learner's course view). */
struct progress_unit {
	int64_t unit_id;
	char unit_uid[37];
	char kind[16];			/* video, document, text, quiz */
	int required;
	int position;			/* the unit's place in the course */
	int64_t material_id;		/* 0: none */
	const struct progress *p;	/* p->exists == 0: not started */
};

/* Every unit of COURSE_ID in order with PERSON_ID's progress (borrowed for
 * the call). CB returning non-zero stops and is returned. */
int store_progress_units_each(struct store *s, int64_t person_id, int64_t course_id,
			      int (*cb)(const struct progress_unit *u, void *arg), void *arg);

/* Every progress row of COURSE_ID, by person then unit (for lecturer
 * reports); rows borrowed for the call. */
int store_progress_course_each(struct store *s, int64_t course_id,
			       int (*cb)(const struct progress *p, void *arg), void *arg);

/* Units of kind document that use MATERIAL_ID, by id, for marking viewed. */
int store_progress_units_of_material(struct store *s, int64_t material_id,
				     int (*cb)(int64_t unit_id, const char *unit_uid,
					       int64_t course_id, void *arg),
				     void *arg);

/*
 * Progress rows of COURSE_ID for lecturers' reports: only of people
 * enrolled in it now, with AFTER_ID < person id <= LAST_ID, of UNIT_ID only
 * (0: every unit); by person then unit; rows borrowed for the call. CB
 * returning non-zero stops and is returned.
 */
int store_progress_report_each(struct store *s, int64_t course_id, int64_t unit_id,
			       int64_t after_id, int64_t last_id,
			       int (*cb)(const struct progress *p, void *arg), void *arg);

#endif
