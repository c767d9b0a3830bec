/*
 * sqlite_migrate.h - versioned schema migrations for the SQLite backend
 * (private to storage/).
 *
 * A schema version is the database's PRAGMA user_version. A migration list
 * is an array of { version, name, sql } with strictly increasing versions
 * (all > 0); the newest entry is the version this binary creates. The list
 * the server runs is sqlite_migrations[] (sqlite_schema.c); tests pass their
 * own lists.
 */
#ifndef TINCHI_SQLITE_MIGRATE_H
#define TINCHI_SQLITE_MIGRATE_H

#include <stddef.h>

#include <sqlite3.h>

struct migration {
	int version;		/* > 0, strictly increasing within a list */
	const char *name;	/* short label for logs */
	const char *sql;	/* one or more statements; no BEGIN/COMMIT */
	/* optional: run after SQL in the same transaction (a conversion
	 * SQL cannot do); non-zero refuses the migration (rolled back) */
	int (*code)(sqlite3 *db);
};

/* The migrations of the tinchi schema, oldest first (sqlite_schema.c). */
extern const struct migration sqlite_migrations[];
extern const size_t sqlite_migrations_count;

/*
 * Brings DB (not owned) up to the newest version in LIST[0..N-1]. Every
 * migration whose version is above the database's runs in its own
 * BEGIN IMMEDIATE ... COMMIT transaction, which also sets user_version, so
 * after any failure the database is exactly at the last version that
 * committed. Returns:
 *   0            the database is at the newest version (nothing to do, or
 *                every pending migration applied);
 *   TC_EINVALID  LIST is not strictly increasing or holds a version <= 0
 *                (nothing is touched);
 *   TC_ETOONEW   the database is newer than the newest migration (nothing is
 *                touched);
 *   TC_EDB       reading the version or applying a migration failed; that
 *                migration was rolled back, earlier ones stay committed.
 * Every failure is logged. DB must not be inside a transaction.
 */
int sqlite_migrate(sqlite3 *db, const struct migration *list, size_t n);

/*
 * Reads DB's PRAGMA user_version into *OUT. Returns 0 or TC_EDB (logged;
 * *OUT untouched).
 */
int sqlite_user_version(sqlite3 *db, int *out);

#endif
