/*
 * recognition_test.c - tests for courses/recognition.c: rule parsing and
 * every refusal naming its path, the JSON round trip, index keys, the trust
 * list key check (rotation), and the decision: overlapping matches (most
 * specific wins, deterministic ties), expired and proposed agreements,
 * revoked credentials, unregistered issuers, grade below the minimum, grade
 * conversion, issue windows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/recognition.h"
#include "tests/tap.h"

#define DAY 86400
/* 2026-06-01T00:00:00Z */
#define JUNE1 ((int64_t)20605 * DAY)

static char err[RECOG_ERR_MAX];

static int
parse(const char *json, struct recog_rule *r)
{
	err[0] = '\0';
	return recognition_rule_parse(json, strlen(json), r, err, sizeof(err));
}

static void
refused(const char *json, const char *path, const char *name)
{
	struct recog_rule r;
	int rc = parse(json, &r);

	if (!ok(rc == TC_EINVALID && strncmp(err, path, strlen(path)) == 0 &&
		err[strlen(path)] == ':', name))
		printf("#   rc %d, error: %s\n", rc, err);
}

/* A rule from JSON, given id, source id, version time; fails the test
 * when it does not parse. */
static struct recog_rule
rule(int64_t id, int64_t source_id, int64_t created_at, const char *json)
{
	struct recog_rule r;

	if (parse(json, &r)) {
		printf("# rule %lld does not parse: %s\n", (long long)id, err);
		memset(&r, 0, sizeof(r));
	}
	r.id = id;
	r.version = 1;
	r.source_id = source_id;
	r.created_at = created_at;
	if (r.target == RECOG_TARGET_COURSE && !r.credits_x10)
		r.credits_x10 = 30;
	return r;
}

static struct recog_facts
facts(const char *code, const char *level, const char *field, int grade_x100)
{
	struct recog_facts f;

	memset(&f, 0, sizeof(f));
	f.verified = 1;
	f.issuer_id = 7;
	f.key_valid = 1;
	snprintf(f.course_code, sizeof(f.course_code), "%s", code);
	snprintf(f.level, sizeof(f.level), "%s", level);
	snprintf(f.field, sizeof(f.field), "%s", field);
	f.credits_x10 = 30;
	f.grade_x100 = grade_x100;
	f.issued_at = JUNE1 - 30 * DAY;
	return f;
}

static void
test_checks(void)
{
	int g;
	int64_t d;

	ok(recognition_field_check("06") == 0 && recognition_field_check("061") == 0 &&
	   recognition_field_check("0613") == 0 && recognition_field_check("99") == 0 &&
	   recognition_field_check("10") == 0, "ISCED-F codes of 2, 3, 4 digits");
	ok(recognition_field_check("11") && recognition_field_check("6") &&
	   recognition_field_check("06131") && recognition_field_check("06a") &&
	   recognition_field_check("") && recognition_field_check(NULL), "bad fields refused");
	ok(recognition_grade_parse("8.5", &g) == 0 && g == 850, "grade 8.5");
	ok(recognition_grade_parse("7.25", &g) == 0 && g == 725, "grade 7.25");
	ok(recognition_grade_parse("10", &g) == 0 && g == 1000, "grade 10");
	ok(recognition_grade_parse("10.01", &g) && recognition_grade_parse("8.", &g) &&
	   recognition_grade_parse("8.123", &g) && recognition_grade_parse("-1", &g) &&
	   recognition_grade_parse("", &g) && recognition_grade_parse("1000", &g),
	   "bad grades refused");
	ok(recognition_date_days("1970-01-01", &d) == 0 && d == 0, "epoch day 0");
	ok(recognition_date_days("2026-06-01", &d) == 0 && d == JUNE1 / DAY, "2026-06-01");
	ok(recognition_date_days("2024-02-29", &d) == 0 && recognition_date_days("2023-02-29", &d),
	   "leap days");
	is_str(recognition_reason_name(RECOG_GRADE_BELOW_MINIMUM), "grade below minimum",
	       "reason names");
}

