/*
 * api_revocation.c - revocation by an institution's admins and the status
 * list credential of each issuer (see api_revocation.h for the routes).
 *
 * The status list credential is a VC 2.0 BitstringStatusListCredential,
 * issued by the institution's current did:key and signed with
 * eddsa-jcs-2022 like the credentials. Signing is cached per institution:
 * the cache entry is the JCS text, valid while the stored bits (by their
 * SHA-256) and the signing key are the ones it was made from, so a
 * revocation (here or on another node) makes the next request sign anew.
 */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/authz.h"
#include "courses/credential.h"
#include "courses/crypto.h"
#include "courses/csv.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/jcs.h"
#include "courses/log.h"
#include "courses/statuslist.h"
#include "server/api_revocation.h"
#include "server/api_util.h"
#include "server/api_xapi.h"
#include "server/app.h"
#include "server/config.h"
#include "server/issuing.h"
#include "server/problem.h"
#include "server/tlog.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/keys.h"

#define BULK_ROWS_MAX 100000
#define BULK_BODY_MAX ((int64_t)64 << 20)
/* revocations a transaction: the service thread waits at most 250 ms for
 * the write lock, so a bulk job never holds it long */
#define BULK_TX 200

/* ---- the status list credential ---------------------------------------------------- */

struct status_vc {
	int64_t institution_id;
	char did[64];			/* the key that signed it */
	unsigned char bits_hash[32];	/* SHA-256 of the bits it encodes */
	int64_t rev;			/* a revision of those bits (store_status_list_rev) */
	char *text;			/* JCS text, owned */
	json_t *doc;			/* the same, parsed (verifying reads it) */
	char etag[40];
	int64_t pin;			/* the pin it was last checked under */
};

struct status_cache {
	struct status_vc *v;
	size_t n;
	int64_t pin;			/* revocation_pin: the current one (0: none) */
};

/* Pins are numbered across the process: what is kept under one (here and
 * in api_verify.c) is never taken for another's. */
static _Atomic int64_t pins;

/* INSTITUTION_ID's list when a pin is on and it was checked under it. */
static struct status_vc *
pinned(struct app *app, int64_t institution_id)
{
	struct status_cache *c = app->status_cache;

	if (!c || !c->pin)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].institution_id == institution_id)
			return c->v[i].pin == c->pin ? &c->v[i] : NULL;
	return NULL;
}

int64_t
revocation_pinned(const struct app *app)
{
	return app->status_cache ? app->status_cache->pin : 0;
}

int
revocation_pin(struct app *app, int on)
{
	struct status_cache *c = app->status_cache;

	if (!c && !(c = app->status_cache = calloc(1, sizeof(*c))))
		return TC_ENOMEM;
	c->pin = on ? ++pins : 0;
	return 0;
}

void
api_revocation_cleanup(struct app *app)
{
	if (!app->status_cache)
		return;
	for (size_t i = 0; i < app->status_cache->n; i++) {
		free(app->status_cache->v[i].text);
		json_decref(app->status_cache->v[i].doc);
	}
	free(app->status_cache->v);
	free(app->status_cache);
	app->status_cache = NULL;
}

struct signer {
	char dir[4200];
	const char *file;
};

static int
sign_cb(void *arg, const void *msg, size_t n, unsigned char sig[64])
{
	const struct signer *sg = arg;

	return keys_sign(sg->dir, sg->file, msg, n, sig);
}

/* The URL the credentials name in credentialStatus.statusListCredential
 * (server/issuing.c builds the same). */
static void
status_url(struct app *app, const char *inst_code, char *out, size_t n)
{
	char home[600];

	lrs_home_page(app, home, sizeof(home));
	snprintf(out, n, "%s/api/v1/institutions/%s/status/%s", home, inst_code, ISSUING_PURPOSE);
}

/* Builds and signs the status list credential of INST with KEY over BITS
 * (LEN bytes) into *TEXT (malloc'ed JCS text). */
