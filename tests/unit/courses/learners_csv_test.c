/* learners_csv_test.c - tests for courses/learners_csv.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "courses/errors.h"
#include "courses/learners_csv.h"
#include "tests/tap.h"

#define TODAY "2025-06-01"
#define HEADER "national_id,full_name,date_of_birth,email,student_code\n"

/* What the callback saw. */
struct seen {
	struct learner_row rows[16];
	size_t n;		/* calls */
	size_t stop_at;		/* return 42 on this call (1-based); 0: never */
};

static int
collect(const struct learner_row *row, void *arg)
{
	struct seen *s = arg;

	if (s->n < sizeof(s->rows) / sizeof(s->rows[0]))
		s->rows[s->n] = *row;
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 42 : 0;
}

/* Runs learners_csv_read over LEN bytes of DATA. */
static int
read_mem(const char *data, size_t len, size_t max_errors, struct import_report *rep,
	 struct seen *seen)
{
	FILE *fp = len ? fmemopen((void *)data, len, "r") : tmpfile();
	int rc;

	import_report_init(rep, max_errors);
	if (seen)
		memset(seen, 0, sizeof(*seen));
	if (!fp)
		return TC_EIO;
	rc = learners_csv_read(fp, TODAY, rep, seen ? collect : NULL, seen);
	fclose(fp);
	return rc;
}

static int
read_str(const char *s, struct import_report *rep, struct seen *seen)
{
	return read_mem(s, strlen(s), 100, rep, seen);
}

/* Checks one kept error. */
static void
is_error(const struct import_report *rep, size_t i, size_t row, size_t line,
	 const char *column, const char *message, const char *name)
{
	char what[200];

	if (i >= rep->kept) {
		snprintf(what, sizeof(what), "%s (error %zu kept)", name, i);
		ok(0, what);
		printf("#   only %zu errors kept\n", rep->kept);
		return;
	}
	snprintf(what, sizeof(what), "%s: row", name);
	is_int(rep->errors[i].row, row, what);
	snprintf(what, sizeof(what), "%s: line", name);
	is_int(rep->errors[i].line, line, what);
	snprintf(what, sizeof(what), "%s: column", name);
	is_str(rep->errors[i].column, column, what);
	snprintf(what, sizeof(what), "%s: message", name);
	is_str(rep->errors[i].message, message, what);
}

