/*
 * api_identity.c - the identity and access API: sign-in sessions,
 * activation, institutions and their keys, people and roles, API tokens,
 * the learner import and the audit log. Handlers parse, authorise (always
 * through api_allow / courses/authz.c), call the store or the domain, and
 * answer; hashing and imports run on the worker pool (struct
 * http_deferred).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "courses/crypto.h"
#include "courses/did.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/log.h"
#include "courses/password.h"
#include "courses/people.h"
#include "server/api_identity.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/problem.h"
#include "storage/identity.h"
#include "storage/keys.h"

#define LOCKOUT_WINDOW (15 * 60)	/* seconds */
#define LOCKOUT_ACCOUNT 10		/* failures per account in the window */
#define LOCKOUT_SOURCE 50		/* failures per client address in the window */
#define LIST_MAX 500

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static void
keys_dir(struct app *app, char *out, size_t n)
{
	snprintf(out, n, "%s/keys", app->cfg->data_dir);
}

/* 400 with DETAIL; returns TC_EINVALID for the caller to return. */
static int
bad_request(struct http_response *resp, const char *detail)
{
	problem_respond(resp, 400, NULL, detail);
	return TC_EINVALID;
}

static json_t *
person_json(struct app *app, const struct person *p, const struct actor *a)
{
	json_t *roles = json_array();
	json_t *o = json_pack("{s:s, s:s}", "uid", p->uid, "full_name", p->full_name);

	for (int i = 0; a && i < a->nroles; i++) {
		struct institution inst;
		const char *code = "";

		if (a->roles[i].institution_id &&
		    store_institution_get_id(app->store, a->roles[i].institution_id, &inst) == 0)
			code = inst.code;
		json_array_append_new(roles, json_pack("{s:s, s:s?}", "role", role_name(a->roles[i].role),
						       "institution", a->roles[i].institution_id ? code : NULL));
	}
	json_object_set_new(o, "roles", roles);
	return o;
}

/*
 * Records EVENT about a person once for each institution they belong to
 * (so that each institution's admins see it), or platform-wide when they
 * belong to none.
 */
static void
audit_person(struct app *app, const struct actor *actor, const char *source, int64_t person_id,
	     const char *event, const char *subject)
{
	struct actor a;
	int64_t done[ACTOR_ROLES_MAX];
	int ndone = 0;

	if (person_id <= 0 || auth_load_roles(app, person_id, &a) != 0 || a.nroles == 0) {
		api_audit_by(app, actor, source, 0, event, subject, NULL);
		return;
	}
	for (int i = 0; i < a.nroles; i++) {
		int seen = 0;

		for (int k = 0; k < ndone; k++)
			seen |= done[k] == a.roles[i].institution_id;
		if (seen)
			continue;
		done[ndone++] = a.roles[i].institution_id;
		api_audit_by(app, actor, source, a.roles[i].institution_id, event, subject, NULL);
	}
}

/* "$scrypt$ln=17,r=8,p=1$" for the parameters new hashes get. */
static void
hash_prefix(const struct scrypt_params *p, char *out, size_t n)
{
	snprintf(out, n, "$scrypt$ln=%u,r=%u,p=%u$", p->log2_n, p->r, p->p);
}

/* ---- sign in -------------------------------------------------------------- */

static int
count_head(const char *head, int64_t count, void *arg)
{
	password_costs_add(arg, head, count);
	return 0;
}

int
api_identity_count_costs(struct app *app)
{
	memset(&app->password_costs, 0, sizeof(app->password_costs));
	return store_password_heads_each(app->store, count_head, &app->password_costs);
}

struct login_job {
	struct http_deferred d;
	struct app *app;
	struct scrypt_params params;	/* of new hashes (a re-hash) */
	struct scrypt_params standin;	/* of the stand-in hash: as most stored ones */
	unsigned hashed_ln;		/* log2 N that login_run hashed at */
	char password[PASSWORD_MAX + 1];
	char hash[PASSWORD_HASH_MAX];	/* "" when the account cannot sign in */
	char account[65];		/* HMAC of the national ID */
	char source[64];
	char old_session[65];		/* hash of the session the client had, if any */
	char rehash[PASSWORD_HASH_MAX];	/* the password at today's cost, when it changed */
	int64_t person_id;
	int tls;
	int verified;			/* result of run() */
};

static void
login_run(struct work *w)
{
	struct login_job *j = (struct login_job *)w;

	if (j->hash[0]) {
		struct scrypt_params stored = { 0, 0, 0 };
		char prefix[64];

		j->verified = password_verify(j->password, j->hash) == 0;
		j->hashed_ln = password_params(j->hash, &stored) == 0 ? stored.log2_n : 0;
		hash_prefix(&j->params, prefix, sizeof(prefix));
		/* keep every account at the current cost, so that answer times
		 * cannot tell accounts apart from unknown IDs */
		if (j->verified && strncmp(j->hash, prefix, strlen(prefix)) != 0 &&
		    password_hash(j->password, &j->params, j->rehash, sizeof(j->rehash)) != 0)
			j->rehash[0] = '\0';
	} else {
		/* same work for an unknown account as for a typical known one:
		 * no timing oracle (the cost most stored hashes have, which is
		 * not today's while accounts still wait for their re-hash) */
		char dummy[PASSWORD_HASH_MAX];
		password_hash(j->password, &j->standin, dummy, sizeof(dummy));
		j->hashed_ln = j->standin.log2_n;
		j->verified = 0;
	}
	OPENSSL_cleanse(j->password, sizeof(j->password));
}

