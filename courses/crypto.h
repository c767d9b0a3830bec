/*
 * crypto.h - small cryptographic helpers on OpenSSL 3: randomness,
 * hashing, HMAC, constant-time comparison, encodings (base64url, base58btc)
 * and secret tokens.
 *
 * Output buffers are NUL-terminated text unless said otherwise. Functions
 * returning int give 0, TC_ETOOBIG (output buffer too small), TC_EINVALID
 * (undecodable input) or TC_EIO (the CSPRNG or OpenSSL failed); on failure
 * the output holds no partial secret.
 */
#ifndef TINCHI_CRYPTO_H
#define TINCHI_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64	/* plus the NUL: 65 bytes */
#define TOKEN_BYTES 32		/* entropy of session and API tokens */

/* Logs the first queued OpenSSL error as "WHAT failed: ..." and empties
 * the queue. */
void crypto_log_error(const char *what);

/* N bytes from the CSPRNG (RAND_bytes). */
int crypto_random(void *buf, size_t n);

/* SHA-256 of DATA as 64 lower-case hex digits. */
void sha256_hex(const void *data, size_t n, char out[SHA256_HEX_LEN + 1]);
void sha256_raw(const void *data, size_t n, unsigned char out[32]);
/* SHA-256 of A (AN bytes) followed by B (BN bytes), as sha256_raw. */
void sha256_concat(const void *a, size_t an, const void *b, size_t bn, unsigned char out[32]);

/* HMAC-SHA-256(KEY, MSG) as 64 lower-case hex digits. */
int hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t n,
		    char out[SHA256_HEX_LEN + 1]);

/* 1 when the N bytes at A and B are equal; time does not depend on where
 * they differ. */
int crypto_equal(const void *a, const void *b, size_t n);

/* Base64url without padding (RFC 4648 section 5). *outlen (may be NULL)
 * receives the decoded length. */
int b64url_encode(const void *in, size_t n, char *out, size_t outsize);
int b64url_decode(const char *in, unsigned char *out, size_t outsize, size_t *outlen);

/* Standard base64 with padding (RFC 4648 section 4). */
int b64_encode(const void *in, size_t n, char *out, size_t outsize);
int b64_decode(const char *in, unsigned char *out, size_t outsize, size_t *outlen);

/* Base58 with the Bitcoin alphabet (as used by multibase 'z'). Leading zero
 * bytes become leading '1's and back. */
int base58btc_encode(const void *in, size_t n, char *out, size_t outsize);
int base58btc_decode(const char *in, unsigned char *out, size_t outsize, size_t *outlen);

/*
 * A new secret token: PREFIX followed by TOKEN_BYTES random bytes in
 * base64url (43 characters), e.g. "tcs_..." for sessions, "tct_..." for
 * API tokens. Tokens are shown once and stored only as sha256_hex.
 */
int token_new(const char *prefix, char *out, size_t outsize);

/* A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
int uuid_v4(char out[37]);

/* Verifies an Ed25519 signature with a raw public key: 0 valid,
 * TC_EFORBIDDEN invalid, TC_EIO OpenSSL failure. */
int ed25519_verify(const unsigned char pub[32], const void *msg, size_t n,
		   const unsigned char sig[64]);

/* Signs MSG (pure Ed25519) with a raw 32-byte private key (its seed), for
 * keys that live outside the data folder's keys/ (storage/keys.h signs
 * with those). SIG receives 64 bytes. 0 or TC_EIO. */
int ed25519_sign_raw(const unsigned char priv[32], const void *msg, size_t n,
		     unsigned char sig[64]);

#endif
