/* identity_hash_test.c - tests for courses/identity_hash.c */
#include <string.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/identity_hash.h"
#include "tests/tap.h"

/* The example of the OB 3.0 spec (IdentityHash): 'a@example.com' salted
 * with 'Kosher'. */
static const char spec_hash[] =
	"sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399";

static void
test_make(void)
{
	char out[IDENTITY_HASH_LEN + 1], want[IDENTITY_HASH_LEN + 1], cat[64];

	is_int(identity_hash_make("a@example.com", "Kosher", out), 0, "hash the spec example");
	is_str(out, spec_hash, "identity || salt, as the OB 3.0 example");
	is_int(strlen(out), IDENTITY_HASH_LEN, "71 characters");

	/* A national ID: the order is identity then salt, never salt first. */
	is_int(identity_hash_make("001203004567", "00112233445566778899aabbccddeeff", out), 0,
	       "hash a national ID");
	snprintf(cat, sizeof(cat), "%s%s", "001203004567", "00112233445566778899aabbccddeeff");
	memcpy(want, "sha256$", 7);
	sha256_hex(cat, strlen(cat), want + 7);
	is_str(out, want, "sha256$ + hex(SHA-256(id || salt))");
	snprintf(cat, sizeof(cat), "%s%s", "00112233445566778899aabbccddeeff", "001203004567");
	sha256_hex(cat, strlen(cat), want + 7);
	ok(strcmp(out, want) != 0, "not salt || id");
	ok(strstr(out, "001203004567") == NULL, "the number does not appear");

	is_int(identity_hash_make("001203004567", "", out), 0, "unsalted");
	/* printf 001203004567 | sha256sum */
	is_str(out, "sha256$d32d5b90e761a85b26cb11b65497a33c5a4c87686b493e54976cec8b4512dab3",
	       "unsalted: the hash of the identity alone");
	is_int(identity_hash_make(NULL, "x", out), TC_EINVALID, "no identity");
	is_str(out, "", "out is empty on failure");
	is_int(identity_hash_make("1", NULL, out), TC_EINVALID, "no salt");
	is_int(identity_hash_make("\xff\xfe", "x", out), TC_EINVALID, "identity not UTF-8");
	is_int(identity_hash_make("1", "\xc0\xaf", out), TC_EINVALID, "salt not UTF-8 (overlong)");
	{
		char big[IDENTITY_VALUE_MAX + 2];

		memset(big, '7', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		is_int(identity_hash_make(big, "", out), TC_EINVALID, "identity over the cap");
		big[IDENTITY_VALUE_MAX] = '\0';
		is_int(identity_hash_make(big, big, out), 0, "identity and salt at the cap");
	}
}

static void
test_salt(void)
{
	char a[IDENTITY_SALT_LEN + 1], b[IDENTITY_SALT_LEN + 1];

	is_int(identity_salt_new(a), 0, "a new salt");
	is_int(identity_salt_new(b), 0, "another");
	is_int(strlen(a), 32, "16 bytes as 32 hex digits");
	is_int(strspn(a, "0123456789abcdef"), 32, "lower-case hex");
	ok(strcmp(a, b) != 0, "salts differ");
}

static void
test_verify(void)
{
	char upper[sizeof(spec_hash)], bad[sizeof(spec_hash)];

	is_int(identity_hash_verify("a@example.com", "Kosher", spec_hash), 1,
	       "the spec example verifies");
	memcpy(upper, spec_hash, sizeof(spec_hash));
	for (size_t i = 7; upper[i]; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	is_int(identity_hash_verify("a@example.com", "Kosher", upper), 1,
	       "upper-case hex verifies (the spec allows either)");
	is_int(identity_hash_verify("a@example.com", "kosher", spec_hash), 0, "another salt");
	is_int(identity_hash_verify("b@example.com", "Kosher", spec_hash), 0, "another identity");
	is_int(identity_hash_verify("a@example.comK", "osher", spec_hash), 1,
	       "the spec's plain concatenation (a boundary shift hashes alike)");
	memcpy(bad, spec_hash, sizeof(spec_hash));
	bad[70] = bad[70] == '9' ? '8' : '9';
	is_int(identity_hash_verify("a@example.com", "Kosher", bad), 0, "last digit changed");
	memcpy(bad, spec_hash, sizeof(spec_hash));
	memcpy(bad, "SHA256$", 7);
	is_int(identity_hash_verify("a@example.com", "Kosher", bad), 0, "algorithm in upper case");
	memcpy(bad, "md5$$$$", 7);
	is_int(identity_hash_verify("a@example.com", "Kosher", bad), 0, "another algorithm");
	memcpy(bad, spec_hash, sizeof(spec_hash));
	bad[20] = 'g';
	is_int(identity_hash_verify("a@example.com", "Kosher", bad), 0, "a non-hex digit");
	is_int(identity_hash_verify("a@example.com", "Kosher", spec_hash + 1), 0, "too short");
	is_int(identity_hash_verify("a@example.com", "Kosher", ""), 0, "empty");
	is_int(identity_hash_verify("a@example.com", "Kosher", NULL), 0, "NULL");
	is_int(identity_hash_verify(NULL, "Kosher", spec_hash), 0, "no identity");
}

int
main(void)
{
	test_make();
	test_salt();
	test_verify();
	return done_testing();
}