static void
login_finish(struct http_deferred *d, struct http_response *resp)
{
	struct login_job *j = (struct login_job *)d;
	struct app *app = j->app;
	int64_t now = now_s();
	struct actor who = { .kind = ACTOR_NONE };
	char token[80], cookie[256], csrf[65];
	struct session s;
	struct person p;

	OPENSSL_cleanse(j->password, sizeof(j->password));
	metrics_signin_hash(app->metrics, j->person_id != 0, j->hashed_ln);
	if (!resp)
		goto out;
	if (!j->verified) {
		/* the failure was counted when the attempt arrived */
		audit_person(app, &who, j->source, j->person_id, "login.failed", j->account);
		problem_respond(resp, 401, NULL, "the national ID or the password is wrong");
		goto out;
	}
	memset(&s, 0, sizeof(s));
	if (token_new("tcs_", token, sizeof(token)) != 0 ||
	    store_person_get(app->store, j->person_id, &p) != 0) {
		problem_respond_err(resp, TC_EIO, "could not start a session");
		goto out;
	}
	sha256_hex(token, strlen(token), s.token_hash);
	s.person_id = j->person_id;
	s.created_at = s.last_seen_at = now;
	s.expires_at = now + app->cfg->session_max_age;
	snprintf(s.source, sizeof(s.source), "%s", j->source);
	if (store_session_add(app->store, &s) != 0) {
		problem_respond_err(resp, TC_EDB, "could not start a session");
		goto out;
	}
	store_login_failures_clear(app->store, j->account, now - LOCKOUT_WINDOW);
	if (j->old_session[0])		/* a new session at every sign-in */
		store_session_delete(app->store, j->old_session);
	if (j->rehash[0] &&
	    store_person_set_password(app->store, j->person_id, j->rehash, now) == 0) {
		password_costs_add(&app->password_costs, j->hash, -1);
		password_costs_add(&app->password_costs, j->rehash, 1);
	}
	who.kind = ACTOR_PERSON;
	who.person_id = j->person_id;
	audit_person(app, &who, j->source, j->person_id, "login.ok", p.uid);
	auth_load_roles(app, j->person_id, &who);
	auth_csrf_token(app, token, csrf);
	auth_cookie(cookie, sizeof(cookie), token, app->cfg->session_max_age, j->tls);
	api_reply_json(resp, 200, json_pack("{s:o, s:s, s:I}",
		"person", person_json(app, &p, &who), "csrf_token", csrf,
		"expires_at", (json_int_t)s.expires_at));
	http_response_header(resp, "set-cookie", cookie);
	http_response_header(resp, "cache-control", "no-store");
out:
	OPENSSL_cleanse(token, sizeof(token));
	OPENSSL_cleanse(j->rehash, sizeof(j->rehash));
	free(j);
}

/* 429 when the account or the address has failed too often lately. */
/*
 * 429 when the account or the address has failed too often lately.
 * Otherwise the attempt is counted as a failure right away (and forgiven
 * when it succeeds), so that attempts running at the same time cannot get
 * past the limit. Returns 1 when RESP holds the refusal.
 */
static int
locked_out(struct app *app, const char *account, const char *source, int64_t now,
	   struct http_response *resp)
{
	int by_account = 0, by_source = 0, rc;
	int64_t oldest_a = 0, oldest_s = 0, wait;
	char v[32];

	rc = store_login_failures(app->store, account, source, now - LOCKOUT_WINDOW,
				  &by_account, &by_source, &oldest_a, &oldest_s);
	if (rc == 0 && by_account < LOCKOUT_ACCOUNT && by_source < LOCKOUT_SOURCE)
		rc = store_login_failure_add(app->store, account, source, now);
	if (rc) {
		problem_respond_err(resp, rc, "sign-in is not possible right now; try again shortly");
		if (rc == TC_EBUSY)
			http_response_header(resp, "retry-after", "2");
		return 1;
	}
	if (by_account < LOCKOUT_ACCOUNT && by_source < LOCKOUT_SOURCE)
		return 0;
	wait = (by_account >= LOCKOUT_ACCOUNT ? oldest_a : oldest_s) + LOCKOUT_WINDOW - now;
	if (wait < 1)
		wait = 1;
	snprintf(v, sizeof(v), "%lld", (long long)wait);
	problem_respond(resp, 429, NULL, "too many failed sign-ins; wait before trying again");
	http_response_header(resp, "retry-after", v);
	return 1;
}

static int
on_login(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *nid, *pw;
	struct login_job *j = NULL;
	struct person p;
	json_t *body = NULL;
	int bad = 0, rc;

	if (api_read_json(req, resp, &body))
		return 0;
	nid = api_str(body, "national_id", &bad);
	pw = api_str(body, "password", &bad);
	if (bad || !nid || !pw) {
		rc = bad_request(resp, "send {\"national_id\": \"...\", \"password\": \"...\"}");
		goto out;
	}
	if (national_id_check(nid)) {
		rc = bad_request(resp, "national_id must be exactly 12 digits");
		goto out;
	}
	if (strlen(pw) > PASSWORD_MAX) {
		rc = bad_request(resp, "the password is too long");
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		rc = problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	people_nid_hmac(app->secret, nid, j->account);
	snprintf(j->source, sizeof(j->source), "%s", req->peer);
	if (locked_out(app, j->account, j->source, now_s(), resp)) {
		free(j);
		j = NULL;
		goto out;
	}
	rc = store_person_get_by_nid(app->store, nid, &p);
	if (rc == 0 && p.password_hash[0]) {
		snprintf(j->hash, sizeof(j->hash), "%s", p.password_hash);
		j->person_id = p.id;
	} else if (rc && rc != TC_ENOTFOUND) {
		problem_respond_err(resp, rc, NULL);
		free(j);
		j = NULL;
		goto out;
	}
	snprintf(j->password, sizeof(j->password), "%s", pw);
	j->app = app;
	j->params = password_default_params;
	j->params.log2_n = (unsigned)app->cfg->password_cost;
	j->standin = j->params;
	j->standin.log2_n = password_costs_common(&app->password_costs, j->params.log2_n);
	j->tls = req->tls;
	if (req->session_token[0])
		sha256_hex(req->session_token, strlen(req->session_token), j->old_session);
	j->d.work.run = login_run;
	j->d.finish = login_finish;
	req->deferred = &j->d;
	j = NULL;
out:
	json_decref(body);
	return 0;
}

static int
on_session_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct person p;
	char csrf[65];

	if (req->actor.kind != ACTOR_PERSON || !req->session_token[0]) {
		problem_respond(resp, 401, NULL, "not signed in");
		return 0;
	}
	if (store_person_get(app->store, req->actor.person_id, &p) != 0)
		return problem_respond_err(resp, TC_EDB, NULL);
	auth_csrf_token(app, req->session_token, csrf);
	api_reply_json(resp, 200, json_pack("{s:o, s:s}", "person",
					     person_json(app, &p, &req->actor), "csrf_token", csrf));
	http_response_header(resp, "cache-control", "no-store");
	return 0;
}

