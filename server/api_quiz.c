/*
 * api_quiz.c - quizzes over HTTP.
 *
 *   PUT  /api/v1/units/{uid}/quiz          editors set the whole definition
 *   GET  /api/v1/units/{uid}/quiz          editors: the definition with answers
 *                                          (null, version 0, before the first PUT);
 *                                          enrolled learners: settings and their attempts
 *   POST /api/v1/units/{uid}/attempts      a learner starts an attempt (the paper)
 *   GET  /api/v1/attempts/{uid}            the attempt (graded: with the correct answers)
 *   PUT  /api/v1/attempts/{uid}/answers    answers so far, until the deadline
 *   POST /api/v1/attempts/{uid}/submit     grade it
 *
 * The server decides everything: the paper is drawn and kept here, correct
 * answers leave only with a graded attempt, the clock is the server's (a
 * deadline allows QUIZ_GRACE_SECONDS for latency), and an open attempt past
 * its deadline is graded from its saved answers as "expired" the first time
 * anyone touches it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/authz.h"
#include "courses/course.h"
#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "courses/quiz.h"
#include "server/api_completion.h"
#include "server/api_courses.h"
#include "server/api_quiz.h"
#include "server/api_util.h"
#include "server/records.h"
#include "server/app.h"
#include "server/problem.h"
#include "server/ws.h"
#include "storage/courses.h"
#include "storage/quiz.h"

#define QUIZ_BODY_MAX ((int64_t)8 << 20)

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

void
quiz_attempt_graded(struct app *app, int64_t person_id, const struct unit *u,
		    const char *attempt_uid, double score, double max, int passed,
		    const json_t *detail)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:f, s:f, s:b}", "type", "quiz.graded", "unit",
			      u->uid, "attempt", attempt_uid, "score", score, "max", max,
			      "passed", passed);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text)
		ws_notify_person(app->ws, person_id, text, strlen(text));
	else
		log_warn("quiz: no memory to notify person %lld of a grade", (long long)person_id);
	free(text);
	json_decref(o);
	records_quiz_graded(app, person_id, u, score, max, passed, detail);
	completion_after_change(app, person_id, u->course_id);
}

/* 1 when the caller may edit course C. */
static int
is_editor(struct app *app, const struct http_request *req, const struct course *c)
{
	int teaches = 0;

	if (req->actor.kind == ACTOR_NONE)
		return 0;
	if (req->actor.kind == ACTOR_PERSON)
		store_course_is_lecturer(app->store, c->id, req->actor.person_id, &teaches);
	return authz_check_course(&req->actor, AZ_COURSE_EDIT, c->institution_id, teaches) == 0;
}

/* 1 when the caller is a learner enrolled in published course C. */
static int
is_learner(struct app *app, const struct http_request *req, const struct course *c)
{
	int yes = 0;

	if (req->actor.kind != ACTOR_PERSON || c->status != COURSE_PUBLISHED)
		return 0;
	store_is_enrolled(app->store, c->id, req->actor.person_id, &yes);
	return yes;
}

/*
 * Loads quiz unit {uid} and its course, and says who the caller is to it:
 * *EDITOR 1 for an editor, 0 for an enrolled learner of the published
 * course. Non-zero when RESP holds the refusal (401 anonymous, 404 when
 * neither or no such unit, 409 when the unit is not a quiz).
 */
static int
load_unit(struct app *app, struct http_request *req, struct http_response *resp,
	  struct unit *u, struct course *c, int *editor)
{
	const char *uid = http_request_param(req, "uid");
	int rc = uid ? store_unit_get(app->store, uid, u) : TC_ENOTFOUND;

	if (rc == 0)
		rc = store_course_get_id(app->store, u->course_id, c);
	if (rc == 0 && req->actor.kind == ACTOR_NONE)
		return api_allow(req, resp, AZ_COURSE_ENROL, 0), 1;
	if (rc == 0) {
		*editor = is_editor(app, req, c);
		if (!*editor && !is_learner(app, req, c))
			rc = TC_ENOTFOUND;
	}
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such unit, or it is not yours to see"), 1;
	if (rc)
		return problem_respond_err(resp, rc, NULL), 1;
	if (strcmp(u->kind, "quiz") != 0)
		return problem_respond(resp, 409, NULL, "this unit is not a quiz"), 1;
	return 0;
}

