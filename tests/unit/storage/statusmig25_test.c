/*
 * statusmig25_test.c - migration 25 (storage/sqlite_schema.c: status
 * lists by segments) on a real SQLite file in a mkdtemp folder. A database
 * at schema 24 holds two institutions' lists as tinchi stored them then
 * (status_lists.bits, 16 KiB, some bits set). Opening it runs migration
 * 25: each list reads back byte for byte from its one segment row, its
 * revision and next_k are kept, status_lists.bits is emptied, a stored bit
 * still reads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/statuslist.h"
#include "storage/credentials.h"
#include "storage/sqlite_migrate.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/storage/rawdb.h"
#include "tests/unit/tmpdir.h"

#define LIST_BYTES (STATUSLIST_SEGMENT_BITS / 8)

/* The bytes of institution I's list before the migration. */
static void
old_bits(int i, unsigned char *b)
{
	memset(b, 0, LIST_BYTES);
	for (int n = 0; n < 40; n++)
		b[(n * 977 + i * 131) % LIST_BYTES] |= (unsigned char)(1u << ((n + i) % 8));
}

/* DIR/tinchi.db at schema 24 with two institutions' lists: 0 or -1. */
static int
make_v24(const char *dir)
{
	char path[700];
	unsigned char bits[LIST_BYTES];
	size_t n24 = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0;

	while (n24 < sqlite_migrations_count && sqlite_migrations[n24].version <= 24)
		n24++;
	snprintf(path, sizeof(path), "%s/tinchi.db", dir);
	if (store_prepare_dir(dir) || sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite_migrate(db, sqlite_migrations, n24) ||
	    sqlite3_exec(db, "INSERT INTO institutions (id, code, name, kind, website, created_at)"
			 " VALUES (1, 'VNU', 'VNU', 'university', '', 0),"
			 " (2, 'HUST', 'HUST', 'university', '', 0);", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO status_lists (institution_id, purpose, bits, next_k,"
			       " updated_at, bits_rev) VALUES (?1, 'revocation', ?2, ?3, 0, ?4)",
			       -1, &st, NULL) != SQLITE_OK)
		rc = -1;
	for (int i = 1; rc == 0 && i <= 2; i++) {
		old_bits(i, bits);
		if (sqlite3_bind_int(st, 1, i) != SQLITE_OK ||
		    sqlite3_bind_blob(st, 2, bits, LIST_BYTES, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_int(st, 3, 1000 * i) != SQLITE_OK ||
		    sqlite3_bind_int(st, 4, 7 * i) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE ||
		    sqlite3_reset(st) != SQLITE_OK)
			rc = -1;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

int
main(void)
{
	char tmp[512], path[600];
	unsigned char want[LIST_BYTES];
	struct store *st = NULL;
	int same = 1, bit = -1;
	int64_t k = 0, rev = 0;
	size_t at = 0;

	if (test_tmpdir_make(tmp, sizeof(tmp), "mig25") != 0) {
		ok(0, "a scratch folder");
		return done_testing();
	}
	snprintf(path, sizeof(path), "%s/tinchi.db", tmp);
	ok(make_v24(tmp) == 0, "a database at schema 24 with two status lists");
	is_int(store_open(tmp, &st), 0, "opening it runs migration 25");
	is_int(raw_query_int(path, "PRAGMA user_version"),
	       sqlite_migrations[sqlite_migrations_count - 1].version,
	       "the database is at the last migration");
	for (int i = 1; st && i <= 2; i++) {
		unsigned char *b = NULL;
		size_t len = 0;

		old_bits(i, want);
		same &= store_status_list_get(st, i, "revocation", &b, &len) == 0 &&
			len == LIST_BYTES && memcmp(b, want, LIST_BYTES) == 0;
		same &= store_status_next_k(st, i, "revocation", &k) == 0 && k == 1000 * i;
		same &= store_status_list_rev(st, i, "revocation", &rev) == 0 && rev == 7 * i;
		free(b);
	}
	ok(same, "each list reads back byte for byte, with its next_k and revision");
	is_int(raw_query_int(path, "SELECT count(*) FROM status_list_segments WHERE segment = 0"), 2,
	       "one segment row each");
	is_int(raw_query_int(path, "SELECT sum(length(bits)) FROM status_lists"), 0,
	       "status_lists keeps no bits");
	old_bits(2, want);
	while (at < LIST_BYTES && want[at] == 0)
		at++;
	for (int b = 0; b < 8; b++)
		if (want[at] & (0x80u >> b)) {
			at = at * 8 + (size_t)b;
			break;
		}
	is_int(store_status_bit(st, 2, "revocation", (int64_t)at, &bit), 0, "a bit set before");
	is_int(bit, 1, "... reads 1");
	is_int(store_status_bit(st, 2, "revocation", STATUSLIST_SEGMENT_BITS, &bit), TC_EINVALID,
	       "index 131,072 is past the end of a one-segment list");
	store_close(st);
	test_tmpdir_remove(tmp);
	return done_testing();
}
