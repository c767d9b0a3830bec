/* verify_test.c - tests for courses/verify.c: every check passing, and each
 * failing for each of its reasons, with keys, status lists and a log made
 * here in memory (forgeries included: a key used after its rotation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "courses/crypto.h"
#include "courses/credential.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/jcs.h"
#include "courses/merkle.h"
#include "courses/signednote.h"
#include "courses/statuslist.h"
#include "courses/verify.h"
#include "tests/tap.h"

#define URL "https://tinchi.example/api/v1/institutions/VNU/status/revocation"
#define T_ROTATE 1780000000	/* key A retired, key B made: 2026-05-28T20:26:40Z */
#define BEFORE "2026-05-01T00:00:00Z"
#define AFTER "2026-06-01T00:00:00Z"
#define NOW ((int64_t)1790000000)

struct key {
	unsigned char sk[32], pub[32];
	char did[DID_KEY_MAX], vm[DID_KEY_VM_MAX];
};

static void
key_make(struct key *k)
{
	EVP_PKEY *p;
	size_t n = 32;

	crypto_random(k->sk, 32);
	p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->sk, 32);
	if (!p || EVP_PKEY_get_raw_public_key(p, k->pub, &n) != 1)
		abort();
	EVP_PKEY_free(p);
	did_key_from_ed25519(k->pub, k->did, sizeof(k->did));
	did_key_vm_from_ed25519(k->pub, k->vm, sizeof(k->vm));
}

static json_t *
sign(json_t *doc, const struct key *k, const char *created, const char *purpose, int array)
{
	struct di_proof_options opt = { 0 };
	json_t *out = NULL;

	opt.verification_method = k->vm;
	opt.created = created;
	opt.proof_purpose = purpose;
	opt.proof_array = array;
	if (di_add_proof(doc, &opt, di_sign_ed25519_raw, (void *)k->sk, &out) != 0)
		abort();
	json_decref(doc);
	return out;
}

/* An OB 3.0 credential by K, valid from WHEN (and signed then). */
static json_t *
cred_make(const struct key *k, const char *when, const char *index)
{
	json_t *c = json_pack("{s:[s,s], s:s, s:[s,s], s:{s:s, s:s, s:[s]}, s:s, s:s,"
			      " s:{s:[s], s:{s:s, s:[s], s:s}},"
			      " s:{s:s, s:s, s:s, s:s, s:s}}",
			      "@context", CREDENTIAL_CONTEXT_VC, CREDENTIAL_CONTEXT_OB,
			      "id", "urn:uuid:2f1c4a8e-0000-4000-8000-000000000001",
			      "type", "VerifiableCredential", "OpenBadgeCredential",
			      "issuer", "id", k->did, "name", "Trường VNU", "type", "Profile",
			      "validFrom", when, "name", "CR101",
			      "credentialSubject", "type", "AchievementSubject", "achievement",
			      "id", "https://tinchi.example/courses/CR101", "type", "Achievement",
			      "name", "Nhập môn",
			      "credentialStatus", "id", URL "#5", "type", "BitstringStatusListEntry",
			      "statusPurpose", "revocation", "statusListIndex", index,
			      "statusListCredential", URL);

	return sign(c, k, when, NULL, 1);
}

/* The status list credential by K with bit REVOKED set (-1: none). */
static json_t *
list_make(const struct key *k, const char *when, long revoked, const char *id)
{
	struct statuslist sl;
	char *enc = NULL;
	json_t *doc;

	statuslist_init(&sl, STATUSLIST_MIN_BITS);
	if (revoked >= 0)
		statuslist_set(&sl, (size_t)revoked, 1);
	statuslist_encode(&sl, &enc);
	statuslist_cleanup(&sl);
	doc = json_pack("{s:[s], s:s, s:[s,s], s:s, s:s, s:{s:s, s:s, s:s, s:s}}",
			"@context", CREDENTIAL_CONTEXT_VC, "id", id,
			"type", "VerifiableCredential", "BitstringStatusListCredential",
			"issuer", k->did, "validFrom", when,
			"credentialSubject", "id", URL "#list", "type", "BitstringStatusList",
			"statusPurpose", "revocation", "encodedList", enc);
	free(enc);
	return sign(doc, k, when, NULL, 1);
}

/* ---- a log of three leaves, the credential's issue entry at index 1 -------------- */

static unsigned char leaves[3][32];

static int
leaf_at(void *ctx, uint64_t i, unsigned char out[MERKLE_HASH_LEN])
{
	(void)ctx;
	memcpy(out, leaves[i], 32);
	return 0;
}

