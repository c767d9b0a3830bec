/* mediatoken_test.c - tests for courses/mediatoken.c */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/mediatoken.h"
#include "tests/tap.h"

#define MATERIAL "0b6f3c52-7a1e-4d8b-9f2a-6c5e4d3b2a10"
#define VIEWER "9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
#define EXPIRES INT64_C(1767225600)	/* 2026-01-01T00:00:00Z */

/* The platform secret of the known vectors: bytes 0x00 .. 0x1f. */
static void
test_secret(unsigned char secret[32])
{
	for (int i = 0; i < 32; i++)
		secret[i] = (unsigned char)i;
}

static void
to_hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/*
 * Computed independently with the OpenSSL 3 command line (-hmac takes the
 * key as text, which cannot hold these bytes, so -macopt hexkey: instead):
 *
 *   secret=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
 *   printf 'tinchi media token v1' |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:$secret -r
 *   => fb5de442b43de6fdd470a036353771cd0ae2ea914a01381611336b3d5daafc89 (key)
 *   printf 'v1\n%s\n%s\n%s' 0b6f3c52-7a1e-4d8b-9f2a-6c5e4d3b2a10 \
 *       9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d 1767225600 |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:$key -binary |
 *     base64 | tr '+/' '-_' | tr -d '='
 *   => LdCi7t7HrKvaJhiTA0gzJZ6WBdrHIZIkXVu7hdMLyEU
 *   (and with viewer '-': m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88)
 */
static void
test_known_vector(void)
{
	unsigned char secret[32], key[32];
	char hex[65], tok[MEDIA_TOKEN_MAX];

	test_secret(secret);
	media_token_key(secret, key);
	to_hex(key, sizeof(key), hex);
	is_str(hex, "fb5de442b43de6fdd470a036353771cd0ae2ea914a01381611336b3d5daafc89",
	       "key derivation matches openssl");
	ok(memcmp(key, secret, sizeof(key)) != 0, "the media key is not the secret");

	is_int(media_token_make(key, MATERIAL, VIEWER, EXPIRES, tok, sizeof(tok)), 0,
	       "make the known token");
	is_str(tok, "v1.1767225600." VIEWER ".LdCi7t7HrKvaJhiTA0gzJZ6WBdrHIZIkXVu7hdMLyEU",
	       "token matches openssl");
	is_int(media_token_make(key, MATERIAL, "-", EXPIRES, tok, sizeof(tok)), 0,
	       "make a token without viewer");
	is_str(tok, "v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
	       "viewerless token matches openssl");
}

static void
test_round_trip(const unsigned char key[32])
{
	char tok[MEDIA_TOKEN_MAX], viewer[37];
	int64_t exp = -1;

	is_int(media_token_make(key, MATERIAL, VIEWER, EXPIRES, tok, sizeof(tok)), 0, "make");
	ok(strlen(tok) < MEDIA_TOKEN_MAX, "fits MEDIA_TOKEN_MAX");
	is_int(media_token_check(key, MATERIAL, tok, EXPIRES - 60, viewer, &exp), 0,
	       "a fresh token checks");
	is_str(viewer, VIEWER, "viewer comes back");
	is_int(exp, EXPIRES, "expiry comes back");
	is_int(media_token_check(key, MATERIAL, tok, EXPIRES, viewer, &exp), 0,
	       "still valid at the second it expires");
	is_int(media_token_check(key, MATERIAL, tok, EXPIRES, NULL, NULL), 0,
	       "outputs may be NULL");

	is_int(media_token_make(key, MATERIAL, "-", 0, tok, sizeof(tok)), 0,
	       "expiry 0 without viewer");
	ok(strncmp(tok, "v1.0.-.", 7) == 0, "expiry 0 is written as 0");
	is_int(media_token_check(key, MATERIAL, tok, 0, viewer, &exp), 0, "checks at time 0");
	is_str(viewer, "-", "no viewer comes back as -");

	is_int(media_token_make(key, MATERIAL, VIEWER, INT64_MAX, tok, sizeof(tok)), 0,
	       "the largest expiry");
	is_int(media_token_check(key, MATERIAL, tok, EXPIRES, viewer, &exp), 0,
	       "the largest expiry checks");
	ok(exp == INT64_MAX, "and comes back");
}

