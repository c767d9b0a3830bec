/*
 * api_media.c - lecture streaming over HTTP.
 *
 *   GET    /api/v1/materials/{uid}/media          processing state, probe,
 *                                                 renditions, captions and,
 *                                                 when ready, signed URLs
 *   POST   /api/v1/materials/{uid}/media/retry    a failed job runs again
 *   PUT    /api/v1/materials/{uid}/captions/{lang}  WebVTT captions (body)
 *   DELETE /api/v1/materials/{uid}/captions/{lang}
 *   GET    /media/{uid}/...?t=TOKEN               the published HLS files
 *
 * The /media/ routes identify nobody: the token (courses/mediatoken.h)
 * names the material, the viewer and an expiry, and is checked with the
 * media key alone, without the database, so a CDN edge holding the key can
 * do the same check. Paths on disk are built from checked names only.
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
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/log.h"
#include "courses/mediatoken.h"
#include "courses/webvtt.h"
#include "server/api_courses.h"
#include "server/api_materials.h"
#include "server/api_media.h"
#include "server/api_progress.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/config.h"
#include "server/media_jobs.h"
#include "server/problem.h"
#include "storage/content.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/media.h"
#include "storage/media_files.h"
#include "storage/media_jobs.h"
#include "storage/store.h"

#define PLAYLIST_MAX (4 << 20)	/* bytes of a playlist read to sign it */

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/*
 * Loads material {uid} and its course for a caller who wants to see it
 * (EDIT 0) or change it (EDIT 1). Non-zero when RESP holds the refusal.
 */
static int
load_material(struct app *app, struct http_request *req, struct http_response *resp, int edit,
	      struct material *m, struct course *c)
{
	const char *uid = http_request_param(req, "uid");
	int rc = uid ? store_material_get(app->store, uid, m) : TC_ENOTFOUND;

	if (rc == 0)
		rc = store_course_get_id(app->store, m->course_id, c);
	if (rc == 0 && edit)
		return api_course_editable(app, req, resp, c->uid, c);
	if (rc == 0 && !api_material_readable(app, req, c))
		rc = req->actor.kind == ACTOR_NONE ? TC_EUNAUTH : TC_ENOTFOUND;
	if (rc == TC_EUNAUTH) {
		api_allow(req, resp, AZ_COURSE_ENROL, 0);
		return 1;
	}
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such lecture, or it is not yours to see"), 1;
	if (rc)
		return problem_respond_err(resp, rc, NULL), 1;
	return 0;
}

/* ---- state --------------------------------------------------------------------- */

static int
caption_json(const struct caption *c, void *arg)
{
	char t[32];

	api_time(c->created_at, t);
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:i, s:I, s:s}", "lang", c->lang,
						    "label", c->label, "cues", c->cues,
						    "size", (json_int_t)c->size, "created", t))
		       ? TC_ENOMEM : 0;
}

static json_t *
rendition_json(const struct media_rendition *r)
{
	return json_pack("{s:s, s:b, s:i, s:i, s:f, s:I, s:I, s:s, s:i, s:f}", "name", r->name,
			 "copy", r->copy, "width", r->width, "height", r->height,
			 "frame_rate", r->frame_rate, "bandwidth", (json_int_t)r->bandwidth,
			 "average_bandwidth", (json_int_t)r->average_bandwidth, "codecs", r->codecs,
			 "segments", r->segments, "duration", r->duration);
}

/* The signed URLs of a ready lecture for the caller. */
static json_t *
stream_json(struct app *app, const struct http_request *req, const char *uid, int poster)
{
	struct person p;
	char viewer[37] = "-", token[MEDIA_TOKEN_MAX], url[256], purl[256], t[32];
	int64_t expires = now_s() + app->cfg->media_token_ttl;

	if (req->actor.kind == ACTOR_PERSON &&
	    store_person_get(app->store, req->actor.person_id, &p) == 0)
		snprintf(viewer, sizeof(viewer), "%s", p.uid);
	if (media_token_make(app->media_key, uid, viewer, expires, token, sizeof(token)))
		return NULL;
	snprintf(url, sizeof(url), "/media/%s/master.m3u8?t=%s", uid, token);
	snprintf(purl, sizeof(purl), "/media/%s/poster.jpg?t=%s", uid, token);
	api_time(expires, t);
	return json_pack("{s:s, s:s?, s:s}", "master", url, "poster", poster ? purl : NULL,
			 "expires", t);
}

