/* webvtt_test.c - tests for courses/webvtt.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/webvtt.h"
#include "tests/tap.h"

#define BOM "\xEF\xBB\xBF"

static int
check_n(const char *vtt, size_t n, struct webvtt_summary *sum, char *why, size_t whylen)
{
	return webvtt_check(vtt, n, sum, why, whylen);
}

/* VTT is accepted; prints why not. */
static void
good(const char *vtt, const char *name)
{
	char why[200];
	int rc = check_n(vtt, strlen(vtt), NULL, why, sizeof(why));

	if (!ok(rc == 0, name))
		printf("#   rc %d: %s\n", rc, why);
}

/* VTT (N bytes) is refused with TC_EINVALID and, when WANT is not NULL,
 * exactly that sentence. */
static void
bad_n(const char *vtt, size_t n, const char *want, const char *name)
{
	char why[200] = "unset";
	int rc = check_n(vtt, n, NULL, why, sizeof(why));

	is_int(rc, TC_EINVALID, name);
	if (want)
		is_str(why, want, name);
	else if (!ok(why[0] != '\0', name))
		printf("#   no reason given\n");
}

static void
bad(const char *vtt, const char *want, const char *name)
{
	bad_n(vtt, strlen(vtt), want, name);
}

static void
test_good(void)
{
	good("WEBVTT\n", "minimal file");
	good("WEBVTT", "signature alone, no line end");
	good("WEBVTT\n\n", "signature and a blank line");
	good(BOM "WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n", "BOM");
	good("WEBVTT\r\n\r\n00:00:01.000 --> 00:00:02.500\r\nHello\r\n\r\n"
	     "00:00:03.000 --> 00:00:04.000\r\nAgain\r\n", "CRLF line ends");
	good("WEBVTT\r\r00:01.000 --> 00:02.000\rOld Mac\r", "CR line ends");
	good("WEBVTT\n\n00:01.000 --> 00:02.000\r\nmixed\rline\r\nends\n\r\n"
	     "00:03.000 --> 00:04.000\rnext\n", "mixed line ends");
	good("WEBVTT - Bài 1: Giới thiệu\nKind: captions\nLanguage: vi\n\n"
	     "00:00:00.000 --> 00:00:02.000\nXin chào các bạn!\n",
	     "text after the signature and header lines");
	good("WEBVTT\tx\n", "a tab after WEBVTT");
	good("WEBVTT\n\n01:02:03.004 --> 01:02:04.000\nwith hours\n\n"
	     "01:02:05.000 --> 01:02:06.000\n", "hours");
	good("WEBVTT\n\n00:59.000 --> 01:00.000\nno hours\n\n"
	     "00:01:00.000 --> 00:01:01.000\nhours again\n", "with and without hours");
	good("WEBVTT\n\n100:00:00.000 --> 100:00:01.000\nlong film\n", "three-digit hours");
	good("WEBVTT\n\n0:00:00.000 --> 0:00:01.000\none-digit hours\n",
	     "one-digit hours (browsers take them)");
	good("WEBVTT\n\n1\n00:00.000 --> 00:01.000\nfirst\n\n"
	     "intro-2 ✓\n00:01.000 --> 00:02.000\nsecond\n", "identifiers");
	good("WEBVTT\n\n00:00.000 --> 00:01.000 align:start line:0 position:10%,line-left "
	     "size:50% vertical:rl region:r1\nall settings\n\n"
	     "00:01.000 --> 00:02.000\tline:-1,end\talign:right position:100%,center\n"
	     "tabs\n\n"
	     "00:02.000 --> 00:03.000 line:33.5%,start size:0.25% vertical:lr align:center\n"
	     "more\n\n"
	     "00:03.000 --> 00:04.000  align:left  position:0.0%,line-right size:100.00%\n"
	     "spaces\n", "settings");
	good("WEBVTT\n\n00:00.000-->00:01.000\nno blanks around the arrow\n",
	     "no blanks around the arrow");
	good("WEBVTT\n\nSTYLE\n::cue { color: yellow; }\n\n"
	     "NOTE a comment\n\n"
	     "REGION\nid:r1 width:40% lines:3\n\n"
	     "NOTE\nmulti-line\ncomment\n\n"
	     "00:00.000 --> 00:01.000 region:r1\nstyled\n\n"
	     "NOTE\tnotes may follow cues\n", "NOTE, STYLE and REGION blocks");
	good("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n"
	     "Chào mừng các bạn đến với khoá học Lập trình C.\n"
	     "<v Thầy Nguyễn>Hôm nay chúng ta học về con trỏ.</v>\n", "Vietnamese text");
	good("WEBVTT\n\n00:00.000 --> 00:01.000\n\n00:01.000 --> 00:02.000\n", "empty cue text");
	good("WEBVTT\n00:00.000 --> 00:01.000\nno blank line after the signature\n",
	     "a cue right after the signature line");
	good("WEBVTT\n\n00:00.000 --> 00:01.000\none\n00:00.500 --> 00:02.000\ntwo\n",
	     "an arrow line starts the next cue");
	good("WEBVTT\n\n00:00.000 --> 00:01.000\nsame start\n\n00:00.000 --> 00:02.000\n",
	     "equal start times");
	good("WEBVTT\n\n\n\n00:00.000 --> 00:01.000\nmany blank lines\n\n\n",
	     "several blank lines");
	good("WEBVTT\n\n00:00.000 --> 00:01.000\nno final line end", "no final line end");
	good("WEBVTT\n\nNOTE\n00:00.000 --> 00:01.000\nNOTE is this cue's identifier\n",
	     "an identifier that reads NOTE (as in browsers)");
}

