/* password.c - see password.h. */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/log.h"
#include "courses/password.h"

#define SALT_LEN 16		/* bytes of salt in new hashes */
#define SALT_MIN 16		/* accepted when parsing */
#define SALT_MAX 64
#define KEY_LEN 32		/* bytes of derived key stored */
#define RP_LIMIT (1UL << 30)	/* r * p must stay below (RFC 7914) */
#define SCRYPT_MAXMEM ((uint64_t)1025 << 20)	/* N = 2^PASSWORD_COST_MAX, r = 8 fits */
#define PREFIX "$scrypt$"

const struct scrypt_params password_default_params = { 17, 8, 1 };

/* A parsed encoded hash. */
struct scrypt_hash {
	struct scrypt_params params;
	unsigned char salt[SALT_MAX];
	size_t saltlen;
	unsigned char key[KEY_LEN];
};

/*
 * Parameters this code accepts: N = 2^1..2^30, r and p at least 1 with
 * r * p < 2^30, N < 2^(16 r) (RFC 7914), and memory (OpenSSL's count:
 * 128 r (N + p + 2) bytes) within SCRYPT_MAXMEM.
 */
static int
params_check(const struct scrypt_params *pp)
{
	uint64_t n, mem;

	if (pp->log2_n < 1 || pp->log2_n > 30 || pp->r == 0 || pp->p == 0)
		return TC_EINVALID;
	if ((uint64_t)pp->r * pp->p >= RP_LIMIT)
		return TC_EINVALID;
	if (pp->r < 2 && pp->log2_n >= 16 * pp->r)
		return TC_EINVALID;
	n = (uint64_t)1 << pp->log2_n;
	mem = 128 * (uint64_t)pp->r * (n + pp->p + 2);	/* r, p < 2^30: no overflow */
	return mem <= SCRYPT_MAXMEM ? 0 : TC_EINVALID;
}

int
scrypt_derive(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
	      const struct scrypt_params *params, void *out, size_t outlen)
{
	static unsigned char empty[1];
	OSSL_PARAM op[7], *q = op;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	uint64_t n, maxmem = SCRYPT_MAXMEM;
	uint32_t r, p;
	int rc = 0;

	if (params == NULL || out == NULL || outlen == 0 ||
	    (pw == NULL && pwlen) || (salt == NULL && saltlen)) {
		rc = TC_EINVALID;
		goto out;
	}
	rc = params_check(params);
	if (rc != 0)
		goto out;
	n = (uint64_t)1 << params->log2_n;
	r = params->r;
	p = params->p;
	kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	if (kdf == NULL) {
		crypto_log_error("EVP_KDF_fetch(SCRYPT)");
		rc = TC_EIO;
		goto out;
	}
	kctx = EVP_KDF_CTX_new(kdf);
	if (kctx == NULL) {
		ERR_clear_error();
		rc = TC_ENOMEM;
		goto out;
	}
	/* Empty strings still need a non-NULL pointer. */
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
						 pwlen ? (void *)pw : empty, pwlen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
						 saltlen ? (void *)salt : empty, saltlen);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, op) != 1) {
		crypto_log_error("scrypt");
		OPENSSL_cleanse(out, outlen);
		rc = TC_EIO;
		goto out;
	}
out:
	EVP_KDF_CTX_free(kctx);	/* clears its copy of the password */
	EVP_KDF_free(kdf);
	return rc;
}

int
password_policy_check(const char *pw)
{
	size_t n;

	if (pw == NULL)
		return TC_EINVALID;
	n = strnlen(pw, PASSWORD_MAX + 1);
	if (n < PASSWORD_MIN || n > PASSWORD_MAX)
		return TC_EINVALID;
	return utf8_check(pw, n);
}

/* Standard base64 without its '=' padding. */
static int
b64_nopad_encode(const unsigned char *in, size_t n, char *out, size_t outsize)
{
	int rc = b64_encode(in, n, out, outsize);
	size_t len;

	if (rc != 0)
		return rc;
	len = strlen(out);
	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
	return 0;
}

/* Decodes N characters at IN (standard alphabet, no padding) through
 * b64_decode, which checks the alphabet and the unused bits. */
static int
b64_nopad_decode(const char *in, size_t n, unsigned char *out, size_t outsize,
		 size_t *outlen)
{
	char buf[128];
	size_t padded = (n + 3) / 4 * 4;

	if (n == 0 || padded >= sizeof(buf) || memchr(in, '=', n) != NULL)
		return TC_EINVALID;
	memcpy(buf, in, n);
	memset(buf + n, '=', padded - n);
	buf[padded] = '\0';
	return b64_decode(buf, out, outsize, outlen) == 0 ? 0 : TC_EINVALID;
}

