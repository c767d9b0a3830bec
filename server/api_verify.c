/*
 * api_verify.c - verifying credentials and presentations over HTTP (the
 * routes are in api_verify.h). The checks and their words are
 * courses/verify.c's; here are the lookups that feed it from the store:
 * the institutions' keys with their validity, each institution's signed
 * status list credential, the log's inclusion proofs under the log key.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/crypto.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/jsonin.h"
#include "courses/jsonout.h"
#include "courses/statuslist.h"
#include "courses/verify.h"
#include "server/api_revocation.h"
#include "server/api_tlog.h"
#include "server/api_util.h"
#include "server/api_verify.h"
#include "server/app.h"
#include "server/config.h"
#include "server/issuing.h"
#include "server/metrics.h"
#include "server/problem.h"
#include "server/tlog.h"
#include "server/verify_facts.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/recognition.h"
#include "storage/store.h"
#include "storage/tlog.h"

/* ---- the lookups ------------------------------------------------------------------ */

/*
 * While a status-list pin is on (revocation_pin: a batch's group), the
 * registry's answer for a DID is kept for the pin on this thread: the
 * credentials of a group share a few issuer keys, each looked up once a
 * group instead of twice a credential. A key rotated meanwhile is seen at
 * the next group, as the status list is.
 */
#define PINNED_KEYS 8

static _Thread_local struct {
	const struct app *app;
	int64_t pin;
	int found;			/* 0: TC_ENOTFOUND */
	struct verify_key key;
} pinned_keys[PINNED_KEYS];
static _Thread_local unsigned next_pinned_key;

static int
op_issuer_key(void *ctx, const char *did, struct verify_key *out)
{
	struct app *app = ctx;
	int64_t pin = revocation_pinned(app);
	unsigned i;
	int rc;

	if (!pin)
		return verify_facts_issuer_key_read(app->store, did, out);
	for (i = 0; i < PINNED_KEYS; i++)
		if (pinned_keys[i].app == app && pinned_keys[i].pin == pin &&
		    strcmp(pinned_keys[i].key.did, did) == 0) {
			if (!pinned_keys[i].found)
				return TC_ENOTFOUND;
			*out = pinned_keys[i].key;
			return 0;
		}
	rc = verify_facts_issuer_key_read(app->store, did, out);
	if ((rc == 0 || rc == TC_ENOTFOUND) && strlen(did) < sizeof(out->did)) {
		i = next_pinned_key++ % PINNED_KEYS;
		pinned_keys[i].app = app;
		pinned_keys[i].pin = pin;
		pinned_keys[i].found = rc == 0;
		if (rc == 0)
			pinned_keys[i].key = *out;
		else
			snprintf(pinned_keys[i].key.did, sizeof(pinned_keys[i].key.did), "%s", did);
	}
	return rc;
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
	if ((rc = revocation_list_doc(ctx, issuer->ref, list, NULL, NULL)))
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

#define IDLE_STORES 64	/* at least one per thread of the CPU pool (server/http.c) */

/* The checked checkpoint and the decoded status lists (courses/verify.h),
 * and the worker threads' own store connections, idle ones kept open. */
#define KEPT_LISTS 256		/* institutions' lists kept for the workers */
#define WANT_MAX 32		/* lists one request has kept for later ones (it gets
				 * all it needs made for itself) */

/* An institution's status list credential as the service thread last made
 * it (api_revocation.c), for the workers: current while the institution's
 * key and its stored bits' revision (store_status_list_rev) are these. */
struct kept_list {
	int64_t inst;
	char did[64];
	unsigned char bits_hash[32];
	int64_t rev;		/* the revision of the stored bits it was made from */
	json_t *doc;
};

/* How many lists are kept: KEPT_LISTS, or fewer for a test
 * (--verify-kept-lists). */
static size_t
kept_max(const struct app *app)
{
	int n = app->cfg->verify_kept_lists;

	return n >= 1 && n < KEPT_LISTS ? (size_t)n : KEPT_LISTS;
}

/* A worker's store connection with the facts read through it. */
struct verify_conn {
	struct store *st;
	struct verify_facts facts;
};

