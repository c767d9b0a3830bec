/*
 * recognition_sqlite.c - the SQLite side of storage/recognition.h: rules
 * and their versions written in one savepoint with their look-up keys, the
 * candidate query (primary-key look-ups on recognition_rule_keys), the
 * registry's key by DID and a course's ISCED-F field.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "storage/recognition.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

struct rule_write {
	int (*steps)(struct store *s, const void *r, char keys[][RECOG_KEY_MAX], int n);
	const void *r;
	char (*keys)[RECOG_KEY_MAX];
	int n;
};

static int
rule_write_steps(struct store *s, void *arg)
{
	struct rule_write *w = arg;

	return w->steps(s, w->r, w->keys, w->n);
}

/* Runs STEPS(s, r, keys, n) inside SAVEPOINT recognition (sqlu_savepoint). */
static int
in_savepoint(struct store *s, const char *op, int (*steps)(struct store *s, const void *r,
							    char keys[][RECOG_KEY_MAX], int n),
	     const void *r, char keys[][RECOG_KEY_MAX], int n)
{
	struct rule_write w = { steps, r, keys, n };

	return sqlu_savepoint(s, op, "recognition", rule_write_steps, &w);
}

static int
add_version_and_keys(struct store *s, const struct recog_rule_rec *r,
		     char keys[][RECOG_KEY_MAX], int n)
{
	static const char op[] = "recognition rule version";
	int rc = sqlu_execf(s, op, "INSERT INTO recognition_rule_versions (rule_id, version,"
			    " source_id, status, body, created_at, created_by)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "iiittii", r->id,
			    (int64_t)r->version, r->source_id, recognition_status_name(r->status),
			    r->body, r->created_at, r->created_by);

	if (rc == 0)
		rc = sqlu_execf(s, op, "DELETE FROM recognition_rule_keys WHERE rule_id = ?1",
				"i", r->id);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = sqlu_execf(s, op, "INSERT INTO recognition_rule_keys (institution_id,"
				" source_id, key, rule_id) VALUES (?1, ?2, ?3, ?4)"
				" ON CONFLICT DO NOTHING", "iiti", r->institution_id, r->source_id,
				keys[i], r->id);
	return rc;
}

static int
add_steps(struct store *s, const void *arg, char keys[][RECOG_KEY_MAX], int n)
{
	struct recog_rule_rec *r = (struct recog_rule_rec *)arg;
	int rc = sqlu_execf(s, "recognition rule add", "INSERT INTO recognition_rules"
			    " (institution_id, source_id, version, status, body, updated_at)"
			    " VALUES (?1, ?2, 1, ?3, ?4, ?5)", "iitti", r->institution_id,
			    r->source_id, recognition_status_name(r->status), r->body,
			    r->created_at);

	if (rc)
		return rc;
	r->id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	r->version = 1;
	return add_version_and_keys(s, r, keys, n);
}

static int
sq_add(struct store *s, struct recog_rule_rec *r, char keys[][RECOG_KEY_MAX], int n)
{
	int64_t id = r->id;
	int version = r->version;
	int rc = in_savepoint(s, "recognition rule add", add_steps, r, keys, n);

	if (rc) {
		r->id = id;
		r->version = version;
	}
	return rc;
}

