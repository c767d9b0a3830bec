/*
 * progress_writer.c - the thread that writes WebSocket progress in group
 * commits; see progress_writer.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/api_progress.h"
#include "server/app.h"
#include "server/config.h"
#include "server/http.h"
#include "server/progress_writer.h"
#include "server/records.h"
#include "storage/identity.h"
#include "storage/store.h"

/* Learning records stored in one transaction when the writer is idle. */
#define RECORDS_CHUNK 50

struct progress_writer {
	struct app *app;
	struct store *st;		/* the thread's own connection */
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	struct progress_job *head, *tail;	/* queued */
	size_t nqueued;
	struct progress_job *done, *done_tail;	/* answered, for the service thread */
	int64_t batches, jobs;
};

struct progress_job *
progress_job_new(enum progress_job_kind kind, uint64_t serial, int64_t person_id, int64_t seq)
{
	struct progress_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->kind = kind;
	j->serial = serial;
	j->person_id = person_id;
	j->seq = seq;
	return j;
}

void
progress_job_free(struct progress_job *j)
{
	if (!j)
		return;
	free(j->reply);
	free(j);
}

static void
free_list(struct progress_job *j)
{
	while (j) {
		struct progress_job *next = j->next;

		progress_job_free(j);
		j = next;
	}
}

/* The answer to a job of a batch that was rolled back. */
static char *
busy_reply(int64_t seq)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "type", "error", "seq", (json_int_t)seq,
			      "error", "busy", "detail",
			      "progress could not be saved; send it again");
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

int
progress_batch_run(struct app *app, struct store *st, struct progress_job *head)
{
	int rc = store_begin(st);

	if (rc == 0)
		rc = api_progress_batch(app, st, head);
	if (rc == 0)
		rc = store_commit(st);
	if (rc == 0)
		return 0;
	store_rollback(st);
	log_warn("progress: a batch of WebSocket progress was rolled back: %s", tc_strerror(rc));
	for (struct progress_job *j = head; j; j = j->next) {
		if (j->kind == PROGRESS_JOB_REPLY && j->reply)
			continue;	/* an answer that needs no database */
		free(j->reply);
		j->reply = busy_reply(j->seq);
		j->failed = 1;
		j->completed_now = 0;
	}
	return rc;
}

/* Stores one chunk of deferred learning records; how many it handled. */
static size_t
drain_records(struct progress_writer *w)
{
	int done = 0, rc = records_drain(w->app, w->st, RECORDS_CHUNK, &done);

	if (rc) {
		log_warn("progress: learning records not stored yet: %s", tc_strerror(rc));
		return 0;
	}
	return (size_t)done;
}

/* Waits (mutex held) for a job or stop, at most a second: records left by
 * an earlier run, or refused for a moment, are tried again. */
static void
idle_wait(struct progress_writer *w)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *
thread_main(void *arg)
{
	struct progress_writer *w = arg;

	for (;;) {
		struct progress_job *batch, *last;
		size_t n;

		pthread_mutex_lock(&w->mu);
		while (!w->head && !w->stopping) {
			/* nothing queued: learning records that wait (records.h),
			 * a few at a time so a new message waits little */
			pthread_mutex_unlock(&w->mu);
			n = drain_records(w);
			pthread_mutex_lock(&w->mu);
			if (n == 0 && !w->head && !w->stopping)
				idle_wait(w);
		}
		if (!w->head) {
			pthread_mutex_unlock(&w->mu);
			break;		/* stopping, and nothing left */
		}
		batch = w->head;
		last = w->tail;
		n = w->nqueued;
		w->head = w->tail = NULL;
		w->nqueued = 0;
		pthread_mutex_unlock(&w->mu);

		progress_batch_run(w->app, w->st, batch);

		pthread_mutex_lock(&w->mu);
		if (w->done_tail)
			w->done_tail->next = batch;
		else
			w->done = batch;
		w->done_tail = last;
		w->batches++;
		w->jobs += (int64_t)n;
		pthread_mutex_unlock(&w->mu);
		http_server_wake(w->app);
	}
	return NULL;
}

int
progress_writer_start(struct app *app, struct progress_writer **out)
{
	struct progress_writer *w = calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (!w)
		return TC_ENOMEM;
	w->app = app;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rc = store_open(app->cfg->data_dir, &w->st)) != 0) {
		log_err("progress: the writer could not open the database: %s", tc_strerror(rc));
		progress_writer_stop(w);
		return rc;
	}
	/* it waits for other writers (an import, an HTTP request) rather than
	 * failing a whole batch at once */
	store_set_busy_timeout(w->st, 5000);
	if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
		progress_writer_stop(w);
		return TC_EIO;
	}
	w->started = 1;
	*out = w;
	return 0;
}

int
progress_writer_submit(struct progress_writer *w, struct progress_job *j)
{
	int rc = 0;

	if (!w || !j)
		return TC_EINVALID;
	j->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->stopping || w->nqueued >= PROGRESS_QUEUE_MAX) {
		rc = TC_EBUSY;
	} else {
		if (w->tail)
			w->tail->next = j;
		else
			w->head = j;
		w->tail = j;
		w->nqueued++;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

size_t
progress_writer_deliver(struct progress_writer *w)
{
	struct progress_job *j, *next;
	size_t n = 0;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	j = w->done;
	w->done = w->done_tail = NULL;
	pthread_mutex_unlock(&w->mu);
	for (; j; j = next, n++) {
		next = j->next;
		api_progress_ws_done(w->app, j);
		progress_job_free(j);
	}
	return n;
}

void
progress_writer_stats(struct progress_writer *w, int64_t *batches, int64_t *jobs,
		      int64_t *queued)
{
	*batches = *jobs = *queued = 0;
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	*batches = w->batches;
	*jobs = w->jobs;
	*queued = (int64_t)w->nqueued;
	pthread_mutex_unlock(&w->mu);
}

void
progress_writer_stop(struct progress_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->thread, NULL);	/* after committing what was queued */
	free_list(w->head);
	/* the last batches: their connections are closed by now, but a unit
	 * they completed is still announced and its course evaluated */
	progress_writer_deliver(w);
	store_close(w->st);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
