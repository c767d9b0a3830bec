/* recognition.c - see recognition.h. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/recognition.h"

static const char *const reason_names[] = {
	[RECOG_RECOGNISED] = "recognised",
	[RECOG_NOT_VERIFIED] = "not verified",
	[RECOG_REVOKED] = "revoked",
	[RECOG_UNREGISTERED_ISSUER] = "unregistered issuer",
	[RECOG_KEY_NOT_VALID] = "key not valid when signed",
	[RECOG_NO_RULE] = "no rule",
	[RECOG_RULE_NOT_ACTIVE] = "rule not active",
	[RECOG_RULE_EXPIRED] = "rule expired",
	[RECOG_OUTSIDE_WINDOW] = "issued outside the rule's dates",
	[RECOG_GRADE_MISSING] = "no grade",
	[RECOG_GRADE_BELOW_MINIMUM] = "grade below minimum",
	[RECOG_ALREADY_RECOGNISED] = "already recognised",
};

const char *
recognition_reason_name(enum recog_reason r)
{
	if ((unsigned)r < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[r])
		return reason_names[r];
	return "unknown";
}

static const char *const status_names[] = { NULL, "proposed", "active", "expired" };

const char *
recognition_status_name(enum recog_status s)
{
	return s >= RECOG_PROPOSED && s <= RECOG_EXPIRED ? status_names[s] : "unknown";
}

int
recognition_status_parse(const char *s, enum recog_status *out)
{
	for (int i = RECOG_PROPOSED; s && i <= RECOG_EXPIRED; i++)
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum recog_status)i;
			return 0;
		}
	return TC_EINVALID;
}

int
recognition_field_check(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int broad;

	if (n < 2 || n > RECOG_FIELD_MAX)
		return TC_EINVALID;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return TC_EINVALID;
	broad = (s[0] - '0') * 10 + (s[1] - '0');
	return broad <= 10 || broad == 99 ? 0 : TC_EINVALID;
}

int
recognition_grade_parse(const char *s, int *x100)
{
	int whole = 0, frac = 0, digits = 0, fd = 0;
	const char *p = s;

	if (!s || !*s)
		return TC_EINVALID;
	for (; isdigit((unsigned char)*p) && digits < 3; p++, digits++)
		whole = whole * 10 + (*p - '0');
	if (digits == 0)
		return TC_EINVALID;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p) && fd < 2; p++, fd++)
			frac = frac * 10 + (*p - '0');
		if (fd == 0)
			return TC_EINVALID;
		if (fd == 1)
			frac *= 10;
	}
	if (*p || whole * 100 + frac > 1000)
		return TC_EINVALID;
	*x100 = whole * 100 + frac;
	return 0;
}

/* Howard Hinnant's days_from_civil. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int
recognition_date_days(const char *s, int64_t *days)
{
	if (!s || date_check(s, NULL))
		return TC_EINVALID;
	*days = days_from_civil(atoi(s), (unsigned)atoi(s + 5), (unsigned)atoi(s + 8));
	return 0;
}

/* ---- parsing --------------------------------------------------------------- */

struct perr {
	char *buf;
	size_t size;
};

static int
fail(struct perr *e, const char *fmt, ...)
{
	va_list ap;

	if (e->buf && e->size) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->size, fmt, ap);
		va_end(ap);
	}
	return TC_EINVALID;
}

/* Every member of O is one of ALLOWED (NULL-terminated) and not null. */
static int
members_ok(json_t *o, const char *where, const char *const *allowed, struct perr *e)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		size_t i;

		for (i = 0; allowed[i] && strcmp(allowed[i], k) != 0; i++)
			;
		if (!allowed[i])
			return fail(e, "%s%s%s: unknown member", where, *where ? "." : "", k);
		if (json_is_null(v))
			return fail(e, "%s%s%s: must not be null", where, *where ? "." : "", k);
	}
	return 0;
}

/* A JSON number with at most DECIMALS decimals in [0, MAX] into units of
 * 10^-DECIMALS. */
static int
fixed_number(json_t *v, int decimals, double max, int *out)
{
	double d, scale = decimals == 1 ? 10 : 100, r;

	if (!json_is_number(v))
		return TC_EINVALID;
	d = json_number_value(v);
	if (!(d >= 0 && d <= max))
		return TC_EINVALID;
	r = round(d * scale);
	if (fabs(r - d * scale) > 1e-6)
		return TC_EINVALID;
	*out = (int)r;
	return 0;
}

static int
date_member(json_t *o, const char *key, char out[11], struct perr *e)
{
	json_t *v = json_object_get(o, key);
	int64_t days;

	out[0] = '\0';
	if (!v)
		return 0;
	if (!json_is_string(v) || recognition_date_days(json_string_value(v), &days))
		return fail(e, "%s: must be a date YYYY-MM-DD", key);
	snprintf(out, 11, "%s", json_string_value(v));
	return 0;
}

