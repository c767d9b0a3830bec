/*
 * router.h - maps method + path to a handler.
 *
 * A route table is plain data: { methods, "/api/v1/things/{id}", handler,
 * "name" }. A pattern is literal segments and {name} segments (one whole
 * path segment each, 1..255 bytes, no '/'); a final slash-star matches any rest.
 * GET routes answer HEAD too. The router never allocates.
 */
#ifndef TINCHI_ROUTER_H
#define TINCHI_ROUTER_H

#include "server/request.h"

struct app;

typedef int (*route_handler)(struct app *app, struct http_request *req,
			     struct http_response *resp);

/* Route flags. */
#define ROUTE_BODY_FILE 0x1	/* stream the body into a temporary file (req->body_fd) */
#define ROUTE_PUBLIC 0x2	/* nobody is identified (no session lookup): the handler
				 * checks credentials of its own (signed media URLs) */

struct route {
	unsigned methods;	/* enum http_method bits */
	const char *pattern;
	route_handler handler;
	const char *name;	/* label for metrics and logs */
	unsigned flags;		/* ROUTE_* */
	int64_t max_body;	/* 0: the configured max_body */
	/* Optional: runs when the headers have arrived, before any body is
	 * read, with the caller identified; non-zero when it has refused the
	 * request in RESP (so a large body is never taken from someone who
	 * may not send it). */
	route_handler precheck;
};

enum route_result {
	ROUTE_FOUND = 0,
	ROUTE_NOT_FOUND = 1,	/* no pattern matches the path */
	ROUTE_BAD_METHOD = 2,	/* a pattern matches, not with this method */
};

/*
 * Finds the first route whose pattern matches REQ->path and whose methods
 * include REQ->method. On ROUTE_FOUND, *out is the route and REQ's params
 * hold the {name} values. On ROUTE_BAD_METHOD, *allow holds every method
 * the matching patterns accept (HEAD included where GET is).
 */
enum route_result router_match(const struct route *routes, size_t n,
			       struct http_request *req,
			       const struct route **out, unsigned *allow);

/* Writes an Allow header value ("GET, HEAD, POST") for a method mask. */
void router_allow_string(unsigned allow, char *buf, size_t len);

#endif
