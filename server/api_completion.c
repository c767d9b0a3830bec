/*
 * api_completion.c - completion rules, grades and completions over HTTP.
 *
 *   GET  /api/v1/courses/{uid}/completion-rules   editors and enrolled learners
 *   PUT  /api/v1/courses/{uid}/completion-rules   editors (audited)
 *   GET  /api/v1/courses/{uid}/completions        editors: JSON or CSV, by learner
 *   GET  /api/v1/courses/{uid}/completion         the caller's own completion
 *   POST /api/v1/courses/{uid}/completion         evaluate the caller now
 *
 * and completion_check (api_completion.h), which records a completion once
 * and notifies the learner and the lecturers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/completion.h"
#include "courses/course.h"
#include "courses/csv.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/log.h"
#include "courses/quiz.h"
#include "server/api_completion.h"
#include "server/api_courses.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/issuing.h"
#include "server/problem.h"
#include "server/records.h"
#include "server/ws.h"
#include "storage/completion.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/progress.h"
#include "storage/quiz.h"

#define LECTURERS_MAX 64	/* notified of one completion */

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static int
append_json(const char *buf, size_t len, void *data)
{
	return dynbuf_append(data, buf, len) ? -1 : 0;
}

/* api_reply_json, with grades printed short (7.5, not 7.5000000000000001). */
static int
reply(struct http_response *resp, int status, json_t *o)
{
	int rc = 0;

	dynbuf_reset(&resp->body);
	if (!o || json_dump_callback(o, append_json, &resp->body,
				     JSON_COMPACT | JSON_REAL_PRECISION(12)) != 0)
		rc = TC_ENOMEM;
	json_decref(o);
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	resp->status = status;
	resp->content_type = "application/json";
	return 0;
}

static json_t *
grade_json(int grade_x100)
{
	return json_real(grade_x100 / 100.0);
}

static json_t *
time_json(int64_t t)
{
	char buf[32];

	if (t <= 0)
		return json_null();
	api_time(t, buf);
	return json_string(buf);
}

/*
 * Loads course {uid} for reading: *EDITOR when the caller may edit it.
 * Non-zero when RESP holds the refusal: 401 without identity, 404 when
 * absent or a draft the caller may not edit.
 */
static int
load_course(struct app *app, const struct http_request *req, struct http_response *resp,
	    struct course *c, int *editor)
{
	const char *uid = http_request_param(req, "uid");
	int teaches = 0, rc = uid ? store_course_get(app->store, uid, c) : TC_ENOTFOUND;

	*editor = 0;
	if (rc == 0 && req->actor.kind == ACTOR_NONE) {	/* 401 */
		api_allow(req, resp, AZ_COURSE_ENROL, 0);
		return 1;
	}
	if (rc == 0 && req->actor.kind == ACTOR_PERSON)
		rc = store_course_is_lecturer(app->store, c->id, req->actor.person_id, &teaches);
	if (rc == 0)
		*editor = authz_check_course(&req->actor, AZ_COURSE_EDIT, c->institution_id,
					     teaches) == 0;
	if (rc == 0 && c->status != COURSE_PUBLISHED && !*editor)
		rc = TC_ENOTFOUND;
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such course"), 1;
	if (rc)
		return problem_respond_err(resp, rc, NULL), 1;
	return 0;
}

/* Whether the caller is a person enrolled in C. */
static int
enrolled(struct app *app, const struct http_request *req, const struct course *c)
{
	int yes = 0;

	return req->actor.kind == ACTOR_PERSON &&
	       store_is_enrolled(app->store, c->id, req->actor.person_id, &yes) == 0 && yes;
}

/* ---- rules ---------------------------------------------------------------------- */

