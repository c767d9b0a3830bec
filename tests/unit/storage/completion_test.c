/*
 * completion_test.c - tests for storage/completion.h: the dispatch in
 * storage/completion.c, the SQLite side in storage/completion_sqlite.c and
 * schema migration 9, on a store in a mkdtemp folder. The database file is
 * also opened directly with sqlite3 to count rows and to make writes fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/completion.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/sqlite_migrate.h"
#include "storage/store.h"
#include "storage/store_backend.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"

#define NOW 1700000000

static char tmp[512];
static char data[560];
static char dbpath[600];
static struct store *st;
static int64_t inst_id, owner_id, colect_id, learner[4], course_id, course2_id;

static long long
query_int(const char *sql)
{
	return raw_query_int(dbpath, sql);
}

static int
exec_raw(const char *sql)
{
	return raw_exec(dbpath, sql);
}

static long long
completions_of(int64_t course)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM completions WHERE course_id = %lld",
		 (long long)course);
	return query_int(sql);
}

static int64_t
add_person(int n, const char *name)
{
	struct person p;

	memset(&p, 0, sizeof(p));
	snprintf(p.uid, sizeof(p.uid), "0000000a-0000-4000-8000-%012d", n);
	snprintf(p.national_id, sizeof(p.national_id), "%012d", n);
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", n);
	snprintf(p.full_name, sizeof(p.full_name), "%s", name);
	return store_person_upsert(st, &p, NOW, NULL) == 0 ? p.id : -1;
}

static int64_t
add_course(const char *code, int n)
{
	struct course c;

	memset(&c, 0, sizeof(c));
	snprintf(c.uid, sizeof(c.uid), "0000000c-0000-4000-8000-%012d", n);
	c.institution_id = inst_id;
	snprintf(c.code, sizeof(c.code), "%s", code);
	snprintf(c.title, sizeof(c.title), "%s", "Giải tích 1");
	snprintf(c.language, sizeof(c.language), "%s", "vi");
	c.credits_x10 = 30;
	c.status = COURSE_PUBLISHED;
	c.owner_id = owner_id;
	c.created_at = c.updated_at = NOW;
	return store_course_add(st, &c, "x") == 0 ? c.id : -1;
}

static int
setup(void)
{
	struct institution inst;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "%s", "hcmus");
	snprintf(inst.name, sizeof(inst.name), "%s", "Institution hcmus");
	inst.kind = INST_UNIVERSITY;
	if (store_institution_add(st, &inst) != 0)
		return -1;
	inst_id = inst.id;
	owner_id = add_person(1, "Giảng Viên Một");
	colect_id = add_person(2, "Giảng Viên Hai");
	for (int i = 0; i < 4; i++)
		learner[i] = add_person(10 + i, i == 1 ? "=cmd|' /C calc'!A0" : "Nguyễn Văn A");
	course_id = add_course("MTH101", 1);
	course2_id = add_course("MTH102", 2);
	if (course_id < 0 || course2_id < 0 || colect_id < 0 || learner[3] < 0)
		return -1;
	return store_course_lecturer_add(st, course_id, colect_id);
}

static struct completion_rec
rec(int64_t course, int64_t person, int grade, const char *evidence)
{
	struct completion_rec c;

	memset(&c, 0, sizeof(c));
	c.course_id = course;
	c.person_id = person;
	c.grade_x100 = grade;
	c.percent_x10 = grade;
	snprintf(c.letter, sizeof(c.letter), "%s", grade >= 850 ? "A" : "B");
	c.passed = 1;
	c.rules_version = 2;
	c.completed_at = NOW + person;
	c.evidence = (char *)evidence;
	return c;
}

static void
test_dispatch(void)
{
	static const struct store_ops bare_ops = { .name = "bare" };
	struct store bare = { &bare_ops };
	struct completion_rules_rec r;
	struct completion_rec c = rec(1, 1, 500, "{}");
	int created;
	int64_t ids[2];
	int n;

	is_int(store_completion_rules_get(&bare, 1, &r), TC_EUNSUPPORTED,
	       "backend without completion ops: TC_EUNSUPPORTED");
	is_int(store_completion_rules_get(NULL, 1, &r), TC_EINVALID, "NULL store: TC_EINVALID");
	is_int(store_completion_rules_put(st, 1, "", 1, NOW, NULL), TC_EINVALID,
	       "empty rules: TC_EINVALID");
	is_int(store_completion_record(st, &c, "course.completed", "", &created), TC_EINVALID,
	       "empty payload: TC_EINVALID");
	is_int(store_completion_record(st, &c, "", "{}", &created), TC_EINVALID,
	       "empty kind: TC_EINVALID");
	c.grade_x100 = 1001;
	is_int(store_completion_record(st, &c, "course.completed", "{}", &created), TC_EINVALID,
	       "grade above 10: TC_EINVALID");
	c = rec(1, 1, 500, NULL);
	is_int(store_completion_record(st, &c, "course.completed", "{}", &created), TC_EINVALID,
	       "no evidence: TC_EINVALID");
	is_int(store_completions_each(st, 1, 0, 0, (void *)1, NULL), TC_EINVALID,
	       "each with limit 0: TC_EINVALID");
	is_int(store_completion_lecturers(st, 1, ids, 0, &n), TC_EINVALID,
	       "lecturers into no room: TC_EINVALID");
	is_int(store_outbox_each(st, NULL, 0, 10001, (void *)1, NULL), TC_EINVALID,
	       "outbox with limit 10001: TC_EINVALID");
}

static void
test_rules(void)
{
	struct completion_rules_rec r;
	int64_t v = 0;

	is_int(store_completion_rules_get(st, course_id, &r), TC_ENOTFOUND,
	       "no rules yet: TC_ENOTFOUND");
	is_int(store_completion_rules_put(st, course_id, "{\"pass_mark\":5.0}", owner_id, NOW, &v),
	       0, "first rules");
	is_int(v, 1, "version 1");
	is_int(store_completion_rules_put(st, course_id, "{\"pass_mark\":6.0}", colect_id,
					  NOW + 5, &v), 0, "changed");
	is_int(v, 2, "version 2");
	is_int(store_completion_rules_get(st, course_id, &r), 0, "read back");
	is_str(r.rules, "{\"pass_mark\":6.0}", "the latest rules");
	ok(r.version == 2 && r.updated_by == colect_id && r.updated_at == NOW + 5 &&
	   r.course_id == course_id, "version, who and when");
	free(r.rules);
	is_int(store_completion_rules_put(st, 999999, "{}", owner_id, NOW, &v), TC_ENOTFOUND,
	       "rules of an unknown course: TC_ENOTFOUND");
	is_int(store_completion_rules_put(st, course2_id, "{}", 999999, NOW, &v), TC_ENOTFOUND,
	       "rules by an unknown person: TC_ENOTFOUND");
	is_int(query_int("SELECT count(*) FROM completion_rules"), 1, "one rules row");
}

static int
count_cb(const struct completion_rec *c, void *arg)
{
	struct completion_rec *seen = arg;

	seen[0].grade_x100++;	/* count */
	seen[seen[0].grade_x100] = *c;
	return 0;
}

