/*
 * completion_test.c - tests for courses/completion.c: parsing and every
 * validation error of the rules, the canonical JSON round trip, and the
 * evaluation (required and optional units, minimum scores, default and
 * weighted grades, rounding edges for each step, letters, evidence).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/completion.h"
#include "courses/errors.h"
#include "tests/tap.h"

#define U1 "11111111-1111-4111-8111-111111111111"
#define U2 "22222222-2222-4222-8222-222222222222"
#define U3 "33333333-3333-4333-8333-333333333333"
#define U4 "44444444-4444-4444-8444-444444444444"

static struct completion_rules *R;
static char err[COMPLETION_ERR_MAX];

static int
parse(const char *json)
{
	err[0] = '\0';
	return completion_rules_parse(json, strlen(json), R, err, sizeof(err));
}

/* Parsing JSON fails, and the message starts with FIELD. */
static void
refused(const char *json, const char *field, const char *name)
{
	int rc = parse(json);

	if (!ok(rc == TC_EINVALID && strncmp(err, field, strlen(field)) == 0, name))
		printf("#   rc %d, error: %s\n", rc, err);
}

static struct completion_unit_state
unit(const char *uid, const char *kind, int required, int completed)
{
	struct completion_unit_state u;

	memset(&u, 0, sizeof(u));
	snprintf(u.uid, sizeof(u.uid), "%s", uid);
	snprintf(u.kind, sizeof(u.kind), "%s", kind);
	snprintf(u.title, sizeof(u.title), "T-%.4s", uid);
	u.required = required;
	u.completed = completed;
	u.completed_at = completed ? 1700000000 : 0;
	return u;
}

static struct completion_unit_state
quiz(const char *uid, int required, int passed, int64_t score, int64_t max)
{
	struct completion_unit_state u = unit(uid, "quiz", required, passed);

	u.best_score = score;
	u.best_max = max;
	u.attempts = max ? 2 : 0;
	if (max)
		snprintf(u.attempt_uid, sizeof(u.attempt_uid), "%s", "aaaaaaaa-0000-4000-8000-000000000001");
	return u;
}

/* Grade in hundredths of one quiz scoring SCORE / MAX under RULES_JSON. */
static int
grade_of(const char *rules_json, int64_t score, int64_t max)
{
	struct completion_unit_state u = quiz(U1, 1, 1, score, max);
	struct completion_result res;
	int g;

	if (parse(rules_json))
		return -1;
	if (completion_evaluate(R, &u, 1, &res))
		return -2;
	g = res.grade_x100;
	completion_result_cleanup(&res);
	return g;
}

static int
has_reason(const struct completion_result *res, const char *text)
{
	for (int i = 0; i < res->nreasons; i++)
		if (strcmp(res->reasons[i], text) == 0)
			return 1;
	return 0;
}

static void
test_defaults(void)
{
	char *j = NULL;

	is_int(parse("{}"), 0, "{} parses");
	is_int(R->video_threshold, 90, "default video threshold 90");
	is_int(R->pass_mark_x100, 500, "default pass mark 5.0");
	is_int(R->step_x100, 10, "default rounding 0.1");
	ok(R->nmin == 0 && R->nweights == 0 && R->nletters == 0, "no scores, weights, letters");
	is_int(completion_rules_json(R, &j), 0, "canonical JSON");
	is_str(j, "{\"video_threshold\":90,\"min_scores\":{},\"weights\":{},\"pass_mark\":5.0,"
	       "\"letters\":[],\"rounding\":0.1}", "the defaults in full");
	free(j);
}

