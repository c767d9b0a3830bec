/*
 * tlog.h - persistence of the transparency log (schema migrations 12 and
 * 18): the leaves of an RFC 9162 Merkle tree (courses/merkle.h), the
 * perfect subtree hashes of 16 leaves and more once complete (so a root or
 * a proof costs O(log n) reads), and the signed checkpoints, one root per
 * tree size forever.
 *
 * Leaves are numbered from 0 without gaps; a leaf's entry is the canonical
 * JSON text whose leaf hash is SHA-256(0x00 || entry); its SUBJECT (the
 * entry's "hash" member) finds the leaves of one credential. Since
 * migration 18 an entry is stored as its fields (courses/tlog_entry.h) and
 * rebuilt byte for byte on every read, and leaf hashes are computed from
 * it, not stored. The tables are
 * append-only (triggers refuse UPDATE and DELETE). Appending takes the
 * database's write lock, so there is one sequencer at a time; on SQLite
 * that is the single writer. Functions return 0 or a negative TC_* code
 * (courses/errors.h); conventions as storage/identity.h.
 */
#ifndef TINCHI_STORE_TLOG_H
#define TINCHI_STORE_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include "courses/merkle.h"
#include "storage/store.h"

#define TLOG_ENTRY_MAX 2048		/* bytes of one canonical entry */
#define TLOG_SUBJECT_MAX 80		/* "sha256:" + 64 hex digits fits */
#define TLOG_NOTE_MAX 1024		/* bytes of a stored checkpoint note */
/* Subtrees of 2^4 leaves and more are stored (about one row per 8 leaves);
 * smaller ones are hashed from the leaves when a proof needs them. */
#define TLOG_NODE_LEVEL_MIN 4

struct tlog_checkpoint {
	uint64_t size;
	unsigned char root[MERKLE_HASH_LEN];
	char note[TLOG_NOTE_MAX + 1];	/* the C2SP signed note */
	int64_t created_at;		/* unix seconds */
};

/* The number of leaves. */
int store_tlog_size(struct store *s, uint64_t *size);

/*
 * Appends N leaves: ENTRIES[i] (canonical JSON, 1..TLOG_ENTRY_MAX bytes)
 * with SUBJECTS[i]. Runs inside the caller's transaction (store_begin ...
 * store_commit), so what is logged commits together with what it records;
 * on failure the caller rolls back. *FIRST receives the index of the first
 * new leaf (they are consecutive). Also stores the perfect subtrees the
 * new leaves complete. TC_EINVALID for empty or oversized text.
 */
int store_tlog_append(struct store *s, const char *const *entries,
		      const char *const *subjects, size_t n, uint64_t *first);

/* The leaf hash at INDEX; TC_ENOTFOUND past the end. */
int store_tlog_leaf_hash(struct store *s, uint64_t index, unsigned char out[MERKLE_HASH_LEN]);
/* A perfect subtree (merkle_source's node()): TC_ENOTFOUND when not (yet)
 * complete. Those of level TLOG_NODE_LEVEL_MIN and up are stored; the
 * smaller ones are hashed from their leaves (one range read). */
int store_tlog_node_hash(struct store *s, unsigned level, uint64_t index,
			 unsigned char out[MERKLE_HASH_LEN]);
/* How many subtree rows are stored (store_tlog_node_rows(n) for a sound
 * log of n leaves). */
int store_tlog_node_count(struct store *s, uint64_t *count);
/* The subtree rows a log of SIZE leaves stores: its complete perfect
 * subtrees of level TLOG_NODE_LEVEL_MIN and up. */
uint64_t store_tlog_node_rows(uint64_t size);

/* A merkle_source reading S (leaf hashes and stored subtrees). */
void store_tlog_source(struct store *s, struct merkle_source *src);

/* Leaves [START, END) in order: CB(index, entry, its leaf hash, ARG), the
 * entry rebuilt from its stored fields ("" for a row that does not rebuild:
 * a damaged store) and hashed; a non-zero return of CB stops and is
 * returned. */
int store_tlog_leaves_each(struct store *s, uint64_t start, uint64_t end,
			   int (*cb)(uint64_t index, const char *entry,
				     const unsigned char leaf_hash[MERKLE_HASH_LEN], void *arg),
			   void *arg);

/* The first leaf whose subject is SUBJECT: its index. TC_ENOTFOUND. */
int store_tlog_find(struct store *s, const char *subject, uint64_t *index);

/*
 * A read snapshot around several reads (an inclusion proof is about 25):
 * one read transaction instead of a lock taken and dropped per read. *BEGAN
 * is 1 when one was opened (pass it to store_tlog_read_end); 0 inside the
 * caller's own transaction, which is left alone. Reads only in between.
 */
int store_tlog_read_begin(struct store *s, int *began);
/* Ends what store_tlog_read_begin began (nothing when BEGAN is 0). */
int store_tlog_read_end(struct store *s, int began);
/*
 * The database's data version as this connection sees it (PRAGMA
 * data_version; in a read snapshot, the snapshot's): the same number twice
 * on one connection means no other connection committed in between, so
 * whatever it read then it would read again. (Its own commits do not change
 * it: a cache keyed by it belongs to a connection that only reads.)
 */
int store_tlog_data_version(struct store *s, int64_t *version);

/*
 * Stores a checkpoint (its own statement; call it outside a transaction
 * or inside one the caller commits). A checkpoint of the same size with
 * the same root already stored: 0, nothing changes. With another root:
 * TC_ECONFLICT (never two roots for one size).
 */
int store_tlog_checkpoint_put(struct store *s, const struct tlog_checkpoint *cp);
/* The checkpoint of SIZE, or the largest one; TC_ENOTFOUND when none. */
int store_tlog_checkpoint_get(struct store *s, uint64_t size, struct tlog_checkpoint *out);
int store_tlog_checkpoint_latest(struct store *s, struct tlog_checkpoint *out);
/* Every checkpoint by size. */
int store_tlog_checkpoints_each(struct store *s,
				int (*cb)(const struct tlog_checkpoint *cp, void *arg),
				void *arg);

#endif
