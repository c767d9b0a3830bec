/* jcs.c - see jcs.h. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/jcs.h"

#define TWO_POW_53 9007199254740992.0

static const char hexdigits[] = "0123456789abcdef";

/* ---- numbers (ECMAScript Number::toString) ------------------------------ */

/*
 * Reads the text of "%.*e" ("d.ddde+XX") or of "%llue%d" into its significant
 * digits without trailing zeros (*K of them, NUL-terminated) and the decimal
 * exponent N of ECMAScript's definition: value = 0.DIGITS x 10^N.
 */
static void
split_decimal(const char *text, char digits[20], int *k, int *n)
{
	const char *p = text;
	int len = 0, lead = -1;

	for (; *p != 'e'; p++) {
		if (*p == '.') {
			lead = len;
			continue;
		}
		if (len < 19)
			digits[len++] = *p;
	}
	if (lead < 0)
		lead = len;
	*n = atoi(p + 1) + lead;
	while (len > 1 && digits[len - 1] == '0')
		len--;
	digits[len] = '\0';
	*k = len;
}

/* 1 when the decimal TEXT reads back as exactly X. */
static int
round_trips(const char *text, double x)
{
	return strtod(text, NULL) == x;
}

/*
 * The shortest digits that read back as X (finite, > 0). For each precision
 * P the correctly rounded P-digit decimal is the closest one, so it is the
 * answer whenever any P-digit decimal round-trips, except next to a power of
 * two, where the interval that reads back as X is narrower below X than
 * above: then the P-digit neighbour on the other side may round-trip while
 * the nearest does not, so both neighbours are tried too.
 *
 * A normal double starts at P = 15 (DBL_DIG): a decimal of at most 15
 * digits that reads back as X is what X correctly rounded to 15 digits
 * gives (a decimal of DBL_DIG digits survives the trip through a double;
 * a rounding that falls just below DBL_MIN still does, the spacing of the
 * largest subnormals being that at DBL_MIN), so when the 15-digit rounding
 * round-trips, it is the answer with its trailing zeros dropped, and when
 * it does not, no shorter decimal does.
 * That is 2 conversions for most numbers instead of one per digit (a
 * document of many long numbers otherwise cost about 50 each).
 * Subnormals keep fewer digits, so they start at 1.
 */
static void
shortest(double x, char digits[20], int *k, int *n)
{
	char text[48];
	int from = 1;

	if (x >= DBL_MIN) {
		snprintf(text, sizeof(text), "%.14e", x);
		if (round_trips(text, x)) {
			split_decimal(text, digits, k, n);
			return;
		}
		from = 16;
	}
	for (int p = from; p <= 17; p++) {
		char mant[20];
		unsigned long long m = 0;
		int mk, mn;

		snprintf(text, sizeof(text), "%.*e", p - 1, x);
		if (round_trips(text, x) || p == 17) {
			split_decimal(text, digits, k, n);
			return;
		}
		split_decimal(text, mant, &mk, &mn);
		for (int i = 0; i < p; i++)
			m = m * 10 + (unsigned long long)(i < mk ? mant[i] - '0' : 0);
		/* value = m x 10^(mn - p) */
		for (int d = -1; d <= 1; d += 2) {
			if (d < 0 && m <= 1)
				continue;
			snprintf(text, sizeof(text), "%llue%d", m + (unsigned long long)d, mn - p);
			if (round_trips(text, x)) {
				split_decimal(text, digits, k, n);
				return;
			}
		}
	}
}

