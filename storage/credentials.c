/*
 * credentials.c - dispatch of storage/credentials.h to the backend's
 * credential ops, and the rebuilding of a credential's text from its
 * stored fields (store_credential_text), which every read goes through.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/credential.h"
#include "courses/errors.h"
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

struct shared_slot {
	char *text;
	json_t *doc;
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
	}
	free(t);
}

static void
shared_init(void)
{
	shared_ok = pthread_key_create(&shared_key, shared_free) == 0;
}

/* TEXT parsed (a new reference), or NULL. */
static json_t *
shared_parse(const char *text)
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
	if (!t)
		return json_loads(text, 0, NULL);
	for (const char *p = text; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	i = (size_t)(h ^ (h >> 29)) & (SHARED_SLOTS - 1);
	if (t[i].text && strcmp(t[i].text, text) == 0)
		return json_incref(t[i].doc);
	if (!(doc = json_loads(text, 0, NULL)))
		return NULL;
	if ((copy = strdup(text))) {
		free(t[i].text);
		json_decref(t[i].doc);
		t[i].text = copy;
		t[i].doc = json_incref(doc);
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
	if (!(shared = shared_parse(c->shared)))
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
