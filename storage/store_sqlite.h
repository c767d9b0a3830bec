/*
 * store_sqlite.h - what the SQLite backend's files share (private to
 * storage/; nothing outside storage/ includes this).
 *
 * store_sqlite.c owns the connection and a fixed set of prepared
 * statements that live as long as the store: hot queries are compiled once
 * (SQLITE_PREPARE_PERSISTENT) instead of per call, and all of them are
 * finalized together by store_close. The list of those statements is the
 * enum below, kept in this one place; the SQL of each sits next to the code
 * that runs it.
 */
#ifndef TINCHI_STORE_SQLITE_H
#define TINCHI_STORE_SQLITE_H

#include <sqlite3.h>

#include "storage/store_backend.h"

enum store_sqlite_stmt {
	/* transactions (identity_sqlite.c) */
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	/* meta */
	STMT_META_GET,
	STMT_META_ADD,
	/* institutions and keys */
	STMT_INST_ADD,
	STMT_INST_GET,
	STMT_INST_GET_ID,
	STMT_KEY_RETIRE,
	STMT_KEY_INSERT,
	STMT_KEY_CURRENT,
	/* people and memberships */
	STMT_PERSON_INSERT,
	STMT_PERSON_UPDATE,
	STMT_PERSON_GET,
	STMT_PERSON_GET_NID,
	STMT_PERSON_GET_UID,
	STMT_PERSON_SET_PASSWORD,
	STMT_MEMBERSHIP_ADD,
	STMT_MEMBERSHIP_REMOVE,
	STMT_MEMBERSHIPS,
	/* sessions */
	STMT_SESSION_ADD,
	STMT_SESSION_GET,
	STMT_SESSION_TOUCH,
	STMT_SESSION_DELETE,
	STMT_SESSION_PURGE_PERSON,
	STMT_SESSION_PURGE_ENDED,
	/* API tokens */
	STMT_TOKEN_ADD,
	STMT_TOKEN_BY_HASH,
	STMT_TOKEN_GET,
	STMT_TOKEN_REVOKE,
	STMT_TOKEN_TOUCH,
	/* activation codes */
	STMT_ACTIVATION_DROP,
	STMT_ACTIVATION_ADD,
	STMT_ACTIVATION_TAKE,
	/* failed logins */
	STMT_FAILURE_ADD,
	STMT_FAILURES_BY_ACCOUNT,
	STMT_FAILURES_BY_SOURCE,
	STMT_FAILURES_CLEAR,
	/* audit */
	STMT_AUDIT_ADD,
	/* learning records (xapi_sqlite.c) */
	STMT_XAPI_STMT_ADD,
	STMT_XAPI_AGENT_ADD,
	STMT_XAPI_ACTIVITY_ADD,
	STMT_XAPI_VOID,
	/* recognition (recognition_sqlite.c) */
	STMT_RECOG_CANDIDATES,
	STMT_RECOG_KEY_BY_DID,
	STMT_RECOG_COURSE,
	STMT_RECOG_STAMP,

	STMT_COUNT
};

/* The connection of S, which must be a SQLite store. Borrowed. */
sqlite3 *store_sqlite_db(struct store *s);

/* The connection's statement cache (storage/sqlite_util.h), NULL until
 * first used; freed at close. */
struct sqlu_cache;
struct sqlu_cache **store_sqlite_cache(struct store *s);

/*
 * The long-lived statement SLOT of S into *OUT, compiled from SQL on first
 * use. Every use of a slot passes the same SQL. The statement stays owned
 * by the store (store_close finalizes it); the caller resets it when done
 * and never keeps it across calls. Returns 0, or TC_EDB (logged; *OUT NULL).
 */
int store_sqlite_stmt(struct store *s, enum store_sqlite_stmt slot,
		      const char *sql, sqlite3_stmt **out);
/*
 * The same with FMT's parameters bound (as sqlu_preparef's: 'i' an int64_t,
 * 't' a string, NULL binding NULL): 0 or TC_EDB (logged). *OUT may be set
 * on failure too: the caller hands it back with sqlu_done either way.
 */
int store_sqlite_stmtf(struct store *s, const char *op, enum store_sqlite_stmt slot,
		       sqlite3_stmt **out, const char *sql, const char *fmt, ...);
/* store_sqlite_stmtf for SQL that returns no row, stepped to its end and
 * readied again (sqlu_done). */
