/*
 * api_recognition.c - the registry (trust list), recognition agreements and
 * the partner's answer to mutual ones (proposals: accept, decline): see
 * api_recognition.h for the routes. Handlers parse, authorise, call the
 * domain (courses/recognition.h) and storage (storage/recognition.h), audit
 * and answer; every bad input is a 400 problem with "path" and changes
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/authz.h"
#include "courses/course.h"
#include "courses/crypto.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/recognition.h"
#include "server/api_courses.h"
#include "server/api_recognition.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/problem.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/recognition.h"

/* A problem naming PATH (400 unless STATUS says otherwise). Returns 0. */
static int
bad_path(struct http_response *resp, int status, const char *path, const char *msg)
{
	char detail[RECOG_ERR_MAX + 64];
	json_t *o;

	snprintf(detail, sizeof(detail), "%s: %s", path, msg);
	o = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title",
		      problem_reason(status), "status", status, "detail", detail, "path", path);
	api_reply_json(resp, status, o);
	if (resp->status == status)
		resp->content_type = "application/problem+json";
	return 0;
}

/* Answers the JSON text of O (stolen) with a strong ETag of its bytes and
 * public caching; 304 when If-None-Match names it. */
static int
reply_cacheable(const struct http_request *req, struct http_response *resp, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	char hex[SHA256_HEX_LEN + 1], etag[40];

	json_decref(o);
	if (!text)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	sha256_hex(text, strlen(text), hex);
	snprintf(etag, sizeof(etag), "\"%.32s\"", hex);
	http_response_header(resp, "etag", etag);
	http_response_header(resp, "cache-control", "public, max-age=300");
	if (req->if_none_match[0] && (strstr(req->if_none_match, etag) ||
				      strcmp(req->if_none_match, "*") == 0)) {
		free(text);
		resp->status = 304;
		return 0;
	}
	dynbuf_reset(&resp->body);
	if (dynbuf_puts(&resp->body, text)) {
		free(text);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	free(text);
	resp->status = 200;
	resp->content_type = "application/json";
	return 0;
}

/* ---- the registry ------------------------------------------------------------ */

static int
add_key(const struct inst_key *k, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s, s:o, s:o}", "did", k->did,
						    "valid_from", api_time_json(k->valid_from),
						    "valid_until", api_time_json(k->valid_until)))
	       ? TC_ENOMEM : 0;
}

/* The registry entry of INST: code, name, kind, website, current did, keys. */
static int
registry_entry(struct app *app, const struct institution *inst, json_t **out)
{
	json_t *keys = json_array(), *o;
	struct inst_key cur;
	int rc = keys ? store_key_each(app->store, inst->id, add_key, keys) : TC_ENOMEM;

	*out = NULL;
	if (rc) {
		json_decref(keys);
		return rc;
	}
	o = json_pack("{s:s, s:s, s:s, s:s?, s:o}", "code", inst->code, "name", inst->name,
		      "kind", inst_kind_name(inst->kind),
		      "website", inst->website[0] ? inst->website : NULL, "keys", keys);
	if (!o)
		return TC_ENOMEM;
	if (store_key_current(app->store, inst->id, &cur) == 0)
		json_object_set_new(o, "did", json_string(cur.did));
	*out = o;
	return 0;
}

static int
add_entry(const struct institution *inst, void *arg)
{
	void **a = arg;
	json_t *o;
	int rc = registry_entry(a[0], inst, &o);

	return rc ? rc : json_array_append_new(a[1], o) ? TC_ENOMEM : 0;
}

static int
on_registry(struct app *app, struct http_request *req, struct http_response *resp)
{
	json_t *list = json_array();
	void *a[2] = { app, list };
	int rc = list ? store_institution_each(app->store, add_entry, a) : TC_ENOMEM;

	if (rc) {
		json_decref(list);
		return problem_respond_err(resp, rc, NULL);
	}
	return reply_cacheable(req, resp, json_pack("{s:o}", "institutions", list));
}

static int
on_registry_one(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	json_t *o;
	int rc;

	if (api_institution(app, req, resp, &inst))
		return 0;
	if ((rc = registry_entry(app, &inst, &o)))
		return problem_respond_err(resp, rc, NULL);
	return reply_cacheable(req, resp, o);
}

