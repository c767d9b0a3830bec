/*
 * tlog_sqlite.c - the SQLite side of storage/tlog.h: log_leaves, log_nodes
 * and log_checkpoints (migration 12). Hashes are 32-byte BLOBs.
 */
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"
#include "storage/tlog.h"

static int
bind_hash(struct store *s, sqlite3_stmt *st, int i, const unsigned char h[32], const char *op)
{
	if (sqlite3_bind_blob(st, i, h, 32, SQLITE_TRANSIENT) != SQLITE_OK)
		return sqlu_bind_fail(s, op);
	return 0;
}

/* Column COL as a 32-byte hash; anything else is a damaged row: TC_EDB. */
static int
col_hash(sqlite3_stmt *st, int col, unsigned char out[32])
{
	const void *b = sqlite3_column_blob(st, col);

	if (!b || sqlite3_column_bytes(st, col) != 32)
		return TC_EDB;
	memcpy(out, b, 32);
	return 0;
}

static int
sq_size(struct store *s, uint64_t *size)
{
	static const char op[] = "tlog size";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT coalesce(max(idx) + 1, 0) FROM log_leaves", "");

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		*size = (uint64_t)sqlu_col_int(st, 0);
	sqlu_release(s, st);
	return rc;
}

static int
sq_leaf_put(struct store *s, uint64_t index, const char *entry, const char *subject,
	    const unsigned char leaf_hash[32])
{
	static const char op[] = "tlog leaf put";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "INSERT INTO log_leaves (idx, entry, subject, leaf_hash)"
			       " VALUES (?1, ?2, ?3, ?4)", "itt", (int64_t)index, entry, subject);

	if (rc == 0)
		rc = bind_hash(s, st, 4, leaf_hash, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlu_release(s, st);
	return rc;
}

static int
sq_node_put(struct store *s, unsigned level, uint64_t index, const unsigned char hash[32])
{
	static const char op[] = "tlog node put";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "INSERT INTO log_nodes (level, idx, hash)"
			       " VALUES (?1, ?2, ?3)", "ii", (int64_t)level, (int64_t)index);

	if (rc == 0)
		rc = bind_hash(s, st, 3, hash, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlu_release(s, st);
	return rc;
}

static int
sq_leaf_hash(struct store *s, uint64_t index, unsigned char out[32])
{
	static const char op[] = "tlog leaf hash";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT leaf_hash FROM log_leaves WHERE idx = ?1",
			       "i", (int64_t)index);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = col_hash(st, 0, out);
	sqlu_release(s, st);
	return rc;
}

static int
sq_node_hash(struct store *s, unsigned level, uint64_t index, unsigned char out[32])
{
	static const char op[] = "tlog node hash";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT hash FROM log_nodes WHERE level = ?1 AND idx = ?2",
			       "ii", (int64_t)level, (int64_t)index);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = col_hash(st, 0, out);
	sqlu_release(s, st);
	return rc;
}

static int
sq_node_count(struct store *s, uint64_t *count)
{
	static const char op[] = "tlog node count";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT count(*) FROM log_nodes", "");

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		*count = (uint64_t)sqlu_col_int(st, 0);
	sqlu_release(s, st);
	return rc;
}

static int
sq_leaves_each(struct store *s, uint64_t start, uint64_t end,
	       int (*cb)(uint64_t index, const char *entry, const unsigned char leaf_hash[32],
			 void *arg), void *arg)
{
	static const char op[] = "tlog leaves";
	sqlite3_stmt *st = NULL;
	unsigned char h[32];
	int rc = sqlu_cachedf(s, op, &st, "SELECT idx, entry, leaf_hash FROM log_leaves"
			       " WHERE idx >= ?1 AND idx < ?2 ORDER BY idx", "ii",
			       (int64_t)start, (int64_t)end);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		const char *e = (const char *)sqlite3_column_text(st, 1);

		/* a damaged hash is the caller's to see (the audit names it) */
		if (col_hash(st, 2, h))
			memset(h, 0, sizeof(h));
		rc = cb((uint64_t)sqlu_col_int(st, 0), e ? e : "", h, arg);
	}
	if (rc == TC_ENOTFOUND)
		rc = 0;
	sqlu_release(s, st);
	return rc;
}

