/*
 * api_credentials.h - issued credentials over HTTP (api_credentials.c):
 * the learner's own, one by uid, and verification.
 */
#ifndef TINCHI_API_CREDENTIALS_H
#define TINCHI_API_CREDENTIALS_H

#include <stddef.h>

#include <jansson.h>

#include "server/router.h"

extern const struct route api_credentials_routes[];
extern const size_t api_credentials_routes_count;

struct app;

/* Verifies CRED (borrowed) as POST /api/v1/credentials/verify does: *OUT =
 * {"verified", "id", "checks": [{check, ok, detail, result?}]} (a new
 * reference). 0, or TC_ENOMEM / a storage error (*OUT NULL). */
int credentials_verify(struct app *app, json_t *cred, json_t **out);

#endif
