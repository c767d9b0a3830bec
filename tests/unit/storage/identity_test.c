/*
 * identity_test.c - tests for storage/identity.h: the dispatch in
 * storage/identity.c and the SQLite side in storage/identity_sqlite.c, on a
 * store in a mkdtemp folder. The database file is also opened directly
 * with sqlite3 to look at rows and to prove the audit log is append-only.
 *
 * TINCHI_IMPORT_ROWS overrides the size of the bulk import (100000).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "storage/store_backend.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

#define NOW 1700000000

static char tmp[512];		/* the mkdtemp folder */
static char dbpath[600];	/* tmp/data/tinchi.db */
static struct store *st;

/* ---- helpers ------------------------------------------------------------ */

/* First column of the one-row SQL on a separate connection, or -1. */
static long long
query_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	long long v = -1;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

/* Runs SQL on a separate connection; SQLite's result code, and its
 * message in MSG. */
static int
exec_raw(const char *sql, char *msg, size_t size)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc;

	msg[0] = '\0';
	rc = sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	}
	if (err != NULL)
		snprintf(msg, size, "%s", err);
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

/* The last 12 decimal digits of N (N >= 0) into OUT. */
static void
digits12(char out[13], long n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%012ld", n % 1000000000000L);
	memcpy(out, buf, 12);
	out[12] = '\0';
}

static void
make_uid(char out[37], long n)
{
	char d[13];

	digits12(d, n);
	snprintf(out, 37, "00000000-0000-4000-8000-%s", d);
}

/* A person with national ID 0000000NNNNN and a matching uid and HMAC. */
static void
make_person(struct person *p, long n, const char *name)
{
	memset(p, 0, sizeof(*p));
	make_uid(p->uid, n);
	digits12(p->national_id, n);
	snprintf(p->nid_hmac, sizeof(p->nid_hmac), "%064ld", n);
	snprintf(p->full_name, sizeof(p->full_name), "%s", name);
}

static int64_t
add_institution(const char *code, enum inst_kind kind)
{
	struct institution inst;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "%s", code);
	snprintf(inst.name, sizeof(inst.name), "Institution %s", code);
	inst.kind = kind;
	if (store_institution_add(st, &inst) != 0)
		return -1;
	return inst.id;
}

