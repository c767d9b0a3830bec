/*
 * courses_sqlite.c - the SQLite side of storage/courses.h: courses,
 * lecturers, the FTS5 catalog index of folded text, enrolments.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/courses.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

#define COURSE_COLUMNS \
	"c.id, c.uid, c.institution_id, c.code, c.title, c.description, c.language," \
	" c.credits_x10, c.level, c.tags, c.status, c.starts_on, c.ends_on," \
	" c.enrol_opens_at, c.enrol_closes_at, c.capacity, c.owner_id," \
	" c.created_at, c.updated_at"

static int
read_course(sqlite3_stmt *st, struct course *c)
{
	char status[16];
	int rc;

	memset(c, 0, sizeof(*c));
	c->id = sqlu_col_int(st, 0);
	c->institution_id = sqlu_col_int(st, 2);
	c->credits_x10 = (int)sqlu_col_int(st, 7);
	c->enrol_opens_at = sqlu_col_int(st, 13);
	c->enrol_closes_at = sqlu_col_int(st, 14);
	c->capacity = sqlu_col_int(st, 15);
	c->owner_id = sqlu_col_int(st, 16);
	c->created_at = sqlu_col_int(st, 17);
	c->updated_at = sqlu_col_int(st, 18);
	if ((rc = sqlu_col_text(st, 1, c->uid, sizeof(c->uid))) ||
	    (rc = sqlu_col_text(st, 3, c->code, sizeof(c->code))) ||
	    (rc = sqlu_col_text(st, 4, c->title, sizeof(c->title))) ||
	    (rc = sqlu_col_text(st, 5, c->description, sizeof(c->description))) ||
	    (rc = sqlu_col_text(st, 6, c->language, sizeof(c->language))) ||
	    (rc = sqlu_col_text(st, 8, c->level, sizeof(c->level))) ||
	    (rc = sqlu_col_text(st, 9, c->tags, sizeof(c->tags))) ||
	    (rc = sqlu_col_text(st, 10, status, sizeof(status))) ||
	    (rc = sqlu_col_text(st, 11, c->starts_on, sizeof(c->starts_on))) ||
	    (rc = sqlu_col_text(st, 12, c->ends_on, sizeof(c->ends_on))))
		return rc;
	return course_status_parse(status, &c->status) ? TC_EDB : 0;
}

/* Binds the editable fields of C from parameter ?FIRST on (13 of them). */
static int
bind_fields(sqlite3_stmt *st, int first, const struct course *c)
{
	return sqlu_bind_text(st, first, c->code) ||
	       sqlu_bind_text(st, first + 1, c->title) ||
	       sqlu_bind_text(st, first + 2, c->description) ||
	       sqlu_bind_text(st, first + 3, c->language) ||
	       sqlu_bind_int(st, first + 4, c->credits_x10) ||
	       sqlu_bind_text(st, first + 5, c->level) ||
	       sqlu_bind_text(st, first + 6, c->tags) ||
	       sqlu_bind_text(st, first + 7, course_status_name(c->status)) ||
	       sqlu_bind_text(st, first + 8, c->starts_on) ||
	       sqlu_bind_text(st, first + 9, c->ends_on) ||
	       sqlu_bind_int(st, first + 10, c->enrol_opens_at) ||
	       sqlu_bind_int(st, first + 11, c->enrol_closes_at) ||
	       sqlu_bind_int(st, first + 12, c->capacity);
}

/* Runs SQL with ?1 = ID and ?2 = TEXT (the FTS row of a course). */
static int
fts_write(struct store *s, const char *sql, int64_t id, const char *text, const char *op)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, sql, op, &st);

	if (rc == 0 && (sqlu_bind_int(st, 1, id) || (text && sqlu_bind_text(st, 2, text))))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlite3_finalize(st);
	return rc;
}

static int
run(struct store *s, const char *sql, const char *op)
{
	return sqlite3_exec(store_sqlite_db(s), sql, NULL, NULL, NULL) == SQLITE_OK
	       ? 0 : sqlu_fail(s, sqlite3_extended_errcode(store_sqlite_db(s)), op);
}

