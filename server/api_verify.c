/*
 * api_verify.c - verifying credentials and presentations over HTTP (the
 * routes are in api_verify.h). The checks and their words are
 * courses/verify.c's; here are the lookups that feed it from the store:
 * the institutions' keys with their validity, each institution's signed
 * status list credential, the log's inclusion proofs under the log key.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/verify.h"
#include "server/api_revocation.h"
#include "server/api_tlog.h"
#include "server/api_util.h"
#include "server/api_verify.h"
#include "server/app.h"
#include "server/config.h"
#include "server/problem.h"
#include "server/tlog.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/recognition.h"
#include "storage/store.h"

/* ---- the lookups ------------------------------------------------------------------ */

/* The registry's key DID (storage/recognition.h: one indexed look-up) and
 * its institution. */
static int
issuer_key_in(struct store *st, const char *did, struct verify_key *out)
{
	struct institution inst;
	struct inst_key k;
	int rc;

	if ((rc = store_registry_key_by_did(st, did, &k)) ||
	    (rc = store_institution_get_id(st, k.institution_id, &inst)))
		return rc;
	snprintf(out->did, sizeof(out->did), "%s", k.did);
	out->valid_from = k.valid_from;
	out->valid_until = k.valid_until;
	snprintf(out->name, sizeof(out->name), "%s", inst.name);
	snprintf(out->code, sizeof(out->code), "%s", inst.code);
	out->ref = inst.id;
	return 0;
}

static int
op_issuer_key(void *ctx, const char *did, struct verify_key *out)
{
	return issuer_key_in(((struct app *)ctx)->store, did, out);
}

/* The institution's own list, signed here with its current key: MADE_HERE. */
static int
op_status_list(void *ctx, const struct verify_key *issuer, const char *url, json_t **list,
	       int *made_here)
{
	int rc;

	(void)url;	/* the verifier checks that the list is the one named */
	*list = NULL;
	if (!issuer)
		return TC_ENOTFOUND;
	if ((rc = revocation_list_doc(ctx, issuer->ref, list)))
		return rc;
	*made_here = 1;
	return 0;
}

static int
revocation_detail_in(struct store *st, const struct verify_key *issuer, const char *cred_id,
		     int64_t index, char *detail, size_t size)
{
	struct credential_rec c = { 0 };
	int rc;

	if (!issuer || !cred_id)
		return TC_ENOTFOUND;
	rc = store_credential_get(st, cred_id, &c);
	if (rc == 0 && (c.institution_id != issuer->ref || c.status_index != index ||
			!c.revoked_at))
		rc = TC_ENOTFOUND;
	if (rc == 0) {
		char when[32];

		api_time(c.revoked_at, when);
		snprintf(detail, size, "revoked on %.10s: %s", when, c.revoke_reason);
	}
	free(c.json);
	return rc;
}

static int
op_revocation_detail(void *ctx, const struct verify_key *issuer, const char *cred_id,
		     int64_t index, char *detail, size_t size)
{
	return revocation_detail_in(((struct app *)ctx)->store, issuer, cred_id, index, detail,
				    size);
}

static int
op_log_proof(void *ctx, const char *hash, json_t **proof, char *why, size_t whysize)
{
	int rc = api_tlog_proof(ctx, hash, 0, proof, why, whysize);

	return rc == TC_EBUSY ? TC_ENOTFOUND : rc;
}

/* ---- what verifying keeps ------------------------------------------------------- */

#define IDLE_STORES 4

/* The checked checkpoint and the decoded status lists (courses/verify.h),
 * and the worker threads' own store connections, idle ones kept open. */
struct verify_keep {
	struct verify_cache *cache;
	pthread_mutex_t mu;
	struct store *idle[IDLE_STORES];
	size_t nidle;
};

/* APP's verify state, made on first use (service thread): NULL when it
 * cannot be made (verifying then runs inline, without the cache). */
