/*
 * quiz_test.c - tests for storage/quiz.h (dispatch in storage/quiz.c, the
 * SQLite side in storage/quiz_sqlite.c, schema migration 8) on a real
 * SQLite file in a mkdtemp folder: definitions and their versions,
 * attempts (numbering, the limit, one open attempt also when two
 * connections race on two threads), saving, finishing once, the best
 * attempt and the course iterator.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/quiz.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

#define NOW 1700000000

static char tmp[512], data[560];
static struct store *st;
static int64_t inst_id, course_id, unit_id, unit2_id, people[8];
static long serial;

static void
make_uid(char out[37], const char *prefix8, long n)
{
	char d[32];

	snprintf(d, sizeof(d), "%012lu", (unsigned long)n % 1000000000000UL);
	snprintf(out, 37, "%.8s-0000-4000-8000-%.12s", prefix8, d);
}

static int
setup(void)
{
	struct institution inst;
	struct course c;
	struct unit u;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "%s", "hust");
	snprintf(inst.name, sizeof(inst.name), "%s", "Institution hust");
	inst.kind = INST_UNIVERSITY;
	if (store_institution_add(st, &inst) != 0)
		return -1;
	inst_id = inst.id;
	for (int i = 0; i < 8; i++) {
		struct person p;

		memset(&p, 0, sizeof(p));
		make_uid(p.uid, "0000000a", i + 1);
		snprintf(p.national_id, sizeof(p.national_id), "%012d", i + 1);
		snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", i + 1);
		snprintf(p.full_name, sizeof(p.full_name), "Học Viên %d", i);
		if (store_person_upsert(st, &p, NOW, NULL) != 0)
			return -1;
		people[i] = p.id;
	}
	memset(&c, 0, sizeof(c));
	make_uid(c.uid, "0000000c", 1);
	c.institution_id = inst_id;
	snprintf(c.code, sizeof(c.code), "%s", "IT101");
	snprintf(c.title, sizeof(c.title), "%s", "Lập trình");
	snprintf(c.language, sizeof(c.language), "%s", "vi");
	c.credits_x10 = 30;
	c.status = COURSE_PUBLISHED;
	c.owner_id = people[0];
	c.created_at = c.updated_at = NOW;
	if (store_course_add(st, &c, "it101 lap trinh") != 0)
		return -1;
	course_id = c.id;
	for (int i = 0; i < 2; i++) {
		memset(&u, 0, sizeof(u));
		make_uid(u.uid, "0000000e", i + 1);
		u.course_id = course_id;
		snprintf(u.kind, sizeof(u.kind), "%s", "quiz");
		snprintf(u.title, sizeof(u.title), "Quiz %d", i + 1);
		u.required = 1;
		u.created_at = u.updated_at = NOW;
		if (store_unit_add(st, &u) != 0)
			return -1;
		*(i ? &unit2_id : &unit_id) = u.id;
	}
	return 0;
}

static void
new_attempt(struct quiz_attempt *a, int64_t unit, int64_t person)
{
	memset(a, 0, sizeof(*a));
	make_uid(a->uid, "0000000f", ++serial);
	a->unit_id = unit;
	a->person_id = person;
	a->quiz_version = 1;
	a->started_at = NOW;
	a->deadline = NOW + 60;
	a->paper = "{\"pass_percent\":50,\"questions\":[]}";
}

static void
test_definitions(void)
{
	char *def = NULL;
	int64_t v = 0, at = 0;

	ok(store_quiz_get(st, unit_id, &def, &v, &at) == TC_ENOTFOUND && def == NULL,
	   "a unit without a quiz: TC_ENOTFOUND");
	ok(store_quiz_put(st, unit_id, "{\"a\":1}", people[0], NOW, &v) == 0 && v == 1,
	   "the first definition is version 1");
	ok(store_quiz_put(st, unit_id, "{\"a\":2}", people[0], NOW + 5, &v) == 0 && v == 2,
	   "an edit is version 2");
	ok(store_quiz_get(st, unit_id, &def, &v, &at) == 0 && def && strcmp(def, "{\"a\":2}") == 0 &&
	   v == 2 && at == NOW + 5, "the latest definition is read back");
	free(def);
	ok(store_quiz_put(st, 999999, "{}", people[0], NOW, NULL) == TC_ENOTFOUND,
	   "a quiz for no unit: TC_ENOTFOUND (foreign key)");
	ok(store_quiz_put(st, unit_id, "", people[0], NOW, NULL) == TC_EINVALID,
	   "an empty definition is a caller bug");
}

static void
test_attempts(void)
{
	struct quiz_attempt a, b, got;
	double score, max;
	int n;

	new_attempt(&a, unit_id, people[1]);
	ok(store_attempt_start(st, &a, 2) == 0 && a.number == 1 && a.id > 0 &&
	   strcmp(a.state, "open") == 0, "attempt 1 starts");
	new_attempt(&b, unit_id, people[1]);
	ok(store_attempt_start(st, &b, 2) == TC_ECONFLICT, "a second open attempt: TC_ECONFLICT");
	ok(store_attempt_open(st, unit_id, people[1], &got) == 0 && strcmp(got.uid, a.uid) == 0 &&
	   got.deadline == NOW + 60 && got.paper && strcmp(got.answers, "{}") == 0,
	   "the open attempt is found, with its paper and no answers");
	quiz_attempt_cleanup(&got);
	ok(store_attempt_save(st, a.id, "{\"q1\":true}") == 0, "answers are saved");
	ok(store_attempt_get(st, a.uid, &got) == 0 && strcmp(got.answers, "{\"q1\":true}") == 0,
	   "and read back");
	quiz_attempt_cleanup(&got);
	ok(store_quiz_best(st, unit_id, people[1], &score, &max, &n) == 0 && n == 0 && score == 0 &&
	   max == 0, "no graded attempt yet: best is 0 of 0");
	ok(store_attempt_finish(st, a.id, "submitted", NULL, 1.5, 4, 0, 50, "[{\"id\":\"q1\"}]", NOW + 30) == 0,
	   "attempt 1 is graded, keeping the saved answers");
	ok(store_attempt_finish(st, a.id, "submitted", "{}", 4, 4, 1, 50, "[]", NOW + 31) == TC_ECONFLICT,
	   "a second grading: TC_ECONFLICT");
	ok(store_attempt_save(st, a.id, "{}") == TC_ECONFLICT, "saving after grading: TC_ECONFLICT");
	ok(store_attempt_save(st, 999999, "{}") == TC_ENOTFOUND, "saving to no attempt: TC_ENOTFOUND");
	ok(store_attempt_get(st, a.uid, &got) == 0 && strcmp(got.state, "submitted") == 0 &&
	   got.score == 1.5 && got.max_score == 4 && got.submitted_at == NOW + 30 &&
	   got.passed == 0 && got.pass_percent == 50 &&
	   strcmp(got.answers, "{\"q1\":true}") == 0 && strcmp(got.scores, "[{\"id\":\"q1\"}]") == 0,
	   "the graded attempt reads back");
	quiz_attempt_cleanup(&got);

	new_attempt(&b, unit_id, people[1]);
	ok(store_attempt_start(st, &b, 2) == 0 && b.number == 2, "attempt 2 starts after 1 is graded");
	ok(store_attempt_finish(st, b.id, "expired", "{\"q1\":false}", 3, 4, 1, 62.5, "[]", NOW + 90) == 0,
	   "attempt 2 expires");
	ok(store_attempt_get(st, b.uid, &got) == 0 && got.passed == 1 && got.pass_percent == 62.5,
	   "the verdict and the pass mark used are kept with the attempt");
	quiz_attempt_cleanup(&got);
	ok(store_attempt_finish(st, b.id, "submitted", NULL, 3, 4, 2, 50, "[]", NOW + 91) == TC_EINVALID,
	   "passed is 0 or 1");
	new_attempt(&b, unit_id, people[1]);
	ok(store_attempt_start(st, &b, 2) == TC_EFORBIDDEN, "a third with 2 allowed: TC_EFORBIDDEN");
	ok(store_attempt_start(st, &b, 0) == 0 && b.number == 3, "unlimited: attempt 3");
	ok(store_attempt_finish(st, b.id, "submitted", NULL, 2, 2, 1, 50, "[]", NOW + 100) == 0,
	   "attempt 3 graded (2 of 2)");
	ok(store_quiz_best(st, unit_id, people[1], &score, &max, &n) == 0 && n == 3 && score == 2 &&
	   max == 2, "best: the highest fraction (2 of 2 over 3 of 4), 3 graded");

	ok(store_attempt_get(st, "00000000-0000-4000-8000-000000000000", &got) == TC_ENOTFOUND,
	   "an unknown uid: TC_ENOTFOUND");
	quiz_attempt_cleanup(&got);
}

static int
count_cb(const struct quiz_attempt *a, void *arg)
{
	int *n = arg;

	if (a->paper || a->answers)
		return TC_EINVALID;
	if (a->number != *n + 1)
		return TC_EINVALID;
	(*n)++;
	return 0;
}

struct seen {
	int n;
	int64_t last;
	int scores_ok;
};

static int
course_cb(const struct quiz_attempt *a, void *arg)
{
	struct seen *s = arg;

	s->scores_ok &= a->scores != NULL && a->paper == NULL && strcmp(a->state, "open") != 0 &&
			a->id > s->last;
	s->last = a->id;
	s->n++;
	return 0;
}

static void
test_listing(void)
{
	struct quiz_attempt a;
	struct seen s = { 0, 0, 1 };
	int n = 0;

	ok(store_attempts_each(st, unit_id, people[1], count_cb, &n) == 0 && n == 3,
	   "a person's attempts by number, without texts");
	new_attempt(&a, unit2_id, people[2]);
	store_attempt_start(st, &a, 0);
	store_attempt_finish(st, a.id, "submitted", "{}", 1, 1, 1, 50, "[]", NOW);
	new_attempt(&a, unit2_id, people[3]);
	store_attempt_start(st, &a, 0);		/* open: not listed */
	ok(store_quiz_attempts_each(st, course_id, 0, 2, course_cb, &s) == 0 && s.n == 2,
	   "the course's graded attempts: a page of 2");
	ok(store_quiz_attempts_each(st, course_id, s.last, 100, course_cb, &s) == 0 && s.n == 4 &&
	   s.scores_ok, "the next page has the rest, with scores, none open");
	ok(store_quiz_attempts_each(st, course_id, 0, 0, course_cb, &s) == TC_EINVALID,
	   "a limit of 0 is a caller bug");
}