static int
on_media_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct media_job job;
	struct material m;
	struct media_result *res = calloc(1, sizeof(*res));
	char *result = NULL, t[32];
	json_t *o = NULL, *caps = json_array(), *rends = json_array();
	int rc, have = 0;

	if (!c || !res || !caps || !rends) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	if (load_material(app, req, resp, 0, &m, c))
		goto out;
	rc = store_media_get(app->store, m.id, &job, &result);
	if (rc == TC_ENOTFOUND) {
		problem_respond(resp, 404, NULL, "this file is not a video or audio lecture");
		goto out;
	}
	if (rc == 0)
		rc = store_captions_each(app->store, m.id, caption_json, caps);
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	have = result && result[0] && media_result_parse(result, res) == 0;
	for (int i = 0; have && i < res->nr; i++)
		json_array_append_new(rends, rendition_json(&res->r[i]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s?, s:i, s:O, s:O}", "material", m.uid,
		      "kind", m.kind, "state", job.state, "stage", job.stage,
		      "percent", job.percent, "error", job.error[0] ? job.error : NULL,
		      "attempts", job.attempts, "renditions", rends, "captions", caps);
	if (!o) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	if (have) {
		char *info = media_info_json(&res->info);
		json_t *io = info ? json_loads(info, 0, NULL) : NULL;

		free(info);
		json_object_set_new(o, "info", io ? io : json_null());
		json_object_set_new(o, "poster", json_boolean(res->poster));
	} else {
		json_object_set_new(o, "info", json_null());
		json_object_set_new(o, "poster", json_false());
	}
	if (job.started_at) {
		api_time(job.started_at, t);
		json_object_set_new(o, "started", json_string(t));
	}
	if (job.finished_at) {
		api_time(job.finished_at, t);
		json_object_set_new(o, "finished", json_string(t));
	}
	if (strcmp(job.state, "ready") == 0)
		json_object_set_new(o, "stream", stream_json(app, req, m.uid, have && res->poster));
	api_reply_json(resp, 200, o);
	o = NULL;
out:
	json_decref(o);
	json_decref(caps);
	json_decref(rends);
	free(result);
	free(res);
	free(c);
	return 0;
}

static int
on_media_retry(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	struct material m;
	int rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (load_material(app, req, resp, 1, &m, c))
		goto out;
	rc = store_media_retry(app->store, m.id, now_s());
	if (rc == TC_ENOTFOUND)
		problem_respond(resp, 404, NULL, "this file is not a video or audio lecture");
	else if (rc == TC_ECONFLICT)
		problem_respond(resp, 409, NULL, "only a job that failed can be run again");
	else if (rc)
		problem_respond_err(resp, rc, NULL);
	else {
		media_jobs_kick(app->media);
		api_audit(app, req, c->institution_id, "media.retried", m.uid, NULL);
		api_reply_json(resp, 202, json_pack("{s:s, s:s}", "material", m.uid, "state",
						    "queued"));
	}
out:
	free(c);
	return 0;
}

/* ---- captions ------------------------------------------------------------------ */

/* Captions are written on a worker thread: the content store and the
 * published folder are synced to disk. */
struct caption_job {
	struct http_deferred d;
	struct app *app;
	struct caption cap;
	char material_uid[37];
	int64_t institution_id;
	int64_t person_id;		/* who asked, for the audit trail */
	char peer[64];
	int remove;			/* DELETE */
	int replaced;			/* PUT over an existing one */
	struct dynbuf body;		/* PUT: the WebVTT file */
	int rc;
};