static int
sq_find(struct store *s, const char *subject, uint64_t *index)
{
	static const char op[] = "tlog find";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT idx FROM log_leaves WHERE subject = ?1"
			       " ORDER BY idx LIMIT 1", "t", subject);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		*index = (uint64_t)sqlu_col_int(st, 0);
	sqlu_release(s, st);
	return rc;
}

static int
read_checkpoint(sqlite3_stmt *st, struct tlog_checkpoint *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->size = (uint64_t)sqlu_col_int(st, 0);
	out->created_at = sqlu_col_int(st, 3);
	if ((rc = col_hash(st, 1, out->root)))
		return rc;
	return sqlu_col_text(st, 2, out->note, sizeof(out->note));
}

static int
sq_checkpoint_get(struct store *s, int latest, uint64_t size, struct tlog_checkpoint *out)
{
	static const char op[] = "tlog checkpoint";
	sqlite3_stmt *st = NULL;
	int rc = latest ?
		sqlu_cachedf(s, op, &st, "SELECT size, root, note, created_at FROM log_checkpoints"
			      " ORDER BY size DESC LIMIT 1", "") :
		sqlu_cachedf(s, op, &st, "SELECT size, root, note, created_at FROM log_checkpoints"
			      " WHERE size = ?1", "i", (int64_t)size);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_checkpoint(st, out);
	sqlu_release(s, st);
	return rc;
}

static int
sq_checkpoint_put(struct store *s, const struct tlog_checkpoint *cp)
{
	static const char op[] = "tlog checkpoint put";
	sqlite3_stmt *st = NULL;
	struct tlog_checkpoint old;
	int rc = sqlu_cachedf(s, op, &st, "INSERT INTO log_checkpoints (size, note, created_at, root)"
			       " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (size) DO NOTHING", "iti",
			       (int64_t)cp->size, cp->note, cp->created_at);

	if (rc == 0)
		rc = bind_hash(s, st, 4, cp->root, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlu_release(s, st);
	/* stored now, by us or before: the root must be the same */
	if (rc == 0)
		rc = sq_checkpoint_get(s, 0, cp->size, &old);
	if (rc == 0 && memcmp(old.root, cp->root, 32) != 0)
		rc = TC_ECONFLICT;
	return rc;
}

static int
sq_checkpoints_each(struct store *s, int (*cb)(const struct tlog_checkpoint *cp, void *arg),
		    void *arg)
{
	static const char op[] = "tlog checkpoints";
	sqlite3_stmt *st = NULL;
	struct tlog_checkpoint cp;
	int rc = sqlu_cachedf(s, op, &st, "SELECT size, root, note, created_at FROM log_checkpoints"
			       " ORDER BY size", "");

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		if ((rc = read_checkpoint(st, &cp)) == TC_EDB) {
			/* a damaged row still reaches the caller, with what it holds */
			rc = 0;
		}
		if (rc == 0)
			rc = cb(&cp, arg);
	}
	if (rc == TC_ENOTFOUND)
		rc = 0;
	sqlu_release(s, st);
	return rc;
}

/* A deferred read transaction when none is open: one snapshot and one
 * WAL read lock for the reads until sq_read_end. */
static int
sq_read_begin(struct store *s, int *began)
{
	sqlite3 *db = store_sqlite_db(s);

	*began = 0;
	if (!sqlite3_get_autocommit(db))
		return 0;	/* inside the caller's transaction already */
	/* a cached statement: sqlite3_exec would parse it for every read */
	if (sqlu_execf(s, "tlog read begin", "BEGIN", ""))
		return TC_EDB;
	*began = 1;
	return 0;
}

static int
sq_read_end(struct store *s)
{
	/* only reads ran: COMMIT just drops the snapshot */
	return sqlu_execf(s, "tlog read end", "COMMIT", "") ? TC_EDB : 0;
}

const struct tlog_ops sqlite_tlog_ops = {
	.size = sq_size,
	.leaf_put = sq_leaf_put,
	.node_put = sq_node_put,
	.leaf_hash = sq_leaf_hash,
	.node_hash = sq_node_hash,
	.node_count = sq_node_count,
	.leaves_each = sq_leaves_each,
	.find = sq_find,
	.checkpoint_put = sq_checkpoint_put,
	.checkpoint_get = sq_checkpoint_get,
	.checkpoints_each = sq_checkpoints_each,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
};
