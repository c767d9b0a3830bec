/* ws.c - see ws.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/problem.h"
#include "server/request.h"
#include "server/version.h"
#include "server/ws.h"
#include "server/api_progress.h"
#include "storage/identity.h"

struct ws_msg {
	struct ws_msg *next;
	size_t len;
	unsigned char buf[];	/* LWS_PRE bytes, then the payload */
};

/* Bytes of answers queued to one connection before it is closed (1008). */
#define WS_QUEUE_BYTES_MAX ((size_t)1 << 20)

struct ws_conn {
	struct ws_conn *prev, *next;	/* the hub's list */
	struct lws *wsi;
	struct app *app;
	struct ws_msg *head, *tail;
	int queued;
	size_t queued_bytes;		/* of the queued messages' texts */
	struct dynbuf rx;		/* a message being assembled */
	int64_t last_rx_us;		/* monotonic time of the last frame received */
	int ping_due;			/* send a ping at the next WRITEABLE */
	int awaiting_pong;
	const char *close_reason;	/* close at the next WRITEABLE */
	int close_code;
	/* Who is connected, fixed at the handshake (on_filter). */
	enum actor_kind auth;		/* ACTOR_NONE: anonymous */
	int64_t person_id;		/* > 0 when signed in as a person */
	char person_uid[37];
	struct ws_conn *pnext, **pprev;	/* the hub's chain for person_id */
	struct progress_conn progress;	/* "progress" messages: seq, rate */
	uint64_t serial;		/* this connection, unique in the process */
};

/*
 * Open connections: one list of all, and the signed-in ones again in a
 * hash table by person id (chained through pnext/pprev, power-of-two
 * buckets, at most one connection per bucket on average).
 */
struct ws_hub {
	struct app *app;
	struct ws_conn *conns;
	size_t n;
	struct ws_conn **people;	/* NULL until the first signed-in connection */
	size_t nbuckets, npeople;
	uint64_t serials;		/* the last serial given */
};

int
ws_hub_create(struct app *app, struct ws_hub **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return TC_ENOMEM;
	(*out)->app = app;
	return 0;
}

void
ws_hub_destroy(struct ws_hub *hub)
{
	if (!hub)
		return;
	free(hub->people);
	free(hub);
}

size_t
ws_hub_count(const struct ws_hub *hub)
{
	return hub ? hub->n : 0;
}

size_t
ws_session_size(void)
{
	return sizeof(struct ws_conn);
}

/* ---- the index by person ----------------------------------------------- */

static size_t
person_bucket(int64_t person_id, size_t nbuckets)
{
	uint64_t h = (uint64_t)person_id * 0x9E3779B97F4A7C15ull;

	return (size_t)(h ^ (h >> 32)) & (nbuckets - 1);
}

static void
chain_push(struct ws_conn **head, struct ws_conn *c)
{
	c->pnext = *head;
	if (c->pnext)
		c->pnext->pprev = &c->pnext;
	c->pprev = head;
	*head = c;
}

/* Doubles the table (64 buckets at first). On failure the old one stays. */
static int
people_grow(struct ws_hub *hub)
{
	size_t n = hub->nbuckets ? hub->nbuckets * 2 : 64;
	struct ws_conn **t = calloc(n, sizeof(*t));

	if (!t)
		return TC_ENOMEM;
	for (size_t i = 0; i < hub->nbuckets; i++)
		while (hub->people[i]) {
			struct ws_conn *c = hub->people[i];

			hub->people[i] = c->pnext;
			chain_push(&t[person_bucket(c->person_id, n)], c);
		}
	free(hub->people);
	hub->people = t;
	hub->nbuckets = n;
	return 0;
}

/* Indexes C by its person_id (> 0). Returns 0 or TC_ENOMEM (C not indexed). */
static int
people_add(struct ws_hub *hub, struct ws_conn *c)
{
	/* a failed growth only lengthens the chains, unless there is no table */
	if (hub->npeople >= hub->nbuckets && people_grow(hub) && !hub->nbuckets)
		return TC_ENOMEM;
	chain_push(&hub->people[person_bucket(c->person_id, hub->nbuckets)], c);
	hub->npeople++;
	return 0;
}

static void
people_remove(struct ws_hub *hub, struct ws_conn *c)
{
	if (!c->pprev)
		return;
	*c->pprev = c->pnext;
	if (c->pnext)
		c->pnext->pprev = c->pprev;
	c->pnext = NULL;
	c->pprev = NULL;
	hub->npeople--;
}

/* ---- sending ------------------------------------------------------------- */

