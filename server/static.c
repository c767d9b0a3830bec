/* static.c - see static.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "courses/crypto.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/log.h"
#include "server/static.h"

#define DEPTH_MAX 16
#define TEXT_MEM_MAX ((int64_t)4 << 20)	/* text assets kept (hashed, gzipped) up to this */
#define GZIP_MIN 512			/* smaller files are sent as they are */

struct static_file {
	char *url;		/* "/css/site.css" */
	char *path;		/* absolute path found at load */
	const char *type;
	int64_t size;
	int64_t mtime;
	char etag[48];
	char last_modified[40];
	char *data;		/* content when size <= cache_max, else NULL */
	char hash[STATIC_HASH_LEN + 1];	/* content hash for /name.HASH.ext; "" none */
	char *gz;		/* gzip form of data, or NULL */
	size_t gz_len;
	char gz_etag[56];
	int state;		/* reference rewriting: 0 new, 1 in progress, 2 done */
};

struct static_site {
	struct static_file *files;	/* sorted by url */
	size_t n, alloc;
	int64_t cache_max;
};

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "map", "application/json" },
	{ "webmanifest", "application/manifest+json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "xml", "application/xml" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "ico", "image/x-icon" },
	{ "woff2", "font/woff2" },
	{ "woff", "font/woff" },
	{ "wasm", "application/wasm" },
	{ "pdf", "application/pdf" },
	{ "m3u8", "application/vnd.apple.mpegurl" },
	{ "mp4", "video/mp4" },
	{ "m4s", "video/iso.segment" },
	{ "vtt", "text/vtt; charset=utf-8" },
};

const char *
static_content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

void
http_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

int
http_date_parse(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return TC_EINVALID;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static void
file_free(struct static_file *f)
{
	free(f->url);
	free(f->path);
	free(f->data);
	free(f->gz);
}

void
static_site_destroy(struct static_site *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		file_free(&s->files[i]);
	free(s->files);
	free(s);
}

size_t
static_site_files(const struct static_site *s)
{
	return s ? s->n : 0;
}

static void
set_validators(struct static_file *f, const struct stat *st)
{
	f->size = st->st_size;
	f->mtime = st->st_mtim.tv_sec;
	snprintf(f->etag, sizeof(f->etag), "\"%llx-%llx\"",
		 (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
		 (unsigned long long)st->st_mtim.tv_nsec);
	http_date(f->mtime, f->last_modified, sizeof(f->last_modified));
}

static int
read_all(int fd, char *buf, int64_t size)
{
	int64_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, (size_t)(size - got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return TC_EIO;
		got += n;
	}
	return 0;
}

static int
add_file(struct static_site *s, const char *path, const char *url, const struct stat *st)
{
	struct static_file f = { 0 };
	int rc = 0, fd = -1;

	if (GROW(&s->files, &s->alloc, s->n + 1, 64))
		return TC_ENOMEM;
	f.url = strdup(url);
	f.path = strdup(path);
	if (!f.url || !f.path) {
		rc = TC_ENOMEM;
		goto out;
	}
	f.type = static_content_type(url);
	set_validators(&f, st);
	if (st->st_size <= s->cache_max ||
	    (static_compressible(f.type) && st->st_size <= TEXT_MEM_MAX)) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		f.data = malloc(st->st_size ? (size_t)st->st_size : 1);
		if (fd < 0 || !f.data || read_all(fd, f.data, st->st_size)) {
			log_err("static: cannot read %s: %s", path, strerror(errno));
			rc = f.data ? TC_EIO : TC_ENOMEM;
			goto out;
		}
	}
	s->files[s->n++] = f;
	memset(&f, 0, sizeof(f));
out:
	if (fd >= 0)
		close(fd);
	file_free(&f);
	return rc;
}

int
static_compressible(const char *type)
{
	return strncmp(type, "text/", 5) == 0 || strncmp(type, "application/json", 16) == 0 ||
	       strncmp(type, "application/manifest+json", 25) == 0 ||
	       strncmp(type, "application/xml", 15) == 0 || strncmp(type, "image/svg+xml", 13) == 0;
}

static int
walk(struct static_site *s, const char *dir, const char *url, int depth)
{
	DIR *d = NULL;
	struct dirent *e;
	int rc = 0;

	if (depth > DEPTH_MAX)
		return 0;
	d = opendir(dir);
	if (!d) {
		log_err("static: cannot open folder %s: %s", dir, strerror(errno));
		return TC_EIO;
	}
	while (rc == 0 && (e = readdir(d))) {
		char path[PATH_MAX], u[HTTP_PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;	/* hidden files, "." and ".." */
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
		    snprintf(u, sizeof(u), "%s/%s", url, e->d_name) >= (int)sizeof(u))
			continue;
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = walk(s, path, u, depth + 1);
		else if (S_ISREG(st.st_mode))
			rc = add_file(s, path, u, &st);
		/* symbolic links and special files are not served */
	}
	closedir(d);
	return rc;
}

static int
cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct static_file *)a)->url,
		      ((const struct static_file *)b)->url);
}

