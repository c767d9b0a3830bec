/* csv_test.c - tests for courses/csv.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "courses/csv.h"
#include "courses/errors.h"
#include "tests/tap.h"

/* The last error message seen by dump(). */
static char last_error[200];

/* A read-only stream over LEN bytes of DATA (tmpfile for empty input). */
static FILE *
open_mem(const char *data, size_t len)
{
	FILE *fp;

	if (len > 0)
		return fmemopen((void *)data, len, "r");
	fp = tmpfile();
	return fp;
}

/* Appends S to OUT (OUTSZ bytes, NUL-terminated), truncating. */
static void
put(char *out, size_t outsz, const char *s)
{
	size_t n = strlen(out), m = strlen(s);

	if (n + m >= outsz)
		m = outsz - n - 1;
	memcpy(out + n, s, m);
	out[n + m] = '\0';
}

/*
 * Reads LEN bytes of DATA with the given limits and describes every result
 * in OUT: "<line>:<field>|<field>;" for a record, "<line>:ERR;" for an
 * error, "EIO;" for a read error. Returns the number of errors.
 */
static int
dump(const char *data, size_t len, size_t max_field, size_t max_fields,
     char *out, size_t outsz)
{
	struct csv_reader *r = NULL;
	FILE *fp = open_mem(data, len);
	char num[32], **f;
	size_t nf;
	int rc, errors = 0;

	out[0] = '\0';
	last_error[0] = '\0';
	if (!fp || csv_open(fp, max_field, max_fields, &r) != 0) {
		put(out, outsz, "OPEN FAILED");
		goto out;
	}
	while ((rc = csv_next(r, &f, &nf)) != 0) {
		snprintf(num, sizeof(num), "%zu:", csv_line(r));
		put(out, outsz, num);
		if (rc == TC_EINVALID) {
			put(out, outsz, "ERR;");
			snprintf(last_error, sizeof(last_error), "%s", csv_error(r));
			errors++;
			continue;
		}
		if (rc < 0) {
			put(out, outsz, "EIO;");
			break;
		}
		for (size_t i = 0; i < nf; i++) {
			if (i)
				put(out, outsz, "|");
			put(out, outsz, f[i]);
		}
		put(out, outsz, ";");
	}
out:
	csv_close(r);
	if (fp)
		fclose(fp);
	return errors;
}

/* dump() of a string. */
static int
dump_str(const char *s, size_t max_field, size_t max_fields, char *out, size_t outsz)
{
	return dump(s, strlen(s), max_field, max_fields, out, outsz);
}

