/*
 * report.c - courses/report.h: the summary of a video unit over its
 * learners.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/report.h"

int
report_tally_init(struct report_tally *t, int64_t duration_ms, size_t buckets)
{
	memset(t, 0, sizeof(*t));
	ranges_init(&t->scratch);
	if (duration_ms <= 0 || duration_ms > RANGES_END_MAX || buckets == 0 ||
	    buckets > RANGES_BUCKETS_MAX)
		return TC_EINVALID;
	if (!(t->counts = calloc(buckets, sizeof(*t->counts))))
		return TC_ENOMEM;
	t->duration_ms = duration_ms;
	t->buckets = buckets;
	return 0;
}

void
report_tally_cleanup(struct report_tally *t)
{
	if (!t)
		return;
	free(t->counts);
	ranges_cleanup(&t->scratch);
	memset(t, 0, sizeof(*t));
}

int
report_tally_add(struct report_tally *t, const char *watched, double percent, int completed)
{
	long tenth;
	int rc;

	if (!t->counts || !watched)
		return TC_EINVALID;
	/* the histogram only reads buckets inside [0, duration): the clip */
	if ((rc = ranges_parse(watched, strlen(watched), &t->scratch)) ||
	    (rc = ranges_histogram(&t->scratch, t->duration_ms, t->counts, t->buckets)))
		return rc;
	if (!(percent >= 0))		/* also NaN */
		percent = 0;
	if (percent > 100)
		percent = 100;
	tenth = lround(percent * 10);
	t->tenths[tenth]++;
	t->started++;
	if (completed)
		t->completed++;
	return 0;
}

/* The value (in tenths) at place K (0-based) of the sorted percents. */
static long
tenth_at(const struct report_tally *t, int64_t k)
{
	long i = 0;

	for (; i < REPORT_TENTHS - 1; i++) {
		if (k < t->tenths[i])
			break;
		k -= t->tenths[i];
	}
	return i;
}

int
report_tally_median(const struct report_tally *t, double *out)
{
	int64_t n = t->started;

	if (n <= 0)
		return TC_ENOTFOUND;
	if (n % 2)
		*out = tenth_at(t, n / 2) / 10.0;
	else
		*out = (tenth_at(t, n / 2 - 1) + tenth_at(t, n / 2)) / 20.0;
	return 0;
}

long
report_dropoff(const int64_t *counts, size_t n)
{
	if (n == 0 || counts[0] <= 0)
		return -1;
	for (size_t i = 1; i < n; i++)
		if (counts[i] * 2 < counts[0])
			return (long)i;
	return -1;
}
