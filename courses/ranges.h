/*
 * ranges.h - a set of time intervals in integer milliseconds, kept sorted
 * and merged: what a learner watched of a lecture, or what of it was
 * delivered to them. Pure domain (no storage, no transport).
 *
 * An interval is half-open, [from, to), with 0 <= from < to. Adding one
 * merges it with every interval it overlaps or touches ([0,5) + [5,9) is
 * [0,9)), so the set is always the shortest sorted list of disjoint,
 * non-touching intervals. A set never holds more than RANGES_MAX intervals:
 * an add that would exceed it is refused with TC_ETOOBIG and leaves the
 * set as it was.
 *
 * Text form (ranges_format / ranges_parse): "0-5000,7000-9000", decimal
 * milliseconds, sorted, disjoint and not touching; "" is the empty set.
 *
 * Ownership: a struct ranges owns its array; ranges_cleanup frees it and
 * accepts a zeroed struct. On any failure the set is left unchanged.
 */
#ifndef TINCHI_RANGES_H
#define TINCHI_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "courses/dynbuf.h"

#define RANGES_MAX 2048
/* Largest end of an interval: 100 days in ms, far past any lecture. */
#define RANGES_END_MAX ((int64_t)100 * 24 * 3600 * 1000)
#define RANGES_BUCKETS_MAX 100000	/* buckets of ranges_histogram */

struct range {
	int64_t from, to;
};

struct ranges {
	struct range *v;
	size_t n, cap;
};

void ranges_init(struct ranges *r);
void ranges_cleanup(struct ranges *r);	/* accepts NULL; leaves R empty */

/*
 * Adds [FROM, TO). FROM == TO adds nothing. TC_EINVALID when FROM < 0,
 * FROM > TO or TO > RANGES_END_MAX; TC_ETOOBIG when the result would hold
 * more than RANGES_MAX intervals; TC_ENOMEM.
 */
int ranges_add(struct ranges *r, int64_t from, int64_t to);

/* Adds every interval of SRC to DST (all or nothing). */
int ranges_union(struct ranges *dst, const struct ranges *src);

/* Total length covered. */
int64_t ranges_total(const struct ranges *r);

/* Length of the intersection of A and B. */
int64_t ranges_overlap(const struct ranges *a, const struct ranges *b);

/* Length covered inside [0, LIMIT) of the intersection of A and B. */
int64_t ranges_overlap_within(const struct ranges *a, const struct ranges *b, int64_t limit);

/* Cuts R down to [0, DURATION) (DURATION <= 0 empties it). */
void ranges_clip(struct ranges *r, int64_t duration);

/* 1 when R covers all of [FROM, TO) (FROM < TO), else 0. */
int ranges_covers(const struct ranges *r, int64_t from, int64_t to);

/* Appends the text form of R to OUT. 0 or TC_ENOMEM / TC_ETOOBIG (OUT's cap). */
int ranges_format(const struct ranges *r, struct dynbuf *out);

/*
 * Parses the text form TEXT (LEN bytes) into OUT, replacing what it held.
 * Strict: only digits, '-' and ',', no leading zeros (except "0"), no empty
 * items, each from < to, intervals sorted, disjoint and not touching, at
 * most RANGES_MAX, ends at most RANGES_END_MAX. TC_EINVALID otherwise
 * (OUT unchanged), TC_ETOOBIG past RANGES_MAX, TC_ENOMEM.
 */
int ranges_parse(const char *text, size_t len, struct ranges *out);

/*
 * Drop-off chart: splits [0, DURATION) into N equal buckets (bucket i is
 * [i*D/N, (i+1)*D/N)) and adds 1 to COUNTS[i] for each bucket R covers
 * any part of. TC_EINVALID when DURATION is not in 1..RANGES_END_MAX or N
 * not in 1..RANGES_BUCKETS_MAX.
 */
int ranges_histogram(const struct ranges *r, int64_t duration, int64_t *counts, size_t n);

#endif