static void
test_summary(void)
{
	struct webvtt_summary s = { -1, -1 };
	const char *vtt = "WEBVTT\n\n00:00.000 --> 00:10.000\na\n\n"
			  "00:02.000 --> 01:02:03.456\nb\n\n00:03.000 --> 00:04.000\nc\n";
	char why[100] = "x";

	is_int(webvtt_check(vtt, strlen(vtt), &s, why, sizeof(why)), 0, "summary file");
	is_int(s.cues, 3, "three cues");
	is_int(s.last_end_ms, 3723456, "latest end, not the last cue's");
	is_str(why, "", "WHY is empty on success");
	is_int(webvtt_check("WEBVTT\n", 7, &s, NULL, 0), 0, "WHY may be NULL");
	is_int(s.cues, 0, "no cues");
	is_int(s.last_end_ms, 0, "no end");
	is_int(webvtt_check(vtt, strlen(vtt), NULL, NULL, 0), 0, "OUT may be NULL");
	s.cues = 42;
	is_int(webvtt_check("x", 1, &s, NULL, 0), TC_EINVALID, "a refused file");
	is_int(s.cues, 42, "leaves OUT alone");
}

static void
test_signature(void)
{
	bad("", "line 1: the file does not start with \"WEBVTT\"", "empty file");
	bad_n(NULL, 0, "line 1: the file does not start with \"WEBVTT\"", "NULL, 0");
	bad("WEBVT", NULL, "short signature");
	bad("WEBVTTX\n", "line 1: the file does not start with \"WEBVTT\"", "WEBVTTX");
	bad("webvtt\n", NULL, "lower case");
	bad(" WEBVTT\n", NULL, "blank before WEBVTT");
	bad(BOM BOM "WEBVTT\n", NULL, "two BOMs");
	bad("\xEF\xBBWEBVTT\n", NULL, "half a BOM");
	bad("1\n00:00:01,000 --> 00:00:02,000\nSRT\n", NULL, "an SRT file");
	bad_n("WEBVTT\0\n", 8, NULL, "NUL after WEBVTT");
}

static void
test_bytes(void)
{
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\nbad \xC3\x28 byte\n",
	    "line 4: the line is not valid UTF-8", "bad UTF-8");
	bad("WEBVTT \xFF\n", "line 1: the line is not valid UTF-8", "bad UTF-8 in line 1");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\n\xC0\xAF\n", NULL, "overlong");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\n\xED\xA0\x80\n", NULL, "surrogate");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\n\xF4\x90\x80\x80\n", NULL, "past U+10FFFF");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\nhalf \xE1\xBB\n", NULL,
	    "a sequence cut by the line end");
	bad("WEBVTT\n\nNOTE\n\xE1\xBB\n", NULL, "bad UTF-8 in a NOTE");
	bad_n("WEBVTT\n\n00:00.000 --> 00:01.000\nnul\0byte\n", 40,
	      "line 4: the line holds a NUL byte", "NUL");
	bad_n("WEBVTT\r\n\r\n\r\nx\0", 14, "line 4: the line holds a NUL byte",
	      "NUL, counting CRLF lines");
}

