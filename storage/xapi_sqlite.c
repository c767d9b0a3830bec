/*
 * xapi_sqlite.c - the SQLite side of storage/xapi.h: LRS credentials,
 * statements (one row each plus the agent and activity keys the queries
 * filter on), activity definitions and documents. The statement insert is
 * hot (2,000 statements/s in batches): its statements are long-lived
 * (store_sqlite.h slots), compiled once per connection.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"
#include "storage/xapi.h"

/* ---- credentials ------------------------------------------------------------ */

#define CRED_COLUMNS "id, uid, institution_id, key, name, scopes, created_by, created_at, revoked_at"

static int
read_cred(sqlite3_stmt *st, struct lrs_credential *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->id = sqlu_col_int(st, 0);
	c->institution_id = sqlu_col_int(st, 2);
	c->created_by = sqlu_col_int(st, 6);
	c->created_at = sqlu_col_int(st, 7);
	c->revoked_at = sqlu_col_int(st, 8);
	if ((rc = sqlu_col_text(st, 1, c->uid, sizeof(c->uid))) ||
	    (rc = sqlu_col_text(st, 3, c->key, sizeof(c->key))) ||
	    (rc = sqlu_col_text(st, 4, c->name, sizeof(c->name))) ||
	    (rc = sqlu_col_text(st, 5, c->scopes, sizeof(c->scopes))))
		return rc;
	return 0;
}

static int
sq_cred_add(struct store *s, struct lrs_credential *c, const char *secret_hash)
{
	int rc = sqlu_execf(s, "lrs credential add",
		"INSERT INTO lrs_credentials (uid, institution_id, key, secret_hash, name, scopes,"
		" created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		"titttiii", c->uid, c->institution_id, c->key, secret_hash, c->name, c->scopes,
		c->created_by, c->created_at);

	if (rc == 0)
		c->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	return rc;
}

static int
sq_cred_by_key(struct store *s, const char *key, struct lrs_credential *out, char *secret_hash)
{
	static const char op[] = "lrs credential by key";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " CRED_COLUMNS ", secret_hash"
			       " FROM lrs_credentials WHERE key = ?1 AND revoked_at = 0", "t", key);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_cred(st, out);
	if (rc == 0)
		rc = sqlu_col_text(st, 9, secret_hash, 65);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_creds_each(struct store *s, int64_t institution_id,
	      int (*cb)(const struct lrs_credential *c, void *arg), void *arg)
{
	static const char op[] = "lrs credentials";
	sqlite3_stmt *st = NULL;
	struct lrs_credential c;
	int rc = sqlu_preparef(s, op, &st, "SELECT " CRED_COLUMNS " FROM lrs_credentials"
			       " WHERE institution_id = ?1 ORDER BY id DESC", "i", institution_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0)
		if ((rc = read_cred(st, &c)) == 0)
			rc = cb(&c, arg);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_cred_revoke(struct store *s, int64_t institution_id, const char *uid, int64_t now)
{
	static const char op[] = "lrs credential revoke";
	sqlite3_stmt *st = NULL;
	int64_t revoked = 0;
	int rc = sqlu_preparef(s, op, &st, "SELECT revoked_at FROM lrs_credentials"
			       " WHERE institution_id = ?1 AND uid = ?2", "it", institution_id, uid);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		revoked = sqlu_col_int(st, 0);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (revoked)
		return TC_ECONFLICT;
	return sqlu_execf(s, op, "UPDATE lrs_credentials SET revoked_at = ?1"
			  " WHERE institution_id = ?2 AND uid = ?3", "iit", now < 1 ? 1 : now,
			  institution_id, uid);
}

/* ---- statements --------------------------------------------------------------- */

static int
refs_add(struct store *s, enum store_sqlite_stmt slot, const char *sql, int64_t row,
	 const struct xapi_ref *refs, size_t n, const char *op)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = store_sqlite_execf(s, op, slot, sql, "iti", row, refs[i].key,
					(int64_t)refs[i].role);
	return rc;
}

