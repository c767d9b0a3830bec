/*
 * api_materials.c - course units and their materials over HTTP: uploading
 * a file (its type decided from its bytes by libmagic, checked against the
 * unit kind's allowlist, size limit and the institution's quota, stored in
 * the content store on a worker thread), units in order, and downloads
 * with validators and byte ranges for the people allowed to see them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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
#include "courses/markdown.h"
#include "server/api_courses.h"
#include "server/api_materials.h"
#include "server/api_progress.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/config.h"
#include "server/media_jobs.h"
#include "server/problem.h"
#include "server/range.h"
#include "server/static.h"
#include "storage/content.h"
#include "storage/courses.h"
#include "storage/media_files.h"
#include "storage/media_jobs.h"
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
	rc = api_course_editable(app, req, resp, http_request_param(req, "uid"), c);
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
	int placed;			/* the content store got the file from this upload */
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
	j->rc = content_put_fd(j->app->cfg->data_dir, j->fd, NULL, j->m.sha256, &j->m.size,
			       &j->placed);
}

/* What an upload's answer says of the material M it made. */
static json_t *
material_made_json(const struct material *m)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s?}", "uid", m->uid,
		"kind", m->kind, "type", m->type, "size", (json_int_t)m->size,
		"sha256", m->sha256, "name", m->name, "media",
		strcmp(m->kind, "video") == 0 || strcmp(m->kind, "audio") == 0 ? "queued" : NULL);
}

static void
upload_finish(struct http_deferred *d, struct http_response *resp)
{
	struct upload_job *j = (struct upload_job *)d;
	struct app *app = j->app;
	char detail[200];
	int rc = TC_EIO;

	if (!resp)	/* the client left: no material, and so no file */
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
	/* the last material using these bytes may have been deleted since they
	 * were stored (by this upload or before it), and its file with it: then
	 * no material may name them (the client sends again) */
	{
		int fd = -1;

		if ((rc = content_open(app->cfg->data_dir, j->m.sha256, &fd)) == 0)
			close(fd);
		else {
			problem_respond(resp, 503, NULL, "the file was removed while it was stored; send it again");
			http_response_header(resp, "retry-after", "1");
			goto out;
		}
	}
	snprintf(j->m.type, sizeof(j->m.type), "%s", j->type);
	j->m.created_at = now_s();
	if ((!j->m.uid[0] && (rc = uuid_v4(j->m.uid))) || (rc = store_material_add(app->store, &j->m))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	/* a video or audio lecture has a processing job now */
	media_jobs_kick(app->media);
	api_reply_json(resp, 201, material_made_json(&j->m));
	rc = 0;
out:
	/* a file this upload stored that no material came of goes again */
	if (rc && j->placed)
		store_content_release(app->store, app->cfg->data_dir, j->m.sha256);
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
	    api_course_editable(app, req, resp, http_request_param(req, "uid"), c))
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
int
api_material_readable(struct app *app, const struct http_request *req, const struct course *c)
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
	char etag[72], lastmod[40], disp[400];
	const char *uid = http_request_param(req, "uid");
	int fd = -1, rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	rc = uid ? store_material_get(app->store, uid, &m) : TC_ENOTFOUND;
	if (rc == 0)
		rc = store_course_get_id(app->store, m.course_id, c);
	if (rc == 0 && !api_material_readable(app, req, c))
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
	if ((req->if_none_match[0] && strstr(req->if_none_match, etag)) ||
	    (req->if_none_match[0] && strcmp(req->if_none_match, "*") == 0)) {
		resp->status = 304;
		goto out;
	}
	api_send_file(req, resp, fd, st.st_size, etag, m.created_at);
	fd = -1;	/* a download writes nothing: a document unit is read by POST .../read */
out:
	if (fd >= 0)
		close(fd);
	free(c);
	return 0;
}

/* Removes a material no unit uses; its file goes from the disk when no
 * other material (of any course) has the same bytes. */
