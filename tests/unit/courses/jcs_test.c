/* jcs_test.c - tests for courses/jcs.c (RFC 8785 JSON Canonicalization) */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/jcs.h"
#include "tests/tap.h"

#define VECTORS "/../shared/testvectors/rfc8785-jcs/"

/* The whole file at PATH, NUL-terminated; NULL when it cannot be read. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf != NULL) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* The canonical form of TEXT, or "ERR <code>". */
static const char *
canon(const char *text)
{
	static char res[4096];
	struct dynbuf b;
	int rc;

	dynbuf_init(&b, 1 << 20);
	rc = jcs_canonicalize_text(text, strlen(text), &b, NULL, 0);
	if (rc == 0)
		snprintf(res, sizeof(res), "%s", dynbuf_str(&b));
	else
		snprintf(res, sizeof(res), "ERR %d", rc);
	dynbuf_cleanup(&b);
	return res;
}

static void
test_vectors(void)
{
	char dir[4096], path[4200 + 256], name[600];
	const char *top = getenv("TOP_SRCDIR");
	struct dirent *e;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s" VECTORS "input", top ? top : ".");
	d = opendir(dir);
	if (d == NULL) {
		ok(1, "RFC 8785 vectors # SKIP ../shared/testvectors absent");
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *in, *want;
		size_t inlen = 0, wantlen = 0;
		struct dynbuf b;
		int rc;

		if (strstr(e->d_name, ".json") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		in = slurp(path, &inlen);
		snprintf(path, sizeof(path), "%s" VECTORS "output/%s", top ? top : ".", e->d_name);
		want = slurp(path, &wantlen);
		dynbuf_init(&b, 1 << 20);
		rc = in ? jcs_canonicalize_text(in, inlen, &b, NULL, 0) : TC_EIO;
		snprintf(name, sizeof(name), "%s canonicalizes to output/%s byte for byte",
			 e->d_name, e->d_name);
		ok(rc == 0 && want != NULL && b.len == wantlen &&
		   memcmp(dynbuf_str(&b), want, wantlen) == 0, name);
		if (rc == 0 && want != NULL && (b.len != wantlen || memcmp(b.data, want, wantlen)))
			printf("#   got:  %s\n#   want: %s\n", dynbuf_str(&b), want);
		dynbuf_cleanup(&b);
		free(in);
		free(want);
		count++;
	}
	closedir(d);
	ok(count >= 6, "every input vector was read (6 or more)");
}

static void
test_numbers(void)
{
	static const struct { double d; const char *want; } cases[] = {
		{ 0.0, "0" }, { -0.0, "0" }, { 1.0, "1" }, { -1.0, "-1" },
		{ 0.1, "0.1" }, { 0.5, "0.5" }, { 1.5, "1.5" }, { -2.75, "-2.75" },
		{ 1e21, "1e+21" }, { 999999999999999900000.0, "999999999999999900000" },
		{ 1e20, "100000000000000000000" }, { 123e18, "123000000000000000000" },
		{ 1e-6, "0.000001" }, { 1e-7, "1e-7" }, { 1.5e-7, "1.5e-7" },
		{ 0.000001234, "0.000001234" }, { 1.234e-7, "1.234e-7" },
		{ 9007199254740992.0, "9007199254740992" },
		{ 9007199254740994.0, "9007199254740994" },
		{ 18014398509481984.0, "18014398509481984" },
		{ 295147905179352830000.0, "295147905179352830000" },
		{ 5e-324, "5e-324" }, { -5e-324, "-5e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 2.2250738585072014e-308, "2.2250738585072014e-308" },
		{ 333333333.33333329, "333333333.3333333" },
		{ 1e30, "1e+30" }, { 4.5, "4.5" }, { 2e-3, "0.002" }, { 1e-27, "1e-27" },
		{ 0.1 + 0.2, "0.30000000000000004" }, { 1.0 / 3.0, "0.3333333333333333" },
		{ 123456789012345680000.0, "123456789012345680000" },
		{ 1.2345678901234567e21, "1.2345678901234568e+21" },
		{ 9.5367431640625e-7, "9.5367431640625e-7" },	/* 2^-20 */
		{ 1.2676506002282294e30, "1.2676506002282294e+30" },	/* 2^100 */
		{ 5.960464477539063e-8, "5.960464477539063e-8" },	/* 2^-24 */
	};
	char out[JCS_NUMBER_MAX];
	char name[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "%.17g is written %s", cases[i].d, cases[i].want);
		is_int(jcs_number(cases[i].d, out), 0, "formatted");
		is_str(out, cases[i].want, name);
	}
	is_int(jcs_number(NAN, out), TC_EINVALID, "NaN refused");
	is_str(out, "", "NaN leaves an empty text");
	is_int(jcs_number(INFINITY, out), TC_EINVALID, "+Infinity refused");
	is_int(jcs_number(-INFINITY, out), TC_EINVALID, "-Infinity refused");
}

static void
test_values(void)
{
	is_str(canon("[1E400]"), "ERR -3", "a number that overflows a double is refused");
	is_str(canon("[-1e400]"), "ERR -3", "a negative overflow is refused");
	is_str(canon("1e-400"), "0", "an underflow is 0, as in ECMAScript");
	is_str(canon("[-0, -0.0, 0e5]"), "[0,0,0]", "minus zero is 0");
	is_str(canon("9007199254740993"), "9007199254740992",
	       "an integer beyond 2^53 is read as the nearest double");
	is_str(canon("123456789012345678901234567890"), "1.2345678901234568e+29",
	       "a huge integer is a double");
	is_str(canon("1000000000000000000000"), "1e+21", "10^21 as an integer");
	is_str(canon("100000000000000000000"), "100000000000000000000", "10^20 as an integer");
	is_str(canon("{\"a\":1,\"a\":2}"), "ERR -3", "duplicate member names refused");
	is_str(canon("[\"\\ud800\"]"), "ERR -3", "a lone high surrogate is refused");
	is_str(canon("[\"\\udc00\"]"), "ERR -3", "a lone low surrogate is refused");
	is_str(canon("[\"\\ud83d\\ude02\"]"), "[\"\xf0\x9f\x98\x82\"]", "a surrogate pair is one character");
	is_str(canon("[\"\xed\xa0\x80\"]"), "ERR -3", "a UTF-8 encoded surrogate is refused");
	is_str(canon("[\"\xc0\xaf\"]"), "ERR -3", "overlong UTF-8 refused");
	is_str(canon("[1] x"), "ERR -3", "trailing text refused");
	is_str(canon(""), "ERR -3", "empty text refused");
	is_str(canon("\"top\""), "\"top\"", "a string at the top");
	is_str(canon(" true "), "true", "a literal at the top");
	is_str(canon("[\"\\u0000\\u001f\\u007f\\b\\f\\n\\r\\t\\/\\\"\\\\\\u2028\"]"),
	       "[\"\\u0000\\u001f\x7f\\b\\f\\n\\r\\t/\\\"\\\\\xe2\x80\xa8\"]",
	       "escapes exactly as JSON.stringify");
	is_str(canon("{\"\\u0000b\":1}"), "ERR -3",
	       "a name holding U+0000 is refused (jansson cannot hold it)");
	is_str(canon("{ \"b\" : [ 1 , { \"d\" : null , \"c\" : false } ] , \"a\" : {} }"),
	       "{\"a\":{},\"b\":[1,{\"c\":false,\"d\":null}]}", "white space removed, nested sorting");
}

static void
test_sorting(void)
{
	/* U+FB33 (BMP, above the surrogates) and U+1F602 (surrogate pair
	 * D83D DE02): by code point U+FB33 comes first, by UTF-16 units the
	 * emoji does. */
	is_str(canon("{\"\xef\xac\xb3\":1,\"\xf0\x9f\x98\x82\":2}"),
	       "{\"\xf0\x9f\x98\x82\":2,\"\xef\xac\xb3\":1}",
	       "emoji (U+1F602) sorts before U+FB33 as UTF-16 units");
	is_str(canon("{\"\xee\x80\x80\":1,\"\xf0\x90\x80\x80\":2,\"\xed\x9f\xbf\":3}"),
	       "{\"\xed\x9f\xbf\":3,\"\xf0\x90\x80\x80\":2,\"\xee\x80\x80\":1}",
	       "U+D7FF < U+10000 < U+E000");
	is_str(canon("{\"\xf0\x9f\x98\x83\":1,\"\xf0\x9f\x98\x82\":2,\"\xf0\x9f\x91\x8d\":3}"),
	       "{\"\xf0\x9f\x91\x8d\":3,\"\xf0\x9f\x98\x82\":2,\"\xf0\x9f\x98\x83\":1}",
	       "emoji under one high surrogate sort by their low surrogates");
	is_str(canon("{\"\xf4\x8f\xbf\xbf\":1,\"\xf0\x9f\x98\x82\":2,\"\xef\xbf\xbf\":3}"),
	       "{\"\xf0\x9f\x98\x82\":2,\"\xf4\x8f\xbf\xbf\":1,\"\xef\xbf\xbf\":3}",
	       "U+1F602 < U+10FFFF < U+FFFF");
	is_str(canon("{\"ab\":1,\"a\":2,\"\":3,\"b\":4,\"B\":5}"),
	       "{\"\":3,\"B\":5,\"a\":2,\"ab\":1,\"b\":4}", "prefixes first, upper case first");
	is_str(canon("{\"a\xf0\x9f\x98\x82\":1,\"a\":2,\"a\xef\xac\xb3z\":3}"),
	       "{\"a\":2,\"a\xf0\x9f\x98\x82\":1,\"a\xef\xac\xb3z\":3}",
	       "after a common prefix, surrogate pairs still first");
}

static void
test_json_t(void)
{
	struct dynbuf b;
	json_t *v;
	size_t before;
	int rc;

	dynbuf_init(&b, 128);
	dynbuf_puts(&b, "keep:");
	before = b.len;
	v = json_pack("{s:I, s:I, s:f, s:s#}", "big", (json_int_t)9007199254740993LL,
		      "neg", (json_int_t)-42, "real", 2.5, "nul", "a\0b", (int)3);
	is_int(jcs_canonicalize(v, &b), 0, "json_t canonicalized, appended");
	is_str(dynbuf_str(&b), "keep:{\"big\":9007199254740992,\"neg\":-42,\"nul\":\"a\\u0000b\",\"real\":2.5}",
	       "integers as doubles, NUL escaped, appended after the content");
	json_decref(v);

	ok(json_real(NAN) == NULL, "jansson holds no NaN (jcs_number refuses it)");

	v = json_stringn_nocheck("\xff", 1);
	before = b.len;
	is_int(jcs_canonicalize(v, &b), TC_EINVALID, "invalid UTF-8 in a json_t string refused");
	is_int(b.len, before, "nothing appended on failure");
	json_decref(v);

	v = json_object();
	json_object_set_new_nocheck(v, "\xc3", json_true());
	is_int(jcs_canonicalize(v, &b), TC_EINVALID, "invalid UTF-8 in a name refused");
	json_decref(v);

	/* Output over the cap: TC_ETOOBIG and OUT unchanged. */
	v = json_pack("{s:s}", "long", "0123456789012345678901234567890123456789012345678901234567890123456789"
		      "0123456789");
	before = b.len;
	rc = jcs_canonicalize(v, &b);
	is_int(rc, TC_ETOOBIG, "over the buffer's cap");
	is_int(b.len, before, "buffer restored to its length on entry");
	is_str(dynbuf_str(&b), "keep:{\"big\":9007199254740992,\"neg\":-42,\"nul\":\"a\\u0000b\",\"real\":2.5}",
	       "content unchanged");
	json_decref(v);
	dynbuf_cleanup(&b);

	/* Too deep. */
	dynbuf_init(&b, 1 << 20);
	v = json_array();
	{
		json_t *cur = v;

		for (int i = 0; i < JCS_MAX_DEPTH + 1; i++) {
			json_t *next = json_array();

			json_array_append_new(cur, next);
			cur = next;
		}
	}
	is_int(jcs_canonicalize(v, &b), TC_EINVALID, "nesting beyond JCS_MAX_DEPTH refused");
	is_int(b.len, 0, "nothing left behind");
	json_decref(v);
	is_int(jcs_canonicalize(NULL, &b), TC_EINVALID, "NULL refused");
	dynbuf_cleanup(&b);
}

static void
test_errors(void)
{
	char err[200] = "";
	struct dynbuf b;

	dynbuf_init(&b, 1 << 20);
	is_int(jcs_canonicalize_text("{\"a\":1,\"a\":2}", 13, &b, err, sizeof(err)), TC_EINVALID,
	       "duplicate refused");
	ok(strstr(err, "duplicate") != NULL, "the reason names the duplicate");
	is_int(b.len, 0, "nothing appended");
	is_int(jcs_canonicalize_text("[1,2]xyz", 5, &b, err, sizeof(err)), 0, "LEN bounds the text");
	is_str(dynbuf_str(&b), "[1,2]", "only LEN bytes read");
	dynbuf_cleanup(&b);
}

/* jcs_canonicalize_split: the whole text as jcs_canonicalize writes it, and
 * the cut range leaves the text of the object without the member, wherever
 * the member sorts (first, middle, last, alone, absent); names that sort
 * differently in UTF-16 than by code point (U+10000 before U+E000). */
static void
test_split(void)
{
	static const char *const docs[] = {
		"{\"proof\":[1,{\"b\":2}],\"a\":\"x\",\"z\":null}",	/* proof in the middle */
		"{\"proof\":{\"x\":1},\"q\":true,\"r\":[]}",		/* proof last */
		"{\"proof\":1,\"zz\":2,\"pa\":3}",			/* proof last by sort */
		"{\"a\":1,\"proof\":\"p\",\"b\":2}",
		"{\"proof\":\"only\"}",
		"{\"a\":{\"proof\":1},\"b\":2}",			/* a nested one is kept */
		"{\"\xee\x80\x80\":1,\"\xf0\x90\x80\x80\":2,\"proof\":3,\"\x7f\":4}",
		"{\"@context\":[\"u\"],\"proof\":[],\"id\":\"urn:x\",\"\xc3\xa9\":\"\xe1\xbb\x89\"}",
	};
	int whole = 1, cut = 1;

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_t *v = json_loads(docs[i], 0, NULL), *w = json_copy(v);
		struct dynbuf a, b, c;
		size_t s = 0, e = 0;

		dynbuf_init(&a, 1 << 20);
		dynbuf_init(&b, 1 << 20);
		dynbuf_init(&c, 1 << 20);
		json_object_del(w, "proof");
		dynbuf_append(&a, "pre", 3);	/* offsets are in the buffer */
		whole &= v && jcs_canonicalize_split(v, "proof", &a, &s, &e) == 0 &&
			 jcs_canonicalize(v, &b) == 0 && strcmp(a.data + 3, b.data) == 0;
		dynbuf_reset(&b);
		dynbuf_append(&b, a.data + 3, s - 3);
		dynbuf_append(&b, a.data + e, a.len - e);
		cut &= jcs_canonicalize(w, &c) == 0 && strcmp(b.data, c.data) == 0 &&
		       (i != 5 || s == e);
		if (!cut)
			diag(docs[i]);
		dynbuf_cleanup(&a);
		dynbuf_cleanup(&b);
		dynbuf_cleanup(&c);
		json_decref(v);
		json_decref(w);
	}
	ok(whole, "jcs_canonicalize_split writes what jcs_canonicalize writes");
	ok(cut, "cutting its range gives the object without the member, wherever it sorts");
	{
		json_t *v = json_loads("{\"\xf0\x90\x80\x80\":1,\"\xee\x80\x80\":2,\"a\":3}", 0, NULL);
		struct dynbuf a;

		dynbuf_init(&a, 1 << 20);
		ok(jcs_canonicalize(v, &a) == 0 &&
		   strcmp(a.data, "{\"a\":3,\"\xf0\x90\x80\x80\":1,\"\xee\x80\x80\":2}") == 0,
		   "U+10000 sorts before U+E000 (UTF-16 code units), both after ASCII");
		dynbuf_cleanup(&a);
		json_decref(v);
	}
	{
		json_t *arr = json_array();
		size_t s = 1, e = 1;
		struct dynbuf a;

		dynbuf_init(&a, 1 << 20);
		ok(jcs_canonicalize_split(arr, "proof", &a, &s, &e) == TC_EINVALID && a.len == 0,
		   "jcs_canonicalize_split refuses what is not an object");
		dynbuf_cleanup(&a);
		json_decref(arr);
	}
}

int
main(void)
{
	test_vectors();
	test_numbers();
	test_values();
	test_sorting();
	test_json_t();
	test_errors();
	test_split();
	return done_testing();
}
