/* http.c - see http.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <libwebsockets.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/api.h"
#include "server/api_materials.h"
#include "server/app.h"
#include "server/config.h"
#include "server/http.h"
#include "server/issuing.h"
#include "server/media_jobs.h"
#include "server/progress_writer.h"
#include "server/access_writer.h"
#include "server/metrics.h"
#include "server/problem.h"
#include "server/workers.h"
#include "server/ws.h"
#include "storage/identity.h"

#define TXBUF_SIZE (256 * 1024)
#define H2_FRAME_MAX 16384	/* SETTINGS_MAX_FRAME_SIZE's default */
#define HOUSEKEEPING_US (10 * 60 * LWS_USEC_PER_SEC)
#define TICK_US (100 * 1000)

/* Open network connections, for the gauge and the cap (a pointer set). */
struct conn_set {
	struct lws **slot;
	size_t cap, n;
};

struct http_server {
	/* The event loop: libev (epoll on Linux) run by us, lws on it as a
	 * foreign loop through its libev plugin. lws's own poll() loop costs
	 * a pass over every descriptor per wakeup: over half of the CPU at
	 * 5,000 WebSockets. */
	struct ev_loop *loop;
	lws_sorted_usec_list_t tick;	/* every TICK_US, see on_tick */
	struct app *app;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	struct lws_protocols protocols[3];
	struct lws_protocol_vhost_options headers[6];
	struct conn_set conns;
	unsigned char *txbuf;		/* LWS_PRE + TXBUF_SIZE, service thread only */
	int draining;
	int inflight;			/* requests started and not yet answered */
	int port;
	int64_t body_bytes;		/* request body bytes held in memory now */
	int64_t body_budget;		/* ... at most this many, all connections */
	struct workers *workers;	/* blocking work, off the service thread */
	struct workers *bulk;		/* long jobs (imports), one at a time */
	struct workers *cpu;		/* verifying: one thread per core */
	struct workers *batch;		/* recognition batches, one at a time */
	int64_t disk_bytes;		/* request bodies in temporary files now */
	int64_t disk_budget;		/* ... at most this many, all connections */
	lws_sorted_usec_list_t housekeeping;	/* periodic clean-up timer */
	int destroying;
	struct http_stream *streams;	/* bodies in pieces with a client */
	/* HTTP/2 requests whose job runs (see keep_network) and when their
	 * connections were last kept */
	struct pss_http *jobs_h2;
	int64_t jobs_kept_us;
};

enum phase { PH_IDLE = 0, PH_BODY, PH_WAIT, PH_RESPOND };

struct pss_http {
	struct http_request req;
	struct http_response resp;
	struct lws *wsi;
	enum route_result rr;		/* the route, matched when the headers arrived */
	const struct route *rt;
	unsigned allow;
	struct http_deferred *deferred;	/* waiting for a worker */
	const char *route;
	int64_t start_us;
	enum phase phase;
	int headers_sent;
	int64_t sent;			/* body bytes sent */
	int64_t body_deadline;		/* monotonic us by which the body must be in */
	int64_t body_held;		/* bytes of this body counted in body_bytes */
	int64_t disk_held;		/* bytes of this body counted in disk_bytes */
	int body_overflow;
	/* Plain HTTP/1 responses are written to the socket directly (writev,
	 * sendfile): the header block is kept here until it is all sent. */
	unsigned char hbuf[4096];
	size_t hlen, hsent;
	/* a body in pieces: the piece taken last, framed, and how much of it
	 * is sent */
	struct http_stream *stream;
	struct dynbuf chunk;
	size_t chunk_sent;
	/* in http_server.jobs_h2 while its job runs on an HTTP/2 stream */
	struct pss_http *job_prev, *job_next;
	int job_listed;
};

/*
 * A body in pieces (request.h). The job's thread appends to Q; the service
 * thread takes all of Q when the socket can take more. Owned by the
 * connection (PSS) while it has one, else by the job (D->out) until its
 * done() frees it; both live on the service thread, only MU's fields are
 * shared with the job.
 */
struct http_stream {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dynbuf q;		/* written, not taken yet */
	int gone;			/* nobody takes more: writes fail */
	struct lws_context *ctx;
	/* service thread only */
	struct http_stream *next;	/* in http_server.streams while it has a client */
	struct pss_http *pss;
	int ended;			/* the job is done */
	int failed;			/* ... and failed after the response began */
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the connection set ------------------------------------------------ */

static size_t
slot_of(const struct conn_set *s, const struct lws *w)
{
	uintptr_t h = (uintptr_t)w;

	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 7) & (s->cap - 1);
}

static int
conn_set_grow(struct conn_set *s)
{
	struct conn_set t = { .cap = s->cap ? s->cap * 2 : 256 };

	t.slot = calloc(t.cap, sizeof(*t.slot));
	if (!t.slot)
		return TC_ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slot[i])
			continue;
		size_t j = slot_of(&t, s->slot[i]);
		while (t.slot[j])
			j = (j + 1) & (t.cap - 1);
		t.slot[j] = s->slot[i];
		t.n++;
	}
	free(s->slot);
	*s = t;
	return 0;
}

static int
conn_set_add(struct conn_set *s, struct lws *w)
{
	size_t j;

	if ((s->n + 1) * 2 > s->cap && conn_set_grow(s))
		return TC_ENOMEM;
	j = slot_of(s, w);
	while (s->slot[j])
		j = (j + 1) & (s->cap - 1);
	s->slot[j] = w;
	s->n++;
	return 0;
}

/* Removes W; returns 1 when it was there. */
static int
conn_set_remove(struct conn_set *s, struct lws *w)
{
	size_t j, k;

	if (!s->cap)
		return 0;
	for (j = slot_of(s, w); s->slot[j]; j = (j + 1) & (s->cap - 1))
		if (s->slot[j] == w)
			break;
	if (!s->slot[j])
		return 0;
	s->slot[j] = NULL;
	s->n--;
	/* re-place the rest of the cluster (linear probing deletion) */
	for (k = (j + 1) & (s->cap - 1); s->slot[k]; k = (k + 1) & (s->cap - 1)) {
		struct lws *x = s->slot[k];
		s->slot[k] = NULL;
		size_t h = slot_of(s, x);
		while (s->slot[h])
			h = (h + 1) & (s->cap - 1);
		s->slot[h] = x;
	}
	return 1;
}

/* ---- request intake ---------------------------------------------------- */

static const struct {
	enum lws_token_indexes tok;
	enum http_method m;
} method_tokens[] = {
	{ WSI_TOKEN_GET_URI, HTTP_GET }, { WSI_TOKEN_HEAD_URI, HTTP_HEAD },
	{ WSI_TOKEN_POST_URI, HTTP_POST }, { WSI_TOKEN_PUT_URI, HTTP_PUT },
	{ WSI_TOKEN_PATCH_URI, HTTP_PATCH }, { WSI_TOKEN_DELETE_URI, HTTP_DELETE },
	{ WSI_TOKEN_OPTIONS_URI, HTTP_OPTIONS },
};

static void
copy_hdr(struct lws *wsi, char *dst, size_t len, enum lws_token_indexes tok)
{
	if (lws_hdr_total_length(wsi, tok) <= 0 ||
	    lws_hdr_copy(wsi, dst, (int)len, tok) < 0)
		dst[0] = '\0';
}