static int64_t
add_person(long n, const char *name)
{
	struct person p;

	make_person(&p, n, name);
	if (store_person_upsert(st, &p, NOW, NULL) != 0)
		return -1;
	return p.id;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Collects what a walk saw; stops with STOP_WITH after STOP_AFTER items. */
struct seen {
	int n;
	int stop_after;		/* 0: never */
	int stop_with;
	int64_t ids[16];
	char text[16][128];
};

static int
seen_add(struct seen *sn, int64_t id, const char *text)
{
	if (sn->n < 16) {
		sn->ids[sn->n] = id;
		snprintf(sn->text[sn->n], sizeof(sn->text[0]), "%s", text);
	}
	sn->n++;
	if (sn->stop_after > 0 && sn->n >= sn->stop_after)
		return sn->stop_with;
	return 0;
}

static int
on_institution(const struct institution *inst, void *arg)
{
	return seen_add(arg, inst->id, inst->code);
}

static int
on_key(const struct inst_key *k, void *arg)
{
	return seen_add(arg, k->valid_until, k->file);
}

static int
on_member(const struct person *p, const struct membership *m, void *arg)
{
	return seen_add(arg, p->id, m->student_code);
}

static int
on_token(const struct api_token *t, void *arg)
{
	return seen_add(arg, t->revoked_at, t->uid);
}

static int
on_audit(const struct audit_event *e, void *arg)
{
	return seen_add(arg, e->id, e->event);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_dispatch(void)
{
	static const struct store_ops bare_ops = { .name = "bare" };
	struct store bare = { &bare_ops };
	struct person p;

	is_int(store_begin(&bare), TC_EUNSUPPORTED,
	       "backend without identity ops: TC_EUNSUPPORTED");
	is_int(store_person_get(&bare, 1, &p), TC_EUNSUPPORTED,
	       "person_get on it: TC_EUNSUPPORTED");
	is_int(store_begin(NULL), TC_EINVALID, "NULL store: TC_EINVALID");
	is_int(store_person_get(st, 1, NULL), TC_EINVALID,
	       "NULL output: TC_EINVALID");
}

static void
test_meta(void)
{
	char buf[64], small[4];

	is_int(store_meta_get(st, "instance_id", buf, sizeof(buf)), 0,
	       "meta_get instance_id");
	is_int((int)strlen(buf), 32, "instance_id is 32 hex digits");
	is_int(store_meta_get(st, "platform_secret", buf, sizeof(buf)),
	       TC_ENOTFOUND, "meta_get missing key: TC_ENOTFOUND");
	is_int(store_meta_add(st, "platform_secret", "s3cr3t"), 0,
	       "meta_add new key");
	is_int(store_meta_get(st, "platform_secret", buf, sizeof(buf)), 0,
	       "meta_get the new key");
	is_str(buf, "s3cr3t", "meta value stored");
	is_int(store_meta_add(st, "platform_secret", "other"), TC_ECONFLICT,
	       "meta_add existing key: TC_ECONFLICT");
	store_meta_get(st, "platform_secret", buf, sizeof(buf));
	is_str(buf, "s3cr3t", "first writer wins");
	is_int(store_meta_get(st, "platform_secret", small, sizeof(small)),
	       TC_EINVALID, "meta_get into a small buffer: TC_EINVALID");
	is_int(store_meta_add(st, NULL, "x"), TC_EINVALID,
	       "meta_add NULL key: TC_EINVALID");
}

static void
test_institutions(void)
{
	struct institution inst, got;
	struct seen sn;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "HUST");
	snprintf(inst.name, sizeof(inst.name), "Hanoi University");
	snprintf(inst.website, sizeof(inst.website), "https://hust.example");
	inst.kind = INST_UNIVERSITY;
	inst.created_at = NOW;
	is_int(store_institution_add(st, &inst), 0, "institution_add");
	ok(inst.id > 0, "institution id filled in");
	is_int(store_institution_add(st, &inst), TC_ECONFLICT,
	       "same code again: TC_ECONFLICT");
	is_int(store_institution_get(st, "HUST", &got), 0,
	       "institution_get by code");
	ok(got.id == inst.id && got.kind == INST_UNIVERSITY &&
	   strcmp(got.name, "Hanoi University") == 0 &&
	   strcmp(got.website, "https://hust.example") == 0 &&
	   got.created_at == NOW, "institution read back whole");
	memset(&got, 0, sizeof(got));
	is_int(store_institution_get_id(st, inst.id, &got), 0,
	       "institution_get_id");
	is_str(got.code, "HUST", "by id: code");
	is_int(store_institution_get(st, "NOPE", &got), TC_ENOTFOUND,
	       "unknown code: TC_ENOTFOUND");
	is_int(store_institution_get_id(st, 9999, &got), TC_ENOTFOUND,
	       "unknown id: TC_ENOTFOUND");

	ok(add_institution("ZSCHOOL", INST_SCHOOL) > 0, "add ZSCHOOL");
	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "ACADEMY");
	inst.kind = INST_OTHER;
	is_int(store_institution_add(st, &inst), 0,
	       "add ACADEMY without a time");
	ok(inst.created_at > NOW, "created_at defaults to now");

	memset(&sn, 0, sizeof(sn));
	is_int(store_institution_each(st, on_institution, &sn), 0,
	       "institution_each");
	ok(sn.n == 3 && strcmp(sn.text[0], "ACADEMY") == 0 &&
	   strcmp(sn.text[1], "HUST") == 0 &&
	   strcmp(sn.text[2], "ZSCHOOL") == 0, "walked in code order");
	memset(&sn, 0, sizeof(sn));
	sn.stop_after = 2;
	sn.stop_with = 42;
	is_int(store_institution_each(st, on_institution, &sn), 42,
	       "a callback's non-zero result stops the walk");
	is_int(sn.n, 2, "stopped after two");

	inst.kind = 0;
	is_int(store_institution_add(st, &inst), TC_EINVALID,
	       "kind 0: TC_EINVALID");
	inst.kind = INST_SCHOOL;
	memset(inst.code, 'A', sizeof(inst.code));
	is_int(store_institution_add(st, &inst), TC_EINVALID,
	       "unterminated code: TC_EINVALID");
}

static void
make_key(struct inst_key *k, int64_t inst, const char *file, int64_t from,
	 unsigned char fill)
{
	memset(k, 0, sizeof(*k));
	k->institution_id = inst;
	snprintf(k->file, sizeof(k->file), "%s", file);
	memset(k->pub, fill, sizeof(k->pub));
	snprintf(k->did, sizeof(k->did), "did:key:z6Mk%s", file);
	k->valid_from = from;
	k->valid_until = 12345;	/* ignored: a new key is current */
}

