/*
 * fold.c - see fold.h.
 *
 * One pass over the input, no allocation. ASCII is lowered in place; other
 * characters are decoded and looked up by code point range:
 *   U+00C0..U+017F  Latin-1 Supplement letters and Latin Extended-A: a
 *                   table of their ASCII folds (ligatures fold to two
 *                   letters: æ ae, œ oe, ĳ ij, ß ss, þ th; letters without
 *                   a decomposition fold to the letter they are read as:
 *                   đ ð d, ø o, ł ŀ l, ħ h, ı i, ŧ t, ŋ ŉ n, ĸ k, ſ s);
 *                   × and ÷ are not letters and stay as they are.
 *   U+01A0 U+01A1 U+01AF U+01B0   Ơ ơ Ư ư (Latin Extended-B).
 *   U+1EA0..U+1EF9  the Vietnamese block of Latin Extended Additional, six
 *                   runs: a, e, i, o, u, y.
 *   U+0300..U+036F  combining marks: dropped.
 * Every fold is at most as long as the character's UTF-8 form, so only
 * invalid bytes make the output longer than the input.
 *
 * Invalid UTF-8 is replaced as Unicode (section 3.9, "maximal subparts")
 * and the WHATWG Encoding Standard do: one U+FFFD for each maximal
 * subpart of an ill-formed sequence, i.e. a valid start that breaks off
 * counts once, and a byte that cannot start or continue anything counts
 * once. Decoding resumes at the byte that broke the sequence.
 */
#include <stdint.h>
#include <string.h>

#include "courses/fold.h"

#define LATIN_FIRST	0x00C0
#define LATIN_LAST	0x017F
#define VIET_FIRST	0x1EA0
#define VIET_LAST	0x1EF9
#define MARKS_FIRST	0x0300
#define MARKS_LAST	0x036F

/* ASCII folds of U+00C0..U+017F; "" means: copy unchanged. */
static const char latin[LATIN_LAST - LATIN_FIRST + 1][3] = {
	/* U+00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* U+00C8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* U+00D0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* U+00D8 */ "o", "u", "u", "u", "u", "y", "th", "ss",
	/* U+00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* U+00E8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* U+00F0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* U+00F8 */ "o", "u", "u", "u", "u", "y", "th", "y",
	/* U+0100 */ "a", "a", "a", "a", "a", "a", "c", "c",
	/* U+0108 */ "c", "c", "c", "c", "c", "c", "d", "d",
	/* U+0110 */ "d", "d", "e", "e", "e", "e", "e", "e",
	/* U+0118 */ "e", "e", "e", "e", "g", "g", "g", "g",
	/* U+0120 */ "g", "g", "g", "g", "h", "h", "h", "h",
	/* U+0128 */ "i", "i", "i", "i", "i", "i", "i", "i",
	/* U+0130 */ "i", "i", "ij", "ij", "j", "j", "k", "k",
	/* U+0138 */ "k", "l", "l", "l", "l", "l", "l", "l",
	/* U+0140 */ "l", "l", "l", "n", "n", "n", "n", "n",
	/* U+0148 */ "n", "n", "n", "n", "o", "o", "o", "o",
	/* U+0150 */ "o", "o", "oe", "oe", "r", "r", "r", "r",
	/* U+0158 */ "r", "r", "s", "s", "s", "s", "s", "s",
	/* U+0160 */ "s", "s", "t", "t", "t", "t", "t", "t",
	/* U+0168 */ "u", "u", "u", "u", "u", "u", "u", "u",
	/* U+0170 */ "u", "u", "u", "u", "w", "w", "y", "y",
	/* U+0178 */ "y", "z", "z", "z", "z", "z", "z", "s",
};

/* The Vietnamese runs of U+1EA0..U+1EF9: each letter up to LAST folds to BASE. */
static const struct {
	uint32_t last;
	char base[2];
} viet[] = {
	{ 0x1EB7, "a" },	/* Ạ ạ .. Ặ ặ */
	{ 0x1EC7, "e" },	/* Ẹ ẹ .. Ệ ệ */
	{ 0x1ECB, "i" },	/* Ỉ ỉ Ị ị */
	{ 0x1EE3, "o" },	/* Ọ ọ .. Ợ ợ */
	{ 0x1EF1, "u" },	/* Ụ ụ .. Ự ự */
	{ 0x1EF9, "y" },	/* Ỳ ỳ .. Ỹ ỹ */
};

static const char replacement[3] = { '\xEF', '\xBF', '\xBD' };

/* The ASCII fold of letter CP, or NULL when CP is copied unchanged. */
static const char *
fold_letter(uint32_t cp)
{
	if (cp >= LATIN_FIRST && cp <= LATIN_LAST)
		return latin[cp - LATIN_FIRST][0] ? latin[cp - LATIN_FIRST] : NULL;
	switch (cp) {
	case 0x01A0: case 0x01A1:	/* Ơ ơ */
		return "o";
	case 0x01AF: case 0x01B0:	/* Ư ư */
		return "u";
	}
	if (cp >= VIET_FIRST && cp <= VIET_LAST)
		for (size_t i = 0; i < sizeof(viet) / sizeof(viet[0]); i++)
			if (cp <= viet[i].last)
				return viet[i].base;
	return NULL;
}

/*
 * Decodes the non-ASCII sequence at S (N >= 1 bytes left). Returns its
 * length with *cp set, or, for an ill-formed one, the length of its maximal
 * subpart (at least 1) with *cp set to UINT32_MAX.
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need, i;
	uint32_t v;

	*cp = UINT32_MAX;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		need = 1;
		v = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		need = 2;
		v = s[0] & 0x0F;
		if (s[0] == 0xE0)
			lo = 0xA0;		/* no overlongs */
		else if (s[0] == 0xED)
			hi = 0x9F;		/* no surrogates */
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		need = 3;
		v = s[0] & 0x07;
		if (s[0] == 0xF0)
			lo = 0x90;		/* no overlongs */
		else if (s[0] == 0xF4)
			hi = 0x8F;		/* nothing past U+10FFFF */
	} else {
		return 1;			/* 80..C1, F5..FF */
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return i;
		v = (v << 6) | (s[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = v;
	return need + 1;
}

/*
 * Appends the LEN bytes at S to OUT at *o when they fit with room left for
 * the NUL. Returns 0, or -1 (nothing written) when they do not.
 */
static int
put(char *out, size_t outsize, size_t *o, const char *s, size_t len)
{
	if (outsize - *o <= len)
		return -1;
	memcpy(out + *o, s, len);
	*o += len;
	return 0;
}

long
fold_text(const char *in, size_t n, char *out, size_t outsize)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0;

	if (outsize == 0)
		return -1;
	while (i < n) {
		const char *m;
		uint32_t cp;
		size_t len;
		int rc;

		if (s[i] < 0x80) {
			if (outsize - o <= 1)
				goto full;
			out[o++] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : (char)s[i];
			i++;
			continue;
		}
		len = utf8_decode(s + i, n - i, &cp);
		if (cp == UINT32_MAX)
			rc = put(out, outsize, &o, replacement, sizeof(replacement));
		else if (cp >= MARKS_FIRST && cp <= MARKS_LAST)
			rc = 0;
		else if ((m = fold_letter(cp)) != NULL)
			rc = put(out, outsize, &o, m, strlen(m));
		else
			rc = put(out, outsize, &o, in + i, len);
		if (rc)
			goto full;
		i += len;
	}
	out[o] = '\0';
	return (long)o;
full:
	out[o] = '\0';
	return -1;
}
