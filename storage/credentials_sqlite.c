/*
 * credentials_sqlite.c - the SQLite side of storage/credentials.h: issuing
 * (status index, credential row, outbox event) in one savepoint, reading
 * credentials back, and the status list bits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <jansson.h>

#include "courses/crypto.h"
#include "courses/credential.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "courses/statuslist.h"
#include "courses/xapi.h"
#include "storage/credentials.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

static int
sq_next_k(struct store *s, int64_t institution_id, const char *purpose, int64_t *k)
{
	static const char op[] = "status list next";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT next_k FROM status_lists"
			       " WHERE institution_id = ?1 AND purpose = ?2", "it",
			       institution_id, purpose);

	*k = 0;
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		*k = sqlu_col_int(st, 0);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

/* ---- the compact row ------------------------------------------------------------ */

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* N bytes from 2N lower-case hex digits at HEX (exactly: nothing after). */
static int
hex_bytes(const char *hex, unsigned char *out, size_t n)
{
	if (!hex || strlen(hex) != 2 * n)
		return TC_EINVALID;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return TC_EINVALID;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
bytes_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* "urn:uuid:" + a lower-case UUID <-> its 16 bytes. */
static int
uid_bytes(const char *uid, unsigned char out[16])
{
	char hex[33];
	size_t n = 0;

	if (!uid || strlen(uid) != CRED_UID_MAX || strncmp(uid, "urn:uuid:", 9) != 0)
		return TC_EINVALID;
	for (const char *p = uid + 9; *p; p++) {
		size_t at = (size_t)(p - uid - 9);

		if (at == 8 || at == 13 || at == 18 || at == 23) {
			if (*p != '-')
				return TC_EINVALID;
		} else if (n < 32) {
			hex[n++] = *p;
		}
	}
	hex[n] = '\0';
	return hex_bytes(hex, out, 16);
}

void
sqlite_credential_uid_text(const unsigned char in[16], char out[CRED_UID_MAX + 1])
{
	char hex[33];

	bytes_hex(in, 16, hex);
	snprintf(out, CRED_UID_MAX + 1, "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		 hex + 12, hex + 16, hex + 20);
}

/* The blob columns of a credential row, from its text fields. */
struct cred_blobs {
	unsigned char uid[16], hash[32], ihash[32], salt[IDENTITY_SALT_LEN / 2];
	size_t salt_len;
};

static int
to_blobs(const struct credential_rec *c, struct cred_blobs *b)
{
	size_t sl = strlen(c->salt);

	b->salt_len = sl / 2;
	if (uid_bytes(c->uid, b->uid) || hex_bytes(c->hash, b->hash, 32) ||
	    strncmp(c->identity_hash, "sha256$", 7) != 0 ||
	    hex_bytes(c->identity_hash + 7, b->ihash, 32) || sl % 2 ||
	    sl > IDENTITY_SALT_LEN || (sl && hex_bytes(c->salt, b->salt, sl / 2)))
		return TC_EINVALID;
	return 0;
}

/* sqlu_fail for a bare connection (the migration has no store). */
static int
db_fail(sqlite3 *db, int src, const char *op)
{
	switch (src) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return TC_ECONFLICT;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return TC_ENOTFOUND;
	}
	log_err("%s: %s (%d)", op, sqlite3_errmsg(db), src);
	return (src & 0xff) == SQLITE_BUSY ? TC_EBUSY : TC_EDB;
}

static int
db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *op)
{
	int src = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	return src == SQLITE_OK ? 0 : db_fail(db, src, op);
}

/* Blob N bytes at P as parameter I (SQLITE_STATIC). */
static int
bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	return sqlite3_bind_blob(st, i, n ? p : "", (int)n, SQLITE_STATIC);
}

/* SQL as a statement: from S's statement cache when S is not NULL (the
 * issuing path; hand it back with stmt_done), else prepared for this call
 * on DB (the migration, which has no store). */
static int
stmt_get(struct store *s, sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *op)
{
	return s ? sqlu_cachedf(s, op, st, sql, "") : db_prepare(db, sql, st, op);
}

