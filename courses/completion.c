/*
 * completion.c - completion rules (parse, validate, canonical JSON) and the
 * evaluation of a learner against them. See completion.h.
 *
 * Numbers from JSON arrive as doubles; each is turned into an integer of a
 * fixed scale at once (pass mark in hundredths, weights in millionths, ...)
 * and refused when it has more decimals than that scale holds, so every
 * comparison and every rounding afterwards is exact integer arithmetic.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/completion.h"
#include "courses/errors.h"

#define WEIGHT_MAX_MICRO ((int64_t)1000 * 1000000)	/* a weight is at most 1000 */
#define PPM 1000000					/* a fraction in millionths */

void
completion_rules_default(struct completion_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->video_threshold = 90;
	r->pass_mark_x100 = 500;
	r->step_x100 = 10;
}

/* ---- parsing ------------------------------------------------------------ */

static int
fail(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err && errsize) {
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	return TC_EINVALID;
}

/*
 * V as an integer of SCALE units (V = 4.95, SCALE 100 -> 495) within
 * [LO, HI]. 0, or -1 when V is not a number, has more decimals than SCALE
 * holds, or is out of range.
 */
static int
fixed(json_t *v, int64_t scale, int64_t lo, int64_t hi, int64_t *out)
{
	double d, r;

	if (!json_is_number(v))
		return -1;
	d = json_number_value(v) * (double)scale;
	if (!isfinite(d) || d < (double)lo - 0.5 || d > (double)hi + 0.5)
		return -1;
	r = nearbyint(d);
	if (fabs(d - r) > 1e-6)
		return -1;
	*out = (int64_t)r;
	return *out < lo || *out > hi ? -1 : 0;
}

/* A unit uid as made by uuid_v4 (8-4-4-4-12 lower-case hex). */
static int
uid_ok(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' :
		    !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* Letters: 1..7 bytes of printable ASCII, not blank. */
static int
letter_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > COMPLETION_LETTER_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return 0;
	return 1;
}

static int
parse_min_scores(json_t *v, struct completion_rules *r, char *err, size_t errsize)
{
	const char *key;
	json_t *x;
	int64_t m;

	if (!json_is_object(v))
		return fail(err, errsize, "min_scores: must be an object of quiz unit uid: percent");
	if (json_object_size(v) > COMPLETION_ITEMS_MAX)
		return fail(err, errsize, "min_scores: at most %d entries", COMPLETION_ITEMS_MAX);
	json_object_foreach(v, key, x) {
		if (!uid_ok(key))
			return fail(err, errsize, "min_scores.%.40s: not a unit uid", key);
		if (fixed(x, 10, 0, 1000, &m))
			return fail(err, errsize, "min_scores.%s: must be a percentage from 0 to 100"
				    " with at most one decimal", key);
		snprintf(r->min_scores[r->nmin].unit_uid, 37, "%s", key);
		r->min_scores[r->nmin++].min_x10 = (int)m;
	}
	return 0;
}

static int
parse_weights(json_t *v, struct completion_rules *r, char *err, size_t errsize)
{
	const char *key;
	json_t *x;
	int64_t w;

	if (!json_is_object(v))
		return fail(err, errsize, "weights: must be an object of unit uid: weight");
	if (json_object_size(v) > COMPLETION_ITEMS_MAX)
		return fail(err, errsize, "weights: at most %d entries", COMPLETION_ITEMS_MAX);
	json_object_foreach(v, key, x) {
		if (!uid_ok(key))
			return fail(err, errsize, "weights.%.40s: not a unit uid", key);
		if (fixed(x, PPM, 1, WEIGHT_MAX_MICRO, &w))
			return fail(err, errsize, "weights.%s: must be a number above 0 and at most"
				    " 1000, with at most 6 decimals", key);
		snprintf(r->weights[r->nweights].unit_uid, 37, "%s", key);
		r->weights[r->nweights++].w_micro = w;
	}
	return 0;
}

