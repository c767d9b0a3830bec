/*
 * elmo_test.c - tests for courses/elmo.h: escaping (markup characters,
 * characters XML 1.0 cannot hold), the learner's names, the report of an
 * issuer and a credential's learning opportunity (term as a date range or
 * not, credits as xs:decimal, missing fields left out), refused input.
 */
#include <string.h>

#include <jansson.h>

#include "courses/dynbuf.h"
#include "courses/elmo.h"
#include "courses/errors.h"
#include "tests/tap.h"

static int
has(const struct dynbuf *b, const char *s)
{
	return b->data && strstr(b->data, s) != NULL;
}

static void
test_escape(void)
{
	struct dynbuf b;

	dynbuf_init(&b, 1 << 20);
	is_int(elmo_escape(&b, "a<b>&\"c'\t\n\x01\x1f z \xEF\xBF\xBE!\xEF\xBF\xBD"), 0, "escape");
	dynbuf_puts(&b, "");
	is_str(b.data, "a&lt;b&gt;&amp;&quot;c&apos;\t\n z !\xEF\xBF\xBD",
	       "markup escaped, control characters and U+FFFE dropped, U+FFFD kept");
	dynbuf_reset(&b);
	is_int(elmo_escape(&b, NULL), 0, "NULL is empty text");
	dynbuf_cleanup(&b);
}

static void
test_learner(void)
{
	struct elmo_learner l = { "200000000001", "  Nguyễn Thị Ánh", "2001-02-03" };
	struct dynbuf b;

	dynbuf_init(&b, 1 << 20);
	is_int(elmo_begin(&b, &l, "2026-11-30T00:00:00Z"), 0, "begin");
	dynbuf_puts(&b, "");
	ok(has(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<elmo xmlns=\"https://github.com/"
	       "emrex-eu/elmo-schemas/tree/v1\">"), "declaration and namespace");
	ok(has(&b, "<familyName>Nguyễn</familyName>") && has(&b, "<givenNames>Thị Ánh</givenNames>"),
	   "family name first (Vietnamese order)");
	ok(has(&b, "<bday>2001-02-03</bday>"), "birthday");
	ok(strstr(b.data, "<identifier") < strstr(b.data, "<givenNames") &&
	   strstr(b.data, "<givenNames") < strstr(b.data, "<familyName") &&
	   strstr(b.data, "<familyName") < strstr(b.data, "<bday"), "in the schema's order");
	dynbuf_reset(&b);
	l.full_name = "Mai";
	l.date_of_birth = "2001-2-3";
	is_int(elmo_begin(&b, &l, "2026-11-30T00:00:00Z"), 0, "a one-word name");
	dynbuf_puts(&b, "");
	ok(has(&b, "<givenNames>Mai</givenNames>") && has(&b, "<familyName>Mai</familyName>"),
	   "is both names");
	ok(!has(&b, "<bday>"), "a birthday that is not a date is left out");
	dynbuf_reset(&b);
	l.full_name = "   ";
	is_int(elmo_begin(&b, &l, "x"), TC_EINVALID, "an empty name is refused");
	l.full_name = NULL;
	is_int(elmo_begin(&b, &l, "x"), TC_EINVALID, "no name is refused");
	dynbuf_cleanup(&b);
}

static void
test_report(void)
{
	struct elmo_issuer is = { "VNU", "Đại học <Quốc gia>", "https://www.vnu.edu.vn/home", NULL };
	json_t *creds = json_loads(
		"[{\"id\":\"urn:uuid:1\",\"validFrom\":\"2026-01-02T03:04:05Z\",\"credentialSubject\":{"
		"\"term\":\"2025-02-01/2025-06-30\",\"creditsEarned\":3.5,\"result\":[{\"value\":\"8.5\"}],"
		"\"achievement\":{\"humanCode\":\"CS&1\",\"name\":\"C <1>\",\"description\":\"d\"}}},"
		"{\"id\":\"urn:uuid:2\",\"name\":\"Fallback\",\"credentialSubject\":{\"term\":\"HK2\","
		"\"creditsEarned\":3,\"achievement\":{}}}]", 0, NULL);
	struct dynbuf b;

	dynbuf_init(&b, 1 << 20);
	is_int(elmo_report(&b, &is, creds, "2026-11-30T00:00:00Z"), 0, "a report");
	dynbuf_puts(&b, "");
	ok(has(&b, "<identifier type=\"local\">VNU</identifier>") &&
	   has(&b, "<identifier type=\"schac\">vnu.edu.vn</identifier>") &&
	   has(&b, "<title xml:lang=\"vi\">Đại học &lt;Quốc gia&gt;</title>") &&
	   has(&b, "<url>https://www.vnu.edu.vn/home</url>"), "the issuer");
	ok(has(&b, "<identifier type=\"local\">CS&amp;1</identifier>") &&
	   has(&b, "<title>C &lt;1&gt;</title>"), "the course code and title, escaped");
	ok(has(&b, "<start>2025-02-01</start>\n          <date>2026-01-02</date>") &&
	   has(&b, "<end>2025-06-30</end>"), "dates from the term and validFrom");
	ok(has(&b, "<resultLabel>8.5</resultLabel>") && has(&b, "<value>3.5</value>") &&
	   has(&b, "<value>3</value>"), "grade and credits as decimals");
	ok(has(&b, "<title>Fallback</title>"), "the credential's name without an achievement name");
	ok(has(&b, "<academicTerm>\n            <title>2025-02-01/2025-06-30</title>") &&
	   strstr(strstr(b.data, "urn:uuid:2"), "<academicTerm>") == NULL,
	   "a date-range term is an academicTerm, another term is not");
	ok(has(&b, "<issueDate>2026-11-30T00:00:00Z</issueDate>\n  </report>"), "issueDate last");
	dynbuf_reset(&b);
	is.website = "";
	is.page = "https://tinchi.example";
	elmo_report(&b, &is, creds, "x");
	dynbuf_puts(&b, "");
	ok(has(&b, "<url>https://tinchi.example</url>") && !has(&b, "type=\"schac\""),
	   "without a website: the platform's page, no schac");
	is_int(elmo_report(&b, &is, NULL, "x"), TC_EINVALID, "credentials must be an array");
	is_int(elmo_end(&b), 0, "end");
	json_decref(creds);
	dynbuf_cleanup(&b);
}

int
main(void)
{
	test_escape();
	test_learner();
	test_report();
	return done_testing();
}
