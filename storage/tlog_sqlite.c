/*
 * tlog_sqlite.c - the SQLite side of storage/tlog.h (migrations 12 and
 * 18): log_leaves, log_issuers, log_subtrees and log_checkpoints. Hashes
 * are 32-byte BLOBs.
 *
 * A leaf is stored as the fields of its entry (courses/tlog_entry.h): its
 * kind, its issuer (a log_issuers row: a DID once however many leaves name
 * it) and its time; its hash, which is also its subject, is the hash of
 * the credential it records (credential_id: the credentials row, whose
 * hash index finds it) or, for a subject no credential has, a subject
 * column of its own. Reads rebuild the canonical text and hash it; an
 * entry whose fields would not rebuild it byte for byte (tlog_entry_parse
 * refuses it) is kept as text. Subtrees are stored from
 * TLOG_NODE_LEVEL_MIN up; storage/tlog.c computes the smaller ones from
 * the leaves.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "courses/tlog_entry.h"
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

/* "sha256:" + 64 lower-case hex digits as its 32 bytes: 0, else -1. */
static int
subject_bytes(const char *subject, unsigned char out[32])
{
	if (!tlog_hash_ok(subject))
		return -1;
	for (int i = 0; i < 32; i++) {
		const char *p = subject + 7 + 2 * i;
		int hi = p[0] <= '9' ? p[0] - '0' : p[0] - 'a' + 10;
		int lo = p[1] <= '9' ? p[1] - '0' : p[1] - 'a' + 10;

		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* ---- leaves: the statements the store and migration 18 share ---------------------- */

/* Binds SUBJECT as ?I: its 32 bytes when it is "sha256:<hex>", else its text. */
static int
bind_subject(sqlite3_stmt *st, int i, const char *subject)
{
	unsigned char b[32];

	if (subject_bytes(subject, b) == 0)
		return sqlite3_bind_blob(st, i, b, 32, SQLITE_TRANSIENT);
	return sqlite3_bind_text(st, i, subject, -1, SQLITE_TRANSIENT);
}

/* The statements that append a leaf (put_leaf's Q), in this order. */
static const char *const put_sql[] = {
	/* the credential whose hash the subject is (credentials_by_hash) */
	TLOG_SQL_CREDENTIAL_BY_HASH,
	"SELECT id FROM log_issuers WHERE did = ?1",
	"INSERT INTO log_issuers (did) VALUES (?1)",
	"INSERT INTO log_leaves (idx, kind, credential_id, subject, issuer_id, time, entry)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
};
#define PUT_N (sizeof(put_sql) / sizeof(put_sql[0]))

/* Steps ST to its end, or to one row whose first column goes to *ID (0: no
 * row); resets it. An SQLite result code. */
static int
step_id(sqlite3_stmt *st, int64_t *id)
{
	int src = sqlite3_step(st);

	if (id)
		*id = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (src == SQLITE_ROW || src == SQLITE_DONE)
		src = SQLITE_OK;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return src;
}

/*
 * Inserts leaf INDEX with ENTRY and SUBJECT through Q (put_sql, prepared):
 * as fields when tlog_entry_parse takes ENTRY and SUBJECT is its hash,
 * else as text. *SRC receives an SQLite result code when one failed; the
 * return is 0, TC_ENOMEM, or TC_EDB (with *SRC).
 */
static int
put_leaf(sqlite3_stmt *const q[PUT_N], uint64_t index, const char *entry, const char *subject,
	 int *src, int64_t *cred_out)
{
	struct tlog_entry_fields f;
	unsigned char sub[32];
	int64_t cred = 0, issuer = 0;
	int hashed = subject_bytes(subject, sub) == 0, compact = 0, rc = 0;
	sqlite3_stmt *ins = q[3];

	*src = SQLITE_OK;
	if (hashed) {
		rc = tlog_entry_parse(entry, strlen(entry), &f);
		if (rc == TC_ENOMEM)
			return rc;
		compact = rc == 0 && memcmp(f.hash, sub, 32) == 0;
		rc = 0;
		if ((*src = sqlite3_bind_blob(q[0], 1, sub, 32, SQLITE_STATIC)) ||
		    (*src = step_id(q[0], &cred)))
			return TC_EDB;
	}
	/* the issuer's row, added the first time it is seen */
	if (compact && ((*src = sqlite3_bind_text(q[1], 1, f.issuer, -1, SQLITE_STATIC)) ||
			(*src = step_id(q[1], &issuer))))
		return TC_EDB;
	if (compact && !issuer) {
		if ((*src = sqlite3_bind_text(q[2], 1, f.issuer, -1, SQLITE_STATIC)) ||
		    (*src = step_id(q[2], NULL)))
			return TC_EDB;
		issuer = sqlite3_last_insert_rowid(sqlite3_db_handle(q[2]));
	}
	if ((*src = sqlite3_bind_int64(ins, 1, (int64_t)index)) ||
	    (*src = compact ? sqlite3_bind_int(ins, 2, f.kind) : sqlite3_bind_null(ins, 2)) ||
	    (*src = cred ? sqlite3_bind_int64(ins, 3, cred) : sqlite3_bind_null(ins, 3)) ||
	    (*src = cred ? sqlite3_bind_null(ins, 4) : hashed ?
		    sqlite3_bind_blob(ins, 4, sub, 32, SQLITE_STATIC) :
		    sqlite3_bind_text(ins, 4, subject, -1, SQLITE_STATIC)) ||
	    (*src = compact ? sqlite3_bind_int64(ins, 5, issuer) : sqlite3_bind_null(ins, 5)) ||
	    (*src = compact ? sqlite3_bind_int64(ins, 6, f.time) : sqlite3_bind_null(ins, 6)) ||
	    (*src = compact ? sqlite3_bind_null(ins, 7) :
		    sqlite3_bind_text(ins, 7, entry, -1, SQLITE_STATIC)) ||
	    (*src = step_id(ins, NULL)))
		return TC_EDB;
	if (cred_out)
		*cred_out = cred;
	return 0;
}

/*
 * The entry of a row of TLOG_SQL_LEAVES into OUT (TLOG_ENTRY_MAX + 1
 * bytes), *LEN its length: the stored text, or the text its fields
 * rebuild. A row that holds neither (a damaged store) gives "", which no
 * audit takes for an entry.
 */
static void
row_entry(sqlite3_stmt *st, char out[TLOG_ENTRY_MAX + 1], size_t *len)
{
	struct tlog_entry_fields f;
	const char *text = (const char *)sqlite3_column_text(st, 5);
	const char *did;
	size_t n;

	out[0] = '\0';
	*len = 0;
	if (text) {
		n = (size_t)sqlite3_column_bytes(st, 5);
		if (n <= TLOG_ENTRY_MAX && strlen(text) == n) {
			memcpy(out, text, n + 1);
			*len = n;
		}
		return;
	}
	did = (const char *)sqlite3_column_text(st, 3);
	if (sqlite3_column_type(st, 1) != SQLITE_INTEGER || col_hash(st, 2, f.hash) || !did ||
	    strlen(did) > TLOG_ISSUER_MAX || sqlite3_column_type(st, 4) != SQLITE_INTEGER)
		return;
	f.kind = (int)sqlite3_column_int64(st, 1);
	memcpy(f.issuer, did, strlen(did) + 1);
	f.time = sqlite3_column_int64(st, 4);
	if (tlog_entry_format(&f, out, TLOG_ENTRY_MAX + 1, len))
		*len = 0;
}

/* ---- the store's ops ------------------------------------------------------------ */

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
	sqlite3_stmt *q[PUT_N] = { NULL };
	int64_t cred = 0;
	int rc = 0, src = SQLITE_OK;

	(void)leaf_hash;	/* not stored: reads hash the rebuilt entry */
	for (size_t i = 0; i < PUT_N && rc == 0; i++)
		rc = sqlu_cachedf(s, op, &q[i], put_sql[i], "");
	if (rc == 0 && (rc = put_leaf(q, index, entry, subject, &src, &cred)) == TC_EDB)
		rc = sqlu_fail(s, src, op);
	/* a credential keeps its first leaf (migration 21: no index of the
	 * leaves by credential) */
	if (rc == 0 && cred)
		rc = sqlu_execf(s, op, "UPDATE credentials SET leaf = ?1 WHERE id = ?2"
				" AND leaf IS NULL", "ii", (int64_t)index, cred);
	for (size_t i = PUT_N; i-- > 0;)
		sqlu_release(s, q[i]);
	return rc;
}

static int
sq_node_put(struct store *s, unsigned level, uint64_t index, const unsigned char hash[32])
{
	static const char op[] = "tlog node put";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "INSERT INTO log_subtrees (level, idx, hash)"
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
	char entry[TLOG_ENTRY_MAX + 1];
	size_t n = 0;
	int rc = sqlu_cachedf(s, op, &st, TLOG_SQL_LEAVES " WHERE l.idx = ?1", "i",
			       (int64_t)index);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0) {
		row_entry(st, entry, &n);
		merkle_leaf_hash(entry, n, out);
	}
	sqlu_release(s, st);
	return rc;
}

