/*
 * recognition_test.c - tests for server/recognition.c: a stored
 * credential's recognition at another institution, end to end over a real
 * store (registry keys with a rotation, a source course with level and
 * field, rules in storage): recognised under the most specific rule with
 * its version, a key used after its rotation, an unregistered DID, a DID
 * of another institution, a revoked credential, a grade below the
 * minimum falling back to a field rule, an expired rule version.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "courses/recognition.h"
#include "server/recognition.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/recognition.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

/* 2026-06-01T00:00:00Z */
#define ROTATED ((int64_t)20605 * 86400)
#define NOW (ROTATED + 86400)

static char tmp[512];
static char data[560];
static struct store *st;
static int64_t inst_a, inst_b, course_a;

static int64_t
add_inst(const char *code, const char *old_did, const char *new_did)
{
	struct institution inst;
	struct inst_key k;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "%s", code);
	snprintf(inst.name, sizeof(inst.name), "Institution %s", code);
	inst.kind = INST_UNIVERSITY;
	if (store_institution_add(st, &inst))
		return -1;
	memset(&k, 0, sizeof(k));
	k.institution_id = inst.id;
	snprintf(k.file, sizeof(k.file), "%s-1", code);
	snprintf(k.did, sizeof(k.did), "%s", old_did);
	k.valid_from = ROTATED - 365 * 86400;
	if (store_key_add(st, &k))
		return -1;
	if (new_did) {
		snprintf(k.file, sizeof(k.file), "%s-2", code);
		snprintf(k.did, sizeof(k.did), "%s", new_did);
		k.valid_from = ROTATED;
		if (store_key_add(st, &k))
			return -1;
	}
	return inst.id;
}

static int64_t
add_course(int64_t inst, const char *code, const char *level, int64_t owner)
{
	struct course *c = calloc(1, sizeof(*c));
	int64_t id = -1;

	if (!c)
		return -1;
	snprintf(c->uid, sizeof(c->uid), "0000000c-0000-4000-8000-%012lld", (long long)inst);
	c->institution_id = inst;
	snprintf(c->code, sizeof(c->code), "%s", code);
	snprintf(c->title, sizeof(c->title), "%s", "Lập trình C");
	snprintf(c->language, sizeof(c->language), "%s", "vi");
	snprintf(c->level, sizeof(c->level), "%s", level);
	c->credits_x10 = 30;
	c->status = COURSE_PUBLISHED;
	c->owner_id = owner;
	c->created_at = c->updated_at = NOW;
	if (store_course_add(st, c, "x") == 0)
		id = c->id;
	free(c);
	return id;
}

static int
setup(void)
{
	struct person p;

	inst_a = add_inst("UA", "did:key:z6MkAOLD", "did:key:z6MkANEW");
	inst_b = add_inst("UB", "did:key:z6MkBKEY", NULL);
	memset(&p, 0, sizeof(p));
	snprintf(p.uid, sizeof(p.uid), "%s", "0000000a-0000-4000-8000-000000000001");
	snprintf(p.national_id, sizeof(p.national_id), "%s", "000000000001");
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", 1);
	snprintf(p.full_name, sizeof(p.full_name), "%s", "Giảng Viên");
	if (inst_a < 0 || inst_b < 0 || store_person_upsert(st, &p, NOW, NULL))
		return -1;
	course_a = add_course(inst_a, "INT1001", "undergraduate-1", p.id);
	if (course_a < 0 || add_course(inst_b, "IT101", "undergraduate-1", p.id) < 0)
		return -1;
	return store_course_field_set(st, course_a, "0613");
}

/* Stores rule JSON at B (version 1); its id. */
static int64_t
add_rule(int64_t source_id, const char *json)
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
	rec.institution_id = inst_b;
	rec.source_id = source_id;
	rec.status = r.status;
	rec.created_at = ROTATED - 86400;
	rec.body = (char *)json;
	return store_recog_rule_add(st, &rec, keys, n) == 0 ? rec.id : -1;
}

/* A credential of course_a issued by DID at time T with GRADE. */
static struct credential_rec
cred(const char *did, const char *when, const char *grade, char *buf, size_t size)
{
	struct credential_rec c;

	snprintf(buf, size, "{\"issuer\":{\"id\":\"%s\"},\"validFrom\":\"%s\","
		 "\"credentialSubject\":{\"achievement\":{\"humanCode\":\"INT1001\","
		 "\"creditsAvailable\":3.0},\"creditsEarned\":3.0,\"result\":[{\"value\":\"%s\"}]},"
		 "\"proof\":{\"created\":\"%s\"}}", did, when, grade, when);
	memset(&c, 0, sizeof(c));
	c.institution_id = inst_a;
	c.course_id = course_a;
	c.json = buf;
	return c;
}

