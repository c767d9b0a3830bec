/*
 * consent_test.c - tests for storage/consent.h on a store in a mkdtemp
 * folder: versions of a consent chain, the version in force at a time
 * (grant, change, withdrawal, expiry), selected credentials (only the
 * person's own, nothing written otherwise), the consented credentials of
 * a person for an institution, the institution's and the learner's lists,
 * and the access log (recorded, paged newest first, append-only).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/consent.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/storage/credential_row.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"
#include "tests/unit/storage/storefix.h"

#define NOW 1700000000
#define DAY 86400

static char tmp[512];
static char data[560];
static char dbpath[600];
static struct store *st;
static int64_t inst_a, inst_b, learner[2], course_id, cred[4], token_id;

static long long
query_int(const char *sql)
{
	return raw_query_int(dbpath, sql);
}

static int
exec_sql(const char *sql)
{
	return raw_exec(dbpath, sql);
}

static int64_t
add_person(int n, const char *name)
{
	struct person p;

	memset(&p, 0, sizeof(p));
	snprintf(p.uid, sizeof(p.uid), "0000000a-0000-4000-8000-%012d", n);
	snprintf(p.national_id, sizeof(p.national_id), "%012d", n);
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", n);
	snprintf(p.full_name, sizeof(p.full_name), "%s", name);
	return store_person_upsert(st, &p, NOW, NULL) == 0 ? p.id : -1;
}

static int64_t
issue(int i, int n)
{
	static struct inst_key key;
	struct credential_rec c;
	int64_t k = 0;

	if (!key.id && test_signing_key_add(st, inst_a, NOW, &key) != 0)
		return -1;
	memset(&c, 0, sizeof(c));
	test_credential_fields(&c, &key, n);
	snprintf(c.uid, sizeof(c.uid), "urn:uuid:00000000-0000-4000-8000-%012d", n);
	c.institution_id = inst_a;
	c.course_id = course_id;
	c.person_id = learner[i];
	c.status_index = n;
	snprintf(c.hash, sizeof(c.hash), "%064d", n);
	c.issued_at = NOW + n;
	if (store_status_next_k(st, inst_a, "revocation", &k) != 0 ||
	    store_credential_issue(st, &c, "revocation", k, 0) != 0)
		return -1;
	return c.id;
}

static int
setup(void)
{
	struct course c;

	inst_a = fixture_institution(st, "A");
	inst_b = fixture_institution(st, "B");
	learner[0] = add_person(10, "Học Viên Một");
	learner[1] = add_person(11, "Học Viên Hai");
	memset(&c, 0, sizeof(c));
	snprintf(c.uid, sizeof(c.uid), "%s", "0000000c-0000-4000-8000-000000000001");
	c.institution_id = inst_a;
	snprintf(c.code, sizeof(c.code), "%s", "CS101");
	snprintf(c.title, sizeof(c.title), "%s", "Lập trình C");
	snprintf(c.language, sizeof(c.language), "%s", "vi");
	c.credits_x10 = 30;
	c.status = COURSE_PUBLISHED;
	c.owner_id = learner[1];
	c.created_at = c.updated_at = NOW;
	if (inst_a < 0 || inst_b < 0 || learner[1] < 0 || store_course_add(st, &c, "x") != 0)
		return -1;
	course_id = c.id;
	cred[0] = issue(0, 1);
	cred[1] = issue(0, 2);
	cred[2] = issue(0, 3);
	cred[3] = issue(1, 4);	/* the other learner's */
	if (exec_sql("INSERT INTO api_tokens (uid, institution_id, name, scopes, token_hash,"
		     " created_by, created_at) VALUES ('0000000d-0000-4000-8000-000000000001', 2,"
		     " 'SIS B', 'credits:read', 'h', 1, 1)") != SQLITE_OK)
		return -1;
	token_id = query_int("SELECT id FROM api_tokens");
	return cred[3] > 0 && token_id > 0 ? 0 : -1;
}

