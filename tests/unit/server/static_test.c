/* static_test.c - tests for server/static.c */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "server/static.h"
#include "tests/tap.h"

#define BIG_SIZE (300 * 1024)
#define INDEX_MTIME 784111777	/* Sun, 06 Nov 1994 08:49:37 GMT */

static const char index_html[] = "<!doctype html><title>Tín chỉ</title>\n";
static const char site_css[] = "body { margin: 0 }\n";

static char root[64];

static int
put_file(const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fp = fopen(path, "wb");
	if (!fp)
		return -1;
	n = fwrite(data, 1, len, fp);
	return (fclose(fp) == 0 && n == len) ? 0 : -1;
}

static int
make_site(void)
{
	struct timespec ts[2] = { { INDEX_MTIME, 0 }, { INDEX_MTIME, 0 } };
	char path[PATH_MAX];
	char *big;
	int rc = 0;

	snprintf(root, sizeof(root), "/tmp/tinchi-static-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	big = malloc(BIG_SIZE);
	if (!big)
		return -1;
	for (size_t i = 0; i < BIG_SIZE; i++)
		big[i] = (char)(i * 7);
	snprintf(path, sizeof(path), "%s/css", root);
	rc |= mkdir(path, 0755);
	rc |= put_file("index.html", index_html, strlen(index_html));
	rc |= put_file("css/site.css", site_css, strlen(site_css));
	rc |= put_file("big.bin", big, BIG_SIZE);
	rc |= put_file(".secret", "password", 8);
	rc |= put_file("weird.xyz", "??", 2);
	snprintf(path, sizeof(path), "%s/link.html", root);
	rc |= symlink("/etc/passwd", path);
	snprintf(path, sizeof(path), "%s/index.html", root);
	rc |= utimensat(AT_FDCWD, path, ts, 0);
	free(big);
	return rc;
}

static void
remove_site(void)
{
	static const char *const rel[] = {
		"index.html", "css/site.css", "big.bin", ".secret", "weird.xyz", "link.html", "css", "",
	};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, rel[i]);
		if (remove(path) != 0 && i >= 6)
			diag("could not remove part of the temporary site");
	}
}

