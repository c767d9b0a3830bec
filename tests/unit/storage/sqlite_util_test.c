/*
 * sqlite_util_test.c - tests for the statement cache of
 * storage/sqlite_util.h (sqlu_cachedf, sqlu_release, sqlu_execf through
 * the cache) on a real store in a mkdtemp folder: reuse, fresh bindings
 * each time, the same SQL in use twice at once, a statement released
 * mid-read ending its read, failures, and many SQL texts sharing slots.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "storage/sqlite_util.h"
#include "storage/store.h"
#include "storage/store_sqlite.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

static char tmp[512];
static struct store *st;

#define SEL "SELECT v FROM t WHERE k = ?1"

static int64_t
lookup(const char *k)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;

	if (sqlu_cachedf(st, "test lookup", &q, SEL, "t", k) == 0 &&
	    sqlu_step_row(st, q, "test lookup") == 0)
		v = sqlu_col_int(q, 0);
	sqlu_release(st, q);
	return v;
}

static void
test_reuse(void)
{
	sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;

	is_int(sqlu_execf(st, "test", "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)", ""), 0,
	       "table made through execf");
	for (int i = 0; i < 50; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		if (sqlu_execf(st, "test", "INSERT INTO t (k, v) VALUES (?1, ?2)", "ti", k,
			       (int64_t)i * 10)) {
			ok(0, "insert through the cached execf");
			return;
		}
	}
	ok(1, "50 rows inserted through one cached statement");
	is_int(sqlu_execf(st, "test", "INSERT INTO t (k, v) VALUES (?1, ?2)", "ti", "k3",
			  (int64_t)1), TC_ECONFLICT, "a taken key is still a conflict");
	is_int((int)lookup("k7"), 70, "cached select");
	is_int((int)lookup("k8"), 80, "the same statement, new binding");
	is_int((int)lookup("nope"), -1, "no row");

	is_int(sqlu_cachedf(st, "t", &a, SEL, "t", "k1"), 0, "handed out");
	is_int(sqlu_cachedf(st, "t", &b, SEL, "t", "k2"), 0, "the same SQL again while in use");
	ok(a && b && a != b, "a second statement, not the busy one");
	is_int(sqlu_step_row(st, a, "t"), 0, "first steps");
	is_int(sqlu_step_row(st, b, "t"), 0, "second steps");
	is_int((int)sqlu_col_int(a, 0), 10, "first reads its own row");
	is_int((int)sqlu_col_int(b, 0), 20, "second reads its own row");
	sqlu_release(st, b);	/* not the cached one: finalized */
	sqlu_release(st, a);
	is_int(sqlu_cachedf(st, "t", &c, SEL, "", NULL), 0, "handed out again, nothing bound");
	ok(c == a, "the cached statement comes back");
	is_int(sqlu_step_row(st, c, "t"), TC_ENOTFOUND, "old bindings cleared (k IS NULL)");
	sqlu_release(st, c);
	sqlu_release(st, NULL);
}

static void
test_release_ends_read(void)
{
	sqlite3_stmt *q = NULL;
	sqlite3 *other = NULL;
	char path[600];
	int rc;

	is_int(sqlu_cachedf(st, "t", &q, "SELECT k FROM t ORDER BY k", ""), 0, "scan");
	is_int(sqlu_step_row(st, q, "t"), 0, "one row of many read");
	sqlu_release(st, q);
	ok(!sqlite3_stmt_busy(q), "released mid-scan: reset");
	/* a checkpoint of another connection is not held back by our read */
	snprintf(path, sizeof(path), "%s/data/tinchi.db", tmp);
	rc = sqlite3_open(path, &other);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(other, "INSERT INTO t (k, v) VALUES ('other', 1)", NULL, NULL, NULL);
	is_int(rc, SQLITE_OK, "another connection writes");
	{
		int log = -1, done = -1;

		rc = sqlite3_wal_checkpoint_v2(other, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
		is_int(rc, SQLITE_OK, "and checkpoints the whole WAL (no reader left open)");
	}
	sqlite3_close(other);
	is_int((int)lookup("other"), 1, "the cached statement sees the new row");
}

static void
test_failures(void)
{
	sqlite3_stmt *q = NULL;

	is_int(sqlu_cachedf(st, "t", &q, "SELECT nothing FROM nowhere", ""), TC_EDB,
	       "bad SQL: TC_EDB");
	ok(q == NULL, "no statement");
	is_int(sqlu_cachedf(st, "t", &q, SEL, "x", 1), TC_EDB, "bad format letter: TC_EDB");
	ok(q == NULL, "no statement");
	is_int((int)lookup("k9"), 90, "the cached statement still works after a bind failure");
	/* many texts: slots are shared and taken over, every answer right */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 600; i++) {
			char sql[96];
			sqlite3_stmt *x = NULL;
			int good;

			snprintf(sql, sizeof(sql), "SELECT v + %d FROM t WHERE k = ?1", i);
			good = sqlu_cachedf(st, "t", &x, sql, "t", "k2") == 0 &&
			       sqlu_step_row(st, x, "t") == 0 && sqlu_col_int(x, 0) == 20 + i;
			sqlu_release(st, x);
			if (!good) {
				ok(0, "600 statements");
				return;
			}
		}
	ok(1, "600 SQL texts twice, more than the slots, each answered right");
}

