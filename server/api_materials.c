/*
 * api_materials.c - course units and their materials over HTTP: uploading
 * a file (its type decided from its bytes by libmagic, checked against the
 * unit kind's allowlist, size limit and the institution's quota, stored in
 * the content store on a worker thread), units in order, and downloads
 * with validators and byte ranges for the people allowed to see them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/course.h"
#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/log.h"
#include "server/api_materials.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/config.h"
#include "server/problem.h"
#include "server/range.h"
#include "server/static.h"
#include "storage/content.h"
#include "storage/courses.h"
#include "storage/mediatype.h"

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static const struct {
	const char *name;
	enum material_kind kind;
} kinds[] = {
	{ "video", MATERIAL_VIDEO }, { "audio", MATERIAL_AUDIO },
	{ "document", MATERIAL_DOCUMENT }, { "captions", MATERIAL_CAPTIONS },
};

static int
kind_parse(const char *s, enum material_kind *out)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, s) == 0) {
			*out = kinds[i].kind;
			return 0;
		}
	return TC_EINVALID;
}

/*
 * The course of the {uid} parameter, when the caller may edit it. On
 * refusal RESP holds 404 (not visible), 401 or 403.
 */
static int
editable_course(struct app *app, const struct http_request *req, struct http_response *resp,
		const char *uid, struct course *c)
{
	int teaches = 0, rc = uid ? store_course_get(app->store, uid, c) : TC_ENOTFOUND;

	if (rc == 0 && req->actor.kind == ACTOR_PERSON)
		rc = store_course_is_lecturer(app->store, c->id, req->actor.person_id, &teaches);
	if (rc == TC_ENOTFOUND) {
		problem_respond(resp, 404, NULL, "no such course");
		return rc;
	}
	if (rc)
		return problem_respond_err(resp, rc, NULL), rc;
	rc = authz_check_course(&req->actor, AZ_COURSE_EDIT, c->institution_id, teaches);
	if (rc == TC_EUNAUTH)
		api_allow(req, resp, AZ_COURSE_EDIT, c->institution_id);
	else if (rc && c->status != COURSE_PUBLISHED)
		problem_respond(resp, 404, NULL, "no such course");
	else if (rc)
		problem_respond(resp, 403, NULL, "only the course's lecturers and the institution's admins change it");
	return rc;
}

/* ---- upload ------------------------------------------------------------------- */

static int
upload_precheck(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	char k[16];
	enum material_kind kind;
	int rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL), 1;
	rc = editable_course(app, req, resp, http_request_param(req, "uid"), c);
	if (rc == 0 && (api_query(req, "kind", k, sizeof(k)) || kind_parse(k, &kind))) {
		problem_respond(resp, 400, NULL, "say what the file is for: kind=video, audio, document or captions");
		rc = TC_EINVALID;
	}
	if (rc == 0 && req->content_length > mediatype_max_size(kind)) {
		char detail[128];
		snprintf(detail, sizeof(detail), "a %s file may be at most %lld bytes", k,
			 mediatype_max_size(kind));
		problem_respond(resp, 413, NULL, detail);
		rc = TC_ETOOBIG;
	}
	free(c);
	return rc != 0;
}

struct upload_job {
	struct http_deferred d;
	struct app *app;
	int fd;				/* the uploaded body (owned) */
	enum material_kind kind;
	struct material m;
	char type[64];
	int rc;
	int refused;			/* 415 */
};

/* On a worker thread: what is it, and into the content store with it. */
static void
upload_run(struct work *w)
{
	struct upload_job *j = (struct upload_job *)w;
	struct mediatype_detector *det = NULL;
	unsigned char head[65536];
	ssize_t n = pread(j->fd, head, sizeof(head), 0);

	j->rc = n < 0 ? TC_EIO : mediatype_open(&det);
	if (j->rc == 0)
		j->rc = mediatype_detect(det, head, (size_t)n, j->type, sizeof(j->type));
	mediatype_close(det);
	if (j->rc)
		return;
	if (!mediatype_allowed(j->kind, j->type)) {
		j->refused = 1;
		return;
	}
	if (lseek(j->fd, 0, SEEK_SET) != 0) {
		j->rc = TC_EIO;
		return;
	}
	j->rc = content_put_fd(j->app->cfg->data_dir, j->fd, j->m.sha256, &j->m.size);
}

