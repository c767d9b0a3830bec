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

/* migration 14's conversion of the stored credential texts (credentials_sqlite.c) */
int credentials_convert_v14(sqlite3 *db);
/* migration 18's conversion of the log's leaves and subtrees (tlog_sqlite.c) */
int tlog_convert_v18(sqlite3 *db);
/* migration 21's conversion of the credential rows (credentials_sqlite.c) */
int credentials_convert_v21(sqlite3 *db);

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
	{
		3, "courses",
		"CREATE TABLE courses ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  code TEXT NOT NULL,"
		"  title TEXT NOT NULL,"
		"  description TEXT NOT NULL DEFAULT '',"
		"  language TEXT NOT NULL,"
		"  credits_x10 INTEGER NOT NULL CHECK (credits_x10 > 0),"
		"  level TEXT NOT NULL DEFAULT '',"
		"  tags TEXT NOT NULL DEFAULT '',"
		"  status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),"
		"  starts_on TEXT NOT NULL DEFAULT '',"
		"  ends_on TEXT NOT NULL DEFAULT '',"
		"  enrol_opens_at INTEGER NOT NULL DEFAULT 0,"
		"  enrol_closes_at INTEGER NOT NULL DEFAULT 0,"
		"  capacity INTEGER NOT NULL DEFAULT 0,"
		"  owner_id INTEGER NOT NULL REFERENCES people (id),"
		"  created_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL,"
		"  UNIQUE (institution_id, code)"
		");"
		"CREATE INDEX courses_by_status ON courses (status, id);"
		"CREATE TABLE course_lecturers ("
		"  course_id INTEGER NOT NULL REFERENCES courses (id),"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  PRIMARY KEY (course_id, person_id)"
		");"
		"CREATE TABLE enrolments ("
		"  course_id INTEGER NOT NULL REFERENCES courses (id),"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  enrolled_at INTEGER NOT NULL,"
		"  left_at INTEGER NOT NULL DEFAULT 0,"
		"  PRIMARY KEY (course_id, person_id)"
		");"
		"CREATE INDEX enrolments_by_person ON enrolments (person_id);"
		/* folded code, title and tags of each course (courses/fold.h),
		 * rowid = courses.id; prefix indexes for 1-3 letter prefixes, since
		 * every typed word is a prefix match */
		"CREATE VIRTUAL TABLE courses_fts USING fts5 (body, tokenize = 'unicode61',"
		" prefix = '1 2 3');"
	},
	{
		4, "units and materials",
		"CREATE TABLE materials ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  course_id INTEGER NOT NULL REFERENCES courses (id),"
		"  sha256 TEXT NOT NULL,"
		"  type TEXT NOT NULL,"
		"  size INTEGER NOT NULL,"
		"  kind TEXT NOT NULL,"
		"  name TEXT NOT NULL DEFAULT '',"
		"  created_by INTEGER NOT NULL REFERENCES people (id),"
		"  created_at INTEGER NOT NULL"
		");"
		"CREATE INDEX materials_by_sha ON materials (sha256);"
		"CREATE INDEX materials_by_course ON materials (course_id, id);"
		"CREATE TABLE units ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  course_id INTEGER NOT NULL REFERENCES courses (id),"
		"  position INTEGER NOT NULL,"
		"  kind TEXT NOT NULL CHECK (kind IN ('video', 'document', 'text', 'quiz')),"
		"  title TEXT NOT NULL,"
		"  body TEXT NOT NULL DEFAULT '',"
		"  required INTEGER NOT NULL DEFAULT 1,"
		"  material_id INTEGER REFERENCES materials (id),"
		"  created_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL"
		");"
		"CREATE INDEX units_by_course ON units (course_id, position);"
	},
	{
		5, "resumable uploads",
		"CREATE TABLE uploads ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  course_id INTEGER NOT NULL REFERENCES courses (id),"
		"  created_by INTEGER NOT NULL REFERENCES people (id),"
		"  kind TEXT NOT NULL,"
		"  name TEXT NOT NULL DEFAULT '',"
		"  size INTEGER NOT NULL,"
		"  received INTEGER NOT NULL DEFAULT 0,"
		"  created_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL"
		");"
		"CREATE INDEX uploads_by_age ON uploads (updated_at);"
	},
	{
		6, "media jobs and captions",
		/* one row per video or audio material: its processing job (the
		 * queue: state, lease) and, when done, what came out of it */
		"CREATE TABLE media ("
		"  material_id INTEGER PRIMARY KEY REFERENCES materials (id),"
		"  state TEXT NOT NULL DEFAULT 'queued'"
		"    CHECK (state IN ('queued', 'running', 'ready', 'failed')),"
		"  stage TEXT NOT NULL DEFAULT '',"
		"  percent INTEGER NOT NULL DEFAULT 0,"
		"  error TEXT NOT NULL DEFAULT '',"
		"  result TEXT NOT NULL DEFAULT '',"
		"  attempts INTEGER NOT NULL DEFAULT 0,"
		"  node TEXT NOT NULL DEFAULT '',"
		"  lease_until INTEGER NOT NULL DEFAULT 0,"
		"  created_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL,"
		"  started_at INTEGER NOT NULL DEFAULT 0,"
		"  finished_at INTEGER NOT NULL DEFAULT 0"
		");"
		"CREATE INDEX media_queue ON media (state, created_at);"
		"INSERT INTO media (material_id, created_at, updated_at)"
		"  SELECT id, created_at, created_at FROM materials WHERE kind IN ('video', 'audio');"
		"CREATE TABLE captions ("
		"  material_id INTEGER NOT NULL REFERENCES materials (id),"
		"  lang TEXT NOT NULL,"
		"  label TEXT NOT NULL,"
		"  sha256 TEXT NOT NULL,"
		"  size INTEGER NOT NULL,"
		"  cues INTEGER NOT NULL,"
		"  created_by INTEGER NOT NULL REFERENCES people (id),"
		"  created_at INTEGER NOT NULL,"
		"  PRIMARY KEY (material_id, lang)"
		");"
		"CREATE INDEX captions_by_sha ON captions (sha256);"
	},
	{
		7, "learning progress",
		/* per learner and unit: watched ranges (ms, courses/ranges.h text),
		 * resume position ordered by the client time that set it */
		"CREATE TABLE progress ("
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  unit_id INTEGER NOT NULL REFERENCES units (id) ON DELETE CASCADE,"
		"  course_id INTEGER NOT NULL REFERENCES courses (id),"
		"  watched TEXT NOT NULL DEFAULT '',"
		"  position_ms INTEGER NOT NULL DEFAULT 0,"
		"  position_at INTEGER NOT NULL DEFAULT 0,"
		"  duration_ms INTEGER NOT NULL DEFAULT 0,"
		"  percent REAL NOT NULL DEFAULT 0 CHECK (percent >= 0 AND percent <= 100),"
		"  viewed_at INTEGER NOT NULL DEFAULT 0,"
		"  completed_at INTEGER NOT NULL DEFAULT 0,"
		"  updated_at INTEGER NOT NULL,"
		"  PRIMARY KEY (person_id, unit_id)"
		");"
		"CREATE INDEX progress_by_course ON progress (course_id, person_id, unit_id);"
		/* media time actually sent to a person (whole segments), ms */
		"CREATE TABLE deliveries ("
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  material_id INTEGER NOT NULL REFERENCES materials (id) ON DELETE CASCADE,"
		"  delivered TEXT NOT NULL DEFAULT '',"
		"  updated_at INTEGER NOT NULL,"
		"  PRIMARY KEY (person_id, material_id)"
		");"
	},
	{
		8, "quizzes",
		/* the definition of a quiz unit, as validated (courses/quiz.h) */
		"CREATE TABLE quizzes ("
		"  unit_id INTEGER PRIMARY KEY REFERENCES units (id) ON DELETE CASCADE,"
		"  definition TEXT NOT NULL,"
		"  version INTEGER NOT NULL,"
		"  updated_by INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL"
		");"
		/* the paper is a snapshot: grading never reads the quiz again */
		"CREATE TABLE attempts ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  unit_id INTEGER NOT NULL REFERENCES units (id),"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  number INTEGER NOT NULL,"
		"  quiz_version INTEGER NOT NULL,"
		"  started_at INTEGER NOT NULL,"
		"  deadline INTEGER NOT NULL DEFAULT 0,"
		"  submitted_at INTEGER NOT NULL DEFAULT 0,"
		"  state TEXT NOT NULL DEFAULT 'open'"
		"    CHECK (state IN ('open', 'submitted', 'expired')),"
		"  paper TEXT NOT NULL,"
		"  answers TEXT NOT NULL DEFAULT '{}',"
		"  score REAL NOT NULL DEFAULT 0,"
		"  max_score REAL NOT NULL DEFAULT 0,"
		"  scores TEXT NOT NULL DEFAULT '[]',"
		/* the verdict at grading, with the pass mark of the paper */
		"  passed INTEGER NOT NULL DEFAULT 0,"
		"  pass_percent REAL NOT NULL DEFAULT 0,"
		"  UNIQUE (unit_id, person_id, number)"
		");"
		/* one open attempt per unit and person, whatever races */
		"CREATE UNIQUE INDEX attempts_one_open ON attempts (unit_id, person_id)"
		"  WHERE state = 'open';"
		"CREATE INDEX attempts_by_unit ON attempts (unit_id, id);"
	},
	{
		9, "completions",
		/* a course's completion rules (courses/completion.h), versioned */
		"CREATE TABLE completion_rules ("
		"  course_id INTEGER PRIMARY KEY REFERENCES courses (id),"
		"  rules TEXT NOT NULL,"
		"  version INTEGER NOT NULL,"
		"  updated_by INTEGER NOT NULL REFERENCES people (id),"
		"  updated_at INTEGER NOT NULL"
		");"
		/* written once per course and learner; grades in hundredths of the
		 * 0-10 scale (a 0.25 step needs them), percentages in tenths */
		"CREATE TABLE completions ("
		"  course_id INTEGER NOT NULL REFERENCES courses (id),"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  grade_hundredths INTEGER NOT NULL CHECK (grade_hundredths BETWEEN 0 AND 1000),"
		"  percent_tenths INTEGER NOT NULL CHECK (percent_tenths BETWEEN 0 AND 1000),"
		"  letter TEXT NOT NULL DEFAULT '',"
		"  passed INTEGER NOT NULL CHECK (passed IN (0, 1)),"
		"  evidence TEXT NOT NULL,"
		"  rules_version INTEGER NOT NULL,"
		"  completed_at INTEGER NOT NULL,"
		"  PRIMARY KEY (course_id, person_id)"
		");"
		"CREATE INDEX completions_by_person ON completions (person_id);"
		/* events for other parts (credentials consume course.completed),
		 * written in the transaction of what they announce */
		"CREATE TABLE outbox ("
		"  id INTEGER PRIMARY KEY,"
		"  kind TEXT NOT NULL,"
		"  course_id INTEGER REFERENCES courses (id),"
		"  person_id INTEGER REFERENCES people (id),"
		"  payload TEXT NOT NULL,"
		"  created_at INTEGER NOT NULL,"
		"  consumed_at INTEGER"
		");"
		"CREATE INDEX outbox_pending ON outbox (kind, id) WHERE consumed_at IS NULL;"
	},
	{
		10, "learning records",
		"CREATE TABLE lrs_credentials ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  key TEXT NOT NULL UNIQUE,"
		"  secret_hash TEXT NOT NULL,"
		"  name TEXT NOT NULL,"
		"  scopes TEXT NOT NULL DEFAULT '',"
		"  created_by INTEGER NOT NULL DEFAULT 0,"
		"  created_at INTEGER NOT NULL,"
		"  revoked_at INTEGER NOT NULL DEFAULT 0"
		");"
		"CREATE INDEX lrs_credentials_by_inst ON lrs_credentials (institution_id, id);"
		"CREATE TABLE statements ("
		"  id INTEGER PRIMARY KEY,"
		"  statement_id TEXT NOT NULL,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  credential_id INTEGER NOT NULL DEFAULT 0,"
		"  json TEXT NOT NULL,"
		"  stored_us INTEGER NOT NULL,"
		"  timestamp_us INTEGER NOT NULL,"
		"  verb_id TEXT NOT NULL,"
		"  registration TEXT,"
		"  voided INTEGER NOT NULL DEFAULT 0,"
		"  is_voiding INTEGER NOT NULL DEFAULT 0,"
		"  UNIQUE (institution_id, statement_id)"
		");"
		"CREATE INDEX statements_by_stored ON statements (institution_id, stored_us);"
		"CREATE INDEX statements_by_verb ON statements (institution_id, verb_id, id);"
		"CREATE INDEX statements_by_registration ON statements (registration, id)"
		"  WHERE registration IS NOT NULL;"
		"CREATE TABLE statement_agents ("
		"  statement INTEGER NOT NULL REFERENCES statements (id),"
		"  key TEXT NOT NULL,"
		"  role INTEGER NOT NULL,"
		"  PRIMARY KEY (key, statement, role)"
		") WITHOUT ROWID;"
		"CREATE TABLE statement_activities ("
		"  statement INTEGER NOT NULL REFERENCES statements (id),"
		"  activity_id TEXT NOT NULL,"
		"  role INTEGER NOT NULL,"
		"  PRIMARY KEY (activity_id, statement, role)"
		") WITHOUT ROWID;"
		"CREATE TABLE xapi_activities ("
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  activity_id TEXT NOT NULL,"
		"  definition TEXT NOT NULL,"
		"  PRIMARY KEY (institution_id, activity_id)"
		");"
		"CREATE TABLE xapi_documents ("
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  kind TEXT NOT NULL CHECK (kind IN ('state', 'activity_profile', 'agent_profile')),"
		"  activity_id TEXT NOT NULL DEFAULT '',"
		"  agent_key TEXT NOT NULL DEFAULT '',"
		"  registration TEXT NOT NULL DEFAULT '',"
		"  doc_id TEXT NOT NULL,"
		"  content_type TEXT NOT NULL,"
		"  body BLOB NOT NULL,"
		"  etag TEXT NOT NULL,"
		"  updated_us INTEGER NOT NULL,"
		"  PRIMARY KEY (institution_id, kind, activity_id, agent_key, registration, doc_id)"
		");"
	},
	{
		11, "xapi attachments and statement references",
		/* attachment data sent in multipart/mixed, by its SHA-2 (the same
		 * bytes whatever statement names them) */
		"CREATE TABLE xapi_attachments ("
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  sha2 TEXT NOT NULL,"
		"  content_type TEXT NOT NULL,"
		"  body BLOB NOT NULL,"
		"  PRIMARY KEY (institution_id, sha2)"
		");"
		/* the target of a statement whose object is a StatementRef: the
		 * filters also return statements that refer to a matching one */
		"ALTER TABLE statements ADD COLUMN ref_target TEXT;"
		"UPDATE statements SET ref_target = lower(json_extract(json, '$.object.id'))"
		"  WHERE json_extract(json, '$.object.objectType') = 'StatementRef';"
		"CREATE INDEX statements_by_ref ON statements (institution_id, ref_target)"
		"  WHERE ref_target IS NOT NULL;"
	},
	{
		12, "transparency log",
		/* RFC 9162 leaves: the canonical (JCS) entry and its leaf hash;
		 * SUBJECT is the entry's "hash" member, to find a credential's
		 * leaf. Append-only: the triggers refuse changes and removals. */
		"CREATE TABLE log_leaves ("
		"  idx INTEGER PRIMARY KEY CHECK (idx >= 0),"
		"  entry TEXT NOT NULL,"
		"  subject TEXT NOT NULL,"
		"  leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)"
		");"
		"CREATE INDEX log_leaves_by_subject ON log_leaves (subject, idx);"
		/* every perfect subtree (2^level leaves, level >= 1) once complete */
		"CREATE TABLE log_nodes ("
		"  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 63),"
		"  idx INTEGER NOT NULL CHECK (idx >= 0),"
		"  hash BLOB NOT NULL CHECK (length(hash) = 32),"
		"  PRIMARY KEY (level, idx)"
		");"
		/* signed checkpoints: one root per size, never replaced */
		"CREATE TABLE log_checkpoints ("
		"  size INTEGER PRIMARY KEY CHECK (size >= 0),"
		"  root BLOB NOT NULL CHECK (length(root) = 32),"
		"  note TEXT NOT NULL,"
		"  created_at INTEGER NOT NULL"
		");"
		"CREATE TRIGGER log_leaves_append_only BEFORE UPDATE ON log_leaves"
		"  BEGIN SELECT RAISE(ABORT, 'log leaves are append-only'); END;"
		"CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves"
		"  BEGIN SELECT RAISE(ABORT, 'log leaves are append-only'); END;"
		"CREATE TRIGGER log_nodes_append_only BEFORE UPDATE ON log_nodes"
		"  BEGIN SELECT RAISE(ABORT, 'log nodes are append-only'); END;"
		"CREATE TRIGGER log_checkpoints_fixed BEFORE UPDATE ON log_checkpoints"
		"  BEGIN SELECT RAISE(ABORT, 'a checkpoint is never changed'); END;"
		"CREATE TRIGGER log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints"
		"  BEGIN SELECT RAISE(ABORT, 'a checkpoint is never removed'); END;"
	},
	{
		13, "credentials",
		/* signed credentials as issued (storage/credentials.h) */
		"CREATE TABLE credentials ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  course_id INTEGER NOT NULL REFERENCES courses (id),"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  status_index INTEGER NOT NULL,"
		"  json TEXT NOT NULL,"
		"  hash TEXT NOT NULL,"
		"  issued_at INTEGER NOT NULL,"
		"  revoked_at INTEGER NOT NULL DEFAULT 0,"
		"  revoke_reason TEXT NOT NULL DEFAULT '',"
		"  UNIQUE (institution_id, status_index)"
		");"
		"CREATE INDEX credentials_by_person ON credentials (person_id, id);"
		"CREATE INDEX credentials_by_hash ON credentials (hash);"
		/* one Bitstring Status List per issuer and purpose; next_k counts
		 * the indexes handed out (the permutation's input) */
		"CREATE TABLE status_lists ("
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  purpose TEXT NOT NULL,"
		"  bits BLOB NOT NULL,"
		"  next_k INTEGER NOT NULL DEFAULT 0,"
		"  updated_at INTEGER NOT NULL,"
		"  PRIMARY KEY (institution_id, purpose)"
		");"
		/* issue on completion ('auto') or after a lecturer's approval */
		"ALTER TABLE courses ADD COLUMN credential_issue TEXT NOT NULL DEFAULT 'auto'"
		"  CHECK (credential_issue IN ('auto', 'approval'));"
	},
	{
		14, "compact credentials",
		/* the fields many credentials share (courses/credential.h
		 * credential_shared_json), once per institution and content;
		 * CODE is their humanCode */
		"CREATE TABLE credential_achievements ("
		"  id INTEGER PRIMARY KEY,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  code TEXT NOT NULL,"
		"  digest BLOB NOT NULL CHECK (length(digest) = 32),"
		"  fields TEXT NOT NULL,"
		"  UNIQUE (institution_id, digest)"
		");"
		/* a credential as the fields it is rebuilt from byte for byte
		 * (storage/credentials.h store_credential_text); course_id NULL:
		 * a course that is not on tinchi. The conversion step fills it
		 * from the stored texts and replaces the old table. */
		"CREATE TABLE credentials_v14 ("
		"  id INTEGER PRIMARY KEY,"
		"  uid BLOB NOT NULL UNIQUE CHECK (length(uid) = 16),"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  course_id INTEGER REFERENCES courses (id),"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  achievement_id INTEGER NOT NULL REFERENCES credential_achievements (id),"
		"  key_id INTEGER NOT NULL REFERENCES institution_keys (id),"
		"  status_index INTEGER NOT NULL,"
		"  hash BLOB NOT NULL CHECK (length(hash) = 32),"
		"  issued_at INTEGER NOT NULL,"
		"  awarded_at INTEGER,"
		"  identity_hash BLOB NOT NULL CHECK (length(identity_hash) = 32),"
		"  salt BLOB NOT NULL,"
		"  credits_earned REAL NOT NULL,"
		"  term TEXT,"
		"  grade TEXT,"
		"  signature BLOB NOT NULL CHECK (length(signature) = 64),"
		"  revoked_at INTEGER NOT NULL DEFAULT 0,"
		"  revoke_reason TEXT NOT NULL DEFAULT '',"
		"  UNIQUE (institution_id, status_index)"
		");",
		credentials_convert_v14
	},
	{
		15, "credential shares",
		/* links with which a learner shares one credential
		 * (storage/shares.h): only the token's SHA-256 is kept */
		"CREATE TABLE credential_shares ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL UNIQUE,"
		"  credential_id INTEGER NOT NULL REFERENCES credentials (id),"
		"  token_hash TEXT NOT NULL UNIQUE,"
		"  kind TEXT NOT NULL CHECK (kind IN ('link', 'print')),"
		"  created_at INTEGER NOT NULL,"
		"  expires_at INTEGER NOT NULL DEFAULT 0,"
		"  withdrawn_at INTEGER NOT NULL DEFAULT 0,"
		"  access_count INTEGER NOT NULL DEFAULT 0,"
		"  last_accessed_at INTEGER NOT NULL DEFAULT 0"
		");"
		"CREATE INDEX credential_shares_by_credential ON credential_shares"
		"  (credential_id, id);"
		/* at most one live print share per credential */
		"CREATE UNIQUE INDEX credential_shares_one_print ON credential_shares"
		"  (credential_id) WHERE kind = 'print' AND withdrawn_at = 0;"
	},
	{
		16, "recognition",
		/* recognition rules, their versions and their look-up index
		 * (storage/recognition.h); source_id 0 is any registered
		 * institution, so it has no foreign key */
		"CREATE TABLE recognition_rules ("
		"  id INTEGER PRIMARY KEY,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  source_id INTEGER NOT NULL DEFAULT 0,"
		"  version INTEGER NOT NULL CHECK (version > 0),"
		"  status TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'expired')),"
		"  body TEXT NOT NULL,"
		"  updated_at INTEGER NOT NULL"
		");"
		"CREATE INDEX recognition_rules_by_institution"
		"  ON recognition_rules (institution_id, id);"
		"CREATE TABLE recognition_rule_versions ("
		"  rule_id INTEGER NOT NULL REFERENCES recognition_rules (id),"
		"  version INTEGER NOT NULL,"
		"  source_id INTEGER NOT NULL,"
		"  status TEXT NOT NULL,"
		"  body TEXT NOT NULL,"
		"  created_at INTEGER NOT NULL,"
		"  created_by INTEGER NOT NULL DEFAULT 0,"
		"  PRIMARY KEY (rule_id, version)"
		");"
		"CREATE TRIGGER recognition_rule_versions_fixed"
		"  BEFORE UPDATE ON recognition_rule_versions"
		"  BEGIN SELECT RAISE(ABORT, 'a rule version is never changed'); END;"
		"CREATE TRIGGER recognition_rule_versions_kept"
		"  BEFORE DELETE ON recognition_rule_versions"
		"  BEGIN SELECT RAISE(ABORT, 'a rule version is never removed'); END;"
		"CREATE TABLE recognition_rule_keys ("
		"  institution_id INTEGER NOT NULL,"
		"  source_id INTEGER NOT NULL,"
		"  key TEXT NOT NULL,"
		"  rule_id INTEGER NOT NULL REFERENCES recognition_rules (id),"
		"  PRIMARY KEY (institution_id, source_id, key, rule_id)"
		") WITHOUT ROWID;"
		"CREATE INDEX recognition_rule_keys_by_rule ON recognition_rule_keys (rule_id);"
		"ALTER TABLE courses ADD COLUMN isced_field TEXT NOT NULL DEFAULT '';"
		"CREATE INDEX institution_keys_by_did ON institution_keys (did);"
	},
	{
		17, "learner consent and access log",
		/* storage/consent.h: append-only versions, one chain per
		 * (person, institution); the version in force at T is the
		 * highest created at or before T (consents_by_pair) */
		"CREATE TABLE consents ("
		"  id INTEGER PRIMARY KEY,"
		"  uid TEXT NOT NULL,"
		"  version INTEGER NOT NULL CHECK (version >= 1),"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  state TEXT NOT NULL CHECK (state IN ('granted', 'withdrawn')),"
		"  all_credentials INTEGER NOT NULL CHECK (all_credentials IN (0, 1)),"
		"  purpose TEXT NOT NULL DEFAULT '',"
		"  valid_until INTEGER NOT NULL,"
		"  created_at INTEGER NOT NULL,"
		"  created_by INTEGER NOT NULL,"
		"  UNIQUE (uid, version)"
		");"
		"CREATE UNIQUE INDEX consents_by_pair ON consents (person_id, institution_id, version);"
		"CREATE INDEX consents_by_institution ON consents (institution_id, id);"
		"CREATE TABLE consent_credentials ("
		"  consent_id INTEGER NOT NULL REFERENCES consents (id),"
		"  credential_id INTEGER NOT NULL REFERENCES credentials (id),"
		"  PRIMARY KEY (consent_id, credential_id)"
		") WITHOUT ROWID;"
		"CREATE TABLE consent_accesses ("
		"  id INTEGER PRIMARY KEY,"
		"  institution_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  person_id INTEGER NOT NULL REFERENCES people (id),"
		"  consent_id INTEGER NOT NULL REFERENCES consents (id),"
		"  purpose TEXT NOT NULL DEFAULT '',"
		"  reader_token_id INTEGER REFERENCES api_tokens (id),"
		"  reader_person_id INTEGER REFERENCES people (id),"
		"  credentials TEXT NOT NULL,"
		"  at INTEGER NOT NULL"
		");"
		"CREATE INDEX consent_accesses_by_person ON consent_accesses (person_id, id);"
		"CREATE TRIGGER consents_append_only BEFORE UPDATE ON consents"
		"  BEGIN SELECT RAISE(ABORT, 'consent versions are append-only'); END;"
		"CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents"
		"  BEGIN SELECT RAISE(ABORT, 'consent versions are append-only'); END;"
		"CREATE TRIGGER consent_accesses_append_only BEFORE UPDATE ON consent_accesses"
		"  BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;"
		"CREATE TRIGGER consent_accesses_no_delete BEFORE DELETE ON consent_accesses"
		"  BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;"
	},
	{
		18, "compact transparency log",
		/* storage/tlog.h: a leaf as the fields of its entry (kind 0 issue,
		 * 1 revoke; time in unix seconds), its subject the hash of the
		 * credential it names (credential_id) or, for a subject no
		 * credential has, its own (32 bytes, or text when it is not
		 * "sha256:<hex>"); ENTRY only for text its fields would not
		 * rebuild byte for byte. No leaf hashes (computed from the
		 * entries); subtrees from level 4 (TLOG_NODE_LEVEL_MIN) up. The
		 * hash indexes keep 8 bytes of the hash; the queries compare the
		 * whole. The conversion step fills the new tables from the _v12
		 * ones and drops those. */
		"DROP TRIGGER IF EXISTS log_leaves_append_only;"
		"DROP TRIGGER IF EXISTS log_leaves_no_delete;"
		"DROP TRIGGER IF EXISTS log_nodes_append_only;"
		"DROP INDEX log_leaves_by_subject;"
		"ALTER TABLE log_leaves RENAME TO log_leaves_v12;"
		"ALTER TABLE log_nodes RENAME TO log_nodes_v12;"
		"CREATE TABLE log_issuers ("
		"  id INTEGER PRIMARY KEY,"
		"  did TEXT NOT NULL UNIQUE"
		");"
		"CREATE TABLE log_leaves ("
		"  idx INTEGER PRIMARY KEY CHECK (idx >= 0),"
		"  kind INTEGER CHECK (kind IN (0, 1)),"
		"  credential_id INTEGER REFERENCES credentials (id),"
		"  subject BLOB,"
		"  issuer_id INTEGER REFERENCES log_issuers (id),"
		"  time INTEGER,"
		"  entry TEXT,"
		"  CHECK ((entry IS NULL) = (kind IS NOT NULL AND issuer_id IS NOT NULL"
		"    AND time IS NOT NULL)),"
		"  CHECK ((credential_id IS NULL) <> (subject IS NULL))"
		");"
		"CREATE INDEX log_leaves_by_credential ON log_leaves (credential_id)"
		"  WHERE credential_id IS NOT NULL;"
		"CREATE INDEX log_leaves_by_subject ON log_leaves (substr(subject, 1, 8))"
		"  WHERE subject IS NOT NULL;"
		"CREATE TABLE log_subtrees ("
		"  level INTEGER NOT NULL CHECK (level BETWEEN 4 AND 63),"
		"  idx INTEGER NOT NULL CHECK (idx >= 0),"
		"  hash BLOB NOT NULL CHECK (length(hash) = 32),"
		"  PRIMARY KEY (level, idx)"
		") WITHOUT ROWID;"
		"CREATE TRIGGER log_leaves_append_only BEFORE UPDATE ON log_leaves"
		"  BEGIN SELECT RAISE(ABORT, 'log leaves are append-only'); END;"
		"CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves"
		"  BEGIN SELECT RAISE(ABORT, 'log leaves are append-only'); END;"
		"CREATE TRIGGER log_subtrees_append_only BEFORE UPDATE ON log_subtrees"
		"  BEGIN SELECT RAISE(ABORT, 'log subtrees are append-only'); END;"
		"CREATE TRIGGER log_issuers_fixed BEFORE UPDATE ON log_issuers"
		"  BEGIN SELECT RAISE(ABORT, 'a log issuer is never changed'); END;"
		/* a credential's hash is its leaves' subject: never changed */
		"CREATE TRIGGER credentials_hash_fixed BEFORE UPDATE OF hash ON credentials"
		"  BEGIN SELECT RAISE(ABORT, 'a credential hash is never changed'); END;"
		"CREATE TRIGGER credentials_logged_kept BEFORE DELETE ON credentials"
		"  WHEN EXISTS (SELECT 1 FROM log_leaves WHERE credential_id = OLD.id)"
		"  BEGIN SELECT RAISE(ABORT, 'a credential in the transparency log is never removed'); END;"
		"DROP INDEX credentials_by_hash;"
		"CREATE INDEX credentials_by_hash ON credentials (substr(hash, 1, 8));",
		tlog_convert_v18
	},
	{
		19, "mutual recognition agreements",
		/* storage/recognition.h: the partner's decision on a mutual
		 * rule whose source it is (a new one replaces it; the audit log
		 * keeps them all) */
		"CREATE TABLE recognition_mutual ("
		"  rule_id INTEGER PRIMARY KEY REFERENCES recognition_rules (id),"
		"  partner_id INTEGER NOT NULL REFERENCES institutions (id),"
		"  state TEXT NOT NULL CHECK (state IN ('accepted', 'declined')),"
		"  rule_version INTEGER NOT NULL CHECK (rule_version > 0),"
		"  reverse_rule_id INTEGER REFERENCES recognition_rules (id),"
		"  decided_at INTEGER NOT NULL,"
		"  decided_by INTEGER NOT NULL DEFAULT 0,"
		"  CHECK ((state = 'accepted') = (reverse_rule_id IS NOT NULL))"
		");"
		"CREATE INDEX recognition_rules_by_source ON recognition_rules (source_id, id);"
	},
	{
		20, "courses taught by owner and co-lecturer; finished uploads",
		/* GET /api/v1/me/teaching (sq_teaching_each) looks courses up
		 * by owner_id and course_lecturers by person_id */
		"CREATE INDEX courses_by_owner ON courses (owner_id, id);"
		"CREATE INDEX course_lecturers_by_person ON course_lecturers (person_id, course_id);"
		/* a finished upload is kept (until it goes stale) with the
		 * material it made, so a retried finish gets that material */
		"ALTER TABLE uploads ADD COLUMN material_uid TEXT NOT NULL DEFAULT '';"
	},
	{
		21, "credentials without what derives",
		/* storage/credentials.h: the key from which a new credential's
		 * uid and salt derive (courses/credential_derive.h), and each
		 * term's text once. The conversion step rebuilds the credentials
		 * table (uid, salt and identity hash NULL where they derive,
		 * term_id, awarded_ago, leaf), checks that every row still
		 * rebuilds to its hash, and drops log_leaves_by_credential. */
		"INSERT INTO meta (key, value) VALUES"
		"  ('credential_key', lower(hex(randomblob(32))));"
		"CREATE TABLE credential_terms ("
		"  id INTEGER PRIMARY KEY,"
		"  term TEXT NOT NULL UNIQUE"
		");"
		"INSERT INTO credential_terms (term) SELECT DISTINCT term FROM credentials"
		"  WHERE term IS NOT NULL ORDER BY term;",
		credentials_convert_v21
	},
	{
		22, "status list revisions",
		/* storage/credentials.h: bits_rev counts the changes of a list's
		 * bits (a revocation bumps it in its own transaction), so that a
		 * verifier compares one integer, not the whole bitstring */
		"ALTER TABLE status_lists ADD COLUMN bits_rev INTEGER NOT NULL DEFAULT 0;",
		NULL
	},
	{
		24, "the pace of watching",
		/* storage/progress.h: the watched-time credit of a progress row
		 * (ms of media) and when it was last reckoned (server ms; 0:
		 * never, the whole burst: courses/progress.h) */
		"ALTER TABLE progress ADD COLUMN pace_ms INTEGER NOT NULL DEFAULT 0;"
		"ALTER TABLE progress ADD COLUMN pace_at INTEGER NOT NULL DEFAULT 0;",
		NULL
	},
	{
		25, "status list segments",
		/* storage/credentials.h: a list's bits by segments of 131,072
		 * entries (16 KiB, courses/statuslist.h), one row each, so that a
		 * list grows by a row and neither an issue (next_k) nor a
		 * revocation rewrites the whole bitstring; status_lists.bits is
		 * left empty */
		"CREATE TABLE status_list_segments ("
		"  institution_id INTEGER NOT NULL,"
		"  purpose TEXT NOT NULL,"
		"  segment INTEGER NOT NULL CHECK (segment >= 0),"
		"  bits BLOB NOT NULL,"
		"  PRIMARY KEY (institution_id, purpose, segment),"
		"  FOREIGN KEY (institution_id, purpose)"
		"    REFERENCES status_lists (institution_id, purpose)"
		");"
		"INSERT INTO status_list_segments (institution_id, purpose, segment, bits)"
		"  SELECT institution_id, purpose, 0, bits FROM status_lists WHERE length(bits) > 0;"
		"UPDATE status_lists SET bits = x'';",
		NULL
	},
};

const size_t sqlite_migrations_count =
	sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]);
