/*
 * quiz.h - quizzes as a pure domain: a quiz definition (settings and
 * questions) in JSON, its validation, the random draw of one attempt's
 * paper, and grading. No storage and no transport here.
 *
 * A definition (README.md, "Quizzes", has the full JSON):
 *   {"settings": {"draw": 0 | N | [{"bank": "A", "draw": 3}, ...],
 *                 "shuffle_questions": bool, "shuffle_options": bool,
 *                 "attempts": N (0 unlimited), "time_limit": seconds (0 none),
 *                 "pass_percent": 0..100,
 *                 "show_answers": "after_each" | "after_passing" | "after_last" | "never",
 *                 "retry_wait": seconds (0 none)},
 *    "questions": [{"id", "kind", "text", "points", "bank", ...kind fields}]}
 * Kinds: single, multiple, truefalse, numeric, text.
 *
 * A paper is what one attempt got: {"pass_percent": P, "questions": [...]}
 * with the drawn questions in drawn order, each a full snapshot of its
 * question (answers included) and, for choice questions, the options in
 * drawn order each with a random opaque "id". Grading reads only the
 * paper, so editing the quiz later never changes an old attempt.
 *
 * Answers are a JSON object {question id: answer}: single: an option id;
 * multiple: an array of option ids; truefalse: true/false; numeric: a
 * number; text: a string. null or a missing id: not answered.
 *
 * JSON values are jansson's; ownership as in jansson (new references are
 * the caller's). Errors: TC_EINVALID (with the reason in WHY, which names
 * the field, "questions[3].options: at least 2"; indexes count from 0),
 * TC_ENOMEM, TC_EIO (the CSPRNG failed).
 */
#ifndef TINCHI_QUIZ_H
#define TINCHI_QUIZ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define QUIZ_QUESTIONS_MAX 500
#define QUIZ_OPTIONS_MIN 2
#define QUIZ_OPTIONS_MAX 10
#define QUIZ_TEXT_MAX 4000		/* bytes of a question's text */
#define QUIZ_OPTION_TEXT_MAX 1000	/* bytes of an option's text */
#define QUIZ_ACCEPTED_MAX 20		/* accepted answers of a text question */
#define QUIZ_ANSWER_MAX 1000		/* bytes of a text answer, given or accepted */
#define QUIZ_ID_MAX 64			/* question ids and bank names */
#define QUIZ_POINTS_MAX 1000
#define QUIZ_ATTEMPTS_MAX 1000
#define QUIZ_TIME_LIMIT_MAX (7 * 86400)
#define QUIZ_GRACE_SECONDS 2		/* latency allowance after a deadline */
#define QUIZ_RETRY_WAIT_MAX (7 * 86400)

/* When a learner's graded attempts show the correct answers (editors always
 * see them): after each graded attempt (the default); once the learner has
 * passed; once passed or with no attempts left; never. */
enum quiz_show { QUIZ_SHOW_EACH, QUIZ_SHOW_PASSING, QUIZ_SHOW_LAST, QUIZ_SHOW_NEVER };

struct quiz_settings {
	int attempts;			/* 0: unlimited */
	int64_t time_limit;		/* seconds; 0: none */
	double pass_percent;
	int shuffle_questions, shuffle_options;
	enum quiz_show show_answers;
	int64_t retry_wait;		/* seconds from a graded attempt to the next start */
	int per_attempt;		/* questions on one paper */
	int questions;			/* questions in the definition */
};

/* "after_each", "after_passing", "after_last" or "never". */
const char *quiz_show_name(enum quiz_show s);

/* Whether a learner with GRADED graded attempts, PASSED non-zero when one
 * of them passed, sees the correct answers of their attempts under S. */
int quiz_answers_shown(const struct quiz_settings *s, int graded, int passed);

