/*
 * credentials_sqlite.c - the SQLite side of storage/credentials.h: issuing
 * (status index, credential row, outbox event) in one savepoint, reading
 * credentials back, and the status list bits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <jansson.h>

#include "courses/crypto.h"
#include "courses/credential.h"
#include "courses/credential_derive.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "courses/statuslist.h"
#include "courses/xapi.h"
#include "storage/credentials.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

static int
sq_next_k(struct store *s, int64_t institution_id, const char *purpose, int64_t *k)
{
	static const char op[] = "status list next";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT next_k FROM status_lists"
			       " WHERE institution_id = ?1 AND purpose = ?2", "it",
			       institution_id, purpose);

	*k = 0;
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		*k = sqlu_col_int(st, 0);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

/* ---- the compact row ------------------------------------------------------------ */

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* N bytes from 2N lower-case hex digits at HEX (exactly: nothing after). */
static int
hex_bytes(const char *hex, unsigned char *out, size_t n)
{
	if (!hex || strlen(hex) != 2 * n)
		return TC_EINVALID;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return TC_EINVALID;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
bytes_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* "urn:uuid:" + a lower-case UUID <-> its 16 bytes. */
static int
uid_bytes(const char *uid, unsigned char out[16])
{
	char hex[33];
	size_t n = 0;

	if (!uid || strlen(uid) != CRED_UID_MAX || strncmp(uid, "urn:uuid:", 9) != 0)
		return TC_EINVALID;
	for (const char *p = uid + 9; *p; p++) {
		size_t at = (size_t)(p - uid - 9);

		if (at == 8 || at == 13 || at == 18 || at == 23) {
			if (*p != '-')
				return TC_EINVALID;
		} else if (n < 32) {
			hex[n++] = *p;
		}
	}
	hex[n] = '\0';
	return hex_bytes(hex, out, 16);
}

void
sqlite_credential_uid_text(const unsigned char in[16], char out[CRED_UID_MAX + 1])
{
	char hex[33];

	bytes_hex(in, 16, hex);
	snprintf(out, CRED_UID_MAX + 1, "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		 hex + 12, hex + 16, hex + 20);
}

/* A grade in hundredths as tinchi writes it (server/issuing.c
 * issuing_grade_text): "8", "8.5", "8.25". */
static void
grade_text(int64_t x100, char out[CRED_GRADE_MAX + 1])
{
	unsigned whole = (unsigned)(x100 / 100) % 1000000u, frac = (unsigned)(x100 % 100) % 100u;

	if (x100 < 0 || x100 >= 100000000)
		snprintf(out, CRED_GRADE_MAX + 1, "?");	/* never stored */
	else if (frac == 0)
		snprintf(out, CRED_GRADE_MAX + 1, "%u", whole);
	else if (frac % 10 == 0)
		snprintf(out, CRED_GRADE_MAX + 1, "%u.%u", whole, frac / 10);
	else
		snprintf(out, CRED_GRADE_MAX + 1, "%u.%02u", whole, frac);
}

/* 1 and *X100 when GRADE is a grade grade_text writes back the same
 * (migration 21 stores it as that integer: 2 bytes instead of 3–4). */
static int
grade_code(const char *grade, int64_t *x100)
{
	char again[CRED_GRADE_MAX + 1];
	int64_t whole = 0, frac = 0;
	int nf = 0;
	const char *p = grade;

	if (!*p)
		return 0;
	for (; *p >= '0' && *p <= '9' && whole < 1000000; p++)
		whole = whole * 10 + (*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && nf < 3; p++, nf++)
			frac = frac * 10 + (*p - '0');
	if (*p || nf > 2 || whole >= 1000000)
		return 0;
	*x100 = whole * 100 + (nf == 1 ? frac * 10 : frac);
	grade_text(*x100, again);
	return strcmp(again, grade) == 0;
}

/* The blob columns of a credential row, from its text fields. */
struct cred_blobs {
	unsigned char uid[16], hash[32], ihash[32], salt[IDENTITY_SALT_LEN / 2];
	size_t salt_len;
};

static int
to_blobs(const struct credential_rec *c, struct cred_blobs *b)
{
	size_t sl = strlen(c->salt);

	b->salt_len = sl / 2;
	if (uid_bytes(c->uid, b->uid) || hex_bytes(c->hash, b->hash, 32) ||
	    strncmp(c->identity_hash, "sha256$", 7) != 0 ||
	    hex_bytes(c->identity_hash + 7, b->ihash, 32) || sl % 2 ||
	    sl > IDENTITY_SALT_LEN || (sl && hex_bytes(c->salt, b->salt, sl / 2)))
		return TC_EINVALID;
	return 0;
}

/* sqlu_fail for a bare connection (the migration has no store). */
static int
db_fail(sqlite3 *db, int src, const char *op)
{
	switch (src) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return TC_ECONFLICT;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return TC_ENOTFOUND;
	}
	log_err("%s: %s (%d)", op, sqlite3_errmsg(db), src);
	return (src & 0xff) == SQLITE_BUSY ? TC_EBUSY : TC_EDB;
}

static int
db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *op)
{
	int src = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	return src == SQLITE_OK ? 0 : db_fail(db, src, op);
}

/* ---- derived fields (migration 21): SQL functions on each connection ---------------- */

/* The database's credential key (meta 'credential_key', 64 hex digits)
 * into KEY. 0, TC_ENOTFOUND (before migration 21), TC_EDB. */
static int
db_credential_key(sqlite3 *db, unsigned char key[CREDENTIAL_KEY_LEN])
{
	sqlite3_stmt *st = NULL;
	int rc = TC_EDB;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'credential_key'", -1, &st,
			       NULL) != SQLITE_OK)
		rc = TC_EDB;
	else if (sqlite3_step(st) != SQLITE_ROW)
		rc = TC_ENOTFOUND;
	else
		rc = hex_bytes((const char *)sqlite3_column_text(st, 0), key, CREDENTIAL_KEY_LEN) ?
		     TC_EDB : 0;
	sqlite3_finalize(st);
	return rc;
}

struct cred_fn {
	sqlite3 *db;
	int loaded;
	unsigned char key[CREDENTIAL_KEY_LEN];
	/* the last value derived (a row's read asks for its uid three times
	 * and its salt twice): its inputs and its bytes */
	int memo;
	int64_t m_inst, m_index;
	unsigned char m_in[16], m_out[16];
};

static void
cred_fn_free(void *p)
{
	struct cred_fn *f = p;

	if (f)
		memset(f->key, 0, sizeof(f->key));
	free(f);
}

/* The key, read once per connection; on failure the call's error is set. */
static const unsigned char *
fn_key(sqlite3_context *ctx)
{
	struct cred_fn *f = sqlite3_user_data(ctx);

	if (!f->loaded && db_credential_key(f->db, f->key) == 0)
		f->loaded = 1;
	if (!f->loaded)
		sqlite3_result_error(ctx, "the database has no credential key", -1);
	return f->loaded ? f->key : NULL;
}

/* tc_cred_uid(UID, INSTITUTION_ID, STATUS_INDEX): UID when stored, else the
 * derived uid (NULL when the pair has none). */
