/*
 * sqlite_util.c - small helpers every SQLite file of storage/ shares:
 * preparing, binding, stepping, reading columns, and mapping SQLite's
 * result codes to the project's. See sqlite_util.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/sqlite_util.h"
#include "storage/store_sqlite.h"

/*
 * Maps the SQLite result SRC of operation OP to a TC_E* code. Constraint
 * failures are expected outcomes and not logged: a unique or primary key
 * taken is TC_ECONFLICT; a foreign key, or the trigger that checks a
 * membership's institution, is a referenced row that does not exist,
 * TC_ENOTFOUND. Anything else is logged and TC_EDB.
 */
int
sqlu_fail(struct store *s, int src, const char *op)
{
	switch (src) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return TC_ECONFLICT;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
	case SQLITE_CONSTRAINT_TRIGGER:
		return TC_ENOTFOUND;
	}
	log_err("%s: %s (%d)", op, sqlite3_errmsg(store_sqlite_db(s)), src);
	/* another connection holds the write lock longer than we wait */
	return (src & 0xff) == SQLITE_BUSY ? TC_EBUSY : TC_EDB;
}

/* A statement for this call only (finalized by the caller). */
int
sqlu_prepare(struct store *s, const char *sql, const char *op,
	  sqlite3_stmt **out)
{
	*out = NULL;
	if (sqlite3_prepare_v2(store_sqlite_db(s), sql, -1, out, NULL) !=
	    SQLITE_OK) {
		log_err("%s: cannot prepare: %s", op,
			sqlite3_errmsg(store_sqlite_db(s)));
		sqlite3_finalize(*out);
		*out = NULL;
		return TC_EDB;
	}
	return 0;
}

/* Readies a long-lived statement for the next call. Accepts NULL. */
void
sqlu_done(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

int
sqlu_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

int
sqlu_bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

/* A bind failed (a bug or an over-long value): logged, TC_EDB. */
int
sqlu_bind_fail(struct store *s, const char *op)
{
	log_err("%s: cannot bind: %s", op, sqlite3_errmsg(store_sqlite_db(s)));
	return TC_EDB;
}

/* Steps a statement that returns no row: 0 or sqlu_fail(). */
int
sqlu_step_done(struct store *s, sqlite3_stmt *st, const char *op)
{
	int src = sqlite3_step(st);

	return src == SQLITE_DONE ? 0 : sqlu_fail(s, src, op);
}

/* Steps to the first row: 0 at a row, TC_ENOTFOUND when none, sqlu_fail(). */
int
sqlu_step_row(struct store *s, sqlite3_stmt *st, const char *op)
{
	int src = sqlite3_step(st);

	if (src == SQLITE_ROW)
		return 0;
	if (src == SQLITE_DONE)
		return TC_ENOTFOUND;
	return sqlu_fail(s, src, op);
}

/* Rows the last statement changed: NOTFOUND when none. */
int
sqlu_changed_one(struct store *s)
{
	return sqlite3_changes(store_sqlite_db(s)) > 0 ? 0 : TC_ENOTFOUND;
}

/*
 * Copies text column COL into OUT (SIZE bytes, NUL-terminated). NULL reads
 * as "". A value that does not fit is not something this program writes:
 * logged, TC_EDB.
 */
int
sqlu_col_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (t == NULL) {
		if (sqlite3_column_type(st, col) != SQLITE_NULL) {
			log_err("reading column %s: out of memory",
				sqlite3_column_name(st, col));
			return TC_EDB;
		}
		out[0] = '\0';
		return 0;
	}
	if (n < 0 || (size_t)n >= size) {
		log_err("stored %s is too long (%d bytes, room for %zu)",
			sqlite3_column_name(st, col), n, size - 1);
		return TC_EDB;
	}
	memcpy(out, t, (size_t)n);
	out[n] = '\0';
	return 0;
}

int64_t
sqlu_col_int(sqlite3_stmt *st, int col)
{
	return (int64_t)sqlite3_column_int64(st, col);
}


int
sqlu_col_dup(sqlite3_stmt *st, int col, char **out)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	*out = NULL;
	if (!v)
		return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : TC_ENOMEM;
	*out = strdup((const char *)v);
	return *out ? 0 : TC_ENOMEM;
}

int
sqlu_bindv(struct store *s, const char *op, sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int i = 1, rc = 0;

	for (const char *f = fmt; *f && rc == 0; f++, i++) {
		if (*f == 'i') {
			rc = sqlu_bind_int(st, i, va_arg(ap, int64_t));
		} else if (*f == 't') {
			const char *v = va_arg(ap, const char *);

			rc = v ? sqlu_bind_text(st, i, v) : sqlite3_bind_null(st, i);
		} else {
			rc = SQLITE_MISUSE;
		}
	}
	return rc == SQLITE_OK ? 0 : sqlu_bind_fail(s, op);
}

