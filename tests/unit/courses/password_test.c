/* password_test.c - tests for courses/password.c */
#include <string.h>

#include "courses/errors.h"
#include "courses/password.h"
#include "tests/tap.h"

/* RFC 7914 section 12, test vectors 1 and 2. */
static const unsigned char rfc_1[64] = {
	0x77, 0xd6, 0x57, 0x62, 0x38, 0x65, 0x7b, 0x20, 0x3b, 0x19, 0xca, 0x42, 0xc1, 0x8a, 0x04, 0x97,
	0xf1, 0x6b, 0x48, 0x44, 0xe3, 0x07, 0x4a, 0xe8, 0xdf, 0xdf, 0xfa, 0x3f, 0xed, 0xe2, 0x14, 0x42,
	0xfc, 0xd0, 0x06, 0x9d, 0xed, 0x09, 0x48, 0xf8, 0x32, 0x6a, 0x75, 0x3a, 0x0f, 0xc8, 0x1f, 0x17,
	0xe8, 0xd3, 0xe0, 0xfb, 0x2e, 0x0d, 0x36, 0x28, 0xcf, 0x35, 0xe2, 0x0c, 0x38, 0xd1, 0x89, 0x06,
};
static const unsigned char rfc_2[64] = {
	0xfd, 0xba, 0xbe, 0x1c, 0x9d, 0x34, 0x72, 0x00, 0x78, 0x56, 0xe7, 0x19, 0x0d, 0x01, 0xe9, 0xfe,
	0x7c, 0x6a, 0xd7, 0xcb, 0xc8, 0x23, 0x78, 0x30, 0xe7, 0x73, 0x76, 0x63, 0x4b, 0x37, 0x31, 0x62,
	0x2e, 0xaf, 0x30, 0xd9, 0x2e, 0x22, 0xa3, 0x88, 0x6f, 0xf1, 0x09, 0x27, 0x9d, 0x98, 0x30, 0xda,
	0xc7, 0x27, 0xaf, 0xb9, 0x4a, 0x83, 0xee, 0x6d, 0x83, 0x60, 0xcb, 0xdf, 0xa2, 0xcc, 0x06, 0x40,
};

static const struct scrypt_params fast = { 10, 8, 1 };

static void
test_derive(void)
{
	static const struct scrypt_params p1 = { 4, 1, 1 }, p2 = { 10, 8, 16 };
	unsigned char out[64];
	struct scrypt_params bad;

	is_int(scrypt_derive("", 0, "", 0, &p1, out, sizeof(out)), 0, "RFC 7914 vector 1 derives");
	ok(memcmp(out, rfc_1, 64) == 0, "RFC 7914 vector 1 (\"\", \"\", N=16, r=1, p=1)");
	is_int(scrypt_derive(NULL, 0, NULL, 0, &p1, out, sizeof(out)), 0, "NULL empty inputs");
	ok(memcmp(out, rfc_1, 64) == 0, "NULL, 0 is the empty string");
	is_int(scrypt_derive("password", 8, "NaCl", 4, &p2, out, sizeof(out)), 0,
	       "RFC 7914 vector 2 derives");
	ok(memcmp(out, rfc_2, 64) == 0, "RFC 7914 vector 2 (password, NaCl, N=1024, r=8, p=16)");

	bad = p1;
	bad.log2_n = 0;
	is_int(scrypt_derive("a", 1, "b", 1, &bad, out, 32), TC_EINVALID, "ln 0 rejected");
	bad.log2_n = 31;
	is_int(scrypt_derive("a", 1, "b", 1, &bad, out, 32), TC_EINVALID, "ln 31 rejected");
	bad.log2_n = 16;
	is_int(scrypt_derive("a", 1, "b", 1, &bad, out, 32), TC_EINVALID,
	       "N >= 2^(16 r) rejected (RFC 7914)");
	bad = p1;
	bad.r = 0;
	is_int(scrypt_derive("a", 1, "b", 1, &bad, out, 32), TC_EINVALID, "r 0 rejected");
	bad = p1;
	bad.p = 0;
	is_int(scrypt_derive("a", 1, "b", 1, &bad, out, 32), TC_EINVALID, "p 0 rejected");
	bad.p = 1u << 15;
	bad.r = 1u << 15;
	is_int(scrypt_derive("a", 1, "b", 1, &bad, out, 32), TC_EINVALID, "r * p = 2^30 rejected");
	bad = (struct scrypt_params){ 22, 8, 1 };
	is_int(scrypt_derive("a", 1, "b", 1, &bad, out, 32), TC_EINVALID,
	       "parameters needing 4 GiB rejected");
	is_int(scrypt_derive("a", 1, "b", 1, NULL, out, 32), TC_EINVALID, "NULL params rejected");
	is_int(scrypt_derive("a", 1, "b", 1, &p1, out, 0), TC_EINVALID, "empty output rejected");
}