static const char *
header(const struct http_response *resp, const char *name)
{
	for (int i = 0; i < resp->nheaders; i++)
		if (strcmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

/* Serves PATH with the given validators into a fresh RESP. */
static int
serve(const struct static_site *s, const char *path, const char *inm, const char *ims,
      struct http_response *resp)
{
	struct http_request req;
	int rc;

	http_request_init(&req, 0);
	req.method = HTTP_GET;
	snprintf(req.path, sizeof(req.path), "%s", path);
	snprintf(req.if_none_match, sizeof(req.if_none_match), "%s", inm ? inm : "");
	snprintf(req.if_modified_since, sizeof(req.if_modified_since), "%s", ims ? ims : "");
	http_response_init(resp);
	rc = static_serve(s, &req, resp);
	http_request_cleanup(&req);
	return rc;
}

static void
test_dates(void)
{
	char buf[64];
	int64_t t = 0;

	http_date(784111777, buf, sizeof(buf));
	is_str(buf, "Sun, 06 Nov 1994 08:49:37 GMT", "http_date formats an IMF-fixdate");
	is_int(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0, "http_date_parse accepts it");
	is_int(t, 784111777, "and gives the same time back");
	is_int(http_date_parse("yesterday", &t), TC_EINVALID, "garbage date rejected");
	is_int(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT trailing", &t), TC_EINVALID,
	       "trailing text rejected");
	is_int(http_date_parse("", &t), TC_EINVALID, "empty date rejected");
}

static void
test_site(void)
{
	struct static_site *s = NULL;
	struct http_response resp;
	char etag[256], lm[64], other[300], earlier[64];
	const char *v;

	if (!ok(make_site() == 0, "temporary site created"))
		return;
	is_int(static_site_load(root, 256 * 1024, &s), 0, "site loads");
	if (!s)
		return;
	is_int(static_site_files(s), 4, "hidden file and symlink are not indexed");

	is_int(serve(s, "/", NULL, NULL, &resp), 0, "/ served");
	is_int(resp.status, 200, "/ is 200");
	is_str(resp.content_type, "text/html; charset=utf-8", "/ is HTML");
	ok(resp.static_body && resp.static_len == strlen(index_html) &&
	   memcmp(resp.static_body, index_html, resp.static_len) == 0, "/ body is index.html");
	is_int(resp.fd, -1, "small file served from memory");
	v = header(&resp, "etag");
	ok(v && v[0] == '"' && v[strlen(v) - 1] == '"', "etag is a quoted entity tag");
	snprintf(etag, sizeof(etag), "%s", v ? v : "");
	v = header(&resp, "last-modified");
	is_str(v, "Sun, 06 Nov 1994 08:49:37 GMT", "last-modified is the file's mtime");
	snprintf(lm, sizeof(lm), "%s", v ? v : "");
	is_str(header(&resp, "cache-control"), "no-cache", "HTML is revalidated");
	http_response_cleanup(&resp);

	is_int(serve(s, "/css/site.css", NULL, NULL, &resp), 0, "css served");
	is_str(resp.content_type, "text/css; charset=utf-8", "css type");
	ok(header(&resp, "cache-control") && strstr(header(&resp, "cache-control"), "max-age"),
	   "css is cacheable");
	http_response_cleanup(&resp);

	is_int(serve(s, "/big.bin", NULL, NULL, &resp), 0, "big file served");
	is_int(resp.status, 200, "big file is 200");
	ok(resp.fd >= 0, "big file streamed from an fd");
	ok(resp.static_body == NULL, "big file not in memory");
	is_int(resp.file_len, BIG_SIZE, "file_len is the file size");
	is_int(http_response_body_len(&resp), BIG_SIZE, "body length is the file size");
	{
		unsigned char b[2] = { 0, 0 };
		ok(resp.fd >= 0 && pread(resp.fd, b, 2, 1000) == 2 &&
		   b[0] == (unsigned char)(1000 * 7) && b[1] == (unsigned char)(1001 * 7),
		   "fd reads the file's content");
	}
	ok(header(&resp, "etag") != NULL, "big file has an etag");
	http_response_cleanup(&resp);

	is_int(serve(s, "/weird.xyz", NULL, NULL, &resp), 0, "unknown extension served");
	is_str(resp.content_type, "application/octet-stream", "unknown extension is octet-stream");
	http_response_cleanup(&resp);

	{
		static const char *const missing[] = {
			"/.secret", "/link.html", "/../etc/passwd", "/nope", "/css", "/css/", "",
			"index.html",
		};
		char name[64];

		for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
			snprintf(name, sizeof(name), "'%s' not found", missing[i]);
			is_int(serve(s, missing[i], NULL, NULL, &resp), TC_ENOTFOUND, name);
			http_response_cleanup(&resp);
		}
	}

	is_int(serve(s, "/", etag, NULL, &resp), 0, "conditional request served");
	is_int(resp.status, 304, "matching If-None-Match gives 304");
	ok(resp.static_body == NULL && resp.fd < 0, "304 carries no body");
	ok(header(&resp, "etag") != NULL, "304 repeats the etag");
	http_response_cleanup(&resp);

	snprintf(other, sizeof(other), "W/%s", etag);
	serve(s, "/", other, NULL, &resp);
	is_int(resp.status, 304, "weak form of the etag gives 304");
	http_response_cleanup(&resp);

	snprintf(other, sizeof(other), "\"x\", %s", etag);
	serve(s, "/", other, NULL, &resp);
	is_int(resp.status, 304, "etag later in a list gives 304");
	http_response_cleanup(&resp);

	serve(s, "/", "\"different\"", NULL, &resp);
	is_int(resp.status, 200, "different etag gives 200");
	http_response_cleanup(&resp);

	snprintf(other, sizeof(other), "%.*s", (int)strlen(etag) - 1, etag);
	serve(s, "/", other, NULL, &resp);
	is_int(resp.status, 200, "a prefix of the etag gives 200");
	http_response_cleanup(&resp);

	serve(s, "/", "*", NULL, &resp);
	is_int(resp.status, 304, "If-None-Match: * gives 304");
	http_response_cleanup(&resp);

	serve(s, "/", NULL, lm, &resp);
	is_int(resp.status, 304, "If-Modified-Since = Last-Modified gives 304");
	http_response_cleanup(&resp);

	http_date(INDEX_MTIME - 86400, earlier, sizeof(earlier));
	serve(s, "/", NULL, earlier, &resp);
	is_int(resp.status, 200, "If-Modified-Since a day earlier gives 200");
	http_response_cleanup(&resp);

	serve(s, "/", "\"different\"", lm, &resp);
	is_int(resp.status, 200, "If-None-Match wins over If-Modified-Since");
	http_response_cleanup(&resp);

	serve(s, "/big.bin", NULL, NULL, &resp);
	snprintf(other, sizeof(other), "%s", header(&resp, "etag") ? header(&resp, "etag") : "");
	http_response_cleanup(&resp);
	serve(s, "/big.bin", other, NULL, &resp);
	is_int(resp.status, 304, "big file with its etag gives 304");
	is_int(resp.fd, -1, "big file 304 keeps no fd open");
	http_response_cleanup(&resp);

	ok(static_site_has(s, "/"), "static_site_has /");
	ok(static_site_has(s, "/css/site.css"), "static_site_has a nested file");
	ok(!static_site_has(s, "/.secret"), "static_site_has hides hidden files");
	ok(!static_site_has(s, "/link.html"), "static_site_has hides symlinks");
	ok(!static_site_has(s, "/css/"), "static_site_has: no css/index.html");

	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/big.bin", root);
		unlink(path);
		is_int(serve(s, "/big.bin", NULL, NULL, &resp), TC_EIO,
		       "a streamed file that went away is an I/O error");
		is_int(resp.fd, -1, "and leaves no fd");
		http_response_cleanup(&resp);
	}

	static_site_destroy(s);
	static_site_destroy(NULL);
	remove_site();
	{
		struct stat st;
		ok(stat(root, &st) != 0, "temporary site removed");
	}
}

