/*
 * config.h - the server's configuration: one struct, filled from defaults,
 * then an optional `key = value` file, then command-line flags (flags win).
 *
 * Every setting has one entry in a table (config.c) that gives its flag
 * (--max-body), its file key (max_body), its type and its help text, so the
 * file, the flags and `tinchi serve --help` can never disagree.
 */
#ifndef TINCHI_CONFIG_H
#define TINCHI_CONFIG_H

#include <limits.h>
#include <stdio.h>
#include <stdint.h>

#include "courses/log.h"

struct config {
	char data_dir[PATH_MAX];	/* --data */
	char listen_host[256];		/* --listen HOST:PORT */
	int listen_port;
	char web_root[PATH_MAX];	/* --web; "" = installed or ./web */
	char tls_cert[PATH_MAX];	/* --tls-cert */
	char tls_key[PATH_MAX];		/* --tls-key */
	char port_file[PATH_MAX];	/* --port-file: write the bound port */
	enum log_level log_level;	/* --log-level */
	int access_log;			/* --access-log on|off */
	int http2;			/* --http2 on|off (off: HTTP/1.1 only) */
	int64_t max_body;		/* --max-body bytes of a request body */
	int max_header;			/* --max-header bytes of request headers */
	int max_connections;		/* --max-connections */
	int header_timeout;		/* seconds to receive the request headers */
	int request_timeout;		/* seconds to receive a request body */
	int send_timeout;		/* seconds a reader may stall a response */
	int idle_timeout;		/* seconds an idle keep-alive lives */
	int ws_ping_interval;		/* seconds of WebSocket silence before a ping */
	int ws_queue_max;		/* messages queued to one WebSocket */
	int64_t static_cache_max;	/* static files up to this size stay in memory */
	int session_idle;		/* seconds a session lives without use */
	int session_max_age;		/* seconds a session lives at most */
	int password_cost;		/* scrypt log2(N) for new password hashes */
	int64_t institution_quota;	/* bytes of materials an institution may store */
	int upload_expiry;		/* seconds an unfinished resumable upload is kept */
	int media_jobs;			/* media jobs run at once on this node (0: none) */
	int media_cpu_seconds;		/* CPU seconds a media worker may use */
	int64_t media_memory;		/* address space of a media worker, bytes */
	int64_t media_max_output;	/* largest file a media worker may write */
	int media_timeout;		/* wall-clock seconds a media job may take */
	int media_stall;		/* seconds a media worker may go without progress */
	int media_token_ttl;		/* seconds a signed stream URL stays valid */
	char node_name[64];		/* this node in the job queue; "" = host name */
	char public_url[512];		/* --public-url: the platform's home page; "" = http://listen */
	char log_origin[256];		/* --log-origin: the transparency log's name; "" = HOST/log */
	int log_batch;			/* --log-batch: entries that make a checkpoint at once */
	int log_interval_ms;		/* --log-interval-ms: longest wait for a checkpoint */
	int outbox_retention;		/* seconds a consumed outbox event is kept; 0: forever */
	int outbox_prune_interval;	/* seconds between two prunes of the outbox */
	int issuing_retry_ms;		/* --issuing-retry-ms: first wait before failed events are retried */
	int issuing_retry_max_ms;	/* --issuing-retry-max-ms: the longest wait (doubling up to it) */
	int wal_checkpoint_pages;	/* --wal-checkpoint-pages: 0 = commits checkpoint */
	int wal_checkpoint_ms;		/* --wal-checkpoint-ms: the checkpointer's interval */
	int verify_kept_lists;		/* hidden, for tests: status lists kept for the verify
					 * workers (server/api_verify.c), at most 256 */
};

/* Outcome of config_parse_args beyond 0 / TC_EINVALID. */
#define CONFIG_HELP 1

void config_defaults(struct config *c);

/*
 * Sets one setting from text, by file key ("max_body") or flag name
 * ("max-body"). Returns 0, or TC_EINVALID with a one-line reason in err.
 * On failure the setting is unchanged.
 */
int config_set(struct config *c, const char *key, const char *value,
	       char *err, size_t errlen);

/*
 * Reads a `key = value` file ('#' starts a comment line, blank lines are
 * skipped, values may be "quoted"). Returns 0, TC_EIO (unreadable) or
 * TC_EINVALID; err names the file and line. Settings read before an
 * error stay applied, so callers treat any failure as fatal.
 */
int config_load_file(struct config *c, const char *path,
		     char *err, size_t errlen);

/*
 * Parses the flags of `tinchi serve` (argv[0] is the command name). A
 * --config FILE is loaded first wherever it appears; the other flags then
 * override it. Returns 0, CONFIG_HELP when --help was given, or TC_EINVALID
 * / TC_EIO with a one-line reason in err.
 */
int config_parse_args(struct config *c, int argc, char **argv,
		      char *err, size_t errlen);

/* Prints the flags, their defaults and help to FP. */
void config_usage(FILE *fp);

/* Parses "HOST:PORT" / "[v6]:PORT" into host and port (0..65535). */
int config_parse_listen(const char *s, char *host, size_t hostlen, int *port);

#endif
