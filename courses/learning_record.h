/*
 * learning_record.h - the xAPI statements tinchi makes of what learners do
 * (issue 6, "Learning records"): a unit or a course completed, a quiz
 * attempt scored and passed or failed, a question answered, a lecture
 * started or watched further.
 *
 * The learner is the actor as an account on the platform's public address
 * ({"homePage": BASE, "name": <person uid>}), never the national ID.
 * Activities are identified by IRLs under BASE:
 *   BASE/courses/<uid>            a course (parent of its units)
 *   BASE/units/<uid>              a unit (video, document, text, quiz)
 *   BASE/units/<uid>#<question>   a quiz question (cmi.interaction)
 * Verbs are the ADL ones cmi5 also uses
 * (http://adlnet.gov/expapi/verbs/initialized|progressed|completed|answered|
 * passed|failed|scored); progress is the cmi5 result extension
 * https://w3id.org/xapi/cmi5/result/extensions/progress (0..100).
 * Pure: builds JSON, stores nothing.
 */
#ifndef TINCHI_LEARNING_RECORD_H
#define TINCHI_LEARNING_RECORD_H

#include <stdint.h>

#include <jansson.h>

enum lr_verb {
	LR_INITIALIZED,
	LR_PROGRESSED,
	LR_COMPLETED,
	LR_ANSWERED,
	LR_PASSED,
	LR_FAILED,
	LR_SCORED,
};

/* What the statement is about. */
struct lr_activity {
	const char *kind;		/* "course", "video", "document", "text", "quiz", "question" */
	const char *uid;		/* course or unit uid; for a question its unit's uid */
	const char *question;		/* question id (kind "question"), else NULL */
	const char *name;		/* title shown in the LRS; may be NULL */
	const char *lang;		/* language of NAME, e.g. "vi"; NULL: "vi" */
	const char *course_uid;		/* the course it belongs to (not for a course) */
};

/* The result, each part optional. */
struct lr_result {
	int has_score;
	double raw, max;		/* 0 <= raw <= max; min is 0 */
	int has_success, success;
	int has_completion, completion;
	int progress;			/* percent 0..100; -1: none */
	const char *response;		/* a question's answer as text; NULL: none */
};

/*
 * A new statement (NULL when out of memory or an argument is unusable):
 * actor PERSON_UID at BASE, VERB, activity A, result R (NULL: none),
 * timestamp WHEN (unix seconds, UTC). No id: the store assigns one.
 */
json_t *lr_statement(const char *base, const char *person_uid, enum lr_verb verb,
		     const struct lr_activity *a, const struct lr_result *r, int64_t when);

/* The verb's IRI ("http://adlnet.gov/expapi/verbs/completed"). */
const char *lr_verb_iri(enum lr_verb verb);

#endif
