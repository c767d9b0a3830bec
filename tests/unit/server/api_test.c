/* api_test.c - the API dispatcher and handlers through fake requests (no
 * socket): tests server/api.c with a real store in a temporary folder. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/api.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/metrics.h"
#include "server/request.h"
#include "server/static.h"
#include "storage/store.h"
#include "tests/tap.h"

static struct app app;

static const char *
header(const struct http_response *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* Dispatches METHOD PATH; the caller cleans up *resp. */
static const char *
call(enum http_method m, const char *path, struct http_response *resp)
{
	struct http_request req;
	const char *route = NULL;

	http_request_init(&req, 1024);
	req.method = m;
	snprintf(req.path, sizeof(req.path), "%s", path);
	http_response_init(resp);
	api_dispatch(&app, &req, resp, &route);
	http_request_cleanup(&req);
	return route;
}

static json_t *
body_json(const struct http_response *r)
{
	const char *b = r->static_body ? r->static_body : r->body.data;
	size_t n = r->static_body ? r->static_len : r->body.len;

	return b ? json_loadb(b, n, 0, NULL) : NULL;
}

/* api_keyset: every key once, repeats seen, through several doublings;
 * api_bulk_claim: one bulk job an institution. */
static void
test_keyset_and_claims(void)
{
	struct api_keyset ks = { 0 };
	struct app a = { 0 };
	char key[32];
	int seen = 0, bad = 0, rc = 0;

	for (int i = 0; i < 5000 && rc == 0; i++) {
		snprintf(key, sizeof(key), "%d CS101 2024-2025 HK2", i);
		rc = api_keyset_add(&ks, key, &seen);
		bad += seen;
	}
	ok(rc == 0 && bad == 0 && ks.count == 5000, "5,000 different keys are each new");
	for (int i = 0; i < 5000 && rc == 0; i += 7) {
		snprintf(key, sizeof(key), "%d CS101 2024-2025 HK2", i);
		rc = api_keyset_add(&ks, key, &seen);
		bad += !seen;
	}
	ok(rc == 0 && bad == 0 && ks.count == 5000, "and each again is seen, the set unchanged");
	ok(api_keyset_add(&ks, "", &seen) == 0 && !seen && ks.count == 5001, "the empty key is a key");
	api_keyset_cleanup(&ks);
	ok(ks.slot == NULL && ks.count == 0, "cleanup empties it");
	api_keyset_cleanup(&ks);

	is_int(api_bulk_claim(&a, 7), 0, "an institution claims a bulk job");
	is_int(api_bulk_claim(&a, 7), 429, "a second one of it is 429");
	ok(api_bulk_busy(&a, 7) && !api_bulk_busy(&a, 8), "busy names only it");
	for (int i = 100; i < 115; i++)
		api_bulk_claim(&a, i);
	is_int(api_bulk_claim(&a, 200), 503, "a 17th institution is 503");
	api_bulk_release(&a, 7);
	ok(!api_bulk_busy(&a, 7) && api_bulk_claim(&a, 7) == 0, "released, it may claim again");
}

