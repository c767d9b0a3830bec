/*
 * identity_sqlite.c - the SQLite side of storage/identity.h: institutions,
 * keys, people, memberships, sessions, API tokens, activation codes, failed
 * logins and the audit log, on the tables of schema migration 2.
 *
 * Arguments arrive checked by identity.c. Every value reaches SQL through a
 * bound parameter. Statements without a callback are long-lived ones of the
 * store (store_sqlite.h), reset after each call; the *_each walks compile
 * their own, so a callback may call back into the store. Calls that write
 * more than once run inside a SAVEPOINT, so they are all-or-nothing both on
 * their own and inside a caller's store_begin transaction.
 *
 * Errors: a unique or primary key taken is TC_ECONFLICT; a missing row, or a
 * missing person or institution that a new row refers to, is TC_ENOTFOUND;
 * anything else is TC_EDB, logged with the operation and SQLite's message.
 * Outputs are written only on success.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/identity.h"
#include "storage/sqlite_util.h"
#include "storage/store_sqlite.h"

/* The columns read_person() expects, with an optional table prefix. */
#define PERSON_COLUMNS(t) \
	t "id, " t "uid, " t "national_id, " t "nid_hmac, " t "full_name, " \
	t "date_of_birth, " t "email, " t "password_hash, " t "created_at, " \
	t "updated_at"
#define PERSON_NCOLS 10
#define SQL_PERSON_GET_NID \
	"SELECT " PERSON_COLUMNS("") " FROM people WHERE national_id = ?1"

#define INST_COLUMNS "id, code, name, kind, website, created_at"
#define KEY_COLUMNS \
	"id, institution_id, file, pub, did, valid_from, valid_until"
#define SESSION_COLUMNS \
	"token_hash, person_id, created_at, last_seen_at, expires_at, source"
#define TOKEN_COLUMNS \
	"id, uid, institution_id, name, scopes, created_by, created_at, " \
	"last_used_at, revoked_at"
#define AUDIT_COLUMNS \
	"id, at, institution_id, actor_person_id, actor_token_id, event, " \
	"subject, detail, source"

/* Stored names of roles and institution kinds (the CHECKs of the schema). */
static const char *const role_text[] = {
	[ROLE_LEARNER] = "learner",
	[ROLE_LECTURER] = "lecturer",
	[ROLE_ADMIN] = "admin",
	[ROLE_VERIFIER] = "verifier",
	[ROLE_OPERATOR] = "operator",
};

static const char *const kind_text[] = {
	[INST_SCHOOL] = "school",
	[INST_UNIVERSITY] = "university",
	[INST_OTHER] = "other",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------ */

/* Index of TEXT in NAMES[0..N-1] (NULL entries skipped), or -1. */
static int
name_index(const char *const *names, size_t n, const char *text)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], text) == 0)
			return (int)i;
	return -1;
}

/* Reads an enum stored as text from column COL into *OUT: 0 or TC_EDB. */
static int
col_enum(sqlite3_stmt *st, int col, const char *const *names, size_t n,
	 int *out)
{
	char buf[32];
	int i;
	int rc;

	rc = sqlu_col_text(st, col, buf, sizeof(buf));
	if (rc)
		return rc;
	i = name_index(names, n, buf);
	if (i < 0) {
		log_err("stored %s \"%s\" is unknown",
			sqlite3_column_name(st, col), buf);
		return TC_EDB;
	}
	*out = i;
	return 0;
}

/* A time for rows whose caller gave none (0). */
static int64_t
now_or(int64_t t)
{
	return t > 0 ? t : (int64_t)time(NULL);
}

/* ---- savepoints --------------------------------------------------------- */

struct savepoint {
	int open;		/* SAVEPOINT ran and is not released yet */
	int outermost;		/* it started the transaction */
};

static int
sp_begin(struct store *s, struct savepoint *sp)
{
	int rc;

	sp->open = 0;
	sp->outermost = sqlite3_get_autocommit(store_sqlite_db(s));
	rc = store_sqlite_execf(s, "savepoint", STMT_SAVEPOINT, "SAVEPOINT identity_op", "");
	if (rc == 0)
		sp->open = 1;
	return rc;
}

/* Releases (commits, when outermost) the savepoint: 0 or TC_EDB. */
static int
sp_release(struct store *s, struct savepoint *sp)
{
	int rc = store_sqlite_execf(s, "release savepoint", STMT_RELEASE, "RELEASE identity_op", "");

	if (rc == 0)
		sp->open = 0;
	return rc;
}

/*
 * Undoes everything since the savepoint and drops it. SQLite may already
 * have rolled the whole transaction back after some errors; then there is
 * nothing left to do. A transaction this savepoint started never outlives
 * it.
 */