static int
status_vc_make(struct app *app, const struct institution *inst, const struct inst_key *key,
	       unsigned char *bits, size_t len, char **text)
{
	struct statuslist sl = { .bits = bits, .nbits = len * 8 };
	struct di_proof_options opt = { 0 };
	struct signer sg;
	struct dynbuf b;
	char url[700], list_id[720], now[32], vm[DID_KEY_VM_MAX];
	char *encoded = NULL;
	json_t *doc = NULL, *signed_doc = NULL;
	int rc;

	*text = NULL;
	if ((rc = statuslist_encode(&sl, &encoded)))
		return rc;
	status_url(app, inst->code, url, sizeof(url));
	snprintf(list_id, sizeof(list_id), "%s#list", url);
	api_time((int64_t)time(NULL), now);
	doc = json_pack("{s:[s], s:s, s:[s,s], s:s, s:s, s:{s:s, s:s, s:s, s:s}}",
			"@context", CREDENTIAL_CONTEXT_VC, "id", url,
			"type", "VerifiableCredential", "BitstringStatusListCredential",
			"issuer", key->did, "validFrom", now,
			"credentialSubject", "id", list_id, "type", "BitstringStatusList",
			"statusPurpose", ISSUING_PURPOSE, "encodedList", encoded);
	free(encoded);
	if (!doc)
		return TC_ENOMEM;
	if ((rc = did_key_vm_from_ed25519(key->pub, vm, sizeof(vm))) == 0) {
		opt.verification_method = vm;
		opt.created = now;
		opt.proof_array = 1;
		snprintf(sg.dir, sizeof(sg.dir), "%s/keys", app->cfg->data_dir);
		sg.file = key->file;
		rc = di_add_proof(doc, &opt, sign_cb, &sg, &signed_doc);
	}
	json_decref(doc);
	if (rc)
		return rc;
	dynbuf_init(&b, 1 << 26);
	rc = jcs_canonicalize(signed_doc, &b);
	json_decref(signed_doc);
	if (rc == 0 && !(*text = dynbuf_take(&b, NULL)))
		rc = TC_ENOMEM;
	dynbuf_cleanup(&b);
	return rc;
}

/* The signed status list credential of INST, made when the cached one is
 * stale: *OUT is borrowed from APP's cache until the next call. */
static int
status_vc_get(struct app *app, const struct institution *inst, const struct status_vc **out)
{
	struct status_cache *c = app->status_cache;
	struct status_vc *e = NULL;
	struct inst_key key;
	unsigned char *bits = NULL, h[32];
	size_t len = 0;
	char *text = NULL, hex[SHA256_HEX_LEN + 1];
	int64_t rev = 0;
	int rc;

	if (!c && !(c = app->status_cache = calloc(1, sizeof(*c))))
		return TC_ENOMEM;
	if ((rc = store_key_current(app->store, inst->id, &key)))
		return rc;
	/* the revision first, then the bits (as new or newer): equal revisions
	 * mean equal bits, so a list kept under this revision is current
	 * without reading them (up to 16 MiB); bits newer than REV are kept
	 * under REV and read again at the next request */
	if ((rc = store_status_list_rev(app->store, inst->id, ISSUING_PURPOSE, &rev)))
		return rc;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].institution_id == inst->id)
			e = &c->v[i];
	if (e && e->rev == rev && strcmp(e->did, key.did) == 0) {
		e->pin = c->pin;
		*out = e;
		return 0;
	}
	e = NULL;
	rc = store_status_list_get(app->store, inst->id, ISSUING_PURPOSE, &bits, &len);
	if (rc == TC_ENOTFOUND) {	/* nothing issued yet: an all-zero list */
		len = STATUSLIST_MIN_BITS / 8;
		rc = (bits = calloc(1, len)) ? 0 : TC_ENOMEM;
	}
	if (rc)
		return rc;
	sha256_raw(bits, len, h);
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].institution_id == inst->id)
			e = &c->v[i];
	if (e && strcmp(e->did, key.did) == 0 && memcmp(e->bits_hash, h, 32) == 0) {
		free(bits);
		e->rev = rev;
		e->pin = c->pin;
		*out = e;
		return 0;
	}
	rc = status_vc_make(app, inst, &key, bits, len, &text);
	free(bits);
	if (rc)
		return rc;
	if (!e) {
		struct status_vc *v = realloc(c->v, (c->n + 1) * sizeof(*v));

		if (!v) {
			free(text);
			return TC_ENOMEM;
		}
		c->v = v;
		e = &c->v[c->n++];
		memset(e, 0, sizeof(*e));
		e->institution_id = inst->id;
	}
	free(e->text);
	json_decref(e->doc);
	e->text = text;
	e->doc = NULL;
	snprintf(e->did, sizeof(e->did), "%s", key.did);
	memcpy(e->bits_hash, h, 32);
	e->rev = rev;
	sha256_hex(text, strlen(text), hex);
	snprintf(e->etag, sizeof(e->etag), "\"%.32s\"", hex);
	e->pin = c->pin;
	*out = e;
	return 0;
}