static void
test_good(void)
{
	struct import_report rep;
	struct seen s;

	is_int(read_str(HEADER
			"001234567890,Nguyễn Thị Ánh,2001-02-28,anh@example.edu.vn,SV001\n"
			"\"098765432109\",\"Trần, Văn Bình\",,,\n"
			"111111111111,Lê Đức Hùng,2000-02-29,hung@example.vn,2024-CNTT-07",
			&rep, &s), 0, "good file: read");
	is_int(rep.rows, 3, "good file: 3 rows");
	is_int(rep.valid, 3, "good file: 3 valid");
	is_int(rep.nerrors, 0, "good file: no errors");
	is_int(rep.fatal, 0, "good file: not fatal");
	is_int(s.n, 3, "good file: callback called for each row");
	is_str(s.rows[0].national_id, "001234567890", "row 1 national_id");
	is_str(s.rows[0].full_name, "Nguyễn Thị Ánh", "row 1 Vietnamese name kept exactly");
	is_str(s.rows[0].date_of_birth, "2001-02-28", "row 1 date_of_birth");
	is_str(s.rows[0].email, "anh@example.edu.vn", "row 1 email");
	is_str(s.rows[0].student_code, "SV001", "row 1 student_code");
	is_int(s.rows[0].row, 1, "row 1 number");
	is_int(s.rows[0].line, 2, "row 1 line");
	is_str(s.rows[1].full_name, "Trần, Văn Bình", "row 2 quoted name with a comma");
	is_str(s.rows[1].date_of_birth, "", "row 2 empty date");
	is_str(s.rows[1].email, "", "row 2 empty email");
	is_str(s.rows[1].student_code, "", "row 2 empty student code");
	is_str(s.rows[2].date_of_birth, "2000-02-29", "row 3 leap day");
	is_int(s.rows[2].row, 3, "row 3 number");
	is_int(s.rows[2].line, 4, "row 3 line");
	import_report_cleanup(&rep);

	is_int(read_str(" email , student_code,full_name ,national_id\r\n"
			"a@b.vn,X1,  Phạm Minh Châu  , 123456789012 \r\n",
			&rep, &s), 0, "reordered columns: read");
	is_int(rep.valid, 1, "reordered columns: valid");
	is_str(s.rows[0].national_id, "123456789012", "reordered: national_id, trimmed");
	is_str(s.rows[0].full_name, "Phạm Minh Châu", "reordered: name trimmed");
	is_str(s.rows[0].email, "a@b.vn", "reordered: email");
	is_str(s.rows[0].student_code, "X1", "reordered: student code");
	is_str(s.rows[0].date_of_birth, "", "absent column reads as empty");
	import_report_cleanup(&rep);

	is_int(read_str("\xEF\xBB\xBF" "full_name,national_id\n"
			"Võ Thị Sáu,000000000001\n\n   \n"
			"\"Đỗ\nHoa\",000000000002\n"
			"Hồ Xuân Hương,000000000003\n\n",
			&rep, &s), 0, "required columns only, BOM, blank lines: read");
	is_int(rep.rows, 3, "blank lines are not rows");
	is_int(rep.valid, 2, "two valid rows");
	is_int(s.n, 2, "callback called twice");
	is_str(s.rows[1].full_name, "Hồ Xuân Hương", "third row read");
	is_int(s.rows[1].row, 3, "row number");
	is_int(s.rows[1].line, 7, "line number after blank lines and a two-line field");
	is_error(&rep, 0, 2, 5, "full_name", "full_name contains a control character (U+000A)",
		 "a newline inside a name");
	import_report_cleanup(&rep);
}

