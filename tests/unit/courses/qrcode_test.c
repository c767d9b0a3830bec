/* qrcode_test.c - tests for courses/qrcode.c: the module matrix, its SVG,
 * and (when Debian's zbar-tools / librsvg2-bin are installed) that both
 * decode back to the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/qrcode.h"
#include "tests/tap.h"

static const char url[] = "https://tinchi.example.vn/v/Qx3vN0yq2J6Ezr8sTUFmWcA1bPq7K9dLh4gRt5sVwXy";

static int
have(const char *cmd)
{
	char sh[128];

	snprintf(sh, sizeof(sh), "command -v %s >/dev/null 2>&1", cmd);
	return system(sh) == 0;
}

static int
dark(const unsigned char *m, int w, int x, int y)
{
	return m[(size_t)y * (size_t)w + (size_t)x];
}

/* A finder pattern at (X, Y): a dark 7x7 ring, a light ring, a dark 3x3 core. */
static int
finder_at(const unsigned char *m, int w, int x0, int y0)
{
	for (int y = 0; y < 7; y++)
		for (int x = 0; x < 7; x++) {
			int ring = x == 0 || y == 0 || x == 6 || y == 6;
			int core = x >= 2 && x <= 4 && y >= 2 && y <= 4;

			if (dark(m, w, x0 + x, y0 + y) != (ring || core))
				return 0;
		}
	return 1;
}

static void
test_encode(void)
{
	unsigned char *m = NULL, *m2 = NULL;
	char *big;
	int w = -1, w2 = -1;
	size_t n = 0;

	is_int(qr_encode(NULL, &m, &w), TC_EINVALID, "no text");
	is_int(qr_encode("", &m, &w), TC_EINVALID, "empty text");
	big = malloc(QR_TEXT_MAX + 2);
	memset(big, 'a', QR_TEXT_MAX + 1);
	big[QR_TEXT_MAX + 1] = '\0';
	is_int(qr_encode(big, &m, &w), TC_EINVALID, "longer than QR_TEXT_MAX");
	ok(m == NULL && w == -1, "outputs untouched on failure");
	big[QR_TEXT_MAX] = '\0';
	is_int(qr_encode(big, &m, &w), 0, "QR_TEXT_MAX bytes fit");
	ok(w > 100 && (w - 17) % 4 == 0, "a large version");
	free(m);
	m = NULL;
	free(big);

	is_int(qr_encode("HELLO", &m, &w), 0, "encode a word");
	is_int(w, 21, "version 1 is 21 modules");
	ok(finder_at(m, w, 0, 0) && finder_at(m, w, w - 7, 0) && finder_at(m, w, 0, w - 7),
	   "three finder patterns");
	ok(!finder_at(m, w, w - 7, w - 7), "none at the bottom right");
	for (int i = 8; i < w - 8; i++)
		n += dark(m, w, i, 6) == (i % 2 == 0);
	is_int(n, w - 16, "the timing pattern alternates");
	free(m);
	m = NULL;

	is_int(qr_encode(url, &m, &w), 0, "encode a URL");
	is_int(qr_encode(url, &m2, &w2), 0, "again");
	ok(w == w2 && memcmp(m, m2, (size_t)w * (size_t)w) == 0, "the same matrix");
	ok((w - 17) % 4 == 0 && w > 21, "a version that holds it");
	n = 0;
	for (int i = 0; i < w * w; i++)
		n += m[i] > 1;
	is_int(n, 0, "modules are 0 or 1");
	free(m);
	free(m2);
}

