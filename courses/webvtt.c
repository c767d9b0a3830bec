/*
 * webvtt.c - see webvtt.h.
 *
 * One pass over the lines. next_line() cuts the buffer at CRLF, LF or CR,
 * numbers the lines and checks each for NUL bytes and UTF-8 (a line end
 * byte is never part of a UTF-8 sequence, so line by line is enough); it
 * can hand one line back (unread_line), which is how a line holding "-->"
 * ends one block and starts the next, as in the spec's "collect a WebVTT
 * block". Timing lines follow the spec's "collect a WebVTT timestamp";
 * settings follow the authoring syntax (section 4).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/webvtt.h"

#define HOUR_DIGITS_MAX 9
#define QUOTE_MAX 40		/* bytes of input quoted in a message */

struct line {
	const char *s;
	size_t n;
	int no;			/* 1-based */
};

struct vtt {
	const char *buf;
	size_t len, pos;
	int no;				/* lines read */
	struct line back;		/* a line handed back */
	int has_back;
	char *why;
	size_t whylen;
	int cues;
	int64_t last_start, max_end;	/* milliseconds */
};

/* Cue settings, as bits of a mask of the ones seen. */
static const char *const setting_names[] = {
	"vertical", "line", "position", "size", "align", "region",
};
enum { S_VERTICAL, S_LINE, S_POSITION, S_SIZE, S_ALIGN, S_REGION };

