/*
 * api_consent.c - learner consent, the access log, the institution's read
 * of consented credentials, and the learner's transcript exports.
 *
 *   POST   /api/v1/me/consents                  grant (or change) a consent
 *   GET    /api/v1/me/consents                  the learner's consents
 *   GET    /api/v1/me/consents/accesses         who read the learner's records
 *   GET    /api/v1/me/consents/{uid}            one consent with its history
 *   DELETE /api/v1/me/consents/{uid}            withdraw (also POST .../withdraw)
 *   GET    /api/v1/institutions/{code}/consents consents given to the institution
 *   GET    /api/v1/institutions/{code}/learners/{national_id}/credentials
 *          the consented credentials (API token with credits:read), logged
 *   GET    /api/v1/me/transcript                VC 2.0 VerifiablePresentation
 *   GET    /api/v1/me/transcript.xml            EMREX ELMO XML
 *
 * Storage: storage/consent.h. Every change is a new consent version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/authz.h"
#include "courses/credential.h"
#include "courses/crypto.h"
#include "courses/dynbuf.h"
#include "courses/elmo.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/identity.h"
#include "server/api_consent.h"
#include "server/api_util.h"
#include "server/api_xapi.h"
#include "server/app.h"
#include "server/problem.h"
#include "storage/consent.h"
#include "storage/credentials.h"
#include "storage/identity.h"

#define DAY 86400
#define LIST_MAX 500
#define CONSENT_DEFAULT_DAYS 365	/* "until" when none is given: a year */
#define CONSENT_MAX_YEARS 5

/* The 404 of the institution's read: the same bytes whether the person is
 * unknown or has not consented (or withdrew, or it expired). */
static const char no_consent[] = "no credit records of this national ID are shared with"
				 " this institution";

/* A 400/404/409 problem naming PATH. Returns 0 (the handler's result). */
static int
bad_field(struct http_response *resp, int status, const char *path, const char *msg)
{
	char detail[400];
	json_t *o;

	snprintf(detail, sizeof(detail), "%s: %s", path, msg);
	o = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title",
		      problem_reason(status), "status", status, "detail", detail, "path", path);
	api_reply_json(resp, status, o);
	if (resp->status == status)
		resp->content_type = "application/problem+json";
	return 0;
}

static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* "YYYY-MM-DD" of Unix time T. */
static void
day_text(int64_t t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Unix time of 00:00 UTC of the date S ("YYYY-MM-DD", a real day), or -1. */
static int64_t
parse_day(const char *s)
{
	struct tm tm = { 0 };
	int y, m, d;
	char back[11];
	int64_t t;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = (int64_t)timegm(&tm);
	day_text(t, back);
	return strcmp(back, s) == 0 ? t : -1;	/* 2026-02-30 is not a day */
}

/* The Unix time of today's date plus YEARS years and DAYS days, 00:00 UTC. */
static int64_t
day_from_now(int64_t now, int years, int days)
{
	time_t tt = (time_t)now;
	struct tm tm;

	gmtime_r(&tt, &tm);
	tm.tm_year += years;
	tm.tm_mday += days;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm);
}

static const char *
state_name(const struct consent_rec *c, int64_t now)
{
	if (c->state == CONSENT_WITHDRAWN)
		return "withdrawn";
	return now >= c->valid_until ? "expired" : "active";
}

static int
add_uid(const char *uid, void *arg)
{
	return json_array_append_new(arg, json_string(uid)) ? TC_ENOMEM : 0;
}

/* The JSON of consent version C for its learner (or, with LEARNER, for
 * the institution: the learner's uid, name and the last digits of the
 * national ID instead of the institution). */
