/* courses.c - dispatch of storage/courses.h to the backend's courses ops. */
#include <string.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/content.h"
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
store_course_get_id(struct store *s, int64_t id, struct course *out)
{
	if (!out)
		return TC_EINVALID;
	DISPATCH(course_get_id(s, id, out));
}

int
store_course_get_by_code(struct store *s, int64_t institution_id, const char *code,
			 struct course *out)
{
	if (!code || !out)
		return TC_EINVALID;
	DISPATCH(course_get_by_code(s, institution_id, code, out));
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
store_my_courses_each(struct store *s, int64_t person_id, int limit,
		      int (*cb)(const struct course *c, int64_t enrolled_at, void *arg), void *arg)
{
	if (!cb || limit <= 0 || limit > 1000)
		return TC_EINVALID;
	DISPATCH(my_courses_each(s, person_id, limit, cb, arg));
}

int
store_teaching_each(struct store *s, int64_t person_id, int limit,
		    int (*cb)(const struct course *c, void *arg), void *arg)
{
	if (!cb || limit <= 0 || limit > 1000)
		return TC_EINVALID;
	DISPATCH(teaching_each(s, person_id, limit, cb, arg));
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

int
store_material_add(struct store *s, struct material *m)
{
	if (!m)
		return TC_EINVALID;
	DISPATCH(material_add(s, m));
}

int
store_material_get(struct store *s, const char *uid, struct material *out)
{
	if (!uid || !out)
		return TC_EINVALID;
	DISPATCH(material_get(s, uid, out));
}

int
store_material_refs(struct store *s, const char *sha256, int64_t *n)
{
	if (!sha256 || !n)
		return TC_EINVALID;
	DISPATCH(material_refs(s, sha256, n));
}

int
store_content_release(struct store *s, const char *data_dir, const char *sha256)
{
	int64_t refs = 1;
	int rc = store_material_refs(s, sha256, &refs);

	if (rc || refs > 0)
		return rc;
	rc = content_delete(data_dir, sha256);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

int
store_material_delete(struct store *s, int64_t id)
{
	DISPATCH(material_delete(s, id));
}

int
store_institution_usage(struct store *s, int64_t institution_id, int64_t *bytes)
{
	if (!bytes)
		return TC_EINVALID;
	DISPATCH(institution_usage(s, institution_id, bytes));
}

int
store_unit_add(struct store *s, struct unit *u)
{
	if (!u)
		return TC_EINVALID;
	DISPATCH(unit_add(s, u));
}

int
store_unit_update(struct store *s, const struct unit *u)
{
	if (!u)
		return TC_EINVALID;
	DISPATCH(unit_update(s, u));
}

int
store_unit_get(struct store *s, const char *uid, struct unit *out)
{
	if (!uid || !out)
		return TC_EINVALID;
	DISPATCH(unit_get(s, uid, out));
}

int
store_unit_delete(struct store *s, int64_t id)
{
	DISPATCH(unit_delete(s, id));
}

int
store_units_each(struct store *s, int64_t course_id,
		 int (*cb)(const struct unit *u, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(units_each(s, course_id, cb, arg));
}

int
store_units_reorder(struct store *s, int64_t course_id, const int64_t *ids, size_t n)
{
	if (!ids && n)
		return TC_EINVALID;
	DISPATCH(units_reorder(s, course_id, ids, n));
}

int
store_upload_add(struct store *s, struct upload *u)
{
	if (!u)
		return TC_EINVALID;
	DISPATCH(upload_add(s, u));
}

int
store_upload_get(struct store *s, const char *uid, struct upload *out)
{
	if (!uid || !out)
		return TC_EINVALID;
	DISPATCH(upload_get(s, uid, out));
}

int
store_upload_advance(struct store *s, int64_t id, int64_t from, int64_t to, int64_t now)
{
	if (to < from)
		return TC_EINVALID;
	DISPATCH(upload_advance(s, id, from, to, now));
}

int
store_upload_delete(struct store *s, int64_t id)
{
	DISPATCH(upload_delete(s, id));
}

int
store_upload_finished(struct store *s, int64_t id, const char *material_uid, int64_t now)
{
	if (!material_uid || !*material_uid)
		return TC_EINVALID;
	DISPATCH(upload_finished(s, id, material_uid, now));
}

int
store_uploads_stale(struct store *s, int64_t before, int limit,
		    int (*cb)(const struct upload *u, void *arg), void *arg)
{
	if (!cb || limit <= 0)
		return TC_EINVALID;
	DISPATCH(uploads_stale(s, before, limit, cb, arg));
}
