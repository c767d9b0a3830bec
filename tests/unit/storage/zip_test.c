/*
 * zip_test.c - tests for storage/zip.c
 *
 * A round trip through the writer and reader, then archives built byte by
 * byte (put_local, put_central, put_end) with the fields a hostile package
 * would choose: zip slip names, duplicates, encryption, unknown methods,
 * bombs that declare or hide their size, overlapping entries, broken
 * directories. Every refusal must come with TC_EINVALID, no reader, and a
 * log line saying why.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "storage/zip.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

#define MIB (1u << 20)

static char dir[1024];		/* the temporary folder */
static char outdir[1100];	/* where test_extract_all would put files */
static FILE *log_fp;		/* captures log lines */

/* ---- small helpers -------------------------------------------------------- */

static void
path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static uint32_t
crc_of(const void *p, size_t n)
{
	return (uint32_t)crc32(crc32(0, Z_NULL, 0), p, (uInt)n);
}

/* Deterministic pseudo-random bytes (xorshift32). */
static void
fill_random(unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)(x & 0xFF);
	}
}

static int
save(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (n > 0 && write(fd, p, n) != (ssize_t)n)
		rc = -1;
	close(fd);
	return rc;
}

/* Reads the whole file PATH (malloc'd, NUL-terminated); NULL on error. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *p = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (p = malloc((size_t)st.st_size + 1)) != NULL) {
		if (read(fd, p, (size_t)st.st_size) != st.st_size) {
			free(p);
			p = NULL;
		} else {
			p[st.st_size] = '\0';
			*len = (size_t)st.st_size;
		}
	}
	close(fd);
	return p;
}

static void
log_reset(void)
{
	fflush(log_fp);
	if (ftruncate(fileno(log_fp), 0) != 0)
		diag("cannot truncate the log");
	rewind(log_fp);
}

/* Whether the log since log_reset() contains WHAT. */
static int
log_has(const char *what)
{
	char buf[8192];
	size_t n;

	fflush(log_fp);
	rewind(log_fp);
	n = fread(buf, 1, sizeof(buf) - 1, log_fp);
	buf[n] = '\0';
	fseek(log_fp, 0, SEEK_END);
	if (strstr(buf, what) == NULL) {
		printf("# log was: %s", n ? buf : "(empty)\n");
		return 0;
	}
	return 1;
}

/* Raw deflate of N bytes at IN (malloc'd); *OUTLEN its length. */
static unsigned char *
deflate_raw(const void *in, size_t n, size_t *outlen)
{
	z_stream zs;
	unsigned char *out;
	uLong bound;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&zs, (uLong)n);
	out = malloc(bound);
	if (out != NULL) {
		zs.next_in = (Bytef *)(uintptr_t)in;
		zs.avail_in = (uInt)n;
		zs.next_out = out;
		zs.avail_out = (uInt)bound;
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
			free(out);
			out = NULL;
		} else {
			*outlen = zs.total_out;
		}
	}
	deflateEnd(&zs);
	return out;
}

/* ---- archives built by hand ----------------------------------------------- */

/* One entry as a hostile writer would declare it. */
struct fake {
	const char *name;
	size_t name_len;		/* 0: strlen(name) */
	uint16_t flags, method;
	uint32_t crc, csize, size;	/* declared, in both headers */
	uint32_t attr;			/* external attributes */
	const unsigned char *data;	/* written after the local header */
	size_t data_len;
	unsigned char *owned;		/* freed by fakes_free */
	uint32_t offset;		/* of the local header; set by build */
};

static void
b16(struct dynbuf *b, uint32_t v)
{
	unsigned char p[2] = { (unsigned char)(v & 0xFF), (unsigned char)(v >> 8 & 0xFF) };

	dynbuf_append(b, p, 2);
}

static void
b32(struct dynbuf *b, uint32_t v)
{
	b16(b, v & 0xFFFF);
	b16(b, v >> 16);
}

static size_t
fake_name_len(const struct fake *f)
{
	return f->name_len ? f->name_len : strlen(f->name);
}

/* Local file header for F (no extra field). */
static void
put_local(struct dynbuf *b, const struct fake *f)
{
	b32(b, 0x04034b50);
	b16(b, 20);
	b16(b, f->flags);
	b16(b, f->method);
	b16(b, 0);
	b16(b, 0x21);
	b32(b, f->crc);
	b32(b, f->csize);
	b32(b, f->size);
	b16(b, (uint32_t)fake_name_len(f));
	b16(b, 0);
	dynbuf_append(b, f->name, fake_name_len(f));
}

/* Central directory record for F, EXTRA (ELEN bytes) as its extra field. */
static void
put_central_extra(struct dynbuf *b, const struct fake *f, const void *extra,
		  size_t elen)
{
	b32(b, 0x02014b50);
	b16(b, (3u << 8) | 20);
	b16(b, 20);
	b16(b, f->flags);
	b16(b, f->method);
	b16(b, 0);
	b16(b, 0x21);
	b32(b, f->crc);
	b32(b, f->csize);
	b32(b, f->size);
	b16(b, (uint32_t)fake_name_len(f));
	b16(b, (uint32_t)elen);
	b16(b, 0);	/* comment */
	b16(b, 0);	/* disk */
	b16(b, 0);	/* internal attributes */
	b32(b, f->attr);
	b32(b, f->offset);
	dynbuf_append(b, f->name, fake_name_len(f));
	if (elen)
		dynbuf_append(b, extra, elen);
}

