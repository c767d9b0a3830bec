/* tlog_entry.c - courses/tlog_entry.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/jcs.h"
#include "courses/tlog_entry.h"

int
tlog_hash_ok(const char *text)
{
	if (!text || strncmp(text, "sha256:", 7) != 0 || strlen(text) != 7 + 64)
		return 0;
	for (const char *p = text + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static int
issuer_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 5 || n > TLOG_ISSUER_MAX || strncmp(s, "did:", 4) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/* "YYYY-MM-DDTHH:MM:SSZ" with fields in range. */
static int
time_ok(const char *t)
{
	static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
	int mo, d, h, mi, s;

	if (!t || strlen(t) != sizeof(form) - 1)
		return 0;
	for (size_t i = 0; form[i]; i++)
		if (form[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != form[i])
			return 0;
	mo = (t[5] - '0') * 10 + t[6] - '0';
	d = (t[8] - '0') * 10 + t[9] - '0';
	h = (t[11] - '0') * 10 + t[12] - '0';
	mi = (t[14] - '0') * 10 + t[15] - '0';
	s = (t[17] - '0') * 10 + t[18] - '0';
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60;
}

static int
refuse(char *why, size_t whysize, const char *what)
{
	if (why && whysize)
		snprintf(why, whysize, "%s", what);
	return TC_EINVALID;
}

int
tlog_entry_make(const char *kind, const char *hash, const char *issuer, const char *time,
		struct dynbuf *out, char *why, size_t whysize)
{
	json_t *o;
	int rc;

	if (!kind || (strcmp(kind, "issue") != 0 && strcmp(kind, "revoke") != 0))
		return refuse(why, whysize, "kind must be \"issue\" or \"revoke\"");
	if (!tlog_hash_ok(hash))
		return refuse(why, whysize, "hash must be \"sha256:\" and 64 lower-case hex digits");
	if (!issuer_ok(issuer))
		return refuse(why, whysize, "issuer must be a DID (\"did:...\", printable ASCII, "
				"at most 255 bytes)");
	if (!time_ok(time))
		return refuse(why, whysize, "time must be YYYY-MM-DDTHH:MM:SSZ");
	o = json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "hash", hash, "issuer", issuer,
		      "time", time);
	if (!o)
		return TC_ENOMEM;
	rc = jcs_canonicalize(o, out);
	json_decref(o);
	return rc;
}

/* ---- the entry as fields (the log's stored form) ---------------------------------- */

static const char *const kinds[] = { "issue", "revoke" };

/* Days since 1970-01-01 of Y-M-D in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The largest time tlog_entry_format writes: 9999-12-31T23:59:59Z. */
#define TIME_MAX INT64_C(253402300799)

int
tlog_entry_format(const struct tlog_entry_fields *f, char *out, size_t outsize, size_t *len)
{
	static const char digits[] = "0123456789abcdef";
	char hex[65];
	int64_t y, days;
	int m, d, secs, n;

	if (out && outsize)
		out[0] = '\0';
	if (!f || !out || f->kind < TLOG_KIND_ISSUE || f->kind > TLOG_KIND_REVOKE ||
	    !issuer_ok(f->issuer) || strpbrk(f->issuer, "\"\\") || f->time < 0 ||
	    f->time > TIME_MAX)
		return TC_EINVALID;
	for (size_t i = 0; i < 32; i++) {
		hex[2 * i] = digits[f->hash[i] >> 4];
		hex[2 * i + 1] = digits[f->hash[i] & 15];
	}
	hex[64] = '\0';
	days = f->time / 86400;
	secs = (int)(f->time % 86400);
	civil_from_days(days, &y, &m, &d);
	/* the pieces put together without snprintf (every leaf of an inclusion
	 * proof is formatted again from its fields) */
	{
		static const char p1[] = "{\"hash\":\"sha256:", p2[] = "\",\"issuer\":\"",
				  p3[] = "\",\"kind\":\"", p4[] = "\",\"time\":\"", p5[] = "\"}";
		size_t il = strlen(f->issuer), kl = strlen(kinds[f->kind]);
		int v[6] = { (int)y, m, d, secs / 3600, secs / 60 % 60, secs % 60 };
		char t[21], *o = out;

		/* YYYY-MM-DDThh:mm:ssZ (the year has four digits: TIME_MAX) */
		t[0] = (char)('0' + v[0] / 1000);
		t[1] = (char)('0' + v[0] / 100 % 10);
		t[2] = (char)('0' + v[0] / 10 % 10);
		t[3] = (char)('0' + v[0] % 10);
		for (int i = 1; i < 6; i++) {
			t[3 * i + 1] = "--T::"[i - 1];
			t[3 * i + 2] = (char)('0' + v[i] / 10);
			t[3 * i + 3] = (char)('0' + v[i] % 10);
		}
		t[19] = 'Z';
		t[20] = '\0';
		n = (int)(sizeof(p1) - 1 + 64 + sizeof(p2) - 1 + il + sizeof(p3) - 1 + kl +
			  sizeof(p4) - 1 + 20 + sizeof(p5) - 1);
		if ((size_t)n >= outsize) {
			out[0] = '\0';
			return TC_ETOOBIG;
		}
		memcpy(o, p1, sizeof(p1) - 1);
		o += sizeof(p1) - 1;
		memcpy(o, hex, 64);
		o += 64;
		memcpy(o, p2, sizeof(p2) - 1);
		o += sizeof(p2) - 1;
		memcpy(o, f->issuer, il);
		o += il;
		memcpy(o, p3, sizeof(p3) - 1);
		o += sizeof(p3) - 1;
		memcpy(o, kinds[f->kind], kl);
		o += kl;
		memcpy(o, p4, sizeof(p4) - 1);
		o += sizeof(p4) - 1;
		memcpy(o, t, 20);
		o += 20;
		memcpy(o, p5, sizeof(p5));	/* with its NUL */
	}
	if (len)
		*len = (size_t)n;
	return 0;
}