static void
test_parse_full(void)
{
	const char *full = "{\"video_threshold\": 95, \"min_scores\": {\"" U1 "\": 60, \"" U2
		"\": 72.5}, \"weights\": {\"" U1 "\": 0.3, \"" U3 "\": 0.7}, \"pass_mark\": 4.95,"
		" \"letters\": [{\"min\": 8.5, \"letter\": \"A\"}, {\"min\": 7, \"letter\": \"B+\"},"
		" {\"min\": 0, \"letter\": \"F\"}], \"rounding\": 0.25}";
	struct completion_rules *back = calloc(1, sizeof(*back));
	char *j = NULL, *j2 = NULL;

	is_int(parse(full), 0, "full rules parse");
	is_int(R->video_threshold, 95, "threshold 95");
	is_int((int)R->nmin, 2, "two minimum scores");
	is_str(R->min_scores[1].unit_uid, U2, "second minimum's unit");
	is_int(R->min_scores[1].min_x10, 725, "72.5% kept in tenths");
	is_int((int)R->nweights, 2, "two weights");
	is_int(R->weights[0].w_micro, 300000, "0.3 is 300000 millionths, exactly");
	is_int(R->weights[1].w_micro, 700000, "0.7 is 700000 millionths");
	is_int(R->pass_mark_x100, 495, "pass mark 4.95 is 495 hundredths, exactly");
	is_int(R->nletters, 3, "three letters");
	is_str(R->letters[1].letter, "B+", "letter B+");
	is_int(R->letters[1].min_x100, 700, "min 7");
	is_int(R->step_x100, 25, "rounding 0.25");
	is_int(completion_rules_json(R, &j), 0, "to canonical JSON");
	is_int(completion_rules_parse(j, strlen(j), back, err, sizeof(err)), 0,
	       "canonical JSON parses back");
	ok(memcmp(back, R, sizeof(*R)) == 0, "to the very same rules");
	is_int(completion_rules_json(back, &j2), 0, "and prints the same");
	is_str(j2, j, "canonical JSON is stable");
	ok(j && strstr(j, "\"pass_mark\":4.95") && strstr(j, "0.3") && strstr(j, "\"rounding\":0.25"),
	   "decimals print short (4.95, 0.3, 0.25)");
	free(j);
	free(j2);
	free(back);
	is_int(parse("{\"video_threshold\": 50.0, \"pass_mark\": 10, \"rounding\": 0.5}"), 0,
	       "50.0 as a whole number, pass mark 10, rounding 0.5");
	is_int(parse("{\"pass_mark\": 0, \"letters\": []}"), 0, "pass mark 0, empty letters");
	is_int(parse("{\"weights\": {\"" U1 "\": 1000}, \"min_scores\": {\"" U1 "\": 0}}"), 0,
	       "weight 1000, minimum 0%");
	is_int(parse("{\"weights\": {\"" U1 "\": 0.000001}}"), 0, "weight 0.000001");
}

