/*
 * verify_facts_test.c - tests for server/verify_facts.c: the facts a verify
 * worker keeps per store connection. A miss reads the store and gives what
 * the store gives; a hit reads nothing and gives the same bytes; a commit by
 * another connection (a key rotation, a revocation's revision, a new
 * checkpoint, any other write) drops them at the next verify_facts_begin
 * and the new rows show at once; more DIDs or institutions than the slots
 * still each get their own answer; an unknown DID is answered as unknown.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/verify_facts.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "storage/tlog.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"
#include "tests/unit/storage/storefix.h"

#define T0 ((int64_t)20605 * 86400)

static char tmp[512], data[560], dbpath[600];
static struct store *w, *r;	/* the writer; the reader whose facts are kept */
static int64_t inst_a;

static int
add_key(int64_t inst, const char *file, const char *did, int64_t from)
{
	struct inst_key k;

	memset(&k, 0, sizeof(k));
	k.institution_id = inst;
	snprintf(k.file, sizeof(k.file), "%s", file);
	snprintf(k.did, sizeof(k.did), "%s", did);
	k.valid_from = from;
	return store_key_add(w, &k);
}

static void
did_of(int i, char out[64])
{
	snprintf(out, 64, "did:key:z6MkTest%040d", i);
}

/* A read snapshot on R with F's facts checked against it. */
static int
begin(struct verify_facts *f, int *began)
{
	return store_tlog_read_begin(r, began) || verify_facts_begin(f, r);
}

static void
test_hits_and_misses(void)
{
	struct verify_facts f;
	struct verify_key k1, k2, direct;
	char did[64], cur[64];
	const struct tlog_checkpoint *cp;
	int64_t rev = -1;
	uint64_t reads;
	int began = 0;

	verify_facts_init(&f);
	did_of(1, did);
	ok(begin(&f, &began) == 0 && began, "a read snapshot with the data version read");
	reads = f.reads;
	memset(&k1, 0, sizeof(k1));
	memset(&k2, 0, sizeof(k2));
	memset(&direct, 0, sizeof(direct));
	is_int(verify_facts_issuer_key(&f, r, did, &k1), 0, "a registered DID: found");
	ok(f.reads == reads + 1, "a miss reads the store");
	is_int(verify_facts_issuer_key_read(r, did, &direct), 0, "read directly: found");
	ok(memcmp(&k1, &direct, sizeof(k1)) == 0, "the miss gives what the store gives");
	is_int(verify_facts_issuer_key(&f, r, did, &k2), 0, "again: found");
	ok(f.reads == reads + 1, "a hit reads nothing");
	ok(memcmp(&k1, &k2, sizeof(k1)) == 0, "the hit gives the same bytes");
	ok(strcmp(k1.code, "HCMU") == 0 && k1.ref == inst_a && k1.valid_until == 0 &&
	   strcmp(k1.name, "Trường HCMU") == 0, "the key's institution and validity");
	is_int(verify_facts_issuer_key(&f, r, "did:key:z6MkUnknown", &k2), TC_ENOTFOUND,
	       "an unknown DID: not found");
	is_int(verify_facts_issuer_key(&f, r, "did:key:z6MkUnknown", &k2), TC_ENOTFOUND,
	       "again: not found");
	ok(f.reads == reads + 2, "the unknown DID read once");

	is_int(verify_facts_key_current(&f, r, inst_a, cur), 0, "the current key");
	ok(strcmp(cur, did) == 0, "the current key's DID");
	is_int(verify_facts_list_rev(&f, r, inst_a, &rev), 0, "the list's revision");
	ok(rev == 0, "revision 0: nothing revoked");
	is_int(verify_facts_checkpoint(&f, r, &cp), TC_ENOTFOUND, "no checkpoint yet");
	reads = f.reads;
	memset(cur, 0, sizeof(cur));
	ok(verify_facts_key_current(&f, r, inst_a, cur) == 0 && strcmp(cur, did) == 0 &&
	   verify_facts_list_rev(&f, r, inst_a, &rev) == 0 && rev == 0 &&
	   verify_facts_checkpoint(&f, r, &cp) == TC_ENOTFOUND && !cp,
	   "again: the same answers");
	ok(f.reads == reads, "from the facts");
	store_tlog_read_end(r, began);

	/* a new snapshot with nothing committed since: the facts stay */
	ok(begin(&f, &began) == 0, "a new read snapshot");
	reads = f.reads;
	ok(verify_facts_issuer_key(&f, r, did, &k2) == 0 &&
	   memcmp(&k1, &k2, sizeof(k1)) == 0 && verify_facts_key_current(&f, r, inst_a, cur) == 0,
	   "the same answers");
	ok(f.reads == reads, "nothing read: the database has not changed");
	store_tlog_read_end(r, began);
}

