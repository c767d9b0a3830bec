/* mediatoken.c - see mediatoken.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/mediatoken.h"

#define KEY_LABEL "tinchi media token v1"
#define MAC_B64_LEN 43		/* base64url of 32 bytes, no padding */
#define EXPIRES_DIGITS_MAX 19	/* INT64_MAX has 19 digits */
#define VIEWER_NONE "-"

static int
hex_nibble(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/*
 * HMAC-SHA-256(KEY, MSG) as 32 raw bytes. crypto.h gives the lower-case hex
 * form; it is turned back into bytes here. 0 or TC_EIO.
 */
static int
hmac_raw(const unsigned char key[32], const void *msg, size_t n, unsigned char out[32])
{
	char hex[SHA256_HEX_LEN + 1];
	int rc = hmac_sha256_hex(key, 32, msg, n, hex);

	for (size_t i = 0; rc == 0 && i < 32; i++)
		out[i] = (unsigned char)(hex_nibble(hex[2 * i]) << 4 | hex_nibble(hex[2 * i + 1]));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

void
media_token_key(const unsigned char secret[32], unsigned char key[32])
{
	if (hmac_raw(secret, KEY_LABEL, strlen(KEY_LABEL), key) != 0)
		OPENSSL_cleanse(key, 32);
}

/* 1 when KEY is all zero: what media_token_key leaves on failure. */
static int
key_unset(const unsigned char key[32])
{
	unsigned char any = 0;

	for (size_t i = 0; i < 32; i++)
		any |= key[i];
	return any == 0;
}

static int
material_ok(const char *m)
{
	size_t n;

	if (m == NULL)
		return 0;
	n = strlen(m);
	return n > 0 && n <= MEDIA_MATERIAL_MAX && strpbrk(m, ".\n") == NULL;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "-", or a UUID: hex digits in groups of 8-4-4-4-12. */
static int
viewer_ok(const char *s, size_t n)
{
	if (n == 1)
		return s[0] == '-';
	if (n != 36)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return 0;
	}
	return 1;
}

/* The MAC of a token: VIEWER is VN bytes (not NUL-terminated). */
static int
token_mac(const unsigned char key[32], const char *material, const char *viewer,
	  size_t vn, int64_t expires, unsigned char mac[32])
{
	char msg[MEDIA_MATERIAL_MAX + 64];
	int n = snprintf(msg, sizeof(msg), "v1\n%s\n%.*s\n%" PRId64,
			 material, (int)vn, viewer, expires);

	if (n < 0 || (size_t)n >= sizeof(msg))
		return TC_EINVALID;
	return hmac_raw(key, msg, (size_t)n, mac);
}

int
media_token_make(const unsigned char key[32], const char *material_uid,
		 const char *viewer_uid, int64_t expires, char *out, size_t outsize)
{
	unsigned char mac[32];
	char b64[MAC_B64_LEN + 1], token[MEDIA_TOKEN_MAX];
	int n, rc;

	if (out && outsize)
		out[0] = '\0';
	if (!material_ok(material_uid) || viewer_uid == NULL ||
	    !viewer_ok(viewer_uid, strlen(viewer_uid)) || expires < 0)
		return TC_EINVALID;
	if (key_unset(key))
		return TC_EIO;
	rc = token_mac(key, material_uid, viewer_uid, strlen(viewer_uid), expires, mac);
	if (rc == 0)
		rc = b64url_encode(mac, sizeof(mac), b64, sizeof(b64));
	if (rc)
		return rc;
	n = snprintf(token, sizeof(token), "v1.%" PRId64 ".%s.%s", expires, viewer_uid, b64);
	if (n < 0 || (size_t)n >= sizeof(token))
		return TC_EINVALID;
	if (out == NULL || outsize <= (size_t)n)
		return TC_ETOOBIG;
	memcpy(out, token, (size_t)n + 1);
	return 0;
}

/* Reads the expiry at *P up to '.': decimal digits, no leading zeros, at
 * most INT64_MAX. */
static int
parse_expires(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		int d = s[n] - '0';

		if (n == EXPIRES_DIGITS_MAX || v > (INT64_MAX - d) / 10)
			return TC_EINVALID;
		v = v * 10 + d;
		n++;
	}
	if (n == 0 || s[n] != '.' || (s[0] == '0' && n > 1))
		return TC_EINVALID;
	*p = s + n + 1;
	*out = v;
	return 0;
}

int
media_token_check(const unsigned char key[32], const char *material_uid,
		  const char *token, int64_t now, char viewer[37], int64_t *expires)
{
	unsigned char want[32], got[32];
	const char *p = token, *dot;
	int64_t exp = 0;
	size_t vn, n;
	int rc;

	if (viewer)
		viewer[0] = '\0';
	if (expires)
		*expires = 0;
	if (!material_ok(material_uid) || token == NULL ||
	    strnlen(token, MEDIA_TOKEN_MAX) == MEDIA_TOKEN_MAX || strncmp(token, "v1.", 3) != 0)
		return TC_EINVALID;
	p += 3;
	if (parse_expires(&p, &exp) != 0)
		return TC_EINVALID;
	dot = strchr(p, '.');
	if (dot == NULL)
		return TC_EINVALID;
	vn = (size_t)(dot - p);
	if (!viewer_ok(p, vn) || strlen(dot + 1) != MAC_B64_LEN ||
	    b64url_decode(dot + 1, got, sizeof(got), &n) != 0 || n != sizeof(got))
		return TC_EINVALID;
	if (key_unset(key))
		return TC_EIO;
	rc = token_mac(key, material_uid, p, vn, exp, want);
	if (rc)
		return rc;
	if (!crypto_equal(want, got, sizeof(want)))
		return TC_EFORBIDDEN;
	if (exp < now) {
		/* genuine but old: say when, so the caller can tell the viewer */
		if (expires)
			*expires = exp;
		return TC_EFORBIDDEN;
	}
	if (viewer) {
		memcpy(viewer, p, vn);
		viewer[vn] = '\0';
	}
	if (expires)
		*expires = exp;
	return 0;
}
