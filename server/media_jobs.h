/*
 * media_jobs.h - runs the lecture processing jobs of the queue in the
 * database (storage/media_jobs.h) on this node.
 *
 * cfg->media_jobs threads each claim a job, run it in the sandboxed worker
 * process (server/media_sandbox.h), record its progress (which also extends
 * the job's lease) and its end, publish the output folder
 * (storage/media_files.h), and pass every change of a job to the service
 * thread, which pushes it on the WebSocket of the person who uploaded the
 * lecture: {"type":"media.progress","material":UID,"state":...,"stage":...,
 * "percent":N,"error":null|"..."}. Each thread has its own database
 * connection. Idle threads look at the queue every few seconds (jobs added
 * by other nodes, leases run out) and at once when kicked.
 */
#ifndef TINCHI_MEDIA_JOBS_H
#define TINCHI_MEDIA_JOBS_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct store;
struct media_result;
struct media_jobs;

/* Requeues the jobs this node was running when it stopped, cleans the job
 * folders they left, and starts the threads (none when cfg->media_jobs is
 * 0). 0, TC_ENOMEM, TC_EIO, TC_EDB. */
int media_jobs_start(struct app *app, struct media_jobs **out);

/* A job was queued: wake an idle thread. Any thread; accepts NULL. */
void media_jobs_kick(struct media_jobs *mj);

/* Service thread: pushes the job changes waiting to their WebSockets.
 * Returns how many. Accepts NULL. */
size_t media_jobs_deliver(struct media_jobs *mj);

/*
 * (Re)writes the master playlist and caption files of material MATERIAL_ID
 * in DIR (a job folder or its published one) from RES and the captions in
 * ST (storage/media_files.h's media_dir_publish). For a thread with its own
 * store.
 */
int media_publish(struct store *st, const char *data_dir, int64_t material_id, const char *dir,
		  const struct media_result *res);

/* Stops the threads: running jobs are cancelled (their workers killed) and
 * go back to the queue for the next start. Accepts NULL. */
void media_jobs_stop(struct media_jobs *mj);

#endif
