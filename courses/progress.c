/* progress.c - progress events and the completion rule (courses/progress.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/progress.h"

static const char *const kinds[] = { "play", "pause", "seek", "heartbeat", "ended" };

const char *
progress_kind_name(enum progress_kind k)
{
	return (unsigned)k < sizeof(kinds) / sizeof(kinds[0]) ? kinds[k] : "?";
}

static int
fail(char *why, size_t whylen, const char *text)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", text);
	return TC_EINVALID;
}

/* Seconds member KEY of O into *MS: 0, TC_ENOTFOUND (absent) or TC_EINVALID. */
static int
seconds(const json_t *o, const char *key, int64_t *ms)
{
	json_t *v = json_object_get(o, key);
	double d;

	if (!v)
		return TC_ENOTFOUND;
	if (!json_is_number(v))
		return TC_EINVALID;
	d = json_number_value(v);
	if (!isfinite(d) || d < 0 || d * 1000.0 > (double)RANGES_END_MAX)
		return TC_EINVALID;
	*ms = (int64_t)llround(d * 1000.0);
	return 0;
}

int
progress_event_parse(const json_t *o, int64_t now_ms, struct progress_event *ev, char *why,
		     size_t whylen)
{
	const char *name = json_string_value(json_object_get(o, "event"));
	json_t *at = json_object_get(o, "at");
	int rc_from, rc_to, rc;
	size_t k;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(o))
		return fail(why, whylen, "an event must be a JSON object");
	if (!name)
		return fail(why, whylen, "\"event\" must be one of play, pause, seek, heartbeat, ended");
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(kinds[k], name) == 0)
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return fail(why, whylen, "\"event\" must be one of play, pause, seek, heartbeat, ended");
	ev->kind = (enum progress_kind)k;
	if ((rc = seconds(o, "position", &ev->position_ms)))
		return fail(why, whylen, rc == TC_ENOTFOUND ? "\"position\" (seconds) is required"
			    : "\"position\" must be a number of seconds, 0 or more");
	rc_from = seconds(o, "from", &ev->from_ms);
	rc_to = seconds(o, "to", &ev->to_ms);
	if (rc_from == TC_EINVALID || rc_to == TC_EINVALID)
		return fail(why, whylen, "\"from\" and \"to\" must be numbers of seconds, 0 or more");
	if ((rc_from == 0) != (rc_to == 0))
		return fail(why, whylen, "\"from\" and \"to\" come together");
	ev->has_span = rc_from == 0;
	if (!ev->has_span && ev->kind == PROGRESS_HEARTBEAT)
		return fail(why, whylen, "a heartbeat needs \"from\" and \"to\": the span played");
	if (ev->has_span && ev->from_ms >= ev->to_ms)
		return fail(why, whylen, "\"from\" must be before \"to\"");
	if (ev->has_span && ev->to_ms - ev->from_ms > PROGRESS_SPAN_MAX_MS)
		return fail(why, whylen, "one report may claim at most 120 s played");
	rc = seconds(o, "duration", &ev->duration_ms);
	if (rc == TC_EINVALID || (rc == 0 && ev->duration_ms <= 0))
		return fail(why, whylen, "\"duration\" must be a positive number of seconds");
	if (at) {
		if (!json_is_integer(at) || json_integer_value(at) <= 0 ||
		    json_integer_value(at) > (json_int_t)1 << 50)
			return fail(why, whylen, "\"at\" must be the client's clock in ms since 1970");
		ev->at_ms = (int64_t)json_integer_value(at);
	} else {
		ev->at_ms = now_ms;
	}
	return 0;
}

int
progress_event_check(const struct progress_event *ev, int64_t duration_ms, char *why,
		     size_t whylen)
{
	int64_t end = duration_ms + PROGRESS_SLACK_MS;

	if (duration_ms <= 0)
		return fail(why, whylen, "the duration of this unit is not known yet");
	if (ev->position_ms > end)
		return fail(why, whylen, "\"position\" is past the end of the media");
	if (ev->has_span && ev->to_ms > end)
		return fail(why, whylen, "\"to\" is past the end of the media");
	return 0;
}

