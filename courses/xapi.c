/*
 * xapi.c - TEMPORARY minimal implementation of courses/xapi.h, so that the
 * LRS (server/api_xapi.c, storage/xapi*.c) builds and is tested. The full
 * data-model validation comes from the xapimodel branch, which replaces
 * this file at merge.
 *
 * Checked here: the statement is an object with only known properties;
 * id a UUID; actor an Agent or Group with exactly one inverse functional
 * identifier (mbox mailto:, mbox_sha1sum 40 hex, openid, account with
 * homePage and name); verb with an IRI id and a language map display;
 * object an Activity (IRI id), Agent/Group, StatementRef (UUID) or
 * SubStatement (no id, stored, version, authority, no nested
 * SubStatement); result score ranges; context registration a UUID;
 * timestamps ISO 8601 with a zone; version 1.0.x / 2.0.x; language tags.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "courses/errors.h"
#include "courses/xapi.h"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return TC_EINVALID;
}

int
xapi_uuid_valid(const char *s)
{
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

int
xapi_lang_tag_valid(const char *s)
{
	size_t n = 0, seg = 0;

	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++, n++) {
		if (*p == '-') {
			if (seg == 0)
				return 0;
			seg = 0;
		} else if (isalnum((unsigned char)*p) && seg < 8) {
			seg++;
		} else {
			return 0;
		}
	}
	return seg > 0 && n <= 64 && isalpha((unsigned char)s[0]);
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
xapi_timestamp_parse(const char *s, int64_t *out_us)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	int64_t frac = 0, scale = 1000000, t;
	const char *p = s;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't') || (p++, digits(&p, 2, &h)) ||
	    *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
		return TC_EINVALID;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return TC_EINVALID;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return TC_EINVALID;
		while (isdigit((unsigned char)*p)) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
			p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int neg = *p++ == '-';
		if (digits(&p, 2, &oh))
			return TC_EINVALID;
		if (*p == ':')
			p++;
		if (*p && digits(&p, 2, &om))
			return TC_EINVALID;
		if (oh > 23 || om > 59 || (neg && oh == 0 && om == 0))
			return TC_EINVALID;	/* "-00:00" is forbidden */
		if (neg) {
			oh = -oh;
			om = -om;
		}
	} else {
		return TC_EINVALID;
	}
	if (*p)
		return TC_EINVALID;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - oh * 3600 - om * 60;
	if (out_us)
		*out_us = t * 1000000 + frac;
	return 0;
}

/* An IRI as the spec means it: a scheme, then ':' and something. */
static int
iri_valid(const char *s)
{
	const char *c;

	if (!s || !isalpha((unsigned char)s[0]))
		return 0;
	c = strchr(s, ':');
	if (!c || c == s || !c[1])
		return 0;
	for (const char *p = s; p < c; p++)
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
			return 0;
	for (const char *p = s; *p; p++)
		if (*p == ' ')
			return 0;
	return 1;
}

static int
only_keys(const json_t *o, const char *const *keys, const char *path, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		int known = 0;
		for (const char *const *p = keys; *p; p++)
			if (strcmp(*p, k) == 0)
				known = 1;
		if (!known)
			return fail(err, errlen, "%s%s%s: not a property here", path,
				    path[0] ? "." : "", k);
		(void)v;
	}
	return 0;
}

static int
lang_map_check(const json_t *m, const char *path, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(m))
		return fail(err, errlen, "%s: must be a language map (an object)", path);
	json_object_foreach((json_t *)m, k, v) {
		if (!xapi_lang_tag_valid(k))
			return fail(err, errlen, "%s: \"%s\" is not a language tag", path, k);
		if (!json_is_string(v))
			return fail(err, errlen, "%s.%s: must be a string", path, k);
	}
	return 0;
}

static int
str_member(const json_t *o, const char *k, const char *path, const char **out, char *err,
	   size_t errlen)
{
	json_t *v = json_object_get(o, k);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(err, errlen, "%s.%s: must be a string", path, k);
	*out = json_string_value(v);
	return 0;
}

static int
extensions_check(const json_t *e, const char *path, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(e))
		return fail(err, errlen, "%s: must be an object", path);
	json_object_foreach((json_t *)e, k, v) {
		if (!iri_valid(k))
			return fail(err, errlen, "%s: key \"%s\" is not an IRI", path, k);
		(void)v;
	}
	return 0;
}

