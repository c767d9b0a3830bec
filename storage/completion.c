/* completion.c - dispatch of storage/completion.h to the backend's completion ops. */
#include <string.h>

#include "courses/errors.h"
#include "storage/completion.h"
#include "storage/store_backend.h"

static int
ops(struct store *s, const struct completion_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->completion;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct completion_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

static int
text_ok(const char *t)
{
	return t && t[0] && strlen(t) <= COMPLETION_TEXT_MAX;
}

int
store_completion_rules_get(struct store *s, int64_t course_id, struct completion_rules_rec *out)
{
	if (!out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	DISPATCH(rules_get(s, course_id, out));
}

int
store_completion_rules_put(struct store *s, int64_t course_id, const char *rules,
			   int64_t updated_by, int64_t now, int64_t *version)
{
	if (!text_ok(rules))
		return TC_EINVALID;
	DISPATCH(rules_put(s, course_id, rules, updated_by, now, version));
}

int
store_completion_record(struct store *s, const struct completion_rec *c, const char *kind,
			const char *payload, int *created)
{
	if (!c || !created || !text_ok(c->evidence) || !text_ok(payload) || !kind || !kind[0] ||
	    strlen(kind) >= sizeof(((struct outbox_event *)0)->kind) ||
	    c->grade_x100 < 0 || c->grade_x100 > 1000 || c->percent_x10 < 0 ||
	    c->percent_x10 > 1000 || memchr(c->letter, '\0', sizeof(c->letter)) == NULL)
		return TC_EINVALID;
	DISPATCH(record(s, c, kind, payload, created));
}

int
store_completion_get(struct store *s, int64_t course_id, int64_t person_id,
		     struct completion_rec *out)
{
	if (!out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	DISPATCH(get(s, course_id, person_id, out));
}

int
store_completions_each(struct store *s, int64_t course_id, int64_t after_id, int limit,
		       int (*cb)(const struct completion_rec *c, void *arg), void *arg)
{
	if (!cb || limit < 1 || limit > 100000)
		return TC_EINVALID;
	DISPATCH(each(s, course_id, after_id, limit, cb, arg));
}

int
store_completion_lecturers(struct store *s, int64_t course_id, int64_t *ids, int max, int *n)
{
	if (!ids || !n || max < 1)
		return TC_EINVALID;
	*n = 0;
	DISPATCH(lecturers(s, course_id, ids, max, n));
}

int
store_outbox_each(struct store *s, const char *kind, int64_t after_id, int limit,
		  int (*cb)(const struct outbox_event *e, void *arg), void *arg)
{
	if (!cb || limit < 1 || limit > 10000)
		return TC_EINVALID;
	DISPATCH(outbox_each(s, kind, after_id, limit, cb, arg));
}

int
store_outbox_consume(struct store *s, int64_t id, int64_t now)
{
	DISPATCH(outbox_consume(s, id, now));
}

int
store_outbox_add(struct store *s, const char *kind, int64_t course_id, int64_t person_id,
		 const char *payload, int64_t now, int64_t *id)
{
	if (!kind || !kind[0] || strlen(kind) >= sizeof(((struct outbox_event *)0)->kind) ||
	    !payload)
		return TC_EINVALID;
	DISPATCH(outbox_add(s, kind, course_id, person_id, payload, now, id));
}

int
store_outbox_delete(struct store *s, int64_t id)
{
	DISPATCH(outbox_delete(s, id));
}

int
store_outbox_prune(struct store *s, int64_t before, int64_t *after_id, int limit, int *deleted)
{
	if (!after_id || !deleted || limit < 1 || limit > OUTBOX_PRUNE_MAX)
		return TC_EINVALID;
	*deleted = 0;
	DISPATCH(outbox_prune(s, before, after_id, limit, deleted));
}
