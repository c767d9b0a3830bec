/*
 * quiz_test.c - tests for courses/quiz.h: validation (every error names
 * its field), the text forms (NFC from NFD input, Vietnamese tone
 * placement, case, white space, diacritics folded on request), random
 * draws from banks, the learner's view of a paper, answer checks and the
 * grading of every question kind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/quiz.h"
#include "tests/tap.h"

static json_t *
js(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		printf("# bad JSON in the test: %s: %s\n", e.text, text);
	return v;
}

/* Validates TEXT; the reason (or "") into WHY. */
static int
validate(const char *text, json_t **out, char *why, size_t n)
{
	json_t *in = js(text);
	int rc = quiz_validate(in, out, why, n);

	json_decref(in);
	return rc;
}

static void
refused(const char *def, const char *reason, const char *name)
{
	char why[256] = "";
	json_t *out = NULL;
	int rc = validate(def, &out, why, sizeof(why));

	ok(rc == TC_EINVALID && out == NULL && strstr(why, reason) != NULL, name);
	if (rc != TC_EINVALID || !strstr(why, reason))
		printf("#   got rc %d, why '%s'; wanted '%s'\n", rc, why, reason);
	json_decref(out);
}

#define Q1 "{\"kind\":\"truefalse\",\"text\":\"x\",\"answer\":true}"
#define OPTS "[{\"text\":\"a\",\"correct\":true},{\"text\":\"b\"}]"

