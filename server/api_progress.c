/*
 * api_progress.c - learning progress: the HTTP routes, the WebSocket
 * "progress" message, the delivery hooks of /media/ and of document
 * downloads, and unit completion (server/api_progress.h).
 *
 * Who may report: a person enrolled in the unit's published course. The
 * course's lecturers (and editors) are refused with "forbidden" (403): their
 * viewing is never recorded; anyone else gets "not_found" (404), as the
 * course rules hide what is not theirs. Anonymous callers: 401 over HTTP,
 * "forbidden" on the WebSocket; API tokens act for no person: 403.
 *
 * Every HTTP write is one read-modify-write transaction (storage/progress.h)
 * committed before the answer. WebSocket messages are checked here on the
 * service thread and written by the writer thread in group commits
 * (server/progress_writer.h): api_progress_batch runs a batch there,
 * api_progress_ws_done answers each message back here after the commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/authz.h"
#include "courses/course.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/learning_record.h"
#include "courses/log.h"
#include "courses/markdown.h"
#include "courses/progress.h"
#include "courses/ranges.h"
#include "server/api_completion.h"
#include "server/api_progress.h"
#include "server/api_materials.h"
#include "server/api_util.h"
#include "server/api_xapi.h"
#include "server/records.h"
#include "server/app.h"
#include "server/config.h"
#include "server/problem.h"
#include "server/progress_writer.h"
#include "server/ws.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/media.h"
#include "storage/media_files.h"
#include "storage/media_jobs.h"
#include "storage/progress.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the unit a person reports on ------------------------------------------------ */

struct target {
	struct unit u;			/* u.body not loaded */
	int64_t course_id, owner_id;
	int64_t institution_id;		/* the course's: whose LRS records it */
	char course_uid[37];
	char lang[8];			/* the course's language */
	enum course_status status;
	int64_t duration_ms;		/* probed media duration; 0: unknown */
	int threshold;			/* the course's video threshold (percent) */
};

static void
target_cleanup(struct target *t)
{
	free(t->u.body);
	t->u.body = NULL;
}

int64_t
api_progress_duration_ms(struct store *st, int64_t material_id)
{
	struct media_job job;
	struct media_result res;
	char *result = NULL;
	int64_t ms = 0;

	if (material_id > 0 && store_media_get(st, material_id, &job, &result) == 0 &&
	    strcmp(job.state, "ready") == 0 && result && media_result_parse(result, &res) == 0 &&
	    res.info.duration > 0)
		ms = (int64_t)(res.info.duration * 1000.0 + 0.5);
	free(result);
	return ms;
}

/*
 * What a batch of WebSocket messages reads once per unit rather than once
 * per message: the unit, its course, the media duration and the video
 * threshold (learners mostly report the same few units). Only within one
 * transaction, so it is never stale.
 */
#define TARGET_CACHE 32

struct target_cache {
	struct target t[TARGET_CACHE];
	size_t n;
};

/* Loads unit UID with its course, duration and threshold into T. */
static int
load_unit(struct store *st, const char *uid, struct target *t)
{
	struct course *c = malloc(sizeof(*c));
	int rc;

	memset(t, 0, sizeof(*t));
	if (!c)
		return TC_ENOMEM;
	if ((rc = store_unit_get(st, uid, &t->u)) == 0 &&
	    (rc = store_course_get_id(st, t->u.course_id, c)) == 0) {
		t->course_id = c->id;
		t->owner_id = c->owner_id;
		t->institution_id = c->institution_id;
		snprintf(t->course_uid, sizeof(t->course_uid), "%s", c->uid);
		snprintf(t->lang, sizeof(t->lang), "%s", c->language);
		t->status = c->status;
		if (strcmp(t->u.kind, "video") == 0) {
			t->duration_ms = api_progress_duration_ms(st, t->u.material_id);
			t->threshold = completion_video_threshold(st, c->id);
		}
	}
	free(t->u.body);
	t->u.body = NULL;
	free(c);
	return rc;
}

/*
 * Loads unit UID for PERSON_ID reporting progress (through CACHE when not
 * NULL): 0 (enrolled in the published course), TC_EFORBIDDEN (teaches it),
 * TC_ENOTFOUND, or another error.
 */
static int
load_target(struct store *st, struct target_cache *cache, int64_t person_id, const char *uid,
	    struct target *t)
{
	int enrolled = 0, teaches = 0, rc = 0;
	size_t i = 0;

	memset(t, 0, sizeof(*t));
	if (person_id <= 0 || !uid)
		return TC_ENOTFOUND;
	for (; cache && i < cache->n; i++)
		if (strcmp(cache->t[i].u.uid, uid) == 0)
			break;
	if (cache && i < cache->n) {
		*t = cache->t[i];
	} else {
		if ((rc = load_unit(st, uid, t)))
			return rc;
		if (cache && cache->n < TARGET_CACHE)
			cache->t[cache->n++] = *t;
	}
	if ((rc = store_is_enrolled(st, t->course_id, person_id, &enrolled)))
		return rc;
	if (!enrolled || t->status != COURSE_PUBLISHED) {
		store_course_is_lecturer(st, t->course_id, person_id, &teaches);
		return teaches || t->owner_id == person_id ? TC_EFORBIDDEN : TC_ENOTFOUND;
	}
	return 0;
}

