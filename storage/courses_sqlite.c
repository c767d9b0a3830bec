/*
 * courses_sqlite.c - the SQLite side of storage/courses.h: courses,
 * lecturers, the FTS5 catalog index of folded text, enrolments.
 */
#include <stdio.h>
#include <stdlib.h>
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

struct course_write {
	struct course *c;		/* add: its id and updated_at are set */
	const struct course *cc;	/* update */
	const char *search_text;
};

static int
course_add_steps(struct store *s, void *arg)
{
	static const char op[] = "course add";
	struct course_write *w = arg;
	struct course *c = w->c;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "INSERT INTO courses (code, title, description, language,"
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
			       c->id, w->search_text, op);
	}
	return rc;
}

static int
sq_course_add(struct store *s, struct course *c, const char *search_text)
{
	struct course_write w = { c, NULL, search_text };

	return sqlu_savepoint(s, "course add", "course_add", course_add_steps, &w);
}

static int
course_update_steps(struct store *s, void *arg)
{
	static const char op[] = "course update";
	struct course_write *w = arg;
	const struct course *c = w->cc;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "UPDATE courses SET code = ?1, title = ?2, description = ?3,"
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
			       c->id, w->search_text, op);
	return rc;
}

static int
sq_course_update(struct store *s, const struct course *c, const char *search_text)
{
	struct course_write w = { NULL, c, search_text };

	return sqlu_savepoint(s, "course update", "course_update", course_update_steps, &w);
}