static int fail(struct vtt *v, int rc, int no, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes "line NO: " and the message to WHY (no prefix when NO is 0); RC. */
static int
fail(struct vtt *v, int rc, int no, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (v->why == NULL || v->whylen == 0)
		return rc;
	if (no > 0)
		n = snprintf(v->why, v->whylen, "line %d: ", no);
	if (n >= 0 && (size_t)n < v->whylen) {
		va_start(ap, fmt);
		vsnprintf(v->why + n, v->whylen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* How many of the N bytes at S to quote: at most QUOTE_MAX, not cutting a
 * UTF-8 sequence. */
static int
quote_len(const char *s, size_t n)
{
	if (n <= QUOTE_MAX)
		return (int)n;
	n = QUOTE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\f';
}

/* The index of the first non-blank of L from I on. */
static size_t
skip_blanks(const struct line *l, size_t i)
{
	while (i < l->n && is_blank(l->s[i]))
		i++;
	return i;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1 when the N bytes at S are exactly WORD. */
static int
is_word(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

static int
has_arrow(const struct line *l)
{
	for (size_t i = 0; i + 3 <= l->n; i++)
		if (l->s[i] == '-' && l->s[i + 1] == '-' && l->s[i + 2] == '>')
			return 1;
	return 0;
}

/* 1 when L is WORD followed by nothing or blanks only (ALONE), or by
 * nothing, a space or a tab (!ALONE). */
static int
starts_block(const struct line *l, const char *word, int alone)
{
	size_t wn = strlen(word);

	if (l->n < wn || memcmp(l->s, word, wn) != 0)
		return 0;
	if (!alone)
		return l->n == wn || l->s[wn] == ' ' || l->s[wn] == '\t';
	for (size_t i = wn; i < l->n; i++)
		if (!is_blank(l->s[i]))
			return 0;
	return 1;
}

/* 1 and the next line in L, 0 at the end, or TC_EINVALID. */
static int
next_line(struct vtt *v, struct line *l)
{
	size_t n = 0;

	if (v->has_back) {
		*l = v->back;
		v->has_back = 0;
		return 1;
	}
	if (v->pos >= v->len)
		return 0;
	l->s = v->buf + v->pos;
	while (v->pos + n < v->len && l->s[n] != '\n' && l->s[n] != '\r')
		n++;
	l->n = n;
	l->no = ++v->no;
	v->pos += n;
	if (v->pos < v->len) {
		if (v->buf[v->pos] == '\r' && v->pos + 1 < v->len && v->buf[v->pos + 1] == '\n')
			v->pos++;
		v->pos++;
	}
	if (memchr(l->s, '\0', n) != NULL)
		return fail(v, TC_EINVALID, l->no, "the line holds a NUL byte");
	if (utf8_check(l->s, n) != 0)
		return fail(v, TC_EINVALID, l->no, "the line is not valid UTF-8");
	return 1;
}

static void
unread_line(struct vtt *v, const struct line *l)
{
	v->back = *l;
	v->has_back = 1;
}

/* Skips the rest of a block: up to a blank line, the end, or a line
 * holding "-->" (handed back: it starts the next block). */
static int
skip_block(struct vtt *v)
{
	struct line l;
	int rc;

	while ((rc = next_line(v, &l)) == 1 && l.n > 0) {
		if (has_arrow(&l)) {
			unread_line(v, &l);
			break;
		}
	}
	return rc < 0 ? rc : 0;
}

/* ---- timing lines ---------------------------------------------------- */

/* Skips digits at *I; their count, and their value in *VAL (exact up to
 * 18 digits). */
static size_t
digits(const char *s, size_t n, size_t *i, uint64_t *val)
{
	size_t start = *i;

	*val = 0;
	while (*i < n && is_digit(s[*i])) {
		if (*i - start < 18)
			*val = *val * 10 + (uint64_t)(s[*i] - '0');
		(*i)++;
	}
	return *i - start;
}

/* A timestamp at *I of L (the spec's "collect a WebVTT timestamp"). */
static int
timestamp(struct vtt *v, const struct line *l, size_t *i, const char *which, int64_t *ms)
{
	const char *s = l->s;
	size_t n = l->n, d1;
	uint64_t h, m, sec, frac;

	d1 = digits(s, n, i, &h);
	if (d1 == 0 || d1 > HOUR_DIGITS_MAX || *i >= n || s[*i] != ':')
		goto shape;
	(*i)++;
	if (digits(s, n, i, &m) != 2)
		goto shape;
	if (*i < n && s[*i] == ':') {
		(*i)++;
		if (digits(s, n, i, &sec) != 2)
			goto shape;
	} else if (d1 == 2) {
		sec = m;
		m = h;
		h = 0;
	} else {
		goto shape;
	}
	if (*i < n && s[*i] == ',')
		return fail(v, TC_EINVALID, l->no,
			    "the %s time has ',' before the milliseconds where WebVTT has '.' "
			    "(is this an SRT file?)", which);
	if (*i >= n || s[*i] != '.')
		goto shape;
	(*i)++;
	if (digits(s, n, i, &frac) != 3)
		return fail(v, TC_EINVALID, l->no,
			    "the %s time needs exactly three digits of milliseconds", which);
	if (m > 59)
		return fail(v, TC_EINVALID, l->no, "the minutes of the %s time must be below 60",
			    which);
	if (sec > 59)
		return fail(v, TC_EINVALID, l->no, "the seconds of the %s time must be below 60",
			    which);
	*ms = (int64_t)(((h * 60 + m) * 60 + sec) * 1000 + frac);
	return 0;
shape:
	return fail(v, TC_EINVALID, l->no, "the %s time is not of the form [hh:]mm:ss.ttt", which);
}

/* Digits, optionally '.' and digits, then '%'; from 0 to 100. */
static int
is_percentage(const char *s, size_t n)
{
	size_t i = 0, d;
	uint64_t whole;
	int frac_zero = 1;

	d = digits(s, n, &i, &whole);
	if (d == 0 || d > 18 || whole > 100)
		return 0;
	if (i < n && s[i] == '.') {
		size_t start = ++i;

		while (i < n && is_digit(s[i]))
			if (s[i++] != '0')
				frac_zero = 0;
		if (i == start)
			return 0;
	}
	return i + 1 == n && s[i] == '%' && (whole < 100 || frac_zero);
}

/* An optional '-' and digits. */
static int
is_line_number(const char *s, size_t n)
{
	size_t i = n > 0 && s[0] == '-';

	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

/* POS[,ALIGN] where ALIGN is one of the NULL-terminated WORDS; POS is a
 * percentage, or (NUMBERS) a line number too. */
static int
is_pos_align(const char *s, size_t n, int numbers, const char *const *words)
{
	const char *comma = memchr(s, ',', n);
	size_t pn = comma ? (size_t)(comma - s) : n;

	if (!is_percentage(s, pn) && !(numbers && is_line_number(s, pn)))
		return 0;
	if (comma == NULL)
		return 1;
	for (; *words; words++)
		if (is_word(comma + 1, n - pn - 1, *words))
			return 1;
	return 0;
}

static int
setting_value_ok(int which, const char *val, size_t n)
{
	static const char *const line_align[] = { "start", "center", "end", NULL };
	static const char *const pos_align[] = { "line-left", "center", "line-right", NULL };
	struct line l = { val, n, 0 };

	switch (which) {
	case S_VERTICAL:
		return is_word(val, n, "rl") || is_word(val, n, "lr");
	case S_LINE:
		return is_pos_align(val, n, 1, line_align);
	case S_POSITION:
		return is_pos_align(val, n, 0, pos_align);
	case S_SIZE:
		return is_percentage(val, n);
	case S_ALIGN:
		return is_word(val, n, "start") || is_word(val, n, "center") ||
		       is_word(val, n, "end") || is_word(val, n, "left") ||
		       is_word(val, n, "right");
	default:	/* S_REGION */
		return !has_arrow(&l);
	}
}

/* The settings after the end time, from *I of L. */
static int
settings(struct vtt *v, const struct line *l, size_t i)
{
	unsigned seen = 0;

	for (;;) {
		const char *w, *colon;
		size_t wn = 0, nn;
		int which = -1;

		i = skip_blanks(l, i);
		if (i == l->n)
			return 0;
		w = l->s + i;
		while (i + wn < l->n && !is_blank(w[wn]))
			wn++;
		i += wn;
		colon = memchr(w, ':', wn);
		if (colon == NULL || colon == w || colon == w + wn - 1)
			return fail(v, TC_EINVALID, l->no,
				    "\"%.*s\" is not a cue setting (name:value)",
				    quote_len(w, wn), w);
		nn = (size_t)(colon - w);
		for (size_t k = 0; k < sizeof(setting_names) / sizeof(setting_names[0]); k++)
			if (is_word(w, nn, setting_names[k]))
				which = (int)k;
		if (which < 0)
			return fail(v, TC_EINVALID, l->no, "unknown cue setting \"%.*s\"",
				    quote_len(w, nn), w);
		if (seen & (1u << which))
			return fail(v, TC_EINVALID, l->no, "the cue setting %s is given twice",
				    setting_names[which]);
		seen |= 1u << which;
		if (!setting_value_ok(which, colon + 1, wn - nn - 1))
			return fail(v, TC_EINVALID, l->no, "the cue setting \"%.*s\" is not valid",
				    quote_len(w, wn), w);
	}
}

/* The timing line L of a cue: times, settings, order. */
static int
cue(struct vtt *v, const struct line *l)
{
	int64_t start, end;
	size_t i = skip_blanks(l, 0);
	int rc;

	rc = timestamp(v, l, &i, "start", &start);
	if (rc)
		return rc;
	i = skip_blanks(l, i);
	if (l->n - i < 3 || memcmp(l->s + i, "-->", 3) != 0)
		return fail(v, TC_EINVALID, l->no, "expected \"-->\" after the start time");
	i += 3;
	i = skip_blanks(l, i);
	rc = timestamp(v, l, &i, "end", &end);
	if (rc)
		return rc;
	if (i < l->n && !is_blank(l->s[i]))
		return fail(v, TC_EINVALID, l->no, "expected a space after the end time");
	rc = settings(v, l, i);
	if (rc)
		return rc;
	if (end < start)
		return fail(v, TC_EINVALID, l->no, "the cue ends before it starts");
	if (end == start)
		return fail(v, TC_EINVALID, l->no, "the cue ends as soon as it starts");
	if (start < v->last_start)
		return fail(v, TC_EINVALID, l->no, "the cue starts before the cue above it");
	if (v->cues == WEBVTT_CUES_MAX)
		return fail(v, TC_ETOOBIG, l->no, "more than %d cues", WEBVTT_CUES_MAX);
	v->cues++;
	v->last_start = start;
	if (end > v->max_end)
		v->max_end = end;
	return 0;
}

/* ---- blocks ----------------------------------------------------------- */

/* 1 when the line that next_line() would read holds "-->" (looked at
 * without checking it). */
static int
next_has_arrow(const struct vtt *v)
{
	struct line l = { v->buf + v->pos, 0, 0 };

	while (v->pos + l.n < v->len && l.s[l.n] != '\n' && l.s[l.n] != '\r')
		l.n++;
	return has_arrow(&l);
}

/* The block whose first (non-empty) line is L1. */
static int
block(struct vtt *v, const struct line *l1)
{
	struct line l2;
	int rc, more;

	if (has_arrow(l1)) {
		rc = cue(v, l1);
		if (rc == TC_EINVALID && !v->has_back && next_has_arrow(v))
			rc = fail(v, TC_EINVALID, l1->no,
				  "a cue identifier must not contain \"-->\"");
		return rc ? rc : skip_block(v);
	}
	rc = next_line(v, &l2);
	if (rc < 0)
		return rc;
	if (rc == 1 && has_arrow(&l2)) {	/* L1 is the identifier */
		rc = cue(v, &l2);
		return rc ? rc : skip_block(v);
	}
	more = rc == 1 && l2.n > 0;
	if (more)
		unread_line(v, &l2);
	if (starts_block(l1, "STYLE", 1) || starts_block(l1, "REGION", 1)) {
		if (v->cues > 0)
			return fail(v, TC_EINVALID, l1->no,
				    "STYLE and REGION blocks must come before the first cue");
	} else if (!starts_block(l1, "NOTE", 0)) {
		return fail(v, TC_EINVALID, l1->no,
			    "expected a cue (a timing line such as \"00:01.000 --> 00:02.500\", "
			    "optionally after an identifier line) or a NOTE");
	}
	return more ? skip_block(v) : 0;
}

int
webvtt_check(const char *buf, size_t len, struct webvtt_summary *out,
	     char *why, size_t whylen)
{
	struct vtt v = { .buf = buf, .len = len, .why = why, .whylen = whylen };
	struct line l;
	char after;
	int rc;

	if (why && whylen)
		why[0] = '\0';
	if (len > WEBVTT_MAX)
		return fail(&v, TC_ETOOBIG, 0, "the file is larger than %d bytes", WEBVTT_MAX);
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		v.pos = 3;
	after = len - v.pos > 6 ? buf[v.pos + 6] : '\n';
	if (len - v.pos < 6 || memcmp(buf + v.pos, "WEBVTT", 6) != 0 ||
	    (after != ' ' && after != '\t' && after != '\r' && after != '\n'))
		return fail(&v, TC_EINVALID, 1, "the file does not start with \"WEBVTT\"");
	rc = next_line(&v, &l);
	if (rc < 0)
		return rc;

	/* The header: lines up to a blank one or one holding "-->". */
	while ((rc = next_line(&v, &l)) == 1 && l.n > 0) {
		if (has_arrow(&l)) {
			unread_line(&v, &l);
			break;
		}
	}
	if (rc < 0)
		return rc;

	while ((rc = next_line(&v, &l)) == 1) {
		if (l.n == 0)
			continue;
		rc = block(&v, &l);
		if (rc)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (out) {
		out->cues = v.cues;
		out->last_end_ms = v.max_end;
	}
	return 0;
}

/* ---- language tags ---------------------------------------------------- */

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The length of the subtag at S (up to '-' or the end) when all of it
 * passes IS; else 0. */
static size_t
subtag(const char *s, int (*is)(char))
{
	size_t n = 0;

	while (s[n] != '\0' && s[n] != '-') {
		if (!is(s[n]))
			return 0;
		n++;
	}
	return n;
}

int
lang_tag_valid(const char *tag)
{
	const char *p = tag;
	size_t n;

	if (tag == NULL || strlen(tag) > LANG_TAG_MAX)
		return 0;
	n = subtag(p, is_alpha);
	if (n < 2 || n > 3)
		return 0;
	p += n;
	if (*p == '-' && subtag(p + 1, is_alpha) == 4)		/* script */
		p += 5;
	if (*p == '-') {					/* region */
		n = subtag(p + 1, is_alpha);
		if (n != 2 && subtag(p + 1, is_digit) != 3)
			return 0;
		p += 1 + (n == 2 ? 2 : 3);
	}
	return *p == '\0';
}
