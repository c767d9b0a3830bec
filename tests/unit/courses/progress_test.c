/* progress_test.c - courses/progress.c: event parsing and bounds, applying
 * events (ordered positions, union of spans), and the completion rule. */
#include <stdint.h>
#include <string.h>

#include "../../tap.h"
#include "courses/errors.h"
#include "courses/progress.h"

static int
ev_of(const char *json, struct progress_event *ev)
{
	char why[PROGRESS_WHY_MAX];
	json_t *o = json_loads(json, 0, NULL);
	int rc = progress_event_parse(o, 777, ev, why, sizeof(why));

	json_decref(o);
	return rc;
}

static void
test_parse(void)
{
	static const char *bad[] = {
		"{}", "{\"event\":\"jump\",\"position\":1}", "{\"event\":7,\"position\":1}",
		"{\"event\":\"play\"}", "{\"event\":\"play\",\"position\":-1}",
		"{\"event\":\"play\",\"position\":\"3\"}",
		"{\"event\":\"heartbeat\",\"position\":5}",
		"{\"event\":\"heartbeat\",\"position\":5,\"from\":1}",
		"{\"event\":\"heartbeat\",\"position\":5,\"from\":5,\"to\":5}",
		"{\"event\":\"heartbeat\",\"position\":5,\"from\":6,\"to\":5}",
		"{\"event\":\"heartbeat\",\"position\":200,\"from\":0,\"to\":120.001}",
		"{\"event\":\"play\",\"position\":1,\"at\":1.5}",
		"{\"event\":\"play\",\"position\":1,\"at\":-3}",
		"{\"event\":\"play\",\"position\":1,\"duration\":0}",
		"{\"event\":\"play\",\"position\":1e300}",
		"[1]",
	};
	struct progress_event ev;
	char why[PROGRESS_WHY_MAX];

	is_int(ev_of("{\"type\":\"progress\",\"seq\":7,\"unit\":\"u\",\"event\":\"heartbeat\","
		     "\"position\":123.4,\"from\":118.4,\"to\":123.4,\"at\":1764500000000,"
		     "\"duration\":600.0}", &ev), 0, "the protocol's example parses");
	is_int(ev.kind, PROGRESS_HEARTBEAT, "kind");
	is_int(ev.position_ms, 123400, "position in ms");
	is_int(ev.from_ms, 118400, "from");
	is_int(ev.to_ms, 123400, "to");
	is_int(ev.at_ms, 1764500000000LL, "at");
	is_int(ev.duration_ms, 600000, "duration");
	is_int(ev_of("{\"event\":\"pause\",\"position\":3}", &ev), 0, "pause without span");
	is_int(ev.has_span, 0, "no span");
	is_int(ev.at_ms, 777, "at defaults to the server time");
	is_int(ev_of("{\"event\":\"ended\",\"position\":3,\"from\":0,\"to\":120}", &ev), 0,
	       "exactly 120 s is allowed");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(ev_of(bad[i], &ev), TC_EINVALID, bad[i]);
	is_int(ev_of("{\"event\":\"play\",\"position\":10}", &ev), 0, "play at 10 s");
	is_int(progress_event_check(&ev, 9000, why, sizeof(why)), 0, "within the 1 s slack");
	is_int(progress_event_check(&ev, 8999, why, sizeof(why)), TC_EINVALID, "past the slack");
	ok(strstr(why, "position") != NULL, "the reason names the field");
	is_int(progress_event_check(&ev, 0, why, sizeof(why)), TC_EINVALID, "unknown duration");
	is_int(ev_of("{\"event\":\"heartbeat\",\"position\":1,\"from\":0,\"to\":20}", &ev), 0, "hb");
	is_int(progress_event_check(&ev, 10000, why, sizeof(why)), TC_EINVALID, "span past end");
}

