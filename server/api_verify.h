/*
 * api_verify.h - verification over HTTP (api_verify.c), public, no sign-in:
 *
 *   POST /api/v1/credentials/verify   {"credential": {...}} -> {"verified",
 *        "id", "checks": [{check, ok, detail, result?}]}; or
 *        {"presentation": {...}, "options": {"challenge", "domain"}} ->
 *        the presentation's result (courses/verify.h)
 *   POST /credentials/verify          W3C VC API: {"verifiableCredential",
 *        "options"} -> {"verified", "checks": [names], "warnings",
 *        "errors", "details": [...]}
 *   POST /presentations/verify        W3C VC API: {"verifiablePresentation",
 *        "options": {"challenge", "domain"}} -> {"verified", "checks",
 *        "warnings", "errors", "presentationResult", "credentialResults"}
 *
 * 200 for every verdict, 400 for a body that holds no credential or
 * presentation. The checks are courses/verify.c's; the lookups (the
 * institution registry, the status list credentials, the log) come from
 * the store.
 */
#ifndef TINCHI_API_VERIFY_H
#define TINCHI_API_VERIFY_H

#include <stddef.h>

#include <jansson.h>

#include "server/router.h"

extern const struct route api_verify_routes[];
extern const size_t api_verify_routes_count;

struct app;

/* Verifies CRED (borrowed) as POST /api/v1/credentials/verify does: *OUT =
 * {"verified", "id", "checks": [{check, ok, detail, result?}]} (a new
 * reference). 0, or TC_ENOMEM / a storage error (*OUT NULL). */
int credentials_verify(struct app *app, json_t *cred, json_t **out);

/* Makes APP's verify state now (service thread): the checked checkpoint
 * and the decoded status lists (courses/verify.h's struct verify_cache,
 * safe from several threads), so that a copy of APP made for a worker
 * thread (the recognition batch) shares it. 0, or TC_ENOMEM. */
int api_verify_prepare(struct app *app);

/* Frees what verifying kept in APP (api_cleanup). */
void api_verify_cleanup(struct app *app);

#endif
