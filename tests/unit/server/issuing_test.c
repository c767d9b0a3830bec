/*
 * issuing_test.c - tests for server/issuing.c's batches and their
 * pipeline (batch N+1 signed while batch N commits, its status k carried
 * in memory past the uncommitted next_k), over a real store in a mkdtemp
 * folder and a real institution key: 700 completions (some not passed)
 * become credentials in three batches, while another writer
 * (issuing_issue, through issuing_test_before_commit) takes a status index
 * just before the first and the last batch commit, so that those commits
 * fail on next_k and are issued one by one, and the batch after the first,
 * built on k that followed it, is assigned and built again. Afterwards:
 * every passed event issued exactly once and consumed, the others
 * consumed without a credential, the status k 0..N-1 each used once
 * (indexes = the permutation of exactly those), next_k = N, N log leaves,
 * every credential's text hashing to its stored hash, found in the log
 * and verifying. Then issuing_issue_many (the CSV import's batches) the
 * same way, with two invalid requests among 300. Then 300 more from k =
 * 131,072 - 100 on (next_k set in the database): batches crossing into
 * the list's second segment. Last, the retry (issuing_retry_tick) of a
 * completion whose issuing met a database locked by another writer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "courses/course.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/errors.h"
#include "courses/jcs.h"
#include "courses/log.h"
#include "courses/statuslist.h"
#include "server/api_identity.h"
#include "server/app.h"
#include "server/config.h"
#include "server/issuing.h"
#include "storage/completion.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "storage/tlog.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"

#define NOW 1780000000
#define LEARNERS 350
#define NOT_PASSED 7	/* every 7th completion of the second course */

static char tmp[512];
static struct config cfg;
static struct app app;
static struct institution inst;
static struct inst_key key;
static int64_t learner[LEARNERS];
static struct course courses[3];	/* two with completions, one the other writer's */
static int hook_calls, hook_sizes[16], other_issued, other_failed, total_after_pipeline;
static int total_after_many;

static int64_t
add_person(int n, const char *name)
{
	struct person p;

	memset(&p, 0, sizeof(p));
	snprintf(p.uid, sizeof(p.uid), "0000000a-0000-4000-8000-%012d", n);
	snprintf(p.national_id, sizeof(p.national_id), "%012d", n);
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", n);
	snprintf(p.full_name, sizeof(p.full_name), "%s", name);
	return store_person_upsert(app.store, &p, NOW, NULL) == 0 ? p.id : -1;
}

static int
add_course(int i, int64_t owner)
{
	struct course *c = &courses[i];

	memset(c, 0, sizeof(*c));
	snprintf(c->uid, sizeof(c->uid), "0000000c-0000-4000-8000-%012d", i);
	c->institution_id = inst.id;
	snprintf(c->code, sizeof(c->code), "MTH10%d", i);
	snprintf(c->title, sizeof(c->title), "Giải tích %d \"nâng cao\"", i);
	snprintf(c->language, sizeof(c->language), "vi");
	c->credits_x10 = 30 + 5 * i;
	c->status = COURSE_PUBLISHED;
	c->owner_id = owner;
	c->created_at = c->updated_at = NOW;
	return store_course_add(app.store, c, "x");
}

/* One completion of learner L in course C with its course.completed event. */
static int
complete(int c, int l, int passed)
{
	struct completion_rec cr = { 0 };
	char payload[200];
	int made = 0;

	snprintf(payload, sizeof(payload), "{\"type\":\"course.completed\",\"grade\":%d.%d,"
		 "\"passed\":%s,\"completed_at\":\"2026-06-%02dT08:00:00Z\"}", 5 + l % 5, l % 10,
		 passed ? "true" : "false", 1 + l % 28);
	cr.course_id = courses[c].id;
	cr.person_id = learner[l];
	cr.grade_x100 = 500 + l % 500;
	cr.percent_x10 = 500;
	cr.passed = passed;
	cr.completed_at = NOW;
	cr.evidence = "{\"units\":[]}";
	return store_completion_record(app.store, &cr, "course.completed", payload, &made);
}

static int
setup(void)
{
	int64_t owner;
	int rc;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "HCMUS");
	snprintf(inst.name, sizeof(inst.name), "Trường Đại học Khoa học Tự nhiên");
	inst.kind = INST_UNIVERSITY;
	if ((rc = api_institution_create(&app, &inst, &key)))
		return rc;
	if ((rc = store_begin(app.store)))
		return rc;
	if ((owner = add_person(1, "Giảng Viên")) < 0)
		rc = TC_EDB;
	for (int i = 0; rc == 0 && i < LEARNERS; i++)
		if ((learner[i] = add_person(100 + i, i % 2 ? "Nguyễn Văn A" : "Trần Thị 😀")) < 0)
			rc = TC_EDB;
	for (int i = 0; rc == 0 && i < 3; i++)
		rc = add_course(i, owner);
	for (int l = 0; rc == 0 && l < LEARNERS; l++) {
		rc = complete(0, l, 1);
		if (rc == 0)
			rc = complete(1, l, l % NOT_PASSED != 0);
	}
	return rc ? (store_rollback(app.store), rc) : store_commit(app.store);
}

