/*
 * api_recogquery.c - the recognition query (see api_recogquery.h).
 *
 * For every credential it answers (an institution: the learner's
 * consented ones; the learner: all their own) it gives the verification
 * (credentials_verify, server/api_verify.h: schema, proof, issuer with
 * its key valid at signing, status, dates, log), what cannot change under
 * the credential's hash cached by it while the credential is not revoked
 * (the key's validity and the dates checked on every hit), and
 * the decision of server/recognition.h under the asking
 * institution's rules, then totals. An institution's read is written to
 * the learner's access log (storage/consent.h) before it is answered: a
 * single query hands its entry to the group-commit writer
 * (server/access_writer.h) as soon as the consented rows are listed, which
 * commits it together with the entries of concurrent queries while the
 * query verifies, decides and writes its answer (JSON text written
 * directly, the bytes jansson would make); the answer goes out after that
 * commit.
 * The batch runs on the batches' own worker thread (one batch an
 * institution at a time; uploads and imports never wait for it) with its
 * own store connection,
 * its own status lists and the server's verify cache (thread-safe), so the
 * event loop never waits; on a machine with more than one core each group
 * of learners is split between it and a second thread (struct lane, with a
 * connection of its own, on one thread for the whole batch), the lines
 * joined in input order, each learner's line written as the single
 * query's answer is. It streams its NDJSON (request.h, stream): the
 * lines of a group of learners go out once the group's access-log entries
 * are committed, so a line is never sent before its read is logged, and a
 * client that reads slowly holds the batch back.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/authz.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/identity.h"
#include "courses/jsonout.h"
#include "courses/recognition.h"
#include "server/access_writer.h"
#include "server/api_recogquery.h"
#include "server/api_revocation.h"
#include "server/api_util.h"
#include "server/api_verify.h"
#include "server/app.h"
#include "server/config.h"
#include "server/problem.h"
#include "server/recognition.h"
#include "storage/consent.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/recognition.h"

/* The same bytes as the consent read's 404 (api_consent.c): unknown person
 * and no consent look alike. */
static const char no_consent[] = "no credit records of this national ID are shared with"
				 " this institution";
static const char bad_nid[] = "a national ID is exactly 12 digits";

/* A person id no row has (ids are positive): an unknown national ID is
 * looked up for consent with it, so that it costs what no consent costs. */
#define NO_PERSON ((int64_t)-1)

/* Answers O (stolen) with STATUS; numbers with 12 significant digits, so
 * that 9.1 is written 9.1. */
static int
reply(struct http_response *resp, int status, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
	int rc = text ? http_response_json(resp, status, text) : TC_ENOMEM;

	free(text);
	json_decref(o);
	return rc ? problem_respond_err(resp, rc, NULL) : 0;
}

/* A 400 naming PATH. */
static int
bad_input(struct http_response *resp, const char *path, const char *msg)
{
	char detail[300];
	json_t *o;

	snprintf(detail, sizeof(detail), "%s: %s", path, msg);
	o = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title", "Bad Request",
		      "status", 400, "detail", detail, "path", path);
	api_reply_json(resp, 400, o);
	if (resp->status == 400)
		resp->content_type = "application/problem+json";
	return 0;
}

/* ---- the verification cache ------------------------------------------------------- */

#define CACHE_MIN (1u << 12)
#define CACHE_MAX (1u << 22)	/* slots; half of them used at most */

static struct {
	pthread_mutex_t mu;
	char (*slot)[64];	/* hex SHA-256; slot[i][0] == 0: empty */
	size_t cap, used, hits, misses;
} vcache = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0, 0 };

static size_t
slot_of(const char *hex, size_t cap)
{
	size_t h = 0;

	for (int i = 0; i < 16; i++)
		h = h * 16 + (size_t)(hex[i] <= '9' ? hex[i] - '0' : (hex[i] | 32) - 'a' + 10);
	return h & (cap - 1);
}

/* Caller holds the lock. 1 when HEX is in, else its empty slot in *AT. */
static int
cache_find(const char *hex, size_t *at)
{
	size_t i = slot_of(hex, vcache.cap);

	while (vcache.slot[i][0]) {
		if (memcmp(vcache.slot[i], hex, 64) == 0)
			return 1;
		i = (i + 1) & (vcache.cap - 1);
	}
	*at = i;
	return 0;
}

static int
cache_has(const char *hex)
{
	size_t at;
	int found;

	pthread_mutex_lock(&vcache.mu);
	found = vcache.cap && cache_find(hex, &at);
	if (found)
		vcache.hits++;
	else
		vcache.misses++;
	pthread_mutex_unlock(&vcache.mu);
	return found;
}

static void
cache_put(const char *hex)
{
	size_t at;

	pthread_mutex_lock(&vcache.mu);
	if ((vcache.used + 1) * 2 > vcache.cap && vcache.cap < CACHE_MAX) {
		size_t cap = vcache.cap ? vcache.cap * 2 : CACHE_MIN;
		char (*old)[64] = vcache.slot;
		size_t oldcap = vcache.cap;
		char (*v)[64] = calloc(cap, 64);

		if (v) {
			vcache.slot = v;
			vcache.cap = cap;
			for (size_t i = 0; i < oldcap; i++)
				if (old[i][0] && !cache_find(old[i], &at))
					memcpy(vcache.slot[at], old[i], 64);
			free(old);
		}
	}
	if (vcache.cap && (vcache.used + 1) * 2 <= vcache.cap && !cache_find(hex, &at)) {
		memcpy(vcache.slot[at], hex, 64);
		vcache.used++;
	}
	pthread_mutex_unlock(&vcache.mu);
}

void
api_recogquery_cache_stats(size_t *hits, size_t *misses, size_t *entries)
{
	pthread_mutex_lock(&vcache.mu);
	*hits = vcache.hits;
	*misses = vcache.misses;
	*entries = vcache.used;
	pthread_mutex_unlock(&vcache.mu);
}

struct verification {
	int verified;		/* every check held */
	int intact;		/* schema, proof, dates and log held: the decision's "verified" */
	char failed[16];	/* the first check that failed, "" when none */
	int cached;		/* the checks that hold for good came from the cache */
	int keep;		/* verified afresh, no validUntil: may go into the cache */
};

/* Runs every check on CRED into V: the one place the query verifies
 * (switch the verifier here). */
static int
verify_json(struct app *app, json_t *cred, struct verification *v)
{
	json_t *res = NULL, *checks;
	size_t i;
	int rc, issuer_ok = 1, log_ok = 1;

	memset(v, 0, sizeof(*v));
	if ((rc = credentials_verify(app, cred, &res)))
		return rc;
	checks = json_object_get(res, "checks");
	v->verified = json_is_true(json_object_get(res, "verified"));
	v->intact = 1;
	for (i = 0; rc == 0 && i < json_array_size(checks); i++) {
		json_t *k = json_array_get(checks, i);
		const char *name = json_string_value(json_object_get(k, "check"));

		if (json_is_true(json_object_get(k, "ok")) || !name)
			continue;
		if (!v->failed[0])
			snprintf(v->failed, sizeof(v->failed), "%s", name);
		/* the issuer and its status list are facts of the decision */
		if (strcmp(name, "issuer") == 0)
			issuer_ok = 0;
		else if (strcmp(name, "log") == 0)
			log_ok = 0;
		else if (strcmp(name, "status") != 0)
			v->intact = 0;
	}
	/* a credential of an unknown issuer is in no log here: it is refused
	 * as "unregistered issuer" rather than as unverified */
	if (!log_ok && issuer_ok)
		v->intact = 0;
	json_decref(res);
	return rc;
}

