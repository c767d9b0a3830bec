/*
 * dataintegrity.h - W3C Data Integrity proofs with the cryptosuite
 * eddsa-jcs-2022 (W3C vc-di-eddsa section 3.3): JCS (courses/jcs.h) +
 * SHA-256 + Ed25519, proofValue in multibase base58btc ('z').
 *
 *   proofConfig = { type: "DataIntegrityProof", cryptosuite: "eddsa-jcs-2022",
 *                   created, verificationMethod, proofPurpose,
 *                   @context: the document's @context (when it has one) }
 *   hashData    = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without proof))
 *   proofValue  = "z" + base58btc(Ed25519 signature of hashData)
 *
 * Signing goes through a callback, so a key kept by storage/keys.h
 * (keys_sign) signs without its private half leaving storage/; a raw key
 * signs with di_sign_ed25519_raw.
 *
 * Functions return 0 or a negative TC_* code (courses/errors.h); the
 * verification failure reasons are in struct di_result.
 */
#ifndef TINCHI_DATAINTEGRITY_H
#define TINCHI_DATAINTEGRITY_H

#include <stddef.h>

#include <jansson.h>

#include "courses/dynbuf.h"

#define DI_PROOF_TYPE "DataIntegrityProof"
#define DI_CRYPTOSUITE "eddsa-jcs-2022"

/* Signs the N bytes at MSG (pure Ed25519) into SIG; 0 or a TC_* code. */
typedef int (*di_sign_fn)(void *arg, const void *msg, size_t n, unsigned char sig[64]);

/* A di_sign_fn for a raw key: ARG points at the 32-byte private key. */
int di_sign_ed25519_raw(void *arg, const void *msg, size_t n, unsigned char sig[64]);

struct di_proof_options {
	const char *verification_method;	/* required: "did:key:z6Mk...#z6Mk..." */
	const char *created;		/* XML Schema dateTime, e.g. "2023-02-24T23:36:38Z"; NULL: none */
	const char *proof_purpose;	/* NULL: "assertionMethod" */
	int proof_array;		/* 1: "proof" is an array (Open Badges 3.0 requires it) */
};

/*
 * The proof configuration of OPT for the unsecured document DOC (its
 * "proof" member, if any, plays no part): type, cryptosuite, created,
 * verificationMethod, proofPurpose and DOC's @context. *CONFIG receives a
 * new object (json_decref it); NULL on failure. 0, TC_EINVALID (DOC not an
 * object, no verification method, created not a dateTime), TC_ENOMEM.
 */
int di_proof_config(const json_t *doc, const struct di_proof_options *opt, json_t **config);

/* 1 when S is an XML Schema dateTime as a proof's "created" must be (the
 * check di_proof_config makes), else 0. */
int di_datetime_ok(const char *s);

/*
 * hashData for the unsecured document DOC (its "proof" member is left out)
 * and the proof configuration CONFIG: SHA-256 of JCS(CONFIG) in the first
 * 32 bytes, SHA-256 of JCS(DOC) in the last 32. 0, TC_EINVALID (not
 * canonicalizable), TC_ENOMEM, TC_ETOOBIG (over 64 MiB of canonical text).
 */
int di_hash_data(const json_t *doc, const json_t *config, unsigned char hash[64]);

/*
 * Secures DOC: *SIGNED receives a new copy of DOC with the proof added
 * (json_decref it); DOC is not changed. The proof signs DOC without its
 * "proof" member; proofs DOC already has are kept, and then "proof"
 * becomes an array whatever OPT->proof_array says (a proof set).
 * *SIGNED is NULL on failure. 0, TC_EINVALID (see di_proof_config),
 * TC_ENOMEM, or what SIGN returned.
 */
int di_add_proof(const json_t *doc, const struct di_proof_options *opt,
		 di_sign_fn sign, void *sign_arg, json_t **signed_doc);

/* Why a verification failed; DI_VERIFIED when it did not. */
enum di_reason {
	DI_VERIFIED = 0,
	DI_NOT_AN_OBJECT,		/* the document is not a JSON object */
	DI_NO_PROOF,			/* no "proof", or an empty array */
	DI_MALFORMED_PROOF,		/* a proof is not an object, or a member has the wrong JSON type */
	DI_WRONG_TYPE,			/* type is not DataIntegrityProof */
	DI_WRONG_CRYPTOSUITE,		/* cryptosuite is not eddsa-jcs-2022 */
	DI_BAD_CREATED,			/* created is not an XML Schema dateTime */
	DI_BAD_VERIFICATION_METHOD,	/* missing, or not an Ed25519 did:key */
	DI_KEY_MISMATCH,		/* the verification method is not the expected key */
	DI_WRONG_PURPOSE,		/* proofPurpose missing or not the expected one */
	DI_BAD_MULTIBASE,		/* proofValue missing, not 'z' + base58btc, or not 64 bytes */
	DI_CONTEXT_MISMATCH,		/* the document's @context does not start with the proof's */
	DI_NOT_CANONICALIZABLE,		/* the document has no JCS form (bad UTF-8, too deep) */
	DI_SIGNATURE_MISMATCH,		/* the signature does not verify: something was changed */
	DI_TOO_MANY_PROOFS,		/* more than DI_PROOFS_MAX proofs */
};

/* Proofs verified on one document at most: each costs a signature check,
 * and one with an @context of its own a canonical form of the whole
 * document; a document with more is refused (DI_TOO_MANY_PROOFS) unread. */
#define DI_PROOFS_MAX 8

struct di_result {
	enum di_reason reason;
	int proof_index;	/* the failing proof (0 for an object); -1 when none */
	char detail[160];	/* one line for people */
};

/* A short stable name for R ("signature mismatch"); never NULL. */
const char *di_reason_str(enum di_reason r);

struct di_verify_options {
	const unsigned char *public_key;	/* NULL: the key of the did:key; else it must be this key */
	const char *proof_purpose;		/* NULL: any; else the proofs must have this purpose */
};

/*
 * Verifies every proof of DOC ("proof" an object or an array; all must
 * hold). OPT may be NULL. Returns 0 when they all verify, TC_EFORBIDDEN
 * when one does not (RES says which and why), TC_ENOMEM or TC_EIO (RES
 * then holds DI_VERIFIED, not a verdict). RES may be NULL.
 */
int di_verify(const json_t *doc, const struct di_verify_options *opt, struct di_result *res);

/*
 * di_verify that also appends to CANONICAL the JCS text of the whole
 * document, proofs included (what a log entry hashes), and sets *HAVE to 1;
 * the same pass gives the document without its proofs that the proofs
 * sign, so the document is canonicalized once. *HAVE is 0 (CANONICAL as it
 * was) when the document has no canonical form or no proof.
 */
int di_verify_canonical(const json_t *doc, const struct di_verify_options *opt,
			struct di_result *res, struct dynbuf *canonical, int *have);

#endif
