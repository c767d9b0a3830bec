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

#include <stddef.h>
#include <stdint.h>

#include "courses/dynbuf.h"

#define TLOG_ISSUER_MAX 255
#define TLOG_KIND_ISSUE 0
#define TLOG_KIND_REVOKE 1
/* Room for the text of any entry tlog_entry_format makes (and its NUL). */
#define TLOG_ENTRY_TEXT_MAX (64 + 71 + TLOG_ISSUER_MAX + 20)

/*
 * An entry as the fields it is made of, the form the log stores
 * (storage/tlog_sqlite.c): the canonical text is rebuilt from them.
 */
struct tlog_entry_fields {
	int kind;				/* TLOG_KIND_ISSUE or TLOG_KIND_REVOKE */
	unsigned char hash[32];			/* the "hash" member's SHA-256 */
	char issuer[TLOG_ISSUER_MAX + 1];	/* the DID */
	int64_t time;				/* unix seconds, UTC */
};

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

/*
 * The canonical entry of F into OUT (OUTSIZE bytes, TLOG_ENTRY_TEXT_MAX is
 * enough) and its length into *LEN (may be NULL): the bytes tlog_entry_make
 * gives for the same fields, without a JSON library (the log rebuilds every
 * entry it serves). TC_EINVALID for fields that do not make an entry
 * tlog_entry_parse accepts: an unknown kind, an issuer tlog_entry_make
 * refuses or that JSON would escape ('"' or '\\'), a time outside the years
 * 1970-9999; TC_ETOOBIG when OUT is too small. OUT holds "" on failure.
 */
int tlog_entry_format(const struct tlog_entry_fields *f, char *out, size_t outsize,
		      size_t *len);

/*
 * ENTRY (LEN bytes) as its fields, when it is exactly the text that both
 * tlog_entry_format and tlog_entry_make give for them: then the fields
 * rebuild it byte for byte. TC_EINVALID for any other text (OUT undefined);
 * TC_ENOMEM.
 */
int tlog_entry_parse(const char *entry, size_t len, struct tlog_entry_fields *out);

#endif
