/*
 * api_vcapi.c - issuing by an institution's own systems and in bulk.
 *
 *   POST /credentials/issue                         W3C VC API shape, an API
 *        token with credentials:issue: {"credential": {"credentialSubject":
 *        {"national_id", "achievement": {"humanCode", "name"?,
 *        "creditsAvailable"?, "description"?, "fieldOfStudy"?}, "grade",
 *        "term", "completed_on"}}, "options": {}} -> 201 {"verifiableCredential"}
 *   POST /api/v1/institutions/{code}/credentials:import   text/csv
 *        national_id,course_code,grade,term,completed_on and optionally
 *        course_name,credits,description,field_of_study (admins, or a token
 *        with credentials:issue)
 *
 * A humanCode / course_code that is not one of the institution's tinchi
 * courses is a course of its own (on campus): its name and credits are
 * then required. Both check every field the same way (check_row); the VC
 * API then calls issuing_issue, which signs, stores and logs in one
 * transaction, and the import, a deferred job on the bulk worker thread
 * with its own store connection, issues its valid rows 256 at a time with
 * issuing_issue_many (one transaction a batch; one each when that fails). A
 * (learner, course code, term) that has a credential already is not issued
 * again: 409 from the VC API, an "already issued" row from the import.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/course.h"
#include "courses/csv.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/people.h"
#include "courses/statuslist.h"
#include "courses/xapi.h"
#include "server/api_util.h"
#include "server/api_vcapi.h"
#include "server/app.h"
#include "server/issuing.h"
#include "server/problem.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"

#define IMPORT_MAX_ROWS 100000
#define IMPORT_MAX_BODY ((int64_t)64 << 20)
#define IMPORT_MAX_ERRORS 200
/* issuing_list_full: STATUSLIST_MAX_BITS (courses/statuslist.h) issued */
#define LIST_FULL "the institution's status list is full (134217728 credentials): no more" \
	" credentials can be issued"
_Static_assert(STATUSLIST_MAX_BITS == 134217728u, "LIST_FULL names the maximum");

/* One credential to issue, as the caller wrote it (the last four only
 * for a course that is not on tinchi; NULL or "" when absent). */
struct issue_row {
	const char *national_id, *course_code, *grade, *term, *completed_on;
	const char *course_name, *credits, *description, *field_of_study;
};

/* What check_row resolved. */
struct issue_ok {
	struct course course;	/* course.id 0: not a tinchi course */
	struct person person;
	char grade[16];
	int64_t awarded_at;	/* completed_on at 00:00 UTC */
};

/* 1..MAX bytes of text without control characters (newlines too when
 * LINES). */
static int
text_ok(const char *s, size_t max, int lines)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || utf8_check(s, n) != 0)
		return 0;
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && !(lines && (*s == '\n' || *s == '\t'))) ||
		    *s == 0x7f)
			return 0;
	return 1;
}

static int
given(const char *s)
{
	return s && s[0];
}

/* The course fields of ROW for a course that is not on tinchi into OK. */
static int
check_own_course(int64_t institution_id, const struct issue_row *row, struct issue_ok *ok,
		 const char **field, char *msg, size_t msize)
{
	struct course *c = &ok->course;

	memset(c, 0, sizeof(*c));
	if (course_code_check(row->course_code)) {
		*field = "course_code";
		snprintf(msg, msize, "a course code is 1..%d of A-Z a-z 0-9 . _ -", COURSE_CODE_MAX);
		return TC_EINVALID;
	}
	if (!given(row->course_name) || !text_ok(row->course_name, COURSE_TITLE_MAX, 0)) {
		*field = "course_name";
		snprintf(msg, msize, "the course %.40s is not on tinchi: its name (1..%d bytes of"
			 " text) is required", row->course_code, COURSE_TITLE_MAX);
		return TC_EINVALID;
	}
	if (!given(row->credits) || course_credits_parse(row->credits, &c->credits_x10)) {
		*field = "credits";
		snprintf(msg, msize, "the course %.40s is not on tinchi: its credits (a positive"
			 " number with at most one decimal, up to 60) are required",
			 row->course_code);
		return TC_EINVALID;
	}
	if (given(row->description) && !text_ok(row->description, 2000, 1)) {
		*field = "description";
		snprintf(msg, msize, "a description is 1..2000 bytes of text");
		return TC_EINVALID;
	}
	if (given(row->field_of_study) && !text_ok(row->field_of_study, ISSUING_FIELD_MAX, 0)) {
		*field = "field_of_study";
		snprintf(msg, msize, "a field of study is 1..%d bytes of text on one line",
			 ISSUING_FIELD_MAX);
		return TC_EINVALID;
	}
	c->institution_id = institution_id;
	snprintf(c->code, sizeof(c->code), "%s", row->course_code);
	snprintf(c->title, sizeof(c->title), "%s", row->course_name);
	if (given(row->description))
		snprintf(c->description, sizeof(c->description), "%s", row->description);
	return 0;
}

