/*
 * xapi.c - the xAPI statement data model: validation, agent keys,
 * statement comparison and the GET formats.
 *
 * Validation walks the statement once, top down, carrying the JSON path
 * of the node it looks at ("context.contextActivities.parent[1].id"), and
 * stops at the first problem with a sentence that starts with that path.
 * Every object is checked against the list of properties the data model
 * allows for it, so a misspelt or wrongly cased key is refused like an
 * unknown one, and a null is refused wherever a value has a type (that is
 * everywhere except the values of an "extensions" object).
 *
 * The rules are listed in xapi.h, above xapi_statement_check().
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "courses/errors.h"
#include "courses/xapi.h"

#define VOIDED_VERB "http://adlnet.gov/expapi/verbs/voided"
#define PATH_MAX_LEN 256

struct ck {
	enum xapi_version v;
	char *err;
	size_t errlen;
};

/* ---- small helpers ------------------------------------------------------ */

static int
fail(struct ck *c, const char *path, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen > 0)
		snprintf(c->err, c->errlen, "%s: %s", path[0] ? path : "statement", msg);
	return TC_EINVALID;
}

/* Appends SRC to OUT (size N, holding LEN bytes), truncating. */
static size_t
append(char *out, size_t n, size_t len, const char *src)
{
	while (*src && len + 1 < n)
		out[len++] = *src++;
	out[len] = '\0';
	return len;
}

/* OUT = PARENT.KEY (or KEY at the root); truncated silently when long. */
static void
join(char *out, size_t n, const char *parent, const char *key)
{
	size_t len = append(out, n, 0, parent);

	if (parent[0] != '\0')
		len = append(out, n, len, ".");
	append(out, n, len, key);
}

/* OUT = PARENT[I]. */
static void
join_idx(char *out, size_t n, const char *parent, size_t i)
{
	char idx[24];
	size_t len = append(out, n, 0, parent);

	snprintf(idx, sizeof(idx), "[%zu]", i);
	append(out, n, len, idx);
}

static int
is_hex(int ch)
{
	return isxdigit((unsigned char)ch);
}

static int
is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int
is_alnum(int ch)
{
	return is_alpha(ch) || is_digit(ch);
}

/* Refuses a key of OBJ that is not in ALLOWED (NULL-terminated). */
static int
only_keys(struct ck *c, const char *path, const json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *val;
	char p[PATH_MAX_LEN];

	json_object_foreach((json_t *)obj, key, val) {
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (!allowed[i]) {
			join(p, sizeof(p), path, key);
			return fail(c, p, "is not a property allowed here");
		}
	}
	return 0;
}

/* ---- formats ------------------------------------------------------------ */

int
xapi_uuid_valid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t i, d = 0;

	if (!s || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (!is_hex(s[i])) {
			return 0;
		}
	}
	return 1;
}

/* 1 when S is an absolute IRI as far as the data model needs: a scheme,
 * ':' and a non-empty rest without spaces, controls or delimiters that an
 * IRI never holds unescaped. */
static int
iri_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s || !is_alpha(*p))
		return 0;
	while (is_alnum(*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || p[1] == '\0')
		return 0;
	for (p++; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("<>\"{}|\\^`", *p))
			return 0;
	}
	return 1;
}

/* "mailto:" local "@" domain, both parts non-empty, no spaces. */
static int
mbox_valid(const char *s)
{
	const char *at;

	if (!s || strncmp(s, "mailto:", 7) != 0 || !iri_valid(s))
		return 0;
	s += 7;
	at = strchr(s, '@');
	return at && at > s && at[1] != '\0' && !strchr(at + 1, '@');
}

static int
hex_len_valid(const char *s, size_t want)
{
	size_t i;

	if (!s || strlen(s) != want)
		return 0;
	for (i = 0; i < want; i++)
		if (!is_hex(s[i]))
			return 0;
	return 1;
}

/* type "/" subtype [; params], RFC 6838 restricted names. */
static int
media_type_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	while (is_alnum(s[n]) || (n > 0 && s[n] && strchr("!#$&-^_.+", s[n])))
		n++;
	if (n == 0 || s[n] != '/')
		return 0;
	s += n + 1;
	n = 0;
	while (is_alnum(s[n]) || (n > 0 && s[n] && strchr("!#$&-^_.+", s[n])))
		n++;
	if (n == 0)
		return 0;
	s += n;
	while (*s == ' ')
		s++;
	return *s == '\0' || *s == ';';
}

/* ---- RFC 5646 language tags --------------------------------------------- */

static const char *const lang_grandfathered[] = {
	"en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak",
	"i-klingon", "i-lux", "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay",
	"i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",
	"art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka",
	"zh-min", "zh-min-nan", "zh-xiang", NULL
};

#define LANG_MAX_SUBTAGS 32

/* Splits S at '-' into SUB (pointers) and LEN; 0 when a subtag is empty,
 * longer than 8, not alphanumeric, or there are too many. */
static int
lang_split(const char *s, const char **sub, size_t *len, size_t *count)
{
	size_t n = 0;

	for (;;) {
		size_t l = 0;

		while (s[l] && s[l] != '-') {
			if (!is_alnum(s[l]))
				return 0;
			l++;
		}
		if (l == 0 || l > 8 || n == LANG_MAX_SUBTAGS)
			return 0;
		sub[n] = s;
		len[n] = l;
		n++;
		if (s[l] == '\0')
			break;
		s += l + 1;
	}
	*count = n;
	return 1;
}

static int
all_of(const char *s, size_t n, int (*is)(int))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is(s[i]))
			return 0;
	return 1;
}

static int
same_ci(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && strncasecmp(a, b, an) == 0;
}

/* privateuse = "x" 1*("-" 1*8alphanum), from subtag I on. */
static int
lang_private(size_t i, size_t n, const size_t *len)
{
	(void)len;
	return i + 1 < n;		/* lengths 1..8 were checked by lang_split */
}

int
xapi_lang_tag_valid(const char *s)
{
	const char *sub[LANG_MAX_SUBTAGS];
	size_t len[LANG_MAX_SUBTAGS], n, i = 0, j;
	char singletons[64] = "";
	size_t nsingle = 0;

	if (!s || strlen(s) > 255)
		return 0;
	for (j = 0; lang_grandfathered[j]; j++)
		if (strcasecmp(s, lang_grandfathered[j]) == 0)
			return 1;
	if (!lang_split(s, sub, len, &n))
		return 0;
	if (same_ci(sub[0], len[0], "x", 1))
		return lang_private(0, n, len);
	/* language */
	if (len[0] < 2 || !all_of(sub[0], len[0], is_alpha))
		return 0;
	i = 1;
	if (len[0] <= 3) {		/* extlang: up to three 3ALPHA */
		for (j = 0; j < 3 && i < n && len[i] == 3 && all_of(sub[i], 3, is_alpha); j++)
			i++;
	}
	if (i < n && len[i] == 4 && all_of(sub[i], 4, is_alpha))	/* script */
		i++;
	if (i < n && ((len[i] == 2 && all_of(sub[i], 2, is_alpha)) ||
		      (len[i] == 3 && all_of(sub[i], 3, is_digit))))		/* region */
		i++;
	/* variants: 5*8alphanum / DIGIT 3alphanum, no repeats */
	for (; i < n; i++) {
		if (!((len[i] >= 5) || (len[i] == 4 && is_digit(sub[i][0]))))
			break;
		for (j = 0; j < i; j++)
			if (same_ci(sub[i], len[i], sub[j], len[j]))
				return 0;
	}
	/* extensions: singleton 1*("-" 2*8alphanum), singletons unique */
	while (i < n && len[i] == 1 && !same_ci(sub[i], 1, "x", 1)) {
		char low = (char)tolower((unsigned char)sub[i][0]);

		if (memchr(singletons, low, nsingle))
			return 0;
		if (nsingle < sizeof(singletons))
			singletons[nsingle++] = low;
		i++;
		if (i >= n || len[i] < 2)
			return 0;
		while (i < n && len[i] >= 2)
			i++;
	}
	if (i < n && same_ci(sub[i], len[i], "x", 1))
		return lang_private(i, n, len);
	return i == n;
}

