/*
 * zip.c - a small, defensive ZIP reader and writer (see zip.h).
 *
 * Layout written and read (PKWARE APPNOTE, little-endian throughout):
 *
 *   [local header 30 + name + extra][data][descriptor, bit 3 only] ...
 *   [central directory: one 46 + name + extra + comment record per entry]
 *   [end of central directory record 22 + comment]
 *
 * Every multi-byte field is read and written with explicit byte loads and
 * stores (get16/get32/put16/put32), never through a cast pointer. The
 * reader reads at absolute offsets with pread and never trusts one field to
 * bound another without checking it against the file first; everything an
 * archive declares is validated in zip_reader_open, and extraction then
 * enforces the declared size and CRC on the bytes actually produced.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <zlib.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/log.h"
#include "storage/zip.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_DESCRIPTOR 0x08074b50u
#define SIG_ZIP64_LOCATOR 0x07064b50u

#define LOCAL_LEN 30
#define CENTRAL_LEN 46
#define EOCD_LEN 22
#define ZIP64_LOCATOR_LEN 20
#define EOCD_SEARCH (0xFFFFu + EOCD_LEN)	/* longest comment + record */

#define FLAG_ENCRYPTED 0x0001u
#define FLAG_DESCRIPTOR 0x0008u
#define FLAG_STRONG 0x0040u
#define FLAG_UTF8 0x0800u
#define FLAG_MASKED 0x2000u	/* central directory encryption */
/* Flags that must be the same in a local header and its central record. */
#define FLAGS_MATCH (FLAG_ENCRYPTED | FLAG_DESCRIPTOR | FLAG_STRONG | FLAG_UTF8)

#define EXTRA_ZIP64 0x0001u
#define EXTRA_STRONG 0x0017u

#define VERSION_NEEDED 20	/* 2.0: deflate, folders */
#define MADE_BY ((3u << 8) | 20)	/* Unix, 2.0 */
#define DOS_TIME 0		/* 00:00:00 */
#define DOS_DATE ((0u << 9) | (1u << 5) | 1u)	/* 1980-01-01 */

#define MODE_TYPE 0170000u
#define MODE_REG 0100000u
#define MODE_DIR 0040000u
#define MODE_LINK 0120000u
#define FILE_ATTR ((uint32_t)(MODE_REG | 0644u) << 16)

#define CHUNK (64u << 10)	/* bytes read, inflated or deflated at a time */
#define LOG_NAME_MAX 128	/* bytes of an escaped name in a log line */

/* ---- little-endian fields ------------------------------------------------ */

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)((uint16_t)p[0] | (uint16_t)p[1] << 8);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void
put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v & 0xFF);
	p[1] = (unsigned char)((v >> 8) & 0xFF);
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v & 0xFF);
	p[1] = (unsigned char)((v >> 8) & 0xFF);
	p[2] = (unsigned char)((v >> 16) & 0xFF);
	p[3] = (unsigned char)((v >> 24) & 0xFF);
}

/* ---- I/O ------------------------------------------------------------------ */

/* Reads exactly N bytes at OFF of FD into BUF. TC_EINVALID when the file
 * ends first (a truncated archive), TC_EIO on a read error. */
static int
read_at(int fd, void *buf, size_t n, uint64_t off)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = pread(fd, p, n, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			log_err("zip: read: %s", strerror(errno));
			return TC_EIO;
		}
		if (got == 0)
			return TC_EINVALID;
		p += got;
		n -= (size_t)got;
		off += (uint64_t)got;
	}
	return 0;
}

/* Writes all N bytes of BUF to FD at its current offset. TC_EIO (ENOSPC
 * and EFBIG: TC_ETOOBIG). */
static int
write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t put = write(fd, p, n);

		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0) {
			log_err("zip: write: %s", strerror(errno));
			return (errno == ENOSPC || errno == EFBIG) ? TC_ETOOBIG : TC_EIO;
		}
		p += put;
		n -= (size_t)put;
	}
	return 0;
}

/* Writes all N bytes of BUF to FD at OFF (the fd's offset is unchanged). */
static int
pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t put = pwrite(fd, p, n, (off_t)off);

		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0) {
			log_err("zip: write: %s", strerror(errno));
			return TC_EIO;
		}
		p += put;
		n -= (size_t)put;
		off += (uint64_t)put;
	}
	return 0;
}

/* Logs why an archive is refused; returns TC_EINVALID. */
static int refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
refuse(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("zip: refused: %s", msg);
	return TC_EINVALID;
}

/* Copies the N bytes of NAME into OUT (OUTSIZE bytes, NUL-terminated) for a
 * log line: printable ASCII as is, every other byte as \xNN, cut short
 * with "..." when it does not fit. */
static void
escape_name(char *out, size_t outsize, const char *name, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		size_t need = (c >= 0x20 && c < 0x7F && c != '\\' && c != '"') ? 1 : 4;

		if (o + need + 4 > outsize) {
			snprintf(out + o, outsize - o, "...");
			return;
		}
		if (need == 1)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

/* ---- names ---------------------------------------------------------------- */

/* What is wrong with the N bytes at NAME as a file name, or NULL. */
static const char *
name_problem(const char *name, size_t n)
{
	size_t seg = 0;	/* where the current segment starts */

	if (n == 0)
		return "empty name";
	if (n > ZIP_NAME_MAX)
		return "name longer than 255 bytes";
	if (utf8_check(name, n) != 0)
		return "name is not valid UTF-8";
	if (name[0] == '/')
		return "absolute path";
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)name[i] : '/';

		if (c == '/') {
			size_t len = i - seg;

			if (len == 0)
				return "empty path segment";
			if (name[seg] == '.' && (len == 1 || (len == 2 && name[seg + 1] == '.')))
				return "'.' or '..' path segment";
			seg = i + 1;
			continue;
		}
		if (c < 0x20 || c == 0x7F)
			return "control character in name";
		/* U+0080..U+009F are C2 80..C2 9F; the UTF-8 is valid here. */
		if (c == 0xC2 && (unsigned char)name[i + 1] <= 0x9F)
			return "control character in name";
		if (c == '\\')
			return "backslash in name";
		if (c == ':')
			return "':' in name (drive letter or stream)";
	}
	return NULL;
}