/* "8", "8.5", "10", "6.25": 0..10 with at most two decimals, into hundredths. */
static int
parse_grade(const char *s, int *x100)
{
	int whole = 0, frac = 0, nd = 0, nf = 0;

	for (; *s >= '0' && *s <= '9'; s++, nd++)
		whole = whole * 10 + (*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, nf++)
			frac = frac * 10 + (*s - '0');
	if (*s || nd < 1 || nd > 2 || nf > 2 || (s[-1] == '.'))
		return TC_EINVALID;
	if (nf == 1)
		frac *= 10;
	*x100 = whole * 100 + frac;
	return *x100 <= 1000 ? 0 : TC_EINVALID;
}

/* 1..ISSUING_TERM_MAX bytes, no control characters ("2024-2025 HK2"). */
static int
term_check(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ISSUING_TERM_MAX)
		return TC_EINVALID;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return TC_EINVALID;
	return 0;
}

/*
 * Checks ROW for INSTITUTION_ID; on success OK holds the course, the person
 * and the grade text. On failure *FIELD names the bad field and MSG says
 * why: TC_EINVALID (malformed), TC_ENOTFOUND (no such learner or course),
 * or a storage error.
 */
static int
check_row(struct app *app, int64_t institution_id, const struct issue_row *row,
	  struct issue_ok *ok, const char **field, char *msg, size_t msize)
{
	char today[11];
	int x100 = 0, rc;

	people_today((int64_t)time(NULL), today);
	*field = NULL;
	if (!row->national_id || national_id_check(row->national_id)) {
		*field = "national_id";
		snprintf(msg, msize, "a national ID is exactly 12 digits");
		return TC_EINVALID;
	}
	if (!row->course_code || !row->course_code[0] ||
	    strlen(row->course_code) > COURSE_CODE_MAX) {
		*field = "course_code";
		snprintf(msg, msize, "a course code of this institution is required");
		return TC_EINVALID;
	}
	if (!row->grade || parse_grade(row->grade, &x100)) {
		*field = "grade";
		snprintf(msg, msize, "a grade is a number from 0 to 10 with at most two decimals");
		return TC_EINVALID;
	}
	if (!row->term || term_check(row->term)) {
		*field = "term";
		snprintf(msg, msize, "a term is 1..%d characters without control characters",
			 ISSUING_TERM_MAX);
		return TC_EINVALID;
	}
	if (!row->completed_on || date_check(row->completed_on, today)) {
		*field = "completed_on";
		snprintf(msg, msize, "completed_on is a date YYYY-MM-DD from 1900-01-01 to today");
		return TC_EINVALID;
	}
	issuing_grade_text(x100, ok->grade);
	{
		char at[32];

		snprintf(at, sizeof(at), "%sT00:00:00Z", row->completed_on);
		if (xapi_timestamp_parse(at, &ok->awarded_at))
			return TC_EINVALID;	/* date_check passed: not reached */
		ok->awarded_at /= 1000000;
	}
	rc = store_course_get_by_code(app->store, institution_id, row->course_code, &ok->course);
	if (rc == TC_ENOTFOUND)
		rc = check_own_course(institution_id, row, ok, field, msg, msize);
	else if (rc == 0 && (given(row->course_name) || given(row->credits) ||
			     given(row->description))) {
		*field = given(row->course_name) ? "course_name" : given(row->credits) ? "credits" :
			 "description";
		snprintf(msg, msize, "%.40s is a tinchi course: its name, description and credits"
			 " come from tinchi (leave this out)", row->course_code);
		rc = TC_EINVALID;
	} else if (rc == 0 && given(row->field_of_study) &&
		   !text_ok(row->field_of_study, ISSUING_FIELD_MAX, 0)) {
		*field = "field_of_study";
		snprintf(msg, msize, "a field of study is 1..%d bytes of text on one line",
			 ISSUING_FIELD_MAX);
		rc = TC_EINVALID;
	}
	if (rc)
		return rc;
	rc = store_person_get_by_nid(app->store, row->national_id, &ok->person);
	if (rc == TC_ENOTFOUND) {
		*field = "national_id";
		snprintf(msg, msize, "no learner with this national ID on tinchi (import the"
			 " learner first)");
	}
	return rc;
}

