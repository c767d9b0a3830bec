/* range_test.c - tests for server/range.c */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/range.h"
#include "tests/tap.h"

#define ETAG	"\"3e8-5f5e100\""
#define LASTMOD	((int64_t)784111777)		/* Sun, 06 Nov 1994 08:49:37 GMT */
#define DATE	"Sun, 06 Nov 1994 08:49:37 GMT"

static const char *const names[] = { "NONE", "ONE", "UNSATISFIABLE" };

/*
 * Checks range_decide(RANGE, IF_RANGE, SIZE) against WANT and, for
 * RANGE_ONE, against FIRST..LAST: one TAP line, details on failure.
 */
static void
check(const char *range, const char *if_range, int64_t size, enum range_result want,
      int64_t first, int64_t last, const char *name)
{
	int64_t f = -7, l = -7;
	enum range_result got = range_decide(range, if_range, size, ETAG, LASTMOD, &f, &l);
	char msg[160];

	if (!ok(got == want && (want != RANGE_ONE || (f == first && l == last)), name)) {
		snprintf(msg, sizeof(msg), "got %s %lld-%lld, want %s %lld-%lld",
			 names[got], (long long)f, (long long)l, names[want],
			 (long long)first, (long long)last);
		diag(msg);
	}
}

#define ONE(r, sz, a, b, name)	check((r), "", (sz), RANGE_ONE, (a), (b), (name))
#define NONE(r, sz, name)	check((r), "", (sz), RANGE_NONE, 0, 0, (name))
#define UNSAT(r, sz, name)	check((r), "", (sz), RANGE_UNSATISFIABLE, 0, 0, (name))

static void
test_single(void)
{
	ONE("bytes=0-0", 1000, 0, 0, "0-0: first byte");
	ONE("bytes=0-499", 1000, 0, 499, "0-499");
	ONE("bytes=500-999", 1000, 500, 999, "500-999");
	ONE("bytes=500-", 1000, 500, 999, "500-: to the end");
	ONE("bytes=-500", 1000, 500, 999, "-500: last 500");
	ONE("bytes=-2000", 1000, 0, 999, "-2000: clamped to the whole");
	ONE("bytes=-1000", 1000, 0, 999, "-1000: exactly the whole");
	ONE("bytes=-1", 1000, 999, 999, "-1: last byte");
	ONE("bytes=999-2000", 1000, 999, 999, "999-2000: last clamped");
	ONE("bytes=0-", 1000, 0, 999, "0-: everything, still 206");
	ONE("bytes=0-0", 1, 0, 0, "0-0 on size 1");
	ONE("bytes=000-0001", 1000, 0, 1, "leading zeros");
	ONE("BYTES=1-2", 1000, 1, 2, "unit is case-insensitive (BYTES)");
	ONE("Bytes=1-2", 1000, 1, 2, "unit is case-insensitive (Bytes)");
	UNSAT("bytes=1000-", 1000, "1000-: starts at size");
	UNSAT("bytes=1000-2000", 1000, "1000-2000: starts at size");
	UNSAT("bytes=5000-5000", 1000, "5000-5000: past the end");
	UNSAT("bytes=0-0", 0, "0-0 on size 0");
	UNSAT("bytes=0-", 0, "0- on size 0");
	UNSAT("bytes=-5", 0, "-5 on size 0 (every range is unsatisfiable)");
	UNSAT("bytes=-0", 1000, "-0: suffix of zero length");
	UNSAT("bytes=-00", 1000, "-00: suffix of zero length");
}

