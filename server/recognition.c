/* recognition.c - see recognition.h. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/grow.h"
#include "server/recognition.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/recognition.h"

void
recog_eval_cleanup(struct recog_eval *e)
{
	if (e) {
		free(e->rules);
		e->rules = NULL;
		e->nrules = 0;
		e->decision.rule = NULL;
	}
}

struct cands {
	struct recog_eval *e;
	size_t alloc;
};

/*
 * What repeats from credential to credential, per thread: the course code
 * in an achievement's shared fields (one JSON text for many credentials),
 * and the parse of a rule version's body (the same few rules for every
 * learner). Keyed by the exact text, which a rule version or an
 * achievement never changes under, so a hit is always right; a slot is
 * replaced when another text hashes to it. The slots are several times
 * the achievements and rules in use, since a direct-mapped table only a
 * little fuller than its data thrashes (64 and 128 slots missed for the
 * benchmark's 150 achievements and 169 rules at 500,000 credentials, and
 * 1,024 for its 1,260 and 1,279 at 5 million: the warm batch then took
 * 7.3 s instead of 3.9). Past 4,096 the look-ups miss and cost what they
 * did without these caches. A parsed rule (2.5 KB) is allocated when its
 * slot is first filled: at most 10 MB a thread.
 */
#define CODE_SLOTS 4096
#define RULE_SLOTS 4096
#define CAND_SLOTS 4096
/* Candidate lists longer than this are looked up every time rather than
 * kept: a slot then holds at most 4 parsed rules (about 10 KB), so a
 * thread's candidates stay under 40 MB even with every slot full of the
 * longest lists (a learner's credential meets three rules or so). */
#define CAND_KEEP_MAX 4

/* The candidates of one (institution, source, lookup keys), parsed, as
 * they were under STAMP. */
struct cand_slot {
	int64_t stamp;
	char *key;
	struct recog_rule *rules;
	size_t n;
};

struct rule_slot {
	char *body;
	struct recog_rule r;
};

struct tcache {
	struct {
		char *text;
		char code[COURSE_CODE_MAX + 1];
	} code[CODE_SLOTS];
	struct rule_slot *rule[RULE_SLOTS];
	struct cand_slot *cand[CAND_SLOTS];
};

static pthread_key_t tcache_key;
static pthread_once_t tcache_once = PTHREAD_ONCE_INIT;
static int tcache_ok;

static void
tcache_free(void *p)
{
	struct tcache *t = p;

	for (int i = 0; i < CODE_SLOTS; i++)
		free(t->code[i].text);
	for (int i = 0; i < RULE_SLOTS; i++)
		if (t->rule[i]) {
			free(t->rule[i]->body);
			free(t->rule[i]);
		}
	for (int i = 0; i < CAND_SLOTS; i++)
		if (t->cand[i]) {
			free(t->cand[i]->key);
			free(t->cand[i]->rules);
			free(t->cand[i]);
		}
	free(t);
}

static void
tcache_init(void)
{
	tcache_ok = pthread_key_create(&tcache_key, tcache_free) == 0;
}

/* This thread's cache, or NULL (then nothing is cached). */
static struct tcache *
tcache(void)
{
	struct tcache *t;

	pthread_once(&tcache_once, tcache_init);
	if (!tcache_ok)
		return NULL;
	if (!(t = pthread_getspecific(tcache_key)) && (t = calloc(1, sizeof(*t))) &&
	    pthread_setspecific(tcache_key, t) != 0) {
		free(t);
		t = NULL;
	}
	return t;
}

static size_t
text_hash(const char *s)
{
	uint64_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (size_t)(h ^ (h >> 29));
}

/* Rule REC's body parsed into R, from this thread's cache when it was
 * parsed before. 0, TC_EDB (a stored rule that does not parse). */
static int
rule_parse_cached(const struct recog_rule_rec *rec, struct recog_rule *r)
{
	struct tcache *t = tcache();
	size_t i = t ? text_hash(rec->body) % RULE_SLOTS : 0;
	char err[RECOG_ERR_MAX];

	if (t && t->rule[i] && t->rule[i]->body && strcmp(t->rule[i]->body, rec->body) == 0) {
		*r = t->rule[i]->r;
		return 0;
	}
	if (recognition_rule_parse(rec->body, strlen(rec->body), r, err, sizeof(err)))
		return TC_EDB;	/* only parsed rules are stored */
	if (t && !t->rule[i])
		t->rule[i] = calloc(1, sizeof(*t->rule[i]));
	if (t && t->rule[i]) {
		char *copy = strdup(rec->body);

		if (copy) {
			free(t->rule[i]->body);
			t->rule[i]->body = copy;
			t->rule[i]->r = *r;
		}
	}
	return 0;
}

static int
add_candidate(const struct recog_rule_rec *rec, void *arg)
{
	struct cands *c = arg;
	struct recog_eval *e = c->e;
	struct recog_rule *r;

	if (GROW(&e->rules, &c->alloc, e->nrules + 1, 8))
		return TC_ENOMEM;
	r = &e->rules[e->nrules];
	if (rule_parse_cached(rec, r))
		return TC_EDB;
	r->id = rec->id;
	r->version = rec->version;
	r->created_at = rec->created_at;
	r->source_id = rec->source_id;
	r->status = rec->status;
	e->nrules++;
	return 0;
}