static void
test_parse(void)
{
	struct recog_rule r, back;
	char *json = NULL;

	ok(parse("{\"source\":\"VNU\",\"match\":{\"course\":\"INT1001\"},"
		 "\"target\":{\"course\":\"IT101\"},\"min_grade\":5.5,\"status\":\"active\"}",
		 &r) == 0, "a single-code rule parses");
	ok(r.match == RECOG_MATCH_CODE && r.ncodes == 1 && strcmp(r.codes[0], "INT1001") == 0 &&
	   r.target == RECOG_TARGET_COURSE && r.min_grade_x100 == 550 &&
	   r.status == RECOG_ACTIVE && !r.mutual, "its fields");
	ok(parse("{\"source\":\"*\",\"match\":{\"level\":\"undergraduate-1\",\"field\":\"061\"},"
		 "\"target\":{\"elective_credits\":2.5,\"field\":\"06\"},"
		 "\"grade_conversion\":{\"scale\":\"4-point\",\"bands\":[{\"min\":8.5,\"grade\":\"A\"},"
		 "{\"min\":7,\"grade\":\"B\"},{\"min\":5.5,\"grade\":\"C\"},{\"min\":4,\"grade\":\"D\"}],"
		 "\"min\":\"C\"},\"issued_from\":\"2024-01-01\",\"issued_until\":\"2026-12-31\","
		 "\"mutual\":true,\"expires_on\":\"2027-01-01\"}", &r) == 0,
	   "a level/field rule with a conversion parses");
	ok(r.match == RECOG_MATCH_LEVEL_FIELD && r.credits_x10 == 25 && r.nbands == 4 &&
	   r.bands[1].min_x100 == 700 && strcmp(r.min_converted, "C") == 0 &&
	   r.status == RECOG_PROPOSED && r.mutual && r.min_grade_x100 == -1,
	   "its fields (status defaults to proposed)");
	ok(recognition_rule_json(&r, &json) == 0 && json, "written back as JSON");
	ok(json && parse(json, &back) == 0 && memcmp(&r, &back, sizeof(r)) == 0,
	   "and read back the same");
	free(json);
	json = NULL;
	ok(parse("{\"source\":\"HUST\",\"match\":{\"courses\":[\"A1\",\"B2\",\"C3\"]},"
		 "\"target\":{\"course\":\"X\",\"title\":\"Lập trình C\",\"credits\":3}}", &r) == 0 &&
	   r.ncodes == 3 && r.credits_x10 == 30, "a set rule with the course's title and credits");
	ok(recognition_rule_json(&r, &json) == 0 && parse(json, &back) == 0 &&
	   memcmp(&r, &back, sizeof(r)) == 0, "set rule round trip");
	free(json);

	refused("[]", "(body)", "not an object");
	refused("{", "(body)", "not JSON");
	refused("{\"source\":\"VNU\",\"source\":\"VNU\"}", "(body)", "duplicate member");
	refused("{\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"}}", "source",
		"source required");
	refused("{\"source\":\"vnu!\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"}}",
		"source", "bad source");
	refused("{\"source\":\"VNU\",\"target\":{\"course\":\"B\"}}", "match", "match required");
	refused("{\"source\":\"VNU\",\"match\":{},\"target\":{\"course\":\"B\"}}", "match",
		"empty match");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\",\"level\":\"x\"},"
		"\"target\":{\"course\":\"B\"}}", "match", "course with level");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A B\"},\"target\":{\"course\":\"B\"}}",
		"match.course", "bad course code");
	refused("{\"source\":\"VNU\",\"match\":{\"courses\":[\"A\"]},\"target\":{\"course\":\"B\"}}",
		"match.courses", "a set of one");
	refused("{\"source\":\"VNU\",\"match\":{\"courses\":[\"A\",\"B\",7]},"
		"\"target\":{\"course\":\"B\"}}", "match.courses[2]", "a number in the set");
	refused("{\"source\":\"VNU\",\"match\":{\"courses\":[\"A\",\"B\",\"A\"]},"
		"\"target\":{\"course\":\"B\"}}", "match.courses[2]", "a code twice");
	refused("{\"source\":\"VNU\",\"match\":{\"field\":\"0699x\"},\"target\":{\"course\":\"B\"}}",
		"match.field", "bad field");
	refused("{\"source\":\"VNU\",\"match\":{\"level\":\"Upper\"},\"target\":{\"course\":\"B\"}}",
		"match.level", "bad level");
	refused("{\"source\":\"VNU\",\"match\":{\"color\":\"red\"},\"target\":{\"course\":\"B\"}}",
		"match.color", "unknown match member");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"}}", "target", "target required");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\","
		"\"elective_credits\":3}}", "target", "course and electives");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"elective_credits\":0}}",
		"target.elective_credits", "zero electives");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"elective_credits\":1.25}}",
		"target.elective_credits", "two decimals of credits");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"elective_credits\":3,"
		"\"field\":\"7\"}}", "target.field", "bad target field");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"min_grade\":10.5}", "min_grade", "grade over 10");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"min_grade\":\"5\"}", "min_grade", "grade as text");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"min_grade\":null}", "min_grade", "null member");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"grade_conversion\":{\"scale\":\"4\",\"bands\":[{\"min\":5,\"grade\":\"P\"},"
		"{\"min\":6,\"grade\":\"Q\"}]}}", "grade_conversion.bands[1].min", "bands not descending");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"grade_conversion\":{\"scale\":\"4\",\"bands\":[{\"min\":5,\"grade\":\"P\"}],"
		"\"min\":\"A\"}}", "grade_conversion.min", "minimum not a band");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"grade_conversion\":{\"bands\":[{\"min\":5,\"grade\":\"P\"}]}}",
		"grade_conversion.scale", "scale required");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"min_grade\":5,\"grade_conversion\":{\"scale\":\"4\",\"bands\":[{\"min\":5,"
		"\"grade\":\"P\"}],\"min\":\"P\"}}", "min_grade", "two minimums");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"issued_from\":\"2024-02-30\"}", "issued_from", "impossible date");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"issued_from\":\"2025-01-01\",\"issued_until\":\"2024-01-01\"}", "issued_until",
		"window backwards");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"status\":\"signed\"}", "status", "bad status");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"mutual\":1}", "mutual", "mutual not boolean");
	refused("{\"source\":\"VNU\",\"match\":{\"course\":\"A\"},\"target\":{\"course\":\"B\"},"
		"\"extra\":1}", "extra", "unknown member");
}