static void
test_validation(void)
{
	char why[256];
	json_t *out = NULL;

	refused("[]", "the quiz: an object", "a list is not a quiz");
	refused("{}", "questions: a list", "no questions");
	refused("{\"questions\":[]}", "questions: a list of 1", "an empty list of questions");
	refused("{\"questions\":[" Q1 "],\"extra\":1}", "extra: unknown field", "an unknown top field");
	refused("{\"questions\":[1]}", "questions[0]: an object", "a question that is a number");
	refused("{\"questions\":[" Q1 ",{\"kind\":\"essay\",\"text\":\"x\"}]}",
		"questions[1].kind: single, multiple", "an unknown kind");
	refused("{\"questions\":[{\"kind\":\"single\",\"text\":\"x\",\"options\":[{\"text\":\"a\","
		"\"correct\":true}]}]}", "questions[0].options: at least 2", "one option");
	refused("{\"questions\":[" Q1 "," Q1 "," Q1 ",{\"kind\":\"single\",\"text\":\"x\",\"options\":"
		"[{\"text\":\"a\",\"correct\":true}]}]}", "questions[3].options: at least 2",
		"the index of the question is named");
	refused("{\"questions\":[{\"kind\":\"single\",\"text\":\"x\",\"options\":[{\"text\":\"1\"},"
		"{\"text\":\"2\"},{\"text\":\"3\"},{\"text\":\"4\"},{\"text\":\"5\"},{\"text\":\"6\"},"
		"{\"text\":\"7\"},{\"text\":\"8\"},{\"text\":\"9\"},{\"text\":\"10\"},{\"text\":\"11\","
		"\"correct\":true}]}]}", "questions[0].options: at most 10", "eleven options");
	refused("{\"questions\":[{\"kind\":\"single\",\"text\":\"x\",\"options\":[{\"text\":\"a\"},"
		"{\"text\":\"b\"}]}]}", "questions[0].options: exactly one must be correct",
		"single with no correct option");
	refused("{\"questions\":[{\"kind\":\"single\",\"text\":\"x\",\"options\":[{\"text\":\"a\","
		"\"correct\":true},{\"text\":\"b\",\"correct\":true}]}]}", "exactly one must be correct",
		"single with two correct options");
	refused("{\"questions\":[{\"kind\":\"multiple\",\"text\":\"x\",\"options\":[{\"text\":\"a\"},"
		"{\"text\":\"b\"}]}]}", "questions[0].options: at least one must be correct",
		"multiple with no correct option");
	refused("{\"questions\":[{\"kind\":\"multiple\",\"text\":\"x\",\"scoring\":\"some\",\"options\":"
		OPTS "}]}", "questions[0].scoring", "an unknown scoring");
	refused("{\"questions\":[{\"kind\":\"single\",\"text\":\"x\",\"options\":[{\"text\":\"a\","
		"\"correct\":true},{\"text\":\"\"}]}]}", "questions[0].options[1].text",
		"an empty option text");
	refused("{\"questions\":[{\"kind\":\"single\",\"text\":\"x\",\"options\":[{\"text\":\"a\","
		"\"correct\":true},{\"text\":\"a\"}]}]}", "questions[0].options[1].text: the same",
		"two options with the same text");
	refused("{\"questions\":[{\"kind\":\"single\",\"text\":\"x\",\"options\":[{\"text\":\"a\","
		"\"correct\":1},{\"text\":\"b\"}]}]}", "questions[0].options[0].correct: true or false",
		"correct that is not a boolean");
	refused("{\"questions\":[{\"kind\":\"single\",\"text\":\"x\",\"options\":[{\"text\":\"a\","
		"\"right\":true},{\"text\":\"b\"}]}]}", "questions[0].options[0].right: unknown field",
		"an unknown option field");
	refused("{\"questions\":[{\"kind\":\"truefalse\",\"text\":\"x\"}]}",
		"questions[0].answer: true or false", "truefalse without an answer");
	refused("{\"questions\":[{\"kind\":\"truefalse\",\"text\":\"x\",\"answer\":true,\"options\":"
		OPTS "}]}", "questions[0].options: not a field of a truefalse question",
		"options on a truefalse question");
	refused("{\"questions\":[{\"kind\":\"numeric\",\"text\":\"x\",\"answer\":\"3\"}]}",
		"questions[0].answer: a number", "a numeric answer as text");
	refused("{\"questions\":[{\"kind\":\"numeric\",\"text\":\"x\",\"answer\":3,\"tolerance\":-1}]}",
		"questions[0].tolerance: a number from 0", "a negative tolerance");
	refused("{\"questions\":[{\"kind\":\"text\",\"text\":\"x\"}]}", "questions[0].accepted",
		"text without accepted answers");
	refused("{\"questions\":[{\"kind\":\"text\",\"text\":\"x\",\"accepted\":[]}]}",
		"questions[0].accepted", "an empty accepted list");
	refused("{\"questions\":[{\"kind\":\"text\",\"text\":\"x\",\"accepted\":[\"  \"]}]}",
		"questions[0].accepted[0]: only white space", "a blank accepted answer");
	refused("{\"questions\":[{\"kind\":\"text\",\"text\":\"x\",\"accepted\":[\"a\",3]}]}",
		"questions[0].accepted[1]", "an accepted answer that is a number");
	refused("{\"questions\":[{\"kind\":\"text\",\"text\":\"x\",\"accepted\":[\"a\"],\"match\":"
		"\"fuzzy\"}]}", "questions[0].match", "an unknown match");
	refused("{\"questions\":[{\"kind\":\"text\",\"text\":\"x\",\"accepted\":[\"a\"],"
		"\"ignore_diacritics\":\"yes\"}]}", "questions[0].ignore_diacritics",
		"ignore_diacritics as text");
	refused("{\"questions\":[{\"kind\":\"truefalse\",\"text\":\"\",\"answer\":true}]}",
		"questions[0].text", "an empty question text");
	refused("{\"questions\":[{\"kind\":\"truefalse\",\"text\":\"x\",\"answer\":true,\"points\":0}]}",
		"questions[0].points: at least 0.001", "zero points");
	refused("{\"questions\":[{\"kind\":\"truefalse\",\"text\":\"x\",\"answer\":true,\"points\":"
		"1001}]}", "questions[0].points", "too many points");
	refused("{\"questions\":[{\"id\":\"a b\",\"kind\":\"truefalse\",\"text\":\"x\",\"answer\":"
		"true}]}", "questions[0].id", "an id with a space");
	refused("{\"questions\":[{\"id\":\"a\",\"kind\":\"truefalse\",\"text\":\"x\",\"answer\":true},"
		"{\"id\":\"a\",\"kind\":\"truefalse\",\"text\":\"y\",\"answer\":true}]}",
		"questions[1].id: \"a\" is used", "two questions with one id");
	refused("{\"questions\":[{\"kind\":\"truefalse\",\"text\":\"x\",\"answer\":true,\"bank\":\"\"}]}",
		"questions[0].bank", "an empty bank name");
	refused("{\"settings\":[],\"questions\":[" Q1 "]}", "settings: an object", "settings as a list");
	refused("{\"settings\":{\"timelimit\":3},\"questions\":[" Q1 "]}",
		"settings.timelimit: unknown field", "a misspelt setting");
	refused("{\"settings\":{\"attempts\":-1},\"questions\":[" Q1 "]}", "settings.attempts",
		"negative attempts");
	refused("{\"settings\":{\"time_limit\":1.5},\"questions\":[" Q1 "]}", "settings.time_limit",
		"a fractional time limit");
	refused("{\"settings\":{\"pass_percent\":101},\"questions\":[" Q1 "]}",
		"settings.pass_percent", "a pass mark over 100");
	refused("{\"settings\":{\"shuffle_options\":1},\"questions\":[" Q1 "]}",
		"settings.shuffle_options: true or false", "shuffle as a number");
	refused("{\"settings\":{\"draw\":2},\"questions\":[" Q1 "]}", "settings.draw: from 0 (all) to 1",
		"drawing more than there are");
	refused("{\"settings\":{\"draw\":[{\"bank\":\"B\",\"draw\":1}]},\"questions\":[{\"kind\":"
		"\"truefalse\",\"text\":\"x\",\"answer\":true,\"bank\":\"A\"}]}",
		"settings.draw[0].bank: no question is in bank \"B\"", "drawing from an empty bank");
	refused("{\"settings\":{\"draw\":[{\"bank\":\"A\",\"draw\":2}]},\"questions\":[{\"kind\":"
		"\"truefalse\",\"text\":\"x\",\"answer\":true,\"bank\":\"A\"}]}",
		"settings.draw[0].draw: from 1 to 1", "drawing more than a bank has");
	refused("{\"settings\":{\"draw\":[{\"bank\":\"A\",\"draw\":1},{\"bank\":\"A\",\"draw\":1}]},"
		"\"questions\":[{\"kind\":\"truefalse\",\"text\":\"x\",\"answer\":true,\"bank\":\"A\"}]}",
		"settings.draw[1].bank: \"A\" is listed twice", "a bank listed twice");
	refused("{\"settings\":{\"show_answers\":\"later\"},\"questions\":[" Q1 "]}",
		"settings.show_answers: \"after_each\", \"after_passing\", \"after_last\" or "
		"\"never\"", "an unknown show_answers");
	refused("{\"settings\":{\"show_answers\":true},\"questions\":[" Q1 "]}",
		"settings.show_answers", "show_answers as a boolean");
	refused("{\"settings\":{\"retry_wait\":604801},\"questions\":[" Q1 "]}",
		"settings.retry_wait", "a wait over 7 days");
	refused("{\"settings\":{\"retry_wait\":-1},\"questions\":[" Q1 "]}",
		"settings.retry_wait", "a negative wait");

	/* defaults are filled in */
	ok(validate("{\"questions\":[" Q1 ",{\"id\":\"n\",\"kind\":\"numeric\",\"text\":\"y\","
		    "\"answer\":2.5}]}", &out, why, sizeof(why)) == 0, "a minimal quiz is valid");
	if (out) {
		struct quiz_settings s;
		json_t *q0 = json_array_get(json_object_get(out, "questions"), 0);
		json_t *q1 = json_array_get(json_object_get(out, "questions"), 1);

		quiz_settings_get(out, &s);
		is_str(json_string_value(json_object_get(q0, "id")), "q1", "a missing id is q<N>");
		is_str(json_string_value(json_object_get(q1, "id")), "n", "a given id is kept");
		ok(json_number_value(json_object_get(q0, "points")) == 1, "points default to 1");
		ok(json_number_value(json_object_get(q1, "tolerance")) == 0, "tolerance defaults to 0");
		ok(s.attempts == 0 && s.time_limit == 0 && s.pass_percent == 50 && s.per_attempt == 2 &&
		   s.questions == 2 && !s.shuffle_questions && !s.shuffle_options &&
		   s.show_answers == QUIZ_SHOW_EACH && s.retry_wait == 0, "settings defaults");
		is_str(json_string_value(json_object_get(json_object_get(out, "settings"),
							 "show_answers")),
		       "after_each", "show_answers is written out with its default");
	}
	json_decref(out);
	/* a definition stored before show_answers and retry_wait: the defaults */
	{
		json_t *old = json_loads("{\"settings\":{\"attempts\":3},\"questions\":[]}", 0, NULL);
		struct quiz_settings s;

		quiz_settings_get(old, &s);
		ok(s.attempts == 3 && s.show_answers == QUIZ_SHOW_EACH && s.retry_wait == 0,
		   "an older stored definition reads with the defaults");
		json_decref(old);
	}
	ok(validate("{\"settings\":{\"show_answers\":\"after_last\",\"retry_wait\":600},"
		    "\"questions\":[" Q1 "]}", &out, why, sizeof(why)) == 0, "the two settings given");
	if (out) {
		struct quiz_settings s;

		quiz_settings_get(out, &s);
		ok(s.show_answers == QUIZ_SHOW_LAST && s.retry_wait == 600, "are read back");
	}
	json_decref(out);
}

