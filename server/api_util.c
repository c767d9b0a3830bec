/* api_util.c - see api_util.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/api_revocation.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/config.h"
#include "server/problem.h"
#include "server/range.h"
#include "storage/identity.h"
#include "storage/store.h"

static int
append_json(const char *buf, size_t len, void *data)
{
	return dynbuf_append(data, buf, len) ? -1 : 0;
}

int
api_reply_json(struct http_response *resp, int status, json_t *o)
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

int
api_read_json(const struct http_request *req, struct http_response *resp, json_t **out)
{
	json_error_t err;
	char detail[256];

	*out = NULL;
	if (strncmp(req->content_type, "application/json", 16) != 0) {
		problem_respond(resp, 415, NULL, "send the body as application/json");
		return TC_EUNSUPPORTED;
	}
	*out = json_loadb(req->body.data ? req->body.data : "", req->body.len,
			  JSON_REJECT_DUPLICATES, &err);
	if (!*out || !json_is_object(*out)) {
		snprintf(detail, sizeof(detail), "the body is not a JSON object%s%s",
			 *out ? "" : ": ", *out ? "" : err.text);
		json_decref(*out);
		*out = NULL;
		problem_respond(resp, 400, NULL, detail);
		return TC_EINVALID;
	}
	return 0;
}

const char *
api_str(json_t *o, const char *key, int *bad)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

int
api_query(const struct http_request *req, const char *name, char *out, size_t outsize)
{
	size_t n = strlen(name);

	for (const char *p = req->query; p && *p;) {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			const char *v = p + n + 1, *e = strchr(v, '&');
			size_t l = e ? (size_t)(e - v) : strlen(v);

			if (l >= outsize)
				return TC_EINVALID;
			memcpy(out, v, l);
			out[l] = '\0';
			return 0;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return TC_ENOTFOUND;
}

int
api_query_int(const struct http_request *req, const char *name, int64_t def,
	      int64_t min, int64_t max, int64_t *out)
{
	char v[32], *end;
	long long x;
	int rc = api_query(req, name, v, sizeof(v));

	if (rc == TC_ENOTFOUND) {
		*out = def;
		return 0;
	}
	if (rc)
		return rc;	/* too long for V: nothing was copied */
	errno = 0;
	x = strtoll(v, &end, 10);
	if (!v[0] || *end || errno || x < min || x > max)
		return TC_EINVALID;
	*out = x;
	return 0;
}

int
api_allow(const struct http_request *req, struct http_response *resp,
	  enum authz_action act, int64_t institution_id)
{
	int rc = authz_check(&req->actor, act, institution_id);

	if (rc == TC_EUNAUTH) {
		problem_respond(resp, 401, NULL, "sign in, or send an API token");
		http_response_header(resp, "www-authenticate", "Bearer realm=\"tinchi\"");
	} else if (rc) {
		problem_respond(resp, 403, NULL, "you are not allowed to do this here");
	}
	return rc;
}

int
api_institution(struct app *app, const struct http_request *req,
		struct http_response *resp, struct institution *out)
{
	const char *code = http_request_param(req, "code");
	char detail[128];
	int rc = code ? store_institution_get(app->store, code, out) : TC_ENOTFOUND;

	if (rc == TC_ENOTFOUND) {
		snprintf(detail, sizeof(detail), "no institution with code %.40s", code ? code : "");
		problem_respond(resp, 404, NULL, detail);
	} else if (rc) {
		problem_respond_err(resp, rc, NULL);
	}
	return rc;
}

void
api_audit(struct app *app, const struct http_request *req, int64_t institution_id,
	  const char *event, const char *subject, json_t *detail)
{
	api_audit_by(app, req ? &req->actor : NULL, req ? req->peer : NULL, institution_id, event,
		     subject, detail);
}

void
api_audit_by(struct app *app, const struct actor *actor, const char *source,
	     int64_t institution_id, const char *event, const char *subject, json_t *detail)
{
	struct audit_event e;
	char *text = NULL;

	memset(&e, 0, sizeof(e));
	e.at = (int64_t)time(NULL);
	e.institution_id = institution_id;
	if (actor && actor->kind == ACTOR_PERSON)
		e.actor_person_id = actor->person_id;
	if (actor && actor->kind == ACTOR_TOKEN)
		e.actor_token_id = actor->token_id;
	snprintf(e.event, sizeof(e.event), "%s", event);
	snprintf(e.subject, sizeof(e.subject), "%s", subject ? subject : "");
	if (detail)
		text = json_dumps(detail, JSON_COMPACT);
	snprintf(e.detail, sizeof(e.detail), "%s", text ? text : "{}");
	snprintf(e.source, sizeof(e.source), "%s", source ? source : "cli");
	if (store_audit_add(app->store, &e) != 0)
		log_err("audit: could not record %s", event);
	free(text);
	json_decref(detail);
}

