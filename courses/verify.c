/*
 * verify.c - the checks of a credential and of a presentation (verify.h).
 *
 * Each check writes one line for people into a DETAIL buffer and one
 * state; check() appends it to the caller's array, or writes it as text
 * (verify_credential_text). Lookups go through struct verify_ops, so
 * nothing here knows where keys, status lists and log proofs come from.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "courses/credential.h"
#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/jcs.h"
#include "courses/jsonin.h"
#include "courses/jsonout.h"
#include "courses/merkle.h"
#include "courses/recognition.h"
#include "courses/signednote.h"
#include "courses/statuslist.h"
#include "courses/verify.h"
#include "courses/xapi.h"

#define DETAIL_MAX 2400	/* a revocation reason is up to 2000 bytes */

const char *
verify_state_str(enum verify_state s)
{
	return s == VERIFY_PASS ? "passed" : s == VERIFY_FAIL ? "failed" : "not checked";
}

/* Where the checks go: a JSON array (ARR), or their text (TEXT). */
struct checks_sink {
	json_t *arr;
	struct verify_checks_text *text;
};

/* V's compact text appended to OUT: json_dumps' bytes (courses/jsonout.h,
 * json_dumps itself where that would differ). */
static int
write_value(const json_t *v, struct dynbuf *out)
{
	char *s;
	int rc = json_write_compact(v, out);

	if (rc != TC_EINVALID || !v)
		return rc;
	if (!(s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)))
		return TC_ENOMEM;
	rc = dynbuf_puts(out, s);
	free(s);
	return rc;
}

/* The log check's result as text: PROOF with "hash" (and "checkpoint" when
 * CHECKPOINT) set, as json_copy and json_object_set_new make it: added at
 * the end when PROOF has no such member, else in that member's place (then
 * written from the copy). */
static int
write_result(const json_t *proof, const char *hash, const char *checkpoint, struct dynbuf *out)
{
	size_t at = out->len;
	json_t *r;
	int rc;

	if (json_is_object(proof) && !json_object_get(proof, "hash") &&
	    (!checkpoint || !json_object_get(proof, "checkpoint"))) {
		if ((rc = write_value(proof, out)))
			return rc;
		out->len--;	/* the closing brace */
		if ((out->len > at + 1 && dynbuf_puts(out, ",")) ||
		    dynbuf_puts(out, "\"hash\":") || json_write_string(hash, out) ||
		    (checkpoint && (dynbuf_puts(out, ",\"checkpoint\":") ||
				    json_write_string(checkpoint, out))) ||
		    dynbuf_puts(out, "}"))
			return TC_ENOMEM;
		return 0;
	}
	r = json_copy((json_t *)proof);
	if (!r || json_object_set_new(r, "hash", json_string(hash)) ||
	    (checkpoint && json_object_set_new(r, "checkpoint", json_string(checkpoint))))
		rc = TC_ENOMEM;
	else
		rc = write_value(r, out);
	json_decref(r);
	return rc;
}

/* {"check": NAME, "ok", "detail"[, "unchecked"][, "result"]} as text, the
 * bytes check() gives; a detail jansson would refuse (not UTF-8: a
 * truncated one) is TC_ENOMEM, as json_pack's refusal is there. */
static int
check_text(struct verify_checks_text *t, const char *name, enum verify_state st,
	   const char *detail, const json_t *proof, const char *hash, const char *checkpoint)
{
	struct dynbuf *out = t->out;
	struct verify_check_text *c;
	size_t at;
	int rc;

	if (t->n == VERIFY_CHECKS_MAX)
		return TC_ENOMEM;
	c = &t->c[t->n];
	if (dynbuf_puts(out, t->n ? ",{\"check\":\"" : "[{\"check\":\"") ||
	    dynbuf_puts(out, name) ||
	    dynbuf_puts(out, st == VERIFY_PASS ? "\",\"ok\":true,\"detail\":" :
			     "\",\"ok\":false,\"detail\":"))
		return TC_ENOMEM;
	at = out->len;
	if ((rc = json_write_string(detail, out)))
		return rc == TC_EINVALID ? TC_ENOMEM : rc;
	c->name = name;
	c->st = st;
	c->detail_at = at;
	c->detail_len = out->len - at;
	if (st == VERIFY_UNCHECKED && dynbuf_puts(out, ",\"unchecked\":true"))
		return TC_ENOMEM;
	if (proof && (dynbuf_puts(out, ",\"result\":") ||
		      (rc = write_result(proof, hash, checkpoint, out))))
		return rc ? rc : TC_ENOMEM;
	if (dynbuf_puts(out, "}"))
		return TC_ENOMEM;
	t->n++;
	return 0;
}

/* Appends {"check": NAME, "ok", "detail"[, "unchecked"][, "result"]} to
 * the sink; the result (the log check's) is PROOF, when not NULL, with
 * "hash": HASH and "checkpoint": CHECKPOINT (when not NULL) set. Folds ST
 * into *VERDICT. */
