/*
 * outbox_test.c - retention of the outbox: store_outbox_prune
 * (storage/completion.h: what goes, what stays, batches, the cursor) and
 * the server's loop over it, outbox_prune_all (server/outbox_pruner.h), on
 * a store in a mkdtemp folder. The database file is also opened directly
 * with sqlite3 to read what is left.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/outbox_pruner.h"
#include "storage/completion.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "storage/store_backend.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"

#define NOW 1700000000
#define PASSED "{\"type\":\"course.completed\",\"passed\":true}"
#define FAILED "{\"type\":\"course.completed\",\"passed\":false}"

static char tmp[512];
static char data[560];
static char dbpath[600];
static struct store *st;

static long long
query_int(const char *sql)
{
	return raw_query_int(dbpath, sql);
}

static int
has(int64_t id)
{
	char sql[80];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE id = %lld", (long long)id);
	return (int)query_int(sql);
}

/* An event of KIND added at NOW - 1000, consumed at CONSUMED (0: not). */
static int64_t
event(const char *kind, const char *payload, int64_t consumed)
{
	int64_t id = 0;

	if (store_outbox_add(st, kind, 0, 0, payload, NOW - 1000, &id) != 0)
		return -1;
	if (consumed && store_outbox_consume(st, id, consumed) != 0)
		return -1;
	return id;
}

static void
test_dispatch(void)
{
	static const struct store_ops bare_ops = { .name = "bare" };
	struct store bare = { &bare_ops };
	int64_t after = 0;
	int n = 7;

	is_int(store_outbox_prune(&bare, NOW, &after, 10, &n), TC_EUNSUPPORTED,
	       "backend without completion ops: TC_EUNSUPPORTED");
	is_int(store_outbox_prune(NULL, NOW, &after, 10, &n), TC_EINVALID, "NULL store: TC_EINVALID");
	is_int(store_outbox_prune(st, NOW, &after, 0, &n), TC_EINVALID, "limit 0: TC_EINVALID");
	is_int(store_outbox_prune(st, NOW, &after, OUTBOX_PRUNE_MAX + 1, &n), TC_EINVALID,
	       "limit above OUTBOX_PRUNE_MAX: TC_EINVALID");
	is_int(store_outbox_prune(st, NOW, NULL, 10, &n), TC_EINVALID, "no cursor: TC_EINVALID");
	is_int(store_outbox_prune(st, NOW, &after, 10, NULL), TC_EINVALID, "no count: TC_EINVALID");
	is_int(outbox_prune_all(st, NOW, 0, NULL, NULL, NULL), TC_EINVALID,
	       "outbox_prune_all with batch 0: TC_EINVALID");
}

static void
test_what_goes(void)
{
	int64_t before = NOW - 50, after = 0;
	int64_t old_other, old_issued, pending, declined, young, deferred, old_failed;
	int n = -1;

	old_other = event("x.test", "{}", NOW - 100);
	old_issued = event("course.completed", PASSED, NOW - 100);
	pending = event("course.completed", PASSED, 0);
	declined = event("course.completed", PASSED, 0);
	young = event("course.completed", PASSED, NOW - 5);
	deferred = event("xapi.statement", "{}", 0);
	old_failed = event("course.completed", FAILED, NOW - 100);
	ok(old_other > 0 && old_failed > 0 && deferred > 0, "seven events");
	is_int(store_credential_decline(st, declined, 0, "chưa nộp đồ án", NOW - 100), 0,
	       "one declined long ago");

	is_int(store_outbox_prune(st, before, &after, 100, &n), 0, "pruned");
	is_int(n, 3, "three went: the consumed ones older than the cut");
	is_int(after, old_failed, "the cursor is the last one deleted");
	is_int(has(old_other) + has(old_issued) + has(old_failed), 0,
	       "an old consumed event of any kind, issued or not passed, is gone");
	is_int(has(pending), 1, "an unconsumed event stays");
	is_int(has(deferred), 1, "an unconsumed deferred statement stays");
	is_int(has(young), 1, "an event consumed after the cut stays");
	is_int(has(declined), 1, "a declined completion stays");
	is_int(query_int("SELECT count(*) FROM outbox WHERE json_extract(payload,"
			 " '$.declined.reason') = 'chưa nộp đồ án'"), 1, "with its reason");

	is_int(store_outbox_prune(st, before, &after, 100, &n), 0, "again");
	is_int(n, 0, "nothing more");
	is_int(after, old_failed, "the cursor stays");
	after = 0;
	is_int(store_outbox_prune(st, NOW + 1, &after, 100, &n), 0, "a cut after every event");
	is_int(n, 1, "the young consumed event goes too");
	is_int(has(young), 0, "it is gone");
	is_int(has(pending) + has(deferred) + has(declined), 3,
	       "unconsumed and declined ones stay whatever the cut");
}

