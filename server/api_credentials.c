/*
 * api_credentials.c - issued credentials over HTTP.
 *
 *   GET  /api/v1/credentials          the signed-in person's own credentials
 *   GET  /api/v1/credentials/{uid}    the signed credential (its learner, or
 *                                     an admin of the issuing institution)
 *   POST /api/v1/credentials/verify   {"credential": {...}}: every check
 *                                     (schema, proof, issuer, status,
 *                                     dates, log with its inclusion proof)
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
#include "courses/credential.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/jcs.h"
#include "courses/merkle.h"
#include "courses/signednote.h"
#include "server/api_credentials.h"
#include "server/api_revocation.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/issuing.h"
#include "server/problem.h"
#include "server/tlog.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/tlog.h"

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

static int
on_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *uid = http_request_param(req, "uid");
	struct credential_rec c = { 0 };
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 0;
	rc = uid ? store_credential_get(app->store, uid, &c) : TC_ENOTFOUND;
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such credential");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	if (c.person_id != req->actor.person_id &&
	    !actor_has_role(&req->actor, ROLE_ADMIN, c.institution_id)) {
		free(c.json);
		return problem_respond(resp, 403, NULL, "a credential is shown to its learner and"
				       " to the issuing institution's admins");
	}
	dynbuf_reset(&resp->body);
	rc = dynbuf_puts(&resp->body, c.json);
	free(c.json);
	if (rc)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	resp->status = 200;
	resp->content_type = "application/json";
	return 0;
}

/* ---- verification --------------------------------------------------------------- */

static int
add_check(json_t *checks, const char *name, int ok, const char *detail)
{
	json_t *o = json_pack("{s:s, s:b, s:s}", "check", name, "ok", ok, "detail", detail);

	return o && json_array_append_new(checks, o) == 0 ? 0 : TC_ENOMEM;
}

static int
has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* The shape a credential must have; NULL when it has it, else the reason. */
static const char *
shape_problem(json_t *cred)
{
	json_t *ctx = json_object_get(cred, "@context"), *type = json_object_get(cred, "type");
	json_t *issuer = json_object_get(cred, "issuer");
	json_t *subj = json_object_get(cred, "credentialSubject");

	if (!json_is_array(ctx) || json_array_size(ctx) < 2 ||
	    !json_is_string(json_array_get(ctx, 0)) ||
	    strcmp(json_string_value(json_array_get(ctx, 0)), CREDENTIAL_CONTEXT_VC) != 0 ||
	    !has_string(ctx, CREDENTIAL_CONTEXT_OB))
		return "@context must start with the VC 2.0 context and include the Open Badges 3.0"
		       " context";
	if (!json_is_array(type) || !has_string(type, "VerifiableCredential") ||
	    !(has_string(type, "OpenBadgeCredential") || has_string(type, "AchievementCredential")))
		return "type must name VerifiableCredential and OpenBadgeCredential";
	if (!json_is_string(json_object_get(cred, "id")))
		return "id is missing";
	if (!json_is_object(issuer) || !json_is_string(json_object_get(issuer, "id")))
		return "issuer must be a profile with an id";
	if (!json_is_string(json_object_get(cred, "validFrom")))
		return "validFrom is missing";
	if (!json_is_object(subj) || !json_is_object(json_object_get(subj, "achievement")))
		return "credentialSubject with an achievement is missing";
	if (!json_is_array(json_object_get(cred, "proof")))
		return "proof must be an array";
	return NULL;
}

struct key_find {
	const char *did;
	struct app *app;
	struct inst_key key;
	struct institution inst;
	int found;
};

static int
key_match(const struct inst_key *k, void *arg)
{
	struct key_find *f = arg;

	if (strcmp(k->did, f->did) == 0) {
		f->key = *k;
		f->found = 1;
	}
	return 0;
}

static int
inst_keys(const struct institution *inst, void *arg)
{
	struct key_find *f = arg;
	int rc = store_key_each(f->app->store, inst->id, key_match, f);

	if (rc == 0 && f->found) {
		f->inst = *inst;
		return 1;	/* stop */
	}
	return rc;
}

static int
keep_entry(uint64_t index, const char *entry, const unsigned char leaf_hash[MERKLE_HASH_LEN],
	   void *arg)
{
	(void)index;
	(void)leaf_hash;
	*(char **)arg = strdup(entry);
	return *(char **)arg ? 0 : TC_ENOMEM;
}

static json_t *
b64_json(const unsigned char *h, size_t n)
{
	char b[96];

	return b64_encode(h, n, b, sizeof(b)) == 0 ? json_string(b) : NULL;
}

/*
 * The "log" check: the credential's hash (sha256 of its JCS form) is a
 * leaf of the transparency log covered by the latest signed checkpoint;
 * the inclusion proof is built, and verified here against the root of
 * that checkpoint's note opened with the log key. *OK and DETAIL say the
 * outcome; *RESULT (on success) the proof. Only storage failures return.
 */