static void
test_keys(void)
{
	struct institution inst;
	struct inst_key k1, k2, k3, cur;
	struct seen sn;
	int64_t id;

	store_institution_get(st, "HUST", &inst);
	id = inst.id;
	is_int(store_key_current(st, id, &cur), TC_ENOTFOUND,
	       "no key yet: TC_ENOTFOUND");
	make_key(&k1, id, "HUST-1", NOW, 0x11);
	is_int(store_key_add(st, &k1), 0, "key_add first key");
	ok(k1.id > 0 && k1.valid_until == 0, "id filled, key is current");
	is_int(store_key_current(st, id, &cur), 0, "key_current");
	ok(cur.id == k1.id && cur.pub[0] == 0x11 && cur.pub[31] == 0x11 &&
	   strcmp(cur.did, "did:key:z6MkHUST-1") == 0 &&
	   cur.valid_from == NOW && cur.valid_until == 0,
	   "current key read back whole");

	make_key(&k2, id, "HUST-2", NOW + 100, 0x22);
	is_int(store_key_add(st, &k2), 0, "key_add rotates");
	is_int(store_key_current(st, id, &cur), 0, "key_current after rotation");
	ok(cur.id == k2.id && cur.pub[0] == 0x22, "the new key is current");
	memset(&sn, 0, sizeof(sn));
	is_int(store_key_each(st, id, on_key, &sn), 0, "key_each");
	ok(sn.n == 2 && strcmp(sn.text[0], "HUST-1") == 0 &&
	   strcmp(sn.text[1], "HUST-2") == 0, "keys oldest first");
	is_int(sn.ids[0], NOW + 101,
	       "previous key's valid_until is the second after the new valid_from (a credential "
	       "the old key signed in the second of the rotation stays valid)");
	is_int(sn.ids[1], 0, "new key's valid_until is 0");
	is_int(query_int("SELECT count(*) FROM institution_keys"
			 " WHERE valid_until = 0"), 1,
	       "exactly one current key");

	make_key(&k3, id, "HUST-1", NOW + 200, 0x33);
	is_int(store_key_add(st, &k3), TC_ECONFLICT,
	       "key file taken: TC_ECONFLICT");
	store_key_current(st, id, &cur);
	is_int(cur.id, k2.id, "failed add left the current key alone");
	is_int(query_int("SELECT valid_until FROM institution_keys"
			 " WHERE file = 'HUST-2'"), 0,
	       "failed add did not retire the current key");
	make_key(&k3, 9999, "NOPE-1", NOW, 0x44);
	is_int(store_key_add(st, &k3), TC_ENOTFOUND,
	       "key for an unknown institution: TC_ENOTFOUND");
	make_key(&k3, id, "HUST-3", 0, 0x44);
	is_int(store_key_add(st, &k3), TC_EINVALID,
	       "valid_from 0: TC_EINVALID");
	is_int(query_int("UPDATE institution_keys SET valid_until = 0"
			 " WHERE file = 'HUST-1' RETURNING 1"), -1,
	       "the index refuses a second current key");
}

static void
test_people(void)
{
	struct person p, q, got;
	int created = -1;

	make_person(&p, 1, "Nguyen Van A");
	snprintf(p.email, sizeof(p.email), "a@example.vn");
	snprintf(p.date_of_birth, sizeof(p.date_of_birth), "2005-01-02");
	is_int(store_person_upsert(st, &p, NOW, &created), 0, "upsert new");
	is_int(created, 1, "created is 1");
	ok(p.id > 0 && p.created_at == NOW && p.updated_at == NOW,
	   "id and timestamps filled in");

	is_int(store_person_set_password(st, p.id, "scrypt$hash", NOW + 5), 0,
	       "set_password");
	make_person(&q, 1, "Nguyen Van B");
	make_uid(q.uid, 777);	/* a fresh uid must not replace the old one */
	snprintf(q.password_hash, sizeof(q.password_hash), "other");
	is_int(store_person_upsert(st, &q, NOW + 10, &created), 0,
	       "upsert existing national ID");
	is_int(created, 0, "created is 0");
	is_int(q.id, p.id, "same id");
	is_str(q.uid, p.uid, "uid kept");
	is_int(q.created_at, NOW, "created_at kept");
	is_int(q.updated_at, NOW + 10, "updated_at moved");
	is_str(q.password_hash, "scrypt$hash",
	       "password kept and reported back");
	is_str(q.full_name, "Nguyen Van B", "name updated");
	is_str(q.email, "a@example.vn", "empty e-mail keeps the stored one");
	is_str(q.date_of_birth, "2005-01-02", "empty birth date kept");
	is_int(store_person_upsert(st, &q, NOW + 11, NULL), 0,
	       "upsert with created NULL");

	is_int(store_person_get(st, p.id, &got), 0, "person_get");
	ok(strcmp(got.national_id, "000000000001") == 0 &&
	   strcmp(got.nid_hmac, p.nid_hmac) == 0 &&
	   strcmp(got.full_name, "Nguyen Van B") == 0 &&
	   strcmp(got.password_hash, "scrypt$hash") == 0 &&
	   got.updated_at == NOW + 11, "person read back whole");
	memset(&got, 0, sizeof(got));
	is_int(store_person_get_by_nid(st, "000000000001", &got), 0,
	       "person_get_by_nid");
	is_int(got.id, p.id, "by nid: id");
	memset(&got, 0, sizeof(got));
	is_int(store_person_get_by_uid(st, p.uid, &got), 0,
	       "person_get_by_uid");
	is_int(got.id, p.id, "by uid: id");
	is_int(store_person_get(st, 99999, &got), TC_ENOTFOUND,
	       "unknown id: TC_ENOTFOUND");
	is_int(store_person_get_by_nid(st, "999999999999", &got), TC_ENOTFOUND,
	       "unknown national ID: TC_ENOTFOUND");
	is_int(store_person_get_by_uid(st, "nope", &got), TC_ENOTFOUND,
	       "unknown uid: TC_ENOTFOUND");
	is_int(store_person_get_by_nid(st, "0000000000011", &got), TC_EINVALID,
	       "13-digit national ID: TC_EINVALID");
	is_int(store_person_set_password(st, 99999, "h", NOW), TC_ENOTFOUND,
	       "set_password unknown id: TC_ENOTFOUND");

	make_person(&q, 2, "Tran Thi C");
	snprintf(q.uid, sizeof(q.uid), "%s", p.uid);
	is_int(store_person_upsert(st, &q, NOW, &created), TC_ECONFLICT,
	       "new person with a taken uid: TC_ECONFLICT");
	make_person(&q, 2, "Tran Thi C");
	snprintf(q.nid_hmac, sizeof(q.nid_hmac), "%s", p.nid_hmac);
	is_int(store_person_upsert(st, &q, NOW, &created), TC_ECONFLICT,
	       "new person with a taken HMAC: TC_ECONFLICT");
	is_int(store_person_get_by_nid(st, "000000000002", &got), TC_ENOTFOUND,
	       "failed upserts added nobody");
	make_person(&q, 2, "Tran Thi C");
	q.uid[0] = '\0';
	is_int(store_person_upsert(st, &q, NOW, &created), TC_EINVALID,
	       "upsert without a uid: TC_EINVALID");
	make_person(&q, 2, "Tran Thi C");
	memset(q.national_id, '1', sizeof(q.national_id));
	is_int(store_person_upsert(st, &q, NOW, &created), TC_EINVALID,
	       "unterminated national ID: TC_EINVALID");
}