static void
upload_finish(struct http_deferred *d, struct http_response *resp)
{
	struct upload_job *j = (struct upload_job *)d;
	struct app *app = j->app;
	char detail[200];
	int rc;

	if (!resp)
		goto out;
	if (j->refused) {
		snprintf(detail, sizeof(detail), "a %s unit cannot hold %s files",
			 kinds[j->kind - 1].name, j->type);
		problem_respond(resp, 415, NULL, detail);
		http_response_header(resp, "x-detected-type", j->type);
		goto out;
	}
	if (j->rc) {
		problem_respond_err(resp, j->rc == TC_ETOOBIG ? TC_ETOOBIG : j->rc,
				    j->rc == TC_ETOOBIG ? "the server's disk is full" : "the file could not be stored");
		if (j->rc == TC_ETOOBIG)
			resp->status = 507;
		goto out;
	}
	snprintf(j->m.type, sizeof(j->m.type), "%s", j->type);
	j->m.created_at = now_s();
	if ((rc = uuid_v4(j->m.uid)) || (rc = store_material_add(app->store, &j->m))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_reply_json(resp, 201, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "uid", j->m.uid,
		"kind", j->m.kind, "type", j->m.type, "size", (json_int_t)j->m.size,
		"sha256", j->m.sha256, "name", j->m.name));
out:
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static int
on_upload(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct upload_job *j = NULL;
	char k[16] = "", name[256] = "";
	int64_t used = 0;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (upload_precheck(app, req, resp) ||
	    editable_course(app, req, resp, http_request_param(req, "uid"), c))
		goto out;
	if (req->body_fd < 0) {
		problem_respond(resp, 400, NULL, "the file is empty");
		goto out;
	}
	if (api_query(req, "name", name, sizeof(name)) == TC_EINVALID ||
	    utf8_check(name, strlen(name)) || strpbrk(name, "/\\\"\r\n")) {
		problem_respond(resp, 400, NULL, "name must be a plain file name (UTF-8, no slashes or quotes)");
		goto out;
	}
	if (store_institution_usage(app->store, c->institution_id, &used) == 0 &&
	    used + req->content_length > app->cfg->institution_quota) {
		problem_respond(resp, 507, NULL, "the institution's storage quota is used up");
		goto out;
	}
	api_query(req, "kind", k, sizeof(k));
	j = calloc(1, sizeof(*j));
	if (!j) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	kind_parse(k, &j->kind);
	j->app = app;
	j->fd = req->body_fd;
	req->body_fd = -1;
	j->m.institution_id = c->institution_id;
	j->m.course_id = c->id;
	j->m.created_by = req->actor.person_id;
	snprintf(j->m.kind, sizeof(j->m.kind), "%s", k);
	snprintf(j->m.name, sizeof(j->m.name), "%s", name);
	j->d.work.run = upload_run;
	j->d.finish = upload_finish;
	j->d.bulk = 1;
	req->deferred = &j->d;
out:
	free(c);
	return 0;
}

/* ---- download ---------------------------------------------------------------- */

/* 1 when the caller may read files of course C. */
static int
may_read(struct app *app, const struct http_request *req, const struct course *c)
{
	int teaches = 0, enrolled = 0;

	if (req->actor.kind != ACTOR_PERSON)
		return 0;
	store_course_is_lecturer(app->store, c->id, req->actor.person_id, &teaches);
	if (authz_check_course(&req->actor, AZ_COURSE_EDIT, c->institution_id, teaches) == 0)
		return 1;
	store_is_enrolled(app->store, c->id, req->actor.person_id, &enrolled);
	return c->status == COURSE_PUBLISHED && enrolled;
}

/* Types a browser shows in place without running anything of the file's. */
static int
inline_safe(const char *type)
{
	return strcmp(type, "application/pdf") == 0 || strncmp(type, "image/png", 9) == 0 ||
	       strcmp(type, "image/jpeg") == 0 || strcmp(type, "image/webp") == 0 ||
	       strncmp(type, "video/", 6) == 0 || strncmp(type, "audio/", 6) == 0;
}

static int
on_download(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct material m;
	struct stat st;
	char etag[72], lastmod[40], disp[400], cr[96], range[512] = "", if_range[128] = "";
	const char *uid = http_request_param(req, "uid");
	int64_t first = 0, last = 0;
	int fd = -1, rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	rc = uid ? store_material_get(app->store, uid, &m) : TC_ENOTFOUND;
	if (rc == 0)
		rc = store_course_get_id(app->store, m.course_id, c);
	if (rc == 0 && !may_read(app, req, c))
		rc = req->actor.kind == ACTOR_NONE ? TC_EUNAUTH : TC_ENOTFOUND;
	if (rc == TC_EUNAUTH) {
		api_allow(req, resp, AZ_COURSE_ENROL, 0);
		goto out;
	}
	if (rc == TC_ENOTFOUND) {
		problem_respond(resp, 404, NULL, "no such file, or it is not yours to see");
		goto out;
	}
	if (rc || (rc = content_open(app->cfg->data_dir, m.sha256, &fd)) || fstat(fd, &st) != 0) {
		problem_respond_err(resp, rc ? rc : TC_EIO, "the file could not be read");
		goto out;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", m.sha256);
	http_date(m.created_at, lastmod, sizeof(lastmod));
	if (m.name[0])
		snprintf(disp, sizeof(disp), "%s; filename=\"%s\"",
			 inline_safe(m.type) ? "inline" : "attachment", m.name);
	else
		snprintf(disp, sizeof(disp), "%s; filename=\"file.%s\"",
			 inline_safe(m.type) ? "inline" : "attachment", mediatype_extension(m.type));
	resp->content_type = NULL;
	http_response_header(resp, "content-type", m.type);
	http_response_header(resp, "etag", etag);
	http_response_header(resp, "last-modified", lastmod);
	http_response_header(resp, "content-disposition", disp);
	http_response_header(resp, "cache-control", "private, max-age=86400");
	http_response_header(resp, "accept-ranges", "bytes");
	if ((req->if_none_match[0] && strstr(req->if_none_match, etag)) ||
	    (req->if_none_match[0] && strcmp(req->if_none_match, "*") == 0)) {
		resp->status = 304;
		goto out;
	}
	snprintf(range, sizeof(range), "%s", req->range);
	snprintf(if_range, sizeof(if_range), "%s", req->if_range);
	switch (range_decide(range, if_range, st.st_size, etag, m.created_at, &first, &last)) {
	case RANGE_UNSATISFIABLE:
		snprintf(cr, sizeof(cr), "bytes */%lld", (long long)st.st_size);
		problem_respond(resp, 416, NULL, "the range is outside the file");
		http_response_header(resp, "content-range", cr);
		goto out;
	case RANGE_ONE:
		snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)first, (long long)last,
			 (long long)st.st_size);
		http_response_header(resp, "content-range", cr);
		resp->status = 206;
		resp->file_off = first;
		resp->file_len = last - first + 1;
		break;
	case RANGE_NONE:
		resp->status = 200;
		resp->file_off = 0;
		resp->file_len = st.st_size;
		break;
	}
	resp->fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(c);
	return 0;
}

