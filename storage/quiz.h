/*
 * quiz.h - persistence of quizzes and their attempts (schema migration 8).
 *
 * A quiz unit's definition is stored as validated by courses/quiz.h, with a
 * version that counts its edits. An attempt keeps its paper (the drawn
 * questions, each a snapshot with its answers), so later edits never change
 * how an old attempt is graded. At most one attempt of a person on a unit
 * is open: a partial unique index enforces it even when two requests race
 * (the loser gets TC_ECONFLICT). Attempts are numbered 1, 2, ... per unit
 * and person; the limit of attempts is checked in the same statement that
 * inserts. Same conventions as storage/identity.h.
 *
 * "Graded" attempts are those submitted and those expired (graded from the
 * answers saved before their deadline).
 */
#ifndef TINCHI_STORE_QUIZ_H
#define TINCHI_STORE_QUIZ_H

#include <stdint.h>

#include "storage/store.h"

/* Sets the definition (JSON text) of quiz unit UNIT_ID; *VERSION (may be
 * NULL) gets its new version (1 for the first). */
int store_quiz_put(struct store *s, int64_t unit_id, const char *definition, int64_t updated_by,
		   int64_t now, int64_t *version);
/* *DEFINITION is allocated (free()); VERSION and UPDATED_AT may be NULL.
 * TC_ENOTFOUND when the unit has no quiz yet. */
int store_quiz_get(struct store *s, int64_t unit_id, char **definition, int64_t *version,
		   int64_t *updated_at);

struct quiz_attempt {
	int64_t id;
	char uid[37];
	int64_t unit_id, person_id;
	char unit_uid[37];		/* read back (ignored by store_attempt_start) */
	int number;			/* 1, 2, ... per unit and person */
	int64_t quiz_version;		/* of the definition drawn from */
	int64_t started_at;
	int64_t deadline;		/* 0: no time limit */
	int64_t submitted_at;		/* 0 while open; the grading time */
	char state[12];			/* open, submitted, expired */
	double score, max_score;	/* points (exact thousandths) */
	int passed;			/* graded: reached PASS_PERCENT of the paper */
	double pass_percent;
	char *paper, *answers, *scores;	/* JSON text, owned; NULL where a listing skips them */
};

/* Frees the texts of A (A itself is the caller's). Accepts NULL. */
void quiz_attempt_cleanup(struct quiz_attempt *a);

/*
 * Starts attempt A: uid, unit_id, person_id, quiz_version, started_at,
 * deadline and paper as given; id, number and state are filled in. MAX is
 * the attempts allowed (0: unlimited), counted in the same statement.
 * TC_ECONFLICT: the person has an open attempt on the unit; TC_EFORBIDDEN:
 * no attempts left.
 */
int store_attempt_start(struct store *s, struct quiz_attempt *a, int max);
/* By uid, with paper, answers and scores (free with quiz_attempt_cleanup,
 * also on failure). */
int store_attempt_get(struct store *s, const char *uid, struct quiz_attempt *out);
/* The open attempt of PERSON_ID on UNIT_ID, or TC_ENOTFOUND. */
int store_attempt_open(struct store *s, int64_t unit_id, int64_t person_id,
		       struct quiz_attempt *out);
/* Saves the answers so far (JSON text) of open attempt ID. TC_ECONFLICT
 * when it is no longer open, TC_ENOTFOUND when there is none. */
int store_attempt_save(struct store *s, int64_t id, const char *answers);
/*
 * Grades open attempt ID: STATE "submitted" or "expired", ANSWERS (NULL:
 * keep the saved ones), the score, maximum, whether it PASSED at the
 * paper's PASS_PERCENT (kept: completion reads this verdict, so a later
 * edit of the quiz never changes it) and per-question SCORES (JSON text),
 * at NOW. TC_ECONFLICT when it is not open (a second submit).
 */
int store_attempt_finish(struct store *s, int64_t id, const char *state, const char *answers,
			 double score, double max_score, int passed, double pass_percent,
			 const char *scores, int64_t now);
/* The attempts of PERSON_ID on UNIT_ID by number, without paper, answers
 * and scores. */
int store_attempts_each(struct store *s, int64_t unit_id, int64_t person_id,
			int (*cb)(const struct quiz_attempt *a, void *arg), void *arg);

/*
 * The best graded attempt of PERSON_ID on quiz unit UNIT_ID: its SCORE and
 * MAX_SCORE, and the number of graded ATTEMPTS. With none, all three are 0
 * and the result is 0 (not an error). For completion rules.
 */
int store_quiz_best(struct store *s, int64_t unit_id, int64_t person_id, double *score,
		    double *max_score, int *attempts);

/*
 * The graded attempts on quiz units of course COURSE_ID with id greater
 * than AFTER_ID, by id, at most LIMIT (1..1000); CB gets each with SCORES
 * (not paper or answers), borrowed for the call. For reports; page on with
 * the last id.
 */
int store_quiz_attempts_each(struct store *s, int64_t course_id, int64_t after_id, int limit,
			     int (*cb)(const struct quiz_attempt *a, void *arg), void *arg);

#endif