struct heads {
	char head[4][64];
	int64_t count[4];
	int n;
};

static int
on_head(const char *head, int64_t count, void *arg)
{
	struct heads *h = arg;

	if (h->n == 4)
		return -1;
	snprintf(h->head[h->n], sizeof(h->head[0]), "%s", head);
	h->count[h->n++] = count;
	return 0;
}

/* How many stored hashes have each cost: the stand-in's cost at sign-in. */
static void
test_password_heads(void)
{
	static const char *const hash[] = {
		"$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$BBBB",
		"$scrypt$ln=10,r=8,p=1$CCCCCCCCCCCCCCCCCCCCCC$DDDD",
		"$scrypt$ln=12,r=8,p=1$EEEEEEEEEEEEEEEEEEEEEE$FFFF",
		"",	/* not activated: not counted */
	};
	struct heads h = { .n = 0 };
	int n10 = 0, n12 = 0, other = 0;
	struct person p;

	for (int i = 0; i < 4; i++) {
		make_person(&p, 600 + i, "Costly");
		ok(store_person_upsert(st, &p, NOW, NULL) == 0 &&
		   (!hash[i][0] || store_person_set_password(st, p.id, hash[i], NOW) == 0),
		   "a person for the cost tally");
	}
	is_int(store_password_heads_each(st, on_head, &h), 0, "password_heads_each");
	for (int i = 0; i < h.n; i++) {
		if (strcmp(h.head[i], "$scrypt$ln=10,r=8,p=1$") == 0)
			n10 += (int)h.count[i];
		else if (strcmp(h.head[i], "$scrypt$ln=12,r=8,p=1$") == 0)
			n12 += (int)h.count[i];
		else if (!h.head[i][0])
			other = -100;
		else
			other += (int)h.count[i];	/* test_people's "scrypt$hash" */
	}
	ok(n10 == 2 && n12 == 1 && other == 1, "two hashes of ln=10, one of ln=12, no empty head");
	is_int(store_password_heads_each(st, NULL, NULL), TC_EINVALID, "no callback: TC_EINVALID");
}

