/*
 * recognition.h - deciding how one stored credential is recognised at an
 * institution: the facts from the credential and the registry, the
 * candidate rules by index, and courses/recognition.h's decision. The
 * recognition query (issue 8) calls this for each consented credential.
 */
#ifndef TINCHI_SERVER_RECOGNITION_H
#define TINCHI_SERVER_RECOGNITION_H

#include <stddef.h>
#include <stdint.h>

#include "courses/recognition.h"

struct store;
struct credential_rec;

struct recog_eval {
	struct recog_facts facts;
	char did[96];			/* the issuer's DID as the credential names it */
	int64_t signed_at;
	struct recog_rule *rules;	/* the candidates (allocated) */
	size_t nrules;
	struct recog_decision decision;	/* decision.rule points into rules */
};

/*
 * What one query looks up once for all its credentials, in one read
 * snapshot: the registry's key by DID, the level and field of a course,
 * and the rules' stamp (store_recog_rules_stamp), under which each
 * thread keeps the candidates it looked up (for the same institution,
 * source and keys: the same rules while the stamp is the same).
 * Zero it before the query (memset); it holds nothing to free. A full
 * table just looks up again.
 */
#define RECOG_MEMO_KEYS 8
#define RECOG_MEMO_COURSES 32
struct recog_memo {
	struct {
		char did[96];
		int rc;			/* 0 or TC_ENOTFOUND */
		int64_t institution_id, valid_from, valid_until;
	} key[RECOG_MEMO_KEYS];
	int nkey;
	struct {
		int64_t course_id;
		int rc;			/* 0 or TC_ENOTFOUND */
		char level[RECOG_LEVEL_MAX + 1];
		char field[RECOG_FIELD_MAX + 1];
	} course[RECOG_MEMO_COURSES];
	int ncourse;
	int64_t stamp;			/* store_recog_rules_stamp, when stamp_read */
	int stamp_read;
};

/* Frees E's rules (E may be NULL). */
void recog_eval_cleanup(struct recog_eval *e);

/*
 * Decides at NOW how credential C is recognised at INSTITUTION_ID. C is
 * either a signed credential (C->json) or a row read with its shared
 * fields (C->json NULL, C->shared set: the facts come from the fields the
 * text is rebuilt from, without rebuilding it).
 * VERIFIED is the caller's verification of C (signature, log). The facts:
 * C's JSON (recognition_facts_from_credential), C's revocation, the
 * registry (the institution owning the key the credential names, and
 * whether that key was valid at the signing time: not registered when the
 * DID is no registered key, or the key's institution is not C's issuer),
 * the level and ISCED-F field of C's course; the candidates:
 * store_recog_candidates for the issuer. *OUT is filled (cleanup it even
 * on failure). 0, TC_EINVALID (C's JSON is not a credential), TC_ENOMEM or
 * a storage error.
 */
int recognition_evaluate(struct store *s, int64_t institution_id, const struct credential_rec *c,
			 int verified, int64_t now, struct recog_eval *out);

/* As recognition_evaluate, with the look-ups of MEMO (NULL: none) shared
 * by the credentials of one query read in one snapshot. */
int recognition_evaluate_memo(struct store *s, int64_t institution_id,
			      const struct credential_rec *c, int verified, int64_t now,
			      struct recog_memo *memo, struct recog_eval *out);

#endif