int
main(void)
{
	char dir[] = "/tmp/tinchi-api-XXXXXX", web[600], data[600], path[700];
	struct http_response r;
	const char *route;
	json_t *j;
	FILE *fp;

	log_set_level(LOG_ERROR);
	test_keyset_and_claims();
	if (!mkdtemp(dir))
		return 1;
	snprintf(web, sizeof(web), "%s/web", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(path, sizeof(path), "%s/index.html", web);
	mkdir(web, 0755);
	fp = fopen(path, "w");
	fputs("<!doctype html><title>t</title>\n", fp);
	fclose(fp);

	app.routes = api_routes;
	app.nroutes = api_routes_count;
	app.start_time = 1;
	is_int(store_prepare_dir(data), 0, "data folder prepared");
	is_int(store_open(data, &app.store), 0, "store opened");
	is_int(metrics_create(&app.metrics), 0, "metrics created");
	is_int(static_site_load(web, 65536, &app.site), 0, "web folder indexed");
	is_int(api_init(&app), 0, "api_init");

	route = call(HTTP_GET, "/healthz", &r);
	is_str(route, "healthz", "healthz route");
	is_int(r.status, 200, "healthz 200");
	is_str(r.content_type, "application/json", "healthz is JSON");
	j = body_json(&r);
	is_str(json_string_value(json_object_get(j, "status")), "ok", "status ok");
	ok(json_is_true(json_object_get(json_object_get(j, "database"), "ok")), "database ok");
	is_int(json_integer_value(json_object_get(json_object_get(j, "database"), "schema_version")),
	       store_schema_latest(), "schema version reported");
	json_decref(j);
	http_response_cleanup(&r);

	route = call(HTTP_HEAD, "/healthz", &r);
	is_int(r.status, 200, "HEAD matches a GET route");
	http_response_cleanup(&r);

	route = call(HTTP_GET, "/api/v1", &r);
	j = body_json(&r);
	is_int(r.status, 200, "API index 200");
	is_str(json_string_value(json_object_get(j, "api")), "v1", "API index names v1");
	json_decref(j);
	http_response_cleanup(&r);

	route = call(HTTP_GET, "/metrics", &r);
	is_int(r.status, 200, "metrics 200");
	ok(strstr(dynbuf_str(&r.body), "tinchi_database_size_bytes ") != NULL, "metrics show the database size");
	http_response_cleanup(&r);

	route = call(HTTP_POST, "/healthz", &r);
	is_str(route, "method_not_allowed", "wrong method route label");
	is_int(r.status, 405, "POST /healthz is 405");
	is_str(header(&r, "allow"), "GET, HEAD", "Allow lists GET, HEAD");
	is_str(r.content_type, "application/problem+json", "405 is a problem");
	http_response_cleanup(&r);

	route = call(HTTP_GET, "/api/v1/nope", &r);
	is_int(r.status, 404, "unknown API path is 404");
	j = body_json(&r);
	is_int(json_integer_value(json_object_get(j, "status")), 404, "problem status 404");
	ok(strstr(json_string_value(json_object_get(j, "detail")), "/api/v1/nope") != NULL, "detail names the path");
	json_decref(j);
	http_response_cleanup(&r);

	route = call(HTTP_GET, "/api/index.html", &r);
	is_int(r.status, 404, "the API namespace never falls through to static files");
	http_response_cleanup(&r);

	route = call(HTTP_GET, "/", &r);
	is_str(route, "static", "static route label");
	is_int(r.status, 200, "GET / serves the index page");
	ok(r.static_body && strstr(r.static_body, "<title>t</title>"), "index page content");
	http_response_cleanup(&r);

	route = call(HTTP_DELETE, "/index.html", &r);
	is_int(r.status, 405, "DELETE of a static file is 405");
	is_str(header(&r, "allow"), "GET, HEAD", "static files allow GET, HEAD");
	http_response_cleanup(&r);

	route = call(HTTP_GET, "/missing.css", &r);
	is_int(r.status, 404, "missing static file is 404");
	http_response_cleanup(&r);

	/* api_query_int: a value too long for its buffer is refused, never read */
	{
		struct http_request q;
		int64_t v = -1;

		http_request_init(&q, 1024);
		snprintf(q.query, sizeof(q.query), "limit=25&after=7");
		ok(api_query_int(&q, "limit", 100, 1, 500, &v) == 0 && v == 25, "limit=25 read");
		ok(api_query_int(&q, "before", 100, 1, 500, &v) == 0 && v == 100, "absent: the default");
		/* the stale bytes of an earlier short value (the same stack slot,
		 * one call right after the other) must not be taken */
		{
			struct http_request q2;
			int64_t v2 = -1;
			int r1, r2;

			http_request_init(&q2, 1024);
			snprintf(q2.query, sizeof(q2.query), "limit=%s1",
				 "0000000000000000000000000000000000");
			r1 = api_query_int(&q, "limit", 100, 1, 500, &v);
			r2 = api_query_int(&q2, "limit", 100, 1, 500, &v2);
			ok(r1 == 0 && v == 25, "limit=25 read again");
			is_int(r2, TC_EINVALID, "then a 35-digit value is refused (TC_EINVALID)");
			is_int(v2, -1, "and nothing is written");
			http_request_cleanup(&q2);
		}
		http_request_cleanup(&q);
	}

	/* the access log's path: national IDs masked, nothing else */
	{
		char out[128], small[12];

		http_path_for_log("/api/v1/recognition/VNU/learners/001234567890", out, sizeof(out));
		is_str(out, "/api/v1/recognition/VNU/learners/{national_id}", "a national ID in a path is masked");
		http_path_for_log("/api/v1/institutions/VNU/learners/001234567890/credentials", out, sizeof(out));
		is_str(out, "/api/v1/institutions/VNU/learners/{national_id}/credentials", "also inside the path");
		http_path_for_log("/a/1234567890123/x12345678901/123456789/v1/9", out, sizeof(out));
		is_str(out, "/a/{national_id}/{national_id}/123456789/v1/9",
		       "a mistyped one (13 digits, a letter) too; 9 digits and other segments kept");
		http_path_for_log("/v/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd", out, sizeof(out));
		is_str(out, "/v/{token}", "a share link's token is masked");
		http_path_for_log("/api/v1/shared/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd", out, sizeof(out));
		is_str(out, "/api/v1/shared/{token}", "also through the API");
		http_path_for_log("/v/", out, sizeof(out));
		is_str(out, "/v/", "nothing to mask after /v/");
		http_path_for_log("/", out, sizeof(out));
		is_str(out, "/", "the root");
		http_path_for_log("/learners/001234567890", small, sizeof(small));
		is_str(small, "/learners/{", "cut to fit, never the digits");
	}

	/* a broken database makes healthz say so */
	store_close(app.store);
	snprintf(path, sizeof(path), "%s/tinchi.db", data);
	fp = fopen(path, "w");
	fputs("this is not a database, and it is long enough to have a header......"
	      "................................................................", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/tinchi.db-wal", data);
	unlink(path);
	app.store = NULL;
	ok(store_open(data, &app.store) != 0, "a corrupt database file is refused at open");

	api_cleanup(&app);
	api_cleanup(&app);
	static_site_destroy(app.site);
	metrics_destroy(app.metrics);
	store_close(app.store);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