static void
sp_rollback(struct store *s, struct savepoint *sp)
{
	sqlite3 *db = store_sqlite_db(s);

	if (!sp->open)
		return;
	sp->open = 0;
	if (sqlite3_get_autocommit(db))
		return;
	(void)store_sqlite_execf(s, "rollback to savepoint", STMT_ROLLBACK_TO,
				 "ROLLBACK TO identity_op", "");
	(void)store_sqlite_execf(s, "release savepoint", STMT_RELEASE,
				 "RELEASE identity_op", "");
	if (sp->outermost && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- transactions ------------------------------------------------------- */

/* TC_EINVALID when a transaction is already open (logged). */
static int
sq_begin(struct store *s)
{
	if (!sqlite3_get_autocommit(store_sqlite_db(s))) {
		log_err("store_begin: a transaction is already open");
		return TC_EINVALID;
	}
	return store_sqlite_execf(s, "begin", STMT_BEGIN, "BEGIN IMMEDIATE", "");
}

/* TC_EINVALID when no transaction is open. On TC_EDB the transaction may
 * still be open: the caller rolls back. */
static int
sq_commit(struct store *s)
{
	if (sqlite3_get_autocommit(store_sqlite_db(s))) {
		log_err("store_commit: no transaction is open");
		return TC_EINVALID;
	}
	return store_sqlite_execf(s, "commit", STMT_COMMIT, "COMMIT", "");
}

static int
sq_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(store_sqlite_db(s)))
		return 0;
	return store_sqlite_execf(s, "rollback", STMT_ROLLBACK, "ROLLBACK", "");
}

/* ---- meta --------------------------------------------------------------- */

/* A value longer than OUTSIZE - 1 is the caller's buffer: TC_EINVALID. */
static int
sq_meta_get(struct store *s, const char *key, char *out, size_t outsize)
{
	static const char op[] = "meta get";
	sqlite3_stmt *st = NULL;
	const unsigned char *v = NULL;
	int n;
	int rc;

	rc = store_sqlite_stmtf(s, op, STMT_META_GET, &st, "SELECT value FROM meta WHERE key = ?1", "t",
		   key);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc)
		goto out;
	v = sqlite3_column_text(st, 0);
	n = sqlite3_column_bytes(st, 0);
	if (v == NULL || n < 0) {
		rc = sqlu_fail(s, SQLITE_NOMEM, op);
		goto out;
	}
	if ((size_t)n >= outsize) {
		log_err("%s: value of %s is %d bytes, room for %zu", op, key, n,
			outsize - 1);
		rc = TC_EINVALID;
		goto out;
	}
	memcpy(out, v, (size_t)n);
	out[n] = '\0';
out:
	sqlu_done(st);
	return rc;
}

static int
sq_meta_add(struct store *s, const char *key, const char *value)
{
	return store_sqlite_execf(s, "meta add", STMT_META_ADD,
		     "INSERT INTO meta (key, value) VALUES (?1, ?2)", "tt", key, value);
}

/* ---- institutions ------------------------------------------------------- */

/* Reads INST_COLUMNS from the current row into *OUT. */
static int
read_institution(sqlite3_stmt *st, struct institution *out)
{
	struct institution v;
	int kind = 0;
	int rc;

	memset(&v, 0, sizeof(v));
	v.id = sqlu_col_int(st, 0);
	rc = sqlu_col_text(st, 1, v.code, sizeof(v.code));
	if (rc == 0)
		rc = sqlu_col_text(st, 2, v.name, sizeof(v.name));
	if (rc == 0)
		rc = col_enum(st, 3, kind_text, NELEM(kind_text), &kind);
	if (rc == 0)
		rc = sqlu_col_text(st, 4, v.website, sizeof(v.website));
	if (rc)
		return rc;
	v.kind = (enum inst_kind)kind;
	v.created_at = sqlu_col_int(st, 5);
	*out = v;
	return 0;
}

/* INST->created_at 0 means now. */
static int
sq_institution_add(struct store *s, struct institution *inst)
{
	int64_t created = now_or(inst->created_at);

	int rc = store_sqlite_execf(s, "institution add", STMT_INST_ADD,
		       "INSERT INTO institutions (code, name, kind, website,"
		       " created_at) VALUES (?1, ?2, ?3, ?4, ?5)", "tttti", inst->code,
		       inst->name, kind_text[inst->kind], inst->website, created);

	if (rc)
		return rc;
	inst->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	inst->created_at = created;
	return 0;
}

static int
sq_institution_get(struct store *s, const char *code, struct institution *out)
{
	static const char op[] = "institution get";
	sqlite3_stmt *st = NULL;
	int rc;

	rc = store_sqlite_stmtf(s, op, STMT_INST_GET, &st,
		   "SELECT " INST_COLUMNS " FROM institutions WHERE code = ?1", "t", code);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_institution(st, out);
	sqlu_done(st);
	return rc;
}

static int
sq_institution_get_id(struct store *s, int64_t id, struct institution *out)
{
	static const char op[] = "institution get by id";
	sqlite3_stmt *st = NULL;
	int rc;

	rc = store_sqlite_stmtf(s, op, STMT_INST_GET_ID, &st,
		   "SELECT " INST_COLUMNS " FROM institutions WHERE id = ?1", "i", id);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_institution(st, out);
	sqlu_done(st);
	return rc;
}