/* Fills REQ from the parsed headers. Returns 0 or a status to answer. */
static int
read_request(struct lws *wsi, struct http_request *req, int max_header)
{
	char cl[32], frag[512];
	size_t qo = 0, hdr_bytes = 0;
	int n;

	/* lws buffers up to 4x max_header (and hangs up beyond); between the
	 * two, the client learns why with a 431. */
	for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
		n = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
		if (n > 0)
			hdr_bytes += (size_t)n + 4;
	}
	if (hdr_bytes > (size_t)max_header)
		return 431;

	for (size_t i = 0; i < sizeof(method_tokens) / sizeof(method_tokens[0]); i++)
		if (lws_hdr_total_length(wsi, method_tokens[i].tok) > 0) {
			req->method = method_tokens[i].m;
			n = lws_hdr_copy(wsi, req->path, sizeof(req->path), method_tokens[i].tok);
			if (n < 0)
				return 414;
			break;
		}
	if (!req->method && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COLON_METHOD) > 0) {
		char m[16];
		copy_hdr(wsi, m, sizeof(m), WSI_TOKEN_HTTP_COLON_METHOD);
		req->method = http_method_parse(m);
		if (lws_hdr_copy(wsi, req->path, sizeof(req->path), WSI_TOKEN_HTTP_COLON_PATH) < 0)
			return 414;
	}
	if (!req->method)
		return 501;
	/* the h2 :path still carries its query */
	char *q = strchr(req->path, '?');
	if (q)
		*q = '\0';
	for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof(frag),
					      WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
		int w = snprintf(req->query + qo, sizeof(req->query) - qo, "%s%s",
				 qo ? "&" : "", frag);
		if (w < 0 || (size_t)w >= sizeof(req->query) - qo)
			return 414;
		qo += (size_t)w;
	}
	copy_hdr(wsi, req->if_none_match, sizeof(req->if_none_match), WSI_TOKEN_HTTP_IF_NONE_MATCH);
	copy_hdr(wsi, req->if_modified_since, sizeof(req->if_modified_since), WSI_TOKEN_HTTP_IF_MODIFIED_SINCE);
	copy_hdr(wsi, req->content_type, sizeof(req->content_type), WSI_TOKEN_HTTP_CONTENT_TYPE);
	copy_hdr(wsi, req->accept, sizeof(req->accept), WSI_TOKEN_HTTP_ACCEPT);
	copy_hdr(wsi, req->origin, sizeof(req->origin), WSI_TOKEN_ORIGIN);
	copy_hdr(wsi, req->range, sizeof(req->range), WSI_TOKEN_HTTP_RANGE);
	copy_hdr(wsi, req->if_range, sizeof(req->if_range), WSI_TOKEN_HTTP_IF_RANGE);
	copy_hdr(wsi, req->content_range, sizeof(req->content_range), WSI_TOKEN_HTTP_CONTENT_RANGE);
	copy_hdr(wsi, req->if_match, sizeof(req->if_match), WSI_TOKEN_HTTP_IF_MATCH);
	copy_hdr(wsi, req->accept_language, sizeof(req->accept_language), WSI_TOKEN_HTTP_ACCEPT_LANGUAGE);
	copy_hdr(wsi, req->accept_encoding, sizeof(req->accept_encoding), WSI_TOKEN_HTTP_ACCEPT_ENCODING);
	n = lws_hdr_custom_length(wsi, "x-experience-api-version:", 25);
	if (n >= (int)sizeof(req->xapi_version) ||
	    (n > 0 && lws_hdr_custom_copy(wsi, req->xapi_version, sizeof(req->xapi_version),
					  "x-experience-api-version:", 25) < 0))
		req->xapi_version[0] = '\0';
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) >= (int)sizeof(req->authorization) ||
	    lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE) >= (int)sizeof(req->cookie))
		return 431;
	copy_hdr(wsi, req->authorization, sizeof(req->authorization), WSI_TOKEN_HTTP_AUTHORIZATION);
	copy_hdr(wsi, req->cookie, sizeof(req->cookie), WSI_TOKEN_HTTP_COOKIE);
	n = lws_hdr_custom_length(wsi, "x-csrf-token:", 13);
	if (n >= (int)sizeof(req->csrf_token) ||
	    (n > 0 && lws_hdr_custom_copy(wsi, req->csrf_token, sizeof(req->csrf_token),
					  "x-csrf-token:", 13) < 0))
		return 400;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
		char *end;
		copy_hdr(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
		errno = 0;
		long long v = strtoll(cl, &end, 10);
		if (!cl[0] || *end || errno || v < 0 || cl[0] == '-' || cl[0] == '+')
			return 400;
		req->content_length = v;
	}
	req->tls = lws_is_ssl(wsi);
	return 0;
}

/* ---- responding -------------------------------------------------------- */

/* Gives back what this request's body held of the shared budget. */
static void
release_body(struct http_server *hs, struct pss_http *pss)
{
	hs->body_bytes -= pss->body_held;
	pss->body_held = 0;
	hs->disk_bytes -= pss->disk_held;
	pss->disk_held = 0;
}


/* An API answer that says nothing of caching is not kept anywhere: a
 * credential list or a share link must not stay in a shared computer's
 * browser cache. Answers that may be cached say so themselves. */
static void
api_no_store(struct pss_http *pss)
{
	if (strncmp(pss->req.path, "/api/", 5) != 0)
		return;
	for (int i = 0; i < pss->resp.nheaders; i++)
		if (strcasecmp(pss->resp.headers[i].name, "cache-control") == 0)
			return;
	http_response_header(&pss->resp, "cache-control", "no-store");
}

static void
start_response(struct lws *wsi, struct pss_http *pss)
{
	struct http_server *hs = ((struct app *)lws_context_user(lws_get_context(wsi)))->http;

	api_no_store(pss);
	pss->phase = PH_RESPOND;
	if (hs->draining)
		pss->resp.close = 1;
	lws_callback_on_writable(wsi);
}

static void
respond_status(struct lws *wsi, struct pss_http *pss, int status, const char *detail)
{
	if (!pss->route)
		pss->route = "error";
	problem_respond(&pss->resp, status, NULL, detail);
	start_response(wsi, pss);
}

/* ---- HTTP/2 connections kept while their responses are made ----------- */

/*
 * lws 4.1.6 times an HTTP/2 connection out keepalive_timeout (idle-timeout)
 * after the last frame the client sent (roles/h2/http2.c re-arms it only
 * when a frame arrives), whatever its streams are doing. A response that
 * takes longer than that to make (a job computing: the recognition batch
 * between two groups, an import) or to send (a download read at the pace
 * of a slow link, with the browser's large window: no WINDOW_UPDATE for
 * many seconds) was cut with the connection. So the connection is kept
 * while its stream makes progress: at each DATA frame written, and four
 * times a second while a job runs for one of its streams. A client that stops
 * reading still meets send_timeout on the stream.
 */
static void
keep_network(struct app *app, struct lws *wsi)
{
	struct lws *nwsi = lws_get_network_wsi(wsi);

	if (app->http->draining)	/* lws's own timeouts close it then */
		return;
	if (nwsi && nwsi != wsi)
		lws_set_timeout(nwsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, app->cfg->idle_timeout);
}