static void
test_record(void)
{
	struct completion_rec c = rec(course_id, learner[0], 850, "{\"units\":[]}"), got;
	struct completion_rec seen[8];
	int created = -1;

	is_int(store_completion_record(st, &c, "course.completed", "{\"n\":1}", &created), 0,
	       "record a completion");
	is_int(created, 1, "it is new");
	is_int(query_int("SELECT count(*) FROM outbox WHERE kind = 'course.completed'"), 1,
	       "its event is in the outbox");
	c.grade_x100 = 300;
	created = -1;
	is_int(store_completion_record(st, &c, "course.completed", "{\"n\":2}", &created), 0,
	       "record it again");
	is_int(created, 0, "already there");
	is_int(query_int("SELECT count(*) FROM outbox"), 1, "no second event");
	is_int(query_int("SELECT grade_hundredths FROM completions"), 850,
	       "the first grade stays (never overwritten)");
	is_int(store_completion_get(st, course_id, learner[0], &got), 0, "get it");
	ok(got.grade_x100 == 850 && got.percent_x10 == 850 && got.passed == 1 &&
	   got.rules_version == 2 && got.completed_at == NOW + learner[0], "fields read back");
	is_str(got.letter, "A", "letter");
	is_str(got.evidence, "{\"units\":[]}", "evidence");
	is_str(got.person_uid, "0000000a-0000-4000-8000-000000000010", "learner uid");
	is_str(got.full_name, "Nguyễn Văn A", "learner name");
	free(got.evidence);
	is_int(store_completion_get(st, course_id, learner[1], &got), TC_ENOTFOUND,
	       "another learner has none");
	is_int(store_completion_get(st, course2_id, learner[0], &got), TC_ENOTFOUND,
	       "nor the same learner in another course");

	/* three more, then pages of two */
	for (int i = 1; i < 4; i++) {
		c = rec(course_id, learner[i], 700 + i, "{}");
		store_completion_record(st, &c, "course.completed", "{}", &created);
	}
	c = rec(course2_id, learner[2], 999, "{}");
	is_int(store_completion_record(st, &c, "course.completed", "{}", &created), 0,
	       "a completion of the other course");
	memset(seen, 0, sizeof(seen));
	is_int(store_completions_each(st, course_id, 0, 2, count_cb, seen), 0, "first page");
	ok(seen[0].grade_x100 == 2 && seen[1].person_id == learner[0] &&
	   seen[2].person_id == learner[1], "two, by person id");
	ok(seen[2].evidence == NULL, "lists come without evidence");
	is_str(seen[2].full_name, "=cmd|' /C calc'!A0", "names as stored");
	memset(seen, 0, sizeof(seen));
	is_int(store_completions_each(st, course_id, learner[1], 2, count_cb, seen), 0,
	       "second page");
	ok(seen[0].grade_x100 == 2 && seen[1].person_id == learner[2] &&
	   seen[2].person_id == learner[3] && seen[2].grade_x100 == 703, "the other two");
	memset(seen, 0, sizeof(seen));
	store_completions_each(st, course_id, learner[3], 2, count_cb, seen);
	is_int(seen[0].grade_x100, 0, "then none");
}

