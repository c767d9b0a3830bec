/* workers_test.c - tests for server/workers.c */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "courses/errors.h"
#include "server/workers.h"
#include "tests/tap.h"

static _Atomic int wakes, running_now, max_running, gate_closed;
static int done_ok, done_cancelled;

struct job {
	struct work w;
	int value;
	int result;
	int sleep_ms;
};

static void
run_job(struct work *w)
{
	struct job *j = (struct job *)w;
	int now = atomic_fetch_add(&running_now, 1) + 1;
	int m = atomic_load(&max_running);

	while (now > m && !atomic_compare_exchange_weak(&max_running, &m, now))
		;
	if (j->sleep_ms) {
		struct timespec ts = { 0, (long)j->sleep_ms * 1000000L };
		nanosleep(&ts, NULL);
	}
	while (atomic_load(&gate_closed)) {
		struct timespec ts = { 0, 1000000L };
		nanosleep(&ts, NULL);
	}
	j->result = j->value * 2;
	atomic_fetch_sub(&running_now, 1);
}

static void
done_job(struct work *w, int cancelled)
{
	struct job *j = (struct job *)w;

	if (cancelled)
		done_cancelled++;
	else if (j->result == j->value * 2)
		done_ok++;
	free(j);
}

static void
wake(void *arg)
{
	(void)arg;
	atomic_fetch_add(&wakes, 1);
}

/* Opens the gate once workers_destroy has had time to ask the threads to stop. */
static void *
open_gate_later(void *arg)
{
	(void)arg;
	usleep(100000);
	atomic_store(&gate_closed, 0);
	return NULL;
}

static struct job *
job(int v, int sleep_ms)
{
	struct job *j = calloc(1, sizeof(*j));

	j->w.run = run_job;
	j->w.done = done_job;
	j->value = v;
	j->sleep_ms = sleep_ms;
	return j;
}

int
main(void)
{
	struct workers *wk = NULL;
	size_t total = 0;
	int i, busy = 0;

	is_int(workers_create(2, 100, wake, NULL, &wk), 0, "pool starts");
	for (i = 0; i < 50; i++)
		is_int(workers_submit(wk, &job(i, 2)->w), 0, "job queued") ;
	for (i = 0; i < 400 && total < 50; i++) {
		usleep(10000);
		total += workers_complete(wk);
	}
	is_int(total, 50, "every job completed on the calling thread");
	is_int(done_ok, 50, "every job ran with the right result");
	ok(atomic_load(&wakes) >= 1, "the wake function was called");
	ok(atomic_load(&max_running) <= 2, "never more jobs at once than threads");
	is_int(workers_pending(wk), 0, "nothing pending");
	workers_destroy(wk);

	/* a full queue refuses; shutdown cancels what is still queued. Jobs
	 * wait at a gate, so the outcome does not depend on timing. */
	atomic_store(&max_running, 0);
	atomic_store(&gate_closed, 1);
	is_int(workers_create(1, 3, wake, NULL, &wk), 0, "small pool starts");
	is_int(workers_submit(wk, &job(0, 0)->w), 0, "first job accepted");
	for (i = 0; i < 2000 && atomic_load(&running_now) == 0; i++)
		usleep(1000);
	is_int(atomic_load(&running_now), 1, "the first job is running (held at the gate)");
	for (i = 1; i < 10; i++) {
		struct job *j = job(i, 0);
		if (workers_submit(wk, &j->w) == TC_EBUSY) {
			busy++;
			free(j);
		}
	}
	is_int(busy, 6, "three wait in the queue, the other six get TC_EBUSY");
	struct job *extra = job(99, 0);
	is_int(workers_submit(wk, &extra->w), TC_EBUSY, "still busy");
	free(extra);
	done_ok = done_cancelled = 0;
	pthread_t opener;
	pthread_create(&opener, NULL, open_gate_later, NULL);
	workers_destroy(wk);
	pthread_join(opener, NULL);
	is_int(done_ok, 1, "the running job finished and got done()");
	is_int(done_cancelled, 3, "the queued jobs were cancelled, not run");
	workers_destroy(NULL);
	return done_testing();
}