static int
on_status_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *purpose = http_request_param(req, "purpose");
	const struct status_vc *v = NULL;
	struct institution inst;
	int rc;

	if (api_institution(app, req, resp, &inst))
		return 0;
	if (!purpose || strcmp(purpose, ISSUING_PURPOSE) != 0)
		return problem_respond(resp, 404, NULL, "the only status list is"
				       " .../status/" ISSUING_PURPOSE);
	rc = status_vc_get(app, &inst, &v);
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "the institution has no signing key, so"
				       " no status list");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	http_response_header(resp, "etag", v->etag);
	http_response_header(resp, "cache-control", "public, max-age=300");
	if (req->if_none_match[0] && (strstr(req->if_none_match, v->etag) ||
				      strcmp(req->if_none_match, "*") == 0)) {
		resp->status = 304;
		return 0;
	}
	dynbuf_reset(&resp->body);
	if (dynbuf_puts(&resp->body, v->text))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	resp->status = 200;
	resp->content_type = "application/json";
	return 0;
}

int
revocation_list_text(struct app *app, int64_t institution_id, char **text)
{
	const struct status_vc *v = NULL;
	struct institution inst;
	int rc;

	*text = NULL;
	if ((rc = store_institution_get_id(app->store, institution_id, &inst)) ||
	    (rc = status_vc_get(app, &inst, &v)))
		return rc;
	return (*text = strdup(v->text)) ? 0 : TC_ENOMEM;
}

int
revocation_list_doc(struct app *app, int64_t institution_id, json_t **doc, char did[64],
		    unsigned char bits_hash[32])
{
	struct status_vc *v = NULL;
	struct institution inst;
	int rc;

	*doc = NULL;
	if (!(v = pinned(app, institution_id)) &&
	    ((rc = store_institution_get_id(app->store, institution_id, &inst)) ||
	     (rc = status_vc_get(app, &inst, (const struct status_vc **)&v))))
		return rc;
	/* parsed once per text made (it is JSON we made) */
	if (!v->doc && !(v->doc = json_loads(v->text, 0, NULL)))
		return TC_ENOMEM;
	*doc = json_incref(v->doc);
	if (did)
		memcpy(did, v->did, 64);
	if (bits_hash)
		memcpy(bits_hash, v->bits_hash, 32);
	return 0;
}

/* ---- revoking ------------------------------------------------------------------------- */

/* Characters (UTF-8 sequences) in valid UTF-8 text S. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

const char *
revocation_reason_problem(const char *reason)
{
	const char *p;

	if (!reason)
		return "reason is required";
	for (p = reason; *p == ' ' || *p == '\t'; p++)
		;
	if (!*p)
		return "reason must not be empty";
	if (utf8_chars(reason) > CRED_REASON_CHARS)
		return "reason must be at most 500 characters";
	for (p = reason; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return "reason must be one line of text (no control characters)";
	return NULL;
}

/* The issuer did of the stored credential C into OUT. */
static int
cred_issuer(const struct credential_rec *c, char *out, size_t n)
{
	json_t *doc = json_loads(c->json, 0, NULL);
	json_t *iss = json_object_get(doc, "issuer");
	const char *did = json_is_object(iss) ? json_string_value(json_object_get(iss, "id")) :
			  json_string_value(iss);
	int rc = did && strlen(did) < n ? 0 : TC_EDB;	/* the store holds what it issued */

	if (rc == 0)
		snprintf(out, n, "%s", did);
	json_decref(doc);
	return rc;
}

/* Inside the caller's transaction: C revoked at NOW for REASON, and the
 * log's "revoke" entry. */
static int
revoke_one(struct app *app, int64_t id, const char *hash, const char *did, int64_t now,
	   const char *reason)
{
	char subject[80], why[160] = "";
	int rc = store_credential_revoke(app->store, id, ISSUING_PURPOSE, now, reason);

	snprintf(subject, sizeof(subject), "sha256:%s", hash);
	if (rc == 0 && (rc = tlog_append(app->store, "revoke", subject, did, now, NULL, why,
					 sizeof(why))))
		log_err("revocation of credential %lld: not appended to the log: %s %s",
			(long long)id, tc_strerror(rc), why);
	return rc;
}

