/*
 * api_reports.c - lecturers' progress reports over HTTP, for the editors
 * of a course (api_course_editable: its lecturers and the institution's
 * admins):
 *
 *   GET /api/v1/courses/{uid}/progress[?after=&limit=&format=json|csv]
 *       every enrolled learner (by person id, keyset pages like the
 *       roster) with their progress in every unit of the course, in course
 *       order, and a summary; learners who never started are listed with
 *       empty progress. format=csv: one row per learner, one column per
 *       unit (the percent), the whole course in one answer (up to
 *       REPORT_CSV_LEARNERS_MAX learners and REPORT_CSV_BYTES_MAX bytes).
 *   GET /api/v1/units/{uid}/progress/histogram[?buckets=10..600]
 *       how many learners watched each time bucket of a video unit, with
 *       started / completed counts, the median percent and the drop-off
 *       bucket (courses/report.h).
 *
 * Only people enrolled now are reported (storage/progress.h
 * store_progress_report_each). The summary columns are one table
 * (summary_cols) shared by the JSON and the CSV: a new column (a quiz
 * score, a grade) is one row there plus what fills it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/course.h"
#include "courses/csv.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/report.h"
#include "server/api_courses.h"
#include "server/api_progress.h"
#include "server/api_reports.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/problem.h"
#include "storage/courses.h"
#include "storage/progress.h"

#define REPORT_PAGE_DEFAULT 100
#define REPORT_PAGE_MAX 500
#define REPORT_CSV_LEARNERS_MAX 100000
#define REPORT_CSV_BYTES_MAX ((size_t)64 << 20)

struct rep_unit {
	int64_t id;
	char uid[37];
	char kind[16];
	char title[UNIT_TITLE_MAX + 1];
	int required, position;
};

struct rep_cell {
	int started;
	double percent;
	int64_t completed_at, viewed_at;
};

struct rep_learner {
	int64_t id;
	char uid[37];
	char name[256];
	char scode[80];
	struct rep_cell *cells;		/* [nunits], inside report.cells */
};

/* One page of the report: the units once, the learners of the page. */
struct report {
	struct rep_unit *units;
	size_t nunits, capunits;
	struct unit_ref {
		int64_t id;
		size_t at;		/* in units */
	} *by_id;			/* sorted by unit id */
	int64_t required_units;
	struct rep_learner *learners;	/* [page] */
	struct rep_cell *cells;		/* [page * nunits] */
	size_t page, n, at;
	int rc;
};

static void
report_cleanup(struct report *r)
{
	free(r->units);
	free(r->by_id);
	free(r->learners);
	free(r->cells);
	memset(r, 0, sizeof(*r));
}

/* ---- summary columns (JSON and CSV) -------------------------------------------- */

static int64_t
col_units_completed(const struct report *r, const struct rep_learner *l)
{
	int64_t n = 0;

	for (size_t i = 0; i < r->nunits; i++)
		n += l->cells[i].completed_at != 0;
	return n;
}

static int64_t
col_required_completed(const struct report *r, const struct rep_learner *l)
{
	int64_t n = 0;

	for (size_t i = 0; i < r->nunits; i++)
		n += r->units[i].required && l->cells[i].completed_at != 0;
	return n;
}

static int64_t
col_required_units(const struct report *r, const struct rep_learner *l)
{
	return r->required_units;
}

static const struct summary_col {
	const char *name;
	int64_t (*value)(const struct report *r, const struct rep_learner *l);
} summary_cols[] = {
	{ "units_completed", col_units_completed },
	{ "required_completed", col_required_completed },
	{ "required_units", col_required_units },
};
#define SUMMARY_COLS (sizeof(summary_cols) / sizeof(summary_cols[0]))

/* ---- loading ------------------------------------------------------------------- */

static int
add_unit(const struct unit *u, void *arg)
{
	struct report *r = arg;
	struct rep_unit *ru;

	if (GROW(&r->units, &r->capunits, r->nunits + 1, 16))
		return TC_ENOMEM;
	ru = &r->units[r->nunits++];
	ru->id = u->id;
	ru->required = u->required;
	ru->position = u->position;
	snprintf(ru->uid, sizeof(ru->uid), "%s", u->uid);
	snprintf(ru->kind, sizeof(ru->kind), "%s", u->kind);
	snprintf(ru->title, sizeof(ru->title), "%s", u->title);
	r->required_units += u->required != 0;
	return 0;
}

