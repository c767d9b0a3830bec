/* course.c - see course.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/course.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/fold.h"
#include "courses/identity.h"

static const char *const status_names[] = {
	[COURSE_DRAFT] = "draft",
	[COURSE_PUBLISHED] = "published",
	[COURSE_ARCHIVED] = "archived",
};

const char *
course_status_name(enum course_status s)
{
	return (s >= COURSE_DRAFT && s <= COURSE_ARCHIVED) ? status_names[s] : "?";
}

int
course_status_parse(const char *s, enum course_status *out)
{
	for (int i = COURSE_DRAFT; i <= COURSE_ARCHIVED; i++)
		if (s && strcmp(s, status_names[i]) == 0) {
			*out = (enum course_status)i;
			return 0;
		}
	return TC_EINVALID;
}

int
course_status_change_ok(enum course_status from, enum course_status to)
{
	if (from == to)
		return 0;
	if ((from == COURSE_DRAFT && to == COURSE_PUBLISHED) ||
	    (from == COURSE_PUBLISHED && to == COURSE_ARCHIVED) ||
	    (from == COURSE_PUBLISHED && to == COURSE_DRAFT) ||
	    (from == COURSE_DRAFT && to == COURSE_ARCHIVED))
		return 0;
	return TC_ECONFLICT;
}

int
course_unit_material_fits(const char *unit_kind, const char *material_kind)
{
	if (strcmp(unit_kind, "video") == 0)
		return strcmp(material_kind, "video") == 0 || strcmp(material_kind, "audio") == 0;
	if (strcmp(unit_kind, "document") == 0)
		return strcmp(material_kind, "document") == 0;
	return 1;
}

int
course_code_check(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > COURSE_CODE_MAX)
		return TC_EINVALID;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return TC_EINVALID;
	return 0;
}

int
course_language_check(const char *s)
{
	if (!s || !islower((unsigned char)s[0]) || !islower((unsigned char)s[1]))
		return TC_EINVALID;
	if (s[2] == '\0')
		return 0;
	if (s[2] == '-' && isupper((unsigned char)s[3]) && isupper((unsigned char)s[4]) && s[5] == '\0')
		return 0;
	return TC_EINVALID;
}

int
course_level_check(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!s || n > 63)
		return TC_EINVALID;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return TC_EINVALID;
	return 0;
}

int
course_tags_check(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int tags = 0;

	if (!s || n > COURSE_TAGS_MAX || utf8_check(s, n))
		return TC_EINVALID;
	if (n == 0)
		return 0;
	for (const char *p = s;;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == 0 || l > 40 || ++tags > 20)
			return TC_EINVALID;
		for (size_t i = 0; i < l; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				return TC_EINVALID;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

int
course_credits_parse(const char *s, int *x10)
{
	int whole = 0, tenth = 0, digits = 0;
	const char *p = s;

	if (!s)
		return TC_EINVALID;
	for (; isdigit((unsigned char)*p); p++) {
		if (++digits > 2)
			return TC_EINVALID;
		whole = whole * 10 + (*p - '0');
	}
	if (!digits)
		return TC_EINVALID;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return TC_EINVALID;
		tenth = *p++ - '0';
	}
	if (*p || (whole == 0 && tenth == 0) || whole * 10 + tenth > 600)
		return TC_EINVALID;
	*x10 = whole * 10 + tenth;
	return 0;
}

void
course_credits_format(int x10, char out[16])
{
	if (x10 % 10)
		snprintf(out, 16, "%d.%d", x10 / 10, x10 % 10);
	else
		snprintf(out, 16, "%d", x10 / 10);
}

int
course_search_text(const struct course *c, const char *institution_name,
		   char *out, size_t outsize)
{
	/* what people search a catalog by: the code, the title and the tags.
	 * Descriptions and institution names would make every common word
	 * ("học", "đại") match most of the catalog, and ranking cost grows
	 * with the matches (docs/performance.md). */
	const char *parts[] = { c->code, c->title, c->tags };
	(void)institution_name;
	size_t o = 0;

	if (outsize == 0)
		return TC_ETOOBIG;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		long n;

		if (!parts[i] || !parts[i][0])
			continue;
		if (o && o + 1 < outsize)
			out[o++] = ' ';
		n = fold_text(parts[i], strlen(parts[i]), out + o, outsize - o);
		if (n < 0)
			return TC_ETOOBIG;
		o += (size_t)n;
	}
	/* commas in tags separate words for the tokenizer */
	for (size_t i = 0; i < o; i++)
		if (out[i] == ',')
			out[i] = ' ';
	return 0;
}