void
api_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *
api_time_json(int64_t t)
{
	char s[32];

	if (!t)
		return json_null();
	api_time(t, s);
	return json_string(s);
}

void
api_send_file(const struct http_request *req, struct http_response *resp, int fd, int64_t size,
	      const char *etag, int64_t mtime)
{
	char cr[96], range[512], if_range[128];
	int64_t first = 0, last = 0;

	http_response_header(resp, "accept-ranges", "bytes");
	snprintf(range, sizeof(range), "%s", req->range);
	snprintf(if_range, sizeof(if_range), "%s", req->if_range);
	switch (range_decide(range, if_range, size, etag, mtime, &first, &last)) {
	case RANGE_UNSATISFIABLE:
		close(fd);
		snprintf(cr, sizeof(cr), "bytes */%lld", (long long)size);
		problem_respond(resp, 416, NULL, "the range is outside the file");
		http_response_header(resp, "content-range", cr);
		return;
	case RANGE_ONE:
		snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)first, (long long)last,
			 (long long)size);
		http_response_header(resp, "content-range", cr);
		resp->status = 206;
		resp->file_off = first;
		resp->file_len = last - first + 1;
		break;
	case RANGE_NONE:
		resp->status = 200;
		resp->file_off = 0;
		resp->file_len = size;
		break;
	}
	resp->fd = fd;
}

/* FNV-1a, 64 bits. */
static uint64_t
key_hash(const char *k)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * UINT64_C(1099511628211);
	return h;
}

static size_t
key_slot(const struct api_keyset *s, const char *k)
{
	size_t i = (size_t)key_hash(k) & s->mask;

	while (s->slot[i] && strcmp(s->slot[i], k) != 0)
		i = (i + 1) & s->mask;
	return i;
}

int
api_keyset_add(struct api_keyset *s, const char *key, int *seen)
{
	size_t i;

	*seen = 0;
	if (!s->slot || (s->count + 1) * 2 > s->mask + 1) {
		struct api_keyset g = { 0 };
		size_t n = s->slot ? (s->mask + 1) * 2 : 1024;

		if (!(g.slot = calloc(n, sizeof(*g.slot))))
			return TC_ENOMEM;
		g.mask = n - 1;
		g.count = s->count;
		for (size_t q = 0; s->slot && q <= s->mask; q++)
			if (s->slot[q])
				g.slot[key_slot(&g, s->slot[q])] = s->slot[q];
		free(s->slot);
		*s = g;
	}
	i = key_slot(s, key);
	if (s->slot[i])
		return *seen = 1, 0;
	if (!(s->slot[i] = strdup(key)))
		return TC_ENOMEM;
	s->count++;
	return 0;
}

void
api_keyset_cleanup(struct api_keyset *s)
{
	for (size_t i = 0; s->slot && i <= s->mask; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

int
api_job_app_open(const struct app *app, struct app *a)
{
	*a = *app;
	a->store = NULL;
	a->status_cache = NULL;
	a->progress_cache = NULL;
	a->verify = NULL;
	return store_open(app->cfg->data_dir, &a->store);
}

void
api_job_app_close(struct app *a)
{
	api_revocation_cleanup(a);
	store_close(a->store);
	a->store = NULL;
}

int
api_bulk_claim(struct app *app, int64_t institution_id)
{
	if (api_bulk_busy(app, institution_id))
		return 429;
	if (app->nbulk_jobs == (int)(sizeof(app->bulk_jobs) / sizeof(app->bulk_jobs[0])))
		return 503;
	app->bulk_jobs[app->nbulk_jobs++] = institution_id;
	return 0;
}

void
api_bulk_release(struct app *app, int64_t institution_id)
{
	for (int i = 0; i < app->nbulk_jobs; i++)
		if (app->bulk_jobs[i] == institution_id) {
			app->bulk_jobs[i] = app->bulk_jobs[--app->nbulk_jobs];
			return;
		}
}

int
api_bulk_busy(const struct app *app, int64_t institution_id)
{
	for (int i = 0; i < app->nbulk_jobs; i++)
		if (app->bulk_jobs[i] == institution_id)
			return 1;
	return 0;
}

void
api_bulk_refuse(struct http_response *resp, const char *what)
{
	char detail[200];

	snprintf(detail, sizeof(detail), "%s: a credentials import or bulk revocation of this"
		 " institution is running; try again when it has finished", what);
	problem_respond(resp, 429, NULL, detail);
	http_response_header(resp, "retry-after", "5");
}
