/*
 * grow.c - room in a growable array, by doubling (see grow.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/grow.h"

int
grow_array(void *itemsp, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t a;
	void *old, *p;

	if (need <= *cap)
		return 0;
	a = *cap ? *cap : (first ? first : 1);
	while (a < need)
		a = a > SIZE_MAX / 2 ? need : a * 2;
	if (elem == 0 || a > SIZE_MAX / elem)
		return TC_ENOMEM;
	/* the pointer is read and written as bytes: ITEMSP points at a `T *`,
	 * not at a `void *` */
	memcpy(&old, itemsp, sizeof(old));
	if (!(p = realloc(old, a * elem)))
		return TC_ENOMEM;
	memcpy(itemsp, &p, sizeof(p));
	*cap = a;
	return 0;
}
