/* mediatype_test.c - tests for storage/mediatype.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/mediatype.h"
#include "tests/tap.h"

#define TYPE_MAX 128

static struct mediatype_detector *det;

/* A growing byte buffer for building samples. */
struct bytes {
	unsigned char p[4096];
	size_t n;
};

static void
put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > sizeof(b->p)) {
		printf("Bail out! sample too large\n");
		exit(1);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
put_str(struct bytes *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
put_be32(struct bytes *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, x, 4);
}

static void
put_le16(struct bytes *b, unsigned v)
{
	unsigned char x[2] = { v & 0xff, (v >> 8) & 0xff };

	put(b, x, 2);
}

static void
put_le32(struct bytes *b, uint32_t v)
{
	unsigned char x[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(b, x, 4);
}

/* One PNG chunk: length, type, data, CRC of type and data. */
static void
png_chunk(struct bytes *b, const char *type, const void *data, size_t n)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	put_be32(b, (uint32_t)n);
	put(b, type, 4);
	put(b, data, n);
	crc = crc32(crc, (const Bytef *)type, 4);
	crc = crc32(crc, data, (uInt)n);
	put_be32(b, (uint32_t)crc);
}

/* A 1x1 8-bit greyscale PNG: signature, IHDR, IDAT, IEND. */
static void
make_png(struct bytes *b)
{
	static const unsigned char sig[8] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
	};
	static const unsigned char ihdr[13] = {
		0, 0, 0, 1, 0, 0, 0, 1,	/* width, height */
		8, 0, 0, 0, 0		/* depth, grey, deflate, filter, no interlace */
	};
	static const unsigned char raw[2] = { 0, 0x80 };	/* filter 0, grey */
	unsigned char z[64];
	uLongf zn = sizeof(z);

	b->n = 0;
	put(b, sig, sizeof(sig));
	png_chunk(b, "IHDR", ihdr, sizeof(ihdr));
	if (compress(z, &zn, raw, sizeof(raw)) != Z_OK)
		zn = 0;
	png_chunk(b, "IDAT", z, zn);
	png_chunk(b, "IEND", "", 0);
}

/* A zip with one stored file: local header, data, central directory,
 * end of central directory. */
static void
make_zip(struct bytes *b)
{
	static const char name[] = "lesson.txt";
	static const char data[] = "Bai 1: Chao mung.\n";
	uint16_t nlen = sizeof(name) - 1;
	uint32_t dlen = sizeof(data) - 1;
	uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0),
				       (const Bytef *)data, dlen);
	uint32_t cd_off, cd_len;

	b->n = 0;
	put_le32(b, 0x04034b50);	/* local file header */
	put_le16(b, 10);		/* version needed */
	put_le16(b, 0);			/* flags */
	put_le16(b, 0);			/* stored */
	put_le16(b, 0);			/* time */
	put_le16(b, 0x5a21);		/* date: 2025-01-01 */
	put_le32(b, crc);
	put_le32(b, dlen);
	put_le32(b, dlen);
	put_le16(b, nlen);
	put_le16(b, 0);			/* extra */
	put(b, name, nlen);
	put(b, data, dlen);
	cd_off = (uint32_t)b->n;
	put_le32(b, 0x02014b50);	/* central directory header */
	put_le16(b, 0x031e);		/* made by: Unix, 3.0 */
	put_le16(b, 10);
	put_le16(b, 0);
	put_le16(b, 0);
	put_le16(b, 0);
	put_le16(b, 0x5a21);
	put_le32(b, crc);
	put_le32(b, dlen);
	put_le32(b, dlen);
	put_le16(b, nlen);
	put_le16(b, 0);			/* extra */
	put_le16(b, 0);			/* comment */
	put_le16(b, 0);			/* disk */
	put_le16(b, 0);			/* internal attributes */
	put_le32(b, 0100644u << 16);	/* external: a regular file */
	put_le32(b, 0);			/* local header offset */
	put(b, name, nlen);
	cd_len = (uint32_t)b->n - cd_off;
	put_le32(b, 0x06054b50);	/* end of central directory */
	put_le16(b, 0);
	put_le16(b, 0);
	put_le16(b, 1);
	put_le16(b, 1);
	put_le32(b, cd_len);
	put_le32(b, cd_off);
	put_le16(b, 0);
}

