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

#include "courses/errors.h"
#include "courses/log.h"
#include "server/static.h"

#define DEPTH_MAX 16

struct static_file {
	char *url;		/* "/css/site.css" */
	char *path;		/* absolute path found at load */
	const char *type;
	int64_t size;
	int64_t mtime;
	char etag[48];
	char last_modified[40];
	char *data;		/* content when size <= cache_max, else NULL */
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

	if (s->n == s->alloc) {
		size_t a = s->alloc ? s->alloc * 2 : 64;
		struct static_file *p = realloc(s->files, a * sizeof(*p));
		if (!p)
			return TC_ENOMEM;
		s->files = p;
		s->alloc = a;
	}
	f.url = strdup(url);
	f.path = strdup(path);
	if (!f.url || !f.path) {
		rc = TC_ENOMEM;
		goto out;
	}
	f.type = static_content_type(url);
	set_validators(&f, st);
	if (st->st_size <= s->cache_max) {
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

int
static_site_load(const char *root, int64_t cache_max, struct static_site **out)
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
	if (rc)
		goto out;
	if (s->n)
		qsort(s->files, s->n, sizeof(s->files[0]), cmp_file);
	*out = s;
	s = NULL;
out:
	static_site_destroy(s);
	return rc;
}

static const struct static_file *
lookup(const struct static_site *s, const char *url)
{
	struct static_file key = { .url = (char *)url };

	if (!s->n)
		return NULL;
	return bsearch(&key, s->files, s->n, sizeof(s->files[0]), cmp_file);
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

	return index_key(path, url, sizeof(url)) == 0 && lookup(s, url) != NULL;
}

int
static_serve(const struct static_site *s, const struct http_request *req,
	     struct http_response *resp)
{
	char url[HTTP_PATH_MAX + 16];
	const struct static_file *f;
	struct static_file now;
	struct stat st;
	int fd = -1;

	if (index_key(req->path, url, sizeof(url)))
		return TC_ENOTFOUND;
	f = lookup(s, url);
	if (!f)
		return TC_ENOTFOUND;

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
	http_response_header(resp, "etag", now.etag);
	http_response_header(resp, "last-modified", now.last_modified);
	http_response_header(resp, "cache-control",
			     strncmp(now.type, "text/html", 9) == 0
			     ? "no-cache" : "public, max-age=3600");
	if (not_modified(req, now.etag, now.mtime)) {
		resp->status = 304;
		if (fd >= 0)
			close(fd);
		return 0;
	}
	resp->status = 200;
	if (f->data) {
		resp->static_body = f->data;
		resp->static_len = (size_t)f->size;
	} else {
		resp->fd = fd;
		resp->file_off = 0;
		resp->file_len = now.size;
	}
	return 0;
}
