/* crypto_test.c - tests for courses/crypto.c */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "tests/tap.h"

static void
test_random(void)
{
	unsigned char a[32], b[32], zero[32] = { 0 };

	is_int(crypto_random(a, sizeof(a)), 0, "random bytes");
	is_int(crypto_random(b, sizeof(b)), 0, "more random bytes");
	ok(memcmp(a, b, sizeof(a)) != 0, "two draws differ");
	ok(memcmp(a, zero, sizeof(a)) != 0, "draw is not all zero");
	is_int(crypto_random(a, 0), 0, "zero bytes is fine");
}

static void
test_sha256(void)
{
	char hex[SHA256_HEX_LEN + 1];
	unsigned char raw[32];

	sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "SHA-256 of empty input");
	sha256_hex(NULL, 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "SHA-256 of NULL, 0");
	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "SHA-256 of abc (FIPS 180-2)");
	sha256_raw("abc", 3, raw);
	ok(raw[0] == 0xba && raw[31] == 0xad, "raw SHA-256 of abc");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	       "SHA-256 of the two-block FIPS vector");
}

static void
test_hmac(void)
{
	unsigned char key[131];
	char hex[SHA256_HEX_LEN + 1];

	memset(key, 0x0b, 20);
	is_int(hmac_sha256_hex(key, 20, "Hi There", 8, hex), 0, "HMAC works");
	is_str(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	       "RFC 4231 test case 1");
	is_int(hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex), 0,
	       "HMAC with a short key");
	is_str(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "RFC 4231 test case 2");
	memset(key, 0xaa, sizeof(key));
	is_int(hmac_sha256_hex(key, sizeof(key),
			       "Test Using Larger Than Block-Size Key - Hash Key First", 54, hex),
	       0, "HMAC with a long key");
	is_str(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	       "RFC 4231 test case 6");
	is_int(hmac_sha256_hex(NULL, 0, NULL, 0, hex), 0, "HMAC with empty key and message");
	is_str(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
	       "HMAC-SHA-256 of empty key and message");
}

static void
test_equal(void)
{
	ok(crypto_equal("abcd", "abcd", 4), "equal bytes");
	ok(!crypto_equal("abcd", "abce", 4), "last byte differs");
	ok(!crypto_equal("xbcd", "abcd", 4), "first byte differs");
	ok(crypto_equal("a", "b", 0), "zero bytes are equal");
}