/* ---- completion ------------------------------------------------------------------- */

void
progress_unit_completed(struct app *app, int64_t person_id, const struct unit *u)
{
	struct course c;
	char *text = NULL;
	json_t *o;

	if (store_course_get_id(app->store, u->course_id, &c) != 0)
		return;
	o = json_pack("{s:s, s:s, s:s}", "type", "unit.completed", "unit", u->uid, "course", c.uid);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text) {
		ws_notify_person(app->ws, person_id, text, strlen(text));
		free(text);
	}
	log_info("progress: person %lld completed unit %s", (long long)person_id, u->uid);
	records_unit_completed(app, person_id, u);
	completion_after_change(app, person_id, u->course_id);
}

/* ---- applying events -------------------------------------------------------------- */

struct apply {
	const struct progress_event *ev;
	size_t n;
	int64_t duration_ms;
	int video;
	int completed_now;
	int64_t now;
	int threshold;			/* percent: the course's completion rules */
	int started_now;		/* the row did not exist before */
	double old_percent;		/* the row's percent before */
	int64_t now_ms;			/* the server's clock, for the pace */
	int64_t clipped_ms;		/* watched time refused by the pace */
};

static int
edit_events(struct progress *row, const char *delivered, void *arg)
{
	struct apply *a = arg;
	struct progress_state s;
	struct ranges got;
	struct dynbuf text;
	int64_t credit;
	int rc;

	memset(&s, 0, sizeof(s));
	a->clipped_ms = 0;
	a->started_now = !row->exists;
	a->old_percent = row->percent;
	ranges_init(&s.watched);
	ranges_init(&got);
	dynbuf_init(&text, 1 << 20);
	if ((rc = ranges_parse(row->watched, strlen(row->watched), &s.watched)) ||
	    (rc = ranges_parse(delivered, strlen(delivered), &got))) {
		rc = TC_EDB;
		goto out;
	}
	s.position_ms = row->position_ms;
	s.position_at = row->position_at;
	credit = progress_pace_credit(row->pace_ms, row->pace_at, a->now_ms);
	for (size_t i = 0; i < a->n && rc == 0; i++)
		rc = progress_apply_paced(&s, &a->ev[i], a->duration_ms, &credit, &a->clipped_ms);
	if (rc || (rc = ranges_format(&s.watched, &text)))
		goto out;
	free(row->watched);
	row->watched = dynbuf_take(&text, NULL);
	if (!row->watched && !(row->watched = strdup(""))) {
		rc = TC_ENOMEM;
		goto out;
	}
	row->position_ms = s.position_ms;
	row->position_at = s.position_at;
	row->pace_ms = credit;
	row->pace_at = a->now_ms;
	row->duration_ms = a->duration_ms;
	row->percent = s.percent;
	if (a->video && !row->completed_at &&
	    progress_video_complete(&s.watched, &got, a->duration_ms, a->threshold)) {
		row->completed_at = a->now;
		a->completed_now = 1;
	}
out:
	dynbuf_cleanup(&text);
	ranges_cleanup(&got);
	ranges_cleanup(&s.watched);
	return rc;
}

/* Checks the N parsed events against the target; the duration they use. */
static int
check_events(const struct target *t, const struct progress_event *ev, size_t n, int64_t *dur,
	     char *why, size_t whylen)
{
	int rc;

	if (strcmp(t->u.kind, "video") != 0) {
		snprintf(why, whylen, "progress events are for video units; this one is a %s unit",
			 t->u.kind);
		return TC_EINVALID;
	}
	*dur = t->duration_ms;
	for (size_t i = 0; i < n && !*dur; i++)
		if (ev[i].duration_ms > 0)
			*dur = ev[i].duration_ms;
	for (size_t i = 0; i < n; i++)
		if ((rc = progress_event_check(&ev[i], *dur, why, whylen)))
			return rc;
	return 0;
}

static void batch_records(struct app *app, struct store *st, const struct target *t,
			  int64_t person_id, const struct apply *a, const struct progress *p);

/* Applies N checked events in one transaction of its own; OUT gets the
 * saved row, *CLIPPED_MS the watched time the pace refused. Its learning
 * records follow in the outbox right after. */
static int
record(struct app *app, int64_t person_id, const struct target *t,
       const struct progress_event *ev, size_t n, int64_t dur, struct progress *out,
       int64_t *clipped_ms)
{
	struct apply a = { ev, n, dur, 1, 0, (int64_t)time(NULL), t->threshold, 0, 0, now_ms(), 0 };
	int rc = store_progress_edit(app->store, person_id, t->u.id, t->course_id,
				     t->u.material_id, a.now, edit_events, &a, out);

	if (rc == 0)
		batch_records(app, app->store, t, person_id, &a, out);
	*clipped_ms = rc == 0 ? a.clipped_ms : 0;
	if (rc == 0 && a.completed_now)
		progress_unit_completed(app, person_id, &t->u);
	return rc;
}

