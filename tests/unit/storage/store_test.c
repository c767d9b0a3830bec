/*
 * store_test.c - tests for storage/store.c and the SQLite backend
 * (storage/store_sqlite.c) through the public store.h interface, in a
 * mkdtemp folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

static char tmp[512];	/* the mkdtemp folder; short, so joins fit */

/* PATH = tmp "/" REL (REL may be ""). */
static const char *
in_tmp(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", tmp, rel);
	return buf;
}

/* Permission bits of PATH, or -1 when it is not a folder. */
static int
dir_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return -1;
	return (int)(st.st_mode & 07777);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Text of the one-row pragma SQL on the database file PATH ("" on error). */
static void
query_text(const char *path, const char *sql, char *buf, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	buf[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_text(stmt, 0) != NULL)
		snprintf(buf, size, "%s",
			 (const char *)sqlite3_column_text(stmt, 0));
out:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static int
query_int(const char *path, const char *sql)
{
	char buf[64];

	query_text(path, sql, buf, sizeof(buf));
	return buf[0] ? atoi(buf) : -1;
}

static int
exec_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK &&
	    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
	sqlite3_close(db);
	return rc;
}

static void
test_prepare_dir(void)
{
	char data[4096], p[4096];

	in_tmp(data, sizeof(data), "a/b/data");
	is_int(store_prepare_dir(data), 0, "prepare_dir creates a/b/data");
	is_int(dir_mode(data), 0750, "data folder is 0750");
	is_int(dir_mode(in_tmp(p, sizeof(p), "a/b/data/content")), 0750,
	       "content/ is 0750");
	is_int(dir_mode(in_tmp(p, sizeof(p), "a/b/data/keys")), 0700,
	       "keys/ is 0700");
	is_int(dir_mode(in_tmp(p, sizeof(p), "a/b/data/logs")), 0750,
	       "logs/ is 0750");

	ok(write_file(in_tmp(p, sizeof(p), "a/b/data/content/x.tmp"),
		      "partial") == 0, "create content/x.tmp");
	ok(write_file(in_tmp(p, sizeof(p), "a/b/data/content/y.bin"),
		      "kept") == 0, "create content/y.bin");
	ok(mkdir(in_tmp(p, sizeof(p), "a/b/data/content/d.tmp"), 0750) == 0,
	   "create folder content/d.tmp");
	is_int(store_prepare_dir(data), 0, "prepare_dir on an existing tree");
	ok(!exists(in_tmp(p, sizeof(p), "a/b/data/content/x.tmp")),
	   "content/x.tmp removed");
	ok(exists(in_tmp(p, sizeof(p), "a/b/data/content/y.bin")),
	   "content/y.bin kept");
	is_int(dir_mode(in_tmp(p, sizeof(p), "a/b/data/content/d.tmp")), 0750,
	   "folder content/d.tmp kept");

	ok(write_file(in_tmp(p, sizeof(p), "plain"), "x") == 0,
	   "create a regular file");
	is_int(store_prepare_dir(p), TC_EIO, "prepare_dir on a file: TC_EIO");
	is_int(store_prepare_dir(in_tmp(p, sizeof(p), "plain/sub")), TC_EIO,
	       "prepare_dir below a file: TC_EIO");
	ok(mkdir(in_tmp(p, sizeof(p), "half"), 0750) == 0 &&
	   write_file(in_tmp(p, sizeof(p), "half/keys"), "x") == 0,
	   "create half/ with a file named keys");
	is_int(store_prepare_dir(in_tmp(p, sizeof(p), "half")), TC_EIO,
	       "prepare_dir where keys is a file: TC_EIO");
}

static void
test_open(void)
{
	char data[4096], db[4096], wal[4096], text[64];
	struct store *s = NULL;
	int64_t size = -1;
	int v = -1;

	in_tmp(data, sizeof(data), "a/b/data");
	in_tmp(db, sizeof(db), "a/b/data/tinchi.db");
	in_tmp(wal, sizeof(wal), "a/b/data/tinchi.db-wal");

	is_int(store_open(data, &s), 0, "store_open");
	ok(s != NULL, "store_open returns a store");
	if (s == NULL)
		return;
	ok(exists(db), "tinchi.db created");
	ok(exists(wal), "tinchi.db-wal exists after the migrations");
	is_str(store_backend(s), "sqlite", "backend is sqlite");
	is_int(store_ping(s), 0, "ping");
	is_int(store_schema_version(s, &v), 0, "schema_version");
	ok(store_schema_latest() >= 1, "latest schema version >= 1");
	is_int(v, store_schema_latest(), "schema version is the latest");
	is_int(store_size_bytes(s, &size), 0, "size_bytes");
	ok(size > 0, "size is positive");
	query_text(db, "PRAGMA journal_mode", text, sizeof(text));
	is_str(text, "wal", "journal mode is wal");
	is_int(query_int(db, "SELECT count(*) FROM meta"), 3,
	       "meta table filled (created_at, instance_id, credential_key)");
	store_close(s);
	s = NULL;

	is_int(store_open(data, &s), 0, "reopen");
	v = -1;
	if (s != NULL)
		store_schema_version(s, &v);
	is_int(v, store_schema_latest(), "reopen: version unchanged");
	is_int(query_int(db, "SELECT count(*) FROM meta"), 3,
	       "reopen: migrations not applied again");
	store_close(s);
	s = NULL;

	ok(exec_sql(db, "PRAGMA user_version = 999") == 0,
	   "set user_version 999");
	s = (struct store *)db;	/* must be reset to NULL on failure */
	is_int(store_open(data, &s), TC_ETOONEW, "newer db: TC_ETOONEW");
	ok(s == NULL, "newer db: *out is NULL");
	is_int(query_int(db, "PRAGMA user_version"), 999,
	       "newer db: user_version still 999");
	store_close(s);
	s = NULL;
}

static void
test_open_errors(void)
{
	char missing[4096], big[8192];
	struct store *s = NULL;

	in_tmp(missing, sizeof(missing), "no/such/folder");
	ok(store_open(missing, &s) < 0, "open in a missing folder fails");
	ok(s == NULL, "missing folder: *out is NULL");
	ok(!exists(missing), "missing folder not created by store_open");

	memset(big, 'x', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	is_int(store_open(big, &s), TC_EINVALID, "over-long path: TC_EINVALID");
	ok(s == NULL, "over-long path: *out is NULL");
	is_int(store_prepare_dir(big), TC_EINVALID,
	       "prepare_dir over-long path: TC_EINVALID");
	is_int(store_prepare_dir(""), TC_EINVALID,
	       "prepare_dir empty path: TC_EINVALID");

	store_close(NULL);
	ok(1, "store_close(NULL) is fine");
}

int
main(void)
{
	umask(022);
	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "store") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}

	test_prepare_dir();
	test_open();
	test_open_errors();

	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
