/*
 * learners_csv.c - see learners_csv.h.
 *
 * One pass over the file through the CSV reader: the header row maps each
 * field position to a known column, then every row is checked column by
 * column. Each problem becomes one import_error; a row with any error is
 * not handed to the callback. The identity.h checks decide what is valid;
 * the describe_* helpers only work out, for a value already rejected, a
 * message that tells the person fixing the file what is wrong.
 *
 * Lines that are blank (or hold only spaces) are skipped and do not count
 * as rows, so a trailing empty line is harmless. Values and column names
 * are trimmed of surrounding spaces and tabs.
 *
 * Duplicate national IDs are found with an open-addressing hash set of the
 * IDs as integers, which grows by doubling: no allocation per row.
 *
 * REP is reset at the start of each read (its error array is reused), so
 * the same report can serve a validation pass and an import pass.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "courses/csv.h"
#include "courses/errors.h"
#include "courses/learners_csv.h"

#define LEARNERS_MAX_FIELD 1024		/* bytes of one field, before trimming */
#define LEARNERS_MAX_FIELDS 64		/* fields in one record */
#define EXCERPT_MAX 48			/* bytes of a value quoted in a message */

enum column {
	COL_NATIONAL_ID,
	COL_FULL_NAME,
	COL_DATE_OF_BIRTH,
	COL_EMAIL,
	COL_STUDENT_CODE,
	COL_COUNT
};

static const char *const column_names[COL_COUNT] = {
	[COL_NATIONAL_ID] = "national_id",
	[COL_FULL_NAME] = "full_name",
	[COL_DATE_OF_BIRTH] = "date_of_birth",
	[COL_EMAIL] = "email",
	[COL_STUDENT_CODE] = "student_code",
};

static const int column_required[COL_COUNT] = {
	[COL_NATIONAL_ID] = 1,
	[COL_FULL_NAME] = 1,
};

/* The national IDs seen so far, with the row each first appeared on. */
struct id_entry {
	uint64_t key;		/* the ID's value + 1; 0 marks a free slot */
	size_t row;
};

struct id_set {
	struct id_entry *slots;	/* owned */
	size_t mask;		/* slots - 1 (a power of two minus one) */
	size_t count;
	unsigned shift;		/* 64 - log2(slots) */
};

/* State of one read. */
struct reader {
	struct csv_reader *csv;		/* owned */
	struct import_report *rep;	/* not owned */
	const char *today;
	int colmap[LEARNERS_MAX_FIELDS];	/* field position -> enum column */
	size_t ncols;
	struct id_set ids;
};

void
import_report_init(struct import_report *rep, size_t max_errors)
{
	memset(rep, 0, sizeof(*rep));
	rep->max_errors = max_errors;
}

void
import_report_cleanup(struct import_report *rep)
{
	if (!rep)
		return;
	free(rep->errors);
	rep->errors = NULL;
	rep->kept = 0;
}

/* Capacity of rep->errors when it holds KEPT entries: it grows 8, 16, 32
 * ... and stops at max_errors. */
static size_t
errors_capacity(size_t kept, size_t max)
{
	size_t c = 8;

	if (kept == 0)
		return 0;
	while (c < kept)
		c *= 2;
	return c < max ? c : max;
}

/* Copies S into DST (DSTSZ bytes, at least 4), at most MAX bytes of it, cutting only
 * between UTF-8 characters, replacing control bytes by '?' and marking a
 * cut with "...". */