struct viewed {
	int64_t now;
	int completed_now;
};

static int
edit_viewed(struct progress *row, const char *delivered, void *arg)
{
	struct viewed *v = arg;

	if (row->viewed_at && row->completed_at)
		return PROGRESS_UNCHANGED;
	if (!row->viewed_at)
		row->viewed_at = v->now;
	if (!row->completed_at) {
		row->completed_at = v->now;
		row->percent = 100;
		v->completed_now = 1;
	}
	return 0;
}

/* Marks UNIT viewed (and so complete) for PERSON_ID. */
static int
mark_viewed(struct app *app, int64_t person_id, const struct unit *u)
{
	struct viewed v = { (int64_t)time(NULL), 0 };
	int rc = store_progress_edit(app->store, person_id, u->id, u->course_id, 0, v.now,
				     edit_viewed, &v, NULL);

	if (rc == 0 && v.completed_now)
		progress_unit_completed(app, person_id, u);
	return rc;
}

/* ---- JSON ------------------------------------------------------------------------- */

/* The progress P of a unit (UID, KIND) as the API shows it. */
static json_t *
progress_json(const char *uid, const char *kind, const struct progress *p)
{
	struct ranges r;
	json_t *w = json_array();

	ranges_init(&r);
	if (p->watched && ranges_parse(p->watched, strlen(p->watched), &r) == 0)
		for (size_t i = 0; i < r.n; i++)
			json_array_append_new(w, json_pack("[f, f]", r.v[i].from / 1000.0,
							   r.v[i].to / 1000.0));
	ranges_cleanup(&r);
	return json_pack("{s:s, s:s, s:b, s:f, s:o, s:f, s:o, s:b, s:o, s:o}",
			 "unit", uid, "kind", kind, "started", p->exists,
			 "position", p->position_ms / 1000.0, "watched", w,
			 "percent", p->percent,
			 "duration", p->duration_ms ? json_real(p->duration_ms / 1000.0) : json_null(),
			 "completed", p->completed_at != 0,
			 "completed_at", api_time_json(p->completed_at),
			 "viewed_at", api_time_json(p->viewed_at));
}

/* ---- the WebSocket message -------------------------------------------------------- */

void
progress_conn_init(struct progress_conn *pc)
{
	progress_seqs_init(&pc->seqs);
	pc->window_ms = 0;
	pc->count = 0;
}

static char *
ws_error(json_int_t seq, const char *error, const char *detail)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "type", "error", "seq", seq,
			      "error", error, "detail", detail);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

/* An error about a message whose "seq" (SEQ, may be NULL) is not checked. */
static char *
ws_error_raw(json_t *seq, const char *error, const char *detail)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "type", "error", "error", error,
			      "detail", detail);
	char *text;

	/* an invalid "seq" is echoed only when small: such answers may wait in
	 * the writer's queue (100,000 jobs), which must not hold megabytes */
	if (o && seq && (!json_is_string(seq) || json_string_length(seq) <= 64) &&
	    !json_is_array(seq) && !json_is_object(seq))
		json_object_set(o, "seq", seq);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

/* An ack of SEQ with the row P; "clipped" (seconds) when the pace refused
 * CLIPPED_MS of the message's watched time. */
static char *
ws_ack(json_int_t seq, const char *uid, const struct progress *p, int64_t clipped_ms)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:f, s:f, s:b}", "type", "ack", "seq", seq,
			      "unit", uid, "percent", p->percent, "position",
			      p->position_ms / 1000.0, "completed", p->completed_at != 0);
	char *text;

	if (o && clipped_ms > 0)
		json_object_set_new(o, "clipped", json_real(clipped_ms / 1000.0));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

static const char *
ws_code(int rc)
{
	return rc == TC_ENOTFOUND ? "not_found" : rc == TC_EFORBIDDEN ? "forbidden" :
	       rc == TC_EBUSY ? "busy" : rc == TC_EINVALID ? "invalid" : "busy";
}

/*
 * Writer thread: one job of a batch on ST, inside the batch's transaction.
 * Answers in J->reply what concerns the message alone (not found,
 * invalid...); returns non-zero only for an error that fails the batch.
 */
/*
 * The learning records of one applied event: "initialized" the first time
 * the learner reports on the lecture, and "progressed" each time the
 * watched share passes another tenth (so at most ten a lecture, never one
 * a heartbeat). They go into the outbox in the batch's transaction (one
 * small insert each, so they are as durable as the progress) and become
 * statements when the writer has nothing else to do (records_drain): 5,000
 * learners passing 10 % together must not hold up their acks. A failure
 * is logged and the progress stands without its statement.
 */