static int
cmp_unit_id(const void *a, const void *b)
{
	int64_t x = ((const struct unit_ref *)a)->id, y = ((const struct unit_ref *)b)->id;

	return x < y ? -1 : x > y;
}

/* Loads the units of COURSE_ID and makes room for pages of PAGE learners. */
static int
report_init(struct report *r, struct app *app, int64_t course_id, size_t page)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = store_units_each(app->store, course_id, add_unit, r)))
		return rc;
	r->page = page;
	r->by_id = malloc((r->nunits ? r->nunits : 1) * sizeof(*r->by_id));
	r->learners = calloc(page, sizeof(*r->learners));
	r->cells = calloc(page * (r->nunits ? r->nunits : 1), sizeof(*r->cells));
	if (!r->by_id || !r->learners || !r->cells)
		return TC_ENOMEM;
	for (size_t i = 0; i < r->nunits; i++)
		r->by_id[i] = (struct unit_ref){ r->units[i].id, i };
	qsort(r->by_id, r->nunits, sizeof(*r->by_id), cmp_unit_id);
	return 0;
}

/* Index of unit UNIT_ID in r->units, or -1. */
static long
unit_index(const struct report *r, int64_t unit_id)
{
	size_t lo = 0, hi = r->nunits;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t id = r->by_id[mid].id;

		if (id == unit_id)
			return (long)r->by_id[mid].at;
		if (id < unit_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int
add_learner(int64_t person_id, const char *uid, const char *name, const char *scode,
	    int64_t enrolled_at, void *arg)
{
	struct report *r = arg;
	struct rep_learner *l = &r->learners[r->n];

	if (r->n >= r->page)
		return TC_EINVALID;
	l->id = person_id;
	snprintf(l->uid, sizeof(l->uid), "%s", uid);
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->scode, sizeof(l->scode), "%s", scode);
	l->cells = r->cells + r->n * r->nunits;
	r->n++;
	return 0;
}

static int
add_row(const struct progress *p, void *arg)
{
	struct report *r = arg;
	long u = unit_index(r, p->unit_id);
	struct rep_cell *c;

	while (r->at < r->n && r->learners[r->at].id < p->person_id)
		r->at++;
	if (r->at == r->n || r->learners[r->at].id != p->person_id || u < 0)
		return 0;	/* enrolled after the roster was read, or a unit just added */
	c = &r->learners[r->at].cells[u];
	c->started = 1;
	c->percent = p->percent;
	c->completed_at = p->completed_at;
	c->viewed_at = p->viewed_at;
	return 0;
}

/* Loads the page of at most LIMIT (<= r->page) learners after AFTER. */
static int
report_page(struct report *r, struct app *app, int64_t course_id, int64_t after, size_t limit)
{
	int rc;

	r->n = r->at = 0;
	memset(r->cells, 0, r->page * (r->nunits ? r->nunits : 1) * sizeof(*r->cells));
	if ((rc = store_roster_each(app->store, course_id, after, (int)limit, add_learner, r)))
		return rc;
	if (r->n == 0 || r->nunits == 0)
		return 0;
	return store_progress_report_each(app->store, course_id, 0, after,
					  r->learners[r->n - 1].id, add_row, r);
}

/* ---- JSON ---------------------------------------------------------------------- */

static json_t *
units_json(const struct report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->nunits; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b, s:i}",
			"uid", r->units[i].uid, "title", r->units[i].title,
			"kind", r->units[i].kind, "required", r->units[i].required,
			"position", r->units[i].position));
	return a;
}

static json_t *
learner_json(const struct report *r, const struct rep_learner *l)
{
	json_t *cells = json_array(), *sum = json_object();

	for (size_t i = 0; i < r->nunits; i++) {
		const struct rep_cell *c = &l->cells[i];

		json_array_append_new(cells, json_pack("{s:b, s:f, s:o, s:o}",
			"started", c->started, "percent", c->percent,
			"completed_at", api_time_json(c->completed_at),
			"viewed_at", api_time_json(c->viewed_at)));
	}
	for (size_t i = 0; i < SUMMARY_COLS; i++)
		json_object_set_new(sum, summary_cols[i].name,
				    json_integer(summary_cols[i].value(r, l)));
	return json_pack("{s:s, s:s, s:s?, s:o, s:o}", "uid", l->uid, "full_name", l->name,
			 "student_code", l->scode[0] ? l->scode : NULL, "units", cells,
			 "summary", sum);
}

/* ---- CSV ----------------------------------------------------------------------- */

