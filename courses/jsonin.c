/* jsonin.c - see jsonin.h. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "courses/jsonin.h"

#define DEPTH_MAX 64		/* deeper (jansson allows 2048): jansson's to read */
#define STR_STACK 512

struct reader {
	const unsigned char *p, *end;
	char stack[STR_STACK];	/* a string's bytes, when they fit */
	char *heap;
	size_t heap_size;
};

static json_t *read_value(struct reader *r, int depth);

static void
skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

static int
hex4(const unsigned char *s, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = s[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

/* The length of the well-formed UTF-8 character at S (at most N bytes;
 * RFC 3629: no overlong forms, no surrogates, up to U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80 || (c == 0xF0 && s[1] < 0x90) ||
		    (c == 0xF4 && s[1] > 0x8F))
			return 0;
		return 4;
	}
	return 0;
}

/* A string after its opening quote: 0 with *S and *LEN (the decoded
 * bytes: in the text itself when it has no escape, else in R's buffers),
 * or -1. */
static int
read_string(struct reader *r, const char **s, size_t *len)
{
	const unsigned char *start = r->p, *q = r->p;
	char *out;
	size_t cap, n = 0;

	/* the common case: no escape, so the bytes are the text's */
	while (q < r->end && *q != '"' && *q != '\\') {
		if (*q < 0x20)
			return -1;
		if (*q >= 0x80) {
			size_t l = utf8_len(q, (size_t)(r->end - q));

			if (!l)
				return -1;
			q += l;
		} else {
			q++;
		}
	}
	if (q >= r->end)
		return -1;
	if (*q == '"') {
		*s = (const char *)start;
		*len = (size_t)(q - start);
		r->p = q + 1;
		return 0;
	}
	/* escapes: decoded into a buffer no longer than the text left */
	cap = (size_t)(r->end - start);
	if (cap <= STR_STACK) {
		out = r->stack;
	} else {
		if (r->heap_size < cap) {
			char *h = realloc(r->heap, cap);

			if (!h)
				return -1;
			r->heap = h;
			r->heap_size = cap;
		}
		out = r->heap;
	}
	memcpy(out, start, (size_t)(q - start));
	n = (size_t)(q - start);
	while (q < r->end && *q != '"') {
		uint32_t cp, lo;

		if (*q < 0x20)
			return -1;
		if (*q >= 0x80) {
			size_t l = utf8_len(q, (size_t)(r->end - q));

			if (!l)
				return -1;
			memcpy(out + n, q, l);
			n += l;
			q += l;
			continue;
		}
		if (*q != '\\') {
			out[n++] = (char)*q++;
			continue;
		}
		if (r->end - q < 2)
			return -1;
		switch (q[1]) {
		case '"': out[n++] = '"'; q += 2; continue;
		case '\\': out[n++] = '\\'; q += 2; continue;
		case '/': out[n++] = '/'; q += 2; continue;
		case 'b': out[n++] = '\b'; q += 2; continue;
		case 'f': out[n++] = '\f'; q += 2; continue;
		case 'n': out[n++] = '\n'; q += 2; continue;
		case 'r': out[n++] = '\r'; q += 2; continue;
		case 't': out[n++] = '\t'; q += 2; continue;
		case 'u': break;
		default: return -1;
		}
		if (r->end - q < 6 || hex4(q + 2, &cp))
			return -1;
		q += 6;
		if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
			return -1;	/* \u0000 and a lone low surrogate: jansson's to say */
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (r->end - q < 6 || q[0] != '\\' || q[1] != 'u' || hex4(q + 2, &lo) ||
			    lo < 0xDC00 || lo > 0xDFFF)
				return -1;
			q += 6;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		/* at most 4 bytes for the 6 or 12 read */
		if (cp < 0x80) {
			out[n++] = (char)cp;
		} else if (cp < 0x800) {
			out[n++] = (char)(0xC0 | (cp >> 6));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[n++] = (char)(0xE0 | (cp >> 12));
			out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[n++] = (char)(0xF0 | (cp >> 18));
			out[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	if (q >= r->end)
		return -1;
	r->p = q + 1;
	*s = out;
	*len = n;
	return 0;
}

/* A number (JSON's grammar); jansson's reading of it: an integer when it
 * has neither fraction nor exponent, else a real. */
static json_t *
read_number(struct reader *r)
{
	const unsigned char *start = r->p, *q = r->p;
	int is_real = 0;
	size_t digits = 0;

	if (q < r->end && *q == '-')
		q++;
	if (q >= r->end || *q < '0' || *q > '9')
		return NULL;
	if (*q == '0') {
		q++;
		digits = 1;
	} else {
		while (q < r->end && *q >= '0' && *q <= '9') {
			q++;
			digits++;
		}
	}
	if (q < r->end && *q == '.') {
		is_real = 1;
		if (++q >= r->end || *q < '0' || *q > '9')
			return NULL;
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < r->end && (*q == 'e' || *q == 'E')) {
		is_real = 1;
		q++;
		if (q < r->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= r->end || *q < '0' || *q > '9')
			return NULL;
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	r->p = q;
	if (!is_real) {
		const unsigned char *d = start + (*start == '-');
		long long v = 0;

		if (digits > 18)
			return NULL;	/* maybe out of range: jansson's to say */
		for (; d < q; d++)
			v = v * 10 + (*d - '0');
		return json_integer(*start == '-' ? -v : v);
	} else {
		char buf[64];
		size_t n = (size_t)(q - start);
		double v;

		if (n >= sizeof(buf))
			return NULL;
		memcpy(buf, start, n);
		buf[n] = '\0';
		errno = 0;
		v = strtod(buf, NULL);
		if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE)
			return NULL;	/* jansson: real number overflow */
		return json_real(v);
	}
}

static json_t *
read_object(struct reader *r, int depth)
{
	json_t *o = json_object(), *v;
	const char *key;
	size_t klen;

	if (!o)
		return NULL;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return o;
	}
	for (;;) {
		char kbuf[STR_STACK];

		skip_ws(r);
		if (r->p >= r->end || *r->p != '"')
			goto fail;
		r->p++;
		if (read_string(r, &key, &klen) || klen >= sizeof(kbuf))
			goto fail;
		/* the key may sit in R's buffer, which the value reuses */
		memcpy(kbuf, key, klen);
		kbuf[klen] = '\0';
		if (json_object_getn(o, kbuf, klen))
			goto fail;	/* a duplicate: jansson's error */
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':')
			goto fail;
		r->p++;
		skip_ws(r);
		if (!(v = read_value(r, depth + 1)))
			goto fail;
		if (json_object_setn_new_nocheck(o, kbuf, klen, v))
			goto fail;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return o;
		}
		goto fail;
	}
fail:
	json_decref(o);
	return NULL;
}

static json_t *
read_array(struct reader *r, int depth)
{
	json_t *a = json_array(), *v;

	if (!a)
		return NULL;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return a;
	}
	for (;;) {
		skip_ws(r);
		if (!(v = read_value(r, depth + 1)) || json_array_append_new(a, v))
			break;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return a;
		}
		break;
	}
	json_decref(a);
	return NULL;
}

