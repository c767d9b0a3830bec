/*
 * tlogstore_test.c - tests for the compact transparency log
 * (storage/tlog.h, migration 18) on real SQLite files in a mkdtemp folder.
 * Databases at schema 17 are made with leaves stored as their canonical
 * text, leaf hashes and every subtree, as tinchi stored them then: issue
 * and revoke entries of stored credentials, entries of hashes no
 * credential has, entries whose fields would not rebuild them (30
 * February, an issuer JSON escapes) and text that is no entry at all.
 * Opening them runs migration 18, after which every leaf reads back byte
 * for byte, with the same tree. A leaf hash that is not its entry's, a
 * wrong or missing subtree, a missing leaf refuse the whole migration and
 * leave the database at 17. The queries' plans use indexes only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/crypto.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/merkle.h"
#include "courses/tlog_entry.h"
#include "storage/credentials.h"
#include "storage/sqlite_migrate.h"
#include "storage/store.h"
#include "storage/store_sqlite.h"
#include "storage/tlog.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"

#define N 45		/* leaves */
#define NCRED 20	/* credentials */

static char tmp[512];
static char entries[N][TLOG_ENTRY_MAX + 1], subjects[N][72];
static unsigned char leaves[N][MERKLE_HASH_LEN];

enum damage { NONE, LEAF_HASH, SUBTREE, NO_SUBTREE, GAP };

#define CRED_DID "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
#define CRED_SHARED "{\"achievement_id\":\"https://example.edu/courses/C1\"," \
	"\"achievement_name\":\"C1\",\"alignment\":[],\"code\":\"C1\",\"credits\":3," \
	"\"criteria\":\"Done\",\"description\":\"C1\",\"issuer_name\":\"VNU\"," \
	"\"issuer_url\":\"https://example.edu\",\"name\":\"C1\"," \
	"\"status_list\":\"https://example.edu/status\"}"

/* The uid of credential I: 16 bytes. */
static void
cred_uid(int i, unsigned char u[16])
{
	memset(u, 0, 16);
	u[6] = 0x40;
	u[8] = 0x80;
	u[14] = (unsigned char)(i >> 8);
	u[15] = (unsigned char)(i & 0xff);
}

/* The hash of credential I (the fixture's row: uid cred_uid(I), status
 * index I + 1, issued at 0, credits 3, CRED_SHARED, zero identity hash and
 * signature, no salt), as the store rebuilds it: 32 bytes, as hex into
 * HEX (65). */
