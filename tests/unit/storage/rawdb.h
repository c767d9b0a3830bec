/*
 * rawdb.h - storage unit tests' reads and writes on a connection of their
 * own to the database file, past the store: to see what the store wrote
 * (a count, a column), or to change a row behind its back. Header-only;
 * include after <sqlite3.h>.
 */
#ifndef TINCHI_TEST_RAWDB_H
#define TINCHI_TEST_RAWDB_H

#include <stdio.h>

#include <sqlite3.h>

/* The first column of the first row of SQL in the database at PATH, or -1
 * (no row, an error). */
static inline long long
raw_query_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

/* Runs SQL (any number of statements) on the database at PATH, waiting up
 * to 5 s for a lock; SQLite's result code, its message printed as a TAP
 * comment. */
static inline int
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	}
	if (err != NULL)
		printf("# raw SQL: %s\n", err);
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

#endif
