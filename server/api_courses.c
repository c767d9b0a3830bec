/*
 * api_courses.c - courses, the catalog and enrolment over HTTP: create and
 * edit courses (lecturers and admins of the institution), publish and
 * archive them, co-lecturers, the public catalog with filters, free-text
 * search (diacritics-insensitive) and keyset pagination, enrolment and
 * the roster (JSON or CSV).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/course.h"
#include "courses/crypto.h"
#include "courses/csv.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/log.h"
#include "courses/markdown.h"
#include "courses/package.h"
#include "server/api_courses.h"
#include "server/api_materials.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/config.h"
#include "server/issuing.h"
#include "server/media_jobs.h"
#include "server/problem.h"
#include "storage/completion.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"

#define LIST_MAX 100
#define SEARCH_TEXT_MAX (COURSE_DESCRIPTION_MAX + 2048)

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static int
bad(struct http_response *resp, const char *detail)
{
	problem_respond(resp, 400, NULL, detail);
	return TC_EINVALID;
}

static json_t *
course_json(struct app *app, const struct course *c, int full)
{
	struct institution inst;
	char credits[16];
	json_t *tags = json_array(), *o;

	course_credits_format(c->credits_x10, credits);
	for (const char *p = c->tags; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		json_array_append_new(tags, json_stringn(p, l));
		p += l + (e ? 1 : 0);
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}",
		      "uid", c->uid, "code", c->code, "title", c->title,
		      "institution", store_institution_get_id(app->store, c->institution_id, &inst) == 0
		      ? inst.code : "", "language", c->language, "credits", credits,
		      "level", c->level, "tags", tags, "status", course_status_name(c->status));
	if (full) {
		struct dynbuf html;

		json_object_set_new(o, "description", json_string(c->description));
		dynbuf_init(&html, (size_t)4 << 20);
		if (markdown_render(c->description, strlen(c->description), &html) == 0)
			json_object_set_new(o, "description_html", json_string(dynbuf_str(&html)));
		dynbuf_cleanup(&html);
		json_object_set_new(o, "starts_on", c->starts_on[0] ? json_string(c->starts_on) : json_null());
		json_object_set_new(o, "ends_on", c->ends_on[0] ? json_string(c->ends_on) : json_null());
		json_object_set_new(o, "capacity", c->capacity ? json_integer(c->capacity) : json_null());
	}
	return o;
}

/* Reads the editable fields present in BODY into C (absent ones keep their
 * value). On a bad value RESP holds a 400 and non-zero is returned. */
