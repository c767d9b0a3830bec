/*
 * records.h - the platform's own learning records: what learners do in
 * tinchi, stored as xAPI statements (courses/learning_record.h) in the LRS
 * of the course's institution (lrs_record in server/api_xapi.h), where the
 * institution's tools read them with its LRS credentials.
 *
 * Each is written after the change it records has been committed; a
 * failure is logged and never undoes or blocks that change. Service
 * thread (they use app->store).
 */
#ifndef TINCHI_RECORDS_H
#define TINCHI_RECORDS_H

#include <stdint.h>

#include <jansson.h>

struct app;
struct store;
struct course;
struct unit;

/* "completed" for a unit (video watched and delivered, document fetched,
 * text opened). */
void records_unit_completed(struct app *app, int64_t person_id, const struct unit *u);

/* A quiz attempt graded: "answered" for each question of DETAIL (the
 * per-question array of quiz_grade, may be NULL) with its score and
 * success but never the learner's response, then "scored" and "passed" or
 * "failed" for the quiz. Each statement is its own commit (lrs_record). */
void records_quiz_graded(struct app *app, int64_t person_id, const struct unit *u,
			 double score, double max, int passed, const json_t *detail);

/* "completed" for a course, with the grade on 0-10 (GRADE_X100 hundredths)
 * and whether it is a pass. */
void records_course_completed(struct app *app, int64_t person_id, const struct course *c,
			      int grade_x100, int passed);

/*
 * Deferred statements, for a thread that must not spend the time on them
 * (the progress writer): records_defer puts statement STMT (borrowed) for
 * INSTITUTION_ID into the outbox (kind "xapi.statement") inside the
 * caller's transaction on ST, a single small insert; records_drain, on
 * the same kind of thread when it has nothing else to do, stores up to MAX
 * of them in the LRS in one transaction on ST and deletes them from the
 * outbox (*DONE: how many were handled; MAX handled: call again). A
 * statement the LRS refuses is logged and dropped. Both return 0 or a
 * storage error.
 */
int records_defer(struct store *st, int64_t institution_id, int64_t course_id,
		  int64_t person_id, const json_t *stmt, int64_t now);
int records_drain(struct app *app, struct store *st, int max, int *done);

#endif