static void
test_timings(void)
{
	bad("WEBVTT\n\n00:60:00.000 --> 01:00:01.000\n",
	    "line 3: the minutes of the start time must be below 60", "60 minutes");
	bad("WEBVTT\n\n60:00.000 --> 61:00.000\n",
	    "line 3: the minutes of the start time must be below 60", "60 minutes, no hours");
	bad("WEBVTT\n\n00:00.000 --> 00:60.000\n",
	    "line 3: the seconds of the end time must be below 60", "60 seconds");
	bad("WEBVTT\n\n00:01.00 --> 00:02.000\n",
	    "line 3: the start time needs exactly three digits of milliseconds",
	    "2-digit milliseconds");
	bad("WEBVTT\n\n00:01.000 --> 00:02.0000\n",
	    "line 3: the end time needs exactly three digits of milliseconds",
	    "4-digit milliseconds");
	bad("WEBVTT\n\n00:01 --> 00:02.000\n", NULL, "no milliseconds");
	bad("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\n",
	    "line 3: the start time has ',' before the milliseconds where WebVTT has '.' "
	    "(is this an SRT file?)", "commas (SRT)");
	bad("WEBVTT\n\n0:01.000 --> 0:02.000\n",
	    "line 3: the start time is not of the form [hh:]mm:ss.ttt", "one-digit minutes");
	bad("WEBVTT\n\n00:1.000 --> 00:02.000\n", NULL, "one-digit seconds");
	bad("WEBVTT\n\n1234567890:00:00.000 --> 1234567891:00:00.000\n", NULL,
	    "ten-digit hours");
	bad("WEBVTT\n\n00:01.000 -> 00:02.000\n", NULL, "a short arrow");
	bad("WEBVTT\n\n00:01.000 --> \n", NULL, "no end time");
	bad("WEBVTT\n\n--> 00:02.000\n", NULL, "no start time");
	bad("WEBVTT\n\n\n\n00:00:05.000 --> 00:00:04.000\ntext\n",
	    "line 5: the cue ends before it starts", "end before start");
	bad("WEBVTT\n\n00:05.000 --> 00:05.000\n",
	    "line 3: the cue ends as soon as it starts", "end equal to start");
	bad("WEBVTT\n\n00:05.000 --> 00:06.000\nA\n\n00:04.000 --> 00:07.000\nB\n",
	    "line 6: the cue starts before the cue above it", "decreasing starts");
	bad("WEBVTT\n\n00:05.000 --> 00:06.000\nA\n00:04.999 --> 00:07.000\n",
	    "line 5: the cue starts before the cue above it",
	    "decreasing starts without a blank line");
	bad("WEBVTT\n\nintro --> part\n00:00.000 --> 00:01.000\nx\n",
	    "line 3: a cue identifier must not contain \"-->\"", "--> in an identifier");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\nok\n\nid\n00:02.000 --> 00:0x.000\n",
	    "line 7: the end time is not of the form [hh:]mm:ss.ttt",
	    "line numbers count every line");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\nfine\nbut --> not\n", NULL,
	    "an arrow in cue text starts a broken cue");
}

static void
test_settings(void)
{
	static const char *const bad_settings[] = {
		"align:middle", "foo:bar", "align", "align:", ":start", "size:101%",
		"size:100.5%", "size:50", "size:-1%", "size:.5%", "size:5.%", "position:50",
		"position:50%,left", "position:-5%", "line:1.5", "line:", "line:--1",
		"line:1-", "line:0,middle", "line:0,", "line:abc", "vertical:x",
		"vertical:RL", "Align:start", "align:start align:end", "line:0 line:1",
		"region:a-->b",
	};

	for (size_t i = 0; i < sizeof(bad_settings) / sizeof(bad_settings[0]); i++) {
		char vtt[200], name[100];

		snprintf(vtt, sizeof(vtt), "WEBVTT\n\n00:00.000 --> 00:01.000 %s\ntext\n",
			 bad_settings[i]);
		snprintf(name, sizeof(name), "bad setting %s", bad_settings[i]);
		bad(vtt, NULL, name);
	}
	bad("WEBVTT\n\n00:00.000 --> 00:01.000 align:middle\n",
	    "line 3: the cue setting \"align:middle\" is not valid", "bad setting message");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000 color:red\n",
	    "line 3: unknown cue setting \"color\"", "unknown setting message");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000 size:10% size:20%\n",
	    "line 3: the cue setting size is given twice", "duplicate setting message");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000align:start\n",
	    "line 3: expected a space after the end time", "no blank before settings");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000 garbage\n",
	    "line 3: \"garbage\" is not a cue setting (name:value)", "garbage after the times");
}

