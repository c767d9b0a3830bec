/*
 * api_tlog.c - the transparency log, public (no sign-in), so that anyone
 * can mirror and audit it:
 *
 *   GET /log/checkpoint   the latest checkpoint, a C2SP signed note (text/plain)
 *   GET /log/key          the note verifier key of the log ("origin+id+key")
 *   GET /log/proof?hash=sha256:<hex>[&size=N]
 *       the inclusion proof of the first leaf recording that credential hash
 *       in the checkpoint of size N (default: the latest): index, size, the
 *       entry (exact canonical text), its leaf hash, the proof hashes (base64)
 *       and the checkpoint note
 *   GET /log/consistency?first=M[&second=N]
 *       the RFC 9162 consistency proof between the trees of M and N leaves
 *       (N default: the latest checkpoint's size; 0 < M <= N <= that size)
 *   GET /log/leaves?start=A&end=B   leaves [A, B), at most TLOG_LEAVES_MAX,
 *       within the latest checkpoint
 *
 * Only what a stored checkpoint covers is served. Bad parameters: 400.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/merkle.h"
#include "courses/tlog_entry.h"
#include "server/api_tlog.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/problem.h"
#include "server/tlog.h"
#include "storage/tlog.h"

#define TLOG_LEAVES_MAX 1000

static json_t *
b64_json(const unsigned char *h, size_t n)
{
	char b[96];

	return b64_encode(h, n, b, sizeof(b)) == 0 ? json_string(b) : NULL;
}

static int
latest(struct app *app, struct http_response *resp, struct tlog_checkpoint *cp)
{
	int rc = store_tlog_checkpoint_latest(app->store, cp);

	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 503, NULL, "the log has no checkpoint yet"), rc;
	if (rc)
		return problem_respond_err(resp, rc, NULL), rc;
	return 0;
}

static int
on_checkpoint(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct tlog_checkpoint *cp = calloc(1, sizeof(*cp));

	(void)req;
	if (!cp)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (latest(app, resp, cp) == 0) {
		dynbuf_reset(&resp->body);
		if (dynbuf_puts(&resp->body, cp->note))
			problem_respond_err(resp, TC_ENOMEM, NULL);
		else {
			resp->status = 200;
			resp->content_type = "text/plain; charset=utf-8";
			http_response_header(resp, "cache-control", "no-cache");
		}
	}
	free(cp);
	return 0;
}

static int
on_key(struct app *app, struct http_request *req, struct http_response *resp)
{
	(void)req;
	dynbuf_reset(&resp->body);
	if (dynbuf_printf(&resp->body, "%s\n", tlog_vkey(app->tlog)))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	resp->status = 200;
	resp->content_type = "text/plain; charset=utf-8";
	return 0;
}

static json_t *
proof_json(unsigned char proof[][MERKLE_HASH_LEN], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, b64_json(proof[i], MERKLE_HASH_LEN))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int
keep_entry(uint64_t index, const char *entry, const unsigned char leaf_hash[MERKLE_HASH_LEN],
	   void *arg)
{
	json_t *a = arg;

	(void)leaf_hash;
	return json_array_append_new(a, json_pack("{s:I, s:s}", "index", (json_int_t)index,
						  "entry", entry)) ? TC_ENOMEM : 0;
}

int
api_tlog_proof(struct app *app, const char *hash, uint64_t size, json_t **proof, char *why,
	       size_t whysize)
{
	return api_tlog_proof_blocks(app->store, tlog_node_cache(app->tlog),
				     tlog_block_cache(app->tlog), hash, size, proof, why, whysize);
}

int
api_tlog_proof_store(struct store *st, const char *hash, uint64_t size, json_t **proof,
		     char *why, size_t whysize)
{
	return api_tlog_proof_cached(st, NULL, hash, size, proof, why, whysize);
}

/*
 * The aligned block of LEAF_BLOCK leaves around a proof's leaf, read in one
 * query: its leaf hashes give the leaf's own hash and every sibling below
 * level LEAF_BLOCK_LEVELS (subtrees under TLOG_NODE_LEVEL_MIN are not
 * stored and were each read leaf by leaf, 15 leaves in four queries), and
 * the leaf's entry. Subtrees outside it come from INNER.
 */
#define LEAF_BLOCK_LEVELS MERKLE_BLOCK_LEVELS
#define LEAF_BLOCK MERKLE_BLOCK

struct leaf_block {
	struct merkle_source src;
	const struct merkle_source *inner;
	uint64_t first, want;
	size_t n;			/* leaves read, from FIRST on, without a gap */
	int gap;
	int filled;			/* mb.node too (a complete block) */
	struct merkle_block mb;		/* mb.leaf: the leaf hashes read */
	json_t *entry;			/* the entry of leaf WANT, once read */
};