static const struct static_file *lookup(const struct static_site *s, const char *url);

/* Files whose references to other files are rewritten to hashed names. */
static int
rewrites(const struct static_file *f)
{
	return strncmp(f->type, "text/html", 9) == 0 || strncmp(f->type, "text/css", 8) == 0 ||
	       strncmp(f->type, "text/javascript", 15) == 0;
}

/* "/js/app.js" + HASH -> "/js/app.HASH.js"; 0, or TC_ENOTFOUND (no extension). */
static int
hashed_url(const char *url, const char *hash, struct dynbuf *out)
{
	const char *dot = strrchr(url, '.'), *slash = strrchr(url, '/');

	if (!dot || (slash && dot < slash) || dot == slash + 1)
		return TC_ENOTFOUND;
	if (dynbuf_append(out, url, (size_t)(dot - url)) || dynbuf_puts(out, ".") ||
	    dynbuf_puts(out, hash) || dynbuf_puts(out, dot))
		return TC_ENOMEM;
	return 0;
}

static int resolve(struct static_site *s, struct static_file *f, int depth);

/*
 * Hashes F: first its references (a quoted or parenthesised absolute path
 * naming another indexed, hashable file that is not HTML) are rewritten to
 * their hashed names, depth first, so a file's name changes whenever a file
 * it refers to changes; a cycle leaves the reference that closes it plain.
 */
static int
resolve(struct static_site *s, struct static_file *f, int depth)
{
	struct dynbuf out;
	char sum[SHA256_HEX_LEN + 1];
	int64_t i, last = 0;
	int rc = 0, changed = 0;

	if (f->state)
		return 0;
	f->state = 1;
	dynbuf_init(&out, (size_t)TEXT_MEM_MAX * 2);
	if (rewrites(f) && depth < DEPTH_MAX) {
		for (i = 1; i < f->size && rc == 0; i++) {
			char url[HTTP_PATH_MAX];
			int64_t j = i;
			size_t n = 0;
			struct static_file *d;

			if (f->data[i] != '/' || !strchr("\"'(", f->data[i - 1]))
				continue;
			while (j < f->size && n + 1 < sizeof(url) &&
			       !strchr("\"' )?#<>\n\r\t", f->data[j]))
				url[n++] = f->data[j++];
			url[n] = '\0';
			if (n < 2 || j >= f->size || url[1] == '/')
				continue;
			d = (struct static_file *)lookup(s, url);
			if (!d || d == f || strncmp(d->type, "text/html", 9) == 0 || !d->data)
				continue;
			rc = resolve(s, d, depth + 1);
			if (rc || !d->hash[0])
				continue;
			if (dynbuf_append(&out, f->data + last, (size_t)(i - last))) {
				rc = TC_ENOMEM;
				break;
			}
			rc = hashed_url(url, d->hash, &out);
			if (rc == TC_ENOTFOUND) {	/* no extension: kept plain */
				rc = dynbuf_append(&out, url, n) ? TC_ENOMEM : 0;
			}
			last = j;
			i = j - 1;
			changed = 1;
		}
	}
	if (rc == 0 && changed) {
		char *p;

		if (dynbuf_append(&out, f->data + last, (size_t)(f->size - last)) ||
		    !(p = malloc(out.len ? out.len : 1))) {
			rc = TC_ENOMEM;
		} else {
			memcpy(p, out.data, out.len);
			free(f->data);
			f->data = p;
			f->size = (int64_t)out.len;
		}
	}
	dynbuf_cleanup(&out);
	if (rc == 0) {
		sha256_hex(f->data, (size_t)f->size, sum);
		memcpy(f->hash, sum, STATIC_HASH_LEN);
		f->hash[STATIC_HASH_LEN] = '\0';
		snprintf(f->etag, sizeof(f->etag), "\"%.32s\"", sum);
		snprintf(f->gz_etag, sizeof(f->gz_etag), "\"%.32s-gz\"", sum);
	}
	f->state = 2;
	return rc;
}

