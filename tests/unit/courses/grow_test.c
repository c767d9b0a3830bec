/* grow_test.c - tests for courses/grow.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/grow.h"
#include "tests/tap.h"

struct item {
	int a;
	char name[20];
};

int
main(void)
{
	struct item *v = NULL, *was;
	size_t cap = 0, i, ok_all;
	char *bytes = NULL;
	size_t bcap = 0;

	/* from nothing, the first room; then doubling */
	is_int(GROW(&v, &cap, 1, 16), 0, "an empty array grows");
	ok(v != NULL, "it is allocated");
	is_int(cap, 16, "to the first room asked for");
	for (i = 0; i < 16; i++) {
		v[i].a = (int)i;
		snprintf(v[i].name, sizeof(v[i].name), "item %zu", i);
	}
	was = v;
	is_int(GROW(&v, &cap, 16, 16), 0, "room for what it holds already: 0");
	ok(v == was && cap == 16, "and nothing changes");
	is_int(GROW(&v, &cap, 0, 16), 0, "room for none: 0, nothing changes");
	ok(v == was && cap == 16, "still the same");
	is_int(GROW(&v, &cap, 17, 16), 0, "one more than the room");
	is_int(cap, 32, "doubles the room");
	ok_all = 1;
	for (i = 0; i < 16; i++) {
		char want[20];

		snprintf(want, sizeof(want), "item %zu", i);
		if (v[i].a != (int)i || strcmp(v[i].name, want) != 0)
			ok_all = 0;
	}
	ok(ok_all, "the elements are kept");
	is_int(GROW(&v, &cap, 100, 16), 0, "far more than the room");
	is_int(cap, 128, "doubles until it holds them");
	v[99].a = 99;
	ok(v[0].a == 0 && v[15].a == 15, "still kept");
	free(v);

	/* the first room when none is given */
	v = NULL;
	cap = 0;
	is_int(GROW(&v, &cap, 1, 0), 0, "no first room given");
	is_int(cap, 1, "starts at one");
	is_int(GROW(&v, &cap, 3, 0), 0, "then grows");
	is_int(cap, 4, "by doubling");
	free(v);

	/* sizes that do not fit in a size_t: TC_ENOMEM, nothing changes */
	v = NULL;
	cap = 0;
	is_int(GROW(&v, &cap, SIZE_MAX / sizeof(*v) + 1, 16), TC_ENOMEM,
	       "more elements than bytes can count: TC_ENOMEM");
	ok(v == NULL && cap == 0, "the array is as it was");
	is_int(GROW(&v, &cap, 8, 8), 0, "a small array");
	was = v;
	v[0].a = 7;
	cap = SIZE_MAX / 2 + 1;	/* pretend: doubling it overflows */
	is_int(GROW(&v, &cap, SIZE_MAX / 2 + 2, 8), TC_ENOMEM,
	       "when doubling the room overflows, the bytes overflow: TC_ENOMEM");
	ok(v == was && cap == SIZE_MAX / 2 + 1 && v[0].a == 7,
	   "the array, its room and its content are as they were");
	free(v);

	/* bytes, through grow_array directly: doubling stops at NEED past the
	 * top, and a size right at the limit is not refused for overflow */
	is_int(grow_array(&bytes, &bcap, 10, 1, 1024), 0, "a byte array");
	is_int(bcap, 1024, "its first room");
	bcap = SIZE_MAX / 2 + 1;
	is_int(grow_array(&bytes, &bcap, SIZE_MAX / 2 + 2, 3, 1), TC_ENOMEM,
	       "3-byte elements past the top: TC_ENOMEM");
	is_int(bcap, SIZE_MAX / 2 + 1, "the room is as it was");
	is_int(grow_array(&bytes, &bcap, 1, 0, 1), 0, "NEED within the room: 0 even for size 0");
	bcap = 0;
	{
		char *none = NULL;

		is_int(grow_array(&none, &bcap, 1, 0, 1), TC_ENOMEM, "elements of 0 bytes: TC_ENOMEM");
		ok(none == NULL && bcap == 0, "nothing changes");
	}
	free(bytes);
	return done_testing();
}