static int
read_fields(json_t *body, struct course *c, struct http_response *resp)
{
	const char *v;
	json_t *tags, *t;
	size_t i, o = 0;
	int badtype = 0;

	if ((v = api_str(body, "code", &badtype))) {
		if (course_code_check(v))
			return bad(resp, "code must be 1 to 32 of A-Z a-z 0-9 . _ -");
		snprintf(c->code, sizeof(c->code), "%s", v);
	}
	if ((v = api_str(body, "title", &badtype))) {
		if (person_name_check(v) || strlen(v) > COURSE_TITLE_MAX)
			return bad(resp, "title must be UTF-8 text of 1 to 200 bytes without control characters");
		snprintf(c->title, sizeof(c->title), "%s", v);
	}
	if ((v = api_str(body, "description", &badtype))) {
		if (strlen(v) > COURSE_DESCRIPTION_MAX || utf8_check(v, strlen(v)))
			return bad(resp, "description must be UTF-8 Markdown of at most 16384 bytes");
		snprintf(c->description, sizeof(c->description), "%s", v);
	}
	if ((v = api_str(body, "language", &badtype))) {
		if (course_language_check(v))
			return bad(resp, "language must be an ISO 639-1 code such as vi or en");
		snprintf(c->language, sizeof(c->language), "%s", v);
	}
	if ((v = api_str(body, "credits", &badtype))) {
		if (course_credits_parse(v, &c->credits_x10))
			return bad(resp, "credits must be a positive number with at most one decimal, e.g. \"3\" or \"1.5\"");
	}
	if ((v = api_str(body, "level", &badtype))) {
		if (course_level_check(v))
			return bad(resp, "level must be up to 63 of a-z 0-9 -");
		snprintf(c->level, sizeof(c->level), "%s", v);
	}
	if ((tags = json_object_get(body, "tags"))) {
		if (!json_is_array(tags))
			return bad(resp, "tags must be a list of strings");
		c->tags[0] = '\0';
		json_array_foreach(tags, i, t) {
			const char *s = json_string_value(t);
			int n = s ? snprintf(c->tags + o, sizeof(c->tags) - o, "%s%s", o ? "," : "", s) : -1;
			if (n < 0 || (size_t)n >= sizeof(c->tags) - o || strchr(s, ','))
				return bad(resp, "tags must be at most 20 words of 1 to 40 bytes, without commas");
			o += (size_t)n;
		}
		if (course_tags_check(c->tags))
			return bad(resp, "tags must be at most 20 words of 1 to 40 bytes, without commas");
	}
	if ((v = api_str(body, "starts_on", &badtype)) || json_is_null(json_object_get(body, "starts_on"))) {
		if (v && date_check(v, NULL))
			return bad(resp, "starts_on must be a date YYYY-MM-DD");
		snprintf(c->starts_on, sizeof(c->starts_on), "%s", v ? v : "");
	}
	if ((v = api_str(body, "ends_on", &badtype)) || json_is_null(json_object_get(body, "ends_on"))) {
		if (v && date_check(v, NULL))
			return bad(resp, "ends_on must be a date YYYY-MM-DD");
		snprintf(c->ends_on, sizeof(c->ends_on), "%s", v ? v : "");
	}
	if (c->starts_on[0] && c->ends_on[0] && strcmp(c->starts_on, c->ends_on) > 0)
		return bad(resp, "ends_on is before starts_on");
	if ((t = json_object_get(body, "capacity"))) {
		if (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 10000000)
			return bad(resp, "capacity must be a whole number of places (0: unlimited)");
		c->capacity = json_integer_value(t);
	}
	if ((t = json_object_get(body, "enrol_opens_at"))) {
		if (!json_is_integer(t) || json_integer_value(t) < 0)
			return bad(resp, "enrol_opens_at must be a Unix time (0: none)");
		c->enrol_opens_at = json_integer_value(t);
	}
	if ((t = json_object_get(body, "enrol_closes_at"))) {
		if (!json_is_integer(t) || json_integer_value(t) < 0)
			return bad(resp, "enrol_closes_at must be a Unix time (0: none)");
		c->enrol_closes_at = json_integer_value(t);
	}
	if (badtype)
		return bad(resp, "text fields must be strings");
	return 0;
}

static int
search_text(struct app *app, const struct course *c, char **out)
{
	struct institution inst;
	int rc;

	*out = malloc(SEARCH_TEXT_MAX);
	if (!*out)
		return TC_ENOMEM;
	rc = store_institution_get_id(app->store, c->institution_id, &inst);
	if (rc == 0)
		rc = course_search_text(c, inst.name, *out, SEARCH_TEXT_MAX);
	return rc;
}

static int
on_course_create(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct course *c = NULL;
	char *text = NULL;
	json_t *body = NULL;
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_COURSE_CREATE, inst.id) || api_read_json(req, resp, &body))
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	c->institution_id = inst.id;
	c->owner_id = req->actor.person_id;
	c->status = COURSE_DRAFT;
	if (read_fields(body, c, resp))
		goto out;
	if (!c->code[0] || !c->title[0] || !c->language[0] || !c->credits_x10) {
		bad(resp, "a course needs code, title, language and credits");
		goto out;
	}
	c->created_at = now_s();
	if ((rc = uuid_v4(c->uid)) || (rc = search_text(app, c, &text)) ||
	    (rc = store_course_add(app->store, c, text))) {
		if (rc == TC_ECONFLICT)
			problem_respond(resp, 409, NULL, "the institution has a course with this code already");
		else
			problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, inst.id, "course.created", c->uid, json_pack("{s:s}", "code", c->code));
	api_reply_json(resp, 201, course_json(app, c, 1));
out:
	free(text);
	free(c);
	json_decref(body);
	return 0;
}

/* Loads the course UID (usually the {uid} parameter) and whether the caller
 * teaches it. 404 when absent, or when it is not published and the caller may not
 * edit it (its existence is not revealed). */
static int
load_course(struct app *app, const struct http_request *req, struct http_response *resp,
	    const char *uid, struct course *c, int *teaches, int *may_edit)
{
	int rc = uid ? store_course_get(app->store, uid, c) : TC_ENOTFOUND;

	*teaches = 0;
	if (rc == 0 && req->actor.kind == ACTOR_PERSON)
		rc = store_course_is_lecturer(app->store, c->id, req->actor.person_id, teaches);
	*may_edit = rc == 0 && authz_check_course(&req->actor, AZ_COURSE_EDIT, c->institution_id,
						   *teaches) == 0;
	if (rc == 0 && c->status != COURSE_PUBLISHED && !*may_edit)
		rc = TC_ENOTFOUND;
	if (rc == TC_ENOTFOUND)
		problem_respond(resp, 404, NULL, "no such course");
	else if (rc)
		problem_respond_err(resp, rc, NULL);
	return rc;
}