/* The rules of course C (stored, else the defaults) as the API shows them. */
static int
rules_view(struct app *app, const struct course *c, json_t **out)
{
	struct completion_rules_rec rec;
	struct completion_rules *r = NULL;
	char *text = NULL;
	json_t *rules = NULL;
	int rc = store_completion_rules_get(app->store, c->id, &rec), dflt = rc == TC_ENOTFOUND;

	*out = NULL;
	if (dflt) {
		rc = (r = calloc(1, sizeof(*r))) ? 0 : TC_ENOMEM;
		if (rc == 0) {
			completion_rules_default(r);
			rc = completion_rules_json(r, &text);
		}
	} else {
		text = rec.rules;
	}
	if (rc == 0 && !(rules = json_loads(text, 0, NULL)))
		rc = TC_EDB;	/* the store holds only canonical JSON */
	if (rc == 0 && !(*out = json_pack("{s:s, s:o, s:I, s:b, s:o}", "course", c->uid,
					  "rules", rules, "version",
					  (json_int_t)(dflt ? 0 : rec.version), "default", dflt,
					  "updated_at", time_json(dflt ? 0 : rec.updated_at))))
		rc = TC_ENOMEM;
	free(text);
	free(r);
	return rc;
}

static int
on_rules_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	json_t *o = NULL;
	int editor, rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (load_course(app, req, resp, c, &editor))
		goto out;
	if (!editor && !enrolled(app, req, c)) {
		problem_respond(resp, 403, NULL, "the completion rules are shown to the course's"
				" editors and enrolled learners");
		goto out;
	}
	if ((rc = rules_view(app, c, &o)))
		problem_respond_err(resp, rc, NULL);
	else
		reply(resp, 200, o);
out:
	free(c);
	return 0;
}

struct unit_list {
	size_t n, cap;
	struct completion_unit_state *u;
};

static int
add_unit(const struct unit *u, void *arg)
{
	struct unit_list *l = arg;
	struct completion_unit_state *s;

	if (GROW(&l->u, &l->cap, l->n + 1, 16))
		return TC_ENOMEM;
	s = &l->u[l->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->uid, sizeof(s->uid), "%s", u->uid);
	snprintf(s->kind, sizeof(s->kind), "%s", u->kind);
	snprintf(s->title, sizeof(s->title), "%s", u->title);
	s->required = u->required;
	return 0;
}

/* The best graded attempt of one quiz unit (by share of the maximum), in
 * thousandths of a point, and the first attempt that passed. */
struct best_attempt {
	struct completion_unit_state *st;
	int64_t score, max;
};

static int
on_attempt(const struct quiz_attempt *a, void *arg)
{
	struct best_attempt *b = arg;
	/* graded scores are whole thousandths (courses/quiz.h) */
	int64_t score = llround(a->score * 1000), max = llround(a->max_score * 1000);

	if (strcmp(a->state, "open") == 0 || max <= 0)
		return 0;
	b->st->attempts++;
	if (b->max <= 0 || score * b->max > b->score * max) {
		b->score = score;
		b->max = max;
		snprintf(b->st->attempt_uid, sizeof(b->st->attempt_uid), "%s", a->uid);
	}
	/* the verdict kept at grading, with the pass mark of that paper: a
	 * later edit of the quiz changes no old result */
	if (a->passed && !b->st->completed) {
		b->st->completed = 1;
		b->st->completed_at = a->submitted_at;
	}
	return 0;
}

/* Fills the quiz state of ST (unit UNIT_ID) for PERSON_ID: best attempt in
 * thousandths of a point, and completed from the first attempt that
 * passed (attempts come by number). */
static int
quiz_state(struct store *s, int64_t unit_id, int64_t person_id,
	   struct completion_unit_state *st)
{
	struct best_attempt b = { st, 0, 0 };
	int rc = store_attempts_each(s, unit_id, person_id, on_attempt, &b);

	if (rc == 0 && b.max > 0) {
		st->best_score = b.score;
		st->best_max = b.max;
	}
	return rc;
}

struct unit_fill {
	struct unit_list *l;
	struct store *s;
	int64_t person_id;
};

static int
fill_unit(const struct progress_unit *pu, void *arg)
{
	struct unit_fill *f = arg;
	struct completion_unit_state *st = NULL;

	for (size_t i = 0; i < f->l->n && !st; i++)
		if (strcmp(f->l->u[i].uid, pu->unit_uid) == 0)
			st = &f->l->u[i];
	if (!st)
		return 0;	/* a unit added between the two reads: next time */
	if (strcmp(pu->kind, "quiz") == 0)
		return quiz_state(f->s, pu->unit_id, f->person_id, st);
	if (pu->p && pu->p->exists && pu->p->completed_at) {
		st->completed = 1;
		st->completed_at = pu->p->completed_at;
	}
	return 0;
}