static void
test_bad_rows(void)
{
	struct import_report rep;
	struct seen s;

	is_int(read_str(HEADER
			"12345678901,An,,,\n"				/* 1 */
			"1234567890123,An,,,\n"				/* 2 */
			"12345A789012,An,,,\n"				/* 3 */
			",An,,,\n"					/* 4 */
			"123456789012,   ,,,\n"				/* 5 */
			"123456789013,Bình,2023-02-30,,\n"		/* 6 */
			"123456789014,Bình,2030-01-01,,\n"		/* 7 */
			"123456789015,Bình,01/02/2003,,\n"		/* 8 */
			"123456789016,Bình,1899-12-31,,\n"		/* 9 */
			"123456789017,Bình,,abc,\n"			/* 10 */
			"123456789018,Bình,,a@b@c.vn,\n"		/* 11 */
			"123456789019,Bình,,a@localhost,\n"		/* 12 */
			"123456789020,Bình,,,SV 1\n"			/* 13 */
			"123456789021,Bình,,\n"				/* 14 */
			"12345678902x,Bình,,a b@c.vn,\n"		/* 15 */
			"123456789022,Bình,2001-13-01,,SVé\n"		/* 16 */
			"123456789023,Hùng,2025-06-01,h@x.vn,OK\n",	/* 17 */
			&rep, &s), 0, "bad rows: read");
	is_int(rep.rows, 17, "bad rows: 17 rows");
	is_int(rep.valid, 1, "bad rows: only the last is valid");
	is_int(rep.nerrors, 18, "bad rows: 18 errors");
	is_int(rep.kept, 18, "bad rows: all kept");
	is_int(rep.fatal, 0, "bad rows: not fatal");
	is_int(s.n, 1, "only the valid row reaches the callback");
	is_str(s.rows[0].national_id, "123456789023", "and it is the right row");
	is_error(&rep, 0, 1, 2, "national_id",
		 "national_id must be exactly 12 digits, got 11 characters", "11 digits");
	is_error(&rep, 1, 2, 3, "national_id",
		 "national_id must be exactly 12 digits, got 13 characters", "13 digits");
	is_error(&rep, 2, 3, 4, "national_id",
		 "national_id must be 12 digits 0-9, character 6 is 'A'", "letter in ID");
	is_error(&rep, 3, 4, 5, "national_id", "national_id is required", "empty ID");
	is_error(&rep, 4, 5, 6, "full_name", "full_name is required", "blank name");
	is_error(&rep, 5, 6, 7, "date_of_birth",
		 "date_of_birth 2023-02-30 is not a calendar date", "30 February");
	is_error(&rep, 6, 7, 8, "date_of_birth",
		 "date_of_birth 2030-01-01 is in the future", "future date of birth");
	is_error(&rep, 7, 8, 9, "date_of_birth",
		 "date_of_birth '01/02/2003' is not a date in YYYY-MM-DD form", "date shape");
	is_error(&rep, 8, 9, 10, "date_of_birth",
		 "date_of_birth 1899-12-31 is before 1900-01-01", "date too early");
	is_error(&rep, 9, 10, 11, "email", "email 'abc' has no @", "email without @");
	is_error(&rep, 10, 11, 12, "email", "email 'a@b@c.vn' has more than one @",
		 "email with two @");
	is_error(&rep, 11, 12, 13, "email",
		 "email 'a@localhost' needs a domain with a dot after the @",
		 "email without a dot");
	is_error(&rep, 12, 13, 14, "student_code", "student_code 'SV 1' contains a space",
		 "space in student code");
	is_error(&rep, 13, 14, 15, "",
		 "expected 5 fields (one per header column), got 4", "missing field");
	is_error(&rep, 14, 15, 16, "national_id",
		 "national_id must be 12 digits 0-9, character 12 is 'x'",
		 "two errors in a row: the ID");
	is_error(&rep, 15, 15, 16, "email",
		 "email 'a b@c.vn' contains a space or control character",
		 "two errors in a row: the email");
	is_error(&rep, 16, 16, 17, "date_of_birth",
		 "date_of_birth 2001-13-01 is not a calendar date", "month 13");
	is_error(&rep, 17, 16, 17, "student_code",
		 "student_code 'SVé' may only contain printable ASCII characters "
		 "without spaces", "non-ASCII student code");
	import_report_cleanup(&rep);
}

static void
test_long_values(void)
{
	struct import_report rep;
	char data[2048], name[260], email[300], code[80];
	int n;

	memset(name, 'a', 201);
	name[201] = '\0';
	memset(email, 'e', 250);
	memcpy(email + 250, "@x.vn", 6);
	memset(code, 'C', 65);
	code[65] = '\0';
	n = snprintf(data, sizeof(data), HEADER "123456789012,%s,,,\n"
		     "123456789013,Ánh,,%s,\n123456789014,Ánh,,,%s\n", name, email, code);
	is_int(read_mem(data, (size_t)n, 10, &rep, NULL), 0, "long values: read");
	is_int(rep.nerrors, 3, "long values: three errors");
	is_error(&rep, 0, 1, 2, "full_name", "full_name is longer than 200 bytes (201 bytes)",
		 "name too long");
	is_error(&rep, 1, 2, 3, "email", "email is longer than 254 bytes (255 bytes)",
		 "email too long");
	is_error(&rep, 2, 3, 4, "student_code",
		 "student_code is longer than 64 bytes (65 bytes)", "student code too long");
	import_report_cleanup(&rep);
}

static void
test_duplicates(void)
{
	struct import_report rep;
	struct seen s;

	is_int(read_str(HEADER
			"000000000000,A,,,\n"
			"123456789012,B,,,\n"
			"000000000001,C,,,\n"
			"123456789012,D,,,\n"
			"000000000000,E,,,\n"
			"123456789012,F,,x,\n",
			&rep, &s), 0, "duplicates: read");
	is_int(rep.valid, 3, "duplicates: first occurrences valid");
	is_int(rep.nerrors, 4, "duplicates: four errors");
	is_error(&rep, 0, 4, 5, "national_id",
		 "national_id 123456789012 is a duplicate of row 2", "duplicate names the row");
	is_error(&rep, 1, 5, 6, "national_id",
		 "national_id 000000000000 is a duplicate of row 1", "all-zero ID duplicate");
	is_error(&rep, 2, 6, 7, "national_id",
		 "national_id 123456789012 is a duplicate of row 2",
		 "third occurrence names the first row");
	is_error(&rep, 3, 6, 7, "email", "email 'x' is too short", "and its other error");
	is_int(s.n, 3, "duplicates never reach the callback");
	is_str(s.rows[2].full_name, "C", "the third valid row is C");
	import_report_cleanup(&rep);
}