static int
sq_node_hash(struct store *s, unsigned level, uint64_t index, unsigned char out[32])
{
	static const char op[] = "tlog node hash";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT hash FROM log_subtrees WHERE level = ?1"
			       " AND idx = ?2", "ii", (int64_t)level, (int64_t)index);

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
	int rc = sqlu_cachedf(s, op, &st, "SELECT count(*) FROM log_subtrees", "");

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
	char entry[TLOG_ENTRY_MAX + 1];
	unsigned char h[32];
	size_t n = 0;
	int rc = sqlu_cachedf(s, op, &st, TLOG_SQL_LEAVES " WHERE l.idx >= ?1 AND l.idx < ?2"
			       " ORDER BY l.idx", "ii", (int64_t)start, (int64_t)end);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		/* a damaged row is the caller's to see (the audit names it) */
		row_entry(st, entry, &n);
		merkle_leaf_hash(entry, n, h);
		rc = cb((uint64_t)sqlu_col_int(st, 0), entry, h, arg);
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
	int rc = sqlu_cachedf(s, op, &st, TLOG_SQL_FIND, "");

	if (rc == 0 && bind_subject(st, 1, subject) != SQLITE_OK)
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && sqlite3_column_type(st, 0) == SQLITE_NULL)
		rc = TC_ENOTFOUND;
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