/*
 * Verifies stored C (at NOW). The cache keeps, by hash, the credentials
 * whose every check held once and whose text has no validUntil; what
 * cannot change under the same hash is taken from it: the schema, the
 * proof and the log entry (the text is the hash's; the log is
 * append-only), and the status while the row is unrevoked (a revocation
 * sets revoked_at with the status bit in one transaction, which bypasses
 * the cache). What can change is checked again each time: the dates here
 * (validFrom is the row's issued_at), the issuer key's validity at signing
 * (the registry's: a rotation ends a key) by verify_settle from the
 * decision's facts, which look the key up anyway.
 */
static int
verify_stored(struct app *app, const struct credential_rec *c, int64_t now,
	      struct verification *v)
{
	json_t *cred;
	int rc;

	if (!c->revoked_at && cache_has(c->hash)) {
		/* the verifier's clock, as a fresh verification would read it: a
		 * batch's NOW is its start, and a credential issued since (cached
		 * by another query) is valid all the same */
		int64_t t = (int64_t)time(NULL);

		memset(v, 0, sizeof(*v));
		v->cached = 1;
		v->verified = v->intact = c->issued_at <= (t > now ? t : now);
		if (!v->verified)
			snprintf(v->failed, sizeof(v->failed), "dates");
		return 0;
	}
	if (c->json) {
		cred = json_loads(c->json, 0, NULL);
	} else if ((rc = store_credential_json(c, &cred))) {	/* a row: its tree, rebuilt */
		return rc == TC_EINVALID ? TC_EDB : rc;
	}
	if (!cred)
		return TC_EDB;
	rc = verify_json(app, cred, v);
	v->keep = rc == 0 && v->verified && !c->revoked_at && c->hash[0] &&
		  !json_object_get(cred, "validUntil");
	json_decref(cred);
	return rc;
}

/*
 * After the decision's facts E of C (verified as V): a cached verification
 * gets the issuer check (the key found, of C's issuer, valid when it
 * signed: recognition's trust, the verifier's issuer rule) and fails it as
 * the verifier would, as the first failed check (it comes before dates);
 * a fresh one whose issuer key the facts also find valid goes into the
 * cache (so that the two agree on every credential the cache holds).
 */
static void
verify_settle(const struct credential_rec *c, struct verification *v,
	      const struct recog_eval *e)
{
	if (v->cached && !e->facts.key_valid) {
		v->verified = 0;
		snprintf(v->failed, sizeof(v->failed), "issuer");
	} else if (v->keep && e->facts.key_valid) {
		cache_put(c->hash);
	}
	v->keep = 0;
}

/* ---- one learner ------------------------------------------------------------------ */

struct inst_seen {
	int64_t id;
	char code[INST_CODE_MAX + 1];
};

/* A learner's credential, kept, then verified and decided: all of a
 * learner's are decided before any is written (a target course counts
 * once, recognition_settle_repeats). */
struct decided {
	struct credential_rec c;	/* a copy: c.shared and c.json owned */
	struct verification v;
	struct recog_eval e;
};

struct query {
	struct app *app;		/* APP->store is ST */
	struct store *st;
	int64_t institution_id;		/* the asking institution */
	int64_t now;
	json_t *list, *uids, *by_field;
	int credits_x10, recognised;
	struct inst_seen seen[16];
	int nseen;
	struct recog_memo memo;		/* one learner's look-ups (one snapshot) */
	struct decided *dec;		/* one learner's credentials */
	size_t ndec, adec;
};

/* Keeps a copy of row C in Q (the listing's record is borrowed). */
static int
query_keep(struct query *q, const struct credential_rec *c)
{
	struct decided *d;

	if (GROW(&q->dec, &q->adec, q->ndec + 1, 16))
		return TC_ENOMEM;
	d = &q->dec[q->ndec];
	memset(d, 0, sizeof(*d));
	d->c = *c;
	d->c.shared = c->shared ? strdup(c->shared) : NULL;
	d->c.json = c->json ? strdup(c->json) : NULL;
	q->ndec++;
	return (c->shared && !d->c.shared) || (c->json && !d->c.json) ? TC_ENOMEM : 0;
}

/* Verifies and decides Q's kept row I (in the rows' snapshot). */
static int
query_decide(struct query *q, size_t i)
{
	struct decided *d = &q->dec[i];
	int rc = verify_stored(q->app, &d->c, q->now, &d->v);

	if (rc == 0)
		rc = recognition_evaluate_memo(q->st, q->institution_id, &d->c, d->v.intact,
					       q->now, &q->memo, &d->e);
	if (rc == 0)
		verify_settle(&d->c, &d->v, &d->e);
	return rc == TC_EINVALID ? TC_EDB : rc;	/* a stored credential has the facts */
}

/* Each target course of Q's decisions counted once. */
static int
query_settle(struct query *q)
{
	struct recog_counted *v = malloc((q->ndec ? q->ndec : 1) * sizeof(*v));

	if (!v)
		return TC_ENOMEM;
	for (size_t i = 0; i < q->ndec; i++)
		v[i] = (struct recog_counted){ q->dec[i].c.uid, &q->dec[i].e.facts,
					       &q->dec[i].e.decision };
	recognition_settle_repeats(v, q->ndec);
	free(v);
	return 0;
}

/* Empties Q's kept rows (FREE: and their room). */
static void
query_clear(struct query *q, int free_all)
{
	for (size_t i = 0; i < q->ndec; i++) {
		free(q->dec[i].c.shared);
		free(q->dec[i].c.json);
		recog_eval_cleanup(&q->dec[i].e);
	}
	q->ndec = 0;
	if (free_all) {
		free(q->dec);
		q->dec = NULL;
		q->adec = 0;
	}
}

static const char *
inst_code(struct query *q, int64_t id)
{
	struct institution inst;

	for (int i = 0; i < q->nseen; i++)
		if (q->seen[i].id == id)
			return q->seen[i].code;
	if (store_institution_get_id(q->st, id, &inst) != 0)
		return "";
	if (q->nseen == (int)(sizeof(q->seen) / sizeof(q->seen[0])))
		q->nseen = 0;
	q->seen[q->nseen].id = id;
	snprintf(q->seen[q->nseen].code, sizeof(q->seen[0].code), "%s", inst.code);
	return q->seen[q->nseen++].code;
}

static json_t *
x10_json(int x10)
{
	return json_real(x10 / 10.0);
}

static json_t *
decision_json(const struct recog_eval *e)
{
	const struct recog_decision *d = &e->decision;
	const struct recog_rule *r = d->rule;
	json_t *rule = r ? json_pack("{s:I, s:i}", "id", (json_int_t)r->id, "version", r->version)
			 : json_null();
	json_t *o;

	if (d->reason != RECOG_RECOGNISED)
		return json_pack("{s:b, s:s, s:o, s:s}", "recognised", 0, "reason",
				 recognition_reason_name(d->reason), "rule", rule,
				 "explanation", d->detail);
	o = json_pack("{s:b, s:s, s:o, s:o, s:s}", "recognised", 1, "as",
		      r->target == RECOG_TARGET_COURSE ? "course" : "elective_credits",
		      "credits", x10_json(d->credits_x10), "rule", rule, "explanation", d->detail);
	if (!o)
		return NULL;
	if (r->target == RECOG_TARGET_COURSE)
		json_object_set_new(o, "course", json_pack("{s:s, s:s}", "code", r->target_code,
							   "title", r->target_title));
	else
		json_object_set_new(o, "field", r->target_field[0] ? json_string(r->target_field)
				    : json_null());
	json_object_set_new(o, "converted_grade", d->converted[0] ? json_string(d->converted)
			    : json_null());
	return o;
}

/* The field a recognised credit counts under in the totals. */
static const char *
credit_field(const struct recog_eval *e)
{
	const struct recog_rule *r = e->decision.rule;

	if (r && r->target == RECOG_TARGET_ELECTIVE && r->target_field[0])
		return r->target_field;
	return e->facts.field[0] ? e->facts.field : "unclassified";
}