static void
put_central(struct dynbuf *b, const struct fake *f)
{
	put_central_extra(b, f, NULL, 0);
}

/* End of central directory record. */
static void
put_end(struct dynbuf *b, uint32_t count, uint32_t cd_size, uint32_t cd_off)
{
	b32(b, 0x06054b50);
	b16(b, 0);
	b16(b, 0);
	b16(b, count);
	b16(b, count);
	b32(b, cd_size);
	b32(b, cd_off);
	b16(b, 0);
}

/* The N entries of F, laid out as a normal archive in B. */
static void
build(struct dynbuf *b, struct fake *f, size_t n)
{
	size_t cd_off;

	for (size_t i = 0; i < n; i++) {
		f[i].offset = (uint32_t)b->len;
		put_local(b, &f[i]);
		if (f[i].data_len)
			dynbuf_append(b, f[i].data, f[i].data_len);
	}
	cd_off = b->len;
	for (size_t i = 0; i < n; i++)
		put_central(b, &f[i]);
	put_end(b, (uint32_t)n, (uint32_t)(b->len - cd_off), (uint32_t)cd_off);
}

static struct fake
stored(const char *name, const void *data, size_t len)
{
	struct fake f;

	memset(&f, 0, sizeof(f));
	f.name = name;
	f.method = 0;
	f.crc = crc_of(data, len);
	f.csize = f.size = (uint32_t)len;
	f.attr = (uint32_t)0100644 << 16;
	f.data = data;
	f.data_len = len;
	return f;
}

static struct fake
deflated(const char *name, const void *data, size_t len)
{
	struct fake f = stored(name, data, len);
	size_t clen = 0;

	f.method = 8;
	f.owned = deflate_raw(data, len, &clen);
	f.data = f.owned;
	f.data_len = clen;
	f.csize = (uint32_t)clen;
	return f;
}

static void
fakes_free(struct fake *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].owned);
}