static int
on_logout(struct app *app, struct http_request *req, struct http_response *resp)
{
	char hash[65], cookie[256];
	int rc;

	if (req->actor.kind != ACTOR_PERSON || !req->session_token[0]) {
		problem_respond(resp, 401, NULL, "not signed in");
		return 0;
	}
	sha256_hex(req->session_token, strlen(req->session_token), hash);
	/* never "signed out" while the session still works (gone already: done) */
	rc = store_session_delete(app->store, hash);
	if (rc && rc != TC_ENOTFOUND) {
		problem_respond_err(resp, rc, "the sign-out could not be saved; try again");
		if (rc == TC_EBUSY)
			http_response_header(resp, "retry-after", "2");
		return 0;
	}
	api_audit(app, req, 0, "logout", "", NULL);
	auth_cookie(cookie, sizeof(cookie), NULL, 0, req->tls);
	resp->status = 204;
	http_response_header(resp, "set-cookie", cookie);
	return 0;
}

/* ---- activation ------------------------------------------------------------ */

struct activate_job {
	struct http_deferred d;
	struct app *app;
	struct scrypt_params params;
	char password[PASSWORD_MAX + 1];
	char hash[PASSWORD_HASH_MAX];
	char code_hash[65];
	char account[65];
	char source[64];
	char old_hash[PASSWORD_HASH_MAX];	/* the password it replaces, if any */
	int64_t person_id;	/* 0: unknown national ID */
	int hashed;
};

static void
activate_run(struct work *w)
{
	struct activate_job *j = (struct activate_job *)w;

	j->hashed = password_hash(j->password, &j->params, j->hash, sizeof(j->hash)) == 0;
	OPENSSL_cleanse(j->password, sizeof(j->password));
}

static void
activate_finish(struct http_deferred *d, struct http_response *resp)
{
	struct activate_job *j = (struct activate_job *)d;
	struct app *app = j->app;
	struct actor who = { .kind = ACTOR_NONE };
	int64_t now = now_s();
	int rc = TC_ENOTFOUND;

	OPENSSL_cleanse(j->password, sizeof(j->password));
	if (!resp)
		goto out;
	if (!j->hashed) {
		problem_respond_err(resp, TC_EIO, "could not set the password");
		goto out;
	}
	/* an unknown person is a wrong code; a database that cannot be written
	 * is not (503, below) */
	if (j->person_id && (rc = store_begin(app->store)) == 0) {
		rc = store_activation_take(app->store, j->person_id, j->code_hash, now);
		if (rc == 0)
			rc = store_person_set_password(app->store, j->person_id, j->hash, now);
		if (rc == 0)
			rc = store_session_purge(app->store, j->person_id, now, 0, NULL);
		if (rc == 0)
			rc = store_commit(app->store);
		if (rc)
			store_rollback(app->store);
		if (rc == 0) {
			password_costs_add(&app->password_costs, j->old_hash, -1);
			password_costs_add(&app->password_costs, j->hash, 1);
		}
	}
	if (rc == TC_ENOTFOUND) {
		/* the failure was counted when the attempt arrived */
		audit_person(app, &who, j->source, j->person_id, "activation.failed", j->account);
		problem_respond(resp, 400, NULL, "the activation code is wrong, used or expired");
		goto out;
	}
	if (rc) {
		problem_respond_err(resp, rc, "the activation could not be saved; try again");
		if (rc == TC_EBUSY)
			http_response_header(resp, "retry-after", "2");
		goto out;
	}
	store_login_failures_clear(app->store, j->account, now - LOCKOUT_WINDOW);
	who.kind = ACTOR_PERSON;
	who.person_id = j->person_id;
	audit_person(app, &who, j->source, j->person_id, "account.activated", "");
	api_reply_json(resp, 200, json_pack("{s:b}", "activated", 1));
out:
	free(j);
}