static void
test_parse_errors(void)
{
	char many[20000], *p = many;

	refused("", "rules", "empty text");
	refused("[1]", "rules", "not an object");
	refused("{\"pass_mark\": 5,}", "rules", "bad JSON");
	refused("{\"pass_mark\": 5, \"pass_mark\": 6}", "rules", "duplicate key");
	refused("{\"passmark\": 5}", "passmark", "unknown field named");
	refused("{\"video_threshold\": null}", "video_threshold", "null value");
	refused("{\"video_threshold\": 49}", "video_threshold", "threshold 49");
	refused("{\"video_threshold\": 101}", "video_threshold", "threshold 101");
	refused("{\"video_threshold\": 90.5}", "video_threshold", "threshold 90.5");
	refused("{\"video_threshold\": \"90\"}", "video_threshold", "threshold as text");
	refused("{\"pass_mark\": -0.1}", "pass_mark", "pass mark below 0");
	refused("{\"pass_mark\": 10.01}", "pass_mark", "pass mark above 10");
	refused("{\"pass_mark\": 4.955}", "pass_mark", "pass mark with 3 decimals");
	refused("{\"pass_mark\": true}", "pass_mark", "pass mark true");
	refused("{\"rounding\": 0.2}", "rounding", "rounding 0.2");
	refused("{\"rounding\": 1}", "rounding", "rounding 1");
	refused("{\"rounding\": 0}", "rounding", "rounding 0");
	refused("{\"min_scores\": []}", "min_scores", "min_scores not an object");
	refused("{\"min_scores\": {\"abc\": 50}}", "min_scores.abc", "min_scores key not a uid");
	refused("{\"min_scores\": {\"" U1 "\": 101}}", "min_scores." U1, "min score 101");
	refused("{\"min_scores\": {\"" U1 "\": -1}}", "min_scores." U1, "min score -1");
	refused("{\"min_scores\": {\"" U1 "\": 60.25}}", "min_scores." U1, "min score 60.25");
	refused("{\"min_scores\": {\"" U1 "\": \"60\"}}", "min_scores." U1, "min score text");
	refused("{\"weights\": 1}", "weights", "weights not an object");
	refused("{\"weights\": {\"" U1 "\": 0}}", "weights." U1, "weight 0");
	refused("{\"weights\": {\"" U1 "\": -0.5}}", "weights." U1, "weight negative");
	refused("{\"weights\": {\"" U1 "\": 1000.5}}", "weights." U1, "weight above 1000");
	refused("{\"weights\": {\"" U1 "\": 0.0000001}}", "weights." U1, "weight with 7 decimals");
	refused("{\"weights\": {\"11111111-1111-4111-8111-11111111111G\": 1}}", "weights.",
		"weights key not hex");
	refused("{\"weights\": {\"11111111-1111-4111-8111-1111111111111\": 1}}", "weights.",
		"weights key too long");
	refused("{\"weights\": {\"11111111X1111-4111-8111-111111111111\": 1}}", "weights.",
		"weights key without its dash");
	refused("{\"weights\": {\"11111111-1111-4111-8111-11111111111A\": 1}}", "weights.",
		"weights key in upper case");
	refused("{\"letters\": {}}", "letters", "letters not an array");
	refused("{\"letters\": [1]}", "letters[0]", "letter row not an object");
	refused("{\"letters\": [{\"min\": 5}]}", "letters[0]", "letter row without letter");
	refused("{\"letters\": [{\"min\": 5, \"letter\": \"A\", \"x\": 1}]}", "letters[0]",
		"letter row with an extra member");
	refused("{\"letters\": [{\"min\": 11, \"letter\": \"A\"}]}", "letters[0].min", "letter min 11");
	refused("{\"letters\": [{\"min\": 8.555, \"letter\": \"A\"}]}", "letters[0].min",
		"letter min 3 decimals");
	refused("{\"letters\": [{\"min\": 8, \"letter\": \"\"}]}", "letters[0].letter", "empty letter");
	refused("{\"letters\": [{\"min\": 8, \"letter\": \"ABCDEFGH\"}]}", "letters[0].letter",
		"letter of 8 characters");
	refused("{\"letters\": [{\"min\": 8, \"letter\": \"A B\"}]}", "letters[0].letter",
		"letter with a space");
	refused("{\"letters\": [{\"min\": 8, \"letter\": \"\\u00c2\"}]}", "letters[0].letter",
		"letter not ASCII");
	refused("{\"letters\": [{\"min\": 8, \"letter\": 1}]}", "letters[0].letter", "letter a number");
	refused("{\"letters\": [{\"min\": 8, \"letter\": \"A\"}, {\"min\": 8, \"letter\": \"B\"}]}",
		"letters[1].min", "equal mins");
	refused("{\"letters\": [{\"min\": 7, \"letter\": \"A\"}, {\"min\": 8, \"letter\": \"B\"}]}",
		"letters[1].min", "increasing mins");
	p += snprintf(p, 40, "{\"letters\": [");
	for (int i = 0; i < 17; i++)
		p += snprintf(p, 64, "%s{\"min\": %d, \"letter\": \"L%d\"}", i ? "," : "", 9 - i / 2,
			      i);
	snprintf(p, 8, "]}");
	refused(many, "letters", "17 letter rows");
	p = many;
	p += snprintf(p, 40, "{\"weights\": {");
	for (int i = 0; i < COMPLETION_ITEMS_MAX + 1; i++)
		p += snprintf(p, 64, "%s\"%08x-1111-4111-8111-111111111111\": 1", i ? "," : "", i);
	snprintf(p, 8, "}}");
	refused(many, "weights", "257 weights");
	memmove(many + 16, many + 13, strlen(many + 13) + 1);
	memcpy(many, "{\"min_scores\": {", 16);
	refused(many, "min_scores", "257 minimum scores");
	is_int(completion_rules_parse(NULL, 0, R, err, sizeof(err)), TC_EINVALID, "NULL text");
}

