/* report_test.c - courses/report.c: the tally of a video unit (buckets,
 * clipping to the duration, started/completed), the median percent and
 * the drop-off bucket. */
#include <stdint.h>
#include <string.h>

#include "../../tap.h"
#include "courses/errors.h"
#include "courses/report.h"

static void
test_tally(void)
{
	struct report_tally t;
	double m = -1;

	is_int(report_tally_init(&t, 0, 10), TC_EINVALID, "duration 0 refused");
	report_tally_cleanup(&t);
	is_int(report_tally_init(&t, 1000, 0), TC_EINVALID, "0 buckets refused");
	report_tally_cleanup(&t);
	is_int(report_tally_init(&t, 10000, 10), 0, "10 s in 10 buckets");
	is_int(report_tally_median(&t, &m), TC_ENOTFOUND, "no median without rows");
	is_int(report_tally_add(&t, "0-3000", 30, 0), 0, "first 3 s");
	is_int(report_tally_add(&t, "0-1000,8500-9000", 15, 0), 0, "start and near the end");
	is_int(report_tally_add(&t, "2500-12000", 75, 1), 0, "past the end, clipped");
	is_int(report_tally_add(&t, "", 0, 0), 0, "started, nothing watched");
	is_int(report_tally_add(&t, "5-1", 0, 0), TC_EINVALID, "bad ranges refused");
	is_int(report_tally_add(&t, NULL, 0, 0), TC_EINVALID, "NULL refused");
	{
		static const int64_t want[10] = { 2, 1, 2, 1, 1, 1, 1, 1, 2, 1 };
		int same = 1;

		for (int i = 0; i < 10; i++)
			same &= t.counts[i] == want[i];
		ok(same, "bucket counts: one per learner per touched bucket, clipped");
	}
	is_int(t.started, 4, "four started (the refused rows not counted)");
	is_int(t.completed, 1, "one completed");
	is_int(report_tally_median(&t, &m), 0, "median");
	ok(m > 22.49 && m < 22.51, "even count: mean of 15 and 30");
	is_int(report_tally_add(&t, "0-100", 150, 0), 0, "percent over 100 clamped");
	is_int(report_tally_median(&t, &m), 0, "median of five");
	ok(m > 29.99 && m < 30.01, "odd count: the middle value");
	report_tally_cleanup(&t);
	report_tally_cleanup(&t);
	report_tally_cleanup(NULL);
	ok(t.counts == NULL, "cleanup twice and NULL are fine");

	is_int(report_tally_init(&t, 600000, 600), 0, "600 buckets");
	for (int i = 0; i < 5001; i++)
		report_tally_add(&t, i % 2 ? "0-600000" : "0-60000", i % 2 ? 100 : 10.04, i % 2);
	is_int(t.counts[0], 5001, "5001 learners at the start");
	is_int(t.counts[599], 2500, "half at the end");
	is_int(report_tally_median(&t, &m), 0, "median of 5001");
	ok(m > 9.99 && m < 10.01, "10.04 is kept in tenths: 10.0");
	report_tally_cleanup(&t);
}

static void
test_dropoff(void)
{
	int64_t a[] = { 10, 9, 6, 5, 4, 1 };
	int64_t b[] = { 10, 5, 5 };
	int64_t z[] = { 0, 0, 0 };
	int64_t odd[] = { 3, 2, 1 };

	is_int(report_dropoff(a, 6), 4, "first below half (4 < 5)");
	is_int(report_dropoff(b, 3), -1, "exactly half is not below");
	is_int(report_dropoff(z, 3), -1, "nobody at the start: none");
	is_int(report_dropoff(odd, 3), 2, "1 < 1.5");
	is_int(report_dropoff(odd, 1), -1, "one bucket: none");
	is_int(report_dropoff(odd, 0), -1, "no buckets: none");
}

int
main(void)
{
	test_tally();
	test_dropoff();
	return done_testing();
}