/* An ISO base media "ftyp" box with BRAND, then an empty "free" box. */
static void
make_ftyp(struct bytes *b, const char *brand, const char *compat)
{
	b->n = 0;
	put_be32(b, (uint32_t)(16 + strlen(compat)));
	put_str(b, "ftyp");
	put(b, brand, 4);
	put_be32(b, 0x200);
	put_str(b, compat);
	put_be32(b, 8);
	put_str(b, "free");
}

/* An EBML header with DOCTYPE ("webm" or "matroska"). */
static void
make_ebml(struct bytes *b, const char *doctype)
{
	static const unsigned char head[] = {
		0x42, 0x86, 0x81, 0x01,	/* EBMLVersion 1 */
		0x42, 0xf7, 0x81, 0x01,	/* EBMLReadVersion 1 */
		0x42, 0xf2, 0x81, 0x04,	/* EBMLMaxIDLength 4 */
		0x42, 0xf3, 0x81, 0x08,	/* EBMLMaxSizeLength 8 */
	};
	static const unsigned char tail[] = {
		0x42, 0x87, 0x81, 0x02,	/* DocTypeVersion 2 */
		0x42, 0x85, 0x81, 0x02,	/* DocTypeReadVersion 2 */
	};
	size_t dlen = strlen(doctype);
	unsigned char x[4] = { 0x1a, 0x45, 0xdf, 0xa3 };
	unsigned char size = (unsigned char)(0x80 | (sizeof(head) + 3 + dlen +
						     sizeof(tail)));
	unsigned char dt[3] = { 0x42, 0x82, (unsigned char)(0x80 | dlen) };

	b->n = 0;
	put(b, x, 4);
	put(b, &size, 1);
	put(b, head, sizeof(head));
	put(b, dt, 3);
	put(b, doctype, dlen);
	put(b, tail, sizeof(tail));
}

/* Detects B and checks the result is WANT. */
static void
check(const struct bytes *b, const char *want, const char *what)
{
	char type[TYPE_MAX] = "";
	char name[160];
	int rc;

	rc = mediatype_detect(det, b->p, b->n, type, sizeof(type));
	snprintf(name, sizeof(name), "%s: %s", what, want);
	ok(rc == 0 && strcmp(type, want) == 0, name);
	if (rc != 0 || strcmp(type, want) != 0) {
		snprintf(name, sizeof(name), "rc %d, libmagic said \"%s\"", rc,
			 type);
		diag(name);
	}
}

static void
set_text(struct bytes *b, const char *s)
{
	b->n = 0;
	put_str(b, s);
}

