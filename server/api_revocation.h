/*
 * api_revocation.h - revoking credentials and publishing each issuer's
 * W3C Bitstring Status List credential (api_revocation.c):
 *
 *   POST /api/v1/credentials/{uid}/revocation          {"reason": "..."}
 *   POST /api/v1/institutions/{code}/credentials:revoke   CSV credential_id,reason
 *   GET  /api/v1/institutions/{code}/status/revocation the signed status list
 *
 * A revocation sets the credential's bit in its issuer's list, records the
 * time and reason, and appends a "revoke" entry (the credential's hash, its
 * issuer's did:key) to the transparency log, all in one transaction. The
 * CSV is checked and revoked by a deferred job on the bulk worker thread
 * (200 revocations a transaction).
 */
#ifndef TINCHI_API_REVOCATION_H
#define TINCHI_API_REVOCATION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/router.h"

struct app;

extern const struct route api_revocation_routes[];
extern const size_t api_revocation_routes_count;

/*
 * The signed status list credential of institution INSTITUTION_ID (its JCS
 * text, made anew when the bits or the key changed), malloc'ed into *TEXT
 * (the caller frees it). 0, TC_ENOTFOUND (no such institution, or it has
 * no key), or a storage / signing error; *TEXT is NULL on failure.
 */
int revocation_list_text(struct app *app, int64_t institution_id, char **text);

/* The same credential parsed: *DOC a new reference to a document shared
 * with later calls (read it, do not change it); DID (64 bytes) and
 * BITS_HASH (may be NULL) receive the key that signed it and the SHA-256 of
 * the stored bits it encodes, which tell when it is stale. Service thread
 * only. */
int revocation_list_doc(struct app *app, int64_t institution_id, json_t **doc, char did[64],
			unsigned char bits_hash[32]);

/* NULL when REASON (of a revocation, or of a declined credential) is
 * acceptable: one line, not blank, at most CRED_REASON_CHARS characters;
 * else what is wrong with it. */
const char *revocation_reason_problem(const char *reason);

/* Frees the cached status list credentials (api_cleanup). */
/*
 * While ON, revocation_list_doc answers an institution's list from APP's
 * cache as it was last checked (its key and stored bits read, the list
 * made again if they changed) since this call, instead of reading them
 * again for every credential: a batch of verifications calls it at the
 * start of each group, so each list is read once a group. A revocation
 * meanwhile is still seen by the caller in the credential's own row
 * (revoked_at). OFF: every call reads them. 0 or TC_ENOMEM.
 */
int revocation_pin(struct app *app, int on);

/* The pin in force on APP (0: none): a generation number, new at every
 * revocation_pin(APP, 1); what else a pin may keep (the issuer keys of
 * api_verify.c) is keyed by it. */
int64_t revocation_pinned(const struct app *app);

void api_revocation_cleanup(struct app *app);

#endif
