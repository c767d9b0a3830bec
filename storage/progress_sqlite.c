/*
 * progress_sqlite.c - the SQLite side of storage/progress.h: rows of the
 * progress and deliveries tables (migration 7). The transactions around
 * them are storage/progress.c's.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "storage/courses.h"
#include "storage/progress.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

#define ROW_COLUMNS "p.person_id, p.unit_id, p.course_id, p.watched, p.position_ms," \
	" p.position_at, p.duration_ms, p.percent, p.viewed_at, p.completed_at, p.updated_at," \
	" p.pace_ms, p.pace_at"

/* Columns FIRST.. of ROW_COLUMNS into P (P->watched allocated). */
static int
read_row(sqlite3_stmt *st, int first, struct progress *p)
{
	memset(p, 0, sizeof(*p));
	p->person_id = sqlu_col_int(st, first + 0);
	p->unit_id = sqlu_col_int(st, first + 1);
	p->course_id = sqlu_col_int(st, first + 2);
	p->position_ms = sqlu_col_int(st, first + 4);
	p->position_at = sqlu_col_int(st, first + 5);
	p->duration_ms = sqlu_col_int(st, first + 6);
	p->percent = sqlite3_column_double(st, first + 7);
	p->viewed_at = sqlu_col_int(st, first + 8);
	p->completed_at = sqlu_col_int(st, first + 9);
	p->updated_at = sqlu_col_int(st, first + 10);
	p->pace_ms = sqlu_col_int(st, first + 11);
	p->pace_at = sqlu_col_int(st, first + 12);
	p->exists = 1;
	if (sqlu_col_dup(st, first + 3, &p->watched))
		return TC_ENOMEM;
	if (!p->watched && !(p->watched = strdup("")))
		return TC_ENOMEM;
	return 0;
}

static int
sq_get(struct store *s, int64_t person_id, int64_t unit_id, struct progress *out)
{
	static const char op[] = "progress get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " ROW_COLUMNS " FROM progress p"
			       " WHERE p.person_id = ?1 AND p.unit_id = ?2", "ii", person_id, unit_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && (rc = read_row(st, 0, out)))
		store_progress_cleanup(out);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_put(struct store *s, const struct progress *p)
{
	static const char op[] = "progress put";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st,
		"INSERT INTO progress (person_id, unit_id, course_id, watched, position_ms,"
		" position_at, duration_ms, viewed_at, completed_at, updated_at, pace_ms, pace_at,"
		" percent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
		" ON CONFLICT (person_id, unit_id) DO UPDATE SET watched = excluded.watched,"
		" position_ms = excluded.position_ms, position_at = excluded.position_at,"
		" duration_ms = excluded.duration_ms, viewed_at = excluded.viewed_at,"
		" completed_at = excluded.completed_at, updated_at = excluded.updated_at,"
		" percent = excluded.percent, pace_ms = excluded.pace_ms, pace_at = excluded.pace_at",
		"iiitiiiiiiii", p->person_id, p->unit_id, p->course_id, p->watched ? p->watched : "",
		p->position_ms, p->position_at, p->duration_ms, p->viewed_at, p->completed_at,
		p->updated_at, p->pace_ms, p->pace_at);

	if (rc == 0 && sqlite3_bind_double(st, 13, p->percent) != SQLITE_OK)
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_delivery_get(struct store *s, int64_t person_id, int64_t material_id, char **out)
{
	static const char op[] = "delivery get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT delivered FROM deliveries"
			       " WHERE person_id = ?1 AND material_id = ?2", "ii",
			       person_id, material_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = sqlu_col_dup(st, 0, out);
	else if (rc == TC_ENOTFOUND)
		rc = 0;
	sqlite3_finalize(st);
	if (rc == 0 && !*out && !(*out = strdup("")))
		rc = TC_ENOMEM;
	return rc;
}

static int
sq_delivery_put(struct store *s, int64_t person_id, int64_t material_id, const char *delivered,
		int64_t now)
{
	return sqlu_execf(s, "delivery put",
		"INSERT INTO deliveries (person_id, material_id, delivered, updated_at)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (person_id, material_id) DO UPDATE"
		" SET delivered = excluded.delivered, updated_at = excluded.updated_at",
		"iiti", person_id, material_id, delivered, now);
}

