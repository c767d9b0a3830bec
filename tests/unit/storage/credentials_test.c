/*
 * credentials_test.c - tests for the approval side of storage/credentials.h
 * (store_credential_waiting_each, store_credential_decline, and
 * store_credential_issue of a waiting or declined event) and of
 * store_status_list_rev, and store_credential_json against the text's
 * parse, on a store in a
 * mkdtemp folder; the database is also read directly with sqlite3.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "courses/did.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "courses/statuslist.h"
#include "storage/completion.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"

#define NOW 1700000000
#define PASSED "{\"grade\":8.5,\"passed\":true,\"completed_at\":\"2026-11-30T00:00:00Z\"}"
#define FAILED "{\"grade\":2.0,\"passed\":false,\"completed_at\":\"2026-11-30T00:00:00Z\"}"

static char tmp[512];
static char data[560];
static char dbpath[600];
static struct store *st;
static int64_t inst_id, lecturer_id, learner[3], course_id, event[3];

static long long
query_int(const char *sql)
{
	return raw_query_int(dbpath, sql);
}

static long long
unconsumed(void)
{
	return query_int("SELECT count(*) FROM outbox WHERE consumed_at IS NULL");
}

static int64_t
add_person(int n, const char *name)
{
	struct person p;

	memset(&p, 0, sizeof(p));
	snprintf(p.uid, sizeof(p.uid), "0000000a-0000-4000-8000-%012d", n);
	snprintf(p.national_id, sizeof(p.national_id), "%012d", n);
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", n);
	snprintf(p.full_name, sizeof(p.full_name), "%s", name);
	return store_person_upsert(st, &p, NOW, NULL) == 0 ? p.id : -1;
}

/* A completion of LEARNER[I] with its course.completed event PAYLOAD. */
static int64_t
complete(int i, int grade, const char *payload)
{
	struct completion_rec c;
	int created = 0;
	int64_t id = -1;

	memset(&c, 0, sizeof(c));
	c.course_id = course_id;
	c.person_id = learner[i];
	c.grade_x100 = grade;
	c.percent_x10 = grade;
	snprintf(c.letter, sizeof(c.letter), "%s", grade >= 500 ? "B+" : "F");
	c.passed = grade >= 500;
	c.completed_at = NOW + i;
	c.evidence = "{}";
	if (store_completion_record(st, &c, "course.completed", payload, &created) == 0 && created)
		id = query_int("SELECT max(id) FROM outbox");
	return id;
}

static int
setup(void)
{
	struct institution inst;
	struct course c;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "%s", "vnu");
	snprintf(inst.name, sizeof(inst.name), "%s", "Institution vnu");
	inst.kind = INST_UNIVERSITY;
	if (store_institution_add(st, &inst) != 0)
		return -1;
	inst_id = inst.id;
	lecturer_id = add_person(1, "Giảng Viên Một");
	for (int i = 0; i < 3; i++)
		learner[i] = add_person(10 + i, i == 0 ? "Học Viên Một" : "Học Viên Khác");
	memset(&c, 0, sizeof(c));
	snprintf(c.uid, sizeof(c.uid), "%s", "0000000c-0000-4000-8000-000000000001");
	c.institution_id = inst_id;
	snprintf(c.code, sizeof(c.code), "%s", "AP101");
	snprintf(c.title, sizeof(c.title), "%s", "Tín chỉ");
	snprintf(c.language, sizeof(c.language), "%s", "vi");
	c.credits_x10 = 30;
	c.status = COURSE_PUBLISHED;
	c.owner_id = lecturer_id;
	c.created_at = c.updated_at = NOW;
	if (lecturer_id < 0 || learner[2] < 0 || store_course_add(st, &c, "x") != 0)
		return -1;
	course_id = c.id;
	event[0] = complete(0, 850, PASSED);
	event[1] = complete(1, 850, PASSED);
	event[2] = complete(2, 200, FAILED);
	return event[0] > 0 && event[1] > 0 && event[2] > 0 ? 0 : -1;
}

struct seen {
	int n;
	struct credential_waiting w[4];
};

static int
collect(const struct credential_waiting *w, void *arg)
{
	struct seen *s = arg;

	if (s->n < 4) {
		s->w[s->n] = *w;
		s->w[s->n].payload = NULL;	/* borrowed: not kept */
	}
	s->n++;
	return 0;
}

static int
stop_at_first(const struct credential_waiting *w, void *arg)
{
	(void)w;
	(void)arg;
	return TC_EIO;
}