static void
test_invalid(void)
{
	NONE("", 1000, "absent");
	NONE(NULL, 1000, "NULL range");
	NONE("bytes=5-3", 1000, "5-3: last < first, ignored");
	NONE("bytes=0-1,5-3", 1000, "one invalid spec: the whole header ignored");
	NONE("bytes=2000-1000", 1000, "2000-1000: invalid beats unsatisfiable");
	NONE("items=0-1", 1000, "other unit");
	NONE("bytesx=0-1", 1000, "unit with a suffix");
	NONE("byte=0-1", 1000, "unit 'byte'");
	NONE("bytes", 1000, "no '='");
	NONE("bytes 0-1", 1000, "space instead of '='");
	NONE("bytes:0-1", 1000, "':' instead of '='");
	NONE("bytes=", 1000, "no specs");
	NONE("bytes=,", 1000, "only empty elements");
	NONE("bytes= , ,", 1000, "only empty elements and whitespace");
	NONE("bytes=-", 1000, "lone '-'");
	NONE("bytes=1", 1000, "no '-'");
	NONE("bytes=abc", 1000, "letters");
	NONE("bytes=a-b", 1000, "letters around '-'");
	NONE("bytes=1-2-3", 1000, "two dashes");
	NONE("bytes=0--1", 1000, "negative last");
	NONE("bytes=+1-2", 1000, "'+' sign");
	NONE("bytes=-+1", 1000, "signed suffix");
	NONE("bytes=--1", 1000, "double dash suffix");
	NONE("bytes=0x10-20", 1000, "hex");
	NONE("bytes=1.5-2", 1000, "decimal point");
	NONE("bytes=0-1;", 1000, "trailing ';'");
	NONE("bytes=0-1;q=1", 1000, "parameters");
	NONE("bytes=0-1\r\n", 1000, "CRLF in the value");
	NONE("\xff\xfe\x01", 1000, "binary garbage");
	NONE("bytes=\xd9\xa1-2", 1000, "non-ASCII digit");
	NONE("bytes=0-1 2", 1000, "space-separated specs");
}

/*
 * Whitespace: OWS around commas (and at the ends of the field value, which
 * is not part of it) is accepted; anywhere else the header is invalid.
 */
static void
test_whitespace(void)
{
	ONE("bytes=0-1 , 2-4", 1000, 0, 4, "OWS around a comma");
	ONE("bytes=0-1,\t 2-4", 1000, 0, 4, "tab and space after a comma");
	ONE("bytes=0-1 \t,2-4", 1000, 0, 4, "tab and space before a comma");
	ONE("  bytes=0-4 \t", 1000, 0, 4, "whitespace at the ends of the value");
	ONE("bytes=0-1,,2-4", 1000, 0, 4, "empty element between specs");
	ONE("bytes=,0-4", 1000, 0, 4, "empty element first");
	ONE("bytes=0-4,", 1000, 0, 4, "empty element last");
	ONE("bytes=0-4 , ", 1000, 0, 4, "empty element last, with OWS");
	NONE("bytes= 0-1 , 3-4", 1000, "space after '=': invalid");
	NONE("bytes= 0-4", 1000, "space after '=' alone: invalid");
	NONE("bytes =0-4", 1000, "space before '=': invalid");
	NONE("bytes=0 -4", 1000, "space before '-': invalid");
	NONE("bytes=0- 4", 1000, "space after '-': invalid");
	NONE("bytes=- 4", 1000, "space inside a suffix: invalid");
	NONE("bytes=1 0-40", 1000, "space inside a number: invalid");
	NONE("bytes=0-1 , 3-4", 1000, "valid OWS, but not one range");
}

static void
test_several(void)
{
	ONE("bytes=0-4,5-9", 1000, 0, 9, "adjacent 0-4,5-9 -> 0-9");
	ONE("bytes=0-9,5-14", 1000, 0, 14, "overlapping 0-9,5-14 -> 0-14");
	ONE("bytes=5-9,0-4", 1000, 0, 9, "unsorted adjacent -> 0-9");
	ONE("bytes=5-14,0-9", 1000, 0, 14, "unsorted overlapping -> 0-14");
	ONE("bytes=0-0,2-2,1-1", 1000, 0, 2, "three that meet once sorted");
	ONE("bytes=0-9,0-9", 1000, 0, 9, "the same range twice");
	ONE("bytes=0-99,10-19", 1000, 0, 99, "one inside another");
	ONE("bytes=-100,0-899", 1000, 0, 999, "suffix meeting a range");
	ONE("bytes=900-,-50", 1000, 900, 999, "open range holding a suffix");
	ONE("bytes=990-2000,995-", 1000, 990, 999, "both clamped");
	NONE("bytes=0-4,6-9", 1000, "a gap of one byte: NONE (no multipart)");
	NONE("bytes=0-0,999-999", 1000, "first and last byte: NONE");
	NONE("bytes=0-1,500-,-1", 1000, "three with a gap: NONE");
	ONE("bytes=0-9,2000-3000", 1000, 0, 9, "unsatisfiable spec dropped");
	ONE("bytes=2000-,-0,0-9", 1000, 0, 9, "unsatisfiable specs dropped (any order)");
	NONE("bytes=0-1,2000-,5-6", 1000, "dropping leaves two ranges: NONE");
	UNSAT("bytes=2000-,3000-", 1000, "all unsatisfiable");
	UNSAT("bytes=1000-,-0", 1000, "all unsatisfiable (start at size, -0)");
	UNSAT("bytes=0-1,-3", 0, "several on size 0");
}