static void
test_refused(const unsigned char key[32])
{
	char tok[MEDIA_TOKEN_MAX], bad[MEDIA_TOKEN_MAX + 8], viewer[37];
	unsigned char other[32];
	int64_t exp = 5;
	size_t n;

	media_token_make(key, MATERIAL, VIEWER, EXPIRES, tok, sizeof(tok));
	n = strlen(tok);

	is_int(media_token_check(key, "0b6f3c52-7a1e-4d8b-9f2a-6c5e4d3b2a11", tok, EXPIRES,
				 viewer, &exp),
	       TC_EFORBIDDEN, "another material is refused");
	is_str(viewer, "", "viewer is empty on failure");
	is_int(exp, 0, "expiry is 0 on failure");
	is_int(media_token_check(key, MATERIAL, tok, EXPIRES + 1, viewer, &exp),
	       TC_EFORBIDDEN, "expired one second ago");
	is_int(exp, EXPIRES, "an expired genuine token tells its expiry");
	is_str(viewer, "", "but not its viewer");

	memcpy(other, key, 32);
	other[0] ^= 1;
	is_int(media_token_check(other, MATERIAL, tok, EXPIRES + 1, viewer, &exp),
	       TC_EFORBIDDEN, "an expired token under another key");
	is_int(exp, 0, "tells nothing");

	memcpy(other, key, 32);
	other[31] ^= 1;
	is_int(media_token_check(other, MATERIAL, tok, EXPIRES, viewer, &exp),
	       TC_EFORBIDDEN, "another key is refused");

	/* tampered expiry: 1767225600 -> 1767225601 */
	memcpy(bad, tok, n + 1);
	bad[12] = '1';
	is_int(media_token_check(key, MATERIAL, bad, EXPIRES, viewer, &exp),
	       TC_EFORBIDDEN, "tampered expiry");
	memcpy(bad, "v1.9767225600", 13);
	is_int(media_token_check(key, MATERIAL, bad, EXPIRES, viewer, &exp),
	       TC_EFORBIDDEN, "expiry pushed into the future");
	/* tampered viewer: last hex digit */
	memcpy(bad, tok, n + 1);
	bad[13 + 1 + 35] = 'e';
	is_int(media_token_check(key, MATERIAL, bad, EXPIRES, viewer, &exp),
	       TC_EFORBIDDEN, "tampered viewer");
	snprintf(bad, sizeof(bad), "v1.1767225600.-.%s", tok + n - 43);
	is_int(media_token_check(key, MATERIAL, bad, EXPIRES, viewer, &exp),
	       TC_EFORBIDDEN, "viewer dropped");
	/* tampered MAC: first and last characters */
	memcpy(bad, tok, n + 1);
	bad[n - 43] = bad[n - 43] == 'A' ? 'B' : 'A';
	is_int(media_token_check(key, MATERIAL, bad, EXPIRES, viewer, &exp),
	       TC_EFORBIDDEN, "tampered MAC (first character)");
	memcpy(bad, tok, n + 1);
	bad[n - 1] = bad[n - 1] == 'A' ? 'Q' : 'A';	/* low bits stay zero */
	is_int(media_token_check(key, MATERIAL, bad, EXPIRES, viewer, &exp),
	       TC_EFORBIDDEN, "tampered MAC (last character)");
}

static void
test_malformed(const unsigned char key[32])
{
	static const char *const bad[] = {
		"", "v1", "v1.", "v1..", "v1...",
		"v2.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"V1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.1767225600.-",
		"v1.1767225600.-.",
		"v1.1767225600.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1..-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.17672x5600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.-1.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.+1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1. 1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.01767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.9223372036854775808.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.99999999999999999999999.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.1767225600.x.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.1767225600.--.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.1767225600.9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.1767225600.9d1c2b3a_4e5f-4a6b-8c7d-0e1f2a3b4c5d.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG8",
		"v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG888",
		"v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG89",
		"v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG8=",
		"v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NOR+G88",
		"v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88.",
		"v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88.x",
		"v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9Ch.SFffJWRO5NORVG88",
		" v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
		"v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88 ",
	};
	char viewer[37], huge[400];
	int64_t exp = 9;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[200];

		snprintf(name, sizeof(name), "malformed: '%s'", bad[i]);
		is_int(media_token_check(key, MATERIAL, bad[i], 0, viewer, &exp), TC_EINVALID,
		       name);
	}
	is_int(media_token_check(key, MATERIAL, NULL, 0, viewer, &exp), TC_EINVALID,
	       "NULL token");
	memset(huge, '1', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, "v1.", 3);
	is_int(media_token_check(key, MATERIAL, huge, 0, viewer, &exp), TC_EINVALID,
	       "a huge token");
	is_int(media_token_check(key, "", bad[5], 0, viewer, &exp), TC_EINVALID,
	       "empty material on check");
	/* The known vector, accepted once, so the list above fails for its
	 * form and not its MAC. */
	is_int(media_token_check(key, MATERIAL,
				 "v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
				 0, viewer, &exp),
	       0, "the well-formed original checks");
}