/* Loads quiz unit {uid} and its course for a caller who wants to change
 * it: the refusals of api_course_editable (404, 401, 403), or 409 when the
 * unit is not a quiz. Non-zero when RESP holds the refusal. */
static int
load_unit_edit(struct app *app, struct http_request *req, struct http_response *resp,
	       struct unit *u, struct course *c)
{
	const char *uid = http_request_param(req, "uid");
	int rc = uid ? store_unit_get(app->store, uid, u) : TC_ENOTFOUND;

	if (rc == 0)
		rc = store_course_get_id(app->store, u->course_id, c);
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such unit"), 1;
	if (rc)
		return problem_respond_err(resp, rc, NULL), 1;
	if (api_course_editable(app, req, resp, c->uid, c))
		return 1;
	if (strcmp(u->kind, "quiz") != 0)
		return problem_respond(resp, 409, NULL, "this unit is not a quiz"), 1;
	return 0;
}

/* The validated definition of quiz unit U into *DEF; 404 in RESP when it
 * has none, unless EMPTY_OK (then *DEF is NULL and *VERSION 0). */
static int
load_definition(struct app *app, struct http_response *resp, const struct unit *u, json_t **def,
		int64_t *version, int64_t *updated, int empty_ok)
{
	char *text = NULL;
	int rc = store_quiz_get(app->store, u->id, &text, version, updated);

	*def = NULL;
	if (rc == 0 && !(*def = json_loads(text, 0, NULL)))
		rc = TC_EDB;
	free(text);
	if (rc == TC_ENOTFOUND && empty_ok) {
		*version = 0;
		if (updated)
			*updated = 0;
		return 0;
	}
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "this quiz has no questions yet"), 1;
	if (rc)
		return problem_respond_err(resp, rc, NULL), 1;
	return 0;
}

/* A 409 problem that names the attempt concerned. */
static void
conflict(struct http_response *resp, const char *detail, const char *attempt_uid)
{
	api_reply_json(resp, 409, json_pack("{s:s, s:s, s:i, s:s, s:s?}", "type", "about:blank",
					    "title", "Conflict", "status", 409, "detail", detail,
					    "attempt", attempt_uid));
	resp->content_type = "application/problem+json";
}

static json_t *
time_or_null(int64_t t)
{
	char s[32];

	if (!t)
		return json_null();
	api_time(t, s);
	return json_string(s);
}

/* The parsed JSON text T, or an empty object/array (never NULL unless out of memory). */
static json_t *
parsed(const char *t, int array)
{
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;

	return v ? v : array ? json_array() : json_object();
}

/*
 * Grades open attempt A (its paper and ANSWERS, or its saved ones when
 * NULL) as STATE and commits it, then runs the hook. On success the grade
 * is in *G and the detail in *DETAIL (may be NULL). TC_ECONFLICT when it
 * was graded meanwhile.
 */
static int
grade_attempt(struct app *app, const struct unit *u, struct quiz_attempt *a, const char *state,
	      json_t *answers, struct quiz_grade *g, json_t **detail)
{
	json_t *paper = parsed(a->paper, 0), *saved = NULL, *scores = NULL, *d = NULL;
	char *scores_text = NULL, *answers_text = NULL;
	int64_t now = now_s();
	int rc;

	if (detail)
		*detail = NULL;
	if (!answers)
		answers = saved = parsed(a->answers, 0);
	rc = paper && answers ? quiz_grade(paper, answers, g, &d, &scores) : TC_ENOMEM;
	if (rc == 0 && (!(scores_text = json_dumps(scores, JSON_COMPACT)) ||
			!(answers_text = json_dumps(answers, JSON_COMPACT))))
		rc = TC_ENOMEM;
	if (rc == 0)
		rc = store_attempt_finish(app->store, a->id, state, answers_text, g->score, g->max,
					  g->passed, g->pass_percent, scores_text, now);
	if (rc == 0) {
		snprintf(a->state, sizeof(a->state), "%s", state);
		a->submitted_at = now;
		a->score = g->score;
		a->max_score = g->max;
		a->passed = g->passed;
		a->pass_percent = g->pass_percent;
		free(a->answers);
		a->answers = answers_text;
		answers_text = NULL;
		quiz_attempt_graded(app, a->person_id, u, a->uid, g->score, g->max, g->passed, d);
		if (detail) {
			*detail = d;
			d = NULL;
		}
	}
	free(scores_text);
	free(answers_text);
	json_decref(scores);
	json_decref(d);
	json_decref(saved);
	json_decref(paper);
	return rc;
}

