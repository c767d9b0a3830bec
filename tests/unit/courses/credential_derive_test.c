/* credential_derive_test.c - tests for courses/credential_derive.c: the
 * keyed uid of (institution, status index) and its inverse, the salt. */
#include <stdio.h>
#include <string.h>

#include "courses/credential_derive.h"
#include "courses/errors.h"
#include "tests/tap.h"

static int
is_v4(const unsigned char u[16])
{
	return (u[6] & 0xf0) == 0x40 && (u[8] & 0xc0) == 0x80;
}

int
main(void)
{
	unsigned char key[CREDENTIAL_KEY_LEN], other[CREDENTIAL_KEY_LEN], u[16], v[16], w[16];
	unsigned char s1[16], s2[16], s3[16];
	int64_t inst = 0, idx = 0;
	int all_v4 = 1, back = 1, distinct = 1, n = 2000;
	static unsigned char seen[2000][16];

	for (int i = 0; i < CREDENTIAL_KEY_LEN; i++) {
		key[i] = (unsigned char)(i * 13 + 5);
		other[i] = (unsigned char)(i * 13 + 6);
	}
	for (int i = 0; i < n; i++) {
		int64_t in = 1 + i % 3, ix = (int64_t)i * 7919 % 131072;

		if (credential_uid_derive(key, in, ix, seen[i])) {
			all_v4 = back = 0;
			break;
		}
		all_v4 &= is_v4(seen[i]);
		back &= credential_uid_locate(key, seen[i], &inst, &idx) == 0 && inst == in &&
			idx == ix;
		for (int k = 0; k < i; k++)
			if (memcmp(seen[k], seen[i], 16) == 0)
				distinct = 0;
	}
	ok(all_v4, "every derived uid is a version 4, RFC 4122 variant UUID");
	ok(back, "locate gives back the institution and status index of each");
	ok(distinct, "2,000 pairs: 2,000 distinct uids");
	ok(credential_uid_derive(key, 1, 0, u) == 0 && credential_uid_derive(key, 2, 0, v) == 0 &&
	   credential_uid_derive(key, 1, 1, w) == 0 && memcmp(u, v, 16) && memcmp(u, w, 16),
	   "neighbouring pairs give unrelated uids");
	ok(credential_uid_derive(key, INT64_C(288230376151711743), INT64_MAX, u) == 0 &&
	   credential_uid_locate(key, u, &inst, &idx) == 0 &&
	   inst == INT64_C(288230376151711743) && idx == INT64_MAX,
	   "the largest pair round-trips");
	is_int(credential_uid_derive(key, 0, 5, u), TC_EINVALID, "institution 0: no uid");
	is_int(credential_uid_derive(key, CREDENTIAL_INST_MAX, 5, u), TC_EINVALID,
	       "institution past 58 bits: no uid");
	is_int(credential_uid_derive(key, 1, -1, u), TC_EINVALID, "negative index: no uid");
	ok(credential_uid_derive(key, 1, 42, u) == 0 && credential_uid_derive(other, 1, 42, v) == 0 &&
	   memcmp(u, v, 16) != 0, "another key, another uid");
	{	/* the thread's kept AES contexts follow the secret back */
		unsigned char w[16];

		ok(credential_uid_derive(key, 1, 42, w) == 0 && memcmp(u, w, 16) == 0 &&
		   credential_uid_derive(other, 1, 42, w) == 0 && memcmp(v, w, 16) == 0,
		   "key, other key, key again: each its own uid every time");
	}
	ok(credential_uid_locate(other, u, &inst, &idx) != 0 || inst != 1 || idx != 42,
	   "another key does not locate it");
	memset(v, 0, 16);
	is_int(credential_uid_locate(key, v, &inst, &idx), TC_ENOTFOUND,
	       "a block that is no version 4 UUID is not located");
	ok(credential_salt_derive(key, seen[0], s1) == 0 && credential_salt_derive(key, seen[0], s2) == 0 &&
	   memcmp(s1, s2, 16) == 0, "the salt of a uid is always the same");
	ok(credential_salt_derive(key, seen[1], s3) == 0 && memcmp(s1, s3, 16) != 0,
	   "another credential, another salt");
	ok(credential_salt_derive(other, seen[0], s3) == 0 && memcmp(s1, s3, 16) != 0,
	   "another key, another salt");
	return done_testing();
}
