/*
 * api_credentials.c - issued credentials over HTTP.
 *
 *   GET  /api/v1/credentials          the signed-in person's own credentials
 *   GET  /api/v1/credentials/{uid}    the signed credential (its learner, or
 *                                     an admin of the issuing institution);
 *                                     ?download=1 adds Content-Disposition
 *   GET  /api/v1/credentials/{uid}/bundle[?size=N]   the same people: the
 *                                     credential with its log inclusion
 *                                     proof, checkpoint and log key, for
 *                                     `tinchi verify` offline
 *
 * Verification (POST /api/v1/credentials/verify) is in api_verify.c.
 *
 * The credential JSON is the JCS text stored at issuance, byte for byte,
 * served as application/json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/authz.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "server/api_credentials.h"
#include "server/api_tlog.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/problem.h"
#include "server/tlog.h"
#include "storage/credentials.h"
#include "storage/identity.h"

static json_t *
summary_json(const struct credential_rec *c, json_t *cred)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:o, s:o}", "uid", c->uid,
			      "status_index", (json_int_t)c->status_index, "hash", c->hash,
			      "issued_at", api_time_json(c->issued_at),
			      "revoked_at", c->revoked_at ? api_time_json(c->revoked_at) :
			      json_null());

	if (o && cred)
		json_object_set_new(o, "credential", cred);
	else
		json_decref(cred);
	return o;
}

static int
add_mine(const struct credential_rec *c, void *arg)
{
	json_t *cred = json_loads(c->json, 0, NULL), *o;

	if (!cred)
		return TC_EDB;	/* the store holds only JSON it wrote */
	o = summary_json(c, cred);
	return o && json_array_append_new(arg, o) == 0 ? 0 : TC_ENOMEM;
}

static int
on_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	json_t *list;
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 0;
	if (!(list = json_array()))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	rc = store_credentials_each(app->store, req->actor.person_id, add_mine, list);
	if (rc) {
		json_decref(list);
		return problem_respond_err(resp, rc, NULL);
	}
	return api_reply_json(resp, 200, json_pack("{s:o}", "credentials", list));
}

/* The credential {uid} into *C (C->json to be freed) when the signed-in
 * person may see it: its learner, or an admin of the issuing institution.
 * 1 when not (the answer is made), else 0. */
static int
visible_credential(struct app *app, struct http_request *req, struct http_response *resp,
		   struct credential_rec *c)
{
	const char *uid = http_request_param(req, "uid");
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 1;
	rc = uid ? store_credential_get(app->store, uid, c) : TC_ENOTFOUND;
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such credential"), 1;
	if (rc)
		return problem_respond_err(resp, rc, NULL), 1;
	if (c->person_id != req->actor.person_id &&
	    !actor_has_role(&req->actor, ROLE_ADMIN, c->institution_id)) {
		free(c->json);
		c->json = NULL;
		return problem_respond(resp, 403, NULL, "a credential is shown to its learner and"
				       " to the issuing institution's admins"), 1;
	}
	return 0;
}

static int
on_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *uid = http_request_param(req, "uid");
	struct credential_rec c = { 0 };
	char dl[8], disp[CRED_UID_MAX + 48];
	int rc;

	if (visible_credential(app, req, resp, &c))
		return 0;
	dynbuf_reset(&resp->body);
	rc = dynbuf_puts(&resp->body, c.json);
	free(c.json);
	if (rc)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	resp->status = 200;
	resp->content_type = "application/json";
	/* ?download=1: saved as a file, named after the credential's UUID */
	if (api_query(req, "download", dl, sizeof(dl)) == 0 && strcmp(dl, "0") != 0) {
		snprintf(disp, sizeof(disp), "attachment; filename=\"credential-%s.json\"",
			 strncmp(uid, "urn:uuid:", 9) == 0 ? uid + 9 : uid);
		if (http_response_header(resp, "content-disposition", disp))
			return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	return 0;
}

/*
 * GET /api/v1/credentials/{uid}/bundle[?size=N]: what `tinchi verify` needs
 * offline, for the same people as on_get: the credential, its inclusion
 * proof in the checkpoint of N leaves (default the latest) as /log/proof
 * gives it (null, with log_detail saying why, while it is not yet in
 * one), that checkpoint and the log's verifier key.
 */
static int
on_bundle(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct credential_rec c = { 0 };
	char hash[80], why[256] = "";
	int64_t size = 0;
	json_t *cred = NULL, *proof = NULL, *o;
	int rc;

	if (visible_credential(app, req, resp, &c))
		return 0;
	if (api_query_int(req, "size", 0, 1, INT64_MAX, &size) != 0) {
		free(c.json);
		return problem_respond(resp, 400, NULL, "size must be a whole number from 1,"
				       " the size of a checkpoint");
	}
	cred = json_loads(c.json, 0, NULL);
	free(c.json);
	if (!cred)
		return problem_respond_err(resp, TC_EDB, NULL);	/* the store holds only JSON it wrote */
	snprintf(hash, sizeof(hash), "sha256:%s", c.hash);
	rc = api_tlog_proof(app, hash, (uint64_t)size, &proof, why, sizeof(why));
	if (rc && rc != TC_ENOTFOUND && rc != TC_EBUSY) {
		json_decref(cred);
		return problem_respond_err(resp, rc, NULL);
	}
	o = json_pack("{s:o, s:o, s:O, s:s}", "credential", cred,
		      "log", proof ? proof : json_null(),
		      "checkpoint", proof ? json_object_get(proof, "checkpoint") : json_null(),
		      "log_key", tlog_vkey(app->tlog));
	if (o && !proof && json_object_set_new(o, "log_detail", json_string(why))) {
		json_decref(o);
		o = NULL;
	}
	if (!o)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	return api_reply_json(resp, 200, o);
}

const struct route api_credentials_routes[] = {
	{ HTTP_GET, "/api/v1/credentials", on_list, "credentials_list" },
	{ HTTP_GET, "/api/v1/credentials/{uid}", on_get, "credentials_get" },
	{ HTTP_GET, "/api/v1/credentials/{uid}/bundle", on_bundle, "credentials_bundle" },
};
const size_t api_credentials_routes_count =
	sizeof(api_credentials_routes) / sizeof(api_credentials_routes[0]);