/* Reads "NAME=<decimal>" at *S, no leading zeros, at most 10 digits. */
static int
parse_field(const char **s, const char *name, uint64_t *out)
{
	size_t nl = strlen(name);
	const char *p = *s;
	uint64_t v = 0;
	size_t digits = 0;

	if (strncmp(p, name, nl) != 0 || p[nl] != '=')
		return TC_EINVALID;
	p += nl + 1;
	while (*p >= '0' && *p <= '9') {
		if (++digits > 10 || (digits == 2 && v == 0))
			return TC_EINVALID;
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (digits == 0)
		return TC_EINVALID;
	*out = v;
	*s = p;
	return 0;
}

/* Parses the head "$scrypt$ln=L,r=R,p=P$" of ENC strictly into *OUT;
 * *REST points past it. */
static int
head_parse(const char *enc, struct scrypt_params *out, const char **rest)
{
	const char *p = enc;
	uint64_t ln, r, p_;

	if (enc == NULL || strncmp(p, PREFIX, sizeof(PREFIX) - 1) != 0)
		return TC_EINVALID;
	p += sizeof(PREFIX) - 1;
	if (parse_field(&p, "ln", &ln) != 0 || *p++ != ',' ||
	    parse_field(&p, "r", &r) != 0 || *p++ != ',' ||
	    parse_field(&p, "p", &p_) != 0 || *p++ != '$')
		return TC_EINVALID;
	if (ln < 1 || ln > 30 || r == 0 || r >= RP_LIMIT || p_ == 0 || p_ >= RP_LIMIT)
		return TC_EINVALID;
	out->log2_n = (unsigned)ln;
	out->r = (uint32_t)r;
	out->p = (uint32_t)p_;
	if (params_check(out) != 0)
		return TC_EINVALID;
	*rest = p;
	return 0;
}

/* Parses "$scrypt$ln=L,r=R,p=P$SALT$KEY" strictly into H. */
static int
hash_parse(const char *enc, struct scrypt_hash *h)
{
	const char *p, *salt, *key;
	size_t len;

	if (head_parse(enc, &h->params, &p) != 0)
		return TC_EINVALID;
	salt = p;
	key = strchr(salt, '$');
	if (key == NULL)
		return TC_EINVALID;
	if (b64_nopad_decode(salt, (size_t)(key - salt), h->salt, sizeof(h->salt),
			     &h->saltlen) != 0 || h->saltlen < SALT_MIN)
		return TC_EINVALID;
	key++;
	if (strchr(key, '$') != NULL ||
	    b64_nopad_decode(key, strlen(key), h->key, sizeof(h->key), &len) != 0 ||
	    len != KEY_LEN)
		return TC_EINVALID;
	return 0;
}

int
password_hash(const char *pw, const struct scrypt_params *params,
	      char *out, size_t outsize)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char salt64[32], key64[48];
	size_t pwlen;
	int rc, m;

	if (params == NULL)
		params = &password_default_params;
	if (pw == NULL || out == NULL) {
		rc = TC_EINVALID;
		goto out;
	}
	pwlen = strnlen(pw, PASSWORD_MAX + 1);
	if (pwlen > PASSWORD_MAX) {
		rc = TC_EINVALID;
		goto out;
	}
	rc = crypto_random(salt, sizeof(salt));
	if (rc != 0)
		goto out;
	rc = scrypt_derive(pw, pwlen, salt, sizeof(salt), params, key, sizeof(key));
	if (rc != 0)
		goto out;
	if (b64_nopad_encode(salt, sizeof(salt), salt64, sizeof(salt64)) != 0 ||
	    b64_nopad_encode(key, sizeof(key), key64, sizeof(key64)) != 0) {
		rc = TC_EIO;	/* cannot happen: the buffers fit */
		goto out;
	}
	m = snprintf(out, outsize, PREFIX "ln=%u,r=%lu,p=%lu$%s$%s", params->log2_n,
		     (unsigned long)params->r, (unsigned long)params->p, salt64, key64);
	if (m < 0 || (size_t)m >= outsize) {
		if (outsize)
			out[0] = '\0';
		rc = TC_ETOOBIG;
		goto out;
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(key64, sizeof(key64));
	return rc;
}

int
password_verify(const char *pw, const char *encoded)
{
	struct scrypt_hash h;
	unsigned char key[KEY_LEN];
	size_t pwlen;
	int rc;

	rc = hash_parse(encoded, &h);
	if (rc != 0)
		goto out;
	if (pw == NULL || (pwlen = strnlen(pw, PASSWORD_MAX + 1)) > PASSWORD_MAX) {
		rc = TC_EFORBIDDEN;	/* never hashed: cannot match */
		goto out;
	}
	rc = scrypt_derive(pw, pwlen, h.salt, h.saltlen, &h.params, key, sizeof(key));
	if (rc != 0)
		goto out;
	rc = CRYPTO_memcmp(key, h.key, KEY_LEN) == 0 ? 0 : TC_EFORBIDDEN;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(&h, sizeof(h));
	return rc;
}

int
password_needs_rehash(const char *encoded)
{
	const struct scrypt_params *d = &password_default_params;
	struct scrypt_hash h;
	int weaker;

	if (hash_parse(encoded, &h) != 0)
		return 0;
	weaker = h.params.log2_n < d->log2_n || h.params.r < d->r || h.params.p < d->p;
	OPENSSL_cleanse(&h, sizeof(h));
	return weaker;
}

int
password_params(const char *encoded, struct scrypt_params *out)
{
	const char *rest;

	return head_parse(encoded, out, &rest);
}

void
password_costs_add(struct password_costs *c, const char *encoded, int64_t count)
{
	struct scrypt_params p;

	if (password_params(encoded, &p) == 0)
		c->n[p.log2_n] += count;
}

unsigned
password_costs_common(const struct password_costs *c, unsigned prefer)
{
	unsigned best = prefer;
	int64_t most = prefer < PASSWORD_COSTS ? c->n[prefer] : 0;

	for (unsigned l = 1; l < PASSWORD_COSTS; l++)
		if (c->n[l] > most) {
			most = c->n[l];
			best = l;
		}
	return best;
}
