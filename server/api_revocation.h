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
 * issuer's did:key) to the transparency log, all in one transaction.
 */
#ifndef TINCHI_API_REVOCATION_H
#define TINCHI_API_REVOCATION_H

#include <stddef.h>
#include <stdint.h>

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

/* NULL when REASON (of a revocation, or of a declined credential) is
 * acceptable: one line, not blank, at most CRED_REASON_CHARS characters;
 * else what is wrong with it. */
const char *revocation_reason_problem(const char *reason);

/* Frees the cached status list credentials (api_cleanup). */
void api_revocation_cleanup(struct app *app);

#endif
