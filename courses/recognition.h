/*
 * recognition.h - credit recognition rules and the decision engine
 * (issue 8). Pure domain: no storage, no HTTP.
 *
 * A rule belongs to the recognising institution B. It says: credentials
 * from SOURCE (one registered institution, or any registered one) for a
 * course that MATCHes (one course code, a set of codes, or every course at
 * a level and/or in an ISCED-F 2013 field) count at B as TARGET (one of B's
 * courses, with its title and credits, or N elective credits in a field),
 * when the grade reaches a minimum (on the source's 0-10 scale, or on
 * another scale through a conversion table) and the credential was issued
 * within a window. A rule has a status (proposed, active, expired) and an
 * optional expiry date; every change is a new version of the same rule id.
 *
 * Rules travel as JSON (the API body, and the stored form of each version):
 *   {"source": "VNU" | "*",
 *    "match": {"course": "INT1001"} | {"courses": ["A", "B", ...]}
 *             | {"level": "undergraduate-1"?, "field": "0613"?},
 *    "target": {"course": "IT101", "title"?, "credits"?}
 *             | {"elective_credits": 3, "field": "06"?},
 *    "min_grade": 5 (0..10, at most two decimals; optional),
 *    "grade_conversion": {"scale": "4-point", "bands": [{"min": 8.5,
 *             "grade": "A"}, ...], "min": "C"} (optional),
 *    "issued_from": "YYYY-MM-DD"?, "issued_until": "YYYY-MM-DD"?,
 *    "mutual": false, "status": "proposed" | "active" | "expired",
 *    "expires_on": "YYYY-MM-DD"?}
 * The target course's title and credits are filled in by the caller from
 * B's course (recognition_rule_json writes them). Dates are UTC days:
 * issued_from and issued_until are inclusive; a rule with expires_on is in
 * force before that day begins.
 *
 * Which rule decides (recognition_decide): among the rules that match the
 * credential and are in force (status active, not past expires_on), the
 * most specific one whose window and grade conditions hold wins. Specific
 * means, in order: a single code > a set of codes > level and field > field
 * alone (a longer ISCED-F code is more specific) > level alone; then a
 * named source > any source; then the newest version (created_at), then the
 * lowest rule id. When no rule recognises the credential, the reason is
 * the one of the most specific matching rule (grade below the minimum,
 * issued outside the window, ...), or "expired" / "not active" when only
 * such rules matched, or "no rule".
 */
#ifndef TINCHI_RECOGNITION_H
#define TINCHI_RECOGNITION_H

#include <stddef.h>
#include <stdint.h>

#include "courses/course.h"

#define RECOG_CODES_MAX 50		/* codes in a "courses" set */
#define RECOG_BANDS_MAX 20		/* grade conversion bands */
#define RECOG_LABEL_MAX 8		/* a converted grade: "A", "B+", "3.5" */
#define RECOG_SCALE_MAX 32
#define RECOG_FIELD_MAX 4		/* ISCED-F 2013: "06", "061", "0613" */
#define RECOG_LEVEL_MAX 63
#define RECOG_ERR_MAX 200
#define RECOG_KEYS_MAX (RECOG_CODES_MAX)	/* index keys of one rule */
#define RECOG_KEY_MAX 80			/* bytes of one index key */
#define RECOG_LOOKUP_KEYS 8			/* index keys of one credential */

enum recog_match { RECOG_MATCH_CODE = 1, RECOG_MATCH_SET, RECOG_MATCH_LEVEL_FIELD };
enum recog_target { RECOG_TARGET_COURSE = 1, RECOG_TARGET_ELECTIVE };
enum recog_status { RECOG_PROPOSED = 1, RECOG_ACTIVE, RECOG_EXPIRED };

struct recog_band {
	int min_x100;			/* lowest source grade (0..1000) of the band */
	char grade[RECOG_LABEL_MAX + 1];
};

struct recog_rule {
	int64_t id;			/* 0 until stored */
	int version;			/* 1, 2, ... */
	int64_t created_at;		/* when this version was made */
	char source[32];		/* institution code, "*" for any registered */
	int64_t source_id;		/* its id (0 for "*"), filled by the caller */
	enum recog_match match;
	char codes[RECOG_CODES_MAX][COURSE_CODE_MAX + 1];
	int ncodes;			/* 1 for RECOG_MATCH_CODE */
	char level[RECOG_LEVEL_MAX + 1];	/* RECOG_MATCH_LEVEL_FIELD: either or both */
	char field[RECOG_FIELD_MAX + 1];
	enum recog_target target;
	char target_code[COURSE_CODE_MAX + 1];	/* RECOG_TARGET_COURSE */
	char target_title[COURSE_TITLE_MAX + 1];
	int credits_x10;		/* the target course's, or the elective credits */
	char target_field[RECOG_FIELD_MAX + 1];	/* RECOG_TARGET_ELECTIVE, optional */
	int min_grade_x100;		/* -1: none */
	char scale[RECOG_SCALE_MAX + 1];	/* "" when there is no conversion */
	struct recog_band bands[RECOG_BANDS_MAX];	/* by min_x100, highest first */
	int nbands;
	char min_converted[RECOG_LABEL_MAX + 1];	/* a band's grade, or "" */
	char issued_from[11], issued_until[11];	/* "" when open */
	int mutual;
	enum recog_status status;
	char expires_on[11];		/* "" when none */
};