/* The gzip form of F's content, kept when it saves something. */
static int
compress_file(struct static_file *f)
{
	z_stream z = { 0 };
	uLong cap;
	int zr;

	if (!f->data || f->size < GZIP_MIN || !static_compressible(f->type))
		return 0;
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return TC_ENOMEM;
	cap = deflateBound(&z, (uLong)f->size);
	f->gz = malloc(cap);
	if (!f->gz) {
		deflateEnd(&z);
		return TC_ENOMEM;
	}
	z.next_in = (Bytef *)f->data;
	z.avail_in = (uInt)f->size;
	z.next_out = (Bytef *)f->gz;
	z.avail_out = (uInt)cap;
	zr = deflate(&z, Z_FINISH);
	f->gz_len = z.total_out;
	deflateEnd(&z);
	if (zr != Z_STREAM_END || f->gz_len >= (size_t)f->size) {
		free(f->gz);
		f->gz = NULL;
		f->gz_len = 0;
	}
	return 0;
}

static int
add_extra(struct static_site *s, const struct static_extra *e)
{
	char real[PATH_MAX];
	struct stat st;

	if (!e->url || e->url[0] != '/' || !realpath(e->path, real) || stat(real, &st) != 0 ||
	    !S_ISREG(st.st_mode))
		return TC_ENOTFOUND;
	return add_file(s, real, e->url, &st);
}

int
static_site_load_with(const char *root, int64_t cache_max, const struct static_extra *extras,
		      size_t nextras, struct static_site **out)
{
	struct static_site *s = NULL;
	char real[PATH_MAX];
	struct stat st;
	int rc = 0;

	*out = NULL;
	if (!realpath(root, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
		return TC_ENOTFOUND;
	s = calloc(1, sizeof(*s));
	if (!s)
		return TC_ENOMEM;
	s->cache_max = cache_max;
	rc = walk(s, real, "", 0);
	for (size_t i = 0; rc == 0 && i < nextras; i++) {
		struct static_file key = { .url = (char *)extras[i].url };

		/* a file of the folder with the same URL wins */
		for (size_t k = 0; k < s->n; k++)
			if (cmp_file(&key, &s->files[k]) == 0)
				goto next;
		rc = add_extra(s, &extras[i]);
		if (rc == TC_ENOTFOUND) {
			log_warn("static: %s not found for %s", extras[i].path, extras[i].url);
			rc = 0;
		}
next:		;
	}
	if (rc)
		goto out;
	if (s->n)
		qsort(s->files, s->n, sizeof(s->files[0]), cmp_file);
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		if (s->files[i].data)
			rc = resolve(s, &s->files[i], 0);
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		rc = compress_file(&s->files[i]);
	if (rc)
		goto out;
	*out = s;
	s = NULL;
out:
	static_site_destroy(s);
	return rc;
}

int
static_site_load(const char *root, int64_t cache_max, struct static_site **out)
{
	return static_site_load_with(root, cache_max, NULL, 0, out);
}

static const struct static_file *
lookup(const struct static_site *s, const char *url)
{
	struct static_file key = { .url = (char *)url };

	if (!s->n)
		return NULL;
	return bsearch(&key, s->files, s->n, sizeof(s->files[0]), cmp_file);
}

/*
 * Finds URL, or "/name.HASH.ext" for a file whose current hash is HASH
 * (*immutable set to 1 then).
 */
static const struct static_file *
find(const struct static_site *s, const char *url, int *immutable)
{
	const struct static_file *f = lookup(s, url);
	const char *dot, *prev;
	char base[HTTP_PATH_MAX + 16];
	size_t n;

	*immutable = 0;
	if (f)
		return f;
	dot = strrchr(url, '.');
	if (!dot || dot - url < STATIC_HASH_LEN + 2)
		return NULL;
	prev = dot - STATIC_HASH_LEN - 1;
	if (*prev != '.' || strspn(prev + 1, "0123456789abcdef") < STATIC_HASH_LEN)
		return NULL;
	n = (size_t)(prev - url);
	if (n + strlen(dot) >= sizeof(base))
		return NULL;
	memcpy(base, url, n);
	strcpy(base + n, dot);
	f = lookup(s, base);
	if (!f || strncmp(f->hash, prev + 1, STATIC_HASH_LEN) != 0)
		return NULL;
	*immutable = 1;
	return f;
}

/* 1 when an Accept-Encoding value accepts gzip. */
static int
accepts_gzip(const char *ae)
{
	const char *p = ae;

	while (*p) {
		size_t n;
		const char *q;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, ",; \t");
		if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*')) {
			q = p + n;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q != ';')
				return 1;
			q = strchr(q, '=');
			return !(q && strtod(q + 1, NULL) <= 0.0);
		}
		p += n;
		while (*p && *p != ',')
			p++;
	}
	return 0;
}