static void
test_memberships(void)
{
	struct institution hust, zs;
	struct membership m, list[8];
	struct person p;
	struct seen sn;
	int64_t ids[6];
	int64_t after;
	int n = -1;
	int total;

	store_institution_get(st, "HUST", &hust);
	store_institution_get(st, "ZSCHOOL", &zs);
	store_person_get_by_nid(st, "000000000001", &p);

	memset(&m, 0, sizeof(m));
	m.person_id = p.id;
	m.institution_id = hust.id;
	m.role = ROLE_LEARNER;
	snprintf(m.student_code, sizeof(m.student_code), "S1");
	m.created_at = NOW;
	is_int(store_membership_add(st, &m), 0, "membership_add");
	m.student_code[0] = '\0';
	is_int(store_membership_add(st, &m), 0,
	       "same role again with no student code");
	is_int(store_memberships(st, p.id, list, 8, &n), 0, "memberships");
	is_int(n, 1, "one membership");
	is_str(list[0].student_code, "S1", "empty code kept the stored one");
	snprintf(m.student_code, sizeof(m.student_code), "S2");
	is_int(store_membership_add(st, &m), 0, "same role with a new code");
	store_memberships(st, p.id, list, 8, &n);
	is_str(list[0].student_code, "S2", "student code updated");

	m.role = ROLE_LECTURER;
	m.institution_id = zs.id;
	m.student_code[0] = '\0';
	is_int(store_membership_add(st, &m), 0, "lecturer at ZSCHOOL");
	m.role = ROLE_OPERATOR;
	m.institution_id = 0;
	is_int(store_membership_add(st, &m), 0, "operator on the platform");
	is_int(store_memberships(st, p.id, list, 8, &n), 0, "memberships");
	is_int(n, 3, "three memberships");
	ok(list[0].institution_id == 0 && list[0].role == ROLE_OPERATOR &&
	   list[0].person_id == p.id && list[0].created_at == NOW,
	   "platform role first, read back whole");
	is_int(store_memberships(st, p.id, list, 1, &n), 0, "memberships max 1");
	is_int(n, 1, "only one stored");
	is_int(store_memberships(st, p.id, NULL, 0, &n), 0,
	       "memberships max 0");
	is_int(n, 0, "none stored");
	is_int(store_memberships(st, 99999, list, 8, &n), 0,
	       "memberships of nobody");
	is_int(n, 0, "nobody has none");

	m.institution_id = 9999;
	m.role = ROLE_LEARNER;
	is_int(store_membership_add(st, &m), TC_ENOTFOUND,
	       "unknown institution: TC_ENOTFOUND");
	m.institution_id = hust.id;
	m.person_id = 99999;
	is_int(store_membership_add(st, &m), TC_ENOTFOUND,
	       "unknown person: TC_ENOTFOUND");
	m.person_id = p.id;
	m.role = 99;
	is_int(store_membership_add(st, &m), TC_EINVALID,
	       "role out of range: TC_EINVALID");

	is_int(store_membership_remove(st, p.id, zs.id, ROLE_LECTURER), 0,
	       "membership_remove");
	is_int(store_membership_remove(st, p.id, zs.id, ROLE_LECTURER),
	       TC_ENOTFOUND, "remove again: TC_ENOTFOUND");
	store_memberships(st, p.id, list, 8, &n);
	is_int(n, 2, "two memberships left");

	/* Five more learners at HUST, walked two at a time. */
	for (int i = 0; i < 5; i++) {
		ids[i] = add_person(100 + i, "Learner");
		memset(&m, 0, sizeof(m));
		m.person_id = ids[i];
		m.institution_id = hust.id;
		m.role = ROLE_LEARNER;
		snprintf(m.student_code, sizeof(m.student_code), "L%d", i);
		store_membership_add(st, &m);
	}
	after = 0;
	total = 0;
	for (int page = 0; page < 5; page++) {
		memset(&sn, 0, sizeof(sn));
		if (store_members_each(st, hust.id, ROLE_LEARNER, after, 2,
				       on_member, &sn) != 0 || sn.n == 0)
			break;
		for (int i = 0; i < sn.n; i++) {
			if (sn.ids[i] <= after)
				total = -100;	/* out of order */
			after = sn.ids[i];
		}
		total += sn.n;
	}
	is_int(total, 6, "members_each pages through all six in id order");
	is_int(after, ids[4], "the last page ends at the newest learner");
	memset(&sn, 0, sizeof(sn));
	is_int(store_members_each(st, hust.id, ROLE_LEARNER, ids[1], 10,
				  on_member, &sn), 0, "page after the 2nd");
	ok(sn.n == 3 && sn.ids[0] == ids[2] &&
	   strcmp(sn.text[0], "L2") == 0, "starts right after AFTER_ID");
	memset(&sn, 0, sizeof(sn));
	store_members_each(st, hust.id, ROLE_ADMIN, 0, 10, on_member, &sn);
	is_int(sn.n, 0, "no admins");
	is_int(store_members_each(st, hust.id, ROLE_LEARNER, 0, 0, on_member,
				  &sn), TC_EINVALID, "limit 0: TC_EINVALID");
}

static void
test_sessions(void)
{
	struct session s, got;
	struct person p;
	int n = -1;

	store_person_get_by_nid(st, "000000000001", &p);
	memset(&s, 0, sizeof(s));
	snprintf(s.token_hash, sizeof(s.token_hash), "%064d", 1);
	s.person_id = p.id;
	s.created_at = s.last_seen_at = NOW;
	s.expires_at = NOW + 3600;
	snprintf(s.source, sizeof(s.source), "192.0.2.1");
	is_int(store_session_add(st, &s), 0, "session_add");
	is_int(store_session_add(st, &s), TC_ECONFLICT,
	       "same token again: TC_ECONFLICT");
	s.token_hash[0] = 'f';
	s.person_id = 99999;
	is_int(store_session_add(st, &s), TC_ENOTFOUND,
	       "session of nobody: TC_ENOTFOUND");
	is_int(store_session_get(st, "f" "000000000000000000000000000000"
				 "000000000000000000000000000000001", &got),
	       TC_ENOTFOUND, "failed add left nothing");

	snprintf(s.token_hash, sizeof(s.token_hash), "%064d", 1);
	is_int(store_session_get(st, s.token_hash, &got), 0, "session_get");
	ok(got.person_id == p.id && got.created_at == NOW &&
	   got.last_seen_at == NOW && got.expires_at == NOW + 3600 &&
	   strcmp(got.source, "192.0.2.1") == 0,
	   "session read back whole");
	is_int(store_session_touch(st, s.token_hash, NOW + 60), 0,
	       "session_touch");
	store_session_get(st, s.token_hash, &got);
	is_int(got.last_seen_at, NOW + 60, "last_seen_at moved");
	is_int(store_session_touch(st, "abc", NOW), TC_ENOTFOUND,
	       "touch unknown: TC_ENOTFOUND");
	is_int(store_session_get(st, "abc", &got), TC_ENOTFOUND,
	       "get unknown: TC_ENOTFOUND");
	is_int(store_session_delete(st, s.token_hash), 0, "session_delete");
	is_int(store_session_delete(st, s.token_hash), TC_ENOTFOUND,
	       "delete again: TC_ENOTFOUND");

	/* 2: expired, 3: idle, 4 and 5: alive. */
	for (int i = 2; i <= 5; i++) {
		snprintf(s.token_hash, sizeof(s.token_hash), "%064d", i);
		s.person_id = p.id;
		s.created_at = NOW;
		s.last_seen_at = i == 3 ? NOW - 1000 : NOW;
		s.expires_at = i == 2 ? NOW : NOW + 3600;
		store_session_add(st, &s);
	}
	is_int(store_session_purge(st, 0, NOW, 0, &n), 0,
	       "purge ended sessions, no idle limit");
	is_int(n, 1, "only the expired one");
	is_int(store_session_purge(st, 0, NOW, 600, &n), 0,
	       "purge with a 600 s idle limit");
	is_int(n, 1, "the idle one");
	is_int(store_session_purge(st, 0, NOW, 600, NULL), 0,
	       "purge with n NULL");
	is_int(store_session_purge(st, p.id, NOW, 0, &n), 0,
	       "purge a person's sessions");
	is_int(n, 2, "both live sessions");
	is_int(query_int("SELECT count(*) FROM sessions"), 0, "none left");
}

