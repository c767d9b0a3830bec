/* ranges_test.c - courses/ranges.c: merging, measures, text form, caps,
 * histogram, and random sequences checked against a bitmap model. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tap.h"
#include "courses/errors.h"
#include "courses/ranges.h"

static const char *
text(const struct ranges *r)
{
	static char out[65536];
	struct dynbuf b;

	dynbuf_init(&b, sizeof(out));
	if (ranges_format(r, &b) != 0)
		snprintf(out, sizeof(out), "(format failed)");
	else
		snprintf(out, sizeof(out), "%s", dynbuf_str(&b));
	dynbuf_cleanup(&b);
	return out;
}

static int
parse(struct ranges *r, const char *s)
{
	return ranges_parse(s, strlen(s), r);
}

static void
test_add(void)
{
	struct ranges r;

	ranges_init(&r);
	is_str(text(&r), "", "empty set formats as empty text");
	is_int(ranges_add(&r, 10, 20), 0, "add [10,20)");
	is_int(ranges_add(&r, 30, 40), 0, "add [30,40)");
	is_str(text(&r), "10-20,30-40", "two disjoint");
	is_int(ranges_add(&r, 20, 30), 0, "add the gap");
	is_str(text(&r), "10-40", "touching on both sides merges into one");
	is_int(ranges_add(&r, 0, 5), 0, "add before");
	is_int(ranges_add(&r, 50, 60), 0, "add after");
	is_str(text(&r), "0-5,10-40,50-60", "sorted insert");
	is_int(ranges_add(&r, 3, 55), 0, "spanning add");
	is_str(text(&r), "0-60", "one add swallows three");
	is_int(ranges_add(&r, 20, 30), 0, "inside add");
	is_str(text(&r), "0-60", "inside changes nothing");
	is_int(ranges_add(&r, 70, 70), 0, "empty interval adds nothing");
	is_int((long long)r.n, 1, "still one interval");
	is_int(ranges_add(&r, -1, 5), TC_EINVALID, "negative start refused");
	is_int(ranges_add(&r, 9, 5), TC_EINVALID, "reversed refused");
	is_int(ranges_add(&r, 0, RANGES_END_MAX + 1), TC_EINVALID, "past the end bound refused");
	is_str(text(&r), "0-60", "refusals change nothing");
	is_int(ranges_total(&r), 60, "total");
	ranges_cleanup(&r);
	ranges_cleanup(&r);
	ranges_cleanup(NULL);
	ok(r.n == 0 && r.v == NULL, "cleanup leaves an empty set, twice and with NULL");
}

static void
test_cap(void)
{
	struct ranges r;
	int rc = 0;

	ranges_init(&r);
	for (int64_t i = 0; i < RANGES_MAX && rc == 0; i++)
		rc = ranges_add(&r, i * 10, i * 10 + 5);
	is_int(rc, 0, "RANGES_MAX intervals fit");
	is_int((long long)r.n, RANGES_MAX, "count at the cap");
	is_int(ranges_add(&r, RANGES_MAX * 10, RANGES_MAX * 10 + 5), TC_ETOOBIG,
	       "one more disjoint interval is refused");
	is_int(ranges_add(&r, 7, 8), TC_ETOOBIG, "a new one inside a gap too");
	is_int((long long)r.n, RANGES_MAX, "unchanged after refusal");
	is_int(ranges_add(&r, 5, 10), 0, "a merging add is fine at the cap");
	is_int((long long)r.n, RANGES_MAX - 1, "merge reduced the count");
	is_int(ranges_add(&r, 0, RANGES_MAX * 10), 0, "swallow everything");
	is_str(text(&r), "0-20480", "one interval left");
	ranges_cleanup(&r);
}

static void
test_measures(void)
{
	struct ranges a, b;

	ranges_init(&a);
	ranges_init(&b);
	is_int(parse(&a, "0-10,20-30,40-50"), 0, "parse a");
	is_int(parse(&b, "5-25,45-100"), 0, "parse b");
	is_int(ranges_overlap(&a, &b), 5 + 5 + 5, "overlap");
	is_int(ranges_overlap(&b, &a), 15, "overlap is symmetric");
	is_int(ranges_overlap_within(&a, &b, 48), 5 + 5 + 3, "overlap within a limit");
	is_int(ranges_overlap_within(&a, &b, 0), 0, "nothing within 0");
	ok(ranges_covers(&a, 0, 10), "covers a whole interval");
	ok(ranges_covers(&a, 21, 29), "covers inside");
	ok(!ranges_covers(&a, 5, 25), "not across a gap");
	ok(!ranges_covers(&a, 10, 20), "not the gap");
	ok(!ranges_covers(&a, 5, 5), "an empty span is not covered");
	ranges_clip(&b, 60);
	is_str(text(&b), "5-25,45-60", "clip cuts the last");
	ranges_clip(&b, 45);
	is_str(text(&b), "5-25", "clip drops what starts past the end");
	ranges_clip(&b, 0);
	is_str(text(&b), "", "clip to 0 empties");
	is_int(parse(&b, "10-15,30-35"), 0, "parse b again");
	is_int(ranges_union(&a, &b), 0, "union");
	is_str(text(&a), "0-15,20-35,40-50", "union merges");
	ranges_cleanup(&a);
	ranges_cleanup(&b);
}

static void
test_parse(void)
{
	static const char *bad[] = {
		"-", "1", "1-", "-5", "5-5", "6-5", "0-5,", ",0-5", "0-5,,7-9", "0-5 ", " 0-5",
		"0-5,5-9", "0-5,3-9", "7-9,0-5", "01-5", "0-05", "0-5;7-9", "+1-5", "0-1e3",
		"0-99999999999999999999", "0-8640000000001", "a-b", "0-5,7-9,8-10",
	};
	struct ranges r;

	ranges_init(&r);
	is_int(parse(&r, ""), 0, "empty text is the empty set");
	is_int((long long)r.n, 0, "empty");
	is_int(parse(&r, "0-5000,7000-9000"), 0, "the documented example");
	is_str(text(&r), "0-5000,7000-9000", "round trip");
	is_int(parse(&r, "0-1,2-3"), 0, "gap of one");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[96];

		snprintf(name, sizeof(name), "refused: \"%s\"", bad[i]);
		is_int(parse(&r, bad[i]), TC_EINVALID, name);
	}
	is_str(text(&r), "0-1,2-3", "refusals leave the set unchanged");
	is_int(ranges_parse("0-5\0" "7-9", 7, &r), TC_EINVALID, "an embedded NUL is refused");
	{
		struct dynbuf b;
		int rc = 0;

		dynbuf_init(&b, 1 << 20);
		for (int i = 0; i <= RANGES_MAX && rc == 0; i++)
			rc = dynbuf_printf(&b, "%s%d-%d", i ? "," : "", i * 10, i * 10 + 5);
		is_int(ranges_parse(b.data, b.len, &r), TC_ETOOBIG, "RANGES_MAX + 1 items refused");
		is_str(text(&r), "0-1,2-3", "unchanged");
		dynbuf_cleanup(&b);
	}
	ranges_cleanup(&r);
}

static void
test_histogram(void)
{
	struct ranges r;
	int64_t c[10] = { 0 };

	ranges_init(&r);
	is_int(parse(&r, "0-100,450-460,990-1000"), 0, "parse");
	is_int(ranges_histogram(&r, 1000, c, 10), 0, "histogram");
	is_int(c[0], 1, "bucket 0 watched");
	is_int(c[1], 0, "bucket 1 not (touching its start is not covering)");
	is_int(c[4], 1, "bucket 4");
	is_int(c[5], 0, "bucket 5");
	is_int(c[9], 1, "bucket 9");
	is_int(ranges_histogram(&r, 1000, c, 10), 0, "again adds");
	is_int(c[0], 2, "counts accumulate");
	is_int(ranges_histogram(&r, 0, c, 10), TC_EINVALID, "zero duration refused");
	is_int(ranges_histogram(&r, 1000, c, 0), TC_EINVALID, "no buckets refused");
	{
		int64_t d[7] = { 0 };

		is_int(parse(&r, "0-3"), 0, "a short set");
		is_int(ranges_histogram(&r, 3, d, 7), 0, "more buckets than ms");
		is_int(d[0] + d[1] + d[2] + d[3] + d[4] + d[5] + d[6], 3,
		       "only non-empty buckets count");
	}
	ranges_cleanup(&r);
}

/* ---- random sequences against a bitmap ------------------------------------------------ */