int
api_course_editable(struct app *app, const struct http_request *req,
		    struct http_response *resp, const char *uid, struct course *c)
{
	int teaches, may_edit, rc;

	if (req->actor.kind == ACTOR_NONE) {	/* 401 for any course that exists */
		rc = uid ? store_course_get(app->store, uid, c) : TC_ENOTFOUND;
		if (rc == TC_ENOTFOUND)
			problem_respond(resp, 404, NULL, "no such course");
		else if (rc)
			problem_respond_err(resp, rc, NULL);
		else
			rc = api_allow(req, resp, AZ_COURSE_EDIT, c->institution_id);
		return rc;
	}
	rc = load_course(app, req, resp, uid, c, &teaches, &may_edit);

	if (rc == 0 && !may_edit) {
		api_allow(req, resp, AZ_COURSE_EDIT, -1);
		rc = TC_EFORBIDDEN;
	}
	return rc;
}

/* Adds "credential_issue" (editors only) to O. */
static void
add_issue_mode(struct app *app, const struct course *c, json_t *o)
{
	char mode[16];

	if (store_course_issue_mode(app->store, c->id, mode) == 0)
		json_object_set_new(o, "credential_issue", json_string(mode));
}

static int
on_course_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	int teaches, may_edit;
	int64_t n = 0;
	json_t *o;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (load_course(app, req, resp, http_request_param(req, "uid"), c, &teaches, &may_edit) == 0) {
		o = course_json(app, c, 1);
		store_enrolment_count(app->store, c->id, &n);
		json_object_set_new(o, "enrolled", json_integer(n));
		json_object_set_new(o, "you_teach", json_boolean(teaches));
		json_object_set_new(o, "units", api_units_json(app, c->id));
		if (may_edit)
			add_issue_mode(app, c, o);
		if (req->actor.kind == ACTOR_PERSON) {
			int yes = 0;
			store_is_enrolled(app->store, c->id, req->actor.person_id, &yes);
			json_object_set_new(o, "you_are_enrolled", json_boolean(yes));
		}
		api_reply_json(resp, 200, o);
	}
	free(c);
	return 0;
}

static int
on_course_update(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	const char *mode = NULL;
	char *text = NULL;
	json_t *body = NULL, *t, *o;
	int rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c))
		goto out;
	if (api_read_json(req, resp, &body) || read_fields(body, c, resp))
		goto out;
	if (json_object_get(body, "status")) {
		bad(resp, "change the status with POST .../status");
		goto out;
	}
	if ((t = json_object_get(body, "credential_issue")) &&
	    (!(mode = json_string_value(t)) || (strcmp(mode, "auto") != 0 && strcmp(mode, "approval") != 0))) {
		bad(resp, "credential_issue must be \"auto\" or \"approval\"");
		goto out;
	}
	c->updated_at = now_s();
	/* the fields and the issuing mode commit together, or neither */
	if ((rc = search_text(app, c, &text)) == 0 && (rc = store_begin(app->store)) == 0) {
		rc = store_course_update(app->store, c, text);
		if (rc == 0 && mode)
			rc = store_course_set_issue_mode(app->store, c->id, mode);
		if (rc == 0)
			rc = store_commit(app->store);
		if (rc)
			store_rollback(app->store);
	}
	if (rc) {
		if (rc == TC_ECONFLICT)
			problem_respond(resp, 409, NULL, "the institution has a course with this code already");
		else
			problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, c->institution_id, "course.updated", c->uid,
		  mode ? json_pack("{s:s}", "credential_issue", mode) : NULL);
	/* switched to automatic: the completions waiting for approval are issued now */
	if (mode && strcmp(mode, "auto") == 0 && issuing_run(app, NULL))
		log_warn("course %s: pending credentials wait in the outbox", c->uid);
	o = course_json(app, c, 1);
	add_issue_mode(app, c, o);
	api_reply_json(resp, 200, o);
out:
	free(text);
	free(c);
	json_decref(body);
	return 0;
}