static void
test_blocks(void)
{
	bad("WEBVTT\n\nhello\n", "line 3: expected a cue (a timing line such as "
	    "\"00:01.000 --> 00:02.500\", optionally after an identifier line) or a NOTE",
	    "a stray line");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\na\n\nid\nno timing\n", NULL,
	    "an identifier without timing");
	bad("WEBVTT\n\nNOTES\nx\n", NULL, "NOTES is not NOTE");
	bad("WEBVTT\n\nNOTE:x\n", NULL, "NOTE: is not NOTE");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\na\n\nSTYLE\n::cue { color: red }\n",
	    "line 6: STYLE and REGION blocks must come before the first cue",
	    "STYLE after a cue");
	bad("WEBVTT\n\n00:00.000 --> 00:01.000\na\n\nREGION\nid:x\n", NULL,
	    "REGION after a cue");
}

static void
test_limits(void)
{
	size_t n = WEBVTT_MAX + 1;
	char *big = malloc(n), why[100];

	if (!ok(big != NULL, "allocate a big file"))
		return;
	memset(big, '\n', n);
	memcpy(big, "WEBVTT", 6);
	is_int(webvtt_check(big, n, NULL, why, sizeof(why)), TC_ETOOBIG, "over WEBVTT_MAX");
	is_str(why, "the file is larger than 2097152 bytes", "size message");
	is_int(webvtt_check(big, n - 1, NULL, why, sizeof(why)), 0, "WEBVTT_MAX bytes pass");
	free(big);
	/* WEBVTT_CUES_MAX cannot be passed within WEBVTT_MAX: the shortest cue,
	 * "00:00.000-->00:00.001\n", takes 22 bytes. */
}

static void
test_why_truncated(void)
{
	char why[8];

	is_int(webvtt_check("WEBVTTX", 7, NULL, why, sizeof(why)), TC_EINVALID,
	       "a short WHY");
	is_str(why, "line 1:", "is truncated, NUL-terminated");
}

static void
test_lang_tags(void)
{
	static const struct { const char *tag; int want; } v[] = {
		{ "vi", 1 }, { "en", 1 }, { "en-US", 1 }, { "en-us", 1 }, { "EN-us", 1 },
		{ "zh-Hant", 1 }, { "zh-Hant-TW", 1 }, { "zh-hant-tw", 1 }, { "es-419", 1 },
		{ "sr-Latn-RS", 1 }, { "yue", 1 }, { "yue-HK", 1 }, { "fil", 1 },
		{ "", 0 }, { "e", 0 }, { "engl", 0 }, { "en_US", 0 }, { "en-", 0 },
		{ "-en", 0 }, { "en--US", 0 }, { "en-USA", 0 }, { "en-U", 0 }, { "en-1", 0 },
		{ "en-12", 0 }, { "es-4190", 0 }, { "zh-Hant-", 0 }, { "zh-TW-Hant", 0 },
		{ "zh-Hant-Hans", 0 }, { "en-US-x", 0 }, { "en US", 0 }, { "vi ", 0 },
		{ "\xC3\xA9n", 0 }, { "12", 0 }, { "en-US-1234", 0 }, { "i-klingon", 0 },
		{ "x-private", 0 }, { "en-Latn1", 0 }, { "de-DE-1996", 0 },
		{ "abcdefghijklmnopqrstuvwxyzabcdefghijk", 0 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char name[80];

		snprintf(name, sizeof(name), "'%s' is %sa language tag", v[i].tag,
			 v[i].want ? "" : "not ");
		is_int(lang_tag_valid(v[i].tag), v[i].want, name);
	}
	is_int(lang_tag_valid(NULL), 0, "NULL is not a tag");
}

int
main(void)
{
	test_good();
	test_summary();
	test_signature();
	test_bytes();
	test_timings();
	test_settings();
	test_blocks();
	test_limits();
	test_why_truncated();
	test_lang_tags();
	return done_testing();
}