static void
test_detect(void)
{
	static const unsigned char jpeg[] = {
		0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00,
		0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
		0xff, 0xd9,
	};
	static const unsigned char webp[] = {
		'R', 'I', 'F', 'F', 0x1a, 0, 0, 0, 'W', 'E', 'B', 'P',
		'V', 'P', '8', ' ', 0x0e, 0, 0, 0,
		0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x01, 0x00, 0x01, 0x00,
		0x02, 0x00, 0x34, 0x25,
	};
	static const unsigned char mp3[] = {
		'I', 'D', '3', 3, 0, 0, 0, 0, 0, 0,
		0xff, 0xfb, 0x90, 0x00,
	};
	struct bytes b = { .n = 0 };
	uint32_t x = 2463534242u;

	set_text(&b, "%PDF-1.4\n"
		 "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
		 "2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
		 "xref\n0 3\n0000000000 65535 f \n"
		 "0000000009 00000 n \n0000000058 00000 n \n"
		 "trailer\n<< /Size 3 /Root 1 0 R >>\n"
		 "startxref\n110\n%%EOF\n");
	check(&b, "application/pdf", "PDF");
	make_png(&b);
	check(&b, "image/png", "PNG");
	b.n = 0;
	put(&b, jpeg, sizeof(jpeg));
	check(&b, "image/jpeg", "JPEG/JFIF");
	b.n = 0;
	put(&b, webp, sizeof(webp));
	check(&b, "image/webp", "WebP");

	set_text(&b, "WEBVTT\n\n00:00.000 --> 00:02.000\nXin chào\n");
	check(&b, "text/vtt", "WebVTT");
	set_text(&b, "\xef\xbb\xbfWEBVTT - Bài 1\r\n\r\n"
		 "00:00.000 --> 00:02.000\r\nXin chào\r\n");
	check(&b, "text/vtt", "WebVTT with BOM and CRLF");
	set_text(&b, "WEBVTT\tKind: captions\n");
	check(&b, "text/vtt", "WebVTT, tab after the signature");
	set_text(&b, "WEBVTT");
	check(&b, "text/vtt", "WebVTT, signature only");
	set_text(&b, "WEBVTTX\n\n00:00.000 --> 00:02.000\nno\n");
	check(&b, "text/plain", "WEBVTTX is not WebVTT");
	set_text(&b, "Note\nWEBVTT\n");
	check(&b, "text/plain", "WEBVTT not at the start");
	b.n = 0;
	put_str(&b, "WEBVTT\n");
	for (int i = 0; i < 256; i++) {
		unsigned char c = (unsigned char)(i * 7 + 1);

		put(&b, &c, 1);
	}
	check(&b, "application/octet-stream",
	      "binary that starts with WEBVTT");

	set_text(&b, "Bài giảng 1: Giới thiệu.\nTiếng Việt có dấu.\n");
	check(&b, "text/plain", "UTF-8 text");
	set_text(&b, "<!DOCTYPE html><html><head><title>Bai 1</title></head>"
		 "<body><script>alert(1)</script></body></html>\n");
	check(&b, "text/html", "HTML");
	make_zip(&b);
	check(&b, "application/zip", "stored zip");

	b.n = 0;
	for (int i = 0; i < 1024; i++) {
		unsigned char c;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		c = (unsigned char)x;
		put(&b, &c, 1);
	}
	check(&b, "application/octet-stream", "random bytes");

	make_ftyp(&b, "isom", "isomiso2avc1mp41");
	check(&b, "video/mp4", "MP4 (ftyp isom)");
	make_ftyp(&b, "M4A ", "M4A isomiso2");
	check(&b, "audio/x-m4a", "M4A (ftyp M4A)");
	make_ftyp(&b, "qt  ", "qt  ");
	check(&b, "video/quicktime", "QuickTime (ftyp qt)");
	make_ebml(&b, "webm");
	check(&b, "video/webm", "WebM");
	make_ebml(&b, "matroska");
	check(&b, "video/x-matroska", "Matroska");
	b.n = 0;
	put(&b, mp3, sizeof(mp3));
	for (int i = 0; i < 400; i++)
		put(&b, "", 1);
	check(&b, "audio/mpeg", "MP3 (ID3)");

	b.n = 0;
	check(&b, "application/x-empty", "zero bytes");
}

static void
test_detect_errors(void)
{
	char small[4];
	char type[TYPE_MAX];

	is_int(mediatype_detect(det, "%PDF-1.4\n", 9, small, sizeof(small)),
	       TC_EINVALID, "output too small");
	is_int(mediatype_detect(det, NULL, 5, type, sizeof(type)),
	       TC_EINVALID, "NULL buffer");
	is_int(mediatype_detect(det, NULL, 0, type, sizeof(type)), 0,
	       "NULL empty buffer");
	is_int(mediatype_detect(NULL, "x", 1, type, sizeof(type)),
	       TC_EINVALID, "no detector");
	mediatype_close(NULL);
	ok(1, "mediatype_close(NULL)");
}