static void
excerpt(char *dst, size_t dstsz, const char *s, size_t max)
{
	size_t n = strlen(s), i;
	int cut = 0;

	if (n > max || n >= dstsz) {
		n = max < dstsz - 4 ? max : dstsz - 4;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		cut = 1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
	}
	if (cut) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

/*
 * Counts one error and keeps it when fewer than max_errors are kept.
 * COLUMN may be NULL. 0 or TC_ENOMEM.
 */
static int
add_error(struct import_report *rep, size_t row, size_t line, const char *column,
	  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
add_error(struct import_report *rep, size_t row, size_t line, const char *column,
	  const char *fmt, ...)
{
	struct import_error *e;
	va_list ap;
	size_t cap;

	rep->nerrors++;
	if (rep->kept >= rep->max_errors)
		return 0;
	cap = errors_capacity(rep->kept, rep->max_errors);
	if (rep->kept == cap) {
		size_t want = rep->kept ? rep->kept * 2 : 8;

		if (want > rep->max_errors)
			want = rep->max_errors;
		e = realloc(rep->errors, want * sizeof(*e));
		if (!e)
			return TC_ENOMEM;
		rep->errors = e;
	}
	e = &rep->errors[rep->kept++];
	e->row = row;
	e->line = line;
	excerpt(e->column, sizeof(e->column), column ? column : "", sizeof(e->column) - 1);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return 0;
}

/* Trims spaces and tabs from both ends of S, in place. */
static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	s[n] = '\0';
	return s;
}

/* Decodes the UTF-8 character at S (already known to be well formed).
 * Returns its length (at least 1). */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0 && s[1]) {
		*cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	}
	if ((s[0] & 0xF0) == 0xE0 && s[1] && s[2]) {
		*cp = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) |
		      (s[2] & 0x3F);
		return 3;
	}
	if ((s[0] & 0xF8) == 0xF0 && s[1] && s[2] && s[3]) {
		*cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
		      ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		return 4;
	}
	*cp = 0xFFFD;
	return 1;
}

/* Number of characters (code points) in the UTF-8 string S. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* ---- messages for rejected values ------------------------------------- */

static void
describe_national_id(const char *v, char *msg, size_t n)
{
	size_t chars = utf8_chars(v), pos = 0;
	const unsigned char *p = (const unsigned char *)v;
	uint32_t cp;

	if (*v == '\0') {
		snprintf(msg, n, "national_id is required");
		return;
	}
	if (chars != NATIONAL_ID_LEN) {
		snprintf(msg, n, "national_id must be exactly %d digits, got %zu character%s",
			 NATIONAL_ID_LEN, chars, chars == 1 ? "" : "s");
		return;
	}
	while (*p) {
		size_t len = utf8_decode(p, &cp);

		pos++;
		if (cp < '0' || cp > '9') {
			if (cp < 0x20 || cp == 0x7F)
				snprintf(msg, n, "national_id must be 12 digits 0-9, "
					 "character %zu is a control character", pos);
			else
				snprintf(msg, n, "national_id must be 12 digits 0-9, "
					 "character %zu is '%.*s'", pos, (int)len,
					 (const char *)p);
			return;
		}
		p += len;
	}
	snprintf(msg, n, "national_id must be exactly %d digits", NATIONAL_ID_LEN);
}

static void
describe_full_name(const char *v, char *msg, size_t n)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t len = strlen(v);
	uint32_t cp;

	if (len == 0) {
		snprintf(msg, n, "full_name is required");
		return;
	}
	if (len > PERSON_NAME_MAX) {
		snprintf(msg, n, "full_name is longer than %d bytes (%zu bytes)",
			 PERSON_NAME_MAX, len);
		return;
	}
	while (*p) {
		p += utf8_decode(p, &cp);
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
			snprintf(msg, n, "full_name contains a control character (U+%04X)",
				 (unsigned)cp);
			return;
		}
	}
	snprintf(msg, n, "full_name has no visible characters");
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return (m == 2 && leap) ? 29 : days[m - 1];
}

static void
describe_date(const char *v, const char *today, char *msg, size_t n)
{
	static const char shape[] = "dddd-dd-dd";
	char ex[EXCERPT_MAX + 4];
	int y, m, d;

	excerpt(ex, sizeof(ex), v, EXCERPT_MAX);
	for (size_t i = 0; i < sizeof(shape); i++) {
		int good = shape[i] == 'd' ? (v[i] >= '0' && v[i] <= '9') : v[i] == shape[i];

		if (!good) {
			snprintf(msg, n, "date_of_birth '%s' is not a date in "
				 "YYYY-MM-DD form", ex);
			return;
		}
	}
	y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
	m = (v[5] - '0') * 10 + (v[6] - '0');
	d = (v[8] - '0') * 10 + (v[9] - '0');
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		snprintf(msg, n, "date_of_birth %s is not a calendar date", ex);
	else if (y < 1900)
		snprintf(msg, n, "date_of_birth %s is before 1900-01-01", ex);
	else if (today && strcmp(v, today) > 0)
		snprintf(msg, n, "date_of_birth %s is in the future", ex);
	else
		snprintf(msg, n, "date_of_birth %s is not a valid date", ex);
}