static int
parse_letters(json_t *v, struct completion_rules *r, char *err, size_t errsize)
{
	size_t i;
	json_t *row;
	int64_t m;

	if (!json_is_array(v))
		return fail(err, errsize, "letters: must be an array of {\"min\", \"letter\"}");
	if (json_array_size(v) > COMPLETION_LETTERS_MAX)
		return fail(err, errsize, "letters: at most %d rows", COMPLETION_LETTERS_MAX);
	json_array_foreach(v, i, row) {
		json_t *mn = json_object_get(row, "min"), *lt = json_object_get(row, "letter");
		struct completion_letter *l = &r->letters[i];

		if (!json_is_object(row) || json_object_size(row) != 2 || !mn || !lt)
			return fail(err, errsize, "letters[%zu]: must be {\"min\": grade, \"letter\":"
				    " text} and nothing else", i);
		if (fixed(mn, 100, 0, 1000, &m))
			return fail(err, errsize, "letters[%zu].min: must be a grade from 0 to 10"
				    " with at most two decimals", i);
		if (!json_is_string(lt) || !letter_ok(json_string_value(lt)))
			return fail(err, errsize, "letters[%zu].letter: must be 1 to %d printable"
				    " characters (A-Z, digits, + -), no spaces", i,
				    COMPLETION_LETTER_MAX);
		if (i > 0 && m >= r->letters[i - 1].min_x100)
			return fail(err, errsize, "letters[%zu].min: must be lower than"
				    " letters[%zu].min (rows go from the highest grade down)", i,
				    i - 1);
		l->min_x100 = (int)m;
		snprintf(l->letter, sizeof(l->letter), "%s", json_string_value(lt));
		r->nletters = (int)i + 1;
	}
	return 0;
}

static int
parse_object(json_t *o, struct completion_rules *r, char *err, size_t errsize)
{
	const char *key;
	json_t *v;
	int64_t n;
	int rc;

	json_object_foreach(o, key, v) {
		if (json_is_null(v))
			return fail(err, errsize, "%.40s: must not be null (leave it out for the"
				    " default)", key);
		if (strcmp(key, "video_threshold") == 0) {
			if (fixed(v, 1, 50, 100, &n))
				return fail(err, errsize, "video_threshold: must be a whole"
					    " percentage from 50 to 100");
			r->video_threshold = (int)n;
		} else if (strcmp(key, "pass_mark") == 0) {
			if (fixed(v, 100, 0, 1000, &n))
				return fail(err, errsize, "pass_mark: must be a grade from 0 to 10"
					    " with at most two decimals");
			r->pass_mark_x100 = (int)n;
		} else if (strcmp(key, "rounding") == 0) {
			if (fixed(v, 100, 0, 1000, &n) || (n != 10 && n != 25 && n != 50))
				return fail(err, errsize, "rounding: must be 0.1, 0.25 or 0.5");
			r->step_x100 = (int)n;
		} else if (strcmp(key, "min_scores") == 0) {
			if ((rc = parse_min_scores(v, r, err, errsize)))
				return rc;
		} else if (strcmp(key, "weights") == 0) {
			if ((rc = parse_weights(v, r, err, errsize)))
				return rc;
		} else if (strcmp(key, "letters") == 0) {
			if ((rc = parse_letters(v, r, err, errsize)))
				return rc;
		} else {
			return fail(err, errsize, "%.40s: unknown field (known: video_threshold,"
				    " min_scores, weights, pass_mark, letters, rounding)", key);
		}
	}
	return 0;
}

int
completion_rules_parse(const char *text, size_t len, struct completion_rules *out,
		       char *err, size_t errsize)
{
	json_error_t je;
	json_t *o;
	int rc;

	if (!text || !out)
		return fail(err, errsize, "rules: missing");
	completion_rules_default(out);
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return fail(err, errsize, "rules: not valid JSON (%s)", je.text);
	if (!json_is_object(o))
		rc = fail(err, errsize, "rules: must be a JSON object");
	else
		rc = parse_object(o, out, err, errsize);
	json_decref(o);
	return rc;
}

/* ---- canonical JSON ----------------------------------------------------- */

static json_t *
fixed_json(int64_t v, int64_t scale)
{
	return json_real((double)v / (double)scale);
}