static int
has_key(char keys[][RECOG_KEY_MAX], int n, const char *k)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], k) == 0)
			return 1;
	return 0;
}

static void
test_keys(void)
{
	char rk[RECOG_KEYS_MAX][RECOG_KEY_MAX], lk[RECOG_LOOKUP_KEYS][RECOG_KEY_MAX];
	int nr, nl;
	struct recog_rule rules[5];
	const char *const js[5] = {
		"{\"source\":\"*\",\"match\":{\"level\":\"ug\"},\"target\":{\"elective_credits\":1}}",
		"{\"source\":\"*\",\"match\":{\"field\":\"06\"},\"target\":{\"elective_credits\":1}}",
		"{\"source\":\"*\",\"match\":{\"level\":\"ug\",\"field\":\"0613\"},"
		"\"target\":{\"elective_credits\":1}}",
		"{\"source\":\"*\",\"match\":{\"courses\":[\"X\",\"C1\"]},"
		"\"target\":{\"elective_credits\":1}}",
		"{\"source\":\"*\",\"match\":{\"level\":\"ug\",\"field\":\"061\"},"
		"\"target\":{\"elective_credits\":1}}",
	};

	recognition_lookup_keys("C1", "ug", "0613", lk, &nl);
	ok(nl <= RECOG_LOOKUP_KEYS && has_key(lk, nl, "c:C1") && has_key(lk, nl, "lf:ug:") &&
	   has_key(lk, nl, "lf:ug:0613") && has_key(lk, nl, "lf::06") && !has_key(lk, nl, "lf::"),
	   "lookup keys of a credential");
	is_int(nl, 8, "eight lookup keys at most");
	for (int i = 0; i < 5; i++) {
		int found = 0;

		rules[i] = rule(i + 1, 0, 0, js[i]);
		recognition_rule_keys(&rules[i], rk, &nr);
		for (int k = 0; k < nr; k++)
			found |= has_key(lk, nl, rk[k]);
		ok(found, "every rule that matches is found by a lookup key");
	}
	recognition_lookup_keys("C1", "", "", lk, &nl);
	is_int(nl, 1, "no level or field: the code alone");
}

