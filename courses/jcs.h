/*
 * jcs.h - the JSON Canonicalization Scheme (RFC 8785): the one byte string
 * that a JSON value hashes and signs as.
 *
 * - Objects: members sorted by their names compared as arrays of UTF-16
 *   code units (so a character beyond U+FFFF sorts as its surrogate pair,
 *   before U+E000..U+FFFF), no white space.
 * - Strings: escaped as ECMAScript JSON.stringify does: \" \\ \b \f \n \r
 *   \t, other controls below U+0020 as \u00xx (lower-case hex), everything
 *   else as its UTF-8 bytes. Strings and names must be valid UTF-8 (no
 *   encoded surrogates); a NUL inside a string is written \u0000 (jansson
 *   cannot hold a name with a NUL, so jcs_parse refuses one).
 * - Numbers: IEEE 754 doubles written as ECMAScript Number::toString does
 *   (shortest round-trip digits; exponent form from 1e21 up and below
 *   1e-6, "1e+21", "1.5e-7"; -0 as "0"). NaN and infinities are refused.
 *   A json_integer is the double ECMAScript's JSON.parse would make of it:
 *   exact up to 2^53, rounded to the nearest double beyond (so
 *   9007199254740993 is written 9007199254740992, as every JavaScript
 *   verifier would write it).
 *
 * Functions give 0, TC_EINVALID (a value that has no canonical form: bad
 * UTF-8, a non-finite real, nesting deeper than JCS_MAX_DEPTH, not JSON),
 * TC_ETOOBIG (OUT's cap) or TC_ENOMEM. On failure OUT is left as it was on
 * entry; on success the canonical text is appended to it.
 */
#ifndef TINCHI_JCS_H
#define TINCHI_JCS_H

#include <stddef.h>

#include <jansson.h>

#include "courses/dynbuf.h"

#define JCS_MAX_DEPTH 1024	/* arrays and objects nested at most this deep */
#define JCS_NUMBER_MAX 32	/* longest number text ("-1.2345678901234567e-308"), NUL included */

/* Appends the canonical form of V to OUT. */
int jcs_canonicalize(const json_t *v, struct dynbuf *out);

/*
 * Appends the canonical form of the object OBJ to OUT, and sets *START and
 * *END (offsets in OUT) to the bytes whose removal leaves the canonical
 * form of OBJ without its member KEY (the member and one comma next to
 * it): one pass gives both, e.g. a signed document and the same document
 * without its proof. *START == *END when OBJ has no member KEY. TC_EINVALID
 * also when OBJ is not an object.
 */
int jcs_canonicalize_split(const json_t *obj, const char *key, struct dynbuf *out,
			   size_t *start, size_t *end);

/*
 * Parses TEXT (LEN bytes; any JSON value at the top) as RFC 8785 asks (every
 * number read as a double, as JSON.parse does; duplicate member names,
 * numbers that overflow a double and lone surrogates refused) and appends
 * its canonical form to OUT. ERR (may be NULL) receives a one-line reason
 * when the text is refused.
 */
int jcs_canonicalize_text(const char *text, size_t len, struct dynbuf *out,
			  char *err, size_t errsize);

/*
 * Parses TEXT the same way and returns the new value (json_decref it), or
 * NULL with a reason in ERR (may be NULL).
 */
json_t *jcs_parse(const char *text, size_t len, char *err, size_t errsize);

/* Appends S (LEN bytes) as the canonical string literal: quoted, escaped as
 * above. TC_EINVALID when S is not valid UTF-8. For writers that emit
 * canonical text directly (courses/credential.c), member names in order. */
int jcs_string(struct dynbuf *out, const char *s, size_t len);

/* D as ECMAScript Number::toString writes it. 0, or TC_EINVALID for NaN
 * and infinities (OUT then holds ""). */
int jcs_number(double d, char out[JCS_NUMBER_MAX]);

#endif