static int
parse_source(json_t *root, struct recog_rule *r, struct perr *e)
{
	json_t *v = json_object_get(root, "source");
	const char *s;

	if (!v)
		return fail(e, "source: required (an institution code, or \"*\" for any"
			    " registered institution)");
	s = json_string_value(v);
	if (!s || (strcmp(s, "*") != 0 && inst_code_check(s)))
		return fail(e, "source: must be an institution code or \"*\"");
	snprintf(r->source, sizeof(r->source), "%s", s);
	return 0;
}

static int
parse_match(json_t *root, struct recog_rule *r, struct perr *e)
{
	static const char *const allowed[] = { "course", "courses", "level", "field", NULL };
	json_t *m = json_object_get(root, "match"), *v;
	size_t i;
	int rc;

	if (!json_is_object(m))
		return fail(e, "match: required, an object with course, courses, or level"
			    " and/or field");
	if ((rc = members_ok(m, "match", allowed, e)))
		return rc;
	if ((v = json_object_get(m, "course"))) {
		if (json_object_size(m) != 1)
			return fail(e, "match: course goes alone");
		if (!json_is_string(v) || course_code_check(json_string_value(v)))
			return fail(e, "match.course: not a course code");
		r->match = RECOG_MATCH_CODE;
		snprintf(r->codes[0], sizeof(r->codes[0]), "%s", json_string_value(v));
		r->ncodes = 1;
		return 0;
	}
	if ((v = json_object_get(m, "courses"))) {
		if (json_object_size(m) != 1)
			return fail(e, "match: courses goes alone");
		if (!json_is_array(v) || json_array_size(v) < 2 ||
		    json_array_size(v) > RECOG_CODES_MAX)
			return fail(e, "match.courses: must be an array of 2 to %d course codes",
				    RECOG_CODES_MAX);
		r->match = RECOG_MATCH_SET;
		for (i = 0; i < json_array_size(v); i++) {
			const char *c = json_string_value(json_array_get(v, i));

			if (!c || course_code_check(c))
				return fail(e, "match.courses[%zu]: not a course code", i);
			for (int k = 0; k < r->ncodes; k++)
				if (strcmp(r->codes[k], c) == 0)
					return fail(e, "match.courses[%zu]: %s is listed twice", i, c);
			snprintf(r->codes[r->ncodes++], sizeof(r->codes[0]), "%s", c);
		}
		return 0;
	}
	r->match = RECOG_MATCH_LEVEL_FIELD;
	if ((v = json_object_get(m, "level"))) {
		if (!json_is_string(v) || !json_string_value(v)[0] ||
		    course_level_check(json_string_value(v)))
			return fail(e, "match.level: must be 1..63 of a-z 0-9 -");
		snprintf(r->level, sizeof(r->level), "%s", json_string_value(v));
	}
	if ((v = json_object_get(m, "field"))) {
		if (!json_is_string(v) || recognition_field_check(json_string_value(v)))
			return fail(e, "match.field: must be an ISCED-F 2013 code (2, 3 or 4"
				    " digits, e.g. 0613)");
		snprintf(r->field, sizeof(r->field), "%s", json_string_value(v));
	}
	if (!r->level[0] && !r->field[0])
		return fail(e, "match: needs course, courses, or level and/or field");
	return 0;
}

static int
parse_target(json_t *root, struct recog_rule *r, struct perr *e)
{
	static const char *const allowed[] = { "course", "title", "credits", "elective_credits",
					       "field", NULL };
	json_t *t = json_object_get(root, "target"), *v;
	int rc;

	if (!json_is_object(t))
		return fail(e, "target: required, {\"course\": code} or {\"elective_credits\":"
			    " N, \"field\"?}");
	if ((rc = members_ok(t, "target", allowed, e)))
		return rc;
	if ((v = json_object_get(t, "course"))) {
		if (json_object_get(t, "elective_credits") || json_object_get(t, "field"))
			return fail(e, "target: a course, or elective credits, not both");
		if (!json_is_string(v) || course_code_check(json_string_value(v)))
			return fail(e, "target.course: not a course code");
		r->target = RECOG_TARGET_COURSE;
		snprintf(r->target_code, sizeof(r->target_code), "%s", json_string_value(v));
		if ((v = json_object_get(t, "title"))) {
			if (!json_is_string(v) || strlen(json_string_value(v)) > COURSE_TITLE_MAX)
				return fail(e, "target.title: must be text");
			snprintf(r->target_title, sizeof(r->target_title), "%s",
				 json_string_value(v));
		}
		if ((v = json_object_get(t, "credits")) &&
		    (fixed_number(v, 1, 60, &r->credits_x10) || r->credits_x10 <= 0))
			return fail(e, "target.credits: must be 0.1..60 with one decimal");
		return 0;
	}
	if (json_object_get(t, "title") || json_object_get(t, "credits"))
		return fail(e, "target: title and credits come from the target course");
	v = json_object_get(t, "elective_credits");
	if (!v)
		return fail(e, "target: needs course or elective_credits");
	if (fixed_number(v, 1, 60, &r->credits_x10) || r->credits_x10 <= 0)
		return fail(e, "target.elective_credits: must be 0.1..60 with at most one"
			    " decimal");
	r->target = RECOG_TARGET_ELECTIVE;
	if ((v = json_object_get(t, "field"))) {
		if (!json_is_string(v) || recognition_field_check(json_string_value(v)))
			return fail(e, "target.field: must be an ISCED-F 2013 code");
		snprintf(r->target_field, sizeof(r->target_field), "%s", json_string_value(v));
	}
	return 0;
}