/* ---- the race ----------------------------------------------------------------- */

struct racer {
	struct store *s;
	pthread_barrier_t *bar;
	int64_t person;
	int rc;
	char uid[37];
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct quiz_attempt a;

	memset(&a, 0, sizeof(a));
	snprintf(a.uid, sizeof(a.uid), "%s", r->uid);
	a.unit_id = unit_id;
	a.person_id = r->person;
	a.quiz_version = 1;
	a.started_at = NOW;
	a.paper = "{}";
	pthread_barrier_wait(r->bar);
	r->rc = store_attempt_start(r->s, &a, 0);
	return NULL;
}

static void
test_race(void)
{
	struct store *s1 = NULL, *s2 = NULL;
	pthread_barrier_t bar;
	int rounds = 0, one_each = 1;

	if (store_open(data, &s1) || store_open(data, &s2)) {
		ok(0, "two more connections open");
		store_close(s1);
		return;
	}
	pthread_barrier_init(&bar, NULL, 2);
	for (int p = 4; p < 8; p++) {
		for (int round = 0; round < 5; round++) {
			struct racer r1 = { s1, &bar, people[p], -99, "" };
			struct racer r2 = { s2, &bar, people[p], -99, "" };
			struct quiz_attempt open;
			pthread_t t1, t2;

			make_uid(r1.uid, "00000010", ++serial);
			make_uid(r2.uid, "00000010", ++serial);
			pthread_create(&t1, NULL, race, &r1);
			pthread_create(&t2, NULL, race, &r2);
			pthread_join(t1, NULL);
			pthread_join(t2, NULL);
			one_each &= (r1.rc == 0 && r2.rc == TC_ECONFLICT) ||
				    (r2.rc == 0 && r1.rc == TC_ECONFLICT);
			if (!one_each)
				printf("# round %d: %d and %d\n", round, r1.rc, r2.rc);
			/* grade the winner so the next round races again */
			if (store_attempt_open(st, unit_id, people[p], &open) == 0)
				store_attempt_finish(st, open.id, "submitted", NULL, 0, 1, 0, 50, "[]", NOW);
			quiz_attempt_cleanup(&open);
			rounds++;
		}
	}
	ok(rounds == 20 && one_each,
	   "20 races of two connections: exactly one attempt starts, the other gets TC_ECONFLICT");
	pthread_barrier_destroy(&bar);
	store_close(s1);
	store_close(s2);
}

int
main(void)
{

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "quiz") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 || setup() != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_definitions();
	test_attempts();
	test_listing();
	test_race();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