static int
seed_sign(void *ctx, const void *msg, size_t n, unsigned char sig[64])
{
	return ed25519_sign_raw(((struct key *)ctx)->sk, msg, n, sig);
}

static char *
hash_of(const json_t *cred)
{
	struct dynbuf b;
	char hex[SHA256_HEX_LEN + 1], *out = malloc(80);

	dynbuf_init(&b, 1 << 24);
	jcs_canonicalize(cred, &b);
	sha256_hex(b.data, b.len, hex);
	dynbuf_cleanup(&b);
	snprintf(out, 80, "sha256:%s", hex);
	return out;
}

/* The inclusion proof (GET /log/proof shape) of CRED's issue entry by
 * ISSUER in a log signed by LOGKEY named NAME. */
static json_t *
log_make(const json_t *cred, const char *issuer, const struct key *logkey,
	 const struct signednote_verifier *v)
{
	unsigned char proof[MERKLE_PROOF_MAX][32], root[32];
	struct merkle_source src = { leaf_at, NULL, NULL };
	struct dynbuf text, note;
	char *h = hash_of(cred), entry[400], b64[64];
	const char *others[2] = { "{\"hash\":\"sha256:00\"}", "{\"hash\":\"sha256:11\"}" };
	json_t *arr = json_array(), *o;
	size_t n = 0;

	snprintf(entry, sizeof(entry), "{\"hash\":\"%s\",\"issuer\":\"%s\",\"kind\":\"issue\","
		 "\"time\":\"" BEFORE "\"}", h, issuer);
	merkle_leaf_hash(others[0], strlen(others[0]), leaves[0]);
	merkle_leaf_hash(entry, strlen(entry), leaves[1]);
	merkle_leaf_hash(others[1], strlen(others[1]), leaves[2]);
	merkle_root(&src, 3, root);
	merkle_inclusion_proof(&src, 1, 3, proof, &n);
	for (size_t i = 0; i < n; i++) {
		b64_encode(proof[i], 32, b64, sizeof(b64));
		json_array_append_new(arr, json_string(b64));
	}
	dynbuf_init(&text, 1 << 16);
	dynbuf_init(&note, 1 << 16);
	checkpoint_format(v->name, 3, root, &text);
	signednote_sign(text.data, text.len, v, seed_sign, (void *)logkey, &note);
	o = json_pack("{s:i, s:i, s:s, s:o, s:s%}", "index", 1, "size", 3, "entry", entry,
		      "proof", arr, "checkpoint", note.data, note.len);
	dynbuf_cleanup(&text);
	dynbuf_cleanup(&note);
	free(h);
	return o;
}

/* ---- the lookups ------------------------------------------------------------------ */

struct reg {
	struct verify_key keys[4];
	size_t n;
	json_t *list;		/* the status list served */
	json_t *proof;		/* the inclusion proof served */
	const char *revoked_detail;
	int made_here;		/* the lookup vouches for the list it serves */
};

static int
op_issuer_key(void *ctx, const char *did, struct verify_key *out)
{
	struct reg *r = ctx;

	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->keys[i].did, did) == 0) {
			*out = r->keys[i];
			return 0;
		}
	return TC_ENOTFOUND;
}

static int
op_status_list(void *ctx, const struct verify_key *issuer, const char *url, json_t **list,
	       int *made_here)
{
	struct reg *r = ctx;

	(void)issuer;
	(void)url;
	*made_here = r->made_here;
	*list = json_incref(r->list);
	return r->list ? 0 : TC_ENOTFOUND;
}

static int
op_revocation_detail(void *ctx, const struct verify_key *issuer, const char *id, int64_t index,
		     char *detail, size_t size)
{
	struct reg *r = ctx;

	(void)issuer;
	if (!r->revoked_detail || !id || index != 5)
		return TC_ENOTFOUND;
	snprintf(detail, size, "%s", r->revoked_detail);
	return 0;
}

static int
op_log_proof(void *ctx, const char *hash, json_t **proof, char *why, size_t whysize)
{
	struct reg *r = ctx;

	(void)hash;
	*proof = json_incref(r->proof);
	if (!r->proof)
		snprintf(why, whysize, "%s is not in the transparency log", hash);
	return r->proof ? 0 : TC_ENOTFOUND;
}

