/*
 * store_backend.h - what a persistence backend provides (private to storage/).
 *
 * Each backend's own struct starts with `const struct store_ops *ops`, so
 * store.c can dispatch on any `struct store *`.
 */
#ifndef TINCHI_STORE_BACKEND_H
#define TINCHI_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "storage/identity.h"
#include "storage/media_jobs.h"
#include "storage/completion.h"
#include "courses/recognition.h"

struct store;

/*
 * The identity part of a backend: one entry per function of
 * storage/identity.h, with the same meaning. storage/identity.c has already
 * checked what the header calls caller bugs (NULL pointers, text that does
 * not fit its field, roles and kinds out of range, LIMIT or MAX out of
 * range), so a backend only does the database work. A backend that has
 * identity ops provides every entry.
 */
struct identity_ops {
	int (*begin)(struct store *s);
	int (*commit)(struct store *s);
	int (*rollback)(struct store *s);

	int (*meta_get)(struct store *s, const char *key, char *out,
			size_t outsize);
	int (*meta_add)(struct store *s, const char *key, const char *value);

	int (*institution_add)(struct store *s, struct institution *inst);
	int (*institution_get)(struct store *s, const char *code,
			       struct institution *out);
	int (*institution_get_id)(struct store *s, int64_t id,
				  struct institution *out);
	int (*institution_each)(struct store *s,
				int (*cb)(const struct institution *inst,
					  void *arg), void *arg);
	int (*key_add)(struct store *s, struct inst_key *k);
	int (*key_current)(struct store *s, int64_t institution_id,
			   struct inst_key *out);
	int (*key_each)(struct store *s, int64_t institution_id,
			int (*cb)(const struct inst_key *k, void *arg),
			void *arg);

	int (*person_upsert)(struct store *s, struct person *p, int64_t now,
			     int *created);
	int (*person_get)(struct store *s, int64_t id, struct person *out);
	int (*person_get_by_nid)(struct store *s, const char *national_id,
				 struct person *out);
	int (*person_get_by_uid)(struct store *s, const char *uid,
				 struct person *out);
	int (*person_set_password)(struct store *s, int64_t id,
				   const char *hash, int64_t now);
	int (*password_heads_each)(struct store *s,
				   int (*cb)(const char *head, int64_t count,
					     void *arg), void *arg);
	int (*membership_add)(struct store *s, struct membership *m);
	int (*membership_remove)(struct store *s, int64_t person_id,
				 int64_t institution_id, enum role role);
	int (*memberships)(struct store *s, int64_t person_id,
			   struct membership *out, int max, int *n);
	int (*members_each)(struct store *s, int64_t institution_id,
			    enum role role, int64_t after_id, int limit,
			    int (*cb)(const struct person *p,
				      const struct membership *m, void *arg),
			    void *arg);

	int (*session_add)(struct store *s, const struct session *sess);
	int (*session_get)(struct store *s, const char *token_hash,
			   struct session *out);
	int (*session_touch)(struct store *s, const char *token_hash,
			     int64_t now);
	int (*session_delete)(struct store *s, const char *token_hash);
	int (*session_purge)(struct store *s, int64_t person_id, int64_t now,
			     int64_t idle_timeout, int *n);

	int (*token_add)(struct store *s, struct api_token *t,
			 const char *token_hash);
	int (*token_by_hash)(struct store *s, const char *token_hash,
			     struct api_token *out);
	int (*token_get)(struct store *s, int64_t institution_id,
			 const char *uid, struct api_token *out);
	int (*token_each)(struct store *s, int64_t institution_id,
			  int (*cb)(const struct api_token *t, void *arg),
			  void *arg);
	int (*token_revoke)(struct store *s, int64_t institution_id,
			    const char *uid, int64_t now);
	int (*token_touch)(struct store *s, int64_t id, int64_t now);

	int (*activation_add)(struct store *s, int64_t person_id,
			      const char *code_hash, int64_t now,
			      int64_t expires_at);
	int (*activation_pending)(struct store *s, int64_t person_id, int64_t now,
				  int *pending);
	int (*activation_take)(struct store *s, int64_t person_id,
			       const char *code_hash, int64_t now);

