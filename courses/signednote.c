/* signednote.c - see signednote.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/signednote.h"

#define ALG_ED25519 0x01
/* U+2014 EM DASH and a space: how every signature line starts. */
static const char sig_prefix[] = "\xe2\x80\x94 ";

/* Valid UTF-8 without control characters other than "\n". */
static int
text_ok(const char *s, size_t n)
{
	if (utf8_check(s, n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n')
			return 0;
	return 1;
}

/* The length of the Unicode White_Space character (what Go's
 * unicode.IsSpace reports) at S in valid UTF-8 (N bytes left), or 0. */
static size_t
space_at(const unsigned char *s, size_t n)
{
	if (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0D))
		return 1;
	if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
		return 2;
	if (n < 3)
		return 0;
	if ((s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) ||			/* U+1680 */
	    (s[0] == 0xE2 && s[1] == 0x80 && (s[2] <= 0x8A ||			/* U+2000..200A */
					      s[2] == 0xA8 || s[2] == 0xA9 ||	/* U+2028, 2029 */
					      s[2] == 0xAF)) ||			/* U+202F */
	    (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) ||			/* U+205F */
	    (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80))			/* U+3000 */
		return 3;
	return 0;
}

/* A key name: non-empty UTF-8, no spaces, no '+', no controls, N bytes. */
static int
name_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (n == 0 || !text_ok(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == '+' || space_at(p + i, n - i) != 0)
			return 0;
	return 1;
}

int
signednote_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n <= SIGNEDNOTE_NAME_MAX && name_ok(name, n);
}

uint32_t
signednote_key_id(const char *name, const unsigned char pub[32])
{
	unsigned char buf[SIGNEDNOTE_NAME_MAX + 2 + 32], md[32];
	size_t n = strlen(name);

	if (n > SIGNEDNOTE_NAME_MAX)
		n = SIGNEDNOTE_NAME_MAX;
	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = ALG_ED25519;
	memcpy(buf + n + 2, pub, 32);
	sha256_raw(buf, n + 2 + 32, md);
	return (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
}

int
signednote_verifier_init(struct signednote_verifier *v, const char *name,
			 const unsigned char pub[32])
{
	if (!signednote_name_ok(name))
		return TC_EINVALID;
	memcpy(v->name, name, strlen(name) + 1);
	memcpy(v->pub, pub, 32);
	v->id = signednote_key_id(name, pub);
	return 0;
}

int
signednote_verifier_format(const struct signednote_verifier *v, char *out, size_t outsize)
{
	unsigned char key[33];
	char b64[48];
	int n;

	key[0] = ALG_ED25519;
	memcpy(key + 1, v->pub, 32);
	if (b64_encode(key, sizeof(key), b64, sizeof(b64)) != 0)
		return TC_EINVALID;
	n = snprintf(out, outsize, "%s+%08" PRIx32 "+%s", v->name, v->id, b64);
	if (n < 0 || (size_t)n >= outsize)
		return TC_ETOOBIG;
	return 0;
}

int
signednote_verifier_parse(const char *vkey, struct signednote_verifier *v)
{
	struct signednote_verifier tmp;
	const char *plus1 = strchr(vkey, '+'), *plus2;
	unsigned char key[40];
	char hex[9];
	size_t len = 0, nlen;
	uint32_t id = 0;

	if (plus1 == NULL || (plus2 = strchr(plus1 + 1, '+')) == NULL || plus2 - plus1 != 9)
		return TC_EINVALID;
	nlen = (size_t)(plus1 - vkey);
	if (nlen > SIGNEDNOTE_NAME_MAX || !name_ok(vkey, nlen))
		return TC_EINVALID;
	memcpy(hex, plus1 + 1, 8);
	hex[8] = '\0';
	for (int i = 0; i < 8; i++) {
		char c = hex[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else
			return TC_EINVALID;
		id = id << 4 | d;
	}
	if (b64_decode(plus2 + 1, key, sizeof(key), &len) != 0 || len != 33 ||
	    key[0] != ALG_ED25519)
		return TC_EINVALID;
	memcpy(tmp.name, vkey, nlen);
	tmp.name[nlen] = '\0';
	memcpy(tmp.pub, key + 1, 32);
	tmp.id = signednote_key_id(tmp.name, tmp.pub);
	if (tmp.id != id)
		return TC_EINVALID;
	*v = tmp;
	return 0;
}

/* Valid note text: non-empty lines ending in "\n", the last one not empty
 * (an empty one would be taken for the separator). */
static int
note_text_ok(const char *text, size_t n)
{
	return n > 0 && n < SIGNEDNOTE_MAX && text[n - 1] == '\n' &&
	       (n < 2 || text[n - 2] != '\n') && text_ok(text, n);
}

int
signednote_sign(const char *text, size_t n, const struct signednote_verifier *v,
		int (*sign)(void *ctx, const void *msg, size_t n, unsigned char sig[64]),
		void *ctx, struct dynbuf *out)
{
	unsigned char blob[4 + 64];
	char b64[96];
	size_t len0 = out->len;
	int rc;

	if (!note_text_ok(text, n) || !signednote_name_ok(v->name))
		return TC_EINVALID;
	blob[0] = (unsigned char)(v->id >> 24);
	blob[1] = (unsigned char)(v->id >> 16);
	blob[2] = (unsigned char)(v->id >> 8);
	blob[3] = (unsigned char)v->id;
	if ((rc = sign(ctx, text, n, blob + 4)) != 0)
		return rc;
	if ((rc = b64_encode(blob, sizeof(blob), b64, sizeof(b64))) != 0)
		return rc;
	if ((rc = dynbuf_append(out, text, n)) != 0 ||
	    (rc = dynbuf_printf(out, "\n%s%s %s\n", sig_prefix, v->name, b64)) != 0) {
		out->len = len0;
		if (out->data != NULL)
			out->data[len0] = '\0';
		return rc;
	}
	return 0;
}

/* Ed25519 verification of SIG over MSG: 0, TC_EFORBIDDEN, TC_EIO. */
static int
ed25519_check(const unsigned char pub[32], const void *msg, size_t n, const unsigned char sig[64])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = TC_EIO, r;

	if (pkey == NULL || md == NULL || EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) != 1) {
		crypto_log_error("Ed25519 verification");
		goto out;
	}
	r = EVP_DigestVerify(md, sig, 64, msg, n);
	rc = r == 1 ? 0 : TC_EFORBIDDEN;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return rc;
}

