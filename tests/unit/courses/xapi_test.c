/* xapi_test.c - tests for courses/xapi.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/xapi.h"
#include "tests/tap.h"

/* Parses TEXT written with ' for " (so the cases stay readable). */
static json_t *
J(const char *text)
{
	char *s = strdup(text);
	json_error_t e;
	json_t *j;
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; s[i]; i++)
		if (s[i] == '\'')
			s[i] = '"';
	j = json_loads(s, JSON_DECODE_ANY, &e);
	if (!j)
		printf("# bad test JSON: %s: %s\n", e.text, s);
	free(s);
	return j;
}

#define ACTOR "{'objectType':'Agent','name':'xAPI mbox','mbox':'mailto:xapi@adlnet.gov'}"
#define VERB "{'id':'http://adlnet.gov/expapi/verbs/attended','display':{'en-GB':'attended','en-US':'attended'}}"
#define ACT "{'objectType':'Activity','id':'http://www.example.com/meetings/occurances/34534'}"

static const char *const S_DEFAULT = "{'actor':" ACTOR ",'verb':" VERB ",'object':" ACT "}";

/* The "long example" of the specification (Data 2.6), less its backslashes. */
static const char *const S_LONG =
	"{'id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bee',"
	"'actor':{'name':'Team PB','mbox':'mailto:teampb@example.com','member':["
	"{'name':'Andrew Downes','account':{'homePage':'http://www.example.com','name':'13936749'},'objectType':'Agent'},"
	"{'name':'Toby Nichols','openid':'http://toby.openid.example.org/','objectType':'Agent'},"
	"{'name':'Ena Hills','mbox_sha1sum':'ebd31e95054c018b10727ccffd2ef2ec3a016ee9','objectType':'Agent'}],"
	"'objectType':'Group'},"
	"'verb':{'id':'http://adlnet.gov/expapi/verbs/attended','display':{'en-GB':'attended','en-US':'attended'}},"
	"'result':{'extensions':{'http://example.com/profiles/meetings/resultextensions/minuteslocation':'X:meetings/minutes/examplemeeting.one'},"
	"'success':true,'completion':true,'response':'We agreed on some example actions.','duration':'PT1H0M0S'},"
	"'context':{'registration':'ec531277-b57b-4c15-8d91-d292c5b2b8f7',"
	"'contextActivities':{'parent':[{'id':'http://www.example.com/meetings/series/267','objectType':'Activity'}],"
	"'category':[{'id':'http://www.example.com/meetings/categories/teammeeting','objectType':'Activity',"
	"'definition':{'name':{'en':'team meeting'},'description':{'en':'A category of meeting used for regular team meetings.'},"
	"'type':'http://example.com/expapi/activities/meetingcategory'}}],"
	"'other':[{'id':'http://www.example.com/meetings/occurances/34257','objectType':'Activity'},"
	"{'id':'http://www.example.com/meetings/occurances/3425567','objectType':'Activity'}]},"
	"'instructor':{'name':'Andrew Downes','account':{'homePage':'http://www.example.com','name':'13936749'},'objectType':'Agent'},"
	"'team':{'name':'Team PB','mbox':'mailto:teampb@example.com','objectType':'Group'},"
	"'platform':'Example virtual meeting software','language':'tlh',"
	"'statement':{'objectType':'StatementRef','id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bee'}},"
	"'timestamp':'2013-05-18T05:32:34.804+00:00','stored':'2013-05-18T05:32:34.804+00:00',"
	"'authority':{'account':{'homePage':'http://cloud.scorm.com/','name':'anonymous'},'objectType':'Agent'},"
	"'version':'1.0.0',"
	"'object':{'id':'http://www.example.com/meetings/occurances/34534','definition':{"
	"'extensions':{'http://example.com/profiles/meetings/activitydefinitionextensions/room':{'name':'Kilby','id':'http://example.com/rooms/342'}},"
	"'name':{'en-GB':'example meeting','en-US':'example meeting'},"
	"'description':{'en-GB':'An example meeting.','en-US':'An example meeting.'},"
	"'type':'http://adlnet.gov/expapi/activities/meeting','moreInfo':'http://virtualmeeting.example.com/345256'},"
	"'objectType':'Activity'}}";

#define DEF(body) "{'actor':" ACTOR ",'verb':" VERB ",'object':{'id':'http://example.com/q1','definition':{" \
	"'type':'http://adlnet.gov/expapi/activities/cmi.interaction'," body "}}}"

static const char *const S_INTERACTIONS[] = {
	DEF("'interactionType':'true-false','correctResponsesPattern':['true']"),
	DEF("'interactionType':'choice','correctResponsesPattern':['golf[,]tetris'],'choices':["
	    "{'id':'golf','description':{'en-US':'Golf Example'}},{'id':'tetris','description':{'en-US':'Tetris Example'}},"
	    "{'id':'facebook','description':{'en-US':'Facebook App'}}]"),
	DEF("'interactionType':'fill-in','correctResponsesPattern':['Bob is your uncle']"),
	DEF("'interactionType':'long-fill-in','correctResponsesPattern':['{case_matters=false}{lang=en}To store and provide access']"),
	DEF("'interactionType':'matching','correctResponsesPattern':['ben[.]3[,]chris[.]2'],"
	    "'source':[{'id':'ben','description':{'en-US':'Ben'}},{'id':'chris','description':{'en-US':'Chris'}}],"
	    "'target':[{'id':'2','description':{'en-US':'We got Runs'}},{'id':'3','description':{'en-US':'Duck'}}]"),
	DEF("'interactionType':'performance','correctResponsesPattern':['pong[.]1:[,]dg[.]:10'],"
	    "'steps':[{'id':'pong','description':{'en-US':'Net pong matches won'}},{'id':'dg','description':{'en-US':'Strokes'}}]"),
	DEF("'interactionType':'sequencing','correctResponsesPattern':['tim[,]mike'],"
	    "'choices':[{'id':'tim','description':{'en-US':'Tim'}},{'id':'mike','description':{'en-US':'Mike'}}]"),
	DEF("'interactionType':'likert','correctResponsesPattern':['likert_3'],"
	    "'scale':[{'id':'likert_0','description':{'en-US':'It is OK','sr-Latn-RS':'U redu je'}},{'id':'likert_3','description':{'en-US':'Cool'}}]"),
	DEF("'interactionType':'numeric','correctResponsesPattern':['4[:]']"),
	DEF("'interactionType':'other','correctResponsesPattern':['(35.937432,-86.868896)']"),
	NULL
};

