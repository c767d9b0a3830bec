/*
 * credential_derive.h - what a stored credential need not keep because a
 * secret of the data folder derives it (storage/credentials.h, migration
 * 21): its uid and its salt.
 *
 * - uid: a keyed permutation of (institution id, status index), a pair that
 *   is unique (the issuer's status list hands each index out once): the
 *   122 free bits of a version 4 UUID hold institution id (58 bits) and
 *   status index (64 bits); AES-128 with cycle walking (encrypt again until
 *   the block has the version 4 and RFC 4122 variant bits) maps that UUID
 *   onto another one. The inverse gives the pair back, so the uid needs
 *   neither a column nor an index. Without the key the uids look random
 *   and say nothing of the issuer, the index or the order of issue.
 * - salt: the first 16 bytes of HMAC-SHA-256(secret, label || uid): one per
 *   credential, unpredictable without the secret, so the identity hashes
 *   of one learner's credentials cannot be linked.
 *
 * SECRET is 32 bytes (the database's meta 'credential_key'); AES and HMAC
 * keys come from it with distinct labels. Thread-safe (no shared state).
 */
#ifndef TINCHI_CREDENTIAL_DERIVE_H
#define TINCHI_CREDENTIAL_DERIVE_H

#include <stdint.h>

#define CREDENTIAL_KEY_LEN 32
#define CREDENTIAL_INST_MAX ((int64_t)1 << 58)	/* institution ids below this */

/* The uid (16 bytes of a version 4 UUID) of the credential of INSTITUTION_ID
 * (1 .. CREDENTIAL_INST_MAX - 1) at STATUS_INDEX (>= 0). 0, TC_EINVALID
 * (out of range), TC_EIO (OpenSSL failed). */
int credential_uid_derive(const unsigned char secret[CREDENTIAL_KEY_LEN], int64_t institution_id,
			  int64_t status_index, unsigned char uid[16]);

/* The inverse: the pair whose derived uid is UID. TC_ENOTFOUND when UID is
 * not a version 4 UUID or no pair in range maps to it; TC_EIO. */
int credential_uid_locate(const unsigned char secret[CREDENTIAL_KEY_LEN], const unsigned char uid[16],
			  int64_t *institution_id, int64_t *status_index);

/* The derived salt of the credential UID: 16 bytes. 0 or TC_EIO. */
int credential_salt_derive(const unsigned char secret[CREDENTIAL_KEY_LEN], const unsigned char uid[16],
			   unsigned char salt[16]);

#endif
