/*
 * sqlite_util.h - helpers shared by the SQLite files of storage/ (private
 * to storage/; includes sqlite3.h).
 *
 * Conventions: OP names the operation for log lines; functions return 0 or
 * a TC_E* code. A unique or primary key taken is TC_ECONFLICT, a foreign key
 * (or a trigger standing in for one) TC_ENOTFOUND, a lock held too long by
 * another connection TC_EBUSY, anything else is logged and TC_EDB.
 */
#ifndef TINCHI_SQLITE_UTIL_H
#define TINCHI_SQLITE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct store;

int sqlu_fail(struct store *s, int src, const char *op);
/* A statement for one call (the caller finalizes it). */
int sqlu_prepare(struct store *s, const char *sql, const char *op, sqlite3_stmt **out);
/* Readies a long-lived statement for its next use. Accepts NULL. */
void sqlu_done(sqlite3_stmt *st);
int sqlu_bind_text(sqlite3_stmt *st, int i, const char *v);	/* SQLITE_STATIC */
int sqlu_bind_int(sqlite3_stmt *st, int i, int64_t v);
int sqlu_bind_fail(struct store *s, const char *op);		/* logs, TC_EDB */
int sqlu_step_done(struct store *s, sqlite3_stmt *st, const char *op);
/* 0 at a row, TC_ENOTFOUND when there is none. */
int sqlu_step_row(struct store *s, sqlite3_stmt *st, const char *op);
/* 0 when the last statement changed a row, else TC_ENOTFOUND. */
int sqlu_changed_one(struct store *s);
/* Text column into OUT (NULL reads ""); too long: logged, TC_EDB. */
int sqlu_col_text(sqlite3_stmt *st, int col, char *out, size_t size);
int64_t sqlu_col_int(sqlite3_stmt *st, int col);
/* Column COL as a new string (free()), NULL for SQL NULL; TC_ENOMEM. */
int sqlu_col_dup(sqlite3_stmt *st, int col, char **out);

/*
 * A statement for one call with its parameters bound: FMT has one letter a
 * parameter, ?1 first: 'i' an int64_t, 't' a const char * (NULL binds
 * NULL; the text must outlive the statement). The caller finalizes *OUT.
 */
int sqlu_preparef(struct store *s, const char *op, sqlite3_stmt **out, const char *sql,
		  const char *fmt, ...);
/* Binds FMT's parameters (as sqlu_preparef's) to ST: 0, or TC_EDB logged. */
int sqlu_bindv(struct store *s, const char *op, sqlite3_stmt *st, const char *fmt, va_list ap);
/* The same, stepped to its end (the statement is kept in the cache below). */
int sqlu_execf(struct store *s, const char *op, const char *sql, const char *fmt, ...);

/*
 * The statement cache of a connection: statements keyed by their SQL text,
 * prepared once and reused, so that a hot query is not compiled on every
 * call. sqlu_cachedf is sqlu_preparef from the cache: *OUT is reset, its
 * old bindings cleared, FMT's bound; hand it back with sqlu_release (never
 * sqlite3_finalize), which resets it (ending its read) and clears its
 * bindings, or finalizes it when it was not the cached one (the same SQL
 * already in use further up the stack, or a slot taken). Accepts NULL.
 */
int sqlu_cachedf(struct store *s, const char *op, sqlite3_stmt **out, const char *sql,
		 const char *fmt, ...);
void sqlu_release(struct store *s, sqlite3_stmt *st);

/*
 * Runs STEPS(S, ARG) inside SAVEPOINT NAME (an SQL identifier), so that
 * it is all or nothing both on its own and inside a caller's transaction:
 * when STEPS fails, everything since the savepoint is undone; the RELEASE
 * commits when the savepoint began the transaction, and when that commit
 * fails nothing of it stays pending (the transaction is rolled back, not
 * left open). Returns STEPS' error, else the RELEASE's.
 */
int sqlu_savepoint(struct store *s, const char *op, const char *name,
		   int (*steps)(struct store *s, void *arg), void *arg);

struct sqlu_cache;
/* Finalizes every cached statement and frees C (store close). Accepts NULL. */
void sqlu_cache_free(struct sqlu_cache *c);

#endif
