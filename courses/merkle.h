/*
 * merkle.h - the Merkle tree of RFC 9162 (Certificate Transparency 2.0,
 * section 2.1) over SHA-256: leaf and node hashes, the tree head MTH,
 * inclusion and consistency proofs (generation and verification), and a
 * compact range that appends leaves in O(log n).
 *
 *   leaf hash  = SHA-256(0x00 || data)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of
 *                two below n
 *
 * Generation reads the tree through a struct merkle_source: a callback that
 * gives the leaf hash at an index (the log keeps its leaves in SQLite) and
 * an optional one that gives the hash of a perfect subtree it has kept.
 * Every subtree in the MTH decomposition is either a perfect, aligned
 * subtree (2^l leaves starting at a multiple of 2^l) or splits into one, so:
 *
 *   cost without node(): MTH over n leaves reads n leaves and computes n-1
 *     node hashes; an inclusion or consistency proof in a tree of n leaves
 *     also reads about n leaves (its siblings cover the whole tree). For a
 *     million leaves that is about a million SHA-256 runs (~0.5 s): fine for
 *     tests and rebuilds, not per request.
 *   cost with node(): a root or a proof asks at most 2 log2(n) perfect
 *     subtrees and hashes O(log n) nodes. A log gets node() for free by
 *     keeping what merkle_compact_append reports (each perfect subtree once,
 *     when it is completed): n-1 rows for n leaves.
 *
 * Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step,
 * so every malformed proof is refused: a wrong leaf, index or size, a hash
 * that is not 32 bytes, a missing, extra, altered or reordered element.
 * Functions return 0 or a negative TC_* code (courses/errors.h); a
 * verification that fails gives TC_EINVALID.
 */
#ifndef TINCHI_MERKLE_H
#define TINCHI_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
/* The longest proof of a tree of up to 2^64 - 1 leaves: an inclusion proof
 * has at most 64 elements, a consistency proof at most 65. */
#define MERKLE_PROOF_MAX 65

/* SHA-256(0x00 || DATA). */
void merkle_leaf_hash(const void *data, size_t n, unsigned char out[MERKLE_HASH_LEN]);
/* SHA-256(0x01 || LEFT || RIGHT); OUT may be LEFT or RIGHT. */
void merkle_node_hash(const unsigned char left[MERKLE_HASH_LEN],
		      const unsigned char right[MERKLE_HASH_LEN],
		      unsigned char out[MERKLE_HASH_LEN]);
/* MTH of the empty tree: SHA-256 of nothing. */
void merkle_empty_root(unsigned char out[MERKLE_HASH_LEN]);

/*
 * Where generation reads the tree. leaf() gives the leaf hash at INDEX
 * (0, or a TC_* code that the caller gets back). node(), when not NULL,
 * gives the hash of the perfect subtree of level LEVEL (2^LEVEL leaves,
 * LEVEL >= 1) with index INDEX, i.e. over leaves [INDEX << LEVEL,
 * (INDEX + 1) << LEVEL): 0 when known, TC_ENOTFOUND to have it computed
 * from below, any other code to fail.
 */
struct merkle_source {
	int (*leaf)(void *ctx, uint64_t index, unsigned char out[MERKLE_HASH_LEN]);
	int (*node)(void *ctx, unsigned level, uint64_t index,
		    unsigned char out[MERKLE_HASH_LEN]);
	void *ctx;
};

/* MTH(D[BEGIN:END]) of the tree that SRC describes (BEGIN <= END; the empty
 * range gives the empty root). merkle_root is merkle_subtree_hash(0, SIZE). */
int merkle_subtree_hash(const struct merkle_source *src, uint64_t begin, uint64_t end,
			unsigned char out[MERKLE_HASH_LEN]);
int merkle_root(const struct merkle_source *src, uint64_t size,
		unsigned char out[MERKLE_HASH_LEN]);

