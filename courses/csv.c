/*
 * csv.c - see csv.h.
 *
 * Input is read with fread() into a 64 KiB buffer and parsed by a small
 * state machine, byte by byte except that a run of ordinary bytes inside a
 * field is copied with one memcpy. The fields of the current record are
 * stored back to back, each followed by a NUL, in one growable buffer; an
 * array of offsets says where each begins, and the pointer array handed to
 * the caller is filled from it once the record is complete (the buffer may
 * move while it grows).
 *
 * Line numbers count every LF consumed, wherever it is (inside quotes too),
 * so a record's line is right even after records with embedded newlines.
 *
 * After an error the rest of the record is skipped up to the next line end
 * that lies outside quotes, following the quoting from the point where the
 * error was found. The one case where the quoting cannot be trusted is a
 * quoted field that grew past the limit: that is nearly always a missing
 * closing quote, so there the reader skips to the next line end, ignoring
 * quotes.
 *
 * csv_next() can also return TC_ENOMEM when the field buffer cannot grow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "courses/csv.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/identity.h"

#define CSV_INBUF (64 * 1024)

/* Where skip_rest() starts from. */
enum skip_mode {
	SKIP_FIELD_START,	/* at the first byte of a field */
	SKIP_UNQUOTED,		/* inside an unquoted field (or after a closed quote) */
	SKIP_QUOTED,		/* inside a quoted field */
	SKIP_LINE,		/* to the next LF, whatever the quotes */
};

struct csv_reader {
	FILE *fp;			/* not owned */
	size_t max_field, max_fields;
	size_t ipos, ilen;		/* unread bytes are in[ipos..ilen) */
	int eof, ioerr, started;
	size_t line;			/* line of the next byte */
	size_t rec_line;		/* line where the last record began */
	char *buf;			/* field bytes, NUL after each field */
	size_t blen, balloc;
	size_t *offs;			/* start of each field in buf */
	char **ptrs;			/* handed out by csv_next */
	size_t nalloc;			/* entries in offs and ptrs */
	char err[160];
	unsigned char in[CSV_INBUF];
};

/* Refills the input buffer. Returns the number of bytes now available;
 * 0 at the end of input or after a read error (r->ioerr set). */
static size_t
fill(struct csv_reader *r)
{
	size_t n;

	if (r->eof)
		return 0;
	n = fread(r->in, 1, sizeof(r->in), r->fp);
	if (n == 0) {
		r->eof = 1;
		if (ferror(r->fp))
			r->ioerr = 1;
		return 0;
	}
	r->ipos = 0;
	r->ilen = n;
	return n;
}

/* The next byte (counting lines), or EOF. */
static inline int
next_byte(struct csv_reader *r)
{
	int c;

	if (r->ipos == r->ilen && fill(r) == 0)
		return EOF;
	c = r->in[r->ipos++];
	if (c == '\n')
		r->line++;
	return c;
}

/* The next byte without consuming it, or EOF. */
static inline int
peek_byte(struct csv_reader *r)
{
	if (r->ipos == r->ilen && fill(r) == 0)
		return EOF;
	return r->in[r->ipos];
}

/* Skips a UTF-8 byte order mark at the very start of the input. Reads
 * until at least three bytes are buffered, since a pipe may return less. */
static void
skip_bom(struct csv_reader *r)
{
	size_t n;

	while (r->ilen < 3 && !r->eof) {
		n = fread(r->in + r->ilen, 1, sizeof(r->in) - r->ilen, r->fp);
		if (n == 0) {
			r->eof = 1;
			if (ferror(r->fp))
				r->ioerr = 1;
			break;
		}
		r->ilen += n;
	}
	if (r->ilen >= 3 && r->in[0] == 0xEF && r->in[1] == 0xBB && r->in[2] == 0xBF)
		r->ipos = 3;
}

/* Consumes the rest of a bad record, up to and including the next line end
 * outside quotes (see the comment at the top), or to the end of input. */
static void
skip_rest(struct csv_reader *r, enum skip_mode mode)
{
	int c;

	for (;;) {
		c = next_byte(r);
		if (c == EOF)
			return;
		switch (mode) {
		case SKIP_LINE:
			if (c == '\n')
				return;
			break;
		case SKIP_FIELD_START:
			if (c == '\n')
				return;
			if (c == '"')
				mode = SKIP_QUOTED;
			else if (c != ',')
				mode = SKIP_UNQUOTED;
			break;
		case SKIP_UNQUOTED:
			if (c == '\n')
				return;
			if (c == ',')
				mode = SKIP_FIELD_START;
			break;
		case SKIP_QUOTED:
			if (c == '"') {
				if (peek_byte(r) == '"')
					(void)next_byte(r);
				else
					mode = SKIP_UNQUOTED;
			}
			break;
		}
	}
}

