/*
 * progress_writer.h - the WebSocket "progress" messages written by one
 * thread in group commits.
 *
 * The service thread only checks a message (rate, "seq", "unit", the event
 * itself: server/api_progress.c) and queues it as a job. One writer thread
 * per process, with its own database connection, takes every job queued so
 * far, runs them all inside ONE transaction (api_progress_batch: the
 * unit, the enrolment, the read-modify-write of the row) and commits; jobs
 * that arrive meanwhile wait for the next batch (no timer: a batch is as
 * large as what came in during the previous commit). After the commit the
 * jobs, now holding their answers, go back to the service thread
 * (http_server_wake, then progress_writer_deliver from
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED), which sends them to their
 * connections: an ack is only ever sent for a committed change. When the
 * batch fails (a database error), it is rolled back and every job of it is
 * answered "busy" (send it again), never acked.
 *
 * The queue holds at most PROGRESS_QUEUE_MAX jobs; progress_writer_submit
 * refuses more (TC_EBUSY), and the caller answers "busy" at once.
 */
#ifndef TINCHI_PROGRESS_WRITER_H
#define TINCHI_PROGRESS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "courses/progress.h"

#define PROGRESS_QUEUE_MAX 100000

struct app;
struct store;
struct progress_writer;

enum progress_job_kind {
	PROGRESS_JOB_APPLY,		/* apply EV, ack with the saved row */
	PROGRESS_JOB_REACK,		/* a seq seen before: ack the row as it is */
	PROGRESS_JOB_REPLY		/* send REPLY as it is (keeps answers in order) */
};

/* One message of a connection, then its answer. */
struct progress_job {
	struct progress_job *next;
	enum progress_job_kind kind;
	uint64_t serial;		/* the connection (ws.h ws_send_to) */
	int64_t person_id;
	int64_t seq;
	char unit[37];			/* the unit's uid */
	struct progress_event ev;	/* PROGRESS_JOB_APPLY */
	/* the answer, filled in by the batch */
	char *reply;			/* JSON text to send (allocated) */
	int failed;			/* not applied: a resend of SEQ must apply */
	int completed_now;		/* the unit became complete in this job */
	int64_t unit_id, course_id;	/* with completed_now */
};

/* A new job of KIND (zeroed but for the fields given). NULL: no memory. */
struct progress_job *progress_job_new(enum progress_job_kind kind, uint64_t serial,
				      int64_t person_id, int64_t seq);
void progress_job_free(struct progress_job *j);	/* accepts NULL */

/*
 * Runs the list of jobs HEAD as one batch on ST: BEGIN, every job
 * (api_progress_batch), COMMIT. On a failure the transaction is rolled
 * back and every job is answered "busy" and marked failed. Returns 0 or
 * the error (the jobs are answered either way, as far as memory allows).
 * Used by the writer thread, and on the service thread when there is none.
 */
int progress_batch_run(struct app *app, struct store *st, struct progress_job *head);

/* Opens the writer's store and starts its thread. 0, TC_ENOMEM, TC_EIO,
 * or the store's error. */
int progress_writer_start(struct app *app, struct progress_writer **out);

/* Queues J (owned by the writer on 0). TC_EBUSY: the queue is full or the
 * writer is stopping; J stays the caller's. Service thread. */
int progress_writer_submit(struct progress_writer *w, struct progress_job *j);

/* Service thread: answers the jobs of committed batches
 * (api_progress_ws_done) and frees them. Returns how many. Accepts NULL. */
size_t progress_writer_deliver(struct progress_writer *w);

/* For /metrics: batches committed or failed, jobs in them, jobs queued now. */
void progress_writer_stats(struct progress_writer *w, int64_t *batches, int64_t *jobs,
			   int64_t *queued);

/* Service thread: stops accepting, commits what is queued, joins the
 * thread, delivers the last answers (progress_writer_deliver: to the
 * connections still open, and the units they completed), frees everything.
 * Accepts NULL. */
void progress_writer_stop(struct progress_writer *w);

#endif