static void
batch_records(struct app *app, struct store *st, const struct target *t, int64_t person_id,
	      const struct apply *a, const struct progress *p)
{
	int tenth_before = (int)(a->old_percent / 10), tenth_now = (int)(p->percent / 10);
	struct lr_activity act = { "video", t->u.uid, NULL, t->u.title,
				   t->lang[0] ? t->lang : NULL, t->course_uid };
	char base[512];
	struct person who;

	if (!app || (!a->started_now && tenth_now <= tenth_before) ||
	    store_person_get(st, person_id, &who) != 0)
		return;
	lrs_home_page(app, base, sizeof(base));
	for (int verb = 0; verb < 2; verb++) {
		struct lr_result r = { .progress = (int)p->percent };
		json_t *stmt;
		int rc;

		if ((verb == 0 && !a->started_now) ||
		    (verb == 1 && (tenth_now <= tenth_before || p->completed_at)))
			continue;	/* a completion has its own statement */
		stmt = lr_statement(base, who.uid, verb == 0 ? LR_INITIALIZED : LR_PROGRESSED, &act,
				    verb == 0 ? NULL : &r, a->now);
		rc = stmt ? records_defer(st, t->institution_id, t->course_id, person_id, stmt,
					  a->now) : TC_ENOMEM;
		if (rc)
			log_warn("learning record (%s) of unit %s not stored: %s",
				 verb == 0 ? "initialized" : "progressed", t->u.uid, tc_strerror(rc));
		json_decref(stmt);
	}
}

