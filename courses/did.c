/* did.c - see did.h. */
#include <string.h>

#include "courses/crypto.h"
#include "courses/did.h"
#include "courses/errors.h"

#define DID_KEY_PREFIX "did:key:"
#define MB_LEN 49		/* 'z' + base58 of 34 bytes (at most 47) + NUL */

/* Multicodec ed25519-pub (0xed, as an unsigned varint: 0xed 0x01). */
static const unsigned char ed25519_codec[2] = { 0xed, 0x01 };

/* Appends S to OUT at *LEN, keeping a NUL; TC_ETOOBIG when it does not fit. */
static int
append(char *out, size_t outsize, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > outsize)
		return TC_ETOOBIG;
	memcpy(out + *len, s, n + 1);
	*len += n;
	return 0;
}

int
ed25519_multibase(const unsigned char pub[32], char *out, size_t outsize)
{
	unsigned char buf[34];

	if (outsize < 2)
		return TC_ETOOBIG;
	memcpy(buf, ed25519_codec, 2);
	memcpy(buf + 2, pub, 32);
	out[0] = 'z';
	return base58btc_encode(buf, sizeof(buf), out + 1, outsize - 1);
}

int
did_key_from_ed25519(const unsigned char pub[32], char *out, size_t outsize)
{
	char mb[MB_LEN];
	size_t len = 0;
	int rc;

	rc = ed25519_multibase(pub, mb, sizeof(mb));
	if (rc != 0)
		return rc;
	rc = append(out, outsize, &len, DID_KEY_PREFIX);
	if (rc == 0)
		rc = append(out, outsize, &len, mb);
	return rc;
}

int
did_key_vm_from_ed25519(const unsigned char pub[32], char *out, size_t outsize)
{
	char mb[MB_LEN];
	size_t len = 0;
	int rc;

	rc = ed25519_multibase(pub, mb, sizeof(mb));
	if (rc != 0)
		return rc;
	rc = append(out, outsize, &len, DID_KEY_PREFIX);
	if (rc == 0)
		rc = append(out, outsize, &len, mb);
	if (rc == 0)
		rc = append(out, outsize, &len, "#");
	if (rc == 0)
		rc = append(out, outsize, &len, mb);
	return rc;
}

/* The identifiers (after "did:key:z", up to '#') this thread decoded last,
 * with their keys: one slot after the other, the oldest replaced. */
static _Thread_local struct {
	unsigned char len;		/* 0: empty */
	char id[MB_LEN];
	unsigned char pub[32];
} kept[DID_KEY_KEPT];
static _Thread_local unsigned kept_next;
static _Thread_local unsigned long kept_hits, kept_decoded;

void
did_key_kept_counts(unsigned long *hits, unsigned long *decoded)
{
	*hits = kept_hits;
	*decoded = kept_decoded;
}

/*
 * The method-specific identifier runs up to '#'; a fragment, if any, must
 * be that identifier again (did:key:z...#z..., the one verification method
 * of a did:key document). It must be 'z' + base58btc of
 * 0xed 0x01 + 32 bytes; base58 has one encoding per byte string, so there
 * is exactly one accepted DID per key.
 */
int
did_key_to_ed25519(const char *did, unsigned char pub[32])
{
	const char *id, *hash;
	char mb[MB_LEN];
	unsigned char buf[40];
	size_t idlen, len = 0;
	int rc = TC_EINVALID;

	if (did == NULL || strncmp(did, DID_KEY_PREFIX "z", sizeof(DID_KEY_PREFIX)) != 0)
		goto out;
	id = did + sizeof(DID_KEY_PREFIX);	/* after the 'z' */
	hash = strchr(id, '#');
	idlen = hash ? (size_t)(hash - id) : strlen(id);
	if (idlen == 0 || idlen >= sizeof(mb) ||
	    (hash && (strlen(hash + 1) != idlen + 1 || hash[1] != 'z' ||
		      memcmp(hash + 2, id, idlen) != 0)))
		goto out;
	for (unsigned i = 0; i < DID_KEY_KEPT; i++)
		if (kept[i].len == idlen && memcmp(kept[i].id, id, idlen) == 0) {
			memcpy(pub, kept[i].pub, 32);
			kept_hits++;
			return 0;
		}
	memcpy(mb, id, idlen);
	mb[idlen] = '\0';
	kept_decoded++;
	if (base58btc_decode(mb, buf, sizeof(buf), &len) != 0 || len != 34 ||
	    memcmp(buf, ed25519_codec, 2) != 0)
		goto out;
	memcpy(pub, buf + 2, 32);
	rc = 0;
	kept_next %= DID_KEY_KEPT;
	kept[kept_next].len = (unsigned char)idlen;
	memcpy(kept[kept_next].id, id, idlen);
	memcpy(kept[kept_next].pub, pub, 32);
	kept_next++;
out:
	return rc;
}