static void
fn_uid(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct cred_fn *f = sqlite3_user_data(ctx);
	int64_t inst = sqlite3_value_int64(argv[1]), index = sqlite3_value_int64(argv[2]);
	const unsigned char *key;
	unsigned char uid[16];
	int rc;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	if (!(key = fn_key(ctx)))
		return;
	if (f->memo && f->m_inst == inst && f->m_index == index) {
		sqlite3_result_blob(ctx, f->m_out, 16, SQLITE_TRANSIENT);
		return;
	}
	rc = credential_uid_derive(key, inst, index, uid);
	if (rc == 0) {
		f->memo = 1;
		f->m_inst = inst;
		f->m_index = index;
		memcpy(f->m_out, uid, 16);
		sqlite3_result_blob(ctx, uid, 16, SQLITE_TRANSIENT);
	}
	else if (rc == TC_EINVALID)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_error(ctx, "credential uid: OpenSSL failed", -1);
}

/* tc_cred_salt(SALT, UID): SALT when stored, else the salt derived from
 * the 16-byte UID. */
static void
fn_salt(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct cred_fn *f = sqlite3_user_data(ctx);
	const unsigned char *key;
	unsigned char salt[16];

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	if (sqlite3_value_type(argv[1]) != SQLITE_BLOB || sqlite3_value_bytes(argv[1]) != 16) {
		sqlite3_result_null(ctx);
		return;
	}
	if (!(key = fn_key(ctx)))
		return;
	if (f->memo && memcmp(f->m_in, sqlite3_value_blob(argv[1]), 16) == 0) {
		sqlite3_result_blob(ctx, f->m_out, 16, SQLITE_TRANSIENT);
	} else if (credential_salt_derive(key, sqlite3_value_blob(argv[1]), salt)) {
		sqlite3_result_error(ctx, "credential salt: OpenSSL failed", -1);
	} else {
		f->memo = 1;
		memcpy(f->m_in, sqlite3_value_blob(argv[1]), 16);
		memcpy(f->m_out, salt, 16);
		sqlite3_result_blob(ctx, salt, 16, SQLITE_TRANSIENT);
	}
}

/* tc_cred_ihash(HASH, NATIONAL_ID, SALT): HASH when stored, else the 32
 * bytes of identity_hash_make(NATIONAL_ID, hex SALT) (NULL when there is
 * no national ID or it makes no hash). */
static void
fn_ihash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char salt[IDENTITY_SALT_LEN + 1], hash[IDENTITY_HASH_LEN + 1];
	unsigned char out[32];
	const char *nid = (const char *)sqlite3_value_text(argv[1]);
	size_t sl = (size_t)sqlite3_value_bytes(argv[2]);

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	if (!nid || sqlite3_value_type(argv[2]) != SQLITE_BLOB || sl > IDENTITY_SALT_LEN / 2) {
		sqlite3_result_null(ctx);
		return;
	}
	bytes_hex(sqlite3_value_blob(argv[2]), sl, salt);
	if (identity_hash_make(nid, salt, hash) || hex_bytes(hash + 7, out, 32))
		sqlite3_result_null(ctx);
	else
		sqlite3_result_blob(ctx, out, 32, SQLITE_TRANSIENT);
}

int
sqlite_credential_functions(sqlite3 *db)
{
	static const struct {
		const char *name;
		int argc;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} fns[] = {
		{ "tc_cred_uid", 3, fn_uid },
		{ "tc_cred_salt", 2, fn_salt },
		{ "tc_cred_ihash", 3, fn_ihash },
	};

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		struct cred_fn *f = calloc(1, sizeof(*f));

		if (!f)
			return TC_ENOMEM;
		f->db = db;
		/* xDestroy frees F, also when the call fails */
		if (sqlite3_create_function_v2(db, fns[i].name, fns[i].argc,
					       SQLITE_UTF8 | SQLITE_DETERMINISTIC, f, fns[i].fn, NULL,
					       NULL, cred_fn_free) != SQLITE_OK)
			return db_fail(db, sqlite3_errcode(db), "credential functions");
	}
	return 0;
}

/* Blob N bytes at P as parameter I (SQLITE_STATIC). */
static int
bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	return sqlite3_bind_blob(st, i, n ? p : "", (int)n, SQLITE_STATIC);
}

/* SQL as a statement: from S's statement cache when S is not NULL (the
 * issuing path; hand it back with stmt_done), else prepared for this call
 * on DB (the migration, which has no store). */
static int
stmt_get(struct store *s, sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *op)
{
	return s ? sqlu_cachedf(s, op, st, sql, "") : db_prepare(db, sql, st, op);
}

static void
stmt_done(struct store *s, sqlite3_stmt *st)
{
	if (s)
		sqlu_release(s, st);
	else
		sqlite3_finalize(st);
}

/* The credential_achievements row of C->shared (added when new) into *ID. */
static int
shared_id(struct store *s, sqlite3 *db, const struct credential_rec *c, int64_t *id)
{
	static const char op[] = "credential achievement";
	unsigned char digest[32];
	sqlite3_stmt *st = NULL;
	int rc, src = SQLITE_OK;

	sha256_raw(c->shared, strlen(c->shared), digest);
	for (int tries = 0; tries < 2; tries++) {
		/* mostly there already: one look-up, the insert only when new */
		rc = stmt_get(s, db, "SELECT id FROM credential_achievements"
			      " WHERE institution_id = ?1 AND digest = ?2", &st, op);
		if (rc == 0 && ((src = sqlite3_bind_int64(st, 1, c->institution_id)) ||
				(src = bind_blob(st, 2, digest, 32)) ||
				((src = sqlite3_step(st)) != SQLITE_ROW && src != SQLITE_DONE)))
			rc = db_fail(db, src, op);
		if (rc == 0 && src == SQLITE_ROW)
			*id = sqlite3_column_int64(st, 0);
		stmt_done(s, st);
		st = NULL;
		if (rc || src == SQLITE_ROW)
			return rc;
		rc = stmt_get(s, db, "INSERT INTO credential_achievements (institution_id, code,"
			      " digest, fields) VALUES (?1, ifnull(json_extract(?3, '$.code'), ''),"
			      " ?2, ?3) ON CONFLICT (institution_id, digest) DO NOTHING", &st, op);
		if (rc == 0 && ((src = sqlite3_bind_int64(st, 1, c->institution_id)) ||
				(src = bind_blob(st, 2, digest, 32)) ||
				(src = sqlite3_bind_text(st, 3, c->shared, -1, SQLITE_STATIC)) ||
				(src = sqlite3_step(st)) != SQLITE_DONE))
			rc = db_fail(db, src, op);
		stmt_done(s, st);
		st = NULL;
		if (rc)
			return rc;
	}
	return db_fail(db, SQLITE_ERROR, op);	/* inserted, yet not found */
}

/* The credential_terms row of TERM (added when new) into *ID. */
static int
term_id(struct store *s, sqlite3 *db, const char *term, int64_t *id)
{
	static const char op[] = "credential term";
	sqlite3_stmt *st = NULL;
	int rc, src = SQLITE_OK;

	for (int tries = 0; tries < 2; tries++) {
		rc = stmt_get(s, db, "SELECT id FROM credential_terms WHERE term = ?1", &st, op);
		if (rc == 0 && ((src = sqlite3_bind_text(st, 1, term, -1, SQLITE_STATIC)) ||
				((src = sqlite3_step(st)) != SQLITE_ROW && src != SQLITE_DONE)))
			rc = db_fail(db, src, op);
		if (rc == 0 && src == SQLITE_ROW)
			*id = sqlite3_column_int64(st, 0);
		stmt_done(s, st);
		st = NULL;
		if (rc || src == SQLITE_ROW)
			return rc;
		rc = stmt_get(s, db, "INSERT INTO credential_terms (term) VALUES (?1)"
			      " ON CONFLICT (term) DO NOTHING", &st, op);
		if (rc == 0 && ((src = sqlite3_bind_text(st, 1, term, -1, SQLITE_STATIC)) ||
				(src = sqlite3_step(st)) != SQLITE_DONE))
			rc = db_fail(db, src, op);
		stmt_done(s, st);
		st = NULL;
		if (rc)
			return rc;
	}
	return db_fail(db, SQLITE_ERROR, op);	/* inserted, yet not found */
}