static const char *const S_SUB =
	"{'actor':" ACTOR ",'verb':" VERB ",'object':{'objectType':'SubStatement',"
	"'actor':{'objectType':'Agent','mbox_sha1sum':'cd9b00a5611f94eaa7b1661edab976068e364975'},"
	"'verb':{'id':'http://adlnet.gov/expapi/verbs/reported','display':{'sr-Cyrl':'x'}},"
	"'object':" ACT ",'result':{'score':{'scaled':0.5}},"
	"'context':{'registration':'EC531277-B57B-4C15-8D91-D292C5B2B8F7','revision':'r1','language':'fr-CA'},"
	"'timestamp':'2008-09-15T15:53:00.601+00:00'}}";

static const char *const S_GROUPS =
	"{'actor':{'objectType':'Group','name':'anon','member':[{'mbox':'mailto:a@example.com'},"
	"{'objectType':'Agent','openid':'http://openid.example.org/1'}]},"
	"'verb':" VERB ",'object':{'objectType':'Group','mbox':'mailto:g@example.com'},"
	"'context':{'instructor':{'objectType':'Group','account':{'homePage':'http://example.com','name':'t'}},"
	"'team':{'objectType':'Group','member':[" ACTOR "]}},"
	"'authority':{'objectType':'Group','member':[{'account':{'homePage':'http://example.com/xAPI/OAuth/Token','name':'oauth'}},"
	"{'mbox':'mailto:bob@example.com'}]}}";

static const char *const S_V2 =
	"{'actor':" ACTOR ",'verb':" VERB ",'object':" ACT ",'version':'2.0.0','timestamp':'2023-05-04T12:00:00-05:00',"
	"'context':{'contextAgents':[{'objectType':'contextAgent','agent':{'objectType':'Agent','mbox':'mailto:p1@example.com'},"
	"'relevantTypes':['https://example.com/types/player']}],"
	"'contextGroups':[{'objectType':'contextGroup','group':{'objectType':'Group','mbox':'mailto:team@example.com',"
	"'member':[{'objectType':'Agent','mbox':'mailto:p1@example.com'}]},'relevantTypes':['https://example.com/types/team']}]}}";

static const char *const S_ATTACH =
	"{'actor':" ACTOR ",'verb':" VERB ",'object':" ACT ",'attachments':[{'usageType':'http://example.com/attachment-usage/test',"
	"'display':{'en-US':'A test attachment'},'description':{'es-MX':'prueba'},'contentType':'text/plain; charset=ascii','length':27,"
	"'sha2':'495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a','fileUrl':'http://over.there.com/file.txt'}]}";

/* Sets (VALUE != NULL) or removes the node at the dotted PATH of ROOT;
 * numeric segments index arrays; missing objects are made. */
static void
set_path(json_t *root, const char *path, const char *value)
{
	char buf[256], *seg, *next;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (seg = buf; (next = strchr(seg, '.')) != NULL; seg = next + 1) {
		json_t *child;

		*next = '\0';
		if (json_is_array(cur)) {
			child = json_array_get(cur, (size_t)atoi(seg));
		} else {
			child = json_object_get(cur, seg);
			if (!child) {
				child = json_object();
				json_object_set_new(cur, seg, child);
			}
		}
		cur = child;
	}
	if (json_is_array(cur)) {
		if (value)
			json_array_set_new(cur, (size_t)atoi(seg), J(value));
		else
			json_array_remove(cur, (size_t)atoi(seg));
	} else if (value) {
		json_object_set_new(cur, seg, J(value));
	} else {
		json_object_del(cur, seg);
	}
}

static void
good_v(const char *text, enum xapi_version v, const char *name)
{
	json_t *s = J(text);
	char err[300] = "unset";
	int rc = xapi_statement_check(s, v, err, sizeof(err));

	if (!ok(rc == 0, name))
		printf("#   rc %d: %s\n", rc, err);
	json_decref(s);
}

static void
good(const char *text, const char *name)
{
	good_v(text, XAPI_V1, name);
	good_v(text, XAPI_V2, name);
}

/* BASE with PATH set to VALUE (NULL: removed) is valid under V. */
static void
good_mod(const char *base, const char *path, const char *value, enum xapi_version v, const char *name)
{
	json_t *s = J(base);
	char err[300] = "unset";
	int rc;

	set_path(s, path, value);
	rc = xapi_statement_check(s, v, err, sizeof(err));
	if (!ok(rc == 0, name))
		printf("#   rc %d: %s\n", rc, err);
	json_decref(s);
}

/* BASE with PATH set to VALUE (NULL: removed) is refused under V with an
 * error that starts with WANT (the JSON path and ": "). */
static void
bad_v(const char *base, const char *path, const char *value, enum xapi_version v, const char *want)
{
	json_t *s = J(base), *before;
	char err[300] = "unset", name[400];
	int rc;

	set_path(s, path, value);
	before = json_deep_copy(s);
	rc = xapi_statement_check(s, v, err, sizeof(err));
	snprintf(name, sizeof(name), "v%d %s = %s refused", (int)v, path, value ? value : "(removed)");
	if (!ok(rc == TC_EINVALID && strncmp(err, want, strlen(want)) == 0, name))
		printf("#   rc %d: '%s', wanted '%s...'\n", rc, err, want);
	if (!json_equal(before, s))
		ok(0, "the statement was not modified");
	json_decref(before);
	json_decref(s);
}