static void
test_tokens(void)
{
	struct institution hust, zs;
	struct api_token t, t2, got;
	struct seen sn;
	char h1[65], h2[65];

	store_institution_get(st, "HUST", &hust);
	store_institution_get(st, "ZSCHOOL", &zs);
	snprintf(h1, sizeof(h1), "%064d", 11);
	snprintf(h2, sizeof(h2), "%064d", 12);
	memset(&t, 0, sizeof(t));
	make_uid(t.uid, 501);
	t.institution_id = hust.id;
	snprintf(t.name, sizeof(t.name), "SIS sync");
	snprintf(t.scopes, sizeof(t.scopes), "learners:import credits:read");
	t.created_by = 1;
	t.created_at = NOW;
	is_int(store_token_add(st, &t, h1), 0, "token_add");
	ok(t.id > 0, "token id filled in");
	t2 = t;
	t2.id = 0;
	make_uid(t2.uid, 502);
	is_int(store_token_add(st, &t2, h1), TC_ECONFLICT,
	       "same hash: TC_ECONFLICT");
	t2.id = 0;
	make_uid(t2.uid, 501);
	is_int(store_token_add(st, &t2, h2), TC_ECONFLICT,
	       "same uid: TC_ECONFLICT");
	t2.id = 0;
	make_uid(t2.uid, 503);
	t2.institution_id = 9999;
	is_int(store_token_add(st, &t2, h2), TC_ENOTFOUND,
	       "unknown institution: TC_ENOTFOUND");
	t2.id = 0;
	t2.institution_id = hust.id;
	is_int(store_token_add(st, &t2, h2), 0, "second token");

	is_int(store_token_by_hash(st, h1, &got), 0, "token_by_hash");
	ok(got.id == t.id && strcmp(got.uid, t.uid) == 0 &&
	   got.institution_id == hust.id &&
	   strcmp(got.name, "SIS sync") == 0 &&
	   strcmp(got.scopes, "learners:import credits:read") == 0 &&
	   got.created_by == 1 && got.created_at == NOW &&
	   got.last_used_at == 0 && got.revoked_at == 0,
	   "token read back whole");
	is_int(store_token_get(st, hust.id, t.uid, &got), 0, "token_get");
	is_int(got.id, t.id, "token_get: id");
	is_int(store_token_get(st, zs.id, t.uid, &got), TC_ENOTFOUND,
	       "another institution's token: TC_ENOTFOUND");
	is_int(store_token_touch(st, t.id, NOW + 5), 0, "token_touch");
	store_token_get(st, hust.id, t.uid, &got);
	is_int(got.last_used_at, NOW + 5, "last_used_at set");
	is_int(store_token_touch(st, 99999, NOW), TC_ENOTFOUND,
	       "touch unknown: TC_ENOTFOUND");

	is_int(store_token_revoke(st, zs.id, t.uid, NOW + 6), TC_ENOTFOUND,
	       "revoke at another institution: TC_ENOTFOUND");
	is_int(store_token_revoke(st, hust.id, t.uid, NOW + 6), 0,
	       "token_revoke");
	is_int(store_token_revoke(st, hust.id, t.uid, NOW + 7), TC_ECONFLICT,
	       "revoke twice: TC_ECONFLICT");
	is_int(store_token_by_hash(st, h1, &got), TC_ENOTFOUND,
	       "revoked token not found by hash");
	is_int(store_token_get(st, hust.id, t.uid, &got), 0,
	       "revoked token still listed");
	is_int(got.revoked_at, NOW + 6, "revoked_at kept from the first revoke");
	is_int(store_token_revoke(st, hust.id, "nope", NOW), TC_ENOTFOUND,
	       "revoke unknown: TC_ENOTFOUND");

	memset(&sn, 0, sizeof(sn));
	is_int(store_token_each(st, hust.id, on_token, &sn), 0, "token_each");
	ok(sn.n == 2 && sn.ids[0] == NOW + 6 && sn.ids[1] == 0,
	   "both tokens, oldest first");
	memset(&sn, 0, sizeof(sn));
	store_token_each(st, zs.id, on_token, &sn);
	is_int(sn.n, 0, "none at ZSCHOOL");
}