static void
job_unlist(struct http_server *hs, struct pss_http *pss)
{
	if (!pss->job_listed)
		return;
	if (pss->job_prev)
		pss->job_prev->job_next = pss->job_next;
	else
		hs->jobs_h2 = pss->job_next;
	if (pss->job_next)
		pss->job_next->job_prev = pss->job_prev;
	pss->job_prev = pss->job_next = NULL;
	pss->job_listed = 0;
}

static void
job_list(struct http_server *hs, struct pss_http *pss)
{
	if (pss->job_listed || lws_get_network_wsi(pss->wsi) == pss->wsi)
		return;
	pss->job_prev = NULL;
	pss->job_next = hs->jobs_h2;
	if (hs->jobs_h2)
		hs->jobs_h2->job_prev = pss;
	hs->jobs_h2 = pss;
	pss->job_listed = 1;
}

/* From on_tick: every connection with a job running, four times a second
 * (idle-timeout is at least a second). */
static void
jobs_keep(struct http_server *hs)
{
	int64_t now = now_us();

	if (!hs->jobs_h2 || now - hs->jobs_kept_us < 250000)
		return;
	hs->jobs_kept_us = now;
	for (struct pss_http *p = hs->jobs_h2; p; p = p->job_next)
		keep_network(hs->app, p->wsi);
}

/* ---- a body in pieces ------------------------------------------------ */

int
http_stream_write(struct http_stream *s, const void *p, size_t len)
{
	int rc = 0, wake = 0;

	if (!s)
		return TC_EINVALID;
	pthread_mutex_lock(&s->mu);
	while (!s->gone && s->q.len >= HTTP_STREAM_HIGH)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->gone) {
		rc = TC_EIO;
	} else if (len) {
		wake = s->q.len == 0;
		rc = dynbuf_append(&s->q, p, len) ? TC_ENOMEM : 0;
	}
	pthread_mutex_unlock(&s->mu);
	if (wake)
		lws_cancel_service(s->ctx);	/* stream_poll sends it */
	return rc;
}

static struct http_stream *
stream_new(struct http_server *hs, struct pss_http *pss)
{
	struct http_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	dynbuf_init(&s->q, (size_t)1 << 30);
	s->ctx = hs->ctx;
	s->pss = pss;
	s->next = hs->streams;
	hs->streams = s;
	pss->stream = s;
	dynbuf_init(&pss->chunk, (size_t)1 << 30);
	pss->chunk_sent = 0;
	return s;
}

static void
stream_free(struct http_stream *s)
{
	if (!s)
		return;
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	dynbuf_cleanup(&s->q);
	free(s);
}

/* Nobody takes more of S: a waiting write returns. */
static void
stream_gone(struct http_stream *s)
{
	pthread_mutex_lock(&s->mu);
	s->gone = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* PSS lets go of its stream: freed when the job is done with it, else
 * left to the job (told that nobody reads). */
static void
stream_detach(struct http_server *hs, struct pss_http *pss)
{
	struct http_stream *s = pss->stream, **pp;

	if (!s)
		return;
	for (pp = &hs->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	s->pss = NULL;
	pss->stream = NULL;
	dynbuf_cleanup(&pss->chunk);
	stream_gone(s);
	if (!pss->deferred)
		stream_free(s);
}

/* On a wake-up: every stream with something to send asks for WRITEABLE
 * (its response begins with the first piece). */
static void
stream_poll(struct http_server *hs)
{
	for (struct http_stream *s = hs->streams; s; s = s->next) {
		size_t n;

		pthread_mutex_lock(&s->mu);
		n = s->q.len;
		pthread_mutex_unlock(&s->mu);
		if (!n)
			continue;
		if (s->pss->phase == PH_WAIT)
			start_response(s->pss->wsi, s->pss);
		else
			lws_callback_on_writable(s->pss->wsi);
	}
}

/* Queues D's run() on its pool (or its own submit): 0, or TC_EBUSY. */
static int
deferred_submit(struct app *app, struct http_deferred *d)
{
	if (d->submit)
		return d->submit(app, &d->work);
	return workers_submit(d->batch ? app->http->batch : d->bulk ? app->http->bulk :
			      d->cpu ? app->http->cpu : app->http->workers, &d->work);
}

/* On the service thread, once a deferred job has run (or was dropped). */
static void
deferred_done(struct work *w, int cancelled)
{
	struct http_deferred *d = (struct http_deferred *)w;
	struct pss_http *pss = d->owner;
	struct http_server *hs;
	struct app *app;

	if (!pss) {			/* the client went away meanwhile */
		stream_free(d->out);	/* detached from it then */
		d->finish(d, NULL);
		return;
	}
	app = lws_context_user(lws_get_context(pss->wsi));
	hs = app->http;
	if (!cancelled && !hs->destroying && d->again && d->again(d)) {
		if (deferred_submit(app, d) == 0)
			return;		/* still this connection's job */
		pss->deferred = NULL;
		job_unlist(hs, pss);
		d->finish(d, NULL);
		http_response_header(&pss->resp, "retry-after", "2");
		respond_status(pss->wsi, pss, 503, "the server is busy; try again shortly");
		return;
	}
	pss->deferred = NULL;
	job_unlist(hs, pss);
	if (hs->destroying) {
		d->finish(d, NULL);
		return;
	}
	if (cancelled) {
		d->finish(d, NULL);
		stream_detach(hs, pss);
		http_response_header(&pss->resp, "retry-after", "5");
		respond_status(pss->wsi, pss, 503, "the server is shutting down");
		return;
	}
	d->finish(d, &pss->resp);
	if (pss->stream) {
		if (pss->resp.status >= 400 && !pss->headers_sent) {
			stream_detach(hs, pss);	/* an ordinary answer after all */
		} else {
			pss->stream->ended = 1;
			pss->stream->failed = pss->resp.status >= 400;
			if (pss->phase == PH_RESPOND) {
				lws_callback_on_writable(pss->wsi);
				return;
			}
		}
	}
	start_response(pss->wsi, pss);
}

static void
dispatch(struct lws *wsi, struct pss_http *pss)
{
	struct app *app = lws_context_user(lws_get_context(wsi));
	struct http_deferred *d;

	api_handle(app, pss->rr, pss->rt, pss->allow, &pss->req, &pss->resp, &pss->route);
	d = pss->req.deferred;
	if (!d) {
		start_response(wsi, pss);
		return;
	}
	pss->req.deferred = NULL;
	d->owner = pss;
	d->work.done = deferred_done;
	if (d->stream && !(d->out = stream_new(app->http, pss))) {
		d->finish(d, NULL);
		respond_status(wsi, pss, 500, "out of memory");
		return;
	}
	if (deferred_submit(app, d) != 0) {
		d->finish(d, NULL);
		stream_detach(app->http, pss);
		http_response_header(&pss->resp, "retry-after", "2");
		respond_status(wsi, pss, 503, "the server is busy; try again shortly");
		return;
	}
	pss->deferred = d;
	pss->phase = PH_WAIT;
	job_list(app->http, pss);
}

static int
write_headers(struct lws *wsi, const struct http_response *r, int64_t body_len,
	      unsigned char **p, unsigned char *end)
{

	if (lws_add_http_header_status(wsi, (unsigned)r->status, p, end))
		return -1;
	if (r->content_type &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)r->content_type,
					 (int)strlen(r->content_type), p, end))
		return -1;
	if (r->status != 304 && r->status != 204 && body_len >= 0 &&
	    lws_add_http_header_content_length(wsi, (lws_filepos_t)body_len, p, end))
		return -1;
	/* a body in pieces: chunked in HTTP/1.1 (HTTP/2 frames it itself) */
	if (body_len < 0 && lws_get_network_wsi(wsi) == wsi &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING,
					 (const unsigned char *)"chunked", 7, p, end))
		return -1;
	for (int i = 0; i < r->nheaders; i++) {
		char name[64];
		size_t nl = strlen(r->headers[i].name);

		if (nl > sizeof(name) - 2)
			return -1;
		memcpy(name, r->headers[i].name, nl);
		name[nl] = ':';
		name[nl + 1] = '\0';
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
						(const unsigned char *)r->headers[i].value,
						(int)strlen(r->headers[i].value), p, end))
			return -1;
	}
	if (r->close && lws_get_network_wsi(wsi) == wsi &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
					 (const unsigned char *)"close", 5, p, end))
		return -1;
	return lws_finalize_http_header(wsi, p, end) ? -1 : 0;
}

