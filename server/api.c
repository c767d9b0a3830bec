/*
 * api.c - the HTTP API's route table and its foundation handlers:
 * GET /healthz, GET /metrics, GET /api/v1.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/api.h"
#include "server/api_completion.h"
#include "server/api_courses.h"
#include "server/api_identity.h"
#include "server/api_materials.h"
#include "server/api_media.h"
#include "server/api_progress.h"
#include "server/api_quiz.h"
#include "server/api_reports.h"
#include "server/api_xapi.h"
#include "server/api_credentials.h"
#include "server/api_tlog.h"
#include "server/api_vcapi.h"
#include "server/api_revocation.h"
#include "server/api_approval.h"
#include "server/api_recognition.h"
#include "server/api_consent.h"
#include "server/api_wallet.h"
#include "server/api_verify.h"
#include "server/api_recogquery.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/metrics.h"
#include "server/problem.h"
#include "server/progress_writer.h"
#include "server/static.h"
#include "server/version.h"
#include "storage/media_jobs.h"
#include "storage/store.h"

static int
append_json(const char *buf, size_t len, void *data)
{
	return dynbuf_append(data, buf, len) ? -1 : 0;
}

/* Serialises O (stolen) straight into the body of RESP, with STATUS. */
static int
reply_json(struct http_response *resp, int status, json_t *o)
{
	int rc = 0;

	dynbuf_reset(&resp->body);
	if (!o || json_dump_callback(o, append_json, &resp->body, JSON_COMPACT) != 0)
		rc = TC_ENOMEM;
	json_decref(o);
	if (rc)
		return problem_respond_err(resp, rc, NULL), rc;
	resp->status = status;
	resp->content_type = "application/json";
	return 0;
}

static int
on_healthz(struct app *app, struct http_request *req, struct http_response *resp)
{
	int version = 0;
	/* reading the schema version is a real read of the database file */
	int db_ok = store_schema_version(app->store, &version) == 0;
	return reply_json(resp, db_ok ? 200 : 503,
		json_pack("{s:s, s:s, s:I, s:{s:b, s:s, s:i}}",
			  "status", db_ok ? "ok" : "degraded",
			  "version", TINCHI_VERSION,
			  "uptime_seconds", (json_int_t)(time(NULL) - app->start_time),
			  "database", "ok", db_ok, "backend", store_backend(app->store),
			  "schema_version", version));
}

static int
on_metrics(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct metrics_gauges g = {
		.db_size_bytes = -1,
		.start_time = app->start_time,
		.version = TINCHI_VERSION,
	};
	int rc;

	store_size_bytes(app->store, &g.db_size_bytes);
	g.media_known = store_media_counts(app->store, &g.media_queued, &g.media_running) == 0;
	if (app->progress_writer) {
		g.progress_known = 1;
		progress_writer_stats(app->progress_writer, &g.progress_batches, &g.progress_jobs,
				      &g.progress_queue);
	}
	g.issuing_retries = (int64_t)app->issuing_retry.runs;
	g.issuing_retry_issued = (int64_t)app->issuing_retry.issued;
	g.issuing_failed_pending = app->issuing_retry.failed;
	rc = metrics_render(app->metrics, &g, &resp->body);
	if (rc)
		return problem_respond_err(resp, rc, "could not render metrics");
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	http_response_header(resp, "cache-control", "no-store");
	return 0;
}

int
api_init(struct app *app)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}",
			      "name", "tinchi", "version", TINCHI_VERSION, "api", "v1",
			      "health", "/healthz", "websocket", "/ws");

	/* one table: the foundation's routes, then each area's (one line an area) */
	static const struct {
		const struct route *routes;
		const size_t *count;
	} areas[] = {
		{ api_routes, &api_routes_count },
		{ api_identity_routes, &api_identity_routes_count },
		{ api_courses_routes, &api_courses_routes_count },
		{ api_materials_routes, &api_materials_routes_count },
		{ api_media_routes, &api_media_routes_count },
		{ api_progress_routes, &api_progress_routes_count },
		{ api_completion_routes, &api_completion_routes_count },
		{ api_quiz_routes, &api_quiz_routes_count },
		{ api_reports_routes, &api_reports_routes_count },
		{ api_xapi_routes, &api_xapi_routes_count },
		{ api_credentials_routes, &api_credentials_routes_count },
		{ api_tlog_routes, &api_tlog_routes_count },
		{ api_vcapi_routes, &api_vcapi_routes_count },
		{ api_revocation_routes, &api_revocation_routes_count },
		{ api_approval_routes, &api_approval_routes_count },
		{ api_recognition_routes, &api_recognition_routes_count },
		{ api_consent_routes, &api_consent_routes_count },
		{ api_wallet_routes, &api_wallet_routes_count },
		{ api_verify_routes, &api_verify_routes_count },
		{ api_recogquery_routes, &api_recogquery_routes_count },
	};
	size_t n = 0, at = 0;
	struct route *all;

	app->api_index = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!app->api_index)
		return TC_ENOMEM;
	app->api_index_len = strlen(app->api_index);

	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		n += *areas[i].count;
	all = calloc(n, sizeof(*all));
	if (!all)
		return TC_ENOMEM;
	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++) {
		memcpy(all + at, areas[i].routes, *areas[i].count * sizeof(*all));
		at += *areas[i].count;
	}
	app->all_routes = all;
	app->routes = all;
	app->nroutes = n;
	return 0;
}