/*
 * Inserts the row of C (its shared fields at ACHIEVEMENT_ID; C->id set).
 * What the credential key derives is stored as NULL (migration 21): the
 * uid when it is the one of (institution, status index), the salt when it
 * is the uid's, the identity hash when it is the person's national ID
 * with that salt; anything else is kept as given.
 */
static int
insert_row(struct store *s, sqlite3 *db, struct credential_rec *c, int64_t achievement_id)
{
	static const char op[] = "credential insert";
	static const char sql[] = "INSERT INTO credentials (uid, institution_id, course_id,"
		" person_id, achievement_id, key_id, status_index, hash, issued_at, awarded_ago,"
		" identity_hash, salt, credits_earned, term_id, grade, signature, revoked_at,"
		" revoke_reason) VALUES (CASE WHEN ?1 IS tc_cred_uid(NULL, ?2, ?7) THEN NULL"
		" ELSE ?1 END, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9 - ?10,"
		" CASE WHEN ?11 IS tc_cred_ihash(NULL, (SELECT national_id FROM people"
		" WHERE id = ?4), ?12) THEN NULL ELSE ?11 END,"
		" CASE WHEN ?12 IS tc_cred_salt(NULL, ?1) THEN NULL ELSE ?12 END,"
		" ?13, ?14, ?15, ?16, ?17, ?18)";
	struct cred_blobs b;
	sqlite3_stmt *st = NULL;
	int64_t term = 0, grade = 0;
	int rc = to_blobs(c, &b), src, coded = grade_code(c->grade, &grade);

	if (rc == 0 && c->term[0])
		rc = term_id(s, db, c->term, &term);
	if (rc == 0)
		rc = stmt_get(s, db, sql, &st, op);
	if (rc == 0 && ((src = bind_blob(st, 1, b.uid, 16)) ||
			(src = sqlite3_bind_int64(st, 2, c->institution_id)) ||
			(src = c->course_id ? sqlite3_bind_int64(st, 3, c->course_id) :
			 sqlite3_bind_null(st, 3)) ||
			(src = sqlite3_bind_int64(st, 4, c->person_id)) ||
			(src = sqlite3_bind_int64(st, 5, achievement_id)) ||
			(src = sqlite3_bind_int64(st, 6, c->key_id)) ||
			(src = sqlite3_bind_int64(st, 7, c->status_index)) ||
			(src = bind_blob(st, 8, b.hash, 32)) ||
			(src = sqlite3_bind_int64(st, 9, c->issued_at)) ||
			(src = c->awarded ? sqlite3_bind_int64(st, 10, c->awarded_at) :
			 sqlite3_bind_null(st, 10)) ||
			(src = bind_blob(st, 11, b.ihash, 32)) ||
			(src = bind_blob(st, 12, b.salt, b.salt_len)) ||
			(src = sqlite3_bind_double(st, 13, c->credits_earned)) ||
			(src = term ? sqlite3_bind_int64(st, 14, term) : sqlite3_bind_null(st, 14)) ||
			(src = !c->grade[0] ? sqlite3_bind_null(st, 15) : coded ?
			 sqlite3_bind_int64(st, 15, grade) :
			 sqlite3_bind_text(st, 15, c->grade, -1, SQLITE_STATIC)) ||
			(src = bind_blob(st, 16, c->signature, 64)) ||
			(src = sqlite3_bind_int64(st, 17, c->revoked_at)) ||
			(src = sqlite3_bind_text(st, 18, c->revoke_reason, -1, SQLITE_STATIC)) ||
			(src = sqlite3_step(st)) != SQLITE_DONE))
		rc = db_fail(db, src, op);
	if (rc == 0)
		c->id = (int64_t)sqlite3_last_insert_rowid(db);
	stmt_done(s, st);
	return rc;
}

/* The segment of status list entry INDEX (courses/statuslist.h). */
#define SEGMENT_BITS ((int64_t)STATUSLIST_SEGMENT_BITS)

/* The list grows to hold INDEX: its segment's row (all zero) is added when
 * absent, and a new segment past the first bumps bits_rev (the published
 * list is longer now). One primary key probe when it is there. */
static int
segment_add(struct store *s, int64_t inst, const char *purpose, int64_t index, int64_t when,
	    const char *op)
{
	int64_t seg = index / SEGMENT_BITS;
	int rc;

	if (index < 0 || index >= (int64_t)STATUSLIST_MAX_BITS)
		return TC_EINVALID;
	rc = sqlu_execf(s, op, "INSERT INTO status_list_segments (institution_id, purpose,"
			" segment, bits) VALUES (?1, ?2, ?3, zeroblob(?4))"
			" ON CONFLICT (institution_id, purpose, segment) DO NOTHING", "itii",
			inst, purpose, seg, SEGMENT_BITS / 8);
	if (rc == 0 && seg > 0 && sqlu_changed_one(s) == 0)
		rc = sqlu_execf(s, op, "UPDATE status_lists SET bits_rev = bits_rev + 1,"
				" updated_at = ?3 WHERE institution_id = ?1 AND purpose = ?2",
				"iti", inst, purpose, when);
	return rc;
}

/* The number of segments of INST's PURPOSE list (the highest + 1; 0 when
 * it has none). */
static int
segment_count(struct store *s, int64_t inst, const char *purpose, int64_t *n, const char *op)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT max(segment) + 1 FROM status_list_segments"
			      " WHERE institution_id = ?1 AND purpose = ?2", "it", inst, purpose);

	*n = 0;
	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0)
		*n = sqlu_col_int(st, 0);	/* NULL: 0 */
	sqlu_release(s, st);
	return rc;
}

static int
issue_steps(struct store *s, struct credential_rec *c, const char *purpose, int64_t k,
	    int64_t event_id)
{
	static const char op[] = "credential issue";
	static const char take[] = "UPDATE status_lists SET next_k = next_k + 1,"
				   " updated_at = ?4 WHERE institution_id = ?1 AND purpose = ?2"
				   " AND next_k = ?3";
	int64_t ach = 0;
	int rc = sqlu_execf(s, op, take, "itii", c->institution_id, purpose, k, c->issued_at);

	/* the institution's first credential: its list is made first */
	if (rc == 0 && sqlu_changed_one(s)) {
		rc = sqlu_execf(s, op, "INSERT INTO status_lists (institution_id, purpose, bits,"
				" next_k, updated_at) VALUES (?1, ?2, x'', 0, ?3)"
				" ON CONFLICT (institution_id, purpose) DO NOTHING", "iti",
				c->institution_id, purpose, c->issued_at);
		if (rc == 0)
			rc = sqlu_execf(s, op, take, "itii", c->institution_id, purpose, k,
					c->issued_at);
		if (rc == 0 && sqlu_changed_one(s))
			rc = TC_ECONFLICT;
	}
	if (rc == 0)
		rc = segment_add(s, c->institution_id, purpose, c->status_index, c->issued_at, op);
	if (rc == 0)
		rc = shared_id(s, store_sqlite_db(s), c, &ach);
	if (rc == 0)
		rc = insert_row(s, store_sqlite_db(s), c, ach);
	if (rc == 0 && event_id) {
		/* a waiting event, or a declined one approved after all */
		rc = sqlu_execf(s, op, "UPDATE outbox SET consumed_at = ?1, payload = CASE"
				" WHEN consumed_at IS NULL THEN payload"
				" ELSE json_remove(payload, '$.declined') END WHERE id = ?2"
				" AND (consumed_at IS NULL"
				" OR json_extract(payload, '$.declined') IS NOT NULL)", "ii",
				c->issued_at, event_id);
		if (rc == 0)
			rc = sqlu_changed_one(s);
	}
	return rc;
}