static void
test_policy(void)
{
	char pw[PASSWORD_MAX + 2];

	is_int(password_policy_check("correct horse"), 0, "13 bytes accepted");
	is_int(password_policy_check("0123456789"), 0, "10 bytes accepted");
	is_int(password_policy_check("012345678"), TC_EINVALID, "9 bytes rejected");
	is_int(password_policy_check("m\xe1\xba\xadt kh\xe1\xba\xa9u"), 0, "UTF-8 accepted");
	is_int(password_policy_check("0123456789\xc0\x80"), TC_EINVALID, "invalid UTF-8 rejected");
	is_int(password_policy_check(""), TC_EINVALID, "empty rejected");
	is_int(password_policy_check(NULL), TC_EINVALID, "NULL rejected");
	memset(pw, 'x', PASSWORD_MAX);
	pw[PASSWORD_MAX] = '\0';
	is_int(password_policy_check(pw), 0, "1024 bytes accepted");
	pw[PASSWORD_MAX] = 'x';
	pw[PASSWORD_MAX + 1] = '\0';
	is_int(password_policy_check(pw), TC_EINVALID, "1025 bytes rejected");
}

static void
test_hash_verify(void)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX], hd[PASSWORD_HASH_MAX];
	char longpw[PASSWORD_MAX + 2];

	is_int(password_hash("correct horse battery", &fast, h1, sizeof(h1)), 0, "hash (ln=10)");
	ok(strncmp(h1, "$scrypt$ln=10,r=8,p=1$", 22) == 0, "encoding carries the parameters");
	is_int(strlen(h1), 22 + 22 + 1 + 43, "salt 22 and key 43 characters, no padding");
	ok(strchr(h1 + 22, '=') == NULL, "no base64 padding");
	is_int(password_verify("correct horse battery", h1), 0, "right password verifies");
	is_int(password_verify("correct horse batterz", h1), TC_EFORBIDDEN, "wrong password");
	is_int(password_verify("", h1), TC_EFORBIDDEN, "empty password");
	is_int(password_verify(NULL, h1), TC_EFORBIDDEN, "NULL password");
	is_int(password_hash("correct horse battery", &fast, h2, sizeof(h2)), 0, "hash again");
	ok(strcmp(h1, h2) != 0, "fresh salt: same password, different hash");
	is_int(password_verify("correct horse battery", h2), 0, "second hash verifies");
	is_int(password_hash("correct horse battery", &fast, h2, 60), TC_ETOOBIG,
	       "small output buffer");
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	is_int(password_hash(longpw, &fast, h2, sizeof(h2)), TC_EINVALID, "over-long password");
	is_int(password_verify(longpw, h1), TC_EFORBIDDEN, "over-long password never matches");
	is_int(password_hash(NULL, &fast, h2, sizeof(h2)), TC_EINVALID, "NULL password");

	is_int(password_hash("correct horse battery", NULL, hd, sizeof(hd)), 0,
	       "hash with the defaults (ln=17, 128 MiB)");
	ok(strncmp(hd, "$scrypt$ln=17,r=8,p=1$", 22) == 0, "defaults are ln=17, r=8, p=1");
	is_int(password_verify("correct horse battery", hd), 0, "default hash verifies");
	is_int(password_needs_rehash(hd), 0, "default hash needs no rehash");
	is_int(password_needs_rehash(h1), 1, "ln=10 hash needs a rehash");
	is_int(password_needs_rehash("$scrypt$ln=17,r=4,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
				     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 1,
	       "smaller r needs a rehash");
	is_int(password_needs_rehash("$scrypt$ln=18,r=8,p=2$AAAAAAAAAAAAAAAAAAAAAA$"
				     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 0,
	       "stronger parameters need no rehash");
	is_int(password_needs_rehash("garbage"), 0, "malformed hash: no rehash answer");
}

static void
test_malformed(void)
{
	/* A well-formed ln=4 hash; each case below breaks one thing. */
	static const char *const bad[] = {
		"",
		"$scrypt$",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA",
		"$bcrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=0,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=31,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=04,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=99999999999,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=1073741824,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=32768,p=32768$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$r=8,ln=4,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=1,x=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=+8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAA-A$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAB$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=1$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$",
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ",
		"$scrypt$ln=22,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	static const char good[] =
		"$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	char name[80];

	is_int(password_verify("whatever password", good), TC_EFORBIDDEN,
	       "well-formed hash parses (wrong password)");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "malformed encoding %zu rejected", i);
		is_int(password_verify("whatever password", bad[i]), TC_EINVALID, name);
	}
	is_int(password_verify("whatever password", NULL), TC_EINVALID, "NULL encoding rejected");
}

