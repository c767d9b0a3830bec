/*
 * recognition.h - persistence of recognition rules (schema migration 16)
 * and the registry look-ups the recognition query needs.
 *
 * - recognition_rules: one row per rule of the recognising institution:
 *   its source (institution id, 0 for any registered institution), the
 *   current version number, status and JSON (courses/recognition.h format).
 * - recognition_rule_versions: every version ever made, append-only
 *   (triggers refuse UPDATE and DELETE), with who made it and when, so a
 *   decision that names (rule id, version) can always be shown.
 * - recognition_rule_keys: the index that makes finding a credential's
 *   candidate rules a handful of primary-key look-ups, never a scan:
 *   (institution, source, key, rule) for each key of the current version
 *   (recognition_rule_keys(): "c:CODE" or "lf:LEVEL:FIELD").
 * - courses.isced_field: a course's ISCED-F 2013 field ('' when unset).
 * - index institution_keys_by_did: the issuer of a did:key in one look-up.
 *
 * The three look-ups of the recognition hot path (candidates, key by DID,
 * a course's level and field) use long-lived statements.
 *
 * Same conventions as storage/identity.h: 0 or a TC_E* code.
 */
#ifndef TINCHI_STORE_RECOGNITION_H
#define TINCHI_STORE_RECOGNITION_H

#include <stdint.h>

#include "courses/recognition.h"
#include "storage/identity.h"
#include "storage/store.h"

struct recog_rule_rec {
	int64_t id;
	int64_t institution_id;		/* the recognising institution */
	int64_t source_id;		/* 0: any registered institution */
	int version;
	enum recog_status status;
	int64_t created_at;		/* when this version was made */
	int64_t created_by;		/* the person who made it (0: none) */
	char *body;			/* the version's JSON; owned by whoever filled it */
};

/* Frees R->body (R may be NULL). */
void recog_rule_rec_cleanup(struct recog_rule_rec *r);

/*
 * Adds a rule as version 1 with its index KEYS (N, 1..RECOG_KEYS_MAX), in
 * one transaction (a savepoint inside the caller's). R->id and R->version
 * are filled in. TC_ENOTFOUND when the institution does not exist.
 */
int store_recog_rule_add(struct store *s, struct recog_rule_rec *r,
			 char keys[][RECOG_KEY_MAX], int n);

/*
 * Makes R (R->id, R->institution_id) a new version: R->version must be the
 * current version + 1 (TC_ECONFLICT otherwise: someone else changed it
 * first); the rule row takes R's source, status and body, the version is
 * appended and the index keys replaced by KEYS (N), together.
 * TC_ENOTFOUND when there is no such rule at that institution.
 */
int store_recog_rule_update(struct store *s, const struct recog_rule_rec *r,
			    char keys[][RECOG_KEY_MAX], int n);

/* The current version of rule RULE_ID of INSTITUTION_ID (OUT->body
 * allocated). TC_ENOTFOUND. */
int store_recog_rule_get(struct store *s, int64_t institution_id, int64_t rule_id,
			 struct recog_rule_rec *out);

/* The current version of each rule of INSTITUTION_ID by id; CB's record is
 * borrowed for the call; a non-zero return stops and is returned. */
int store_recog_rules_each(struct store *s, int64_t institution_id,
			   int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg);

/* Every version of rule RULE_ID of INSTITUTION_ID, oldest first (CB as
 * above). TC_ENOTFOUND when there is no such rule. */
int store_recog_rule_versions(struct store *s, int64_t institution_id, int64_t rule_id,
			      int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg);

/*
 * The candidate rules of INSTITUTION_ID for a credential of SOURCE_ID whose
 * lookup keys are KEYS (N, 1..RECOG_LOOKUP_KEYS; recognition_lookup_keys):
 * the current version of every rule of source SOURCE_ID or any source with
 * one of the keys, each once, by id. Only index look-ups, with one
 * long-lived statement (so CB must not call this function again). CB as
 * above.
 */
/*
 * *STAMP: a number that changes whenever any rule or its lookup keys
 * change (every add and update stores a rule version, and versions are
 * never changed or removed: the row id of the latest). Equal stamps read
 * in two snapshots mean the same candidates for the same arguments, so
 * a reader may keep what store_recog_candidates gave under its stamp.
 * 0 when there are no rules.
 */
int store_recog_rules_stamp(struct store *s, int64_t *stamp);

int store_recog_candidates(struct store *s, int64_t institution_id, int64_t source_id,
			   char keys[][RECOG_KEY_MAX], int n,
			   int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg);

/* The key whose did is DID (any institution, current or retired) into
 * OUT. TC_ENOTFOUND. */
int store_registry_key_by_did(struct store *s, const char *did, struct inst_key *out);

/* Sets a course's ISCED-F field ("" clears it; FIELD checked by the
 * caller). TC_ENOTFOUND for an unknown course. */
int store_course_field_set(struct store *s, int64_t course_id, const char *field);
/* A course's level and ISCED-F field ("" when unset) in one look-up.
 * TC_ENOTFOUND for an unknown course. */
int store_course_level_field(struct store *s, int64_t course_id,
			     char level[RECOG_LEVEL_MAX + 1], char field[RECOG_FIELD_MAX + 1]);

/*
 * Mutual agreements (migration 19, recognition_mutual): the partner's
 * decision on a mutual rule whose source it is, one row per rule (a new
 * decision replaces it; the audit keeps them all): accepted (with the
 * partner's reverse rule) or declined, and the rule version decided on.
 */
struct recog_mutual {
	int64_t rule_id;		/* the proposing institution's rule */
	int64_t partner_id;		/* its source: who decides */
	int accepted;			/* 1 accepted, 0 declined */
	int rule_version;		/* the version decided on */
	int64_t reverse_rule_id;	/* accepted: the partner's own rule */
	int64_t decided_at;
	int64_t decided_by;		/* the person (0: none) */
};

/*
 * The mutual rules (current version, not expired) of other institutions
 * whose source is PARTNER_ID, by id, each with the partner's decision (M
 * NULL when there is none yet). One index range (recognition_rules_by_source).
 * CB's records are borrowed for the call; non-zero stops and is returned.
 */
int store_recog_proposals_each(struct store *s, int64_t partner_id,
			       int (*cb)(const struct recog_rule_rec *r,
					 const struct recog_mutual *m, void *arg), void *arg);

/* The proposal RULE_ID to PARTNER_ID as above into OUT (body allocated)
 * and *M (*DECIDED 0 when none). TC_ENOTFOUND when RULE_ID is no mutual,
 * unexpired rule with source PARTNER_ID. */
int store_recog_proposal_get(struct store *s, int64_t partner_id, int64_t rule_id,
			     struct recog_rule_rec *out, struct recog_mutual *m, int *decided);

/* Records decision M (replacing an earlier one of M->rule_id). */
int store_recog_mutual_record(struct store *s, const struct recog_mutual *m);

#endif