/*
 * PATH(INDEX, D[SIZE]) of RFC 9162 2.1.3.1 (INDEX < SIZE, else TC_EINVALID)
 * into PROOF (room for MERKLE_PROOF_MAX hashes); *N receives the count.
 * PROOF(FIRST, D[SECOND]) of 2.1.4.1 likewise (0 < FIRST <= SECOND; FIRST
 * == SECOND gives the empty proof). On failure *N is 0.
 */
int merkle_inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
			   unsigned char proof[][MERKLE_HASH_LEN], size_t *n);
int merkle_consistency_proof(const struct merkle_source *src, uint64_t first,
			     uint64_t second, unsigned char proof[][MERKLE_HASH_LEN],
			     size_t *n);

/* A hash as received (decoded from base64, say): any length; verification
 * refuses every one that is not MERKLE_HASH_LEN bytes. */
struct merkle_bytes {
	const unsigned char *data;
	size_t len;
};

/*
 * RFC 9162 2.1.3.2: 0 when PROOF proves that LEAF (a leaf hash) is leaf
 * INDEX of the tree of SIZE leaves with root ROOT, else TC_EINVALID.
 */
int merkle_verify_inclusion(uint64_t index, uint64_t size, struct merkle_bytes leaf,
			    const struct merkle_bytes *proof, size_t proof_n,
			    struct merkle_bytes root);

/*
 * RFC 9162 2.1.4.2: 0 when PROOF proves that the tree of FIRST leaves with
 * root ROOT1 is a prefix of the tree of SECOND leaves with root ROOT2, else
 * TC_EINVALID. The RFC defines proofs for 0 < FIRST < SECOND only; FIRST ==
 * SECOND > 0 is accepted with an empty proof and identical roots (the same
 * tree head twice); FIRST == 0 is always refused (the empty tree is a
 * prefix of everything: such a "proof" proves nothing).
 */
int merkle_verify_consistency(uint64_t first, uint64_t second, struct merkle_bytes root1,
			      struct merkle_bytes root2, const struct merkle_bytes *proof,
			      size_t proof_n);

/* The same on hashes of the right size (proofs as merkle_*_proof make them). */
int merkle_check_inclusion(uint64_t index, uint64_t size,
			   const unsigned char leaf[MERKLE_HASH_LEN],
			   const unsigned char proof[][MERKLE_HASH_LEN], size_t proof_n,
			   const unsigned char root[MERKLE_HASH_LEN]);
int merkle_check_consistency(uint64_t first, uint64_t second,
			     const unsigned char root1[MERKLE_HASH_LEN],
			     const unsigned char root2[MERKLE_HASH_LEN],
			     const unsigned char proof[][MERKLE_HASH_LEN], size_t proof_n);

/*
 * A compact range over D[0:size]: the right edge of the tree, one perfect
 * subtree hash per bit set in SIZE (hash[l] covers 2^l leaves when bit l
 * is set). 64 * 32 bytes, embedded, no allocation. Appending a leaf and
 * taking the root cost O(log n).
 */
struct merkle_compact {
	uint64_t size;
	unsigned char hash[64][MERKLE_HASH_LEN];
};

/* The empty tree. */
void merkle_compact_init(struct merkle_compact *c);

/* The compact range of D[0:SIZE] read from SRC (O(log n) perfect subtrees,
 * each through node() when it knows it). C is unchanged on failure. */
int merkle_compact_load(struct merkle_compact *c, const struct merkle_source *src,
			uint64_t size);

/*
 * Appends the leaf hash LEAF. ON_NODE, when not NULL, is told every perfect
 * subtree this completes (level >= 1, index as in struct merkle_source);
 * an error it returns is returned and C is left as it was (what it has
 * stored is the caller's to roll back). TC_ETOOBIG when full.
 */
int merkle_compact_append(struct merkle_compact *c, const unsigned char leaf[MERKLE_HASH_LEN],
			  int (*on_node)(void *ctx, unsigned level, uint64_t index,
					 const unsigned char hash[MERKLE_HASH_LEN]),
			  void *ctx);