/* ---- POST /credentials/issue ------------------------------------------------- */

/* The VC API member (below credentialSubject) of a check_row field. */
static const char *
vc_path(const char *field)
{
	static const char *const map[][2] = {
		{ "course_code", "achievement.humanCode" },
		{ "course_name", "achievement.name" },
		{ "credits", "achievement.creditsAvailable" },
		{ "description", "achievement.description" },
		{ "field_of_study", "achievement.fieldOfStudy" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(field, map[i][0]) == 0)
			return map[i][1];
	return field;
}

/* A 400 problem naming PATH. Returns 0 (the handler's result). */
static int
bad_field(struct http_response *resp, int status, const char *path, const char *msg)
{
	char detail[400];
	json_t *o;

	snprintf(detail, sizeof(detail), "%s: %s", path, msg);
	o = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title",
		      status == 404 ? "Not Found" : "Bad Request", "status", status,
		      "detail", detail, "path", path);
	api_reply_json(resp, status, o);
	if (resp->status == status)
		resp->content_type = "application/problem+json";
	return 0;
}

/* Every key of O must be one of ALLOWED (NULL-terminated); else the first
 * other key. */
static const char *
unknown_key(json_t *o, const char *const *allowed)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		const char *const *a = allowed;

		while (*a && strcmp(*a, k) != 0)
			a++;
		if (!*a)
			return k;
	}
	return NULL;
}

/* A string member of O, or a number for "grade" (written as text into
 * BUF). NULL when absent or of another type. */
static const char *
member_text(json_t *o, const char *key, char *buf, size_t n)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (buf && json_is_number(v)) {
		double d = json_number_value(v);

		if (!isfinite(d) || d < 0 || d > 10)
			return "?";
		issuing_grade_text((int)llround(d * 100), buf);
		if (fabs(d * 100 - llround(d * 100)) > 1e-6)
			return "?";	/* more than two decimals */
		return buf;
	}
	return NULL;
}

static int
reply_credential(struct http_response *resp, const char *text)
{
	dynbuf_reset(&resp->body);
	if (dynbuf_puts(&resp->body, "{\"verifiableCredential\":") ||
	    dynbuf_puts(&resp->body, text) || dynbuf_puts(&resp->body, "}"))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	resp->status = 201;
	resp->content_type = "application/json";
	return 0;
}