	int (*login_failure_add)(struct store *s, const char *account,
				 const char *source, int64_t now);
	int (*login_failures)(struct store *s, const char *account,
			      const char *source, int64_t since,
			      int *by_account, int *by_source,
			      int64_t *oldest_account, int64_t *oldest_source);
	int (*login_failures_clear)(struct store *s, const char *account,
				    int64_t before);

	int (*audit_add)(struct store *s, struct audit_event *e);
	int (*audit_each)(struct store *s, int64_t institution_id,
			  int64_t before_id, int limit,
			  int (*cb)(const struct audit_event *e, void *arg),
			  void *arg);
};

struct course;
struct catalog_query;
struct material;
struct unit;
struct upload;

/* Courses, catalog and enrolments: see storage/courses.h. */
struct courses_ops {
	int (*course_add)(struct store *s, struct course *c, const char *search_text);
	int (*course_update)(struct store *s, const struct course *c, const char *search_text);
	int (*course_get)(struct store *s, const char *uid, struct course *out);
	int (*course_get_id)(struct store *s, int64_t id, struct course *out);
	int (*course_get_by_code)(struct store *s, int64_t institution_id, const char *code,
				  struct course *out);
	int (*lecturer_add)(struct store *s, int64_t course_id, int64_t person_id);
	int (*lecturer_remove)(struct store *s, int64_t course_id, int64_t person_id);
	int (*is_lecturer)(struct store *s, int64_t course_id, int64_t person_id, int *yes);
	int (*catalog_each)(struct store *s, const struct catalog_query *q,
			    int (*cb)(const struct course *c, double rank, void *arg), void *arg);
	int (*enrol)(struct store *s, int64_t course_id, int64_t person_id, int64_t now, int *added);
	int (*unenrol)(struct store *s, int64_t course_id, int64_t person_id, int64_t now);
	int (*is_enrolled)(struct store *s, int64_t course_id, int64_t person_id, int *yes);
	int (*enrolment_count)(struct store *s, int64_t course_id, int64_t *n);
	int (*roster_each)(struct store *s, int64_t course_id, int64_t after_id, int limit,
			   int (*cb)(int64_t person_id, const char *uid, const char *full_name,
				     const char *student_code, int64_t enrolled_at, void *arg),
			   void *arg);
	int (*material_add)(struct store *s, struct material *m);
	int (*material_get)(struct store *s, const char *uid, struct material *out);
	int (*material_refs)(struct store *s, const char *sha256, int64_t *n);
	int (*material_delete)(struct store *s, int64_t id);
	int (*institution_usage)(struct store *s, int64_t institution_id, int64_t *bytes);
	int (*unit_add)(struct store *s, struct unit *u);
	int (*unit_update)(struct store *s, const struct unit *u);
	int (*unit_get)(struct store *s, const char *uid, struct unit *out);
	int (*unit_delete)(struct store *s, int64_t id);
	int (*units_each)(struct store *s, int64_t course_id,
			  int (*cb)(const struct unit *u, void *arg), void *arg);
	int (*units_reorder)(struct store *s, int64_t course_id, const int64_t *ids, size_t n);
	int (*upload_add)(struct store *s, struct upload *u);
	int (*upload_get)(struct store *s, const char *uid, struct upload *out);
	int (*upload_advance)(struct store *s, int64_t id, int64_t from, int64_t to, int64_t now);
	int (*upload_delete)(struct store *s, int64_t id);
	int (*uploads_stale)(struct store *s, int64_t before, int limit,
			     int (*cb)(const struct upload *u, void *arg), void *arg);
	int (*my_courses_each)(struct store *s, int64_t person_id, int limit,
			       int (*cb)(const struct course *c, int64_t enrolled_at, void *arg),
			       void *arg);
	int (*teaching_each)(struct store *s, int64_t person_id, int limit,
			     int (*cb)(const struct course *c, void *arg), void *arg);
	int (*upload_finished)(struct store *s, int64_t id, const char *material_uid, int64_t now);
};

