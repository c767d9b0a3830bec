/* keys_test.c - tests for storage/keys.c */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "courses/crypto.h"
#include "courses/did.h"
#include "courses/errors.h"
#include "storage/keys.h"
#include "tests/tap.h"

#define VECTORS "/../shared/testvectors/eddsa-jcs-2022/"

static char dir[256];

/* Reads FILE from the W3C vector folder into BUF as text (trailing
 * whitespace removed). 0, or -1 when absent. */
static int
vector_text(const char *file, char *buf, size_t size)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[4096];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s" VECTORS "%s", top ? top : ".", file);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	n = fread(buf, 1, size - 1, fp);
	fclose(fp);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

/* Hex text to bytes; the number of bytes, or 0 when malformed. */
static size_t
unhex(const char *s, unsigned char *out, size_t size)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > size)
		return 0;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return 0;
		out[i] = (unsigned char)v;
	}
	return n / 2;
}

/* Writes TEXT to DIR/NAME. */
static int
put_file(const char *name, const void *text, size_t n)
{
	char path[512];
	FILE *fp;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	rc = fwrite(text, 1, n, fp) == n ? 0 : -1;
	return fclose(fp) == 0 ? rc : -1;
}

/* Writes PKEY as a PKCS#8 PEM to DIR/NAME. */
static int
put_key(const char *name, EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc = -1;

	if (bio && PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1) {
		len = BIO_get_mem_data(bio, &data);
		rc = put_file(name, data, (size_t)len);
	}
	BIO_free(bio);
	return rc;
}

static void
test_generate(void)
{
	unsigned char pub[32], pub2[32], zero[32] = { 0 };
	char path[512], pem[64] = { 0 }, name[KEY_NAME_MAX + 1];
	struct stat st;
	FILE *fp;

	is_int(keys_generate(dir, "issuer-HUST_2026.1", pub), 0, "key generated");
	ok(memcmp(pub, zero, 32) != 0, "public key returned");
	snprintf(path, sizeof(path), "%s/issuer-HUST_2026.1.pem", dir);
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode), "NAME.pem exists");
	is_int(st.st_mode & 07777, 0600, "key file mode is 0600");
	fp = fopen(path, "r");
	if (fp) {
		if (fread(pem, 1, sizeof(pem) - 1, fp) == 0)
			pem[0] = '\0';
		fclose(fp);
	}
	ok(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0, "PKCS#8 PEM, unencrypted");
	snprintf(path, sizeof(path), "%s/issuer-HUST_2026.1.pem.tmp", dir);
	ok(access(path, F_OK) != 0, "no .tmp file left");
	is_int(keys_public(dir, "issuer-HUST_2026.1", pub2), 0, "public key read back");
	ok(memcmp(pub, pub2, 32) == 0, "public key from the file matches");

	is_int(keys_generate(dir, "issuer-HUST_2026.1", pub2), TC_ECONFLICT,
	       "same name again: conflict");
	is_int(keys_public(dir, "issuer-HUST_2026.1", pub2), 0, "first key still there");
	ok(memcmp(pub, pub2, 32) == 0, "first key not replaced");
	is_int(keys_generate(dir, "second", pub2), 0, "another key");
	ok(memcmp(pub, pub2, 32) != 0, "different keys");

	is_int(keys_generate(dir, "", pub), TC_EINVALID, "empty name rejected");
	is_int(keys_generate(dir, NULL, pub), TC_EINVALID, "NULL name rejected");
	is_int(keys_generate(dir, "../escape", pub), TC_EINVALID, "'/' and '..' rejected");
	is_int(keys_generate(dir, "a/b", pub), TC_EINVALID, "slash rejected");
	is_int(keys_generate(dir, "a b", pub), TC_EINVALID, "space rejected");
	is_int(keys_generate(dir, "caf\xc3\xa9", pub), TC_EINVALID, "non-ASCII rejected");
	is_int(keys_generate(NULL, "x", pub), TC_EINVALID, "NULL folder rejected");
	memset(name, 'k', KEY_NAME_MAX);
	name[KEY_NAME_MAX - 1] = '\0';
	is_int(keys_generate(dir, name, pub), 0, "95-byte name accepted");
	name[KEY_NAME_MAX - 1] = 'k';
	name[KEY_NAME_MAX] = '\0';
	is_int(keys_generate(dir, name, pub), TC_EINVALID, "96-byte name rejected");

	is_int(put_file("stale.pem.tmp", "x", 1), 0, "a stale temporary file");
	is_int(keys_generate(dir, "stale", pub), TC_ECONFLICT, "stale .tmp: conflict");
	snprintf(path, sizeof(path), "%s/stale.pem", dir);
	ok(access(path, F_OK) != 0, "nothing written next to a stale .tmp");
	snprintf(path, sizeof(path), "%s/stale.pem.tmp", dir);
	unlink(path);

	snprintf(path, sizeof(path), "%s/missing", dir);
	is_int(keys_generate(path, "x", pub), TC_EIO, "missing folder: I/O error");
	is_int(keys_public(dir, "nope", pub), TC_ENOTFOUND, "missing key: not found");
	is_int(keys_public(dir, "a/b", pub), TC_EINVALID, "bad name on read rejected");
}