static int
on_issue(struct app *app, struct http_request *req, struct http_response *resp)
{
	static const char *const top_keys[] = { "@context", "type", "credentialSubject", NULL };
	static const char *const subj_keys[] = { "type", "national_id", "achievement", "grade",
						 "term", "completed_on", NULL };
	static const char *const ach_keys[] = { "type", "humanCode", "name", "description",
						"creditsAvailable", "fieldOfStudy", NULL };
	struct issue_ok ok;
	struct issue_row row = { 0 };
	struct credential_rec c = { 0 };
	json_t *body = NULL, *cred, *subj, *ach, *opts;
	const char *k, *field = NULL;
	char path[160], msg[300], gbuf[16], cbuf[32], uid[CRED_UID_MAX + 1];
	json_t *credits;
	int rc;

	if (req->actor.kind == ACTOR_PERSON) {
		problem_respond(resp, 403, NULL, "the VC API issues for an institution's API token"
				" with the scope credentials:issue");
		return 0;
	}
	if (api_allow(req, resp, AZ_CREDENTIALS_ISSUE, req->actor.token_institution_id) ||
	    api_read_json(req, resp, &body))
		return 0;
	/* an import of the institution checks "issued already" before it
	 * commits: issuing meanwhile could issue a row twice */
	if (api_bulk_busy(app, req->actor.token_institution_id)) {
		json_decref(body);
		return api_bulk_refuse(resp, "not issued"), 0;
	}
	cred = json_object_get(body, "credential");
	opts = json_object_get(body, "options");
	subj = json_object_get(cred, "credentialSubject");
	ach = json_object_get(subj, "achievement");
	if ((k = unknown_key(body, (const char *const[]){ "credential", "options", NULL }))) {
		snprintf(path, sizeof(path), "%.100s", k);
		bad_field(resp, 400, path, "unknown member (send credential and options)");
	} else if (!json_is_object(cred)) {
		bad_field(resp, 400, "credential", "an object is required");
	} else if (opts && !json_is_object(opts)) {
		bad_field(resp, 400, "options", "must be an object");
	} else if (opts && json_object_size(opts) > 0) {
		snprintf(path, sizeof(path), "options.%.100s", json_object_iter_key(
			 json_object_iter(opts)));
		bad_field(resp, 400, path, "no options are supported");
	} else if ((k = unknown_key(cred, top_keys))) {
		snprintf(path, sizeof(path), "credential.%.100s", k);
		bad_field(resp, 400, path, "tinchi fills this in (or it is unknown): send only"
			  " @context, type and credentialSubject");
	} else if (!json_is_object(subj)) {
		bad_field(resp, 400, "credential.credentialSubject", "an object is required");
	} else if ((k = unknown_key(subj, subj_keys))) {
		snprintf(path, sizeof(path), "credential.credentialSubject.%.100s", k);
		bad_field(resp, 400, path, "unknown member");
	} else if (!json_is_object(ach)) {
		bad_field(resp, 400, "credential.credentialSubject.achievement",
			  "an object with the course's humanCode is required");
	} else if ((k = unknown_key(ach, ach_keys))) {
		snprintf(path, sizeof(path), "credential.credentialSubject.achievement.%.100s", k);
		bad_field(resp, 400, path, "unknown member (send humanCode, and name,"
			  " creditsAvailable, description, fieldOfStudy for a course not on"
			  " tinchi)");
	} else {
		row.national_id = member_text(subj, "national_id", NULL, 0);
		row.course_code = member_text(ach, "humanCode", NULL, 0);
		row.grade = member_text(subj, "grade", gbuf, sizeof(gbuf));
		row.term = member_text(subj, "term", NULL, 0);
		row.completed_on = member_text(subj, "completed_on", NULL, 0);
		row.course_name = member_text(ach, "name", NULL, 0);
		row.description = member_text(ach, "description", NULL, 0);
		row.field_of_study = member_text(ach, "fieldOfStudy", NULL, 0);
		/* creditsAvailable: a number (anything else is refused by the check) */
		credits = json_object_get(ach, "creditsAvailable");
		if (json_is_number(credits))
			snprintf(cbuf, sizeof(cbuf), "%.10g", json_number_value(credits));
		else
			snprintf(cbuf, sizeof(cbuf), "%s", credits ? "?" : "");
		row.credits = cbuf;
		if ((json_object_get(ach, "name") && !json_is_string(json_object_get(ach, "name"))) ||
		    (json_object_get(ach, "description") &&
		     !json_is_string(json_object_get(ach, "description"))) ||
		    (json_object_get(ach, "fieldOfStudy") &&
		     !json_is_string(json_object_get(ach, "fieldOfStudy")))) {
			field = json_object_get(ach, "name") && !json_is_string(json_object_get(ach,
				"name")) ? "course_name" : json_object_get(ach, "description") &&
				!json_is_string(json_object_get(ach, "description")) ?
				"description" : "field_of_study";
			snprintf(msg, sizeof(msg), "must be a string");
			rc = TC_EINVALID;
		} else {
			rc = check_row(app, req->actor.token_institution_id, &row, &ok, &field, msg,
				       sizeof(msg));
		}
		if (rc == 0)
			rc = store_credential_find(app->store, req->actor.token_institution_id,
						   ok.course.code, ok.person.id, row.term, uid);
		if (rc == 0) {
			api_reply_json(resp, 409, json_pack("{s:s, s:s, s:i, s:s, s:s}", "type",
				"about:blank", "title", "Conflict", "status", 409, "detail",
				"a credential for this learner, course and term was issued already",
				"credential", uid));
			if (resp->status == 409)
				resp->content_type = "application/problem+json";
		} else if (rc != TC_ENOTFOUND || field) {
			if (field)
				snprintf(path, sizeof(path), "credential.credentialSubject.%s",
					 vc_path(field));
			if (field)
				bad_field(resp, rc == TC_ENOTFOUND ? 404 : 400, path, msg);
			else
				problem_respond_err(resp, rc, NULL);
		} else if ((rc = issuing_issue(app, &ok.course, &ok.person, ok.grade, row.term,
					       ok.awarded_at, given(row.field_of_study) ?
					       row.field_of_study : NULL, &c)) == TC_ECONFLICT) {
			problem_respond(resp, 409, NULL, "the institution has no signing key");
		} else if (rc == TC_ETOOBIG && issuing_list_full(app, ok.course.institution_id)) {
			problem_respond(resp, 409, NULL, LIST_FULL);
		} else if (rc) {
			problem_respond_err(resp, rc, NULL);
		} else {
			api_audit(app, req, ok.course.institution_id, "credential.issued", c.uid,
				  json_pack("{s:s, s:s, s:s}", "via", "vc-api", "course",
					    ok.course.code, "term", row.term));
			reply_credential(resp, c.json);
		}
	}
	free(c.json);
	json_decref(body);
	return 0;
}