static void
test_base64(void)
{
	static const struct { const char *in, *std, *url; } v[] = {
		/* RFC 4648 section 10 */
		{ "", "", "" },
		{ "f", "Zg==", "Zg" },
		{ "fo", "Zm8=", "Zm8" },
		{ "foo", "Zm9v", "Zm9v" },
		{ "foob", "Zm9vYg==", "Zm9vYg" },
		{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
	};
	unsigned char bin[] = { 0xfb, 0xff, 0xbf, 0xfe };
	unsigned char dec[64];
	char enc[64];
	size_t len;
	int all = 1;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i].in);

		all &= b64_encode(v[i].in, n, enc, sizeof(enc)) == 0 && strcmp(enc, v[i].std) == 0;
		all &= b64url_encode(v[i].in, n, enc, sizeof(enc)) == 0 && strcmp(enc, v[i].url) == 0;
		all &= b64_decode(v[i].std, dec, sizeof(dec), &len) == 0 && len == n &&
		       memcmp(dec, v[i].in, n) == 0;
		all &= b64url_decode(v[i].url, dec, sizeof(dec), &len) == 0 && len == n &&
		       memcmp(dec, v[i].in, n) == 0;
	}
	ok(all, "RFC 4648 vectors encode and decode (standard and url)");

	b64_encode(bin, sizeof(bin), enc, sizeof(enc));
	is_str(enc, "+/+//g==", "standard alphabet uses + and /");
	b64url_encode(bin, sizeof(bin), enc, sizeof(enc));
	is_str(enc, "-_-__g", "url alphabet uses - and _");
	ok(b64url_decode("-_-__g", dec, sizeof(dec), &len) == 0 && len == 4 &&
	   memcmp(dec, bin, 4) == 0, "url alphabet decodes");

	is_int(b64_encode("foo", 3, enc, 4), TC_ETOOBIG, "no room for the NUL");
	is_int(b64_encode("foo", 3, enc, 5), 0, "exact room");
	is_int(b64url_encode("f", 1, enc, 3), 0, "url: exact room");
	is_int(b64url_encode("f", 1, enc, 2), TC_ETOOBIG, "url: too small");
	is_int(b64_decode("Zm9vYmFy", dec, 5, &len), TC_ETOOBIG, "decode: output too small");
	is_int(b64_decode("Zm9vYmFy", dec, 6, NULL), 0, "decode: exact room, NULL outlen");

	is_int(b64_decode("Zm9", dec, sizeof(dec), &len), TC_EINVALID, "std: missing padding");
	is_int(b64_decode("Zg=", dec, sizeof(dec), &len), TC_EINVALID, "std: short padding");
	is_int(b64_decode("Zg===", dec, sizeof(dec), &len), TC_EINVALID, "std: extra padding");
	is_int(b64_decode("Z===", dec, sizeof(dec), &len), TC_EINVALID, "std: three '='");
	is_int(b64_decode("====", dec, sizeof(dec), &len), TC_EINVALID, "std: only padding");
	is_int(b64_decode("Zg==Zg==", dec, sizeof(dec), &len), TC_EINVALID,
	       "std: padding in the middle");
	is_int(b64_decode("Z=g=", dec, sizeof(dec), &len), TC_EINVALID, "std: '=' inside");
	is_int(b64_decode("Zm9v\n", dec, sizeof(dec), &len), TC_EINVALID, "std: newline");
	is_int(b64_decode("Zm 9v", dec, sizeof(dec), &len), TC_EINVALID, "std: space");
	is_int(b64_decode("Zm9-", dec, sizeof(dec), &len), TC_EINVALID, "std: url character");
	is_int(b64_decode("Zh==", dec, sizeof(dec), &len), TC_EINVALID,
	       "std: non-zero unused bits (1 byte)");
	is_int(b64_decode("Zm9=", dec, sizeof(dec), &len), TC_EINVALID,
	       "std: non-zero unused bits (2 bytes)");
	is_int(b64_decode(NULL, dec, sizeof(dec), &len), TC_EINVALID, "std: NULL");
	is_int(b64url_decode("Zg==", dec, sizeof(dec), &len), TC_EINVALID, "url: padding rejected");
	is_int(b64url_decode("Z", dec, sizeof(dec), &len), TC_EINVALID, "url: length 1 mod 4");
	is_int(b64url_decode("Zm9vY", dec, sizeof(dec), &len), TC_EINVALID, "url: length 5");
	is_int(b64url_decode("Zm+v", dec, sizeof(dec), &len), TC_EINVALID, "url: '+' rejected");
	is_int(b64url_decode("Zm/v", dec, sizeof(dec), &len), TC_EINVALID, "url: '/' rejected");
	is_int(b64url_decode("Zh", dec, sizeof(dec), &len), TC_EINVALID,
	       "url: non-zero unused bits");
	is_int(b64url_decode("Zm\xc3\xa9", dec, sizeof(dec), &len), TC_EINVALID,
	       "url: non-ASCII rejected");
}

