/*
 * issue_driver.c - the C half of scripts/bench/issue.sh, linked against
 * libtinchi.a (issue.sh compiles it with the -O2 build's flags).
 *
 *   issue_driver gen DATA INSTITUTION LECTURER_NID COURSES N
 *       COURSES published courses (owner the lecturer), then N completions
 *       of the institution's learners (enrolment + store_completion_record
 *       with its course.completed outbox event, as api_completion.c writes
 *       them), 5,000 per transaction. Every completion passes.
 *   issue_driver export DATA N OUT INSTITUTION
 *       up to N stored credentials (store_credentials_each per person), one
 *       JCS text a line, into OUT.
 *   issue_driver verify FILE SECONDS THREADS
 *       the domain verification of every credential of FILE in turn (parse,
 *       did:key of the issuer, di_verify of the eddsa-jcs-2022 proof, the
 *       JCS hash the log check looks up) by THREADS threads for SECONDS:
 *       prints "verify THREADS COUNT SECONDS FAILED".
 *   issue_driver logfill DATA N
 *       appends N "issue" entries (random credential hashes) to the
 *       transparency log through store_tlog_append, 100,000 per transaction;
 *       prints "logfill N SECONDS".
 *   issue_driver proof DATA COUNT
 *       COUNT inclusion proofs of random leaves at the log's current size
 *       (merkle_inclusion_proof over the stored subtrees, then checked
 *       against the root): "proof SIZE COUNT MEAN_US P99_US TX_MEAN_US TX_P99_US
 *       CACHE_MEAN_US CACHE_P99_US CPU_MEAN_US CPU_P99_US CACHE_CPU_MEAN_US
 *       CACHE_CPU_P99_US", TX_ with each proof inside one read
 *       transaction, CACHE_ also through a node cache of the upper subtrees
 *       (as the server's tlog_node_cache), empty at the start; CPU_ the
 *       thread's CPU time (CLOCK_THREAD_CPUTIME_ID) of the first and the
 *       CACHE_ proofs, which other processes on the cores do not inflate.
 *   issue_driver subject DATA INDEX...
 *       the subject (credential hash) of each leaf INDEX, a line each.
 *   issue_driver proofhttp PORT SUBJECTS
 *       GET /log/proof?hash=S for each line S of the file SUBJECTS, in turn
 *       over one keep-alive connection to 127.0.0.1:PORT, each answer read
 *       to its end (Content-Length) and checked (200, a "proof" array):
 *       "MEAN_MS P99_MS FAILED N", the client's time from the request's
 *       write to the answer's last byte; its slowest 1 % on stderr.
 *   issue_driver verifyhttp PORT CREDENTIALS CONNS
 *       POST /api/v1/credentials/verify of each line of CREDENTIALS (one
 *       credential a line, as export writes them) exactly once, over CONNS
 *       keep-alive connections to 127.0.0.1:PORT, each with one request in
 *       flight (closed loop, as wrk); every answer is read to its end and
 *       counts as verified only when it is 200 and its JSON begins
 *       {"verified":true, (the server's first member). Prints "verifyhttp N SECONDS FAILED MEAN_MS P99_MS
 *       CPU_S", SECONDS from the first request's write to the last answer,
 *       CPU_S this client's own CPU time (user + system) over that time.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strcasestr */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "courses/course.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/jcs.h"
#include "courses/merkle.h"
#include "courses/tlog_entry.h"
#include "storage/completion.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "storage/store_sqlite.h"
#include "storage/tlog.h"

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds of the calling thread: what a proof costs, whatever else runs */
static double
cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "issue_driver: %s: %s\n", what, tc_strerror(rc));
	exit(1);
}

static struct store *
open_store(const char *data)
{
	struct store *s = NULL;
	int rc = store_open(data, &s);

	if (rc)
		die("store_open", rc);
	store_set_busy_timeout(s, 60000);
	return s;
}

/* ---- gen ---- */

struct ids {
	int64_t *v;
	size_t n, cap;
};

