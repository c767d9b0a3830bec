/*
 * api.h - the route table of the HTTP API and the dispatcher that answers a
 * request: API routes first, then the static site, then 404 / 405.
 */
#ifndef TINCHI_API_H
#define TINCHI_API_H

#include "server/request.h"
#include "server/router.h"

struct app;

extern const struct route api_routes[];
extern const size_t api_routes_count;

/*
 * Builds what the API serves unchanged for the life of the process (the
 * GET /api/v1 index document) into APP. Returns 0 or TC_ENOMEM. api_cleanup
 * frees it (safe after a failed or no api_init).
 */
int api_init(struct app *app);
void api_cleanup(struct app *app);

/*
 * Finds the route for REQ (filling its path parameters), before the body
 * has arrived, so the transport knows the route's body limit and sink.
 * *route is NULL unless ROUTE_FOUND; *allow as router_match.
 */
enum route_result api_match(struct app *app, struct http_request *req,
			    const struct route **route, unsigned *allow);

/*
 * Answers REQ into RESP for the outcome of api_match (always: errors become
 * problem+json responses), unless the handler deferred its answer
 * (req->deferred set). *route_name receives a static label for metrics and
 * the access log.
 */
void api_handle(struct app *app, enum route_result rr, const struct route *route,
		unsigned allow, struct http_request *req, struct http_response *resp,
		const char **route_name);

/*
 * For a route with a precheck, when the headers have arrived: identifies
 * the caller and runs the precheck. Non-zero when RESP holds a refusal.
 */
int api_precheck(struct app *app, const struct route *route, struct http_request *req,
		 struct http_response *resp);

/* api_match then api_handle. */
void api_dispatch(struct app *app, struct http_request *req,
		  struct http_response *resp, const char **route_name);

#endif
