/* statuslist_test.c - tests for courses/statuslist.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/statuslist.h"
#include "tests/tap.h"

/*
 * The encodedList of the W3C Bitstring Status List v1.0 examples: an
 * all-zero list of 131,072 entries, GZIP'd at zlib's default level.
 */
static const char w3c_empty[] =
	"uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

/* 'u' + base64url of a gzip member of the N bytes at P, made here with
 * zlib directly (or, with TRAILER, followed by extra bytes). */
static char *
gzip_text(const unsigned char *p, size_t n, const char *trailer)
{
	z_stream zs;
	size_t cap, tlen = trailer ? strlen(trailer) : 0, len;
	unsigned char *gz;
	char *text;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&zs, n) + 32 + tlen;
	gz = malloc(cap);
	zs.next_in = (unsigned char *)p;
	zs.avail_in = (uInt)n;
	zs.next_out = gz;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	len = zs.total_out;
	deflateEnd(&zs);
	memcpy(gz + len, trailer ? trailer : "", tlen);
	len += tlen;
	text = malloc(len / 3 * 4 + 8);
	text[0] = 'u';
	b64url_encode(gz, len, text + 1, len / 3 * 4 + 7);
	free(gz);
	return text;
}

static void
test_bits(void)
{
	struct statuslist sl;
	int zeros = 1;

	is_int(statuslist_init(&sl, 0), TC_EINVALID, "init refuses 0 entries");
	is_int(statuslist_init(&sl, STATUSLIST_MIN_BITS - 8), TC_EINVALID,
	       "init refuses fewer than 131,072 entries");
	is_int(statuslist_init(&sl, STATUSLIST_MIN_BITS + 1), TC_EINVALID,
	       "init refuses a size that is not whole bytes");
	is_int(statuslist_init(&sl, STATUSLIST_MAX_BITS + 8), TC_EINVALID,
	       "init refuses more than the cap");
	statuslist_cleanup(&sl);
	is_int(statuslist_init(&sl, STATUSLIST_MIN_BITS), 0, "init 131,072 entries");
	is_int(sl.nbits, 131072, "nbits");
	for (size_t i = 0; i < sl.nbits / 8; i++)
		zeros &= sl.bits[i] == 0;
	ok(zeros, "a new list is all zero");

	/* Index 0 is the left-most (most significant) bit of byte 0. */
	is_int(statuslist_set(&sl, 0, 1), 0, "set index 0");
	is_int(sl.bits[0], 0x80, "index 0 is the MSB of byte 0");
	statuslist_set(&sl, 7, 1);
	is_int(sl.bits[0], 0x81, "index 7 is the LSB of byte 0");
	statuslist_set(&sl, 9, 1);
	is_int(sl.bits[1], 0x40, "index 9 is bit 6 of byte 1");
	statuslist_set(&sl, 131071, 1);
	is_int(sl.bits[16383], 0x01, "the last index is the LSB of the last byte");
	is_int(statuslist_get(&sl, 0), 1, "get index 0");
	is_int(statuslist_get(&sl, 1), 0, "get index 1");
	is_int(statuslist_get(&sl, 9), 1, "get index 9");
	is_int(statuslist_get(&sl, 131071), 1, "get the last index");
	is_int(statuslist_set(&sl, 0, 0), 0, "clear index 0");
	is_int(statuslist_get(&sl, 0), 0, "index 0 is clear again");
	is_int(sl.bits[0], 0x01, "clearing touches no other bit");
	is_int(statuslist_set(&sl, 131072, 1), TC_EINVALID, "set past the end is refused");
	is_int(statuslist_get(&sl, 131072), TC_EINVALID, "get past the end is refused");
	is_int(statuslist_get(&sl, (size_t)-1), TC_EINVALID, "get at SIZE_MAX is refused");
	statuslist_cleanup(&sl);
	statuslist_cleanup(&sl);
	statuslist_cleanup(NULL);
}

