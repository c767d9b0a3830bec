/* problem.c - see problem.h. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "courses/errors.h"
#include "server/problem.h"

int
problem_status_for(int err)
{
	switch (err) {
	case TC_OK: return 200;
	case TC_ENOTFOUND: return 404;
	case TC_ECONFLICT: return 409;
	case TC_EINVALID: return 400;
	case TC_EFORBIDDEN: return 403;
	case TC_EUNAUTH: return 401;
	case TC_ETOOBIG: return 413;
	case TC_EUNSUPPORTED: return 415;
	case TC_EBUSY: return 503;
	case TC_ENOMEM:
	case TC_EDB:
	case TC_EIO:
	case TC_ETOONEW:
	default: return 500;
	}
}

const char *
problem_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Content";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	}
	return "Unknown";
}

int
problem_respond(struct http_response *resp, int status, const char *type,
		const char *detail)
{
	json_t *o = NULL;
	char *text = NULL;
	int rc = 0;

	resp->status = status;
	resp->content_type = "application/problem+json";
	resp->static_body = NULL;
	if (resp->fd >= 0) {
		close(resp->fd);
		resp->fd = -1;
	}
	resp->head_only = 0;
	resp->nheaders = 0;
	dynbuf_reset(&resp->body);

	o = json_pack("{s:s, s:s, s:i}", "type", type ? type : "about:blank",
		      "title", problem_reason(status), "status", status);
	if (o && detail && json_object_set_new(o, "detail", json_string(detail)) != 0) {
		/* not UTF-8: say so rather than echo it */
		json_object_set_new(o, "detail", json_string("(detail was not valid UTF-8)"));
	}
	if (o)
		text = json_dumps(o, JSON_COMPACT);
	if (!text || dynbuf_puts(&resp->body, text) != 0) {
		dynbuf_reset(&resp->body);
		dynbuf_printf(&resp->body, "{\"type\":\"about:blank\",\"status\":%d}", status);
		rc = TC_ENOMEM;
	}
	free(text);
	json_decref(o);
	return rc;
}

int
problem_respond_err(struct http_response *resp, int err, const char *detail)
{
	return problem_respond(resp, problem_status_for(err), NULL,
			       detail ? detail : tc_strerror(err));
}
