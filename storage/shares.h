/*
 * shares.h - links with which a learner shares one credential (schema
 * migration 15, table credential_shares).
 *
 * A share is a secret token in a public URL (/v/{token}); only the
 * token's SHA-256 (hex) is stored. kind "link": made on request, random;
 * kind "print": the one printed as a QR code, whose token the server can
 * derive again (server/api_wallet.c). A share answers until it is
 * withdrawn or, when it has one, until expires_at; every answered access
 * is counted (access_count, last_accessed_at).
 *
 * Same conventions as storage/credentials.h: 0 or a TC_E* code.
 */
#ifndef TINCHI_STORE_SHARES_H
#define TINCHI_STORE_SHARES_H

#include <stdint.h>

#include "storage/store.h"

struct share_rec {
	int64_t id;
	char uid[37];			/* the share's public id (a UUID) */
	int64_t credential_id;
	char token_hash[65];		/* sha256_hex of the token */
	char kind[8];			/* "link" or "print" */
	int64_t created_at;
	int64_t expires_at;		/* 0: never */
	int64_t withdrawn_at;		/* 0: not withdrawn */
	int64_t access_count, last_accessed_at;	/* last_accessed_at 0: never */
	char credential_uid[46];	/* read back only: the credential's uid */
};

/*
 * Inserts R (uid, credential_id, token_hash, kind, created_at,
 * expires_at), filling R->id, unless the credential already has
 * MAX_LIVE shares that are neither withdrawn nor expired at R->created_at
 * (TC_ETOOBIG), or, for kind "print", a live print share (TC_ECONFLICT).
 * TC_ECONFLICT also for a uid or token hash taken.
 */
int store_share_create(struct store *s, struct share_rec *r, int max_live);

/* CREDENTIAL_ID's shares, newest first; CB's record is borrowed for the
 * call; a non-zero return stops and is returned. */
int store_shares_each(struct store *s, int64_t credential_id,
		      int (*cb)(const struct share_rec *r, void *arg), void *arg);

/* Marks share UID of CREDENTIAL_ID withdrawn at WHEN. TC_ENOTFOUND (no
 * such share of that credential), TC_ECONFLICT (withdrawn already). */
int store_share_withdraw(struct store *s, int64_t credential_id, const char *uid,
			 int64_t when);

/*
 * The share whose token hashes to TOKEN_HASH into OUT. When it is live at
 * WHEN (not withdrawn, not expired) the access is counted first (OUT
 * shows it). TC_ENOTFOUND when no share has that hash.
 */
int store_share_access(struct store *s, const char *token_hash, int64_t when,
		       struct share_rec *out);

/* The live (not withdrawn) print share of CREDENTIAL_ID into OUT, or
 * TC_ENOTFOUND. */
int store_share_print(struct store *s, int64_t credential_id, struct share_rec *out);

#endif