/* Builds "bytes=" + N specs: adjacent (i-i) or, with GAPS, disjoint (2i-2i). */
static void
build_specs(char *buf, size_t len, int n, int gaps)
{
	size_t o = (size_t)snprintf(buf, len, "bytes=");

	for (int i = 0; i < n && o < len; i++) {
		int v = gaps ? 2 * i : i;

		o += (size_t)snprintf(buf + o, len - o, "%s%d-%d", i ? "," : "", v, v);
	}
}

static void
test_many(void)
{
	static char buf[16384];
	struct timespec t0, t1;
	enum range_result r = RANGE_ONE;
	int64_t f, l;
	char msg[96];
	double us;

	build_specs(buf, sizeof(buf), 100, 0);
	ONE(buf, 1000, 0, 99, "100 adjacent specs: allowed, coalesced to 0-99");
	build_specs(buf, sizeof(buf), 101, 0);
	NONE(buf, 1000, "101 adjacent specs: over the limit");
	memset(buf, ',', 200);
	memcpy(buf + 200, "0-4", 4);
	memcpy(buf, "bytes=", 6);
	NONE(buf, 1000, "empty elements count towards the limit");

	build_specs(buf, sizeof(buf), 1000, 1);
	ok(strlen(buf) > 5000, "built a header of 1000 specs");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000; i++)
		r = range_decide(buf, "", 1000000, ETAG, LASTMOD, &f, &l);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 +
	      (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / 1000;
	snprintf(msg, sizeof(msg), "1000 specs: %.2f us per call", us);
	diag(msg);
	is_int(r, RANGE_NONE, "1000 specs: RANGE_NONE");
	ok(us < 1000, "1000 specs: under a millisecond a call");

	/* Garbage after the 100th spec is never looked at. */
	build_specs(buf, sizeof(buf), 101, 0);
	memcpy(buf + strlen(buf), ",zz", 4);
	NONE(buf, 1000, "over the limit, then garbage: NONE");
}

static void
test_huge(void)
{
	ONE("bytes=0-9223372036854775807", 1000, 0, 999, "last = INT64_MAX: clamped");
	ONE("bytes=-9223372036854775807", 1000, 0, 999, "suffix INT64_MAX: the whole");
	UNSAT("bytes=9223372036854775807-", 1000, "first = INT64_MAX: unsatisfiable");
	NONE("bytes=9223372036854775808-", 1000, "first = INT64_MAX + 1: ignored");
	NONE("bytes=0-9223372036854775808", 1000, "last = INT64_MAX + 1: ignored");
	NONE("bytes=-9223372036854775808", 1000, "suffix INT64_MAX + 1: ignored");
	NONE("bytes=0-99999999999999999999999999999", 1000, "30 digits: ignored");
	NONE("bytes=0-1,18446744073709551616-", 1000, "2^64 in a later spec: all ignored");
	ONE("bytes=00000000000000000000000000001-2", 1000, 1, 2, "many leading zeros fit");
	ONE("bytes=9223372036854775806-", INT64_MAX, INT64_MAX - 1, INT64_MAX - 1,
	    "size INT64_MAX: last byte");
	ONE("bytes=-1", INT64_MAX, INT64_MAX - 1, INT64_MAX - 1, "size INT64_MAX: suffix");
	ONE("bytes=0-4,5-", INT64_MAX, 0, INT64_MAX - 1, "size INT64_MAX: coalesced");
	NONE("bytes=0-1", -1, "negative size: ignored");
}

