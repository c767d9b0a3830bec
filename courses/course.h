/*
 * course.h - a course and the rules for its fields.
 *
 * Credits carry one decimal (3, 1.5) and are kept as tenths in an integer,
 * so that no binary fraction ever reaches a transcript.
 */
#ifndef TINCHI_COURSE_H
#define TINCHI_COURSE_H

#include <stddef.h>
#include <stdint.h>

#define COURSE_CODE_MAX 32
#define COURSE_TITLE_MAX 200		/* bytes of UTF-8 */
#define COURSE_DESCRIPTION_MAX 16384
#define COURSE_TAGS_MAX 512

enum course_status { COURSE_DRAFT = 1, COURSE_PUBLISHED, COURSE_ARCHIVED };

struct course {
	int64_t id;
	char uid[37];
	int64_t institution_id;
	char code[COURSE_CODE_MAX + 1];
	char title[COURSE_TITLE_MAX + 1];
	char description[COURSE_DESCRIPTION_MAX + 1];	/* Markdown */
	char language[8];		/* "vi", "en", ... */
	int credits_x10;		/* 30 = 3 credits, 15 = 1.5 */
	char level[64];			/* "undergraduate-1", "upper-secondary", ... */
	char tags[COURSE_TAGS_MAX + 1];	/* comma-separated */
	enum course_status status;
	char starts_on[11], ends_on[11];	/* "" when self-paced */
	int64_t enrol_opens_at, enrol_closes_at;	/* 0: no window */
	int64_t capacity;		/* 0: unlimited */
	int64_t owner_id;		/* the lecturer who created it */
	int64_t created_at, updated_at;
};

const char *course_status_name(enum course_status s);
int course_status_parse(const char *s, enum course_status *out);

/* draft -> published -> archived; published <- archived is not allowed
 * back, draft <- published only while nobody is enrolled (checked by the
 * caller). 0 or TC_ECONFLICT. */
int course_status_change_ok(enum course_status from, enum course_status to);

/* Course code: 1..32 of A-Z a-z 0-9 . _ - (case kept). */
int course_code_check(const char *s);
/* 1 when a unit of UNIT_KIND may hold a material of MATERIAL_KIND: a video
 * unit a video or audio file, a document unit a document; text and quiz
 * units any (an attachment). */
int course_unit_material_fits(const char *unit_kind, const char *material_kind);
/* Language: a lower-case ISO 639-1 code (2 letters), optionally "-XX". */
int course_language_check(const char *s);
/* Level: 0..63 of a-z 0-9 '-'. */
int course_level_check(const char *s);
/* Tags: comma-separated words, each 1..40 bytes of UTF-8 without commas
 * or control characters, at most 20 tags, COURSE_TAGS_MAX bytes. */
int course_tags_check(const char *s);
/* "3", "1.5", "0.5": positive, at most one decimal, at most 60 credits.
 * *X10 receives tenths. */
int course_credits_parse(const char *s, int *x10);
/* Formats tenths back ("3", "1.5"). */
void course_credits_format(int x10, char out[16]);

/*
 * The folded search text of C (fold.h): its code, title and tags,
 * separated by spaces, into OUT. INSTITUTION_NAME is not indexed (the
 * catalog filters by institution instead). 0 or TC_ETOOBIG.
 */
int course_search_text(const struct course *c, const char *institution_name,
		       char *out, size_t outsize);

/*
 * Turns what a person typed into an FTS5 query over folded text: each word
 * folded, quoted (so no FTS5 syntax gets through) and made a prefix match,
 * all words required: "Lập trình" -> "\"lap\"* \"trinh\"*". 0, or
 * TC_EINVALID when there is no word at all.
 */
int course_search_query(const char *typed, char *out, size_t outsize);

/*
 * TEXT as HTML (every character escaped) with the words of what a person
 * typed marked: each place where a folded query word starts a folded word
 * of TEXT is wrapped in <mark>...</mark> over the original characters, so
 * "lap trinh" marks "Lập trình" in "Lập trình C". Appends to OUT. 0, or a
 * dynbuf error.
 */
struct dynbuf;
int course_highlight(const char *text, const char *typed, struct dynbuf *out);

#endif
