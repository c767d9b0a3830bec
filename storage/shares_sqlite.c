/*
 * shares_sqlite.c - the SQLite side of storage/shares.h (table
 * credential_shares, migration 15).
 */
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "storage/shares.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

#define SHARE_COLUMNS "s.id, s.uid, s.credential_id, s.token_hash, s.kind, s.created_at," \
	" s.expires_at, s.withdrawn_at, s.access_count, s.last_accessed_at, " \
	CREDENTIAL_UID_SQL("c")
#define SHARE_FROM " FROM credential_shares s JOIN credentials c ON c.id = s.credential_id"

static int
read_share(sqlite3_stmt *st, struct share_rec *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = sqlu_col_int(st, 0);
	out->credential_id = sqlu_col_int(st, 2);
	out->created_at = sqlu_col_int(st, 5);
	out->expires_at = sqlu_col_int(st, 6);
	out->withdrawn_at = sqlu_col_int(st, 7);
	out->access_count = sqlu_col_int(st, 8);
	out->last_accessed_at = sqlu_col_int(st, 9);
	if ((rc = sqlu_col_text(st, 1, out->uid, sizeof(out->uid))) ||
	    (rc = sqlu_col_text(st, 3, out->token_hash, sizeof(out->token_hash))) ||
	    (rc = sqlite3_column_bytes(st, 10) == 16 && sqlite3_column_blob(st, 10) ? 0 : TC_EDB))
		return rc;
	/* credentials.uid is stored as its 16 bytes (migration 14) */
	sqlite_credential_uid_text(sqlite3_column_blob(st, 10), out->credential_uid);
	return sqlu_col_text(st, 4, out->kind, sizeof(out->kind));
}

/* The insert comes first: a savepoint that reads before it writes could
 * not take the write lock after another connection's commit (SQLITE_BUSY
 * without waiting); the count then includes the new row. */
static int
create_steps(struct store *s, struct share_rec *r, int max_live)
{
	static const char op[] = "share create";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_execf(s, op, "INSERT INTO credential_shares (uid, credential_id,"
			    " token_hash, kind, created_at, expires_at)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "tittii", r->uid,
			    r->credential_id, r->token_hash, r->kind, r->created_at,
			    r->expires_at);

	if (rc == 0)
		r->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	if (rc == 0)
		rc = sqlu_preparef(s, op, &st, "SELECT count(*) FROM credential_shares"
				   " WHERE credential_id = ?1 AND withdrawn_at = 0"
				   " AND (expires_at = 0 OR expires_at > ?2)", "ii",
				   r->credential_id, r->created_at);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && sqlu_col_int(st, 0) > max_live)
		rc = TC_ETOOBIG;
	sqlite3_finalize(st);
	return rc;
}

struct create {
	struct share_rec *r;
	int max_live;
};

static int
create_in(struct store *s, void *arg)
{
	struct create *c = arg;

	return create_steps(s, c->r, c->max_live);
}

static int
sq_create(struct store *s, struct share_rec *r, int max_live)
{
	struct create c = { r, max_live };

	return sqlu_savepoint(s, "share create", "share_create", create_in, &c);
}

static int
sq_each(struct store *s, int64_t credential_id,
	int (*cb)(const struct share_rec *r, void *arg), void *arg)
{
	static const char op[] = "shares each";
	struct share_rec r;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " SHARE_COLUMNS SHARE_FROM
			       " WHERE s.credential_id = ?1 ORDER BY s.id DESC", "i", credential_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0)
		if ((rc = read_share(st, &r)) == 0)
			rc = cb(&r, arg);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_withdraw(struct store *s, int64_t credential_id, const char *uid, int64_t when)
{
	static const char op[] = "share withdraw";
	sqlite3_stmt *st = NULL;
	int64_t withdrawn = 0;
	int rc = sqlu_preparef(s, op, &st, "SELECT withdrawn_at FROM credential_shares"
			       " WHERE credential_id = ?1 AND uid = ?2", "it", credential_id, uid);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		withdrawn = sqlu_col_int(st, 0);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (withdrawn)
		return TC_ECONFLICT;
	rc = sqlu_execf(s, op, "UPDATE credential_shares SET withdrawn_at = ?3"
			" WHERE credential_id = ?1 AND uid = ?2 AND withdrawn_at = 0", "iti",
			credential_id, uid, when);
	if (rc == 0 && sqlu_changed_one(s))
		rc = TC_ECONFLICT;	/* withdrawn in between */
	return rc;
}

static int
sq_access(struct store *s, const char *token_hash, int64_t when, struct share_rec *out)
{
	static const char op[] = "share access";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_execf(s, op, "UPDATE credential_shares SET access_count = access_count + 1,"
			    " last_accessed_at = ?2 WHERE token_hash = ?1 AND withdrawn_at = 0"
			    " AND (expires_at = 0 OR expires_at > ?2)", "ti", token_hash, when);

	if (rc == 0)
		rc = sqlu_preparef(s, op, &st, "SELECT " SHARE_COLUMNS SHARE_FROM
				   " WHERE s.token_hash = ?1", "t", token_hash);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_share(st, out);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_print(struct store *s, int64_t credential_id, struct share_rec *out)
{
	static const char op[] = "share print";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " SHARE_COLUMNS SHARE_FROM
			       " WHERE s.credential_id = ?1 AND s.kind = 'print'"
			       " AND s.withdrawn_at = 0",
			       "i", credential_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_share(st, out);
	sqlite3_finalize(st);
	return rc;
}

const struct share_ops sqlite_share_ops = {
	.create = sq_create,
	.each = sq_each,
	.withdraw = sq_withdraw,
	.access = sq_access,
	.print = sq_print,
};