/* Rewrites the published folder's playlists when the lecture is ready. */
static int
republish(struct app *app, struct store *st, int64_t material_id, const char *uid)
{
	struct media_job job;
	struct media_result *res = calloc(1, sizeof(*res));
	char *result = NULL, dir[PATH_MAX];
	int rc = res ? store_media_get(st, material_id, &job, &result) : TC_ENOMEM;

	if (rc == 0 && strcmp(job.state, "ready") == 0 && result &&
	    (rc = media_result_parse(result, res)) == 0 &&
	    (rc = media_dir_path(app->cfg->data_dir, uid, dir)) == 0)
		rc = media_publish(st, app->cfg->data_dir, material_id, dir, res);
	free(result);
	free(res);
	return rc;
}

static void
caption_run(struct work *w)
{
	struct caption_job *j = (struct caption_job *)w;
	struct content_writer *cw = NULL;
	struct store *st = NULL;
	char old[65] = "";

	if (!j->remove) {
		if ((j->rc = content_begin(j->app->cfg->data_dir, &cw)) ||
		    (j->rc = content_write(cw, j->body.data, j->body.len)) ||
		    (j->rc = content_commit(cw, j->cap.sha256)))
			goto out;
		cw = NULL;
	}
	if ((j->rc = store_open(j->app->cfg->data_dir, &st)))
		goto out;
	store_set_busy_timeout(st, 5000);
	j->rc = j->remove ? store_caption_delete(st, j->cap.material_id, j->cap.lang, old)
			  : store_caption_put(st, &j->cap, old);
	if (j->rc)
		goto out;
	j->replaced = old[0] != '\0';
	if ((j->rc = republish(j->app, st, j->cap.material_id, j->material_uid)))
		log_err("media: captions of %s saved, but the playlists were not rewritten: %s",
			j->material_uid, tc_strerror(j->rc));
	/* the replaced file's bytes go when nothing else refers to them */
	if (old[0] && strcmp(old, j->cap.sha256) != 0)
		store_content_release(st, j->app->cfg->data_dir, old);
	j->rc = 0;
out:
	content_abort(cw);
	store_close(st);
}

static void
caption_finish(struct http_deferred *d, struct http_response *resp)
{
	struct caption_job *j = (struct caption_job *)d;
	struct actor editor = { .kind = ACTOR_PERSON };
	char t[32];

	if (!resp)
		goto out;
	if (j->rc == TC_ENOTFOUND && j->remove) {
		problem_respond(resp, 404, NULL, "the lecture has no captions in that language");
		goto out;
	}
	if (j->rc) {
		problem_respond_err(resp, j->rc, j->rc == TC_ETOOBIG ? "the server's disk is full"
								    : "the captions could not be stored");
		goto out;
	}
	editor.person_id = j->person_id;
	api_audit_by(j->app, &editor, j->peer, j->institution_id,
		     j->remove ? "captions.deleted" : "captions.saved", j->material_uid,
		     json_pack("{s:s}", "lang", j->cap.lang));
	if (j->remove) {
		resp->status = 204;
		goto out;
	}
	api_time(j->cap.created_at, t);
	api_reply_json(resp, j->replaced ? 200 : 201,
		       json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s}", "material", j->material_uid,
				 "lang", j->cap.lang, "label", j->cap.label, "cues", j->cap.cues,
				 "size", (json_int_t)j->cap.size, "sha256", j->cap.sha256,
				 "created", t));
out:
	dynbuf_cleanup(&j->body);
	free(j);
}

#define CAPTIONS_PER_LECTURE 32

struct caption_count {
	const char *lang;
	int n, has;
};

static int
caption_count(const struct caption *c, void *arg)
{
	struct caption_count *cc = arg;

	cc->n++;
	cc->has |= strcmp(c->lang, cc->lang) == 0;
	return 0;
}

/* A label a playlist can quote: UTF-8, no quotes or control characters. */
static int
label_ok(const char *s)
{
	if (utf8_check(s, strlen(s)))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"')
			return 0;
	return 1;
}