static struct verify_keep *
verify_keep_get(struct app *app)
{
	struct verify_keep *v = app->verify;

	if (v)
		return v;
	if (!(v = calloc(1, sizeof(*v))))
		return NULL;
	if (pthread_mutex_init(&v->mu, NULL) != 0) {
		free(v);
		return NULL;
	}
	if (verify_cache_new(&v->cache) != 0) {
		pthread_mutex_destroy(&v->mu);
		free(v);
		return NULL;
	}
	return app->verify = v;
}

void
api_verify_cleanup(struct app *app)
{
	struct verify_keep *v = app->verify;

	if (!v)
		return;
	for (size_t i = 0; i < v->nidle; i++)
		store_close(v->idle[i]);
	verify_cache_free(v->cache);
	pthread_mutex_destroy(&v->mu);
	free(v);
	app->verify = NULL;
}

/* On a worker thread: a store connection of its own (an idle one, or a new
 * one), or NULL. */
static struct store *
store_take(struct app *app)
{
	struct verify_keep *v = app->verify;
	struct store *st = NULL;

	pthread_mutex_lock(&v->mu);
	if (v->nidle)
		st = v->idle[--v->nidle];
	pthread_mutex_unlock(&v->mu);
	if (!st && store_open(app->cfg->data_dir, &st) != 0)
		return NULL;
	return st;
}