static int
statement_add_tx(struct store *s, const struct xapi_statement_row *r)
{
	static const char op[] = "xapi statement add";
	int64_t row;
	int rc = store_sqlite_execf(s, op, STMT_XAPI_STMT_ADD,
		"INSERT INTO statements (statement_id, institution_id, credential_id, json,"
		" stored_us, timestamp_us, verb_id, registration, is_voiding, ref_target)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", "tiitiittit",
		r->statement_id, r->institution_id, r->credential_id, r->json, r->stored_us,
		r->timestamp_us, r->verb_id, r->registration, (int64_t)(r->voids ? 1 : 0),
		r->ref_target);

	if (rc)
		return rc;
	row = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	rc = refs_add(s, STMT_XAPI_AGENT_ADD,
		      "INSERT OR IGNORE INTO statement_agents (statement, key, role)"
		      " VALUES (?1, ?2, ?3)", row, r->agents, r->nagents, op);
	if (rc == 0)
		rc = refs_add(s, STMT_XAPI_ACTIVITY_ADD,
			      "INSERT OR IGNORE INTO statement_activities (statement, activity_id,"
			      " role) VALUES (?1, ?2, ?3)", row, r->activities, r->nactivities, op);
	if (rc == 0 && r->voids) {
		rc = store_sqlite_execf(s, op, STMT_XAPI_VOID,
			"UPDATE statements SET voided = 1 WHERE institution_id = ?1"
			" AND statement_id = ?2 AND is_voiding = 0", "it", r->institution_id,
			r->voids);
	}
	return rc;
}

static int
sq_statement_add(struct store *s, const struct xapi_statement_row *r)
{
	sqlite3 *db = store_sqlite_db(s);
	int own = sqlite3_get_autocommit(db), rc;

	/* alone, the statement and its keys still commit together */
	if (own && (rc = sqlu_execf(s, "xapi begin", "BEGIN IMMEDIATE", "")))
		return rc;
	rc = statement_add_tx(s, r);
	if (own) {
		if (rc == 0)
			rc = sqlu_execf(s, "xapi commit", "COMMIT", "");
		if (rc)
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	} else if (rc == TC_ECONFLICT) {
		/* a caller's batch decides itself; nothing of this one was written
		 * (the failed INSERT was the first step) */
	}
	return rc;
}

