/*
 * recognition_test.c - tests for storage/recognition.h: the dispatch in
 * storage/recognition.c, the SQLite side in storage/recognition_sqlite.c
 * and schema migration 16, on a store in a mkdtemp folder: rules and
 * versions (history kept, append-only, a stale version refused), the
 * candidate query (right rules only, by index: the query plan has no scan),
 * keys replaced on a change, a failed write leaving nothing, the registry's
 * key by DID and a course's ISCED-F field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "courses/recognition.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/recognition.h"
#include "storage/store.h"
#include "storage/store_backend.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"
#include "tests/unit/storage/storefix.h"

#define NOW 1700000000

static char tmp[512];
static char data[560];
static char dbpath[600];
static struct store *st;
static int64_t inst_b, inst_a, inst_c, owner_id, course_id;

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

static int
setup(void)
{
	struct person p;
	struct course c;

	inst_b = fixture_institution(st, "UB");
	inst_a = fixture_institution(st, "UA");
	inst_c = fixture_institution(st, "UC");
	memset(&p, 0, sizeof(p));
	snprintf(p.uid, sizeof(p.uid), "%s", "0000000a-0000-4000-8000-000000000001");
	snprintf(p.national_id, sizeof(p.national_id), "%s", "000000000001");
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", 1);
	snprintf(p.full_name, sizeof(p.full_name), "%s", "Giảng Viên");
	if (store_person_upsert(st, &p, NOW, NULL))
		return -1;
	owner_id = p.id;
	memset(&c, 0, sizeof(c));
	snprintf(c.uid, sizeof(c.uid), "%s", "0000000c-0000-4000-8000-000000000001");
	c.institution_id = inst_a;
	snprintf(c.code, sizeof(c.code), "%s", "INT1001");
	snprintf(c.title, sizeof(c.title), "%s", "Lập trình C");
	snprintf(c.language, sizeof(c.language), "%s", "vi");
	snprintf(c.level, sizeof(c.level), "%s", "ug-1");
	c.credits_x10 = 30;
	c.status = COURSE_PUBLISHED;
	c.owner_id = owner_id;
	c.created_at = c.updated_at = NOW;
	if (store_course_add(st, &c, "x"))
		return -1;
	course_id = c.id;
	return inst_b > 0 && inst_a > 0 && inst_c > 0 ? 0 : -1;
}

/* Stores the rule JSON for INST as version 1; its id, or -1. */
static int64_t
add_rule(int64_t inst, int64_t source_id, const char *json)
{
	struct recog_rule r;
	struct recog_rule_rec rec;
	char keys[RECOG_KEYS_MAX][RECOG_KEY_MAX], err[RECOG_ERR_MAX];
	int n;

	if (recognition_rule_parse(json, strlen(json), &r, err, sizeof(err))) {
		printf("# %s\n", err);
		return -1;
	}
	recognition_rule_keys(&r, keys, &n);
	memset(&rec, 0, sizeof(rec));
	rec.institution_id = inst;
	rec.source_id = source_id;
	rec.status = r.status;
	rec.created_at = NOW;
	rec.created_by = owner_id;
	rec.body = (char *)json;
	return store_recog_rule_add(st, &rec, keys, n) == 0 ? rec.id : -1;
}

struct found {
	int64_t ids[64];
	int versions[64];
	int n;
};

static int
collect(const struct recog_rule_rec *r, void *arg)
{
	struct found *f = arg;

	if (f->n < 64) {
		f->ids[f->n] = r->id;
		f->versions[f->n++] = r->version;
	}
	return 0;
}

static struct found
candidates(int64_t inst, int64_t source, const char *code, const char *level, const char *field)
{
	char keys[RECOG_LOOKUP_KEYS][RECOG_KEY_MAX];
	struct found f;
	int n;

	memset(&f, 0, sizeof(f));
	recognition_lookup_keys(code, level, field, keys, &n);
	if (store_recog_candidates(st, inst, source, keys, n, collect, &f))
		f.n = -1;
	return f;
}