static void
stmt_done(struct store *s, sqlite3_stmt *st)
{
	if (s)
		sqlu_release(s, st);
	else
		sqlite3_finalize(st);
}

/* The credential_achievements row of C->shared (added when new) into *ID. */
static int
shared_id(struct store *s, sqlite3 *db, const struct credential_rec *c, int64_t *id)
{
	static const char op[] = "credential achievement";
	unsigned char digest[32];
	sqlite3_stmt *st = NULL;
	int rc, src = SQLITE_OK;

	sha256_raw(c->shared, strlen(c->shared), digest);
	for (int tries = 0; tries < 2; tries++) {
		/* mostly there already: one look-up, the insert only when new */
		rc = stmt_get(s, db, "SELECT id FROM credential_achievements"
			      " WHERE institution_id = ?1 AND digest = ?2", &st, op);
		if (rc == 0 && ((src = sqlite3_bind_int64(st, 1, c->institution_id)) ||
				(src = bind_blob(st, 2, digest, 32)) ||
				((src = sqlite3_step(st)) != SQLITE_ROW && src != SQLITE_DONE)))
			rc = db_fail(db, src, op);
		if (rc == 0 && src == SQLITE_ROW)
			*id = sqlite3_column_int64(st, 0);
		stmt_done(s, st);
		st = NULL;
		if (rc || src == SQLITE_ROW)
			return rc;
		rc = stmt_get(s, db, "INSERT INTO credential_achievements (institution_id, code,"
			      " digest, fields) VALUES (?1, ifnull(json_extract(?3, '$.code'), ''),"
			      " ?2, ?3) ON CONFLICT (institution_id, digest) DO NOTHING", &st, op);
		if (rc == 0 && ((src = sqlite3_bind_int64(st, 1, c->institution_id)) ||
				(src = bind_blob(st, 2, digest, 32)) ||
				(src = sqlite3_bind_text(st, 3, c->shared, -1, SQLITE_STATIC)) ||
				(src = sqlite3_step(st)) != SQLITE_DONE))
			rc = db_fail(db, src, op);
		stmt_done(s, st);
		st = NULL;
		if (rc)
			return rc;
	}
	return db_fail(db, SQLITE_ERROR, op);	/* inserted, yet not found */
}

/* Inserts the row of C into TABLE (its shared fields at ACHIEVEMENT_ID;
 * its id C->id when WITH_ID, which is then kept, else C->id set). */
static int
insert_row(struct store *s, sqlite3 *db, const char *table, struct credential_rec *c,
	   int64_t achievement_id, int with_id)
{
	static const char op[] = "credential insert";
	struct cred_blobs b;
	sqlite3_stmt *st = NULL;
	char sql[600];
	int rc = to_blobs(c, &b), src;

	snprintf(sql, sizeof(sql), "INSERT INTO %s (uid, institution_id, course_id,"
				" person_id, achievement_id, key_id, status_index, hash, issued_at,"
				" awarded_at, identity_hash, salt, credits_earned, term, grade,"
				" signature, revoked_at, revoke_reason, id) VALUES (?1, ?2, ?3, ?4,"
				" ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
				" ?19)", table);
	if (rc == 0)
		rc = stmt_get(s, db, sql, &st, op);
	if (rc == 0 && ((src = bind_blob(st, 1, b.uid, 16)) ||
			(src = sqlite3_bind_int64(st, 2, c->institution_id)) ||
			(src = c->course_id ? sqlite3_bind_int64(st, 3, c->course_id) :
			 sqlite3_bind_null(st, 3)) ||
			(src = sqlite3_bind_int64(st, 4, c->person_id)) ||
			(src = sqlite3_bind_int64(st, 5, achievement_id)) ||
			(src = sqlite3_bind_int64(st, 6, c->key_id)) ||
			(src = sqlite3_bind_int64(st, 7, c->status_index)) ||
			(src = bind_blob(st, 8, b.hash, 32)) ||
			(src = sqlite3_bind_int64(st, 9, c->issued_at)) ||
			(src = c->awarded ? sqlite3_bind_int64(st, 10, c->awarded_at) :
			 sqlite3_bind_null(st, 10)) ||
			(src = bind_blob(st, 11, b.ihash, 32)) ||
			(src = bind_blob(st, 12, b.salt, b.salt_len)) ||
			(src = sqlite3_bind_double(st, 13, c->credits_earned)) ||
			(src = c->term[0] ? sqlite3_bind_text(st, 14, c->term, -1, SQLITE_STATIC) :
			 sqlite3_bind_null(st, 14)) ||
			(src = c->grade[0] ? sqlite3_bind_text(st, 15, c->grade, -1, SQLITE_STATIC) :
			 sqlite3_bind_null(st, 15)) ||
			(src = bind_blob(st, 16, c->signature, 64)) ||
			(src = sqlite3_bind_int64(st, 17, c->revoked_at)) ||
			(src = sqlite3_bind_text(st, 18, c->revoke_reason, -1, SQLITE_STATIC)) ||
			(src = with_id ? sqlite3_bind_int64(st, 19, c->id) :
			 sqlite3_bind_null(st, 19)) ||
			(src = sqlite3_step(st)) != SQLITE_DONE))
		rc = db_fail(db, src, op);
	if (rc == 0 && !with_id)
		c->id = (int64_t)sqlite3_last_insert_rowid(db);
	stmt_done(s, st);
	return rc;
}

