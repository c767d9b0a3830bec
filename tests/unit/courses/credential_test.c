/* credential_test.c - tests for courses/credential.c */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "courses/credential.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/jcs.h"
#include "courses/identity_hash.h"
#include "tests/tap.h"

#define SCHEMA "/../shared/standards/ob_v3p0_achievementcredential_schema.json"
#define NATIONAL_ID "001203004567"

static char hash[IDENTITY_HASH_LEN + 1];

static const struct credential_alignment align[] = {
	{ "National Credit Framework, level 6", "https://moet.example.vn/ncf/6",
	  "Vietnamese Qualifications Framework", "VQF-6", NULL, NULL },
	{ "Vietnam national credit system (tín chỉ)", "https://moet.gov.vn",
	  "Quy chế đào tạo trình độ đại học", "tin-chi", "1 tín chỉ = 50 giờ", "ext:CreditSystem" },
	{ "\"q\" \\ \x01\x1f \xf0\x9f\x98\x80", "https://x.example/a?b=\"c\"", NULL,
	  "c\td", NULL, "CFItem" },
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
	struct credential_alignment bad_align = { "x", NULL, NULL, NULL, NULL, NULL };
	struct credential_alignment bad_type[] = {
		{ "x", "https://x.example", NULL, NULL, NULL, "ext:" },
		{ "x", "https://x.example", NULL, NULL, NULL, "ext:a b" },
		{ "x", "https://x.example", NULL, NULL, NULL, "Competency" },
	};
	struct credential_jcs cj;
	json_t *vc = (json_t *)1;

#define REFUSE(field, value, name) do { \
	in = sample(); \
	in.field = value; \
	vc = (json_t *)1; \
	is_int(credential_build(&in, &vc), TC_EINVALID, name); \
	ok(vc == NULL, name ": no output"); \
	is_int(credential_jcs_make(&in, "did:key:z6Mk#z6Mk", "2025-06-30T09:00:00Z", &cj), \
	       TC_EINVALID, name ": the direct writer too"); \
	credential_jcs_cleanup(&cj); \
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
	REFUSE(alignment, &bad_type[0], "a targetType \"ext:\" with nothing after it");
	REFUSE(alignment, &bad_type[1], "a targetType with a space");
	REFUSE(alignment, &bad_type[2], "a targetType neither enumerated nor ext:");
	REFUSE(awarded_date, "2025-06-30", "awardedDate without a time");
	REFUSE(awarded_date, "2025-06-30T09:00:00+07:00", "awardedDate not in UTC");
	REFUSE(field_of_study, "", "an empty fieldOfStudy");
#undef REFUSE
	is_int(credential_build(NULL, &vc), TC_EINVALID, "no input");
	is_int(credential_jcs_make(NULL, "did:key:z6Mk#z6Mk", "2025-06-30T09:00:00Z", &cj),
	       TC_EINVALID, "no input: the direct writer too");
	credential_jcs_cleanup(&cj);
	in = sample();
	is_int(credential_jcs_make(&in, NULL, "2025-06-30T09:00:00Z", &cj), TC_EINVALID,
	       "no verification method");
	credential_jcs_cleanup(&cj);
	is_int(credential_jcs_make(&in, "did:key:z6Mk#z6Mk", "2025-06-31T09:00:00Z", &cj),
	       TC_EINVALID, "a created date that is no dateTime");
	credential_jcs_cleanup(&cj);
	is_int(credential_jcs_make(&in, "did:key:\xff", "2025-06-30T09:00:00Z", &cj), TC_EINVALID,
	       "a verification method that is not UTF-8");
	credential_jcs_cleanup(&cj);
}

/* awardedDate, fieldOfStudy and the credit framework alignment (with its
 * targetType) are in the credential and validate against the schema. */
static void
test_ob_fields(void)
{
	struct credential_input in = sample();
	json_t *vc = NULL, *ach, *al;
	int rc;

	in.awarded_date = "2025-06-20T00:00:00Z";
	in.field_of_study = "Toán học";
	in.n_alignment = 2;
	is_int(credential_build(&in, &vc), 0, "build with awardedDate, fieldOfStudy, two alignments");
	if (!vc)
		return;
	is_str(str(vc, "awardedDate"), "2025-06-20T00:00:00Z", "awardedDate");
	ach = json_object_get(json_object_get(vc, "credentialSubject"), "achievement");
	is_str(str(ach, "fieldOfStudy"), "Toán học", "fieldOfStudy");
	al = json_array_get(json_object_get(ach, "alignment"), 1);
	is_str(str(al, "targetType"), "ext:CreditSystem", "alignment targetType");
	is_str(str(al, "targetName"), "Vietnam national credit system (tín chỉ)", "targetName");
	json_object_set_new(vc, "proof", proof());
	rc = schema_check(vc);
	if (rc == 77)
		ok(1, "OB 3.0 schema # SKIP python3-jsonschema or ../shared/standards absent");
	else
		is_int(rc, 0, "awardedDate, fieldOfStudy and targetType validate against the schema");
	json_object_set_new(json_array_get(json_object_get(ach, "alignment"), 1), "targetType",
			    json_string("Credit System"));
	rc = schema_check(vc);
	if (rc == 77)
		ok(1, "OB 3.0 schema # SKIP python3-jsonschema or ../shared/standards absent");
	else
		is_int(rc, 1, "the schema check rejects a targetType outside the enumeration");
	json_decref(vc);
}

