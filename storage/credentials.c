/*
 * credentials.c - dispatch of storage/credentials.h to the backend's
 * credential ops, and the rebuilding of a credential's text from its
 * stored fields (store_credential_text), which every read goes through.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/credential.h"
#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/jcs.h"
#include "storage/credentials.h"
#include "storage/store_backend.h"

static int
ops(struct store *s, const struct credential_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->credentials;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct credential_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

/* "2025-06-30T09:00:00Z" */
static void
utc_text(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

/*
 * A row's shared part (credential_achievements: one per institution and
 * distinct content, a few thousand at most) parsed once per thread: each
 * thread keeps the last SHARED_SLOTS parses by their exact text (the
 * recognition batch rebuilds thousands of credentials of the same
 * achievements; a parse was a third of a rebuild). Read only.
 */
#define SHARED_SLOTS 2048
/* Templates kept per part: one for each issuer key that signed credentials
 * of the part (a rotation adds one: old credentials keep the old key), the
 * least recently used one replaced. */
#define SHARED_KEYS 4

struct shared_slot {
	char *text;
	json_t *doc;
	char did[SHARED_KEYS][CRED_DID_MAX];	/* TMPL[i]'s issuer key */
	json_t *tmpl[SHARED_KEYS];	/* a credential of this part and DID[i], parsed */
	uint64_t used[SHARED_KEYS];	/* the slot's clock when TMPL[i] last served */
	uint64_t clock;
};

static pthread_key_t shared_key;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static int shared_ok;

static void
shared_free(void *p)
{
	struct shared_slot *t = p;

	for (size_t i = 0; i < SHARED_SLOTS; i++) {
		free(t[i].text);
		json_decref(t[i].doc);
		for (size_t k = 0; k < SHARED_KEYS; k++)
			json_decref(t[i].tmpl[k]);
	}
	free(t);
}

static void
shared_init(void)
{
	shared_ok = pthread_key_create(&shared_key, shared_free) == 0;
}

/* TEXT parsed (a new reference), or NULL; *SLOT (when not NULL): its slot
 * in this thread's cache, or NULL when it is not kept. */
static json_t *
shared_parse(const char *text, struct shared_slot **slot)
{
	struct shared_slot *t = NULL;
	uint64_t h = 1469598103934665603u;
	json_t *doc;
	char *copy;
	size_t i;

	pthread_once(&shared_once, shared_init);
	if (shared_ok && !(t = pthread_getspecific(shared_key)) &&
	    (t = calloc(SHARED_SLOTS, sizeof(*t))) && pthread_setspecific(shared_key, t) != 0) {
		free(t);
		t = NULL;
	}
	if (slot)
		*slot = NULL;
	if (!t)
		return json_loads(text, 0, NULL);
	for (const char *p = text; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	i = (size_t)(h ^ (h >> 29)) & (SHARED_SLOTS - 1);
	if (t[i].text && strcmp(t[i].text, text) == 0) {
		if (slot)
			*slot = &t[i];
		return json_incref(t[i].doc);
	}
	if (!(doc = json_loads(text, 0, NULL)))
		return NULL;
	if ((copy = strdup(text))) {
		free(t[i].text);
		json_decref(t[i].doc);
		for (size_t k = 0; k < SHARED_KEYS; k++)
			json_decref(t[i].tmpl[k]);
		memset(&t[i], 0, sizeof(t[i]));
		t[i].text = copy;
		t[i].doc = json_incref(doc);
		if (slot)
			*slot = &t[i];
	}
	return doc;
}

int
store_credential_text(const struct credential_rec *c, char **text, size_t *len)
{
	struct credential_input in = { 0 };
	struct credential_alignment al[CREDENTIAL_ALIGN_MAX];
	struct credential_proof pr = { 0 };
	char valid_from[32], awarded[32], vm[2 * CRED_DID_MAX + 2];
	json_t *shared;
	int rc;

	if (!c || !text)
		return TC_EINVALID;
	*text = NULL;
	if (!c->shared || strncmp(c->issuer_did, "did:key:z", 9) != 0)
		return TC_EINVALID;
	if (!(shared = shared_parse(c->shared, NULL)))
		return TC_EINVALID;
	rc = credential_shared_read(shared, &in, al);
	utc_text(c->issued_at, valid_from);
	utc_text(c->awarded_at, awarded);
	/* an Ed25519 did:key's verification method: did#multibase key */
	snprintf(vm, sizeof(vm), "%s#%s", c->issuer_did, c->issuer_did + 8);
	in.id = c->uid;
	in.issuer_id = c->issuer_did;
	in.valid_from = valid_from;
	in.identity_hash = c->identity_hash;
	in.salt = c->salt;
	in.credits_earned = c->credits_earned;
	in.term = c->term[0] ? c->term : NULL;
	in.grade = c->grade[0] ? c->grade : NULL;
	in.awarded_date = c->awarded ? awarded : NULL;
	in.status_list_index = (uint64_t)c->status_index;
	pr.verification_method = vm;
	pr.created = valid_from;
	memcpy(pr.signature, c->signature, 64);
	if (rc == 0)
		rc = credential_signed_text(&in, &pr, text, len);
	json_decref(shared);
	return rc;
}

/* KEY of template object T (it is always there) into N, shared. */
static int
share(json_t *n, const json_t *t, const char *key)
{
	json_t *v = json_object_get(t, key);

	return v && json_object_set(n, key, v) == 0 ? 0 : TC_EINVALID;
}

/* KEY: S into N (TC_EINVALID for a string that is not UTF-8). */
static int
put_text(json_t *n, const char *key, const char *s)
{
	return json_object_set_new(n, key, json_string(s)) == 0 ? 0 : TC_EINVALID;
}

/* [O] as KEY of N; O stolen. */
static int
put_one(json_t *n, const char *key, json_t *o)
{
	json_t *a = json_array();

	if (!a) {
		json_decref(o);
		return TC_ENOMEM;
	}
	if (json_array_append_new(a, o)) {
		json_decref(a);
		return TC_ENOMEM;
	}
	return json_object_set_new(n, key, a) == 0 ? 0 : TC_ENOMEM;
}

/*
 * C's credential as the tree json_loads makes of its text, from T (a
 * credential of the same shared part and issuer key, parsed): T's members
 * that come from those two are shared (referenced), the row's own are new,
 * in the text's order (write_unsigned's, the proof between name and type).
 */
static int
tree_from(const struct credential_rec *c, const json_t *t, json_t **out)
{
	const json_t *tst = json_object_get(t, "credentialStatus");
	const json_t *tsub = json_object_get(t, "credentialSubject");
	const json_t *tid = json_array_get(json_object_get(tsub, "identifier"), 0);
	const json_t *tres = json_array_get(json_object_get(tsub, "result"), 0);
	const json_t *tpr = json_array_get(json_object_get(t, "proof"), 0);
	const char *list = json_string_value(json_object_get(tst, "statusListCredential"));
	json_t *o = json_object(), *st = json_object(), *sub = json_object(), *idf = json_object(),
	       *res = json_object(), *pr = json_object(), *credits = NULL;
	char when[32], awarded[32], index[24], num[JCS_NUMBER_MAX], value[128], *sid = NULL;
	int rc = o && st && sub && idf && res && pr && list ? 0 : TC_ENOMEM;

	*out = NULL;
	utc_text(c->issued_at, when);
	snprintf(index, sizeof(index), "%" PRIu64, (uint64_t)c->status_index);
	value[0] = 'z';
	if (rc == 0)
		rc = base58btc_encode(c->signature, 64, value + 1, sizeof(value) - 1);
	if (rc == 0 && (rc = jcs_number(c->credits_earned, num)) == 0 &&
	    /* the number as the text's token reads (integer or real) */
	    !(credits = json_loads(num, JSON_DECODE_ANY, NULL)))
		rc = TC_EINVALID;
	if (rc == 0 && (sid = malloc(strlen(list) + strlen(index) + 2)))
		sprintf(sid, "%s#%s", list, index);
	else if (rc == 0)
		rc = TC_ENOMEM;
	if (rc == 0)
		rc = put_text(st, "id", sid) || share(st, tst, "statusListCredential") ||
		     put_text(st, "statusListIndex", index) || share(st, tst, "statusPurpose") ||
		     share(st, tst, "type") ||
		     json_object_set_new(idf, "hashed", json_true()) ||
		     put_text(idf, "identityHash", c->identity_hash) ||
		     share(idf, tid, "identityType") ||
		     (c->salt[0] && put_text(idf, "salt", c->salt)) || share(idf, tid, "type") ||
		     share(res, tres, "status") || share(res, tres, "type") ||
		     (c->grade[0] && put_text(res, "value", c->grade)) ||
		     share(sub, tsub, "achievement") ||
		     json_object_set(sub, "creditsEarned", credits) ||
		     put_one(sub, "identifier", json_incref(idf)) ||
		     put_one(sub, "result", json_incref(res)) ||
		     (c->term[0] && put_text(sub, "term", c->term)) || share(sub, tsub, "type") ||
		     /* the proof: its configuration's members, proofValue among them */
		     share(pr, tpr, "@context") || put_text(pr, "created", when) ||
		     share(pr, tpr, "cryptosuite") || share(pr, tpr, "proofPurpose") ||
		     put_text(pr, "proofValue", value) || share(pr, tpr, "type") ||
		     share(pr, tpr, "verificationMethod") ? TC_EINVALID : 0;
	if (rc == 0 && c->awarded)
		utc_text(c->awarded_at, awarded);
	if (rc == 0)
		rc = share(o, t, "@context") || (c->awarded && put_text(o, "awardedDate", awarded)) ||
		     json_object_set(o, "credentialStatus", st) ||
		     json_object_set(o, "credentialSubject", sub) || put_text(o, "id", c->uid) ||
		     share(o, t, "issuer") || share(o, t, "name") ||
		     put_one(o, "proof", json_incref(pr)) || share(o, t, "type") ||
		     put_text(o, "validFrom", when) ? TC_EINVALID : 0;
	free(sid);
	json_decref(credits);
	json_decref(st);
	json_decref(sub);
	json_decref(idf);
	json_decref(res);
	json_decref(pr);
	if (rc) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

int
store_credential_json(const struct credential_rec *c, json_t **out)
{
	struct shared_slot *slot = NULL;
	json_t *shared;
	char *text = NULL;
	size_t k;
	int rc;

	if (!c || !out)
		return TC_EINVALID;
	*out = NULL;
	if (!c->shared || strncmp(c->issuer_did, "did:key:z", 9) != 0 ||
	    !(shared = shared_parse(c->shared, &slot)))
		return TC_EINVALID;
	json_decref(shared);
	if (slot) {
		slot->clock++;
		for (k = 0; k < SHARED_KEYS; k++)
			if (slot->tmpl[k] && strcmp(slot->did[k], c->issuer_did) == 0) {
				slot->used[k] = slot->clock;
				return tree_from(c, slot->tmpl[k], out);
			}
	}
	/* the first of its part and key here: parsed from its text, kept */
	if ((rc = store_credential_text(c, &text, NULL)))
		return rc;
	*out = json_loads(text, 0, NULL);
	free(text);
	if (!*out)
		return TC_EINVALID;
	if (slot && strlen(c->issuer_did) < sizeof(slot->did[0])) {
		size_t old = 0;

		for (k = 1; k < SHARED_KEYS; k++)	/* an empty one, else the LRU */
			if (slot->used[k] < slot->used[old])
				old = k;
		json_decref(slot->tmpl[old]);
		slot->tmpl[old] = json_incref(*out);
		slot->used[old] = slot->clock;
		snprintf(slot->did[old], sizeof(slot->did[old]), "%s", c->issuer_did);
	}
	return 0;
}

int
store_status_next_k(struct store *s, int64_t institution_id, const char *purpose, int64_t *k)
{
	if (!purpose || !k)
		return TC_EINVALID;
	DISPATCH(next_k(s, institution_id, purpose, k));
}

int
store_credential_issue(struct store *s, struct credential_rec *c, const char *purpose,
		       int64_t k, int64_t event_id)
{
	if (!c || !c->shared || !c->uid[0] || strlen(c->hash) != 64 || !purpose || k < 0 ||
	    c->status_index < 0 || c->key_id <= 0)
		return TC_EINVALID;
	DISPATCH(issue(s, c, purpose, k, event_id));
}

/* The row the backend read becomes the credential: C->json rebuilt,
 * C->shared freed. A row that does not rebuild is a damaged store. */
static int
with_text(struct credential_rec *c)
{
	int rc = store_credential_text(c, &c->json, NULL);

	free(c->shared);
	c->shared = NULL;
	return rc == TC_EINVALID ? TC_EDB : rc;
}

int
store_credential_get(struct store *s, const char *uid, struct credential_rec *out)
{
	const struct credential_ops *o = NULL;
	int rc;

	if (!uid || !out)
		return TC_EINVALID;
	if ((rc = ops(s, &o)) || (rc = o->get(s, uid, out)))
		return rc;
	return with_text(out);
}

int
store_credential_with_text(const struct credential_rec *c,
			   int (*cb)(const struct credential_rec *c, void *arg), void *arg)
{
	struct credential_rec r = *c;
	int rc;

	r.shared = NULL;
	if ((rc = store_credential_text(c, &r.json, NULL)) == TC_EINVALID)
		rc = TC_EDB;	/* a row that does not rebuild: a damaged store */
	if (rc == 0)
		rc = cb(&r, arg);
	free(r.json);
	return rc;
}

static int
each_text(const struct credential_rec *c, void *arg)
{
	struct credential_each_ctx *x = arg;

	return store_credential_with_text(c, x->cb, x->arg);
}

int
store_credentials_each(struct store *s, int64_t person_id,
		       int (*cb)(const struct credential_rec *c, void *arg), void *arg)
{
	struct credential_each_ctx x = { cb, arg };

	if (!cb)
		return TC_EINVALID;
	DISPATCH(each(s, person_id, each_text, &x));
}

int
store_credentials_all_each(struct store *s, int (*cb)(const struct credential_rec *c, void *arg),
			   void *arg)
{
	struct credential_each_ctx x = { cb, arg };

	if (!cb)
		return TC_EINVALID;
	DISPATCH(all_each(s, each_text, &x));
}

int
store_status_bit(struct store *s, int64_t institution_id, const char *purpose, int64_t index,
		 int *bit)
{
	if (!purpose || !bit || index < 0)
		return TC_EINVALID;
	DISPATCH(status_bit(s, institution_id, purpose, index, bit));
}

int
store_course_issue_mode(struct store *s, int64_t course_id, char out[16])
{
	if (!out)
		return TC_EINVALID;
	DISPATCH(issue_mode(s, course_id, out));
}

int
store_course_set_issue_mode(struct store *s, int64_t course_id, const char *mode)
{
	if (!mode || (strcmp(mode, "auto") != 0 && strcmp(mode, "approval") != 0))
		return TC_EINVALID;
	DISPATCH(set_issue_mode(s, course_id, mode));
}

int
store_credential_find(struct store *s, int64_t institution_id, const char *code,
		      int64_t person_id, const char *term, char uid[CRED_UID_MAX + 1])
{
	if (!code || !term || !uid)
		return TC_EINVALID;
	DISPATCH(find(s, institution_id, code, person_id, term, uid));
}

int
store_credential_revoke(struct store *s, int64_t credential_id, const char *purpose,
			int64_t when, const char *reason)
{
	if (!purpose || !reason || !reason[0] || strlen(reason) > CRED_REASON_MAX || when <= 0)
		return TC_EINVALID;
	DISPATCH(revoke(s, credential_id, purpose, when, reason));
}

int
store_status_list_get(struct store *s, int64_t institution_id, const char *purpose,
		      unsigned char **bits, size_t *len)
{
	if (!purpose || !bits || !len)
		return TC_EINVALID;
	*bits = NULL;
	*len = 0;
	DISPATCH(status_list(s, institution_id, purpose, bits, len));
}

int
store_status_list_rev(struct store *s, int64_t institution_id, const char *purpose,
		      int64_t *rev)
{
	if (!purpose || !rev)
		return TC_EINVALID;
	*rev = 0;
	DISPATCH(status_list_rev(s, institution_id, purpose, rev));
}

int
store_credential_waiting_each(struct store *s, int64_t course_id,
			      int (*cb)(const struct credential_waiting *w, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(waiting_each(s, course_id, cb, arg));
}

int
store_credential_decline(struct store *s, int64_t event_id, int64_t by, const char *reason,
			 int64_t now)
{
	if (!reason || !reason[0] || strlen(reason) > CRED_REASON_MAX)
		return TC_EINVALID;
	DISPATCH(decline(s, event_id, by, reason, now));
}

int
store_credential_key(struct store *s, unsigned char key[32])
{
	if (!key)
		return TC_EINVALID;
	DISPATCH(key(s, key));
}
