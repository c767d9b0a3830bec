/*
 * progress.c - storage/progress.h: argument checks, dispatch to the
 * backend's progress ops, and the read-modify-write transactions built on
 * them (the same for every backend).
 */
#include <stdlib.h>
#include <string.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "courses/ranges.h"
#include "storage/identity.h"
#include "storage/progress.h"
#include "storage/store_backend.h"

static int
ops(struct store *s, const struct progress_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->progress;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct progress_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

void
store_progress_cleanup(struct progress *p)
{
	if (!p)
		return;
	free(p->watched);
	memset(p, 0, sizeof(*p));
}

int
store_progress_get(struct store *s, int64_t person_id, int64_t unit_id, struct progress *out)
{
	if (!out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	DISPATCH(get(s, person_id, unit_id, out));
}

int
store_delivery_get(struct store *s, int64_t person_id, int64_t material_id, char **out)
{
	if (!out)
		return TC_EINVALID;
	*out = NULL;
	DISPATCH(delivery_get(s, person_id, material_id, out));
}

int
store_progress_units_each(struct store *s, int64_t person_id, int64_t course_id,
			  int (*cb)(const struct progress_unit *u, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(units_each(s, person_id, course_id, cb, arg));
}

int
store_progress_course_each(struct store *s, int64_t course_id,
			   int (*cb)(const struct progress *p, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(course_each(s, course_id, cb, arg));
}

int
store_progress_report_each(struct store *s, int64_t course_id, int64_t unit_id, int64_t after_id,
			   int64_t last_id, int (*cb)(const struct progress *p, void *arg),
			   void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(report_each(s, course_id, unit_id, after_id, last_id, cb, arg));
}

int
store_progress_units_of_material(struct store *s, int64_t material_id,
				 int (*cb)(int64_t unit_id, const char *unit_uid, int64_t course_id,
					   void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(units_of_material(s, material_id, cb, arg));
}

int
store_progress_edit_in(struct store *s, int64_t person_id, int64_t unit_id, int64_t course_id,
		       int64_t material_id, int64_t now,
		       int (*edit)(struct progress *row, const char *delivered, void *arg),
		       void *arg, struct progress *out)
{
	const struct progress_ops *o = NULL;
	struct progress row;
	char *delivered = NULL;
	int rc = ops(s, &o);

	memset(&row, 0, sizeof(row));
	if (out)
		memset(out, 0, sizeof(*out));
	if (rc == 0 && (!edit || person_id <= 0 || unit_id <= 0 || course_id <= 0))
		rc = TC_EINVALID;
	if (rc)
		goto out;
	rc = o->get(s, person_id, unit_id, &row);
	if (rc == TC_ENOTFOUND) {
		memset(&row, 0, sizeof(row));
		row.person_id = person_id;
		row.unit_id = unit_id;
		row.course_id = course_id;
		rc = (row.watched = strdup("")) ? 0 : TC_ENOMEM;
	}
	if (rc)
		goto out;
	if (material_id > 0 && (rc = o->delivery_get(s, person_id, material_id, &delivered)))
		goto out;
	rc = edit(&row, delivered ? delivered : "", arg);
	if (rc == PROGRESS_UNCHANGED) {
		rc = 0;
	} else if (rc == 0) {
		row.updated_at = now;
		if ((rc = o->put(s, &row)))
			goto out;
		row.exists = 1;
	}
out:
	free(delivered);
	if (rc == 0 && out)
		*out = row;
	else
		store_progress_cleanup(&row);
	return rc;
}

int
store_progress_edit(struct store *s, int64_t person_id, int64_t unit_id, int64_t course_id,
		    int64_t material_id, int64_t now,
		    int (*edit)(struct progress *row, const char *delivered, void *arg),
		    void *arg, struct progress *out)
{
	const struct progress_ops *o = NULL;
	int rc = ops(s, &o);

	if (out)
		memset(out, 0, sizeof(*out));
	if (rc == 0 && (!edit || person_id <= 0 || unit_id <= 0 || course_id <= 0))
		rc = TC_EINVALID;
	if (rc || (rc = store_begin(s)))
		return rc;
	rc = store_progress_edit_in(s, person_id, unit_id, course_id, material_id, now, edit, arg,
				    out);
	if (rc == 0 && (rc = store_commit(s)) != 0)
		store_progress_cleanup(out);
	if (rc)
		store_rollback(s);
	return rc;
}

int
store_delivery_add(struct store *s, int64_t person_id, int64_t material_id, int64_t from_ms,
		   int64_t to_ms, int64_t now)
{
	const struct progress_ops *o = NULL;
	struct ranges r;
	struct dynbuf text;
	char *old = NULL;
	int rc = ops(s, &o), open = 0;

	ranges_init(&r);
	dynbuf_init(&text, 1 << 20);
	if (rc == 0 && (person_id <= 0 || material_id <= 0 || from_ms < 0 || from_ms >= to_ms ||
			to_ms > RANGES_END_MAX))
		rc = TC_EINVALID;
	if (rc || (rc = store_begin(s)))
		goto out;
	open = 1;
	if ((rc = o->delivery_get(s, person_id, material_id, &old)))
		goto out;
	if ((rc = ranges_parse(old, strlen(old), &r))) {
		log_err("deliveries of person %lld, material %lld: stored ranges unreadable",
			(long long)person_id, (long long)material_id);
		rc = TC_EDB;
		goto out;
	}
	if (ranges_covers(&r, from_ms, to_ms))
		goto out;		/* nothing new: commit the empty transaction */
	if ((rc = ranges_add(&r, from_ms, to_ms)) || (rc = ranges_format(&r, &text)) ||
	    (rc = o->delivery_put(s, person_id, material_id, dynbuf_str(&text), now)))
		goto out;
out:
	if (open && rc == 0) {
		rc = store_commit(s);
		open = rc != 0;
	}
	if (open)
		store_rollback(s);
	free(old);
	dynbuf_cleanup(&text);
	ranges_cleanup(&r);
	return rc;
}