int
course_search_query(const char *typed, char *out, size_t outsize)
{
	char folded[1024];
	size_t o = 0;
	int words = 0;
	long n = fold_text(typed, strlen(typed), folded, sizeof(folded));

	if (n < 0)
		return TC_EINVALID;
	for (char *p = folded; *p;) {
		char *w;
		size_t l;

		/* words: runs of letters and digits, and any non-ASCII byte */
		while (*p && !isalnum((unsigned char)*p) && !((unsigned char)*p & 0x80))
			p++;
		w = p;
		while (*p && (isalnum((unsigned char)*p) || ((unsigned char)*p & 0x80)))
			p++;
		l = (size_t)(p - w);
		if (l == 0)
			continue;
		if (o + l + 6 >= outsize || words >= 16)
			break;
		o += (size_t)snprintf(out + o, outsize - o, "%s\"%.*s\"*", words ? " " : "", (int)l, w);
		words++;
	}
	if (!words)
		return TC_EINVALID;
	return 0;
}

/* Folded words of TYPED, NUL-separated in WORDS; returns how many. */
static int
query_words(const char *typed, char *words, size_t size, size_t *lens, int max)
{
	char folded[1024];
	size_t o = 0;
	int n = 0;

	if (fold_text(typed, strlen(typed), folded, sizeof(folded)) < 0)
		return 0;
	for (char *p = folded; *p && n < max;) {
		char *w;
		size_t l;

		while (*p && !isalnum((unsigned char)*p) && !((unsigned char)*p & 0x80))
			p++;
		w = p;
		while (*p && (isalnum((unsigned char)*p) || ((unsigned char)*p & 0x80)))
			p++;
		l = (size_t)(p - w);
		if (l == 0 || o + l + 1 > size)
			continue;
		memcpy(words + o, w, l);
		words[o + l] = '\0';
		lens[n++] = l;
		o += l + 1;
	}
	return n;
}

static int
put_escaped(struct dynbuf *out, const char *p, size_t n)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		switch (p[i]) {
		case '&': rc = dynbuf_puts(out, "&amp;"); break;
		case '<': rc = dynbuf_puts(out, "&lt;"); break;
		case '>': rc = dynbuf_puts(out, "&gt;"); break;
		case '"': rc = dynbuf_puts(out, "&quot;"); break;
		case '\'': rc = dynbuf_puts(out, "&#39;"); break;
		default: rc = dynbuf_append(out, p + i, 1);
		}
	}
	return rc;
}

int
course_highlight(const char *text, const char *typed, struct dynbuf *out)
{
	size_t n = strlen(text), fl = 0, lens[16];
	char words[1100], *folded = NULL;
	size_t *start = NULL, *end = NULL;	/* per folded byte: its character in TEXT */
	unsigned char *mark = NULL;		/* per TEXT byte: inside a match */
	int nw = query_words(typed, words, sizeof(words), lens, 16), rc = 0;

	if (nw == 0 || n == 0)
		return put_escaped(out, text, n);
	folded = malloc(n * 3 + 8);
	start = malloc((n * 3 + 8) * sizeof(*start));
	end = malloc((n * 3 + 8) * sizeof(*end));
	mark = calloc(n + 1, 1);
	if (!folded || !start || !end || !mark) {
		rc = TC_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n;) {
		size_t cl = 1;
		long k;

		while (i + cl < n && ((unsigned char)text[i + cl] & 0xC0) == 0x80)
			cl++;
		k = fold_text(text + i, cl, folded + fl, n * 3 + 8 - fl);
		for (long b = 0; k > 0 && b < k; b++) {
			start[fl + (size_t)b] = i;
			end[fl + (size_t)b] = i + cl;
		}
		fl += k > 0 ? (size_t)k : 0;
		i += cl;
	}
	for (size_t p = 0; p < fl; p++) {
		unsigned char prev = p ? (unsigned char)folded[p - 1] : ' ';

		if (isalnum(prev) || (prev & 0x80))
			continue;	/* matches start words only */
		for (int w = 0, o = 0; w < nw; o += (int)lens[w] + 1, w++)
			if (p + lens[w] <= fl && memcmp(folded + p, words + o, lens[w]) == 0)
				for (size_t b = start[p]; b < end[p + lens[w] - 1]; b++)
					mark[b] = 1;
	}
	for (size_t i = 0; rc == 0 && i < n;) {
		size_t j = i;

		while (j < n && mark[j] == mark[i])
			j++;
		if (mark[i])
			rc = dynbuf_puts(out, "<mark>");
		if (rc == 0)
			rc = put_escaped(out, text + i, j - i);
		if (rc == 0 && mark[i])
			rc = dynbuf_puts(out, "</mark>");
		i = j;
	}
out:
	free(folded);
	free(start);
	free(end);
	free(mark);
	return rc;
}