static void
test_encode(void)
{
	static const size_t set[] = { 0, 7, 8, 1000, 65535, 99999, 131071 };
	struct statuslist sl, back;
	char *text = NULL, *again = NULL;
	int same = 1;

	statuslist_init(&sl, STATUSLIST_MIN_BITS);
	is_int(statuslist_encode(&sl, &text), 0, "encode an empty list");
	is_str(text, w3c_empty, "an empty list encodes as in the W3C examples");
	is_int(statuslist_decode(w3c_empty, STATUSLIST_MIN_BITS, &back), 0,
	       "the W3C example decodes");
	ok(back.nbits == STATUSLIST_MIN_BITS && memcmp(back.bits, sl.bits, 16384) == 0,
	   "to 131,072 zero bits");
	statuslist_cleanup(&back);
	free(text);

	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		statuslist_set(&sl, set[i], 1);
	is_int(statuslist_encode(&sl, &text), 0, "encode a list with bits set");
	ok(text && text[0] == 'u' && strspn(text + 1,
	   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(text) - 1,
	   "multibase 'u' + base64url without padding");
	ok(text && strncmp(text, "uH4sI", 5) == 0, "a gzip member (1f 8b 08)");
	statuslist_encode(&sl, &again);
	is_str(again, text, "encoding is deterministic");
	is_int(statuslist_decode(text, STATUSLIST_MIN_BITS, &back), 0, "decode it");
	for (size_t i = 0; i < STATUSLIST_MIN_BITS; i++) {
		int want = 0;

		for (size_t j = 0; j < sizeof(set) / sizeof(set[0]); j++)
			want |= set[j] == i;
		same &= statuslist_get(&back, i) == want;
	}
	ok(same, "exactly the bits set come back");
	statuslist_cleanup(&back);
	is_int(statuslist_decode(text, 0, &back), 0, "decode with any size");
	is_int(back.nbits, STATUSLIST_MIN_BITS, "the size comes from the stream");
	statuslist_cleanup(&back);
	free(again);
	free(text);
	statuslist_cleanup(&sl);

	/* A larger list, with zlib's level 9 (another encoder's choice). */
	statuslist_init(&sl, 2 * STATUSLIST_MIN_BITS);
	statuslist_set(&sl, 200000, 1);
	text = gzip_text(sl.bits, sl.nbits / 8, NULL);
	is_int(statuslist_decode(text, 0, &back), 0, "decode 262,144 entries, any size");
	ok(back.nbits == 262144 && statuslist_get(&back, 200000) == 1 &&
	   statuslist_get(&back, 199999) == 0, "with its bit");
	statuslist_cleanup(&back);
	is_int(statuslist_decode(text, STATUSLIST_MIN_BITS, &back), TC_ETOOBIG,
	       "a longer list than expected is refused");
	ok(back.bits == NULL && back.nbits == 0, "the output stays empty");
	free(text);
	statuslist_cleanup(&sl);
}

/* Runs python3 (gzip + base64 of the standard library) as an independent
 * implementation: it encodes a list with four bits set, and decodes ours,
 * printing its length and set indexes. */
static void
test_python(void)
{
	static const char *enc =
		"python3 -c 'import gzip,base64;b=bytearray(16384)\n"
		"for i in (3,17,4096,131070): b[i//8]|=0x80>>(i%8)\n"
		"print(\"u\"+base64.urlsafe_b64encode(gzip.compress(bytes(b),mtime=0)).decode().rstrip(\"=\"))'";
#define DEC_FMT \
		"python3 -c 'import gzip,base64,sys;t=sys.argv[1][1:];b=gzip.decompress(base64.urlsafe_b64decode(t+\"=\"*(-len(t)%%4)))\n" \
		"print(len(b),*[i for i in range(len(b)*8) if b[i//8]&(0x80>>(i%%8))])' %s"
	struct statuslist sl, back;
	char line[70000], cmd[70000], *text = NULL;
	FILE *f;

	f = popen(enc, "r");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL || pclose(f) != 0) {
		ok(1, "python3 gzip # SKIP python3 not available");
		return;
	}
	line[strcspn(line, "\n")] = '\0';
	is_int(statuslist_decode(line, STATUSLIST_MIN_BITS, &back), 0,
	       "decode a list made by python3's gzip module");
	ok(statuslist_get(&back, 3) == 1 && statuslist_get(&back, 17) == 1 &&
	   statuslist_get(&back, 4096) == 1 && statuslist_get(&back, 131070) == 1 &&
	   statuslist_get(&back, 4) == 0 && statuslist_get(&back, 131071) == 0,
	   "python3's bits land at the same indexes");
	statuslist_cleanup(&back);

	statuslist_init(&sl, STATUSLIST_MIN_BITS);
	statuslist_set(&sl, 5, 1);
	statuslist_set(&sl, 70000, 1);
	statuslist_set(&sl, 131071, 1);
	statuslist_encode(&sl, &text);
	snprintf(cmd, sizeof(cmd), DEC_FMT, text);
	f = popen(cmd, "r");
	ok(f != NULL && fgets(line, sizeof(line), f) != NULL, "python3 decodes our list");
	if (f)
		pclose(f);
	line[strcspn(line, "\n")] = '\0';
	is_str(line, "16384 5 70000 131071", "to the same bytes and bits");
	free(text);
	statuslist_cleanup(&sl);
}