static int
on_activate(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *nid, *code, *pw;
	struct activate_job *j = NULL;
	struct person p;
	json_t *body = NULL;
	char why[128];
	int bad = 0, rc;

	if (api_read_json(req, resp, &body))
		return 0;
	nid = api_str(body, "national_id", &bad);
	code = api_str(body, "code", &bad);
	pw = api_str(body, "password", &bad);
	if (bad || !nid || !code || !pw) {
		bad_request(resp, "send {\"national_id\", \"code\", \"password\"} as strings");
		goto out;
	}
	if (national_id_check(nid)) {
		bad_request(resp, "national_id must be exactly 12 digits");
		goto out;
	}
	if (password_policy_check(pw)) {
		snprintf(why, sizeof(why), "the password must be valid UTF-8 of %d to %d bytes",
			 PASSWORD_MIN, PASSWORD_MAX);
		bad_request(resp, why);
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	people_nid_hmac(app->secret, nid, j->account);
	snprintf(j->source, sizeof(j->source), "%s", req->peer);
	if (locked_out(app, j->account, j->source, now_s(), resp) ||
	    people_code_hash(app->secret, code, j->code_hash) != 0) {
		if (!resp->status)
			bad_request(resp, "the activation code is malformed");
		free(j);
		goto out;
	}
	rc = store_person_get_by_nid(app->store, nid, &p);
	if (rc == 0) {
		j->person_id = p.id;
		snprintf(j->old_hash, sizeof(j->old_hash), "%s", p.password_hash);
	} else if (rc != TC_ENOTFOUND) {	/* as at sign-in: not a wrong code */
		problem_respond_err(resp, rc, NULL);
		free(j);
		goto out;
	}
	snprintf(j->password, sizeof(j->password), "%s", pw);
	j->app = app;
	j->params = password_default_params;
	j->params.log2_n = (unsigned)app->cfg->password_cost;
	j->d.work.run = activate_run;
	j->d.finish = activate_finish;
	req->deferred = &j->d;
out:
	json_decref(body);
	return 0;
}

/* ---- institutions ---------------------------------------------------------- */

static json_t *
institution_json(struct app *app, const struct institution *inst, int with_keys)
{
	struct inst_key k;
	char t[32];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s?}", "code", inst->code, "name", inst->name,
			      "kind", inst_kind_name(inst->kind),
			      "website", inst->website[0] ? inst->website : NULL);

	if (store_key_current(app->store, inst->id, &k) == 0)
		json_object_set_new(o, "did", json_string(k.did));
	api_time(inst->created_at, t);
	json_object_set_new(o, "created_at", json_string(t));
	return o;
}

static int
add_key_json(const struct inst_key *k, void *arg)
{
	char from[32], until[32];

	api_time(k->valid_from, from);
	api_time(k->valid_until, until);
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s?}", "did", k->did, "valid_from", from,
					     "valid_until", k->valid_until ? until : NULL));
	return 0;
}

static int
add_inst_json(const struct institution *inst, void *arg)
{
	void **a = arg;

	json_array_append_new(a[1], institution_json(a[0], inst, 0));
	return 0;
}

static int
on_institutions_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	json_t *list = json_array();
	void *a[2] = { app, list };
	int rc = store_institution_each(app->store, add_inst_json, a);

	if (rc) {
		json_decref(list);
		return problem_respond_err(resp, rc, NULL);
	}
	return api_reply_json(resp, 200, json_pack("{s:o}", "institutions", list));
}

static int
on_institution_get(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	json_t *o, *keys;

	if (api_institution(app, req, resp, &inst))
		return 0;
	o = institution_json(app, &inst, 1);
	keys = json_array();
	store_key_each(app->store, inst.id, add_key_json, keys);
	json_object_set_new(o, "keys", keys);
	return api_reply_json(resp, 200, o);
}

/*
 * Makes a new signing key for INST and makes it current (the previous key
 * stays published with its end date). The caller holds a transaction.
 */
static int
new_institution_key(struct app *app, const struct institution *inst, int64_t now,
		    struct inst_key *k)
{
	char dir[PATH_MAX + 16];
	int rc;

	memset(k, 0, sizeof(*k));
	keys_dir(app, dir, sizeof(dir));
	snprintf(k->file, sizeof(k->file), "inst-%s-%lld", inst->code, (long long)now);
	for (int i = 1; (rc = keys_generate(dir, k->file, k->pub)) == TC_ECONFLICT && i < 100; i++)
		snprintf(k->file, sizeof(k->file), "inst-%s-%lld-%d", inst->code, (long long)now, i);
	if (rc)
		return rc;
	if ((rc = did_key_from_ed25519(k->pub, k->did, sizeof(k->did))))
		return rc;
	k->institution_id = inst->id;
	k->valid_from = now;
	return store_key_add(app->store, k);
}

/* Creates an institution with its first key; shared with the command line. */
int
api_institution_create(struct app *app, struct institution *inst, struct inst_key *key)
{
	int64_t now = now_s();
	int rc = store_begin(app->store);

	if (rc)
		return rc;
	inst->created_at = now;
	rc = store_institution_add(app->store, inst);
	if (rc == 0)
		rc = new_institution_key(app, inst, now, key);
	if (rc == 0)
		rc = store_commit(app->store);
	if (rc)
		store_rollback(app->store);
	return rc;
}

static int
on_institution_create(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *code, *name, *kind, *web;
	struct institution inst;
	struct inst_key key;
	json_t *body = NULL;
	int bad = 0, rc;

	if (api_allow(req, resp, AZ_INSTITUTION_CREATE, 0) || api_read_json(req, resp, &body))
		return 0;
	memset(&inst, 0, sizeof(inst));
	code = api_str(body, "code", &bad);
	name = api_str(body, "name", &bad);
	kind = api_str(body, "kind", &bad);
	web = api_str(body, "website", &bad);
	if (bad || !code || !name || !kind)
		bad_request(resp, "send {\"code\", \"name\", \"kind\"} (and optionally \"website\") as strings");
	else if (inst_code_check(code))
		bad_request(resp, "code must be 2 to 32 of A-Z, 0-9, '-' and '_', starting with a letter or digit");
	else if (person_name_check(name))
		bad_request(resp, "name must be valid UTF-8 text of 1 to 200 bytes");
	else if (inst_kind_parse(kind, &inst.kind))
		bad_request(resp, "kind must be school, university or other");
	else if (web && (strlen(web) >= sizeof(inst.website) || strncmp(web, "https://", 8) != 0))
		bad_request(resp, "website must be an https:// address under 256 bytes");
	if (resp->status)
		goto out;
	snprintf(inst.code, sizeof(inst.code), "%s", code);
	snprintf(inst.name, sizeof(inst.name), "%s", name);
	snprintf(inst.website, sizeof(inst.website), "%s", web ? web : "");
	rc = api_institution_create(app, &inst, &key);
	if (rc == TC_ECONFLICT) {
		problem_respond(resp, 409, NULL, "an institution with this code exists already");
		goto out;
	}
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, inst.id, "institution.created", inst.code,
		  json_pack("{s:s}", "did", key.did));
	api_reply_json(resp, 201, institution_json(app, &inst, 1));