/* A statement, not SQLITE_FCNTL_DATA_VERSION: it starts the read snapshot
 * (inside a BEGIN not yet read from, the file control still tells the
 * previous one's). */
static int
sq_data_version(struct store *s, int64_t *version)
{
	static const char op[] = "tlog data version";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "PRAGMA data_version", "");

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		*version = sqlu_col_int(st, 0);
	sqlu_release(s, st);
	return rc;
}

/* ---- migration 18: leaves as fields, subtrees from level TLOG_NODE_LEVEL_MIN ------ */

/* sqlu_fail for the bare connection of a migration (logged: TC_EDB). */
static int
db_fail(sqlite3 *db, int src, const char *op)
{
	log_err("%s: %s (%d)", op, sqlite3_errmsg(db), src);
	return TC_EDB;
}

struct convert {
	sqlite3 *db;
	sqlite3_stmt *old_node, *put_node;
	uint64_t compared;		/* old subtree rows found equal */
	char why[160];
};

/* merkle_compact_append's subtree: the old row must hold the same hash; kept
 * from TLOG_NODE_LEVEL_MIN up. */
static int
convert_node(void *ctx, unsigned level, uint64_t index, const unsigned char hash[32])
{
	struct convert *cv = ctx;
	int src;

	if ((src = sqlite3_bind_int64(cv->old_node, 1, level)) ||
	    (src = sqlite3_bind_int64(cv->old_node, 2, (int64_t)index)))
		return db_fail(cv->db, src, "migration 18");
	src = sqlite3_step(cv->old_node);
	if (src == SQLITE_ROW && (sqlite3_column_bytes(cv->old_node, 0) != 32 ||
				  memcmp(sqlite3_column_blob(cv->old_node, 0), hash, 32) != 0))
		snprintf(cv->why, sizeof(cv->why), "subtree level %u index %llu: its stored hash"
			 " is not the hash of its leaves", level, (unsigned long long)index);
	else if (src == SQLITE_DONE)
		snprintf(cv->why, sizeof(cv->why), "subtree level %u index %llu is missing", level,
			 (unsigned long long)index);
	else if (src != SQLITE_ROW)
		return db_fail(cv->db, src, "migration 18");
	sqlite3_reset(cv->old_node);
	if (cv->why[0])
		return TC_EINVALID;
	cv->compared++;
	if (level < TLOG_NODE_LEVEL_MIN)
		return 0;
	if ((src = sqlite3_bind_int64(cv->put_node, 1, level)) ||
	    (src = sqlite3_bind_int64(cv->put_node, 2, (int64_t)index)) ||
	    (src = sqlite3_bind_blob(cv->put_node, 3, hash, 32, SQLITE_STATIC)) ||
	    (src = step_id(cv->put_node, NULL)))
		return db_fail(cv->db, src, "migration 18");
	return 0;
}

int tlog_convert_v18(sqlite3 *db);

/*
 * Migration 18's conversion step (storage/sqlite_schema.c): the leaves of
 * log_leaves_v12 go into log_leaves as fields, each read back and compared
 * byte for byte with the stored entry (and its hash with the stored leaf
 * hash); the tree they make is compared with every stored subtree of
 * log_nodes_v12, whose rows from TLOG_NODE_LEVEL_MIN up are kept. Anything
 * that differs refuses the whole migration (TC_EINVALID, logged).
 */