/* quiz_answers_shown: (graded attempts, passed) under each mode, with 2
 * attempts allowed and with unlimited attempts. */
static void
test_answers_shown(void)
{
	static const struct {
		enum quiz_show mode;
		int attempts, graded, passed, shown;
	} c[] = {
		{ QUIZ_SHOW_EACH, 2, 0, 0, 0 },    { QUIZ_SHOW_EACH, 2, 1, 0, 1 },
		{ QUIZ_SHOW_EACH, 0, 1, 0, 1 },    { QUIZ_SHOW_PASSING, 2, 1, 0, 0 },
		{ QUIZ_SHOW_PASSING, 2, 2, 0, 0 }, { QUIZ_SHOW_PASSING, 2, 1, 1, 1 },
		{ QUIZ_SHOW_LAST, 2, 1, 0, 0 },    { QUIZ_SHOW_LAST, 2, 2, 0, 1 },
		{ QUIZ_SHOW_LAST, 2, 1, 1, 1 },    { QUIZ_SHOW_LAST, 0, 50, 0, 0 },
		{ QUIZ_SHOW_LAST, 0, 3, 1, 1 },    { QUIZ_SHOW_NEVER, 2, 2, 1, 0 },
		{ QUIZ_SHOW_NEVER, 0, 1, 1, 0 },
	};
	int right = 0;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct quiz_settings s = { .attempts = c[i].attempts, .show_answers = c[i].mode };
		int got = quiz_answers_shown(&s, c[i].graded, c[i].passed);

		if (got == c[i].shown)
			right++;
		else
			printf("# %s, %d allowed, %d graded, passed %d: %d\n",
			       quiz_show_name(c[i].mode), c[i].attempts, c[i].graded, c[i].passed,
			       got);
	}
	is_int(right, (int)(sizeof(c) / sizeof(c[0])), "when the correct answers are shown");
	is_str(quiz_show_name(QUIZ_SHOW_PASSING), "after_passing", "the modes' names");
}

/* ---- text ---------------------------------------------------------------------- */

static void
form_is(const char *in, enum quiz_match m, const char *want, const char *name)
{
	char out[256];
	long n = quiz_text_form(in, strlen(in), m, out, sizeof(out));

	if (n < 0)
		snprintf(out, sizeof(out), "(error %ld)", n);
	is_str(out, want, name);
}