static void
test_refuse(void)
{
	static unsigned char zeros[16392];
	struct statuslist sl, back;
	char *good = NULL, *text;
	size_t len;

	statuslist_init(&sl, STATUSLIST_MIN_BITS);
	statuslist_encode(&sl, &good);
	len = strlen(good);
	is_int(statuslist_decode(good + 1, 0, &back), TC_EINVALID, "no multibase prefix");
	text = strdup(good);
	text[0] = 'z';
	is_int(statuslist_decode(text, 0, &back), TC_EINVALID, "base58 prefix 'z'");
	text[0] = 'u';
	text[10] = '+';
	is_int(statuslist_decode(text, 0, &back), TC_EINVALID, "a non-base64url character");
	text[10] = good[10];
	text[20] ^= 1;
	is_int(statuslist_decode(text, STATUSLIST_MIN_BITS, &back), TC_EINVALID,
	       "a flipped bit in the deflate stream");
	strcpy(text, good);
	text[len - 3] = text[len - 3] == 'A' ? 'B' : 'A';
	is_int(statuslist_decode(text, STATUSLIST_MIN_BITS, &back), TC_EINVALID,
	       "a wrong length trailer");
	text[len - 8] = '\0';
	is_int(statuslist_decode(text, STATUSLIST_MIN_BITS, &back), TC_EINVALID, "truncated");
	is_int(statuslist_decode("u", 0, &back), TC_EINVALID, "empty");
	is_int(statuslist_decode("", 0, &back), TC_EINVALID, "nothing");
	is_int(statuslist_decode(NULL, 0, &back), TC_EINVALID, "NULL");
	is_int(statuslist_decode("uaGVsbG8gd29ybGQgaGVsbG8gd29ybGQ", 0, &back), TC_EINVALID,
	       "base64url that is not gzip");
	is_int(statuslist_decode(good, STATUSLIST_MIN_BITS + 4, &back), TC_EINVALID,
	       "an expected size that is not a valid list size");
	ok(back.bits == NULL && back.nbits == 0, "the output stays empty");
	free(text);

	text = gzip_text(zeros, 16384, "junk");
	is_int(statuslist_decode(text, STATUSLIST_MIN_BITS, &back), TC_EINVALID,
	       "trailing bytes after the gzip member");
	free(text);
	text = gzip_text(zeros, 16383, NULL);
	is_int(statuslist_decode(text, STATUSLIST_MIN_BITS, &back), TC_EINVALID,
	       "undersize: one byte short");
	is_int(statuslist_decode(text, 0, &back), TC_EINVALID,
	       "undersize with any size: under the minimum");
	free(text);
	text = gzip_text(zeros, 16385, NULL);
	is_int(statuslist_decode(text, STATUSLIST_MIN_BITS, &back), TC_ETOOBIG,
	       "oversize: one byte long");
	is_int(statuslist_decode(text, 0, &back), 0, "any size: 131,080 entries");
	is_int(back.nbits, 131080, "sizes go by whole bytes");
	statuslist_cleanup(&back);
	free(text);
	text = gzip_text(zeros, 16392, NULL);
	is_int(statuslist_decode(text, 0, &back), 0, "any size: 131,136 entries");
	statuslist_cleanup(&back);
	free(text);

	/* Gzip bombs: 17 MiB of zeros (about 17 KiB compressed), once as it
	 * is and once with a trailer forged to claim 16 KiB. Inflating stops
	 * one byte past the size expected. */
	{
		size_t big = 17u << 20, gzlen = 0;
		unsigned char *bomb = calloc(big, 1), *gz = malloc(1 << 20);
		char *t = malloc(2 << 20);

		text = gzip_text(bomb, big, NULL);
		is_int(statuslist_decode(text, 0, &back), TC_ETOOBIG,
		       "a gzip bomb past the cap is refused");
		is_int(statuslist_decode(text, STATUSLIST_MIN_BITS, &back), TC_ETOOBIG,
		       "a gzip bomb is refused at the expected size");
		b64url_decode(text + 1, gz, 1 << 20, &gzlen);
		gz[gzlen - 4] = 0x00;
		gz[gzlen - 3] = 0x40;
		gz[gzlen - 2] = 0x00;
		gz[gzlen - 1] = 0x00;
		t[0] = 'u';
		b64url_encode(gz, gzlen, t + 1, (2 << 20) - 1);
		is_int(statuslist_decode(t, 0, &back), TC_ETOOBIG,
		       "a gzip bomb with a forged length is refused");
		ok(back.bits == NULL, "nothing is kept");
		free(t);
		free(gz);
		free(bomb);
		free(text);
	}
	statuslist_cleanup(&back);
	free(good);
	statuslist_cleanup(&sl);
}

