/*
 * credstore_test.c - tests for the compact credential store
 * (storage/credentials.h, migration 14) on real SQLite files in a mkdtemp
 * folder. Databases at schema 13 are made with signed credentials stored
 * as their JCS text, as tinchi stored them then (varied fields, unicode,
 * some revoked); opening them runs migration 14, after which every
 * credential read back is the stored text byte for byte. A row that does
 * not rebuild (a text not in JCS form, a member tinchi never writes, its
 * hash wrong, its key unknown) refuses the whole migration and leaves the
 * database at 13. Prints the bytes a credential takes before and after
 * (CRED_MEASURE=N credentials; 2000 by default).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "courses/credential.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/identity_hash.h"
#include "courses/jcs.h"
#include "storage/credentials.h"
#include "storage/keys.h"
#include "storage/sqlite_migrate.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

#define SMALL 40

static char tmp[512], keys[600];
static unsigned char pub[32];
static char did[CRED_DID_MAX], vm[DID_KEY_VM_MAX];

/* The texts made for the current database, by row (1-based ids). */
static char **texts;
static char (*uids)[CRED_UID_MAX + 1];
static int ntexts;

enum damage { NONE, NOT_CANONICAL, EXTRA_MEMBER, WRONG_HASH, UNKNOWN_KEY };

static int
sign_cb(void *arg, const void *msg, size_t n, unsigned char sig[64])
{
	(void)arg;
	return keys_sign(keys, "k1", msg, n, sig);
}

static char *
jcs_text(const json_t *v)
{
	struct dynbuf b;
	char *t = NULL;

	dynbuf_init(&b, 1 << 24);
	if (jcs_canonicalize(v, &b) == 0)
		t = dynbuf_take(&b, NULL);
	dynbuf_cleanup(&b);
	return t;
}

static const char *const names[] = {
	"Giải tích 1", "Lập trình C — nâng cao", "\"Trích dẫn\" \\ và /", "Emoji 😀 𝔘",
	"Vật lý đại cương", "日本語", "Tab\there", "Kinh tế vi mô",
};

static const struct credential_alignment framework = {
	"Vietnam national credit system (tín chỉ)", "https://moet.gov.vn",
	"Quy chế đào tạo trình độ đại học (Thông tư 08/2021/TT-BGDĐT)", "tin-chi",
	"1 tín chỉ (credit) = 50 giờ học tập định mức", "ext:CreditSystem",
};

/* Credential I as tinchi signed and stored it at schema 13: its JCS text
 * (returned, malloc'ed) and its uid. */