/* C (verified as V, decided as E) appended to Q's list and totals. */
static int
add_decided(struct query *q, const struct credential_rec *c, const struct verification *v,
	    const struct recog_eval *e)
{
	json_t *o;
	int rc = 0;

	o = json_pack("{s:s, s:{s:s, s:o, s:o}, s:{s:s, s:s}, s:o, s:{s:b, s:o, s:b}, s:o}",
		      "uid", c->uid,
		      "course", "code", e->facts.course_code, "credits",
		      x10_json(e->facts.credits_x10), "grade", e->facts.grade_x100 < 0 ? json_null()
		      : json_real(e->facts.grade_x100 / 100.0),
		      "issuer", "code", c->institution_id ? inst_code(q, c->institution_id) : "",
		      "did", e->did,
		      "issued_at", api_time_json(c->issued_at),
		      "verification", "verified", v->verified, "failed_check",
		      v->failed[0] ? json_string(v->failed) : json_null(), "cached", v->cached,
		      "decision", decision_json(e));
	if (o && e->decision.reason == RECOG_RECOGNISED) {
		const char *f = credit_field(e);
		json_t *have = json_object_get(q->by_field, f);
		int x10 = e->decision.credits_x10 + (have ? (int)(json_real_value(have) * 10 + 0.5) : 0);

		q->credits_x10 += e->decision.credits_x10;
		q->recognised++;
		if (json_object_set_new(q->by_field, f, x10_json(x10)))
			rc = TC_ENOMEM;
	}
	if (!o || json_array_append_new(q->list, o) ||
	    (q->uids && json_array_append_new(q->uids, json_string(c->uid))))
		return TC_ENOMEM;
	return rc;
}

/* Decides external credential C (verified as V) into Q's list and totals. */
static int
add_verified(struct query *q, const struct credential_rec *c, struct verification *v)
{
	struct recog_eval e;
	int rc = recognition_evaluate_memo(q->st, q->institution_id, c, v->intact, q->now,
					   &q->memo, &e);

	if (rc == 0) {
		verify_settle(c, v, &e);
		rc = add_decided(q, c, v, &e);
	}
	recog_eval_cleanup(&e);
	return rc;
}

static int
add_credential(const struct credential_rec *c, void *arg)
{
	struct query *q = arg;
	int rc = query_keep(q, c);

	return rc ? rc : query_decide(q, q->ndec - 1);
}

/* Q's decided rows into its list and totals, each target course once. */
static int
add_decided_all(struct query *q)
{
	int rc = query_settle(q);

	for (size_t i = 0; rc == 0 && i < q->ndec; i++)
		rc = add_decided(q, &q->dec[i].c, &q->dec[i].v, &q->dec[i].e);
	return rc;
}

static void
query_cleanup(struct query *q)
{
	json_decref(q->list);
	json_decref(q->uids);
	json_decref(q->by_field);
	q->list = q->uids = q->by_field = NULL;
	query_clear(q, 1);
}

/*
 * PERSON_ID's credentials as the institution of Q sees them: all of them
 * when SELF (the learner asks), else the consented ones (TC_ENOTFOUND: no
 * consent in force), the read then logged for the learner with READER_*
 * (committed before this returns), or, when DEFER, its entry only filled
 * into *DEFER (DEFER->credentials then the caller's to free) for the
 * caller to commit before it answers. *OUT: {credentials, totals}.
 */
static int
learner_result(struct query *q, int64_t person_id, int self, int64_t reader_token,
	       int64_t reader_person, struct consent_access *defer, json_t **out)
{
	struct consent_rec c;
	int rc;

	*out = NULL;
	q->credits_x10 = q->recognised = 0;
	memset(&q->memo, 0, sizeof(q->memo));
	if (!(q->list = json_array()) || !(q->by_field = json_object()) ||
	    (!self && !(q->uids = json_array()))) {
		query_cleanup(q);
		return TC_ENOMEM;
	}
	if (self)
		rc = store_credentials_each(q->st, person_id, add_credential, q);
	else
		rc = store_consented_rows_each(q->st, person_id, q->institution_id, q->now, &c,
					       add_credential, q);
	if (rc == 0)
		rc = add_decided_all(q);
	if (rc == 0 && !self) {
		struct consent_access a = { 0 };
		char *uids = json_dumps(q->uids, JSON_COMPACT);

		a.institution_id = q->institution_id;
		a.person_id = person_id;
		a.consent_id = c.id;
		snprintf(a.purpose, sizeof(a.purpose), "%s", c.purpose);
		a.reader_token_id = reader_token;
		a.reader_person_id = reader_person;
		a.at = q->now;
		a.credentials = uids;
		if (!uids) {
			rc = TC_ENOMEM;
		} else if (defer) {
			*defer = a;
			uids = NULL;	/* the caller's */
		} else {
			rc = store_consent_access_record(q->st, &a);
		}
		free(uids);
	}
	if (rc == 0) {
		*out = json_pack("{s:O, s:{s:i, s:i, s:o, s:O}}", "credentials", q->list, "totals",
				 "credentials", (int)json_array_size(q->list), "recognised",
				 q->recognised, "credits_recognised", x10_json(q->credits_x10),
				 "by_field", q->by_field);
		if (!*out)
			rc = TC_ENOMEM;
	}
	query_cleanup(q);
	return rc;
}

static void
access_job_free(struct access_job *j)
{
	if (!j)
		return;
	free(j->credentials);
	free(j->answer);
	free(j);
}

/* On the service thread once the entry of D committed (or failed). */
static void
access_finish(struct http_deferred *d, struct http_response *resp)
{
	struct access_job *j = (struct access_job *)d;

	if (resp && (j->rc || j->answer_rc)) {	/* the entry's failure first */
		problem_respond_err(resp, j->rc ? j->rc : j->answer_rc, NULL);
	} else if (resp && http_response_json(resp, 200, j->answer)) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	access_job_free(j);
}

/*
 * The lone institution query with an access-log writer: the consented
 * rows are listed, then, in the same read snapshot, the entry (who read
 * which credentials) goes to the group-commit writer at once and the
 * answer is computed while it commits; the answer goes out from
 * access_finish only after the commit (a failed commit answers 5xx, no
 * credential sent). Once the entry is handed over a failure of the answer
 * is still only answered after the commit (5xx): the log then records a
 * read whose answer failed.
 */
struct lone_field {
	char name[RECOG_FIELD_MAX + 16];
	int x10;
};

struct lone {
	struct query q;
	struct access_job *j;
	int64_t person_id, reader_token, reader_person;
	const char *inst_code, *nid;
	size_t n;			/* credentials written */
	int handed;			/* J is the writer's */
	struct dynbuf out;		/* the answer's JSON text */
	struct lone_field *field;	/* the totals by field, in first-seen order */
	int nfield;
	size_t afield;
};

/*
 * The answer written as JSON text directly, the bytes json_dumps(...,
 * JSON_COMPACT | JSON_REAL_PRECISION(12)) makes of the tree add_verified
 * and learner_result build (the batch's lines): members in the same order,
 * numbers by json_write_real. A string that is not UTF-8 fails as
 * json_pack does (TC_ENOMEM: a 500).
 */
/*
 * V / SCALE (10 or 100) as json_write_real(V / SCALE, 12) writes it, for
 * credits and grades without a format: %.12g of a number of at most 9
 * digits with one or two decimals is the decimal itself, trailing zeros
 * cut and ".0" for a whole one. Others by json_write_real.
 */
static int
put_fixed(struct dynbuf *b, int v, int scale)
{
	char num[24], *p = num + sizeof(num);
	int ip = v / scale, fp = v % scale;

	if (v < 0 || v >= 1000000000 || (scale != 10 && scale != 100))
		return json_write_real((double)v / scale, 12, b);
	if (scale == 100 && fp % 10 == 0)
		fp /= 10, scale = 10;
	if (scale == 100) {	/* two decimals, the last not 0 */
		*--p = (char)('0' + fp % 10);
		*--p = (char)('0' + fp / 10);
	} else {
		*--p = (char)('0' + fp);
	}
	*--p = '.';
	do
		*--p = (char)('0' + ip % 10);
	while ((ip /= 10));
	return dynbuf_append(b, p, (size_t)(num + sizeof(num) - p));
}