static void
bad(const char *base, const char *path, const char *value, const char *want)
{
	bad_v(base, path, value, XAPI_V1, want);
	bad_v(base, path, value, XAPI_V2, want);
}

static void
test_valid(void)
{
	size_t i;

	good(S_DEFAULT, "the default statement");
	good(S_LONG, "the long example");
	for (i = 0; S_INTERACTIONS[i]; i++) {
		char name[64];

		snprintf(name, sizeof(name), "interaction example %zu", i);
		good(S_INTERACTIONS[i], name);
	}
	good(S_SUB, "a SubStatement");
	good(S_GROUPS, "anonymous and identified groups, two-agent authority");
	good(S_ATTACH, "attachment metadata");
	good_v(S_V2, XAPI_V2, "2.0 contextAgents, contextGroups, version 2.0.0");
	good_mod(S_DEFAULT, "object", "{'objectType':'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}",
		 XAPI_V1, "a StatementRef object");
	good_v("{'actor':" ACTOR ",'verb':{'id':'http://adlnet.gov/expapi/verbs/voided','display':{'en-US':'voided'}},"
	       "'object':{'objectType':'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}}",
	       XAPI_V2, "voided verb with a StatementRef object");
	good_mod(S_DEFAULT, "object", "{'id':'http://example.com/a'}", XAPI_V1, "activity without objectType");
	good_mod(S_DEFAULT, "id", "'AA97B177-9383-4934-8543-0F91A7A02836'", XAPI_V1, "upper-case UUID");
	good_mod(S_DEFAULT, "timestamp", "'2008-09-15T15:53:00.601+00:00'", XAPI_V2, "timestamp +00:00");
	good_mod(S_DEFAULT, "timestamp", "'2008-09-15T15:53:00Z'", XAPI_V2, "timestamp Z");
	good_mod(S_DEFAULT, "timestamp", "'2008-09-15T15:53:00.123456789'", XAPI_V1, "1.0: timestamp without offset");
	good_mod(S_DEFAULT, "version", "'1.0'", XAPI_V1, "version 1.0");
	good_mod(S_DEFAULT, "version", "'1.0.9'", XAPI_V2, "version 1.0.9 under 2.0");
	good_mod(S_DEFAULT, "result", "{'duration':'P1DT12H36M0.12567S'}", XAPI_V2, "duration with fraction");
	good_mod(S_DEFAULT, "result", "{'duration':'P4W'}", XAPI_V2, "duration in weeks");
	good_mod(S_DEFAULT, "result", "{'duration':'P3Y1M29DT4H35M59.14S'}", XAPI_V2, "duration all parts");
	good_mod(S_DEFAULT, "result", "{'score':{'min':0.6767676,'max':100.6767676,'raw':50}}", XAPI_V2, "score min raw max");
	good_mod(S_DEFAULT, "result", "{'score':{'scaled':-1}}", XAPI_V2, "scaled -1");
	good_mod(S_DEFAULT, "result", "{'extensions':{'http://example.com/null':null,'http://example.com/e':''}}",
		 XAPI_V2, "null and empty extension values");
	good_mod(S_DEFAULT, "context", "{'contextActivities':{'parent':" ACT ",'other':[]}}", XAPI_V2,
		 "a single context activity and an empty list");
	good_mod(S_DEFAULT, "attachments", "[]", XAPI_V2, "empty attachments");
	good_mod(S_DEFAULT, "actor", "{'objectType':'Group','name':'g','mbox':'mailto:g@example.com'}",
		 XAPI_V2, "identified group without members");
}