/* Serves PATH with Accept-Encoding AE into a fresh RESP. */
static int
serve_ae(const struct static_site *s, const char *path, const char *ae, const char *inm,
	 struct http_response *resp)
{
	struct http_request req;
	int rc;

	http_request_init(&req, 0);
	req.method = HTTP_GET;
	snprintf(req.path, sizeof(req.path), "%s", path);
	snprintf(req.accept_encoding, sizeof(req.accept_encoding), "%s", ae ? ae : "");
	snprintf(req.if_none_match, sizeof(req.if_none_match), "%s", inm ? inm : "");
	http_response_init(resp);
	rc = static_serve(s, &req, resp);
	http_request_cleanup(&req);
	return rc;
}

/* The body of a 200 from memory as a string (copied into BUF). */
static const char *
body_of(const struct http_response *resp, char *buf, size_t len)
{
	size_t n = resp->static_len < len - 1 ? resp->static_len : len - 1;

	memcpy(buf, resp->static_body ? resp->static_body : "", resp->static_body ? n : 0);
	buf[resp->static_body ? n : 0] = '\0';
	return buf;
}

/* The hashed URL that TEXT gives for PREFIX...SUFFIX ("/a." ".css"), or "". */
static void
hashed_in(const char *text, const char *prefix, const char *suffix, char *out, size_t len)
{
	const char *p = strstr(text, prefix);
	size_t pl = strlen(prefix), sl = strlen(suffix);

	out[0] = '\0';
	if (!p || strspn(p + pl, "0123456789abcdef") != STATIC_HASH_LEN ||
	    strncmp(p + pl + STATIC_HASH_LEN, suffix, sl) != 0)
		return;
	snprintf(out, len, "%.*s", (int)(pl + STATIC_HASH_LEN + sl), p);
}

static int
hash_matches(const char *url, const struct http_response *resp)
{
	char sum[SHA256_HEX_LEN + 1];
	const char *dot = strrchr(url, '.');

	sha256_hex(resp->static_body, resp->static_len, sum);
	return dot && dot - url > STATIC_HASH_LEN &&
	       strncmp(dot - STATIC_HASH_LEN, sum, STATIC_HASH_LEN) == 0;
}