static void
reg_key(struct reg *r, const struct key *k, const char *code, int64_t from, int64_t until)
{
	struct verify_key *v = &r->keys[r->n++];

	memset(v, 0, sizeof(*v));
	snprintf(v->did, sizeof(v->did), "%s", k->did);
	snprintf(v->code, sizeof(v->code), "%s", code);
	snprintf(v->name, sizeof(v->name), "Trường %s", code);
	v->valid_from = from;
	v->valid_until = until;
}

/* ---- running one ------------------------------------------------------------------ */

static json_t *last;
static int runs, text_same;	/* runs; those whose text was the tree's */

/* verify_credential_text on CRED gave the compact text of LAST (the tree
 * verify_credential gave, V its verdict), each check's name, state and
 * detail where it says. */
static int
text_is_tree(const json_t *cred, const struct verify_ops *ops, enum verify_state v)
{
	struct dynbuf out;
	struct verify_checks_text t = { &out, { { 0 } }, 0 };
	enum verify_state tv = VERIFY_FAIL;
	char *want = json_dumps(last, JSON_COMPACT);
	int same;

	dynbuf_init(&out, 1 << 24);
	same = want && dynbuf_puts(&out, "x") == 0 &&
	       verify_credential_text(cred, ops, &t, &tv) == 0 && tv == v &&
	       out.len == strlen(want) + 1 && memcmp(out.data + 1, want, out.len - 1) == 0 &&
	       (size_t)t.n == json_array_size(last);
	for (int i = 0; same && i < t.n; i++) {
		const json_t *c = json_array_get(last, (size_t)i);
		char *d = json_dumps(json_object_get(c, "detail"), JSON_ENCODE_ANY);

		same = d && strcmp(t.c[i].name, json_string_value(json_object_get(c, "check"))) == 0 &&
		       (t.c[i].st == VERIFY_PASS) == json_is_true(json_object_get(c, "ok")) &&
		       (t.c[i].st == VERIFY_UNCHECKED) ==
			       json_is_true(json_object_get(c, "unchecked")) &&
		       t.c[i].detail_len == strlen(d) &&
		       memcmp(out.data + t.c[i].detail_at, d, strlen(d)) == 0;
		free(d);
	}
	if (!same)
		printf("# text differs: %.*s\n# tree: %s\n", (int)out.len, (char *)out.data,
		       want ? want : "(none)");
	free(want);
	dynbuf_cleanup(&out);
	return same;
}

/* Verifies CRED; answers the verdict, and leaves the checks in LAST.
 * verify_credential_text is asked too, and must write the tree's text. */
static enum verify_state
run(const json_t *cred, const struct verify_ops *ops)
{
	enum verify_state v = VERIFY_FAIL;

	json_decref(last);
	last = json_array();
	if (verify_credential(cred, ops, last, &v) != 0)
		return (enum verify_state)-1;
	runs++;
	text_same += text_is_tree(cred, ops, v);
	return v;
}

static const json_t *
get(const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(last, i, c)
		if (strcmp(json_string_value(json_object_get(c, "check")), name) == 0)
			return c;
	return NULL;
}

static int
passed(const char *name)
{
	return json_is_true(json_object_get(get(name), "ok"));
}

static int
unchecked(const char *name)
{
	return !passed(name) && json_is_true(json_object_get(get(name), "unchecked"));
}

static int
failed(const char *name, const char *words)
{
	const char *d = json_string_value(json_object_get(get(name), "detail"));
	int ok = get(name) && !passed(name) && !unchecked(name) && d && strstr(d, words);

	if (!ok)
		printf("# %s: %s\n", name, d ? d : "(none)");
	return ok;
}

static int
only_failed(const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(last, i, c)
		if (!json_is_true(json_object_get(c, "ok")) &&
		    strcmp(json_string_value(json_object_get(c, "check")), name) != 0) {
			printf("# also not ok: %s\n", json_string_value(json_object_get(c, "check")));
			return 0;
		}
	return 1;
}

