/*
 * issuing.c - course.completed events become signed credentials.
 *
 * For each pending event: the course, the learner and the institution's
 * current key are read; the OpenBadgeCredential is built (issuer = the
 * key's did:key, validFrom now, achievement = the course, result = the
 * grade on 0-10, the learner as a salted hash of the national ID, a
 * BitstringStatusListEntry at next_k's index: its segment's keyed
 * permutation, courses/statuslist.h); it is signed with
 * eddsa-jcs-2022 (proof array, verificationMethod did:key#...) by
 * keys_sign, so the private key stays in DATA/keys; it is
 * stored as its fields (storage/credentials.h), and the event consumed, in
 * one transaction. When another writer
 * took the same next_k meanwhile, it is built again with the next one.
 * issuing_run does this by batches of BATCH, in a pipeline: batch N+1 is
 * signed on a helper thread while batch N commits (see issuing_run).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "courses/course.h"
#include "courses/credential.h"
#include "courses/credential_derive.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/identity_hash.h"
#include "courses/jcs.h"
#include "courses/log.h"
#include "courses/statuslist.h"
#include "courses/xapi.h"
#include "courses/tlog_entry.h"
#include "server/api_util.h"
#include "server/api_xapi.h"
#include "server/app.h"
#include "server/config.h"
#include "server/issuing.h"
#include "server/tlog.h"
#include "storage/completion.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/keys.h"
#include "storage/tlog.h"

#define BATCH 256	/* events read, and credentials committed, together */
#define PERMS_MAX 8	/* institutions' status list permutations kept per run */
#define ISSUE_TRIES 3
/* load_job's verdicts besides 0 and the TC_* codes */
#define JOB_WAIT 1	/* stays pending */
#define JOB_SKIP 2	/* consumed without a credential */
#define JOB_RETRY 3	/* stays pending, tried again later (issuing_retry_tick) */
#define PERM_LABEL "tinchi status list permutation v1"

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

static void
keys_dir(struct app *app, char *out, size_t n)
{
	snprintf(out, n, "%s/keys", app->cfg->data_dir);
}

static int
first_key(const struct inst_key *k, void *arg)
{
	struct inst_key *first = arg;

	if (!first->id)
		*first = *k;
	return 0;
}

int
issuing_perm_secret(struct app *app, int64_t institution_id, unsigned char out[64])
{
	struct inst_key first = { 0 };
	char dir[4200], label[128];
	int rc = store_key_each(app->store, institution_id, first_key, &first);

	if (rc == 0 && !first.id)
		rc = TC_ENOTFOUND;
	if (rc)
		return rc;
	keys_dir(app, dir, sizeof(dir));
	snprintf(label, sizeof(label), "%s %lld", PERM_LABEL, (long long)institution_id);
	return keys_sign(dir, first.file, label, strlen(label), out);
}

void
issuing_grade_text(int x100, char out[16])
{
	if (x100 % 100 == 0)
		snprintf(out, 16, "%d", x100 / 100);
	else if (x100 % 10 == 0)
		snprintf(out, 16, "%d.%d", x100 / 100, (x100 % 100) / 10);
	else
		snprintf(out, 16, "%d.%02d", x100 / 100, x100 % 100);
}

/* What one credential needs, read before signing. A course not on
 * tinchi (issued by the institution's own systems) has course.id 0. */
struct job {
	int64_t event_id;
	struct course course;
	struct person person;
	struct institution inst;
	struct inst_key key;
	char grade[16];
	char term[ISSUING_TERM_MAX + 1];
	int awarded;			/* 1: awarded_at is the completion date */
	int64_t awarded_at;
	char field_of_study[ISSUING_FIELD_MAX + 1];	/* "" : none */
	unsigned char cred_key[32];	/* store_credential_key: derives uid and salt */
};

/* The credit framework every achievement is aligned with (README
 * "Issuing"). It is stored with each achievement's shared fields, so a
 * later change here does not alter credentials issued before it. */
static const struct credential_alignment credit_framework = {
	.target_name = "Vietnam national credit system (tín chỉ)",
	.target_url = "https://moet.gov.vn",
	.target_framework = "Quy chế đào tạo trình độ đại học (Thông tư 08/2021/TT-BGDĐT)",
	.target_code = "tin-chi",
	.target_description = "1 tín chỉ (credit) = 50 giờ học tập định mức (50 hours of a"
			      " learner's standard study work)",
	.target_type = "ext:CreditSystem",
};

