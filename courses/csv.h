/*
 * csv.h - a streaming CSV reader (RFC 4180) for imports, and the field
 * writer of every CSV export (csv_put_field).
 *
 * Records are read one at a time from a FILE*, so a file of any size is
 * never held whole in memory. Fields may be quoted ("a, ""b"""), quoted
 * fields may span lines, line ends are CRLF or LF, a UTF-8 byte order mark
 * at the very start is skipped. Every field must be valid UTF-8.
 */
#ifndef TINCHI_CSV_H
#define TINCHI_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "courses/dynbuf.h"

struct csv_reader;

/*
 * Reads from FP (not owned). A field longer than MAX_FIELD bytes or a
 * record with more than MAX_FIELDS fields is an error. 0 or TC_ENOMEM.
 */
int csv_open(FILE *fp, size_t max_field, size_t max_fields, struct csv_reader **out);
void csv_close(struct csv_reader *r);	/* accepts NULL */

/*
 * Reads the next record. Returns 1 with *fields / *nfields set (the strings
 * are borrowed until the next call), 0 at the end of input, or TC_EINVALID
 * for a malformed record (unterminated or stray quote, invalid UTF-8, a NUL
 * byte, a field or record over the limits) with csv_error() saying why; the
 * reader then skips to the next line so that later records can still be
 * checked, or TC_EIO when reading failed. A blank line is a record with one
 * empty field.
 */
int csv_next(struct csv_reader *r, char ***fields, size_t *nfields);

/* Line number (1-based) where the last record returned began. */
size_t csv_line(const struct csv_reader *r);

/* Why the last csv_next failed. Borrowed, never NULL. */
const char *csv_error(const struct csv_reader *r);

/*
 * Appends S as one CSV field to OUT, then "," or, when LAST, "\r\n".
 * Quoted when it holds a comma, quote or line end (quotes doubled). Safe
 * against CSV (formula) injection: a field a spreadsheet would run as a
 * formula (starting with '=', '+', '-', '@', a tab or a carriage return,
 * or with spaces and tabs and then '=', '+', '-' or '@') gets a leading
 * apostrophe ("=1+1" becomes "'=1+1"). Callers write
 * numbers they made themselves with dynbuf_printf, not through here.
 * 0, TC_ENOMEM or TC_ETOOBIG (OUT's cap); OUT may hold part of the field
 * on failure.
 */
int csv_put_field(struct dynbuf *out, const char *s, int last);

#endif