static void
test_invalidation(void)
{
	struct verify_facts f;
	struct verify_key k;
	struct tlog_checkpoint put;
	const struct tlog_checkpoint *cp;
	char d1[64], d2[64], cur[64];
	int64_t rev = -1;
	uint64_t reads;
	int began = 0;

	verify_facts_init(&f);
	did_of(1, d1);
	did_of(2, d2);
	ok(begin(&f, &began) == 0 && verify_facts_issuer_key(&f, r, d1, &k) == 0 &&
	   k.valid_until == 0 && verify_facts_key_current(&f, r, inst_a, cur) == 0 &&
	   verify_facts_list_rev(&f, r, inst_a, &rev) == 0 &&
	   verify_facts_checkpoint(&f, r, &cp) == TC_ENOTFOUND, "the facts read");
	store_tlog_read_end(r, began);

	/* a key rotation by another connection */
	ok(add_key(inst_a, "hcmu-2", d2, T0 + 100) == 0, "the key rotated (another connection)");
	ok(begin(&f, &began) == 0, "a new read snapshot");
	reads = f.reads;
	ok(verify_facts_issuer_key(&f, r, d1, &k) == 0 && k.valid_until == T0 + 101,
	   "the old key's retirement shows at once");
	ok(verify_facts_key_current(&f, r, inst_a, cur) == 0 && strcmp(cur, d2) == 0,
	   "the new current key shows at once");
	ok(f.reads == reads + 2, "both read again");
	store_tlog_read_end(r, began);

	/* a revocation's revision, behind the store's back */
	ok(raw_exec(dbpath, "INSERT INTO status_lists (institution_id, purpose, bits, updated_at,"
		    " bits_rev) VALUES (1, 'revocation', x'00', 1, 1)") == SQLITE_OK,
	   "the list's revision bumped (another connection)");
	ok(begin(&f, &began) == 0 && verify_facts_list_rev(&f, r, inst_a, &rev) == 0 && rev == 1,
	   "the new revision shows at once");
	store_tlog_read_end(r, began);

	/* a new checkpoint */
	memset(&put, 0, sizeof(put));
	put.size = 1;
	memset(put.root, 0x5a, sizeof(put.root));
	snprintf(put.note, sizeof(put.note), "example.edu/log\n1\nWlpa\n");
	put.created_at = T0;
	ok(store_tlog_checkpoint_put(w, &put) == 0, "a checkpoint stored (another connection)");
	ok(begin(&f, &began) == 0 && verify_facts_checkpoint(&f, r, &cp) == 0 && cp &&
	   cp->size == 1 && strcmp(cp->note, put.note) == 0, "the checkpoint shows at once");
	reads = f.reads;
	ok(verify_facts_checkpoint(&f, r, &cp) == 0 && cp && cp->size == 1 && f.reads == reads,
	   "then kept");
	store_tlog_read_end(r, began);

	/* any other write drops the facts too */
	ok(fixture_institution(w, "OTHER") > 0, "an unrelated write (another connection)");
	ok(begin(&f, &began) == 0, "a new read snapshot");
	reads = f.reads;
	ok(verify_facts_checkpoint(&f, r, &cp) == 0 && f.reads == reads + 1,
	   "the checkpoint read again");
	store_tlog_read_end(r, began);
}

static void
test_bound(void)
{
	struct verify_facts f;
	struct verify_key k;
	char did[64];
	int64_t ids[VERIFY_FACTS_KEYS + VERIFY_FACTS_INSTS];
	int began = 0, good = 1, n = VERIFY_FACTS_KEYS + VERIFY_FACTS_INSTS;

	for (int i = 0; i < n; i++) {
		char code[16], file[16];

		snprintf(code, sizeof(code), "B%02d", i);
		snprintf(file, sizeof(file), "b%02d-1", i);
		did_of(100 + i, did);
		ids[i] = fixture_institution(w, code);
		good &= ids[i] > 0 && add_key(ids[i], file, did, T0) == 0;
	}
	ok(good, "more institutions than the slots, a key each");
	verify_facts_init(&f);
	ok(begin(&f, &began) == 0, "a read snapshot");
	good = 1;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			char cur[64];
			int64_t rev = -1;

			did_of(100 + i, did);
			memset(&k, 0, sizeof(k));
			good &= verify_facts_issuer_key(&f, r, did, &k) == 0 && k.ref == ids[i] &&
				strcmp(k.did, did) == 0;
			good &= verify_facts_key_current(&f, r, ids[i], cur) == 0 &&
				strcmp(cur, did) == 0;
			good &= verify_facts_list_rev(&f, r, ids[i], &rev) == 0 && rev == 0;
		}
	ok(good, "more DIDs and institutions than the slots, twice: each its own answer");
	ok(f.nkeys == VERIFY_FACTS_KEYS && f.ninsts == VERIFY_FACTS_INSTS, "the slots bounded");
	store_tlog_read_end(r, began);
}

int
main(void)
{
	char did[64];

	log_set_level(LOG_ERROR);
	plan(40);
	if (test_tmpdir_make(tmp, sizeof(tmp), "vfacts") != 0) {
		printf("Bail out! no temporary folder\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(dbpath, sizeof(dbpath), "%s/tinchi.db", data);
	did_of(1, did);
	if (store_prepare_dir(data) != 0 || store_open(data, &w) != 0 || store_open(data, &r) != 0 ||
	    (inst_a = fixture_institution(w, "HCMU")) <= 0 || add_key(inst_a, "hcmu-1", did, T0)) {
		printf("Bail out! no store\n");
		return 1;
	}
	test_hits_and_misses();
	test_invalidation();
	test_bound();
	store_close(r);
	store_close(w);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