static struct consent_rec
version(enum consent_state state, int all, int64_t at, int64_t until, const char *purpose)
{
	struct consent_rec c;

	memset(&c, 0, sizeof(c));
	snprintf(c.uid, sizeof(c.uid), "%s", "0000000e-0000-4000-8000-000000000001");
	c.person_id = learner[0];
	c.institution_id = inst_b;
	c.state = state;
	c.all = all;
	snprintf(c.purpose, sizeof(c.purpose), "%s", purpose);
	c.created_at = at;
	c.created_by = learner[0];
	c.valid_until = until;
	return c;
}

struct ids {
	int n;
	int64_t id[8];
};

static int
collect(const struct credential_rec *c, void *arg)
{
	struct ids *x = arg;

	if (x->n < 8)
		x->id[x->n] = c->id;
	x->n++;
	return 0;
}

/* The credential ids consented at AT (n -1: none in force). */
static struct ids
consented(int64_t at)
{
	struct ids x;
	int rc;

	memset(&x, 0, sizeof(x));
	rc = store_consented_credentials_each(st, learner[0], inst_b, at, NULL, collect, &x);
	if (rc)
		x.n = rc == TC_ENOTFOUND ? -1 : -2;
	return x;
}

/* store_consented_rows_then's THEN: the consent in force, the rows listed
 * before it, and the rows' snapshot still in place (a change committed by
 * another connection meanwhile is not seen). */
struct then_ctx {
	struct ids rows;
	int called, rows_before, changed, snapshot_kept;
	int64_t consent_id;
};

static int
revoked_of(const struct credential_rec *c, void *arg)
{
	*(int64_t *)arg = c->revoked_at;
	return 0;
}

static int
then_check(const struct consent_rec *c, void *arg)
{
	struct then_ctx *x = arg;
	char sql[128];
	int64_t revoked = -1;

	x->called++;
	x->rows_before = x->rows.n;
	x->consent_id = c->id;
	snprintf(sql, sizeof(sql), "UPDATE credentials SET revoked_at = 77 WHERE id = %lld",
		 (long long)cred[1]);
	x->changed = exec_sql(sql) == SQLITE_OK;
	x->snapshot_kept = store_consented_rows_each(st, learner[0], inst_b, NOW + 299, NULL,
						     revoked_of, &revoked) == 0 && revoked == 0;
	return 0;
}

static int
then_fail(const struct consent_rec *c, void *arg)
{
	(void)c;
	(void)arg;
	return TC_EBUSY;
}

static void
test_then(void)
{
	struct then_ctx x;
	int64_t rev = -1;
	char sql[128];

	memset(&x, 0, sizeof(x));
	is_int(store_consented_rows_then(st, learner[0], inst_b, NOW + 299, NULL, collect,
					 then_check, &x), 0, "rows then THEN: 0");
	ok(x.called == 1 && x.rows_before == 1 && x.rows.n == 1 && x.rows.id[0] == cred[1] &&
	   x.consent_id > 0, "THEN ran once, after the one consented row, with the consent");
	ok(x.changed && x.snapshot_kept,
	   "THEN reads in the rows' snapshot (a change meanwhile unseen)");
	ok(store_consented_rows_each(st, learner[0], inst_b, NOW + 299, NULL, revoked_of,
				     &rev) == 0 && rev == 77, "after it, the change is seen");
	snprintf(sql, sizeof(sql), "UPDATE credentials SET revoked_at = 0 WHERE id = %lld",
		 (long long)cred[1]);
	ok(exec_sql(sql) == SQLITE_OK, "the change undone");
	memset(&x, 0, sizeof(x));
	is_int(store_consented_rows_then(st, learner[0], inst_b, NOW + 1, NULL, collect,
					 then_check, &x), TC_ENOTFOUND,
	       "no consent in force: TC_ENOTFOUND");
	is_int(x.called, 0, "... and THEN is not called");
	is_int(store_consented_rows_then(st, learner[0], inst_b, NOW + 299, NULL, collect,
					 then_fail, &x), TC_EBUSY, "THEN's failure is returned");
	is_int(store_consented_rows_then(st, learner[0], inst_b, NOW + 299, NULL, collect, NULL,
					 &x), TC_EINVALID, "no THEN: TC_EINVALID");
}