static void
test_svg(void)
{
	struct dynbuf b;
	unsigned char *m = NULL;
	int w = 0;
	long runs = 0, darkn = 0;
	char want[64];
	const char *p, *s;

	dynbuf_init(&b, 1 << 20);
	is_int(qr_svg(url, "a<b & \"c\"", &b), 0, "an SVG");
	s = dynbuf_str(&b);
	ok(strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0, "an svg element");
	qr_encode(url, &m, &w);
	snprintf(want, sizeof(want), "viewBox=\"0 0 %d %d\"", w + 2 * QR_QUIET, w + 2 * QR_QUIET);
	ok(strstr(s, want) != NULL, "viewBox: the symbol and its quiet zone");
	ok(strstr(s, "<title>a&lt;b &amp; &quot;c&quot;</title>") != NULL, "title escaped");
	ok(strstr(s, "style") == NULL && strstr(s, "<script") == NULL, "no style, no script");
	ok(strcmp(s + b.len - 6, "</svg>") == 0, "closed");
	/* the path's runs cover exactly the dark modules */
	for (p = strstr(s, " d=\""); p && (p = strchr(p, 'h')); p++) {
		long n = strtol(p + 1, NULL, 10);

		if (n > 0) {
			runs += n;
			p = strchr(p, 'z');
		}
	}
	for (int i = 0; i < w * w; i++)
		darkn += m[i];
	is_int(runs, darkn, "path runs add up to the dark modules");
	free(m);

	dynbuf_reset(&b);
	is_int(qr_svg(url, NULL, &b), 0, "no title given");
	snprintf(want, sizeof(want), "<title>%.40s", url);
	ok(strstr(dynbuf_str(&b), want) != NULL, "the text is the title");
	dynbuf_cleanup(&b);

	dynbuf_init(&b, 64);
	is_int(qr_svg(url, NULL, &b), TC_ETOOBIG, "a capped buffer is too small");
	dynbuf_cleanup(&b);
	dynbuf_init(&b, 1 << 20);
	is_int(qr_svg("", NULL, &b), TC_EINVALID, "empty text");
	is_int(qr_svg(url, NULL, NULL), TC_EINVALID, "no buffer");
	dynbuf_cleanup(&b);
}

/* Decodes FILE with zbarimg into OUT; 0 on success. */
static int
zbar(const char *file, char *out, size_t n)
{
	char cmd[512];
	FILE *f;
	size_t got;

	snprintf(cmd, sizeof(cmd), "zbarimg --raw -q '%s' 2>/dev/null", file);
	if (!(f = popen(cmd, "r")))
		return -1;
	got = fread(out, 1, n - 1, f);
	out[got] = '\0';
	if (got && out[got - 1] == '\n')
		out[got - 1] = '\0';
	return pclose(f) == 0 ? 0 : -1;
}

static void
test_decode(void)
{
	char dir[] = "/tmp/qrcode_testXXXXXX", pgm[64], svg[64], png[64], cmd[256], got[512];
	unsigned char *m = NULL;
	int w = 0, scale = 4;
	struct dynbuf b;
	FILE *f;

	if (!have("zbarimg")) {
		ok(1, "# SKIP zbarimg not installed (Debian zbar-tools): decoding not checked");
		ok(1, "# SKIP zbarimg not installed");
		return;
	}
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(pgm, sizeof(pgm), "%s/qr.pgm", dir);
	snprintf(svg, sizeof(svg), "%s/qr.svg", dir);
	snprintf(png, sizeof(png), "%s/qr.png", dir);

	/* the matrix, drawn as a binary PGM with the quiet zone */
	qr_encode(url, &m, &w);
	f = fopen(pgm, "wb");
	if (f) {
		int size = (w + 2 * QR_QUIET) * scale;

		fprintf(f, "P5\n%d %d\n255\n", size, size);
		for (int y = 0; y < size; y++)
			for (int x = 0; x < size; x++) {
				int mx = x / scale - QR_QUIET, my = y / scale - QR_QUIET;
				int d = mx >= 0 && my >= 0 && mx < w && my < w &&
					m[(size_t)my * (size_t)w + (size_t)mx];

				fputc(d ? 0 : 255, f);
			}
		fclose(f);
	}
	free(m);
	ok(zbar(pgm, got, sizeof(got)) == 0 && strcmp(got, url) == 0,
	   "the matrix decodes to the text (zbarimg)");

	/* the SVG, rendered by librsvg */
	if (have("rsvg-convert")) {
		dynbuf_init(&b, 1 << 20);
		qr_svg(url, NULL, &b);
		f = fopen(svg, "wb");
		if (f) {
			fwrite(b.data, 1, b.len, f);
			fclose(f);
		}
		dynbuf_cleanup(&b);
		snprintf(cmd, sizeof(cmd), "rsvg-convert -w 400 -h 400 -o '%s' '%s'", png, svg);
		ok(system(cmd) == 0 && zbar(png, got, sizeof(got)) == 0 && strcmp(got, url) == 0,
		   "the SVG decodes to the text (rsvg-convert + zbarimg)");
	} else {
		ok(1, "# SKIP rsvg-convert not installed (Debian librsvg2-bin)");
	}
	unlink(pgm);
	unlink(svg);
	unlink(png);
	rmdir(dir);
}

int
main(void)
{
	test_encode();
	test_svg();
	test_decode();
	return done_testing();
}
