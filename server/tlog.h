/*
 * tlog.h - the platform's transparency log service: its signing key, the
 * appends that other areas make inside their own transactions, the
 * checkpoints (C2SP signed notes, courses/signednote.h) made in batches by
 * one thread, and the audit of the whole stored log.
 *
 * The key is "log" in DATA/keys (storage/keys.h), made on first start. Its
 * name is the log's origin: the config's log-origin, or
 * "<host of public-url>/log", fixed in the database (meta "log_origin") on
 * first start so that every later checkpoint and audit uses the same one.
 *
 * Checkpoints: a thread with its own store connection makes a new one
 * when LOG_BATCH entries are not yet in a checkpoint, or when some are and
 * LOG_INTERVAL_MS passed since the last one. A checkpoint is stored
 * (storage/tlog.h, never two roots for one size) before anything serves it.
 */
#ifndef TINCHI_TLOG_H
#define TINCHI_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include "courses/signednote.h"
#include "storage/tlog.h"

struct store;
struct tlog;
struct merkle_node_cache;

/*
 * Appends one entry (courses/tlog_entry.h: KIND, HASH, ISSUER, WHEN as
 * unix seconds) to the log of S inside the caller's transaction; *INDEX
 * (may be NULL) receives its leaf index. TC_EINVALID (reason in WHY, may
 * be NULL) for a malformed entry; storage errors as storage/tlog.h.
 */
int tlog_append(struct store *s, const char *kind, const char *hash, const char *issuer,
		int64_t when, uint64_t *index, char *why, size_t whysize);
/* The same for N entries of one KIND and time (HASHES[i] by ISSUERS[i]),
 * appended together: the tree's edge is read once, not once an entry.
 * *FIRST (may be NULL) receives the first one's leaf index. */
int tlog_append_many(struct store *s, const char *kind, const char *const *hashes,
		     const char *const *issuers, size_t n, int64_t when, uint64_t *first,
		     char *why, size_t whysize);

/*
 * Opens the log service of DATA_DIR on S: the origin (stored, or
 * CONFIGURED (may be "" or NULL: then DEFAULT_HOST "/log") stored now),
 * the "log" key (made when absent). *OUT is freed with tlog_destroy.
 */
int tlog_open(struct store *s, const char *data_dir, const char *configured,
	      const char *default_host, struct tlog **out);
void tlog_destroy(struct tlog *t);	/* stops the thread; accepts NULL */

/* The verifier key string ("origin+id+base64"), the origin, the key. */
const char *tlog_vkey(const struct tlog *t);
const char *tlog_origin(const struct tlog *t);
const struct signednote_verifier *tlog_verifier(const struct tlog *t);
/* The cache of the log's upper subtree hashes that inclusion proofs read
 * through (courses/merkle.h; shared by threads); NULL for T NULL. */
struct merkle_node_cache *tlog_node_cache(const struct tlog *t);
/* The cache of the log's complete blocks of 16 leaves (their leaf hashes and
 * inner nodes: courses/merkle.h) that inclusion proofs read through:
 * TLOG_BLOCK_SLOTS blocks (about 4 MB); NULL for T NULL. */
#define TLOG_BLOCK_SLOTS 4096
struct merkle_block_cache *tlog_block_cache(const struct tlog *t);

/*
 * Makes, signs and stores the checkpoint of the current size of S's log
 * when that size has none yet; OUT (may be NULL) receives the latest.
 */
int tlog_checkpoint_now(struct tlog *t, struct store *s, struct tlog_checkpoint *out);

/* Starts the checkpoint thread (its own connection to DATA_DIR). */
int tlog_start(struct tlog *t, int batch, int interval_ms);

/*
 * Checks the whole log of S: every leaf hash against its entry (and the
 * entry's canonical form), every stored subtree against the leaves, every
 * checkpoint's root against the tree and its note against V. 0 when all
 * is consistent; TC_EINVALID with the first inconsistency in PROBLEM
 * (naming the leaf index, subtree or checkpoint size); other codes when
 * the store cannot be read. V NULL (no key yet): any checkpoint is an
 * inconsistency. *LEAVES and *CHECKPOINTS (may be NULL) get
 * what was checked.
 */
int tlog_audit(struct store *s, const struct signednote_verifier *v, char *problem,
	       size_t problemsize, uint64_t *leaves, uint64_t *checkpoints);

/*
 * Checks every stored credential of S against the log: its text, rebuilt
 * from the stored fields and signature, hashes to its stored hash; that
 * hash is the subject of a leaf, whose entry is an "issue" by the
 * credential's issuer; its revocation status bit is set exactly when it
 * is revoked. 0 when all hold; TC_EINVALID with the first that does not
 * in PROBLEM (naming the credential's uid); other codes when the store
 * cannot be read. *CREDENTIALS (may be NULL) gets how many were checked.
 */
int tlog_audit_credentials(struct store *s, char *problem, size_t problemsize,
			   uint64_t *credentials);

/* The log key's verifier of DATA_DIR's log with S's stored origin, for
 * the audit without a running service. TC_ENOTFOUND: no log yet. */
int tlog_load_verifier(struct store *s, const char *data_dir, struct signednote_verifier *v);

#endif
