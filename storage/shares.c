/* shares.c - dispatch of storage/shares.h to the backend's share ops. */
#include <string.h>

#include "courses/errors.h"
#include "storage/shares.h"
#include "storage/store_backend.h"

static int
ops(struct store *s, const struct share_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->shares;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct share_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

static int
valid_kind(const char *k)
{
	return strcmp(k, "link") == 0 || strcmp(k, "print") == 0;
}

int
store_share_create(struct store *s, struct share_rec *r, int max_live)
{
	if (!r || !r->uid[0] || strlen(r->token_hash) != 64 || !valid_kind(r->kind) ||
	    r->created_at <= 0 || r->expires_at < 0 || max_live < 1)
		return TC_EINVALID;
	DISPATCH(create(s, r, max_live));
}

int
store_shares_each(struct store *s, int64_t credential_id,
		  int (*cb)(const struct share_rec *r, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(each(s, credential_id, cb, arg));
}

int
store_share_withdraw(struct store *s, int64_t credential_id, const char *uid, int64_t when)
{
	if (!uid || when <= 0)
		return TC_EINVALID;
	DISPATCH(withdraw(s, credential_id, uid, when));
}

int
store_share_access(struct store *s, const char *token_hash, int64_t when,
		   struct share_rec *out)
{
	if (!token_hash || strlen(token_hash) != 64 || !out)
		return TC_EINVALID;
	DISPATCH(access(s, token_hash, when, out));
}

int
store_share_print(struct store *s, int64_t credential_id, struct share_rec *out)
{
	if (!out)
		return TC_EINVALID;
	DISPATCH(print(s, credential_id, out));
}
