/* markdown_test.c - tests for courses/markdown.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/markdown.h"
#include "tests/tap.h"

#define REL "rel=\"nofollow noopener noreferrer\""
#define OUT_CAP (64u << 20)

/* Renders LEN bytes of MD; the HTML (malloc'd, "" when empty) or NULL. */
static char *
render_n(const char *md, size_t len, int *rc)
{
	struct dynbuf b;
	char *s;

	dynbuf_init(&b, OUT_CAP);
	*rc = markdown_render(md, len, &b);
	if (*rc) {
		dynbuf_cleanup(&b);
		return NULL;
	}
	s = dynbuf_take(&b, NULL);
	return s ? s : strdup("");
}

static void
md_is(const char *md, const char *want, const char *name)
{
	int rc;
	char *got = render_n(md, strlen(md), &rc);

	if (rc)
		printf("# markdown_render returned %d\n", rc);
	is_str(got, want, name);
	free(got);
}

/* ---- the tag checker ---------------------------------------------------- */

static const char *const allowed_tags[] = {
	"p", "h2", "h3", "h4", "h5", "h6", "em", "strong", "code", "pre",
	"ul", "ol", "li", "blockquote", "a", NULL,
};

static int
tag_allowed(const char *name, size_t n)
{
	size_t i;

	for (i = 0; allowed_tags[i]; i++)
		if (strlen(allowed_tags[i]) == n &&
		    memcmp(allowed_tags[i], name, n) == 0)
			return 1;
	return 0;
}

static int
prefix_ci(const char *s, size_t n, const char *p)
{
	size_t i, k = strlen(p);

	if (n < k)
		return 0;
	for (i = 0; i < k; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 'a' - 'A');
		if (c != p[i])
			return 0;
	}
	return 1;
}

/* S[0..N) starts with one of the entities the renderer writes. */
static int
known_entity(const char *s, size_t n)
{
	static const char *const ents[] = {
		"&amp;", "&lt;", "&gt;", "&quot;", "&#39;", NULL,
	};
	size_t i;

	for (i = 0; ents[i]; i++)
		if (n >= strlen(ents[i]) &&
		    memcmp(s, ents[i], strlen(ents[i])) == 0)
			return 1;
	return 0;
}

static int
href_ok(const char *v, size_t n)
{
	if (n >= 1 && v[0] == '/')
		return n == 1 || (v[1] != '/' && v[1] != '\\');
	return prefix_ci(v, n, "http://") || prefix_ci(v, n, "https://") ||
	       prefix_ci(v, n, "mailto:");
}