int store_sqlite_execf(struct store *s, const char *op, enum store_sqlite_stmt slot,
		       const char *sql, const char *fmt, ...);

/* The SQLite identity ops (identity_sqlite.c). */
extern const struct identity_ops sqlite_identity_ops;
extern const struct courses_ops sqlite_courses_ops;
extern const struct media_ops sqlite_media_ops;
extern const struct progress_ops sqlite_progress_ops;
extern const struct completion_ops sqlite_completion_ops;
extern const struct quiz_ops sqlite_quiz_ops;
extern const struct xapi_ops sqlite_xapi_ops;
extern const struct credential_ops sqlite_credential_ops;
extern const struct tlog_ops sqlite_tlog_ops;
extern const struct recognition_ops sqlite_recognition_ops;
extern const struct consent_ops sqlite_consent_ops;

/* A credentials row with what rebuilds it (its achievement's shared fields,
 * its key's DID), in the order sqlite_credential_read reads it
 * (credentials_sqlite.c): OUT->shared is allocated, OUT->json NULL (the
 * text is rebuilt by storage/credentials.c). Callers append WHERE/JOIN
 * clauses on "c" (credentials). */
/* The uid of credentials row ALIAS: stored, or derived (migration 21). */
#define CREDENTIAL_UID_SQL(alias) \
	"tc_cred_uid(" alias ".uid, " alias ".institution_id, " alias ".status_index)"
#define CREDENTIAL_SELECT "SELECT c.id, " CREDENTIAL_UID_SQL("c") ", c.institution_id," \
	" c.course_id, c.person_id, c.status_index, c.hash, c.issued_at, c.revoked_at," \
	" c.revoke_reason, a.fields, c.key_id, k.did," \
	" tc_cred_ihash(c.identity_hash, cp.national_id, tc_cred_salt(c.salt, " \
	CREDENTIAL_UID_SQL("c") "))," \
	" tc_cred_salt(c.salt, " CREDENTIAL_UID_SQL("c") "), c.credits_earned, ct.term," \
	" c.grade, c.issued_at - c.awarded_ago, c.signature FROM credentials c" \
	" JOIN credential_achievements a ON a.id = c.achievement_id" \
	" JOIN institution_keys k ON k.id = c.key_id" \
	" JOIN people cp ON cp.id = c.person_id" \
	" LEFT JOIN credential_terms ct ON ct.id = c.term_id"
/* The transparency log's queries (tlog_sqlite.c), here so that tests can
 * check their plans. A leaf with what rebuilds its entry: idx, kind,
 * subject (its own or its credential's hash), issuer DID, time, entry
 * text (NULL: rebuilt from the fields). */
#define TLOG_SQL_LEAVES "SELECT l.idx, l.kind, coalesce(l.subject, c.hash), i.did, l.time," \
	" l.entry FROM log_leaves l LEFT JOIN credentials c ON c.id = l.credential_id" \
	" LEFT JOIN log_issuers i ON i.id = l.issuer_id"
/* The credential whose hash is ?1 (credentials_by_hash holds 8 bytes of it). */
#define TLOG_SQL_CREDENTIAL_BY_HASH "SELECT id FROM credentials" \
	" WHERE substr(hash, 1, 8) = substr(?1, 1, 8) AND hash = ?1 ORDER BY id LIMIT 1"
/* The first leaf whose subject is ?1: its own, or its credential's hash
 * (the credential keeps its first leaf: migration 21). */
#define TLOG_SQL_FIND "SELECT min(idx) FROM (SELECT idx FROM log_leaves" \
	" WHERE substr(subject, 1, 8) = substr(?1, 1, 8) AND subject = ?1 UNION ALL" \
	" SELECT c.leaf FROM credentials c" \
	" WHERE substr(c.hash, 1, 8) = substr(?1, 1, 8) AND c.hash = ?1)"
struct credential_rec;
int sqlite_credential_read(sqlite3_stmt *st, struct credential_rec *out);
/* Registers tc_cred_uid, tc_cred_salt and tc_cred_ihash (the derived
 * fields of a credentials row, credentials_sqlite.c) on DB. 0 or TC_E*. */
int sqlite_credential_functions(sqlite3 *db);
/* A stored credential uid (16 bytes) as its "urn:uuid:..." text (CRED_UID_MAX + 1). */
void sqlite_credential_uid_text(const unsigned char in[16], char out[46]);
extern const struct share_ops sqlite_share_ops;

#endif