/* perm(k) for every k in [0, N) (malloc'ed), NULL if one failed. */
static uint64_t *
perm_table(const struct statuslist_perm *p, uint64_t n)
{
	uint64_t *t = malloc((size_t)n * sizeof(*t));

	for (uint64_t k = 0; t != NULL && k < n; k++) {
		if (statuslist_perm_index(p, k, &t[k]) != 0) {
			free(t);
			t = NULL;
		}
	}
	return t;
}

/* 1 when T is a bijection of [0, N): every value hit exactly once. */
static int
is_bijection(const uint64_t *t, uint64_t n)
{
	unsigned char *seen = calloc((size_t)n, 1);
	int good = seen != NULL && t != NULL;

	for (uint64_t k = 0; good && k < n; k++) {
		good = t[k] < n && !seen[t[k]];
		if (good)
			seen[t[k]] = 1;
	}
	free(seen);
	return good;
}

static void
test_perm(void)
{
	static const unsigned char key1[32] = "issuer one's status list secret";
	static const unsigned char key2[32] = "issuer two's status list secret";
	static const uint64_t sizes[] = { 1, 2, 3, 4, 5, 17, 1000, 4097, 65536 };
	struct statuslist_perm p1, p2, p3;
	uint64_t a, n = STATUSLIST_MIN_BITS, *t1, *t2, *t3;
	int same = 0, fixed = 0, ascents = 0, stable = 1;

	is_int(statuslist_perm_init(&p1, key1, 15, n), TC_EINVALID, "a secret under 16 bytes");
	is_int(statuslist_perm_init(&p1, NULL, 32, n), TC_EINVALID, "no secret");
	is_int(statuslist_perm_init(&p1, key1, 32, 0), TC_EINVALID, "an empty domain");
	is_int(statuslist_perm_init(&p1, key1, 32, (UINT64_C(1) << 62) + 1), TC_EINVALID,
	       "a domain past 2^62");
	statuslist_perm_cleanup(&p1);
	is_int(statuslist_perm_init(&p1, key1, 32, n), 0, "key a permutation of 131,072");
	statuslist_perm_init(&p2, key2, 32, n);
	statuslist_perm_init(&p3, key1, 32, n);
	t1 = perm_table(&p1, n);
	t2 = perm_table(&p2, n);
	ok(is_bijection(t1, n), "all 131,072 indexes are distinct and in range");
	ok(is_bijection(t2, n), "so are another key's");
	for (uint64_t k = 0; t1 && t2 && k < n; k++) {
		same += t1[k] == t2[k];
		fixed += t1[k] == k;
		if (k < 10000) {
			stable &= statuslist_perm_index(&p3, k, &a) == 0 && a == t1[k];
			ascents += k > 0 && t1[k] > t1[k - 1];
		}
	}
	ok(stable, "the same key gives the same permutation");
	/* Two random permutations agree at about 1 place; a random one has
	 * about 1 fixed point. */
	ok(same < 10, "another key gives another permutation");
	ok(fixed < 10, "not the identity");
	ok(ascents > 4700 && ascents < 5300, "issuance order does not show (ascents about half)");
	is_int(statuslist_perm_index(&p1, n, &a), TC_ETOOBIG, "index N: the list is full");
	is_int(statuslist_perm_index(&p1, UINT64_MAX, &a), TC_ETOOBIG, "index UINT64_MAX");

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[64];

		statuslist_perm_cleanup(&p3);
		statuslist_perm_init(&p3, key1, 32, sizes[i]);
		t3 = perm_table(&p3, sizes[i]);
		snprintf(name, sizeof(name), "a bijection of [0, %llu)",
			 (unsigned long long)sizes[i]);
		ok(is_bijection(t3, sizes[i]), name);
		free(t3);
	}
	/* The size is part of the key: a list twice as large is unrelated. */
	statuslist_perm_cleanup(&p3);
	statuslist_perm_init(&p3, key1, 32, 2 * n);
	same = 0;
	for (uint64_t k = 0; t1 && k < 1000; k++)
		same += statuslist_perm_index(&p3, k, &a) == 0 && a == t1[k];
	ok(same < 5, "another size gives an unrelated permutation");
	statuslist_perm_cleanup(&p1);
	ok(p1.n == 0 && p1.inner == NULL && p1.outer == NULL, "cleanup frees and wipes");
	statuslist_perm_cleanup(&p2);
	statuslist_perm_cleanup(&p3);
	statuslist_perm_cleanup(NULL);
	free(t1);
	free(t2);
}

