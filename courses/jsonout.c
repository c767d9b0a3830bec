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
