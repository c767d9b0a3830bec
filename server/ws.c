/* ws.c - see ws.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "server/app.h"
#include "server/config.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/version.h"
#include "server/ws.h"

struct ws_msg {
	struct ws_msg *next;
	size_t len;
	unsigned char buf[];	/* LWS_PRE bytes, then the payload */
};

struct ws_conn {
	struct ws_conn *prev, *next;	/* the hub's list */
	struct lws *wsi;
	struct app *app;
	struct ws_msg *head, *tail;
	int queued;
	struct dynbuf rx;		/* a message being assembled */
	int ping_due;			/* send a ping at the next WRITEABLE */
	int awaiting_pong;
	const char *close_reason;	/* close at the next WRITEABLE */
	int close_code;
};

struct ws_hub {
	struct app *app;
	struct ws_conn *conns;
	size_t n;
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
	if (c->queued >= c->app->cfg->ws_queue_max) {
		log_warn("ws: send queue of %p full (%d messages); closing", (void *)c->wsi, c->queued);
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
	lws_callback_on_writable(c->wsi);
	return 0;
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

/* Message types a client may send, and their handlers. */
static const struct {
	const char *type;
	int (*fn)(struct ws_conn *c, json_t *msg);
} handlers[] = {
	{ "ping", on_msg_ping },
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

static void
arm_timer(struct ws_conn *c)
{
	lws_set_timer_usecs(c->wsi, (lws_usec_t)c->app->cfg->ws_ping_interval * LWS_USEC_PER_SEC);
}

static int
on_established(struct ws_conn *c, struct lws *wsi)
{
	struct app *app = lws_context_user(lws_get_context(wsi));

	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
	c->app = app;
	dynbuf_init(&c->rx, WS_MESSAGE_MAX);
	c->next = app->ws->conns;
	if (c->next)
		c->next->prev = c;
	app->ws->conns = c;
	app->ws->n++;
	metrics_websockets(app->metrics, 1);
	arm_timer(c);
	return send_json(c, json_pack("{s:s, s:s, s:s, s:i}", "type", "hello",
				      "protocol", WS_PROTOCOL, "version", TINCHI_VERSION,
				      "max_message", WS_MESSAGE_MAX)) == TC_ENOMEM ? -1 : 0;
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
	c->awaiting_pong = 0;
	arm_timer(c);
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
	free(m);
	if (c->head)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
on_timer(struct ws_conn *c)
{
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

/*
 * The last word on a new WebSocket, on every path to one: HTTP/1.1
 * upgrades (already checked in http.c) and HTTP/2 extended CONNECT streams
 * (RFC 8441), which lws turns into WebSockets without asking http.c.
 */
static int
on_filter(struct lws *wsi)
{
	struct app *app = lws_context_user(lws_get_context(wsi));
	char path[64] = "", proto[128] = "";
	enum lws_token_indexes t = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0
				   ? WSI_TOKEN_GET_URI : WSI_TOKEN_HTTP_COLON_PATH;

	if (lws_hdr_copy(wsi, path, sizeof(path), t) < 0 ||
	    lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) < 0)
		return 1;
	if (strcmp(path, "/ws") != 0 || !strstr(proto, WS_PROTOCOL) ||
	    http_server_draining(app)) {
		log_info("ws: refused a WebSocket for %s (protocol '%s')", path, proto);
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
		return on_filter(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(c, wsi);
	case LWS_CALLBACK_RECEIVE:
		return on_receive(c, wsi, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		c->awaiting_pong = 0;
		arm_timer(c);
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
