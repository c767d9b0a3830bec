/*
 * tlog.c - server/tlog.h: the log key and origin, appends, batched
 * checkpoints on one thread, and the audit.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/log.h"
#include "courses/merkle.h"
#include "courses/signednote.h"
#include "courses/tlog_entry.h"
#include "server/tlog.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "storage/tlog.h"

#define TLOG_KEY_NAME "log"
#define TLOG_META_ORIGIN "log_origin"

struct tlog {
	char data_dir[PATH_MAX];
	char keys_dir[PATH_MAX + 8];
	struct signednote_verifier v;
	char vkey[SIGNEDNOTE_VKEY_MAX];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int running, stop;
	int batch, interval_ms;
	struct merkle_node_cache *nodes;	/* upper subtrees, for proofs */
	struct merkle_block_cache *blocks;	/* complete blocks of 16 leaves */
};

static void
iso_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

int
tlog_append(struct store *s, const char *kind, const char *hash, const char *issuer,
	    int64_t when, uint64_t *index, char *why, size_t whysize)
{
	return tlog_append_many(s, kind, &hash, &issuer, 1, when, index, why, whysize);
}

int
tlog_append_many(struct store *s, const char *kind, const char *const *hashes,
		 const char *const *issuers, size_t n, int64_t when, uint64_t *first,
		 char *why, size_t whysize)
{
	struct dynbuf *entry = calloc(n ? n : 1, sizeof(*entry));
	const char **texts = calloc(n ? n : 1, sizeof(*texts));
	char t[32];
	uint64_t at = 0;
	int rc = entry && texts ? 0 : TC_ENOMEM;

	iso_time(when, t);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		dynbuf_init(&entry[i], TLOG_ENTRY_MAX);
		rc = tlog_entry_make(kind, hashes[i], issuers[i], t, &entry[i], why, whysize);
		if (rc == 0 && !(texts[i] = dynbuf_str(&entry[i])))
			rc = TC_ENOMEM;
	}
	if (rc == 0)
		rc = store_tlog_append(s, texts, (const char *const *)hashes, n, &at);
	if (rc == 0 && first)
		*first = at;
	for (size_t i = 0; entry && i < n; i++)
		dynbuf_cleanup(&entry[i]);
	free(entry);
	free(texts);
	return rc;
}

static int
load_key(struct tlog *t, const char *origin, int create)
{
	unsigned char pub[32];
	int rc = keys_public(t->keys_dir, TLOG_KEY_NAME, pub);

	if (rc == TC_ENOTFOUND && create) {
		rc = keys_generate(t->keys_dir, TLOG_KEY_NAME, pub);
		if (rc == 0)
			log_info("made the transparency log key %s/%s.pem", t->keys_dir,
				 TLOG_KEY_NAME);
	}
	if (rc == 0)
		rc = signednote_verifier_init(&t->v, origin, pub);
	if (rc == 0)
		rc = signednote_verifier_format(&t->v, t->vkey, sizeof(t->vkey));
	return rc;
}

int
tlog_open(struct store *s, const char *data_dir, const char *configured,
	  const char *default_host, struct tlog **out)
{
	char origin[SIGNEDNOTE_NAME_MAX + 1], want[SIGNEDNOTE_NAME_MAX + 1];
	struct tlog *t = NULL;
	int rc;

	*out = NULL;
	if (configured && configured[0])
		snprintf(want, sizeof(want), "%s", configured);
	else
		snprintf(want, sizeof(want), "%s/log", default_host && default_host[0] ?
			 default_host : "localhost");
	rc = store_meta_get(s, TLOG_META_ORIGIN, origin, sizeof(origin));
	if (rc == TC_ENOTFOUND) {
		if (!signednote_name_ok(want)) {
			log_err("log-origin \"%s\" is not a valid key name (no spaces or '+')", want);
			return TC_EINVALID;
		}
		rc = store_meta_add(s, TLOG_META_ORIGIN, want);
		if (rc == TC_ECONFLICT)	/* another node was first */
			rc = 0;
		if (rc == 0)
			rc = store_meta_get(s, TLOG_META_ORIGIN, origin, sizeof(origin));
	}
	if (rc)
		return rc;
	if (configured && configured[0] && strcmp(configured, origin) != 0)
		log_warn("log-origin \"%s\" ignored: this log's origin is \"%s\" for good",
			 configured, origin);
	t = calloc(1, sizeof(*t));
	if (!t)
		return TC_ENOMEM;
	snprintf(t->data_dir, sizeof(t->data_dir), "%s", data_dir);
	snprintf(t->keys_dir, sizeof(t->keys_dir), "%s/keys", data_dir);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	/* levels 6 and up: 1/64 of the subtrees (about 160,000 at 10 million
	 * leaves), 2^18 slots of 48 bytes */
	/* complete blocks of 16 leaves: TLOG_BLOCK_SLOTS of 968 bytes (4 MB),
	 * 65,536 leaves' worth */
	if ((rc = merkle_node_cache_new(6, (size_t)1 << 18, &t->nodes)) ||
	    (rc = merkle_block_cache_new(TLOG_BLOCK_SLOTS, &t->blocks)) ||
	    (rc = load_key(t, origin, 1))) {
		tlog_destroy(t);
		return rc;
	}
	*out = t;
	return 0;
}

