/*
 * storefix.h - rows the storage and server unit tests make through the
 * store API. Header-only; include after storage/identity.h.
 */
#ifndef TINCHI_TEST_STOREFIX_H
#define TINCHI_TEST_STOREFIX_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A university CODE named "Trường CODE" in ST: its id, or -1. */
static inline int64_t
fixture_institution(struct store *st, const char *code)
{
	struct institution inst;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "%s", code);
	snprintf(inst.name, sizeof(inst.name), "Trường %s", code);
	inst.kind = INST_UNIVERSITY;
	return store_institution_add(st, &inst) == 0 ? inst.id : -1;
}

#endif