static int
add_learner(const struct person *p, const struct membership *m, void *arg)
{
	struct ids *l = arg;

	(void)m;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		if (!(l->v = realloc(l->v, l->cap * sizeof(*l->v))))
			return TC_ENOMEM;
	}
	l->v[l->n++] = p->id;
	return 0;
}

static int
cmd_gen(int argc, char **argv)
{
	struct store *s;
	struct institution inst;
	struct person lect, learner;
	struct ids learners = { 0 };
	struct course *courses;
	long nc, n;
	int64_t after = 0, now = (int64_t)time(NULL);
	int rc;

	if (argc != 7)
		return 2;
	nc = atol(argv[5]);
	n = atol(argv[6]);
	s = open_store(argv[2]);
	store_set_bulk(s, 1);
	if ((rc = store_institution_get(s, argv[3], &inst)))
		die("institution", rc);
	if ((rc = store_person_get_by_nid(s, argv[4], &lect)))
		die("lecturer", rc);
	do {
		size_t before = learners.n;

		if ((rc = store_members_each(s, inst.id, ROLE_LEARNER, after, 10000, add_learner,
					     &learners)))
			die("learners", rc);
		if (learners.n == before)
			break;
		after = learners.v[learners.n - 1];
	} while (1);
	if (learners.n == 0 || (long)learners.n * nc < n) {
		fprintf(stderr, "issue_driver: %zu learners x %ld courses < %ld completions\n",
			learners.n, nc, n);
		return 1;
	}
	if (!(courses = calloc((size_t)nc, sizeof(*courses))))
		die("courses", TC_ENOMEM);
	if ((rc = store_begin(s)))
		die("begin", rc);
	for (long i = 0; i < nc; i++) {
		struct course *c = &courses[i];

		if ((rc = uuid_v4(c->uid)))
			die("uuid", rc);
		c->institution_id = inst.id;
		snprintf(c->code, sizeof(c->code), "BENCH%03ld", i + 1);
		snprintf(c->title, sizeof(c->title), "Giải tích %ld (học phần thử nghiệm)", i + 1);
		snprintf(c->description, sizeof(c->description), "Học phần số %ld của đợt thử"
			 " nghiệm cấp chứng chỉ.", i + 1);
		snprintf(c->language, sizeof(c->language), "vi");
		c->credits_x10 = 30;
		snprintf(c->level, sizeof(c->level), "undergraduate-1");
		c->status = COURSE_PUBLISHED;
		snprintf(c->starts_on, sizeof(c->starts_on), "2026-09-01");
		snprintf(c->ends_on, sizeof(c->ends_on), "2026-12-31");
		c->owner_id = lect.id;
		c->created_at = c->updated_at = now;
		if ((rc = store_course_add(s, c, c->code)))
			die("course add", rc);
	}
	if ((rc = store_commit(s)))
		die("commit", rc);
	for (long k = 0; k < n; k++) {
		struct course *c = &courses[(k / (long)learners.n) % nc];
		struct completion_rec cr = { 0 };
		char at[32], *payload;
		int grade = 500 + (int)(k * 37 % 501), made = 0, added = 0;
		time_t tt = (time_t)now;
		struct tm tm;
		json_t *o;

		if (k % 5000 == 0 && (rc = store_begin(s)))
			die("begin", rc);
		if ((rc = store_person_get(s, learners.v[k % (long)learners.n], &learner)))
			die("learner", rc);
		if ((rc = store_enrol(s, c->id, learner.id, now, &added)))
			die("enrol", rc);
		gmtime_r(&tt, &tm);
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
		/* the event as api_completion.c's event_text writes it */
		o = json_pack("{s:s, s:s, s:f, s:b, s:s, s:s, s:f, s:I, s:s}",
			      "type", "course.completed", "course", c->uid,
			      "grade", grade / 100.0, "passed", 1, "learner", learner.uid,
			      "full_name", learner.full_name, "percent", grade / 10.0,
			      "rules_version", (json_int_t)0, "completed_at", at);
		payload = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
		json_decref(o);
		if (!payload)
			die("payload", TC_ENOMEM);
		cr.course_id = c->id;
		cr.person_id = learner.id;
		cr.grade_x100 = grade;
		cr.percent_x10 = grade;
		cr.passed = 1;
		cr.completed_at = now;
		cr.evidence = "{\"units\":[]}";
		rc = store_completion_record(s, &cr, "course.completed", payload, &made);
		free(payload);
		if (rc)
			die("completion", rc);
		if ((k % 5000 == 4999 || k == n - 1) && (rc = store_commit(s)))
			die("commit", rc);
	}
	store_set_bulk(s, 0);
	printf("gen %ld courses %ld completions %zu learners\n", nc, n, learners.n);
	free(courses);
	free(learners.v);
	store_close(s);
	return 0;
}

