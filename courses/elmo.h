/*
 * elmo.h - an EMREX ELMO (https://github.com/emrex-eu/elmo-schemas, v1)
 * transcript of a learner's Open Badges 3.0 credentials, as XML.
 *
 * Mapping (only what maps; see README "Learner consent"):
 *   learner: identifier type="nationalIdentifier" (the national ID),
 *     familyName = the first word of the full name, givenNames = the rest
 *     (Vietnamese order; a one-word name is both), bday when known.
 *     citizenship is left out (not recorded).
 *   report (one per issuing institution): issuer with country VN,
 *     identifier type="local" (the tinchi code) and type="schac" (the host
 *     of its website, when it has one), title xml:lang="vi" (its name),
 *     url (its website, else its tinchi page); issueDate = generatedDate.
 *   learningOpportunitySpecification (one per credential): identifier
 *     type="local" = achievement.humanCode, title = achievement.name, type
 *     Course, description = achievement.description; its
 *     learningOpportunityInstance: identifier type="credential" = the
 *     credential id, start (and academicTerm with title, start, end) when
 *     the term is "YYYY-MM-DD/YYYY-MM-DD", date = the day of validFrom,
 *     status passed, gradingSchemeLocalId "0-10", resultLabel = the result
 *     value, credit scheme "local" (Vietnamese tín chỉ, not ECTS: no
 *     conversion is made) with creditsEarned.
 * Everything is escaped; characters XML 1.0 cannot hold are dropped.
 */
#ifndef TINCHI_ELMO_H
#define TINCHI_ELMO_H

#include <jansson.h>

#include "courses/dynbuf.h"

struct elmo_learner {
	const char *national_id;
	const char *full_name;
	const char *date_of_birth;	/* "YYYY-MM-DD" or "" / NULL */
};

struct elmo_issuer {
	const char *code;
	const char *name;
	const char *website;		/* "" / NULL when none */
	const char *page;		/* used as url when there is no website */
};

/* Opens the document into OUT: the XML declaration, <elmo>, generatedDate
 * GENERATED (RFC 3339) and the learner. 0 or TC_ENOMEM / TC_EINVALID. */
int elmo_begin(struct dynbuf *out, const struct elmo_learner *l, const char *generated);

/* One report of ISSUER with CREDENTIALS (a JSON array of credentials it
 * issued), issued at GENERATED. */
int elmo_report(struct dynbuf *out, const struct elmo_issuer *issuer, json_t *credentials,
		const char *generated);

/* Closes the document. */
int elmo_end(struct dynbuf *out);

/* Appends TEXT escaped for XML content or attribute values. */
int elmo_escape(struct dynbuf *out, const char *text);

#endif
