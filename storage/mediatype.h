/*
 * mediatype.h - what a file really is, decided from its bytes with
 * libmagic (never from its name or the client's Content-Type), and which
 * types each kind of unit accepts.
 */
#ifndef TINCHI_MEDIATYPE_H
#define TINCHI_MEDIATYPE_H

#include <stddef.h>

struct mediatype_detector;

/* Loads libmagic's database. 0, TC_EIO. One detector per thread. */
int mediatype_open(struct mediatype_detector **out);
void mediatype_close(struct mediatype_detector *d);	/* accepts NULL */

/*
 * The MIME type of the first N bytes at BUF (libmagic reads at most the
 * first 1 MiB of a file; pass at least 64 KiB when there is that much),
 * e.g. "application/pdf", into OUT. 0 or TC_EIO. Text files give
 * "text/plain" (WebVTT is recognised by its "WEBVTT" signature and given
 * "text/vtt").
 */
int mediatype_detect(struct mediatype_detector *d, const void *buf, size_t n,
		     char *out, size_t outsize);

/* Unit kinds that hold files. */
enum material_kind {
	MATERIAL_VIDEO = 1,	/* MP4, WebM, QuickTime, Matroska */
	MATERIAL_AUDIO,		/* MP3, M4A */
	MATERIAL_DOCUMENT,	/* PDF, PNG, JPEG, WebP, plain text */
	MATERIAL_CAPTIONS,	/* WebVTT */
	MATERIAL_PACKAGE,	/* zip course packages */
};

/* 1 when TYPE is accepted for KIND. */
int mediatype_allowed(enum material_kind kind, const char *type);

/* Largest file accepted for KIND, in bytes. */
long long mediatype_max_size(enum material_kind kind);

/* File name extension for TYPE ("pdf"), or "bin". */
const char *mediatype_extension(const char *type);

#endif
