/* did_test.c - tests for courses/did.c */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/crypto.h"
#include "courses/did.h"
#include "courses/errors.h"
#include "tests/tap.h"

#define VECTORS "/../shared/testvectors/eddsa-jcs-2022/"

/* The public key of the W3C eddsa-jcs-2022 vector (keyPair.json). */
static const unsigned char w3c_pub[32] = {
	0xb0, 0x0d, 0x8d, 0x93, 0x8e, 0x7f, 0x77, 0x3d, 0x51, 0x56, 0x5a, 0xad, 0x36, 0xa6, 0x23, 0xf5,
	0x34, 0x4f, 0x7f, 0x5d, 0x19, 0x60, 0xf9, 0xcf, 0x3e, 0x8e, 0x12, 0x62, 0x0e, 0xa2, 0x81, 0x0f,
};

static void
test_vector(void)
{
	char path[4096], mb[64], did[DID_KEY_MAX], want[DID_KEY_MAX];
	unsigned char raw[40], pub[32];
	const char *top = getenv("TOP_SRCDIR"), *vec;
	json_t *root;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s" VECTORS "keyPair.json", top ? top : ".");
	root = json_load_file(path, 0, NULL);
	if (root == NULL) {
		ok(1, "W3C keyPair.json # SKIP shared/ absent");
		return;
	}
	vec = json_string_value(json_object_get(root, "publicKeyMultibase"));
	ok(vec != NULL && vec[0] == 'z', "vector has a multibase public key");
	if (vec == NULL)
		vec = "";
	ok(base58btc_decode(vec + 1, raw, sizeof(raw), &len) == 0 && len == 34 &&
	   raw[0] == 0xed && raw[1] == 0x01 && memcmp(raw + 2, w3c_pub, 32) == 0,
	   "vector decodes to 0xed 0x01 + the public key");
	is_int(ed25519_multibase(w3c_pub, mb, sizeof(mb)), 0, "multibase of the vector key");
	is_str(mb, vec, "multibase matches the W3C vector");
	is_int(did_key_from_ed25519(w3c_pub, did, sizeof(did)), 0, "did:key of the vector key");
	snprintf(want, sizeof(want), "did:key:%s", vec);
	is_str(did, want, "did:key is did:key: + the multibase");
	ok(did_key_to_ed25519(did, pub) == 0 && memcmp(pub, w3c_pub, 32) == 0,
	   "the vector's did:key parses back to its key");
	json_decref(root);
}

static void
test_roundtrip(void)
{
	unsigned char pub[32], back[32];
	char mb[56], did[DID_KEY_MAX], vm[DID_KEY_VM_MAX], want[DID_KEY_VM_MAX];
	int all = 1;

	/* Extremes: the shortest and longest base58 forms. */
	for (int round = 0; round < 34; round++) {
		if (round == 0)
			memset(pub, 0, 32);
		else if (round == 1)
			memset(pub, 0xff, 32);
		else
			crypto_random(pub, 32);
		all &= ed25519_multibase(pub, mb, sizeof(mb)) == 0 && strncmp(mb, "z6Mk", 4) == 0;
		all &= did_key_from_ed25519(pub, did, sizeof(did)) == 0 &&
		       did_key_to_ed25519(did, back) == 0 && memcmp(pub, back, 32) == 0;
		all &= did_key_vm_from_ed25519(pub, vm, sizeof(vm)) == 0 &&
		       did_key_to_ed25519(vm, back) == 0 && memcmp(pub, back, 32) == 0;
		snprintf(want, sizeof(want), "did:key:%s#%s", mb, mb);
		all &= strcmp(vm, want) == 0;
		all &= strlen(did) < DID_KEY_MAX && strlen(vm) < DID_KEY_VM_MAX;
	}
	ok(all, "zero, all-ones and random keys: z6Mk..., did and vm round-trip");
	memset(pub, 0xff, 32);
	is_int(did_key_from_ed25519(pub, did, DID_KEY_MAX), 0, "longest did fits DID_KEY_MAX");
	is_int(did_key_vm_from_ed25519(pub, vm, DID_KEY_VM_MAX), 0, "longest vm fits");
	is_int(did_key_from_ed25519(pub, did, strlen(did)), TC_ETOOBIG,
	       "did: no room for the NUL");
	is_int(did_key_vm_from_ed25519(pub, vm, strlen(vm)), TC_ETOOBIG,
	       "vm: no room for the NUL");
	is_int(ed25519_multibase(pub, mb, 1), TC_ETOOBIG, "multibase: tiny buffer");
}

