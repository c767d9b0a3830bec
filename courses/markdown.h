/*
 * markdown.h - a small, safe Markdown-to-HTML renderer for the text that
 * lecturers write and learners read (course descriptions, text units).
 *
 * Safety comes first: raw HTML in the input is never passed through, every
 * piece of the input that reaches the output is HTML-escaped (& < > " '
 * become &amp; &lt; &gt; &quot; &#39;, a NUL byte becomes U+FFFD), and the
 * only tags ever produced are
 *
 *   p h2 h3 h4 h5 h6 em strong code pre ul ol li blockquote a
 *
 * with no attributes but <a href="..." rel="nofollow noopener noreferrer">
 * and <code class="language-X"> (X from [a-z0-9-], at most 32 bytes).
 * Attribute values are always double-quoted and escaped. Rendering takes
 * time and memory linear in the input; nothing backtracks.
 *
 * The supported subset (close to CommonMark, simplified where noted):
 *
 * Blocks. The input is split into lines at LF (a CR before the LF is
 * dropped). Leading spaces and tabs before a block marker are ignored:
 * there are no indented code blocks and no nested lists.
 *   - Paragraphs: runs of non-blank lines, separated by blank lines (or
 *     ended by a line that starts another block). Lines are joined with a
 *     newline, each stripped of leading and trailing blanks:
 *     "<p>a\nb</p>\n".
 *   - ATX headings: 1 to 6 '#' then a blank or the end of the line. The
 *     page keeps <h1> for its own title, so levels shift by one: '#' is
 *     <h2>, '##' is <h3> ... '#####' and '######' are both <h6>. An
 *     optional closing run of '#' (after a blank) is dropped. "#tag" and
 *     "#######" are paragraph text.
 *   - Fenced code: a line of three or more backticks, optionally followed
 *     by a language word, opens "<pre><code>"; a line of at least as many
 *     backticks (and nothing else but blanks) closes it; an unclosed fence
 *     runs to the end of the input. The lines in between are escaped and
 *     kept verbatim. The language word becomes class="language-X" only
 *     when it is 1..32 bytes of [a-z0-9-]; otherwise it is ignored.
 *   - Unordered lists: items start with "- " or "* ". Ordered lists: items
 *     start with 1 to 9 digits, '.' and a blank; the numbers are not kept
 *     (the list always counts from 1). Lists are flat: an indented item
 *     joins the list it follows. A non-blank line right after an item
 *     continues the item; blank lines between items of one list keep the
 *     list going (items are never wrapped in <p>); an item of the other
 *     kind starts a new list.
 *   - Blockquotes: consecutive lines starting with '>' (one blank after it
 *     is dropped); the quoted text is rendered as blocks again. Quotes nest
 *     up to MARKDOWN_MAX_QUOTE levels; a deeper '>' is text. A line
 *     without '>' ends the quote (no lazy continuation).
 *   Not supported (rendered as text): setext headings, thematic breaks,
 *   tables, images ("![a](/x)" is a '!' and a link), HTML blocks, hard line
 *   breaks, link reference definitions.
 *
 * Inlines, inside paragraphs, headings and list items:
 *   - Backslash escapes: '\' before ASCII punctuation gives that character
 *     as text ("\*" is a '*'); elsewhere a backslash is text.
 *   - Code spans: a run of N (1..16) backticks up to the next run of
 *     exactly N; the content is escaped, newlines become spaces, and one
 *     blank is stripped from each end when both ends have one. A run
 *     without a closer is text.
 *   - Emphasis *x* / _x_ as <em>, strong **x** / __x__ as <strong>, with
 *     CommonMark's flanking rules for ASCII whitespace and punctuation ('_'
 *     does not work inside words) and matching of the nearest opener
 *     (without the "multiple of 3" rule). At most MARKDOWN_MAX_INLINE
 *     nested em/strong are rendered; deeper ones stay text.
 *   - Links [text](url): the url follows '(' directly, has no blanks,
 *     control characters, '<', '>', '"', '\', '[' or ']', may hold balanced
 *     parentheses, and must start with "http://", "https://" or "mailto:"
 *     (any case) or with a single '/' (a site path; "//" and "/\" are
 *     refused). Titles are not supported. Anything else - javascript:,
 *     data:, vbscript:, entity-encoded or split schemes, leading blanks,
 *     relative paths without '/' - is not a link: the brackets and the url
 *     render as escaped text. Links do not nest; the text may hold
 *     emphasis and code.
 *   - Autolinks <http://...>, <https://...>, <mailto:...>: the url (no
 *     blanks, controls, '<', '"' or '\') is both the href and the text.
 *     Inside the text of a [link] they are text.
 *   Links carry rel="nofollow noopener noreferrer". Entities ("&amp;") are
 *   not decoded: '&' is always escaped, so "&amp;" shows as typed.
 *
 * Limits: at most MARKDOWN_MAX_INPUT bytes of input.
 */
#ifndef TINCHI_MARKDOWN_H
#define TINCHI_MARKDOWN_H

#include <stddef.h>

#include "courses/dynbuf.h"

#define MARKDOWN_MAX_INPUT (1024 * 1024)	/* bytes of Markdown */
#define MARKDOWN_MAX_QUOTE 3	/* nested blockquotes */
#define MARKDOWN_MAX_INLINE 8	/* nested em/strong */

/*
 * Renders the N bytes of Markdown at MD (need not be NUL-terminated; NULL
 * with N == 0 is empty input) and appends the HTML to OUT. Returns 0,
 * TC_EINVALID when MD is not valid UTF-8, TC_ETOOBIG when N exceeds
 * MARKDOWN_MAX_INPUT or the HTML would pass OUT's cap, or TC_ENOMEM. On
 * failure OUT holds what it held before the call.
 */
int markdown_render(const char *md, size_t n, struct dynbuf *out);

#endif
