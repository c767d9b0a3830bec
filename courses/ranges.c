/* ranges.c - sorted, merged sets of millisecond intervals (courses/ranges.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/ranges.h"

void
ranges_init(struct ranges *r)
{
	r->v = NULL;
	r->n = r->cap = 0;
}

void
ranges_cleanup(struct ranges *r)
{
	if (!r)
		return;
	free(r->v);
	ranges_init(r);
}

static int
reserve(struct ranges *r, size_t n)
{
	size_t cap = r->cap ? r->cap : 8;
	struct range *v;

	if (n <= r->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	if (cap > RANGES_MAX)
		cap = RANGES_MAX;
	v = realloc(r->v, cap * sizeof(*v));
	if (!v)
		return TC_ENOMEM;
	r->v = v;
	r->cap = cap;
	return 0;
}

/* Index of the first interval whose end is >= FROM (the first that could
 * overlap or touch [FROM, ...)). */
static size_t
first_reaching(const struct ranges *r, int64_t from)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->v[mid].to < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
ranges_add(struct ranges *r, int64_t from, int64_t to)
{
	size_t i, j;
	int rc;

	if (from < 0 || from > to || to > RANGES_END_MAX)
		return TC_EINVALID;
	if (from == to)
		return 0;
	i = first_reaching(r, from);
	/* J: one past the last interval that starts at or before TO */
	for (j = i; j < r->n && r->v[j].from <= to; j++)
		;
	if (i == j) {			/* nothing to merge: insert at I */
		if (r->n >= RANGES_MAX)
			return TC_ETOOBIG;
		if ((rc = reserve(r, r->n + 1)))
			return rc;
		memmove(r->v + i + 1, r->v + i, (r->n - i) * sizeof(*r->v));
		r->v[i] = (struct range){ from, to };
		r->n++;
		return 0;
	}
	if (r->v[i].from < from)
		from = r->v[i].from;
	if (r->v[j - 1].to > to)
		to = r->v[j - 1].to;
	r->v[i] = (struct range){ from, to };
	memmove(r->v + i + 1, r->v + j, (r->n - j) * sizeof(*r->v));
	r->n -= j - i - 1;
	return 0;
}

int
ranges_union(struct ranges *dst, const struct ranges *src)
{
	struct ranges tmp;
	int rc = 0;

	if (src->n == 0)
		return 0;
	ranges_init(&tmp);
	if ((rc = reserve(&tmp, dst->n)))
		goto out;
	if (dst->n)
		memcpy(tmp.v, dst->v, dst->n * sizeof(*dst->v));
	tmp.n = dst->n;
	for (size_t k = 0; k < src->n && rc == 0; k++)
		rc = ranges_add(&tmp, src->v[k].from, src->v[k].to);
	if (rc == 0) {
		ranges_cleanup(dst);
		*dst = tmp;
		ranges_init(&tmp);
	}
out:
	ranges_cleanup(&tmp);
	return rc;
}

int64_t
ranges_total(const struct ranges *r)
{
	int64_t t = 0;

	for (size_t i = 0; i < r->n; i++)
		t += r->v[i].to - r->v[i].from;
	return t;
}

int64_t
ranges_overlap_within(const struct ranges *a, const struct ranges *b, int64_t limit)
{
	size_t i = 0, j = 0;
	int64_t t = 0;

	while (i < a->n && j < b->n) {
		int64_t lo = a->v[i].from > b->v[j].from ? a->v[i].from : b->v[j].from;
		int64_t hi = a->v[i].to < b->v[j].to ? a->v[i].to : b->v[j].to;

		if (hi > limit)
			hi = limit;
		if (hi > lo)
			t += hi - lo;
		if (a->v[i].to < b->v[j].to)
			i++;
		else
			j++;
	}
	return t;
}

int64_t
ranges_overlap(const struct ranges *a, const struct ranges *b)
{
	return ranges_overlap_within(a, b, INT64_MAX);
}

void
ranges_clip(struct ranges *r, int64_t duration)
{
	while (r->n && r->v[r->n - 1].from >= duration)
		r->n--;
	if (r->n && r->v[r->n - 1].to > duration)
		r->v[r->n - 1].to = duration;
}

int
ranges_covers(const struct ranges *r, int64_t from, int64_t to)
{
	size_t i;

	if (from >= to)
		return 0;
	i = first_reaching(r, from + 1);
	return i < r->n && r->v[i].from <= from && r->v[i].to >= to;
}

int
ranges_format(const struct ranges *r, struct dynbuf *out)
{
	int rc = dynbuf_append(out, "", 0);

	for (size_t i = 0; i < r->n && rc == 0; i++)
		rc = dynbuf_printf(out, "%s%" PRId64 "-%" PRId64, i ? "," : "", r->v[i].from,
				   r->v[i].to);
	return rc;
}

/* A decimal number without sign or leading zero at *P (up to END), at most
 * RANGES_END_MAX. Advances *P. */
static int
number(const char **p, const char *end, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return TC_EINVALID;
	if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
		return TC_EINVALID;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > RANGES_END_MAX)
			return TC_EINVALID;
	}
	*p = s;
	*out = v;
	return 0;
}

int
ranges_parse(const char *text, size_t len, struct ranges *out)
{
	const char *p = text, *end = text + len;
	struct ranges tmp;
	int rc = 0;

	ranges_init(&tmp);
	if (!text && len)
		return TC_EINVALID;
	while (p < end) {
		int64_t from, to;

		if (tmp.n && *p++ != ',') {
			rc = TC_EINVALID;
			break;
		}
		if ((rc = number(&p, end, &from)) || p >= end || *p++ != '-' ||
		    (rc = number(&p, end, &to)) || from >= to ||
		    (tmp.n && from <= tmp.v[tmp.n - 1].to)) {
			rc = TC_EINVALID;
			break;
		}
		if (tmp.n >= RANGES_MAX) {
			rc = TC_ETOOBIG;
			break;
		}
		if ((rc = reserve(&tmp, tmp.n + 1)))
			break;
		tmp.v[tmp.n++] = (struct range){ from, to };
	}
	if (rc == 0) {
		ranges_cleanup(out);
		*out = tmp;
		ranges_init(&tmp);
	}
	ranges_cleanup(&tmp);
	return rc;
}

int
ranges_histogram(const struct ranges *r, int64_t duration, int64_t *counts, size_t n)
{
	size_t i = 0;

	if (duration <= 0 || duration > RANGES_END_MAX || n == 0 || n > RANGES_BUCKETS_MAX ||
	    !counts)
		return TC_EINVALID;
	for (size_t b = 0; b < n; b++) {
		/* bucket B is [lo, hi); no overflow: duration * n < 2^63 */
		int64_t lo = duration * (int64_t)b / (int64_t)n;
		int64_t hi = duration * (int64_t)(b + 1) / (int64_t)n;

		while (i < r->n && r->v[i].to <= lo)
			i++;
		if (hi > lo && i < r->n && r->v[i].from < hi)
			counts[b]++;
	}
	return 0;
}
