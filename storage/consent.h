/*
 * consent.h - learners' consents to institutions reading their credit
 * records, and the log of every such read (schema migration 17).
 *
 * - consents: append-only. A learner has at most one consent chain per
 *   institution (uid stable along it); every grant, change or withdrawal
 *   is a new row with the next version, so the history stays and the
 *   consent in force at any time T is "the highest version of (person,
 *   institution) created at or before T": one index seek
 *   (consents_by_pair). A row is in force at T when its state is
 *   "granted" and T < valid_until.
 * - consent_credentials: the credentials a "selected" version names (each
 *   version has its own set).
 * - consent_accesses: append-only; one row per read by an institution
 *   (who read, when, for which purpose, which credentials).
 *
 * Same conventions as storage/identity.h: 0 or a TC_E* code.
 */
#ifndef TINCHI_STORE_CONSENT_H
#define TINCHI_STORE_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/credentials.h"
#include "storage/store.h"

#define CONSENT_PURPOSE_CHARS 200
#define CONSENT_PURPOSE_MAX (CONSENT_PURPOSE_CHARS * 4)	/* bytes of UTF-8 */
#define CONSENT_SELECTED_MAX 1000	/* credentials one consent may name */

enum consent_state { CONSENT_GRANTED = 1, CONSENT_WITHDRAWN = 2 };

struct consent_rec {
	int64_t id;			/* the row (this version) */
	char uid[37];			/* the chain, stable across versions */
	int64_t version;		/* 1, 2, ... */
	int64_t person_id, institution_id;
	enum consent_state state;
	int all;			/* 1: every credit record of the person */
	char purpose[CONSENT_PURPOSE_MAX + 1];	/* "" when none */
	int64_t valid_until;		/* Unix time the consent ends (exclusive) */
	int64_t created_at;		/* when this version took effect */
	int64_t created_by;		/* the person who made this version */
	int64_t first_granted_at;	/* created_at of version 1 (filled by reads) */
};

/*
 * Appends a new version of the (C->person_id, C->institution_id) chain:
 * version = the latest + 1 (1 when none, with C->uid as the chain's uid;
 * afterwards C->uid is set to the chain's), effective at C->created_at.
 * For a "selected" version (C->all 0) CREDENTIAL_IDS names N (1 ..
 * CONSENT_SELECTED_MAX) credentials, which must all be C->person_id's
 * (else TC_ENOTFOUND, nothing written). C->id and C->version are filled.
 * One transaction (a savepoint inside the caller's).
 */
int store_consent_append(struct store *s, struct consent_rec *c, const int64_t *credential_ids,
			 size_t n);

/* The latest version of the chain UID into OUT. TC_ENOTFOUND. */
int store_consent_get(struct store *s, const char *uid, struct consent_rec *out);

/* The version of (PERSON_ID, INSTITUTION_ID) in effect at AT (the highest
 * created at or before AT), whatever its state. TC_ENOTFOUND when none. */
int store_consent_at(struct store *s, int64_t person_id, int64_t institution_id, int64_t at,
		     struct consent_rec *out);

/* Every version of chain UID, oldest first. CB's record is borrowed. */
int store_consent_history_each(struct store *s, const char *uid,
			       int (*cb)(const struct consent_rec *c, void *arg), void *arg);

/* The uids of the credentials consent version CONSENT_ID names (a
 * "selected" one), in credential order. CB's uid is borrowed. */
int store_consent_credentials_each(struct store *s, int64_t consent_id,
				   int (*cb)(const char *uid, void *arg), void *arg);

/* PERSON_ID's chains (their latest versions), newest change first. */
int store_consents_of_person_each(struct store *s, int64_t person_id,
				  int (*cb)(const struct consent_rec *c, void *arg), void *arg);

/* INSTITUTION_ID's chains whose latest version is in force at AT (granted,
 * AT before its valid_until) with row id > AFTER, by row id, at most
 * LIMIT: an ended consent no longer shows the institution its learner. */
int store_consents_of_institution_each(struct store *s, int64_t institution_id, int64_t after,
				       int64_t at, int limit,
				       int (*cb)(const struct consent_rec *c, void *arg),
				       void *arg);

/*
 * The recognition query's core: the credentials PERSON_ID lets
 * INSTITUTION_ID read at AT. *CONSENT (optional) receives the consent in
 * force; TC_ENOTFOUND when there is none (never granted, withdrawn,
 * expired). Otherwise CB gets each consented credential (json included,
 * revoked ones too: C->revoked_at says so), newest first; the record is
 * borrowed for the call; a non-zero return stops and is returned.
 * Index-driven: one seek for the consent, then credentials_by_person
 * ("all") or the consent_credentials primary key ("selected").
 */
int store_consented_credentials_each(struct store *s, int64_t person_id,
				     int64_t institution_id, int64_t at,
				     struct consent_rec *consent,
				     int (*cb)(const struct credential_rec *c, void *arg),
				     void *arg);

/* As store_consented_credentials_each, but CB's record is the row as
 * stored: C->shared set, C->json NULL (store_credential_text rebuilds the
 * text when it is needed). For the recognition query's hot path. */
int store_consented_rows_each(struct store *s, int64_t person_id, int64_t institution_id,
			      int64_t at, struct consent_rec *consent,
			      int (*cb)(const struct credential_rec *c, void *arg), void *arg);

/* As store_consented_rows_each, then THEN (when CB never failed) with the
 * consent in force, in the same read transaction as the rows (one
 * snapshot): the caller, having listed the rows, works on them with the
 * store's reads still seeing what the list saw. THEN's non-zero return is
 * returned. */
int store_consented_rows_then(struct store *s, int64_t person_id, int64_t institution_id,
			      int64_t at, struct consent_rec *consent,
			      int (*cb)(const struct credential_rec *c, void *arg),
			      int (*then)(const struct consent_rec *c, void *arg), void *arg);

struct consent_access {
	int64_t id;
	int64_t institution_id, person_id;
	int64_t consent_id;		/* the consent version that allowed it */
	char purpose[CONSENT_PURPOSE_MAX + 1];
	int64_t reader_token_id;	/* the API token that read (0: none) */
	int64_t reader_person_id;	/* the person who read (0: none) */
	int64_t at;
	const char *credentials;	/* JSON array of credential uids (borrowed) */
	/* filled by store_consent_accesses_each: */
	char institution_code[33];
	char institution_name[256];
	char reader_name[256];		/* the token's name or the person's full name */
};

/* Records that A->institution_id read A->person_id's records (A->id is
 * filled). Committed before it returns (or inside the caller's
 * transaction). TC_EINVALID: no reader, credentials not a JSON array. */
int store_consent_access_record(struct store *s, struct consent_access *a);

/* PERSON_ID's access log, newest first: row id < BEFORE (0: from the
 * newest), at most LIMIT. CB's record is borrowed. */
int store_consent_accesses_each(struct store *s, int64_t person_id, int64_t before, int limit,
				int (*cb)(const struct consent_access *a, void *arg), void *arg);

#endif
