/*
 * store_sqlite.c - the embedded SQLite backend of the store (store.h).
 *
 * One connection per struct store, opened without SQLite's own mutexes
 * (the store is used by one thread at a time). The database runs in WAL
 * mode with synchronous=FULL, so an acknowledged commit survives power loss,
 * and with foreign keys enforced. No sqlite3 handle or statement leaves
 * storage/; identity_sqlite.c reaches the connection and the long-lived
 * statements through store_sqlite.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/sqlite_migrate.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

struct store_sqlite {
	struct store base;	/* first: a struct store * points here */
	sqlite3 *db;
	char *path;		/* owned; the main database file */
	sqlite3_stmt *ping;	/* prepared on first use; finalized at close */
	sqlite3_stmt *version;
	sqlite3_stmt *stmts[STMT_COUNT];	/* see store_sqlite.h */
	struct sqlu_cache *cache;	/* sqlite_util.h's statement cache */
};

/*
 * Who checkpoints (store_set_wal_external): with wal_external set, the
 * connections opened afterwards replace SQLite's autocheckpoint hook by
 * note_frames, which only records the log's size for the checkpointer.
 */
static _Atomic int wal_external;
static _Atomic int64_t wal_frames;

void
store_set_wal_external(int on)
{
	wal_external = on != 0;
}

int64_t
store_wal_frames(void)
{
	return wal_frames;
}

static struct store_sqlite *
from_store(struct store *s)
{
	return (struct store_sqlite *)s;
}

/* Switches DB to WAL; fails unless SQLite reports "wal" afterwards. */
static int
set_wal(sqlite3 *db, const char *path)
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *mode = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &stmt,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		log_err("%s: cannot switch to WAL: %s", path,
			sqlite3_errmsg(db));
		rc = TC_EDB;
		goto out;
	}
	mode = sqlite3_column_text(stmt, 0);
	if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
		log_err("%s: journal mode is \"%s\", not \"wal\"", path,
			mode ? (const char *)mode : "(null)");
		rc = TC_EDB;
		goto out;
	}
out:
	sqlite3_finalize(stmt);
	return rc;
}

static void
sqlite_close(struct store *s)
{
	struct store_sqlite *ss = from_store(s);

	if (ss == NULL)
		return;
	sqlite3_finalize(ss->ping);
	sqlite3_finalize(ss->version);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(ss->stmts[i]);
	sqlu_cache_free(ss->cache);
	ss->cache = NULL;
	if (ss->db != NULL) {
		/* Best effort: leave no WAL behind for the next open (unless a
		 * checkpointer does that: a TRUNCATE here would hold the write
		 * lock while it waits for readers). SQLite checkpoints anyway
		 * when the last connection closes. */
		if (!wal_external)
			sqlite3_exec(ss->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
				     NULL, NULL);
		if (sqlite3_close(ss->db) != SQLITE_OK)
			log_warn("%s: close: %s", ss->path ? ss->path : "?",
				 sqlite3_errmsg(ss->db));
	}
	free(ss->path);
	free(ss);
}

/*
 * Steps the cached statement *STMT (preparing SQL on first use) and hands
 * its first column to *OUT. Health checks run often, so the statements are
 * kept rather than compiled per call.
 */
static int
step_cached_int(struct store_sqlite *ss, sqlite3_stmt **stmt, const char *sql,
		int *out)
{
	int rc = 0;

	if (*stmt == NULL &&
	    sqlite3_prepare_v3(ss->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       stmt, NULL) != SQLITE_OK) {
		rc = TC_EDB;
		goto out;
	}
	if (sqlite3_step(*stmt) != SQLITE_ROW) {
		rc = TC_EDB;
		goto out;
	}
	*out = sqlite3_column_int(*stmt, 0);
out:
	if (rc)
		log_err("%s: %s failed: %s", ss->path, sql, sqlite3_errmsg(ss->db));
	if (*stmt)
		sqlite3_reset(*stmt);
	return rc;
}

/* Reads the schema cookie from the database header: proves a read works. */
static int
sqlite_ping(struct store *s)
{
	int cookie;

	return step_cached_int(from_store(s), &from_store(s)->ping,
			       "PRAGMA schema_version", &cookie);
}