#define SPAN 2000

static int64_t
bitmap_total(const unsigned char *m, int64_t limit)
{
	int64_t t = 0;

	for (int64_t i = 0; i < SPAN && i < limit; i++)
		t += m[i];
	return t;
}

/* Builds the canonical text of a bitmap. */
static void
bitmap_text(const unsigned char *m, char *out, size_t size)
{
	size_t at = 0;

	out[0] = '\0';
	for (int i = 0; i < SPAN;) {
		int j;

		if (!m[i]) {
			i++;
			continue;
		}
		for (j = i; j < SPAN && m[j]; j++)
			;
		at += (size_t)snprintf(out + at, size - at, "%s%d-%d", at ? "," : "", i, j);
		i = j;
	}
}

static void
test_random(void)
{
	static unsigned char ma[SPAN], mb[SPAN];
	static char want[65536];
	unsigned seed = 12345;
	int bad = 0, rounds = 400;

	for (int round = 0; round < rounds; round++) {
		struct ranges a, b, c;
		int adds = 1 + rand_r(&seed) % 60;
		int64_t both = 0;
		int64_t counts[13] = { 0 }, wantc[13] = { 0 };
		int64_t dur = 1 + rand_r(&seed) % SPAN;

		ranges_init(&a);
		ranges_init(&b);
		ranges_init(&c);
		memset(ma, 0, sizeof(ma));
		memset(mb, 0, sizeof(mb));
		for (int k = 0; k < adds; k++) {
			int which = rand_r(&seed) % 2;
			int64_t from = rand_r(&seed) % SPAN;
			int64_t len = rand_r(&seed) % (k % 5 == 0 ? 400 : 30);
			int64_t to = from + len > SPAN ? SPAN : from + len;

			if (ranges_add(which ? &b : &a, from, to) != 0)
				bad++;
			memset((which ? mb : ma) + from, 1, (size_t)(to - from));
		}
		bitmap_text(ma, want, sizeof(want));
		if (strcmp(text(&a), want) != 0)
			bad++;
		if (ranges_parse(want, strlen(want), &c) != 0 || strcmp(text(&c), want) != 0)
			bad++;
		if (ranges_total(&a) != bitmap_total(ma, SPAN))
			bad++;
		for (int i = 0; i < SPAN; i++)
			both += ma[i] & mb[i];
		if (ranges_overlap(&a, &b) != both)
			bad++;
		for (int i = 0; i < 50; i++) {
			int64_t from = rand_r(&seed) % SPAN, to = from + 1 + rand_r(&seed) % 100;
			int all = to <= SPAN;

			for (int64_t x = from; x < to && x < SPAN; x++)
				all &= ma[x];
			if (ranges_covers(&a, from, to) != all)
				bad++;
		}
		if (ranges_histogram(&a, dur, counts, 13) != 0)
			bad++;
		for (int k = 0; k < 13; k++) {
			int64_t lo = dur * k / 13, hi = dur * (k + 1) / 13;

			for (int64_t x = lo; x < hi; x++)
				if (ma[x]) {
					wantc[k] = 1;
					break;
				}
			if (counts[k] != wantc[k])
				bad++;
		}
		if (ranges_union(&c, &b) != 0)
			bad++;
		for (int i = 0; i < SPAN; i++)
			ma[i] |= mb[i];
		bitmap_text(ma, want, sizeof(want));
		if (strcmp(text(&c), want) != 0)
			bad++;
		ranges_clip(&c, dur);
		if (ranges_total(&c) != bitmap_total(ma, dur))
			bad++;
		ranges_cleanup(&a);
		ranges_cleanup(&b);
		ranges_cleanup(&c);
	}
	is_int(bad, 0, "400 random sequences agree with the bitmap model (add, format, parse, "
	       "total, overlap, covers, histogram, union, clip)");
}

int
main(void)
{
	test_add();
	test_cap();
	test_measures();
	test_parse();
	test_histogram();
	test_random();
	return done_testing();
}
