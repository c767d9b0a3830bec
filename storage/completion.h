/*
 * completion.h - persistence of completion rules, completions and the
 * outbox of events (schema migration 9).
 *
 * - completion_rules: one row per course that set rules (the canonical
 *   JSON of courses/completion.h), with a version that every change bumps.
 * - completions: one row per course and learner, written once and never
 *   overwritten: the grade, percentage, letter, the evidence JSON and the
 *   rules version it was decided under.
 * - outbox: events for other parts of the platform (the credential issuer
 *   consumes 'course.completed'), written in the same transaction as what
 *   they announce, so an event exists exactly when its completion does.
 *   Consumers fetch unconsumed events in id order and mark each consumed.
 *   Consumed events are deleted after a retention period
 *   (store_outbox_prune; server/outbox_pruner.h), declined ones excepted.
 *
 * Same conventions as storage/identity.h: 0 or a TC_E* code; TC_ENOTFOUND
 * for a missing row.
 */
#ifndef TINCHI_STORE_COMPLETION_H
#define TINCHI_STORE_COMPLETION_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define COMPLETION_TEXT_MAX (1 << 20)	/* bytes of rules, evidence or payload JSON */

struct completion_rules_rec {
	int64_t course_id;
	int64_t version;		/* 1 for the first rules, +1 each change */
	int64_t updated_by, updated_at;
	char *rules;			/* canonical JSON, owned */
};

/* The rules of COURSE_ID into *OUT (OUT->rules allocated: free it).
 * TC_ENOTFOUND when the course never set any. */
int store_completion_rules_get(struct store *s, int64_t course_id, struct completion_rules_rec *out);
/* Sets the rules of COURSE_ID to RULES (JSON text) by UPDATED_BY at NOW;
 * *VERSION (may be NULL) gets the new version. TC_ENOTFOUND: no such course
 * or person. */
int store_completion_rules_put(struct store *s, int64_t course_id, const char *rules,
			       int64_t updated_by, int64_t now, int64_t *version);

struct completion_rec {
	int64_t course_id, person_id;
	int grade_x100;			/* 0..1000 */
	int percent_x10;		/* 0..1000 */
	char letter[8];			/* "" when none */
	int passed;
	int64_t rules_version;		/* 0: the default rules */
	int64_t completed_at;
	char *evidence;			/* JSON; owned by whoever filled the struct */
	/* filled by get and each: */
	char person_uid[37];
	char full_name[256];
};

/*
 * Records C once, together with an outbox event of KIND ("course.completed")
 * carrying PAYLOAD (JSON) for the same course and person, at C->completed_at,
 * all in one savepoint. *CREATED = 1 when it was recorded now, 0 when the
 * learner already had a completion of that course (then nothing at all is
 * written, no event either). Any failure leaves neither row.
 */
int store_completion_record(struct store *s, const struct completion_rec *c, const char *kind,
			    const char *payload, int *created);
/* The completion of PERSON_ID in COURSE_ID (OUT->evidence allocated).
 * TC_ENOTFOUND when there is none. */
int store_completion_get(struct store *s, int64_t course_id, int64_t person_id,
			 struct completion_rec *out);
/* Completions of a course by person id after AFTER_ID, at most LIMIT
 * (1..100000). CB's record (evidence NULL) is borrowed for the call; a
 * non-zero return stops and is returned. */
int store_completions_each(struct store *s, int64_t course_id, int64_t after_id, int limit,
			   int (*cb)(const struct completion_rec *c, void *arg), void *arg);

/* The people who teach COURSE_ID (owner first, then co-lecturers), at most
 * MAX into IDS; *N gets how many. The learners' notifications go to them. */
int store_completion_lecturers(struct store *s, int64_t course_id, int64_t *ids, int max,
			       int *n);

struct outbox_event {
	int64_t id;
	char kind[64];
	int64_t course_id, person_id;	/* 0 when the event has none */
	const char *payload;		/* JSON, borrowed for the callback */
	int64_t created_at;
};

/* Unconsumed events of KIND (NULL: every kind) with id > AFTER_ID, oldest
 * first, at most LIMIT (1..10000). CB as in store_completions_each. */
int store_outbox_each(struct store *s, const char *kind, int64_t after_id, int limit,
		      int (*cb)(const struct outbox_event *e, void *arg), void *arg);
/* Marks event ID consumed at NOW. TC_ENOTFOUND when there is no such
 * event or it was consumed already (so two consumers cannot both take it). */
int store_outbox_consume(struct store *s, int64_t id, int64_t now);

/* Appends an event of KIND (at most 31 bytes) with PAYLOAD (JSON text) for
 * consumers that delete what they have handled (store_outbox_delete); *ID
 * (may be NULL) gets its id. COURSE_ID, PERSON_ID: 0 for none. */
int store_outbox_add(struct store *s, const char *kind, int64_t course_id, int64_t person_id,
		     const char *payload, int64_t now, int64_t *id);

/* Removes event ID. TC_ENOTFOUND when there is none. */
int store_outbox_delete(struct store *s, int64_t id);

/* Events store_outbox_prune deletes at most in one call (one transaction). */
#define OUTBOX_PRUNE_MAX 10000

/*
 * Retention: deletes, in one statement (one short transaction of its own
 * unless the caller holds one), the first LIMIT (1..OUTBOX_PRUNE_MAX)
 * events by id after *AFTER_ID that were consumed before BEFORE (unix
 * seconds). Never an unconsumed event, and never a declined
 * 'course.completed' one (store_credential_decline): it is still listed
 * for approval and keeps the reason, and approving it later consumes it
 * again. *DELETED gets how many went and *AFTER_ID the id of the last one
 * (unchanged when none): call again with it until *DELETED < LIMIT.
 */
int store_outbox_prune(struct store *s, int64_t before, int64_t *after_id, int limit,
		       int *deleted);

#endif