/* Copies up to N body bytes at the current offset into DST. */
static ssize_t
read_body(struct pss_http *pss, unsigned char *dst, size_t n)
{
	struct http_response *r = &pss->resp;
	const char *src;

	if (r->fd >= 0) {
		ssize_t got;
		do
			got = pread(r->fd, dst, n, r->file_off + pss->sent);
		while (got < 0 && errno == EINTR);
		return got > 0 ? got : -1;	/* a file that shrank is an error */
	}
	src = r->static_body ? r->static_body : r->body.data;
	memcpy(dst, src + pss->sent, n);
	return (ssize_t)n;
}

static int
finish_request(struct lws *wsi, struct pss_http *pss)
{
	struct app *app = lws_context_user(lws_get_context(wsi));
	int64_t us = now_us() - pss->start_us;
	int close = pss->resp.close;

	metrics_request(app->metrics, pss->route ? pss->route : "unknown",
			pss->resp.status, us, pss->sent);
	if (app->cfg->access_log) {
		char path[HTTP_PATH_MAX];

		http_path_for_log(pss->req.path, path, sizeof(path));
		log_info("access %s \"%s %s\" %d %" PRId64 " %" PRId64 "us%s%s",
			 pss->req.peer, http_method_name(pss->req.method),
			 path, pss->resp.status, pss->sent, us,
			 pss->resp.viewer[0] ? " viewer=" : "", pss->resp.viewer);
	}
	if (pss->resp.on_sent && pss->req.method != HTTP_HEAD &&
	    (pss->resp.status == 200 || pss->resp.status == 206) &&
	    pss->sent == http_response_body_len(&pss->resp))
		pss->resp.on_sent(app, &pss->resp);
	app->http->inflight--;
	release_body(app->http, pss);
	stream_detach(app->http, pss);
	http_request_cleanup(&pss->req);
	http_response_cleanup(&pss->resp);
	pss->phase = PH_IDLE;
	if (close)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/*
 * Plain HTTP/1 without TLS: writes the header block and the body straight
 * to the socket, with writev for bodies in memory and sendfile(2) for files
 * (the Debian lws has no sendfile, and copying through its buffers halves
 * the throughput for large files). lws itself has written nothing on this
 * connection since the request arrived, so the byte order is ours to keep.
 * Returns 1 when the response is complete, 0 to wait for WRITEABLE, -1 to
 * drop the connection.
 */
static int
write_raw(struct lws *wsi, struct pss_http *pss, int64_t total, int head)
{
	int fd = (int)lws_get_socket_fd(wsi);
	struct http_response *r = &pss->resp;
	int64_t body = head ? 0 : total;

	for (;;) {
		size_t hleft = pss->hlen - pss->hsent;
		int64_t bleft = body - pss->sent;
		ssize_t n;

		if (!hleft && !bleft)
			return 1;
		if (r->fd >= 0 && bleft) {
			if (hleft) {
				n = send(fd, pss->hbuf + pss->hsent, hleft, MSG_NOSIGNAL | MSG_MORE);
				if (n > 0)
					pss->hsent += (size_t)n;
			} else {
				off_t off = r->file_off + pss->sent;
				n = sendfile(fd, r->fd, &off, bleft > (1 << 30) ? (1 << 30) : (size_t)bleft);
				if (n == 0) {
					log_err("http: %s shrank while being sent", pss->req.path);
					return -1;
				}
				if (n > 0)
					pss->sent += n;
			}
		} else {
			struct iovec iov[2];
			int cnt = 0;

			if (hleft)
				iov[cnt++] = (struct iovec){ pss->hbuf + pss->hsent, hleft };
			if (bleft)
				iov[cnt++] = (struct iovec){
					(char *)(r->static_body ? r->static_body : r->body.data) + pss->sent,
					(size_t)bleft };
			struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
			n = sendmsg(fd, &mh, MSG_NOSIGNAL);
			if (n > 0) {
				size_t hn = (size_t)n < hleft ? (size_t)n : hleft;
				pss->hsent += hn;
				pss->sent += n - (ssize_t)hn;
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
	}
}

/* The response waits for the socket: the client has send_timeout seconds
 * to take more of it. */
static int
wait_writeable(struct lws *wsi, struct app *app)
{
	lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, app->cfg->send_timeout);
	lws_callback_on_writable(wsi);
	return 0;
}

/*
 * The response of a body in pieces, always through lws_write (which keeps
 * what the socket did not take and sends it first): the headers, then
 * each piece the job queued, framed as a chunk in HTTP/1.1, then the end
 * once the job is done; on an HTTP/2 stream one frame a WRITEABLE. Waits
 * without a timeout while the job computes.
 */
static int
stream_writeable(struct lws *wsi, struct pss_http *pss)
{
	struct app *app = lws_context_user(lws_get_context(wsi));
	struct http_stream *s = pss->stream;
	unsigned char *start = app->http->txbuf + LWS_PRE, *p = start;
	int h2 = lws_get_network_wsi(wsi) != wsi;

	if (!pss->headers_sent) {
		api_no_store(pss);
		if (write_headers(wsi, &pss->resp, -1, &p, start + TXBUF_SIZE) ||
		    lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) < 0)
			return -1;
		pss->headers_sent = 1;
		if (h2)		/* lws 4.1: one frame a WRITEABLE on a stream */
			return wait_writeable(wsi, app);
	}
	for (;;) {
		while (pss->chunk_sent < pss->chunk.len) {
			size_t n = pss->chunk.len - pss->chunk_sent;

			if (lws_send_pipe_choked(wsi))
				return wait_writeable(wsi, app);
			if (h2) {
				lws_fileofs_t allow = lws_get_peer_write_allowance(wsi);

				if (allow == 0)
					return wait_writeable(wsi, app);
				if (n > H2_FRAME_MAX)
					n = H2_FRAME_MAX;
				if (allow > 0 && (lws_fileofs_t)n > allow)
					n = (size_t)allow;
			} else if (n > TXBUF_SIZE) {
				n = TXBUF_SIZE;
			}
			memcpy(start, pss->chunk.data + pss->chunk_sent, n);
			if (lws_write(wsi, start, n, LWS_WRITE_HTTP) < 0)
				return -1;
			pss->chunk_sent += n;
			if (h2) {
				keep_network(app, wsi);
				return wait_writeable(wsi, app);
			}
		}
		/* the next piece: all that is queued */
		dynbuf_reset(&pss->chunk);
		pss->chunk_sent = 0;
		pthread_mutex_lock(&s->mu);
		if (s->q.len) {
			int rc = (!h2 && dynbuf_printf(&pss->chunk, "%zx\r\n", s->q.len)) ||
				 dynbuf_append(&pss->chunk, s->q.data, s->q.len) ||
				 (!h2 && dynbuf_puts(&pss->chunk, "\r\n"));

			pss->sent += (int64_t)s->q.len;
			dynbuf_reset(&s->q);
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
			if (rc)
				return -1;
			continue;
		}
		pthread_mutex_unlock(&s->mu);
		if (!s->ended) {	/* stream_poll asks again */
			lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
			return 0;
		}
		if (s->failed)		/* no end: the client sees it is cut */
			return -1;
		if (h2) {
			if (lws_write(wsi, start, 0, LWS_WRITE_HTTP_FINAL) < 0)
				return -1;
		} else {
			memcpy(start, "0\r\n\r\n", 5);
			if (lws_write(wsi, start, 5, LWS_WRITE_HTTP_FINAL) < 0)
				return -1;
		}
		return finish_request(wsi, pss);
	}
}

static int
on_http_writeable(struct lws *wsi, struct pss_http *pss)
{
	struct app *app = lws_context_user(lws_get_context(wsi));
	unsigned char *start = app->http->txbuf + LWS_PRE, *p = start;
	unsigned char *end = start + TXBUF_SIZE;
	int h2 = lws_get_network_wsi(wsi) != wsi;
	int64_t total = http_response_body_len(&pss->resp);
	int head = pss->req.method == HTTP_HEAD || pss->resp.status == 304 ||
		   pss->resp.status == 204;

	if (pss->phase != PH_RESPOND)
		return 0;
	if (pss->stream)
		return stream_writeable(wsi, pss);
	/* Whenever the response has to wait for the client, it gets
	 * send_timeout seconds to make progress (set in wait_writeable). */
	if (!h2 && !lws_is_ssl(wsi)) {
		if (!pss->headers_sent) {
			unsigned char *hp = pss->hbuf;
			if (write_headers(wsi, &pss->resp, total, &hp, pss->hbuf + sizeof(pss->hbuf)))
				return -1;
			pss->hlen = (size_t)(hp - pss->hbuf);
			pss->headers_sent = 1;
		}
		switch (write_raw(wsi, pss, total, head)) {
		case 1:
			return finish_request(wsi, pss);
		case 0:
			return wait_writeable(wsi, app);
		default:
			return -1;
		}
	}

	if (!pss->headers_sent) {
		if (write_headers(wsi, &pss->resp, total, &p, end))
			return -1;
		pss->headers_sent = 1;
		if (h2 || head || total == 0) {
			enum lws_write_protocol wp = LWS_WRITE_HTTP_HEADERS;
			if (head || total == 0)
				wp |= LWS_WRITE_H2_STREAM_END;
			if (lws_write(wsi, start, (size_t)(p - start), wp) < 0)
				return -1;
			if (head || total == 0)
				return finish_request(wsi, pss);
			return wait_writeable(wsi, app);
		}
		/* HTTP/1 over TLS: the first piece of the body goes with the headers */
	}
	do {
		size_t room = (size_t)(end - p);
		int64_t left = total - pss->sent;

		if (h2) {
			/* lws 4.1 neither splits DATA frames nor enforces the
			 * peer's flow-control window: stay within both. */
			lws_fileofs_t allow = lws_get_peer_write_allowance(wsi);

			if (allow == 0)
				return wait_writeable(wsi, app);
			if (room > H2_FRAME_MAX)
				room = H2_FRAME_MAX;
			if (allow > 0 && (lws_fileofs_t)room > allow)
				room = (size_t)allow;
		}
		size_t n = left < (int64_t)room ? (size_t)left : room;
		ssize_t got = read_body(pss, p, n);

		if (got < 0) {
			log_err("http: body of %s failed after %" PRId64 " bytes", pss->req.path, pss->sent);
			return -1;
		}
		pss->sent += got;
		if (lws_write(wsi, start, (size_t)(p - start) + (size_t)got,
			      pss->sent == total ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
			return -1;
		if (h2)
			keep_network(app, wsi);
		p = start;
	} while (!h2 && pss->sent < total && !lws_send_pipe_choked(wsi));

	if (pss->sent == total)
		return finish_request(wsi, pss);
	return wait_writeable(wsi, app);
}

static int
body_expected(const struct http_request *req)
{
	return req->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH);
}

static int
on_http(struct lws *wsi, struct pss_http *pss)
{
	struct app *app = lws_context_user(lws_get_context(wsi));
	char detail[128];
	int status;

	pss->wsi = wsi;
	pss->rt = NULL;
	pss->deferred = NULL;
	pss->route = NULL;
	pss->headers_sent = 0;
	pss->sent = 0;
	pss->body_overflow = 0;
	pss->body_held = 0;
	pss->disk_held = 0;
	pss->hlen = pss->hsent = 0;
	pss->start_us = now_us();
	http_request_init(&pss->req, (size_t)app->cfg->max_body);
	http_response_init(&pss->resp);
	lws_get_peer_simple(wsi, pss->req.peer, sizeof(pss->req.peer));
	app->http->inflight++;
	pss->phase = PH_BODY;

	status = read_request(wsi, &pss->req, app->cfg->max_header);
	if (status) {
		pss->resp.close = 1;
		respond_status(wsi, pss, status, status == 414 ? "the request target is too long"
			       : status == 431 ? "the request headers are larger than the limit"
			       : status == 501 ? "this method is not supported"
			       : "the request is malformed");
		return 0;
	}
	pss->rr = api_match(app, &pss->req, &pss->rt, &pss->allow);
	if (body_expected(&pss->req) && pss->req.content_length < 0) {
		pss->resp.close = 1;	/* lws would wait for a body it cannot delimit */
		respond_status(wsi, pss, 411, "send the body with a Content-Length");
		return 0;
	}
	int64_t max_body = pss->rt && pss->rt->max_body ? pss->rt->max_body : app->cfg->max_body;
	if (pss->req.content_length > max_body) {
		pss->resp.close = 1;
		pss->body_overflow = 1;
		snprintf(detail, sizeof(detail), "the body is %" PRId64 " bytes; the limit is %" PRId64,
			 pss->req.content_length, max_body);
		respond_status(wsi, pss, 413, detail);
		return 0;
	}
	if (pss->rt && pss->rt->precheck && !pss->body_overflow &&
	    api_precheck(app, pss->rt, &pss->req, &pss->resp)) {
		pss->resp.close = 1;	/* do not read what was refused */
		pss->body_overflow = 1;
		pss->route = pss->rt->name;
		start_response(wsi, pss);
		return 0;
	}
	if (pss->rt && (pss->rt->flags & ROUTE_BODY_FILE) && pss->req.content_length > 0) {
		if (app->http->disk_bytes + pss->req.content_length > app->http->disk_budget) {
			pss->resp.close = 1;
			pss->body_overflow = 1;
			http_response_header(&pss->resp, "retry-after", "30");
			respond_status(wsi, pss, 503, "too many uploads in progress; try again later");
			return 0;
		}
		app->http->disk_bytes += pss->req.content_length;
		pss->disk_held = pss->req.content_length;
		/* an unnamed file beside the content store: gone when closed */
		char dir[PATH_MAX + 16];
		snprintf(dir, sizeof(dir), "%s/content", app->cfg->data_dir);
		pss->req.body_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (pss->req.body_fd < 0) {
			log_err("http: cannot create a temporary file in %s: %s", dir, strerror(errno));
			pss->resp.close = 1;
			pss->body_overflow = 1;
			respond_status(wsi, pss, 500, "the request body could not be stored");
			return 0;
		}
	}
	/* lws re-arms its own timeout at every chunk; the deadline bounds
	 * the whole body */
	pss->body_deadline = pss->start_us + (int64_t)app->cfg->request_timeout * 1000000;
	if (pss->req.content_length > 0)
		return 0;		/* wait for HTTP_BODY_COMPLETION */
	if (pss->req.method == HTTP_POST && pss->req.content_length == 0)
		return 0;		/* lws sends an empty BODY_COMPLETION */
	dispatch(wsi, pss);
	return 0;
}

static int
on_body(struct lws *wsi, struct pss_http *pss, const void *in, size_t len)
{
	struct http_server *hs = ((struct app *)lws_context_user(lws_get_context(wsi)))->http;

	if (pss->phase != PH_BODY || pss->body_overflow)
		return 0;
	if (now_us() > pss->body_deadline) {
		pss->body_overflow = 1;
		pss->resp.close = 1;
		release_body(hs, pss);
		respond_status(wsi, pss, 408, "the request body arrived too slowly");
		return 0;
	}
	if (pss->req.body_fd >= 0) {
		const char *p = in;
		size_t left = len;

		while (left) {
			ssize_t w = write(pss->req.body_fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				log_err("http: writing a request body to disk: %s", strerror(errno));
				pss->body_overflow = 1;
				pss->resp.close = 1;
				respond_status(wsi, pss, errno == ENOSPC ? 507 : 500,
					       "the request body could not be stored");
				return 0;
			}
			p += w;
			left -= (size_t)w;
		}
		return 0;
	}
	if (hs->body_bytes + (int64_t)len > hs->body_budget) {
		pss->body_overflow = 1;
		pss->resp.close = 1;
		release_body(hs, pss);
		http_response_header(&pss->resp, "retry-after", "2");
		respond_status(wsi, pss, 503, "too many request bodies in progress; try again shortly");
		return 0;
	}
	if (dynbuf_append(&pss->req.body, in, len)) {
		pss->body_overflow = 1;
		pss->resp.close = 1;
		release_body(hs, pss);
		respond_status(wsi, pss, 413, "the body is larger than the limit");
		return 0;
	}
	hs->body_bytes += (int64_t)len;
	pss->body_held += (int64_t)len;
	return 0;
}

static int
on_body_done(struct lws *wsi, struct pss_http *pss)
{
	if (pss->phase != PH_BODY || pss->body_overflow)
		return 0;
	if (pss->req.body_fd >= 0 && lseek(pss->req.body_fd, 0, SEEK_SET) != 0) {
		pss->resp.close = 1;
		respond_status(wsi, pss, 500, "the request body could not be read back");
		return 0;
	}
	dispatch(wsi, pss);
	return 0;
}

static void
on_http_closed(struct lws *wsi, struct pss_http *pss)
{
	struct app *app = lws_context_user(lws_get_context(wsi));

	if (!pss || pss->phase == PH_IDLE)
		return;
	stream_detach(app->http, pss);	/* before: the job may keep it */
	if (pss->deferred) {		/* its finish() will learn nobody waits */
		pss->deferred->owner = NULL;
		pss->deferred = NULL;
	}
	job_unlist(app->http, pss);
	if (pss->phase == PH_RESPOND) {
		metrics_request(app->metrics, pss->route ? pss->route : "unknown",
				pss->resp.status, now_us() - pss->start_us, pss->sent);
		log_info("access %s \"%s %s\" %d %" PRId64 " aborted", pss->req.peer,
			 http_method_name(pss->req.method), pss->req.path,
			 pss->resp.status, pss->sent);
	}
	app->http->inflight--;
	release_body(app->http, pss);
	http_request_cleanup(&pss->req);
	http_response_cleanup(&pss->resp);
	pss->phase = PH_IDLE;
}

/* Writes a complete problem response on a socket lws is about to refuse. */
static void
refuse_socket(int fd, const char *detail)
{
	char buf[512];
	int body, n;
	char json[256];

	body = snprintf(json, sizeof(json),
			"{\"type\":\"about:blank\",\"title\":\"Service Unavailable\","
			"\"status\":503,\"detail\":\"%s\"}", detail);
	n = snprintf(buf, sizeof(buf),
		     "HTTP/1.1 503 Service Unavailable\r\n"
		     "content-type: application/problem+json\r\n"
		     "content-length: %d\r\nretry-after: 5\r\nconnection: close\r\n\r\n%s",
		     body, json);
	if (n > 0 && n < (int)sizeof(buf))
		(void)!send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Decides what happens to an Upgrade request: 0 lets lws upgrade to a
 * WebSocket, -1 hangs up (after our own answer, or lws's 403). */
static int
on_confirm_upgrade(struct lws *wsi)
{
	struct app *app = lws_context_user(lws_get_context(wsi));
	char proto[128], path[64], up[32];
	int status = 0;
	const char *detail = NULL;

	/* For an unknown value lws has already answered 403 and completed the
	 * transaction, which can free the header table that lws's `in` points
	 * into (CVE-2025-11677): only read the headers while they still exist. */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_UPGRADE) <= 0)
		return -1;
	copy_hdr(wsi, up, sizeof(up), WSI_TOKEN_UPGRADE);
	if (strcasecmp(up, "websocket") != 0 && strcasecmp(up, "h2c") != 0)
		return -1;		/* lws has already answered 403 */
	if (strcasecmp(up, "h2c") == 0) {
		if (app->cfg->http2)
			return 0;
		status = 400;
		detail = "HTTP/2 is not offered here; send the request without Upgrade: h2c";
	} else {
		copy_hdr(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);
		copy_hdr(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL);
		if (strcmp(path, "/ws") != 0) {
			status = 404;
			detail = "WebSockets are served at /ws only";
		} else if (!strstr(proto, WS_PROTOCOL)) {
			status = 400;
			detail = "ask for the subprotocol tinchi.v1 (Sec-WebSocket-Protocol)";
		} else if (app->http->draining) {
			status = 503;
			detail = "the server is shutting down";
		} else
			return 0;
	}

	/* Answer directly (HTTP/1 only reaches here) and hang up. */
	unsigned char *start = app->http->txbuf + LWS_PRE, *p = start;
	struct http_response r;

	http_response_init(&r);
	problem_respond(&r, status, NULL, detail);
	r.close = 1;
	if (write_headers(wsi, &r, (int64_t)r.body.len, &p, start + TXBUF_SIZE) == 0 &&
	    (size_t)(start + TXBUF_SIZE - p) >= r.body.len) {
		memcpy(p, r.body.data, r.body.len);
		p += r.body.len;
		lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL);
	}
	metrics_request(app->metrics, "upgrade_refused", status, 0, (int64_t)r.body.len);
	http_response_cleanup(&r);
	return -1;
}

static int
http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
	      void *in, size_t len)
{
	struct app *app = lws_context_user(lws_get_context(wsi));
	struct pss_http *pss = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		if (app->http->draining) {
			refuse_socket((int)(intptr_t)in, "the server is shutting down");
			return 1;
		}
		if ((int64_t)app->http->conns.n >= app->cfg->max_connections) {
			refuse_socket((int)(intptr_t)in, "too many connections; try again shortly");
			log_warn("http: connection refused: %zu open (max_connections)", app->http->conns.n);
			return 1;
		}
		return 0;
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		if (conn_set_add(&app->http->conns, wsi))
			return -1;
		metrics_connections(app->metrics, 1);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (conn_set_remove(&app->http->conns, wsi))
			metrics_connections(app->metrics, -1);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (app && app->http && app->http->workers)
			workers_complete(app->http->workers);
		if (app && app->http && app->http->bulk)
			workers_complete(app->http->bulk);
		if (app && app->http && app->http->cpu)
			workers_complete(app->http->cpu);
		if (app && app->http && app->http->batch)
			workers_complete(app->http->batch);
		if (app)
			media_jobs_deliver(app->media);
		if (app)
			progress_writer_deliver(app->progress_writer);
		if (app)
			access_writer_deliver(app->access_writer);
		if (app && app->http)
			stream_poll(app->http);
		return 0;
	case LWS_CALLBACK_HTTP:
		return on_http(wsi, pss);
	case LWS_CALLBACK_HTTP_BODY:
		return on_body(wsi, pss, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return on_body_done(wsi, pss);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_http_writeable(wsi, pss);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return on_confirm_upgrade(wsi);
	case LWS_CALLBACK_CLOSED_HTTP:
		on_http_closed(wsi, pss);
		return 0;
	default:
		return 0;
	}
}

