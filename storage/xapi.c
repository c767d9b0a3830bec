/* xapi.c - dispatch of storage/xapi.h to the backend's xapi ops, with the
 * checks of caller bugs that every backend would otherwise repeat. */
#include <string.h>

#include "courses/errors.h"
#include "storage/store_backend.h"
#include "storage/xapi.h"

static int
ops(struct store *s, const struct xapi_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->xapi;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct xapi_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

int
store_lrs_credential_add(struct store *s, struct lrs_credential *c, const char *secret_hash)
{
	if (!c || !c->key[0] || strlen(c->uid) != 36 || !secret_hash || strlen(secret_hash) != 64)
		return TC_EINVALID;
	DISPATCH(cred_add(s, c, secret_hash));
}

int
store_lrs_credential_by_key(struct store *s, const char *key, struct lrs_credential *out,
			    char *secret_hash)
{
	if (!key || !out || !secret_hash)
		return TC_EINVALID;
	if (strlen(key) > LRS_KEY_MAX)
		return TC_ENOTFOUND;
	DISPATCH(cred_by_key(s, key, out, secret_hash));
}

int
store_lrs_credentials_each(struct store *s, int64_t institution_id,
			   int (*cb)(const struct lrs_credential *c, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(creds_each(s, institution_id, cb, arg));
}

int
store_lrs_credential_revoke(struct store *s, int64_t institution_id, const char *uid,
			    int64_t now)
{
	if (!uid)
		return TC_EINVALID;
	DISPATCH(cred_revoke(s, institution_id, uid, now));
}

int
store_xapi_statement_add(struct store *s, const struct xapi_statement_row *r)
{
	if (!r || !r->statement_id || strlen(r->statement_id) != 36 || !r->json || !r->verb_id ||
	    (r->nagents && !r->agents) || (r->nactivities && !r->activities))
		return TC_EINVALID;
	DISPATCH(statement_add(s, r));
}

int
store_xapi_statement_get(struct store *s, int64_t institution_id, const char *statement_id,
			 char **json, int *voided, int *is_voiding, int64_t *stored_us)
{
	if (json)
		*json = NULL;
	if (!statement_id)
		return TC_EINVALID;
	DISPATCH(statement_get(s, institution_id, statement_id, json, voided, is_voiding,
			       stored_us));
}

int
store_xapi_statements_query(struct store *s, const struct xapi_query *q,
			    int (*cb)(const char *json, int64_t cursor, int64_t stored_us,
				      void *arg), void *arg)
{
	if (!q || !cb || q->limit < 1 || q->limit > 10000 || q->after < 0)
		return TC_EINVALID;
	DISPATCH(statements_query(s, q, cb, arg));
}

int
store_xapi_activity_get(struct store *s, int64_t institution_id, const char *activity_id,
			char **json)
{
	if (!activity_id || !json)
		return TC_EINVALID;
	*json = NULL;
	DISPATCH(activity_get(s, institution_id, activity_id, json));
}

int
store_xapi_activity_put(struct store *s, int64_t institution_id, const char *activity_id,
			const char *json)
{
	if (!activity_id || !json)
		return TC_EINVALID;
	DISPATCH(activity_put(s, institution_id, activity_id, json));
}

static int
key_ok(const struct xapi_doc_key *k, int need_id)
{
	return k && k->activity_id && k->agent_key && k->registration &&
	       (!need_id || k->doc_id) && k->kind >= XAPI_DOC_STATE &&
	       k->kind <= XAPI_DOC_AGENT_PROFILE;
}

int
store_xapi_doc_get(struct store *s, const struct xapi_doc_key *k, struct xapi_doc *out)
{
	if (!key_ok(k, 1) || !out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	DISPATCH(doc_get(s, k, out));
}

int
store_xapi_doc_put(struct store *s, const struct xapi_doc_key *k, const char *content_type,
		   const void *body, size_t len, const char *etag, int64_t now_us)
{
	if (!key_ok(k, 1) || !content_type || (len && !body) || !etag)
		return TC_EINVALID;
	DISPATCH(doc_put(s, k, content_type, body, len, etag, now_us));
}

int
store_xapi_doc_delete(struct store *s, const struct xapi_doc_key *k)
{
	if (!key_ok(k, 0) || (!k->doc_id && k->kind != XAPI_DOC_STATE))
		return TC_EINVALID;
	DISPATCH(doc_delete(s, k));
}

int
store_xapi_doc_ids(struct store *s, const struct xapi_doc_key *k, int64_t since_us,
		   int (*cb)(const char *doc_id, void *arg), void *arg)
{
	if (!key_ok(k, 0) || !cb)
		return TC_EINVALID;
	DISPATCH(doc_ids(s, k, since_us, cb, arg));
}

int
store_xapi_attachment_put(struct store *s, int64_t institution_id, const char *sha2,
			  const char *content_type, const void *data, size_t len)
{
	if (!sha2 || !*sha2 || !content_type || (len && !data))
		return TC_EINVALID;
	DISPATCH(attachment_put(s, institution_id, sha2, content_type, data, len));
}

int
store_xapi_attachment_get(struct store *s, int64_t institution_id, const char *sha2,
			  char *content_type, size_t ctsize, unsigned char **data, size_t *len)
{
	if (!sha2 || !content_type || ctsize == 0 || !data || !len)
		return TC_EINVALID;
	*data = NULL;
	*len = 0;
	DISPATCH(attachment_get(s, institution_id, sha2, content_type, ctsize, data, len));
}
