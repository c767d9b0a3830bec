/* router.c - see router.h. */
#include <stdio.h>
#include <string.h>

#include "server/router.h"

/* Matches PATH against PATTERN; fills REQ's params when REQ is not NULL. */
static int
match(const char *pattern, const char *path, struct http_request *req)
{
	const char *p = pattern, *s = path;
	int np = 0;

	while (*p) {
		if (p[0] == '/' && p[1] == '*' && p[2] == '\0') {
			if (*s != '/' && *s != '\0')
				return 0;
			break;	/* the rest of the path is the tail */
		}
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			size_t sl = se ? (size_t)(se - s) : strlen(s);

			if (!pe || sl == 0 || sl >= sizeof(req->params[0]) ||
			    np >= ROUTE_PARAMS_MAX)
				return 0;
			if (req) {
				memcpy(req->params[np], s, sl);
				req->params[np][sl] = '\0';
				req->param_names[np] = NULL;	/* set below */
			}
			np++;
			p = pe + 1;
			s += sl;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p == '\0' && *s != '\0')
		return 0;
	if (req)
		req->nparams = np;
	return 1;
}

/* Points REQ's param names at the pattern's {name} texts ("name}..."). */
static void
name_params(const char *pattern, struct http_request *req)
{
	int i = 0;

	for (const char *p = strchr(pattern, '{'); p && i < req->nparams;
	     p = strchr(p + 1, '{'))
		req->param_names[i++] = p + 1;
}

enum route_result
router_match(const struct route *routes, size_t n, struct http_request *req,
	     const struct route **out, unsigned *allow)
{
	unsigned m = req->method, seen = 0;

	*out = NULL;
	*allow = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned rm = routes[i].methods;

		if (rm & HTTP_GET)
			rm |= HTTP_HEAD;
		if (!match(routes[i].pattern, req->path, NULL))
			continue;
		seen |= rm;
		if (!(rm & m))
			continue;
		match(routes[i].pattern, req->path, req);
		name_params(routes[i].pattern, req);
		*out = &routes[i];
		return ROUTE_FOUND;
	}
	if (!seen)
		return ROUTE_NOT_FOUND;
	*allow = seen;
	return ROUTE_BAD_METHOD;
}

void
router_allow_string(unsigned allow, char *buf, size_t len)
{
	static const enum http_method order[] = {
		HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH,
		HTTP_DELETE, HTTP_OPTIONS,
	};
	size_t o = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(allow & order[i]))
			continue;
		int w = snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
				 http_method_name(order[i]));
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
}
