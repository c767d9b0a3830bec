/* outbox_pruner.c - deletes consumed outbox events past their retention; see outbox_pruner.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/app.h"
#include "server/config.h"
#include "server/outbox_pruner.h"
#include "storage/completion.h"
#include "storage/store.h"

struct outbox_pruner {
	struct store *st;		/* the thread's own connection */
	int64_t retention;		/* seconds */
	int interval;			/* seconds */
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* signalled when stopping */
	int stopping;
	int64_t deleted;
};

int
outbox_prune_all(struct store *st, int64_t before, int batch, int (*pause)(void *arg), void *arg,
		 int64_t *deleted)
{
	int64_t after = 0, total = 0;
	int n = 0, rc = 0;

	if (!st || batch < 1 || batch > OUTBOX_PRUNE_MAX)
		rc = TC_EINVALID;
	while (rc == 0) {
		rc = store_outbox_prune(st, before, &after, batch, &n);
		if (rc == 0)
			total += n;
		if (rc || n < batch || (pause && pause(arg)))
			break;
	}
	if (deleted)
		*deleted = total;
	return rc;
}

/* Waits until MS milliseconds have passed or the pruner stops; 1 when it stops. */
static int
wait_ms(struct outbox_pruner *p, int64_t ms)
{
	struct timespec until;
	int stop;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (!p->stopping && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
		;
	stop = p->stopping;
	pthread_mutex_unlock(&p->mu);
	return stop;
}

/* Between two batches: lets the writers in. */
static int
pause_batch(void *arg)
{
	return wait_ms(arg, OUTBOX_PRUNE_PAUSE_MS);
}

static void *
thread_main(void *arg)
{
	struct outbox_pruner *p = arg;

	do {
		int64_t n = 0;
		int rc = outbox_prune_all(p->st, (int64_t)time(NULL) - p->retention,
					  OUTBOX_PRUNE_BATCH, pause_batch, p, &n);

		pthread_mutex_lock(&p->mu);
		p->deleted += n;
		pthread_mutex_unlock(&p->mu);
		if (n > 0)
			log_info("outbox: deleted %lld consumed event(s) past their retention",
				 (long long)n);
		if (rc)	/* the next pass tries again */
			log_warn("outbox: pruning stopped: %s", tc_strerror(rc));
	} while (!wait_ms(p, (int64_t)p->interval * 1000));
	return NULL;
}

int
outbox_pruner_start(struct app *app, struct outbox_pruner **out)
{
	struct outbox_pruner *p;
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (app->cfg->outbox_retention <= 0) {
		log_info("outbox: consumed events are kept (outbox-retention 0)");
		return 0;
	}
	if (!(p = calloc(1, sizeof(*p))))
		return TC_ENOMEM;
	p->retention = app->cfg->outbox_retention;
	p->interval = app->cfg->outbox_prune_interval > 0 ? app->cfg->outbox_prune_interval : 3600;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = store_open(app->cfg->data_dir, &p->st)) != 0) {
		log_err("outbox: the pruner could not open the database: %s", tc_strerror(rc));
		outbox_pruner_stop(p);
		return rc;
	}
	/* it waits for the writers rather than failing a batch at once */
	store_set_busy_timeout(p->st, 5000);
	if (pthread_create(&p->thread, NULL, thread_main, p) != 0) {
		outbox_pruner_stop(p);
		return TC_EIO;
	}
	p->started = 1;
	*out = p;
	return 0;
}

void
outbox_pruner_stop(struct outbox_pruner *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->started)
		pthread_join(p->thread, NULL);
	store_close(p->st);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int64_t
outbox_pruner_deleted(struct outbox_pruner *p)
{
	int64_t n;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->mu);
	n = p->deleted;
	pthread_mutex_unlock(&p->mu);
	return n;
}
