/*
 * verify.h - verifying a credential, or a presentation of credentials: one
 * verifier, one set of checks and words, for the server (lookups from the
 * store) and for the offline `tinchi verify` (lookups from files).
 *
 * A credential gets these checks, in this order:
 *
 *   schema  the Open Badges 3.0 shape (contexts, types, id, issuer profile,
 *           validFrom, subject with an achievement, proof as an array)
 *   proof   the eddsa-jcs-2022 proof, by the issuer's did:key
 *   issuer  the did:key is a key of an institution in the registry, and
 *           that key was valid when it signed (proof "created", else
 *           validFrom): valid_from <= t < valid_until (whole seconds;
 *           valid_until 0 is the current key), the registry's one rule
 *           (recognition_key_check, courses/recognition.h). A rotated key still passes
 *           for what it signed before its rotation; a signature after it
 *           fails ("signed by a key retired on DATE").
 *   status  the issuer's Bitstring Status List credential (its id the
 *           credential's statusListCredential, its own proof valid, signed
 *           by the same did:key or, with a registry, by a key of the same
 *           institution valid when it signed) has the entry unset
 *   dates   validFrom has passed, validUntil (if any) has not
 *   log     the credential's hash (SHA-256 of its JCS form) is an "issue"
 *           leaf of the transparency log: the inclusion proof leads to the
 *           root of a checkpoint signed by a trusted log key
 *
 * A check passes, fails, or is "not checked" when the lookups cannot tell
 * (the offline verifier without a registry, a status list or a log key).
 * Each check is appended as {"check", "ok", "detail"} plus "unchecked":
 * true when it was not checked (ok is then false) and "result" where there
 * is one (the log check: the verified inclusion proof).
 *
 * Functions return 0 or a negative TC_* code (courses/errors.h): TC_ENOMEM,
 * or an error a lookup returned other than TC_ENOTFOUND. A verdict is
 * never an error.
 */
#ifndef TINCHI_VERIFY_H
#define TINCHI_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/signednote.h"

enum verify_state {
	VERIFY_PASS = 0,
	VERIFY_FAIL,
	VERIFY_UNCHECKED,
};

/* One key of an institution as a registry knows it. */
struct verify_key {
	char did[DID_KEY_MAX];
	int64_t valid_from;	/* unix seconds */
	int64_t valid_until;	/* unix seconds; 0: the current key */
	char name[256];		/* the institution's name */
	char code[64];		/* and its code */
	int64_t ref;		/* the lookup's own handle (the server: the institution id) */
};

#define VERIFY_WHY_MAX 256

/*
 * Where the verifier looks things up. Every member may be NULL / 0: the
 * check that needs it is then "not checked".
 */
struct verify_ops {
	void *ctx;
	int64_t now;		/* unix seconds: the dates check */
	/* The key DID (did:key:z6Mk..., no fragment) in the registry: 0 and
	 * *OUT filled, TC_ENOTFOUND, or an error. */
	int (*issuer_key)(void *ctx, const char *did, struct verify_key *out);
	/* The status list credential named URL of ISSUER (NULL when no
	 * registry is known): 0 and *LIST a new reference, TC_ENOTFOUND, or
	 * an error. *MADE_HERE (0 before the call) may be set to 1 when the
	 * lookup itself signed the list with the issuer's current key (the
	 * server's own list): its proof and signer are then not checked again,
	 * the rest is. */
	int (*status_list)(void *ctx, const struct verify_key *issuer, const char *url,
			   json_t **list, int *made_here);
	/* Optional: when the credential CRED_ID (entry INDEX of ISSUER's list)
	 * is known revoked here, 0 and DETAIL "revoked on DATE: reason";
	 * else TC_ENOTFOUND. */
	int (*revocation_detail)(void *ctx, const struct verify_key *issuer, const char *cred_id,
				 int64_t index, char *detail, size_t size);
	/* The inclusion proof of the leaf recording HASH ("sha256:<hex>") as
	 * GET /log/proof returns it: {"index", "size", "entry", "proof":
	 * [base64...], "checkpoint"}: 0 and *PROOF a new reference, or
	 * TC_ENOTFOUND with WHY (WHYSIZE bytes) saying why there is none. */
	int (*log_proof)(void *ctx, const char *hash, json_t **proof, char *why, size_t whysize);
	/* The checkpoint note the proof must lead to; NULL: the proof's own. */
	const char *checkpoint;
	/* The keys a checkpoint must be signed by (none: log not checked). */
	const struct signednote_verifier *log_keys;
	size_t nlog_keys;
	/* Optional (NULL: none): what one verification learned that the next
	 * may reuse (see struct verify_cache). */
	struct verify_cache *cache;
};