static int
class_ok(const char *v, size_t n)
{
	size_t i;

	if (n <= 9 || memcmp(v, "language-", 9) != 0)
		return 0;
	for (i = 9; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
			return 0;
	return 1;
}

/*
 * Scans HTML: every '<' must start an allowlisted tag whose attributes are
 * only href (on <a>, safe scheme), rel (on <a>, exactly REL) and class (on
 * <code>, language-[a-z0-9-]); tags must nest properly; text and attribute
 * values hold no raw '>', '"' or '\'' and no '&' but the five entities.
 * Returns NULL or why not (static).
 */
static const char *
html_unsafe(const char *h)
{
	static char why[200];
	const char *stack[64];
	size_t stack_len[64];
	int depth = 0;
	size_t n = strlen(h), i = 0;

	while (i < n) {
		char c = h[i];

		if (c == '&') {
			if (!known_entity(h + i, n - i))
				return "stray '&'";
			i++;
			continue;
		}
		if (c == '>' || c == '"' || c == '\'')
			return "raw > \" or ' in text";
		if (c != '<') {
			i++;
			continue;
		}
		{
			int closing = 0, has_href = 0;
			size_t s;
			const char *name;
			size_t nlen;

			i++;
			if (i < n && h[i] == '/') {
				closing = 1;
				i++;
			}
			for (s = i; i < n && ((h[i] >= 'a' && h[i] <= 'z') ||
					      (h[i] >= '0' && h[i] <= '9')); i++)
				;
			name = h + s;
			nlen = i - s;
			if (!tag_allowed(name, nlen)) {
				snprintf(why, sizeof(why), "tag '%.*s'",
					 (int)(nlen < 20 ? nlen : 20), name);
				return why;
			}
			if (closing) {
				if (i >= n || h[i] != '>')
					return "junk in a closing tag";
				if (depth == 0 || stack_len[depth - 1] != nlen ||
				    memcmp(stack[depth - 1], name, nlen) != 0)
					return "tags not nested";
				depth--;
				i++;
				continue;
			}
			while (i < n && h[i] == ' ') {
				size_t a = ++i, alen, v, vlen;

				while (i < n && h[i] >= 'a' && h[i] <= 'z')
					i++;
				alen = i - a;
				if (i + 1 >= n || h[i] != '=' || h[i + 1] != '"')
					return "unquoted attribute";
				v = i += 2;
				while (i < n && h[i] != '"') {
					if (h[i] == '<' || h[i] == '>' ||
					    h[i] == '\'')
						return "raw < > ' in a value";
					if (h[i] == '&' &&
					    !known_entity(h + i, n - i))
						return "stray '&' in a value";
					i++;
				}
				if (i >= n)
					return "unterminated value";
				vlen = i++ - v;
				if (nlen == 1 && name[0] == 'a' && alen == 4 &&
				    memcmp(h + a, "href", 4) == 0) {
					if (!href_ok(h + v, vlen))
						return "unsafe href";
					has_href = 1;
				} else if (nlen == 1 && name[0] == 'a' &&
					   alen == 3 &&
					   memcmp(h + a, "rel", 3) == 0) {
					if (vlen != 28 || memcmp(h + v,
					    "nofollow noopener noreferrer", 28))
						return "wrong rel";
				} else if (nlen == 4 &&
					   memcmp(name, "code", 4) == 0 &&
					   alen == 5 &&
					   memcmp(h + a, "class", 5) == 0) {
					if (!class_ok(h + v, vlen))
						return "bad class";
				} else {
					snprintf(why, sizeof(why),
						 "attribute '%.*s' on <%.*s>",
						 (int)(alen < 20 ? alen : 20),
						 h + a, (int)nlen, name);
					return why;
				}
			}
			if (i >= n || h[i] != '>')
				return "junk in a tag";
			if (nlen == 1 && name[0] == 'a' && !has_href)
				return "<a> without href";
			if (depth == 64)
				return "nested too deep";
			stack[depth] = name;
			stack_len[depth++] = nlen;
			i++;
		}
	}
	return depth ? "unclosed tag" : NULL;
}

/* Renders MD and checks the HTML; NO_LINK: it must hold no <a at all. */
static void
safe(const char *md, size_t len, int no_link, const char *name)
{
	int rc;
	char *got = render_n(md, len, &rc);
	const char *why = got ? html_unsafe(got) : "render failed";
	char msg[200];

	if (!why && no_link && strstr(got, "<a"))
		why = "made a link";
	snprintf(msg, sizeof(msg), "safe: %.150s", name);
	if (!ok(why == NULL, msg)) {
		printf("#   %s\n#   html: %.300s\n", why, got ? got : "");
	}
	free(got);
}

/* ---- features ------------------------------------------------------------ */

static void
test_blocks(void)
{
	md_is("", "", "empty input");
	md_is("\n\n  \n", "", "only blank lines");
	md_is("Hello", "<p>Hello</p>\n", "one paragraph");
	md_is("a\nb\n\nc\n", "<p>a\nb</p>\n<p>c</p>\n",
	      "paragraphs split at blank lines");
	md_is("  a  \n\tb \n", "<p>a\nb</p>\n", "lines are trimmed");
	md_is("a\r\nb\r\n\r\nc", "<p>a\nb</p>\n<p>c</p>\n", "CRLF line ends");

	md_is("# T", "<h2>T</h2>\n", "# is h2");
	md_is("## T", "<h3>T</h3>\n", "## is h3");
	md_is("### T", "<h4>T</h4>\n", "### is h4");
	md_is("#### T", "<h5>T</h5>\n", "#### is h5");
	md_is("##### T", "<h6>T</h6>\n", "##### is h6");
	md_is("###### T", "<h6>T</h6>\n", "###### is capped at h6");
	md_is("####### T", "<p>####### T</p>\n", "seven # is text");
	md_is("#tag", "<p>#tag</p>\n", "# needs a blank after it");
	md_is("  # T  #  ", "<h2>T</h2>\n", "closing #s are dropped");
	md_is("# C#", "<h2>C#</h2>\n", "a # inside a word stays");
	md_is("#", "<h2></h2>\n", "empty heading");
	md_is("para\n# H\nmore", "<p>para</p>\n<h2>H</h2>\n<p>more</p>\n",
	      "a heading ends a paragraph");
	md_is("# *Lập* trình", "<h2><em>Lập</em> trình</h2>\n",
	      "inlines in a heading");

	md_is("```\ncode *x*\n  <tag> & \"q\"\n```\nafter",
	      "<pre><code>code *x*\n  &lt;tag&gt; &amp; &quot;q&quot;\n"
	      "</code></pre>\n<p>after</p>\n", "fenced code is escaped");
	md_is("```c\nint x;\n```",
	      "<pre><code class=\"language-c\">int x;\n</code></pre>\n",
	      "fence with a language");
	md_is("```objective-c2 extra\nx\n```",
	      "<pre><code class=\"language-objective-c2\">x\n</code></pre>\n",
	      "language is the first word");
	md_is("```C++\nx\n```", "<pre><code>x\n</code></pre>\n",
	      "language outside [a-z0-9-] is dropped");
	md_is("```\na\n\n  b\n", "<pre><code>a\n\n  b\n</code></pre>\n",
	      "unclosed fence runs to the end");
	md_is("````\n```\n````", "<pre><code>```\n</code></pre>\n",
	      "a shorter fence does not close");
	md_is("- a\n```\nx\n```", "<ul>\n<li>a</li>\n</ul>\n"
	      "<pre><code>x\n</code></pre>\n", "a fence ends a list");
	md_is("``` a`b\n", "<p>``` a`b</p>\n",
	      "a backtick in the info string is no fence");

	md_is("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n",
	      "unordered list with -");
	md_is("* a\n* b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n",
	      "unordered list with *");
	md_is("1. a\n2. b\n10. c",
	      "<ol>\n<li>a</li>\n<li>b</li>\n<li>c</li>\n</ol>\n",
	      "ordered list");
	md_is("- a\n  more\n- b",
	      "<ul>\n<li>a\nmore</li>\n<li>b</li>\n</ul>\n",
	      "a line after an item continues it");
	md_is("- a\n\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n",
	      "blank lines between items keep the list");
	md_is("- a\n  - b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n",
	      "lists are flat");
	md_is("- a\n1. b", "<ul>\n<li>a</li>\n</ul>\n<ol>\n<li>b</li>\n</ol>\n",
	      "the other kind starts a new list");
	md_is("- a\n\ntext", "<ul>\n<li>a</li>\n</ul>\n<p>text</p>\n",
	      "text after a blank line ends the list");
	md_is("para\n- a", "<p>para</p>\n<ul>\n<li>a</li>\n</ul>\n",
	      "an item ends a paragraph");
	md_is("-", "<ul>\n<li></li>\n</ul>\n", "empty item");
	md_is("-5 độ\n**đậm**", "<p>-5 độ\n<strong>đậm</strong></p>\n",
	      "markers need a blank after them");
	md_is("2024.Năm", "<p>2024.Năm</p>\n", "a number without blank is text");
	md_is("1234567890. a", "<p>1234567890. a</p>\n",
	      "at most 9 digits");

	md_is("> q", "<blockquote>\n<p>q</p>\n</blockquote>\n", "blockquote");
	md_is("> a\n>b\n\nc",
	      "<blockquote>\n<p>a\nb</p>\n</blockquote>\n<p>c</p>\n",
	      "blockquote lines join");
	md_is("> # H\n> - i\n>\n> p",
	      "<blockquote>\n<h2>H</h2>\n<ul>\n<li>i</li>\n</ul>\n<p>p</p>\n"
	      "</blockquote>\n", "blocks inside a blockquote");
	md_is("> a\nb", "<blockquote>\n<p>a</p>\n</blockquote>\n<p>b</p>\n",
	      "no lazy continuation");
	md_is("> > x", "<blockquote>\n<blockquote>\n<p>x</p>\n</blockquote>\n"
	      "</blockquote>\n", "nested blockquote");
	md_is("> > > > x",
	      "<blockquote>\n<blockquote>\n<blockquote>\n<p>&gt; x</p>\n"
	      "</blockquote>\n</blockquote>\n</blockquote>\n",
	      "blockquotes nest three deep, then '>' is text");
}

static void
test_inlines(void)
{
	md_is("*x*", "<p><em>x</em></p>\n", "*em*");
	md_is("_x_", "<p><em>x</em></p>\n", "_em_");
	md_is("**x**", "<p><strong>x</strong></p>\n", "**strong**");
	md_is("__x__", "<p><strong>x</strong></p>\n", "__strong__");
	md_is("***x***", "<p><em><strong>x</strong></em></p>\n",
	      "***both***");
	md_is("*a **b** c*", "<p><em>a <strong>b</strong> c</em></p>\n",
	      "strong in em");
	md_is("**a *b* c**", "<p><strong>a <em>b</em> c</strong></p>\n",
	      "em in strong");
	md_is("snake_case_name", "<p>snake_case_name</p>\n",
	      "no _ emphasis inside words");
	md_is("2 * 3 * 4", "<p>2 * 3 * 4</p>\n", "lone stars are text");
	md_is("**unclosed", "<p>**unclosed</p>\n", "unclosed is text");
	md_is("*a _b* c_", "<p><em>a _b</em> c_</p>\n",
	      "overlapping emphasis does not cross");
	md_is("a*b*c", "<p>a<em>b</em>c</p>\n", "* works inside words");
	md_is("\\*not\\* \\_em\\_ \\a", "<p>*not* _em_ \\a</p>\n",
	      "backslash escapes");
	md_is("a\nb *c\nd*", "<p>a\nb <em>c\nd</em></p>\n",
	      "emphasis across lines");

	md_is("`x`", "<p><code>x</code></p>\n", "code span");
	md_is("`` a`b ``", "<p><code>a`b</code></p>\n",
	      "double-backtick code span");
	md_is("`*x* [a](/b)`", "<p><code>*x* [a](/b)</code></p>\n",
	      "nothing is parsed in code");
	md_is("`a\nb`", "<p><code>a b</code></p>\n",
	      "newlines in code become spaces");
	md_is("`  `", "<p><code>  </code></p>\n", "all-space code keeps them");
	md_is("`unclosed", "<p>`unclosed</p>\n", "unclosed backtick is text");
	md_is("``a`", "<p>``a`</p>\n", "runs of other lengths do not close");
	md_is("`a` ``b`` `c` ```d",
	      "<p><code>a</code> <code>b</code> <code>c</code> ```d</p>\n",
	      "code spans of mixed lengths");
	md_is("*a `*` b*", "<p><em>a <code>*</code> b</em></p>\n",
	      "code inside emphasis");

	md_is("[a](https://e.vn/x)",
	      "<p><a href=\"https://e.vn/x\" " REL ">a</a></p>\n", "https link");
	md_is("[a](http://e.vn)",
	      "<p><a href=\"http://e.vn\" " REL ">a</a></p>\n", "http link");
	md_is("[thư](mailto:gv@truong.edu.vn)",
	      "<p><a href=\"mailto:gv@truong.edu.vn\" " REL ">thư</a></p>\n",
	      "mailto link");
	md_is("[c](/courses/1)",
	      "<p><a href=\"/courses/1\" " REL ">c</a></p>\n", "site path");
	md_is("[A](HTTPS://E.VN)",
	      "<p><a href=\"HTTPS://E.VN\" " REL ">A</a></p>\n",
	      "scheme in any case");
	md_is("[C](https://en.wikipedia.org/wiki/C_(programming_language))",
	      "<p><a href=\"https://en.wikipedia.org/wiki/C_(programming_"
	      "language)\" " REL ">C</a></p>\n", "balanced parens in a url");
	md_is("[q](/s?a=1&b='2')",
	      "<p><a href=\"/s?a=1&amp;b=&#39;2&#39;\" " REL ">q</a></p>\n",
	      "url is escaped");
	md_is("[a](/x*y*_z_)",
	      "<p><a href=\"/x*y*_z_\" " REL ">a</a></p>\n",
	      "nothing is parsed in a url");
	md_is("[*a* `b`](/x)",
	      "<p><a href=\"/x\" " REL "><em>a</em> <code>b</code></a></p>\n",
	      "inlines in link text");
	md_is("*[a](/x)*",
	      "<p><em><a href=\"/x\" " REL ">a</a></em></p>\n",
	      "link in emphasis");
	md_is("*a [b* c](/x)",
	      "<p>*a <a href=\"/x\" " REL ">b* c</a></p>\n",
	      "emphasis does not cross a link");
	md_is("[a [b](/u) c](/v)",
	      "<p>[a <a href=\"/u\" " REL ">b</a> c](/v)</p>\n",
	      "links do not nest");
	md_is("[a]", "<p>[a]</p>\n", "brackets alone are text");
	md_is("[a] (/x)", "<p>[a] (/x)</p>\n", "no blank before (");
	md_is("[rel](page.html)", "<p>[rel](page.html)</p>\n",
	      "relative url without / is text");
	md_is("[t](/x \"title\")", "<p>[t](/x &quot;title&quot;)</p>\n",
	      "titles are not supported");
	md_is("![ảnh](/a.png)",
	      "<p>!<a href=\"/a.png\" " REL ">ảnh</a></p>\n",
	      "no images: a ! and a link");
	md_is("<https://e.vn/a?b=1&c>",
	      "<p><a href=\"https://e.vn/a?b=1&amp;c\" " REL ">"
	      "https://e.vn/a?b=1&amp;c</a></p>\n", "autolink");
	md_is("<mailto:a@b.vn>",
	      "<p><a href=\"mailto:a@b.vn\" " REL ">mailto:a@b.vn</a></p>\n",
	      "mailto autolink");
	md_is("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>\n",
	      "javascript autolink is text");
	md_is("[<https://a.vn>](/x)",
	      "<p><a href=\"/x\" " REL ">&lt;https://a.vn&gt;</a></p>\n",
	      "no autolink inside a link");

	md_is("a & b < c > d \" e ' f &amp;",
	      "<p>a &amp; b &lt; c &gt; d &quot; e &#39; f &amp;amp;</p>\n",
	      "text is escaped");
	md_is("Xin chào các bạn! Đây là *Lập trình C* – phần 1.",
	      "<p>Xin chào các bạn! Đây là <em>Lập trình C</em> – phần 1.</p>\n",
	      "Vietnamese passes through");
	md_is("Tiếng Việt: ắ ằ ẳ ẵ ặ ơ ư đ Đ 漢字 😀",
	      "<p>Tiếng Việt: ắ ằ ẳ ẵ ặ ơ ư đ Đ 漢字 😀</p>\n",
	      "non-ASCII passes through unchanged");
	{
		int rc;
		char *got = render_n("a\0b", 3, &rc);

		is_str(got, "<p>a\xEF\xBF\xBD" "b</p>\n", "NUL becomes U+FFFD");
		free(got);
	}
}

static void
test_depth(void)
{
	char md[512], *got;
	size_t len = 0;
	int i, rc, ems = 0, stars = 0;
	const char *p;

	/* "*a *a ... x b* b*": twenty nested <em>. */
	for (i = 0; i < 20; i++, len += 3)
		memcpy(md + len, "*a ", 3);
	md[len++] = 'x';
	for (i = 0; i < 20; i++, len += 3)
		memcpy(md + len, " b*", 3);
	got = render_n(md, len, &rc);
	ok(got && html_unsafe(got) == NULL, "deep emphasis is well formed");
	for (p = got; p && (p = strstr(p, "<em>")) != NULL; p++)
		ems++;
	for (p = got; p && *p; p++)
		stars += *p == '*';
	is_int(ems, MARKDOWN_MAX_INLINE, "emphasis nests at most 8 deep");
	is_int(stars, 2 * (20 - MARKDOWN_MAX_INLINE),
	       "deeper emphasis stays text");
	free(got);
}

/*
 * Every append can fail: with OUT's cap anywhere below the full size the
 * rendering fails with TC_ETOOBIG, leaves OUT empty and (under ASan) leaks
 * nothing.
 */
static void
test_every_cap(void)
{
	static const char doc[] =
		"# Bài *một*\n\nĐoạn **văn** với `mã` và [liên kết](/a?b&c)"
		" <https://e.vn>.\n\n- mục _một_\n- mục hai\n\n1. một\n\n"
		"> trích dẫn\n> > lồng\n\n```c\nint x = 1 < 2;\n```\n";
	struct dynbuf b;
	size_t full, cap, bad = 0;
	char msg[100];
	int rc;

	dynbuf_init(&b, OUT_CAP);
	is_int(markdown_render(doc, sizeof(doc) - 1, &b), 0,
	       "a full document renders");
	ok(html_unsafe(dynbuf_str(&b)) == NULL, "and is well formed");
	full = b.len;
	dynbuf_cleanup(&b);
	for (cap = 0; cap < full; cap++) {
		dynbuf_init(&b, cap);
		rc = markdown_render(doc, sizeof(doc) - 1, &b);
		if (rc != TC_ETOOBIG || b.len != 0)
			bad++;
		dynbuf_cleanup(&b);
	}
	snprintf(msg, sizeof(msg), "caps 0..%zu all fail cleanly", full - 1);
	is_int(bad, 0, msg);
}

static void
test_errors(void)
{
	static const char *const bad[] = {
		"\xC3\x28", "a\xFF", "\xED\xA0\x80", "\xC0\xAF",
		"ok \xE1\xBA", "\xF4\x90\x80\x80",
	};
	struct dynbuf b;
	size_t i;
	char *big;

	dynbuf_init(&b, OUT_CAP);
	dynbuf_puts(&b, "X");
	is_int(markdown_render("a", 1, &b), 0, "render appends");
	is_str(dynbuf_str(&b), "X<p>a</p>\n", "after what OUT held");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "invalid UTF-8 #%zu", i);
		is_int(markdown_render(bad[i], strlen(bad[i]), &b),
		       TC_EINVALID, name);
	}
	is_str(dynbuf_str(&b), "X<p>a</p>\n", "OUT unchanged on failure");
	is_int(markdown_render(NULL, 0, &b), 0, "NULL, 0 is empty input");
	dynbuf_cleanup(&b);

	big = malloc(MARKDOWN_MAX_INPUT + 1);
	memset(big, 'a', MARKDOWN_MAX_INPUT + 1);
	dynbuf_init(&b, OUT_CAP);
	is_int(markdown_render(big, MARKDOWN_MAX_INPUT + 1, &b), TC_ETOOBIG,
	       "input over the limit");
	is_int(markdown_render(big, MARKDOWN_MAX_INPUT, &b), 0,
	       "input at the limit");
	dynbuf_cleanup(&b);
	free(big);

	dynbuf_init(&b, 12);
	dynbuf_puts(&b, "X");
	is_int(markdown_render("> *hello* world", 15, &b), TC_ETOOBIG,
	       "output over OUT's cap");
	is_str(dynbuf_str(&b), "X", "OUT unchanged after ETOOBIG");
	dynbuf_cleanup(&b);
	test_every_cap();
}