static int
issue_steps(struct store *s, struct credential_rec *c, const char *purpose, int64_t k,
	    int64_t event_id)
{
	static const char op[] = "credential issue";
	static const char take[] = "UPDATE status_lists SET next_k = next_k + 1,"
				   " updated_at = ?4 WHERE institution_id = ?1 AND purpose = ?2"
				   " AND next_k = ?3";
	int64_t ach = 0;
	int rc = sqlu_execf(s, op, take, "itii", c->institution_id, purpose, k, c->issued_at);

	/* the institution's first credential: its list is made first */
	if (rc == 0 && sqlu_changed_one(s)) {
		rc = sqlu_execf(s, op, "INSERT INTO status_lists (institution_id, purpose, bits,"
				" next_k, updated_at) VALUES (?1, ?2, zeroblob(?3), 0, ?4)"
				" ON CONFLICT (institution_id, purpose) DO NOTHING", "itii",
				c->institution_id, purpose, (int64_t)(STATUSLIST_MIN_BITS / 8),
				c->issued_at);
		if (rc == 0)
			rc = sqlu_execf(s, op, take, "itii", c->institution_id, purpose, k,
					c->issued_at);
		if (rc == 0 && sqlu_changed_one(s))
			rc = TC_ECONFLICT;
	}
	if (rc == 0)
		rc = shared_id(s, store_sqlite_db(s), c, &ach);
	if (rc == 0)
		rc = insert_row(s, store_sqlite_db(s), "credentials", c, ach, 0);
	if (rc == 0 && event_id) {
		/* a waiting event, or a declined one approved after all */
		rc = sqlu_execf(s, op, "UPDATE outbox SET consumed_at = ?1, payload = CASE"
				" WHEN consumed_at IS NULL THEN payload"
				" ELSE json_remove(payload, '$.declined') END WHERE id = ?2"
				" AND (consumed_at IS NULL"
				" OR json_extract(payload, '$.declined') IS NOT NULL)", "ii",
				c->issued_at, event_id);
		if (rc == 0)
			rc = sqlu_changed_one(s);
	}
	return rc;
}

static int
sq_issue(struct store *s, struct credential_rec *c, const char *purpose, int64_t k,
	 int64_t event_id)
{
	static const char op[] = "credential issue";
	int outer = !sqlite3_get_autocommit(store_sqlite_db(s));
	int rc, rel;

	if ((rc = sqlu_execf(s, op, "SAVEPOINT credential_issue", "")))
		return rc;
	rc = issue_steps(s, c, purpose, k, event_id);
	if (rc)
		sqlu_execf(s, op, "ROLLBACK TO credential_issue", "");
	/* RELEASE commits when the savepoint began the transaction */
	rel = sqlu_execf(s, op, "RELEASE credential_issue", "");
	if (rel && !outer && !sqlite3_get_autocommit(store_sqlite_db(s)))
		sqlu_execf(s, op, "ROLLBACK", "");
	return rc ? rc : rel;
}

