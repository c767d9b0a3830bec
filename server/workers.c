/* workers.c - see workers.h. */
#include <pthread.h>
#include <stdlib.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/workers.h"

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct work *queue, *queue_tail;	/* waiting to run */
	struct work *done, *done_tail;		/* ran; waiting for done() */
	size_t queued, running, queue_max;
	int stopping;
	void (*wake)(void *arg);
	void *wake_arg;
	pthread_t *threads;
	unsigned nthreads;
};

static void
push(struct work **head, struct work **tail, struct work *w)
{
	w->next = NULL;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

static struct work *
pop(struct work **head, struct work **tail)
{
	struct work *w = *head;

	if (w) {
		*head = w->next;
		if (!*head)
			*tail = NULL;
		w->next = NULL;
	}
	return w;
}

static void *
worker_main(void *arg)
{
	struct workers *wk = arg;

	pthread_mutex_lock(&wk->lock);
	for (;;) {
		struct work *w;
		int was_empty;

		while (!wk->queue && !wk->stopping)
			pthread_cond_wait(&wk->more, &wk->lock);
		if (wk->stopping)
			break;
		w = pop(&wk->queue, &wk->queue_tail);
		wk->queued--;
		wk->running++;
		pthread_mutex_unlock(&wk->lock);

		w->run(w);

		pthread_mutex_lock(&wk->lock);
		wk->running--;
		/* One wake-up per batch: when the done list was not empty, a
		 * wake-up is already on its way and its workers_complete takes
		 * this one too (it empties the list under the lock). */
		was_empty = wk->done == NULL;
		push(&wk->done, &wk->done_tail, w);
		pthread_mutex_unlock(&wk->lock);
		if (was_empty)
			wk->wake(wk->wake_arg);
		pthread_mutex_lock(&wk->lock);
	}
	pthread_mutex_unlock(&wk->lock);
	return NULL;
}

int
workers_create(unsigned nthreads, unsigned queue_max,
	       void (*wake)(void *arg), void *wake_arg, struct workers **out)
{
	struct workers *wk = NULL;
	unsigned i;

	*out = NULL;
	wk = calloc(1, sizeof(*wk));
	if (!wk)
		return TC_ENOMEM;
	wk->threads = calloc(nthreads ? nthreads : 1, sizeof(*wk->threads));
	if (!wk->threads) {
		free(wk);
		return TC_ENOMEM;
	}
	pthread_mutex_init(&wk->lock, NULL);
	pthread_cond_init(&wk->more, NULL);
	wk->queue_max = queue_max;
	wk->wake = wake;
	wk->wake_arg = wake_arg;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&wk->threads[i], NULL, worker_main, wk) != 0) {
			log_err("workers: cannot start thread %u", i);
			wk->nthreads = i;
			workers_destroy(wk);
			return TC_EIO;
		}
	}
	wk->nthreads = nthreads;
	*out = wk;
	return 0;
}

int
workers_submit(struct workers *wk, struct work *w)
{
	int rc = 0;

	pthread_mutex_lock(&wk->lock);
	if (wk->stopping || wk->queued >= wk->queue_max) {
		rc = TC_EBUSY;
	} else {
		push(&wk->queue, &wk->queue_tail, w);
		wk->queued++;
		pthread_cond_signal(&wk->more);
	}
	pthread_mutex_unlock(&wk->lock);
	return rc;
}

size_t
workers_complete(struct workers *wk)
{
	struct work *list, *w;
	size_t n = 0;

	pthread_mutex_lock(&wk->lock);
	list = wk->done;
	wk->done = wk->done_tail = NULL;
	pthread_mutex_unlock(&wk->lock);
	while ((w = list)) {
		list = w->next;
		w->done(w, 0);
		n++;
	}
	return n;
}

size_t
workers_pending(struct workers *wk)
{
	size_t n;

	pthread_mutex_lock(&wk->lock);
	n = wk->queued + wk->running;
	for (struct work *w = wk->done; w; w = w->next)
		n++;
	pthread_mutex_unlock(&wk->lock);
	return n;
}

void
workers_destroy(struct workers *wk)
{
	struct work *w;

	if (!wk)
		return;
	pthread_mutex_lock(&wk->lock);
	wk->stopping = 1;
	pthread_cond_broadcast(&wk->more);
	pthread_mutex_unlock(&wk->lock);
	for (unsigned i = 0; i < wk->nthreads; i++)
		pthread_join(wk->threads[i], NULL);
	workers_complete(wk);		/* finished before the stop */
	while ((w = pop(&wk->queue, &wk->queue_tail)))
		w->done(w, 1);
	pthread_cond_destroy(&wk->more);
	pthread_mutex_destroy(&wk->lock);
	free(wk->threads);
	free(wk);
}