/* dump() of a string with generous limits. */
static const char *
parse(const char *s)
{
	static char out[4096];

	dump(s, strlen(s), 1024, 64, out, sizeof(out));
	return out;
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_basic(void)
{
	is_str(parse("a,b\nc,d\n"), "1:a|b;2:c|d;", "two records with a trailing newline");
	is_str(parse("a,b\nc,d"), "1:a|b;2:c|d;", "no newline after the last record");
	is_str(parse(""), "", "empty input has no records");
	is_str(parse("\n"), "1:;", "a blank line is one empty field");
	is_str(parse("a\n\nb\n"), "1:a;2:;3:b;", "blank line in the middle");
	is_str(parse(",,\n"), "1:||;", "empty unquoted fields");
	is_str(parse("\"\",x,\"\"\n"), "1:|x|;", "empty quoted fields");
	is_str(parse("a,b,\n"), "1:a|b|;", "trailing comma gives an empty last field");
	is_str(parse("a b , c\n"), "1:a b | c;", "spaces are kept by the reader");
}

static void
test_quoting(void)
{
	is_str(parse("\"a, \"\"b\"\"\",c\n"), "1:a, \"b\"|c;",
	       "quoted field with a comma and escaped quotes");
	is_str(parse("\"\"\"\"\n"), "1:\";", "a field that is one quote");
	is_str(parse("x,\"line1\nline2\"\ny,z\nw\n"), "1:x|line1\nline2;3:y|z;4:w;",
	       "embedded newline; following records keep their line numbers");
	is_str(parse("\"a\n\nb\n\",c\nd"), "1:a\n\nb\n|c;5:d;",
	       "several embedded newlines");
	is_str(parse("\"q\"\n"), "1:q;", "quoted field at the end of a line");
	is_str(parse("\"q\""), "1:q;", "quoted field at the end of input");
}

static void
test_line_ends(void)
{
	is_str(parse("a,b\r\nc,d\r\n"), "1:a|b;2:c|d;", "CRLF line ends");
	is_str(parse("a,b\r\nc,d"), "1:a|b;2:c|d;", "CRLF, last line without one");
	is_str(parse("\"p\r\nq\",r\r\ns\r\n"), "1:p\r\nq|r;3:s;",
	       "CRLF inside quotes is kept as data");
	is_str(parse("\"p\"\r\n"), "1:p;", "CRLF after a closing quote");
	is_str(parse("a\rb\n"), "1:a\rb;", "a lone CR is data");
	is_str(parse("a\n\r\nb\n"), "1:a;2:;3:b;", "blank CRLF line");
	is_str(parse("a,b\nc\r\nd\n"), "1:a|b;2:c;3:d;", "mixed LF and CRLF");
}

static void
test_bom(void)
{
	is_str(parse("\xEF\xBB\xBF" "a,b\n"), "1:a|b;", "BOM at the start is skipped");
	is_str(parse("\xEF\xBB\xBF"), "", "BOM only is an empty file");
	is_str(parse("\xEF\xBB"), "1:ERR;", "half a BOM is invalid UTF-8");
	is_str(parse("a\n\xEF\xBB\xBF" "b\n"), "1:a;2:\xEF\xBB\xBF" "b;",
	       "a BOM later on is data");
	is_str(parse("\xEF\xBB\xBF\"x\"\n"), "1:x;", "BOM before a quoted field");
}

static void
test_utf8(void)
{
	is_str(parse("Nguyễn Thị Ánh,Đặng\n"), "1:Nguyễn Thị Ánh|Đặng;",
	       "Vietnamese text is valid UTF-8");
	is_str(parse("ok,\xC3\x28\nnext\n"), "1:ERR;2:next;", "invalid UTF-8 rejected");
	is_str(last_error, "field 2 is not valid UTF-8", "error names the field");
	is_str(parse("\xC0\xAF\n"), "1:ERR;", "overlong encoding rejected");
	is_str(parse("\xED\xA0\x80\n"), "1:ERR;", "surrogate rejected");
	is_str(parse("Nguy\xE1\xBB,x\nb\n"), "1:ERR;2:b;", "truncated sequence rejected");
	is_str(parse("\xFF,a,b\nc\n"), "1:ERR;2:c;",
	       "error in the first field skips the rest of the line");
	is_str(parse("\"\xE9\n\",a\nc\n"), "1:ERR;3:c;",
	       "invalid UTF-8 in a multi-line quoted field");
}

static void
test_errors(void)
{
	char out[512];
	static const char nul[] = "a\0b,c\nd\n";
	static const char nulq[] = "\"a\0\nb\",c\nd\n";
	int n;

	is_str(parse("a,b\n\"abc\n"), "1:a|b;2:ERR;", "unterminated quote at end of input");
	is_str(last_error, "unterminated quoted field 1 (the quote opened on line 2)",
	       "unterminated quote message");
	is_str(parse("x,\"abc\nd\ne"), "1:ERR;", "unterminated quote spanning lines");

	is_str(parse("ab\"c,d\ne,f\n"), "1:ERR;2:e|f;", "stray quote in an unquoted field");
	ok(starts_with(last_error, "stray quote in unquoted field 1"),
	   "stray quote message names the field");
	is_str(parse("a,b\"\"c\n\"d\"\n"), "1:ERR;2:d;", "doubled stray quote");

	is_str(parse("\"ab\"c,d\ne\n"), "1:ERR;2:e;", "text after a closing quote");
	is_str(last_error, "unexpected text after the closing quote of field 1",
	       "text after closing quote message");
	is_str(parse("\"ab\" ,d\ne\n"), "1:ERR;2:e;", "space after a closing quote");

	dump(nul, sizeof(nul) - 1, 1024, 64, out, sizeof(out));
	is_str(out, "1:ERR;2:d;", "NUL byte in an unquoted field");
	is_str(last_error, "NUL byte in field 1", "NUL message");
	dump(nulq, sizeof(nulq) - 1, 1024, 64, out, sizeof(out));
	is_str(out, "1:ERR;3:d;", "NUL in a quoted field: skip to the closing quote");

	dump_str("abcd,e\nabcde,f\ng\n", 4, 64, out, sizeof(out));
	is_str(out, "1:abcd|e;2:ERR;3:g;", "a field one byte over the limit");
	is_str(last_error, "field 1 is longer than 4 bytes", "field too long message");
	dump_str("\"ab\"\"c\",x\n", 4, 64, out, sizeof(out));
	is_str(out, "1:ab\"c|x;", "escaped quote counts as one byte");
	dump_str("\"abc,d\ne,f\ng,h,i\nk\n", 8, 64, out, sizeof(out));
	is_str(out, "1:ERR;3:g|h|i;4:k;",
	       "unclosed quote: field too long, then resync at the next line");
	ok(strstr(last_error, "closing quote missing") != NULL,
	   "too long quoted field hints at a missing quote");

	dump_str("a,b,c\na,b,c,d\nx,y,z,\"w\nv\",u\nq\na,b,c,\n", 64, 3, out, sizeof(out));
	is_str(out, "1:a|b|c;2:ERR;3:ERR;5:q;6:ERR;",
	       "too many fields; resync follows quotes");
	is_str(last_error, "more than 3 fields", "too many fields message");

	n = dump_str("1,ok\n2,b\"ad\n3,\"x\ny\"\"z\n\"\n4,\xFF\n5,ok\n", 1024, 64,
		 out, sizeof(out));
	is_str(out, "1:1|ok;2:ERR;3:3|x\ny\"z\n;6:ERR;7:5|ok;",
	       "records after errors are still read, with the right lines");
	is_int(n, 2, "two errors reported");
}

static void
test_io_error(void)
{
	struct csv_reader *r = NULL;
	FILE *fp = fopen("/dev/null", "w");
	char **f;
	size_t nf;

	ok(fp != NULL, "opened a write-only stream");
	if (!fp)
		return;
	is_int(csv_open(fp, 16, 4, &r), 0, "open");
	is_int(csv_next(r, &f, &nf), TC_EIO, "a read error is TC_EIO");
	is_int(csv_next(r, &f, &nf), TC_EIO, "and stays so");
	csv_close(r);
	fclose(fp);
	is_int(csv_open(stdin, 1, 1, &r), 0, "open over stdin");
	is_str(csv_error(r), "no error", "csv_error before any error is not NULL");
	csv_close(r);
	csv_close(NULL);
	ok(1, "csv_close(NULL) is safe");
}

/* A field spanning several refills of the input buffer. */
static void
test_long_field(void)
{
	size_t n = 200000, len = n + 10;
	char *data = malloc(len);
	struct csv_reader *r = NULL;
	FILE *fp;
	char **f;
	size_t nf;
	int good;

	if (!data) {
		ok(0, "malloc");
		return;
	}
	data[0] = '"';
	for (size_t i = 1; i <= n; i++)
		data[i] = (i % 1000 == 0) ? '\n' : (char)('a' + i % 26);
	memcpy(data + n + 1, "\",y\nz\n", 6);
	fp = fmemopen(data, n + 7, "r");
	csv_open(fp, n, 4, &r);
	is_int(csv_next(r, &f, &nf), 1, "a 200 KB quoted field is read");
	good = nf == 2 && strlen(f[0]) == n && strcmp(f[1], "y") == 0;
	for (size_t i = 1; good && i <= n; i++)
		good = f[0][i - 1] == data[i];
	ok(good, "its content is intact");
	is_int(csv_next(r, &f, &nf), 1, "next record");
	is_int(csv_line(r), 202, "on the right line after 200 embedded newlines");
	csv_close(r);
	fclose(fp);
	free(data);
}

/* Random input from bytes that matter to the parser: it must always end,
 * with record lines never going backwards. */
static void
test_random(void)
{
	static const char alphabet[] = "ab,\"\n\r\xC3\xA9\xFF";
	size_t len = 1 << 20, prev = 0, records = 0;
	char *data = malloc(len);
	struct csv_reader *r = NULL;
	uint32_t x = 12345;
	int rc, ordered = 1;
	FILE *fp;
	char **f;
	size_t nf;

	if (!data) {
		ok(0, "malloc");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (x >> 16) % 997 == 0 ? '\0' : alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
	}
	fp = fmemopen(data, len, "r");
	csv_open(fp, 64, 8, &r);
	while ((rc = csv_next(r, &f, &nf)) == 1 || rc == TC_EINVALID) {
		if (csv_line(r) < prev)
			ordered = 0;
		prev = csv_line(r);
		records++;
	}
	is_int(rc, 0, "random input is read to the end");
	ok(ordered && records > 1000, "record lines never go backwards");
	csv_close(r);
	fclose(fp);
	free(data);
}

static void
test_speed(void)
{
	size_t rows = 100000, cap = rows * 100, len = 0, count = 0, fields = 0;
	char *data = malloc(cap), msg[128];
	struct csv_reader *r = NULL;
	struct timespec t0, t1;
	FILE *fp;
	char **f;
	size_t nf;
	int rc;

	if (!data) {
		ok(0, "malloc");
		return;
	}
	for (size_t i = 0; i < rows; i++) {
		int m = snprintf(data + len, cap - len,
				 "%012zu,\"Nguyễn Thị, Ánh %zu\",2001-02-%02zu,"
				 "a%zu@example.vn,SV%zu\n",
				 100000000000u + i, i, 1 + i % 28, i, i);
		len += (size_t)m;
	}
	fp = fmemopen(data, len, "r");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	csv_open(fp, 1024, 64, &r);
	while ((rc = csv_next(r, &f, &nf)) == 1) {
		count++;
		fields += nf;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	is_int(rc, 0, "generated file read to the end");
	is_int(count, rows, "every record read");
	is_int(fields, rows * 5, "every field read");
	snprintf(msg, sizeof(msg), "%zu records (%zu bytes) parsed in %.1f ms", count, len,
		 (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	diag(msg);
	csv_close(r);
	fclose(fp);
	free(data);
}

/* The field writer: quoting, formula neutralising, the cap; and what it
 * writes reads back through the reader. */
static void
test_put_field(void)
{
	static const char *fields[] = { "plain", "a,b", "say \"hi\"", "two\r\nlines",
					"=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "",
					"Nguyễn Văn A", "=a,b" };
	static const char *want_text =
		"plain,\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",\"'=HYPERLINK(\"\"x\"\")\","
		"'+1,'-2,'@SUM(A1),'\tx,,Nguyễn Văn A,\"'=a,b\"\r\n";
	size_t n = sizeof(fields) / sizeof(fields[0]);
	struct dynbuf b;
	struct csv_reader *r = NULL;
	char **got;
	size_t ngot = 0;
	FILE *fp;
	int rc = 0, same = 1;

	dynbuf_init(&b, 4096);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = csv_put_field(&b, fields[i], i + 1 == n);
	is_int(rc, 0, "fields written");
	is_str(dynbuf_str(&b), want_text, "quoted, doubled, formulas neutralised");
	fp = open_mem(b.data, b.len);
	ok(fp && csv_open(fp, 1024, 64, &r) == 0 && csv_next(r, &got, &ngot) == 1,
	   "the row reads back");
	is_int((int)ngot, (int)n, "as many fields");
	for (size_t i = 0; i < ngot && i < n; i++) {
		const char *f = fields[i];
		int guarded = *f && strchr("=+-@\t\r", *f);

		same &= guarded ? got[i][0] == '\'' && strcmp(got[i] + 1, f) == 0
				: strcmp(got[i], f) == 0;
	}
	ok(same, "each field reads back as written (with the apostrophe)");
	csv_close(r);
	if (fp)
		fclose(fp);
	dynbuf_cleanup(&b);
	dynbuf_init(&b, 8);
	is_int(csv_put_field(&b, "0123456789", 0), TC_ETOOBIG, "the buffer's cap holds");
	dynbuf_cleanup(&b);
	dynbuf_init(&b, 4096);
	rc = csv_put_field(&b, "  =1+2", 0) || csv_put_field(&b, " \t-3", 0) ||
	     csv_put_field(&b, "  plain", 1);
	is_str(rc ? "" : dynbuf_str(&b), "'  =1+2,' \t-3,  plain\r\n",
	       "a formula after leading spaces is defused too");
	dynbuf_cleanup(&b);
}

int
main(void)
{
	test_put_field();
	test_basic();
	test_quoting();
	test_line_ends();
	test_bom();
	test_utf8();
	test_errors();
	test_io_error();
	test_long_field();
	test_random();
	test_speed();
	return done_testing();
}