static int
csv_header(const struct report *r, struct dynbuf *b)
{
	int rc = dynbuf_puts(b, "uid,full_name,student_code,");

	for (size_t i = 0; rc == 0 && i < r->nunits; i++)
		rc = csv_put_field(b, r->units[i].title, 0);
	for (size_t i = 0; rc == 0 && i < SUMMARY_COLS; i++)
		rc = csv_put_field(b, summary_cols[i].name, i + 1 == SUMMARY_COLS);
	return rc;
}

/* One row per learner: a unit's cell is its percent, empty when not started. */
static int
csv_rows(const struct report *r, struct dynbuf *b)
{
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < r->n; k++) {
		const struct rep_learner *l = &r->learners[k];

		rc = csv_put_field(b, l->uid, 0) || csv_put_field(b, l->name, 0) ||
		     csv_put_field(b, l->scode, 0) ? TC_ENOMEM : 0;
		for (size_t i = 0; rc == 0 && i < r->nunits; i++)
			rc = l->cells[i].started ? dynbuf_printf(b, "%.1f,", l->cells[i].percent)
						 : dynbuf_puts(b, ",");
		for (size_t i = 0; rc == 0 && i < SUMMARY_COLS; i++)
			rc = dynbuf_printf(b, "%lld%s", (long long)summary_cols[i].value(r, l),
					   i + 1 == SUMMARY_COLS ? "\r\n" : ",");
	}
	return rc;
}

/* The whole course (up to LIMIT learners after AFTER) as CSV into RESP. */
static void
reply_csv(struct app *app, struct http_response *resp, struct report *r, int64_t course_id,
	  int64_t after, int64_t limit)
{
	struct dynbuf *b = &resp->body;
	int64_t total = 0;
	char next[32];
	int rc = csv_header(r, b);

	while (rc == 0 && total < limit) {
		size_t want = (size_t)(limit - total < (int64_t)r->page ? limit - total
						: (int64_t)r->page);

		if ((rc = report_page(r, app, course_id, after, want)) || (rc = csv_rows(r, b)))
			break;
		if (b->len > REPORT_CSV_BYTES_MAX) {
			rc = TC_ETOOBIG;
			break;
		}
		total += (int64_t)r->n;
		if (r->n < want)
			break;
		after = r->learners[r->n - 1].id;
		if (total == limit) {	/* there may be more: say where to go on */
			snprintf(next, sizeof(next), "%lld", (long long)after);
			http_response_header(resp, "x-next-after", next);
		}
	}
	if (rc) {
		dynbuf_reset(b);
		if (rc == TC_ETOOBIG)
			problem_respond(resp, 413, NULL, "the report is over 64 MiB as CSV: "
					"export it in parts with after= and limit=");
		else
			problem_respond_err(resp, rc, "the report could not be read");
		return;
	}
	resp->status = 200;
	resp->content_type = "text/csv; charset=utf-8";
	http_response_header(resp, "content-disposition",
			     "attachment; filename=\"progress.csv\"");
}

static int
on_course_report(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct report r;
	char format[8] = "json";
	int64_t after, limit;
	int csv, rc;
	json_t *o, *list;

	memset(&r, 0, sizeof(r));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c))
		goto out;
	if (api_query(req, "format", format, sizeof(format)) == TC_EINVALID ||
	    (strcmp(format, "json") && strcmp(format, "csv"))) {
		problem_respond(resp, 400, NULL, "format must be json or csv");
		goto out;
	}
	csv = strcmp(format, "csv") == 0;
	if (api_query_int(req, "after", 0, 0, INT64_MAX, &after) ||
	    api_query_int(req, "limit", csv ? REPORT_CSV_LEARNERS_MAX : REPORT_PAGE_DEFAULT, 1,
			  csv ? REPORT_CSV_LEARNERS_MAX : REPORT_PAGE_MAX, &limit)) {
		problem_respond(resp, 400, NULL, csv ?
				"query: after=N (a person id), limit=1..100000" :
				"query: after=N (the next_after of the previous page), limit=1..500");
		goto out;
	}
	if ((rc = report_init(&r, app, c->id, csv ? REPORT_PAGE_MAX : (size_t)limit))) {
		problem_respond_err(resp, rc, "the report could not be read");
		goto out;
	}
	if (csv) {
		reply_csv(app, resp, &r, c->id, after, limit);
		goto out;
	}
	if ((rc = report_page(&r, app, c->id, after, (size_t)limit))) {
		problem_respond_err(resp, rc, "the report could not be read");
		goto out;
	}
	list = json_array();
	for (size_t k = 0; k < r.n; k++)
		json_array_append_new(list, learner_json(&r, &r.learners[k]));
	o = json_pack("{s:s, s:o, s:o}", "course", c->uid, "units", units_json(&r),
		      "learners", list);
	if (o && (int64_t)r.n == limit)
		json_object_set_new(o, "next_after", json_integer(r.learners[r.n - 1].id));
	api_reply_json(resp, 200, o);