static void
test_utf8(void)
{
	struct import_report rep;
	struct seen s;

	is_int(read_str(HEADER
			"123456789012,Nguy\xE1\xBB\x85n Th\xE1\xBB\x8B \xC3\x81nh,,,\n"
			"123456789013,Nguy\xEAn,,,\n"
			"123456789014,\xC3\x81nh,,,\n",
			&rep, &s), 0, "UTF-8: read");
	is_int(rep.valid, 2, "Vietnamese names accepted");
	is_str(s.rows[0].full_name, "Nguyễn Thị Ánh", "name bytes unchanged");
	is_error(&rep, 0, 2, 3, "", "field 2 is not valid UTF-8", "Latin-1 name rejected");
	import_report_cleanup(&rep);

	is_int(read_str("national_id,full_name\n"
			"123456789012,\"Anh \"Ba\"\n"
			"123456789013,Ba\n",
			&rep, &s), 0, "CSV error in a row: read");
	is_int(rep.rows, 2, "the bad record is a row");
	is_int(rep.valid, 1, "the next row is still checked");
	ok(strncmp(rep.errors[0].message, "unexpected text after the closing quote", 39) == 0,
	   "the CSV reader's message is reported");
	import_report_cleanup(&rep);
}

static void
test_header(void)
{
	struct import_report rep;

	is_int(read_str("", &rep, NULL), 0, "empty file: read");
	is_int(rep.fatal, 1, "empty file is fatal");
	is_int(rep.nerrors, 1, "one error");
	is_error(&rep, 0, 0, 1, "", "the file is empty", "empty file");
	import_report_cleanup(&rep);

	is_int(read_str("\n  \r\n\n", &rep, NULL), 0, "blank lines only: read");
	is_int(rep.fatal, 1, "blank lines only is fatal");
	is_str(rep.kept ? rep.errors[0].message : "", "the file is empty", "as empty");
	import_report_cleanup(&rep);

	is_int(read_str(HEADER, &rep, NULL), 0, "header only: read");
	is_int(rep.fatal, 0, "header only is not fatal");
	is_int(rep.rows, 0, "header only: 0 rows");
	is_int(rep.nerrors, 0, "header only: no errors");
	import_report_cleanup(&rep);

	is_int(read_str("national_id,full_name,nickname\n123456789012,A,x\n", &rep, NULL), 0,
	       "unknown column: read");
	is_int(rep.fatal, 1, "unknown column is fatal");
	is_int(rep.rows, 0, "no rows read after a bad header");
	is_error(&rep, 0, 0, 1, "nickname",
		 "unknown column 'nickname' (known: national_id, full_name, "
		 "date_of_birth, email, student_code)", "unknown column");
	import_report_cleanup(&rep);

	is_int(read_str("National_ID,full_name\n", &rep, NULL), 0, "capitalised column: read");
	is_error(&rep, 0, 0, 1, "National_ID",
		 "unknown column 'National_ID' (column names are lower case: national_id)",
		 "capitalised column");
	is_int(rep.nerrors, 2, "and national_id is then missing");
	import_report_cleanup(&rep);

	is_int(read_str("full_name,email,date_of_birth\n", &rep, NULL), 0, "missing ID: read");
	is_int(rep.fatal, 1, "missing national_id is fatal");
	is_error(&rep, 0, 0, 1, "national_id", "required column national_id is missing",
		 "missing national_id column");
	import_report_cleanup(&rep);

	is_int(read_str("national_id,full_name,email,email\n", &rep, NULL), 0,
	       "duplicate column: read");
	is_error(&rep, 0, 0, 1, "email", "column email appears more than once",
		 "duplicate column");
	import_report_cleanup(&rep);

	is_int(read_str("national_id,,full_name\n", &rep, NULL), 0, "empty column: read");
	is_error(&rep, 0, 0, 1, "", "column 2 of the header has no name", "empty column name");
	import_report_cleanup(&rep);

	is_int(read_str("national_id,\"full\"name\n", &rep, NULL), 0, "bad CSV header: read");
	is_int(rep.fatal, 1, "bad CSV header is fatal");
	is_error(&rep, 0, 0, 1, "", "the header row is not valid CSV: unexpected text "
		 "after the closing quote of field 2", "bad CSV header");
	import_report_cleanup(&rep);
}