static int
on_course_status(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	enum course_status to, from;
	char *text = NULL;
	json_t *body = NULL;
	int rc, bad_type = 0;
	int64_t enrolled = 0;
	const char *v;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c))
		goto out;
	if (api_read_json(req, resp, &body))
		goto out;
	v = api_str(body, "status", &bad_type);
	if (!v || course_status_parse(v, &to)) {
		bad(resp, "send {\"status\": \"draft\" | \"published\" | \"archived\"}");
		goto out;
	}
	from = c->status;
	store_enrolment_count(app->store, c->id, &enrolled);
	if (course_status_change_ok(from, to) ||
	    (from == COURSE_PUBLISHED && to == COURSE_DRAFT && enrolled > 0)) {
		char detail[160];
		snprintf(detail, sizeof(detail), "a %s course cannot become %s%s", course_status_name(from),
			 course_status_name(to), enrolled ? " while learners are enrolled" : "");
		problem_respond(resp, 409, NULL, detail);
		goto out;
	}
	c->status = to;
	c->updated_at = now_s();
	if ((rc = search_text(app, c, &text)) || (rc = store_course_update(app->store, c, text))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, c->institution_id, "course.status", c->uid,
		  json_pack("{s:s, s:s}", "from", course_status_name(from), "to", course_status_name(to)));
	api_reply_json(resp, 200, course_json(app, c, 1));
out:
	free(text);
	free(c);
	json_decref(body);
	return 0;
}

static int
on_lecturer_add(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct membership m[ACTOR_ROLES_MAX];
	struct person p;
	json_t *body = NULL;
	int n = 0, ok = 0, bad_type = 0, rc;
	const char *nid;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c))
		goto out;
	if (api_read_json(req, resp, &body))
		goto out;
	nid = api_str(body, "national_id", &bad_type);
	if (!nid || national_id_check(nid)) {
		bad(resp, "send {\"national_id\": \"...\"} of a lecturer of the institution");
		goto out;
	}
	rc = store_person_get_by_nid(app->store, nid, &p);
	if (rc == 0)
		rc = store_memberships(app->store, p.id, m, ACTOR_ROLES_MAX, &n);
	for (int i = 0; rc == 0 && i < n; i++)
		ok |= m[i].role == ROLE_LECTURER && m[i].institution_id == c->institution_id;
	if (rc == TC_ENOTFOUND || (rc == 0 && !ok)) {
		problem_respond(resp, 422, NULL, "co-lecturers must be lecturers of the course's institution");
		goto out;
	}
	if (rc || (rc = store_course_lecturer_add(app->store, c->id, p.id))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, c->institution_id, "course.lecturer_added", c->uid,
		  json_pack("{s:s}", "person", p.uid));
	api_reply_json(resp, 200, json_pack("{s:s, s:s}", "uid", p.uid, "full_name", p.full_name));
out:
	free(c);
	json_decref(body);
	return 0;
}

static int
on_enrol(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	int teaches, may_edit, added = 0, rc;
	int64_t now = now_s(), n = 0;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_allow(req, resp, AZ_COURSE_ENROL, 0) ||
	    load_course(app, req, resp, http_request_param(req, "uid"), c, &teaches, &may_edit))
		goto out;
	if (c->status != COURSE_PUBLISHED) {
		problem_respond(resp, 409, NULL, "only published courses take learners");
		goto out;
	}
	if ((c->enrol_opens_at && now < c->enrol_opens_at) ||
	    (c->enrol_closes_at && now >= c->enrol_closes_at)) {
		problem_respond(resp, 409, NULL, "enrolment for this course is not open now");
		goto out;
	}
	rc = store_begin(app->store);
	if (rc == 0)
		rc = store_enrolment_count(app->store, c->id, &n);
	if (rc == 0 && c->capacity && n >= c->capacity) {
		int yes = 0;
		store_is_enrolled(app->store, c->id, req->actor.person_id, &yes);
		if (!yes) {
			store_rollback(app->store);
			problem_respond(resp, 409, NULL, "the course is full");
			goto out;
		}
	}
	if (rc == 0)
		rc = store_enrol(app->store, c->id, req->actor.person_id, now, &added);
	if (rc == 0)
		rc = store_commit(app->store);
	if (rc) {
		store_rollback(app->store);
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	if (added)
		api_audit(app, req, c->institution_id, "course.enrolled", c->uid, NULL);
	api_reply_json(resp, added ? 201 : 200, json_pack("{s:s, s:b}", "course", c->uid, "enrolled", 1));
out:
	free(c);
	return 0;
}