static void
test_text(void)
{
	char out[8];

	/* NFD input composes */
	form_is("Ha\xcc\x80 No\xcc\xa3\xcc\x82i", QUIZ_MATCH_EXACT, "Hà Nội", "NFD Hà Nội composes (NFC)");
	form_is("No\xcc\x82\xcc\xa3i", QUIZ_MATCH_EXACT, "Nội",
		"marks in non-canonical order compose too");
	form_is("  Hà Nội \t", QUIZ_MATCH_EXACT, "Hà Nội", "exact trims");
	form_is("Hà  Nội", QUIZ_MATCH_EXACT, "Hà  Nội", "exact keeps inner white space");
	form_is("u\xcc\x9b\xcc\x80", QUIZ_MATCH_EXACT, "ừ", "u + horn + grave is ừ");
	form_is("D\xcc\x9b", QUIZ_MATCH_EXACT, "D\xcc\x9b", "a mark with no composition stays");
	ok(quiz_text_form("\xff", 1, QUIZ_MATCH_EXACT, out, sizeof(out)) == TC_EINVALID,
	   "invalid UTF-8 is refused");
	ok(quiz_text_form("Hà Nội Hà Nội", strlen("Hà Nội Hà Nội"), QUIZ_MATCH_EXACT, out, sizeof(out)) == TC_ETOOBIG,
	   "a small buffer is TC_ETOOBIG");

	ok(quiz_text_match("Hà Nội", "Ha\xcc\x80 No\xcc\xa3\xcc\x82i", QUIZ_MATCH_EXACT),
	   "exact: NFC and NFD are equal");
	ok(!quiz_text_match("hà nội", "Hà Nội", QUIZ_MATCH_EXACT), "exact: case counts");
	ok(quiz_text_match("  HÀ   nội ", "Hà Nội", QUIZ_MATCH_NORMALISED),
	   "normalised: case and white space");
	ok(quiz_text_match("hoà", "hòa", QUIZ_MATCH_NORMALISED), "normalised: hoà = hòa");
	ok(quiz_text_match("thuý", "thúy", QUIZ_MATCH_NORMALISED), "normalised: thuý = thúy");
	ok(quiz_text_match("khoẻ", "khỏe", QUIZ_MATCH_NORMALISED), "normalised: khoẻ = khỏe");
	ok(quiz_text_match("kho\xcc\x89" "e", "khoe\xcc\x89", QUIZ_MATCH_NORMALISED),
	   "normalised: khỏe = khoẻ in NFD");
	ok(quiz_text_match("Hòa Bình", "HOÀ BÌNH", QUIZ_MATCH_NORMALISED),
	   "normalised: upper-case Vietnamese");
	ok(!quiz_text_match("ma", "má", QUIZ_MATCH_NORMALISED), "normalised: ma != má");
	ok(!quiz_text_match("má", "mà", QUIZ_MATCH_NORMALISED), "normalised: má != mà");
	ok(!quiz_text_match("hoa", "hòa", QUIZ_MATCH_NORMALISED), "normalised: missing tone differs");
	ok(!quiz_text_match("Ha Noi", "Hà Nội", QUIZ_MATCH_NORMALISED),
	   "normalised: missing diacritics differ");
	ok(!quiz_text_match("hoa", "hơa", QUIZ_MATCH_NORMALISED), "normalised: o != ơ");
	ok(!quiz_text_match("da", "đa", QUIZ_MATCH_NORMALISED), "normalised: d != đ");
	ok(quiz_text_match("ĐÀ NẴNG", "đà nẵng", QUIZ_MATCH_NORMALISED), "normalised: Đ = đ");
	ok(!quiz_text_match("hoà bình", "hòa bính", QUIZ_MATCH_NORMALISED),
	   "normalised: tones stay with their word");
	ok(quiz_text_match("Ha Noi", "Hà Nội", QUIZ_MATCH_FOLDED), "folded: diacritics ignored");
	ok(quiz_text_match(" DA  NANG ", "Đà Nẵng", QUIZ_MATCH_FOLDED), "folded: đ, case, spaces");
	ok(!quiz_text_match("Ha Nam", "Hà Nội", QUIZ_MATCH_FOLDED), "folded: other words differ");
}

/* ---- papers and grading ------------------------------------------------------------ */

static const char *full =
	"{\"settings\":{\"pass_percent\":60},\"questions\":["
	"{\"id\":\"s\",\"kind\":\"single\",\"text\":\"Thủ đô?\",\"points\":2,\"options\":["
	"  {\"text\":\"Hà Nội\",\"correct\":true},{\"text\":\"Huế\"},{\"text\":\"Đà Lạt\"}]},"
	"{\"id\":\"m\",\"kind\":\"multiple\",\"text\":\"Chẵn?\",\"options\":["
	"  {\"text\":\"2\",\"correct\":true},{\"text\":\"3\"},{\"text\":\"4\",\"correct\":true},"
	"  {\"text\":\"5\"}]},"
	"{\"id\":\"mp\",\"kind\":\"multiple\",\"scoring\":\"partial\",\"text\":\"Chẵn?\",\"points\":4,"
	"  \"options\":[{\"text\":\"2\",\"correct\":true},{\"text\":\"3\"},{\"text\":\"4\","
	"  \"correct\":true},{\"text\":\"5\"}]},"
	"{\"id\":\"t\",\"kind\":\"truefalse\",\"text\":\"1+1=2\",\"answer\":true},"
	"{\"id\":\"n\",\"kind\":\"numeric\",\"text\":\"pi\",\"answer\":3.14,\"tolerance\":0.01},"
	"{\"id\":\"x\",\"kind\":\"text\",\"text\":\"Sông?\",\"accepted\":[\"sông Hồng\"],"
	"  \"match\":\"normalised\"},"
	"{\"id\":\"e\",\"kind\":\"text\",\"text\":\"Tên?\",\"accepted\":[\"Hòa\"]},"
	"{\"id\":\"f\",\"kind\":\"text\",\"text\":\"Tên?\",\"accepted\":[\"Hòa\"],"
	"  \"ignore_diacritics\":true}]}";

