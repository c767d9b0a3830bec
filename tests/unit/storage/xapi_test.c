/*
 * xapi_test.c - tests for storage/xapi.h (storage/xapi.c dispatch and
 * storage/xapi_sqlite.c) on a real SQLite file in a mkdtemp folder:
 * credentials, statements (conflicts, voiding, queries with every filter,
 * cursors, tenancy), batches rolled back as a whole, activities and
 * documents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "storage/xapi.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"
#include "tests/unit/storage/storefix.h"

static char tmp[512];
static struct store *st;
static int64_t inst_a, inst_b;

static void
uuid_n(char out[37], int n)
{
	snprintf(out, 37, "00000000-0000-4000-8000-%012d", n);
}

/* Adds statement N of INST: actor AGENT, object ACTIVITY, verb VERB. */
static int
add_stmt(int64_t inst, int n, const char *agent, const char *activity, const char *verb,
	 const char *voids, const char *reg)
{
	char id[37], json[128];
	struct xapi_ref ag[] = { { agent, XAPI_ROLE_ACTOR }, { "mbox:mailto:teacher@x", XAPI_ROLE_RELATED } };
	struct xapi_ref ac[] = { { activity, XAPI_ROLE_OBJECT }, { "http://x/course", XAPI_ROLE_RELATED } };
	struct xapi_statement_row r = {
		.statement_id = id, .institution_id = inst, .json = json,
		.stored_us = 1000000 * (int64_t)n, .timestamp_us = 5, .verb_id = verb,
		.registration = reg, .voids = voids, .agents = ag, .nagents = 2,
		.activities = ac, .nactivities = 2,
	};

	uuid_n(id, n);
	snprintf(json, sizeof(json), "{\"id\":\"%s\"}", id);
	return store_xapi_statement_add(st, &r);
}

struct got {
	int n;
	char ids[16][37];
	int64_t cursor;
};

static int
collect(const char *json, int64_t cursor, int64_t stored_us, void *arg)
{
	struct got *g = arg;

	(void)stored_us;
	if (g->n < 16)
		snprintf(g->ids[g->n], 37, "%.36s", json + 7);
	g->n++;
	g->cursor = cursor;
	return 0;
}

static int
run(struct xapi_query *q, struct got *g)
{
	memset(g, 0, sizeof(*g));
	if (!q->limit)
		q->limit = 100;
	return store_xapi_statements_query(st, q, collect, g);
}

