/*
 * credmig21_test.c - migration 21 (storage/credentials_sqlite.c
 * credentials_convert_v21) on real SQLite files in a mkdtemp folder.
 * Databases at schema 20 hold credential rows as tinchi stored them then
 * (uid, salt and identity hash in every row, the term as text, awarded_at),
 * with log leaves and a share that name them. Opening them runs migration
 * 21: every credential still rebuilds byte for byte to its hash, an
 * identity hash that the person's national ID makes is no longer stored,
 * one that it does not make is kept, each credential keeps its first leaf.
 * A credential issued afterwards stores neither uid nor salt nor identity
 * hash and is found by its uid. A row that does not rebuild (a signature,
 * an awarded date or a term changed) refuses the whole migration and
 * leaves the database at 20 as it was.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/credential_derive.h"
#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/identity_hash.h"
#include "storage/credentials.h"
#include "storage/sqlite_migrate.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"

#define NCRED 30
#define DID "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
#define SHARED "{\"achievement_id\":\"https://example.edu/courses/C1\"," \
	"\"achievement_name\":\"Giải tích 1\",\"alignment\":[],\"code\":\"C1\",\"credits\":3," \
	"\"criteria\":\"Hoàn thành\",\"description\":\"C1\",\"issuer_name\":\"VNU\"," \
	"\"issuer_url\":\"https://example.edu\",\"name\":\"Giải tích 1\"," \
	"\"status_list\":\"https://example.edu/status\"}"
#define NID1 "001200000001"
#define NID2 "001200000002"

enum damage { NONE, SIGNATURE, AWARDED, TERM };

static char tmp[512];
static char *texts[NCRED];
static char uids[NCRED][CRED_UID_MAX + 1];
static int derivable;		/* rows whose identity hash the national ID makes */

