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
#include <sqlite3.h>

#include "courses/course.h"
#include "courses/credential.h"
#include "courses/credential_derive.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/errors.h"
#include "courses/identity_hash.h"
#include "courses/people.h"
#include "courses/recognition.h"
#include "courses/tlog_entry.h"
#include "server/tlog.h"
#include "storage/consent.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/recognition.h"
#include "storage/secret.h"
#include "storage/store.h"
#include "storage/store_sqlite.h"

#define COURSES 30
#define CAP 120000
#define BATCH 16384
#define BUILDERS 2

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
	char subject[80];
	char *entry;		/* the transparency log entry (owned) */
	int rc;
};

static void
die(const char *what, int rc)
{
	fprintf(stderr, "recognition_gen: %s: %s\n", what, tc_strerror(rc));
	exit(1);
}

/* store_credential_key: uid and salt derive from it as issuing.c does */
static unsigned char cred_key[32];

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

static int
build(struct item *it)
{
	struct source *s = it->src;
	struct course *co = &s->courses[it->course];
	struct credential_rec *c = &it->c;
	struct credential_input in = { 0 };
	struct di_proof_options opt = { 0 };
	char uuid[37], hex[33], when[32], ach[128], status[160], grade[16], *text = NULL;
	unsigned char hash[64], u[16], salt[16];
	json_t *doc = NULL, *cfg = NULL, *shared = NULL;
	size_t siglen = 64;
	EVP_MD_CTX *md;
	struct tm tm;
	time_t t = (time_t)it->now;
	int rc;

	/* as server/issuing.c: the store keeps neither uid nor salt */
	if ((rc = credential_uid_derive(cred_key, s->inst.id, c->status_index, u)) ||
	    (rc = credential_salt_derive(cred_key, u, salt)))
		return rc;
	hex_of(u, 16, hex);
	snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		 hex + 20);
	hex_of(salt, 16, c->salt);
	if ((rc = identity_hash_make(it->nid, c->salt, c->identity_hash)))
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
	if (rc == 0) {
		struct dynbuf e;

		snprintf(it->subject, sizeof(it->subject), "sha256:%s", c->hash);
		dynbuf_init(&e, TLOG_ENTRY_MAX);
		if ((rc = tlog_entry_make("issue", it->subject, c->issuer_did, when, &e, NULL, 0)) ==
		    0 && !(it->entry = strdup(dynbuf_str(&e))))
			rc = TC_ENOMEM;
		dynbuf_cleanup(&e);
	}
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

static struct half halves[2][BUILDERS];
static int half_set;

/* Starts BUILDERS threads on ITEMS[0..N) (TH NULL: builds here and waits).
 * Returns the number of threads started. */
static int
build_all(struct item *items, size_t n, pthread_t *th)
{
	struct half *h = halves[half_set ^= 1];

	for (int t = 0; t < BUILDERS; t++) {
		h[t].items = items;
		h[t].from = n * (size_t)t / BUILDERS;
		h[t].to = n * (size_t)(t + 1) / BUILDERS;
	}
	if (!th) {
		pthread_t x[BUILDERS];

		for (int t = 1; t < BUILDERS; t++)
			if (pthread_create(&x[t], NULL, build_half, &h[t]) != 0)
				die("thread", TC_EIO);
		build_half(&h[0]);
		for (int t = 1; t < BUILDERS; t++)
			pthread_join(x[t], NULL);
		return 0;
	}
	for (int t = 0; t < BUILDERS; t++)
		if (pthread_create(&th[t], NULL, build_half, &h[t]) != 0)
			die("thread", TC_EIO);
	return BUILDERS;
}

