/* credential_test.c - tests for courses/credential.c */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/credential.h"
#include "courses/errors.h"
#include "courses/identity_hash.h"
#include "tests/tap.h"

#define SCHEMA "/../shared/standards/ob_v3p0_achievementcredential_schema.json"
#define NATIONAL_ID "001203004567"

static char hash[IDENTITY_HASH_LEN + 1];

static const struct credential_alignment align[] = {
	{ "National Credit Framework, level 6", "https://moet.example.vn/ncf/6",
	  "Vietnamese Qualifications Framework", "VQF-6", NULL },
};

static struct credential_input
sample(void)
{
	struct credential_input in = {
		.id = "urn:uuid:3f1e8c0a-5b7d-4e21-9a6f-1c2d3e4f5a6b",
		.issuer_id = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
		.issuer_name = "Đại học Bách khoa Hà Nội",
		.issuer_url = "https://hust.example.vn",
		.valid_from = "2025-06-30T09:00:00Z",
		.name = "Giải tích 1 — hoàn thành",
		.identity_hash = hash,
		.salt = "00112233445566778899aabbccddeeff",
		.credits_earned = 3,
		.term = "2024-2025 HK2",
		.grade = "8.5",
		.achievement_id = "https://tinchi.example.vn/courses/MI1111",
		.achievement_name = "Giải tích 1",
		.achievement_description = "Giới hạn, đạo hàm, tích phân một biến.",
		.criteria_narrative = "Pass the final examination with at least 5.0 of 10.",
		.course_code = "MI1111",
		.credits_available = 3,
		.alignment = align,
		.n_alignment = 1,
		.status_list_credential = "https://tinchi.example.vn/status/HUST/1",
		.status_list_index = 94567,
	};
	return in;
}

static const char *
str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Validates DOC against the OB 3.0 schema with python3-jsonschema:
 * 0 valid, 1 invalid, 77 when the schema or the validator is missing. */
static int
schema_check(json_t *doc)
{
	char path[4096], file[] = "/tmp/credential_testXXXXXX", cmd[8400];
	const char *top = getenv("TOP_SRCDIR");
	int fd, rc;
	FILE *f;

	snprintf(path, sizeof(path), "%s" SCHEMA, top ? top : ".");
	if (access(path, R_OK) != 0 ||
	    system("python3 -c 'import jsonschema' >/dev/null 2>&1") != 0)
		return 77;
	fd = mkstemp(file);
	if (fd < 0)
		return 1;
	f = fdopen(fd, "w");
	json_dumpf(doc, f, 0);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys,jsonschema\n"
		 "s=json.load(open(sys.argv[1]));d=json.load(open(sys.argv[2]))\n"
		 "c=jsonschema.validators.validator_for(s);c.check_schema(s)\n"
		 "e=[x.message for x in c(s).iter_errors(d)]\n"
		 "print(\"# \"+\"\\n# \".join(e)) if e else None;sys.exit(1 if e else 0)' '%s' '%s'",
		 path, file);
	rc = system(cmd);
	unlink(file);
	return rc == 0 ? 0 : 1;
}

static json_t *
proof(void)
{
	return json_pack("[{s:s, s:s, s:s, s:s, s:s, s:s}]",
			 "type", "DataIntegrityProof", "cryptosuite", "eddsa-jcs-2022",
			 "created", "2025-06-30T09:00:00Z",
			 "verificationMethod",
			 "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#"
			 "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
			 "proofPurpose", "assertionMethod",
			 "proofValue", "z2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9iseabecm3ijx4K1FBTQsCZahKZme");
}