static void
cred_hash(int i, unsigned char h[32], char hex[65])
{
	struct credential_rec c = { 0 };
	unsigned char u[16];
	char *text = NULL;

	cred_uid(i, u);
	snprintf(c.uid, sizeof(c.uid), "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8],
		 u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	c.shared = (char *)CRED_SHARED;
	snprintf(c.issuer_did, sizeof(c.issuer_did), "%s", CRED_DID);
	snprintf(c.identity_hash, sizeof(c.identity_hash), "sha256$%064d", 0);
	c.credits_earned = 3;
	c.status_index = i + 1;
	memset(h, 0, 32);
	if (store_credential_text(&c, &text, NULL) == 0)
		sha256_raw(text, strlen(text), h);
	free(text);
	for (int k = 0; k < 32; k++)
		snprintf(hex + 2 * k, 3, "%02x", h[k]);
}

/* Leaf I of the test log: its entry and subject. */
static void
make_leaf(int i)
{
	static const char did[] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
	unsigned char h[32];
	char hex[65], t[32];
	struct dynbuf b;
	int kind = 0;
	const char *issuer = did;

	if (i < NCRED) {
		cred_hash(i, h, hex);		/* issued */
	} else if (i < NCRED + 5) {
		cred_hash(i - NCRED, h, hex);	/* revoked */
		kind = 1;
	} else {
		cred_hash(1000 + i, h, hex);	/* no credential has it */
	}
	snprintf(subjects[i], sizeof(subjects[i]), "sha256:%s", hex);
	snprintf(t, sizeof(t), "2026-%02d-%02dT10:%02d:%02dZ", i % 12 + 1, i % 28 + 1, i % 60,
		 (i * 7) % 60);
	if (i == 31)
		snprintf(t, sizeof(t), "2026-02-30T00:00:00Z");	/* kept as text */
	if (i == 32)
		issuer = "did:web:a\"b";			/* kept as text */
	if (i == 33 || i == 34) {
		/* not an entry at all; 34's subject is no hash */
		snprintf(entries[i], sizeof(entries[i]), "{\"hash\":\"%.71s\",\"n\":%d}", subjects[i], i);
		if (i == 34)
			snprintf(subjects[i], sizeof(subjects[i]), "leaf-34");
		return;
	}
	dynbuf_init(&b, TLOG_ENTRY_MAX);
	if (tlog_entry_make(kind ? "revoke" : "issue", subjects[i], issuer, t, &b, NULL, 0) == 0)
		snprintf(entries[i], sizeof(entries[i]), "%s", dynbuf_str(&b));
	dynbuf_cleanup(&b);
}

struct nodes {
	sqlite3_stmt *st;
	int bad;
};

static int
put_node(void *ctx, unsigned level, uint64_t index, const unsigned char hash[32])
{
	struct nodes *n = ctx;

	sqlite3_reset(n->st);
	if (sqlite3_bind_int64(n->st, 1, level) || sqlite3_bind_int64(n->st, 2, (int64_t)index) ||
	    sqlite3_bind_blob(n->st, 3, hash, 32, SQLITE_STATIC) ||
	    sqlite3_step(n->st) != SQLITE_DONE)
		n->bad = 1;
	return 0;
}

/* A database at schema 17 in DIR with NCRED credentials and the N leaves
 * (stored as migration 12 did), damaged as DAMAGE says. 0 or -1. */
static int
make_v17(const char *dir, enum damage damage)
{
	char path[700];
	size_t n17 = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct nodes nodes = { NULL, 0 };
	struct merkle_compact c;
	int rc = 0;

	while (n17 < sqlite_migrations_count && sqlite_migrations[n17].version <= 17)
		n17++;
	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	if (store_prepare_dir(dir) || sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite_migrate(db, sqlite_migrations, n17))
		rc = -1;
	if (rc == 0 && sqlite3_exec(db,
		"BEGIN;"
		"INSERT INTO institutions (id, code, name, kind, website, created_at)"
		" VALUES (1, 'VNU', 'VNU', 'university', '', 0);"
		"INSERT INTO people (id, uid, national_id, nid_hmac, full_name, created_at, updated_at)"
		" VALUES (1, 'p1', '100000000001', 'h1', 'Học Viên', 0, 0);"
		"INSERT INTO institution_keys (id, institution_id, file, pub, did, valid_from)"
		" VALUES (1, 1, 'k1', zeroblob(32), '" CRED_DID "', 0);"
		"INSERT INTO credential_achievements (id, institution_id, code, digest, fields)"
		" VALUES (1, 1, 'C1', zeroblob(32), '" CRED_SHARED "');", NULL, NULL, NULL) !=
	    SQLITE_OK)
		rc = -1;
	if (rc == 0 && sqlite3_prepare_v2(db, "INSERT INTO credentials (id, uid, institution_id,"
					  " person_id, achievement_id, key_id, status_index, hash,"
					  " issued_at, identity_hash, salt, credits_earned, signature)"
					  " VALUES (?1, ?3, 1, 1, 1, 1, ?1, ?2, 0,"
					  " zeroblob(32), x'', 3, zeroblob(64))", -1, &st, NULL))
		rc = -1;
	for (int i = 0; rc == 0 && i < NCRED; i++) {
		unsigned char h[32], u[16];
		char hex[65];

		cred_hash(i, h, hex);
		cred_uid(i, u);
		sqlite3_reset(st);
		if (sqlite3_bind_int64(st, 1, i + 1) || sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC) ||
		    sqlite3_bind_blob(st, 3, u, 16, SQLITE_STATIC) || sqlite3_step(st) != SQLITE_DONE)
			rc = -1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == 0 && sqlite3_prepare_v2(db, "INSERT INTO log_leaves (idx, entry, subject,"
					  " leaf_hash) VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL))
		rc = -1;
	if (rc == 0 && sqlite3_prepare_v2(db, "INSERT INTO log_nodes (level, idx, hash)"
					  " VALUES (?1, ?2, ?3)", -1, &nodes.st, NULL))
		rc = -1;
	merkle_compact_init(&c);
	for (int i = 0; rc == 0 && i < N; i++) {
		unsigned char h[32];

		memcpy(h, leaves[i], 32);
		if (damage == LEAF_HASH && i == 40)
			h[0] ^= 1;
		sqlite3_reset(st);
		if (!(damage == GAP && i == 17) &&
		    (sqlite3_bind_int64(st, 1, i) ||
		     sqlite3_bind_text(st, 2, entries[i], -1, SQLITE_STATIC) ||
		     sqlite3_bind_text(st, 3, subjects[i], -1, SQLITE_STATIC) ||
		     sqlite3_bind_blob(st, 4, h, 32, SQLITE_STATIC) || sqlite3_step(st) != SQLITE_DONE))
			rc = -1;
		if (rc == 0)
			merkle_compact_append(&c, leaves[i], put_node, &nodes);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(nodes.st);
	if (rc == 0 && damage == SUBTREE &&
	    sqlite3_exec(db, "DROP TRIGGER log_nodes_append_only;"
			 "UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 5",
			 NULL, NULL, NULL) != SQLITE_OK)
		rc = -1;
	if (rc == 0 && damage == NO_SUBTREE &&
	    sqlite3_exec(db, "DELETE FROM log_nodes WHERE level = 2 AND idx = 3", NULL, NULL,
			 NULL) != SQLITE_OK)
		rc = -1;
	if (rc == 0 && (nodes.bad || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK))
		rc = -1;
	sqlite3_close(db);
	return rc;
}

static int
user_version(const char *dir)
{
	char path[700];
	sqlite3 *db = NULL;
	int v = -1;

	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	if (sqlite3_open(path, &db) == SQLITE_OK)
		sqlite_user_version(db, &v);
	sqlite3_close(db);
	return v;
}

/* The first integer SQL gives on DIR's database; -1 on failure. */
static int64_t
query_int(const char *dir, const char *sql)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	return raw_query_int(path, sql);
}

struct same {
	int n, same;
};

static int
same_leaf(uint64_t index, const char *entry, const unsigned char h[32], void *arg)
{
	struct same *s = arg;

	s->n++;
	s->same += index < N && strcmp(entry, entries[index]) == 0 &&
		   memcmp(h, leaves[index], 32) == 0;
	return 0;
}

static int
mem_leaf(void *ctx, uint64_t index, unsigned char out[MERKLE_HASH_LEN])
{
	(void)ctx;
	if (index >= N)
		return TC_ENOTFOUND;
	memcpy(out, leaves[index], MERKLE_HASH_LEN);
	return 0;
}

/* The plan of SQL on DIR's database has no full scan of a table and no
 * temporary b-tree. */
static int
plan_ok(const char *dir, const char *sql)
{
	char path[700], q[1200];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int good = 1, rows = 0;

	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_prepare_v2(db, q, -1, &st, NULL))
		good = 0;
	while (good && sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);

		rows++;
		if (d && ((strncmp(d, "SCAN ", 5) == 0 && strstr(d, "SUBQUERY") == NULL &&
			   strstr(d, "CO-ROUTINE") == NULL) || strstr(d, "TEMP B-TREE"))) {
			printf("# %s\n", d);
			good = 0;
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return good && rows > 0;
}

static void
test_convert(void)
{
	struct merkle_source mem = { mem_leaf, NULL, NULL }, src;
	unsigned char root[32], want[32], proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	char dir[700];
	struct store *st = NULL;
	struct same s = { 0, 0 };
	uint64_t size = 0, idx = 99, nodes = 0;
	size_t n = 0;
	int good = 1;

	snprintf(dir, sizeof(dir), "%s/good", tmp);
	if (make_v17(dir, NONE)) {
		ok(0, "a database at schema 17 with its log");
		return;
	}
	is_int(store_open(dir, &st), 0, "opening it runs migration 18");
	if (!st)
		return;
	is_int(user_version(dir) >= 18, 1, "the database is at 18 or later");
	ok(store_tlog_size(st, &size) == 0 && size == N, "every leaf is there");
	ok(store_tlog_leaves_each(st, 0, N, same_leaf, &s) == 0 && s.n == N && s.same == N,
	   "every leaf reads back as its stored entry, byte for byte, with its leaf hash");
	is_int(query_int(dir, "SELECT count(*) FROM log_leaves WHERE entry IS NULL"), N - 4,
	       "all but the four that are not rebuildable entries are stored as fields");
	is_int(query_int(dir, "SELECT count(*) FROM log_leaves WHERE credential_id IS NOT NULL"),
	       NCRED + 5, "the issue and revoke leaves of credentials name their rows");
	store_tlog_source(st, &src);
	merkle_root(&mem, N, want);
	ok(merkle_root(&src, N, root) == 0 && memcmp(root, want, 32) == 0, "the same root");
	for (uint64_t i = 0; i < N; i++)
		if (merkle_inclusion_proof(&src, i, N, proof, &n) ||
		    merkle_check_inclusion(i, N, leaves[i], proof, n, want))
			good = 0;
	ok(good, "every inclusion proof verifies");
	ok(store_tlog_node_count(st, &nodes) == 0 && nodes == store_tlog_node_rows(N) && nodes == 3,
	   "the subtrees of 16 leaves and more are kept (three for 45 leaves)");
	ok(store_tlog_find(st, subjects[3], &idx) == 0 && idx == 3,
	   "a credential's hash finds its issue leaf (not its revocation)");
	ok(store_tlog_find(st, subjects[40], &idx) == 0 && idx == 40,
	   "a hash no credential has finds its leaf");
	ok(store_tlog_find(st, "leaf-34", &idx) == 0 && idx == 34, "so does a subject of text");
	ok(store_tlog_find(st, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
			   &idx) == TC_ENOTFOUND, "an unknown hash is not found");
	store_close(st);
	st = NULL;

	/* the same log appended anew through the store: the same rows */
	{
		char dir2[700];
		const char *ep[N], *sp[N];
		uint64_t first = 0;

		snprintf(dir2, sizeof(dir2), "%s/fresh", tmp);
		store_prepare_dir(dir2);
		for (int i = 0; i < N; i++) {
			ep[i] = entries[i];
			sp[i] = subjects[i];
		}
		s.n = s.same = 0;
		ok(store_open(dir2, &st) == 0 && store_begin(st) == 0 &&
		   store_tlog_append(st, ep, sp, N, &first) == 0 && store_commit(st) == 0 &&
		   store_tlog_leaves_each(st, 0, N, same_leaf, &s) == 0 && s.same == N,
		   "appended through the store, the leaves read back the same");
		is_int(query_int(dir2, "SELECT count(*) FROM log_leaves WHERE entry IS NULL"), N - 4,
		       "as fields where they rebuild");
		store_close(st);
		st = NULL;
	}

	ok(plan_ok(dir, TLOG_SQL_FIND), "find: index searches only");
	ok(plan_ok(dir, TLOG_SQL_CREDENTIAL_BY_HASH), "the credential of a hash: an index search");
	ok(plan_ok(dir, TLOG_SQL_LEAVES " WHERE l.idx >= ?1 AND l.idx < ?2 ORDER BY l.idx"),
	   "leaves by range: by the primary key, in order");
	ok(plan_ok(dir, TLOG_SQL_LEAVES " WHERE l.idx = ?1"), "a leaf by index");
	ok(plan_ok(dir, "SELECT hash FROM log_subtrees WHERE level = ?1 AND idx = ?2"),
	   "a subtree by its key");
	/* migration 21: a credential keeps its first leaf instead of an index
	 * of the leaves by credential */
	is_int(query_int(dir, "SELECT count(*) FROM credentials c WHERE c.leaf ="
			 " (SELECT min(idx) FROM log_leaves l WHERE l.credential_id = c.id)"), NCRED,
	       "each logged credential keeps the index of its first leaf");
	is_int(query_int(dir, "SELECT count(*) FROM sqlite_schema"
			 " WHERE name = 'log_leaves_by_credential'"), 0,
	       "log_leaves_by_credential is gone");
	{
		char path[760];
		sqlite3 *db = NULL;

		snprintf(path, sizeof(path), "%s/tinchi.db", dir);
		ok(sqlite3_open(path, &db) == SQLITE_OK &&
		   sqlite3_exec(db, "DELETE FROM credentials WHERE id = 1", NULL, NULL, NULL) ==
		   SQLITE_CONSTRAINT, "a logged credential still cannot be removed (its leaf)");
		sqlite3_close(db);
	}
}

static void
test_refused(void)
{
	static const struct {
		enum damage d;
		const char *what;
	} cases[] = {
		{ LEAF_HASH, "a stored leaf hash that is not its entry's" },
		{ SUBTREE, "a stored subtree that is not its leaves' hash" },
		{ NO_SUBTREE, "a subtree missing" },
		{ GAP, "a leaf missing" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char dir[700];
		struct store *st = NULL;

		snprintf(dir, sizeof(dir), "%s/bad%zu", tmp, k);
		if (make_v17(dir, cases[k].d)) {
			ok(0, "a damaged database");
			continue;
		}
		diag(cases[k].what);
		ok(store_open(dir, &st) != 0, "migration 18 is refused");
		if (st)
			store_close(st);
		is_int(user_version(dir), 17, "the database stays at 17");
		is_int(query_int(dir, "SELECT count(*) FROM log_leaves WHERE entry IS NOT NULL"),
		       cases[k].d == GAP ? N - 1 : N, "with its leaves as they were");
	}
}

int
main(void)
{
	if (test_tmpdir_make(tmp, sizeof(tmp), "tlogstore") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	for (int i = 0; i < N; i++) {
		make_leaf(i);
		merkle_leaf_hash(entries[i], strlen(entries[i]), leaves[i]);
	}
	test_convert();
	test_refused();
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