static void
test_apply(void)
{
	struct progress_state st;
	struct progress_event ev;
	struct ranges delivered;

	memset(&st, 0, sizeof(st));
	ranges_init(&st.watched);
	ranges_init(&delivered);
	ev_of("{\"event\":\"heartbeat\",\"position\":10,\"from\":0,\"to\":10,\"at\":1000}", &ev);
	is_int(progress_apply(&st, &ev, 100000), 0, "apply 0-10");
	is_int(st.position_ms, 10000, "position");
	ok(st.percent > 9.99 && st.percent < 10.01, "10 %");
	ev_of("{\"event\":\"heartbeat\",\"position\":10,\"from\":0,\"to\":10,\"at\":1000}", &ev);
	is_int(progress_apply(&st, &ev, 100000), 0, "the same again");
	ok(st.percent > 9.99 && st.percent < 10.01, "still 10 %: no double count");
	ev_of("{\"event\":\"seek\",\"position\":50,\"at\":3000}", &ev);
	progress_apply(&st, &ev, 100000);
	is_int(st.position_ms, 50000, "seek moves the position");
	ev_of("{\"event\":\"heartbeat\",\"position\":20,\"from\":10,\"to\":20,\"at\":2000}", &ev);
	progress_apply(&st, &ev, 100000);
	is_int(st.position_ms, 50000, "an older message does not move the position back");
	ok(st.percent > 19.99 && st.percent < 20.01, "but its span counts");
	ev_of("{\"event\":\"heartbeat\",\"position\":100.5,\"from\":90,\"to\":100.5,\"at\":4000}",
	      &ev);
	progress_apply(&st, &ev, 100000);
	is_int(st.position_ms, 100000, "position clipped to the duration");
	ok(st.percent > 29.99 && st.percent < 30.01, "span clipped to the duration");

	/* completion: watched ∩ delivered */
	ranges_cleanup(&st.watched);
	ranges_add(&st.watched, 0, 100000);
	ok(!progress_video_complete(&st.watched, &delivered, 100000, 90),
	   "everything watched, nothing delivered: not complete");
	ranges_add(&delivered, 0, 89999);
	ok(!progress_video_complete(&st.watched, &delivered, 100000, 90), "89.999 % is not 90");
	ranges_add(&delivered, 89999, 90000);
	ok(progress_video_complete(&st.watched, &delivered, 100000, 90), "90 % is complete");
	ok(!progress_video_complete(&st.watched, &delivered, 100000, 91), "threshold 91");
	ranges_cleanup(&st.watched);
	ranges_add(&st.watched, 50000, 100000);
	ok(!progress_video_complete(&st.watched, &delivered, 100000, 90),
	   "delivered without watching does not complete");
	ok(progress_video_complete(&st.watched, &delivered, 100000, 0), "threshold 0");
	ok(!progress_video_complete(&st.watched, &delivered, 0, 90), "no duration: never");
	is_str(progress_kind_name(PROGRESS_ENDED), "ended", "names");
	ranges_cleanup(&st.watched);
	ranges_cleanup(&delivered);
}

static void
test_pace_credit(void)
{
	const int64_t B = PROGRESS_PACE_BURST_MS;

	is_int(progress_pace_credit(0, 0, 5000), B, "a row never paced: the whole burst");
	is_int(progress_pace_credit(0, 1000, 1000), 0, "no time passed: nothing refilled");
	is_int(progress_pace_credit(0, 1000, 2000), PROGRESS_PACE_RATE_PERMILLE,
	       "one second refills the rate (2.2 s of media)");
	is_int(progress_pace_credit(100, 1000, 1010), 122, "10 ms: 22 ms more");
	is_int(progress_pace_credit(B - 1000, 1000, 1000 + 3600000), B,
	       "an hour later: the burst, no more");
	is_int(progress_pace_credit(5000, 1000, 500), 5000, "a clock gone back refills nothing");
	is_int(progress_pace_credit(-20, 1000, 1000), 0, "a negative credit reads as none");
	is_int(progress_pace_credit(B + 5, 1000, 1000), B, "more than the burst reads as the burst");
	is_int(progress_pace_credit(0, 1, INT64_MAX), B, "any gap without overflow");
	is_int(progress_pace_credit(B - 1, 1, 2), B, "never past the burst");
}