/* What the decision needs to know about one credential (gathered by the
 * caller: the credential, its verification, the registry). */
struct recog_facts {
	int verified;			/* 1: signature, log and key checks held */
	int revoked;
	int64_t issuer_id;		/* the issuing institution; 0: not registered */
	int key_valid;			/* 1: the signing key was valid when it signed */
	char course_code[COURSE_CODE_MAX + 1];
	char level[RECOG_LEVEL_MAX + 1];
	char field[RECOG_FIELD_MAX + 1];
	int credits_x10;		/* credits earned */
	int grade_x100;			/* 0..1000; -1 when the credential has none */
	int64_t issued_at;		/* Unix time */
};

enum recog_reason {
	RECOG_RECOGNISED = 0,
	RECOG_NOT_VERIFIED,		/* the credential did not verify */
	RECOG_REVOKED,
	RECOG_UNREGISTERED_ISSUER,
	RECOG_KEY_NOT_VALID,		/* signed by a key outside its validity */
	RECOG_NO_RULE,
	RECOG_RULE_NOT_ACTIVE,		/* only proposed rules matched */
	RECOG_RULE_EXPIRED,		/* only expired rules matched */
	RECOG_OUTSIDE_WINDOW,		/* issued outside the rule's dates */
	RECOG_GRADE_MISSING,
	RECOG_GRADE_BELOW_MINIMUM,
	RECOG_ALREADY_RECOGNISED,	/* its target course counted for another */
};

struct recog_decision {
	enum recog_reason reason;
	const struct recog_rule *rule;	/* borrowed from the candidates: the
					 * winner, or the rule the reason is
					 * about; NULL when none */
	int credits_x10;		/* recognised credits (0 unless recognised) */
	char converted[RECOG_LABEL_MAX + 1];	/* the grade on the rule's scale */
	char detail[RECOG_ERR_MAX];	/* one line for people */
};

/* Stable lower-case names ("recognised", "grade below minimum", ...). */
const char *recognition_reason_name(enum recog_reason r);
const char *recognition_status_name(enum recog_status s);
int recognition_status_parse(const char *s, enum recog_status *out);

/* An ISCED-F 2013 field code: 2 (broad), 3 (narrow) or 4 (detailed)
 * digits whose broad field is 00..10 or 99. 0 or TC_EINVALID. */
int recognition_field_check(const char *s);

/* "8", "8.5", "7.25": 0..10 with at most two decimals, into hundredths.
 * 0 or TC_EINVALID. */
int recognition_grade_parse(const char *s, int *x100);

/* Days since 1970-01-01 of a valid "YYYY-MM-DD" (identity.h date_check
 * rules without the upper bound) into *DAYS; 0 or TC_EINVALID. */
int recognition_date_days(const char *s, int64_t *days);

/*
 * Parses and validates a rule from JSON TEXT (LEN bytes) into *OUT (about
 * 3 KiB): every field above; unknown members, duplicates and nulls are
 * refused. id, version, created_at, source_id, target_title and, for a
 * target course, credits_x10 are left for the caller (title and credits
 * are read when present, so a stored version parses back whole). On
 * TC_EINVALID, ERR names the path and the fault ("match.courses[2]: not a
 * course code"): the path, then ": ", then the fault.
 */
int recognition_rule_parse(const char *text, size_t len, struct recog_rule *out,
			   char *err, size_t errsize);

/* The JSON of R in the format above, every member written; *OUT allocated
 * (free()). 0 or TC_ENOMEM. */
int recognition_rule_json(const struct recog_rule *r, char **out);

/*
 * The index keys under which storage files R so that the candidates of a
 * credential are found by point lookups: "c:" + code for each code, or
 * "lf:" + level + ":" + field. KEYS receives at most RECOG_KEYS_MAX keys;
 * *N their count.
 */
void recognition_rule_keys(const struct recog_rule *r,
			   char keys[RECOG_KEYS_MAX][RECOG_KEY_MAX], int *n);

/*
 * The keys to look up for a credential of course CODE at LEVEL in FIELD
 * (either may be ""): "c:" + code, and "lf:" + level-or-"" + ":" +
 * each prefix of FIELD (2, 3, 4 digits) or "", except "lf::" itself. At
 * most RECOG_LOOKUP_KEYS; *N their count. Every rule that can match such a
 * credential has one of these keys.
 */