/* ---- XSS battery ---------------------------------------------------------- */

static const char *const payloads[] = {
	"<script>alert(1)</script>",
	"<img src=x onerror=alert(1)>",
	"<a href=\"javascript:alert(1)\">x</a>",
	"<svg/onload=alert(1)>",
	"<!-- x --><style>*{}</style>",
	"[x](javascript:alert(1))",
	"[x](JaVaScRiPt:alert(1))",
	"[x]( javascript:alert(1))",
	"[x](java\tscript:alert(1))",
	"[x](java\nscript:alert(1))",
	"[x](&#106;avascript:alert(1))",
	"[x](javascript&colon;alert(1))",
	"[x](\x01javascript:alert(1))",
	"[x](vbscript:msgbox(1))",
	"[x](data:text/html,<script>)",
	"[x](data:text/html;base64,PHNjcmlwdD4=)",
	"[x](//evil.example)",
	"[x](/\\evil.example)",
	"[x](\\\\evil.example)",
	"[x](\"onmouseover=\"alert(1))",
	"[x](https://e.vn/\" onmouseover=\"alert(1))",
	"[x](<javascript:alert(1)>)",
	"[x]: javascript:alert(1)\n\n[x]",
	"<javascript:alert(1)>",
	"<https://e.vn\" onmouseover=\"alert(1)>",
	"<//evil.example>",
	"`<b>`",
	"``</code><script>``",
	"```\n</pre><script>alert(1)</script>\n```",
	"```\" onload=\"alert(1)\nx\n```",
	"```js<script>\nx\n```",
	"*<b>x</b>*",
	"**<i onclick=x>**",
	"[<img src=x onerror=alert(1)>](/ok)",
	"\\<script>",
	"&lt;script&gt;",
	"a\0<script>",
};