int
jcs_number(double d, char out[JCS_NUMBER_MAX])
{
	char digits[20], *o = out;
	int k, n;

	out[0] = '\0';
	if (!isfinite(d))
		return TC_EINVALID;
	if (d == 0) {	/* +0 and -0 */
		memcpy(out, "0", 2);
		return 0;
	}
	if (d == trunc(d) && fabs(d) <= TWO_POW_53) {
		snprintf(out, JCS_NUMBER_MAX, "%.0f", d);
		return 0;
	}
	if (d < 0) {
		*o++ = '-';
		d = -d;
	}
	shortest(d, digits, &k, &n);
	if (k <= n && n <= 21) {
		memcpy(o, digits, (size_t)k);
		memset(o + k, '0', (size_t)(n - k));
		o[n] = '\0';
	} else if (0 < n && n <= 21) {
		memcpy(o, digits, (size_t)n);
		o[n] = '.';
		memcpy(o + n + 1, digits + n, (size_t)(k - n) + 1);
	} else if (-6 < n && n <= 0) {
		memcpy(o, "0.", 2);
		memset(o + 2, '0', (size_t)-n);
		memcpy(o + 2 - n, digits, (size_t)k + 1);
	} else {
		*o++ = digits[0];
		if (k > 1) {
			*o++ = '.';
			memcpy(o, digits + 1, (size_t)k - 1);
			o += k - 1;
		}
		snprintf(o, (size_t)(JCS_NUMBER_MAX - (o - out)), "e%c%d",
			 n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
	return 0;
}

/* ---- strings -------------------------------------------------------------- */

/*
 * Decodes the UTF-8 character at S[*I] (LEN bytes in all) into *CP and moves
 * *I past it. -1 for a malformed, overlong, truncated or surrogate sequence
 * or one beyond U+10FFFF.
 */
static int
utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
	unsigned char c = s[*i];
	uint32_t v, min;
	size_t extra;

	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return 0;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		extra = 1; v = c & 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		extra = 2; v = c & 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		extra = 3; v = c & 0x07; min = 0x10000;
	} else {
		return -1;
	}
	if (len - *i <= extra)
		return -1;
	for (size_t j = 1; j <= extra; j++) {
		unsigned char b = s[*i + j];

		if ((b & 0xC0) != 0x80)
			return -1;
		v = (v << 6) | (b & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return -1;
	*cp = v;
	*i += extra + 1;
	return 0;
}

/* Appends the byte C: the common case without a call. */
static inline int
put_byte(struct dynbuf *out, char c)
{
	if (out->data && out->len + 2 <= out->alloc && out->len < out->cap) {
		out->data[out->len++] = c;
		out->data[out->len] = '\0';
		return 0;
	}
	return dynbuf_append(out, &c, 1);
}

/*
 * Appends S (LEN bytes) as a JSON.stringify string literal, checking in
 * the same pass that it is valid UTF-8 (TC_EINVALID when not; what was
 * appended then is for jcs_canonicalize to take back).
 */
static int
put_string(struct dynbuf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0, i = 0;
	uint32_t cp;
	int rc;

	if ((rc = dynbuf_reserve(out, len + 2)) || (rc = put_byte(out, '"')))
		return rc;
	while (i < len) {
		unsigned char c = u[i];
		char esc[7];
		size_t n = 2;

		if (c >= 0x80) {
			if (utf8_next(u, len, &i, &cp) != 0)
				return TC_EINVALID;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hexdigits[c >> 4];
			esc[5] = hexdigits[c & 0x0F];
			n = 6;
		}
		if ((rc = dynbuf_append(out, s + run, i - run)) || (rc = dynbuf_append(out, esc, n)))
			return rc;
		run = ++i;
	}
	if ((rc = dynbuf_append(out, s + run, len - run)))
		return rc;
	return put_byte(out, '"');
}

/* ---- objects -------------------------------------------------------------- */

struct member {
	const char *key;
	size_t len;
	json_t *value;
};

/*
 * Orders two names as their UTF-16 code unit arrays. In UTF-8 the byte
 * order is the code point order, and UTF-16 orders the same except that a
 * character beyond U+FFFF (lead byte F0..F4, a high surrogate D800..DBFF in
 * UTF-16) sorts before U+E000..U+FFFF (lead byte EE or EF). Where two names
 * first differ is a lead byte of both, or a continuation byte (80..BF) of
 * two characters with the same lead, so only that one case needs care.
 * (Names that are not UTF-8 sort somewhere; put_string refuses them.)
 */
static int
member_cmp(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;
	const unsigned char *sa = (const unsigned char *)a->key;
	const unsigned char *sb = (const unsigned char *)b->key;
	size_t n = a->len < b->len ? a->len : b->len, i = 0;

	while (i < n && sa[i] == sb[i])
		i++;
	if (i == n)
		return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
	if (sa[i] >= 0xF0 && (sb[i] == 0xEE || sb[i] == 0xEF))
		return -1;
	if (sb[i] >= 0xF0 && (sa[i] == 0xEE || sa[i] == 0xEF))
		return 1;
	return sa[i] < sb[i] ? -1 : 1;
}

/* Where jcs_canonicalize_split's member was written. */
struct split {
	const char *key;
	size_t len;
	size_t start, end;
};

static int put_value(const json_t *v, struct dynbuf *out, int depth);

#define MEMBERS_ON_STACK 24

static int
put_object(const json_t *obj, struct dynbuf *out, int depth, struct split *sp)
{
	struct member stack[MEMBERS_ON_STACK], *m = stack;
	size_t n = json_object_size(obj), i = 0;
	int rc = 0;

	if (n > MEMBERS_ON_STACK && !(m = calloc(n, sizeof(*m))))
		return TC_ENOMEM;
	for (void *it = json_object_iter((json_t *)obj); it != NULL && i < n;
	     it = json_object_iter_next((json_t *)obj, it), i++) {
		m[i].key = json_object_iter_key(it);
		m[i].len = json_object_iter_key_len(it);
		m[i].value = json_object_iter_value(it);
	}
	n = i;
	if (n > 1)
		qsort(m, n, sizeof(*m), member_cmp);
	rc = put_byte(out, '{');
	for (i = 0; rc == 0 && i < n; i++) {
		size_t at = out->len;
		int skip = sp && m[i].len == sp->len && memcmp(m[i].key, sp->key, sp->len) == 0;

		if (i > 0)
			rc = put_byte(out, ',');
		if (rc == 0)
			rc = put_string(out, m[i].key, m[i].len);
		if (rc == 0)
			rc = put_byte(out, ':');
		if (rc == 0)
			rc = put_value(m[i].value, out, depth + 1);
		if (rc == 0 && skip) {
			/* the member with the comma before it, or after it when first */
			sp->start = at;
			sp->end = out->len + (i == 0 && n > 1);
		}
	}
	if (rc == 0)
		rc = put_byte(out, '}');
	if (m != stack)
		free(m);
	return rc;
}

static int
put_array(const json_t *arr, struct dynbuf *out, int depth)
{
	size_t n = json_array_size(arr);
	int rc;

	rc = put_byte(out, '[');
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (i > 0)
			rc = put_byte(out, ',');
		if (rc == 0)
			rc = put_value(json_array_get(arr, i), out, depth + 1);
	}
	if (rc == 0)
		rc = put_byte(out, ']');
	return rc;
}

static int
put_value(const json_t *v, struct dynbuf *out, int depth)
{
	char num[JCS_NUMBER_MAX];
	int rc;

	if (v == NULL || depth > JCS_MAX_DEPTH)
		return TC_EINVALID;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return put_object(v, out, depth, NULL);
	case JSON_ARRAY:
		return put_array(v, out, depth);
	case JSON_STRING:
		return put_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		/* As JSON.parse reads it: the nearest double. */
		rc = jcs_number((double)json_integer_value(v), num);
		return rc == 0 ? dynbuf_puts(out, num) : rc;
	case JSON_REAL:
		rc = jcs_number(json_real_value(v), num);
		return rc == 0 ? dynbuf_puts(out, num) : rc;
	case JSON_TRUE:
		return dynbuf_puts(out, "true");
	case JSON_FALSE:
		return dynbuf_puts(out, "false");
	case JSON_NULL:
		return dynbuf_puts(out, "null");
	}
	return TC_EINVALID;
}

