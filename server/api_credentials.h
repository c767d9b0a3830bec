/*
 * api_credentials.h - issued credentials over HTTP (api_credentials.c):
 * the learner's own, one by uid, and verification.
 */
#ifndef TINCHI_API_CREDENTIALS_H
#define TINCHI_API_CREDENTIALS_H

#include <stddef.h>

#include "server/router.h"

#include <jansson.h>

struct app;

/* Every check of POST /api/v1/credentials/verify on CRED (schema, proof,
 * issuer, status, dates, log), appended to the array CHECKS as {check, ok,
 * detail}; *ALL_OK 1 when all held. Uses APP->store and APP's caches:
 * service thread, or a copy of APP with its own store and no caches. 0,
 * or TC_ENOMEM / a storage error. */
int credential_verify_checks(struct app *app, json_t *cred, json_t *checks, int *all_ok);

extern const struct route api_credentials_routes[];
extern const size_t api_credentials_routes_count;

#endif
