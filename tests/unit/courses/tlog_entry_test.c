/* tlog_entry_test.c - tests for courses/tlog_entry.c: the entry as fields */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/tlog_entry.h"
#include "tests/tap.h"

#define HASH "sha256:00ff0123456789abcdef00ff0123456789abcdef00ff0123456789abcdef0a0b"
#define DID "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

/* The entry tlog_entry_make gives for these fields into OUT. */
static int
made(const char *kind, const char *hash, const char *issuer, const char *time,
     struct dynbuf *out)
{
	dynbuf_reset(out);
	return tlog_entry_make(kind, hash, issuer, time, out, NULL, 0);
}

/* Whether the text of the fields is what tlog_entry_make gives, and parses back. */
static int
round_trip(const char *kind, const char *time)
{
	struct tlog_entry_fields f, g;
	struct dynbuf b;
	char text[TLOG_ENTRY_TEXT_MAX];
	size_t n = 0;
	int good;

	dynbuf_init(&b, 4096);
	good = made(kind, HASH, DID, time, &b) == 0 &&
	       tlog_entry_parse(b.data, b.len, &f) == 0 &&
	       tlog_entry_format(&f, text, sizeof(text), &n) == 0 && n == b.len &&
	       memcmp(text, b.data, n) == 0 && tlog_entry_parse(text, n, &g) == 0 &&
	       memcmp(&f.hash, &g.hash, 32) == 0 && f.time == g.time && f.kind == g.kind &&
	       strcmp(f.issuer, DID) == 0;
	dynbuf_cleanup(&b);
	return good;
}

static int
refused(const char *kind, const char *hash, const char *issuer, const char *time)
{
	struct tlog_entry_fields f;
	struct dynbuf b;
	int rc;

	dynbuf_init(&b, 4096);
	rc = made(kind, hash, issuer, time, &b);
	if (rc == 0)
		rc = tlog_entry_parse(b.data, b.len, &f);
	dynbuf_cleanup(&b);
	return rc == TC_EINVALID;
}

int
main(void)
{
	static const char *const times[] = {
		"1970-01-01T00:00:00Z", "2026-11-30T17:05:09Z", "2000-02-29T23:59:59Z",
		"2100-03-01T12:00:00Z", "1999-12-31T23:59:59Z", "9999-12-31T23:59:59Z",
		"2024-02-29T00:00:01Z",
	};
	struct tlog_entry_fields f;
	char text[TLOG_ENTRY_TEXT_MAX];
	const char *e;
	int all = 1;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		all &= round_trip(i % 2 ? "revoke" : "issue", times[i]);
	ok(all, "entries of both kinds rebuild from their fields byte for byte");

	/* a time every day and an hour from 1970 to 9999 through the text and back */
	all = 1;
	memset(&f, 0, sizeof(f));
	snprintf(f.issuer, sizeof(f.issuer), "%s", DID);
	for (int64_t t = 0; t < 253402300799; t += 86400 + 3601) {
		struct tlog_entry_fields g;
		size_t n = 0;

		f.time = t;
		if (tlog_entry_format(&f, text, sizeof(text), &n) || tlog_entry_parse(text, n, &g) ||
		    g.time != t) {
			all = 0;
			break;
		}
	}
	ok(all, "times from 1970 to 9999 go through text and back");
	f.time = 0;
	ok(tlog_entry_format(&f, text, sizeof(text), NULL) == 0, "the epoch is written");
	f.time = -1;
	ok(tlog_entry_format(&f, text, sizeof(text), NULL) == TC_EINVALID && !text[0],
	   "a time before 1970 is not");
	f.time = 253402300800;
	ok(tlog_entry_format(&f, text, sizeof(text), NULL) == TC_EINVALID, "nor one after 9999");
	f.time = 1;
	f.kind = 2;
	ok(tlog_entry_format(&f, text, sizeof(text), NULL) == TC_EINVALID, "nor an unknown kind");
	f.kind = TLOG_KIND_ISSUE;
	ok(tlog_entry_format(&f, text, 40, NULL) == TC_ETOOBIG && !text[0], "a short buffer: too big");

	/* what tlog_entry_make accepts but the fields do not hold: stays text */
	ok(refused("issue", HASH, DID, "2026-02-30T00:00:00Z"), "30 February is kept as text");
	ok(refused("issue", HASH, DID, "2026-06-30T23:59:60Z"), "a leap second is kept as text");
	ok(refused("issue", HASH, "did:x:a\"b", "2026-06-30T23:59:00Z"),
	   "an issuer JSON escapes is kept as text");
	ok(refused("issue", HASH, "did:x:a\\b", "2026-06-30T23:59:00Z"), "so is a backslash");
	e = "{\"hash\":\"" HASH "\",\"issuer\":\"" DID "\",\"kind\":\"issue\",\"time\":"
	    "\"2026-06-30T23:59:00Z\"}";
	ok(tlog_entry_parse(e, strlen(e), &f) == 0 && f.kind == TLOG_KIND_ISSUE &&
	   f.hash[0] == 0 && f.hash[1] == 0xff && f.time == 1782863940, "a canonical entry parses");
	ok(tlog_entry_parse(e, strlen(e) - 1, &f) == TC_EINVALID, "a truncated one does not");
	e = "{\"hash\":\"" HASH "\", \"issuer\":\"" DID "\",\"kind\":\"issue\",\"time\":"
	    "\"2026-06-30T23:59:00Z\"}";
	ok(tlog_entry_parse(e, strlen(e), &f) == TC_EINVALID, "nor one with a space");
	e = "{\"issuer\":\"" DID "\",\"hash\":\"" HASH "\",\"kind\":\"issue\",\"time\":"
	    "\"2026-06-30T23:59:00Z\"}";
	ok(tlog_entry_parse(e, strlen(e), &f) == TC_EINVALID, "nor one out of order");
	e = "{\"hash\":\"sha256:00FF0123456789abcdef00ff0123456789abcdef00ff0123456789abcdef0a0b\","
	    "\"issuer\":\"" DID "\",\"kind\":\"issue\",\"time\":\"2026-06-30T23:59:00Z\"}";
	ok(tlog_entry_parse(e, strlen(e), &f) == TC_EINVALID, "nor upper-case hex");
	e = "{\"hash\":\"" HASH "\",\"issuer\":\"" DID "\",\"kind\":\"grant\",\"time\":"
	    "\"2026-06-30T23:59:00Z\"}";
	ok(tlog_entry_parse(e, strlen(e), &f) == TC_EINVALID, "nor another kind");
	e = "{\"hash\":\"" HASH "\",\"issuer\":\"" DID "\",\"kind\":\"issue\",\"n\":1}";
	ok(tlog_entry_parse(e, strlen(e), &f) == TC_EINVALID, "nor other members");
	return done_testing();
}
