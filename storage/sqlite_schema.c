/*
 * sqlite_schema.c - the tinchi schema as an ordered list of migrations.
 *
 * Rules for editing this file:
 *  - Append only. A migration that has shipped is never edited or removed;
 *    a change to the schema is a new entry with the next version.
 *  - Each entry runs inside one transaction opened by sqlite_migrate(), so
 *    its SQL must not contain BEGIN, COMMIT or statements that cannot run in
 *    a transaction (VACUUM, PRAGMA journal_mode, PRAGMA foreign_keys).
 *  - Keep SQL portable where it costs nothing (standard types, explicit
 *    keys), so a PostgreSQL backend can mirror the same versions.
 */
#include "storage/sqlite_migrate.h"

const struct migration sqlite_migrations[] = {
	{
		1, "meta",
		"CREATE TABLE meta ("
		"  key TEXT NOT NULL PRIMARY KEY,"
		"  value TEXT NOT NULL"
		");"
		"INSERT INTO meta (key, value) VALUES"
		"  ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
		"  ('instance_id', lower(hex(randomblob(16))));"
	},
};

const size_t sqlite_migrations_count =
	sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]);