int
zip_name_check(const char *name, size_t n)
{
	if (name == NULL || name_problem(name, n) != NULL)
		return TC_EINVALID;
	return 0;
}

/*
 * The names of one archive, folded (ASCII letters lower-cased), in an
 * open-addressing hash table. A key is a file, a folder named by an
 * entry ("a/"), or a folder implied by a file's path ("a" of "a/b").
 */
enum name_kind { NAME_FILE = 1, NAME_DIR, NAME_DIR_IMPLIED };

struct name_slot {
	char *key;	/* owned, folded; NULL: free slot */
	size_t len;
	size_t index;	/* NAME_FILE: the file's index */
	int kind;
};

struct name_set {
	struct name_slot *slots;	/* owned */
	size_t cap;	/* 0 or a power of two */
	size_t used;
};

static void
set_cleanup(struct name_set *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i].key);
	free(s->slots);
	s->slots = NULL;
	s->cap = 0;
	s->used = 0;
}

static size_t
key_hash(const char *key, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;	/* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3u;
	}
	return (size_t)h;
}

/* The slot holding KEY (N bytes), or the free slot where it would go. */
static struct name_slot *
set_slot(const struct name_set *s, const char *key, size_t n)
{
	size_t mask = s->cap - 1;

	for (size_t i = key_hash(key, n) & mask;; i = (i + 1) & mask) {
		struct name_slot *slot = &s->slots[i];

		if (slot->key == NULL ||
		    (slot->len == n && memcmp(slot->key, key, n) == 0))
			return slot;
	}
}

static struct name_slot *
set_find(const struct name_set *s, const char *key, size_t n)
{
	struct name_slot *slot;

	if (s->cap == 0)
		return NULL;
	slot = set_slot(s, key, n);
	return slot->key ? slot : NULL;
}

/* Doubles the table (or makes the first one). TC_ENOMEM leaves S as it was. */
static int
set_grow(struct name_set *s)
{
	struct name_set bigger = { NULL, s->cap ? s->cap * 2 : 16, 0 };

	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (bigger.slots == NULL)
		return TC_ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		if (s->slots[i].key != NULL)
			*set_slot(&bigger, s->slots[i].key, s->slots[i].len) = s->slots[i];
	}
	bigger.used = s->used;
	free(s->slots);
	*s = bigger;
	return 0;
}

/* Adds KEY (N bytes, not present yet) as KIND. 0 or TC_ENOMEM. */
static int
set_insert(struct name_set *s, const char *key, size_t n, int kind, size_t index)
{
	struct name_slot *slot;
	char *copy;
	int rc;

	if ((s->used + 1) * 2 > s->cap && (rc = set_grow(s)) != 0)
		return rc;
	copy = malloc(n + 1);
	if (copy == NULL)
		return TC_ENOMEM;
	memcpy(copy, key, n);
	copy[n] = '\0';
	slot = set_slot(s, key, n);
	slot->key = copy;
	slot->len = n;
	slot->kind = kind;
	slot->index = index;
	s->used++;
	return 0;
}

