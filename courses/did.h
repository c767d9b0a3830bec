/*
 * did.h - did:key identifiers for Ed25519 public keys (W3C did:key method,
 * multicodec ed25519-pub 0xed 0x01, multibase base58btc 'z').
 *
 *   did:key:z6Mk...            the DID
 *   did:key:z6Mk...#z6Mk...    its verification method
 */
#ifndef TINCHI_DID_H
#define TINCHI_DID_H

#include <stddef.h>

#define DID_KEY_MAX 64		/* "did:key:" + 'z' + base58 of 34 bytes, NUL included */
#define DID_KEY_VM_MAX 128

/* The multibase form "z6Mk..." of a 32-byte Ed25519 public key. */
int ed25519_multibase(const unsigned char pub[32], char *out, size_t outsize);

/* "did:key:z6Mk..." for PUB. */
int did_key_from_ed25519(const unsigned char pub[32], char *out, size_t outsize);

/* "did:key:z6Mk...#z6Mk..." for PUB. */
int did_key_vm_from_ed25519(const unsigned char pub[32], char *out, size_t outsize);

/* Parses "did:key:z6Mk..." (with or without "#fragment") back to the
 * public key. 0 or TC_EINVALID (not an Ed25519 did:key). The last
 * DID_KEY_KEPT identifiers a thread decoded are kept with their keys (a
 * DID's key never changes; those refused are not kept): a verifier sees
 * the same few issuer DIDs over and over, and base58 decoding is
 * quadratic. */
#define DID_KEY_KEPT 8
int did_key_to_ed25519(const char *did, unsigned char pub[32]);

/* This thread's counts of did_key_to_ed25519 answered from what it kept /
 * decoded (for tests and measurements). */
void did_key_kept_counts(unsigned long *hits, unsigned long *decoded);

#endif
