/* tlog_entry.c - courses/tlog_entry.h. */
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
