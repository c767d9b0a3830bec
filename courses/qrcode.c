/*
 * qrcode.c - QR codes through libqrencode: the module matrix and an SVG
 * rendering of it (one path of horizontal runs, a row at a time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/qrcode.h"

int
qr_encode(const char *text, unsigned char **modules, int *width)
{
	QRcode *q = NULL;
	unsigned char *m = NULL;
	size_t n;
	int rc = 0;

	if (!text || !text[0] || strlen(text) > QR_TEXT_MAX || !modules || !width)
		return TC_EINVALID;
	errno = 0;
	/* version 0: the smallest that fits; byte mode keeps the text as is */
	q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	if (!q) {
		rc = errno == ENOMEM ? TC_ENOMEM : TC_EINVALID;
		goto out;
	}
	n = (size_t)q->width * (size_t)q->width;
	if (!(m = malloc(n))) {
		rc = TC_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		m[i] = q->data[i] & 1;	/* bit 0: dark; the others are libqrencode's notes */
	*modules = m;
	*width = q->width;
out:
	QRcode_free(q);
	return rc;
}

int
qr_svg(const char *text, const char *title, struct dynbuf *out)
{
	unsigned char *m = NULL;
	int w = 0, rc, size;

	if (!out)
		return TC_EINVALID;
	if ((rc = qr_encode(text, &m, &w)))
		return rc;
	size = w + 2 * QR_QUIET;
	rc = dynbuf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\""
			   " viewBox=\"0 0 %d %d\" role=\"img\" shape-rendering=\"crispEdges\">"
			   "<title>", size, size);
	if (rc == 0)
		rc = dynbuf_put_html(out, title ? title : text, strlen(title ? title : text));
	if (rc == 0)
		rc = dynbuf_printf(out, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
				   "<path fill=\"#000\" d=\"", size, size);
	for (int y = 0; y < w && rc == 0; y++) {
		for (int x = 0; x < w && rc == 0; x++) {
			int run = 0;

			while (x + run < w && m[(size_t)y * (size_t)w + (size_t)(x + run)])
				run++;
			if (run) {
				rc = dynbuf_printf(out, "M%d %dh%dv1h-%dz", x + QR_QUIET,
						   y + QR_QUIET, run, run);
				x += run;
			}
		}
	}
	if (rc == 0)
		rc = dynbuf_puts(out, "\"/></svg>");
	free(m);
	return rc;
}