static void
test_reject(void)
{
	static const char *const bad[] = {
		"",
		"did:key:",
		"did:key:z",
		"did:web:example.com",
		"did:key:6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",		/* no 'z' */
		"did:key:u7QGwDY2Tjn93PVFWWq02piP1NE9_XRlg-c8-jhJiDqKBDw",		/* base64url */
		"DID:KEY:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
		"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ",		/* short */
		"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ22",	/* long */
		"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0",		/* '0' */
		"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#",	/* empty fragment */
		/* a fragment other than the key itself names no method of the key's
		 * DID document (did:key's only one is #<the identifier>) */
		"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#key-1",
		"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
		"#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ",		/* a prefix */
		"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
		"#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ22",		/* longer */
		"did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc",		/* X25519 */
		"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",	/* secp256k1 */
		"did:key:z1116MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",	/* zero bytes */
	};
	unsigned char pub[32];
	char name[96];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "not an Ed25519 did:key rejected (%zu)", i);
		is_int(did_key_to_ed25519(bad[i], pub), TC_EINVALID, name);
	}
	is_int(did_key_to_ed25519(NULL, pub), TC_EINVALID, "NULL rejected");
	is_int(did_key_to_ed25519("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
				  "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", pub), 0,
	       "verification method with its fragment accepted");
}

/* The identifiers a thread decoded last are kept: a hit gives the same key
 * without decoding; at most DID_KEY_KEPT kept; refused ones never kept. */
static void
test_kept(void)
{
	char did[DID_KEY_KEPT + 1][DID_KEY_MAX], vm[DID_KEY_VM_MAX], bad[DID_KEY_MAX];
	unsigned char pub[32], got[32];
	unsigned long h0, d0, h1, d1;
	int good = 1;

	for (int i = 0; i <= DID_KEY_KEPT; i++) {
		memset(pub, 0x40 + i, 32);
		good &= did_key_from_ed25519(pub, did[i], sizeof(did[i])) == 0;
	}
	did_key_kept_counts(&h0, &d0);
	for (int i = 0; i <= DID_KEY_KEPT; i++) {
		memset(pub, 0x40 + i, 32);
		good &= did_key_to_ed25519(did[i], got) == 0 && memcmp(got, pub, 32) == 0;
	}
	did_key_kept_counts(&h1, &d1);
	ok(good && h1 == h0 && d1 == d0 + DID_KEY_KEPT + 1,
	   "DID_KEY_KEPT + 1 new DIDs: each decoded");
	memset(pub, 0x40 + DID_KEY_KEPT, 32);
	ok(did_key_to_ed25519(did[DID_KEY_KEPT], got) == 0 && memcmp(got, pub, 32) == 0,
	   "the last one again: its key");
	did_key_kept_counts(&h1, &d1);
	ok(h1 == h0 + 1 && d1 == d0 + DID_KEY_KEPT + 1, "... kept, not decoded again");
	snprintf(vm, sizeof(vm), "%s#%s", did[DID_KEY_KEPT], did[DID_KEY_KEPT] + 8);
	ok(did_key_to_ed25519(vm, got) == 0 && memcmp(got, pub, 32) == 0,
	   "its verification method: the same key, kept");
	did_key_kept_counts(&h1, &d1);
	is_int((int)(h1 - h0), 2, "... a second hit");
	memset(pub, 0x40, 32);
	ok(did_key_to_ed25519(did[0], got) == 0 && memcmp(got, pub, 32) == 0,
	   "the first one again: its key");
	did_key_kept_counts(&h1, &d1);
	ok(h1 == h0 + 2 && d1 == d0 + DID_KEY_KEPT + 2,
	   "... decoded again (only the last DID_KEY_KEPT are kept)");
	snprintf(bad, sizeof(bad), "%s", did[1]);
	bad[strlen(bad) - 1] = '0';	/* not base58 */
	is_int(did_key_to_ed25519(bad, got), TC_EINVALID, "a DID one character off: refused");
	is_int(did_key_to_ed25519(bad, got), TC_EINVALID, "... again");
	did_key_kept_counts(&h1, &d1);
	ok(h1 == h0 + 2 && d1 == d0 + DID_KEY_KEPT + 4, "... decoded both times (never kept)");
	is_int(did_key_to_ed25519(vm + 1, got), TC_EINVALID, "a kept identifier without the"
	       " did:key: prefix: refused");
	snprintf(vm, sizeof(vm), "%s#", did[DID_KEY_KEPT]);
	is_int(did_key_to_ed25519(vm, got), TC_EINVALID, "a kept DID with an empty fragment:"
	       " refused");
}

int
main(void)
{
	test_vector();
	test_roundtrip();
	test_reject();
	test_kept();
	return done_testing();
}
