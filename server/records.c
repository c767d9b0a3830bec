/*
 * records.c - the platform's own learning records (records.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "courses/course.h"
#include "courses/errors.h"
#include "courses/learning_record.h"
#include "courses/log.h"
#include "server/api_xapi.h"
#include "server/app.h"
#include "server/records.h"
#include "storage/completion.h"
#include "storage/courses.h"
#include "storage/identity.h"

/* Stores statement S (stolen) for the institution of course C; IN_TX: in
 * the transaction the caller holds on app->store. */
static void
record_in(struct app *app, const struct course *c, json_t *s, const char *what, int in_tx)
{
	char id[37];
	int rc = !s ? TC_ENOMEM : in_tx ? lrs_record_in(app, app->store, c->institution_id, s, id)
				       : lrs_record(app, c->institution_id, s, id);

	if (rc)
		log_warn("learning record (%s) for course %s not stored: %s", what, c->uid,
			 tc_strerror(rc));
	json_decref(s);
}

static void
record(struct app *app, const struct course *c, json_t *s, const char *what)
{
	record_in(app, c, s, what, 0);
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
	int in_tx;

	if (store_course_get_id(app->store, u->course_id, &c) ||
	    actor(app, person_id, who, sizeof(who), base, sizeof(base)))
		return;
	a.course_uid = c.uid;
	a.lang = c.language[0] ? c.language : NULL;
	/* each question: its score and success, never the learner's response
	 * (every LRS credential of the institution would read the answers, and
	 * option ids mean nothing outside the attempt). One commit for the
	 * whole grading, not one per question. */
	in_tx = store_begin(app->store) == 0;
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
			record_in(app, &c, lr_statement(base, who, LR_ANSWERED, &qa, &qr, now),
				  "question answered", in_tx);
	}
	record_in(app, &c, lr_statement(base, who, LR_SCORED, &a, &r, now), "quiz scored", in_tx);
	record_in(app, &c, lr_statement(base, who, passed ? LR_PASSED : LR_FAILED, &a, &r, now),
		  passed ? "quiz passed" : "quiz failed", in_tx);
	if (in_tx && store_commit(app->store) != 0) {
		store_rollback(app->store);
		log_warn("learning records of a quiz attempt on %s not stored", u->uid);
	}
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

#define DEFERRED "xapi.statement"

int
records_defer(struct store *st, int64_t institution_id, int64_t course_id, int64_t person_id,
	      const json_t *stmt, int64_t now)
{
	json_t *o = json_pack("{s:I, s:O}", "institution", (json_int_t)institution_id,
			      "statement", (json_t *)stmt);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = text ? store_outbox_add(st, DEFERRED, course_id, person_id, text, now, NULL)
		      : TC_ENOMEM;

	free(text);
	json_decref(o);
	return rc;
}

struct pending {
	int n, max;
	int64_t *ids;
	char **payloads;
};

static int
take(const struct outbox_event *e, void *arg)
{
	struct pending *p = arg;

	if (p->n >= p->max)
		return 1;
	if (!(p->payloads[p->n] = strdup(e->payload)))
		return TC_ENOMEM;
	p->ids[p->n++] = e->id;
	return 0;
}

int
records_drain(struct app *app, struct store *st, int max, int *done)
{
	struct pending p = { 0, max, calloc((size_t)max, sizeof(int64_t)),
			     calloc((size_t)max, sizeof(char *)) };
	int rc = p.ids && p.payloads ? 0 : TC_ENOMEM, open = 0;

	*done = 0;
	if (rc == 0 && (rc = store_begin(st)) == 0)
		open = 1;
	if (rc == 0) {
		rc = store_outbox_each(st, DEFERRED, 0, max, take, &p);
		if (rc == 1)
			rc = 0;
	}
	for (int i = 0; rc == 0 && i < p.n; i++) {
		json_t *o = json_loads(p.payloads[i], 0, NULL);
		json_t *stmt = json_object_get(o, "statement");
		int64_t inst = json_integer_value(json_object_get(o, "institution"));
		char id[37];
		int r = stmt && inst > 0 ? lrs_record_in(app, st, inst, stmt, id) : TC_EINVALID;

		json_decref(o);
		if (r == TC_EINVALID || r == TC_ECONFLICT)
			log_warn("learning record %lld dropped: %s", (long long)p.ids[i],
				 tc_strerror(r));
		else if (r)
			rc = r;
		if (rc == 0)
			rc = store_outbox_delete(st, p.ids[i]);
	}
	if (open && rc == 0)
		rc = store_commit(st);
	if (open && rc)
		store_rollback(st);
	if (rc == 0)
		*done = p.n;
	for (int i = 0; i < p.n; i++)
		free(p.payloads[i]);
	free(p.payloads);
	free(p.ids);
	return rc;
}