static void
test_dispatch(void)
{
	static const struct store_ops bare_ops = { .name = "bare" };
	struct store bare = { &bare_ops };
	struct recog_rule_rec r;
	char keys[1][RECOG_KEY_MAX] = { "c:X" };

	memset(&r, 0, sizeof(r));
	is_int(store_recog_rule_get(&bare, 1, 1, &r), TC_EUNSUPPORTED,
	       "backend without recognition ops: TC_EUNSUPPORTED");
	is_int(store_recog_rule_get(NULL, 1, 1, &r), TC_EINVALID, "NULL store");
	r.institution_id = inst_b;
	r.status = RECOG_ACTIVE;
	is_int(store_recog_rule_add(st, &r, keys, 1), TC_EINVALID, "no body");
	r.body = "{}";
	is_int(store_recog_rule_add(st, &r, keys, 0), TC_EINVALID, "no keys");
	is_int(store_recog_candidates(st, inst_b, 0, keys, 9, collect, NULL), TC_EINVALID,
	       "too many lookup keys");
	r.id = 1;
	r.version = 1;
	is_int(store_recog_rule_update(st, &r, keys, 1), TC_EINVALID, "update to version 1");
}

static void
test_rules(void)
{
	static const char v1[] = "{\"source\":\"UA\",\"match\":{\"course\":\"INT1001\"},"
		"\"target\":{\"course\":\"IT101\"},\"status\":\"proposed\"}";
	static const char v2[] = "{\"source\":\"UA\",\"match\":{\"courses\":[\"INT1002\","
		"\"INT1003\"]},\"target\":{\"course\":\"IT101\"},\"status\":\"active\"}";
	char keys[RECOG_KEYS_MAX][RECOG_KEY_MAX], err[RECOG_ERR_MAX];
	struct recog_rule rule;
	struct recog_rule_rec r, got;
	struct found f;
	int64_t id, s0 = -1, s1 = -1, s2 = -1, s3 = -1;
	int n;

	is_int(store_recog_rules_stamp(st, &s0), 0, "the rules' stamp");
	id = add_rule(inst_b, inst_a, v1);
	ok(id > 0, "a rule is stored");
	ok(store_recog_rules_stamp(st, &s1) == 0 && s1 > s0, "a rule added: the stamp moved");
	ok(store_recog_rule_get(st, inst_b, id, &got) == 0 && got.version == 1 &&
	   got.status == RECOG_PROPOSED && got.source_id == inst_a &&
	   strcmp(got.body, v1) == 0 && got.created_at == NOW, "read back as version 1");
	recog_rule_rec_cleanup(&got);
	is_int(store_recog_rule_get(st, inst_c, id, &got), TC_ENOTFOUND,
	       "not found at another institution");
	f = candidates(inst_b, inst_a, "INT1001", "", "");
	ok(f.n == 1 && f.ids[0] == id, "a candidate for INT1001 of A");

	/* version 2 changes the match: the keys follow */
	recognition_rule_parse(v2, strlen(v2), &rule, err, sizeof(err));
	recognition_rule_keys(&rule, keys, &n);
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.institution_id = inst_b;
	r.source_id = inst_a;
	r.version = 2;
	r.status = RECOG_ACTIVE;
	r.created_at = NOW + 60;
	r.created_by = owner_id;
	r.body = (char *)v2;
	is_int(store_recog_rule_update(st, &r, keys, n), 0, "version 2");
	ok(store_recog_rules_stamp(st, &s2) == 0 && s2 > s1, "a rule changed: the stamp moved");
	is_int(store_recog_rule_update(st, &r, keys, n), TC_ECONFLICT,
	       "version 2 again: conflict (a stale writer)");
	ok(store_recog_rules_stamp(st, &s3) == 0 && s3 == s2, "nothing changed: the same stamp");
	is_int(store_recog_rules_stamp(st, NULL), TC_EINVALID,
	       "no place for the stamp: TC_EINVALID");
	r.version = 4;
	is_int(store_recog_rule_update(st, &r, keys, n), TC_ECONFLICT, "a skipped version");
	r.version = 3;
	r.institution_id = inst_c;
	is_int(store_recog_rule_update(st, &r, keys, n), TC_ENOTFOUND,
	       "another institution's rule: not found");
	f = candidates(inst_b, inst_a, "INT1001", "", "");
	is_int(f.n, 0, "INT1001 no longer a candidate");
	f = candidates(inst_b, inst_a, "INT1003", "", "");
	ok(f.n == 1 && f.ids[0] == id && f.versions[0] == 2, "INT1003 is, at version 2");
	memset(&f, 0, sizeof(f));
	is_int(store_recog_rule_versions(st, inst_b, id, collect, &f), 0, "history");
	ok(f.n == 2 && f.versions[0] == 1 && f.versions[1] == 2, "both versions, oldest first");
	is_int(store_recog_rule_versions(st, inst_c, id, collect, &f), TC_ENOTFOUND,
	       "no history at another institution");
	is_int(query_int("SELECT count(*) FROM recognition_rule_versions WHERE rule_id = 1"
			 " AND version = 1 AND body LIKE '%INT1001%'"), 1,
	       "version 1 kept as it was");
	ok(exec_raw("UPDATE recognition_rule_versions SET body = '{}'") != SQLITE_OK &&
	   exec_raw("DELETE FROM recognition_rule_versions") != SQLITE_OK,
	   "versions are append-only");
	memset(&f, 0, sizeof(f));
	is_int(store_recog_rules_each(st, inst_b, collect, &f), 0, "rules of B");
	ok(f.n == 1 && f.versions[0] == 2, "one rule at its current version");
}

