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

#endif