/* KEY receives the N bytes of NAME with ASCII letters lower-cased. */
static void
fold_name(const char *name, size_t n, char *key)
{
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		key[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
}

/*
 * Records NAME (N <= ZIP_NAME_MAX bytes, checked; a folder without its
 * '/') as KIND (NAME_FILE with INDEX, or NAME_DIR) and the folders its path
 * implies. TC_ECONFLICT, with *WHY set, when it collides with a name
 * recorded before: the same name, or a name that is a file in one place
 * and a folder in another. TC_ENOMEM.
 */
static int
names_add(struct name_set *s, const char *name, size_t n, int kind, size_t index,
	  const char **why)
{
	char key[ZIP_NAME_MAX] = { 0 };
	struct name_slot *slot;
	int rc;

	fold_name(name, n, key);
	slot = set_find(s, key, n);
	if (slot != NULL) {
		if (kind == NAME_DIR && slot->kind == NAME_DIR_IMPLIED) {
			slot->kind = NAME_DIR;	/* its folders are recorded already */
			return 0;
		}
		*why = slot->kind == kind ?
			"duplicate name (letters compared case-insensitively)" :
			"name used for both a file and a folder";
		return TC_ECONFLICT;
	}
	for (size_t i = 1; i < n; i++) {
		if (key[i] != '/')
			continue;
		slot = set_find(s, key, i);
		if (slot != NULL && slot->kind == NAME_FILE) {
			*why = "name used for both a file and a folder";
			return TC_ECONFLICT;
		}
		if (slot == NULL &&
		    (rc = set_insert(s, key, i, NAME_DIR_IMPLIED, 0)) != 0)
			return rc;
	}
	return set_insert(s, key, n, kind, index);
}

/* ---- writer --------------------------------------------------------------- */

void
zip_limits_init(struct zip_limits *lim)
{
	lim->max_entries = 10000;
	lim->max_entry_size = (uint64_t)2 << 30;
	lim->max_total_size = (uint64_t)8 << 30;
	lim->max_ratio = 200;
}

struct zip_writer {
	int fd;			/* not owned */
	uint64_t off;		/* file offset of the next byte written */
	size_t count;		/* entries so far */
	int broken;		/* the error that made the archive unusable */
	struct dynbuf cd;	/* the central directory records so far */
	struct name_set names;
	unsigned char *in;	/* CHUNK bytes: source data read from an fd */
	unsigned char *out;	/* CHUNK bytes: deflated data */
};

/* What zip_writer_add streams from: an fd, or a buffer. */
struct source {
	int fd;			/* >= 0: read from it into scratch */
	const unsigned char *buf;
	size_t len, pos;
	unsigned char *scratch;	/* CHUNK bytes */
};

/* Points *P at the next at most CHUNK bytes of SRC (*N of them; 0 at the
 * end). 0 or TC_EIO. */
static int
source_next(struct source *src, const unsigned char **p, size_t *n)
{
	ssize_t got;

	if (src->fd < 0) {
		*n = src->len - src->pos < CHUNK ? src->len - src->pos : CHUNK;
		*p = src->buf ? src->buf + src->pos : src->buf;
		src->pos += *n;
		return 0;
	}
	do {
		got = read(src->fd, src->scratch, CHUNK);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		log_err("zip: reading the source: %s", strerror(errno));
		return TC_EIO;
	}
	*p = src->scratch;
	*n = (size_t)got;
	return 0;
}

/* Accounts N more bytes at *TOTAL; TC_ETOOBIG past ZIP_SIZE_MAX. */
static int
add_size(uint64_t *total, size_t n, const char *what)
{
	*total += n;
	if (*total > ZIP_SIZE_MAX) {
		log_warn("zip: %s over %u bytes (ZIP64 is not supported)", what,
			 ZIP_SIZE_MAX);
		return TC_ETOOBIG;
	}
	return 0;
}

/* Writes N bytes of entry data, keeping W->off (the archive size) under
 * ZIP_SIZE_MAX. */
static int
write_data(struct zip_writer *w, const void *p, size_t n)
{
	int rc;

	if ((rc = add_size(&w->off, n, "archive")) != 0)
		return rc;
	return write_all(w->fd, p, n);
}

/* Copies SRC as is; *CRC and *SIZE receive its CRC-32 and length. */
static int
write_stored(struct zip_writer *w, struct source *src, uint32_t *crc,
	     uint64_t *size)
{
	uLong c = crc32(0, Z_NULL, 0);
	const unsigned char *p;
	size_t n;
	int rc;

	for (;;) {
		if ((rc = source_next(src, &p, &n)) != 0)
			return rc;
		if (n == 0)
			break;
		c = crc32(c, p, (uInt)n);
		if ((rc = add_size(size, n, "entry")) != 0 ||
		    (rc = write_data(w, p, n)) != 0)
			return rc;
	}
	*crc = (uint32_t)c;
	return 0;
}

/* Raw-deflates SRC; *CRC and *SIZE describe the input, *CSIZE the output. */
static int
write_deflated(struct zip_writer *w, struct source *src, uint32_t *crc,
	       uint64_t *size, uint64_t *csize)
{
	uLong c = crc32(0, Z_NULL, 0);
	z_stream zs;
	int rc = 0, zr = Z_OK, flush = Z_NO_FLUSH;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return TC_ENOMEM;
	while (flush != Z_FINISH) {
		const unsigned char *p;
		size_t n;

		if ((rc = source_next(src, &p, &n)) != 0)
			goto out;
		if (n == 0)
			flush = Z_FINISH;
		c = crc32(c, p, (uInt)n);
		if ((rc = add_size(size, n, "entry")) != 0)
			goto out;
		zs.next_in = (Bytef *)(uintptr_t)p;	/* zlib does not write it */
		zs.avail_in = (uInt)n;
		do {
			size_t have;

			zs.next_out = w->out;
			zs.avail_out = CHUNK;
			zr = deflate(&zs, flush);
			if (zr == Z_STREAM_ERROR) {
				log_err("zip: deflate failed");
				rc = TC_EIO;
				goto out;
			}
			have = CHUNK - zs.avail_out;
			if ((rc = add_size(csize, have, "compressed entry")) != 0 ||
			    (rc = write_data(w, w->out, have)) != 0)
				goto out;
		} while (zs.avail_out == 0);
	}
	if (zr != Z_STREAM_END) {
		log_err("zip: deflate did not finish");
		rc = TC_EIO;
		goto out;
	}
	*crc = (uint32_t)c;
out:
	deflateEnd(&zs);
	return rc;
}

int
zip_writer_open(int fd, struct zip_writer **out)
{
	struct zip_writer *w = NULL;
	off_t at;
	int rc = 0;

	*out = NULL;
	at = lseek(fd, 0, SEEK_CUR);
	if (at < 0) {
		log_err("zip: archive fd cannot seek: %s", strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	w->fd = fd;
	w->off = (uint64_t)at;
	dynbuf_init(&w->cd, ZIP_CD_MAX);
	w->in = malloc(CHUNK);
	w->out = malloc(CHUNK);
	if (w->in == NULL || w->out == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	*out = w;
	w = NULL;
out:
	zip_writer_abort(w);
	return rc;
}

int
zip_writer_add(struct zip_writer *w, const char *name, int src_fd,
	       const void *buf, size_t len, int deflated)
{
	struct source src = { src_fd, buf, len, 0, NULL };
	unsigned char hdr[CENTRAL_LEN];
	const char *why = NULL;
	uint64_t lho, size = 0, csize = 0;
	uint32_t crc = 0;
	size_t n;
	int rc = 0, started = 0;

	if (w == NULL || name == NULL ||
	    (src_fd >= 0 && (buf != NULL || len != 0)) ||
	    (src_fd < 0 && buf == NULL && len != 0))
		return TC_EINVALID;
	if (w->broken)
		return w->broken;
	n = strnlen(name, ZIP_NAME_MAX + 1);
	if ((why = name_problem(name, n)) != NULL) {
		log_warn("zip: cannot add an entry: %s", why);
		return TC_EINVALID;
	}
	if (w->count >= ZIP_ENTRIES_MAX || (src_fd < 0 && len > ZIP_SIZE_MAX) ||
	    w->off + LOCAL_LEN + n > ZIP_SIZE_MAX) {
		log_warn("zip: %s: archive or entry too big (ZIP64 is not supported)",
			 name);
		return TC_ETOOBIG;
	}
	rc = names_add(&w->names, name, n, NAME_FILE, w->count, &why);
	if (rc == TC_ECONFLICT) {
		log_warn("zip: %s: %s", name, why);
		return rc;
	}
	if (rc != 0)
		goto out;
	started = 1;
	src.scratch = w->in;
	lho = w->off;
	/* Local header; CRC and sizes are patched in once known. */
	memset(hdr, 0, LOCAL_LEN);
	put32(hdr, SIG_LOCAL);
	put16(hdr + 4, VERSION_NEEDED);
	put16(hdr + 6, FLAG_UTF8);
	put16(hdr + 8, deflated ? ZIP_DEFLATED : ZIP_STORED);
	put16(hdr + 10, DOS_TIME);
	put16(hdr + 12, DOS_DATE);
	put16(hdr + 26, (uint32_t)n);
	if ((rc = write_data(w, hdr, LOCAL_LEN)) != 0 ||
	    (rc = write_data(w, name, n)) != 0)
		goto out;
	if (deflated)
		rc = write_deflated(w, &src, &crc, &size, &csize);
	else
		rc = write_stored(w, &src, &crc, &size);
	if (rc != 0)
		goto out;
	if (!deflated)
		csize = size;
	put32(hdr + 14, crc);
	put32(hdr + 18, (uint32_t)csize);
	put32(hdr + 22, (uint32_t)size);
	if ((rc = pwrite_all(w->fd, hdr + 14, 12, lho + 14)) != 0)
		goto out;
	/* Central directory record: the local header's fields, and more. */
	memmove(hdr + 6, hdr + 4, 26);
	put32(hdr, SIG_CENTRAL);
	put16(hdr + 4, MADE_BY);
	put16(hdr + 30, 0);	/* extra */
	put16(hdr + 32, 0);	/* comment */
	put16(hdr + 34, 0);	/* disk */
	put16(hdr + 36, 0);	/* internal attributes */
	put32(hdr + 38, FILE_ATTR);
	put32(hdr + 42, (uint32_t)lho);
	if ((rc = dynbuf_append(&w->cd, hdr, CENTRAL_LEN)) != 0 ||
	    (rc = dynbuf_append(&w->cd, name, n)) != 0)
		goto out;
	w->count++;
out:
	if (rc != 0 && started)
		w->broken = rc;
	return rc;
}

int
zip_writer_close(struct zip_writer *w)
{
	unsigned char end[EOCD_LEN];
	uint64_t cd_off;
	int rc = 0;

	if (w == NULL)
		return TC_EINVALID;
	if ((rc = w->broken) != 0)
		goto out;
	cd_off = w->off;
	if ((rc = write_data(w, w->cd.data, w->cd.len)) != 0)
		goto out;
	memset(end, 0, sizeof(end));
	put32(end, SIG_EOCD);
	put16(end + 8, (uint32_t)w->count);
	put16(end + 10, (uint32_t)w->count);
	put32(end + 12, (uint32_t)w->cd.len);
	put32(end + 16, (uint32_t)cd_off);
	rc = write_all(w->fd, end, sizeof(end));
out:
	zip_writer_abort(w);
	return rc;
}

void
zip_writer_abort(struct zip_writer *w)
{
	if (w == NULL)
		return;
	dynbuf_cleanup(&w->cd);
	set_cleanup(&w->names);
	free(w->in);
	free(w->out);
	free(w);
}

/* ---- reader --------------------------------------------------------------- */

/* One central directory record, checked. */
struct zrec {
	const char *name;	/* in zip_reader.names, NUL-terminated */
	size_t name_len;
	uint16_t flags, method;
	uint32_t crc, csize, size;
	uint64_t lho;		/* local header offset */
	uint64_t data;		/* offset of the (compressed) data */
	uint64_t end;		/* one past the data or its descriptor */
	int is_dir;
};

struct zip_reader {
	int fd;			/* not owned */
	struct zrec *recs;	/* every central record, folders included */
	size_t nrecs;
	size_t *files;		/* indexes into recs of the files */
	size_t nfiles;
	char *names;		/* the names, each NUL-terminated */
	struct name_set set;	/* folded names; NAME_FILE index: into files */
};

/* A byte range of the file taken by one entry. */
struct span {
	uint64_t start, end;
	size_t rec;
};

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* What is wrong with an extra field of N bytes at P, or NULL. */
static const char *
extra_problem(const unsigned char *p, size_t n)
{
	while (n >= 4) {
		uint16_t id = get16(p), len = get16(p + 2);

		if ((size_t)len + 4 > n)
			return "malformed extra field";
		if (id == EXTRA_ZIP64)
			return "ZIP64 extra field (ZIP64 is not supported)";
		if (id == EXTRA_STRONG)
			return "strong encryption header";
		p += 4 + (size_t)len;
		n -= 4 + (size_t)len;
	}
	return n == 0 ? NULL : "malformed extra field";
}

/*
 * Finds the end of central directory record in the last EOCD_SEARCH bytes
 * of the SIZE-byte file: the record whose comment ends exactly at the end
 * of the file (there must be exactly one). END receives its EOCD_LEN
 * bytes, *OFF its offset; *LOCATOR is set when a ZIP64 locator precedes it.
 */
static int
find_end(int fd, uint64_t size, unsigned char end[EOCD_LEN], uint64_t *off,
	 int *locator)
{
	unsigned char *tail = NULL, loc[ZIP64_LOCATOR_LEN];
	size_t tlen = size < EOCD_SEARCH ? (size_t)size : EOCD_SEARCH;
	uint64_t base = size - tlen;
	size_t found = SIZE_MAX;
	int rc = 0;

	tail = malloc(tlen);
	if (tail == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	if ((rc = read_at(fd, tail, tlen, base)) != 0)
		goto out;
	for (size_t p = tlen - EOCD_LEN + 1; p-- > 0;) {
		if (get32(tail + p) != SIG_EOCD ||
		    p + EOCD_LEN + get16(tail + p + 20) != tlen)
			continue;
		if (found != SIZE_MAX) {
			rc = refuse("two end of central directory records");
			goto out;
		}
		found = p;
	}
	if (found == SIZE_MAX) {
		rc = refuse("no end of central directory record at the end "
			    "(not a zip, or truncated)");
		goto out;
	}
	memcpy(end, tail + found, EOCD_LEN);
	*off = base + found;
	*locator = 0;
	if (*off >= ZIP64_LOCATOR_LEN) {
		if ((rc = read_at(fd, loc, sizeof(loc), *off - ZIP64_LOCATOR_LEN)) != 0)
			goto out;
		*locator = get32(loc) == SIG_ZIP64_LOCATOR;
	}
out:
	free(tail);
	return rc;
}

/*
 * Checks the central record at Q (AVAIL bytes left in the directory) as
 * record I and fills *REC; *LEN receives the record's length. NAMES is
 * where its name is copied (NUL-terminated); *TOTAL adds its size.
 */
static int
parse_central(struct zip_reader *r, const struct zip_limits *lim,
	      const unsigned char *q, size_t avail, size_t i, char *names,
	      uint64_t *total, struct zrec *rec, size_t *len)
{
	char shown[LOG_NAME_MAX];
	const char *why;
	uint16_t nlen, elen, clen;
	uint32_t attr;
	size_t n;
	int rc;

	if (avail < CENTRAL_LEN)
		return refuse("central directory holds fewer records than declared");
	if (get32(q) != SIG_CENTRAL)
		return refuse("central record %zu: bad signature", i);
	nlen = get16(q + 28);
	elen = get16(q + 30);
	clen = get16(q + 32);
	*len = CENTRAL_LEN + (size_t)nlen + elen + clen;
	if (*len > avail)
		return refuse("central directory holds fewer records than declared");
	memset(rec, 0, sizeof(*rec));
	rec->flags = get16(q + 8);
	rec->method = get16(q + 10);
	rec->crc = get32(q + 16);
	rec->csize = get32(q + 20);
	rec->size = get32(q + 24);
	rec->lho = get32(q + 42);
	attr = get32(q + 38) >> 16;	/* Unix mode, if any */
	n = nlen;
	memcpy(names, q + CENTRAL_LEN, n);
	names[n] = '\0';
	rec->name = names;
	rec->name_len = n;
	rec->is_dir = n > 0 && names[n - 1] == '/';
	if ((why = name_problem(names, rec->is_dir ? n - 1 : n)) != NULL)
		return refuse("entry %zu: %s", i, why);
	escape_name(shown, sizeof(shown), names, n);
	if (rec->csize == 0xFFFFFFFFu || rec->size == 0xFFFFFFFFu ||
	    rec->lho == 0xFFFFFFFFu || get16(q + 34) == 0xFFFF)
		return refuse("\"%s\": ZIP64 (not supported)", shown);
	if ((why = extra_problem(q + CENTRAL_LEN + nlen, elen)) != NULL)
		return refuse("\"%s\": %s", shown, why);
	if (get16(q + 34) != 0)
		return refuse("\"%s\": on another disk", shown);
	if (rec->flags & (FLAG_ENCRYPTED | FLAG_STRONG | FLAG_MASKED))
		return refuse("\"%s\": encrypted", shown);
	if (rec->method != ZIP_STORED && rec->method != ZIP_DEFLATED)
		return refuse("\"%s\": compression method %u (only 0 and 8)",
			      shown, rec->method);
	if (rec->method == ZIP_STORED && rec->csize != rec->size)
		return refuse("\"%s\": stored with two different sizes", shown);
	if ((attr & MODE_TYPE) == MODE_LINK)
		return refuse("\"%s\": symbolic link", shown);
	if ((attr & MODE_TYPE) != 0 && (attr & MODE_TYPE) != MODE_REG &&
	    (attr & MODE_TYPE) != MODE_DIR)
		return refuse("\"%s\": device, fifo or socket", shown);
	if ((attr & MODE_TYPE) == MODE_DIR && !rec->is_dir)
		return refuse("\"%s\": folder mode on a file name", shown);
	if (rec->is_dir && rec->size != 0)
		return refuse("\"%s\": folder with data", shown);
	if (rec->size > lim->max_entry_size)
		return refuse("\"%s\": declares %u bytes, over the limit of %llu",
			      shown, rec->size,
			      (unsigned long long)lim->max_entry_size);
	*total += rec->size;
	if (*total > lim->max_total_size)
		return refuse("archive declares more than %llu bytes in all",
			      (unsigned long long)lim->max_total_size);
	if (rec->size > ZIP_RATIO_FLOOR &&
	    rec->size > (uint64_t)rec->csize * lim->max_ratio)
		return refuse("\"%s\": compression ratio over %u (%u bytes from %u)",
			      shown, lim->max_ratio, rec->size, rec->csize);
	rc = names_add(&r->set, names, rec->is_dir ? n - 1 : n,
		       rec->is_dir ? NAME_DIR : NAME_FILE, r->nfiles, &why);
	if (rc == TC_ECONFLICT)
		return refuse("\"%s\": %s", shown, why);
	if (rc != 0)
		return rc;
	if (!rec->is_dir)
		r->files[r->nfiles++] = i;
	return 0;
}

/* Checks the data descriptor after REC's data (before LIMIT) against the
 * central record and extends rec->end over it. */
static int
check_descriptor(int fd, struct zrec *rec, uint64_t limit, const char *shown)
{
	unsigned char dd[16];
	size_t have = limit - rec->end < sizeof(dd) ? (size_t)(limit - rec->end) :
		sizeof(dd);
	int rc;

	if (have < 12)
		return refuse("\"%s\": data descriptor missing", shown);
	if ((rc = read_at(fd, dd, have, rec->end)) != 0)
		return rc == TC_EINVALID ? refuse("truncated file") : rc;
	if (have == 16 && get32(dd) == SIG_DESCRIPTOR && get32(dd + 4) == rec->crc &&
	    get32(dd + 8) == rec->csize && get32(dd + 12) == rec->size) {
		rec->end += 16;
		return 0;
	}
	if (get32(dd) == rec->crc && get32(dd + 4) == rec->csize &&
	    get32(dd + 8) == rec->size) {
		rec->end += 12;
		return 0;
	}
	return refuse("\"%s\": data descriptor disagrees with the central directory",
		      shown);
}

/* Checks REC's local header (which with its data and descriptor must end
 * by LIMIT, the central directory) and sets rec->data and rec->end. */
static int
check_local(int fd, struct zrec *rec, uint64_t limit, unsigned char *scratch)
{
	char shown[LOG_NAME_MAX];
	unsigned char h[LOCAL_LEN];
	const char *why;
	uint16_t nlen, elen;
	int rc;

	escape_name(shown, sizeof(shown), rec->name, rec->name_len);
	if (rec->lho + LOCAL_LEN > limit)
		return refuse("\"%s\": local header outside the entries", shown);
	if ((rc = read_at(fd, h, LOCAL_LEN, rec->lho)) != 0)
		return rc == TC_EINVALID ? refuse("truncated file") : rc;
	nlen = get16(h + 26);
	elen = get16(h + 28);
	if (get32(h) != SIG_LOCAL)
		return refuse("\"%s\": no local header where the central directory says",
			      shown);
	rec->data = rec->lho + LOCAL_LEN + nlen + elen;
	if (rec->data > limit)
		return refuse("\"%s\": local header outside the entries", shown);
	if (nlen != rec->name_len)
		return refuse("\"%s\": local name differs from the central directory",
			      shown);
	if ((rc = read_at(fd, scratch, (size_t)nlen + elen, rec->lho + LOCAL_LEN)) != 0)
		return rc == TC_EINVALID ? refuse("truncated file") : rc;
	if (memcmp(scratch, rec->name, nlen) != 0)
		return refuse("\"%s\": local name differs from the central directory",
			      shown);
	if ((why = extra_problem(scratch + nlen, elen)) != NULL)
		return refuse("\"%s\": local %s", shown, why);
	if ((get16(h + 6) & FLAGS_MATCH) != (rec->flags & FLAGS_MATCH) ||
	    get16(h + 8) != rec->method)
		return refuse("\"%s\": local flags or method differ from the "
			      "central directory", shown);
	if (!(rec->flags & FLAG_DESCRIPTOR) &&
	    (get32(h + 14) != rec->crc || get32(h + 18) != rec->csize ||
	     get32(h + 22) != rec->size))
		return refuse("\"%s\": local CRC or sizes differ from the central "
			      "directory", shown);
	rec->end = rec->data + rec->csize;
	if (rec->end > limit)
		return refuse("\"%s\": data runs into the central directory", shown);
	if (rec->flags & FLAG_DESCRIPTOR)
		return check_descriptor(fd, rec, limit, shown);
	return 0;
}

/* Refuses R when the byte ranges of two entries overlap. */
static int
check_overlap(const struct zip_reader *r)
{
	struct span *spans = NULL;
	char a[LOG_NAME_MAX], b[LOG_NAME_MAX];
	int rc = 0;

	if (r->nrecs < 2)
		return 0;
	spans = calloc(r->nrecs, sizeof(*spans));
	if (spans == NULL)
		return TC_ENOMEM;
	for (size_t i = 0; i < r->nrecs; i++) {
		spans[i].start = r->recs[i].lho;
		spans[i].end = r->recs[i].end;
		spans[i].rec = i;
	}
	qsort(spans, r->nrecs, sizeof(*spans), span_cmp);
	for (size_t i = 1; i < r->nrecs; i++) {
		const struct zrec *x = &r->recs[spans[i - 1].rec];
		const struct zrec *y = &r->recs[spans[i].rec];

		if (spans[i].start >= spans[i - 1].end)
			continue;
		escape_name(a, sizeof(a), x->name, x->name_len);
		escape_name(b, sizeof(b), y->name, y->name_len);
		rc = refuse("entries \"%s\" and \"%s\" overlap", a, b);
		break;
	}
	free(spans);
	return rc;
}

/* Reads and checks the central directory (CD_SIZE bytes at CD_OFF,
 * COUNT records) and every local header. */
static int
read_directory(struct zip_reader *r, const struct zip_limits *lim,
	       uint64_t cd_off, size_t cd_size, size_t count)
{
	unsigned char *cd = NULL, *scratch = NULL;
	uint64_t total = 0;
	size_t pos = 0, len = 0;
	int rc = 0;

	cd = malloc(cd_size ? cd_size : 1);
	r->names = malloc(cd_size + 1);
	r->recs = calloc(count ? count : 1, sizeof(*r->recs));
	r->files = calloc(count ? count : 1, sizeof(*r->files));
	scratch = malloc(2 * 0xFFFFu);	/* a local name and extra field */
	if (cd == NULL || r->names == NULL || r->recs == NULL ||
	    r->files == NULL || scratch == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	if ((rc = read_at(r->fd, cd, cd_size, cd_off)) != 0) {
		if (rc == TC_EINVALID)
			rc = refuse("truncated file");
		goto out;
	}
	/* Each name is shorter than its record, so NAMES has room for all. */
	for (size_t i = 0; i < count; i++) {
		rc = parse_central(r, lim, cd + pos, cd_size - pos, i,
				   r->names + pos, &total, &r->recs[i], &len);
		if (rc != 0)
			goto out;
		r->nrecs++;
		pos += len;
	}
	if (pos != cd_size) {
		rc = refuse("central directory holds more than the %zu records "
			    "declared", count);
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		if ((rc = check_local(r->fd, &r->recs[i], cd_off, scratch)) != 0)
			goto out;
	}
	rc = check_overlap(r);
out:
	free(scratch);
	free(cd);
	return rc;
}

int
zip_reader_open(int fd, const struct zip_limits *lim, struct zip_reader **out)
{
	struct zip_limits defaults;
	struct zip_reader *r = NULL;
	unsigned char end[EOCD_LEN] = { 0 };
	uint64_t size, end_off = 0, cd_off, cd_size;
	size_t count;
	struct stat st;
	int rc = 0, locator = 0;

	*out = NULL;
	if (lim == NULL) {
		zip_limits_init(&defaults);
		lim = &defaults;
	}
	if (fstat(fd, &st) != 0) {
		log_err("zip: fstat: %s", strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = refuse("not a regular file");
		goto out;
	}
	size = (uint64_t)st.st_size;
	if (size < EOCD_LEN) {
		rc = refuse("%llu bytes is too short for a zip",
			    (unsigned long long)size);
		goto out;
	}
	if ((rc = find_end(fd, size, end, &end_off, &locator)) != 0)
		goto out;
	count = get16(end + 10);
	cd_size = get32(end + 12);
	cd_off = get32(end + 16);
	if (locator || count == 0xFFFF || get16(end + 8) == 0xFFFF ||
	    cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
		rc = refuse("ZIP64 archive (not supported)");
		goto out;
	}
	if (get16(end + 4) != 0 || get16(end + 6) != 0 || get16(end + 8) != count) {
		rc = refuse("archive spans several disks");
		goto out;
	}
	if (count > lim->max_entries) {
		rc = refuse("%zu entries, over the limit of %zu", count,
			    lim->max_entries);
		goto out;
	}
	if (cd_off > end_off || cd_size > end_off - cd_off) {
		rc = refuse("central directory outside the file");
		goto out;
	}
	if (cd_off + cd_size != end_off) {
		rc = refuse("bytes between the central directory and its end record");
		goto out;
	}
	if (cd_size > ZIP_CD_MAX) {
		rc = refuse("central directory over %u bytes", ZIP_CD_MAX);
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	r->fd = fd;
	if ((rc = read_directory(r, lim, cd_off, (size_t)cd_size, count)) != 0)
		goto out;
	*out = r;
	r = NULL;
out:
	zip_reader_close(r);
	return rc;
}

void
zip_reader_close(struct zip_reader *r)
{
	if (r == NULL)
		return;
	set_cleanup(&r->set);
	free(r->recs);
	free(r->files);
	free(r->names);
	free(r);
}

size_t
zip_reader_count(const struct zip_reader *r)
{
	return r->nfiles;
}

int
zip_reader_entry(const struct zip_reader *r, size_t i, struct zip_entry *e)
{
	const struct zrec *rec;

	if (i >= r->nfiles)
		return TC_ENOTFOUND;
	rec = &r->recs[r->files[i]];
	e->name = rec->name;
	e->size = rec->size;
	e->csize = rec->csize;
	e->method = rec->method;
	e->crc = rec->crc;
	return 0;
}

int
zip_reader_find(const struct zip_reader *r, const char *name, size_t *index)
{
	char key[ZIP_NAME_MAX] = { 0 };
	const struct name_slot *slot;
	const struct zrec *rec;
	size_t n = strnlen(name, ZIP_NAME_MAX + 1);

	if (n == 0 || n > ZIP_NAME_MAX)
		return TC_ENOTFOUND;
	fold_name(name, n, key);
	slot = set_find(&r->set, key, n);
	if (slot == NULL || slot->kind != NAME_FILE)
		return TC_ENOTFOUND;
	rec = &r->recs[r->files[slot->index]];
	if (memcmp(rec->name, name, n) != 0)
		return TC_ENOTFOUND;
	*index = slot->index;
	return 0;
}

/* Where extracted bytes go: an fd, or a buffer. */
struct sink {
	int fd;			/* >= 0: write there */
	unsigned char *buf;
	size_t size, len;
};

static int
sink_put(struct sink *s, const void *p, size_t n)
{
	if (s->fd >= 0)
		return write_all(s->fd, p, n);
	if (n > s->size - s->len)
		return TC_ETOOBIG;	/* cannot happen: sizes are enforced */
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

/*
 * Inflates REC's data into SNK, reading its compressed bytes from IN
 * (CHUNK bytes) and inflating into OUT (CHUNK bytes). Never lets through
 * more than rec->size bytes; *PRODUCED and *CRC describe what went out.
 */
static int
inflate_entry(struct zip_reader *r, const struct zrec *rec, struct sink *snk,
	      unsigned char *in, unsigned char *out, uint64_t *produced,
	      uLong *crc, const char *shown)
{
	uint64_t left = rec->csize, at = rec->data;
	z_stream zs;
	int rc = 0, zr;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK)
		return TC_ENOMEM;
	for (;;) {
		uint64_t room = rec->size - *produced + 1;	/* one more shows a lie */
		size_t got;

		if (zs.avail_in == 0 && left > 0) {
			size_t n = left < CHUNK ? (size_t)left : CHUNK;

			if ((rc = read_at(r->fd, in, n, at)) != 0) {
				if (rc == TC_EINVALID)
					rc = refuse("\"%s\": truncated file", shown);
				goto out;
			}
			zs.next_in = in;
			zs.avail_in = (uInt)n;
			left -= n;
			at += n;
		}
		zs.next_out = out;
		zs.avail_out = room < CHUNK ? (uInt)room : CHUNK;
		got = zs.avail_out;
		zr = inflate(&zs, Z_NO_FLUSH);
		got -= zs.avail_out;
		if (got > rec->size - *produced) {
			rc = refuse("\"%s\": inflates to more than the %u bytes declared",
				    shown, rec->size);
			goto out;
		}
		if (got > 0) {
			*crc = crc32(*crc, out, (uInt)got);
			*produced += got;
			if ((rc = sink_put(snk, out, got)) != 0)
				goto out;
		}
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_BUF_ERROR && zs.avail_in == 0 && left > 0)
			continue;	/* wants more input */
		if (zr == Z_BUF_ERROR) {
			rc = refuse("\"%s\": deflate data ends early", shown);
			goto out;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = zr == Z_MEM_ERROR ? TC_ENOMEM :
				refuse("\"%s\": corrupt deflate data (%s)", shown,
				       zs.msg ? zs.msg : "?");
			goto out;
		}
	}
	if (zs.avail_in != 0 || left != 0)
		rc = refuse("\"%s\": bytes after the end of the deflate data", shown);
out:
	inflateEnd(&zs);
	return rc;
}

/* Decompresses file I into SNK, checking its size and CRC. */
static int
extract(struct zip_reader *r, size_t i, struct sink *snk)
{
	char shown[LOG_NAME_MAX];
	unsigned char *in = NULL, *out = NULL;
	const struct zrec *rec;
	uint64_t produced = 0;
	uLong crc = crc32(0, Z_NULL, 0);
	int rc = 0;

	if (r == NULL || i >= r->nfiles)
		return TC_ENOTFOUND;
	rec = &r->recs[r->files[i]];
	escape_name(shown, sizeof(shown), rec->name, rec->name_len);
	in = malloc(CHUNK);
	out = malloc(CHUNK);
	if (in == NULL || out == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	if (rec->method == ZIP_DEFLATED) {
		rc = inflate_entry(r, rec, snk, in, out, &produced, &crc, shown);
		if (rc != 0)
			goto out;
	} else {
		/* Stored: csize == size was checked at open. */
		while (produced < rec->size) {
			uint64_t left = rec->size - produced;
			size_t n = left < CHUNK ? (size_t)left : CHUNK;

			if ((rc = read_at(r->fd, in, n, rec->data + produced)) != 0) {
				if (rc == TC_EINVALID)
					rc = refuse("\"%s\": truncated file", shown);
				goto out;
			}
			crc = crc32(crc, in, (uInt)n);
			produced += n;
			if ((rc = sink_put(snk, in, n)) != 0)
				goto out;
		}
	}
	if (produced != rec->size) {
		rc = refuse("\"%s\": %llu bytes, %u declared", shown,
			    (unsigned long long)produced, rec->size);
		goto out;
	}
	if ((uint32_t)crc != rec->crc) {
		rc = refuse("\"%s\": CRC mismatch (%08x, %08x declared)", shown,
			    (unsigned)crc, rec->crc);
		goto out;
	}
out:
	free(in);
	free(out);
	return rc;
}

int
zip_reader_extract(struct zip_reader *r, size_t i, int out_fd)
{
	struct sink snk = { out_fd, NULL, 0, 0 };

	if (out_fd < 0)
		return TC_EINVALID;
	return extract(r, i, &snk);
}

int
zip_reader_read(struct zip_reader *r, size_t i, void *buf, size_t bufsize,
		size_t *len)
{
	struct sink snk = { -1, buf, bufsize, 0 };
	int rc;

	*len = 0;
	if (r == NULL || i >= r->nfiles)
		return TC_ENOTFOUND;
	if (r->recs[r->files[i]].size > bufsize)
		return TC_ETOOBIG;
	rc = extract(r, i, &snk);
	if (rc == 0)
		*len = snk.len;
	return rc;
}