static struct seen
waiting(void)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	if (store_credential_waiting_each(st, course_id, collect, &s) != 0)
		s.n = -1;
	return s;
}

/* Issues a credential row for LEARNER[I] consuming EVENT_ID (0: none) at
 * status list INDEX (k is the status list's next_k, N the uid's number). */
static int
issue_at(int i, int64_t event_id, int64_t k, int n, int64_t index)
{
	static struct inst_key key;
	struct credential_rec c;

	if (!key.id) {	/* the signing key the row names (compact rows, migration 14) */
		key.institution_id = inst_id;
		snprintf(key.file, sizeof(key.file), "k1");
		memset(key.pub, 7, sizeof(key.pub));
		snprintf(key.did, sizeof(key.did), "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pv");
		key.valid_from = NOW;
		if (store_key_add(st, &key) != 0)
			return TC_EDB;
	}
	memset(&c, 0, sizeof(c));
	c.shared = "{\"alignment\":[],\"code\":\"C1\",\"credits\":3}";
	c.key_id = key.id;
	snprintf(c.identity_hash, sizeof(c.identity_hash), "sha256$%064d", n);
	snprintf(c.salt, sizeof(c.salt), "%032d", n);
	snprintf(c.term, sizeof(c.term), "2026");
	snprintf(c.uid, sizeof(c.uid), "urn:uuid:00000000-0000-4000-8000-%012d", n);
	c.institution_id = inst_id;
	c.course_id = course_id;
	c.person_id = learner[i];
	c.status_index = index;
	snprintf(c.hash, sizeof(c.hash), "%064d", n);
	c.issued_at = NOW + 100 + n;
	c.json = "{}";
	return store_credential_issue(st, &c, "revocation", k, event_id);
}

/* The same at index 100 + N (segment 0). */
static int
issue(int i, int64_t event_id, int64_t k, int n)
{
	return issue_at(i, event_id, k, n, 100 + n);
}

static void
test_waiting(void)
{
	struct seen s = waiting();

	is_int(s.n, 2, "two passed completions wait (the failed one is not listed)");
	ok(s.w[0].event_id == event[0] && s.w[1].event_id == event[1], "oldest event first");
	is_str(s.w[0].person_uid, "0000000a-0000-4000-8000-000000000010", "the learner's uid");
	is_str(s.w[0].full_name, "Học Viên Một", "the learner's name");
	is_int(s.w[0].grade_x100, 850, "the grade from the completion");
	is_str(s.w[0].letter, "B+", "its letter");
	ok(s.w[0].completed_at == NOW && s.w[0].declined_at == 0, "completed_at; not declined");
	is_int(store_credential_waiting_each(st, course_id, stop_at_first, NULL), TC_EIO,
	       "the callback's error stops the walk and is returned");
	is_int(store_credential_waiting_each(st, course_id, NULL, NULL), TC_EINVALID,
	       "no callback: TC_EINVALID");
	s.n = 0;
	is_int(store_credential_waiting_each(st, course_id + 99, collect, &s), 0,
	       "another course: 0");
	is_int(s.n, 0, "... and nothing listed");
}

static void
test_decline(void)
{
	char big[CRED_REASON_MAX + 2];
	struct seen s;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(store_credential_decline(st, event[0], lecturer_id, "", NOW), TC_EINVALID,
	       "an empty reason: TC_EINVALID");
	is_int(store_credential_decline(st, event[0], lecturer_id, NULL, NOW), TC_EINVALID,
	       "no reason: TC_EINVALID");
	is_int(store_credential_decline(st, event[0], lecturer_id, big, NOW), TC_EINVALID,
	       "a reason past CRED_REASON_MAX bytes: TC_EINVALID");
	is_int(store_credential_decline(st, event[2], lecturer_id, "Không đạt", NOW),
	       TC_ENOTFOUND, "the failed completion's event cannot be declined");
	is_int(store_credential_decline(st, event[2] + 50, lecturer_id, "Không", NOW),
	       TC_ENOTFOUND, "no such event: TC_ENOTFOUND");
	is_int(unconsumed(), 3, "the refused declines consumed nothing");

	is_int(store_credential_decline(st, event[0], lecturer_id, "Gian lận", NOW + 50), 0,
	       "declines learner 1's event");
	is_int(unconsumed(), 2, "it is consumed");
	is_int(store_credential_decline(st, event[0], lecturer_id, "Lại", NOW + 60), TC_ENOTFOUND,
	       "declining it again: TC_ENOTFOUND");
	s = waiting();
	is_int(s.n, 2, "still two listed");
	ok(s.w[0].event_id == event[0] && s.w[0].declined_at == NOW + 50,
	   "the declined one, with when");
	is_str(s.w[0].declined_by, "0000000a-0000-4000-8000-000000000001", "by whom (uid)");
	is_str(s.w[0].decline_reason, "Gian lận", "and why");
	ok(s.w[1].declined_at == 0, "the other one still waits");
	is_int(query_int("SELECT count(*) FROM credentials"), 0, "no credential");
}

