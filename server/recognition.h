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

#endif