int
sqlu_preparef(struct store *s, const char *op, sqlite3_stmt **out, const char *sql,
	      const char *fmt, ...)
{
	va_list ap;
	int rc = sqlu_prepare(s, sql, op, out);

	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = sqlu_bindv(s, op, *out, fmt, ap);
	va_end(ap);
	if (rc) {
		sqlite3_finalize(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- the statement cache ---- */

#define CACHE_SLOTS 256	/* direct-mapped by a hash of the SQL text */

struct sqlu_cache {
	struct {
		sqlite3_stmt *st;
		int busy;	/* handed out, not yet released */
	} slot[CACHE_SLOTS];
};

static unsigned
sql_hash(const char *sql)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % CACHE_SLOTS;
}

void
sqlu_cache_free(struct sqlu_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++)
		sqlite3_finalize(c->slot[i].st);
	free(c);
}

/* The cached statement of SQL, marked busy; else a fresh one (*OUT), which
 * sqlu_release finalizes. */
static int
cache_get(struct store *s, const char *sql, const char *op, sqlite3_stmt **out)
{
	struct sqlu_cache **cp = store_sqlite_cache(s), *c = *cp;
	unsigned h;
	int rc;

	*out = NULL;
	if (!c && !(c = *cp = calloc(1, sizeof(*c))))
		return sqlu_prepare(s, sql, op, out);	/* no cache: one-off */
	h = sql_hash(sql);
	if (c->slot[h].st && !c->slot[h].busy && strcmp(sqlite3_sql(c->slot[h].st), sql) == 0) {
		sqlite3_reset(c->slot[h].st);
		sqlite3_clear_bindings(c->slot[h].st);
		c->slot[h].busy = 1;
		*out = c->slot[h].st;
		return 0;
	}
	if ((rc = sqlu_prepare(s, sql, op, out)))
		return rc;
	if (!c->slot[h].busy) {	/* take the slot (another SQL text may leave it) */
		sqlite3_finalize(c->slot[h].st);
		c->slot[h].st = *out;
		c->slot[h].busy = 1;
	}
	return 0;
}

void
sqlu_release(struct store *s, sqlite3_stmt *st)
{
	struct sqlu_cache *c;
	unsigned h;

	if (!st)
		return;
	c = *store_sqlite_cache(s);
	h = sql_hash(sqlite3_sql(st));
	if (c && c->slot[h].st == st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		c->slot[h].busy = 0;
	} else {
		sqlite3_finalize(st);
	}
}

int
sqlu_cachedf(struct store *s, const char *op, sqlite3_stmt **out, const char *sql,
	     const char *fmt, ...)
{
	va_list ap;
	int rc = cache_get(s, sql, op, out);

	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = sqlu_bindv(s, op, *out, fmt, ap);
	va_end(ap);
	if (rc) {
		sqlu_release(s, *out);
		*out = NULL;
	}
	return rc;
}

int
sqlu_execf(struct store *s, const char *op, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc = cache_get(s, sql, op, &st);

	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = sqlu_bindv(s, op, st, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlu_release(s, st);
	return rc;
}

int
sqlu_savepoint(struct store *s, const char *op, const char *name,
	       int (*steps)(struct store *s, void *arg), void *arg)
{
	sqlite3 *db = store_sqlite_db(s);
	int outermost = sqlite3_get_autocommit(db);
	char sql[96];
	int rc, rel = 0;

	snprintf(sql, sizeof(sql), "SAVEPOINT %s", name);
	if ((rc = sqlu_execf(s, op, sql, "")))
		return rc;
	rc = steps(s, arg);
	/* after some errors SQLite has rolled the whole transaction back
	 * already: no savepoint is left to undo or release */
	if (rc && !sqlite3_get_autocommit(db)) {
		snprintf(sql, sizeof(sql), "ROLLBACK TO %s", name);
		sqlu_execf(s, op, sql, "");
	}
	if (!sqlite3_get_autocommit(db)) {
		snprintf(sql, sizeof(sql), "RELEASE %s", name);
		rel = sqlu_execf(s, op, sql, "");
	} else if (!outermost) {
		rel = TC_EDB;	/* the caller's transaction is gone with it */
	}
	if (rel && outermost && !sqlite3_get_autocommit(db))
		sqlu_execf(s, op, "ROLLBACK", "");
	return rc ? rc : rel;
}
