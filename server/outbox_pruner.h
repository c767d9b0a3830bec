/*
 * outbox_pruner.h - retention of the outbox: consumed events are deleted
 * some time after they were consumed (config outbox-retention, 30 days by
 * default, 0: kept forever), by a thread of the server with its own
 * connection, every outbox-prune-interval seconds, and once on demand by
 * `tinchi outbox prune` (server/cli_outbox.c).
 *
 * Deleting is done in small batches (OUTBOX_PRUNE_BATCH events, one short
 * transaction each) with a pause between them, so the writers that serve
 * requests (the event loop's connection answers 503 after a 250 ms wait
 * for the lock) never wait for more than one batch. What is kept:
 * unconsumed events (the issuer's and the deferred xAPI statements'
 * queue) and declined 'course.completed' events, which the approval list
 * still shows and a later approval issues (storage/credentials.h). A
 * credential, its log entry and the learner's wallet do not read the
 * event once it is consumed.
 */
#ifndef TINCHI_OUTBOX_PRUNER_H
#define TINCHI_OUTBOX_PRUNER_H

#include <stdint.h>

struct app;
struct store;
struct outbox_pruner;

#define OUTBOX_PRUNE_BATCH 256		/* events a transaction */
#define OUTBOX_PRUNE_PAUSE_MS 20	/* between two batches of the server's thread */

/*
 * Deletes every event of ST consumed before BEFORE (unix seconds), except
 * declined ones, BATCH (1..OUTBOX_PRUNE_MAX) at a time, each batch its own
 * transaction. Between two batches PAUSE(ARG) is called (PAUSE may be
 * NULL): a non-zero return stops early (not an error). *DELETED (may be
 * NULL) gets how many went, also on an error. 0 or a TC_E* code.
 */
int outbox_prune_all(struct store *st, int64_t before, int batch,
		     int (*pause)(void *arg), void *arg, int64_t *deleted);

/*
 * Starts the thread for APP (its config's outbox_retention and
 * outbox_prune_interval; a first pass at once). *OUT is NULL without an
 * error when the retention is 0 (events kept forever).
 */
int outbox_pruner_start(struct app *app, struct outbox_pruner **out);

/* Stops the thread (a batch in progress is finished). Accepts NULL. */
void outbox_pruner_stop(struct outbox_pruner *p);

/* Events the thread deleted so far. */
int64_t outbox_pruner_deleted(struct outbox_pruner *p);

#endif
