/*
 * access_writer.c - the thread that commits access-log entries in group
 * commits; see access_writer.h.
 */
#include <pthread.h>
#include <stdlib.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/access_writer.h"
#include "server/app.h"
#include "server/config.h"
#include "server/http.h"
#include "storage/consent.h"
#include "storage/identity.h"
#include "storage/store.h"

struct access_writer {
	struct app *app;
	struct store *st;		/* the thread's own connection */
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	int stopped;			/* access_writer_stop ran (the service thread's) */
	struct access_job *head, *tail;	/* queued */
	size_t nqueued;
	struct access_job *done, *done_tail;	/* committed, for the service thread */
	int64_t commits, entries;
};

/* Stores the entries from HEAD in one transaction; when that fails, each
 * in its own, so that one bad entry fails alone. */
static void
write_batch(struct access_writer *w, struct access_job *head)
{
	struct access_job *j;
	int rc = store_begin(w->st);

	for (j = head; rc == 0 && j; j = j->next)
		rc = store_consent_access_record(w->st, &j->a);
	if (rc == 0)
		rc = store_commit(w->st);
	if (rc == 0) {
		for (j = head; j; j = j->next)
			j->rc = 0;
		return;
	}
	store_rollback(w->st);
	for (j = head; j; j = j->next) {
		j->rc = store_begin(w->st);
		if (j->rc == 0)
			j->rc = store_consent_access_record(w->st, &j->a);
		if (j->rc == 0)
			j->rc = store_commit(w->st);
		if (j->rc) {
			store_rollback(w->st);
			log_warn("access log: an entry was not stored: %s", tc_strerror(j->rc));
		}
	}
}

static void *
thread_main(void *arg)
{
	struct access_writer *w = arg;

	for (;;) {
		struct access_job *batch, *last;
		size_t n;

		pthread_mutex_lock(&w->mu);
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
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

		write_batch(w, batch);

		pthread_mutex_lock(&w->mu);
		if (w->done_tail)
			w->done_tail->next = batch;
		else
			w->done = batch;
		w->done_tail = last;
		w->commits++;
		w->entries += (int64_t)n;
		pthread_mutex_unlock(&w->mu);
		http_server_wake(w->app);
	}
	return NULL;
}

int
access_writer_start(struct app *app, struct access_writer **out)
{
	struct access_writer *w = calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (!w)
		return TC_ENOMEM;
	w->app = app;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rc = store_open(app->cfg->data_dir, &w->st)) != 0) {
		log_err("access log: the writer could not open the database: %s",
			tc_strerror(rc));
		access_writer_stop(w);
		access_writer_free(w);
		return rc;
	}
	/* it waits for other writers rather than failing a batch at once */
	store_set_busy_timeout(w->st, 5000);
	if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
		access_writer_stop(w);
		access_writer_free(w);
		return TC_EIO;
	}
	w->started = 1;
	*out = w;
	return 0;
}

int
access_writer_submit(struct app *app, struct work *work)
{
	struct access_writer *w = app ? app->access_writer : NULL;
	struct access_job *j = (struct access_job *)work;
	int rc = 0, wake = 0;

	if (!w)
		return TC_EBUSY;
	j->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->stopping || w->nqueued >= ACCESS_QUEUE_MAX) {
		rc = TC_EBUSY;
	} else {
		if (w->tail)
			w->tail->next = j;
		else
			w->head = j;
		w->tail = j;
		wake = w->nqueued++ == 0;
	}
	pthread_mutex_unlock(&w->mu);
	/* after the unlock: woken inside it, the writer would at once block
	 * on the mutex still held here (a second futex wake and switch).
	 * Only the first entry of a queue wakes it: behind it, the writer
	 * has that signal coming or is committing, and takes the queue
	 * without waiting when it is done. */
	if (wake)
		pthread_cond_signal(&w->cv);
	return rc;
}

size_t
access_writer_deliver(struct access_writer *w)
{
	struct access_job *j, *next;
	size_t n = 0;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	j = w->done;
	w->done = w->done_tail = NULL;
	pthread_mutex_unlock(&w->mu);
	for (; j; j = next, n++) {
		next = j->next;
		j->d.work.done(&j->d.work, 0);	/* frees J */
	}
	return n;
}

void
access_writer_stats(struct access_writer *w, int64_t *commits, int64_t *entries)
{
	*commits = *entries = 0;
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	*commits = w->commits;
	*entries = w->entries;
	pthread_mutex_unlock(&w->mu);
}

void
access_writer_stop(struct access_writer *w)
{
	if (!w || w->stopped)
		return;
	w->stopped = 1;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->thread, NULL);	/* after committing what was queued */
	/* what was queued is committed: its answers are finished (the
	 * connections are gone by now, so finish() only frees) */
	access_writer_deliver(w);
	store_close(w->st);
	w->st = NULL;
}

void
access_writer_free(struct access_writer *w)
{
	if (!w)
		return;
	access_writer_stop(w);
	access_writer_deliver(w);	/* a late submit was refused; nothing is queued */
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
