/*
 * identity.h - persistence of institutions, their keys, people, their roles,
 * sessions, API tokens, activation codes, failed logins and the audit log.
 *
 * Times are Unix seconds (int64). Text fields are fixed-size, NUL-terminated
 * and copied in and out; nothing returned points into the database. Every
 * function returns 0 or a TC_E* code: TC_ENOTFOUND, TC_ECONFLICT (a unique
 * key is taken), TC_EINVALID (a caller bug: NULL or over-long field),
 * TC_EDB. A failed call leaves the database as it was. Used from one
 * thread at a time per struct store, like the rest of store.h.
 *
 * Secrets never reach the database in clear: sessions, API tokens and
 * activation codes are stored as SHA-256 hex of the token; passwords as
 * scrypt hashes (courses/password.h); the national ID is stored as given
 * (it is the person's identifier) and also as an HMAC under the platform
 * secret, which is what leaves the database in logs and exports.
 */
#ifndef TINCHI_STORE_IDENTITY_H
#define TINCHI_STORE_IDENTITY_H

#include <stdint.h>

#include "courses/identity.h"
#include "storage/store.h"

/* ---- transactions -------------------------------------------------------- */

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK on the store's connection. */
int store_begin(struct store *s);
int store_commit(struct store *s);
int store_rollback(struct store *s);	/* safe when no transaction is open */

/* ---- platform settings ---------------------------------------------------- */

/* Reads the value of KEY from the meta table into OUT. TC_ENOTFOUND. */
int store_meta_get(struct store *s, const char *key, char *out, size_t outsize);
/* Inserts KEY only if absent (first writer wins); TC_ECONFLICT if present. */
int store_meta_add(struct store *s, const char *key, const char *value);

/* ---- institutions -------------------------------------------------------- */

struct institution {
	int64_t id;
	char code[INST_CODE_MAX + 1];
	char name[256];
	enum inst_kind kind;
	char website[256];
	int64_t created_at;
};

/* Adds INST (id and created_at are filled in). TC_ECONFLICT: code taken. */
int store_institution_add(struct store *s, struct institution *inst);
int store_institution_get(struct store *s, const char *code, struct institution *out);
int store_institution_get_id(struct store *s, int64_t id, struct institution *out);
/* Calls CB for each institution in code order; a non-zero CB result stops
 * the walk and is returned. */
int store_institution_each(struct store *s,
			   int (*cb)(const struct institution *inst, void *arg), void *arg);

struct inst_key {
	int64_t id;
	int64_t institution_id;
	char file[96];			/* key file name in keys/, without .pem */
	unsigned char pub[32];		/* Ed25519 public key */
	char did[64];			/* did:key:z6Mk... */
	int64_t valid_from;
	int64_t valid_until;		/* 0: the current key */
};

/* Adds K as the institution's current key: in one transaction, the previous
 * current key (if any) gets valid_until = K->valid_from. */
int store_key_add(struct store *s, struct inst_key *k);
/* The current key (valid_until 0). TC_ENOTFOUND when none. */
int store_key_current(struct store *s, int64_t institution_id, struct inst_key *out);
/* Every key of the institution, oldest first. */
int store_key_each(struct store *s, int64_t institution_id,
		   int (*cb)(const struct inst_key *k, void *arg), void *arg);

/* ---- people and roles ----------------------------------------------------- */

struct person {
	int64_t id;
	char uid[37];			/* public, random (UUID v4) */
	char national_id[NATIONAL_ID_LEN + 1];
	char nid_hmac[65];
	char full_name[PERSON_NAME_MAX + 1];
	char date_of_birth[11];		/* "" when unknown */
	char email[EMAIL_MAX + 1];	/* "" when unknown */
	char password_hash[160];	/* "" until the account is activated */
	int64_t created_at, updated_at;
};

/*
 * Inserts P or, when its national ID exists, updates full_name,
 * date_of_birth and email (non-empty values only) and updated_at; uid,
 * password and created_at are kept. P->id, uid and timestamps are filled
 * from the stored row; *created (may be NULL) says which happened.
 */
int store_person_upsert(struct store *s, struct person *p, int64_t now, int *created);
int store_person_get(struct store *s, int64_t id, struct person *out);
int store_person_get_by_nid(struct store *s, const char *national_id, struct person *out);
int store_person_get_by_uid(struct store *s, const char *uid, struct person *out);
int store_person_set_password(struct store *s, int64_t id, const char *hash, int64_t now);

/* Calls CB once for each distinct parameter head of the stored password
 * hashes ("$scrypt$ln=17,r=8,p=1$", courses/password.h password_params)
 * with how many people have it; people without a password are left out.
 * A non-zero return of CB stops and is returned. Scans every person: for
 * the start of the server, not for a request. */
int store_password_heads_each(struct store *s,
			      int (*cb)(const char *head, int64_t count, void *arg),
			      void *arg);

struct membership {
	int64_t person_id;
	int64_t institution_id;		/* 0 for the platform (operators) */
	enum role role;
	char student_code[STUDENT_CODE_MAX + 1];
	int64_t created_at;
};