static int
put_x10(struct dynbuf *b, int x10)
{
	return put_fixed(b, x10, 10);
}

static int
put_str_or_null(struct dynbuf *b, const char *s)
{
	return s ? json_write_string(s, b) : dynbuf_puts(b, "null");
}

static int
put_rule(struct dynbuf *b, const struct recog_rule *r)
{
	return r ? dynbuf_printf(b, "{\"id\":%" JSON_INTEGER_FORMAT ",\"version\":%d}",
				 (json_int_t)r->id, r->version) : dynbuf_puts(b, "null");
}

/* decision_json's object. */
static int
put_decision(struct dynbuf *b, const struct recog_eval *e)
{
	const struct recog_decision *d = &e->decision;
	const struct recog_rule *r = d->rule;
	int rc;

	if (d->reason != RECOG_RECOGNISED)
		return (rc = dynbuf_puts(b, "{\"recognised\":false,\"reason\":")) ||
		       (rc = json_write_string(recognition_reason_name(d->reason), b)) ||
		       (rc = dynbuf_puts(b, ",\"rule\":")) || (rc = put_rule(b, r)) ||
		       (rc = dynbuf_puts(b, ",\"explanation\":")) ||
		       (rc = json_write_string(d->detail, b)) ? rc : dynbuf_puts(b, "}");
	if ((rc = dynbuf_puts(b, "{\"recognised\":true,\"as\":")) ||
	    (rc = dynbuf_puts(b, r->target == RECOG_TARGET_COURSE ? "\"course\""
			      : "\"elective_credits\"")) ||
	    (rc = dynbuf_puts(b, ",\"credits\":")) || (rc = put_x10(b, d->credits_x10)) ||
	    (rc = dynbuf_puts(b, ",\"rule\":")) || (rc = put_rule(b, r)) ||
	    (rc = dynbuf_puts(b, ",\"explanation\":")) || (rc = json_write_string(d->detail, b)))
		return rc;
	if (r->target == RECOG_TARGET_COURSE)
		rc = dynbuf_puts(b, ",\"course\":{\"code\":") ||
		     json_write_string(r->target_code, b) || dynbuf_puts(b, ",\"title\":") ||
		     json_write_string(r->target_title, b) || dynbuf_puts(b, "}") ? TC_ENOMEM : 0;
	else
		rc = dynbuf_puts(b, ",\"field\":") ||
		     put_str_or_null(b, r->target_field[0] ? r->target_field : NULL) ?
		     TC_ENOMEM : 0;
	if (rc == 0)
		rc = dynbuf_puts(b, ",\"converted_grade\":") ||
		     put_str_or_null(b, d->converted[0] ? d->converted : NULL) ||
		     dynbuf_puts(b, "}") ? TC_ENOMEM : 0;
	return rc;
}

/* add_verified's object for C (verified as V, decided as E) into L->out,
 * and E counted into the totals. */
static int
put_credential(struct lone *l, const struct credential_rec *c, const struct verification *v,
	       const struct recog_eval *e)
{
	struct dynbuf *b = &l->out;
	char at[32];
	int rc;

	if (c->issued_at)
		api_time(c->issued_at, at);
	rc = dynbuf_puts(b, "{\"uid\":") || json_write_string(c->uid, b) ||
	     dynbuf_puts(b, ",\"course\":{\"code\":") ||
	     json_write_string(e->facts.course_code, b) || dynbuf_puts(b, ",\"credits\":") ||
	     put_x10(b, e->facts.credits_x10) || dynbuf_puts(b, ",\"grade\":") ||
	     (e->facts.grade_x100 < 0 ? dynbuf_puts(b, "null")
	      : put_fixed(b, e->facts.grade_x100, 100)) ||
	     dynbuf_puts(b, "},\"issuer\":{\"code\":") ||
	     json_write_string(c->institution_id ? inst_code(&l->q, c->institution_id) : "", b) ||
	     dynbuf_puts(b, ",\"did\":") || json_write_string(e->did, b) ||
	     dynbuf_puts(b, "},\"issued_at\":") || put_str_or_null(b, c->issued_at ? at : NULL) ||
	     dynbuf_puts(b, v->verified ? ",\"verification\":{\"verified\":true,\"failed_check\":"
			 : ",\"verification\":{\"verified\":false,\"failed_check\":") ||
	     put_str_or_null(b, v->failed[0] ? v->failed : NULL) ||
	     dynbuf_puts(b, v->cached ? ",\"cached\":true},\"decision\":"
			 : ",\"cached\":false},\"decision\":") ||
	     put_decision(b, e) || dynbuf_puts(b, "}") ? TC_ENOMEM : 0;
	if (rc == 0 && e->decision.reason == RECOG_RECOGNISED) {
		const char *f = credit_field(e);
		int i;

		for (i = 0; i < l->nfield && strcmp(l->field[i].name, f) != 0; i++)
			;
		if (i == l->nfield) {
			if (strlen(f) >= sizeof(l->field[0].name))
				return TC_ENOMEM;	/* not a field */
			if (GROW(&l->field, &l->afield, (size_t)l->nfield + 1, 8))
				return TC_ENOMEM;
			snprintf(l->field[i].name, sizeof(l->field[i].name), "%s", f);
			l->field[i].x10 = 0;
			l->nfield++;
		}
		l->field[i].x10 += e->decision.credits_x10;
		l->q.credits_x10 += e->decision.credits_x10;
		l->q.recognised++;
	}
	return rc;
}

/* The end of the credentials and the totals (L->n credentials). */
static int
put_totals(struct lone *l)
{
	struct dynbuf *b = &l->out;
	int rc = dynbuf_printf(b, "],\"totals\":{\"credentials\":%d,\"recognised\":%d,"
			       "\"credits_recognised\":", (int)l->n, l->q.recognised) ||
		 put_x10(b, l->q.credits_x10) || dynbuf_puts(b, ",\"by_field\":{");

	for (int i = 0; rc == 0 && i < l->nfield; i++)
		rc = (i && dynbuf_puts(b, ",")) || json_write_string(l->field[i].name, b) ||
		     dynbuf_puts(b, ":") || put_x10(b, l->field[i].x10);
	return rc || dynbuf_puts(b, "}}") ? TC_ENOMEM : 0;
}

/* The totals and the rest after the credentials. */
static int
lone_end(struct lone *l)
{
	struct dynbuf *b = &l->out;
	int rc = put_totals(l);

	if (rc == 0)
		rc = dynbuf_puts(b, ",\"institution\":") || json_write_string(l->inst_code, b) ||
		     dynbuf_puts(b, ",\"national_id\":") || json_write_string(l->nid, b) ||
		     dynbuf_puts(b, "}") ? TC_ENOMEM : 0;
	return rc;
}

/* Keeps a copy of row C (the listing's record is borrowed). */
static int
keep_row(const struct credential_rec *c, void *arg)
{
	struct lone *l = arg;

	return query_keep(&l->q, c);
}

/* L's decided rows written, each target course counted once. */
static int
lone_write(struct lone *l)
{
	struct query *q = &l->q;
	int rc = query_settle(q);

	for (size_t i = 0; rc == 0 && i < q->ndec; i++)
		rc = i && dynbuf_puts(&l->out, ",") ? TC_ENOMEM :
		     put_credential(l, &q->dec[i].c, &q->dec[i].v, &q->dec[i].e);
	l->n = q->ndec;
	return rc;
}

/* The rows' uids as the entry's JSON array (as json_dumps writes it: a
 * uid is "urn:uuid:" and hex digits, nothing to escape). */
