/*
 * workers.h - a small pool of threads for work that would block the event
 * loop for more than about a millisecond (password hashing, imports).
 *
 * A job's run() executes on a worker thread and must touch neither lws nor
 * the service thread's store; its done() then runs on the service thread
 * (woken with lws_cancel_service), where it may use both. The number of
 * threads caps how many jobs run at once (so a burst of logins cannot run
 * more than that many 128 MiB scrypt hashes); the queue is capped too.
 */
#ifndef TINCHI_WORKERS_H
#define TINCHI_WORKERS_H

#include <stddef.h>

struct workers;

struct work {
	/* On a worker thread. */
	void (*run)(struct work *w);
	/* On the service thread, after run(); CANCELLED is 1 when the job was
	 * dropped (shutdown) without running. Must free W. */
	void (*done)(struct work *w, int cancelled);
	struct work *next;		/* the pool's */
};

/*
 * Starts NTHREADS threads and accepts up to QUEUE_MAX waiting jobs. WAKE
 * is called (from a worker thread) whenever a finished job is ready for
 * workers_complete; it must be thread-safe (lws_cancel_service is).
 * 0, TC_ENOMEM, TC_EIO.
 */
int workers_create(unsigned nthreads, unsigned queue_max,
		   void (*wake)(void *arg), void *wake_arg, struct workers **out);

/* Queues W. 0, or TC_EBUSY when the queue is full (W untouched). */
int workers_submit(struct workers *wk, struct work *w);

/* On the service thread: calls done() of every finished job. Returns how
 * many. */
size_t workers_complete(struct workers *wk);

/* Jobs queued or running now. */
size_t workers_pending(struct workers *wk);

/* Stops the threads after the jobs already running; queued jobs get
 * done(w, 1). Then frees the pool. Service thread only. Accepts NULL. */
void workers_destroy(struct workers *wk);

#endif
