/*
 * shares_test.c - tests for storage/shares.h: the dispatch in
 * storage/shares.c, the SQLite side in storage/shares_sqlite.c and schema
 * migration 15, on a store in a mkdtemp folder (the database file is also
 * opened directly to count rows).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/courses.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/shares.h"
#include "storage/store.h"
#include "storage/store_backend.h"
#include "tests/tap.h"
#include "tests/unit/storage/credential_row.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"

#define NOW 1700000000

static char tmp[512];
static char data[560];
static char dbpath[600];
static struct store *st;
static int64_t cred_id[2];

static long long
query_int(const char *sql)
{
	return raw_query_int(dbpath, sql);
}

static long long
shares(void)
{
	return query_int("SELECT count(*) FROM credential_shares");
}

static int
setup(void)
{
	struct institution inst;
	struct person p;
	struct course c;
	struct credential_rec r;
	struct inst_key key;

	memset(&inst, 0, sizeof(inst));
	snprintf(inst.code, sizeof(inst.code), "%s", "vnu");
	snprintf(inst.name, sizeof(inst.name), "%s", "Trường VNU");
	inst.kind = INST_UNIVERSITY;
	if (store_institution_add(st, &inst) != 0)
		return -1;
	memset(&p, 0, sizeof(p));
	snprintf(p.uid, sizeof(p.uid), "%s", "0000000a-0000-4000-8000-000000000001");
	snprintf(p.national_id, sizeof(p.national_id), "%s", "200000000001");
	snprintf(p.nid_hmac, sizeof(p.nid_hmac), "%064d", 1);
	snprintf(p.full_name, sizeof(p.full_name), "%s", "Trần Thị Học");
	if (store_person_upsert(st, &p, NOW, NULL) != 0)
		return -1;
	memset(&c, 0, sizeof(c));
	snprintf(c.uid, sizeof(c.uid), "%s", "0000000c-0000-4000-8000-000000000001");
	c.institution_id = inst.id;
	snprintf(c.code, sizeof(c.code), "%s", "WL101");
	snprintf(c.title, sizeof(c.title), "%s", "Ví");
	snprintf(c.language, sizeof(c.language), "%s", "vi");
	c.credits_x10 = 30;
	c.status = COURSE_PUBLISHED;
	c.owner_id = p.id;
	c.created_at = c.updated_at = NOW;
	if (store_course_add(st, &c, "x") != 0)
		return -1;
	if (test_signing_key_add(st, inst.id, NOW, &key) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		snprintf(r.uid, sizeof(r.uid), "urn:uuid:0000000e-0000-4000-8000-00000000000%d", i);
		r.institution_id = inst.id;
		r.course_id = c.id;
		r.person_id = p.id;
		r.status_index = 7 + i;
		snprintf(r.hash, sizeof(r.hash), "%064d", i);
		r.issued_at = NOW;
		test_credential_fields(&r, &key, i);
		if (store_credential_issue(st, &r, "revocation", i, 0) != 0)
			return -1;
		cred_id[i] = r.id;
	}
	return 0;
}

/* A share of credential I: uid and token hash from N. */
static struct share_rec
rec(int i, int n, const char *kind, int64_t created, int64_t expires)
{
	struct share_rec r;

	memset(&r, 0, sizeof(r));
	snprintf(r.uid, sizeof(r.uid), "00000005-0000-4000-8000-%012d", n);
	r.credential_id = cred_id[i];
	snprintf(r.token_hash, sizeof(r.token_hash), "%064d", n);
	snprintf(r.kind, sizeof(r.kind), "%s", kind);
	r.created_at = created;
	r.expires_at = expires;
	return r;
}

static void
test_dispatch(void)
{
	static const struct store_ops bare_ops = { .name = "bare" };
	struct store bare = { &bare_ops };
	struct share_rec r = rec(0, 1, "link", NOW, 0), out;

	is_int(store_share_create(&bare, &r, 10), TC_EUNSUPPORTED, "no share ops: TC_EUNSUPPORTED");
	is_int(store_share_create(NULL, &r, 10), TC_EINVALID, "NULL store: TC_EINVALID");
	r.uid[0] = '\0';
	is_int(store_share_create(st, &r, 10), TC_EINVALID, "no uid");
	r = rec(0, 1, "link", NOW, 0);
	r.token_hash[10] = '\0';
	is_int(store_share_create(st, &r, 10), TC_EINVALID, "a short token hash");
	r = rec(0, 1, "pdf", NOW, 0);
	is_int(store_share_create(st, &r, 10), TC_EINVALID, "an unknown kind");
	r = rec(0, 1, "link", 0, 0);
	is_int(store_share_create(st, &r, 10), TC_EINVALID, "no creation time");
	r = rec(0, 1, "link", NOW, -1);
	is_int(store_share_create(st, &r, 10), TC_EINVALID, "a negative expiry");
	r = rec(0, 1, "link", NOW, 0);
	is_int(store_share_create(st, &r, 0), TC_EINVALID, "a cap of 0");
	is_int(store_share_access(st, "abc", NOW, &out), TC_EINVALID, "access by a short hash");
	is_int(store_share_withdraw(st, cred_id[0], NULL, NOW), TC_EINVALID, "withdraw no uid");
	is_int(store_shares_each(st, cred_id[0], NULL, NULL), TC_EINVALID, "each without a callback");
	is_int(shares(), 0, "nothing written");
}

struct seen {
	int n;
	char uids[8][37];
	char cred[46];
};

static int
collect(const struct share_rec *r, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->uids[s->n], sizeof(s->uids[0]), "%s", r->uid);
	snprintf(s->cred, sizeof(s->cred), "%s", r->credential_uid);
	s->n++;
	return 0;
}