static int
sq_course_get(struct store *s, const char *uid, struct course *out)
{
	static const char op[] = "course get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " COURSE_COLUMNS " FROM courses c"
			       " WHERE c.uid = ?1", "t", uid);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_course(st, out);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_course_get_id(struct store *s, int64_t id, struct course *out)
{
	static const char op[] = "course get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " COURSE_COLUMNS " FROM courses c"
			       " WHERE c.id = ?1", "i", id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_course(st, out);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_course_get_by_code(struct store *s, int64_t institution_id, const char *code,
		      struct course *out)
{
	static const char op[] = "course by code";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "SELECT " COURSE_COLUMNS " FROM courses c"
			      " WHERE c.institution_id = ?1 AND c.code = ?2", op, &st);

	if (rc == 0 && (sqlu_bind_int(st, 1, institution_id) || sqlu_bind_text(st, 2, code)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_course(st, out);
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
	return sqlu_execf(s, "lecturer add", "INSERT INTO course_lecturers (course_id, person_id)"
			  " VALUES (?1, ?2) ON CONFLICT DO NOTHING", "ii", course_id, person_id);
}

static int
sq_lecturer_remove(struct store *s, int64_t course_id, int64_t person_id)
{
	int rc = sqlu_execf(s, "lecturer remove", "DELETE FROM course_lecturers"
			    " WHERE course_id = ?1 AND person_id = ?2", "ii", course_id, person_id);

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

/*
 * A search ranks at most this many matches, the newest first: BM25 is
 * computed for every row it ranks, so an unbounded search costs as much as
 * its most common word (docs/performance.md). A query with more matches
 * than this pages through the newest ones; narrower words find the rest.
 */
#define CATALOG_CANDIDATES_S "2000"

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
		 text ? "(SELECT rowid, rank FROM courses_fts WHERE courses_fts MATCH ?5"
			" ORDER BY rowid DESC LIMIT " CATALOG_CANDIDATES_S ") f"
			" JOIN courses c ON c.id = f.rowid" : "courses c",
		 text ? " AND (f.rank > ?6 OR (f.rank = ?6 AND c.id > ?8))"
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
sq_my_courses_each(struct store *s, int64_t person_id, int limit,
		   int (*cb)(const struct course *c, int64_t enrolled_at, void *arg), void *arg)
{
	static const char op[] = "my courses";
	sqlite3_stmt *st = NULL;
	struct course *c = malloc(sizeof(*c));
	int rc = c ? 0 : TC_ENOMEM, src = SQLITE_DONE;

	if (rc == 0)
		rc = sqlu_preparef(s, op, &st, "SELECT " COURSE_COLUMNS ", e.enrolled_at"
				   " FROM enrolments e JOIN courses c ON c.id = e.course_id"
				   " WHERE e.person_id = ?1 AND e.left_at = 0"
				   " ORDER BY e.enrolled_at DESC, c.id DESC LIMIT ?2",
				   "ii", person_id, (int64_t)limit);
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);

		if ((rc = read_course(st, c)) || (rc = cb(c, sqlu_col_int(st, n - 1), arg)))
			break;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
	sqlite3_finalize(st);
	free(c);
	return rc;
}

static int
sq_teaching_each(struct store *s, int64_t person_id, int limit,
		 int (*cb)(const struct course *c, void *arg), void *arg)
{
	static const char op[] = "courses taught";
	sqlite3_stmt *st = NULL;
	struct course *c = malloc(sizeof(*c));
	int rc = c ? 0 : TC_ENOMEM, src = SQLITE_DONE;

	if (rc == 0)
		rc = sqlu_preparef(s, op, &st, "SELECT " COURSE_COLUMNS " FROM courses c"
				   " WHERE c.owner_id = ?1 OR c.id IN"
				   " (SELECT course_id FROM course_lecturers WHERE person_id = ?1)"
				   " ORDER BY c.id DESC LIMIT ?2",
				   "ii", person_id, (int64_t)limit);
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = read_course(st, c)) || (rc = cb(c, arg)))
			break;
	if (rc == 0 && src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
	sqlite3_finalize(st);
	free(c);
	return rc;
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

/* ---- materials and units ------------------------------------------------------ */

struct material_add {
	sqlite3_stmt *st;	/* the materials insert, bound */
	struct material *m;
};

static int
material_add_steps(struct store *s, void *arg)
{
	static const char op[] = "material add";
	struct material_add *a = arg;
	struct material *m = a->m;
	int rc = sqlu_step_done(s, a->st, op);

	if (rc == 0)
		m->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	/* a lecture's processing job is born with it (storage/media_jobs.h) */
	if (rc == 0 && (strcmp(m->kind, "video") == 0 || strcmp(m->kind, "audio") == 0))
		rc = sqlu_execf(s, op, "INSERT INTO media (material_id, created_at,"
				" updated_at) VALUES (?1, ?2, ?2)", "ii", m->id, m->created_at);
	return rc;
}

static int
sq_material_add(struct store *s, struct material *m)
{
	static const char op[] = "material add";
	struct material_add a = { NULL, m };
	int rc = sqlu_prepare(s, "INSERT INTO materials (uid, institution_id, course_id, sha256,"
			      " type, size, kind, name, created_by, created_at)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", op, &a.st);

	if (rc == 0 && (sqlu_bind_text(a.st, 1, m->uid) ||
			sqlu_bind_int(a.st, 2, m->institution_id) ||
			sqlu_bind_int(a.st, 3, m->course_id) || sqlu_bind_text(a.st, 4, m->sha256) ||
			sqlu_bind_text(a.st, 5, m->type) || sqlu_bind_int(a.st, 6, m->size) ||
			sqlu_bind_text(a.st, 7, m->kind) || sqlu_bind_text(a.st, 8, m->name) ||
			sqlu_bind_int(a.st, 9, m->created_by) ||
			sqlu_bind_int(a.st, 10, m->created_at)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_savepoint(s, op, "material_add", material_add_steps, &a);
	sqlite3_finalize(a.st);
	return rc;
}

static int
sq_material_get(struct store *s, const char *uid, struct material *m)
{
	static const char op[] = "material get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "SELECT id, uid, institution_id, course_id, sha256, type, size,"
			      " kind, name, created_by, created_at FROM materials WHERE uid = ?1",
			      op, &st);

	if (rc == 0 && sqlu_bind_text(st, 1, uid))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0) {
		memset(m, 0, sizeof(*m));
		m->id = sqlu_col_int(st, 0);
		m->institution_id = sqlu_col_int(st, 2);
		m->course_id = sqlu_col_int(st, 3);
		m->size = sqlu_col_int(st, 6);
		m->created_by = sqlu_col_int(st, 9);
		m->created_at = sqlu_col_int(st, 10);
		if ((rc = sqlu_col_text(st, 1, m->uid, sizeof(m->uid))) == 0 &&
		    (rc = sqlu_col_text(st, 4, m->sha256, sizeof(m->sha256))) == 0 &&
		    (rc = sqlu_col_text(st, 5, m->type, sizeof(m->type))) == 0 &&
		    (rc = sqlu_col_text(st, 7, m->kind, sizeof(m->kind))) == 0)
			rc = sqlu_col_text(st, 8, m->name, sizeof(m->name));
	}
	sqlite3_finalize(st);
	return rc;
}

/* One integer from SQL with ?1 = A (text when ATEXT) into *OUT. */
static int
scalar(struct store *s, const char *sql, const char *atext, int64_t a, int64_t *out,
       const char *op)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, sql, op, &st);

	if (rc == 0 && (atext ? sqlu_bind_text(st, 1, atext) : sqlu_bind_int(st, 1, a)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		*out = sqlu_col_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_material_refs(struct store *s, const char *sha256, int64_t *n)
{
	return scalar(s, "SELECT (SELECT count(*) FROM materials WHERE sha256 = ?1) +"
		      " (SELECT count(*) FROM captions WHERE sha256 = ?1)", sha256, 0, n,
		      "material refs");
}

static int
material_delete_steps(struct store *s, void *arg)
{
	static const char op[] = "material delete";
	int64_t id = *(const int64_t *)arg;
	int rc;

	if ((rc = sqlu_execf(s, op, "DELETE FROM captions WHERE material_id = ?1", "i", id)) == 0 &&
	    (rc = sqlu_execf(s, op, "DELETE FROM media WHERE material_id = ?1", "i", id)) == 0 &&
	    (rc = sqlu_execf(s, op, "DELETE FROM materials WHERE id = ?1", "i", id)) == 0)
		rc = sqlu_changed_one(s);
	return rc;
}

static int
sq_material_delete(struct store *s, int64_t id)
{
	int64_t used = 0;
	int rc = scalar(s, "SELECT count(*) FROM units WHERE material_id = ?1", NULL, id, &used,
			"material delete");

	if (rc == 0 && used)
		return TC_ECONFLICT;
	if (rc)
		return rc;
	return sqlu_savepoint(s, "material delete", "material_delete", material_delete_steps, &id);
}

static int
sq_institution_usage(struct store *s, int64_t institution_id, int64_t *bytes)
{
	return scalar(s, "SELECT coalesce(sum(size), 0) FROM materials WHERE institution_id = ?1",
		      NULL, institution_id, bytes, "institution usage");
}

#define UNIT_COLUMNS "u.id, u.uid, u.course_id, u.position, u.kind, u.title, u.body," \
	" u.required, coalesce(u.material_id, 0), coalesce(m.uid, ''), u.created_at, u.updated_at"

/* Reads a unit row; the body is borrowed from the statement when
 * BORROW_BODY, else copied (the caller frees it). */
static int
read_unit(sqlite3_stmt *st, struct unit *u, int borrow_body)
{
	const char *body = (const char *)sqlite3_column_text(st, 6);
	int rc;

	memset(u, 0, sizeof(*u));
	u->id = sqlu_col_int(st, 0);
	u->course_id = sqlu_col_int(st, 2);
	u->position = (int)sqlu_col_int(st, 3);
	u->required = (int)sqlu_col_int(st, 7);
	u->material_id = sqlu_col_int(st, 8);
	u->created_at = sqlu_col_int(st, 10);
	u->updated_at = sqlu_col_int(st, 11);
	if ((rc = sqlu_col_text(st, 1, u->uid, sizeof(u->uid))) ||
	    (rc = sqlu_col_text(st, 4, u->kind, sizeof(u->kind))) ||
	    (rc = sqlu_col_text(st, 5, u->title, sizeof(u->title))) ||
	    (rc = sqlu_col_text(st, 9, u->material_uid, sizeof(u->material_uid))))
		return rc;
	if (borrow_body)
		u->body = (char *)(body ? body : "");
	else if (!(u->body = strdup(body ? body : "")))
		return TC_ENOMEM;
	return 0;
}

static int
sq_unit_add(struct store *s, struct unit *u)
{
	static const char op[] = "unit add";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "INSERT INTO units (uid, course_id, position, kind, title, body,"
			      " required, material_id, created_at, updated_at)"
			      " VALUES (?1, ?2, (SELECT coalesce(max(position), 0) + 1 FROM units"
			      " WHERE course_id = ?2), ?3, ?4, ?5, ?6, nullif(?7, 0), ?8, ?8)"
			      " RETURNING position", op, &st);

	if (rc == 0 && (sqlu_bind_text(st, 1, u->uid) || sqlu_bind_int(st, 2, u->course_id) ||
			sqlu_bind_text(st, 3, u->kind) || sqlu_bind_text(st, 4, u->title) ||
			sqlu_bind_text(st, 5, u->body ? u->body : "") ||
			sqlu_bind_int(st, 6, u->required) || sqlu_bind_int(st, 7, u->material_id) ||
			sqlu_bind_int(st, 8, u->created_at)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0) {
		u->position = (int)sqlu_col_int(st, 0);
		u->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
		u->updated_at = u->created_at;
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_unit_update(struct store *s, const struct unit *u)
{
	static const char op[] = "unit update";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "UPDATE units SET title = ?1, body = ?2, required = ?3,"
			      " material_id = nullif(?4, 0), updated_at = ?5 WHERE id = ?6", op, &st);

	if (rc == 0 && (sqlu_bind_text(st, 1, u->title) || sqlu_bind_text(st, 2, u->body ? u->body : "") ||
			sqlu_bind_int(st, 3, u->required) || sqlu_bind_int(st, 4, u->material_id) ||
			sqlu_bind_int(st, 5, u->updated_at) || sqlu_bind_int(st, 6, u->id)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	if (rc == 0)
		rc = sqlu_changed_one(s);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_unit_get(struct store *s, const char *uid, struct unit *out)
{
	static const char op[] = "unit get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "SELECT " UNIT_COLUMNS " FROM units u LEFT JOIN materials m"
			      " ON m.id = u.material_id WHERE u.uid = ?1", op, &st);

	if (rc == 0 && sqlu_bind_text(st, 1, uid))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_unit(st, out, 0);
	sqlite3_finalize(st);
	return rc;
}

static int
unit_delete_steps(struct store *s, void *arg)
{
	int64_t id = *(const int64_t *)arg;
	/* close the gap: later units move up one */
	int rc = sqlu_execf(s, "unit delete", "UPDATE units SET position = position - 1 WHERE"
			    " course_id = (SELECT course_id FROM units WHERE id = ?1) AND position >"
			    " (SELECT position FROM units WHERE id = ?1)", "i", id);

	if (rc == 0)
		rc = sqlu_execf(s, "unit delete", "DELETE FROM units WHERE id = ?1", "i", id);
	if (rc == 0)
		rc = sqlu_changed_one(s);
	return rc;
}

static int
sq_unit_delete(struct store *s, int64_t id)
{
	return sqlu_savepoint(s, "unit delete", "unit_delete", unit_delete_steps, &id);
}

static int
sq_units_each(struct store *s, int64_t course_id,
	      int (*cb)(const struct unit *u, void *arg), void *arg)
{
	static const char op[] = "units";
	sqlite3_stmt *st = NULL;
	struct unit u;
	int src = SQLITE_DONE, rc = sqlu_prepare(s, "SELECT " UNIT_COLUMNS " FROM units u"
		" LEFT JOIN materials m ON m.id = u.material_id WHERE u.course_id = ?1"
		" ORDER BY u.position", op, &st);

	if (rc == 0 && sqlu_bind_int(st, 1, course_id))
		rc = sqlu_bind_fail(s, op);
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = read_unit(st, &u, 1)) == 0)
			rc = cb(&u, arg);
	if (rc == 0 && src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
	sqlite3_finalize(st);
	return rc;
}

struct units_reorder {
	int64_t course_id;
	const int64_t *ids;
	size_t n;
};

static int
units_reorder_steps(struct store *s, void *arg)
{
	const struct units_reorder *r = arg;
	int rc = 0;

	/* first out of the way (negative), then into place: every id must be
	 * one of the course's, and each exactly once */
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
		rc = sqlu_execf(s, "units reorder", "UPDATE units SET position = -?2 WHERE id = ?1"
				" AND position > 0 AND course_id = (SELECT course_id FROM units"
				" WHERE id = ?1)", "ii", r->ids[i], (int64_t)i + 1);
		if (rc == 0 && sqlite3_changes(store_sqlite_db(s)) != 1)
			rc = TC_EINVALID;
		if (rc == 0) {
			int64_t cid = 0;
			rc = scalar(s, "SELECT course_id FROM units WHERE id = ?1", NULL, r->ids[i],
				    &cid, "units reorder");
			if (rc == 0 && cid != r->course_id)
				rc = TC_EINVALID;
		}
	}
	if (rc == 0)
		rc = sqlu_execf(s, "units reorder", "UPDATE units SET position = -position"
				" WHERE course_id = ?1", "i", r->course_id);
	return rc;
}

static int
sq_units_reorder(struct store *s, int64_t course_id, const int64_t *ids, size_t n)
{
	struct units_reorder r = { course_id, ids, n };
	int64_t count = 0;
	int rc = scalar(s, "SELECT count(*) FROM units WHERE course_id = ?1", NULL, course_id,
			&count, "units reorder");

	if (rc)
		return rc;
	if ((size_t)count != n)
		return TC_EINVALID;
	return sqlu_savepoint(s, "units reorder", "units_reorder", units_reorder_steps, &r);
}

/* ---- resumable uploads ----------------------------------------------------------- */

#define UPLOAD_COLUMNS "id, uid, institution_id, course_id, created_by, kind, name, size," \
	" received, created_at, updated_at, material_uid"

static int
read_upload(sqlite3_stmt *st, struct upload *u)
{
	int rc;

	memset(u, 0, sizeof(*u));
	u->id = sqlu_col_int(st, 0);
	u->institution_id = sqlu_col_int(st, 2);
	u->course_id = sqlu_col_int(st, 3);
	u->created_by = sqlu_col_int(st, 4);
	u->size = sqlu_col_int(st, 7);
	u->received = sqlu_col_int(st, 8);
	u->created_at = sqlu_col_int(st, 9);
	u->updated_at = sqlu_col_int(st, 10);
	if ((rc = sqlu_col_text(st, 1, u->uid, sizeof(u->uid))) ||
	    (rc = sqlu_col_text(st, 5, u->kind, sizeof(u->kind))) ||
	    (rc = sqlu_col_text(st, 11, u->material_uid, sizeof(u->material_uid))))
		return rc;
	return sqlu_col_text(st, 6, u->name, sizeof(u->name));
}

static int
sq_upload_add(struct store *s, struct upload *u)
{
	static const char op[] = "upload add";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "INSERT INTO uploads (uid, institution_id, course_id, created_by,"
			      " kind, name, size, received, created_at, updated_at)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?8)", op, &st);

	if (rc == 0 && (sqlu_bind_text(st, 1, u->uid) || sqlu_bind_int(st, 2, u->institution_id) ||
			sqlu_bind_int(st, 3, u->course_id) || sqlu_bind_int(st, 4, u->created_by) ||
			sqlu_bind_text(st, 5, u->kind) || sqlu_bind_text(st, 6, u->name) ||
			sqlu_bind_int(st, 7, u->size) || sqlu_bind_int(st, 8, u->created_at)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	if (rc == 0) {
		u->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
		u->received = 0;
		u->updated_at = u->created_at;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_upload_get(struct store *s, const char *uid, struct upload *out)
{
	static const char op[] = "upload get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "SELECT " UPLOAD_COLUMNS " FROM uploads WHERE uid = ?1", op, &st);

	if (rc == 0 && sqlu_bind_text(st, 1, uid))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_upload(st, out);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_upload_advance(struct store *s, int64_t id, int64_t from, int64_t to, int64_t now)
{
	static const char op[] = "upload advance";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_prepare(s, "UPDATE uploads SET received = ?3, updated_at = ?4"
			      " WHERE id = ?1 AND received = ?2", op, &st);

	if (rc == 0 && (sqlu_bind_int(st, 1, id) || sqlu_bind_int(st, 2, from) ||
			sqlu_bind_int(st, 3, to) || sqlu_bind_int(st, 4, now)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	if (rc == 0 && sqlite3_changes(store_sqlite_db(s)) != 1)
		rc = TC_ECONFLICT;
	sqlite3_finalize(st);
	return rc;
}

static int
sq_upload_delete(struct store *s, int64_t id)
{
	int rc = sqlu_execf(s, "upload delete", "DELETE FROM uploads WHERE id = ?1", "i", id);

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_upload_finished(struct store *s, int64_t id, const char *material_uid, int64_t now)
{
	int rc = sqlu_execf(s, "upload finished", "UPDATE uploads SET material_uid = ?2, updated_at = ?3"
			    " WHERE id = ?1 AND material_uid = ''", "iti", id, material_uid, now);

	if (rc == 0 && sqlite3_changes(store_sqlite_db(s)) != 1)
		rc = TC_ECONFLICT;
	return rc;
}

static int
sq_uploads_stale(struct store *s, int64_t before, int limit,
		 int (*cb)(const struct upload *u, void *arg), void *arg)
{
	static const char op[] = "stale uploads";
	sqlite3_stmt *st = NULL;
	struct upload u;
	int src = SQLITE_DONE, rc = sqlu_prepare(s, "SELECT " UPLOAD_COLUMNS " FROM uploads"
		" WHERE updated_at < ?1 ORDER BY updated_at LIMIT ?2", op, &st);

	if (rc == 0 && (sqlu_bind_int(st, 1, before) || sqlu_bind_int(st, 2, limit)))
		rc = sqlu_bind_fail(s, op);
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = read_upload(st, &u)) == 0)
			rc = cb(&u, arg);
	if (rc == 0 && src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
	sqlite3_finalize(st);
	return rc;
}

const struct courses_ops sqlite_courses_ops = {
	.course_add = sq_course_add,
	.course_update = sq_course_update,
	.course_get = sq_course_get,
	.course_get_id = sq_course_get_id,
	.course_get_by_code = sq_course_get_by_code,
	.lecturer_add = sq_lecturer_add,
	.lecturer_remove = sq_lecturer_remove,
	.is_lecturer = sq_is_lecturer,
	.catalog_each = sq_catalog_each,
	.enrol = sq_enrol,
	.unenrol = sq_unenrol,
	.is_enrolled = sq_is_enrolled,
	.enrolment_count = sq_enrolment_count,
	.roster_each = sq_roster_each,
	.material_add = sq_material_add,
	.material_get = sq_material_get,
	.material_refs = sq_material_refs,
	.material_delete = sq_material_delete,
	.institution_usage = sq_institution_usage,
	.unit_add = sq_unit_add,
	.unit_update = sq_unit_update,
	.unit_get = sq_unit_get,
	.unit_delete = sq_unit_delete,
	.units_each = sq_units_each,
	.units_reorder = sq_units_reorder,
	.upload_add = sq_upload_add,
	.upload_get = sq_upload_get,
	.upload_advance = sq_upload_advance,
	.upload_delete = sq_upload_delete,
	.uploads_stale = sq_uploads_stale,
	.upload_finished = sq_upload_finished,
	.my_courses_each = sq_my_courses_each,
	.teaching_each = sq_teaching_each,
};