/* ---- a course's field ----------------------------------------------------------- */

static int
on_course_field(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct course *c = calloc(1, sizeof(*c));
	json_t *body = NULL;
	const char *field;
	int bad = 0, rc;

	if (!c)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), c) ||
	    api_read_json(req, resp, &body))
		goto out;
	field = api_str(body, "field", &bad);
	if (!field || bad || json_object_size(body) != 1 ||
	    (field[0] && recognition_field_check(field))) {
		bad_path(resp, 400, "field", "must be an ISCED-F 2013 code (2, 3 or 4 digits,"
			 " e.g. \"0613\"), or \"\" to clear it");
		goto out;
	}
	rc = store_course_field_set(app->store, c->id, field);
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, c->institution_id, "course.field_set", c->uid,
		  json_pack("{s:s}", "field", field));
	api_reply_json(resp, 200, json_pack("{s:s, s:s, s:s}", "uid", c->uid, "code", c->code,
					    "field", field));
out:
	json_decref(body);
	free(c);
	return 0;
}

/* ---- agreements ---------------------------------------------------------------- */

/* The JSON view of a stored rule version: its members plus id, version,
 * updated_at (or created_at for HISTORY), in_force. */
static json_t *
rule_view(const struct recog_rule_rec *r, int history)
{
	json_t *o = json_loads(r->body, 0, NULL);
	const char *exp;
	time_t now = time(NULL);
	int64_t days;

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "version", json_integer(r->version));
	json_object_set_new(o, history ? "created_at" : "updated_at",
			    api_time_json(r->created_at));
	exp = json_string_value(json_object_get(o, "expires_on"));
	json_object_set_new(o, "in_force", json_boolean(r->status == RECOG_ACTIVE &&
		(!exp || recognition_date_days(exp, &days) || (int64_t)now / 86400 < days)));
	return o;
}

static int
add_version(const struct recog_rule_rec *r, void *arg)
{
	json_t *o = rule_view(r, 1);

	return o && json_array_append_new(arg, o) == 0 ? 0 : TC_ENOMEM;
}

struct list_ctx {
	struct app *app;
	json_t *list;
	int history;
};

static int
add_rule(const struct recog_rule_rec *r, void *arg)
{
	struct list_ctx *c = arg;
	json_t *o = rule_view(r, 0), *v;
	int rc = o ? 0 : TC_ENOMEM;

	if (rc == 0 && c->history) {
		v = json_array();
		rc = v ? store_recog_rule_versions(c->app->store, r->institution_id, r->id,
						   add_version, v) : TC_ENOMEM;
		json_object_set_new(o, "versions", v);
	}
	if (rc == 0 && json_array_append_new(c->list, o))
		return TC_ENOMEM;
	if (rc)
		json_decref(o);
	return rc;
}

/* The institution {code} for an admin: non-zero when RESP holds the refusal. */
static int
admin_institution(struct app *app, struct http_request *req, struct http_response *resp,
		  struct institution *inst)
{
	if (api_institution(app, req, resp, inst))
		return -1;
	return api_allow(req, resp, AZ_AGREEMENTS_MANAGE, inst->id);
}

static int
on_agreements_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct list_ctx c = { app, NULL, 0 };
	char v[8];
	int rc;

	if (admin_institution(app, req, resp, &inst))
		return 0;
	if (api_query(req, "history", v, sizeof(v)) == 0) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return bad_path(resp, 400, "history", "must be true or false");
		c.history = strcmp(v, "true") == 0;
	}
	c.list = json_array();
	rc = c.list ? store_recog_rules_each(app->store, inst.id, add_rule, &c) : TC_ENOMEM;
	if (rc) {
		json_decref(c.list);
		return problem_respond_err(resp, rc, NULL);
	}
	return api_reply_json(resp, 200, json_pack("{s:s, s:o}", "institution", inst.code,
						   "agreements", c.list));
}