/* The last "\n\n" in NOTE: the end of the text is one past it. */
static const char *
last_blank(const char *note, size_t n)
{
	for (size_t i = n; i >= 2; i--)
		if (note[i - 1] == '\n' && note[i - 2] == '\n')
			return note + i - 2;
	return NULL;
}

int
signednote_open(const char *note, size_t n, const struct signednote_verifier *keys,
		size_t nkeys, size_t *text_len, size_t *verified)
{
	unsigned char seen[SIGNEDNOTE_MAX_SIGS];
	const char *split, *p, *end = note + n;
	size_t tlen, good = 0, nsig = 0, plen = sizeof(sig_prefix) - 1;
	int rc;

	if (text_len != NULL)
		*text_len = 0;
	if (verified != NULL)
		*verified = 0;
	if (n == 0 || n > SIGNEDNOTE_MAX || !text_ok(note, n))
		return TC_EINVALID;
	if ((split = last_blank(note, n)) == NULL)
		return TC_EINVALID;
	tlen = (size_t)(split - note) + 1;
	p = split + 2;
	if (p == end || end[-1] != '\n')
		return TC_EINVALID;
	memset(seen, 0, sizeof(seen));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *name, *sp;
		unsigned char blob[384];
		char b64[512];
		size_t len = 0, blen;
		uint32_t id;

		if (++nsig > SIGNEDNOTE_MAX_SIGS)
			return TC_EINVALID;
		if ((size_t)(eol - p) < plen || memcmp(p, sig_prefix, plen) != 0)
			return TC_EINVALID;
		name = p + plen;
		sp = memchr(name, ' ', (size_t)(eol - name));
		if (sp == NULL || !name_ok(name, (size_t)(sp - name)))
			return TC_EINVALID;
		blen = (size_t)(eol - sp - 1);
		if (blen == 0 || blen >= sizeof(b64))
			return TC_EINVALID;
		memcpy(b64, sp + 1, blen);
		b64[blen] = '\0';
		if (b64_decode(b64, blob, sizeof(blob), &len) != 0 || len < 5)
			return TC_EINVALID;
		id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 |
		     blob[3];
		for (size_t k = 0; k < nkeys; k++) {
			if (keys[k].id != id || strlen(keys[k].name) != (size_t)(sp - name) ||
			    memcmp(keys[k].name, name, (size_t)(sp - name)) != 0)
				continue;
			if (k < SIGNEDNOTE_MAX_SIGS && seen[k]++)
				return TC_EINVALID;
			if (len != 4 + 64)
				return TC_EFORBIDDEN;
			if ((rc = ed25519_check(keys[k].pub, note, tlen, blob + 4)) != 0)
				return rc;
			good++;
			break;
		}
		p = eol + 1;
	}
	if (good == 0)
		return TC_EFORBIDDEN;
	if (text_len != NULL)
		*text_len = tlen;
	if (verified != NULL)
		*verified = good;
	return 0;
}

