/*
 * identity_hash.h - the hashed identifiers of an Open Badges 3.0
 * IdentityObject (identityHash + salt), so that a credential names its
 * learner by national ID without ever carrying the number.
 *
 * OB 3.0 IdentityHash: "an algorithm identifier, a $ separator, and a hash
 * across an identifier and an optionally appended salt string", UTF-8,
 * hex in either case; tinchi writes "sha256$" + lower-case
 * hex(SHA-256(identity || salt)). The spec's example:
 * sha256("a@example.com" "Kosher") = sha256$b5809d8a...2ef399.
 */
#ifndef TINCHI_IDENTITY_HASH_H
#define TINCHI_IDENTITY_HASH_H

#include "courses/crypto.h"

#define IDENTITY_SALT_BYTES 16
#define IDENTITY_SALT_LEN (2 * IDENTITY_SALT_BYTES)	/* hex digits */
#define IDENTITY_HASH_LEN (7 + SHA256_HEX_LEN)		/* "sha256$" + hex */
#define IDENTITY_VALUE_MAX 1024	/* bytes of an identity or a salt */

/* A fresh salt: 16 CSPRNG bytes as 32 lower-case hex digits. 0 or TC_EIO. */
int identity_salt_new(char out[IDENTITY_SALT_LEN + 1]);

/*
 * "sha256$" + hex(SHA-256(IDENTITY || SALT)). SALT may be "" (unsalted).
 * 0, or TC_EINVALID when either is NULL, not UTF-8 or over
 * IDENTITY_VALUE_MAX bytes (OUT is then "").
 */
int identity_hash_make(const char *identity, const char *salt,
		       char out[IDENTITY_HASH_LEN + 1]);

/*
 * 1 when HASH is the sha256 IdentityHash of IDENTITY with SALT (hex in
 * either case), else 0 (also for other algorithms, malformed hashes or
 * invalid inputs). The comparison takes the same time wherever they differ.
 */
int identity_hash_verify(const char *identity, const char *salt, const char *hash);

#endif