static void
test_atomic(void)
{
	struct completion_rec c = rec(course2_id, learner[3], 600, "{}");
	int created = -1;
	long long before = query_int("SELECT count(*) FROM outbox");

	/* the event cannot be written: the completion must not be either */
	is_int(exec_raw("CREATE TRIGGER test_outbox_fails BEFORE INSERT ON outbox"
			" BEGIN SELECT RAISE(ABORT, 'test: no outbox'); END;"), SQLITE_OK,
	       "(a trigger makes writing the outbox fail)");
	ok(store_completion_record(st, &c, "course.completed", "{}", &created) != 0,
	   "record fails at the outbox row");
	is_int(created, 0, "not reported as created");
	is_int(completions_of(course2_id), 1, "no completion row left (only the earlier one)");
	is_int(query_int("SELECT count(*) FROM outbox"), before, "no event row left");
	is_int(exec_raw("DROP TRIGGER test_outbox_fails;"), SQLITE_OK, "(trigger dropped)");
	/* the completion row cannot be written */
	is_int(exec_raw("CREATE TRIGGER test_completion_fails BEFORE INSERT ON completions"
			" BEGIN SELECT RAISE(ABORT, 'test: no completion'); END;"), SQLITE_OK,
	       "(a trigger makes writing the completion fail)");
	ok(store_completion_record(st, &c, "course.completed", "{}", &created) != 0,
	   "record fails at the completion row");
	is_int(query_int("SELECT count(*) FROM outbox"), before, "and writes no event");
	is_int(exec_raw("DROP TRIGGER test_completion_fails;"), SQLITE_OK, "(trigger dropped)");

	/* inside a caller's transaction that rolls back: nothing stays */
	is_int(store_begin(st), 0, "a caller's transaction");
	is_int(store_completion_record(st, &c, "course.completed", "{}", &created), 0,
	       "record inside it");
	is_int(created, 1, "new");
	is_int(store_rollback(st), 0, "the caller rolls back");
	is_int(completions_of(course2_id), 1, "the completion went with it");
	is_int(query_int("SELECT count(*) FROM outbox"), before, "and the event too");
	/* now for real */
	is_int(store_completion_record(st, &c, "course.completed", "{}", &created), 0,
	       "record after the failures");
	is_int(created, 1, "new");
	is_int(query_int("SELECT count(*) FROM outbox"), before + 1, "with its event");

	/* unknown person: a foreign key, nothing written */
	c = rec(course2_id, 999999, 600, "{}");
	is_int(store_completion_record(st, &c, "course.completed", "{}", &created), TC_ENOTFOUND,
	       "completion of an unknown person: TC_ENOTFOUND");
	is_int(query_int("SELECT count(*) FROM outbox"), before + 1, "and no event");
}

struct seen_events {
	int n;
	int64_t ids[16];
	char payload[16][32];
};

static int
event_cb(const struct outbox_event *e, void *arg)
{
	struct seen_events *se = arg;

	if (se->n < 16) {
		se->ids[se->n] = e->id;
		snprintf(se->payload[se->n], 32, "%s", e->payload);
	}
	se->n++;
	return 0;
}