static void
test_versions(void)
{
	struct consent_rec c = version(CONSENT_GRANTED, 1, NOW + 100, NOW + 1000, "admission");
	struct consent_rec got;
	int64_t sel[2] = { 0, 0 };
	struct ids x;

	is_int(consented(NOW + 150).n, -1, "no consent: TC_ENOTFOUND");
	is_int(store_consent_append(st, &c, NULL, 0), 0, "version 1: all records");
	ok(c.version == 1 && c.id > 0, "version 1 with its row id");
	x = consented(NOW + 150);
	ok(x.n == 3 && x.id[0] == cred[2] && x.id[2] == cred[0],
	   "all of the learner's credentials, newest first (not the other learner's)");
	is_int(consented(NOW + 99).n, -1, "nothing before it was granted");
	is_int(consented(NOW + 1000).n, -1, "nothing from valid_until on (expired)");
	is_int(consented(NOW + 999).n, 3, "the last second before it ends");

	/* a change: selected credentials */
	sel[0] = cred[1];
	sel[1] = cred[3];	/* not the learner's */
	c = version(CONSENT_GRANTED, 0, NOW + 200, NOW + 2000, "transfer");
	is_int(store_consent_append(st, &c, sel, 2), TC_ENOTFOUND,
	       "another person's credential: TC_ENOTFOUND");
	is_int(query_int("SELECT count(*) FROM consents"), 1, "... and nothing was written");
	is_int(query_int("SELECT count(*) FROM consent_credentials"), 0, "... nor selected");
	is_int(store_consent_append(st, &c, sel, 0), TC_EINVALID, "selected with none: TC_EINVALID");
	is_int(store_consent_append(st, &c, sel, 1), 0, "version 2: one selected credential");
	is_int(c.version, 2, "the next version of the same chain");
	x = consented(NOW + 250);
	ok(x.n == 1 && x.id[0] == cred[1], "only the selected credential at version 2's time");
	is_int(consented(NOW + 150).n, 3, "at an earlier time, version 1 still answers");

	/* withdrawn */
	c = version(CONSENT_WITHDRAWN, 0, NOW + 300, NOW + 2000, "transfer");
	is_int(store_consent_append(st, &c, NULL, 0), 0, "version 3: withdrawn");
	is_int(consented(NOW + 300).n, -1, "withdrawn: nothing from that second on");
	is_int(consented(NOW + 299).n, 1, "just before, version 2");
	test_then();
	is_int(store_consent_at(st, learner[0], inst_b, NOW + 301, &got), 0, "the version at a time");
	ok(got.version == 3 && got.state == CONSENT_WITHDRAWN && got.first_granted_at == NOW + 100,
	   "... is the withdrawal, first granted at version 1's time");
	is_int(store_consent_get(st, "0000000e-0000-4000-8000-000000000001", &got), 0,
	       "the latest version by uid");
	is_int(got.version, 3, "... is 3");
	ok(exec_sql("UPDATE consents SET state = 'granted'") != SQLITE_OK &&
	   exec_sql("DELETE FROM consents") != SQLITE_OK, "versions cannot be changed or removed");

	/* granted again: the chain goes on with its uid */
	c = version(CONSENT_GRANTED, 1, NOW + 400, NOW + 500, "");
	snprintf(c.uid, sizeof(c.uid), "%s", "0000000e-0000-4000-8000-000000000099");
	is_int(store_consent_append(st, &c, NULL, 0), 0, "version 4");
	is_str(c.uid, "0000000e-0000-4000-8000-000000000001", "keeps the chain's uid");
	is_int(consented(NOW + 450).n, 3, "all again");
}