/* The {id} route parameter as a rule id; 404 in RESP when it is none. */
static int
rule_id_param(const struct http_request *req, struct http_response *resp, int64_t *id)
{
	const char *s = http_request_param(req, "id");
	char *end = NULL;
	long long v = s ? strtoll(s, &end, 10) : 0;

	if (!s || !*s || *end || v <= 0 || s[0] == '0' || s[0] == '+') {
		problem_respond(resp, 404, NULL, "no such agreement at this institution");
		return -1;
	}
	*id = v;
	return 0;
}

static int
on_agreement_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct recog_rule_rec r;
	json_t *o, *v;
	int64_t id;
	int rc;

	if (admin_institution(app, req, resp, &inst) || rule_id_param(req, resp, &id))
		return 0;
	rc = store_recog_rule_get(app->store, inst.id, id, &r);
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such agreement at this institution");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	o = rule_view(&r, 0);
	recog_rule_rec_cleanup(&r);
	v = json_array();
	rc = o && v ? store_recog_rule_versions(app->store, inst.id, id, add_version, v)
		    : TC_ENOMEM;
	if (rc) {
		json_decref(o);
		json_decref(v);
		return problem_respond_err(resp, rc, NULL);
	}
	json_object_set_new(o, "versions", v);
	return api_reply_json(resp, 200, o);
}

/*
 * Validates the request body as a rule of INST and completes it (source
 * id, the target course's title and credits). Non-zero when RESP holds
 * the 4xx answer.
 */
static int
rule_from_body(struct app *app, const struct http_request *req, struct http_response *resp,
	       const struct institution *inst, struct recog_rule *r)
{
	char err[RECOG_ERR_MAX], *colon;
	struct institution src;
	struct course *c;
	json_t *body = NULL;
	int rc;

	if (api_read_json(req, resp, &body))
		return -1;
	json_decref(body);
	rc = recognition_rule_parse((const char *)req->body.data, req->body.len, r, err,
				    sizeof(err));
	if (rc) {
		colon = strstr(err, ": ");
		if (colon)
			*colon = '\0';
		bad_path(resp, 400, err, colon ? colon + 2 : "invalid");
		return -1;
	}
	if (r->mutual && recognition_mutual_check(r, err, sizeof(err)))
		return bad_path(resp, 400, "mutual", err), -1;
	if (strcmp(r->source, "*") != 0) {
		rc = store_institution_get(app->store, r->source, &src);
		if (rc == TC_ENOTFOUND)
			return bad_path(resp, 400, "source", "no registered institution has this"
					" code"), -1;
		if (rc)
			return problem_respond_err(resp, rc, NULL), -1;
		if (src.id == inst->id)
			return bad_path(resp, 400, "source", "an institution does not recognise"
					" its own courses"), -1;
		r->source_id = src.id;
	}
	if (r->target != RECOG_TARGET_COURSE)
		return 0;
	if (!(c = calloc(1, sizeof(*c))))
		return problem_respond_err(resp, TC_ENOMEM, NULL), -1;
	rc = store_course_get_by_code(app->store, inst->id, r->target_code, c);
	if (rc == 0) {
		snprintf(r->target_title, sizeof(r->target_title), "%s", c->title);
		r->credits_x10 = c->credits_x10;
	} else if (rc == TC_ENOTFOUND) {
		bad_path(resp, 400, "target.course", "this institution has no course with this"
			 " code");
	} else {
		problem_respond_err(resp, rc, NULL);
	}
	free(c);
	return rc ? -1 : 0;
}

/* Stores R for INST as a new rule (ID 0) or version VERSION of rule ID;
 * answers with the stored view (STATUS) and audits EVENT. */