static char *
uids_text(const struct lone *l)
{
	struct dynbuf b;
	int rc = 0;

	dynbuf_init(&b, (size_t)1 << 24);
	rc = dynbuf_puts(&b, "[");
	for (size_t i = 0; rc == 0 && i < l->q.ndec; i++)
		rc = (i ? dynbuf_puts(&b, ",\"") : dynbuf_puts(&b, "\"")) ||
		     dynbuf_puts(&b, l->q.dec[i].c.uid) || dynbuf_puts(&b, "\"");
	if (rc == 0)
		rc = dynbuf_puts(&b, "]");
	if (rc == 0 && (rc = dynbuf_append(&b, "", 1)) == 0)
		return b.data;	/* NUL-terminated */
	dynbuf_cleanup(&b);
	return NULL;
}

/* After the rows, in their snapshot: the entry handed to the writer, then
 * every row verified and decided into L->out. */
static int
lone_then(const struct consent_rec *c, void *arg)
{
	struct lone *l = arg;
	struct query *q = &l->q;
	struct access_job *j = l->j;
	int rc = 0;

	if (!(j->credentials = uids_text(l)))
		return TC_ENOMEM;
	j->a.institution_id = q->institution_id;
	j->a.person_id = l->person_id;
	j->a.consent_id = c->id;
	snprintf(j->a.purpose, sizeof(j->a.purpose), "%s", c->purpose);
	j->a.reader_token_id = l->reader_token;
	j->a.reader_person_id = l->reader_person;
	j->a.at = q->now;
	j->a.credentials = j->credentials;
	if (access_writer_submit(q->app, &j->d.work))
		return TC_EBUSY;
	l->handed = 1;	/* from here on J is read by the writer's thread */

	q->credits_x10 = q->recognised = 0;
	memset(&q->memo, 0, sizeof(q->memo));
	if (dynbuf_puts(&l->out, "{\"credentials\":["))
		rc = TC_ENOMEM;
	for (size_t i = 0; rc == 0 && i < q->ndec; i++)
		rc = query_decide(q, i);
	if (rc == 0)
		rc = lone_write(l);
	if (rc == 0)
		rc = lone_end(l);
	return rc;
}

/* Queued by lone_then already: the transport has nothing to submit. */
static int
access_handed(struct app *app, struct work *w)
{
	(void)app;
	(void)w;
	return 0;
}

static int
on_learner(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *nid = http_request_param(req, "national_id");
	struct access_job *j = NULL;
	struct query q = { 0 };
	struct institution inst;
	struct person p;
	json_t *o;
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_RECOGNITION_QUERY, inst.id))
		return 0;
	if (!nid || national_id_check(nid) != 0)
		return problem_respond(resp, 400, NULL, bad_nid);
	rc = store_person_get_by_nid(app->store, nid, &p);
	if (rc == TC_ENOTFOUND) {
		/* the same work as a person without consent (the consent look-up
		 * finds nothing): the answer's time tells nothing either */
		p.id = NO_PERSON;
		rc = 0;
	}
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	q.app = app;
	q.st = app->store;
	q.institution_id = inst.id;
	q.now = (int64_t)time(NULL);
	if (app->access_writer) {
		struct lone l = { .q = q };
		struct consent_rec c;

		if (!(l.j = j = calloc(1, sizeof(*j))))
			return problem_respond_err(resp, TC_ENOMEM, NULL);
		dynbuf_init(&l.out, (size_t)1 << 30);
		l.inst_code = inst.code;
		l.nid = nid;
		l.person_id = p.id;
		l.reader_token = req->actor.kind == ACTOR_TOKEN ? req->actor.token_id : 0;
		l.reader_person = req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
		rc = store_consented_rows_then(app->store, p.id, inst.id, q.now, &c, keep_row,
					       lone_then, &l);
		query_clear(&l.q, 1);
		free(l.field);
		if (!l.handed) {	/* nothing was read: nothing is logged */
			dynbuf_cleanup(&l.out);
			access_job_free(j);
			if (rc == TC_EBUSY) {
				problem_respond(resp, 503, NULL, "the server is busy; try again"
						" shortly");
				http_response_header(resp, "retry-after", "2");
				return 0;
			}
			return rc == TC_ENOTFOUND ? problem_respond(resp, 404, NULL, no_consent)
			       : problem_respond_err(resp, rc ? rc : TC_EDB, NULL);
		}
		/* the answer (or its failure) waits for the entry's group commit;
		 * J is the writer's until it delivers it */
		if (rc)
			dynbuf_cleanup(&l.out);
		else
			j->answer = dynbuf_take(&l.out, NULL);
		j->answer_rc = rc ? rc : j->answer ? 0 : TC_ENOMEM;
		j->d.finish = access_finish;
		j->d.submit = access_handed;
		req->deferred = &j->d;
		return 0;
	}
	/* no writer (a tool, a test): logged, committed, before it answers */
	rc = learner_result(&q, p.id, 0, req->actor.kind == ACTOR_TOKEN ? req->actor.token_id : 0,
			    req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0, NULL, &o);
	if (rc)
		return rc == TC_ENOTFOUND ? problem_respond(resp, 404, NULL, no_consent)
		       : problem_respond_err(resp, rc, NULL);
	json_object_set_new(o, "institution", json_string(inst.code));
	json_object_set_new(o, "national_id", json_string(nid));
	return reply(resp, 200, o);
}

static int
on_mine(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct query q = { 0 };
	struct institution inst;
	char code[INST_CODE_MAX + 2] = "";
	json_t *o;
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 0;
	if (api_query(req, "institution", code, sizeof(code)) != 0 || !code[0])
		return problem_respond(resp, 400, NULL, "?institution=CODE names the institution"
				       " whose recognition to explain");
	rc = store_institution_get(app->store, code, &inst);
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such institution");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	q.app = app;
	q.st = app->store;
	q.institution_id = inst.id;
	q.now = (int64_t)time(NULL);
	if ((rc = learner_result(&q, req->actor.person_id, 1, 0, 0, NULL, &o)))
		return problem_respond_err(resp, rc, NULL);
	json_object_set_new(o, "institution", json_pack("{s:s, s:s}", "code", inst.code,
							"name", inst.name));
	return reply(resp, 200, o);
}

/* POST /api/v1/me/recognition?institution=CODE {"credential": {...}}: how
 * CODE would recognise a credential the learner holds outside tinchi (as
 * the learner's view does for their own; nothing is stored). */