/* Round-trips every length 0..40 of pseudo-random bytes through all encoders. */
static void
test_roundtrip(void)
{
	unsigned char in[40], dec[64];
	char enc[128];
	size_t len;
	int all = 1;

	for (size_t n = 0; n <= sizeof(in); n++) {
		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)(i * 37 + n * 11 + (i % 3 == 0 ? 0 : 0x80));
		if (n >= 3)
			in[0] = in[1] = 0;
		all &= b64_encode(in, n, enc, sizeof(enc)) == 0 &&
		       b64_decode(enc, dec, sizeof(dec), &len) == 0 && len == n &&
		       memcmp(in, dec, n) == 0;
		all &= b64url_encode(in, n, enc, sizeof(enc)) == 0 &&
		       b64url_decode(enc, dec, sizeof(dec), &len) == 0 && len == n &&
		       memcmp(in, dec, n) == 0;
		all &= base58btc_encode(in, n, enc, sizeof(enc)) == 0 &&
		       base58btc_decode(enc, dec, sizeof(dec), &len) == 0 && len == n &&
		       memcmp(in, dec, n) == 0;
	}
	ok(all, "lengths 0..40 round-trip through base64, base64url and base58btc");
}

static void
test_base58(void)
{
	static const unsigned char lead[] = { 0x00, 0x00, 0x28, 0x7f, 0xb4, 0xcd };
	static const unsigned char zeros[3] = { 0 };
	unsigned char dec[64];
	char enc[64];
	size_t len;

	is_int(base58btc_encode("Hello World!", 12, enc, sizeof(enc)), 0, "base58 encodes");
	is_str(enc, "2NEpo7TZRRrLZSi2U", "Hello World! in base58btc");
	ok(base58btc_decode("2NEpo7TZRRrLZSi2U", dec, sizeof(dec), &len) == 0 && len == 12 &&
	   memcmp(dec, "Hello World!", 12) == 0, "Hello World! decodes back");
	is_int(base58btc_encode(lead, sizeof(lead), enc, sizeof(enc)), 0, "leading zeros encode");
	is_str(enc, "11233QC4", "00 00 28 7f b4 cd in base58btc");
	ok(base58btc_decode("11233QC4", dec, sizeof(dec), &len) == 0 && len == sizeof(lead) &&
	   memcmp(dec, lead, sizeof(lead)) == 0, "leading '1's decode to zero bytes");
	is_int(base58btc_encode(zeros, sizeof(zeros), enc, sizeof(enc)), 0, "all zeros encode");
	is_str(enc, "111", "three zero bytes are three '1's");
	ok(base58btc_decode("111", dec, sizeof(dec), &len) == 0 && len == 3 &&
	   memcmp(dec, zeros, 3) == 0, "three '1's are three zero bytes");
	is_int(base58btc_encode("", 0, enc, sizeof(enc)), 0, "empty input encodes");
	is_str(enc, "", "empty input is the empty string");
	ok(base58btc_decode("", dec, sizeof(dec), &len) == 0 && len == 0, "empty string decodes");
	is_int(base58btc_encode("\x39", 1, enc, sizeof(enc)), 0, "57 encodes");
	is_str(enc, "z", "57 is z");
	is_int(base58btc_encode("\x3a", 1, enc, sizeof(enc)), 0, "58 encodes");
	is_str(enc, "21", "58 is 21");

	is_int(base58btc_decode("0OIl", dec, sizeof(dec), &len), TC_EINVALID,
	       "0, O, I and l are not base58");
	is_int(base58btc_decode("2NEp0", dec, sizeof(dec), &len), TC_EINVALID, "0 rejected");
	is_int(base58btc_decode("2NE+", dec, sizeof(dec), &len), TC_EINVALID, "+ rejected");
	is_int(base58btc_decode("2NE p", dec, sizeof(dec), &len), TC_EINVALID, "space rejected");
	is_int(base58btc_decode(NULL, dec, sizeof(dec), &len), TC_EINVALID, "NULL rejected");
	is_int(base58btc_encode("Hello World!", 12, enc, 17), TC_ETOOBIG,
	       "encode: no room for the NUL");
	is_int(base58btc_encode("Hello World!", 12, enc, 18), 0, "encode: exact room");
	is_int(base58btc_encode(zeros, 3, enc, 3), TC_ETOOBIG, "encode: zeros past the room");
	is_int(base58btc_decode("2NEpo7TZRRrLZSi2U", dec, 11, &len), TC_ETOOBIG,
	       "decode: output too small");
	is_int(base58btc_decode("2NEpo7TZRRrLZSi2U", dec, 12, NULL), 0, "decode: exact room");
	is_int(base58btc_decode("1111", dec, 3, &len), TC_ETOOBIG, "decode: too many zeros");
}