static void
test_candidates(void)
{
	int64_t any_field = add_rule(inst_b, 0, "{\"source\":\"*\",\"match\":{\"field\":\"06\"},"
				     "\"target\":{\"elective_credits\":2}}");
	int64_t a_level = add_rule(inst_b, inst_a, "{\"source\":\"UA\",\"match\":{\"level\":"
				   "\"ug-1\",\"field\":\"0613\"},\"target\":{\"elective_credits\":3}}");
	int64_t c_code = add_rule(inst_b, inst_c, "{\"source\":\"UC\",\"match\":{\"course\":"
				  "\"INT1001\"},\"target\":{\"course\":\"X\"}}");
	int64_t other = add_rule(inst_c, inst_a, "{\"source\":\"UA\",\"match\":{\"course\":"
				 "\"INT1001\"},\"target\":{\"course\":\"X\"}}");
	struct found f;

	ok(any_field > 0 && a_level > 0 && c_code > 0 && other > 0, "four more rules");
	f = candidates(inst_b, inst_a, "INT1001", "ug-1", "0613");
	ok(f.n == 2 && f.ids[0] == any_field && f.ids[1] == a_level,
	   "A's INT1001 at ug-1 in 0613: the any-source field rule and A's level rule");
	f = candidates(inst_b, inst_c, "INT1001", "", "0713");
	ok(f.n == 1 && f.ids[0] == c_code, "C's INT1001 in 0713: C's code rule only");
	f = candidates(inst_b, inst_a, "INT1001", "ug-2", "0611");
	ok(f.n == 1 && f.ids[0] == any_field, "another level: only the field rule");
	f = candidates(inst_c, inst_a, "INT1001", "", "");
	ok(f.n == 1 && f.ids[0] == other, "institution C's own rules only");

	/* a few thousand more rules of other sources change nothing */
	for (int i = 0; i < 2000; i++) {
		char json[200];

		snprintf(json, sizeof(json), "{\"source\":\"UC\",\"match\":{\"course\":\"K%d\"},"
			 "\"target\":{\"elective_credits\":1}}", i);
		if (add_rule(inst_b, inst_c, json) < 0)
			break;
	}
	f = candidates(inst_b, inst_a, "INT1001", "ug-1", "0613");
	is_int(f.n, 2, "the same two among 2,000 other rules");
	f = candidates(inst_b, inst_c, "K1234", "", "");
	ok(f.n == 1, "and C's K1234 finds its one rule");

	/* the plan: index searches only */
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *q = NULL;
		int scans = 0, rows = 0;

		sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL);
		if (sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT r.id FROM recognition_rules r"
				       " WHERE r.id IN (SELECT rule_id FROM recognition_rule_keys"
				       " WHERE institution_id = ?1 AND source_id IN (?2, 0)"
				       " AND key IN (?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)) ORDER BY r.id",
				       -1, &q, NULL) == SQLITE_OK)
			while (sqlite3_step(q) == SQLITE_ROW) {
				const char *d = (const char *)sqlite3_column_text(q, 3);

				rows++;
				if (d && strncmp(d, "SCAN", 4) == 0) {
					scans++;
					printf("# %s\n", d);
				}
			}
		sqlite3_finalize(q);
		sqlite3_close(db);
		ok(rows > 0 && scans == 0, "the candidate query searches indexes, never scans");
	}
}