/* N bytes at IN as lower-case hex into OUT (2N + 1 bytes). */
static void
hex_of(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Builds and signs the credential of J with status index INDEX at NOW:
 * C's fields, its signed text (*TEXT, malloc'ed: what every later read
 * rebuilds from the fields) and its hash; C->shared (its shared fields'
 * text) too unless NO_SHARED (the caller takes another credential's). */
static int
build_signed(struct app *app, const struct job *j, uint64_t index, int64_t now,
	     struct credential_rec *c, char **text, int no_shared)
{
	char uuid[37], valid_from[32], awarded[32], home[600], ach_id[700], status_url[700];
	char vm[DID_KEY_VM_MAX], criteria[200], hex[33];
	unsigned char u[16], salt[16];
	struct credential_input in = { 0 };
	struct credential_jcs cj = { 0 };
	unsigned char hash[64];
	struct signer sg;
	json_t *shared = NULL;
	size_t tlen = 0;
	int rc;

	*text = NULL;
	/* uid and salt derive from the issuer and status index (unique), so
	 * the store keeps neither (courses/credential_derive.h) */
	if ((rc = credential_uid_derive(j->cred_key, j->inst.id, (int64_t)index, u)) ||
	    (rc = credential_salt_derive(j->cred_key, u, salt)))
		return rc;
	hex_of(u, 16, hex);
	snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		 hex + 20);
	hex_of(salt, 16, c->salt);
	if ((rc = identity_hash_make(j->person.national_id, c->salt, c->identity_hash)))
		return rc;
	snprintf(c->uid, sizeof(c->uid), "urn:uuid:%s", uuid);
	api_time(now, valid_from);
	api_time(j->awarded_at, awarded);
	lrs_home_page(app, home, sizeof(home));
	if (j->course.id)
		snprintf(ach_id, sizeof(ach_id), "%s/api/v1/courses/%s", home, j->course.uid);
	else	/* a course of the institution's own, not on tinchi */
		snprintf(ach_id, sizeof(ach_id), "urn:tinchi:course:%s:%s", j->inst.code,
			 j->course.code);
	snprintf(status_url, sizeof(status_url), "%s/api/v1/institutions/%s/status/%s", home,
		 j->inst.code, ISSUING_PURPOSE);
	snprintf(criteria, sizeof(criteria), "Completed the course %s and met its completion"
		 " rules.", j->course.code);

	in.id = c->uid;
	in.issuer_id = j->key.did;
	in.issuer_name = j->inst.name;
	in.issuer_url = j->inst.website[0] ? j->inst.website : NULL;
	in.valid_from = valid_from;
	in.awarded_date = j->awarded ? awarded : NULL;
	in.name = j->course.title;
	in.identity_hash = c->identity_hash;
	in.salt = c->salt;
	in.credits_earned = j->course.credits_x10 / 10.0;
	in.term = j->term;
	in.grade = j->grade;
	in.achievement_id = ach_id;
	in.achievement_name = j->course.title;
	in.achievement_description = j->course.description[0] ? j->course.description :
				     j->course.title;
	in.criteria_narrative = criteria;
	in.course_code = j->course.code;
	in.credits_available = j->course.credits_x10 / 10.0;
	in.field_of_study = j->field_of_study[0] ? j->field_of_study : NULL;
	in.alignment = &credit_framework;
	in.n_alignment = 1;
	in.status_list_credential = status_url;
	in.status_list_index = index;
	/* the eddsa-jcs-2022 signature over the canonical texts written
	 * directly from the fields (the writer every read rebuilds with) */
	/* an Ed25519 did:key's verification method, did#multibase key: from
	 * the did as every read makes it (store_credential_text), no base58 */
	if (strncmp(j->key.did, "did:key:z", 9) != 0)
		rc = TC_EINVALID;
	else
		snprintf(vm, sizeof(vm), "%s#%s", j->key.did, j->key.did + 8);
	if (rc == 0 && (rc = credential_jcs_make(&in, vm, valid_from, &cj)) == 0) {
		credential_jcs_hash(&cj, hash);
		keys_dir(app, sg.dir, sizeof(sg.dir));
		sg.file = j->key.file;
		if ((rc = sign_cb(&sg, hash, sizeof(hash), c->signature)) == 0)
			rc = credential_jcs_signed(&cj, c->signature, text, &tlen);
	}
	credential_jcs_cleanup(&cj);
	if (rc == 0 && !no_shared && (rc = credential_shared_json(&in, &shared)) == 0 &&
	    !(c->shared = json_dumps(shared, JSON_COMPACT | JSON_SORT_KEYS)))
		rc = TC_ENOMEM;
	json_decref(shared);
	if (rc) {
		free(*text);
		*text = NULL;
		return rc;
	}
	c->key_id = j->key.id;
	snprintf(c->issuer_did, sizeof(c->issuer_did), "%s", j->key.did);
	c->issued_at = now;
	c->status_index = (int64_t)index;
	c->credits_earned = in.credits_earned;
	snprintf(c->term, sizeof(c->term), "%s", j->term);
	snprintf(c->grade, sizeof(c->grade), "%s", j->grade);
	c->awarded = j->awarded;
	c->awarded_at = j->awarded_at;
	sha256_hex(*text, tlen, c->hash);
	return 0;
}

int
issuing_list_full(struct app *app, int64_t institution_id)
{
	int64_t k = 0;

	return store_status_next_k(app->store, institution_id, ISSUING_PURPOSE, &k) == 0 &&
	       k >= (int64_t)STATUSLIST_MAX_BITS;
}

/* The status list index of credential number K of J's institution, P
 * keyed (again) for K's segment from SECRET when it is not already. */