static void
test_if_range(void)
{
	check("bytes=0-9", ETAG, 1000, RANGE_ONE, 0, 9, "If-Range: same ETag");
	check("bytes=0-9", "\"3e8-5f5e101\"", 1000, RANGE_NONE, 0, 0, "If-Range: other ETag");
	check("bytes=0-9", "W/" ETAG, 1000, RANGE_NONE, 0, 0, "If-Range: weak ETag never matches");
	check("bytes=0-9", "w/" ETAG, 1000, RANGE_NONE, 0, 0, "If-Range: w/ ETag never matches");
	check("bytes=0-9", "\"3e8-5f5e100", 1000, RANGE_NONE, 0, 0, "If-Range: unclosed tag");
	check("bytes=0-9", "3e8-5f5e100", 1000, RANGE_NONE, 0, 0, "If-Range: unquoted tag");
	check("bytes=0-9", ETAG "x", 1000, RANGE_NONE, 0, 0, "If-Range: tag with a tail");
	check("bytes=0-9", "\"\"", 1000, RANGE_NONE, 0, 0, "If-Range: empty tag");
	check("bytes=0-9", ETAG ", " ETAG, 1000, RANGE_NONE, 0, 0, "If-Range: a list");
	check("bytes=0-9", " " ETAG " ", 1000, RANGE_ONE, 0, 9, "If-Range: OWS around");
	check("bytes=2000-", ETAG, 1000, RANGE_UNSATISFIABLE, 0, 0,
	      "If-Range matches, range unsatisfiable: 416");
	check("bytes=2000-", "\"other\"", 1000, RANGE_NONE, 0, 0,
	      "If-Range fails, range unsatisfiable: 200");
	check("bytes=0-4,6-9", ETAG, 1000, RANGE_NONE, 0, 0, "If-Range matches, no single range");
	check("", ETAG, 1000, RANGE_NONE, 0, 0, "If-Range without Range");
	check("bytes=5-3", ETAG, 1000, RANGE_NONE, 0, 0, "If-Range with an invalid Range");
	check("bytes=0-9", NULL, 1000, RANGE_ONE, 0, 9, "If-Range NULL: absent");
	check("bytes=0-9", "  ", 1000, RANGE_ONE, 0, 9, "If-Range blank: absent");

	check("bytes=0-9", DATE, 1000, RANGE_ONE, 0, 9, "If-Range: date equal");
	check("bytes=0-9", "Sun, 06 Nov 1994 08:49:36 GMT", 1000, RANGE_NONE, 0, 0,
	      "If-Range: date one second older");
	check("bytes=0-9", "Sun, 06 Nov 1994 08:49:38 GMT", 1000, RANGE_NONE, 0, 0,
	      "If-Range: date one second newer");
	check("bytes=0-9", "Sat, 05 Nov 1994 08:49:37 GMT", 1000, RANGE_NONE, 0, 0,
	      "If-Range: date a day older");
	check("bytes=0-9", "yesterday", 1000, RANGE_NONE, 0, 0, "If-Range: garbage");
	check("bytes=0-9", DATE "x", 1000, RANGE_NONE, 0, 0, "If-Range: date with a tail");
	check("bytes=0-9", "Sunday, 06-Nov-94 08:49:37 GMT", 1000, RANGE_NONE, 0, 0,
	      "If-Range: RFC 850 date not accepted");
	check("bytes=0-9", "Sun Nov  6 08:49:37 1994", 1000, RANGE_NONE, 0, 0,
	      "If-Range: asctime date not accepted");
	check("bytes=2000-", DATE, 1000, RANGE_UNSATISFIABLE, 0, 0,
	      "If-Range date matches, range unsatisfiable: 416");

	/* A representation with a weak ETag of its own: strong comparison fails. */
	ok(range_decide("bytes=0-9", "W/\"x\"", 1000, "W/\"x\"", LASTMOD,
			&(int64_t){ 0 }, &(int64_t){ 0 }) == RANGE_NONE,
	   "own weak ETag: If-Range never matches");
	ok(range_decide("bytes=0-9", "\"x\"", 1000, NULL, LASTMOD,
			&(int64_t){ 0 }, &(int64_t){ 0 }) == RANGE_NONE,
	   "no ETag of its own: a tag never matches");
}

int
main(void)
{
	test_single();
	test_invalid();
	test_whitespace();
	test_several();
	test_many();
	test_huge();
	test_if_range();
	return done_testing();
}