/* Payloads that must never make a link. */
static int
payload_links(const char *p)
{
	return strstr(p, "(/ok)") != NULL;
}

static void
test_xss(void)
{
	/* Each payload goes between a prefix and a suffix. */
	static const char *const wraps[][2] = {
		{ "", "" }, { "# ", "" }, { "###### ", "" }, { "- ", "" },
		{ "1. ", "" }, { "> ", "" }, { "> > ", "" }, { "*", "*" },
		{ "**", "**" }, { "[", "](/x)" }, { "text\n", "\nmore" },
		{ "- a\n  ", "" },
	};
	size_t i, w;
	int rc;
	char *got;

	md_is("<script>alert(1)</script>",
	      "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n",
	      "script is text");
	md_is("<img src=x onerror=alert(1)>",
	      "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n", "img is text");
	md_is("[x](javascript:alert(1))",
	      "<p>[x](javascript:alert(1))</p>\n", "javascript: is text");
	md_is("[x](JaVaScRiPt:alert(1))",
	      "<p>[x](JaVaScRiPt:alert(1))</p>\n", "JaVaScRiPt: is text");
	md_is("[x]( javascript:alert(1))",
	      "<p>[x]( javascript:alert(1))</p>\n", "leading blank is text");
	md_is("[x](java\tscript:alert(1))",
	      "<p>[x](java\tscript:alert(1))</p>\n", "split scheme is text");
	md_is("[x](&#106;avascript:alert(1))",
	      "<p>[x](&amp;#106;avascript:alert(1))</p>\n",
	      "entity scheme is text");
	md_is("[x](data:text/html,<script>)",
	      "<p>[x](data:text/html,&lt;script&gt;)</p>\n", "data: is text");
	md_is("[x](//evil.example)", "<p>[x](//evil.example)</p>\n",
	      "protocol-relative is text");
	md_is("[x](\"onmouseover=\"alert(1))",
	      "<p>[x](&quot;onmouseover=&quot;alert(1))</p>\n",
	      "quote in url is text");
	md_is("`<b>`", "<p><code>&lt;b&gt;</code></p>\n", "code is escaped");
	md_is("```\n</pre><script>\n```",
	      "<pre><code>&lt;/pre&gt;&lt;script&gt;\n</code></pre>\n",
	      "fenced code is escaped");
	md_is("# <b>x</b>", "<h2>&lt;b&gt;x&lt;/b&gt;</h2>\n",
	      "HTML in a heading");
	md_is("- <b>x</b>", "<ul>\n<li>&lt;b&gt;x&lt;/b&gt;</li>\n</ul>\n",
	      "HTML in a list item");

	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		for (w = 0; w < sizeof(wraps) / sizeof(wraps[0]); w++) {
			char md[512], name[100];
			int n = snprintf(md, sizeof(md), "%s%s%s", wraps[w][0],
					 payloads[i], wraps[w][1]);

			snprintf(name, sizeof(name), "payload %zu, wrap %zu",
				 i, w);
			safe(md, (size_t)n,
			     !payload_links(payloads[i]) &&
			     strstr(wraps[w][1], "](/x)") == NULL, name);
		}
	}
	/* The payload with a NUL inside: strlen stops at it above. */
	got = render_n("a\0<script>", 10, &rc);
	ok(got && html_unsafe(got) == NULL, "safe: NUL then a tag");
	free(got);
}