static void
test_invalid(void)
{
	const char *D = S_DEFAULT;

	/* statement */
	bad(D, "actor", NULL, "actor: is required");
	bad(D, "verb", NULL, "verb: is required");
	bad(D, "object", NULL, "object: is required");
	bad(D, "Actor", ACTOR, "Actor: is not a property");
	bad(D, "timeStamp", "'2008-09-15T15:53:00Z'", "timeStamp: is not a property");
	bad(D, "id", "12345", "id: must be a UUID");
	bad(D, "id", "{'key':'x'}", "id: must be a UUID");
	bad(D, "id", "'AA97B177-9383-4934-8543-0F91A7A028368'", "id: must be a UUID");
	bad(D, "id", "'MA97B177-9383-4934-8543-0F91A7A02836'", "id: must be a UUID");
	bad(D, "id", "''", "id: must be a UUID");
	bad(D, "timestamp", "'should fail'", "timestamp: must be an ISO 8601");
	bad(D, "timestamp", "'01/011/2015'", "timestamp: must be an ISO 8601");
	bad(D, "timestamp", "'2008-09-15T15:53:00.601-00'", "timestamp: must be an ISO 8601");
	bad(D, "timestamp", "'2008-09-15T15:53:00.601-0000'", "timestamp: must be an ISO 8601");
	bad(D, "timestamp", "'2008-09-15T15:53:00.601-00:00'", "timestamp: must be an ISO 8601");
	bad(D, "timestamp", "'2008-02-30T15:53:00Z'", "timestamp: must be an ISO 8601");
	bad_v(D, "timestamp", "'2008-09-15T15:53:00'", XAPI_V2, "timestamp: must include a time zone");
	bad(D, "stored", "'yesterday'", "stored: must be an ISO 8601");
	bad(D, "version", "'should fail'", "version: must be");
	bad(D, "version", "'0.9.9'", "version: must be");
	bad(D, "version", "'1.1.0'", "version: must be");
	bad_v(D, "version", "'2.0.0'", XAPI_V1, "version: must be \"1.0\" or");
	bad(D, "actor.name", "null", "actor.name: must be a string");
	bad(D, "verb.display.en-US", "null", "verb.display.en-US: must be a string");

	/* agents and groups */
	bad(D, "actor.objectType", "'agent'", "actor.objectType: must be \"Agent\" or \"Group\"");
	bad(D, "actor.objectType", "123", "actor.objectType: must be a string");
	bad(D, "actor.name", "123", "actor.name: must be a string");
	bad(D, "actor.mbox", "'http://should.fail.com'", "actor.mbox: must be a mailto: IRI");
	bad(D, "actor.mbox", "'mailto:should.fail.com'", "actor.mbox: must be a mailto: IRI");
	bad(D, "actor.mbox", NULL, "actor: an Agent needs exactly one");
	bad(D, "actor.openid", "'http://openid.example.org/12345'", "actor: an Agent needs exactly one");
	bad(D, "actor.mbox_sha1sum", "{'key':'value'}", "actor.mbox_sha1sum: must be a SHA-1");
	bad(D, "actor.account", "{'homePage':'http://example.com','name':'n'}", "actor: an Agent needs exactly one");
	bad(D, "actor", "{'openid':'ab=c://should.fail.com'}", "actor.openid: must be a URI");
	bad(D, "actor", "{'openid':'open.id.com/testUser'}", "actor.openid: must be a URI");
	bad(D, "actor", "{'account':{'homePage':'homePage.com/testUser','name':'1'}}", "actor.account.homePage: must be an IRL");
	bad(D, "actor", "{'account':{'name':'1'}}", "actor.account.homePage: is required");
	bad(D, "actor", "{'account':{'homePage':'http://example.com'}}", "actor.account.name: is required");
	bad(D, "actor", "{'account':{'homePage':'http://example.com','name':{'key':'value'}}}", "actor.account.name: must be a string");
	bad(D, "actor", "{'objectType':'Group','name':'anonymous'}", "actor.member: is required for an anonymous Group");
	bad(D, "actor", "{'objectType':'Group','mbox':'mailto:a@b.c','openid':'http://o.example/'}", "actor: a Group may use only one");
	bad(D, "actor", "{'objectType':'Group','member':[{'objectType':'Group','mbox':'mailto:a@b.c'}]}",
	    "actor.member[0].objectType: must be \"Agent\"");
	bad(D, "actor", "{'objectType':'Group','member':{'mbox':'mailto:a@b.c'}}", "actor.member: must be an array");
	bad(S_GROUPS, "authority.member.1", NULL, "authority.member: an authority Group must have exactly two");
	bad(S_GROUPS, "authority.openid", "'http://openid.example.org/12345'", "authority: an authority Group must be anonymous");
	bad(S_GROUPS, "authority.objectType", "'group'", "authority.objectType: must be");

	/* verb */
	bad(D, "verb.id", NULL, "verb.id: is required");
	bad(D, "verb.id", "'adlnet.gov/expapi/verbs/attended'", "verb.id: must be an IRI");
	bad(D, "verb.display", "12345", "verb.display: must be a language map");
	bad(D, "verb.display", "'a12345 attended'", "verb.display: must be a language map");
	bad(D, "verb.display", "{'something':'besucht'}", "verb.display.something: is not an RFC 5646");
	bad(D, "verb.display", "{'a12345678':'x'}", "verb.display.a12345678: is not an RFC 5646");

	/* objects */
	bad(D, "object.objectType", "'activity'", "object.objectType: must be one of");
	bad(D, "object.objectType", "'Agent'", "object.id: is not a property");
	bad(D, "object", "{'objectType':'Agent'}", "object: an Agent needs exactly one");
	bad(D, "object", "{'mbox':'mailto:a@example.com'}", "object.mbox: is not a property");
	bad(D, "object", "{'objectType':'Group','mbox':'mailto:a@example.com','member':[],'x':1}", "object.x: is not a property");
	bad(D, "object.id", NULL, "object.id: is required");
	bad(D, "object.id", "'www.example.com/meetings'", "object.id: must be an IRI");
	bad(D, "object.id", "'ab=c://should.fail.com'", "object.id: must be an IRI");
	bad(D, "object.definition", "'x'", "object.definition: must be an object");
	bad(D, "object.definition", "{'name':1234}", "object.definition.name: must be a language map");
	bad(D, "object.definition", "{'description':'x'}", "object.definition.description: must be a language map");
	bad(D, "object.definition", "{'name':{'zh-something-ccc':'x'}}", "object.definition.name.zh-something-ccc: is not");
	bad(D, "object.definition", "{'type':'meeting'}", "object.definition.type: must be an IRI");
	bad(D, "object.definition", "{'moreInfo':'virtualmeeting.example.com'}", "object.definition.moreInfo: must be an IRL");
	bad(D, "object.definition", "{'moreInfo':null}", "object.definition.moreInfo: must be an IRL");
	bad(D, "object.definition", "{'extensions':'x'}", "object.definition.extensions: must be an object");
	bad(D, "object.definition", "{'extensions':{'should fail':true}}", "object.definition.extensions.should fail: an extension key");
	bad(D, "object.definition", "{'interactionType':'true-faLse'}", "object.definition.interactionType: must be one of");
	bad(D, "object.definition", "{'interactionType':12345}", "object.definition.interactionType: must be one of");
	bad(D, "object.definition", "{'correctResponsesPattern':['x']}", "object.definition.correctResponsesPattern: needs an interactionType");
	bad(D, "object.definition", "{'choices':[]}", "object.definition.choices: needs an interactionType");
	bad(D, "object.definition", "{'interactionType':'choice','correctResponsesPattern':'x'}",
	    "object.definition.correctResponsesPattern: must be an array");
	bad(D, "object.definition", "{'interactionType':'choice','correctResponsesPattern':[1]}",
	    "object.definition.correctResponsesPattern[0]: must be a string");
	bad(D, "object.definition", "{'interactionType':'likert','choices':[]}",
	    "object.definition.choices: is not used with interactionType \"likert\"");
	bad(S_INTERACTIONS[1], "object.definition.choices.1.id", "'golf'", "object.definition.choices[1].id: repeats the id");
	bad(S_INTERACTIONS[1], "object.definition.choices.1.id", NULL, "object.definition.choices[1].id: is required");
	bad(S_INTERACTIONS[1], "object.definition.choices.0.description", "{'xx-':'x'}",
	    "object.definition.choices[0].description.xx-: is not an RFC 5646");
	bad(S_INTERACTIONS[4], "object.definition.target.0.x", "1", "object.definition.target[0].x: is not a property");
	bad(D, "object", "{'objectType':'StatementRef'}", "object.id: is required");
	bad(D, "object", "{'objectType':'StatementRef','id':'not-a-uuid'}", "object.id: must be a UUID");
	bad(D, "object", "{'objectType':'SubStatement'}", "object.actor: is required");
	bad(S_SUB, "object.id", "'8f87ccde-bb56-4c2e-ab83-44982ef22df0'", "object.id: is not allowed in a SubStatement");
	bad(S_SUB, "object.stored", "'2008-09-15T15:53:00Z'", "object.stored: is not allowed in a SubStatement");
	bad(S_SUB, "object.version", "'1.0.0'", "object.version: is not allowed in a SubStatement");
	bad(S_SUB, "object.authority", ACTOR, "object.authority: is not allowed in a SubStatement");
	bad(S_SUB, "object.object", "{'objectType':'SubStatement'}", "object.object.objectType: a SubStatement cannot contain");
	bad(S_SUB, "object.verb.display", "{'s-something':'x'}", "object.verb.display.s-something: is not an RFC 5646");
	bad(S_SUB, "object.context.language", "'something'", "object.context.language: must be an RFC 5646");
	bad(S_SUB, "object.object", "{'objectType':'Agent','mbox':'mailto:a@example.com'}",
	    "object.context.revision: is allowed only when the object is an Activity");
	bad(S_SUB, "object.timestamp", "'2008-09-15T15:53:00.601-00:00'", "object.timestamp: must be an ISO 8601");

	/* result */
	bad(D, "result", "'x'", "result: must be an object");
	bad(D, "result.RESULT", "1", "result.RESULT: is not a property");
	bad(D, "result.score", "12345", "result.score: must be an object");
	bad(D, "result.score", "{'max':'100'}", "result.score.max: must be a number");
	bad(D, "result.score", "{'scaled':1.01}", "result.score.scaled: must be between -1 and 1");
	bad(D, "result.score", "{'scaled':-1.00001}", "result.score.scaled: must be between -1 and 1");
	bad(D, "result.score", "{'raw':0.67,'max':0.65}", "result.score.raw: must not be greater than max");
	bad(D, "result.score", "{'raw':0.67,'min':1.4}", "result.score.raw: must not be less than min");
	bad(D, "result.score", "{'min':0.68,'max':0.67}", "result.score.min: must not be greater than max");
	bad(D, "result.success", "'false'", "result.success: must be true or false");
	bad(D, "result.completion", "'false'", "result.completion: must be true or false");
	bad(D, "result.response", "12", "result.response: must be a string");
	bad(D, "result.duration", "'PA1H0M0S'", "result.duration: must be an ISO 8601 duration");
	bad(D, "result.duration", "'P4W1D'", "result.duration: must be an ISO 8601 duration");
	bad(D, "result.duration", "'PT'", "result.duration: must be an ISO 8601 duration");
	bad(D, "result.duration", "'P1.5DT1H'", "result.duration: must be an ISO 8601 duration");
	bad(D, "result.duration", "12345", "result.duration: must be an ISO 8601 duration");
	bad(D, "result.extensions", "{'should fail':1}", "result.extensions.should fail: an extension key");

	/* context */
	bad(D, "context", "'x'", "context: must be an object");
	bad(D, "context.registration", "{'key':'x'}", "context.registration: must be a UUID");
	bad(D, "context.registration", "null", "context.registration: must be a UUID");
	bad(D, "context.instructor", "'x'", "context.instructor: must be an Agent or Group");
	bad(D, "context.team", ACTOR, "context.team.objectType: must be \"Group\"");
	bad(D, "context.team", "{'mbox':'mailto:a@example.com'}", "context.team.objectType: is required");
	bad(D, "context.contextActivities", "'x'", "context.contextActivities: must be an object");
	bad(D, "context.contextActivities", "{'consequences':" ACT "}", "context.contextActivities.consequences: is not");
	bad(D, "context.contextActivities", "{'parent':'x'}", "context.contextActivities.parent: must be an Activity");
	bad(D, "context.contextActivities", "{'parent':[{'id':'x'}]}", "context.contextActivities.parent[0].id: must be an IRI");
	bad(D, "context.revision", "12", "context.revision: must be a string");
	bad(D, "context.platform", "{}", "context.platform: must be a string");
	bad(D, "context.language", "'a12345'", "context.language: must be an RFC 5646");
	bad(D, "context.statement", "{'id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}", "context.statement.objectType: must be \"StatementRef\"");
	bad(D, "context.extensions", "{'x':1}", "context.extensions.x: an extension key");
	bad_v(S_V2, "context.contextAgents", "[]", XAPI_V1, "context.contextAgents: is not a property");
	bad_v(S_V2, "context.contextAgents.0.objectType", "'Should fail'", XAPI_V2,
	      "context.contextAgents[0].objectType: must be \"contextAgent\"");
	bad_v(S_V2, "context.contextAgents.0.agent", "{'key':'Should fail'}", XAPI_V2,
	      "context.contextAgents[0].agent.key: is not a property");
	bad_v(S_V2, "context.contextAgents.0.agent", "{'objectType':'Group','mbox':'mailto:a@b.c'}", XAPI_V2,
	      "context.contextAgents[0].agent.objectType: must be \"Agent\"");
	bad_v(S_V2, "context.contextAgents.0.relevantTypes", "[]", XAPI_V2,
	      "context.contextAgents[0].relevantTypes: must be a non-empty array");
	bad_v(S_V2, "context.contextAgents.0.relevantTypes", "['abc']", XAPI_V2,
	      "context.contextAgents[0].relevantTypes[0]: must be an IRI");
	bad_v(S_V2, "context.contextAgents", "{}", XAPI_V2, "context.contextAgents: must be an array");
	bad_v(S_V2, "context.contextGroups.0.objectType", "'Should fail'", XAPI_V2,
	      "context.contextGroups[0].objectType: must be \"contextGroup\"");
	bad_v(S_V2, "context.contextGroups.0.group", "{'key':'Should fail'}", XAPI_V2,
	      "context.contextGroups[0].group.objectType: is required");
	bad_v(S_V2, "context.contextGroups.0.relevantTypes", "[]", XAPI_V2,
	      "context.contextGroups[0].relevantTypes: must be a non-empty array");

	/* attachments */
	bad(D, "attachments", "{}", "attachments: must be an array");
	bad(D, "attachments", "[12345]", "attachments[0]: must be an Attachment");
	bad(S_ATTACH, "attachments.0.usageType", "'should fail'", "attachments[0].usageType: must be an IRI");
	bad(S_ATTACH, "attachments.0.contentType", "12345", "attachments[0].contentType: must be an Internet media type");
	bad(S_ATTACH, "attachments.0.contentType", "'image/'", "attachments[0].contentType: must be an Internet media type");
	good_mod(S_ATTACH, "attachments.0.contentType", "'image/jpeg'", XAPI_V2,
		 "contentType image/jpeg (the subtype ends the string)");
	good_mod(S_ATTACH, "attachments.0.contentType", "'application/octet-stream'", XAPI_V1,
		 "contentType application/octet-stream");
	bad(S_ATTACH, "attachments.0.length", "'should fail'", "attachments[0].length: must be a non-negative integer");
	bad(S_ATTACH, "attachments.0.length", "2.5", "attachments[0].length: must be a non-negative integer");
	bad(S_ATTACH, "attachments.0.sha2", "12345", "attachments[0].sha2: must be a SHA-2");
	bad(S_ATTACH, "attachments.0.fileUrl", "'should fail'", "attachments[0].fileUrl: must be an IRL");
	bad(S_ATTACH, "attachments.0.display", "{'a12345678':'x'}", "attachments[0].display.a12345678: is not");
	bad(S_ATTACH, "attachments.0.description", "12", "attachments[0].description: must be a language map");
	bad(S_ATTACH, "attachments.0.display", NULL, "attachments[0].display: is required");

	/* voiding */
	bad(D, "verb.id", "'http://adlnet.gov/expapi/verbs/voided'", "object: a voiding statement");
}

