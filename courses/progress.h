/*
 * progress.h - learning progress of one learner in one unit: the events a
 * player reports, how they change the watched ranges and the resume
 * position, and when a unit counts as completed. Pure domain: no storage,
 * no transport (server/progress.c wires it to both).
 *
 * An event (the WebSocket message or the HTTP body, seconds as numbers):
 *   {"event":"heartbeat","position":123.4,"from":118.4,"to":123.4,
 *    "at":1764500000000,"duration":600.0}
 * event is play, pause, seek, heartbeat or ended; from/to is the span played
 * since the previous report (required for heartbeat, optional otherwise);
 * at is the client's clock in ms (optional: the server's time); duration is
 * optional and used only when the media has no probed duration.
 *
 * Rules (progress_event_check): 0 <= from < to, to - from <= 120 s,
 * position, from and to within [0, duration + 1 s].
 *
 * Completion of a video: the watched ranges intersected with the ranges
 * actually delivered to the learner (whole HLS segments sent through
 * /media/) cover at least THRESHOLD percent of the duration. What a client
 * claims alone never completes a unit.
 */
#ifndef TINCHI_PROGRESS_H
#define TINCHI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "courses/ranges.h"

#define PROGRESS_THRESHOLD_DEFAULT 90	/* percent of a video for completion */
#define PROGRESS_SPAN_MAX_MS 120000	/* longest span one report may claim */
#define PROGRESS_SLACK_MS 1000		/* positions may pass the duration by this */
#define PROGRESS_WHY_MAX 160

enum progress_kind {
	PROGRESS_PLAY,
	PROGRESS_PAUSE,
	PROGRESS_SEEK,
	PROGRESS_HEARTBEAT,
	PROGRESS_ENDED,
};

struct progress_event {
	enum progress_kind kind;
	int64_t position_ms;
	int has_span;
	int64_t from_ms, to_ms;		/* when has_span */
	int64_t at_ms;			/* client clock, or the server's when absent */
	int64_t duration_ms;		/* as the client claims; 0 when absent */
};

/*
 * Reads an event from the JSON object O (other members such as "type",
 * "seq" and "unit" are ignored). NOW_MS stands in for an absent "at". On
 * failure writes the reason into WHY and returns TC_EINVALID.
 */
int progress_event_parse(const json_t *o, int64_t now_ms, struct progress_event *ev,
			 char *why, size_t whylen);

/* Checks EV against the media's DURATION_MS (> 0). TC_EINVALID with WHY. */
int progress_event_check(const struct progress_event *ev, int64_t duration_ms, char *why,
			 size_t whylen);

/* What a unit's progress holds (the domain side of a storage row). */
struct progress_state {
	struct ranges watched;
	int64_t position_ms, position_at, duration_ms;
	double percent;
	int64_t viewed_at, completed_at;
};

/*
 * Applies a checked event: adds its span (clipped to DURATION_MS) to the
 * watched ranges, moves the position when EV->at_ms is not older than the
 * one that set it last, sets the duration and the percent. TC_ETOOBIG
 * (the watched set is full) or TC_ENOMEM leave ST unchanged.
 */
int progress_apply(struct progress_state *st, const struct progress_event *ev,
		   int64_t duration_ms);

/*
 * The pace of watching: the watched time credited to one learner in one
 * unit grows at most PROGRESS_PACE_RATE_PERMILLE / 1000 times as fast as
 * the server's clock (the player's fastest rate, 2x, plus 10 %), with a
 * credit of PROGRESS_PACE_BURST_MS held at most (so a reconnection that
 * sends minutes of unacked reports at once, or rewatching, loses nothing).
 * The credit is kept with the progress row (storage/progress.h pace_ms,
 * pace_at), so it holds across connections, devices and the HTTP route.
 */
#define PROGRESS_PACE_RATE_PERMILLE 2200
#define PROGRESS_PACE_BURST_MS 600000

/*
 * The credit (ms of media) at NOW_MS of a row that held CREDIT_MS at AT_MS
 * (server ms; 0: never paced, a new row: the whole burst): refilled at the
 * pace rate since AT_MS, at most PROGRESS_PACE_BURST_MS. A clock that went
 * back refills nothing.
 */
int64_t progress_pace_credit(int64_t credit_ms, int64_t at_ms, int64_t now_ms);

/*
 * progress_apply with the pace: of EV's span, only what is new to the
 * watched ranges counts against *CREDIT_MS, earliest first; the part past
 * the credit is not added (the rest of the event applies). *CREDIT_MS
 * drops by what was added; *CLIPPED_MS (may be NULL) grows by what was
 * not. CREDIT_MS NULL: no limit (progress_apply).
 */
int progress_apply_paced(struct progress_state *st, const struct progress_event *ev,
			 int64_t duration_ms, int64_t *credit_ms, int64_t *clipped_ms);

/* Percent (0..100, one decimal) of DURATION_MS that R covers. */
double progress_percent(const struct ranges *r, int64_t duration_ms);

/* 1 when WATCHED ∩ DELIVERED covers THRESHOLD percent of DURATION_MS (> 0). */
int progress_video_complete(const struct ranges *watched, const struct ranges *delivered,
			    int64_t duration_ms, int threshold);

/* "play", "pause", ... */
const char *progress_kind_name(enum progress_kind k);

#endif
