/* jsonout_test.c - tests for courses/jsonout.c: the same bytes as
 * json_dumps(JSON_COMPACT). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/jsonout.h"
#include "tests/tap.h"

static unsigned long long rng = 88172645463325252ULL;

static unsigned
next(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A random string: control characters, quotes, backslashes, slashes,
 * DEL, two- three- and four-byte UTF-8, plain letters; maybe a NUL. */
static json_t *
rand_string(int allow_nul)
{
	static const char *pieces[] = { "\x01", "\x1f", "\"", "\\", "/", "\x7f", "\b", "\f",
					"\n", "\r", "\t", "\xc3\xa9", "\xe2\x80\xa8",
					"\xf0\x9f\x98\x80", "a", "Z", "0", " ", "\xe1\xbb\x87" };
	char buf[64];
	size_t len = 0, n = next(8);

	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[next(sizeof(pieces) / sizeof(pieces[0]))];

		memcpy(buf + len, p, strlen(p));
		len += strlen(p);
	}
	if (allow_nul && next(4) == 0)
		buf[len++] = '\0';
	return json_stringn(buf, len);
}

static json_t *
rand_value(int depth)
{
	unsigned k = next(depth > 4 ? 6 : 8);
	json_t *v;

	switch (k) {
	case 0: return json_true();
	case 1: return json_false();
	case 2: return json_null();
	case 3: return json_integer((json_int_t)next(2000000) - 1000000);
	case 4: return json_integer(next(2) ? INT64_MAX : INT64_MIN);
	case 5: return rand_string(1);
	case 6:
		v = json_array();
		for (unsigned i = next(5); i > 0; i--)
			json_array_append_new(v, rand_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (unsigned i = next(6); i > 0; i--) {
			json_t *key = rand_string(0);

			json_object_set_new(v, json_string_value(key), rand_value(depth + 1));
			json_decref(key);
		}
		return v;
	}
}

static int
same_as_jansson(const json_t *v)
{
	struct dynbuf b;
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int ok;

	dynbuf_init(&b, 1 << 24);
	ok = want && json_write_compact(v, &b) == 0 && b.len == strlen(want) &&
	     memcmp(b.data, want, b.len) == 0;
	if (!ok)
		fprintf(stderr, "# jansson: %s\n# ours:    %s\n", want ? want : "(null)",
			dynbuf_str(&b));
	free(want);
	dynbuf_cleanup(&b);
	return ok;
}

static void
test_random_trees(void)
{
	int bad = 0;

	for (int i = 0; i < 3000 && bad < 3; i++) {
		json_t *v = rand_value(0);

		bad += !same_as_jansson(v);
		json_decref(v);
	}
	is_int(bad, 0, "3,000 random trees written as json_dumps(JSON_COMPACT) writes them");
}

static void
test_answer_shape(void)
{
	json_t *v = json_pack("{s:b, s:s, s:[{s:s, s:b, s:s}, {s:s, s:b, s:s, s:b}]}",
			      "verified", 1, "id", "urn:uuid:1", "checks",
			      "check", "schema", "ok", 1, "detail", "fine",
			      "check", "log", "ok", 0, "detail", "a \"quoted\" \x01 one",
			      "unchecked", 1);

	ok(same_as_jansson(v), "a verification answer's shape");
	json_decref(v);
}

static void
test_refused(void)
{
	struct dynbuf b;
	json_t *v = json_pack("{s:i, s:f}", "a", 1, "r", 1.5);
	json_t *deep = json_array(), *inner = deep;

	dynbuf_init(&b, 1 << 20);
	dynbuf_puts(&b, "keep");
	is_int(json_write_compact(v, &b), TC_EINVALID, "a real number: refused");
	is_str(dynbuf_str(&b), "keep", "refused: the buffer as before");
	is_int(json_write_compact(NULL, &b), TC_EINVALID, "NULL: refused");
	for (int i = 0; i < 2100; i++) {
		json_t *a = json_array();

		json_array_append_new(inner, a);
		inner = a;
	}
	is_int(json_write_compact(deep, &b), TC_EINVALID, "nesting deeper than 2048: refused");
	is_str(dynbuf_str(&b), "keep", "and the buffer as before");
	dynbuf_cleanup(&b);
	dynbuf_init(&b, 8);
	is_int(json_write_compact(json_object_get(v, "a"), &b), 0, "an integer alone");
	json_decref(v);
	v = json_string("too long for eight bytes");
	is_int(json_write_compact(v, &b), TC_ETOOBIG, "past the buffer's cap: TC_ETOOBIG");
	dynbuf_cleanup(&b);
	json_decref(v);
	json_decref(deep);
}

/* json_write_real and json_write_string: the bytes of json_dumps. */
static void
test_scalars(void)
{
	static const double reals[] = {
		0, 4, 0.5, 9.1, 3.3, 7.35, 10, 60, 0.1 + 0.2, 2.0 / 3, -1.25, 1e-5, 1.5e-7,
		123456789012.0, 1234567890123456.0, 1e21, -1e-300, 5e300, 8.05, 6.0 / 10,
		95.0 / 100,
	};
	static const char *strs[] = {
		"", "plain", "Lập trình C", "q\"uote\\back/slash", "tab\tnl\ncr\r\b\f\x01\x1f",
		"\xf0\x9f\x8e\x93 emoji", "\xef\xbf\xbf",
	};
	static const char *bad[] = {
		"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\x80",
		"\xe2\x82", "\xf8\x88\x80\x80\x80",
	};
	struct dynbuf b;
	int same = 1, refused = 1;

	dynbuf_init(&b, 1 << 20);
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		for (int prec = 0; prec <= 17; prec += prec ? 1 : 6) {
			json_t *v = json_real(reals[i]);
			char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(prec));

			dynbuf_reset(&b);
			if (json_write_real(reals[i], prec, &b) || !want ||
			    strcmp(dynbuf_str(&b), want) != 0) {
				char m[200];

				snprintf(m, sizeof(m), "%.17g at %d: %s, want %s", reals[i], prec,
					 dynbuf_str(&b), want ? want : "(null)");
				diag(m);
				same = 0;
			}
			free(want);
			json_decref(v);
		}
	ok(same, "json_write_real: json_dumps's bytes at every precision");
	same = 1;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		json_t *v = json_string(strs[i]);
		char *want = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

		dynbuf_reset(&b);
		if (!want || json_write_string(strs[i], &b) || strcmp(dynbuf_str(&b), want) != 0)
			same = 0;
		free(want);
		json_decref(v);
	}
	ok(same, "json_write_string: json_dumps's bytes (escapes, UTF-8 kept)");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = json_string(bad[i]);

		dynbuf_reset(&b);
		if (v || json_write_string(bad[i], &b) != TC_EINVALID || b.len != 0)
			refused = 0;
		json_decref(v);
	}
	ok(refused, "json_write_string refuses what json_string refuses, writing nothing");
	is_int(json_write_real(0.0 / 0.0, 12, &b), TC_EINVALID, "NaN: refused");
	is_int(json_write_string(NULL, &b), TC_EINVALID, "NULL: refused");
	dynbuf_cleanup(&b);
}

int
main(void)
{
	test_random_trees();
	test_answer_shape();
	test_refused();
	test_scalars();
	return done_testing();
}
