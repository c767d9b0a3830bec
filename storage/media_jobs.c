/* media_jobs.c - dispatch of storage/media_jobs.h to the backend's media ops. */
#include <string.h>

#include "courses/errors.h"
#include "storage/media_jobs.h"
#include "storage/store_backend.h"

static int
ops(struct store *s, const struct media_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->media;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct media_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

int
store_media_get(struct store *s, int64_t material_id, struct media_job *out, char **result)
{
	if (!out)
		return TC_EINVALID;
	DISPATCH(get(s, material_id, out, result));
}

int
store_media_claim(struct store *s, const char *node, int64_t now, int64_t lease,
		  struct media_job *out)
{
	if (!node || !node[0] || strlen(node) >= sizeof(out->node) || !out || lease <= 0)
		return TC_EINVALID;
	DISPATCH(claim(s, node, now, lease, out));
}

int
store_media_progress(struct store *s, int64_t material_id, const char *node,
		     const char *stage, int percent, int64_t now, int64_t lease)
{
	if (!node || !stage || strlen(stage) >= sizeof(((struct media_job *)0)->stage) ||
	    percent < 0 || percent > 100)
		return TC_EINVALID;
	DISPATCH(progress(s, material_id, node, stage, percent, now, lease));
}

int
store_media_finish(struct store *s, int64_t material_id, const char *node, int ok,
		   const char *error, const char *result, int64_t now)
{
	if (!node || (ok && !result) || (!ok && !error))
		return TC_EINVALID;
	DISPATCH(finish(s, material_id, node, ok, ok ? "" : error, ok ? result : "", now));
}

int
store_media_requeue(struct store *s, int64_t material_id, const char *node, int64_t now)
{
	if (!node)
		return TC_EINVALID;
	DISPATCH(requeue(s, material_id, node, now));
}

int
store_media_requeue_node(struct store *s, const char *node, int64_t now, int *n)
{
	if (!node || !n)
		return TC_EINVALID;
	DISPATCH(requeue_node(s, node, now, n));
}

int
store_media_retry(struct store *s, int64_t material_id, int64_t now)
{
	DISPATCH(retry(s, material_id, now));
}

int
store_media_counts(struct store *s, int64_t *queued, int64_t *running)
{
	if (!queued || !running)
		return TC_EINVALID;
	DISPATCH(counts(s, queued, running));
}

int
store_caption_put(struct store *s, const struct caption *c, char *old_sha)
{
	if (!c || !c->lang[0] || strlen(c->sha256) != 64)
		return TC_EINVALID;
	DISPATCH(caption_put(s, c, old_sha));
}

int
store_caption_delete(struct store *s, int64_t material_id, const char *lang, char *old_sha)
{
	if (!lang)
		return TC_EINVALID;
	DISPATCH(caption_delete(s, material_id, lang, old_sha));
}

int
store_captions_each(struct store *s, int64_t material_id,
		    int (*cb)(const struct caption *c, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(captions_each(s, material_id, cb, arg));
}