/* 1 when open attempt A is past its deadline and the grace. */
static int
overdue(const struct quiz_attempt *a, int64_t now)
{
	return strcmp(a->state, "open") == 0 && a->deadline &&
	       now > a->deadline + QUIZ_GRACE_SECONDS;
}

/* An overdue open attempt is graded from its saved answers as expired.
 * 0 also when someone else graded it meanwhile (A then says so). */
static int
expire_if_due(struct app *app, const struct unit *u, struct quiz_attempt *a)
{
	struct quiz_grade g;
	int rc;

	if (!overdue(a, now_s()))
		return 0;
	rc = grade_attempt(app, u, a, "expired", NULL, &g, NULL);
	if (rc == TC_ECONFLICT) {	/* graded meanwhile: read it again */
		char uid[37];

		snprintf(uid, sizeof(uid), "%s", a->uid);
		quiz_attempt_cleanup(a);
		rc = store_attempt_get(app->store, uid, a);
	}
	return rc;
}

/* ---- the definition ------------------------------------------------------------- */

static int
on_quiz_put(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct unit u;
	json_t *body = NULL, *def = NULL;
	char why[300], *text = NULL;
	int64_t version = 0;
	int rc;

	memset(&u, 0, sizeof(u));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (load_unit_edit(app, req, resp, &u, c) || api_read_json(req, resp, &body))
		goto out;
	rc = quiz_validate(body, &def, why, sizeof(why));
	if (rc == TC_EINVALID) {
		problem_respond(resp, 400, NULL, why);
		goto out;
	}
	if (rc == 0 && !(text = json_dumps(def, JSON_COMPACT)))
		rc = TC_ENOMEM;
	if (rc == 0)
		rc = store_quiz_put(app->store, u.id, text, req->actor.person_id, now_s(), &version);
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, c->institution_id, "quiz.saved", u.uid,
		  json_pack("{s:I}", "version", (json_int_t)version));
	api_reply_json(resp, 200, json_pack("{s:s, s:I, s:O}", "unit", u.uid, "version",
					    (json_int_t)version, "definition", def));
out:
	free(text);
	json_decref(def);
	json_decref(body);
	free(u.body);
	free(c);
	return 0;
}

/* A learner's attempts on one unit: listed (LIST, when not NULL), and what
 * their graded ones add up to. */
struct attempt_list {
	json_t *list;
	int n;
	int graded, passed;
	int64_t last_graded;		/* the latest grading time */
};

static int
attempt_row(const struct quiz_attempt *a, void *arg)
{
	struct attempt_list *l = arg;
	int graded = strcmp(a->state, "open") != 0;
	json_t *o;

	if (graded) {
		/* when it ended: an expired attempt is graded when it is next
		 * touched, maybe days after its deadline */
		int64_t end = strcmp(a->state, "expired") == 0 && a->deadline &&
			      a->deadline + QUIZ_GRACE_SECONDS < a->submitted_at
				      ? a->deadline + QUIZ_GRACE_SECONDS : a->submitted_at;

		l->graded++;
		l->passed |= a->passed;
		if (end > l->last_graded)
			l->last_graded = end;
	}
	if (!l->list)
		return 0;
	o = json_pack("{s:s, s:i, s:s, s:o, s:o, s:o}", "uid", a->uid, "number", a->number,
			      "state", a->state, "started", time_or_null(a->started_at),
			      "deadline", time_or_null(a->deadline),
			      "submitted", time_or_null(a->submitted_at));

	if (!o)
		return TC_ENOMEM;
	json_object_set_new(o, "score", graded ? json_real(a->score) : json_null());
	json_object_set_new(o, "max", graded ? json_real(a->max_score) : json_null());
	l->n++;
	return json_array_append_new(l->list, o) ? TC_ENOMEM : 0;
}

/* When S's retry_wait lets the learner of L start their next attempt, or
 * 0 when they may now (or never will: no attempts left). */
static int64_t
next_start(const struct quiz_settings *s, const struct attempt_list *l, int64_t now)
{
	int64_t at = l->last_graded + s->retry_wait;

	if (!s->retry_wait || !l->graded || (s->attempts && l->graded >= s->attempts))
		return 0;
	return at > now ? at : 0;
}

