/*
 * api_completion.h - completion rules, grades and completions over HTTP
 * (api_completion.c), and completion_check, which the progress and quiz
 * code calls whenever a learner's state in a course changes.
 */
#ifndef TINCHI_API_COMPLETION_H
#define TINCHI_API_COMPLETION_H

#include <stddef.h>
#include <stdint.h>

#include "courses/completion.h"
#include "server/router.h"

struct app;
struct store;

extern const struct route api_completion_routes[];
extern const size_t api_completion_routes_count;

/*
 * The units of COURSE_ID in order as evaluation input for PERSON_ID: uid,
 * kind, title, required. The learner's state is what this tree knows of
 * it: progress and quizzes do not exist yet, so every unit reads as not
 * completed and every quiz as unattempted; where progress (video watched
 * to the course's video_threshold, document fetched, text opened) and the
 * best quiz attempt become known, they are filled in here. *OUT is
 * allocated (free()), *N its length (0 and NULL for a course without
 * units). 0, TC_ENOMEM, TC_EDB.
 */
int completion_units_load(struct store *s, int64_t course_id, int64_t person_id,
			  struct completion_unit_state **out, size_t *n);

/*
 * Evaluates PERSON_ID in COURSE_ID: UNITS (N, the whole course, e.g. from
 * completion_units_load) against the course's stored rules (the defaults
 * when it has none). When the rules are met, and only while PERSON_ID is
 * enrolled in the course and the course is published (otherwise nothing is
 * recorded and *CREATED is 0), the completion is recorded once, with its 'course.completed' outbox event in the same transaction
 * (storage/completion.h). Only for a NEW completion, and only when APP has
 * a WebSocket hub (service thread only, as ws_notify_person), it pushes
 *   {"type":"course.completed","course":"<uid>","grade":7.5,"letter":"B",
 *    "passed":true}                                    to the learner, and
 *   {"type":"course.completion","course":"<uid>","learner":"<person uid>",
 *    "full_name":"...","grade":7.5,"letter":"B","passed":true}
 * to each lecturer of the course (owner and co-lecturers).
 * NOW is the completion time. *RESULT (may be NULL) receives the
 * evaluation (free it with completion_result_cleanup, also on failure);
 * *CREATED (may be NULL) is 1 when the completion was recorded by this
 * call, 0 otherwise (not met, or recorded before).
 * Returns 0 whether met or not; TC_ENOTFOUND (no such course or person),
 * TC_EINVALID (bad UNITS), TC_ENOMEM, TC_EDB, TC_EBUSY.
 */
int completion_check(struct app *app, int64_t person_id, int64_t course_id,
		     const struct completion_unit_state *units, size_t n, int64_t now,
		     struct completion_result *result, int *created);

/*
 * The video threshold (percent) of COURSE_ID's completion rules: the
 * default (90) when the course set none or they cannot be read.
 */
int completion_video_threshold(struct store *s, int64_t course_id);

/*
 * Evaluates PERSON_ID's completion of COURSE_ID after something of theirs
 * changed (a unit completed, a quiz attempt graded): loads the units'
 * state and calls completion_check, which records a new completion once
 * and notifies. Failures are logged, never the caller's. Service thread.
 */
void completion_after_change(struct app *app, int64_t person_id, int64_t course_id);

#endif