/* ---- POST /api/v1/institutions/{code}/credentials:import ------------------------ */

static const char *const csv_columns[] = { "national_id", "course_code", "grade", "term",
					   "completed_on", "course_name", "credits", "description",
					   "field_of_study" };
#define NCOLS 9		/* columns a file may have */
#define NREQUIRED 5	/* the first NREQUIRED are required */

/* A valid row of the import, to be issued with the next ones. */
struct pending_row {
	size_t row;
	struct issue_ok ok;
	char *term, *field_of_study;	/* malloc'ed; field_of_study NULL: none */
};

#define CRED_IMPORT_BATCH 256	/* rows issued together: one transaction */

struct import {
	struct app *app;
	int64_t institution_id;
	json_t *errors, *results;
	size_t rows, nerrors;
	/* the (person, course, term) keys seen in this file, for duplicates */
	struct api_keyset keys;
	/* valid rows waiting to be issued together (import_flush) */
	struct pending_row *pend;
	size_t npend;
};

static int
add_error(struct import *im, size_t row, size_t line, const char *column, const char *msg)
{
	im->nerrors++;
	if (json_array_size(im->errors) >= IMPORT_MAX_ERRORS)
		return 0;
	return json_array_append_new(im->errors, json_pack("{s:I, s:I, s:s?, s:s}",
		"row", (json_int_t)row, "line", (json_int_t)line, "column", column,
		"message", msg)) ? TC_ENOMEM : 0;
}

/* Reads the header of R into COLMAP (file column -> csv_columns index) and
 * *NCOL. 0; TC_EINVALID with the error added. */
static int
read_header(struct import *im, struct csv_reader *r, int colmap[NCOLS], size_t *ncol)
{
	char **f;
	size_t nf;
	char msg[200];
	int rc = csv_next(r, &f, &nf), seen[NCOLS] = { 0 };

	if (rc <= 0) {
		add_error(im, 0, 1, NULL, rc == 0 ? "the file is empty" : csv_error(r));
		return TC_EINVALID;
	}
	if (nf < NREQUIRED || nf > NCOLS) {
		snprintf(msg, sizeof(msg), "the header must name the %d columns national_id,"
			 "course_code,grade,term,completed_on and may add course_name,credits,"
			 "description,field_of_study (got %zu)", NREQUIRED, nf);
		add_error(im, 0, 1, NULL, msg);
		return TC_EINVALID;
	}
	for (size_t i = 0; i < nf; i++) {
		int c = 0;

		while (c < NCOLS && strcmp(f[i], csv_columns[c]) != 0)
			c++;
		if (c == NCOLS || seen[c]) {
			snprintf(msg, sizeof(msg), "%s column \"%.40s\"",
				 c == NCOLS ? "unknown" : "repeated", f[i]);
			add_error(im, 0, 1, NULL, msg);
			return TC_EINVALID;
		}
		seen[c] = 1;
		colmap[i] = c;
	}
	for (int c = 0; c < NREQUIRED; c++)
		if (!seen[c]) {
			snprintf(msg, sizeof(msg), "the column %s is missing", csv_columns[c]);
			add_error(im, 0, 1, NULL, msg);
			return TC_EINVALID;
		}
	*ncol = nf;
	return 0;
}