static int
sq_institution_each(struct store *s,
		    int (*cb)(const struct institution *inst, void *arg),
		    void *arg)
{
	static const char op[] = "institution list";
	sqlite3_stmt *st = NULL;
	struct institution inst;
	int src;
	int rc;

	rc = sqlu_prepare(s, "SELECT " INST_COLUMNS " FROM institutions"
		       " ORDER BY code", op, &st);
	if (rc)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = read_institution(st, &inst);
		if (rc == 0)
			rc = cb(&inst, arg);
		if (rc)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- institution keys --------------------------------------------------- */

/* Reads KEY_COLUMNS from the current row into *OUT. */
static int
read_key(sqlite3_stmt *st, struct inst_key *out)
{
	struct inst_key v;
	const void *pub = NULL;
	int rc;

	memset(&v, 0, sizeof(v));
	v.id = sqlu_col_int(st, 0);
	v.institution_id = sqlu_col_int(st, 1);
	rc = sqlu_col_text(st, 2, v.file, sizeof(v.file));
	if (rc == 0)
		rc = sqlu_col_text(st, 4, v.did, sizeof(v.did));
	if (rc)
		return rc;
	pub = sqlite3_column_blob(st, 3);
	if (pub == NULL || sqlite3_column_bytes(st, 3) != (int)sizeof(v.pub)) {
		log_err("stored public key of key %lld is not %zu bytes",
			(long long)v.id, sizeof(v.pub));
		return TC_EDB;
	}
	memcpy(v.pub, pub, sizeof(v.pub));
	v.valid_from = sqlu_col_int(st, 5);
	v.valid_until = sqlu_col_int(st, 6);
	*out = v;
	return 0;
}

/*
 * In one savepoint: the current key (if any) ends a second after
 * K->valid_from, then K goes in as current. K->id is filled in and
 * K->valid_until set to 0. Times are whole seconds and a key is valid for
 * [valid_from, valid_until): ending the old key at K->valid_from would
 * refuse for good a credential it signed earlier in that same second (an
 * issue that read the current key just before the rotation committed).
 */
static int
sq_key_add(struct store *s, struct inst_key *k)
{
	static const char op[] = "key add";
	struct savepoint sp = { 0, 0 };
	sqlite3_stmt *ins = NULL;
	int64_t id = 0;
	int rc;

	rc = sp_begin(s, &sp);
	if (rc)
		goto out;
	rc = store_sqlite_execf(s, op, STMT_KEY_RETIRE,
		   "UPDATE institution_keys SET valid_until = ?1 + 1"
		   " WHERE institution_id = ?2 AND valid_until = 0", "ii", k->valid_from,
		   k->institution_id);
	if (rc)
		goto out;
	/* ?3, the public key, is a blob: bound here */
	rc = store_sqlite_stmtf(s, op, STMT_KEY_INSERT, &ins,
		   "INSERT INTO institution_keys (institution_id, file, pub,"
		   " did, valid_from, valid_until)"
		   " VALUES (?1, ?2, ?3, ?4, ?5, 0)", "it", k->institution_id, k->file);
	if (rc)
		goto out;
	if (sqlite3_bind_blob(ins, 3, k->pub, (int)sizeof(k->pub), SQLITE_STATIC) != SQLITE_OK ||
	    sqlu_bind_text(ins, 4, k->did) != SQLITE_OK ||
	    sqlu_bind_int(ins, 5, k->valid_from) != SQLITE_OK) {
		rc = sqlu_bind_fail(s, op);
		goto out;
	}
	rc = sqlu_step_done(s, ins, op);
	if (rc)
		goto out;
	id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	rc = sp_release(s, &sp);
	if (rc)
		goto out;
	k->id = id;
	k->valid_until = 0;
out:
	sqlu_done(ins);
	if (rc)
		sp_rollback(s, &sp);
	return rc;
}

static int
sq_key_current(struct store *s, int64_t institution_id, struct inst_key *out)
{
	static const char op[] = "current key";
	sqlite3_stmt *st = NULL;
	int rc;

	rc = store_sqlite_stmtf(s, op, STMT_KEY_CURRENT, &st,
		   "SELECT " KEY_COLUMNS " FROM institution_keys"
		   " WHERE institution_id = ?1 AND valid_until = 0", "i", institution_id);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_key(st, out);
	sqlu_done(st);
	return rc;
}

static int
sq_key_each(struct store *s, int64_t institution_id,
	    int (*cb)(const struct inst_key *k, void *arg), void *arg)
{
	static const char op[] = "key list";
	sqlite3_stmt *st = NULL;
	struct inst_key k;
	int src;
	int rc;

	rc = sqlu_preparef(s, op, &st, "SELECT " KEY_COLUMNS " FROM institution_keys"
			   " WHERE institution_id = ?1 ORDER BY valid_from, id", "i",
			   institution_id);
	if (rc)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = read_key(st, &k);
		if (rc == 0)
			rc = cb(&k, arg);
		if (rc)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- people ------------------------------------------------------------- */

/* Reads PERSON_COLUMNS starting at column C0 into *OUT. */
static int
read_person(sqlite3_stmt *st, int c0, struct person *out)
{
	struct person v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.id = sqlu_col_int(st, c0);
	rc = sqlu_col_text(st, c0 + 1, v.uid, sizeof(v.uid));
	if (rc == 0)
		rc = sqlu_col_text(st, c0 + 2, v.national_id, sizeof(v.national_id));
	if (rc == 0)
		rc = sqlu_col_text(st, c0 + 3, v.nid_hmac, sizeof(v.nid_hmac));
	if (rc == 0)
		rc = sqlu_col_text(st, c0 + 4, v.full_name, sizeof(v.full_name));
	if (rc == 0)
		rc = sqlu_col_text(st, c0 + 5, v.date_of_birth,
			      sizeof(v.date_of_birth));
	if (rc == 0)
		rc = sqlu_col_text(st, c0 + 6, v.email, sizeof(v.email));
	if (rc == 0)
		rc = sqlu_col_text(st, c0 + 7, v.password_hash,
			      sizeof(v.password_hash));
	if (rc)
		return rc;
	v.created_at = sqlu_col_int(st, c0 + 8);
	v.updated_at = sqlu_col_int(st, c0 + 9);
	*out = v;
	return 0;
}

/*
 * Inserts P unless its national ID exists; else reads the stored row and
 * updates its non-empty fields. At most one of the two
 * statements writes (the INSERT changes nothing on a taken national ID),
 * and a statement is atomic on its own, so a failure leaves the database as
 * it was without a savepoint, which would cost a fifth of a bulk import.
 * RETURNING is avoided for the same reason: SQLite builds a temporary table
 * for it on every call. On success *P is the stored row, password_hash
 * included.
 */
static int
sq_person_upsert(struct store *s, struct person *p, int64_t now, int *created)
{
	static const char op[] = "person upsert";
	sqlite3_stmt *get = NULL;
	struct person v;
	int made = 0;
	int rc;

	rc = store_sqlite_execf(s, op, STMT_PERSON_INSERT,
		   "INSERT INTO people (uid, national_id, nid_hmac, full_name,"
		   " date_of_birth, email, password_hash, created_at,"
		   " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
		   " ON CONFLICT (national_id) DO NOTHING", "ttttttti", p->uid, p->national_id,
		   p->nid_hmac, p->full_name, p->date_of_birth, p->email, p->password_hash, now);
	if (rc)
		goto out;
	if (sqlite3_changes(store_sqlite_db(s)) > 0) {
		made = 1;
		v = *p;
		v.id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
		v.created_at = v.updated_at = now;
	} else {
		/* Read first, so that nothing can fail after the write. */
		rc = store_sqlite_stmtf(s, op, STMT_PERSON_GET_NID, &get, SQL_PERSON_GET_NID, "t",
			   p->national_id);
		if (rc == 0)
			rc = sqlu_step_row(s, get, op);
		if (rc == TC_ENOTFOUND) {
			log_err("%s: national ID taken but no row found", op);
			rc = TC_EDB;
		}
		if (rc == 0)
			rc = read_person(get, 0, &v);
		if (rc)
			goto out;
		sqlu_done(get);
		get = NULL;
		rc = store_sqlite_execf(s, op, STMT_PERSON_UPDATE,
			   "UPDATE people SET"
			   " full_name = CASE WHEN ?1 <> '' THEN ?1"
			   "   ELSE full_name END,"
			   " date_of_birth = CASE WHEN ?2 <> '' THEN ?2"
			   "   ELSE date_of_birth END,"
			   " email = CASE WHEN ?3 <> '' THEN ?3 ELSE email END,"
			   " updated_at = ?4"
			   " WHERE id = ?5", "tttii", p->full_name, p->date_of_birth, p->email,
			   now, v.id);
		if (rc)
			goto out;
		/* What the UPDATE did, applied to the copy read above. */
		if (p->full_name[0] != '\0')
			memcpy(v.full_name, p->full_name, sizeof(v.full_name));
		if (p->date_of_birth[0] != '\0')
			memcpy(v.date_of_birth, p->date_of_birth,
			       sizeof(v.date_of_birth));
		if (p->email[0] != '\0')
			memcpy(v.email, p->email, sizeof(v.email));
		v.updated_at = now;
	}
	*p = v;
	if (created != NULL)
		*created = made;
out:
	sqlu_done(get);
	return rc;
}

/* Runs a cached one-row person query whose only parameter is text T or,
 * when T is NULL, the integer ID. */
static int
person_query(struct store *s, enum store_sqlite_stmt slot, const char *sql,
	     const char *t, int64_t id, struct person *out)
{
	static const char op[] = "person get";
	sqlite3_stmt *st = NULL;
	int rc;

	rc = t != NULL ? store_sqlite_stmtf(s, op, slot, &st, sql, "t", t)
		       : store_sqlite_stmtf(s, op, slot, &st, sql, "i", id);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_person(st, 0, out);
	sqlu_done(st);
	return rc;
}

static int
sq_person_get(struct store *s, int64_t id, struct person *out)
{
	return person_query(s, STMT_PERSON_GET,
			    "SELECT " PERSON_COLUMNS("") " FROM people"
			    " WHERE id = ?1", NULL, id, out);
}

static int
sq_person_get_by_nid(struct store *s, const char *national_id,
		     struct person *out)
{
	return person_query(s, STMT_PERSON_GET_NID, SQL_PERSON_GET_NID,
			    national_id, 0, out);
}

static int
sq_person_get_by_uid(struct store *s, const char *uid, struct person *out)
{
	return person_query(s, STMT_PERSON_GET_UID,
			    "SELECT " PERSON_COLUMNS("") " FROM people"
			    " WHERE uid = ?1", uid, 0, out);
}

static int
sq_person_set_password(struct store *s, int64_t id, const char *hash,
		       int64_t now)
{
	int rc = store_sqlite_execf(s, "set password", STMT_PERSON_SET_PASSWORD,
		       "UPDATE people SET password_hash = ?1, updated_at = ?2"
		       " WHERE id = ?3", "tii", hash, now, id);

	return rc ? rc : sqlu_changed_one(s);
}

/* One row a distinct head "$scrypt$ln=L,r=R,p=P$" (the text up to the
 * third '$'): a scan of the people, run once at start. */
static int
sq_password_heads_each(struct store *s,
		       int (*cb)(const char *head, int64_t count, void *arg),
		       void *arg)
{
	static const char op[] = "password costs";
	sqlite3_stmt *st = NULL;
	int src, rc;

	rc = sqlu_prepare(s, "SELECT substr(password_hash, 1,"
		       " 8 + instr(substr(password_hash, 9), '$')), count(*)"
		       " FROM people WHERE password_hash <> '' GROUP BY 1", op, &st);
	if (rc)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *head = (const char *)sqlite3_column_text(st, 0);

		if ((rc = cb(head ? head : "", sqlite3_column_int64(st, 1), arg)))
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- memberships -------------------------------------------------------- */

/* M->created_at 0 means now; an existing membership keeps its own. */
static int
sq_membership_add(struct store *s, struct membership *m)
{
	return store_sqlite_execf(s, "membership add", STMT_MEMBERSHIP_ADD,
		     "INSERT INTO memberships (person_id, institution_id, role,"
		     " student_code, created_at) VALUES (?1, ?2, ?3, ?4, ?5)"
		     " ON CONFLICT (person_id, institution_id, role) DO UPDATE"
		     " SET student_code = excluded.student_code"
		     " WHERE excluded.student_code <> ''", "iitti", m->person_id,
		     m->institution_id, role_text[m->role], m->student_code,
		     now_or(m->created_at));
}

static int
sq_membership_remove(struct store *s, int64_t person_id,
		     int64_t institution_id, enum role role)
{
	int rc = store_sqlite_execf(s, "membership remove", STMT_MEMBERSHIP_REMOVE,
		       "DELETE FROM memberships WHERE person_id = ?1"
		       " AND institution_id = ?2 AND role = ?3", "iit", person_id,
		       institution_id, role_text[role]);

	return rc ? rc : sqlu_changed_one(s);
}

/* Reads institution_id, role, student_code, created_at from column C0. */
static int
read_membership(sqlite3_stmt *st, int c0, int64_t person_id,
		struct membership *out)
{
	struct membership v;
	int role = 0;
	int rc;

	memset(&v, 0, sizeof(v));
	v.person_id = person_id;
	v.institution_id = sqlu_col_int(st, c0);
	rc = col_enum(st, c0 + 1, role_text, NELEM(role_text), &role);
	if (rc == 0)
		rc = sqlu_col_text(st, c0 + 2, v.student_code,
			      sizeof(v.student_code));
	if (rc)
		return rc;
	v.role = (enum role)role;
	v.created_at = sqlu_col_int(st, c0 + 3);
	*out = v;
	return 0;
}

/* In institution then role order. On failure *N is 0 and OUT unspecified. */
static int
sq_memberships(struct store *s, int64_t person_id, struct membership *out,
	       int max, int *n)
{
	static const char op[] = "memberships";
	sqlite3_stmt *st = NULL;
	int count = 0;
	int src = SQLITE_DONE;
	int rc;

	*n = 0;
	rc = store_sqlite_stmtf(s, op, STMT_MEMBERSHIPS, &st,
		   "SELECT institution_id, role, student_code, created_at"
		   " FROM memberships WHERE person_id = ?1"
		   " ORDER BY institution_id, role LIMIT ?2", "ii", person_id, (int64_t)max);
	if (rc)
		goto out;
	while (count < max && (src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = read_membership(st, 0, person_id, &out[count]);
		if (rc)
			goto out;
		count++;
	}
	if (count < max && src != SQLITE_DONE) {
		rc = sqlu_fail(s, src, op);
		goto out;
	}
	*n = count;
out:
	sqlu_done(st);
	return rc;
}

static int
sq_members_each(struct store *s, int64_t institution_id, enum role role,
		int64_t after_id, int limit,
		int (*cb)(const struct person *p, const struct membership *m,
			  void *arg),
		void *arg)
{
	static const char op[] = "member list";
	sqlite3_stmt *st = NULL;
	struct person p;
	struct membership m;
	int src;
	int rc;

	rc = sqlu_preparef(s, op, &st, "SELECT " PERSON_COLUMNS("p.") ", m.institution_id,"
			   " m.role, m.student_code, m.created_at"
			   " FROM memberships m JOIN people p ON p.id = m.person_id"
			   " WHERE m.institution_id = ?1 AND m.role = ?2"
			   " AND m.person_id > ?3 ORDER BY m.person_id LIMIT ?4", "itii",
			   institution_id, role_text[role], after_id, (int64_t)limit);
	if (rc)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = read_person(st, 0, &p);
		if (rc == 0)
			rc = read_membership(st, PERSON_NCOLS, p.id, &m);
		if (rc == 0)
			rc = cb(&p, &m, arg);
		if (rc)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- sessions ----------------------------------------------------------- */

static int
sq_session_add(struct store *s, const struct session *sess)
{
	return store_sqlite_execf(s, "session add", STMT_SESSION_ADD,
		     "INSERT INTO sessions (" SESSION_COLUMNS ")"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "tiiiit", sess->token_hash,
		     sess->person_id, sess->created_at, sess->last_seen_at, sess->expires_at,
		     sess->source);
}

/* Returns the session as stored, ended or not: the caller judges expiry. */
static int
sq_session_get(struct store *s, const char *token_hash, struct session *out)
{
	static const char op[] = "session get";
	sqlite3_stmt *st = NULL;
	struct session v;
	int rc;

	rc = store_sqlite_stmtf(s, op, STMT_SESSION_GET, &st,
		   "SELECT " SESSION_COLUMNS " FROM sessions WHERE token_hash = ?1", "t",
		   token_hash);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc)
		goto out;
	memset(&v, 0, sizeof(v));
	rc = sqlu_col_text(st, 0, v.token_hash, sizeof(v.token_hash));
	if (rc == 0)
		rc = sqlu_col_text(st, 5, v.source, sizeof(v.source));
	if (rc)
		goto out;
	v.person_id = sqlu_col_int(st, 1);
	v.created_at = sqlu_col_int(st, 2);
	v.last_seen_at = sqlu_col_int(st, 3);
	v.expires_at = sqlu_col_int(st, 4);
	*out = v;
out:
	sqlu_done(st);
	return rc;
}

static int
sq_session_touch(struct store *s, const char *token_hash, int64_t now)
{
	int rc = store_sqlite_execf(s, "session touch", STMT_SESSION_TOUCH,
		       "UPDATE sessions SET last_seen_at = ?1 WHERE token_hash = ?2", "it",
		       now, token_hash);

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_session_delete(struct store *s, const char *token_hash)
{
	int rc = store_sqlite_execf(s, "session delete", STMT_SESSION_DELETE,
		       "DELETE FROM sessions WHERE token_hash = ?1", "t", token_hash);

	return rc ? rc : sqlu_changed_one(s);
}

/*
 * PERSON_ID > 0: every session of that person. PERSON_ID 0: every session
 * that has ended at NOW: its expires_at <= NOW or, when IDLE_TIMEOUT > 0,
 * it was last seen IDLE_TIMEOUT or more seconds ago.
 */
static int
sq_session_purge(struct store *s, int64_t person_id, int64_t now,
		 int64_t idle_timeout, int *n)
{
	static const char op[] = "session purge";
	int rc;

	if (person_id > 0)
		rc = store_sqlite_execf(s, op, STMT_SESSION_PURGE_PERSON,
			   "DELETE FROM sessions WHERE person_id = ?1", "i", person_id);
	else
		rc = store_sqlite_execf(s, op, STMT_SESSION_PURGE_ENDED,
			   "DELETE FROM sessions WHERE expires_at <= ?1"
			   " OR (?2 > 0 AND last_seen_at <= ?1 - ?2)", "ii", now, idle_timeout);
	if (rc == 0 && n != NULL)
		*n = sqlite3_changes(store_sqlite_db(s));
	return rc;
}

/* ---- API tokens --------------------------------------------------------- */

/* Reads TOKEN_COLUMNS from the current row into *OUT. */
static int
read_token(sqlite3_stmt *st, struct api_token *out)
{
	struct api_token v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.id = sqlu_col_int(st, 0);
	rc = sqlu_col_text(st, 1, v.uid, sizeof(v.uid));
	if (rc == 0)
		rc = sqlu_col_text(st, 3, v.name, sizeof(v.name));
	if (rc == 0)
		rc = sqlu_col_text(st, 4, v.scopes, sizeof(v.scopes));
	if (rc)
		return rc;
	v.institution_id = sqlu_col_int(st, 2);
	v.created_by = sqlu_col_int(st, 5);
	v.created_at = sqlu_col_int(st, 6);
	v.last_used_at = sqlu_col_int(st, 7);
	v.revoked_at = sqlu_col_int(st, 8);
	*out = v;
	return 0;
}

/* T->id 0 lets the database choose the id; either way T->id holds it
 * afterwards. T->created_at 0 means now. */
static int
sq_token_add(struct store *s, struct api_token *t, const char *token_hash)
{
	int64_t created = now_or(t->created_at);
	int rc = store_sqlite_execf(s, "token add", STMT_TOKEN_ADD,
		       "INSERT INTO api_tokens (id, uid, institution_id, name,"
		       " token_hash, scopes, created_by, created_at, last_used_at,"
		       " revoked_at) VALUES (NULLIF(?1, 0), ?2, ?3, ?4, ?5, ?6, ?7,"
		       " ?8, ?9, ?10)", "ititttiiii", t->id, t->uid, t->institution_id,
		       t->name, token_hash, t->scopes, t->created_by, created, t->last_used_at,
		       t->revoked_at);

	if (rc)
		return rc;
	t->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	t->created_at = created;
	return 0;
}

static int
sq_token_by_hash(struct store *s, const char *token_hash,
		 struct api_token *out)
{
	static const char op[] = "token by hash";
	sqlite3_stmt *st = NULL;
	int rc;

	rc = store_sqlite_stmtf(s, op, STMT_TOKEN_BY_HASH, &st,
		   "SELECT " TOKEN_COLUMNS " FROM api_tokens"
		   " WHERE token_hash = ?1 AND revoked_at = 0", "t", token_hash);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_token(st, out);
	sqlu_done(st);
	return rc;
}

/* Revoked tokens are found too (revoked_at says so). */
static int
sq_token_get(struct store *s, int64_t institution_id, const char *uid,
	     struct api_token *out)
{
	static const char op[] = "token get";
	sqlite3_stmt *st = NULL;
	int rc;

	rc = store_sqlite_stmtf(s, op, STMT_TOKEN_GET, &st,
		   "SELECT " TOKEN_COLUMNS " FROM api_tokens"
		   " WHERE institution_id = ?1 AND uid = ?2", "it", institution_id, uid);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_token(st, out);
	sqlu_done(st);
	return rc;
}

/* Oldest first, revoked ones included. */
static int
sq_token_each(struct store *s, int64_t institution_id,
	      int (*cb)(const struct api_token *t, void *arg), void *arg)
{
	static const char op[] = "token list";
	sqlite3_stmt *st = NULL;
	struct api_token t;
	int src;
	int rc;

	rc = sqlu_preparef(s, op, &st, "SELECT " TOKEN_COLUMNS " FROM api_tokens"
			   " WHERE institution_id = ?1 ORDER BY id", "i", institution_id);
	if (rc)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = read_token(st, &t);
		if (rc == 0)
			rc = cb(&t, arg);
		if (rc)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
out:
	sqlite3_finalize(st);
	return rc;
}

static int
sq_token_revoke(struct store *s, int64_t institution_id, const char *uid,
		int64_t now)
{
	struct api_token t;
	int rc = store_sqlite_execf(s, "token revoke", STMT_TOKEN_REVOKE,
		       "UPDATE api_tokens SET revoked_at = ?1"
		       " WHERE institution_id = ?2 AND uid = ?3 AND revoked_at = 0", "iit",
		       now, institution_id, uid);

	if (rc == 0 && sqlu_changed_one(s) != 0) {
		/* Nothing active matched: absent, or revoked before. */
		rc = sq_token_get(s, institution_id, uid, &t);
		if (rc == 0)
			rc = TC_ECONFLICT;
	}
	return rc;
}

static int
sq_token_touch(struct store *s, int64_t id, int64_t now)
{
	int rc = store_sqlite_execf(s, "token touch", STMT_TOKEN_TOUCH,
		       "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2", "ii", now, id);

	return rc ? rc : sqlu_changed_one(s);
}

/* ---- activation codes --------------------------------------------------- */

/* Unused codes of the person are deleted; used ones stay as history. */
static int
sq_activation_add(struct store *s, int64_t person_id, const char *code_hash,
		  int64_t now, int64_t expires_at)
{
	static const char op[] = "activation add";
	struct savepoint sp = { 0, 0 };
	int rc;

	rc = sp_begin(s, &sp);
	if (rc == 0)
		rc = store_sqlite_execf(s, op, STMT_ACTIVATION_DROP,
			   "DELETE FROM activation_codes"
			   " WHERE person_id = ?1 AND used_at = 0", "i", person_id);
	if (rc == 0)
		rc = store_sqlite_execf(s, op, STMT_ACTIVATION_ADD,
			   "INSERT INTO activation_codes (person_id, code_hash,"
			   " created_at, expires_at) VALUES (?1, ?2, ?3, ?4)", "itii", person_id,
			   code_hash, now, expires_at);
	if (rc == 0)
		rc = sp_release(s, &sp);
	if (rc)
		sp_rollback(s, &sp);
	return rc;
}

/* Valid means unused and expires_at > NOW. */
static int
sq_activation_pending(struct store *s, int64_t person_id, int64_t now, int *pending)
{
	static const char op[] = "activation pending";
	sqlite3_stmt *st = NULL;
	int src, rc;

	rc = sqlu_preparef(s, op, &st, "SELECT 1 FROM activation_codes WHERE person_id = ?1"
			   " AND used_at = 0 AND expires_at > ?2 LIMIT 1", "ii", person_id, now);
	if (rc)
		goto out;
	src = sqlite3_step(st);
	if (src == SQLITE_ROW || src == SQLITE_DONE)
		*pending = src == SQLITE_ROW;
	else
		rc = sqlu_fail(s, src, op);
out:
	sqlite3_finalize(st);
	return rc;
}

static int
sq_activation_take(struct store *s, int64_t person_id, const char *code_hash,
		   int64_t now)
{
	int rc = store_sqlite_execf(s, "activation take", STMT_ACTIVATION_TAKE,
		       "UPDATE activation_codes SET used_at = ?1"
		       " WHERE person_id = ?2 AND code_hash = ?3 AND used_at = 0"
		       " AND expires_at > ?1", "iit", now, person_id, code_hash);

	return rc ? rc : sqlu_changed_one(s);
}

/* ---- failed logins ------------------------------------------------------ */

static int
sq_login_failure_add(struct store *s, const char *account, const char *source,
		     int64_t now)
{
	return store_sqlite_execf(s, "login failure add", STMT_FAILURE_ADD,
		     "INSERT INTO login_failures (account, source, at)"
		     " VALUES (?1, ?2, ?3)", "tti", account, source, now);
}

/* Count and oldest time (0 when none) of failures with the value KEY at or
 * after SINCE, through statement SLOT (SQL). KEY NULL counts nothing. */
static int
failures_count(struct store *s, enum store_sqlite_stmt slot, const char *sql,
	       const char *key, int64_t since, int *count, int64_t *oldest)
{
	static const char op[] = "login failures";
	sqlite3_stmt *st = NULL;
	int rc;

	*count = 0;
	*oldest = 0;
	if (key == NULL)
		return 0;
	rc = store_sqlite_stmtf(s, op, slot, &st, sql, "ti", key, since);
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == TC_ENOTFOUND)
		rc = sqlu_fail(s, SQLITE_ERROR, op);	/* aggregates give a row */
	if (rc)
		goto out;
	*count = sqlite3_column_int(st, 0);
	*oldest = sqlu_col_int(st, 1);
out:
	sqlu_done(st);
	return rc;
}

static int
sq_login_failures(struct store *s, const char *account, const char *source,
		  int64_t since, int *by_account, int *by_source,
		  int64_t *oldest_account, int64_t *oldest_source)
{
	int na = 0, ns = 0;
	int64_t oa = 0, os = 0;
	int rc;

	rc = failures_count(s, STMT_FAILURES_BY_ACCOUNT,
			    "SELECT count(*), coalesce(min(at), 0)"
			    " FROM login_failures"
			    " WHERE account = ?1 AND at >= ?2",
			    account, since, &na, &oa);
	if (rc)
		goto out;
	rc = failures_count(s, STMT_FAILURES_BY_SOURCE,
			    "SELECT count(*), coalesce(min(at), 0)"
			    " FROM login_failures"
			    " WHERE source = ?1 AND at >= ?2",
			    source, since, &ns, &os);
	if (rc)
		goto out;
	if (by_account != NULL)
		*by_account = na;
	if (by_source != NULL)
		*by_source = ns;
	if (oldest_account != NULL)
		*oldest_account = oa;
	if (oldest_source != NULL)
		*oldest_source = os;
out:
	return rc;
}

/* One statement, so it is all-or-nothing; ACCOUNT NULL matches nothing. */
static int
sq_login_failures_clear(struct store *s, const char *account, int64_t before)
{
	return store_sqlite_execf(s, "login failures clear", STMT_FAILURES_CLEAR,
		     "DELETE FROM login_failures WHERE account = ?1 OR at < ?2", "ti", account,
		     before);
}

/* ---- audit -------------------------------------------------------------- */

static int
sq_audit_add(struct store *s, struct audit_event *e)
{
	int rc = store_sqlite_execf(s, "audit add", STMT_AUDIT_ADD,
		       "INSERT INTO audit_events (at, institution_id,"
		       " actor_person_id, actor_token_id, event, subject, detail,"
		       " source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "iiiitttt", e->at,
		       e->institution_id, e->actor_person_id, e->actor_token_id, e->event,
		       e->subject, e->detail, e->source);

	if (rc == 0)
		e->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	return rc;
}

/* Reads AUDIT_COLUMNS from the current row into *OUT. */
static int
read_audit(sqlite3_stmt *st, struct audit_event *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = sqlu_col_int(st, 0);
	out->at = sqlu_col_int(st, 1);
	out->institution_id = sqlu_col_int(st, 2);
	out->actor_person_id = sqlu_col_int(st, 3);
	out->actor_token_id = sqlu_col_int(st, 4);
	rc = sqlu_col_text(st, 5, out->event, sizeof(out->event));
	if (rc == 0)
		rc = sqlu_col_text(st, 6, out->subject, sizeof(out->subject));
	if (rc == 0)
		rc = sqlu_col_text(st, 7, out->detail, sizeof(out->detail));
	if (rc == 0)
		rc = sqlu_col_text(st, 8, out->source, sizeof(out->source));
	return rc;
}

static int
sq_audit_each(struct store *s, int64_t institution_id, int64_t before_id,
	      int limit, int (*cb)(const struct audit_event *e, void *arg),
	      void *arg)
{
	static const char op[] = "audit list";
	sqlite3_stmt *st = NULL;
	struct audit_event e;
	int src;
	int rc;

	rc = sqlu_preparef(s, op, &st, "SELECT " AUDIT_COLUMNS " FROM audit_events"
			   " WHERE institution_id = ?1 AND id < ?2"
			   " ORDER BY id DESC LIMIT ?3", "iii", institution_id,
			   before_id > 0 ? before_id : INT64_MAX, (int64_t)limit);
	if (rc)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = read_audit(st, &e);
		if (rc == 0)
			rc = cb(&e, arg);
		if (rc)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
out:
	sqlite3_finalize(st);
	return rc;
}

const struct identity_ops sqlite_identity_ops = {
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.meta_get = sq_meta_get,
	.meta_add = sq_meta_add,
	.institution_add = sq_institution_add,
	.institution_get = sq_institution_get,
	.institution_get_id = sq_institution_get_id,
	.institution_each = sq_institution_each,
	.key_add = sq_key_add,
	.key_current = sq_key_current,
	.key_each = sq_key_each,
	.person_upsert = sq_person_upsert,
	.person_get = sq_person_get,
	.person_get_by_nid = sq_person_get_by_nid,
	.person_get_by_uid = sq_person_get_by_uid,
	.person_set_password = sq_person_set_password,
	.password_heads_each = sq_password_heads_each,
	.membership_add = sq_membership_add,
	.membership_remove = sq_membership_remove,
	.memberships = sq_memberships,
	.members_each = sq_members_each,
	.session_add = sq_session_add,
	.session_get = sq_session_get,
	.session_touch = sq_session_touch,
	.session_delete = sq_session_delete,
	.session_purge = sq_session_purge,
	.token_add = sq_token_add,
	.token_by_hash = sq_token_by_hash,
	.token_get = sq_token_get,
	.token_each = sq_token_each,
	.token_revoke = sq_token_revoke,
	.token_touch = sq_token_touch,
	.activation_add = sq_activation_add,
	.activation_pending = sq_activation_pending,
	.activation_take = sq_activation_take,
	.login_failure_add = sq_login_failure_add,
	.login_failures = sq_login_failures,
	.login_failures_clear = sq_login_failures_clear,
	.audit_add = sq_audit_add,
	.audit_each = sq_audit_each,
};