int
completion_units_load(struct store *s, int64_t course_id, int64_t person_id,
		      struct completion_unit_state **out, size_t *n)
{
	struct unit_list l = { 0 };
	struct unit_fill f = { &l, s, person_id };
	int rc = store_units_each(s, course_id, add_unit, &l);

	/* each unit's state for PERSON_ID: progress (videos, documents,
	 * texts) and the best graded quiz attempt */
	if (rc == 0 && person_id > 0)
		rc = store_progress_units_each(s, person_id, course_id, fill_unit, &f);
	if (rc) {
		free(l.u);
		l.u = NULL;
		l.n = 0;
	}
	*out = l.u;
	*n = l.n;
	return rc;
}

int
completion_video_threshold(struct store *s, int64_t course_id)
{
	struct completion_rules *r = calloc(1, sizeof(*r));
	struct completion_rules_rec rec = { 0 };
	char err[COMPLETION_ERR_MAX];
	int t = 0;

	if (r && store_completion_rules_get(s, course_id, &rec) == 0 &&
	    completion_rules_parse(rec.rules, strlen(rec.rules), r, err, sizeof(err)) == 0)
		t = r->video_threshold;
	free(rec.rules);
	free(r);
	if (!t) {
		struct completion_rules d;

		completion_rules_default(&d);
		t = d.video_threshold;
	}
	return t;
}

void
completion_after_change(struct app *app, int64_t person_id, int64_t course_id)
{
	struct completion_unit_state *units = NULL;
	size_t n = 0;
	int rc = completion_units_load(app->store, course_id, person_id, &units, &n);

	if (rc == 0)
		rc = completion_check(app, person_id, course_id, units, n, now_s(), NULL, NULL);
	if (rc)
		log_warn("completion of course %lld for person %lld not evaluated: %s",
			 (long long)course_id, (long long)person_id, tc_strerror(rc));
	free(units);
}

static const struct completion_unit_state *
find_unit(const struct unit_list *l, const char *uid)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->u[i].uid, uid) == 0)
			return &l->u[i];
	return NULL;
}

/* Checks that the units R names are units of the course (quizzes for
 * min_scores). 0, or non-zero with the 400 in RESP. */
static int
check_units(const struct completion_rules *r, const struct unit_list *l,
	    struct http_response *resp)
{
	char why[160];

	for (size_t i = 0; i < r->nmin; i++) {
		const struct completion_unit_state *u = find_unit(l, r->min_scores[i].unit_uid);

		if (!u || strcmp(u->kind, "quiz") != 0) {
			snprintf(why, sizeof(why), "min_scores.%s: %s", r->min_scores[i].unit_uid,
				 u ? "not a quiz unit (minimum scores are for quizzes)" :
				 "no such unit in this course");
			return problem_respond(resp, 400, NULL, why), 1;
		}
	}
	for (size_t i = 0; i < r->nweights; i++)
		if (!find_unit(l, r->weights[i].unit_uid)) {
			snprintf(why, sizeof(why), "weights.%s: no such unit in this course",
				 r->weights[i].unit_uid);
			return problem_respond(resp, 400, NULL, why), 1;
		}
	return 0;
}

static int
on_rules_put(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct completion_rules *r = calloc(1, sizeof(*r));
	struct unit_list units = { 0 };
	char err[COMPLETION_ERR_MAX], *text = NULL;
	json_t *body = NULL, *o = NULL;
	int64_t version = 0;
	int rc;

	if (!c || !r) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c) ||
	    api_read_json(req, resp, &body))
		goto out;
	if (req->actor.kind != ACTOR_PERSON) {
		problem_respond(resp, 403, NULL, "completion rules are set by a person");
		goto out;
	}
	if (completion_rules_parse(req->body.data, req->body.len, r, err, sizeof(err))) {
		problem_respond(resp, 400, NULL, err);
		goto out;
	}
	if ((rc = store_units_each(app->store, c->id, add_unit, &units))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	if (check_units(r, &units, resp))
		goto out;
	rc = completion_rules_json(r, &text);
	if (rc == 0)
		rc = store_completion_rules_put(app->store, c->id, text, req->actor.person_id,
						now_s(), &version);
	if (rc == 0)
		rc = rules_view(app, c, &o);
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, c->institution_id, "course.completion_rules", c->uid,
		  json_pack("{s:I}", "version", (json_int_t)version));
	reply(resp, 200, o);