static void
describe_email(const char *v, char *msg, size_t n)
{
	char ex[EXCERPT_MAX + 4];
	size_t len = strlen(v), ats = 0;
	const char *at = NULL, *dom;

	if (len > EMAIL_MAX) {
		snprintf(msg, n, "email is longer than %d bytes (%zu bytes)", EMAIL_MAX, len);
		return;
	}
	excerpt(ex, sizeof(ex), v, EXCERPT_MAX);
	if (len < 3) {
		snprintf(msg, n, "email '%s' is too short", ex);
		return;
	}
	for (const char *s = v; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c == 0x7F) {
			snprintf(msg, n, "email '%s' contains a space or control character", ex);
			return;
		}
		if (c == '@') {
			ats++;
			at = s;
		}
	}
	if (ats == 0)
		snprintf(msg, n, "email '%s' has no @", ex);
	else if (ats > 1)
		snprintf(msg, n, "email '%s' has more than one @", ex);
	else if (at == v)
		snprintf(msg, n, "email '%s' has nothing before the @", ex);
	else {
		dom = at + 1;
		if (*dom == '\0' || !strchr(dom, '.') || *dom == '.' ||
		    dom[strlen(dom) - 1] == '.' || strlen(dom) < 3)
			snprintf(msg, n, "email '%s' needs a domain with a dot after "
				 "the @", ex);
		else
			snprintf(msg, n, "email '%s' is not a valid address", ex);
	}
}

static void
describe_student_code(const char *v, char *msg, size_t n)
{
	char ex[EXCERPT_MAX + 4];
	size_t len = strlen(v);

	if (len > STUDENT_CODE_MAX) {
		snprintf(msg, n, "student_code is longer than %d bytes (%zu bytes)",
			 STUDENT_CODE_MAX, len);
		return;
	}
	excerpt(ex, sizeof(ex), v, EXCERPT_MAX);
	if (strchr(v, ' '))
		snprintf(msg, n, "student_code '%s' contains a space", ex);
	else
		snprintf(msg, n, "student_code '%s' may only contain printable ASCII "
			 "characters without spaces", ex);
}

/* ---- duplicate national IDs ------------------------------------------- */

static size_t
id_slot(const struct id_set *s, uint64_t key)
{
	return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> s->shift);
}