static void
test_assets(void)
{
	static const char page[] = "<!doctype html><link rel=\"stylesheet\" href=\"/a.css\">"
		"<script type=\"module\" src=\"/js/m.js\"></script>"
		"<a href=\"/other.html\">x</a><a href='/a.css?x'>y</a>\n";
	static const char m_js[] = "import \"/js/n.js\";\nconst gone = \"/nothing.js\";\n";
	static const char n_js[] = "export const back = \"/js/m.js\";\n";
	static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
	char css[2048], dir[128], path[PATH_MAX], buf[8192], u_css[64], u_m[64], u_n[64], u_svg[64];
	char outside[PATH_MAX], gz_etag[256];
	struct static_extra extras[3];
	struct static_site *s = NULL;
	struct http_response resp;
	const char *v;
	int rc = 0;

	snprintf(css, sizeof(css), "body { background: url(/img.svg) }\n");
	while (strlen(css) < 1500)
		strcat(css, "/* padding so that gzip pays off ............ */\n");
	snprintf(root, sizeof(root), "/tmp/tinchi-assets-XXXXXX");
	if (!ok(mkdtemp(root) != NULL, "temporary asset site"))
		return;
	snprintf(dir, sizeof(dir), "%s/js", root);
	rc |= mkdir(dir, 0755);
	rc |= put_file("index.html", page, strlen(page));
	rc |= put_file("other.html", "<p>o</p>", 8);
	rc |= put_file("a.css", css, strlen(css));
	rc |= put_file("img.svg", svg, strlen(svg));
	rc |= put_file("js/m.js", m_js, strlen(m_js));
	rc |= put_file("js/n.js", n_js, strlen(n_js));
	rc |= put_file("lib.mjs", "export default 1;\n", 18);
	snprintf(outside, sizeof(outside), "%s-vendor.mjs", root);
	{
		FILE *fp = fopen(outside, "wb");
		rc |= !fp || fputs("export default \"vendor\";\n", fp) < 0 || fclose(fp) != 0;
	}
	ok(rc == 0, "asset files written");
	extras[0] = (struct static_extra){ "/vendor/lib.mjs", outside };
	extras[1] = (struct static_extra){ "/vendor/missing.mjs", "/nonexistent/tinchi.mjs" };
	extras[2] = (struct static_extra){ "/lib.mjs", outside };
	is_int(static_site_load_with(root, 1024 * 1024, extras, 3, &s), 0,
	       "loads with extras (a missing one is left out)");
	if (!s)
		return;

	is_int(serve_ae(s, "/", NULL, NULL, &resp), 0, "index.html served");
	body_of(&resp, buf, sizeof(buf));
	is_str(header(&resp, "cache-control"), "no-cache", "HTML stays no-cache");
	hashed_in(buf, "/a.", ".css", u_css, sizeof(u_css));
	hashed_in(buf, "/js/m.", ".js", u_m, sizeof(u_m));
	ok(u_css[0] && u_m[0], "the page names the stylesheet and the module by hash");
	ok(strstr(buf, "\"/other.html\"") != NULL, "a link to another page stays plain");
	ok(strstr(buf, "'/a.css?x'") == NULL && strstr(buf, ".css?x'") != NULL,
	   "a path with a query is rewritten, the query kept");
	http_response_cleanup(&resp);

	is_int(serve_ae(s, u_css, NULL, NULL, &resp), 0, "the hashed stylesheet is served");
	is_str(header(&resp, "cache-control"), "public, max-age=31536000, immutable",
	       "immutable, for a year");
	ok(hash_matches(u_css, &resp), "its name holds the hash of what is served");
	body_of(&resp, buf, sizeof(buf));
	hashed_in(buf, "url(/img.", ".svg", u_svg, sizeof(u_svg));
	ok(u_svg[0], "url(...) in CSS is rewritten");
	http_response_cleanup(&resp);
	is_int(serve_ae(s, u_svg + 4, NULL, NULL, &resp), 0, "the image by its hashed name");
	ok(hash_matches(u_svg + 4, &resp), "with its own hash");
	ok(header(&resp, "vary") == NULL && header(&resp, "content-encoding") == NULL,
	   "a file under 512 bytes is not gzipped");
	http_response_cleanup(&resp);

	is_int(serve_ae(s, u_m, NULL, NULL, &resp), 0, "the module by its hashed name");
	body_of(&resp, buf, sizeof(buf));
	hashed_in(buf, "\"/js/n.", ".js", u_n, sizeof(u_n));
	ok(u_n[0], "its import is rewritten");
	ok(strstr(buf, "\"/nothing.js\"") != NULL, "a path that is no file stays");
	ok(hash_matches(u_m, &resp), "the module's hash covers its rewritten text");
	http_response_cleanup(&resp);
	is_int(serve_ae(s, u_n + 1, NULL, NULL, &resp), 0, "the imported module by its hashed name");
	body_of(&resp, buf, sizeof(buf));
	ok(strstr(buf, "\"/js/m.js\"") != NULL, "the reference closing a cycle stays plain");
	http_response_cleanup(&resp);

	{
		char stale[64];

		snprintf(stale, sizeof(stale), "%s", u_css);
		stale[3] = stale[3] == '0' ? '1' : '0';
		is_int(serve_ae(s, stale, NULL, NULL, &resp), TC_ENOTFOUND, "a stale hash is not found");
		ok(!static_site_has(s, stale), "static_site_has agrees");
		ok(static_site_has(s, u_css), "and knows the current one");
		is_int(serve_ae(s, "/a.0123456789abcdef.css", NULL, NULL, &resp), TC_ENOTFOUND,
		       "a hash of the wrong length is not found");
		is_int(serve_ae(s, "/a.css", NULL, NULL, &resp), 0, "the plain name still answers");
		is_str(header(&resp, "cache-control"), "public, max-age=3600", "cached an hour");
		http_response_cleanup(&resp);
	}

	/* gzip */
	is_int(serve_ae(s, "/a.css", "br, gzip", NULL, &resp), 0, "asked for gzip");
	is_str(header(&resp, "content-encoding"), "gzip", "gzip it is");
	is_str(header(&resp, "vary"), "accept-encoding", "Vary: Accept-Encoding");
	v = header(&resp, "etag");
	snprintf(gz_etag, sizeof(gz_etag), "%s", v ? v : "");
	{
		z_stream z = { 0 };
		char plain[4096];

		inflateInit2(&z, 15 + 16);
		z.next_in = (Bytef *)resp.static_body;
		z.avail_in = (uInt)resp.static_len;
		z.next_out = (Bytef *)plain;
		z.avail_out = sizeof(plain) - 1;
		ok(inflate(&z, Z_FINISH) == Z_STREAM_END && resp.static_len < z.total_out,
		   "a smaller gzip stream");
		plain[z.total_out] = '\0';
		inflateEnd(&z);
		http_response_cleanup(&resp);
		serve_ae(s, "/a.css", NULL, NULL, &resp);
		ok(strcmp(plain, body_of(&resp, buf, sizeof(buf))) == 0,
		   "that inflates to the identity body");
		ok(header(&resp, "content-encoding") == NULL && header(&resp, "vary") != NULL,
		   "identity without the header, still with Vary");
		ok(header(&resp, "etag") && strcmp(header(&resp, "etag"), gz_etag) != 0,
		   "the two have different ETags");
		http_response_cleanup(&resp);
	}
	serve_ae(s, "/a.css", "gzip;q=0, identity", NULL, &resp);
	ok(header(&resp, "content-encoding") == NULL, "gzip;q=0 refuses it");
	http_response_cleanup(&resp);
	serve_ae(s, "/a.css", "*", NULL, &resp);
	is_str(header(&resp, "content-encoding"), "gzip", "* accepts it");
	http_response_cleanup(&resp);
	serve_ae(s, "/a.css", "gzipx, deflate", NULL, &resp);
	ok(header(&resp, "content-encoding") == NULL, "gzipx is not gzip");
	http_response_cleanup(&resp);
	is_int(serve_ae(s, "/a.css", "gzip", gz_etag, &resp), 0, "revalidating the gzip form");
	is_int(resp.status, 304, "304 for its ETag");
	http_response_cleanup(&resp);

	/* extras */
	is_int(serve_ae(s, "/vendor/lib.mjs", NULL, NULL, &resp), 0, "an extra file is served");
	ok(strstr(body_of(&resp, buf, sizeof(buf)), "vendor") != NULL, "with its content");
	http_response_cleanup(&resp);
	ok(!static_site_has(s, "/vendor/missing.mjs"), "a missing extra is left out");
	is_int(serve_ae(s, "/lib.mjs", NULL, NULL, &resp), 0, "an extra's URL taken by the folder");
	ok(strstr(body_of(&resp, buf, sizeof(buf)), "export default 1;") != NULL,
	   "serves the folder's file");
	http_response_cleanup(&resp);
	static_site_destroy(s);

	{
		static const char *const rel[] = {
			"index.html", "other.html", "a.css", "img.svg", "js/m.js", "js/n.js",
			"lib.mjs", "js", "",
		};
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", root, rel[i]);
			remove(path);
		}
		unlink(outside);
	}
}

int
main(void)
{
	struct static_site *s = (struct static_site *)1;

	test_dates();
	test_site();
	test_assets();
	is_int(static_site_load("/nonexistent/tinchi-web", 1024, &s), TC_ENOTFOUND,
	       "missing folder is not found");
	ok(s == NULL, "no site on failure");
	return done_testing();
}