/* Makes room for one more field (its offset). */
static int
grow_fields(struct csv_reader *r)
{
	size_t n = r->nalloc ? r->nalloc * 2 : 16;
	size_t *offs;
	char **ptrs;

	if (n > r->max_fields)
		n = r->max_fields;
	offs = realloc(r->offs, n * sizeof(*offs));
	if (!offs)
		return TC_ENOMEM;
	r->offs = offs;
	ptrs = realloc(r->ptrs, n * sizeof(*ptrs));
	if (!ptrs)
		return TC_ENOMEM;
	r->ptrs = ptrs;
	r->nalloc = n;
	return 0;
}

/* Makes room for N more bytes in the field buffer. */
static int
reserve(struct csv_reader *r, size_t n)
{
	if (n > SIZE_MAX - r->blen)
		return TC_ENOMEM;
	return GROW(&r->buf, &r->balloc, r->blen + n, 1024);
}

/* Bytes that end a run of plain data, outside quotes and inside them. */
static const unsigned char special_unquoted[256] = {
	['\0'] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, ['"'] = 1,
};
static const unsigned char special_quoted[256] = {
	['\0'] = 1, ['\n'] = 1, ['"'] = 1,
};

/*
 * Copies the run of plain bytes that follows in the input buffer straight
 * into the field (at most ROOM bytes). Returns the OR of the bytes copied
 * (for the UTF-8 check), with their count in *N. 0 or TC_ENOMEM in *RC.
 */
static unsigned
copy_run(struct csv_reader *r, int quoted, size_t room, size_t *n, int *rc)
{
	const unsigned char *table = quoted ? special_quoted : special_unquoted;
	const unsigned char *p = r->in + r->ipos;
	size_t lim = r->ilen - r->ipos, k = 0;
	unsigned acc = 0;

	*n = 0;
	*rc = 0;
	if (lim > room)
		lim = room;
	while (k < lim && !table[p[k]])
		acc |= p[k++];
	if (k == 0)
		return 0;
	if ((*rc = reserve(r, k + 1)) != 0)
		return 0;
	memcpy(r->buf + r->blen, p, k);
	r->blen += k;
	r->ipos += k;
	*n = k;
	return acc;
}

int
csv_open(FILE *fp, size_t max_field, size_t max_fields, struct csv_reader **out)
{
	struct csv_reader *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return TC_ENOMEM;
	r->fp = fp;
	r->max_field = max_field;
	r->max_fields = max_fields ? max_fields : 1;
	r->line = 1;
	r->rec_line = 1;
	snprintf(r->err, sizeof(r->err), "no error");
	*out = r;
	return 0;
}

void
csv_close(struct csv_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->offs);
	free(r->ptrs);
	free(r);
}

size_t
csv_line(const struct csv_reader *r)
{
	return r->rec_line;
}

const char *
csv_error(const struct csv_reader *r)
{
	return r->err;
}

/* Parser states within one record. */
enum state {
	ST_FIELD_START,
	ST_UNQUOTED,
	ST_QUOTED,
	ST_AFTER_QUOTE,
};

