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
 * Answers REQ into RESP (always: errors become problem+json responses).
 * *route_name receives a static label for metrics and the access log.
 */
void api_dispatch(struct app *app, struct http_request *req,
		  struct http_response *resp, const char **route_name);

#endif
