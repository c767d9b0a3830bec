/*
 * webvtt.h - checking caption files (W3C WebVTT, https://www.w3.org/TR/webvtt1/)
 * before they are stored, and the language tags they are labelled with.
 *
 * Pure functions with no I/O and no allocation.
 *
 * webvtt_check accepts what a browser's parser (section 6.1) turns into
 * cues, and refuses what it would silently drop, so that a lecturer learns
 * about a broken caption at upload time rather than from a learner:
 *
 *   - an optional UTF-8 BOM, then "WEBVTT" followed by the end of the line
 *     (or of the file), a space or a tab; the rest of that line is free;
 *   - valid UTF-8 throughout (no overlongs, surrogates or code points past
 *     U+10FFFF) and no NUL byte; lines end in CRLF, LF or CR;
 *   - header lines (e.g. "Kind: captions") up to the first blank line or
 *     the first line holding "-->";
 *   - blocks separated by blank lines. A block is a cue when its first or
 *     second line holds "-->" (the first line is then its identifier); a
 *     later line holding "-->" ends the block and starts the next one, as
 *     in the browser. Any other block must start with "NOTE" (followed by
 *     a space, a tab or the end of the line), or be a STYLE or REGION
 *     block ("STYLE"/"REGION" and blanks on its first line) placed before
 *     the first cue. The contents of NOTE, STYLE and REGION blocks and of
 *     the header are not checked further; neither is cue text (which may
 *     be empty);
 *   - a timing line: optional blanks, "[h:]mm:ss.ttt", optional blanks,
 *     "-->", optional blanks, "[h:]mm:ss.ttt", then nothing or blanks and
 *     settings. Hours have 1 to 9 digits; minutes and seconds two digits
 *     below 60; exactly three digits of milliseconds. The end must come
 *     after the start; a cue may not start before the cue above it;
 *   - settings, separated by blanks, each at most once, all of them
 *     well-formed (where a browser would ignore the bad ones):
 *       vertical:rl|lr
 *       line:N or line:P%, optionally ",start|center|end" (N an optional
 *         '-' and digits, P a percentage)
 *       position:P%, optionally ",line-left|center|line-right"
 *       size:P%
 *       align:start|center|end|left|right
 *       region:ID (any non-empty word)
 *     where a percentage is digits, optionally '.' and digits, 0 to 100.
 */
#ifndef TINCHI_WEBVTT_H
#define TINCHI_WEBVTT_H

#include <stddef.h>
#include <stdint.h>

#define WEBVTT_MAX (2 * 1024 * 1024)	/* bytes */
#define WEBVTT_CUES_MAX 100000
#define LANG_TAG_MAX 35			/* characters of a language tag */

struct webvtt_summary {
	int cues;		/* how many cues */
	int64_t last_end_ms;	/* the latest end time of any cue; 0 without cues */
};

/*
 * 0 when the LEN bytes at BUF (need not be NUL-terminated) are a WebVTT
 * file as described above. TC_EINVALID otherwise, or TC_ETOOBIG when LEN
 * is over WEBVTT_MAX or there are more than WEBVTT_CUES_MAX cues. WHY
 * (WHYLEN bytes, may be NULL) receives a sentence naming the first problem
 * and its 1-based line, e.g. "line 12: the cue ends before it starts", or
 * "" on success. OUT (may be NULL) is filled only on success.
 */
int webvtt_check(const char *buf, size_t len, struct webvtt_summary *out,
		 char *why, size_t whylen);

/*
 * 1 when TAG is a BCP 47 language tag of the simple forms used for
 * captions: a 2-3 letter primary language subtag, optionally "-" and a
 * 4-letter script, optionally "-" and a 2-letter region or 3-digit area,
 * in that order ("vi", "en-US", "zh-Hant-TW", "es-419"). ASCII only,
 * case-insensitive, at most LANG_TAG_MAX characters. 0 otherwise or when
 * TAG is NULL.
 */
int lang_tag_valid(const char *tag);

#endif