int
csv_next(struct csv_reader *r, char ***fields, size_t *nfields)
{
	enum state st = ST_FIELD_START;
	size_t nf = 0, flen = 0, quote_line = 0, run;
	unsigned high = 0;	/* OR of the field's bytes: 0x80 set if not ASCII */
	int rc = 0, c, end_field, end_record;

	*fields = NULL;
	*nfields = 0;
	if (r->ioerr)
		return TC_EIO;
	if (!r->started) {
		r->started = 1;
		skip_bom(r);
	}
	r->blen = 0;
	c = next_byte(r);
	if (c == EOF)
		return r->ioerr ? TC_EIO : 0;
	r->rec_line = r->line - (c == '\n');

	for (;; c = next_byte(r)) {
		end_field = end_record = 0;

		if (c == EOF && r->ioerr) {
			rc = TC_EIO;
			goto out;
		}
		if (st == ST_FIELD_START) {
			if (nf == r->max_fields) {
				snprintf(r->err, sizeof(r->err), "more than %zu fields",
					 r->max_fields);
				rc = TC_EINVALID;
				if (c != '\n' && c != EOF)
					skip_rest(r, c == '"' ? SKIP_QUOTED :
						  c == ',' ? SKIP_FIELD_START : SKIP_UNQUOTED);
				goto out;
			}
			if (nf == r->nalloc && (rc = grow_fields(r)) != 0)
				goto out;
			r->offs[nf] = r->blen;
			flen = 0;
			high = 0;
			if (c == '"') {
				st = ST_QUOTED;
				quote_line = r->line;
				continue;
			}
			st = ST_UNQUOTED;
		}

		switch (st) {
		case ST_UNQUOTED:
			if (c == ',')
				end_field = 1;
			else if (c == '\n' || c == EOF)
				end_field = end_record = 1;
			else if (c == '\r' && peek_byte(r) == '\n') {
				(void)next_byte(r);
				end_field = end_record = 1;
			} else if (c == '"') {
				snprintf(r->err, sizeof(r->err),
					 "stray quote in unquoted field %zu (a field "
					 "with quotes must be quoted whole, with \"\" "
					 "for each quote)", nf + 1);
				rc = TC_EINVALID;
				skip_rest(r, SKIP_UNQUOTED);
				goto out;
			}
			break;
		case ST_QUOTED:
			if (c == '"') {
				if (peek_byte(r) != '"') {
					st = ST_AFTER_QUOTE;
					continue;
				}
				(void)next_byte(r);	/* "" is one quote */
			} else if (c == EOF) {
				snprintf(r->err, sizeof(r->err),
					 "unterminated quoted field %zu (the quote "
					 "opened on line %zu)", nf + 1, quote_line);
				rc = TC_EINVALID;
				goto out;
			}
			break;
		case ST_AFTER_QUOTE:
			if (c == ',')
				end_field = 1;
			else if (c == '\n' || c == EOF)
				end_field = end_record = 1;
			else if (c == '\r' && peek_byte(r) == '\n') {
				(void)next_byte(r);
				end_field = end_record = 1;
			} else {
				snprintf(r->err, sizeof(r->err),
					 "unexpected text after the closing quote "
					 "of field %zu", nf + 1);
				rc = TC_EINVALID;
				skip_rest(r, SKIP_UNQUOTED);
				goto out;
			}
			break;
		case ST_FIELD_START:
			break;
		}

		if (end_field) {
			if ((rc = reserve(r, 1)) != 0)
				goto out;
			r->buf[r->blen++] = '\0';
			if ((high & 0x80u) && utf8_check(r->buf + r->offs[nf], flen) != 0) {
				snprintf(r->err, sizeof(r->err),
					 "field %zu is not valid UTF-8", nf + 1);
				rc = TC_EINVALID;
				if (!end_record)
					skip_rest(r, SKIP_FIELD_START);
				goto out;
			}
			nf++;
			st = ST_FIELD_START;
			if (end_record)
				break;
			continue;
		}

		/* c is a data byte of the current field. */
		if (c == '\0') {
			snprintf(r->err, sizeof(r->err), "NUL byte in field %zu", nf + 1);
			rc = TC_EINVALID;
			skip_rest(r, st == ST_QUOTED ? SKIP_QUOTED : SKIP_UNQUOTED);
			goto out;
		}
		if (flen == r->max_field) {
			if (st == ST_QUOTED)
				snprintf(r->err, sizeof(r->err),
					 "quoted field %zu is longer than %zu bytes "
					 "(is a closing quote missing?)",
					 nf + 1, r->max_field);
			else
				snprintf(r->err, sizeof(r->err),
					 "field %zu is longer than %zu bytes",
					 nf + 1, r->max_field);
			rc = TC_EINVALID;
			skip_rest(r, st == ST_QUOTED ? SKIP_LINE : SKIP_UNQUOTED);
			goto out;
		}
		if ((rc = reserve(r, 1)) != 0)
			goto out;
		r->buf[r->blen++] = (char)c;
		high |= (unsigned)c;
		flen++;
		high |= copy_run(r, st == ST_QUOTED, r->max_field - flen, &run, &rc);
		if (rc)
			goto out;
		flen += run;
	}

	for (size_t i = 0; i < nf; i++)
		r->ptrs[i] = r->buf + r->offs[i];
	*fields = r->ptrs;
	*nfields = nf;
	rc = 1;
out:
	if (rc == TC_EINVALID && r->ioerr)
		rc = TC_EIO;
	return rc;
}

/* 1 when a spreadsheet could take field S for a formula: it starts with
 * = + - @ tab or CR, also after leading spaces. */
static int
formula_like(const char *s)
{
	if (*s == '\t' || *s == '\r')
		return 1;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s && strchr("=+-@", *s) != NULL;
}

int
csv_put_field(struct dynbuf *b, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	int rc = quote ? dynbuf_append(b, "\"", 1) : 0;

	if (rc == 0 && formula_like(s))
		rc = dynbuf_append(b, "'", 1);
	for (; rc == 0 && *s; s++)
		rc = *s == '"' ? dynbuf_append(b, "\"\"", 2) : dynbuf_append(b, s, 1);
	if (rc == 0 && quote)
		rc = dynbuf_append(b, "\"", 1);
	return rc ? rc : dynbuf_puts(b, last ? "\r\n" : ",");
}