static void
test_context_object_rules(void)
{
	/* revision and platform need an Activity object */
	static const char *const objects[] = {
		"{'objectType':'Agent','mbox':'mailto:a@example.com'}",
		"{'objectType':'Group','mbox':'mailto:a@example.com'}",
		"{'objectType':'StatementRef','id':'8f87ccde-bb56-4c2e-ab83-44982ef22df0'}",
		NULL
	};
	size_t i;

	for (i = 0; objects[i]; i++) {
		json_t *s = J(S_DEFAULT);
		char err[300];

		set_path(s, "object", objects[i]);
		set_path(s, "context", "{'revision':'r'}");
		is_int(xapi_statement_check(s, XAPI_V2, err, sizeof(err)), TC_EINVALID, "revision with a non-Activity object");
		is_str(err, "context.revision: is allowed only when the object is an Activity", "its message");
		set_path(s, "context", "{'platform':'p'}");
		is_int(xapi_statement_check(s, XAPI_V1, err, sizeof(err)), TC_EINVALID, "platform with a non-Activity object");
		is_str(err, "context.platform: is allowed only when the object is an Activity", "its message");
		json_decref(s);
	}
	good_mod(S_DEFAULT, "context", "{'revision':'r','platform':'p'}", XAPI_V2, "revision, platform with an Activity");
}