static int
store_and_answer(struct app *app, struct http_request *req, struct http_response *resp,
		 const struct institution *inst, struct recog_rule *r, int64_t id, int version,
		 int status, const char *event)
{
	char keys[RECOG_KEYS_MAX][RECOG_KEY_MAX], subject[64];
	struct recog_rule_rec rec, got;
	json_t *o;
	int n, rc;

	memset(&rec, 0, sizeof(rec));
	if ((rc = recognition_rule_json(r, &rec.body)))
		return problem_respond_err(resp, rc, NULL);
	recognition_rule_keys(r, keys, &n);
	rec.id = id;
	rec.institution_id = inst->id;
	rec.source_id = r->source_id;
	rec.status = r->status;
	rec.version = version;
	rec.created_at = (int64_t)time(NULL);
	rec.created_by = req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
	rc = id ? store_recog_rule_update(app->store, &rec, keys, n)
		: store_recog_rule_add(app->store, &rec, keys, n);
	recog_rule_rec_cleanup(&rec);
	if (rc == TC_ECONFLICT)
		return problem_respond(resp, 409, NULL, "the agreement was changed meanwhile:"
				       " read it again and send the change for its version");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	snprintf(subject, sizeof(subject), "%lld", (long long)rec.id);
	api_audit(app, req, inst->id, event, subject, json_pack("{s:i, s:s}", "version",
								 rec.version, "status",
								 recognition_status_name(r->status)));
	rc = store_recog_rule_get(app->store, inst->id, rec.id, &got);
	if (rc)	/* stored and committed: say so even if it cannot be read back */
		return api_reply_json(resp, status, json_pack("{s:I, s:i}", "id",
							      (json_int_t)rec.id, "version",
							      rec.version));
	o = rule_view(&got, 0);
	recog_rule_rec_cleanup(&got);
	return api_reply_json(resp, status, o);
}

static int
on_agreement_create(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct recog_rule *r;
	int rc = 0;

	if (admin_institution(app, req, resp, &inst))
		return 0;
	if (!(r = calloc(1, sizeof(*r))))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (rule_from_body(app, req, resp, &inst, r) == 0)
		rc = store_and_answer(app, req, resp, &inst, r, 0, 1, 201, "agreement.created");
	free(r);
	return rc;
}

/* The current rule ID of INST (404 in RESP) and, when ?version=N is given,
 * checks that it is the current one (409); *NEXT = current + 1. */
static int
current_version(struct app *app, const struct http_request *req, struct http_response *resp,
		const struct institution *inst, int64_t id, int *next)
{
	struct recog_rule_rec cur;
	int64_t want;
	int rc = store_recog_rule_get(app->store, inst->id, id, &cur);

	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such agreement at this institution"),
		       -1;
	if (rc)
		return problem_respond_err(resp, rc, NULL), -1;
	recog_rule_rec_cleanup(&cur);
	rc = api_query_int(req, "version", cur.version, 1, 1000000000, &want);
	if (rc)
		return bad_path(resp, 400, "version", "must be a version number"), -1;
	if (want != cur.version)
		return problem_respond(resp, 409, NULL, "the agreement was changed meanwhile:"
				       " read it again and send the change for its version"), -1;
	*next = cur.version + 1;
	return 0;
}

static int
on_agreement_update(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct recog_rule *r;
	int64_t id;
	int next, rc = 0;

	if (admin_institution(app, req, resp, &inst) || rule_id_param(req, resp, &id) ||
	    current_version(app, req, resp, &inst, id, &next))
		return 0;
	if (!(r = calloc(1, sizeof(*r))))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (rule_from_body(app, req, resp, &inst, r) == 0)
		rc = store_and_answer(app, req, resp, &inst, r, id, next, 200,
				      "agreement.changed");
	free(r);
	return rc;
}

static int
on_agreement_expire(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct recog_rule_rec cur;
	struct recog_rule *r;
	char err[RECOG_ERR_MAX];
	int64_t id;
	int next, rc;

	if (admin_institution(app, req, resp, &inst) || rule_id_param(req, resp, &id) ||
	    current_version(app, req, resp, &inst, id, &next))
		return 0;
	if (!(r = calloc(1, sizeof(*r))))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	rc = store_recog_rule_get(app->store, inst.id, id, &cur);
	if (rc == 0) {
		rc = recognition_rule_parse(cur.body, strlen(cur.body), r, err, sizeof(err));
		r->source_id = cur.source_id;
		recog_rule_rec_cleanup(&cur);
		if (rc)
			rc = TC_EDB;	/* a stored rule always parses */
	}
	if (rc == 0 && cur.status == RECOG_EXPIRED) {
		problem_respond(resp, 409, NULL, "the agreement has expired already");
	} else if (rc == 0) {
		r->status = RECOG_EXPIRED;
		store_and_answer(app, req, resp, &inst, r, id, next, 200, "agreement.expired");
	} else {
		problem_respond_err(resp, rc, NULL);
	}
	free(r);
	return 0;
}