/* Adds the role; an existing (person, institution, role) only has its
 * student_code updated (when non-empty). */
int store_membership_add(struct store *s, struct membership *m);
int store_membership_remove(struct store *s, int64_t person_id, int64_t institution_id,
			    enum role role);
/* Up to MAX memberships of a person into OUT; *n receives the count stored. */
int store_memberships(struct store *s, int64_t person_id, struct membership *out,
		      int max, int *n);
/* People holding ROLE at INSTITUTION_ID, by person id, after AFTER_ID (keyset
 * pagination), at most LIMIT. */
int store_members_each(struct store *s, int64_t institution_id, enum role role,
		       int64_t after_id, int limit,
		       int (*cb)(const struct person *p, const struct membership *m, void *arg),
		       void *arg);

/* ---- sessions ------------------------------------------------------------- */

struct session {
	char token_hash[65];
	int64_t person_id;
	int64_t created_at;
	int64_t last_seen_at;
	int64_t expires_at;		/* absolute end */
	char source[64];		/* client address at login */
};

int store_session_add(struct store *s, const struct session *sess);
int store_session_get(struct store *s, const char *token_hash, struct session *out);
int store_session_touch(struct store *s, const char *token_hash, int64_t now);
int store_session_delete(struct store *s, const char *token_hash);
/* Removes every session of a person (password change) or, with
 * person_id 0, every session that ended before NOW (housekeeping). *n (may
 * be NULL) receives the count. */
int store_session_purge(struct store *s, int64_t person_id, int64_t now,
			int64_t idle_timeout, int *n);

/* ---- API tokens ----------------------------------------------------------- */

struct api_token {
	int64_t id;
	char uid[37];
	int64_t institution_id;
	char name[128];
	char scopes[256];		/* space-separated, e.g. "credits:read learners:import" */
	int64_t created_by;		/* person id */
	int64_t created_at;
	int64_t last_used_at;		/* 0: never */
	int64_t revoked_at;		/* 0: active */
};

/* Adds T with the token's hash (T->id, uid must be set by the caller). */
int store_token_add(struct store *s, struct api_token *t, const char *token_hash);
/* An active (not revoked) token by hash. TC_ENOTFOUND otherwise. */
int store_token_by_hash(struct store *s, const char *token_hash, struct api_token *out);
int store_token_get(struct store *s, int64_t institution_id, const char *uid,
		    struct api_token *out);
int store_token_each(struct store *s, int64_t institution_id,
		     int (*cb)(const struct api_token *t, void *arg), void *arg);
/* Sets revoked_at = NOW. TC_ENOTFOUND (no such token at the institution),
 * TC_ECONFLICT (already revoked). */
int store_token_revoke(struct store *s, int64_t institution_id, const char *uid, int64_t now);
int store_token_touch(struct store *s, int64_t id, int64_t now);

/* ---- activation codes ----------------------------------------------------- */

/* Stores a new one-time code (hash) for a person, replacing unused ones. */
int store_activation_add(struct store *s, int64_t person_id, const char *code_hash,
			 int64_t now, int64_t expires_at);
/* Consumes a valid (unused, unexpired at NOW) code of the person: marks it
 * used. TC_ENOTFOUND when there is none matching. */
int store_activation_take(struct store *s, int64_t person_id, const char *code_hash,
			  int64_t now);

/* *PENDING = 1 when the person has an unused code valid at NOW. */
int store_activation_pending(struct store *s, int64_t person_id, int64_t now, int *pending);

/* ---- failed logins -------------------------------------------------------- */

int store_login_failure_add(struct store *s, const char *account, const char *source,
			    int64_t now);
/* Failures since SINCE for ACCOUNT and, separately, from SOURCE. */
int store_login_failures(struct store *s, const char *account, const char *source,
			 int64_t since, int *by_account, int *by_source,
			 int64_t *oldest_account, int64_t *oldest_source);
/* Removes the account's failures (after a successful login) and any older
 * than BEFORE (housekeeping). */
int store_login_failures_clear(struct store *s, const char *account, int64_t before);

/* ---- audit ---------------------------------------------------------------- */

struct audit_event {
	int64_t id;
	int64_t at;
	int64_t institution_id;		/* 0: platform-wide */
	int64_t actor_person_id;	/* 0: none */
	int64_t actor_token_id;		/* 0: none */
	char event[64];			/* "login.ok", "login.failed", "token.created", ... */
	char subject[128];		/* what it was about, e.g. a person's uid */
	char detail[1024];		/* JSON object text, "{}" when nothing */
	char source[64];		/* client address, "cli" for the command line */
};

/* Appends E (id is filled in). The table is append-only: there is no
 * update or delete. */
int store_audit_add(struct store *s, struct audit_event *e);
/* Events of an institution (0: platform-wide ones), newest first, with
 * id < BEFORE_ID (0: from the newest), at most LIMIT. */
int store_audit_each(struct store *s, int64_t institution_id, int64_t before_id, int limit,
		     int (*cb)(const struct audit_event *e, void *arg), void *arg);

#endif