void
api_cleanup(struct app *app)
{
	free(app->api_index);
	app->api_index = NULL;
	free(app->all_routes);
	app->all_routes = NULL;
	api_progress_cleanup(app);
	api_revocation_cleanup(app);
	api_verify_cleanup(app);
}

/* The index never changes while the process runs: it is built once. */
static int
on_api_index(struct app *app, struct http_request *req, struct http_response *resp)
{
	resp->status = 200;
	resp->content_type = "application/json";
	resp->static_body = app->api_index;
	resp->static_len = app->api_index_len;
	return 0;
}

const struct route api_routes[] = {
	{ HTTP_GET, "/healthz", on_healthz, "healthz" },
	{ HTTP_GET, "/metrics", on_metrics, "metrics" },
	{ HTTP_GET, "/api/v1", on_api_index, "api_index" },
	{ HTTP_GET, "/api/v1/", on_api_index, "api_index" },
};
const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

/* The API's own namespace: never falls through to static files. */
static int
is_api_path(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

enum route_result
api_match(struct app *app, struct http_request *req, const struct route **route,
	  unsigned *allow)
{
	return router_match(app->routes, app->nroutes, req, route, allow);
}

/* Identifies the caller and checks CSRF; non-zero when RESP holds a refusal. */
static int
identify(struct app *app, struct http_request *req, struct http_response *resp)
{
	int rc = auth_identify(app, req, (int64_t)time(NULL));

	if (rc == TC_EUNAUTH) {
		problem_respond(resp, 401, NULL, "the API token is unknown or revoked");
		http_response_header(resp, "www-authenticate",
				     "Bearer realm=\"tinchi\", error=\"invalid_token\"");
		return rc;
	}
	if (rc) {
		problem_respond_err(resp, rc, "could not check who is asking");
		return rc;
	}
	if (auth_csrf_check(app, req)) {
		problem_respond(resp, 403, NULL,
				"send the session's CSRF token in X-CSRF-Token with every change");
		return TC_EFORBIDDEN;
	}
	return 0;
}

int
api_precheck(struct app *app, const struct route *route, struct http_request *req,
	     struct http_response *resp)
{
	if (identify(app, req, resp))
		return 1;
	return route->precheck(app, req, resp) != 0 || resp->status != 0;
}

void
api_handle(struct app *app, enum route_result rr, const struct route *route,
	   unsigned allow, struct http_request *req, struct http_response *resp,
	   const char **route_name)
{
	char allow_s[64], detail[HTTP_PATH_MAX + 64];
	int rc;

	switch (rr) {
	case ROUTE_FOUND:
		*route_name = route->name;
		if ((route->flags & ROUTE_PUBLIC) || identify(app, req, resp) == 0)
			route->handler(app, req, resp);
		return;
	case ROUTE_BAD_METHOD:
		*route_name = "method_not_allowed";
		router_allow_string(allow, allow_s, sizeof(allow_s));
		snprintf(detail, sizeof(detail), "%s is not allowed here; use %s",
			 http_method_name(req->method), allow_s);
		problem_respond(resp, 405, NULL, detail);
		http_response_header(resp, "allow", allow_s);
		return;
	case ROUTE_NOT_FOUND:
		break;
	}

	if (app->site && !is_api_path(req->path)) {
		*route_name = "static";
		if (req->method & (HTTP_GET | HTTP_HEAD)) {
			rc = static_serve(app->site, req, resp);
			if (rc == 0)
				return;
			if (rc != TC_ENOTFOUND) {
				problem_respond_err(resp, rc, "the file could not be read");
				return;
			}
		} else if (static_site_has(app->site, req->path)) {
			problem_respond(resp, 405, NULL, "static files answer GET and HEAD only");
			http_response_header(resp, "allow", "GET, HEAD");
			return;
		}
	}
	*route_name = "not_found";
	snprintf(detail, sizeof(detail), "nothing at %s", req->path);
	problem_respond(resp, 404, NULL, detail);
}

void
api_dispatch(struct app *app, struct http_request *req,
	     struct http_response *resp, const char **route_name)
{
	const struct route *route = NULL;
	unsigned allow = 0;
	enum route_result rr = api_match(app, req, &route, &allow);

	api_handle(app, rr, route, allow, req, resp, route_name);
}