static char *
old_credential(int i, int64_t issued_at, char uid[CRED_UID_MAX + 1])
{
	struct credential_input in = { 0 };
	struct di_proof_options opt = { 0 };
	char valid[32], salt[IDENTITY_SALT_LEN + 1], ihash[IDENTITY_HASH_LEN + 1], nid[16];
	char code[16], ach[120], uuid[37], status[120];
	time_t t = (time_t)issued_at;
	struct tm tm;
	json_t *doc = NULL, *signed_doc = NULL;
	char *text = NULL;

	gmtime_r(&t, &tm);
	strftime(valid, sizeof(valid), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(nid, sizeof(nid), "%012d", 100000000 + i);
	if (uuid_v4(uuid) || identity_salt_new(salt) || identity_hash_make(nid, salt, ihash))
		return NULL;
	snprintf(uid, CRED_UID_MAX + 1, "urn:uuid:%s", uuid);
	snprintf(code, sizeof(code), "C%03d", i % 50);
	snprintf(ach, sizeof(ach), "https://tinchi.example.vn/api/v1/courses/%s", code);
	snprintf(status, sizeof(status),
		 "https://tinchi.example.vn/api/v1/institutions/VNU/status/revocation");
	in.id = uid;
	in.issuer_id = did;
	in.issuer_name = "Đại học Quốc gia Hà Nội";
	in.issuer_url = "https://vnu.example.vn";
	in.valid_from = valid;
	in.name = names[i % 50 % 8];
	in.identity_hash = ihash;
	in.salt = i % 9 == 4 ? "" : salt;
	in.credits_earned = (i % 50 % 4 + 1) * 1.5;
	in.credits_available = in.credits_earned;
	in.term = i % 11 == 3 ? NULL : "2024-2025 HK2";
	in.grade = i % 13 == 5 ? NULL : (i % 2 ? "8.5" : "10");
	in.achievement_id = ach;
	in.achievement_name = names[i % 50 % 8];
	in.achievement_description = names[(i % 50 + 2) % 8];
	in.criteria_narrative = "Completed the course and met its completion rules.";
	in.course_code = code;
	in.alignment = &framework;
	in.n_alignment = i % 3 ? 1 : 0;
	in.awarded_date = i % 5 == 1 ? "2025-06-20T00:00:00Z" : NULL;
	in.field_of_study = i % 7 == 2 ? "Toán học" : NULL;
	in.status_list_credential = status;
	in.status_list_index = (uint64_t)i * 7919u % 131072u;
	opt.verification_method = vm;
	opt.created = valid;
	opt.proof_array = 1;
	if (credential_build(&in, &doc) == 0 &&
	    di_add_proof(doc, &opt, sign_cb, NULL, &signed_doc) == 0)
		text = jcs_text(signed_doc);
	json_decref(doc);
	json_decref(signed_doc);
	return text;
}

static void
free_texts(void)
{
	for (int i = 0; i < ntexts; i++)
		free(texts[i]);
	free(texts);
	free(uids);
	texts = NULL;
	uids = NULL;
	ntexts = 0;
}

/* A database at schema 13 in DIR/tinchi.db with N credentials, the last
 * one damaged as DAMAGE says. 0 or -1. */
static int
make_v13(const char *dir, int n, enum damage damage)
{
	char path[700], hash[65];
	size_t n13 = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0;

	while (n13 < sqlite_migrations_count && sqlite_migrations[n13].version <= 13)
		n13++;
	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	if (store_prepare_dir(dir) || sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite_migrate(db, sqlite_migrations, n13))
		rc = -1;
	if (rc == 0 && sqlite3_exec(db,
		"BEGIN;"
		"INSERT INTO institutions (id, code, name, kind, website, created_at)"
		" VALUES (1, 'VNU', 'Đại học Quốc gia Hà Nội', 'university', 'https://vnu.example.vn', 0);"
		"INSERT INTO people (id, uid, national_id, nid_hmac, full_name, created_at, updated_at)"
		" VALUES (1, 'p1', '100000000001', 'h1', 'Học Viên', 0, 0);"
		"INSERT INTO courses (id, uid, institution_id, code, title, language, credits_x10, status,"
		" owner_id, created_at, updated_at) VALUES (1, 'c1', 1, 'C000', 'Giải tích 1', 'vi', 15,"
		" 'published', 1, 0, 0);", NULL, NULL, NULL) != SQLITE_OK)
		rc = -1;
	if (rc == 0 && (sqlite3_prepare_v2(db, "INSERT INTO institution_keys (id, institution_id,"
					   " file, pub, did, valid_from) VALUES (1, 1, 'k1', ?1, ?2, 0)",
					   -1, &st, NULL) != SQLITE_OK ||
			sqlite3_bind_blob(st, 1, pub, 32, SQLITE_STATIC) ||
			sqlite3_bind_text(st, 2, damage == UNKNOWN_KEY ? "did:key:z6MkOther" : did, -1,
					  SQLITE_STATIC) || sqlite3_step(st) != SQLITE_DONE))
		rc = -1;
	sqlite3_finalize(st);
	st = NULL;
	texts = calloc((size_t)n + 1, sizeof(*texts));
	uids = calloc((size_t)n + 1, sizeof(*uids));
	if (!texts || !uids)
		rc = -1;
	if (rc == 0 && sqlite3_prepare_v2(db, "INSERT INTO credentials (id, uid, institution_id,"
					  " course_id, person_id, status_index, json, hash, issued_at,"
					  " revoked_at, revoke_reason) VALUES (?1, ?2, 1, ?3, 1, ?4, ?5,"
					  " ?6, ?7, ?8, ?9)", -1, &st, NULL) != SQLITE_OK)
		rc = -1;
	for (int i = 0; rc == 0 && i < n; i++) {
		int64_t at = 1750000000 + (int64_t)i * 37;
		char *text = old_credential(i, at, uids[i]);

		texts[i] = text;
		ntexts = i + 1;
		if (!text) {
			rc = -1;
			break;
		}
		if (i == n - 1 && (damage == NOT_CANONICAL || damage == EXTRA_MEMBER)) {
			char *t = malloc(strlen(text) + 20);

			snprintf(t, strlen(text) + 20, "{%s%s", damage == NOT_CANONICAL ? " " :
				 "\"aaa\":1,", text + 1);
			free(text);
			texts[i] = text = t;
		}
		sha256_hex(text, strlen(text), hash);
		if (i == n - 1 && damage == WRONG_HASH)
			hash[0] = hash[0] == '0' ? '1' : '0';
		sqlite3_reset(st);
		if (sqlite3_bind_int64(st, 1, i + 1) ||
		    sqlite3_bind_text(st, 2, uids[i], -1, SQLITE_STATIC) ||
		    sqlite3_bind_int64(st, 3, 1) ||
		    sqlite3_bind_int64(st, 4, (int64_t)((uint64_t)i * 7919u % 131072u)) ||
		    sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC) ||
		    sqlite3_bind_text(st, 6, hash, -1, SQLITE_TRANSIENT) ||
		    sqlite3_bind_int64(st, 7, at) ||
		    sqlite3_bind_int64(st, 8, i % 10 == 7 ? at + 100 : 0) ||
		    sqlite3_bind_text(st, 9, i % 10 == 7 ? "Sai sót điểm — cấp lại" : "", -1,
				      SQLITE_STATIC) ||
		    sqlite3_step(st) != SQLITE_DONE)
			rc = -1;
	}
	sqlite3_finalize(st);
	if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = -1;
	sqlite3_close(db);
	return rc;
}

