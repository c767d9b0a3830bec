/*
 * checkpointer_test.c - tests for server/checkpointer.h and the store's
 * external WAL mode (storage/store.h, store_set_wal_external) on a real
 * data folder: commits no longer checkpoint (the log grows past SQLite's
 * 1000 pages) and stay synchronous=FULL; under writes and readers that
 * never all pause at once, the log stays bounded with the checkpointer and
 * does not without it.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "server/checkpointer.h"
#include "storage/store.h"
#include "storage/store_sqlite.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

static char tmp[512], data[560], wal[600];

/* Pages in the log file now (it only shrinks when truncated). */
static long
wal_pages(void)
{
	struct stat sb;

	return stat(wal, &sb) == 0 ? (long)(sb.st_size / 4096) : 0;
}

static int
exec(struct store *s, const char *sql)
{
	return sqlite3_exec(store_sqlite_db(s), sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* One commit of about 16 pages. */
static int
write_some(struct store *s)
{
	return exec(s, "BEGIN; INSERT INTO scratch SELECT zeroblob(3900) FROM"
		    " (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
		    " WHERE i < 16) SELECT i FROM n); DELETE FROM scratch WHERE rowid IN"
		    " (SELECT rowid FROM scratch ORDER BY rowid LIMIT 8); COMMIT");
}

/* Two readers taking turns, so that one read transaction is always open. */
struct readers {
	struct store *r[2];
	volatile int stop;
};

static void *
read_turns(void *arg)
{
	struct readers *rd = arg;
	int k = 0;

	exec(rd->r[0], "BEGIN; SELECT count(*) FROM scratch");
	while (!rd->stop) {
		/* the other one starts before this one ends */
		sqlite3_stmt *st = NULL;

		sqlite3_exec(store_sqlite_db(rd->r[1 - k]), "BEGIN", NULL, NULL, NULL);
		if (sqlite3_prepare_v2(store_sqlite_db(rd->r[1 - k]),
				       "SELECT count(*) FROM scratch", -1, &st, NULL) == SQLITE_OK)
			sqlite3_step(st);
		sqlite3_finalize(st);
		exec(rd->r[k], "COMMIT");
		k = 1 - k;
		usleep(3000);
	}
	exec(rd->r[k], "COMMIT");
	return NULL;
}

/* N commits on W while two readers take turns; the largest log seen. */
static long
steady(struct store *w, int n)
{
	struct readers rd = { { NULL, NULL }, 0 };
	pthread_t th;
	long most = 0;

	if (store_open(data, &rd.r[0]) || store_open(data, &rd.r[1]))
		return -1;
	pthread_create(&th, NULL, read_turns, &rd);
	for (int i = 0; i < n; i++) {
		long p;

		if (write_some(w) != 0)
			diag("a write failed");
		usleep(1000);	/* requests, not one loop: the lock is free at times */
		if ((p = wal_pages()) > most)
			most = p;
	}
	rd.stop = 1;
	pthread_join(th, NULL);
	store_close(rd.r[0]);
	store_close(rd.r[1]);
	return most;
}

static void
test_external(void)
{
	struct store *w = NULL;
	sqlite3_stmt *st = NULL;
	int sync = -1;

	store_set_wal_external(1);
	ok(store_open(data, &w) == 0, "a connection opens in external mode");
	ok(exec(w, "CREATE TABLE scratch(b BLOB)") == 0, "a scratch table");
	for (int i = 0; i < 100; i++)
		write_some(w);
	ok(store_wal_frames() > 1000, "its commits leave more than 1000 pages in the log:"
	   " none checkpointed");
	ok(wal_pages() > 1000, "the log file holds them");
	if (sqlite3_prepare_v2(store_sqlite_db(w), "PRAGMA synchronous", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		sync = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	is_int(sync, 2, "commits stay synchronous=FULL");
	ok(store_checkpoint(w, STORE_CKPT_TRUNCATE, NULL, NULL) == 0 && wal_pages() == 0,
	   "a TRUNCATE checkpoint empties the log");
	is_int(store_wal_frames(), 0, "and the frames seen start again");
	store_close(w);
}

static void
test_bounded(void)
{
	struct store *w = NULL;
	struct checkpointer *c = NULL;
	struct checkpointer_stats s;
	long without, with;

	store_set_wal_external(1);
	if (store_open(data, &w) != 0) {
		ok(0, "the writer opens");
		return;
	}
	/* without a checkpointer: the log grows with every commit */
	without = steady(w, 300);
	ok(without > 6000, "without the checkpointer, steady writes and readers grow the"
	   " log past 6000 pages");
	ok(store_checkpoint(w, STORE_CKPT_TRUNCATE, NULL, NULL) == 0, "emptied again");

	is_int(checkpointer_start(data, 0, 10, &c), TC_EINVALID, "0 pages is refused");
	ok(checkpointer_start(data, 64, 20, &c) == 0, "the checkpointer starts (64 pages, 20 ms)");
	with = steady(w, 300);
	/* Relative to the run without it (about 8,900 pages, 30 a commit):
	 * how far the log grows between two forced checkpoints depends on when
	 * the thread is scheduled; under the sanitizers with both cores busy it
	 * reached 2,785 pages, against 700-1,300 otherwise. A checkpointer that
	 * never resets the log gives about what the run without it gives. */
	ok(with > 0 && with < without / 2, "with it, the same writes and readers keep the log"
	   " under half of what it grew to without");
	checkpointer_stats(c, &s);
	ok(s.passive > 0, "it ran passive checkpoints");
	ok(s.truncate > 0, "and forced ones, which readers that never pause made necessary");
	{
		char line[160];

		snprintf(line, sizeof(line), "log at most %ld pages without, %ld with; %lld passive,"
			 " %lld truncate, %lld busy", without, with, (long long)s.passive,
			 (long long)s.truncate, (long long)s.busy);
		diag(line);
	}
	/* an idle log is copied within the interval, without reaching PAGES */
	write_some(w);
	usleep(300 * 1000);
	{
		int log = -1, done = -1;

		ok(store_checkpoint(w, STORE_CKPT_PASSIVE, &log, &done) == 0 && log == done,
		   "a few pages are copied back within the interval");
	}
	checkpointer_stop(c);
	ok(wal_pages() == 0, "stopping truncates the log");
	store_close(w);
	store_set_wal_external(0);
}

int
main(void)
{
	if (test_tmpdir_make(tmp, sizeof(tmp), "ckpt") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(wal, sizeof(wal), "%s/tinchi.db-wal", data);
	if (store_prepare_dir(data) != 0) {
		printf("Bail out! cannot prepare %s\n", data);
		return 1;
	}
	test_external();
	test_bounded();
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
