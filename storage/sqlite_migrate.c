/*
 * sqlite_migrate.c - applies versioned schema migrations to a SQLite
 * database, one transaction per migration. See sqlite_migrate.h.
 */
#include <stdio.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/sqlite_migrate.h"

int
sqlite_user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *stmt = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		log_err("cannot read the database schema version: %s",
			sqlite3_errmsg(db));
		rc = TC_EDB;
		goto out;
	}
	*out = sqlite3_column_int(stmt, 0);
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* Versions must be > 0 and strictly increasing; every entry needs SQL. */
static int
check_list(const struct migration *list, size_t n)
{
	if (n > 0 && list == NULL) {
		log_err("schema migration list is missing");
		return TC_EINVALID;
	}
	for (size_t i = 0; i < n; i++) {
		const struct migration *m = &list[i];

		if (m->version <= 0 || m->name == NULL || m->sql == NULL ||
		    (i > 0 && m->version <= list[i - 1].version)) {
			log_err("schema migration list is invalid at entry %zu "
				"(version %d)", i, m->version);
			return TC_EINVALID;
		}
	}
	return 0;
}

static int
refuse_too_new(int current, int latest)
{
	log_err("database schema version %d is newer than this tinchi "
		"(knows up to %d); upgrade tinchi", current, latest);
	return TC_ETOONEW;
}

/* Ends a transaction left open by a failure; SQLite may have ended it. */
static void
rollback_if_open(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Applies M inside its own BEGIN IMMEDIATE ... COMMIT. The version is read
 * again once the write lock is held, so a second process migrating the same
 * file at the same moment finds the work done and skips it.
 */
static int
apply_one(sqlite3 *db, const struct migration *m, int latest)
{
	char set_version[64];
	int current = 0;
	int rc = 0;

	snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d",
		 m->version);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("schema migration %d (%s): cannot begin: %s",
			m->version, m->name, sqlite3_errmsg(db));
		rc = TC_EDB;
		goto out;
	}
	rc = sqlite_user_version(db, &current);
	if (rc)
		goto out;
	if (current > latest) {
		rc = refuse_too_new(current, latest);
		goto out;
	}
	if (current >= m->version)
		goto out;	/* another process applied it meanwhile */
	if (sqlite3_exec(db, m->sql, NULL, NULL, NULL) != SQLITE_OK) {
		log_err("schema migration %d (%s) failed: %s", m->version,
			m->name, sqlite3_errmsg(db));
		rc = TC_EDB;
		goto out;
	}
	if (m->code && !sqlite3_get_autocommit(db) && m->code(db) != 0) {
		log_err("schema migration %d (%s) refused by its conversion step",
			m->version, m->name);
		rc = TC_EDB;
		goto out;
	}
	if (sqlite3_get_autocommit(db)) {
		log_err("schema migration %d (%s) ended its own transaction",
			m->version, m->name);
		rc = TC_EDB;
		goto out;
	}
	if (sqlite3_exec(db, set_version, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("schema migration %d (%s): cannot commit: %s",
			m->version, m->name, sqlite3_errmsg(db));
		rc = TC_EDB;
		goto out;
	}
	log_info("applied schema migration %d (%s)", m->version, m->name);
out:
	rollback_if_open(db);
	return rc;
}

int
sqlite_migrate(sqlite3 *db, const struct migration *list, size_t n)
{
	int current = 0;
	int latest = 0;
	int rc = 0;

	if (db == NULL) {
		rc = TC_EINVALID;
		goto out;
	}
	rc = check_list(list, n);
	if (rc)
		goto out;
	latest = n > 0 ? list[n - 1].version : 0;
	rc = sqlite_user_version(db, &current);
	if (rc)
		goto out;
	if (current > latest) {
		rc = refuse_too_new(current, latest);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (list[i].version <= current)
			continue;
		rc = apply_one(db, &list[i], latest);
		if (rc)
			goto out;
	}
out:
	return rc;
}