/*
 * Validates definition IN and on success sets *OUT to its normalised form
 * (a new object: defaults filled in, question ids "q1".."qN" by position
 * where absent, unknown fields refused). On TC_EINVALID, WHY (WHYSIZE
 * bytes) says what is wrong and *OUT is NULL.
 */
int quiz_validate(const json_t *in, json_t **out, char *why, size_t whysize);

/* The settings of a validated definition. */
void quiz_settings_get(const json_t *def, struct quiz_settings *out);

/* Draws a new paper from a validated definition DEF (randomness from the
 * CSPRNG): *PAPER is a new object. */
int quiz_draw(const json_t *def, json_t **paper);

/* What a learner may see of PAPER: questions in order with id, kind, text,
 * points, scoring (multiple) and options [{id, text}]; never the correct
 * options, answers, tolerances or accepted texts. New array, NULL: no memory. */
json_t *quiz_paper_public(const json_t *paper);

/* Number of questions on PAPER. */
size_t quiz_paper_size(const json_t *paper);

/* Checks ANSWERS (any JSON) against PAPER: an object whose keys are
 * question ids of the paper and whose values fit the question's kind
 * (option ids of that question, finite numbers, text of at most
 * QUIZ_ANSWER_MAX bytes of UTF-8), or null. TC_EINVALID with WHY. */
int quiz_answers_check(const json_t *paper, const json_t *answers, char *why, size_t whysize);

/*
 * A grade, computed in whole thousandths of a point (question points are
 * validated to thousandths; partial credit rounds down to one), so it is
 * exact: SCORE and MAX are SCORE_MILLI and MAX_MILLI / 1000 (0.8, never
 * 0.7999999999999999). PASSED: score / max >= the paper's pass_percent,
 * compared exactly in integers (the pass mark counts to hundredths of a
 * percent); PASS_PERCENT is the mark used.
 */
struct quiz_grade {
	double score, max;
	int64_t score_milli, max_milli;
	double pass_percent;
	int passed;
};

/*
 * Grades checked ANSWERS (NULL: none) on PAPER. *DETAIL (may be NULL) gets
 * a new array, per question in paper order: {id, kind, answer (given or
 * null), correct (bool), points, max, correct_answer}; *SCORES (may be
 * NULL) the compact form kept with the attempt: [{id, points, max}].
 */
int quiz_grade(const json_t *paper, const json_t *answers, struct quiz_grade *g,
	       json_t **detail, json_t **scores);

enum quiz_match {
	QUIZ_MATCH_EXACT,		/* NFC, trimmed */
	QUIZ_MATCH_NORMALISED,		/* + case, white space, tone placement in oa/oe/uy */
	QUIZ_MATCH_FOLDED,		/* + diacritics ignored (courses/fold.h) */
};

/*
 * The form of the N bytes of UTF-8 at IN that MODE compares, into OUT
 * (OUTSIZE bytes, NUL-terminated). EXACT: Unicode NFC (composition of the
 * Latin letters, Vietnamese included), leading and trailing white space
 * removed; U+0340/U+0341 read as grave/acute; zero-width spaces (U+200B)
 * and soft hyphens (U+00AD) ignored in every mode. NORMALISED: also lower
 * case, white space runs as one space, and a tone mark (grave, acute,
 * tilde, hook above, dot below) on a vowel of the pairs oa, oe, uy taken
 * off the vowel and kept for the word, so the old and new Vietnamese
 * placements are equal ("hoà" = "hòa", "thuý" = "thúy") while "ma" and
 * "má", or "pápa" and "papá", are not. FOLDED: fold_text and white space
 * collapsed.
 * Returns the length, or TC_EINVALID (not UTF-8), TC_ETOOBIG (OUT too
 * small), TC_ENOMEM.
 */
long quiz_text_form(const char *in, size_t n, enum quiz_match mode, char *out, size_t outsize);

/* 1 when GIVEN matches ACCEPTED under MODE, else 0 (also on bad input). */
int quiz_text_match(const char *given, const char *accepted, enum quiz_match mode);

#endif