static void
test_activation(void)
{
	struct person p;
	char h1[65], h2[65], h3[65];

	store_person_get_by_nid(st, "000000000001", &p);
	snprintf(h1, sizeof(h1), "%064d", 21);
	snprintf(h2, sizeof(h2), "%064d", 22);
	snprintf(h3, sizeof(h3), "%064d", 23);
	is_int(store_activation_add(st, p.id, h1, NOW, NOW + 100), 0,
	       "activation_add");
	is_int(store_activation_add(st, p.id, h2, NOW, NOW + 100), 0,
	       "activation_add replaces");
	is_int(store_activation_take(st, p.id, h1, NOW + 1), TC_ENOTFOUND,
	       "a replaced code: TC_ENOTFOUND");
	is_int(store_activation_take(st, 99999, h2, NOW + 1), TC_ENOTFOUND,
	       "someone else's code: TC_ENOTFOUND");
	is_int(store_activation_take(st, p.id, h2, NOW + 1), 0,
	       "activation_take");
	is_int(store_activation_take(st, p.id, h2, NOW + 2), TC_ENOTFOUND,
	       "take twice: TC_ENOTFOUND");
	is_int(store_activation_add(st, p.id, h3, NOW, NOW + 10), 0,
	       "a short-lived code");
	is_int(store_activation_take(st, p.id, h3, NOW + 10), TC_ENOTFOUND,
	       "expired code: TC_ENOTFOUND");
	is_int(query_int("SELECT count(*) FROM activation_codes"), 2,
	       "the used code stays, the replaced one is gone");
	is_int(store_activation_add(st, 99999, h3, NOW, NOW + 10),
	       TC_ENOTFOUND, "code for nobody: TC_ENOTFOUND");
	is_int(query_int("SELECT count(*) FROM activation_codes"), 2,
	       "a failed add removed nothing");
}

static void
test_failures(void)
{
	int na = -1, ns = -1;
	int64_t oa = -1, os = -1;

	store_login_failure_add(st, "acct1", "10.0.0.1", NOW - 500);
	store_login_failure_add(st, "acct1", "10.0.0.1", NOW - 100);
	store_login_failure_add(st, "acct1", "10.0.0.2", NOW - 50);
	store_login_failure_add(st, "acct2", "10.0.0.1", NOW - 40);
	is_int(store_login_failure_add(st, "acct2", "10.0.0.1", NOW - 30), 0,
	       "login_failure_add");
	is_int(store_login_failures(st, "acct1", "10.0.0.1", NOW - 200, &na,
				    &ns, &oa, &os), 0, "login_failures");
	is_int(na, 2, "two for acct1 in the window");
	is_int(ns, 3, "three from 10.0.0.1 in the window");
	is_int(oa, NOW - 100, "oldest for the account");
	is_int(os, NOW - 100, "oldest from the source");
	store_login_failures(st, "acct1", "10.0.0.1", NOW - 1000, &na, &ns,
			     NULL, NULL);
	ok(na == 3 && ns == 4, "a wider window counts more");
	store_login_failures(st, "nobody", "10.9.9.9", NOW - 1000, &na, &ns,
			     &oa, &os);
	ok(na == 0 && ns == 0 && oa == 0 && os == 0, "none: zeros");
	store_login_failures(st, NULL, "10.0.0.2", 0, &na, &ns, NULL, NULL);
	ok(na == 0 && ns == 1, "NULL account counts by source only");

	is_int(store_login_failures_clear(st, "acct1", NOW - 35), 0,
	       "login_failures_clear");
	is_int(query_int("SELECT count(*) FROM login_failures"), 1,
	       "acct1's and old ones gone");
	is_int(query_int("SELECT at FROM login_failures"), NOW - 30,
	       "the recent acct2 one stays");
	is_int(store_login_failures_clear(st, NULL, NOW), 0,
	       "housekeeping only");
	is_int(query_int("SELECT count(*) FROM login_failures"), 0,
	       "all gone");
}

static void
test_audit(void)
{
	struct audit_event e;
	struct seen sn;
	int64_t ids[5];
	char msg[256];
	int rc;

	for (int i = 0; i < 5; i++) {
		memset(&e, 0, sizeof(e));
		e.at = NOW + i;
		e.institution_id = i == 4 ? 0 : 1;
		e.actor_person_id = 1;
		snprintf(e.event, sizeof(e.event), "event.%d", i);
		snprintf(e.subject, sizeof(e.subject), "subject");
		snprintf(e.detail, sizeof(e.detail), "{}");
		snprintf(e.source, sizeof(e.source), "cli");
		rc = store_audit_add(st, &e);
		ids[i] = e.id;
	}
	is_int(rc, 0, "audit_add");
	ok(ids[0] > 0 && ids[1] > ids[0] && ids[4] > ids[3],
	   "ids filled in, increasing");
	memset(&sn, 0, sizeof(sn));
	is_int(store_audit_each(st, 1, 0, 10, on_audit, &sn), 0, "audit_each");
	ok(sn.n == 4 && sn.ids[0] == ids[3] && sn.ids[3] == ids[0] &&
	   strcmp(sn.text[0], "event.3") == 0, "institution 1, newest first");
	memset(&sn, 0, sizeof(sn));
	store_audit_each(st, 1, ids[2], 1, on_audit, &sn);
	ok(sn.n == 1 && sn.ids[0] == ids[1], "before_id and limit page back");
	memset(&sn, 0, sizeof(sn));
	store_audit_each(st, 0, 0, 10, on_audit, &sn);
	ok(sn.n == 1 && sn.ids[0] == ids[4], "platform-wide events apart");
	memset(&e, 0, sizeof(e));
	is_int(store_audit_add(st, &e), TC_EINVALID,
	       "event name missing: TC_EINVALID");

	rc = exec_raw("UPDATE audit_events SET event = 'x'", msg, sizeof(msg));
	ok(rc != SQLITE_OK && strstr(msg, "append-only") != NULL,
	   "raw UPDATE refused by the trigger");
	rc = exec_raw("DELETE FROM audit_events", msg, sizeof(msg));
	ok(rc != SQLITE_OK && strstr(msg, "append-only") != NULL,
	   "raw DELETE refused by the trigger");
	is_int(query_int("SELECT count(*) FROM audit_events"
			 " WHERE event LIKE 'event.%'"), 5, "events intact");
}

