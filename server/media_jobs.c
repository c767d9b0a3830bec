/*
 * media_jobs.c - the threads that run this node's lecture processing jobs;
 * see media_jobs.h.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/log.h"
#include "server/app.h"
#include "server/config.h"
#include "server/http.h"
#include "server/media_jobs.h"
#include "server/media_sandbox.h"
#include "server/ws.h"
#include "storage/content.h"
#include "storage/media.h"
#include "storage/media_files.h"
#include "storage/media_jobs.h"
#include "storage/store.h"

#define THREADS_MAX 16
#define LEASE_MIN 120		/* seconds a claim lasts without progress, at least */
#define POLL 5			/* seconds an idle thread waits before looking again */
#define EVENTS_MAX 4096		/* undelivered changes kept; older ones dropped */

struct media_event {
	struct media_event *next;
	int64_t person_id;
	size_t len;
	char text[];
};

struct media_jobs {
	struct app *app;
	char node[64];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping, kicked;
	pthread_t threads[THREADS_MAX];
	int nthreads;
	volatile sig_atomic_t cancel[THREADS_MAX];
	struct media_event *head, *tail;
	size_t nevents;
};

/* One running job, for the progress callback. */
struct run {
	struct media_jobs *mj;
	struct store *st;
	struct media_job job;
	char owner[96];			/* this claim: "<node>#<random>" */
	char stage[16];
	int percent;
	int64_t last_write;
	int lost;			/* the job is no longer ours: stop it */
	volatile sig_atomic_t *cancel;
};

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* A claim outlives the longest silence the worker is allowed, so no other
 * node takes over a job that is only slow. */
static int64_t
lease_of(const struct media_jobs *mj)
{
	int64_t l = (int64_t)mj->app->cfg->media_stall + 60;

	return l > LEASE_MIN ? l : LEASE_MIN;
}

/* Queues a change of JOB for the service thread and wakes it. */
static void
event_push(struct media_jobs *mj, const struct media_job *job, const char *state,
	   const char *stage, int percent, const char *error)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o}", "type", "media.progress",
			      "material", job->material_uid, "state", state, "stage", stage,
			      "percent", percent, "error",
			      error && error[0] ? json_string(error) : json_null());
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t len = text ? strlen(text) : 0;
	struct media_event *e = text ? malloc(sizeof(*e) + len + 1) : NULL;

	json_decref(o);
	if (!e) {
		free(text);
		return;
	}
	e->next = NULL;
	e->person_id = job->created_by;
	e->len = len;
	memcpy(e->text, text, len + 1);
	free(text);
	pthread_mutex_lock(&mj->mu);
	if (mj->nevents >= EVENTS_MAX) {
		struct media_event *old = mj->head;

		mj->head = old->next;
		if (!mj->head)
			mj->tail = NULL;
		mj->nevents--;
		free(old);
	}
	if (mj->tail)
		mj->tail->next = e;
	else
		mj->head = e;
	mj->tail = e;
	mj->nevents++;
	pthread_mutex_unlock(&mj->mu);
	http_server_wake(mj->app);
}

size_t
media_jobs_deliver(struct media_jobs *mj)
{
	struct media_event *e, *next;
	size_t n = 0;

	if (!mj)
		return 0;
	pthread_mutex_lock(&mj->mu);
	e = mj->head;
	mj->head = mj->tail = NULL;
	mj->nevents = 0;
	pthread_mutex_unlock(&mj->mu);
	for (; e; e = next, n++) {
		next = e->next;
		if (mj->app->ws)
			ws_notify_person(mj->app->ws, e->person_id, e->text, e->len);
		free(e);
	}
	return n;
}

/* From the worker, on the job's thread: into the database (at most once a
 * second, or when the stage changes) and to the uploader. */
static void
on_progress(void *arg, const char *stage, int percent)
{
	struct run *r = arg;
	int64_t now = now_s();
	int rc;

	if (strcmp(stage, r->stage) == 0 && (percent == r->percent || now == r->last_write))
		return;
	snprintf(r->stage, sizeof(r->stage), "%s", stage);
	r->percent = percent;
	r->last_write = now;
	rc = store_media_progress(r->st, r->job.material_id, r->owner, r->stage, percent, now,
				  lease_of(r->mj));
	if (rc == TC_ENOTFOUND) {
		/* deleted meanwhile, or another node took it over */
		r->lost = 1;
		*r->cancel = 1;
		return;
	}
	event_push(r->mj, &r->job, "running", r->stage, percent, NULL);
}

/* The captions of the job's material, for the master playlist. */
struct caps {
	struct media_caption_file *v;
	size_t n, cap;
};

static int
caps_add(const struct caption *c, void *arg)
{
	struct caps *cs = arg;

	if (GROW(&cs->v, &cs->cap, cs->n + 1, 4))
		return TC_ENOMEM;
	memset(&cs->v[cs->n], 0, sizeof(cs->v[0]));
	snprintf(cs->v[cs->n].lang, sizeof(cs->v[0].lang), "%s", c->lang);
	snprintf(cs->v[cs->n].label, sizeof(cs->v[0].label), "%s", c->label);
	snprintf(cs->v[cs->n].sha256, sizeof(cs->v[0].sha256), "%s", c->sha256);
	cs->n++;
	return 0;
}