/* ---- context ----------------------------------------------------------- */

static void
lws_log_emit(int level, const char *line)
{
	enum log_level l = LOG_DEBUG;

	if (level & LLL_ERR)
		l = LOG_ERROR;
	else if (level & LLL_WARN)
		l = LOG_WARN;
	else if (level & (LLL_NOTICE | LLL_USER))
		l = LOG_INFO;
	log_write(l, "lws: %s", line);
}

static void
set_lws_log_level(enum log_level l)
{
	int mask = LLL_ERR | LLL_USER;

	if (l >= LOG_WARN)
		mask |= LLL_WARN;
	if (l >= LOG_DEBUG)
		mask |= LLL_NOTICE | LLL_INFO;
	lws_set_log_level(mask, lws_log_emit);
}

static void
set_header(struct lws_protocol_vhost_options *h, int i, int n,
	   const char *name, const char *value)
{
	h[i].next = i + 1 < n ? &h[i + 1] : NULL;
	h[i].options = NULL;
	h[i].name = name;
	h[i].value = value;
}

/* Threads of the CPU pool: the cores online, 2 to 64. */
static unsigned
cpu_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : n > 64 ? 64 : (unsigned)n;
}

static void
wake_loop(void *ctx)
{
	lws_cancel_service(ctx);
}