static int
count_consent(const struct consent_rec *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static int
count_uid(const char *uid, void *arg)
{
	(void)uid;
	(*(int *)arg)++;
	return 0;
}

static void
test_lists(void)
{
	struct consent_rec c = version(CONSENT_GRANTED, 1, NOW + 10, NOW + 5000, "");
	int n = 0;

	c.person_id = learner[1];
	snprintf(c.uid, sizeof(c.uid), "%s", "0000000e-0000-4000-8000-000000000002");
	is_int(store_consent_append(st, &c, NULL, 0), 0, "the other learner grants B too");
	is_int(store_consents_of_institution_each(st, inst_b, 0, NOW + 100, 10, count_consent, &n), 0,
	       "B's consents");
	is_int(n, 2, "one row per chain (its latest version)");
	n = 0;
	store_consents_of_institution_each(st, inst_b, 0, NOW + 100, 1, count_consent, &n);
	is_int(n, 1, "limited");
	n = 0;
	store_consents_of_institution_each(st, inst_a, 0, NOW + 100, 10, count_consent, &n);
	is_int(n, 0, "A was given nothing");
	n = 0;
	store_consents_of_institution_each(st, inst_b, 0, NOW + 5000, 10, count_consent, &n);
	is_int(n, 0, "at their end neither is listed");
	c = version(CONSENT_WITHDRAWN, 1, NOW + 20, NOW + 5000, "");
	c.person_id = learner[1];
	snprintf(c.uid, sizeof(c.uid), "%s", "0000000e-0000-4000-8000-000000000002");
	is_int(store_consent_append(st, &c, NULL, 0), 0, "the other learner withdraws");
	n = 0;
	store_consents_of_institution_each(st, inst_b, 0, NOW + 100, 10, count_consent, &n);
	is_int(n, 1, "a withdrawn chain is not listed");
	n = 0;
	store_consents_of_person_each(st, learner[0], count_consent, &n);
	is_int(n, 1, "the learner has one chain");
	n = 0;
	store_consent_history_each(st, "0000000e-0000-4000-8000-000000000001", count_consent, &n);
	is_int(n, 4, "its history has 4 versions");
	n = 0;
	store_consent_credentials_each(st, query_int("SELECT id FROM consents WHERE version = 2"),
				       count_uid, &n);
	is_int(n, 1, "version 2 names one credential");
}

struct acc {
	int n;
	int64_t id[4];
	char reader[256], inst[40], creds[128];
};

static int
collect_access(const struct consent_access *a, void *arg)
{
	struct acc *x = arg;

	if (x->n == 0) {
		snprintf(x->reader, sizeof(x->reader), "%s", a->reader_name);
		snprintf(x->inst, sizeof(x->inst), "%s", a->institution_code);
		snprintf(x->creds, sizeof(x->creds), "%s", a->credentials);
	}
	if (x->n < 4)
		x->id[x->n] = a->id;
	x->n++;
	return 0;
}

static void
test_accesses(void)
{
	struct consent_access a;
	struct acc x;

	memset(&a, 0, sizeof(a));
	a.institution_id = inst_b;
	a.person_id = learner[0];
	a.consent_id = query_int("SELECT max(id) FROM consents WHERE person_id = 1");
	snprintf(a.purpose, sizeof(a.purpose), "%s", "admission");
	a.at = NOW + 450;
	a.credentials = "[\"u1\"]";
	is_int(store_consent_access_record(st, &a), TC_EINVALID, "an access without a reader");
	a.reader_token_id = token_id;
	a.credentials = "u1";
	is_int(store_consent_access_record(st, &a), TC_EINVALID, "credentials not a JSON array");
	a.credentials = "[\"u1\", \"u2\"]";
	for (int i = 0; i < 3; i++)
		is_int(store_consent_access_record(st, &a), 0, "an access is recorded");
	memset(&x, 0, sizeof(x));
	is_int(store_consent_accesses_each(st, learner[0], 0, 2, collect_access, &x), 0,
	       "the learner's log");
	ok(x.n == 2 && x.id[0] > x.id[1], "newest first, limited");
	is_str(x.reader, "SIS B", "the reader is the token's name");
	is_str(x.inst, "B", "and the institution's code");
	is_str(x.creds, "[\"u1\",\"u2\"]", "the credentials as a JSON array");
	{
		int64_t before = x.id[1];

		memset(&x, 0, sizeof(x));
		store_consent_accesses_each(st, learner[0], before, 2, collect_access, &x);
		is_int(x.n, 1, "the next page holds the oldest");
	}
	memset(&x, 0, sizeof(x));
	store_consent_accesses_each(st, learner[1], 0, 10, collect_access, &x);
	is_int(x.n, 0, "the other learner's log is empty");
	ok(exec_sql("DELETE FROM consent_accesses") != SQLITE_OK, "the access log is append-only");
}

int
main(void)
{

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "consent") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(dbpath, sizeof(dbpath), "%s/tinchi.db", data);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 || setup() != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_versions();
	test_lists();
	test_accesses();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
