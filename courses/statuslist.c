/* statuslist.c - W3C Bitstring Status List v1.0 and index allocation. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/statuslist.h"

/* gzip: 10-byte header, 8-byte trailer (CRC-32, ISIZE). */
#define GZIP_OVERHEAD 18
/* inflateInit2/deflateInit2 window bits: 15 plus 16 for a gzip wrapper. */
#define GZIP_WBITS (15 + 16)

static int
nbits_ok(size_t nbits)
{
	return nbits % 8 == 0 && nbits >= STATUSLIST_MIN_BITS && nbits <= STATUSLIST_MAX_BITS;
}

int
statuslist_init(struct statuslist *sl, size_t nbits)
{
	sl->bits = NULL;
	sl->nbits = 0;
	if (!nbits_ok(nbits))
		return TC_EINVALID;
	sl->bits = calloc(nbits / 8, 1);
	if (sl->bits == NULL)
		return TC_ENOMEM;
	sl->nbits = nbits;
	return 0;
}

void
statuslist_cleanup(struct statuslist *sl)
{
	if (sl == NULL)
		return;
	free(sl->bits);
	sl->bits = NULL;
	sl->nbits = 0;
}

int
statuslist_set(struct statuslist *sl, size_t index, int value)
{
	unsigned char mask;

	if (index >= sl->nbits)
		return TC_EINVALID;
	mask = (unsigned char)(0x80u >> (index % 8));
	if (value)
		sl->bits[index / 8] |= mask;
	else
		sl->bits[index / 8] &= (unsigned char)~mask;
	return 0;
}

int
statuslist_get(const struct statuslist *sl, size_t index)
{
	if (index >= sl->nbits)
		return TC_EINVALID;
	return (sl->bits[index / 8] >> (7 - index % 8)) & 1;
}