int
tlog_convert_v18(sqlite3 *db)
{
	static const char op[] = "migration 18";
	sqlite3_stmt *q[PUT_N] = { NULL }, *old = NULL, *get = NULL, *count = NULL;
	struct convert cv = { .db = db };
	struct merkle_compact c;
	char entry[TLOG_ENTRY_MAX + 1];
	unsigned char h[32];
	uint64_t next = 0, nodes = 0;
	size_t n = 0;
	int rc = 0, src = SQLITE_OK;

	merkle_compact_init(&c);
	for (size_t i = 0; i < PUT_N && src == SQLITE_OK; i++)
		src = sqlite3_prepare_v2(db, put_sql[i], -1, &q[i], NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(db, "SELECT idx, entry, subject, leaf_hash FROM log_leaves_v12"
					 " ORDER BY idx", -1, &old, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(db, TLOG_SQL_LEAVES " WHERE l.idx = ?1", -1, &get, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(db, "SELECT hash FROM log_nodes_v12 WHERE level = ?1"
					 " AND idx = ?2", -1, &cv.old_node, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(db, "INSERT INTO log_subtrees (level, idx, hash)"
					 " VALUES (?1, ?2, ?3)", -1, &cv.put_node, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(db, "SELECT count(*) FROM log_nodes_v12", -1, &count, NULL);
	if (src != SQLITE_OK) {
		rc = db_fail(db, src, op);
		goto out;
	}
	log_info("migration 18: storing the transparency log's leaves as their fields");
	while ((src = sqlite3_step(old)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(old, 1);
		const char *subject = (const char *)sqlite3_column_text(old, 2);
		uint64_t idx = (uint64_t)sqlite3_column_int64(old, 0);
		size_t len = (size_t)sqlite3_column_bytes(old, 1);

		if (idx != next) {
			snprintf(cv.why, sizeof(cv.why), "leaf %llu is missing",
				 (unsigned long long)next);
			break;
		}
		if (!text || !subject || len > TLOG_ENTRY_MAX || strlen(text) != len ||
		    sqlite3_column_bytes(old, 3) != 32) {
			snprintf(cv.why, sizeof(cv.why), "leaf %llu is damaged",
				 (unsigned long long)idx);
			break;
		}
		merkle_leaf_hash(text, len, h);
		if (memcmp(h, sqlite3_column_blob(old, 3), 32) != 0) {
			snprintf(cv.why, sizeof(cv.why), "leaf %llu: its stored leaf hash does not"
				 " match its entry", (unsigned long long)idx);
			break;
		}
		if ((rc = put_leaf(q, idx, text, subject, &src, NULL))) {
			if (rc == TC_EDB)
				rc = db_fail(db, src, op);
			goto out;
		}
		/* read back as the store reads it: the same bytes */
		if ((src = sqlite3_bind_int64(get, 1, (int64_t)idx)) ||
		    (src = sqlite3_step(get)) != SQLITE_ROW) {
			rc = db_fail(db, src, op);
			goto out;
		}
		row_entry(get, entry, &n);
		sqlite3_reset(get);
		if (n != len || memcmp(entry, text, len) != 0) {
			snprintf(cv.why, sizeof(cv.why), "leaf %llu does not rebuild byte for byte",
				 (unsigned long long)idx);
			break;
		}
		if ((rc = merkle_compact_append(&c, h, convert_node, &cv)))
			break;
		next++;
	}
	if (!cv.why[0] && rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = db_fail(db, src, op);
	if (!cv.why[0] && rc == 0) {
		if ((src = sqlite3_step(count)) != SQLITE_ROW)
			rc = db_fail(db, src, op);
		else if ((nodes = (uint64_t)sqlite3_column_int64(count, 0)) != cv.compared)
			snprintf(cv.why, sizeof(cv.why), "%llu subtree rows stored, a log of %llu"
				 " leaves has %llu", (unsigned long long)nodes,
				 (unsigned long long)next, (unsigned long long)cv.compared);
	}
	if (cv.why[0]) {
		log_err("migration 18 refused: the transparency log's %s; the database is left as"
			" it was", cv.why);
		rc = TC_EINVALID;
	}
out:
	for (size_t i = 0; i < PUT_N; i++)
		sqlite3_finalize(q[i]);
	sqlite3_finalize(old);
	sqlite3_finalize(get);
	sqlite3_finalize(count);
	sqlite3_finalize(cv.old_node);
	sqlite3_finalize(cv.put_node);
	/* after the statements that read them are gone */
	if (rc == 0 && sqlite3_exec(db, "DROP TABLE log_leaves_v12; DROP TABLE log_nodes_v12;",
				    NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(db, sqlite3_errcode(db), op);
	if (rc == 0 && next)
		log_info("migration 18: %llu leaves stored as their fields, each rebuilt byte for"
			 " byte; %llu subtrees checked", (unsigned long long)next,
			 (unsigned long long)cv.compared);
	return rc;
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
	.data_version = sq_data_version,
};