static void
begin_close(struct ws_conn *c, int code, const char *reason)
{
	if (c->close_reason)
		return;
	c->close_code = code;
	c->close_reason = reason;
	lws_callback_on_writable(c->wsi);
}

int
ws_send(struct ws_conn *c, const char *text, size_t len)
{
	struct ws_msg *m;

	if (c->close_reason)
		return TC_EBUSY;
	/* a reader this far behind is closed: by count, and by bytes, as an
	 * answer can echo most of a 64 KiB message (256 of them were 16 MiB) */
	if (c->queued >= c->app->cfg->ws_queue_max || c->queued_bytes + len > WS_QUEUE_BYTES_MAX) {
		log_warn("ws: send queue of %p full (%d messages, %zu bytes); closing", (void *)c->wsi,
			 c->queued, c->queued_bytes);
		begin_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "send queue full");
		return TC_EBUSY;
	}
	m = malloc(sizeof(*m) + LWS_PRE + len);
	if (!m)
		return TC_ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	if (c->tail)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	c->queued++;
	c->queued_bytes += len;
	lws_callback_on_writable(c->wsi);
	return 0;
}

static struct ws_conn *
find_conn(struct ws_hub *hub, int64_t person_id, uint64_t serial)
{
	if (!hub || person_id <= 0 || !hub->nbuckets)
		return NULL;
	for (struct ws_conn *c = hub->people[person_bucket(person_id, hub->nbuckets)]; c;
	     c = c->pnext)
		if (c->person_id == person_id && c->serial == serial)
			return c;
	return NULL;
}

int
ws_send_to(struct ws_hub *hub, int64_t person_id, uint64_t serial, const char *text,
	   size_t len)
{
	struct ws_conn *c = find_conn(hub, person_id, serial);

	return c ? ws_send(c, text, len) : TC_ENOTFOUND;
}

struct progress_conn *
ws_progress_conn(struct ws_hub *hub, int64_t person_id, uint64_t serial)
{
	struct ws_conn *c = find_conn(hub, person_id, serial);

	return c ? &c->progress : NULL;
}

size_t
ws_notify_person(struct ws_hub *hub, int64_t person_id, const char *text, size_t len)
{
	size_t sent = 0;

	if (!hub || person_id <= 0 || !hub->nbuckets)
		return 0;
	for (struct ws_conn *c = hub->people[person_bucket(person_id, hub->nbuckets)]; c;
	     c = c->pnext)
		if (c->person_id == person_id && ws_send(c, text, len) == 0)
			sent++;
	return sent;
}

/* Sends O (stolen) as one message. */
static int
send_json(struct ws_conn *c, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = text ? ws_send(c, text, strlen(text)) : TC_ENOMEM;

	free(text);
	json_decref(o);
	return rc;
}

static int
send_error(struct ws_conn *c, const char *error, const char *detail)
{
	return send_json(c, json_pack("{s:s, s:s, s:s}", "type", "error",
				      "error", error, "detail", detail));
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
on_msg_ping(struct ws_conn *c, json_t *msg)
{
	json_t *id = json_object_get(msg, "id");
	json_t *o = json_pack("{s:s, s:I}", "type", "pong", "time", (json_int_t)now_ms());

	if (o && id)
		json_object_set(o, "id", id);
	return send_json(c, o);
}

/* {"type":"progress",...}: server/api_progress.c answers (ack or error). */
static int
on_msg_progress(struct ws_conn *c, json_t *msg)
{
	char *reply = NULL;
	int rc = api_progress_ws(c->app, c->person_id, c->serial, &c->progress, msg, &reply);

	if (rc == 0 && reply)
		rc = ws_send(c, reply, strlen(reply));
	free(reply);
	return rc;
}

/* Message types a client may send, and their handlers. */
static const struct {
	const char *type;
	int (*fn)(struct ws_conn *c, json_t *msg);
} handlers[] = {
	{ "ping", on_msg_ping },
	{ "progress", on_msg_progress },
};

static int
on_message(struct ws_conn *c, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type;
	int rc = 0;

	metrics_ws_message(c->app->metrics, 1);
	if (!msg || !json_is_object(msg)) {
		json_decref(msg);
		begin_close(c, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "message is not a JSON object");
		return 0;
	}
	type = json_string_value(json_object_get(msg, "type"));
	if (!type) {
		rc = send_error(c, "invalid", "a message needs a string \"type\"");
		goto out;
	}
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].type, type) == 0) {
			rc = handlers[i].fn(c, msg);
			goto out;
		}
	rc = send_error(c, "unknown_type", "this message type is not known");
