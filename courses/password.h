/*
 * password.h - password hashing with scrypt (RFC 7914) through OpenSSL's
 * EVP_KDF "SCRYPT".
 *
 * Encoded hashes carry their parameters, so they can be raised later:
 *   $scrypt$ln=17,r=8,p=1$<salt, base64 no padding>$<32-byte key, base64 no padding>
 * (ln = log2 N). The defaults are N = 2^17, r = 8, p = 1 and a 16-byte
 * salt: each hash needs 128 MiB of memory and a few hundred milliseconds,
 * so callers run it off the event loop with a cap on concurrent hashes.
 */
#ifndef TINCHI_PASSWORD_H
#define TINCHI_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#define PASSWORD_HASH_MAX 160	/* bytes of an encoded hash, NUL included */
#define PASSWORD_MIN 10		/* bytes */
#define PASSWORD_MAX 1024
/* The highest log2 N of new hashes (r = 8): N = 2^20 takes 1 GiB, the most
 * the hashing accepts (SCRYPT_MAXMEM in password.c). */
#define PASSWORD_COST_MAX 20

struct scrypt_params {
	unsigned log2_n;	/* N = 2^log2_n, 1..30 */
	uint32_t r, p;
};

/* The parameters new hashes use. */
extern const struct scrypt_params password_default_params;

/* Raw scrypt of PW with SALT into OUT (OUTLEN bytes). 0, TC_EINVALID (bad
 * parameters), TC_ENOMEM or TC_EIO. */
int scrypt_derive(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
		  const struct scrypt_params *params, void *out, size_t outlen);

/* A password acceptable to set: valid UTF-8, PASSWORD_MIN..PASSWORD_MAX
 * bytes. 0 or TC_EINVALID. */
int password_policy_check(const char *pw);

/* Hashes PW with a fresh random salt and PARAMS (NULL: the defaults) into
 * OUT (at least PASSWORD_HASH_MAX bytes). */
int password_hash(const char *pw, const struct scrypt_params *params,
		  char *out, size_t outsize);

/* 0 when PW matches ENCODED, TC_EFORBIDDEN when it does not, TC_EINVALID
 * when ENCODED is not a hash this code wrote. Constant-time comparison. */
int password_verify(const char *pw, const char *encoded);

/* 1 when ENCODED used weaker parameters than the defaults (rehash at next
 * login), 0 otherwise. */
int password_needs_rehash(const char *encoded);

#endif