/* Files in OUTDIR. */
static int
count_outdir(void)
{
	DIR *d = opendir(outdir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

/* What an importer does: open PATH and, only when that succeeds, extract
 * every file into OUTDIR (by index, never by name). Returns the open's
 * result. */
static int
extract_all(const char *path, const struct zip_limits *lim, struct zip_reader **rp)
{
	struct zip_reader *r = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	*rp = (struct zip_reader *)(uintptr_t)1;	/* must be reset to NULL */
	if (fd < 0)
		return TC_EIO;
	rc = zip_reader_open(fd, lim, &r);
	*rp = r;
	for (size_t i = 0; rc == 0 && i < zip_reader_count(r); i++) {
		char out[1200];
		int ofd;

		snprintf(out, sizeof(out), "%s/%zu", outdir, i);
		ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (ofd >= 0) {
			zip_reader_extract(r, i, ofd);
			close(ofd);
		}
	}
	zip_reader_close(r);
	close(fd);
	return rc;
}

/* Expects the archive in B to be refused, with WHY in the log. */
static void
expect_refused(const struct dynbuf *b, const struct zip_limits *lim,
	       const char *why, const char *label)
{
	char path[1100], msg[256];
	struct zip_reader *r;
	int rc;

	path_of(path, sizeof(path), "case.zip");
	if (save(path, b->data, b->len) != 0)
		diag("cannot save the archive");
	log_reset();
	rc = extract_all(path, lim, &r);
	snprintf(msg, sizeof(msg), "%s: refused", label);
	is_int(rc, TC_EINVALID, msg);
	snprintf(msg, sizeof(msg), "%s: no reader", label);
	ok(r == NULL, msg);
	snprintf(msg, sizeof(msg), "%s: log says \"%s\"", label, why);
	ok(log_has(why), msg);
}

/* Builds the N entries of F and expects a refusal. */
static void
refuse_fakes(struct fake *f, size_t n, const struct zip_limits *lim,
	     const char *why, const char *label)
{
	struct dynbuf b;

	dynbuf_init(&b, 64u * MIB);
	build(&b, f, n);
	expect_refused(&b, lim, why, label);
	dynbuf_cleanup(&b);
}

/* Opens the archive in B (which must be accepted) into *R, reading FD. */
static int
open_built(const struct dynbuf *b, const struct zip_limits *lim, int *fd,
	   struct zip_reader **r)
{
	char path[1100];

	path_of(path, sizeof(path), "case.zip");
	*r = NULL;
	if (save(path, b->data, b->len) != 0)
		return TC_EIO;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return TC_EIO;
	return zip_reader_open(*fd, lim, r);
}

/* ---- names ---------------------------------------------------------------- */

static void
test_names(void)
{
	static const char *good[] = {
		"manifest.json", "bài-giảng.pdf", "materials/Lập trình C/bài 1.mp4",
		"a/b/c.txt", ".hidden", "a..b", "...", "con", "x",
	};
	static const char *bad[] = {
		"", "/etc/passwd", "../evil.txt", "a/../../b", "a/./b", "./a", "a/..",
		"a//b", "a/", "C:\\x", "C:x", "a\\b", "a\x01" "b", "tab\there",
		"del\x7f", "c1\xc2\x85", "\xff.txt", "\xc3\x28", "\xed\xa0\x80",
		"over\xc0\xaf", "file.txt:stream",
	};
	char longname[300];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char msg[200];

		snprintf(msg, sizeof(msg), "name ok: %s", good[i]);
		is_int(zip_name_check(good[i], strlen(good[i])), 0, msg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[200];

		snprintf(msg, sizeof(msg), "name refused: #%zu", i);
		is_int(zip_name_check(bad[i], strlen(bad[i])), TC_EINVALID, msg);
	}
	is_int(zip_name_check("a\0b", 3), TC_EINVALID, "name with NUL refused");
	memset(longname, 'x', sizeof(longname));
	is_int(zip_name_check(longname, 255), 0, "255-byte name ok");
	is_int(zip_name_check(longname, 256), TC_EINVALID, "256-byte name refused");
}

/* ---- writer → reader ------------------------------------------------------ */

struct rt_file {
	const char *name;
	unsigned char *data;
	size_t len;
	int deflate;
	int from_fd;
};

static void
test_round_trip(void)
{
	static const char manifest[] =
		"{\"format\":\"tinchi-course\",\"version\":1,"
		"\"title\":\"Lập trình C\",\"units\":[]}";
	struct rt_file files[] = {
		{ "manifest.json", (unsigned char *)(uintptr_t)manifest,
		  sizeof(manifest) - 1, 1, 0 },
		{ "materials/bài-giảng.pdf", NULL, 200000, 0, 0 },
		{ "materials/Lập trình C.txt", NULL, 50000, 1, 0 },
		{ "big.bin", NULL, MIB, 1, 1 },
		{ "stored-from-fd.bin", NULL, 100000, 0, 1 },
		{ "empty.txt", NULL, 0, 0, 0 },
		{ "empty-deflated.txt", NULL, 0, 1, 0 },
	};
	size_t nfiles = sizeof(files) / sizeof(files[0]);
	char path[1100], src[1100], out[1100], shell[2600];
	struct zip_writer *w = NULL;
	struct zip_reader *r = NULL;
	struct zip_entry e;
	char small[16], mbuf[512];
	size_t idx, len;
	int fd, rc;

	/* Contents: random for the PDF, text for the rest. */
	for (size_t i = 1; i < nfiles; i++) {
		if (files[i].len == 0)
			continue;
		files[i].data = malloc(files[i].len);
		fill_random(files[i].data, files[i].len, (uint32_t)i * 7919u);
		if (i != 1) {
			for (size_t j = 0; j < files[i].len; j++)
				files[i].data[j] = (unsigned char)("abcdefgh ijk\n"[files[i].data[j] % 13]);
		}
	}

	path_of(path, sizeof(path), "course.zip");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	is_int(zip_writer_open(fd, &w), 0, "writer opens");
	for (size_t i = 0; i < nfiles; i++) {
		char msg[200];

		if (files[i].from_fd) {
			int sfd;

			path_of(src, sizeof(src), "source.bin");
			save(src, files[i].data, files[i].len);
			sfd = open(src, O_RDONLY | O_CLOEXEC);
			rc = zip_writer_add(w, files[i].name, sfd, NULL, 0, files[i].deflate);
			close(sfd);
		} else {
			rc = zip_writer_add(w, files[i].name, -1, files[i].data,
					    files[i].len, files[i].deflate);
		}
		snprintf(msg, sizeof(msg), "add %s", files[i].name);
		is_int(rc, 0, msg);
	}
	/* Refusals that leave the writer usable. */
	is_int(zip_writer_add(w, "../evil.txt", -1, "x", 1, 0), TC_EINVALID,
	       "writer refuses ../evil.txt");
	is_int(zip_writer_add(w, "/etc/passwd", -1, "x", 1, 0), TC_EINVALID,
	       "writer refuses /etc/passwd");
	is_int(zip_writer_add(w, "dir/", -1, NULL, 0, 0), TC_EINVALID,
	       "writer refuses a folder name");
	is_int(zip_writer_add(w, "manifest.json", -1, "x", 1, 0), TC_ECONFLICT,
	       "writer refuses a duplicate");
	is_int(zip_writer_add(w, "MANIFEST.json", -1, "x", 1, 0), TC_ECONFLICT,
	       "writer refuses a case-insensitive duplicate");
	is_int(zip_writer_add(w, "Materials", -1, "x", 1, 0), TC_ECONFLICT,
	       "writer refuses a file named like a folder");
	is_int(zip_writer_add(w, "empty.txt/x", -1, "x", 1, 0), TC_ECONFLICT,
	       "writer refuses a file under a file");
	is_int(zip_writer_add(w, "x", 0, "x", 1, 0), TC_EINVALID,
	       "writer refuses two sources");
	is_int(zip_writer_add(w, "huge", -1, "x", (size_t)ZIP_SIZE_MAX + 1, 0),
	       TC_ETOOBIG, "writer refuses a buffer over 4 GiB - 2");
	is_int(zip_writer_close(w), 0, "writer closes");
	close(fd);

	/* An archive that `unzip -t` accepts too. */
	if (system("command -v unzip >/dev/null 2>&1") == 0) {
		snprintf(shell, sizeof(shell), "unzip -tqq '%s' >/dev/null 2>&1", path);
		is_int(system(shell), 0, "unzip -t accepts the archive");
	} else {
		ok(1, "# SKIP unzip is not installed");
	}

	fd = open(path, O_RDONLY | O_CLOEXEC);
	rc = zip_reader_open(fd, NULL, &r);
	is_int(rc, 0, "reader opens the archive");
	if (rc != 0)
		goto out;
	is_int(zip_reader_count(r), nfiles, "every file listed");
	for (size_t i = 0; i < nfiles; i++) {
		unsigned char *got;
		char msg[200];
		int ofd;

		snprintf(msg, sizeof(msg), "%s: found", files[i].name);
		ok(zip_reader_find(r, files[i].name, &idx) == 0 && idx == i, msg);
		zip_reader_entry(r, i, &e);
		snprintf(msg, sizeof(msg), "%s: name", files[i].name);
		is_str(e.name, files[i].name, msg);
		snprintf(msg, sizeof(msg), "%s: size", files[i].name);
		is_int(e.size, files[i].len, msg);
		snprintf(msg, sizeof(msg), "%s: method", files[i].name);
		is_int(e.method, files[i].deflate ? ZIP_DEFLATED : ZIP_STORED, msg);
		snprintf(msg, sizeof(msg), "%s: CRC", files[i].name);
		is_int(e.crc, crc_of(files[i].data, files[i].len), msg);
		path_of(out, sizeof(out), "extracted.bin");
		ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		snprintf(msg, sizeof(msg), "%s: extracts", files[i].name);
		is_int(zip_reader_extract(r, i, ofd), 0, msg);
		close(ofd);
		got = slurp(out, &len);
		snprintf(msg, sizeof(msg), "%s: same bytes", files[i].name);
		ok(got != NULL && len == files[i].len &&
		   (len == 0 || memcmp(got, files[i].data, len) == 0), msg);
		free(got);
	}
	zip_reader_find(r, "manifest.json", &idx);
	is_int(zip_reader_read(r, idx, mbuf, sizeof(mbuf), &len), 0, "manifest read");
	ok(len == sizeof(manifest) - 1 && memcmp(mbuf, manifest, len) == 0,
	   "manifest bytes");
	is_int(zip_reader_read(r, idx, small, sizeof(small), &len), TC_ETOOBIG,
	       "manifest into a small buffer: too big");
	is_int(len, 0, "nothing read");
	is_int(zip_reader_find(r, "MANIFEST.JSON", &idx), TC_ENOTFOUND,
	       "find compares exactly");
	is_int(zip_reader_find(r, "materials", &idx), TC_ENOTFOUND,
	       "a folder is not a file");
	is_int(zip_reader_find(r, "nope", &idx), TC_ENOTFOUND, "absent name");
	is_int(zip_reader_entry(r, nfiles, &e), TC_ENOTFOUND, "entry past the end");
	is_int(zip_reader_extract(r, nfiles, 1), TC_ENOTFOUND, "extract past the end");
out:
	zip_reader_close(r);
	close(fd);
	for (size_t i = 1; i < nfiles; i++)
		free(files[i].data);
}

/* Writer failures: a pipe cannot seek. */
static void
test_writer_errors(void)
{
	struct zip_writer *w = (struct zip_writer *)(uintptr_t)1;
	int p[2];

	if (pipe(p) != 0) {
		ok(0, "pipe");
		return;
	}
	is_int(zip_writer_open(p[1], &w), TC_EIO, "writer refuses a pipe");
	ok(w == NULL, "no writer");
	close(p[0]);
	close(p[1]);
	zip_writer_abort(NULL);
	zip_reader_close(NULL);
}

/* An archive made by Info-ZIP's zip to a pipe: data descriptors, folder
 * entries, extra fields. */
static void
test_info_zip(void)
{
	char shell[4200], path[1100], tree[1100], file[1200];
	struct zip_reader *r = NULL;
	size_t idx, len;
	char buf[64];
	int fd, rc;

	if (system("command -v zip >/dev/null 2>&1") != 0) {
		ok(1, "# SKIP zip is not installed");
		return;
	}
	path_of(tree, sizeof(tree), "tree");
	path_of(path, sizeof(path), "infozip.zip");
	mkdir(tree, 0700);
	snprintf(file, sizeof(file), "%s/sub", tree);
	mkdir(file, 0700);
	snprintf(file, sizeof(file), "%s/sub/bài-giảng.txt", tree);
	save(file, "xin chào\n", 10);
	snprintf(file, sizeof(file), "%s/a.txt", tree);
	save(file, "hello hello hello hello\n", 24);
	snprintf(shell, sizeof(shell),
		 "cd '%s' && zip -qr - . | cat > '%s'", tree, path);
	if (system(shell) != 0) {
		ok(0, "zip ran");
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	rc = zip_reader_open(fd, NULL, &r);
	is_int(rc, 0, "Info-ZIP archive (streamed, data descriptors) opens");
	if (rc == 0) {
		is_int(zip_reader_count(r), 2, "folder entry not listed");
		ok(zip_reader_find(r, "sub/bài-giảng.txt", &idx) == 0 &&
		   zip_reader_read(r, idx, buf, sizeof(buf), &len) == 0 &&
		   len == 10 && memcmp(buf, "xin chào\n", 10) == 0,
		   "Vietnamese name read back");
		ok(zip_reader_find(r, "a.txt", &idx) == 0 &&
		   zip_reader_read(r, idx, buf, sizeof(buf), &len) == 0 && len == 24,
		   "a.txt read back");
	}
	zip_reader_close(r);
	close(fd);
}

/* ---- hostile archives ------------------------------------------------------ */

static void
test_bad_names(void)
{
	static const struct {
		const char *name;
		const char *why;
	} cases[] = {
		{ "../evil.txt", "'.' or '..'" },
		{ "/etc/passwd", "absolute path" },
		{ "a/../../b", "'.' or '..'" },
		{ "C:\\x", "drive letter" },
		{ "a\\b", "backslash" },
		{ "a//b", "empty path segment" },
		{ "a\x01" "b", "control character" },
		{ "\xff.txt", "UTF-8" },
	};
	char longname[300];
	struct fake f[2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char label[100];

		f[0] = stored("ok.txt", "fine", 4);
		f[1] = stored(cases[i].name, "pwned", 5);
		snprintf(label, sizeof(label), "bad name #%zu", i);
		refuse_fakes(f, 2, NULL, cases[i].why, label);
	}
	f[0] = stored("a\0b", "x", 1);
	f[0].name_len = 3;
	refuse_fakes(f, 1, NULL, "control character", "name with NUL");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[256] = '\0';
	f[0] = stored(longname, "x", 1);
	refuse_fakes(f, 1, NULL, "longer than 255", "256-byte name");
}

static void
test_duplicates(void)
{
	struct fake f[3];

	f[0] = stored("a.txt", "one", 3);
	f[1] = stored("a.txt", "two", 3);
	refuse_fakes(f, 2, NULL, "duplicate name", "duplicate names");
	f[0] = stored("A.txt", "one", 3);
	f[1] = stored("a.txt", "two", 3);
	refuse_fakes(f, 2, NULL, "duplicate name", "A.txt and a.txt");
	f[0] = stored("a", "one", 3);
	f[1] = stored("A/b", "two", 3);
	refuse_fakes(f, 2, NULL, "both a file and a folder", "file a and file A/b");
	f[0] = stored("x/y/z", "one", 3);
	f[1] = stored("x/y", "two", 3);
	refuse_fakes(f, 2, NULL, "both a file and a folder", "file x/y/z then x/y");
	f[0] = stored("d/", "", 0);
	f[0].attr = (uint32_t)040755 << 16;
	f[1] = stored("d", "two", 3);
	refuse_fakes(f, 2, NULL, "both a file and a folder", "folder d/ and file d");
}

static void
test_entry_kinds(void)
{
	unsigned char extra[20] = { 0x01, 0x00, 16, 0 };	/* ZIP64, 16 bytes */
	struct dynbuf b;
	struct fake f[2];
	size_t cd_off;

	f[0] = stored("secret.txt", "xxxxxxxxxxxx", 12);
	f[0].flags = 1;
	refuse_fakes(f, 1, NULL, "encrypted", "encrypted entry");
	f[0] = stored("ppmd.txt", "xxxx", 4);
	f[0].method = 12;
	refuse_fakes(f, 1, NULL, "compression method 12", "method 12 (bzip2)");
	f[0] = stored("link", "/etc/passwd", 11);
	f[0].attr = (uint32_t)0120777 << 16;
	refuse_fakes(f, 1, NULL, "symbolic link", "symlink entry");
	f[0] = stored("fifo", "", 0);
	f[0].attr = (uint32_t)010644 << 16;
	refuse_fakes(f, 1, NULL, "device, fifo or socket", "fifo entry");
	f[0] = stored("d/", "data", 4);
	refuse_fakes(f, 1, NULL, "folder with data", "folder entry with data");
	f[0] = stored("s.txt", "hello", 5);
	f[0].csize = 4;
	f[0].data_len = 4;
	refuse_fakes(f, 1, NULL, "two different sizes", "stored, sizes differ");

	/* ZIP64: a 0xFFFFFFFF size, a ZIP64 extra field, a locator. */
	f[0] = stored("big", "x", 1);
	f[0].size = f[0].csize = 0xFFFFFFFFu;
	refuse_fakes(f, 1, NULL, "ZIP64", "ZIP64 size marker");

	dynbuf_init(&b, MIB);
	f[0] = stored("big", "x", 1);
	put_local(&b, &f[0]);
	dynbuf_append(&b, "x", 1);
	cd_off = b.len;
	put_central_extra(&b, &f[0], extra, sizeof(extra));
	put_end(&b, 1, (uint32_t)(b.len - cd_off), (uint32_t)cd_off);
	expect_refused(&b, NULL, "ZIP64", "ZIP64 extra field");

	dynbuf_reset(&b);
	put_local(&b, &f[0]);
	dynbuf_append(&b, "x", 1);
	cd_off = b.len;
	put_central(&b, &f[0]);
	b32(&b, 0x07064b50);	/* ZIP64 end locator */
	b32(&b, 0);
	b32(&b, 0);
	b32(&b, 0);
	b32(&b, 1);
	put_end(&b, 1, (uint32_t)(b.len - 20 - cd_off), (uint32_t)cd_off);
	expect_refused(&b, NULL, "ZIP64", "ZIP64 locator");
	dynbuf_cleanup(&b);
}

static void
test_bombs(void)
{
	unsigned char *zeros = calloc(1, 10 * MIB);
	struct zip_limits lim;
	struct zip_reader *r = NULL;
	struct fake f[2];
	char out[1100];
	unsigned char *got;
	struct dynbuf b;
	size_t len;
	int fd = -1, ofd;

	zip_limits_init(&lim);
	/* 1 KiB of deflate declaring 1 GiB: ratio way over 200. */
	f[0] = deflated("bomb.bin", zeros, MIB);
	f[0].size = 1u << 30;
	ok(f[0].csize > 900 && f[0].csize < 1200, "1 MiB of zeros deflates to ~1 KiB");
	refuse_fakes(f, 1, NULL, "compression ratio over 200", "1 KiB declaring 1 GiB");
	lim.max_entry_size = 100 * MIB;
	refuse_fakes(f, 1, &lim, "over the limit", "1 GiB over a 100 MiB entry limit");
	fakes_free(f, 1);

	/* Honest sizes, ratio about 1000. */
	zip_limits_init(&lim);
	f[0] = deflated("zeros.bin", zeros, 4 * MIB);
	refuse_fakes(f, 1, NULL, "compression ratio", "ratio over the limit");
	lim.max_ratio = 5000;
	dynbuf_init(&b, 64u * MIB);
	build(&b, f, 1);
	is_int(open_built(&b, &lim, &fd, &r), 0, "same archive with max_ratio 5000 opens");
	zip_reader_close(r);
	r = NULL;
	close(fd);
	dynbuf_cleanup(&b);
	fakes_free(f, 1);

	/* Total over max_total_size, entries over max_entries. */
	zip_limits_init(&lim);
	lim.max_total_size = MIB;
	f[0] = stored("a.bin", zeros, 600000);
	f[1] = stored("b.bin", zeros, 600000);
	refuse_fakes(f, 2, &lim, "in all", "total size over the limit");
	zip_limits_init(&lim);
	lim.max_entries = 1;
	refuse_fakes(f, 2, &lim, "2 entries, over the limit of 1", "too many entries");

	/* The liar: declares 1 KiB, inflates to 10 MiB. */
	f[0] = deflated("liar.bin", zeros, 10 * MIB);
	f[0].size = 1024;
	f[0].crc = crc_of(zeros, 1024);
	dynbuf_init(&b, 64u * MIB);
	build(&b, f, 1);
	is_int(open_built(&b, NULL, &fd, &r), 0, "liar opens (its declaration is fine)");
	path_of(out, sizeof(out), "liar.out");
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	log_reset();
	is_int(zip_reader_extract(r, 0, ofd), TC_EINVALID, "liar: extraction fails");
	ok(log_has("inflates to more than the 1024 bytes"), "liar: log says why");
	close(ofd);
	got = slurp(out, &len);
	ok(len <= 1024, "liar: no more than the declared 1 KiB written");
	free(got);
	{
		char buf[1024];

		is_int(zip_reader_read(r, 0, buf, sizeof(buf), &len), TC_EINVALID,
		       "liar: read fails too");
		is_int(len, 0, "liar: read returns nothing");
	}
	zip_reader_close(r);
	r = NULL;
	close(fd);
	dynbuf_cleanup(&b);
	fakes_free(f, 1);

	/* Declares more than it inflates to. */
	f[0] = deflated("short.bin", "hello", 5);
	f[0].size = 6;
	dynbuf_init(&b, MIB);
	build(&b, f, 1);
	is_int(open_built(&b, NULL, &fd, &r), 0, "short entry opens");
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	log_reset();
	is_int(zip_reader_extract(r, 0, ofd), TC_EINVALID, "short entry: fails");
	ok(log_has("5 bytes, 6 declared"), "short entry: log says why");
	close(ofd);
	zip_reader_close(r);
	r = NULL;
	close(fd);
	dynbuf_cleanup(&b);
	fakes_free(f, 1);

	/* Corrupt deflate data. */
	f[0] = stored("corrupt.bin", "\xff\xff\xff\xff", 4);
	f[0].method = 8;
	f[0].size = 10;
	dynbuf_init(&b, MIB);
	build(&b, f, 1);
	is_int(open_built(&b, NULL, &fd, &r), 0, "corrupt deflate opens");
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	log_reset();
	is_int(zip_reader_extract(r, 0, ofd), TC_EINVALID, "corrupt deflate: fails");
	ok(log_has("corrupt deflate"), "corrupt deflate: log says why");
	close(ofd);
	zip_reader_close(r);
	close(fd);
	dynbuf_cleanup(&b);
	free(zeros);
}

static void
test_layout(void)
{
	struct zip_reader *r = NULL;
	struct fake f[3];
	struct dynbuf b, inner;
	char out[1100], buf[64];
	size_t cd_off, len;
	int fd = -1, ofd;

	dynbuf_init(&b, 64u * MIB);
	dynbuf_init(&inner, MIB);

	/* Two central records pointing at one local header. */
	f[0] = stored("a.txt", "hello", 5);
	put_local(&b, &f[0]);
	dynbuf_append(&b, "hello", 5);
	cd_off = b.len;
	put_central(&b, &f[0]);
	put_central(&b, &f[0]);
	put_end(&b, 2, (uint32_t)(b.len - cd_off), (uint32_t)cd_off);
	expect_refused(&b, NULL, "duplicate name", "two records, one local header");
	dynbuf_reset(&b);
	f[1] = f[0];
	f[1].name = "b.txt";
	put_local(&b, &f[0]);
	dynbuf_append(&b, "hello", 5);
	cd_off = b.len;
	put_central(&b, &f[0]);
	put_central(&b, &f[1]);
	put_end(&b, 2, (uint32_t)(b.len - cd_off), (uint32_t)cd_off);
	expect_refused(&b, NULL, "local name differs",
		       "two names, one local header");

	/* Overlap: b.txt's local header and data inside a.txt's data. */
	dynbuf_reset(&b);
	f[1] = stored("b.txt", "hello", 5);
	put_local(&inner, &f[1]);
	dynbuf_append(&inner, "hello", 5);
	f[0] = stored("a", inner.data, inner.len);
	f[0].offset = 0;
	put_local(&b, &f[0]);
	f[1].offset = (uint32_t)b.len;
	dynbuf_append(&b, inner.data, inner.len);
	cd_off = b.len;
	put_central(&b, &f[0]);
	put_central(&b, &f[1]);
	put_end(&b, 2, (uint32_t)(b.len - cd_off), (uint32_t)cd_off);
	expect_refused(&b, NULL, "overlap", "overlapping entries");

	/* Local header disagreeing with the central directory. */
	dynbuf_reset(&b);
	f[0] = stored("a.txt", "hello", 5);
	f[1] = f[0];
	f[1].method = 8;
	put_local(&b, &f[0]);
	dynbuf_append(&b, "hello", 5);
	cd_off = b.len;
	put_central(&b, &f[1]);
	put_end(&b, 1, (uint32_t)(b.len - cd_off), (uint32_t)cd_off);
	expect_refused(&b, NULL, "method differ", "local method differs");
	dynbuf_reset(&b);
	f[1] = f[0];
	f[1].crc ^= 1;
	put_local(&b, &f[1]);
	dynbuf_append(&b, "hello", 5);
	cd_off = b.len;
	put_central(&b, &f[0]);
	put_end(&b, 1, (uint32_t)(b.len - cd_off), (uint32_t)cd_off);
	expect_refused(&b, NULL, "CRC or sizes differ", "local CRC differs");

	/* Data running into the central directory. */
	dynbuf_reset(&b);
	f[0] = stored("a.txt", "hello", 5);
	f[0].csize = f[0].size = 40;
	put_local(&b, &f[0]);
	dynbuf_append(&b, "hello", 5);
	cd_off = b.len;
	put_central(&b, &f[0]);
	put_end(&b, 1, (uint32_t)(b.len - cd_off), (uint32_t)cd_off);
	expect_refused(&b, NULL, "runs into the central directory",
		       "data past the entries");

	/* EOCD claiming more, or fewer, records than there are. */
	dynbuf_reset(&b);
	f[0] = stored("a.txt", "one", 3);
	f[1] = stored("b.txt", "two", 3);
	build(&b, f, 2);
	b.data[b.len - 22 + 8] = 3;
	b.data[b.len - 22 + 10] = 3;
	expect_refused(&b, NULL, "fewer records than declared", "EOCD claims 3 of 2");
	b.data[b.len - 22 + 8] = 1;
	b.data[b.len - 22 + 10] = 1;
	expect_refused(&b, NULL, "more than the 1 records", "EOCD claims 1 of 2");

	/* Central directory offset past the end of the file. */
	b.data[b.len - 22 + 8] = 2;
	b.data[b.len - 22 + 10] = 2;
	b.data[b.len - 22 + 16] = (char)0xF0;
	b.data[b.len - 22 + 17] = (char)0xFF;
	expect_refused(&b, NULL, "central directory outside the file",
		       "directory offset beyond the end");

	/* Truncated: half the archive, or one byte short. */
	dynbuf_reset(&b);
	build(&b, f, 2);
	len = b.len;
	b.len = len / 2;
	expect_refused(&b, NULL, "no end of central directory", "truncated to half");
	b.len = len - 1;
	expect_refused(&b, NULL, "no end of central directory", "one byte short");
	b.len = len;
	dynbuf_append(&b, "junk", 4);
	expect_refused(&b, NULL, "no end of central directory", "trailing junk");

	/* A local header offset that points at garbage. */
	dynbuf_reset(&b);
	f[0] = stored("a.txt", "hello", 5);
	put_local(&b, &f[0]);
	dynbuf_append(&b, "hello", 5);
	cd_off = b.len;
	f[0].offset = 3;
	put_central(&b, &f[0]);
	put_end(&b, 1, (uint32_t)(b.len - cd_off), (uint32_t)cd_off);
	expect_refused(&b, NULL, "no local header", "offset into garbage");

	/* Data descriptor (bit 3): a good one and a lying one. */
	for (int lie = 0; lie < 2; lie++) {
		dynbuf_reset(&b);
		f[0] = stored("dd.txt", "hello", 5);
		f[0].flags = 8;
		f[1] = f[0];
		f[1].crc = f[1].csize = f[1].size = 0;	/* in the local header */
		put_local(&b, &f[1]);
		dynbuf_append(&b, "hello", 5);
		b32(&b, 0x08074b50);
		b32(&b, f[0].crc);
		b32(&b, 5);
		b32(&b, lie ? 6 : 5);
		cd_off = b.len;
		put_central(&b, &f[0]);
		put_end(&b, 1, (uint32_t)(b.len - cd_off), (uint32_t)cd_off);
		if (lie) {
			expect_refused(&b, NULL, "data descriptor disagrees",
				       "lying data descriptor");
			continue;
		}
		is_int(open_built(&b, NULL, &fd, &r), 0, "data descriptor accepted");
		ok(r != NULL && zip_reader_read(r, 0, buf, sizeof(buf), &len) == 0 &&
		   len == 5 && memcmp(buf, "hello", 5) == 0, "data descriptor entry read");
		zip_reader_close(r);
		r = NULL;
		close(fd);
	}

	/* CRC mismatch: opens, fails on extraction. */
	dynbuf_reset(&b);
	f[0] = stored("crc.txt", "hello", 5);
	f[0].crc ^= 0x5a5a;
	build(&b, f, 1);
	is_int(open_built(&b, NULL, &fd, &r), 0, "CRC mismatch opens");
	path_of(out, sizeof(out), "crc.out");
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	log_reset();
	is_int(zip_reader_extract(r, 0, ofd), TC_EINVALID, "CRC mismatch: extraction fails");
	ok(log_has("CRC mismatch"), "CRC mismatch: log says why");
	close(ofd);
	zip_reader_close(r);
	r = NULL;
	close(fd);

	/* Folder entries are skipped; an empty archive is an archive. */
	dynbuf_reset(&b);
	f[0] = stored("d/", "", 0);
	f[0].attr = (uint32_t)040755 << 16;
	f[1] = stored("d/x.txt", "x", 1);
	build(&b, f, 2);
	is_int(open_built(&b, NULL, &fd, &r), 0, "archive with a folder entry opens");
	ok(r != NULL && zip_reader_count(r) == 1, "folder entry skipped");
	zip_reader_close(r);
	r = NULL;
	close(fd);
	dynbuf_reset(&b);
	put_end(&b, 0, 0, 0);
	is_int(open_built(&b, NULL, &fd, &r), 0, "empty archive opens");
	ok(r != NULL && zip_reader_count(r) == 0, "empty archive has no files");
	zip_reader_close(r);
	close(fd);

	dynbuf_cleanup(&inner);
	dynbuf_cleanup(&b);
}

static void
test_garbage(void)
{
	struct dynbuf b;
	char path[1100];
	struct zip_reader *r = NULL;
	int fd;

	dynbuf_init(&b, MIB);
	dynbuf_reserve(&b, 4096);
	fill_random((unsigned char *)b.data, 4096, 12345);
	b.len = 4096;
	expect_refused(&b, NULL, "no end of central directory", "random bytes");
	b.len = 0;
	expect_refused(&b, NULL, "too short", "empty file");
	dynbuf_cleanup(&b);

	path_of(path, sizeof(path), "");
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	log_reset();
	is_int(zip_reader_open(fd, NULL, &r), TC_EINVALID, "a folder is refused");
	ok(r == NULL && log_has("not a regular file"), "a folder: no reader, logged");
	close(fd);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	log_fp = tmpfile();
	if (log_fp == NULL) {
		printf("Bail out! tmpfile failed\n");
		return 1;
	}
	log_set_stream(log_fp);
	log_set_level(LOG_INFO);
	snprintf(dir, sizeof(dir), "%s/tinchi-zip-XXXXXX",
		 base && base[0] ? base : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(outdir, sizeof(outdir), "%s/out", dir);
	mkdir(outdir, 0700);

	test_names();
	test_round_trip();
	test_writer_errors();
	test_info_zip();
	test_bad_names();
	test_duplicates();
	test_entry_kinds();
	test_bombs();
	test_layout();
	test_garbage();
	is_int(count_outdir(), 0, "no refused archive extracted anything");

	if (test_tmpdir_remove(dir) != 0)
		diag("could not remove the temporary folder");
	log_set_stream(NULL);
	fclose(log_fp);
	return done_testing();
}
