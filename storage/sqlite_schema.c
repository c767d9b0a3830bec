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
	{
		/*
		 * Institutions and their signing keys, people and their roles,
		 * sessions, API tokens, activation codes, failed logins and the
		 * append-only audit log (storage/identity.h). Absent text is ''
		 * and absent times or ids are 0, never NULL. Membership
		 * institution 0 is the platform, so that column has no foreign
		 * key; a trigger checks the others.
		 */
		2, "identity",
		"CREATE TABLE institutions ("
		"  id INTEGER PRIMARY KEY,"
		"  code TEXT NOT NULL UNIQUE,"
		"  name TEXT NOT NULL,"
		"  kind TEXT NOT NULL"
		"    CHECK (kind IN ('school', 'university', 'other')),"
		"  website TEXT NOT NULL DEFAULT '',"
		"  created_at INTEGER NOT NULL"
		");"
		"CREATE TABLE institution_keys ("
		"  id INTEGER PRIMARY KEY,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  file TEXT NOT NULL UNIQUE,"
		"  pub BLOB NOT NULL,"
		"  did TEXT NOT NULL,"
		"  valid_from INTEGER NOT NULL,"
		"  valid_until INTEGER NOT NULL DEFAULT 0"
		");"
		"CREATE UNIQUE INDEX institution_keys_current"
		"  ON institution_keys (institution_id) WHERE valid_until = 0;"
		"CREATE INDEX institution_keys_by_institution"
		"  ON institution_keys (institution_id, valid_from);"
		"CREATE TABLE people ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  national_id TEXT NOT NULL UNIQUE,"
		"  nid_hmac TEXT NOT NULL UNIQUE,"
		"  full_name TEXT NOT NULL,"
		"  date_of_birth TEXT NOT NULL DEFAULT '',"
		"  email TEXT NOT NULL DEFAULT '',"
		"  password_hash TEXT NOT NULL DEFAULT '',"
		"  created_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL"
		");"
		"CREATE TABLE memberships ("
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  institution_id INTEGER NOT NULL DEFAULT 0,"
		"  role TEXT NOT NULL CHECK (role IN ('learner', 'lecturer',"
		"    'admin', 'verifier', 'operator')),"
		"  student_code TEXT NOT NULL DEFAULT '',"
		"  created_at INTEGER NOT NULL,"
		"  PRIMARY KEY (person_id, institution_id, role)"
		");"
		"CREATE INDEX memberships_by_role"
		"  ON memberships (institution_id, role, person_id);"
		"CREATE TRIGGER memberships_institution_exists"
		"  BEFORE INSERT ON memberships"
		"  WHEN NEW.institution_id <> 0 AND NOT EXISTS"
		"    (SELECT 1 FROM institutions WHERE id = NEW.institution_id)"
		"  BEGIN SELECT RAISE(ABORT, 'no such institution'); END;"
		"CREATE TABLE sessions ("
		"  token_hash TEXT NOT NULL PRIMARY KEY,"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  created_at INTEGER NOT NULL,"
		"  last_seen_at INTEGER NOT NULL,"
		"  expires_at INTEGER NOT NULL,"
		"  source TEXT NOT NULL DEFAULT ''"
		");"
		"CREATE INDEX sessions_by_person ON sessions (person_id);"
		"CREATE TABLE api_tokens ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  name TEXT NOT NULL,"
		"  token_hash TEXT NOT NULL UNIQUE,"
		"  scopes TEXT NOT NULL DEFAULT '',"
		"  created_by INTEGER NOT NULL DEFAULT 0,"
		"  created_at INTEGER NOT NULL,"
		"  last_used_at INTEGER NOT NULL DEFAULT 0,"
		"  revoked_at INTEGER NOT NULL DEFAULT 0"
		");"
		"CREATE INDEX api_tokens_by_institution"
		"  ON api_tokens (institution_id, id);"
		"CREATE TABLE activation_codes ("
		"  id INTEGER PRIMARY KEY,"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  code_hash TEXT NOT NULL,"
		"  created_at INTEGER NOT NULL,"
		"  expires_at INTEGER NOT NULL,"
		"  used_at INTEGER NOT NULL DEFAULT 0"
		");"
		"CREATE INDEX activation_codes_by_person"
		"  ON activation_codes (person_id);"
		"CREATE TABLE login_failures ("
		"  id INTEGER PRIMARY KEY,"
		"  account TEXT NOT NULL,"
		"  source TEXT NOT NULL,"
		"  at INTEGER NOT NULL"
		");"
		"CREATE INDEX login_failures_by_account"
		"  ON login_failures (account, at);"
		"CREATE INDEX login_failures_by_source"
		"  ON login_failures (source, at);"
		"CREATE INDEX login_failures_by_time ON login_failures (at);"
		"CREATE TABLE audit_events ("
		"  id INTEGER PRIMARY KEY,"
		"  at INTEGER NOT NULL,"
		"  institution_id INTEGER NOT NULL DEFAULT 0,"
		"  actor_person_id INTEGER NOT NULL DEFAULT 0,"
		"  actor_token_id INTEGER NOT NULL DEFAULT 0,"
		"  event TEXT NOT NULL,"
		"  subject TEXT NOT NULL DEFAULT '',"
		"  detail TEXT NOT NULL DEFAULT '{}',"
		"  source TEXT NOT NULL DEFAULT ''"
		");"
		"CREATE INDEX audit_events_by_institution"
		"  ON audit_events (institution_id, id);"
		"CREATE TRIGGER audit_events_no_update"
		"  BEFORE UPDATE ON audit_events"
		"  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;"
		"CREATE TRIGGER audit_events_no_delete"
		"  BEFORE DELETE ON audit_events"
		"  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;"
	},
};

const size_t sqlite_migrations_count =
	sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]);