/* Whether the owner of attempts on U sees their correct answers (their
 * graded attempts read again, as the quiz's settings are now). */
static int
answers_shown(struct app *app, const struct unit *u, int64_t person_id, int *show)
{
	struct attempt_list l = { 0 };
	struct quiz_settings s;
	int64_t version = 0;
	char *text = NULL;
	json_t *def = NULL;
	int rc = store_quiz_get(app->store, u->id, &text, &version, NULL);

	*show = 0;
	if (rc == 0 && !(def = json_loads(text, 0, NULL)))
		rc = TC_EDB;
	free(text);
	if (rc == 0)
		rc = store_attempts_each(app->store, u->id, person_id, attempt_row, &l);
	if (rc == 0) {
		quiz_settings_get(def, &s);
		*show = quiz_answers_shown(&s, l.graded, l.passed);
	}
	json_decref(def);
	return rc;
}

static int
on_quiz_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct quiz_settings s;
	struct quiz_attempt open;
	struct attempt_list l = { json_array(), 0 };
	struct unit u;
	json_t *def = NULL, *o;
	int64_t version = 0, updated = 0;
	int editor = 0, rc;

	memset(&u, 0, sizeof(u));
	memset(&open, 0, sizeof(open));
	if (!c || !l.list) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	if (load_unit(app, req, resp, &u, c, &editor) ||
	    load_definition(app, resp, &u, &def, &version, &updated, editor))
		goto out;
	if (editor) {
		api_reply_json(resp, 200, json_pack("{s:s, s:s, s:I, s:o, s:O}", "unit", u.uid,
						    "title", u.title, "version", (json_int_t)version,
						    "updated", time_or_null(updated), "definition", def ? def : json_null()));
		goto out;
	}
	/* a learner: an overdue open attempt is graded first */
	rc = store_attempt_open(app->store, u.id, req->actor.person_id, &open);
	if (rc == 0)
		rc = expire_if_due(app, &u, &open);
	if (rc == TC_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = store_attempts_each(app->store, u.id, req->actor.person_id, attempt_row, &l);
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	quiz_settings_get(def, &s);
	o = json_pack("{s:s, s:s, s:{s:i, s:I, s:f, s:i, s:s, s:I}, s:O, s:o, s:o, s:o}", "unit",
		      u.uid, "title", u.title, "settings", "attempts", s.attempts,
		      "time_limit", (json_int_t)s.time_limit, "pass_percent", s.pass_percent,
		      "questions", s.per_attempt, "show_answers", quiz_show_name(s.show_answers),
		      "retry_wait", (json_int_t)s.retry_wait, "attempts", l.list,
		      "attempts_left", s.attempts ? json_integer(s.attempts > l.n ? s.attempts - l.n : 0)
						  : json_null(),
		      "open", open.uid[0] && strcmp(open.state, "open") == 0 ? json_string(open.uid)
									  : json_null(),
		      "next_attempt_at", time_or_null(next_start(&s, &l, now_s())));
	api_reply_json(resp, 200, o);
	http_response_header(resp, "cache-control", "no-store");
out:
	quiz_attempt_cleanup(&open);
	json_decref(l.list);
	json_decref(def);
	free(u.body);
	free(c);
	return 0;
}

/* ---- attempts ------------------------------------------------------------------- */

/* Graded results without their correct answers. */
static void
hide_answers(json_t *results)
{
	size_t i;
	json_t *r;

	json_array_foreach(results, i, r)
		json_object_del(r, "correct_answer");
}

/* The attempt as its owner (or an editor) sees it: the paper without
 * answers while open; graded, the results, with the correct answers when
 * SHOW. */
static json_t *
attempt_json(const struct unit *u, const struct quiz_attempt *a, int show)
{
	json_t *paper = parsed(a->paper, 0), *answers = parsed(a->answers, 0), *o = NULL;
	json_t *questions = paper ? quiz_paper_public(paper) : NULL;

	if (!paper || !answers || !questions)
		goto out;
	o = json_pack("{s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:O}", "uid", a->uid, "unit", u->uid,
		      "number", a->number, "state", a->state, "started", time_or_null(a->started_at),
		      "deadline", time_or_null(a->deadline), "questions", questions,
		      "answers", answers);
	questions = NULL;
	if (o && strcmp(a->state, "open") != 0) {
		struct quiz_grade g;
		json_t *detail = NULL;

		if (quiz_grade(paper, answers, &g, &detail, NULL) != 0) {
			json_decref(o);
			o = NULL;
			goto out;
		}
		json_object_set_new(o, "submitted", time_or_null(a->submitted_at));
		json_object_set_new(o, "score", json_real(a->score));
		json_object_set_new(o, "max", json_real(a->max_score));
		/* the verdict kept at grading */
		json_object_set_new(o, "passed", json_boolean(a->passed));
		if (!show)
			hide_answers(detail);
		json_object_set_new(o, "results", detail);
	}
out:
	json_decref(questions);
	json_decref(paper);
	json_decref(answers);
	return o;
}