/* One publisher at a time in this process: the captions are read and the
 * folder written under it, so two writers (a job ending, captions saved at
 * the same moment) never leave a folder that matches neither. */
static pthread_mutex_t publish_mu = PTHREAD_MUTEX_INITIALIZER;

int
media_publish(struct store *st, const char *data_dir, int64_t material_id, const char *dir,
	      const struct media_result *res)
{
	struct caps cs = { 0 };
	int rc;

	pthread_mutex_lock(&publish_mu);
	rc = store_captions_each(st, material_id, caps_add, &cs);
	if (rc == 0)
		rc = media_dir_publish(data_dir, dir, res, cs.v, cs.n);
	pthread_mutex_unlock(&publish_mu);
	free(cs.v);
	return rc;
}

static void
limits_of(const struct config *cfg, struct media_limits *l)
{
	l->cpu_seconds = cfg->media_cpu_seconds;
	l->memory = cfg->media_memory;
	l->max_output = cfg->media_max_output;
	l->open_files = 256;
	l->timeout = cfg->media_timeout;
	l->stall = cfg->media_stall;
}

/* Runs the claimed job R->job to its end. */
static void
run_job(struct run *r)
{
	struct app *app = r->mj->app;
	struct media_result *res = calloc(1, sizeof(*res));
	struct media_limits lim;
	char input[PATH_MAX], tmp[PATH_MAX] = "", final[PATH_MAX], why[MEDIA_ERROR_MAX + 1] = "";
	char *json = NULL;
	int rc;

	log_info("media: job of material %s started (attempt %d)", r->job.material_uid,
		 r->job.attempts);
	event_push(r->mj, &r->job, "running", "probe", 0, NULL);
	limits_of(app->cfg, &lim);
	rc = res ? 0 : TC_ENOMEM;
	if (rc == 0 && ((rc = content_path(app->cfg->data_dir, r->job.sha256, input)) ||
			(rc = media_tmp_create(app->cfg->data_dir, r->mj->node, r->job.material_uid,
					       tmp))))
		snprintf(why, sizeof(why), "the server could not prepare the job (%s)",
			 tc_strerror(rc));
	if (rc == 0)
		rc = media_sandbox_run(input, tmp, &lim, on_progress, r, r->cancel, res, why,
				       sizeof(why));
	if (rc == TC_EBUSY || r->lost) {
		/* stopped: shutdown, or the job is not ours any more */
		media_dir_remove(tmp);
		if (!r->lost && store_media_requeue(r->st, r->job.material_id, r->owner,
						    now_s()) == 0)
			event_push(r->mj, &r->job, "queued", "", 0, NULL);
		log_info("media: job of material %s %s", r->job.material_uid,
			 r->lost ? "was deleted or taken over" : "stopped; it will run again");
		goto out;
	}
	if (rc == 0 && !(json = media_result_json(res)))
		rc = TC_ENOMEM;
	if (rc == 0 && ((rc = media_publish(r->st, app->cfg->data_dir, r->job.material_id, tmp, res)) ||
			(rc = media_dir_install(app->cfg->data_dir, r->job.material_uid, tmp))))
		snprintf(why, sizeof(why), rc == TC_EINVALID
			 ? "the media worker left files that are not allowed in a lecture's folder"
			 : "the server could not store the result (%s)", tc_strerror(rc));
	if (rc == 0) {
		rc = store_media_finish(r->st, r->job.material_id, r->owner, 1, NULL, json,
					now_s());
		if (rc == 0) {
			/* captions added while the job ran are in the playlist too */
			if (media_dir_path(app->cfg->data_dir, r->job.material_uid, final) == 0)
				media_publish(r->st, app->cfg->data_dir, r->job.material_id, final,
					      res);
			event_push(r->mj, &r->job, "ready", "", 100, NULL);
			log_info("media: job of material %s is done", r->job.material_uid);
		} else {
			struct media_job now_job;

			/* not ours any more: when the lecture is gone, so is what we
			 * published; when another run took it over, its folder stays */
			if (store_media_get(r->st, r->job.material_id, &now_job, NULL) == TC_ENOTFOUND)
				media_dir_discard(app->cfg->data_dir, r->job.material_uid);
			log_info("media: job of material %s was deleted or taken over",
				 r->job.material_uid);
		}
		goto out;
	}
	media_dir_remove(tmp);
	if (!why[0])
		snprintf(why, sizeof(why), "processing failed (%s)", tc_strerror(rc));
	if (store_media_finish(r->st, r->job.material_id, r->owner, 0, why, NULL, now_s()) == 0)
		event_push(r->mj, &r->job, "failed", r->stage, r->percent, why);
	log_info("media: job of material %s failed: %s", r->job.material_uid, why);
out:
	free(json);
	free(res);
}

/* A claim's owner: the node's name and 64 random bits, so that a claim is
 * one run's even between threads and processes of one node. */