static int
index_of(const struct job *j, const unsigned char secret[64], struct statuslist_perm *p,
	 int64_t k, uint64_t *index)
{
	int rc = 0;

	if (k < 0)
		return TC_EINVALID;
	if (!p->inner || p->segment != statuslist_segment_of((uint64_t)k)) {
		statuslist_perm_cleanup(p);
		rc = statuslist_segment_init(p, secret, 64, statuslist_segment_of((uint64_t)k));
	}
	if (rc == 0)
		rc = statuslist_segment_index(p, (uint64_t)k, index);
	if (rc == TC_ETOOBIG)
		log_err("institution %s: its status list is full (%u credentials): no credential"
			" for course %s", j->inst.code, STATUSLIST_MAX_BITS, j->course.code);
	return rc;
}

/* Issues the credential of J: 0, or a TC_* code (nothing stored; TC_ETOOBIG:
 * the institution's status list is full). On success OUT (may be NULL)
 * gets the stored record, its json allocated. */
static int
issue_one(struct app *app, const struct job *j, struct credential_rec *out)
{
	struct statuslist_perm perm = { 0 };
	unsigned char secret[64];
	int rc = issuing_perm_secret(app, j->inst.id, secret);

	for (int t = 0; rc == 0 && t < ISSUE_TRIES; t++) {
		struct credential_rec c = { 0 };
		int64_t k = 0, now = (int64_t)time(NULL);
		uint64_t index = 0;
		char *text = NULL;

		if ((rc = store_status_next_k(app->store, j->inst.id, ISSUING_PURPOSE, &k)) ||
		    (rc = index_of(j, secret, &perm, k, &index)) ||
		    (rc = build_signed(app, j, index, now, &c, &text, 0))) {
			free(c.shared);
			break;
		}
		c.institution_id = j->inst.id;
		c.course_id = j->course.id;
		c.person_id = j->person.id;
		c.json = text;
		/* the credential and its entry in the transparency log commit
		 * together: no credential exists that the log does not show */
		rc = store_begin(app->store);
		if (rc == 0) {
			char subject[80], why[160] = "";

			snprintf(subject, sizeof(subject), "sha256:%s", c.hash);
			rc = store_credential_issue(app->store, &c, ISSUING_PURPOSE, k, j->event_id);
			if (rc == 0 && (rc = tlog_append(app->store, "issue", subject, j->key.did, now,
							 NULL, why, sizeof(why))))
				log_err("credential %s: not appended to the log: %s %s", c.uid,
					tc_strerror(rc), why);
			if (rc == 0)
				rc = store_commit(app->store);
			if (rc)
				store_rollback(app->store);
		}
		free(c.shared);
		c.shared = NULL;
		if (rc == 0 && out) {
			*out = c;
			text = NULL;	/* OUT owns it */
		}
		free(text);
		if (rc == 0) {
			log_info("credential %s issued by %s for course %s to %s (status index %llu)",
				 c.uid, j->inst.code, j->course.code, j->person.uid,
				 (unsigned long long)index);
		}
		if (rc != TC_ECONFLICT)
			break;
	}
	statuslist_perm_cleanup(&perm);
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

struct pending {
	int64_t id[BATCH], course_id[BATCH], person_id[BATCH];
	char *payload[BATCH];
	int n;
};

static int
collect(const struct outbox_event *e, void *arg)
{
	struct pending *p = arg;

	p->id[p->n] = e->id;
	p->course_id[p->n] = e->course_id;
	p->person_id[p->n] = e->person_id;
	if (!(p->payload[p->n] = strdup(e->payload ? e->payload : "")))
		return TC_ENOMEM;
	p->n++;
	return 0;
}

/* Reads what event E needs into J. 0; JOB_WAIT when it must stay pending
 * (unless APPROVED, a course set to "approval" keeps it waiting), JOB_RETRY
 * when it stays pending until what it lacks comes (logged: the institution
 * has no key, its status list is full), JOB_SKIP when it is to be consumed
 * without a credential, else an error. SAME (may be NULL): a job of this batch loaded just now for the
 * same course, whose course, institution and key are taken instead of
 * being read again. */
static int
load_job(struct app *app, const struct outbox_event *e, int approved, struct job *j,
	 const struct job *same)
{
	json_t *o = json_loads(e->payload ? e->payload : "", 0, NULL);
	json_t *grade = o ? json_object_get(o, "grade") : NULL;
	json_t *passed = o ? json_object_get(o, "passed") : NULL;
	const char *at = o ? json_string_value(json_object_get(o, "completed_at")) : NULL;
	char mode[16];
	int rc = 0;

	memset(j, 0, sizeof(*j));
	j->event_id = e->id;
	if (!json_is_number(grade) || !json_is_boolean(passed) || !at || strlen(at) < 4) {
		log_err("outbox event %lld: payload is not a course.completed event",
			(long long)e->id);
		rc = TC_EINVALID;
	} else {
		issuing_grade_text((int)llround(json_number_value(grade) * 100), j->grade);
		snprintf(j->term, sizeof(j->term), "%.4s", at);
		/* awardedDate: when the completion was recorded */
		if (xapi_timestamp_parse(at, &j->awarded_at) == 0) {
			j->awarded = 1;
			j->awarded_at /= 1000000;	/* whole seconds: api_time */
		}
		if (!json_is_true(passed))
			rc = JOB_SKIP;
	}
	json_decref(o);
	if (rc)
		return rc;
	if (same) {
		j->course = same->course;
		j->inst = same->inst;
		j->key = same->key;
		memcpy(j->cred_key, same->cred_key, sizeof(j->cred_key));
		if (same->course.starts_on[0] && same->course.ends_on[0])
			snprintf(j->term, sizeof(j->term), "%s/%s", j->course.starts_on,
				 j->course.ends_on);
		return store_person_get(app->store, e->person_id, &j->person);
	}
	if (rc == 0)
		rc = store_course_get_id(app->store, e->course_id, &j->course);
	if (rc == 0)
		rc = store_person_get(app->store, e->person_id, &j->person);
	if (rc == 0)
		rc = store_institution_get_id(app->store, j->course.institution_id, &j->inst);
	if (rc == 0 && j->course.starts_on[0] && j->course.ends_on[0])
		snprintf(j->term, sizeof(j->term), "%s/%s", j->course.starts_on, j->course.ends_on);
	if (rc == 0 && !approved)
		rc = store_course_issue_mode(app->store, j->course.id, mode);
	if (rc == 0 && !approved && strcmp(mode, "auto") != 0)
		return JOB_WAIT;	/* waits for a lecturer's approval */
	if (rc == 0 && (rc = store_key_current(app->store, j->inst.id, &j->key)) == TC_ENOTFOUND) {
		log_warn("institution %s has no signing key: the credential for course %s waits",
			 j->inst.code, j->course.code);
		return JOB_RETRY;
	}
	if (rc == 0 && !approved && issuing_list_full(app, j->inst.id)) {
		log_err("institution %s: its status list is full (%u credentials): the credential"
			" for course %s waits", j->inst.code, STATUSLIST_MAX_BITS, j->course.code);
		return JOB_RETRY;
	}
	if (rc == 0)
		rc = store_credential_key(app->store, j->cred_key);
	return rc;
}

static int
fatal(int rc)
{
	return rc == TC_EDB || rc == TC_EBUSY || rc == TC_ENOMEM;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
retry_first_ms(const struct app *app)
{
	return app->cfg && app->cfg->issuing_retry_ms > 0 ? app->cfg->issuing_retry_ms : 5000;
}

static int64_t
retry_max_ms(const struct app *app)
{
	int64_t m = app->cfg && app->cfg->issuing_retry_max_ms > 0 ?
		    app->cfg->issuing_retry_max_ms : 300000;

	return m < retry_first_ms(app) ? retry_first_ms(app) : m;
}

/* Event EVENT_ID failed and stays pending: issuing_retry_tick reads it
 * again. COUNTED: one more in the gauge (not for a run stopped by a
 * fatal error, whose events are not known one by one). */
static void
retry_note(struct app *app, int64_t event_id, int counted)
{
	struct issuing_retry *r = &app->issuing_retry;

	if (event_id <= 0)
		return;	/* issuing_issue_many's requests: no event */
	if (r->from == 0 || event_id < r->from)
		r->from = event_id;
	if (counted)
		r->failed++;
}

/* The status list permutations of the institutions' segments met in one
 * run. */
struct perms {
	int64_t inst[PERMS_MAX];
	struct statuslist_perm perm[PERMS_MAX];
	int n;
};

/* The permutation of the segment of INST's credential number K. */
static int
perm_get(struct app *app, struct perms *ps, int64_t inst, int64_t k,
	 const struct statuslist_perm **out)
{
	uint64_t seg = statuslist_segment_of((uint64_t)k);
	unsigned char secret[64];
	int rc;

	if (k < 0)
		return TC_EINVALID;
	for (int i = 0; i < ps->n; i++)
		if (ps->inst[i] == inst && ps->perm[i].segment == seg) {
			*out = &ps->perm[i];
			return 0;
		}
	if (ps->n == PERMS_MAX || seg >= STATUSLIST_SEGMENTS)
		return TC_ECONFLICT;	/* the caller issues one by one (and says why) */
	rc = issuing_perm_secret(app, inst, secret);
	if (rc == 0)
		rc = statuslist_segment_init(&ps->perm[ps->n], secret, sizeof(secret), seg);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc)
		return rc;
	ps->inst[ps->n] = inst;
	*out = &ps->perm[ps->n++];
	return 0;
}

static void
perms_cleanup(struct perms *ps)
{
	for (int i = 0; i < ps->n; i++)
		statuslist_perm_cleanup(&ps->perm[i]);
	ps->n = 0;
}

/* One credential of a batch: its job, status k and index, what was built. */
struct item {
	const struct job *j;
	int64_t k;
	uint64_t index;
	struct credential_rec c;
	char *text;
	char subject[80];	/* "sha256:" + the hash: its log entry's subject */
	char *entry;		/* the log entry */
	int shared_of;		/* an earlier item whose shared fields are the same, or -1 */
	int rc;
};

/*
 * A batch of jobs on its way: status indexes assigned (prepare), built and
 * signed by the helper thread and the issuing thread taking items in turn
 * (build_start, build_finish), stored in one transaction (commit).
 */
struct batch {
	struct app *app;
	struct job *j;		/* BATCH */
	struct item *it;	/* BATCH */
	int n;
	int64_t now;
	int next;		/* the next item to build (atomic) */
	pthread_t helper;
	int threaded;
	/* issuing_issue_many's: each job's record and result (else NULL) */
	struct credential_rec *out;
	int *rcs;
};

void (*issuing_test_before_commit)(struct app *app, int n);

static void
build_item(struct batch *b, struct item *x)
{
	char when[32];
	struct dynbuf e;

	x->rc = build_signed(b->app, x->j, x->index, b->now, &x->c, &x->text, x->shared_of >= 0);
	if (x->rc)
		return;
	snprintf(x->subject, sizeof(x->subject), "sha256:%s", x->c.hash);
	api_time(b->now, when);
	dynbuf_init(&e, TLOG_ENTRY_MAX);
	x->rc = tlog_entry_make("issue", x->subject, x->j->key.did, when, &e, NULL, 0);
	if (x->rc == 0 && !(x->entry = dynbuf_take(&e, NULL)))
		x->rc = TC_ENOMEM;
	dynbuf_cleanup(&e);
}

static void *
build_some(void *arg)
{
	struct batch *b = arg;
	int i;

	while ((i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED)) < b->n)
		build_item(b, &b->it[i]);
	return NULL;
}