/* Another writer: a credential of the third course, just before the first
 * and the third batch begin their transactions. */
static void
before_commit(struct app *a, int n)
{
	if (hook_calls < 16)
		hook_sizes[hook_calls] = n;
	hook_calls++;
	if (hook_calls == 1 || hook_calls == 3) {
		struct person p;
		struct credential_rec c = { 0 };

		if (store_person_get(a->store, learner[hook_calls], &p) == 0 &&
		    issuing_issue(a, &courses[2], &p, "9", "2026 HK1", NOW, NULL, &c) == 0)
			other_issued++;
		else
			other_failed++;
		free(c.json);
	}
}

struct seen {
	int64_t *index;
	int n, cap, bad_hash, not_logged, not_verified;
};

static int
see(const struct credential_rec *c, void *arg)
{
	struct seen *s = arg;
	char hex[SHA256_HEX_LEN + 1], subject[80];
	uint64_t at;
	json_t *doc;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		if (!(s->index = realloc(s->index, (size_t)s->cap * sizeof(*s->index))))
			return TC_ENOMEM;
	}
	s->index[s->n++] = c->status_index;
	sha256_hex(c->json, strlen(c->json), hex);
	if (strcmp(hex, c->hash) != 0)
		s->bad_hash++;
	snprintf(subject, sizeof(subject), "sha256:%s", c->hash);
	if (store_tlog_find(app.store, subject, &at) != 0)
		s->not_logged++;
	doc = jcs_parse(c->json, strlen(c->json), NULL, 0);
	if (!doc || di_verify(doc, NULL, NULL) != 0)
		s->not_verified++;
	json_decref(doc);
	return 0;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