static int
batch_job(struct app *app, struct store *st, struct target_cache *cache, struct progress_job *j)
{
	char why[PROGRESS_WHY_MAX] = "";
	struct progress p;
	struct target t;
	int64_t dur = 0;
	int rc;

	memset(&p, 0, sizeof(p));
	if (j->kind == PROGRESS_JOB_REPLY)
		return j->reply ? 0 : TC_ENOMEM;
	rc = load_target(st, cache, j->person_id, j->unit, &t);
	if (rc == TC_ENOTFOUND || rc == TC_EFORBIDDEN) {
		j->reply = ws_error(j->seq, ws_code(rc), rc == TC_ENOTFOUND ? "no such unit, or "
				    "you are not enrolled in its course" :
				    "progress is recorded for enrolled learners, not lecturers");
		j->failed = 1;
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	if (j->kind == PROGRESS_JOB_REACK) {	/* seen: ack again, apply nothing */
		rc = store_progress_get(st, j->person_id, t.u.id, &p);
		if (rc == 0 || rc == TC_ENOTFOUND) {
			rc = 0;
			j->reply = ws_ack(j->seq, j->unit, &p, 0);
		}
		goto out;
	}
	if (check_events(&t, &j->ev, 1, &dur, why, sizeof(why))) {
		j->reply = ws_error(j->seq, "invalid", why);
		j->failed = 1;
		goto out;
	}
	{
		struct apply a = { &j->ev, 1, dur, 1, 0, (int64_t)time(NULL), t.threshold, 0, 0,
				   now_ms(), 0 };

		rc = store_progress_edit_in(st, j->person_id, t.u.id, t.course_id,
					    t.u.material_id, a.now, edit_events, &a, &p);
		if (rc == TC_ETOOBIG) {
			j->reply = ws_error(j->seq, "invalid", "too many separate watched ranges");
			j->failed = 1;
			rc = 0;
		} else if (rc == 0) {
			batch_records(app, st, &t, j->person_id, &a, &p);
			j->reply = ws_ack(j->seq, j->unit, &p, a.clipped_ms);
			j->completed_now = a.completed_now;
			j->unit_id = t.u.id;
			j->course_id = t.course_id;
		}
	}
out:
	store_progress_cleanup(&p);
	target_cleanup(&t);
	return rc == 0 && !j->reply ? TC_ENOMEM : rc;
}

int
api_progress_batch(struct app *app, struct store *st, struct progress_job *head)
{
	struct target_cache *cache = calloc(1, sizeof(*cache));
	int rc = cache ? 0 : TC_ENOMEM;

	for (struct progress_job *j = head; j && rc == 0; j = j->next)
		rc = batch_job(app, st, cache, j);
	free(cache);
	return rc;
}

static char *
ws_stale(json_int_t seq)
{
	return ws_error(seq, "stale_seq", "too many of this connection's messages went "
			"unapplied to tell whether this seq was applied; send it again with a new "
			"seq");
}

/* The message J repeated was queued when J came and has been answered
 * since: J's ack stands only if it was applied. */
static void
reack_recheck(struct progress_conn *pc, struct progress_job *j)
{
	enum progress_seq_verdict v = progress_seq_peek(&pc->seqs, j->seq);
	char *text;

	if (v == PROGRESS_SEQ_REACK)
		return;
	text = v == PROGRESS_SEQ_STALE ? ws_stale(j->seq) :
	       ws_error(j->seq, "busy", "progress could not be saved; send it again");
	if (text) {
		free(j->reply);
		j->reply = text;
	}
}

void
api_progress_ws_done(struct app *app, struct progress_job *j)
{
	struct progress_conn *pc = ws_progress_conn(app->ws, j->person_id, j->serial);

	if (pc) {
		if (pc->pending > 0)
			pc->pending--;
		if (j->kind == PROGRESS_JOB_APPLY && j->failed)
			progress_seq_failed(&pc->seqs, j->seq);	/* a resend applies */
		if (j->kind == PROGRESS_JOB_REACK && !j->failed)
			reack_recheck(pc, j);
	}
	if (j->completed_now) {
		struct unit u;

		memset(&u, 0, sizeof(u));
		u.id = j->unit_id;
		u.course_id = j->course_id;
		snprintf(u.uid, sizeof(u.uid), "%s", j->unit);
		snprintf(u.kind, sizeof(u.kind), "video");
		progress_unit_completed(app, j->person_id, &u);
	}
	if (pc && j->reply)
		ws_send_to(app->ws, j->person_id, j->serial, j->reply, strlen(j->reply));
}

/* Hands J to the writer (or runs it here when there is none); on 0 it is
 * answered later. J is freed either way. */
static int
submit(struct app *app, struct progress_conn *pc, struct progress_job *j)
{
	int rc = 0;

	if (app->progress_writer) {
		rc = progress_writer_submit(app->progress_writer, j);
		if (rc == 0)
			pc->pending++;
		else
			progress_job_free(j);
		return rc;
	}
	pc->pending++;
	progress_batch_run(app, app->store, j);
	api_progress_ws_done(app, j);
	progress_job_free(j);
	return 0;
}

/*
 * An answer of the service thread alone: sent at once, unless earlier
 * messages of the connection still wait for theirs (then through the
 * writer, in order).
 */
static int
answer(struct app *app, struct progress_conn *pc, uint64_t serial, int64_t person_id,
       int64_t seq, char *text, char **reply)
{
	struct progress_job *j;

	if (!text)
		return TC_ENOMEM;
	if (pc->pending == 0 || person_id <= 0 ||
	    !(j = progress_job_new(PROGRESS_JOB_REPLY, serial, person_id, seq))) {
		*reply = text;
		return 0;
	}
	j->reply = text;
	if (!app->progress_writer || progress_writer_submit(app->progress_writer, j) != 0) {
		j->reply = NULL;
		progress_job_free(j);
		*reply = text;
		return 0;
	}
	pc->pending++;
	return 0;
}

int
api_progress_ws(struct app *app, int64_t person_id, uint64_t serial, struct progress_conn *pc,
		json_t *msg, char **reply)
{
	json_t *seqv = json_object_get(msg, "seq");
	const char *uid = json_string_value(json_object_get(msg, "unit"));
	char why[PROGRESS_WHY_MAX] = "";
	struct progress_job *j;
	int64_t now = now_ms();
	enum progress_seq_verdict verdict;
	json_int_t seq;
	int reack;

	*reply = NULL;
	if (now - pc->window_ms >= 1000) {
		pc->window_ms = now;
		pc->count = 0;
	}
	if (++pc->count > PROGRESS_WS_RATE) {
		if (json_is_integer(seqv) && json_integer_value(seqv) >= 0)
			progress_seq_refused(&pc->seqs, json_integer_value(seqv));
		return answer(app, pc, serial, person_id, -1, ws_error_raw(seqv, "busy",
			      "more than 50 progress messages a second; slow down"), reply);
	}
	if (person_id <= 0)
		return answer(app, pc, serial, person_id, -1, ws_error_raw(seqv, "forbidden",
			      "sign in to record progress (a session, not an API token)"), reply);
	if (!json_is_integer(seqv) || json_integer_value(seqv) < 0)
		return answer(app, pc, serial, person_id, -1, ws_error_raw(seqv, "invalid",
			      "\"seq\" must be an integer, 0 or more"), reply);
	seq = json_integer_value(seqv);
	if (!uid || strlen(uid) >= sizeof(j->unit)) {
		progress_seq_refused(&pc->seqs, seq);
		return answer(app, pc, serial, person_id, seq, ws_error_raw(seqv, uid ? "not_found"
			      : "invalid", uid ? "no such unit, or you are not enrolled in its "
			      "course" : "\"unit\" must be the unit's uid"), reply);
	}
	verdict = progress_seq_take(&pc->seqs, seq);
	if (verdict == PROGRESS_SEQ_STALE)
		return answer(app, pc, serial, person_id, seq, ws_stale(seq), reply);
	/* a resend of a seq applied, or queued, is only acked again */
	reack = verdict == PROGRESS_SEQ_REACK;
	if (!(j = progress_job_new(reack ? PROGRESS_JOB_REACK : PROGRESS_JOB_APPLY, serial,
				   person_id, seq))) {
		if (!reack)
			progress_seq_failed(&pc->seqs, seq);
		return TC_ENOMEM;
	}
	snprintf(j->unit, sizeof(j->unit), "%s", uid);
	if (!reack && progress_event_parse(msg, now, &j->ev, why, sizeof(why))) {
		progress_job_free(j);
		progress_seq_failed(&pc->seqs, seq);
		return answer(app, pc, serial, person_id, seq, ws_error(seq, "invalid", why),
			      reply);
	}
	if (submit(app, pc, j) != 0) {
		if (!reack)
			progress_seq_failed(&pc->seqs, seq);
		*reply = ws_error(seq, "busy", "the server is busy; send it again");
		return *reply ? 0 : TC_ENOMEM;
	}
	return 0;
}

/* ---- HTTP ------------------------------------------------------------------------- */

/* Answers the failure RC of load_target in RESP. */
static void
refuse(const struct http_request *req, struct http_response *resp, int rc)
{
	if (req->actor.kind == ACTOR_NONE)
		api_allow(req, resp, AZ_COURSE_ENROL, 0);
	else if (req->actor.kind != ACTOR_PERSON)
		problem_respond(resp, 403, NULL, "progress is recorded for people, not API tokens");
	else if (rc == TC_ENOTFOUND)
		problem_respond(resp, 404, NULL, "no such unit, or you are not enrolled in its course");
	else if (rc == TC_EFORBIDDEN)
		problem_respond(resp, 403, NULL,
				"progress is recorded for enrolled learners, not lecturers");
	else
		problem_respond_err(resp, rc, "progress could not be read");
}

static int64_t
actor_person(const struct http_request *req)
{
	return req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
}

static int
on_progress_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct target t;
	struct progress p;
	int rc = load_target(app->store, NULL, actor_person(req), http_request_param(req, "uid"), &t);

	memset(&p, 0, sizeof(p));
	if (rc) {
		refuse(req, resp, rc);
		goto out;
	}
	rc = store_progress_get(app->store, req->actor.person_id, t.u.id, &p);
	if (rc && rc != TC_ENOTFOUND) {
		problem_respond_err(resp, rc, "progress could not be read");
		goto out;
	}
	api_reply_json(resp, 200, progress_json(t.u.uid, t.u.kind, &p));
out:
	store_progress_cleanup(&p);
	target_cleanup(&t);
	return 0;
}

