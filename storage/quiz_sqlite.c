/*
 * quiz_sqlite.c - the SQLite side of storage/quiz.h: quiz definitions and
 * attempts. Starting an attempt is one INSERT ... SELECT that numbers it and
 * checks the limit; the partial unique index attempts_one_open refuses a
 * second open attempt, also from another connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "storage/quiz.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

static int
sq_put(struct store *s, int64_t unit_id, const char *definition, int64_t updated_by,
       int64_t now, int64_t *version)
{
	static const char op[] = "quiz put";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st,
		"INSERT INTO quizzes (unit_id, definition, version, updated_by, updated_at)"
		" VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT (unit_id) DO UPDATE SET"
		" definition = excluded.definition, version = version + 1,"
		" updated_by = excluded.updated_by, updated_at = excluded.updated_at"
		" RETURNING version", "itii", unit_id, definition, updated_by, now);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && version)
		*version = sqlu_col_int(st, 0);
	/* finish the statement so the write is complete */
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_get(struct store *s, int64_t unit_id, char **definition, int64_t *version,
       int64_t *updated_at)
{
	static const char op[] = "quiz get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT definition, version, updated_at FROM quizzes"
			       " WHERE unit_id = ?1", "i", unit_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = sqlu_col_dup(st, 0, definition);
	if (rc == 0 && version)
		*version = sqlu_col_int(st, 1);
	if (rc == 0 && updated_at)
		*updated_at = sqlu_col_int(st, 2);
	sqlite3_finalize(st);
	return rc;
}

#define ATTEMPT_COLUMNS \
	"id, uid, unit_id, person_id, number, quiz_version, started_at, deadline," \
	" submitted_at, state, score, max_score, (SELECT uid FROM units WHERE id = unit_id)," \
	" passed, pass_percent"

/* The columns of ATTEMPT_COLUMNS, then (from column 15) the texts that
 * WHICH names: 'p' paper, 'a' answers, 's' scores. */
static int
read_attempt(sqlite3_stmt *st, struct quiz_attempt *a, const char *which)
{
	int rc, col = 15;

	memset(a, 0, sizeof(*a));
	a->id = sqlu_col_int(st, 0);
	a->unit_id = sqlu_col_int(st, 2);
	a->person_id = sqlu_col_int(st, 3);
	a->number = (int)sqlu_col_int(st, 4);
	a->quiz_version = sqlu_col_int(st, 5);
	a->started_at = sqlu_col_int(st, 6);
	a->deadline = sqlu_col_int(st, 7);
	a->submitted_at = sqlu_col_int(st, 8);
	a->score = sqlite3_column_double(st, 10);
	a->max_score = sqlite3_column_double(st, 11);
	a->passed = sqlu_col_int(st, 13) != 0;
	a->pass_percent = sqlite3_column_double(st, 14);
	if ((rc = sqlu_col_text(st, 1, a->uid, sizeof(a->uid))) ||
	    (rc = sqlu_col_text(st, 9, a->state, sizeof(a->state))) ||
	    (rc = sqlu_col_text(st, 12, a->unit_uid, sizeof(a->unit_uid))))
		return rc;
	for (; *which && rc == 0; which++, col++)
		rc = sqlu_col_dup(st, col, *which == 'p' ? &a->paper : *which == 'a' ? &a->answers
										      : &a->scores);
	return rc;
}

static int
sq_attempt_start(struct store *s, struct quiz_attempt *a, int max)
{
	static const char op[] = "attempt start";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st,
		"INSERT INTO attempts (uid, unit_id, person_id, number, quiz_version, started_at,"
		" deadline, paper)"
		" SELECT ?1, ?2, ?3, (SELECT coalesce(max(number), 0) + 1 FROM attempts"
		"   WHERE unit_id = ?2 AND person_id = ?3), ?4, ?5, ?6, ?7"
		" WHERE ?8 = 0 OR (SELECT count(*) FROM attempts WHERE unit_id = ?2"
		"   AND person_id = ?3) < ?8"
		" RETURNING id, number", "tiiiiiti", a->uid, a->unit_id, a->person_id,
		a->quiz_version, a->started_at, a->deadline, a->paper, (int64_t)max);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == TC_ENOTFOUND)
		rc = TC_EFORBIDDEN;	/* the WHERE held it back: none left */
	if (rc == 0) {
		a->id = sqlu_col_int(st, 0);
		a->number = (int)sqlu_col_int(st, 1);
		snprintf(a->state, sizeof(a->state), "open");
		rc = sqlu_step_done(s, st, op);
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_attempt_get(struct store *s, const char *uid, struct quiz_attempt *out)
{
	static const char op[] = "attempt get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " ATTEMPT_COLUMNS ", paper, answers, scores"
			       " FROM attempts WHERE uid = ?1", "t", uid);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_attempt(st, out, "pas");
	sqlite3_finalize(st);
	if (rc)
		quiz_attempt_cleanup(out);
	return rc;
}

static int
sq_attempt_open(struct store *s, int64_t unit_id, int64_t person_id, struct quiz_attempt *out)
{
	static const char op[] = "attempt open";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " ATTEMPT_COLUMNS ", paper, answers, scores"
			       " FROM attempts WHERE unit_id = ?1 AND person_id = ?2 AND"
			       " state = 'open'", "ii", unit_id, person_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_attempt(st, out, "pas");
	sqlite3_finalize(st);
	if (rc)
		quiz_attempt_cleanup(out);
	return rc;
}

