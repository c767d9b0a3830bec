/*
 * api_identity.h - routes of the identity and access API (api_identity.c),
 * and what the command line shares with them.
 */
#ifndef TINCHI_API_IDENTITY_H
#define TINCHI_API_IDENTITY_H

#include <stddef.h>

#include "server/router.h"

struct app;
struct institution;
struct inst_key;

extern const struct route api_identity_routes[];
extern const size_t api_identity_routes_count;

/*
 * Counts the stored password hashes by cost into APP->password_costs
 * (a scan of the people, once at start): a sign-in for an unknown national
 * ID then hashes at the cost most accounts have, and sign-ins and
 * activations keep the count in step. 0 or a store error.
 */
int api_identity_count_costs(struct app *app);

/* Creates INST (code, name, kind, website set by the caller) with its first
 * signing key, in one transaction. 0, TC_ECONFLICT (code taken), TC_EIO,
 * TC_EDB. KEY receives the key. */
int api_institution_create(struct app *app, struct institution *inst, struct inst_key *key);

#endif