static void
test_outbox(void)
{
	struct seen_events se;
	int64_t first;

	memset(&se, 0, sizeof(se));
	is_int(store_outbox_each(st, "course.completed", 0, 100, event_cb, &se), 0, "fetch events");
	is_int(se.n, 6, "six unconsumed course.completed events");
	is_str(se.payload[0], "{\"n\":1}", "the first one's payload");
	ok(se.ids[0] < se.ids[1] && se.ids[4] < se.ids[5], "oldest first");
	first = se.ids[0];
	is_int(store_outbox_consume(st, first, NOW + 100), 0, "consume the first");
	is_int(store_outbox_consume(st, first, NOW + 101), TC_ENOTFOUND,
	       "consuming it again: TC_ENOTFOUND");
	is_int(store_outbox_consume(st, 999999, NOW), TC_ENOTFOUND, "unknown event: TC_ENOTFOUND");
	memset(&se, 0, sizeof(se));
	store_outbox_each(st, NULL, 0, 100, event_cb, &se);
	ok(se.n == 5 && se.ids[0] != first, "five left, the consumed one gone");
	memset(&se, 0, sizeof(se));
	store_outbox_each(st, "credential.issued", 0, 100, event_cb, &se);
	is_int(se.n, 0, "no events of another kind");
	memset(&se, 0, sizeof(se));
	store_outbox_each(st, NULL, 0, 2, event_cb, &se);
	is_int(se.n, 2, "a limit of 2");
	{
		int64_t last = se.ids[1];

		memset(&se, 0, sizeof(se));
		store_outbox_each(st, NULL, last, 100, event_cb, &se);
		ok(se.n == 3 && se.ids[0] > last, "after the last seen: three more");
	}
	is_int(query_int("SELECT consumed_at FROM outbox ORDER BY id LIMIT 1"), NOW + 100,
	       "consumed_at stored");
	{
		/* the pollers' query searches the partial index, never walks the
		 * consumed events (storage/completion_sqlite.c) */
		extern const char sqlite_outbox_pending_sql[];
		char sql[600];
		sqlite3 *db = NULL;
		sqlite3_stmt *q = NULL;
		int rows = 0, indexed = 0;

		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", sqlite_outbox_pending_sql);
		sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL);
		if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK)
			while (sqlite3_step(q) == SQLITE_ROW) {
				const char *d = (const char *)sqlite3_column_text(q, 3);

				rows++;
				if (d && strstr(d, "USING INDEX outbox_pending (kind=? AND id>?)"))
					indexed++;
				else
					printf("# %s\n", d ? d : "(null)");
			}
		sqlite3_finalize(q);
		sqlite3_close(db);
		ok(rows == 1 && indexed == 1, "pending events of a kind: a search of outbox_pending");
	}
}

static void
test_lecturers(void)
{
	int64_t ids[4];
	int n = -1;

	is_int(store_completion_lecturers(st, course_id, ids, 4, &n), 0, "lecturers");
	ok(n == 2 && ids[0] == owner_id && ids[1] == colect_id, "owner first, then co-lecturer");
	is_int(store_completion_lecturers(st, course_id, ids, 1, &n), 0, "room for one");
	ok(n == 1 && ids[0] == owner_id, "the owner");
	is_int(store_completion_lecturers(st, 999999, ids, 4, &n), 0, "unknown course");
	is_int(n, 0, "nobody");
}

static void
test_reopen(void)
{
	struct completion_rec got;

	store_close(st);
	st = NULL;
	is_int(store_open(data, &st), 0, "reopen the store");
	is_int(store_completion_get(st, course_id, learner[0], &got), 0,
	       "the completion survived");
	free(got.evidence);
	is_int(store_schema_version(st, &(int){ 0 }), 0, "schema version readable");
	is_int(query_int("PRAGMA user_version") >= 9, 1, "schema at migration 9 or later");
}

static void
test_migration(void)
{
	char path[600];
	sqlite3 *db = NULL;
	size_t upto6 = 0;
	int rc;

	while (upto6 < sqlite_migrations_count && sqlite_migrations[upto6].version <= 6)
		upto6++;
	snprintf(path, sizeof(path), "%s/v6.db", tmp);
	rc = sqlite3_open(path, &db);
	is_int(rc == SQLITE_OK ? sqlite_migrate(db, sqlite_migrations, upto6) : rc, 0,
	       "a database at version 6");
	is_int(sqlite_migrate(db, sqlite_migrations, sqlite_migrations_count), 0,
	       "migration 9 applies on it");
	ok(sqlite3_exec(db, "SELECT course_id, rules, version, updated_by, updated_at FROM"
			" completion_rules; SELECT course_id, person_id, grade_hundredths,"
			" percent_tenths, letter, passed, evidence, rules_version, completed_at"
			" FROM completions; SELECT id, kind, course_id, person_id, payload,"
			" created_at, consumed_at FROM outbox;", NULL, NULL, NULL) == SQLITE_OK,
	   "the three tables with their columns");
	ok(sqlite3_exec(db, "INSERT INTO completions VALUES (1, 1, 1001, 0, '', 1, '{}', 0, 0)",
			NULL, NULL, NULL) != SQLITE_OK, "a grade above 10 is refused by the schema");
	sqlite3_close(db);
}

int
main(void)
{

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "completion") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(dbpath, sizeof(dbpath), "%s/tinchi.db", data);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 || setup() != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_dispatch();
	test_rules();
	test_record();
	test_atomic();
	test_outbox();
	test_lecturers();
	test_reopen();
	test_migration();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