static json_t *
consent_json(struct app *app, const struct consent_rec *c, int64_t now, int learner)
{
	struct institution inst;
	char until[11];
	json_t *o, *who, *creds;

	day_text(c->valid_until - DAY, until);
	if (c->all) {
		creds = json_string("all");
	} else if ((creds = json_array()) &&
		   store_consent_credentials_each(app->store, c->id, add_uid, creds)) {
		json_decref(creds);
		return NULL;
	}
	if (learner) {
		struct person p;
		char masked[NATIONAL_ID_LEN + 1];

		if (store_person_get(app->store, c->person_id, &p)) {
			json_decref(creds);
			return NULL;
		}
		/* the institution knows its applicants' IDs: the last digits suffice */
		snprintf(masked, sizeof(masked), "********%s",
			 p.national_id + strlen(p.national_id) - 4);
		who = json_pack("{s:s, s:s, s:s}", "uid", p.uid, "full_name", p.full_name,
				"national_id", masked);
	} else {
		if (store_institution_get_id(app->store, c->institution_id, &inst)) {
			json_decref(creds);
			return NULL;
		}
		who = json_pack("{s:s, s:s}", "code", inst.code, "name", inst.name);
	}
	o = json_pack("{s:s, s:I, s:o, s:s, s:o, s:s, s:s, s:o, s:o, s:o}", "uid", c->uid,
		      "version", (json_int_t)c->version, learner ? "learner" : "institution", who,
		      "state", state_name(c, now), "credentials", creds, "purpose", c->purpose,
		      "until", until, "granted_at", api_time_json(c->first_granted_at),
		      "updated_at", api_time_json(c->created_at),
		      "withdrawn_at", c->state == CONSENT_WITHDRAWN ?
		      api_time_json(c->created_at) : json_null());
	return o;
}

/* ---- granting ----------------------------------------------------------------------- */

struct grant {
	struct consent_rec c;
	int64_t *ids;
	size_t n;
	char inst_code[INST_CODE_MAX + 1];
};

/* Checks BODY into G; on a bad field RESP holds the problem and 1 is
 * returned; a storage failure is returned as its code. */
static int
grant_parse(struct app *app, const struct http_request *req, struct http_response *resp,
	    json_t *body, struct grant *g, int64_t now)
{
	static const char *const keys[] = { "institution", "credentials", "purpose", "until", NULL };
	struct institution inst;
	const char *k, *code, *purpose = NULL, *until = NULL;
	json_t *v, *creds;
	char path[64];
	size_t i;
	int rc;

	json_object_foreach(body, k, v) {
		for (i = 0; keys[i] && strcmp(keys[i], k) != 0; i++)
			;
		if (!keys[i]) {
			snprintf(path, sizeof(path), "%.60s", k);
			return bad_field(resp, 400, path, "unknown member (send institution,"
					 " credentials, purpose, until)"), 1;
		}
	}
	code = json_string_value(json_object_get(body, "institution"));
	if (!code || !code[0])
		return bad_field(resp, 400, "institution", "the code of an institution is"
				 " required"), 1;
	rc = strlen(code) <= INST_CODE_MAX ? store_institution_get(app->store, code, &inst) :
	     TC_ENOTFOUND;
	if (rc == TC_ENOTFOUND)
		return bad_field(resp, 404, "institution", "no such institution"), 1;
	if (rc)
		return rc;
	snprintf(g->inst_code, sizeof(g->inst_code), "%s", inst.code);
	g->c.institution_id = inst.id;

	creds = json_object_get(body, "credentials");
	if (json_is_string(creds) && strcmp(json_string_value(creds), "all") == 0) {
		g->c.all = 1;
	} else if (!json_is_array(creds) || json_array_size(creds) == 0 ||
		   json_array_size(creds) > CONSENT_SELECTED_MAX) {
		return bad_field(resp, 400, "credentials", "\"all\" or a list of 1 to 1000"
				 " credential uids is required"), 1;
	} else {
		if (!(g->ids = calloc(json_array_size(creds), sizeof(*g->ids))))
			return TC_ENOMEM;
		json_array_foreach(creds, i, v) {
			const char *uid = json_string_value(v);
			struct credential_rec cr = { 0 };

			snprintf(path, sizeof(path), "credentials[%zu]", i);
			if (!uid)
				return bad_field(resp, 400, path, "a credential uid is required"), 1;
			for (size_t j = 0; j < i; j++)
				if (json_equal(v, json_array_get(creds, j)))
					return bad_field(resp, 400, path, "named twice"), 1;
			rc = strlen(uid) <= CRED_UID_MAX ?
			     store_credential_get(app->store, uid, &cr) : TC_ENOTFOUND;
			free(cr.json);
			if (rc == 0 && cr.person_id != req->actor.person_id)
				rc = TC_ENOTFOUND;	/* not the learner's: as if absent */
			if (rc == TC_ENOTFOUND)
				return bad_field(resp, 404, path, "you have no such credential"), 1;
			if (rc)
				return rc;
			g->ids[g->n++] = cr.id;
		}
	}

	v = json_object_get(body, "purpose");
	if (v && !json_is_null(v) && !(purpose = json_string_value(v)))
		return bad_field(resp, 400, "purpose", "must be text"), 1;
	if (purpose) {
		if (utf8_chars(purpose) > CONSENT_PURPOSE_CHARS)
			return bad_field(resp, 400, "purpose", "at most 200 characters"), 1;
		for (const char *p = purpose; *p; p++)
			if ((unsigned char)*p < 0x20)
				return bad_field(resp, 400, "purpose", "one line of text (no control"
						 " characters)"), 1;
		snprintf(g->c.purpose, sizeof(g->c.purpose), "%s", purpose);
	}

	v = json_object_get(body, "until");
	if (v && !json_is_null(v) && !(until = json_string_value(v)))
		return bad_field(resp, 400, "until", "must be a date YYYY-MM-DD"), 1;
	if (until) {
		int64_t day = parse_day(until);

		if (day < 0)
			return bad_field(resp, 400, "until", "must be a date YYYY-MM-DD"), 1;
		if (day < day_from_now(now, 0, 0))
			return bad_field(resp, 400, "until", "must be today or later"), 1;
		if (day > day_from_now(now, CONSENT_MAX_YEARS, 0))
			return bad_field(resp, 400, "until", "at most 5 years from today"), 1;
		g->c.valid_until = day + DAY;	/* through the end of that day (UTC) */
	} else {
		g->c.valid_until = day_from_now(now, 0, CONSENT_DEFAULT_DAYS) + DAY;
	}
	return 0;
}