/* storage/media_jobs.h, same rules. */
struct media_ops {
	int (*get)(struct store *s, int64_t material_id, struct media_job *out, char **result);
	int (*claim)(struct store *s, const char *node, int64_t now, int64_t lease,
		     struct media_job *out);
	int (*progress)(struct store *s, int64_t material_id, const char *node,
			const char *stage, int percent, int64_t now, int64_t lease);
	int (*finish)(struct store *s, int64_t material_id, const char *node, int ok,
		      const char *error, const char *result, int64_t now);
	int (*requeue)(struct store *s, int64_t material_id, const char *node, int64_t now);
	int (*requeue_node)(struct store *s, const char *node, int64_t now, int *n);
	int (*retry)(struct store *s, int64_t material_id, int64_t now);
	int (*counts)(struct store *s, int64_t *queued, int64_t *running);
	int (*caption_put)(struct store *s, const struct caption *c, char *old_sha);
	int (*caption_delete)(struct store *s, int64_t material_id, const char *lang,
			      char *old_sha);
	int (*captions_each)(struct store *s, int64_t material_id,
			     int (*cb)(const struct caption *c, void *arg), void *arg);
};

/* storage/progress.h: the rows; the read-modify-write transactions are
 * built on these in storage/progress.c. */
struct progress;
struct progress_unit;
struct progress_ops {
	int (*get)(struct store *s, int64_t person_id, int64_t unit_id, struct progress *out);
	int (*put)(struct store *s, const struct progress *p);
	int (*delivery_get)(struct store *s, int64_t person_id, int64_t material_id, char **out);
	int (*delivery_put)(struct store *s, int64_t person_id, int64_t material_id,
			    const char *delivered, int64_t now);
	int (*units_each)(struct store *s, int64_t person_id, int64_t course_id,
			  int (*cb)(const struct progress_unit *u, void *arg), void *arg);
	int (*course_each)(struct store *s, int64_t course_id,
			   int (*cb)(const struct progress *p, void *arg), void *arg);
	int (*units_of_material)(struct store *s, int64_t material_id,
				 int (*cb)(int64_t unit_id, const char *unit_uid,
					   int64_t course_id, void *arg),
				 void *arg);
	int (*report_each)(struct store *s, int64_t course_id, int64_t unit_id, int64_t after_id,
			   int64_t last_id, int (*cb)(const struct progress *p, void *arg),
			   void *arg);
};

/* storage/completion.h, same rules. */
struct completion_ops {
	int (*rules_get)(struct store *s, int64_t course_id, struct completion_rules_rec *out);
	int (*rules_put)(struct store *s, int64_t course_id, const char *rules,
			 int64_t updated_by, int64_t now, int64_t *version);
	int (*record)(struct store *s, const struct completion_rec *c, const char *kind,
		      const char *payload, int *created);
	int (*get)(struct store *s, int64_t course_id, int64_t person_id,
		   struct completion_rec *out);
	int (*each)(struct store *s, int64_t course_id, int64_t after_id, int limit,
		    int (*cb)(const struct completion_rec *c, void *arg), void *arg);
	int (*lecturers)(struct store *s, int64_t course_id, int64_t *ids, int max, int *n);
	int (*outbox_each)(struct store *s, const char *kind, int64_t after_id, int limit,
			   int (*cb)(const struct outbox_event *e, void *arg), void *arg);
	int (*outbox_consume)(struct store *s, int64_t id, int64_t now);
	int (*outbox_add)(struct store *s, const char *kind, int64_t course_id, int64_t person_id,
			  const char *payload, int64_t now, int64_t *id);
	int (*outbox_delete)(struct store *s, int64_t id);
	int (*outbox_prune)(struct store *s, int64_t before, int64_t *after_id, int limit,
			    int *deleted);
};

