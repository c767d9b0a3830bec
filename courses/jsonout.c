/* jsonout.c - see jsonout.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/jsonout.h"

#define DEPTH_MAX 2048	/* jansson's JSON_PARSER_MAX_DEPTH */

static const char hexdigits[] = "0123456789ABCDEF";

/* S (LEN bytes) as json_dumps writes a string: only '"', '\\' and the
 * control characters below 0x20 escaped. */
static int
put_string(struct dynbuf *out, const char *s, size_t len)
{
	size_t run = 0;
	int rc;

	if ((rc = dynbuf_reserve(out, len + 2)) || (rc = dynbuf_append(out, "\"", 1)))
		return rc;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 0, 0, 0, 0, 0 };
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
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
		run = i + 1;
	}
	if ((rc = dynbuf_append(out, s + run, len - run)))
		return rc;
	return dynbuf_append(out, "\"", 1);
}

static int
put_value(const json_t *v, struct dynbuf *out, int depth)
{
	char num[32];
	json_t *m;
	size_t i;
	int rc = 0, n;

	if (!v || depth > DEPTH_MAX)
		return TC_EINVALID;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if ((rc = dynbuf_append(out, "{", 1)))
			return rc;
		i = 0;
		for (void *it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			if ((i++ && (rc = dynbuf_append(out, ",", 1))) ||
			    (rc = put_string(out, json_object_iter_key(it),
					     json_object_iter_key_len(it))) ||
			    (rc = dynbuf_append(out, ":", 1)) ||
			    (rc = put_value(json_object_iter_value(it), out, depth + 1)))
				return rc;
		}
		return dynbuf_append(out, "}", 1);
	case JSON_ARRAY:
		if ((rc = dynbuf_append(out, "[", 1)))
			return rc;
		json_array_foreach(v, i, m)
			if ((i && (rc = dynbuf_append(out, ",", 1))) ||
			    (rc = put_value(m, out, depth + 1)))
				return rc;
		return dynbuf_append(out, "]", 1);
	case JSON_STRING:
		return put_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return dynbuf_append(out, num, (size_t)n);
	case JSON_TRUE:
		return dynbuf_append(out, "true", 4);
	case JSON_FALSE:
		return dynbuf_append(out, "false", 5);
	case JSON_NULL:
		return dynbuf_append(out, "null", 4);
	case JSON_REAL:
		break;
	}
	return TC_EINVALID;
}

int
json_write_compact(const json_t *v, struct dynbuf *out)
{
	size_t start = out->len;
	int rc = put_value(v, out, 0);

	if (rc != 0 && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}

/* The length of the UTF-8 sequence at S (N bytes left) as jansson accepts
 * it (no overlong forms, no surrogates, nothing past U+10FFFF), 0 when
 * there is none. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0;
	len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (len > n)
		return 0;
	cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

int
json_write_string(const char *s, struct dynbuf *out)
{
	size_t len;

	if (!s)
		return TC_EINVALID;
	len = strlen(s);
	for (size_t i = 0, k; i < len; i += k)
		if (!(k = utf8_seq((const unsigned char *)s + i, len - i)))
			return TC_EINVALID;
	return put_string(out, s, len);
}

int
json_write_real(double x, int precision, struct dynbuf *out)
{
	char num[64], *e;
	int n = snprintf(num, sizeof(num), "%.*g", precision ? precision : 17, x);
	size_t len;

	if (n < 0 || (size_t)n + 3 >= sizeof(num) || x != x || x - x != 0)
		return TC_EINVALID;	/* NaN and infinities: jansson has no text */
	len = (size_t)n;
	if (!strchr(num, '.') && !strchr(num, 'e')) {
		memcpy(num + len, ".0", 3);
		len += 2;
	}
	/* no '+' and no leading zeros in the exponent */
	if ((e = strchr(num, 'e'))) {
		char *start = e + 1, *end = e + 2;

		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, len - (size_t)(end - num) + 1);
			len -= (size_t)(end - start);
		}
	}
	return dynbuf_append(out, num, len);
}