static int
on_attempt_start(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct quiz_settings s;
	struct quiz_attempt a, open;
	struct attempt_list l = { 0 };
	struct unit u;
	json_t *def = NULL, *paper = NULL;
	char loc[96], detail[160];
	int64_t version = 0, now = now_s(), next;
	int editor = 0, rc;

	memset(&u, 0, sizeof(u));
	memset(&a, 0, sizeof(a));
	memset(&open, 0, sizeof(open));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (load_unit(app, req, resp, &u, c, &editor))
		goto out;
	if (!is_learner(app, req, c)) {
		problem_respond(resp, 403, NULL, "quizzes are taken by learners enrolled in the course");
		goto out;
	}
	if (load_definition(app, resp, &u, &def, &version, NULL, 0))
		goto out;
	quiz_settings_get(def, &s);
	/* an open attempt: resume it, unless its time is over */
	rc = store_attempt_open(app->store, u.id, req->actor.person_id, &open);
	if (rc == 0 && (rc = expire_if_due(app, &u, &open)) == 0 && strcmp(open.state, "open") == 0) {
		conflict(resp, "an attempt is open; resume it or submit it first", open.uid);
		goto out;
	}
	if (rc == 0 || rc == TC_ENOTFOUND)
		rc = store_attempts_each(app->store, u.id, req->actor.person_id, attempt_row, &l);
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	if ((next = next_start(&s, &l, now))) {
		char at[32], wait[24];

		api_time(next, at);
		snprintf(wait, sizeof(wait), "%" PRId64, next - now);
		snprintf(detail, sizeof(detail), "the next attempt can start at %s: this quiz asks "
			 "for %" PRId64 " s between attempts", at, s.retry_wait);
		problem_respond(resp, 429, NULL, detail);
		http_response_header(resp, "retry-after", wait);
		goto out;
	}
	if ((rc = quiz_draw(def, &paper)) || !(a.paper = json_dumps(paper, JSON_COMPACT)) ||
	    (rc = uuid_v4(a.uid))) {
		problem_respond_err(resp, rc ? rc : TC_ENOMEM, NULL);
		goto out;
	}
	a.unit_id = u.id;
	a.person_id = req->actor.person_id;
	a.quiz_version = version;
	a.started_at = now;
	a.deadline = s.time_limit ? now + s.time_limit : 0;
	rc = store_attempt_start(app->store, &a, s.attempts);
	if (rc == TC_ECONFLICT) {	/* another request started one just now */
		quiz_attempt_cleanup(&open);
		store_attempt_open(app->store, u.id, req->actor.person_id, &open);
		conflict(resp, "an attempt is open; resume it or submit it first",
			 open.uid[0] ? open.uid : NULL);
		goto out;
	}
	if (rc == TC_EFORBIDDEN) {
		snprintf(detail, sizeof(detail), "no attempts left: this quiz allows %d", s.attempts);
		conflict(resp, detail, NULL);
		goto out;
	}
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	a.answers = strdup("{}");
	api_reply_json(resp, 201, attempt_json(&u, &a, 0));
	http_response_header(resp, "cache-control", "no-store");
	snprintf(loc, sizeof(loc), "/api/v1/attempts/%s", a.uid);
	http_response_header(resp, "location", loc);
out:
	quiz_attempt_cleanup(&a);
	quiz_attempt_cleanup(&open);
	json_decref(paper);
	json_decref(def);
	free(u.body);
	free(c);
	return 0;
}

/*
 * Loads attempt {uid} with its unit and course for its owner or (unless
 * OWNER_ONLY) an editor of the course, and expires it when overdue.
 * Non-zero when RESP holds the refusal.
 */