static int
on_mine_external(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct query q = { 0 };
	struct institution inst;
	struct credential_rec c = { 0 };
	struct verification v;
	struct inst_key k;
	char code[INST_CODE_MAX + 2] = "";
	const char *issuer;
	json_t *body = NULL, *cred, *o = NULL;
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 0;
	if (api_query(req, "institution", code, sizeof(code)) != 0 || !code[0])
		return problem_respond(resp, 400, NULL, "?institution=CODE names the institution"
				       " whose recognition to explain");
	if (api_read_json(req, resp, &body))
		return 0;
	cred = json_object_get(body, "credential");
	issuer = json_string_value(json_object_get(json_object_get(cred, "issuer"), "id"));
	if (!json_is_object(cred) || json_object_size(body) != 1 || !issuer) {
		json_decref(body);
		return bad_input(resp, "credential", "the body must be {\"credential\": {...}}"
				 " holding an Open Badges 3.0 credential with issuer.id");
	}
	rc = store_institution_get(app->store, code, &inst);
	if (rc) {
		json_decref(body);
		return rc == TC_ENOTFOUND ? problem_respond(resp, 404, NULL, "no such institution")
		       : problem_respond_err(resp, rc, NULL);
	}
	/* the issuer on record is the registry's owner of the DID (if any) */
	rc = store_registry_key_by_did(app->store, issuer, &k);
	c.institution_id = rc == 0 ? k.institution_id : 0;
	if (rc == TC_ENOTFOUND)
		rc = 0;
	snprintf(c.uid, sizeof(c.uid), "%s", json_string_value(json_object_get(cred, "id")) ?
		 json_string_value(json_object_get(cred, "id")) : "");
	if (rc == 0)
		rc = verify_json(app, cred, &v);
	if (rc == 0 && !(c.json = json_dumps(cred, JSON_COMPACT)))
		rc = TC_ENOMEM;
	/* its status list said revoked: a fact of the decision */
	if (rc == 0 && strcmp(v.failed, "status") == 0 && c.institution_id)
		c.revoked_at = 1;
	json_decref(body);
	q.app = app;
	q.st = app->store;
	q.institution_id = inst.id;
	q.now = (int64_t)time(NULL);
	if (rc == 0 && (!(q.list = json_array()) || !(q.by_field = json_object())))
		rc = TC_ENOMEM;
	if (rc == 0)
		rc = add_verified(&q, &c, &v);
	free(c.json);
	if (rc == TC_EINVALID) {
		query_cleanup(&q);
		return bad_input(resp, "credential", "not a credential the query can read (issuer,"
				 " validFrom, achievement.humanCode)");
	}
	if (rc == 0 && !(o = json_deep_copy(json_array_get(q.list, 0))))
		rc = TC_ENOMEM;
	query_cleanup(&q);
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	json_object_set_new(o, "institution", json_pack("{s:s, s:s}", "code", inst.code,
							"name", inst.name));
	return reply(resp, 200, o);
}

/* ---- the batch -------------------------------------------------------------------- */

#define BATCH_ID_MAX 64		/* bytes of one entry */
#define BATCH_TX 250		/* learners whose reads commit together */

struct batch_job {
	struct http_deferred d;
	struct app *app;
	int64_t institution_id, reader_token, reader_person;
	char (*ids)[BATCH_ID_MAX + 1];
	size_t n;
	struct dynbuf out;
	int rc;
	int claimed;		/* noted in batching: released when freed */
};

static int
put_line(struct dynbuf *b, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
	int rc = s && dynbuf_puts(b, s) == 0 && dynbuf_puts(b, "\n") == 0 ? 0 : TC_ENOMEM;

	free(s);
	json_decref(o);
	return rc;
}

/* The lines of the learners since the last commit go out once their
 * access-log entries are committed; a group is GROUP_FIRST learners, then
 * twice the last, at most BATCH_TX (so the first lines leave early). The
 * group is computed outside any write transaction (its entries wait in
 * memory) and its entries are written in one short one, so other writers
 * (progress, sign-ins) never wait for the batch's verifications. */
#define GROUP_FIRST 8

/* Commits the N entries of A (freeing their credential lists). */
static int
commit_entries(struct store *st, struct consent_access *a, size_t n)
{
	int rc = n ? store_begin(st) : 0;

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = store_consent_access_record(st, &a[i]);
	if (n && rc == 0)
		rc = store_commit(st);
	else if (n)
		store_rollback(st);
	for (size_t i = 0; i < n; i++)
		free((char *)a[i].credentials);
	return rc;
}

/*
 * One lane of a batch: its own store connection, status lists and query
 * state (the verify cache is shared, api_verify_prepare), the lines and
 * access-log entries of the learners it computed in the current group.
 * A group is split between two lanes, the second on a thread of its own,
 * when the machine has more than one core: the lines are joined in input
 * order and the entries committed together before they go out.
 */
struct lane {
	struct batch_job *j;
	struct app a;
	struct verify_keep *shared;
	struct lone w;			/* its query; its lines in w.out */
	struct dynbuf uids;		/* a learner's entry's credentials */
	struct consent_access *ent;	/* BATCH_TX */
	size_t nent, from, to, found, missing, bad;
	int credits_x10, rc, open;
};

static int
lane_open(struct lane *l, struct batch_job *j)
{
	memset(l, 0, sizeof(*l));
	l->j = j;
	l->a = *j->app;
	l->shared = l->a.verify;
	l->a.store = NULL;
	l->a.status_cache = NULL;
	l->a.progress_cache = NULL;
	dynbuf_init(&l->w.out, j->out.cap);
	dynbuf_init(&l->uids, (size_t)1 << 24);
	if (!(l->ent = calloc(BATCH_TX, sizeof(*l->ent))))
		return TC_ENOMEM;
	if ((l->rc = store_open(j->app->cfg->data_dir, &l->a.store)))
		return l->rc;
	l->open = 1;
	l->w.q.app = &l->a;
	l->w.q.st = l->a.store;
	l->w.q.institution_id = j->institution_id;
	l->w.q.now = (int64_t)time(NULL);
	return 0;
}

static void
lane_close(struct lane *l)
{
	for (size_t i = 0; i < l->nent; i++)	/* not committed: a failure */
		free((char *)l->ent[i].credentials);
	free(l->ent);
	dynbuf_cleanup(&l->w.out);
	dynbuf_cleanup(&l->uids);
	free(l->w.field);
	query_clear(&l->w.q, 1);
	if (l->open) {
		api_revocation_cleanup(&l->a);
		if (l->a.verify != l->shared)	/* made here when none was shared */
			api_verify_cleanup(&l->a);
		store_close(l->a.store);
	}
}

/* A row of the learner: verified and decided into the lane's line (as
 * the lone query writes it), its uid into the entry's list. */
static int
lane_credential(const struct credential_rec *c, void *arg)
{
	struct lane *l = arg;
	struct query *q = &l->w.q;
	int rc = dynbuf_puts(&l->uids, q->ndec ? ",\"" : "\"") || dynbuf_puts(&l->uids, c->uid) ||
		 dynbuf_puts(&l->uids, "\"") ? TC_ENOMEM : 0;

	if (rc == 0)
		rc = query_keep(q, c);
	return rc ? rc : query_decide(q, q->ndec - 1);
}

/*
 * The line of PERSON_ID (national ID NID) into the lane's lines, its
 * access-log entry into *A (A->credentials then the caller's): the bytes
 * json_dumps makes of learner_result's tree with national_id and status
 * 200 (the lone query's writer). TC_ENOTFOUND (no consent in force):
 * nothing written.
 */
static int
lane_learner(struct lane *l, int64_t person_id, const char *nid, struct consent_access *a)
{
	struct batch_job *j = l->j;
	struct query *q = &l->w.q;
	struct consent_rec c;
	size_t mark = l->w.out.len;
	int rc;

	/* the time of this learner's read: a consent withdrawn or ended while
	 * the batch runs is not used for the learners after it */
	q->now = (int64_t)time(NULL);
	q->credits_x10 = q->recognised = 0;
	memset(&q->memo, 0, sizeof(q->memo));
	l->w.n = 0;
	l->w.nfield = 0;
	query_clear(q, 0);
	dynbuf_reset(&l->uids);
	rc = dynbuf_puts(&l->uids, "[") || dynbuf_puts(&l->w.out, "{\"credentials\":[") ?
	     TC_ENOMEM : 0;
	if (rc == 0)
		rc = store_consented_rows_each(q->st, person_id, q->institution_id, q->now, &c,
					       lane_credential, l);
	if (rc == 0)
		rc = lone_write(&l->w);
	query_clear(q, 0);
	if (rc == 0)
		rc = put_totals(&l->w) || dynbuf_puts(&l->w.out, ",\"national_id\":") ||
		     json_write_string(nid, &l->w.out) ||
		     dynbuf_puts(&l->w.out, ",\"status\":200}\n") || dynbuf_puts(&l->uids, "]") ||
		     dynbuf_append(&l->uids, "", 1) ? TC_ENOMEM : 0;
	if (rc) {
		l->w.out.len = mark;	/* nothing of it */
		return rc;
	}
	memset(a, 0, sizeof(*a));
	a->institution_id = q->institution_id;
	a->person_id = person_id;
	a->consent_id = c.id;
	snprintf(a->purpose, sizeof(a->purpose), "%s", c.purpose);
	a->reader_token_id = j->reader_token;
	a->reader_person_id = j->reader_person;
	a->at = q->now;
	a->credentials = dynbuf_take(&l->uids, NULL);	/* NUL-terminated */
	return a->credentials ? 0 : TC_ENOMEM;
}