static int
parse_conversion(json_t *root, struct recog_rule *r, struct perr *e)
{
	static const char *const allowed[] = { "scale", "bands", "min", NULL };
	static const char *const band_allowed[] = { "min", "grade", NULL };
	json_t *c = json_object_get(root, "grade_conversion"), *b, *v;
	const char *s;
	int rc, found = 0;

	if (!c)
		return 0;
	if (!json_is_object(c))
		return fail(e, "grade_conversion: must be an object {scale, bands, min}");
	if ((rc = members_ok(c, "grade_conversion", allowed, e)))
		return rc;
	s = json_string_value(json_object_get(c, "scale"));
	if (!s || !s[0] || strlen(s) > RECOG_SCALE_MAX)
		return fail(e, "grade_conversion.scale: required, 1..%d characters",
			    RECOG_SCALE_MAX);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return fail(e, "grade_conversion.scale: no control characters");
	snprintf(r->scale, sizeof(r->scale), "%s", s);
	b = json_object_get(c, "bands");
	if (!json_is_array(b) || json_array_size(b) < 1 || json_array_size(b) > RECOG_BANDS_MAX)
		return fail(e, "grade_conversion.bands: must be an array of 1 to %d bands",
			    RECOG_BANDS_MAX);
	for (size_t i = 0; i < json_array_size(b); i++) {
		struct recog_band *band = &r->bands[i];
		char where[48];

		v = json_array_get(b, i);
		snprintf(where, sizeof(where), "grade_conversion.bands[%zu]", i);
		if (!json_is_object(v))
			return fail(e, "%s: must be {\"min\": grade, \"grade\": text}", where);
		if ((rc = members_ok(v, where, band_allowed, e)))
			return rc;
		if (fixed_number(json_object_get(v, "min"), 2, 10, &band->min_x100))
			return fail(e, "%s.min: must be 0..10 with at most two decimals", where);
		s = json_string_value(json_object_get(v, "grade"));
		if (!s || !s[0] || strlen(s) > RECOG_LABEL_MAX)
			return fail(e, "%s.grade: required, 1..%d characters", where,
				    RECOG_LABEL_MAX);
		for (const char *p = s; *p; p++)
			if (!isgraph((unsigned char)*p))
				return fail(e, "%s.grade: printable ASCII without spaces", where);
		if (i > 0 && band->min_x100 >= r->bands[i - 1].min_x100)
			return fail(e, "%s.min: bands go from the highest grade down", where);
		for (size_t k = 0; k < i; k++)
			if (strcmp(r->bands[k].grade, s) == 0)
				return fail(e, "%s.grade: %s is used twice", where, s);
		snprintf(band->grade, sizeof(band->grade), "%s", s);
		r->nbands++;
	}
	s = json_string_value(json_object_get(c, "min"));
	if (json_object_get(c, "min") && !s)
		return fail(e, "grade_conversion.min: must be one of the bands' grades");
	if (s) {
		for (int i = 0; i < r->nbands; i++)
			found |= strcmp(r->bands[i].grade, s) == 0;
		if (!found)
			return fail(e, "grade_conversion.min: must be one of the bands' grades");
		snprintf(r->min_converted, sizeof(r->min_converted), "%s", s);
	}
	return 0;
}

