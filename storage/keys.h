/*
 * keys.h - Ed25519 signing keys kept as files in the data folder's keys/
 * (mode 0700), one PKCS#8 PEM file per key, mode 0600. The private key is
 * never returned to callers outside storage/ as bytes: signing happens here.
 */
#ifndef TINCHI_KEYS_H
#define TINCHI_KEYS_H

#include <stddef.h>

#define KEY_NAME_MAX 96

/*
 * Generates a new Ed25519 key pair and writes the private key to
 * KEYS_DIR/NAME.pem (0600, temporary file + fsync + rename + fsync of the
 * folder). NAME is [A-Za-z0-9._-]{1,95} and must not exist yet
 * (TC_ECONFLICT). PUB receives the 32-byte public key. 0, TC_EINVALID,
 * TC_ECONFLICT, TC_EIO.
 */
int keys_generate(const char *keys_dir, const char *name, unsigned char pub[32]);

/* Reads the public key of KEYS_DIR/NAME.pem. 0, TC_ENOTFOUND, TC_EIO. */
int keys_public(const char *keys_dir, const char *name, unsigned char pub[32]);

/* Signs MSG with KEYS_DIR/NAME.pem (pure Ed25519). SIG receives 64 bytes. */
int keys_sign(const char *keys_dir, const char *name, const void *msg, size_t n,
	      unsigned char sig[64]);

/* Verifying a signature: ed25519_verify() in courses/crypto.h. */

#endif