static void
test_sign(void)
{
	static const char msg[] = "credential #1 issued by HUST";
	unsigned char pub[32], sig[64], sig2[64];
	char tampered[sizeof(msg)];

	is_int(keys_public(dir, "second", pub), 0, "signing key's public key");
	is_int(keys_sign(dir, "second", msg, sizeof(msg) - 1, sig), 0, "signed");
	is_int(ed25519_verify(pub, msg, sizeof(msg) - 1, sig), 0, "signature verifies");
	is_int(keys_sign(dir, "second", msg, sizeof(msg) - 1, sig2), 0, "signed again");
	ok(memcmp(sig, sig2, 64) == 0, "Ed25519 is deterministic");
	memcpy(tampered, msg, sizeof(msg));
	tampered[0] ^= 1;
	is_int(ed25519_verify(pub, tampered, sizeof(msg) - 1, sig), TC_EFORBIDDEN,
	       "tampered message fails");
	is_int(ed25519_verify(pub, msg, sizeof(msg) - 2, sig), TC_EFORBIDDEN,
	       "truncated message fails");
	sig2[63] ^= 0x40;
	is_int(ed25519_verify(pub, msg, sizeof(msg) - 1, sig2), TC_EFORBIDDEN,
	       "tampered signature fails");
	pub[0] ^= 1;
	is_int(ed25519_verify(pub, msg, sizeof(msg) - 1, sig), TC_EFORBIDDEN, "other key fails");
	pub[0] ^= 1;
	is_int(keys_sign(dir, "second", NULL, 0, sig), 0, "empty message signed");
	is_int(ed25519_verify(pub, NULL, 0, sig), 0, "empty message verifies");
	is_int(ed25519_verify(pub, "x", 1, sig), TC_EFORBIDDEN, "other message fails");
	is_int(keys_sign(dir, "nope", msg, 1, sig), TC_ENOTFOUND, "missing key cannot sign");
}

static void
test_bad_files(void)
{
	EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	unsigned char pub[32], sig[64];

	is_int(put_file("junk.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n", 33), 0, "junk file");
	is_int(keys_public(dir, "junk", pub), TC_EIO, "junk key file: I/O error");
	is_int(keys_sign(dir, "junk", "m", 1, sig), TC_EIO, "junk key file cannot sign");
	is_int(put_file("empty.pem", "", 0), 0, "empty file");
	is_int(keys_sign(dir, "empty", "m", 1, sig), TC_EIO, "empty key file cannot sign");
	ok(x != NULL && put_key("x25519.pem", x) == 0, "an X25519 key file");
	is_int(keys_sign(dir, "x25519", "m", 1, sig), TC_EIO, "non-Ed25519 key refused");
	EVP_PKEY_free(x);
}