/* Every ten minutes: removes ended sessions and failed-login records older
 * than the lockout window, so neither table grows without bound. */
static void
on_housekeeping(lws_sorted_usec_list_t *sul)
{
	struct http_server *hs = lws_container_of(sul, struct http_server, housekeeping);
	struct app *app = hs->app;
	int64_t now = (int64_t)time(NULL);
	int n = 0;

	if (store_session_purge(app->store, 0, now, app->cfg->session_idle, &n) == 0 && n)
		log_info("housekeeping: removed %d ended session(s)", n);
	store_login_failures_clear(app->store, NULL, now - 15 * 60);
	n = api_uploads_expire(app, now - app->cfg->upload_expiry);
	if (n)
		log_info("housekeeping: removed %d abandoned upload(s)", n);
	lws_sul_schedule(hs->ctx, 0, &hs->housekeeping, on_housekeeping, HOUSEKEEPING_US);
}

/*
 * Every TICK_US. lws 4.1.6's libev plugin re-arms its one libev timer only
 * when that timer fires or after I/O, and ev_timer_start() on the timer
 * while it is armed is ignored: a timer lws schedules earlier than the one
 * armed (a WebSocket's ping, a request timeout) waited for the later one
 * (the 10-minute housekeeping). A sul due every TICK_US keeps the armed
 * time at most TICK_US away, so no lws timer is late by more than that;
 * its firing also ends a quiet pass of the loop, so the stop flag and the
 * drain deadline are looked at. Test: ws_test.py, "a client answering
 * pings stays connected" after another connection was closed for silence.
 */