void recognition_lookup_keys(const char *code, const char *level, const char *field,
			     char keys[RECOG_LOOKUP_KEYS][RECOG_KEY_MAX], int *n);

/* 1 when R's source and match cover F (status and dates not considered). */
int recognition_rule_matches(const struct recog_rule *r, const struct recog_facts *f);

/*
 * Decides how the credential F is recognised under RULES (N candidates,
 * the current version of each; order does not matter) at time NOW: the
 * credential checks first (verified, not revoked, registered issuer, key
 * valid when it signed), then the rules as described at the top. Always
 * fills *OUT; returns 0 (TC_EINVALID for NULL arguments).
 */
int recognition_decide(const struct recog_facts *f, const struct recog_rule *rules, size_t n,
		       int64_t now, struct recog_decision *out);

/* "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (UTC) as Unix seconds; 0 or
 * TC_EINVALID. */
int recognition_time_parse(const char *s, int64_t *out);

/*
 * Reads from a signed OpenBadgeCredential (JSON TEXT, LEN bytes, as tinchi
 * issues it) what the decision and the trust check need: the issuer's DID
 * (issuer.id, or issuer when it is a string) into DID (DIDSIZE bytes), the
 * signing time (the first proof's created, else validFrom) into
 * *SIGNED_AT, and into F: course_code (credentialSubject.achievement.
 * humanCode), credits_x10 (creditsEarned, else the achievement's
 * creditsAvailable; 0 when neither), grade_x100 (the first result's value
 * when it is a grade on 0..10, else -1) and issued_at (validFrom). Other
 * members of F are left alone. 0, or TC_EINVALID when the text is not such
 * a credential (no issuer, validFrom or humanCode); F is then unspecified.
 */
int recognition_facts_from_credential(const char *text, size_t len, struct recog_facts *f,
				      char *did, size_t didsize, int64_t *signed_at);

/* ---- the trust list ------------------------------------------------------ */

/*
 * Mutual agreements. A rule marked mutual offers its source institution the
 * same recognition the other way, which that institution's admins accept
 * (recording the reverse as their own rule) or decline. Only a rule with a
 * named source whose reverse is determined may be mutual: one course ->
 * one course (reversed: the recogniser's course -> the source's course),
 * or courses at a level and/or in a field -> elective credits (reversed:
 * the recogniser's courses at that level/field -> as many elective
 * credits). recognition_mutual_check: 0, or TC_EINVALID with the reason in
 * ERR (ERRSIZE bytes).
 */
int recognition_mutual_check(const struct recog_rule *r, char *err, size_t errsize);

/*
 * The reverse of mutual rule R made by the institution PARTNER (its code):
 * source PARTNER, match and target swapped as above; min_grade, the issue
 * window and expires_on kept (both sides grade on the 0-10 scale); a grade
 * conversion dropped (its bands belong to one direction); mutual, active.
 * The target course's title and credits are the caller's to fill (they are
 * the recogniser's course). 0, or TC_EINVALID as recognition_mutual_check.
 */
int recognition_rule_reverse(const struct recog_rule *r, const char *partner,
			     struct recog_rule *out, char *err, size_t errsize);

/* One key of a registered institution, as the registry publishes it. */
struct recog_key {
	const char *did;
	int64_t valid_from;
	int64_t valid_until;		/* 0: the current key */
};

/*
 * Whether DID, signing at SIGNED_AT, counts under the published KEYS (N)
 * of the issuer: RECOG_RECOGNISED when one key is DID and valid_from <=
 * SIGNED_AT < valid_until (or it is current), RECOG_KEY_NOT_VALID when DID
 * is a key of the issuer but signed outside its validity (after its
 * rotation, or before it existed), RECOG_UNREGISTERED_ISSUER when DID is
 * none of them (N 0 included).
 */
enum recog_reason recognition_key_check(const struct recog_key *keys, size_t n, const char *did,
					int64_t signed_at);

/* One credential's decision among a learner's (recognition_settle_repeats). */
struct recog_counted {
	const char *uid;		/* the credential's */
	const struct recog_facts *facts;
	struct recog_decision *decision;
};

/*
 * A target course counts once per learner: among the N decisions of V
 * that recognise a credential as the same target course (a retake in
 * another term, two source courses mapped to one target), the one with
 * the best grade counts (no grade is the lowest; ties: the newest
 * issued_at, then the smallest uid), and each other becomes
 * RECOG_ALREADY_RECOGNISED with no credits, its rule kept and its detail
 * naming the course and the credential that counted. Elective credits add
 * up (a rule's "N elective credits" is per credential matched).
 */
void recognition_settle_repeats(struct recog_counted *v, size_t n);

#endif
