/*
 * quiz.c - quiz definitions, papers and grading (courses/quiz.h). Text
 * forms for short answers are in quiz_text.c.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/quiz.h"

#define OPTION_ID_BYTES 6		/* 12 hex digits, random per attempt */

static const char *const kinds[] = { "single", "multiple", "truefalse", "numeric", "text" };
enum { K_SINGLE, K_MULTIPLE, K_TRUEFALSE, K_NUMERIC, K_TEXT, K_COUNT };

static int
kind_index(const char *k)
{
	for (int i = 0; i < K_COUNT; i++)
		if (k && strcmp(k, kinds[i]) == 0)
			return i;
	return -1;
}

/* Formats the reason into WHY; always TC_EINVALID. */
static int
fail(char *why, size_t whysize, const char *fmt, ...)
{
	va_list ap;

	if (why && whysize) {
		va_start(ap, fmt);
		vsnprintf(why, whysize, fmt, ap);
		va_end(ap);
	}
	return TC_EINVALID;
}

/* ---- validation ----------------------------------------------------------------- */

static int
only_keys(const json_t *o, const char *const *allowed, const char *where, char *why,
	  size_t whysize)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		int known = 0;

		for (size_t i = 0; allowed[i]; i++)
			known |= strcmp(key, allowed[i]) == 0;
		if (!known)
			return fail(why, whysize, "%s%s%s: unknown field", where, where[0] ? "." : "",
				    key);
	}
	return 0;
}

/* UTF-8 text of 1..MAX bytes (0..MAX with EMPTY_OK). */
static int
text_ok(const json_t *v, size_t max, int empty_ok)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	return s && n <= max && (empty_ok || n > 0) && strlen(s) == n && utf8_check(s, n) == 0;
}

/* Letters, digits, '_', '-', '.'; 1..QUIZ_ID_MAX. */
static int
name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > QUIZ_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* A JSON integer in [MIN, MAX] at KEY of O, DEF when absent. */
static int
int_field(const json_t *o, const char *key, long long def, long long min, long long max,
	  const char *where, long long *out, char *why, size_t whysize)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(why, whysize, "%s.%s: a whole number from %lld to %lld", where, key,
			    min, max);
	*out = json_integer_value(v);
	return 0;
}

static int
num_field(const json_t *o, const char *key, double def, double min, double max,
	  const char *where, double *out, char *why, size_t whysize)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
	    json_number_value(v) < min || json_number_value(v) > max)
		return fail(why, whysize, "%s.%s: a number from %g to %g", where, key, min, max);
	*out = json_number_value(v);
	return 0;
}

static int
bool_field(const json_t *o, const char *key, int def, const char *where, int *out,
	   char *why, size_t whysize)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return fail(why, whysize, "%s.%s: true or false", where, key);
	*out = json_is_true(v);
	return 0;
}

static int
set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) ? TC_ENOMEM : 0;
}

static int
check_options(const json_t *q, int kind, const char *where, json_t *out, char *why,
	      size_t whysize)
{
	static const char *const okeys[] = { "text", "correct", NULL };
	json_t *opts = json_object_get(q, "options"), *list, *o;
	size_t n = json_array_size(opts), i, right = 0;
	char w[96];
	int rc;

	if (!json_is_array(opts))
		return fail(why, whysize, "%s.options: a list of options", where);
	if (n < QUIZ_OPTIONS_MIN)
		return fail(why, whysize, "%s.options: at least %d", where, QUIZ_OPTIONS_MIN);
	if (n > QUIZ_OPTIONS_MAX)
		return fail(why, whysize, "%s.options: at most %d", where, QUIZ_OPTIONS_MAX);
	if (!(list = json_array()) || set(out, "options", list))
		return TC_ENOMEM;
	json_array_foreach(opts, i, o) {
		int correct = 0;

		snprintf(w, sizeof(w), "%s.options[%zu]", where, i);
		if (!json_is_object(o))
			return fail(why, whysize, "%s: an object {\"text\", \"correct\"}", w);
		if ((rc = only_keys(o, okeys, w, why, whysize)))
			return rc;
		if (!text_ok(json_object_get(o, "text"), QUIZ_OPTION_TEXT_MAX, 0))
			return fail(why, whysize, "%s.text: UTF-8 text of 1 to %d bytes", w,
				    QUIZ_OPTION_TEXT_MAX);
		if ((rc = bool_field(o, "correct", 0, w, &correct, why, whysize)))
			return rc;
		for (size_t k = 0; k < i; k++)
			if (json_equal(json_object_get(o, "text"),
				       json_object_get(json_array_get(opts, k), "text")))
				return fail(why, whysize, "%s.text: the same as options[%zu]", w, k);
		right += (size_t)correct;
		if (json_array_append_new(list, json_pack("{s:O, s:b}", "text",
							   json_object_get(o, "text"), "correct", correct)))
			return TC_ENOMEM;
	}
	if (kind == K_SINGLE && right != 1)
		return fail(why, whysize, "%s.options: exactly one must be correct", where);
	if (kind == K_MULTIPLE && right < 1)
		return fail(why, whysize, "%s.options: at least one must be correct", where);
	return 0;
}

