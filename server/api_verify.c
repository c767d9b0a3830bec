/*
 * api_verify.c - verifying credentials and presentations over HTTP (the
 * routes are in api_verify.h). The checks and their words are
 * courses/verify.c's; here are the lookups that feed it from the store:
 * the institutions' keys with their validity, each institution's signed
 * status list credential, the log's inclusion proofs under the log key.
 */
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
#include "server/problem.h"
#include "server/tlog.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/recognition.h"

/* ---- the lookups ------------------------------------------------------------------ */

/* The registry's key DID (storage/recognition.h: one indexed look-up) and
 * its institution. */
static int
op_issuer_key(void *ctx, const char *did, struct verify_key *out)
{
	struct app *app = ctx;
	struct institution inst;
	struct inst_key k;
	int rc;

	if ((rc = store_registry_key_by_did(app->store, did, &k)) ||
	    (rc = store_institution_get_id(app->store, k.institution_id, &inst)))
		return rc;
	snprintf(out->did, sizeof(out->did), "%s", k.did);
	out->valid_from = k.valid_from;
	out->valid_until = k.valid_until;
	snprintf(out->name, sizeof(out->name), "%s", inst.name);
	snprintf(out->code, sizeof(out->code), "%s", inst.code);
	out->ref = inst.id;
	return 0;
}

/* The institution's own list, signed here with its current key: MADE_HERE. */
static int
op_status_list(void *ctx, const struct verify_key *issuer, const char *url, json_t **list,
	       int *made_here)
{
	char *text = NULL;
	int rc;

	(void)url;	/* the verifier checks that the list is the one named */
	*list = NULL;
	if (!issuer)
		return TC_ENOTFOUND;
	if ((rc = revocation_list_text(ctx, issuer->ref, &text)))
		return rc;
	*list = json_loads(text, 0, NULL);
	free(text);
	*made_here = 1;
	return *list ? 0 : TC_ENOMEM;	/* it is JSON we made */
}

static int
op_revocation_detail(void *ctx, const struct verify_key *issuer, const char *cred_id,
		     int64_t index, char *detail, size_t size)
{
	struct app *app = ctx;
	struct credential_rec c = { 0 };
	int rc;

	if (!issuer || !cred_id)
		return TC_ENOTFOUND;
	rc = store_credential_get(app->store, cred_id, &c);
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
op_log_proof(void *ctx, const char *hash, json_t **proof, char *why, size_t whysize)
{
	int rc = api_tlog_proof(ctx, hash, 0, proof, why, whysize);

	return rc == TC_EBUSY ? TC_ENOTFOUND : rc;
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

static int
reply_credential(struct app *app, struct http_response *resp, json_t *cred, int vcapi)
{
	struct verify_ops ops;
	enum verify_state verdict;
	json_t *checks = json_array(), *o;
	int rc;

	if (!checks)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	server_ops(app, &ops);
	if ((rc = verify_credential(cred, &ops, checks, &verdict))) {
		json_decref(checks);
		return problem_respond_err(resp, rc, NULL);
	}
	if (vcapi)
		o = vcapi_result(verdict == VERIFY_PASS, checks, NULL, "details");
	else
		o = json_pack("{s:b, s:O, s:o}", "verified", verdict == VERIFY_PASS, "id",
			      json_object_get(cred, "id") ? json_object_get(cred, "id") :
			      json_null(), "checks", checks);
	if (!o)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	return api_reply_json(resp, 200, o);
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
	if (verify_is_credential(cred))
		reply_credential(app, resp, cred, 0);
	else if (!cred && verify_is_presentation(vp))
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
	else if (read_options(json_object_get(body, "options"), &challenge, &domain, resp) == 0)
		reply_credential(app, resp, cred, 1);
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