static int
literal(struct reader *r, const char *word, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return 0;
	r->p += n;
	return 1;
}

static json_t *
read_value(struct reader *r, int depth)
{
	const char *s;
	size_t len;

	if (depth > DEPTH_MAX || r->p >= r->end)
		return NULL;
	switch (*r->p) {
	case '{':
		r->p++;
		return read_object(r, depth);
	case '[':
		r->p++;
		return read_array(r, depth);
	case '"':
		r->p++;
		if (read_string(r, &s, &len))
			return NULL;
		return json_stringn_nocheck(s, len);
	case 't':
		return literal(r, "true", 4) ? json_true() : NULL;
	case 'f':
		return literal(r, "false", 5) ? json_false() : NULL;
	case 'n':
		return literal(r, "null", 4) ? json_null() : NULL;
	default:
		return read_number(r);
	}
}

json_t *
json_read_object(const char *text, size_t len)
{
	struct reader r = { 0 };
	json_t *v = NULL;

	if (!text)
		return NULL;
	r.p = (const unsigned char *)text;
	r.end = r.p + len;
	skip_ws(&r);
	if (r.p < r.end && *r.p == '{') {
		r.p++;
		v = read_object(&r, 1);
		skip_ws(&r);
		if (v && r.p != r.end) {
			json_decref(v);
			v = NULL;
		}
	}
	free(r.heap);
	return v;
}