/* The tally that decides the cost of a sign-in for an unknown ID. */
static void
test_costs(void)
{
	struct password_costs c;
	struct scrypt_params p;
	char h10[PASSWORD_HASH_MAX], h11[PASSWORD_HASH_MAX];
	const struct scrypt_params p11 = { 11, 8, 1 };

	memset(&c, 0, sizeof(c));
	ok(password_hash("a password long enough", &fast, h10, sizeof(h10)) == 0 &&
	   password_hash("a password long enough", &p11, h11, sizeof(h11)) == 0, "two hashes");
	is_int(password_params(h11, &p), 0, "the parameters of a hash");
	ok(p.log2_n == 11 && p.r == 8 && p.p == 1, "ln=11, r=8, p=1");
	is_int(password_params("$scrypt$ln=12,r=8,p=1$", &p), 0, "a head alone is enough");
	is_int((int)p.log2_n, 12, "its ln");
	is_int(password_params("$scrypt$ln=31,r=8,p=1$", &p), TC_EINVALID, "ln=31: refused");
	is_int(password_params("", &p), TC_EINVALID, "no hash: refused");
	is_int(password_params(NULL, &p), TC_EINVALID, "NULL: refused");

	is_int((int)password_costs_common(&c, 17), 17, "nothing counted: today's cost");
	password_costs_add(&c, h10, 3);
	password_costs_add(&c, h11, 2);
	password_costs_add(&c, "", 5);			/* no password: not counted */
	password_costs_add(&c, "garbage", 5);
	is_int((int)password_costs_common(&c, 11), 10, "most hashes are ln=10, not today's 11");
	password_costs_add(&c, h11, 1);			/* a new account */
	is_int((int)password_costs_common(&c, 11), 11, "a tie goes to today's cost");
	is_int((int)password_costs_common(&c, 17), 10, "a tie between others: the lower");
	password_costs_add(&c, h10, -1);		/* one re-hashed at sign-in */
	password_costs_add(&c, h11, 1);
	is_int((int)password_costs_common(&c, 10), 11, "then ln=11 has most");
}

int
main(void)
{
	test_derive();
	test_policy();
	test_hash_verify();
	test_malformed();
	test_costs();
	return done_testing();
}