static int
on_grant(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct grant g = { 0 };
	int64_t now = (int64_t)time(NULL);
	json_t *body = NULL, *o;
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0) || api_read_json(req, resp, &body))
		return 0;
	rc = grant_parse(app, req, resp, body, &g, now);
	json_decref(body);
	if (rc) {
		free(g.ids);
		return rc == 1 ? 0 : problem_respond_err(resp, rc, NULL);
	}
	g.c.person_id = req->actor.person_id;
	g.c.state = CONSENT_GRANTED;
	g.c.created_at = now;
	g.c.created_by = req->actor.person_id;
	if (uuid_v4(g.c.uid)) {
		free(g.ids);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	rc = store_consent_append(app->store, &g.c, g.ids, g.n);
	free(g.ids);
	if (rc == TC_ENOTFOUND)
		return bad_field(resp, 404, "credentials", "a credential is no longer yours");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	api_audit(app, req, g.c.institution_id, "consent.granted", g.c.uid,
		  json_pack("{s:I, s:s, s:o, s:s, s:I}", "version", (json_int_t)g.c.version,
			    "institution", g.inst_code, "credentials",
			    g.c.all ? json_string("all") : json_integer((json_int_t)g.n),
			    "purpose", g.c.purpose, "valid_until", (json_int_t)g.c.valid_until));
	/* the row as stored (first_granted_at from version 1) */
	if ((rc = store_consent_get(app->store, g.c.uid, &g.c)) ||
	    !(o = consent_json(app, &g.c, now, 0)))
		return problem_respond_err(resp, rc ? rc : TC_ENOMEM, NULL);
	return api_reply_json(resp, g.c.version == 1 ? 201 : 200, o);
}

/* ---- the learner's views -------------------------------------------------------------- */

struct list_ctx {
	struct app *app;
	json_t *list;
	int64_t now, last;
	int learner;
};

static int
add_consent(const struct consent_rec *c, void *arg)
{
	struct list_ctx *x = arg;
	json_t *o = consent_json(x->app, c, x->now, x->learner);

	x->last = c->id;
	return o && json_array_append_new(x->list, o) == 0 ? 0 : TC_ENOMEM;
}