static void
on_tick(lws_sorted_usec_list_t *sul)
{
	struct http_server *hs = lws_container_of(sul, struct http_server, tick);

	jobs_keep(hs);
	if (!hs->draining)
		issuing_retry_tick(hs->app);	/* credentials that failed, when due */
	lws_sul_schedule(hs->ctx, 0, &hs->tick, on_tick, TICK_US);
}

int
http_server_create(struct app *app)
{
	const struct config *cfg = app->cfg;
	struct lws_context_creation_info info;
	static void *foreign[1];	/* lws keeps the pointer: not on the stack */
	struct http_server *hs = NULL;
	int rc = 0;

	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return TC_ENOMEM;
	hs->app = app;
	app->http = hs;		/* from here on, http_server_destroy frees it */
	hs->txbuf = malloc(LWS_PRE + TXBUF_SIZE);
	if (!hs->txbuf) {
		rc = TC_ENOMEM;
		goto out;
	}
	/* Bodies are held in memory until complete (uploads stream to disk
	 * through their own endpoints): all of them together stay within
	 * this budget, and past it a request is answered 503. */
	hs->body_budget = cfg->max_body * 16 > ((int64_t)64 << 20) ? cfg->max_body * 16 : ((int64_t)64 << 20);
	hs->disk_budget = (int64_t)16 << 30;	/* uploads waiting in temporary files */
	if ((rc = ws_hub_create(app, &app->ws)))
		goto out;

	set_lws_log_level(cfg->log_level);

	hs->protocols[0] = (struct lws_protocols){
		.name = "http", .callback = http_callback,
		.per_session_data_size = sizeof(struct pss_http),
	};
	hs->protocols[1] = (struct lws_protocols){
		.name = WS_PROTOCOL, .callback = ws_callback,
		.per_session_data_size = ws_session_size(),
		.rx_buffer_size = 16 * 1024,
	};

	/* Security headers on every response, lws's own error pages included.
	 * media-src data: is for hls.js, which gives the video element its
	 * caption track as <track src="data:,WEBVTT"> */
	set_header(hs->headers, 0, 6, "content-security-policy:",
		   "default-src 'self'; script-src 'self'; style-src 'self'; "
		   "img-src 'self' data:; media-src 'self' blob: data:; connect-src 'self'; "
		   "font-src 'self'; object-src 'none'; base-uri 'none'; "
		   "form-action 'self'; frame-ancestors 'none'");
	set_header(hs->headers, 1, 6, "x-content-type-options:", "nosniff");
	set_header(hs->headers, 2, 6, "referrer-policy:", "no-referrer");
	set_header(hs->headers, 3, 6, "x-frame-options:", "DENY");
	set_header(hs->headers, 4, 6, "cross-origin-opener-policy:", "same-origin");
	set_header(hs->headers, 5, 6, "permissions-policy:", "camera=(), microphone=(), geolocation=()");

	memset(&info, 0, sizeof(info));
	info.user = app;
	info.protocols = hs->protocols;
	info.headers = hs->headers;
	info.vhost_name = "tinchi";
	info.server_string = "tinchi";
	info.iface = cfg->listen_host;
	info.port = cfg->listen_port;	/* 0: the kernel picks a free port */
	info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		       LWS_SERVER_OPTION_VALIDATE_UTF8 |
		       LWS_SERVER_OPTION_DISABLE_IPV6 * (strchr(cfg->listen_host, ':') == NULL);
	info.max_http_header_data = (unsigned short)(cfg->max_header < 16384 ? cfg->max_header * 4 : 65535);
	info.max_http_header_pool = 256;
	info.timeout_secs = (unsigned)cfg->request_timeout;
	info.timeout_secs_ah_idle = (unsigned)cfg->header_timeout;
	info.keepalive_timeout = cfg->idle_timeout;
	info.fd_limit_per_thread = (unsigned)cfg->max_connections + 64;
	info.pt_serv_buf_size = 64 * 1024;
	/* HTTP/2 when enabled: ALPN h2 under TLS, or an h2c upgrade. Prior
	 * knowledge is not offered: lws would then take every cleartext
	 * connection for HTTP/2 and HTTP/1.1 clients would get nothing. */
	info.alpn = cfg->http2 ? "h2,http/1.1" : "http/1.1";
	if (cfg->tls_cert[0]) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_STS;
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
	}

	hs->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	if (!hs->loop) {
		log_err("could not make the event loop (libev)");
		rc = TC_ENOMEM;
		goto out;
	}
	foreign[0] = hs->loop;
	info.options |= LWS_SERVER_OPTION_LIBEV;
	info.foreign_loops = foreign;
	hs->ctx = lws_create_context(&info);
	if (!hs->ctx) {
		log_err("could not listen on %s:%d (address in use, or bad TLS files?)",
			cfg->listen_host, cfg->listen_port);
		rc = TC_EIO;
		goto out;
	}
	/* Two threads: at most two 128 MiB scrypt hashes at once. */
	rc = workers_create(2, 256, wake_loop, hs->ctx, &hs->workers);
	if (rc == 0)
		rc = workers_create(1, 16, wake_loop, hs->ctx, &hs->bulk);
	/* Verifying: little memory, all CPU; as many threads as cores (the
	 * service thread mostly waits for the network). */
	if (rc == 0)
		rc = workers_create(cpu_threads(), 1024, wake_loop, hs->ctx, &hs->cpu);
	/* recognition batches: one thread of their own (one batch an
	 * institution at a time, api_recogquery.c) */
	if (rc == 0)
		rc = workers_create(1, 16, wake_loop, hs->ctx, &hs->batch);
	if (rc)
		goto out;
	lws_sul_schedule(hs->ctx, 0, &hs->housekeeping, on_housekeeping, LWS_USEC_PER_SEC);
	lws_sul_schedule(hs->ctx, 0, &hs->tick, on_tick, TICK_US);
	hs->vhost = lws_get_vhost_by_name(hs->ctx, "tinchi");
	hs->port = hs->vhost ? lws_get_vhost_listen_port(hs->vhost) : -1;
	if (hs->port <= 0) {
		log_err("could not find the listening port");
		rc = TC_EIO;
		goto out;
	}
	if (cfg->port_file[0]) {
		char tmp[PATH_MAX + 8];
		FILE *fp;

		snprintf(tmp, sizeof(tmp), "%s.tmp", cfg->port_file);
		fp = fopen(tmp, "w");
		if (!fp || fprintf(fp, "%d\n", hs->port) < 0 || fclose(fp) != 0 ||
		    rename(tmp, cfg->port_file) != 0) {
			log_err("cannot write port file %s: %s", cfg->port_file, strerror(errno));
			rc = TC_EIO;
			goto out;
		}
	}
	log_info("listening on %s://%s%s%s:%d/ (%s)", cfg->tls_cert[0] ? "https" : "http",
		 strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
		 strchr(cfg->listen_host, ':') ? "]" : "", hs->port,
		 cfg->http2 ? "HTTP/1.1 and HTTP/2" : "HTTP/1.1 only");