static int
count_creds(const struct lrs_credential *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static void
test_credentials(void)
{
	struct lrs_credential c, got;
	char hash[65];
	int n = 0;

	memset(&c, 0, sizeof(c));
	snprintf(c.uid, sizeof(c.uid), "11111111-1111-4111-8111-111111111111");
	snprintf(c.key, sizeof(c.key), "tlk_one");
	snprintf(c.name, sizeof(c.name), "moodle");
	c.institution_id = inst_a;
	c.created_at = 7;
	is_int(store_lrs_credential_add(st, &c, "0123456789012345678901234567890123456789012345678901234567890123"), 0, "credential added");
	ok(c.id > 0, "it has a row id");
	is_int(store_lrs_credential_add(st, &c, "0123456789012345678901234567890123456789012345678901234567890123"), TC_ECONFLICT, "same key again: conflict");
	is_int(store_lrs_credential_add(st, &c, "short"), TC_EINVALID, "a secret hash that is not SHA-256 hex is refused");
	is_int(store_lrs_credential_by_key(st, "tlk_one", &got, hash), 0, "found by key");
	is_int((int)got.institution_id, (int)inst_a, "with its institution");
	is_str(hash, "0123456789012345678901234567890123456789012345678901234567890123", "and its secret hash");
	is_int(store_lrs_credential_by_key(st, "tlk_none", &got, hash), TC_ENOTFOUND, "unknown key");
	is_int(store_lrs_credential_revoke(st, inst_b, c.uid, 9), TC_ENOTFOUND, "another institution cannot revoke it");
	is_int(store_lrs_credential_revoke(st, inst_a, c.uid, 9), 0, "revoked");
	is_int(store_lrs_credential_revoke(st, inst_a, c.uid, 10), TC_ECONFLICT, "revoked twice: conflict");
	is_int(store_lrs_credential_by_key(st, "tlk_one", &got, hash), TC_ENOTFOUND, "a revoked credential is not found");
	is_int(store_lrs_credentials_each(st, inst_a, count_creds, &n), 0, "listed");
	is_int(n, 1, "one credential at A (revoked ones too)");
	n = 0;
	store_lrs_credentials_each(st, inst_b, count_creds, &n);
	is_int(n, 0, "none at B");
}

static void
test_statements(void)
{
	struct xapi_query q = { .institution_id = inst_a };
	struct got g;
	char *json = NULL, vid[37];
	int voided = -1, voiding = -1;

	is_int(add_stmt(inst_a, 1, "mbox:mailto:a@x", "http://x/act1", "http://v/did", NULL, NULL), 0, "statement 1");
	is_int(add_stmt(inst_a, 2, "mbox:mailto:b@x", "http://x/act2", "http://v/did", NULL,
			"aaaaaaaa-0000-4000-8000-000000000001"), 0, "statement 2");
	is_int(add_stmt(inst_a, 3, "mbox:mailto:a@x", "http://x/act2", "http://v/other", NULL, NULL), 0, "statement 3");
	is_int(add_stmt(inst_a, 1, "mbox:mailto:a@x", "http://x/act1", "http://v/did", NULL, NULL), TC_ECONFLICT, "the same id again: conflict");
	is_int(add_stmt(inst_b, 1, "mbox:mailto:a@x", "http://x/act1", "http://v/did", NULL, NULL), 0, "the same id at another institution is another statement");

	is_int(run(&q, &g), 0, "query all");
	is_int(g.n, 3, "three statements at A");
	uuid_n(vid, 3);
	is_str(g.ids[0], vid, "newest first");
	q.ascending = 1;
	run(&q, &g);
	uuid_n(vid, 1);
	is_str(g.ids[0], vid, "ascending: oldest first");
	q.ascending = 0;

	q.agent = "mbox:mailto:a@x";
	run(&q, &g);
	is_int(g.n, 2, "agent filter");
	q.agent = "mbox:mailto:teacher@x";
	run(&q, &g);
	is_int(g.n, 0, "a related agent is not the actor");
	q.related_agents = 1;
	run(&q, &g);
	is_int(g.n, 3, "related_agents finds it");
	q.agent = NULL;
	q.related_agents = 0;
	q.activity = "http://x/act2";
	run(&q, &g);
	is_int(g.n, 2, "activity filter");
	q.activity = "http://x/course";
	run(&q, &g);
	is_int(g.n, 0, "a context activity is not the object");
	q.related_activities = 1;
	run(&q, &g);
	is_int(g.n, 3, "related_activities finds it");
	q.activity = NULL;
	q.verb = "http://v/did";
	run(&q, &g);
	is_int(g.n, 2, "verb filter");
	q.verb = NULL;
	q.registration = "aaaaaaaa-0000-4000-8000-000000000001";
	run(&q, &g);
	is_int(g.n, 1, "registration filter");
	q.registration = NULL;
	q.since_us = 1000000;
	q.until_us = 2000000;
	run(&q, &g);
	is_int(g.n, 1, "since (exclusive) and until (inclusive)");
	q.since_us = q.until_us = 0;

	q.limit = 2;
	run(&q, &g);
	is_int(g.n, 2, "limit");
	q.after = g.cursor;
	run(&q, &g);
	is_int(g.n, 1, "the cursor continues after the last one given");
	q.after = 0;
	q.limit = 0;

	uuid_n(vid, 1);
	is_int(add_stmt(inst_a, 4, "mbox:mailto:a@x", "http://x/act1", "http://adlnet.gov/expapi/verbs/voided", vid, NULL), 0, "a voiding statement");
	is_int(store_xapi_statement_get(st, inst_a, vid, &json, &voided, &voiding, NULL), 0, "the target is still there");
	is_int(voided, 1, "and voided");
	is_int(voiding, 0, "it is not a voiding statement");
	free(json);
	json = NULL;
	run(&q, &g);
	is_int(g.n, 3, "queries leave voided statements out (the voiding one counts)");
	uuid_n(vid, 4);
	is_int(add_stmt(inst_a, 5, "mbox:mailto:a@x", "http://x/act1", "http://adlnet.gov/expapi/verbs/voided", vid, NULL), 0, "voiding a voiding statement is stored");
	store_xapi_statement_get(st, inst_a, vid, NULL, &voided, &voiding, NULL);
	ok(voided == 0 && voiding == 1, "but a voiding statement is never voided");
	uuid_n(vid, 1);
	store_xapi_statement_get(st, inst_b, vid, NULL, &voided, NULL, NULL);
	is_int(voided, 0, "voiding at A leaves B's statement alone");
	is_int(store_xapi_statement_get(st, inst_a, "00000000-0000-4000-8000-000000000099", &json, NULL, NULL, NULL), TC_ENOTFOUND, "unknown id");
	ok(json == NULL, "and no JSON");

	/* a batch is all or nothing */
	is_int(store_begin(st), 0, "begin a batch");
	is_int(add_stmt(inst_a, 10, "mbox:mailto:c@x", "http://x/act9", "http://v/did", NULL, NULL), 0, "first of the batch");
	is_int(add_stmt(inst_a, 3, "mbox:mailto:c@x", "http://x/act9", "http://v/did", NULL, NULL), TC_ECONFLICT, "second conflicts");
	store_rollback(st);
	q.agent = "mbox:mailto:c@x";
	run(&q, &g);
	is_int(g.n, 0, "the rolled-back batch left nothing");
	q.agent = NULL;
}

static void
test_activities_and_documents(void)
{
	struct xapi_doc_key k = { inst_a, XAPI_DOC_STATE, "http://x/act1", "mbox:mailto:a@x", "", "s1" };
	struct xapi_doc d;
	char *json = NULL;

	is_int(store_xapi_activity_get(st, inst_a, "http://x/act1", &json), TC_ENOTFOUND, "unknown activity");
	is_int(store_xapi_activity_put(st, inst_a, "http://x/act1", "{\"type\":\"t\"}"), 0, "definition stored");
	is_int(store_xapi_activity_put(st, inst_a, "http://x/act1", "{\"type\":\"u\"}"), 0, "and replaced");
	is_int(store_xapi_activity_get(st, inst_a, "http://x/act1", &json), 0, "read back");
	is_str(json, "{\"type\":\"u\"}", "the latest definition");
	free(json);
	is_int(store_xapi_activity_get(st, inst_b, "http://x/act1", &json), TC_ENOTFOUND, "not at B");

	is_int(store_xapi_doc_get(st, &k, &d), TC_ENOTFOUND, "no document yet");
	is_int(store_xapi_doc_put(st, &k, "application/json", "{\"a\":1}", 7, "\"e1\"", 100), 0, "document stored");
	k.doc_id = "s2";
	is_int(store_xapi_doc_put(st, &k, "text/plain", "hi", 2, "\"e2\"", 200), 0, "a second one");
	k.doc_id = "s1";
	is_int(store_xapi_doc_get(st, &k, &d), 0, "read back");
	ok(d.len == 7 && memcmp(d.body, "{\"a\":1}", 7) == 0, "same bytes");
	is_str(d.etag, "\"e1\"", "its etag");
	is_str(d.content_type, "application/json", "its type");
	free(d.body);
	k.institution_id = inst_b;
	is_int(store_xapi_doc_get(st, &k, &d), TC_ENOTFOUND, "B does not see A's document");
	k.institution_id = inst_a;
	k.registration = "aaaaaaaa-0000-4000-8000-000000000001";
	is_int(store_xapi_doc_get(st, &k, &d), TC_ENOTFOUND, "another registration is another document");
	k.registration = "";
	k.doc_id = NULL;
	is_int(store_xapi_doc_delete(st, &k), 0, "delete every state of the activity and agent");
	k.doc_id = "s2";
	is_int(store_xapi_doc_get(st, &k, &d), TC_ENOTFOUND, "gone");
	k.kind = XAPI_DOC_AGENT_PROFILE;
	k.doc_id = NULL;
	is_int(store_xapi_doc_delete(st, &k), TC_EINVALID, "profiles are deleted one at a time");
}

static int
count_ids(const char *id, void *arg)
{
	(void)id;
	(*(int *)arg)++;
	return 0;
}

static void
test_doc_ids(void)
{
	struct xapi_doc_key k = { inst_a, XAPI_DOC_ACTIVITY_PROFILE, "http://x/act1", "", "", "p1" };
	int n = 0;

	store_xapi_doc_put(st, &k, "text/plain", "1", 1, "\"1\"", 100);
	k.doc_id = "p2";
	store_xapi_doc_put(st, &k, "text/plain", "2", 1, "\"2\"", 300);
	is_int(store_xapi_doc_ids(st, &k, 0, count_ids, &n), 0, "ids listed");
	is_int(n, 2, "both");
	n = 0;
	store_xapi_doc_ids(st, &k, 200, count_ids, &n);
	is_int(n, 1, "since leaves the older out");
}

int
main(void)
{
	char data[560];

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "xapi") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 ||
	    (inst_a = fixture_institution(st, "aaa")) < 0 || (inst_b = fixture_institution(st, "bbb")) < 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_credentials();
	test_statements();
	test_activities_and_documents();
	test_doc_ids();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
