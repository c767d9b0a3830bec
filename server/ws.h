/*
 * ws.h - the WebSocket endpoint /ws, subprotocol "tinchi.v1".
 *
 * Messages are JSON text frames: {"type": "...", ...}. Every connection has
 * a send queue capped at config ws_queue_max messages; a reader that falls
 * further behind is closed (1008, "send queue full") rather than allowed to
 * grow the server's memory. The server pings a connection that has been
 * silent for ws_ping_interval seconds and closes it when no pong (or other
 * frame) arrives within another interval.
 *
 * Client messages now:
 *   {"type":"ping","id":X}  ->  {"type":"pong","id":X,"time":<unix ms>}
 * On connect the server sends {"type":"hello","protocol":"tinchi.v1",...}.
 * Anything else gets {"type":"error","error":...,"detail":...} and the
 * connection stays open; a frame that is not JSON, or over 64 KiB, closes it
 * (1007 / 1009).
 */
#ifndef TINCHI_WS_H
#define TINCHI_WS_H

#include <stddef.h>

#include <libwebsockets.h>

#define WS_PROTOCOL "tinchi.v1"
#define WS_MESSAGE_MAX (64 * 1024)

struct app;
struct ws_hub;
struct ws_conn;

/* The registry of open connections. Returns 0 or TC_ENOMEM. */
int ws_hub_create(struct app *app, struct ws_hub **out);
void ws_hub_destroy(struct ws_hub *hub);	/* accepts NULL */
size_t ws_hub_count(const struct ws_hub *hub);

/*
 * Queues one text message (copied) to C. Returns 0, TC_ENOMEM, or TC_EBUSY
 * when the queue is full, in which case the connection is being closed.
 * Service thread only.
 */
int ws_send(struct ws_conn *c, const char *text, size_t len);

/* Closes every connection with 1001 (going away), for shutdown. */
void ws_hub_close_all(struct ws_hub *hub);

/* The lws protocol callback and its per-session size, for the protocols table. */
int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		void *in, size_t len);
size_t ws_session_size(void);

#endif
