/*
 * issuing.c - course.completed events become signed credentials.
 *
 * For each pending event: the course, the learner and the institution's
 * current key are read; the OpenBadgeCredential is built (issuer = the
 * key's did:key, validFrom now, achievement = the course, result = the
 * grade on 0-10, the learner as a salted hash of the national ID, a
 * BitstringStatusListEntry at index perm(next_k)); it is signed with
 * eddsa-jcs-2022 (proof array, verificationMethod did:key#...) by
 * keys_sign, so the private key stays in DATA/keys; it is
 * stored as its fields (storage/credentials.h), and the event consumed, in
 * one transaction. When another writer
 * took the same next_k meanwhile, it is built again with the next one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/course.h"
#include "courses/credential.h"
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

#define BATCH 100
#define ISSUE_TRIES 3
/* load_job's verdicts besides 0 and the TC_* codes */
#define JOB_WAIT 1	/* stays pending */
#define JOB_SKIP 2	/* consumed without a credential */
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

/* Builds and signs the credential of J with status index INDEX at NOW:
 * C's fields, then its text (*TEXT, malloc'ed) rebuilt from them the way
 * every later read rebuilds it, and its hash. */
static int
build_signed(struct app *app, const struct job *j, uint64_t index, int64_t now,
	     struct credential_rec *c, char **text)
{
	char uuid[37], valid_from[32], awarded[32], home[600], ach_id[700], status_url[700];
	char vm[DID_KEY_VM_MAX], criteria[200];
	struct credential_input in = { 0 };
	struct di_proof_options opt = { 0 };
	unsigned char hash[64];
	struct signer sg;
	json_t *doc = NULL, *cfg = NULL, *shared = NULL;
	int rc;

	*text = NULL;
	if ((rc = uuid_v4(uuid)) || (rc = identity_salt_new(c->salt)) ||
	    (rc = identity_hash_make(j->person.national_id, c->salt, c->identity_hash)))
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
	if ((rc = credential_build(&in, &doc)))
		return rc;

	/* the eddsa-jcs-2022 signature (as di_add_proof makes it) */
	if ((rc = did_key_vm_from_ed25519(j->key.pub, vm, sizeof(vm))) == 0) {
		opt.verification_method = vm;
		opt.created = valid_from;
		opt.proof_array = 1;
		keys_dir(app, sg.dir, sizeof(sg.dir));
		sg.file = j->key.file;
		if ((rc = di_proof_config(doc, &opt, &cfg)) == 0 &&
		    (rc = di_hash_data(doc, cfg, hash)) == 0)
			rc = sign_cb(&sg, hash, sizeof(hash), c->signature);
	}
	json_decref(cfg);
	json_decref(doc);
	if (rc == 0 && (rc = credential_shared_json(&in, &shared)) == 0 &&
	    !(c->shared = json_dumps(shared, JSON_COMPACT | JSON_SORT_KEYS)))
		rc = TC_ENOMEM;
	json_decref(shared);
	if (rc)
		return rc;
	c->key_id = j->key.id;
	snprintf(c->issuer_did, sizeof(c->issuer_did), "%s", j->key.did);
	c->issued_at = now;
	c->status_index = (int64_t)index;
	c->credits_earned = in.credits_earned;
	snprintf(c->term, sizeof(c->term), "%s", j->term);
	snprintf(c->grade, sizeof(c->grade), "%s", j->grade);
	c->awarded = j->awarded;
	c->awarded_at = j->awarded_at;
	if ((rc = store_credential_text(c, text, NULL)) == 0)
		sha256_hex(*text, strlen(*text), c->hash);
	return rc;
}

/* Issues the credential of J: 0, or a TC_* code (nothing stored). On
 * success OUT (may be NULL) gets the stored record, its json allocated. */
