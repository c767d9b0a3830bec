/*
 * grow.h - room in a growable array, by doubling.
 *
 * An array is a pointer to its first element (NULL while empty) and its
 * room in elements, beside the caller's count:
 *
 *   struct item *v = NULL; size_t n = 0, cap = 0;
 *   if (GROW(&v, &cap, n + 1, 16))
 *           return TC_ENOMEM;
 *   v[n++] = x;
 *   ... free(v);
 */
#ifndef TINCHI_GROW_H
#define TINCHI_GROW_H

#include <stddef.h>

/* Makes room for NEED elements of ELEM bytes (ELEM > 0) in the array whose
 * pointer is at ITEMSP (the address of a `T *`) and whose room is *CAP
 * elements. Nothing changes when NEED <= *CAP; otherwise the room doubles,
 * from FIRST when it was 0 (1 when FIRST is 0), until it holds NEED, and
 * the array is reallocated to that. 0, or TC_ENOMEM when memory runs out or
 * the size in bytes does not fit in a size_t: then the array and *CAP are
 * as they were (still owned by the caller). */
int grow_array(void *itemsp, size_t *cap, size_t need, size_t elem, size_t first);

/* grow_array() with ELEM taken from the array's type: ITEMSP must be a
 * `T **`, so passing the array itself instead of its address does not
 * compile. */
#define GROW(itemsp, cap, need, first) \
	grow_array((itemsp), (cap), (need), sizeof(**(itemsp)), (first))

#endif