/* Issues the rows waiting (issuing_issue_many: one transaction for all of
 * them, or one each when that fails) and adds each issued one to
 * im->results, in row order. 0, or the first row's error (the import then
 * stops; those issued are in the results). */
static int
import_flush(struct import *im)
{
	struct issuing_request *req = calloc(im->npend + 1, sizeof(*req));
	struct credential_rec *out = calloc(im->npend + 1, sizeof(*out));
	int *rcs = calloc(im->npend + 1, sizeof(*rcs)), rc = req && out && rcs ? 0 : TC_ENOMEM;

	for (size_t i = 0; rc == 0 && i < im->npend; i++) {
		struct pending_row *p = &im->pend[i];

		req[i] = (struct issuing_request){ &p->ok.course, &p->ok.person, p->ok.grade,
						   p->term, p->ok.awarded_at, p->field_of_study };
	}
	if (rc == 0 && im->npend > 0)
		rc = issuing_issue_many(im->app, req, im->npend, rcs, out);
	for (size_t i = 0; req && out && rcs && i < im->npend; i++) {
		if (rcs[i] == 0)
			json_array_append_new(im->results, json_pack("{s:I, s:s, s:s}", "row",
				(json_int_t)im->pend[i].row, "status", "issued", "uid", out[i].uid));
		else if (rc == 0)
			rc = rcs[i];
		free(out[i].json);
	}
	for (size_t i = 0; i < im->npend; i++) {
		free(im->pend[i].term);
		free(im->pend[i].field_of_study);
	}
	im->npend = 0;
	free(req);
	free(out);
	free(rcs);
	return rc;
}

/* Forgets the rows waiting (the import stopped before them). */
static void
import_flush_drop(struct import *im)
{
	for (size_t i = 0; i < im->npend; i++) {
		free(im->pend[i].term);
		free(im->pend[i].field_of_study);
	}
	im->npend = 0;
}

/*
 * One pass over FP: every row is checked; with ISSUE, each valid row is
 * issued (or found issued already) and added to im->results. 0 when the
 * file was read to the end; a storage error stops it.
 */
static int
import_pass(struct import *im, FILE *fp, int issue)
{
	struct csv_reader *r = NULL;
	int colmap[NCOLS], rc = csv_open(fp, 4096, NCOLS + 1, &r);
	char **f;
	size_t nf, ncol = 0;

	if (rc)
		return rc;
	if (read_header(im, r, colmap, &ncol)) {
		csv_close(r);
		return 0;
	}
	while ((rc = csv_next(r, &f, &nf)) != 0) {
		const char *vals[NCOLS] = { 0 }, *field = NULL;
		size_t line = csv_line(r), row;
		struct issue_row ir;
		struct issue_ok ok;
		char msg[300], key[200], uid[CRED_UID_MAX + 1];
		int seen = 0;

		if (rc == TC_EIO || rc == TC_ENOMEM)
			break;
		if (rc == 1 && nf == 1 && !f[0][0])
			continue;	/* a blank line */
		row = ++im->rows;
		if (row > IMPORT_MAX_ROWS) {
			snprintf(msg, sizeof(msg), "at most %d rows a file", IMPORT_MAX_ROWS);
			rc = add_error(im, row, line, NULL, msg);
			break;
		}
		if (rc == TC_EINVALID) {
			if ((rc = add_error(im, row, line, NULL, csv_error(r))))
				break;
			continue;
		}
		if (nf != ncol) {
			snprintf(msg, sizeof(msg), "expected %zu fields, got %zu", ncol, nf);
			if ((rc = add_error(im, row, line, NULL, msg)))
				break;
			continue;
		}
		for (size_t i = 0; i < ncol; i++)
			vals[colmap[i]] = f[i];
		ir = (struct issue_row){ vals[0], vals[1], vals[2], vals[3], vals[4], vals[5],
					 vals[6], vals[7], vals[8] };
		rc = check_row(im->app, im->institution_id, &ir, &ok, &field, msg, sizeof(msg));
		if (rc == 0) {
			snprintf(key, sizeof(key), "%lld %s %s", (long long)ok.person.id,
				 ok.course.code, ir.term);
			rc = api_keyset_add(&im->keys, key, &seen);
			if (rc == 0 && seen) {
				field = "term";
				snprintf(msg, sizeof(msg), "this learner, course and term are on an"
					 " earlier row");
				rc = TC_EINVALID;
			}
		}
		if (rc == TC_EINVALID || rc == TC_ENOTFOUND) {
			if ((rc = add_error(im, row, line, field, msg)))
				break;
			continue;
		}
		if (rc)
			break;
		if (!issue)
			continue;
		rc = store_credential_find(im->app->store, im->institution_id, ok.course.code,
					   ok.person.id, ir.term, uid);
		if (rc == 0) {
			/* the rows before it first, so that results stay in row order */
			if ((rc = import_flush(im)))
				break;
			json_array_append_new(im->results, json_pack("{s:I, s:s, s:s}", "row",
				(json_int_t)row, "status", "already issued", "uid", uid));
			continue;
		}
		if (rc == TC_ENOTFOUND) {
			struct pending_row *p = &im->pend[im->npend];

			p->row = row;
			p->ok = ok;
			p->term = strdup(ir.term);
			p->field_of_study = given(ir.field_of_study) ?
					    strdup(ir.field_of_study) : NULL;
			im->npend++;
			rc = !p->term || (given(ir.field_of_study) && !p->field_of_study) ?
			     TC_ENOMEM : 0;
			if (rc == 0 && im->npend == CRED_IMPORT_BATCH)
				rc = import_flush(im);
		}
		if (rc)
			break;
	}
	if (rc == 0 && issue)
		rc = import_flush(im);
	else if (issue)
		import_flush_drop(im);
	csv_close(r);
	return rc;
}

