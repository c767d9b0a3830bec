/*
 * people.h - enrolling people at institutions and the bulk learner import,
 * shared by the HTTP API and the command line. Uses the store through its
 * interface (storage/identity.h); no transport types.
 */
#ifndef TINCHI_PEOPLE_H
#define TINCHI_PEOPLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "courses/identity.h"
#include "courses/learners_csv.h"
#include "storage/identity.h"

#define ACTIVATION_CODE_LEN 11		/* "XXXXX-XXXXX" */
#define ACTIVATION_TTL (14 * 86400)	/* seconds an activation code stays valid */

/* HMAC-SHA-256 under the platform secret of "nid:" + NATIONAL_ID, hex. */
int people_nid_hmac(const unsigned char secret[32], const char *national_id, char out[65]);

/* HMAC of an activation code (normalised: upper case, no '-' or spaces). */
int people_code_hash(const unsigned char secret[32], const char *code, char out[65]);

/* people_enrol flags */
#define ENROL_PRIVILEGED 0x1	/* an operator: may update anyone */
#define ENROL_REISSUE 0x2	/* replace a still-valid activation code */

enum activation_state {
	ACTIVATION_ACTIVE = 1,	/* the person has a password */
	ACTIVATION_ISSUED,	/* a new code was made (in CODE) */
	ACTIVATION_PENDING,	/* an earlier code is still valid; none made */
	ACTIVATION_WITHHELD,	/* the person belongs to another institution too */
};

struct enrol_result {
	int created;			/* the person is new */
	int kept;			/* existing details were left as they were */
	enum activation_state activation;
};

/*
 * Adds or updates P (national_id, full_name and optional fields set by the
 * caller; everything else is filled in) and gives it ROLE at INSTITUTION_ID
 * (0 for operators).
 *
 * A person is one person across the platform, so an institution may only
 * change what it alone has given: when the person already holds a role
 * anywhere else, their details are kept, P is filled from the stored row,
 * and no activation code is made (unless FLAGS has ENROL_PRIVILEGED). When
 * the person has no password and CODE is not NULL, a code is made (written
 * to CODE) unless a valid one is pending and FLAGS lacks ENROL_REISSUE.
 * Does not open a transaction: callers wrap it.
 */
int people_enrol(struct store *st, const unsigned char secret[32], int64_t now,
		 struct person *p, enum role role, int64_t institution_id,
		 const char *student_code, unsigned flags,
		 char code[ACTIVATION_CODE_LEN + 1], struct enrol_result *res);

struct import_outcome {
	struct import_report report;	/* rows, errors (by row and column) */
	size_t created, updated;	/* people written */
	size_t kept;			/* existing people of other institutions, left as they were */
	size_t codes, pending;		/* activation codes made; still-valid ones kept */
	int applied;			/* 1 when rows were written */
};

/*
 * Imports the learners file FP into INSTITUTION_ID: a first pass validates
 * every row; unless PARTIAL, any error means nothing is written. Then every
 * valid row is enrolled as a learner (people_enrol, FLAGS), in transactions
 * of IMPORT_BATCH rows so that other writers are never held up for long,
 * and CODE_CB (may be NULL) receives each row that got an activation code.
 * Re-importing the same people updates them (no duplicates) and keeps
 * their still-valid codes. OUT is initialised here; the caller cleans it
 * with import_report_cleanup(&OUT->report). Returns 0 (see OUT), or
 * TC_EIO / TC_ENOMEM / TC_EDB / TC_EBUSY: then OUT->created + OUT->updated
 * rows (whole batches) were written before the failure, and CODE_CB has
 * seen the codes of exactly those.
 */
#define IMPORT_BATCH 2500
int people_import_learners(struct store *st, const unsigned char secret[32], int64_t now,
			   int64_t institution_id, FILE *fp, int partial, unsigned flags,
			   int (*code_cb)(const struct learner_row *row, const char *code, void *arg),
			   void *arg, struct import_outcome *out);

/* Today's date (UTC) of NOW as "YYYY-MM-DD". */
void people_today(int64_t now, char out[11]);

#endif