/* The content hashes of a lecture's captions (at most CAPTIONS_MAX). */
#define CAPTIONS_MAX 64
struct caption_shas {
	char sha[CAPTIONS_MAX][65];
	size_t n;
};

static int
caption_sha_add(const struct caption *c, void *arg)
{
	struct caption_shas *cs = arg;

	if (cs->n < CAPTIONS_MAX)
		snprintf(cs->sha[cs->n++], 65, "%s", c->sha256);
	return 0;
}

static int
on_material_delete(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	const char *uid = http_request_param(req, "uid");
	struct caption_shas caps = { .n = 0 };
	struct material m;
	int rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	rc = uid ? store_material_get(app->store, uid, &m) : TC_ENOTFOUND;
	if (rc == 0)
		rc = store_course_get_id(app->store, m.course_id, c);
	if (rc == TC_ENOTFOUND) {
		problem_respond(resp, 404, NULL, "no such file");
		goto out;
	}
	if (rc || api_course_editable(app, req, resp, c->uid, c)) {
		if (rc)
			problem_respond_err(resp, rc, NULL);
		goto out;
	}
	/* its captions' files may go with it */
	if ((rc = store_captions_each(app->store, m.id, caption_sha_add, &caps)) == 0)
		rc = store_material_delete(app->store, m.id);
	if (rc == TC_ECONFLICT) {
		problem_respond(resp, 409, NULL, "a unit still uses this file; change the unit first");
		goto out;
	}
	/* the row is gone (committed): its files follow as far as they can, and
	 * one that cannot go now is only logged (the answer says what happened
	 * to the material) */
	if (rc == 0 && store_content_release(app->store, app->cfg->data_dir, m.sha256))
		log_warn("material %s deleted, but its file %s stays on disk", m.uid, m.sha256);
	for (size_t i = 0; rc == 0 && i < caps.n; i++)
		store_content_release(app->store, app->cfg->data_dir, caps.sha[i]);
	/* a running job notices at its next progress report and stops; the
	 * published HLS folder leaves at once and is removed in the background */
	if (rc == 0 || rc == TC_ENOTFOUND)
		media_dir_discard(app->cfg->data_dir, m.uid);
	if (rc && rc != TC_ENOTFOUND) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, c->institution_id, "material.deleted", m.uid, NULL);
	resp->status = 204;
out:
	free(c);
	return 0;
}

/* ---- units ----------------------------------------------------------------------- */

static json_t *
unit_json(const struct unit *u)
{
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:b, s:s?, s:s?}", "uid", u->uid,
			      "position", u->position, "kind", u->kind, "title", u->title,
			      "required", u->required, "body", u->body && u->body[0] ? u->body : NULL,
			      "material", u->material_uid[0] ? u->material_uid : NULL);

	if (o && u->body && u->body[0]) {	/* Markdown, rendered safely */
		struct dynbuf html;

		dynbuf_init(&html, (size_t)4 << 20);
		if (markdown_render(u->body, strlen(u->body), &html) == 0)
			json_object_set_new(o, "body_html", json_string(dynbuf_str(&html)));
		dynbuf_cleanup(&html);
	}
	return o;
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
		if (!course_unit_material_fits(u->kind, m.kind))
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
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c) ||
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
	return api_course_editable(app, req, resp, c->uid, c);
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
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c) ||
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

/* ---- resumable uploads ------------------------------------------------------------ */

#define CHUNK_MAX ((int64_t)64 << 20)

/* DATA/uploads/<uid>.part: the uid is one this server made (a UUID read
 * back from the database), never text from the URL. */