out:
	json_decref(body);
	return 0;
}

static int
on_key_rotate(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct inst_key key;
	char from[32];
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_INSTITUTION_ROTATE_KEY, inst.id))
		return 0;
	rc = store_begin(app->store);
	if (rc == 0)
		rc = new_institution_key(app, &inst, now_s(), &key);
	if (rc == 0)
		rc = store_commit(app->store);
	if (rc) {
		store_rollback(app->store);
		return problem_respond_err(resp, rc, "could not make a new key");
	}
	api_audit(app, req, inst.id, "key.rotated", inst.code, json_pack("{s:s}", "did", key.did));
	api_time(key.valid_from, from);
	return api_reply_json(resp, 201, json_pack("{s:s, s:s}", "did", key.did, "valid_from", from));
}

/* ---- people ---------------------------------------------------------------- */

static int
on_person_add(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *nid, *name, *rolestr, *email, *dob, *scode;
	char code[ACTIVATION_CODE_LEN + 1] = "", today[11], expires[32];
	struct institution inst;
	struct enrol_result res;
	struct person p;
	enum role role;
	json_t *body = NULL, *o;
	int bad = 0, rc;
	int64_t now = now_s();
	unsigned flags = ENROL_REISSUE;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_PEOPLE_MANAGE, inst.id) || api_read_json(req, resp, &body))
		return 0;
	memset(&p, 0, sizeof(p));
	people_today(now, today);
	nid = api_str(body, "national_id", &bad);
	name = api_str(body, "full_name", &bad);
	rolestr = api_str(body, "role", &bad);
	email = api_str(body, "email", &bad);
	dob = api_str(body, "date_of_birth", &bad);
	scode = api_str(body, "student_code", &bad);
	if (bad || !nid || !name || !rolestr)
		bad_request(resp, "send {\"national_id\", \"full_name\", \"role\"} (optionally "
				  "\"email\", \"date_of_birth\", \"student_code\") as strings");
	else if (national_id_check(nid))
		bad_request(resp, "national_id must be exactly 12 digits");
	else if (person_name_check(name))
		bad_request(resp, "full_name must be valid UTF-8 text of 1 to 200 bytes without control characters");
	else if (role_parse(rolestr, &role) || role == ROLE_OPERATOR || role == ROLE_NONE)
		bad_request(resp, "role must be learner, lecturer, admin or verifier");
	else if (email && email_check(email))
		bad_request(resp, "email is not a valid address");
	else if (dob && dob[0] && date_check(dob, today))
		bad_request(resp, "date_of_birth must be a past date YYYY-MM-DD");
	else if (scode && student_code_check(scode))
		bad_request(resp, "student_code must be up to 64 printable characters without spaces");
	if (resp->status)
		goto out;
	snprintf(p.national_id, sizeof(p.national_id), "%s", nid);
	snprintf(p.full_name, sizeof(p.full_name), "%s", name);
	snprintf(p.email, sizeof(p.email), "%s", email ? email : "");
	snprintf(p.date_of_birth, sizeof(p.date_of_birth), "%s", dob ? dob : "");
	if (actor_has_role(&req->actor, ROLE_OPERATOR, 0))
		flags |= ENROL_PRIVILEGED;
	rc = store_begin(app->store);
	if (rc == 0)
		rc = people_enrol(app->store, app->secret, now, &p, role, inst.id, scode, flags,
				  code, &res);
	if (rc == 0)
		rc = store_commit(app->store);
	if (rc) {
		store_rollback(app->store);
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, inst.id, "role.granted", p.uid,
		  json_pack("{s:s, s:b}", "role", role_name(role), "new_person", res.created));
	o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "uid", p.uid, "full_name", p.full_name,
		      "role", role_name(role), "institution", inst.code, "created", res.created,
		      "activation", res.activation == ACTIVATION_ACTIVE ? "active"
		      : res.activation == ACTIVATION_ISSUED ? "issued"
		      : res.activation == ACTIVATION_PENDING ? "pending" : "withheld");
	if (res.kept)
		json_object_set_new(o, "note", json_string(
			"this person also belongs to another institution: their details were "
			"left as they were, and an activation code can only come from them or an operator"));
	if (code[0]) {
		api_time(now + ACTIVATION_TTL, expires);
		json_object_set_new(o, "activation_code", json_string(code));
		json_object_set_new(o, "activation_expires_at", json_string(expires));
	}
	api_reply_json(resp, res.created ? 201 : 200, o);
out:
	json_decref(body);
	return 0;
}

static int
add_member_json(const struct person *p, const struct membership *m, void *arg)
{
	json_t **a = arg;

	json_array_append_new(a[0], json_pack("{s:s, s:s, s:s, s:s?, s:b}", "uid", p->uid,
		"full_name", p->full_name, "role", role_name(m->role),
		"student_code", m->student_code[0] ? m->student_code : NULL,
		"activated", p->password_hash[0] != '\0'));
	*(int64_t *)a[1] = p->id;
	return 0;
}