/* Frees what B's items hold and forgets them (the jobs stay). */
static void
batch_clear(struct batch *b)
{
	for (int i = 0; i < b->n; i++) {
		free(b->it[i].text);
		free(b->it[i].entry);
		if (b->it[i].shared_of < 0)	/* else borrowed from that item */
			free(b->it[i].c.shared);
	}
	memset(b->it, 0, BATCH * sizeof(*b->it));
}

/* 1 when jobs A and B have the same shared fields (credential_shared_json
 * of build_signed's input): every field of theirs that goes into them. */
static int
same_shared(const struct job *a, const struct job *b)
{
	return a->inst.id == b->inst.id && a->course.id == b->course.id &&
	       strcmp(a->inst.code, b->inst.code) == 0 && strcmp(a->inst.name, b->inst.name) == 0 &&
	       strcmp(a->inst.website, b->inst.website) == 0 &&
	       strcmp(a->course.uid, b->course.uid) == 0 &&
	       strcmp(a->course.code, b->course.code) == 0 &&
	       strcmp(a->course.title, b->course.title) == 0 &&
	       strcmp(a->course.description, b->course.description) == 0 &&
	       a->course.credits_x10 == b->course.credits_x10 &&
	       strcmp(a->field_of_study, b->field_of_study) == 0;
}