/* The registry's key of DID into K, through MEMO when it has it (or
 * keeps it now). 0, TC_ENOTFOUND, a storage error. */
static int
key_by_did(struct store *s, const char *did, struct recog_memo *m, struct inst_key *k)
{
	int rc, i;

	for (i = 0; m && i < m->nkey; i++)
		if (strcmp(m->key[i].did, did) == 0) {
			memset(k, 0, sizeof(*k));
			snprintf(k->did, sizeof(k->did), "%s", did);
			k->institution_id = m->key[i].institution_id;
			k->valid_from = m->key[i].valid_from;
			k->valid_until = m->key[i].valid_until;
			return m->key[i].rc;
		}
	rc = store_registry_key_by_did(s, did, k);
	if (m && m->nkey < RECOG_MEMO_KEYS && (rc == 0 || rc == TC_ENOTFOUND) &&
	    strlen(did) < sizeof(m->key[0].did) && (rc || strcmp(k->did, did) == 0)) {
		i = m->nkey++;
		snprintf(m->key[i].did, sizeof(m->key[i].did), "%s", did);
		m->key[i].rc = rc;
		m->key[i].institution_id = rc ? 0 : k->institution_id;
		m->key[i].valid_from = rc ? 0 : k->valid_from;
		m->key[i].valid_until = rc ? 0 : k->valid_until;
	}
	return rc;
}

/* The level and field of COURSE_ID into E, through MEMO. */
static int
level_field(struct store *s, int64_t course_id, struct recog_memo *m, struct recog_eval *e)
{
	int rc, i;

	for (i = 0; m && i < m->ncourse; i++)
		if (m->course[i].course_id == course_id) {
			memcpy(e->facts.level, m->course[i].level, sizeof(e->facts.level));
			memcpy(e->facts.field, m->course[i].field, sizeof(e->facts.field));
			return m->course[i].rc;
		}
	rc = store_course_level_field(s, course_id, e->facts.level, e->facts.field);
	if (m && m->ncourse < RECOG_MEMO_COURSES && (rc == 0 || rc == TC_ENOTFOUND)) {
		i = m->ncourse++;
		m->course[i].course_id = course_id;
		m->course[i].rc = rc;
		memcpy(m->course[i].level, e->facts.level, sizeof(e->facts.level));
		memcpy(m->course[i].field, e->facts.field, sizeof(e->facts.field));
	}
	return rc;
}

/* The key of a candidates slot: institution, source and lookup keys. */
static int
cand_key(char *buf, size_t size, int64_t institution_id, int64_t source_id,
	 char keys[][RECOG_KEY_MAX], int n)
{
	int len = snprintf(buf, size, "%lld/%lld/", (long long)institution_id,
			   (long long)source_id);

	/* the keys: copied, each with its newline (no format to read) */
	for (int i = 0; i < n && len > 0 && (size_t)len < size; i++) {
		size_t k = strlen(keys[i]);

		if ((size_t)len + k + 1 >= size)
			return TC_EINVALID;
		memcpy(buf + len, keys[i], k);
		buf[len + (int)k] = '\n';
		buf[len + (int)k + 1] = '\0';
		len += (int)k + 1;
	}
	return len > 0 && (size_t)len < size ? 0 : TC_EINVALID;
}

/*
 * E's candidates (store_recog_candidates), from this thread's cache when
 * they were looked up under MEMO's stamp (read once a query); else looked
 * up and kept. Without MEMO, always looked up.
 */
static int
candidates(struct store *s, int64_t institution_id, char keys[][RECOG_KEY_MAX], int n,
	   struct recog_memo *memo, struct recog_eval *e)
{
	char key[32 * 2 + RECOG_LOOKUP_KEYS * (RECOG_KEY_MAX + 1) + 8];
	struct cands cands = { e, 0 };
	struct tcache *t = memo ? tcache() : NULL;
	struct cand_slot *slot = NULL;
	size_t i = 0;
	int rc;

	if (t && !memo->stamp_read) {
		if ((rc = store_recog_rules_stamp(s, &memo->stamp)))
			return rc;
		memo->stamp_read = 1;
	}
	if (t && cand_key(key, sizeof(key), institution_id, e->facts.issuer_id, keys, n) == 0) {
		i = text_hash(key) % CAND_SLOTS;
		slot = t->cand[i];
		if (slot && slot->key && slot->stamp == memo->stamp && strcmp(slot->key, key) == 0) {
			if (slot->n && !(e->rules = malloc(slot->n * sizeof(*e->rules))))
				return TC_ENOMEM;
			if (slot->n)
				memcpy(e->rules, slot->rules, slot->n * sizeof(*e->rules));
			e->nrules = slot->n;
			return 0;
		}
	} else {
		t = NULL;
	}
	rc = store_recog_candidates(s, institution_id, e->facts.issuer_id, keys, n, add_candidate,
				    &cands);
	if (rc || !t || e->nrules > CAND_KEEP_MAX)
		return rc;
	/* kept (a failure to keep only costs the next look-up) */
	if (!slot && (slot = calloc(1, sizeof(*slot))))
		t->cand[i] = slot;
	if (slot) {
		struct recog_rule *copy = e->nrules ? malloc(e->nrules * sizeof(*copy)) : NULL;
		char *k = strdup(key);

		if (k && (copy || !e->nrules)) {
			if (copy)
				memcpy(copy, e->rules, e->nrules * sizeof(*copy));
			free(slot->key);
			free(slot->rules);
			slot->key = k;
			slot->rules = copy;
			slot->n = e->nrules;
			slot->stamp = memo->stamp;
		} else {
			free(k);
			free(copy);
		}
	}
	return 0;
}