/* The id of the option with TEXT in question QID of PAPER. */
static const char *
opt(json_t *paper, const char *qid, const char *text)
{
	json_t *q, *o;
	size_t i, k;

	json_array_foreach(json_object_get(paper, "questions"), i, q)
		if (strcmp(json_string_value(json_object_get(q, "id")), qid) == 0)
			json_array_foreach(json_object_get(q, "options"), k, o)
				if (strcmp(json_string_value(json_object_get(o, "text")), text) == 0)
					return json_string_value(json_object_get(o, "id"));
	return "none";
}

/* Grades ANSWERS (JSON text with %s for option ids filled by the caller). */
static double
points_of(json_t *paper, const char *answers, const char *qid)
{
	json_t *a = js(answers), *detail = NULL, *d;
	struct quiz_grade g;
	char why[200];
	double got = -1;
	size_t i;

	if (quiz_answers_check(paper, a, why, sizeof(why)) != 0) {
		printf("# answers refused: %s\n", why);
		json_decref(a);
		return -2;
	}
	if (quiz_grade(paper, a, &g, &detail, NULL) == 0)
		json_array_foreach(detail, i, d)
			if (strcmp(json_string_value(json_object_get(d, "id")), qid) == 0)
				got = json_number_value(json_object_get(d, "points"));
	json_decref(detail);
	json_decref(a);
	return got;
}