static int
on_unenrol(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	int teaches, may_edit, rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_allow(req, resp, AZ_COURSE_ENROL, 0) ||
	    load_course(app, req, resp, http_request_param(req, "uid"), c, &teaches, &may_edit))
		goto out;
	rc = store_unenrol(app->store, c->id, req->actor.person_id, now_s());
	if (rc == TC_ENOTFOUND)
		problem_respond(resp, 404, NULL, "you are not enrolled in this course");
	else if (rc)
		problem_respond_err(resp, rc, NULL);
	else
		resp->status = 204;
out:
	free(c);
	return 0;
}

struct roster_ctx {
	json_t *list;
	struct dynbuf *csv;
	int64_t last;
};

static int
add_roster(int64_t person_id, const char *uid, const char *name, const char *scode,
	   int64_t enrolled_at, void *arg)
{
	struct roster_ctx *r = arg;
	char at[32];

	api_time(enrolled_at, at);
	r->last = person_id;
	if (r->csv)
		return csv_put_field(r->csv, uid, 0) || csv_put_field(r->csv, name, 0) ||
		       csv_put_field(r->csv, scode, 0) || csv_put_field(r->csv, at, 1) ? TC_ENOMEM : 0;
	return json_array_append_new(r->list, json_pack("{s:s, s:s, s:s?, s:s}", "uid", uid,
		"full_name", name, "student_code", scode[0] ? scode : NULL, "enrolled_at", at));
}

static int
on_roster(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct roster_ctx r = { 0 };
	int teaches, may_edit;
	int64_t after, limit;
	char format[8] = "json";

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (load_course(app, req, resp, http_request_param(req, "uid"), c, &teaches, &may_edit))
		goto out;
	if (authz_check_course(&req->actor, AZ_COURSE_ROSTER, c->institution_id, teaches)) {
		api_allow(req, resp, AZ_COURSE_ROSTER, -1);
		goto out;
	}
	if (api_query_int(req, "after", 0, 0, INT64_MAX, &after) ||
	    api_query_int(req, "limit", 100, 1, 100000, &limit) ||
	    api_query(req, "format", format, sizeof(format)) == TC_EINVALID ||
	    (strcmp(format, "json") && strcmp(format, "csv"))) {
		bad(resp, "query: after=N, limit=1..100000, format=json|csv");
		goto out;
	}
	if (strcmp(format, "csv") == 0) {
		r.csv = &resp->body;
		dynbuf_puts(r.csv, "uid,full_name,student_code,enrolled_at\r\n");
	} else {
		r.list = json_array();
	}
	if (store_roster_each(app->store, c->id, after, (int)limit, add_roster, &r)) {
		json_decref(r.list);
		problem_respond_err(resp, TC_EDB, NULL);
		goto out;
	}
	if (r.csv) {
		resp->status = 200;
		resp->content_type = "text/csv; charset=utf-8";
		http_response_header(resp, "content-disposition", "attachment; filename=\"roster.csv\"");
	} else {
		json_t *o = json_pack("{s:o}", "learners", r.list);
		if ((int64_t)json_array_size(r.list) == limit)
			json_object_set_new(o, "next_after", json_integer(r.last));
		api_reply_json(resp, 200, o);
	}
out:
	free(c);
	return 0;
}

/* ---- packages ------------------------------------------------------------------ */

struct export_job {
	struct http_deferred d;
	struct app *app;
	struct course c;
	struct actor actor;		/* who asked, for the audit */
	char peer[64];
	int fd;				/* the package, an unnamed file in DATA/content */
	int rc;
	char why[256];
};

/* On a bulk worker: a course's files can take minutes to copy into the
 * zip, which the service thread must never wait for. */
static void
export_run(struct work *w)
{
	struct export_job *j = (struct export_job *)w;
	char dir[PATH_MAX + 16];
	struct store *st = NULL;

	snprintf(dir, sizeof(dir), "%s/content", j->app->cfg->data_dir);
	j->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		j->rc = errno == ENOSPC ? TC_ETOOBIG : TC_EIO;
		snprintf(j->why, sizeof(j->why), "no room for the package");
		return;
	}
	j->rc = store_open(j->app->cfg->data_dir, &st);
	if (j->rc == 0)
		j->rc = package_export(st, j->app->cfg->data_dir, &j->c, j->fd, j->why,
				       sizeof(j->why));
	store_close(st);
}

