/* request.c - see request.h. */
#include <string.h>
#include <unistd.h>

#include "courses/errors.h"
#include "server/request.h"

static const struct {
	enum http_method m;
	const char *name;
} methods[] = {
	{ HTTP_GET, "GET" }, { HTTP_HEAD, "HEAD" }, { HTTP_POST, "POST" },
	{ HTTP_PUT, "PUT" }, { HTTP_PATCH, "PATCH" }, { HTTP_DELETE, "DELETE" },
	{ HTTP_OPTIONS, "OPTIONS" },
};

const char *
http_method_name(enum http_method m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return "?";
}

enum http_method
http_method_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, s) == 0)
			return methods[i].m;
	return 0;
}

void
http_request_init(struct http_request *r, size_t max_body)
{
	/* Field by field: the struct is ~7 KiB of buffers, and this runs for
	 * every request on the service thread. */
	r->method = 0;
	r->path[0] = r->query[0] = '\0';
	r->if_none_match[0] = r->if_modified_since[0] = '\0';
	r->content_type[0] = r->accept[0] = '\0';
	r->authorization[0] = r->cookie[0] = r->csrf_token[0] = r->origin[0] = '\0';
	r->range[0] = r->if_range[0] = r->content_range[0] = '\0';
	r->content_length = -1;
	dynbuf_init(&r->body, max_body);
	r->body_fd = -1;
	r->deferred = NULL;
	r->actor.kind = ACTOR_NONE;
	r->actor.nroles = 0;
	r->session_token[0] = '\0';
	r->nparams = 0;
	r->tls = 0;
	r->peer[0] = '\0';
}

void
http_request_cleanup(struct http_request *r)
{
	dynbuf_cleanup(&r->body);
	if (r->body_fd >= 0)
		close(r->body_fd);
	r->body_fd = -1;
}

void
http_response_init(struct http_response *r)
{
	r->status = 0;
	r->content_type = NULL;
	r->nheaders = 0;
	dynbuf_init(&r->body, (size_t)1 << 30);
	r->static_body = NULL;
	r->static_len = 0;
	r->fd = -1;
	r->file_off = 0;
	r->file_len = 0;
	r->head_only = 0;
	r->close = 0;
	r->viewer[0] = '\0';
	r->on_sent = NULL;
	r->sent_person = r->sent_material = r->sent_from_ms = r->sent_to_ms = 0;
}

void
http_response_cleanup(struct http_response *r)
{
	dynbuf_cleanup(&r->body);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

int
http_response_header(struct http_response *r, const char *name, const char *value)
{
	size_t n = strlen(value);

	if (r->nheaders >= RESP_HEADERS_MAX || n >= sizeof(r->headers[0].value))
		return TC_ETOOBIG;
	r->headers[r->nheaders].name = name;
	memcpy(r->headers[r->nheaders].value, value, n + 1);
	r->nheaders++;
	return 0;
}

int
http_response_json(struct http_response *r, int status, const char *json)
{
	r->status = status;
	r->content_type = "application/json";
	dynbuf_reset(&r->body);
	return dynbuf_puts(&r->body, json);
}

int64_t
http_response_body_len(const struct http_response *r)
{
	if (r->fd >= 0)
		return r->file_len;
	if (r->static_body)
		return (int64_t)r->static_len;
	return (int64_t)r->body.len;
}

void
http_path_for_log(const char *path, char *out, size_t outsize)
{
	size_t o = 0;
	int after_token_word = 0;	/* the segment before was "v" or "shared" */

	if (outsize == 0)
		return;
	for (const char *p = path; *p && o + 1 < outsize;) {
		size_t seg = strcspn(p, "/"), run = 0, longest = 0;
		const char *put = p;
		size_t n = seg;

		for (size_t i = 0; i < seg; i++) {
			run = p[i] >= '0' && p[i] <= '9' ? run + 1 : 0;
			if (run > longest)
				longest = run;
		}
		if (after_token_word && seg > 0) {
			put = "{token}";	/* a share link's bearer token */
			n = strlen(put);
		} else if (longest >= 10) {
			put = "{national_id}";
			n = strlen(put);
		}
		after_token_word = (seg == 1 && p[0] == 'v') || (seg == 6 && memcmp(p, "shared", 6) == 0);
		if (n > outsize - 1 - o)
			n = outsize - 1 - o;
		memcpy(out + o, put, n);
		o += n;
		p += seg;
		if (*p == '/' && o + 1 < outsize) {
			out[o++] = '/';
			p++;
		}
	}
	out[o] = '\0';
}

const char *
http_request_param(const struct http_request *r, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < r->nparams; i++)
		if (r->param_names[i] && strncmp(r->param_names[i], name, n) == 0 &&
		    r->param_names[i][n] == '}')
			return r->params[i];
	return NULL;
}