/* storage/quiz.h, same rules. */
struct quiz_attempt;
struct quiz_ops {
	int (*put)(struct store *s, int64_t unit_id, const char *definition, int64_t updated_by,
		   int64_t now, int64_t *version);
	int (*get)(struct store *s, int64_t unit_id, char **definition, int64_t *version,
		   int64_t *updated_at);
	int (*attempt_start)(struct store *s, struct quiz_attempt *a, int max);
	int (*attempt_get)(struct store *s, const char *uid, struct quiz_attempt *out);
	int (*attempt_open)(struct store *s, int64_t unit_id, int64_t person_id,
			    struct quiz_attempt *out);
	int (*attempt_save)(struct store *s, int64_t id, const char *answers);
	int (*attempt_finish)(struct store *s, int64_t id, const char *state, const char *answers,
			      double score, double max_score, int passed, double pass_percent,
			      const char *scores, int64_t now);
	int (*attempts_each)(struct store *s, int64_t unit_id, int64_t person_id,
			     int (*cb)(const struct quiz_attempt *a, void *arg), void *arg);
	int (*best)(struct store *s, int64_t unit_id, int64_t person_id, double *score,
		    double *max_score, int *attempts);
	int (*course_attempts_each)(struct store *s, int64_t course_id, int64_t after_id, int limit,
				    int (*cb)(const struct quiz_attempt *a, void *arg), void *arg);
};

/* storage/xapi.h, same rules. */
struct lrs_credential;
struct xapi_statement_row;
struct xapi_query;
struct xapi_doc_key;
struct xapi_doc;
struct xapi_ops {
	int (*cred_add)(struct store *s, struct lrs_credential *c, const char *secret_hash);
	int (*cred_by_key)(struct store *s, const char *key, struct lrs_credential *out,
			   char *secret_hash);
	int (*creds_each)(struct store *s, int64_t institution_id,
			  int (*cb)(const struct lrs_credential *c, void *arg), void *arg);
	int (*cred_revoke)(struct store *s, int64_t institution_id, const char *uid, int64_t now);
	int (*statement_add)(struct store *s, const struct xapi_statement_row *r);
	int (*statement_get)(struct store *s, int64_t institution_id, const char *statement_id,
			     char **json, int *voided, int *is_voiding, int64_t *stored_us);
	int (*statements_query)(struct store *s, const struct xapi_query *q,
				int (*cb)(const char *json, int64_t cursor, int64_t stored_us,
					  void *arg), void *arg);
	int (*activity_get)(struct store *s, int64_t institution_id, const char *activity_id,
			    char **json);
	int (*activity_put)(struct store *s, int64_t institution_id, const char *activity_id,
			    const char *json);
	int (*doc_get)(struct store *s, const struct xapi_doc_key *k, struct xapi_doc *out);
	int (*doc_put)(struct store *s, const struct xapi_doc_key *k, const char *content_type,
		       const void *body, size_t len, const char *etag, int64_t now_us);
	int (*doc_delete)(struct store *s, const struct xapi_doc_key *k);
	int (*doc_ids)(struct store *s, const struct xapi_doc_key *k, int64_t since_us,
		       int (*cb)(const char *doc_id, void *arg), void *arg);
	int (*attachment_put)(struct store *s, int64_t institution_id, const char *sha2,
			      const char *content_type, const void *data, size_t len);
	int (*attachment_get)(struct store *s, int64_t institution_id, const char *sha2,
			      char *content_type, size_t ctsize, unsigned char **data,
			      size_t *len);
};