static void
test_grading(void)
{
	json_t *def = NULL, *paper = NULL, *pub, *a, *detail = NULL, *scores = NULL;
	char why[256], buf[512];
	struct quiz_grade g;
	char *dump;

	if (validate(full, &def, why, sizeof(why)) != 0) {
		printf("# %s\n", why);
		ok(0, "the full quiz is valid");
		return;
	}
	ok(quiz_draw(def, &paper) == 0 && quiz_paper_size(paper) == 8, "a paper of every question");
	/* the learner's view */
	pub = quiz_paper_public(paper);
	dump = json_dumps(pub, JSON_COMPACT);
	ok(dump && !strstr(dump, "correct") && !strstr(dump, "accepted") && !strstr(dump, "answer") &&
	   !strstr(dump, "tolerance") && !strstr(dump, "sông Hồng") && !strstr(dump, "3.14"),
	   "the public paper holds no answers");
	ok(dump && strstr(dump, opt(paper, "s", "Hà Nội")) && strstr(dump, "\"scoring\":\"partial\""),
	   "it has the option ids and the scoring");
	free(dump);
	json_decref(pub);

	/* single */
	snprintf(buf, sizeof(buf), "{\"s\":\"%s\"}", opt(paper, "s", "Hà Nội"));
	ok(points_of(paper, buf, "s") == 2, "single: the right option scores its points");
	snprintf(buf, sizeof(buf), "{\"s\":\"%s\"}", opt(paper, "s", "Huế"));
	ok(points_of(paper, buf, "s") == 0, "single: a wrong option scores 0");
	ok(points_of(paper, "{\"s\":null}", "s") == 0, "single: no answer scores 0");
	/* multiple, all or nothing */
	snprintf(buf, sizeof(buf), "{\"m\":[\"%s\",\"%s\"]}", opt(paper, "m", "4"), opt(paper, "m", "2"));
	ok(points_of(paper, buf, "m") == 1, "multiple: exactly the right set");
	snprintf(buf, sizeof(buf), "{\"m\":[\"%s\"]}", opt(paper, "m", "2"));
	ok(points_of(paper, buf, "m") == 0, "multiple: a subset scores 0 by default");
	snprintf(buf, sizeof(buf), "{\"m\":[\"%s\",\"%s\",\"%s\"]}", opt(paper, "m", "4"),
		 opt(paper, "m", "2"), opt(paper, "m", "3"));
	ok(points_of(paper, buf, "m") == 0, "multiple: a superset scores 0");
	/* multiple, partial: max(0, (right - wrong) / right total) * points */
	snprintf(buf, sizeof(buf), "{\"mp\":[\"%s\"]}", opt(paper, "mp", "2"));
	ok(points_of(paper, buf, "mp") == 2, "partial: one of two right is half");
	snprintf(buf, sizeof(buf), "{\"mp\":[\"%s\",\"%s\"]}", opt(paper, "mp", "2"), opt(paper, "mp", "3"));
	ok(points_of(paper, buf, "mp") == 0, "partial: one right, one wrong is 0");
	snprintf(buf, sizeof(buf), "{\"mp\":[\"%s\",\"%s\",\"%s\"]}", opt(paper, "mp", "2"),
		 opt(paper, "mp", "4"), opt(paper, "mp", "5"));
	ok(points_of(paper, buf, "mp") == 2, "partial: two right, one wrong is half");
	snprintf(buf, sizeof(buf), "{\"mp\":[\"%s\",\"%s\"]}", opt(paper, "mp", "3"), opt(paper, "mp", "5"));
	ok(points_of(paper, buf, "mp") == 0, "partial: never below 0");
	/* truefalse */
	ok(points_of(paper, "{\"t\":true}", "t") == 1, "truefalse: right");
	ok(points_of(paper, "{\"t\":false}", "t") == 0, "truefalse: wrong");
	/* numeric */
	ok(points_of(paper, "{\"n\":3.15}", "n") == 1, "numeric: inside the tolerance");
	ok(points_of(paper, "{\"n\":3.13}", "n") == 1, "numeric: at the lower edge");
	ok(points_of(paper, "{\"n\":3.16}", "n") == 0, "numeric: outside the tolerance");
	ok(points_of(paper, "{\"n\":3}", "n") == 0, "numeric: an integer outside it");
	/* text */
	ok(points_of(paper, "{\"x\":\"  SÔNG  hồng \"}", "x") == 1, "text normalised: case and spaces");
	ok(points_of(paper, "{\"x\":\"so\xcc\x82ng ho\xcc\x82\xcc\x80ng\"}", "x") == 1,
	   "text normalised: NFD input");
	ok(points_of(paper, "{\"x\":\"song hong\"}", "x") == 0, "text normalised: no diacritics fails");
	ok(points_of(paper, "{\"e\":\"Hòa\"}", "e") == 1, "text exact: the same");
	ok(points_of(paper, "{\"e\":\"Ho\xcc\x80" "a\"}", "e") == 1, "text exact: NFD of the same");
	ok(points_of(paper, "{\"e\":\"hòa\"}", "e") == 0, "text exact: case counts");
	ok(points_of(paper, "{\"e\":\"Hoà\"}", "e") == 0, "text exact: another tone placement differs");
	ok(points_of(paper, "{\"f\":\"hoa\"}", "f") == 1, "text ignore_diacritics: hoa = Hòa");

	/* answer checks */
	{
		static const char *const bad[][2] = {
			{ "[]", "answers: an object" },
			{ "{\"zz\":1}", "answers.zz: no such question" },
			{ "{\"s\":1}", "answers.s: the id of one option" },
			{ "{\"s\":\"nope\"}", "answers.s: not an option" },
			{ "{\"m\":\"x\"}", "answers.m: a list" },
			{ "{\"m\":[\"nope\"]}", "answers.m[0]: not an option" },
			{ "{\"t\":\"true\"}", "answers.t: true or false" },
			{ "{\"n\":\"3.14\"}", "answers.n: a finite number" },
			{ "{\"x\":5}", "answers.x: UTF-8 text" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			json_t *v = js(bad[i][0]);
			int rc = quiz_answers_check(paper, v, why, sizeof(why));

			snprintf(buf, sizeof(buf), "answers %s are refused", bad[i][0]);
			ok(rc == TC_EINVALID && strstr(why, bad[i][1]), buf);
			json_decref(v);
		}
		snprintf(buf, sizeof(buf), "{\"m\":[\"%s\",\"%s\"]}", opt(paper, "m", "2"), opt(paper, "m", "2"));
		a = js(buf);
		ok(quiz_answers_check(paper, a, why, sizeof(why)) == TC_EINVALID && strstr(why, "twice"),
		   "an option chosen twice is refused");
		json_decref(a);
	}

	/* the total, pass mark and the detail */
	snprintf(buf, sizeof(buf), "{\"s\":\"%s\",\"t\":true,\"n\":3.14,\"x\":\"sông hồng\",\"e\":\"Hòa\","
		 "\"f\":\"x\"}", opt(paper, "s", "Hà Nội"));
	a = js(buf);
	ok(quiz_grade(paper, a, &g, &detail, &scores) == 0, "grading works");
	ok(g.score == 6 && g.max == 12 && !g.passed, "6 of 12 is under 60%");
	dump = json_dumps(detail, JSON_COMPACT);
	ok(dump && strstr(dump, "\"correct_answer\":[\"sông Hồng\"]") &&
	   strstr(dump, opt(paper, "s", "Hà Nội")), "the detail has the correct answers");
	free(dump);
	ok(json_array_size(scores) == 8 &&
	   json_number_value(json_object_get(json_array_get(scores, 0), "points")) == 2,
	   "scores: one per question");
	json_decref(detail);
	json_decref(scores);
	json_decref(a);
	snprintf(buf, sizeof(buf), "{\"s\":\"%s\",\"t\":true,\"n\":3.14,\"x\":\"sông hồng\",\"e\":\"Hòa\","
		 "\"f\":\"hoa\",\"m\":null,\"mp\":[\"%s\",\"%s\"]}", opt(paper, "s", "Hà Nội"),
		 opt(paper, "mp", "2"), opt(paper, "mp", "4"));
	a = js(buf);
	ok(quiz_grade(paper, a, &g, NULL, NULL) == 0 && g.score == 11 && g.passed,
	   "11 of 12 passes at 60%");
	json_decref(a);
	ok(quiz_grade(paper, NULL, &g, NULL, NULL) == 0 && g.score == 0 && g.max == 12 && !g.passed,
	   "no answers at all score 0");
	json_decref(paper);
	json_decref(def);
}

static void
test_draws(void)
{
	json_t *def = NULL, *paper = NULL;
	char why[256], text[8192];
	size_t o = 0;
	int a_count = 0, b_count = 0, only_banks = 1, orders = 0, firsts[10] = { 0 }, ids_ok = 1;
	int in_order = 1, opt_first[4] = { 0 };

	/* 10 questions: 0..5 in bank A, 6..9 in bank B */
	o += (size_t)snprintf(text + o, sizeof(text) - o, "{\"settings\":{\"draw\":[{\"bank\":\"A\","
			      "\"draw\":3},{\"bank\":\"B\",\"draw\":1}],\"shuffle_questions\":true,"
			      "\"shuffle_options\":true},\"questions\":[");
	for (int i = 0; i < 10; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s{\"id\":\"q%d\",\"bank\":\"%s\","
				      "\"kind\":\"single\",\"text\":\"Q%d\",\"options\":[{\"text\":\"a\","
				      "\"correct\":true},{\"text\":\"b\"},{\"text\":\"c\"},{\"text\":"
				      "\"d\"}]}", i ? "," : "", i, i < 6 ? "A" : "B", i);
	snprintf(text + o, sizeof(text) - o, "]}");
	if (validate(text, &def, why, sizeof(why)) != 0) {
		printf("# %s\n", why);
		ok(0, "the bank quiz is valid");
		return;
	}
	for (int n = 0; n < 200; n++) {
		json_t *q;
		size_t i;
		int a = 0, b = 0, seen[10] = { 0 };

		if (quiz_draw(def, &paper) != 0)
			break;
		json_array_foreach(json_object_get(paper, "questions"), i, q) {
			int k = atoi(json_string_value(json_object_get(q, "id")) + 1);
			json_t *opts = json_object_get(q, "options");

			only_banks &= !seen[k];
			seen[k] = 1;
			if (k < 6)
				a++;
			else
				b++;
			if (i == 0)
				firsts[k]++;
			for (int x = 0; x < 4; x++)
				if (strcmp(json_string_value(json_object_get(json_array_get(opts, 0), "text")),
					   (const char[][2]){ "a", "b", "c", "d" }[x]) == 0)
					opt_first[x]++;
			ids_ok &= strlen(json_string_value(json_object_get(json_array_get(opts, 0), "id"))) == 12 &&
				  strcmp(json_string_value(json_object_get(json_array_get(opts, 0), "id")),
					 json_string_value(json_object_get(json_array_get(opts, 1), "id"))) != 0;
		}
		a_count += a == 3;
		b_count += b == 1;
		json_decref(paper);
		paper = NULL;
		orders++;
	}
	is_int(orders, 200, "200 papers drawn");
	ok(a_count == 200 && b_count == 200 && only_banks, "each paper: 3 from bank A, 1 from B, no repeats");
	{
		int all = 1;
		for (int k = 0; k < 10; k++)
			all &= firsts[k] > 0;
		ok(all, "every question comes first on some paper (shuffled questions, drawn from all)");
	}
	ok(opt_first[0] > 50 && opt_first[1] > 50 && opt_first[2] > 50 && opt_first[3] > 50,
	   "options are shuffled (each first roughly a quarter of the time)");
	ok(ids_ok, "option ids: 12 hex digits, distinct");
	json_decref(def);

	/* without shuffling, a draw keeps the quiz's order */
	if (validate("{\"settings\":{\"draw\":3},\"questions\":[" Q1 "," Q1 "," Q1 "," Q1 "," Q1 "]}",
		     &def, why, sizeof(why)) == 0) {
		for (int n = 0; n < 50 && quiz_draw(def, &paper) == 0; n++) {
			int prev = 0;
			json_t *q;
			size_t i;

			in_order &= quiz_paper_size(paper) == 3;
			json_array_foreach(json_object_get(paper, "questions"), i, q) {
				int k = atoi(json_string_value(json_object_get(q, "id")) + 1);
				in_order &= k > prev;
				prev = k;
			}
			json_decref(paper);
			paper = NULL;
		}
	}
	ok(in_order, "3 of 5 drawn, in the quiz's order");
	json_decref(def);
}


/* ---- review findings: exact grading, numeric slack, text forms --------------------- */

/* A paper of quiz DEF_TEXT (drawn; no shuffling asked). */
static json_t *
paper_of(const char *def_text)
{
	json_t *def = NULL, *paper = NULL;
	char why[256];

	if (validate(def_text, &def, why, sizeof(why)) != 0)
		printf("# %s\n", why);
	else if (quiz_draw(def, &paper) != 0)
		paper = NULL;
	json_decref(def);
	return paper;
}

static void
test_exact_grading(void)
{
	char def[4096], ans[1024];
	size_t o = 0, a = 0;
	struct quiz_grade g;
	json_t *paper, *answers, *detail = NULL;

	/* 16 true/false questions of 0.1 points, pass 50%, 8 right */
	o += (size_t)snprintf(def + o, sizeof(def) - o,
			      "{\"settings\":{\"pass_percent\":50},\"questions\":[");
	a += (size_t)snprintf(ans + a, sizeof(ans) - a, "{");
	for (int i = 0; i < 16; i++) {
		o += (size_t)snprintf(def + o, sizeof(def) - o, "%s{\"id\":\"t%d\",\"kind\":\"truefalse\","
				      "\"text\":\"x\",\"points\":0.1,\"answer\":true}", i ? "," : "", i);
		a += (size_t)snprintf(ans + a, sizeof(ans) - a, "%s\"t%d\":%s", i ? "," : "", i,
				      i < 8 ? "true" : "false");
	}
	snprintf(def + o, sizeof(def) - o, "]}");
	snprintf(ans + a, sizeof(ans) - a, "}");
	paper = paper_of(def);
	answers = js(ans);
	ok(paper && quiz_grade(paper, answers, &g, &detail, NULL) == 0, "16 x 0.1 points graded");
	ok(g.score_milli == 800 && g.max_milli == 1600, "in thousandths of a point: 800 of 1600");
	ok(g.score == 0.8 && g.max == 1.6, "the score is 0.8, not 0.7999999999999999");
	ok(g.passed && g.pass_percent == 50, "exactly half passes at 50%");
	ok(json_number_value(json_object_get(json_array_get(detail, 0), "points")) == 0.1,
	   "a question's points are 0.1");
	json_decref(detail);
	json_decref(answers);
	json_decref(paper);

	/* partial credit in thousandths, rounded down */
	paper = paper_of("{\"questions\":[{\"id\":\"m\",\"kind\":\"multiple\",\"scoring\":\"partial\","
			 "\"text\":\"x\",\"options\":[{\"text\":\"a\",\"correct\":true},"
			 "{\"text\":\"b\",\"correct\":true},{\"text\":\"c\",\"correct\":true},"
			 "{\"text\":\"d\"}]}]}");
	if (paper) {
		const json_t *opts = json_object_get(json_array_get(json_object_get(paper, "questions"), 0),
						     "options");
		const char *id = NULL;
		size_t i;
		json_t *q;

		json_array_foreach(opts, i, q)
			if (strcmp(json_string_value(json_object_get(q, "text")), "a") == 0)
				id = json_string_value(json_object_get(q, "id"));
		snprintf(ans, sizeof(ans), "{\"m\":[\"%s\"]}", id ? id : "");
		answers = js(ans);
		ok(quiz_grade(paper, answers, &g, NULL, NULL) == 0 && g.score_milli == 333 &&
		   g.score == 0.333, "partial: one of three right is 0.333 points");
		json_decref(answers);
	} else {
		ok(0, "partial: the quiz is valid");
	}
	json_decref(paper);
}

static void
test_numeric_slack(void)
{
	json_t *paper = paper_of("{\"questions\":["
				 "{\"id\":\"big\",\"kind\":\"numeric\",\"text\":\"x\",\"answer\":1e9},"
				 "{\"id\":\"dec\",\"kind\":\"numeric\",\"text\":\"x\",\"answer\":0.3}]}");

	ok(paper != NULL, "numeric quiz drawn");
	if (!paper)
		return;
	ok(points_of(paper, "{\"big\":1000000000}", "big") == 1, "numeric: the exact answer");
	ok(points_of(paper, "{\"big\":1000000001}", "big") == 0,
	   "numeric: 1000000001 is not 1e9 with tolerance 0");
	ok(points_of(paper, "{\"big\":999999999}", "big") == 0, "numeric: nor is 999999999");
	ok(points_of(paper, "{\"dec\":0.30000000000000004}", "dec") == 1,
	   "numeric: 0.1 + 0.2 is 0.3 (a few ULPs of slack)");
	ok(points_of(paper, "{\"dec\":0.3000001}", "dec") == 0, "numeric: 0.3000001 is not 0.3");
	json_decref(paper);
}

static void
test_text_review(void)
{
	char word10[256] = "", word9[256] = "";
	size_t n10 = 0, n9 = 0;

	ok(!quiz_text_match("pápa", "papá", QUIZ_MATCH_NORMALISED),
	   "normalised: pápa != papá (tones move only in Vietnamese vowel pairs)");
	ok(quiz_text_match("café", "cafe\xcc\x81 ", QUIZ_MATCH_NORMALISED),
	   "normalised: café NFC = NFD");
	ok(quiz_text_match("hoà", "hòa", QUIZ_MATCH_NORMALISED), "normalised: hoà = hòa still");
	ok(quiz_text_match("thuỷ", "thủy", QUIZ_MATCH_NORMALISED), "normalised: thuỷ = thủy still");
	ok(quiz_text_match("Hoà Bình", "hòa bình", QUIZ_MATCH_NORMALISED),
	   "normalised: hoà bình = hòa bình");
	ok(!quiz_text_match("hóa", "hoá", QUIZ_MATCH_EXACT), "exact: placement still counts");
	ok(quiz_text_match("ho\xcd\x80" "a", "hòa", QUIZ_MATCH_EXACT), "U+0340 is a grave accent");
	ok(quiz_text_match("ca\xcd\x81", "cá", QUIZ_MATCH_EXACT), "U+0341 is an acute accent");
	ok(quiz_text_match("Hà\xe2\x80\x8bNội", "HàNội", QUIZ_MATCH_EXACT),
	   "a zero-width space is ignored");
	ok(quiz_text_match("Hà N\xc2\xadội", "Hà Nội", QUIZ_MATCH_EXACT), "a soft hyphen is ignored");
	ok(quiz_text_match("Ha N\xc2\xadoi", "Hà Nội", QUIZ_MATCH_FOLDED),
	   "folded: a soft hyphen is ignored too");
	for (int i = 0; i < 10; i++) {
		n10 += (size_t)snprintf(word10 + n10, sizeof(word10) - n10, "hoà");
		n9 += (size_t)snprintf(word9 + n9, sizeof(word9) - n9, "%s", i == 9 ? "hoa" : "hoà");
	}
	ok(!quiz_text_match(word10, word9, QUIZ_MATCH_NORMALISED),
	   "normalised: a tenth tone mark in one word is not dropped");
	ok(quiz_text_match(word10, word10, QUIZ_MATCH_NORMALISED), "... and the word equals itself");
}

int
main(void)
{
	test_validation();
	test_answers_shown();
	test_text();
	test_grading();
	test_draws();
	test_exact_grading();
	test_numeric_slack();
	test_text_review();
	return done_testing();
}
