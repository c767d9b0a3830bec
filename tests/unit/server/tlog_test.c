/*
 * tlog_test.c - tests for server/tlog.h on a real data folder: the log key
 * and origin, appends of well-formed entries only, signed checkpoints that
 * verify, the batching thread, and the audit (consistent, then a forged
 * checkpoint named); inclusion proofs through the block cache
 * (server/api_tlog.h api_tlog_proof_blocks) are those without it.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "courses/errors.h"
#include "courses/merkle.h"
#include "courses/signednote.h"
#include "server/api_tlog.h"
#include "server/tlog.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "storage/tlog.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

static char tmp[512], data[560];
static struct store *st;

static int
append(struct tlog *t, int i, const char *kind)
{
	char hash[80];
	uint64_t idx = 0;
	int rc;

	(void)t;
	snprintf(hash, sizeof(hash), "sha256:%064x", i);
	if ((rc = store_begin(st)))
		return rc;
	rc = tlog_append(st, kind, hash, "did:key:z6MkTest", 1767225600 + i, &idx, NULL, 0);
	if (rc == 0)
		return store_commit(st);
	store_rollback(st);
	return rc;
}

static void
test_service(void)
{
	struct tlog *t = NULL, *again = NULL;
	struct tlog_checkpoint cp;
	struct checkpoint parsed;
	struct signednote_verifier v;
	char problem[512], why[128];
	size_t text_len = 0;
	uint64_t leaves = 0, cps = 0, idx = 0;

	ok(tlog_open(st, data, "", "example.edu", &t) == 0, "the log service opens (key made)");
	is_str(tlog_origin(t), "example.edu/log", "the default origin is HOST/log");
	ok(signednote_verifier_parse(tlog_vkey(t), &v) == 0, "its verifier key parses");
	ok(tlog_open(st, data, "other/log", "x", &again) == 0 &&
	   strcmp(tlog_origin(again), "example.edu/log") == 0, "the origin is fixed at first start");
	tlog_destroy(again);

	ok(append(t, 1, "issue") == 0 && append(t, 2, "issue") == 0 && append(t, 1, "revoke") == 0,
	   "entries appended");
	is_int(append(t, 3, "delete"), TC_EINVALID, "an unknown kind is refused");
	is_int(tlog_append(st, "issue", "sha256:ABC", "did:key:z", 0, &idx, why, sizeof(why)),
	       TC_EINVALID, "a malformed hash is refused");
	is_int(tlog_append(st, "issue", "sha256:0000000000000000000000000000000000000000000000000000000000000001",
			   "mailto:x", 0, &idx, why, sizeof(why)), TC_EINVALID,
	       "an issuer that is not a DID is refused");
	ok(store_tlog_size(st, &idx) == 0 && idx == 3, "nothing refused was stored");

	ok(tlog_checkpoint_now(t, st, &cp) == 0 && cp.size == 3, "a checkpoint of size 3");
	ok(signednote_open(cp.note, strlen(cp.note), &v, 1, &text_len, NULL) == 0,
	   "its note verifies with the published key");
	ok(checkpoint_parse(cp.note, text_len, &parsed) == 0 && parsed.size == 3 &&
	   memcmp(parsed.root, cp.root, 32) == 0 && strcmp(parsed.origin, "example.edu/log") == 0,
	   "it names the origin, size and root");
	is_int(tlog_audit(st, tlog_verifier(t), problem, sizeof(problem), &leaves, &cps), 0,
	       "the audit finds the log consistent");
	ok(leaves == 3 && cps == 1, "it checked every leaf and checkpoint");

	/* the batching thread: 2 new entries with a batch of 2 */
	ok(tlog_start(t, 2, 60000) == 0, "the checkpoint thread starts");
	append(t, 4, "issue");
	append(t, 5, "issue");
	for (int i = 0; i < 100; i++) {
		struct timespec ts = { 0, 20 * 1000000L };

		if (store_tlog_checkpoint_latest(st, &cp) == 0 && cp.size == 5)
			break;
		nanosleep(&ts, NULL);
	}
	is_int((int)cp.size, 5, "a full batch gets its checkpoint");
	tlog_destroy(t);
	t = NULL;

	/* a forged checkpoint: a root that is not the tree's */
	append(NULL, 6, "issue");
	memset(&cp, 0, sizeof(cp));
	cp.size = 6;
	memset(cp.root, 0xab, 32);
	snprintf(cp.note, sizeof(cp.note), "forged\n");
	ok(store_tlog_checkpoint_put(st, &cp) == 0, "a forged checkpoint stored behind its back");
	is_int(tlog_audit(st, &v, problem, sizeof(problem), &leaves, &cps), TC_EINVALID,
	       "the audit finds it");
	ok(strstr(problem, "checkpoint of size 6") != NULL, "and names it");
	diag(problem);
}