/* page_count * page_size of DIR/tinchi.db after VACUUM (the WAL folded in). */
static int64_t
db_bytes(const char *dir)
{
	char path[700];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t bytes = -1;

	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, "PRAGMA journal_mode=DELETE; VACUUM", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT page_count * page_size FROM pragma_page_count(),"
			       " pragma_page_size()", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		bytes = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return bytes;
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

struct seen {
	int n, same;
};

static int
count_each(const struct credential_rec *c, void *arg)
{
	struct seen *s = arg;

	s->n++;
	for (int i = 0; i < ntexts; i++)
		if (strcmp(uids[i], c->uid) == 0 && strcmp(texts[i], c->json) == 0)
			s->same++;
	return 0;
}

static void
test_convert(void)
{
	char dir[700], hash[65], uid[CRED_UID_MAX + 1];
	struct store *st = NULL;
	struct seen seen = { 0 };
	int same = 0, hashed = 0, revoked = 0, n = SMALL;

	snprintf(dir, sizeof(dir), "%s/good", tmp);
	if (make_v13(dir, n, NONE)) {
		ok(0, "a database at schema 13 with its credentials");
		free_texts();
		return;
	}
	is_int(store_open(dir, &st), 0, "opening it runs migration 14");
	is_int(user_version(dir) >= 14, 1, "the database is at 14 or later");
	for (int i = 0; st && i < n; i++) {
		struct credential_rec c = { 0 };

		if (store_credential_get(st, uids[i], &c) == 0) {
			same += c.json && strcmp(c.json, texts[i]) == 0;
			sha256_hex(texts[i], strlen(texts[i]), hash);
			hashed += strcmp(c.hash, hash) == 0 && c.id == i + 1;
			revoked += (i % 10 == 7) == (c.revoked_at != 0) &&
				   (c.revoked_at == 0 || strcmp(c.revoke_reason,
								"Sai sót điểm — cấp lại") == 0);
		}
		free(c.json);
	}
	is_int(same, n, "every credential read back is the stored text, byte for byte");
	is_int(hashed, n, "with its hash and id");
	is_int(revoked, n, "and its revocation");
	if (st)
		store_credentials_each(st, 1, count_each, &seen);
	ok(seen.n == n && seen.same == n, "store_credentials_each rebuilds them all too");
	ok(st && store_credential_find(st, 1, "C001", 1, "2024-2025 HK2", uid) == 0 &&
	   strcmp(uid, uids[1]) == 0, "store_credential_find by course code and term");
	ok(st && store_credential_find(st, 1, "C001", 1, "2023", uid) == TC_ENOTFOUND,
	   "another term is not found");
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
		{ NOT_CANONICAL, "a text that is not JCS (a space)" },
		{ EXTRA_MEMBER, "a member tinchi never writes (the rebuild loses it)" },
		{ WRONG_HASH, "a hash that is not the text's" },
		{ UNKNOWN_KEY, "an issuer that is not a key of its institution" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char dir[700], path[760];
		struct store *st = NULL;
		sqlite3 *db = NULL;
		sqlite3_stmt *q = NULL;
		int rows = -1;

		snprintf(dir, sizeof(dir), "%s/bad%zu", tmp, k);
		if (make_v13(dir, 5, cases[k].d)) {
			ok(0, "a damaged database");
			free_texts();
			continue;
		}
		diag(cases[k].what);
		ok(store_open(dir, &st) != 0, "migration 14 is refused");
		if (st)
			store_close(st);
		is_int(user_version(dir), 13, "the database stays at 13");
		snprintf(path, sizeof(path), "%s/tinchi.db", dir);
		if (sqlite3_open(path, &db) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, "SELECT count(*) FROM credentials WHERE json IS NOT NULL",
				       -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
			rows = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
		sqlite3_close(db);
		is_int(rows, 5, "with its credentials as they were");
		free_texts();
	}
}

/* DIR/tinchi.db with N credentials at 13, then migrated: its bytes before
 * and after (*BEFORE, *AFTER). 0 or -1. */
static int
sizes(const char *dir, int n, int64_t *before, int64_t *after)
{
	struct store *st = NULL;
	int rc = make_v13(dir, n, NONE);

	free_texts();
	*before = rc ? -1 : db_bytes(dir);
	if (rc == 0 && (rc = store_open(dir, &st)) == 0)
		store_close(st);
	*after = rc ? -1 : db_bytes(dir);
	return rc || *before < 0 || *after < 0 ? -1 : 0;
}

/* Bytes a credential takes at schema 13 (JCS text) and after migration 14:
 * page count * page size / credentials, and net of an empty database. */
static void
test_measure(void)
{
	const char *env = getenv("CRED_MEASURE");
	int n = env ? atoi(env) : 2000;
	char dir[700], dir0[700], line[400];
	int64_t before = 0, after = 0, before0 = 0, after0 = 0;

	snprintf(dir, sizeof(dir), "%s/measure", tmp);
	snprintf(dir0, sizeof(dir0), "%s/empty", tmp);
	if (n < 1 || sizes(dir0, 0, &before0, &after0) || sizes(dir, n, &before, &after)) {
		ok(0, "databases of credentials to measure");
		return;
	}
	snprintf(line, sizeof(line), "%d credentials: whole file %lld -> %lld bytes: %.0f bytes a"
		 " credential as JCS text (schema 13), %.0f as fields (14); net of an empty"
		 " database %.0f -> %.0f", n, (long long)before, (long long)after,
		 (double)before / n, (double)after / n, (double)(before - before0) / n,
		 (double)(after - after0) / n);
	diag(line);
	ok((after - after0) * 3 < before - before0, "stored as fields, a credential takes under"
	   " a third of its text's room");
}

int
main(void)
{
	char d[700];

	if (test_tmpdir_make(tmp, sizeof(tmp), "cred") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(keys, sizeof(keys), "%s/keys", tmp);
	snprintf(d, sizeof(d), "%s", keys);
	if (store_prepare_dir(d) || keys_generate(keys, "k1", pub) ||
	    did_key_from_ed25519(pub, did, sizeof(did)) ||
	    did_key_vm_from_ed25519(pub, vm, sizeof(vm))) {
		printf("Bail out! cannot make a signing key in %s\n", keys);
		return 1;
	}
	test_convert();
	test_refused();
	test_measure();
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
