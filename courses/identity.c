/* identity.c - see identity.h. */
#include <stdint.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/identity.h"

static const char *const role_names[] = {
	[ROLE_NONE] = "none",
	[ROLE_LEARNER] = "learner",
	[ROLE_LECTURER] = "lecturer",
	[ROLE_ADMIN] = "admin",
	[ROLE_VERIFIER] = "verifier",
	[ROLE_OPERATOR] = "operator",
};

static const char *const kind_names[] = {
	[INST_SCHOOL] = "school",
	[INST_UNIVERSITY] = "university",
	[INST_OTHER] = "other",
};

const char *
role_name(enum role r)
{
	if (r < ROLE_NONE || r > ROLE_OPERATOR)
		return "?";
	return role_names[r];
}

/* Only real roles parse: "none" is a state, never something to assign. */
int
role_parse(const char *s, enum role *out)
{
	if (s == NULL)
		return TC_EINVALID;
	for (int r = ROLE_LEARNER; r <= ROLE_OPERATOR; r++)
		if (strcmp(s, role_names[r]) == 0) {
			*out = (enum role)r;
			return 0;
		}
	return TC_EINVALID;
}

const char *
inst_kind_name(enum inst_kind k)
{
	if (k < INST_SCHOOL || k > INST_OTHER)
		return "?";
	return kind_names[k];
}

int
inst_kind_parse(const char *s, enum inst_kind *out)
{
	if (s == NULL)
		return TC_EINVALID;
	for (int k = INST_SCHOOL; k <= INST_OTHER; k++)
		if (strcmp(s, kind_names[k]) == 0) {
			*out = (enum inst_kind)k;
			return 0;
		}
	return TC_EINVALID;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
national_id_check(const char *s)
{
	size_t i;

	if (s == NULL)
		return TC_EINVALID;
	for (i = 0; i < NATIONAL_ID_LEN; i++)
		if (!is_digit(s[i]))
			return TC_EINVALID;
	return s[i] == '\0' ? 0 : TC_EINVALID;
}

int
inst_code_check(const char *s)
{
	size_t i;

	if (s == NULL)
		return TC_EINVALID;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		int alnum = is_digit(c) || (c >= 'A' && c <= 'Z');

		if (i >= INST_CODE_MAX)
			return TC_EINVALID;
		if (!alnum && (i == 0 || (c != '-' && c != '_')))
			return TC_EINVALID;
	}
	return i >= 2 ? 0 : TC_EINVALID;
}

/*
 * Decodes one UTF-8 sequence at S (N bytes left, N > 0). Returns its length
 * and stores the code point in *CP, or returns 0 when the bytes are not
 * well-formed UTF-8 (RFC 3629: shortest form only, no surrogates, nothing
 * past U+10FFFF).
 */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;	/* continuation byte, C0/C1 or F5..FF */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

int
utf8_check(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;

	if (s == NULL)
		return n == 0 ? 0 : TC_EINVALID;
	while (i < n) {
		size_t len = utf8_next(p + i, n - i, &cp);

		if (len == 0)
			return TC_EINVALID;
		i += len;
	}
	return 0;
}

/* Unicode general category Zs (space separators). */
static int
is_space_cp(uint32_t cp)
{
	return cp == 0x20 || cp == 0xA0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
	       cp == 0x205F || cp == 0x3000;
}

/* C0 controls, DEL and C1 controls. */
static int
is_control_cp(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Characters that change how text reads without being seen: bidi
 * embeddings, overrides and isolates, the zero-width space, word joiner and
 * invisible operators, line and paragraph separators, the byte order mark. */
static int
is_hidden_cp(uint32_t cp)
{
	return cp == 0x200B || (cp >= 0x2028 && cp <= 0x202E) ||
	       (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0xFEFF;
}

/* Marks that mixed-direction text and some scripts need, invisible
 * themselves: the zero-width (non-)joiner, the left-to-right, right-to-left
 * and Arabic letter marks. Allowed, but never a name alone. */
static int
is_joiner_cp(uint32_t cp)
{
	return cp == 0x200C || cp == 0x200D || cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

int
person_name_check(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i = 0;
	int visible = 0;
	uint32_t cp;

	if (s == NULL)
		return TC_EINVALID;
	n = strnlen(s, PERSON_NAME_MAX + 1);
	if (n == 0 || n > PERSON_NAME_MAX)
		return TC_EINVALID;
	while (i < n) {
		size_t len = utf8_next(p + i, n - i, &cp);

		if (len == 0 || is_control_cp(cp) || is_hidden_cp(cp))
			return TC_EINVALID;
		if (!is_space_cp(cp) && !is_joiner_cp(cp))
			visible = 1;
		i += len;
	}
	return visible ? 0 : TC_EINVALID;
}

int
email_check(const char *s)
{
	const char *at = NULL, *domain;
	size_t n, dn;

	if (s == NULL)
		return TC_EINVALID;
	n = strnlen(s, EMAIL_MAX + 1);
	if (n == 0)
		return 0;
	if (n < 3 || n > EMAIL_MAX || utf8_check(s, n) != 0)
		return TC_EINVALID;
	for (size_t i = 0; i < n;) {	/* valid UTF-8 (above) */
		uint32_t cp;
		size_t len = utf8_next((const unsigned char *)s + i, n - i, &cp);

		if (is_control_cp(cp) || is_hidden_cp(cp) || is_joiner_cp(cp))
			return TC_EINVALID;
		i += len;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7F)
			return TC_EINVALID;
		if (c == '@') {
			if (at != NULL)
				return TC_EINVALID;
			at = s + i;
		}
	}
	if (at == NULL || at == s)
		return TC_EINVALID;
	domain = at + 1;
	dn = n - (size_t)(domain - s);
	if (dn < 3 || domain[0] == '.' || domain[dn - 1] == '.' ||
	    memchr(domain, '.', dn) == NULL)
		return TC_EINVALID;
	return 0;
}

/* Parses "YYYY-MM-DD" strictly into its parts; 0 or TC_EINVALID. */
static int
date_parse(const char *s, int *y, int *m, int *d)
{
	static const char shape[] = "dddd-dd-dd";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return TC_EINVALID;
	}
	if (s[sizeof(shape) - 1] != '\0')
		return TC_EINVALID;
	*y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return (m == 2 && leap) ? 29 : days[m - 1];
}

static int
date_valid(const char *s)
{
	int y, m, d;

	if (s == NULL || date_parse(s, &y, &m, &d) != 0)
		return 0;
	return y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

int
date_check(const char *s, const char *today)
{
	if (!date_valid(s))
		return TC_EINVALID;
	if (today == NULL)
		return 0;
	if (!date_valid(today))
		return TC_EINVALID;
	/* Same fixed-width format: byte order is date order. */
	return strcmp(s, today) <= 0 ? 0 : TC_EINVALID;
}

int
student_code_check(const char *s)
{
	size_t i;

	if (s == NULL)
		return TC_EINVALID;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= STUDENT_CODE_MAX || c < 0x21 || c > 0x7E)
			return TC_EINVALID;
	}
	return 0;
}