int
completion_rules_json(const struct completion_rules *r, char **out)
{
	json_t *o = json_object(), *mins = json_object(), *ws = json_object();
	json_t *ls = json_array();
	int bad = !o || !mins || !ws || !ls;

	*out = NULL;
	for (size_t i = 0; !bad && i < r->nmin; i++)
		bad = json_object_set_new(mins, r->min_scores[i].unit_uid,
					  fixed_json(r->min_scores[i].min_x10, 10));
	for (size_t i = 0; !bad && i < r->nweights; i++)
		bad = json_object_set_new(ws, r->weights[i].unit_uid,
					  fixed_json(r->weights[i].w_micro, PPM));
	for (int i = 0; !bad && i < r->nletters; i++)
		bad = json_array_append_new(ls, json_pack("{s:o, s:s}", "min",
					    fixed_json(r->letters[i].min_x100, 100), "letter",
					    r->letters[i].letter));
	if (!bad)
		bad = json_object_set_new(o, "video_threshold", json_integer(r->video_threshold)) ||
		      json_object_set(o, "min_scores", mins) ||
		      json_object_set(o, "weights", ws) ||
		      json_object_set_new(o, "pass_mark", fixed_json(r->pass_mark_x100, 100)) ||
		      json_object_set(o, "letters", ls) ||
		      json_object_set_new(o, "rounding", fixed_json(r->step_x100, 100));
	if (!bad)
		*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	json_decref(o);
	json_decref(mins);
	json_decref(ws);
	json_decref(ls);
	return *out ? 0 : TC_ENOMEM;
}

void
completion_grade_format(int grade_x100, int step_x100, char out[8])
{
	if (grade_x100 < 0)
		grade_x100 = 0;
	if (step_x100 == 25)
		snprintf(out, 8, "%d.%02d", grade_x100 / 100 % 100, grade_x100 % 100);
	else	/* tenths; a hundredths digit cannot occur with these steps */
		snprintf(out, 8, "%d.%d", grade_x100 / 100 % 100, grade_x100 % 100 / 10);
}

/* Percent in tenths as "45" or "45.5". */
static void
percent_format(int x10, char out[16])
{
	if (x10 % 10)
		snprintf(out, 16, "%d.%d", x10 / 10, x10 % 10);
	else
		snprintf(out, 16, "%d", x10 / 10);
}

/* ---- evaluation --------------------------------------------------------- */

/* round(NUM / DEN) half up, for NUM >= 0 and DEN > 0. */
static int64_t
div_half_up(int64_t num, int64_t den)
{
	return num / den + (2 * (num % den) >= den);
}

static const struct completion_unit_state *
find_unit(const struct completion_unit_state *units, size_t n, const char *uid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(units[i].uid, uid) == 0)
			return &units[i];
	return NULL;
}

/* A unit's score as a fraction in millionths, rounded half up. */
static int64_t
unit_ppm(const struct completion_unit_state *u)
{
	if (strcmp(u->kind, "quiz") == 0)
		return u->best_max > 0 ? div_half_up(u->best_score * PPM, u->best_max) : 0;
	return u->completed ? PPM : 0;
}

static int
is_quiz(const struct completion_unit_state *u)
{
	return strcmp(u->kind, "quiz") == 0;
}

static void
add_reason(struct completion_result *out, const char *fmt, ...)
{
	va_list ap;

	if (out->nreasons >= COMPLETION_REASONS_MAX) {
		out->more_reasons++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(out->reasons[out->nreasons++], COMPLETION_REASON_MAX, fmt, ap);
	va_end(ap);
}

/* How a unit is named in a reason: its title, else its uid. */
static const char *
unit_name(const struct completion_unit_state *u)
{
	return u->title[0] ? u->title : u->uid;
}

static json_t *
time_json(int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[32];

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(buf);
}

static int
evidence(const struct completion_rules *rules, const struct completion_unit_state *units,
	 size_t n, struct completion_result *out)
{
	json_t *o = NULL, *us = json_array(), *as = json_array();
	char g[8], pm[8];
	int bad = !us || !as;

	for (size_t i = 0; !bad && i < n; i++) {
		const struct completion_unit_state *u = &units[i];

		bad = json_array_append_new(us, json_pack("{s:s, s:s, s:b, s:b, s:o}", "uid", u->uid,
					    "kind", u->kind, "required", u->required, "completed",
					    u->completed, "completed_at",
					    time_json(u->completed ? u->completed_at : 0)));
		/* score and max in points: the state holds thousandths */
		if (!bad && is_quiz(u) && u->best_max > 0)
			bad = json_array_append_new(as, json_pack("{s:s, s:s?, s:f, s:f, s:i}",
					"unit", u->uid, "attempt",
					u->attempt_uid[0] ? u->attempt_uid : NULL,
					"score", u->best_score / 1000.0,
					"max", u->best_max / 1000.0, "attempts", u->attempts));
	}
	completion_grade_format(out->grade_x100, rules->step_x100, g);
	completion_grade_format(rules->pass_mark_x100, rules->step_x100, pm);
	if (!bad)
		o = json_pack("{s:O, s:O, s:s, s:o, s:s?, s:s}", "units", us, "attempts", as,
			      "grade", g, "percent", json_real(out->percent_x10 / 10.0),
			      "letter", out->letter[0] ? out->letter : NULL, "pass_mark", pm);
	if (o)
		out->evidence = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
					   JSON_REAL_PRECISION(12));
	json_decref(o);
	json_decref(us);
	json_decref(as);
	return out->evidence ? 0 : TC_ENOMEM;
}

