/*
 * completion_sqlite.c - the SQLite side of storage/completion.h: completion
 * rules (an upsert that bumps the version), completions written once with
 * their outbox event in one savepoint, and the outbox.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "storage/completion.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

static int
sq_rules_get(struct store *s, int64_t course_id, struct completion_rules_rec *out)
{
	static const char op[] = "completion rules get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT version, updated_by, updated_at, rules"
			       " FROM completion_rules WHERE course_id = ?1", "i", course_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0) {
		out->course_id = course_id;
		out->version = sqlu_col_int(st, 0);
		out->updated_by = sqlu_col_int(st, 1);
		out->updated_at = sqlu_col_int(st, 2);
		rc = sqlu_col_dup(st, 3, &out->rules);
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_rules_put(struct store *s, int64_t course_id, const char *rules, int64_t updated_by,
	     int64_t now, int64_t *version)
{
	static const char op[] = "completion rules put";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st,
		"INSERT INTO completion_rules (course_id, rules, version, updated_by, updated_at)"
		" VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT (course_id) DO UPDATE SET"
		" rules = excluded.rules, version = completion_rules.version + 1,"
		" updated_by = excluded.updated_by, updated_at = excluded.updated_at"
		" RETURNING version", "itii", course_id, rules, updated_by, now);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0 && version)
		*version = sqlu_col_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

struct record {
	const struct completion_rec *c;
	const char *kind, *payload;
	int made;
};

static int
record_steps(struct store *s, void *arg)
{
	static const char op[] = "completion record";
	struct record *r = arg;
	const struct completion_rec *c = r->c;
	/* written once: a second completion of the same course changes nothing */
	int rc = sqlu_execf(s, op, "INSERT INTO completions (course_id, person_id,"
			    " grade_hundredths, percent_tenths, letter, passed, evidence,"
			    " rules_version, completed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
			    " ON CONFLICT (course_id, person_id) DO NOTHING", "iiiititii",
			    c->course_id, c->person_id, (int64_t)c->grade_x100,
			    (int64_t)c->percent_x10, c->letter, (int64_t)(c->passed != 0),
			    c->evidence, c->rules_version, c->completed_at);

	if (rc == 0)
		r->made = sqlite3_changes(store_sqlite_db(s)) > 0;
	if (rc == 0 && r->made)
		rc = sqlu_execf(s, op, "INSERT INTO outbox (kind, course_id, person_id, payload,"
				" created_at) VALUES (?1, ?2, ?3, ?4, ?5)", "tiiti", r->kind,
				c->course_id, c->person_id, r->payload, c->completed_at);
	return rc;
}

static int
sq_record(struct store *s, const struct completion_rec *c, const char *kind, const char *payload,
	  int *created)
{
	struct record r = { c, kind, payload, 0 };
	int rc = sqlu_savepoint(s, "completion record", "completion_record", record_steps, &r);

	*created = rc == 0 && r.made;
	return rc;
}

#define REC_COLUMNS "c.course_id, c.person_id, c.grade_hundredths, c.percent_tenths, c.letter," \
	" c.passed, c.rules_version, c.completed_at, p.uid, p.full_name"

static int
read_rec(sqlite3_stmt *st, struct completion_rec *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->course_id = sqlu_col_int(st, 0);
	c->person_id = sqlu_col_int(st, 1);
	c->grade_x100 = (int)sqlu_col_int(st, 2);
	c->percent_x10 = (int)sqlu_col_int(st, 3);
	c->passed = (int)sqlu_col_int(st, 5);
	c->rules_version = sqlu_col_int(st, 6);
	c->completed_at = sqlu_col_int(st, 7);
	if ((rc = sqlu_col_text(st, 4, c->letter, sizeof(c->letter))) ||
	    (rc = sqlu_col_text(st, 8, c->person_uid, sizeof(c->person_uid))) ||
	    (rc = sqlu_col_text(st, 9, c->full_name, sizeof(c->full_name))))
		return rc;
	return 0;
}

