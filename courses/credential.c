/* credential.c - the unsigned OpenBadgeCredential of a completed course. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/credential.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/identity_hash.h"
#include "courses/jcs.h"
#include "courses/xapi.h"

/* A builder: the first error sticks, later puts do nothing. */
struct cb {
	int rc;
};

static void
put(struct cb *b, json_t *obj, const char *key, json_t *val)
{
	if (b->rc == 0 && (val == NULL || json_object_set_new(obj, key, val) != 0))
		b->rc = TC_ENOMEM;
	else if (b->rc != 0)
		json_decref(val);
}

static void
append(struct cb *b, json_t *arr, json_t *val)
{
	if (b->rc == 0 && (val == NULL || json_array_append_new(arr, val) != 0))
		b->rc = TC_ENOMEM;
	else if (b->rc != 0)
		json_decref(val);
}

/* KEY = S; a NULL S is left out when OPTIONAL, else (and when empty or
 * not UTF-8) TC_EINVALID. */
static void
put_str(struct cb *b, json_t *obj, const char *key, const char *s, int optional)
{
	if (b->rc != 0 || (s == NULL && optional))
		return;
	if (s == NULL || s[0] == '\0' || utf8_check(s, strlen(s)) != 0) {
		b->rc = TC_EINVALID;
		return;
	}
	put(b, obj, key, json_string(s));
}

/* ["A"] or ["A", "B"]. */
static json_t *
types(const char *a, const char *b)
{
	json_t *arr = json_array();

	if (arr != NULL && (json_array_append_new(arr, json_string(a)) != 0 ||
			    (b && json_array_append_new(arr, json_string(b)) != 0))) {
		json_decref(arr);
		arr = NULL;
	}
	return arr;
}

static int
credits_ok(double v)
{
	return isfinite(v) && v >= 0;
}

static int
hash_ok(const char *h)
{
	return h != NULL && strlen(h) == IDENTITY_HASH_LEN && strncmp(h, "sha256$", 7) == 0 &&
	       strspn(h + 7, "0123456789abcdefABCDEF") == SHA256_HEX_LEN;
}

/* An RFC 3339 date-time in UTC ("...Z"). */
static int
utc_ok(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	return n > 0 && t[n - 1] == 'Z' && xapi_timestamp_parse(t, NULL) == 0;
}

/* An OB 3.0 AlignmentTargetType: one of the enumerated ones or "ext:" +
 * [A-Za-z0-9|._-]+ (the schema's pattern). */