static int
on_progress_post(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct progress_event *ev = NULL;
	char why[PROGRESS_WHY_MAX + 32] = "";
	json_t *body = NULL, *list;
	struct progress p;
	struct target t;
	int64_t dur = 0, now = now_ms(), clipped = 0;
	size_t n = 0;
	int rc = load_target(app->store, NULL, actor_person(req), http_request_param(req, "uid"), &t);

	memset(&p, 0, sizeof(p));
	if (rc) {
		refuse(req, resp, rc);
		goto out;
	}
	if (api_read_json(req, resp, &body))
		goto out;
	list = json_object_get(body, "events");
	if (list && (!json_is_array(list) || json_array_size(list) == 0 ||
		     json_array_size(list) > PROGRESS_EVENTS_MAX)) {
		problem_respond(resp, 400, NULL, "\"events\" must be an array of 1 to 100 events");
		goto out;
	}
	n = list ? json_array_size(list) : 1;
	if (!(ev = calloc(n, sizeof(*ev)))) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int at = snprintf(why, sizeof(why), list ? "events[%zu]: " : "", i);

		if (progress_event_parse(list ? json_array_get(list, i) : body, now, &ev[i],
					 why + at, sizeof(why) - (size_t)at)) {
			problem_respond(resp, 400, NULL, why);
			goto out;
		}
	}
	if (check_events(&t, ev, n, &dur, why, sizeof(why))) {
		problem_respond(resp, 400, NULL, why);
		goto out;
	}
	rc = record(app, req->actor.person_id, &t, ev, n, dur, &p, &clipped);
	if (rc == TC_ETOOBIG) {
		problem_respond(resp, 400, NULL, "too many separate watched ranges");
	} else if (rc) {
		problem_respond_err(resp, rc, "progress could not be saved");
	} else {
		json_t *o = progress_json(t.u.uid, t.u.kind, &p);

		if (o && clipped > 0)
			json_object_set_new(o, "clipped", json_real(clipped / 1000.0));
		api_reply_json(resp, 200, o);
	}
out:
	free(ev);
	json_decref(body);
	store_progress_cleanup(&p);
	target_cleanup(&t);
	return 0;
}

static int
add_unit_progress(const struct progress_unit *u, void *arg)
{
	json_t *o = progress_json(u->unit_uid, u->kind, u->p);

	if (!o)
		return TC_ENOMEM;
	json_object_set_new(o, "required", json_boolean(u->required));
	json_object_set_new(o, "position_in_course", json_integer(u->position));
	return json_array_append_new(arg, o) ? TC_ENOMEM : 0;
}

static int
on_course_progress(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *uid = http_request_param(req, "uid");
	struct course c;
	json_t *units = json_array();
	int rc = uid ? store_course_get(app->store, uid, &c) : TC_ENOTFOUND;

	if (rc == 0 && !api_material_readable(app, req, &c))
		rc = TC_ENOTFOUND;
	if (rc) {
		json_decref(units);
		if (req->actor.kind == ACTOR_NONE)
			return api_allow(req, resp, AZ_COURSE_ENROL, 0), 0;
		if (rc == TC_ENOTFOUND)
			return problem_respond(resp, 404, NULL, "no such course, or it is not yours "
					       "to see"), 0;
		return problem_respond_err(resp, rc, NULL), 0;
	}
	rc = store_progress_units_each(app->store, req->actor.person_id, c.id, add_unit_progress,
				       units);
	if (rc) {
		json_decref(units);
		return problem_respond_err(resp, rc, "progress could not be read"), 0;
	}
	return api_reply_json(resp, 200, json_pack("{s:s, s:o}", "course", c.uid, "units", units)), 0;
}

