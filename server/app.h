/*
 * app.h - what the transport layer shares between its parts: the
 * configuration, the store, the metrics and the static site. One per
 * process, owned by main() (server/main.c) and passed explicitly; never a
 * global.
 */
#ifndef TINCHI_APP_H
#define TINCHI_APP_H

#include <stdint.h>

#include "courses/password.h"

struct config;
struct store;
struct metrics;
struct static_site;
struct route;
struct ws_hub;
struct http_server;
struct media_jobs;
struct progress_cache;
struct progress_writer;
struct access_writer;
struct outbox_pruner;
struct checkpointer;
struct tlog;
struct status_cache;
struct verify_keep;

/* The issuing retry (server/issuing.h, issuing_retry_tick): the events
 * that failed to issue and stay pending, read again after a wait that
 * doubles while they keep failing. Service thread only. */
struct issuing_retry {
	int64_t from;			/* the smallest such event id; 0: none */
	int64_t due_ms;			/* when they are read again (CLOCK_MONOTONIC
					 * ms); 0: not planned */
	int64_t delay_ms;		/* the wait after a retry that fails again */
	int64_t failed;			/* how many failed in the runs since one that
					 * read them all (the gauge) */
	uint64_t runs, issued;		/* retries so far, credentials they issued */
};

struct app {
	const struct config *cfg;
	struct store *store;		/* owned by main */
	struct metrics *metrics;	/* owned by main */
	struct static_site *site;	/* owned by main; NULL when no web folder */
	struct ws_hub *ws;		/* owned by http.c */
	struct http_server *http;	/* owned by http.c */
	const struct route *routes;
	size_t nroutes;
	struct route *all_routes;	/* owned: the table api_init builds */
	int64_t start_time;		/* unix seconds */
	char *api_index;		/* GET /api/v1 body, built once (api_init) */
	size_t api_index_len;
	unsigned char secret[32];	/* the platform secret (storage/secret.h) */
	unsigned char media_key[32];	/* key of stream tokens (courses/mediatoken.h) */
	struct media_jobs *media;	/* owned by main; NULL: no job threads */
	struct progress_cache *progress_cache;	/* api_progress.c's, made on first use */
	struct progress_writer *progress_writer;	/* owned by main; NULL: none */
	struct tlog *tlog;		/* owned by main: the transparency log service */
	struct status_cache *status_cache;	/* api_revocation.c's, made on first use */
	struct verify_keep *verify;	/* api_verify.c's, made on first use */
	struct access_writer *access_writer;	/* owned by main; NULL: none */
	struct outbox_pruner *outbox_pruner;	/* owned by main; NULL: none (retention 0) */
	struct checkpointer *checkpointer;	/* owned by main; NULL: commits checkpoint */
	/* institutions with a bulk credential job queued or running
	 * (api_bulk_claim in api_util.h; service thread) */
	int64_t bulk_jobs[16];
	int nbulk_jobs;
	struct password_costs password_costs;	/* stored hashes by cost: the
						 * stand-in's cost at sign-in
						 * (api_identity.h; service thread) */
	int64_t issuing_seen;		/* outbox events up to this id were read by an
					 * issuing run (issuing.h; service thread) */
	struct issuing_retry issuing_retry;
};

#endif