static int
check(const struct checks_sink *k, const char *name, enum verify_state st, const char *detail,
      const json_t *proof, const char *hash, const char *checkpoint,
      enum verify_state *verdict)
{
	if (k->text) {
		int rc = check_text(k->text, name, st, detail, proof, hash, checkpoint);

		if (rc)
			return rc;
	} else {
		json_t *o = json_pack("{s:s, s:b, s:s}", "check", name, "ok", st == VERIFY_PASS,
				      "detail", detail);
		json_t *result = NULL;

		if (o && st == VERIFY_UNCHECKED &&
		    json_object_set_new(o, "unchecked", json_true())) {
			json_decref(o);
			o = NULL;
		}
		if (o && proof) {
			/* a shallow copy: PROOF's members are shared, never changed */
			result = json_copy((json_t *)proof);
			if (!result || json_object_set_new(result, "hash", json_string(hash)) ||
			    (checkpoint &&
			     json_object_set_new(result, "checkpoint", json_string(checkpoint)))) {
				json_decref(result);
				json_decref(o);
				o = NULL;
			} else if (json_object_set_new(o, "result", result)) {	/* takes it */
				json_decref(o);
				o = NULL;
			}
		}
		if (!o || json_array_append_new(k->arr, o))
			return TC_ENOMEM;
	}
	if (st == VERIFY_FAIL || (st == VERIFY_UNCHECKED && *verdict == VERIFY_PASS))
		*verdict = st;
	return 0;
}

static int
has_string(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	if (json_is_string(arr))
		return strcmp(json_string_value(arr), s) == 0;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* "YYYY-MM-DDThh:mm:ssZ" of T. */
static void
fmt_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "@%lld", (long long)t);
}

/* S as unix seconds: 0, or TC_EINVALID when S is not a date-time. */
static int
parse_time(const char *s, int64_t *t)
{
	int64_t us;

	if (!s || xapi_timestamp_parse(s, &us) != 0)
		return TC_EINVALID;
	*t = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	return 0;
}

/* The issuer's id: "issuer" as a string or a profile's "id"; NULL if none. */
static const char *
issuer_id(const json_t *doc)
{
	const json_t *iss = json_object_get(doc, "issuer");

	return json_is_string(iss) ? json_string_value(iss) :
	       json_string_value(json_object_get(iss, "id"));
}

/* The first proof of DOC (an object, or the first of an array). */
static const json_t *
first_proof(const json_t *doc)
{
	const json_t *p = json_object_get(doc, "proof");

	return json_is_array(p) ? json_array_get(p, 0) : p;
}

/* When DOC was signed: its proof's "created", else its validFrom. */
static const char *
signed_when(const json_t *doc)
{
	const char *c = json_string_value(json_object_get(first_proof(doc), "created"));

	return c ? c : json_string_value(json_object_get(doc, "validFrom"));
}

/* ---- schema ---------------------------------------------------------------------- */

int
verify_is_credential(const json_t *doc)
{
	return json_is_object(doc) && json_object_get(doc, "credentialSubject") != NULL;
}

int
verify_is_presentation(const json_t *doc)
{
	return json_is_object(doc) &&
	       has_string(json_object_get(doc, "type"), "VerifiablePresentation");
}

/* Whether S is an Open Badges 3.0 context URL as the AchievementCredential
 * schema's pattern has it: ".../ob/v3p0/context" then any number of
 * "-3.D.D" (3.0.3, the one tinchi issues with, and the earlier 3.0.x) then
 * ".json". */
static int
ob_context(const char *s)
{
	static const char base[] = "https://purl.imsglobal.org/spec/ob/v3p0/context";

	if (!s || strncmp(s, base, sizeof(base) - 1) != 0)
		return 0;
	s += sizeof(base) - 1;
	while (s[0] == '-' && s[1] == '3' && s[2] == '.' && isdigit((unsigned char)s[3]) &&
	       s[4] == '.' && isdigit((unsigned char)s[5]))
		s += 6;
	return strcmp(s, ".json") == 0;
}

/* NULL when CRED has the shape of an OB 3.0 credential, else the reason. */
static const char *
shape_problem(const json_t *cred)
{
	json_t *ctx = json_object_get(cred, "@context"), *type = json_object_get(cred, "type");
	json_t *issuer = json_object_get(cred, "issuer");
	json_t *subj = json_object_get(cred, "credentialSubject");

	if (!json_is_array(ctx) || json_array_size(ctx) < 2 ||
	    !json_is_string(json_array_get(ctx, 0)) ||
	    strcmp(json_string_value(json_array_get(ctx, 0)), CREDENTIAL_CONTEXT_VC) != 0 ||
	    !ob_context(json_string_value(json_array_get(ctx, 1))))
		return "@context must start with the VC 2.0 context, then an Open Badges 3.0 context";
	if (!json_is_array(type) || !has_string(type, "VerifiableCredential") ||
	    !(has_string(type, "OpenBadgeCredential") || has_string(type, "AchievementCredential")))
		return "type must name VerifiableCredential and OpenBadgeCredential";
	if (!json_is_string(json_object_get(cred, "id")))
		return "id is missing";
	if (!json_is_object(issuer) || !json_is_string(json_object_get(issuer, "id")))
		return "issuer must be a profile with an id";
	if (!json_is_string(json_object_get(cred, "validFrom")))
		return "validFrom is missing";
	if (!json_is_object(subj) || !json_is_object(json_object_get(subj, "achievement")))
		return "credentialSubject with an achievement is missing";
	if (!json_is_array(json_object_get(cred, "proof")))
		return "proof must be an array";
	return NULL;
}

/* ---- the cache shared by verifications ------------------------------------------ */

#define CACHE_LISTS 8

struct verify_cache {
	pthread_mutex_t mu;
	/* the last checkpoint note whose signature held under note_keys */
	char *note;
	size_t note_text_len;
	const struct signednote_verifier *note_keys;
	size_t note_nkeys;
	/* status lists decoded: encodedList text -> bits */
	struct {
		char *enc;
		struct statuslist sl;
	} lists[CACHE_LISTS];
	size_t next_list;	/* the slot replaced next */
};