/* ---- mutual agreements ------------------------------------------------------------- */

/* The reverse of proposal R (of institution FROM) as the partner INST would
 * record it, target course completed from INST's courses: 0; TC_ENOTFOUND
 * when INST has no such course (*MISSING names it); TC_EINVALID for a rule
 * that has no reverse (stored before mutual was checked). */
static int
reverse_of(struct app *app, const struct recog_rule_rec *r, const struct institution *from,
	   const struct institution *inst, struct recog_rule *rule, struct recog_rule *rev,
	   const char **missing)
{
	char err[RECOG_ERR_MAX];
	struct course *c;
	int rc;

	*missing = NULL;
	if (recognition_rule_parse(r->body, strlen(r->body), rule, err, sizeof(err)))
		return TC_EDB;	/* a stored rule always parses */
	rule->source_id = r->source_id;
	if ((rc = recognition_rule_reverse(rule, from->code, rev, err, sizeof(err))))
		return rc;
	rev->source_id = from->id;
	if (rev->target != RECOG_TARGET_COURSE)
		return 0;
	if (!(c = calloc(1, sizeof(*c))))
		return TC_ENOMEM;
	rc = store_course_get_by_code(app->store, inst->id, rev->target_code, c);
	if (rc == 0) {
		snprintf(rev->target_title, sizeof(rev->target_title), "%s", c->title);
		rev->credits_x10 = c->credits_x10;
	} else if (rc == TC_ENOTFOUND) {
		*missing = rev->target_code;
	}
	free(c);
	return rc;
}

struct prop_ctx {
	struct app *app;
	const struct institution *inst;
	json_t *list;
};

/* The view of proposal R with decision M (NULL: none) for CTX's institution. */
static json_t *
proposal_view(struct app *app, const struct institution *inst, const struct recog_rule_rec *r,
	      const struct recog_mutual *m)
{
	struct institution from;
	struct recog_rule *rule = calloc(1, sizeof(*rule)), *rev = calloc(1, sizeof(*rev));
	const char *missing = NULL, *state = "pending";
	char *text = NULL;
	json_t *o = NULL, *reverse = json_null();
	int rc = rule && rev ? store_institution_get_id(app->store, r->institution_id, &from)
			     : TC_ENOMEM;

	if (rc == 0) {
		rc = reverse_of(app, r, &from, inst, rule, rev, &missing);
		if (rc == TC_ENOTFOUND || rc == TC_EINVALID)
			rc = 0;		/* shown, not acceptable as it is */
		else if (rc == 0 && recognition_rule_json(rev, &text) == 0)
			reverse = json_loads(text, 0, NULL);
	}
	if (m && m->accepted)
		state = "accepted";
	else if (m && m->rule_version == r->version)
		state = "declined";	/* an older version's decline: pending again */
	if (rc == 0)
		o = json_pack("{s:I, s:i, s:{s:s, s:s}, s:o, s:o, s:s}", "id", (json_int_t)r->id,
			      "version", r->version, "from", "code", from.code, "name", from.name,
			      "agreement", rule_view(r, 0), "reverse", reverse ? reverse : json_null(),
			      "state", state);
	else
		json_decref(reverse);
	if (o && missing)
		json_object_set_new(o, "missing_course", json_string(missing));
	if (o && m) {
		json_object_set_new(o, "decided_at", api_time_json(m->decided_at));
		json_object_set_new(o, "decided_version", json_integer(m->rule_version));
		if (m->accepted) {
			json_object_set_new(o, "reverse_id", json_integer(m->reverse_rule_id));
			json_object_set_new(o, "changed_since", json_boolean(m->rule_version !=
									     r->version));
		}
	}
	free(text);
	free(rule);
	free(rev);
	return o;
}

static int
add_proposal(const struct recog_rule_rec *r, const struct recog_mutual *m, void *arg)
{
	struct prop_ctx *c = arg;
	json_t *o = proposal_view(c->app, c->inst, r, m);

	return o && json_array_append_new(c->list, o) == 0 ? 0 : TC_ENOMEM;
}