/* The next batch's items from credential *NEXT on; how many. */
static size_t
fill(struct item *items, int64_t *next, int64_t total, int64_t per, struct source *src,
     const int64_t *pid, int64_t now)
{
	size_t n = total - *next < BATCH ? (size_t)(total - *next) : BATCH;

	memset(items, 0, n * sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		int64_t g = *next + (int64_t)i, l = g / per;
		struct item *it = &items[i];

		it->src = &src[g / CAP];
		it->course = (int)((l * 7 + (g % per) * 3) % COURSES);
		it->person_id = pid[l];
		snprintf(it->nid, sizeof(it->nid), "%012lld", 300000000000LL + (long long)l);
		it->grade_x100 = 400 + (int)((g * 37) % 600);
		it->now = now;
		it->c.status_index = it->src->k + (g % CAP);
	}
	*next += (int64_t)n;
	return n;
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

/*
 * The bulk load's settings: ON: synchronous=OFF (a crash here only loses
 * a benchmark's data folder), a 512 MiB page cache, and the non-unique
 * indexes of the tables it fills dropped (kept in memory by name and SQL)
 * except those the log's append searches (credentials_by_hash: a leaf names
 * its credential by hash; without the index each append scanned the
 * credentials and the load slowed to a crawl);
 * OFF: the indexes made again from that SQL, synchronous=FULL.
 */
static void
bulk_load(struct store *st, int on)
{
	static char *sql[32];
	static int n;
	char *name[32];
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *q;
	char *err = NULL;

	if (on) {
		if (sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-524288;", NULL,
				 NULL, &err) != SQLITE_OK ||
		    sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
				       " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
				       " AND tbl_name IN ('credentials', 'consents', 'people')"
				       " AND name <> 'credentials_by_hash'", -1, &q, NULL) != SQLITE_OK)
			goto fail;
		while (sqlite3_step(q) == SQLITE_ROW && n < 32) {
			if (!(name[n] = strdup((const char *)sqlite3_column_text(q, 0))) ||
			    !(sql[n] = strdup((const char *)sqlite3_column_text(q, 1))))
				die("memory", TC_ENOMEM);
			n++;
		}
		sqlite3_finalize(q);
		for (int i = 0; i < n; i++) {
			char drop[300];

			snprintf(drop, sizeof(drop), "DROP INDEX \"%s\"", name[i]);
			free(name[i]);
			if (sqlite3_exec(db, drop, NULL, NULL, &err) != SQLITE_OK)
				goto fail;
		}
		return;
	}
	for (int i = 0; i < n; i++) {
		if (sqlite3_exec(db, sql[i], NULL, NULL, &err) != SQLITE_OK)
			goto fail;
		free(sql[i]);
	}
	n = 0;
	if (sqlite3_exec(db, "PRAGMA synchronous=FULL; PRAGMA wal_checkpoint(TRUNCATE);", NULL,
			 NULL, &err) == SQLITE_OK)
		return;
fail:
	fprintf(stderr, "recognition_gen: bulk load settings: %s\n", err ? err : sqlite3_errmsg(db));
	exit(1);
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
	struct item *items, *items2;
	int64_t total, done = 0;
	int rc, nrules = 0;
	struct timespec t0, t1;

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
	if ((rc = store_open(argv[1], &st)) || (rc = platform_secret_load(keys_dir, secret)) ||
	    (rc = store_credential_key(st, cred_key)))
		die("open", rc);
	if ((rc = store_institution_get(st, argv[5], &host)))
		die("host institution", rc);
	if (!(src = calloc((size_t)nsrc, sizeof(*src))) || !(pid = calloc((size_t)learners, 8)) ||
	    !(items = calloc(BATCH, sizeof(*items))) || !(items2 = calloc(BATCH, sizeof(*items))))
		die("memory", TC_ENOMEM);

	bulk_load(st, 1);

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

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* credentials: learner i's PER credentials, source by running count.
	 * BUILDERS threads sign batch k + 1 while this thread stores batch k
	 * (its credentials, then their log leaves in one append). */
	{
		struct item *buf[2] = { items, items2 };
		size_t nb[2] = { 0, 0 };
		int64_t next = 0;
		int cur = 0;
		const char **entries = calloc(BATCH, sizeof(*entries));
		const char **subjects = calloc(BATCH, sizeof(*subjects));

		if (!entries || !subjects)
			die("memory", TC_ENOMEM);
		nb[cur] = fill(buf[cur], &next, total, per, src, pid, now);
		build_all(buf[cur], nb[cur], NULL);
		while (nb[cur]) {
			struct item *its = buf[cur];
			size_t n = nb[cur];
			pthread_t th[BUILDERS];
			uint64_t first;
			int nt = 0;

			/* the next batch, signed meanwhile */
			nb[!cur] = fill(buf[!cur], &next, total, per, src, pid, now);
			if (nb[!cur])
				nt = build_all(buf[!cur], nb[!cur], th);
			if ((rc = store_begin(st)))
				die("begin", rc);
			for (size_t i = 0; i < n; i++) {
				struct item *it = &its[i];

				if ((rc = it->rc))
					die("build", rc);
				if ((rc = store_credential_issue(st, &it->c, "revocation",
								 it->c.status_index, 0)))
					die("credential", rc);
				entries[i] = it->entry;
				subjects[i] = it->subject;
			}
			if ((rc = store_tlog_append(st, entries, subjects, n, &first)))
				die("log append", rc);
			if ((rc = store_commit(st)))
				die("commit", rc);
			for (size_t i = 0; i < n; i++) {
				free(its[i].c.shared);
				free(its[i].c.json);
				free(its[i].entry);
			}
			for (int t = 0; t < nt; t++)
				pthread_join(th[t], NULL);
			done += (int64_t)n;
			if (done % (BATCH * 16) < BATCH)
				fprintf(stderr, "recognition_gen: %lld credentials\n", (long long)done);
			cur = !cur;
		}
		free(entries);
		free(subjects);
	}

	clock_gettime(CLOCK_MONOTONIC, &t1);

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

	bulk_load(st, 0);

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
	/* the rate of the credentials' phase (signed, stored, logged) */
	printf("credentials_per_s %.0f\n", (double)total / ((double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9));
	for (int64_t s = 0; s < nsrc; s++)
		EVP_PKEY_free(src[s].pkey);
	free(src);
	free(pid);
	free(items);
	free(items2);
	store_close(st);
	return 0;
}