out:
	json_decref(msg);
	return rc == TC_ENOMEM ? -1 : 0;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
arm_timer(struct ws_conn *c)
{
	lws_set_timer_usecs(c->wsi, (lws_usec_t)c->app->cfg->ws_ping_interval * LWS_USEC_PER_SEC);
}

/*
 * A frame arrived: the connection is alive. Only noted here: re-arming the
 * timer on every frame would cost a walk of lws's sorted timer list (one
 * entry per connection) per message; on_timer looks at the time instead.
 */
static void
note_rx(struct ws_conn *c)
{
	c->awaiting_pong = 0;
	c->last_rx_us = mono_us();
}

static const char *
auth_name(enum actor_kind k)
{
	return k == ACTOR_PERSON ? "session" : k == ACTOR_TOKEN ? "token" : "none";
}

/* C already holds its identity (on_filter); the rest starts here. */
static int
on_established(struct ws_conn *c, struct lws *wsi)
{
	struct app *app = lws_context_user(lws_get_context(wsi));

	c->serial = ++app->ws->serials;
	if (c->person_id > 0 && people_add(app->ws, c))
		return -1;
	c->wsi = wsi;
	c->app = app;
	progress_conn_init(&c->progress);
	dynbuf_init(&c->rx, WS_MESSAGE_MAX);
	c->next = app->ws->conns;
	if (c->next)
		c->next->prev = c;
	app->ws->conns = c;
	app->ws->n++;
	metrics_websockets(app->metrics, 1);
	c->last_rx_us = mono_us();
	arm_timer(c);
	return send_json(c, json_pack("{s:s, s:s, s:s, s:i, s:s?, s:s}", "type", "hello",
				      "protocol", WS_PROTOCOL, "version", TINCHI_VERSION,
				      "max_message", WS_MESSAGE_MAX,
				      "person", c->person_id > 0 ? c->person_uid : NULL,
				      "auth", auth_name(c->auth))) == TC_ENOMEM ? -1 : 0;
}

static void
on_closed(struct ws_conn *c)
{
	struct ws_hub *hub;

	if (!c->app)
		return;
	hub = c->app->ws;
	if (c->prev)
		c->prev->next = c->next;
	else
		hub->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	hub->n--;
	people_remove(hub, c);
	metrics_websockets(c->app->metrics, -1);
	while (c->head) {
		struct ws_msg *m = c->head;
		c->head = m->next;
		free(m);
	}
	c->tail = NULL;
	dynbuf_cleanup(&c->rx);
	c->app = NULL;
}

static int
on_receive(struct ws_conn *c, struct lws *wsi, const void *in, size_t len)
{
	note_rx(c);
	if (lws_frame_is_binary(wsi)) {
		begin_close(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text frames only");
		return 0;
	}
	if (dynbuf_append(&c->rx, in, len)) {
		begin_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message over 64 KiB");
		return 0;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	int rc = on_message(c, c->rx.data ? c->rx.data : "", c->rx.len);
	dynbuf_reset(&c->rx);
	return rc;
}

static int
on_writeable(struct ws_conn *c, struct lws *wsi)
{
	unsigned char ping[LWS_PRE + 8];
	struct ws_msg *m;

	if (c->close_reason) {
		lws_close_reason(wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)(uintptr_t)c->close_reason,
				 strlen(c->close_reason));
		return -1;
	}
	if (c->ping_due) {
		c->ping_due = 0;
		/* Never an empty payload: lws 4.1.6 drops an empty pong without
		 * LWS_CALLBACK_RECEIVE_PONG, and clients echo what we send. */
		memcpy(ping + LWS_PRE, "tinchi.p", 8);
		if (lws_write(wsi, ping + LWS_PRE, 8, LWS_WRITE_PING) < 0)
			return -1;
		if (c->head)
			lws_callback_on_writable(wsi);
		return 0;
	}
	m = c->head;
	if (!m)
		return 0;
	if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
		return -1;
	metrics_ws_message(c->app->metrics, 0);
	c->head = m->next;
	if (!c->head)
		c->tail = NULL;
	c->queued--;
	c->queued_bytes -= m->len;
	free(m);
	if (c->head)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
on_timer(struct ws_conn *c)
{
	int64_t interval = (int64_t)c->app->cfg->ws_ping_interval * 1000000;
	int64_t quiet = mono_us() - c->last_rx_us;

	if (quiet >= 0 && quiet < interval) {
		/* heard from within the interval: wait out the rest of it */
		lws_set_timer_usecs(c->wsi, (lws_usec_t)(interval - quiet));
		return 0;
	}
	if (c->awaiting_pong) {
		log_info("ws: %p sent nothing for two ping intervals; closing", (void *)c->wsi);
		return -1;
	}
	c->awaiting_pong = 1;
	c->ping_due = 1;
	lws_callback_on_writable(c->wsi);
	arm_timer(c);
	return 0;
}

void
ws_hub_close_all(struct ws_hub *hub)
{
	for (struct ws_conn *c = hub ? hub->conns : NULL; c; c = c->next)
		begin_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
}

static void
copy_hdr(struct lws *wsi, char *dst, size_t len, enum lws_token_indexes tok)
{
	if (lws_hdr_total_length(wsi, tok) <= 0 ||
	    lws_hdr_copy(wsi, dst, (int)len, tok) < 0)
		dst[0] = '\0';
}

/*
 * Splits the N bytes at S, "host[:port]" or "[v6]:port", into HOST and
 * *PORT (0 when none is given). Returns 0, or -1 when malformed.
 */
static int
split_authority(const char *s, size_t n, char *host, size_t hostsize, long *port)
{
	const char *e = s + n, *colon;
	size_t hl;

	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb || (rb + 1 < e && rb[1] != ':'))
			return -1;
		colon = rb + 1 < e ? rb + 1 : NULL;
	} else
		colon = memchr(s, ':', n);
	hl = colon ? (size_t)(colon - s) : n;
	if (hl == 0 || hl >= hostsize)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = 0;
	if (!colon)
		return 0;
	if (colon + 1 == e || e - colon > 6)
		return -1;
	for (const char *d = colon + 1; d < e; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		*port = *port * 10 + (*d - '0');
	}
	return *port >= 1 && *port <= 65535 ? 0 : -1;
}

