/*
 * media_jobs_sqlite.c - the SQLite side of storage/media_jobs.h: the media
 * job queue (claims are one UPDATE ... RETURNING, atomic under SQLite's
 * single writer) and the captions of lectures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/media_jobs.h"
#include "storage/sqlite_util.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"

#define JOB_COLUMNS \
	"j.material_id, m.uid, m.sha256, m.kind, m.institution_id, m.course_id, m.created_by," \
	" j.state, j.stage, j.percent, j.error, j.attempts, j.node, j.lease_until," \
	" j.created_at, j.updated_at, j.started_at, j.finished_at, j.result"

static int
read_job(sqlite3_stmt *st, struct media_job *j, char **result)
{
	int rc;

	memset(j, 0, sizeof(*j));
	j->material_id = sqlu_col_int(st, 0);
	j->institution_id = sqlu_col_int(st, 4);
	j->course_id = sqlu_col_int(st, 5);
	j->created_by = sqlu_col_int(st, 6);
	j->percent = (int)sqlu_col_int(st, 9);
	j->attempts = (int)sqlu_col_int(st, 11);
	j->lease_until = sqlu_col_int(st, 13);
	j->created_at = sqlu_col_int(st, 14);
	j->updated_at = sqlu_col_int(st, 15);
	j->started_at = sqlu_col_int(st, 16);
	j->finished_at = sqlu_col_int(st, 17);
	if ((rc = sqlu_col_text(st, 1, j->material_uid, sizeof(j->material_uid))) ||
	    (rc = sqlu_col_text(st, 2, j->sha256, sizeof(j->sha256))) ||
	    (rc = sqlu_col_text(st, 3, j->kind, sizeof(j->kind))) ||
	    (rc = sqlu_col_text(st, 7, j->state, sizeof(j->state))) ||
	    (rc = sqlu_col_text(st, 8, j->stage, sizeof(j->stage))) ||
	    (rc = sqlu_col_text(st, 10, j->error, sizeof(j->error))) ||
	    (rc = sqlu_col_text(st, 12, j->node, sizeof(j->node))))
		return rc;
	return result ? sqlu_col_dup(st, 18, result) : 0;
}

static int
sq_get(struct store *s, int64_t material_id, struct media_job *out, char **result)
{
	static const char op[] = "media get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT " JOB_COLUMNS " FROM media j"
			       " JOIN materials m ON m.id = j.material_id WHERE j.material_id = ?1",
			       "i", material_id);

	if (result)
		*result = NULL;
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = read_job(st, out, result);
	sqlite3_finalize(st);
	return rc;
}

/* One claim: the oldest claimable job's id and its attempts so far. */
static int
claim_one(struct store *s, const char *node, int64_t now, int64_t lease, int64_t *id,
	  int *attempts)
{
	static const char op[] = "media claim";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st,
		"UPDATE media SET state = 'running', node = ?1, lease_until = ?2 + ?3,"
		" attempts = attempts + 1, started_at = ?2, updated_at = ?2, stage = 'probe',"
		" percent = 0, error = ''"
		" WHERE material_id = (SELECT material_id FROM media"
		"  WHERE state = 'queued' OR (state = 'running' AND lease_until < ?2)"
		"  ORDER BY created_at, material_id LIMIT 1)"
		" RETURNING material_id, attempts", "tii", node, now, lease);

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0) {
		*id = sqlu_col_int(st, 0);
		*attempts = (int)sqlu_col_int(st, 1);
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_finish(struct store *s, int64_t material_id, const char *node, int ok, const char *error,
	  const char *result, int64_t now)
{
	int rc = sqlu_execf(s, "media finish",
		"UPDATE media SET state = ?1, error = ?2, result = ?3, finished_at = ?4,"
		" updated_at = ?4, lease_until = 0, percent = CASE WHEN ?1 = 'ready' THEN 100"
		" ELSE percent END, stage = CASE WHEN ?1 = 'ready' THEN '' ELSE stage END"
		" WHERE material_id = ?5 AND node = ?6 AND state = 'running'",
		"tttiit", ok ? "ready" : "failed", error, result, now, material_id, node);

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_claim(struct store *s, const char *node, int64_t now, int64_t lease, struct media_job *out)
{
	char why[80];
	int64_t id = 0;
	int attempts = 0, rc;

	for (;;) {
		if ((rc = claim_one(s, node, now, lease, &id, &attempts)))
			return rc;
		if (attempts <= MEDIA_ATTEMPTS_MAX)
			break;
		snprintf(why, sizeof(why), "processing was interrupted %d times; try again later",
			 MEDIA_ATTEMPTS_MAX);
		if ((rc = sq_finish(s, id, node, 0, why, "", now)))
			return rc;
		log_warn("media job of material %lld failed: interrupted %d times", (long long)id,
			 MEDIA_ATTEMPTS_MAX);
	}
	return sq_get(s, id, out, NULL);
}

static int
sq_progress(struct store *s, int64_t material_id, const char *node, const char *stage,
	    int percent, int64_t now, int64_t lease)
{
	int rc = sqlu_execf(s, "media progress",
		"UPDATE media SET stage = ?1, percent = max(percent, ?2), updated_at = ?3,"
		" lease_until = ?3 + ?4 WHERE material_id = ?5 AND node = ?6 AND state = 'running'",
		"tiiiit", stage, (int64_t)percent, now, lease, material_id, node);

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_requeue(struct store *s, int64_t material_id, const char *node, int64_t now)
{
	int rc = sqlu_execf(s, "media requeue",
		"UPDATE media SET state = 'queued', node = '', lease_until = 0, stage = '',"
		" percent = 0, attempts = max(attempts - 1, 0), updated_at = ?1"
		" WHERE material_id = ?2 AND node = ?3 AND state = 'running'",
		"iit", now, material_id, node);

	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_requeue_node(struct store *s, const char *node, int64_t now, int *n)
{
	/* the node stopped without putting them back: that attempt counts */
	int rc = sqlu_execf(s, "media requeue node",
		"UPDATE media SET state = 'queued', node = '', lease_until = 0, stage = '',"
		" percent = 0, updated_at = ?1"
		" WHERE state = 'running' AND (node = ?2 OR"
		"  substr(node, 1, length(?2) + 1) = ?2 || '#')", "it", now, node);

	*n = rc ? 0 : sqlite3_changes(store_sqlite_db(s));
	return rc;
}

static int
sq_retry(struct store *s, int64_t material_id, int64_t now)
{
	struct media_job j;
	int rc = sq_get(s, material_id, &j, NULL);

	if (rc == 0 && strcmp(j.state, "failed") != 0)
		rc = TC_ECONFLICT;
	if (rc == 0)
		rc = sqlu_execf(s, "media retry",
			"UPDATE media SET state = 'queued', attempts = 0, error = '', stage = '',"
			" percent = 0, node = '', updated_at = ?1, finished_at = 0"
			" WHERE material_id = ?2 AND state = 'failed'", "ii", now, material_id);
	return rc ? rc : sqlu_changed_one(s);
}

static int
sq_counts(struct store *s, int64_t *queued, int64_t *running)
{
	static const char op[] = "media counts";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st,
		"SELECT coalesce(sum(state = 'queued'), 0), coalesce(sum(state = 'running'), 0)"
		" FROM media WHERE state IN ('queued', 'running')", "");

	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0) {
		*queued = sqlu_col_int(st, 0);
		*running = sqlu_col_int(st, 1);
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- captions ----------------------------------------------------------------------- */

/* The hash of the captions of MATERIAL_ID in LANG into OLD_SHA ("" when none). */
static int
caption_sha(struct store *s, int64_t material_id, const char *lang, char *old_sha)
{
	static const char op[] = "caption get";
	sqlite3_stmt *st = NULL;
	int rc = sqlu_preparef(s, op, &st, "SELECT sha256 FROM captions"
			       " WHERE material_id = ?1 AND lang = ?2", "it", material_id, lang);

	old_sha[0] = '\0';
	if (rc == 0)
		rc = sqlu_step_row(s, st, op);
	if (rc == 0)
		rc = sqlu_col_text(st, 0, old_sha, 65);
	sqlite3_finalize(st);
	return rc;
}

static int
sq_caption_put(struct store *s, const struct caption *c, char *old_sha)
{
	char prev[65];
	int rc = caption_sha(s, c->material_id, c->lang, prev);

	if (rc == TC_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = sqlu_execf(s, "caption put",
			"INSERT INTO captions (material_id, lang, label, sha256, size, cues,"
			" created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
			" ON CONFLICT (material_id, lang) DO UPDATE SET label = excluded.label,"
			" sha256 = excluded.sha256, size = excluded.size, cues = excluded.cues,"
			" created_by = excluded.created_by, created_at = excluded.created_at",
			"itttiiii",
			c->material_id, c->lang, c->label, c->sha256, c->size, (int64_t)c->cues,
			c->created_by, c->created_at);
	if (rc == 0 && old_sha)
		memcpy(old_sha, prev, sizeof(prev));
	return rc;
}

static int
sq_caption_delete(struct store *s, int64_t material_id, const char *lang, char *old_sha)
{
	char prev[65];
	int rc = caption_sha(s, material_id, lang, prev);

	if (rc == 0)
		rc = sqlu_execf(s, "caption delete", "DELETE FROM captions"
				" WHERE material_id = ?1 AND lang = ?2", "it", material_id, lang);
	if (rc == 0 && old_sha)
		memcpy(old_sha, prev, sizeof(prev));
	return rc;
}

static int
sq_captions_each(struct store *s, int64_t material_id,
		 int (*cb)(const struct caption *c, void *arg), void *arg)
{
	static const char op[] = "captions each";
	sqlite3_stmt *st = NULL;
	struct caption c;
	int rc = sqlu_preparef(s, op, &st, "SELECT lang, label, sha256, size, cues, created_by,"
			       " created_at FROM captions WHERE material_id = ?1 ORDER BY lang",
			       "i", material_id);

	while (rc == 0 && (rc = sqlu_step_row(s, st, op)) == 0) {
		memset(&c, 0, sizeof(c));
		c.material_id = material_id;
		c.size = sqlu_col_int(st, 3);
		c.cues = (int)sqlu_col_int(st, 4);
		c.created_by = sqlu_col_int(st, 5);
		c.created_at = sqlu_col_int(st, 6);
		if ((rc = sqlu_col_text(st, 0, c.lang, sizeof(c.lang))) ||
		    (rc = sqlu_col_text(st, 1, c.label, sizeof(c.label))) ||
		    (rc = sqlu_col_text(st, 2, c.sha256, sizeof(c.sha256))))
			break;
		rc = cb(&c, arg);
	}
	sqlite3_finalize(st);
	return rc == TC_ENOTFOUND ? 0 : rc;
}

const struct media_ops sqlite_media_ops = {
	.get = sq_get,
	.claim = sq_claim,
	.progress = sq_progress,
	.finish = sq_finish,
	.requeue = sq_requeue,
	.requeue_node = sq_requeue_node,
	.retry = sq_retry,
	.counts = sq_counts,
	.caption_put = sq_caption_put,
	.caption_delete = sq_caption_delete,
	.captions_each = sq_captions_each,
};