/* ---- export ---- */

struct exp {
	FILE *f;
	long left;
};

static int
put_cred(const struct credential_rec *c, void *arg)
{
	struct exp *e = arg;

	if (e->left <= 0 || !c->json)
		return 0;
	fprintf(e->f, "%s\n", c->json);
	e->left--;
	return 0;
}

static int
collect_people(const struct person *p, const struct membership *m, void *arg)
{
	return add_learner(p, m, arg);
}

static int
cmd_export(int argc, char **argv)
{
	struct store *s;
	struct institution inst;
	struct ids people = { 0 };
	struct exp e;
	int64_t after = 0;
	int rc;

	if (argc != 6)
		return 2;
	s = open_store(argv[2]);
	e.left = atol(argv[3]);
	if (!(e.f = fopen(argv[4], "w")))
		die(argv[4], TC_EIO);
	if ((rc = store_institution_get(s, argv[5], &inst)))
		die("institution", rc);
	do {
		size_t before = people.n;

		if ((rc = store_members_each(s, inst.id, ROLE_LEARNER, after, 10000, collect_people,
					     &people)))
			die("learners", rc);
		if (people.n == before)
			break;
		after = people.v[people.n - 1];
	} while (1);
	for (size_t i = 0; i < people.n && e.left > 0; i++)
		if ((rc = store_credentials_each(s, people.v[i], put_cred, &e)))
			die("credentials", rc);
	fclose(e.f);
	free(people.v);
	store_close(s);
	return 0;
}

/* ---- verify ---- */

struct vjob {
	char **lines;
	size_t n;
	double seconds;
	long count, failed;
	unsigned start;
};

static int
verify_one(const char *text)
{
	json_t *doc = json_loads(text, 0, NULL), *iss;
	struct di_verify_options opt = { 0 };
	struct di_result res = { 0 };
	unsigned char pub[32], h[32];
	const char *issuer;
	struct dynbuf b;
	int rc = TC_EINVALID, have = 0;

	if (!doc)
		return rc;
	iss = json_object_get(doc, "issuer");
	issuer = json_string_value(json_object_get(iss, "id"));
	if (!issuer)
		issuer = json_string_value(iss);
	dynbuf_init(&b, 1 << 24);
	if (issuer && did_key_to_ed25519(issuer, pub) == 0) {
		opt.public_key = pub;
		opt.proof_purpose = "assertionMethod";
		/* the proof, and the canonical text the log check hashes, from one
		 * JCS pass (as verify_credential does) */
		rc = di_verify_canonical(doc, &opt, &res, &b, &have);
	}
	if (rc == 0) {	/* the hash the log check looks up */
		if (!have)
			rc = jcs_canonicalize(doc, &b);
		if (rc == 0)
			sha256_raw(b.data, b.len, h);
	}
	dynbuf_cleanup(&b);
	json_decref(doc);
	return rc;
}

static void *
verify_thread(void *arg)
{
	struct vjob *j = arg;
	double end = now_s() + j->seconds;
	size_t i = j->start;

	while (now_s() < end) {
		for (int k = 0; k < 16; k++, i++) {
			if (verify_one(j->lines[i % j->n]))
				j->failed++;
			j->count++;
		}
	}
	return NULL;
}