static void
test_evaluate(void)
{
	char buf[1024];
	struct credential_rec c;
	struct recog_eval e;
	int64_t code_rule, field_rule;

	code_rule = add_rule(inst_a, "{\"source\":\"UA\",\"match\":{\"course\":\"INT1001\"},"
			     "\"target\":{\"course\":\"IT101\",\"title\":\"Nhập môn\",\"credits\":4},"
			     "\"min_grade\":7,\"status\":\"active\"}");
	field_rule = add_rule(0, "{\"source\":\"*\",\"match\":{\"field\":\"06\"},"
			      "\"target\":{\"elective_credits\":2},\"status\":\"active\"}");
	ok(code_rule > 0 && field_rule > 0, "two rules at B");

	c = cred("did:key:z6MkANEW", "2026-06-01T08:00:00Z", "8.5", buf, sizeof(buf));
	ok(recognition_evaluate(st, inst_b, &c, 1, NOW, &e) == 0, "evaluated");
	ok(e.decision.reason == RECOG_RECOGNISED && e.decision.rule &&
	   e.decision.rule->id == code_rule && e.decision.rule->version == 1 &&
	   e.decision.credits_x10 == 40 && e.nrules == 2,
	   "recognised as IT101 (4 credits) under the code rule, version 1");
	ok(e.facts.issuer_id == inst_a && e.facts.key_valid && strcmp(e.facts.field, "0613") == 0 &&
	   strcmp(e.facts.level, "undergraduate-1") == 0, "facts from the registry and the course");
	recog_eval_cleanup(&e);

	c = cred("did:key:z6MkANEW", "2026-06-01T08:00:00Z", "6", buf, sizeof(buf));
	ok(recognition_evaluate(st, inst_b, &c, 1, NOW, &e) == 0 &&
	   e.decision.reason == RECOG_RECOGNISED && e.decision.rule &&
	   e.decision.rule->id == field_rule && e.decision.credits_x10 == 20,
	   "grade below the code rule's minimum: elective credits under the field rule");
	recog_eval_cleanup(&e);

	c = cred("did:key:z6MkAOLD", "2026-06-01T08:00:00Z", "8.5", buf, sizeof(buf));
	ok(recognition_evaluate(st, inst_b, &c, 1, NOW, &e) == 0 &&
	   e.decision.reason == RECOG_KEY_NOT_VALID, "the old key used after its rotation");
	recog_eval_cleanup(&e);
	c = cred("did:key:z6MkAOLD", "2026-05-31T23:59:59Z", "8.5", buf, sizeof(buf));
	ok(recognition_evaluate(st, inst_b, &c, 1, NOW, &e) == 0 &&
	   e.decision.reason == RECOG_RECOGNISED, "the old key the second before its rotation");
	recog_eval_cleanup(&e);
	c = cred("did:key:z6MkNOBODY", "2026-06-01T08:00:00Z", "8.5", buf, sizeof(buf));
	ok(recognition_evaluate(st, inst_b, &c, 1, NOW, &e) == 0 &&
	   e.decision.reason == RECOG_UNREGISTERED_ISSUER && e.nrules == 0,
	   "a DID not in the registry: unregistered issuer");
	recog_eval_cleanup(&e);
	c = cred("did:key:z6MkBKEY", "2026-06-01T08:00:00Z", "8.5", buf, sizeof(buf));
	ok(recognition_evaluate(st, inst_b, &c, 1, NOW, &e) == 0 &&
	   e.decision.reason == RECOG_UNREGISTERED_ISSUER,
	   "a key of another institution than the issuer on record: not registered as the issuer");
	recog_eval_cleanup(&e);
	c = cred("did:key:z6MkANEW", "2026-06-01T08:00:00Z", "8.5", buf, sizeof(buf));
	c.revoked_at = NOW - 10;
	ok(recognition_evaluate(st, inst_b, &c, 1, NOW, &e) == 0 &&
	   e.decision.reason == RECOG_REVOKED, "a revoked credential");
	recog_eval_cleanup(&e);
	c.revoked_at = 0;
	ok(recognition_evaluate(st, inst_b, &c, 0, NOW, &e) == 0 &&
	   e.decision.reason == RECOG_NOT_VERIFIED, "an unverified one");
	recog_eval_cleanup(&e);
	ok(recognition_evaluate(st, inst_a, &c, 1, NOW, &e) == 0 &&
	   e.decision.reason == RECOG_NO_RULE, "at an institution without rules: no rule");
	recog_eval_cleanup(&e);

	/* a row read with its shared fields, without its text (the query's
	 * hot path): the same facts and decision as the text */
	{
		struct credential_rec r;
		struct recog_eval t;

		memset(&r, 0, sizeof(r));
		r.institution_id = inst_a;
		r.course_id = course_a;
		r.shared = "{\"alignment\":[],\"code\":\"INT1001\",\"credits\":3}";
		snprintf(r.issuer_did, sizeof(r.issuer_did), "did:key:z6MkANEW");
		r.issued_at = ROTATED + 8 * 3600;
		r.credits_earned = 3;
		snprintf(r.grade, sizeof(r.grade), "8.5");
		c = cred("did:key:z6MkANEW", "2026-06-01T08:00:00Z", "8.5", buf, sizeof(buf));
		ok(recognition_evaluate(st, inst_b, &r, 1, NOW, &e) == 0 &&
		   recognition_evaluate(st, inst_b, &c, 1, NOW, &t) == 0 &&
		   memcmp(&e.facts, &t.facts, sizeof(e.facts)) == 0 && strcmp(e.did, t.did) == 0 &&
		   e.signed_at == t.signed_at && e.decision.reason == RECOG_RECOGNISED &&
		   e.decision.rule && t.decision.rule && e.decision.rule->id == t.decision.rule->id &&
		   e.decision.credits_x10 == t.decision.credits_x10,
		   "a row without its text: the same facts and decision as its text");
		recog_eval_cleanup(&e);
		recog_eval_cleanup(&t);
		r.grade[0] = '\0';
		ok(recognition_evaluate(st, inst_b, &r, 1, NOW, &e) == 0 && e.facts.grade_x100 == -1,
		   "a row without a grade: no grade");
		recog_eval_cleanup(&e);
		r.shared = "{\"credits\":3}";
		is_int(recognition_evaluate(st, inst_b, &r, 1, NOW, &e), TC_EINVALID,
		       "a row whose shared part has no code");
		recog_eval_cleanup(&e);
	}

	/* both rules expire as version 2: the decision says so, naming it */
	{
		static const char *const bodies[2] = {
			"{\"source\":\"UA\",\"match\":{\"course\":\"INT1001\"},\"target\":"
			"{\"course\":\"IT101\",\"title\":\"Nhập môn\",\"credits\":4},"
			"\"min_grade\":7,\"status\":\"expired\"}",
			"{\"source\":\"*\",\"match\":{\"field\":\"06\"},"
			"\"target\":{\"elective_credits\":2},\"status\":\"expired\"}",
		};
		int64_t ids[2] = { code_rule, field_rule }, src[2] = { inst_a, 0 };
		int okay = 1;

		for (int i = 0; i < 2; i++) {
			struct recog_rule r;
			struct recog_rule_rec rec;
			char keys[RECOG_KEYS_MAX][RECOG_KEY_MAX], err[RECOG_ERR_MAX];
			int n;

			recognition_rule_parse(bodies[i], strlen(bodies[i]), &r, err, sizeof(err));
			recognition_rule_keys(&r, keys, &n);
			memset(&rec, 0, sizeof(rec));
			rec.id = ids[i];
			rec.institution_id = inst_b;
			rec.source_id = src[i];
			rec.version = 2;
			rec.status = RECOG_EXPIRED;
			rec.created_at = NOW - 60;
			rec.body = (char *)bodies[i];
			okay &= store_recog_rule_update(st, &rec, keys, n) == 0;
		}
		ok(okay, "both rules expired as version 2");
	}
	c = cred("did:key:z6MkANEW", "2026-06-01T08:00:00Z", "8.5", buf, sizeof(buf));
	ok(recognition_evaluate(st, inst_b, &c, 1, NOW, &e) == 0 &&
	   e.decision.reason == RECOG_RULE_EXPIRED && e.decision.rule &&
	   e.decision.rule->id == code_rule && e.decision.rule->version == 2,
	   "rule expired, naming the code rule's version 2");
	recog_eval_cleanup(&e);
	snprintf(buf, sizeof(buf), "%s", "{\"nothing\":1}");
	is_int(recognition_evaluate(st, inst_b, &c, 1, NOW, &e), TC_EINVALID,
	       "a JSON that is no credential");
	recog_eval_cleanup(&e);
}

int
main(void)
{

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "recog") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 || setup() != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_evaluate();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