/* Counts and checks the inverse functional identifiers of an agent/group. */
static int
ifi_check(const json_t *a, const char *path, int *count, char *err, size_t errlen)
{
	const char *s;
	json_t *acct;
	int rc;

	*count = 0;
	if ((rc = str_member(a, "mbox", path, &s, err, errlen)))
		return rc;
	if (s) {
		(*count)++;
		if (strncmp(s, "mailto:", 7) != 0 || !strchr(s + 7, '@'))
			return fail(err, errlen, "%s.mbox: must be a mailto: IRI", path);
	}
	if ((rc = str_member(a, "mbox_sha1sum", path, &s, err, errlen)))
		return rc;
	if (s) {
		(*count)++;
		if (strlen(s) != 40)
			return fail(err, errlen, "%s.mbox_sha1sum: must be 40 hex digits", path);
		for (const char *p = s; *p; p++)
			if (!isxdigit((unsigned char)*p))
				return fail(err, errlen, "%s.mbox_sha1sum: must be 40 hex digits", path);
	}
	if ((rc = str_member(a, "openid", path, &s, err, errlen)))
		return rc;
	if (s) {
		(*count)++;
		if (!iri_valid(s))
			return fail(err, errlen, "%s.openid: must be an IRI", path);
	}
	acct = json_object_get(a, "account");
	if (acct) {
		static const char *const keys[] = { "homePage", "name", NULL };
		const char *hp = NULL, *nm = NULL;
		char sub[160];

		(*count)++;
		snprintf(sub, sizeof(sub), "%s.account", path);
		if (!json_is_object(acct))
			return fail(err, errlen, "%s: must be an object", sub);
		if ((rc = only_keys(acct, keys, sub, err, errlen)) ||
		    (rc = str_member(acct, "homePage", sub, &hp, err, errlen)) ||
		    (rc = str_member(acct, "name", sub, &nm, err, errlen)))
			return rc;
		if (!hp || !iri_valid(hp))
			return fail(err, errlen, "%s.homePage: must be an IRL", sub);
		if (!nm)
			return fail(err, errlen, "%s.name: is required", sub);
	}
	return 0;
}

static int agent_check_at(const json_t *a, enum xapi_version v, const char *path,
			  int allow_anon_group, char *err, size_t errlen);

static int
agent_check_at(const json_t *a, enum xapi_version v, const char *path, int allow_anon_group,
	       char *err, size_t errlen)
{
	static const char *const agent_keys[] = { "objectType", "name", "mbox", "mbox_sha1sum",
						  "openid", "account", NULL };
	static const char *const group_keys[] = { "objectType", "name", "mbox", "mbox_sha1sum",
						  "openid", "account", "member", NULL };
	const char *ot = NULL, *name = NULL;
	int n = 0, rc, group;
	json_t *members;

	if (!json_is_object(a))
		return fail(err, errlen, "%s: must be an object", path);
	if ((rc = str_member(a, "objectType", path, &ot, err, errlen)))
		return rc;
	if (ot && strcmp(ot, "Agent") != 0 && strcmp(ot, "Group") != 0)
		return fail(err, errlen, "%s.objectType: must be Agent or Group", path);
	group = ot && strcmp(ot, "Group") == 0;
	if ((rc = only_keys(a, group ? group_keys : agent_keys, path, err, errlen)) ||
	    (rc = str_member(a, "name", path, &name, err, errlen)) ||
	    (rc = ifi_check(a, path, &n, err, errlen)))
		return rc;
	if (n > 1)
		return fail(err, errlen, "%s: more than one inverse functional identifier", path);
	if (!group && n != 1)
		return fail(err, errlen, "%s: an Agent needs exactly one of mbox, mbox_sha1sum, openid, account", path);
	members = json_object_get(a, "member");
	if (group) {
		size_t i;
		json_t *m;
		char sub[160];

		if (n == 0 && (!allow_anon_group || !members))
			return fail(err, errlen, "%s: an anonymous Group needs member", path);
		if (members && !json_is_array(members))
			return fail(err, errlen, "%s.member: must be an array", path);
		json_array_foreach(members, i, m) {
			const char *mot = NULL;
			snprintf(sub, sizeof(sub), "%s.member[%zu]", path, i);
			if (json_is_object(m) && (rc = str_member(m, "objectType", sub, &mot, err, errlen)))
				return rc;
			if (mot && strcmp(mot, "Group") == 0)
				return fail(err, errlen, "%s: a Group cannot contain a Group", sub);
			if ((rc = agent_check_at(m, v, sub, 0, err, errlen)))
				return rc;
		}
	}
	return 0;
}