/* The learners FROM..TO of the job: their lines into L->w.out, their
 * entries into L->ent. */
static void *
lane_run(void *arg)
{
	struct lane *l = arg;
	struct batch_job *j = l->j;

	/* each issuer's status list read once for the group */
	if (!l->rc)
		l->rc = revocation_pin(&l->a, 1);
	for (size_t i = l->from; i < l->to && l->rc == 0; i++) {
		const char *nid = j->ids[i];
		struct person p;
		int rc;

		if (national_id_check(nid) != 0) {
			l->bad++;
			l->rc = put_line(&l->w.out, json_pack("{s:s, s:i, s:s}", "national_id", nid,
							      "status", 400, "detail", bad_nid));
			continue;
		}
		rc = store_person_get_by_nid(l->a.store, nid, &p);
		if (rc == TC_ENOTFOUND)		/* the same work as no consent */
			rc = lane_learner(l, NO_PERSON, nid, &l->ent[l->nent]);
		else if (rc == 0)
			rc = lane_learner(l, p.id, nid, &l->ent[l->nent]);
		if (rc == TC_ENOTFOUND) {
			l->missing++;
			l->rc = put_line(&l->w.out, json_pack("{s:s, s:i, s:s}", "national_id", nid,
							      "status", 404, "detail", no_consent));
		} else if ((l->rc = rc) == 0) {
			l->nent++;
			l->found++;
			l->credits_x10 += l->w.q.credits_x10;
		}
	}
	return NULL;
}

/*
 * The second lane's thread, one for the whole batch (its per-thread
 * caches: rule and code parses, candidates, issuer keys, the Ed25519 key
 * set up, stay warm from group to group): lane_run on its lane each time
 * the batch thread posts a group (GEN), DONE once it finished it.
 */
struct lane_thread {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lane *l;
	unsigned gen, done;
	int quit, started;
	pthread_t th;
};

