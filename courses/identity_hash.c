/* identity_hash.c - OB 3.0 IdentityObject hashes. */
#include <string.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/identity_hash.h"

static const char algo[] = "sha256$";

int
identity_salt_new(char out[IDENTITY_SALT_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[IDENTITY_SALT_BYTES];
	int rc = crypto_random(raw, sizeof(raw));

	out[0] = '\0';
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[IDENTITY_SALT_LEN] = '\0';
	return 0;
}

static int
value_ok(const char *s, size_t *len)
{
	if (s == NULL)
		return 0;
	*len = strlen(s);
	return *len <= IDENTITY_VALUE_MAX && utf8_check(s, *len) == 0;
}

int
identity_hash_make(const char *identity, const char *salt, char out[IDENTITY_HASH_LEN + 1])
{
	char buf[2 * IDENTITY_VALUE_MAX];
	size_t ilen = 0, slen = 0;

	out[0] = '\0';
	if (!value_ok(identity, &ilen) || !value_ok(salt, &slen))
		return TC_EINVALID;
	memcpy(buf, identity, ilen);
	memcpy(buf + ilen, salt, slen);
	memcpy(out, algo, sizeof(algo) - 1);
	sha256_hex(buf, ilen + slen, out + sizeof(algo) - 1);
	return 0;
}

int
identity_hash_verify(const char *identity, const char *salt, const char *hash)
{
	char want[IDENTITY_HASH_LEN + 1], got[IDENTITY_HASH_LEN];

	if (hash == NULL || strlen(hash) != IDENTITY_HASH_LEN ||
	    strncmp(hash, algo, sizeof(algo) - 1) != 0 ||
	    identity_hash_make(identity, salt, want) != 0)
		return 0;
	/* Lower-case A-F without branching on the (secret) digits; anything
	 * that is not a hex digit cannot match WANT. */
	for (size_t i = 0; i < IDENTITY_HASH_LEN; i++) {
		unsigned char c = (unsigned char)hash[i];
		unsigned upper = (unsigned)((c - 'A') & 0xff) < 6;

		got[i] = (char)(c | (upper << 5));
	}
	return crypto_equal(got, want, IDENTITY_HASH_LEN);
}