/* ---- adversarial input ---------------------------------------------------- */

/* CPU time of this thread: other processes on a busy machine do not count. */
static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* LEN bytes of UNIT repeated (the last copy may be cut short). */
static char *
repeat(const char *unit, size_t len)
{
	char *s = malloc(len + 1);
	size_t i, k = strlen(unit);

	for (i = 0; i < len; i++)
		s[i] = unit[i % k];
	s[len] = '\0';
	return s;
}

/* Best CPU milliseconds of three renders of LEN bytes of UNIT; *SAFE is
 * cleared when a rendering is missing or unsafe. */
static double
render_ms(const char *unit, size_t len, int *safe)
{
	char *md = repeat(unit, len), *got;
	double best = 0;
	int rc;

	for (int i = 0; i < 3; i++) {
		double t0 = cpu_now(), ms;

		got = render_n(md, len, &rc);
		ms = (cpu_now() - t0) * 1000.0;
		if (!got || html_unsafe(got) != NULL)
			*safe = 0;
		free(got);
		if (i == 0 || ms < best)
			best = ms;
	}
	free(md);
	return best;
}

/*
 * Renders LEN bytes of UNIT repeated: it must be safe, and the cost must
 * grow linearly. Timing a fixed limit fails on a loaded machine and under
 * sanitizers; the ratio of the CPU time for LEN and LEN/4 does not: linear
 * is about 4, quadratic 16. Below 2 ms for LEN nothing can be quadratic
 * (100k bytes squared is 10^10 steps), so only the ratio of larger
 * timings is judged. A ratio of 8 or more is measured once more before it
 * counts: with the other core busy, one measure at 8.4 was seen (11.15 ms
 * against 1.32) for input that is linear everywhere else.
 */