/* ---- time --------------------------------------------------------------- */

static int
digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

/* Days from 1970-01-01 to Y-M-D (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
month_days(int y, int m)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

/* Parses S; *HAS_OFFSET tells whether a zone designator was given. */
static int
timestamp_parse2(const char *s, int64_t *out_us, int *has_offset)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t us = 0, t;
	const char *p;

	if (!s || strlen(s) < 19)
		return TC_EINVALID;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !digits(s + 17, 2, &sec))
		return TC_EINVALID;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 60)
		return TC_EINVALID;
	p = s + 19;
	if (*p == '.') {
		int n = 0;

		p++;
		if (!is_digit(*p))
			return TC_EINVALID;
		for (; is_digit(*p); p++, n++)
			if (n < 6)
				us = us * 10 + (*p - '0');
		for (; n < 6; n++)
			us *= 10;
	}
	*has_offset = 1;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (!digits(p + 1, 2, &oh))
			return TC_EINVALID;
		p += 3;
		if (*p == ':') {
			if (!digits(p + 1, 2, &om))
				return TC_EINVALID;
			p += 3;
		} else if (is_digit(*p)) {
			if (!digits(p, 2, &om))
				return TC_EINVALID;
			p += 2;
		}
		if (oh > 23 || om > 59)
			return TC_EINVALID;
		if (sign < 0 && oh == 0 && om == 0)	/* RFC 3339 "unknown offset" */
			return TC_EINVALID;
	} else {
		*has_offset = 0;
	}
	if (*p != '\0')
		return TC_EINVALID;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= (int64_t)sign * (oh * 3600 + om * 60);
	if (out_us)
		*out_us = t * 1000000 + us;
	return 0;
}

int
xapi_timestamp_parse(const char *s, int64_t *out_us)
{
	int has_offset;

	return timestamp_parse2(s, out_us, &has_offset);
}

/*
 * ISO 8601 duration, format of 4.4.3.2: P[nY][nM][nD][T[nH][nM][nS]] with
 * at least one element, or PnW alone. A decimal fraction is allowed on the
 * last element only.
 */
static int
duration_valid(const char *s)
{
	static const char date_units[] = "YMD", time_units[] = "HMS";
	const char *units;
	size_t next = 0;
	int any = 0, in_time = 0, fraction = 0;

	if (!s || *s++ != 'P' || *s == '\0')
		return 0;
	{
		const char *q = s;

		while (is_digit(*q))
			q++;
		if (q > s && *q == 'W')
			return q[1] == '\0';
	}
	units = date_units;
	while (*s) {
		const char *u;
		int n = 0;

		if (*s == 'T') {
			if (in_time)
				return 0;
			in_time = 1;
			units = time_units;
			next = 0;
			s++;
			if (*s == '\0')
				return 0;
			continue;
		}
		if (fraction)
			return 0;	/* a fraction was not on the last element */
		while (is_digit(*s)) {
			s++;
			n++;
		}
		if (*s == '.' || *s == ',') {
			int f = 0;

			s++;
			while (is_digit(*s)) {
				s++;
				f++;
			}
			if (f == 0 || n == 0)
				return 0;
			fraction = 1;
		}
		if (n == 0 || *s == '\0')
			return 0;
		u = strchr(units + next, *s);
		if (!u)
			return 0;
		next = (size_t)(u - units) + 1;
		any = 1;
		s++;
	}
	return any;
}

/* ---- statement validation ---------------------------------------------- */

static int check_statement_body(struct ck *c, const char *path, const json_t *s, int sub);

static int
want_string(struct ck *c, const char *path, const json_t *v)
{
	if (!json_is_string(v))
		return fail(c, path, "must be a string");
	return 0;
}

static int
check_iri(struct ck *c, const char *path, const json_t *v, const char *what)
{
	if (!json_is_string(v) || !iri_valid(json_string_value(v)))
		return fail(c, path, "must be %s with a scheme", what);
	return 0;
}

static int
check_uuid(struct ck *c, const char *path, const json_t *v)
{
	if (!json_is_string(v) || !xapi_uuid_valid(json_string_value(v)))
		return fail(c, path, "must be a UUID (8-4-4-4-12 hex digits)");
	return 0;
}

static int
check_timestamp(struct ck *c, const char *path, const json_t *v)
{
	int has_offset = 0;

	if (!json_is_string(v) || timestamp_parse2(json_string_value(v), NULL, &has_offset) != 0)
		return fail(c, path, "must be an ISO 8601 date and time with a valid offset");
	if (c->v == XAPI_V2 && !has_offset)
		return fail(c, path, "must include a time zone offset (\"Z\" or +hh:mm)");
	return 0;
}

static int
check_langmap(struct ck *c, const char *path, const json_t *v)
{
	const char *key;
	json_t *val;
	char p[PATH_MAX_LEN];

	if (!json_is_object(v))
		return fail(c, path, "must be a language map (an object)");
	json_object_foreach((json_t *)v, key, val) {
		join(p, sizeof(p), path, key);
		if (!xapi_lang_tag_valid(key))
			return fail(c, p, "is not an RFC 5646 language tag");
		if (!json_is_string(val))
			return fail(c, p, "must be a string");
	}
	return 0;
}

static int
check_extensions(struct ck *c, const char *path, const json_t *v)
{
	const char *key;
	json_t *val;
	char p[PATH_MAX_LEN];

	if (!json_is_object(v))
		return fail(c, path, "must be an object");
	json_object_foreach((json_t *)v, key, val) {
		if (!iri_valid(key)) {
			join(p, sizeof(p), path, key);
			return fail(c, p, "an extension key must be an IRI");
		}
	}
	return 0;
}

/* Counts and checks the IFIs of agent or group A; *N receives how many. */
static int
check_ifis(struct ck *c, const char *path, const json_t *a, int *n)
{
	static const char *const acct_keys[] = { "homePage", "name", NULL };
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	json_t *v;
	int rc;

	*n = 0;
	if ((v = json_object_get(a, "mbox"))) {
		join(p, sizeof(p), path, "mbox");
		if (!json_is_string(v) || !mbox_valid(json_string_value(v)))
			return fail(c, p, "must be a mailto: IRI with an email address");
		(*n)++;
	}
	if ((v = json_object_get(a, "mbox_sha1sum"))) {
		join(p, sizeof(p), path, "mbox_sha1sum");
		if (!json_is_string(v) || !hex_len_valid(json_string_value(v), 40))
			return fail(c, p, "must be a SHA-1 digest in 40 hex digits");
		(*n)++;
	}
	if ((v = json_object_get(a, "openid"))) {
		join(p, sizeof(p), path, "openid");
		if ((rc = check_iri(c, p, v, "a URI")))
			return rc;
		(*n)++;
	}
	if ((v = json_object_get(a, "account"))) {
		join(p, sizeof(p), path, "account");
		if (!json_is_object(v))
			return fail(c, p, "must be an object with homePage and name");
		if ((rc = only_keys(c, p, v, acct_keys)))
			return rc;
		join(q, sizeof(q), p, "homePage");
		if (!json_object_get(v, "homePage"))
			return fail(c, q, "is required");
		if ((rc = check_iri(c, q, json_object_get(v, "homePage"), "an IRL")))
			return rc;
		join(q, sizeof(q), p, "name");
		if (!json_object_get(v, "name"))
			return fail(c, q, "is required");
		if ((rc = want_string(c, q, json_object_get(v, "name"))))
			return rc;
		(*n)++;
	}
	return 0;
}

