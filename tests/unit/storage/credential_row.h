/*
 * credential_row.h - storage unit tests' credential rows in the compact form
 * (migration 14): a signing key of an institution and the fields a read
 * rebuilds the credential from (storage/credentials.c store_credential_text).
 * Header-only; include after the storage headers.
 */
#ifndef TINCHI_TEST_CREDENTIAL_ROW_H
#define TINCHI_TEST_CREDENTIAL_ROW_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "courses/did.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/store.h"

/* Adds KEY (a fixed public key, file "k1") for INSTITUTION_ID valid from
 * VALID_FROM: 0, or -1. */
static inline int
test_signing_key_add(struct store *st, int64_t institution_id, int64_t valid_from,
		     struct inst_key *key)
{
	memset(key, 0, sizeof(*key));
	key->institution_id = institution_id;
	snprintf(key->file, sizeof(key->file), "k1");
	memset(key->pub, 7, sizeof(key->pub));
	key->valid_from = valid_from;
	if (did_key_from_ed25519(key->pub, key->did, sizeof(key->did)) != 0 ||
	    store_key_add(st, key) != 0)
		return -1;
	return 0;
}

/* Fills the rebuildable fields of C (its achievement, credits 3, identity
 * hash and salt from N, term 2026, signed by KEY); the caller sets uid,
 * institution, course, person, status index, hash and time. */
static inline void
test_credential_fields(struct credential_rec *c, const struct inst_key *key, int n)
{
	c->shared = (char *)"{\"achievement_id\":\"https://example.edu/courses/CS101\","
		    "\"achievement_name\":\"Lập trình C\",\"alignment\":[],"
		    "\"code\":\"CS101\",\"credits\":3,\"criteria\":\"Hoàn thành\","
		    "\"description\":\"C\",\"issuer_name\":\"A\","
		    "\"issuer_url\":\"https://example.edu\",\"name\":\"Lập trình C\","
		    "\"status_list\":\"https://example.edu/status\"}";
	c->credits_earned = 3;
	c->key_id = key->id;
	snprintf(c->identity_hash, sizeof(c->identity_hash), "sha256$%064d", n);
	snprintf(c->salt, sizeof(c->salt), "%032d", n);
	snprintf(c->term, sizeof(c->term), "2026");
	c->json = (char *)"{}";
}

#endif