static int
on_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct list_ctx x = { app, NULL, (int64_t)time(NULL), 0, 0 };
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 0;
	if (!(x.list = json_array()))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if ((rc = store_consents_of_person_each(app->store, req->actor.person_id, add_consent,
						&x))) {
		json_decref(x.list);
		return problem_respond_err(resp, rc, NULL);
	}
	return api_reply_json(resp, 200, json_pack("{s:o}", "consents", x.list));
}

/* The learner's own consent named by {uid} into C; 404 in RESP otherwise. */
static int
own_consent(struct app *app, struct http_request *req, struct http_response *resp,
	    struct consent_rec *c)
{
	const char *uid = http_request_param(req, "uid");
	int rc = uid && strlen(uid) < sizeof(c->uid) ? store_consent_get(app->store, uid, c) :
		 TC_ENOTFOUND;

	if (rc == 0 && c->person_id != req->actor.person_id)
		rc = TC_ENOTFOUND;
	if (rc == TC_ENOTFOUND)
		problem_respond(resp, 404, NULL, "you have no such consent");
	else if (rc)
		problem_respond_err(resp, rc, NULL);
	return rc;
}

static int
on_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct list_ctx x = { app, NULL, (int64_t)time(NULL), 0, 0 };
	struct consent_rec c;
	json_t *o;
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0) || own_consent(app, req, resp, &c))
		return 0;
	if (!(o = consent_json(app, &c, x.now, 0)) || !(x.list = json_array())) {
		json_decref(o);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	if ((rc = store_consent_history_each(app->store, c.uid, add_consent, &x))) {
		json_decref(o);
		json_decref(x.list);
		return problem_respond_err(resp, rc, NULL);
	}
	json_object_set_new(o, "history", x.list);
	return api_reply_json(resp, 200, o);
}

static int
on_withdraw(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct consent_rec c;
	int64_t now = (int64_t)time(NULL);
	json_t *o;
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0) || own_consent(app, req, resp, &c))
		return 0;
	if (c.state == CONSENT_WITHDRAWN)
		return problem_respond(resp, 409, NULL, "this consent is withdrawn already");
	c.state = CONSENT_WITHDRAWN;
	c.created_at = now;
	c.created_by = req->actor.person_id;
	if ((rc = store_consent_append(app->store, &c, NULL, 0)))
		return problem_respond_err(resp, rc, NULL);
	api_audit(app, req, c.institution_id, "consent.withdrawn", c.uid,
		  json_pack("{s:I}", "version", (json_int_t)c.version));
	if ((rc = store_consent_get(app->store, c.uid, &c)) || !(o = consent_json(app, &c, now, 0)))
		return problem_respond_err(resp, rc ? rc : TC_ENOMEM, NULL);
	return api_reply_json(resp, 200, o);
}

struct access_ctx {
	json_t *list;
	int64_t last;
};

static int
add_access(const struct consent_access *a, void *arg)
{
	struct access_ctx *x = arg;
	char day[11], text[1200];
	json_t *creds = json_loads(a->credentials, 0, NULL), *o;

	x->last = a->id;
	if (!creds)
		return TC_EDB;
	day_text(a->at, day);
	snprintf(text, sizeof(text), "%s read your records on %s%s%s", a->institution_name, day,
		 a->purpose[0] ? ", for " : "", a->purpose);
	o = json_pack("{s:I, s:o, s:{s:s, s:s}, s:s, s:{s:s, s:s}, s:o, s:s}",
		      "id", (json_int_t)a->id, "at", api_time_json(a->at), "institution",
		      "code", a->institution_code, "name", a->institution_name,
		      "purpose", a->purpose, "reader", "kind",
		      a->reader_token_id ? "api_token" : "person", "name", a->reader_name,
		      "credentials", creds, "text", text);
	return o && json_array_append_new(x->list, o) == 0 ? 0 : TC_ENOMEM;
}

static int
on_accesses(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct access_ctx x = { NULL, 0 };
	int64_t before, limit;
	json_t *o;
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 0;
	if (api_query_int(req, "before", 0, 0, INT64_MAX, &before) ||
	    api_query_int(req, "limit", 50, 1, LIST_MAX, &limit))
		return bad_field(resp, 400, "query", "before=N (an id from next_before),"
				 " limit=1..500");
	if (!(x.list = json_array()))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if ((rc = store_consent_accesses_each(app->store, req->actor.person_id, before,
					      (int)limit, add_access, &x))) {
		json_decref(x.list);
		return problem_respond_err(resp, rc, NULL);
	}
	o = json_pack("{s:o}", "accesses", x.list);
	if (o && (int64_t)json_array_size(x.list) == limit)
		json_object_set_new(o, "next_before", json_integer(x.last));
	return api_reply_json(resp, 200, o);
}