/* Doubles the table (or creates it). 0 or TC_ENOMEM. */
static int
id_set_grow(struct id_set *s)
{
	size_t nslots = s->slots ? (s->mask + 1) * 2 : 4096;
	struct id_entry *slots, *old = s->slots;
	size_t oldn = s->slots ? s->mask + 1 : 0;
	unsigned bits = 0;

	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return TC_ENOMEM;
	while (((size_t)1 << bits) < nslots)
		bits++;
	s->slots = slots;
	s->mask = nslots - 1;
	s->shift = 64 - bits;
	for (size_t i = 0; i < oldn; i++) {
		size_t j;

		if (old[i].key == 0)
			continue;
		for (j = id_slot(s, old[i].key); slots[j].key; j = (j + 1) & s->mask)
			;
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

/*
 * Adds the 12-digit ID to the set for ROW. When it is there already,
 * *FIRST receives the row it was first seen on; otherwise 0.
 * 0 or TC_ENOMEM.
 */
static int
id_set_add(struct id_set *s, const char *id, size_t row, size_t *first)
{
	uint64_t key = 0;
	size_t j;
	int rc;

	*first = 0;
	for (size_t i = 0; i < NATIONAL_ID_LEN; i++)
		key = key * 10 + (uint64_t)(id[i] - '0');
	key++;
	if ((!s->slots || s->count * 2 >= s->mask + 1) && (rc = id_set_grow(s)) != 0)
		return rc;
	for (j = id_slot(s, key); s->slots[j].key; j = (j + 1) & s->mask)
		if (s->slots[j].key == key) {
			*first = s->slots[j].row;
			return 0;
		}
	s->slots[j].key = key;
	s->slots[j].row = row;
	s->count++;
	return 0;
}

/* ---- header and rows -------------------------------------------------- */

static int
is_blank(char **f, size_t nf)
{
	return nf == 1 && *trim(f[0]) == '\0';
}

/* Adds a fatal error about the header. 0 or TC_ENOMEM. */
static int
header_error(struct reader *rd, const char *column, const char *msg)
{
	rd->rep->fatal = 1;
	return add_error(rd->rep, 0, csv_line(rd->csv), column, "%s", msg);
}

/*
 * Reads the header row and fills rd->colmap. Problems are fatal errors in
 * the report (all of them are reported). 0 or TC_EIO / TC_ENOMEM.
 */
static int
read_header(struct reader *rd)
{
	char msg[sizeof(((struct import_error *)0)->message)];
	char ex[EXCERPT_MAX + 4];
	int seen[COL_COUNT] = { 0 };
	char **f;
	size_t nf;
	int rc;

	do
		rc = csv_next(rd->csv, &f, &nf);
	while (rc == 1 && is_blank(f, nf));
	if (rc == 0)
		return header_error(rd, NULL, "the file is empty");
	if (rc == TC_EINVALID) {
		snprintf(msg, sizeof(msg), "the header row is not valid CSV: %s",
			 csv_error(rd->csv));
		return header_error(rd, NULL, msg);
	}
	if (rc < 0)
		return rc;

	rd->ncols = nf;
	for (size_t i = 0; i < nf; i++) {
		const char *name = trim(f[i]);
		int col = -1;

		for (int c = 0; c < COL_COUNT; c++)
			if (strcmp(name, column_names[c]) == 0)
				col = c;
		rd->colmap[i] = col;
		rc = 0;
		excerpt(ex, sizeof(ex), name, EXCERPT_MAX);
		if (*name == '\0') {
			snprintf(msg, sizeof(msg), "column %zu of the header has no name",
				 i + 1);
			rc = header_error(rd, NULL, msg);
		} else if (col < 0) {
			const char *hint = NULL;

			for (int c = 0; c < COL_COUNT; c++)
				if (strcasecmp(name, column_names[c]) == 0)
					hint = column_names[c];
			if (hint)
				snprintf(msg, sizeof(msg), "unknown column '%s' (column "
					 "names are lower case: %s)", ex, hint);
			else
				snprintf(msg, sizeof(msg), "unknown column '%s' (known: "
					 "national_id, full_name, date_of_birth, email, "
					 "student_code)", ex);
			rc = header_error(rd, name, msg);
		} else if (seen[col]++) {
			snprintf(msg, sizeof(msg), "column %s appears more than once",
				 column_names[col]);
			rc = header_error(rd, name, msg);
		}
		if (rc)
			return rc;
	}
	for (int c = 0; c < COL_COUNT; c++)
		if (column_required[c] && !seen[c]) {
			snprintf(msg, sizeof(msg), "required column %s is missing",
				 column_names[c]);
			if ((rc = header_error(rd, column_names[c], msg)) != 0)
				return rc;
		}
	return 0;
}

/*
 * Checks one value V of column COL and copies it into ROW. Returns 1 when
 * it is valid, 0 when an error was added, or TC_ENOMEM.
 */
static int
check_value(struct reader *rd, struct learner_row *row, int col, const char *v)
{
	char msg[sizeof(((struct import_error *)0)->message)];
	char *dst = NULL;
	size_t dstsz = 0;
	int bad = 0, rc;

	switch (col) {
	case COL_NATIONAL_ID:
		if ((bad = national_id_check(v) != 0))
			describe_national_id(v, msg, sizeof(msg));
		dst = row->national_id;
		dstsz = sizeof(row->national_id);
		break;
	case COL_FULL_NAME:
		if ((bad = person_name_check(v) != 0))
			describe_full_name(v, msg, sizeof(msg));
		dst = row->full_name;
		dstsz = sizeof(row->full_name);
		break;
	case COL_DATE_OF_BIRTH:
		if ((bad = *v && date_check(v, rd->today) != 0))
			describe_date(v, rd->today, msg, sizeof(msg));
		dst = row->date_of_birth;
		dstsz = sizeof(row->date_of_birth);
		break;
	case COL_EMAIL:
		if ((bad = email_check(v) != 0))
			describe_email(v, msg, sizeof(msg));
		dst = row->email;
		dstsz = sizeof(row->email);
		break;
	case COL_STUDENT_CODE:
		if ((bad = student_code_check(v) != 0))
			describe_student_code(v, msg, sizeof(msg));
		dst = row->student_code;
		dstsz = sizeof(row->student_code);
		break;
	default:
		return 1;
	}
	if (!bad && strlen(v) >= dstsz) {	/* a check looser than the struct */
		snprintf(msg, sizeof(msg), "%s is longer than %zu bytes",
			 column_names[col], dstsz - 1);
		bad = 1;
	}
	if (bad) {
		rc = add_error(rd->rep, row->row, row->line, column_names[col], "%s", msg);
		return rc ? rc : 0;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

/*
 * Validates one record (not blank) as a learner row into ROW. Returns 1
 * when the row is valid, 0 when it had errors (added to the report), or
 * TC_ENOMEM.
 */
static int
check_row(struct reader *rd, char **f, size_t nf, struct learner_row *row)
{
	size_t first;
	int good = 1, rc;

	if (nf != rd->ncols) {
		rc = add_error(rd->rep, row->row, row->line, NULL,
			       "expected %zu fields (one per header column), got %zu",
			       rd->ncols, nf);
		return rc ? rc : 0;
	}
	for (size_t i = 0; i < nf; i++) {
		rc = check_value(rd, row, rd->colmap[i], trim(f[i]));
		if (rc < 0)
			return rc;
		if (rc == 0)
			good = 0;
		else if (rd->colmap[i] == COL_NATIONAL_ID) {
			if ((rc = id_set_add(&rd->ids, row->national_id, row->row, &first)) != 0)
				return rc;
			if (first) {
				rc = add_error(rd->rep, row->row, row->line, "national_id",
					       "national_id %s is a duplicate of row %zu",
					       row->national_id, first);
				if (rc)
					return rc;
				good = 0;
			}
		}
	}
	return good;
}

int
learners_csv_read(FILE *fp, const char *today, struct import_report *rep,
		  int (*cb)(const struct learner_row *row, void *arg), void *arg)
{
	struct reader rd = { .rep = rep, .today = today };
	struct learner_row row;
	char **f;
	size_t nf;
	int rc;

	rep->rows = rep->valid = rep->nerrors = rep->kept = 0;
	rep->fatal = 0;
	if ((rc = csv_open(fp, LEARNERS_MAX_FIELD, LEARNERS_MAX_FIELDS, &rd.csv)) != 0)
		goto out;
	if ((rc = read_header(&rd)) != 0 || rep->fatal)
		goto out;

	for (;;) {
		rc = csv_next(rd.csv, &f, &nf);
		if (rc == 0)
			break;
		if (rc == TC_EINVALID) {
			rep->rows++;
			rc = add_error(rep, rep->rows, csv_line(rd.csv), NULL, "%s",
				       csv_error(rd.csv));
			if (rc)
				goto out;
			continue;
		}
		if (rc < 0)
			goto out;
		if (is_blank(f, nf))
			continue;
		memset(&row, 0, sizeof(row));
		row.row = ++rep->rows;
		row.line = csv_line(rd.csv);
		if ((rc = check_row(&rd, f, nf, &row)) < 0)
			goto out;
		if (rc == 0)
			continue;
		rep->valid++;
		if (cb && (rc = cb(&row, arg)) != 0)
			goto out;
	}
	rc = 0;
out:
	free(rd.ids.slots);
	csv_close(rd.csv);
	return rc;
}
