/* courses.c - dispatch of storage/courses.h to the backend's courses ops. */
#include <string.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/courses.h"
#include "storage/store_backend.h"

static int
ops(struct store *s, const struct courses_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->courses;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct courses_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

int
store_course_add(struct store *s, struct course *c, const char *search_text)
{
	if (!c || !search_text)
		return TC_EINVALID;
	DISPATCH(course_add(s, c, search_text));
}

int
store_course_update(struct store *s, const struct course *c, const char *search_text)
{
	if (!c || !search_text)
		return TC_EINVALID;
	DISPATCH(course_update(s, c, search_text));
}

int
store_course_get(struct store *s, const char *uid, struct course *out)
{
	if (!uid || !out)
		return TC_EINVALID;
	DISPATCH(course_get(s, uid, out));
}

int
store_course_lecturer_add(struct store *s, int64_t course_id, int64_t person_id)
{
	DISPATCH(lecturer_add(s, course_id, person_id));
}

int
store_course_lecturer_remove(struct store *s, int64_t course_id, int64_t person_id)
{
	DISPATCH(lecturer_remove(s, course_id, person_id));
}

int
store_course_is_lecturer(struct store *s, int64_t course_id, int64_t person_id, int *yes)
{
	if (!yes)
		return TC_EINVALID;
	DISPATCH(is_lecturer(s, course_id, person_id, yes));
}

int
store_catalog_each(struct store *s, const struct catalog_query *q,
		   int (*cb)(const struct course *c, double rank, void *arg), void *arg)
{
	if (!q || !cb || q->limit <= 0)
		return TC_EINVALID;
	DISPATCH(catalog_each(s, q, cb, arg));
}

int
store_enrol(struct store *s, int64_t course_id, int64_t person_id, int64_t now, int *added)
{
	DISPATCH(enrol(s, course_id, person_id, now, added));
}

int
store_unenrol(struct store *s, int64_t course_id, int64_t person_id, int64_t now)
{
	DISPATCH(unenrol(s, course_id, person_id, now));
}

int
store_is_enrolled(struct store *s, int64_t course_id, int64_t person_id, int *yes)
{
	if (!yes)
		return TC_EINVALID;
	DISPATCH(is_enrolled(s, course_id, person_id, yes));
}

int
store_enrolment_count(struct store *s, int64_t course_id, int64_t *n)
{
	if (!n)
		return TC_EINVALID;
	DISPATCH(enrolment_count(s, course_id, n));
}

int
store_roster_each(struct store *s, int64_t course_id, int64_t after_id, int limit,
		  int (*cb)(int64_t person_id, const char *uid, const char *full_name,
			    const char *student_code, int64_t enrolled_at, void *arg),
		  void *arg)
{
	if (!cb || limit <= 0)
		return TC_EINVALID;
	DISPATCH(roster_each(s, course_id, after_id, limit, cb, arg));
}