static int
target_type_ok(const char *t)
{
	static const char *const known[] = { "ceasn:Competency", "ceterms:Credential", "CFItem",
		"CFRubric", "CFRubricCriterion", "CFRubricCriterionLevel", "CTDL", NULL };

	for (const char *const *k = known; *k; k++)
		if (strcmp(t, *k) == 0)
			return 1;
	return strncmp(t, "ext:", 4) == 0 && t[4] &&
	       strspn(t + 4, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789|._-") ==
	       strlen(t + 4);
}

/* Checks what put_str cannot: formats and numbers. */
static int
input_ok(const struct credential_input *in)
{
	size_t vlen = in->valid_from ? strlen(in->valid_from) : 0;

	if (in->awarded_date && !utc_ok(in->awarded_date))
		return 0;
	for (size_t i = 0; in->alignment && i < in->n_alignment; i++)
		if (in->alignment[i].target_type && !target_type_ok(in->alignment[i].target_type))
			return 0;

	if (in->id == NULL || strncmp(in->id, "urn:uuid:", 9) != 0 ||
	    !xapi_uuid_valid(in->id + 9))
		return 0;
	if (in->issuer_id == NULL || strncmp(in->issuer_id, "did:key:z", 9) != 0)
		return 0;
	if (vlen == 0 || in->valid_from[vlen - 1] != 'Z' ||
	    xapi_timestamp_parse(in->valid_from, NULL) != 0)
		return 0;
	if (!hash_ok(in->identity_hash) || in->salt == NULL)
		return 0;
	if (!credits_ok(in->credits_earned) || !credits_ok(in->credits_available))
		return 0;
	return in->n_alignment == 0 || in->alignment != NULL;
}

static json_t *
identity_object(struct cb *b, const struct credential_input *in)
{
	json_t *o = json_object();

	put(b, o, "type", json_string("IdentityObject"));
	put(b, o, "identityHash", json_string(in->identity_hash));
	put(b, o, "identityType", json_string("nationalIdentityNumber"));
	put(b, o, "hashed", json_true());
	/* An empty salt is an unsalted hash: "salt" is then left out. */
	if (in->salt != NULL && in->salt[0] != '\0')
		put_str(b, o, "salt", in->salt, 0);
	return o;
}

static json_t *
achievement(struct cb *b, const struct credential_input *in)
{
	json_t *a = json_object(), *criteria = json_object(), *align = json_array();

	put_str(b, a, "id", in->achievement_id, 0);
	put(b, a, "type", types("Achievement", NULL));
	put(b, a, "achievementType", json_string("Course"));
	put_str(b, a, "name", in->achievement_name, 0);
	put_str(b, a, "description", in->achievement_description, 0);
	put_str(b, criteria, "narrative", in->criteria_narrative, 0);
	put(b, a, "criteria", criteria);
	put_str(b, a, "humanCode", in->course_code, 0);
	put(b, a, "creditsAvailable", json_real(in->credits_available));
	put_str(b, a, "fieldOfStudy", in->field_of_study, 1);
	for (size_t i = 0; i < in->n_alignment; i++) {
		const struct credential_alignment *al = &in->alignment[i];
		json_t *o = json_object();

		put(b, o, "type", types("Alignment", NULL));
		put_str(b, o, "targetName", al->target_name, 0);
		put_str(b, o, "targetUrl", al->target_url, 0);
		put_str(b, o, "targetFramework", al->target_framework, 1);
		put_str(b, o, "targetCode", al->target_code, 1);
		put_str(b, o, "targetDescription", al->target_description, 1);
		put_str(b, o, "targetType", al->target_type, 1);
		append(b, align, o);
	}
	if (in->n_alignment > 0)
		put(b, a, "alignment", align);
	else
		json_decref(align);
	return a;
}

static json_t *
subject(struct cb *b, const struct credential_input *in)
{
	json_t *s = json_object(), *ids = json_array(), *results = json_array();
	json_t *result = json_object();

	put(b, s, "type", types("AchievementSubject", NULL));
	append(b, ids, identity_object(b, in));
	put(b, s, "identifier", ids);
	put(b, s, "achievement", achievement(b, in));
	put(b, s, "creditsEarned", json_real(in->credits_earned));
	put_str(b, s, "term", in->term, 1);
	put(b, result, "type", types("Result", NULL));
	put_str(b, result, "value", in->grade, 1);
	put(b, result, "status", json_string("Completed"));
	append(b, results, result);
	put(b, s, "result", results);
	return s;
}

static json_t *
status_entry(struct cb *b, const struct credential_input *in)
{
	json_t *st = json_object();
	char index[24], *id = NULL;
	size_t idlen;

	snprintf(index, sizeof(index), "%" PRIu64, in->status_list_index);
	put_str(b, st, "statusListCredential", in->status_list_credential, 0);
	if (b->rc == 0) {
		idlen = strlen(in->status_list_credential) + 1 + strlen(index) + 1;
		id = malloc(idlen);
		if (id == NULL)
			b->rc = TC_ENOMEM;
		else
			snprintf(id, idlen, "%s#%s", in->status_list_credential, index);
	}
	if (b->rc == 0)
		put(b, st, "id", json_string(id));
	free(id);
	put(b, st, "type", json_string("BitstringStatusListEntry"));
	put(b, st, "statusPurpose", json_string("revocation"));
	put(b, st, "statusListIndex", json_string(index));
	return st;
}

int
credential_build(const struct credential_input *in, json_t **out)
{
	struct cb b = { 0 };
	json_t *vc = NULL, *ctx = NULL, *issuer = NULL;

	*out = NULL;
	if (in == NULL || !input_ok(in))
		return TC_EINVALID;
	vc = json_object();
	if (vc == NULL)
		return TC_ENOMEM;
	ctx = json_array();
	append(&b, ctx, json_string(CREDENTIAL_CONTEXT_VC));
	append(&b, ctx, json_string(CREDENTIAL_CONTEXT_OB));
	put(&b, vc, "@context", ctx);
	put_str(&b, vc, "id", in->id, 0);
	put(&b, vc, "type", types("VerifiableCredential", "OpenBadgeCredential"));
	issuer = json_object();
	put_str(&b, issuer, "id", in->issuer_id, 0);
	put(&b, issuer, "type", types("Profile", NULL));
	put_str(&b, issuer, "name", in->issuer_name, 0);
	put_str(&b, issuer, "url", in->issuer_url, 1);
	put(&b, vc, "issuer", issuer);
	put_str(&b, vc, "validFrom", in->valid_from, 0);
	put_str(&b, vc, "awardedDate", in->awarded_date, 1);
	put_str(&b, vc, "name", in->name, 0);
	put(&b, vc, "credentialSubject", subject(&b, in));
	put(&b, vc, "credentialStatus", status_entry(&b, in));
	if (b.rc != 0) {
		json_decref(vc);
		return b.rc;
	}
	*out = vc;
	return 0;
}

/* ---- the canonical texts, written directly ------------------------------------ */

/*
 * The writer of the credential's RFC 8785 text from its fields, without a
 * JSON tree: every object's members are written in JCS order (the names
 * are ASCII constants, so UTF-16 code unit order is byte order), strings
 * through jcs_string, numbers through jcs_number. It checks what
 * credential_build checks (input_ok, and put_str's rule for each string),
 * so it accepts exactly the inputs credential_build accepts and writes
 * JCS(credential_build(IN)) for them (tests/unit/courses/credential_test.c
 * compares the two for many inputs).
 */
struct jw {
	struct dynbuf *b;
	int rc;
	int first;	/* no member written yet in the current object */
};

static void
jw_raw(struct jw *w, const char *s)
{
	if (w->rc == 0)
		w->rc = dynbuf_puts(w->b, s);
}

static void
jw_open(struct jw *w)
{
	jw_raw(w, "{");
	w->first = 1;
}

static void
jw_close(struct jw *w)
{
	jw_raw(w, "}");
	w->first = 0;
}

/* The next member's name (an ASCII constant without escapes) and colon. */
static void
jw_key(struct jw *w, const char *key)
{
	if (w->rc == 0 && !w->first)
		w->rc = dynbuf_append(w->b, ",", 1);
	w->first = 0;
	if (w->rc == 0)
		w->rc = dynbuf_append(w->b, "\"", 1);
	jw_raw(w, key);
	jw_raw(w, "\":");
}

/* S as a canonical string; NULL, empty or not UTF-8: TC_EINVALID (put_str). */
static void
jw_str(struct jw *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (w->rc != 0)
		return;
	if (n == 0 || utf8_check(s, n) != 0)
		w->rc = TC_EINVALID;
	else
		w->rc = jcs_string(w->b, s, n);
}

/* KEY: S (required) */
static void
jw_member(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

/* KEY: S when S is not NULL (optional) */
static void
jw_opt(struct jw *w, const char *key, const char *s)
{
	if (s)
		jw_member(w, key, s);
}

static void
jw_number(struct jw *w, const char *key, double d)
{
	char num[JCS_NUMBER_MAX];

	jw_key(w, key);
	if (w->rc == 0 && (w->rc = jcs_number(d, num)) == 0)
		jw_raw(w, num);
}

#define JW_CONTEXT "[\"" CREDENTIAL_CONTEXT_VC "\",\"" CREDENTIAL_CONTEXT_OB "\"]"

static void
jw_achievement(struct jw *w, const struct credential_input *in)
{
	jw_open(w);
	jw_key(w, "achievementType");
	jw_raw(w, "\"Course\"");
	if (in->n_alignment > 0) {
		jw_key(w, "alignment");
		jw_raw(w, "[");
		for (size_t i = 0; i < in->n_alignment; i++) {
			const struct credential_alignment *al = &in->alignment[i];

			if (i > 0)
				jw_raw(w, ",");
			jw_open(w);
			jw_opt(w, "targetCode", al->target_code);
			jw_opt(w, "targetDescription", al->target_description);
			jw_opt(w, "targetFramework", al->target_framework);
			jw_member(w, "targetName", al->target_name);
			jw_opt(w, "targetType", al->target_type);
			jw_member(w, "targetUrl", al->target_url);
			jw_key(w, "type");
			jw_raw(w, "[\"Alignment\"]");
			jw_close(w);
		}
		jw_raw(w, "]");
	}
	jw_number(w, "creditsAvailable", in->credits_available);
	jw_key(w, "criteria");
	jw_open(w);
	jw_member(w, "narrative", in->criteria_narrative);
	jw_close(w);
	jw_member(w, "description", in->achievement_description);
	jw_opt(w, "fieldOfStudy", in->field_of_study);
	jw_member(w, "humanCode", in->course_code);
	jw_member(w, "id", in->achievement_id);
	jw_member(w, "name", in->achievement_name);
	jw_key(w, "type");
	jw_raw(w, "[\"Achievement\"]");
	jw_close(w);
}

/* JCS(credential_build(IN)) into B; *PROOF_AT: the offset where a "proof"
 * member belongs (after "name", before "type"). */
static int
write_unsigned(struct dynbuf *b, const struct credential_input *in, size_t *proof_at)
{
	struct jw w = { b, 0, 0 };
	char index[24];

	if (in == NULL || !input_ok(in))
		return TC_EINVALID;
	snprintf(index, sizeof(index), "%" PRIu64, in->status_list_index);
	jw_open(&w);
	jw_key(&w, "@context");
	jw_raw(&w, JW_CONTEXT);
	jw_opt(&w, "awardedDate", in->awarded_date);

	jw_key(&w, "credentialStatus");
	jw_open(&w);
	jw_key(&w, "id");
	if (w.rc == 0 && (!in->status_list_credential || !in->status_list_credential[0]))
		w.rc = TC_EINVALID;
	if (w.rc == 0) {	/* statusListCredential + "#" + index */
		size_t n = strlen(in->status_list_credential), m = strlen(index);
		char *id = malloc(n + 1 + m + 1);

		if (!id) {
			w.rc = TC_ENOMEM;
		} else {
			memcpy(id, in->status_list_credential, n);
			id[n] = '#';
			memcpy(id + n + 1, index, m + 1);
			jw_str(&w, id);
			free(id);
		}
	}
	jw_member(&w, "statusListCredential", in->status_list_credential);
	jw_member(&w, "statusListIndex", index);
	jw_key(&w, "statusPurpose");
	jw_raw(&w, "\"revocation\"");
	jw_key(&w, "type");
	jw_raw(&w, "\"BitstringStatusListEntry\"");
	jw_close(&w);

	jw_key(&w, "credentialSubject");
	jw_open(&w);
	jw_key(&w, "achievement");
	jw_achievement(&w, in);
	jw_number(&w, "creditsEarned", in->credits_earned);
	jw_key(&w, "identifier");
	jw_raw(&w, "[");
	jw_open(&w);
	jw_key(&w, "hashed");
	jw_raw(&w, "true");
	jw_member(&w, "identityHash", in->identity_hash);
	jw_key(&w, "identityType");
	jw_raw(&w, "\"nationalIdentityNumber\"");
	/* an empty salt is an unsalted hash: "salt" is then left out */
	if (in->salt[0] != '\0')
		jw_member(&w, "salt", in->salt);
	jw_key(&w, "type");
	jw_raw(&w, "\"IdentityObject\"");
	jw_close(&w);
	jw_raw(&w, "]");
	jw_key(&w, "result");
	jw_raw(&w, "[");
	jw_open(&w);
	jw_key(&w, "status");
	jw_raw(&w, "\"Completed\"");
	jw_key(&w, "type");
	jw_raw(&w, "[\"Result\"]");
	jw_opt(&w, "value", in->grade);
	jw_close(&w);
	jw_raw(&w, "]");
	jw_opt(&w, "term", in->term);
	jw_key(&w, "type");
	jw_raw(&w, "[\"AchievementSubject\"]");
	jw_close(&w);

	jw_member(&w, "id", in->id);
	jw_key(&w, "issuer");
	jw_open(&w);
	jw_member(&w, "id", in->issuer_id);
	jw_member(&w, "name", in->issuer_name);
	jw_key(&w, "type");
	jw_raw(&w, "[\"Profile\"]");
	jw_opt(&w, "url", in->issuer_url);
	jw_close(&w);
	jw_member(&w, "name", in->name);
	*proof_at = b->len;
	w.first = 0;
	jw_key(&w, "type");
	jw_raw(&w, "[\"VerifiableCredential\",\"OpenBadgeCredential\"]");
	jw_member(&w, "validFrom", in->valid_from);
	jw_close(&w);
	return w.rc;
}

/* The proof configuration's JCS (di_proof_config's with the credential's
 * @context) into B; *VALUE_AT: where "proofValue" belongs. */
static int
write_config(struct dynbuf *b, const char *vm, const char *created, size_t *value_at)
{
	struct jw w = { b, 0, 0 };

	if (!vm || !created || !di_datetime_ok(created))
		return TC_EINVALID;
	jw_open(&w);
	jw_key(&w, "@context");
	jw_raw(&w, JW_CONTEXT);
	jw_member(&w, "created", created);
	jw_key(&w, "cryptosuite");
	jw_raw(&w, "\"" DI_CRYPTOSUITE "\"");
	jw_key(&w, "proofPurpose");
	jw_raw(&w, "\"assertionMethod\"");
	*value_at = b->len;
	jw_key(&w, "type");
	jw_raw(&w, "\"" DI_PROOF_TYPE "\"");
	jw_key(&w, "verificationMethod");
	if (w.rc == 0)	/* may be empty, as di_proof_config allows */
		w.rc = jcs_string(b, vm, strlen(vm));
	jw_close(&w);
	return w.rc;
}

int
credential_jcs_make(const struct credential_input *in, const char *vm, const char *created,
		    struct credential_jcs *cj)
{
	int rc;

	dynbuf_init(&cj->doc, 1 << 24);
	dynbuf_init(&cj->cfg, 1 << 20);
	cj->proof_at = cj->value_at = 0;
	if ((rc = dynbuf_reserve(&cj->doc, 3072)) || (rc = dynbuf_reserve(&cj->cfg, 512)) ||
	    (rc = write_unsigned(&cj->doc, in, &cj->proof_at)) ||
	    (rc = write_config(&cj->cfg, vm, created, &cj->value_at)))
		credential_jcs_cleanup(cj);
	return rc;
}

void
credential_jcs_hash(const struct credential_jcs *cj, unsigned char hash[64])
{
	sha256_raw(cj->cfg.data, cj->cfg.len, hash);
	sha256_raw(cj->doc.data, cj->doc.len, hash + 32);
}

#define PROOF_OPEN ",\"proof\":["
#define VALUE_OPEN ",\"proofValue\":\""

int
credential_jcs_signed(const struct credential_jcs *cj, const unsigned char signature[64],
		      char **text, size_t *len)
{
	char value[128];
	size_t vn, n;
	char *t, *p;
	int rc;

	*text = NULL;
	if (len)
		*len = 0;
	value[0] = 'z';
	if ((rc = base58btc_encode(signature, 64, value + 1, sizeof(value) - 1)))
		return rc;
	vn = strlen(value);
	n = cj->doc.len + strlen(PROOF_OPEN) + cj->cfg.len + strlen(VALUE_OPEN) + vn + 2;
	if (!(t = malloc(n + 1)))
		return TC_ENOMEM;
	p = t;
#define PUT(s, k) do { memcpy(p, (s), (k)); p += (k); } while (0)
	PUT(cj->doc.data, cj->proof_at);
	PUT(PROOF_OPEN, strlen(PROOF_OPEN));
	PUT(cj->cfg.data, cj->value_at);
	PUT(VALUE_OPEN, strlen(VALUE_OPEN));
	PUT(value, vn);
	PUT("\"", 1);
	PUT(cj->cfg.data + cj->value_at, cj->cfg.len - cj->value_at);
	PUT("]", 1);
	PUT(cj->doc.data + cj->proof_at, cj->doc.len - cj->proof_at);
#undef PUT
	*p = '\0';
	*text = t;
	if (len)
		*len = (size_t)(p - t);
	return 0;
}

void
credential_jcs_cleanup(struct credential_jcs *cj)
{
	dynbuf_cleanup(&cj->doc);
	dynbuf_cleanup(&cj->cfg);
}

int
credential_signed_text(const struct credential_input *in, const struct credential_proof *proof,
		       char **text, size_t *len)
{
	struct credential_jcs cj;
	int rc;

	*text = NULL;
	if (len)
		*len = 0;
	if (!proof || !proof->verification_method || !proof->created)
		return TC_EINVALID;
	if ((rc = credential_jcs_make(in, proof->verification_method, proof->created, &cj)))
		return rc;
	rc = credential_jcs_signed(&cj, proof->signature, text, len);
	credential_jcs_cleanup(&cj);
	return rc;
}

/* ---- the shared fields -------------------------------------------------------- */

/* KEY = S when S is not NULL. */
static void
put_opt(struct cb *b, json_t *o, const char *key, const char *s)
{
	if (s)
		put(b, o, key, json_string(s));
}

int
credential_shared_json(const struct credential_input *in, json_t **out)
{
	struct cb b = { 0 };
	json_t *o = json_object(), *al = json_array();

	*out = NULL;
	if (!o || !al) {
		json_decref(o);
		json_decref(al);
		return TC_ENOMEM;
	}
	put_opt(&b, o, "issuer_name", in->issuer_name);
	put_opt(&b, o, "issuer_url", in->issuer_url);
	put_opt(&b, o, "name", in->name);
	put_opt(&b, o, "achievement_id", in->achievement_id);
	put_opt(&b, o, "achievement_name", in->achievement_name);
	put_opt(&b, o, "description", in->achievement_description);
	put_opt(&b, o, "criteria", in->criteria_narrative);
	put_opt(&b, o, "code", in->course_code);
	put(&b, o, "credits", json_real(in->credits_available));
	put_opt(&b, o, "field_of_study", in->field_of_study);
	put_opt(&b, o, "status_list", in->status_list_credential);
	for (size_t i = 0; in->alignment && i < in->n_alignment; i++) {
		const struct credential_alignment *a = &in->alignment[i];
		json_t *x = json_object();

		put_opt(&b, x, "name", a->target_name);
		put_opt(&b, x, "url", a->target_url);
		put_opt(&b, x, "framework", a->target_framework);
		put_opt(&b, x, "code", a->target_code);
		put_opt(&b, x, "description", a->target_description);
		put_opt(&b, x, "type", a->target_type);
		append(&b, al, x);
	}
	put(&b, o, "alignment", al);
	if (b.rc) {
		json_decref(o);
		return b.rc;
	}
	*out = o;
	return 0;
}

static const char *
sget(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int
credential_shared_read(const json_t *shared, struct credential_input *in,
		       struct credential_alignment al[CREDENTIAL_ALIGN_MAX])
{
	const json_t *credits = json_object_get(shared, "credits");
	const json_t *arr = json_object_get(shared, "alignment");
	size_t i;

	if (!json_is_object(shared) || !json_is_number(credits) || !json_is_array(arr) ||
	    json_array_size(arr) > CREDENTIAL_ALIGN_MAX)
		return TC_EINVALID;
	in->issuer_name = sget(shared, "issuer_name");
	in->issuer_url = sget(shared, "issuer_url");
	in->name = sget(shared, "name");
	in->achievement_id = sget(shared, "achievement_id");
	in->achievement_name = sget(shared, "achievement_name");
	in->achievement_description = sget(shared, "description");
	in->criteria_narrative = sget(shared, "criteria");
	in->course_code = sget(shared, "code");
	in->credits_available = json_number_value(credits);
	in->field_of_study = sget(shared, "field_of_study");
	in->status_list_credential = sget(shared, "status_list");
	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *x = json_array_get(arr, i);

		al[i] = (struct credential_alignment){ sget(x, "name"), sget(x, "url"),
			sget(x, "framework"), sget(x, "code"), sget(x, "description"),
			sget(x, "type") };
	}
	in->alignment = i ? al : NULL;
	in->n_alignment = i;
	return 0;
}

/* ---- reading a signed credential back ---------------------------------------- */

/* The only element of a one-element array A, else NULL. */
static const json_t *
only(const json_t *a)
{
	return json_is_array(a) && json_array_size(a) == 1 ? json_array_get(a, 0) : NULL;
}

int
credential_parse(const json_t *doc, struct credential_input *in,
		 struct credential_alignment al[CREDENTIAL_ALIGN_MAX], struct credential_proof *proof)
{
	const json_t *issuer = json_object_get(doc, "issuer");
	const json_t *subj = json_object_get(doc, "credentialSubject");
	const json_t *idobj = only(json_object_get(subj, "identifier"));
	const json_t *result = only(json_object_get(subj, "result"));
	const json_t *ach = json_object_get(subj, "achievement");
	const json_t *arr = json_object_get(ach, "alignment");
	const json_t *st = json_object_get(doc, "credentialStatus");
	const json_t *pr = only(json_object_get(doc, "proof"));
	const json_t *earned = json_object_get(subj, "creditsEarned");
	const json_t *avail = json_object_get(ach, "creditsAvailable");
	const char *index = sget(st, "statusListIndex"), *value = sget(pr, "proofValue");
	unsigned char sig[64];
	size_t siglen = 0, i;
	char *end = NULL;

	memset(in, 0, sizeof(*in));
	memset(proof, 0, sizeof(*proof));
	if (!json_is_object(doc) || !json_is_object(issuer) || !idobj || !pr ||
	    !json_is_number(earned) || !json_is_number(avail) || !index || !value ||
	    value[0] != 'z' || (arr && (!json_is_array(arr) ||
					json_array_size(arr) > CREDENTIAL_ALIGN_MAX)))
		return TC_EINVALID;
	if (base58btc_decode(value + 1, sig, sizeof(sig), &siglen) || siglen != 64)
		return TC_EINVALID;
	in->id = sget(doc, "id");
	in->issuer_id = sget(issuer, "id");
	in->issuer_name = sget(issuer, "name");
	in->issuer_url = sget(issuer, "url");
	in->valid_from = sget(doc, "validFrom");
	in->awarded_date = sget(doc, "awardedDate");
	in->name = sget(doc, "name");
	in->identity_hash = sget(idobj, "identityHash");
	in->salt = sget(idobj, "salt") ? sget(idobj, "salt") : "";
	in->credits_earned = json_number_value(earned);
	in->term = sget(subj, "term");
	in->grade = sget(result, "value");
	in->achievement_id = sget(ach, "id");
	in->achievement_name = sget(ach, "name");
	in->achievement_description = sget(ach, "description");
	in->criteria_narrative = sget(json_object_get(ach, "criteria"), "narrative");
	in->course_code = sget(ach, "humanCode");
	in->credits_available = json_number_value(avail);
	in->field_of_study = sget(ach, "fieldOfStudy");
	for (i = 0; arr && i < json_array_size(arr); i++) {
		const json_t *x = json_array_get(arr, i);

		al[i] = (struct credential_alignment){ sget(x, "targetName"), sget(x, "targetUrl"),
			sget(x, "targetFramework"), sget(x, "targetCode"),
			sget(x, "targetDescription"), sget(x, "targetType") };
	}
	in->alignment = i ? al : NULL;
	in->n_alignment = i;
	in->status_list_credential = sget(st, "statusListCredential");
	if (index[0] < '0' || index[0] > '9')
		return TC_EINVALID;
	in->status_list_index = strtoull(index, &end, 10);
	if (*end)
		return TC_EINVALID;
	proof->verification_method = sget(pr, "verificationMethod");
	proof->created = sget(pr, "created");
	memcpy(proof->signature, sig, 64);
	return 0;
}