static int
on_proposals_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct prop_ctx c = { app, &inst, NULL };
	int rc;

	if (admin_institution(app, req, resp, &inst))
		return 0;
	c.list = json_array();
	rc = c.list ? store_recog_proposals_each(app->store, inst.id, add_proposal, &c) : TC_ENOMEM;
	if (rc) {
		json_decref(c.list);
		return problem_respond_err(resp, rc, NULL);
	}
	return api_reply_json(resp, 200, json_pack("{s:s, s:o}", "institution", inst.code,
						   "proposals", c.list));
}

/* Stores R as a new version of rule REC (its institution's) in the
 * caller's transaction; REC->version becomes it. */
static int
new_version(struct app *app, const struct http_request *req, struct recog_rule_rec *rec,
	    const struct recog_rule *r)
{
	char keys[RECOG_KEYS_MAX][RECOG_KEY_MAX];
	struct recog_rule_rec v;
	int n, rc;

	memset(&v, 0, sizeof(v));
	if ((rc = recognition_rule_json(r, &v.body)))
		return rc;
	recognition_rule_keys(r, keys, &n);
	v.id = rec->id;
	v.institution_id = rec->institution_id;
	v.source_id = r->source_id;
	v.status = r->status;
	v.version = rec->version + 1;
	v.created_at = (int64_t)time(NULL);
	v.created_by = req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
	rc = store_recog_rule_update(app->store, &v, keys, n);
	if (rc == 0)
		rec->version = v.version;
	recog_rule_rec_cleanup(&v);
	return rc;
}

/*
 * POST .../agreement-proposals/{id}/accept: the partner records the reverse
 * as its own active rule and, when the proposer's rule is still proposed,
 * that rule becomes active too (a new version): both directions take effect
 * together. POST .../decline records the refusal (the proposer's rule is
 * left as it is). One transaction each; audited at both institutions.
 */
static int
decide(struct app *app, struct http_request *req, struct http_response *resp, int accept)
{
	char keys[RECOG_KEYS_MAX][RECOG_KEY_MAX], subject[64];
	struct institution inst, from;
	struct recog_rule_rec r, mine;
	struct recog_mutual m;
	struct recog_rule *rule = NULL, *rev = NULL;
	const char *missing = NULL;
	int64_t id;
	int decided = 0, activated = 0, n, rc;
	json_t *o;

	if (admin_institution(app, req, resp, &inst) || rule_id_param(req, resp, &id))
		return 0;
	memset(&r, 0, sizeof(r));
	memset(&mine, 0, sizeof(mine));
	rc = store_recog_proposal_get(app->store, inst.id, id, &r, &m, &decided);
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no mutual agreement names this institution"
				       " with this id");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	if (decided && m.accepted) {
		recog_rule_rec_cleanup(&r);
		return problem_respond(resp, 409, NULL, "accepted already: the reverse is this"
				       " institution's own agreement now (change it there)");
	}
	if (!(rule = calloc(1, sizeof(*rule))) || !(rev = calloc(1, sizeof(*rev))))
		rc = TC_ENOMEM;
	if (rc == 0)
		rc = store_institution_get_id(app->store, r.institution_id, &from);
	if (rc == 0 && accept) {
		rc = reverse_of(app, &r, &from, &inst, rule, rev, &missing);
		if (rc == TC_EINVALID || missing) {
			char detail[200];

			snprintf(detail, sizeof(detail), missing ? "this institution has no course %s:"
				 " create it first, or record an agreement of its own"
				 : "this agreement has no reverse to accept", missing);
			problem_respond(resp, 409, NULL, detail);
			goto out;
		}
	}
	if (rc == 0)
		rc = store_begin(app->store);
	if (rc == 0 && accept) {
		/* the reverse, as the partner's own active rule */
		memset(&mine, 0, sizeof(mine));
		if ((rc = recognition_rule_json(rev, &mine.body)) == 0) {
			recognition_rule_keys(rev, keys, &n);
			mine.institution_id = inst.id;
			mine.source_id = from.id;
			mine.status = RECOG_ACTIVE;
			mine.created_at = (int64_t)time(NULL);
			mine.created_by = req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
			rc = store_recog_rule_add(app->store, &mine, keys, n);
		}
		/* the proposer's rule takes effect with it */
		if (rc == 0 && r.status == RECOG_PROPOSED) {
			rule->status = RECOG_ACTIVE;
			rc = new_version(app, req, &r, rule);
			activated = rc == 0;
		}
	}
	if (rc == 0) {
		memset(&m, 0, sizeof(m));
		m.rule_id = r.id;
		m.partner_id = inst.id;
		m.accepted = accept;
		m.rule_version = r.version;
		m.reverse_rule_id = accept ? mine.id : 0;
		m.decided_at = (int64_t)time(NULL);
		m.decided_by = req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
		rc = store_recog_mutual_record(app->store, &m);
	}
	if (rc == 0)
		rc = store_commit(app->store);
	else
		store_rollback(app->store);
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	snprintf(subject, sizeof(subject), "%lld", (long long)r.id);
	api_audit(app, req, inst.id, accept ? "agreement.accepted" : "agreement.declined", subject,
		  json_pack("{s:s, s:i, s:I}", "from", from.code, "version", m.rule_version,
			    "reverse", (json_int_t)m.reverse_rule_id));
	if (activated)
		api_audit(app, req, from.id, "agreement.activated", subject,
			  json_pack("{s:s, s:i}", "accepted_by", inst.code, "version", r.version));
	o = json_pack("{s:I, s:s}", "id", (json_int_t)r.id, "state", accept ? "accepted"
		      : "declined");
	if (o && accept) {
		struct recog_rule_rec got;

		if (store_recog_rule_get(app->store, inst.id, mine.id, &got) == 0) {
			json_object_set_new(o, "agreement", rule_view(&got, 0));
			recog_rule_rec_cleanup(&got);
		}
		if (store_recog_rule_get(app->store, from.id, r.id, &got) == 0) {
			json_object_set_new(o, "partner_agreement", rule_view(&got, 0));
			recog_rule_rec_cleanup(&got);
		}
	}
	api_reply_json(resp, accept ? 201 : 200, o);
