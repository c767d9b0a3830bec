/*
 * media_jobs.h - persistence of media processing (schema migration 6): one
 * row per video or audio material that is at once its job in the queue
 * and, when done, the record of what came out; and the caption files
 * attached to a lecture, one per language.
 *
 * The row is created with the material (store_material_add, in the same
 * transaction), so an acknowledged upload always has its job. Jobs are
 * claimed atomically with a lease: a node that dies leaves its jobs to be
 * claimed again when their lease runs out, and a restarting node takes its
 * own back at once (store_media_requeue_node). On PostgreSQL the claim is
 * one UPDATE over SELECT ... FOR UPDATE SKIP LOCKED. Same conventions as
 * storage/identity.h.
 */
#ifndef TINCHI_STORE_MEDIA_JOBS_H
#define TINCHI_STORE_MEDIA_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define MEDIA_ERROR_MAX 400
#define MEDIA_ATTEMPTS_MAX 3	/* claims of one job before it fails for good */

struct media_job {
	int64_t material_id;
	char material_uid[37];
	char sha256[65];		/* the input in the content store */
	char kind[16];			/* video, audio */
	int64_t institution_id, course_id;
	int64_t created_by;		/* who uploaded: progress goes to them */
	char state[8];			/* queued, running, ready, failed */
	char stage[16];			/* probe, package, poster, "" */
	int percent;
	char error[MEDIA_ERROR_MAX + 1];
	int attempts;
	char node[96];			/* the claim's owner: "<node>#<random>" */
	int64_t lease_until, created_at, updated_at, started_at, finished_at;
};

/* The job of a material. *RESULT (may be NULL) gets the result JSON
 * (storage/media.h's media_result_json; "" until ready), allocated. */
int store_media_get(struct store *s, int64_t material_id, struct media_job *out, char **result);

/*
 * Claims the oldest queued job, or a running one whose lease ended before
 * NOW, for NODE until NOW + LEASE: state running, attempts + 1. TC_ENOTFOUND
 * when there is none. A job claimed for the MEDIA_ATTEMPTS_MAX + 1st time
 * is failed instead ("processing was interrupted N times") and the next is
 * tried.
 */
int store_media_claim(struct store *s, const char *node, int64_t now, int64_t lease,
		      struct media_job *out);
/* Records progress of a job NODE holds and extends its lease. TC_ENOTFOUND
 * when it is no longer NODE's (deleted, or claimed by another node). */
int store_media_progress(struct store *s, int64_t material_id, const char *node,
			 const char *stage, int percent, int64_t now, int64_t lease);
/* Ends a job NODE holds: ready with RESULT (JSON) and no stage, or failed
 * with ERROR (keeping the stage it failed in).
 * TC_ENOTFOUND when it is no longer NODE's. */
int store_media_finish(struct store *s, int64_t material_id, const char *node, int ok,
		       const char *error, const char *result, int64_t now);
/* Puts a job NODE holds back in the queue without counting the attempt
 * (shutdown). TC_ENOTFOUND when it is no longer NODE's. */
int store_media_requeue(struct store *s, int64_t material_id, const char *node, int64_t now);
/* At start: every job still running under NODE (claims "NODE#...") goes
 * back to the queue (the interrupted attempt counts). */
int store_media_requeue_node(struct store *s, const char *node, int64_t now, int *n);
/* A failed job back in the queue with its attempts reset. TC_ENOTFOUND: no
 * job; TC_ECONFLICT: it has not failed. */
int store_media_retry(struct store *s, int64_t material_id, int64_t now);
/* Jobs by state, for /metrics: queued and running. */
int store_media_counts(struct store *s, int64_t *queued, int64_t *running);

/* ---- captions ----------------------------------------------------------------------- */

#define CAPTION_LABEL_MAX 64

struct caption {
	int64_t material_id;
	char lang[36];			/* BCP 47 tag (courses/webvtt.h lang_tag_valid) */
	char label[CAPTION_LABEL_MAX + 1];	/* shown in the player: "Tiếng Việt" */
	char sha256[65];		/* the WebVTT file in the content store */
	int64_t size;
	int cues;
	int64_t created_by, created_at;
};

/* Adds or replaces the captions of C->material_id in C->lang. *OLD_SHA
 * (65 bytes, may be NULL) gets the replaced file's hash, or "". */
int store_caption_put(struct store *s, const struct caption *c, char *old_sha);
/* TC_ENOTFOUND when there is none. OLD_SHA as above. */
int store_caption_delete(struct store *s, int64_t material_id, const char *lang, char *old_sha);
/* By language tag. */
int store_captions_each(struct store *s, int64_t material_id,
			int (*cb)(const struct caption *c, void *arg), void *arg);

#endif