static int
on_people_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	char rolestr[16] = "learner";
	enum role role;
	int64_t after, limit, last = 0;
	json_t *list, *o;
	void *a[2];

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_PEOPLE_MANAGE, inst.id))
		return 0;
	if ((api_query(req, "role", rolestr, sizeof(rolestr)) == TC_EINVALID) ||
	    role_parse(rolestr, &role) ||
	    api_query_int(req, "after", 0, 0, INT64_MAX, &after) ||
	    api_query_int(req, "limit", 100, 1, LIST_MAX, &limit))
		return bad_request(resp, "query: role=learner|lecturer|admin|verifier, after=N, limit=1..500"), 0;
	list = json_array();
	a[0] = list;
	a[1] = &last;
	if (store_members_each(app->store, inst.id, role, after, (int)limit, add_member_json, a)) {
		json_decref(list);
		return problem_respond_err(resp, TC_EDB, NULL);
	}
	o = json_pack("{s:o}", "people", list);
	if ((int64_t)json_array_size(list) == limit)
		json_object_set_new(o, "next_after", json_integer(last));
	return api_reply_json(resp, 200, o);
}

/* ---- the learner import ----------------------------------------------------- */

struct import_job {
	struct http_deferred d;
	struct app *app;
	int fd;				/* the uploaded CSV (owned) */
	int partial;
	unsigned flags;
	int64_t institution_id;
	char institution[INST_CODE_MAX + 1];
	int64_t actor_person_id, actor_token_id;
	char source[64];
	struct import_outcome out;
	/* The activation codes as JSON array elements, written as text: a
	 * jansson object per learner costs ~1 KiB, this ~100 bytes. */
	struct dynbuf codes;
	int rc;
};

/* Appends S as a JSON string; student codes are printable ASCII, so only
 * '"' and '\\' need escaping, and IDs and codes need none. */
static int
append_json_ascii(struct dynbuf *b, const char *s)
{
	int rc = dynbuf_append(b, "\"", 1);

	for (; rc == 0 && *s; s++)
		rc = (*s == '"' || *s == '\\') ? dynbuf_printf(b, "\\%c", *s)
						  : dynbuf_append(b, s, 1);
	return rc ? rc : dynbuf_append(b, "\"", 1);
}

static int
collect_code(const struct learner_row *row, const char *code, void *arg)
{
	struct import_job *j = arg;
	struct dynbuf *b = &j->codes;
	int rc = dynbuf_printf(b, "%s{\"national_id\":\"%s\",\"activation_code\":\"%s\"",
			       b->len ? "," : "", row->national_id, code);

	if (rc == 0 && row->student_code[0]) {
		rc = dynbuf_puts(b, ",\"student_code\":");
		if (rc == 0)
			rc = append_json_ascii(b, row->student_code);
	}
	return rc ? rc : dynbuf_append(b, "}", 1);
}