static void
test_atomic(void)
{
	long long rules = query_int("SELECT count(*) FROM recognition_rules");
	long long keys = query_int("SELECT count(*) FROM recognition_rule_keys");

	ok(add_rule(99999, 0, "{\"source\":\"*\",\"match\":{\"course\":\"Z\"},"
		    "\"target\":{\"elective_credits\":1}}") < 0, "a rule of no institution: refused");
	ok(query_int("SELECT count(*) FROM recognition_rules") == rules &&
	   query_int("SELECT count(*) FROM recognition_rule_keys") == keys,
	   "and nothing of it is left");
	/* a failing key insert rolls the version back too */
	ok(exec_raw("CREATE TRIGGER no_keys BEFORE INSERT ON recognition_rule_keys"
		    " BEGIN SELECT RAISE(ABORT, 'no'); END") == SQLITE_OK, "make key inserts fail");
	ok(add_rule(inst_b, 0, "{\"source\":\"*\",\"match\":{\"course\":\"Z\"},"
		    "\"target\":{\"elective_credits\":1}}") < 0, "the add fails");
	ok(query_int("SELECT count(*) FROM recognition_rules") == rules &&
	   query_int("SELECT count(*) FROM recognition_rule_versions WHERE body LIKE '%\"Z\"%'") == 0,
	   "no rule and no version left behind");
	exec_raw("DROP TRIGGER no_keys");
}

static void
test_registry(void)
{
	struct inst_key k, got;
	char field[RECOG_FIELD_MAX + 1], level[RECOG_LEVEL_MAX + 1];

	memset(&k, 0, sizeof(k));
	k.institution_id = inst_a;
	snprintf(k.file, sizeof(k.file), "%s", "a-1");
	memset(k.pub, 7, sizeof(k.pub));
	snprintf(k.did, sizeof(k.did), "%s", "did:key:z6MkOLDKEY");
	k.valid_from = NOW;
	is_int(store_key_add(st, &k), 0, "A's first key");
	snprintf(k.file, sizeof(k.file), "%s", "a-2");
	snprintf(k.did, sizeof(k.did), "%s", "did:key:z6MkNEWKEY");
	k.valid_from = NOW + 100;
	is_int(store_key_add(st, &k), 0, "rotated");
	ok(store_registry_key_by_did(st, "did:key:z6MkOLDKEY", &got) == 0 &&
	   got.institution_id == inst_a && got.valid_from == NOW && got.valid_until == NOW + 101 &&
	   got.pub[0] == 7, "the old key by its DID, with its end");
	ok(store_registry_key_by_did(st, "did:key:z6MkNEWKEY", &got) == 0 && got.valid_until == 0,
	   "the current one");
	is_int(store_registry_key_by_did(st, "did:key:z6MkNONE", &got), TC_ENOTFOUND,
	       "an unknown DID");

	ok(store_course_level_field(st, course_id, level, field) == 0 && field[0] == '\0' &&
	   strcmp(level, "ug-1") == 0, "a course has its level and no field at first");
	ok(store_course_field_set(st, course_id, "0613") == 0 &&
	   store_course_level_field(st, course_id, level, field) == 0 &&
	   strcmp(field, "0613") == 0, "set and read back");
	is_int(store_course_level_field(st, 424242, level, field), TC_ENOTFOUND,
	       "the level and field of an unknown course");
	is_int(store_course_field_set(st, 424242, "06"), TC_ENOTFOUND, "an unknown course");
	is_int(store_course_field_set(st, course_id, "06131"), TC_EINVALID, "too long");
}

