/*
 * xapi.h - persistence of learning records (schema migrations 10 and 11):
 * the LRS credentials of institutions, xAPI statements with the side tables
 * that the statement queries filter on, the attachment data that came with
 * statements, the documents of the state, activity profile and agent
 * profile resources, and the last known definition of each activity.
 *
 * Every row belongs to one institution and every read names it: one
 * institution's credential never reaches another's records. Statements are
 * stored as the JSON text the LRS completed (id, stored, authority,
 * version); the columns beside it exist only to be filtered on.
 *
 * Writes of several statements go inside the caller's store_begin /
 * store_commit (storage/identity.h), so a batch is all or nothing. Same
 * conventions as storage/identity.h: 0 or a TC_E* code; text pointers in
 * argument structs are borrowed for the call.
 */
#ifndef TINCHI_STORE_XAPI_H
#define TINCHI_STORE_XAPI_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/* ---- credentials ----------------------------------------------------------- */

#define LRS_KEY_MAX 64
#define LRS_NAME_MAX 128

struct lrs_credential {
	int64_t id;
	char uid[37];
	int64_t institution_id;
	char key[LRS_KEY_MAX + 1];	/* the Basic user name, public */
	char name[LRS_NAME_MAX + 1];
	char scopes[64];		/* "statements:write statements:read" (all, for now) */
	int64_t created_by, created_at, revoked_at;	/* revoked_at 0: active */
};

/* Adds C with the SHA-256 hex of its secret; sets C->id. TC_ECONFLICT when
 * the key or uid is taken. */
int store_lrs_credential_add(struct store *s, struct lrs_credential *c, const char *secret_hash);
/* An active credential by KEY and its secret hash (65 bytes). TC_ENOTFOUND
 * when there is none or it was revoked. */
int store_lrs_credential_by_key(struct store *s, const char *key, struct lrs_credential *out,
				char *secret_hash);
/* The institution's credentials, newest first (revoked ones too). */
int store_lrs_credentials_each(struct store *s, int64_t institution_id,
			       int (*cb)(const struct lrs_credential *c, void *arg), void *arg);
/* TC_ENOTFOUND (no such credential at the institution), TC_ECONFLICT
 * (revoked already). */
int store_lrs_credential_revoke(struct store *s, int64_t institution_id, const char *uid,
				int64_t now);

/* ---- statements -------------------------------------------------------------- */

/* Roles of the side tables. Agents: XAPI_ROLE_ACTOR / OBJECT match the
 * agent= filter, every role matches related_agents. Activities:
 * XAPI_ROLE_OBJECT matches activity=, every role related_activities. */
enum xapi_role { XAPI_ROLE_ACTOR = 0, XAPI_ROLE_OBJECT = 1, XAPI_ROLE_RELATED = 2 };

struct xapi_ref {
	const char *key;		/* agent key (courses/xapi.h) or activity id */
	enum xapi_role role;
};

struct xapi_statement_row {
	const char *statement_id;	/* lower-case UUID */
	int64_t institution_id;
	int64_t credential_id;		/* 0: the platform itself */
	const char *json;		/* the complete statement */
	int64_t stored_us, timestamp_us;
	const char *verb_id;
	const char *registration;	/* NULL: none */
	const char *voids;		/* voiding statements: the target's id; else NULL */
	const char *ref_target;		/* object a StatementRef: its lower-case id; else NULL */
	const struct xapi_ref *agents;
	size_t nagents;
	const struct xapi_ref *activities;
	size_t nactivities;
};

/*
 * Stores R. TC_ECONFLICT when the institution has a statement with that id
 * already (nothing written). A voiding statement marks its target voided
 * when the target exists and is not itself a voiding statement.
 */
int store_xapi_statement_add(struct store *s, const struct xapi_statement_row *r);

/*
 * The statement STATEMENT_ID of the institution: *JSON (allocated, free())
 * and flags. TC_ENOTFOUND when absent. Any output pointer may be NULL.
 */
int store_xapi_statement_get(struct store *s, int64_t institution_id, const char *statement_id,
			     char **json, int *voided, int *is_voiding, int64_t *stored_us);