static void
hex_of(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

/* Credential I's fields into C (as tinchi issued it before 21). */
static void
fields(int i, struct credential_rec *c, unsigned char uid[16], unsigned char salt[16])
{
	char hex[33];

	memset(c, 0, sizeof(*c));
	for (int k = 0; k < 16; k++) {
		uid[k] = (unsigned char)(i * 31 + k * 7 + 3);
		salt[k] = (unsigned char)(i * 17 + k * 5 + 1);
	}
	uid[6] = (unsigned char)(0x40 | (uid[6] & 0x0f));
	uid[8] = (unsigned char)(0x80 | (uid[8] & 0x3f));
	hex_of(uid, 16, hex);
	snprintf(c->uid, sizeof(c->uid), "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		 hex + 12, hex + 16, hex + 20);
	c->id = i + 1;
	c->institution_id = 1;
	c->person_id = i % 2 + 1;
	c->status_index = i * 3 + 1;
	c->issued_at = 1750000000 + (int64_t)i * 60;
	c->awarded = i % 3 == 0;
	c->awarded_at = c->issued_at - 3600 * i;
	if (i % 5 != 4)
		hex_of(salt, 16, c->salt);	/* else unsalted */
	identity_hash_make(i % 4 == 3 ? "999999999999" : c->person_id == 1 ? NID1 : NID2, c->salt,
			   c->identity_hash);
	c->credits_earned = 3;
	if (i % 3 != 1)
		snprintf(c->term, sizeof(c->term), "%s", i % 2 ? "2025-09-01/2025-12-31" :
			 "2026-01-01/2026-05-31");
	/* "8.50" does not format back from 850, nor "1000000" (over the
	 * hundredths' range): kept as text */
	if (i % 2)
		snprintf(c->grade, sizeof(c->grade), "%s", i % 6 == 5 ? "8.50" :
			 i == 1 ? "1000000" : "8.5");
	memset(c->signature, i + 1, 64);
	c->revoked_at = i % 7 == 6 ? c->issued_at + 10 : 0;
	snprintf(c->revoke_reason, sizeof(c->revoke_reason), "%s", c->revoked_at ? "Sai sót" : "");
	c->shared = (char *)SHARED;
	snprintf(c->issuer_did, sizeof(c->issuer_did), "%s", DID);
}

static void
free_texts(void)
{
	for (int i = 0; i < NCRED; i++) {
		free(texts[i]);
		texts[i] = NULL;
	}
}

/* DIR/tinchi.db at schema 20 with NCRED credentials (a log leaf each, a
 * second for the revoked, a share of the first), damaged as DAMAGE says.
 * 0 or -1. */
static int
make_v20(const char *dir, enum damage damage)
{
	char path[700];
	size_t n20 = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL, *leaf = NULL;
	int rc = 0, idx = 0;

	derivable = 0;
	while (n20 < sqlite_migrations_count && sqlite_migrations[n20].version <= 20)
		n20++;
	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	if (store_prepare_dir(dir) || sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite_migrate(db, sqlite_migrations, n20) ||
	    sqlite3_exec(db, "PRAGMA foreign_keys=ON; BEGIN;"
		"INSERT INTO institutions (id, code, name, kind, website, created_at)"
		" VALUES (1, 'VNU', 'VNU', 'university', '', 0);"
		"INSERT INTO people (id, uid, national_id, nid_hmac, full_name, created_at, updated_at)"
		" VALUES (1, 'p1', '" NID1 "', 'h1', 'Học Viên', 0, 0),"
		" (2, 'p2', '" NID2 "', 'h2', 'Học Viên 2', 0, 0);"
		"INSERT INTO institution_keys (id, institution_id, file, pub, did, valid_from)"
		" VALUES (1, 1, 'k1', zeroblob(32), '" DID "', 0);"
		"INSERT INTO credential_achievements (id, institution_id, code, digest, fields)"
		" VALUES (1, 1, 'C1', zeroblob(32), '" SHARED "');"
		"INSERT INTO log_issuers (id, did) VALUES (1, '" DID "');", NULL, NULL, NULL) !=
	    SQLITE_OK)
		rc = -1;
	if (rc == 0 && (sqlite3_prepare_v2(db, "INSERT INTO credentials (id, uid, institution_id,"
			" person_id, achievement_id, key_id, status_index, hash, issued_at, awarded_at,"
			" identity_hash, salt, credits_earned, term, grade, signature, revoked_at,"
			" revoke_reason) VALUES (?1, ?2, 1, ?3, 1, 1, ?4, ?5, ?6, ?7, ?8, ?9, 3, ?10,"
			" ?11, ?12, ?13, ?14)", -1, &st, NULL) != SQLITE_OK ||
			sqlite3_prepare_v2(db, "INSERT INTO log_leaves (idx, kind, credential_id,"
			" issuer_id, time) VALUES (?1, ?2, ?3, 1, ?4)", -1, &leaf, NULL) != SQLITE_OK))
		rc = -1;
	for (int i = 0; rc == 0 && i < NCRED; i++) {
		struct credential_rec c;
		unsigned char uid[16], salt[16], hash[32], ih[32];
		char digest[65];

		fields(i, &c, uid, salt);
		if (store_credential_text(&c, &texts[i], NULL)) {
			rc = -1;
			break;
		}
		snprintf(uids[i], sizeof(uids[i]), "%s", c.uid);
		sha256_raw(texts[i], strlen(texts[i]), hash);
		sha256_hex(texts[i], strlen(texts[i]), digest);
		derivable += i % 4 != 3;
		for (int k = 0; k < 32; k++)
			sscanf(c.identity_hash + 7 + 2 * k, "%2hhx", &ih[k]);
		sqlite3_reset(st);
		if (sqlite3_bind_int64(st, 1, c.id) || sqlite3_bind_blob(st, 2, uid, 16, SQLITE_STATIC) ||
		    sqlite3_bind_int64(st, 3, c.person_id) || sqlite3_bind_int64(st, 4, c.status_index) ||
		    sqlite3_bind_blob(st, 5, hash, 32, SQLITE_STATIC) ||
		    sqlite3_bind_int64(st, 6, c.issued_at) ||
		    (c.awarded ? sqlite3_bind_int64(st, 7, c.awarded_at) : sqlite3_bind_null(st, 7)) ||
		    sqlite3_bind_blob(st, 8, ih, 32, SQLITE_STATIC) ||
		    sqlite3_bind_blob(st, 9, c.salt[0] ? salt : (const unsigned char *)"",
				      c.salt[0] ? 16 : 0, SQLITE_STATIC) ||
		    (c.term[0] ? sqlite3_bind_text(st, 10, c.term, -1, SQLITE_TRANSIENT) :
		     sqlite3_bind_null(st, 10)) ||
		    (c.grade[0] ? sqlite3_bind_text(st, 11, c.grade, -1, SQLITE_TRANSIENT) :
		     sqlite3_bind_null(st, 11)) ||
		    sqlite3_bind_blob(st, 12, c.signature, 64, SQLITE_STATIC) ||
		    sqlite3_bind_int64(st, 13, c.revoked_at) ||
		    sqlite3_bind_text(st, 14, c.revoke_reason, -1, SQLITE_TRANSIENT) ||
		    sqlite3_step(st) != SQLITE_DONE)
			rc = -1;
		for (int kind = 0; rc == 0 && kind <= (c.revoked_at != 0); kind++) {
			sqlite3_reset(leaf);
			if (sqlite3_bind_int64(leaf, 1, idx++) || sqlite3_bind_int(leaf, 2, kind) ||
			    sqlite3_bind_int64(leaf, 3, c.id) ||
			    sqlite3_bind_int64(leaf, 4, c.issued_at + kind * 10) ||
			    sqlite3_step(leaf) != SQLITE_DONE)
				rc = -1;
		}
	}
	sqlite3_finalize(st);
	sqlite3_finalize(leaf);
	if (rc == 0 && sqlite3_exec(db, "INSERT INTO credential_shares (uid, credential_id,"
				    " token_hash, kind, created_at) VALUES ('s1', 1, 't1', 'link', 0);",
				    NULL, NULL, NULL) != SQLITE_OK)
		rc = -1;
	if (rc == 0 && damage != NONE &&
	    sqlite3_exec(db, damage == SIGNATURE ?
			 "UPDATE credentials SET signature = zeroblob(64) WHERE id = 3" :
			 damage == AWARDED ?
			 "UPDATE credentials SET awarded_at = awarded_at + 1 WHERE id = 4" :
			 "UPDATE credentials SET term = '2026' WHERE id = 1", NULL, NULL, NULL) !=
	    SQLITE_OK)
		rc = -1;
	if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = -1;
	sqlite3_close(db);
	return rc;
}

static int64_t
query_int(const char *dir, const char *sql)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	return raw_query_int(path, sql);
}

static int
count_each(const struct credential_rec *c, void *arg)
{
	int *n = arg;

	for (int i = 0; i < NCRED; i++)
		if (strcmp(uids[i], c->uid) == 0 && strcmp(texts[i], c->json) == 0)
			(*n)++;
	return 0;
}

/* A credential issued after the migration: uid and salt derived. */
static void
test_new(struct store *st, const char *dir)
{
	unsigned char key[32], u[16], salt[16];
	char hex[33], digest[65], *text = NULL;
	struct credential_rec c, got = { 0 };

	memset(&c, 0, sizeof(c));
	ok(store_credential_key(st, key) == 0, "the database has a credential key");
	ok(credential_uid_derive(key, 1, 999, u) == 0 && credential_salt_derive(key, u, salt) == 0,
	   "a new credential's uid and salt derive from it");
	hex_of(u, 16, hex);
	snprintf(c.uid, sizeof(c.uid), "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
	hex_of(salt, 16, c.salt);
	identity_hash_make(NID1, c.salt, c.identity_hash);
	c.institution_id = 1;
	c.person_id = 1;
	c.status_index = 999;
	c.issued_at = 1760000000;
	c.awarded = 1;
	c.awarded_at = 1759990000;
	c.credits_earned = 3;
	snprintf(c.term, sizeof(c.term), "2026-01-01/2026-05-31");
	snprintf(c.grade, sizeof(c.grade), "9");
	memset(c.signature, 0x5a, 64);
	c.shared = (char *)SHARED;
	c.key_id = 1;
	snprintf(c.issuer_did, sizeof(c.issuer_did), "%s", DID);
	if (store_credential_text(&c, &text, NULL) == 0)
		sha256_hex(text, strlen(text), c.hash);
	ok(text && store_credential_issue(st, &c, "revocation", 0, 0) == 0, "issued");
	{
		char sql[200];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM credentials WHERE id = %lld AND"
			 " uid IS NULL AND salt IS NULL AND identity_hash IS NULL AND term_id IS NOT NULL"
			 " AND awarded_ago = 10000 AND grade = 900", (long long)c.id);
		is_int(query_int(dir, sql), 1, "its row stores no uid, salt or identity hash");
	}
	ok(store_credential_get(st, c.uid, &got) == 0 && got.json && text &&
	   strcmp(got.json, text) == 0 && strcmp(got.hash, c.hash) == 0,
	   "found by its uid, it rebuilds byte for byte");
	if (got.json)
		sha256_hex(got.json, strlen(got.json), digest);
	ok(got.json && strcmp(digest, c.hash) == 0, "to its hash");
	free(got.json);
	u[15] ^= 1;
	hex_of(u, 16, hex);
	snprintf(c.uid, sizeof(c.uid), "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
	memset(&got, 0, sizeof(got));
	is_int(store_credential_get(st, c.uid, &got), TC_ENOTFOUND, "another uid finds nothing");
	free(got.json);
	free(text);
}

static void
test_convert(void)
{
	char dir[700], path[760], uid[CRED_UID_MAX + 1];
	struct store *st = NULL;
	sqlite3 *db = NULL;
	int same = 0, hashed = 0, n1 = 0, n2 = 0;

	snprintf(dir, sizeof(dir), "%s/good", tmp);
	if (make_v20(dir, NONE)) {
		ok(0, "a database at schema 20 with credentials");
		free_texts();
		return;
	}
	is_int(store_open(dir, &st), 0, "opening it runs migration 21");
	is_int(query_int(dir, "PRAGMA user_version"),
	       sqlite_migrations[sqlite_migrations_count - 1].version,
	       "the database is at the last migration");
	for (int i = 0; st && i < NCRED; i++) {
		struct credential_rec c = { 0 };
		char digest[65];

		if (store_credential_get(st, uids[i], &c) == 0 && c.json) {
			same += strcmp(c.json, texts[i]) == 0;
			sha256_hex(c.json, strlen(c.json), digest);
			hashed += strcmp(digest, c.hash) == 0 && c.id == i + 1;
		}
		free(c.json);
	}
	is_int(same, NCRED, "every credential reads back as before, byte for byte");
	is_int(hashed, NCRED, "with its hash and id");
	is_int(query_int(dir, "SELECT count(*) FROM credentials WHERE identity_hash IS NULL"),
	       derivable, "identity hashes the national ID makes are no longer stored");
	is_int(query_int(dir, "SELECT count(*) FROM credentials WHERE identity_hash IS NOT NULL"),
	       NCRED - derivable, "the others are kept");
	is_int(query_int(dir, "SELECT count(*) FROM credentials WHERE uid IS NOT NULL AND"
			 " salt IS NOT NULL"), NCRED, "stored uids and salts are kept");
	is_int(query_int(dir, "SELECT count(*) FROM credentials c WHERE c.leaf ="
			 " (SELECT min(idx) FROM log_leaves l WHERE l.credential_id = c.id)"), NCRED,
	       "each keeps its first log leaf");
	is_int(query_int(dir, "SELECT count(*) FROM credential_terms"), 2, "two terms, once each");
	is_int(query_int(dir, "SELECT count(*) FROM credentials WHERE typeof(grade) = 'integer'"
			 " AND grade = 850"), 9, "grades that format back are stored as hundredths");
	is_int(query_int(dir, "SELECT count(*) FROM credentials WHERE grade = '8.50'"), 5,
	       "the others as their text");
	is_int(query_int(dir, "SELECT count(*) FROM credentials WHERE grade = '1000000'"
			 " AND typeof(grade) = 'text'"), 1, "a grade of a million too");
	is_int(query_int(dir, "SELECT count(*) FROM pragma_foreign_key_check"), 0,
	       "leaves and shares still name their credentials");
	if (st) {
		store_credentials_each(st, 1, count_each, &n1);
		store_credentials_each(st, 2, count_each, &n2);
	}
	is_int(n1 + n2, NCRED, "store_credentials_each rebuilds them all");
	ok(st && store_credential_find(st, 1, "C1", 1, "2026-01-01/2026-05-31", uid) == 0 &&
	   strcmp(uid, uids[0]) == 0, "store_credential_find by code and term");
	ok(st && store_credential_find(st, 1, "C1", 2, "2026", uid) == TC_ENOTFOUND,
	   "another term is not found");
	if (st)
		test_new(st, dir);
	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	ok(sqlite3_open(path, &db) == SQLITE_OK &&
	   sqlite3_exec(db, "UPDATE people SET national_id = '001299999999' WHERE id = 1", NULL,
			NULL, NULL) == SQLITE_CONSTRAINT,
	   "the national ID an identity hash derives from cannot change");
	sqlite3_close(db);
	store_close(st);
	free_texts();
}

static void
test_refused(void)
{
	static const struct {
		enum damage d;
		const char *what;
	} cases[] = {
		{ SIGNATURE, "a signature that is not the one its hash was made with" },
		{ AWARDED, "an awarded date one second off" },
		{ TERM, "a term that is not the one signed" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char dir[700];
		struct store *st = NULL;

		snprintf(dir, sizeof(dir), "%s/bad%zu", tmp, k);
		if (make_v20(dir, cases[k].d)) {
			ok(0, "a damaged database");
			free_texts();
			continue;
		}
		diag(cases[k].what);
		ok(store_open(dir, &st) != 0, "migration 21 is refused");
		if (st)
			store_close(st);
		is_int(query_int(dir, "PRAGMA user_version"), 20, "the database stays at 20");
		is_int(query_int(dir, "SELECT count(*) FROM credentials WHERE uid IS NOT NULL"
				 " AND identity_hash IS NOT NULL AND salt IS NOT NULL"), NCRED,
		       "its credentials as they were");
		is_int(query_int(dir, "SELECT count(*) FROM pragma_table_info('credentials')"
				 " WHERE name IN ('term', 'awarded_at')"), 2, "in the old table");
		is_int(query_int(dir, "SELECT count(*) FROM sqlite_schema WHERE name IN"
				 " ('credential_terms', 'credentials_v21')") +
		       query_int(dir, "SELECT count(*) FROM meta WHERE key = 'credential_key'"), 0,
		       "nothing of migration 21 is left");
		free_texts();
	}
}

int
main(void)
{
	if (test_tmpdir_make(tmp, sizeof(tmp), "mig21") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	test_convert();
	test_refused();
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
