/*
 * progress_test.c - storage/progress.h on a real SQLite file in a mkdtemp
 * folder: migration 7's tables, the read-modify-write of a progress row
 * (blank rows, saving, leaving unchanged, rolling back on an error), the
 * delivered ranges, the per-course listings, and the cascade when a unit
 * goes; and store_my_courses_each, store_teaching_each (storage/courses.h).
 */
#define _XOPEN_SOURCE 700
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "courses/course.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/progress.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

#define NOW 1700000000

static char tmp[512];
static struct store *st;
static int64_t inst_id, person_id, other_id, course_id, material_id;
static int64_t unit_video, unit_doc, unit_text;

static void
make_uid(char out[37], const char *prefix8, long n)
{
	snprintf(out, 37, "%.8s-0000-4000-8000-%012ld", prefix8, n);
}

static int64_t
add_person(long n)
{
	struct person p;

	memset(&p, 0, sizeof(p));
	make_uid(p.uid, "0000000a", n);
	snprintf(p.national_id, sizeof(p.national_id), "%012ld", n);
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064ld", n);
	snprintf(p.full_name, sizeof(p.full_name), "Person %ld", n);
	return store_person_upsert(st, &p, NOW, NULL) == 0 ? p.id : -1;
}

static int64_t
add_unit(const char *kind, long n, int64_t material)
{
	struct unit u;

	memset(&u, 0, sizeof(u));
	make_uid(u.uid, "0000000e", n);
	u.course_id = course_id;
	snprintf(u.kind, sizeof(u.kind), "%s", kind);
	snprintf(u.title, sizeof(u.title), "Unit %ld", n);
	u.required = n != 3;
	u.material_id = material;
	u.created_at = u.updated_at = NOW;
	return store_unit_add(st, &u) == 0 ? u.id : -1;
}

static int
setup(void)
{
	struct institution inst;
	struct course c;
	struct material m;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "%s", "hcmus");
	snprintf(inst.name, sizeof(inst.name), "%s", "Institution hcmus");
	inst.kind = INST_UNIVERSITY;
	if (store_institution_add(st, &inst) != 0)
		return -1;
	inst_id = inst.id;
	if ((person_id = add_person(1)) < 0 || (other_id = add_person(2)) < 0)
		return -1;
	memset(&c, 0, sizeof(c));
	make_uid(c.uid, "0000000c", 1);
	c.institution_id = inst_id;
	snprintf(c.code, sizeof(c.code), "%s", "MTH101");
	snprintf(c.title, sizeof(c.title), "%s", "Giải tích 1");
	snprintf(c.language, sizeof(c.language), "%s", "vi");
	c.credits_x10 = 30;
	c.status = COURSE_DRAFT;
	c.owner_id = person_id;
	c.created_at = c.updated_at = NOW;
	if (store_course_add(st, &c, "mth101") != 0)
		return -1;
	course_id = c.id;
	memset(&m, 0, sizeof(m));
	make_uid(m.uid, "0000000d", 1);
	m.institution_id = inst_id;
	m.course_id = course_id;
	snprintf(m.sha256, sizeof(m.sha256), "%064d", 7);
	snprintf(m.type, sizeof(m.type), "%s", "application/pdf");
	m.size = 100;
	snprintf(m.kind, sizeof(m.kind), "%s", "document");
	m.created_by = person_id;
	m.created_at = NOW;
	if (store_material_add(st, &m) != 0)
		return -1;
	material_id = m.id;
	unit_video = add_unit("video", 1, 0);
	unit_doc = add_unit("document", 2, material_id);
	unit_text = add_unit("text", 3, 0);
	return unit_video > 0 && unit_doc > 0 && unit_text > 0 ? 0 : -1;
}

/* Edits: set watched to arg, position 42, percent 12.5. */
static int
edit_set(struct progress *row, const char *delivered, void *arg)
{
	char *w = strdup(arg);

	if (!w)
		return TC_ENOMEM;
	free(row->watched);
	row->watched = w;
	row->position_ms = 42;
	row->percent = 12.5;
	if (strcmp(delivered, "") != 0)
		row->completed_at = NOW;
	return 0;
}