int
xapi_agent_check(const json_t *agent, enum xapi_version v, char *err, size_t errlen)
{
	return agent_check_at(agent, v, "agent", 0, err, errlen);
}

static int
activity_check(const json_t *o, const char *path, char *err, size_t errlen)
{
	static const char *const keys[] = { "objectType", "id", "definition", NULL };
	static const char *const def_keys[] = { "name", "description", "type", "moreInfo",
		"extensions", "interactionType", "correctResponsesPattern", "choices",
		"scale", "source", "target", "steps", NULL };
	const char *id = NULL, *s = NULL;
	json_t *def;
	char sub[160];
	int rc;

	if ((rc = only_keys(o, keys, path, err, errlen)) ||
	    (rc = str_member(o, "id", path, &id, err, errlen)))
		return rc;
	if (!id || !iri_valid(id))
		return fail(err, errlen, "%s.id: an Activity needs an IRI id", path);
	def = json_object_get(o, "definition");
	if (!def)
		return 0;
	snprintf(sub, sizeof(sub), "%s.definition", path);
	if (!json_is_object(def))
		return fail(err, errlen, "%s: must be an object", sub);
	if ((rc = only_keys(def, def_keys, sub, err, errlen)))
		return rc;
	if (json_object_get(def, "name") &&
	    (rc = lang_map_check(json_object_get(def, "name"), "definition.name", err, errlen)))
		return rc;
	if (json_object_get(def, "description") &&
	    (rc = lang_map_check(json_object_get(def, "description"), "definition.description",
				 err, errlen)))
		return rc;
	if ((rc = str_member(def, "type", sub, &s, err, errlen)))
		return rc;
	if (s && !iri_valid(s))
		return fail(err, errlen, "%s.type: must be an IRI", sub);
	if ((rc = str_member(def, "moreInfo", sub, &s, err, errlen)))
		return rc;
	if (s && !iri_valid(s))
		return fail(err, errlen, "%s.moreInfo: must be an IRL", sub);
	if (json_object_get(def, "extensions") &&
	    (rc = extensions_check(json_object_get(def, "extensions"), "definition.extensions",
				   err, errlen)))
		return rc;
	if ((rc = str_member(def, "interactionType", sub, &s, err, errlen)))
		return rc;
	if (s) {
		static const char *const kinds[] = { "true-false", "choice", "fill-in",
			"long-fill-in", "matching", "performance", "sequencing", "likert",
			"numeric", "other", NULL };
		int ok = 0;
		for (const char *const *k = kinds; *k; k++)
			ok |= strcmp(*k, s) == 0;
		if (!ok)
			return fail(err, errlen, "%s.interactionType: unknown kind \"%s\"", sub, s);
	}
	return 0;
}

static int statement_check_at(const json_t *st, enum xapi_version v, int sub,
			      char *err, size_t errlen);

static int
object_check(const json_t *o, enum xapi_version v, int in_sub, char *err, size_t errlen)
{
	const char *ot = NULL, *id = NULL;
	int rc;

	if (!json_is_object(o))
		return fail(err, errlen, "object: must be an object");
	if ((rc = str_member(o, "objectType", "object", &ot, err, errlen)))
		return rc;
	if (!ot || strcmp(ot, "Activity") == 0)
		return activity_check(o, "object", err, errlen);
	if (strcmp(ot, "Agent") == 0 || strcmp(ot, "Group") == 0)
		return agent_check_at(o, v, "object", 1, err, errlen);
	if (strcmp(ot, "StatementRef") == 0) {
		static const char *const keys[] = { "objectType", "id", NULL };
		if ((rc = only_keys(o, keys, "object", err, errlen)) ||
		    (rc = str_member(o, "id", "object", &id, err, errlen)))
			return rc;
		if (!id || !xapi_uuid_valid(id))
			return fail(err, errlen, "object.id: a StatementRef needs a UUID id");
		return 0;
	}
	if (strcmp(ot, "SubStatement") == 0) {
		if (in_sub)
			return fail(err, errlen, "object: a SubStatement cannot contain a SubStatement");
		return statement_check_at(o, v, 1, err, errlen);
	}
	return fail(err, errlen, "object.objectType: \"%s\" is not an object type", ot);
}