int
checkpoint_format(const char *origin, uint64_t size, const unsigned char root[32],
		  struct dynbuf *out)
{
	char b64[48];
	size_t n = strlen(origin), len0 = out->len;
	int rc;

	if (n == 0 || n > SIGNEDNOTE_NAME_MAX || !text_ok(origin, n) ||
	    memchr(origin, '\n', n) != NULL || origin[0] == ' ' || origin[n - 1] == ' ')
		return TC_EINVALID;
	if ((rc = b64_encode(root, 32, b64, sizeof(b64))) != 0)
		return rc;
	if ((rc = dynbuf_printf(out, "%s\n%" PRIu64 "\n%s\n", origin, size, b64)) != 0) {
		out->len = len0;
		return rc;
	}
	return 0;
}

/* The next line of [*P, END) without its "\n" into *LINE, *LEN. */
static int
next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *eol = memchr(*p, '\n', (size_t)(end - *p));

	if (eol == NULL)
		return TC_EINVALID;
	*line = *p;
	*len = (size_t)(eol - *p);
	*p = eol + 1;
	return 0;
}

int
checkpoint_parse(const char *text, size_t n, struct checkpoint *cp)
{
	struct checkpoint tmp;
	const char *p = text, *end = text + n, *line;
	char b64[64];
	size_t len = 0, rlen = 0;

	memset(&tmp, 0, sizeof(tmp));
	if (n == 0 || n > SIGNEDNOTE_MAX || text[n - 1] != '\n' || !text_ok(text, n))
		return TC_EINVALID;
	/* origin */
	if (next_line(&p, end, &line, &len) != 0 || len == 0 || len > SIGNEDNOTE_NAME_MAX ||
	    line[0] == ' ' || line[len - 1] == ' ')
		return TC_EINVALID;
	memcpy(tmp.origin, line, len);
	tmp.origin[len] = '\0';
	/* size: decimal, no sign, no leading zero, no overflow */
	if (next_line(&p, end, &line, &len) != 0 || len == 0 || len > 20 ||
	    (line[0] == '0' && len > 1))
		return TC_EINVALID;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(line[i] - '0');

		if (line[i] < '0' || line[i] > '9' || tmp.size > (UINT64_MAX - d) / 10)
			return TC_EINVALID;
		tmp.size = tmp.size * 10 + d;
	}
	/* root hash */
	if (next_line(&p, end, &line, &len) != 0 || len != 44)
		return TC_EINVALID;
	memcpy(b64, line, len);
	b64[len] = '\0';
	if (b64_decode(b64, tmp.root, sizeof(tmp.root), &rlen) != 0 || rlen != 32)
		return TC_EINVALID;
	/* extension lines: each non-empty */
	tmp.ext = p;
	tmp.ext_len = (size_t)(end - p);
	while (p < end)
		if (next_line(&p, end, &line, &len) != 0 || len == 0)
			return TC_EINVALID;
	*cp = tmp;
	return 0;
}
