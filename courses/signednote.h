/*
 * signednote.h - C2SP signed notes (https://c2sp.org/signed-note) with
 * Ed25519 keys, and the tlog-checkpoint body (https://c2sp.org/tlog-checkpoint)
 * that a transparency log signs.
 *
 *   note      = text "\n" signature-line+
 *   text      = one or more lines, each ending in "\n" (the signed bytes)
 *   signature = "\u2014 " key-name " " base64(key id (4 bytes) || Ed25519 sig) "\n"
 *   key id    = SHA-256(key-name || 0x0A || 0x01 || public key)[0:4]
 *   verifier  = key-name "+" 8 hex digits of the key id "+" base64(0x01 || public key)
 *   checkpoint text = origin "\n" decimal tree size "\n" base64(root hash) "\n"
 *                     extension lines*
 *
 * A note is UTF-8 without control characters other than "\n", at most
 * SIGNEDNOTE_MAX bytes with at most SIGNEDNOTE_MAX_SIGS signatures; a key
 * name is non-empty UTF-8 without spaces (Unicode White_Space) or "+".
 * Signing takes a callback, so the private key stays in storage/keys.c.
 * Functions return 0 or a negative TC_* code: TC_EINVALID for malformed
 * input, TC_EFORBIDDEN for a signature that does not verify, TC_ETOOBIG
 * for output that does not fit, TC_ENOMEM, TC_EIO (OpenSSL).
 */
#ifndef TINCHI_SIGNEDNOTE_H
#define TINCHI_SIGNEDNOTE_H

#include <stddef.h>
#include <stdint.h>

#include "courses/dynbuf.h"

#define SIGNEDNOTE_MAX (64 * 1024)
#define SIGNEDNOTE_MAX_SIGS 100
#define SIGNEDNOTE_NAME_MAX 255		/* bytes of a key name we make or trust */
#define SIGNEDNOTE_VKEY_MAX (SIGNEDNOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)

/* An Ed25519 key that may sign notes: its name, id and public key. */
struct signednote_verifier {
	char name[SIGNEDNOTE_NAME_MAX + 1];
	uint32_t id;
	unsigned char pub[32];
};

/* Whether NAME is a valid key name of at most SIGNEDNOTE_NAME_MAX bytes. */
int signednote_name_ok(const char *name);

/* The key id of an Ed25519 key (big-endian first 4 bytes of the hash). */
uint32_t signednote_key_id(const char *name, const unsigned char pub[32]);

/* The verifier of NAME and PUB; TC_EINVALID for a bad name. */
int signednote_verifier_init(struct signednote_verifier *v, const char *name,
			     const unsigned char pub[32]);

/* The verifier key string of V into OUT (SIGNEDNOTE_VKEY_MAX bytes do). */
int signednote_verifier_format(const struct signednote_verifier *v, char *out, size_t outsize);

/* Parses a verifier key string; its id must match its name and key, its
 * type be 0x01 (Ed25519). V is unchanged on failure. */
int signednote_verifier_parse(const char *vkey, struct signednote_verifier *v);

/*
 * Appends to OUT the note of TEXT (N bytes: valid note text ending in
 * "\n", no empty last line) signed by V: TEXT, "\n", one signature line.
 * SIGN(CTX, msg, n, sig) makes the 64-byte Ed25519 signature of TEXT with
 * V's private key (e.g. keys_sign). OUT is unchanged on failure.
 */
int signednote_sign(const char *text, size_t n, const struct signednote_verifier *v,
		    int (*sign)(void *ctx, const void *msg, size_t n, unsigned char sig[64]),
		    void *ctx, struct dynbuf *out);

/*
 * Opens NOTE (N bytes): checks its form strictly, verifies every signature
 * whose name and key id match one of KEYS (NKEYS), ignores the others. 0
 * when at least one known signature is valid and none is invalid;
 * TC_EFORBIDDEN when a known one is invalid or none is known; TC_EINVALID
 * when malformed (also for the same known key signing twice). *TEXT_LEN
 * (may be NULL) receives the length of the signed text (a prefix of NOTE);
 * *VERIFIED (may be NULL) the number of valid known signatures.
 */
int signednote_open(const char *note, size_t n, const struct signednote_verifier *keys,
		    size_t nkeys, size_t *text_len, size_t *verified);

/* A checkpoint: ORIGIN, tree SIZE, ROOT hash; extension lines are kept as
 * text (EXT_LEN bytes at EXT, each line ending in "\n"), borrowed. */
struct checkpoint {
	char origin[SIGNEDNOTE_NAME_MAX + 1];
	uint64_t size;
	unsigned char root[32];
	const char *ext;
	size_t ext_len;
};

/* Appends the checkpoint text "ORIGIN\nSIZE\nbase64(ROOT)\n" to OUT.
 * ORIGIN is a non-empty line of printable UTF-8 without leading or
 * trailing spaces, at most SIGNEDNOTE_NAME_MAX bytes. */
int checkpoint_format(const char *origin, uint64_t size, const unsigned char root[32],
		      struct dynbuf *out);

/* Parses checkpoint TEXT (N bytes, the signed text of a note): decimal size
 * without leading zeros, root exactly 32 bytes in padded base64, extension
 * lines non-empty. */
int checkpoint_parse(const char *text, size_t n, struct checkpoint *cp);

#endif