static int
load_attempt(struct app *app, struct http_request *req, struct http_response *resp,
	     int owner_only, struct quiz_attempt *a, struct unit *u, struct course *c)
{
	const char *uid = http_request_param(req, "uid");
	int rc = uid ? store_attempt_get(app->store, uid, a) : TC_ENOTFOUND;

	if (rc == 0)
		rc = store_unit_get(app->store, a->unit_uid, u);
	if (rc == 0)
		rc = store_course_get_id(app->store, u->course_id, c);
	if (rc == 0 && req->actor.kind == ACTOR_NONE)
		return api_allow(req, resp, AZ_COURSE_ENROL, 0), 1;
	if (rc == 0 && !(req->actor.kind == ACTOR_PERSON && req->actor.person_id == a->person_id) &&
	    (owner_only || !is_editor(app, req, c)))
		rc = TC_ENOTFOUND;
	if (rc == 0)
		rc = expire_if_due(app, u, a);
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such attempt, or it is not yours"), 1;
	if (rc)
		return problem_respond_err(resp, rc, NULL), 1;
	return 0;
}

/* Only a learner still enrolled in the published course answers or submits
 * (one who left, or an archived course: 403, as starting an attempt).
 * Non-zero when RESP holds the refusal. */
static int
still_learner(struct app *app, const struct http_request *req, struct http_response *resp,
	      const struct course *c)
{
	if (is_learner(app, req, c))
		return 0;
	problem_respond(resp, 403, NULL, "quizzes are taken by learners enrolled in the course");
	return 1;
}

/* The 409 for an attempt that is no longer open. */
static void
closed(struct http_response *resp, const struct quiz_attempt *a)
{
	char detail[96], t[32];

	if (strcmp(a->state, "expired") == 0) {
		api_time(a->deadline, t);
		snprintf(detail, sizeof(detail), "the time limit ended at %s", t);
	} else {
		snprintf(detail, sizeof(detail), "this attempt was submitted already");
	}
	conflict(resp, detail, a->uid);
}

static int
on_attempt_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct quiz_attempt a;
	struct unit u;
	int show = 1, rc;

	memset(&u, 0, sizeof(u));
	memset(&a, 0, sizeof(a));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (load_attempt(app, req, resp, 0, &a, &u, c) == 0) {
		/* its owner, as the quiz's settings say; an editor always */
		rc = req->actor.person_id == a.person_id && strcmp(a.state, "open") != 0
			     ? answers_shown(app, &u, a.person_id, &show) : 0;
		if (rc)
			problem_respond_err(resp, rc, NULL);
		else
			api_reply_json(resp, 200, attempt_json(&u, &a, show));
		http_response_header(resp, "cache-control", "no-store");
	}
	quiz_attempt_cleanup(&a);
	free(u.body);
	free(c);
	return 0;
}

/* The "answers" member of REQ's body, checked against A's paper: *OUT is a
 * new reference (NULL when ABSENT_OK and there is no body or member). Any
 * other member is refused (a typo must not grade the saved answers).
 * Non-zero when RESP holds the refusal. */
static int
read_answers(const struct http_request *req, struct http_response *resp,
	     const struct quiz_attempt *a, int absent_ok, json_t **out)
{
	json_t *body = NULL, *paper = NULL, *ans;
	const char *key;
	char why[200];
	int rc = 1;

	*out = NULL;
	if (absent_ok && req->body.len == 0)
		return 0;
	if (api_read_json(req, resp, &body))
		return 1;
	if (!json_is_object(body)) {
		problem_respond(resp, 400, NULL, "send {\"answers\": {question id: answer}}");
		goto out;
	}
	json_object_foreach(body, key, ans)
		if (strcmp(key, "answers") != 0) {
			snprintf(why, sizeof(why), "%.60s: unknown member; send {\"answers\": "
				 "{question id: answer}}", key);
			problem_respond(resp, 400, NULL, why);
			goto out;
		}
	ans = json_object_get(body, "answers");
	if (!ans && absent_ok) {
		rc = 0;
		goto out;
	}
	if (!ans) {
		problem_respond(resp, 400, NULL, "send {\"answers\": {question id: answer}}");
		goto out;
	}
	paper = parsed(a->paper, 0);
	if (quiz_answers_check(paper, ans, why, sizeof(why))) {
		problem_respond(resp, 400, NULL, why);
		goto out;
	}
	*out = json_incref(ans);
	rc = 0;
out:
	json_decref(paper);
	json_decref(body);
	return rc;
}

