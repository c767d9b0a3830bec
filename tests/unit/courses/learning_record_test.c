/* learning_record_test.c - the xAPI statements of learners' activity:
 * each is a valid xAPI 2.0 statement (courses/xapi.h), names the learner by
 * account, never by national ID, and carries the activity, parents and
 * result it should. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/learning_record.h"
#include "courses/xapi.h"
#include "tests/tap.h"

#define BASE "https://tinchi.example.vn/"
#define PERSON "5b0f6f5e-2a8e-4c55-9a52-0c0b2d7c9a11"
#define COURSE "0f5a1c2e-8d2b-4b7e-9c1d-3e4f5a6b7c8d"
#define UNIT "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"

static const char *
str_at(json_t *o, const char *path)
{
	char buf[256], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p && o; p = strtok_r(NULL, ".", &save))
		o = json_is_array(o) ? json_array_get(o, (size_t)atoi(p)) : json_object_get(o, p);
	return json_string_value(o);
}

static void
valid(json_t *s, const char *label)
{
	char err[300], msg[400];
	int rc = s ? xapi_statement_check(s, XAPI_V2, err, sizeof(err)) : -1;

	snprintf(msg, sizeof(msg), "%s: a valid xAPI 2.0 statement%s%s", label, rc ? ": " : "",
		 rc ? (s ? err : "NULL") : "");
	ok(rc == 0, msg);
}

int
main(void)
{
	struct lr_activity course = { "course", COURSE, NULL, "Lập trình C", "vi", NULL };
	struct lr_activity video = { "video", UNIT, NULL, "Bài 1: Con trỏ", NULL, COURSE };
	struct lr_activity q = { "question", UNIT, "q2", NULL, NULL, COURSE };
	struct lr_result watched = { .progress = 40 };
	struct lr_result graded = { .has_score = 1, .raw = 2, .max = 3, .has_success = 1,
				    .success = 1, .progress = -1 };
	struct lr_result answer = { .has_success = 1, .success = 0, .response = "Hà Nội",
				    .progress = -1 };
	struct lr_result done = { .has_completion = 1, .completion = 1, .has_score = 1, .raw = 7.5,
				  .max = 10, .has_success = 1, .success = 1, .progress = 100 };
	json_t *s;
	char *text;

	s = lr_statement(BASE, PERSON, LR_PROGRESSED, &video, &watched, 1796000000);
	valid(s, "progressed");
	is_str(str_at(s, "actor.account.homePage"), BASE, "the actor is an account on the platform");
	is_str(str_at(s, "actor.account.name"), PERSON, "named by the person's uid");
	is_str(str_at(s, "verb.id"), "http://adlnet.gov/expapi/verbs/progressed", "verb progressed");
	is_str(str_at(s, "object.id"), "https://tinchi.example.vn/units/" UNIT,
	       "object: the unit's IRL, one slash after the base");
	is_str(str_at(s, "object.definition.type"), "https://w3id.org/xapi/video/activity-type/video",
	       "a video activity");
	is_str(str_at(s, "object.definition.name.vi"), "Bài 1: Con trỏ", "named in Vietnamese");
	is_str(str_at(s, "context.contextActivities.parent.0.id"),
	       "https://tinchi.example.vn/courses/" COURSE, "its parent is the course");
	is_int(json_integer_value(json_object_get(json_object_get(json_object_get(s, "result"),
		"extensions"), "https://w3id.org/xapi/cmi5/result/extensions/progress")), 40,
	       "progress 40 in the cmi5 extension");
	is_str(str_at(s, "timestamp"), "2026-11-30T00:53:20Z", "timestamp in UTC");
	ok(json_object_get(s, "id") == NULL, "no id: the store assigns it");
	json_decref(s);

	s = lr_statement(BASE, PERSON, LR_SCORED, &(struct lr_activity){ "quiz", UNIT, NULL,
			 "Kiểm tra 1", NULL, COURSE }, &graded, 1796000000);
	valid(s, "scored");
	text = s ? json_dumps(json_object_get(s, "result"), JSON_COMPACT | JSON_SORT_KEYS |
			      JSON_REAL_PRECISION(4)) : NULL;
	is_str(text, "{\"score\":{\"max\":3.0,\"min\":0.0,\"raw\":2.0,\"scaled\":0.6667},\"success\":true}",
	       "score raw 2 of 3 (min 0), scaled 2/3");
	free(text);
	json_decref(s);

	s = lr_statement(BASE, PERSON, LR_ANSWERED, &q, &answer, 1796000000);
	valid(s, "answered");
	is_str(str_at(s, "object.id"), "https://tinchi.example.vn/units/" UNIT "#q2",
	       "a question is its quiz's IRL with the question id");
	is_str(str_at(s, "object.definition.interactionType"), "other", "an interaction");
	is_str(str_at(s, "context.contextActivities.parent.0.id"),
	       "https://tinchi.example.vn/units/" UNIT, "a question's parent is the quiz");
	is_str(str_at(s, "context.contextActivities.grouping.0.id"),
	       "https://tinchi.example.vn/courses/" COURSE, "grouped under the course");
	is_str(str_at(s, "result.response"), "Hà Nội", "the answer as given");
	json_decref(s);

	s = lr_statement("https://tinchi.example.vn", PERSON, LR_COMPLETED, &course, &done,
			 1796000000);
	valid(s, "course completed");
	is_str(str_at(s, "object.definition.type"), "http://adlnet.gov/expapi/activities/course",
	       "a course activity");
	ok(json_object_get(json_object_get(s, "context"), "contextActivities") == NULL,
	   "a course has no parent");
	json_decref(s);

	for (int v = LR_INITIALIZED; v <= LR_SCORED; v++) {
		char label[64];

		s = lr_statement(BASE, PERSON, (enum lr_verb)v, &video, NULL, 0);
		snprintf(label, sizeof(label), "verb %d without a result", v);
		valid(s, label);
		json_decref(s);
	}

	ok(lr_statement(BASE, PERSON, LR_COMPLETED, &(struct lr_activity){ "podcast", UNIT },
			NULL, 0) == NULL, "an unknown kind: NULL");
	ok(lr_statement(BASE, PERSON, LR_ANSWERED, &(struct lr_activity){ "question", UNIT },
			NULL, 0) == NULL, "a question without its id: NULL");
	ok(lr_statement(BASE, NULL, LR_COMPLETED, &video, NULL, 0) == NULL, "no person: NULL");
	ok(lr_statement(BASE, PERSON, (enum lr_verb)42, &video, NULL, 0) == NULL, "no such verb: NULL");
	return done_testing();
}
