/*
 * jsonout.h - a jansson tree written as compact JSON text into a dynbuf,
 * the same bytes as json_dumps(v, JSON_COMPACT) (members in their
 * insertion order, "\u00XX" with capital hex for other control characters,
 * nothing else escaped), without jansson's per-character output callback.
 */
#ifndef TINCHI_COURSES_JSONOUT_H
#define TINCHI_COURSES_JSONOUT_H

#include <jansson.h>

#include "courses/dynbuf.h"

/*
 * Appends V to OUT: 0; TC_ENOMEM or TC_ETOOBIG (OUT's cap); TC_EINVALID when V holds something
 * written here differently from json_dumps or not at all (a real number,
 * nesting deeper than 2048, NULL): OUT is then as before and the caller
 * uses json_dumps.
 */
int json_write_compact(const json_t *v, struct dynbuf *out);

/* S as json_dumps writes a string (quoted, escaped as above): 0; TC_ENOMEM,
 * TC_ETOOBIG; TC_EINVALID (nothing written) when S is NULL or not UTF-8 as
 * jansson takes it (json_string would refuse it). */
int json_write_string(const char *s, struct dynbuf *out);

/* X as json_dumps writes a real with JSON_REAL_PRECISION(PRECISION) (0:
 * jansson's 17): "%.*g", ".0" added when that has no '.' or 'e', the
 * exponent without '+' or leading zeros: jansson 2.14's algorithm (a
 * jansson built to format reals with dtoa() may differ for some values;
 * jsonout_test compares with the linked jansson). TC_EINVALID for NaN and
 * infinities (jansson has no text for them). */
int json_write_real(double x, int precision, struct dynbuf *out);

#endif