struct verify_keep {
	struct verify_cache *cache;
	pthread_mutex_t mu;		/* guards what follows */
	struct verify_conn *idle[IDLE_STORES];
	size_t nidle;
	struct kept_list lists[KEPT_LISTS];
	size_t nlists, next_list;
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

int
api_verify_prepare(struct app *app)
{
	return verify_keep_get(app) ? 0 : TC_ENOMEM;
}

void
api_verify_cleanup(struct app *app)
{
	struct verify_keep *v = app->verify;

	if (!v)
		return;
	for (size_t i = 0; i < v->nidle; i++) {
		store_close(v->idle[i]->st);
		free(v->idle[i]);
	}
	for (size_t i = 0; i < v->nlists; i++)
		json_decref(v->lists[i].doc);
	verify_cache_free(v->cache);
	pthread_mutex_destroy(&v->mu);
	free(v);
	app->verify = NULL;
}

/* On a worker thread: a store connection of its own (an idle one with its
 * facts, or a new one), or NULL. */
static struct verify_conn *
conn_take(struct app *app)
{
	struct verify_keep *v = app->verify;
	struct verify_conn *c = NULL;

	pthread_mutex_lock(&v->mu);
	if (v->nidle)
		c = v->idle[--v->nidle];
	pthread_mutex_unlock(&v->mu);
	if (c)
		return c;
	if (!(c = malloc(sizeof(*c))))
		return NULL;
	verify_facts_init(&c->facts);
	if (store_open(app->cfg->data_dir, &c->st) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void
conn_give(struct app *app, struct verify_conn *c)
{
	struct verify_keep *v = app->verify;

	pthread_mutex_lock(&v->mu);
	if (v->nidle < IDLE_STORES) {
		v->idle[v->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&v->mu);
	if (c) {
		store_close(c->st);
		free(c);
	}
}

/* *OPS: the lookups of LOOKUPS with CTX, at the time now, under APP's log
 * key, with CACHE (may be NULL). */
static void
ops_init(struct verify_ops *ops, const struct verify_ops *lookups, void *ctx, struct app *app,
	 struct verify_cache *cache)
{
	*ops = *lookups;
	ops->ctx = ctx;
	ops->now = (int64_t)time(NULL);
	ops->log_keys = tlog_verifier(app->tlog);
	ops->nlog_keys = 1;
	ops->cache = cache;
}

static void
server_ops(struct app *app, struct verify_ops *ops)
{
	static const struct verify_ops lookups = {
		.issuer_key = op_issuer_key, .status_list = op_status_list,
		.revocation_detail = op_revocation_detail, .log_proof = op_log_proof,
	};

	ops_init(ops, &lookups, app, app, verify_keep_get(app) ? app->verify->cache : NULL);
}

/* ---- the request bodies ----------------------------------------------------------- */

/* The words of the 400s (here and on the workers): options that are not
 * strings, and a body without what its route verifies. */
static const char BAD_OPTIONS[] = "options must be an object; its challenge and domain, when"
				  " given, strings";
static const char BAD_VERIFY[] = "the body must be {\"credential\": {...}} holding a verifiable"
				 " credential (an object with credentialSubject), or"
				 " {\"presentation\": {...}} holding a VerifiablePresentation";
static const char BAD_VCAPI[] = "the body must be {\"verifiableCredential\": {...},"
				" \"options\": {}} holding a verifiable credential (an object with"
				" credentialSubject)";
static const char BAD_VCAPI_VP[] = "the body must be {\"verifiablePresentation\": {...},"
				   " \"options\": {\"challenge\", \"domain\"}} holding a"
				   " VerifiablePresentation";

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
		problem_respond(resp, 400, NULL, BAD_OPTIONS);
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

/* The VC API's lists of T's checks into OUT: "checks" (the names of those
 * checked), "warnings" and "errors" ("NAME: DETAIL" of those not checked /
 * failed), as vcapi_lists makes them. */
static int
vcapi_lists_text(const struct verify_checks_text *t, struct dynbuf *out)
{
	static const char *const key[3] = { ",\"checks\":[", "],\"warnings\":[",
					    "],\"errors\":[" };
	const char *text = (const char *)t->out->data;

	for (int list = 0; list < 3; list++) {
		int first = 1;

		if (dynbuf_puts(out, key[list]))
			return TC_ENOMEM;
		for (int i = 0; i < t->n; i++) {
			const struct verify_check_text *c = &t->c[i];
			int in = list == 0 ? c->st != VERIFY_UNCHECKED :
				 list == 1 ? c->st == VERIFY_UNCHECKED : c->st == VERIFY_FAIL;

			if (!in)
				continue;
			if ((!first && dynbuf_puts(out, ",")) ||
			    dynbuf_printf(out, "\"%s", c->name) ||
			    (list && (dynbuf_puts(out, ": ") ||
				      dynbuf_append(out, text + c->detail_at + 1,
						    c->detail_len - 1))) ||
			    (!list && dynbuf_puts(out, "\"")))
				return TC_ENOMEM;
			first = 0;
		}
	}
	return dynbuf_puts(out, "]") ? TC_ENOMEM : 0;
}

/* credential_result's answer written as text into OUT (the same bytes as
 * its tree's compact text) without the checks' trees: 0, or an error. */
static int
credential_text(json_t *cred, const struct verify_ops *ops, int vcapi, struct dynbuf *out)
{
	struct dynbuf checks;
	struct verify_checks_text t = { &checks, { { 0 } }, 0 };
	enum verify_state verdict;
	const json_t *id = json_object_get(cred, "id");
	char *s = NULL;
	int rc;

	dynbuf_init(&checks, SIZE_MAX / 2);
	if ((rc = dynbuf_reserve(&checks, 4096)) ||
	    (rc = verify_credential_text(cred, ops, &t, &verdict)) ||
	    (rc = dynbuf_puts(out, verdict == VERIFY_PASS ? "{\"verified\":true" :
			      "{\"verified\":false")))
		goto out;
	if (vcapi) {
		if ((rc = vcapi_lists_text(&t, out)) || (rc = dynbuf_puts(out, ",\"details\":")))
			goto out;
	} else {
		/* "id" as json_pack's "O" gives it: the member, else null */
		if ((rc = dynbuf_puts(out, ",\"id\":")))
			goto out;
		if (!id)
			rc = dynbuf_puts(out, "null");
		else if ((rc = json_write_compact(id, out)) == TC_EINVALID)
			rc = (s = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY)) ?
			     dynbuf_puts(out, s) : TC_ENOMEM;
		if (rc || (rc = dynbuf_puts(out, ",\"checks\":")))
			goto out;
	}
	if (!(rc = dynbuf_append(out, checks.data, checks.len)))
		rc = dynbuf_puts(out, "}");
out:
	free(s);
	dynbuf_cleanup(&checks);
	return rc;
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

/* reply_presentation's answer as compact JSON text into *OUT (VCAPI: the
 * VC API's shape), with OPS: 0, or an error. OPTIONS as read_options
 * accepts them. */
static int
presentation_text(json_t *vp, const struct verify_ops *ops, json_t *options, int vcapi,
		  char **out)
{
	enum verify_state verdict;
	json_t *r = NULL, *o;
	int rc;

	*out = NULL;
	if ((rc = verify_presentation(vp, ops, json_string_value(json_object_get(options, "challenge")),
				      json_string_value(json_object_get(options, "domain")), &r,
				      &verdict)))
		return rc;
	o = vcapi ? vcapi_presentation(r) : json_incref(r);
	json_decref(r);
	if (o && !(*out = json_dumps(o, JSON_COMPACT)))
		rc = TC_ENOMEM;
	json_decref(o);
	return o ? rc : TC_ENOMEM;
}

/* POST /presentations/verify with BODY (taken over), here. */
static void
vcapi_presentation_body(struct app *app, struct http_response *resp, json_t *body)
{
	json_t *vp = json_object_get(body, "verifiablePresentation");

	if (!verify_is_presentation(vp))
		problem_respond(resp, 400, NULL, BAD_VCAPI_VP);
	else
		reply_presentation(app, resp, vp, json_object_get(body, "options"), 1);
	json_decref(body);
}

/* POST /api/v1/credentials/verify with BODY (taken over), here. */
static void
verify_body(struct app *app, struct http_response *resp, json_t *body)
{
	json_t *cred, *vp;

	cred = json_object_get(body, "credential");
	vp = json_object_get(body, "presentation");
	if (verify_is_credential(cred))
		reply_credential(app, resp, cred, 0);
	else if (!cred && verify_is_presentation(vp))
		reply_presentation(app, resp, vp, json_object_get(body, "options"), 0);
	else
		problem_respond(resp, 400, NULL, BAD_VERIFY);
	json_decref(body);
}

/* POST /credentials/verify with BODY (taken over), here. */
static void
vcapi_body(struct app *app, struct http_response *resp, json_t *body)
{
	const char *challenge, *domain;
	json_t *cred;

	cred = json_object_get(body, "verifiableCredential");
	if (!verify_is_credential(cred))
		problem_respond(resp, 400, NULL, BAD_VCAPI);
	else if (read_options(json_object_get(body, "options"), &challenge, &domain, resp) == 0)
		reply_credential(app, resp, cred, 1);
	json_decref(body);
}

/* ---- a credential or presentation verified on the worker pool -------------------- */

/*
 * POST /api/v1/credentials/verify, POST /credentials/verify and POST
 * /presentations/verify with a credential or a presentation run on a
 * worker thread from the body's bytes to the answer's
 * (parse, the checks, the answer's JSON), with a store connection of its
 * own, so that both cores verify and the event loop only moves bytes. The
 * issuer's status list credential is made (and signed when its bits or key
 * changed) only by api_revocation.c on the service thread: the worker takes
 * the copy kept in struct verify_keep when the institution's current key
 * and the revision of its stored bits are still the ones it was made from
 * (store_status_list_rev: one integer read, not the bitstring).
 * A list not kept or stale is noted (every one the request needs), the
 * service thread makes them for the job itself (any number of them: a
 * presentation of more issuers than are kept gets them all) and keeps up
 * to WANT_MAX of them for later requests, and the job runs again on the
 * workers (verify_again). A list that went stale once more meanwhile (a
 * revocation) is made again once; the last run takes the list made for it,
 * which was current while the request was in flight. Bad bodies get their
 * 400 on the worker too: nothing is verified on the service thread (only
 * when a job cannot be allocated at all, counted in
 * tinchi_verify_inline_total).
 */
#define VERIFY_RUNS 3		/* run() calls a job may take: two more after the first */

/* A status list made for one job on the service thread (list_make): RC
 * its error, else K. */
struct job_list {
	struct kept_list k;
	int rc;
};

struct verify_job {
	struct http_deferred d;
	struct app *app;
	char *text;			/* the request body, owned */
	size_t len;
	int vcapi;			/* a W3C VC API route */
	int vp_route;			/* POST /presentations/verify */
	int runs;			/* run() calls so far */
	int again;			/* lists wanted: made on the service thread, run again */
	int64_t *want;			/* the institutions whose lists were missing, owned */
	size_t nwant, want_size;
	struct job_list *own;		/* the lists made for this job, owned */
	size_t nown;
	int status;			/* 200 with OUT, 400 with BAD (or WHY), or an error in RC */
	int rc;
	char *out;			/* the answer's JSON, owned */
	const char *bad;		/* a 400's words (static), NULL: WHY's */
	char why[256];
};

struct worker_ctx {
	struct verify_job *j;
	struct verify_conn *c;
	struct store *st;		/* c->st */
};

/* The lookups of a worker read through its connection's facts
 * (server/verify_facts.h: kept while the database has not changed). */
static int
w_issuer_key(void *ctx, const char *did, struct verify_key *out)
{
	struct worker_ctx *w = ctx;

	return verify_facts_issuer_key(&w->c->facts, w->st, did, out);
}

/* The status bits of institution INST as stored (all zero when none were
 * stored yet, as api_revocation.c makes the list then): 0 and *BITS
 * (free it), or an error. */
static int
stored_bits(struct store *st, int64_t inst, unsigned char **bits, size_t *len)
{
	int rc = store_status_list_get(st, inst, ISSUING_PURPOSE, bits, len);

	if (rc == TC_ENOTFOUND) {	/* nothing issued yet: an all-zero list */
		*len = STATUSLIST_MIN_BITS / 8;
		rc = (*bits = calloc(1, *len)) ? 0 : TC_ENOMEM;
	}
	return rc;
}

/* The list made for J's institution INST, or NULL. */
static struct job_list *
job_own(struct verify_job *j, int64_t inst)
{
	for (size_t i = 0; i < j->nown; i++)
		if (j->own[i].k.inst == inst)
			return &j->own[i];
	return NULL;
}

/* Notes that J wants INST's list made: 0, or TC_ENOMEM. */
static int
job_want(struct verify_job *j, int64_t inst)
{
	int64_t *w;
	size_t n;

	for (size_t i = 0; i < j->nwant; i++)
		if (j->want[i] == inst)
			return 0;
	if (j->nwant == j->want_size) {
		n = j->want_size ? 2 * j->want_size : 8;
		if (!(w = realloc(j->want, n * sizeof(*w))))
			return TC_ENOMEM;
		j->want = w;
		j->want_size = n;
	}
	j->want[j->nwant++] = inst;
	return 0;
}

/* The kept list of INST when DID is still its key and REV the revision of
 * its stored bits (a new reference), or NULL. */
static json_t *
kept_doc(struct verify_keep *v, int64_t inst, const char *did, int64_t rev)
{
	json_t *doc = NULL;

	pthread_mutex_lock(&v->mu);
	for (size_t i = 0; i < v->nlists && !doc; i++)
		if (v->lists[i].inst == inst && v->lists[i].rev == rev &&
		    strcmp(v->lists[i].did, did) == 0)
			doc = json_incref(v->lists[i].doc);
	pthread_mutex_unlock(&v->mu);
	return doc;
}

/* The kept list of ISSUER, or the one made for this job, when its key and
 * bits are still the stored ones; else the list is wanted, and "not
 * available" lets the verification go on to find the other missing ones
 * (its answer is not used: the job runs again). The last run takes the
 * list made for it as it is. */
static int
w_status_list(void *ctx, const struct verify_key *issuer, const char *url, json_t **list,
	      int *made_here)
{
	struct worker_ctx *w = ctx;
	struct verify_job *j = w->j;
	struct job_list *o;
	char did[64];
	int64_t rev = 0;
	int rc, current;

	(void)url;
	*list = NULL;
	if (!issuer)
		return TC_ENOTFOUND;
	rc = verify_facts_key_current(&w->c->facts, w->st, issuer->ref, did);
	if (rc == 0)
		rc = verify_facts_list_rev(&w->c->facts, w->st, issuer->ref, &rev);
	/* the revision of the bits as stored now (a revocation bumps it in its
	 * own transaction), compared with that of the bits the kept list was
	 * made from: a revocation shows at once */
	if (rc == 0)
		*list = kept_doc(j->app->verify, issuer->ref, did, rev);
	o = *list ? NULL : job_own(j, issuer->ref);
	current = o && rc == 0 && o->k.rev == rev && strcmp(o->k.did, did) == 0;
	if (o && !o->rc && (current || j->runs >= VERIFY_RUNS))
		*list = json_incref(o->k.doc);
	if (*list) {
		*made_here = 1;
		return 0;
	}
	if (o && o->rc)
		return o->rc;		/* what op_status_list says */
	if (j->runs >= VERIFY_RUNS)
		return TC_EBUSY;	/* none made for it: the client may try again */
	if ((rc = job_want(j, issuer->ref)))
		return rc;
	j->again = 1;
	return TC_ENOTFOUND;
}

/* On the service thread: INST's list as op_status_list gives it, into *K
 * (K->doc a new reference), with the revision of the stored bits it is
 * current for (-1 when that cannot be told). 0, or revocation_list_doc's
 * error (*K then holds no list). */
static int
list_make(struct app *app, int64_t inst, struct kept_list *k)
{
	unsigned char h[32], *bits = NULL;
	size_t nbits = 0;
	int rc, same = 0;

	memset(k, 0, sizeof(*k));
	k->inst = inst;
	/* the revision first: bits changed after it have a later one, so the
	 * list is at worst taken for an older revision than its bits' (made
	 * again at the next request), never for a newer one */
	if (store_status_list_rev(app->store, inst, ISSUING_PURPOSE, &k->rev) != 0)
		k->rev = -1;
	if ((rc = revocation_list_doc(app, inst, &k->doc, k->did, k->bits_hash)))
		return rc;
	/* the list's bits are still the stored ones (its hash is the list's) */
	if (k->rev >= 0 && stored_bits(app->store, inst, &bits, &nbits) == 0) {
		sha256_raw(bits, nbits, h);
		same = memcmp(h, k->bits_hash, 32) == 0;
	}
	if (!same)
		k->rev = -1;	/* changed since: made again when next wanted */
	free(bits);
	return 0;
}

/* On the service thread: keeps K (a reference of its own to its list) for
 * the workers. */
static void
keep_list(struct app *app, const struct kept_list *k)
{
	struct verify_keep *v = app->verify;
	size_t i;

	pthread_mutex_lock(&v->mu);
	for (i = 0; i < v->nlists; i++)
		if (v->lists[i].inst == k->inst)
			break;
	if (i == v->nlists) {
		if (v->nlists < kept_max(app))
			v->nlists++;
		else
			i = v->next_list++ % kept_max(app);
	}
	json_decref(v->lists[i].doc);
	v->lists[i] = *k;
	json_incref(k->doc);
	pthread_mutex_unlock(&v->mu);
}

/* After a run, on the service thread: the lists J wanted made for it, and
 * the first WANT_MAX of them kept for later requests. 1 to run J again. */
static int
verify_again(struct http_deferred *d)
{
	struct verify_job *j = (struct verify_job *)d;
	struct job_list *o;
	size_t kept = 0;

	if (!j->again)
		return 0;
	j->again = 0;
	if (j->runs >= VERIFY_RUNS) {	/* the last run wants none (w_status_list) */
		j->rc = TC_EBUSY;
		return 0;
	}
	if (!(o = realloc(j->own, (j->nown + j->nwant) * sizeof(*o)))) {
		j->rc = TC_ENOMEM;
		return 0;
	}
	j->own = o;
	for (size_t i = 0; i < j->nwant; i++) {
		if ((o = job_own(j, j->want[i])))
			json_decref(o->k.doc);
		else
			o = &j->own[j->nown++];
		o->rc = list_make(j->app, j->want[i], &o->k);
		if (!o->rc && o->k.rev >= 0 && kept++ < WANT_MAX)
			keep_list(j->app, &o->k);
	}
	j->nwant = 0;
	return 1;
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
	struct worker_ctx *w = ctx;
	const struct tlog_checkpoint *cp = NULL;
	int rc = verify_facts_checkpoint(&w->c->facts, w->st, &cp);

	/* no checkpoint yet, or a storage error: the proof's own read says so */
	if (rc == 0)
		rc = api_tlog_proof_at(w->st, tlog_node_cache(w->j->app->tlog),
				       tlog_block_cache(w->j->app->tlog), cp, hash, proof, why,
				       whysize);
	else
		rc = api_tlog_proof_blocks(w->st, tlog_node_cache(w->j->app->tlog),
					   tlog_block_cache(w->j->app->tlog), hash, 0, proof, why,
					   whysize);
	return rc == TC_EBUSY ? TC_ENOTFOUND : rc;
}

/* The lookups of a worker with W's connection. */
static void
worker_ops(struct worker_ctx *w, struct verify_ops *ops)
{
	static const struct verify_ops lookups = {
		.issuer_key = w_issuer_key, .status_list = w_status_list,
		.revocation_detail = w_revocation_detail, .log_proof = w_log_proof,
	};

	ops_init(ops, &lookups, w, w->j->app, w->j->app->verify->cache);
}

/* J's body as api_read_json reads it (json_read_object gives the same tree
 * without jansson's lexer, or leaves the text to json_loadb): the object,
 * or NULL with J's 400. */
static json_t *
job_parse(struct verify_job *j)
{
	json_error_t err;
	json_t *body = json_read_object(j->text, j->len);

	if (!body)
		body = json_loadb(j->text, j->len, JSON_REJECT_DUPLICATES, &err);
	if (body && json_is_object(body))
		return body;
	snprintf(j->why, sizeof(j->why), "the body is not a JSON object%s%s",
		 body ? "" : ": ", body ? "" : err.text);
	json_decref(body);
	j->status = 400;
	return NULL;
}

/* What BODY asks J's route to verify, by the rules of verify_body,
 * vcapi_body and vcapi_presentation_body: the credential *CRED or the
 * presentation *VP (the other NULL) and NULL, or the words of the 400 that
 * answers it. */
static const char *
job_kind(const struct verify_job *j, json_t *body, json_t **cred, json_t **vp)
{
	json_t *opt = json_object_get(body, "options");
	/* read_options' rule (the VC API's options and a presentation's; the
	 * other route ignores them) */
	int bad_opt = (opt && !json_is_object(opt)) ||
		      (json_object_get(opt, "challenge") &&
		       !json_is_string(json_object_get(opt, "challenge"))) ||
		      (json_object_get(opt, "domain") &&
		       !json_is_string(json_object_get(opt, "domain")));

	*cred = *vp = NULL;
	if (j->vp_route) {
		*vp = json_object_get(body, "verifiablePresentation");
		return !verify_is_presentation(*vp) ? BAD_VCAPI_VP : bad_opt ? BAD_OPTIONS : NULL;
	}
	*cred = json_object_get(body, j->vcapi ? "verifiableCredential" : "credential");
	if (j->vcapi)
		return !verify_is_credential(*cred) ? BAD_VCAPI : bad_opt ? BAD_OPTIONS : NULL;
	if (verify_is_credential(*cred))
		return NULL;
	/* a presentation as /api/v1/credentials/verify's "presentation" when
	 * there is no "credential" */
	if (*cred || !verify_is_presentation(*vp = json_object_get(body, "presentation")))
		return BAD_VERIFY;
	return bad_opt ? BAD_OPTIONS : NULL;
}

/* Verifies CRED or VP (of J's BODY) with OPS: J's answer, or its error. */
static void
job_answer(struct verify_job *j, const struct verify_ops *ops, json_t *body, json_t *cred,
	   json_t *vp)
{
	struct dynbuf b;

	if (vp) {
		j->rc = presentation_text(vp, ops, json_object_get(body, "options"), j->vp_route,
					  &j->out);
	} else {
		/* the answer written as text, without the checks' trees */
		dynbuf_init(&b, SIZE_MAX / 2);
		if (!(j->rc = dynbuf_reserve(&b, 8192)) &&
		    !(j->rc = credential_text(cred, ops, j->vcapi, &b)) &&
		    !(j->out = dynbuf_take(&b, NULL)))
			j->rc = TC_ENOMEM;
		dynbuf_cleanup(&b);
	}
	if (!j->rc)
		j->status = 200;
}

/* job_answer with a store connection of the worker's own (none to be had:
 * TC_EBUSY, the client may try again). */
static void
job_verify(struct verify_job *j, json_t *body, json_t *cred, json_t *vp)
{
	struct worker_ctx wc = { j, NULL, NULL };
	struct verify_ops ops;
	int began = 0;

	if (!(wc.c = conn_take(j->app))) {
		j->rc = TC_EBUSY;
		return;
	}
	wc.st = wc.c->st;
	worker_ops(&wc, &ops);
	/* its 30 or so reads from one snapshot (one WAL read lock, not one
	 * each); the facts kept when the snapshot's data version is theirs (an
	 * error there: read through, keeping nothing) */
	if ((j->rc = store_tlog_read_begin(wc.st, &began)) == 0) {
		verify_facts_begin(&wc.c->facts, wc.st);
		job_answer(j, &ops, body, cred, vp);
	}
	/* a connection whose read could not end would keep its snapshot (and
	 * its facts) for good: closed rather than pooled */
	if (store_tlog_read_end(wc.st, began)) {
		store_close(wc.c->st);
		free(wc.c);
	} else {
		conn_give(j->app, wc.c);
	}
}

static void
verify_run(struct work *w)
{
	struct verify_job *j = (struct verify_job *)w;
	json_t *body, *cred, *vp;

	j->runs++;
	j->status = j->rc = 0;
	j->bad = NULL;
	free(j->out);		/* an earlier run's, made without some lists */
	j->out = NULL;
	if (!(body = job_parse(j)))
		return;
	if ((j->bad = job_kind(j, body, &cred, &vp)))
		j->status = 400;
	else
		job_verify(j, body, cred, vp);
	/* the tree freed here, by the thread that allocated it (a run again
	 * reads the text again): freed on the service thread it went back to
	 * this thread's malloc arena under its lock, contended by this
	 * thread's next request */
	json_decref(body);
}

static void
verify_finish(struct http_deferred *d, struct http_response *resp)
{
	struct verify_job *j = (struct verify_job *)d;

	if (resp && j->rc) {
		problem_respond_err(resp, j->rc, NULL);
	} else if (resp && j->status == 400) {
		problem_respond(resp, 400, NULL, j->bad ? j->bad : j->why);
	} else if (resp) {
		dynbuf_reset(&resp->body);
		if (dynbuf_append(&resp->body, j->out, strlen(j->out)) != 0) {
			problem_respond_err(resp, TC_ENOMEM, NULL);
		} else {
			resp->status = 200;
			resp->content_type = "application/json";
		}
	}
	for (size_t i = 0; i < j->nown; i++)
		json_decref(j->own[i].k.doc);
	free(j->own);
	free(j->want);
	free(j->out);
	free(j->text);
	free(j);
}

/* The three routes: the body's bytes to a worker, or answered here when
 * that cannot be. VCAPI: a W3C VC API route; VP_ROUTE: POST
 * /presentations/verify. */
static int
verify_deferred(struct app *app, struct http_request *req, struct http_response *resp, int vcapi,
		int vp_route)
{
	struct verify_job *j = NULL;
	json_t *body = NULL;

	if (strncmp(req->content_type, "application/json", 16) == 0 && verify_keep_get(app) &&
	    (j = calloc(1, sizeof(*j))) && (j->text = malloc(req->body.len + 1))) {
		memcpy(j->text, req->body.data ? req->body.data : "", req->body.len);
		j->len = req->body.len;
		j->app = app;
		j->vcapi = vcapi;
		j->vp_route = vp_route;
		j->d.work.run = verify_run;
		j->d.finish = verify_finish;
		j->d.again = verify_again;
		j->d.cpu = 1;
		req->deferred = &j->d;
		return 0;
	}
	free(j);
	if (api_read_json(req, resp, &body))
		return 0;
	metrics_verify_inline(app->metrics);	/* no memory for the job */
	if (vp_route)
		vcapi_presentation_body(app, resp, body);
	else if (vcapi)
		vcapi_body(app, resp, body);
	else
		verify_body(app, resp, body);
	return 0;
}

static int
on_verify(struct app *app, struct http_request *req, struct http_response *resp)
{
	return verify_deferred(app, req, resp, 0, 0);
}

static int
on_vcapi_credential(struct app *app, struct http_request *req, struct http_response *resp)
{
	return verify_deferred(app, req, resp, 1, 0);
}

static int
on_vcapi_presentation(struct app *app, struct http_request *req, struct http_response *resp)
{
	return verify_deferred(app, req, resp, 1, 1);
}

const struct route api_verify_routes[] = {
	{ HTTP_POST, "/api/v1/credentials/verify", on_verify, "credentials_verify" },
	{ HTTP_POST, "/credentials/verify", on_vcapi_credential, "vcapi_verify" },
	{ HTTP_POST, "/presentations/verify", on_vcapi_presentation, "vcapi_presentation_verify" },
};
const size_t api_verify_routes_count = sizeof(api_verify_routes) / sizeof(api_verify_routes[0]);