int
statuslist_encode(const struct statuslist *sl, char **out)
{
	z_stream zs;
	unsigned char *gz = NULL;
	char *text = NULL;
	size_t nbytes = sl->nbits / 8, bound, textsize;
	int rc = 0;

	*out = NULL;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return TC_ENOMEM;
	bound = deflateBound(&zs, (uLong)nbytes) + GZIP_OVERHEAD;
	gz = malloc(bound);
	if (gz == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	zs.next_in = sl->bits;
	zs.avail_in = (uInt)nbytes;
	zs.next_out = gz;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		rc = TC_EIO;
		goto out;
	}
	textsize = 1 + (zs.total_out + 2) / 3 * 4 + 1;
	text = malloc(textsize);
	if (text == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	text[0] = 'u';
	rc = b64url_encode(gz, zs.total_out, text + 1, textsize - 1);
	if (rc != 0)
		goto out;
	*out = text;
	text = NULL;
out:
	deflateEnd(&zs);
	free(text);
	free(gz);
	return rc;
}

/* The gzip trailer's ISIZE (length mod 2^32, little-endian). */
static size_t
gzip_isize(const unsigned char *gz, size_t n)
{
	const unsigned char *p = gz + n - 4;

	return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
}

/* Inflates the single gzip member GZ into exactly WANT bytes at BITS
 * (room for WANT + 1, to notice a longer stream). */
static int
inflate_exact(const unsigned char *gz, size_t n, unsigned char *bits, size_t want)
{
	z_stream zs;
	int zrc, rc = 0;

	memset(&zs, 0, sizeof(zs));
	zrc = inflateInit2(&zs, GZIP_WBITS);
	if (zrc != Z_OK)
		return zrc == Z_MEM_ERROR ? TC_ENOMEM : TC_EIO;
	zs.next_in = (unsigned char *)gz;
	zs.avail_in = (uInt)n;
	zs.next_out = bits;
	zs.avail_out = (uInt)(want + 1);
	zrc = inflate(&zs, Z_FINISH);
	if (zrc == Z_MEM_ERROR)
		rc = TC_ENOMEM;
	else if (zs.total_out > want)
		rc = TC_ETOOBIG;
	else if (zrc != Z_STREAM_END || zs.total_out != want || zs.avail_in != 0)
		rc = TC_EINVALID;	/* corrupt, truncated, short or trailing bytes */
	inflateEnd(&zs);
	return rc;
}

int
statuslist_decode(const char *encoded, size_t nbits, struct statuslist *out)
{
	unsigned char *gz = NULL, *bits = NULL;
	size_t textlen, gzmax, gzlen = 0, want;
	int rc = 0;

	out->bits = NULL;
	out->nbits = 0;
	if (nbits != 0 && !nbits_ok(nbits))
		return TC_EINVALID;
	if (encoded == NULL || encoded[0] != 'u')
		return TC_EINVALID;
	/* No valid list compresses worse than deflate's bound for the largest
	 * size: refuse longer text before decoding it. */
	gzmax = compressBound((uLong)((nbits ? nbits : STATUSLIST_MAX_BITS) / 8)) + GZIP_OVERHEAD;
	textlen = strlen(encoded + 1);
	if (textlen > (gzmax + 2) / 3 * 4)
		return TC_ETOOBIG;
	gz = malloc(textlen / 4 * 3 + 3);
	if (gz == NULL)
		return TC_ENOMEM;
	rc = b64url_decode(encoded + 1, gz, textlen / 4 * 3 + 3, &gzlen);
	/* A gzip member starts 1f 8b 08 (deflate). */
	if (rc != 0 || gzlen < GZIP_OVERHEAD || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8) {
		rc = TC_EINVALID;
		goto out;
	}
	want = nbits / 8;
	if (nbits == 0) {
		/* The trailer's claim only sizes the buffer: inflate checks it
		 * against the real length and refuses a longer stream. */
		want = gzip_isize(gz, gzlen);
		if (want > STATUSLIST_MAX_BITS / 8) {
			rc = TC_ETOOBIG;
			goto out;
		}
		if (!nbits_ok(want * 8)) {
			rc = TC_EINVALID;
			goto out;
		}
	}
	bits = malloc(want + 1);
	if (bits == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	rc = inflate_exact(gz, gzlen, bits, want);
	if (rc != 0)
		goto out;
	out->bits = bits;
	out->nbits = want * 8;
	bits = NULL;
out:
	free(bits);
	free(gz);
	return rc;
}

/* ---- index allocation ------------------------------------------------ */

static const char perm_label[] = "tinchi statuslist index permutation v1";

/* The value of one lower-case hex digit (as hmac_sha256_hex writes). */
static unsigned
hex_digit(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

/* A SHA-256 context that has absorbed the 64-byte block KEY ^ PAD. */
static EVP_MD_CTX *
hmac_pad_ctx(const unsigned char key[32], unsigned char pad)
{
	unsigned char block[64];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	for (int i = 0; i < 64; i++)
		block[i] = (unsigned char)((i < 32 ? key[i] : 0) ^ pad);
	if (ctx != NULL && (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
			    EVP_DigestUpdate(ctx, block, sizeof(block)) != 1)) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	OPENSSL_cleanse(block, sizeof(block));
	return ctx;
}

/* Keys P over [0, N): the round key is HMAC(SECRET, label || N), and
 * || SEGMENT too when SEGMENT > 0 (segment 0: the key lists always had). */
static int
perm_key(struct statuslist_perm *p, const void *secret, size_t len, uint64_t n, uint64_t segment)
{
	unsigned char msg[sizeof(perm_label) + 16], key[32];
	size_t mlen = sizeof(perm_label) + (segment ? 16 : 8);
	char hex[SHA256_HEX_LEN + 1];
	int rc;

	memset(p, 0, sizeof(*p));
	if (secret == NULL || len < 16 || n < 1 || n > (UINT64_C(1) << 62))
		return TC_EINVALID;
	memcpy(msg, perm_label, sizeof(perm_label));
	for (int i = 0; i < 8; i++) {
		msg[sizeof(perm_label) + i] = (unsigned char)(n >> (56 - 8 * i));
		msg[sizeof(perm_label) + 8 + i] = (unsigned char)(segment >> (56 - 8 * i));
	}
	rc = hmac_sha256_hex(secret, len, msg, mlen, hex);
	if (rc != 0)
		return rc;
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	p->inner = hmac_pad_ctx(key, 0x36);
	p->outer = hmac_pad_ctx(key, 0x5c);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hex, sizeof(hex));
	if (p->inner == NULL || p->outer == NULL) {
		crypto_log_error("status list permutation key");
		statuslist_perm_cleanup(p);
		return TC_ENOMEM;
	}
	p->n = n;
	p->segment = segment;
	p->half = 1;
	while (p->half < 31 && (UINT64_C(1) << (2 * p->half)) < n)
		p->half++;
	return 0;
}

int
statuslist_perm_init(struct statuslist_perm *p, const void *secret, size_t len, uint64_t n)
{
	return perm_key(p, secret, len, n, 0);
}

int
statuslist_segment_init(struct statuslist_perm *p, const void *secret, size_t len,
			uint64_t segment)
{
	if (segment >= STATUSLIST_SEGMENTS) {
		memset(p, 0, sizeof(*p));
		return TC_ETOOBIG;
	}
	return perm_key(p, secret, len, STATUSLIST_SEGMENT_BITS, segment);
}

int
statuslist_segment_index(const struct statuslist_perm *p, uint64_t k, uint64_t *index)
{
	uint64_t in = 0;
	int rc;

	if (k >= STATUSLIST_MAX_BITS)
		return TC_ETOOBIG;
	if (p->n != STATUSLIST_SEGMENT_BITS || statuslist_segment_of(k) != p->segment)
		return TC_EINVALID;
	rc = statuslist_perm_index(p, k % STATUSLIST_SEGMENT_BITS, &in);
	if (rc == 0)
		*index = p->segment * STATUSLIST_SEGMENT_BITS + in;
	return rc;
}

void
statuslist_perm_cleanup(struct statuslist_perm *p)
{
	if (p == NULL)
		return;
	EVP_MD_CTX_free(p->inner);
	EVP_MD_CTX_free(p->outer);
	memset(p, 0, sizeof(*p));
}

/* Round function: HMAC-SHA-256(key, round || R), its first 8 bytes cut to
 * HALF bits. WORK is scratch. */
static int
round_f(const struct statuslist_perm *p, EVP_MD_CTX *work, unsigned round, uint64_t r,
	uint64_t *f)
{
	unsigned char msg[9], md[32];
	unsigned int len = 0;
	uint64_t v = 0;

	msg[0] = (unsigned char)round;
	for (int i = 0; i < 8; i++)
		msg[1 + i] = (unsigned char)(r >> (56 - 8 * i));
	if (EVP_MD_CTX_copy_ex(work, p->inner) != 1 ||
	    EVP_DigestUpdate(work, msg, sizeof(msg)) != 1 ||
	    EVP_DigestFinal_ex(work, md, &len) != 1 ||
	    EVP_MD_CTX_copy_ex(work, p->outer) != 1 ||
	    EVP_DigestUpdate(work, md, sizeof(md)) != 1 ||
	    EVP_DigestFinal_ex(work, md, &len) != 1) {
		crypto_log_error("status list permutation");
		return TC_EIO;
	}
	for (int i = 0; i < 8; i++)
		v = v << 8 | md[i];
	*f = v & ((UINT64_C(1) << p->half) - 1);
	return 0;
}

/* One pass of the Feistel network over [0, 2^(2 half)). */
static int
feistel(const struct statuslist_perm *p, EVP_MD_CTX *work, uint64_t x, uint64_t *y)
{
	uint64_t mask = (UINT64_C(1) << p->half) - 1;
	uint64_t l = x >> p->half, r = x & mask, f, t;
	int rc;

	for (unsigned round = 0; round < STATUSLIST_PERM_ROUNDS; round++) {
		rc = round_f(p, work, round, r, &f);
		if (rc != 0)
			return rc;
		t = l ^ f;
		l = r;
		r = t;
	}
	*y = l << p->half | r;
	return 0;
}

int
statuslist_perm_index(const struct statuslist_perm *p, uint64_t k, uint64_t *index)
{
	EVP_MD_CTX *work;
	uint64_t x = k;
	int rc = 0;

	if (k >= p->n)
		return TC_ETOOBIG;
	work = EVP_MD_CTX_new();
	if (work == NULL)
		return TC_ENOMEM;
	/* Cycle walking: the Feistel network permutes [0, 2^(2 half)), which
	 * holds fewer than 4 n values, so this ends after 4 passes at most on
	 * average, and stays a bijection of [0, n). */
	do
		rc = feistel(p, work, x, &x);
	while (rc == 0 && x >= p->n);
	EVP_MD_CTX_free(work);
	if (rc == 0)
		*index = x;
	return rc;
}