static void
test_allowed(void)
{
	static const struct {
		enum material_kind kind;
		const char *type;
		int want;
	} cases[] = {
		{ MATERIAL_VIDEO, "video/mp4", 1 },
		{ MATERIAL_VIDEO, "video/webm", 1 },
		{ MATERIAL_VIDEO, "video/quicktime", 1 },
		{ MATERIAL_VIDEO, "video/x-matroska", 1 },
		{ MATERIAL_VIDEO, "application/pdf", 0 },
		{ MATERIAL_VIDEO, "audio/mpeg", 0 },
		{ MATERIAL_VIDEO, "video/x-msvideo", 0 },
		{ MATERIAL_AUDIO, "audio/mpeg", 1 },
		{ MATERIAL_AUDIO, "audio/x-m4a", 1 },
		{ MATERIAL_AUDIO, "audio/mp4", 1 },
		{ MATERIAL_AUDIO, "video/mp4", 0 },
		{ MATERIAL_AUDIO, "audio/x-wav", 0 },
		{ MATERIAL_DOCUMENT, "application/pdf", 1 },
		{ MATERIAL_DOCUMENT, "image/png", 1 },
		{ MATERIAL_DOCUMENT, "image/jpeg", 1 },
		{ MATERIAL_DOCUMENT, "image/webp", 1 },
		{ MATERIAL_DOCUMENT, "text/plain", 1 },
		{ MATERIAL_DOCUMENT, "text/html", 0 },
		{ MATERIAL_DOCUMENT, "image/svg+xml", 0 },
		{ MATERIAL_DOCUMENT, "application/zip", 0 },
		{ MATERIAL_DOCUMENT, "text/vtt", 0 },
		{ MATERIAL_DOCUMENT, "application/x-empty", 0 },
		{ MATERIAL_DOCUMENT, "application/octet-stream", 0 },
		{ MATERIAL_DOCUMENT, "APPLICATION/PDF", 0 },
		{ MATERIAL_DOCUMENT, "application/pdf ", 0 },
		{ MATERIAL_DOCUMENT, "", 0 },
		{ MATERIAL_CAPTIONS, "text/vtt", 1 },
		{ MATERIAL_CAPTIONS, "text/plain", 0 },
		{ MATERIAL_CAPTIONS, "text/html", 0 },
		{ MATERIAL_PACKAGE, "application/zip", 1 },
		{ MATERIAL_PACKAGE, "application/pdf", 0 },
		{ MATERIAL_PACKAGE, "application/gzip", 0 },
		{ (enum material_kind)0, "application/pdf", 0 },
		{ (enum material_kind)99, "video/mp4", 0 },
	};
	char name[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "kind %d %s \"%s\"",
			 (int)cases[i].kind,
			 cases[i].want ? "accepts" : "refuses", cases[i].type);
		is_int(mediatype_allowed(cases[i].kind, cases[i].type),
		       cases[i].want, name);
	}
	is_int(mediatype_allowed(MATERIAL_DOCUMENT, NULL), 0, "NULL type");
}

static void
test_sizes(void)
{
	is_int(mediatype_max_size(MATERIAL_VIDEO), 4LL * 1024 * 1024 * 1024,
	       "video 4 GiB");
	is_int(mediatype_max_size(MATERIAL_AUDIO), 1LL * 1024 * 1024 * 1024,
	       "audio 1 GiB");
	is_int(mediatype_max_size(MATERIAL_DOCUMENT), 200LL * 1024 * 1024,
	       "document 200 MiB");
	is_int(mediatype_max_size(MATERIAL_CAPTIONS), 2LL * 1024 * 1024,
	       "captions 2 MiB");
	is_int(mediatype_max_size(MATERIAL_PACKAGE), 8LL * 1024 * 1024 * 1024,
	       "package 8 GiB");
	is_int(mediatype_max_size((enum material_kind)0), 0, "unknown kind 0");
}

static void
test_extensions(void)
{
	static const char *cases[][2] = {
		{ "video/mp4", "mp4" },
		{ "video/webm", "webm" },
		{ "video/quicktime", "mov" },
		{ "video/x-matroska", "mkv" },
		{ "audio/mpeg", "mp3" },
		{ "audio/x-m4a", "m4a" },
		{ "audio/mp4", "m4a" },
		{ "application/pdf", "pdf" },
		{ "image/png", "png" },
		{ "image/jpeg", "jpg" },
		{ "image/webp", "webp" },
		{ "text/plain", "txt" },
		{ "text/vtt", "vtt" },
		{ "application/zip", "zip" },
		{ "text/html", "bin" },
		{ "application/octet-stream", "bin" },
		{ "", "bin" },
	};
	char name[96];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "extension of \"%s\"", cases[i][0]);
		is_str(mediatype_extension(cases[i][0]), cases[i][1], name);
	}
	is_str(mediatype_extension(NULL), "bin", "extension of NULL");
}

int
main(void)
{
	FILE *log_fp = tmpfile();

	if (log_fp == NULL) {
		printf("Bail out! tmpfile failed\n");
		return 1;
	}
	log_set_stream(log_fp);
	if (mediatype_open(&det) != 0) {
		printf("Bail out! cannot load the magic database\n");
		return 1;
	}
	test_detect();
	test_detect_errors();
	test_allowed();
	test_sizes();
	test_extensions();
	mediatype_close(det);
	log_set_stream(NULL);
	fclose(log_fp);
	return done_testing();
}