static void
store_give(struct app *app, struct store *st)
{
	struct verify_keep *v = app->verify;

	pthread_mutex_lock(&v->mu);
	if (v->nidle < IDLE_STORES) {
		v->idle[v->nidle++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&v->mu);
	store_close(st);
}

static void
server_ops(struct app *app, struct verify_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->ctx = app;
	ops->now = (int64_t)time(NULL);
	ops->issuer_key = op_issuer_key;
	ops->status_list = op_status_list;
	ops->revocation_detail = op_revocation_detail;
	ops->log_proof = op_log_proof;
	ops->log_keys = tlog_verifier(app->tlog);
	ops->nlog_keys = 1;
	ops->cache = verify_keep_get(app) ? app->verify->cache : NULL;
}

/* ---- the request bodies ----------------------------------------------------------- */

/* CHALLENGE and DOMAIN from OPTIONS (may be NULL): 0, or 1 when they are
 * not strings (a 400 has been answered). */
static int
read_options(json_t *options, const char **challenge, const char **domain,
	     struct http_response *resp)
{
	json_t *c = json_object_get(options, "challenge"), *d = json_object_get(options, "domain");

	*challenge = json_string_value(c);
	*domain = json_string_value(d);
	if ((options && !json_is_object(options)) || (c && !*challenge) || (d && !*domain)) {
		problem_respond(resp, 400, NULL, "options must be an object; its challenge and"
				" domain, when given, strings");
		return 1;
	}
	return 0;
}

/* The names of CHECKS into a new array *NAMES (those made), their failures
 * as "check: detail" into ERRORS and what was not checked into WARNINGS. */
static int
vcapi_lists(json_t *checks, json_t *names, json_t *errors, json_t *warnings)
{
	size_t i;
	json_t *c;

	json_array_foreach(checks, i, c) {
		const char *name = json_string_value(json_object_get(c, "check"));
		const char *detail = json_string_value(json_object_get(c, "detail"));
		json_t *line = json_sprintf("%s: %s", name, detail);

		if (!line)
			return TC_ENOMEM;
		if (json_is_true(json_object_get(c, "unchecked"))) {
			if (json_array_append_new(warnings, line))
				return TC_ENOMEM;
			continue;
		}
		if (json_array_append_new(names, json_string(name)) ||
		    (!json_is_true(json_object_get(c, "ok")) &&
		     json_array_append(errors, line)) ) {
			json_decref(line);
			return TC_ENOMEM;
		}
		json_decref(line);
	}
	return 0;
}

/* {"verified", "checks": [names], "warnings", "errors"} for CHECKS, with
 * CHECKS itself under DETAILS_KEY; takes CHECKS over. */
static json_t *
vcapi_result(int verified, json_t *checks, json_t *more_warnings, const char *details_key)
{
	json_t *names = json_array(), *errors = json_array(), *warnings = json_array(), *o = NULL;
	size_t i;
	json_t *w;

	if (names && errors && warnings && vcapi_lists(checks, names, errors, warnings) == 0) {
		json_array_foreach(more_warnings, i, w)
			json_array_append(warnings, w);
		o = json_pack("{s:b, s:o, s:o, s:o, s:o}", "verified", verified, "checks", names,
			      "warnings", warnings, "errors", errors, details_key, checks);
		return o;
	}
	json_decref(names);
	json_decref(errors);
	json_decref(warnings);
	json_decref(checks);
	return NULL;
}

int
credentials_verify(struct app *app, json_t *cred, json_t **out)
{
	struct verify_ops ops;
	enum verify_state verdict;
	json_t *checks = json_array();
	int rc;

	*out = NULL;
	if (!checks)
		return TC_ENOMEM;
	server_ops(app, &ops);
	if ((rc = verify_credential(cred, &ops, checks, &verdict))) {
		json_decref(checks);
		return rc;
	}
	*out = json_pack("{s:b, s:O, s:o}", "verified", verdict == VERIFY_PASS, "id",
			 json_object_get(cred, "id") ? json_object_get(cred, "id") : json_null(),
			 "checks", checks);
	return *out ? 0 : TC_ENOMEM;
}

/* ---- the routes ------------------------------------------------------------------- */

/* Verifies CRED with OPS: 0 and *OUT the answer's body (the VC API's shape
 * when VCAPI), or an error. */
static int
credential_result(json_t *cred, const struct verify_ops *ops, int vcapi, json_t **out)
{
	enum verify_state verdict;
	json_t *checks = json_array();
	int rc;

	*out = NULL;
	if (!checks)
		return TC_ENOMEM;
	if ((rc = verify_credential(cred, ops, checks, &verdict))) {
		json_decref(checks);
		return rc;
	}
	if (vcapi)
		*out = vcapi_result(verdict == VERIFY_PASS, checks, NULL, "details");
	else
		*out = json_pack("{s:b, s:O, s:o}", "verified", verdict == VERIFY_PASS, "id",
				 json_object_get(cred, "id") ? json_object_get(cred, "id") :
				 json_null(), "checks", checks);
	return *out ? 0 : TC_ENOMEM;
}

static int
reply_credential(struct app *app, struct http_response *resp, json_t *cred, int vcapi)
{
	struct verify_ops ops;
	json_t *o = NULL;
	int rc;

	server_ops(app, &ops);
	if ((rc = credential_result(cred, &ops, vcapi, &o)))
		return problem_respond_err(resp, rc, NULL);
	return api_reply_json(resp, 200, o);
}

/* ---- a credential verified on the worker pool ------------------------------------ */

/*
 * The signature, the JCS hash and the proofs are checked on a worker thread
 * with its own store connection, so that both cores verify and the event
 * loop only parses and answers. The issuer's status list credential is made
 * (signed, when the bits changed) by api_revocation.c on the service thread
 * only: it is fetched there first, for the issuer the credential names, and
 * handed to the job. Should the worker find another issuer (a key changed
 * in between) or no store, the verification runs again inline.
 */
struct verify_job {
	struct http_deferred d;
	struct app *app;
	json_t *body;			/* owned; CRED is inside */
	json_t *cred;
	int vcapi;
	int64_t list_inst;		/* the institution LIST belongs to */
	json_t *list;			/* its status list credential, owned */
	int again;			/* verify inline in finish() */
	int rc;
	json_t *out;			/* the answer's body, owned */
};

struct worker_ctx {
	struct verify_job *j;
	struct store *st;
};

static int
w_issuer_key(void *ctx, const char *did, struct verify_key *out)
{
	return issuer_key_in(((struct worker_ctx *)ctx)->st, did, out);
}

static int
w_status_list(void *ctx, const struct verify_key *issuer, const char *url, json_t **list,
	      int *made_here)
{
	struct verify_job *j = ((struct worker_ctx *)ctx)->j;

	(void)url;
	*list = NULL;
	if (!issuer)
		return TC_ENOTFOUND;
	if (!j->list || issuer->ref != j->list_inst) {
		j->again = 1;		/* not the list fetched: ask the service thread */
		return TC_EBUSY;
	}
	*list = json_incref(j->list);
	*made_here = 1;
	return 0;
}

static int
w_revocation_detail(void *ctx, const struct verify_key *issuer, const char *cred_id,
		    int64_t index, char *detail, size_t size)
{
	return revocation_detail_in(((struct worker_ctx *)ctx)->st, issuer, cred_id, index, detail,
				    size);
}

static int
w_log_proof(void *ctx, const char *hash, json_t **proof, char *why, size_t whysize)
{
	int rc = api_tlog_proof_store(((struct worker_ctx *)ctx)->st, hash, 0, proof, why,
				      whysize);

	return rc == TC_EBUSY ? TC_ENOTFOUND : rc;
}

static void
verify_run(struct work *w)
{
	struct verify_job *j = (struct verify_job *)w;
	struct worker_ctx wc = { j, NULL };
	struct verify_ops ops;

	if (!(wc.st = store_take(j->app))) {
		j->again = 1;
		return;
	}
	memset(&ops, 0, sizeof(ops));
	ops.ctx = &wc;
	ops.now = (int64_t)time(NULL);
	ops.issuer_key = w_issuer_key;
	ops.status_list = w_status_list;
	ops.revocation_detail = w_revocation_detail;
	ops.log_proof = w_log_proof;
	ops.log_keys = tlog_verifier(j->app->tlog);
	ops.nlog_keys = 1;
	ops.cache = j->app->verify->cache;
	j->rc = credential_result(j->cred, &ops, j->vcapi, &j->out);
	store_give(j->app, wc.st);
	if (j->again) {
		json_decref(j->out);
		j->out = NULL;
	}
}

static void
verify_finish(struct http_deferred *d, struct http_response *resp)
{
	struct verify_job *j = (struct verify_job *)d;

	if (resp) {
		if (j->again)
			reply_credential(j->app, resp, j->cred, j->vcapi);
		else if (j->rc)
			problem_respond_err(resp, j->rc, NULL);
		else {
			api_reply_json(resp, 200, j->out);
			j->out = NULL;
		}
	}
	json_decref(j->out);
	json_decref(j->list);
	json_decref(j->body);
	free(j);
}

/* Answers the verification of CRED (inside BODY, taken over) now or from
 * the worker pool. */
static void
verify_deferred(struct app *app, struct http_request *req, struct http_response *resp,
		json_t *body, json_t *cred, int vcapi)
{
	const json_t *iss = json_object_get(cred, "issuer");
	const char *did = json_is_string(iss) ? json_string_value(iss) :
			  json_string_value(json_object_get(iss, "id"));
	struct verify_job *j = NULL;
	struct verify_key key;

	if (!verify_keep_get(app) || !(j = calloc(1, sizeof(*j))))
		goto run_here;
	j->app = app;
	j->body = body;
	j->cred = cred;
	j->vcapi = vcapi;
	/* the issuer's status list, as op_status_list would fetch it */
	memset(&key, 0, sizeof(key));
	if (did && !strchr(did, '#') && op_issuer_key(app, did, &key) == 0) {
		if (revocation_list_doc(app, key.ref, &j->list) != 0)
			goto run_here;
		j->list_inst = key.ref;
	}
	j->d.work.run = verify_run;
	j->d.finish = verify_finish;
	req->deferred = &j->d;
	return;
run_here:
	if (j)
		json_decref(j->list);
	free(j);
	reply_credential(app, resp, cred, vcapi);
	json_decref(body);
}

static json_t *
vcapi_presentation(json_t *r)
{
	json_t *creds = json_object_get(r, "credentials"), *out = json_array(), *c, *o;
	size_t i;

	if (!out)
		return NULL;
	json_array_foreach(creds, i, c) {
		json_t *one = vcapi_result(json_is_true(json_object_get(c, "verified")),
					   json_incref(json_object_get(c, "checks")), NULL,
					   "details");

		if (!one || json_object_set(one, "id", json_object_get(c, "id") ?
					    json_object_get(c, "id") : json_null()) ||
		    json_array_append_new(out, one)) {
			json_decref(out);
			return NULL;
		}
	}
	o = vcapi_result(json_is_true(json_object_get(r, "verified")),
			 json_incref(json_object_get(r, "checks")), json_object_get(r, "warnings"),
			 "presentationResult");
	if (!o || json_object_set_new(o, "credentialResults", out)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
reply_presentation(struct app *app, struct http_response *resp, json_t *vp, json_t *options,
		   int vcapi)
{
	struct verify_ops ops;
	enum verify_state verdict;
	const char *challenge, *domain;
	json_t *r = NULL, *o;
	int rc;

	if (read_options(options, &challenge, &domain, resp))
		return 0;
	server_ops(app, &ops);
	if ((rc = verify_presentation(vp, &ops, challenge, domain, &r, &verdict)))
		return problem_respond_err(resp, rc, NULL);
	if (!vcapi)
		return api_reply_json(resp, 200, r);
	o = vcapi_presentation(r);
	json_decref(r);
	if (!o)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	return api_reply_json(resp, 200, o);
}

static int
on_verify(struct app *app, struct http_request *req, struct http_response *resp)
{
	json_t *body = NULL, *cred, *vp;

	if (api_read_json(req, resp, &body))
		return 0;
	cred = json_object_get(body, "credential");
	vp = json_object_get(body, "presentation");
	if (verify_is_credential(cred)) {
		verify_deferred(app, req, resp, body, cred, 0);
		return 0;
	} else if (!cred && verify_is_presentation(vp))
		reply_presentation(app, resp, vp, json_object_get(body, "options"), 0);
	else
		problem_respond(resp, 400, NULL, "the body must be {\"credential\": {...}} holding"
				" a verifiable credential (an object with credentialSubject), or"
				" {\"presentation\": {...}} holding a VerifiablePresentation");
	json_decref(body);
	return 0;
}

static int
on_vcapi_credential(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *challenge, *domain;
	json_t *body = NULL, *cred;

	if (api_read_json(req, resp, &body))
		return 0;
	cred = json_object_get(body, "verifiableCredential");
	if (!verify_is_credential(cred))
		problem_respond(resp, 400, NULL, "the body must be {\"verifiableCredential\":"
				" {...}, \"options\": {}} holding a verifiable credential (an object"
				" with credentialSubject)");
	else if (read_options(json_object_get(body, "options"), &challenge, &domain, resp) == 0) {
		verify_deferred(app, req, resp, body, cred, 1);
		return 0;
	}
	json_decref(body);
	return 0;
}

static int
on_vcapi_presentation(struct app *app, struct http_request *req, struct http_response *resp)
{
	json_t *body = NULL, *vp;

	if (api_read_json(req, resp, &body))
		return 0;
	vp = json_object_get(body, "verifiablePresentation");
	if (!verify_is_presentation(vp))
		problem_respond(resp, 400, NULL, "the body must be {\"verifiablePresentation\":"
				" {...}, \"options\": {\"challenge\", \"domain\"}} holding a"
				" VerifiablePresentation");
	else
		reply_presentation(app, resp, vp, json_object_get(body, "options"), 1);
	json_decref(body);
	return 0;
}

const struct route api_verify_routes[] = {
	{ HTTP_POST, "/api/v1/credentials/verify", on_verify, "credentials_verify" },
	{ HTTP_POST, "/credentials/verify", on_vcapi_credential, "vcapi_verify" },
	{ HTTP_POST, "/presentations/verify", on_vcapi_presentation, "vcapi_presentation_verify" },
};
const size_t api_verify_routes_count = sizeof(api_verify_routes) / sizeof(api_verify_routes[0]);