/*
 * 1 when the handshake's Origin is absent or names the host the client
 * addressed (Host, or :authority over HTTP/2): same host, same port, and
 * https under TLS (http or https otherwise, for a TLS-terminating proxy).
 * Host names compare without case; a missing port is the scheme's.
 */
static int
origin_allowed(struct lws *wsi, int tls)
{
	char origin[256], authority[256], ohost[256], hhost[256];
	const char *rest;
	long oport, hport, defport;
	enum lws_token_indexes t = lws_hdr_total_length(wsi, WSI_TOKEN_HOST) > 0
				   ? WSI_TOKEN_HOST : WSI_TOKEN_HTTP_COLON_AUTHORITY;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
		return 1;
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0 ||
	    lws_hdr_total_length(wsi, t) <= 0 ||
	    lws_hdr_copy(wsi, authority, sizeof(authority), t) < 0)
		return 0;
	if (strncasecmp(origin, "https://", 8) == 0) {
		rest = origin + 8;
		defport = 443;
	} else if (!tls && strncasecmp(origin, "http://", 7) == 0) {
		rest = origin + 7;
		defport = 80;
	} else
		return 0;
	if (split_authority(rest, strlen(rest), ohost, sizeof(ohost), &oport) ||
	    split_authority(authority, strlen(authority), hhost, sizeof(hhost), &hport))
		return 0;
	return strcasecmp(ohost, hhost) == 0 &&
	       (oport ? oport : defport) == (hport ? hport : defport);
}

/*
 * Identifies the handshake by the rules of HTTP requests (auth_identify)
 * and fills C's identity. Returns 0, or the HTTP status of a refusal with
 * *DETAIL saying why; C's identity is then unset.
 */