enum actor_kind { ACTOR_ANY, ACTOR_AGENT, ACTOR_GROUP, ACTOR_IDENTIFIED, ACTOR_AUTHORITY };

static int check_actor(struct ck *c, const char *path, const json_t *a, enum actor_kind kind,
		       int need_type);

static int
check_agent(struct ck *c, const char *path, const json_t *a)
{
	static const char *const keys[] = {
		"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", NULL
	};
	char p[PATH_MAX_LEN];
	json_t *v;
	int rc, n;

	if ((rc = only_keys(c, path, a, keys)))
		return rc;
	if ((v = json_object_get(a, "name"))) {
		join(p, sizeof(p), path, "name");
		if ((rc = want_string(c, p, v)))
			return rc;
	}
	if ((rc = check_ifis(c, path, a, &n)))
		return rc;
	if (n != 1)
		return fail(c, path, "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account (has %d)", n);
	return 0;
}

static int
check_group(struct ck *c, const char *path, const json_t *g, enum actor_kind kind)
{
	static const char *const keys[] = {
		"objectType", "name", "member", "mbox", "mbox_sha1sum", "openid", "account", NULL
	};
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	json_t *v, *m;
	size_t i;
	int rc, n;

	if ((rc = only_keys(c, path, g, keys)))
		return rc;
	if ((v = json_object_get(g, "name"))) {
		join(p, sizeof(p), path, "name");
		if ((rc = want_string(c, p, v)))
			return rc;
	}
	if ((rc = check_ifis(c, path, g, &n)))
		return rc;
	if (n > 1)
		return fail(c, path, "a Group may use only one of mbox, mbox_sha1sum, openid, account (has %d)", n);
	m = json_object_get(g, "member");
	join(p, sizeof(p), path, "member");
	if (kind == ACTOR_AUTHORITY) {
		if (n != 0)
			return fail(c, path, "an authority Group must be anonymous (no IFI)");
		if (!json_is_array(m) || json_array_size(m) != 2)
			return fail(c, p, "an authority Group must have exactly two members");
	}
	if (kind == ACTOR_IDENTIFIED && n != 1)
		return fail(c, path, "must be an Agent or an identified Group");
	if (n == 0 && !m)
		return fail(c, p, "is required for an anonymous Group");
	if (m) {
		if (!json_is_array(m))
			return fail(c, p, "must be an array of Agents");
		json_array_foreach(m, i, v) {
			join_idx(q, sizeof(q), p, i);
			if ((rc = check_actor(c, q, v, ACTOR_AGENT, 0)))
				return rc;
		}
	}
	return 0;
}

/* An Agent or Group at PATH; NEED_TYPE when objectType must be present. */
static int
check_actor(struct ck *c, const char *path, const json_t *a, enum actor_kind kind, int need_type)
{
	char p[PATH_MAX_LEN];
	json_t *t;
	const char *type = "Agent";

	if (!json_is_object(a))
		return fail(c, path, "must be an Agent or Group object");
	t = json_object_get(a, "objectType");
	join(p, sizeof(p), path, "objectType");
	if (t) {
		if (!json_is_string(t))
			return fail(c, p, "must be a string");
		type = json_string_value(t);
	} else if (need_type) {
		return fail(c, p, "is required");
	}
	if (strcmp(type, "Agent") == 0) {
		if (kind == ACTOR_GROUP)
			return fail(c, p, "must be \"Group\"");
		return check_agent(c, path, a);
	}
	if (strcmp(type, "Group") == 0) {
		if (kind == ACTOR_AGENT)
			return fail(c, p, "must be \"Agent\"");
		return check_group(c, path, a, kind);
	}
	return fail(c, p, kind == ACTOR_AGENT ? "must be \"Agent\"" :
		    kind == ACTOR_GROUP ? "must be \"Group\"" : "must be \"Agent\" or \"Group\"");
}

static int
check_verb(struct ck *c, const char *path, const json_t *v)
{
	static const char *const keys[] = { "id", "display", NULL };
	char p[PATH_MAX_LEN];
	json_t *x;
	int rc;

	if (!json_is_object(v))
		return fail(c, path, "must be an object");
	if ((rc = only_keys(c, path, v, keys)))
		return rc;
	join(p, sizeof(p), path, "id");
	if (!(x = json_object_get(v, "id")))
		return fail(c, p, "is required");
	if ((rc = check_iri(c, p, x, "an IRI")))
		return rc;
	if ((x = json_object_get(v, "display"))) {
		join(p, sizeof(p), path, "display");
		return check_langmap(c, p, x);
	}
	return 0;
}

static int
check_components(struct ck *c, const char *path, const json_t *list)
{
	static const char *const keys[] = { "id", "description", NULL };
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	json_t *comp, *id, *other;
	size_t i, j;
	int rc;

	if (!json_is_array(list))
		return fail(c, path, "must be an array of interaction components");
	json_array_foreach(list, i, comp) {
		join_idx(p, sizeof(p), path, i);
		if (!json_is_object(comp))
			return fail(c, p, "must be an object");
		if ((rc = only_keys(c, p, comp, keys)))
			return rc;
		join(q, sizeof(q), p, "id");
		id = json_object_get(comp, "id");
		if (!id)
			return fail(c, q, "is required");
		if (!json_is_string(id) || json_string_length(id) == 0)
			return fail(c, q, "must be a non-empty string");
		for (j = 0; j < i; j++) {
			other = json_object_get(json_array_get(list, j), "id");
			if (json_equal(id, other))
				return fail(c, q, "repeats the id of component %zu", j);
		}
		if (json_object_get(comp, "description")) {
			join(q, sizeof(q), p, "description");
			if ((rc = check_langmap(c, q, json_object_get(comp, "description"))))
				return rc;
		}
	}
	return 0;
}