/*
 * Memory shared by many verifications (a server's), safe to use from
 * several threads at once: the last checkpoint note whose signature held
 * under a given key set (its signature is then not checked again for the
 * same text), and the bitstrings of the last few status lists, decoded
 * (keyed by their encodedList text). Nothing in it is trusted that the
 * same text would not earn again.
 */
struct verify_cache;

/* 0 and *OUT, or TC_ENOMEM. */
int verify_cache_new(struct verify_cache **out);

/* Frees C. Accepts NULL. */
void verify_cache_free(struct verify_cache *c);

/*
 * Verifies the credential CRED, appending its checks to CHECKS (a JSON
 * array). *VERDICT: VERIFY_PASS when every check passed, VERIFY_FAIL when
 * one failed, else VERIFY_UNCHECKED.
 */
int verify_credential(const json_t *cred, const struct verify_ops *ops, json_t *checks,
		      enum verify_state *verdict);

/* verify_credential's checks written as text instead of a tree (the
 * server's answer without jansson's allocations): OUT gets the array's
 * compact text, the bytes json_dumps(checks, JSON_COMPACT) gives for
 * verify_credential's array; C[0..N) each check's name, state and where the
 * text of its detail (a JSON string, quotes included) lies in OUT. */
#define VERIFY_CHECKS_MAX 6
struct verify_check_text {
	const char *name;
	enum verify_state st;
	size_t detail_at, detail_len;
};
struct verify_checks_text {
	struct dynbuf *out;	/* the caller's; appended to */
	struct verify_check_text c[VERIFY_CHECKS_MAX];
	int n;
};

/* As verify_credential, the checks appended to T->out as text: 0, or an
 * error as verify_credential's (T->out then as before). */
int verify_credential_text(const json_t *cred, const struct verify_ops *ops,
			   struct verify_checks_text *t, enum verify_state *verdict);

/* Whether DOC looks like a credential at all (an object with a
 * credentialSubject) / a presentation (an object whose type names
 * VerifiablePresentation). Anything else is bad input, not a verdict. */
int verify_is_credential(const json_t *doc);
int verify_is_presentation(const json_t *doc);

/*
 * Verifies the presentation VP (VC 2.0 VerifiablePresentation) and every
 * credential in its verifiableCredential. *RESULT receives a new object:
 *
 *   {"verified": bool, "checks": [schema, proof, credentials],
 *    "credentials": [{"id", "verified", "checks": [...]}, ...],
 *    "warnings": ["..."]}
 *
 * The presentation's proof, when it has one, must be eddsa-jcs-2022 by a
 * did:key (the holder's, when there is a holder) with proofPurpose
 * authentication, and carry CHALLENGE and DOMAIN when they are given
 * (either may be NULL). A presentation without a proof is verified as a
 * bundle of credentials and says so in "warnings" (and fails the proof
 * check when a challenge or domain was asked for). *VERDICT as above.
 */
int verify_presentation(const json_t *vp, const struct verify_ops *ops, const char *challenge,
			const char *domain, json_t **result, enum verify_state *verdict);

/* A short name of S: "passed", "failed", "not checked". */
const char *verify_state_str(enum verify_state s);

#endif