/*
 * Assigns the status k and index of each of B's N jobs: after the previous
 * item of the same institution in B, else after the last of PREV (a batch
 * built but not committed yet: its k are not in the store), else the
 * store's next_k. A wrong guess is caught at commit (store_credential_issue
 * takes k only while next_k is k: TC_ECONFLICT).
 */
static int
prepare(struct app *app, struct perms *ps, struct batch *b, const struct batch *prev)
{
	int rc = 0;

	b->now = (int64_t)time(NULL);
	memset(b->it, 0, BATCH * sizeof(*b->it));
	for (int i = 0; rc == 0 && i < b->n; i++) {
		const struct statuslist_perm *perm = NULL;
		const struct item *last = NULL;

		b->it[i].j = &b->j[i];
		/* the same course, institution and field: the same shared fields
		 * (they come from those alone), built once */
		b->it[i].shared_of = -1;
		for (int q = i - 1; q >= 0 && b->it[i].shared_of < 0; q--)
			if (same_shared(&b->j[q], &b->j[i]))
				b->it[i].shared_of = b->it[q].shared_of >= 0 ? b->it[q].shared_of : q;
		for (int q = i - 1; q >= 0 && !last; q--)
			if (b->j[q].inst.id == b->j[i].inst.id)
				last = &b->it[q];
		for (int q = prev ? prev->n - 1 : -1; q >= 0 && !last; q--)
			if (prev->j[q].inst.id == b->j[i].inst.id)
				last = &prev->it[q];
		if (last)
			b->it[i].k = last->k + 1;
		else
			rc = store_status_next_k(app->store, b->j[i].inst.id, ISSUING_PURPOSE,
						 &b->it[i].k);
		if (rc == 0)
			rc = perm_get(app, ps, b->j[i].inst.id, b->it[i].k, &perm);
		if (rc == 0)
			rc = statuslist_segment_index(perm, (uint64_t)b->it[i].k, &b->it[i].index);
	}
	return rc;
}

/* Starts building B on the helper thread; the caller joins in with
 * build_finish when it is free. */
static void
build_start(struct batch *b)
{
	b->next = 0;
	b->threaded = b->n > 1 && pthread_create(&b->helper, NULL, build_some, b) == 0;
}

/* Builds what is left of B on this thread, waits for the helper. 0 when
 * every item was built, else the first item's error. */
static int
build_finish(struct batch *b)
{
	build_some(b);
	if (b->threaded)
		pthread_join(b->helper, NULL);
	b->threaded = 0;
	for (int i = 0; i < b->n; i++)
		if (b->it[i].rc)
			return b->it[i].rc;
	return 0;
}