static void
test_lang(void)
{
	static const char *const goods[] = {
		"en", "de", "tlh", "cmn", "ase", "en-US", "zh-Hant", "zh-Hant-TW", "sr-Latn-RS", "zh-Hans-CN", "es-419",
		"de-CH-1901", "sl-rozaj-biske", "zh-yue-HK", "en-US-x-twain", "x-whatever", "i-klingon",
		"en-a-bbb-x-a-ccc", "hy-Latn-IT-arevela", "sgn-BE-FR", "qaa-Qaaa-QM-x-southern", "de-DE-u-co-phonebk", NULL
	};
	static const char *const bads[] = {
		"", "something", "a12345", "a12345678", "s-something", "zh-something-ccc", "zh-z-aaa-z-bbb-c-ccc",
		"de-419-DE", "a-DE", "ar-a-aaa-b-bbb-a-ccc", "en-", "-en", "en--US", "en-x", "de-1996-1996", "en_US",
		"abcdefghi", NULL
	};
	size_t i;
	char name[80];

	for (i = 0; goods[i]; i++) {
		snprintf(name, sizeof(name), "language tag '%s' is well-formed", goods[i]);
		ok(xapi_lang_tag_valid(goods[i]), name);
	}
	for (i = 0; bads[i]; i++) {
		snprintf(name, sizeof(name), "language tag '%s' is refused", bads[i]);
		ok(!xapi_lang_tag_valid(bads[i]), name);
	}
	ok(!xapi_lang_tag_valid(NULL), "NULL tag refused");
}

