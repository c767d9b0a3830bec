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
 * Who is connected. The handshake is identified by the rules of HTTP
 * requests (server/auth.h): the session cookie (tinchi_session, or
 * __Host-tinchi_session under TLS) or "Authorization: Bearer tct_...".
 *   - no credentials (or a session that has ended): an anonymous
 *     connection, which gets public messages only;
 *   - an Authorization header naming no active token (or not Bearer):
 *     refused, 401 with WWW-Authenticate;
 *   - signed in by cookie: the Origin header must be absent or the site
 *     itself (scheme, host and port of the Host header; https under TLS),
 *     else refused with 403, so no other site's page can open a WebSocket
 *     with its visitor's cookie (cross-site WebSocket hijacking).
 * A refusal is an HTTP/1.1 problem+json answer, then the connection closes;
 * an HTTP/2 stream (RFC 8441) is reset instead.
 * The identity is fixed for the connection's life: signing out, a session
 * expiring or a token being revoked later does not close or downgrade a
 * connection already open. An API token acts for its institution, not for
 * a person: such a connection has no person.
 *
 * On connect the server sends
 *   {"type":"hello","protocol":"tinchi.v1","version":"...",
 *    "max_message":65536,"person":"<person uid>" | null,
 *    "auth":"session" | "token" | "none"}
 *
 * Client messages now:
 *   {"type":"ping","id":X}  ->  {"type":"pong","id":X,"time":<unix ms>}
 *   {"type":"progress",...} ->  {"type":"ack",...} or an error
 *                              (server/api_progress.h, README "Learning progress")
 * Anything else gets {"type":"error","error":...,"detail":...} and the
 * connection stays open; a frame that is not JSON, or over 64 KiB, closes it
 * (1007 / 1009).
 *
 * Server-pushed events are messages whose "type" names the event, sent to
 * the connections of the person concerned (ws_notify_person), e.g. the
 * progress of a material's media processing:
 *   {"type":"media.progress","material":"<uid>","state":"running",
 *    "stage":"package","percent":42,"error":null}
 * (defined with the media pipeline). Clients ignore types they do not know.
 */
#ifndef TINCHI_WS_H
#define TINCHI_WS_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * Queues TEXT (copied) to the open connection number SERIAL (unique in the
 * process) of PERSON_ID, found through the person hash. Returns as
 * ws_send, or TC_ENOTFOUND when that connection has closed. Service thread.
 */
int ws_send_to(struct ws_hub *hub, int64_t person_id, uint64_t serial, const char *text,
	       size_t len);

/* The progress state of that connection; NULL when it has closed. */
struct progress_conn *ws_progress_conn(struct ws_hub *hub, int64_t person_id, uint64_t serial);

/*
 * Queues TEXT (copied) to every open connection signed in as PERSON_ID
 * (> 0), using ws_send's queue rules. Service thread only. Returns how many
 * connections got it. Finds them through a hash table by person id, not by
 * walking every connection.
 */
size_t ws_notify_person(struct ws_hub *hub, int64_t person_id, const char *text, size_t len);

/* Closes every connection with 1001 (going away), for shutdown. */
void ws_hub_close_all(struct ws_hub *hub);

/* The lws protocol callback and its per-session size, for the protocols table. */
int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		void *in, size_t len);
size_t ws_session_size(void);

#endif
