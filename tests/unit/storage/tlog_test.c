/*
 * tlog_test.c - tests for storage/tlog.h (storage/tlog.c and
 * storage/tlog_sqlite.c) on a real SQLite file in a mkdtemp folder: the
 * appender's stored subtrees against merkle_root over the bare leaves,
 * proofs read through the store, rollback, lookups, and checkpoints that
 * never take two roots for one size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "courses/errors.h"
#include "courses/merkle.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "storage/tlog.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

#define N 70

static char tmp[512];
static struct store *st;
static unsigned char leaves[N][MERKLE_HASH_LEN];	/* computed here, independently */

static int
mem_leaf(void *ctx, uint64_t index, unsigned char out[MERKLE_HASH_LEN])
{
	(void)ctx;
	if (index >= N)
		return TC_ENOTFOUND;
	memcpy(out, leaves[index], MERKLE_HASH_LEN);
	return 0;
}

static void
entry_of(int i, char *entry, size_t n, char *subject, size_t sn)
{
	snprintf(subject, sn, "sha256:%064x", i);
	snprintf(entry, n, "{\"hash\":\"%.71s\",\"kind\":\"issue\",\"n\":%d}", subject, i);
}

static int
append_range(int from, int to, uint64_t *first)
{
	static char e[N][200], sub[N][80];
	const char *ep[N], *sp[N];

	for (int i = from; i < to; i++) {
		entry_of(i, e[i - from], sizeof(e[0]), sub[i - from], sizeof(sub[0]));
		ep[i - from] = e[i - from];
		sp[i - from] = sub[i - from];
	}
	return store_tlog_append(st, ep, sp, (size_t)(to - from), first);
}

static void
test_append(void)
{
	struct merkle_source mem = { mem_leaf, NULL, NULL }, src;
	unsigned char a[MERKLE_HASH_LEN], b[MERKLE_HASH_LEN];
	uint64_t size = 99, first = 0, nodes = 0;
	int at = 0, batch = 1, all_roots = 1, all_nodes = 1, all_first = 1;

	for (int i = 0; i < N; i++) {
		char e[200], sub[80];

		entry_of(i, e, sizeof(e), sub, sizeof(sub));
		merkle_leaf_hash(e, strlen(e), leaves[i]);
	}
	ok(store_tlog_size(st, &size) == 0 && size == 0, "an empty log has size 0");
	store_tlog_source(st, &src);
	/* batches of 1, 2, 3, ... inside transactions */
	while (at < N) {
		int to = at + batch < N ? at + batch : N;

		if (store_begin(st) || append_range(at, to, &first) || store_commit(st))
			break;
		all_first &= first == (uint64_t)at;
		at = to;
		batch++;
		if (merkle_root(&src, (uint64_t)at, a) || merkle_root(&mem, (uint64_t)at, b) ||
		    memcmp(a, b, sizeof(a)) != 0)
			all_roots = 0;
		if (store_tlog_node_count(st, &nodes) || nodes != store_tlog_node_rows((uint64_t)at))
			all_nodes = 0;
	}
	is_int(at, N, "every batch appended");
	ok(all_first, "each append reports the index of its first leaf");
	ok(all_roots, "the root through the stored subtrees is merkle_root of the leaves, at every size");
	ok(all_nodes, "the subtrees of 16 leaves and more stored for n leaves");
	ok(store_tlog_size(st, &size) == 0 && size == N, "size counts the leaves");
	ok(store_tlog_leaf_hash(st, 5, a) == 0 && memcmp(a, leaves[5], 32) == 0, "leaf hash by index");
	ok(store_tlog_leaf_hash(st, N, a) == TC_ENOTFOUND, "no leaf past the end");
	ok(store_tlog_node_hash(st, 6, 0, a) == 0 && merkle_subtree_hash(&mem, 0, 64, b) == 0 &&
	   memcmp(a, b, 32) == 0, "the subtree of leaves 0..63 is stored");
	ok(store_tlog_node_hash(st, 7, 0, a) == TC_ENOTFOUND, "an incomplete subtree is not");

	/* proofs through the store verify against the independent root */
	{
		unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
		size_t n = 0;
		int good = 1;

		merkle_root(&mem, N, b);
		for (uint64_t i = 0; i < N; i++)
			if (merkle_inclusion_proof(&src, i, N, proof, &n) ||
			    merkle_check_inclusion(i, N, leaves[i], proof, n, b))
				good = 0;
		ok(good, "every inclusion proof from the store verifies");
		good = 1;
		for (uint64_t m = 1; m < N; m += 7) {
			merkle_root(&mem, m, a);
			if (merkle_consistency_proof(&src, m, N, proof, &n) ||
			    merkle_check_consistency(m, N, a, b, proof, n))
				good = 0;
		}
		ok(good, "consistency proofs from the store verify");
	}

	/* rolled back: nothing stays */
	ok(store_begin(st) == 0 && append_range(0, 3, &first) == 0 && store_rollback(st) == 0,
	   "an append rolled back");
	ok(store_tlog_size(st, &size) == 0 && size == N && store_tlog_node_count(st, &nodes) == 0 &&
	   nodes == store_tlog_node_rows(N), "leaves and subtrees of a rollback are gone");
}