static int
sqlite_schema_version(struct store *s, int *out)
{
	return step_cached_int(from_store(s), &from_store(s)->version,
			       "PRAGMA user_version", out);
}

/* Adds the size of PATH to *TOTAL; a missing file counts 0 when OPTIONAL. */
static int
add_file_size(const char *path, int optional, int64_t *total)
{
	struct stat st;
	int err;

	if (stat(path, &st) == 0) {
		*total += (int64_t)st.st_size;
		return 0;
	}
	err = errno;
	if (optional && err == ENOENT)
		return 0;
	log_err("%s: stat: %s", path, strerror(err));
	return TC_EIO;
}

static int
sqlite_size_bytes(struct store *s, int64_t *out)
{
	struct store_sqlite *ss = from_store(s);
	char wal[PATH_MAX + 8];
	int64_t total = 0;
	int n;
	int rc = 0;

	n = snprintf(wal, sizeof(wal), "%s-wal", ss->path);
	if (n < 0 || (size_t)n >= sizeof(wal)) {
		rc = TC_EINVALID;
		goto out;
	}
	rc = add_file_size(ss->path, 0, &total);
	if (rc)
		goto out;
	rc = add_file_size(wal, 1, &total);
	if (rc)
		goto out;
	*out = total;
out:
	return rc;
}

sqlite3 *
store_sqlite_db(struct store *s)
{
	return from_store(s)->db;
}

struct sqlu_cache **
store_sqlite_cache(struct store *s)
{
	return &from_store(s)->cache;
}

int
store_sqlite_stmt(struct store *s, enum store_sqlite_stmt slot,
		  const char *sql, sqlite3_stmt **out)
{
	struct store_sqlite *ss = from_store(s);
	int rc = 0;

	*out = NULL;
	if (ss->stmts[slot] == NULL &&
	    sqlite3_prepare_v3(ss->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &ss->stmts[slot], NULL) != SQLITE_OK) {
		log_err("%s: cannot prepare \"%.48s...\": %s", ss->path, sql,
			sqlite3_errmsg(ss->db));
		rc = TC_EDB;
		goto out;
	}
	*out = ss->stmts[slot];
out:
	return rc;
}

static int
stmtv(struct store *s, const char *op, enum store_sqlite_stmt slot, sqlite3_stmt **out,
      const char *sql, const char *fmt, va_list ap)
{
	int rc = store_sqlite_stmt(s, slot, sql, out);

	return rc ? rc : sqlu_bindv(s, op, *out, fmt, ap);
}

