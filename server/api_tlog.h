/*
 * api_tlog.h - the public transparency log over HTTP (server/api_tlog.c).
 */
#ifndef TINCHI_API_TLOG_H
#define TINCHI_API_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/router.h"

struct app;

extern const struct route api_tlog_routes[];
extern const size_t api_tlog_routes_count;

/*
 * The inclusion proof of the first log leaf recording HASH ("sha256:<hex>")
 * in the checkpoint of SIZE leaves (0: the latest), as GET /log/proof
 * serves it: {"index", "size", "entry", "leaf_hash", "proof": [base64],
 * "root", "checkpoint"}, a new object in *PROOF. When there is none,
 * TC_ENOTFOUND (not in the log, no checkpoint of SIZE, or the leaf not yet
 * in a signed checkpoint) or TC_EBUSY (the log has no checkpoint yet), with
 * WHY (WHYSIZE bytes) saying which; else 0 or a storage error.
 */
int api_tlog_proof(struct app *app, const char *hash, uint64_t size, json_t **proof,
		   char *why, size_t whysize);

/* The same read through the store ST (a worker thread's own connection). */
struct store;
int api_tlog_proof_store(struct store *st, const char *hash, uint64_t size, json_t **proof,
			 char *why, size_t whysize);

/* The same with the upper subtrees read through NODES (tlog_node_cache of
 * the server's log; NULL: all from the store). */
struct merkle_node_cache;
int api_tlog_proof_cached(struct store *st, struct merkle_node_cache *nodes, const char *hash,
			  uint64_t size, json_t **proof, char *why, size_t whysize);

/* The same with the complete blocks of 16 leaves (their leaf hashes and
 * inner nodes) read through BLOCKS (tlog_block_cache; NULL: from the
 * store), those read kept there: the leaf's entry is then the one row read.
 * The answer is the same byte for byte. */
struct merkle_block_cache;
int api_tlog_proof_blocks(struct store *st, struct merkle_node_cache *nodes,
			  struct merkle_block_cache *blocks, const char *hash, uint64_t size,
			  json_t **proof, char *why, size_t whysize);

/* api_tlog_proof_blocks for the latest checkpoint CP, which the caller read
 * in the read snapshot ST is in (store_tlog_read_begin): the same answer. */
struct tlog_checkpoint;
int api_tlog_proof_at(struct store *st, struct merkle_node_cache *nodes,
		      struct merkle_block_cache *blocks, const struct tlog_checkpoint *cp,
		      const char *hash, json_t **proof, char *why, size_t whysize);

#endif