/* On a worker thread, with a store connection of its own. */
static void
import_run(struct work *w)
{
	struct import_job *j = (struct import_job *)w;
	struct store *st = NULL;
	FILE *fp = NULL;
	int fd = dup(j->fd);

	j->rc = TC_EIO;
	if (fd < 0 || !(fp = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	j->rc = store_open(j->app->cfg->data_dir, &st);
	if (j->rc == 0)
		j->rc = people_import_learners(st, j->app->secret, now_s(), j->institution_id, fp,
					       j->partial, j->flags, collect_code, j, &j->out);
	store_close(st);
	fclose(fp);
}

static json_t *
errors_json(const struct import_report *rep)
{
	json_t *a = json_array();

	for (size_t i = 0; i < rep->kept; i++) {
		const struct import_error *e = &rep->errors[i];
		json_array_append_new(a, json_pack("{s:I, s:I, s:s?, s:s}",
			"row", (json_int_t)e->row, "line", (json_int_t)e->line,
			"column", e->column[0] ? e->column : NULL, "message", e->message));
	}
	return a;
}

static void
import_finish(struct http_deferred *d, struct http_response *resp)
{
	struct import_job *j = (struct import_job *)d;
	struct import_report *rep = &j->out.report;
	struct actor by = { .kind = ACTOR_PERSON };
	json_t *o;
	int status;

	/* the rows are committed: audited even when the client has left */
	if (j->rc == 0 && j->out.applied) {
		by.kind = j->actor_token_id ? ACTOR_TOKEN : ACTOR_PERSON;
		by.person_id = j->actor_person_id;
		by.token_id = j->actor_token_id;
		api_audit_by(j->app, &by, j->source, j->institution_id, "learners.imported",
			     j->institution,
			     json_pack("{s:I, s:I, s:I, s:I}", "rows", (json_int_t)rep->rows,
				       "created", (json_int_t)j->out.created,
				       "updated", (json_int_t)j->out.updated,
				       "errors", (json_int_t)rep->nerrors));
	}
	if (!resp)
		goto out;
	if (j->rc) {
		char detail[200];
		size_t saved = j->out.created + j->out.updated;

		snprintf(detail, sizeof(detail), "the import stopped (%s) after %zu rows had been saved%s",
			 tc_strerror(j->rc), saved,
			 j->codes.len ? "; the activation codes of those rows are below" : "");
		problem_respond_err(resp, j->rc, detail);
		/* the codes of the saved rows are committed: hand them out, or a
		 * re-run (which keeps pending codes) would issue none */
		if (resp->body.len > 0) {
			resp->body.len--;
			if (dynbuf_printf(&resp->body, ",\"saved\":%zu,\"activation_codes\":[", saved) ||
			    dynbuf_append(&resp->body, dynbuf_str(&j->codes), j->codes.len) ||
			    dynbuf_puts(&resp->body, "]}"))
				problem_respond_err(resp, j->rc, detail);
		}
		http_response_header(resp, "cache-control", "no-store");
		goto out;
	}
	status = j->out.applied ? 200 : 422;
	o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		      "imported", j->out.applied, "rows", (json_int_t)rep->rows,
		      "valid", (json_int_t)rep->valid,
		      "created", (json_int_t)j->out.created, "updated", (json_int_t)j->out.updated,
		      "kept", (json_int_t)j->out.kept, "codes_issued", (json_int_t)j->out.codes,
		      "codes_pending", (json_int_t)j->out.pending,
		      "error_count", (json_int_t)rep->nerrors, "errors", errors_json(rep));
	if (!j->out.applied) {
		json_object_set_new(o, "type", json_string("about:blank"));
		json_object_set_new(o, "title", json_string("Unprocessable Content"));
		json_object_set_new(o, "status", json_integer(422));
		json_object_set_new(o, "detail", json_string(rep->fatal ? "the file is not a learners CSV file"
			: rep->rows == 0 ? "the file has no learners"
			: "some rows are invalid; nothing was imported (send partial=true to import the valid rows)"));
	}
	api_reply_json(resp, status, o);
	if (status == 422)
		resp->content_type = "application/problem+json";
	else if (resp->status == 200 && resp->body.len > 0) {
		/* splice the codes in before the closing brace */
		resp->body.len--;
		if (dynbuf_puts(&resp->body, ",\"activation_codes\":[") ||
		    dynbuf_append(&resp->body, dynbuf_str(&j->codes), j->codes.len) ||
		    dynbuf_puts(&resp->body, "]}"))
			problem_respond_err(resp, TC_ENOMEM, "the answer is too large");
	}
	http_response_header(resp, "cache-control", "no-store");
out:
	import_report_cleanup(rep);
	dynbuf_cleanup(&j->codes);
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

/* Before the body: only someone who may import gets to send a file. */
static int
import_precheck(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;

	return api_institution(app, req, resp, &inst) ||
	       api_allow(req, resp, AZ_LEARNERS_IMPORT, inst.id);
}

static int
on_import(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct import_job *j;
	char partial[8] = "false", reissue[8] = "false";

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_LEARNERS_IMPORT, inst.id))
		return 0;
	if (api_query(req, "partial", partial, sizeof(partial)) == TC_EINVALID ||
	    (strcmp(partial, "true") && strcmp(partial, "false")) ||
	    api_query(req, "reissue_codes", reissue, sizeof(reissue)) == TC_EINVALID ||
	    (strcmp(reissue, "true") && strcmp(reissue, "false")))
		return bad_request(resp, "partial and reissue_codes must be true or false"), 0;
	if (strncmp(req->content_type, "text/csv", 8) != 0)
		return problem_respond(resp, 415, NULL, "send the learners as text/csv (UTF-8)"), 0;
	if (req->body_fd < 0)
		return problem_respond(resp, 422, NULL, "the file is empty"), 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	dynbuf_init(&j->codes, (size_t)1 << 30);
	j->app = app;
	j->fd = req->body_fd;
	req->body_fd = -1;		/* the job owns it now */
	j->partial = strcmp(partial, "true") == 0;
	j->flags = strcmp(reissue, "true") == 0 ? ENROL_REISSUE : 0;
	j->institution_id = inst.id;
	snprintf(j->institution, sizeof(j->institution), "%s", inst.code);
	j->actor_person_id = req->actor.person_id;
	j->actor_token_id = req->actor.kind == ACTOR_TOKEN ? req->actor.token_id : 0;
	snprintf(j->source, sizeof(j->source), "%s", req->peer);
	j->d.work.run = import_run;
	j->d.finish = import_finish;
	j->d.bulk = 1;
	req->deferred = &j->d;
	return 0;
}

/* ---- API tokens -------------------------------------------------------------- */

static json_t *
token_json(const struct api_token *t)
{
	char created[32], used[32], revoked[32];

	api_time(t->created_at, created);
	api_time(t->last_used_at, used);
	api_time(t->revoked_at, revoked);
	return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "uid", t->uid, "name", t->name,
			 "scopes", t->scopes, "created_at", created,
			 "last_used_at", t->last_used_at ? used : NULL,
			 "revoked_at", t->revoked_at ? revoked : NULL);
}

static int
on_token_create(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct api_token t;
	char token[80], hash[65];
	const char *name;
	json_t *body = NULL, *scopes, *v, *o;
	size_t i, o_len = 0;
	int bad = 0, rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_TOKENS_MANAGE, inst.id) || api_read_json(req, resp, &body))
		return 0;
	memset(&t, 0, sizeof(t));
	name = api_str(body, "name", &bad);
	scopes = json_object_get(body, "scopes");
	if (bad || !name || person_name_check(name) || strlen(name) >= sizeof(t.name) ||
	    !json_is_array(scopes) || json_array_size(scopes) == 0) {
		bad_request(resp, "send {\"name\": \"...\", \"scopes\": [\"credits:read\", ...]}");
		goto out;
	}
	json_array_foreach(scopes, i, v) {
		const char *sc = json_string_value(v);
		int n = sc ? snprintf(t.scopes + o_len, sizeof(t.scopes) - o_len, "%s%s",
				      o_len ? " " : "", sc) : -1;
		if (n < 0 || (size_t)n >= sizeof(t.scopes) - o_len) {
			bad = 1;
			break;
		}
		o_len += (size_t)n;
	}
	if (bad || scopes_check(t.scopes)) {
		bad_request(resp, "scopes must be a list of learners:import, credits:read, credentials:issue");
		goto out;
	}
	snprintf(t.name, sizeof(t.name), "%s", name);
	t.institution_id = inst.id;
	t.created_by = req->actor.person_id;
	t.created_at = now_s();
	if (uuid_v4(t.uid) || token_new("tct_", token, sizeof(token))) {
		problem_respond_err(resp, TC_EIO, NULL);
		goto out;
	}
	sha256_hex(token, strlen(token), hash);
	rc = store_token_add(app->store, &t, hash);
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	api_audit(app, req, inst.id, "token.created", t.uid,
		  json_pack("{s:s, s:s}", "name", t.name, "scopes", t.scopes));
	o = token_json(&t);
	json_object_set_new(o, "token", json_string(token));
	api_reply_json(resp, 201, o);
	http_response_header(resp, "cache-control", "no-store");