static int
on_revoke(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *uid = http_request_param(req, "uid"), *reason, *why;
	struct credential_rec c = { 0 };
	char did[256], when[32];
	json_t *body = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc, bad = 0;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 0;
	rc = uid ? store_credential_get(app->store, uid, &c) : TC_ENOTFOUND;
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such credential");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	if (api_allow(req, resp, AZ_CREDENTIAL_REVOKE, c.institution_id))
		goto out;
	if (api_bulk_busy(app, c.institution_id)) {
		api_bulk_refuse(resp, "not revoked");
		goto out;
	}
	if (api_read_json(req, resp, &body))
		goto out;
	reason = api_str(body, "reason", &bad);
	why = bad ? "reason must be a string" : revocation_reason_problem(reason);
	if (why) {
		problem_respond(resp, 400, NULL, why);
		goto out;
	}
	if (c.revoked_at) {
		api_time(c.revoked_at, when);
		problem_respond(resp, 409, NULL, "the credential is revoked already");
		goto out;
	}
	if ((rc = cred_issuer(&c, did, sizeof(did))) || (rc = store_begin(app->store))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	rc = revoke_one(app, c.id, c.hash, did, now, reason);
	if (rc == 0)
		rc = store_commit(app->store);
	if (rc) {
		store_rollback(app->store);
		if (rc == TC_ECONFLICT)
			problem_respond(resp, 409, NULL, "the credential is revoked already");
		else
			problem_respond_err(resp, rc, NULL);
		goto out;
	}
	log_info("credential %s revoked", c.uid);
	api_audit(app, req, c.institution_id, "credential.revoked", c.uid,
		  json_pack("{s:s}", "reason", reason));
	api_reply_json(resp, 200, json_pack("{s:s, s:o, s:s}", "uid", c.uid,
					    "revoked_at", api_time_json(now),
					    "reason", reason));
out:
	json_decref(body);
	free(c.json);
	return 0;
}

/* ---- bulk revocation from CSV -------------------------------------------------------- */

struct bulk_row {
	int64_t id;
	char hash[65];
	char did[256];
	char *reason;
};

static int
row_error(json_t *errors, size_t row, size_t line, const char *column, const char *msg)
{
	json_t *o = json_pack("{s:I, s:I, s:s?, s:s}", "row", (json_int_t)row,
			      "line", (json_int_t)line, "column", column, "message", msg);

	return o && json_array_append_new(errors, o) == 0 ? 0 : TC_ENOMEM;
}

/* Reads and checks every row of FP into *ROWS (*N of them, malloc'ed: the
 * caller frees them and their reasons); every problem goes to ERRORS. */
static int
bulk_read(struct app *app, int64_t inst_id, FILE *fp, struct bulk_row **rows, size_t *n,
	  size_t *nrows, json_t *errors)
{
	struct csv_reader *r = NULL;
	struct api_keyset ids = { 0 };
	char **f;
	size_t nf, row = 0, cap = 0;
	int rc = csv_open(fp, CRED_REASON_MAX + 64, 8, &r), got;

	*n = *nrows = 0;
	if (rc)
		return rc;
	got = csv_next(r, &f, &nf);
	if (got != 1 || nf != 2 || strcmp(f[0], "credential_id") != 0 ||
	    strcmp(f[1], "reason") != 0) {
		rc = got < 0 && got != TC_EINVALID ? got :
		     row_error(errors, 0, 1, NULL, "the first line must be the header"
			       " credential_id,reason");
		goto out;
	}
	while (rc == 0 && (got = csv_next(r, &f, &nf)) != 0) {
		size_t line = csv_line(r);
		struct credential_rec c = { 0 };
		const char *why;
		int g;

		row++;
		if (got == TC_EINVALID) {
			rc = row_error(errors, row, line, NULL, csv_error(r));
			continue;
		}
		if (got < 0) {
			rc = got;
			break;
		}
		if (nf == 1 && f[0][0] == '\0') {	/* a blank line */
			row--;
			continue;
		}
		if (row > BULK_ROWS_MAX) {
			rc = row_error(errors, row, line, NULL, "more than 100000 rows: split the"
				       " file");
			break;
		}
		if (nf != 2) {
			rc = row_error(errors, row, line, NULL, "a row has two fields:"
				       " credential_id,reason");
			continue;
		}
		if ((why = revocation_reason_problem(f[1])) &&
		    (rc = row_error(errors, row, line, "reason", why)))
			break;
		g = store_credential_get(app->store, f[0], &c);
		if (g == TC_ENOTFOUND || (g == 0 && c.institution_id != inst_id))
			rc = row_error(errors, row, line, "credential_id", "no credential with this"
				       " id issued by this institution");
		else if (g)
			rc = g;
		else if (c.revoked_at)
			rc = row_error(errors, row, line, "credential_id", "revoked already");
		if (rc == 0 && g == 0 && !c.revoked_at) {
			char key[24];
			int seen = 0;

			snprintf(key, sizeof(key), "%lld", (long long)c.id);
			if ((rc = api_keyset_add(&ids, key, &seen)) == 0 && seen)
				rc = row_error(errors, row, line, "credential_id", "the credential is"
					       " in the file twice");
		}
		if (rc == 0 && g == 0 && *n == cap && json_array_size(errors) == 0) {
			struct bulk_row *more = realloc(*rows, (cap ? cap * 2 : 256) * sizeof(*more));

			if (more) {
				*rows = more;
				cap = cap ? cap * 2 : 256;
			} else {
				rc = TC_ENOMEM;
			}
		}
		if (rc == 0 && g == 0 && !why && json_array_size(errors) == 0) {
			struct bulk_row *b = &(*rows)[*n];

			b->reason = NULL;

			b->id = c.id;
			memcpy(b->hash, c.hash, sizeof(b->hash));
			if ((rc = cred_issuer(&c, b->did, sizeof(b->did))) == 0 &&
			    !(b->reason = strdup(f[1])))
				rc = TC_ENOMEM;
			if (rc == 0)
				(*n)++;
		}
		free(c.json);
	}
	*nrows = row;
out:
	api_keyset_cleanup(&ids);
	csv_close(r);
	return rc;
}

static int
bulk_precheck(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;

	return api_institution(app, req, resp, &inst) ||
	       api_allow(req, resp, AZ_CREDENTIAL_REVOKE, inst.id);
}

/*
 * Bulk revocation as a deferred job: the file (an unnamed temporary file)
 * is read and every row checked on the bulk worker thread with a store
 * connection of its own; when all are good they are revoked in
 * transactions of BULK_TX, while the institution's claim (api_bulk_claim)
 * keeps its other revocations out (429); the answer comes after the last
 * commit.
 */
struct bulk_job {
	struct http_deferred d;
	struct app *app;
	int fd;				/* the CSV (owned) */
	struct institution inst;
	struct actor actor;
	char source[64];
	json_t *errors;
	size_t n, nrows, revoked;
	int rc;
};

/* Revokes ROWS[0..N) at NOW on A's store, BULK_TX a transaction (their
 * log entries appended together); *DONE gets how many committed. 0 or the
 * first error (that transaction is rolled back). */
static int
bulk_revoke(struct app *a, const struct bulk_row *rows, size_t n, int64_t now, size_t *done)
{
	char (*subject)[80] = calloc(BULK_TX, sizeof(*subject));
	const char **subjects = calloc(BULK_TX, sizeof(*subjects));
	const char **dids = calloc(BULK_TX, sizeof(*dids));
	char why[160] = "";
	int rc = subject && subjects && dids ? 0 : TC_ENOMEM;

	*done = 0;
	for (size_t at = 0; rc == 0 && at < n; at += BULK_TX) {
		size_t end = n - at < BULK_TX ? n : at + BULK_TX;

		if ((rc = store_begin(a->store)))
			break;
		for (size_t i = at; rc == 0 && i < end; i++) {
			snprintf(subject[i - at], sizeof(subject[0]), "sha256:%s", rows[i].hash);
			subjects[i - at] = subject[i - at];
			dids[i - at] = rows[i].did;
			rc = store_credential_revoke(a->store, rows[i].id, ISSUING_PURPOSE, now,
						     rows[i].reason);
		}
		/* in the same transaction: no revocation the log does not show */
		if (rc == 0 && (rc = tlog_append_many(a->store, "revoke", subjects, dids, end - at,
						      now, NULL, why, sizeof(why))))
			log_err("bulk revocation: not appended to the log: %s %s", tc_strerror(rc),
				why);
		if (rc == 0)
			rc = store_commit(a->store);
		if (rc)
			store_rollback(a->store);
		else
			*done = end;
	}
	free(subject);
	free(subjects);
	free(dids);
	return rc;
}

/* On the bulk thread. */
static void
bulk_run(struct work *w)
{
	struct bulk_job *j = (struct bulk_job *)w;
	struct bulk_row *rows = NULL;
	struct app a;
	FILE *fp = NULL;
	int fd = dup(j->fd);

	if (fd < 0 || !(fp = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		j->rc = TC_EIO;
		return;
	}
	if ((j->rc = api_job_app_open(j->app, &a))) {
		fclose(fp);
		return;
	}
	j->rc = bulk_read(&a, j->inst.id, fp, &rows, &j->n, &j->nrows, j->errors);
	if (j->rc == 0 && json_array_size(j->errors) == 0 && j->n > 0)
		j->rc = bulk_revoke(&a, rows, j->n, (int64_t)time(NULL), &j->revoked);
	if (j->revoked) {
		log_info("%zu credentials of %s revoked from a file", j->revoked, j->inst.code);
		/* audited here, after the last commit: the client may be gone */
		api_audit_by(&a, &j->actor, j->source, j->inst.id, "credentials.revoked",
			     j->inst.code, json_pack("{s:I}", "revoked", (json_int_t)j->revoked));
	}
	api_job_app_close(&a);
	fclose(fp);
	for (size_t i = 0; rows && i < j->n; i++)
		free(rows[i].reason);
	free(rows);
}

static void
bulk_finish(struct http_deferred *d, struct http_response *resp)
{
	struct bulk_job *j = (struct bulk_job *)d;
	char detail[200];

	api_bulk_release(j->app, j->inst.id);
	if (!resp)
		goto out;
	if (j->rc == TC_ECONFLICT && j->revoked == 0) {	/* revoked by someone else meanwhile */
		problem_respond(resp, 409, NULL, "a credential of the file was revoked meanwhile;"
				" nothing was revoked");
	} else if (j->rc) {
		snprintf(detail, sizeof(detail), "the revocation stopped (%s) after %zu credentials"
			 " had been revoked", tc_strerror(j->rc), j->revoked);
		problem_respond_err(resp, j->rc, detail);
	} else if (json_array_size(j->errors) || j->n == 0) {
		api_reply_json(resp, 422, json_pack("{s:s, s:s, s:i, s:s, s:b, s:I, s:I, s:O}",
			"type", "about:blank", "title", "Unprocessable Content", "status", 422,
			"detail", j->n == 0 && !json_array_size(j->errors) ?
			"the file has no revocations" : "some rows are invalid; nothing was revoked",
			"revoked", 0, "rows", (json_int_t)j->nrows,
			"error_count", (json_int_t)json_array_size(j->errors), "errors", j->errors));
		resp->content_type = "application/problem+json";
	} else {
		api_reply_json(resp, 200, json_pack("{s:b, s:I, s:I}", "revoked", 1,
						    "rows", (json_int_t)j->nrows,
						    "count", (json_int_t)j->revoked));
	}
out:
	json_decref(j->errors);
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static int
on_bulk_revoke(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct bulk_job *j;
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_CREDENTIAL_REVOKE, inst.id))
		return 0;
	if (strncmp(req->content_type, "text/csv", 8) != 0)
		return problem_respond(resp, 415, NULL, "send the revocations as text/csv (UTF-8):"
				       " credential_id,reason");
	if (req->body_fd < 0)
		return problem_respond(resp, 422, NULL, "the file is empty");
	if (!(j = calloc(1, sizeof(*j))) || !(j->errors = json_array())) {
		free(j);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	if ((rc = api_bulk_claim(app, inst.id))) {
		json_decref(j->errors);
		free(j);
		if (rc == 429)
			api_bulk_refuse(resp, "nothing was revoked");
		else
			problem_respond(resp, 503, NULL, "too many bulk jobs are running; try again"
					" shortly");
		return 0;
	}
	j->app = app;
	j->fd = req->body_fd;
	req->body_fd = -1;		/* the job owns it now */
	j->inst = inst;
	j->actor = req->actor;
	snprintf(j->source, sizeof(j->source), "%s", req->peer);
	j->d.work.run = bulk_run;
	j->d.finish = bulk_finish;
	j->d.bulk = 1;
	req->deferred = &j->d;
	return 0;
}

const struct route api_revocation_routes[] = {
	{ HTTP_POST, "/api/v1/credentials/{uid}/revocation", on_revoke, "credential_revoke" },
	{ HTTP_POST, "/api/v1/institutions/{code}/credentials:revoke", on_bulk_revoke,
	  "credentials_revoke_bulk", ROUTE_BODY_FILE, BULK_BODY_MAX, bulk_precheck },
	{ HTTP_GET, "/api/v1/institutions/{code}/status/{purpose}", on_status_list,
	  "status_list", ROUTE_PUBLIC },
};
const size_t api_revocation_routes_count =
	sizeof(api_revocation_routes) / sizeof(api_revocation_routes[0]);