static int
block_keep(uint64_t index, const char *entry, const unsigned char leaf_hash[MERKLE_HASH_LEN],
	   void *arg)
{
	struct leaf_block *b = arg;

	if (b->gap || index != b->first + b->n || b->n >= LEAF_BLOCK) {
		b->gap = 1;
		return 0;
	}
	memcpy(b->mb.leaf[b->n++], leaf_hash, MERKLE_HASH_LEN);
	if (index == b->want && !(b->entry = json_string(entry)))
		return TC_ENOMEM;
	return 0;
}

static int
block_leaf(void *ctx, uint64_t index, unsigned char out[MERKLE_HASH_LEN])
{
	struct leaf_block *b = ctx;

	if (index >= b->first && index - b->first < b->n) {
		memcpy(out, b->mb.leaf[index - b->first], MERKLE_HASH_LEN);
		return 0;
	}
	return b->inner->leaf(b->inner->ctx, index, out);
}

static int
block_node(void *ctx, unsigned level, uint64_t index, unsigned char out[MERKLE_HASH_LEN])
{
	struct leaf_block *b = ctx;
	unsigned char t[LEAF_BLOCK / 2][MERKLE_HASH_LEN];
	uint64_t start, want;

	if (level >= 1 && level < LEAF_BLOCK_LEVELS && index <= (UINT64_MAX >> level) - 1) {
		start = index << level;
		want = (uint64_t)1 << level;
		if (b->filled && start >= b->first && start - b->first + want <= b->n) {
			memcpy(out, merkle_block_node(&b->mb, level, index - (b->first >> level)),
			       MERKLE_HASH_LEN);
			return 0;
		}
		if (start >= b->first && start - b->first + want <= b->n) {
			const unsigned char (*h)[MERKLE_HASH_LEN] = b->mb.leaf + (start - b->first);

			/* the RFC 9162 hash of a perfect subtree, pairs upwards */
			for (uint64_t i = 0; i < want / 2; i++)
				merkle_node_hash(h[2 * i], h[2 * i + 1], t[i]);
			for (uint64_t w = want / 2; w > 1; w /= 2)
				for (uint64_t i = 0; i < w / 2; i++)
					merkle_node_hash(t[2 * i], t[2 * i + 1], t[i]);
			memcpy(out, t[0], MERKLE_HASH_LEN);
			return 0;
		}
	}
	return b->inner->node(b->inner->ctx, level, index, out);
}

/* BLK's block of 16 leaves: complete from BLOCKS (its leaves and inner
 * nodes; the wanted leaf's entry is then read alone), else read from ST,
 * and kept in BLOCKS when complete and under the signed checkpoint of
 * SIZE leaves (committed leaves, never those of a caller's write
 * transaction that may roll back). */
static int
block_load(struct store *st, struct merkle_block_cache *blocks, struct leaf_block *blk,
	   uint64_t size)
{
	int rc;

	if (merkle_block_cache_get(blocks, blk->first / LEAF_BLOCK, &blk->mb)) {
		blk->n = LEAF_BLOCK;
		blk->filled = 1;
		return 0;
	}
	rc = store_tlog_leaves_each(st, blk->first, blk->first + LEAF_BLOCK, block_keep, blk);
	if (rc == 0 && blocks && blk->n == LEAF_BLOCK && !blk->gap) {
		merkle_block_fill(&blk->mb);
		blk->filled = 1;
		if (blk->first + LEAF_BLOCK <= size)
			merkle_block_cache_put(blocks, blk->first / LEAF_BLOCK, &blk->mb);
	}
	return rc;
}

int
api_tlog_proof_cached(struct store *st, struct merkle_node_cache *nodes, const char *hash,
		      uint64_t size, json_t **proof, char *why, size_t whysize)
{
	return api_tlog_proof_blocks(st, nodes, NULL, hash, size, proof, why, whysize);
}

/* GIVEN (may be NULL): the latest checkpoint, as the caller read it in its
 * own read snapshot (SIZE is then 0). */
