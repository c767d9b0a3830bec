/* jsonin_test.c - tests for courses/jsonin.c: the tree json_loadb gives,
 * or NULL where json_loadb is to answer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/jsonin.h"
#include "tests/tap.h"

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;

static unsigned
next(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static json_t *
rand_string(void)
{
	static const char *pieces[] = { "\x01", "\x1f", "\"", "\\", "/", "\x7f", "\b", "\n",
					"\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x98\x80", "a", "Z",
					"0", " ", "\xe1\xbb\x87", "urn:uuid:", "did:key:z6Mk" };
	char buf[128];
	size_t len = 0, n = next(8);

	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[next(sizeof(pieces) / sizeof(pieces[0]))];

		memcpy(buf + len, p, strlen(p));
		len += strlen(p);
	}
	return json_stringn(buf, len);
}

static json_t *
rand_value(int depth)
{
	static const double reals[] = { 0.5, -1.25e-7, 3.0, 1e300, 2.2250738585072014e-308,
					123456.789 };
	unsigned k = next(depth > 4 ? 7 : 9);
	json_t *v;

	switch (k) {
	case 0: return json_true();
	case 1: return json_false();
	case 2: return json_null();
	case 3: return json_integer((json_int_t)next(2000000) - 1000000);
	case 4: return json_integer(next(2) ? 999999999999999999LL : -999999999999999999LL);
	case 5: return json_real(reals[next(6)]);
	case 6: return rand_string();
	case 7:
		v = json_array();
		for (unsigned i = next(5); i > 0; i--)
			json_array_append_new(v, rand_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (unsigned i = next(6); i > 0; i--) {
			json_t *key = rand_string();

			json_object_set_new(v, json_string_value(key), rand_value(depth + 1));
			json_decref(key);
		}
		return v;
	}
}

/* 1 when ours is NULL or the same tree as json_loadb's, members in the
 * same order; *READ counts the texts we read ourselves. */
static int
agrees(const char *text, size_t len, int *read)
{
	json_t *ours = json_read_object(text, len);
	json_t *theirs = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	int ok = 1;

	if (ours) {
		char *a = json_dumps(ours, JSON_COMPACT | JSON_ENCODE_ANY);
		char *b = theirs ? json_dumps(theirs, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

		ok = theirs && json_equal(ours, theirs) && a && b && strcmp(a, b) == 0;
		if (!ok)
			fprintf(stderr, "# text: %.*s\n# ours: %s\n# jansson: %s\n", (int)len, text,
				a ? a : "-", b ? b : "-");
		free(a);
		free(b);
		(*read)++;
	}
	json_decref(ours);
	json_decref(theirs);
	return ok;
}

static void
test_random_texts(void)
{
	static const size_t flags[] = { JSON_COMPACT, JSON_INDENT(2), JSON_ENSURE_ASCII,
					JSON_COMPACT | JSON_ESCAPE_SLASH, 0 };
	int bad = 0, read = 0, mread = 0, mbad = 0;

	for (int i = 0; i < 3000 && bad + mbad < 3; i++) {
		json_t *o = json_object();
		char *text;
		size_t len;

		json_object_set_new(o, "credential", rand_value(1));
		json_object_set_new(o, "x", rand_value(1));
		text = json_dumps(o, flags[i % 5]);
		len = strlen(text);
		bad += !agrees(text, len, &read);
		/* mutated: a byte changed, or cut short */
		for (int m = 0; m < 4; m++) {
			char *t = malloc(len + 1);
			size_t at = next((unsigned)len);
			static const char bytes[] = "{}[]\",:\\0-e.E+ \x01\x80\xc3\xed\xf4" "u1aZ";

			memcpy(t, text, len + 1);
			t[at] = bytes[next(sizeof(bytes) - 1)];
			mbad += !agrees(t, m == 3 ? at : len, &mread);
			free(t);
		}
		free(text);
		json_decref(o);
	}
	is_int(bad, 0, "3,000 random objects: the same tree as json_loadb, members in order");
	ok(read > 2900, "and nearly all read here, not left to jansson");
	is_int(mbad, 0, "12,000 mutated texts: the same tree or left to jansson");
	ok(mread > 100 && mread < 12000, "some of them read here");
}

static void
test_cases(void)
{
	static const struct { const char *text; int ours; } cases[] = {
		{ "{\"a\":1}", 1 },
		{ " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : {} } \n", 1 },
		{ "{\"s\":\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\"}", 1 },
		{ "{\"n\":-0,\"r\":-0.0,\"e\":1E+2,\"f\":1e-400}", 1 },
		{ "{\"big\":123456789012345678}", 1 },
		{ "{\"big\":1234567890123456789}", 0 },	/* 19 digits: jansson's */
		{ "{\"a\":1,\"a\":2}", 0 },			/* duplicate */
		{ "{\"a\":\"\\u0000\"}", 0 },			/* NUL */
		{ "{\"a\":\"\\udc00\"}", 0 },			/* lone low surrogate */
		{ "{\"a\":\"\\ud800x\"}", 0 },			/* high without low */
		{ "{\"a\":\"\xc0\xaf\"}", 0 },			/* overlong */
		{ "{\"a\":\"\xed\xa0\x80\"}", 0 },		/* encoded surrogate */
		{ "{\"a\":\"\xf4\x90\x80\x80\"}", 0 },		/* past U+10FFFF */
		{ "{\"a\":1e400}", 0 },				/* overflow */
		{ "{\"a\":01}", 0 },
		{ "{\"a\":1,}", 0 },
		{ "{\"a\":1} x", 0 },
		{ "[1]", 0 },
		{ "{\"a\":\"\x01\"}", 0 },
		{ "{\"a\":tru}", 0 },
	};
	int read = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_read_object(cases[i].text, strlen(cases[i].text));
		char name[160];

		snprintf(name, sizeof(name), "%s: %s", cases[i].text,
			 cases[i].ours ? "read here" : "left to jansson");
		ok(!!v == cases[i].ours && agrees(cases[i].text, strlen(cases[i].text), &read),
		   name);
		json_decref(v);
	}
}

static void
test_deep(void)
{
	char text[2 * 100 + 16];
	size_t n = 0;
	json_t *v;

	n += (size_t)sprintf(text, "{\"a\":");
	for (int i = 0; i < 100; i++)
		text[n++] = '[';
	for (int i = 0; i < 100; i++)
		text[n++] = ']';
	text[n++] = '}';
	v = json_read_object(text, n);
	ok(!v, "nesting of 100: left to jansson");
	json_decref(v);
}

int
main(void)
{
	test_random_texts();
	test_cases();
	test_deep();
	return done_testing();
}
