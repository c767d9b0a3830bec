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

/* The parameters of ENCODED into *OUT: 0, or TC_EINVALID when its head
 * "$scrypt$ln=L,r=R,p=P$" is not one this code writes (the salt and key
 * after it are not read). */
int password_params(const char *encoded, struct scrypt_params *out);

/*
 * How many stored hashes use each cost: n[L] counts those of log2 N = L.
 * A sign-in for an unknown national ID (or an account without a password)
 * hashes at the cost most stored hashes have, not at today's
 * --password-cost: after a change of cost the accounts keep their old cost
 * until they next sign in, and answer times must not tell them apart from
 * unknown IDs.
 */
#define PASSWORD_COSTS 31	/* log2 N 1..30 */
struct password_costs {
	int64_t n[PASSWORD_COSTS];
};

/* Adds COUNT (negative: removes) hashes of ENCODED's cost to C; an
 * ENCODED that is not a hash (or just its head) is not counted. */
void password_costs_add(struct password_costs *c, const char *encoded, int64_t count);

/* The log2 N that most hashes counted in C use; PREFER (the current cost)
 * when C is empty or PREFER ties for the most. */
unsigned password_costs_common(const struct password_costs *c, unsigned prefer);

#endif