struct issue {
	struct credential_rec *c;
	const char *purpose;
	int64_t k, event_id;
};

static int
issue_in(struct store *s, void *arg)
{
	struct issue *a = arg;

	return issue_steps(s, a->c, a->purpose, a->k, a->event_id);
}

static int
sq_issue(struct store *s, struct credential_rec *c, const char *purpose, int64_t k,
	 int64_t event_id)
{
	struct issue a = { c, purpose, k, event_id };

	return sqlu_savepoint(s, "credential issue", "credential_issue", issue_in, &a);
}

/* Blob column COL of exactly N bytes into OUT (N 0: any length up to MAX,
 * *GOT set). TC_EDB when it is not. */
static int
col_blob(sqlite3_stmt *st, int col, unsigned char *out, size_t n, size_t max, size_t *got)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

	if ((n && len != n) || (!n && len > max) || (len && !p))
		return TC_EDB;
	if (len)
		memcpy(out, p, len);
	if (got)
		*got = len;
	return 0;
}

/* Reads a row of CREDENTIAL_SELECT (storage/store_sqlite.h). */
int
sqlite_credential_read(sqlite3_stmt *st, struct credential_rec *out)
{
	unsigned char uid[16], hash[32], ihash[32], salt[IDENTITY_SALT_LEN / 2];
	size_t salt_len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = sqlu_col_int(st, 0);
	out->institution_id = sqlu_col_int(st, 2);
	out->course_id = sqlu_col_int(st, 3);
	out->person_id = sqlu_col_int(st, 4);
	out->status_index = sqlu_col_int(st, 5);
	out->issued_at = sqlu_col_int(st, 7);
	out->revoked_at = sqlu_col_int(st, 8);
	out->key_id = sqlu_col_int(st, 11);
	out->credits_earned = sqlite3_column_double(st, 15);
	out->awarded = sqlite3_column_type(st, 18) != SQLITE_NULL;
	out->awarded_at = sqlu_col_int(st, 18);
	if ((rc = col_blob(st, 1, uid, 16, 0, NULL)) || (rc = col_blob(st, 6, hash, 32, 0, NULL)) ||
	    (rc = col_blob(st, 13, ihash, 32, 0, NULL)) ||
	    (rc = col_blob(st, 14, salt, 0, sizeof(salt), &salt_len)) ||
	    (rc = col_blob(st, 19, out->signature, 64, 0, NULL)))
		return rc;
	sqlite_credential_uid_text(uid, out->uid);
	bytes_hex(hash, 32, out->hash);
	memcpy(out->identity_hash, "sha256$", 7);
	bytes_hex(ihash, 32, out->identity_hash + 7);
	bytes_hex(salt, salt_len, out->salt);
	if ((rc = sqlu_col_text(st, 9, out->revoke_reason, sizeof(out->revoke_reason))) ||
	    (rc = sqlu_col_text(st, 12, out->issuer_did, sizeof(out->issuer_did))) ||
	    (rc = sqlu_col_text(st, 16, out->term, sizeof(out->term))))
		return rc;
	if (sqlite3_column_type(st, 17) == SQLITE_INTEGER)
		grade_text(sqlite3_column_int64(st, 17), out->grade);
	else if ((rc = sqlu_col_text(st, 17, out->grade, sizeof(out->grade))))
		return rc;
	rc = sqlu_col_dup(st, 10, &out->shared);
	return rc == 0 && !out->shared ? TC_EDB : rc;
}

/* The row of CREDENTIAL_SELECT + WHERE with parameters ?1 (blob U or
 * integer A) and ?2 (integer B) into OUT. */
static int
get_where(struct store *s, const char *where, const unsigned char *u, int64_t a, int64_t b,
	  struct credential_rec *out)
{
	static const char op[] = "credential get";
	char sql[sizeof(CREDENTIAL_SELECT) + 200];
	sqlite3_stmt *st = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "%s%s", CREDENTIAL_SELECT, where);
	rc = sqlu_cachedf(s, op, &st, sql, "");
	if (rc == 0 && (u ? bind_blob(st, 1, u, 16) : sqlite3_bind_int64(st, 1, a) ||
			sqlite3_bind_int64(st, 2, b)))
		rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && (rc = sqlite_credential_read(st, out))) {
		free(out->shared);
		out->shared = NULL;
	}
	sqlu_release(s, st);
	return rc;
}

/* A stored uid (a credential issued before migration 21) first; else the
 * (institution, status index) the uid derives from, of a row whose uid is
 * derived. */
static int
sq_get(struct store *s, const char *uid, struct credential_rec *out)
{
	unsigned char u[16], key[CREDENTIAL_KEY_LEN];
	int64_t inst = 0, index = 0;
	int rc;

	if (uid_bytes(uid, u))
		return TC_ENOTFOUND;
	rc = get_where(s, " WHERE c.uid = ?1", u, 0, 0, out);
	if (rc != TC_ENOTFOUND)
		return rc;
	if ((rc = db_credential_key(store_sqlite_db(s), key)) == 0)
		rc = credential_uid_locate(key, u, &inst, &index);
	memset(key, 0, sizeof(key));
	if (rc == 0)
		rc = get_where(s, " WHERE c.institution_id = ?1 AND c.status_index = ?2"
			       " AND c.uid IS NULL", NULL, inst, index, out);
	return rc;
}

static int
sq_key(struct store *s, unsigned char key[32])
{
	static const char op[] = "credential key";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT value FROM meta WHERE key = 'credential_key'",
			      "");

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && hex_bytes((const char *)sqlite3_column_text(st, 0), key, 32))
		rc = TC_EDB;
	sqlu_release(s, st);
	return rc;
}