static int
result_check(const json_t *r, char *err, size_t errlen)
{
	static const char *const keys[] = { "score", "success", "completion", "response",
					    "duration", "extensions", NULL };
	static const char *const score_keys[] = { "scaled", "raw", "min", "max", NULL };
	json_t *sc, *x;
	const char *s;
	int rc;

	if (!json_is_object(r))
		return fail(err, errlen, "result: must be an object");
	if ((rc = only_keys(r, keys, "result", err, errlen)))
		return rc;
	if ((x = json_object_get(r, "success")) && !json_is_boolean(x))
		return fail(err, errlen, "result.success: must be true or false");
	if ((x = json_object_get(r, "completion")) && !json_is_boolean(x))
		return fail(err, errlen, "result.completion: must be true or false");
	if ((rc = str_member(r, "response", "result", &s, err, errlen)) ||
	    (rc = str_member(r, "duration", "result", &s, err, errlen)))
		return rc;
	if (s && s[0] != 'P')
		return fail(err, errlen, "result.duration: must be an ISO 8601 duration");
	if ((x = json_object_get(r, "extensions")) &&
	    (rc = extensions_check(x, "result.extensions", err, errlen)))
		return rc;
	sc = json_object_get(r, "score");
	if (!sc)
		return 0;
	if (!json_is_object(sc))
		return fail(err, errlen, "result.score: must be an object");
	if ((rc = only_keys(sc, score_keys, "result.score", err, errlen)))
		return rc;
	for (const char *const *k = score_keys; *k; k++)
		if ((x = json_object_get(sc, *k)) && !json_is_number(x))
			return fail(err, errlen, "result.score.%s: must be a number", *k);
	if ((x = json_object_get(sc, "scaled")) &&
	    (json_number_value(x) < -1 || json_number_value(x) > 1))
		return fail(err, errlen, "result.score.scaled: must be from -1 to 1");
	{
		json_t *mn = json_object_get(sc, "min"), *mx = json_object_get(sc, "max"),
		       *raw = json_object_get(sc, "raw");
		if (mn && mx && json_number_value(mn) > json_number_value(mx))
			return fail(err, errlen, "result.score.min: above max");
		if (raw && mn && json_number_value(raw) < json_number_value(mn))
			return fail(err, errlen, "result.score.raw: below min");
		if (raw && mx && json_number_value(raw) > json_number_value(mx))
			return fail(err, errlen, "result.score.raw: above max");
	}
	return 0;
}