/*
 * Stores B's credentials with their consumed events and log entries in
 * one transaction, one commit: 0 with *COUNT += N, else nothing is stored.
 */
static int
commit(struct app *app, struct batch *b, int *count)
{
	const char **entries = calloc((size_t)b->n, sizeof(*entries));
	const char **subjects = calloc((size_t)b->n, sizeof(*subjects));
	int rc = entries && subjects ? 0 : TC_ENOMEM;

	if (issuing_test_before_commit)
		issuing_test_before_commit(app, b->n);
	if (rc == 0)
		rc = store_begin(app->store);
	if (rc == 0) {
		uint64_t first = 0;

		for (int i = 0; rc == 0 && i < b->n; i++) {
			struct credential_rec *c = &b->it[i].c;
			const struct job *j = &b->j[i];

			c->institution_id = j->inst.id;
			c->course_id = j->course.id;
			c->person_id = j->person.id;
			c->status_index = (int64_t)b->it[i].index;
			c->issued_at = b->now;
			c->json = b->it[i].text;
			if (b->it[i].shared_of >= 0)
				c->shared = b->it[b->it[i].shared_of].c.shared;
			entries[i] = b->it[i].entry;
			subjects[i] = b->it[i].subject;
			rc = store_credential_issue(app->store, c, ISSUING_PURPOSE, b->it[i].k,
						    j->event_id);
		}
		/* in the same transaction: no credential the log does not show */
		if (rc == 0)
			rc = store_tlog_append(app->store, entries, subjects, (size_t)b->n, &first);
		if (rc == 0)
			rc = store_commit(app->store);
		if (rc)
			store_rollback(app->store);
	}
	for (int i = 0; rc == 0 && i < b->n; i++) {
		log_info("credential %s issued by %s for course %s to %s (status index %llu)",
			 b->it[i].c.uid, b->j[i].inst.code, b->j[i].course.code,
			 b->j[i].person.uid, (unsigned long long)b->it[i].index);
		if (b->out) {	/* the record, with its text, goes to the caller */
			b->out[i] = b->it[i].c;
			b->out[i].shared = NULL;
			b->it[i].text = NULL;
		}
		if (b->rcs)
			b->rcs[i] = 0;
	}
	free(entries);
	free(subjects);
	if (rc == 0)
		*count += b->n;
	return rc;
}

/* Issues B's jobs one by one, each failure logged on its own. 0, or the
 * first fatal storage error. */
static int
one_by_one(struct app *app, struct batch *b, int *count)
{
	int rc = 0;

	batch_clear(b);
	for (int i = 0; rc == 0 && i < b->n; i++) {
		int r = issue_one(app, &b->j[i], b->out ? &b->out[i] : NULL);

		if (b->rcs)
			b->rcs[i] = r;
		if (r == 0) {
			(*count)++;
			continue;
		}
		log_err("outbox event %lld: no credential issued: %s",
			(long long)b->j[i].event_id, tc_strerror(r));
		if (fatal(r))
			rc = r;
		else if (!b->rcs)	/* an outbox event: it stays pending */
			retry_note(app, b->j[i].event_id, 1);
	}
	b->n = 0;
	return rc;
}

/*
 * Reads the next events after *AFTER into B's jobs (B->n of them to
 * issue); those not passed are consumed, those that wait are left. *MORE:
 * a full page was read (there may be more). 0 or a fatal error.
 */
static int
load_batch(struct app *app, struct pending *p, struct batch *b, int64_t *after, int *more)
{
	int rc;

	p->n = 0;
	b->n = 0;
	rc = store_outbox_each(app->store, "course.completed", *after, BATCH, collect, p);
	for (int i = 0; rc == 0 && i < p->n; i++) {
		struct outbox_event e = { .id = p->id[i], .course_id = p->course_id[i],
					  .person_id = p->person_id[i],
					  .payload = p->payload[i] };
		const struct job *same = b->n > 0 && b->j[b->n - 1].course.id == p->course_id[i] ?
					 &b->j[b->n - 1] : NULL;
		int r = load_job(app, &e, 0, &b->j[b->n], same);

		*after = p->id[i];
		if (r == 0)
			b->n++;	/* issued with the others */
		else if (r == JOB_SKIP)	/* not passed: nothing to issue */
			r = store_outbox_consume(app->store, p->id[i], (int64_t)time(NULL));
		if (r && r != JOB_WAIT && r != JOB_RETRY) {
			log_err("outbox event %lld: no credential issued: %s",
				(long long)p->id[i], tc_strerror(r));
			if (fatal(r))
				rc = r;
		}
		if (r && r != JOB_WAIT && !fatal(r))
			retry_note(app, p->id[i], 1);	/* stays pending */
	}
	*more = p->n == BATCH;
	for (int i = 0; i < p->n; i++)
		free(p->payload[i]);
	return rc;
}

/*
 * The pipeline: while batch N commits on this thread, batch N+1 is being
 * signed on the helper thread (this thread joins in after its commit).
 * Batch N+1's status k continue batch N's in memory; when batch N's commit
 * fails it is rolled back and issued one by one, and batch N+1, whose k
 * followed it, is assigned again from the store and built anew.
 */