out:
	recog_rule_rec_cleanup(&r);
	recog_rule_rec_cleanup(&mine);
	free(rule);
	free(rev);
	return 0;
}

static int
on_proposal_accept(struct app *app, struct http_request *req, struct http_response *resp)
{
	return decide(app, req, resp, 1);
}

static int
on_proposal_decline(struct app *app, struct http_request *req, struct http_response *resp)
{
	return decide(app, req, resp, 0);
}

const struct route api_recognition_routes[] = {
	{ HTTP_GET, "/api/v1/registry", on_registry, "registry", ROUTE_PUBLIC },
	{ HTTP_GET, "/api/v1/registry/{code}", on_registry_one, "registry_one", ROUTE_PUBLIC },
	{ HTTP_PUT, "/api/v1/courses/{uid}/field", on_course_field, "course_field" },
	{ HTTP_GET, "/api/v1/institutions/{code}/agreements", on_agreements_list,
	  "agreements_list" },
	{ HTTP_POST, "/api/v1/institutions/{code}/agreements", on_agreement_create,
	  "agreement_create" },
	{ HTTP_GET, "/api/v1/institutions/{code}/agreements/{id}", on_agreement_get,
	  "agreement_get" },
	{ HTTP_PUT, "/api/v1/institutions/{code}/agreements/{id}", on_agreement_update,
	  "agreement_update" },
	{ HTTP_DELETE, "/api/v1/institutions/{code}/agreements/{id}", on_agreement_expire,
	  "agreement_expire" },
	{ HTTP_GET, "/api/v1/institutions/{code}/agreement-proposals", on_proposals_list,
	  "agreement_proposals" },
	{ HTTP_POST, "/api/v1/institutions/{code}/agreement-proposals/{id}/accept",
	  on_proposal_accept, "agreement_proposal_accept" },
	{ HTTP_POST, "/api/v1/institutions/{code}/agreement-proposals/{id}/decline",
	  on_proposal_decline, "agreement_proposal_decline" },
};
const size_t api_recognition_routes_count =
	sizeof(api_recognition_routes) / sizeof(api_recognition_routes[0]);
