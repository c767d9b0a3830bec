/*
 * static.h - the static web front end (web/), served from an index.
 *
 * At load, the folder is walked once: every regular, non-hidden file below
 * it (symbolic links are not followed) becomes an entry keyed by its URL
 * path, with its type, size, validators (ETag, Last-Modified) and, when it
 * is at most cache_max bytes, its content in memory. Requests are looked up
 * in the index: a URL never becomes a file-system path, so nothing outside
 * the folder can be reached. Larger files are opened from the path found at
 * load and streamed by the caller. Reloading builds a new index.
 */
#ifndef TINCHI_STATIC_H
#define TINCHI_STATIC_H

#include <stdint.h>

#include "server/request.h"

struct static_site;

/*
 * Indexes ROOT. Returns 0, TC_ENOTFOUND (ROOT is not a folder), TC_EIO or
 * TC_ENOMEM; *out owns the index (static_site_destroy).
 */
int static_site_load(const char *root, int64_t cache_max, struct static_site **out);

/*
 * The same, plus files from outside ROOT at the URLs given (a vendor
 * library from node_modules, say; one that is missing is logged and left
 * out; a file of ROOT with the same URL wins).
 *
 * Text assets (by type, up to 4 MiB, or any file up to cache_max) are kept
 * in memory and get a content hash: such a file is also served as
 * "/name.HASH.ext" with "Cache-Control: public, max-age=31536000,
 * immutable", and "/name.ext" still works (HTML "no-cache", others one
 * hour). In HTML, CSS and JavaScript files, every quoted or parenthesised
 * absolute path of another hashed, non-HTML file ("/js/app.js",
 * url(/favicon.svg)) is rewritten to its hashed name, dependencies first,
 * so a change anywhere below a file changes its name too. Compressible
 * text of 512 bytes or more is also kept gzipped and sent as such when the
 * request's Accept-Encoding allows (Vary: Accept-Encoding; its own ETag).
 */
struct static_extra {
	const char *url;	/* "/vendor/hls.min.mjs" */
	const char *path;	/* a regular file (symbolic links resolved) */
};
#define STATIC_HASH_LEN 10
int static_site_load_with(const char *root, int64_t cache_max, const struct static_extra *extras,
			  size_t nextras, struct static_site **out);

/* 1 for types worth compressing (text, JSON, SVG, XML). */
int static_compressible(const char *type);
void static_site_destroy(struct static_site *s);	/* accepts NULL */
size_t static_site_files(const struct static_site *s);

/*
 * Answers a GET or HEAD for REQ->path from the index: 200 with the file,
 * or 304 when the request's validators match. "/" and paths ending in "/"
 * mean their index.html. Returns 0 when RESP was filled, TC_ENOTFOUND when
 * the index has no such file (RESP untouched), TC_EIO when the file went
 * away or became unreadable since the index was built.
 */
int static_serve(const struct static_site *s, const struct http_request *req,
		 struct http_response *resp);

/* 1 when the index has a file for URL PATH (same rules as static_serve). */
int static_site_has(const struct static_site *s, const char *path);

/* Content type for a file name, by extension; never NULL. */
const char *static_content_type(const char *name);

/* Formats T as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void http_date(int64_t t, char *buf, size_t len);
/* Parses an IMF-fixdate. Returns 0 or TC_EINVALID. */
int http_date_parse(const char *s, int64_t *out);

#endif