static int
cmd_verify(int argc, char **argv)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, n = 0, room = 0;
	char **lines = NULL;
	ssize_t len;
	int threads;
	double secs, t0;
	long count = 0, failed = 0;

	if (argc != 5)
		return 2;
	if (!(f = fopen(argv[2], "r")))
		die(argv[2], TC_EIO);
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (n == room && !(lines = realloc(lines, (room = room ? room * 2 : 1024) *
						   sizeof(*lines))))
			die("lines", TC_ENOMEM);
		lines[n++] = strdup(line);
	}
	free(line);
	fclose(f);
	if (n == 0)
		die("no credentials", TC_EINVALID);
	secs = atof(argv[3]);
	threads = atoi(argv[4]);
	{
		pthread_t th[64];
		struct vjob j[64];

		if (threads < 1 || threads > 64)
			return 2;
		t0 = now_s();
		for (int i = 0; i < threads; i++) {
			j[i] = (struct vjob){ lines, n, secs, 0, 0, (unsigned)(i * n / threads) };
			pthread_create(&th[i], NULL, verify_thread, &j[i]);
		}
		for (int i = 0; i < threads; i++) {
			pthread_join(th[i], NULL);
			count += j[i].count;
			failed += j[i].failed;
		}
		printf("verify %d %ld %.3f %ld\n", threads, count, now_s() - t0, failed);
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return 0;
}

