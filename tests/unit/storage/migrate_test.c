/*
 * migrate_test.c - tests for storage/sqlite_migrate.c and the real schema
 * list in storage/sqlite_schema.c, on :memory: and on files in a mkdtemp
 * folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/sqlite_migrate.h"
#include "tests/tap.h"

static const struct migration good[] = {
	{ 1, "one", "CREATE TABLE a (x INTEGER);" },
	{ 2, "two", "CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (7);" },
};

static const struct migration bad_second[] = {
	{ 1, "one", "CREATE TABLE a (x INTEGER);" },
	{ 2, "broken-two", "CREATE TABLE t2 (x); THIS IS NOT SQL;" },
	{ 3, "three", "CREATE TABLE t3 (x);" },
};

static const struct migration repeated[] = {
	{ 1, "one", "CREATE TABLE a (x INTEGER);" },
	{ 1, "one-again", "CREATE TABLE b (x INTEGER);" },
};

static const struct migration decreasing[] = {
	{ 2, "two", "CREATE TABLE a (x INTEGER);" },
	{ 1, "one", "CREATE TABLE b (x INTEGER);" },
};

static const struct migration zero[] = {
	{ 0, "zero", "CREATE TABLE a (x INTEGER);" },
};

/* Log lines go here so the tests can check what was said. */
static FILE *log_fp;

static void
log_reset(void)
{
	rewind(log_fp);
	if (ftruncate(fileno(log_fp), 0) != 0)
		diag("ftruncate of the log file failed");
}

/* 1 when the log written since log_reset() contains NEEDLE. */
static int
log_has(const char *needle)
{
	char buf[8192];
	size_t n;

	fflush(log_fp);
	rewind(log_fp);
	n = fread(buf, 1, sizeof(buf) - 1, log_fp);
	buf[n] = '\0';
	fseek(log_fp, 0, SEEK_END);
	return strstr(buf, needle) != NULL;
}

static int
user_version(sqlite3 *db)
{
	int v = -1;

	if (sqlite_user_version(db, &v) != 0)
		return -1;
	return v;
}

static int
table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *stmt = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master "
			       "WHERE type = 'table' AND name = ?", -1, &stmt,
			       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(stmt) == SQLITE_ROW;
out:
	sqlite3_finalize(stmt);
	return found;
}

/* Integer result of a one-row query, or -1. */
static long long
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static int
latest_version(void)
{
	return sqlite_migrations[sqlite_migrations_count - 1].version;
}

static void
test_real_schema_memory(void)
{
	sqlite3 *db = NULL;

	ok(sqlite_migrations_count >= 1, "the schema has migrations");
	ok(sqlite3_open(":memory:", &db) == SQLITE_OK, "open :memory:");
	is_int(sqlite_migrate(db, sqlite_migrations, sqlite_migrations_count),
	       0, "fresh db: all migrations apply");
	is_int(user_version(db), latest_version(),
	       "fresh db: user_version is the newest migration");
	is_int(query_int(db, "SELECT count(*) FROM meta"), 3,
	       "meta holds created_at, instance_id and credential_key");
	is_int(query_int(db, "SELECT length(value) FROM meta "
			 "WHERE key = 'credential_key'"), 64,
	       "credential_key is 64 hex digits (migration 21)");
	is_int(query_int(db, "SELECT length(value) FROM meta "
			 "WHERE key = 'instance_id'"), 32,
	       "instance_id is 32 hex digits");
	is_int(query_int(db, "SELECT value GLOB "
			 "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"
			 "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z' "
			 "FROM meta WHERE key = 'created_at'"), 1,
	       "created_at is ISO-8601 UTC");
	is_int(sqlite_migrate(db, sqlite_migrations, sqlite_migrations_count),
	       0, "re-running the real list is a no-op");
	is_int(user_version(db), latest_version(), "user_version unchanged");
	is_int(query_int(db, "SELECT count(*) FROM meta"), 3,
	       "meta not inserted twice");
	sqlite3_close(db);
}