static void
test_rounding(void)
{
	/* one quiz, default mean: the grade is its percentage / 10 */
	is_int(grade_of("{}", 99, 200), 500, "49.5% -> 4.95 -> 5.0 (0.1 step, half up)");
	is_int(grade_of("{}", 989, 2000), 490, "49.45% -> 4.945 -> 4.9");
	is_int(grade_of("{}", 4949, 10000), 490, "49.49% -> 4.949 -> 4.9");
	is_int(grade_of("{}", 4950, 10000), 500, "49.50% -> 4.950 -> 5.0");
	is_int(grade_of("{}", 1, 3), 330, "1/3 -> 3.3");
	is_int(grade_of("{}", 2, 3), 670, "2/3 -> 6.7");
	is_int(grade_of("{}", 0, 7), 0, "0 -> 0.0");
	is_int(grade_of("{}", 7, 7), 1000, "full -> 10.0");
	is_int(grade_of("{\"rounding\": 0.5}", 725, 1000), 750, "7.25 -> 7.5 (0.5 step, half up)");
	is_int(grade_of("{\"rounding\": 0.5}", 724, 1000), 700, "7.24 -> 7.0 (0.5 step)");
	is_int(grade_of("{\"rounding\": 0.5}", 775, 1000), 800, "7.75 -> 8.0 (0.5 step)");
	is_int(grade_of("{\"rounding\": 0.5}", 9749, 10000), 950, "9.749 -> 9.5 (0.5 step)");
	is_int(grade_of("{\"rounding\": 0.25}", 7125, 10000), 725, "7.125 -> 7.25 (0.25 step)");
	is_int(grade_of("{\"rounding\": 0.25}", 7124, 10000), 700, "7.124 -> 7.0 (0.25 step)");
	is_int(grade_of("{\"rounding\": 0.25}", 7375, 10000), 750, "7.375 -> 7.5 (0.25 step)");
	is_int(grade_of("{\"rounding\": 0.25}", 99, 200), 500, "4.95 -> 5.0 (0.25 step)");
}