struct props {
	int64_t ids[8];
	int decided[8];
	int n;
};

static int
collect_prop(const struct recog_rule_rec *r, const struct recog_mutual *m, void *arg)
{
	struct props *p = arg;

	if (p->n < 8) {
		p->ids[p->n] = r->id;
		p->decided[p->n++] = m != NULL;
	}
	return 0;
}

/* mutual proposals: who sees which, decisions recorded and replaced */
static void
test_mutual(void)
{
	const char *mut = "{\"source\":\"UA\",\"match\":{\"course\":\"M1\"},\"target\":"
			  "{\"course\":\"T1\"},\"mutual\":true}";
	int64_t r1 = add_rule(inst_b, inst_a, mut);
	int64_t plain = add_rule(inst_b, inst_a, "{\"source\":\"UA\",\"match\":{\"course\":"
				 "\"M2\"},\"target\":{\"course\":\"T2\"}}");
	int64_t r3 = add_rule(inst_c, inst_a, mut);
	int64_t to_c = add_rule(inst_b, inst_c, "{\"source\":\"UC\",\"match\":{\"course\":"
				"\"M1\"},\"target\":{\"course\":\"T1\"},\"mutual\":true}");
	struct props p = { { 0 }, { 0 }, 0 };
	struct recog_rule_rec r;
	struct recog_mutual m = { 0 }, got;
	int decided = -1;

	ok(r1 > 0 && plain > 0 && r3 > 0 && to_c > 0, "rules stored");
	ok(store_recog_proposals_each(st, inst_a, collect_prop, &p) == 0 && p.n == 2 &&
	   p.ids[0] == r1 && p.ids[1] == r3 && !p.decided[0] && !p.decided[1],
	   "the partner sees the mutual rules naming it (not a plain one, not another's)");
	m.rule_id = r1;
	m.partner_id = inst_a;
	m.rule_version = 1;
	m.decided_at = NOW;
	is_int(store_recog_mutual_record(st, &m), 0, "a decline is recorded");
	ok(store_recog_proposal_get(st, inst_a, r1, &r, &got, &decided) == 0 && decided == 1 &&
	   !got.accepted && got.rule_version == 1 && r.id == r1 && strstr(r.body, "\"M1\""),
	   "read back with its rule");
	recog_rule_rec_cleanup(&r);
	m.accepted = 1;
	is_int(store_recog_mutual_record(st, &m), TC_EINVALID, "an accept names its reverse rule");
	m.reverse_rule_id = plain;
	is_int(store_recog_mutual_record(st, &m), 0, "an accept replaces the decline");
	ok(store_recog_proposal_get(st, inst_a, r1, &r, &got, &decided) == 0 && decided == 1 &&
	   got.accepted && got.reverse_rule_id == plain, "accepted, with its reverse");
	recog_rule_rec_cleanup(&r);
	ok(store_recog_proposal_get(st, inst_a, r3, &r, &got, &decided) == 0 && decided == 0,
	   "another proposal is still undecided");
	recog_rule_rec_cleanup(&r);
	is_int(store_recog_proposal_get(st, inst_a, plain, &r, &got, &decided), TC_ENOTFOUND,
	       "a plain rule is no proposal");
	is_int(store_recog_proposal_get(st, inst_c, r1, &r, &got, &decided), TC_ENOTFOUND,
	       "nor is another partner's");
}

int
main(void)
{

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "recognition") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(dbpath, sizeof(dbpath), "%s/tinchi.db", data);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 || setup() != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_dispatch();
	test_rules();
	test_candidates();
	test_atomic();
	test_registry();
	test_mutual();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
