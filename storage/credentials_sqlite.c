/*
 * credentials_sqlite.c - the SQLite side of storage/credentials.h: issuing
 * (status index, credential row, outbox event) in one savepoint, reading
 * credentials back, and the status list bits.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/statuslist.h"
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

static int
issue_steps(struct store *s, struct credential_rec *c, const char *purpose, int64_t k,
	    int64_t event_id)
{
	static const char op[] = "credential issue";
	int rc = sqlu_execf(s, op, "INSERT INTO status_lists (institution_id, purpose, bits,"
			    " next_k, updated_at) VALUES (?1, ?2, zeroblob(?3), 0, ?4)"
			    " ON CONFLICT (institution_id, purpose) DO NOTHING", "itii",
			    c->institution_id, purpose, (int64_t)(STATUSLIST_MIN_BITS / 8),
			    c->issued_at);

	if (rc == 0)
		rc = sqlu_execf(s, op, "UPDATE status_lists SET next_k = next_k + 1,"
				" updated_at = ?4 WHERE institution_id = ?1 AND purpose = ?2"
				" AND next_k = ?3", "itii", c->institution_id, purpose, k,
				c->issued_at);
	if (rc == 0 && sqlu_changed_one(s))
		rc = TC_ECONFLICT;
	if (rc == 0)
		rc = sqlu_execf(s, op, "INSERT INTO credentials (uid, institution_id, course_id,"
				" person_id, status_index, json, hash, issued_at)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "tiiiitti", c->uid,
				c->institution_id, c->course_id, c->person_id, c->status_index,
				c->json, c->hash, c->issued_at);
	if (rc == 0)
		c->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
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

int
sqlite_credential_read(sqlite3_stmt *st, struct credential_rec *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = sqlu_col_int(st, 0);
	out->institution_id = sqlu_col_int(st, 2);
	out->course_id = sqlu_col_int(st, 3);
	out->person_id = sqlu_col_int(st, 4);
	out->status_index = sqlu_col_int(st, 5);
	out->issued_at = sqlu_col_int(st, 8);
	out->revoked_at = sqlu_col_int(st, 9);
	if ((rc = sqlu_col_text(st, 1, out->uid, sizeof(out->uid))) ||
	    (rc = sqlu_col_text(st, 7, out->hash, sizeof(out->hash))) ||
	    (rc = sqlu_col_text(st, 10, out->revoke_reason, sizeof(out->revoke_reason))))
		return rc;
	return sqlu_col_dup(st, 6, &out->json);
}

static int
sq_get(struct store *s, const char *uid, struct credential_rec *out)
{
	static const char op[] = "credential get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " CREDENTIAL_COLUMNS " FROM credentials"
			       " WHERE uid = ?1", "t", uid);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && (rc = sqlite_credential_read(st, out))) {
		free(out->json);
		out->json = NULL;
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
	int rc = sqlu_preparef(s, op, &st, "SELECT " CREDENTIAL_COLUMNS " FROM credentials"
			       " WHERE person_id = ?1 ORDER BY id DESC", "i", person_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		rc = sqlite_credential_read(st, &c);
		if (rc == 0)
			rc = cb(&c, arg);
		free(c.json);
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
sq_find(struct store *s, int64_t course_id, int64_t person_id, const char *term,
	char uid[CRED_UID_MAX + 1])
{
	static const char op[] = "credential find";
	sqlite3_stmt *st = NULL;
	/* credentials_by_person narrows it to one learner's few rows */
	int rc = sqlu_preparef(s, op, &st, "SELECT uid FROM credentials WHERE person_id = ?1"
			       " AND course_id = ?2 AND revoked_at = 0"
			       " AND json_extract(json, '$.credentialSubject.term') = ?3"
			       " ORDER BY id LIMIT 1", "iit", person_id, course_id, term);

	uid[0] = '\0';
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = sqlu_col_text(st, 0, uid, CRED_UID_MAX + 1);
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
	int rc = sqlu_preparef(s, op, &st, "SELECT bits FROM status_lists"
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
	sqlite3_finalize(st);
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