out:
	json_decref(body);
	free(units.u);
	free(text);
	free(r);
	free(c);
	return 0;
}

/* ---- completions ------------------------------------------------------------------ */

/* A grade as text: "7.5", "10.0", "7.25". */
static void
grade_text(int x100, char out[8])
{
	completion_grade_format(x100, x100 % 10 ? 25 : 10, out);
}

struct list_ctx {
	json_t *list;
	struct dynbuf *csv;
	int64_t last;
	int n;
};

static int
add_completion(const struct completion_rec *c, void *arg)
{
	struct list_ctx *l = arg;
	char at[32], g[8], p[16];

	api_time(c->completed_at, at);
	l->last = c->person_id;
	l->n++;
	if (l->csv) {
		grade_text(c->grade_x100, g);
		snprintf(p, sizeof(p), "%d.%d", c->percent_x10 / 10, c->percent_x10 % 10);
		return csv_put_field(l->csv, c->person_uid, 0) || csv_put_field(l->csv, c->full_name, 0) ||
		       csv_put_field(l->csv, g, 0) || csv_put_field(l->csv, p, 0) ||
		       csv_put_field(l->csv, c->letter, 0) ||
		       csv_put_field(l->csv, c->passed ? "yes" : "no", 0) ||
		       csv_put_field(l->csv, at, 1) ? TC_ENOMEM : 0;
	}
	return json_array_append_new(l->list, json_pack("{s:s, s:s, s:o, s:o, s:s?, s:b, s:s, s:I}",
		"learner", c->person_uid, "full_name", c->full_name,
		"grade", grade_json(c->grade_x100), "percent", json_real(c->percent_x10 / 10.0),
		"letter", c->letter[0] ? c->letter : NULL, "passed", c->passed,
		"completed_at", at, "rules_version", (json_int_t)c->rules_version))
		? TC_ENOMEM : 0;
}

static int
on_completions(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct list_ctx l = { 0 };
	int64_t after, limit;
	char format[8] = "json";
	int rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c))
		goto out;
	if (api_query_int(req, "after", 0, 0, INT64_MAX, &after) ||
	    api_query_int(req, "limit", 100, 1, 100000, &limit) ||
	    api_query(req, "format", format, sizeof(format)) == TC_EINVALID ||
	    (strcmp(format, "json") && strcmp(format, "csv"))) {
		problem_respond(resp, 400, NULL, "query: after=N, limit=1..100000, format=json|csv");
		goto out;
	}
	if (strcmp(format, "csv") == 0) {
		l.csv = &resp->body;
		dynbuf_reset(l.csv);
		dynbuf_puts(l.csv, "learner_uid,full_name,grade,percent,letter,passed,completed_at\r\n");
	} else if (!(l.list = json_array())) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	rc = store_completions_each(app->store, c->id, after, (int)limit, add_completion, &l);
	if (rc) {
		json_decref(l.list);
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	if (l.csv) {
		resp->status = 200;
		resp->content_type = "text/csv; charset=utf-8";
		http_response_header(resp, "content-disposition",
				     "attachment; filename=\"completions.csv\"");
	} else {
		json_t *o = json_pack("{s:s, s:o}", "course", c->uid, "completions", l.list);

		if (o && l.n == limit)
			json_object_set_new(o, "next_after", json_integer(l.last));
		reply(resp, 200, o);
	}
out:
	free(c);
	return 0;
}

/* The caller's completion of C as JSON, or NULL (TC_ENOTFOUND in *RC). */
static json_t *
completion_json(struct app *app, const struct course *c, int64_t person_id, int *rc)
{
	struct completion_rec rec;
	json_t *o = NULL, *ev;

	*rc = store_completion_get(app->store, c->id, person_id, &rec);
	if (*rc)
		return NULL;
	ev = json_loads(rec.evidence, 0, NULL);
	o = json_pack("{s:s, s:b, s:o, s:o, s:s?, s:b, s:o, s:I, s:o}", "course", c->uid,
		      "completed", 1, "grade", grade_json(rec.grade_x100),
		      "percent", json_real(rec.percent_x10 / 10.0),
		      "letter", rec.letter[0] ? rec.letter : NULL, "passed", rec.passed,
		      "completed_at", time_json(rec.completed_at),
		      "rules_version", (json_int_t)rec.rules_version,
		      "evidence", ev ? ev : json_null());
	free(rec.evidence);
	if (!o)
		*rc = TC_ENOMEM;
	return o;
}

