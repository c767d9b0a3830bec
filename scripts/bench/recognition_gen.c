/*
 * recognition_gen.c - fills a data folder for scripts/bench/recognition.sh:
 * LEARNERS learners (national IDs 300000000000 + i), each with PER real
 * signed credentials (Open Badges 3.0, eddsa-jcs-2022 by the source
 * institution's own key in DATA/keys, stored compact with
 * store_credential_issue and appended to the transparency log, a
 * checkpoint at the end), a consent to HOST for all of them, and a few
 * hundred recognition rules at HOST. The source institutions SRC001..
 * (made beforehand with `tinchi institution add`, each with its key) take
 * CAP credentials each (a status list holds 131,072). Built and signed on
 * two threads, stored in transactions of BATCH credentials.
 *
 *   recognition_gen DATA LEARNERS PER SOURCES HOST
 *
 * The server must run with --public-url https://bench.tinchi.example (the
 * status list URLs and the log origin name it). Status indexes are handed
 * out in order (not through the keyed
 * permutation issuing uses: the order does not matter to the query).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "courses/course.h"
#include "courses/credential.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/errors.h"
#include "courses/identity_hash.h"
#include "courses/people.h"
#include "courses/recognition.h"
#include "server/tlog.h"
#include "storage/consent.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/recognition.h"
#include "storage/secret.h"
#include "storage/store.h"

#define COURSES 30
#define CAP 120000
#define BATCH 4096

static const char *const fields[] = { "0613", "0611", "0612", "0541", "0533", "0311" };

static const struct credential_alignment framework = {
	.target_name = "Vietnam national credit system (tín chỉ)",
	.target_url = "https://moet.gov.vn",
	.target_framework = "Quy chế đào tạo trình độ đại học (Thông tư 08/2021/TT-BGDĐT)",
	.target_code = "tin-chi",
	.target_type = "ext:CreditSystem",
};

struct source {
	struct institution inst;
	struct inst_key key;
	EVP_PKEY *pkey;
	struct course courses[COURSES];
	char vm[DID_KEY_VM_MAX];
	int64_t k;
};

struct item {
	struct source *src;
	int course;
	int64_t person_id;
	char nid[24];
	int grade_x100;
	int64_t now;
	struct credential_rec c;
	int rc;
};

static void
die(const char *what, int rc)
{
	fprintf(stderr, "recognition_gen: %s: %s\n", what, tc_strerror(rc));
	exit(1);
}

static int
build(struct item *it)
{
	struct source *s = it->src;
	struct course *co = &s->courses[it->course];
	struct credential_rec *c = &it->c;
	struct credential_input in = { 0 };
	struct di_proof_options opt = { 0 };
	char uuid[37], when[32], ach[128], status[160], grade[16], *text = NULL;
	unsigned char hash[64];
	json_t *doc = NULL, *cfg = NULL, *shared = NULL;
	size_t siglen = 64;
	EVP_MD_CTX *md;
	struct tm tm;
	time_t t = (time_t)it->now;
	int rc;

	if ((rc = uuid_v4(uuid)) || (rc = identity_salt_new(c->salt)) ||
	    (rc = identity_hash_make(it->nid, c->salt, c->identity_hash)))
		return rc;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(c->uid, sizeof(c->uid), "urn:uuid:%s", uuid);
	snprintf(ach, sizeof(ach), "https://bench.tinchi.example/api/v1/courses/%s", co->uid);
	snprintf(status, sizeof(status), "https://bench.tinchi.example/api/v1/institutions/%s/status/"
		 "revocation", s->inst.code);
	snprintf(grade, sizeof(grade), "%d.%d", it->grade_x100 / 100, it->grade_x100 / 10 % 10);
	in.id = c->uid;
	in.issuer_id = s->key.did;
	in.issuer_name = s->inst.name;
	in.valid_from = when;
	in.name = co->title;
	in.identity_hash = c->identity_hash;
	in.salt = c->salt;
	in.credits_earned = co->credits_x10 / 10.0;
	in.term = "2025 HK1";
	in.grade = grade;
	in.achievement_id = ach;
	in.achievement_name = co->title;
	in.achievement_description = co->title;
	in.criteria_narrative = "Completed the course and met its completion rules.";
	in.course_code = co->code;
	in.credits_available = co->credits_x10 / 10.0;
	in.alignment = &framework;
	in.n_alignment = 1;
	in.status_list_credential = status;
	in.status_list_index = (uint64_t)c->status_index;
	opt.verification_method = s->vm;
	opt.created = when;
	opt.proof_array = 1;
	if ((rc = credential_build(&in, &doc)) || (rc = di_proof_config(doc, &opt, &cfg)) ||
	    (rc = di_hash_data(doc, cfg, hash)))
		goto out;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, s->pkey) != 1 ||
	    EVP_DigestSign(md, c->signature, &siglen, hash, sizeof(hash)) != 1)
		rc = TC_EIO;
	EVP_MD_CTX_free(md);
	if (rc || (rc = credential_shared_json(&in, &shared)))
		goto out;
	if (!(c->shared = json_dumps(shared, JSON_COMPACT | JSON_SORT_KEYS))) {
		rc = TC_ENOMEM;
		goto out;
	}
	c->key_id = s->key.id;
	snprintf(c->issuer_did, sizeof(c->issuer_did), "%s", s->key.did);
	c->issued_at = it->now;
	c->credits_earned = in.credits_earned;
	snprintf(c->term, sizeof(c->term), "%s", in.term);
	snprintf(c->grade, sizeof(c->grade), "%s", grade);
	c->institution_id = s->inst.id;
	c->course_id = co->id;
	c->person_id = it->person_id;
	if ((rc = store_credential_text(c, &text, NULL)) == 0)
		sha256_hex(text, strlen(text), c->hash);
	c->json = text;
out:
	json_decref(shared);
	json_decref(cfg);
	json_decref(doc);
	return rc;
}

struct half {
	struct item *items;
	size_t from, to;
};

static void *
build_half(void *arg)
{
	struct half *h = arg;

	for (size_t i = h->from; i < h->to; i++)
		h->items[i].rc = build(&h->items[i]);
	return NULL;
}

static int64_t
add_person(struct store *st, const unsigned char secret[32], const char *nid, const char *name,
	   int64_t now)
{
	struct person p;
	int rc;

	memset(&p, 0, sizeof(p));
	snprintf(p.national_id, sizeof(p.national_id), "%s", nid);
	snprintf(p.full_name, sizeof(p.full_name), "%s", name);
	if ((rc = uuid_v4(p.uid)) || (rc = people_nid_hmac(secret, nid, p.nid_hmac)) ||
	    (rc = store_person_upsert(st, &p, now, NULL)))
		die("person", rc);
	return p.id;
}

static void
add_rule(struct store *st, int64_t host, int64_t source_id, const char *json, int64_t now)
{
	struct recog_rule r;
	struct recog_rule_rec rec;
	char keys[RECOG_KEYS_MAX][RECOG_KEY_MAX], err[RECOG_ERR_MAX];
	int n, rc;

	if (recognition_rule_parse(json, strlen(json), &r, err, sizeof(err))) {
		fprintf(stderr, "recognition_gen: rule %s: %s\n", json, err);
		exit(1);
	}
	recognition_rule_keys(&r, keys, &n);
	memset(&rec, 0, sizeof(rec));
	rec.institution_id = host;
	rec.source_id = source_id;
	rec.status = r.status;
	rec.created_at = now;
	rec.body = (char *)json;
	if ((rc = store_recog_rule_add(st, &rec, keys, n)))
		die("rule", rc);
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct source *src;
	struct institution host;
	unsigned char secret[32];
	char keys_dir[4200], path[4400], nid[24], json[512];
	int64_t learners, per, nsrc, now = (int64_t)time(NULL), lecturer, *pid;
	struct item *items;
	int64_t total, done = 0;
	int rc, nrules = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: recognition_gen DATA LEARNERS PER SOURCES HOST\n");
		return 2;
	}
	learners = atoll(argv[2]);
	per = atoll(argv[3]);
	nsrc = atoll(argv[4]);
	total = learners * per;
	if (learners < 1 || per < 1 || nsrc < 1 || total > nsrc * CAP) {
		fprintf(stderr, "recognition_gen: %lld sources hold at most %lld credentials\n",
			(long long)nsrc, (long long)(nsrc * CAP));
		return 2;
	}
	snprintf(keys_dir, sizeof(keys_dir), "%s/keys", argv[1]);
	if ((rc = store_open(argv[1], &st)) || (rc = platform_secret_load(keys_dir, secret)))
		die("open", rc);
	if ((rc = store_institution_get(st, argv[5], &host)))
		die("host institution", rc);
	if (!(src = calloc((size_t)nsrc, sizeof(*src))) || !(pid = calloc((size_t)learners, 8)) ||
	    !(items = calloc(BATCH, sizeof(*items))))
		die("memory", TC_ENOMEM);

	/* people, courses, keys */
	if ((rc = store_begin(st)))
		die("begin", rc);
	lecturer = add_person(st, secret, "399999999999", "Giảng viên", now);
	for (int64_t i = 0; i < learners; i++) {
		snprintf(nid, sizeof(nid), "%012lld", 300000000000LL + (long long)i);
		pid[i] = add_person(st, secret, nid, "Học viên", now);
		if (i % 20000 == 19999 && ((rc = store_commit(st)) || (rc = store_begin(st))))
			die("commit", rc);
	}
	for (int64_t s = 0; s < nsrc; s++) {
		struct source *x = &src[s];
		FILE *f;

		snprintf(path, sizeof(path), "SRC%03lld", (long long)s + 1);
		if ((rc = store_institution_get(st, path, &x->inst)) ||
		    (rc = store_key_current(st, x->inst.id, &x->key)))
			die(path, rc);
		snprintf(path, sizeof(path), "%s/%s.pem", keys_dir, x->key.file);
		if (!(f = fopen(path, "r")) || !(x->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL)))
			die(path, TC_EIO);
		fclose(f);
		if ((rc = did_key_vm_from_ed25519(x->key.pub, x->vm, sizeof(x->vm))))
			die("vm", rc);
		for (int c = 0; c < COURSES; c++) {
			struct course *co = &x->courses[c];

			co->institution_id = x->inst.id;
			snprintf(co->code, sizeof(co->code), "C%03d", c);
			snprintf(co->title, sizeof(co->title), "Học phần %d", c);
			snprintf(co->language, sizeof(co->language), "vi");
			snprintf(co->level, sizeof(co->level), "undergraduate-1");
			co->credits_x10 = 30;
			co->status = COURSE_PUBLISHED;
			co->owner_id = lecturer;
			co->created_at = co->updated_at = now;
			if ((rc = uuid_v4(co->uid)) || (rc = store_course_add(st, co, co->title)) ||
			    (rc = store_course_field_set(st, co->id, fields[c % 6])))
				die("course", rc);
		}
		if ((rc = store_status_next_k(st, x->inst.id, "revocation", &x->k)))
			die("next_k", rc);
	}
	if ((rc = store_commit(st)))
		die("commit", rc);

	/* credentials: learner i's PER credentials, source by running count */
	while (done < total) {
		size_t n = total - done < BATCH ? (size_t)(total - done) : BATCH;
		struct half h[2] = { { items, 0, n / 2 }, { items, n / 2, n } };
		pthread_t th;

		memset(items, 0, n * sizeof(*items));
		for (size_t i = 0; i < n; i++) {
			int64_t g = done + (int64_t)i, l = g / per;
			struct item *it = &items[i];

			it->src = &src[g / CAP];
			it->course = (int)((l * 7 + (g % per) * 3) % COURSES);
			it->person_id = pid[l];
			snprintf(it->nid, sizeof(it->nid), "%012lld", 300000000000LL + (long long)l);
			it->grade_x100 = 400 + (int)((g * 37) % 600);
			it->now = now;
			it->c.status_index = it->src->k + (g % CAP);
		}
		if (pthread_create(&th, NULL, build_half, &h[0]) != 0)
			die("thread", TC_EIO);
		build_half(&h[1]);
		pthread_join(th, NULL);
		if ((rc = store_begin(st)))
			die("begin", rc);
		for (size_t i = 0; i < n; i++) {
			struct item *it = &items[i];
			char subject[80], why[160] = "";

			if ((rc = it->rc))
				die("build", rc);
			snprintf(subject, sizeof(subject), "sha256:%s", it->c.hash);
			if ((rc = store_credential_issue(st, &it->c, "revocation", it->c.status_index,
							 0)) ||
			    (rc = tlog_append(st, "issue", subject, it->c.issuer_did, now, NULL, why,
					      sizeof(why))))
				die(why[0] ? why : "credential", rc);
			free(it->c.shared);
			free(it->c.json);
		}
		if ((rc = store_commit(st)))
			die("commit", rc);
		done += (int64_t)n;
		if (done % (BATCH * 64) < BATCH)
			fprintf(stderr, "recognition_gen: %lld credentials\n", (long long)done);
	}

	/* consents and rules */
	if ((rc = store_begin(st)))
		die("begin", rc);
	for (int64_t i = 0; i < learners; i++) {
		struct consent_rec c;

		memset(&c, 0, sizeof(c));
		if ((rc = uuid_v4(c.uid)))
			die("uuid", rc);
		c.person_id = pid[i];
		c.institution_id = host.id;
		c.state = CONSENT_GRANTED;
		c.all = 1;
		snprintf(c.purpose, sizeof(c.purpose), "xét tuyển");
		c.valid_until = now + 365 * 86400;
		c.created_at = now;
		c.created_by = pid[i];
		if ((rc = store_consent_append(st, &c, NULL, 0)))
			die("consent", rc);
		if (i % 20000 == 19999 && ((rc = store_commit(st)) || (rc = store_begin(st))))
			die("commit", rc);
	}
	for (int64_t s = 0; s < nsrc; s++)
		for (int c = 0; c < COURSES; c++, nrules++) {
			snprintf(json, sizeof(json), "{\"source\":\"%s\",\"match\":{\"course\":\"C%03d\"},"
				 "\"target\":{\"course\":\"T%03d\",\"title\":\"Học phần %d\",\"credits\":3},"
				 "\"min_grade\":%d,\"status\":\"active\"}", src[s].inst.code, c, c, c,
				 5 + c % 3);
			add_rule(st, host.id, src[s].inst.id, json, now);
		}
	for (int c = 5; c < COURSES; c += 2, nrules++) {
		snprintf(json, sizeof(json), "{\"source\":\"*\",\"match\":{\"courses\":[\"C%03d\","
			 "\"C%03d\"]},\"target\":{\"course\":\"T%03d\",\"title\":\"Học phần %d\","
			 "\"credits\":3},\"min_grade\":6,\"status\":\"active\"}", c, c + 1, c, c);
		add_rule(st, host.id, 0, json, now);
	}
	for (int f = 0; f < 6; f++, nrules++) {
		snprintf(json, sizeof(json), "{\"source\":\"*\",\"match\":{\"field\":\"%s\"},"
			 "\"target\":{\"elective_credits\":2,\"field\":\"%.2s\"},\"status\":\"active\"}",
			 fields[f], fields[f]);
		add_rule(st, host.id, 0, json, now);
	}
	if ((rc = store_commit(st)))
		die("commit", rc);

	/* a signed checkpoint over the whole log */
	{
		struct tlog *t = NULL;

		if ((rc = tlog_open(st, argv[1], NULL, "bench.tinchi.example", &t)) ||
		    (rc = tlog_checkpoint_now(t, st, NULL)))
			die("checkpoint", rc);
		tlog_destroy(t);
	}
	fprintf(stderr, "recognition_gen: %lld learners, %lld credentials, %d rules\n",
		(long long)learners, (long long)total, nrules);
	for (int64_t s = 0; s < nsrc; s++)
		EVP_PKEY_free(src[s].pkey);
	free(src);
	free(pid);
	free(items);
	store_close(st);
	return 0;
}