/* ---- the institution's side --------------------------------------------------------- */

static int
on_institution_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct list_ctx x = { app, NULL, (int64_t)time(NULL), 0, 1 };
	struct institution inst;
	int64_t after, limit;
	json_t *o;
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_CONSENTS_READ, inst.id))
		return 0;
	if (api_query_int(req, "after", 0, 0, INT64_MAX, &after) ||
	    api_query_int(req, "limit", 100, 1, LIST_MAX, &limit))
		return bad_field(resp, 400, "query", "after=N (from next_after), limit=1..500");
	if (!(x.list = json_array()))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	/* only consents in force: an ended one shows nothing of its learner */
	if ((rc = store_consents_of_institution_each(app->store, inst.id, after, x.now,
						     (int)limit, add_consent, &x))) {
		json_decref(x.list);
		return problem_respond_err(resp, rc, NULL);
	}
	o = json_pack("{s:s, s:o}", "institution", inst.code, "consents", x.list);
	if (o && (int64_t)json_array_size(x.list) == limit)
		json_object_set_new(o, "next_after", json_integer(x.last));
	return api_reply_json(resp, 200, o);
}

struct read_ctx {
	json_t *list;		/* [{uid, issued_at, revoked_at, credential}] */
	json_t *uids;		/* for the access log */
};

static int
add_read(const struct credential_rec *c, void *arg)
{
	struct read_ctx *x = arg;
	json_t *cred = json_loads(c->json, 0, NULL), *o;

	if (!cred)
		return TC_EDB;
	o = json_pack("{s:s, s:s, s:o, s:o, s:o}", "uid", c->uid, "hash", c->hash,
		      "issued_at", api_time_json(c->issued_at), "revoked_at",
		      c->revoked_at ? api_time_json(c->revoked_at) : json_null(),
		      "credential", cred);
	if (!o || json_array_append_new(x->list, o) ||
	    json_array_append_new(x->uids, json_string(c->uid)))
		return TC_ENOMEM;
	return 0;
}

static int
on_institution_read(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *nid = http_request_param(req, "national_id");
	struct read_ctx x = { NULL, NULL };
	struct consent_access a = { 0 };
	struct consent_rec c;
	struct institution inst;
	struct person p;
	int64_t now = (int64_t)time(NULL);
	char until[11], *uids = NULL;
	json_t *o;
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_CREDITS_READ, inst.id))
		return 0;
	if (!nid || national_id_check(nid) != 0)
		return bad_field(resp, 400, "national_id", "a national ID is exactly 12 digits");
	rc = store_person_get_by_nid(app->store, nid, &p);
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, no_consent);
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	if (!(x.list = json_array()) || !(x.uids = json_array())) {
		rc = TC_ENOMEM;
		goto out;
	}
	rc = store_consented_credentials_each(app->store, p.id, inst.id, now, &c, add_read, &x);
	if (rc == TC_ENOTFOUND) {
		rc = 0;
		problem_respond(resp, 404, NULL, no_consent);
		goto out;
	}
	if (rc)
		goto out;
	/* logged (committed) before anything is shown */
	if (!(uids = json_dumps(x.uids, JSON_COMPACT))) {
		rc = TC_ENOMEM;
		goto out;
	}
	a.institution_id = inst.id;
	a.person_id = p.id;
	a.consent_id = c.id;
	snprintf(a.purpose, sizeof(a.purpose), "%s", c.purpose);
	a.reader_token_id = req->actor.kind == ACTOR_TOKEN ? req->actor.token_id : 0;
	a.reader_person_id = req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
	a.at = now;
	a.credentials = uids;
	if ((rc = store_consent_access_record(app->store, &a)))
		goto out;
	day_text(c.valid_until - DAY, until);
	o = json_pack("{s:s, s:{s:s, s:I, s:s, s:s}, s:O}", "institution", inst.code,
		      "consent", "uid", c.uid, "version", (json_int_t)c.version,
		      "purpose", c.purpose, "until", until, "credentials", x.list);
	api_reply_json(resp, 200, o);