static void
test_helpers(void)
{
	int64_t us = 0, us2 = 0;

	ok(xapi_uuid_valid("6690e6c9-3ef0-4ed3-8b37-7f3964730bee"), "uuid lower");
	ok(xapi_uuid_valid("6690E6C9-3EF0-4ED3-8B37-7F3964730BEE"), "uuid upper");
	ok(!xapi_uuid_valid("6690e6c93ef04ed38b377f3964730bee"), "uuid without dashes refused");
	ok(!xapi_uuid_valid(NULL), "uuid NULL refused");

	is_int(xapi_timestamp_parse("1970-01-01T00:00:00Z", &us), 0, "epoch parses");
	is_int(us, 0, "epoch is 0");
	is_int(xapi_timestamp_parse("2023-05-04T12:00:00-05:00", &us), 0, "offset -05:00 parses");
	is_int(xapi_timestamp_parse("2023-05-04T17:00:00.000Z", &us2), 0, "UTC parses");
	is_int(us, us2, "the same instant");
	is_int(xapi_timestamp_parse("2013-05-18T05:32:34.804123+0130", &us), 0, "basic offset, micros");
	is_int(us % 1000000, 804123, "microseconds kept");
	is_int(xapi_timestamp_parse("2000-02-29T00:00:00Z", &us), 0, "leap day");
	is_int(us, 951782400LL * 1000000, "leap day instant");
	is_int(xapi_timestamp_parse("1900-02-29T00:00:00Z", &us), TC_EINVALID, "1900 is not leap");
	is_int(xapi_timestamp_parse("2000-01-01T24:00:00Z", &us), TC_EINVALID, "hour 24 refused");
	is_int(xapi_timestamp_parse("2000-01-01T10:00:00Zjunk", &us), TC_EINVALID, "trailing junk refused");
	is_int(xapi_timestamp_parse("2000-01-01T10:00:00.Z", &us), TC_EINVALID, "empty fraction refused");
	is_int(xapi_timestamp_parse(NULL, &us), TC_EINVALID, "NULL refused");
}

static void
test_agents(void)
{
	char key[200], err[200];
	json_t *a;

	a = J(ACTOR);
	is_int(xapi_agent_key(a, key, sizeof(key)), 0, "mbox key");
	is_str(key, "mbox:mailto:xapi@adlnet.gov", "mbox key text");
	is_int(xapi_agent_key(a, key, 10), TC_ETOOBIG, "small buffer");
	is_int(xapi_agent_check(a, XAPI_V2, err, sizeof(err)), 0, "agent alone is valid");
	json_decref(a);

	a = J("{'mbox_sha1sum':'CD9B00A5611F94EAA7B1661EDAB976068E364975'}");
	is_int(xapi_agent_key(a, key, sizeof(key)), 0, "sha1 key");
	is_str(key, "mbox_sha1sum:cd9b00a5611f94eaa7b1661edab976068e364975", "sha1 key lower-cased");
	json_decref(a);

	a = J("{'openid':'http://openid.example.org/1'}");
	is_int(xapi_agent_key(a, key, sizeof(key)), 0, "openid key");
	is_str(key, "openid:http://openid.example.org/1", "openid key text");
	json_decref(a);

	a = J("{'objectType':'Group','account':{'homePage':'http://example.com','name':'n 1'},'member':[]}");
	is_int(xapi_agent_key(a, key, sizeof(key)), 0, "account key");
	is_str(key, "account:http://example.com n 1", "account key text");
	is_int(xapi_agent_check(a, XAPI_V1, err, sizeof(err)), 0, "identified group alone is valid");
	json_decref(a);

	a = J("{'mbox':'mailto:a@b.c','openid':'http://o.example/'}");
	is_int(xapi_agent_key(a, key, sizeof(key)), TC_EINVALID, "two IFIs: no key");
	is_int(xapi_agent_check(a, XAPI_V1, err, sizeof(err)), TC_EINVALID, "two IFIs refused");
	is_str(err, "agent: an Agent needs exactly one of mbox, mbox_sha1sum, openid, account (has 2)", "its message");
	json_decref(a);

	a = J("{'objectType':'Group','member':[" ACTOR "]}");
	is_int(xapi_agent_key(a, key, sizeof(key)), TC_EINVALID, "anonymous group: no key");
	is_int(xapi_agent_check(a, XAPI_V1, err, sizeof(err)), TC_EINVALID, "anonymous group refused as agent=");
	is_str(err, "agent: must be an Agent or an identified Group", "its message");
	json_decref(a);

	is_int(xapi_agent_check(NULL, XAPI_V1, err, sizeof(err)), TC_EINVALID, "NULL agent refused");
	is_int(xapi_agent_key(NULL, key, sizeof(key)), TC_EINVALID, "NULL agent: no key");
}

static int
same_text(const char *a, const char *b)
{
	json_t *ja = J(a), *jb = J(b);
	int r = xapi_statement_same(ja, jb);

	json_decref(ja);
	json_decref(jb);
	return r;
}

