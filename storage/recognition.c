/* recognition.c - dispatch of storage/recognition.h to the backend's ops. */
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "storage/recognition.h"
#include "storage/store_backend.h"

static int
ops(struct store *s, const struct recognition_ops **o)
{
	if (!s)
		return TC_EINVALID;
	*o = s->ops->recognition;
	return *o ? 0 : TC_EUNSUPPORTED;
}

#define DISPATCH(call) do { const struct recognition_ops *o = NULL; int rc_ = ops(s, &o); \
	return rc_ ? rc_ : o->call; } while (0)

void
recog_rule_rec_cleanup(struct recog_rule_rec *r)
{
	if (r) {
		free(r->body);
		r->body = NULL;
	}
}

static int
rec_ok(const struct recog_rule_rec *r, int n)
{
	return r && r->body && r->institution_id > 0 && r->source_id >= 0 &&
	       r->status >= RECOG_PROPOSED && r->status <= RECOG_EXPIRED && n >= 1 &&
	       n <= RECOG_KEYS_MAX;
}

int
store_recog_rule_add(struct store *s, struct recog_rule_rec *r, char keys[][RECOG_KEY_MAX],
		     int n)
{
	if (!rec_ok(r, n) || !keys)
		return TC_EINVALID;
	DISPATCH(add(s, r, keys, n));
}

int
store_recog_rule_update(struct store *s, const struct recog_rule_rec *r,
			char keys[][RECOG_KEY_MAX], int n)
{
	if (!rec_ok(r, n) || !keys || r->id <= 0 || r->version < 2)
		return TC_EINVALID;
	DISPATCH(update(s, r, keys, n));
}

int
store_recog_rule_get(struct store *s, int64_t institution_id, int64_t rule_id,
		     struct recog_rule_rec *out)
{
	if (!out)
		return TC_EINVALID;
	DISPATCH(get(s, institution_id, rule_id, out));
}

int
store_recog_rules_each(struct store *s, int64_t institution_id,
		       int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(each(s, institution_id, cb, arg));
}

int
store_recog_rule_versions(struct store *s, int64_t institution_id, int64_t rule_id,
			  int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg)
{
	if (!cb)
		return TC_EINVALID;
	DISPATCH(versions(s, institution_id, rule_id, cb, arg));
}

int
store_recog_candidates(struct store *s, int64_t institution_id, int64_t source_id,
		       char keys[][RECOG_KEY_MAX], int n,
		       int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg)
{
	if (!cb || !keys || n < 1 || n > RECOG_LOOKUP_KEYS || source_id < 0)
		return TC_EINVALID;
	DISPATCH(candidates(s, institution_id, source_id, keys, n, cb, arg));
}

int
store_recog_rules_stamp(struct store *s, int64_t *stamp)
{
	if (!stamp)
		return TC_EINVALID;
	*stamp = 0;
	DISPATCH(rules_stamp(s, stamp));
}

int
store_registry_key_by_did(struct store *s, const char *did, struct inst_key *out)
{
	if (!did || !out)
		return TC_EINVALID;
	DISPATCH(key_by_did(s, did, out));
}

int
store_course_field_set(struct store *s, int64_t course_id, const char *field)
{
	if (!field || strlen(field) > RECOG_FIELD_MAX)
		return TC_EINVALID;
	DISPATCH(field_set(s, course_id, field));
}

int
store_course_level_field(struct store *s, int64_t course_id, char level[RECOG_LEVEL_MAX + 1],
			 char field[RECOG_FIELD_MAX + 1])
{
	if (!level || !field)
		return TC_EINVALID;
	DISPATCH(level_field(s, course_id, level, field));
}

int
store_recog_proposals_each(struct store *s, int64_t partner_id,
			   int (*cb)(const struct recog_rule_rec *r, const struct recog_mutual *m,
				     void *arg), void *arg)
{
	if (!cb || partner_id <= 0)
		return TC_EINVALID;
	DISPATCH(proposals(s, partner_id, cb, arg));
}

int
store_recog_proposal_get(struct store *s, int64_t partner_id, int64_t rule_id,
			 struct recog_rule_rec *out, struct recog_mutual *m, int *decided)
{
	if (!out || !m || !decided || partner_id <= 0 || rule_id <= 0)
		return TC_EINVALID;
	DISPATCH(proposal_get(s, partner_id, rule_id, out, m, decided));
}

int
store_recog_mutual_record(struct store *s, const struct recog_mutual *m)
{
	if (!m || m->rule_id <= 0 || m->partner_id <= 0 || m->rule_version <= 0 ||
	    (m->accepted && m->reverse_rule_id <= 0))
		return TC_EINVALID;
	DISPATCH(mutual_record(s, m));
}
