/* consent.c - dispatch of storage/consent.h to the backend's consent ops. */
#include <string.h>

#include "courses/errors.h"
#include "storage/consent.h"
#include "storage/store_backend.h"

static int
ops(struct store *s, const struct consent_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->consents;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct consent_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

int
store_consent_append(struct store *s, struct consent_rec *c, const int64_t *credential_ids,
		     size_t n)
{
	if (!c || (c->state != CONSENT_GRANTED && c->state != CONSENT_WITHDRAWN) ||
	    strlen(c->purpose) > CONSENT_PURPOSE_MAX || c->created_at <= 0 ||
	    (!c->all && c->state == CONSENT_GRANTED &&
	     (!credential_ids || n == 0 || n > CONSENT_SELECTED_MAX)))
		return TC_EINVALID;
	DISPATCH(append(s, c, credential_ids, c->all ? 0 : n));
}

int
store_consent_get(struct store *s, const char *uid, struct consent_rec *out)
{
	if (!uid || !out)
		return TC_EINVALID;
	DISPATCH(get(s, uid, out));
}

int
store_consent_at(struct store *s, int64_t person_id, int64_t institution_id, int64_t at,
		 struct consent_rec *out)
{
	if (!out)
		return TC_EINVALID;
	DISPATCH(at(s, person_id, institution_id, at, out));
}

int
store_consent_history_each(struct store *s, const char *uid,
			   int (*cb)(const struct consent_rec *c, void *arg), void *arg)
{
	if (!uid || !cb)
		return TC_EINVALID;
	DISPATCH(history_each(s, uid, cb, arg));
}

int
store_consent_credentials_each(struct store *s, int64_t consent_id,
			       int (*cb)(const char *uid, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(credentials_each(s, consent_id, cb, arg));
}

int
store_consents_of_person_each(struct store *s, int64_t person_id,
			      int (*cb)(const struct consent_rec *c, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(of_person_each(s, person_id, cb, arg));
}

int
store_consents_of_institution_each(struct store *s, int64_t institution_id, int64_t after,
				   int64_t at, int limit,
				   int (*cb)(const struct consent_rec *c, void *arg), void *arg)
{
	if (!cb || limit <= 0)
		return TC_EINVALID;
	DISPATCH(of_institution_each(s, institution_id, after, at, limit, cb, arg));
}

/* Each credential row of the backend gets its text rebuilt (C->json). */
static int
with_text(const struct credential_rec *c, void *arg)
{
	struct credential_each_ctx *x = arg;

	return store_credential_with_text(c, x->cb, x->arg);
}

int
store_consented_credentials_each(struct store *s, int64_t person_id, int64_t institution_id,
				 int64_t at, struct consent_rec *consent,
				 int (*cb)(const struct credential_rec *c, void *arg), void *arg)
{
	struct credential_each_ctx x = { cb, arg };

	if (!cb)
		return TC_EINVALID;
	DISPATCH(consented_each(s, person_id, institution_id, at, consent, with_text, &x));
}

int
store_consented_rows_each(struct store *s, int64_t person_id, int64_t institution_id, int64_t at,
			  struct consent_rec *consent,
			  int (*cb)(const struct credential_rec *c, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(consented_each(s, person_id, institution_id, at, consent, cb, arg));
}

int
store_consented_rows_then(struct store *s, int64_t person_id, int64_t institution_id, int64_t at,
			  struct consent_rec *consent,
			  int (*cb)(const struct credential_rec *c, void *arg),
			  int (*then)(const struct consent_rec *c, void *arg), void *arg)
{
	if (!cb || !then)
		return TC_EINVALID;
	DISPATCH(consented_then(s, person_id, institution_id, at, consent, cb, then, arg));
}

int
store_consent_access_record(struct store *s, struct consent_access *a)
{
	if (!a || !a->credentials || a->credentials[0] != '[' ||
	    (!a->reader_token_id && !a->reader_person_id) || a->at <= 0)
		return TC_EINVALID;
	DISPATCH(access_record(s, a));
}

int
store_consent_accesses_each(struct store *s, int64_t person_id, int64_t before, int limit,
			    int (*cb)(const struct consent_access *a, void *arg), void *arg)
{
	if (!cb || limit <= 0 || before < 0)
		return TC_EINVALID;
	DISPATCH(accesses_each(s, person_id, before, limit, cb, arg));
}