/* issuing_run from the events after AFTER; *READ (may be NULL): how many
 * events it read. */
static int
run_from(struct app *app, int64_t after, int *issued, int *read)
{
	struct pending *p = calloc(1, sizeof(*p));
	struct batch *bs = calloc(2, sizeof(*bs));
	struct perms *ps = calloc(1, sizeof(*ps));
	struct batch *cur, *prev;	/* being loaded and built; built, to commit */
	struct issuing_retry *r = &app->issuing_retry;
	int rc = p && bs && ps ? 0 : TC_ENOMEM, count = 0, more = 1, nread = 0;
	int64_t start = after;

	/* this run reads every event known to have failed: it notes again
	 * those that still fail */
	if (r->from && after < r->from) {
		r->from = 0;
		r->failed = 0;
	}

	for (int i = 0; rc == 0 && i < 2; i++) {
		bs[i].app = app;
		bs[i].j = calloc(BATCH, sizeof(*bs[i].j));
		bs[i].it = calloc(BATCH, sizeof(*bs[i].it));
		if (!bs[i].j || !bs[i].it)
			rc = TC_ENOMEM;
	}
	cur = bs ? &bs[0] : NULL;
	prev = bs ? &bs[1] : NULL;
	while (rc == 0 && (more || prev->n > 0)) {
		int pr = 0, built;

		if (more) {
			rc = load_batch(app, p, cur, &after, &more);
			nread += p->n;
		} else {
			cur->n = 0;
		}
		if (rc)
			break;
		if (cur->n > 0 && (pr = prepare(app, ps, cur, prev->n ? prev : NULL)) == 0)
			build_start(cur);
		/* batch N commits while batch N+1 is signed */
		if (prev->n > 0 && commit(app, prev, &count) != 0) {
			/* CUR's k followed PREV's: built for nothing */
			if (cur->n > 0 && pr == 0) {
				build_finish(cur);
				batch_clear(cur);
			}
			rc = one_by_one(app, prev, &count);
			if (rc == 0 && cur->n > 0 && (pr = prepare(app, ps, cur, NULL)) == 0)
				build_start(cur);
		} else if (prev->n > 0) {
			batch_clear(prev);
			prev->n = 0;
		}
		built = cur->n > 0 && pr == 0 ? build_finish(cur) : pr;
		if (rc == 0 && cur->n > 0 && built)
			rc = one_by_one(app, cur, &count);	/* says which failed */
		if (rc == 0) {
			struct batch *t = prev;

			prev = cur;
			cur = t;
		}
	}
	if (prev && prev->n > 0)	/* a fatal error left it unstored */
		batch_clear(prev);
	if (cur && cur->threaded)
		build_finish(cur);
	if (cur && cur->n > 0)
		batch_clear(cur);
	for (int i = 0; bs && i < 2; i++) {
		free(bs[i].j);
		free(bs[i].it);
	}
	if (ps)
		perms_cleanup(ps);
	free(ps);
	free(bs);
	free(p);
	if (issued)
		*issued = count;
	if (read)
		*read = nread;
	/* every event up to AFTER was issued, consumed or left pending */
	if (rc == 0 && after > app->issuing_seen)
		app->issuing_seen = after;
	if (rc)	/* a fatal error: the events from START on are read again */
		retry_note(app, start + 1, 0);
	if (!r->from) {	/* nothing failed: the next failure waits the first delay */
		r->due_ms = 0;
		r->delay_ms = 0;
	} else if (!r->due_ms) {
		if (!r->delay_ms)
			r->delay_ms = retry_first_ms(app);
		r->due_ms = now_ms() + r->delay_ms;
		log_warn("issuing: credentials that failed stay pending (from outbox event %lld);"
			 " tried again in %lld ms", (long long)r->from, (long long)r->delay_ms);
	}
	return rc;
}

int
issuing_run(struct app *app, int *issued)
{
	return run_from(app, 0, issued, NULL);
}

int
issuing_run_new(struct app *app, int *issued)
{
	int read = 0, rc = run_from(app, app->issuing_seen, issued, &read);

	/* nothing after the mark: a new event may have taken a smaller id
	 * (SQLite gives max(id) + 1, and the outbox pruner may have deleted
	 * the events at the top), so everything is read */
	if (rc == 0 && read == 0)
		rc = run_from(app, 0, issued, NULL);
	return rc;
}

void
issuing_retry_tick(struct app *app)
{
	struct issuing_retry *r = &app->issuing_retry;
	int issued = 0, rc;

	if (!r->from || !r->due_ms || now_ms() < r->due_ms)
		return;
	r->due_ms = 0;
	r->runs++;
	/* the wait before the next one, should this one fail too */
	r->delay_ms = r->delay_ms ? r->delay_ms * 2 : retry_first_ms(app);
	if (r->delay_ms > retry_max_ms(app))
		r->delay_ms = retry_max_ms(app);
	rc = run_from(app, r->from - 1, &issued, NULL);
	r->issued += (uint64_t)issued;
	if (rc)
		log_warn("issuing retry: %s", tc_strerror(rc));
	if (issued)
		log_info("issuing retry: issued %d credential(s) that had failed", issued);
}

