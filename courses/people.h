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

/*
 * Adds or updates P (national_id, full_name and optional fields set by the
 * caller; everything else is filled in) and gives it ROLE at INSTITUTION_ID
 * (0 for operators). When the person has no password yet and CODE is not
 * NULL, a fresh activation code is made (replacing older unused ones) and
 * written to CODE. *CREATED (may be NULL) says whether the person is new.
 * Does not open a transaction: callers wrap it.
 */
int people_enrol(struct store *st, const unsigned char secret[32], int64_t now,
		 struct person *p, enum role role, int64_t institution_id,
		 const char *student_code, char code[ACTIVATION_CODE_LEN + 1], int *created);

struct import_outcome {
	struct import_report report;	/* rows, errors (by row and column) */
	size_t created, updated;	/* people written */
	int applied;			/* 1 when rows were written */
};

/*
 * Imports the learners file FP into INSTITUTION_ID: a first pass validates
 * every row; unless PARTIAL, any error means nothing is written. Then, in
 * one transaction, every valid row is enrolled as a learner, and CODE_CB
 * (may be NULL) receives each row that got an activation code. Re-importing
 * the same people updates them (no duplicates). OUT is initialised here;
 * the caller cleans it with import_report_cleanup(&OUT->report). Returns 0
 * (see OUT for the rows' fate), or TC_EIO / TC_ENOMEM / TC_EDB (nothing
 * written).
 */
int people_import_learners(struct store *st, const unsigned char secret[32], int64_t now,
			   int64_t institution_id, FILE *fp, int partial,
			   int (*code_cb)(const struct learner_row *row, const char *code, void *arg),
			   void *arg, struct import_outcome *out);

/* Today's date (UTC) of NOW as "YYYY-MM-DD". */
void people_today(int64_t now, char out[11]);

#endif
