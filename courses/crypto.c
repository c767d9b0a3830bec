/* crypto.c - see crypto.h. */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/log.h"

static const char hexdigits[] = "0123456789abcdef";
static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b58_alpha[] =
	"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

void
crypto_log_error(const char *what)
{
	char msg[256];
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, msg, sizeof(msg));
	else
		msg[0] = '\0';
	log_err("%s failed: %s", what, msg);
	ERR_clear_error();
}

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0x0F];
	}
	out[2 * n] = '\0';
}

int
crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t done = 0;

	while (done < n) {
		size_t chunk = n - done;

		if (chunk > INT_MAX)
			chunk = INT_MAX;
		if (RAND_bytes(p + done, (int)chunk) != 1) {
			crypto_log_error("RAND_bytes");
			OPENSSL_cleanse(buf, n);
			return TC_EIO;
		}
		done += chunk;
	}
	return 0;
}

/*
 * EVP_Digest only fails when OpenSSL cannot allocate its context. The
 * functions return void, so the failure is logged and the output zeroed
 * (a value no real SHA-256 is known to have).
 */
/*
 * SHA-256 fetched once: the implicit fetch behind EVP_sha256() and the
 * one-shot HMAC() look the algorithm up on every call, which made hashing
 * the largest cost of a bulk import.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
fetch_sha256(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	return sha256_md ? sha256_md : EVP_sha256();
}

/*
 * Each thread's SHA-256 context, made once: a verification hashes some 35
 * times (leaves and nodes of its inclusion proof, its canonical text), and
 * a context made and freed each time cost more than hashing the short
 * inputs. EVP_DigestInit_ex with the same digest re-initialises it in
 * place. Freed when the thread ends.
 */
static pthread_key_t sha_key;
static pthread_once_t sha_key_once = PTHREAD_ONCE_INIT;
static int sha_key_ok;

static void
sha_ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
}

static void
sha_key_make(void)
{
	sha_key_ok = pthread_key_create(&sha_key, sha_ctx_free) == 0;
}

/* This thread's context, or (*OWN set) one for this call only; NULL when
 * OpenSSL cannot allocate one. */
static EVP_MD_CTX *
sha_ctx(int *own)
{
	EVP_MD_CTX *ctx;

	*own = 0;
	pthread_once(&sha_key_once, sha_key_make);
	if (sha_key_ok && (ctx = pthread_getspecific(sha_key)))
		return ctx;
	if (!(ctx = EVP_MD_CTX_new()))
		return NULL;
	if (!sha_key_ok || pthread_setspecific(sha_key, ctx) != 0)
		*own = 1;
	return ctx;
}

/* SHA-256 over the concatenation of up to two pieces. 0 or TC_EIO. */
static int
sha256_2(const void *a, size_t an, const void *b, size_t bn, unsigned char out[32])
{
	int own;
	EVP_MD_CTX *ctx = sha_ctx(&own);
	unsigned int len = 0;
	int ok = ctx && EVP_DigestInit_ex(ctx, sha256(), NULL) == 1 &&
		 (an == 0 || EVP_DigestUpdate(ctx, a, an) == 1) &&
		 (bn == 0 || EVP_DigestUpdate(ctx, b, bn) == 1) &&
		 EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;

	if (own)
		EVP_MD_CTX_free(ctx);
	return ok ? 0 : TC_EIO;
}

void
sha256_raw(const void *data, size_t n, unsigned char out[32])
{
	sha256_concat(data, n, NULL, 0, out);
}

void
sha256_concat(const void *a, size_t an, const void *b, size_t bn, unsigned char out[32])
{
	if (sha256_2(a, an, b, bn, out) != 0) {
		crypto_log_error("SHA-256");
		memset(out, 0, 32);
	}
}

void
sha256_hex(const void *data, size_t n, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[32];

	sha256_raw(data, n, md);
	hex_encode(md, sizeof(md), out);
}

