/*
 * consent_sqlite.c - the SQLite side of storage/consent.h: consent
 * versions (append-only), their selected credentials, the consented
 * credentials at a time, and the access log.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "storage/consent.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

#define CONSENT_COLUMNS "c.id, c.uid, c.version, c.person_id, c.institution_id, c.state," \
	" c.all_credentials, c.purpose, c.valid_until, c.created_at, c.created_by," \
	" (SELECT f.created_at FROM consents f WHERE f.person_id = c.person_id" \
	" AND f.institution_id = c.institution_id AND f.version = 1)"

static int
read_consent(sqlite3_stmt *st, struct consent_rec *out)
{
	char state[16];
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = sqlu_col_int(st, 0);
	out->version = sqlu_col_int(st, 2);
	out->person_id = sqlu_col_int(st, 3);
	out->institution_id = sqlu_col_int(st, 4);
	out->all = (int)sqlu_col_int(st, 6);
	out->valid_until = sqlu_col_int(st, 8);
	out->created_at = sqlu_col_int(st, 9);
	out->created_by = sqlu_col_int(st, 10);
	out->first_granted_at = sqlu_col_int(st, 11);
	if ((rc = sqlu_col_text(st, 1, out->uid, sizeof(out->uid))) ||
	    (rc = sqlu_col_text(st, 5, state, sizeof(state))) ||
	    (rc = sqlu_col_text(st, 7, out->purpose, sizeof(out->purpose))))
		return rc;
	out->state = strcmp(state, "withdrawn") == 0 ? CONSENT_WITHDRAWN : CONSENT_GRANTED;
	return 0;
}

/* Steps ST (prepared with CONSENT_COLUMNS) to its first row into OUT. */
static int
one_consent(struct store *s, sqlite3_stmt *st, int rc, const char *op, struct consent_rec *out)
{
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_consent(st, out);
	sqlite3_finalize(st);
	return rc;
}

/* Every row of ST to CB. */
static int
each_consent(struct store *s, sqlite3_stmt *st, int rc, const char *op,
	     int (*cb)(const struct consent_rec *c, void *arg), void *arg)
{
	struct consent_rec c;

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		rc = read_consent(st, &c);
		if (rc == 0)
			rc = cb(&c, arg);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
append_steps(struct store *s, struct consent_rec *c, const int64_t *ids, size_t n)
{
	static const char op[] = "consent append";
	sqlite3_stmt *st = NULL;
	int64_t version = 1;
	int rc = sqlu_preparef(s, op, &st, "SELECT version, uid FROM consents"
			       " WHERE person_id = ?1 AND institution_id = ?2"
			       " ORDER BY version DESC LIMIT 1", "ii", c->person_id,
			       c->institution_id);

	if (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		version = sqlu_col_int(st, 0) + 1;
		rc = sqlu_col_text(st, 1, c->uid, sizeof(c->uid));
	} else if (rc == TC_ENOTFOUND) {
		rc = c->uid[0] ? 0 : TC_EINVALID;
	}
	sqlite3_finalize(st);
	if (rc == 0)
		rc = sqlu_execf(s, op, "INSERT INTO consents (uid, version, person_id,"
				" institution_id, state, all_credentials, purpose, valid_until,"
				" created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
				" ?9, ?10)", "tiiititiii", c->uid, version, c->person_id,
				c->institution_id,
				c->state == CONSENT_WITHDRAWN ? "withdrawn" : "granted",
				(int64_t)(c->all != 0), c->purpose, c->valid_until, c->created_at,
				c->created_by);
	if (rc == 0) {
		c->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
		c->version = version;
	}
	for (size_t i = 0; rc == 0 && !c->all && i < n; i++) {
		/* only the person's own credentials */
		rc = sqlu_execf(s, op, "INSERT INTO consent_credentials (consent_id, credential_id)"
				" SELECT ?1, id FROM credentials WHERE id = ?2 AND person_id = ?3",
				"iii", c->id, ids[i], c->person_id);
		if (rc == 0)
			rc = sqlu_changed_one(s);
	}
	return rc;
}

struct append {
	struct consent_rec *c;
	const int64_t *ids;
	size_t n;
};

static int
append_in(struct store *s, void *arg)
{
	struct append *a = arg;

	return append_steps(s, a->c, a->ids, a->n);
}

static int
sq_append(struct store *s, struct consent_rec *c, const int64_t *ids, size_t n)
{
	struct append a = { c, ids, n };

	return sqlu_savepoint(s, "consent append", "consent_append", append_in, &a);
}

static int
sq_get(struct store *s, const char *uid, struct consent_rec *out)
{
	static const char op[] = "consent get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " CONSENT_COLUMNS " FROM consents c"
			       " WHERE c.uid = ?1 ORDER BY c.version DESC LIMIT 1", "t", uid);

	return one_consent(s, st, rc, op, out);
}