static void
test_issue(void)
{
	struct seen s;

	is_int(issue(1, event[1], 0, 1), 0, "a waiting event is issued");
	is_int(unconsumed(), 1, "and consumed (only the failed one is left)");
	is_int(issue(1, event[1], 1, 2), TC_ENOTFOUND, "issuing that event again: TC_ENOTFOUND");
	is_int(query_int("SELECT count(*) FROM credentials"), 1, "... which wrote nothing");
	is_int(query_int("SELECT next_k FROM status_lists"), 1, "... not even the next index");
	is_int(store_credential_decline(st, event[1], lecturer_id, "Muộn", NOW), TC_ENOTFOUND,
	       "an issued event cannot be declined");

	is_int(issue(0, event[0], 1, 3), 0, "the declined event is approved after all");
	is_int(query_int("SELECT count(*) FROM outbox WHERE json_extract(payload,"
			 " '$.declined') IS NOT NULL"), 0, "its decline is removed");
	is_int(issue(0, event[0], 2, 4), TC_ENOTFOUND, "and it cannot be issued twice");
	is_int(query_int("SELECT count(*) FROM credentials"), 2, "two credentials in all");
	s = waiting();
	is_int(s.n, 0, "nothing waits any more");
}

/* store_status_list_rev (migration 22): what a verifier compares instead
 * of the bits; every revocation must change it, in its own transaction. */
static void
test_revision(void)
{
	int64_t rev = -1, first = query_int("SELECT min(id) FROM credentials");
	int64_t second = query_int("SELECT max(id) FROM credentials");
	unsigned char *b0 = NULL, *b1 = NULL;
	size_t n0 = 0, n1 = 0;

	is_int(store_status_list_rev(st, inst_id, "revocation", &rev), 0, "a list's revision");
	is_int(rev, 0, "... 0 before any revocation");
	rev = -1;
	is_int(store_status_list_rev(st, inst_id + 99, "revocation", &rev), 0,
	       "an institution without a list: 0");
	is_int(rev, 0, "... revision 0 (all-zero bits, as a new list's)");
	is_int(store_status_list_rev(st, inst_id, NULL, &rev), TC_EINVALID,
	       "no purpose: TC_EINVALID");
	is_int(store_status_list_get(st, inst_id, "revocation", &b0, &n0), 0, "the bits before");
	is_int(store_credential_revoke(st, first, "revocation", NOW + 100, "Gian lận"), 0,
	       "revokes the first credential");
	store_status_list_rev(st, inst_id, "revocation", &rev);
	is_int(rev, 1, "the revision is 1");
	is_int(store_status_list_get(st, inst_id, "revocation", &b1, &n1), 0, "the bits after");
	ok(n0 == n1 && memcmp(b0, b1, n0) != 0, "... which differ from those before");
	is_int(store_credential_revoke(st, first, "revocation", NOW + 110, "Lại"), TC_ECONFLICT,
	       "revoking it again: TC_ECONFLICT");
	is_int(store_credential_revoke(st, second + 99, "revocation", NOW + 110, "Không"),
	       TC_ENOTFOUND, "no such credential: TC_ENOTFOUND");
	store_status_list_rev(st, inst_id, "revocation", &rev);
	is_int(rev, 1, "refused revocations leave the revision");
	/* a revocation in a caller's transaction that rolls back (a bulk file
	 * refused at a later row) leaves it too */
	is_int(store_begin(st), 0, "a caller's transaction");
	is_int(store_credential_revoke(st, second, "revocation", NOW + 115, "Nhầm"), 0,
	       "revokes the second credential in it");
	is_int(store_rollback(st), 0, "which rolls back");
	store_status_list_rev(st, inst_id, "revocation", &rev);
	is_int(rev, 1, "the revision is still 1");
	is_int(store_credential_revoke(st, second, "revocation", NOW + 120, "Sai điểm"), 0,
	       "revokes the second credential");
	store_status_list_rev(st, inst_id, "revocation", &rev);
	is_int(rev, 2, "the revision is 2");
	is_int(query_int("SELECT bits_rev FROM status_lists"), 2, "as stored (one list)");
	free(b0);
	free(b1);
}