static void
test_decide(void)
{
	struct recog_rule r[8];
	struct recog_facts f = facts("INT1001", "undergraduate-1", "0613", 800);
	struct recog_decision d;
	int n = 0;

	/* overlapping: any source by field, VNU by level+field, VNU set, VNU code */
	r[n++] = rule(10, 0, 100, "{\"source\":\"*\",\"match\":{\"field\":\"06\"},"
		      "\"target\":{\"elective_credits\":2},\"status\":\"active\"}");
	r[n++] = rule(11, 7, 100, "{\"source\":\"VNU\",\"match\":{\"level\":\"undergraduate-1\","
		      "\"field\":\"0613\"},\"target\":{\"elective_credits\":3,\"field\":\"06\"},"
		      "\"status\":\"active\"}");
	r[n++] = rule(12, 7, 100, "{\"source\":\"VNU\",\"match\":{\"courses\":[\"INT1001\","
		      "\"INT1002\"]},\"target\":{\"course\":\"SET1\"},\"status\":\"active\"}");
	r[n++] = rule(13, 7, 100, "{\"source\":\"VNU\",\"match\":{\"course\":\"INT1001\"},"
		      "\"target\":{\"course\":\"IT101\",\"credits\":4},\"min_grade\":5,"
		      "\"status\":\"active\"}");
	ok(recognition_decide(&f, r, (size_t)n, JUNE1, &d) == 0 && d.reason == RECOG_RECOGNISED &&
	   d.rule && d.rule->id == 13 && d.credits_x10 == 40, "the single code wins");
	ok(recognition_decide(&f, r, 3, JUNE1, &d) == 0 && d.rule && d.rule->id == 12,
	   "then the set");
	ok(recognition_decide(&f, r, 2, JUNE1, &d) == 0 && d.rule && d.rule->id == 11 &&
	   d.credits_x10 == 30, "then level and field");
	ok(recognition_decide(&f, r, 1, JUNE1, &d) == 0 && d.rule && d.rule->id == 10 &&
	   d.credits_x10 == 20, "then any source by field");
	/* the order of the candidates does not matter */
	{
		struct recog_rule rev[4] = { r[3], r[2], r[1], r[0] };

		ok(recognition_decide(&f, rev, 4, JUNE1, &d) == 0 && d.rule && d.rule->id == 13,
		   "candidate order does not change the winner");
	}
	/* the code rule refuses a low grade: the next specific rule recognises */
	f.grade_x100 = 450;
	ok(recognition_decide(&f, r, (size_t)n, JUNE1, &d) == 0 && d.reason == RECOG_RECOGNISED &&
	   d.rule && d.rule->id == 12, "a refusing specific rule lets the next one decide");
	ok(recognition_decide(&f, &r[3], 1, JUNE1, &d) == 0 &&
	   d.reason == RECOG_GRADE_BELOW_MINIMUM && d.rule && d.rule->id == 13 &&
	   d.credits_x10 == 0 && strstr(d.detail, "4.5") && strstr(d.detail, "5"),
	   "grade below minimum, with the rule and the grades");
	f.grade_x100 = 500;
	ok(recognition_decide(&f, &r[3], 1, JUNE1, &d) == 0 && d.reason == RECOG_RECOGNISED,
	   "the minimum itself is enough");
	f.grade_x100 = -1;
	ok(recognition_decide(&f, &r[3], 1, JUNE1, &d) == 0 && d.reason == RECOG_GRADE_MISSING,
	   "a rule with a minimum needs a grade");
	f.grade_x100 = 800;

	/* ties at the same specificity: newest version, then lowest id */
	{
		struct recog_rule t[3];

		t[0] = rule(21, 7, 100, "{\"source\":\"VNU\",\"match\":{\"course\":\"INT1001\"},"
			    "\"target\":{\"course\":\"T21\"},\"status\":\"active\"}");
		t[1] = rule(20, 7, 200, "{\"source\":\"VNU\",\"match\":{\"course\":\"INT1001\"},"
			    "\"target\":{\"course\":\"T20\"},\"status\":\"active\"}");
		t[2] = rule(19, 7, 200, "{\"source\":\"VNU\",\"match\":{\"course\":\"INT1001\"},"
			    "\"target\":{\"course\":\"T19\"},\"status\":\"active\"}");
		ok(recognition_decide(&f, t, 3, JUNE1, &d) == 0 && d.rule && d.rule->id == 19,
		   "tie: the newest version, then the lowest id");
		t[1].source_id = 0;
		t[2].source_id = 0;
		ok(recognition_decide(&f, t, 3, JUNE1, &d) == 0 && d.rule && d.rule->id == 21,
		   "a named source beats any source at the same match");
	}

	/* another source: VNU's rules do not apply */
	f.issuer_id = 8;
	ok(recognition_decide(&f, r, (size_t)n, JUNE1, &d) == 0 && d.rule && d.rule->id == 10,
	   "rules of another source do not match; any-source does");
	ok(recognition_decide(&f, &r[1], 3, JUNE1, &d) == 0 && d.reason == RECOG_NO_RULE &&
	   !d.rule, "no rule");
	f.issuer_id = 7;
	/* a field rule does not match a credential of another field */
	{
		struct recog_facts g = facts("INT1001", "undergraduate-1", "0713", 800);

		ok(recognition_decide(&g, r, 2, JUNE1, &d) == 0 && d.reason == RECOG_NO_RULE,
		   "another field is not matched");
	}
}

