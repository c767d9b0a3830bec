/*
 * api_quiz.h - routes of the quiz API (api_quiz.c) and the hook that runs
 * when an attempt is graded.
 */
#ifndef TINCHI_API_QUIZ_H
#define TINCHI_API_QUIZ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/router.h"

struct app;
struct unit;

extern const struct route api_quiz_routes[];
extern const size_t api_quiz_routes_count;

/*
 * Called once for every graded attempt (submitted, or expired and graded
 * from its saved answers), after the grade is committed. Pushes
 *   {"type":"quiz.graded","unit":"<uid>","attempt":"<uid>","score":S,
 *    "max":M,"passed":true|false}
 * to the learner's WebSocket connections. Completion rules hook in here.
 */
void quiz_attempt_graded(struct app *app, int64_t person_id, const struct unit *u,
			 const char *attempt_uid, double score, double max, int passed,
			 const json_t *detail);

#endif