static int
context_check(const json_t *c, const json_t *object, enum xapi_version v, char *err,
	      size_t errlen)
{
	static const char *const keys[] = { "registration", "instructor", "team",
		"contextActivities", "contextAgents", "contextGroups", "revision", "platform",
		"language", "statement", "extensions", NULL };
	const char *s, *ot = NULL;
	json_t *x;
	int rc;

	if (!json_is_object(c))
		return fail(err, errlen, "context: must be an object");
	if ((rc = only_keys(c, keys, "context", err, errlen)))
		return rc;
	if (v == XAPI_V1 && (json_object_get(c, "contextAgents") ||
			     json_object_get(c, "contextGroups")))
		return fail(err, errlen, "context: contextAgents and contextGroups are xAPI 2.0");
	if ((rc = str_member(c, "registration", "context", &s, err, errlen)))
		return rc;
	if (s && !xapi_uuid_valid(s))
		return fail(err, errlen, "context.registration: must be a UUID");
	if ((x = json_object_get(c, "instructor")) &&
	    (rc = agent_check_at(x, v, "context.instructor", 1, err, errlen)))
		return rc;
	if ((x = json_object_get(c, "team"))) {
		const char *tt = NULL;
		if (json_is_object(x) && (rc = str_member(x, "objectType", "context.team", &tt, err, errlen)))
			return rc;
		if (!tt || strcmp(tt, "Group") != 0)
			return fail(err, errlen, "context.team: must be a Group");
		if ((rc = agent_check_at(x, v, "context.team", 1, err, errlen)))
			return rc;
	}
	if ((rc = str_member(c, "language", "context", &s, err, errlen)))
		return rc;
	if (s && !xapi_lang_tag_valid(s))
		return fail(err, errlen, "context.language: not a language tag");
	if ((rc = str_member(c, "revision", "context", &s, err, errlen)) ||
	    (rc = str_member(c, "platform", "context", &s, err, errlen)))
		return rc;
	if ((json_object_get(c, "revision") || json_object_get(c, "platform")) && object) {
		str_member(object, "objectType", "object", &ot, NULL, 0);
		if (ot && strcmp(ot, "Activity") != 0)
			return fail(err, errlen, "context: revision and platform only with an Activity object");
	}
	if ((x = json_object_get(c, "statement"))) {
		const char *sot = NULL, *sid = NULL;
		if (!json_is_object(x) ||
		    str_member(x, "objectType", "context.statement", &sot, NULL, 0) ||
		    str_member(x, "id", "context.statement", &sid, NULL, 0) ||
		    !sot || strcmp(sot, "StatementRef") != 0 || !xapi_uuid_valid(sid))
			return fail(err, errlen, "context.statement: must be a StatementRef");
	}
	if ((x = json_object_get(c, "extensions")) &&
	    (rc = extensions_check(x, "context.extensions", err, errlen)))
		return rc;
	if ((x = json_object_get(c, "contextActivities"))) {
		static const char *const ck[] = { "parent", "grouping", "category", "other", NULL };
		const char *k;
		json_t *val;
		if (!json_is_object(x))
			return fail(err, errlen, "context.contextActivities: must be an object");
		if ((rc = only_keys(x, ck, "context.contextActivities", err, errlen)))
			return rc;
		json_object_foreach(x, k, val) {
			char sub[96];
			snprintf(sub, sizeof(sub), "context.contextActivities.%s", k);
			if (json_is_array(val)) {
				size_t i;
				json_t *a;
				json_array_foreach(val, i, a) {
					if (!json_is_object(a))
						return fail(err, errlen, "%s: must hold Activities", sub);
					if ((rc = activity_check(a, sub, err, errlen)))
						return rc;
				}
			} else if (!json_is_object(val) ||
				   (rc = activity_check(val, sub, err, errlen))) {
				return rc ? rc : fail(err, errlen, "%s: must be an Activity or an array", sub);
			}
		}
	}
	return 0;
}