static int
on_mine(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	json_t *o;
	int editor, rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_allow(req, resp, AZ_COURSE_ENROL, 0) || load_course(app, req, resp, c, &editor))
		goto out;
	o = completion_json(app, c, req->actor.person_id, &rc);
	if (rc == TC_ENOTFOUND)
		problem_respond(resp, 404, NULL, "not completed yet");
	else if (rc)
		problem_respond_err(resp, rc, NULL);
	else
		reply(resp, 200, o);
out:
	free(c);
	return 0;
}

/* POST: evaluates the caller (an enrolled learner) now, with what is known
 * of their progress; 201 when this completed the course, 200 otherwise. */
static int
on_check(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct completion_result res = { 0 };
	struct completion_unit_state *units = NULL;
	size_t n = 0;
	json_t *o = NULL, *why;
	int editor, created = 0, rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_allow(req, resp, AZ_COURSE_ENROL, 0) || load_course(app, req, resp, c, &editor))
		goto out;
	if (!enrolled(app, req, c)) {
		problem_respond(resp, 409, NULL, "you are not enrolled in this course");
		goto out;
	}
	rc = completion_units_load(app->store, c->id, req->actor.person_id, &units, &n);
	if (rc == 0)
		rc = completion_check(app, req->actor.person_id, c->id, units, n, now_s(), &res,
				      &created);
	if (rc == 0 && res.met) {
		o = completion_json(app, c, req->actor.person_id, &rc);
	} else if (rc == 0) {
		char g[8];

		why = json_array();
		for (int i = 0; why && i < res.nreasons; i++)
			json_array_append_new(why, json_string(res.reasons[i]));
		if (why && res.more_reasons)
			json_array_append_new(why, json_sprintf("and %d more", res.more_reasons));
		grade_text(res.grade_x100, g);
		o = json_pack("{s:s, s:b, s:o, s:o, s:o}", "course", c->uid, "completed", 0,
			      "reasons", why ? why : json_array(),
			      "grade", grade_json(res.grade_x100),
			      "percent", json_real(res.percent_x10 / 10.0));
		if (!o)
			rc = TC_ENOMEM;
	}
	if (rc)
		problem_respond_err(resp, rc, NULL);
	else
		reply(resp, created ? 201 : 200, o);
out:
	completion_result_cleanup(&res);
	free(units);
	free(c);
	return 0;
}

/* ---- completion_check ------------------------------------------------------------- */

static char *
event_text(const char *type, const struct course *c, const struct person *p,
	   const struct completion_result *res, int64_t rules_version, int64_t now, int full)
{
	json_t *o = json_pack("{s:s, s:s, s:o, s:s?, s:b}", "type", type, "course", c->uid,
			      "grade", grade_json(res->grade_x100),
			      "letter", res->letter[0] ? res->letter : NULL, "passed", res->passed);
	char *text = NULL;

	if (o && p) {
		json_object_set_new(o, "learner", json_string(p->uid));
		json_object_set_new(o, "full_name", json_string(p->full_name));
	}
	if (o && full) {	/* the outbox event: what the credential needs */
		json_object_set_new(o, "percent", json_real(res->percent_x10 / 10.0));
		json_object_set_new(o, "rules_version", json_integer(rules_version));
		json_object_set_new(o, "completed_at", time_json(now));
	}
	if (o)
		text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
	json_decref(o);
	return text;
}

static void
notify(struct app *app, const struct course *c, const struct person *p,
       const struct completion_result *res)
{
	int64_t ids[LECTURERS_MAX];
	char *mine = event_text("course.completed", c, NULL, res, 0, 0, 0);
	char *theirs = event_text("course.completion", c, p, res, 0, 0, 0);
	int n = 0;

	if (mine)
		ws_notify_person(app->ws, p->id, mine, strlen(mine));
	if (theirs && store_completion_lecturers(app->store, c->id, ids, LECTURERS_MAX, &n) == 0)
		for (int i = 0; i < n; i++)
			ws_notify_person(app->ws, ids[i], theirs, strlen(theirs));
	if (!mine || !theirs)
		log_warn("completion of %s: could not notify (out of memory)", c->uid);
	free(mine);
	free(theirs);
}