static void
test_build(void)
{
	struct credential_input in = sample();
	json_t *vc = NULL, *subj, *ach, *idobj, *st, *res, *al, *signed_vc;
	char *text;
	int rc;

	is_int(credential_build(&in, &vc), 0, "build a credential");
	if (vc == NULL)
		return;
	is_str(json_string_value(json_array_get(json_object_get(vc, "@context"), 0)),
	       "https://www.w3.org/ns/credentials/v2", "VC 2.0 context first");
	is_str(json_string_value(json_array_get(json_object_get(vc, "@context"), 1)),
	       "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", "then OB 3.0.3");
	is_str(json_string_value(json_array_get(json_object_get(vc, "type"), 1)),
	       "OpenBadgeCredential", "type OpenBadgeCredential");
	is_str(str(vc, "id"), in.id, "id");
	is_str(str(json_object_get(vc, "issuer"), "id"), in.issuer_id, "issuer id");
	is_str(str(json_object_get(vc, "issuer"), "url"), in.issuer_url, "issuer url");
	is_str(str(vc, "validFrom"), in.valid_from, "validFrom");
	subj = json_object_get(vc, "credentialSubject");
	idobj = json_array_get(json_object_get(subj, "identifier"), 0);
	is_str(str(idobj, "type"), "IdentityObject", "IdentityObject");
	ok(json_is_true(json_object_get(idobj, "hashed")), "hashed: true");
	is_str(str(idobj, "identityHash"), hash, "identityHash");
	is_str(str(idobj, "salt"), in.salt, "salt");
	is_str(str(idobj, "identityType"), "nationalIdentityNumber", "identityType");
	ok(identity_hash_verify(NATIONAL_ID, str(idobj, "salt"), str(idobj, "identityHash")),
	   "the learner's national ID verifies against the credential");
	ok(json_real_value(json_object_get(subj, "creditsEarned")) == 3.0, "creditsEarned");
	is_str(str(subj, "term"), in.term, "term");
	res = json_array_get(json_object_get(subj, "result"), 0);
	is_str(str(res, "value"), "8.5", "result value (the grade)");
	is_str(str(res, "status"), "Completed", "result status Completed");
	ach = json_object_get(subj, "achievement");
	is_str(str(ach, "achievementType"), "Course", "achievementType Course");
	is_str(str(ach, "humanCode"), "MI1111", "humanCode");
	is_str(str(json_object_get(ach, "criteria"), "narrative"), in.criteria_narrative,
	       "criteria narrative");
	ok(json_real_value(json_object_get(ach, "creditsAvailable")) == 3.0, "creditsAvailable");
	al = json_array_get(json_object_get(ach, "alignment"), 0);
	is_str(str(al, "targetUrl"), align[0].target_url, "alignment targetUrl");
	is_str(str(al, "targetFramework"), align[0].target_framework, "alignment targetFramework");
	ok(json_object_get(al, "targetDescription") == NULL, "optional fields left out");
	st = json_object_get(vc, "credentialStatus");
	is_str(str(st, "type"), "BitstringStatusListEntry", "status type");
	is_str(str(st, "statusPurpose"), "revocation", "statusPurpose revocation");
	is_str(str(st, "statusListIndex"), "94567", "statusListIndex as a string");
	is_str(str(st, "statusListCredential"), in.status_list_credential, "statusListCredential");
	is_str(str(st, "id"), "https://tinchi.example.vn/status/HUST/1#94567", "status id");
	ok(json_object_get(vc, "proof") == NULL, "no proof");

	text = json_dumps(vc, 0);
	ok(text && strstr(text, NATIONAL_ID) == NULL, "the raw national ID appears nowhere");
	free(text);

	signed_vc = json_deep_copy(vc);
	json_object_set_new(signed_vc, "proof", proof());
	rc = schema_check(signed_vc);
	if (rc == 77)
		ok(1, "OB 3.0 schema # SKIP python3-jsonschema or ../shared/standards absent");
	else
		is_int(rc, 0, "with a proof, it validates against the OB 3.0 AchievementCredential schema");
	/* The check can fail: a credential without credentialSubject does not
	 * validate. */
	json_object_del(signed_vc, "credentialSubject");
	rc = schema_check(signed_vc);
	if (rc == 77)
		ok(1, "OB 3.0 schema # SKIP python3-jsonschema or ../shared/standards absent");
	else
		is_int(rc, 1, "the schema check rejects a credential without a subject");
	json_decref(signed_vc);
	json_decref(vc);

	/* Optional fields left out still validate. */
	in.issuer_url = NULL;
	in.term = NULL;
	in.grade = NULL;
	in.n_alignment = 0;
	in.salt = "";
	is_int(credential_build(&in, &vc), 0, "build without the optional fields");
	ok(json_object_get(json_object_get(vc, "issuer"), "url") == NULL, "no issuer url");
	ok(json_object_get(json_object_get(json_object_get(vc, "credentialSubject"),
					   "achievement"), "alignment") == NULL, "no alignment");
	json_object_set_new(vc, "proof", proof());
	rc = schema_check(vc);
	if (rc == 77)
		ok(1, "OB 3.0 schema # SKIP python3-jsonschema or ../shared/standards absent");
	else
		is_int(rc, 0, "the minimal credential validates too");
	json_decref(vc);
}

static void
test_refuse(void)
{
	struct credential_input in;
	struct credential_alignment bad_align = { "x", NULL, NULL, NULL, NULL };
	json_t *vc = (json_t *)1;

#define REFUSE(field, value, name) do { \
	in = sample(); \
	in.field = value; \
	vc = (json_t *)1; \
	is_int(credential_build(&in, &vc), TC_EINVALID, name); \
	ok(vc == NULL, name ": no output"); \
} while (0)
	REFUSE(id, NULL, "no id");
	REFUSE(id, "3f1e8c0a-5b7d-4e21-9a6f-1c2d3e4f5a6b", "an id without urn:uuid:");
	REFUSE(id, "urn:uuid:3f1e8c0a-5b7d-4e21-9a6f-1c2d3e4f5a6", "a short uuid");
	REFUSE(issuer_id, "did:web:example.vn", "an issuer that is not did:key");
	REFUSE(issuer_name, "", "an empty issuer name");
	REFUSE(issuer_url, "\xff", "an issuer url that is not UTF-8");
	REFUSE(valid_from, "2025-06-30", "validFrom without a time");
	REFUSE(valid_from, "2025-06-30T09:00:00", "validFrom without a zone");
	REFUSE(valid_from, "2025-02-30T09:00:00Z", "validFrom on no day");
	REFUSE(name, NULL, "no name");
	REFUSE(identity_hash, NATIONAL_ID, "a raw national ID as the hash");
	REFUSE(identity_hash, "md5$0123456789abcdef0123456789abcdef", "an md5 hash");
	REFUSE(salt, NULL, "no salt (use \"\" for none)");
	REFUSE(credits_earned, -1, "negative credits");
	REFUSE(credits_earned, NAN, "credits not a number");
	REFUSE(credits_available, INFINITY, "infinite credits");
	REFUSE(grade, "\xc3", "a grade that is not UTF-8");
	REFUSE(achievement_id, NULL, "no achievement id");
	REFUSE(achievement_description, "", "an empty description");
	REFUSE(criteria_narrative, NULL, "no criteria");
	REFUSE(course_code, NULL, "no course code");
	REFUSE(alignment, &bad_align, "an alignment without a URL");
	REFUSE(alignment, NULL, "n_alignment without alignments");
	REFUSE(status_list_credential, NULL, "no status list credential");
#undef REFUSE
	is_int(credential_build(NULL, &vc), TC_EINVALID, "no input");
}

int
main(void)
{
	identity_hash_make(NATIONAL_ID, "00112233445566778899aabbccddeeff", hash);
	test_build();
	test_refuse();
	return done_testing();
}