/* After an UPDATE ... WHERE id AND state = 'open' that changed nothing:
 * TC_ECONFLICT when attempt ID exists (it is not open), else TC_ENOTFOUND. */
static int
not_open(struct store *s, int64_t id)
{
	static const char op[] = "attempt state";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT 1 FROM attempts WHERE id = ?1", "i", id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	sqlite3_finalize(st);
	return rc == 0 ? TC_ECONFLICT : rc;
}

static int
sq_attempt_save(struct store *s, int64_t id, const char *answers)
{
	int rc = sqlu_execf(s, "attempt save", "UPDATE attempts SET answers = ?1"
			    " WHERE id = ?2 AND state = 'open'", "ti", answers, id);

	if (rc == 0 && sqlu_changed_one(s))
		rc = not_open(s, id);
	return rc;
}

static int
sq_attempt_finish(struct store *s, int64_t id, const char *state, const char *answers,
		  double score, double max_score, int passed, double pass_percent,
		  const char *scores, int64_t now)
{
	static const char op[] = "attempt finish";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st,
		"UPDATE attempts SET state = ?1, answers = coalesce(?2, answers), scores = ?3,"
		" submitted_at = ?4, score = ?6, max_score = ?7, passed = ?8, pass_percent = ?9"
		" WHERE id = ?5 AND state = 'open'", "tttii", state, answers, scores, now, id);

	if (rc == 0 && (sqlite3_bind_double(st, 6, score) != SQLITE_OK ||
			sqlite3_bind_double(st, 7, max_score) != SQLITE_OK ||
			sqlite3_bind_int(st, 8, passed) != SQLITE_OK ||
			sqlite3_bind_double(st, 9, pass_percent) != SQLITE_OK))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_done(s, st, op);
	sqlite3_finalize(st);
	if (rc == 0 && sqlu_changed_one(s))
		rc = not_open(s, id);
	return rc;
}

static int
sq_attempts_each(struct store *s, int64_t unit_id, int64_t person_id,
		 int (*cb)(const struct quiz_attempt *a, void *arg), void *arg)
{
	static const char op[] = "attempts each";
	sqlite3_stmt *st = NULL;
	struct quiz_attempt a;
	int rc = sqlu_preparef(s, op, &st, "SELECT " ATTEMPT_COLUMNS " FROM attempts"
			       " WHERE unit_id = ?1 AND person_id = ?2 ORDER BY number",
			       "ii", unit_id, person_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0 &&
	       (rc = read_attempt(st, &a, "")) == 0)
		rc = cb(&a, arg);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_best(struct store *s, int64_t unit_id, int64_t person_id, double *score, double *max_score,
	int *attempts)
{
	static const char op[] = "quiz best";
	sqlite3_stmt *st = NULL;
	/* best by fraction of the maximum: papers of one quiz may differ in max */
	int rc = sqlu_preparef(s, op, &st,
		"SELECT score, max_score, (SELECT count(*) FROM attempts WHERE unit_id = ?1"
		"  AND person_id = ?2 AND state <> 'open') FROM attempts"
		" WHERE unit_id = ?1 AND person_id = ?2 AND state <> 'open'"
		" ORDER BY CASE WHEN max_score > 0 THEN score / max_score ELSE 0 END DESC,"
		" score DESC, id LIMIT 1", "ii", unit_id, person_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0) {
		*score = sqlite3_column_double(st, 0);
		*max_score = sqlite3_column_double(st, 1);
		*attempts = (int)sqlu_col_int(st, 2);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_course_attempts_each(struct store *s, int64_t course_id, int64_t after_id, int limit,
			int (*cb)(const struct quiz_attempt *a, void *arg), void *arg)
{
	static const char op[] = "course attempts";
	sqlite3_stmt *st = NULL;
	struct quiz_attempt a = { 0 };
	int rc = sqlu_preparef(s, op, &st,
		"SELECT a.id, a.uid, a.unit_id, a.person_id, a.number, a.quiz_version, a.started_at,"
		" a.deadline, a.submitted_at, a.state, a.score, a.max_score, u.uid, a.passed,"
		" a.pass_percent, a.scores"
		" FROM attempts a JOIN units u ON u.id = a.unit_id"
		" WHERE u.course_id = ?1 AND a.id > ?2 AND a.state <> 'open'"
		" ORDER BY a.id LIMIT ?3", "iii", course_id, after_id, (int64_t)limit);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0 &&
	       (rc = read_attempt(st, &a, "s")) == 0) {
		rc = cb(&a, arg);
		quiz_attempt_cleanup(&a);
	}
	quiz_attempt_cleanup(&a);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

const struct quiz_ops sqlite_quiz_ops = {
	.put = sq_put,
	.get = sq_get,
	.attempt_start = sq_attempt_start,
	.attempt_get = sq_attempt_get,
	.attempt_open = sq_attempt_open,
	.attempt_save = sq_attempt_save,
	.attempt_finish = sq_attempt_finish,
	.attempts_each = sq_attempts_each,
	.best = sq_best,
	.course_attempts_each = sq_course_attempts_each,
};