static void
export_finish(struct http_deferred *d, struct http_response *resp)
{
	struct export_job *j = (struct export_job *)d;
	char disp[96];

	if (!resp)
		goto out;
	if (j->rc) {
		problem_respond(resp, j->rc == TC_ETOOBIG ? 413 : 500, NULL,
				j->rc == TC_ETOOBIG ? "the course's files are too large for one package "
				"(4 GiB in all, or the disk is full)" : j->why[0] ? j->why : tc_strerror(j->rc));
		goto out;
	}
	resp->status = 200;
	resp->content_type = "application/zip";
	resp->file_off = 0;
	resp->file_len = lseek(j->fd, 0, SEEK_END);
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.zip\"", j->c.code);
	http_response_header(resp, "content-disposition", disp);
	http_response_header(resp, "cache-control", "no-store");
	resp->fd = j->fd;
	j->fd = -1;
	api_audit_by(j->app, &j->actor, j->peer, j->c.institution_id, "course.exported", j->c.uid,
		     NULL);
out:
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static int
on_export(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct export_job *j = calloc(1, sizeof(*j));

	if (!j)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), &j->c)) {
		free(j);
		return 0;
	}
	j->app = app;
	j->fd = -1;
	j->actor = req->actor;
	snprintf(j->peer, sizeof(j->peer), "%s", req->peer);
	j->d.work.run = export_run;
	j->d.finish = export_finish;
	j->d.bulk = 1;
	req->deferred = &j->d;
	return 0;
}

static int
import_precheck(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;

	return api_institution(app, req, resp, &inst) ||
	       api_allow(req, resp, AZ_COURSE_CREATE, inst.id);
}

struct pkg_job {
	struct http_deferred d;
	struct app *app;
	int fd;
	int64_t institution_id, owner_id;
	char code[COURSE_CODE_MAX + 1];
	char source[64];
	struct course c;
	char why[256];
	int rc;
};

static void
pkg_run(struct work *w)
{
	struct pkg_job *j = (struct pkg_job *)w;
	struct store *st = NULL;
	int64_t used = 0;

	j->rc = store_open(j->app->cfg->data_dir, &st);
	if (j->rc == 0)
		j->rc = store_institution_usage(st, j->institution_id, &used);
	if (j->rc == 0)
		j->rc = package_import(st, j->app->cfg->data_dir, j->fd, j->institution_id, j->owner_id,
				       j->code[0] ? j->code : NULL, j->app->cfg->institution_quota - used,
				       &j->c, j->why, sizeof(j->why));
	store_close(st);
}