const char *
tlog_vkey(const struct tlog *t)
{
	return t->vkey;
}

const char *
tlog_origin(const struct tlog *t)
{
	return t->v.name;
}

const struct signednote_verifier *
tlog_verifier(const struct tlog *t)
{
	return &t->v;
}

struct merkle_node_cache *
tlog_node_cache(const struct tlog *t)
{
	return t ? t->nodes : NULL;
}

struct merkle_block_cache *
tlog_block_cache(const struct tlog *t)
{
	return t ? t->blocks : NULL;
}

static int
sign_cb(void *ctx, const void *msg, size_t n, unsigned char sig[64])
{
	const struct tlog *t = ctx;

	return keys_sign(t->keys_dir, TLOG_KEY_NAME, msg, n, sig);
}

int
tlog_checkpoint_now(struct tlog *t, struct store *s, struct tlog_checkpoint *out)
{
	struct tlog_checkpoint *cp = NULL;
	struct merkle_source src;
	struct dynbuf text, note;
	uint64_t size = 0;
	int rc;

	dynbuf_init(&text, SIGNEDNOTE_MAX);
	dynbuf_init(&note, TLOG_NOTE_MAX);
	cp = calloc(1, sizeof(*cp));
	if (!cp) {
		rc = TC_ENOMEM;
		goto out;
	}
	if ((rc = store_tlog_size(s, &size)))
		goto out;
	rc = store_tlog_checkpoint_get(s, size, cp);
	if (rc != TC_ENOTFOUND)
		goto latest;	/* this size has its checkpoint (or an error) */
	store_tlog_source(s, &src);
	cp->size = size;
	cp->created_at = (int64_t)time(NULL);
	if ((rc = merkle_root(&src, size, cp->root)) ||
	    (rc = checkpoint_format(t->v.name, size, cp->root, &text)) ||
	    (rc = signednote_sign(text.data, text.len, &t->v, sign_cb, t, &note)))
		goto out;
	snprintf(cp->note, sizeof(cp->note), "%.*s", (int)note.len, note.data);
	rc = store_tlog_checkpoint_put(s, cp);
	if (rc == TC_ECONFLICT)
		log_err("transparency log: a different root is stored for size %" PRIu64
			"; run `tinchi log audit`", size);
	else if (rc == 0)
		log_info("transparency log: checkpoint of size %" PRIu64, size);
latest:
	if (rc == 0 && out)
		rc = store_tlog_checkpoint_latest(s, out);
out:
	dynbuf_cleanup(&text);
	dynbuf_cleanup(&note);
	free(cp);
	return rc;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
run(void *arg)
{
	struct tlog *t = arg;
	struct store *st = NULL;
	struct tlog_checkpoint *cp = calloc(1, sizeof(*cp));
	int64_t last = now_ms();
	int poll = t->interval_ms < 100 ? t->interval_ms : 100;
	int rc;

	if (!cp || (rc = store_open(t->data_dir, &st)) != 0) {
		log_err("transparency log: cannot start the checkpoint thread");
		free(cp);
		return NULL;
	}
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct timespec until;
		uint64_t size = 0;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)poll * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&t->cv, &t->mu, &until);
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->mu);
		rc = store_tlog_size(st, &size);
		if (rc == 0)
			rc = store_tlog_checkpoint_latest(st, cp);
		if (rc == 0 && size > cp->size &&
		    (size - cp->size >= (uint64_t)t->batch || now_ms() - last >= t->interval_ms)) {
			rc = tlog_checkpoint_now(t, st, NULL);
			last = now_ms();
		}
		if (rc && rc != TC_EBUSY)
			log_warn("transparency log: checkpoint failed: %s", tc_strerror(rc));
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	store_close(st);
	free(cp);
	return NULL;
}

int
tlog_start(struct tlog *t, int batch, int interval_ms)
{
	t->batch = batch > 0 ? batch : 1;
	t->interval_ms = interval_ms > 0 ? interval_ms : 1;
	if (pthread_create(&t->thread, NULL, run, t) != 0)
		return TC_EIO;
	t->running = 1;
	return 0;
}

