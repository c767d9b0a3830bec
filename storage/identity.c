/*
 * identity.c - the backend-independent side of storage/identity.h: checks
 * what the header calls caller bugs (NULL pointers, text that does not fit
 * its field, values out of range), then dispatches to the backend's
 * identity ops (store_backend.h). A backend without identity ops answers
 * TC_EUNSUPPORTED. Nothing here touches a database.
 */
#include <stdint.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/identity.h"
#include "storage/store_backend.h"

#define META_KEY_MAX 255
#define META_VALUE_MAX 65535
#define HASH_MAX 64		/* SHA-256 hex */
#define UID_MAX 36		/* a UUID */
#define ACCOUNT_MAX 255		/* what a login names: national ID or e-mail */
#define SOURCE_MAX 63		/* a client address */
#define PASSWORD_HASH_MAX 159	/* struct person's password_hash */

/* The identity ops of S into *OUT: 0, TC_EINVALID (S NULL) or
 * TC_EUNSUPPORTED (the backend has none). */
static int
ops_of(struct store *s, const struct identity_ops **out)
{
	*out = NULL;
	if (s == NULL)
		return TC_EINVALID;
	if (s->ops->identity == NULL)
		return TC_EUNSUPPORTED;
	*out = s->ops->identity;
	return 0;
}

/* Logs a caller bug in FN and returns TC_EINVALID. */
static int
invalid(const char *fn)
{
	log_warn("%s: invalid argument", fn);
	return TC_EINVALID;
}

/* The fixed-size field BUF of SIZE bytes holds a NUL-terminated string. */
static int
field_ok(const char *buf, size_t size)
{
	return memchr(buf, '\0', size) != NULL;
}

/* Like field_ok, and the string is not empty. */
static int
field_set(const char *buf, size_t size)
{
	return buf[0] != '\0' && field_ok(buf, size);
}

/* S is a string of at most MAX bytes (NULL is not). */
static int
arg_ok(const char *s, size_t max)
{
	return s != NULL && strnlen(s, max + 1) <= max;
}

/* Like arg_ok, and S is not empty. */
static int
arg_set(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && arg_ok(s, max);
}

static int
role_ok(enum role r)
{
	return r >= ROLE_LEARNER && r <= ROLE_OPERATOR;
}

/* ---- transactions ------------------------------------------------------- */

int
store_begin(struct store *s)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	return rc ? rc : o->begin(s);
}

int
store_commit(struct store *s)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	return rc ? rc : o->commit(s);
}

int
store_rollback(struct store *s)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	return rc ? rc : o->rollback(s);
}

/* ---- platform settings -------------------------------------------------- */

int
store_meta_get(struct store *s, const char *key, char *out, size_t outsize)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!arg_set(key, META_KEY_MAX) || out == NULL ||
			outsize == 0))
		rc = invalid(__func__);
	return rc ? rc : o->meta_get(s, key, out, outsize);
}

int
store_meta_add(struct store *s, const char *key, const char *value)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!arg_set(key, META_KEY_MAX) ||
			!arg_ok(value, META_VALUE_MAX)))
		rc = invalid(__func__);
	return rc ? rc : o->meta_add(s, key, value);
}

/* ---- institutions ------------------------------------------------------- */

int
store_institution_add(struct store *s, struct institution *inst)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (inst == NULL ||
			!field_set(inst->code, sizeof(inst->code)) ||
			!field_ok(inst->name, sizeof(inst->name)) ||
			!field_ok(inst->website, sizeof(inst->website)) ||
			inst->kind < INST_SCHOOL || inst->kind > INST_OTHER))
		rc = invalid(__func__);
	return rc ? rc : o->institution_add(s, inst);
}

int
store_institution_get(struct store *s, const char *code,
		      struct institution *out)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!arg_set(code, INST_CODE_MAX) || out == NULL))
		rc = invalid(__func__);
	return rc ? rc : o->institution_get(s, code, out);
}

int
store_institution_get_id(struct store *s, int64_t id, struct institution *out)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && out == NULL)
		rc = invalid(__func__);
	return rc ? rc : o->institution_get_id(s, id, out);
}

int
store_institution_each(struct store *s,
		       int (*cb)(const struct institution *inst, void *arg),
		       void *arg)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && cb == NULL)
		rc = invalid(__func__);
	return rc ? rc : o->institution_each(s, cb, arg);
}

int
store_key_add(struct store *s, struct inst_key *k)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	/* valid_from 0 would leave the previous key current as well. */
	if (rc == 0 && (k == NULL || k->institution_id <= 0 ||
			!field_set(k->file, sizeof(k->file)) ||
			!field_ok(k->did, sizeof(k->did)) ||
			k->valid_from <= 0))
		rc = invalid(__func__);
	return rc ? rc : o->key_add(s, k);
}

int
store_key_current(struct store *s, int64_t institution_id,
		  struct inst_key *out)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && out == NULL)
		rc = invalid(__func__);
	return rc ? rc : o->key_current(s, institution_id, out);
}