static int
parse_root(json_t *root, struct recog_rule *r, struct perr *e)
{
	static const char *const allowed[] = { "source", "match", "target", "min_grade",
					       "grade_conversion", "issued_from", "issued_until",
					       "mutual", "status", "expires_on", NULL };
	json_t *v;
	int rc;

	if (!json_is_object(root))
		return fail(e, "(body): must be a JSON object");
	if ((rc = members_ok(root, "", allowed, e)) || (rc = parse_source(root, r, e)) ||
	    (rc = parse_match(root, r, e)) || (rc = parse_target(root, r, e)) ||
	    (rc = parse_conversion(root, r, e)))
		return rc;
	r->min_grade_x100 = -1;
	if ((v = json_object_get(root, "min_grade")) &&
	    fixed_number(v, 2, 10, &r->min_grade_x100))
		return fail(e, "min_grade: must be 0..10 with at most two decimals");
	if (r->min_grade_x100 >= 0 && r->min_converted[0])
		return fail(e, "min_grade: give a minimum on the source scale or"
			    " grade_conversion.min, not both");
	if ((rc = date_member(root, "issued_from", r->issued_from, e)) ||
	    (rc = date_member(root, "issued_until", r->issued_until, e)) ||
	    (rc = date_member(root, "expires_on", r->expires_on, e)))
		return rc;
	if (r->issued_from[0] && r->issued_until[0] &&
	    strcmp(r->issued_from, r->issued_until) > 0)
		return fail(e, "issued_until: before issued_from");
	if ((v = json_object_get(root, "mutual"))) {
		if (!json_is_boolean(v))
			return fail(e, "mutual: must be true or false");
		r->mutual = json_is_true(v);
	}
	r->status = RECOG_PROPOSED;
	if ((v = json_object_get(root, "status")) &&
	    recognition_status_parse(json_string_value(v), &r->status))
		return fail(e, "status: must be proposed, active or expired");
	return 0;
}

