/* quiz.c - dispatch of storage/quiz.h to the backend's quiz ops. */
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "storage/quiz.h"
#include "storage/store_backend.h"

static int
ops(struct store *s, const struct quiz_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->quiz;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct quiz_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

void
quiz_attempt_cleanup(struct quiz_attempt *a)
{
	if (!a)
		return;
	free(a->paper);
	free(a->answers);
	free(a->scores);
	a->paper = a->answers = a->scores = NULL;
}

int
store_quiz_put(struct store *s, int64_t unit_id, const char *definition, int64_t updated_by,
	       int64_t now, int64_t *version)
{
	if (!definition || !definition[0])
		return TC_EINVALID;
	DISPATCH(put(s, unit_id, definition, updated_by, now, version));
}

int
store_quiz_get(struct store *s, int64_t unit_id, char **definition, int64_t *version,
	       int64_t *updated_at)
{
	if (!definition)
		return TC_EINVALID;
	*definition = NULL;
	DISPATCH(get(s, unit_id, definition, version, updated_at));
}

int
store_attempt_start(struct store *s, struct quiz_attempt *a, int max)
{
	if (!a || strlen(a->uid) != 36 || !a->paper || max < 0 || a->deadline < 0)
		return TC_EINVALID;
	DISPATCH(attempt_start(s, a, max));
}

int
store_attempt_get(struct store *s, const char *uid, struct quiz_attempt *out)
{
	if (!out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	if (!uid)
		return TC_EINVALID;
	DISPATCH(attempt_get(s, uid, out));
}

int
store_attempt_open(struct store *s, int64_t unit_id, int64_t person_id, struct quiz_attempt *out)
{
	if (!out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	DISPATCH(attempt_open(s, unit_id, person_id, out));
}

int
store_attempt_save(struct store *s, int64_t id, const char *answers)
{
	if (!answers)
		return TC_EINVALID;
	DISPATCH(attempt_save(s, id, answers));
}

int
store_attempt_finish(struct store *s, int64_t id, const char *state, const char *answers,
		     double score, double max_score, int passed, double pass_percent,
		     const char *scores, int64_t now)
{
	if (!state || (strcmp(state, "submitted") && strcmp(state, "expired")) || !scores ||
	    (passed != 0 && passed != 1))
		return TC_EINVALID;
	DISPATCH(attempt_finish(s, id, state, answers, score, max_score, passed, pass_percent,
				scores, now));
}

int
store_attempts_each(struct store *s, int64_t unit_id, int64_t person_id,
		    int (*cb)(const struct quiz_attempt *a, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(attempts_each(s, unit_id, person_id, cb, arg));
}

int
store_quiz_best(struct store *s, int64_t unit_id, int64_t person_id, double *score,
		double *max_score, int *attempts)
{
	if (!score || !max_score || !attempts)
		return TC_EINVALID;
	*score = *max_score = 0;
	*attempts = 0;
	DISPATCH(best(s, unit_id, person_id, score, max_score, attempts));
}

int
store_quiz_attempts_each(struct store *s, int64_t course_id, int64_t after_id, int limit,
			 int (*cb)(const struct quiz_attempt *a, void *arg), void *arg)
{
	if (!cb || limit < 1 || limit > 1000)
		return TC_EINVALID;
	DISPATCH(course_attempts_each(s, course_id, after_id, limit, cb, arg));
}
