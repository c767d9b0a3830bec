/* router_test.c - tests for server/router.c and server/request.c */
#include <stdio.h>
#include <string.h>

#include "server/router.h"
#include "tests/tap.h"

/* The router never calls handlers; routes only need distinct names. */
static const struct route routes[] = {
	{ HTTP_GET, "/healthz", NULL, "healthz" },
	{ HTTP_GET | HTTP_POST, "/api/v1/courses", NULL, "courses" },
	{ HTTP_GET, "/api/v1/courses/new", NULL, "course_new" },
	{ HTTP_GET | HTTP_DELETE, "/api/v1/courses/{id}", NULL, "course" },
	{ HTTP_GET, "/api/v1/courses/{id}/lessons/{lesson}", NULL, "lesson" },
	{ HTTP_PUT, "/api/v1/courses/{id}/lessons/{lesson}", NULL, "lesson_put" },
	{ HTTP_GET, "/files/*", NULL, "files" },
	{ HTTP_GET, "/api/v1/courses/{id}/media/*", NULL, "media" },
	{ HTTP_POST, "/healthz", NULL, "healthz_post" },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static struct http_request req;

/* Routes METHOD PATH; returns the result, *name the route's name or "". */
static enum route_result
route(enum http_method method, const char *path, const char **name, unsigned *allow)
{
	const struct route *r = (const struct route *)1;
	enum route_result rc;
	unsigned a = 12345;

	req.method = method;
	snprintf(req.path, sizeof(req.path), "%s", path);
	rc = router_match(routes, NROUTES, &req, &r, &a);
	*name = r ? r->name : "";
	if (allow)
		*allow = a;
	return rc;
}

int
main(void)
{
	const char *name;
	unsigned allow;
	char buf[64];

	http_request_init(&req, 1024);

	is_int(route(HTTP_GET, "/healthz", &name, NULL), ROUTE_FOUND, "literal route");
	is_str(name, "healthz", "literal route is the right one");
	is_int(req.nparams, 0, "literal route has no params");
	is_int(route(HTTP_POST, "/healthz", &name, NULL), ROUTE_FOUND,
	       "a later route with the same pattern serves another method");
	is_str(name, "healthz_post", "and it is that route");
	is_int(route(HTTP_HEAD, "/healthz", &name, NULL), ROUTE_FOUND, "HEAD matches a GET route");
	is_str(name, "healthz", "HEAD goes to the GET route");
	is_int(route(HTTP_POST, "/api/v1/courses", &name, NULL), ROUTE_FOUND, "POST on a GET+POST route");
	is_str(name, "courses", "GET+POST route matched");

	is_int(route(HTTP_PUT, "/api/v1/courses", &name, &allow), ROUTE_BAD_METHOD, "wrong method");
	is_str(name, "", "no route on a wrong method");
	is_int(allow, HTTP_GET | HTTP_HEAD | HTTP_POST, "allow mask lists GET, HEAD, POST");
	router_allow_string(allow, buf, sizeof(buf));
	is_str(buf, "GET, HEAD, POST", "allow string");
	router_allow_string(HTTP_DELETE | HTTP_GET, buf, sizeof(buf));
	is_str(buf, "GET, DELETE", "allow string in a fixed order");
	router_allow_string(HTTP_GET | HTTP_HEAD | HTTP_POST, buf, 10);
	is_str(buf, "GET, HEAD", "allow string cut at whole methods when short");
	is_int(route(HTTP_PATCH, "/healthz", &name, &allow), ROUTE_BAD_METHOD,
	       "wrong method on a pattern shared by two routes");
	is_int(allow, HTTP_GET | HTTP_HEAD | HTTP_POST, "allow merges every matching route");

	is_int(route(HTTP_GET, "/nope", &name, &allow), ROUTE_NOT_FOUND, "unknown path");
	is_int(allow, 0, "no allow mask when nothing matches");

	is_int(route(HTTP_GET, "/api/v1/courses/new", &name, NULL), ROUTE_FOUND, "literal before {param}");
	is_str(name, "course_new", "first matching route wins");
	is_int(route(HTTP_DELETE, "/api/v1/courses/new", &name, NULL), ROUTE_FOUND,
	       "later {param} route serves another method");
	is_str(name, "course", "{param} route matched");
	is_str(http_request_param(&req, "id"), "new", "param from the segment");

	is_int(route(HTTP_GET, "/api/v1/courses/42", &name, NULL), ROUTE_FOUND, "{param} route");
	is_str(http_request_param(&req, "id"), "42", "param by name");
	ok(http_request_param(&req, "i") == NULL, "a prefix of a name is not the name");
	ok(http_request_param(&req, "lesson") == NULL, "no such param");

	is_int(route(HTTP_GET, "/api/v1/courses/7/lessons/x-9", &name, NULL), ROUTE_FOUND, "two params");
	is_str(name, "lesson", "two-param route");
	is_int(req.nparams, 2, "two params filled");
	is_str(http_request_param(&req, "id"), "7", "first param");
	is_str(http_request_param(&req, "lesson"), "x-9", "second param");
	is_int(route(HTTP_PUT, "/api/v1/courses/8/lessons/y", &name, NULL), ROUTE_FOUND,
	       "same pattern, other method, later route");
	is_str(http_request_param(&req, "lesson"), "y", "params of the later route");

	is_int(route(HTTP_GET, "/api/v1/courses/", &name, NULL), ROUTE_NOT_FOUND,
	       "{param} does not match an empty segment");
	is_int(route(HTTP_GET, "/api/v1/courses/1/2", &name, NULL), ROUTE_NOT_FOUND,
	       "{param} does not span '/'");
	is_int(route(HTTP_GET, "/api/v1/courses/7/lessons//", &name, NULL), ROUTE_NOT_FOUND,
	       "empty second param");
	is_int(route(HTTP_GET, "/healthz/", &name, NULL), ROUTE_NOT_FOUND, "extra trailing slash");
	is_int(route(HTTP_GET, "/api/v1/courses/42/", &name, NULL), ROUTE_NOT_FOUND,
	       "trailing slash after a param");
	is_int(route(HTTP_GET, "/healthzz", &name, NULL), ROUTE_NOT_FOUND, "longer literal");
	is_int(route(HTTP_GET, "/health", &name, NULL), ROUTE_NOT_FOUND, "shorter literal");
	{
		char longseg[300 + 20];

		memset(longseg, 'a', sizeof(longseg));
		memcpy(longseg, "/api/v1/courses/", 16);
		longseg[sizeof(longseg) - 1] = '\0';
		is_int(route(HTTP_GET, longseg, &name, NULL), ROUTE_NOT_FOUND,
		       "a segment over 255 bytes is no param");
	}

	is_int(route(HTTP_GET, "/files/a/b/c.txt", &name, NULL), ROUTE_FOUND, "tail wildcard");
	is_str(name, "files", "wildcard route");
	is_int(req.nparams, 0, "wildcard route leaves no params from before");
	is_int(route(HTTP_GET, "/files/", &name, NULL), ROUTE_FOUND, "wildcard matches an empty rest");
	is_int(route(HTTP_GET, "/filesystem", &name, NULL), ROUTE_NOT_FOUND,
	       "wildcard needs a segment boundary");
	is_int(route(HTTP_POST, "/files/x", &name, &allow), ROUTE_BAD_METHOD, "wildcard, wrong method");
	is_int(allow, HTTP_GET | HTTP_HEAD, "wildcard allow mask");
	route(HTTP_GET, "/healthz", &name, NULL);	/* leaves nparams at 0 */
	is_int(route(HTTP_GET, "/api/v1/courses/5/media/hls/0.m4s", &name, NULL), ROUTE_FOUND,
	       "param plus wildcard");
	is_str(name, "media", "param plus wildcard route");
	is_str(http_request_param(&req, "id"), "5", "param before a wildcard");

	{
		static const enum http_method all[] = {
			HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS,
		};
		int round = 1;

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (http_method_parse(http_method_name(all[i])) != all[i])
				round = 0;
		ok(round, "http_method_parse(http_method_name(m)) == m for every method");
	}
	is_str(http_method_name(HTTP_PATCH), "PATCH", "method name");
	is_int(http_method_parse("BREW"), 0, "unknown method is 0");
	is_int(http_method_parse("get"), 0, "method names are case-sensitive");

	http_request_cleanup(&req);
	return done_testing();
}