static int
count_leaf(uint64_t index, const char *entry, const unsigned char h[MERKLE_HASH_LEN], void *arg)
{
	int *n = arg;
	unsigned char want[MERKLE_HASH_LEN];

	merkle_leaf_hash(entry, strlen(entry), want);
	if (memcmp(want, h, 32) != 0 || index != (uint64_t)(10 + *n))
		return TC_EINVALID;
	(*n)++;
	return 0;
}

static void
test_lookup(void)
{
	const char *bad[] = { "" }, *subj[] = { "sha256:x" };
	uint64_t idx = 0;
	int n = 0;

	ok(store_tlog_leaves_each(st, 10, 20, count_leaf, &n) == 0 && n == 10,
	   "leaves by range, in order, with their hashes");
	ok(store_tlog_find(st, "sha256:0000000000000000000000000000000000000000000000000000000000000021",
			   &idx) == 0 && idx == 0x21, "a leaf found by its subject");
	ok(store_tlog_find(st, "sha256:ff", &idx) == TC_ENOTFOUND, "an unknown subject is not found");
	ok(store_tlog_append(st, bad, subj, 1, &idx) == TC_EINVALID, "an empty entry is refused");
}

static void
test_checkpoints(void)
{
	struct tlog_checkpoint cp, got;

	memset(&cp, 0, sizeof(cp));
	ok(store_tlog_checkpoint_latest(st, &got) == TC_ENOTFOUND, "no checkpoint yet");
	cp.size = 5;
	memcpy(cp.root, leaves[1], 32);
	snprintf(cp.note, sizeof(cp.note), "note five\n");
	cp.created_at = 1000;
	ok(store_tlog_checkpoint_put(st, &cp) == 0, "a checkpoint stored");
	ok(store_tlog_checkpoint_put(st, &cp) == 0, "the same root again for that size: nothing changes");
	memcpy(cp.root, leaves[2], 32);
	snprintf(cp.note, sizeof(cp.note), "another\n");
	is_int(store_tlog_checkpoint_put(st, &cp), TC_ECONFLICT, "another root for the same size is refused");
	ok(store_tlog_checkpoint_get(st, 5, &got) == 0 && memcmp(got.root, leaves[1], 32) == 0,
	   "the first root stays");
	is_str(got.note, "note five\n", "with its note");
	cp.size = 9;
	ok(store_tlog_checkpoint_put(st, &cp) == 0, "a larger checkpoint");
	ok(store_tlog_checkpoint_latest(st, &got) == 0 && got.size == 9, "latest is the largest");
	ok(store_tlog_checkpoint_get(st, 7, &got) == TC_ENOTFOUND, "no checkpoint of size 7");
}

int
main(void)
{
	char data[560];

	if (test_tmpdir_make(tmp, sizeof(tmp), "tlog") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_append();
	test_lookup();
	test_checkpoints();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