out:
	free(uids);
	json_decref(x.list);
	json_decref(x.uids);
	return rc ? problem_respond_err(resp, rc, NULL) : 0;
}

/* ---- transcripts ------------------------------------------------------------------- */

struct pick {
	struct credential_rec *recs;	/* json owned */
	size_t n, cap;
};

static void
pick_free(struct pick *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->recs[i].json);
	free(k->recs);
}

static int
pick_push(struct pick *k, const struct credential_rec *c)
{
	if (GROW(&k->recs, &k->cap, k->n + 1, 16))
		return TC_ENOMEM;
	k->recs[k->n] = *c;
	if (!(k->recs[k->n].json = strdup(c->json)))
		return TC_ENOMEM;
	k->n++;
	return 0;
}

static int
pick_valid(const struct credential_rec *c, void *arg)
{
	return c->revoked_at ? 0 : pick_push(arg, c);
}

/*
 * The credentials of ?credentials= (comma-separated uids, "all" or absent
 * for every one not revoked) into K. On a bad request RESP holds the
 * problem and 1 is returned; storage failures return their code.
 */
static int
pick_credentials(struct app *app, struct http_request *req, struct http_response *resp,
		 struct pick *k)
{
	char q[CONSENT_SELECTED_MAX * (CRED_UID_MAX + 1)], path[40];
	size_t i = 0;
	int rc;

	rc = api_query(req, "credentials", q, sizeof(q));
	if (rc == TC_ENOTFOUND || (rc == 0 && strcmp(q, "all") == 0))
		return store_credentials_each(app->store, req->actor.person_id, pick_valid, k);
	if (rc)
		return bad_field(resp, 400, "credentials", "too long (at most 1000 uids)"), 1;
	for (char *s = q, *e; ; s = e + 1, i++) {
		struct credential_rec c = { 0 };

		e = strchr(s, ',');
		if (e)
			*e = '\0';
		snprintf(path, sizeof(path), "credentials[%zu]", i);
		if (!*s || i >= CONSENT_SELECTED_MAX)
			return bad_field(resp, 400, path, "a comma-separated list of at most 1000"
					 " credential uids, or all"), 1;
		for (size_t j = 0; j < k->n; j++)
			if (strcmp(k->recs[j].uid, s) == 0)
				return bad_field(resp, 400, path, "named twice"), 1;
		rc = strlen(s) <= CRED_UID_MAX ? store_credential_get(app->store, s, &c) :
		     TC_ENOTFOUND;
		if (rc == 0 && c.person_id != req->actor.person_id)
			rc = TC_ENOTFOUND;
		if (rc == 0 && c.revoked_at) {
			free(c.json);
			return bad_field(resp, 409, path, "this credential is revoked"), 1;
		}
		if (rc == 0)
			rc = pick_push(k, &c);
		free(c.json);
		if (rc == TC_ENOTFOUND)
			return bad_field(resp, 404, path, "you have no such credential"), 1;
		if (rc)
			return rc;
		if (!e)
			break;
	}
	return 0;
}

static int
on_transcript(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct pick k = { 0 };
	char id[37];
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 0;
	rc = pick_credentials(app, req, resp, &k);
	if (rc == 0 && uuid_v4(id))
		rc = TC_ENOMEM;
	if (rc) {
		pick_free(&k);
		return rc == 1 ? 0 : problem_respond_err(resp, rc, NULL);
	}
	/* the credentials byte for byte as issued, inside an unsigned VP */
	dynbuf_reset(&resp->body);
	rc = dynbuf_printf(&resp->body, "{\"@context\":[\"%s\"],\"type\":"
			   "[\"VerifiablePresentation\"],\"id\":\"urn:uuid:%s\","
			   "\"verifiableCredential\":[", CREDENTIAL_CONTEXT_VC, id);
	for (size_t i = 0; rc == 0 && i < k.n; i++)
		rc = (i && dynbuf_puts(&resp->body, ",")) ||
		     dynbuf_puts(&resp->body, k.recs[i].json);
	if (rc == 0)
		rc = dynbuf_puts(&resp->body, "]}");
	pick_free(&k);
	if (rc)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	resp->status = 200;
	resp->content_type = "application/json";
	http_response_header(resp, "Content-Disposition",
			     "attachment; filename=\"transcript.json\"");
	return 0;
}