/* JCS text of V (malloc'ed). */
static char *
jcs_text(const json_t *v)
{
	struct dynbuf b;
	char *t = NULL;

	dynbuf_init(&b, 1 << 24);
	if (jcs_canonicalize(v, &b) == 0)
		t = dynbuf_take(&b, NULL);
	dynbuf_cleanup(&b);
	return t;
}

/*
 * For many credentials with varied fields (unicode and escapes, optional
 * fields present or not, numbers that JCS formats in different ways), the
 * text rebuilt from the fields and the signature is byte for byte the JCS
 * of what di_add_proof signed; so is the one rebuilt from credential_parse
 * of it, and the one rebuilt from the shared fields stored apart.
 */
static void
test_rebuild(void)
{
	static const char *const names[] = {
		"Giải tích 1", "\"Quoted\" \\ back\\slash / slash", "Emoji 😀 and 𝔘nicode",
		"tab\there, line\nbreak", "U+2028\xe2\x80\xa8 and U+007F\x7f", "Ω≈ç√∫˜µ≤≥÷",
		"日本語のコース", "a",
	};
	static const double credits[] = { 0, 0.5, 1.5, 3, 10, 60, 1e-7, 123.456, 4.1, 1e21 };
	static const char *const grades[] = { NULL, "8.5", "10", "0", "A+", "Đạt" };
	static const char *const terms[] = { NULL, "2024-2025 HK2", "2025-01-01/2025-06-30", "Học kỳ hè" };
	static const char *const awarded[] = { NULL, "2025-06-20T00:00:00Z", "1999-12-31T23:59:59Z" };
	unsigned char priv[32];
	int same = 0, parsed = 0, shared_ok = 0, parts = 0, verified = 0, n = 400;
	char ids[64], valid[32], vm[DID_KEY_VM_MAX] = "";
	unsigned char pub[32];
	size_t publen = sizeof(pub);
	EVP_PKEY *pk;

	for (int i = 0; i < 32; i++)
		priv[i] = (unsigned char)(7 * i + 1);
	/* the verification method of PRIV's public key, so that di_verify holds */
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	if (!pk || EVP_PKEY_get_raw_public_key(pk, pub, &publen) != 1 ||
	    did_key_vm_from_ed25519(pub, vm, sizeof(vm)) != 0)
		diag("no public key for the test's private key");
	EVP_PKEY_free(pk);
	for (int k = 0; k < n; k++) {
		struct credential_input in = sample(), in2, in3 = { 0 };
		struct credential_alignment al2[CREDENTIAL_ALIGN_MAX], al3[CREDENTIAL_ALIGN_MAX];
		struct credential_proof pr = { 0 }, pr2;
		struct di_proof_options opt = { 0 };
		json_t *doc = NULL, *signed_doc = NULL, *shared = NULL, *shared2 = NULL;
		const char *value;
		char *want = NULL, *got = NULL, *got2 = NULL, *got3 = NULL, *stext = NULL;
		size_t len = 0, slen = 0;

		snprintf(ids, sizeof(ids), "urn:uuid:3f1e8c0a-5b7d-4e21-9a6f-%012x", k * 7919);
		snprintf(valid, sizeof(valid), "20%02d-%02d-%02dT%02d:%02d:%02dZ", 10 + k % 15,
			 1 + k % 12, 1 + k % 28, k % 24, k % 60, (k * 7) % 60);
		in.id = ids;
		in.valid_from = valid;
		in.name = names[k % 8];
		in.achievement_name = names[(k + 3) % 8];
		in.achievement_description = names[(k + 5) % 8];
		in.issuer_name = names[(k + 1) % 8];
		in.issuer_url = k % 3 ? in.issuer_url : NULL;
		in.credits_earned = credits[k % 10];
		in.credits_available = credits[(k / 10) % 10];
		in.grade = grades[k % 6];
		in.term = terms[k % 4];
		in.awarded_date = awarded[k % 3];
		in.field_of_study = k % 5 ? NULL : names[k % 8];
		in.salt = k % 7 ? in.salt : "";
		in.n_alignment = (size_t)(k % 4);
		/* an on-campus course (not on tinchi) has a urn for its achievement */
		in.achievement_id = k % 2 ? in.achievement_id : "urn:tinchi:course:HUST:MI 1111/\"b\"";
		in.status_list_index = (uint64_t)k * 104729u % 131072u;

		opt.verification_method = vm;
		opt.created = valid;
		opt.proof_array = 1;
		if (credential_build(&in, &doc) || di_add_proof(doc, &opt, di_sign_ed25519_raw, priv,
								&signed_doc) ||
		    !(want = jcs_text(signed_doc)))
			goto next;
		{	/* the direct writer's parts: the unsigned document, the proof
			 * configuration and the hash signed, against jansson + JCS */
			struct credential_jcs cj;
			json_t *cfg = NULL;
			unsigned char h1[64], h2[64];
			char *u = jcs_text(doc), *cu = NULL;

			if (credential_jcs_make(&in, opt.verification_method, valid, &cj) == 0 &&
			    di_proof_config(doc, &opt, &cfg) == 0 && (cu = jcs_text(cfg)) &&
			    di_hash_data(doc, cfg, h1) == 0) {
				credential_jcs_hash(&cj, h2);
				if (u && strcmp(dynbuf_str(&cj.doc), u) == 0 &&
				    strcmp(dynbuf_str(&cj.cfg), cu) == 0 && memcmp(h1, h2, 64) == 0)
					parts++;
			}
			credential_jcs_cleanup(&cj);
			json_decref(cfg);
			free(u);
			free(cu);
		}
		value = str(json_array_get(json_object_get(signed_doc, "proof"), 0), "proofValue");
		pr.verification_method = opt.verification_method;
		pr.created = valid;
		if (value && base58btc_decode(value + 1, pr.signature, 64, &len) == 0 && len == 64 &&
		    credential_signed_text(&in, &pr, &got, &slen) == 0 && strcmp(got, want) == 0 &&
		    slen == strlen(want))
			same++;
		if (got) {	/* and what it wrote verifies */
			json_t *back = jcs_parse(got, strlen(got), NULL, 0);

			if (back && di_verify(back, NULL, NULL) == 0)
				verified++;
			json_decref(back);
		}
		if (credential_parse(signed_doc, &in2, al2, &pr2) == 0 &&
		    credential_signed_text(&in2, &pr2, &got2, NULL) == 0 && strcmp(got2, want) == 0)
			parsed++;
		/* the shared fields through their stored text, the rest per credential */
		if (credential_shared_json(&in, &shared) == 0 &&
		    (stext = json_dumps(shared, JSON_COMPACT | JSON_SORT_KEYS)) &&
		    (shared2 = json_loads(stext, 0, NULL)) &&
		    credential_shared_read(shared2, &in3, al3) == 0) {
			in3.id = in.id;
			in3.issuer_id = in.issuer_id;
			in3.valid_from = in.valid_from;
			in3.awarded_date = in.awarded_date;
			in3.identity_hash = in.identity_hash;
			in3.salt = in.salt;
			in3.credits_earned = in.credits_earned;
			in3.term = in.term;
			in3.grade = in.grade;
			in3.status_list_index = in.status_list_index;
			if (credential_signed_text(&in3, &pr, &got3, NULL) == 0 && strcmp(got3, want) == 0)
				shared_ok++;
		}
next:
		free(want);
		free(got);
		free(got2);
		free(got3);
		free(stext);
		json_decref(doc);
		json_decref(signed_doc);
		json_decref(shared);
		json_decref(shared2);
	}
	is_int(same, n, "rebuilt from fields + signature = JCS of the signed credential, every time");
	is_int(parts, n, "the direct writer's unsigned text, proof configuration and signed hash"
	       " = JCS of the jansson-built ones, every time");
	is_int(verified, n, "every rebuilt text verifies (di_verify)");
	is_int(parsed, n, "credential_parse of it rebuilds the same bytes");
	is_int(shared_ok, n, "so do the shared fields stored apart");

	{	/* a change in any field changes the bytes: the check can fail */
		struct credential_input in = sample();
		struct credential_proof pr = { "did:key:z6Mk#z6Mk", "2025-06-30T09:00:00Z", { 1 } };
		char *a = NULL, *b = NULL;

		credential_signed_text(&in, &pr, &a, NULL);
		in.grade = "8.6";
		credential_signed_text(&in, &pr, &b, NULL);
		ok(a && b && strcmp(a, b) != 0, "another grade, other bytes");
		free(a);
		free(b);
		is_int(credential_signed_text(&in, NULL, &a, NULL), TC_EINVALID, "no proof: refused");
	}
}

int
main(void)
{
	identity_hash_make(NATIONAL_ID, "00112233445566778899aabbccddeeff", hash);
	test_build();
	test_refuse();
	test_ob_fields();
	test_rebuild();
	return done_testing();
}