static int
proof_build(struct store *st, struct merkle_node_cache *nodes,
	    struct merkle_block_cache *blocks, const struct tlog_checkpoint *given,
	    const char *hash, uint64_t size, json_t **proof, char *why, size_t whysize)
{
	struct merkle_cached_source cached;
	unsigned char path[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
	struct tlog_checkpoint *own = NULL;
	const struct tlog_checkpoint *cp = given;
	struct merkle_source src;
	struct leaf_block blk = { 0 };
	uint64_t idx = 0;
	size_t n = 0;
	json_t *entries = NULL;
	int rc = 0, began = 0;

	*proof = NULL;
	if (!cp && !(cp = own = calloc(1, sizeof(*own))))
		return TC_ENOMEM;
	/* every read below from one snapshot */
	if ((rc = store_tlog_read_begin(st, &began)))
		goto out;
	if (own)
		rc = size ? store_tlog_checkpoint_get(st, size, own) :
		     store_tlog_checkpoint_latest(st, own);
	if (rc == TC_ENOTFOUND) {
		if (size)
			snprintf(why, whysize, "there is no checkpoint of size %llu",
				 (unsigned long long)size);
		else
			snprintf(why, whysize, "%s is not yet in a signed checkpoint (the log has"
				 " none yet)", hash);
		rc = size ? TC_ENOTFOUND : TC_EBUSY;
		goto out;
	}
	if (rc)
		goto out;
	rc = store_tlog_find(st, hash, &idx);
	if (rc == TC_ENOTFOUND) {
		snprintf(why, whysize, "%s is not in the transparency log", hash);
		goto out;
	}
	if (rc)
		goto out;
	if (idx >= cp->size) {
		snprintf(why, whysize, "%s is leaf %llu, not yet in a signed checkpoint (that"
			 " one covers %llu leaves; the next follows within seconds)", hash,
			 (unsigned long long)idx, (unsigned long long)cp->size);
		rc = TC_ENOTFOUND;
		goto out;
	}
	store_tlog_source(st, &src);
	merkle_cached_source_init(&cached, nodes, &src);
	blk.inner = &cached.src;
	blk.src.leaf = block_leaf;
	blk.src.node = cached.src.node ? block_node : NULL;
	blk.src.ctx = &blk;
	blk.want = idx;
	blk.first = idx & ~(uint64_t)(LEAF_BLOCK - 1);
	if (!(entries = json_array()))
		rc = TC_ENOMEM;
	if (rc == 0)
		rc = block_load(st, blocks, &blk, cp->size);
	if (rc == 0)
		rc = merkle_inclusion_proof(&blk.src, idx, cp->size, path, &n);
	/* the leaf's hash and entry: from the block (else read alone, as they
	 * would be where the block has a gap) */
	if (rc == 0)
		rc = block_leaf(&blk, idx, leaf);
	if (rc == 0 && blk.entry)
		rc = json_array_append(entries, blk.entry) ? TC_ENOMEM : 0;
	else if (rc == 0)
		rc = store_tlog_leaves_each(st, idx, idx + 1, keep_entry, entries);
	if (rc == 0 && json_array_size(entries) != 1)
		rc = TC_EDB;
	if (rc == 0 && !(*proof = json_pack("{s:I, s:I, s:O, s:o, s:o, s:o, s:s}",
					    "index", (json_int_t)idx, "size", (json_int_t)cp->size,
					    "entry", json_is_string(json_array_get(entries, 0)) ?
					    json_array_get(entries, 0) :
					    json_object_get(json_array_get(entries, 0), "entry"),
					    "leaf_hash", b64_json(leaf, MERKLE_HASH_LEN),
					    "proof", proof_json(path, n),
					    "root", b64_json(cp->root, MERKLE_HASH_LEN),
					    "checkpoint", cp->note)))
		rc = TC_ENOMEM;
out:
	store_tlog_read_end(st, began);
	json_decref(entries);
	json_decref(blk.entry);
	free(own);
	return rc;
}

int
api_tlog_proof_blocks(struct store *st, struct merkle_node_cache *nodes,
		      struct merkle_block_cache *blocks, const char *hash, uint64_t size,
		      json_t **proof, char *why, size_t whysize)
{
	return proof_build(st, nodes, blocks, NULL, hash, size, proof, why, whysize);
}

int
api_tlog_proof_at(struct store *st, struct merkle_node_cache *nodes,
		  struct merkle_block_cache *blocks, const struct tlog_checkpoint *cp,
		  const char *hash, json_t **proof, char *why, size_t whysize)
{
	return proof_build(st, nodes, blocks, cp, hash, 0, proof, why, whysize);
}

static int
on_proof(struct app *app, struct http_request *req, struct http_response *resp)
{
	char hash[128], why[256] = "";
	int64_t size = 0;
	json_t *o = NULL;
	int rc;

	if (api_query(req, "hash", hash, sizeof(hash)) != 0 || !tlog_hash_ok(hash))
		return problem_respond(resp, 400, NULL, "hash must be sha256:<64 lower-case hex"
				       " digits>, the hash of a credential");
	if (api_query_int(req, "size", 0, 1, INT64_MAX, &size) != 0)
		return problem_respond(resp, 400, NULL, "size must be a whole number from 1,"
				       " the size of a checkpoint");
	rc = api_tlog_proof(app, hash, (uint64_t)size, &o, why, sizeof(why));
	if (rc == TC_EBUSY)
		return problem_respond(resp, 503, NULL, "the log has no checkpoint yet");
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, why);
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	return api_reply_json(resp, 200, o);
}