count_pending(const struct outbox_event *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

/* What must hold after TOTAL credentials were issued in all, the last N2
 * of them from k = FROM2 on (N2 0: k = 0..TOTAL-1): each stored once,
 * hashing to its hash, logged, verifying; next_k and TOTAL log leaves, and
 * the status indexes exactly those of the k used, each in its segment. */
static void
check_store_at(int total, int64_t from2, int n2)
{
	struct seen s = { 0 };
	struct statuslist_perm perm = { 0 };
	unsigned char secret[64];
	int64_t next_k = -1, *want;
	uint64_t size = 0;
	int same = 0;
	char nm[200];

	for (int l = 0; l < LEARNERS; l++)
		store_credentials_each(app.store, learner[l], see, &s);
	is_int(s.n, total, "credentials stored: the batches' and the other writer's");
	is_int(s.bad_hash, 0, "every stored text hashes to its stored hash");
	is_int(s.not_logged, 0, "every credential is in the transparency log");
	is_int(s.not_verified, 0, "every credential verifies");
	is_int(store_status_next_k(app.store, inst.id, ISSUING_PURPOSE, &next_k), 0, "next_k");
	snprintf(nm, sizeof(nm), "next_k = %d credentials (%lld)", total, (long long)next_k);
	ok(next_k == (n2 ? from2 + n2 : total), nm);
	is_int(store_tlog_size(app.store, &size), 0, "log size");
	snprintf(nm, sizeof(nm), "one log leaf a credential (%llu)", (unsigned long long)size);
	ok(size == (uint64_t)total, nm);

	/* the indexes are the permutation of k = 0..total-1: none lost, none twice */
	want = calloc((size_t)total, sizeof(*want));
	if (want && s.n == total && issuing_perm_secret(&app, inst.id, secret) == 0) {
		same = 1;
		for (int i = 0; i < total; i++) {
			int64_t k = i < total - n2 ? i : from2 + (i - (total - n2));
			uint64_t idx = 0, seg = statuslist_segment_of((uint64_t)k);

			if (!perm.inner || perm.segment != seg) {
				statuslist_perm_cleanup(&perm);
				same &= statuslist_segment_init(&perm, secret, sizeof(secret), seg) == 0;
			}
			same &= statuslist_segment_index(&perm, (uint64_t)k, &idx) == 0;
			want[i] = (int64_t)idx;
		}
		qsort(want, (size_t)total, sizeof(*want), cmp64);
		qsort(s.index, (size_t)s.n, sizeof(*s.index), cmp64);
		same &= memcmp(want, s.index, (size_t)total * sizeof(*want)) == 0;
		statuslist_perm_cleanup(&perm);
	}
	if (n2)
		snprintf(nm, sizeof(nm), "status indexes = those of k = 0..%d and %lld..%lld, each"
			 " once", total - n2 - 1, (long long)from2, (long long)(from2 + n2 - 1));
	else
		snprintf(nm, sizeof(nm), "status indexes = perm(k) for k = 0..%d, each once",
			 total - 1);
	ok(same, nm);
	free(want);
	free(s.index);
}

static void
check_store(int total)
{
	check_store_at(total, 0, 0);
}

static void
test_pipeline(void)
{
	int issued = -1, passed = 0, pending = 0, total;
	char nm[200];

	for (int l = 0; l < LEARNERS; l++)
		passed += 1 + (l % NOT_PASSED != 0);
	issuing_test_before_commit = before_commit;
	is_int(issuing_run(&app, &issued), 0, "issuing_run");
	issuing_test_before_commit = NULL;
	is_int(issued, passed, "every passed completion issued once");
	snprintf(nm, sizeof(nm), "three batches went to commit (%d: %d, %d, %d)", hook_calls,
		 hook_sizes[0], hook_sizes[1], hook_sizes[2]);
	ok(hook_calls == 3 && hook_sizes[0] + hook_sizes[1] + hook_sizes[2] == passed, nm);
	is_int(other_issued, 2, "the other writer issued two meanwhile");
	is_int(other_failed, 0, "and none of its failed");
	total = passed + other_issued;
	total_after_pipeline = total;

	store_outbox_each(app.store, "course.completed", 0, 10000, count_pending, &pending);
	is_int(pending, 0, "no course.completed event left pending (not passed ones consumed)");
	check_store(total);

	issued = -1;
	is_int(issuing_run(&app, &issued), 0, "issuing_run again");
	is_int(issued, 0, "nothing left to issue");
}

/*
 * issuing_issue_many (the CSV import's path): 300 requests, two of them
 * invalid, in two batches; the other writer takes an index before the
 * first batch commits, so it is issued one by one. Each valid request is
 * issued once (its record handed back), the invalid ones change nothing.
 */
static void
test_many(int before)
{
	struct issuing_request req[300];
	struct credential_rec out[300];
	struct person p[300];
	int rcs[300], good = 0, texts = 0, n = 300;
	char nm[200];

	for (int i = 0; i < n; i++) {
		store_person_get(app.store, learner[i], &p[i]);
		req[i] = (struct issuing_request){ &courses[i % 2], &p[i], "8.5", "2027 HK1",
						   NOW, i % 3 ? NULL : "Toán học" };
	}
	req[5].grade = "";	/* refused */
	req[260].term = "a term far too long for a credential: more than sixty-three bytes!";
	hook_calls = other_issued = other_failed = 0;
	issuing_test_before_commit = before_commit;
	is_int(issuing_issue_many(&app, req, (size_t)n, rcs, out), 0, "issuing_issue_many");
	issuing_test_before_commit = NULL;
	is_int(rcs[5], TC_EINVALID, "an empty grade: refused");
	is_int(rcs[260], TC_EINVALID, "a term too long: refused");
	for (int i = 0; i < n; i++) {
		char hex[SHA256_HEX_LEN + 1];

		if (rcs[i] == 0)
			good++;
		if (rcs[i] == 0 && out[i].json) {
			sha256_hex(out[i].json, strlen(out[i].json), hex);
			texts += strcmp(hex, out[i].hash) == 0 && strncmp(out[i].uid, "urn:uuid:", 9) == 0;
		}
		free(out[i].json);
	}
	is_int(good, n - 2, "the others issued");
	is_int(texts, n - 2, "each with its record and its text handed back");
	snprintf(nm, sizeof(nm), "two batches went to commit (%d: %d, %d)", hook_calls,
		 hook_sizes[0], hook_sizes[1]);
	ok(hook_calls == 2 && hook_sizes[0] + hook_sizes[1] == n - 2, nm);
	is_int(other_issued, 1, "the other writer issued one before the first commit");
	check_store(before + n - 2 + other_issued);
	total_after_many = before + n - 2 + other_issued;
}

/*
 * Past the first segment: next_k set to 131,072 - 100 in the database, 300
 * requests in two batches, the first crossing into segment 1 (its k
 * continue in memory, each with its segment's permutation). All issue;
 * the indexes are those of their k (100 in segment 0, 200 in segment 1);
 * the stored list has two segments.
 */
static void
test_segment(int before)
{
	struct issuing_request req[300];
	struct person p[300];
	int rcs[300], good = 0, n = 300;
	int64_t from = STATUSLIST_SEGMENT_BITS - 100;
	unsigned char *bits = NULL;
	size_t len = 0;
	char sql[200], path[sizeof(cfg.data_dir) + 16];

	snprintf(path, sizeof(path), "%s/tinchi.db", cfg.data_dir);
	snprintf(sql, sizeof(sql), "UPDATE status_lists SET next_k = %lld", (long long)from);
	is_int(raw_exec(path, sql), SQLITE_OK, "next_k set to 130,972");
	for (int i = 0; i < n; i++) {
		store_person_get(app.store, learner[i], &p[i]);
		req[i] = (struct issuing_request){ &courses[i % 2], &p[i], "7", "2028 HK1", NOW, NULL };
	}
	is_int(issuing_issue_many(&app, req, (size_t)n, rcs, NULL), 0,
	       "issuing_issue_many across the segment boundary");
	for (int i = 0; i < n; i++)
		good += rcs[i] == 0;
	is_int(good, n, "all 300 issued");
	check_store_at(before + n, from, n);
	is_int(store_status_list_get(app.store, inst.id, ISSUING_PURPOSE, &bits, &len), 0,
	       "the stored list");
	is_int(len, 2 * STATUSLIST_SEGMENT_BITS / 8, "two segments (262,144 entries)");
	free(bits);
}

/*
 * The retry (issuing_retry_tick): a completion whose issuing meets a
 * database locked by another writer (SQLITE_BUSY, no busy wait) stays
 * pending and is noted for a retry after cfg.issuing_retry_ms; a retry
 * before it is due does nothing; one while the lock is still held fails
 * again and doubles the wait, up to cfg.issuing_retry_max_ms; once the
 * lock is gone the retry issues it (without another completion, without
 * issuing_run) and the wait goes back to the first.
 */
static void
test_retry(int before)
{
	struct issuing_retry *r = &app.issuing_retry;
	char path[sizeof(cfg.data_dir) + 16];
	sqlite3 *db = NULL;
	int issued = -1, rc;

	snprintf(path, sizeof(path), "%s/tinchi.db", cfg.data_dir);
	cfg.issuing_retry_ms = 4000;
	cfg.issuing_retry_max_ms = 7000;
	is_int(r->from, 0, "nothing to retry yet");
	is_int(complete(2, 7, 1), 0, "a completion of the third course");
	store_set_busy_timeout(app.store, 0);
	ok(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	   sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK,
	   "another connection holds the write lock");
	rc = issuing_run_new(&app, &issued);
	ok(rc == TC_EBUSY || rc == TC_EDB, "issuing_run_new: a storage error");
	ok(r->from > 0 && r->due_ms > 0 && r->delay_ms == 4000,
	   "the event is noted for a retry in 4 s");
	issuing_retry_tick(&app);
	ok(r->runs == 0 && r->from > 0, "a tick before it is due does nothing");
	r->due_ms = 1;	/* due now */
	issuing_retry_tick(&app);
	ok(r->runs == 1 && r->issued == 0 && r->from > 0 && r->due_ms > 0,
	   "a retry while the lock is held fails and is planned again");
	is_int(r->delay_ms, 7000, "after twice the wait, at most issuing_retry_max_ms");
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	r->due_ms = 1;
	issuing_retry_tick(&app);
	ok(r->runs == 2 && r->issued == 1, "once the lock is gone the retry issues the credential");
	ok(r->from == 0 && r->due_ms == 0 && r->delay_ms == 0 && r->failed == 0,
	   "nothing left to retry; the next failure waits the first delay again");

	/* a failure, then a run that reads everything (issuing_run: start-up,
	 * a course set back to auto) issues it: nothing stays planned */
	is_int(complete(2, 8, 1), 0, "another completion of the third course");
	sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	ok(issuing_run_new(&app, NULL) != 0 && r->from > 0 && r->due_ms > 0 &&
	   r->delay_ms == 4000, "it meets the lock too: planned in 4 s");
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(issuing_run(&app, &issued), 0, "issuing_run once the lock is gone");
	is_int(issued, 1, "issues it");
	ok(r->from == 0 && r->due_ms == 0 && r->delay_ms == 0 && r->runs == 2,
	   "and no retry stays planned");
	check_store_at(before + 2, STATUSLIST_SEGMENT_BITS - 100, 302);
	store_set_busy_timeout(app.store, 5000);
}

int
main(void)
{
	struct store *st = NULL;
	int rc;

	log_set_level(LOG_WARN);
	if (test_tmpdir_make(tmp, sizeof(tmp), "issuing") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s/data", tmp);
	snprintf(cfg.public_url, sizeof(cfg.public_url), "https://tinchi.example.vn");
	if (store_prepare_dir(cfg.data_dir) != 0 || store_open(cfg.data_dir, &st) != 0) {
		printf("Bail out! cannot open a store in %s\n", cfg.data_dir);
		return 1;
	}
	app.cfg = &cfg;
	app.store = st;
	if ((rc = setup()) != 0) {
		printf("Bail out! setup: %s\n", tc_strerror(rc));
		return 1;
	}
	test_pipeline();
	test_many(total_after_pipeline);
	test_segment(total_after_many);
	test_retry(total_after_many + 300);
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