/* ---- sqlu_savepoint ---- */

struct sp_arg {
	const char *key;
	int fail;	/* the steps' error after their insert */
};

static int
sp_steps(struct store *s, void *arg)
{
	struct sp_arg *a = arg;
	int rc = sqlu_execf(s, "test", "INSERT INTO t (k, v) VALUES (?1, 1)", "t", a->key);

	return rc ? rc : a->fail;
}

static int refuse_next_commit;

static int
commit_hook(void *arg)
{
	(void)arg;
	if (refuse_next_commit) {
		refuse_next_commit = 0;
		return 1;	/* the commit becomes a rollback */
	}
	return 0;
}

static void
test_savepoint(void)
{
	sqlite3 *db = store_sqlite_db(st);
	struct sp_arg a = { "sp1", 0 };

	is_int(sqlu_savepoint(st, "test", "sp_test", sp_steps, &a), 0, "savepoint: steps commit");
	is_int((int)lookup("sp1"), 1, "their row is there");
	ok(sqlite3_get_autocommit(db), "no transaction left open");
	a.key = "sp2";
	a.fail = TC_EINVALID;
	is_int(sqlu_savepoint(st, "test", "sp_test", sp_steps, &a), TC_EINVALID,
	       "steps that fail: their error");
	is_int((int)lookup("sp2"), -1, "nothing of them stays");
	ok(sqlite3_get_autocommit(db), "no transaction left open");
	a.key = "sp1";
	a.fail = 0;
	is_int(sqlu_savepoint(st, "test", "sp_test", sp_steps, &a), TC_ECONFLICT,
	       "a step's own error (a taken key): TC_ECONFLICT");

	/* inside a caller's transaction: only the failed steps are undone */
	is_int(store_begin(st), 0, "a caller's transaction");
	a.key = "sp3";
	is_int(sqlu_savepoint(st, "test", "sp_test", sp_steps, &a), 0, "steps in it");
	ok(!sqlite3_get_autocommit(db), "the RELEASE did not commit the caller's transaction");
	a.key = "sp4";
	a.fail = TC_EINVALID;
	is_int(sqlu_savepoint(st, "test", "sp_test", sp_steps, &a), TC_EINVALID, "failing steps");
	ok(!sqlite3_get_autocommit(db), "the caller's transaction is still open");
	is_int(store_commit(st), 0, "the caller commits");
	is_int((int)lookup("sp3"), 1, "the good steps are kept");
	is_int((int)lookup("sp4"), -1, "the failed ones are not");

	/* the commit itself fails: an error, nothing kept, nothing left open */
	sqlite3_commit_hook(db, commit_hook, NULL);
	refuse_next_commit = 1;
	a.key = "sp5";
	a.fail = 0;
	ok(sqlu_savepoint(st, "test", "sp_test", sp_steps, &a) != 0,
	   "a commit that fails is an error, not a success");
	ok(sqlite3_get_autocommit(db), "no transaction left open after it");
	is_int((int)lookup("sp5"), -1, "its row is not there");
	is_int(sqlu_savepoint(st, "test", "sp_test", sp_steps, &a), 0, "the same steps then commit");
	is_int((int)lookup("sp5"), 1, "and their row is there");
	sqlite3_commit_hook(db, NULL, NULL);
}

int
main(void)
{
	char data[560];

	if (test_tmpdir_make(tmp, sizeof(tmp), "sqlu") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_reuse();
	test_release_ends_read();
	test_failures();
	test_savepoint();
	store_close(st);	/* finalizes the cache: sqlite3_close succeeds, no leak */
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