static void
test_status(void)
{
	struct recog_rule r[2];
	struct recog_facts f = facts("INT1001", "", "", 800);
	struct recog_decision d;

	r[0] = rule(1, 7, 0, "{\"source\":\"VNU\",\"match\":{\"course\":\"INT1001\"},"
		    "\"target\":{\"course\":\"IT101\"},\"status\":\"active\","
		    "\"expires_on\":\"2026-06-01\"}");
	ok(recognition_decide(&f, r, 1, JUNE1 - 1, &d) == 0 && d.reason == RECOG_RECOGNISED,
	   "in force the second before expires_on");
	ok(recognition_decide(&f, r, 1, JUNE1, &d) == 0 && d.reason == RECOG_RULE_EXPIRED &&
	   d.rule && d.rule->id == 1, "expired from that day on");
	r[0].status = RECOG_EXPIRED;
	r[0].expires_on[0] = '\0';
	ok(recognition_decide(&f, r, 1, JUNE1 - 100 * DAY, &d) == 0 &&
	   d.reason == RECOG_RULE_EXPIRED, "status expired");
	r[1] = rule(2, 7, 0, "{\"source\":\"VNU\",\"match\":{\"course\":\"INT1001\"},"
		    "\"target\":{\"course\":\"IT101\"}}");
	ok(recognition_decide(&f, &r[1], 1, JUNE1, &d) == 0 && d.reason == RECOG_RULE_NOT_ACTIVE,
	   "a proposed rule does not count");
	ok(recognition_decide(&f, r, 2, JUNE1, &d) == 0 && d.reason == RECOG_RULE_EXPIRED,
	   "expired explains more than proposed");

	/* issue window */
	r[0] = rule(3, 7, 0, "{\"source\":\"VNU\",\"match\":{\"course\":\"INT1001\"},"
		    "\"target\":{\"course\":\"IT101\"},\"status\":\"active\","
		    "\"issued_from\":\"2026-05-01\",\"issued_until\":\"2026-05-31\"}");
	f.issued_at = JUNE1 - 31 * DAY;		/* 2026-05-01 00:00 */
	ok(recognition_decide(&f, r, 1, JUNE1, &d) == 0 && d.reason == RECOG_RECOGNISED,
	   "issued on the first day of the window");
	f.issued_at = JUNE1 - 1;		/* 2026-05-31 23:59:59 */
	ok(recognition_decide(&f, r, 1, JUNE1, &d) == 0 && d.reason == RECOG_RECOGNISED,
	   "issued on its last day");
	f.issued_at = JUNE1;
	ok(recognition_decide(&f, r, 1, JUNE1, &d) == 0 && d.reason == RECOG_OUTSIDE_WINDOW,
	   "issued the day after");
	f.issued_at = JUNE1 - 31 * DAY - 1;
	ok(recognition_decide(&f, r, 1, JUNE1, &d) == 0 && d.reason == RECOG_OUTSIDE_WINDOW,
	   "issued the day before");
}

static void
test_credential_checks(void)
{
	struct recog_rule r = rule(1, 0, 0, "{\"source\":\"*\",\"match\":{\"course\":\"INT1001\"},"
				   "\"target\":{\"course\":\"IT101\"},\"status\":\"active\"}");
	struct recog_facts f = facts("INT1001", "", "", 800);
	struct recog_decision d;

	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 && d.reason == RECOG_RECOGNISED,
	   "a good credential is recognised");
	f.revoked = 1;
	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 && d.reason == RECOG_REVOKED && !d.rule,
	   "a revoked credential is not");
	f.revoked = 0;
	f.issuer_id = 0;
	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 && d.reason == RECOG_UNREGISTERED_ISSUER,
	   "an unregistered issuer is not, even under an any-source rule");
	f.issuer_id = 7;
	f.key_valid = 0;
	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 && d.reason == RECOG_KEY_NOT_VALID,
	   "a key outside its validity is not");
	f.key_valid = 1;
	f.verified = 0;
	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 && d.reason == RECOG_NOT_VERIFIED,
	   "an unverified credential is not");
	ok(recognition_decide(NULL, &r, 1, JUNE1, &d) == TC_EINVALID, "NULL facts");
}