static void
pkg_finish(struct http_deferred *d, struct http_response *resp)
{
	struct pkg_job *j = (struct pkg_job *)d;
	struct actor owner = { .kind = ACTOR_PERSON };

	if (!resp)
		goto out;
	if (j->rc) {
		int status = j->rc == TC_EINVALID ? 422 : j->rc == TC_EUNSUPPORTED ? 415
			     : j->rc == TC_ETOOBIG && strcmp(j->why, PACKAGE_QUOTA_WHY) == 0 ? 507
			     : problem_status_for(j->rc);
		problem_respond(resp, status, NULL, j->why[0] ? j->why : tc_strerror(j->rc));
		goto out;
	}
	owner.person_id = j->owner_id;
	api_audit_by(j->app, &owner, j->source, j->institution_id, "course.imported", j->c.uid,
		     json_pack("{s:s}", "code", j->c.code));
	media_jobs_kick(j->app->media);	/* its lectures are in the queue */
	api_reply_json(resp, 201, course_json(j->app, &j->c, 1));
out:
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static int
on_import(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct pkg_job *j;
	char code[COURSE_CODE_MAX + 2] = "";

	if (import_precheck(app, req, resp) || api_institution(app, req, resp, &inst))
		return 0;
	if (api_query(req, "code", code, sizeof(code)) == TC_EINVALID || (code[0] && course_code_check(code)))
		return bad(resp, "code must be 1 to 32 of A-Z a-z 0-9 . _ -"), 0;
	if (req->body_fd < 0)
		return problem_respond(resp, 422, NULL, "the package is empty"), 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	j->app = app;
	j->fd = req->body_fd;
	req->body_fd = -1;
	j->institution_id = inst.id;
	j->owner_id = req->actor.person_id;
	snprintf(j->code, sizeof(j->code), "%s", code);
	snprintf(j->source, sizeof(j->source), "%s", req->peer);
	j->d.work.run = pkg_run;
	j->d.finish = pkg_finish;
	j->d.bulk = 1;
	req->deferred = &j->d;
	return 0;
}

/* ---- the catalog ------------------------------------------------------------ */

struct catalog_ctx {
	struct app *app;
	json_t *list;
	int64_t last_id;
	double last_rank;
	const char *typed;		/* the q the person typed, "" when none */
};

static int
add_catalog(const struct course *c, double rank, void *arg)
{
	struct catalog_ctx *cc = arg;
	json_t *o = course_json(cc->app, c, 0);

	cc->last_id = c->id;
	cc->last_rank = rank;
	if (o && cc->typed[0]) {	/* the title as HTML with the matches marked */
		struct dynbuf b;

		dynbuf_init(&b, 16384);
		if (course_highlight(c->title, cc->typed, &b) == 0)
			json_object_set_new(o, "highlight", json_pack("{s:s}", "title", dynbuf_str(&b)));
		dynbuf_cleanup(&b);
	}
	return json_array_append_new(cc->list, o);
}

static int
on_catalog(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct catalog_query q;
	struct catalog_ctx cc = { app, NULL, 0, 0, "" };
	struct institution inst;
	char v[600], cursor[64];
	int64_t limit;
	json_t *o;
	int rc;

	memset(&q, 0, sizeof(q));
	if (api_query(req, "institution", v, sizeof(v)) == 0) {
		if (store_institution_get(app->store, v, &inst))
			return bad(resp, "no institution with that code"), 0;
		q.institution_id = inst.id;
	}
	if (api_query(req, "language", v, sizeof(v)) == 0) {
		if (course_language_check(v))
			return bad(resp, "language must be an ISO 639-1 code"), 0;
		memcpy(q.language, v, strlen(v) + 1);	/* checked: at most 5 bytes */
	}
	if (api_query(req, "level", v, sizeof(v)) == 0) {
		if (course_level_check(v))
			return bad(resp, "level must be up to 63 of a-z 0-9 -"), 0;
		memcpy(q.level, v, strlen(v) + 1);	/* checked: at most 63 bytes */
	}
	if (api_query(req, "credits", v, sizeof(v)) == 0 && course_credits_parse(v, &q.credits_x10))
		return bad(resp, "credits must look like 3 or 1.5"), 0;
	char typed[600] = "";
	rc = api_query(req, "q", typed, sizeof(typed));
	if (rc == TC_EINVALID || (rc == 0 && typed[0] && course_search_query(typed, q.match, sizeof(q.match))))
		return bad(resp, "q must be up to 512 bytes with at least one word"), 0;
	cc.typed = typed;
	if (api_query_int(req, "limit", 20, 1, LIST_MAX, &limit))
		return bad(resp, "limit must be 1 to 100"), 0;
	q.limit = (int)limit;
	if (api_query(req, "after", cursor, sizeof(cursor)) == 0) {
		char *colon = strchr(cursor, ':'), *end;
		long long id;

		if (q.match[0] && colon) {
			*colon = '\0';
			q.after_rank = strtod(cursor, &end);
			if (*end)
				return bad(resp, "after must be the next cursor of the previous page"), 0;
			id = strtoll(colon + 1, &end, 10);
		} else {
			id = strtoll(cursor, &end, 10);
		}
		if (*end || id <= 0)
			return bad(resp, "after must be the next cursor of the previous page"), 0;
		q.after_id = id;
	}
	cc.list = json_array();
	rc = store_catalog_each(app->store, &q, add_catalog, &cc);
	if (rc) {
		json_decref(cc.list);
		if (rc == TC_EINVALID)
			return bad(resp, "the search could not be understood"), 0;
		return problem_respond_err(resp, rc, NULL);
	}
	o = json_pack("{s:o}", "courses", cc.list);
	if ((int64_t)json_array_size(cc.list) == limit) {
		if (q.match[0])
			snprintf(cursor, sizeof(cursor), "%.17g:%lld", cc.last_rank, (long long)cc.last_id);
		else
			snprintf(cursor, sizeof(cursor), "%lld", (long long)cc.last_id);
		json_object_set_new(o, "next", json_string(cursor));
	}
	http_response_header(resp, "cache-control", "public, max-age=30");
	return api_reply_json(resp, 200, o);
}

/* ---- the caller's own courses ---------------------------------------------- */

struct mine_ctx {
	struct app *app;
	json_t *list;
	int64_t person_id;
};

static int
add_mine(const struct course *c, int64_t enrolled_at, void *arg)
{
	struct mine_ctx *m = arg;
	json_t *o = course_json(m->app, c, 0);
	struct completion_rec done;
	char when[32];
	int rc;

	if (!o)
		return TC_ENOMEM;
	api_time(enrolled_at, when);
	json_object_set_new(o, "enrolled_at", json_string(when));
	memset(&done, 0, sizeof(done));
	rc = store_completion_get(m->app->store, c->id, m->person_id, &done);
	if (rc == 0) {
		char grade[16];

		snprintf(grade, sizeof(grade), "%d.%02d", done.grade_x100 / 100, done.grade_x100 % 100);
		json_object_set_new(o, "completion",
				    json_pack("{s:s, s:s?, s:b, s:o}", "grade", grade,
					      "letter", done.letter[0] ? done.letter : NULL,
					      "passed", done.passed,
					      "completed_at", api_time_json(done.completed_at)));
	} else if (rc == TC_ENOTFOUND) {
		json_object_set_new(o, "completion", json_null());
	}
	free(done.evidence);
	if (rc && rc != TC_ENOTFOUND) {
		json_decref(o);
		return rc;
	}
	return json_array_append_new(m->list, o) ? TC_ENOMEM : 0;
}

/* A signed-in person's list of courses, filled by FILL: 200 {courses}, or
 * 401/403 with DENIED as the detail. */
static int
reply_my_list(struct app *app, struct http_request *req, struct http_response *resp,
	      const char *denied, int (*fill)(struct mine_ctx *m))
{
	struct mine_ctx m = { app, json_array(), req->actor.person_id };
	int rc;

	if (!req->actor.person_id) {
		json_decref(m.list);
		return problem_respond(resp, req->actor.kind == ACTOR_NONE ? 401 : 403, NULL,
				       denied);
	}
	rc = m.list ? fill(&m) : TC_ENOMEM;
	if (rc) {
		json_decref(m.list);
		return problem_respond_err(resp, rc, NULL);
	}
	api_reply_json(resp, 200, json_pack("{s:o}", "courses", m.list));
	return 0;
}

static int
fill_mine(struct mine_ctx *m)
{
	return store_my_courses_each(m->app->store, m->person_id, 1000, add_mine, m);
}

static int
on_my_courses(struct app *app, struct http_request *req, struct http_response *resp)
{
	return reply_my_list(app, req, resp, "sign in as a person to see your courses",
			     fill_mine);
}

static int
add_taught(const struct course *c, void *arg)
{
	struct mine_ctx *m = arg;
	json_t *o = course_json(m->app, c, 0);

	return o && json_array_append_new(m->list, o) == 0 ? 0 : TC_ENOMEM;
}

static int
fill_taught(struct mine_ctx *m)
{
	return store_teaching_each(m->app->store, m->person_id, 1000, add_taught, m);
}

/* GET /api/v1/me/teaching: the courses the caller owns or co-teaches, any
 * status (drafts included), the newest first, at most 1,000. */
static int
on_my_teaching(struct app *app, struct http_request *req, struct http_response *resp)
{
	return reply_my_list(app, req, resp,
			     "sign in as a person to see the courses you teach", fill_taught);
}

const struct route api_courses_routes[] = {
	{ HTTP_GET, "/api/v1/courses", on_catalog, "catalog" },
	{ HTTP_POST, "/api/v1/institutions/{code}/courses", on_course_create, "course_create" },
	{ HTTP_GET, "/api/v1/courses/{uid}", on_course_get, "course_get" },
	{ HTTP_PATCH, "/api/v1/courses/{uid}", on_course_update, "course_update" },
	{ HTTP_POST, "/api/v1/courses/{uid}/status", on_course_status, "course_status" },
	{ HTTP_POST, "/api/v1/courses/{uid}/lecturers", on_lecturer_add, "course_lecturer_add" },
	{ HTTP_POST, "/api/v1/courses/{uid}/enrolment", on_enrol, "enrol" },
	{ HTTP_DELETE, "/api/v1/courses/{uid}/enrolment", on_unenrol, "unenrol" },
	{ HTTP_GET, "/api/v1/courses/{uid}/roster", on_roster, "roster" },
	{ HTTP_GET, "/api/v1/courses/{uid}/package", on_export, "course_export" },
	{ HTTP_POST, "/api/v1/institutions/{code}/courses:import", on_import, "course_import",
	  ROUTE_BODY_FILE, (int64_t)8 << 30, import_precheck },
	{ HTTP_GET, "/api/v1/me/courses", on_my_courses, "my_courses" },
	{ HTTP_GET, "/api/v1/me/teaching", on_my_teaching, "my_teaching" },
};
const size_t api_courses_routes_count = sizeof(api_courses_routes) / sizeof(api_courses_routes[0]);