/* Bit I of the LEN bytes at B (NULL or past the end: -1). */
static int
bit_at(const unsigned char *b, size_t len, size_t i)
{
	return b && i / 8 < len ? (b[i / 8] >> (7 - i % 8)) & 1 : -1;
}

/* Segments (migration 25): a credential past the first 131,072 entries
 * adds a segment row; the list reads as long as its segments (a gap all
 * zero), a new segment bumps the revision, a revocation sets the bit in
 * its segment; an index past STATUSLIST_MAX_BITS writes nothing. */
static void
test_segments(void)
{
	const int64_t seg = STATUSLIST_SEGMENT_BITS;
	int64_t rev = -1, k = query_int("SELECT next_k FROM status_lists"), id;
	unsigned char *b = NULL, *before = NULL;
	size_t len = 0, blen = 0;
	int bit = -1;

	store_status_list_get(st, inst_id, "revocation", &before, &blen);
	is_int(blen, seg / 8, "one segment (16 KiB) while every index is below 131,072");
	is_int(query_int("SELECT length(bits) FROM status_lists"), 0,
	       "status_lists keeps no bits (they are in status_list_segments)");
	is_int(issue_at(0, 0, k, 20, seg + 77), 0, "a credential at index 131,149 (segment 1)");
	is_int(query_int("SELECT count(*) FROM status_list_segments"), 2, "the list has two segments");
	store_status_list_rev(st, inst_id, "revocation", &rev);
	is_int(rev, 3, "the new segment bumped the revision (the list is longer)");
	is_int(store_status_list_get(st, inst_id, "revocation", &b, &len), 0, "the bits");
	ok(len == 2 * seg / 8 && memcmp(b, before, blen) == 0 && bit_at(b, len, seg + 77) == 0,
	   "... 262,144 entries, segment 0 as before, the new entry unset");
	free(b);
	b = NULL;
	is_int(store_status_bit(st, inst_id, "revocation", seg + 77, &bit), 0, "its bit");
	is_int(bit, 0, "... is 0");
	is_int(store_status_bit(st, inst_id, "revocation", 2 * seg, &bit), TC_EINVALID,
	       "index 262,144 is past the end");
	is_int(issue_at(1, 0, k + 1, 21, seg + 1000), 0, "another credential in segment 1");
	store_status_list_rev(st, inst_id, "revocation", &rev);
	is_int(rev, 3, "no new segment: the same revision");
	id = query_int("SELECT id FROM credentials WHERE status_index = 131149");
	is_int(store_credential_revoke(st, id, "revocation", NOW + 200, "Sai điểm"), 0,
	       "revokes the one at 131,149");
	store_status_list_rev(st, inst_id, "revocation", &rev);
	is_int(rev, 4, "the revision is 4");
	is_int(store_status_bit(st, inst_id, "revocation", seg + 77, &bit), 0, "its bit");
	is_int(bit, 1, "... is 1");
	store_status_list_get(st, inst_id, "revocation", &b, &len);
	ok(len == 2 * seg / 8 && memcmp(b, before, blen) == 0 && bit_at(b, len, seg + 77) == 1 &&
	   bit_at(b, len, seg + 1000) == 0, "the list: that bit set, the rest as before");
	free(b);
	b = NULL;
	is_int(issue_at(1, 0, k + 2, 22, (int64_t)STATUSLIST_MAX_BITS), TC_EINVALID,
	       "an index past the maximum list: TC_EINVALID");
	is_int(query_int("SELECT next_k FROM status_lists"), k + 2, "... which wrote nothing");
	is_int(issue_at(1, 0, k + 2, 23, 5 * seg + 3), 0, "a credential in segment 5 (a gap)");
	store_status_list_get(st, inst_id, "revocation", &b, &len);
	ok(len == 6 * seg / 8 && bit_at(b, len, seg + 77) == 1 && bit_at(b, len, 5 * seg + 3) == 0,
	   "the list has six segments, the gap all zero");
	free(b);
	is_int(store_status_bit(st, inst_id, "revocation", 3 * seg, &bit), 0,
	       "an index in the gap reads");
	is_int(bit, 0, "... as 0");
	free(before);
}