int
store_sqlite_stmtf(struct store *s, const char *op, enum store_sqlite_stmt slot,
		   sqlite3_stmt **out, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = stmtv(s, op, slot, out, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int
store_sqlite_execf(struct store *s, const char *op, enum store_sqlite_stmt slot,
		   const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = stmtv(s, op, slot, &st, sql, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlu_done(st);
	return rc;
}

static int
sqlite_set_busy_timeout(struct store *s, int ms)
{
	return sqlite3_busy_timeout(from_store(s)->db, ms) == SQLITE_OK ? 0 : TC_EDB;
}

/* SQLite's WAL hook, after every commit of the connection: N pages in the
 * log now. */
static int
note_frames(void *arg, sqlite3 *db, const char *name, int n)
{
	(void)arg;
	(void)db;
	(void)name;
	wal_frames = n;
	return SQLITE_OK;
}

/* The commit-time checkpoint of SS's connection as the process wants it. */
static void
set_autocheckpoint(struct store_sqlite *ss)
{
	if (wal_external)
		sqlite3_wal_hook(ss->db, note_frames, NULL);
	else
		sqlite3_wal_autocheckpoint(ss->db, 1000);
}

static int
sqlite_set_bulk(struct store *s, int on)
{
	struct store_sqlite *ss = from_store(s);

	if (on) {
		sqlite3_wal_autocheckpoint(ss->db, 0);
	} else {
		set_autocheckpoint(ss);
		/* best effort: other connections may be reading */
		sqlite3_wal_checkpoint_v2(ss->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
	return 0;
}

static int
sqlite_checkpoint(struct store *s, int mode, int *log, int *done)
{
	struct store_sqlite *ss = from_store(s);
	int nlog = 0, ndone = 0, rc;

	rc = sqlite3_wal_checkpoint_v2(ss->db, NULL, mode == STORE_CKPT_TRUNCATE ?
				       SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
				       &nlog, &ndone);
	if (log)
		*log = nlog;
	if (done)
		*done = ndone;
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return TC_EBUSY;
	if (rc != SQLITE_OK) {
		log_err("%s: checkpoint: %s", ss->path, sqlite3_errmsg(ss->db));
		return TC_EDB;
	}
	/* a truncated log is empty: the next commit starts it again */
	if (mode == STORE_CKPT_TRUNCATE)
		wal_frames = 0;
	return 0;
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sqlite_close,
	.ping = sqlite_ping,
	.schema_version = sqlite_schema_version,
	.size_bytes = sqlite_size_bytes,
	.set_busy_timeout = sqlite_set_busy_timeout,
	.set_bulk = sqlite_set_bulk,
	.identity = &sqlite_identity_ops,
	.courses = &sqlite_courses_ops,
	.media = &sqlite_media_ops,
	.progress = &sqlite_progress_ops,
	.completion = &sqlite_completion_ops,
	.quiz = &sqlite_quiz_ops,
	.xapi = &sqlite_xapi_ops,
	.credentials = &sqlite_credential_ops,
	.tlog = &sqlite_tlog_ops,
	.recognition = &sqlite_recognition_ops,
	.consents = &sqlite_consent_ops,
	.shares = &sqlite_share_ops,
	.checkpoint = sqlite_checkpoint,
};

int
store_sqlite_open(const char *path, struct store **out)
{
	struct store_sqlite *ss = NULL;
	int rc = 0;

	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		rc = TC_EINVALID;
		goto out;
	}
	ss = calloc(1, sizeof(*ss));
	if (ss == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	ss->base.ops = &sqlite_ops;
	ss->path = strdup(path);
	if (ss->path == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	/* On failure SQLite may still hand back a handle; close frees it. */
	if (sqlite3_open_v2(path, &ss->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		log_err("%s: cannot open database: %s", path,
			ss->db ? sqlite3_errmsg(ss->db) : "out of memory");
		rc = ss->db ? TC_EDB : TC_ENOMEM;
		goto out;
	}
	sqlite3_extended_result_codes(ss->db, 1);
	if (sqlite3_busy_timeout(ss->db, 5000) != SQLITE_OK) {
		log_err("%s: cannot set busy timeout: %s", path,
			sqlite3_errmsg(ss->db));
		rc = TC_EDB;
		goto out;
	}
	rc = set_wal(ss->db, path);
	if (rc)
		goto out;
	/*
	 * temp_store=MEMORY keeps statement journals in memory: inside a
	 * long transaction (a bulk import) SQLite otherwise moves them to a
	 * temporary file for good once one grows past 64 KiB, and then pays
	 * two write calls per page that any later statement touches.
	 * cache_size: 32 MiB of page cache (allocated as used) so that a
	 * large transaction does not spill dirty pages to the WAL midway.
	 */
	if (sqlite3_exec(ss->db, "PRAGMA synchronous=FULL;"
			 "PRAGMA foreign_keys=ON;"
			 "PRAGMA temp_store=MEMORY;"
			 "PRAGMA cache_size=-32768;", NULL, NULL,
			 NULL) != SQLITE_OK) {
		log_err("%s: cannot set connection pragmas: %s", path,
			sqlite3_errmsg(ss->db));
		rc = TC_EDB;
		goto out;
	}
	/* the derived fields of credential rows (migration 21 uses them too) */
	rc = sqlite_credential_functions(ss->db);
	if (rc == 0)
		rc = sqlite_migrate(ss->db, sqlite_migrations, sqlite_migrations_count);
	if (rc)
		goto out;
	set_autocheckpoint(ss);
	*out = &ss->base;
	ss = NULL;
out:
	if (ss != NULL) {
		/* Half-built: close without checkpointing anything. */
		sqlu_cache_free(ss->cache);
		sqlite3_close(ss->db);
		free(ss->path);
		free(ss);
	}
	return rc;
}