static void
test_apply_paced(void)
{
	struct progress_state st;
	struct progress_event ev;
	int64_t credit = 15000, clipped = 0;

	memset(&st, 0, sizeof(st));
	ranges_init(&st.watched);
	ranges_add(&st.watched, 10000, 20000);
	ev_of("{\"event\":\"heartbeat\",\"position\":30,\"from\":0,\"to\":30,\"at\":1000}", &ev);
	is_int(progress_apply_paced(&st, &ev, 100000, &credit, &clipped), 0, "apply 0-30 paced");
	is_int(ranges_total(&st.watched), 25000, "10 s held, 15 s of credit: 25 s watched");
	ok(st.watched.n == 1 && st.watched.v[0].from == 0 && st.watched.v[0].to == 25000,
	   "the earliest new time first, the range held skipped free: 0-25 s");
	is_int(credit, 0, "the credit spent");
	is_int(clipped, 5000, "5 s clipped");
	is_int(st.position_ms, 30000, "the position still moves");
	ok(st.percent > 24.99 && st.percent < 25.01, "the percent: only what was credited");
	ev_of("{\"event\":\"heartbeat\",\"position\":20,\"from\":0,\"to\":20,\"at\":2000}", &ev);
	clipped = 0;
	is_int(progress_apply_paced(&st, &ev, 100000, &credit, &clipped), 0, "rewatch 0-20");
	ok(credit == 0 && clipped == 0, "rewatching costs nothing and clips nothing");
	credit = 3000;
	ev_of("{\"event\":\"heartbeat\",\"position\":30,\"from\":25,\"to\":40,\"at\":3000}", &ev);
	progress_apply_paced(&st, &ev, 100000, &credit, &clipped);
	is_int(st.watched.v[0].to, 28000, "3 s of credit: up to 28 s");
	is_int(clipped, 12000, "the rest clipped");
	credit = 50000;
	clipped = 0;
	ev_of("{\"event\":\"heartbeat\",\"position\":99,\"from\":90,\"to\":120,\"at\":4000}", &ev);
	progress_apply_paced(&st, &ev, 100000, &credit, &clipped);
	ok(credit == 40000 && clipped == 0, "past the duration is neither credited nor clipped");
	ev_of("{\"event\":\"heartbeat\",\"position\":60,\"from\":50,\"to\":60,\"at\":5000}", &ev);
	is_int(progress_apply(&st, &ev, 100000), 0, "progress_apply: no pace");
	is_int(ranges_total(&st.watched), 48000, "all of it added");
	ranges_cleanup(&st.watched);
}

/* The player (web/js/progress.js) reports the span played every 10 s of
 * media; at 1x and at its fastest rate, 2x, a 2-hour lecture is credited in
 * full, also when a break of the connection sends up to 8 minutes of media
 * of reports at once (under the 10 minutes banked). Returns the ms clipped
 * (-1: what was credited and clipped does not add up). */
static int64_t
play(int64_t rate_permille, int64_t outage_from, int64_t outage_to)
{
	struct progress_state st;
	struct progress_event ev;
	int64_t pace_ms = 0, pace_at = 0, now = 1700000000000, clipped = 0;
	int64_t queued_from = -1;

	memset(&st, 0, sizeof(st));
	ranges_init(&st.watched);
	memset(&ev, 0, sizeof(ev));
	ev.kind = PROGRESS_HEARTBEAT;
	ev.has_span = 1;
	for (int64_t at = 0; at < 7200000; at += 10000) {
		now += 10000 * 1000 / rate_permille;
		if (at >= outage_from && at < outage_to) {	/* held until the reconnection */
			if (queued_from < 0)
				queued_from = at;
			continue;
		}
		for (int64_t from = queued_from >= 0 ? queued_from : at; from <= at; from += 10000) {
			int64_t credit = progress_pace_credit(pace_ms, pace_at, now);

			ev.from_ms = from;
			ev.to_ms = from + 10000;
			ev.position_ms = ev.to_ms;
			ev.at_ms = now;
			progress_apply_paced(&st, &ev, 7200000, &credit, &clipped);
			pace_ms = credit;
			pace_at = now;
		}
		queued_from = -1;
	}
	if (ranges_total(&st.watched) + clipped != 7200000)
		clipped = -1;
	ranges_cleanup(&st.watched);
	return clipped;
}

static void
test_pace_player(void)
{
	is_int(play(1000, -1, -1), 0, "2 hours at 1x: nothing clipped");
	is_int(play(2000, -1, -1), 0, "2 hours at 2x: nothing clipped");
	is_int(play(2000, 3600000, 3600000 + 480000), 0,
	       "at 2x with 4 minutes (8 of media) of reports sent at once: nothing clipped");
	is_int(play(1000, 600000, 600000 + 480000), 0,
	       "at 1x with 8 minutes of reports sent at once: nothing clipped");
	ok(play(2000, 3600000, 3600000 + 900000) > 0,
	   "past the burst (15 minutes of media at once): clipped");
	ok(play(4000, -1, -1) >= 7200000 - 600000 - 1800000 * 22 / 10,
	   "at 4x: what passes the burst and 2.2x the wall time is clipped");
}

int
main(void)
{
	test_parse();
	test_apply();
	test_pace_credit();
	test_apply_paced();
	test_pace_player();
	return done_testing();
}