/* Makes room for a credential-sized text at once, not by doubling from 64. */
static void
presize(struct dynbuf *out)
{
	if (out->alloc < 4096 && out->cap >= out->len + 4096)
		(void)dynbuf_reserve(out, 4096);
}

int
jcs_string(struct dynbuf *out, const char *s, size_t len)
{
	size_t start = out->len;
	int rc = put_string(out, s, len);

	if (rc != 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}

int
jcs_canonicalize(const json_t *v, struct dynbuf *out)
{
	size_t start = out->len;
	int rc;

	presize(out);
	rc = put_value(v, out, 0);
	if (rc != 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}

int
jcs_canonicalize_split(const json_t *obj, const char *key, struct dynbuf *out, size_t *start,
		       size_t *end)
{
	size_t begin = out->len;
	struct split sp = { key, strlen(key), 0, 0 };
	int rc;

	*start = *end = 0;
	if (!json_is_object(obj))
		return TC_EINVALID;
	presize(out);
	rc = put_object(obj, out, 0, &sp);
	if (rc != 0 && out->data != NULL) {
		out->len = begin;
		out->data[begin] = '\0';
	}
	if (rc == 0 && sp.end > sp.start) {
		*start = sp.start;
		*end = sp.end;
	} else if (rc == 0) {
		*start = *end = out->len;
	}
	return rc;
}

json_t *
jcs_parse(const char *text, size_t len, char *err, size_t errsize)
{
	json_error_t jerr;
	json_t *v;

	v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
		       JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
	if (v == NULL && err != NULL && errsize > 0)
		snprintf(err, errsize, "not canonicalizable JSON at line %d column %d: %s",
			 jerr.line, jerr.column, jerr.text);
	return v;
}

int
jcs_canonicalize_text(const char *text, size_t len, struct dynbuf *out,
		      char *err, size_t errsize)
{
	json_t *v;
	int rc;

	v = jcs_parse(text, len, err, errsize);
	if (v == NULL)
		return TC_EINVALID;
	rc = jcs_canonicalize(v, out);
	if (rc == TC_EINVALID && err != NULL && errsize > 0)
		snprintf(err, errsize, "a string is not valid UTF-8 or nesting is too deep");
	json_decref(v);
	return rc;
}