static void
test_transactions(void)
{
	struct institution inst;
	struct person p;
	int64_t id;

	is_int(store_rollback(st), 0, "rollback without a transaction");
	is_int(store_commit(st), TC_EINVALID,
	       "commit without a transaction: TC_EINVALID");
	is_int(store_begin(st), 0, "store_begin");
	is_int(store_begin(st), TC_EINVALID, "begin twice: TC_EINVALID");
	id = add_institution("TXN", INST_SCHOOL);
	ok(id > 0, "institution added inside");
	ok(add_person(900, "Inside") > 0, "person added inside");
	is_int(store_rollback(st), 0, "store_rollback");
	is_int(store_institution_get(st, "TXN", &inst), TC_ENOTFOUND,
	       "rolled-back institution is gone");
	is_int(store_person_get_by_nid(st, "000000000900", &p), TC_ENOTFOUND,
	       "rolled-back person is gone");

	/* A failing call inside a transaction undoes only itself. */
	is_int(store_begin(st), 0, "begin again");
	id = add_institution("TXN", INST_SCHOOL);
	make_person(&p, 901, "Dup");
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", 1);	/* taken */
	is_int(store_person_upsert(st, &p, NOW, NULL), TC_ECONFLICT,
	       "failing upsert inside the transaction");
	ok(add_person(902, "After") > 0, "work goes on after it");
	is_int(store_commit(st), 0, "store_commit");
	is_int(store_institution_get(st, "TXN", &inst), 0,
	       "committed institution is there");
	is_int(store_person_get_by_nid(st, "000000000902", &p), 0,
	       "committed person is there");
	is_int(store_person_get_by_nid(st, "000000000901", &p), TC_ENOTFOUND,
	       "the failed upsert left nothing");
}

/* The learner import: 100k x (upsert + membership) in one transaction. */
static void
test_import(void)
{
	const char *env = getenv("TINCHI_IMPORT_ROWS");
	long rows = env != NULL && atol(env) > 0 ? atol(env) : 100000;
	struct institution inst;
	struct membership m;
	struct person p;
	struct timespec t0;
	char line[160];
	long fails = 0;
	int created = 0;
	long made = 0;
	double secs;

	ok(add_institution("BIG", INST_UNIVERSITY) > 0, "import institution");
	store_institution_get(st, "BIG", &inst);
	for (int pass = 0; pass < 2; pass++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		fails = store_begin(st) != 0;
		made = 0;
		for (long i = 0; i < rows && fails == 0; i++) {
			make_person(&p, 1000000 + i, "Learner Nguyen");
			if (store_person_upsert(st, &p, NOW + pass, &created))
				fails++;
			made += created;
			memset(&m, 0, sizeof(m));
			m.person_id = p.id;
			m.institution_id = inst.id;
			m.role = ROLE_LEARNER;
			m.created_at = NOW;
			snprintf(m.student_code, sizeof(m.student_code),
				 "SV%07ld", i);
			if (store_membership_add(st, &m))
				fails++;
		}
		if (fails == 0)
			fails = store_commit(st) != 0;
		else
			store_rollback(st);
		secs = seconds_since(&t0);
		snprintf(line, sizeof(line), "import pass %d (%s): %ld rows "
			 "in %.2f s (%.0f rows/s)", pass + 1,
			 pass == 0 ? "inserts" : "updates", rows, secs,
			 secs > 0 ? (double)rows / secs : 0.0);
		diag(line);
		is_int(fails, 0, pass == 0 ? "import inserts, no failures" :
		       "re-import updates, no failures");
		is_int(made, pass == 0 ? rows : 0,
		       pass == 0 ? "every row created" : "no row created");
	}
	snprintf(line, sizeof(line), "SELECT count(*) FROM memberships"
		 " WHERE institution_id = %lld", (long long)inst.id);
	is_int(query_int(line), rows, "one membership per row");
}

int
main(void)
{
	char data[560];

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "identity") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(dbpath, sizeof(dbpath), "%s/tinchi.db", data);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}

	test_dispatch();
	test_meta();
	test_institutions();
	test_keys();
	test_people();
	test_password_heads();
	test_memberships();
	test_sessions();
	test_tokens();
	test_activation();
	test_failures();
	test_audit();
	test_transactions();
	test_import();

	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
