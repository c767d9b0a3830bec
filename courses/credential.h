/*
 * credential.h - the unsigned Open Badges 3.0 OpenBadgeCredential (a W3C
 * Verifiable Credential 2.0) for a completed course, built from plain
 * inputs. No proof: the Data Integrity proof is added by its own module.
 *
 * The learner appears only as an IdentityObject (identityType
 * nationalIdentityNumber, hashed, identityHash + salt from
 * courses/identity_hash.h): the raw national ID never enters here.
 * Revocation goes through a BitstringStatusListEntry (statusPurpose
 * "revocation", statusListIndex as a decimal string).
 */
#ifndef TINCHI_CREDENTIAL_H
#define TINCHI_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "courses/dynbuf.h"

#define CREDENTIAL_CONTEXT_VC "https://www.w3.org/ns/credentials/v2"
#define CREDENTIAL_CONTEXT_OB "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

/* An alignment of the achievement with a framework node (e.g. the
 * national credit framework). target_name and target_url are required. */
struct credential_alignment {
	const char *target_name;
	const char *target_url;
	const char *target_framework;	/* optional (NULL: left out) */
	const char *target_code;	/* optional */
	const char *target_description;	/* optional */
	const char *target_type;	/* optional: an OB 3.0 AlignmentTargetType or "ext:..." */
};

#define CREDENTIAL_ALIGN_MAX 4	/* alignments credential_shared_read / _parse take */

/* Every string is borrowed and must be valid UTF-8; "optional" ones may be
 * NULL (left out), the others must be non-empty. */
struct credential_input {
	const char *id;			/* "urn:uuid:" + a UUID */
	const char *issuer_id;		/* "did:key:..." */
	const char *issuer_name;
	const char *issuer_url;		/* optional */
	const char *valid_from;		/* RFC 3339 in UTC: "2025-06-30T09:00:00Z" */
	const char *name;		/* the credential's name */

	const char *identity_hash;	/* "sha256$" + 64 hex digits */
	const char *salt;		/* the salt of identity_hash */
	double credits_earned;		/* >= 0 */
	const char *term;		/* optional, e.g. "2024-2025 HK2" */
	const char *grade;		/* optional: result value on the institution's scale */

	const char *achievement_id;	/* a URI for the course */
	const char *achievement_name;
	const char *achievement_description;
	const char *criteria_narrative;
	const char *course_code;	/* humanCode */
	double credits_available;	/* >= 0 */
	const struct credential_alignment *alignment;	/* N_ALIGNMENT entries */
	size_t n_alignment;

	const char *status_list_credential;	/* URL of the status list credential */
	uint64_t status_list_index;

	const char *awarded_date;	/* optional: awardedDate, RFC 3339 in UTC */
	const char *field_of_study;	/* optional: achievement.fieldOfStudy */
};

/*
 * Builds the credential JSON into *out (a new reference; json_decref it).
 * 0, TC_EINVALID (a required field missing or empty, a string not UTF-8,
 * an id that is not urn:uuid, an issuer that is not a did:key, validFrom
 * not a UTC date-time, an identity hash not "sha256$" + 64 hex digits,
 * credits negative or not finite, an alignment without name or URL) or
 * TC_ENOMEM. *out is NULL on failure.
 */
int credential_build(const struct credential_input *in, json_t **out);

/* The Data Integrity proof of a signed credential, apart from it:
 * eddsa-jcs-2022, proofPurpose assertionMethod, as a one-element array. */
struct credential_proof {
	const char *verification_method;	/* "did:key:z...#z..." */
	const char *created;			/* RFC 3339 in UTC */
	unsigned char signature[64];
};

/*
 * The signed credential's JCS text (RFC 8785), rebuilt from IN and PROOF:
 * byte for byte what JCS(di_add_proof(credential_build(IN))) gives with
 * the same signature (courses/dataintegrity.h, proof_array). *TEXT is
 * malloc'ed (NUL-terminated, the caller frees it), *LEN its bytes (LEN may
 * be NULL). 0, TC_EINVALID (as credential_build), TC_ENOMEM.
 */
int credential_signed_text(const struct credential_input *in, const struct credential_proof *proof,
			   char **text, size_t *len);

/*
 * The canonical (RFC 8785) texts of the credential of IN with an
 * eddsa-jcs-2022 proof by VM created at CREATED, written straight from the
 * fields in JCS member order (no JSON tree, no sort):
 *   DOC  = JCS(credential_build(IN)), what is signed;
 *   CFG  = JCS of the proof configuration (di_proof_config with proof_array
 *          and the credential's @context), without proofValue;
 * PROOF_AT / VALUE_AT: where the proof goes in DOC and proofValue in CFG.
 * Issuing (server/issuing.c) and every read (credential_signed_text, so
 * store_credential_text) use this one writer, so the stored text rebuilds
 * byte for byte.
 */
struct credential_jcs {
	struct dynbuf doc, cfg;
	size_t proof_at, value_at;
};

/* Writes CJ (credential_jcs_cleanup it, whatever the result). 0,
 * TC_EINVALID (what credential_build refuses; VM or CREATED missing,
 * CREATED not a dateTime, VM not UTF-8), TC_ENOMEM. */
int credential_jcs_make(const struct credential_input *in, const char *vm, const char *created,
			struct credential_jcs *cj);
/* di_hash_data's bytes: SHA-256(CFG) || SHA-256(DOC), what is signed. */
void credential_jcs_hash(const struct credential_jcs *cj, unsigned char hash[64]);
/* The signed text: DOC with the proof (CFG + proofValue of SIGNATURE, in a
 * one-element array) spliced in; *TEXT malloc'ed (NUL-terminated), *LEN its
 * bytes (LEN may be NULL). 0, TC_ENOMEM. */
int credential_jcs_signed(const struct credential_jcs *cj, const unsigned char signature[64],
			  char **text, size_t *len);
void credential_jcs_cleanup(struct credential_jcs *cj);

/*
 * The fields of IN that every credential of one achievement by one issuer
 * shares (issuer name and url, credential name, achievement id, name,
 * description, criteria, humanCode, creditsAvailable, fieldOfStudy,
 * alignments, status list URL) as a JSON object (*OUT, a new reference),
 * so that they are stored once, not in every credential. 0, TC_ENOMEM.
 */
int credential_shared_json(const struct credential_input *in, json_t **out);

/*
 * The inverse: sets those fields of IN from SHARED (pointers borrowed from
 * SHARED), the alignments into AL (CREDENTIAL_ALIGN_MAX). 0, TC_EINVALID
 * (not such an object).
 */
int credential_shared_read(const json_t *shared, struct credential_input *in,
			   struct credential_alignment al[CREDENTIAL_ALIGN_MAX]);

/*
 * Reads a signed credential DOC of the shape credential_build and
 * credential_signed_text make into IN, AL (CREDENTIAL_ALIGN_MAX) and PROOF
 * (strings borrowed from DOC). Members it does not know are not read, so
 * a caller compares credential_signed_text of the result with the original
 * to know that nothing was lost. 0, TC_EINVALID.
 */
int credential_parse(const json_t *doc, struct credential_input *in,
		     struct credential_alignment al[CREDENTIAL_ALIGN_MAX],
		     struct credential_proof *proof);

#endif
