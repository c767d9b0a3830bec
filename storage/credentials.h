/*
 * credentials.h - persistence of issued credentials and the issuers'
 * status lists (schema migration 13).
 *
 * - credentials (migration 14): one row per signed credential, compact: not
 *   its text but the fields it is rebuilt from byte for byte (uid, learner
 *   hash and salt, grade, term, dates, credits, status index, signing key,
 *   the 64-byte signature) and the SHA-256 of its JCS text, with its
 *   revocation (0 / "" while valid). course_id is 0 (NULL) for a course
 *   that is not on tinchi (issued by the institution's own systems).
 *   Since migration 21 a row keeps NULL for what derives (uid and salt from
 *   the database's credential key, courses/credential_derive.h; the
 *   identity hash from the person's national ID and the salt), the term as
 *   a credential_terms row, the awarded date as seconds before issued_at,
 *   and its first log leaf (leaf). Reads give every field back as before.
 * - credential_achievements: the fields many credentials share (issuer
 *   name, course name, description, credits, alignment, status list URL:
 *   courses/credential.h credential_shared_json), once per institution and
 *   distinct content.
 * - status_lists: one per institution and purpose ("revocation"): next_k,
 *   the count of indexes handed out, which the keyed permutation of its
 *   segment turns into the next index (courses/statuslist.h); since
 *   migration 22 bits_rev, bumped by each revocation and each new segment
 *   (store_status_list_rev). Its bits column is empty since migration 25:
 * - status_list_segments: the bitstring by segments of
 *   STATUSLIST_SEGMENT_BITS (16 KiB), one row each, added when a credential
 *   gets an index in a segment the list has not used yet; the list is as
 *   long as its highest segment (a segment never added reads as zeros).
 * - courses.credential_issue: "auto" (issue on completion, the default) or
 *   "approval" (a lecturer approves first; such events stay pending).
 * - a declined completion: its 'course.completed' outbox event is consumed
 *   and its payload gains "declined": {"by": person id, "at", "reason"};
 *   approving it later issues the credential and removes that member.
 *
 * Same conventions as storage/identity.h: 0 or a TC_E* code.
 */
#ifndef TINCHI_STORE_CREDENTIALS_H
#define TINCHI_STORE_CREDENTIALS_H

#include <stdint.h>

#include <jansson.h>

#include "courses/identity_hash.h"
#include "storage/store.h"

#define CRED_UID_MAX 45		/* "urn:uuid:" + 36 */
#define CRED_REASON_CHARS 500	/* a revocation reason: at most 500 characters */
#define CRED_REASON_MAX (CRED_REASON_CHARS * 4)	/* ... of UTF-8 */
#define CRED_TERM_MAX 63
#define CRED_GRADE_MAX 15
#define CRED_DID_MAX 128

struct credential_rec {
	int64_t id;
	char uid[CRED_UID_MAX + 1];	/* "urn:uuid:" + lower-case UUID */
	int64_t institution_id, course_id, person_id;	/* course_id 0: not a tinchi course */
	int64_t status_index;
	char hash[65];			/* hex SHA-256 of the JCS form */
	int64_t issued_at, revoked_at;	/* revoked_at 0: not revoked */
	char revoke_reason[CRED_REASON_MAX + 1];
	char *json;			/* the signed credential; owned by whoever filled it */

	/* What the signed credential is rebuilt from (store_credential_text).
	 * issued_at is its validFrom and its proof's created. */
	char *shared;			/* credential_shared_json as text; see store_credential_issue */
	int64_t key_id;			/* institution_keys.id of the signing key */
	char issuer_did[CRED_DID_MAX];	/* that key's did:key (read back with the row) */
	char identity_hash[IDENTITY_HASH_LEN + 1];	/* "sha256$" + lower-case hex */
	char salt[IDENTITY_SALT_LEN + 1];		/* lower-case hex or "" */
	double credits_earned;
	char term[CRED_TERM_MAX + 1];	/* "" : none */
	char grade[CRED_GRADE_MAX + 1];	/* "" : none */
	int awarded;			/* 1: awardedDate is awarded_at; 0: none */
	int64_t awarded_at;
	unsigned char signature[64];
};