/* Appends entries FROM .. TO - 1 to S's log (one transaction) and signs a
 * checkpoint of them all. */
static int
fill(struct tlog *t, struct store *s, int from, int to)
{
	struct tlog_checkpoint cp;
	char hash[80];
	uint64_t idx = 0;
	int rc = store_begin(s);

	for (int i = from; rc == 0 && i < to; i++) {
		snprintf(hash, sizeof(hash), "sha256:%064x", 0x1000 + i);
		rc = tlog_append(s, "issue", hash, "did:key:z6MkTest", 1767225600 + i, &idx, NULL, 0);
	}
	if (rc) {
		store_rollback(s);
		return rc;
	}
	if ((rc = store_commit(s)))
		return rc;
	return tlog_checkpoint_now(t, s, &cp);
}

/* Leaves FROM .. TO - 1: the proof through BC (twice: read, then kept)
 * is the one without it, byte for byte. */
static int
same_proofs(struct store *s, struct tlog *t, struct merkle_block_cache *bc, int from, int to)
{
	int same = 1;

	for (int i = from; i < to; i++) {
		char hash[80], why[256];
		json_t *p0 = NULL, *p1 = NULL, *p2 = NULL;
		char *t0, *t1, *t2;

		snprintf(hash, sizeof(hash), "sha256:%064x", 0x1000 + i);
		same &= api_tlog_proof_cached(s, tlog_node_cache(t), hash, 0, &p0, why,
					      sizeof(why)) == 0 &&
			api_tlog_proof_blocks(s, tlog_node_cache(t), bc, hash, 0, &p1, why,
					      sizeof(why)) == 0 &&
			api_tlog_proof_blocks(s, NULL, bc, hash, 0, &p2, why, sizeof(why)) == 0;
		t0 = p0 ? json_dumps(p0, JSON_SORT_KEYS) : NULL;
		t1 = p1 ? json_dumps(p1, JSON_SORT_KEYS) : NULL;
		t2 = p2 ? json_dumps(p2, JSON_SORT_KEYS) : NULL;
		same &= t0 && t1 && t2 && strcmp(t0, t1) == 0 && strcmp(t0, t2) == 0;
		free(t0);
		free(t1);
		free(t2);
		json_decref(p0);
		json_decref(p1);
		json_decref(p2);
	}
	return same;
}

static void
test_proof_blocks(void)
{
	char dir[600];
	struct store *s = NULL;
	struct tlog *t = NULL;
	struct merkle_block_cache *bc = NULL;
	struct merkle_block b;

	snprintf(dir, sizeof(dir), "%s/blocks", tmp);
	if (store_prepare_dir(dir) != 0 || store_open(dir, &s) != 0 ||
	    tlog_open(s, dir, "", "example.edu", &t) != 0 ||
	    merkle_block_cache_new(64, &bc) != 0) {
		ok(0, "a second log and a block cache");
		goto out;
	}
	ok(tlog_block_cache(t) != NULL && tlog_block_cache(NULL) == NULL,
	   "the log service has a block cache");
	ok(fill(t, s, 0, 40) == 0, "40 entries and their checkpoint");
	ok(same_proofs(s, t, bc, 0, 40), "every proof through the block cache is the one without");
	ok(merkle_block_cache_get(bc, 0, &b) && merkle_block_cache_get(bc, 1, &b),
	   "the complete blocks (leaves 0-31) are kept");
	is_int(merkle_block_cache_get(bc, 2, &b), 0, "the incomplete one (leaves 32-39) is not");
	ok(fill(t, s, 40, 53) == 0, "13 more and their checkpoint");
	ok(same_proofs(s, t, bc, 0, 53), "every proof is still the one without the cache");
	ok(merkle_block_cache_get(bc, 2, &b), "the block completed since is kept now");
	is_int(merkle_block_cache_get(bc, 3, &b), 0, "the incomplete one (leaves 48-52) is not");
out:
	merkle_block_cache_free(bc);
	tlog_destroy(t);
	store_close(s);
}

int
main(void)
{
	if (test_tmpdir_make(tmp, sizeof(tmp), "tlogsvc") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_service();
	test_proof_blocks();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