static void
test_keycheck(void)
{
	const struct recog_key keys[2] = {
		{ "did:key:z6MkOLD", 1000, 5000 },
		{ "did:key:z6MkNEW", 5000, 0 },
	};

	ok(recognition_key_check(keys, 2, "did:key:z6MkOLD", 4999) == RECOG_RECOGNISED,
	   "old key before its rotation");
	ok(recognition_key_check(keys, 2, "did:key:z6MkOLD", 5000) == RECOG_KEY_NOT_VALID,
	   "old key used at its rotation time");
	ok(recognition_key_check(keys, 2, "did:key:z6MkOLD", 999) == RECOG_KEY_NOT_VALID,
	   "a key used before it existed");
	ok(recognition_key_check(keys, 2, "did:key:z6MkNEW", 5000) == RECOG_RECOGNISED &&
	   recognition_key_check(keys, 2, "did:key:z6MkNEW", 1 << 30) == RECOG_RECOGNISED,
	   "the current key");
	ok(recognition_key_check(keys, 2, "did:key:z6MkOTHER", 3000) == RECOG_UNREGISTERED_ISSUER,
	   "an unknown key");
	ok(recognition_key_check(NULL, 0, "did:key:z6MkOLD", 3000) == RECOG_UNREGISTERED_ISSUER,
	   "an institution with no keys");
}

static void
test_conversion(void)
{
	struct recog_rule r = rule(1, 7, 0, "{\"source\":\"VNU\",\"match\":{\"course\":\"INT1001\"},"
				   "\"target\":{\"course\":\"IT101\"},\"status\":\"active\","
				   "\"grade_conversion\":{\"scale\":\"letters\",\"bands\":["
				   "{\"min\":8.5,\"grade\":\"A\"},{\"min\":7,\"grade\":\"B\"},"
				   "{\"min\":5.5,\"grade\":\"C\"},{\"min\":4,\"grade\":\"D\"}],"
				   "\"min\":\"C\"}}");
	struct recog_facts f = facts("INT1001", "", "", 850);
	struct recog_decision d;

	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 && d.reason == RECOG_RECOGNISED &&
	   strcmp(d.converted, "A") == 0, "8.5 is an A");
	f.grade_x100 = 849;
	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 && strcmp(d.converted, "B") == 0,
	   "8.49 is a B");
	f.grade_x100 = 550;
	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 && d.reason == RECOG_RECOGNISED &&
	   strcmp(d.converted, "C") == 0, "5.5 is a C, the minimum");
	f.grade_x100 = 549;
	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 &&
	   d.reason == RECOG_GRADE_BELOW_MINIMUM && strstr(d.detail, "D"),
	   "5.49 is a D, below the minimum C");
	f.grade_x100 = 300;
	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 &&
	   d.reason == RECOG_GRADE_BELOW_MINIMUM, "below every band");
	r.min_converted[0] = '\0';
	f.grade_x100 = 450;
	ok(recognition_decide(&f, &r, 1, JUNE1, &d) == 0 && d.reason == RECOG_RECOGNISED &&
	   strcmp(d.converted, "D") == 0, "a conversion without a minimum: any band");
}