static void
test_w3c(void)
{
	char text[512], mb[128];
	unsigned char raw[64], msg[64], sig[64], mine[64], pub[32], back[32];
	size_t len = 0, msglen, siglen;
	EVP_PKEY *pkey = NULL;
	const char *s;
	json_t *root;

	if (vector_text("keyPair.json", text, sizeof(text)) != 0) {
		ok(1, "W3C eddsa-jcs-2022 vectors # SKIP shared/ absent");
		return;
	}
	root = json_loads(text, 0, NULL);
	s = json_string_value(json_object_get(root, "publicKeyMultibase"));
	snprintf(mb, sizeof(mb), "did:key:%s", s ? s : "");
	is_int(did_key_to_ed25519(mb, pub), 0, "vector public key");
	s = json_string_value(json_object_get(root, "privateKeyMultibase"));
	snprintf(mb, sizeof(mb), "%s", s ? s : "");
	json_decref(root);
	ok(mb[0] == 'z' && base58btc_decode(mb + 1, raw, sizeof(raw), &len) == 0 && len == 34 &&
	   raw[0] == 0x80 && raw[1] == 0x26, "vector private key is ed25519-priv (0x8026)");

	msglen = vector_text("combinedHashJCS.txt", text, sizeof(text)) == 0 ?
		 unhex(text, msg, sizeof(msg)) : 0;
	siglen = vector_text("sigHexJCS.txt", text, sizeof(text)) == 0 ?
		 unhex(text, sig, sizeof(sig)) : 0;
	ok(msglen == 64 && siglen == 64, "proofHash || docHash and signature read");
	is_int(ed25519_verify(pub, msg, msglen, sig), 0,
	       "W3C signature verifies over proofHash || docHash");
	msg[10] ^= 0x08;
	is_int(ed25519_verify(pub, msg, msglen, sig), TC_EFORBIDDEN,
	       "W3C signature fails on a flipped message bit");
	msg[10] ^= 0x08;
	sig[5] ^= 0x01;
	is_int(ed25519_verify(pub, msg, msglen, sig), TC_EFORBIDDEN,
	       "flipped signature bit fails");
	sig[5] ^= 0x01;

	/* The vector's private key as a key file: keys_sign must reproduce the
	 * W3C signature byte for byte (Ed25519 is deterministic). */
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 2, 32);
	ok(pkey != NULL && put_key("w3c.pem", pkey) == 0, "vector key written as PEM");
	EVP_PKEY_free(pkey);
	is_int(keys_public(dir, "w3c", back), 0, "public key of the vector key file");
	ok(memcmp(back, pub, 32) == 0, "matches the vector's publicKeyMultibase");
	is_int(keys_sign(dir, "w3c", msg, msglen, mine), 0, "signed with the vector key");
	ok(memcmp(mine, sig, 64) == 0, "signature equals sigHexJCS.txt");
}

/* Removes every file in DIR (checking that only .pem files are left) and DIR. */
/* Keys are kept parsed in memory between signatures: a file replaced by
 * another key signs with the new key, a removed file no longer signs. */
static void
test_cache(void)
{
	static const char msg[] = "kept key";
	unsigned char pa[32], pb[32], sig[64];
	char from[512], to[512];

	is_int(keys_generate(dir, "swap", pa), 0, "key made");
	is_int(keys_generate(dir, "swap2", pb), 0, "another key made");
	for (int i = 0; i < 3; i++)
		is_int(keys_sign(dir, "swap", msg, sizeof(msg) - 1, sig), 0, "signed (cached)");
	is_int(ed25519_verify(pa, msg, sizeof(msg) - 1, sig), 0, "by the first key");
	snprintf(from, sizeof(from), "%s/swap2.pem", dir);
	snprintf(to, sizeof(to), "%s/swap.pem", dir);
	ok(rename(from, to) == 0, "the file replaced by another key");
	is_int(keys_sign(dir, "swap", msg, sizeof(msg) - 1, sig), 0, "signed after the swap");
	is_int(ed25519_verify(pb, msg, sizeof(msg) - 1, sig), 0, "by the new key, not the kept one");
	ok(unlink(to) == 0, "the file removed");
	is_int(keys_sign(dir, "swap", msg, 1, sig), TC_ENOTFOUND, "a removed key no longer signs");
	/* more keys than the cache holds all sign with their own key */
	for (int i = 0; i < 12; i++) {
		char name[16];
		unsigned char p[32];

		snprintf(name, sizeof(name), "many%d", i);
		if (keys_generate(dir, name, p) || keys_sign(dir, name, msg, 3, sig) ||
		    ed25519_verify(p, msg, 3, sig)) {
			ok(0, "many keys sign");
			return;
		}
	}
	for (int i = 11; i >= 0; i--) {
		char name[16];
		unsigned char p[32];

		snprintf(name, sizeof(name), "many%d", i);
		if (keys_public(dir, name, p) || keys_sign(dir, name, msg, 3, sig) ||
		    ed25519_verify(p, msg, 3, sig)) {
			ok(0, "many keys sign again");
			return;
		}
	}
	ok(1, "twelve keys sign in turn with their own key");
}

static void
cleanup(void)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(dir);
	int only_pem = 1;

	while (d && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n < 4 || strcmp(de->d_name + n - 4, ".pem") != 0)
			only_pem = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	ok(only_pem, "only .pem files left in the folder");
	ok(rmdir(dir) == 0, "test folder removed");
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/keys_test.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	test_generate();
	test_sign();
	test_bad_files();
	test_w3c();
	test_cache();
	cleanup();
	return done_testing();
}
