/*
 * report.h - lecturers' progress reports: the summary of one video unit
 * over all its learners (how many watched each time bucket, how many
 * started and completed, the median percent, where they drop off). Pure
 * domain: the rows come from storage/progress.h, the HTTP side is
 * server/api_reports.c.
 *
 * A tally is filled in one pass over the rows; the only allocation per
 * row is the parse of its watched ranges (one array, freed by the next
 * row's parse); the percents are counted per tenth of a percent (the precision a
 * progress row keeps), so the median needs no list of values.
 *
 * Ownership: a struct report_tally owns its counts and scratch set;
 * report_tally_cleanup frees them and accepts a zeroed struct.
 */
#ifndef TINCHI_REPORT_H
#define TINCHI_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "courses/ranges.h"

#define REPORT_BUCKETS_MIN 10
#define REPORT_BUCKETS_MAX 600
#define REPORT_BUCKETS_DEFAULT 60
#define REPORT_TENTHS 1001		/* 0.0 .. 100.0 percent in tenths */

struct report_tally {
	int64_t duration_ms;
	size_t buckets;
	int64_t *counts;		/* [buckets]: learners who watched any of bucket i */
	int64_t started, completed;	/* rows added; rows with completed set */
	int64_t tenths[REPORT_TENTHS];	/* learners per percent (rounded to 0.1) */
	struct ranges scratch;
};

/*
 * Prepares T for a lecture of DURATION_MS (1..RANGES_END_MAX) split into
 * BUCKETS (1..RANGES_BUCKETS_MAX; the HTTP API allows 10..600) equal time
 * buckets. TC_EINVALID, TC_ENOMEM (T is then zeroed).
 */
int report_tally_init(struct report_tally *t, int64_t duration_ms, size_t buckets);
void report_tally_cleanup(struct report_tally *t);	/* accepts NULL */

/*
 * Adds one learner's row: WATCHED is the ranges text form (ms, "" for
 * none), clipped to the duration; PERCENT (clamped to 0..100) and whether
 * the unit is COMPLETED. TC_EINVALID for malformed WATCHED, TC_ENOMEM;
 * T is unchanged on failure.
 */
int report_tally_add(struct report_tally *t, const char *watched, double percent, int completed);

/*
 * The median percent of the rows added (for an even count the mean of the
 * two middle values) into *OUT. TC_ENOTFOUND when no row was added.
 */
int report_tally_median(const struct report_tally *t, double *out);

/*
 * The drop-off bucket of COUNTS[N]: the first bucket whose count is below
 * half of COUNTS[0], or -1 when there is none (also when N is 0 or
 * COUNTS[0] is 0).
 */
long report_dropoff(const int64_t *counts, size_t n);

#endif