/*
 * Segments: credential k of an issuer goes to segment k / 131,072 at
 * segment * 131,072 + perm_segment(k mod 131,072). Segment 0 must be the
 * permutation credentials were issued with before segments existed: these
 * values were computed by statuslist_perm_init(key, 131072) before the
 * change (32-byte test key, and a 64-byte secret as issuing.c uses).
 */
static const uint64_t old_perm32[][2] = {
	{ 0, 63651 }, { 1, 96700 }, { 2, 61971 }, { 3, 23077 }, { 1000, 51408 },
	{ 65535, 97911 }, { 65536, 30509 }, { 99999, 126435 }, { 131070, 58353 },
	{ 131071, 55402 },
};
static const uint64_t old_perm64[][2] = {
	{ 0, 78933 }, { 1, 104257 }, { 2, 837 }, { 3, 73925 }, { 1000, 31830 },
	{ 65535, 80129 }, { 65536, 104173 }, { 99999, 73791 }, { 131070, 123102 },
	{ 131071, 107540 },
};

/* The indexes of segment S's credentials (malloc'ed), NULL if one failed. */
static uint64_t *
segment_table(const struct statuslist_perm *p, uint64_t s)
{
	uint64_t *t = malloc(STATUSLIST_SEGMENT_BITS * sizeof(*t));

	for (uint64_t i = 0; t != NULL && i < STATUSLIST_SEGMENT_BITS; i++) {
		if (statuslist_segment_index(p, s * STATUSLIST_SEGMENT_BITS + i, &t[i]) != 0 ||
		    t[i] / STATUSLIST_SEGMENT_BITS != s) {
			free(t);
			t = NULL;
		} else {
			t[i] -= s * STATUSLIST_SEGMENT_BITS;
		}
	}
	return t;
}

