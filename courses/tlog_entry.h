/*
 * tlog_entry.h - the entries of the transparency log: what one leaf
 * records, as canonical JSON (RFC 8785, courses/jcs.h):
 *
 *   {"hash":"sha256:<64 lower-case hex>","issuer":"<DID>","kind":"issue"|"revoke",
 *    "time":"YYYY-MM-DDTHH:MM:SSZ"}
 *
 * HASH is the SHA-256 of the credential's canonical form; never personal
 * data. The leaf hash is SHA-256(0x00 || entry) (courses/merkle.h).
 */
#ifndef TINCHI_TLOG_ENTRY_H
#define TINCHI_TLOG_ENTRY_H

#include "courses/dynbuf.h"

#define TLOG_ISSUER_MAX 255

/* Whether TEXT is "sha256:" followed by 64 lower-case hex digits. */
int tlog_hash_ok(const char *text);

/*
 * Appends the canonical entry to OUT. TC_EINVALID (with a one-line reason
 * in WHY, WHYSIZE bytes; WHY may be NULL) for a KIND other than issue or
 * revoke, a malformed HASH, an ISSUER that is not "did:..." of printable
 * ASCII up to TLOG_ISSUER_MAX bytes, a TIME not of the form above;
 * TC_ENOMEM. OUT unchanged on failure.
 */
int tlog_entry_make(const char *kind, const char *hash, const char *issuer, const char *time,
		    struct dynbuf *out, char *why, size_t whysize);

#endif