static void
timed(const char *unit, size_t len, const char *label)
{
	char msg[200];
	int safe = 1;
	double quarter = render_ms(unit, len / 4, &safe), whole = render_ms(unit, len, &safe);
	double ratio = quarter > 0 ? whole / quarter : 0;

	if (whole >= 2.0 && ratio >= 8.0) {
		double q2 = render_ms(unit, len / 4, &safe), w2 = render_ms(unit, len, &safe);

		/* the pair most favourable to a linear cost (the larger quarter,
		 * the smaller whole): a quadratic one still gives about 16 */
		quarter = q2 > quarter ? q2 : quarter;
		whole = w2 < whole ? w2 : whole;
		ratio = quarter > 0 ? whole / quarter : 0;
	}

	snprintf(msg, sizeof(msg), "%s: %zu bytes in %.2f ms CPU, %zu in %.2f ms (x%.1f)", label,
		 len, whole, len / 4, quarter, ratio);
	diag(msg);
	snprintf(msg, sizeof(msg), "%s renders safely", label);
	ok(safe, msg);
	snprintf(msg, sizeof(msg), "%s renders in linear time (4x the input: under 8x the time)",
		 label);
	ok(whole < 2.0 || ratio < 8.0, msg);
}

static void
test_adversarial(void)
{
	/* Linear time, at 100k bytes and at 1 MiB. */
	timed("*", 100000, "100k '*'");
	timed("[", 100000, "100k '['");
	timed("_", 100000, "100k '_'");
	timed("`", 100000, "100k '`'");
	timed("]", 100000, "100k ']'");
	timed("*a", 100000, "'*a' x 50k");
	timed("a*", 100000, "'a*' x 50k");
	timed("*a **b ", 100000, "mixed openers");
	timed("*a _b ", 100000, "alternating openers");
	timed("[a](", 100000, "'[a](' repeated");
	timed("[](/", 100000, "'[](/' repeated");
	timed("[a]", 100000, "'[a]' repeated");
	timed("](/x)", 100000, "'](/x)' repeated");
	timed("[[a](/x)", 100000, "links over open brackets");
	timed("<http://a", 100000, "'<http://a' repeated");
	timed("`a``b```c````d", 100000, "backtick runs of many lengths");
	timed("> ", 100000, "'> ' on one line");
	timed(">\n", 100000, "'>' lines");
	timed("- *a\n", 100000, "list items");
	timed("# *[\n", 100000, "headings");
	timed("\\*", 100000, "escapes");
	timed("[", MARKDOWN_MAX_INPUT, "1 MiB of '['");
	timed("*a [b ", MARKDOWN_MAX_INPUT, "1 MiB of '*a [b '");
}

int
main(void)
{
	test_blocks();
	test_inlines();
	test_depth();
	test_errors();
	test_xss();
	test_adversarial();
	return done_testing();
}