/* ---- units ----------------------------------------------------------------------- */

static json_t *
unit_json(const struct unit *u)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:b, s:s?, s:s?}", "uid", u->uid, "position", u->position,
			 "kind", u->kind, "title", u->title, "required", u->required,
			 "body", u->body && u->body[0] ? u->body : NULL,
			 "material", u->material_uid[0] ? u->material_uid : NULL);
}

static int
add_unit_json(const struct unit *u, void *arg)
{
	return json_array_append_new(arg, unit_json(u));
}

json_t *
api_units_json(struct app *app, int64_t course_id)
{
	json_t *a = json_array();

	if (store_units_each(app->store, course_id, add_unit_json, a)) {
		json_decref(a);
		return json_null();
	}
	return a;
}

/* Fills U's editable fields from BODY; 400 in RESP on bad values. */
static int
read_unit(struct app *app, json_t *body, const struct course *c, struct unit *u,
	  struct http_response *resp)
{
	const char *v;
	json_t *r;
	int bad = 0;

	if ((v = api_str(body, "title", &bad))) {
		if (person_name_check(v) || strlen(v) > UNIT_TITLE_MAX)
			return problem_respond(resp, 400, NULL, "title must be UTF-8 text of 1 to 200 bytes"), 1;
		snprintf(u->title, sizeof(u->title), "%s", v);
	}
	if ((v = api_str(body, "body", &bad))) {
		if (strlen(v) > UNIT_BODY_MAX || utf8_check(v, strlen(v)))
			return problem_respond(resp, 400, NULL, "body must be UTF-8 Markdown of at most 64 KiB"), 1;
		free(u->body);
		u->body = strdup(v);
		if (!u->body)
			return problem_respond_err(resp, TC_ENOMEM, NULL), 1;
	}
	if ((r = json_object_get(body, "required"))) {
		if (!json_is_boolean(r))
			return problem_respond(resp, 400, NULL, "required must be true or false"), 1;
		u->required = json_is_true(r);
	}
	if ((v = api_str(body, "material", &bad))) {
		struct material m;
		if (store_material_get(app->store, v, &m) || m.course_id != c->id)
			return problem_respond(resp, 422, NULL, "material must be a file uploaded to this course"), 1;
		if ((strcmp(u->kind, "video") == 0 && strcmp(m.kind, "video") && strcmp(m.kind, "audio")) ||
		    (strcmp(u->kind, "document") == 0 && strcmp(m.kind, "document")))
			return problem_respond(resp, 422, NULL, "the material's kind does not fit the unit"), 1;
		u->material_id = m.id;
		snprintf(u->material_uid, sizeof(u->material_uid), "%s", m.uid);
	}
	if (bad)
		return problem_respond(resp, 400, NULL, "title, body and material must be strings"), 1;
	return 0;
}