/* ---- logfill, proof ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define FILL_TX 100000

static int
cmd_logfill(int argc, char **argv)
{
	struct store *s;
	long n, done = 0;
	char **entries, **subjects;
	double t0;
	int rc;

	if (argc != 4)
		return 2;
	n = atol(argv[3]);
	/* not in bulk mode: with millions of rows the WAL would hold every
	 * rewritten index page; checkpoints as it goes keep it small */
	s = open_store(argv[2]);
	/* the subject index takes random keys: keep its pages in memory (1 GiB) */
	sqlite3_exec(store_sqlite_db(s), "PRAGMA cache_size = -1048576", NULL, NULL, NULL);
	entries = calloc(FILL_TX, sizeof(*entries));
	subjects = calloc(FILL_TX, sizeof(*subjects));
	if (!entries || !subjects)
		die("logfill", TC_ENOMEM);
	for (int i = 0; i < FILL_TX; i++) {
		entries[i] = malloc(TLOG_ENTRY_MAX + 1);
		subjects[i] = malloc(TLOG_SUBJECT_MAX + 1);
		if (!entries[i] || !subjects[i])
			die("logfill", TC_ENOMEM);
	}
	t0 = now_s();
	while (done < n) {
		long m = n - done < FILL_TX ? n - done : FILL_TX;
		uint64_t first = 0;

		for (long i = 0; i < m; i++) {
			unsigned char h[32];
			char hex[65], why[160];
			struct dynbuf b;

			for (int k = 0; k < 4; k++) {
				uint64_t r = next_rand();

				memcpy(h + 8 * k, &r, 8);
			}
			for (int k = 0; k < 32; k++)
				snprintf(hex + 2 * k, 3, "%02x", h[k]);
			snprintf(subjects[i], TLOG_SUBJECT_MAX + 1, "sha256:%s", hex);
			dynbuf_init(&b, TLOG_ENTRY_MAX);
			rc = tlog_entry_make("issue", subjects[i],
					     "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
					     "2026-11-30T12:00:00Z", &b, why, sizeof(why));
			if (rc || !dynbuf_str(&b)) {
				fprintf(stderr, "issue_driver: entry: %s\n", why);
				return 1;
			}
			snprintf(entries[i], TLOG_ENTRY_MAX + 1, "%s", dynbuf_str(&b));
			dynbuf_cleanup(&b);
		}
		if ((rc = store_begin(s)) ||
		    (rc = store_tlog_append(s, (const char *const *)entries,
					    (const char *const *)subjects, (size_t)m, &first)) ||
		    (rc = store_commit(s)))
			die("append", rc);
		done += m;
	}
	printf("logfill %ld %.3f\n", n, now_s() - t0);
	for (int i = 0; i < FILL_TX; i++) {
		free(entries[i]);
		free(subjects[i]);
	}
	free(entries);
	free(subjects);
	store_close(s);
	return 0;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmd_proof(int argc, char **argv)
{
	struct store *s;
	struct merkle_source src;
	unsigned char proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	uint64_t size = 0;
	long count;
	double *t, *c, sum = 0, csum = 0, cpu_mean[2], cpu_p99[2];
	int rc;

	if (argc != 4)
		return 2;
	count = atol(argv[3]);
	s = open_store(argv[2]);
	if ((rc = store_tlog_size(s, &size)) || size == 0)
		die("size", rc ? rc : TC_ENOTFOUND);
	store_tlog_source(s, &src);
	if ((rc = merkle_root(&src, size, root)))
		die("root", rc);
	if (!(t = calloc((size_t)count, sizeof(*t))) || !(c = calloc((size_t)count, sizeof(*c))))
		die("proof", TC_ENOMEM);
	for (long i = 0; i < count; i++) {
		uint64_t idx = next_rand() % size;
		unsigned char leaf[MERKLE_HASH_LEN];
		size_t n = 0;
		double t0 = now_s(), c0 = cpu_s();

		if ((rc = merkle_inclusion_proof(&src, idx, size, proof, &n)))
			die("inclusion proof", rc);
		c[i] = (cpu_s() - c0) * 1e6;
		t[i] = (now_s() - t0) * 1e6;
		sum += t[i];
		csum += c[i];
		if ((rc = store_tlog_leaf_hash(s, idx, leaf)) ||
		    merkle_check_inclusion(idx, size, leaf, proof, n, root) != 0)
			die("the proof does not verify", rc ? rc : TC_EINVALID);
	}
	qsort(t, (size_t)count, sizeof(*t), cmp_d);
	qsort(c, (size_t)count, sizeof(*c), cmp_d);
	cpu_mean[0] = csum / count;
	cpu_p99[0] = c[(size_t)(count * 0.99)];
	printf("proof %llu %ld %.1f %.1f", (unsigned long long)size, count, sum / count,
	       t[(size_t)(count * 0.99)]);
	/* the same inside one read transaction (one snapshot, no lock per read),
	 * as GET /log/proof and the verifier read it (store_tlog_read_begin) */
	sum = 0;
	for (long i = 0; i < count; i++) {
		uint64_t idx = next_rand() % size;
		size_t n = 0;
		double t0 = now_s();

		int began = 0;

		rc = store_tlog_read_begin(s, &began);
		if (rc == 0)
			rc = merkle_inclusion_proof(&src, idx, size, proof, &n);
		store_tlog_read_end(s, began);
		if (rc)
			die("inclusion proof", rc);
		t[i] = (now_s() - t0) * 1e6;
		sum += t[i];
	}
	qsort(t, (size_t)count, sizeof(*t), cmp_d);
	printf(" %.1f %.1f", sum / count, t[(size_t)(count * 0.99)]);
	/* and through the server's cache of upper subtrees (tlog_node_cache:
	 * level 6 and up, 2^18 slots), empty at the start */
	{
		struct merkle_node_cache *nc = NULL;
		struct merkle_cached_source cs;

		if ((rc = merkle_node_cache_new(6, (size_t)1 << 18, &nc)))
			die("node cache", rc);
		merkle_cached_source_init(&cs, nc, &src);
		sum = 0;
		csum = 0;
		for (long i = 0; i < count; i++) {
			uint64_t idx = next_rand() % size;
			size_t n = 0;
			double t0 = now_s(), c0 = cpu_s();
			int began = 0;

			rc = store_tlog_read_begin(s, &began);
			if (rc == 0)
				rc = merkle_inclusion_proof(&cs.src, idx, size, proof, &n);
			store_tlog_read_end(s, began);
			if (rc)
				die("inclusion proof", rc);
			c[i] = (cpu_s() - c0) * 1e6;
			t[i] = (now_s() - t0) * 1e6;
			sum += t[i];
			csum += c[i];
		}
		merkle_node_cache_free(nc);
	}
	qsort(t, (size_t)count, sizeof(*t), cmp_d);
	qsort(c, (size_t)count, sizeof(*c), cmp_d);
	cpu_mean[1] = csum / count;
	cpu_p99[1] = c[(size_t)(count * 0.99)];
	printf(" %.1f %.1f %.1f %.1f %.1f %.1f\n", sum / count, t[(size_t)(count * 0.99)],
	       cpu_mean[0], cpu_p99[0], cpu_mean[1], cpu_p99[1]);
	free(t);
	free(c);
	store_close(s);
	return 0;
}