static int
edit_return(struct progress *row, const char *delivered, void *arg)
{
	row->position_ms = 999;		/* must not be saved */
	return *(int *)arg;
}

static int
count_units(const struct progress_unit *u, void *arg)
{
	int *n = arg;

	n[0]++;
	if (u->p->exists)
		n[1]++;
	if (u->unit_id == unit_doc && u->material_id == material_id && u->required)
		n[2]++;
	return 0;
}

static int
count_rows(const struct progress *p, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int
count_doc_units(int64_t unit_id, const char *uid, int64_t course, void *arg)
{
	if (unit_id == unit_doc && course == course_id && strlen(uid) == 36)
		(*(int *)arg)++;
	return 0;
}

static int
edit_pace(struct progress *row, const char *delivered, void *arg)
{
	const int64_t *v = arg;

	(void)delivered;
	if (v[0] == -1)
		return row->pace_ms == 0 && row->pace_at == 0 ? PROGRESS_UNCHANGED : TC_EINVALID;
	row->pace_ms = v[0];
	row->pace_at = v[1];
	return 0;
}

/* The pace credit (migration 24) is kept with the row. */
static void
test_pace(void)
{
	int64_t blank[2] = { -1, -1 }, set[2] = { 12345, (int64_t)1 << 42 };
	struct progress p;

	is_int(store_progress_edit(st, other_id, unit_video, course_id, 0, NOW, edit_pace, blank,
				   NULL), 0, "a new row's pace: 0, never reckoned");
	is_int(store_progress_edit(st, other_id, unit_video, course_id, 0, NOW, edit_pace, set,
				   NULL), 0, "pace set");
	is_int(store_progress_get(st, other_id, unit_video, &p), 0, "read back");
	ok(p.pace_ms == 12345 && p.pace_at == (int64_t)1 << 42, "pace_ms and pace_at kept");
	store_progress_cleanup(&p);
}

static void
test_edit(void)
{
	struct progress p;
	int added = 0;
	int rc, n[3] = { 0 }, k = 0;

	is_int(store_progress_get(st, person_id, unit_video, &p), TC_ENOTFOUND, "no row yet");
	is_int(store_progress_edit(st, person_id, unit_video, course_id, 0, NOW, edit_set,
				   "0-5000", &p), 0, "first edit makes the row");
	ok(p.exists && strcmp(p.watched, "0-5000") == 0 && p.updated_at == NOW, "saved row out");
	store_progress_cleanup(&p);
	is_int(store_progress_get(st, person_id, unit_video, &p), 0, "row read back");
	is_str(p.watched, "0-5000", "watched");
	is_int(p.position_ms, 42, "position");
	ok(p.percent > 12.49 && p.percent < 12.51, "percent (a real)");
	is_int(p.course_id, course_id, "course");
	is_int(p.completed_at, 0, "not completed");
	store_progress_cleanup(&p);

	rc = PROGRESS_UNCHANGED;
	is_int(store_progress_edit(st, person_id, unit_video, course_id, 0, NOW + 5, edit_return,
				   &rc, &p), 0, "unchanged edit");
	is_int(p.position_ms, 999, "the caller sees what the edit did");
	store_progress_cleanup(&p);
	store_progress_get(st, person_id, unit_video, &p);
	ok(p.position_ms == 42 && p.updated_at == NOW, "but nothing was saved");
	store_progress_cleanup(&p);
	rc = TC_EINVALID;
	is_int(store_progress_edit(st, person_id, unit_video, course_id, 0, NOW + 5, edit_return,
				   &rc, &p), TC_EINVALID, "an edit's error is returned");
	ok(p.watched == NULL && p.exists == 0, "OUT is blank on failure");
	store_progress_get(st, person_id, unit_video, &p);
	is_int(p.position_ms, 42, "rolled back");
	store_progress_cleanup(&p);
	is_int(store_progress_edit(st, person_id, 999999, course_id, 0, NOW, edit_set, "0-1", NULL),
	       TC_ENOTFOUND, "unknown unit: the foreign key refuses");
	is_int(store_progress_edit(st, 0, unit_video, course_id, 0, NOW, edit_set, "0-1", NULL),
	       TC_EINVALID, "bad person id");

	/* deliveries feed the edit */
	is_int(store_delivery_add(st, person_id, material_id, 0, 6000, NOW), 0, "delivered 0-6000");
	is_int(store_delivery_add(st, person_id, material_id, 6000, 12000, NOW), 0, "and 6000-12000");
	is_int(store_delivery_add(st, person_id, material_id, 3000, 4000, NOW), 0, "inside: no-op");
	is_int(store_delivery_add(st, person_id, material_id, 20000, 26000, NOW), 0, "a gap");
	is_int(store_delivery_add(st, person_id, material_id, 5, 5, NOW), TC_EINVALID, "empty span");
	is_int(store_delivery_add(st, person_id, 424242, 0, 5, NOW), TC_ENOTFOUND,
	       "unknown material");
	{
		char *d = NULL;

		is_int(store_delivery_get(st, person_id, material_id, &d), 0, "read deliveries");
		is_str(d, "0-12000,20000-26000", "merged");
		free(d);
		is_int(store_delivery_get(st, other_id, material_id, &d), 0, "another person");
		is_str(d, "", "has none");
		free(d);
	}
	is_int(store_progress_edit(st, person_id, unit_doc, course_id, material_id, NOW, edit_set,
				   "", &p), 0, "edit with a material");
	is_int(p.completed_at, NOW, "the edit saw the delivered ranges");
	store_progress_cleanup(&p);
	is_int(store_progress_edit(st, other_id, unit_doc, course_id, material_id, NOW, edit_set,
				   "", &p), 0, "other person");
	is_int(p.completed_at, 0, "saw none");
	store_progress_cleanup(&p);

	is_int(store_progress_units_each(st, person_id, course_id, count_units, n), 0, "units");
	is_int(n[0], 3, "every unit listed");
	is_int(n[1], 2, "two started");
	is_int(n[2], 1, "document unit with its material, required");
	k = 0;
	is_int(store_progress_course_each(st, course_id, count_rows, &k), 0, "course rows");
	is_int(k, 3, "three rows in the course");
	k = 0;
	is_int(store_progress_units_of_material(st, material_id, count_doc_units, &k), 0, "doc units");
	is_int(k, 1, "the document unit uses the material");

	/* reports: only people enrolled now, a person range, one unit */
	k = 0;
	is_int(store_progress_report_each(st, course_id, 0, 0, INT64_MAX, count_rows, &k), 0,
	       "report rows");
	is_int(k, 0, "nobody enrolled: no report rows");
	ok(store_enrol(st, course_id, person_id, NOW, &added) == 0 &&
	   store_enrol(st, course_id, other_id, NOW, &added) == 0, "both enrol");
	k = 0;
	store_progress_report_each(st, course_id, 0, 0, INT64_MAX, count_rows, &k);
	is_int(k, 3, "every row of the enrolled");
	k = 0;
	store_progress_report_each(st, course_id, unit_doc, 0, INT64_MAX, count_rows, &k);
	is_int(k, 2, "one unit's rows");
	k = 0;
	store_progress_report_each(st, course_id, 0, person_id < other_id ? person_id : other_id,
				   INT64_MAX, count_rows, &k);
	is_int(k, person_id < other_id ? 1 : 2, "rows after a person id");
	k = 0;
	store_progress_report_each(st, course_id, 0, 0, person_id, count_rows, &k);
	is_int(k, person_id < other_id ? 2 : 3, "rows up to a person id");
	ok(store_unenrol(st, course_id, other_id, NOW) == 0, "one leaves");
	k = 0;
	store_progress_report_each(st, course_id, unit_doc, 0, INT64_MAX, count_rows, &k);
	is_int(k, 1, "who left is not reported");
	is_int(store_progress_report_each(st, course_id, 0, 0, INT64_MAX, NULL, NULL), TC_EINVALID,
	       "no callback");

	is_int(store_unit_delete(st, unit_doc), 0, "a unit with progress can be deleted");
	k = 0;
	store_progress_course_each(st, course_id, count_rows, &k);
	is_int(k, 1, "its progress rows went with it");
}

/* Edits: one more millisecond of position each time. */
static int
edit_count(struct progress *row, const char *delivered, void *arg)
{
	row->position_ms++;
	return 0;
}

/* store_progress_edit_in: edits of one caller's transaction see each other
 * and go (or stay) with it. */
static void
test_edit_in(void)
{
	struct progress p;

	ok(store_begin(st) == 0, "a batch's transaction");
	is_int(store_progress_edit_in(st, other_id, unit_text, course_id, 0, NOW, edit_count, NULL,
				      &p), 0, "edit inside it");
	is_int(p.position_ms, 1, "first edit");
	store_progress_cleanup(&p);
	is_int(store_progress_edit_in(st, other_id, unit_text, course_id, 0, NOW, edit_count, NULL,
				      &p), 0, "second edit");
	is_int(p.position_ms, 2, "the second edit reads the first one's row");
	store_progress_cleanup(&p);
	ok(store_rollback(st) == 0, "roll the batch back");
	is_int(store_progress_get(st, other_id, unit_text, &p), TC_ENOTFOUND,
	       "nothing of a rolled back batch stays");

	ok(store_begin(st) == 0, "another batch");
	is_int(store_progress_edit_in(st, other_id, unit_text, course_id, 0, NOW, edit_count, NULL,
				      NULL), 0, "edit");
	is_int(store_progress_edit_in(st, other_id, unit_text, course_id, 0, NOW, edit_count, NULL,
				      NULL), 0, "edit again");
	is_int(store_progress_edit_in(st, other_id, unit_text, 0, 0, NOW, edit_count, NULL, NULL),
	       TC_EINVALID, "a bad argument fails the edit alone");
	ok(store_commit(st) == 0, "commit the batch");
	is_int(store_progress_get(st, other_id, unit_text, &p), 0, "the row is there");
	is_int(p.position_ms, 2, "with both edits");
	store_progress_cleanup(&p);
}

struct mine {
	int n;
	char uid[4][40];
	int64_t at[4];
};

static int
collect_mine(const struct course *c, int64_t enrolled_at, void *arg)
{
	struct mine *m = arg;

	if (m->n < 4) {
		snprintf(m->uid[m->n], sizeof(m->uid[0]), "%s", c->uid);
		m->at[m->n] = enrolled_at;
	}
	m->n++;
	return 0;
}

static int
stop_mine(const struct course *c, int64_t enrolled_at, void *arg)
{
	(void)c;
	(void)enrolled_at;
	(void)arg;
	return TC_ENOTFOUND;
}

/* store_my_courses_each: the courses a person is enrolled in now, latest first */
static void
test_my_courses(void)
{
	struct mine m;
	struct course c, first;
	int added = 0;

	memset(&m, 0, sizeof(m));
	is_int(store_my_courses_each(st, other_id, 10, collect_mine, &m), 0, "my courses of who left");
	is_int(m.n, 0, "a course left is not listed");
	memset(&c, 0, sizeof(c));
	store_course_get_id(st, course_id, &first);
	make_uid(c.uid, "0000000c", 2);
	c.institution_id = inst_id;
	snprintf(c.code, sizeof(c.code), "%s", "MTH102");
	snprintf(c.title, sizeof(c.title), "%s", "Giải tích 2");
	snprintf(c.language, sizeof(c.language), "%s", "vi");
	c.credits_x10 = 30;
	c.status = COURSE_DRAFT;
	c.owner_id = person_id;
	c.created_at = c.updated_at = NOW;
	ok(store_course_add(st, &c, "mth102") == 0 &&
	   store_enrol(st, c.id, person_id, NOW + 60, &added) == 0 && added, "a second course, enrolled later");
	memset(&m, 0, sizeof(m));
	is_int(store_my_courses_each(st, person_id, 10, collect_mine, &m), 0, "my courses");
	ok(m.n == 2 && strcmp(m.uid[0], c.uid) == 0 && m.at[0] == NOW + 60 &&
	   strcmp(m.uid[1], first.uid) == 0 && m.at[1] == NOW,
	   "both, the latest enrolment first, with their enrolment times");
	memset(&m, 0, sizeof(m));
	store_my_courses_each(st, person_id, 1, collect_mine, &m);
	is_int(m.n, 1, "LIMIT is kept");
	is_int(store_my_courses_each(st, person_id, 10, stop_mine, NULL), TC_ENOTFOUND,
	       "a callback's error stops and is returned");
	is_int(store_my_courses_each(st, person_id, 0, collect_mine, &m), TC_EINVALID, "limit 0");
	is_int(store_my_courses_each(st, person_id, 1001, collect_mine, &m), TC_EINVALID, "limit 1001");
	is_int(store_my_courses_each(st, person_id, 10, NULL, NULL), TC_EINVALID, "no callback");
	ok(store_unenrol(st, c.id, person_id, NOW + 90) == 0, "leaves the second");
	memset(&m, 0, sizeof(m));
	store_my_courses_each(st, person_id, 10, collect_mine, &m);
	ok(m.n == 1 && strcmp(m.uid[0], first.uid) == 0, "only the first is left");
}

struct taught {
	char uid[4][37];
	int n;
};

static int
collect_taught(const struct course *c, void *arg)
{
	struct taught *m = arg;

	if (m->n < 4)
		snprintf(m->uid[m->n], sizeof(m->uid[0]), "%s", c->uid);
	m->n++;
	return 0;
}

static int
stop_taught(const struct course *c, void *arg)
{
	(void)c;
	(void)arg;
	return TC_ENOTFOUND;
}

/* store_teaching_each: the courses a person owns or co-teaches, newest first */
static void
test_teaching(void)
{
	struct taught m;
	struct course first;
	int64_t none = other_id + 1000;

	store_course_get_id(st, course_id, &first);
	memset(&m, 0, sizeof(m));
	is_int(store_teaching_each(st, person_id, 10, collect_taught, &m), 0, "courses taught");
	ok(m.n == 2 && strcmp(m.uid[1], first.uid) == 0 && strcmp(m.uid[0], first.uid) != 0,
	   "the owner's two courses, drafts included, the newest first");
	memset(&m, 0, sizeof(m));
	store_teaching_each(st, other_id, 10, collect_taught, &m);
	is_int(m.n, 0, "a learner of a course does not teach it");
	ok(store_course_lecturer_add(st, course_id, other_id) == 0, "a co-lecturer is added");
	memset(&m, 0, sizeof(m));
	store_teaching_each(st, other_id, 10, collect_taught, &m);
	ok(m.n == 1 && strcmp(m.uid[0], first.uid) == 0, "the co-lecturer's course, and only it");
	memset(&m, 0, sizeof(m));
	store_teaching_each(st, person_id, 1, collect_taught, &m);
	is_int(m.n, 1, "LIMIT is kept");
	memset(&m, 0, sizeof(m));
	store_teaching_each(st, none, 10, collect_taught, &m);
	is_int(m.n, 0, "nobody: nothing");
	is_int(store_teaching_each(st, person_id, 10, stop_taught, NULL), TC_ENOTFOUND,
	       "a callback's error stops and is returned");
	is_int(store_teaching_each(st, person_id, 0, collect_taught, &m), TC_EINVALID, "limit 0");
	is_int(store_teaching_each(st, person_id, 1001, collect_taught, &m), TC_EINVALID, "limit 1001");
	is_int(store_teaching_each(st, person_id, 10, NULL, NULL), TC_EINVALID, "no callback");
}

int
main(void)
{
	const char *base = getenv("TMPDIR");
	char data[560];
	int v = 0;

	log_set_level(LOG_ERROR);
	snprintf(tmp, sizeof(tmp), "%s/tinchi-progress-XXXXXX", base && base[0] ? base : "/tmp");
	if (mkdtemp(tmp) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 || setup() != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	ok(store_schema_version(st, &v) == 0 && v >= 7, "schema at migration 7 or later");
	test_edit();
	test_edit_in();
	test_my_courses();
	test_teaching();
	test_pace();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