/* *YES: PERSON_ID is enrolled in C and C is published. */
static int
still_enrolled(struct store *s, const struct course *c, int64_t person_id, int *yes)
{
	*yes = 0;
	if (c->status != COURSE_PUBLISHED)
		return 0;
	return store_is_enrolled(s, c->id, person_id, yes);
}

int
completion_check(struct app *app, int64_t person_id, int64_t course_id,
		 const struct completion_unit_state *units, size_t n, int64_t now,
		 struct completion_result *result, int *created)
{
	struct course *c = calloc(1, sizeof(*c));
	struct completion_rules *r = calloc(1, sizeof(*r));
	struct completion_rules_rec rec = { 0 };
	struct completion_result local = { 0 }, *res = result ? result : &local;
	struct completion_rec cr;
	struct person p;
	char *payload = NULL, err[COMPLETION_ERR_MAX];
	int made = 0, enrolled = 0, rc = c && r ? 0 : TC_ENOMEM;

	if (result)
		memset(result, 0, sizeof(*result));
	if (rc == 0)
		rc = store_course_get_id(app->store, course_id, c);
	if (rc == 0)
		rc = store_person_get(app->store, person_id, &p);
	if (rc == 0) {
		rc = store_completion_rules_get(app->store, course_id, &rec);
		if (rc == TC_ENOTFOUND) {
			completion_rules_default(r);
			rc = 0;
		} else if (rc == 0 &&
			   completion_rules_parse(rec.rules, strlen(rec.rules), r, err, sizeof(err))) {
			log_err("course %s: stored completion rules do not parse: %s", c->uid, err);
			rc = TC_EDB;
		}
	}
	if (rc == 0)
		rc = completion_evaluate(r, units, n, res);
	/* recorded only for a learner enrolled now in the published course (an
	 * attempt expired by an editor's look after the learner left is graded,
	 * and completes nothing) */
	if (rc == 0 && res->met)
		rc = still_enrolled(app->store, c, person_id, &enrolled);
	if (rc == 0 && res->met && enrolled) {
		memset(&cr, 0, sizeof(cr));
		cr.course_id = course_id;
		cr.person_id = person_id;
		cr.grade_x100 = res->grade_x100;
		cr.percent_x10 = res->percent_x10;
		snprintf(cr.letter, sizeof(cr.letter), "%s", res->letter);
		cr.passed = res->passed;
		cr.rules_version = rec.version;
		cr.completed_at = now;
		cr.evidence = res->evidence;
		payload = event_text("course.completed", c, &p, res, rec.version, now, 1);
		rc = payload ? store_completion_record(app->store, &cr, "course.completed", payload,
						       &made) : TC_ENOMEM;
	}
	if (rc == 0 && made) {
		log_info("course %s completed by %s: grade %d/100", c->uid, p.uid, res->grade_x100);
		if (app->ws)
			notify(app, c, &p, res);
		records_course_completed(app, person_id, c, res->grade_x100, res->passed);
		/* its credential, now (failures stay in the outbox for the next run) */
		if (issuing_run_new(app, NULL))
			log_warn("course %s: the credential waits in the outbox", c->uid);
	}
	if (created)
		*created = rc == 0 && made;
	completion_result_cleanup(&local);
	free(payload);
	free(rec.rules);
	free(r);
	free(c);
	return rc;
}

const struct route api_completion_routes[] = {
	{ HTTP_GET, "/api/v1/courses/{uid}/completion-rules", on_rules_get, "completion_rules_get" },
	{ HTTP_PUT, "/api/v1/courses/{uid}/completion-rules", on_rules_put, "completion_rules_put" },
	{ HTTP_GET, "/api/v1/courses/{uid}/completions", on_completions, "completions" },
	{ HTTP_GET, "/api/v1/courses/{uid}/completion", on_mine, "completion_get" },
	{ HTTP_POST, "/api/v1/courses/{uid}/completion", on_check, "completion_check" },
};
const size_t api_completion_routes_count =
	sizeof(api_completion_routes) / sizeof(api_completion_routes[0]);