static void *
lane_thread_main(void *arg)
{
	struct lane_thread *t = arg;
	unsigned seen = 0;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		while (t->gen == seen && !t->quit)
			pthread_cond_wait(&t->cv, &t->mu);
		if (t->gen == seen)	/* quit, nothing posted */
			break;
		seen = t->gen;
		pthread_mutex_unlock(&t->mu);
		lane_run(t->l);
		pthread_mutex_lock(&t->mu);
		t->done = seen;
		pthread_cond_broadcast(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* 0 when T runs (else the caller runs the lane itself). */
static int
lane_thread_start(struct lane_thread *t, struct lane *l)
{
	memset(t, 0, sizeof(*t));
	t->l = l;
	if (pthread_mutex_init(&t->mu, NULL) != 0)
		return -1;
	if (pthread_cond_init(&t->cv, NULL) != 0) {
		pthread_mutex_destroy(&t->mu);
		return -1;
	}
	if (pthread_create(&t->th, NULL, lane_thread_main, t) != 0) {
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
		return -1;
	}
	t->started = 1;
	return 0;
}

static void
lane_thread_post(struct lane_thread *t)
{
	pthread_mutex_lock(&t->mu);
	t->gen++;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

static void
lane_thread_wait(struct lane_thread *t)
{
	pthread_mutex_lock(&t->mu);
	while (t->done != t->gen)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

static void
lane_thread_stop(struct lane_thread *t)
{
	if (!t->started)
		return;
	pthread_mutex_lock(&t->mu);
	t->quit = 1;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	t->started = 0;
}

/*
 * The institutions with a batch queued or running: one an institution at
 * a time (a second is 429 with Retry-After), so that one institution
 * cannot fill the batches' queue.
 */
#define BATCH_INSTITUTIONS 16
static struct {
	pthread_mutex_t mu;
	int64_t id[BATCH_INSTITUTIONS];
	int n;
} batching = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0 };

/* 0 when INSTITUTION_ID may start a batch (it is noted), 429 when it has
 * one, 503 when as many institutions have one as the queue takes. */
static int
batch_claim(int64_t institution_id)
{
	int rc = 0;

	pthread_mutex_lock(&batching.mu);
	for (int i = 0; i < batching.n && rc == 0; i++)
		if (batching.id[i] == institution_id)
			rc = 429;
	if (rc == 0 && batching.n == BATCH_INSTITUTIONS)
		rc = 503;
	if (rc == 0)
		batching.id[batching.n++] = institution_id;
	pthread_mutex_unlock(&batching.mu);
	return rc;
}

static void
batch_release(int64_t institution_id)
{
	pthread_mutex_lock(&batching.mu);
	for (int i = 0; i < batching.n; i++)
		if (batching.id[i] == institution_id) {
			batching.id[i] = batching.id[--batching.n];
			break;
		}
	pthread_mutex_unlock(&batching.mu);
}

static void
batch_run(struct work *w)
{
	struct batch_job *j = (struct batch_job *)w;
	struct lane lane[2];
	struct lane_thread second;
	size_t group = GROUP_FIRST, found = 0, missing = 0, bad = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int lanes = cores > 1 && j->n >= 2 * GROUP_FIRST ? 2 : 1, credits_x10 = 0;

	memset(lane, 0, sizeof(lane));
	memset(&second, 0, sizeof(second));
	for (int k = 0; k < lanes && j->rc == 0; k++)
		j->rc = lane_open(&lane[k], j);
	if (j->rc == 0 && lanes == 2)
		lane_thread_start(&second, &lane[1]);
	for (size_t i = 0; i < j->n && j->rc == 0;) {
		size_t end = i + group > j->n ? j->n : i + group;
		size_t mid = lanes == 2 ? i + (end - i) / 2 : end;
		int threaded = 0;

		lane[0].from = i;
		lane[0].to = mid;
		if (lanes == 2) {
			lane[1].from = mid;
			lane[1].to = end;
			if ((threaded = mid < end && second.started))
				lane_thread_post(&second);
		}
		lane_run(&lane[0]);
		if (threaded)
			lane_thread_wait(&second);
		else if (lanes == 2)
			lane_run(&lane[1]);
		j->rc = lane[0].rc ? lane[0].rc : lanes == 2 ? lane[1].rc : 0;
		/* the group's access-log entries commit together, then its lines go,
		 * the first lane's before the second's (input order) */
		if (j->rc == 0 && lanes == 2) {
			memcpy(&lane[0].ent[lane[0].nent], lane[1].ent,
			       lane[1].nent * sizeof(*lane[1].ent));
			lane[0].nent += lane[1].nent;
			lane[1].nent = 0;
			j->rc = dynbuf_append(&lane[0].w.out, lane[1].w.out.data,
					      lane[1].w.out.len);
		}
		if (j->rc == 0) {
			j->rc = commit_entries(lane[0].a.store, lane[0].ent, lane[0].nent);
			lane[0].nent = 0;
		}
		if (j->rc == 0)
			j->rc = http_stream_write(j->d.out, lane[0].w.out.data, lane[0].w.out.len);
		for (int k = 0; k < lanes; k++)
			dynbuf_reset(&lane[k].w.out);
		i = end;
		group = group * 2 > BATCH_TX ? BATCH_TX : group * 2;
	}
	lane_thread_stop(&second);
	for (int k = 0; k < lanes; k++) {
		found += lane[k].found;
		missing += lane[k].missing;
		bad += lane[k].bad;
		credits_x10 += lane[k].credits_x10;
		lane_close(&lane[k]);
	}
	/* no server time in it: it would time the look-ups */
	if (j->rc == 0)
		j->rc = put_line(&j->out, json_pack("{s:{s:i, s:i, s:i, s:i, s:o}}", "summary",
						    "learners", (int)j->n, "answered", (int)found,
						    "not_found", (int)missing, "malformed", (int)bad,
						    "credits_recognised", x10_json(credits_x10)));
	if (j->rc == 0)
		j->rc = http_stream_write(j->d.out, j->out.data, j->out.len);
	/* done computing: the institution's next batch may start (before the
	 * body's last chunk goes out) */
	batch_release(j->institution_id);
	j->claimed = 0;
}

static void
batch_free(struct batch_job *j)
{
	if (j->claimed)
		batch_release(j->institution_id);
	free(j->ids);
	dynbuf_cleanup(&j->out);
	free(j);
}

/* The body went out as it was computed (request.h, stream); a failure
 * before the first line is a problem, after it a cut body. */
static void
batch_finish(struct http_deferred *d, struct http_response *resp)
{
	struct batch_job *j = (struct batch_job *)d;

	if (resp && j->rc)
		problem_respond_err(resp, j->rc, NULL);
	batch_free(j);
}

static int
batch_add(struct batch_job *j, const char *s, size_t len, struct http_response *resp)
{
	char path[32];

	snprintf(path, sizeof(path), "[%zu]", j->n);
	if (j->n == RECQ_BATCH_MAX)
		return bad_input(resp, path, "at most 10000 national IDs in one batch"), 1;
	if (len > BATCH_ID_MAX)
		return bad_input(resp, path, "longer than 64 bytes: not a national ID"), 1;
	/* it is echoed in its line: text, or nothing is read */
	if (utf8_check(s, len) != 0)
		return bad_input(resp, path, "not valid UTF-8: not a national ID"), 1;
	memcpy(j->ids[j->n], s, len);
	j->ids[j->n][len] = '\0';
	j->n++;
	return 0;
}

struct id_at {
	const char *id;
	size_t i;
};

static int
id_at_cmp(const void *a, const void *b)
{
	const struct id_at *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

/* 1 with a 400 in RESP when an ID of J comes twice (the first repeat
 * named, with the entry it repeats): each ID would be read and logged
 * again, a flood of one learner's access log. */
static int
batch_duplicates(struct batch_job *j, struct http_response *resp)
{
	struct id_at *v = malloc(j->n * sizeof(*v));
	size_t dup = j->n, first = 0;

	if (!v)
		return problem_respond_err(resp, TC_ENOMEM, NULL), 1;
	for (size_t i = 0; i < j->n; i++)
		v[i] = (struct id_at){ j->ids[i], i };
	qsort(v, j->n, sizeof(*v), id_at_cmp);
	for (size_t k = 1; k < j->n; k++)
		if (strcmp(v[k].id, v[k - 1].id) == 0 && v[k].i < dup &&
		    (k == 1 || strcmp(v[k - 1].id, v[k - 2].id) != 0)) {
			dup = v[k].i;
			first = v[k - 1].i;
		}
	free(v);
	if (dup < j->n) {
		char path[32], msg[96];

		snprintf(path, sizeof(path), "[%zu]", dup);
		snprintf(msg, sizeof(msg), "the same national ID as [%zu] (each ID at most once"
			 " a batch)", first);
		return bad_input(resp, path, msg), 1;
	}
	return 0;
}

/* REQ's body into J->ids: a JSON array of strings, or text (CSV) with one
 * national ID a line, each ID once. 1 with the problem in RESP. */
static int
batch_parse(const struct http_request *req, struct http_response *resp, struct batch_job *j)
{
	const char *ct = req->content_type;

	if (strncmp(ct, "application/json", 16) == 0) {
		json_error_t err;
		json_t *a = json_loadb(req->body.data ? req->body.data : "", req->body.len, 0, &err),
		       *v;
		size_t i;

		if (!json_is_array(a)) {
			json_decref(a);
			return bad_input(resp, "", "the body must be a JSON array of national IDs"
					 " (strings)"), 1;
		}
		json_array_foreach(a, i, v) {
			if (!json_is_string(v)) {
				char path[32];

				snprintf(path, sizeof(path), "[%zu]", i);
				json_decref(a);
				return bad_input(resp, path, "a national ID must be a string"), 1;
			}
			if (batch_add(j, json_string_value(v), json_string_length(v), resp)) {
				json_decref(a);
				return 1;
			}
		}
		json_decref(a);
	} else if (strncmp(ct, "text/csv", 8) == 0 || strncmp(ct, "text/plain", 10) == 0) {
		const char *p = req->body.data ? req->body.data : "", *end = p + req->body.len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *e = nl ? nl : end;
			size_t len = (size_t)(e - p);

			if (len && p[len - 1] == '\r')
				len--;
			if (memchr(p, '\0', len))
				return bad_input(resp, "", "the body has a NUL byte"), 1;
			/* blank lines and a "national_id" header line are skipped */
			if (len && !(j->n == 0 && len == 11 && memcmp(p, "national_id", 11) == 0) &&
			    batch_add(j, p, len, resp))
				return 1;
			p = nl ? nl + 1 : end;
		}
	} else {
		return problem_respond(resp, 415, NULL, "send application/json (an array of"
				       " national IDs) or text/csv (one a line)"), 1;
	}
	if (j->n == 0)
		return bad_input(resp, "", "no national IDs"), 1;
	return batch_duplicates(j, resp);
}

static int
batch_precheck(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;

	return api_institution(app, req, resp, &inst) ||
	       api_allow(req, resp, AZ_RECOGNITION_QUERY, inst.id);
}

static int
on_batch(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct batch_job *j;
	int rc;

	if (batch_precheck(app, req, resp) || api_institution(app, req, resp, &inst))
		return 0;
	if (!(j = calloc(1, sizeof(*j))) ||
	    !(j->ids = calloc(RECQ_BATCH_MAX, sizeof(*j->ids)))) {
		free(j);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	dynbuf_init(&j->out, (size_t)1 << 30);
	if (batch_parse(req, resp, j)) {
		batch_free(j);
		return 0;
	}
	j->institution_id = inst.id;
	if ((rc = batch_claim(inst.id))) {
		batch_free(j);
		problem_respond(resp, rc, NULL, rc == 429 ? "this institution's previous batch is"
				" still running; one at a time" : "the server is busy with batches;"
				" try again shortly");
		http_response_header(resp, "retry-after", rc == 429 ? "10" : "2");
		return 0;
	}
	j->claimed = 1;
	/* the batch verifies with the server's cache (checkpoint, lists) */
	api_verify_prepare(app);
	j->app = app;
	j->reader_token = req->actor.kind == ACTOR_TOKEN ? req->actor.token_id : 0;
	j->reader_person = req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0;
	j->d.work.run = batch_run;
	j->d.finish = batch_finish;
	j->d.batch = 1;		/* its own thread: uploads never wait for it */
	j->d.stream = 1;
	resp->status = 200;
	resp->content_type = "application/x-ndjson";
	req->deferred = &j->d;
	return 0;
}

const struct route api_recogquery_routes[] = {
	{ HTTP_GET, "/api/v1/recognition/{code}/learners/{national_id}", on_learner,
	  "recognition_learner" },
	{ HTTP_POST, "/api/v1/recognition/{code}/learners:batch", on_batch, "recognition_batch",
	  0, (int64_t)RECQ_BATCH_MAX * (BATCH_ID_MAX + 8), batch_precheck },
	{ HTTP_GET, "/api/v1/me/recognition", on_mine, "recognition_mine" },
	{ HTTP_POST, "/api/v1/me/recognition", on_mine_external, "recognition_mine_external" },
};
const size_t api_recogquery_routes_count =
	sizeof(api_recogquery_routes) / sizeof(api_recogquery_routes[0]);