static int
owner_new(const char *node, char out[96])
{
	unsigned char r[8];
	int rc = crypto_random(r, sizeof(r));

	if (rc == 0)
		snprintf(out, 96, "%.63s#%02x%02x%02x%02x%02x%02x%02x%02x", node, r[0], r[1], r[2],
			 r[3], r[4], r[5], r[6], r[7]);
	return rc;
}

struct thread_arg {
	struct media_jobs *mj;
	int index;
};

static void *
thread_main(void *arg)
{
	struct thread_arg *ta = arg;
	struct media_jobs *mj = ta->mj;
	volatile sig_atomic_t *cancel = &mj->cancel[ta->index];
	struct store *st = NULL;
	struct run r;
	int rc;

	free(ta);
	if (store_open(mj->app->cfg->data_dir, &st) != 0) {
		log_err("media: a job thread could not open the database; no jobs run on it");
		return NULL;
	}
	store_set_busy_timeout(st, 5000);
	for (;;) {
		pthread_mutex_lock(&mj->mu);
		if (mj->stopping) {
			pthread_mutex_unlock(&mj->mu);
			break;
		}
		/* a job lost last time (deleted, taken over) set the flag: the
		 * next one starts clear; media_jobs_stop sets it under the lock */
		*cancel = 0;
		pthread_mutex_unlock(&mj->mu);
		memset(&r, 0, sizeof(r));
		rc = owner_new(mj->node, r.owner);
		if (rc == 0)
			rc = store_media_claim(st, r.owner, now_s(), lease_of(mj), &r.job);
		if (rc == 0) {
			r.mj = mj;
			r.st = st;
			r.cancel = cancel;
			snprintf(r.stage, sizeof(r.stage), "probe");
			run_job(&r);
			continue;
		}
		if (rc != TC_ENOTFOUND)
			log_warn("media: could not look at the job queue (%s)", tc_strerror(rc));
		/* idle: the folders of deleted lectures go */
		media_trash_clean(mj->app->cfg->data_dir);
		pthread_mutex_lock(&mj->mu);
		if (!mj->stopping && !mj->kicked) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += POLL;
			pthread_cond_timedwait(&mj->cv, &mj->mu, &until);
		}
		mj->kicked = 0;
		pthread_mutex_unlock(&mj->mu);
	}
	store_close(st);
	return NULL;
}

int
media_jobs_start(struct app *app, struct media_jobs **out)
{
	struct media_jobs *mj = calloc(1, sizeof(*mj));
	int n = 0, rc = 0;

	*out = NULL;
	if (!mj)
		return TC_ENOMEM;
	mj->app = app;
	pthread_mutex_init(&mj->mu, NULL);
	pthread_cond_init(&mj->cv, NULL);
	if (app->cfg->node_name[0])
		snprintf(mj->node, sizeof(mj->node), "%s", app->cfg->node_name);
	else if (gethostname(mj->node, sizeof(mj->node) - 1) != 0 || !mj->node[0])
		snprintf(mj->node, sizeof(mj->node), "localhost");
	/* this node's interrupted jobs, and the folders they were writing */
	if ((rc = store_media_requeue_node(app->store, mj->node, now_s(), &n)) != 0)
		goto fail;
	if (n)
		log_info("media: %d interrupted job%s back in the queue", n, n == 1 ? "" : "s");
	media_tmp_clean(app->cfg->data_dir, mj->node);
	media_trash_clean(app->cfg->data_dir);
	for (int i = 0; i < app->cfg->media_jobs && i < THREADS_MAX; i++) {
		struct thread_arg *ta = malloc(sizeof(*ta));

		if (!ta) {
			rc = TC_ENOMEM;
			break;
		}
		ta->mj = mj;
		ta->index = i;
		if (pthread_create(&mj->threads[i], NULL, thread_main, ta) != 0) {
			free(ta);
			rc = TC_EIO;
			break;
		}
		mj->nthreads++;
	}
	if (rc)
		goto fail;
	*out = mj;
	return 0;
fail:
	media_jobs_stop(mj);
	return rc;
}

void
media_jobs_kick(struct media_jobs *mj)
{
	if (!mj)
		return;
	pthread_mutex_lock(&mj->mu);
	mj->kicked = 1;
	pthread_cond_signal(&mj->cv);
	pthread_mutex_unlock(&mj->mu);
}

void
media_jobs_stop(struct media_jobs *mj)
{
	struct media_event *e, *next;

	if (!mj)
		return;
	pthread_mutex_lock(&mj->mu);
	mj->stopping = 1;
	for (int i = 0; i < THREADS_MAX; i++)
		mj->cancel[i] = 1;
	pthread_cond_broadcast(&mj->cv);
	pthread_mutex_unlock(&mj->mu);
	for (int i = 0; i < mj->nthreads; i++)
		pthread_join(mj->threads[i], NULL);
	for (e = mj->head; e; e = next) {
		next = e->next;
		free(e);
	}
	pthread_cond_destroy(&mj->cv);
	pthread_mutex_destroy(&mj->mu);
	free(mj);
}
