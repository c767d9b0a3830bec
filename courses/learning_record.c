/*
 * learning_record.c - the xAPI statements of learners' activity
 * (learning_record.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "courses/learning_record.h"

static const struct {
	const char *iri, *en, *vi;
} verbs[] = {
	[LR_INITIALIZED] = { "http://adlnet.gov/expapi/verbs/initialized", "initialized", "bắt đầu" },
	[LR_PROGRESSED] = { "http://adlnet.gov/expapi/verbs/progressed", "progressed", "học tiếp" },
	[LR_COMPLETED] = { "http://adlnet.gov/expapi/verbs/completed", "completed", "hoàn thành" },
	[LR_ANSWERED] = { "http://adlnet.gov/expapi/verbs/answered", "answered", "trả lời" },
	[LR_PASSED] = { "http://adlnet.gov/expapi/verbs/passed", "passed", "đạt" },
	[LR_FAILED] = { "http://adlnet.gov/expapi/verbs/failed", "failed", "không đạt" },
	[LR_SCORED] = { "http://adlnet.gov/expapi/verbs/scored", "scored", "được chấm điểm" },
};

/* Activity types by the kind of thing. */
static const struct {
	const char *kind, *type;
} types[] = {
	{ "course", "http://adlnet.gov/expapi/activities/course" },
	{ "video", "https://w3id.org/xapi/video/activity-type/video" },
	{ "document", "http://id.tincanapi.com/activitytype/document" },
	{ "text", "http://adlnet.gov/expapi/activities/lesson" },
	{ "quiz", "http://adlnet.gov/expapi/activities/assessment" },
	{ "question", "http://adlnet.gov/expapi/activities/cmi.interaction" },
};

#define PROGRESS_EXT "https://w3id.org/xapi/cmi5/result/extensions/progress"

const char *
lr_verb_iri(enum lr_verb verb)
{
	return (unsigned)verb < sizeof(verbs) / sizeof(verbs[0]) ? verbs[verb].iri : NULL;
}

static const char *
type_of(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].kind, kind) == 0)
			return types[i].type;
	return NULL;
}

/* BASE + "/" + WHAT + "/" + UID (+ "#" + FRAGMENT) as a new JSON string. */
static json_t *
iri(const char *base, const char *what, const char *uid, const char *fragment)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return fragment ? json_sprintf("%.*s/%s/%s#%s", (int)n, base, what, uid, fragment)
			: json_sprintf("%.*s/%s/%s", (int)n, base, what, uid);
}

static json_t *
activity(const char *base, const struct lr_activity *a)
{
	int course = strcmp(a->kind, "course") == 0;
	json_t *def = json_pack("{s:s}", "type", type_of(a->kind));
	json_t *o = json_pack("{s:s, s:o, s:o}", "objectType", "Activity",
			      "id", iri(base, course ? "courses" : "units", a->uid, a->question),
			      "definition", def);

	if (o && def && a->name && a->name[0])
		json_object_set_new(def, "name", json_pack("{s:s}", a->lang ? a->lang : "vi", a->name));
	if (o && def && a->question)
		json_object_set_new(def, "interactionType", json_string("other"));
	return o;
}

static json_t *
result(const struct lr_result *r)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (r->has_score) {
		double scaled = r->max > 0 ? r->raw / r->max : 0;

		if (scaled > 1)
			scaled = 1;
		if (scaled < 0)
			scaled = 0;
		json_object_set_new(o, "score", json_pack("{s:f, s:f, s:f, s:f}", "scaled", scaled,
							  "raw", r->raw, "min", 0.0, "max", r->max));
	}
	if (r->has_success)
		json_object_set_new(o, "success", json_boolean(r->success));
	if (r->has_completion)
		json_object_set_new(o, "completion", json_boolean(r->completion));
	if (r->response)
		json_object_set_new(o, "response", json_string(r->response));
	if (r->progress >= 0)
		json_object_set_new(o, "extensions", json_pack("{s:i}", PROGRESS_EXT,
							      r->progress > 100 ? 100 : r->progress));
	return o;
}

json_t *
lr_statement(const char *base, const char *person_uid, enum lr_verb verb,
	     const struct lr_activity *a, const struct lr_result *r, int64_t when)
{
	char ts[32];
	struct tm tm;
	time_t t = (time_t)when;
	json_t *s, *ctx;

	if (!base || !person_uid || !lr_verb_iri(verb) || !a || !a->kind || !a->uid ||
	    !type_of(a->kind) || (strcmp(a->kind, "question") == 0) != (a->question != NULL) ||
	    !gmtime_r(&t, &tm))
		return NULL;
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	s = json_pack("{s:{s:s, s:{s:s, s:s}}, s:{s:s, s:{s:s, s:s}}, s:o, s:s}",
		      "actor", "objectType", "Agent", "account", "homePage", base, "name", person_uid,
		      "verb", "id", verbs[verb].iri, "display", "en-US", verbs[verb].en,
		      "vi", verbs[verb].vi,
		      "object", activity(base, a),
		      "timestamp", ts);
	if (!s)
		return NULL;
	ctx = json_pack("{s:s, s:s}", "platform", "tinchi", "language", a->lang ? a->lang : "vi");
	if (ctx && strcmp(a->kind, "course") != 0 && a->course_uid) {
		/* a question's parent is its quiz; every unit's grouping is the course */
		json_t *ca = json_object();

		if (a->question)
			json_object_set_new(ca, "parent", json_pack("[{s:o}]", "id",
								     iri(base, "units", a->uid, NULL)));
		json_object_set_new(ca, a->question ? "grouping" : "parent",
				    json_pack("[{s:o}]", "id", iri(base, "courses", a->course_uid,
								    NULL)));
		json_object_set_new(ctx, "contextActivities", ca);
	}
	if (!ctx || json_object_set_new(s, "context", ctx) ||
	    (r && json_object_set_new(s, "result", result(r)))) {
		json_decref(s);
		return NULL;
	}
	return s;
}