static void
import_cleanup(struct import *im)
{
	import_flush_drop(im);
	free(im->pend);
	api_keyset_cleanup(&im->keys);
	json_decref(im->errors);
	json_decref(im->results);
}

static int
import_precheck(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;

	return api_institution(app, req, resp, &inst) ||
	       api_allow(req, resp, AZ_CREDENTIALS_ISSUE, inst.id);
}

/*
 * The import as a deferred job: the file (an unnamed temporary file) is
 * read on the bulk worker thread with a store connection of its own, and
 * the answer is made on the service thread when the last batch has
 * committed. The institution's claim (api_bulk_claim) is held from the
 * request to the answer.
 */
struct import_job {
	struct http_deferred d;
	struct app *app;
	int fd;				/* the CSV (owned) */
	int partial;
	struct institution inst;
	struct actor actor;
	char source[64];
	struct import im;
	size_t issued, already;
	int rc, valid_rows, list_full;
};

/* On the bulk thread. */
static void
import_run(struct work *w)
{
	struct import_job *j = (struct import_job *)w;
	struct import *im = &j->im;
	struct app a;
	FILE *fp = NULL;
	json_t *v;
	size_t i;
	int fd = dup(j->fd), fatal;

	if (fd < 0 || !(fp = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		j->rc = TC_EIO;
		return;
	}
	if ((j->rc = api_job_app_open(j->app, &a))) {
		fclose(fp);
		return;
	}
	im->app = &a;
	j->rc = import_pass(im, fp, 0);
	/* a header error (row 0) makes the whole file unusable */
	fatal = json_integer_value(json_object_get(json_array_get(im->errors, 0), "row")) == 0 &&
		json_array_size(im->errors) > 0;
	j->valid_rows = j->rc == 0 && !fatal && im->rows > 0 &&
			(im->nerrors == 0 || (j->partial && im->nerrors < im->rows));
	if (j->rc == 0 && j->valid_rows) {
		/* second pass: the same checks, then issue the valid rows */
		json_array_clear(im->errors);
		im->nerrors = im->rows = 0;
		api_keyset_cleanup(&im->keys);
		rewind(fp);
		j->rc = import_pass(im, fp, 1);
	}
	fclose(fp);
	json_array_foreach(im->results, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "status")), "issued") == 0)
			j->issued++;
		else
			j->already++;
	}
	/* audited here, after the last commit: the client may be gone */
	if (j->issued)
		api_audit_by(&a, &j->actor, j->source, j->inst.id, "credentials.imported",
			     j->inst.code, json_pack("{s:I, s:I, s:I}", "rows", (json_int_t)im->rows,
						     "issued", (json_int_t)j->issued,
						     "already_issued", (json_int_t)j->already));
	j->list_full = j->rc == TC_ETOOBIG && issuing_list_full(&a, j->inst.id);
	im->app = NULL;
	api_job_app_close(&a);
}