/* storage/credentials.h, same rules. */
struct credential_rec;
struct credential_waiting;
struct credential_ops {
	int (*next_k)(struct store *s, int64_t institution_id, const char *purpose, int64_t *k);
	int (*issue)(struct store *s, struct credential_rec *c, const char *purpose, int64_t k,
		     int64_t event_id);
	int (*get)(struct store *s, const char *uid, struct credential_rec *out);
	int (*each)(struct store *s, int64_t person_id,
		    int (*cb)(const struct credential_rec *c, void *arg), void *arg);
	int (*all_each)(struct store *s,
			int (*cb)(const struct credential_rec *c, void *arg), void *arg);
	int (*status_bit)(struct store *s, int64_t institution_id, const char *purpose,
			  int64_t index, int *bit);
	int (*issue_mode)(struct store *s, int64_t course_id, char out[16]);
	int (*find)(struct store *s, int64_t institution_id, const char *code, int64_t person_id,
		    const char *term, char uid[46]);
	int (*revoke)(struct store *s, int64_t credential_id, const char *purpose, int64_t when,
		      const char *reason);
	int (*status_list)(struct store *s, int64_t institution_id, const char *purpose,
			   unsigned char **bits, size_t *len);
	int (*set_issue_mode)(struct store *s, int64_t course_id, const char *mode);
	int (*waiting_each)(struct store *s, int64_t course_id,
			    int (*cb)(const struct credential_waiting *w, void *arg), void *arg);
	int (*decline)(struct store *s, int64_t event_id, int64_t by, const char *reason,
		       int64_t now);
	int (*key)(struct store *s, unsigned char key[32]);
	int (*status_list_rev)(struct store *s, int64_t institution_id, const char *purpose,
			       int64_t *rev);
};

/* storage/tlog.h, same rules (store_tlog_append and store_tlog_source
 * are built on these in storage/tlog.c). */
struct tlog_checkpoint;
struct tlog_ops {
	int (*size)(struct store *s, uint64_t *size);
	int (*leaf_put)(struct store *s, uint64_t index, const char *entry, const char *subject,
			const unsigned char leaf_hash[32]);
	int (*node_put)(struct store *s, unsigned level, uint64_t index,
			const unsigned char hash[32]);
	int (*leaf_hash)(struct store *s, uint64_t index, unsigned char out[32]);
	int (*node_hash)(struct store *s, unsigned level, uint64_t index, unsigned char out[32]);
	int (*node_count)(struct store *s, uint64_t *count);
	int (*leaves_each)(struct store *s, uint64_t start, uint64_t end,
			   int (*cb)(uint64_t index, const char *entry,
				     const unsigned char leaf_hash[32], void *arg), void *arg);
	int (*find)(struct store *s, const char *subject, uint64_t *index);
	int (*checkpoint_put)(struct store *s, const struct tlog_checkpoint *cp);
	int (*checkpoint_get)(struct store *s, int latest, uint64_t size,
			      struct tlog_checkpoint *out);
	int (*checkpoints_each)(struct store *s,
				int (*cb)(const struct tlog_checkpoint *cp, void *arg), void *arg);
	int (*read_begin)(struct store *s, int *began);
	int (*read_end)(struct store *s);
	int (*data_version)(struct store *s, int64_t *version);
};

/* storage/recognition.h, same rules. */
struct recog_rule_rec;
struct recog_mutual;
struct recognition_ops {
	int (*add)(struct store *s, struct recog_rule_rec *r, char keys[][RECOG_KEY_MAX], int n);
	int (*update)(struct store *s, const struct recog_rule_rec *r, char keys[][RECOG_KEY_MAX],
		      int n);
	int (*get)(struct store *s, int64_t institution_id, int64_t rule_id,
		   struct recog_rule_rec *out);
	int (*each)(struct store *s, int64_t institution_id,
		    int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg);
	int (*versions)(struct store *s, int64_t institution_id, int64_t rule_id,
			int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg);
	int (*candidates)(struct store *s, int64_t institution_id, int64_t source_id,
			  char keys[][RECOG_KEY_MAX], int n,
			  int (*cb)(const struct recog_rule_rec *r, void *arg), void *arg);
	int (*key_by_did)(struct store *s, const char *did, struct inst_key *out);
	int (*field_set)(struct store *s, int64_t course_id, const char *field);
	int (*level_field)(struct store *s, int64_t course_id, char level[RECOG_LEVEL_MAX + 1],
			   char field[RECOG_FIELD_MAX + 1]);
	int (*proposals)(struct store *s, int64_t partner_id,
			 int (*cb)(const struct recog_rule_rec *r, const struct recog_mutual *m,
				   void *arg), void *arg);
	int (*proposal_get)(struct store *s, int64_t partner_id, int64_t rule_id,
			    struct recog_rule_rec *out, struct recog_mutual *m, int *decided);
	int (*mutual_record)(struct store *s, const struct recog_mutual *m);
	int (*rules_stamp)(struct store *s, int64_t *stamp);
};