static void
test_segments(void)
{
	static const unsigned char key1[32] = "issuer one's status list secret";
	unsigned char secret[64];
	struct statuslist_perm p0, p1, p7, last;
	uint64_t a, *t0, *t1, *t7, n = STATUSLIST_SEGMENT_BITS;
	int good = 1, same01 = 0, same17 = 0;

	for (int i = 0; i < 64; i++)
		secret[i] = (unsigned char)(i * 7 + 1);
	is_int(STATUSLIST_SEGMENT_BITS, STATUSLIST_MIN_BITS, "a segment is the minimum list");
	is_int(STATUSLIST_SEGMENTS, 1024, "1,024 segments make the maximum list");
	is_int(statuslist_segment_of(0), 0, "k 0 is in segment 0");
	is_int(statuslist_segment_of(131071), 0, "k 131,071 is in segment 0");
	is_int(statuslist_segment_of(131072), 1, "k 131,072 is in segment 1");
	is_int(statuslist_segment_init(&p0, key1, 15, 0), TC_EINVALID, "a secret under 16 bytes");
	is_int(statuslist_segment_init(&p0, key1, 32, STATUSLIST_SEGMENTS), TC_ETOOBIG,
	       "segment 1,024 is past the maximum: the list is full");
	statuslist_perm_cleanup(&p0);
	is_int(statuslist_segment_init(&p0, key1, 32, 0), 0, "key segment 0");
	for (size_t i = 0; i < sizeof(old_perm32) / sizeof(old_perm32[0]); i++)
		good &= statuslist_segment_index(&p0, old_perm32[i][0], &a) == 0 &&
			a == old_perm32[i][1];
	ok(good, "segment 0 gives the indexes of the permutation before segments");
	statuslist_perm_cleanup(&p0);
	statuslist_segment_init(&p0, secret, sizeof(secret), 0);
	good = 1;
	for (size_t i = 0; i < sizeof(old_perm64) / sizeof(old_perm64[0]); i++)
		good &= statuslist_segment_index(&p0, old_perm64[i][0], &a) == 0 &&
			a == old_perm64[i][1];
	ok(good, "so does a 64-byte secret (as issuing.c's)");
	statuslist_segment_init(&p1, secret, sizeof(secret), 1);
	statuslist_segment_init(&p7, secret, sizeof(secret), 7);
	t0 = segment_table(&p0, 0);
	t1 = segment_table(&p1, 1);
	t7 = segment_table(&p7, 7);
	ok(is_bijection(t0, n), "segment 0: k 0..131,071 get distinct indexes 0..131,071");
	ok(is_bijection(t1, n), "segment 1: k 131,072..262,143 get distinct indexes 131,072..262,143");
	ok(is_bijection(t7, n), "segment 7: a bijection onto 917,504..1,048,575");
	for (uint64_t i = 0; t0 && t1 && t7 && i < n; i++) {
		same01 += t0[i] == t1[i];
		same17 += t1[i] == t7[i];
	}
	ok(same01 < 10 && same17 < 10, "each segment has its own order (a per-segment key)");
	is_int(statuslist_segment_index(&p0, n, &a), TC_EINVALID, "segment 0's key refuses k 131,072");
	is_int(statuslist_segment_index(&p1, n - 1, &a), TC_EINVALID,
	       "segment 1's key refuses k 131,071");
	is_int(statuslist_segment_init(&last, secret, sizeof(secret), STATUSLIST_SEGMENTS - 1), 0,
	       "key the last segment");
	ok(statuslist_segment_index(&last, STATUSLIST_MAX_BITS - 1, &a) == 0 &&
	   a >= STATUSLIST_MAX_BITS - n && a < STATUSLIST_MAX_BITS,
	   "the last credential gets an index in the last segment");
	is_int(statuslist_segment_index(&last, STATUSLIST_MAX_BITS, &a), TC_ETOOBIG,
	       "k 134,217,728: the list is full");
	is_int(statuslist_segment_index(&last, UINT64_MAX, &a), TC_ETOOBIG, "k UINT64_MAX");
	statuslist_perm_cleanup(&p0);
	statuslist_perm_cleanup(&p1);
	statuslist_perm_cleanup(&p7);
	statuslist_perm_cleanup(&last);
	free(t0);
	free(t1);
	free(t7);
}

/* A list of 1 and of 8 segments with a few bits set encodes quickly and
 * decodes to the same bits (the list credential is built when they change). */
static void
test_encode_segments(void)
{
	static const size_t segs[] = { 1, 8 };

	for (size_t i = 0; i < 2; i++) {
		struct statuslist sl, back;
		struct timespec t0, t1;
		char *text = NULL, name[120], msg[160];
		size_t nbits = segs[i] * STATUSLIST_SEGMENT_BITS;
		double ms;

		statuslist_init(&sl, nbits);
		for (size_t b = 0; b < 200; b++)
			statuslist_set(&sl, (b * 7919u * 131u) % nbits, 1);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		is_int(statuslist_encode(&sl, &text), 0, "encode");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		snprintf(msg, sizeof(msg), "encoding %zu segment(s) (%zu entries): %.2f ms, %zu"
			 " characters", segs[i], nbits, ms, text ? strlen(text) : 0);
		diag(msg);
		snprintf(name, sizeof(name), "%zu segment(s) decode to the same %zu entries", segs[i],
			 nbits);
		ok(text && statuslist_decode(text, 0, &back) == 0 && back.nbits == nbits &&
		   memcmp(back.bits, sl.bits, nbits / 8) == 0, name);
		statuslist_cleanup(&back);
		free(text);
		statuslist_cleanup(&sl);
	}
}

int
main(void)
{
	test_bits();
	test_encode();
	test_python();
	test_refuse();
	test_perm();
	test_segments();
	test_encode_segments();
	return done_testing();
}