int
main(void)
{
	struct key a, b, other, logkey, wrong;
	struct signednote_verifier lv, wv;
	struct reg r = { 0 };
	struct verify_ops ops = { 0 };
	json_t *cred, *c2, *vp, *res = NULL;
	enum verify_state v;
	char *h;

	key_make(&a);
	key_make(&b);
	key_make(&other);
	key_make(&logkey);
	key_make(&wrong);
	signednote_verifier_init(&lv, "tinchi.example/log", logkey.pub);
	signednote_verifier_init(&wv, "tinchi.example/log", wrong.pub);
	reg_key(&r, &a, "VNU", T_ROTATE - 86400 * 365, T_ROTATE);	/* rotated */
	reg_key(&r, &b, "VNU", T_ROTATE, 0);				/* current */
	reg_key(&r, &other, "HUST", T_ROTATE - 86400 * 365, 0);

	cred = cred_make(&a, BEFORE, "5");	/* signed by A before its rotation */
	r.list = list_make(&b, AFTER, -1, URL);	/* the list: signed by B since */
	r.proof = log_make(cred, a.did, &logkey, &lv);
	ops.ctx = &r;
	ops.now = NOW;
	ops.issuer_key = op_issuer_key;
	ops.status_list = op_status_list;
	ops.revocation_detail = op_revocation_detail;
	ops.log_proof = op_log_proof;
	ops.log_keys = &lv;
	ops.nlog_keys = 1;

	/* everything holds */
	v = run(cred, &ops);
	ok(v == VERIFY_PASS, "a credential signed by a since-rotated key, before it was rotated,"
	   " passes every check");
	ok(json_array_size(last) == 6 && get("schema") == json_array_get(last, 0) &&
	   get("proof") == json_array_get(last, 1) && get("issuer") == json_array_get(last, 2) &&
	   get("status") == json_array_get(last, 3) && get("dates") == json_array_get(last, 4) &&
	   get("log") == json_array_get(last, 5), "six checks: schema proof issuer status dates log");
	ok(strstr(json_string_value(json_object_get(get("issuer"), "detail")), "since rotated on"
		  " 2026-05-28"), "the issuer check says the key has since been rotated");
	h = hash_of(cred);
	ok(json_object_get(get("log"), "result") &&
	   strcmp(json_string_value(json_object_get(json_object_get(get("log"), "result"), "hash")),
		  h) == 0, "the log check returns the verified proof with the credential's hash");
	free(h);

	/* schema */
	c2 = json_deep_copy(cred);
	json_object_del(c2, "validFrom");
	run(c2, &ops);
	ok(failed("schema", "validFrom is missing"), "schema: a missing validFrom is named");
	json_decref(c2);
	c2 = json_deep_copy(cred);
	json_object_set_new(c2, "type", json_pack("[s]", "VerifiableCredential"));
	run(c2, &ops);
	ok(failed("schema", "OpenBadgeCredential"), "schema: a missing OpenBadgeCredential type");
	json_decref(c2);
	{
		static const struct {
			const char *ob;
			int good;
		} ctxs[] = {
			{ "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json", 1 },
			{ "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.0.json", 1 },
			{ "https://purl.imsglobal.org/spec/ob/v3p0/context.json", 1 },
			{ "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.jsonx", 0 },
			{ "https://purl.imsglobal.org/spec/ob/v3p0/context-4.0.0.json", 0 },
			{ "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.json", 0 },
			{ "https://example.org/spec/ob/v3p0/context-3.0.3.json", 0 },
		};

		for (size_t i = 0; i < sizeof(ctxs) / sizeof(ctxs[0]); i++) {
			char name[200];

			c2 = json_deep_copy(cred);
			json_array_set_new(json_object_get(c2, "@context"), 1, json_string(ctxs[i].ob));
			run(c2, &ops);
			snprintf(name, sizeof(name), "schema: %s as the second context %s, as the OB 3.0"
				 " schema's pattern", ctxs[i].ob, ctxs[i].good ? "passes" : "fails");
			ok(ctxs[i].good ? passed("schema") : failed("schema", "Open Badges 3.0 context"),
			   name);
			json_decref(c2);
		}
		/* the OB context not second: the schema's items fix the order */
		c2 = json_deep_copy(cred);
		json_array_insert_new(json_object_get(c2, "@context"), 1,
				      json_string("https://w3id.org/security/data-integrity/v2"));
		run(c2, &ops);
		ok(failed("schema", "then an Open Badges 3.0 context"),
		   "schema: the OB 3.0 context after another one fails");
		json_decref(c2);
	}

	/* proof */
	c2 = json_deep_copy(cred);
	json_object_set_new(c2, "name", json_string("CR102"));
	v = run(c2, &ops);
	ok(v == VERIFY_FAIL && failed("proof", "signature mismatch"),
	   "proof: a changed field is a signature mismatch");
	ok(failed("log", "not in the transparency log") || failed("log", "not the issue entry"),
	   "log: and the changed credential is not the one logged");
	json_decref(c2);
	c2 = json_deep_copy(cred);
	json_object_set_new(json_object_get(c2, "issuer"), "id", json_string(other.did));
	run(c2, &ops);
	ok(failed("proof", "not the expected key"), "proof: signed by another key than the issuer's");
	json_decref(c2);
	c2 = json_deep_copy(cred);
	json_object_set_new(json_object_get(c2, "issuer"), "id", json_string("did:web:x.example"));
	run(c2, &ops);
	ok(failed("proof", "not an Ed25519 did:key") && failed("issuer", "not an Ed25519 did:key"),
	   "proof, issuer: an issuer that is not a did:key");
	json_decref(c2);

	/* issuer: key rotation dates */
	c2 = cred_make(&a, AFTER, "5");	/* the forgery: the old key after its rotation */
	json_decref(r.proof);
	r.proof = log_make(c2, a.did, &logkey, &lv);
	v = run(c2, &ops);
	ok(v == VERIFY_FAIL && failed("issuer", "signed by a key retired on 2026-05-28") &&
	   only_failed("issuer"), "issuer: signing with a key after its rotation fails, only"
	   " that check, saying when the key was retired");
	json_decref(c2);
	c2 = cred_make(&a, "2026-05-28T20:26:40Z", "5");	/* the second of the rotation */
	json_decref(r.proof);
	r.proof = log_make(c2, a.did, &logkey, &lv);
	run(c2, &ops);
	ok(failed("issuer", "retired on"), "issuer: the old key at the very second of its rotation"
	   " fails (valid_from <= t < valid_until, the registry's rule)");
	json_decref(c2);
	c2 = cred_make(&a, "2026-05-28T20:26:39Z", "5");
	json_decref(r.proof);
	r.proof = log_make(c2, a.did, &logkey, &lv);
	run(c2, &ops);
	ok(passed("issuer"), "issuer: and one second before it passes");
	json_decref(c2);
	c2 = cred_make(&b, BEFORE, "5");	/* the new key, dated before it was made */
	json_decref(r.proof);
	r.proof = log_make(c2, b.did, &logkey, &lv);
	run(c2, &ops);
	ok(failed("issuer", "that was made only on"), "issuer: a date before the key existed fails");
	json_decref(c2);
	c2 = cred_make(&b, AFTER, "5");
	json_decref(r.proof);
	r.proof = log_make(c2, b.did, &logkey, &lv);
	v = run(c2, &ops);
	ok(v == VERIFY_PASS && strstr(json_string_value(json_object_get(get("issuer"), "detail")),
				      "its current key"), "issuer: the current key passes");
	json_decref(c2);
	json_decref(r.proof);
	r.proof = log_make(cred, a.did, &logkey, &lv);
	r.n = 1;	/* the registry without B: the list's signer is unknown */
	run(cred, &ops);
	ok(failed("status", "not the issuer's"), "status: a list signed by a key not in the"
	   " registry fails");
	r.n = 0;
	v = run(cred, &ops);
	ok(v == VERIFY_FAIL && failed("issuer", "no institution known here") &&
	   failed("status", "the issuer is unknown"), "issuer: a key in no institution fails, and"
	   " the status cannot be checked");
	r.n = 3;

	/* status */
	json_decref(r.list);
	r.list = list_make(&b, AFTER, 5, URL);
	v = run(cred, &ops);
	ok(v == VERIFY_FAIL && failed("status", "revoked") && only_failed("status"),
	   "status: the entry set is revoked");
	r.revoked_detail = "revoked on 2026-07-01: plagiarism";
	run(cred, &ops);
	ok(failed("status", "revoked on 2026-07-01: plagiarism"),
	   "status: with the date and reason the lookup knows");
	r.revoked_detail = NULL;
	json_decref(r.list);
	r.list = list_make(&b, AFTER, 6, URL);
	ok(run(cred, &ops) == VERIFY_PASS, "status: another entry set is not this one");
	json_decref(r.list);
	r.list = list_make(&a, BEFORE, -1, URL);
	ok(run(cred, &ops) == VERIFY_PASS, "status: a list signed by the same key passes");
	json_decref(r.list);
	r.list = list_make(&a, AFTER, -1, URL);
	run(cred, &ops);
	ok(failed("status", "signed by a key retired on"), "status: a list signed by the old key"
	   " after its rotation fails (a revocation cannot be hidden with a retired key)");
	json_decref(r.list);
	r.list = list_make(&other, AFTER, -1, URL);
	run(cred, &ops);
	ok(failed("status", "not the issuer's"), "status: a list signed by another institution");
	json_decref(r.list);
	r.list = list_make(&b, AFTER, -1, URL "?x");
	run(cred, &ops);
	ok(failed("status", "not the one the credential names"), "status: another list");
	json_decref(r.list);
	r.list = list_make(&b, AFTER, 5, URL);
	c2 = list_make(&b, AFTER, -1, URL);
	json_object_set(json_object_get(r.list, "credentialSubject"), "encodedList",
			json_object_get(json_object_get(c2, "credentialSubject"), "encodedList"));
	json_decref(c2);
	run(cred, &ops);
	ok(failed("status", "own proof does not hold"), "status: a list with its bits changed");
	r.made_here = 1;
	run(cred, &ops);
	ok(passed("status"), "status: a list the lookup made itself is read without checking its"
	   " proof again (here the changed bits: not revoked)");
	r.made_here = 0;
	json_decref(r.list);
	r.list = NULL;
	run(cred, &ops);
	ok(failed("status", "not available"), "status: no list");
	c2 = cred_make(&a, BEFORE, "999999999");
	r.list = list_make(&b, AFTER, -1, URL);
	run(c2, &ops);
	ok(failed("status", "out of range"), "status: an index past the end");
	json_decref(c2);
	c2 = json_deep_copy(cred);
	json_object_del(c2, "credentialStatus");
	run(c2, &ops);
	ok(failed("status", "no Bitstring Status List entry"), "status: no credentialStatus");
	json_decref(c2);

	/* dates */
	ops.now = T_ROTATE - 86400 * 60;
	run(cred, &ops);
	ok(failed("dates", "not valid yet"), "dates: validFrom in the future");
	ops.now = NOW;
	c2 = json_deep_copy(cred);
	json_object_set_new(c2, "validUntil", json_string("2026-05-15T00:00:00Z"));
	json_object_del(c2, "proof");
	c2 = sign(c2, &a, BEFORE, NULL, 1);
	run(c2, &ops);
	ok(failed("dates", "expired"), "dates: validUntil passed");
	json_decref(c2);

	/* log */
	ops.log_keys = &wv;
	run(cred, &ops);
	ok(failed("log", "not signed by the log key"), "log: a checkpoint not signed by the log key");
	ops.log_keys = &lv;
	json_decref(r.proof);
	r.proof = log_make(cred, a.did, &logkey, &lv);
	json_array_set_new(json_object_get(r.proof, "proof"), 0,
			   json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	run(cred, &ops);
	ok(failed("log", "does not lead to the signed root"), "log: an altered proof hash");
	json_decref(r.proof);
	r.proof = log_make(cred, a.did, &logkey, &lv);
	json_object_set_new(r.proof, "size", json_integer(4));
	run(cred, &ops);
	ok(failed("log", "checkpoint covers 3"), "log: a proof for another tree size");
	json_object_set_new(r.proof, "size", json_integer(3));
	json_object_set_new(r.proof, "proof", json_string("x"));
	run(cred, &ops);
	ok(failed("log", "malformed"), "log: a malformed proof");
	json_decref(r.proof);
	r.proof = log_make(cred, other.did, &logkey, &lv);
	run(cred, &ops);
	ok(failed("log", "not the issue entry"), "log: an entry naming another issuer");
	json_decref(r.proof);
	r.proof = log_make(cred, a.did, &logkey, &lv);
	{
		json_t *p2 = log_make(cred, a.did, &logkey, &lv);	/* the same tree, signed again */
		const char *note = json_string_value(json_object_get(p2, "checkpoint"));
		char *cp = strdup(note);

		cp[strlen(cp) - 10] ^= 1;	/* a flipped bit of the signature */
		ops.checkpoint = cp;
		run(cred, &ops);
		ok(failed("log", "not signed by the log key"), "log: a separate checkpoint with a bad"
		   " signature");
		ops.checkpoint = note;
		ok(run(cred, &ops) == VERIFY_PASS, "log: a separate checkpoint of the same tree");
		ops.checkpoint = NULL;
		free(cp);
		json_decref(p2);
	}
	/* a proof with a "hash" member of its own: the result's is the
	 * credential's, in that member's place (the text as the tree's) */
	{
		json_t *keep = r.proof, *p3 = json_deep_copy(r.proof);
		const char *h;

		json_object_set_new(p3, "hash", json_string("sha256:00"));
		r.proof = p3;
		v = run(cred, &ops);
		h = json_string_value(json_object_get(json_object_get(get("log"), "result"), "hash"));
		ok(v == VERIFY_PASS && h && strncmp(h, "sha256:", 7) == 0 && strlen(h) == 71,
		   "log: a proof with a hash member of its own: the result's hash is the credential's");
		r.proof = keep;
		json_decref(p3);
	}
	/* the cache a server keeps across verifications */
	{
		struct verify_cache *vc = NULL;
		json_t *p2 = log_make(cred, a.did, &logkey, &lv);
		char *bad = strdup(json_string_value(json_object_get(p2, "checkpoint")));

		ok(verify_cache_new(&vc) == 0, "cache: made");
		ops.cache = vc;
		ok(run(cred, &ops) == VERIFY_PASS && run(cred, &ops) == VERIFY_PASS,
		   "cache: the same credential passes twice (the checkpoint and list kept)");
		bad[strlen(bad) - 10] ^= 1;
		ops.checkpoint = bad;
		run(cred, &ops);
		ok(failed("log", "not signed by the log key"), "cache: a checkpoint of another text"
		   " is checked, not taken from the cache");
		ops.checkpoint = NULL;
		ops.log_keys = &wv;
		run(cred, &ops);
		ok(failed("log", "not signed by the log key"), "cache: the kept checkpoint is not"
		   " trusted under another log key");
		ops.log_keys = &lv;
		json_decref(r.list);
		r.list = list_make(&b, AFTER, 5, URL);
		v = run(cred, &ops);
		ok(v == VERIFY_FAIL && failed("status", "revoked"), "cache: a list with the entry"
		   " set after one without it: revoked");
		json_decref(r.list);
		r.list = list_make(&b, AFTER, -1, URL);
		ok(run(cred, &ops) == VERIFY_PASS, "cache: and the list without it again: passes");
		{
			int right = 0;

			for (int i = 0; i < 24; i++) {	/* more lists than the cache holds */
				json_decref(r.list);
				r.list = list_make(&b, AFTER, i % 2 ? 5 : 40 + i % 12, URL);
				right += run(cred, &ops) == (i % 2 ? VERIFY_FAIL : VERIFY_PASS);
			}
			is_int(right, 24, "cache: 24 lists (12 texts, twice) in turn, each read right");
		}
		json_decref(r.list);
		r.list = list_make(&b, AFTER, -1, URL);
		ops.cache = NULL;
		verify_cache_free(vc);
		free(bad);
		json_decref(p2);
	}
	json_decref(r.proof);
	r.proof = NULL;
	run(cred, &ops);
	ok(failed("log", "not in the transparency log"), "log: not in the log, in the lookup's words");
	r.proof = log_make(cred, a.did, &logkey, &lv);

	/* not checked: the offline verifier without its inputs */
	{
		struct verify_ops bare = { 0 };

		bare.now = NOW;
		v = run(cred, &bare);
		ok(v == VERIFY_UNCHECKED && passed("schema") && passed("proof") && passed("dates") &&
		   unchecked("issuer") && unchecked("status") && unchecked("log"),
		   "with no lookups: schema, proof and dates pass, the rest is not checked");
		bare.ctx = &r;
		bare.status_list = op_status_list;
		bare.log_proof = op_log_proof;
		run(cred, &bare);
		ok(unchecked("status") && strstr(json_string_value(json_object_get(get("status"),
				"detail")), "--registry"),
		   "status without a registry: a list by another key than the credential's is not"
		   " checked");
		ok(unchecked("log") && strstr(json_string_value(json_object_get(get("log"), "detail")),
					      "no log key"), "log without a log key: not checked");
		json_decref(r.list);
		r.list = list_make(&a, BEFORE, 5, URL);
		bare.log_keys = &lv;
		bare.nlog_keys = 1;
		v = run(cred, &bare);
		ok(v == VERIFY_FAIL && failed("status", "revoked") && passed("log") &&
		   unchecked("issuer"), "without a registry, a list by the credential's own key is"
		   " read: revoked");
		json_decref(r.list);
		r.list = list_make(&b, AFTER, -1, URL);
	}

	/* presentations */
	ok(verify_is_credential(cred) && !verify_is_presentation(cred), "a credential is one");
	vp = json_pack("{s:[s], s:[s], s:[O]}", "@context", CREDENTIAL_CONTEXT_VC,
		       "type", "VerifiablePresentation", "verifiableCredential", cred);
	ok(verify_is_presentation(vp) && !verify_is_credential(vp), "a presentation is one");
	ok(verify_presentation(vp, &ops, NULL, NULL, &res, &v) == 0 && v == VERIFY_PASS &&
	   json_is_true(json_object_get(res, "verified")) &&
	   json_array_size(json_object_get(res, "warnings")) == 1,
	   "an unsigned presentation is verified as a bundle, with a warning saying so");
	json_decref(res);
	ok(verify_presentation(vp, &ops, "c-123", NULL, &res, &v) == 0 && v == VERIFY_FAIL,
	   "an unsigned presentation cannot answer a challenge");
	json_decref(res);
	{
		struct key holder;
		json_t *doc, *signed_vp, *p;

		key_make(&holder);
		doc = json_deep_copy(vp);
		json_object_set_new(doc, "holder", json_string(holder.did));
		p = json_pack("{s:s, s:s}", "challenge", "c-123", "domain", "verifier.example");
		/* sign with challenge and domain in the proof: add them to a proof config */
		{
			struct di_proof_options opt = { 0 };
			json_t *config = NULL;
			unsigned char hash[64], sig[64];
			char mb[120] = "z";

			opt.verification_method = holder.vm;
			opt.created = AFTER;
			opt.proof_purpose = "authentication";
			di_proof_config(doc, &opt, &config);
			json_object_update(config, p);
			di_hash_data(doc, config, hash);
			ed25519_sign_raw(holder.sk, hash, 64, sig);
			base58btc_encode(sig, 64, mb + 1, sizeof(mb) - 1);
			json_object_del(config, "@context");
			json_object_set_new(config, "proofValue", json_string(mb));
			signed_vp = json_deep_copy(doc);
			json_object_set_new(signed_vp, "proof", config);
		}
		json_decref(p);
		ok(verify_presentation(signed_vp, &ops, "c-123", "verifier.example", &res, &v) == 0 &&
		   v == VERIFY_PASS, "a presentation signed by its holder, answering the challenge"
		   " and domain");
		json_decref(res);
		ok(verify_presentation(signed_vp, &ops, NULL, NULL, &res, &v) == 0 && v == VERIFY_PASS,
		   "and without asking for them");
		json_decref(res);
		ok(verify_presentation(signed_vp, &ops, "c-999", NULL, &res, &v) == 0 &&
		   v == VERIFY_FAIL, "another challenge fails");
		json_decref(res);
		ok(verify_presentation(signed_vp, &ops, NULL, "evil.example", &res, &v) == 0 &&
		   v == VERIFY_FAIL, "another domain fails");
		json_decref(res);
		json_object_set_new(signed_vp, "holder", json_string(other.did));
		ok(verify_presentation(signed_vp, &ops, NULL, NULL, &res, &v) == 0 &&
		   v == VERIFY_FAIL, "a proof by someone other than the holder fails");
		json_decref(res);
		json_object_set_new(signed_vp, "holder", json_string(holder.did));
		json_object_set_new(json_array_get(json_object_get(signed_vp, "verifiableCredential"),
						   0), "name", json_string("forged"));
		ok(verify_presentation(signed_vp, &ops, NULL, NULL, &res, &v) == 0 &&
		   v == VERIFY_FAIL, "a changed credential inside breaks the presentation's proof");
		json_decref(res);
		json_decref(signed_vp);
		json_decref(doc);
	}
	json_object_set_new(json_array_get(json_object_get(vp, "verifiableCredential"), 0), "name",
			    json_string("forged"));
	ok(verify_presentation(vp, &ops, NULL, NULL, &res, &v) == 0 && v == VERIFY_FAIL &&
	   !json_is_true(json_object_get(json_array_get(json_object_get(res, "credentials"), 0),
					 "verified")),
	   "an unsigned presentation with a changed credential: that credential fails");
	json_decref(res);
	json_object_set_new(vp, "verifiableCredential", json_array());
	ok(verify_presentation(vp, &ops, NULL, NULL, &res, &v) == 0 && v == VERIFY_FAIL,
	   "a presentation with no credential fails");
	json_decref(res);
	ok(strcmp(verify_state_str(VERIFY_UNCHECKED), "not checked") == 0, "state names");

	json_decref(vp);
	json_decref(last);
	json_decref(cred);
	json_decref(r.list);
	json_decref(r.proof);
	ok(runs > 40, "verify_credential_text asked in each run (more than 40)");
	is_int(text_same, runs, "each time it wrote the bytes json_dumps gives for"
	       " verify_credential's checks, the same verdict, names, states and details");
	return done_testing();
}