static int
part_path(struct app *app, const struct upload *u, char *out, size_t n)
{
	char dir[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s/uploads", app->cfg->data_dir);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return TC_EIO;
	return (size_t)snprintf(out, n, "%s/%s.part", dir, u->uid) < n ? 0 : TC_EINVALID;
}

/* The upload of the {uid} parameter, when the caller may add to it: its
 * creator, or whoever may edit its course. 404 otherwise. */
static int
own_upload(struct app *app, const struct http_request *req, struct http_response *resp,
	   struct upload *u)
{
	const char *uid = http_request_param(req, "uid");
	struct course *c;
	int rc = uid ? store_upload_get(app->store, uid, u) : TC_ENOTFOUND;

	if (rc == 0 && req->actor.kind == ACTOR_NONE)
		return api_allow(req, resp, AZ_COURSE_EDIT, 0), TC_EUNAUTH;
	if (rc == 0 && (req->actor.kind != ACTOR_PERSON || req->actor.person_id != u->created_by)) {
		int teaches = 0;

		c = calloc(1, sizeof(*c));
		rc = c ? store_course_get_id(app->store, u->course_id, c) : TC_ENOMEM;
		if (rc == 0 && req->actor.kind == ACTOR_PERSON)
			store_course_is_lecturer(app->store, c->id, req->actor.person_id, &teaches);
		if (rc == 0 && authz_check_course(&req->actor, AZ_COURSE_EDIT, c->institution_id, teaches))
			rc = TC_ENOTFOUND;
		free(c);
	}
	if (rc == TC_ENOTFOUND)
		problem_respond(resp, 404, NULL, "no such upload (finished, cancelled or expired?)");
	else if (rc)
		problem_respond_err(resp, rc, NULL);
	return rc;
}

static void
offset_header(struct http_response *resp, int64_t received)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", (long long)received);
	http_response_header(resp, "upload-offset", v);
}

static json_t *
upload_json(const struct upload *u)
{
	char loc[96];

	snprintf(loc, sizeof(loc), "/api/v1/uploads/%s", u->uid);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s?}", "uid", u->uid, "location", loc,
			 "kind", u->kind, "name", u->name, "size", (json_int_t)u->size,
			 "received", (json_int_t)u->received,
			 "material", u->material_uid[0] ? u->material_uid : NULL);
}

static int
on_upload_create(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct upload u;
	enum material_kind kind;
	char path[PATH_MAX + 64];
	const char *k, *name;
	json_t *body = NULL, *size;
	int64_t used = 0;
	int bad = 0, fd, rc;

	memset(&u, 0, sizeof(u));
	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c) ||
	    api_read_json(req, resp, &body))
		goto out;
	k = api_str(body, "kind", &bad);
	name = api_str(body, "name", &bad);
	size = json_object_get(body, "size");
	if (!k || kind_parse(k, &kind) || !json_is_integer(size) || json_integer_value(size) <= 0 ||
	    (name && (strlen(name) >= sizeof(u.name) || utf8_check(name, strlen(name)) ||
		      strpbrk(name, "/\\\"\r\n")))) {
		problem_respond(resp, 400, NULL, "send {\"kind\": video|audio|document|captions, "
				"\"size\": bytes > 0, \"name\": a plain file name}");
		goto out;
	}
	if (json_integer_value(size) > mediatype_max_size(kind)) {
		problem_respond(resp, 413, NULL, "the file is larger than this kind of unit accepts");
		goto out;
	}
	if (store_institution_usage(app->store, c->institution_id, &used) == 0 &&
	    used + json_integer_value(size) > app->cfg->institution_quota) {
		problem_respond(resp, 507, NULL, "the institution's storage quota is used up");
		goto out;
	}
	snprintf(u.kind, sizeof(u.kind), "%s", k);
	snprintf(u.name, sizeof(u.name), "%s", name ? name : "");
	u.size = json_integer_value(size);
	u.institution_id = c->institution_id;
	u.course_id = c->id;
	u.created_by = req->actor.person_id;
	u.created_at = now_s();
	if ((rc = uuid_v4(u.uid)) || (rc = part_path(app, &u, path, sizeof(path)))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0 || close(fd) != 0 || (rc = store_upload_add(app->store, &u))) {
		unlink(path);
		problem_respond_err(resp, fd < 0 ? TC_EIO : rc, "could not start the upload");
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/uploads/%s", u.uid);
	api_reply_json(resp, 201, upload_json(&u));
	http_response_header(resp, "location", path);
out:
	free(c);
	json_decref(body);
	return 0;
}