int
store_key_each(struct store *s, int64_t institution_id,
	       int (*cb)(const struct inst_key *k, void *arg), void *arg)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && cb == NULL)
		rc = invalid(__func__);
	return rc ? rc : o->key_each(s, institution_id, cb, arg);
}

/* ---- people and roles --------------------------------------------------- */

int
store_person_upsert(struct store *s, struct person *p, int64_t now,
		    int *created)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	/* The uid is the caller's (uuid_v4) and only used for a new row. */
	if (rc == 0 && (p == NULL ||
			!field_set(p->uid, sizeof(p->uid)) ||
			!field_set(p->national_id, sizeof(p->national_id)) ||
			!field_set(p->nid_hmac, sizeof(p->nid_hmac)) ||
			!field_ok(p->full_name, sizeof(p->full_name)) ||
			!field_ok(p->date_of_birth,
				  sizeof(p->date_of_birth)) ||
			!field_ok(p->email, sizeof(p->email)) ||
			!field_ok(p->password_hash,
				  sizeof(p->password_hash))))
		rc = invalid(__func__);
	return rc ? rc : o->person_upsert(s, p, now, created);
}

int
store_person_get(struct store *s, int64_t id, struct person *out)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && out == NULL)
		rc = invalid(__func__);
	return rc ? rc : o->person_get(s, id, out);
}

int
store_person_get_by_nid(struct store *s, const char *national_id,
			struct person *out)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!arg_set(national_id, NATIONAL_ID_LEN) || out == NULL))
		rc = invalid(__func__);
	return rc ? rc : o->person_get_by_nid(s, national_id, out);
}

int
store_person_get_by_uid(struct store *s, const char *uid, struct person *out)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!arg_set(uid, UID_MAX) || out == NULL))
		rc = invalid(__func__);
	return rc ? rc : o->person_get_by_uid(s, uid, out);
}

int
store_person_set_password(struct store *s, int64_t id, const char *hash,
			  int64_t now)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && !arg_ok(hash, PASSWORD_HASH_MAX))
		rc = invalid(__func__);
	return rc ? rc : o->person_set_password(s, id, hash, now);
}

int
store_password_heads_each(struct store *s,
			  int (*cb)(const char *head, int64_t count, void *arg),
			  void *arg)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && cb == NULL)
		rc = invalid(__func__);
	return rc ? rc : o->password_heads_each(s, cb, arg);
}

int
store_membership_add(struct store *s, struct membership *m)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (m == NULL || m->person_id <= 0 ||
			m->institution_id < 0 || !role_ok(m->role) ||
			!field_ok(m->student_code, sizeof(m->student_code))))
		rc = invalid(__func__);
	return rc ? rc : o->membership_add(s, m);
}

int
store_membership_remove(struct store *s, int64_t person_id,
			int64_t institution_id, enum role role)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && !role_ok(role))
		rc = invalid(__func__);
	return rc ? rc : o->membership_remove(s, person_id, institution_id,
					      role);
}

int
store_memberships(struct store *s, int64_t person_id, struct membership *out,
		  int max, int *n)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (max < 0 || (max > 0 && out == NULL) || n == NULL))
		rc = invalid(__func__);
	return rc ? rc : o->memberships(s, person_id, out, max, n);
}

int
store_members_each(struct store *s, int64_t institution_id, enum role role,
		   int64_t after_id, int limit,
		   int (*cb)(const struct person *p, const struct membership *m,
			     void *arg),
		   void *arg)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!role_ok(role) || limit <= 0 || cb == NULL))
		rc = invalid(__func__);
	return rc ? rc : o->members_each(s, institution_id, role, after_id,
					 limit, cb, arg);
}

/* ---- sessions ----------------------------------------------------------- */

int
store_session_add(struct store *s, const struct session *sess)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (sess == NULL ||
			!field_set(sess->token_hash, sizeof(sess->token_hash)) ||
			!field_ok(sess->source, sizeof(sess->source))))
		rc = invalid(__func__);
	return rc ? rc : o->session_add(s, sess);
}

int
store_session_get(struct store *s, const char *token_hash, struct session *out)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!arg_set(token_hash, HASH_MAX) || out == NULL))
		rc = invalid(__func__);
	return rc ? rc : o->session_get(s, token_hash, out);
}

int
store_session_touch(struct store *s, const char *token_hash, int64_t now)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && !arg_set(token_hash, HASH_MAX))
		rc = invalid(__func__);
	return rc ? rc : o->session_touch(s, token_hash, now);
}

int
store_session_delete(struct store *s, const char *token_hash)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && !arg_set(token_hash, HASH_MAX))
		rc = invalid(__func__);
	return rc ? rc : o->session_delete(s, token_hash);
}

int
store_session_purge(struct store *s, int64_t person_id, int64_t now,
		    int64_t idle_timeout, int *n)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (person_id < 0 || idle_timeout < 0))
		rc = invalid(__func__);
	return rc ? rc : o->session_purge(s, person_id, now, idle_timeout, n);
}

