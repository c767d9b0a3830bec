/*
 * checkpointer.c - the WAL checkpointer thread; see checkpointer.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/checkpointer.h"
#include "storage/store.h"

/* How often the thread looks at the log's size (at most INTERVAL_MS). */
#define POLL_MS 20
/* The longest a forced checkpoint waits for readers (holding the write lock). */
#define FORCE_WAIT_MS 100

struct checkpointer {
	struct store *st;		/* the thread's own connection */
	int pages, interval_ms, limit;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* CLOCK_MONOTONIC */
	int stopping;
	struct checkpointer_stats stats;
};

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One turn: a passive checkpoint, and a forced one when FORCE and the log
 * holds LIMIT pages or more. *COPIED: the pages copied back; 1 when some
 * could not be (a reader needs them). */
static int
checkpoint_once(struct checkpointer *c, int force, int *copied)
{
	int log = 0, done = 0, rc, stuck;
	int64_t passive = 0, truncated = 0, busy = 0;

	rc = store_checkpoint(c->st, STORE_CKPT_PASSIVE, &log, &done);
	if (rc == 0)
		passive = 1;
	if (rc == 0 && force && log >= c->limit) {
		rc = store_checkpoint(c->st, STORE_CKPT_TRUNCATE, NULL, NULL);
		if (rc == 0) {
			truncated = 1;
			log = done = 0;
		} else if (rc == TC_EBUSY) {
			busy = 1;
		}
	}
	if (rc && rc != TC_EBUSY)
		log_warn("checkpointer: %s", tc_strerror(rc));
	*copied = done;
	stuck = rc != 0 || done < log;
	pthread_mutex_lock(&c->mu);
	c->stats.passive += passive;
	c->stats.truncate += truncated;
	c->stats.busy += busy;
	if (log > c->stats.max_log)
		c->stats.max_log = log;
	pthread_mutex_unlock(&c->mu);
	return stuck;
}

/*
 * Every POLL_MS: a turn when the log holds PAGES pages more than the last
 * turn copied, or anything more and INTERVAL_MS have passed since the last
 * turn. After a turn that could not copy everything (readers), the next
 * waits for INTERVAL_MS, and only such a turn may force.
 */
static void *
thread_main(void *arg)
{
	struct checkpointer *c = arg;
	int64_t last = now_ms();
	int copied = 0, stuck = 0;

	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		struct timespec t;
		int64_t frames, fresh;
		int due;

		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += (long)(POLL_MS < c->interval_ms ? POLL_MS : c->interval_ms) * 1000000;
		t.tv_sec += t.tv_nsec / 1000000000;
		t.tv_nsec %= 1000000000;
		while (!c->stopping && pthread_cond_timedwait(&c->cv, &c->mu, &t) != ETIMEDOUT)
			;
		if (c->stopping)
			break;
		frames = store_wal_frames();
		/* the log started over (a commit after a full copy) when it
		 * holds fewer pages than were copied: all of them are new */
		fresh = frames >= copied ? frames - copied : frames;
		due = now_ms() - last >= c->interval_ms;
		if (fresh <= 0 || (!due && (stuck || fresh < c->pages)))
			continue;
		pthread_mutex_unlock(&c->mu);
		stuck = checkpoint_once(c, due, &copied);
		last = now_ms();
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int
checkpointer_start(const char *data_dir, int pages, int interval_ms, struct checkpointer **out)
{
	struct checkpointer *c;
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (pages < 1 || interval_ms < 1)
		return TC_EINVALID;
	if (!(c = calloc(1, sizeof(*c))))
		return TC_ENOMEM;
	c->pages = pages;
	c->interval_ms = interval_ms;
	c->limit = pages > INT32_MAX / 8 ? INT32_MAX : pages * 8;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = store_open(data_dir, &c->st)) != 0) {
		log_err("checkpointer: cannot open the database: %s", tc_strerror(rc));
		checkpointer_stop(c);
		return rc;
	}
	/* a forced checkpoint holds the write lock while it waits for readers */
	store_set_busy_timeout(c->st, FORCE_WAIT_MS);
	if (pthread_create(&c->thread, NULL, thread_main, c) != 0) {
		checkpointer_stop(c);
		return TC_EIO;
	}
	c->started = 1;
	*out = c;
	return 0;
}

void
checkpointer_stop(struct checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->started)
		pthread_join(c->thread, NULL);
	if (c->st) {
		store_set_busy_timeout(c->st, 1000);
		store_checkpoint(c->st, STORE_CKPT_TRUNCATE, NULL, NULL);
		store_close(c->st);
	}
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void
checkpointer_stats(struct checkpointer *c, struct checkpointer_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	*out = c->stats;
	pthread_mutex_unlock(&c->mu);
}