static void
test_facts(void)
{
	static const char cred[] =
		"{\"@context\":[],\"type\":[\"VerifiableCredential\",\"OpenBadgeCredential\"],"
		"\"issuer\":{\"id\":\"did:key:z6MkISSUER\",\"type\":[\"Profile\"],\"name\":\"VNU\"},"
		"\"validFrom\":\"2026-06-01T00:00:10Z\",\"credentialSubject\":{\"achievement\":"
		"{\"humanCode\":\"INT1001\",\"creditsAvailable\":3.0},\"creditsEarned\":3.0,"
		"\"result\":[{\"type\":[\"Result\"],\"value\":\"8.5\"}]},"
		"\"proof\":{\"created\":\"2026-06-01T00:00:09Z\"}}";
	struct recog_facts f;
	char did[96];
	int64_t t, signed_at = 0;

	ok(recognition_time_parse("2026-06-01T00:00:00Z", &t) == 0 && t == JUNE1, "a time");
	ok(recognition_time_parse("2026-06-01T01:02:03.250Z", &t) == 0 && t == JUNE1 + 3723,
	   "with a fraction");
	ok(recognition_time_parse("2026-06-01T24:00:00Z", &t) &&
	   recognition_time_parse("2026-06-01T00:00:00+07:00", &t) &&
	   recognition_time_parse("2026-06-01", &t) && recognition_time_parse("2026-06-01T00:00:00.Z", &t),
	   "bad times refused");
	memset(&f, 0, sizeof(f));
	ok(recognition_facts_from_credential(cred, strlen(cred), &f, did, sizeof(did), &signed_at) == 0,
	   "facts from a credential");
	ok(strcmp(did, "did:key:z6MkISSUER") == 0 && strcmp(f.course_code, "INT1001") == 0 &&
	   f.credits_x10 == 30 && f.grade_x100 == 850 && f.issued_at == JUNE1 + 10 &&
	   signed_at == JUNE1 + 9, "issuer, course, credits, grade, dates");
	{
		const char *j = "{\"issuer\":\"did:key:z6MkX\",\"validFrom\":\"2026-06-01T00:00:00Z\","
			"\"credentialSubject\":{\"achievement\":{\"humanCode\":\"C1\"},"
			"\"result\":[{\"value\":\"Passed\"}]}}";

		ok(recognition_facts_from_credential(j, strlen(j), &f, did, sizeof(did),
						     &signed_at) == 0 && strcmp(did, "did:key:z6MkX") == 0 &&
		   f.grade_x100 == -1 && f.credits_x10 == 0 && signed_at == JUNE1,
		   "issuer as a string, no grade, no credits, signed at validFrom");
	}
	ok(recognition_facts_from_credential("{\"validFrom\":\"2026-06-01T00:00:00Z\"}", 36, &f,
					     did, sizeof(did), &signed_at) == TC_EINVALID,
	   "no issuer: refused");
	ok(recognition_facts_from_credential("[", 1, &f, did, sizeof(did), &signed_at) == TC_EINVALID,
	   "not JSON: refused");
}

/* mutual rules: which have a reverse, and what it is */
static void
test_mutual(void)
{
	struct recog_rule r, v;
	char why[RECOG_ERR_MAX];

	ok(parse("{\"source\":\"VNU\",\"match\":{\"course\":\"CS101\"},\"target\":"
		 "{\"course\":\"IT101\"},\"min_grade\":5.5,\"issued_from\":\"2024-01-01\","
		 "\"grade_conversion\":null,\"mutual\":true,\"expires_on\":\"2030-01-01\"}", &r)
	   != 0, "a null member is refused (parse sanity)");
	ok(parse("{\"source\":\"VNU\",\"match\":{\"course\":\"CS101\"},\"target\":"
		 "{\"course\":\"IT101\"},\"min_grade\":5.5,\"issued_from\":\"2024-01-01\","
		 "\"mutual\":true,\"expires_on\":\"2030-01-01\"}", &r) == 0 &&
	   recognition_mutual_check(&r, why, sizeof(why)) == 0, "course for course may be mutual");
	ok(recognition_rule_reverse(&r, "HUST", &v, why, sizeof(why)) == 0 &&
	   strcmp(v.source, "HUST") == 0 && v.match == RECOG_MATCH_CODE && v.ncodes == 1 &&
	   strcmp(v.codes[0], "IT101") == 0 && v.target == RECOG_TARGET_COURSE &&
	   strcmp(v.target_code, "CS101") == 0 && v.min_grade_x100 == 550 &&
	   strcmp(v.issued_from, "2024-01-01") == 0 && strcmp(v.expires_on, "2030-01-01") == 0 &&
	   v.mutual && v.status == RECOG_ACTIVE && v.target_title[0] == '\0',
	   "its reverse: the codes swapped, conditions kept, active, title left to the caller");
	ok(parse("{\"source\":\"VNU\",\"match\":{\"field\":\"06\"},\"target\":"
		 "{\"elective_credits\":2.5,\"field\":\"06\"},\"grade_conversion\":{\"scale\":"
		 "\"4-point\",\"bands\":[{\"min\":8.5,\"grade\":\"A\"}],\"min\":\"A\"}}", &r) == 0 &&
	   recognition_rule_reverse(&r, "HUST", &v, why, sizeof(why)) == 0 &&
	   v.match == RECOG_MATCH_LEVEL_FIELD && strcmp(v.field, "06") == 0 && !v.level[0] &&
	   v.target == RECOG_TARGET_ELECTIVE && v.credits_x10 == 25 &&
	   strcmp(v.target_field, "06") == 0 && v.nbands == 0 && !v.min_converted[0] &&
	   v.min_grade_x100 == -1, "a field rule reverses to the same elective credits, no bands");
	ok(parse("{\"source\":\"*\",\"match\":{\"course\":\"CS101\"},\"target\":"
		 "{\"course\":\"IT101\"}}", &r) == 0 &&
	   recognition_mutual_check(&r, why, sizeof(why)) == TC_EINVALID && strstr(why, "partner"),
	   "any source: no partner to ask");
	ok(parse("{\"source\":\"VNU\",\"match\":{\"courses\":[\"A1\",\"A2\"]},\"target\":"
		 "{\"course\":\"IT101\"}}", &r) == 0 &&
	   recognition_rule_reverse(&r, "HUST", &v, why, sizeof(why)) == TC_EINVALID,
	   "a set of courses has no reverse");
	ok(parse("{\"source\":\"VNU\",\"match\":{\"course\":\"A1\"},\"target\":"
		 "{\"elective_credits\":3}}", &r) == 0 &&
	   recognition_mutual_check(&r, why, sizeof(why)) == TC_EINVALID,
	   "a course for elective credits has no reverse");
}