static void
test_make_refuses(const unsigned char key[32])
{
	char tok[MEDIA_TOKEN_MAX], small[20], longm[MEDIA_MATERIAL_MAX + 2];
	unsigned char zero[32] = { 0 };

	is_int(media_token_make(key, "", VIEWER, EXPIRES, tok, sizeof(tok)), TC_EINVALID,
	       "empty material");
	is_str(tok, "", "OUT is empty on failure");
	is_int(media_token_make(key, NULL, VIEWER, EXPIRES, tok, sizeof(tok)), TC_EINVALID,
	       "NULL material");
	is_int(media_token_make(key, "a.b", VIEWER, EXPIRES, tok, sizeof(tok)), TC_EINVALID,
	       "'.' in material");
	is_int(media_token_make(key, "a\nb", VIEWER, EXPIRES, tok, sizeof(tok)), TC_EINVALID,
	       "newline in material");
	memset(longm, 'm', sizeof(longm) - 1);
	longm[sizeof(longm) - 1] = '\0';
	is_int(media_token_make(key, longm, VIEWER, EXPIRES, tok, sizeof(tok)), TC_EINVALID,
	       "material over MEDIA_MATERIAL_MAX");
	longm[MEDIA_MATERIAL_MAX] = '\0';
	is_int(media_token_make(key, longm, VIEWER, EXPIRES, tok, sizeof(tok)), 0,
	       "material of MEDIA_MATERIAL_MAX bytes");
	is_int(media_token_make(key, MATERIAL, "", EXPIRES, tok, sizeof(tok)), TC_EINVALID,
	       "empty viewer");
	is_int(media_token_make(key, MATERIAL, NULL, EXPIRES, tok, sizeof(tok)), TC_EINVALID,
	       "NULL viewer");
	is_int(media_token_make(key, MATERIAL, "a.b", EXPIRES, tok, sizeof(tok)), TC_EINVALID,
	       "'.' in viewer");
	is_int(media_token_make(key, MATERIAL, "a\nb", EXPIRES, tok, sizeof(tok)), TC_EINVALID,
	       "newline in viewer");
	is_int(media_token_make(key, MATERIAL, "9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d.",
				EXPIRES, tok, sizeof(tok)),
	       TC_EINVALID, "viewer longer than a UUID");
	is_int(media_token_make(key, MATERIAL, VIEWER, -1, tok, sizeof(tok)), TC_EINVALID,
	       "negative expiry");
	is_int(media_token_make(key, MATERIAL, VIEWER, EXPIRES, small, sizeof(small)),
	       TC_ETOOBIG, "OUT too small");
	is_str(small, "", "small OUT is empty");
	is_int(media_token_make(zero, MATERIAL, VIEWER, EXPIRES, tok, sizeof(tok)), TC_EIO,
	       "an all-zero key is refused");
	is_int(media_token_check(zero, MATERIAL,
				 "v1.1767225600.-.m0CZnmztNFpjj2qss7gt0ya9ChoSFffJWRO5NORVG88",
				 0, NULL, NULL),
	       TC_EIO, "and refused on check");
}

int
main(void)
{
	unsigned char secret[32], key[32];

	test_secret(secret);
	media_token_key(secret, key);
	test_known_vector();
	test_round_trip(key);
	test_refused(key);
	test_malformed(key);
	test_make_refuses(key);
	return done_testing();
}
