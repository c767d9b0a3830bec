/* problem_test.c - tests for server/problem.c */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "courses/errors.h"
#include "server/problem.h"
#include "tests/tap.h"

static void
test_status_for(void)
{
	static const struct { int err, status; } want[] = {
		{ TC_OK, 200 },
		{ TC_ENOTFOUND, 404 },
		{ TC_ECONFLICT, 409 },
		{ TC_EINVALID, 400 },
		{ TC_EFORBIDDEN, 403 },
		{ TC_ENOMEM, 500 },
		{ TC_EDB, 500 },
		{ TC_EIO, 500 },
		{ TC_EUNAUTH, 401 },
		{ TC_ETOOBIG, 413 },
		{ TC_EUNSUPPORTED, 415 },
		{ TC_EBUSY, 503 },
		{ TC_ETOONEW, 500 },
		{ -999, 500 },
	};
	char name[64];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(name, sizeof(name), "%s -> %d", tc_strerror(want[i].err), want[i].status);
		is_int(problem_status_for(want[i].err), want[i].status, name);
	}
	is_str(problem_reason(404), "Not Found", "reason for 404");
	is_str(problem_reason(599), "Unknown", "reason for an unknown status");
}

/* Parses RESP's body; NULL (and a failed test) when it is not JSON. */
static json_t *
parse_body(const struct http_response *resp, const char *what)
{
	json_error_t jerr;
	json_t *o = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &jerr);
	char name[128];

	snprintf(name, sizeof(name), "%s: body is a JSON object", what);
	if (!ok(o && json_is_object(o), name))
		diag(jerr.text);
	return o;
}

static const char *
field_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
test_respond(void)
{
	static const char detail[] = "quote \" backslash \\ newline\n tab\t name: Nguyễn Thị Ánh";
	struct http_response resp;
	json_t *o;

	http_response_init(&resp);
	http_response_header(&resp, "etag", "\"stale\"");
	resp.static_body = "stale";
	resp.static_len = 5;
	is_int(problem_respond(&resp, 404, NULL, detail), 0, "problem_respond succeeds");
	is_int(resp.status, 404, "status set");
	is_str(resp.content_type, "application/problem+json", "problem content type");
	ok(resp.static_body == NULL, "earlier static body dropped");
	is_int(resp.nheaders, 0, "earlier headers dropped");
	is_int(http_response_body_len(&resp), (int64_t)resp.body.len, "body comes from the dynbuf");
	o = parse_body(&resp, "404");
	if (o) {
		is_str(field_str(o, "type"), "about:blank", "type defaults to about:blank");
		is_str(field_str(o, "title"), "Not Found", "title is the reason phrase");
		is_int(json_integer_value(json_object_get(o, "status")), 404, "status in the body");
		is_str(field_str(o, "detail"), detail, "detail with quotes, newlines and UTF-8 round-trips");
	}
	json_decref(o);
	ok(strchr(dynbuf_str(&resp.body), '\n') == NULL, "raw newline escaped in the body");

	is_int(problem_respond(&resp, 409, "https://tinchi.example/problems/full", "course is full"), 0,
	       "problem_respond with a type");
	o = parse_body(&resp, "409");
	if (o) {
		is_str(field_str(o, "type"), "https://tinchi.example/problems/full", "given type kept");
		is_str(field_str(o, "title"), "Conflict", "title for 409");
		is_str(field_str(o, "detail"), "course is full", "detail replaced, not appended");
	}
	json_decref(o);

	is_int(problem_respond(&resp, 400, NULL, "bad \xff\xfe bytes"), 0, "non-UTF-8 detail accepted");
	o = parse_body(&resp, "non-UTF-8 detail");
	if (o) {
		ok(json_is_string(json_object_get(o, "detail")), "detail is still a string");
		is_int(json_integer_value(json_object_get(o, "status")), 400, "status still 400");
	}
	json_decref(o);

	is_int(problem_respond(&resp, 500, NULL, NULL), 0, "NULL detail accepted");
	o = parse_body(&resp, "NULL detail");
	if (o)
		ok(json_object_get(o, "detail") == NULL, "no detail member without a detail");
	json_decref(o);

	is_int(problem_respond_err(&resp, TC_EFORBIDDEN, NULL), 0, "problem_respond_err");
	is_int(resp.status, 403, "status from the error code");
	o = parse_body(&resp, "403");
	if (o) {
		is_str(field_str(o, "title"), "Forbidden", "title from the error code");
		is_str(field_str(o, "detail"), tc_strerror(TC_EFORBIDDEN), "detail defaults to the error text");
	}
	json_decref(o);

	resp.fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ok(resp.fd >= 0, "opened /dev/null");
	{
		int fd = resp.fd;

		resp.file_len = 10;
		problem_respond(&resp, 503, NULL, "busy");
		is_int(resp.fd, -1, "fd cleared by problem_respond");
		ok(fcntl(fd, F_GETFD) == -1, "the old fd was closed");
		is_int(http_response_body_len(&resp), (int64_t)resp.body.len, "body length is the JSON now");
	}
	http_response_cleanup(&resp);
}

int
main(void)
{
	test_status_for();
	test_respond();
	return done_testing();
}