static void
test_batches(void)
{
	int64_t ids[10], after = 0, first_after;
	int n = 0, i, ok_all = 1;

	for (i = 0; i < 10; i++)
		ok_all &= (ids[i] = event("x.batch", "{}", NOW - 100)) > 0;
	ok(ok_all, "ten consumed events");
	is_int(store_outbox_prune(st, NOW, &after, 3, &n), 0, "a batch of 3");
	is_int(n, 3, "3 went");
	is_int(after, ids[2], "the first three, oldest first");
	is_int(has(ids[3]), 1, "the fourth is still there");
	first_after = after;
	is_int(store_outbox_prune(st, NOW, &after, 3, &n), 0, "the next batch");
	is_int(after, ids[5], "from the cursor on");
	ok(after > first_after, "the cursor moves on");
	is_int(store_outbox_prune(st, NOW, &after, 3, &n), 0, "the third");
	is_int(store_outbox_prune(st, NOW, &after, 3, &n), 0, "the last");
	is_int(n, 1, "one was left");
	is_int(query_int("SELECT count(*) FROM outbox WHERE kind = 'x.batch'"), 0, "all ten gone");

	/* inside the caller's transaction: part of it, rolled back with it */
	ids[0] = event("x.batch", "{}", NOW - 100);
	after = 0;
	is_int(store_begin(st), 0, "a transaction");
	is_int(store_outbox_prune(st, NOW, &after, 3, &n), 0, "pruned in it");
	is_int(n, 1, "one");
	is_int(store_rollback(st), 0, "rolled back");
	is_int(has(ids[0]), 1, "the event is back");
}

struct pauses {
	int calls, stop_at;
};

static int
count_pause(void *arg)
{
	struct pauses *p = arg;

	return ++p->calls == p->stop_at;
}

static void
test_prune_all(void)
{
	struct pauses p = { 0, 0 };
	int64_t deleted = -1;
	int ok_all = 1;

	/* 1 left from test_batches, 6 more */
	for (int i = 0; i < 6; i++)
		ok_all &= event("x.all", "{}", NOW - 100) > 0;
	ok(ok_all, "seven consumed events in all");
	is_int(outbox_prune_all(st, NOW, 2, count_pause, &p, &deleted), 0, "prune all, 2 at a time");
	is_int(deleted, 7, "all seven went");
	is_int(p.calls, 3, "a pause after each full batch (2, 2, 2), none after the last (1)");
	is_int(query_int("SELECT count(*) FROM outbox WHERE consumed_at IS NOT NULL AND"
				  " json_extract(payload, '$.declined') IS NULL"), 0,
	       "no consumed event is left but the declined one");
	is_int(query_int("SELECT count(*) FROM outbox"), 3, "the pending, deferred and declined ones stay");

	for (int i = 0; i < 6; i++)
		event("x.all", "{}", NOW - 100);
	p.calls = 0;
	p.stop_at = 1;
	is_int(outbox_prune_all(st, NOW, 2, count_pause, &p, &deleted), 0,
	       "a pause that says stop ends it early, not as an error");
	is_int(deleted, 2, "after one batch");
	is_int(outbox_prune_all(st, NOW, OUTBOX_PRUNE_BATCH, NULL, NULL, &deleted), 0,
	       "no pause: all at once");
	is_int(deleted, 4, "the other four");
	is_int(outbox_prune_all(st, NOW, OUTBOX_PRUNE_BATCH, NULL, NULL, &deleted), 0,
	       "nothing to do");
	is_int(deleted, 0, "none");
}

int
main(void)
{

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "outbox") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(dbpath, sizeof(dbpath), "%s/tinchi.db", data);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_dispatch();
	test_what_goes();
	test_batches();
	test_prune_all();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
