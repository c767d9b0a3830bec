/*
 * completion.h - a course's completion rules and the evaluation of one
 * learner against them (pure domain: no storage, no transport).
 *
 * Rules are a JSON object (every member optional):
 *   {"video_threshold": 90,              % of a video to watch, 50..100
 *    "min_scores": {"<quiz unit uid>": 60, ...},   minimum % (0..100, tenths)
 *    "weights": {"<unit uid>": 0.3, ...},  > 0 and <= 1000, at most 6
 *                                          decimals, normalised by their sum
 *    "pass_mark": 5.0,                     0..10, at most 2 decimals
 *    "letters": [{"min": 8.5, "letter": "A"}, ...],  <= 16 rows, strictly
 *                                          decreasing mins (0..10)
 *    "rounding": 0.1}                      0.1, 0.25 or 0.5
 * Which units are required is not part of the rules: it is each unit's own
 * "required" flag. That the uids name units of the course (and min_scores
 * quiz units) is checked by the caller, who knows the course.
 *
 * Grades are on Vietnam's 0-10 scale. Everything is computed in integers
 * (no binary fraction decides a pass): a grade is held in hundredths (750 =
 * 7.5; hundredths because a 0.25 step makes 7.25), a percentage in tenths.
 * Rounding to the step is half up.
 */
#ifndef TINCHI_COMPLETION_H
#define TINCHI_COMPLETION_H

#include <stddef.h>
#include <stdint.h>

#define COMPLETION_ITEMS_MAX 256	/* entries of min_scores, of weights */
#define COMPLETION_LETTERS_MAX 16
#define COMPLETION_LETTER_MAX 7		/* bytes of one letter ("B+") */
#define COMPLETION_TITLE_MAX 200
#define COMPLETION_REASONS_MAX 20
#define COMPLETION_REASON_MAX 320
#define COMPLETION_ERR_MAX 200		/* room a parse error message needs */

struct completion_min_score {
	char unit_uid[37];
	int min_x10;			/* percent in tenths: 600 = 60% */
};

struct completion_weight {
	char unit_uid[37];
	int64_t w_micro;		/* millionths: 300000 = 0.3 */
};

struct completion_letter {
	int min_x100;			/* grade in hundredths */
	char letter[COMPLETION_LETTER_MAX + 1];
};

struct completion_rules {
	int video_threshold;		/* percent, 50..100 */
	int pass_mark_x100;		/* 0..1000 */
	int step_x100;			/* 10, 25 or 50 */
	size_t nmin, nweights;
	int nletters;
	struct completion_min_score min_scores[COMPLETION_ITEMS_MAX];
	struct completion_weight weights[COMPLETION_ITEMS_MAX];
	struct completion_letter letters[COMPLETION_LETTERS_MAX];
};

/* The rules of a course that never set any: threshold 90, pass mark 5.0,
 * step 0.1, no minimum scores, no weights, no letters. */
void completion_rules_default(struct completion_rules *r);

/*
 * Parses and validates TEXT (LEN bytes of JSON) into *OUT (the caller's
 * memory; about 25 KiB, so not on a small stack). Returns 0, or TC_EINVALID
 * with ERR (ERRSIZE bytes, COMPLETION_ERR_MAX is enough) naming the field
 * and what is wrong ("weights.<uid>: must be a number above 0 ..."); *OUT
 * is then unspecified. Unknown members, duplicate keys and null values are
 * refused.
 */
int completion_rules_parse(const char *text, size_t len, struct completion_rules *out,
			   char *err, size_t errsize);

/*
 * The canonical JSON of R with every member present (defaults filled in),
 * which completion_rules_parse reads back to the same rules: *OUT is
 * allocated (free()). 0 or TC_ENOMEM (*OUT NULL).
 */
int completion_rules_json(const struct completion_rules *r, char **out);

/* A grade in hundredths as text for step STEP_X100: one decimal for 0.1
 * and 0.5 ("7.5", "10.0"), two for 0.25 ("7.25"). */
void completion_grade_format(int grade_x100, int step_x100, char out[8]);

/* ---- evaluation --------------------------------------------------------- */

/*
 * One unit of the course with one learner's state in it; the caller builds
 * these from the units (uid, kind, title, required) and the learner's
 * progress and quiz attempts.
 */
struct completion_unit_state {
	char uid[37];
	char kind[16];			/* video, document, text, quiz */
	char title[COMPLETION_TITLE_MAX + 1];	/* for reasons; may be "" */
	int required;
	/* Done: for a video, document or text unit as progress decides it
	 * (for videos with the rules' video_threshold); for a quiz, it has a
	 * passing attempt (by the quiz's own pass percentage). */
	int completed;
	int64_t completed_at;		/* unix seconds; 0 when not completed */
	/* quizzes: the best attempt in thousandths of a point (best_max 0:
	 * none yet); COMPLETED: an attempt passed */
	int64_t best_score, best_max;	/* 0 <= best_score <= best_max */
	int attempts;
	char attempt_uid[37];		/* the best attempt; "" when none */
};

struct completion_result {
	int met;			/* every rule met: record the completion */
	int passed;			/* grade >= pass mark */
	int grade_x100;			/* rounded to the rules' step */
	int percent_x10;		/* the weighted score, 0..1000, half up */
	char letter[COMPLETION_LETTER_MAX + 1];	/* "" when no row applies */
	int nreasons;			/* why not met (0 when met) */
	int more_reasons;		/* reasons beyond COMPLETION_REASONS_MAX */
	char reasons[COMPLETION_REASONS_MAX][COMPLETION_REASON_MAX];
	char *evidence;			/* JSON text, owned: completion_result_cleanup */
};

/*
 * Evaluates a learner's UNITS (N of them, the whole course) against RULES
 * into *OUT:
 *   - every required unit must be completed ("unit \"T\" is not completed");
 *   - every quiz named in min_scores must have a best attempt at or above
 *     its minimum ("quiz \"T\": 45% < 60%", or "no attempt yet");
 *   - the grade must reach the pass mark ("grade 4.2 < pass mark 5.0").
 * Grade: with weights, the weighted mean of the named units' scores (a
 * quiz: best score / max, 0 without an attempt; any other unit: 100% when
 * completed, else 0); without weights, the mean of the required quiz units'
 * best percentages, or 100% when the course has no required quiz. Optional
 * units count only where weights name them. Rules naming a unit that is not
 * in UNITS (deleted since) are ignored. The evidence JSON lists each unit
 * ({"uid","kind","required","completed","completed_at"}), each attempted
 * quiz ({"unit","attempt","score","max","attempts"}), the grade, percent,
 * letter and pass mark.
 * Returns 0, TC_EINVALID (a unit with an empty uid, a negative score or one
 * above its max) or TC_ENOMEM; OUT is zeroed first, so cleanup is always safe.
 */
int completion_evaluate(const struct completion_rules *rules,
			const struct completion_unit_state *units, size_t n,
			struct completion_result *out);

/* Frees what OUT owns (the evidence). Accepts NULL and zeroed results. */
void completion_result_cleanup(struct completion_result *out);

#endif
