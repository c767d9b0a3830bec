/*
 * verify_facts.h - what a verification over HTTP reads from the store that
 * is the same for every credential while the database does not change: an
 * issuer key's registry row with its institution, an institution's current
 * key and the revision of its status bits, the log's latest checkpoint.
 *
 * Kept per store connection (one that only reads: a verify worker's own)
 * and good while the connection's data version (store_tlog_data_version)
 * is the one they were read under: any commit by another connection or
 * process (a key rotation, a revocation, a new checkpoint, anything at all)
 * drops every fact at the next verify_facts_begin, so an answer is always
 * the one the store's rows give in that read snapshot. Only facts are kept,
 * never the result of a verification.
 */
#ifndef TINCHI_VERIFY_FACTS_H
#define TINCHI_VERIFY_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include "courses/did.h"
#include "courses/verify.h"
#include "storage/tlog.h"

struct store;

#define VERIFY_FACTS_KEYS 8	/* issuer DIDs kept; the oldest replaced */
#define VERIFY_FACTS_INSTS 8	/* institutions kept; the oldest replaced */

struct verify_facts {
	int64_t version;		/* the data version they were read under */
	int valid;			/* 0: not read yet, or the version unknown */
	struct {
		char did[DID_KEY_MAX];	/* the DID asked */
		int rc;			/* 0 or TC_ENOTFOUND */
		struct verify_key key;
	} keys[VERIFY_FACTS_KEYS];
	size_t nkeys, next_key;
	struct {
		int64_t inst;
		int key_rc, rev_rc;	/* 1: not read yet; else 0 or TC_ENOTFOUND */
		char did[64];		/* its current key */
		int64_t rev;		/* the revision of its stored status bits */
	} insts[VERIFY_FACTS_INSTS];
	size_t ninsts, next_inst;
	int cp_rc;			/* 1: not read yet; else 0 or TC_ENOTFOUND */
	struct tlog_checkpoint cp;
	uint64_t reads;			/* statements run for facts (tests, measures) */
};

void verify_facts_init(struct verify_facts *f);

/*
 * Inside ST's read snapshot (store_tlog_read_begin), before any other
 * read: keeps F's facts when ST's data version is still theirs, else drops
 * them. 0, or the store's error (F then reads through, keeping nothing,
 * until a later verify_facts_begin succeeds).
 */
int verify_facts_begin(struct verify_facts *f, struct store *st);

/* The registry's key DID with its institution (name, code; ref its id), as
 * store_registry_key_by_did and store_institution_get_id give them:
 * 0, TC_ENOTFOUND, or an error (never kept). The _read form reads them,
 * keeping nothing. */
int verify_facts_issuer_key_read(struct store *st, const char *did, struct verify_key *out);
int verify_facts_issuer_key(struct verify_facts *f, struct store *st, const char *did,
			    struct verify_key *out);

/* The DID of institution INST's current key (store_key_current). */
int verify_facts_key_current(struct verify_facts *f, struct store *st, int64_t inst,
			     char did[64]);

/* The revision of INST's stored revocation bits (store_status_list_rev). */
int verify_facts_list_rev(struct verify_facts *f, struct store *st, int64_t inst,
			  int64_t *rev);

/* The latest checkpoint (store_tlog_checkpoint_latest) in *CP, valid until
 * the next call on F. */
int verify_facts_checkpoint(struct verify_facts *f, struct store *st,
			    const struct tlog_checkpoint **cp);

#endif