out:
	if (rc)
		http_server_destroy(app);
	return rc;
}

int
http_server_draining(const struct app *app)
{
	return app->http ? app->http->draining : 0;
}

int
http_server_port(const struct app *app)
{
	return app->http ? app->http->port : -1;
}

void
http_server_wake(struct app *app)
{
	if (app && app->http && app->http->ctx)
		lws_cancel_service(app->http->ctx);
}

int
http_server_run(struct app *app, volatile sig_atomic_t *stop, int drain_seconds)
{
	struct http_server *hs = app->http;
	int64_t deadline;

	/* one pass of the loop at a time: a signal (EINTR) or the tick ends
	 * a quiet one */
	while (!*stop)
		ev_run(hs->loop, EVRUN_ONCE);

	log_info("shutting down: %d request(s) in flight, %zu WebSocket(s)",
		 hs->inflight, ws_hub_count(app->ws));
	hs->draining = 1;
	ws_hub_close_all(app->ws);
	deadline = now_us() + (int64_t)drain_seconds * 1000000;
	while ((hs->inflight > 0 || ws_hub_count(app->ws) > 0) && now_us() < deadline)
		ev_run(hs->loop, EVRUN_ONCE);
	if (hs->inflight > 0)
		log_warn("shutdown: %d request(s) still in flight after %ds; closing them",
			 hs->inflight, drain_seconds);
	return 0;
}

void
http_server_destroy(struct app *app)
{
	struct http_server *hs = app ? app->http : NULL;

	if (!hs)
		return;
	hs->destroying = 1;
	for (struct http_stream *s = hs->streams; s; s = s->next)
		stream_gone(s);		/* a job waiting to write returns */
	workers_destroy(hs->workers);	/* before the connections go */
	hs->workers = NULL;
	workers_destroy(hs->bulk);
	hs->bulk = NULL;
	workers_destroy(hs->cpu);
	hs->cpu = NULL;
	workers_destroy(hs->batch);
	hs->batch = NULL;
	if (hs->ctx) {
		lws_sul_cancel(&hs->housekeeping);
		lws_sul_cancel(&hs->tick);
		lws_context_destroy(hs->ctx);
	}
	if (hs->loop)
		ev_loop_destroy(hs->loop);
	ws_hub_destroy(app->ws);
	app->ws = NULL;
	free(hs->conns.slot);
	free(hs->txbuf);
	free(hs);
	app->http = NULL;
}
