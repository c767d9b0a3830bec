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

int
main(void)
{
	test_parse();
	test_apply();
	test_pace_credit();
	test_apply_paced();
	return done_testing();
}