/* ---- API tokens --------------------------------------------------------- */

int
store_token_add(struct store *s, struct api_token *t, const char *token_hash)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (t == NULL || !arg_set(token_hash, HASH_MAX) ||
			!field_set(t->uid, sizeof(t->uid)) ||
			!field_ok(t->name, sizeof(t->name)) ||
			!field_ok(t->scopes, sizeof(t->scopes)) ||
			t->id < 0))
		rc = invalid(__func__);
	return rc ? rc : o->token_add(s, t, token_hash);
}

int
store_token_by_hash(struct store *s, const char *token_hash,
		    struct api_token *out)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!arg_set(token_hash, HASH_MAX) || out == NULL))
		rc = invalid(__func__);
	return rc ? rc : o->token_by_hash(s, token_hash, out);
}

int
store_token_get(struct store *s, int64_t institution_id, const char *uid,
		struct api_token *out)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!arg_set(uid, UID_MAX) || out == NULL))
		rc = invalid(__func__);
	return rc ? rc : o->token_get(s, institution_id, uid, out);
}

int
store_token_each(struct store *s, int64_t institution_id,
		 int (*cb)(const struct api_token *t, void *arg), void *arg)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && cb == NULL)
		rc = invalid(__func__);
	return rc ? rc : o->token_each(s, institution_id, cb, arg);
}

int
store_token_revoke(struct store *s, int64_t institution_id, const char *uid,
		   int64_t now)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	/* revoked_at 0 means active, so NOW must be a real time. */
	if (rc == 0 && (!arg_set(uid, UID_MAX) || now <= 0))
		rc = invalid(__func__);
	return rc ? rc : o->token_revoke(s, institution_id, uid, now);
}

int
store_token_touch(struct store *s, int64_t id, int64_t now)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	return rc ? rc : o->token_touch(s, id, now);
}

/* ---- activation codes --------------------------------------------------- */

int
store_activation_add(struct store *s, int64_t person_id, const char *code_hash,
		     int64_t now, int64_t expires_at)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && !arg_set(code_hash, HASH_MAX))
		rc = invalid(__func__);
	return rc ? rc : o->activation_add(s, person_id, code_hash, now,
					   expires_at);
}

int
store_activation_pending(struct store *s, int64_t person_id, int64_t now, int *pending)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && !pending)
		rc = invalid(__func__);
	return rc ? rc : o->activation_pending(s, person_id, now, pending);
}

int
store_activation_take(struct store *s, int64_t person_id,
		      const char *code_hash, int64_t now)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	/* used_at 0 means unused, so NOW must be a real time. */
	if (rc == 0 && (!arg_set(code_hash, HASH_MAX) || now <= 0))
		rc = invalid(__func__);
	return rc ? rc : o->activation_take(s, person_id, code_hash, now);
}

/* ---- failed logins ------------------------------------------------------ */

int
store_login_failure_add(struct store *s, const char *account,
			const char *source, int64_t now)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (!arg_ok(account, ACCOUNT_MAX) ||
			!arg_ok(source, SOURCE_MAX)))
		rc = invalid(__func__);
	return rc ? rc : o->login_failure_add(s, account, source, now);
}

/* ACCOUNT or SOURCE may be NULL: that count is 0. Outputs may be NULL. */
int
store_login_failures(struct store *s, const char *account, const char *source,
		     int64_t since, int *by_account, int *by_source,
		     int64_t *oldest_account, int64_t *oldest_source)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && ((account != NULL && !arg_ok(account, ACCOUNT_MAX)) ||
			(source != NULL && !arg_ok(source, SOURCE_MAX))))
		rc = invalid(__func__);
	return rc ? rc : o->login_failures(s, account, source, since,
					   by_account, by_source,
					   oldest_account, oldest_source);
}

/* ACCOUNT may be NULL: only the housekeeping part runs. */
int
store_login_failures_clear(struct store *s, const char *account,
			   int64_t before)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && account != NULL && !arg_ok(account, ACCOUNT_MAX))
		rc = invalid(__func__);
	return rc ? rc : o->login_failures_clear(s, account, before);
}

/* ---- audit -------------------------------------------------------------- */

int
store_audit_add(struct store *s, struct audit_event *e)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (e == NULL || !field_set(e->event, sizeof(e->event)) ||
			!field_ok(e->subject, sizeof(e->subject)) ||
			!field_ok(e->detail, sizeof(e->detail)) ||
			!field_ok(e->source, sizeof(e->source))))
		rc = invalid(__func__);
	return rc ? rc : o->audit_add(s, e);
}

int
store_audit_each(struct store *s, int64_t institution_id, int64_t before_id,
		 int limit, int (*cb)(const struct audit_event *e, void *arg),
		 void *arg)
{
	const struct identity_ops *o = NULL;
	int rc = ops_of(s, &o);

	if (rc == 0 && (before_id < 0 || limit <= 0 || cb == NULL))
		rc = invalid(__func__);
	return rc ? rc : o->audit_each(s, institution_id, before_id, limit,
				       cb, arg);
}