/* The issuer of E->did and whether its key was valid at E->signed_at. */
static int
trust(struct store *s, const struct credential_rec *c, struct recog_memo *m, struct recog_eval *e)
{
	struct inst_key k;
	struct recog_key rk;
	int rc = key_by_did(s, e->did, m, &k);

	e->facts.issuer_id = 0;
	e->facts.key_valid = 0;
	if (rc == TC_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (k.institution_id != c->institution_id)
		return 0;	/* a key of someone else than the issuer on record */
	rk.did = k.did;
	rk.valid_from = k.valid_from;
	rk.valid_until = k.valid_until;
	e->facts.issuer_id = k.institution_id;
	e->facts.key_valid = recognition_key_check(&rk, 1, e->did, e->signed_at) ==
			     RECOG_RECOGNISED;
	return 0;
}

/* The facts recognition_facts_from_credential reads from the text, from
 * the fields of a row read with its shared part instead (the text is
 * rebuilt from exactly these: issuer = the key's DID, validFrom = proof
 * created = issued_at, humanCode = shared "code", creditsEarned, the
 * grade as result[0].value). */
static int
facts_from_row(const struct credential_rec *c, struct recog_eval *out)
{
	struct tcache *t = tcache();
	size_t i = t ? text_hash(c->shared) % CODE_SLOTS : 0;
	json_t *sh = NULL;
	const char *code;
	int rc = TC_EINVALID, x;

	if (t && t->code[i].text && strcmp(t->code[i].text, c->shared) == 0) {
		code = t->code[i].code;
	} else {
		sh = json_loads(c->shared, 0, NULL);
		code = json_string_value(json_object_get(sh, "code"));
		if (t && code && strlen(code) < sizeof(t->code[i].code)) {
			char *copy = strdup(c->shared);

			if (copy) {
				free(t->code[i].text);
				t->code[i].text = copy;
				snprintf(t->code[i].code, sizeof(t->code[i].code), "%s", code);
			}
		}
	}

	if (code && strlen(code) < sizeof(out->facts.course_code) &&
	    strlen(c->issuer_did) < sizeof(out->did)) {
		memcpy(out->facts.course_code, code, strlen(code) + 1);	/* lengths checked */
		memcpy(out->did, c->issuer_did, strlen(c->issuer_did) + 1);
		out->facts.issued_at = out->signed_at = c->issued_at;
		out->facts.credits_x10 = c->credits_earned > 0 && c->credits_earned <= 600 ?
					 (int)round(c->credits_earned * 10) : 0;
		out->facts.grade_x100 = c->grade[0] && recognition_grade_parse(c->grade, &x) == 0 ?
					x : -1;
		rc = 0;
	}
	json_decref(sh);
	return rc;
}

int
recognition_evaluate(struct store *s, int64_t institution_id, const struct credential_rec *c,
		     int verified, int64_t now, struct recog_eval *out)
{
	return recognition_evaluate_memo(s, institution_id, c, verified, now, NULL, out);
}

int
recognition_evaluate_memo(struct store *s, int64_t institution_id,
			  const struct credential_rec *c, int verified, int64_t now,
			  struct recog_memo *memo, struct recog_eval *out)
{
	char keys[RECOG_LOOKUP_KEYS][RECOG_KEY_MAX];
	int n, rc;

	if (!out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	if (!s || !c || (!c->json && !c->shared))
		return TC_EINVALID;
	if (c->json)
		rc = recognition_facts_from_credential(c->json, strlen(c->json), &out->facts,
						       out->did, sizeof(out->did), &out->signed_at);
	else
		rc = facts_from_row(c, out);
	if (rc)
		return rc;
	out->facts.verified = verified;
	out->facts.revoked = c->revoked_at != 0;
	if ((rc = trust(s, c, memo, out)))
		return rc;
	rc = level_field(s, c->course_id, memo, out);
	if (rc == TC_ENOTFOUND)	/* a course not on tinchi: no level or field */
		rc = 0;
	if (rc)
		return rc;
	if (out->facts.issuer_id) {
		recognition_lookup_keys(out->facts.course_code, out->facts.level, out->facts.field,
					keys, &n);
		if ((rc = candidates(s, institution_id, keys, n, memo, out)))
			return rc;
	}
	return recognition_decide(&out->facts, out->rules, out->nrules, now, &out->decision);
}