/* store_credential_json: the tree of json_loads(store_credential_text)
 * for every mix of the optional fields, numbers, two shared parts and
 * five issuer keys in turn (a part keeps the templates of four: hits, the
 * first of each key (parsed) and a key whose template was replaced):
 * json_equal, and the same members in the same order. */
static void
test_tree(void)
{
	static const char *shared[2] = {
		"{\"achievement_id\":\"https://example.edu/courses/CS101\",\"achievement_name\":"
		"\"Lập trình C\",\"alignment\":[],\"code\":\"CS101\",\"credits\":3,\"criteria\":"
		"\"Hoàn thành\",\"description\":\"C\",\"issuer_name\":\"A\",\"issuer_url\":"
		"\"https://example.edu\",\"name\":\"Lập trình C\",\"status_list\":"
		"\"https://example.edu/status\"}",
		"{\"achievement_id\":\"https://example.edu/courses/MA2\",\"achievement_name\":\"Giải"
		" tích \\\"2\\\"\",\"alignment\":[{\"code\":\"tin-chi\",\"framework\":\"TT 08\","
		"\"name\":\"tín chỉ\",\"type\":\"ext:CreditSystem\",\"url\":\"https://moet.gov.vn\"}],"
		"\"code\":\"MA2\",\"credits\":2.5,\"criteria\":\"Đạt\",\"description\":\"Giải tích\","
		"\"field_of_study\":\"0541\",\"issuer_name\":\"Trường B\",\"name\":\"Giải tích\","
		"\"status_list\":\"https://b.example.edu/status/revocation\"}",
	};
	static const double credits[3] = { 3, 2.5, 0.1 };
	char did[5][64];
	unsigned char pub[32];
	int same = 0, equal = 0, n = 0;

	for (int k = 0; k < 5; k++) {
		memset(pub, 11 + k, sizeof(pub));
		did_key_from_ed25519(pub, did[k], sizeof(did[k]));
	}
	for (int round = 0; round < 2; round++)
		for (int v = 0; v < 64; v++) {
			struct credential_rec c = { 0 };
			char *text = NULL, *a = NULL, *b = NULL;
			json_t *tree = NULL, *parsed = NULL;

			snprintf(c.uid, sizeof(c.uid), "urn:uuid:%08x-0000-4000-8000-%012d",
				 (unsigned)v, round);
			c.shared = (char *)shared[(v >> 4) & 1];
			snprintf(c.issuer_did, sizeof(c.issuer_did), "%s", did[(v + round) % ((v >> 5) & 1 ? 5 : 2)]);
			c.issued_at = NOW + v * 3601 + round;
			snprintf(c.identity_hash, sizeof(c.identity_hash), "sha256$%064d", v);
			if (v & 1)
				snprintf(c.salt, sizeof(c.salt), "%032d", v);
			if (v & 2)
				snprintf(c.grade, sizeof(c.grade), "%d.%d", v % 10, round);
			if (v & 4)
				snprintf(c.term, sizeof(c.term), "HK%d \"%d\"", v, round);
			c.awarded = (v >> 3) & 1;
			c.awarded_at = c.issued_at - 86400 * v;
			c.credits_earned = credits[(v + round) % 3];
			c.status_index = (int64_t)v * 977 + round;
			for (int i = 0; i < 64; i++)
				c.signature[i] = (unsigned char)(v * 31 + i * 7 + round);
			if (store_credential_text(&c, &text, NULL) == 0 &&
			    (parsed = json_loads(text, 0, NULL)) &&
			    store_credential_json(&c, &tree) == 0 && tree) {
				n++;
				equal += json_equal(tree, parsed);
				a = json_dumps(tree, JSON_COMPACT);
				b = json_dumps(parsed, JSON_COMPACT);
				same += a && b && strcmp(a, b) == 0;
				if (!(a && b && strcmp(a, b) == 0))
					printf("# %d/%d: %s\n#  vs %s\n", round, v, a ? a : "-",
					       b ? b : "-");
			}
			free(a);
			free(b);
			free(text);
			json_decref(tree);
			json_decref(parsed);
		}
	is_int(n, 128, "128 credentials rebuilt both ways");
	is_int(equal, 128, "the tree is json_loads's of the text (json_equal) for each");
	is_int(same, 128, "with the same members in the same order");
}

int
main(void)
{

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "credentials") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(dbpath, sizeof(dbpath), "%s/tinchi.db", data);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 || setup() != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_waiting();
	test_decline();
	test_issue();
	test_revision();
	test_segments();
	test_tree();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