struct xapi_query {
	int64_t institution_id;
	const char *agent;		/* agent key; NULL: any */
	int related_agents;
	const char *verb;
	const char *activity;
	int related_activities;
	const char *registration;
	int64_t since_us;		/* stored after; 0: no bound */
	int64_t until_us;		/* stored at or before; 0: no bound */
	int ascending;
	int64_t after;			/* cursor: continue past this row (0: start) */
	int limit;			/* 1..10000 */
};

/*
 * The statements matching Q that are not voided, in stored order (newest
 * first unless ascending), at most Q->limit. With an agent, verb, activity
 * or registration filter, a statement whose object is a StatementRef to a
 * statement that matches (voided or not; recursively) matches too; since,
 * until and the cursor apply to the statements returned themselves. CB gets each statement's JSON
 * and its row cursor. A non-zero return from CB stops and is returned.
 */
int store_xapi_statements_query(struct store *s, const struct xapi_query *q,
				int (*cb)(const char *json, int64_t cursor, int64_t stored_us,
					  void *arg), void *arg);

/*
 * Attachment data (multipart/mixed parts) by the SHA-2 hex digest the
 * statements name them with (lower case; the caller checked that the bytes
 * have it). Putting a digest the institution holds already keeps the first
 * copy (same digest, same bytes). Inside the caller's transaction when
 * there is one.
 */
int store_xapi_attachment_put(struct store *s, int64_t institution_id, const char *sha2,
			      const char *content_type, const void *data, size_t len);
/* The data of SHA2: *DATA allocated (free(); NULL when LEN is 0), its
 * content type in CONTENT_TYPE (CTSIZE bytes). TC_ENOTFOUND when absent. */
int store_xapi_attachment_get(struct store *s, int64_t institution_id, const char *sha2,
			      char *content_type, size_t ctsize, unsigned char **data,
			      size_t *len);

/* The definition last stored for an activity: *JSON allocated, "" never;
 * TC_ENOTFOUND when the activity is unknown. */
int store_xapi_activity_get(struct store *s, int64_t institution_id, const char *activity_id,
			    char **json);
/* Replaces the stored definition of an activity (JSON: an object). */
int store_xapi_activity_put(struct store *s, int64_t institution_id, const char *activity_id,
			    const char *json);

/* ---- documents --------------------------------------------------------------- */

enum xapi_doc_kind { XAPI_DOC_STATE = 0, XAPI_DOC_ACTIVITY_PROFILE, XAPI_DOC_AGENT_PROFILE };

/* Which document(s): ACTIVITY_ID for state and activity profiles, AGENT_KEY
 * for state and agent profiles, REGISTRATION for states ("" none). */
struct xapi_doc_key {
	int64_t institution_id;
	enum xapi_doc_kind kind;
	const char *activity_id;	/* "" when the kind has none */
	const char *agent_key;		/* "" when the kind has none */
	const char *registration;	/* "" none */
	const char *doc_id;
};

struct xapi_doc {
	char content_type[128];
	char etag[44];			/* "\"<sha1 hex>\"" */
	int64_t updated_us;
	unsigned char *body;		/* allocated (free()); may be NULL when len 0 */
	size_t len;
};

/* One document. TC_ENOTFOUND when absent. */
int store_xapi_doc_get(struct store *s, const struct xapi_doc_key *k, struct xapi_doc *out);
/* Creates or replaces the document K with BODY. */
int store_xapi_doc_put(struct store *s, const struct xapi_doc_key *k, const char *content_type,
		       const void *body, size_t len, const char *etag, int64_t now_us);
/* Deletes one document (K->doc_id set) or, for states with K->doc_id NULL,
 * every state of (activity, agent, registration). Deleting nothing is 0. */
int store_xapi_doc_delete(struct store *s, const struct xapi_doc_key *k);
/* The ids of the documents K names (K->doc_id ignored) updated after
 * SINCE_US (0: all). */
int store_xapi_doc_ids(struct store *s, const struct xapi_doc_key *k, int64_t since_us,
		       int (*cb)(const char *doc_id, void *arg), void *arg);

#endif
