/*
 * range.c - see range.h.
 *
 * Grammar (RFC 9110 sections 14.1.1 and 5.6.1, as accepted here):
 *
 *   Range    = "bytes" "=" list          ; unit case-insensitive
 *   list     = [ spec ] *( OWS "," OWS [ spec ] )   ; at least one spec
 *   spec     = 1*DIGIT "-" [ 1*DIGIT ]  /  "-" 1*DIGIT
 *   OWS      = *( SP / HTAB )
 *
 * Whitespace is accepted at the two ends of the field value (it is not part
 * of the value, RFC 9110 section 5.5) and around commas, nowhere else:
 * "bytes= 0-1", "bytes =0-1" and "bytes=0 -1" are invalid and ignored.
 * Empty list elements ("bytes=0-1,,5-9") are accepted as section 5.6.1.2
 * asks of recipients, but every element, empty or not, counts towards the
 * limit of RANGE_SPECS_MAX.
 *
 * *first and *last are written only for RANGE_ONE. If-Range is looked at
 * only when the Range is valid; a blank one counts as absent. With SIZE 0
 * even "bytes=-n" is unsatisfiable (range.h), although RFC 9110 calls a
 * non-zero suffix satisfiable there: there is no byte to send in a 206.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "server/range.h"
#include "server/static.h"

#define RANGE_SPECS_MAX	100
#define DATE_MAX	64	/* longer than any IMF-fixdate */

/* A satisfiable range, after clamping to the representation. */
struct span {
	int64_t first, last;
};

/* What parsing the Range value found. */
enum parsed {
	PARSED_INVALID,		/* ignore the header */
	PARSED_TOO_MANY,	/* over RANGE_SPECS_MAX elements */
	PARSED_OK,		/* *nspans satisfiable spans (maybe 0) */
};

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Skips whitespace at the front of [*s, *end) and at its back. */
static void
trim(const char **s, const char **end)
{
	while (*s < *end && is_ows(**s))
		(*s)++;
	while (*end > *s && is_ows((*end)[-1]))
		(*end)--;
}

/*
 * Reads 1*DIGIT at *p (before END) into *out and advances *p. Returns 0, or
 * -1 when there is no digit or the number does not fit an int64_t.
 */
static int
read_number(const char **p, const char *end, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;

	if (s >= end || !is_digit(*s))
		return -1;
	for (; s < end && is_digit(*s); s++) {
		int d = *s - '0';

		if (v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

/*
 * Parses one non-empty spec [s, end) and, when it is satisfiable for SIZE,
 * clamps it into *out and sets *sat. Returns 0, or -1 when the spec is
 * invalid.
 */
static int
parse_spec(const char *s, const char *end, int64_t size, struct span *out, int *sat)
{
	int64_t a, b;

	*sat = 0;
	if (*s == '-') {			/* "-suffix" */
		s++;
		if (read_number(&s, end, &b) || s != end)
			return -1;
		if (b == 0 || size == 0)
			return 0;
		out->first = b >= size ? 0 : size - b;
		out->last = size - 1;
		*sat = 1;
		return 0;
	}
	if (read_number(&s, end, &a) || s == end || *s != '-')
		return -1;
	s++;
	if (s == end) {				/* "first-" */
		b = INT64_MAX;
	} else {				/* "first-last" */
		if (read_number(&s, end, &b) || s != end || b < a)
			return -1;
	}
	if (a >= size)
		return 0;
	out->first = a;
	out->last = b >= size ? size - 1 : b;
	*sat = 1;
	return 0;
}

/*
 * Parses the whole Range value [s, end) and collects its satisfiable spans
 * into SPANS (room for RANGE_SPECS_MAX) and *nspans.
 */
static enum parsed
parse_range(const char *s, const char *end, int64_t size, struct span *spans,
	    size_t *nspans)
{
	size_t elements = 0, specs = 0;

	*nspans = 0;
	if (end - s < 6 || strncasecmp(s, "bytes=", 6) != 0)
		return PARSED_INVALID;
	s += 6;
	for (;;) {
		const char *e = s, *next;
		int sat;

		if (++elements > RANGE_SPECS_MAX)
			return PARSED_TOO_MANY;
		while (e < end && *e != ',')
			e++;
		next = e;
		while (e > s && is_ows(e[-1]))	/* OWS before the comma */
			e--;
		if (e > s) {
			if (parse_spec(s, e, size, &spans[*nspans], &sat))
				return PARSED_INVALID;
			specs++;
			*nspans += (size_t)sat;
		}
		if (next == end)
			break;
		s = next + 1;
		while (s < end && is_ows(*s))	/* OWS after the comma */
			s++;
	}
	return specs ? PARSED_OK : PARSED_INVALID;
}

/* Sorts SPANS by first offset (insertion sort: at most 100 of them). */
static void
sort_spans(struct span *spans, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct span x = spans[i];
		size_t j = i;

		for (; j > 0 && spans[j - 1].first > x.first; j--)
			spans[j] = spans[j - 1];
		spans[j] = x;
	}
}

/*
 * Coalesces N (>= 1) spans: returns 1 and the union in *out when they form
 * one contiguous range (overlapping or adjacent), else 0.
 */
static int
coalesce(struct span *spans, size_t n, struct span *out)
{
	struct span u;

	sort_spans(spans, n);
	u = spans[0];
	for (size_t i = 1; i < n; i++) {
		if (spans[i].first > u.last + 1)	/* a gap: last < INT64_MAX */
			return 0;
		if (spans[i].last > u.last)
			u.last = spans[i].last;
	}
	*out = u;
	return 1;
}

/*
 * 1 when If-Range [s, end) (non-empty) lets the Range apply: an entity-tag
 * equal, strongly, to ETAG, or an IMF-fixdate equal to LAST_MODIFIED.
 * A weak tag ("W/...") never matches; neither does anything unparseable.
 */
static int
if_range_matches(const char *s, const char *end, const char *etag,
		 int64_t last_modified)
{
	char date[DATE_MAX];
	size_t n = (size_t)(end - s);
	int64_t t;

	if (*s == '"') {
		if (!etag || etag[0] != '"')		/* no or weak own tag */
			return 0;
		return strlen(etag) == n && memcmp(etag, s, n) == 0;
	}
	if (n >= sizeof(date))
		return 0;
	memcpy(date, s, n);
	date[n] = '\0';
	return http_date_parse(date, &t) == 0 && t == last_modified;
}

enum range_result
range_decide(const char *range, const char *if_range, int64_t size,
	     const char *etag, int64_t last_modified,
	     int64_t *first, int64_t *last)
{
	struct span spans[RANGE_SPECS_MAX], one;
	const char *r, *r_end, *ir, *ir_end;
	size_t n;

	if (!range || size < 0)
		return RANGE_NONE;
	r = range;
	r_end = range + strlen(range);
	trim(&r, &r_end);
	if (parse_range(r, r_end, size, spans, &n) != PARSED_OK)
		return RANGE_NONE;

	/* A Range that is well formed: If-Range decides whether it counts. */
	if (if_range) {
		ir = if_range;
		ir_end = if_range + strlen(if_range);
		trim(&ir, &ir_end);
		if (ir < ir_end && !if_range_matches(ir, ir_end, etag, last_modified))
			return RANGE_NONE;
	}

	if (n == 0)
		return RANGE_UNSATISFIABLE;
	if (!coalesce(spans, n, &one))
		return RANGE_NONE;
	*first = one.first;
	*last = one.last;
	return RANGE_ONE;
}