/* The byte-at-a-time decoding (what base58btc_decode does past its fast
 * path), for comparison: 0 and *OUTLEN, or -1 when it needs more than
 * OUTSIZE bytes. IN holds base58 characters only. */
static int
ref_b58_decode(const char *in, unsigned char *out, size_t outsize, size_t *outlen)
{
	static const char alpha[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	size_t n = strlen(in), zeros = 0, len = 0;
	unsigned char *bytes;

	while (zeros < n && in[zeros] == '1')
		zeros++;
	if (outsize < zeros)
		return -1;
	memset(out, 0, zeros);
	bytes = out + zeros;
	for (size_t i = zeros; i < n; i++) {
		unsigned carry = (unsigned)(strchr(alpha, in[i]) - alpha);

		for (size_t k = 0; k < len; k++) {
			carry += (unsigned)bytes[k] * 58;
			bytes[k] = (unsigned char)(carry & 0xFF);
			carry >>= 8;
		}
		while (carry) {
			if (zeros + len == outsize)
				return -1;
			bytes[len++] = (unsigned char)(carry & 0xFF);
			carry >>= 8;
		}
	}
	for (size_t k = 0; k < len / 2; k++) {
		unsigned char t = bytes[k];

		bytes[k] = bytes[len - 1 - k];
		bytes[len - 1 - k] = t;
	}
	*outlen = zeros + len;
	return 0;
}

/* Random base58 texts of 0 to 420 characters (so both sides of the fast
 * path's 360), some with leading '1's: the same bytes as the byte-at-a-time
 * decoding, and TC_ETOOBIG exactly when one byte less room is given. */
static void
test_base58_random(void)
{
	static const char alpha[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	static unsigned char a[640], b[640];
	char in[424];
	unsigned long x = 12345;
	int same = 1, room = 1;

	for (int r = 0; r < 3000; r++) {
		size_t n, ones, la = 0, lb = 0;

		x = x * 6364136223846793005UL + 1442695040888963407UL;
		n = (size_t)(x >> 33) % 421;
		ones = (size_t)(x >> 20) % 4;
		for (size_t i = 0; i < n; i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			in[i] = i < ones ? '1' : alpha[(x >> 33) % 58];
		}
		in[n] = '\0';
		same &= ref_b58_decode(in, a, sizeof(a), &la) == 0 &&
			base58btc_decode(in, b, sizeof(b), &lb) == 0 && la == lb &&
			memcmp(a, b, la) == 0;
		room &= base58btc_decode(in, b, la, &lb) == 0 && lb == la;
		if (la > 0)
			room &= base58btc_decode(in, b, la - 1, &lb) == TC_ETOOBIG;
	}
	ok(same, "3,000 random texts of 0-420 characters decode as byte at a time");
	ok(room, "... needing exactly that room (one byte less: TC_ETOOBIG)");
}

static void
test_tokens(void)
{
	char a[64], b[64];
	unsigned char raw[64];
	size_t len;
	int shape = 1;

	is_int(token_new("tcs_", a, sizeof(a)), 0, "session token");
	is_int(token_new("tcs_", b, sizeof(b)), 0, "another session token");
	is_int(strlen(a), 4 + 43, "prefix + 43 characters");
	ok(strncmp(a, "tcs_", 4) == 0, "token starts with its prefix");
	ok(strcmp(a, b) != 0, "two tokens differ");
	ok(b64url_decode(a + 4, raw, sizeof(raw), &len) == 0 && len == TOKEN_BYTES,
	   "token body is base64url of 32 bytes");
	is_int(token_new("tct_", a, 47), TC_ETOOBIG, "token without room for the NUL");
	is_int(token_new("tct_", a, 48), 0, "token with exact room");
	is_int(token_new(NULL, a, sizeof(a)), 0, "NULL prefix is empty");
	is_int(strlen(a), 43, "bare token is 43 characters");

	is_int(uuid_v4(a), 0, "uuid");
	is_int(uuid_v4(b), 0, "another uuid");
	is_int(strlen(a), 36, "uuid is 36 characters");
	for (size_t i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? a[i] != '-' : strchr("0123456789abcdef", a[i]) == NULL || a[i] == '\0')
			shape = 0;
	}
	ok(shape, "uuid is lower-case hex in 8-4-4-4-12");
	ok(a[14] == '4', "uuid version 4");
	ok(strchr("89ab", a[19]) != NULL, "uuid RFC 4122 variant");
	ok(strcmp(a, b) != 0, "two uuids differ");
}

/* The public half of the raw private key PRIV. */
static void
pub_of(const unsigned char priv[32], unsigned char pub[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	size_t n = 32;

	if (!k || EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 || n != 32)
		memset(pub, 0, 32);
	EVP_PKEY_free(k);
}

/* ed25519_verify keeps each thread's last key set up: a run of good and bad
 * signatures under one key and then another gives each its own answer. */
static void
test_ed25519_sequence(void)
{
	unsigned char a[32], b[32], pa[32], pb[32], sa[64], sb[64], bad[64];
	const char *m1 = "the first message", *m2 = "another";
	int good = 1;

	memset(a, 7, sizeof(a));
	memset(b, 9, sizeof(b));
	pub_of(a, pa);
	pub_of(b, pb);
	ok(ed25519_sign_raw(a, m1, strlen(m1), sa) == 0 &&
	   ed25519_sign_raw(b, m2, strlen(m2), sb) == 0, "two keys sign");
	memcpy(bad, sa, 64);
	bad[10] ^= 1;
	for (int i = 0; i < 3; i++) {
		good &= ed25519_verify(pa, m1, strlen(m1), sa) == 0;
		good &= ed25519_verify(pa, m1, strlen(m1), bad) == TC_EFORBIDDEN;
		good &= ed25519_verify(pa, m2, strlen(m2), sa) == TC_EFORBIDDEN;
		good &= ed25519_verify(pa, m1, strlen(m1), sa) == 0;
		good &= ed25519_verify(pb, m2, strlen(m2), sb) == 0;
		good &= ed25519_verify(pb, m1, strlen(m1), sa) == TC_EFORBIDDEN;
		good &= ed25519_verify(pa, m2, strlen(m2), sb) == TC_EFORBIDDEN;
		good &= ed25519_verify(pb, m2, strlen(m2), sb) == 0;
	}
	ok(good, "good, bad and wrong-key signatures in turn under two keys: each answered right");
}

/* S + L (the group order) into S: the same signature with S not reduced. */
static void
add_order(unsigned char s[32])
{
	static const unsigned char l[32] = {
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
		0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x10 };
	unsigned carry = 0;

	for (int i = 0; i < 32; i++) {
		carry += s[i] + l[i];
		s[i] = (unsigned char)carry;
		carry >>= 8;
	}
}

/* OpenSSL's own answers (ed25519_verify): good signatures valid; each with
 * one bit of its signature, key or message flipped, refused; S + L for S
 * (the same signature, S not reduced) refused; and a public key and R of
 * small order (the identity point with S = 0: the equation holds for every
 * message) answered as RFC 8032's check answers it, accepted, the same for
 * every message and never an error. */
static void
test_ed25519_openssl_answers(void)
{
	unsigned char priv[32], pub[32], sig[64], msg[300], p2[32], s2[64], m2[300];
	unsigned char id[32] = { 1 }, idsig[64] = { 1 };
	int good = 1, flipped = 1, high = 1;

	for (int i = 0; i < 300; i++) {
		size_t n = (size_t)(i * 7) % sizeof(msg);
		unsigned r;

		if (crypto_random(priv, sizeof(priv)) || crypto_random(msg, sizeof(msg)) ||
		    crypto_random(&r, sizeof(r))) {
			good = 0;
			break;
		}
		pub_of(priv, pub);
		good &= ed25519_sign_raw(priv, msg, n, sig) == 0 &&
			ed25519_verify(pub, msg, n, sig) == 0;
		memcpy(p2, pub, 32);
		memcpy(s2, sig, 64);
		memcpy(m2, msg, sizeof(msg));
		switch (n ? i % 3 : i % 2) {
		case 0: s2[r % 64] ^= (unsigned char)(1u << (r >> 8) % 8); break;
		case 1: p2[r % 32] ^= (unsigned char)(1u << (r >> 8) % 8); break;
		default: m2[r % n] ^= (unsigned char)(1u << (r >> 8) % 8); break;
		}
		flipped &= ed25519_verify(p2, m2, n, s2) == TC_EFORBIDDEN;
		memcpy(s2, sig, 64);
		add_order(s2 + 32);
		high &= ed25519_verify(pub, msg, n, s2) == TC_EFORBIDDEN;
	}
	ok(good, "300 good signatures (messages of 0 to 299 bytes): valid");
	ok(flipped, "each with one bit of its signature, key or message flipped: refused");
	ok(high, "each with S + L for S: refused");
	is_int(ed25519_verify(id, "one", 3, idsig), 0,
	       "a public key and R of small order, S = 0: the equation holds, accepted");
	is_int(ed25519_verify(id, "two", 3, idsig), 0, "the same for another message");
}

/* Every byte, as one character of an encoding: accepted exactly when it
 * is in that encoding's alphabet (the decoders look characters up without
 * searching the alphabet). */
static void
test_alphabets(void)
{
	static const char std[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	unsigned char out[8];
	size_t len;
	int bad_std = 0, bad_url = 0, bad_b58 = 0, bad_val = 0;

	for (int c = 1; c < 256; c++) {
		char s[5] = { 'A', 'A', (char)c, 'A', '\0' }, one[2] = { (char)c, '\0' };
		int in_std = strchr(std, c) != NULL, in_url = strchr(url, c) != NULL;
		int in_b58 = strchr(b58, c) != NULL;

		bad_std += (b64_decode(s, out, sizeof(out), &len) == 0) != in_std;
		bad_url += (b64url_decode(s, out, sizeof(out), &len) == 0) != in_url;
		bad_b58 += (base58btc_decode(one, out, sizeof(out), &len) == 0) != in_b58;
		/* "AA" c "A": the 24 bits 0, 0, v, 0 in 6-bit groups */
		if (in_std && b64_decode(s, out, sizeof(out), &len) == 0)
			bad_val += len != 3 || out[0] != 0 ||
				   out[1] != (unsigned char)((strchr(std, c) - std) >> 2) ||
				   out[2] != (unsigned char)(((strchr(std, c) - std) & 3) << 6);
		if (in_b58 && base58btc_decode(one, out, sizeof(out), &len) == 0)
			bad_val += (c == '1') ? len != 1 || out[0] != 0 :
				   len != 1 || out[0] != (unsigned char)(strchr(b58, c) - b58);
	}
	is_int(bad_std, 0, "base64: every byte accepted exactly when in the alphabet");
	is_int(bad_url, 0, "base64url: every byte accepted exactly when in the alphabet");
	is_int(bad_b58, 0, "base58btc: every byte accepted exactly when in the alphabet");
	is_int(bad_val, 0, "each character decodes to its place in the alphabet");
}

int
main(void)
{
	test_random();
	test_sha256();
	test_hmac();
	test_equal();
	test_base64();
	test_roundtrip();
	test_base58();
	test_base58_random();
	test_alphabets();
	test_tokens();
	test_ed25519_sequence();
	test_ed25519_openssl_answers();
	return done_testing();
}