/* Parses "bytes A-B/TOTAL". */
static int
content_range(const char *v, int64_t *a, int64_t *b, int64_t *total)
{
	long long x, y, z;
	int n = 0;

	if (sscanf(v, "bytes %lld-%lld/%lld%n", &x, &y, &z, &n) != 3 || v[n] != '\0' ||
	    x < 0 || y < x || z <= y)
		return TC_EINVALID;
	*a = x;
	*b = y;
	*total = z;
	return 0;
}

static int
chunk_precheck(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct upload u;
	int64_t a, b, total;

	if (own_upload(app, req, resp, &u))
		return 1;
	if (content_range(req->content_range, &a, &b, &total) || total != u.size ||
	    b - a + 1 != req->content_length) {
		problem_respond(resp, 400, NULL, "send Content-Range: bytes FIRST-LAST/SIZE matching the "
				"body's length and the upload's size");
		return 1;
	}
	if (u.material_uid[0]) {
		problem_respond(resp, 409, NULL, "this upload is finished already");
		offset_header(resp, u.received);
		return 1;
	}
	if (a > u.received) {
		problem_respond(resp, 409, NULL, "the chunk starts after what has arrived so far; "
				"resume from upload-offset");
		offset_header(resp, u.received);
		return 1;
	}
	return 0;
}

struct chunk_job {
	struct http_deferred d;
	struct app *app;
	int fd;				/* the chunk (owned) */
	char path[PATH_MAX + 64];
	struct upload u;
	int64_t a, b, now_received;
	int rc;
	int mismatch;			/* overlapping bytes differ */
};

/* On a worker: compares what overlaps, appends the rest, fsyncs. */
static void
chunk_run(struct work *w)
{
	struct chunk_job *j = (struct chunk_job *)w;
	unsigned char mine[65536], theirs[65536];
	struct stat st;
	int part = open(j->path, O_RDWR | O_CLOEXEC);
	int64_t cur, off;

	j->rc = TC_EIO;
	if (part < 0 || fstat(part, &st) != 0)
		goto out;
	cur = st.st_size;		/* what is durably there */
	if (j->a > cur) {
		j->rc = TC_ECONFLICT;
		goto out;
	}
	for (off = j->a; off <= j->b; ) {
		size_t n = (size_t)(j->b - off + 1 < (int64_t)sizeof(mine) ? j->b - off + 1 : (int64_t)sizeof(mine));
		ssize_t got = pread(j->fd, mine, n, off - j->a);

		if (got <= 0)
			goto out;
		if (off < cur) {	/* already stored: must be the same bytes */
			size_t m = (size_t)got;
			if (off + (int64_t)m > cur)
				m = (size_t)(cur - off);
			if (pread(part, theirs, m, off) != (ssize_t)m)
				goto out;
			if (memcmp(mine, theirs, m) != 0) {
				j->mismatch = 1;
				j->rc = TC_ECONFLICT;
				goto out;
			}
			if (m < (size_t)got && pwrite(part, mine + m, (size_t)got - m, off + (int64_t)m) !=
			    (ssize_t)((size_t)got - m))
				goto out;
		} else if (pwrite(part, mine, (size_t)got, off) != got) {
			goto out;
		}
		off += got;
	}
	if (fsync(part) != 0)
		goto out;
	j->now_received = cur > j->b + 1 ? cur : j->b + 1;
	j->rc = 0;
out:
	if (part >= 0)
		close(part);
}