/* storage/consent.h, same rules. */
struct consent_rec;
struct consent_access;
struct consent_ops {
	int (*append)(struct store *s, struct consent_rec *c, const int64_t *ids, size_t n);
	int (*get)(struct store *s, const char *uid, struct consent_rec *out);
	int (*at)(struct store *s, int64_t person_id, int64_t institution_id, int64_t at,
		  struct consent_rec *out);
	int (*history_each)(struct store *s, const char *uid,
			    int (*cb)(const struct consent_rec *c, void *arg), void *arg);
	int (*credentials_each)(struct store *s, int64_t consent_id,
				int (*cb)(const char *uid, void *arg), void *arg);
	int (*of_person_each)(struct store *s, int64_t person_id,
			      int (*cb)(const struct consent_rec *c, void *arg), void *arg);
	int (*of_institution_each)(struct store *s, int64_t institution_id, int64_t after,
				   int64_t at, int limit,
				   int (*cb)(const struct consent_rec *c, void *arg), void *arg);
	int (*consented_each)(struct store *s, int64_t person_id, int64_t institution_id,
			      int64_t at, struct consent_rec *consent,
			      int (*cb)(const struct credential_rec *c, void *arg), void *arg);
	int (*access_record)(struct store *s, struct consent_access *a);
	int (*accesses_each)(struct store *s, int64_t person_id, int64_t before, int limit,
			     int (*cb)(const struct consent_access *a, void *arg), void *arg);
	int (*consented_then)(struct store *s, int64_t person_id, int64_t institution_id,
			      int64_t at, struct consent_rec *consent,
			      int (*cb)(const struct credential_rec *c, void *arg),
			      int (*then)(const struct consent_rec *c, void *arg), void *arg);
};

/* storage/shares.h, same rules. */
struct share_rec;
struct share_ops {
	int (*create)(struct store *s, struct share_rec *r, int max_live);
	int (*each)(struct store *s, int64_t credential_id,
		    int (*cb)(const struct share_rec *r, void *arg), void *arg);
	int (*withdraw)(struct store *s, int64_t credential_id, const char *uid, int64_t when);
	int (*access)(struct store *s, const char *token_hash, int64_t when,
		      struct share_rec *out);
	int (*print)(struct store *s, int64_t credential_id, struct share_rec *out);
};

struct store_ops {
	const char *name;
	void (*close)(struct store *s);
	int (*ping)(struct store *s);
	int (*schema_version)(struct store *s, int *out);
	int (*size_bytes)(struct store *s, int64_t *out);
	int (*set_busy_timeout)(struct store *s, int ms);
	int (*set_bulk)(struct store *s, int on);
	const struct identity_ops *identity;
	const struct courses_ops *courses;	/* NULL: TC_EUNSUPPORTED */
	const struct media_ops *media;		/* NULL: TC_EUNSUPPORTED */
	const struct progress_ops *progress;	/* NULL: TC_EUNSUPPORTED */
	const struct completion_ops *completion;	/* NULL: TC_EUNSUPPORTED */
	const struct quiz_ops *quiz;		/* NULL: TC_EUNSUPPORTED */
	const struct xapi_ops *xapi;		/* NULL: TC_EUNSUPPORTED */
	const struct credential_ops *credentials;	/* NULL: TC_EUNSUPPORTED */
	const struct tlog_ops *tlog;		/* NULL: TC_EUNSUPPORTED */
	const struct recognition_ops *recognition;	/* NULL: TC_EUNSUPPORTED */
	const struct consent_ops *consents;	/* NULL: TC_EUNSUPPORTED */
	const struct share_ops *shares;		/* NULL: TC_EUNSUPPORTED */
	int (*checkpoint)(struct store *s, int mode, int *log, int *done);
};

struct store {
	const struct store_ops *ops;
};

/* SQLite backend constructor (store_sqlite.c). Same contract as store_open. */
int store_sqlite_open(const char *path, struct store **out);

#endif
