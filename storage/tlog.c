/*
 * tlog.c - storage/tlog.h: dispatch to the backend's tlog ops, the append
 * (leaves plus the perfect subtrees they complete that are stored, computed
 * with courses/merkle.h's compact range loaded from the stored subtrees),
 * and the small subtrees that are not stored, hashed from their leaves.
 */
#include <string.h>

#include "courses/errors.h"
#include "courses/merkle.h"
#include "storage/store_backend.h"
#include "storage/tlog.h"

static int
ops(struct store *s, const struct tlog_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->tlog;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct tlog_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

int
store_tlog_size(struct store *s, uint64_t *size)
{
	if (!size)
		return TC_EINVALID;
	DISPATCH(size(s, size));
}

int
store_tlog_leaf_hash(struct store *s, uint64_t index, unsigned char out[MERKLE_HASH_LEN])
{
	if (!out || index > INT64_MAX)
		return TC_EINVALID;
	DISPATCH(leaf_hash(s, index, out));
}

/* The leaf hashes of a small subtree, read in one range. */
struct small_tree {
	unsigned char h[1u << (TLOG_NODE_LEVEL_MIN - 1)][MERKLE_HASH_LEN];
	uint64_t first;
	size_t n;
};

static int
keep_leaf(uint64_t index, const char *entry, const unsigned char leaf_hash[MERKLE_HASH_LEN],
	  void *arg)
{
	struct small_tree *t = arg;

	(void)entry;
	if (index != t->first + t->n || t->n >= sizeof(t->h) / sizeof(t->h[0]))
		return TC_EDB;
	memcpy(t->h[t->n++], leaf_hash, MERKLE_HASH_LEN);
	return 0;
}

int
store_tlog_node_hash(struct store *s, unsigned level, uint64_t index,
		     unsigned char out[MERKLE_HASH_LEN])
{
	const struct tlog_ops *o = NULL;
	struct small_tree t;
	size_t want;
	int rc;

	if (!out || level < 1 || level > 63 || index > INT64_MAX)
		return TC_EINVALID;
	if (level >= TLOG_NODE_LEVEL_MIN)
		DISPATCH(node_hash(s, level, index, out));
	/* not stored: its 2^level leaves hashed up */
	if (index > (uint64_t)INT64_MAX >> level)
		return TC_ENOTFOUND;
	if ((rc = ops(s, &o)))
		return rc;
	want = (size_t)1 << level;
	t.first = index << level;
	t.n = 0;
	if ((rc = o->leaves_each(s, t.first, t.first + want, keep_leaf, &t)))
		return rc;
	if (t.n != want)
		return TC_ENOTFOUND;
	for (size_t w = want; w > 1; w /= 2)
		for (size_t i = 0; i < w / 2; i++)
			merkle_node_hash(t.h[2 * i], t.h[2 * i + 1], t.h[i]);
	memcpy(out, t.h[0], MERKLE_HASH_LEN);
	return 0;
}

uint64_t
store_tlog_node_rows(uint64_t size)
{
	uint64_t n = 0;

	for (unsigned l = TLOG_NODE_LEVEL_MIN; l < 64; l++)
		n += size >> l;
	return n;
}

int
store_tlog_node_count(struct store *s, uint64_t *count)
{
	if (!count)
		return TC_EINVALID;
	DISPATCH(node_count(s, count));
}

static int
src_leaf(void *ctx, uint64_t index, unsigned char out[MERKLE_HASH_LEN])
{
	return store_tlog_leaf_hash(ctx, index, out);
}

static int
src_node(void *ctx, unsigned level, uint64_t index, unsigned char out[MERKLE_HASH_LEN])
{
	return store_tlog_node_hash(ctx, level, index, out);
}

void
store_tlog_source(struct store *s, struct merkle_source *src)
{
	src->leaf = src_leaf;
	src->node = src_node;
	src->ctx = s;
}

static int
on_node(void *ctx, unsigned level, uint64_t index, const unsigned char hash[MERKLE_HASH_LEN])
{
	struct store *s = ctx;

	if (level < TLOG_NODE_LEVEL_MIN)
		return 0;	/* computed from the leaves when asked */
	return s->ops->tlog->node_put(s, level, index, hash);
}

int
store_tlog_append(struct store *s, const char *const *entries, const char *const *subjects,
		  size_t n, uint64_t *first)
{
	const struct tlog_ops *o = NULL;
	struct merkle_source src;
	struct merkle_compact c;
	unsigned char leaf[MERKLE_HASH_LEN];
	uint64_t size = 0;
	int rc;

	if (!entries || !subjects || !first || n == 0)
		return TC_EINVALID;
	for (size_t i = 0; i < n; i++) {
		size_t len = entries[i] ? strlen(entries[i]) : 0;

		if (len == 0 || len > TLOG_ENTRY_MAX || !subjects[i] || !subjects[i][0] ||
		    strlen(subjects[i]) > TLOG_SUBJECT_MAX)
			return TC_EINVALID;
	}
	if ((rc = ops(s, &o)) || (rc = o->size(s, &size)))
		return rc;
	store_tlog_source(s, &src);
	if ((rc = merkle_compact_load(&c, &src, size)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		merkle_leaf_hash(entries[i], strlen(entries[i]), leaf);
		if ((rc = o->leaf_put(s, c.size, entries[i], subjects[i], leaf)) ||
		    (rc = merkle_compact_append(&c, leaf, on_node, s)))
			return rc;
	}
	*first = size;
	return 0;
}

int
store_tlog_leaves_each(struct store *s, uint64_t start, uint64_t end,
		       int (*cb)(uint64_t index, const char *entry,
				 const unsigned char leaf_hash[MERKLE_HASH_LEN], void *arg),
		       void *arg)
{
	if (!cb || start > end || end > INT64_MAX)
		return TC_EINVALID;
	DISPATCH(leaves_each(s, start, end, cb, arg));
}

int
store_tlog_find(struct store *s, const char *subject, uint64_t *index)
{
	if (!subject || !index)
		return TC_EINVALID;
	if (strlen(subject) > TLOG_SUBJECT_MAX)
		return TC_ENOTFOUND;
	DISPATCH(find(s, subject, index));
}

int
store_tlog_checkpoint_put(struct store *s, const struct tlog_checkpoint *cp)
{
	if (!cp || cp->size > INT64_MAX || !cp->note[0] ||
	    !memchr(cp->note, '\0', sizeof(cp->note)))
		return TC_EINVALID;
	DISPATCH(checkpoint_put(s, cp));
}

int
store_tlog_checkpoint_get(struct store *s, uint64_t size, struct tlog_checkpoint *out)
{
	if (!out)
		return TC_EINVALID;
	if (size > INT64_MAX)
		return TC_ENOTFOUND;
	DISPATCH(checkpoint_get(s, 0, size, out));
}

int
store_tlog_checkpoint_latest(struct store *s, struct tlog_checkpoint *out)
{
	if (!out)
		return TC_EINVALID;
	DISPATCH(checkpoint_get(s, 1, 0, out));
}

int
store_tlog_checkpoints_each(struct store *s,
			    int (*cb)(const struct tlog_checkpoint *cp, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(checkpoints_each(s, cb, arg));
}

int
store_tlog_read_begin(struct store *s, int *began)
{
	if (!began)
		return TC_EINVALID;
	*began = 0;
	DISPATCH(read_begin(s, began));
}

int
store_tlog_read_end(struct store *s, int began)
{
	if (!began)
		return 0;
	DISPATCH(read_end(s));
}

int
store_tlog_data_version(struct store *s, int64_t *version)
{
	if (!version)
		return TC_EINVALID;
	DISPATCH(data_version(s, version));
}