static int
on_unit_add(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct unit u;
	json_t *body = NULL;
	const char *kind;
	int bad = 0, rc;

	memset(&u, 0, sizeof(u));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (editable_course(app, req, resp, http_request_param(req, "uid"), c) ||
	    api_read_json(req, resp, &body))
		goto out;
	kind = api_str(body, "kind", &bad);
	if (!kind || (strcmp(kind, "video") && strcmp(kind, "document") && strcmp(kind, "text") &&
		      strcmp(kind, "quiz"))) {
		problem_respond(resp, 400, NULL, "kind must be video, document, text or quiz");
		goto out;
	}
	snprintf(u.kind, sizeof(u.kind), "%s", kind);
	u.required = 1;
	u.course_id = c->id;
	if (read_unit(app, body, c, &u, resp))
		goto out;
	if (!u.title[0]) {
		problem_respond(resp, 400, NULL, "a unit needs a title");
		goto out;
	}
	u.created_at = now_s();
	if ((rc = uuid_v4(u.uid)) || (rc = store_unit_add(app->store, &u))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, c->institution_id, "unit.added", u.uid, json_pack("{s:s}", "course", c->uid));
	api_reply_json(resp, 201, unit_json(&u));
out:
	free(u.body);
	free(c);
	json_decref(body);
	return 0;
}

