/*
 * store.h - the persistence interface.
 *
 * Everything above storage/ talks to the database through this header and
 * never sees a backend type (no sqlite3, no sqlite3_stmt). A backend is a
 * `struct store_ops` table (store_backend.h); SQLite (store_sqlite.c) is the
 * embedded default, and a PostgreSQL backend is meant to be one more file.
 *
 * Threading: a struct store is used by one thread at a time.
 */
#ifndef TINCHI_STORE_H
#define TINCHI_STORE_H

#include <stdint.h>

struct store;

/*
 * Prepares the data folder DIR: creates it (0750) and its sub-folders
 * content/ (0750), keys/ (0700), logs/ (0750) when missing, and removes
 * left-over temporary files ("*.tmp") from content/. Existing folders are
 * kept as they are. Returns 0, TC_EINVALID (DIR NULL, empty or too long)
 * or TC_EIO (e.g. DIR or a sub-folder exists but is not a folder); every
 * failure is logged.
 */
int store_prepare_dir(const char *dir);

/*
 * Opens the embedded SQLite store DIR/tinchi.db (creating it), switches it
 * to WAL, and applies pending schema migrations, each in its own transaction.
 * A database whose schema version is newer than this binary knows is refused
 * with TC_ETOONEW and left untouched. On success *out owns the store (free
 * with store_close); on failure *out is NULL and an error is logged.
 * Errors: TC_EINVALID (DIR NULL, empty or too long), TC_ENOMEM, TC_EDB
 * (cannot open, not a database, WAL refused, a migration failed),
 * TC_ETOONEW. DIR must exist (see store_prepare_dir).
 */
int store_open(const char *dir, struct store **out);

/* Closes the store (checkpointing the WAL). Accepts NULL. */
void store_close(struct store *s);

/* Backend name, e.g. "sqlite". Borrowed. */
const char *store_backend(const struct store *s);

/* 0 when a trivial read succeeds (used by /healthz), else TC_EDB. */
int store_ping(struct store *s);

/* Schema version the store is at now. */
int store_schema_version(struct store *s, int *out);

/* Schema version this binary creates (the newest migration). */
int store_schema_latest(void);

/*
 * How long a write waits for another connection's write lock before giving
 * up with TC_EBUSY (default 5000 ms). The event loop's connection uses a
 * short wait so that a long write elsewhere (an import on a worker thread)
 * cannot stall every request.
 */
int store_set_busy_timeout(struct store *s, int ms);

/*
 * Bulk mode for long jobs made of many commits (imports): while ON, this
 * connection's commits do not copy the write-ahead log back into the
 * database (each would redo the work of the one before); turning it off
 * does that once. Every commit stays durable either way.
 */
int store_set_bulk(struct store *s, int on);

/* Bytes the database occupies on disk (main file plus WAL). */
int store_size_bytes(struct store *s, int64_t *out);

/*
 * Who copies the write-ahead log back into the database. By default a
 * commit that leaves 1000 pages or more in the log does it before it
 * returns, so some commit pays for everyone's. With store_set_wal_external(1)
 * (process-wide; call it before opening the connections it should cover)
 * no commit of a connection opened afterwards checkpoints: a background
 * thread calls store_checkpoint instead (server/checkpointer.h), watching
 * store_wal_frames. Durability is the same either way (synchronous=FULL:
 * every commit is synced in the log before it returns).
 */
void store_set_wal_external(int on);

/* The pages in the log as the latest commit of any connection of this
 * process left it (0 before any commit): what a checkpointer watches. */
int64_t store_wal_frames(void);

enum store_checkpoint_mode {
	STORE_CKPT_PASSIVE,	/* copy what no reader needs; waits for nobody */
	STORE_CKPT_TRUNCATE,	/* wait (busy timeout) for writers and readers, copy
				 * all, empty the log file */
};

/*
 * Checkpoints the log on S's connection. *LOG: pages in the log, *DONE:
 * those now copied back (either may be NULL). TC_EBUSY when TRUNCATE could
 * not finish within the busy timeout (the passive part is still done).
 */
int store_checkpoint(struct store *s, enum store_checkpoint_mode mode, int *log, int *done);

#endif