static int
on_unit_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *uid = http_request_param(req, "uid");
	struct unit u;
	struct course c;
	int rc;
	json_t *o;

	memset(&u, 0, sizeof(u));
	rc = uid ? store_unit_get(app->store, uid, &u) : TC_ENOTFOUND;
	if (rc == 0)
		rc = store_course_get_id(app->store, u.course_id, &c);
	if (rc == 0 && !api_material_readable(app, req, &c))
		rc = TC_ENOTFOUND;
	if (rc) {
		if (req->actor.kind == ACTOR_NONE)
			api_allow(req, resp, AZ_COURSE_ENROL, 0);
		else if (rc == TC_ENOTFOUND)
			problem_respond(resp, 404, NULL, "no such unit, or it is not yours to see");
		else
			problem_respond_err(resp, rc, NULL);
		goto out;
	}
	/* reading writes nothing: a text unit is read by POST .../read */
	o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:b, s:s?, s:s?}", "uid", u.uid, "course", c.uid,
		      "position", u.position, "kind", u.kind, "title", u.title,
		      "required", u.required, "body", u.body && u.body[0] ? u.body : NULL,
		      "material", u.material_uid[0] ? u.material_uid : NULL);
	if (o && u.body && u.body[0]) {
		struct dynbuf html;

		dynbuf_init(&html, (size_t)4 << 20);
		if (markdown_render(u.body, strlen(u.body), &html) == 0)
			json_object_set_new(o, "body_html", json_string(dynbuf_str(&html)));
		dynbuf_cleanup(&html);
	}
	api_reply_json(resp, 200, o);
out:
	free(u.body);
	return 0;
}

/* ---- what was delivered ----------------------------------------------------------- */

/* A rendition playlist's segments: name and span, parsed once per version
 * of the file (inode, size, mtime) and kept in a small cache. */
struct seg {
	char name[24];
	int64_t from_ms, to_ms;
};

struct playlist {
	char key[64];			/* "<uid>/<rendition>" */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct seg *segs;
	size_t n;
};

#define PLAYLIST_CACHE 16
#define PLAYLIST_BYTES_MAX (4 << 20)

struct progress_cache {
	struct playlist p[PLAYLIST_CACHE];
	size_t next;			/* the entry replaced next */
};

void
api_progress_cleanup(struct app *app)
{
	if (!app->progress_cache)
		return;
	for (size_t i = 0; i < PLAYLIST_CACHE; i++)
		free(app->progress_cache->p[i].segs);
	free(app->progress_cache);
	app->progress_cache = NULL;
}

/* Parses TEXT (NUL-terminated) into PL's segments. */
static int
parse_playlist(char *text, struct playlist *pl)
{
	double at = 0, extinf = -1;
	size_t cap = 0;
	char *line, *next;

	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (strncmp(line, "#EXTINF:", 8) == 0) {
			extinf = strtod(line + 8, NULL);
			continue;
		}
		if (!line[0] || line[0] == '#')
			continue;
		if (extinf < 0 || extinf > 3600 || strlen(line) >= sizeof(pl->segs->name))
			return TC_EINVALID;
		if (GROW(&pl->segs, &cap, pl->n + 1, 64))
			return TC_ENOMEM;
		snprintf(pl->segs[pl->n].name, sizeof(pl->segs->name), "%s", line);
		pl->segs[pl->n].from_ms = (int64_t)(at * 1000.0 + 0.5);
		at += extinf;
		pl->segs[pl->n].to_ms = (int64_t)(at * 1000.0 + 0.5);
		pl->n++;
		extinf = -1;
	}
	return 0;
}

/* The span of segment NAME of rendition DIR of lecture UID. */
static int
segment_span(struct app *app, const char *uid, const char *dir, const char *name,
	     int64_t *from, int64_t *to)
{
	char root[PATH_MAX], path[PATH_MAX + 64], key[64], *text = NULL;
	struct progress_cache *pc = app->progress_cache;
	struct playlist *pl = NULL;
	struct stat st;
	ssize_t got = 0;
	int fd = -1, rc = 0;

	if (media_dir_path(app->cfg->data_dir, uid, root) != 0 ||
	    snprintf(key, sizeof(key), "%s/%s", uid, dir) >= (int)sizeof(key) ||
	    snprintf(path, sizeof(path), "%s/%s/index.m3u8", root, dir) >= (int)sizeof(path))
		return TC_EINVALID;
	if (!pc && !(pc = app->progress_cache = calloc(1, sizeof(*pc))))
		return TC_ENOMEM;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		rc = TC_ENOTFOUND;
		goto out;
	}
	for (size_t i = 0; i < PLAYLIST_CACHE && !pl; i++) {
		struct playlist *p = &pc->p[i];

		if (strcmp(p->key, key) == 0 && p->dev == st.st_dev && p->ino == st.st_ino &&
		    p->size == st.st_size && p->mtime.tv_sec == st.st_mtim.tv_sec &&
		    p->mtime.tv_nsec == st.st_mtim.tv_nsec)
			pl = p;
	}
	if (!pl) {
		if (st.st_size <= 0 || st.st_size > PLAYLIST_BYTES_MAX ||
		    !(text = malloc((size_t)st.st_size + 1))) {
			rc = st.st_size > 0 && st.st_size <= PLAYLIST_BYTES_MAX ? TC_ENOMEM : TC_EINVALID;
			goto out;
		}
		while (got < st.st_size) {
			ssize_t k = read(fd, text + got, (size_t)(st.st_size - got));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			got += k;
		}
		if (got != st.st_size) {
			rc = TC_EIO;
			goto out;
		}
		text[got] = '\0';
		pl = &pc->p[pc->next];
		pc->next = (pc->next + 1) % PLAYLIST_CACHE;
		free(pl->segs);
		memset(pl, 0, sizeof(*pl));
		if ((rc = parse_playlist(text, pl))) {
			free(pl->segs);
			memset(pl, 0, sizeof(*pl));
			goto out;
		}
		snprintf(pl->key, sizeof(pl->key), "%s", key);
		pl->dev = st.st_dev;
		pl->ino = st.st_ino;
		pl->size = st.st_size;
		pl->mtime = st.st_mtim;
	}
	rc = TC_ENOTFOUND;
	for (size_t i = 0; i < pl->n; i++)
		if (strcmp(pl->segs[i].name, name) == 0) {
			*from = pl->segs[i].from_ms;
			*to = pl->segs[i].to_ms;
			rc = 0;
			break;
		}
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}

