/*
 * access_writer.h - the thread that commits the recognition query's
 * access-log entries (storage/consent.h) in group commits.
 *
 * "Every access is logged": an institution's read is answered only after
 * its entry is durable. Committing each entry on the service thread costs
 * one fsync per query, during which the event loop serves nobody. Instead
 * the query (server/api_recogquery.c) hands the entry to this writer as
 * soon as it has listed the consented rows (access_writer_submit), then
 * builds its answer on the service thread while the entry commits; the
 * writer takes every entry queued meanwhile, stores them in one
 * transaction on its own connection (one fsync for all), and the answers
 * go out from the service thread after that commit (access_writer_deliver,
 * called when the loop is woken). An entry that cannot be stored fails
 * alone: the batch is rolled back and its entries are stored one by one.
 * The pattern is server/progress_writer.c's.
 */
#ifndef TINCHI_ACCESS_WRITER_H
#define TINCHI_ACCESS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "server/request.h"
#include "storage/consent.h"

struct app;
struct access_writer;

/* Entries waiting at most; a query past that is answered 503. */
#define ACCESS_QUEUE_MAX 4096

/* One deferred answer waiting for its entry. D first: the transport's
 * deferred request (queued on the writer by the query itself). */
struct access_job {
	struct http_deferred d;
	struct consent_access a;	/* a.credentials points to CREDENTIALS */
	char *credentials;		/* owned */
	int rc;				/* the entry's: 0 committed */
	char *answer;			/* the caller's: the answer's JSON text (owned) */
	int answer_rc;			/* the caller's: 0, or why there is no answer */
	struct access_job *next;	/* the writer's */
};

/* Starts the thread with its own connection to APP's database. */
int access_writer_start(struct app *app, struct access_writer **out);

/* The transport's submit for a job whose d.work is inside an access_job:
 * queues it on APP->access_writer. 0, or TC_EBUSY (queue full, stopping,
 * no writer): W untouched. */
int access_writer_submit(struct app *app, struct work *w);

/* On the service thread: calls work.done of every committed (or failed)
 * job. Returns how many. Accepts NULL. */
size_t access_writer_deliver(struct access_writer *w);

/* Commits what is queued, delivers it, stops the thread; later submits
 * are refused (TC_EBUSY). A second call does nothing. Accepts NULL. W stays
 * allocated until access_writer_free, so that a worker still running (a
 * query that outlived the drain) can be refused safely: free it after the
 * workers are joined (http_server_destroy). */
void access_writer_stop(struct access_writer *w);
/* Stops W if it still runs, and frees it. Accepts NULL. */
void access_writer_free(struct access_writer *w);

/* Transactions and entries committed so far. */
void access_writer_stats(struct access_writer *w, int64_t *commits, int64_t *entries);

#endif
