/*
 * media_jobs_test.c - tests for storage/media_jobs.h: the dispatch in
 * storage/media_jobs.c, the SQLite side in storage/media_jobs_sqlite.c,
 * the hooks in storage/courses_sqlite.c (a video or audio material is born
 * with its job in the same savepoint; deleting a material removes its job
 * and captions; captions count as references to a content hash) and schema
 * migration 6, on a store in a mkdtemp folder. The database file is also
 * opened directly with sqlite3 to look at rows and to make writes fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/media_jobs.h"
#include "storage/sqlite_migrate.h"
#include "storage/store.h"
#include "storage/store_backend.h"
#include "storage/store_sqlite.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"

#define NOW 1700000000
#define LEASE 60

static char tmp[512];		/* the mkdtemp folder */
static char dbpath[600];	/* tmp/data/tinchi.db */
static struct store *st;
static int64_t inst_id, person_id, course_id;
static long serial;		/* uids and hashes of new materials */

/* ---- helpers ------------------------------------------------------------ */

static long long
query_int(const char *sql)
{
	return raw_query_int(dbpath, sql);
}

static int
exec_raw(const char *sql)
{
	return raw_exec(dbpath, sql);
}

/* Rows of TABLE whose material_id (or id, for materials) is ID. */
static long long
rows_of(const char *table, int64_t id)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s = %lld", table,
		 strcmp(table, "materials") == 0 ? "id" : "material_id", (long long)id);
	return query_int(sql);
}

static void
make_uid(char out[37], const char *prefix8, long n)
{
	char d[32];

	snprintf(d, sizeof(d), "%012lu", (unsigned long)n % 1000000000000UL);
	snprintf(out, 37, "%.8s-0000-4000-8000-%.12s", prefix8, d);
}

/* A fake SHA-256 hex from N. */
static void
make_sha(char out[65], long n)
{
	snprintf(out, 65, "%064lx", (unsigned long)n);
}

static int
setup_people(void)
{
	struct institution inst;
	struct person p;
	struct course c;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "%s", "hcmus");
	snprintf(inst.name, sizeof(inst.name), "%s", "Institution hcmus");
	inst.kind = INST_UNIVERSITY;
	if (store_institution_add(st, &inst) != 0)
		return -1;
	inst_id = inst.id;

	memset(&p, 0, sizeof(p));
	make_uid(p.uid, "0000000a", 1);
	snprintf(p.national_id, sizeof(p.national_id), "%012d", 1);
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", 1);
	snprintf(p.full_name, sizeof(p.full_name), "%s", "Nguyễn Văn A");
	if (store_person_upsert(st, &p, NOW, NULL) != 0)
		return -1;
	person_id = p.id;

	memset(&c, 0, sizeof(c));
	make_uid(c.uid, "0000000c", 1);
	c.institution_id = inst_id;
	snprintf(c.code, sizeof(c.code), "%s", "MTH101");
	snprintf(c.title, sizeof(c.title), "%s", "Giải tích 1");
	snprintf(c.language, sizeof(c.language), "%s", "vi");
	c.credits_x10 = 30;
	c.status = COURSE_DRAFT;
	c.owner_id = person_id;
	c.created_at = c.updated_at = NOW;
	if (store_course_add(st, &c, "mth101 giai tich 1") != 0)
		return -1;
	course_id = c.id;
	return 0;
}

/* Fills M as a new material of KIND created at AT (not stored). */
static void
make_material(struct material *m, const char *kind, int64_t at)
{
	serial++;
	memset(m, 0, sizeof(*m));
	make_uid(m->uid, "0000000d", serial);
	m->institution_id = inst_id;
	m->course_id = course_id;
	make_sha(m->sha256, 0x5000 + serial);
	snprintf(m->type, sizeof(m->type), "%s",
		 strcmp(kind, "video") == 0 ? "video/mp4" :
		 strcmp(kind, "audio") == 0 ? "audio/mpeg" : "application/pdf");
	m->size = 1000 + serial;
	snprintf(m->kind, sizeof(m->kind), "%s", kind);
	snprintf(m->name, sizeof(m->name), "file-%ld", serial);
	m->created_by = person_id;
	m->created_at = at;
}

/* Adds a material of KIND created at AT; its id, or -1. */
static int64_t
add_material(const char *kind, int64_t at, struct material *out)
{
	struct material m;

	make_material(&m, kind, at);
	if (store_material_add(st, &m) != 0)
		return -1;
	if (out)
		*out = m;
	return m.id;
}

static struct media_job
job_of(int64_t material_id)
{
	struct media_job j;

	memset(&j, 0, sizeof(j));
	if (store_media_get(st, material_id, &j, NULL) != 0)
		snprintf(j.state, sizeof(j.state), "%s", "(none)");
	return j;
}