/* Blob column COL of exactly N bytes into OUT (N 0: any length up to MAX,
 * *GOT set). TC_EDB when it is not. */
static int
col_blob(sqlite3_stmt *st, int col, unsigned char *out, size_t n, size_t max, size_t *got)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

	if ((n && len != n) || (!n && len > max) || (len && !p))
		return TC_EDB;
	if (len)
		memcpy(out, p, len);
	if (got)
		*got = len;
	return 0;
}

/* Reads a row of CREDENTIAL_SELECT (storage/store_sqlite.h). */
int
sqlite_credential_read(sqlite3_stmt *st, struct credential_rec *out)
{
	unsigned char uid[16], hash[32], ihash[32], salt[IDENTITY_SALT_LEN / 2];
	size_t salt_len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = sqlu_col_int(st, 0);
	out->institution_id = sqlu_col_int(st, 2);
	out->course_id = sqlu_col_int(st, 3);
	out->person_id = sqlu_col_int(st, 4);
	out->status_index = sqlu_col_int(st, 5);
	out->issued_at = sqlu_col_int(st, 7);
	out->revoked_at = sqlu_col_int(st, 8);
	out->key_id = sqlu_col_int(st, 11);
	out->credits_earned = sqlite3_column_double(st, 15);
	out->awarded = sqlite3_column_type(st, 18) != SQLITE_NULL;
	out->awarded_at = sqlu_col_int(st, 18);
	if ((rc = col_blob(st, 1, uid, 16, 0, NULL)) || (rc = col_blob(st, 6, hash, 32, 0, NULL)) ||
	    (rc = col_blob(st, 13, ihash, 32, 0, NULL)) ||
	    (rc = col_blob(st, 14, salt, 0, sizeof(salt), &salt_len)) ||
	    (rc = col_blob(st, 19, out->signature, 64, 0, NULL)))
		return rc;
	sqlite_credential_uid_text(uid, out->uid);
	bytes_hex(hash, 32, out->hash);
	memcpy(out->identity_hash, "sha256$", 7);
	bytes_hex(ihash, 32, out->identity_hash + 7);
	bytes_hex(salt, salt_len, out->salt);
	if ((rc = sqlu_col_text(st, 9, out->revoke_reason, sizeof(out->revoke_reason))) ||
	    (rc = sqlu_col_text(st, 12, out->issuer_did, sizeof(out->issuer_did))) ||
	    (rc = sqlu_col_text(st, 16, out->term, sizeof(out->term))) ||
	    (rc = sqlu_col_text(st, 17, out->grade, sizeof(out->grade))))
		return rc;
	rc = sqlu_col_dup(st, 10, &out->shared);
	return rc == 0 && !out->shared ? TC_EDB : rc;
}