static int
log_check(struct app *app, json_t *cred, int *ok, char *detail, size_t dsize,
	  json_t **result)
{
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
	struct tlog_checkpoint *cp = NULL;
	struct checkpoint parsed;
	struct merkle_source src;
	struct dynbuf b;
	char hex[SHA256_HEX_LEN + 1], subject[80], *entry = NULL;
	uint64_t idx = 0;
	size_t n = 0, text_len = 0;
	json_t *hashes;
	int rc;

	*ok = 0;
	*result = NULL;
	dynbuf_init(&b, 1 << 24);
	rc = jcs_canonicalize(cred, &b);
	if (rc == 0 && b.len == 0)
		rc = TC_ENOMEM;
	if (rc) {
		dynbuf_cleanup(&b);
		if (rc == TC_ENOMEM)
			return rc;
		snprintf(detail, dsize, "the credential has no canonical (JCS) form");
		return 0;
	}
	sha256_hex(b.data, b.len, hex);
	dynbuf_cleanup(&b);
	snprintf(subject, sizeof(subject), "sha256:%s", hex);
	if (!(cp = calloc(1, sizeof(*cp))))
		return TC_ENOMEM;
	rc = store_tlog_checkpoint_latest(app->store, cp);
	if (rc == TC_ENOTFOUND) {
		snprintf(detail, dsize, "%s is not yet in a signed checkpoint (the log has"
			 " none yet)", subject);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	rc = store_tlog_find(app->store, subject, &idx);
	if (rc == TC_ENOTFOUND) {
		snprintf(detail, dsize, "%s is not in the transparency log", subject);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	if (idx >= cp->size) {
		snprintf(detail, dsize, "%s is leaf %llu, not yet in a signed checkpoint (the"
			 " latest covers %llu leaves; the next follows within seconds)", subject,
			 (unsigned long long)idx, (unsigned long long)cp->size);
		goto out;
	}
	store_tlog_source(app->store, &src);
	if ((rc = merkle_inclusion_proof(&src, idx, cp->size, proof, &n)) ||
	    (rc = store_tlog_leaves_each(app->store, idx, idx + 1, keep_entry, &entry)))
		goto out;
	if (!entry) {
		rc = TC_EDB;
		goto out;
	}
	merkle_leaf_hash(entry, strlen(entry), leaf);
	/* verify what is served: the note under the log key, its root */
	if (signednote_open(cp->note, strlen(cp->note), tlog_verifier(app->tlog), 1,
			    &text_len, NULL) != 0 ||
	    checkpoint_parse(cp->note, text_len, &parsed) != 0 || parsed.size != cp->size) {
		snprintf(detail, dsize, "the latest checkpoint's note does not verify under the"
			 " log key");
		goto out;
	}
	if (merkle_check_inclusion(idx, cp->size, leaf, proof, n, parsed.root) != 0) {
		snprintf(detail, dsize, "the inclusion proof of leaf %llu does not lead to the"
			 " signed root of size %llu", (unsigned long long)idx,
			 (unsigned long long)cp->size);
		goto out;
	}
	if (!(hashes = json_array())) {
		rc = TC_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(hashes, b64_json(proof[i], MERKLE_HASH_LEN))) {
			json_decref(hashes);
			rc = TC_ENOMEM;
			goto out;
		}
	*result = json_pack("{s:s, s:I, s:I, s:s, s:o, s:s}", "hash", subject,
			    "index", (json_int_t)idx, "size", (json_int_t)cp->size,
			    "entry", entry, "proof", hashes, "checkpoint", cp->note);
	if (!*result) {
		rc = TC_ENOMEM;
		goto out;
	}
	*ok = 1;
	snprintf(detail, dsize, "%s is leaf %llu of the log; its inclusion proof verifies"
		 " against the signed checkpoint of %llu leaves", subject,
		 (unsigned long long)idx, (unsigned long long)cp->size);
out:
	free(entry);
	free(cp);
	return rc;
}

int
credential_verify_checks(struct app *app, json_t *cred, json_t *checks, int *all_ok)
{
	struct di_result res = { 0 };
	struct di_verify_options opt = { 0 };
	struct key_find f = { 0 };
	unsigned char pub[32];
	char detail[CRED_REASON_MAX + 64];	/* "revoked on <date>: <reason>" */
	const char *why = shape_problem(cred), *issuer = NULL, *vf;
	json_t *status;
	int rc, ok;

	*all_ok = 1;
	if ((rc = add_check(checks, "schema", !why, why ? why : "the credential has the"
			    " required Open Badges 3.0 fields")))
		return rc;
	*all_ok &= !why;

	issuer = json_string_value(json_object_get(json_object_get(cred, "issuer"), "id"));
	if (!issuer)
		issuer = json_string_value(json_object_get(cred, "issuer"));
	/* the signature: nothing but the document and the issuer's did:key */
	if (!issuer || did_key_to_ed25519(issuer, pub) != 0) {
		ok = 0;
		snprintf(detail, sizeof(detail), "the issuer is not an Ed25519 did:key, so the"
			 " signature cannot be checked");
	} else {
		opt.public_key = pub;
		opt.proof_purpose = "assertionMethod";
		rc = di_verify(cred, &opt, &res);
		if (rc && rc != TC_EFORBIDDEN)
			return rc;
		ok = rc == 0;
		if (ok)
			snprintf(detail, sizeof(detail), "the eddsa-jcs-2022 proof is valid: the"
				 " credential is exactly what the issuer signed");
		else
			snprintf(detail, sizeof(detail), "the proof does not hold (%s): %s",
				 di_reason_str(res.reason), res.detail);
	}
	if ((rc = add_check(checks, "proof", ok, detail)))
		return rc;
	*all_ok &= ok;

	/* the issuer in the institution registry (current or rotated key) */
	f.did = issuer;
	f.app = app;
	if (issuer && (rc = store_institution_each(app->store, inst_keys, &f)) < 0)
		return rc;
	if (f.found)
		snprintf(detail, sizeof(detail), "the issuer key is a key of %s (%s)%s",
			 f.inst.name, f.inst.code, f.key.valid_until ? ", since rotated" :
			 ", its current key");
	else
		snprintf(detail, sizeof(detail), "the issuer key belongs to no institution known"
			 " here");
	if ((rc = add_check(checks, "issuer", f.found, detail)))
		return rc;
	*all_ok &= f.found;

	/* not revoked: the issuer's status list */
	status = json_object_get(cred, "credentialStatus");
	ok = 0;
	if (!f.found) {
		snprintf(detail, sizeof(detail), "cannot be checked: the issuer is unknown");
	} else {
		const char *idx = json_string_value(json_object_get(status, "statusListIndex"));
		char *end = NULL;
		long long index = idx && idx[0] >= '0' && idx[0] <= '9' ? strtoll(idx, &end, 10) : -1;
		int bit = 0;

		if (index < 0 || !end || *end) {
			snprintf(detail, sizeof(detail), "the credential has no status list index");
		} else if ((rc = revocation_status(app, f.inst.id,
						   json_string_value(json_object_get(cred, "id")),
						   index, &bit, detail, sizeof(detail))) ==
			   TC_EINVALID) {
			snprintf(detail, sizeof(detail), "the status list index is out of range");
		} else if (rc) {
			return rc;
		} else {
			ok = !bit;
		}
	}
	if ((rc = add_check(checks, "status", ok, detail)))
		return rc;
	*all_ok &= ok;

	/* dates: validFrom passed, validUntil (if any) not yet */
	{
		char now[32];
		const char *vu = json_string_value(json_object_get(cred, "validUntil"));

		api_time((int64_t)time(NULL), now);
		vf = json_string_value(json_object_get(cred, "validFrom"));
		/* both in the UTC form "YYYY-MM-DDThh:mm:ssZ" compare as text */
		ok = vf && strlen(vf) == 20 && strcmp(vf, now) <= 0 &&
		     (!vu || (strlen(vu) == 20 && strcmp(vu, now) > 0));
		snprintf(detail, sizeof(detail), ok ? "valid now" :
			 !vf || strlen(vf) != 20 ? "validFrom is not a UTC date-time" :
			 strcmp(vf, now) > 0 ? "not valid yet (validFrom is in the future)" :
			 "expired (validUntil has passed)");
		if ((rc = add_check(checks, "dates", ok, detail)))
			return rc;
		*all_ok &= ok;
	}

	/* in the transparency log, under a signed checkpoint */
	{
		json_t *result = NULL;

		if ((rc = log_check(app, cred, &ok, detail, sizeof(detail), &result)) ||
		    (rc = add_check(checks, "log", ok, detail))) {
			json_decref(result);
			return rc;
		}
		if (result)
			json_object_set_new(json_array_get(checks, json_array_size(checks) - 1),
					    "result", result);
		*all_ok &= ok;
	}
	return 0;
}

static int
on_verify(struct app *app, struct http_request *req, struct http_response *resp)
{
	json_t *body = NULL, *cred, *checks;
	int rc, ok = 0;

	if (api_read_json(req, resp, &body))
		return 0;
	cred = json_object_get(body, "credential");
	if (!json_is_object(cred) || !json_object_get(cred, "credentialSubject")) {
		json_decref(body);
		return problem_respond(resp, 400, NULL, "the body must be {\"credential\": {...}}"
				       " holding a verifiable credential (an object with"
				       " credentialSubject)");
	}
	if (!(checks = json_array())) {
		json_decref(body);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	rc = credential_verify_checks(app, cred, checks, &ok);
	if (rc) {
		json_decref(checks);
		json_decref(body);
		return problem_respond_err(resp, rc, NULL);
	}
	rc = api_reply_json(resp, 200, json_pack("{s:b, s:O, s:o}", "verified", ok,
						 "id", json_object_get(cred, "id") ?
						 json_object_get(cred, "id") : json_null(),
						 "checks", checks));
	json_decref(body);
	return rc;
}

const struct route api_credentials_routes[] = {
	{ HTTP_GET, "/api/v1/credentials", on_list, "credentials_list" },
	{ HTTP_POST, "/api/v1/credentials/verify", on_verify, "credentials_verify" },
	{ HTTP_GET, "/api/v1/credentials/{uid}", on_get, "credentials_get" },
};
const size_t api_credentials_routes_count =
	sizeof(api_credentials_routes) / sizeof(api_credentials_routes[0]);