static void
test_failing_migration(void)
{
	sqlite3 *db = NULL;

	sqlite3_open(":memory:", &db);
	log_reset();
	is_int(sqlite_migrate(db, bad_second, 3), TC_EDB,
	       "bad 2nd migration: TC_EDB");
	is_int(user_version(db), 1, "bad 2nd migration: user_version stays 1");
	ok(table_exists(db, "a"), "migration 1 stays committed");
	ok(!table_exists(db, "t2"),
	   "no trace of the failed migration's earlier statement");
	ok(!table_exists(db, "t3"), "later migrations did not run");
	ok(sqlite3_get_autocommit(db), "no transaction left open");
	ok(log_has("broken-two"), "failure log names the migration");
	ok(log_has("syntax error"), "failure log carries sqlite's message");
	is_int(sqlite_migrate(db, good, 2), 0,
	       "a fixed list continues from version 1");
	is_int(user_version(db), 2, "fixed list reaches version 2");
	is_int(query_int(db, "SELECT y FROM b"), 7,
	       "migration 2 ran its statements");
	sqlite3_close(db);
}

static void
test_invalid_lists(void)
{
	sqlite3 *db = NULL;

	sqlite3_open(":memory:", &db);
	is_int(sqlite_migrate(db, repeated, 2), TC_EINVALID,
	       "repeated version: TC_EINVALID");
	is_int(sqlite_migrate(db, decreasing, 2), TC_EINVALID,
	       "decreasing versions: TC_EINVALID");
	is_int(sqlite_migrate(db, zero, 1), TC_EINVALID,
	       "version 0: TC_EINVALID");
	is_int(sqlite_migrate(db, NULL, 1), TC_EINVALID,
	       "NULL list: TC_EINVALID");
	is_int(user_version(db), 0, "invalid lists: user_version still 0");
	ok(!table_exists(db, "a") && !table_exists(db, "b"),
	   "invalid lists: nothing applied");
	is_int(sqlite_migrate(db, good, 0), 0, "empty list on fresh db: ok");
	sqlite3_close(db);
}

static void
test_files(const char *tmp)
{
	char path[4096];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/m.db", tmp);

	/* Step by step: version 1 first, then the rest on reopen. */
	ok(sqlite3_open(path, &db) == SQLITE_OK, "open a file db");
	is_int(sqlite_migrate(db, good, 1), 0, "file db: apply version 1");
	is_int(user_version(db), 1, "file db at version 1");
	sqlite3_close(db);
	db = NULL;
	sqlite3_open(path, &db);
	is_int(user_version(db), 1, "version 1 persisted across reopen");
	is_int(sqlite_migrate(db, good, 2), 0, "file db: apply the rest");
	is_int(user_version(db), 2, "file db at version 2");
	is_int(query_int(db, "SELECT count(*) FROM b"), 1,
	       "only the pending migration ran");
	is_int(sqlite_migrate(db, good, 2), 0, "file db: re-run is a no-op");
	is_int(query_int(db, "SELECT count(*) FROM b"), 1,
	       "re-run did not apply migration 2 again");
	sqlite3_close(db);
	db = NULL;

	/* A database from a newer tinchi is refused and left alone. */
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	log_reset();
	is_int(sqlite_migrate(db, bad_second, 3), TC_ETOONEW,
	       "user_version 99: TC_ETOONEW");
	is_int(user_version(db), 99, "user_version 99 unchanged");
	ok(!table_exists(db, "t3"), "too new: no migration ran");
	ok(log_has("database schema version 99 is newer than this tinchi "
		   "(knows up to 3); upgrade tinchi"),
	   "too new: the log says what to do");
	sqlite3_close(db);
	db = NULL;
	sqlite3_open(path, &db);
	is_int(user_version(db), 99, "user_version 99 persisted");
	sqlite3_close(db);
	unlink(path);

	/* The real list on a file. */
	sqlite3_open(path, &db);
	is_int(sqlite_migrate(db, sqlite_migrations, sqlite_migrations_count),
	       0, "real list on a file db");
	sqlite3_close(db);
	db = NULL;
	sqlite3_open(path, &db);
	is_int(user_version(db), latest_version(),
	       "file db at the newest version after reopen");
	sqlite3_close(db);
	unlink(path);
}

int
main(void)
{
	char tmpl[4096];
	const char *base = getenv("TMPDIR");
	char *tmp = NULL;

	log_fp = tmpfile();
	if (log_fp == NULL) {
		printf("Bail out! tmpfile failed\n");
		return 1;
	}
	log_set_stream(log_fp);
	snprintf(tmpl, sizeof(tmpl), "%s/tinchi-migrate-XXXXXX",
		 base && base[0] ? base : "/tmp");
	tmp = mkdtemp(tmpl);
	if (tmp == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}

	test_real_schema_memory();
	test_failing_migration();
	test_invalid_lists();
	test_files(tmp);

	if (rmdir(tmp) != 0)
		diag("could not remove the temporary folder");
	log_set_stream(NULL);
	fclose(log_fp);
	return done_testing();
}