static void
test_links(void)
{
	struct share_rec r, out;
	struct seen seen = { 0 };

	r = rec(0, 1, "link", NOW, 0);
	is_int(store_share_create(st, &r, 3), 0, "a link");
	ok(r.id > 0, "its id filled in");
	r = rec(0, 1, "link", NOW, 0);
	snprintf(r.token_hash, sizeof(r.token_hash), "%064d", 99);
	is_int(store_share_create(st, &r, 3), TC_ECONFLICT, "a uid taken: TC_ECONFLICT");
	r = rec(0, 2, "link", NOW, 0);
	snprintf(r.token_hash, sizeof(r.token_hash), "%064d", 1);
	is_int(store_share_create(st, &r, 3), TC_ECONFLICT, "a token hash taken: TC_ECONFLICT");
	is_int(shares(), 1, "neither was stored");

	r = rec(0, 2, "link", NOW, NOW + 10);
	is_int(store_share_create(st, &r, 3), 0, "a link expiring at NOW + 10");
	r = rec(0, 3, "link", NOW + 1, 0);
	is_int(store_share_create(st, &r, 3), 0, "a third");
	r = rec(0, 4, "link", NOW + 2, 0);
	is_int(store_share_create(st, &r, 3), TC_ETOOBIG, "a fourth live link: TC_ETOOBIG");
	is_int(shares(), 3, "and it is not stored");
	r = rec(1, 4, "link", NOW + 2, 0);
	is_int(store_share_create(st, &r, 3), 0, "another credential has its own cap");
	r = rec(0, 5, "link", NOW + 11, 0);
	is_int(store_share_create(st, &r, 3), 0, "once one has expired, another fits");

	is_int(store_shares_each(st, cred_id[0], collect, &seen), 0, "each");
	ok(seen.n == 4 && strcmp(seen.uids[0], "00000005-0000-4000-8000-000000000005") == 0 &&
	   strcmp(seen.uids[3], "00000005-0000-4000-8000-000000000001") == 0,
	   "the credential's four, newest first");
	is_str(seen.cred, "urn:uuid:0000000e-0000-4000-8000-000000000000", "with the credential's uid");

	/* access */
	snprintf(out.token_hash, sizeof(out.token_hash), "%064d", 77);
	is_int(store_share_access(st, out.token_hash, NOW, &out), TC_ENOTFOUND, "an unknown hash");
	r = rec(0, 1, "link", NOW, 0);
	is_int(store_share_access(st, r.token_hash, NOW + 5, &out), 0, "an access");
	ok(out.access_count == 1 && out.last_accessed_at == NOW + 5, "counted, with its time");
	is_int(store_share_access(st, r.token_hash, NOW + 6, &out), 0, "another");
	is_int(out.access_count, 2, "counted again");
	r = rec(0, 2, "link", NOW, 0);
	is_int(store_share_access(st, r.token_hash, NOW + 20, &out), 0, "an expired link is found");
	ok(out.access_count == 0 && out.expires_at == NOW + 10, "but its access is not counted");

	/* withdraw */
	is_int(store_share_withdraw(st, cred_id[1], "00000005-0000-4000-8000-000000000001", NOW + 7),
	       TC_ENOTFOUND, "not through another credential");
	is_int(store_share_withdraw(st, cred_id[0], "00000005-0000-4000-8000-000000000001", NOW + 7),
	       0, "withdrawn");
	is_int(store_share_withdraw(st, cred_id[0], "00000005-0000-4000-8000-000000000001", NOW + 8),
	       TC_ECONFLICT, "twice: TC_ECONFLICT");
	r = rec(0, 1, "link", NOW, 0);
	is_int(store_share_access(st, r.token_hash, NOW + 9, &out), 0, "a withdrawn link is found");
	ok(out.withdrawn_at == NOW + 7 && out.access_count == 2, "withdrawn, the access not counted");
}

static void
test_print(void)
{
	struct share_rec r, out;

	is_int(store_share_print(st, cred_id[1], &out), TC_ENOTFOUND, "no print link yet");
	r = rec(1, 20, "print", NOW, 0);
	is_int(store_share_create(st, &r, 10), 0, "a print link");
	r = rec(1, 21, "print", NOW, 0);
	is_int(store_share_create(st, &r, 10), TC_ECONFLICT, "a second live one: TC_ECONFLICT");
	is_int(store_share_print(st, cred_id[1], &out), 0, "found");
	ok(strcmp(out.uid, "00000005-0000-4000-8000-000000000020") == 0 &&
	   strcmp(out.kind, "print") == 0, "it is the first");
	is_int(store_share_withdraw(st, cred_id[1], out.uid, NOW + 1), 0, "withdrawn");
	is_int(store_share_print(st, cred_id[1], &out), TC_ENOTFOUND, "no live print link");
	is_int(store_share_create(st, &r, 10), 0, "so a new one can be made");
}

static void
test_reopen(void)
{
	struct share_rec out;
	char hash[65];

	store_close(st);
	st = NULL;
	is_int(store_open(data, &st), 0, "reopen the store");
	snprintf(hash, sizeof(hash), "%064d", 1);
	is_int(store_share_access(st, hash, NOW + 100, &out), 0, "the link survived");
	ok(out.withdrawn_at == NOW + 7 && out.access_count == 2, "with its state");
	ok(query_int("PRAGMA user_version") >= 15, "schema at migration 15 or later");
}

int
main(void)
{

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "shares") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(dbpath, sizeof(dbpath), "%s/tinchi.db", data);
	if (store_prepare_dir(data) != 0 || store_open(data, &st) != 0 || setup() != 0) {
		printf("Bail out! cannot open a store in %s\n", data);
		return 1;
	}
	test_dispatch();
	test_links();
	test_print();
	test_reopen();
	store_close(st);
	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
