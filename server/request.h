/*
 * request.h - a parsed HTTP request and the response a handler builds.
 *
 * Plain data with no libwebsockets types, so handlers and the router are
 * tested with requests built by hand (tests/unit/server/). http.c fills a
 * struct http_request from the connection and turns a struct
 * http_response into bytes on the wire.
 */
#ifndef TINCHI_REQUEST_H
#define TINCHI_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "courses/authz.h"
#include "courses/dynbuf.h"
#include "server/workers.h"

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_DELETE = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
};

#define HTTP_PATH_MAX 2048
#define ROUTE_PARAMS_MAX 4

struct http_request {
	enum http_method method;
	char path[HTTP_PATH_MAX];	/* decoded path, no query */
	char query[HTTP_PATH_MAX];	/* decoded args joined by '&' */
	/* Selected request headers; "" when absent. */
	char if_none_match[256];
	char if_modified_since[64];
	char content_type[128];
	char accept[256];
	char authorization[1024];
	char cookie[2048];
	char csrf_token[128];		/* X-CSRF-Token */
	char origin[256];
	char range[512];		/* Range */
	char if_range[128];		/* If-Range */
	char content_range[96];		/* Content-Range (resumable uploads) */
	char if_match[256];		/* If-Match */
	char accept_language[256];	/* Accept-Language */
	char accept_encoding[128];	/* Accept-Encoding */
	char xapi_version[32];		/* X-Experience-API-Version */
	int64_t content_length;		/* -1 when absent */
	struct dynbuf body;		/* capped at the route's (or configured) max_body */
	int body_fd;			/* routes with ROUTE_BODY_FILE: the body, in an
					 * unnamed temporary file, at offset 0; else -1 */
	/* Set by a handler that answers later (see struct http_deferred). */
	struct http_deferred *deferred;
	/* Who is asking (server/auth.c fills it before the handler runs). */
	struct actor actor;
	char session_token[64];		/* the raw cookie token when signed in by one */
	/* Filled by the router: the {name} parts of the matched pattern.
	 * param_names[i] points into the pattern, just after the '{'. */
	const char *param_names[ROUTE_PARAMS_MAX];
	char params[ROUTE_PARAMS_MAX][256];
	int nparams;
	int tls;			/* arrived over TLS */
	char peer[64];			/* client address, for logs */
};

/*
 * A response that needs blocking work (password hashing, an import): the
 * handler allocates a struct embedding this, sets work.run (runs on a
 * worker thread: no store, no lws) and finish, stores it in req->deferred
 * and returns. finish() runs on the service thread afterwards and fills
 * RESP, or is called with RESP NULL when nobody waits for the answer any
 * more (the client left, the queue was full, shutdown); either way it frees
 * D. The transport owns `owner` and work.done.
 */
struct http_response;
struct app;
struct http_deferred {
	struct work work;
	void (*finish)(struct http_deferred *d, struct http_response *resp);
	int bulk;		/* long work (imports): runs on its own thread, so
				 * it never holds up sign-ins */
	int cpu;		/* short CPU-bound work needing little memory
				 * (verifying): the pool of one thread per core */
	int batch;		/* a recognition batch (minutes, held by a slow
				 * client): its own thread, so that uploads,
				 * imports and exports (bulk) never wait for it */
	void *owner;
	/* When set, queues work instead of the worker pools (run() is not
	 * called; the submitter calls work.done on the service thread):
	 * 0, or nonzero when it cannot take it (answered 503). */
	int (*submit)(struct app *app, struct work *w);
	/* Optional (not with `submit` or `stream`): on the service thread after
	 * each run(), nonzero to have run() called again on the same pool (it
	 * did there what the job waited for, e.g. a document only that thread
	 * makes); finish() follows the last run. A job that cannot be queued
	 * again (the queue is full) is answered 503 after finish(D, NULL). The
	 * job bounds its own runs. */
	int (*again)(struct http_deferred *d);
	/* A body in pieces: the handler sets `stream` (and RESP's status and
	 * content type) and run() sends the body with http_stream_write(out,
	 * ...) as it computes it. The transport sends each piece as it comes
	 * (HTTP/1.1 chunked, HTTP/2 DATA frames), starting the response with
	 * the first one. finish() still runs at the end: a status >= 400 it
	 * sets is the response when nothing was sent yet; after that it cuts
	 * the connection before the body's end, so the client sees the body
	 * is incomplete. */
	int stream;
	struct http_stream *out;	/* the transport's */
};

/*
 * On the job's thread: queues LEN bytes of a streamed body. Waits while
 * HTTP_STREAM_HIGH bytes or more are queued that the client has not taken
 * yet (back-pressure: a slow client slows the job, memory stays bounded).
 * 0; TC_EIO once nobody reads any more (the client left, shutdown): the
 * job should stop; TC_ENOMEM.
 */
#define HTTP_STREAM_HIGH (256 * 1024)
struct http_stream;
int http_stream_write(struct http_stream *s, const void *p, size_t len);

#define RESP_HEADERS_MAX 8

struct http_header {
	const char *name;	/* static string, e.g. "etag" (no colon) */
	char value[256];
};

/*
 * What a handler produces. The body is one of: `body` (owned dynbuf),
 * `static_body` (borrowed, must outlive the response), or an open file
 * `fd` (owned; closed by http_response_cleanup) from `file_off` for
 * `file_len` bytes. `head_only` sends the headers with the body's length.
 */
struct http_response {
	int status;
	const char *content_type;	/* static string */
	struct http_header headers[RESP_HEADERS_MAX];
	int nheaders;
	struct dynbuf body;
	const void *static_body;
	size_t static_len;
	int fd;
	off_t file_off;
	int64_t file_len;
	int head_only;
	int close;			/* close the connection afterwards */
	/* /media/ files: the viewer the signed URL names ("-": none), written
	 * to the access log with the bytes really sent, so what reached each
	 * learner can be counted from it */
	char viewer[37];
	/* Called by http.c after the whole body of a 200 or 206 reached the
	 * socket (never for HEAD, a 304, or a connection dropped midway), with
	 * the sent_* values the handler left: records what was delivered to a
	 * learner (server/progress.c). NULL: nothing to record. */
	void (*on_sent)(struct app *app, const struct http_response *r);
	int64_t sent_person, sent_material, sent_from_ms, sent_to_ms;
};

void http_request_init(struct http_request *r, size_t max_body);
void http_request_cleanup(struct http_request *r);

void http_response_init(struct http_response *r);
void http_response_cleanup(struct http_response *r);

/* Adds a header (name static, value copied). TC_ETOOBIG when full or long. */
int http_response_header(struct http_response *r, const char *name, const char *value);

/* Sets status, "application/json" and the text as the body. */
int http_response_json(struct http_response *r, int status, const char *json);

/* Total bytes of the body (whatever its source). */
int64_t http_response_body_len(const struct http_response *r);

/* Value of a route parameter by name, or NULL. Borrowed. */
const char *http_request_param(const struct http_request *r, const char *name);

/* PATH as a log line may show it: every segment with 10 digits or more in
 * a row (a national ID, as in /recognition/X/learners/{national_id}, or one
 * mistyped) is written as "{national_id}", and the segment after "v" or
 * "shared" (a share link's bearer token: /v/{token},
 * /api/v1/shared/{token}) as "{token}", so that neither reaches the log.
 * Cut to fit OUT. */
void http_path_for_log(const char *path, char *out, size_t outsize);

const char *http_method_name(enum http_method m);
/* Parses "GET", "HEAD", ...; 0 when unknown. */
enum http_method http_method_parse(const char *s);

#endif