/* MTH(D[0:size]). */
void merkle_compact_root(const struct merkle_compact *c, unsigned char out[MERKLE_HASH_LEN]);

/*
 * A cache of perfect subtree hashes in front of a source's node(), safe to
 * share between threads. In an append-only log a perfect subtree's hash,
 * once the log has it, never changes, so what node() gave once is given
 * again without asking: an inclusion proof in a tree of n leaves reads
 * about log2(n) subtrees, and the upper ones (level MIN_LEVEL and up, few
 * and shared by every proof) then come from memory. Direct-mapped, SLOTS
 * entries (rounded up to a power of two); only 0 answers are kept.
 */
struct merkle_node_cache;

/* 0 and *OUT, or TC_ENOMEM. */
int merkle_node_cache_new(unsigned min_level, size_t slots, struct merkle_node_cache **out);
/* Frees C. Accepts NULL. */
void merkle_node_cache_free(struct merkle_node_cache *c);

/* A source that reads INNER's nodes through C (C NULL: INNER's as they
 * are). Give merkle_* the member src; INNER must outlive it. */
struct merkle_cached_source {
	struct merkle_source src;
	const struct merkle_source *inner;
	struct merkle_node_cache *cache;
};

void merkle_cached_source_init(struct merkle_cached_source *cs, struct merkle_node_cache *c,
			       const struct merkle_source *inner);

/*
 * A complete aligned block of MERKLE_BLOCK leaves (leaves 16 b .. 16 b + 15
 * of block b): their leaf hashes and the perfect subtrees inside it, levels
 * 1 to MERKLE_BLOCK_LEVELS - 1 (node[0..7] level 1, node[8..11] level 2,
 * node[12..13] level 3, each level left to right). An inclusion proof's
 * lowest four siblings all lie in its leaf's block.
 */
#define MERKLE_BLOCK_LEVELS 4
#define MERKLE_BLOCK (1u << MERKLE_BLOCK_LEVELS)

struct merkle_block {
	unsigned char leaf[MERKLE_BLOCK][MERKLE_HASH_LEN];
	unsigned char node[MERKLE_BLOCK - 2][MERKLE_HASH_LEN];
};

/* BLOCK's node at LEVEL (1 to MERKLE_BLOCK_LEVELS - 1) and INDEX (within
 * the block: 0 to MERKLE_BLOCK >> LEVEL minus 1), or NULL when out of range. */
const unsigned char *merkle_block_node(const struct merkle_block *b, unsigned level,
				       uint64_t index);

/* Fills B->node from B->leaf. */
void merkle_block_fill(struct merkle_block *b);

/*
 * A cache of complete blocks, safe to share between threads: in an
 * append-only log a complete block never changes, so its 16 leaves need not
 * be read and hashed again, nor its 14 inner nodes. Direct-mapped, SLOTS
 * entries (rounded up to a power of two, at most 2^20) of
 * sizeof(struct merkle_block) + 8 bytes: merkle_block_cache_bytes says how
 * much in all. Only complete blocks may be put.
 */
struct merkle_block_cache;

/* 0 and *OUT, or TC_ENOMEM. */
int merkle_block_cache_new(size_t slots, struct merkle_block_cache **out);
/* Frees C. Accepts NULL. */
void merkle_block_cache_free(struct merkle_block_cache *c);
/* The bytes C holds (its slots and itself). */
size_t merkle_block_cache_bytes(const struct merkle_block_cache *c);
/* 1 and *OUT when block BLOCK is kept in C, else 0 (also for C NULL). */
int merkle_block_cache_get(struct merkle_block_cache *c, uint64_t block, struct merkle_block *out);
/* Keeps the complete block BLOCK (B with its nodes filled) in C, in place of
 * whatever shared its slot. Accepts C NULL (keeps nothing). */
void merkle_block_cache_put(struct merkle_block_cache *c, uint64_t block,
			    const struct merkle_block *b);

#endif