out:
	OPENSSL_cleanse(token, sizeof(token));
	json_decref(body);
	return 0;
}

static int
add_token_json(const struct api_token *t, void *arg)
{
	return json_array_append_new(arg, token_json(t));
}

static int
on_tokens_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	json_t *list;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_TOKENS_MANAGE, inst.id))
		return 0;
	list = json_array();
	if (store_token_each(app->store, inst.id, add_token_json, list)) {
		json_decref(list);
		return problem_respond_err(resp, TC_EDB, NULL);
	}
	return api_reply_json(resp, 200, json_pack("{s:o}", "tokens", list));
}

static int
on_token_revoke(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	const char *uid = http_request_param(req, "uid");
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_TOKENS_MANAGE, inst.id))
		return 0;
	rc = store_token_revoke(app->store, inst.id, uid, now_s());
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such token at this institution"), 0;
	if (rc == TC_ECONFLICT)
		return problem_respond(resp, 409, NULL, "the token was revoked already"), 0;
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	api_audit(app, req, inst.id, "token.revoked", uid, NULL);
	resp->status = 204;
	return 0;
}

/* ---- audit -------------------------------------------------------------------- */

static int
add_audit_json(const struct audit_event *e, void *arg)
{
	json_t **a = arg;
	char at[32];
	json_t *detail = json_loads(e->detail, 0, NULL);

	api_time(e->at, at);
	json_array_append_new(a[0], json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:o?, s:o?}",
		"id", (json_int_t)e->id, "at", at, "event", e->event, "subject", e->subject,
		"detail", detail ? detail : json_object(), "source", e->source,
		"actor_person", e->actor_person_id ? json_integer(e->actor_person_id) : NULL,
		"actor_token", e->actor_token_id ? json_integer(e->actor_token_id) : NULL));
	*(int64_t *)a[1] = e->id;
	return 0;
}

static int
on_audit(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	int64_t before, limit, last = 0;
	json_t *list, *o;
	void *a[2];

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_AUDIT_READ, inst.id))
		return 0;
	if (api_query_int(req, "before", 0, 0, INT64_MAX, &before) ||
	    api_query_int(req, "limit", 100, 1, LIST_MAX, &limit))
		return bad_request(resp, "query: before=N, limit=1..500"), 0;
	list = json_array();
	a[0] = list;
	a[1] = &last;
	if (store_audit_each(app->store, inst.id, before, (int)limit, add_audit_json, a)) {
		json_decref(list);
		return problem_respond_err(resp, TC_EDB, NULL);
	}
	o = json_pack("{s:o}", "events", list);
	if ((int64_t)json_array_size(list) == limit)
		json_object_set_new(o, "next_before", json_integer(last));
	return api_reply_json(resp, 200, o);
}

/* Platform-wide events (institution 0): operators only. */
static int
on_platform_audit(struct app *app, struct http_request *req, struct http_response *resp)
{
	int64_t before, limit, last = 0;
	json_t *list, *o;
	void *a[2];

	if (api_allow(req, resp, AZ_AUDIT_READ, 0))
		return 0;
	if (api_query_int(req, "before", 0, 0, INT64_MAX, &before) ||
	    api_query_int(req, "limit", 100, 1, LIST_MAX, &limit))
		return bad_request(resp, "query: before=N, limit=1..500"), 0;
	list = json_array();
	a[0] = list;
	a[1] = &last;
	if (store_audit_each(app->store, 0, before, (int)limit, add_audit_json, a)) {
		json_decref(list);
		return problem_respond_err(resp, TC_EDB, NULL);
	}
	o = json_pack("{s:o}", "events", list);
	if ((int64_t)json_array_size(list) == limit)
		json_object_set_new(o, "next_before", json_integer(last));
	return api_reply_json(resp, 200, o);
}

const struct route api_identity_routes[] = {
	{ HTTP_GET, "/api/v1/audit", on_platform_audit, "platform_audit" },
	{ HTTP_POST, "/api/v1/session", on_login, "session_create" },
	{ HTTP_GET, "/api/v1/session", on_session_get, "session_get" },
	{ HTTP_DELETE, "/api/v1/session", on_logout, "session_delete" },
	{ HTTP_POST, "/api/v1/activate", on_activate, "activate" },
	{ HTTP_GET, "/api/v1/institutions", on_institutions_list, "institutions_list" },
	{ HTTP_POST, "/api/v1/institutions", on_institution_create, "institution_create" },
	{ HTTP_GET, "/api/v1/institutions/{code}", on_institution_get, "institution_get" },
	{ HTTP_POST, "/api/v1/institutions/{code}/keys", on_key_rotate, "key_rotate" },
	{ HTTP_GET, "/api/v1/institutions/{code}/people", on_people_list, "people_list" },
	{ HTTP_POST, "/api/v1/institutions/{code}/people", on_person_add, "person_add" },
	{ HTTP_POST, "/api/v1/institutions/{code}/learners:import", on_import, "learners_import",
	  ROUTE_BODY_FILE, (int64_t)256 << 20, import_precheck },
	{ HTTP_GET, "/api/v1/institutions/{code}/tokens", on_tokens_list, "tokens_list" },
	{ HTTP_POST, "/api/v1/institutions/{code}/tokens", on_token_create, "token_create" },
	{ HTTP_DELETE, "/api/v1/institutions/{code}/tokens/{uid}", on_token_revoke, "token_revoke" },
	{ HTTP_GET, "/api/v1/institutions/{code}/audit", on_audit, "audit_list" },
};
const size_t api_identity_routes_count =
	sizeof(api_identity_routes) / sizeof(api_identity_routes[0]);