/* The unit of the {uid} parameter and its course, when the caller may edit. */
static int
editable_unit(struct app *app, struct http_request *req, struct http_response *resp,
	      struct unit *u, struct course *c)
{
	const char *uid = http_request_param(req, "uid");
	int rc = uid ? store_unit_get(app->store, uid, u) : TC_ENOTFOUND;

	if (rc == 0)
		rc = store_course_get_id(app->store, u->course_id, c);
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such unit"), rc;
	if (rc)
		return problem_respond_err(resp, rc, NULL), rc;
	return editable_course(app, req, resp, c->uid, c);
}

static int
on_unit_update(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct unit u;
	json_t *body = NULL;
	int rc;

	memset(&u, 0, sizeof(u));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (editable_unit(app, req, resp, &u, c) || api_read_json(req, resp, &body) ||
	    read_unit(app, body, c, &u, resp))
		goto out;
	u.updated_at = now_s();
	if ((rc = store_unit_update(app->store, &u))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_reply_json(resp, 200, unit_json(&u));
out:
	free(u.body);
	free(c);
	json_decref(body);
	return 0;
}

static int
on_unit_delete(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct unit u;
	int rc;

	memset(&u, 0, sizeof(u));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (editable_unit(app, req, resp, &u, c))
		goto out;
	/* learners' progress hangs on the units of a published course */
	if (c->status != COURSE_DRAFT) {
		problem_respond(resp, 409, NULL, "units of a published or archived course are kept; "
				"edit the unit or make it optional instead");
		goto out;
	}
	if ((rc = store_unit_delete(app->store, u.id))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, c->institution_id, "unit.deleted", u.uid, NULL);
	resp->status = 204;
out:
	free(u.body);
	free(c);
	return 0;
}

static int
on_units_order(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	int64_t *ids = NULL;
	json_t *body = NULL, *list, *v;
	size_t i, n;
	int rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (editable_course(app, req, resp, http_request_param(req, "uid"), c) ||
	    api_read_json(req, resp, &body))
		goto out;
	list = json_object_get(body, "units");
	n = json_array_size(list);
	if (!json_is_array(list) || n > 10000 || !(ids = calloc(n ? n : 1, sizeof(*ids)))) {
		problem_respond(resp, 400, NULL, "send {\"units\": [unit uids in the new order]}");
		goto out;
	}
	json_array_foreach(list, i, v) {
		struct unit u;
		const char *uid = json_string_value(v);

		memset(&u, 0, sizeof(u));
		if (!uid || store_unit_get(app->store, uid, &u) || u.course_id != c->id) {
			free(u.body);
			problem_respond(resp, 422, NULL, "every unit of the course, each once, and no other");
			goto out;
		}
		free(u.body);
		ids[i] = u.id;
	}
	rc = store_units_reorder(app->store, c->id, ids, n);
	if (rc == TC_EINVALID) {
		problem_respond(resp, 422, NULL, "every unit of the course, each once, and no other");
		goto out;
	}
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_reply_json(resp, 200, json_pack("{s:o}", "units", api_units_json(app, c->id)));
out:
	free(ids);
	free(c);
	json_decref(body);
	return 0;
}

const struct route api_materials_routes[] = {
	{ HTTP_POST, "/api/v1/courses/{uid}/materials", on_upload, "material_upload",
	  ROUTE_BODY_FILE, (int64_t)4 << 30, upload_precheck },
	{ HTTP_GET, "/api/v1/materials/{uid}", on_download, "material_download" },
	{ HTTP_POST, "/api/v1/courses/{uid}/units", on_unit_add, "unit_add" },
	{ HTTP_PUT, "/api/v1/courses/{uid}/units:order", on_units_order, "units_order" },
	{ HTTP_PATCH, "/api/v1/units/{uid}", on_unit_update, "unit_update" },
	{ HTTP_DELETE, "/api/v1/units/{uid}", on_unit_delete, "unit_delete" },
};
const size_t api_materials_routes_count =
	sizeof(api_materials_routes) / sizeof(api_materials_routes[0]);