static void
test_evaluate(void)
{
	struct completion_unit_state u[5];
	struct completion_result res;
	json_t *ev;

	/* no quiz at all, all required done: 10.0 */
	parse("{}");
	u[0] = unit(U1, "video", 1, 1);
	u[1] = unit(U2, "text", 1, 1);
	u[2] = unit(U3, "document", 0, 0);
	is_int(completion_evaluate(R, u, 3, &res), 0, "evaluate: no quiz");
	ok(res.met && res.passed, "met, passed (the optional document does not block)");
	is_int(res.grade_x100, 1000, "no quiz: 10.0");
	is_int(res.percent_x10, 1000, "no quiz: 100.0%");
	is_int(res.nreasons, 0, "no reasons");
	ok(res.evidence != NULL, "evidence made");
	ev = json_loads(res.evidence, 0, NULL);
	ok(ev && json_array_size(json_object_get(ev, "units")) == 3, "evidence lists the 3 units");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(ev, "units"), 0),
						 "completed_at")), "2023-11-14T22:13:20Z",
	       "evidence: completed_at in UTC");
	ok(json_is_null(json_object_get(json_array_get(json_object_get(ev, "units"), 2),
					"completed_at")), "evidence: not completed -> null");
	is_str(json_string_value(json_object_get(ev, "grade")), "10.0", "evidence: grade 10.0");
	json_decref(ev);
	completion_result_cleanup(&res);
	completion_result_cleanup(&res);	/* twice is safe */
	completion_result_cleanup(NULL);

	/* a required unit missing */
	u[1].completed = 0;
	is_int(completion_evaluate(R, u, 3, &res), 0, "evaluate: text not done");
	ok(!res.met, "not met");
	ok(has_reason(&res, "unit \"T-2222\" is not completed"), "reason names the unit");
	is_int(res.nreasons, 1, "one reason");
	ok(res.passed, "the grade alone would pass (no quiz)");
	completion_result_cleanup(&res);

	/* default grade: mean of required quizzes; optional quiz ignored */
	u[0] = unit(U1, "video", 1, 1);
	u[1] = quiz(U2, 1, 1, 8, 10);
	u[2] = quiz(U3, 1, 1, 7, 10);
	u[3] = quiz(U4, 0, 0, 0, 10);
	is_int(completion_evaluate(R, u, 4, &res), 0, "evaluate: two required quizzes");
	is_int(res.grade_x100, 750, "mean of 80% and 70% -> 7.5");
	is_int(res.percent_x10, 750, "75.0%");
	ok(res.met, "met: the optional quiz at 0 neither blocks nor counts");
	completion_result_cleanup(&res);

	/* a required quiz not passed, and below pass mark */
	u[1] = quiz(U2, 1, 0, 3, 10);
	u[2] = quiz(U3, 1, 0, 0, 0);
	is_int(completion_evaluate(R, u, 4, &res), 0, "evaluate: failing");
	ok(!res.met && !res.passed, "not met, not passed");
	ok(has_reason(&res, "quiz \"T-2222\" is not passed yet"), "reason: quiz not passed");
	ok(has_reason(&res, "quiz \"T-3333\" is not passed yet"), "reason: unattempted quiz");
	ok(has_reason(&res, "grade 1.5 < pass mark 5.0"), "reason: grade 1.5 < pass mark 5.0");
	is_int(res.grade_x100, 150, "mean of 30% and nothing -> 1.5");
	ev = json_loads(res.evidence, 0, NULL);
	ok(ev && json_array_size(json_object_get(ev, "attempts")) == 2,
	   "evidence: only attempted quizzes are attempts");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(ev, "attempts"), 0),
						 "attempt")), "aaaaaaaa-0000-4000-8000-000000000001",
	       "evidence: the attempt uid");
	json_decref(ev);
	completion_result_cleanup(&res);

	/* minimum scores */
	parse("{\"min_scores\": {\"" U2 "\": 60, \"" U3 "\": 50, \"" U4 "\": 90},"
	      " \"pass_mark\": 0}");
	u[1] = quiz(U2, 1, 1, 5996, 10000);	/* 59.96%: below 60 */
	u[2] = quiz(U3, 1, 1, 1, 2);		/* 50% exactly: enough */
	u[3] = quiz(U4, 0, 0, 0, 0);		/* optional, but named: needed */
	is_int(completion_evaluate(R, u, 4, &res), 0, "evaluate: minimum scores");
	ok(!res.met, "not met");
	ok(has_reason(&res, "quiz \"T-2222\": 59.9% < 60%"), "59.96% reads 59.9% < 60% (truncated)");
	ok(has_reason(&res, "quiz \"T-4444\": no attempt yet (90% needed)"),
	   "a named optional quiz without attempt is a reason");
	is_int(res.nreasons, 2, "50% of 50% is enough: two reasons only");
	completion_result_cleanup(&res);
	u[1] = quiz(U2, 1, 1, 6, 10);
	u[3] = quiz(U4, 0, 1, 45, 50);
	is_int(completion_evaluate(R, u, 4, &res), 0, "evaluate: minimums reached");
	ok(res.met, "met at exactly 60% and 90%");
	completion_result_cleanup(&res);
	parse("{\"min_scores\": {\"" U2 "\": 72.5}, \"pass_mark\": 0}");
	u[1] = quiz(U2, 1, 1, 29, 40);		/* 72.5% */
	is_int(completion_evaluate(R, u, 4, &res), 0, "evaluate: 72.5%");
	ok(res.met, "72.5% meets 72.5%");
	completion_result_cleanup(&res);
	u[1] = quiz(U2, 1, 1, 289, 400);	/* 72.25% */
	completion_evaluate(R, u, 4, &res);
	ok(has_reason(&res, "quiz \"T-2222\": 72.2% < 72.5%"), "72.25% < 72.5%");
	completion_result_cleanup(&res);

	/* weights: quiz 0.3 at 50%, video 0.7 completed -> 85% -> 8.5 */
	parse("{\"weights\": {\"" U2 "\": 0.3, \"" U1 "\": 0.7}, \"letters\": [{\"min\": 8.5,"
	      " \"letter\": \"A\"}, {\"min\": 7, \"letter\": \"B\"}, {\"min\": 5, \"letter\": \"D\"}]}");
	u[0] = unit(U1, "video", 1, 1);
	u[1] = quiz(U2, 1, 1, 5, 10);
	u[2] = quiz(U3, 1, 1, 0, 10);		/* not weighted: does not count */
	is_int(completion_evaluate(R, u, 3, &res), 0, "evaluate: weights");
	is_int(res.grade_x100, 850, "0.3 x 50% + 0.7 x 100% = 8.5");
	is_int(res.percent_x10, 850, "85.0%");
	is_str(res.letter, "A", "8.5 is an A (min inclusive)");
	ok(res.met, "met");
	completion_result_cleanup(&res);
	u[0].completed = 0;
	u[0].required = 0;
	is_int(completion_evaluate(R, u, 3, &res), 0, "evaluate: weighted optional video not done");
	is_int(res.grade_x100, 150, "an optional unit named in weights counts 0 when not done");
	is_str(res.letter, "", "1.5: below every letter");
	ok(has_reason(&res, "grade 1.5 < pass mark 5.0"), "and fails");
	completion_result_cleanup(&res);
	/* normalised: weights 1 and 3 are 0.25 and 0.75 */
	parse("{\"weights\": {\"" U2 "\": 1, \"" U3 "\": 3, \"" U4 "\": 2}, \"letters\":"
	      " [{\"min\": 7, \"letter\": \"B\"}]}");
	u[1] = quiz(U2, 1, 1, 10, 10);
	u[2] = quiz(U3, 1, 1, 6, 10);
	is_int(completion_evaluate(R, u, 3, &res), 0, "evaluate: weights normalised");
	is_int(res.grade_x100, 700, "(1 x 100% + 3 x 60%) / 4 = 7.0; the deleted unit U4 ignored");
	is_str(res.letter, "B", "7.0 is a B");
	completion_result_cleanup(&res);
	/* thirds: 1/3 weight each */
	parse("{\"weights\": {\"" U1 "\": 1, \"" U2 "\": 1, \"" U3 "\": 1}}");
	u[0] = unit(U1, "video", 1, 1);
	u[1] = quiz(U2, 1, 1, 0, 10);
	u[2] = quiz(U3, 1, 1, 1, 2);
	completion_evaluate(R, u, 3, &res);
	is_int(res.grade_x100, 500, "(100% + 0% + 50%) / 3 = 5.0");
	is_int(res.percent_x10, 500, "50.0%");
	completion_result_cleanup(&res);

	/* many reasons are capped */
	{
		struct completion_unit_state *many = calloc(30, sizeof(*many));

		parse("{}");
		for (int i = 0; i < 30; i++) {
			snprintf(many[i].uid, sizeof(many[i].uid), "%08d-0000-4000-8000-000000000000", i);
			snprintf(many[i].kind, sizeof(many[i].kind), "text");
			many[i].required = 1;
		}
		is_int(completion_evaluate(R, many, 30, &res), 0, "evaluate: 30 units not done");
		is_int(res.nreasons, COMPLETION_REASONS_MAX, "reasons capped");
		is_int(res.more_reasons, 30 - COMPLETION_REASONS_MAX, "the rest counted");
		ok(has_reason(&res, "unit \"00000000-0000-4000-8000-000000000000\" is not completed"),
		   "a unit without title is named by its uid");
		ok(!res.met, "not met");
		completion_result_cleanup(&res);
		free(many);
	}

	/* bad input */
	u[1] = quiz(U2, 1, 1, 11, 10);
	is_int(completion_evaluate(R, u, 3, &res), TC_EINVALID, "score above max refused");
	ok(res.evidence == NULL, "nothing allocated on refusal");
	u[1] = quiz(U2, 1, 1, -1, 10);
	is_int(completion_evaluate(R, u, 3, &res), TC_EINVALID, "negative score refused");
	u[1] = quiz(U2, 1, 1, 1, 10);
	u[1].uid[0] = '\0';
	is_int(completion_evaluate(R, u, 3, &res), TC_EINVALID, "empty uid refused");
	is_int(completion_evaluate(R, NULL, 0, &res), 0, "no units at all: fine");
	ok(res.met && res.grade_x100 == 1000, "an empty course is met with 10.0");
	completion_result_cleanup(&res);
	is_int(completion_evaluate(NULL, u, 1, &res), TC_EINVALID, "NULL rules");
}

static void
test_format(void)
{
	char g[8];

	completion_grade_format(750, 10, g);
	is_str(g, "7.5", "7.5 at 0.1");
	completion_grade_format(1000, 10, g);
	is_str(g, "10.0", "10.0");
	completion_grade_format(0, 50, g);
	is_str(g, "0.0", "0.0 at 0.5");
	completion_grade_format(725, 25, g);
	is_str(g, "7.25", "7.25 at 0.25");
	completion_grade_format(700, 25, g);
	is_str(g, "7.00", "7.00 at 0.25");
}

int
main(void)
{
	R = calloc(1, sizeof(*R));
	test_defaults();
	test_parse_full();
	test_parse_errors();
	test_rounding();
	test_evaluate();
	test_format();
	free(R);
	return done_testing();
}