static void
import_finish(struct http_deferred *d, struct http_response *resp)
{
	struct import_job *j = (struct import_job *)d;
	struct import *im = &j->im;
	char detail[200];
	json_t *o;

	api_bulk_release(j->app, j->inst.id);
	if (!resp)
		goto out;
	if (j->rc == TC_ETOOBIG && j->list_full) {
		snprintf(detail, sizeof(detail), "the import stopped after %zu credentials had been"
			 " issued: %s", j->issued, LIST_FULL);
		problem_respond(resp, 409, NULL, detail);
		goto out;
	}
	if (j->rc) {
		snprintf(detail, sizeof(detail), "the import stopped (%s) after %zu credentials"
			 " had been issued", tc_strerror(j->rc), j->issued);
		problem_respond_err(resp, j->rc, detail);
		goto out;
	}
	o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:O, s:O}", "imported", j->valid_rows,
		      "rows", (json_int_t)im->rows, "issued", (json_int_t)j->issued,
		      "already_issued", (json_int_t)j->already, "error_count",
		      (json_int_t)im->nerrors, "errors", im->errors, "credentials", im->results);
	if (o && !j->valid_rows) {
		json_object_set_new(o, "type", json_string("about:blank"));
		json_object_set_new(o, "title", json_string("Unprocessable Content"));
		json_object_set_new(o, "status", json_integer(422));
		json_object_set_new(o, "detail", json_string(im->rows == 0 && im->nerrors == 0 ?
			"the file has no rows" : "some rows are invalid; nothing was issued (send"
			" partial=true to issue the valid rows)"));
	}
	api_reply_json(resp, j->valid_rows ? 200 : 422, o);
	if (!j->valid_rows && resp->status == 422)
		resp->content_type = "application/problem+json";
	http_response_header(resp, "cache-control", "no-store");
out:
	import_cleanup(im);
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static int
on_import(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct import_job *j;
	char partial[8] = "false";
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_CREDENTIALS_ISSUE, inst.id))
		return 0;
	if (api_query(req, "partial", partial, sizeof(partial)) == TC_EINVALID ||
	    (strcmp(partial, "true") && strcmp(partial, "false")))
		return problem_respond(resp, 400, NULL, "partial must be true or false"), 0;
	if (strncmp(req->content_type, "text/csv", 8) != 0)
		return problem_respond(resp, 415, NULL, "send the rows as text/csv (UTF-8)"), 0;
	if (req->body_fd < 0)
		return problem_respond(resp, 422, NULL, "the file is empty"), 0;
	if (!(j = calloc(1, sizeof(*j))) || !(j->im.errors = json_array()) ||
	    !(j->im.results = json_array()) ||
	    !(j->im.pend = calloc(CRED_IMPORT_BATCH, sizeof(*j->im.pend)))) {
		if (j)
			import_cleanup(&j->im);
		free(j);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	if ((rc = api_bulk_claim(app, inst.id))) {
		import_cleanup(&j->im);
		free(j);
		if (rc == 429)
			api_bulk_refuse(resp, "not imported");
		else
			problem_respond(resp, 503, NULL, "too many imports are running; try again"
					" shortly");
		return 0;
	}
	j->app = app;
	j->fd = req->body_fd;
	req->body_fd = -1;		/* the job owns it now */
	j->partial = strcmp(partial, "true") == 0;
	j->inst = inst;
	j->im.institution_id = inst.id;
	j->actor = req->actor;
	snprintf(j->source, sizeof(j->source), "%s", req->peer);
	j->d.work.run = import_run;
	j->d.finish = import_finish;
	j->d.bulk = 1;
	req->deferred = &j->d;
	return 0;
}

const struct route api_vcapi_routes[] = {
	{ HTTP_POST, "/credentials/issue", on_issue, "vcapi_issue" },
	{ HTTP_POST, "/api/v1/institutions/{code}/credentials:import", on_import,
	  "credentials_import", ROUTE_BODY_FILE, IMPORT_MAX_BODY, import_precheck },
};
const size_t api_vcapi_routes_count = sizeof(api_vcapi_routes) / sizeof(api_vcapi_routes[0]);
