/*
 * issuing.h - the credential issuer: turns 'course.completed' outbox
 * events (storage/completion.h) into signed Open Badges 3.0 credentials
 * (courses/credential.h + courses/dataintegrity.h, eddsa-jcs-2022, signed
 * by the institution's current key in DATA/keys) stored with
 * storage/credentials.h.
 */
#ifndef TINCHI_ISSUING_H
#define TINCHI_ISSUING_H

#include <stdint.h>

struct app;

#define ISSUING_PURPOSE "revocation"

/*
 * Issues a credential for every unconsumed 'course.completed' event whose
 * course issues automatically, oldest first: builds it, assigns the next
 * status list index, signs it (before the transaction), then stores it
 * and marks the event consumed in one transaction. An event whose
 * completion did not pass is consumed without a credential; one of a
 * course set to "approval", or of an institution without a key or with
 * a full status list (issuing_list_full), stays pending (logged). Service thread only (APP's store). *ISSUED (may be
 * NULL) gets how many were issued. 0, or the first storage error
 * (TC_EDB, TC_EBUSY, TC_ENOMEM); a failure of one event is logged and
 * the others go on.
 */
int issuing_run(struct app *app, int *issued);

/*
 * The same for the events after those an earlier run read (APP's
 * issuing_seen): what a new completion calls, so that events left pending
 * (a course set to "approval", a failure that is not fatal) are not read
 * again at every completion. They are read again by issuing_run: at start,
 * and when a course is set back to "auto"; those that failed also by
 * issuing_retry_tick. When no event comes after the
 * mark, all are read (an id reused after the pruner deleted the newest).
 */
int issuing_run_new(struct app *app, int *issued);

/*
 * The retry of events that failed to issue and stay pending (no key yet,
 * a full status list, a failed signature, a storage error): every
 * issuing run notes them in APP->issuing_retry, and this, called from the
 * event loop's tick (server/http.c), reads them again once their wait is
 * over: --issuing-retry-ms after the first failure, then twice as long
 * after each retry that leaves one failing, up to --issuing-retry-max-ms,
 * and back to the first once all went through. Reads the events after the
 * oldest one that failed (not all the pending ones), like issuing_run
 * otherwise; an event that can never be issued is logged at each retry,
 * and stays counted in APP->issuing_retry.failed. Service thread only:
 * never beside another issuing run.
 */
void issuing_retry_tick(struct app *app);

/* For tests only (NULL otherwise): called by issuing_run on its thread
 * just before a batch of N built credentials begins its transaction. */
extern void (*issuing_test_before_commit)(struct app *app, int n);

/*
 * The status list secret of INSTITUTION_ID (64 bytes into OUT): an Ed25519
 * signature, by the institution's first key, of a fixed label, so that it
 * never changes with key rotation and only the key holder can compute it.
 * 0, TC_ENOTFOUND (no key), TC_EIO.
 */
int issuing_perm_secret(struct app *app, int64_t institution_id, unsigned char out[64]);

/*
 * 1 when INSTITUTION_ID's status list is full: STATUSLIST_MAX_BITS
 * credentials were issued (courses/statuslist.h; the list grows by
 * segments of STATUSLIST_SEGMENT_BITS up to that), so no more can be until
 * an operator acts; 0 otherwise (or when it cannot be read).
 */
int issuing_list_full(struct app *app, int64_t institution_id);

/* "7.5", "10", "6.25": the text of a grade in hundredths on 0-10. */
void issuing_grade_text(int x100, char out[16]);

struct course;
struct person;
struct credential_rec;

#define ISSUING_TERM_MAX 63
#define ISSUING_FIELD_MAX 120	/* bytes of a fieldOfStudy */

/*
 * Issues one credential from plain inputs, signed by the current key of
 * COURSE's institution: PERSON completed COURSE with GRADE (text on the
 * institution's scale, 1..15 bytes) in TERM (1..ISSUING_TERM_MAX bytes) at
 * AWARDED_AT (awardedDate). COURSE may be one that is not on tinchi
 * (COURSE->id 0: code, title, description, credits_x10 and institution_id
 * are used). FIELD_OF_STUDY (NULL: none) is the achievement's fieldOfStudy.
 * The status index, the credential row and its transparency log entry
 * commit in one transaction before this returns. Service thread only.
 * On success OUT (may be NULL) gets the stored record (OUT->json the
 * signed JCS text, the caller frees it). 0, TC_EINVALID, TC_ECONFLICT (the
 * institution has no signing key), TC_ETOOBIG (its status list is full:
 * issuing_list_full), TC_EDB, TC_ENOMEM, TC_EIO.
 */
int issuing_issue(struct app *app, const struct course *course, const struct person *person,
		  const char *grade, const char *term, int64_t awarded_at,
		  const char *field_of_study, struct credential_rec *out);

/* One credential to issue: issuing_issue's inputs. */
struct issuing_request {
	const struct course *course;
	const struct person *person;
	const char *grade, *term;
	int64_t awarded_at;
	const char *field_of_study;	/* NULL: none */
};

/*
 * Issues the N credentials of REQ, each as issuing_issue would (the same
 * checks, the same results), but in batches: up to 256 signed on two
 * threads and committed in one transaction with their log entries; when a
 * batch's commit fails, its credentials are issued one by one. RCS[i]
 * gets request i's result (0, or issuing_issue's codes); OUT (may be NULL)
 * the records of those issued (OUT[i].json the text, the caller frees it;
 * zeroed for the others). 0, or the first fatal storage error (TC_EDB,
 * TC_EBUSY, TC_ENOMEM), after which the requests not yet tried have
 * RCS[i] = TC_EDB. On the thread that owns APP->store (the import runs it on
 * the bulk worker with a copy of the app holding a connection of its own).
 */
int issuing_issue_many(struct app *app, const struct issuing_request *req, size_t n, int *rcs,
		       struct credential_rec *out);

struct outbox_event;

/*
 * Issues the credential of EVENT (kind "course.completed", a passed
 * completion: waiting, or declined, see store_credential_decline) whatever
 * its course's credential_issue, as issuing_run would: the credential, its
 * transparency log entry and the event consumed in one transaction. OUT as
 * in issuing_issue. 0, TC_EINVALID (not such an event, or not passed),
 * TC_ECONFLICT (the institution has no signing key), TC_ENOTFOUND (the
 * event was consumed meanwhile, or its course or learner is gone), TC_EDB,
 * TC_ENOMEM, TC_EIO.
 */
int issuing_approve(struct app *app, const struct outbox_event *event,
		    struct credential_rec *out);

#endif