struct subj {
	char *out;
};

static int
leaf_subject(uint64_t index, const char *entry, const unsigned char h[32], void *arg)
{
	json_t *o = json_loads(entry, 0, NULL);
	const char *v = json_string_value(json_object_get(o, "hash"));

	(void)index;
	(void)h;
	if (v)
		printf("%s\n", v);
	json_decref(o);
	(void)arg;
	return 0;
}

static int
cmd_subject(int argc, char **argv)
{
	struct store *s;
	uint64_t idx;
	int rc;

	if (argc < 4)
		return 2;
	s = open_store(argv[2]);
	for (int i = 3; i < argc; i++) {
		idx = strtoull(argv[i], NULL, 10);
		if ((rc = store_tlog_leaves_each(s, idx, idx + 1, leaf_subject, NULL)))
			die("leaf", rc);
	}
	store_close(s);
	return 0;
}

/* One answer on FD into BUF (BUFSIZE bytes): its status, or -1. *BODY
 * and *BLEN: the body within BUF. */
static int
read_answer(int fd, char *buf, size_t bufsize, char **body, size_t *blen)
{
	size_t have = 0, need = 0;
	char *end = NULL;

	for (;;) {
		ssize_t got = read(fd, buf + have, bufsize - 1 - have);

		if (got <= 0)
			return -1;
		have += (size_t)got;
		buf[have] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "\r\ncontent-length:");

			if (!cl || cl > end)
				return -1;
			need = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
			if (need >= bufsize)
				return -1;
		}
		if (end && have >= need)
			break;
		if (have >= bufsize - 1)
			return -1;
	}
	*body = end + 4;
	*blen = need - (size_t)(end + 4 - buf);
	return have == need && strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmd_proofhttp(int argc, char **argv)
{
	static char buf[1 << 16];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char line[256], req[512];
	double *ms = NULL, *sorted = NULL, sum = 0;
	size_t n = 0, cap = 0, bad = 0;
	FILE *f;
	int fd, one = 1;

	if (argc != 4 || !(f = fopen(argv[3], "r")))
		return 2;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("connect", TC_EIO);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (fgets(line, sizeof(line), f)) {
		struct timespec t0, t1;
		char *body = NULL;
		size_t blen = 0;
		json_t *o;
		int len, st;

		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		len = snprintf(req, sizeof(req), "GET /log/proof?hash=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
			       line);
		if (n == cap && !(ms = realloc(ms, (cap = cap ? 2 * cap : 1024) * sizeof(*ms))))
			die("memory", TC_ENOMEM);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (write(fd, req, (size_t)len) != len)
			die("write", TC_EIO);
		st = read_answer(fd, buf, sizeof(buf), &body, &blen);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (st < 0)
			die("read", TC_EIO);
		ms[n] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		sum += ms[n];
		o = json_loadb(body, blen, 0, NULL);
		bad += st != 200 || !json_is_array(json_object_get(o, "proof"));
		json_decref(o);
		n++;
	}
	fclose(f);
	close(fd);
	if (!n)
		return 2;
	if (!(sorted = malloc(n * sizeof(*sorted))))
		die("memory", TC_ENOMEM);
	memcpy(sorted, ms, n * sizeof(*ms));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	{
		double cut = sorted[n - (n / 100 ? n / 100 : 1)];
		int first = 1;

		fprintf(stderr, "slowest 1 %% of GET /log/proof (request number: ms):");
		for (size_t i = 0; i < n; i++)
			if (ms[i] >= cut) {
				fprintf(stderr, "%s %zu: %.2f", first ? "" : ",", i, ms[i]);
				first = 0;
			}
		fprintf(stderr, "\n");
	}
	printf("%.3f %.3f %zu %zu\n", sum / (double)n, sorted[(size_t)((double)n * 0.99)], bad, n);
	free(ms);
	free(sorted);
	return 0;
}

