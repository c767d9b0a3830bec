/*
 * records.c - the platform's own learning records (records.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "courses/course.h"
#include "courses/errors.h"
#include "courses/learning_record.h"
#include "courses/log.h"
#include "server/api_xapi.h"
#include "server/app.h"
#include "server/records.h"
#include "storage/courses.h"
#include "storage/identity.h"

/* Stores statement S (stolen) for the institution of course C. */
static void
record(struct app *app, const struct course *c, json_t *s, const char *what)
{
	char id[37];
	int rc = s ? lrs_record(app, c->institution_id, s, id) : TC_ENOMEM;

	if (rc)
		log_warn("learning record (%s) for course %s not stored: %s", what, c->uid,
			 tc_strerror(rc));
	json_decref(s);
}

/* Who and where: the person's uid and the platform's address. */
static int
actor(struct app *app, int64_t person_id, char *uid, size_t uidlen, char *base, size_t baselen)
{
	struct person p;

	if (store_person_get(app->store, person_id, &p) != 0)
		return TC_ENOTFOUND;
	snprintf(uid, uidlen, "%s", p.uid);
	lrs_home_page(app, base, baselen);
	return 0;
}

void
records_unit_completed(struct app *app, int64_t person_id, const struct unit *u)
{
	struct course c;
	char who[37], base[512];
	struct lr_activity a = { u->kind, u->uid, NULL, u->title, NULL, NULL };
	struct lr_result r = { .has_completion = 1, .completion = 1, .progress = 100 };

	if (store_course_get_id(app->store, u->course_id, &c) ||
	    actor(app, person_id, who, sizeof(who), base, sizeof(base)))
		return;
	a.course_uid = c.uid;
	a.lang = c.language[0] ? c.language : NULL;
	record(app, &c, lr_statement(base, who, LR_COMPLETED, &a, &r, time(NULL)), "unit completed");
}

void
records_quiz_graded(struct app *app, int64_t person_id, const struct unit *u,
		    double score, double max, int passed, const json_t *detail)
{
	struct course c;
	char who[37], base[512];
	int64_t now = time(NULL);
	struct lr_activity a = { "quiz", u->uid, NULL, u->title, NULL, NULL };
	struct lr_result r = { .has_score = 1, .raw = score, .max = max, .has_success = 1,
			       .success = passed, .progress = -1 };
	size_t i;
	json_t *q;

	if (store_course_get_id(app->store, u->course_id, &c) ||
	    actor(app, person_id, who, sizeof(who), base, sizeof(base)))
		return;
	a.course_uid = c.uid;
	a.lang = c.language[0] ? c.language : NULL;
	/* each question: its score and success, never the learner's response
	 * (every LRS credential of the institution would read the answers, and
	 * option ids mean nothing outside the attempt). One statement, one
	 * commit: lrs_record opens its own transaction, so they cannot share one. */
	json_array_foreach(detail, i, q) {
		const char *qid = json_string_value(json_object_get(q, "id"));
		struct lr_activity qa = { "question", u->uid, qid, NULL, a.lang, c.uid };
		struct lr_result qr = { .has_score = 1,
					.raw = json_number_value(json_object_get(q, "points")),
					.max = json_number_value(json_object_get(q, "max")),
					.has_success = 1,
					.success = json_is_true(json_object_get(q, "correct")),
					.progress = -1 };

		if (qid)
			record(app, &c, lr_statement(base, who, LR_ANSWERED, &qa, &qr, now),
			       "question answered");
	}
	record(app, &c, lr_statement(base, who, LR_SCORED, &a, &r, now), "quiz scored");
	record(app, &c, lr_statement(base, who, passed ? LR_PASSED : LR_FAILED, &a, &r, now),
	       passed ? "quiz passed" : "quiz failed");
}

void
records_course_completed(struct app *app, int64_t person_id, const struct course *c,
			 int grade_x100, int passed)
{
	char who[37], base[512];
	struct lr_activity a = { "course", c->uid, NULL, c->title, NULL, NULL };
	struct lr_result r = { .has_score = 1, .raw = grade_x100 / 100.0, .max = 10,
			       .has_success = 1, .success = passed, .has_completion = 1,
			       .completion = 1, .progress = 100 };

	if (actor(app, person_id, who, sizeof(who), base, sizeof(base)))
		return;
	a.lang = c->language[0] ? c->language : NULL;
	record(app, c, lr_statement(base, who, LR_COMPLETED, &a, &r, time(NULL)),
	       "course completed");
}