static int
identify(struct lws *wsi, struct app *app, struct ws_conn *c, const char **detail)
{
	struct http_request *req = NULL;
	struct person p;
	int status = 0, rc;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) >= (int)sizeof(req->authorization) ||
	    lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE) >= (int)sizeof(req->cookie)) {
		*detail = "the Authorization or Cookie header is too long";
		return 431;
	}
	req = malloc(sizeof(*req));
	if (!req) {
		*detail = "the server is out of memory";
		return 503;
	}
	http_request_init(req, 0);
	copy_hdr(wsi, req->authorization, sizeof(req->authorization), WSI_TOKEN_HTTP_AUTHORIZATION);
	copy_hdr(wsi, req->cookie, sizeof(req->cookie), WSI_TOKEN_HTTP_COOKIE);
	req->tls = lws_is_ssl(wsi);
	rc = auth_identify(app, req, (int64_t)time(NULL));
	if (rc == TC_EUNAUTH) {
		status = 401;
		*detail = "the API token is unknown or revoked";
		goto out;
	}
	if (rc) {
		status = problem_status_for(rc);
		*detail = "could not check who is asking";
		goto out;
	}
	/* a cookie rides along from any site's page: cross-site WebSocket
	 * hijacking is stopped here, as CSRF tokens stop it for HTTP */
	if (req->session_token[0] && !origin_allowed(wsi, req->tls)) {
		status = 403;
		*detail = "a signed-in WebSocket must come from this site (Origin)";
		goto out;
	}
	if (req->actor.kind == ACTOR_PERSON) {
		rc = store_person_get(app->store, req->actor.person_id, &p);
		if (rc) {
			status = problem_status_for(rc == TC_ENOTFOUND ? TC_EDB : rc);
			*detail = "could not check who is asking";
			goto out;
		}
		c->person_id = req->actor.person_id;
		memcpy(c->person_uid, p.uid, sizeof(c->person_uid));
		c->person_uid[sizeof(c->person_uid) - 1] = '\0';
	}
	c->auth = req->actor.kind;
out:
	http_request_cleanup(req);
	free(req);
	return status;
}

/*
 * Answers a refused HTTP/1.1 upgrade with STATUS and a problem body; the
 * caller then hangs up. At this point lws has switched the connection to
 * its ws role, whose lws_write sends LWS_WRITE_HTTP* bytes as they are.
 * An HTTP/2 stream (RFC 8441) cannot be answered from here: lws resets it.
 */
static void
refuse(struct lws *wsi, struct app *app, int status, const char *detail)
{
	unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof(buf);
	static const char bearer[] = "Bearer realm=\"tinchi\", error=\"invalid_token\"";
	struct http_response r;
	int64_t sent = 0;

	log_info("ws: refused a WebSocket with %d: %s", status, detail);
	http_response_init(&r);
	if (lws_get_network_wsi(wsi) != wsi)
		goto out;
	problem_respond(&r, status, NULL, detail);
	if (lws_add_http_header_status(wsi, (unsigned)status, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)r.content_type,
					 (int)strlen(r.content_type), &p, end) ||
	    lws_add_http_header_content_length(wsi, (lws_filepos_t)r.body.len, &p, end) ||
	    (status == 401 &&
	     lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
					 (const unsigned char *)bearer, (int)strlen(bearer),
					 &p, end)) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
					 (const unsigned char *)"close", 5, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end) ||
	    (size_t)(end - p) < r.body.len)
		goto out;
	if (r.body.len)
		memcpy(p, r.body.data, r.body.len);
	p += r.body.len;
	if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) >= 0)
		sent = (int64_t)r.body.len;
out:
	metrics_request(app->metrics, "upgrade_refused", status, 0, sent);
	http_response_cleanup(&r);
}

/*
 * The last word on a new WebSocket, on every path to one: HTTP/1.1
 * upgrades (path and subprotocol already checked in http.c) and HTTP/2
 * extended CONNECT streams (RFC 8441), which lws turns into WebSockets
 * without asking http.c. The request headers are still readable here, and
 * nothing has been answered yet, so this is where the connection learns
 * who is on the other end. Non-zero refuses.
 */
static int
on_filter(struct ws_conn *c, struct lws *wsi)
{
	struct app *app = lws_context_user(lws_get_context(wsi));
	char path[64] = "", proto[128] = "";
	enum lws_token_indexes t = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0
				   ? WSI_TOKEN_GET_URI : WSI_TOKEN_HTTP_COLON_PATH;
	const char *detail = NULL;
	int status;

	if (lws_hdr_copy(wsi, path, sizeof(path), t) < 0 ||
	    lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) < 0)
		return 1;
	if (strcmp(path, "/ws") != 0 || !strstr(proto, WS_PROTOCOL) ||
	    http_server_draining(app)) {
		log_info("ws: refused a WebSocket for %s (protocol '%s')", path, proto);
		return 1;
	}
	memset(c, 0, sizeof(*c));
	status = identify(wsi, app, c, &detail);
	if (status) {
		refuse(wsi, app, status, detail);
		return 1;
	}
	return 0;
}

int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
	    void *in, size_t len)
{
	struct ws_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return on_filter(c, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(c, wsi);
	case LWS_CALLBACK_RECEIVE:
		return on_receive(c, wsi, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		note_rx(c);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_TIMER:
		return on_timer(c);
	case LWS_CALLBACK_CLOSED:
		on_closed(c);
		return 0;
	default:
		return 0;
	}
}