/* Weak comparison of one entity tag against an If-None-Match list. */
static int
etag_listed(const char *list, const char *etag)
{
	const char *p = list;
	size_t el = strlen(etag);

	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (strncmp(p, etag, el) == 0 && (p[el] == '\0' || p[el] == ',' ||
						  p[el] == ' ' || p[el] == '\t'))
			return 1;
		while (*p && *p != ',')
			p++;
	}
	return 0;
}

static int
not_modified(const struct http_request *req, const char *etag, int64_t mtime)
{
	int64_t since;

	if (req->if_none_match[0])
		return etag_listed(req->if_none_match, etag);
	if (req->if_modified_since[0] &&
	    http_date_parse(req->if_modified_since, &since) == 0)
		return mtime <= since;
	return 0;
}

/* Maps a URL path to its index key ("/" -> "/index.html"). */
static int
index_key(const char *path, char *url, size_t len)
{
	size_t n = strlen(path);

	if (n == 0 || path[0] != '/')
		return TC_ENOTFOUND;
	if ((size_t)snprintf(url, len, "%s%s", path,
			     path[n - 1] == '/' ? "index.html" : "") >= len)
		return TC_ENOTFOUND;
	return 0;
}

int
static_site_has(const struct static_site *s, const char *path)
{
	char url[HTTP_PATH_MAX + 16];
	int imm;

	return index_key(path, url, sizeof(url)) == 0 && find(s, url, &imm) != NULL;
}

int
static_serve(const struct static_site *s, const struct http_request *req,
	     struct http_response *resp)
{
	char url[HTTP_PATH_MAX + 16];
	const struct static_file *f;
	struct static_file now;
	struct stat st;
	int fd = -1, immutable, gz;

	if (index_key(req->path, url, sizeof(url)))
		return TC_ENOTFOUND;
	f = find(s, url, &immutable);
	if (!f)
		return TC_ENOTFOUND;
	gz = f->gz && accepts_gzip(req->accept_encoding);

	now = *f;
	if (!f->data) {
		fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			log_err("static: %s went away: %s", f->path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return TC_EIO;
		}
		set_validators(&now, &st);	/* the file may have changed */
	}

	resp->content_type = now.type;
	http_response_header(resp, "etag", gz ? now.gz_etag : now.etag);
	http_response_header(resp, "last-modified", now.last_modified);
	http_response_header(resp, "cache-control",
			     immutable ? "public, max-age=31536000, immutable"
			     : strncmp(now.type, "text/html", 9) == 0
			     ? "no-cache" : "public, max-age=3600");
	if (f->gz)
		http_response_header(resp, "vary", "accept-encoding");
	if (gz)
		http_response_header(resp, "content-encoding", "gzip");
	if (not_modified(req, gz ? now.gz_etag : now.etag, now.mtime)) {
		resp->status = 304;
		if (fd >= 0)
			close(fd);
		return 0;
	}
	resp->status = 200;
	if (gz) {
		resp->static_body = f->gz;
		resp->static_len = f->gz_len;
	} else if (f->data) {
		resp->static_body = f->data;
		resp->static_len = (size_t)f->size;
	} else {
		resp->fd = fd;
		resp->file_off = 0;
		resp->file_len = now.size;
	}
	return 0;
}
