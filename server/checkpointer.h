/*
 * checkpointer.h - the thread that copies the write-ahead log back into the
 * database, so that no request's commit does.
 *
 * SQLite's default has the commit that leaves 1000 pages or more in the log
 * checkpoint before it returns: one request in a few hundred (a lone
 * recognition query's access-log entry, a sign-in) pays for everyone's
 * pages and a sync of the database file. With the checkpointer the server
 * turns that off for every connection (store_set_wal_external, before it
 * opens any) and this thread, on a connection of its own, runs a PASSIVE
 * checkpoint (it waits for nobody) when the log holds PAGES pages more
 * than it last copied, or when anything is left INTERVAL_MS after the last
 * one. Readers that never pause can keep the log from starting over; when
 * it holds LIMIT pages (8 x PAGES) after a passive one, a TRUNCATE follows
 * (it waits at most 100 ms for readers, holding the write lock, then tries
 * again at the next turn), so the log cannot grow without bound.
 * Durability does not change: every commit is synced in the log before it
 * returns (synchronous=FULL).
 */
#ifndef TINCHI_CHECKPOINTER_H
#define TINCHI_CHECKPOINTER_H

#include <stdint.h>

struct checkpointer;

struct checkpointer_stats {
	int64_t passive;	/* passive checkpoints run */
	int64_t truncate;	/* forced ones that finished */
	int64_t busy;		/* forced ones that found readers to the end */
	int64_t max_log;	/* the most pages seen in the log at a turn */
};

/* Starts the thread on a connection of its own to the database in
 * DATA_DIR. The caller has called store_set_wal_external(1) before opening
 * the connections whose commits should not checkpoint. PAGES >= 1,
 * INTERVAL_MS >= 1. */
int checkpointer_start(const char *data_dir, int pages, int interval_ms,
		       struct checkpointer **out);

/* Stops the thread after a last TRUNCATE (best effort). Accepts NULL. */
void checkpointer_stop(struct checkpointer *c);

/* What it did so far. */
void checkpointer_stats(struct checkpointer *c, struct checkpointer_stats *out);

#endif