static void
on_segment_sent(struct app *app, const struct http_response *r)
{
	int rc = store_delivery_add(app->store, r->sent_person, r->sent_material, r->sent_from_ms,
				    r->sent_to_ms, (int64_t)time(NULL));

	if (rc)
		log_warn("progress: delivery of %lld-%lld ms of material %lld to person %lld not "
			 "recorded: %s", (long long)r->sent_from_ms, (long long)r->sent_to_ms,
			 (long long)r->sent_material, (long long)r->sent_person, tc_strerror(rc));
}

void
api_progress_segment(struct app *app, struct http_response *resp, const char *uid,
		     const char *dir, const char *name, const char *viewer, int64_t size)
{
	struct person p;
	struct material m;
	int64_t from = 0, to = 0;

	if (!dir || !name || strncmp(name, "seg_", 4) != 0 || !viewer || strcmp(viewer, "-") == 0)
		return;
	if (!(resp->status == 200 || (resp->status == 206 && resp->file_off == 0 &&
				      resp->file_len == size)))
		return;
	if (store_person_get_by_uid(app->store, viewer, &p) != 0 ||
	    store_material_get(app->store, uid, &m) != 0 ||
	    segment_span(app, uid, dir, name, &from, &to) != 0 || from >= to)
		return;
	resp->on_sent = on_segment_sent;
	resp->sent_person = p.id;
	resp->sent_material = m.id;
	resp->sent_from_ms = from;
	resp->sent_to_ms = to;
}

/*
 * POST /api/v1/units/{uid}/read: the caller (an enrolled learner) opened
 * the text or document unit UID: it is viewed, and so complete. A POST
 * with the session's CSRF token, not a side effect of reading the unit
 * (GET /api/v1/units/{uid}) or of downloading its file: a cross-site
 * navigation carries the SameSite=Lax cookie and must not complete units
 * (and so courses, and issue credits) for a learner.
 */
static int
on_unit_read(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct target t;
	struct progress p;
	char why[120];
	int rc = load_target(app->store, NULL, actor_person(req), http_request_param(req, "uid"), &t);

	memset(&p, 0, sizeof(p));
	if (rc) {
		refuse(req, resp, rc);
		goto out;
	}
	if (strcmp(t.u.kind, "text") != 0 && strcmp(t.u.kind, "document") != 0) {
		snprintf(why, sizeof(why), "only text and document units are read; this one is a %s"
			 " unit", t.u.kind);
		problem_respond(resp, 400, NULL, why);
		goto out;
	}
	if ((rc = mark_viewed(app, req->actor.person_id, &t.u)) ||
	    (rc = store_progress_get(app->store, req->actor.person_id, t.u.id, &p))) {
		problem_respond_err(resp, rc, "the unit could not be marked as read");
		goto out;
	}
	api_reply_json(resp, 200, progress_json(t.u.uid, t.u.kind, &p));
out:
	store_progress_cleanup(&p);
	target_cleanup(&t);
	return 0;
}

const struct route api_progress_routes[] = {
	{ HTTP_GET, "/api/v1/units/{uid}/progress", on_progress_get, "progress_get" },
	{ HTTP_POST, "/api/v1/units/{uid}/progress", on_progress_post, "progress_post" },
	{ HTTP_GET, "/api/v1/courses/{uid}/progress/me", on_course_progress, "progress_course" },
	{ HTTP_GET, "/api/v1/units/{uid}", on_unit_get, "unit_get" },
	{ HTTP_POST, "/api/v1/units/{uid}/read", on_unit_read, "unit_read" },
};
const size_t api_progress_routes_count =
	sizeof(api_progress_routes) / sizeof(api_progress_routes[0]);