void
tlog_destroy(struct tlog *t)
{
	if (!t)
		return;
	if (t->running) {
		pthread_mutex_lock(&t->mu);
		t->stop = 1;
		pthread_cond_signal(&t->cv);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->thread, NULL);
	}
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	merkle_node_cache_free(t->nodes);
	merkle_block_cache_free(t->blocks);
	free(t);
}

int
tlog_load_verifier(struct store *s, const char *data_dir, struct signednote_verifier *v)
{
	char origin[SIGNEDNOTE_NAME_MAX + 1], keys_dir[PATH_MAX + 8];
	unsigned char pub[32];
	int rc = store_meta_get(s, TLOG_META_ORIGIN, origin, sizeof(origin));

	snprintf(keys_dir, sizeof(keys_dir), "%s/keys", data_dir);
	if (rc == 0)
		rc = keys_public(keys_dir, TLOG_KEY_NAME, pub);
	if (rc == 0)
		rc = signednote_verifier_init(v, origin, pub);
	return rc;
}

/* ---- audit ----------------------------------------------------------------------- */

struct audit {
	struct store *s;
	const struct signednote_verifier *v;
	char *problem;
	size_t problemsize;
	struct merkle_compact c;
	uint64_t next;			/* the index the next leaf must have */
	struct tlog_checkpoint *cps;
	size_t ncps, capcps, at;	/* at: the next checkpoint to check */
};

static int
found(struct audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
found(struct audit *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->problem, a->problemsize, fmt, ap);
	va_end(ap);
	return TC_EINVALID;
}

static int
keep_checkpoint(const struct tlog_checkpoint *cp, void *arg)
{
	struct audit *a = arg;

	if (GROW(&a->cps, &a->capcps, a->ncps + 1, 16))
		return TC_ENOMEM;
	a->cps[a->ncps++] = *cp;
	return 0;
}

/* The checkpoint a->cps[a->at] against the tree of its size (ROOT). */
static int
check_checkpoint(struct audit *a, const unsigned char root[MERKLE_HASH_LEN])
{
	const struct tlog_checkpoint *cp = &a->cps[a->at++];
	struct checkpoint parsed;
	size_t text_len = 0;
	int rc;

	if (!a->v)
		return found(a, "checkpoint of size %" PRIu64 ": there is no log key to verify it",
			     cp->size);
	if (memcmp(cp->root, root, MERKLE_HASH_LEN) != 0)
		return found(a, "checkpoint of size %" PRIu64 ": its stored root is not the"
			     " root of the first %" PRIu64 " leaves", cp->size, cp->size);
	rc = signednote_open(cp->note, strlen(cp->note), a->v, 1, &text_len, NULL);
	if (rc == TC_ENOMEM)
		return rc;
	if (rc)
		return found(a, "checkpoint of size %" PRIu64 ": its note is %s", cp->size,
			     rc == TC_EFORBIDDEN ? "not validly signed by the log key"
						 : "malformed");
	if (checkpoint_parse(cp->note, text_len, &parsed) != 0)
		return found(a, "checkpoint of size %" PRIu64 ": its signed text is not a"
			     " checkpoint", cp->size);
	if (strcmp(parsed.origin, a->v->name) != 0 || parsed.size != cp->size ||
	    memcmp(parsed.root, root, MERKLE_HASH_LEN) != 0)
		return found(a, "checkpoint of size %" PRIu64 ": its signed text names another"
			     " origin, size or root", cp->size);
	return 0;
}

static int
check_node(void *ctx, unsigned level, uint64_t index, const unsigned char hash[MERKLE_HASH_LEN])
{
	struct audit *a = ctx;
	unsigned char stored[MERKLE_HASH_LEN];
	int rc;

	if (level < TLOG_NODE_LEVEL_MIN)
		return 0;	/* not stored: nothing to compare */
	rc = store_tlog_node_hash(a->s, level, index, stored);

	if (rc == TC_ENOTFOUND || rc == TC_EDB || (rc == 0 && memcmp(stored, hash, 32) != 0))
		return found(a, "subtree level %u index %" PRIu64 " (leaves %" PRIu64 " to %"
			     PRIu64 "): %s", level, index, index << level,
			     ((index + 1) << level) - 1,
			     rc == TC_ENOTFOUND ? "missing" : "its stored hash is wrong");
	return rc;
}