/*
 * The signed credential of C's fields (shared, uid, issuer_did, issued_at,
 * identity_hash, salt, credits_earned, term, grade, awarded_at,
 * status_index, signature) as its JCS text: *TEXT malloc'ed, *LEN bytes.
 * This is the one way credential text is made from what is stored. 0,
 * TC_EINVALID (fields that do not make a credential), TC_ENOMEM.
 */
int store_credential_text(const struct credential_rec *c, char **text, size_t *len);

/*
 * C's signed credential as a jansson tree (*OUT, a new reference): the
 * tree json_loads makes of store_credential_text's text (json_equal), for
 * a verifier. Each thread keeps the parsed text of one credential of each
 * shared part and issuer key (2,048 shared parts); the tree of the next one
 * shares that credential's members which come from those two (read only:
 * do not change the tree) and gets its own for the rest, without making or
 * parsing text. Same results as store_credential_text.
 */
int store_credential_json(const struct credential_rec *c, json_t **out);

/* For backends' "each" callbacks: calls CB with a copy of C (a row as the
 * backend read it, SHARED set) whose JSON is rebuilt by
 * store_credential_text, then frees the text. TC_EDB when the row does not
 * rebuild (a damaged store). */
int store_credential_with_text(const struct credential_rec *c,
			       int (*cb)(const struct credential_rec *c, void *arg), void *arg);
struct credential_each_ctx {
	int (*cb)(const struct credential_rec *c, void *arg);
	void *arg;
};

/* next_k of the status list of INSTITUTION_ID for PURPOSE (0 when it has
 * none yet). */
int store_status_next_k(struct store *s, int64_t institution_id, const char *purpose,
			int64_t *k);

/*
 * In one transaction: the institution's PURPOSE list is created (all
 * zero) when absent, the segment of C->status_index added when absent
 * (TC_EINVALID past STATUSLIST_MAX_BITS), and its next_k moves from K to
 * K + 1 (TC_ECONFLICT when
 * it is no longer K: somebody else took that index), C is inserted
 * (C->id filled in; TC_ECONFLICT for a uid taken) with its C->shared row
 * (found or added), and, when EVENT_ID is not 0, that outbox event is
 * marked consumed at C->issued_at, or, when it was declined
 * (store_credential_decline), its decline is removed (TC_ENOTFOUND when it
 * was consumed already otherwise). Any failure leaves nothing.
 */
int store_credential_issue(struct store *s, struct credential_rec *c, const char *purpose,
			   int64_t k, int64_t event_id);

/* The credential UID into OUT (OUT->json allocated: the rebuilt text;
 * OUT->shared NULL). TC_ENOTFOUND. */
int store_credential_get(struct store *s, const char *uid, struct credential_rec *out);

/* PERSON_ID's credentials, newest first; CB's record (json included) is
 * borrowed for the call; a non-zero return stops and is returned. */
int store_credentials_each(struct store *s, int64_t person_id,
			   int (*cb)(const struct credential_rec *c, void *arg), void *arg);

/* Every credential of the store, oldest first, as store_credentials_each
 * (for audits: one statement, so one read snapshot when the caller opens
 * none). */
int store_credentials_all_each(struct store *s,
			       int (*cb)(const struct credential_rec *c, void *arg), void *arg);

/* *BIT = bit INDEX of INSTITUTION_ID's PURPOSE list (0 when the list does
 * not exist yet). TC_EINVALID past the end of the list. */
int store_status_bit(struct store *s, int64_t institution_id, const char *purpose,
		     int64_t index, int *bit);

/* COURSE_ID's credential_issue ("auto" or "approval") into OUT. */
int store_course_issue_mode(struct store *s, int64_t course_id, char out[16]);

/* Sets COURSE_ID's credential_issue to MODE ("auto" or "approval", else
 * TC_EINVALID, nothing changes). 0, TC_ENOTFOUND or a storage error. */