static int
issue_one(struct app *app, const struct job *j, struct credential_rec *out)
{
	struct statuslist_perm perm = { 0 };
	unsigned char secret[64];
	int rc = issuing_perm_secret(app, j->inst.id, secret);

	if (rc == 0)
		rc = statuslist_perm_init(&perm, secret, sizeof(secret), STATUSLIST_MIN_BITS);
	memset(secret, 0, sizeof(secret));
	for (int t = 0; rc == 0 && t < ISSUE_TRIES; t++) {
		struct credential_rec c = { 0 };
		int64_t k = 0, now = (int64_t)time(NULL);
		uint64_t index = 0;
		char *text = NULL;

		if ((rc = store_status_next_k(app->store, j->inst.id, ISSUING_PURPOSE, &k)) ||
		    (rc = statuslist_perm_index(&perm, (uint64_t)k, &index)) ||
		    (rc = build_signed(app, j, index, now, &c, &text))) {
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
 * (logged; unless APPROVED, a course set to "approval" keeps it waiting),
 * JOB_SKIP when it is to be consumed without a credential, else an
 * error. */
static int
load_job(struct app *app, const struct outbox_event *e, int approved, struct job *j)
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
		return JOB_WAIT;
	}
	return rc;
}

static int
fatal(int rc)
{
	return rc == TC_EDB || rc == TC_EBUSY || rc == TC_ENOMEM;
}

int
issuing_run(struct app *app, int *issued)
{
	struct pending *p = calloc(1, sizeof(*p));
	struct job *j = calloc(1, sizeof(*j));
	int64_t after = 0;
	int rc = p && j ? 0 : TC_ENOMEM, count = 0;

	while (rc == 0) {
		p->n = 0;
		rc = store_outbox_each(app->store, "course.completed", after, BATCH, collect, p);
		for (int i = 0; rc == 0 && i < p->n; i++) {
			struct outbox_event e = { .id = p->id[i], .course_id = p->course_id[i],
						  .person_id = p->person_id[i],
						  .payload = p->payload[i] };
			int r = load_job(app, &e, 0, j);

			after = p->id[i];
			if (r == 0 && (r = issue_one(app, j, NULL)) == 0)
				count++;
			else if (r == JOB_SKIP)	/* not passed: nothing to issue */
				r = store_outbox_consume(app->store, p->id[i], (int64_t)time(NULL));
			if (r && r != JOB_WAIT) {
				log_err("outbox event %lld: no credential issued: %s",
					(long long)p->id[i], tc_strerror(r));
				if (fatal(r))
					rc = r;
			}
		}
		for (int i = 0; i < p->n; i++)
			free(p->payload[i]);
		if (rc || p->n < BATCH)
			break;
	}
	free(p);
	free(j);
	if (issued)
		*issued = count;
	return rc;
}

int
issuing_issue(struct app *app, const struct course *course, const struct person *person,
	      const char *grade, const char *term, int64_t awarded_at,
	      const char *field_of_study, struct credential_rec *out)
{
	struct job *j = calloc(1, sizeof(*j));
	int rc = j ? 0 : TC_ENOMEM;

	if (rc == 0 && (!course || !person || !grade || !grade[0] ||
			strlen(grade) >= sizeof(j->grade) || !term || !term[0] ||
			strlen(term) >= sizeof(j->term) ||
			(field_of_study && strlen(field_of_study) >= sizeof(j->field_of_study))))
		rc = TC_EINVALID;
	if (rc == 0) {
		j->course = *course;
		j->person = *person;
		snprintf(j->grade, sizeof(j->grade), "%s", grade);
		snprintf(j->term, sizeof(j->term), "%s", term);
		snprintf(j->field_of_study, sizeof(j->field_of_study), "%s",
			 field_of_study ? field_of_study : "");
		j->awarded = 1;
		j->awarded_at = awarded_at;
		rc = store_institution_get_id(app->store, course->institution_id, &j->inst);
	}
	if (rc == 0 && (rc = store_key_current(app->store, j->inst.id, &j->key)) == TC_ENOTFOUND)
		rc = TC_ECONFLICT;	/* the institution has no signing key */
	if (rc == 0)
		rc = issue_one(app, j, out);
	free(j);
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
		rc = load_job(app, event, 1, j);
		if (rc == JOB_WAIT)
			rc = TC_ECONFLICT;	/* the institution has no signing key */
		else if (rc == JOB_SKIP)
			rc = TC_EINVALID;	/* not passed: nothing to approve */
	}
	if (rc == 0)
		rc = issue_one(app, j, out);
	free(j);
	return rc;
}