static int
sq_units_each(struct store *s, int64_t person_id, int64_t course_id,
	      int (*cb)(const struct progress_unit *u, void *arg), void *arg)
{
	static const char op[] = "progress units";
	sqlite3_stmt *st = NULL;
	struct progress_unit u;
	struct progress p;
	int rc = sqlu_preparef(s, op, &st,
		"SELECT u.id, u.uid, u.kind, u.required, u.position, coalesce(u.material_id, 0),"
		" p.person_id IS NOT NULL, " ROW_COLUMNS " FROM units u"
		" LEFT JOIN progress p ON p.unit_id = u.id AND p.person_id = ?1"
		" WHERE u.course_id = ?2 ORDER BY u.position, u.id", "ii", person_id, course_id);

	memset(&p, 0, sizeof(p));
	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		memset(&u, 0, sizeof(u));
		u.unit_id = sqlu_col_int(st, 0);
		u.required = (int)sqlu_col_int(st, 3);
		u.position = (int)sqlu_col_int(st, 4);
		u.material_id = sqlu_col_int(st, 5);
		if ((rc = sqlu_col_text(st, 1, u.unit_uid, sizeof(u.unit_uid))) ||
		    (rc = sqlu_col_text(st, 2, u.kind, sizeof(u.kind))))
			break;
		if (sqlu_col_int(st, 6)) {
			if ((rc = read_row(st, 7, &p)))
				break;
		} else {
			memset(&p, 0, sizeof(p));
			p.person_id = person_id;
			p.unit_id = u.unit_id;
			p.course_id = course_id;
		}
		u.p = &p;
		rc = cb(&u, arg);
		store_progress_cleanup(&p);
	}
	store_progress_cleanup(&p);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

/* Steps ST (prepared with RC) and calls CB with each row; finalizes ST. */
static int
rows_each(struct store *s, const char *op, sqlite3_stmt *st, int rc,
	  int (*cb)(const struct progress *p, void *arg), void *arg)
{
	struct progress p;

	memset(&p, 0, sizeof(p));
	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		if ((rc = read_row(st, 0, &p)))
			break;
		rc = cb(&p, arg);
		store_progress_cleanup(&p);
	}
	store_progress_cleanup(&p);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_course_each(struct store *s, int64_t course_id,
	       int (*cb)(const struct progress *p, void *arg), void *arg)
{
	static const char op[] = "progress of a course";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " ROW_COLUMNS " FROM progress p"
			       " WHERE p.course_id = ?1 ORDER BY p.person_id, p.unit_id", "i",
			       course_id);

	return rows_each(s, op, st, rc, cb, arg);
}

static int
sq_report_each(struct store *s, int64_t course_id, int64_t unit_id, int64_t after_id,
	       int64_t last_id, int (*cb)(const struct progress *p, void *arg), void *arg)
{
	static const char op[] = "progress report";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " ROW_COLUMNS " FROM progress p"
			       " JOIN enrolments e ON e.course_id = p.course_id"
			       "  AND e.person_id = p.person_id AND e.left_at = 0"
			       " WHERE p.course_id = ?1 AND p.person_id > ?2 AND p.person_id <= ?3"
			       "  AND (?4 = 0 OR p.unit_id = ?4)"
			       " ORDER BY p.person_id, p.unit_id", "iiii",
			       course_id, after_id, last_id, unit_id);

	return rows_each(s, op, st, rc, cb, arg);
}

static int
sq_units_of_material(struct store *s, int64_t material_id,
		     int (*cb)(int64_t unit_id, const char *unit_uid, int64_t course_id, void *arg),
		     void *arg)
{
	static const char op[] = "units of a material";
	sqlite3_stmt *st = NULL;
	char uid[37];
	int rc = sqlu_preparef(s, op, &st, "SELECT id, course_id, uid FROM units"
			       " WHERE material_id = ?1 AND kind = 'document' ORDER BY id", "i",
			       material_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0 &&
	       (rc = sqlu_col_text(st, 2, uid, sizeof(uid))) == 0)
		rc = cb(sqlu_col_int(st, 0), uid, sqlu_col_int(st, 1), arg);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

const struct progress_ops sqlite_progress_ops = {
	.get = sq_get,
	.put = sq_put,
	.delivery_get = sq_delivery_get,
	.delivery_put = sq_delivery_put,
	.units_each = sq_units_each,
	.course_each = sq_course_each,
	.units_of_material = sq_units_of_material,
	.report_each = sq_report_each,
};