static int
update_steps(struct store *s, const void *arg, char keys[][RECOG_KEY_MAX], int n)
{
	const struct recog_rule_rec *r = arg;
	static const char op[] = "recognition rule update";
	sqlite3_stmt *st = NULL;
	int64_t current;
	int rc = sqlu_preparef(s, op, &st, "SELECT version FROM recognition_rules"
			       " WHERE id = ?1 AND institution_id = ?2", "ii", r->id,
			       r->institution_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	current = rc == 0 ? sqlu_col_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (current + 1 != r->version)
		return TC_ECONFLICT;
	rc = sqlu_execf(s, op, "UPDATE recognition_rules SET version = ?1, source_id = ?2,"
			" status = ?3, body = ?4, updated_at = ?5 WHERE id = ?6", "iittii",
			(int64_t)r->version, r->source_id, recognition_status_name(r->status),
			r->body, r->created_at, r->id);
	return rc ? rc : add_version_and_keys(s, r, keys, n);
}

static int
sq_update(struct store *s, const struct recog_rule_rec *r, char keys[][RECOG_KEY_MAX], int n)
{
	return in_savepoint(s, "recognition rule update", update_steps, r, keys, n);
}

#define RULE_COLUMNS "r.id, r.institution_id, r.source_id, r.version, r.status, r.updated_at," \
	" r.body"

/* A row of RULE_COLUMNS (or the same shape from the versions) into OUT,
 * its body borrowed from the statement when BORROW, else allocated. */
static int
read_rule(sqlite3_stmt *st, struct recog_rule_rec *out, int borrow)
{
	char status[16];
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = sqlu_col_int(st, 0);
	out->institution_id = sqlu_col_int(st, 1);
	out->source_id = sqlu_col_int(st, 2);
	out->version = (int)sqlu_col_int(st, 3);
	out->created_at = sqlu_col_int(st, 5);
	if (sqlite3_column_count(st) > 7)
		out->created_by = sqlu_col_int(st, 7);
	if ((rc = sqlu_col_text(st, 4, status, sizeof(status))))
		return rc;
	if (recognition_status_parse(status, &out->status))
		return TC_EDB;
	if (!borrow)
		return sqlu_col_dup(st, 6, &out->body);
	out->body = (char *)sqlite3_column_text(st, 6);
	return out->body ? 0 : TC_EDB;
}

/* Steps ST to its end, calling CB with each row (body borrowed). */
static int
each_row(struct store *s, sqlite3_stmt *st, const char *op,
	 int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg, int *rows)
{
	struct recog_rule_rec r;
	int src, rc = 0;

	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = read_rule(st, &r, 1)) == 0)
			rc = cb(&r, arg);
		if (rows)
			(*rows)++;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
	return rc;
}