out:
	report_cleanup(&r);
	free(c);
	return 0;
}

/* ---- the histogram of a video unit -------------------------------------------- */

static int
add_tally(const struct progress *p, void *arg)
{
	int rc = report_tally_add(arg, p->watched, p->percent, p->completed_at != 0);

	return rc == TC_EINVALID || rc == TC_ETOOBIG ? TC_EDB : rc;	/* a bad stored row */
}

static json_t *
histogram_json(const struct unit *u, const struct report_tally *t, int64_t enrolled)
{
	json_t *counts = json_array(), *o;
	long drop = report_dropoff(t->counts, t->buckets);
	double median = 0;
	int has_median = report_tally_median(t, &median) == 0;

	for (size_t i = 0; i < t->buckets; i++)
		json_array_append_new(counts, json_integer(t->counts[i]));
	o = json_pack("{s:s, s:f, s:i, s:f, s:o, s:I, s:I, s:I, s:o, s:o, s:o}",
		      "unit", u->uid, "duration", t->duration_ms / 1000.0,
		      "buckets", (int)t->buckets,
		      "bucket_seconds", t->duration_ms / 1000.0 / (double)t->buckets,
		      "counts", counts, "enrolled", (json_int_t)enrolled,
		      "started", (json_int_t)t->started, "completed", (json_int_t)t->completed,
		      "median_percent", has_median ? json_real(median) : json_null(),
		      "drop_off_bucket", drop >= 0 ? json_integer(drop) : json_null(),
		      "drop_off_at", drop >= 0 ? json_real(t->duration_ms * drop / (int64_t)
							   t->buckets / 1000.0) : json_null());
	return o;
}

static int
on_unit_histogram(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *uid = http_request_param(req, "uid");
	struct course *c = calloc(1, sizeof(*c));
	struct report_tally t;
	struct unit u;
	int64_t buckets, duration, enrolled = 0;
	int rc;

	memset(&u, 0, sizeof(u));
	memset(&t, 0, sizeof(t));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	rc = uid ? store_unit_get(app->store, uid, &u) : TC_ENOTFOUND;
	if (rc == 0)
		rc = store_course_get_id(app->store, u.course_id, c);
	if (rc == TC_ENOTFOUND) {
		problem_respond(resp, 404, NULL, "no such unit");
		goto out;
	} else if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	if (api_course_editable(app, req, resp, c->uid, c))
		goto out;
	if (api_query_int(req, "buckets", REPORT_BUCKETS_DEFAULT, REPORT_BUCKETS_MIN,
			  REPORT_BUCKETS_MAX, &buckets)) {
		problem_respond(resp, 400, NULL, "buckets must be a whole number from 10 to 600");
		goto out;
	}
	if (strcmp(u.kind, "video") != 0) {
		problem_respond(resp, 400, NULL, "a watched-time histogram is only for video units");
		goto out;
	}
	if ((duration = api_progress_duration_ms(app->store, u.material_id)) <= 0) {
		problem_respond(resp, 409, NULL,
				"the unit's lecture has no known duration yet (not processed)");
		goto out;
	}
	if ((rc = report_tally_init(&t, duration, (size_t)buckets)) ||
	    (rc = store_progress_report_each(app->store, c->id, u.id, 0, INT64_MAX, add_tally, &t)) ||
	    (rc = store_enrolment_count(app->store, c->id, &enrolled))) {
		problem_respond_err(resp, rc, "the histogram could not be made");
		goto out;
	}
	api_reply_json(resp, 200, histogram_json(&u, &t, enrolled));
out:
	report_tally_cleanup(&t);
	free(u.body);
	free(c);
	return 0;
}

const struct route api_reports_routes[] = {
	{ HTTP_GET, "/api/v1/courses/{uid}/progress", on_course_report, "course_progress_report" },
	{ HTTP_GET, "/api/v1/units/{uid}/progress/histogram", on_unit_histogram,
	  "unit_progress_histogram" },
};
const size_t api_reports_routes_count = sizeof(api_reports_routes) / sizeof(api_reports_routes[0]);