static int
caption_start(struct app *app, struct http_request *req, struct http_response *resp, int remove)
{
	struct course *c = calloc(1, sizeof(*c));
	struct caption_job *j = calloc(1, sizeof(*j));
	struct webvtt_summary sum = { 0 };
	struct material m;
	struct media_job job;
	const char *lang = http_request_param(req, "lang");
	char why[200], label[CAPTION_LABEL_MAX * 2];
	int rc;

	if (!c || !j) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto fail;
	}
	if (load_material(app, req, resp, 1, &m, c))
		goto fail;
	if ((rc = store_media_get(app->store, m.id, &job, NULL)) || strcmp(m.kind, "video") != 0) {
		if (rc && rc != TC_ENOTFOUND)
			problem_respond_err(resp, rc, NULL);
		else
			problem_respond(resp, 409, NULL, "captions belong to a video lecture");
		goto fail;
	}
	if (!lang || !lang_tag_valid(lang)) {
		problem_respond(resp, 400, NULL, "the language must be a tag like vi, en or en-US");
		goto fail;
	}
	dynbuf_init(&j->body, 0);
	j->app = app;
	j->remove = remove;
	j->person_id = req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
	snprintf(j->peer, sizeof(j->peer), "%s", req->peer);
	j->institution_id = c->institution_id;
	snprintf(j->material_uid, sizeof(j->material_uid), "%s", m.uid);
	j->cap.material_id = m.id;
	snprintf(j->cap.lang, sizeof(j->cap.lang), "%s", lang);
	if (!remove) {
		rc = api_query(req, "label", label, sizeof(label));
		if (rc == TC_ENOTFOUND)
			snprintf(label, sizeof(label), "%s", lang);
		if (rc == TC_EINVALID || strlen(label) > CAPTION_LABEL_MAX || !label_ok(label)) {
			problem_respond(resp, 400, NULL, "label must be UTF-8 text of at most 64 bytes"
					" without quotes");
			goto fail;
		}
		struct caption_count cc = { .lang = lang };

		if ((rc = store_captions_each(app->store, m.id, caption_count, &cc)) != 0) {
			problem_respond_err(resp, rc, NULL);
			goto fail;
		}
		if (!cc.has && cc.n >= CAPTIONS_PER_LECTURE) {
			problem_respond(resp, 409, NULL, "a lecture has at most 32 caption languages");
			goto fail;
		}
		if (req->body.len == 0) {
			problem_respond(resp, 400, NULL, "send the WebVTT file as the request body");
			goto fail;
		}
		rc = webvtt_check(req->body.data, req->body.len, &sum, why, sizeof(why));
		if (rc) {
			problem_respond(resp, rc == TC_ETOOBIG ? 413 : 422, NULL, why);
			goto fail;
		}
		snprintf(j->cap.label, sizeof(j->cap.label), "%s", label);
		j->cap.size = (int64_t)req->body.len;
		j->cap.cues = sum.cues;
		j->cap.created_by = req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
		j->cap.created_at = now_s();
		if (j->cap.created_by == 0) {
			problem_respond(resp, 403, NULL, "captions are added by a signed-in lecturer");
			goto fail;
		}
		/* the body moves to the job */
		j->body = req->body;
		dynbuf_init(&req->body, 0);
	}
	j->d.work.run = caption_run;
	j->d.finish = caption_finish;
	req->deferred = &j->d;
	free(c);
	return 0;
fail:
	if (j)
		dynbuf_cleanup(&j->body);
	free(j);
	free(c);
	return 0;
}

static int
on_caption_put(struct app *app, struct http_request *req, struct http_response *resp)
{
	return caption_start(app, req, resp, 0);
}

static int
on_caption_delete(struct app *app, struct http_request *req, struct http_response *resp)
{
	return caption_start(app, req, resp, 1);
}

/* ---- the published files ------------------------------------------------------- */