/* Whether P (with N bytes left) begins with the literal LIT; moves *P past it. */
static int
eat(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return 0;
	*p += n;
	return 1;
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* N decimal digits at P as a number; -1 when one is not a digit. */
static int
num(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + p[i] - '0';
	}
	return v;
}

int
tlog_entry_parse(const char *entry, size_t len, struct tlog_entry_fields *out)
{
	const char *p = entry, *end = entry + len, *q;
	char again[TLOG_ENTRY_TEXT_MAX], time[21], hash[72];
	struct dynbuf made;
	size_t n = 0;
	int y, mo, d, h, mi, s, rc;

	if (!entry || !out || !eat(&p, end, "{\"hash\":\"sha256:") || end - p < 64)
		return TC_EINVALID;
	for (int i = 0; i < 32; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return TC_EINVALID;
		out->hash[i] = (unsigned char)(hi << 4 | lo);
	}
	p += 64;
	if (!eat(&p, end, "\",\"issuer\":\""))
		return TC_EINVALID;
	for (q = p; q < end && *q != '"'; q++)
		;
	if (q == end || (size_t)(q - p) > TLOG_ISSUER_MAX)
		return TC_EINVALID;
	memcpy(out->issuer, p, (size_t)(q - p));
	out->issuer[q - p] = '\0';
	p = q;
	if (eat(&p, end, "\",\"kind\":\"issue\""))
		out->kind = TLOG_KIND_ISSUE;
	else if (eat(&p, end, "\",\"kind\":\"revoke\""))
		out->kind = TLOG_KIND_REVOKE;
	else
		return TC_EINVALID;
	if (!eat(&p, end, ",\"time\":\"") || end - p != 20 + 2 || memcmp(p + 20, "\"}", 2) != 0)
		return TC_EINVALID;
	memcpy(time, p, 20);
	time[20] = '\0';
	if (!time_ok(time))
		return TC_EINVALID;
	y = num(time, 4);
	mo = num(time + 5, 2);
	d = num(time + 8, 2);
	h = num(time + 11, 2);
	mi = num(time + 14, 2);
	s = num(time + 17, 2);
	out->time = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	/* only what rebuilds byte for byte, both ways (a 30 February or a
	 * leap second does not: it stays text) */
	if (tlog_entry_format(out, again, sizeof(again), &n) || n != len ||
	    memcmp(again, entry, len) != 0)
		return TC_EINVALID;
	memcpy(hash, entry + 9, 71);	/* after {"hash":" */
	hash[71] = '\0';
	dynbuf_init(&made, TLOG_ENTRY_TEXT_MAX);
	rc = tlog_entry_make(kinds[out->kind], hash, out->issuer, time, &made, NULL, 0);
	if (rc == 0 && (made.len != len || memcmp(made.data, entry, len) != 0))
		rc = TC_EINVALID;
	dynbuf_cleanup(&made);
	return rc;
}