static int
elmo_reports(struct app *app, struct pick *k, struct dynbuf *b, const char *now)
{
	char page[600];
	int rc = 0;

	lrs_home_page(app, page, sizeof(page));
	/* one report per issuer, in the order they first appear */
	for (size_t i = 0; rc == 0 && i < k->n; i++) {
		struct institution inst;
		struct elmo_issuer is;
		json_t *creds;
		int seen = 0;

		for (size_t j = 0; j < i; j++)
			seen |= k->recs[j].institution_id == k->recs[i].institution_id;
		if (seen)
			continue;
		if ((rc = store_institution_get_id(app->store, k->recs[i].institution_id, &inst)))
			break;
		if (!(creds = json_array()))
			return TC_ENOMEM;
		for (size_t j = i; rc == 0 && j < k->n; j++) {
			json_t *c;

			if (k->recs[j].institution_id != inst.id)
				continue;
			if (!(c = json_loads(k->recs[j].json, 0, NULL)))
				rc = TC_EDB;
			else if (json_array_append_new(creds, c))
				rc = TC_ENOMEM;
		}
		is.code = inst.code;
		is.name = inst.name;
		is.website = inst.website;
		is.page = page;
		if (rc == 0)
			rc = elmo_report(b, &is, creds, now);
		json_decref(creds);
	}
	return rc;
}

static int
on_transcript_xml(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct elmo_learner l;
	struct pick k = { 0 };
	struct person p;
	char now[32];
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 0;
	rc = pick_credentials(app, req, resp, &k);
	if (rc == 0 && k.n == 0) {
		pick_free(&k);
		return problem_respond(resp, 409, NULL, "you have no credit records to export"
				       " (an ELMO document holds at least one report)");
	}
	if (rc == 0)
		rc = store_person_get(app->store, req->actor.person_id, &p);
	if (rc) {
		pick_free(&k);
		return rc == 1 ? 0 : problem_respond_err(resp, rc, NULL);
	}
	api_time((int64_t)time(NULL), now);
	l.national_id = p.national_id;
	l.full_name = p.full_name;
	l.date_of_birth = p.date_of_birth;
	dynbuf_reset(&resp->body);
	rc = elmo_begin(&resp->body, &l, now);
	if (rc == 0)
		rc = elmo_reports(app, &k, &resp->body, now);
	if (rc == 0)
		rc = elmo_end(&resp->body);
	pick_free(&k);
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	resp->status = 200;
	resp->content_type = "application/xml; charset=utf-8";
	http_response_header(resp, "Content-Disposition",
			     "attachment; filename=\"transcript.xml\"");
	return 0;
}

const struct route api_consent_routes[] = {
	{ HTTP_GET, "/api/v1/me/consents/accesses", on_accesses, "consents_accesses" },
	{ HTTP_POST, "/api/v1/me/consents", on_grant, "consents_grant" },
	{ HTTP_GET, "/api/v1/me/consents", on_list, "consents_list" },
	{ HTTP_GET, "/api/v1/me/consents/{uid}", on_get, "consents_get" },
	{ HTTP_DELETE, "/api/v1/me/consents/{uid}", on_withdraw, "consents_withdraw" },
	{ HTTP_POST, "/api/v1/me/consents/{uid}/withdraw", on_withdraw, "consents_withdraw" },
	{ HTTP_GET, "/api/v1/institutions/{code}/consents", on_institution_list,
	  "institution_consents" },
	{ HTTP_GET, "/api/v1/institutions/{code}/learners/{national_id}/credentials",
	  on_institution_read, "institution_learner_credentials" },
	{ HTTP_GET, "/api/v1/me/transcript", on_transcript, "transcript_vp" },
	{ HTTP_GET, "/api/v1/me/transcript.xml", on_transcript_xml, "transcript_elmo" },
};
const size_t api_consent_routes_count =
	sizeof(api_consent_routes) / sizeof(api_consent_routes[0]);