static int
sq_get(struct store *s, const char *uid, struct credential_rec *out)
{
	static const char op[] = "credential get";
	unsigned char u[16];
	sqlite3_stmt *st = NULL;
	int rc;

	if (uid_bytes(uid, u))
		return TC_ENOTFOUND;
	rc = sqlu_prepare(s, CREDENTIAL_SELECT " WHERE c.uid = ?1", op, &st);
	if (rc == 0 && bind_blob(st, 1, u, 16))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && (rc = sqlite_credential_read(st, out))) {
		free(out->shared);
		out->shared = NULL;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_each(struct store *s, int64_t person_id,
	int (*cb)(const struct credential_rec *c, void *arg), void *arg)
{
	static const char op[] = "credentials each";
	struct credential_rec c;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, CREDENTIAL_SELECT " WHERE c.person_id = ?1"
			       " ORDER BY c.id DESC", "i", person_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		rc = sqlite_credential_read(st, &c);
		if (rc == 0)
			rc = cb(&c, arg);
		free(c.shared);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_status_bit(struct store *s, int64_t institution_id, const char *purpose, int64_t index,
	      int *bit)
{
	static const char op[] = "status list bit";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT length(bits), substr(bits, ?3 + 1, 1)"
			       " FROM status_lists WHERE institution_id = ?1 AND purpose = ?2",
			       "iti", institution_id, purpose, index / 8);

	*bit = 0;
	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == TC_ENOTFOUND) {
		rc = index < (int64_t)STATUSLIST_MIN_BITS ? 0 : TC_EINVALID;
	} else if (rc == 0) {
		const unsigned char *b = sqlite3_column_blob(st, 1);

		if (index / 8 >= sqlu_col_int(st, 0) || !b || sqlite3_column_bytes(st, 1) != 1)
			rc = TC_EINVALID;
		else
			*bit = (b[0] >> (7 - index % 8)) & 1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_issue_mode(struct store *s, int64_t course_id, char out[16])
{
	static const char op[] = "course issue mode";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT credential_issue FROM courses WHERE id = ?1",
			       "i", course_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = sqlu_col_text(st, 0, out, 16);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_set_issue_mode(struct store *s, int64_t course_id, const char *mode)
{
	static const char op[] = "course set issue mode";
	int rc = sqlu_execf(s, op, "UPDATE courses SET credential_issue = ?2 WHERE id = ?1",
			    "it", course_id, mode);

	if (rc == 0 && sqlite3_changes(store_sqlite_db(s)) == 0)
		rc = TC_ENOTFOUND;
	return rc;
}

static int
sq_waiting_each(struct store *s, int64_t course_id,
		int (*cb)(const struct credential_waiting *w, void *arg), void *arg)
{
	static const char op[] = "credentials waiting";
	struct credential_waiting w;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT o.id, o.person_id, p.uid, p.full_name,"
			       " c.grade_hundredths, c.letter, c.completed_at,"
			       " CASE WHEN o.consumed_at IS NULL THEN 0"
			       " ELSE coalesce(json_extract(o.payload, '$.declined.at'), 0) END,"
			       " coalesce(d.uid, ''),"
			       " coalesce(json_extract(o.payload, '$.declined.reason'), ''), o.payload"
			       " FROM outbox o JOIN completions c ON c.course_id = o.course_id"
			       " AND c.person_id = o.person_id JOIN people p ON p.id = o.person_id"
			       " LEFT JOIN people d ON o.consumed_at IS NOT NULL"
			       " AND d.id = json_extract(o.payload, '$.declined.by')"
			       " WHERE o.kind = 'course.completed' AND o.course_id = ?1"
			       " AND json_extract(o.payload, '$.passed') = 1 AND (o.consumed_at IS NULL"
			       " OR json_extract(o.payload, '$.declined') IS NOT NULL) ORDER BY o.id",
			       "i", course_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		memset(&w, 0, sizeof(w));
		w.event_id = sqlu_col_int(st, 0);
		w.course_id = course_id;
		w.person_id = sqlu_col_int(st, 1);
		w.grade_x100 = (int)sqlu_col_int(st, 4);
		w.completed_at = sqlu_col_int(st, 6);
		w.declined_at = sqlu_col_int(st, 7);
		w.payload = (const char *)sqlite3_column_text(st, 10);
		if (!w.payload)
			rc = TC_ENOMEM;
		if (rc == 0 && ((rc = sqlu_col_text(st, 2, w.person_uid, sizeof(w.person_uid))) ||
				(rc = sqlu_col_text(st, 3, w.full_name, sizeof(w.full_name))) ||
				(rc = sqlu_col_text(st, 5, w.letter, sizeof(w.letter))) ||
				(rc = sqlu_col_text(st, 8, w.declined_by, sizeof(w.declined_by))) ||
				(rc = sqlu_col_text(st, 9, w.decline_reason,
						    sizeof(w.decline_reason)))))
			break;
		if (rc == 0)
			rc = cb(&w, arg);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_decline(struct store *s, int64_t event_id, int64_t by, const char *reason, int64_t now)
{
	int rc = sqlu_execf(s, "credential decline", "UPDATE outbox SET consumed_at = ?2,"
			    " payload = json_set(payload, '$.declined', json_object('by', ?3,"
			    " 'at', ?2, 'reason', ?4)) WHERE id = ?1 AND kind = 'course.completed'"
			    " AND consumed_at IS NULL AND json_extract(payload, '$.passed') = 1",
			    "iiit", event_id, now, by, reason);

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_find(struct store *s, int64_t institution_id, const char *code, int64_t person_id,
	const char *term, char uid[CRED_UID_MAX + 1])
{
	static const char op[] = "credential find";
	unsigned char u[16];
	sqlite3_stmt *st = NULL;
	/* credentials_by_person narrows it to one learner's few rows */
	int rc = sqlu_preparef(s, op, &st, "SELECT c.uid FROM credentials c"
			       " JOIN credential_achievements a ON a.id = c.achievement_id"
			       " WHERE c.person_id = ?1 AND a.institution_id = ?2 AND a.code = ?3"
			       " AND c.term = ?4 AND c.revoked_at = 0 ORDER BY c.id LIMIT 1",
			       "iitt", person_id, institution_id, code, term);

	uid[0] = '\0';
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && (rc = col_blob(st, 0, u, 16, 0, NULL)) == 0)
		sqlite_credential_uid_text(u, uid);
	sqlite3_finalize(st);
	return rc;
}

/* Sets bit INDEX of the list in row ROWID of status_lists (incremental
 * blob I/O: one byte read and written, not the whole list). */
static int
set_bit(struct store *s, int64_t rowid, int64_t index, const char *op)
{
	sqlite3 *db = store_sqlite_db(s);
	sqlite3_blob *blob = NULL;
	unsigned char byte;
	int rc = sqlite3_blob_open(db, "main", "status_lists", "bits", rowid, 1, &blob);

	if (rc == SQLITE_OK && index / 8 >= sqlite3_blob_bytes(blob)) {
		sqlite3_blob_close(blob);
		return TC_EINVALID;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_blob_read(blob, &byte, 1, (int)(index / 8));
	if (rc == SQLITE_OK) {
		byte |= (unsigned char)(0x80u >> (index % 8));
		rc = sqlite3_blob_write(blob, &byte, 1, (int)(index / 8));
	}
	if (blob && sqlite3_blob_close(blob) != SQLITE_OK && rc == SQLITE_OK)
		rc = SQLITE_ERROR;
	return rc == SQLITE_OK ? 0 : sqlu_fail(s, rc, op);
}

static int
revoke_steps(struct store *s, int64_t id, const char *purpose, int64_t when, const char *reason)
{
	static const char op[] = "credential revoke";
	sqlite3_stmt *st = NULL;
	int64_t inst = 0, index = 0, rowid = 0;
	int rc = sqlu_preparef(s, op, &st, "SELECT institution_id, status_index, revoked_at"
			       " FROM credentials WHERE id = ?1", "i", id);

	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		inst = sqlu_col_int(st, 0);
		index = sqlu_col_int(st, 1);
		if (sqlu_col_int(st, 2) != 0)
			rc = TC_ECONFLICT;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == 0)
		rc = sqlu_execf(s, op, "UPDATE credentials SET revoked_at = ?2, revoke_reason = ?3"
				" WHERE id = ?1 AND revoked_at = 0", "iit", id, when, reason);
	if (rc == 0 && sqlu_changed_one(s))
		rc = TC_ECONFLICT;
	if (rc == 0)
		rc = sqlu_execf(s, op, "UPDATE status_lists SET updated_at = ?3"
				" WHERE institution_id = ?1 AND purpose = ?2", "iti", inst, purpose,
				when);
	if (rc == 0)
		rc = sqlu_preparef(s, op, &st, "SELECT rowid FROM status_lists"
				   " WHERE institution_id = ?1 AND purpose = ?2", "it", inst, purpose);
	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0)
		rowid = sqlu_col_int(st, 0);
	sqlite3_finalize(st);
	if (rc == TC_ENOTFOUND && inst)
		rc = TC_EINVALID;	/* a credential without its list */
	if (rc == 0)
		rc = set_bit(s, rowid, index, op);
	return rc;
}

static int
sq_revoke(struct store *s, int64_t id, const char *purpose, int64_t when, const char *reason)
{
	static const char op[] = "credential revoke";
	int outer = !sqlite3_get_autocommit(store_sqlite_db(s));
	int rc, rel;

	if ((rc = sqlu_execf(s, op, "SAVEPOINT credential_revoke", "")))
		return rc;
	rc = revoke_steps(s, id, purpose, when, reason);
	if (rc)
		sqlu_execf(s, op, "ROLLBACK TO credential_revoke", "");
	rel = sqlu_execf(s, op, "RELEASE credential_revoke", "");
	if (rel && !outer && !sqlite3_get_autocommit(store_sqlite_db(s)))
		sqlu_execf(s, op, "ROLLBACK", "");
	return rc ? rc : rel;
}

static int
sq_status_list(struct store *s, int64_t institution_id, const char *purpose,
	       unsigned char **bits, size_t *len)
{
	static const char op[] = "status list get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT bits FROM status_lists"
			      " WHERE institution_id = ?1 AND purpose = ?2", "it",
			      institution_id, purpose);

	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		const void *b = sqlite3_column_blob(st, 0);
		int n = sqlite3_column_bytes(st, 0);

		if (n <= 0 || !b) {
			rc = TC_EDB;	/* never written empty */
		} else if (!(*bits = malloc((size_t)n))) {
			rc = TC_ENOMEM;
		} else {
			memcpy(*bits, b, (size_t)n);
			*len = (size_t)n;
		}
	}
	sqlu_release(s, st);
	return rc;
}

/* ---- migration 14: stored texts become rows of fields ------------------------------ */

/* Copies S (NULL: "") into OUT of N bytes; TC_EINVALID when it does not fit. */
static int
copy_field(char *out, size_t n, const char *s)
{
	if (!s)
		s = "";
	if (strlen(s) >= n)
		return TC_EINVALID;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/*
 * The row of ROW (id, uid, institution_id, course_id, person_id,
 * status_index, json, hash, issued_at, revoked_at, revoke_reason of the
 * old table) as fields into C (C->shared allocated), checked: the fields
 * rebuild the stored text byte for byte and its SHA-256 is the stored hash.
 * 0; TC_EINVALID (logged) when not.
 */
static int
convert_one(sqlite3 *db, sqlite3_stmt *row, struct credential_rec *c)
{
	const char *text = (const char *)sqlite3_column_text(row, 6);
	const char *hash = (const char *)sqlite3_column_text(row, 7);
	const char *uid = (const char *)sqlite3_column_text(row, 1);
	struct credential_input in;
	struct credential_alignment al[CREDENTIAL_ALIGN_MAX];
	struct credential_proof pr;
	json_t *doc = text ? json_loads(text, 0, NULL) : NULL, *shared = NULL;
	sqlite3_stmt *key = NULL;
	char *again = NULL, digest[65];
	const char *why = NULL;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(row, 0);
	c->institution_id = sqlite3_column_int64(row, 2);
	c->course_id = sqlite3_column_int64(row, 3);
	c->person_id = sqlite3_column_int64(row, 4);
	c->status_index = sqlite3_column_int64(row, 5);
	c->issued_at = sqlite3_column_int64(row, 8);
	c->revoked_at = sqlite3_column_int64(row, 9);
	if (!doc || credential_parse(doc, &in, al, &pr))
		why = "not a credential of the shape tinchi issues";
	else if (!uid || !in.id || strcmp(uid, in.id) != 0 || !hash ||
		 copy_field(c->uid, sizeof(c->uid), uid) || copy_field(c->hash, sizeof(c->hash), hash))
		why = "its uid or hash column does not match it";
	else if (copy_field(c->revoke_reason, sizeof(c->revoke_reason),
			    (const char *)sqlite3_column_text(row, 10)) ||
		 copy_field(c->issuer_did, sizeof(c->issuer_did), in.issuer_id) ||
		 copy_field(c->identity_hash, sizeof(c->identity_hash), in.identity_hash) ||
		 copy_field(c->salt, sizeof(c->salt), in.salt) ||
		 copy_field(c->term, sizeof(c->term), in.term) ||
		 copy_field(c->grade, sizeof(c->grade), in.grade) ||
		 (in.term && !in.term[0]) || (in.grade && !in.grade[0]))
		why = "a field is longer than the compact form holds";
	else if (in.awarded_date && xapi_timestamp_parse(in.awarded_date, &c->awarded_at))
		why = "awardedDate is not a date-time";
	else if (credential_shared_json(&in, &shared) ||
		 !(c->shared = json_dumps(shared, JSON_COMPACT | JSON_SORT_KEYS)))
		rc = TC_ENOMEM;
	if (!why && rc == 0) {
		c->awarded = in.awarded_date != NULL;
		c->awarded_at /= 1000000;	/* whole seconds; other forms do not rebuild */
		c->credits_earned = in.credits_earned;
		memcpy(c->signature, pr.signature, 64);
		if (sqlite3_prepare_v2(db, "SELECT id FROM institution_keys WHERE institution_id = ?1"
				       " AND did = ?2", -1, &key, NULL) != SQLITE_OK ||
		    sqlite3_bind_int64(key, 1, c->institution_id) ||
		    sqlite3_bind_text(key, 2, c->issuer_did, -1, SQLITE_STATIC))
			rc = db_fail(db, sqlite3_errcode(db), "credential conversion");
		else if (sqlite3_step(key) != SQLITE_ROW)
			why = "its issuer is not a key of its institution";
		else
			c->key_id = sqlite3_column_int64(key, 0);
		sqlite3_finalize(key);
	}
	if (!why && rc == 0 && (rc = store_credential_text(c, &again, NULL)) == TC_EINVALID) {
		rc = 0;
		why = "its fields do not make a credential";
	}
	if (!why && rc == 0) {
		sha256_hex(again, strlen(again), digest);
		if (strcmp(again, text) != 0)
			why = "the credential rebuilt from its fields differs from the stored text";
		else if (strcmp(digest, hash) != 0)
			why = "the stored hash is not the SHA-256 of the stored text";
	}
	if (why) {
		log_err("migration 14 refused: credential %lld (%s): %s; the database is left as"
			" it was", (long long)c->id, uid ? uid : "?", why);
		rc = TC_EINVALID;
	}
	free(again);
	json_decref(shared);
	json_decref(doc);
	return rc;
}

int credentials_convert_v14(sqlite3 *db);

/* Migration 14's conversion step (storage/sqlite_schema.c): every stored
 * credential becomes its fields, and must rebuild to the same bytes, or
 * the whole migration is refused. */
int
credentials_convert_v14(sqlite3 *db)
{
	static const char op[] = "migration 14";
	sqlite3_stmt *row = NULL;
	int64_t n = 0;
	int rc = db_prepare(db, "SELECT id, uid, institution_id, course_id, person_id,"
			    " status_index, json, hash, issued_at, revoked_at, revoke_reason"
			    " FROM credentials ORDER BY id", &row, op);
	int src = SQLITE_DONE;

	log_info("migration 14: converting the stored credentials to their fields");
	while (rc == 0 && (src = sqlite3_step(row)) == SQLITE_ROW) {
		struct credential_rec c;
		int64_t ach = 0;

		rc = convert_one(db, row, &c);
		if (rc == 0)
			rc = shared_id(NULL, db, &c, &ach);
		if (rc == 0)
			rc = insert_row(NULL, db, "credentials_v14", &c, ach, 1);
		free(c.shared);
		n++;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = db_fail(db, src, op);
	sqlite3_finalize(row);
	if (rc == 0 && sqlite3_exec(db, "DROP TABLE credentials;"
				    "ALTER TABLE credentials_v14 RENAME TO credentials;"
				    "CREATE INDEX credentials_by_person ON credentials (person_id, id);"
				    "CREATE INDEX credentials_by_hash ON credentials (hash);",
				    NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(db, sqlite3_errcode(db), op);
	if (rc == 0 && n)
		log_info("migration 14: %lld credentials stored as their fields, each rebuilt byte"
			 " for byte", (long long)n);
	return rc;
}

const struct credential_ops sqlite_credential_ops = {
	.next_k = sq_next_k,
	.issue = sq_issue,
	.get = sq_get,
	.each = sq_each,
	.status_bit = sq_status_bit,
	.issue_mode = sq_issue_mode,
	.find = sq_find,
	.revoke = sq_revoke,
	.status_list = sq_status_list,
	.set_issue_mode = sq_set_issue_mode,
	.waiting_each = sq_waiting_each,
	.decline = sq_decline,
};
