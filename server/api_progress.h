/*
 * api_progress.h - learning progress over HTTP and the WebSocket.
 *
 *   POST /api/v1/units/{uid}/progress         one event, or {"events":[...]} (<= 100)
 *   GET  /api/v1/units/{uid}/progress         the caller's progress in a unit
 *   GET  /api/v1/courses/{uid}/progress/me    every unit of a course with it
 *   GET  /api/v1/units/{uid}                  a unit (reading it writes nothing)
 *   POST /api/v1/units/{uid}/read             a text or document unit was opened:
 *                                             viewed, so complete
 *
 * plus the WebSocket message {"type":"progress",...} (api_progress_ws),
 * the hook that records what /media/ delivered (api_progress_segment: its
 * URLs carry a stream token only a same-origin API answer hands out), and
 * the one place a unit becomes complete (progress_unit_completed). The rules are in
 * courses/progress.h; the rows in storage/progress.h.
 */
#ifndef TINCHI_API_PROGRESS_H
#define TINCHI_API_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/progress_seq.h"
#include "server/router.h"

struct app;
struct course;
struct progress_job;
struct store;
struct material;
struct unit;

#define PROGRESS_WS_RATE 50	/* progress messages a connection may send a second */
#define PROGRESS_EVENTS_MAX 100	/* events in one HTTP POST */

/* What one WebSocket connection remembers (embedded in ws.c's connection). */
struct progress_conn {
	struct progress_seqs seqs;	/* which seqs were applied */
	int64_t window_ms;		/* start of the current one-second window */
	int count;			/* messages in it */
	int pending;			/* queued to the writer, not yet answered */
};

void progress_conn_init(struct progress_conn *pc);

/*
 * Handles one {"type":"progress",...} message of connection SERIAL (ws.h),
 * signed in as PERSON_ID (0: anonymous or token). The message is checked
 * here and queued to the writer (server/progress_writer.h), which answers
 * it after its batch commits (api_progress_ws_done); *REPLY is then NULL.
 * An answer due at once (rate, a malformed message, the queue full) comes
 * in *REPLY (allocated) to send back, or, while earlier messages of the
 * connection wait for their answers, goes through the writer behind them,
 * so that answers keep the order of the messages. Returns 0 or TC_ENOMEM.
 */
int api_progress_ws(struct app *app, int64_t person_id, uint64_t serial,
		    struct progress_conn *pc, json_t *msg, char **reply);

/* Writer thread: runs the jobs of list HEAD on ST inside the open
 * transaction of their batch, answering each, and writes their learning
 * records (xAPI "initialized", "progressed") in the same transaction; APP
 * is read for its configuration only (NULL: no records). Non-zero: a
 * database error (or no memory) that fails the whole batch. */
int api_progress_batch(struct app *app, struct store *st, struct progress_job *head);

/* Service thread: sends the answer of job J of a committed (or failed)
 * batch to its connection, keeps the connection's seq in step, and
 * announces a unit completed by it (progress_unit_completed). */
void api_progress_ws_done(struct app *app, struct progress_job *j);

/*
 * Called exactly once when UNIT becomes complete for PERSON_ID, after the
 * commit: pushes {"type":"unit.completed","unit":UID,"course":UID} to the
 * person's connections. Course completion hooks in here later.
 */
void progress_unit_completed(struct app *app, int64_t person_id, const struct unit *u);

/*
 * /media/ (server/api_media.c): when RESP carries the whole of segment
 * DIR/NAME of lecture UID (SIZE bytes) for VIEWER (a person uid, "-": none),
 * arranges for its time span to be added to that person's deliveries once
 * the body has been sent in full.
 */
void api_progress_segment(struct app *app, struct http_response *resp, const char *uid,
			  const char *dir, const char *name, const char *viewer, int64_t size);

/* The probed duration of the ready lecture MATERIAL_ID in ms (0: not known:
 * not ready, not probed, or no such material). */
int64_t api_progress_duration_ms(struct store *st, int64_t material_id);

/* Frees the playlist cache (api_cleanup). */
void api_progress_cleanup(struct app *app);

extern const struct route api_progress_routes[];
extern const size_t api_progress_routes_count;

#endif