static int
check_definition(struct ck *c, const char *path, const json_t *d)
{
	static const char *const keys[] = {
		"name", "description", "type", "moreInfo", "interactionType",
		"correctResponsesPattern", "choices", "scale", "source", "target",
		"steps", "extensions", NULL
	};
	static const char *const types[] = {
		"true-false", "choice", "fill-in", "long-fill-in", "matching",
		"performance", "sequencing", "likert", "numeric", "other", NULL
	};
	/* which component lists each interaction type may carry */
	static const struct { const char *type, *lists[3]; } allowed[] = {
		{ "choice", { "choices", NULL, NULL } },
		{ "sequencing", { "choices", NULL, NULL } },
		{ "likert", { "scale", NULL, NULL } },
		{ "matching", { "source", "target", NULL } },
		{ "performance", { "steps", NULL, NULL } },
	};
	static const char *const lists[] = { "choices", "scale", "source", "target", "steps", NULL };
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	const char *itype = NULL;
	json_t *v, *e;
	size_t i, k;
	int rc;

	if (!json_is_object(d))
		return fail(c, path, "must be an object");
	if ((rc = only_keys(c, path, d, keys)))
		return rc;
	if ((v = json_object_get(d, "name"))) {
		join(p, sizeof(p), path, "name");
		if ((rc = check_langmap(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(d, "description"))) {
		join(p, sizeof(p), path, "description");
		if ((rc = check_langmap(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(d, "type"))) {
		join(p, sizeof(p), path, "type");
		if ((rc = check_iri(c, p, v, "an IRI")))
			return rc;
	}
	if ((v = json_object_get(d, "moreInfo"))) {
		join(p, sizeof(p), path, "moreInfo");
		if ((rc = check_iri(c, p, v, "an IRL")))
			return rc;
	}
	if ((v = json_object_get(d, "extensions"))) {
		join(p, sizeof(p), path, "extensions");
		if ((rc = check_extensions(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(d, "interactionType"))) {
		join(p, sizeof(p), path, "interactionType");
		for (i = 0; types[i]; i++)
			if (json_is_string(v) && strcmp(json_string_value(v), types[i]) == 0)
				break;
		if (!types[i])
			return fail(c, p, "must be one of true-false, choice, fill-in, long-fill-in, "
				    "matching, performance, sequencing, likert, numeric, other");
		itype = types[i];
	}
	if ((v = json_object_get(d, "correctResponsesPattern"))) {
		join(p, sizeof(p), path, "correctResponsesPattern");
		if (!itype)
			return fail(c, p, "needs an interactionType");
		if (!json_is_array(v))
			return fail(c, p, "must be an array of strings");
		json_array_foreach(v, i, e) {
			join_idx(q, sizeof(q), p, i);
			if ((rc = want_string(c, q, e)))
				return rc;
		}
	}
	for (k = 0; lists[k]; k++) {
		int ok = 0;

		if (!(v = json_object_get(d, lists[k])))
			continue;
		join(p, sizeof(p), path, lists[k]);
		if (!itype)
			return fail(c, p, "needs an interactionType");
		for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			if (strcmp(allowed[i].type, itype) == 0 &&
			    ((allowed[i].lists[0] && strcmp(allowed[i].lists[0], lists[k]) == 0) ||
			     (allowed[i].lists[1] && strcmp(allowed[i].lists[1], lists[k]) == 0)))
				ok = 1;
		if (!ok)
			return fail(c, p, "is not used with interactionType \"%s\"", itype);
		if ((rc = check_components(c, p, v)))
			return rc;
	}
	return 0;
}

static int
check_activity(struct ck *c, const char *path, const json_t *a)
{
	static const char *const keys[] = { "objectType", "id", "definition", NULL };
	char p[PATH_MAX_LEN];
	json_t *v;
	int rc;

	if (!json_is_object(a))
		return fail(c, path, "must be an Activity object");
	if ((rc = only_keys(c, path, a, keys)))
		return rc;
	join(p, sizeof(p), path, "objectType");
	v = json_object_get(a, "objectType");
	if (v && !(json_is_string(v) && strcmp(json_string_value(v), "Activity") == 0))
		return fail(c, p, "must be \"Activity\"");
	join(p, sizeof(p), path, "id");
	if (!(v = json_object_get(a, "id")))
		return fail(c, p, "is required");
	if ((rc = check_iri(c, p, v, "an IRI")))
		return rc;
	if ((v = json_object_get(a, "definition"))) {
		join(p, sizeof(p), path, "definition");
		return check_definition(c, p, v);
	}
	return 0;
}

static int
check_statement_ref(struct ck *c, const char *path, const json_t *r)
{
	static const char *const keys[] = { "objectType", "id", NULL };
	char p[PATH_MAX_LEN];
	json_t *v;
	int rc;

	if (!json_is_object(r))
		return fail(c, path, "must be a StatementRef object");
	if ((rc = only_keys(c, path, r, keys)))
		return rc;
	join(p, sizeof(p), path, "objectType");
	v = json_object_get(r, "objectType");
	if (!v || !json_is_string(v) || strcmp(json_string_value(v), "StatementRef") != 0)
		return fail(c, p, "must be \"StatementRef\"");
	join(p, sizeof(p), path, "id");
	if (!(v = json_object_get(r, "id")))
		return fail(c, p, "is required");
	return check_uuid(c, p, v);
}

/* "Activity" when absent; NULL when not a string. */
static const char *
object_type(const json_t *o)
{
	json_t *t = json_object_get(o, "objectType");

	if (!t)
		return "Activity";
	return json_is_string(t) ? json_string_value(t) : NULL;
}

static int
check_object(struct ck *c, const char *path, const json_t *o, int sub)
{
	char p[PATH_MAX_LEN];
	const char *type;

	if (!json_is_object(o))
		return fail(c, path, "must be an object");
	type = object_type(o);
	join(p, sizeof(p), path, "objectType");
	if (!type)
		return fail(c, p, "must be a string");
	if (strcmp(type, "Activity") == 0)
		return check_activity(c, path, o);
	if (strcmp(type, "Agent") == 0 || strcmp(type, "Group") == 0)
		return check_actor(c, path, o, ACTOR_ANY, 1);
	if (strcmp(type, "StatementRef") == 0)
		return check_statement_ref(c, path, o);
	if (strcmp(type, "SubStatement") == 0) {
		if (sub)
			return fail(c, p, "a SubStatement cannot contain a SubStatement");
		return check_statement_body(c, path, o, 1);
	}
	return fail(c, p, "must be one of Activity, Agent, Group, StatementRef, SubStatement");
}

static int
check_score(struct ck *c, const char *path, const json_t *s)
{
	static const char *const keys[] = { "scaled", "raw", "min", "max", NULL };
	char p[PATH_MAX_LEN];
	json_t *scaled, *raw, *min, *max;
	size_t i;
	int rc;

	if (!json_is_object(s))
		return fail(c, path, "must be an object");
	if ((rc = only_keys(c, path, s, keys)))
		return rc;
	for (i = 0; keys[i]; i++) {
		json_t *v = json_object_get(s, keys[i]);

		join(p, sizeof(p), path, keys[i]);
		if (v && !json_is_number(v))
			return fail(c, p, "must be a number");
	}
	scaled = json_object_get(s, "scaled");
	raw = json_object_get(s, "raw");
	min = json_object_get(s, "min");
	max = json_object_get(s, "max");
	join(p, sizeof(p), path, "scaled");
	if (scaled && (json_number_value(scaled) < -1.0 || json_number_value(scaled) > 1.0))
		return fail(c, p, "must be between -1 and 1");
	join(p, sizeof(p), path, "min");
	if (min && max && json_number_value(min) > json_number_value(max))
		return fail(c, p, "must not be greater than max");
	join(p, sizeof(p), path, "raw");
	if (raw && min && json_number_value(raw) < json_number_value(min))
		return fail(c, p, "must not be less than min");
	if (raw && max && json_number_value(raw) > json_number_value(max))
		return fail(c, p, "must not be greater than max");
	return 0;
}

static int
check_result(struct ck *c, const char *path, const json_t *r)
{
	static const char *const keys[] = {
		"score", "success", "completion", "response", "duration", "extensions", NULL
	};
	char p[PATH_MAX_LEN];
	json_t *v;
	int rc;

	if (!json_is_object(r))
		return fail(c, path, "must be an object");
	if ((rc = only_keys(c, path, r, keys)))
		return rc;
	if ((v = json_object_get(r, "score"))) {
		join(p, sizeof(p), path, "score");
		if ((rc = check_score(c, p, v)))
			return rc;
	}
	join(p, sizeof(p), path, "success");
	if ((v = json_object_get(r, "success")) && !json_is_boolean(v))
		return fail(c, p, "must be true or false");
	join(p, sizeof(p), path, "completion");
	if ((v = json_object_get(r, "completion")) && !json_is_boolean(v))
		return fail(c, p, "must be true or false");
	join(p, sizeof(p), path, "response");
	if ((v = json_object_get(r, "response")) && (rc = want_string(c, p, v)))
		return rc;
	join(p, sizeof(p), path, "duration");
	if ((v = json_object_get(r, "duration")) &&
	    (!json_is_string(v) || !duration_valid(json_string_value(v))))
		return fail(c, p, "must be an ISO 8601 duration such as PT1H30M0.5S");
	if ((v = json_object_get(r, "extensions"))) {
		join(p, sizeof(p), path, "extensions");
		return check_extensions(c, p, v);
	}
	return 0;
}

static int
check_relevant_types(struct ck *c, const char *path, const json_t *v)
{
	char p[PATH_MAX_LEN];
	json_t *e;
	size_t i;
	int rc;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return fail(c, path, "must be a non-empty array of IRIs");
	json_array_foreach(v, i, e) {
		join_idx(p, sizeof(p), path, i);
		if ((rc = check_iri(c, p, e, "an IRI")))
			return rc;
	}
	return 0;
}

/* contextAgents (GROUPS == 0) or contextGroups (GROUPS == 1), xAPI 2.0. */
static int
check_context_actors(struct ck *c, const char *path, const json_t *list, int groups)
{
	static const char *const akeys[] = { "objectType", "agent", "relevantTypes", NULL };
	static const char *const gkeys[] = { "objectType", "group", "relevantTypes", NULL };
	const char *otype = groups ? "contextGroup" : "contextAgent";
	const char *member = groups ? "group" : "agent";
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	json_t *e, *v;
	size_t i;
	int rc;

	if (!json_is_array(list))
		return fail(c, path, "must be an array of %s objects", otype);
	json_array_foreach(list, i, e) {
		join_idx(p, sizeof(p), path, i);
		if (!json_is_object(e))
			return fail(c, p, "must be a %s object", otype);
		if ((rc = only_keys(c, p, e, groups ? gkeys : akeys)))
			return rc;
		join(q, sizeof(q), p, "objectType");
		v = json_object_get(e, "objectType");
		if (!json_is_string(v) || strcmp(json_string_value(v), otype) != 0)
			return fail(c, q, "must be \"%s\"", otype);
		join(q, sizeof(q), p, member);
		if (!(v = json_object_get(e, member)))
			return fail(c, q, "is required");
		if ((rc = check_actor(c, q, v, groups ? ACTOR_GROUP : ACTOR_AGENT, groups)))
			return rc;
		if ((v = json_object_get(e, "relevantTypes"))) {
			join(q, sizeof(q), p, "relevantTypes");
			if ((rc = check_relevant_types(c, q, v)))
				return rc;
		}
	}
	return 0;
}

static int
check_context_activities(struct ck *c, const char *path, const json_t *ca)
{
	static const char *const keys[] = { "parent", "grouping", "category", "other", NULL };
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	const char *key;
	json_t *v, *e;
	size_t i;
	int rc;

	if (!json_is_object(ca))
		return fail(c, path, "must be an object");
	if ((rc = only_keys(c, path, ca, keys)))
		return rc;
	json_object_foreach((json_t *)ca, key, v) {
		join(p, sizeof(p), path, key);
		if (json_is_object(v)) {
			if ((rc = check_activity(c, p, v)))
				return rc;
			continue;
		}
		if (!json_is_array(v))
			return fail(c, p, "must be an Activity or an array of Activities");
		json_array_foreach(v, i, e) {
			join_idx(q, sizeof(q), p, i);
			if ((rc = check_activity(c, q, e)))
				return rc;
		}
	}
	return 0;
}

static int
check_context(struct ck *c, const char *path, const json_t *x, const json_t *object)
{
	static const char *const keys1[] = {
		"registration", "instructor", "team", "contextActivities", "revision",
		"platform", "language", "statement", "extensions", NULL
	};
	static const char *const keys2[] = {
		"registration", "instructor", "team", "contextActivities", "revision",
		"platform", "language", "statement", "extensions", "contextAgents",
		"contextGroups", NULL
	};
	const char *otype = object_type(object);
	int is_activity = otype && strcmp(otype, "Activity") == 0;
	char p[PATH_MAX_LEN];
	json_t *v;
	int rc;

	if (!json_is_object(x))
		return fail(c, path, "must be an object");
	if ((rc = only_keys(c, path, x, c->v == XAPI_V2 ? keys2 : keys1)))
		return rc;
	if ((v = json_object_get(x, "registration"))) {
		join(p, sizeof(p), path, "registration");
		if ((rc = check_uuid(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(x, "instructor"))) {
		join(p, sizeof(p), path, "instructor");
		if ((rc = check_actor(c, p, v, ACTOR_ANY, 0)))
			return rc;
	}
	if ((v = json_object_get(x, "team"))) {
		join(p, sizeof(p), path, "team");
		if ((rc = check_actor(c, p, v, ACTOR_GROUP, 1)))
			return rc;
	}
	if ((v = json_object_get(x, "contextActivities"))) {
		join(p, sizeof(p), path, "contextActivities");
		if ((rc = check_context_activities(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(x, "revision"))) {
		join(p, sizeof(p), path, "revision");
		if ((rc = want_string(c, p, v)))
			return rc;
		if (!is_activity)
			return fail(c, p, "is allowed only when the object is an Activity");
	}
	if ((v = json_object_get(x, "platform"))) {
		join(p, sizeof(p), path, "platform");
		if ((rc = want_string(c, p, v)))
			return rc;
		if (!is_activity)
			return fail(c, p, "is allowed only when the object is an Activity");
	}
	if ((v = json_object_get(x, "language"))) {
		join(p, sizeof(p), path, "language");
		if (!json_is_string(v) || !xapi_lang_tag_valid(json_string_value(v)))
			return fail(c, p, "must be an RFC 5646 language tag");
	}
	if ((v = json_object_get(x, "statement"))) {
		join(p, sizeof(p), path, "statement");
		if ((rc = check_statement_ref(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(x, "extensions"))) {
		join(p, sizeof(p), path, "extensions");
		if ((rc = check_extensions(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(x, "contextAgents"))) {
		join(p, sizeof(p), path, "contextAgents");
		if ((rc = check_context_actors(c, p, v, 0)))
			return rc;
	}
	if ((v = json_object_get(x, "contextGroups"))) {
		join(p, sizeof(p), path, "contextGroups");
		if ((rc = check_context_actors(c, p, v, 1)))
			return rc;
	}
	return 0;
}

static int
check_attachment(struct ck *c, const char *path, const json_t *a)
{
	static const char *const keys[] = {
		"usageType", "display", "description", "contentType", "length",
		"sha2", "fileUrl", NULL
	};
	static const char *const required[] = {
		"usageType", "display", "contentType", "length", "sha2", NULL
	};
	char p[PATH_MAX_LEN];
	const char *sha;
	json_t *v;
	size_t i, n;
	int rc;

	if (!json_is_object(a))
		return fail(c, path, "must be an Attachment object");
	if ((rc = only_keys(c, path, a, keys)))
		return rc;
	for (i = 0; required[i]; i++) {
		join(p, sizeof(p), path, required[i]);
		if (!json_object_get(a, required[i]))
			return fail(c, p, "is required");
	}
	join(p, sizeof(p), path, "usageType");
	if ((rc = check_iri(c, p, json_object_get(a, "usageType"), "an IRI")))
		return rc;
	join(p, sizeof(p), path, "display");
	if ((rc = check_langmap(c, p, json_object_get(a, "display"))))
		return rc;
	if ((v = json_object_get(a, "description"))) {
		join(p, sizeof(p), path, "description");
		if ((rc = check_langmap(c, p, v)))
			return rc;
	}
	join(p, sizeof(p), path, "contentType");
	v = json_object_get(a, "contentType");
	if (!json_is_string(v) || !media_type_valid(json_string_value(v)))
		return fail(c, p, "must be an Internet media type such as text/plain");
	join(p, sizeof(p), path, "length");
	v = json_object_get(a, "length");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fail(c, p, "must be a non-negative integer");
	join(p, sizeof(p), path, "sha2");
	v = json_object_get(a, "sha2");
	sha = json_string_value(v);
	n = sha ? strlen(sha) : 0;
	if (!sha || !(n == 56 || n == 64 || n == 96 || n == 128) || !hex_len_valid(sha, n))
		return fail(c, p, "must be a SHA-2 digest in hex");
	if ((v = json_object_get(a, "fileUrl"))) {
		join(p, sizeof(p), path, "fileUrl");
		if ((rc = check_iri(c, p, v, "an IRL")))
			return rc;
	}
	return 0;
}

static int
version_valid(const char *s, enum xapi_version v)
{
	const char *rest;

	if (!s)
		return 0;
	if (strncmp(s, "1.0", 3) == 0)
		rest = s + 3;
	else if (v == XAPI_V2 && strncmp(s, "2.0", 3) == 0)
		rest = s + 3;
	else
		return 0;
	if (*rest == '\0')
		return 1;
	if (*rest++ != '.' || !is_digit(*rest))
		return 0;
	while (is_digit(*rest))
		rest++;
	return *rest == '\0';
}

/* A statement (SUB == 0) or a SubStatement (SUB == 1) at PATH. */
static int
check_statement_body(struct ck *c, const char *path, const json_t *s, int sub)
{
	static const char *const keys[] = {
		"id", "actor", "verb", "object", "result", "context", "timestamp",
		"stored", "authority", "version", "attachments", NULL
	};
	static const char *const sub_keys[] = {
		"objectType", "actor", "verb", "object", "result", "context",
		"timestamp", "attachments", NULL
	};
	static const char *const top_only[] = { "id", "stored", "version", "authority", NULL };
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	json_t *v, *e;
	size_t i;
	int rc;

	if (!json_is_object(s))
		return fail(c, path, "must be a JSON object");
	if (sub) {
		for (i = 0; top_only[i]; i++) {
			join(p, sizeof(p), path, top_only[i]);
			if (json_object_get(s, top_only[i]))
				return fail(c, p, "is not allowed in a SubStatement");
		}
	}
	if ((rc = only_keys(c, path, s, sub ? sub_keys : keys)))
		return rc;
	if ((v = json_object_get(s, "id"))) {
		join(p, sizeof(p), path, "id");
		if ((rc = check_uuid(c, p, v)))
			return rc;
	}
	join(p, sizeof(p), path, "actor");
	if (!(v = json_object_get(s, "actor")))
		return fail(c, p, "is required");
	if ((rc = check_actor(c, p, v, ACTOR_ANY, 0)))
		return rc;
	join(p, sizeof(p), path, "verb");
	if (!(v = json_object_get(s, "verb")))
		return fail(c, p, "is required");
	if ((rc = check_verb(c, p, v)))
		return rc;
	join(p, sizeof(p), path, "object");
	if (!(v = json_object_get(s, "object")))
		return fail(c, p, "is required");
	if ((rc = check_object(c, p, v, sub)))
		return rc;
	if ((v = json_object_get(s, "result"))) {
		join(p, sizeof(p), path, "result");
		if ((rc = check_result(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(s, "context"))) {
		join(p, sizeof(p), path, "context");
		if ((rc = check_context(c, p, v, json_object_get(s, "object"))))
			return rc;
	}
	if ((v = json_object_get(s, "timestamp"))) {
		join(p, sizeof(p), path, "timestamp");
		if ((rc = check_timestamp(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(s, "stored"))) {
		join(p, sizeof(p), path, "stored");
		if ((rc = check_timestamp(c, p, v)))
			return rc;
	}
	if ((v = json_object_get(s, "authority"))) {
		join(p, sizeof(p), path, "authority");
		if ((rc = check_actor(c, p, v, ACTOR_AUTHORITY, 0)))
			return rc;
	}
	if ((v = json_object_get(s, "version"))) {
		join(p, sizeof(p), path, "version");
		if (!json_is_string(v) || !version_valid(json_string_value(v), c->v))
			return fail(c, p, c->v == XAPI_V2 ? "must be \"1.0\", \"1.0.x\", \"2.0\" or \"2.0.x\""
				    : "must be \"1.0\" or \"1.0.x\"");
	}
	if ((v = json_object_get(s, "attachments"))) {
		join(p, sizeof(p), path, "attachments");
		if (!json_is_array(v))
			return fail(c, p, "must be an array of Attachments");
		json_array_foreach(v, i, e) {
			join_idx(q, sizeof(q), p, i);
			if ((rc = check_attachment(c, q, e)))
				return rc;
		}
	}
	if (!sub) {
		const char *verb = json_string_value(json_object_get(json_object_get(s, "verb"), "id"));
		const char *otype = object_type(json_object_get(s, "object"));

		if (verb && strcmp(verb, VOIDED_VERB) == 0 &&
		    (!otype || strcmp(otype, "StatementRef") != 0)) {
			join(p, sizeof(p), path, "object");
			return fail(c, p, "a voiding statement's object must be a StatementRef");
		}
	}
	return 0;
}

static void
clear_err(char *err, size_t errlen)
{
	if (err && errlen > 0)
		err[0] = '\0';
}

int
xapi_statement_check(const json_t *stmt, enum xapi_version v, char *err, size_t errlen)
{
	struct ck c = { v, err, errlen };

	clear_err(err, errlen);
	return check_statement_body(&c, "", stmt, 0);
}

int
xapi_agent_check(const json_t *agent, enum xapi_version v, char *err, size_t errlen)
{
	struct ck c = { v, err, errlen };

	clear_err(err, errlen);
	return check_actor(&c, "agent", agent, ACTOR_IDENTIFIED, 0);
}

/* ---- agent keys ---------------------------------------------------------- */

int
xapi_agent_key(const json_t *agent, char *out, size_t outsize)
{
	const char *mbox, *sha, *openid, *home, *name;
	json_t *acct;
	int n = 0, len = 0;

	if (!json_is_object(agent))
		return TC_EINVALID;
	mbox = json_string_value(json_object_get(agent, "mbox"));
	sha = json_string_value(json_object_get(agent, "mbox_sha1sum"));
	openid = json_string_value(json_object_get(agent, "openid"));
	acct = json_object_get(agent, "account");
	home = json_string_value(json_object_get(acct, "homePage"));
	name = json_string_value(json_object_get(acct, "name"));
	n = (json_object_get(agent, "mbox") != NULL) + (json_object_get(agent, "mbox_sha1sum") != NULL) +
	    (json_object_get(agent, "openid") != NULL) + (acct != NULL);
	if (n != 1)
		return TC_EINVALID;
	if (mbox) {
		len = snprintf(out, outsize, "mbox:%s", mbox);
	} else if (sha && hex_len_valid(sha, 40)) {
		char low[41];
		size_t i;

		for (i = 0; i < 40; i++)
			low[i] = (char)tolower((unsigned char)sha[i]);
		low[40] = '\0';
		len = snprintf(out, outsize, "mbox_sha1sum:%s", low);
	} else if (openid) {
		len = snprintf(out, outsize, "openid:%s", openid);
	} else if (home && name) {
		len = snprintf(out, outsize, "account:%s %s", home, name);
	} else {
		return TC_EINVALID;
	}
	if (len < 0 || (size_t)len >= outsize)
		return TC_ETOOBIG;
	return 0;
}

/* ---- a walk over the parts of a statement ------------------------------- */

/*
 * Calls the hooks of W on each Agent/Group, Activity, verb and language map
 * of a statement (a copy the caller may change). Tolerates any JSON: a
 * node of the wrong type is passed over. Hooks return 0 or TC_ENOMEM.
 */
struct walk {
	int (*actor)(const struct walk *w, json_t *a);
	int (*activity)(const struct walk *w, json_t *a);
	int (*verb)(const struct walk *w, json_t *v);
	int (*langmap)(const struct walk *w, json_t *parent, const char *key);
	const void *arg;
};

static int walk_statement(const struct walk *w, json_t *s);

static int
walk_langmap(const struct walk *w, json_t *parent, const char *key)
{
	if (!w->langmap || !json_is_object(json_object_get(parent, key)))
		return 0;
	return w->langmap(w, parent, key);
}

static int
walk_actor(const struct walk *w, json_t *a)
{
	if (!json_is_object(a) || !w->actor)
		return 0;
	return w->actor(w, a);
}

static int
walk_activity(const struct walk *w, json_t *a)
{
	static const char *const lists[] = { "choices", "scale", "source", "target", "steps", NULL };
	json_t *d, *list, *comp;
	size_t i, k;
	int rc;

	if (!json_is_object(a))
		return 0;
	d = json_object_get(a, "definition");
	if (json_is_object(d)) {
		if ((rc = walk_langmap(w, d, "name")) || (rc = walk_langmap(w, d, "description")))
			return rc;
		for (k = 0; lists[k]; k++) {
			list = json_object_get(d, lists[k]);
			json_array_foreach(list, i, comp)
				if ((rc = walk_langmap(w, comp, "description")))
					return rc;
		}
	}
	return w->activity ? w->activity(w, a) : 0;
}

static int
walk_object(const struct walk *w, json_t *o)
{
	const char *type;

	if (!json_is_object(o) || !(type = object_type(o)))
		return 0;
	if (strcmp(type, "Activity") == 0)
		return walk_activity(w, o);
	if (strcmp(type, "Agent") == 0 || strcmp(type, "Group") == 0)
		return walk_actor(w, o);
	if (strcmp(type, "SubStatement") == 0)
		return walk_statement(w, o);
	return 0;
}

static int
walk_context(const struct walk *w, json_t *x)
{
	static const char *const cakeys[] = { "parent", "grouping", "category", "other", NULL };
	json_t *ca, *v, *e;
	size_t i, k;
	int rc;

	if (!json_is_object(x))
		return 0;
	if ((rc = walk_actor(w, json_object_get(x, "instructor"))) ||
	    (rc = walk_actor(w, json_object_get(x, "team"))))
		return rc;
	ca = json_object_get(x, "contextActivities");
	for (k = 0; json_is_object(ca) && cakeys[k]; k++) {
		v = json_object_get(ca, cakeys[k]);
		if (json_is_object(v) && (rc = walk_activity(w, v)))
			return rc;
		json_array_foreach(v, i, e)
			if ((rc = walk_activity(w, e)))
				return rc;
	}
	json_array_foreach(json_object_get(x, "contextAgents"), i, e)
		if ((rc = walk_actor(w, json_object_get(e, "agent"))))
			return rc;
	json_array_foreach(json_object_get(x, "contextGroups"), i, e)
		if ((rc = walk_actor(w, json_object_get(e, "group"))))
			return rc;
	return 0;
}

static int
walk_statement(const struct walk *w, json_t *s)
{
	json_t *verb, *e;
	size_t i;
	int rc;

	if (!json_is_object(s))
		return 0;
	if ((rc = walk_actor(w, json_object_get(s, "actor"))))
		return rc;
	verb = json_object_get(s, "verb");
	if (json_is_object(verb)) {
		if ((rc = walk_langmap(w, verb, "display")))
			return rc;
		if (w->verb && (rc = w->verb(w, verb)))
			return rc;
	}
	if ((rc = walk_object(w, json_object_get(s, "object"))) ||
	    (rc = walk_context(w, json_object_get(s, "context"))) ||
	    (rc = walk_actor(w, json_object_get(s, "authority"))))
		return rc;
	json_array_foreach(json_object_get(s, "attachments"), i, e) {
		if ((rc = walk_langmap(w, e, "display")) || (rc = walk_langmap(w, e, "description")))
			return rc;
	}
	return 0;
}

/* Removes every key of OBJ but those in KEEP. */
static int
keep_only(json_t *obj, const char *const *keep)
{
	const char *key;
	json_t *val;
	void *tmp;

	json_object_foreach_safe(obj, tmp, key, val) {
		size_t i;

		(void)val;
		for (i = 0; keep[i]; i++)
			if (strcmp(key, keep[i]) == 0)
				break;
		if (!keep[i] && json_object_del(obj, key) != 0)
			return TC_ENOMEM;
	}
	return 0;
}

/* ---- format=ids ---------------------------------------------------------- */

static int
ids_actor(const struct walk *w, json_t *a)
{
	static const char *const keep[] = {
		"objectType", "mbox", "mbox_sha1sum", "openid", "account", "member", NULL
	};
	json_t *m, *e;
	size_t i;
	int rc;

	if ((rc = keep_only(a, keep)))
		return rc;
	m = json_object_get(a, "member");
	if (m && (json_object_get(a, "mbox") || json_object_get(a, "mbox_sha1sum") ||
		  json_object_get(a, "openid") || json_object_get(a, "account"))) {
		/* an identified group is identified by its IFI alone */
		json_object_del(a, "member");
		return 0;
	}
	json_array_foreach(m, i, e)
		if (json_is_object(e) && (rc = ids_actor(w, e)))
			return rc;
	return 0;
}

static int
ids_activity(const struct walk *w, json_t *a)
{
	/* the id alone: objectType "Activity" is the default, not an identifier */
	static const char *const keep[] = { "id", NULL };

	(void)w;
	return keep_only(a, keep);
}

static int
ids_verb(const struct walk *w, json_t *v)
{
	static const char *const keep[] = { "id", NULL };

	(void)w;
	return keep_only(v, keep);
}

/* ---- format=canonical ---------------------------------------------------- */

/*
 * How well TAG matches the Accept-Language list LANGS ("vi, en-US;q=0.8,
 * en;q=0.5"): the q value (x1000) of the best range that equals TAG or is
 * a prefix of it at a '-' boundary, "*" matching anything; -1 when none.
 */
static int
lang_quality(const char *langs, const char *tag)
{
	const char *p = langs;
	size_t tlen = strlen(tag);
	int best = -1;

	while (p && *p) {
		const char *range, *end, *semi;
		size_t rlen;
		int q = 1000;

		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		range = p;
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		rlen = strcspn(range, ";, ");
		if (range + rlen > end)
			rlen = (size_t)(end - range);
		semi = memchr(range, ';', (size_t)(end - range));
		if (semi) {
			const char *qp = strstr(semi, "q=");

			if (qp && qp < end) {
				double d = strtod(qp + 2, NULL);

				q = (int)(d * 1000 + 0.5);
			}
		}
		if (q > 0 &&
		    ((rlen == 1 && range[0] == '*') ||
		     (rlen <= tlen && strncasecmp(range, tag, rlen) == 0 &&
		      (tag[rlen] == '\0' || tag[rlen] == '-')))) {
			/* an exact match beats a prefix match of the same q */
			int score = q * 2 + (rlen == tlen ? 1 : 0);

			if (score > best)
				best = score;
		}
		p = end;
	}
	return best;
}

static int
canon_langmap(const struct walk *w, json_t *parent, const char *key)
{
	const char *langs = w->arg;
	json_t *map = json_object_get(parent, key), *one, *val, *pick = NULL;
	const char *k, *pick_key = NULL;
	int best = -1;

	json_object_foreach(map, k, val) {
		int q = langs ? lang_quality(langs, k) : -1;

		if (!pick_key || q > best) {
			pick_key = k;
			pick = val;
			best = q;
		}
	}
	if (!pick_key)
		return 0;
	one = json_object();
	if (!one || json_object_set(one, pick_key, pick) != 0 ||
	    json_object_set_new(parent, key, one) != 0) {
		json_decref(one);
		return TC_ENOMEM;
	}
	return 0;
}

json_t *
xapi_statement_format(const json_t *stmt, enum xapi_format f, const char *langs)
{
	struct walk w = { 0 };
	json_t *copy = json_deep_copy(stmt);

	if (!copy || f == XAPI_FMT_EXACT)
		return copy;
	if (f == XAPI_FMT_IDS) {
		w.actor = ids_actor;
		w.activity = ids_activity;
		w.verb = ids_verb;
	} else {
		w.langmap = canon_langmap;
		w.arg = langs;
	}
	if (walk_statement(&w, copy) != 0) {
		json_decref(copy);
		return NULL;
	}
	return copy;
}

/* ---- statement comparison ------------------------------------------------ */

static int
lower_string(json_t *parent, const char *key)
{
	json_t *v = json_object_get(parent, key);
	char *s;
	size_t i, n;
	int rc;

	if (!json_is_string(v))
		return 0;
	n = json_string_length(v);
	if (!(s = malloc(n + 1)))
		return TC_ENOMEM;
	for (i = 0; i < n; i++)
		s[i] = (char)tolower((unsigned char)json_string_value(v)[i]);
	s[n] = '\0';
	rc = json_object_set_new(parent, key, json_stringn(s, n)) ? TC_ENOMEM : 0;
	free(s);
	return rc;
}

static int
norm_actor(const struct walk *w, json_t *a)
{
	json_t *m, *e;
	size_t i;
	int rc;

	(void)w;
	if (!json_object_get(a, "objectType") &&
	    json_object_set_new(a, "objectType", json_string("Agent")) != 0)
		return TC_ENOMEM;
	if ((rc = lower_string(a, "mbox_sha1sum")))
		return rc;
	m = json_object_get(a, "member");
	json_array_foreach(m, i, e)
		if (json_is_object(e) && (rc = norm_actor(w, e)))
			return rc;
	return 0;
}

static int
norm_activity(const struct walk *w, json_t *a)
{
	(void)w;
	if (!json_object_get(a, "objectType") &&
	    json_object_set_new(a, "objectType", json_string("Activity")) != 0)
		return TC_ENOMEM;
	return 0;
}

/* Language map keys compare case-insensitively: lower-case them. */
static int
norm_langmap(const struct walk *w, json_t *parent, const char *key)
{
	json_t *map = json_object_get(parent, key), *out, *val;
	const char *k;
	char low[256];

	(void)w;
	if (!(out = json_object()))
		return TC_ENOMEM;
	json_object_foreach(map, k, val) {
		size_t i;

		for (i = 0; k[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)tolower((unsigned char)k[i]);
		low[i] = '\0';
		if (json_object_set(out, low, val) != 0) {
			json_decref(out);
			return TC_ENOMEM;
		}
	}
	return json_object_set_new(parent, key, out) ? TC_ENOMEM : 0;
}

/* Truncates the seconds of a duration to hundredths and drops trailing
 * zeros of the fraction, so "PT0.1237S" and "PT0.12S" compare equal. */
static int
norm_duration(json_t *result)
{
	json_t *v = json_object_get(result, "duration");
	char buf[128];
	const char *s, *dot, *end;
	size_t n;

	if (!json_is_string(v) || json_string_length(v) >= sizeof(buf))
		return 0;
	s = json_string_value(v);
	n = strlen(s);
	if (n < 2 || s[n - 1] != 'S' || !(dot = strrchr(s, '.')))
		return 0;
	end = dot + 1;
	while (is_digit(*end) && end - dot <= 2)
		end++;
	memcpy(buf, s, (size_t)(end - s));
	n = (size_t)(end - s);
	while (n > 0 && buf[n - 1] == '0')
		n--;
	if (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n++] = 'S';
	buf[n] = '\0';
	return json_object_set_new(result, "duration", json_string(buf)) ? TC_ENOMEM : 0;
}

static int
norm_timestamp(json_t *s, const char *key)
{
	json_t *v = json_object_get(s, key);
	int64_t us;

	if (!json_is_string(v) || xapi_timestamp_parse(json_string_value(v), &us) != 0)
		return 0;
	return json_object_set_new(s, key, json_integer((json_int_t)us)) ? TC_ENOMEM : 0;
}

/* Normalises the statement-level parts the walk does not visit. */
static int
norm_statement(json_t *s)
{
	static const char *const cakeys[] = { "parent", "grouping", "category", "other", NULL };
	json_t *o, *x, *ca, *v;
	size_t k;
	int rc;

	if (!json_is_object(s))
		return 0;
	if ((rc = lower_string(s, "id")) || (rc = norm_timestamp(s, "timestamp")))
		return rc;
	if (json_is_object(json_object_get(s, "result")) &&
	    (rc = norm_duration(json_object_get(s, "result"))))
		return rc;
	o = json_object_get(s, "object");
	if (json_is_object(o)) {
		const char *t = object_type(o);

		if (t && strcmp(t, "StatementRef") == 0 && (rc = lower_string(o, "id")))
			return rc;
		if (t && strcmp(t, "SubStatement") == 0 && (rc = norm_statement(o)))
			return rc;
	}
	x = json_object_get(s, "context");
	if (!json_is_object(x))
		return 0;
	if ((rc = lower_string(x, "registration")) ||
	    (rc = lower_string(json_object_get(x, "statement"), "id")))
		return rc;
	ca = json_object_get(x, "contextActivities");
	for (k = 0; json_is_object(ca) && cakeys[k]; k++) {
		v = json_object_get(ca, cakeys[k]);
		if (json_is_object(v)) {
			json_t *arr = json_array();

			if (!arr || json_array_append(arr, v) != 0 ||
			    json_object_set_new(ca, cakeys[k], arr) != 0) {
				json_decref(arr);
				return TC_ENOMEM;
			}
		}
	}
	return 0;
}

static json_t *
normalised(const json_t *stmt)
{
	static const struct walk w = {
		norm_actor, norm_activity, NULL, norm_langmap, NULL
	};
	json_t *c = json_deep_copy(stmt);

	if (!c)
		return NULL;
	json_object_del(c, "stored");
	json_object_del(c, "authority");
	json_object_del(c, "version");
	if (walk_statement(&w, c) != 0 || norm_statement(c) != 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* json_equal, but numbers compare by value (1 == 1.0). */
static int
same_json(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_object(a)) {
		const char *k;
		json_t *v;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, v)
			if (!same_json(v, json_object_get(b, k)))
				return 0;
		return 1;
	}
	if (json_is_array(a)) {
		size_t i;

		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!same_json(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

int
xapi_statement_same(const json_t *a, const json_t *b)
{
	json_t *na = NULL, *nb = NULL;
	int same = 0;

	if (!json_is_object(a) || !json_is_object(b))
		return 0;
	if (!(na = normalised(a)) || !(nb = normalised(b)))
		goto out;
	if (!json_object_get(na, "id") || !json_object_get(nb, "id")) {
		json_object_del(na, "id");
		json_object_del(nb, "id");
	}
	same = same_json(na, nb);
out:
	json_decref(na);
	json_decref(nb);
	return same;
}