static int
sq_at(struct store *s, int64_t person_id, int64_t institution_id, int64_t at,
      struct consent_rec *out)
{
	static const char op[] = "consent at";
	sqlite3_stmt *st = NULL;
	/* on every recognition query: a cached statement */
	int rc = sqlu_cachedf(s, op, &st, "SELECT " CONSENT_COLUMNS " FROM consents c"
			      " WHERE c.person_id = ?1 AND c.institution_id = ?2"
			      " AND c.created_at <= ?3 ORDER BY c.version DESC LIMIT 1", "iii",
			      person_id, institution_id, at);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_consent(st, out);
	sqlu_release(s, st);
	return rc;
}

static int
sq_history_each(struct store *s, const char *uid,
		int (*cb)(const struct consent_rec *c, void *arg), void *arg)
{
	static const char op[] = "consent history";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " CONSENT_COLUMNS " FROM consents c"
			       " WHERE c.uid = ?1 ORDER BY c.version", "t", uid);

	return each_consent(s, st, rc, op, cb, arg);
}

static int
sq_credentials_each(struct store *s, int64_t consent_id, int (*cb)(const char *uid, void *arg),
		    void *arg)
{
	static const char op[] = "consent credentials";
	sqlite3_stmt *st = NULL;
	char uid[CRED_UID_MAX + 1];
	int rc = sqlu_preparef(s, op, &st, "SELECT " CREDENTIAL_UID_SQL("cr") " FROM consent_credentials cc"
			       " JOIN credentials cr ON cr.id = cc.credential_id"
			       " WHERE cc.consent_id = ?1 ORDER BY cc.credential_id", "i",
			       consent_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		if (sqlite3_column_bytes(st, 0) != 16 || !sqlite3_column_blob(st, 0)) {
			rc = TC_EDB;
			break;
		}
		sqlite_credential_uid_text(sqlite3_column_blob(st, 0), uid);
		rc = cb(uid, arg);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_of_person_each(struct store *s, int64_t person_id,
		  int (*cb)(const struct consent_rec *c, void *arg), void *arg)
{
	static const char op[] = "consents of person";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " CONSENT_COLUMNS " FROM consents c"
			       " WHERE c.person_id = ?1 AND c.version = (SELECT max(v.version)"
			       " FROM consents v WHERE v.person_id = c.person_id"
			       " AND v.institution_id = c.institution_id) ORDER BY c.id DESC", "i",
			       person_id);

	return each_consent(s, st, rc, op, cb, arg);
}

static int
sq_of_institution_each(struct store *s, int64_t institution_id, int64_t after, int64_t at,
		       int limit, int (*cb)(const struct consent_rec *c, void *arg), void *arg)
{
	static const char op[] = "consents of institution";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " CONSENT_COLUMNS " FROM consents c"
			       " WHERE c.institution_id = ?1 AND c.id > ?2"
			       " AND c.version = (SELECT max(v.version) FROM consents v"
			       " WHERE v.person_id = c.person_id AND v.institution_id = ?1)"
			       " AND c.state = 'granted' AND c.valid_until > ?4"
			       " ORDER BY c.id LIMIT ?3", "iiii", institution_id, after,
			       (int64_t)limit, at);

	return each_consent(s, st, rc, op, cb, arg);
}

/*
 * Outside a transaction, the consent, the rows and whatever CB reads for
 * them (the recognition query's key, course and rule look-ups, ten or so
 * a credential) share one read transaction: one snapshot, and one WAL
 * read lock instead of one per statement.
 */