/* Whether ENTRY is the canonical form of a well-formed entry. */
static int
entry_ok(const char *entry)
{
	json_t *o = json_loads(entry, 0, NULL);
	struct dynbuf again;
	int ok = 0;

	dynbuf_init(&again, TLOG_ENTRY_MAX);
	if (o && json_is_object(o) && json_object_size(o) == 4 &&
	    tlog_entry_make(json_string_value(json_object_get(o, "kind")),
			    json_string_value(json_object_get(o, "hash")),
			    json_string_value(json_object_get(o, "issuer")),
			    json_string_value(json_object_get(o, "time")), &again, NULL, 0) == 0)
		ok = again.len == strlen(entry) && memcmp(again.data, entry, again.len) == 0;
	dynbuf_cleanup(&again);
	json_decref(o);
	return ok;
}

static int
check_leaf(uint64_t index, const char *entry, const unsigned char leaf_hash[MERKLE_HASH_LEN],
	   void *arg)
{
	struct audit *a = arg;
	unsigned char h[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	int rc;

	if (index != a->next)
		return found(a, "leaf %" PRIu64 " is missing", a->next);
	merkle_leaf_hash(entry, strlen(entry), h);
	if (memcmp(h, leaf_hash, MERKLE_HASH_LEN) != 0)
		return found(a, "leaf %" PRIu64 ": its stored leaf hash does not match its entry",
			     index);
	if (!entry_ok(entry))
		return found(a, "leaf %" PRIu64 ": its entry is not a canonical log entry", index);
	if ((rc = merkle_compact_append(&a->c, h, check_node, a)))
		return rc;
	a->next++;
	while (a->at < a->ncps && a->cps[a->at].size == a->c.size) {
		merkle_compact_root(&a->c, root);
		if ((rc = check_checkpoint(a, root)))
			return rc;
	}
	return 0;
}

int
tlog_audit(struct store *s, const struct signednote_verifier *v, char *problem,
	   size_t problemsize, uint64_t *leaves, uint64_t *checkpoints)
{
	struct audit a;
	unsigned char root[MERKLE_HASH_LEN];
	uint64_t size = 0, nodes = 0, want;
	int rc;

	memset(&a, 0, sizeof(a));
	a.s = s;
	a.v = v;
	a.problem = problem;
	a.problemsize = problemsize;
	problem[0] = '\0';
	merkle_compact_init(&a.c);
	if ((rc = store_tlog_size(s, &size)) ||
	    (rc = store_tlog_checkpoints_each(s, keep_checkpoint, &a)))
		goto out;
	while (a.at < a.ncps && a.cps[a.at].size == 0) {
		merkle_empty_root(root);
		if ((rc = check_checkpoint(&a, root)))
			goto out;
	}
	if ((rc = store_tlog_leaves_each(s, 0, size, check_leaf, &a)))
		goto out;
	if (a.next != size) {
		rc = found(&a, "leaf %" PRIu64 " is missing", a.next);
		goto out;
	}
	if (a.at < a.ncps) {
		rc = found(&a, "checkpoint of size %" PRIu64 " is larger than the log (%" PRIu64
			   " leaves)", a.cps[a.at].size, size);
		goto out;
	}
	want = store_tlog_node_rows(size);
	if ((rc = store_tlog_node_count(s, &nodes)))
		goto out;
	if (nodes != want)
		rc = found(&a, "%" PRIu64 " subtree rows stored, a log of %" PRIu64 " leaves has %"
			   PRIu64, nodes, size, want);
out:
	if (leaves)
		*leaves = a.next;
	if (checkpoints)
		*checkpoints = a.at;
	free(a.cps);
	return rc;
}

/* ---- the credentials against the log ---------------------------------------------- */

struct cred_audit {
	struct audit *a;
	const struct credential_rec *c;
	uint64_t n;
	int store_rc;		/* a store call's failure within the scan (not the data's) */
	char (*revoked)[SHA256_HEX_LEN + 1];	/* the log's revoke subjects, hex, sorted */
	size_t nrevoked, caprevoked;
};

/* A store call's failure inside the scan, kept apart from the data's
 * inconsistencies: the scan passes its callback's code on (and reads
 * TC_ENOTFOUND as its own end), so the callback answers TC_EIO and the
 * code waits in X. */
#define STORE_FAILED(x, rc) ((x)->store_rc = (rc), TC_EIO)

/* Keeps the subject of every revoke leaf. */
static int
keep_revoke(uint64_t index, const char *entry, const unsigned char leaf_hash[MERKLE_HASH_LEN],
	    void *arg)
{
	struct cred_audit *x = arg;
	json_t *o = json_loads(entry, 0, NULL);
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *hash = json_string_value(json_object_get(o, "hash"));
	int rc = 0;

	(void)index;
	(void)leaf_hash;
	if (kind && strcmp(kind, "revoke") == 0 && hash && strncmp(hash, "sha256:", 7) == 0 &&
	    strlen(hash + 7) == SHA256_HEX_LEN) {
		if ((rc = GROW(&x->revoked, &x->caprevoked, x->nrevoked + 1, 64)) == 0)
			memcpy(x->revoked[x->nrevoked++], hash + 7, SHA256_HEX_LEN + 1);
	}
	json_decref(o);
	return rc;
}

static int
cmp_hex(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The leaf that names the credential: an "issue" by its issuer. */
static int
check_issue_leaf(uint64_t index, const char *entry, const unsigned char leaf_hash[MERKLE_HASH_LEN],
		 void *arg)
{
	struct cred_audit *x = arg;
	json_t *o = json_loads(entry, 0, NULL);
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *issuer = json_string_value(json_object_get(o, "issuer"));
	int rc = 0;

	(void)leaf_hash;
	if (!kind || strcmp(kind, "issue") != 0 || !issuer || strcmp(issuer, x->c->issuer_did) != 0)
		rc = found(x->a, "credential %s: leaf %" PRIu64 " of its hash is %s %s, not an"
			   " issue by %s", x->c->uid, index, kind ? kind : "an entry without a kind",
			   issuer ? issuer : "", x->c->issuer_did);
	json_decref(o);
	return rc;
}

static int
check_credential(const struct credential_rec *c, void *arg)
{
	struct cred_audit *x = arg;
	char hex[SHA256_HEX_LEN + 1], subject[8 + SHA256_HEX_LEN];
	uint64_t index = 0;
	int rc, bit = 0, logged_revoked;

	x->c = c;
	sha256_hex(c->json, strlen(c->json), hex);
	if (strcmp(hex, c->hash) != 0)
		return found(x->a, "credential %s: its text, rebuilt from the stored fields, does not"
			     " hash to its stored hash", c->uid);
	snprintf(subject, sizeof(subject), "sha256:%s", hex);
	rc = store_tlog_find(x->a->s, subject, &index);
	if (rc == TC_ENOTFOUND)
		return found(x->a, "credential %s: its hash %s is not in the log", c->uid, subject);
	if (rc || (rc = store_tlog_leaves_each(x->a->s, index, index + 1, check_issue_leaf, x)))
		return rc == TC_EINVALID ? rc : STORE_FAILED(x, rc);
	logged_revoked = x->nrevoked &&
			 bsearch(hex, x->revoked, x->nrevoked, sizeof(*x->revoked), cmp_hex) != NULL;
	if (logged_revoked != (c->revoked_at != 0))
		return found(x->a, "credential %s: it is %s but the log has %s", c->uid,
			     c->revoked_at ? "revoked" : "not revoked",
			     logged_revoked ? "its revocation" : "no revocation of it");
	rc = store_status_bit(x->a->s, c->institution_id, "revocation", c->status_index, &bit);
	if (rc == TC_EINVALID)
		return found(x->a, "credential %s: its status index %" PRId64 " is outside its"
			     " issuer's list", c->uid, c->status_index);
	if (rc)
		return STORE_FAILED(x, rc);
	if (bit != (c->revoked_at != 0))
		return found(x->a, "credential %s: it is %s but its status bit is %d", c->uid,
			     c->revoked_at ? "revoked" : "not revoked", bit);
	x->n++;
	return 0;
}

int
tlog_audit_credentials(struct store *s, char *problem, size_t problemsize, uint64_t *credentials)
{
	struct audit a;
	struct cred_audit x = { &a, NULL, 0, 0, NULL, 0, 0 };
	uint64_t size = 0;
	int rc;

	memset(&a, 0, sizeof(a));
	a.s = s;
	a.problem = problem;
	a.problemsize = problemsize;
	problem[0] = '\0';
	if ((rc = store_tlog_size(s, &size)) ||
	    (rc = store_tlog_leaves_each(s, 0, size, keep_revoke, &x)))
		goto out;
	if (x.nrevoked)
		qsort(x.revoked, x.nrevoked, sizeof(*x.revoked), cmp_hex);
	rc = store_credentials_all_each(s, check_credential, &x);
	if (x.store_rc)
		rc = x.store_rc;
	else if (rc == TC_EDB && !problem[0])	/* the scan's own row did not rebuild */
		rc = found(&a, "credential after %" PRIu64 " good ones: its stored row does not"
			   " rebuild into a credential (or could not be read)", x.n);
out:
	free(x.revoked);
	if (credentials)
		*credentials = x.n;
	return rc;
}