/* One connection of cmd_verifyhttp. */
struct vconn {
	int fd;
	size_t req;		/* the request in flight, or (size_t)-1 */
	size_t sent;		/* bytes of it written */
	size_t have, need;	/* answer bytes read; its length, 0 until the head is in */
	char *end;		/* end of the answer's head within buf, or NULL */
	struct timespec t0;
	char buf[1 << 15];
};

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Writes what is left of C's request (non-blocking): 0, or -1 on error. */
static int
vconn_send(struct vconn *c, char **reqs, const size_t *lens)
{
	while (c->sent < lens[c->req]) {
		ssize_t w = write(c->fd, reqs[c->req] + c->sent, lens[c->req] - c->sent);

		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		c->sent += (size_t)w;
	}
	return 0;
}

/* Reads into C's answer: 1 when it is whole, 0 for more, -1 on error. */
static int
vconn_read(struct vconn *c)
{
	for (;;) {
		ssize_t got = read(c->fd, c->buf + c->have, sizeof(c->buf) - 1 - c->have);

		if (got < 0)
			return errno == EAGAIN ? 0 : -1;
		if (got == 0) {
			errno = ECONNRESET;	/* the server closed the connection */
			return -1;
		}
		c->have += (size_t)got;
		c->buf[c->have] = '\0';
		if (!c->end && (c->end = strstr(c->buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(c->buf, "\r\ncontent-length:");

			if (!cl || cl > c->end)
				return -1;
			c->need = (size_t)(c->end + 4 - c->buf) + strtoul(cl + 17, NULL, 10);
			if (c->need >= sizeof(c->buf))
				return -1;
		}
		if (c->end && c->have >= c->need)
			return c->have == c->need ? 1 : -1;
		if (c->have >= sizeof(c->buf) - 1)
			return -1;
	}
}

static int
cmd_verifyhttp(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ev, evs[64];
	struct vconn *conns;
	struct timespec t0;
	struct rusage ru0, ru;
	char **reqs = NULL, *line = NULL;
	size_t *lens = NULL, n = 0, cap = 0, linecap = 0, next = 0, done = 0, bad = 0;
	double *ms, *sorted, sum = 0, secs;
	long nconn;
	ssize_t len;
	FILE *f;
	int ep;

	if (argc != 5 || (nconn = atol(argv[4])) < 1 || nconn > 1024 || !(f = fopen(argv[3], "r")))
		return 2;
	while ((len = getline(&line, &linecap, f)) > 0) {
		int hl;
		char head[256];

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len)
			continue;
		if (n == cap && (!(reqs = realloc(reqs, (cap = cap ? 2 * cap : 4096) * sizeof(*reqs))) ||
				 !(lens = realloc(lens, cap * sizeof(*lens)))))
			die("memory", TC_ENOMEM);
		hl = snprintf(head, sizeof(head),
			      "POST /api/v1/credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			      (size_t)len + 15);
		lens[n] = (size_t)hl + 15 + (size_t)len;
		if (!(reqs[n] = malloc(lens[n] + 1)))
			die("memory", TC_ENOMEM);
		snprintf(reqs[n], lens[n] + 1, "%s{\"credential\":%s}", head, line);
		n++;
	}
	free(line);
	fclose(f);
	if (!n)
		return 2;
	if (!(ms = calloc(n, sizeof(*ms))) || !(conns = calloc((size_t)nconn, sizeof(*conns))) ||
	    (ep = epoll_create1(0)) < 0)
		die("memory", TC_ENOMEM);
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < nconn; i++) {
		struct vconn *c = &conns[i];
		int one = 1;

		if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			die("connect", TC_EIO);
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		c->req = (size_t)-1;
		ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
			die("epoll", TC_EIO);
	}
	getrusage(RUSAGE_SELF, &ru0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < nconn && next < n; i++) {
		struct vconn *c = &conns[i];

		c->req = next++;
		clock_gettime(CLOCK_MONOTONIC, &c->t0);
		if (vconn_send(c, reqs, lens))
			die("write", TC_EIO);
	}
	while (done < n) {
		int k = epoll_wait(ep, evs, 64, 10000);

		if (k <= 0)
			die("no answer for 10 s", TC_EIO);
		for (int e = 0; e < k; e++) {
			struct vconn *c = evs[e].data.ptr;
			int r;

			if (c->req == (size_t)-1)
				continue;
			if ((evs[e].events & EPOLLOUT) && vconn_send(c, reqs, lens))
				die("write", TC_EIO);
			if (!(evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				continue;
			if ((r = vconn_read(c)) < 0) {
				fprintf(stderr, "credential %zu: %zu bytes of the answer read, %zu expected (%s): %.300s\n",
					c->req + 1, c->have, c->need, c->have ? "not a whole answer" : strerror(errno), c->buf);
				die("read", TC_EIO);
			}
			if (r == 0)
				continue;
			ms[c->req] = ms_since(&c->t0);
			sum += ms[c->req];
			/* the answer is the server's compact JSON, whose first member
			 * is the verdict: a prefix compare costs this client
			 * (sharing the cores with the server) nothing, and a
			 * change of that order shows as failures, never as
			 * passes */
			if (strncmp(c->buf, "HTTP/1.1 200 ", 13) != 0 ||
			    strncmp(c->end + 4, "{\"verified\":true,", 17) != 0) {
				if (bad++ < 3)
					fprintf(stderr, "not verified (credential %zu): %.300s\n", c->req + 1,
						c->end + 4);
			}
			done++;
			c->have = c->need = 0;
			c->end = NULL;
			c->sent = 0;
			c->req = (size_t)-1;
			if (next < n) {
				c->req = next++;
				clock_gettime(CLOCK_MONOTONIC, &c->t0);
				if (vconn_send(c, reqs, lens))
					die("write", TC_EIO);
			}
		}
	}
	secs = ms_since(&t0) / 1e3;
	getrusage(RUSAGE_SELF, &ru);
	if (!(sorted = malloc(n * sizeof(*sorted))))
		die("memory", TC_ENOMEM);
	memcpy(sorted, ms, n * sizeof(*ms));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	printf("verifyhttp %zu %.3f %zu %.3f %.3f %.3f\n", n, secs, bad, sum / (double)n,
	       sorted[(size_t)((double)n * 0.99)],
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec - ru0.ru_utime.tv_sec - ru0.ru_stime.tv_sec) +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec - ru0.ru_utime.tv_usec -
				ru0.ru_stime.tv_usec) / 1e6);
	for (long i = 0; i < nconn; i++)
		close(conns[i].fd);
	close(ep);
	for (size_t i = 0; i < n; i++)
		free(reqs[i]);
	free(reqs);
	free(lens);
	free(ms);
	free(sorted);
	free(conns);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = 2;

	if (argc >= 2 && strcmp(argv[1], "gen") == 0)
		rc = cmd_gen(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "export") == 0)
		rc = cmd_export(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		rc = cmd_verify(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "logfill") == 0)
		rc = cmd_logfill(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "proof") == 0)
		rc = cmd_proof(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "subject") == 0)
		rc = cmd_subject(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "proofhttp") == 0)
		rc = cmd_proofhttp(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "verifyhttp") == 0)
		rc = cmd_verifyhttp(argc, argv);
	if (rc == 2)
		fprintf(stderr, "usage: see the comment at the top of scripts/bench/issue_driver.c\n");
	return rc;
}