/* HMAC (RFC 2104) over SHA-256, built on the fetched digest. */
int
hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t n,
		char out[SHA256_HEX_LEN + 1])
{
	unsigned char k[64], pad[64], inner[32], md[32];
	int rc = 0;

	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k))
		rc = sha256_2(key, keylen, NULL, 0, k);
	else if (keylen)
		memcpy(k, key, keylen);
	for (size_t i = 0; rc == 0 && i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	if (rc == 0)
		rc = sha256_2(pad, sizeof(pad), msg, n, inner);
	for (size_t i = 0; rc == 0 && i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	if (rc == 0)
		rc = sha256_2(pad, sizeof(pad), inner, sizeof(inner), md);
	if (rc == 0)
		hex_encode(md, sizeof(md), out);
	else
		crypto_log_error("HMAC-SHA-256");
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

int
crypto_equal(const void *a, const void *b, size_t n)
{
	return n == 0 || CRYPTO_memcmp(a, b, n) == 0;
}

/* ---- base64 ------------------------------------------------------------ */

/* Encodes with ALPHA; PAD adds '=' to a multiple of 4 characters. */
static int
b64_encode_with(const char *alpha, int pad, const unsigned char *in, size_t n,
		char *out, size_t outsize)
{
	size_t full = n / 3, rest = n % 3, need, o = 0;

	if (full > (SIZE_MAX - 5) / 4)
		return TC_ETOOBIG;
	need = full * 4 + (rest ? (pad ? 4 : rest + 1) : 0);
	if (outsize < need + 1)
		return TC_ETOOBIG;
	for (size_t i = 0; i < full * 3; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];

		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (rest) {
		unsigned long v = (unsigned long)in[full * 3] << 16;

		if (rest == 2)
			v |= (unsigned long)in[full * 3 + 1] << 8;
		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		if (rest == 2)
			out[o++] = alpha[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

/* b64_std's and b64_url's characters' values by byte, -1 for the others. */
static const signed char b64_std_values[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static const signed char b64_url_values[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* The 6-bit value of C in ALPHA (b64_std or b64_url), or -1: one look-up. */
static inline int
b64_value(const char *alpha, char c)
{
	return (alpha == b64_url ? b64_url_values : b64_std_values)[(unsigned char)c];
}

/*
 * Strict decoding: only ALPHA characters; with PAD the length is a multiple
 * of 4 and ends in at most two '='; without PAD there is no '=' at all. The
 * unused low bits of the last character must be zero, so every byte string
 * has exactly one accepted encoding. Validates everything before writing.
 */
static int
b64_decode_with(const char *alpha, int pad, const char *in, unsigned char *out,
		size_t outsize, size_t *outlen)
{
	size_t len, data, rest, need, o = 0;
	unsigned long v = 0;
	int last;

	if (in == NULL)
		return TC_EINVALID;
	len = strlen(in);
	data = len;
	if (pad) {
		if (len % 4 != 0)
			return TC_EINVALID;
		if (data > 0 && in[data - 1] == '=')
			data--;
		if (data > 0 && in[data - 1] == '=')
			data--;
	}
	rest = data % 4;
	if (rest == 1 || (pad && len - data != (rest ? 4 - rest : 0)))
		return TC_EINVALID;
	for (size_t i = 0; i < data; i++)
		if (b64_value(alpha, in[i]) < 0)
			return TC_EINVALID;
	if (rest) {
		last = b64_value(alpha, in[data - 1]);
		if ((rest == 2 && (last & 0x0F)) || (rest == 3 && (last & 0x03)))
			return TC_EINVALID;
	}
	need = data / 4 * 3 + (rest ? rest - 1 : 0);
	if (outsize < need)
		return TC_ETOOBIG;
	for (size_t i = 0; i < data; i++) {
		v = (v << 6) | (unsigned long)b64_value(alpha, in[i]);
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(v >> 16);
			out[o++] = (unsigned char)(v >> 8);
			out[o++] = (unsigned char)v;
			v = 0;
		}
	}
	if (rest == 2) {
		out[o++] = (unsigned char)(v >> 4);
	} else if (rest == 3) {
		out[o++] = (unsigned char)(v >> 10);
		out[o++] = (unsigned char)(v >> 2);
	}
	if (outlen)
		*outlen = o;
	return 0;
}

int
b64url_encode(const void *in, size_t n, char *out, size_t outsize)
{
	return b64_encode_with(b64_url, 0, in, n, out, outsize);
}

int
b64url_decode(const char *in, unsigned char *out, size_t outsize, size_t *outlen)
{
	return b64_decode_with(b64_url, 0, in, out, outsize, outlen);
}

int
b64_encode(const void *in, size_t n, char *out, size_t outsize)
{
	return b64_encode_with(b64_std, 1, in, n, out, outsize);
}

int
b64_decode(const char *in, unsigned char *out, size_t outsize, size_t *outlen)
{
	return b64_decode_with(b64_std, 1, in, out, outsize, outlen);
}

/* ---- base58btc ----------------------------------------------------------- */

/*
 * Repeated division of a big number, done in place in OUT: the base-58
 * digits are kept least significant first after the leading '1's, then
 * reversed and mapped to the alphabet. Quadratic in N; meant for keys and
 * signatures, not bulk data.
 */
int
base58btc_encode(const void *in, size_t n, char *out, size_t outsize)
{
	const unsigned char *p = in;
	unsigned char *digits;
	size_t zeros = 0, len = 0, room;

	while (zeros < n && p[zeros] == 0)
		zeros++;
	if (outsize < zeros + 1)
		goto too_big;
	digits = (unsigned char *)out + zeros;
	room = outsize - zeros - 1;	/* the NUL */
	for (size_t i = zeros; i < n; i++) {
		unsigned carry = p[i];

		for (size_t k = 0; k < len; k++) {
			carry += (unsigned)digits[k] << 8;
			digits[k] = (unsigned char)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			if (len == room)
				goto too_big;
			digits[len++] = (unsigned char)(carry % 58);
			carry /= 58;
		}
	}
	for (size_t k = 0; k < len / 2; k++) {
		unsigned char t = digits[k];

		digits[k] = digits[len - 1 - k];
		digits[len - 1 - k] = t;
	}
	memset(out, '1', zeros);
	for (size_t k = 0; k < len; k++)
		digits[k] = (unsigned char)b58_alpha[digits[k]];
	out[zeros + len] = '\0';
	return 0;
too_big:
	OPENSSL_cleanse(out, outsize);
	return TC_ETOOBIG;
}

/* b58_alpha's characters' values by ASCII code, -1 for the others. */
static const signed char b58_values[128] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, -1, -1, -1,
	-1, 9, 10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, -1,
	22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, -1, -1, -1, -1, -1,
	-1, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, -1, 44, 45, 46,
	47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, -1, -1, -1, -1, -1,
};

static inline int
b58_value(char c)
{
	unsigned char u = (unsigned char)c;

	return u < 128 ? b58_values[u] : -1;
}

/* Up to B58_FAST_CHARS characters after the leading '1's (keys and
 * signatures: 44 and 88) are read into 32-bit limbs five characters at a
 * time (58^5 < 2^32), about 20 times fewer steps than a byte per character. */
#define B58_FAST_CHARS 360
#define B58_FAST_LIMBS (B58_FAST_CHARS / 5 + 2)	/* 58^5 < 2^32: a limb a group */

static int
b58_decode_limbs(const char *in, size_t zeros, size_t n, unsigned char *out, size_t outsize,
		 size_t *outlen)
{
	static const uint32_t pow58[6] = { 1, 58, 3364, 195112, 11316496, 656356768 };
	uint32_t limb[B58_FAST_LIMBS];		/* least significant first */
	size_t len = 0, nb, o = zeros;

	for (size_t i = zeros; i < n; i += 5) {
		size_t k = n - i < 5 ? n - i : 5;
		uint64_t carry = 0;

		for (size_t j = 0; j < k; j++)
			carry = carry * 58 + (uint64_t)b58_value(in[i + j]);
		for (size_t j = 0; j < len; j++) {
			uint64_t t = (uint64_t)limb[j] * pow58[k] + carry;

			limb[j] = (uint32_t)t;
			carry = t >> 32;
		}
		if (carry)
			limb[len++] = (uint32_t)carry;
	}
	/* the number's bytes, most significant first, without leading zeros */
	nb = len * 4;
	while (nb > 0 && ((limb[(nb - 1) / 4] >> (((nb - 1) % 4) * 8)) & 0xFF) == 0)
		nb--;
	if (zeros + nb > outsize) {
		OPENSSL_cleanse(out, outsize);
		return TC_ETOOBIG;
	}
	memset(out, 0, zeros);
	for (size_t b = nb; b > 0; b--)
		out[o++] = (unsigned char)(limb[(b - 1) / 4] >> (((b - 1) % 4) * 8));
	if (outlen)
		*outlen = o;
	return 0;
}

/* The inverse of base58btc_encode, again in place: bytes least significant
 * first after the leading zeros, then reversed (or by limbs, above, for
 * short inputs: the same bytes). */
int
base58btc_decode(const char *in, unsigned char *out, size_t outsize, size_t *outlen)
{
	unsigned char *bytes;
	size_t zeros = 0, len = 0, n;

	if (in == NULL)
		return TC_EINVALID;
	n = strlen(in);
	for (size_t i = 0; i < n; i++)
		if (b58_value(in[i]) < 0)
			return TC_EINVALID;
	while (zeros < n && in[zeros] == '1')
		zeros++;
	if (outsize < zeros)
		return TC_ETOOBIG;
	if (n - zeros <= B58_FAST_CHARS)
		return b58_decode_limbs(in, zeros, n, out, outsize, outlen);
	memset(out, 0, zeros);
	bytes = out + zeros;
	for (size_t i = zeros; i < n; i++) {
		unsigned carry = (unsigned)b58_value(in[i]);

		for (size_t k = 0; k < len; k++) {
			carry += (unsigned)bytes[k] * 58;
			bytes[k] = (unsigned char)(carry & 0xFF);
			carry >>= 8;
		}
		while (carry) {
			if (zeros + len == outsize) {
				OPENSSL_cleanse(out, outsize);
				return TC_ETOOBIG;
			}
			bytes[len++] = (unsigned char)(carry & 0xFF);
			carry >>= 8;
		}
	}
	for (size_t k = 0; k < len / 2; k++) {
		unsigned char t = bytes[k];

		bytes[k] = bytes[len - 1 - k];
		bytes[len - 1 - k] = t;
	}
	if (outlen)
		*outlen = zeros + len;
	return 0;
}

/* ---- tokens and identifiers --------------------------------------------- */

int
token_new(const char *prefix, char *out, size_t outsize)
{
	unsigned char raw[TOKEN_BYTES];
	size_t plen;
	int rc;

	if (prefix == NULL)
		prefix = "";
	plen = strlen(prefix);
	if (outsize < plen + 1)
		return TC_ETOOBIG;
	rc = crypto_random(raw, sizeof(raw));
	if (rc != 0)
		goto out;
	memcpy(out, prefix, plen);
	rc = b64url_encode(raw, sizeof(raw), out + plen, outsize - plen);
	if (rc != 0)
		OPENSSL_cleanse(out, outsize);
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int
uuid_v4(char out[37])
{
	unsigned char b[16];
	size_t o = 0;
	int rc;

	rc = crypto_random(b, sizeof(b));
	if (rc != 0)
		return rc;
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);	/* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hexdigits[b[i] >> 4];
		out[o++] = hexdigits[b[i] & 0x0F];
	}
	out[o] = '\0';
	return 0;
}

int
ed25519_sign_raw(const unsigned char priv[32], const void *msg, size_t n,
		 unsigned char sig[64])
{
	static const unsigned char empty[1];
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	size_t siglen = 64;
	int rc = 0;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	ctx = EVP_MD_CTX_new();
	if (pkey == NULL || ctx == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, n ? msg : empty, n) != 1 || siglen != 64) {
		crypto_log_error("Ed25519 signing");
		OPENSSL_cleanse(sig, 64);
		rc = TC_EIO;
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rc;
}

/*
 * The last public key each thread verified with, set up once: OpenSSL 3
 * decodes a raw key and fetches the signature method anew for every
 * EVP_PKEY_new_raw_public_key + EVP_DigestVerifyInit, which cost about as
 * much as the rest of a credential's checks. A one-shot Ed25519
 * EVP_DigestVerify leaves its context ready for the next message in
 * OpenSSL 3.0 (openssl speed reuses it the same way); should a version
 * refuse a second one-shot on a context, a failure on a reused context is
 * tried again on a fresh one, and from then on every call gets a fresh
 * context (the decoded key is still kept). Freed when the thread ends.
 */
struct ed_verifier {
	unsigned char pub[32];
	EVP_PKEY *pkey;
	EVP_MD_CTX *ctx;
	int used;		/* ctx has verified once already */
};

static pthread_key_t ed_key;
static pthread_once_t ed_once = PTHREAD_ONCE_INIT;
static int ed_key_ok;
static int ed_no_reuse;	/* this OpenSSL refused a reused context */

static void
ed_verifier_free(void *p)
{
	struct ed_verifier *v = p;

	if (!v)
		return;
	EVP_MD_CTX_free(v->ctx);
	EVP_PKEY_free(v->pkey);
	OPENSSL_free(v);
}

static void
ed_key_make(void)
{
	ed_key_ok = pthread_key_create(&ed_key, ed_verifier_free) == 0;
}

/* A new context for V's key in V->ctx: 0, or TC_EIO (logged). */
static int
ed_ctx_init(struct ed_verifier *v)
{
	EVP_MD_CTX_free(v->ctx);
	v->used = 0;
	if ((v->ctx = EVP_MD_CTX_new()) &&
	    EVP_DigestVerifyInit(v->ctx, NULL, NULL, NULL, v->pkey) == 1)
		return 0;
	EVP_MD_CTX_free(v->ctx);
	v->ctx = NULL;
	crypto_log_error("Ed25519 verification setup");
	return TC_EIO;
}

/* This thread's verifier set up for PUB (*OWN: one made for this call
 * only, when the thread's cannot be kept), or NULL (TC_EIO logged). */
static struct ed_verifier *
ed_verifier_get(const unsigned char pub[32], struct ed_verifier **own)
{
	struct ed_verifier *v = NULL;

	*own = NULL;
	pthread_once(&ed_once, ed_key_make);
	if (ed_key_ok && (v = pthread_getspecific(ed_key)) && v->pkey &&
	    memcmp(v->pub, pub, 32) == 0) {
		if (v->ctx && (!v->used || !__atomic_load_n(&ed_no_reuse, __ATOMIC_RELAXED)))
			return v;
		return ed_ctx_init(v) == 0 ? v : NULL;
	}
	if (!v && ed_key_ok && (v = OPENSSL_zalloc(sizeof(*v))) &&
	    pthread_setspecific(ed_key, v) != 0) {
		OPENSSL_free(v);
		v = NULL;
	}
	if (!v && !(v = *own = OPENSSL_zalloc(sizeof(*v))))
		return NULL;
	EVP_PKEY_free(v->pkey);
	v->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	memcpy(v->pub, pub, 32);
	if (!v->pkey) {
		crypto_log_error("Ed25519 public key");
		return NULL;
	}
	return ed_ctx_init(v) == 0 ? v : NULL;
}

int
ed25519_verify(const unsigned char pub[32], const void *msg, size_t n,
	       const unsigned char sig[64])
{
	static const unsigned char empty[1];
	struct ed_verifier *own, *e = ed_verifier_get(pub, &own);
	int rc = 0, v, reused;

	if (!e) {
		ed_verifier_free(own);
		return TC_EIO;
	}
	reused = e->used;
	e->used = 1;
	v = EVP_DigestVerify(e->ctx, sig, 64, n ? msg : empty, n);
	if (v != 1 && reused) {
		/* the signature, or a context this OpenSSL will not reuse? */
		ERR_clear_error();
		if (ed_ctx_init(e) != 0) {
			ed_verifier_free(own);
			return TC_EIO;
		}
		e->used = 1;
		v = EVP_DigestVerify(e->ctx, sig, 64, n ? msg : empty, n);
		if (v == 1)
			__atomic_store_n(&ed_no_reuse, 1, __ATOMIC_RELAXED);
	}
	if (v != 1) {
		/* 0: bad signature; OpenSSL may still queue an error for it. */
		ERR_clear_error();
		rc = v == 0 ? TC_EFORBIDDEN : TC_EIO;
	}
	ed_verifier_free(own);
	return rc;
}
