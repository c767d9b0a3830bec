/* merkle.c - see merkle.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/merkle.h"

void
merkle_leaf_hash(const void *data, size_t n, unsigned char out[MERKLE_HASH_LEN])
{
	static const unsigned char prefix = 0x00;

	/* the thread's SHA-256 context and the digest fetched once: a context
	 * made with EVP_sha256() looked the algorithm up on every leaf */
	sha256_concat(&prefix, 1, data, n, out);
}

void
merkle_node_hash(const unsigned char left[MERKLE_HASH_LEN],
		 const unsigned char right[MERKLE_HASH_LEN], unsigned char out[MERKLE_HASH_LEN])
{
	unsigned char buf[1 + 2 * MERKLE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	sha256_raw(buf, sizeof(buf), out);
}

void
merkle_empty_root(unsigned char out[MERKLE_HASH_LEN])
{
	sha256_raw("", 0, out);
}

/* The largest power of two below N (N >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

/* Whether N (>= 1) is a power of two; *LEVEL receives log2(N). */
static int
power_of_two(uint64_t n, unsigned *level)
{
	unsigned l = 0;

	if ((n & (n - 1)) != 0)
		return 0;
	while ((UINT64_C(1) << l) != n)
		l++;
	*level = l;
	return 1;
}

int
merkle_subtree_hash(const struct merkle_source *src, uint64_t begin, uint64_t end,
		    unsigned char out[MERKLE_HASH_LEN])
{
	unsigned char left[MERKLE_HASH_LEN], right[MERKLE_HASH_LEN];
	uint64_t n = end - begin, k;
	unsigned level;
	int rc;

	if (begin > end)
		return TC_EINVALID;
	if (n == 0) {
		merkle_empty_root(out);
		return 0;
	}
	if (n == 1)
		return src->leaf(src->ctx, begin, out);
	/* Every perfect subtree of the decomposition starts at a multiple of
	 * its size; a caller's arbitrary range may not, so check. */
	if (src->node != NULL && power_of_two(n, &level) && (begin & (n - 1)) == 0) {
		rc = src->node(src->ctx, level, begin >> level, out);
		if (rc != TC_ENOTFOUND)
			return rc;
	}
	k = split_point(n);
	if ((rc = merkle_subtree_hash(src, begin, begin + k, left)) != 0 ||
	    (rc = merkle_subtree_hash(src, begin + k, end, right)) != 0)
		return rc;
	merkle_node_hash(left, right, out);
	return 0;
}

int
merkle_root(const struct merkle_source *src, uint64_t size, unsigned char out[MERKLE_HASH_LEN])
{
	return merkle_subtree_hash(src, 0, size, out);
}

/*
 * PATH(m, D[begin:end]) of RFC 9162 2.1.3.1, iteratively: going down, the
 * sibling subtrees are collected top first; the proof lists them bottom
 * first, so they are written from the end and moved to the front.
 */
int
merkle_inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
		       unsigned char proof[][MERKLE_HASH_LEN], size_t *n)
{
	unsigned char sib[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	uint64_t begin = 0, end = size, k;
	size_t count = 0;
	int rc;

	*n = 0;
	if (index >= size)
		return TC_EINVALID;
	while (end - begin > 1) {
		k = split_point(end - begin);
		if (index - begin < k) {
			rc = merkle_subtree_hash(src, begin + k, end, sib[count]);
			end = begin + k;
		} else {
			rc = merkle_subtree_hash(src, begin, begin + k, sib[count]);
			begin += k;
		}
		if (rc != 0)
			return rc;
		count++;
	}
	for (size_t i = 0; i < count; i++)
		memcpy(proof[i], sib[count - 1 - i], MERKLE_HASH_LEN);
	*n = count;
	return 0;
}

/* SUBPROOF(m, D[begin:end], b) of RFC 9162 2.1.4.1, in the same manner. */
int
merkle_consistency_proof(const struct merkle_source *src, uint64_t first, uint64_t second,
			 unsigned char proof[][MERKLE_HASH_LEN], size_t *n)
{
	unsigned char sib[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	uint64_t begin = 0, end = second, m = first, k;
	size_t count = 0, out = 0;
	int whole = 1, rc;

	*n = 0;
	if (first == 0 || first > second)
		return TC_EINVALID;
	if (first == second)
		return 0;
	while (m != end - begin) {
		k = split_point(end - begin);
		if (m <= k) {
			rc = merkle_subtree_hash(src, begin + k, end, sib[count]);
			end = begin + k;
		} else {
			rc = merkle_subtree_hash(src, begin, begin + k, sib[count]);
			begin += k;
			m -= k;
			whole = 0;
		}
		if (rc != 0)
			return rc;
		count++;
	}
	/* m == n: the subtree itself unless it is the whole old tree. */
	if (!whole) {
		if ((rc = merkle_subtree_hash(src, begin, end, proof[out])) != 0)
			return rc;
		out++;
	}
	for (size_t i = 0; i < count; i++)
		memcpy(proof[out++], sib[count - 1 - i], MERKLE_HASH_LEN);
	*n = out;
	return 0;
}

static int
is_hash(struct merkle_bytes b)
{
	return b.data != NULL && b.len == MERKLE_HASH_LEN;
}

static int
all_hashes(const struct merkle_bytes *proof, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_hash(proof[i]))
			return 0;
	return 1;
}

int
merkle_verify_inclusion(uint64_t index, uint64_t size, struct merkle_bytes leaf,
			const struct merkle_bytes *proof, size_t proof_n, struct merkle_bytes root)
{
	unsigned char r[MERKLE_HASH_LEN];
	uint64_t fn, sn;

	if (!is_hash(leaf) || !is_hash(root) || !all_hashes(proof, proof_n))
		return TC_EINVALID;
	/* 1. */
	if (index >= size)
		return TC_EINVALID;
	/* 2., 3. */
	fn = index;
	sn = size - 1;
	memcpy(r, leaf.data, MERKLE_HASH_LEN);
	/* 4. */
	for (size_t i = 0; i < proof_n; i++) {
		const unsigned char *p = proof[i].data;

		if (sn == 0)
			return TC_EINVALID;
		if ((fn & 1) != 0 || fn == sn) {
			merkle_node_hash(p, r, r);
			if ((fn & 1) == 0)
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_node_hash(r, p, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	if (sn != 0 || !crypto_equal(r, root.data, MERKLE_HASH_LEN))
		return TC_EINVALID;
	return 0;
}

int
merkle_verify_consistency(uint64_t first, uint64_t second, struct merkle_bytes root1,
			  struct merkle_bytes root2, const struct merkle_bytes *proof,
			  size_t proof_n)
{
	unsigned char fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	const unsigned char *c;
	uint64_t fn, sn;
	size_t i = 0;

	if (first == 0 || first > second)
		return TC_EINVALID;
	if (first == second) {
		/* The same head twice: nothing to prove, nothing to hash. */
		if (proof_n != 0 || root1.len != root2.len ||
		    (root1.len > 0 && (root1.data == NULL || root2.data == NULL ||
				       !crypto_equal(root1.data, root2.data, root1.len))))
			return TC_EINVALID;
		return 0;
	}
	if (!is_hash(root1) || !is_hash(root2) || !all_hashes(proof, proof_n))
		return TC_EINVALID;
	/* 1. */
	if (proof_n == 0)
		return TC_EINVALID;
	/* 2. (first_hash is the path's first value) and 5. */
	if ((first & (first - 1)) == 0) {
		c = root1.data;
	} else {
		c = proof[0].data;
		i = 1;
	}
	memcpy(fr, c, MERKLE_HASH_LEN);
	memcpy(sr, c, MERKLE_HASH_LEN);
	/* 3. */
	fn = first - 1;
	sn = second - 1;
	/* 4. */
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 6. */
	for (; i < proof_n; i++) {
		c = proof[i].data;
		if (sn == 0)
			return TC_EINVALID;
		if ((fn & 1) != 0 || fn == sn) {
			merkle_node_hash(c, fr, fr);
			merkle_node_hash(c, sr, sr);
			if ((fn & 1) == 0)
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_node_hash(sr, c, sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. */
	if (sn != 0 || !crypto_equal(fr, root1.data, MERKLE_HASH_LEN) ||
	    !crypto_equal(sr, root2.data, MERKLE_HASH_LEN))
		return TC_EINVALID;
	return 0;
}

/* Spans over PROOF; a proof longer than any valid one is refused here. */
static int
spans(const unsigned char proof[][MERKLE_HASH_LEN], size_t n,
      struct merkle_bytes out[MERKLE_PROOF_MAX])
{
	if (n > MERKLE_PROOF_MAX)
		return TC_EINVALID;
	for (size_t i = 0; i < n; i++) {
		out[i].data = proof[i];
		out[i].len = MERKLE_HASH_LEN;
	}
	return 0;
}

int
merkle_check_inclusion(uint64_t index, uint64_t size, const unsigned char leaf[MERKLE_HASH_LEN],
		       const unsigned char proof[][MERKLE_HASH_LEN], size_t proof_n,
		       const unsigned char root[MERKLE_HASH_LEN])
{
	struct merkle_bytes p[MERKLE_PROOF_MAX];
	struct merkle_bytes l = { leaf, MERKLE_HASH_LEN }, r = { root, MERKLE_HASH_LEN };

	if (spans(proof, proof_n, p) != 0)
		return TC_EINVALID;
	return merkle_verify_inclusion(index, size, l, p, proof_n, r);
}

int
merkle_check_consistency(uint64_t first, uint64_t second,
			 const unsigned char root1[MERKLE_HASH_LEN],
			 const unsigned char root2[MERKLE_HASH_LEN],
			 const unsigned char proof[][MERKLE_HASH_LEN], size_t proof_n)
{
	struct merkle_bytes p[MERKLE_PROOF_MAX];
	struct merkle_bytes r1 = { root1, MERKLE_HASH_LEN }, r2 = { root2, MERKLE_HASH_LEN };

	if (spans(proof, proof_n, p) != 0)
		return TC_EINVALID;
	return merkle_verify_consistency(first, second, r1, r2, p, proof_n);
}

void
merkle_compact_init(struct merkle_compact *c)
{
	memset(c, 0, sizeof(*c));
}

int
merkle_compact_load(struct merkle_compact *c, const struct merkle_source *src, uint64_t size)
{
	struct merkle_compact tmp;
	uint64_t begin = 0;
	int rc;

	merkle_compact_init(&tmp);
	for (int l = 63; l >= 0; l--) {
		uint64_t span = UINT64_C(1) << l;

		if ((size & span) == 0)
			continue;
		if ((rc = merkle_subtree_hash(src, begin, begin + span, tmp.hash[l])) != 0)
			return rc;
		begin += span;
	}
	tmp.size = size;
	*c = tmp;
	return 0;
}

int
merkle_compact_append(struct merkle_compact *c, const unsigned char leaf[MERKLE_HASH_LEN],
		      int (*on_node)(void *ctx, unsigned level, uint64_t index,
				     const unsigned char hash[MERKLE_HASH_LEN]),
		      void *ctx)
{
	unsigned char h[MERKLE_HASH_LEN];
	uint64_t next;
	unsigned level = 0;
	int rc;

	if (c->size == UINT64_MAX)
		return TC_ETOOBIG;
	next = c->size + 1;
	memcpy(h, leaf, MERKLE_HASH_LEN);
	/* Each set low bit of size is a subtree the new one completes. */
	while ((c->size >> level) & 1) {
		merkle_node_hash(c->hash[level], h, h);
		level++;
		if (on_node != NULL && (rc = on_node(ctx, level, (next >> level) - 1, h)) != 0)
			return rc;
	}
	memcpy(c->hash[level], h, MERKLE_HASH_LEN);
	c->size = next;
	return 0;
}

void
merkle_compact_root(const struct merkle_compact *c, unsigned char out[MERKLE_HASH_LEN])
{
	unsigned char acc[MERKLE_HASH_LEN];
	int have = 0;

	for (unsigned l = 0; l < 64; l++) {
		if (((c->size >> l) & 1) == 0)
			continue;
		if (!have)
			memcpy(acc, c->hash[l], MERKLE_HASH_LEN);
		else
			merkle_node_hash(c->hash[l], acc, acc);
		have = 1;
	}
	if (!have)
		merkle_empty_root(acc);
	memcpy(out, acc, MERKLE_HASH_LEN);
}

/* ---- the node cache ------------------------------------------------------ */

struct node_slot {
	uint64_t index;
	unsigned level;		/* 0: empty (cached levels are >= 1) */
	unsigned char hash[MERKLE_HASH_LEN];
};

struct merkle_node_cache {
	pthread_rwlock_t lock;
	unsigned min_level;
	size_t mask;
	struct node_slot *slots;
};

/* A cache's zeroed slot table of WANT slots of SIZE bytes rounded up to a
 * power of two (at most MAX) into *SLOTS, its slot mask into *MASK, and its
 * lock: 0, or TC_ENOMEM with nothing left allocated. */
static int
slot_table_new(size_t want, size_t max, size_t size, void **slots, size_t *mask,
	       pthread_rwlock_t *lock)
{
	size_t n = 1;

	while (n < want && n < max)
		n <<= 1;
	if (!(*slots = calloc(n, size)))
		return TC_ENOMEM;
	if (pthread_rwlock_init(lock, NULL) != 0) {
		free(*slots);
		*slots = NULL;
		return TC_ENOMEM;
	}
	*mask = n - 1;
	return 0;
}

int
merkle_node_cache_new(unsigned min_level, size_t slots, struct merkle_node_cache **out)
{
	struct merkle_node_cache *c = calloc(1, sizeof(*c));
	void *table = NULL;

	*out = NULL;
	if (!c || slot_table_new(slots, (size_t)1 << 30, sizeof(*c->slots), &table, &c->mask,
				 &c->lock)) {
		free(c);
		return TC_ENOMEM;
	}
	c->slots = table;
	c->min_level = min_level ? min_level : 1;
	*out = c;
	return 0;
}

void
merkle_node_cache_free(struct merkle_node_cache *c)
{
	if (!c)
		return;
	pthread_rwlock_destroy(&c->lock);
	free(c->slots);
	free(c);
}

static size_t
slot_of(const struct merkle_node_cache *c, unsigned level, uint64_t index)
{
	uint64_t h = index * 0x9E3779B97F4A7C15ull + level * 0xC2B2AE3D27D4EB4Full;

	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	return (size_t)(h ^ (h >> 32)) & c->mask;
}

static int
cached_node(void *ctx, unsigned level, uint64_t index, unsigned char out[MERKLE_HASH_LEN])
{
	struct merkle_cached_source *cs = ctx;
	struct merkle_node_cache *c = cs->cache;
	struct node_slot *sl;
	int rc, hit = 0;

	if (level < c->min_level)
		return cs->inner->node(cs->inner->ctx, level, index, out);
	sl = &c->slots[slot_of(c, level, index)];
	pthread_rwlock_rdlock(&c->lock);
	if (sl->level == level && sl->index == index) {
		memcpy(out, sl->hash, MERKLE_HASH_LEN);
		hit = 1;
	}
	pthread_rwlock_unlock(&c->lock);
	if (hit)
		return 0;
	rc = cs->inner->node(cs->inner->ctx, level, index, out);
	if (rc == 0) {
		pthread_rwlock_wrlock(&c->lock);
		sl->level = level;
		sl->index = index;
		memcpy(sl->hash, out, MERKLE_HASH_LEN);
		pthread_rwlock_unlock(&c->lock);
	}
	return rc;
}

static int
cached_leaf(void *ctx, uint64_t index, unsigned char out[MERKLE_HASH_LEN])
{
	const struct merkle_cached_source *cs = ctx;

	return cs->inner->leaf(cs->inner->ctx, index, out);
}

/* ---- the block cache ----------------------------------------------------- */

const unsigned char *
merkle_block_node(const struct merkle_block *b, unsigned level, uint64_t index)
{
	/* where each level starts in node[] */
	static const unsigned start[MERKLE_BLOCK_LEVELS] = { 0, 0, MERKLE_BLOCK / 2,
							     MERKLE_BLOCK / 2 + MERKLE_BLOCK / 4 };

	if (level < 1 || level >= MERKLE_BLOCK_LEVELS || index >= (MERKLE_BLOCK >> level))
		return NULL;
	return b->node[start[level] + index];
}

void
merkle_block_fill(struct merkle_block *b)
{
	unsigned at = 0, below = 0;	/* where this level / the one below start */

	for (unsigned i = 0; i < MERKLE_BLOCK / 2; i++)
		merkle_node_hash(b->leaf[2 * i], b->leaf[2 * i + 1], b->node[at + i]);
	at = MERKLE_BLOCK / 2;
	for (unsigned w = MERKLE_BLOCK / 4; w > 1; w /= 2) {
		for (unsigned i = 0; i < w; i++)
			merkle_node_hash(b->node[below + 2 * i], b->node[below + 2 * i + 1],
					 b->node[at + i]);
		below = at;
		at += w;
	}
}

struct block_slot {
	uint64_t block_plus1;	/* 0: empty */
	struct merkle_block b;
};

struct merkle_block_cache {
	pthread_rwlock_t lock;
	size_t mask;
	struct block_slot *slots;
};

int
merkle_block_cache_new(size_t slots, struct merkle_block_cache **out)
{
	struct merkle_block_cache *c = calloc(1, sizeof(*c));
	void *table = NULL;

	*out = NULL;
	if (!c || slot_table_new(slots, (size_t)1 << 20, sizeof(*c->slots), &table, &c->mask,
				 &c->lock)) {
		free(c);
		return TC_ENOMEM;
	}
	c->slots = table;
	*out = c;
	return 0;
}

void
merkle_block_cache_free(struct merkle_block_cache *c)
{
	if (!c)
		return;
	pthread_rwlock_destroy(&c->lock);
	free(c->slots);
	free(c);
}

size_t
merkle_block_cache_bytes(const struct merkle_block_cache *c)
{
	return c ? sizeof(*c) + (c->mask + 1) * sizeof(*c->slots) : 0;
}

int
merkle_block_cache_get(struct merkle_block_cache *c, uint64_t block, struct merkle_block *out)
{
	struct block_slot *sl;
	int hit = 0;

	if (!c || block == UINT64_MAX)
		return 0;
	sl = &c->slots[block & c->mask];
	pthread_rwlock_rdlock(&c->lock);
	if (sl->block_plus1 == block + 1) {
		*out = sl->b;
		hit = 1;
	}
	pthread_rwlock_unlock(&c->lock);
	return hit;
}

void
merkle_block_cache_put(struct merkle_block_cache *c, uint64_t block,
		       const struct merkle_block *b)
{
	struct block_slot *sl;

	if (!c || block == UINT64_MAX)
		return;
	sl = &c->slots[block & c->mask];
	pthread_rwlock_wrlock(&c->lock);
	sl->block_plus1 = block + 1;
	sl->b = *b;
	pthread_rwlock_unlock(&c->lock);
}

void
merkle_cached_source_init(struct merkle_cached_source *cs, struct merkle_node_cache *c,
			  const struct merkle_source *inner)
{
	cs->inner = inner;
	cs->cache = c;
	cs->src = *inner;
	if (c && inner->node) {
		cs->src.node = cached_node;
		cs->src.ctx = cs;
	}
	if (c && inner->node && inner->leaf) {
		/* leaf() keeps INNER's context: reached through this one */
		cs->src.leaf = cached_leaf;
	}
}
