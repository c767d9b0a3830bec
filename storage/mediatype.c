/*
 * mediatype.c - media types from file bytes with libmagic, and the
 * allowlists per unit kind (mediatype.h).
 *
 * A magic_t is not thread-safe, hence one detector per thread. The names
 * below are the ones libmagic 5.44 reports with MAGIC_MIME_TYPE; M4A comes
 * out as "audio/x-m4a" (brand "M4A ") and is also accepted as the
 * registered "audio/mp4". WebVTT is recognised here rather than trusted to
 * the magic database, which calls it "text/plain" or "text/vtt" depending
 * on its version and on a byte-order mark, and is loose about what follows
 * "WEBVTT".
 */
#include <stdlib.h>
#include <string.h>

#include <magic.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/mediatype.h"

#define TYPE_VTT "text/vtt"

struct mediatype_detector {
	magic_t magic;
};

/* One accepted type: its kind, its name and the extension it is stored
 * and served with. */
struct accepted {
	enum material_kind kind;
	const char *type;
	const char *ext;
};

static const struct accepted accepted[] = {
	{ MATERIAL_VIDEO, "video/mp4", "mp4" },
	{ MATERIAL_VIDEO, "video/webm", "webm" },
	{ MATERIAL_VIDEO, "video/quicktime", "mov" },
	{ MATERIAL_VIDEO, "video/x-matroska", "mkv" },
	{ MATERIAL_AUDIO, "audio/mpeg", "mp3" },
	{ MATERIAL_AUDIO, "audio/x-m4a", "m4a" },
	{ MATERIAL_AUDIO, "audio/mp4", "m4a" },
	{ MATERIAL_DOCUMENT, "application/pdf", "pdf" },
	{ MATERIAL_DOCUMENT, "image/png", "png" },
	{ MATERIAL_DOCUMENT, "image/jpeg", "jpg" },
	{ MATERIAL_DOCUMENT, "image/webp", "webp" },
	{ MATERIAL_DOCUMENT, "text/plain", "txt" },
	{ MATERIAL_CAPTIONS, TYPE_VTT, "vtt" },
	{ MATERIAL_PACKAGE, "application/zip", "zip" },
};

#define N_ACCEPTED (sizeof(accepted) / sizeof(accepted[0]))

int
mediatype_open(struct mediatype_detector **out)
{
	struct mediatype_detector *d = NULL;
	int rc = 0;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	d->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (d->magic == NULL) {
		log_err("mediatype: magic_open failed");
		rc = TC_EIO;
		goto out;
	}
	if (magic_load(d->magic, NULL) != 0) {
		log_err("mediatype: cannot load the magic database: %s",
			magic_error(d->magic));
		rc = TC_EIO;
		goto out;
	}
	*out = d;
	d = NULL;
out:
	mediatype_close(d);
	return rc;
}

void
mediatype_close(struct mediatype_detector *d)
{
	if (d == NULL)
		return;
	if (d->magic != NULL)
		magic_close(d->magic);
	free(d);
}

/*
 * 1 when the N bytes at P start like a WebVTT file: an optional UTF-8
 * byte-order mark, "WEBVTT", then a space, tab, line break or the end.
 */
static int
is_webvtt(const unsigned char *p, size_t n)
{
	static const char sig[] = "WEBVTT";
	size_t slen = sizeof(sig) - 1;

	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		p += 3;
		n -= 3;
	}
	if (n < slen || memcmp(p, sig, slen) != 0)
		return 0;
	if (n == slen)
		return 1;
	return p[slen] == ' ' || p[slen] == '\t' || p[slen] == '\r' ||
	       p[slen] == '\n';
}

int
mediatype_detect(struct mediatype_detector *d, const void *buf, size_t n,
		 char *out, size_t outsize)
{
	const char *type = NULL;
	size_t len;
	int rc = 0;

	if (out == NULL || outsize == 0 || d == NULL ||
	    (buf == NULL && n > 0)) {
		rc = TC_EINVALID;
		goto out;
	}
	out[0] = '\0';
	type = magic_buffer(d->magic, n > 0 ? buf : "", n);
	if (type == NULL) {
		log_err("mediatype: magic_buffer failed: %s",
			magic_error(d->magic));
		rc = TC_EIO;
		goto out;
	}
	/* Captions are decided here, by the signature, the same way whatever
	 * the magic database's version: only a text file may be called
	 * captions (a binary that starts with "WEBVTT" stays what libmagic
	 * says), and libmagic's own "text/vtt" (5.44 gives it for "WEBVTTX"
	 * too) is plain text without the exact signature. */
	if (strncmp(type, "text/", 5) == 0 && is_webvtt(buf, n))
		type = TYPE_VTT;
	else if (strcmp(type, TYPE_VTT) == 0)
		type = "text/plain";
	len = strlen(type);
	if (len >= outsize) {
		log_err("mediatype: no room for \"%s\"", type);
		rc = TC_EINVALID;
		goto out;
	}
	memcpy(out, type, len + 1);
out:
	return rc;
}

int
mediatype_allowed(enum material_kind kind, const char *type)
{
	if (type == NULL)
		return 0;
	for (size_t i = 0; i < N_ACCEPTED; i++)
		if (accepted[i].kind == kind &&
		    strcmp(accepted[i].type, type) == 0)
			return 1;
	return 0;
}

long long
mediatype_max_size(enum material_kind kind)
{
	switch (kind) {
	case MATERIAL_VIDEO:
		return 4LL << 30;
	case MATERIAL_AUDIO:
		return 1LL << 30;
	case MATERIAL_DOCUMENT:
		return 200LL << 20;
	case MATERIAL_CAPTIONS:
		return 2LL << 20;
	case MATERIAL_PACKAGE:
		return 8LL << 30;
	}
	return 0;
}

const char *
mediatype_extension(const char *type)
{
	if (type == NULL)
		return "bin";
	for (size_t i = 0; i < N_ACCEPTED; i++)
		if (strcmp(accepted[i].type, type) == 0)
			return accepted[i].ext;
	return "bin";
}