static int
on_consistency(struct app *app, struct http_request *req, struct http_response *resp)
{
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	struct tlog_checkpoint *cp = NULL, *second_cp = NULL;
	struct merkle_source src;
	int64_t first = 0, second = 0;
	size_t n = 0;
	json_t *o = NULL;
	int rc;

	if (api_query_int(req, "first", 0, 1, INT64_MAX, &first) != 0 || first == 0)
		return problem_respond(resp, 400, NULL, "first must be a whole number from 1,"
				       " the size of the older tree");
	if (api_query_int(req, "second", 0, 1, INT64_MAX, &second) != 0)
		return problem_respond(resp, 400, NULL, "second must be a whole number from 1,"
				       " the size of the newer tree");
	cp = calloc(1, sizeof(*cp));
	second_cp = calloc(1, sizeof(*second_cp));
	if (!cp || !second_cp) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	if (latest(app, resp, cp))
		goto out;
	if (second == 0)
		second = (int64_t)cp->size;
	if ((uint64_t)second > cp->size) {
		problem_respond(resp, 400, NULL, "second is beyond the latest checkpoint");
		goto out;
	}
	if (first > second) {
		problem_respond(resp, 400, NULL, "first must not be larger than second");
		goto out;
	}
	store_tlog_source(app->store, &src);
	rc = merkle_consistency_proof(&src, (uint64_t)first, (uint64_t)second, proof, &n);
	if (rc == 0) {
		int has = store_tlog_checkpoint_get(app->store, (uint64_t)second, second_cp) == 0;

		o = json_pack("{s:I, s:I, s:o}", "first", (json_int_t)first, "second",
			      (json_int_t)second, "proof", proof_json(proof, n));
		if (o && has && json_object_set_new(o, "checkpoint", json_string(second_cp->note)))
			rc = TC_ENOMEM;
		if (!o)
			rc = TC_ENOMEM;
	}
	if (rc) {
		json_decref(o);
		problem_respond_err(resp, rc, NULL);
	} else
		api_reply_json(resp, 200, o);
out:
	free(cp);
	free(second_cp);
	return 0;
}

static int
on_leaves(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct tlog_checkpoint *cp = NULL;
	int64_t start = -1, end = -1;
	json_t *a = NULL;
	int rc;

	if (api_query_int(req, "start", -1, 0, INT64_MAX, &start) != 0 || start < 0 ||
	    api_query_int(req, "end", -1, 1, INT64_MAX, &end) != 0 || end < 0)
		return problem_respond(resp, 400, NULL, "start and end must be whole numbers"
				       " (leaves [start, end), start from 0)");
	if (end <= start || end - start > TLOG_LEAVES_MAX)
		return problem_respond(resp, 400, NULL, "end must be above start, by at most 1000");
	if (!(cp = calloc(1, sizeof(*cp))))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (latest(app, resp, cp))
		goto out;
	if ((uint64_t)end > cp->size) {
		problem_respond(resp, 400, NULL, "end is beyond the latest checkpoint");
		goto out;
	}
	a = json_array();
	rc = a ? store_tlog_leaves_each(app->store, (uint64_t)start, (uint64_t)end, keep_entry, a)
	       : TC_ENOMEM;
	if (rc)
		problem_respond_err(resp, rc, NULL);
	else
		api_reply_json(resp, 200, json_pack("{s:I, s:I, s:O}", "start", (json_int_t)start,
						    "end", (json_int_t)end, "leaves", a));
out:
	json_decref(a);
	free(cp);
	return 0;
}

const struct route api_tlog_routes[] = {
	{ HTTP_GET, "/log/checkpoint", on_checkpoint, "log_checkpoint", ROUTE_PUBLIC },
	{ HTTP_GET, "/log/key", on_key, "log_key", ROUTE_PUBLIC },
	{ HTTP_GET, "/log/proof", on_proof, "log_proof", ROUTE_PUBLIC },
	{ HTTP_GET, "/log/consistency", on_consistency, "log_consistency", ROUTE_PUBLIC },
	{ HTTP_GET, "/log/leaves", on_leaves, "log_leaves", ROUTE_PUBLIC },
};
const size_t api_tlog_routes_count = sizeof(api_tlog_routes) / sizeof(api_tlog_routes[0]);