static int
sq_get(struct store *s, int64_t course_id, int64_t person_id, struct completion_rec *out)
{
	static const char op[] = "completion get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " REC_COLUMNS ", c.evidence FROM completions c"
			       " JOIN people p ON p.id = c.person_id"
			       " WHERE c.course_id = ?1 AND c.person_id = ?2", "ii",
			       course_id, person_id);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_rec(st, out);
	if (rc == 0)
		rc = sqlu_col_dup(st, 10, &out->evidence);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_each(struct store *s, int64_t course_id, int64_t after_id, int limit,
	int (*cb)(const struct completion_rec *c, void *arg), void *arg)
{
	static const char op[] = "completions each";
	struct completion_rec c;
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " REC_COLUMNS " FROM completions c"
			       " JOIN people p ON p.id = c.person_id"
			       " WHERE c.course_id = ?1 AND c.person_id > ?2"
			       " ORDER BY c.person_id LIMIT ?3", "iii", course_id, after_id,
			       (int64_t)limit);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0 && (rc = read_rec(st, &c)) == 0)
		rc = cb(&c, arg);
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_lecturers(struct store *s, int64_t course_id, int64_t *ids, int max, int *n)
{
	static const char op[] = "course lecturers";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT owner_id, 0 FROM courses WHERE id = ?1"
			       " UNION SELECT person_id, 1 FROM course_lecturers WHERE course_id = ?1"
			       " ORDER BY 2, 1", "i", course_id);

	while (rc == 0 && *n < max && (rc = sqlu_step_row(s, st, op)) == 0) {
		int64_t id = sqlu_col_int(st, 0), dup = 0;

		for (int i = 0; i < *n; i++)
			dup |= ids[i] == id;
		if (id > 0 && !dup)
			ids[(*n)++] = id;
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

/*
 * The pending events of one kind, oldest first: a search of the partial index
 * outbox_pending (kind, id), so the pollers (issuing, deferred xAPI) read
 * only what is pending however many consumed events the table holds. A form
 * with "?1 IS NULL OR kind = ?1" made SQLite walk the rowid past every
 * consumed event. Without a kind (tests, tools) the rowid is walked.
 * Exported for the query-plan test.
 */
const char sqlite_outbox_pending_sql[] =
	"SELECT id, kind, coalesce(course_id, 0), coalesce(person_id, 0), payload,"
	" created_at FROM outbox WHERE kind = ?1 AND consumed_at IS NULL AND id > ?2"
	" ORDER BY id LIMIT ?3";

static int
sq_outbox_each(struct store *s, const char *kind, int64_t after_id, int limit,
	       int (*cb)(const struct outbox_event *e, void *arg), void *arg)
{
	static const char op[] = "outbox each";
	struct outbox_event e;
	sqlite3_stmt *st = NULL;
	int rc = kind ? sqlu_preparef(s, op, &st, sqlite_outbox_pending_sql, "tii", kind,
				      after_id, (int64_t)limit)
		      : sqlu_preparef(s, op, &st, "SELECT id, kind, coalesce(course_id, 0),"
				      " coalesce(person_id, 0), payload, created_at FROM outbox"
				      " WHERE consumed_at IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
				      "ii", after_id, (int64_t)limit);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		memset(&e, 0, sizeof(e));
		e.id = sqlu_col_int(st, 0);
		e.course_id = sqlu_col_int(st, 2);
		e.person_id = sqlu_col_int(st, 3);
		e.payload = (const char *)sqlite3_column_text(st, 4);
		e.created_at = sqlu_col_int(st, 5);
		if ((rc = sqlu_col_text(st, 1, e.kind, sizeof(e.kind))))
			break;
		if (!e.payload) {
			rc = TC_ENOMEM;
			break;
		}
		rc = cb(&e, arg);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

static int
sq_outbox_consume(struct store *s, int64_t id, int64_t now)
{
	int rc = sqlu_execf(s, "outbox consume", "UPDATE outbox SET consumed_at = ?1"
			    " WHERE id = ?2 AND consumed_at IS NULL", "ii", now, id);

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_outbox_add(struct store *s, const char *kind, int64_t course_id, int64_t person_id,
	      const char *payload, int64_t now, int64_t *id)
{
	int rc = sqlu_execf(s, "outbox add", "INSERT INTO outbox (kind, course_id, person_id,"
			    " payload, created_at) VALUES (?1, nullif(?2, 0), nullif(?3, 0), ?4, ?5)",
			    "tiiti", kind, course_id, person_id, payload, now);

	if (rc == 0 && id)
		*id = (int64_t)sqlite3_last_insert_rowid(store_sqlite_db(s));
	return rc;
}

static int
sq_outbox_delete(struct store *s, int64_t id)
{
	int rc = sqlu_execf(s, "outbox delete", "DELETE FROM outbox WHERE id = ?1", "i", id);

	return rc ? rc : sqlu_changed_one(s);
}

/*
 * Retention: the first LIMIT consumed events after *AFTER_ID consumed
 * before BEFORE, declined ones kept (storage/credentials_sqlite.c reads
 * them: the approval list, a later approval). The batch is found by a
 * read, which takes no write lock: a walk of the rowid from AFTER_ID (no
 * index: one would cost bytes on every event to save a walk of what is
 * kept), stopped at the first event made at or after BEFORE (an event is
 * consumed after it is made, and ids grow with time). Then one DELETE by
 * primary key repeating the conditions (an event consumed again meanwhile
 * stays): one short write transaction, unless the caller holds one.
 */
#define PRUNE_WHERE "consumed_at < ?2 AND (kind <> 'course.completed'" \
	" OR json_extract(payload, '$.declined') IS NULL)"

static int
sq_outbox_prune(struct store *s, int64_t before, int64_t *after_id, int limit, int *deleted)
{
	static const char op[] = "outbox prune";
	sqlite3_stmt *st = NULL;
	struct dynbuf ids;
	int64_t last = *after_id;
	int found = 0;
	int rc = sqlu_preparef(s, op, &st, "SELECT id, created_at, " PRUNE_WHERE " FROM outbox"
			       " WHERE id > ?1 ORDER BY id", "ii", *after_id, before);

	dynbuf_init(&ids, (size_t)1 << 20);
	if (rc == 0 && dynbuf_puts(&ids, "["))
		rc = TC_ENOMEM;
	while (rc == 0 && found < limit && (rc = sqlu_step_row(s, st, op)) == 0) {
		if (sqlu_col_int(st, 1) >= before)
			break;
		if (!sqlu_col_int(st, 2))
			continue;
		last = sqlu_col_int(st, 0);
		if (dynbuf_printf(&ids, "%s%" PRId64, found ? "," : "", last))
			rc = TC_ENOMEM;
		found++;
	}
	sqlite3_finalize(st);
	if (rc == TC_ENOTFOUND)
		rc = 0;
	if (rc == 0 && found && dynbuf_puts(&ids, "]"))
		rc = TC_ENOMEM;
	if (rc == 0 && found)
		rc = sqlu_execf(s, op, "DELETE FROM outbox WHERE id IN (SELECT value FROM"
				" json_each(?1)) AND " PRUNE_WHERE, "ti", ids.data, before);
	if (rc == 0) {
		*after_id = last;
		*deleted = found ? sqlite3_changes(store_sqlite_db(s)) : 0;
	}
	dynbuf_cleanup(&ids);
	return rc;
}

const struct completion_ops sqlite_completion_ops = {
	.rules_get = sq_rules_get,
	.rules_put = sq_rules_put,
	.record = sq_record,
	.get = sq_get,
	.each = sq_each,
	.lecturers = sq_lecturers,
	.outbox_each = sq_outbox_each,
	.outbox_consume = sq_outbox_consume,
	.outbox_add = sq_outbox_add,
	.outbox_delete = sq_outbox_delete,
	.outbox_prune = sq_outbox_prune,
};