static int
on_answers_put(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct quiz_attempt a;
	struct unit u;
	json_t *answers = NULL;
	char *text = NULL;
	int rc;

	memset(&u, 0, sizeof(u));
	memset(&a, 0, sizeof(a));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (load_attempt(app, req, resp, 1, &a, &u, c) || still_learner(app, req, resp, c))
		goto out;
	if (strcmp(a.state, "open") != 0) {
		closed(resp, &a);
		goto out;
	}
	if (read_answers(req, resp, &a, 0, &answers))
		goto out;
	rc = (text = json_dumps(answers, JSON_COMPACT)) ? store_attempt_save(app->store, a.id, text)
						       : TC_ENOMEM;
	if (rc == TC_ECONFLICT) {	/* graded meanwhile */
		quiz_attempt_cleanup(&a);
		if (store_attempt_get(app->store, http_request_param(req, "uid"), &a) == 0)
			closed(resp, &a);
		else
			problem_respond(resp, 409, NULL, "this attempt is no longer open");
		goto out;
	}
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_reply_json(resp, 200, json_pack("{s:s, s:s, s:i, s:o}", "uid", a.uid, "state", a.state,
					    "answered", (int)json_object_size(answers),
					    "deadline", time_or_null(a.deadline)));
out:
	free(text);
	json_decref(answers);
	quiz_attempt_cleanup(&a);
	free(u.body);
	free(c);
	return 0;
}

static int
on_submit(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct quiz_attempt a;
	struct quiz_grade g;
	struct unit u;
	json_t *answers = NULL, *detail = NULL;
	int show = 0, rc;

	memset(&u, 0, sizeof(u));
	memset(&a, 0, sizeof(a));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	/* an overdue attempt expires here, graded from what was saved in time */
	if (load_attempt(app, req, resp, 1, &a, &u, c) || still_learner(app, req, resp, c))
		goto out;
	if (strcmp(a.state, "open") != 0) {
		closed(resp, &a);
		goto out;
	}
	if (read_answers(req, resp, &a, 1, &answers))
		goto out;
	rc = grade_attempt(app, &u, &a, "submitted", answers, &g, &detail);
	if (rc == TC_ECONFLICT) {
		quiz_attempt_cleanup(&a);
		if (store_attempt_get(app->store, http_request_param(req, "uid"), &a) == 0)
			closed(resp, &a);
		else
			problem_respond(resp, 409, NULL, "this attempt is no longer open");
		goto out;
	}
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	/* graded and committed: what it adds to the learner's history decides
	 * whether this answer shows the correct answers (not when that cannot
	 * be read: the grade stands, GET .../attempts/{uid} shows them later) */
	if (answers_shown(app, &u, a.person_id, &show) != 0)
		show = 0;
	if (!show)
		hide_answers(detail);
	api_reply_json(resp, 200, json_pack("{s:s, s:s, s:s, s:i, s:o, s:f, s:f, s:b, s:o}",
					    "uid", a.uid, "unit", u.uid, "state", a.state,
					    "number", a.number, "submitted", time_or_null(a.submitted_at),
					    "score", g.score, "max", g.max, "passed", g.passed,
					    "results", detail));
	http_response_header(resp, "cache-control", "no-store");
	detail = NULL;
out:
	json_decref(detail);
	json_decref(answers);
	quiz_attempt_cleanup(&a);
	free(u.body);
	free(c);
	return 0;
}

const struct route api_quiz_routes[] = {
	{ HTTP_PUT, "/api/v1/units/{uid}/quiz", on_quiz_put, "quiz_put", 0, QUIZ_BODY_MAX },
	{ HTTP_GET, "/api/v1/units/{uid}/quiz", on_quiz_get, "quiz_get" },
	{ HTTP_POST, "/api/v1/units/{uid}/attempts", on_attempt_start, "attempt_start" },
	{ HTTP_GET, "/api/v1/attempts/{uid}", on_attempt_get, "attempt_get" },
	{ HTTP_PUT, "/api/v1/attempts/{uid}/answers", on_answers_put, "attempt_answers" },
	{ HTTP_POST, "/api/v1/attempts/{uid}/submit", on_submit, "attempt_submit" },
};
const size_t api_quiz_routes_count = sizeof(api_quiz_routes) / sizeof(api_quiz_routes[0]);
