/*
 * learners_csv.h - the learner import file: header row
 *   national_id,full_name,date_of_birth,email,student_code
 * (columns in any order; national_id and full_name required, the others
 * optional columns and optional values; unknown columns are an error), then
 * one learner per row. Every row is validated (courses/identity.h rules);
 * errors are reported by row and column. A national ID appearing twice in
 * one file is an error on the later row.
 */
#ifndef TINCHI_LEARNERS_CSV_H
#define TINCHI_LEARNERS_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "courses/identity.h"

struct learner_row {
	size_t row;			/* data row number, 1-based (header excluded) */
	size_t line;			/* line in the file where it starts */
	char national_id[NATIONAL_ID_LEN + 1];
	char full_name[PERSON_NAME_MAX + 1];
	char date_of_birth[11];		/* "" when not given */
	char email[EMAIL_MAX + 1];	/* "" when not given */
	char student_code[STUDENT_CODE_MAX + 1];
};

struct import_error {
	size_t row;			/* 0: the file as a whole (e.g. the header) */
	size_t line;
	char column[32];		/* "" when not about one column */
	char message[160];
};

struct import_report {
	size_t rows;			/* data rows read */
	size_t valid;			/* rows without errors */
	size_t nerrors;			/* errors found (may exceed what is kept) */
	struct import_error *errors;	/* owned; the first max_errors of them */
	size_t kept, max_errors;
	int fatal;			/* the file itself is unusable (no or bad header,
					 * empty, not CSV): no row can be imported */
};

void import_report_init(struct import_report *rep, size_t max_errors);
void import_report_cleanup(struct import_report *rep);

/*
 * Reads the learners file FP from its current position to the end,
 * validating every row (TODAY "YYYY-MM-DD" bounds dates of birth). For each
 * valid row, calls CB (when not NULL); a non-zero CB result stops the read
 * and is returned. Fills REP. Returns 0 when the file was read to the end
 * (whatever errors it contains: see REP), TC_EIO or TC_ENOMEM.
 *
 * Typical use: a first pass with CB = NULL to validate, then, when
 * REP->nerrors == 0 (or partial imports are asked for and !REP->fatal),
 * rewind and a second pass with a CB that writes the rows. Duplicate
 * national IDs are detected within one pass.
 */
int learners_csv_read(FILE *fp, const char *today, struct import_report *rep,
		      int (*cb)(const struct learner_row *row, void *arg), void *arg);

#endif