static int
sq_get(struct store *s, int64_t institution_id, int64_t rule_id, struct recog_rule_rec *out)
{
	static const char op[] = "recognition rule get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " RULE_COLUMNS " FROM recognition_rules r"
			       " WHERE r.id = ?1 AND r.institution_id = ?2", "ii", rule_id,
			       institution_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_rule(st, out, 0);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_each(struct store *s, int64_t institution_id,
	int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg)
{
	static const char op[] = "recognition rules";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " RULE_COLUMNS " FROM recognition_rules r"
			       " WHERE r.institution_id = ?1 ORDER BY r.id", "i", institution_id);

	if (rc == 0)
		rc = each_row(s, st, op, cb, arg, NULL);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_versions(struct store *s, int64_t institution_id, int64_t rule_id,
	    int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg)
{
	static const char op[] = "recognition rule versions";
	sqlite3_stmt *st = NULL;
	int rows = 0;
	int rc = sqlu_preparef(s, op, &st, "SELECT v.rule_id, r.institution_id, v.source_id,"
			       " v.version, v.status, v.created_at, v.body, v.created_by"
			       " FROM recognition_rule_versions v JOIN recognition_rules r"
			       " ON r.id = v.rule_id WHERE v.rule_id = ?1 AND r.institution_id = ?2"
			       " ORDER BY v.version", "ii", rule_id, institution_id);

	if (rc == 0)
		rc = each_row(s, st, op, cb, arg, &rows);
	sqlite3_finalize(st);
	return rc == 0 && rows == 0 ? TC_ENOTFOUND : rc;
}

/* The one query of the recognition hot path: a long-lived statement. */
static int
sq_candidates(struct store *s, int64_t institution_id, int64_t source_id,
	      char keys[][RECOG_KEY_MAX], int n,
	      int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg)
{
	static const char op[] = "recognition candidates";
	sqlite3_stmt *st = NULL;
	int rc = store_sqlite_stmt(s, STMT_RECOG_CANDIDATES,
				   "SELECT " RULE_COLUMNS " FROM recognition_rules r"
				   " WHERE r.id IN (SELECT rule_id FROM recognition_rule_keys"
				   " WHERE institution_id = ?1 AND source_id IN (?2, 0)"
				   " AND key IN (?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)) ORDER BY r.id", &st);

	if (rc)
		return rc;
	/* unused places stay NULL, which equals no key */
	if (sqlu_bind_int(st, 1, institution_id) || sqlu_bind_int(st, 2, source_id))
		rc = sqlu_bind_fail(s, op);
	for (int i = 0; rc == 0 && i < RECOG_LOOKUP_KEYS; i++)
		if (i < n ? sqlu_bind_text(st, 3 + i, keys[i])
			  : sqlite3_bind_null(st, 3 + i) != SQLITE_OK)
			rc = sqlu_bind_fail(s, op);
	if (rc == 0)
		rc = each_row(s, st, op, cb, arg, NULL);
	sqlu_done(st);
	return rc;
}

static int
sq_rules_stamp(struct store *s, int64_t *stamp)
{
	static const char op[] = "recognition rules stamp";
	sqlite3_stmt *st = NULL;
	int rc = store_sqlite_stmt(s, STMT_RECOG_STAMP, "SELECT coalesce(max(rowid), 0)"
				   " FROM recognition_rule_versions", &st);

	if (rc)
		return rc;
	rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		*stamp = sqlu_col_int(st, 0);
	sqlu_done(st);
	return rc;
}

static int
sq_key_by_did(struct store *s, const char *did, struct inst_key *out)
{
	static const char op[] = "registry key by did";
	sqlite3_stmt *st = NULL;
	const void *pub;
	int rc = store_sqlite_stmt(s, STMT_RECOG_KEY_BY_DID, "SELECT id, institution_id, file,"
				   " pub, did, valid_from, valid_until FROM institution_keys"
				   " WHERE did = ?1", &st);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	rc = sqlu_bind_text(st, 1, did) ? sqlu_bind_fail(s, op) : sqlu_step_row(s, st, op);
	if (rc == 0) {
		out->id = sqlu_col_int(st, 0);
		out->institution_id = sqlu_col_int(st, 1);
		out->valid_from = sqlu_col_int(st, 5);
		out->valid_until = sqlu_col_int(st, 6);
		pub = sqlite3_column_blob(st, 3);
		if (!pub || sqlite3_column_bytes(st, 3) != (int)sizeof(out->pub))
			rc = TC_EDB;
		else
			memcpy(out->pub, pub, sizeof(out->pub));
		if (rc == 0)
			rc = sqlu_col_text(st, 2, out->file, sizeof(out->file));
		if (rc == 0)
			rc = sqlu_col_text(st, 4, out->did, sizeof(out->did));
	}
	sqlu_done(st);
	return rc;
}

static int
sq_field_set(struct store *s, int64_t course_id, const char *field)
{
	int rc = sqlu_execf(s, "course field set", "UPDATE courses SET isced_field = ?1"
			    " WHERE id = ?2", "ti", field, course_id);

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_level_field(struct store *s, int64_t course_id, char level[RECOG_LEVEL_MAX + 1],
	       char field[RECOG_FIELD_MAX + 1])
{
	static const char op[] = "course level and field";
	sqlite3_stmt *st = NULL;
	int rc = store_sqlite_stmt(s, STMT_RECOG_COURSE, "SELECT level, isced_field FROM courses"
				   " WHERE id = ?1", &st);

	level[0] = field[0] = '\0';
	if (rc)
		return rc;
	rc = sqlu_bind_int(st, 1, course_id) ? sqlu_bind_fail(s, op) : sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = sqlu_col_text(st, 0, level, RECOG_LEVEL_MAX + 1);
	if (rc == 0)
		rc = sqlu_col_text(st, 1, field, RECOG_FIELD_MAX + 1);
	sqlu_done(st);
	return rc;
}

/* ---- mutual agreements ---------------------------------------------------- */

/* RULE_COLUMNS, a 0 in created_by's place, then the decision's */
#define PROPOSAL_SELECT "SELECT " RULE_COLUMNS ", 0, m.rule_id, m.state, m.rule_version," \
	" m.reverse_rule_id, m.decided_at, m.decided_by FROM recognition_rules r" \
	" LEFT JOIN recognition_mutual m ON m.rule_id = r.id" \
	" WHERE r.source_id = ?1 AND r.status <> 'expired' AND json_extract(r.body, '$.mutual') = 1"

static int
read_decision(sqlite3_stmt *st, int64_t partner_id, struct recog_mutual *m)
{
	char state[16];

	memset(m, 0, sizeof(*m));
	if (sqlite3_column_type(st, 8) == SQLITE_NULL)
		return 0;
	if (sqlu_col_text(st, 9, state, sizeof(state)))
		return TC_EDB;
	m->rule_id = sqlu_col_int(st, 8);
	m->partner_id = partner_id;
	m->accepted = strcmp(state, "accepted") == 0;
	m->rule_version = (int)sqlu_col_int(st, 10);
	m->reverse_rule_id = sqlu_col_int(st, 11);
	m->decided_at = sqlu_col_int(st, 12);
	m->decided_by = sqlu_col_int(st, 13);
	return 1;
}

static int
sq_proposals(struct store *s, int64_t partner_id,
	     int (*cb)(const struct recog_rule_rec *r, const struct recog_mutual *m, void *arg),
	     void *arg)
{
	static const char op[] = "recognition proposals";
	sqlite3_stmt *st = NULL;
	struct recog_rule_rec r;
	struct recog_mutual m;
	int src = SQLITE_DONE, d = 0, rc = sqlu_preparef(s, op, &st, PROPOSAL_SELECT " ORDER BY r.id",
						    "i", partner_id);

	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = read_rule(st, &r, 1)) == 0 && (d = read_decision(st, partner_id, &m)) < 0)
			rc = d;
		if (rc == 0)
			rc = cb(&r, d ? &m : NULL, arg);
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = sqlu_fail(s, src, op);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_proposal_get(struct store *s, int64_t partner_id, int64_t rule_id, struct recog_rule_rec *out,
		struct recog_mutual *m, int *decided)
{
	static const char op[] = "recognition proposal";
	sqlite3_stmt *st = NULL;
	int d = 0, rc = sqlu_preparef(s, op, &st, PROPOSAL_SELECT " AND r.id = ?2", "ii",
				      partner_id, rule_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && (d = read_decision(st, partner_id, m)) < 0)
		rc = d;
	if (rc == 0)
		rc = read_rule(st, out, 0);
	sqlite3_finalize(st);
	*decided = rc == 0 && d == 1;
	return rc;
}

static int
sq_mutual_record(struct store *s, const struct recog_mutual *m)
{
	return sqlu_execf(s, "recognition mutual decision", "INSERT INTO recognition_mutual"
			  " (rule_id, partner_id, state, rule_version, reverse_rule_id, decided_at,"
			  " decided_by) VALUES (?1, ?2, ?3, ?4, NULLIF(?5, 0), ?6, ?7)"
			  " ON CONFLICT (rule_id) DO UPDATE SET state = excluded.state,"
			  " rule_version = excluded.rule_version,"
			  " reverse_rule_id = excluded.reverse_rule_id,"
			  " decided_at = excluded.decided_at, decided_by = excluded.decided_by",
			  "iitiiii", m->rule_id, m->partner_id, m->accepted ? "accepted" : "declined",
			  (int64_t)m->rule_version, m->reverse_rule_id, m->decided_at, m->decided_by);
}

const struct recognition_ops sqlite_recognition_ops = {
	.add = sq_add,
	.update = sq_update,
	.get = sq_get,
	.each = sq_each,
	.versions = sq_versions,
	.candidates = sq_candidates,
	.key_by_did = sq_key_by_did,
	.field_set = sq_field_set,
	.level_field = sq_level_field,
	.proposals = sq_proposals,
	.proposal_get = sq_proposal_get,
	.mutual_record = sq_mutual_record,
	.rules_stamp = sq_rules_stamp,
};