static int
check_accepted(const json_t *q, const char *where, json_t *out, char *why, size_t whysize)
{
	json_t *acc = json_object_get(q, "accepted"), *v;
	size_t i;

	if (!json_is_array(acc) || json_array_size(acc) == 0)
		return fail(why, whysize, "%s.accepted: a list of 1 to %d accepted answers", where,
			    QUIZ_ACCEPTED_MAX);
	if (json_array_size(acc) > QUIZ_ACCEPTED_MAX)
		return fail(why, whysize, "%s.accepted: at most %d", where, QUIZ_ACCEPTED_MAX);
	json_array_foreach(acc, i, v) {
		const char *s = json_string_value(v);
		size_t k;

		if (!text_ok(v, QUIZ_ANSWER_MAX, 0))
			return fail(why, whysize, "%s.accepted[%zu]: UTF-8 text of 1 to %d bytes",
				    where, i, QUIZ_ANSWER_MAX);
		for (k = 0; s[k] == ' ' || (s[k] >= '\t' && s[k] <= '\r'); k++)
			;
		if (!s[k])
			return fail(why, whysize, "%s.accepted[%zu]: only white space", where, i);
	}
	return set(out, "accepted", json_deep_copy(acc));
}

static int
check_question(const json_t *q, size_t idx, json_t *ids, json_t **out, char *why,
	       size_t whysize)
{
	static const char *const common[] = { "id", "kind", "text", "points", "bank", "options",
		"scoring", "answer", "tolerance", "accepted", "match", "ignore_diacritics", NULL };
	static const char *const per_kind[K_COUNT][5] = {
		[K_SINGLE] = { "options" },
		[K_MULTIPLE] = { "options", "scoring" },
		[K_TRUEFALSE] = { "answer" },
		[K_NUMERIC] = { "answer", "tolerance" },
		[K_TEXT] = { "accepted", "match", "ignore_diacritics" },
	};
	char where[48], idbuf[24];
	const char *id, *bank, *key;
	json_t *o = NULL, *v;
	double points;
	int kind, rc;

	*out = NULL;
	snprintf(where, sizeof(where), "questions[%zu]", idx);
	if (!json_is_object(q))
		return fail(why, whysize, "%s: an object", where);
	if ((rc = only_keys(q, common, where, why, whysize)))
		return rc;
	kind = kind_index(json_string_value(json_object_get(q, "kind")));
	if (kind < 0)
		return fail(why, whysize, "%s.kind: single, multiple, truefalse, numeric or text",
			    where);
	json_object_foreach((json_t *)q, key, v) {
		int fits = strcmp(key, "id") == 0 || strcmp(key, "kind") == 0 ||
			   strcmp(key, "text") == 0 || strcmp(key, "points") == 0 ||
			   strcmp(key, "bank") == 0;

		for (int k = 0; !fits && k < 5 && per_kind[kind][k]; k++)
			fits = strcmp(key, per_kind[kind][k]) == 0;
		if (!fits)
			return fail(why, whysize, "%s.%s: not a field of a %s question", where, key,
				    kinds[kind]);
	}
	v = json_object_get(q, "id");
	snprintf(idbuf, sizeof(idbuf), "q%zu", idx + 1);
	id = v ? json_string_value(v) : idbuf;
	if (!name_ok(id))
		return fail(why, whysize, "%s.id: 1 to %d letters, digits, '_', '-' or '.'", where,
			    QUIZ_ID_MAX);
	if (json_object_get(ids, id))
		return fail(why, whysize, "%s.id: \"%s\" is used by another question", where, id);
	if (json_object_set_new(ids, id, json_true()))
		return TC_ENOMEM;
	v = json_object_get(q, "bank");
	bank = v ? json_string_value(v) : "";
	if (v && !name_ok(bank))
		return fail(why, whysize, "%s.bank: 1 to %d letters, digits, '_', '-' or '.'", where,
			    QUIZ_ID_MAX);
	if (!text_ok(json_object_get(q, "text"), QUIZ_TEXT_MAX, 0))
		return fail(why, whysize, "%s.text: UTF-8 text of 1 to %d bytes", where,
			    QUIZ_TEXT_MAX);
	if ((rc = num_field(q, "points", 1, 0, QUIZ_POINTS_MAX, where, &points, why, whysize)))
		return rc;
	points = (double)llround(points * 1000) / 1000;	/* graded in thousandths */
	if (points <= 0)
		return fail(why, whysize, "%s.points: at least 0.001", where);
	o = json_pack("{s:s, s:s, s:O, s:f, s:s}", "id", id, "kind", kinds[kind], "text",
		      json_object_get(q, "text"), "points", points, "bank", bank);
	if (!o)
		return TC_ENOMEM;
	switch (kind) {
	case K_SINGLE:
		rc = check_options(q, kind, where, o, why, whysize);
		break;
	case K_MULTIPLE: {
		const char *sc = json_string_value(json_object_get(q, "scoring"));

		if (json_object_get(q, "scoring") && (!sc || (strcmp(sc, "all") && strcmp(sc, "partial"))))
			rc = fail(why, whysize, "%s.scoring: \"all\" (all or nothing) or \"partial\"",
				  where);
		else
			rc = check_options(q, kind, where, o, why, whysize);
		if (rc == 0)
			rc = set(o, "scoring", json_string(sc ? sc : "all"));
		break;
	}
	case K_TRUEFALSE:
		v = json_object_get(q, "answer");
		if (!json_is_boolean(v))
			rc = fail(why, whysize, "%s.answer: true or false", where);
		else
			rc = set(o, "answer", json_boolean(json_is_true(v)));
		break;
	case K_NUMERIC: {
		double answer, tol;

		v = json_object_get(q, "answer");
		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			rc = fail(why, whysize, "%s.answer: a number", where);
		else if ((rc = num_field(q, "tolerance", 0, 0, 1e15, where, &tol, why, whysize)) == 0) {
			answer = json_number_value(v);
			rc = set(o, "answer", json_real(answer));
			if (rc == 0)
				rc = set(o, "tolerance", json_real(tol));
		}
		break;
	}
	case K_TEXT: {
		const char *m = json_string_value(json_object_get(q, "match"));
		int fold = 0;

		if (json_object_get(q, "match") && (!m || (strcmp(m, "exact") && strcmp(m, "normalised"))))
			rc = fail(why, whysize, "%s.match: \"exact\" or \"normalised\"", where);
		else if ((rc = bool_field(q, "ignore_diacritics", 0, where, &fold, why, whysize)) == 0 &&
			 (rc = check_accepted(q, where, o, why, whysize)) == 0)
			rc = set(o, "match", json_string(m ? m : "exact"));
		if (rc == 0)
			rc = set(o, "ignore_diacritics", json_boolean(fold));
		break;
	}
	}
	if (rc) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* Questions of BANK ("" : every question when ALL) in DEF's list. */
static size_t
bank_size(const json_t *questions, const char *bank, int all)
{
	size_t i, n = 0;
	json_t *q;

	json_array_foreach(questions, i, q)
		n += all || strcmp(json_string_value(json_object_get(q, "bank")), bank) == 0;
	return n;
}

static int
check_draw(const json_t *draw, const json_t *questions, json_t *settings, char *why,
	   size_t whysize)
{
	size_t nq = json_array_size(questions), i, total = 0;
	json_t *d, *list;

	if (!draw || (json_is_integer(draw) && json_integer_value(draw) == 0))
		return set(settings, "draw", json_integer(0));
	if (json_is_integer(draw)) {
		if (json_integer_value(draw) < 0 || (size_t)json_integer_value(draw) > nq)
			return fail(why, whysize, "settings.draw: from 0 (all) to %zu, the number of"
				    " questions", nq);
		return set(settings, "draw", json_integer(json_integer_value(draw)));
	}
	if (!json_is_array(draw) || json_array_size(draw) == 0)
		return fail(why, whysize, "settings.draw: a number of questions or a list of"
			    " {\"bank\", \"draw\"}");
	if (!(list = json_array()) || set(settings, "draw", list))
		return TC_ENOMEM;
	json_array_foreach(draw, i, d) {
		static const char *const dkeys[] = { "bank", "draw", NULL };
		const char *bank = json_string_value(json_object_get(d, "bank"));
		json_t *n = json_object_get(d, "draw");
		char where[48];
		size_t have;
		int rc;

		snprintf(where, sizeof(where), "settings.draw[%zu]", i);
		if (!json_is_object(d))
			return fail(why, whysize, "%s: an object {\"bank\", \"draw\"}", where);
		if ((rc = only_keys(d, dkeys, where, why, whysize)))
			return rc;
		if (!name_ok(bank))
			return fail(why, whysize, "%s.bank: the name of a bank", where);
		for (size_t k = 0; k < i; k++)
			if (strcmp(bank, json_string_value(json_object_get(json_array_get(draw, k),
									    "bank"))) == 0)
				return fail(why, whysize, "%s.bank: \"%s\" is listed twice", where, bank);
		have = bank_size(questions, bank, 0);
		if (have == 0)
			return fail(why, whysize, "%s.bank: no question is in bank \"%s\"", where, bank);
		if (!json_is_integer(n) || json_integer_value(n) < 1 ||
		    (size_t)json_integer_value(n) > have)
			return fail(why, whysize, "%s.draw: from 1 to %zu, the questions in bank \"%s\"",
				    where, have, bank);
		total += (size_t)json_integer_value(n);
		if (json_array_append_new(list, json_pack("{s:s, s:I}", "bank", bank, "draw",
							   json_integer_value(n))))
			return TC_ENOMEM;
	}
	return total ? 0 : fail(why, whysize, "settings.draw: no question would be drawn");
}

static const char *const show_names[] = { "after_each", "after_passing", "after_last", "never" };

const char *
quiz_show_name(enum quiz_show s)
{
	return (unsigned)s < sizeof(show_names) / sizeof(show_names[0]) ? show_names[s]
									 : show_names[0];
}

/* The index of NAME in show_names, or -1. */
static int
show_index(const char *name)
{
	for (size_t i = 0; name && i < sizeof(show_names) / sizeof(show_names[0]); i++)
		if (strcmp(name, show_names[i]) == 0)
			return (int)i;
	return -1;
}

int
quiz_answers_shown(const struct quiz_settings *s, int graded, int passed)
{
	switch (s->show_answers) {
	case QUIZ_SHOW_EACH:
		return graded > 0;
	case QUIZ_SHOW_PASSING:
		return passed;
	case QUIZ_SHOW_LAST:
		return passed || (s->attempts > 0 && graded >= s->attempts);
	case QUIZ_SHOW_NEVER:
		break;
	}
	return 0;
}

static int
check_settings(const json_t *in, const json_t *questions, json_t *out, char *why,
	       size_t whysize)
{
	static const char *const skeys[] = { "draw", "shuffle_questions", "shuffle_options",
		"attempts", "time_limit", "pass_percent", "show_answers", "retry_wait", NULL };
	json_t *s = json_object_get(in, "settings"), *o, *show;
	long long attempts = 0, limit = 0, wait = 0;
	double pass = 0;
	int sq = 0, so = 0, shown = QUIZ_SHOW_EACH, rc;

	if (s && !json_is_object(s))
		return fail(why, whysize, "settings: an object");
	if (!s)
		s = json_object();
	else
		json_incref(s);
	if (!s)
		return TC_ENOMEM;
	o = json_object();
	if (!o) {
		rc = TC_ENOMEM;
		goto out;
	}
	if ((rc = only_keys(s, skeys, "settings", why, whysize)) ||
	    (rc = bool_field(s, "shuffle_questions", 0, "settings", &sq, why, whysize)) ||
	    (rc = bool_field(s, "shuffle_options", 0, "settings", &so, why, whysize)) ||
	    (rc = int_field(s, "attempts", 0, 0, QUIZ_ATTEMPTS_MAX, "settings", &attempts, why,
			    whysize)) ||
	    (rc = int_field(s, "time_limit", 0, 0, QUIZ_TIME_LIMIT_MAX, "settings", &limit, why,
			    whysize)) ||
	    (rc = num_field(s, "pass_percent", 50, 0, 100, "settings", &pass, why, whysize)) ||
	    (rc = int_field(s, "retry_wait", 0, 0, QUIZ_RETRY_WAIT_MAX, "settings", &wait, why,
			    whysize)) ||
	    (rc = check_draw(json_object_get(s, "draw"), questions, o, why, whysize)))
		goto out;
	if ((show = json_object_get(s, "show_answers")) &&
	    (shown = show_index(json_string_value(show))) < 0) {
		rc = fail(why, whysize, "settings.show_answers: \"after_each\", \"after_passing\", "
			  "\"after_last\" or \"never\"");
		goto out;
	}
	if ((rc = set(o, "shuffle_questions", json_boolean(sq))) ||
	    (rc = set(o, "shuffle_options", json_boolean(so))) ||
	    (rc = set(o, "attempts", json_integer(attempts))) ||
	    (rc = set(o, "time_limit", json_integer(limit))) ||
	    (rc = set(o, "pass_percent", json_real((double)llround(pass * 100) / 100))) ||
	    (rc = set(o, "show_answers", json_string(quiz_show_name((enum quiz_show)shown)))) ||
	    (rc = set(o, "retry_wait", json_integer(wait))))
		goto out;
	rc = set(out, "settings", o);
	o = NULL;
out:
	json_decref(o);
	json_decref(s);
	return rc;
}

int
quiz_validate(const json_t *in, json_t **out, char *why, size_t whysize)
{
	static const char *const top[] = { "settings", "questions", NULL };
	json_t *qs = json_object_get(in, "questions"), *o = NULL, *list = NULL, *ids = NULL, *q, *nq;
	size_t i;
	int rc;

	if (!out)
		return TC_EINVALID;
	*out = NULL;
	if (why && whysize)
		why[0] = '\0';
	if (!json_is_object(in))
		return fail(why, whysize, "the quiz: an object {\"settings\", \"questions\"}");
	if ((rc = only_keys(in, top, "", why, whysize)))
		return rc;
	if (!json_is_array(qs) || json_array_size(qs) == 0)
		return fail(why, whysize, "questions: a list of 1 to %d questions", QUIZ_QUESTIONS_MAX);
	if (json_array_size(qs) > QUIZ_QUESTIONS_MAX)
		return fail(why, whysize, "questions: at most %d", QUIZ_QUESTIONS_MAX);
	o = json_object();
	list = json_array();
	ids = json_object();
	if (!o || !list || !ids) {
		rc = TC_ENOMEM;
		goto out;
	}
	json_array_foreach(qs, i, q) {
		if ((rc = check_question(q, i, ids, &nq, why, whysize)))
			goto out;
		if (json_array_append_new(list, nq)) {
			rc = TC_ENOMEM;
			goto out;
		}
	}
	if ((rc = check_settings(in, list, o, why, whysize)))
		goto out;
	if ((rc = set(o, "questions", list)))
		goto out;
	list = NULL;
	*out = o;
	o = NULL;
out:
	json_decref(o);
	json_decref(list);
	json_decref(ids);
	return rc;
}

static int
per_attempt(const json_t *def)
{
	json_t *s = json_object_get(def, "settings"), *draw = json_object_get(s, "draw"), *d;
	size_t i;
	int n = 0;

	if (json_is_array(draw)) {
		json_array_foreach(draw, i, d)
			n += (int)json_integer_value(json_object_get(d, "draw"));
		return n;
	}
	n = (int)json_integer_value(draw);
	return n ? n : (int)json_array_size(json_object_get(def, "questions"));
}

void
quiz_settings_get(const json_t *def, struct quiz_settings *out)
{
	json_t *s = json_object_get(def, "settings");
	int shown;

	memset(out, 0, sizeof(*out));
	out->attempts = (int)json_integer_value(json_object_get(s, "attempts"));
	out->time_limit = json_integer_value(json_object_get(s, "time_limit"));
	out->pass_percent = json_number_value(json_object_get(s, "pass_percent"));
	out->shuffle_questions = json_is_true(json_object_get(s, "shuffle_questions"));
	out->shuffle_options = json_is_true(json_object_get(s, "shuffle_options"));
	/* definitions stored before these two settings: the defaults */
	shown = show_index(json_string_value(json_object_get(s, "show_answers")));
	out->show_answers = shown < 0 ? QUIZ_SHOW_EACH : (enum quiz_show)shown;
	out->retry_wait = json_integer_value(json_object_get(s, "retry_wait"));
	out->questions = (int)json_array_size(json_object_get(def, "questions"));
	out->per_attempt = per_attempt(def);
}

/* ---- drawing ---------------------------------------------------------------------- */

/* A uniform random number in [0, N). */
static int
uniform(size_t n, size_t *out)
{
	uint32_t r, limit = UINT32_MAX - (uint32_t)(((uint64_t)UINT32_MAX + 1) % n);
	int rc;

	do {
		if ((rc = crypto_random(&r, sizeof(r))))
			return rc;
	} while (r > limit);
	*out = r % n;
	return 0;
}

/* Fisher-Yates on the N entries of A. */
static int
shuffle(size_t *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j, t;
		int rc = uniform(i, &j);

		if (rc)
			return rc;
		t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
	return 0;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Picks K of the questions of BANK (ALL: every one) at random: their
 * indexes appended at PICK[*n]. */
static int
pick(const json_t *questions, const char *bank, int all, size_t k, size_t *pick_out, size_t *n)
{
	size_t nq = json_array_size(questions), *idx = malloc((nq ? nq : 1) * sizeof(*idx)), m = 0;
	int rc;

	if (!idx)
		return TC_ENOMEM;
	for (size_t i = 0; i < nq; i++)
		if (all || strcmp(json_string_value(json_object_get(json_array_get(questions, i),
								    "bank")), bank) == 0)
			idx[m++] = i;
	rc = shuffle(idx, m);
	for (size_t i = 0; rc == 0 && i < k && i < m; i++)
		pick_out[(*n)++] = idx[i];
	free(idx);
	return rc;
}

/* Q's snapshot for a paper: options in order (shuffled when SHUFFLE), each
 * with a fresh random id. */
static int
snapshot(const json_t *q, int shuffle_opts, json_t **out)
{
	json_t *s = json_deep_copy(q), *opts = json_object_get(q, "options"), *list = NULL;
	size_t n = json_array_size(opts), order[QUIZ_OPTIONS_MAX];
	char ids[QUIZ_OPTIONS_MAX][2 * OPTION_ID_BYTES + 1];
	int rc = s ? 0 : TC_ENOMEM;

	*out = NULL;
	json_object_del(s, "bank");
	if (rc == 0 && n) {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		if (shuffle_opts && (rc = shuffle(order, n)))
			goto out;
		if (!(list = json_array())) {
			rc = TC_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char raw[OPTION_ID_BYTES];
			json_t *o;
			int dup;

			do {	/* unique within the question */
				if ((rc = crypto_random(raw, sizeof(raw))))
					goto out;
				for (size_t k = 0; k < sizeof(raw); k++)
					snprintf(ids[i] + 2 * k, 3, "%02x", raw[k]);
				dup = 0;
				for (size_t k = 0; k < i; k++)
					dup |= strcmp(ids[k], ids[i]) == 0;
			} while (dup);
			o = json_deep_copy(json_array_get(opts, order[i]));
			if (!o || json_object_set_new(o, "id", json_string(ids[i])) ||
			    json_array_append_new(list, o)) {
				rc = TC_ENOMEM;
				goto out;
			}
		}
		if ((rc = set(s, "options", list)))
			goto out;
		list = NULL;
	}
	if (rc == 0) {
		*out = s;
		s = NULL;
	}
out:
	json_decref(list);
	json_decref(s);
	return rc;
}

int
quiz_draw(const json_t *def, json_t **paper)
{
	struct quiz_settings set_;
	json_t *questions = json_object_get(def, "questions");
	json_t *draw = json_object_get(json_object_get(def, "settings"), "draw");
	json_t *p = NULL, *list = NULL, *d;
	size_t nq = json_array_size(questions), *chosen = NULL, n = 0, i;
	int rc;

	if (!paper || !json_is_array(questions) || nq == 0)
		return TC_EINVALID;
	*paper = NULL;
	quiz_settings_get(def, &set_);
	chosen = malloc(nq * sizeof(*chosen));
	if (!chosen)
		return TC_ENOMEM;
	if (json_is_array(draw)) {
		rc = 0;
		json_array_foreach(draw, i, d)
			if ((rc = pick(questions, json_string_value(json_object_get(d, "bank")), 0,
				       (size_t)json_integer_value(json_object_get(d, "draw")),
				       chosen, &n)))
				break;
	} else {
		rc = pick(questions, "", 1, (size_t)set_.per_attempt, chosen, &n);
	}
	if (rc)
		goto out;
	/* drawn questions keep the quiz's order unless shuffled */
	if (set_.shuffle_questions)
		rc = shuffle(chosen, n);
	else
		qsort(chosen, n, sizeof(*chosen), cmp_size);
	if (rc)
		goto out;
	if (!(list = json_array()) ||
	    !(p = json_pack("{s:f, s:o}", "pass_percent", set_.pass_percent, "questions", list))) {
		rc = TC_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *s;

		if ((rc = snapshot(json_array_get(questions, chosen[i]), set_.shuffle_options, &s)))
			goto out;
		if (json_array_append_new(list, s)) {
			rc = TC_ENOMEM;
			goto out;
		}
	}
	*paper = p;
	p = NULL;
out:
	json_decref(p);
	free(chosen);
	return rc;
}

/* ---- the learner's view, answers and grading ---------------------------------------- */

size_t
quiz_paper_size(const json_t *paper)
{
	return json_array_size(json_object_get(paper, "questions"));
}

json_t *
quiz_paper_public(const json_t *paper)
{
	json_t *out = json_array(), *q, *opt;
	size_t i, k;

	if (!out)
		return NULL;
	json_array_foreach(json_object_get(paper, "questions"), i, q) {
		json_t *o = json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(q, "id"),
				      "kind", json_object_get(q, "kind"), "text",
				      json_object_get(q, "text"), "points", json_object_get(q, "points"));
		json_t *opts = json_object_get(q, "options"), *list;

		if (!o || json_array_append_new(out, o))
			goto fail;
		if (json_object_get(q, "scoring") &&
		    json_object_set(o, "scoring", json_object_get(q, "scoring")))
			goto fail;
		if (!opts)
			continue;
		if (!(list = json_array()) || json_object_set_new(o, "options", list))
			goto fail;
		json_array_foreach(opts, k, opt)
			if (json_array_append_new(list, json_pack("{s:O, s:O}", "id",
								   json_object_get(opt, "id"), "text",
								   json_object_get(opt, "text"))))
				goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

static const json_t *
question_by_id(const json_t *paper, const char *id)
{
	json_t *q;
	size_t i;

	json_array_foreach(json_object_get(paper, "questions"), i, q)
		if (strcmp(json_string_value(json_object_get(q, "id")), id) == 0)
			return q;
	return NULL;
}

static int
is_option(const json_t *q, const char *id)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(q, "options"), i, o)
		if (id && strcmp(json_string_value(json_object_get(o, "id")), id) == 0)
			return 1;
	return 0;
}

int
quiz_answers_check(const json_t *paper, const json_t *answers, char *why, size_t whysize)
{
	const char *id;
	json_t *v;

	if (!json_is_object(answers))
		return fail(why, whysize, "answers: an object {question id: answer}");
	json_object_foreach((json_t *)answers, id, v) {
		const json_t *q = question_by_id(paper, id);
		int kind;

		if (!q)
			return fail(why, whysize, "answers.%s: no such question on this paper", id);
		if (json_is_null(v))
			continue;
		kind = kind_index(json_string_value(json_object_get(q, "kind")));
		switch (kind) {
		case K_SINGLE:
			if (!json_is_string(v))
				return fail(why, whysize, "answers.%s: the id of one option", id);
			if (!is_option(q, json_string_value(v)))
				return fail(why, whysize, "answers.%s: not an option of this question", id);
			break;
		case K_MULTIPLE: {
			json_t *e;
			size_t i;

			if (!json_is_array(v))
				return fail(why, whysize, "answers.%s: a list of option ids", id);
			json_array_foreach(v, i, e) {
				if (!is_option(q, json_string_value(e)))
					return fail(why, whysize, "answers.%s[%zu]: not an option of this"
						    " question", id, i);
				for (size_t k = 0; k < i; k++)
					if (json_equal(e, json_array_get(v, k)))
						return fail(why, whysize, "answers.%s[%zu]: chosen twice",
							    id, i);
			}
			break;
		}
		case K_TRUEFALSE:
			if (!json_is_boolean(v))
				return fail(why, whysize, "answers.%s: true or false", id);
			break;
		case K_NUMERIC:
			if (!json_is_number(v) || !isfinite(json_number_value(v)))
				return fail(why, whysize, "answers.%s: a finite number", id);
			break;
		case K_TEXT:
			if (!text_ok(v, QUIZ_ANSWER_MAX, 1))
				return fail(why, whysize, "answers.%s: UTF-8 text of at most %d bytes", id,
					    QUIZ_ANSWER_MAX);
			break;
		default:
			return fail(why, whysize, "answers.%s: the paper is damaged", id);
		}
	}
	return 0;
}

/* Q's points in thousandths of a point (validation rounded them so). */
static int64_t
milli_points(const json_t *q)
{
	return llround(json_number_value(json_object_get(q, "points")) * 1000);
}

/* Points of Q for the checked answer A (NULL or null: none), in
 * thousandths of a point; the correct answer into *RIGHT (new reference). */
static int64_t
score_question(const json_t *q, const json_t *a, json_t **right)
{
	int64_t points = milli_points(q);
	int kind = kind_index(json_string_value(json_object_get(q, "kind")));
	json_t *opts = json_object_get(q, "options"), *o;
	size_t i;

	*right = NULL;
	if (a && json_is_null(a))
		a = NULL;
	switch (kind) {
	case K_SINGLE: {
		const char *want = NULL;

		json_array_foreach(opts, i, o)
			if (json_is_true(json_object_get(o, "correct")))
				want = json_string_value(json_object_get(o, "id"));
		*right = json_string(want ? want : "");
		return a && want && strcmp(json_string_value(a), want) == 0 ? points : 0;
	}
	case K_MULTIPLE: {
		size_t total = 0, good = 0, bad = 0;
		int partial = strcmp(json_string_value(json_object_get(q, "scoring")), "partial") == 0;

		*right = json_array();
		json_array_foreach(opts, i, o) {
			int correct = json_is_true(json_object_get(o, "correct")), chosen = 0;
			json_t *e;
			size_t k;

			if (correct) {
				total++;
				json_array_append(*right, json_object_get(o, "id"));
			}
			json_array_foreach(a, k, e)
				chosen |= json_equal(e, json_object_get(o, "id"));
			good += (size_t)(chosen && correct);
			bad += (size_t)(chosen && !correct);
		}
		if (!a || total == 0)
			return 0;
		if (!partial)
			return good == total && bad == 0 ? points : 0;
		/* rounded down to a thousandth */
		return good > bad ? (int64_t)(good - bad) * points / (int64_t)total : 0;
	}
	case K_TRUEFALSE:
		*right = json_boolean(json_is_true(json_object_get(q, "answer")));
		return a && json_is_true(a) == json_is_true(json_object_get(q, "answer")) ? points : 0;
	case K_NUMERIC: {
		double want = json_number_value(json_object_get(q, "answer"));
		double tol = json_number_value(json_object_get(q, "tolerance"));
		double given = json_number_value(a);
		/* decimal answers are not exact in binary: a few units in the last
		 * place of slack (0.1 + 0.2 is 0.3), never a whole number's worth */
		double slack = 4 * DBL_EPSILON * fmax(fabs(want), fabs(given));

		*right = json_pack("{s:f, s:f}", "answer", want, "tolerance", tol);
		return a && fabs(given - want) <= tol + slack ? points : 0;
	}
	case K_TEXT: {
		const char *m = json_string_value(json_object_get(q, "match"));
		enum quiz_match mode = json_is_true(json_object_get(q, "ignore_diacritics"))
					       ? QUIZ_MATCH_FOLDED
				       : m && strcmp(m, "normalised") == 0 ? QUIZ_MATCH_NORMALISED
									   : QUIZ_MATCH_EXACT;
		json_t *acc = json_object_get(q, "accepted"), *e;
		int hit = 0;

		*right = json_deep_copy(acc);
		json_array_foreach(acc, i, e)
			hit |= a && quiz_text_match(json_string_value(a), json_string_value(e), mode);
		return hit ? points : 0;
	}
	default:
		return 0;
	}
}

int
quiz_grade(const json_t *paper, const json_t *answers, struct quiz_grade *g, json_t **detail,
	   json_t **scores)
{
	json_t *d = json_array(), *sc = json_array(), *q;
	/* the pass mark in hundredths of a percent */
	int64_t pass = llround(json_number_value(json_object_get(paper, "pass_percent")) * 100);
	size_t i;
	int rc = 0;

	if (detail)
		*detail = NULL;
	if (scores)
		*scores = NULL;
	memset(g, 0, sizeof(*g));
	if (!d || !sc) {
		rc = TC_ENOMEM;
		goto out;
	}
	json_array_foreach(json_object_get(paper, "questions"), i, q) {
		const char *id = json_string_value(json_object_get(q, "id"));
		const json_t *a = answers ? json_object_get(answers, id) : NULL;
		int64_t max = milli_points(q);
		json_t *right = NULL;
		int64_t got = score_question(q, a, &right);

		g->score_milli += got;
		g->max_milli += max;
		if (!right || json_array_append_new(d, json_pack("{s:s, s:O, s:O, s:b, s:f, s:f, s:o}",
				"id", id, "kind", json_object_get(q, "kind"),
				"answer", a ? a : json_null(), "correct", got >= max,
				"points", got / 1000.0, "max", max / 1000.0, "correct_answer", right)) ||
		    json_array_append_new(sc, json_pack("{s:s, s:f, s:f}", "id", id, "points",
							got / 1000.0, "max", max / 1000.0))) {
			rc = TC_ENOMEM;
			goto out;
		}
	}
	g->score = g->score_milli / 1000.0;
	g->max = g->max_milli / 1000.0;
	g->pass_percent = pass / 100.0;
	/* exact: score / max >= pass / 10000 */
	g->passed = g->max_milli > 0 && g->score_milli * 10000 >= pass * g->max_milli;
	if (detail) {
		*detail = d;
		d = NULL;
	}
	if (scores) {
		*scores = sc;
		sc = NULL;
	}
out:
	json_decref(d);
	json_decref(sc);
	return rc;
}