static void
chunk_finish(struct http_deferred *d, struct http_response *resp)
{
	struct chunk_job *j = (struct chunk_job *)d;
	struct upload now;
	int rc = 0;

	if (!resp)
		goto out;
	if (j->rc) {
		if (j->mismatch)
			problem_respond(resp, 409, NULL, "the chunk overlaps bytes already received with different bytes");
		else if (j->rc == TC_ECONFLICT)
			problem_respond(resp, 409, NULL, "the chunk starts after what has arrived so far");
		else
			problem_respond_err(resp, j->rc, "the chunk could not be stored");
		if (store_upload_get(j->app->store, j->u.uid, &now) == 0)
			offset_header(resp, now.received);
		goto out;
	}
	rc = store_upload_get(j->app->store, j->u.uid, &now);
	if (rc == 0 && j->now_received > now.received)
		rc = store_upload_advance(j->app->store, now.id, now.received, j->now_received, now_s());
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	now.received = j->now_received > now.received ? j->now_received : now.received;
	api_reply_json(resp, 200, upload_json(&now));
	offset_header(resp, now.received);
out:
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static int
on_upload_chunk(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct chunk_job *j;

	if (chunk_precheck(app, req, resp))
		return 0;
	if (req->body_fd < 0)
		return problem_respond(resp, 400, NULL, "the chunk is empty"), 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	own_upload(app, req, resp, &j->u);
	content_range(req->content_range, &j->a, &j->b, &j->now_received);
	if (part_path(app, &j->u, j->path, sizeof(j->path))) {
		free(j);
		return problem_respond_err(resp, TC_EIO, NULL);
	}
	j->app = app;
	j->fd = req->body_fd;
	req->body_fd = -1;
	j->d.work.run = chunk_run;
	j->d.finish = chunk_finish;
	j->d.bulk = 1;
	req->deferred = &j->d;
	return 0;
}

static int
on_upload_status(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct upload u;

	if (own_upload(app, req, resp, &u))
		return 0;
	api_reply_json(resp, 200, upload_json(&u));
	offset_header(resp, u.received);
	http_response_header(resp, "cache-control", "no-store");
	return 0;
}

/* Removes an upload's row and its partial file. */
static void
drop_upload(struct app *app, const struct upload *u)
{
	char path[PATH_MAX + 64];

	store_upload_delete(app->store, u->id);
	if (part_path(app, u, path, sizeof(path)) == 0)
		unlink(path);
}

struct stale {
	struct upload list[64];
	int n;
};

static int
collect_stale(const struct upload *u, void *arg)
{
	struct stale *st = arg;

	st->list[st->n++] = *u;
	return 0;
}

int
api_uploads_expire(struct app *app, int64_t before)
{
	struct stale st;
	int total = 0;

	do {
		st.n = 0;
		if (store_uploads_stale(app->store, before, 64, collect_stale, &st))
			break;
		for (int i = 0; i < st.n; i++)
			drop_upload(app, &st.list[i]);
		total += st.n;
	} while (st.n == 64);
	return total;
}

static int
on_upload_abort(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct upload u;

	if (own_upload(app, req, resp, &u))
		return 0;
	drop_upload(app, &u);
	resp->status = 204;
	return 0;
}

struct finish_job {
	struct upload_job up;		/* first: the same pipeline as a plain upload */
	struct upload u;
};

/*
 * The uploads being finished now (the service thread's alone, as are the
 * finish handlers): a second finish of one upload while the first hashes
 * would make a second material; it is told to ask again instead, and then
 * gets the first one's material.
 */
#define FINISHING_MAX 64
static int64_t finishing[FINISHING_MAX];
static int nfinishing;

static int
finishing_has(int64_t id)
{
	for (int i = 0; i < nfinishing; i++)
		if (finishing[i] == id)
			return 1;
	return 0;
}

static void
finishing_drop(int64_t id)
{
	for (int i = 0; i < nfinishing; i++)
		if (finishing[i] == id) {
			finishing[i] = finishing[--nfinishing];
			return;
		}
}

static void
finish_finish(struct http_deferred *d, struct http_response *resp)
{
	struct finish_job *f = (struct finish_job *)d;
	struct app *app = f->up.app;
	struct upload u = f->u;
	char path[PATH_MAX + 64], mat[37];
	struct material m;

	snprintf(mat, sizeof(mat), "%s", f->up.m.uid);
	finishing_drop(u.id);
	upload_finish(d, resp);		/* frees F */
	/* the material exists now: the row stays (until stale) naming it, so
	 * that a finish retried after a lost answer gets it; the part goes */
	if (store_material_get(app->store, mat, &m) == 0 &&
	    store_upload_finished(app->store, u.id, mat, now_s()) == 0 &&
	    part_path(app, &u, path, sizeof(path)) == 0)
		unlink(path);
}

static int
on_upload_finish(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct finish_job *f;
	char path[PATH_MAX + 64];
	struct upload u;

	if (own_upload(app, req, resp, &u))
		return 0;
	if (u.material_uid[0]) {	/* finished before (its answer lost?): the same material */
		struct material m;
		int rc = store_material_get(app->store, u.material_uid, &m);

		if (rc)
			return problem_respond_err(resp, rc, NULL);
		json_t *o = material_made_json(&m);

		json_object_del(o, "media");	/* its state is GET …/media's */
		return api_reply_json(resp, 200, o), 0;
	}
	if (u.received != u.size) {
		problem_respond(resp, 409, NULL, "the upload is not complete yet");
		offset_header(resp, u.received);
		return 0;
	}
	if (finishing_has(u.id) || nfinishing == FINISHING_MAX) {
		problem_respond(resp, 409, NULL, "the upload is being finished; ask again in a moment");
		http_response_header(resp, "retry-after", "1");
		return 0;
	}
	f = calloc(1, sizeof(*f));
	if (!f || part_path(app, &u, path, sizeof(path)) ||
	    (f->up.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		free(f);
		return problem_respond_err(resp, TC_EIO, "the uploaded file is missing");
	}
	f->u = u;
	f->up.app = app;
	if (uuid_v4(f->up.m.uid)) {
		close(f->up.fd);
		free(f);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	kind_parse(u.kind, &f->up.kind);
	f->up.m.institution_id = u.institution_id;
	f->up.m.course_id = u.course_id;
	f->up.m.created_by = u.created_by;
	snprintf(f->up.m.kind, sizeof(f->up.m.kind), "%s", u.kind);
	snprintf(f->up.m.name, sizeof(f->up.m.name), "%s", u.name);
	f->up.d.work.run = upload_run;
	f->up.d.finish = finish_finish;
	f->up.d.bulk = 1;
	req->deferred = &f->up.d;
	finishing[nfinishing++] = u.id;
	return 0;
}

const struct route api_materials_routes[] = {
	{ HTTP_POST, "/api/v1/courses/{uid}/uploads", on_upload_create, "upload_create" },
	{ HTTP_PUT, "/api/v1/uploads/{uid}", on_upload_chunk, "upload_chunk",
	  ROUTE_BODY_FILE, CHUNK_MAX, chunk_precheck },
	{ HTTP_GET, "/api/v1/uploads/{uid}", on_upload_status, "upload_status" },
	{ HTTP_DELETE, "/api/v1/uploads/{uid}", on_upload_abort, "upload_abort" },
	{ HTTP_POST, "/api/v1/uploads/{uid}/finish", on_upload_finish, "upload_finish" },
	{ HTTP_POST, "/api/v1/courses/{uid}/materials", on_upload, "material_upload",
	  ROUTE_BODY_FILE, (int64_t)4 << 30, upload_precheck },
	{ HTTP_GET, "/api/v1/materials/{uid}", on_download, "material_download" },
	{ HTTP_DELETE, "/api/v1/materials/{uid}", on_material_delete, "material_delete" },
	{ HTTP_POST, "/api/v1/courses/{uid}/units", on_unit_add, "unit_add" },
	{ HTTP_PUT, "/api/v1/courses/{uid}/units:order", on_units_order, "units_order" },
	{ HTTP_PATCH, "/api/v1/units/{uid}", on_unit_update, "unit_update" },
	{ HTTP_DELETE, "/api/v1/units/{uid}", on_unit_delete, "unit_delete" },
};
const size_t api_materials_routes_count =
	sizeof(api_materials_routes) / sizeof(api_materials_routes[0]);