double
progress_percent(const struct ranges *r, int64_t duration_ms)
{
	int64_t covered;

	if (duration_ms <= 0)
		return 0;
	covered = ranges_overlap_within(r, r, duration_ms);
	/* one decimal, rounded down so that 99.96% never shows as 100 */
	return floor((double)covered * 1000.0 / (double)duration_ms) / 10.0;
}

int
progress_video_complete(const struct ranges *watched, const struct ranges *delivered,
			int64_t duration_ms, int threshold)
{
	int64_t both;

	if (duration_ms <= 0 || threshold < 0 || threshold > 100)
		return 0;
	both = ranges_overlap_within(watched, delivered, duration_ms);
	/* both / duration >= threshold / 100, in integers */
	return both * 100 >= duration_ms * (int64_t)threshold;
}

int64_t
progress_pace_credit(int64_t credit_ms, int64_t at_ms, int64_t now_ms)
{
	int64_t room;

	if (at_ms <= 0)
		return PROGRESS_PACE_BURST_MS;
	if (credit_ms < 0)
		credit_ms = 0;
	if (credit_ms >= PROGRESS_PACE_BURST_MS)
		return PROGRESS_PACE_BURST_MS;
	if (now_ms <= at_ms)
		return credit_ms;
	/* refill, without overflow for any gap */
	room = (PROGRESS_PACE_BURST_MS - credit_ms) * 1000 / PROGRESS_PACE_RATE_PERMILLE + 1;
	if (now_ms - at_ms >= room)
		return PROGRESS_PACE_BURST_MS;
	credit_ms += (now_ms - at_ms) * PROGRESS_PACE_RATE_PERMILLE / 1000;
	return credit_ms < PROGRESS_PACE_BURST_MS ? credit_ms : PROGRESS_PACE_BURST_MS;
}

/* How much of [FROM, TO) R covers. */
static int64_t
covered_in(const struct ranges *r, int64_t from, int64_t to)
{
	int64_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		int64_t a = r->v[i].from > from ? r->v[i].from : from;
		int64_t b = r->v[i].to < to ? r->v[i].to : to;

		if (a < b)
			n += b - a;
	}
	return n;
}

/* Where the earliest part of [FROM, TO) holding CREDIT ms not in R ends
 * (TO when the whole span's new time fits in CREDIT). R is sorted and
 * merged (courses/ranges.h). */
static int64_t
credit_end(const struct ranges *r, int64_t from, int64_t to, int64_t credit)
{
	int64_t at = from;

	for (size_t i = 0; i < r->n && at < to; i++) {
		if (r->v[i].to <= at)
			continue;
		if (r->v[i].from > at) {	/* new time: [at, min(v.from, to)) */
			int64_t gap = (r->v[i].from < to ? r->v[i].from : to) - at;

			if (gap > credit)
				return at + credit;
			credit -= gap;
		}
		at = r->v[i].to;
	}
	if (at < to && to - at > credit)
		return at + credit;
	return to;
}

int
progress_apply_paced(struct progress_state *st, const struct progress_event *ev,
		     int64_t duration_ms, int64_t *credit_ms, int64_t *clipped_ms)
{
	int rc;

	if (ev->has_span) {
		int64_t to = ev->to_ms < duration_ms ? ev->to_ms : duration_ms, end = to;
		int64_t before = ranges_total(&st->watched), want = 0;

		if (credit_ms && ev->from_ms < to) {
			want = to - ev->from_ms - covered_in(&st->watched, ev->from_ms, to);
			end = credit_end(&st->watched, ev->from_ms, to,
					 *credit_ms > 0 ? *credit_ms : 0);
		}
		if (ev->from_ms < end && (rc = ranges_add(&st->watched, ev->from_ms, end)))
			return rc;
		if (credit_ms) {
			int64_t added = ranges_total(&st->watched) - before;

			*credit_ms -= added;
			if (clipped_ms)
				*clipped_ms += want - added;
		}
	}
	if (ev->at_ms >= st->position_at) {
		st->position_ms = ev->position_ms < duration_ms ? ev->position_ms : duration_ms;
		st->position_at = ev->at_ms;
	}
	st->duration_ms = duration_ms;
	st->percent = progress_percent(&st->watched, duration_ms);
	return 0;
}

int
progress_apply(struct progress_state *st, const struct progress_event *ev, int64_t duration_ms)
{
	return progress_apply_paced(st, ev, duration_ms, NULL, NULL);
}