int
verify_cache_new(struct verify_cache **out)
{
	struct verify_cache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return TC_ENOMEM;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return TC_ENOMEM;
	}
	*out = c;
	return 0;
}

void
verify_cache_free(struct verify_cache *c)
{
	if (!c)
		return;
	free(c->note);
	for (size_t i = 0; i < CACHE_LISTS; i++) {
		free(c->lists[i].enc);
		statuslist_cleanup(&c->lists[i].sl);
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* signednote_open of NOTE under OPS's log keys, remembered in OPS->cache
 * for the same text and keys. */
static int
note_open(const char *note, const struct verify_ops *ops, size_t *text_len)
{
	struct verify_cache *c = ops->cache;
	size_t len = strlen(note);
	char *copy;
	int rc;

	if (c) {
		int hit;

		pthread_mutex_lock(&c->mu);
		hit = c->note && c->note_keys == ops->log_keys && c->note_nkeys == ops->nlog_keys &&
		      strcmp(c->note, note) == 0;
		if (hit)
			*text_len = c->note_text_len;
		pthread_mutex_unlock(&c->mu);
		if (hit)
			return 0;
	}
	rc = signednote_open(note, len, ops->log_keys, ops->nlog_keys, text_len, NULL);
	if (rc || !c || !(copy = strdup(note)))
		return rc;
	pthread_mutex_lock(&c->mu);
	free(c->note);
	c->note = copy;
	c->note_text_len = *text_len;
	c->note_keys = ops->log_keys;
	c->note_nkeys = ops->nlog_keys;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* Bit INDEX of the status list encoded as ENC (statuslist_get's answer in
 * *BIT), decoded once per text when CACHE is given: 0, TC_ENOMEM, or
 * another code when ENC does not decode. */
static int
list_bit(struct verify_cache *c, const char *enc, size_t index, int *bit)
{
	struct statuslist sl = { 0 };
	char *copy = NULL;
	size_t i;
	int rc;

	if (c) {
		pthread_mutex_lock(&c->mu);
		for (i = 0; i < CACHE_LISTS; i++)
			if (c->lists[i].enc && strcmp(c->lists[i].enc, enc) == 0)
				break;
		if (i < CACHE_LISTS)
			*bit = statuslist_get(&c->lists[i].sl, index);
		pthread_mutex_unlock(&c->mu);
		if (i < CACHE_LISTS)
			return 0;
	}
	if ((rc = statuslist_decode(enc, 0, &sl)))
		return rc;
	*bit = statuslist_get(&sl, index);
	if (!c || !(copy = strdup(enc))) {
		statuslist_cleanup(&sl);
		return 0;
	}
	pthread_mutex_lock(&c->mu);
	i = c->next_list;
	c->next_list = (i + 1) % CACHE_LISTS;
	free(c->lists[i].enc);
	statuslist_cleanup(&c->lists[i].sl);
	c->lists[i].enc = copy;
	c->lists[i].sl = sl;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* ---- proof ----------------------------------------------------------------------- */

/* The eddsa-jcs-2022 proof of DOC by the key of did:key DID (may be NULL)
 * with PURPOSE: *ST and DETAIL. Only TC_ENOMEM / TC_EIO return. CANON
 * (may be NULL) receives DOC's canonical text when the proof's check made
 * it (*HAVE 1). */
static int
proof_state_canon(const json_t *doc, const char *did, const char *purpose,
		  enum verify_state *st, char *detail, size_t dsize, struct dynbuf *canon,
		  int *have)
{
	struct di_verify_options opt = { 0 };
	struct di_result res = { 0 };
	unsigned char pub[32];
	int rc;

	*st = VERIFY_FAIL;
	if (!did || did_key_to_ed25519(did, pub) != 0) {
		snprintf(detail, dsize, "the issuer is not an Ed25519 did:key, so the signature"
			 " cannot be checked");
		return 0;
	}
	opt.public_key = pub;
	opt.proof_purpose = purpose;
	rc = di_verify_canonical(doc, &opt, &res, canon, have);
	if (rc && rc != TC_EFORBIDDEN)
		return rc;
	if (rc == 0) {
		*st = VERIFY_PASS;
		snprintf(detail, dsize, "the eddsa-jcs-2022 proof is valid: the credential is"
			 " exactly what the issuer signed");
	} else {
		snprintf(detail, dsize, "the proof does not hold (%s): %s",
			 di_reason_str(res.reason), res.detail);
	}
	return 0;
}

static int
proof_state(const json_t *doc, const char *did, const char *purpose, enum verify_state *st,
	    char *detail, size_t dsize)
{
	return proof_state_canon(doc, did, purpose, st, detail, dsize, NULL, NULL);
}

/* ---- issuer ---------------------------------------------------------------------- */

/* Whether KEY was valid at WHEN (the signing time of a document): DETAIL
 * says why not. */
static enum verify_state
key_valid_at(const struct verify_key *key, const char *when, char *detail, size_t dsize)
{
	struct recog_key rk = { key->did, key->valid_from, key->valid_until };
	char from[32], until[32];
	int64_t t;

	fmt_time(key->valid_from, from);
	fmt_time(key->valid_until, until);
	if (parse_time(when, &t) != 0) {
		snprintf(detail, dsize, "the signing time (proof created, or validFrom) is not a"
			 " date-time, so the key's validity cannot be told");
		return VERIFY_FAIL;
	}
	if (recognition_key_check(&rk, 1, key->did, t) != RECOG_RECOGNISED) {
		if (t < key->valid_from)
			snprintf(detail, dsize, "signed on %s by a key of %s (%s) that was made only"
				 " on %s", when, key->name, key->code, from);
		else
			snprintf(detail, dsize, "signed by a key retired on %.10s: %s (%s) rotated it"
				 " at %s, and this was signed on %s", until, key->name, key->code,
				 until, when);
		return VERIFY_FAIL;
	}
	if (key->valid_until)
		snprintf(detail, dsize, "the issuer key is a key of %s (%s), valid when it signed"
			 " (%s), since rotated on %.10s", key->name, key->code, when, until);
	else
		snprintf(detail, dsize, "the issuer key is a key of %s (%s), its current key,"
			 " valid since %s", key->name, key->code, from);
	return VERIFY_PASS;
}

/* The issuer check: *FOUND and KEY when the registry knows the key. */
static int
issuer_state(const json_t *cred, const char *did, const struct verify_ops *ops,
	     struct verify_key *key, int *found, enum verify_state *st, char *detail,
	     size_t dsize)
{
	unsigned char pub[32];
	int rc;

	*found = 0;
	*st = VERIFY_FAIL;
	if (!did || did_key_to_ed25519(did, pub) != 0 || strchr(did, '#')) {
		snprintf(detail, dsize, "the issuer is not an Ed25519 did:key");
		return 0;
	}
	if (!ops->issuer_key) {
		*st = VERIFY_UNCHECKED;
		snprintf(detail, dsize, "not checked: which institution holds %s, and since when,"
			 " is known only from an institution registry (offline: --registry FILE)",
			 did);
		return 0;
	}
	memset(key, 0, sizeof(*key));
	rc = ops->issuer_key(ops->ctx, did, key);
	if (rc == TC_ENOTFOUND) {
		snprintf(detail, dsize, "the issuer key belongs to no institution known here");
		return 0;
	}
	if (rc)
		return rc;
	*found = 1;
	*st = key_valid_at(key, signed_when(cred), detail, dsize);
	return 0;
}

/* ---- status ---------------------------------------------------------------------- */

struct status_ctx {
	const json_t *cred;
	const char *did;		/* the credential's issuer */
	const struct verify_ops *ops;
	const struct verify_key *issuer;	/* NULL when the registry does not tell */
	int issuer_unknown;		/* the registry was asked and does not know it */
};

/* Whether the status list LIST is a list of the credential's issuer, signed
 * properly: PASS, or FAIL / UNCHECKED with DETAIL. */
static int
list_trusted(const struct status_ctx *s, const json_t *list, const char *url, int made_here,
	     enum verify_state *st, char *detail, size_t dsize)
{
	const char *ldid = issuer_id(list);
	char why[DETAIL_MAX];
	struct verify_key lkey;
	int rc;

	*st = VERIFY_FAIL;
	if (!json_is_string(json_object_get(list, "id")) ||
	    strcmp(json_string_value(json_object_get(list, "id")), url) != 0) {
		snprintf(detail, dsize, "the status list given is not the one the credential names"
			 " (%s)", url);
		return 0;
	}
	if (!has_string(json_object_get(list, "type"), "BitstringStatusListCredential")) {
		snprintf(detail, dsize, "the status list is not a BitstringStatusListCredential");
		return 0;
	}
	if (made_here) {
		*st = VERIFY_PASS;
		return 0;
	}
	if ((rc = proof_state(list, ldid, "assertionMethod", st, why, sizeof(why))))
		return rc;
	if (*st != VERIFY_PASS) {
		snprintf(detail, dsize, "the status list credential's own proof does not hold: %.900s",
			 why);
		*st = VERIFY_FAIL;
		return 0;
	}
	if (!s->ops->issuer_key) {
		if (strcmp(ldid, s->did) == 0)
			return 0;	/* the very key that signed the credential */
		*st = VERIFY_UNCHECKED;
		snprintf(detail, dsize, "not checked: the status list is signed by %s, not by the"
			 " credential's key; only an institution registry (--registry FILE) tells"
			 " whether both are the issuer's", ldid);
		return 0;
	}
	memset(&lkey, 0, sizeof(lkey));
	rc = s->ops->issuer_key(s->ops->ctx, ldid, &lkey);
	if (rc && rc != TC_ENOTFOUND)
		return rc;
	*st = VERIFY_FAIL;
	if (rc || !s->issuer || strcmp(lkey.code, s->issuer->code) != 0) {
		snprintf(detail, dsize, "the status list is signed by a key that is not the"
			 " issuer's");
		return 0;
	}
	if (key_valid_at(&lkey, signed_when(list), why, sizeof(why)) != VERIFY_PASS) {
		snprintf(detail, dsize, "the status list credential: %.900s", why);
		return 0;
	}
	*st = VERIFY_PASS;
	return 0;
}

static int
status_state(const struct status_ctx *s, enum verify_state *st, char *detail, size_t dsize)
{
	const json_t *status = json_object_get(s->cred, "credentialStatus");
	const char *idx = json_string_value(json_object_get(status, "statusListIndex"));
	const char *url = json_string_value(json_object_get(status, "statusListCredential"));
	const char *purpose = json_string_value(json_object_get(status, "statusPurpose"));
	json_t *list = NULL;
	const char *enc;
	char *end = NULL;
	long long index = -1;
	int rc, bit, made_here = 0;

	*st = VERIFY_FAIL;
	if (idx && idx[0] >= '0' && idx[0] <= '9' && strlen(idx) <= 12)
		index = strtoll(idx, &end, 10);
	if (!json_is_object(status) ||
	    !has_string(json_object_get(status, "type"), "BitstringStatusListEntry") ||
	    index < 0 || !end || *end || !url || !purpose) {
		snprintf(detail, dsize, "the credential has no Bitstring Status List entry"
			 " (credentialStatus with statusListIndex, statusListCredential,"
			 " statusPurpose)");
		return 0;
	}
	if (strcmp(purpose, "revocation") != 0) {
		snprintf(detail, dsize, "statusPurpose is %s, only revocation is known here",
			 purpose);
		return 0;
	}
	if (s->issuer_unknown) {
		snprintf(detail, dsize, "cannot be checked: the issuer is unknown");
		return 0;
	}
	if (!s->ops->status_list) {
		*st = VERIFY_UNCHECKED;
		snprintf(detail, dsize, "not checked: no status list credential was given"
			 " (offline: --status-list FILE, the document at %s)", url);
		return 0;
	}
	rc = s->ops->status_list(s->ops->ctx, s->issuer, url, &list, &made_here);
	if (rc == TC_ENOTFOUND) {
		snprintf(detail, dsize, "the status list credential %s is not available", url);
		return 0;
	}
	if (rc)
		return rc;
	if ((rc = list_trusted(s, list, url, made_here, st, detail, dsize)) ||
	    *st != VERIFY_PASS)
		goto out;
	*st = VERIFY_FAIL;
	enc = json_string_value(json_object_get(json_object_get(list, "credentialSubject"),
						"encodedList"));
	purpose = json_string_value(json_object_get(json_object_get(list, "credentialSubject"),
						    "statusPurpose"));
	if (!enc || !purpose || strcmp(purpose, "revocation") != 0) {
		snprintf(detail, dsize, "the status list has no revocation encodedList");
		goto out;
	}
	rc = list_bit(s->ops->cache, enc, (size_t)index, &bit);
	if (rc == TC_ENOMEM)
		goto out;
	if (rc) {
		rc = 0;
		snprintf(detail, dsize, "the status list's encodedList cannot be decoded");
		goto out;
	}
	if (bit < 0) {
		snprintf(detail, dsize, "the status list index is out of range");
		goto out;
	}
	if (!bit) {
		*st = VERIFY_PASS;
		snprintf(detail, dsize, "not revoked: the issuer's status list credential (signed"
			 " %s) has this entry unset", signed_when(list) ? signed_when(list) : "?");
		goto out;
	}
	snprintf(detail, dsize, "revoked: the issuer's status list credential has this entry"
		 " set");
	if (s->ops->revocation_detail) {
		rc = s->ops->revocation_detail(s->ops->ctx, s->issuer,
					       json_string_value(json_object_get(s->cred, "id")),
					       index, detail, dsize);
		if (rc == TC_ENOTFOUND)
			snprintf(detail, dsize, "revoked: the issuer's status list credential has"
				 " this entry set");
		if (rc == TC_ENOTFOUND)
			rc = 0;
	}
out:
	json_decref(list);
	return rc;
}

/* ---- dates ----------------------------------------------------------------------- */

static enum verify_state
dates_state(const json_t *cred, int64_t now, char *detail, size_t dsize)
{
	const char *vf = json_string_value(json_object_get(cred, "validFrom"));
	const char *vu = json_string_value(json_object_get(cred, "validUntil"));
	int64_t from, until = 0;

	if (parse_time(vf, &from) != 0) {
		snprintf(detail, dsize, "validFrom is not a date-time");
		return VERIFY_FAIL;
	}
	if (json_object_get(cred, "validUntil") && parse_time(vu, &until) != 0) {
		snprintf(detail, dsize, "validUntil is not a date-time");
		return VERIFY_FAIL;
	}
	if (from > now) {
		snprintf(detail, dsize, "not valid yet (validFrom is in the future)");
		return VERIFY_FAIL;
	}
	if (vu && until <= now) {
		snprintf(detail, dsize, "expired (validUntil has passed)");
		return VERIFY_FAIL;
	}
	snprintf(detail, dsize, "valid now");
	return VERIFY_PASS;
}

/* ---- log ------------------------------------------------------------------------- */

/* Decodes the base64 hashes of ARR into PROOF; TC_EINVALID when one is not
 * base64 or there are too many (lengths are merkle_verify_inclusion's). */
static int
decode_hashes(const json_t *arr, unsigned char buf[][MERKLE_HASH_LEN + 16],
	      struct merkle_bytes *proof, size_t *n)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (!json_is_array(arr) || json_array_size(arr) > MERKLE_PROOF_MAX)
		return TC_EINVALID;
	json_array_foreach(arr, i, v) {
		size_t len = 0;

		if (!json_is_string(v) || strlen(json_string_value(v)) > 64 ||
		    b64_decode(json_string_value(v), buf[i], MERKLE_HASH_LEN + 16, &len) != 0)
			return TC_EINVALID;
		proof[i].data = buf[i];
		proof[i].len = len;
	}
	*n = i;
	return 0;
}

/* Whether ENTRY is the log's "issue" entry of HASH by ISSUER (read by
 * json_read_object, else by jansson, whose tree it is either way). */
static int
entry_matches(const char *entry, const char *hash, const char *issuer)
{
	size_t n = strlen(entry);
	json_t *e = json_read_object(entry, n);

	if (!e)
		e = json_loadb(entry, n, 0, NULL);
	const char *h = json_string_value(json_object_get(e, "hash"));
	const char *k = json_string_value(json_object_get(e, "kind"));
	const char *i = json_string_value(json_object_get(e, "issuer"));
	int ok = h && k && i && strcmp(h, hash) == 0 && strcmp(k, "issue") == 0 &&
		 issuer && strcmp(i, issuer) == 0;

	json_decref(e);
	return ok;
}

/* Verifies the inclusion proof P of HASH: *ST, DETAIL. */
static int
proof_holds(const json_t *p, const char *hash, const char *issuer, const struct verify_ops *ops,
	    enum verify_state *st, char *detail, size_t dsize)
{
	unsigned char buf[MERKLE_PROOF_MAX][MERKLE_HASH_LEN + 16], leaf[MERKLE_HASH_LEN];
	struct merkle_bytes proof[MERKLE_PROOF_MAX];
	struct checkpoint cp;
	const json_t *ji = json_object_get(p, "index"), *js = json_object_get(p, "size");
	const char *entry = json_string_value(json_object_get(p, "entry"));
	const char *note = ops->checkpoint ? ops->checkpoint :
			   json_string_value(json_object_get(p, "checkpoint"));
	size_t n = 0, text_len = 0;
	uint64_t index, size;
	int rc;

	*st = VERIFY_FAIL;
	if (!json_is_integer(ji) || !json_is_integer(js) || json_integer_value(ji) < 0 ||
	    json_integer_value(js) < 1 || !entry ||
	    decode_hashes(json_object_get(p, "proof"), buf, proof, &n) != 0) {
		snprintf(detail, dsize, "the inclusion proof is malformed (it needs index, size,"
			 " entry and proof hashes in base64, as GET /log/proof gives)");
		return 0;
	}
	index = (uint64_t)json_integer_value(ji);
	size = (uint64_t)json_integer_value(js);
	if (!entry_matches(entry, hash, issuer)) {
		snprintf(detail, dsize, "the log entry given is not the issue entry of %s by its"
			 " issuer", hash);
		return 0;
	}
	if (!note) {
		snprintf(detail, dsize, "no checkpoint to check the inclusion proof against");
		return 0;
	}
	rc = note_open(note, ops, &text_len);
	if (rc == TC_ENOMEM)
		return rc;
	if (rc) {
		snprintf(detail, dsize, "the checkpoint is not signed by the log key (%s)",
			 ops->log_keys[0].name);
		return 0;
	}
	if (checkpoint_parse(note, text_len, &cp) != 0) {
		snprintf(detail, dsize, "the checkpoint's text is not a checkpoint");
		return 0;
	}
	if (cp.size != size) {
		snprintf(detail, dsize, "the inclusion proof is for a tree of %llu leaves, the"
			 " checkpoint covers %llu (get the proof for that size:"
			 " /log/proof?hash=%s&size=%llu)", (unsigned long long)size,
			 (unsigned long long)cp.size, hash, (unsigned long long)cp.size);
		return 0;
	}
	merkle_leaf_hash(entry, strlen(entry), leaf);
	if (merkle_verify_inclusion(index, size,
				    (struct merkle_bytes){ .data = leaf, .len = sizeof(leaf) },
				    proof, n,
				    (struct merkle_bytes){ .data = cp.root, .len = 32 }) != 0) {
		snprintf(detail, dsize, "the inclusion proof of leaf %llu does not lead to the"
			 " signed root of size %llu", (unsigned long long)index,
			 (unsigned long long)size);
		return 0;
	}
	*st = VERIFY_PASS;
	snprintf(detail, dsize, "%s is leaf %llu of the log; its inclusion proof verifies"
		 " against the signed checkpoint of %llu leaves", hash,
		 (unsigned long long)index, (unsigned long long)size);
	return 0;
}

/* CANON: the credential's canonical text when the proof check made it
 * (else it is made here). When the proof held: *PROOF (the caller's to
 * free) and HASH, the check's result. */
static int
log_state(const json_t *cred, const char *issuer, const struct verify_ops *ops,
	  struct dynbuf *canon, enum verify_state *st, char *detail, size_t dsize,
	  json_t **proof, char hash[80])
{
	char hex[SHA256_HEX_LEN + 1], why[VERIFY_WHY_MAX] = "";
	json_t *p = NULL;
	int rc = 0;

	*st = VERIFY_FAIL;
	*proof = NULL;
	if (canon->len == 0)
		rc = jcs_canonicalize(cred, canon);
	if (rc == 0 && canon->len == 0)
		rc = TC_ENOMEM;
	if (rc == 0)
		sha256_hex(canon->data, canon->len, hex);
	if (rc == TC_ENOMEM)
		return rc;
	if (rc) {
		snprintf(detail, dsize, "the credential has no canonical (JCS) form");
		return 0;
	}
	snprintf(hash, 80, "sha256:%s", hex);
	if (!ops->log_proof) {
		*st = VERIFY_UNCHECKED;
		snprintf(detail, dsize, "not checked: no inclusion proof of %s was given (a"
			 " bundle from GET /api/v1/credentials/{id}/bundle has one)", hash);
		return 0;
	}
	if (ops->nlog_keys == 0) {
		*st = VERIFY_UNCHECKED;
		snprintf(detail, dsize, "not checked: no log key to verify a checkpoint with"
			 " (offline: --log-key, the text of GET /log/key from a source you trust)");
		return 0;
	}
	rc = ops->log_proof(ops->ctx, hash, &p, why, sizeof(why));
	if (rc == TC_ENOTFOUND) {
		snprintf(detail, dsize, "%s", why[0] ? why : "the credential is not in the"
			 " transparency log");
		return 0;
	}
	if (rc)
		return rc;
	rc = proof_holds(p, hash, issuer, ops, st, detail, dsize);
	if (rc == 0 && *st == VERIFY_PASS)
		*proof = p;
	else
		json_decref(p);
	return rc;
}

/* ---- a credential ---------------------------------------------------------------- */

static int
credential_checks(const json_t *cred, const struct verify_ops *ops, const struct checks_sink *k,
		  enum verify_state *verdict)
{
	char detail[DETAIL_MAX];
	const char *why = shape_problem(cred), *did = issuer_id(cred);
	struct verify_key key;
	struct status_ctx s = { 0 };
	struct dynbuf canon;
	enum verify_state st;
	char hash[80];
	json_t *proof = NULL;
	int rc, found = 0, have = 0;

	*verdict = VERIFY_PASS;
	if ((rc = check(k, "schema", why ? VERIFY_FAIL : VERIFY_PASS,
			why ? why : "the credential has the required Open Badges 3.0 fields", NULL,
			NULL, NULL, verdict)))
		return rc;
	dynbuf_init(&canon, 1 << 26);
	if ((rc = proof_state_canon(cred, did, "assertionMethod", &st, detail, sizeof(detail),
				    &canon, &have)) ||
	    (rc = check(k, "proof", st, detail, NULL, NULL, NULL, verdict)))
		goto out;
	if ((rc = issuer_state(cred, did, ops, &key, &found, &st, detail, sizeof(detail))) ||
	    (rc = check(k, "issuer", st, detail, NULL, NULL, NULL, verdict)))
		goto out;
	s.cred = cred;
	s.did = did ? did : "";
	s.ops = ops;
	s.issuer = found ? &key : NULL;
	s.issuer_unknown = ops->issuer_key && !found;
	if ((rc = status_state(&s, &st, detail, sizeof(detail))) ||
	    (rc = check(k, "status", st, detail, NULL, NULL, NULL, verdict)))
		goto out;
	st = dates_state(cred, ops->now, detail, sizeof(detail));
	if ((rc = check(k, "dates", st, detail, NULL, NULL, NULL, verdict)))
		goto out;
	if (!have)
		dynbuf_reset(&canon);
	if ((rc = log_state(cred, did, ops, &canon, &st, detail, sizeof(detail), &proof, hash)))
		goto out;
	rc = check(k, "log", st, detail, proof, hash, ops->checkpoint, verdict);
out:
	json_decref(proof);
	dynbuf_cleanup(&canon);
	return rc;
}

int
verify_credential(const json_t *cred, const struct verify_ops *ops, json_t *checks,
		  enum verify_state *verdict)
{
	struct checks_sink k = { checks, NULL };

	return credential_checks(cred, ops, &k, verdict);
}

int
verify_credential_text(const json_t *cred, const struct verify_ops *ops,
		       struct verify_checks_text *t, enum verify_state *verdict)
{
	struct checks_sink k = { NULL, t };
	size_t at = t->out->len;
	int rc;

	t->n = 0;
	rc = credential_checks(cred, ops, &k, verdict);
	if (rc == 0 && dynbuf_puts(t->out, t->n ? "]" : "[]"))
		rc = TC_ENOMEM;
	if (rc) {
		t->out->len = at;	/* as before, its NUL kept (dynbuf's rule) */
		if (t->out->data)
			t->out->data[at] = '\0';
		t->n = 0;
	}
	return rc;
}


/* ---- a presentation -------------------------------------------------------------- */

static const char *
vp_shape_problem(const json_t *vp)
{
	const json_t *ctx = json_object_get(vp, "@context"), *vcs;
	size_t i;
	json_t *v;

	if (!json_is_array(ctx) || !json_is_string(json_array_get(ctx, 0)) ||
	    strcmp(json_string_value(json_array_get(ctx, 0)), CREDENTIAL_CONTEXT_VC) != 0)
		return "@context must start with the VC 2.0 context";
	if (!has_string(json_object_get(vp, "type"), "VerifiablePresentation"))
		return "type must name VerifiablePresentation";
	vcs = json_object_get(vp, "verifiableCredential");
	if (json_is_object(vcs))
		return verify_is_credential(vcs) ? NULL : "verifiableCredential must hold"
		       " credentials (enveloped credentials are not supported)";
	if (!json_is_array(vcs) || json_array_size(vcs) == 0)
		return "the presentation holds no verifiableCredential";
	json_array_foreach(vcs, i, v)
		if (!verify_is_credential(v))
			return "verifiableCredential must hold credentials (enveloped credentials"
			       " are not supported)";
	return NULL;
}

/* The presentation's proof: signed by its holder (when named) for
 * authentication, answering CHALLENGE and DOMAIN. */
static int
vp_proof_state(const json_t *vp, const char *challenge, const char *domain,
	       enum verify_state *st, char *detail, size_t dsize, json_t *warnings)
{
	const json_t *proofs = json_object_get(vp, "proof"), *holder = json_object_get(vp, "holder");
	const char *hid = json_is_string(holder) ? json_string_value(holder) :
			  json_string_value(json_object_get(holder, "id"));
	struct di_verify_options opt = { 0 };
	struct di_result res = { 0 };
	unsigned char pub[32];
	size_t i, n;
	int rc;

	*st = VERIFY_FAIL;
	if (!proofs) {
		if (challenge || domain) {
			snprintf(detail, dsize, "the presentation is not signed, so it cannot answer"
				 " the %s asked for", challenge ? "challenge" : "domain");
			return 0;
		}
		*st = VERIFY_PASS;
		snprintf(detail, dsize, "the presentation is not signed: it is verified as a bundle"
			 " of credentials and does not show who presents them");
		return json_array_append_new(warnings, json_string(detail)) ? TC_ENOMEM : 0;
	}
	if (holder && (!hid || did_key_to_ed25519(hid, pub) != 0 || strchr(hid, '#'))) {
		snprintf(detail, dsize, "the holder is not an Ed25519 did:key");
		return 0;
	}
	opt.public_key = holder ? pub : NULL;
	opt.proof_purpose = "authentication";
	rc = di_verify(vp, &opt, &res);
	if (rc && rc != TC_EFORBIDDEN)
		return rc;
	if (rc) {
		snprintf(detail, dsize, "the presentation's proof does not hold (%s): %s",
			 di_reason_str(res.reason), res.detail);
		return 0;
	}
	n = json_is_array(proofs) ? json_array_size(proofs) : 1;
	for (i = 0; i < n; i++) {
		const json_t *p = json_is_array(proofs) ? json_array_get(proofs, i) : proofs;
		const char *c = json_string_value(json_object_get(p, "challenge"));

		if (challenge && (!c || strcmp(c, challenge) != 0)) {
			snprintf(detail, dsize, "the presentation's proof does not answer the challenge"
				 " asked for (it has %s)", c ? "another one" : "none");
			return 0;
		}
		if (domain && !has_string(json_object_get(p, "domain"), domain)) {
			snprintf(detail, dsize, "the presentation's proof is not for the domain %s",
				 domain);
			return 0;
		}
	}
	*st = VERIFY_PASS;
	snprintf(detail, dsize, "the presentation's eddsa-jcs-2022 proof is valid: signed for"
		 " authentication by %s%s%s", hid ? "its holder " : "",
		 hid ? hid : json_string_value(json_object_get(json_is_array(proofs) ?
			json_array_get(proofs, 0) : proofs, "verificationMethod")),
		 challenge || domain ? ", answering the challenge and domain asked for" : "");
	return 0;
}

int
verify_presentation(const json_t *vp, const struct verify_ops *ops, const char *challenge,
		    const char *domain, json_t **result, enum verify_state *verdict)
{
	char detail[DETAIL_MAX];
	const char *why = vp_shape_problem(vp);
	json_t *checks = json_array(), *creds = json_array(), *warnings = json_array();
	const json_t *vcs = json_object_get(vp, "verifiableCredential");
	enum verify_state st, cst = VERIFY_PASS;
	size_t nfail = 0, nunchecked = 0, n = 0;
	char failed[200] = "";
	int rc = TC_ENOMEM;
	struct checks_sink k = { checks, NULL };

	*verdict = VERIFY_PASS;
	*result = NULL;
	if (!checks || !creds || !warnings)
		goto out;
	if ((rc = check(&k, "schema", why ? VERIFY_FAIL : VERIFY_PASS,
			why ? why : "the presentation has the VC 2.0 shape", NULL, NULL, NULL,
			verdict)))
		goto out;
	if ((rc = vp_proof_state(vp, challenge, domain, &st, detail, sizeof(detail), warnings)) ||
	    (rc = check(&k, "proof", st, detail, NULL, NULL, NULL, verdict)))
		goto out;
	n = json_is_array(vcs) ? json_array_size(vcs) : json_is_object(vcs) ? 1 : 0;
	for (size_t i = 0; i < n; i++) {
		const json_t *c = json_is_array(vcs) ? json_array_get(vcs, i) : vcs;
		enum verify_state one = VERIFY_PASS;
		json_t *cc = json_array(), *o;

		if (!cc)
			goto out;
		if (verify_is_credential(c) && (rc = verify_credential(c, ops, cc, &one))) {
			json_decref(cc);
			goto out;
		}
		if (!verify_is_credential(c))
			one = VERIFY_FAIL;
		o = json_pack("{s:O?, s:b, s:o}", "id", json_object_get(c, "id"),
			      "verified", one == VERIFY_PASS, "checks", cc);
		rc = TC_ENOMEM;
		if (!o || json_array_append_new(creds, o))
			goto out;
		if (one == VERIFY_FAIL && nfail++ == 0)
			snprintf(failed, sizeof(failed), " (the first: number %zu)", i + 1);
		nunchecked += one == VERIFY_UNCHECKED;
	}
	if (n == 0 || nfail) {
		cst = VERIFY_FAIL;
		snprintf(detail, sizeof(detail), n ? "%zu of %zu credentials fail a check%s" :
			 "no credential to verify", nfail, n, failed);
	} else if (nunchecked) {
		cst = VERIFY_UNCHECKED;
		snprintf(detail, sizeof(detail), "no credential fails, %zu of %zu have checks that"
			 " could not be made", nunchecked, n);
	} else {
		snprintf(detail, sizeof(detail), "all %zu credentials pass every check", n);
	}
	if ((rc = check(&k, "credentials", cst, detail, NULL, NULL, NULL, verdict)))
		goto out;
	*result = json_pack("{s:b, s:o, s:o, s:o}", "verified", *verdict == VERIFY_PASS,
			    "checks", checks, "credentials", creds, "warnings", warnings);
	checks = creds = warnings = NULL;
	rc = *result ? 0 : TC_ENOMEM;
out:
	json_decref(checks);
	json_decref(creds);
	json_decref(warnings);
	return rc;
}