int
completion_evaluate(const struct completion_rules *rules,
		    const struct completion_unit_state *units, size_t n,
		    struct completion_result *out)
{
	int64_t num = 0, den = 0, steps;
	char a[16], b[16];

	if (!out)
		return TC_EINVALID;
	memset(out, 0, sizeof(*out));
	if (!rules || (n && !units))
		return TC_EINVALID;
	for (size_t i = 0; i < n; i++)
		if (!units[i].uid[0] || units[i].best_score < 0 || units[i].best_max < 0 ||
		    units[i].best_score > units[i].best_max)
			return TC_EINVALID;

	/* required units */
	for (size_t i = 0; i < n; i++)
		if (units[i].required && !units[i].completed)
			add_reason(out, is_quiz(&units[i]) ? "quiz \"%s\" is not passed yet" :
				   "unit \"%s\" is not completed", unit_name(&units[i]));
	/* minimum scores: best * 1000 >= min_x10 * max, exactly */
	for (size_t i = 0; i < rules->nmin; i++) {
		const struct completion_unit_state *u =
			find_unit(units, n, rules->min_scores[i].unit_uid);

		if (!u)
			continue;
		percent_format(rules->min_scores[i].min_x10, b);
		if (u->best_max <= 0) {
			add_reason(out, "quiz \"%s\": no attempt yet (%s%% needed)", unit_name(u), b);
		} else if (u->best_score * 1000 < (int64_t)rules->min_scores[i].min_x10 * u->best_max) {
			/* shown truncated, so 59.96% never reads as "60% < 60%" */
			percent_format((int)(u->best_score * 1000 / u->best_max), a);
			add_reason(out, "quiz \"%s\": %s%% < %s%%", unit_name(u), a, b);
		}
	}
	/* the weighted score, num / den as a fraction in millionths */
	if (rules->nweights) {
		for (size_t i = 0; i < rules->nweights; i++) {
			const struct completion_unit_state *u =
				find_unit(units, n, rules->weights[i].unit_uid);

			if (!u)
				continue;
			num += rules->weights[i].w_micro * unit_ppm(u);
			den += rules->weights[i].w_micro;
		}
	} else {
		for (size_t i = 0; i < n; i++)
			if (units[i].required && is_quiz(&units[i])) {
				num += unit_ppm(&units[i]);
				den++;
			}
	}
	if (den == 0) {		/* nothing graded: full marks */
		num = PPM;
		den = 1;
	}
	/* grade in steps: 1000 hundredths * (num / (den * PPM)) / step */
	steps = div_half_up(num, den * (PPM / 1000) * rules->step_x100);
	out->grade_x100 = (int)(steps * rules->step_x100);
	out->percent_x10 = (int)div_half_up(num, den * (PPM / 1000));
	out->passed = out->grade_x100 >= rules->pass_mark_x100;
	for (int i = 0; i < rules->nletters; i++)
		if (out->grade_x100 >= rules->letters[i].min_x100) {
			snprintf(out->letter, sizeof(out->letter), "%s", rules->letters[i].letter);
			break;
		}
	if (!out->passed) {
		char g[8], pm[8];

		completion_grade_format(out->grade_x100, rules->step_x100, g);
		completion_grade_format(rules->pass_mark_x100, rules->step_x100, pm);
		add_reason(out, "grade %s < pass mark %s", g, pm);
	}
	out->met = out->nreasons == 0 && out->more_reasons == 0;
	return evidence(rules, units, n, out);
}

void
completion_result_cleanup(struct completion_result *out)
{
	if (!out)
		return;
	free(out->evidence);
	out->evidence = NULL;
}
