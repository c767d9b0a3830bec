/*
 * metrics.h - request counters, a latency histogram and gauges, rendered in
 * the Prometheus text exposition format (version 0.0.4) for GET /metrics.
 *
 * Updated and rendered on the service thread only: no locks. Routes are
 * labelled by their static name; at most METRICS_ROUTES_MAX distinct names
 * are tracked (more are counted under "other").
 */
#ifndef TINCHI_METRICS_H
#define TINCHI_METRICS_H

#include <stdint.h>

#include "courses/dynbuf.h"

#define METRICS_ROUTES_MAX 64

struct metrics;

/* Returns 0 or TC_ENOMEM; *out owns the object (metrics_destroy). */
int metrics_create(struct metrics **out);
void metrics_destroy(struct metrics *m);	/* accepts NULL */

/* Counts one answered request: ROUTE is a static label. */
void metrics_request(struct metrics *m, const char *route, int status,
		     int64_t usec, int64_t bytes);

/* Adds DELTA (+1 / -1) to the open connection or WebSocket gauge. */
void metrics_connections(struct metrics *m, int delta);
void metrics_websockets(struct metrics *m, int delta);
void metrics_ws_message(struct metrics *m, int inbound);
/* Counts a verification answered on the service thread, not on the verify
 * workers (a status list not kept yet, a body that is not one). */
void metrics_verify_inline(struct metrics *m);

/* Counts a password hash of a sign-in at cost LOG2_N (0: not known):
 * KNOWN 1 for an account's own hash, 0 for the stand-in of an unknown
 * national ID (or an account without a password). */
#define METRICS_SIGNIN_COSTS 31
void metrics_signin_hash(struct metrics *m, int known, unsigned log2_n);

int64_t metrics_open_connections(const struct metrics *m);

struct metrics_gauges {
	int64_t db_size_bytes;		/* -1 when unknown */
	int64_t start_time;		/* unix seconds */
	const char *version;
	int media_known;		/* 1: the two below are known */
	int64_t media_queued, media_running;
	int progress_known;		/* 1: the three below are known */
	int64_t progress_batches, progress_jobs, progress_queue;
	/* the issuing retry (server/issuing.h) */
	int64_t issuing_retries, issuing_retry_issued, issuing_failed_pending;
};

/* Appends the whole exposition to OUT. Returns 0 or a dynbuf error. */
int metrics_render(const struct metrics *m, const struct metrics_gauges *g,
		   struct dynbuf *out);

#endif
