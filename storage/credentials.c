/* credentials.c - dispatch of storage/credentials.h to the backend's credential ops. */
#include <string.h>

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
	if (!c || !c->json || !c->uid[0] || strlen(c->hash) != 64 || !purpose || k < 0 ||
	    c->status_index < 0)
		return TC_EINVALID;
	DISPATCH(issue(s, c, purpose, k, event_id));
}

int
store_credential_get(struct store *s, const char *uid, struct credential_rec *out)
{
	if (!uid || !out)
		return TC_EINVALID;
	DISPATCH(get(s, uid, out));
}

int
store_credentials_each(struct store *s, int64_t person_id,
		       int (*cb)(const struct credential_rec *c, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(each(s, person_id, cb, arg));
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
store_credential_find(struct store *s, int64_t course_id, int64_t person_id, const char *term,
		      char uid[CRED_UID_MAX + 1])
{
	if (!term || !uid)
		return TC_EINVALID;
	DISPATCH(find(s, course_id, person_id, term, uid));
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