static void
test_cap_and_callback(void)
{
	struct import_report rep;
	struct seen s;
	char data[4096];
	size_t len;
	FILE *fp;
	int n;

	len = (size_t)snprintf(data, sizeof(data), "%s", HEADER);
	for (int i = 0; i < 10; i++) {
		n = snprintf(data + len, sizeof(data) - len, "12345678901%d,Ánh,,,\n"
			     "1234567890,Bad,,,\n", i);
		len += (size_t)n;
	}
	is_int(read_mem(data, len, 3, &rep, &s), 0, "max_errors: read");
	is_int(rep.rows, 20, "max_errors: 20 rows");
	is_int(rep.nerrors, 10, "nerrors counts past the cap");
	is_int(rep.kept, 3, "only max_errors kept");
	is_int(rep.errors[2].row, 6, "the kept ones are the first");
	is_int(rep.valid, 10, "valid rows counted");
	is_int(s.n, 10, "callback got exactly the valid rows");
	is_str(s.rows[9].national_id, "123456789019", "the last one with its content");
	is_int(s.rows[9].row, 19, "and its row number");

	/* Second pass over the same report, as an import would do. */
	fp = fmemopen(data, len, "r");
	memset(&s, 0, sizeof(s));
	s.stop_at = 4;
	is_int(learners_csv_read(fp, TODAY, &rep, collect, &s), 42,
	       "a non-zero callback result stops the read and is returned");
	is_int(s.n, 4, "no call after the stop");
	is_int(rep.valid, 4, "report reset for the second pass");
	is_int(rep.nerrors, 3, "errors up to the stop");
	rewind(fp);
	is_int(learners_csv_read(fp, TODAY, &rep, NULL, NULL), 0, "third pass without callback");
	is_int(rep.nerrors, 10, "counts the same as the first pass");
	fclose(fp);
	import_report_cleanup(&rep);

	is_int(read_mem(data, len, 0, &rep, NULL), 0, "max_errors 0: read");
	is_int(rep.nerrors, 10, "max_errors 0: counted");
	is_int(rep.kept, 0, "max_errors 0: none kept");
	import_report_cleanup(&rep);
	import_report_cleanup(&rep);
	ok(1, "cleanup twice is safe");
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
test_big(void)
{
	static const char *const family[] = { "Nguyễn", "Trần", "Lê", "Phạm", "Đặng" };
	static const char *const middle[] = { "Văn", "Thị", "Hữu", "Ngọc" };
	static const char *const given[] = { "Ánh", "Bình", "Hương", "Dũng", "Quỳnh", "Tú" };
	struct import_report rep;
	struct timespec t0;
	size_t rows = 100000;
	char msg[160];
	FILE *fp = tmpfile();
	long size;
	int rc;

	if (!fp) {
		ok(0, "tmpfile");
		return;
	}
	fputs(HEADER, fp);
	for (size_t i = 0; i < rows; i++)
		fprintf(fp, "%012llu,%s %s %s,%04zu-%02zu-%02zu,u%zu@example.edu.vn,SV%08zu\n",
			100000000000ULL + (unsigned long long)i * 7919ULL,
			family[i % 5], middle[i % 4], given[i % 6],
			1960 + i % 48, 1 + i % 12, 1 + i % 28, i, i);
	size = ftell(fp);
	rewind(fp);
	import_report_init(&rep, 100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = learners_csv_read(fp, TODAY, &rep, NULL, NULL);
	snprintf(msg, sizeof(msg), "100,000 learner rows (%ld bytes) validated in %.1f ms",
		 size, ms_since(&t0));
	diag(msg);
	is_int(rc, 0, "100k rows: read");
	is_int(rep.rows, rows, "100k rows: all rows read");
	is_int(rep.valid, rows, "100k rows: all valid");
	is_int(rep.nerrors, 0, "100k rows: no errors");
	import_report_cleanup(&rep);
	fclose(fp);
}

/* 10 MB of random bytes, first alone, then after a valid header. */
static void
test_random_bytes(void)
{
	size_t len = 10u << 20, hlen = strlen(HEADER);
	char *data = malloc(len), msg[160];
	struct import_report rep;
	struct timespec t0;
	uint64_t x = 88172645463325252ULL;
	int rc;

	if (!data) {
		ok(0, "malloc");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		data[i] = (char)(x >> 24);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = read_mem(data, len, 100, &rep, NULL);
	snprintf(msg, sizeof(msg), "10 MB of random bytes: %.1f ms", ms_since(&t0));
	diag(msg);
	is_int(rc, 0, "random bytes: read");
	is_int(rep.fatal, 1, "random bytes: fatal header error");
	import_report_cleanup(&rep);

	memcpy(data, HEADER, hlen);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = read_mem(data, len, 100, &rep, NULL);
	snprintf(msg, sizeof(msg), "header + 10 MB of random bytes: %zu rows, %zu errors, "
		 "%.1f ms", rep.rows, rep.nerrors, ms_since(&t0));
	diag(msg);
	is_int(rc, 0, "header + random bytes: read to the end");
	ok(rep.nerrors > 1000 && rep.kept == 100 && rep.valid == 0,
	   "header + random bytes: every row rejected");
	import_report_cleanup(&rep);
	free(data);
}

/* Finds scripts/bench/gen_learners.py from the source tree. */
static int
find_generator(char *path, size_t n)
{
	static const char *const tops[] = { NULL, ".", "..", "../.." };
	const char *env = getenv("TOP_SRCDIR");

	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		const char *top = i == 0 ? env : tops[i];

		if (!top)
			continue;
		snprintf(path, n, "%s/scripts/bench/gen_learners.py", top);
		if (access(path, R_OK) == 0)
			return 1;
	}
	return 0;
}

/* The generator's --bad K rows give exactly K errors. */
static void
test_generator(void)
{
	char script[1024], cmd[1200];
	const char *py = getenv("PYTHON3");
	struct import_report rep;
	FILE *fp;
	int rc;

	if (!find_generator(script, sizeof(script)) || access(py ? py : "/usr/bin/python3", X_OK)) {
		diag("gen_learners.py or python3 not found: generator test skipped");
		return;
	}
	snprintf(cmd, sizeof(cmd), "'%s' '%s' 2000 --bad 39 --seed 7",
		 py ? py : "/usr/bin/python3", script);
	fp = popen(cmd, "r");
	if (!fp) {
		ok(0, "popen the generator");
		return;
	}
	import_report_init(&rep, 100);
	rc = learners_csv_read(fp, TODAY, &rep, NULL, NULL);
	is_int(pclose(fp), 0, "generator ran");
	is_int(rc, 0, "generated file: read");
	is_int(rep.rows, 2000, "generated file: 2000 rows");
	is_int(rep.nerrors, 39, "generated file: one error per bad row");
	is_int(rep.valid, 2000 - 39, "generated file: the rest valid");
	import_report_cleanup(&rep);
}

int
main(void)
{
	test_good();
	test_bad_rows();
	test_long_values();
	test_duplicates();
	test_utf8();
	test_header();
	test_cap_and_callback();
	test_big();
	test_random_bytes();
	test_generator();
	return done_testing();
}