int
recognition_rule_parse(const char *text, size_t len, struct recog_rule *out, char *err,
		       size_t errsize)
{
	struct perr e = { err, errsize };
	json_error_t je;
	json_t *root;
	int rc;

	if (!text || !out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	if (err && errsize)
		err[0] = '\0';
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fail(&e, "(body): not JSON: %s", je.text);
	rc = parse_root(root, out, &e);
	json_decref(root);
	return rc;
}

/* ---- writing --------------------------------------------------------------- */

static json_t *
fixed_json(int v, int decimals)
{
	int scale = decimals == 1 ? 10 : 100;

	return v % scale == 0 ? json_integer(v / scale) : json_real((double)v / scale);
}

int
recognition_rule_json(const struct recog_rule *r, char **out)
{
	json_t *o = json_object(), *m = json_object(), *t = json_object();
	int bad = !o || !m || !t;

	*out = NULL;
	bad |= json_object_set_new(o, "source", json_string(r->source));
	if (r->match == RECOG_MATCH_CODE) {
		bad |= json_object_set_new(m, "course", json_string(r->codes[0]));
	} else if (r->match == RECOG_MATCH_SET) {
		json_t *a = json_array();

		for (int i = 0; i < r->ncodes; i++)
			bad |= json_array_append_new(a, json_string(r->codes[i]));
		bad |= json_object_set_new(m, "courses", a);
	} else {
		if (r->level[0])
			bad |= json_object_set_new(m, "level", json_string(r->level));
		if (r->field[0])
			bad |= json_object_set_new(m, "field", json_string(r->field));
	}
	bad |= json_object_set(o, "match", m);
	if (r->target == RECOG_TARGET_COURSE) {
		bad |= json_object_set_new(t, "course", json_string(r->target_code));
		bad |= json_object_set_new(t, "title", json_string(r->target_title));
		if (r->credits_x10 > 0)
			bad |= json_object_set_new(t, "credits", fixed_json(r->credits_x10, 1));
	} else {
		bad |= json_object_set_new(t, "elective_credits", fixed_json(r->credits_x10, 1));
		if (r->target_field[0])
			bad |= json_object_set_new(t, "field", json_string(r->target_field));
	}
	bad |= json_object_set(o, "target", t);
	if (r->min_grade_x100 >= 0)
		bad |= json_object_set_new(o, "min_grade", fixed_json(r->min_grade_x100, 2));
	if (r->nbands) {
		json_t *c = json_object(), *b = json_array();

		bad |= json_object_set_new(c, "scale", json_string(r->scale));
		for (int i = 0; i < r->nbands; i++)
			bad |= json_array_append_new(b, json_pack("{s:o, s:s}", "min",
						     fixed_json(r->bands[i].min_x100, 2), "grade",
						     r->bands[i].grade));
		bad |= json_object_set_new(c, "bands", b);
		if (r->min_converted[0])
			bad |= json_object_set_new(c, "min", json_string(r->min_converted));
		bad |= json_object_set_new(o, "grade_conversion", c);
	}
	if (r->issued_from[0])
		bad |= json_object_set_new(o, "issued_from", json_string(r->issued_from));
	if (r->issued_until[0])
		bad |= json_object_set_new(o, "issued_until", json_string(r->issued_until));
	bad |= json_object_set_new(o, "mutual", json_boolean(r->mutual));
	bad |= json_object_set_new(o, "status", json_string(recognition_status_name(r->status)));
	if (r->expires_on[0])
		bad |= json_object_set_new(o, "expires_on", json_string(r->expires_on));
	if (!bad)
		*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(m);
	json_decref(t);
	json_decref(o);
	return *out ? 0 : TC_ENOMEM;
}

/* ---- index keys ------------------------------------------------------------ */

void
recognition_rule_keys(const struct recog_rule *r, char keys[RECOG_KEYS_MAX][RECOG_KEY_MAX],
		      int *n)
{
	*n = 0;
	if (r->match == RECOG_MATCH_LEVEL_FIELD) {
		snprintf(keys[(*n)++], RECOG_KEY_MAX, "lf:%s:%s", r->level, r->field);
		return;
	}
	for (int i = 0; i < r->ncodes && i < RECOG_KEYS_MAX; i++)
		snprintf(keys[(*n)++], RECOG_KEY_MAX, "c:%s", r->codes[i]);
}

/* KEY = A B C (C's first CN bytes), cut as snprintf cuts (every query
 * makes a credential's keys: no format to interpret). */
static void
key_make(char key[RECOG_KEY_MAX], const char *a, const char *b, const char *c, size_t cn)
{
	const char *part[3] = { a, b, c };
	size_t len[3] = { strlen(a), strlen(b), cn }, at = 0;

	for (int i = 0; i < 3; i++) {
		size_t k = len[i] < RECOG_KEY_MAX - 1 - at ? len[i] : RECOG_KEY_MAX - 1 - at;

		memcpy(key + at, part[i], k);
		at += k;
	}
	key[at] = '\0';
}

void
recognition_lookup_keys(const char *code, const char *level, const char *field,
			char keys[RECOG_LOOKUP_KEYS][RECOG_KEY_MAX], int *n)
{
	size_t fl = field ? strlen(field) : 0;
	const char *levels[2] = { "", level && level[0] ? level : NULL };

	*n = 0;
	if (code && code[0])
		key_make(keys[(*n)++], "c:", code, "", 0);
	if (fl > RECOG_FIELD_MAX)
		fl = 0;
	for (int l = 0; l < 2; l++) {
		if (!levels[l])
			continue;
		if (levels[l][0])	/* level alone */
			key_make(keys[(*n)++], "lf:", levels[l], ":", 1);
		for (size_t p = 2; p <= fl; p++) {
			char pre[RECOG_KEY_MAX];

			key_make(pre, "lf:", levels[l], ":", 1);
			key_make(keys[(*n)++], pre, "", field, p);
		}
	}
}

/* ---- deciding -------------------------------------------------------------- */

static int
field_covers(const char *rule_field, const char *field)
{
	size_t n = strlen(rule_field);

	return n == 0 || (strlen(field) >= n && strncmp(rule_field, field, n) == 0);
}

int
recognition_rule_matches(const struct recog_rule *r, const struct recog_facts *f)
{
	if (r->source_id != 0 && r->source_id != f->issuer_id)
		return 0;
	switch (r->match) {
	case RECOG_MATCH_CODE:
	case RECOG_MATCH_SET:
		for (int i = 0; i < r->ncodes; i++)
			if (strcmp(r->codes[i], f->course_code) == 0)
				return 1;
		return 0;
	case RECOG_MATCH_LEVEL_FIELD:
		if (r->level[0] && strcmp(r->level, f->level) != 0)
			return 0;
		if (r->field[0] && !field_covers(r->field, f->field))
			return 0;
		return r->level[0] || r->field[0];
	}
	return 0;
}

/* Smaller is more specific: the match kind first, then a longer field,
 * then a named source. */
static int
specificity(const struct recog_rule *r)
{
	int rank;

	switch (r->match) {
	case RECOG_MATCH_CODE:
		rank = 0;
		break;
	case RECOG_MATCH_SET:
		rank = 10;
		break;
	default:
		if (r->level[0] && r->field[0])
			rank = 20 + (4 - (int)strlen(r->field));	/* 20..22 */
		else if (r->field[0])
			rank = 30 + (4 - (int)strlen(r->field));	/* 30..32 */
		else
			rank = 40;
		break;
	}
	return rank * 2 + (r->source_id == 0);
}

/* 1 when A decides before B. */
static int
before(const struct recog_rule *a, const struct recog_rule *b)
{
	int sa = specificity(a), sb = specificity(b);

	if (sa != sb)
		return sa < sb;
	if (a->created_at != b->created_at)
		return a->created_at > b->created_at;
	return a->id < b->id;
}

static int
in_force(const struct recog_rule *r, int64_t today)
{
	int64_t exp;

	if (r->status != RECOG_ACTIVE)
		return 0;
	return !r->expires_on[0] || recognition_date_days(r->expires_on, &exp) || today < exp;
}

static void
grade_text(int x100, char out[24])
{
	if (x100 % 100 == 0)
		snprintf(out, 24, "%d", x100 / 100);
	else if (x100 % 10 == 0)
		snprintf(out, 24, "%d.%d", x100 / 100, (x100 % 100) / 10);
	else
		snprintf(out, 24, "%d.%02d", x100 / 100, x100 % 100);
}

/* The rule's own conditions for F: RECOG_RECOGNISED (CONVERTED filled
 * when the rule converts) or why not, with DETAIL. */
static enum recog_reason
conditions(const struct recog_rule *r, const struct recog_facts *f, char converted[9],
	   char *detail, size_t dsize)
{
	int64_t issued = f->issued_at >= 0 ? f->issued_at / 86400 : -1, d;
	char g[24], m[24];
	int band = -1, minband = -1;

	converted[0] = '\0';
	if (r->issued_from[0] && recognition_date_days(r->issued_from, &d) == 0 && issued < d) {
		snprintf(detail, dsize, "issued before %s", r->issued_from);
		return RECOG_OUTSIDE_WINDOW;
	}
	if (r->issued_until[0] && recognition_date_days(r->issued_until, &d) == 0 &&
	    issued > d) {
		snprintf(detail, dsize, "issued after %s", r->issued_until);
		return RECOG_OUTSIDE_WINDOW;
	}
	if (r->min_grade_x100 < 0 && !r->nbands)
		return RECOG_RECOGNISED;
	if (f->grade_x100 < 0) {
		snprintf(detail, dsize, "the rule needs a grade and the credential has none");
		return RECOG_GRADE_MISSING;
	}
	grade_text(f->grade_x100, g);
	if (r->min_grade_x100 >= 0 && f->grade_x100 < r->min_grade_x100) {
		grade_text(r->min_grade_x100, m);
		snprintf(detail, dsize, "grade %s is below the minimum %s", g, m);
		return RECOG_GRADE_BELOW_MINIMUM;
	}
	for (int i = 0; i < r->nbands && band < 0; i++)
		if (f->grade_x100 >= r->bands[i].min_x100)
			band = i;
	for (int i = 0; i < r->nbands; i++)
		if (strcmp(r->bands[i].grade, r->min_converted) == 0)
			minband = i;
	if (r->nbands && band < 0) {
		snprintf(detail, dsize, "grade %s is below every band of the %s scale", g,
			 r->scale);
		return RECOG_GRADE_BELOW_MINIMUM;
	}
	if (band >= 0)
		snprintf(converted, RECOG_LABEL_MAX + 1, "%s", r->bands[band].grade);
	if (minband >= 0 && band > minband) {
		snprintf(detail, dsize, "grade %s (%s on the %s scale) is below the minimum %s", g,
			 converted, r->scale, r->min_converted);
		return RECOG_GRADE_BELOW_MINIMUM;
	}
	return RECOG_RECOGNISED;
}

int
recognition_decide(const struct recog_facts *f, const struct recog_rule *rules, size_t n,
		   int64_t now, struct recog_decision *out)
{
	const struct recog_rule *win = NULL, *refused = NULL, *inactive = NULL;
	enum recog_reason why = RECOG_NO_RULE;
	char detail[RECOG_ERR_MAX] = "", conv[RECOG_LABEL_MAX + 1];
	int64_t today = now / 86400;

	if (!out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	out->reason = RECOG_NO_RULE;
	if (!f || (n && !rules))
		return TC_EINVALID;
	if (!f->verified) {
		out->reason = RECOG_NOT_VERIFIED;
		snprintf(out->detail, sizeof(out->detail), "the credential did not verify");
		return 0;
	}
	if (f->revoked) {
		out->reason = RECOG_REVOKED;
		snprintf(out->detail, sizeof(out->detail), "the credential is revoked");
		return 0;
	}
	if (f->issuer_id <= 0) {
		out->reason = RECOG_UNREGISTERED_ISSUER;
		snprintf(out->detail, sizeof(out->detail), "the issuer is not in the registry");
		return 0;
	}
	if (!f->key_valid) {
		out->reason = RECOG_KEY_NOT_VALID;
		snprintf(out->detail, sizeof(out->detail), "signed by a key that was not valid"
			 " at the time (rotated, or not yet in use)");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct recog_rule *r = &rules[i];
		char d[RECOG_ERR_MAX];
		enum recog_reason c;

		if (!recognition_rule_matches(r, f))
			continue;
		if (!in_force(r, today)) {
			/* an expired rule explains more than a proposed one */
			int cr = r->status == RECOG_PROPOSED;
			int ci = inactive && inactive->status == RECOG_PROPOSED;

			if (!inactive || cr < ci || (cr == ci && before(r, inactive)))
				inactive = r;
			continue;
		}
		c = conditions(r, f, conv, d, sizeof(d));
		if (c == RECOG_RECOGNISED) {
			if (!win || before(r, win)) {
				win = r;
				snprintf(out->converted, sizeof(out->converted), "%s", conv);
			}
		} else if (!refused || before(r, refused)) {
			refused = r;
			why = c;
			snprintf(detail, sizeof(detail), "%s", d);
		}
	}
	if (win) {
		out->reason = RECOG_RECOGNISED;
		out->rule = win;
		out->credits_x10 = win->credits_x10;
		if (win->target == RECOG_TARGET_COURSE)
			snprintf(out->detail, sizeof(out->detail), "recognised as %s under rule %lld"
				 " version %d", win->target_code, (long long)win->id, win->version);
		else
			snprintf(out->detail, sizeof(out->detail), "recognised as elective credits"
				 " under rule %lld version %d", (long long)win->id, win->version);
		return 0;
	}
	if (refused) {
		out->reason = why;
		out->rule = refused;
		snprintf(out->detail, sizeof(out->detail), "%s", detail);
		return 0;
	}
	if (inactive) {
		out->rule = inactive;
		out->reason = inactive->status == RECOG_PROPOSED ? RECOG_RULE_NOT_ACTIVE
								  : RECOG_RULE_EXPIRED;
		snprintf(out->detail, sizeof(out->detail), inactive->status == RECOG_PROPOSED ?
			 "the matching rule is only proposed" : "the matching rule has expired");
		return 0;
	}
	snprintf(out->detail, sizeof(out->detail), "no rule of this institution covers the"
		 " course");
	return 0;
}

/* ---- facts from a credential --------------------------------------------- */

static int
digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

int
recognition_time_parse(const char *s, int64_t *out)
{
	char day[11];
	int64_t days;
	int h, m, sec;
	const char *p;

	if (!s || strlen(s) < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return TC_EINVALID;
	memcpy(day, s, 10);
	day[10] = '\0';
	if (recognition_date_days(day, &days) || digits(s + 11, 2, &h) || digits(s + 14, 2, &m) ||
	    digits(s + 17, 2, &sec) || h > 23 || m > 59 || sec > 60)
		return TC_EINVALID;
	p = s + 19;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return TC_EINVALID;
		for (p++; isdigit((unsigned char)*p); p++)
			;
	}
	if (p[0] != 'Z' || p[1] != '\0')
		return TC_EINVALID;
	*out = days * 86400 + h * 3600 + m * 60 + (sec == 60 ? 59 : sec);
	return 0;
}

int
recognition_facts_from_credential(const char *text, size_t len, struct recog_facts *f,
				  char *did, size_t didsize, int64_t *signed_at)
{
	json_t *root = text ? json_loadb(text, len, 0, NULL) : NULL;
	json_t *issuer, *subject, *ach, *v, *proof;
	const char *iss, *code, *from, *created = NULL;
	int rc = TC_EINVALID, x;

	if (!root || !f || !did || !didsize || !signed_at)
		goto out;
	issuer = json_object_get(root, "issuer");
	iss = json_is_string(issuer) ? json_string_value(issuer)
				     : json_string_value(json_object_get(issuer, "id"));
	from = json_string_value(json_object_get(root, "validFrom"));
	subject = json_object_get(root, "credentialSubject");
	ach = json_object_get(subject, "achievement");
	code = json_string_value(json_object_get(ach, "humanCode"));
	if (!iss || strlen(iss) >= didsize || !from || recognition_time_parse(from, &f->issued_at) ||
	    !code || strlen(code) >= sizeof(f->course_code))
		goto out;
	snprintf(did, didsize, "%s", iss);
	snprintf(f->course_code, sizeof(f->course_code), "%s", code);
	f->credits_x10 = 0;
	v = json_object_get(subject, "creditsEarned");
	if (!json_is_number(v))
		v = json_object_get(ach, "creditsAvailable");
	if (json_is_number(v) && json_number_value(v) > 0 && json_number_value(v) <= 600)
		f->credits_x10 = (int)round(json_number_value(v) * 10);
	f->grade_x100 = -1;
	v = json_object_get(json_array_get(json_object_get(subject, "result"), 0), "value");
	if (json_is_string(v) && recognition_grade_parse(json_string_value(v), &x) == 0)
		f->grade_x100 = x;
	proof = json_object_get(root, "proof");
	if (json_is_array(proof))
		proof = json_array_get(proof, 0);
	created = json_string_value(json_object_get(proof, "created"));
	if (!created || recognition_time_parse(created, signed_at))
		*signed_at = f->issued_at;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* ---- the trust list -------------------------------------------------------- */

enum recog_reason
recognition_key_check(const struct recog_key *keys, size_t n, const char *did,
		      int64_t signed_at)
{
	enum recog_reason r = RECOG_UNREGISTERED_ISSUER;

	for (size_t i = 0; did && i < n; i++) {
		if (!keys[i].did || strcmp(keys[i].did, did) != 0)
			continue;
		if (signed_at >= keys[i].valid_from &&
		    (keys[i].valid_until == 0 || signed_at < keys[i].valid_until))
			return RECOG_RECOGNISED;
		r = RECOG_KEY_NOT_VALID;
	}
	return r;
}

int
recognition_mutual_check(const struct recog_rule *r, char *err, size_t errsize)
{
	const char *why = NULL;

	if (strcmp(r->source, "*") == 0)
		why = "a mutual agreement names one partner institution as its source, not \"*\"";
	else if (r->match == RECOG_MATCH_CODE && r->target == RECOG_TARGET_COURSE)
		return 0;
	else if (r->match == RECOG_MATCH_LEVEL_FIELD && r->target == RECOG_TARGET_ELECTIVE)
		return 0;
	else
		why = "only one course for one course, or a level/field for elective credits,"
		      " has a reverse the partner can accept";
	if (err && errsize)
		snprintf(err, errsize, "%s", why);
	return TC_EINVALID;
}

int
recognition_rule_reverse(const struct recog_rule *r, const char *partner,
			 struct recog_rule *out, char *err, size_t errsize)
{
	int rc = recognition_mutual_check(r, err, errsize);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	snprintf(out->source, sizeof(out->source), "%s", partner);
	out->match = r->match;
	out->target = r->target;
	if (r->match == RECOG_MATCH_CODE) {
		snprintf(out->codes[0], sizeof(out->codes[0]), "%s", r->target_code);
		out->ncodes = 1;
		snprintf(out->target_code, sizeof(out->target_code), "%s", r->codes[0]);
	} else {
		snprintf(out->level, sizeof(out->level), "%s", r->level);
		snprintf(out->field, sizeof(out->field), "%s", r->field);
		out->credits_x10 = r->credits_x10;
		snprintf(out->target_field, sizeof(out->target_field), "%s", r->target_field);
	}
	out->min_grade_x100 = r->min_grade_x100;
	snprintf(out->issued_from, sizeof(out->issued_from), "%s", r->issued_from);
	snprintf(out->issued_until, sizeof(out->issued_until), "%s", r->issued_until);
	snprintf(out->expires_on, sizeof(out->expires_on), "%s", r->expires_on);
	out->mutual = 1;
	out->status = RECOG_ACTIVE;
	return 0;
}

/* A recognised target course (NULL: none or elective credits). */
static const char *
counted_course(const struct recog_counted *c)
{
	const struct recog_rule *r = c->decision->rule;

	return c->decision->reason == RECOG_RECOGNISED && r && r->target == RECOG_TARGET_COURSE ?
	       r->target_code : NULL;
}

/* 1 when A counts before B (recognition_settle_repeats). */
static int
counts_before(const struct recog_counted *a, const struct recog_counted *b)
{
	if (a->facts->grade_x100 != b->facts->grade_x100)
		return a->facts->grade_x100 > b->facts->grade_x100;
	if (a->facts->issued_at != b->facts->issued_at)
		return a->facts->issued_at > b->facts->issued_at;
	return strcmp(a->uid, b->uid) < 0;
}

void
recognition_settle_repeats(struct recog_counted *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *code = counted_course(&v[i]);
		size_t best = i;

		if (!code)
			continue;
		for (size_t k = 0; k < n; k++) {
			const char *other = k != i ? counted_course(&v[k]) : NULL;

			if (other && strcmp(other, code) == 0 && counts_before(&v[k], &v[best]))
				best = k;
		}
		if (best != i) {
			struct recog_decision *d = v[i].decision;

			d->reason = RECOG_ALREADY_RECOGNISED;
			d->credits_x10 = 0;
			d->converted[0] = '\0';
			snprintf(d->detail, sizeof(d->detail), "%s is already recognised from"
				 " credential %s", code, v[best].uid);
		}
	}
}