/* A target course counts once: the best grade, then the newest, then the
 * smallest uid; other targets and elective credits untouched. */
static void
test_repeats(void)
{
	struct recog_rule it101 = { .target = RECOG_TARGET_COURSE, .target_code = "IT101" };
	struct recog_rule it102 = { .target = RECOG_TARGET_COURSE, .target_code = "IT102" };
	struct recog_rule el = { .target = RECOG_TARGET_ELECTIVE, .target_field = "06" };
	struct recog_facts f[6] = {
		{ .grade_x100 = 600, .issued_at = 100 }, { .grade_x100 = 800, .issued_at = 200 },
		{ .grade_x100 = 800, .issued_at = 300 }, { .grade_x100 = -1, .issued_at = 400 },
		{ .grade_x100 = 500, .issued_at = 100 }, { .grade_x100 = 500, .issued_at = 100 },
	};
	const struct recog_rule *rules[6] = { &it101, &it101, &it101, &it102, &el, &el };
	const char *uids[6] = { "u0", "u1", "u2", "u3", "u4", "u5" };
	struct recog_decision d[6];
	struct recog_counted v[6];

	for (int i = 0; i < 6; i++) {
		memset(&d[i], 0, sizeof(d[i]));
		d[i].rule = rules[i];
		d[i].credits_x10 = 40;
		v[i] = (struct recog_counted){ uids[i], &f[i], &d[i] };
	}
	d[1].reason = RECOG_GRADE_BELOW_MINIMUM;	/* not recognised: not counted */
	d[1].credits_x10 = 0;
	recognition_settle_repeats(v, 6);
	ok(d[2].reason == RECOG_RECOGNISED && d[2].credits_x10 == 40 &&
	   d[0].reason == RECOG_ALREADY_RECOGNISED && d[0].credits_x10 == 0 &&
	   strstr(d[0].detail, "IT101") && strstr(d[0].detail, "u2") && d[0].rule == &it101,
	   "IT101 counts once: the best grade (u2), the other already recognised naming it");
	ok(d[1].reason == RECOG_GRADE_BELOW_MINIMUM && d[3].reason == RECOG_RECOGNISED &&
	   d[4].reason == RECOG_RECOGNISED && d[5].reason == RECOG_RECOGNISED,
	   "a refused one, another course and elective credits are left as they are");
	f[1] = f[2];
	d[1].reason = RECOG_RECOGNISED;
	d[0].reason = RECOG_RECOGNISED;
	d[2].reason = RECOG_RECOGNISED;
	recognition_settle_repeats(v, 6);
	ok(d[1].reason == RECOG_RECOGNISED && d[2].reason == RECOG_ALREADY_RECOGNISED &&
	   strstr(d[2].detail, "u1"), "the same grade and time: the smallest uid counts");
	f[2].issued_at = 301;
	d[2].reason = RECOG_RECOGNISED;
	recognition_settle_repeats(v, 6);
	ok(d[2].reason == RECOG_RECOGNISED && d[1].reason == RECOG_ALREADY_RECOGNISED,
	   "the same grade: the newest counts");
	is_str(recognition_reason_name(RECOG_ALREADY_RECOGNISED), "already recognised",
	       "its reason name");
}

int
main(void)
{
	test_repeats();
	test_mutual();
	test_checks();
	test_parse();
	test_keys();
	test_decide();
	test_status();
	test_credential_checks();
	test_keycheck();
	test_conversion();
	test_facts();
	return done_testing();
}