static int
sq_each(struct store *s, int64_t person_id,
	int (*cb)(const struct credential_rec *c, void *arg), void *arg)
{
	static const char op[] = "credentials each";
	struct credential_rec c;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, CREDENTIAL_SELECT " WHERE c.person_id = ?1"
			       " ORDER BY c.id DESC", "i", person_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		rc = sqlite_credential_read(st, &c);
		if (rc == 0)
			rc = cb(&c, arg);
		free(c.shared);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_all_each(struct store *s, int (*cb)(const struct credential_rec *c, void *arg), void *arg)
{
	static const char op[] = "credentials all";
	struct credential_rec c;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, CREDENTIAL_SELECT " ORDER BY c.id", "");

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		rc = sqlite_credential_read(st, &c);
		if (rc == 0)
			rc = cb(&c, arg);
		free(c.shared);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_status_bit(struct store *s, int64_t institution_id, const char *purpose, int64_t index,
	      int *bit)
{
	static const char op[] = "status list bit";
	sqlite3_stmt *st = NULL;
	int64_t nseg = 0;
	int rc;

	*bit = 0;
	if (index < 0)
		return TC_EINVALID;
	rc = sqlu_preparef(s, op, &st, "SELECT length(bits), substr(bits, ?4 + 1, 1)"
			   " FROM status_list_segments WHERE institution_id = ?1 AND purpose = ?2"
			   " AND segment = ?3", "itii", institution_id, purpose,
			   index / SEGMENT_BITS, index % SEGMENT_BITS / 8);
	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == TC_ENOTFOUND) {
		/* no such segment: all zero within the list (at least one) */
		rc = segment_count(s, institution_id, purpose, &nseg, op);
		if (rc == 0 && index >= (nseg > 1 ? nseg : 1) * SEGMENT_BITS)
			rc = TC_EINVALID;
	} else if (rc == 0) {
		const unsigned char *b = sqlite3_column_blob(st, 1);

		if (index % SEGMENT_BITS / 8 >= sqlu_col_int(st, 0) || !b ||
		    sqlite3_column_bytes(st, 1) != 1)
			rc = TC_EINVALID;
		else
			*bit = (b[0] >> (7 - index % 8)) & 1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_issue_mode(struct store *s, int64_t course_id, char out[16])
{
	static const char op[] = "course issue mode";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT credential_issue FROM courses WHERE id = ?1",
			       "i", course_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = sqlu_col_text(st, 0, out, 16);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_set_issue_mode(struct store *s, int64_t course_id, const char *mode)
{
	static const char op[] = "course set issue mode";
	int rc = sqlu_execf(s, op, "UPDATE courses SET credential_issue = ?2 WHERE id = ?1",
			    "it", course_id, mode);

	if (rc == 0 && sqlite3_changes(store_sqlite_db(s)) == 0)
		rc = TC_ENOTFOUND;
	return rc;
}

static int
sq_waiting_each(struct store *s, int64_t course_id,
		int (*cb)(const struct credential_waiting *w, void *arg), void *arg)
{
	static const char op[] = "credentials waiting";
	struct credential_waiting w;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT o.id, o.person_id, p.uid, p.full_name,"
			       " c.grade_hundredths, c.letter, c.completed_at,"
			       " CASE WHEN o.consumed_at IS NULL THEN 0"
			       " ELSE coalesce(json_extract(o.payload, '$.declined.at'), 0) END,"
			       " coalesce(d.uid, ''),"
			       " coalesce(json_extract(o.payload, '$.declined.reason'), ''), o.payload"
			       " FROM outbox o JOIN completions c ON c.course_id = o.course_id"
			       " AND c.person_id = o.person_id JOIN people p ON p.id = o.person_id"
			       " LEFT JOIN people d ON o.consumed_at IS NOT NULL"
			       " AND d.id = json_extract(o.payload, '$.declined.by')"
			       " WHERE o.kind = 'course.completed' AND o.course_id = ?1"
			       " AND json_extract(o.payload, '$.passed') = 1 AND (o.consumed_at IS NULL"
			       " OR json_extract(o.payload, '$.declined') IS NOT NULL) ORDER BY o.id",
			       "i", course_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		memset(&w, 0, sizeof(w));
		w.event_id = sqlu_col_int(st, 0);
		w.course_id = course_id;
		w.person_id = sqlu_col_int(st, 1);
		w.grade_x100 = (int)sqlu_col_int(st, 4);
		w.completed_at = sqlu_col_int(st, 6);
		w.declined_at = sqlu_col_int(st, 7);
		w.payload = (const char *)sqlite3_column_text(st, 10);
		if (!w.payload)
			rc = TC_ENOMEM;
		if (rc == 0 && ((rc = sqlu_col_text(st, 2, w.person_uid, sizeof(w.person_uid))) ||
				(rc = sqlu_col_text(st, 3, w.full_name, sizeof(w.full_name))) ||
				(rc = sqlu_col_text(st, 5, w.letter, sizeof(w.letter))) ||
				(rc = sqlu_col_text(st, 8, w.declined_by, sizeof(w.declined_by))) ||
				(rc = sqlu_col_text(st, 9, w.decline_reason,
						    sizeof(w.decline_reason)))))
			break;
		if (rc == 0)
			rc = cb(&w, arg);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_decline(struct store *s, int64_t event_id, int64_t by, const char *reason, int64_t now)
{
	int rc = sqlu_execf(s, "credential decline", "UPDATE outbox SET consumed_at = ?2,"
			    " payload = json_set(payload, '$.declined', json_object('by', ?3,"
			    " 'at', ?2, 'reason', ?4)) WHERE id = ?1 AND kind = 'course.completed'"
			    " AND consumed_at IS NULL AND json_extract(payload, '$.passed') = 1",
			    "iiit", event_id, now, by, reason);

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_find(struct store *s, int64_t institution_id, const char *code, int64_t person_id,
	const char *term, char uid[CRED_UID_MAX + 1])
{
	static const char op[] = "credential find";
	unsigned char u[16];
	sqlite3_stmt *st = NULL;
	/* credentials_by_person narrows it to one learner's few rows */
	int rc = sqlu_preparef(s, op, &st, "SELECT " CREDENTIAL_UID_SQL("c")
			       " FROM credentials c"
			       " JOIN credential_achievements a ON a.id = c.achievement_id"
			       " JOIN credential_terms t ON t.id = c.term_id"
			       " WHERE c.person_id = ?1 AND a.institution_id = ?2 AND a.code = ?3"
			       " AND t.term = ?4 AND c.revoked_at = 0 ORDER BY c.id LIMIT 1",
			       "iitt", person_id, institution_id, code, term);

	uid[0] = '\0';
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && (rc = col_blob(st, 0, u, 16, 0, NULL)) == 0)
		sqlite_credential_uid_text(u, uid);
	sqlite3_finalize(st);
	return rc;
}

/* Sets bit INDEX of the segment in row ROWID of status_list_segments
 * (incremental blob I/O: one byte read and written, not the whole list). */
static int
set_bit(struct store *s, int64_t rowid, int64_t index, const char *op)
{
	sqlite3 *db = store_sqlite_db(s);
	sqlite3_blob *blob = NULL;
	unsigned char byte;
	int rc = sqlite3_blob_open(db, "main", "status_list_segments", "bits", rowid, 1, &blob);

	if (rc == SQLITE_OK && index / 8 >= sqlite3_blob_bytes(blob)) {
		sqlite3_blob_close(blob);
		return TC_EINVALID;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_blob_read(blob, &byte, 1, (int)(index / 8));
	if (rc == SQLITE_OK) {
		byte |= (unsigned char)(0x80u >> (index % 8));
		rc = sqlite3_blob_write(blob, &byte, 1, (int)(index / 8));
	}
	if (blob && sqlite3_blob_close(blob) != SQLITE_OK && rc == SQLITE_OK)
		rc = SQLITE_ERROR;
	return rc == SQLITE_OK ? 0 : sqlu_fail(s, rc, op);
}

static int
revoke_steps(struct store *s, int64_t id, const char *purpose, int64_t when, const char *reason)
{
	static const char op[] = "credential revoke";
	sqlite3_stmt *st = NULL;
	int64_t inst = 0, index = 0, rowid = 0;
	int rc = sqlu_preparef(s, op, &st, "SELECT institution_id, status_index, revoked_at"
			       " FROM credentials WHERE id = ?1", "i", id);

	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		inst = sqlu_col_int(st, 0);
		index = sqlu_col_int(st, 1);
		if (sqlu_col_int(st, 2) != 0)
			rc = TC_ECONFLICT;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == 0)
		rc = sqlu_execf(s, op, "UPDATE credentials SET revoked_at = ?2, revoke_reason = ?3"
				" WHERE id = ?1 AND revoked_at = 0", "iit", id, when, reason);
	if (rc == 0 && sqlu_changed_one(s))
		rc = TC_ECONFLICT;
	if (rc == 0)
		rc = sqlu_execf(s, op, "UPDATE status_lists SET updated_at = ?3,"
				" bits_rev = bits_rev + 1 WHERE institution_id = ?1 AND purpose = ?2",
				"iti", inst, purpose, when);
	if (rc == 0)
		rc = sqlu_preparef(s, op, &st, "SELECT rowid FROM status_list_segments"
				   " WHERE institution_id = ?1 AND purpose = ?2 AND segment = ?3", "iti",
				   inst, purpose, index / SEGMENT_BITS);
	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0)
		rowid = sqlu_col_int(st, 0);
	sqlite3_finalize(st);
	if (rc == TC_ENOTFOUND && inst)
		rc = TC_EINVALID;	/* a credential without its list */
	if (rc == 0)
		rc = set_bit(s, rowid, index % SEGMENT_BITS, op);
	return rc;
}

struct revoke {
	int64_t id;
	const char *purpose;
	int64_t when;
	const char *reason;
};

static int
revoke_in(struct store *s, void *arg)
{
	struct revoke *a = arg;

	return revoke_steps(s, a->id, a->purpose, a->when, a->reason);
}

static int
sq_revoke(struct store *s, int64_t id, const char *purpose, int64_t when, const char *reason)
{
	struct revoke a = { id, purpose, when, reason };

	return sqlu_savepoint(s, "credential revoke", "credential_revoke", revoke_in, &a);
}

static int
sq_status_list(struct store *s, int64_t institution_id, const char *purpose,
	       unsigned char **bits, size_t *len)
{
	static const char op[] = "status list get";
	sqlite3_stmt *st = NULL;
	int64_t nseg = 0;
	size_t seglen = STATUSLIST_SEGMENT_BITS / 8;
	unsigned char *out = NULL;
	/* one statement, one snapshot: the highest segment first sizes the
	 * list; a segment never added (a gap) stays all zero */
	int rc = sqlu_cachedf(s, op, &st, "SELECT segment, bits FROM status_list_segments"
			      " WHERE institution_id = ?1 AND purpose = ?2 ORDER BY segment DESC",
			      "it", institution_id, purpose);

	*bits = NULL;
	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		int64_t seg = sqlu_col_int(st, 0);
		const void *b = sqlite3_column_blob(st, 1);
		int n = sqlite3_column_bytes(st, 1);

		if (!out && seg >= 0 && seg < (int64_t)STATUSLIST_SEGMENTS) {
			nseg = seg + 1;
			if (!(out = calloc((size_t)nseg, seglen)))
				rc = TC_ENOMEM;
		}
		if (rc == 0 && (!out || seg < 0 || seg >= nseg || n != (int)seglen || !b))
			rc = TC_EDB;	/* always written whole, within the maximum */
		else if (rc == 0)
			memcpy(out + (size_t)seg * seglen, b, seglen);
	}
	sqlu_release(s, st);
	if (rc == TC_ENOTFOUND && out)
		rc = 0;		/* the last row was read */
	if (rc == 0) {
		*bits = out;
		*len = (size_t)nseg * seglen;
		out = NULL;
	}
	free(out);
	return rc;
}

static int
sq_status_list_rev(struct store *s, int64_t institution_id, const char *purpose, int64_t *rev)
{
	static const char op[] = "status list revision";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_cachedf(s, op, &st, "SELECT bits_rev FROM status_lists"
			      " WHERE institution_id = ?1 AND purpose = ?2", "it",
			      institution_id, purpose);

	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0)
		*rev = sqlu_col_int(st, 0);
	sqlu_release(s, st);
	if (rc == TC_ENOTFOUND) {	/* no list yet: all zero, as a new one */
		*rev = 0;
		rc = 0;
	}
	return rc;
}

/* Migration 14's insert (the columns of schema 14): inserts the row of C into TABLE (its shared fields at ACHIEVEMENT_ID;
 * its id C->id when WITH_ID, which is then kept, else C->id set). */
static int
insert_row_v14(struct store *s, sqlite3 *db, const char *table, struct credential_rec *c,
	   int64_t achievement_id, int with_id)
{
	static const char op[] = "credential insert";
	struct cred_blobs b;
	sqlite3_stmt *st = NULL;
	char sql[600];
	int rc = to_blobs(c, &b), src;

	snprintf(sql, sizeof(sql), "INSERT INTO %s (uid, institution_id, course_id,"
				" person_id, achievement_id, key_id, status_index, hash, issued_at,"
				" awarded_at, identity_hash, salt, credits_earned, term, grade,"
				" signature, revoked_at, revoke_reason, id) VALUES (?1, ?2, ?3, ?4,"
				" ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
				" ?19)", table);
	if (rc == 0)
		rc = stmt_get(s, db, sql, &st, op);
	if (rc == 0 && ((src = bind_blob(st, 1, b.uid, 16)) ||
			(src = sqlite3_bind_int64(st, 2, c->institution_id)) ||
			(src = c->course_id ? sqlite3_bind_int64(st, 3, c->course_id) :
			 sqlite3_bind_null(st, 3)) ||
			(src = sqlite3_bind_int64(st, 4, c->person_id)) ||
			(src = sqlite3_bind_int64(st, 5, achievement_id)) ||
			(src = sqlite3_bind_int64(st, 6, c->key_id)) ||
			(src = sqlite3_bind_int64(st, 7, c->status_index)) ||
			(src = bind_blob(st, 8, b.hash, 32)) ||
			(src = sqlite3_bind_int64(st, 9, c->issued_at)) ||
			(src = c->awarded ? sqlite3_bind_int64(st, 10, c->awarded_at) :
			 sqlite3_bind_null(st, 10)) ||
			(src = bind_blob(st, 11, b.ihash, 32)) ||
			(src = bind_blob(st, 12, b.salt, b.salt_len)) ||
			(src = sqlite3_bind_double(st, 13, c->credits_earned)) ||
			(src = c->term[0] ? sqlite3_bind_text(st, 14, c->term, -1, SQLITE_STATIC) :
			 sqlite3_bind_null(st, 14)) ||
			(src = c->grade[0] ? sqlite3_bind_text(st, 15, c->grade, -1, SQLITE_STATIC) :
			 sqlite3_bind_null(st, 15)) ||
			(src = bind_blob(st, 16, c->signature, 64)) ||
			(src = sqlite3_bind_int64(st, 17, c->revoked_at)) ||
			(src = sqlite3_bind_text(st, 18, c->revoke_reason, -1, SQLITE_STATIC)) ||
			(src = with_id ? sqlite3_bind_int64(st, 19, c->id) :
			 sqlite3_bind_null(st, 19)) ||
			(src = sqlite3_step(st)) != SQLITE_DONE))
		rc = db_fail(db, src, op);
	if (rc == 0 && !with_id)
		c->id = (int64_t)sqlite3_last_insert_rowid(db);
	stmt_done(s, st);
	return rc;
}

/* ---- migration 14: stored texts become rows of fields ------------------------------ */

/* Copies S (NULL: "") into OUT of N bytes; TC_EINVALID when it does not fit. */
static int
copy_field(char *out, size_t n, const char *s)
{
	if (!s)
		s = "";
	if (strlen(s) >= n)
		return TC_EINVALID;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/*
 * The row of ROW (id, uid, institution_id, course_id, person_id,
 * status_index, json, hash, issued_at, revoked_at, revoke_reason of the
 * old table) as fields into C (C->shared allocated), checked: the fields
 * rebuild the stored text byte for byte and its SHA-256 is the stored hash.
 * 0; TC_EINVALID (logged) when not.
 */
static int
convert_one(sqlite3 *db, sqlite3_stmt *row, struct credential_rec *c)
{
	const char *text = (const char *)sqlite3_column_text(row, 6);
	const char *hash = (const char *)sqlite3_column_text(row, 7);
	const char *uid = (const char *)sqlite3_column_text(row, 1);
	struct credential_input in;
	struct credential_alignment al[CREDENTIAL_ALIGN_MAX];
	struct credential_proof pr;
	json_t *doc = text ? json_loads(text, 0, NULL) : NULL, *shared = NULL;
	sqlite3_stmt *key = NULL;
	char *again = NULL, digest[65];
	const char *why = NULL;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(row, 0);
	c->institution_id = sqlite3_column_int64(row, 2);
	c->course_id = sqlite3_column_int64(row, 3);
	c->person_id = sqlite3_column_int64(row, 4);
	c->status_index = sqlite3_column_int64(row, 5);
	c->issued_at = sqlite3_column_int64(row, 8);
	c->revoked_at = sqlite3_column_int64(row, 9);
	if (!doc || credential_parse(doc, &in, al, &pr))
		why = "not a credential of the shape tinchi issues";
	else if (!uid || !in.id || strcmp(uid, in.id) != 0 || !hash ||
		 copy_field(c->uid, sizeof(c->uid), uid) || copy_field(c->hash, sizeof(c->hash), hash))
		why = "its uid or hash column does not match it";
	else if (copy_field(c->revoke_reason, sizeof(c->revoke_reason),
			    (const char *)sqlite3_column_text(row, 10)) ||
		 copy_field(c->issuer_did, sizeof(c->issuer_did), in.issuer_id) ||
		 copy_field(c->identity_hash, sizeof(c->identity_hash), in.identity_hash) ||
		 copy_field(c->salt, sizeof(c->salt), in.salt) ||
		 copy_field(c->term, sizeof(c->term), in.term) ||
		 copy_field(c->grade, sizeof(c->grade), in.grade) ||
		 (in.term && !in.term[0]) || (in.grade && !in.grade[0]))
		why = "a field is longer than the compact form holds";
	else if (in.awarded_date && xapi_timestamp_parse(in.awarded_date, &c->awarded_at))
		why = "awardedDate is not a date-time";
	else if (credential_shared_json(&in, &shared) ||
		 !(c->shared = json_dumps(shared, JSON_COMPACT | JSON_SORT_KEYS)))
		rc = TC_ENOMEM;
	if (!why && rc == 0) {
		c->awarded = in.awarded_date != NULL;
		c->awarded_at /= 1000000;	/* whole seconds; other forms do not rebuild */
		c->credits_earned = in.credits_earned;
		memcpy(c->signature, pr.signature, 64);
		if (sqlite3_prepare_v2(db, "SELECT id FROM institution_keys WHERE institution_id = ?1"
				       " AND did = ?2", -1, &key, NULL) != SQLITE_OK ||
		    sqlite3_bind_int64(key, 1, c->institution_id) ||
		    sqlite3_bind_text(key, 2, c->issuer_did, -1, SQLITE_STATIC))
			rc = db_fail(db, sqlite3_errcode(db), "credential conversion");
		else if (sqlite3_step(key) != SQLITE_ROW)
			why = "its issuer is not a key of its institution";
		else
			c->key_id = sqlite3_column_int64(key, 0);
		sqlite3_finalize(key);
	}
	if (!why && rc == 0 && (rc = store_credential_text(c, &again, NULL)) == TC_EINVALID) {
		rc = 0;
		why = "its fields do not make a credential";
	}
	if (!why && rc == 0) {
		sha256_hex(again, strlen(again), digest);
		if (strcmp(again, text) != 0)
			why = "the credential rebuilt from its fields differs from the stored text";
		else if (strcmp(digest, hash) != 0)
			why = "the stored hash is not the SHA-256 of the stored text";
	}
	if (why) {
		log_err("migration 14 refused: credential %lld (%s): %s; the database is left as"
			" it was", (long long)c->id, uid ? uid : "?", why);
		rc = TC_EINVALID;
	}
	free(again);
	json_decref(shared);
	json_decref(doc);
	return rc;
}

int credentials_convert_v14(sqlite3 *db);

/* Migration 14's conversion step (storage/sqlite_schema.c): every stored
 * credential becomes its fields, and must rebuild to the same bytes, or
 * the whole migration is refused. */
int
credentials_convert_v14(sqlite3 *db)
{
	static const char op[] = "migration 14";
	sqlite3_stmt *row = NULL;
	int64_t n = 0;
	int rc = db_prepare(db, "SELECT id, uid, institution_id, course_id, person_id,"
			    " status_index, json, hash, issued_at, revoked_at, revoke_reason"
			    " FROM credentials ORDER BY id", &row, op);
	int src = SQLITE_DONE;

	log_info("migration 14: converting the stored credentials to their fields");
	while (rc == 0 && (src = sqlite3_step(row)) == SQLITE_ROW) {
		struct credential_rec c;
		int64_t ach = 0;

		rc = convert_one(db, row, &c);
		if (rc == 0)
			rc = shared_id(NULL, db, &c, &ach);
		if (rc == 0)
			rc = insert_row_v14(NULL, db, "credentials_v14", &c, ach, 1);
		free(c.shared);
		n++;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = db_fail(db, src, op);
	sqlite3_finalize(row);
	if (rc == 0 && sqlite3_exec(db, "DROP TABLE credentials;"
				    "ALTER TABLE credentials_v14 RENAME TO credentials;"
				    "CREATE INDEX credentials_by_person ON credentials (person_id, id);"
				    "CREATE INDEX credentials_by_hash ON credentials (hash);",
				    NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(db, sqlite3_errcode(db), op);
	if (rc == 0 && n)
		log_info("migration 14: %lld credentials stored as their fields, each rebuilt byte"
			 " for byte", (long long)n);
	return rc;
}

/* ---- migration 21: what derives is no longer stored ---------------------------------- */

/* The rows as migration 21 leaves them: the table and its indexes and
 * triggers (the old table's go with it). */
static const char v21_table[] =
	"CREATE TABLE credentials ("
	"  id INTEGER PRIMARY KEY,"
	/* NULL: tc_cred_uid of (institution_id, status_index) */
	"  uid BLOB CHECK (uid IS NULL OR length(uid) = 16),"
	"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
	"  course_id INTEGER REFERENCES courses (id),"
	"  person_id INTEGER NOT NULL REFERENCES people (id),"
	"  achievement_id INTEGER NOT NULL REFERENCES credential_achievements (id),"
	"  key_id INTEGER NOT NULL REFERENCES institution_keys (id),"
	"  status_index INTEGER NOT NULL,"
	"  hash BLOB NOT NULL CHECK (length(hash) = 32),"
	"  issued_at INTEGER NOT NULL,"
	/* issued_at - awardedDate in seconds; NULL: no awardedDate */
	"  awarded_ago INTEGER,"
	/* NULL: the person's national ID with the salt makes it */
	"  identity_hash BLOB CHECK (identity_hash IS NULL OR length(identity_hash) = 32),"
	/* NULL: tc_cred_salt of the uid */
	"  salt BLOB,"
	"  credits_earned REAL NOT NULL,"
	"  term_id INTEGER REFERENCES credential_terms (id),"
	/* an integer: hundredths that format back the same (grade_code) */
	"  grade,"
	"  signature BLOB NOT NULL CHECK (length(signature) = 64),"
	"  revoked_at INTEGER NOT NULL DEFAULT 0,"
	"  revoke_reason TEXT NOT NULL DEFAULT '',"
	/* the first log leaf naming it (NULL: none yet) */
	"  leaf INTEGER,"
	"  UNIQUE (institution_id, status_index)"
	");";

static const char v21_after[] =
	"CREATE UNIQUE INDEX credentials_by_uid ON credentials (uid) WHERE uid IS NOT NULL;"
	"CREATE INDEX credentials_by_person ON credentials (person_id, id);"
	"CREATE INDEX credentials_by_hash ON credentials (substr(hash, 1, 8));"
	"CREATE TRIGGER credentials_hash_fixed BEFORE UPDATE OF hash ON credentials"
	"  BEGIN SELECT RAISE(ABORT, 'a credential hash is never changed'); END;"
	"CREATE TRIGGER credentials_logged_kept BEFORE DELETE ON credentials"
	"  WHEN OLD.leaf IS NOT NULL"
	"  BEGIN SELECT RAISE(ABORT, 'a credential in the transparency log is never removed'); END;"
	/* an identity hash stored as NULL derives from the national ID */
	"CREATE TRIGGER people_national_id_fixed BEFORE UPDATE OF national_id ON people"
	"  WHEN NEW.national_id IS NOT OLD.national_id AND EXISTS (SELECT 1 FROM credentials"
	"  WHERE person_id = OLD.id AND identity_hash IS NULL)"
	"  BEGIN SELECT RAISE(ABORT, 'the national ID of a person with credentials is never"
	" changed'); END;"
	"DROP INDEX log_leaves_by_credential;";

/* Every credential through the store's read query: it must rebuild to
 * its hash. *N counts them. 0, TC_EINVALID (logged), or a TC_E* code. */
static int
v21_check(sqlite3 *db, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, CREDENTIAL_SELECT " ORDER BY c.id", &st, "migration 21");
	int src = SQLITE_DONE;

	*n = 0;
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		struct credential_rec c;
		char *text = NULL, digest[65];
		int64_t id = sqlite3_column_int64(st, 0);

		rc = sqlite_credential_read(st, &c);
		if (rc == 0)
			rc = store_credential_text(&c, &text, NULL);
		if (rc == 0)
			sha256_hex(text, strlen(text), digest);
		if (rc == TC_ENOMEM) {
			/* reported as it is */
		} else if (rc || strcmp(digest, c.hash) != 0) {
			log_err("migration 21 refused: credential %lld (%s) does not rebuild to its"
				" hash from its converted row; the database is left at 20",
				(long long)id, rc ? tc_strerror(rc) : c.uid);
			rc = TC_EINVALID;
		}
		free(text);
		free(c.shared);
		(*n)++;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = db_fail(db, src, "migration 21");
	sqlite3_finalize(st);
	return rc;
}

int credentials_convert_v21(sqlite3 *db);

/*
 * Migration 21's conversion step (storage/sqlite_schema.c): the rows are
 * copied into the new table (an identity hash that the person's national
 * ID with the row's salt makes becomes NULL; stored uids and salts stay:
 * only new credentials derive theirs), then every row must rebuild to its
 * hash through the read query, or the whole migration is refused.
 * Foreign keys that name credentials (log leaves, shares, consents) are
 * deferred while the table is replaced: the same ids come back.
 */
int
credentials_convert_v21(sqlite3 *db)
{
	static const char op[] = "migration 21";
	sqlite3_stmt *st = NULL;
	int64_t before = -1, after = -1;
	int rc = sqlite_credential_functions(db);

	log_info("migration 21: rebuilding the credential rows without what derives");
	if (rc == 0 && (rc = db_prepare(db, "SELECT count(*) FROM credentials", &st, op)) == 0 &&
	    sqlite3_step(st) == SQLITE_ROW)
		before = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == 0 && sqlite3_exec(db,
		"PRAGMA defer_foreign_keys = ON;"
		"CREATE TABLE credentials_v21 AS SELECT c.id AS id, c.uid AS uid,"
		"  c.institution_id AS institution_id, c.course_id AS course_id,"
		"  c.person_id AS person_id, c.achievement_id AS achievement_id,"
		"  c.key_id AS key_id, c.status_index AS status_index, c.hash AS hash,"
		"  c.issued_at AS issued_at, c.issued_at - c.awarded_at AS awarded_ago,"
		"  CASE WHEN c.identity_hash IS tc_cred_ihash(NULL, p.national_id, c.salt)"
		"    THEN NULL ELSE c.identity_hash END AS identity_hash,"
		"  c.salt AS salt, c.credits_earned AS credits_earned,"
		"  (SELECT t.id FROM credential_terms t WHERE t.term = c.term) AS term_id,"
		"  CASE WHEN c.grade GLOB '[0-9]*' AND c.grade NOT GLOB '*[^0-9.]*'"
		"    AND length(c.grade) <= 9 AND CAST(round(CAST(c.grade AS REAL) * 100) AS INTEGER)"
		"    < 100000000 AND c.grade = (SELECT (g / 100) ||"
		"    CASE WHEN g % 100 = 0 THEN '' WHEN g % 10 = 0 THEN '.' || (g % 100 / 10)"
		"    ELSE printf('.%02d', g % 100) END FROM (SELECT CAST(round(CAST(c.grade AS REAL)"
		"    * 100) AS INTEGER) AS g)) THEN CAST(round(CAST(c.grade AS REAL) * 100) AS INTEGER)"
		"    ELSE c.grade END AS grade,"
		"  c.signature AS signature, c.revoked_at AS revoked_at,"
		"  c.revoke_reason AS revoke_reason,"
		"  (SELECT min(l.idx) FROM log_leaves l WHERE l.credential_id = c.id) AS leaf"
		"  FROM credentials c LEFT JOIN people p ON p.id = c.person_id;"
		"DROP TABLE credentials;", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(db, sqlite3_errcode(db), op);
	if (rc == 0 && (sqlite3_exec(db, v21_table, NULL, NULL, NULL) != SQLITE_OK ||
			sqlite3_exec(db, "INSERT INTO credentials (id, uid, institution_id,"
				     " course_id, person_id, achievement_id, key_id, status_index,"
				     " hash, issued_at, awarded_ago, identity_hash, salt,"
				     " credits_earned, term_id, grade, signature, revoked_at,"
				     " revoke_reason, leaf) SELECT id, uid, institution_id, course_id,"
				     " person_id, achievement_id, key_id, status_index, hash,"
				     " issued_at, awarded_ago, identity_hash, salt, credits_earned,"
				     " term_id, grade, signature, revoked_at, revoke_reason, leaf"
				     " FROM credentials_v21 ORDER BY id;"
				     "DROP TABLE credentials_v21;", NULL, NULL, NULL) != SQLITE_OK ||
			sqlite3_exec(db, v21_after, NULL, NULL, NULL) != SQLITE_OK))
		rc = db_fail(db, sqlite3_errcode(db), op);
	if (rc == 0)
		rc = v21_check(db, &after);
	if (rc == 0 && after != before) {
		log_err("migration 21 refused: %lld credentials before, %lld after; the database is"
			" left at 20", (long long)before, (long long)after);
		rc = TC_EINVALID;
	}
	if (rc == 0 && after)
		log_info("migration 21: %lld credentials converted, each rebuilt byte for byte to"
			 " its hash", (long long)after);
	return rc;
}

const struct credential_ops sqlite_credential_ops = {
	.next_k = sq_next_k,
	.issue = sq_issue,
	.get = sq_get,
	.each = sq_each,
	.all_each = sq_all_each,
	.status_bit = sq_status_bit,
	.issue_mode = sq_issue_mode,
	.find = sq_find,
	.revoke = sq_revoke,
	.status_list = sq_status_list,
	.set_issue_mode = sq_set_issue_mode,
	.waiting_each = sq_waiting_each,
	.decline = sq_decline,
	.key = sq_key,
	.status_list_rev = sq_status_list_rev,
};