static int
sq_course_add(struct store *s, struct course *c, const char *search_text)
{
	static const char op[] = "course add";
	sqlite3_stmt *st = NULL;
	int rc = run(s, "SAVEPOINT course_add", op);

	if (rc)
		return rc;
	rc = sqlu_prepare(s, "INSERT INTO courses (code, title, description, language,"
			  " credits_x10, level, tags, status, starts_on, ends_on, enrol_opens_at,"
			  " enrol_closes_at, capacity, uid, institution_id, owner_id, created_at,"
			  " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			  " ?13, ?14, ?15, ?16, ?17, ?17)", op, &st);
	if (rc == 0 && (bind_fields(st, 1, c) || sqlu_bind_text(st, 14, c->uid) ||
			sqlu_bind_int(st, 15, c->institution_id) ||
			sqlu_bind_int(st, 16, c->owner_id) || sqlu_bind_int(st, 17, c->created_at)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlite3_finalize(st);
	if (rc == 0) {
		c->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
		c->updated_at = c->created_at;
		rc = fts_write(s, "INSERT INTO courses_fts (rowid, body) VALUES (?1, ?2)",
			       c->id, search_text, op);
	}
	if (rc) {
		run(s, "ROLLBACK TO course_add", op);
		run(s, "RELEASE course_add", op);
		return rc;
	}
	return run(s, "RELEASE course_add", op);
}

static int
sq_course_update(struct store *s, const struct course *c, const char *search_text)
{
	static const char op[] = "course update";
	sqlite3_stmt *st = NULL;
	int rc = run(s, "SAVEPOINT course_update", op);

	if (rc)
		return rc;
	rc = sqlu_prepare(s, "UPDATE courses SET code = ?1, title = ?2, description = ?3,"
			  " language = ?4, credits_x10 = ?5, level = ?6, tags = ?7, status = ?8,"
			  " starts_on = ?9, ends_on = ?10, enrol_opens_at = ?11,"
			  " enrol_closes_at = ?12, capacity = ?13, updated_at = ?14"
			  " WHERE id = ?15", op, &st);
	if (rc == 0 && (bind_fields(st, 1, c) || sqlu_bind_int(st, 14, c->updated_at) ||
			sqlu_bind_int(st, 15, c->id)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	if (rc == 0)
		rc = sqlu_changed_one(s);
	sqlite3_finalize(st);
	if (rc == 0)
		rc = fts_write(s, "DELETE FROM courses_fts WHERE rowid = ?1", c->id, NULL, op);
	if (rc == 0)
		rc = fts_write(s, "INSERT INTO courses_fts (rowid, body) VALUES (?1, ?2)",
			       c->id, search_text, op);
	if (rc) {
		run(s, "ROLLBACK TO course_update", op);
		run(s, "RELEASE course_update", op);
		return rc;
	}
	return run(s, "RELEASE course_update", op);
}

static int
sq_course_get(struct store *s, const char *uid, struct course *out)
{
	static const char op[] = "course get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "SELECT " COURSE_COLUMNS " FROM courses c WHERE c.uid = ?1",
			      op, &st);

	if (rc == 0 && sqlu_bind_text(st, 1, uid))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_course(st, out);
	sqlite3_finalize(st);
	return rc;
}

/* Runs SQL binding ?1 = A and ?2 = B; steps it to the end. */
static int
exec2(struct store *s, const char *sql, int64_t a, int64_t b, const char *op)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, sql, op, &st);

	if (rc == 0 && (sqlu_bind_int(st, 1, a) || sqlu_bind_int(st, 2, b)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlite3_finalize(st);
	return rc;
}

/* *YES = 1 when SQL (binding ?1 = A, ?2 = B) returns a row. */
static int
exists2(struct store *s, const char *sql, int64_t a, int64_t b, int *yes, const char *op)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, sql, op, &st);

	if (rc == 0 && (sqlu_bind_int(st, 1, a) || sqlu_bind_int(st, 2, b)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0) {
		rc = sqlu_step_row(s, st, op);
		*yes = rc == 0;
		if (rc == TC_ENOTFOUND)
			rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_lecturer_add(struct store *s, int64_t course_id, int64_t person_id)
{
	return exec2(s, "INSERT INTO course_lecturers (course_id, person_id) VALUES (?1, ?2)"
		     " ON CONFLICT DO NOTHING", course_id, person_id, "lecturer add");
}

static int
sq_lecturer_remove(struct store *s, int64_t course_id, int64_t person_id)
{
	int rc = exec2(s, "DELETE FROM course_lecturers WHERE course_id = ?1 AND person_id = ?2",
		       course_id, person_id, "lecturer remove");

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_is_lecturer(struct store *s, int64_t course_id, int64_t person_id, int *yes)
{
	return exists2(s, "SELECT 1 FROM courses WHERE id = ?1 AND owner_id = ?2"
		       " UNION ALL SELECT 1 FROM course_lecturers"
		       " WHERE course_id = ?1 AND person_id = ?2 LIMIT 1",
		       course_id, person_id, yes, "is lecturer");
}

static int
sq_catalog_each(struct store *s, const struct catalog_query *q,
		int (*cb)(const struct course *c, double rank, void *arg), void *arg)
{
	static const char op[] = "catalog";
	char sql[1536];
	sqlite3_stmt *st = NULL;
	struct course c;
	int src, rc, text = q->match[0] != '\0';

	snprintf(sql, sizeof(sql),
		 "SELECT " COURSE_COLUMNS ", %s FROM %s"
		 " WHERE c.status = 'published'"
		 " AND (?1 = 0 OR c.institution_id = ?1)"
		 " AND (?2 = '' OR c.language = ?2)"
		 " AND (?3 = '' OR c.level = ?3)"
		 " AND (?4 = 0 OR c.credits_x10 = ?4)"
		 "%s ORDER BY %s LIMIT ?7",
		 text ? "f.rank" : "0.0",
		 text ? "courses_fts f JOIN courses c ON c.id = f.rowid" : "courses c",
		 text ? " AND courses_fts MATCH ?5 AND (f.rank > ?6 OR (f.rank = ?6 AND c.id > ?8))"
		      : " AND c.id > ?8 AND ?5 IS NOT ?6",
		 text ? "f.rank, c.id" : "c.id");
	rc = sqlu_prepare(s, sql, op, &st);
	if (rc)
		goto out;
	if (sqlu_bind_int(st, 1, q->institution_id) || sqlu_bind_text(st, 2, q->language) ||
	    sqlu_bind_text(st, 3, q->level) || sqlu_bind_int(st, 4, q->credits_x10) ||
	    sqlu_bind_text(st, 5, q->match) ||
	    sqlite3_bind_double(st, 6, text && (q->after_id || q->after_rank) ? q->after_rank : -1e300) ||
	    sqlu_bind_int(st, 7, q->limit) || sqlu_bind_int(st, 8, q->after_id)) {
		rc = sqlu_bind_fail(s, op);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = read_course(st, &c)) || (rc = cb(&c, sqlite3_column_double(st, 19), arg)))
			goto out;
	}
	if (src != SQLITE_DONE) {
		/* a malformed MATCH expression is the caller's input */
		rc = src == SQLITE_ERROR && text ? TC_EINVALID : sqlu_fail(s, src, op);
		if (rc == TC_EINVALID)
			log_warn("catalog: bad search expression: %s",
				 sqlite3_errmsg(store_sqlite_db(s)));
	}
out:
	sqlite3_finalize(st);
	return rc;
}

static int
sq_enrol(struct store *s, int64_t course_id, int64_t person_id, int64_t now, int *added)
{
	static const char op[] = "enrol";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "INSERT INTO enrolments (course_id, person_id, enrolled_at)"
			      " VALUES (?1, ?2, ?3) ON CONFLICT (course_id, person_id) DO UPDATE"
			      " SET enrolled_at = excluded.enrolled_at, left_at = 0"
			      " WHERE left_at <> 0", op, &st);

	if (rc == 0 && (sqlu_bind_int(st, 1, course_id) || sqlu_bind_int(st, 2, person_id) ||
			sqlu_bind_int(st, 3, now)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	if (rc == 0 && added)
		*added = sqlite3_changes(store_sqlite_db(s)) > 0;
	sqlite3_finalize(st);
	return rc;
}

static int
sq_unenrol(struct store *s, int64_t course_id, int64_t person_id, int64_t now)
{
	static const char op[] = "unenrol";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "UPDATE enrolments SET left_at = ?3 WHERE course_id = ?1"
			      " AND person_id = ?2 AND left_at = 0", op, &st);

	if (rc == 0 && (sqlu_bind_int(st, 1, course_id) || sqlu_bind_int(st, 2, person_id) ||
			sqlu_bind_int(st, 3, now)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	if (rc == 0)
		rc = sqlu_changed_one(s);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_is_enrolled(struct store *s, int64_t course_id, int64_t person_id, int *yes)
{
	return exists2(s, "SELECT 1 FROM enrolments WHERE course_id = ?1 AND person_id = ?2"
		       " AND left_at = 0", course_id, person_id, yes, "is enrolled");
}

static int
sq_enrolment_count(struct store *s, int64_t course_id, int64_t *n)
{
	static const char op[] = "enrolment count";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "SELECT count(*) FROM enrolments WHERE course_id = ?1"
			      " AND left_at = 0", op, &st);

	if (rc == 0 && sqlu_bind_int(st, 1, course_id))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		*n = sqlu_col_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_roster_each(struct store *s, int64_t course_id, int64_t after_id, int limit,
	       int (*cb)(int64_t person_id, const char *uid, const char *full_name,
			 const char *student_code, int64_t enrolled_at, void *arg),
	       void *arg)
{
	static const char op[] = "roster";
	char uid[37], name[256], scode[80];
	sqlite3_stmt *st = NULL;
	int src, rc = sqlu_prepare(s,
		"SELECT p.id, p.uid, p.full_name, coalesce(m.student_code, ''), e.enrolled_at"
		" FROM enrolments e JOIN people p ON p.id = e.person_id"
		" JOIN courses c ON c.id = e.course_id"
		" LEFT JOIN memberships m ON m.person_id = p.id"
		"  AND m.institution_id = c.institution_id AND m.role = 'learner'"
		" WHERE e.course_id = ?1 AND e.left_at = 0 AND p.id > ?2"
		" ORDER BY p.id LIMIT ?3", op, &st);

	if (rc == 0 && (sqlu_bind_int(st, 1, course_id) || sqlu_bind_int(st, 2, after_id) ||
			sqlu_bind_int(st, 3, limit)))
		rc = sqlu_bind_fail(s, op);
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = sqlu_col_text(st, 1, uid, sizeof(uid))) ||
		    (rc = sqlu_col_text(st, 2, name, sizeof(name))) ||
		    (rc = sqlu_col_text(st, 3, scode, sizeof(scode))))
			break;
		rc = cb(sqlu_col_int(st, 0), uid, name, scode, sqlu_col_int(st, 4), arg);
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
	sqlite3_finalize(st);
	return rc;
}

const struct courses_ops sqlite_courses_ops = {
	.course_add = sq_course_add,
	.course_update = sq_course_update,
	.course_get = sq_course_get,
	.lecturer_add = sq_lecturer_add,
	.lecturer_remove = sq_lecturer_remove,
	.is_lecturer = sq_is_lecturer,
	.catalog_each = sq_catalog_each,
	.enrol = sq_enrol,
	.unenrol = sq_unenrol,
	.is_enrolled = sq_is_enrolled,
	.enrolment_count = sq_enrolment_count,
	.roster_each = sq_roster_each,
};