static int
sq_statement_get(struct store *s, int64_t institution_id, const char *statement_id,
		 char **json, int *voided, int *is_voiding, int64_t *stored_us)
{
	static const char op[] = "xapi statement get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT json, voided, is_voiding, stored_us"
			       " FROM statements WHERE institution_id = ?1 AND statement_id = ?2",
			       "it", institution_id, statement_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0) {
		if (voided)
			*voided = (int)sqlu_col_int(st, 1);
		if (is_voiding)
			*is_voiding = (int)sqlu_col_int(st, 2);
		if (stored_us)
			*stored_us = sqlu_col_int(st, 3);
		if (json)
			rc = sqlu_col_dup(st, 0, json);
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_statements_query(struct store *s, const struct xapi_query *q,
		    int (*cb)(const char *json, int64_t cursor, int64_t stored_us, void *arg),
		    void *arg)
{
	static const char op[] = "xapi statements query";
	struct dynbuf sql;
	sqlite3_stmt *st = NULL;
	int rc = 0, n = 0;

	dynbuf_init(&sql, 16384);
	int filtered = q->agent || q->verb || q->activity || q->registration;

	dynbuf_init(&sql, 16384);
	/* ?1 institution, ?2 agent, ?3 verb, ?4 activity, ?5 registration,
	 * ?6 since, ?7 until, ?8 cursor, ?9 limit. With filters, M is the set
	 * that matches them plus, recursively, the statements whose
	 * StatementRef object names one of the set. */
	if ((filtered && dynbuf_printf(&sql, "WITH RECURSIVE m (id, sid) AS ("
				       "SELECT s.id, s.statement_id FROM statements s"
				       " WHERE s.institution_id = ?1")) ||
	    (!filtered && dynbuf_printf(&sql, "SELECT s.json, s.id, s.stored_us FROM statements s"
					" WHERE s.institution_id = ?1 AND s.voided = 0")) ||
	    (q->agent && dynbuf_printf(&sql, " AND s.id IN (SELECT statement FROM"
			    " statement_agents WHERE key = ?2%s)",
			    q->related_agents ? "" : " AND role <= 1")) ||
	    (q->verb && dynbuf_printf(&sql, " AND s.verb_id = ?3")) ||
	    (q->activity && dynbuf_printf(&sql, " AND s.id IN (SELECT statement FROM"
			       " statement_activities WHERE activity_id = ?4%s)",
			       q->related_activities ? "" : " AND role = 1")) ||
	    (q->registration && dynbuf_printf(&sql, " AND s.registration = ?5")) ||
	    (filtered && dynbuf_printf(&sql, " UNION SELECT r.id, r.statement_id FROM statements r"
				       " JOIN m ON r.institution_id = ?1 AND r.ref_target = m.sid)"
				       " SELECT s.json, s.id, s.stored_us FROM statements s"
				       " WHERE s.id IN (SELECT id FROM m) AND s.voided = 0")) ||
	    (q->since_us && dynbuf_printf(&sql, " AND s.stored_us > ?6")) ||
	    (q->until_us && dynbuf_printf(&sql, " AND s.stored_us <= ?7")) ||
	    (q->after && dynbuf_printf(&sql, " AND s.id %s ?8", q->ascending ? ">" : "<")) ||
	    dynbuf_printf(&sql, " ORDER BY s.id %s LIMIT ?9", q->ascending ? "ASC" : "DESC")) {
		rc = TC_ENOMEM;
		goto out;
	}
	if ((rc = sqlu_prepare(s, sql.data, op, &st)))
		goto out;
	if (sqlu_bind_int(st, 1, q->institution_id) ||
	    (q->agent && sqlu_bind_text(st, 2, q->agent)) ||
	    (q->verb && sqlu_bind_text(st, 3, q->verb)) ||
	    (q->activity && sqlu_bind_text(st, 4, q->activity)) ||
	    (q->registration && sqlu_bind_text(st, 5, q->registration)) ||
	    sqlu_bind_int(st, 6, q->since_us) || sqlu_bind_int(st, 7, q->until_us) ||
	    sqlu_bind_int(st, 8, q->after) || sqlu_bind_int(st, 9, q->limit)) {
		rc = sqlu_bind_fail(s, op);
		goto out;
	}
	while ((rc = sqlu_step_row(s, st, op)) == 0 && n++ < q->limit) {
		const char *json = (const char *)sqlite3_column_text(st, 0);
		if (!json) {
			rc = TC_ENOMEM;
			break;
		}
		if ((rc = cb(json, sqlu_col_int(st, 1), sqlu_col_int(st, 2), arg)))
			break;
	}
	if (rc == TC_ENOTFOUND)
		rc = 0;
out:
	sqlite3_finalize(st);
	dynbuf_cleanup(&sql);
	return rc;
}

static int
sq_activity_get(struct store *s, int64_t institution_id, const char *activity_id, char **json)
{
	static const char op[] = "xapi activity get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT definition FROM xapi_activities"
			       " WHERE institution_id = ?1 AND activity_id = ?2",
			       "it", institution_id, activity_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = sqlu_col_dup(st, 0, json);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_activity_put(struct store *s, int64_t institution_id, const char *activity_id,
		const char *json)
{
	return sqlu_execf(s, "xapi activity put",
			  "INSERT INTO xapi_activities (institution_id, activity_id, definition)"
			  " VALUES (?1, ?2, ?3) ON CONFLICT (institution_id, activity_id)"
			  " DO UPDATE SET definition = excluded.definition",
			  "itt", institution_id, activity_id, json);
}

/* ---- attachments ---------------------------------------------------------------- */

static int
sq_attachment_put(struct store *s, int64_t institution_id, const char *sha2,
		  const char *content_type, const void *data, size_t len)
{
	static const char op[] = "xapi attachment put";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "INSERT OR IGNORE INTO xapi_attachments"
			       " (institution_id, sha2, content_type, body) VALUES (?1, ?2, ?3, ?4)",
			       "itt", institution_id, sha2, content_type);

	if (rc)
		return rc;
	if (len > (size_t)INT_MAX ||
	    sqlite3_bind_blob(st, 4, len ? data : "", (int)len, SQLITE_STATIC) != SQLITE_OK)
		rc = sqlu_bind_fail(s, op);
	else
		rc = sqlu_step_done(s, st, op);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_attachment_get(struct store *s, int64_t institution_id, const char *sha2,
		  char *content_type, size_t ctsize, unsigned char **data, size_t *len)
{
	static const char op[] = "xapi attachment get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT content_type, body FROM xapi_attachments"
			       " WHERE institution_id = ?1 AND sha2 = ?2", "it", institution_id, sha2);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && (rc = sqlu_col_text(st, 0, content_type, ctsize)) == 0) {
		const void *b = sqlite3_column_blob(st, 1);
		int n = sqlite3_column_bytes(st, 1);

		if (n > 0) {
			*data = malloc((size_t)n);
			if (!*data || !b) {
				rc = TC_ENOMEM;
			} else {
				memcpy(*data, b, (size_t)n);
				*len = (size_t)n;
			}
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- documents ------------------------------------------------------------------ */

static const char *const kind_names[] = { "state", "activity_profile", "agent_profile" };

#define DOC_WHERE "institution_id = ?1 AND kind = ?2 AND activity_id = ?3 AND agent_key = ?4" \
	" AND registration = ?5"

static int
sq_doc_get(struct store *s, const struct xapi_doc_key *k, struct xapi_doc *out)
{
	static const char op[] = "xapi document get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT content_type, etag, updated_us, body"
			       " FROM xapi_documents WHERE " DOC_WHERE " AND doc_id = ?6",
			       "itttt" "t", k->institution_id, kind_names[k->kind], k->activity_id,
			       k->agent_key, k->registration, k->doc_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && (rc = sqlu_col_text(st, 0, out->content_type, sizeof(out->content_type))) == 0 &&
	    (rc = sqlu_col_text(st, 1, out->etag, sizeof(out->etag))) == 0) {
		const void *b = sqlite3_column_blob(st, 3);
		int n = sqlite3_column_bytes(st, 3);

		out->updated_us = sqlu_col_int(st, 2);
		out->len = n > 0 ? (size_t)n : 0;
		if (out->len) {
			out->body = malloc(out->len);
			if (!out->body || !b)
				rc = TC_ENOMEM;
			else
				memcpy(out->body, b, out->len);
		}
	}
	sqlite3_finalize(st);
	if (rc) {
		free(out->body);
		out->body = NULL;
		out->len = 0;
	}
	return rc;
}

static int
sq_doc_put(struct store *s, const struct xapi_doc_key *k, const char *content_type,
	   const void *body, size_t len, const char *etag, int64_t now_us)
{
	static const char op[] = "xapi document put";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st,
		"INSERT INTO xapi_documents (institution_id, kind, activity_id, agent_key,"
		" registration, doc_id, content_type, etag, updated_us, body)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
		" ON CONFLICT (institution_id, kind, activity_id, agent_key, registration, doc_id)"
		" DO UPDATE SET content_type = excluded.content_type, etag = excluded.etag,"
		" updated_us = excluded.updated_us, body = excluded.body",
		"ittttttti", k->institution_id, kind_names[k->kind],
		k->activity_id, k->agent_key, k->registration, k->doc_id, content_type, etag,
		now_us);

	if (rc)
		return rc;
	if (sqlite3_bind_blob64(st, 10, len ? body : "", (sqlite3_uint64)len, SQLITE_STATIC) !=
	    SQLITE_OK)
		rc = sqlu_bind_fail(s, op);
	else
		rc = sqlu_step_done(s, st, op);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_doc_delete(struct store *s, const struct xapi_doc_key *k)
{
	if (k->doc_id)
		return sqlu_execf(s, "xapi document delete",
				  "DELETE FROM xapi_documents WHERE " DOC_WHERE " AND doc_id = ?6",
				  "itttt" "t", k->institution_id, kind_names[k->kind], k->activity_id,
				  k->agent_key, k->registration, k->doc_id);
	return sqlu_execf(s, "xapi documents delete",
			  "DELETE FROM xapi_documents WHERE " DOC_WHERE, "itttt",
			  k->institution_id, kind_names[k->kind], k->activity_id, k->agent_key,
			  k->registration);
}

static int
sq_doc_ids(struct store *s, const struct xapi_doc_key *k, int64_t since_us,
	   int (*cb)(const char *doc_id, void *arg), void *arg)
{
	static const char op[] = "xapi document ids";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT doc_id FROM xapi_documents WHERE " DOC_WHERE
			       " AND updated_us > ?6 ORDER BY doc_id", "itttti", k->institution_id,
			       kind_names[k->kind], k->activity_id, k->agent_key, k->registration,
			       since_us);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		rc = id ? cb(id, arg) : TC_ENOMEM;
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

const struct xapi_ops sqlite_xapi_ops = {
	.cred_add = sq_cred_add,
	.cred_by_key = sq_cred_by_key,
	.creds_each = sq_creds_each,
	.cred_revoke = sq_cred_revoke,
	.statement_add = sq_statement_add,
	.statement_get = sq_statement_get,
	.statements_query = sq_statements_query,
	.activity_get = sq_activity_get,
	.activity_put = sq_activity_put,
	.doc_get = sq_doc_get,
	.doc_put = sq_doc_put,
	.doc_delete = sq_doc_delete,
	.doc_ids = sq_doc_ids,
	.attachment_put = sq_attachment_put,
	.attachment_get = sq_attachment_get,
};
