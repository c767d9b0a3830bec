/*
 * qrcode.h - QR codes for printed credentials (libqrencode), as a module
 * matrix and as an inline SVG image.
 *
 * Text is encoded in byte mode, case-sensitive, error correction level M
 * (15% of the symbol may be damaged), the smallest version that holds it.
 * 0 or a TC_E* code (courses/errors.h); outputs are untouched on failure.
 */
#ifndef TINCHI_QRCODE_H
#define TINCHI_QRCODE_H

#include <stddef.h>

struct dynbuf;

#define QR_TEXT_MAX 2048	/* bytes of text accepted (a URL, in practice) */
#define QR_QUIET 4		/* modules of light margin around the symbol */

/*
 * TEXT (non-empty, at most QR_TEXT_MAX bytes) as a square matrix of
 * *WIDTH modules: *MODULES is malloc'ed (the caller frees it), row-major,
 * 1 for a dark module, 0 for a light one; no quiet zone.
 * TC_EINVALID (empty, too long), TC_ENOMEM.
 */
int qr_encode(const char *text, unsigned char **modules, int *width);

/*
 * TEXT as an SVG document fragment appended to OUT: an <svg> element with
 * a viewBox in modules (quiet zone included), one <path> for the dark
 * modules, no style attributes (so it passes a CSP without
 * 'unsafe-inline'; size it with CSS), role="img" and a <title> with TITLE
 * (XML-escaped; NULL: TEXT). Errors as qr_encode, and dynbuf's
 * (TC_ETOOBIG, TC_ENOMEM) with OUT possibly holding part of the SVG.
 */
int qr_svg(const char *text, const char *title, struct dynbuf *out);

#endif