static int
sq_consented_then(struct store *s, int64_t person_id, int64_t institution_id, int64_t at,
		  struct consent_rec *consent,
		  int (*cb)(const struct credential_rec *c, void *arg),
		  int (*then)(const struct consent_rec *c, void *arg), void *arg)
{
	static const char op[] = "consented credentials";
	sqlite3 *db = store_sqlite_db(s);
	int own = sqlite3_get_autocommit(db);
	struct credential_rec cr;
	struct consent_rec c;
	sqlite3_stmt *st = NULL;
	int rc = own ? sqlu_execf(s, op, "BEGIN", "") : 0;

	if (rc == 0)
		rc = sq_at(s, person_id, institution_id, at, &c);
	if (rc == 0 && (c.state != CONSENT_GRANTED || at >= c.valid_until))
		rc = TC_ENOTFOUND;
	if (rc == 0 && consent)
		*consent = c;
	if (rc == 0 && c.all)
		rc = sqlu_cachedf(s, op, &st, CREDENTIAL_SELECT
				  " WHERE c.person_id = ?1 ORDER BY c.id DESC", "i", person_id);
	else if (rc == 0)
		rc = sqlu_cachedf(s, op, &st, CREDENTIAL_SELECT
				  " JOIN consent_credentials cc ON cc.credential_id = c.id"
				  " WHERE cc.consent_id = ?1 ORDER BY c.id DESC", "i",
				  c.id);
	if (rc == 0) {
		while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
			rc = sqlite_credential_read(st, &cr);
			if (rc == 0)
				rc = cb(&cr, arg);
			free(cr.shared);
		}
		sqlu_release(s, st);
		if (rc == TC_ENOTFOUND)	/* the rows' end */
			rc = 0;
	}
	if (rc == 0 && then)	/* still in the rows' snapshot */
		rc = then(&c, arg);
	if (own && !sqlite3_get_autocommit(db) && (rc || sqlu_execf(s, op, "COMMIT", "")))
		sqlu_execf(s, op, "ROLLBACK", "");
	return rc;
}

static int
sq_consented_each(struct store *s, int64_t person_id, int64_t institution_id, int64_t at,
		  struct consent_rec *consent,
		  int (*cb)(const struct credential_rec *c, void *arg), void *arg)
{
	return sq_consented_then(s, person_id, institution_id, at, consent, cb, NULL, arg);
}

static int
sq_access_record(struct store *s, struct consent_access *a)
{
	int rc = sqlu_execf(s, "consent access", "INSERT INTO consent_accesses (institution_id,"
			    " person_id, consent_id, purpose, reader_token_id, reader_person_id,"
			    " credentials, at) VALUES (?1, ?2, ?3, ?4, nullif(?5, 0), nullif(?6, 0),"
			    " json(?7), ?8)", "iiitiiti", a->institution_id, a->person_id,
			    a->consent_id, a->purpose, a->reader_token_id, a->reader_person_id,
			    a->credentials, a->at);

	if (rc == 0)
		a->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	return rc;
}

static int
sq_accesses_each(struct store *s, int64_t person_id, int64_t before, int limit,
		 int (*cb)(const struct consent_access *a, void *arg), void *arg)
{
	static const char op[] = "consent accesses";
	struct consent_access a;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT x.id, x.institution_id, x.consent_id,"
			       " x.purpose, coalesce(x.reader_token_id, 0),"
			       " coalesce(x.reader_person_id, 0), x.at, x.credentials, i.code, i.name,"
			       " coalesce(t.name, p.full_name, '') FROM consent_accesses x"
			       " JOIN institutions i ON i.id = x.institution_id"
			       " LEFT JOIN api_tokens t ON t.id = x.reader_token_id"
			       " LEFT JOIN people p ON p.id = x.reader_person_id"
			       " WHERE x.person_id = ?1 AND (?2 = 0 OR x.id < ?2)"
			       " ORDER BY x.id DESC LIMIT ?3", "iii", person_id, before,
			       (int64_t)limit);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		memset(&a, 0, sizeof(a));
		a.id = sqlu_col_int(st, 0);
		a.person_id = person_id;
		a.institution_id = sqlu_col_int(st, 1);
		a.consent_id = sqlu_col_int(st, 2);
		a.reader_token_id = sqlu_col_int(st, 4);
		a.reader_person_id = sqlu_col_int(st, 5);
		a.at = sqlu_col_int(st, 6);
		a.credentials = (const char *)sqlite3_column_text(st, 7);
		if (!a.credentials)
			rc = TC_ENOMEM;
		if (rc == 0 && ((rc = sqlu_col_text(st, 3, a.purpose, sizeof(a.purpose))) ||
				(rc = sqlu_col_text(st, 8, a.institution_code,
						    sizeof(a.institution_code))) ||
				(rc = sqlu_col_text(st, 9, a.institution_name,
						    sizeof(a.institution_name))) ||
				(rc = sqlu_col_text(st, 10, a.reader_name, sizeof(a.reader_name)))))
			break;
		if (rc == 0)
			rc = cb(&a, arg);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

const struct consent_ops sqlite_consent_ops = {
	.append = sq_append,
	.get = sq_get,
	.at = sq_at,
	.history_each = sq_history_each,
	.credentials_each = sq_credentials_each,
	.of_person_each = sq_of_person_each,
	.of_institution_each = sq_of_institution_each,
	.consented_each = sq_consented_each,
	.access_record = sq_access_record,
	.accesses_each = sq_accesses_each,
	.consented_then = sq_consented_then,
};