int store_course_set_issue_mode(struct store *s, int64_t course_id, const char *mode);

/* The uid (into UID) of a credential, not revoked, that INSTITUTION_ID
 * issued to PERSON_ID for the course with humanCode CODE (on tinchi or
 * not) and credentialSubject.term TERM (the key that keeps bulk and VC-API
 * issuing idempotent). 0 or TC_ENOTFOUND. */
int store_credential_find(struct store *s, int64_t institution_id, const char *code,
			  int64_t person_id, const char *term, char uid[CRED_UID_MAX + 1]);

struct credential_waiting {
	int64_t event_id;		/* the 'course.completed' outbox event */
	int64_t course_id, person_id;
	char person_uid[37];
	char full_name[256];
	int grade_x100;			/* from the completion */
	char letter[8];
	int64_t completed_at;
	int64_t declined_at;		/* 0: waiting; else declined at */
	char declined_by[37];		/* the decliner's uid ("" when unknown) */
	char decline_reason[CRED_REASON_MAX + 1];
	const char *payload;		/* the event's JSON, borrowed for the callback */
};

/*
 * The passed completions of COURSE_ID without a credential: unconsumed
 * 'course.completed' events (waiting for approval, or for the issuer) and
 * declined ones, oldest event first. CB's record is borrowed for the call;
 * a non-zero return stops and is returned. Declined events are found by a
 * scan of the course's events (the outbox has no index by course).
 */
int store_credential_waiting_each(struct store *s, int64_t course_id,
				  int (*cb)(const struct credential_waiting *w, void *arg),
				  void *arg);

/*
 * Declines the waiting (unconsumed, passed) 'course.completed' event
 * EVENT_ID: it is consumed at NOW without a credential and records BY (a
 * person id, 0 for none), NOW and REASON (non-empty, at most
 * CRED_REASON_MAX bytes) in one statement. TC_ENOTFOUND when it is not
 * such an event (declined already, issued, or not there); TC_EINVALID.
 * store_credential_issue with this EVENT_ID still issues it later.
 */
int store_credential_decline(struct store *s, int64_t event_id, int64_t by, const char *reason,
			     int64_t now);

/*
 * Revokes credential CREDENTIAL_ID at WHEN for REASON (non-empty, at most
 * CRED_REASON_MAX bytes): its revoked_at / revoke_reason are set and its
 * bit in its institution's PURPOSE list is set, together (a savepoint:
 * inside the caller's transaction when there is one). TC_ENOTFOUND (no
 * such credential), TC_ECONFLICT (revoked already), TC_EINVALID (its index
 * is not in the list); any failure leaves nothing.
 */
int store_credential_revoke(struct store *s, int64_t credential_id, const char *purpose,
			    int64_t when, const char *reason);

/*
 * The bitstring of INSTITUTION_ID's PURPOSE list: *BITS (malloc'ed, the
 * caller frees it) and *LEN bytes (its segments, 16 KiB each). TC_ENOTFOUND
 * when it has no list yet (*BITS NULL); TC_ENOMEM.
 */
int store_status_list_get(struct store *s, int64_t institution_id, const char *purpose,
			  unsigned char **bits, size_t *len);

/*
 * The revision of INSTITUTION_ID's PURPOSE list's bits (migration 22): 0
 * while none changed (also when it has no list yet: its bits are then all
 * zero, as a new list's), one more with each revocation and each new
 * segment past the first, in that one's transaction. Equal revisions mean equal bits. 0 and *REV,
 * or TC_EDB.
 */
int store_status_list_rev(struct store *s, int64_t institution_id, const char *purpose,
			  int64_t *rev);

/*
 * The database's credential key (32 bytes, made by migration 21) into KEY:
 * courses/credential_derive.h derives a new credential's uid and salt from
 * it, and a row stores neither when they are the derived ones. 0,
 * TC_ENOTFOUND, TC_EDB.
 */
int store_credential_key(struct store *s, unsigned char key[32]);

#endif