static int
statement_check_at(const json_t *st, enum xapi_version v, int sub, char *err, size_t errlen)
{
	static const char *const keys[] = { "id", "actor", "verb", "object", "result",
		"context", "timestamp", "stored", "authority", "version", "attachments",
		"objectType", NULL };
	static const char *const sub_keys[] = { "actor", "verb", "object", "result",
		"context", "timestamp", "attachments", "objectType", NULL };
	const char *s;
	json_t *x, *verb;
	int rc;

	if (!json_is_object(st))
		return fail(err, errlen, "the statement must be a JSON object");
	if ((rc = only_keys(st, sub ? sub_keys : keys, sub ? "object" : "", err, errlen)))
		return rc;
	if (!sub) {
		if ((rc = str_member(st, "objectType", "statement", &s, err, errlen)))
			return rc;
		if (s)
			return fail(err, errlen, "objectType: not a property of a Statement");
	}
	if ((rc = str_member(st, "id", "statement", &s, err, errlen)))
		return rc;
	if (json_object_get(st, "id") && !xapi_uuid_valid(s))
		return fail(err, errlen, "id: must be a UUID");
	if (!json_object_get(st, "actor"))
		return fail(err, errlen, "actor: is required");
	if ((rc = agent_check_at(json_object_get(st, "actor"), v, "actor", 1, err, errlen)))
		return rc;
	verb = json_object_get(st, "verb");
	if (!json_is_object(verb))
		return fail(err, errlen, "verb: is required and must be an object");
	{
		static const char *const vk[] = { "id", "display", NULL };
		if ((rc = only_keys(verb, vk, "verb", err, errlen)) ||
		    (rc = str_member(verb, "id", "verb", &s, err, errlen)))
			return rc;
		if (!s || !iri_valid(s))
			return fail(err, errlen, "verb.id: must be an IRI");
		if ((x = json_object_get(verb, "display")) &&
		    (rc = lang_map_check(x, "verb.display", err, errlen)))
			return rc;
	}
	if (!json_object_get(st, "object"))
		return fail(err, errlen, "object: is required");
	if ((rc = object_check(json_object_get(st, "object"), v, sub, err, errlen)))
		return rc;
	if ((x = json_object_get(st, "result")) && (rc = result_check(x, err, errlen)))
		return rc;
	if ((x = json_object_get(st, "context")) &&
	    (rc = context_check(x, json_object_get(st, "object"), v, err, errlen)))
		return rc;
	if ((rc = str_member(st, "timestamp", "statement", &s, err, errlen)))
		return rc;
	if (s && xapi_timestamp_parse(s, NULL))
		return fail(err, errlen, "timestamp: must be an ISO 8601 date-time with a zone");
	if ((rc = str_member(st, "stored", "statement", &s, err, errlen)))
		return rc;
	if (s && xapi_timestamp_parse(s, NULL))
		return fail(err, errlen, "stored: must be an ISO 8601 date-time with a zone");
	if ((rc = str_member(st, "version", "statement", &s, err, errlen)))
		return rc;
	if (s && strncmp(s, v == XAPI_V2 ? "2.0." : "1.0.", 4) != 0)
		return fail(err, errlen, "version: \"%s\" is not %s", s, v == XAPI_V2 ? "2.0.x" : "1.0.x");
	if ((x = json_object_get(st, "authority")) &&
	    (rc = agent_check_at(x, v, "authority", 1, err, errlen)))
		return rc;
	if ((x = json_object_get(st, "attachments"))) {
		size_t i;
		json_t *a;
		if (!json_is_array(x))
			return fail(err, errlen, "attachments: must be an array");
		json_array_foreach(x, i, a) {
			const char *ut = NULL, *ct = NULL, *sha = NULL;
			json_t *len = json_object_get(a, "length");
			if (!json_is_object(a) || !json_is_object(json_object_get(a, "display")) ||
			    str_member(a, "usageType", "attachments", &ut, NULL, 0) ||
			    str_member(a, "contentType", "attachments", &ct, NULL, 0) ||
			    str_member(a, "sha2", "attachments", &sha, NULL, 0) ||
			    !ut || !iri_valid(ut) || !ct || !sha || !json_is_integer(len))
				return fail(err, errlen, "attachments[%zu]: needs usageType, display, contentType, length and sha2", i);
		}
	}
	return 0;
}

int
xapi_statement_check(const json_t *stmt, enum xapi_version v, char *err, size_t errlen)
{
	return statement_check_at(stmt, v, 0, err, errlen);
}

int
xapi_agent_key(const json_t *agent, char *out, size_t outsize)
{
	const char *s;
	json_t *acct;
	int n, w = -1;

	if (!json_is_object(agent) || ifi_check(agent, "agent", &n, NULL, 0) || n != 1)
		return TC_EINVALID;
	if ((s = json_string_value(json_object_get(agent, "mbox"))))
		w = snprintf(out, outsize, "mbox:%s", s);
	else if ((s = json_string_value(json_object_get(agent, "mbox_sha1sum"))))
		w = snprintf(out, outsize, "mbox_sha1sum:%s", s);
	else if ((s = json_string_value(json_object_get(agent, "openid"))))
		w = snprintf(out, outsize, "openid:%s", s);
	else if ((acct = json_object_get(agent, "account")))
		w = snprintf(out, outsize, "account:%s %s",
			     json_string_value(json_object_get(acct, "homePage")),
			     json_string_value(json_object_get(acct, "name")));
	if (w < 0)
		return TC_EINVALID;
	return (size_t)w >= outsize ? TC_ETOOBIG : 0;
}

/* A copy of S without what the LRS sets. */
static json_t *
comparable(const json_t *s)
{
	json_t *c = json_deep_copy(s);

	if (c) {
		json_object_del(c, "stored");
		json_object_del(c, "authority");
		json_object_del(c, "version");
		json_object_del(c, "id");
	}
	return c;
}

int
xapi_statement_same(const json_t *a, const json_t *b)
{
	json_t *ca = comparable(a), *cb = comparable(b);
	int same = ca && cb && json_equal(ca, cb);

	json_decref(ca);
	json_decref(cb);
	return same;
}