/* Reads a playlist and appends the caller's token to every URI in it. */
static int
send_playlist(struct http_response *resp, int fd, off_t size, const char *token)
{
	char *text = NULL, query[MEDIA_TOKEN_MAX + 4];
	size_t got = 0;
	int rc = 0;

	if (size > PLAYLIST_MAX)
		return TC_ETOOBIG;
	text = malloc((size_t)size + 1);
	if (!text)
		return TC_ENOMEM;
	while (got < (size_t)size) {
		ssize_t n = read(fd, text + got, (size_t)size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = TC_EIO;
			break;
		}
		got += (size_t)n;
	}
	snprintf(query, sizeof(query), "t=%s", token);
	if (rc == 0)
		rc = media_playlist_sign(text, got, query, &resp->body);
	free(text);
	if (rc == 0)
		resp->status = 200;
	return rc;
}

static int
on_media_file(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *uid = http_request_param(req, "uid");
	const char *dir = http_request_param(req, "dir");
	const char *name = http_request_param(req, "name");
	const char *type = media_file_type(dir, name);
	char token[MEDIA_TOKEN_MAX], viewer[37], root[PATH_MAX], path[PATH_MAX], etag[48];
	int64_t expires = 0;
	struct stat st;
	int fd = -1, rc, n;

	if (!uid || !type || media_dir_path(app->cfg->data_dir, uid, root) != 0) {
		problem_respond(resp, 404, NULL, "no such media file");
		return 0;
	}
	if (api_query(req, "t", token, sizeof(token)) != 0) {
		problem_respond(resp, 403, NULL, "this stream link is not signed; get a new one from"
				" the lecture's page");
		return 0;
	}
	rc = media_token_check(app->media_key, uid, token, now_s(), viewer, &expires);
	if (rc) {
		problem_respond(resp, 403, NULL, expires && expires < now_s()
				? "this stream link has expired; reload the lecture's page"
				: "this stream link is not valid for this lecture");
		return 0;
	}
	n = dir ? snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name)
		: snprintf(path, sizeof(path), "%s/%s", root, name);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		if (fd >= 0)
			close(fd);
		problem_respond(resp, 404, NULL, "no such media file");
		return 0;
	}
	snprintf(resp->viewer, sizeof(resp->viewer), "%s", viewer);
	resp->content_type = NULL;
	http_response_header(resp, "content-type", type);
	if (strstr(type, "mpegurl")) {
		/* playlists carry this viewer's token: never shared, and the
		 * master changes when captions do */
		http_response_header(resp, "cache-control", "private, no-cache");
		rc = send_playlist(resp, fd, st.st_size, token);
		close(fd);
		if (rc)
			problem_respond_err(resp, rc, "the playlist could not be read");
		return 0;
	}
	/* segments, init sections, posters and caption files never change
	 * under their name */
	http_response_header(resp, "cache-control", "public, max-age=31536000, immutable");
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtime);
	http_response_header(resp, "etag", etag);
	/* a weak link that lost the end of a segment asks for the rest */
	api_send_file(req, resp, fd, st.st_size, etag, (int64_t)st.st_mtime);
	/* a whole segment sent to a learner counts as delivered */
	api_progress_segment(app, resp, uid, dir, name, viewer, st.st_size);
	return 0;
}

const struct route api_media_routes[] = {
	{ HTTP_GET, "/api/v1/materials/{uid}/media", on_media_get, "media_get" },
	{ HTTP_POST, "/api/v1/materials/{uid}/media/retry", on_media_retry, "media_retry" },
	{ HTTP_PUT, "/api/v1/materials/{uid}/captions/{lang}", on_caption_put, "caption_put",
	  0, WEBVTT_MAX },
	{ HTTP_DELETE, "/api/v1/materials/{uid}/captions/{lang}", on_caption_delete,
	  "caption_delete" },
	{ HTTP_GET, "/media/{uid}/{name}", on_media_file, "media_file", ROUTE_PUBLIC },
	{ HTTP_GET, "/media/{uid}/{dir}/{name}", on_media_file, "media_file", ROUTE_PUBLIC },
};
const size_t api_media_routes_count = sizeof(api_media_routes) / sizeof(api_media_routes[0]);