static void
test_same(void)
{
	json_t *a = J(S_LONG), *b = J(S_LONG);

	ok(xapi_statement_same(a, b), "identical statements are the same");
	json_object_del(b, "stored");
	json_object_set_new(b, "authority", J(ACTOR));
	json_object_set_new(b, "version", json_string("1.0.3"));
	ok(xapi_statement_same(a, b), "stored, authority, version ignored");
	json_object_set_new(b, "timestamp", json_string("2013-05-18T07:32:34.804+02:00"));
	ok(xapi_statement_same(a, b), "timestamps compared as instants");
	json_object_set_new(b, "id", json_string("6690E6C9-3EF0-4ED3-8B37-7F3964730BEE"));
	ok(xapi_statement_same(a, b), "id case ignored");
	json_object_del(b, "id");
	ok(xapi_statement_same(a, b), "id absent from one is ignored");
	set_path(b, "verb.display", "{'EN-gb':'attended','en-us':'attended'}");
	ok(xapi_statement_same(a, b), "language map key case ignored");
	set_path(b, "result.duration", "'PT1H0M0.0049S'");
	ok(xapi_statement_same(a, b), "duration beyond hundredths ignored");
	set_path(b, "object.objectType", NULL);
	ok(xapi_statement_same(a, b), "default objectType equals explicit one");
	set_path(b, "context.registration", "'EC531277-B57B-4C15-8D91-D292C5B2B8F7'");
	ok(xapi_statement_same(a, b), "registration case ignored");
	set_path(b, "result.success", "false");
	ok(!xapi_statement_same(a, b), "a different result is different");
	set_path(b, "result.success", "true");
	set_path(b, "timestamp", "'2013-05-18T05:32:34.805Z'");
	ok(!xapi_statement_same(a, b), "a different instant is different");
	json_decref(a);
	json_decref(b);

	ok(same_text("{'actor':" ACTOR ",'verb':" VERB ",'object':" ACT ",'result':{'score':{'raw':1}}}",
		     "{'actor':" ACTOR ",'verb':" VERB ",'object':" ACT ",'result':{'score':{'raw':1.0}}}"),
	   "1 equals 1.0");
	ok(same_text("{'actor':" ACTOR ",'verb':" VERB ",'object':" ACT ",'context':{'contextActivities':{'parent':" ACT "}}}",
		     "{'actor':" ACTOR ",'verb':" VERB ",'object':" ACT ",'context':{'contextActivities':{'parent':[" ACT "]}}}"),
	   "a single context activity equals an array of one");
	ok(!same_text("{'actor':" ACTOR ",'verb':" VERB ",'object':" ACT ",'id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bee'}",
		      "{'actor':" ACTOR ",'verb':" VERB ",'object':" ACT ",'id':'6690e6c9-3ef0-4ed3-8b37-7f3964730bef'}"),
	   "different ids are different");
	ok(!same_text(S_DEFAULT, S_SUB), "different objects are different");
	ok(!xapi_statement_same(NULL, NULL), "NULL is never the same");
}

static void
test_format(void)
{
	json_t *s = J(S_LONG), *f, *want;
	char *dump;

	f = xapi_statement_format(s, XAPI_FMT_EXACT, NULL);
	ok(f && f != s && json_equal(f, s), "exact is an equal copy");
	json_decref(f);

	f = xapi_statement_format(s, XAPI_FMT_IDS, NULL);
	want = J("{'objectType':'Group','mbox':'mailto:teampb@example.com'}");
	ok(json_equal(json_object_get(f, "actor"), want), "ids: identified group reduced to its IFI");
	json_decref(want);
	want = J("{'id':'http://adlnet.gov/expapi/verbs/attended'}");
	ok(json_equal(json_object_get(f, "verb"), want), "ids: verb reduced to id");
	json_decref(want);
	want = J("{'id':'http://www.example.com/meetings/occurances/34534'}");
	ok(json_equal(json_object_get(f, "object"), want), "ids: activity reduced to id");
	json_decref(want);
	want = J("{'objectType':'Agent','account':{'homePage':'http://www.example.com','name':'13936749'}}");
	ok(json_equal(json_object_get(json_object_get(f, "context"), "instructor"), want), "ids: instructor reduced");
	json_decref(want);
	want = J("{'id':'http://www.example.com/meetings/categories/teammeeting'}");
	ok(json_equal(json_array_get(json_object_get(json_object_get(json_object_get(f, "context"),
		"contextActivities"), "category"), 0), want), "ids: context activity reduced");
	json_decref(want);
	ok(json_object_get(f, "result") != NULL, "ids: result kept");
	json_decref(f);

	f = xapi_statement_format(s, XAPI_FMT_CANONICAL, "en-US;q=0.9, fr");
	want = J("{'en-US':'attended'}");
	ok(json_equal(json_object_get(json_object_get(f, "verb"), "display"), want), "canonical: best language");
	json_decref(want);
	json_decref(f);
	f = xapi_statement_format(s, XAPI_FMT_CANONICAL, "en");
	dump = json_dumps(json_object_get(json_object_get(f, "verb"), "display"), JSON_COMPACT);
	ok(dump && json_object_size(json_object_get(json_object_get(f, "verb"), "display")) == 1,
	   "canonical: a prefix range picks one entry");
	free(dump);
	json_decref(f);
	f = xapi_statement_format(s, XAPI_FMT_CANONICAL, NULL);
	want = J("{'en-GB':'attended'}");
	ok(json_equal(json_object_get(json_object_get(f, "verb"), "display"), want), "canonical: no list, first entry");
	json_decref(want);
	json_decref(f);
	json_decref(s);

	s = J(S_GROUPS);
	f = xapi_statement_format(s, XAPI_FMT_IDS, NULL);
	want = J("{'objectType':'Group','member':[{'mbox':'mailto:a@example.com'},"
		 "{'objectType':'Agent','openid':'http://openid.example.org/1'}]}");
	ok(json_equal(json_object_get(f, "actor"), want), "ids: anonymous group keeps reduced members");
	json_decref(want);
	json_decref(f);
	json_decref(s);
}

int
main(void)
{
	test_valid();
	test_invalid();
	test_context_object_rules();
	test_lang();
	test_helpers();
	test_agents();
	test_same();
	test_format();
	return done_testing();
}