/* For the ids format: an agent or group reduced to its identifier. */
static json_t *
agent_ids(const json_t *a)
{
	static const char *const ifis[] = { "mbox", "mbox_sha1sum", "openid", "account", NULL };
	json_t *o = json_object(), *m;

	if (!o)
		return NULL;
	if (json_object_get(a, "objectType"))
		json_object_set(o, "objectType", json_object_get(a, "objectType"));
	for (const char *const *k = ifis; *k; k++)
		if (json_object_get(a, *k))
			json_object_set(o, *k, json_object_get(a, *k));
	if ((m = json_object_get(a, "member")) && json_is_array(m) &&
	    !json_object_get(o, "mbox") && !json_object_get(o, "mbox_sha1sum") &&
	    !json_object_get(o, "openid") && !json_object_get(o, "account")) {
		json_t *arr = json_array(), *x;
		size_t i;
		json_array_foreach(m, i, x)
			json_array_append_new(arr, agent_ids(x));
		json_object_set_new(o, "member", arr);
	}
	return o;
}

static void
ids_statement(json_t *s)
{
	json_t *x, *obj;
	const char *ot;

	if ((x = json_object_get(s, "actor")))
		json_object_set_new(s, "actor", agent_ids(x));
	if ((x = json_object_get(s, "verb")))
		json_object_del(x, "display");
	if ((x = json_object_get(s, "authority")))
		json_object_set_new(s, "authority", agent_ids(x));
	obj = json_object_get(s, "object");
	ot = json_string_value(json_object_get(obj, "objectType"));
	if (!ot || strcmp(ot, "Activity") == 0)
		json_object_del(obj, "definition");
	else if (strcmp(ot, "Agent") == 0 || strcmp(ot, "Group") == 0)
		json_object_set_new(s, "object", agent_ids(obj));
	else if (strcmp(ot, "SubStatement") == 0)
		ids_statement(obj);
	if ((x = json_object_get(json_object_get(s, "context"), "contextActivities"))) {
		const char *k;
		json_t *v;
		json_object_foreach(x, k, v) {
			size_t i;
			json_t *a;
			json_array_foreach(v, i, a)
				json_object_del(a, "definition");
		}
	}
}

/* First language of LANGS present in map M, else the first entry. */
static void
canonical_map(json_t *m, const char *langs)
{
	const char *k, *pick = NULL;
	json_t *v;
	char tag[64];

	if (!json_is_object(m) || json_object_size(m) <= 1)
		return;
	for (const char *p = langs; p && *p && !pick;) {
		size_t n = strcspn(p, ",;");
		while (*p == ' ')
			p++, n--;
		if (n < sizeof(tag)) {
			memcpy(tag, p, n);
			tag[n] = '\0';
			while (n && tag[n - 1] == ' ')
				tag[--n] = '\0';
			json_object_foreach(m, k, v)
				if (strcasecmp(k, tag) == 0) {
					pick = k;
					break;
				}
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	json_object_foreach(m, k, v) {
		if (!pick)
			pick = k;
		break;
	}
	{
		char keep[64];
		json_t *val;
		snprintf(keep, sizeof(keep), "%s", pick);
		val = json_incref(json_object_get(m, keep));
		json_object_clear(m);
		json_object_set_new(m, keep, val);
	}
}

static void
canonical_statement(json_t *s, const char *langs)
{
	json_t *obj = json_object_get(s, "object"), *def;

	canonical_map(json_object_get(json_object_get(s, "verb"), "display"), langs);
	if ((def = json_object_get(obj, "definition"))) {
		canonical_map(json_object_get(def, "name"), langs);
		canonical_map(json_object_get(def, "description"), langs);
	}
	if (json_object_get(obj, "objectType") &&
	    strcmp(json_string_value(json_object_get(obj, "objectType")), "SubStatement") == 0)
		canonical_statement(obj, langs);
}

json_t *
xapi_statement_format(const json_t *stmt, enum xapi_format f, const char *langs)
{
	json_t *c = json_deep_copy(stmt);

	if (!c)
		return NULL;
	if (f == XAPI_FMT_IDS)
		ids_statement(c);
	else if (f == XAPI_FMT_CANONICAL)
		canonical_statement(c, langs);
	return c;
}