/* The job of issuing_issue's inputs into J (INST, KEY: the institution
 * and key of the previous job, taken when it is the same institution). */
static int
job_of(struct app *app, const struct issuing_request *r, struct job *j, const struct job *prev)
{
	int rc;

	memset(j, 0, sizeof(*j));
	if (!r->course || !r->person || !r->grade || !r->grade[0] ||
	    strlen(r->grade) >= sizeof(j->grade) || !r->term || !r->term[0] ||
	    strlen(r->term) >= sizeof(j->term) ||
	    (r->field_of_study && strlen(r->field_of_study) >= sizeof(j->field_of_study)))
		return TC_EINVALID;
	j->course = *r->course;
	j->person = *r->person;
	snprintf(j->grade, sizeof(j->grade), "%s", r->grade);
	snprintf(j->term, sizeof(j->term), "%s", r->term);
	snprintf(j->field_of_study, sizeof(j->field_of_study), "%s",
		 r->field_of_study ? r->field_of_study : "");
	j->awarded = 1;
	j->awarded_at = r->awarded_at;
	if (prev && prev->inst.id == r->course->institution_id) {
		j->inst = prev->inst;
		j->key = prev->key;
		memcpy(j->cred_key, prev->cred_key, sizeof(j->cred_key));
		return 0;
	}
	rc = store_institution_get_id(app->store, r->course->institution_id, &j->inst);
	if (rc == 0 && (rc = store_key_current(app->store, j->inst.id, &j->key)) == TC_ENOTFOUND)
		rc = TC_ECONFLICT;	/* the institution has no signing key */
	if (rc == 0)
		rc = store_credential_key(app->store, j->cred_key);
	return rc;
}

int
issuing_issue(struct app *app, const struct course *course, const struct person *person,
	      const char *grade, const char *term, int64_t awarded_at,
	      const char *field_of_study, struct credential_rec *out)
{
	struct issuing_request r = { course, person, grade, term, awarded_at, field_of_study };
	struct job *j = calloc(1, sizeof(*j));
	int rc = j ? job_of(app, &r, j, NULL) : TC_ENOMEM;

	if (rc == 0)
		rc = issue_one(app, j, out);
	free(j);
	return rc;
}

int
issuing_issue_many(struct app *app, const struct issuing_request *req, size_t n, int *rcs,
		   struct credential_rec *out)
{
	struct batch b = { 0 };
	struct perms *ps = calloc(1, sizeof(*ps));
	struct credential_rec *bout = calloc(BATCH, sizeof(*bout));
	int *brc = calloc(BATCH, sizeof(*brc)), at[BATCH], count = 0, rc = 0;

	b.app = app;
	b.j = calloc(BATCH, sizeof(*b.j));
	b.it = calloc(BATCH, sizeof(*b.it));
	b.out = bout;
	b.rcs = brc;
	if (!ps || !bout || !brc || !b.j || !b.it)
		rc = TC_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rcs[i] = TC_EDB;	/* not tried: a fatal error came first */
		if (out)
			memset(&out[i], 0, sizeof(out[i]));
	}
	for (size_t i = 0; rc == 0 && i < n;) {
		int built;

		/* the next BATCH requests that make jobs; the others fail alone */
		b.n = 0;
		for (; i < n && b.n < BATCH; i++) {
			int r = job_of(app, &req[i], &b.j[b.n], b.n ? &b.j[b.n - 1] : NULL);

			rcs[i] = r;
			if (r == 0)
				at[b.n++] = (int)i;
			else if (fatal(r))
				rc = r;
		}
		if (rc || b.n == 0)
			break;
		memset(bout, 0, BATCH * sizeof(*bout));
		built = prepare(app, ps, &b, NULL);
		if (built == 0) {
			build_start(&b);
			built = build_finish(&b);
		}
		if (built || commit(app, &b, &count)) {
			int left = b.n;

			rc = one_by_one(app, &b, &count);
			b.n = left;	/* each job's result is in brc */
		} else {
			batch_clear(&b);
		}
		for (int q = 0; q < b.n; q++) {
			rcs[at[q]] = brc[q];
			if (out && brc[q] == 0)
				out[at[q]] = bout[q];
			else
				free(bout[q].json);
		}
		b.n = 0;
	}
	if (ps)
		perms_cleanup(ps);
	free(ps);
	free(bout);
	free(brc);
	free(b.j);
	free(b.it);
	return rc;
}

int
issuing_approve(struct app *app, const struct outbox_event *event, struct credential_rec *out)
{
	struct job *j = calloc(1, sizeof(*j));
	int rc = j ? 0 : TC_ENOMEM;

	if (rc == 0 && (!event || strcmp(event->kind, "course.completed") != 0))
		rc = TC_EINVALID;
	if (rc == 0) {
		rc = load_job(app, event, 1, j, NULL);
		if (rc == JOB_WAIT || rc == JOB_RETRY)
			rc = TC_ECONFLICT;	/* the institution has no signing key */
		else if (rc == JOB_SKIP)
			rc = TC_EINVALID;	/* not passed: nothing to approve */
	}
	if (rc == 0)
		rc = issue_one(app, j, out);
	free(j);
	return rc;
}