static void
make_caption(struct caption *c, int64_t material_id, const char *lang, const char *label,
	     long sha)
{
	memset(c, 0, sizeof(*c));
	c->material_id = material_id;
	snprintf(c->lang, sizeof(c->lang), "%s", lang);
	snprintf(c->label, sizeof(c->label), "%s", label);
	make_sha(c->sha256, sha);
	c->size = 100 + sha % 100;
	c->cues = (int)(sha % 7) + 1;
	c->created_by = person_id;
	c->created_at = NOW + 500;
}

/* What captions_each saw. */
struct caps_seen {
	int n, stop_after;
	struct caption c[8];
};

static int
on_caption(const struct caption *c, void *arg)
{
	struct caps_seen *cs = arg;

	if (cs->n < 8)
		cs->c[cs->n] = *c;
	cs->n++;
	return cs->stop_after && cs->n >= cs->stop_after ? 77 : 0;
}

static int64_t
refs(const char *sha)
{
	int64_t n = -1;

	if (store_material_refs(st, sha, &n) != 0)
		return -1;
	return n;
}

/* Every job ready or failed, so a test starts with an empty queue. */
static void
drain(int64_t now)
{
	struct media_job j;

	while (store_media_claim(st, "drain", now, LEASE, &j) == 0)
		store_media_finish(st, j.material_id, "drain", 1, NULL, "{}", now);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_dispatch(void)
{
	static const struct store_ops bare_ops = { .name = "bare" };
	struct store bare = { &bare_ops };
	struct media_job j;
	struct caption c;
	int64_t q;

	make_caption(&c, 1, "vi", "vi", 1);
	is_int(store_media_get(&bare, 1, &j, NULL), TC_EUNSUPPORTED,
	       "backend without media ops: get TC_EUNSUPPORTED");
	is_int(store_caption_put(&bare, &c, NULL), TC_EUNSUPPORTED,
	       "backend without media ops: caption_put TC_EUNSUPPORTED");
	is_int(store_media_get(NULL, 1, &j, NULL), TC_EINVALID, "NULL store: TC_EINVALID");
	is_int(store_media_get(st, 1, NULL, NULL), TC_EINVALID, "get into NULL: TC_EINVALID");
	is_int(store_media_claim(st, "", NOW, LEASE, &j), TC_EINVALID,
	       "claim with an empty node: TC_EINVALID");
	is_int(store_media_claim(st, NULL, NOW, LEASE, &j), TC_EINVALID,
	       "claim with a NULL node: TC_EINVALID");
	is_int(store_media_claim(st, "n", NOW, 0, &j), TC_EINVALID,
	       "claim with lease 0: TC_EINVALID");
	is_int(store_media_claim(st, "n", NOW, LEASE, NULL), TC_EINVALID,
	       "claim into NULL: TC_EINVALID");
	is_int(store_media_claim(st, "0123456789012345678901234567890123456789012345678901234"
				 "56789012345678901234567890123456789012345", NOW, LEASE, &j),
	       TC_EINVALID, "claim with a 96-byte owner: TC_EINVALID");
	is_int(store_media_progress(st, 1, "n", "probe", 101, NOW, LEASE), TC_EINVALID,
	       "progress 101%: TC_EINVALID");
	is_int(store_media_progress(st, 1, "n", "probe", -1, NOW, LEASE), TC_EINVALID,
	       "progress -1%: TC_EINVALID");
	is_int(store_media_progress(st, 1, "n", "a-stage-name-too-long", 5, NOW, LEASE),
	       TC_EINVALID, "progress with a 21-byte stage: TC_EINVALID");
	is_int(store_media_finish(st, 1, "n", 1, NULL, NULL, NOW), TC_EINVALID,
	       "finish ok without a result: TC_EINVALID");
	is_int(store_media_finish(st, 1, "n", 0, NULL, NULL, NOW), TC_EINVALID,
	       "finish failed without an error: TC_EINVALID");
	is_int(store_media_requeue_node(st, "n", NOW, NULL), TC_EINVALID,
	       "requeue_node without N: TC_EINVALID");
	is_int(store_media_counts(st, &q, NULL), TC_EINVALID, "counts into NULL: TC_EINVALID");
	c.sha256[63] = '\0';
	is_int(store_caption_put(st, &c, NULL), TC_EINVALID,
	       "caption with a 63-digit hash: TC_EINVALID");
	make_caption(&c, 1, "", "x", 1);
	is_int(store_caption_put(st, &c, NULL), TC_EINVALID,
	       "caption without a language: TC_EINVALID");
	is_int(store_captions_each(st, 1, NULL, NULL), TC_EINVALID,
	       "captions_each without a callback: TC_EINVALID");
}

static int64_t video1, audio1, doc1;

static void
test_born_with_material(void)
{
	struct material vm;
	struct media_job j;
	char *result = (char *)"unset";
	int64_t q = -1, r = -1;

	video1 = add_material("video", NOW, &vm);
	audio1 = add_material("audio", NOW + 1, NULL);
	doc1 = add_material("document", NOW + 2, NULL);
	ok(video1 > 0 && audio1 > 0 && doc1 > 0, "a video, an audio and a document added");

	is_int(store_media_get(st, video1, &j, &result), 0, "the video has a job");
	is_str(j.state, "queued", "it is queued");
	is_str(j.kind, "video", "job kind video");
	is_str(j.material_uid, vm.uid, "job carries the material uid");
	is_str(j.sha256, vm.sha256, "job carries the input hash");
	ok(j.institution_id == inst_id && j.course_id == course_id && j.created_by == person_id,
	   "job carries institution, course and uploader");
	ok(j.attempts == 0 && j.percent == 0 && j.stage[0] == '\0' && j.node[0] == '\0' &&
	   j.error[0] == '\0' && j.lease_until == 0, "a fresh job: no attempts, stage or node");
	ok(j.created_at == NOW && j.updated_at == NOW && j.started_at == 0 &&
	   j.finished_at == 0, "job times start at the material's created_at");
	ok(result != NULL && result[0] == '\0', "result is \"\" until ready");
	free(result);

	is_int(store_media_get(st, audio1, &j, NULL), 0, "the audio has a job");
	is_str(j.kind, "audio", "job kind audio");
	is_str(j.state, "queued", "it is queued too");
	is_int(store_media_get(st, doc1, &j, NULL), TC_ENOTFOUND,
	       "a document has no job: TC_ENOTFOUND");
	is_int(rows_of("media", doc1), 0, "no media row for the document");
	is_int(store_media_get(st, 999999, &j, NULL), TC_ENOTFOUND,
	       "no job for an unknown material");
	is_int(store_media_counts(st, &q, &r), 0, "counts");
	ok(q == 2 && r == 0, "two queued, none running");
}

static void
test_claim_progress(void)
{
	struct media_job j, k;
	int64_t q = -1, r = -1;

	is_int(store_media_claim(st, "node-a", NOW + 10, LEASE, &j), 0, "node-a claims");
	is_int(j.material_id, video1, "the oldest job first (the video)");
	is_str(j.state, "running", "claimed: running");
	is_str(j.node, "node-a", "claimed: by node-a");
	is_int(j.attempts, 1, "claimed: attempts 1");
	is_int(j.lease_until, NOW + 10 + LEASE, "claimed: lease until now + lease");
	is_int(j.started_at, NOW + 10, "claimed: started now");
	is_str(j.stage, "probe", "claimed: stage probe");
	is_str(j.kind, "video", "the claim returns the whole job");

	is_int(store_media_claim(st, "node-b", NOW + 10, LEASE, &k), 0, "node-b claims");
	is_int(k.material_id, audio1, "the second claim gets the next job (the audio)");
	is_str(k.node, "node-b", "held by node-b");
	is_int(store_media_claim(st, "node-a", NOW + 10, LEASE, &k), TC_ENOTFOUND,
	       "nothing left to claim: TC_ENOTFOUND");
	is_int(store_media_counts(st, &q, &r), 0, "counts");
	ok(q == 0 && r == 2, "none queued, two running");

	is_int(store_media_progress(st, video1, "node-a", "package", 40, NOW + 20, LEASE), 0,
	       "the holder records progress");
	j = job_of(video1);
	is_str(j.stage, "package", "stage recorded");
	is_int(j.percent, 40, "percent recorded");
	is_int(j.lease_until, NOW + 20 + LEASE, "progress extends the lease");
	is_int(j.updated_at, NOW + 20, "progress updates updated_at");
	is_int(store_media_progress(st, video1, "node-a", "poster", 30, NOW + 25, LEASE), 0,
	       "progress with a lower percent");
	j = job_of(video1);
	is_int(j.percent, 40, "percent never goes back");
	is_str(j.stage, "poster", "the stage still moves");
	is_int(j.lease_until, NOW + 25 + LEASE, "and the lease is extended");

	is_int(store_media_progress(st, video1, "node-b", "package", 90, NOW + 26, LEASE),
	       TC_ENOTFOUND, "progress by another node: TC_ENOTFOUND");
	is_int(store_media_finish(st, video1, "node-b", 1, NULL, "{}", NOW + 26), TC_ENOTFOUND,
	       "finish by another node: TC_ENOTFOUND");
	is_int(store_media_requeue(st, video1, "node-b", NOW + 26), TC_ENOTFOUND,
	       "requeue by another node: TC_ENOTFOUND");
	j = job_of(video1);
	ok(strcmp(j.state, "running") == 0 && strcmp(j.node, "node-a") == 0 && j.percent == 40,
	   "the job is untouched by the other node");
	is_int(store_media_progress(st, 999999, "node-a", "probe", 1, NOW + 26, LEASE),
	       TC_ENOTFOUND, "progress of an unknown job: TC_ENOTFOUND");

	/* node-b's lease on the audio ends at NOW + 70 */
	is_int(store_media_claim(st, "node-c", NOW + 10 + LEASE, LEASE, &k), TC_ENOTFOUND,
	       "a lease ending exactly now is still held");
	is_int(store_media_claim(st, "node-c", NOW + 11 + LEASE, LEASE, &k), 0,
	       "node-c claims after the lease ran out");
	is_int(k.material_id, audio1, "it gets the job whose lease ended");
	is_str(k.node, "node-c", "now held by node-c");
	is_int(k.attempts, 2, "attempts 2");
	is_int(k.percent, 0, "progress starts over");
	is_int(store_media_progress(st, audio1, "node-b", "package", 50, NOW + 72, LEASE),
	       TC_ENOTFOUND, "the old holder's progress: TC_ENOTFOUND");
	is_int(store_media_finish(st, audio1, "node-b", 1, NULL, "{}", NOW + 72), TC_ENOTFOUND,
	       "the old holder's finish: TC_ENOTFOUND");
	is_int(store_media_requeue(st, audio1, "node-b", NOW + 72), TC_ENOTFOUND,
	       "the old holder's requeue: TC_ENOTFOUND");
}

static void
test_finish_retry(void)
{
	struct media_job j;
	char *result = NULL;
	const char *res = "{\"renditions\":[\"360p\"],\"poster\":true}";

	is_int(store_media_finish(st, video1, "node-a", 1, NULL, res, NOW + 80), 0,
	       "the holder finishes ok");
	is_int(store_media_get(st, video1, &j, &result), 0, "get with the result");
	is_str(j.state, "ready", "ready");
	is_str(result, res, "the result JSON is stored");
	is_int(j.percent, 100, "percent 100");
	is_int(j.finished_at, NOW + 80, "finished_at");
	is_int(j.lease_until, 0, "no lease any more");
	is_str(j.error, "", "no error");
	free(result);
	is_int(store_media_finish(st, video1, "node-a", 1, NULL, res, NOW + 81), TC_ENOTFOUND,
	       "finishing twice: TC_ENOTFOUND");
	is_int(store_media_progress(st, video1, "node-a", "probe", 1, NOW + 81, LEASE),
	       TC_ENOTFOUND, "progress after the end: TC_ENOTFOUND");

	is_int(store_media_finish(st, audio1, "node-c", 0, "the file has no moov atom",
				  "ignored", NOW + 82), 0, "the holder finishes failed");
	is_int(store_media_get(st, audio1, &j, &result), 0, "get the failed job");
	is_str(j.state, "failed", "failed");
	is_str(j.error, "the file has no moov atom", "the error is stored");
	is_str(result, "", "a failed job has no result");
	is_int(j.finished_at, NOW + 82, "finished_at of the failure");
	free(result);

	is_int(store_media_retry(st, video1, NOW + 90), TC_ECONFLICT,
	       "retry of a ready job: TC_ECONFLICT");
	is_int(store_media_retry(st, doc1, NOW + 90), TC_ENOTFOUND,
	       "retry without a job: TC_ENOTFOUND");
	is_int(store_media_retry(st, audio1, NOW + 90), 0, "retry of the failed job");
	j = job_of(audio1);
	is_str(j.state, "queued", "queued again");
	is_int(j.attempts, 0, "attempts reset");
	ok(j.error[0] == '\0' && j.node[0] == '\0' && j.percent == 0 && j.finished_at == 0,
	   "error, node, percent and finished_at cleared");
	is_int(j.updated_at, NOW + 90, "updated_at of the retry");
	is_int(store_media_retry(st, audio1, NOW + 91), TC_ECONFLICT,
	       "retry of a queued job: TC_ECONFLICT");
	is_str(job_of(video1).state, "ready", "the ready job stays ready");
}

static void
test_requeue(void)
{
	struct media_job j, k, l;
	int64_t video2, video3, q = -1, r = -1;
	int n = -1;

	is_int(store_media_claim(st, "node-a", NOW + 100, LEASE, &j), 0, "claim the audio again");
	is_int(j.material_id, audio1, "it is the audio");
	is_int(j.attempts, 1, "attempts 1 after the retry");
	is_int(store_media_requeue(st, audio1, "node-a", NOW + 101), 0, "the holder requeues");
	j = job_of(audio1);
	is_str(j.state, "queued", "queued");
	is_int(j.attempts, 0, "the attempt is not counted");
	ok(j.node[0] == '\0' && j.stage[0] == '\0' && j.percent == 0 && j.lease_until == 0,
	   "node, stage, percent and lease cleared");
	is_int(store_media_requeue(st, audio1, "node-a", NOW + 102), TC_ENOTFOUND,
	       "requeue of a queued job: TC_ENOTFOUND");

	video2 = add_material("video", NOW + 3, NULL);
	video3 = add_material("video", NOW + 4, NULL);
	is_int(store_media_claim(st, "node-a", NOW + 110, LEASE, &j), 0, "node-a claims");
	is_int(store_media_claim(st, "node-b", NOW + 110, LEASE, &k), 0, "node-b claims");
	is_int(store_media_claim(st, "node-a", NOW + 110, LEASE, &l), 0, "node-a claims again");
	ok(j.material_id == audio1 && k.material_id == video2 && l.material_id == video3,
	   "claims in created_at order");
	is_int(store_media_counts(st, &q, &r), 0, "counts");
	ok(q == 0 && r == 3, "three running");
	is_int(store_media_requeue_node(st, "node-a", NOW + 111, &n), 0,
	       "node-a restarts: requeue_node");
	is_int(n, 2, "two jobs requeued");
	ok(strcmp(job_of(audio1).state, "queued") == 0 &&
	   strcmp(job_of(video3).state, "queued") == 0, "node-a's jobs are queued");
	j = job_of(video2);
	ok(strcmp(j.state, "running") == 0 && strcmp(j.node, "node-b") == 0,
	   "node-b's job is still running on node-b");
	is_str(job_of(video1).state, "ready", "the ready job is untouched");
	is_int(store_media_requeue_node(st, "node-z", NOW + 111, &n), 0,
	       "requeue_node of a node holding nothing");
	is_int(n, 0, "n = 0");
	is_int(store_media_counts(st, &q, &r), 0, "counts");
	ok(q == 2 && r == 1, "two queued, one running");
	drain(NOW + 200);
	is_int(store_media_requeue(st, video2, "node-b", NOW + 300), TC_ENOTFOUND,
	       "node-b's job after its lease was taken: TC_ENOTFOUND");
}

static void
test_attempts_max(void)
{
	struct media_job j;
	int64_t first, second, t = NOW + 1000;
	int i;

	drain(t);
	first = add_material("audio", t, NULL);
	second = add_material("video", t + 1, NULL);
	for (i = 1; i <= MEDIA_ATTEMPTS_MAX; i++) {
		char node[16], name[80];

		snprintf(node, sizeof(node), "dies-%d", i);
		snprintf(name, sizeof(name), "claim %d of a job whose node dies", i);
		memset(&j, 0, sizeof(j));
		is_int(store_media_claim(st, node, t + 10 + (i - 1) * (LEASE + 1), LEASE, &j), 0,
		       name);
		ok(j.material_id == first && j.attempts == i, "the same job, attempts counted");
	}
	is_int(store_media_claim(st, "next", t + 10 + MEDIA_ATTEMPTS_MAX * (LEASE + 1), LEASE,
				 &j), 0, "a claim after the last lease ran out");
	is_int(j.material_id, second, "the claim moves on to the next job");
	is_int(j.attempts, 1, "which is on its first attempt");
	j = job_of(first);
	is_str(j.state, "failed", "the job interrupted too often has failed");
	ok(strstr(j.error, "interrupted") != NULL, "its error says it was interrupted");
	printf("# error: %s\n", j.error);
	is_int(store_media_retry(st, first, t + 500), 0, "it can be retried");
	is_int(job_of(first).attempts, 0, "with attempts reset");

	/* the last job interrupted: failed, then nothing is left */
	is_int(store_media_finish(st, second, "next", 1, NULL, "{}", t + 501), 0,
	       "the next job finishes");
	for (i = 1; i <= MEDIA_ATTEMPTS_MAX; i++)
		store_media_claim(st, "dies", t + 600 + (i - 1) * (LEASE + 1), LEASE, &j);
	is_int(job_of(first).attempts, MEDIA_ATTEMPTS_MAX, "claimed the maximum again");
	is_int(store_media_claim(st, "next", t + 600 + MEDIA_ATTEMPTS_MAX * (LEASE + 1), LEASE,
				 &j), TC_ENOTFOUND, "the only job interrupted again: TC_ENOTFOUND");
	is_str(job_of(first).state, "failed", "and it has failed");
}

static void
test_captions(void)
{
	struct caption c;
	struct caps_seen cs;
	char old[65], sha_vi[65], sha_en[65], sha_vi2[65];
	struct material m;

	memset(old, 'x', sizeof(old));
	make_caption(&c, video1, "vi", "Tiếng Việt", 0x101);
	memcpy(sha_vi, c.sha256, sizeof(sha_vi));
	is_int(store_caption_put(st, &c, old), 0, "captions in vi added");
	is_str(old, "", "no file replaced");
	make_caption(&c, video1, "en", "English", 0x102);
	memcpy(sha_en, c.sha256, sizeof(sha_en));
	is_int(store_caption_put(st, &c, NULL), 0, "captions in en added (old_sha NULL)");
	make_caption(&c, video1, "vi", "Tiếng Việt (2)", 0x103);
	memcpy(sha_vi2, c.sha256, sizeof(sha_vi2));
	is_int(store_caption_put(st, &c, old), 0, "captions in vi replaced");
	is_str(old, sha_vi, "the replaced file's hash is returned");
	is_int(rows_of("captions", video1), 2, "two caption rows");

	memset(&cs, 0, sizeof(cs));
	is_int(store_captions_each(st, video1, on_caption, &cs), 0, "captions_each");
	is_int(cs.n, 2, "two captions");
	is_str(cs.c[0].lang, "en", "en first (by language tag)");
	is_str(cs.c[1].lang, "vi", "then vi");
	is_str(cs.c[1].label, "Tiếng Việt (2)", "the replaced label");
	is_str(cs.c[1].sha256, sha_vi2, "the replaced hash");
	ok(cs.c[1].size == c.size && cs.c[1].cues == c.cues && cs.c[1].created_by == person_id &&
	   cs.c[1].created_at == NOW + 500 && cs.c[1].material_id == video1,
	   "size, cues, created_by, created_at and material_id read back");
	memset(&cs, 0, sizeof(cs));
	cs.stop_after = 1;
	is_int(store_captions_each(st, video1, on_caption, &cs), 77,
	       "a callback's non-zero result stops the walk and is returned");
	is_int(cs.n, 1, "after one caption");
	memset(&cs, 0, sizeof(cs));
	is_int(store_captions_each(st, audio1, on_caption, &cs), 0,
	       "captions_each of a lecture without captions");
	is_int(cs.n, 0, "sees nothing");

	is_int(refs(sha_vi2), 1, "material_refs counts a caption's hash");
	is_int(refs(sha_vi), 0, "the replaced caption's hash is no longer referenced");
	store_material_get(st, "0000000d-0000-4000-8000-000000000001", &m);
	is_int(refs(m.sha256), 1, "material_refs still counts materials");
	/* the same file as captions of a second lecture and as a material */
	make_caption(&c, audio1, "en", "English", 0x102);
	is_int(store_caption_put(st, &c, NULL), 0, "the same file as captions of the audio");
	is_int(refs(sha_en), 2, "both caption rows count");

	make_caption(&c, 999999, "vi", "x", 0x104);
	is_int(store_caption_put(st, &c, NULL), TC_ENOTFOUND,
	       "captions of an unknown material: TC_ENOTFOUND");

	memset(old, 'x', sizeof(old));
	is_int(store_caption_delete(st, video1, "en", old), 0, "captions in en deleted");
	is_str(old, sha_en, "the deleted file's hash is returned");
	is_int(store_caption_delete(st, video1, "en", old), TC_ENOTFOUND,
	       "deleting them again: TC_ENOTFOUND");
	is_int(store_caption_delete(st, video1, "fr", NULL), TC_ENOTFOUND,
	       "deleting a language without captions: TC_ENOTFOUND");
	is_int(refs(sha_en), 1, "one reference left to the en file");
	is_int(rows_of("captions", video1), 1, "one caption row left on the video");
}

static void
test_material_delete(void)
{
	struct caption c;
	struct unit u;
	struct media_job j;
	int64_t busy, used, plain;
	char sha[65];

	/* a running lecture with captions goes */
	busy = add_material("video", NOW + 2000, NULL);
	drain(NOW + 2000);
	add_material("video", NOW + 2001, NULL);
	make_caption(&c, busy, "vi", "vi", 0x201);
	memcpy(sha, c.sha256, sizeof(sha));
	store_caption_put(st, &c, NULL);
	make_caption(&c, busy, "en", "en", 0x202);
	store_caption_put(st, &c, NULL);
	is_int(store_media_retry(st, busy, NOW + 2002), TC_ECONFLICT, "(the job is ready)");
	ok(rows_of("media", busy) == 1 && rows_of("captions", busy) == 2,
	   "a lecture with its job and two captions");
	is_int(store_material_delete(st, busy), 0, "the material is deleted");
	is_int(rows_of("materials", busy), 0, "its materials row is gone");
	is_int(rows_of("media", busy), 0, "its media row is gone");
	is_int(rows_of("captions", busy), 0, "its caption rows are gone");
	is_int(store_media_get(st, busy, &j, NULL), TC_ENOTFOUND, "no job any more");
	is_int(refs(sha), 0, "its captions' hash is no longer referenced");

	/* deleting a material while its job runs: the holder loses it */
	is_int(store_media_claim(st, "node-a", NOW + 2010, LEASE, &j), 0, "claim the last one");
	is_int(store_material_delete(st, j.material_id), 0, "its material is deleted");
	is_int(store_media_progress(st, j.material_id, "node-a", "package", 50, NOW + 2011,
				    LEASE), TC_ENOTFOUND, "the holder's progress: TC_ENOTFOUND");
	is_int(store_media_finish(st, j.material_id, "node-a", 1, NULL, "{}", NOW + 2011),
	       TC_ENOTFOUND, "the holder's finish: TC_ENOTFOUND");

	/* a unit uses it: nothing is removed */
	used = add_material("video", NOW + 2020, NULL);
	make_caption(&c, used, "vi", "vi", 0x203);
	store_caption_put(st, &c, NULL);
	memset(&u, 0, sizeof(u));
	make_uid(u.uid, "0000000e", 1);
	u.course_id = course_id;
	snprintf(u.kind, sizeof(u.kind), "%s", "video");
	snprintf(u.title, sizeof(u.title), "%s", "Bài 1");
	u.required = 1;
	u.material_id = used;
	u.created_at = NOW + 2021;
	is_int(store_unit_add(st, &u), 0, "a unit uses the lecture");
	is_int(store_material_delete(st, used), TC_ECONFLICT,
	       "deleting a material a unit uses: TC_ECONFLICT");
	ok(rows_of("materials", used) == 1 && rows_of("media", used) == 1 &&
	   rows_of("captions", used) == 1, "material, media and caption rows are left");
	is_str(job_of(used).state, "queued", "the job is intact");

	/* the last DELETE fails: the savepoint puts media and captions back */
	is_int(exec_raw("CREATE TRIGGER test_materials_no_delete BEFORE DELETE ON materials"
			" BEGIN SELECT RAISE(ABORT, 'test: no delete'); END;"), SQLITE_OK,
	       "(a trigger makes deleting materials fail)");
	plain = add_material("audio", NOW + 2030, NULL);
	make_caption(&c, plain, "vi", "vi", 0x204);
	store_caption_put(st, &c, NULL);
	ok(store_material_delete(st, plain) != 0, "a delete that fails at the materials row");
	ok(rows_of("materials", plain) == 1 && rows_of("media", plain) == 1 &&
	   rows_of("captions", plain) == 1, "media and captions rows are back (savepoint)");
	is_int(exec_raw("DROP TRIGGER test_materials_no_delete;"), SQLITE_OK, "(trigger dropped)");
	is_int(store_material_delete(st, plain), 0, "then it can be deleted");
	ok(rows_of("materials", plain) == 0 && rows_of("media", plain) == 0 &&
	   rows_of("captions", plain) == 0, "and every row is gone");

	is_int(store_material_delete(st, doc1), 0, "a document (no job) is deleted");
	is_int(rows_of("materials", doc1), 0, "its row is gone");
	is_int(store_material_delete(st, doc1), TC_ENOTFOUND, "deleting it again: TC_ENOTFOUND");
}

static void
test_add_savepoint(void)
{
	struct material m, got;
	struct media_job j;
	char sql[200];
	int64_t before, kept;

	is_int(exec_raw("CREATE TRIGGER test_media_no_insert BEFORE INSERT ON media"
			" BEGIN SELECT RAISE(ABORT, 'test: no media'); END;"), SQLITE_OK,
	       "(a trigger makes adding a job fail)");
	before = query_int("SELECT count(*) FROM materials");
	make_material(&m, "video", NOW + 3000);
	ok(store_material_add(st, &m) != 0, "adding a video whose job cannot be added fails");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM materials WHERE uid = '%s'", m.uid);
	is_int(query_int(sql), 0, "no materials row is left");
	is_int(query_int("SELECT count(*) FROM materials"), before, "materials unchanged");
	is_int(store_material_get(st, m.uid, &got), TC_ENOTFOUND, "material_get: TC_ENOTFOUND");
	make_material(&m, "audio", NOW + 3000);
	ok(store_material_add(st, &m) != 0, "the same for an audio");
	is_int(query_int("SELECT count(*) FROM materials"), before, "materials still unchanged");
	make_material(&m, "document", NOW + 3000);
	is_int(store_material_add(st, &m), 0, "a document needs no job: added");

	/* inside a caller's transaction the savepoint undoes only the failed add */
	is_int(store_begin(st), 0, "begin a transaction");
	kept = add_material("document", NOW + 3001, NULL);
	ok(kept > 0, "a document added in it");
	make_material(&m, "video", NOW + 3001);
	ok(store_material_add(st, &m) != 0, "a video fails in it");
	is_int(store_commit(st), 0, "the transaction commits");
	is_int(rows_of("materials", kept), 1, "the document is kept");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM materials WHERE uid = '%s'", m.uid);
	is_int(query_int(sql), 0, "the failed video left no row");

	is_int(exec_raw("DROP TRIGGER test_media_no_insert;"), SQLITE_OK, "(trigger dropped)");
	is_int(store_material_add(st, &m), 0, "without the trigger the video is added");
	is_int(store_media_get(st, m.id, &j, NULL), 0, "with its job");
	is_int(j.created_at, NOW + 3001, "job created_at is the material's");

	/* a materials insert that fails (uid taken) adds no job either */
	before = query_int("SELECT count(*) FROM media");
	got = m;
	make_sha(got.sha256, 0x999);
	is_int(store_material_add(st, &got), TC_ECONFLICT, "a taken uid: TC_ECONFLICT");
	is_int(query_int("SELECT count(*) FROM media"), before, "no media row added");
}

/* Migration 6 on a database at version 5: video and audio materials get a
 * queued job, others none. */
/* The commit hook of the test's connection: refuses FAIL_COMMITS commits
 * (each turned into a rollback, as a commit that fails on disk leaves
 * nothing), then lets them through. */
static int fail_commits;

static int
refuse_commit(void *arg)
{
	(void)arg;
	if (fail_commits > 0) {
		fail_commits--;
		return 1;
	}
	return 0;
}

/* When the savepoint's RELEASE is the commit and the commit fails, the
 * write is reported failed (never acknowledged and then lost), nothing of
 * it stays, and the connection is not left inside a transaction. */
static void
test_commit_fails(void)
{
	struct material m, got;
	char sql[200];
	int64_t id;

	sqlite3_commit_hook(store_sqlite_db(st), refuse_commit, NULL);
	make_material(&m, "video", NOW + 4000);
	fail_commits = 1;
	ok(store_material_add(st, &m) != 0, "material add whose commit fails: an error");
	is_int(fail_commits, 0, "(the commit was tried)");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM materials WHERE uid = '%s'", m.uid);
	is_int(query_int(sql), 0, "no materials row");
	is_int(store_material_get(st, m.uid, &got), TC_ENOTFOUND, "material_get: TC_ENOTFOUND");
	ok(sqlite3_get_autocommit(store_sqlite_db(st)), "no transaction left open");
	is_int(store_material_add(st, &m), 0, "the same add once commits succeed");
	id = m.id;
	fail_commits = 1;
	ok(store_material_delete(st, id) != 0, "material delete whose commit fails: an error");
	is_int(rows_of("materials", id), 1, "the material is still there");
	ok(sqlite3_get_autocommit(store_sqlite_db(st)), "no transaction left open");
	is_int(store_material_delete(st, id), 0, "the same delete once commits succeed");
	is_int(rows_of("materials", id), 0, "now it is gone");
	sqlite3_commit_hook(store_sqlite_db(st), NULL, NULL);
}

static void
test_migration(void)
{
	char path[600];
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t upto5 = 0;
	int rc, n = 0, bad = 0;

	while (upto5 < sqlite_migrations_count && sqlite_migrations[upto5].version <= 5)
		upto5++;
	snprintf(path, sizeof(path), "%s/v5.db", tmp);
	rc = sqlite3_open(path, &db);
	is_int(rc == SQLITE_OK ? sqlite_migrate(db, sqlite_migrations, upto5) : rc, 0,
	       "a database at version 5");
	is_int(sqlite3_exec(db, "INSERT INTO materials (id, uid, institution_id, course_id,"
			    " sha256, type, size, kind, name, created_by, created_at) VALUES"
			    " (1, 'u1', 1, 1, 'a', 'video/mp4', 1, 'video', '', 1, 111),"
			    " (2, 'u2', 1, 1, 'b', 'application/pdf', 1, 'document', '', 1, 222),"
			    " (3, 'u3', 1, 1, 'c', 'audio/mpeg', 1, 'audio', '', 1, 333),"
			    " (4, 'u4', 1, 1, 'd', 'application/zip', 1, 'package', '', 1, 444);",
			    NULL, NULL, NULL), SQLITE_OK, "with a video, a document, an audio and a"
	       " package");
	is_int(sqlite_migrate(db, sqlite_migrations, sqlite_migrations_count), 0,
	       "migrations 6 and later apply");
	if (sqlite3_prepare_v2(db, "SELECT material_id, state, created_at, updated_at, attempts"
			       " FROM media ORDER BY material_id", -1, &stmt, NULL) == SQLITE_OK) {
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(stmt, 0);
			const char *state = (const char *)sqlite3_column_text(stmt, 1);

			n++;
			if ((n == 1 && id != 1) || (n == 2 && id != 3) ||
			    strcmp(state ? state : "", "queued") != 0 ||
			    sqlite3_column_int64(stmt, 2) != id * 111 ||
			    sqlite3_column_int64(stmt, 3) != id * 111 ||
			    sqlite3_column_int64(stmt, 4) != 0)
				bad++;
		}
	}
	sqlite3_finalize(stmt);
	is_int(n, 2, "two jobs made by the migration");
	is_int(bad, 0, "for the video and the audio, queued, created at the material's time");
	stmt = NULL;
	ok(sqlite3_prepare_v2(db, "SELECT count(*) FROM captions", -1, &stmt, NULL) ==
	   SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 0,
	   "an empty captions table");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

int
main(void)
{
	char data[560];

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "media-jobs") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(dbpath, sizeof(dbpath), "%s/tinchi.db", data);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 || setup_people() != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}

	test_dispatch();
	test_born_with_material();
	test_claim_progress();
	test_finish_retry();
	test_requeue();
	test_attempts_max();
	test_captions();
	test_material_delete();
	test_add_savepoint();
	test_commit_fails();
	test_migration();

	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
