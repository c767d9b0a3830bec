/*
 * markdown.c - see markdown.h.
 *
 * Two passes per block of inline text, both linear:
 *
 * 1. tokenise() walks the text once and builds an array of nodes: escaped
 *    text ranges, code spans, delimiter runs of '*' / '_', '[' and "](url)"
 *    and autolinks. Code spans find their closer through a per-length
 *    cache (find_ticks) whose scans only move forward. Brackets and
 *    emphasis follow CommonMark's stacks: a ']' looks only at the nearest
 *    '['; a link's url is scanned at most up to the next ']' (which a url
 *    may not hold); a formed link resolves the emphasis inside it and
 *    turns the '[' below it into text. resolve_emphasis() matches each
 *    closer with the nearest opener of its character, dropping the
 *    delimiters in between, so every delimiter is pushed and popped once.
 * 2. emit() writes the nodes out, escaping every byte of input it copies.
 *
 * Block structure is a line-by-line state machine (render_blocks); a
 * blockquote's lines are copied, without their '>', into a buffer that is
 * rendered again one level deeper.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/identity.h"
#include "courses/markdown.h"

#define TICKS_MAX 16		/* backticks in a code span's run */
#define LANG_MAX 32		/* bytes of a fence's language word */
#define PAREN_MAX 32		/* nested parentheses in a link's url */
#define NO_POS UINT32_MAX

#define REL "rel=\"nofollow noopener noreferrer\""

enum node_kind {
	N_TEXT,		/* [start, start+len) escaped */
	N_CODE,		/* code span; the range is its content */
	N_DELIM,	/* a run of '*' or '_' */
	N_OPEN,		/* '[': a link's start when a != 0, else text */
	N_CLOSE,	/* "](url)" closing a link; url at [a, a+b) */
	N_AUTOLINK,	/* "<url>"; the range is the url */
};

/* Delimiter flags. */
#define CAN_OPEN 1
#define CAN_CLOSE 2

/*
 * One inline element. For N_DELIM: a = characters still literal, b = the
 * first of its nclose matches as a closer (consecutive in m->matches),
 * opens = its matches as an opener, latest first (-1 ends the list).
 * For N_OPEN: a = 1 when it starts a link, b = the N_CLOSE node's index.
 */
struct node {
	uint32_t start, len;
	uint32_t a, b;
	uint32_t nclose;
	int32_t opens;
	uint8_t kind, ch, flags;
};

/* An emphasis pair: <em> or <strong>, shown or (too deep) left as text. */
struct match {
	int32_t next;	/* in the opener's list */
	uint8_t strong, shown;
};

struct bracket {
	uint32_t node;		/* the N_OPEN node */
	uint32_t delim_bottom;	/* m->ndelims when it was pushed */
	int active;
};

/* Scratch state reused by every inline rendering of one call. */
struct md {
	struct node *nodes;
	size_t nnodes, anodes;
	uint32_t *delims;	/* N_DELIM nodes not yet resolved */
	size_t ndelims, adelims;
	uint32_t *openers;	/* resolve_emphasis's stack */
	size_t aopeners;
	struct bracket *brackets;
	size_t nbrackets, abrackets;
	struct match *matches;
	size_t nmatches, amatches;
	/* find_ticks's cache, per run length: where the first run of that
	 * length at or after the last query starts (NO_POS: not looked). */
	size_t tick_at[TICKS_MAX + 1];
};

static void
md_cleanup(struct md *m)
{
	free(m->nodes);
	free(m->delims);
	free(m->openers);
	free(m->brackets);
	free(m->matches);
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static int
is_punct(int c)
{
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') ||
	       (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

/* ---- output ------------------------------------------------------------ */

/*
 * Appends the N bytes at S HTML-escaped. NL_SPACE turns newlines into
 * spaces (code spans).
 */
static int
put_escaped(struct dynbuf *out, const char *s, size_t n, int nl_space)
{
	size_t i, from = 0;
	int rc;

	for (i = 0; i < n; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\0': rep = "\xEF\xBF\xBD"; break;
		case '\n':
			if (!nl_space)
				continue;
			rep = " ";
			break;
		default:
			continue;
		}
		if ((rc = dynbuf_append(out, s + from, i - from)) != 0 ||
		    (rc = dynbuf_puts(out, rep)) != 0)
			return rc;
		from = i + 1;
	}
	return dynbuf_append(out, s + from, n - from);
}

static int
put_link_start(struct dynbuf *out, const char *url, size_t n)
{
	int rc;

	if ((rc = dynbuf_puts(out, "<a href=\"")) != 0 ||
	    (rc = put_escaped(out, url, n, 0)) != 0)
		return rc;
	return dynbuf_puts(out, "\" " REL ">");
}

/* ---- urls -------------------------------------------------------------- */

static int
url_char_ok(unsigned char c)
{
	if (c <= 0x20 || c == 0x7F)
		return 0;
	return c != '<' && c != '>' && c != '"' && c != '\\' && c != '[' &&
	       c != ']';
}

static int
has_prefix_ci(const char *s, size_t n, const char *prefix)
{
	size_t i, k = strlen(prefix);

	if (n < k)
		return 0;
	for (i = 0; i < k; i++) {
		int c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != prefix[i])
			return 0;
	}
	return 1;
}

/* An absolute http(s)/mailto url. The bytes are already url_char_ok. */
static int
url_scheme_ok(const char *u, size_t n)
{
	return has_prefix_ci(u, n, "http://") ||
	       has_prefix_ci(u, n, "https://") ||
	       has_prefix_ci(u, n, "mailto:");
}

/* ... or a path on this site: one '/', not "//" or "/\". */
static int
url_ok(const char *u, size_t n)
{
	if (n >= 1 && u[0] == '/')
		return n == 1 || (u[1] != '/' && u[1] != '\\');
	return url_scheme_ok(u, n);
}

/*
 * The url of a link at S[I..] up to its ')': returns the index after the
 * ')' and sets *LEN, or 0 when there is none. Stops at the first byte that
 * is not url_char_ok, so at the next ']' at the latest.
 */
static size_t
scan_dest(const char *s, size_t n, size_t i, size_t *len)
{
	size_t start = i;
	int depth = 0;

	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '(') {
			if (++depth > PAREN_MAX)
				return 0;
		} else if (c == ')') {
			if (depth == 0) {
				*len = i - start;
				return i + 1;
			}
			depth--;
		} else if (!url_char_ok(c)) {
			return 0;
		}
	}
	return 0;
}

/* An autolink "<url>" at S[I] == '<': the index after '>' or 0. */
static size_t
scan_autolink(const char *s, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && s[j] != '>' && (url_char_ok((unsigned char)s[j]) ||
					s[j] == '[' || s[j] == ']'))
		j++;
	if (j >= n || s[j] != '>' || !url_scheme_ok(s + i + 1, j - i - 1))
		return 0;
	return j + 1;
}

/* ---- inline tokens ----------------------------------------------------- */

static int
push_node(struct md *m, enum node_kind kind, size_t start, size_t len)
{
	struct node *d;

	if (GROW(&m->nodes, &m->anodes, m->nnodes + 1, 64))
		return TC_ENOMEM;
	d = &m->nodes[m->nnodes++];
	memset(d, 0, sizeof(*d));
	d->kind = (uint8_t)kind;
	d->start = (uint32_t)start;
	d->len = (uint32_t)len;
	d->opens = -1;
	return 0;
}

/* Text from *FROM up to I, if any; *FROM moves to I. */
static int
flush_text(struct md *m, size_t *from, size_t i)
{
	int rc = 0;

	if (i > *from)
		rc = push_node(m, N_TEXT, *from, i - *from);
	*from = i;
	return rc;
}

/*
 * Start of the first run of exactly K backticks at or after FROM, which is
 * a run boundary (S[FROM] is not a backtick), or N. Queries come with FROM
 * never decreasing, so each length's scan only moves forward.
 */
static size_t
find_ticks(struct md *m, const char *s, size_t n, size_t k, size_t from)
{
	size_t i, j;

	if (m->tick_at[k] != NO_POS && m->tick_at[k] >= from)
		return m->tick_at[k];
	/* A cached run before FROM ends at or before it: scan on from FROM. */
	for (i = from; i < n; i = j) {
		if (s[i] != '`') {
			j = i + 1;
			continue;
		}
		for (j = i; j < n && s[j] == '`'; j++)
			;
		if (j - i == k)
			break;
	}
	m->tick_at[k] = i;
	return i;
}

/* Matches the delimiters m->delims[BOTTOM..] among themselves. */
static int
resolve_emphasis(struct md *m, size_t bottom)
{
	size_t k, nop = 0, count[2] = { 0, 0 };

	if (GROW(&m->openers, &m->aopeners, m->ndelims, 64))
		return TC_ENOMEM;
	for (k = bottom; k < m->ndelims; k++) {
		struct node *c = &m->nodes[m->delims[k]];
		int ci = c->ch == '_';

		while ((c->flags & CAN_CLOSE) && c->a > 0 && count[ci] > 0) {
			struct node *o;
			struct match *r;
			uint32_t use;

			/* Drop the openers of the other kind in between. */
			while (m->nodes[m->openers[nop - 1]].ch != c->ch) {
				nop--;
				count[!ci]--;
			}
			o = &m->nodes[m->openers[nop - 1]];
			if (GROW(&m->matches, &m->amatches, m->nmatches + 1, 64))
				return TC_ENOMEM;
			r = &m->matches[m->nmatches];
			use = (o->a >= 2 && c->a >= 2) ? 2 : 1;
			r->strong = use == 2;
			r->shown = 0;
			r->next = o->opens;
			o->opens = (int32_t)m->nmatches;
			if (c->nclose++ == 0)
				c->b = (uint32_t)m->nmatches;
			m->nmatches++;
			o->a -= use;
			c->a -= use;
			if (o->a == 0) {
				nop--;
				count[ci]--;
			}
		}
		if ((c->flags & CAN_OPEN) && c->a > 0) {
			m->openers[nop++] = m->delims[k];
			count[ci]++;
		}
	}
	return 0;
}

static int
push_delim(struct md *m, const char *s, size_t n, size_t i, size_t j)
{
	int prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
	int next = j < n ? (unsigned char)s[j] : ' ';
	int left = !is_space(next) &&
		   (!is_punct(next) || is_space(prev) || is_punct(prev));
	int right = !is_space(prev) &&
		    (!is_punct(prev) || is_space(next) || is_punct(next));
	int flags, rc;
	struct node *d;

	if (s[i] == '*')
		flags = (left ? CAN_OPEN : 0) | (right ? CAN_CLOSE : 0);
	else
		flags = (left && (!right || is_punct(prev)) ? CAN_OPEN : 0) |
			(right && (!left || is_punct(next)) ? CAN_CLOSE : 0);
	if ((rc = push_node(m, N_DELIM, i, j - i)) != 0)
		return rc;
	d = &m->nodes[m->nnodes - 1];
	d->ch = (uint8_t)s[i];
	d->a = (uint32_t)(j - i);
	d->flags = (uint8_t)flags;
	if (!flags)
		return 0;
	if (GROW(&m->delims, &m->adelims, m->ndelims + 1, 64))
		return TC_ENOMEM;
	m->delims[m->ndelims++] = (uint32_t)(m->nnodes - 1);
	return 0;
}

static int
push_bracket(struct md *m)
{
	struct bracket *b;

	if (GROW(&m->brackets, &m->abrackets, m->nbrackets + 1, 64))
		return TC_ENOMEM;
	b = &m->brackets[m->nbrackets++];
	b->node = (uint32_t)(m->nnodes - 1);
	b->delim_bottom = (uint32_t)m->ndelims;
	b->active = 1;
	return 0;
}

/*
 * Turns the top bracket and the "](url)" at S[I..END) into a link: the
 * emphasis inside is resolved, autolinks inside become text, and the
 * brackets below can no longer start links.
 */
static int
make_link(struct md *m, size_t i, size_t end, size_t url, size_t url_len)
{
	struct bracket *b = &m->brackets[--m->nbrackets];
	struct node *close;
	size_t k;
	int rc;

	if ((rc = push_node(m, N_CLOSE, i, end - i)) != 0)
		return rc;
	close = &m->nodes[m->nnodes - 1];
	close->a = (uint32_t)url;
	close->b = (uint32_t)url_len;
	m->nodes[b->node].a = 1;
	m->nodes[b->node].b = (uint32_t)(m->nnodes - 1);
	if ((rc = resolve_emphasis(m, b->delim_bottom)) != 0)
		return rc;
	m->ndelims = b->delim_bottom;
	/* Links never overlap, so each node is looked at here once. */
	for (k = b->node + 1; k < m->nnodes - 1; k++) {
		struct node *d = &m->nodes[k];

		if (d->kind == N_AUTOLINK) {
			d->kind = N_TEXT;
			d->start--;
			d->len += 2;
		}
	}
	/* Everything below an inactive bracket is inactive already. */
	for (k = m->nbrackets; k-- > 0 && m->brackets[k].active;)
		m->brackets[k].active = 0;
	return 0;
}

static int
tokenise(struct md *m, const char *s, size_t n)
{
	size_t i = 0, from = 0, j, k, len;
	int rc;

	m->nnodes = m->ndelims = m->nbrackets = m->nmatches = 0;
	for (k = 0; k <= TICKS_MAX; k++)
		m->tick_at[k] = NO_POS;
	while (i < n) {
		switch (s[i]) {
		case '\\':
			if (i + 1 < n && is_punct((unsigned char)s[i + 1])) {
				if ((rc = flush_text(m, &from, i)) != 0 ||
				    (rc = push_node(m, N_TEXT, i + 1, 1)) != 0)
					return rc;
				i += 2;
				from = i;
			} else {
				i++;
			}
			break;
		case '`':
			for (j = i; j < n && s[j] == '`'; j++)
				;
			k = j - i;
			if (k <= TICKS_MAX &&
			    (len = find_ticks(m, s, n, k, j)) < n) {
				if ((rc = flush_text(m, &from, i)) != 0 ||
				    (rc = push_node(m, N_CODE, j, len - j)) != 0)
					return rc;
				from = len + k;
			}
			i = from > j ? from : j;
			break;
		case '*':
		case '_':
			for (j = i; j < n && s[j] == s[i]; j++)
				;
			if ((rc = flush_text(m, &from, i)) != 0 ||
			    (rc = push_delim(m, s, n, i, j)) != 0)
				return rc;
			i = from = j;
			break;
		case '[':
			if ((rc = flush_text(m, &from, i)) != 0 ||
			    (rc = push_node(m, N_OPEN, i, 1)) != 0 ||
			    (rc = push_bracket(m)) != 0)
				return rc;
			i = from = i + 1;
			break;
		case ']':
			if (m->nbrackets == 0) {
				i++;
				break;
			}
			if (m->brackets[m->nbrackets - 1].active &&
			    i + 1 < n && s[i + 1] == '(' &&
			    (j = scan_dest(s, n, i + 2, &len)) != 0 &&
			    url_ok(s + i + 2, len)) {
				if ((rc = flush_text(m, &from, i)) != 0 ||
				    (rc = make_link(m, i, j, i + 2, len)) != 0)
					return rc;
				i = from = j;
			} else {
				m->nbrackets--;	/* the '[' stays text */
				i++;
			}
			break;
		case '<':
			if ((j = scan_autolink(s, n, i)) != 0) {
				if ((rc = flush_text(m, &from, i)) != 0 ||
				    (rc = push_node(m, N_AUTOLINK, i + 1,
						    j - i - 2)) != 0)
					return rc;
				i = from = j;
			} else {
				i++;
			}
			break;
		default:
			i++;
			break;
		}
	}
	if ((rc = flush_text(m, &from, n)) != 0)
		return rc;
	return resolve_emphasis(m, 0);
}

static int
emit_code(struct dynbuf *out, const char *s, size_t n)
{
	size_t i;
	int rc;

	if (n >= 2 && (s[0] == ' ' || s[0] == '\n') &&
	    (s[n - 1] == ' ' || s[n - 1] == '\n')) {
		for (i = 0; i < n && (s[i] == ' ' || s[i] == '\n'); i++)
			;
		if (i < n) {
			s++;
			n -= 2;
		}
	}
	if ((rc = dynbuf_puts(out, "<code>")) != 0 ||
	    (rc = put_escaped(out, s, n, 1)) != 0)
		return rc;
	return dynbuf_puts(out, "</code>");
}

static int
emit_delim(struct md *m, const char *s, struct node *d, int *depth,
	   struct dynbuf *out)
{
	static const char *const open_tag[] = { "<em>", "<strong>" };
	static const char *const close_tag[] = { "</em>", "</strong>" };
	const char *lit = d->ch == '*' ? "**" : "__";
	uint32_t k;
	int32_t r;
	int rc;

	for (k = 0; k < d->nclose; k++) {
		struct match *x = &m->matches[d->b + k];

		if (x->shown) {
			(*depth)--;
			rc = dynbuf_puts(out, close_tag[x->strong]);
		} else {
			rc = dynbuf_append(out, lit, x->strong ? 2 : 1);
		}
		if (rc)
			return rc;
	}
	/* Runs are one character repeated: copy the rest from the source. */
	if ((rc = dynbuf_append(out, s + d->start, d->a)) != 0)
		return rc;
	for (r = d->opens; r >= 0; r = m->matches[r].next) {
		struct match *x = &m->matches[r];

		if (*depth < MARKDOWN_MAX_INLINE) {
			x->shown = 1;
			(*depth)++;
			rc = dynbuf_puts(out, open_tag[x->strong]);
		} else {
			rc = dynbuf_append(out, lit, x->strong ? 2 : 1);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int
emit(struct md *m, const char *s, struct dynbuf *out)
{
	size_t k;
	int depth = 0, rc = 0;

	for (k = 0; k < m->nnodes && rc == 0; k++) {
		struct node *d = &m->nodes[k];
		struct node *c;

		switch (d->kind) {
		case N_TEXT:
			rc = put_escaped(out, s + d->start, d->len, 0);
			break;
		case N_CODE:
			rc = emit_code(out, s + d->start, d->len);
			break;
		case N_DELIM:
			rc = emit_delim(m, s, d, &depth, out);
			break;
		case N_OPEN:
			if (!d->a) {
				rc = dynbuf_append(out, "[", 1);
				break;
			}
			c = &m->nodes[d->b];
			rc = put_link_start(out, s + c->a, c->b);
			break;
		case N_CLOSE:
			rc = dynbuf_puts(out, "</a>");
			break;
		case N_AUTOLINK:
			if ((rc = put_link_start(out, s + d->start, d->len)) ||
			    (rc = put_escaped(out, s + d->start, d->len, 0)))
				break;
			rc = dynbuf_puts(out, "</a>");
			break;
		}
	}
	return rc;
}

/* Renders the N bytes of inline text at S. */
static int
render_inline(struct md *m, const char *s, size_t n, struct dynbuf *out)
{
	int rc;

	if (n == 0)
		return 0;
	if ((rc = tokenise(m, s, n)) != 0)
		return rc;
	return emit(m, s, out);
}

/* ---- blocks ------------------------------------------------------------ */

enum { OPEN_NONE, OPEN_PARA, OPEN_ITEM };

struct blocks {
	struct md *m;
	struct dynbuf *out;
	struct dynbuf text;	/* the paragraph or list item being read */
	int depth;		/* of blockquotes around */
	int open;		/* OPEN_* */
	int list;		/* 0, 'u' or 'o'; blank lines keep it open */
	size_t fence;		/* backticks of the open fence; 0 none */
};

static int
flush_block(struct blocks *b)
{
	static const char *const tags[][2] = {
		[OPEN_PARA] = { "<p>", "</p>\n" },
		[OPEN_ITEM] = { "<li>", "</li>\n" },
	};
	int rc;

	if (b->open == OPEN_NONE)
		return 0;
	if ((rc = dynbuf_puts(b->out, tags[b->open][0])) != 0 ||
	    (rc = render_inline(b->m, b->text.data, b->text.len, b->out)) ||
	    (rc = dynbuf_puts(b->out, tags[b->open][1])) != 0)
		return rc;
	b->open = OPEN_NONE;
	dynbuf_reset(&b->text);
	return 0;
}

static int
close_list(struct blocks *b)
{
	int rc;

	if ((rc = flush_block(b)) != 0 || !b->list)
		return rc;
	rc = dynbuf_puts(b->out, b->list == 'u' ? "</ul>\n" : "</ol>\n");
	b->list = 0;
	return rc;
}

/* A heading line at S[0..N) (no leading or trailing blanks). */
static int
try_heading(struct blocks *b, const char *s, size_t n)
{
	size_t level = 0, i, e;
	int rc;

	while (level < n && s[level] == '#')
		level++;
	if (level == 0 || level > 6 || (level < n && !is_blank(s[level])))
		return 0;
	for (i = level; i < n && is_blank(s[i]); i++)
		;
	e = n;
	while (e > i && s[e - 1] == '#')
		e--;
	if (e == i || is_blank(s[e - 1])) {	/* a closing run of '#' */
		while (e > i && is_blank(s[e - 1]))
			e--;
	} else {
		e = n;
	}
	level = level + 1 > 6 ? 6 : level + 1;
	if ((rc = close_list(b)) != 0 ||
	    (rc = dynbuf_printf(b->out, "<h%zu>", level)) != 0 ||
	    (rc = render_inline(b->m, s + i, e - i, b->out)) != 0 ||
	    (rc = dynbuf_printf(b->out, "</h%zu>\n", level)) != 0)
		return rc;
	return 1;
}

/* An opening fence at S[0..N) (trimmed). */
static int
try_fence(struct blocks *b, const char *s, size_t n)
{
	size_t ticks = 0, i, w;
	int rc;

	while (ticks < n && s[ticks] == '`')
		ticks++;
	if (ticks < 3 || memchr(s + ticks, '`', n - ticks))
		return 0;
	if ((rc = close_list(b)) != 0 ||
	    (rc = dynbuf_puts(b->out, "<pre><code")) != 0)
		return rc;
	for (i = ticks; i < n && is_blank(s[i]); i++)
		;
	for (w = i; w < n && !is_blank(s[w]); w++)
		if (!((s[w] >= 'a' && s[w] <= 'z') ||
		      (s[w] >= '0' && s[w] <= '9') || s[w] == '-'))
			break;
	if (w > i && w - i <= LANG_MAX && (w == n || is_blank(s[w])) &&
	    (rc = dynbuf_printf(b->out, " class=\"language-%.*s\"",
				(int)(w - i), s + i)) != 0)
		return rc;
	if ((rc = dynbuf_puts(b->out, ">")) != 0)
		return rc;
	b->fence = ticks;
	return 1;
}

/*
 * A list item at S[0..N) (trimmed): its kind ('u' or 'o'), or 0, with
 * *CONTENT the offset of its text.
 */
static int
item_kind(const char *s, size_t n, size_t *content)
{
	size_t i = 0;
	int kind;

	if (s[0] == '-' || s[0] == '*') {
		i = 1;
		kind = 'u';
	} else {
		while (i < n && i < 10 && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == 0 || i > 9 || i >= n || s[i] != '.')
			return 0;
		i++;
		kind = 'o';
	}
	if (i < n && !is_blank(s[i]))
		return 0;
	while (i < n && is_blank(s[i]))
		i++;
	*content = i;
	return kind;
}

static int render_blocks(struct md *m, const char *s, size_t n, int depth,
			 struct dynbuf *out);

/*
 * The blockquote whose first line starts at S[*POS]: its lines, without
 * their '>', rendered one level deeper. *POS moves past it.
 */
static int
blockquote(struct blocks *b, const char *s, size_t n, size_t *pos)
{
	struct dynbuf q;
	size_t i = *pos;
	int rc;

	dynbuf_init(&q, MARKDOWN_MAX_INPUT);
	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t le = nl ? (size_t)(nl - s) : n;
		size_t next = nl ? le + 1 : n;
		size_t t = i;

		while (t < le && is_blank(s[t]))
			t++;
		if (t == le || s[t] != '>')
			break;
		t++;
		if (t < le && is_blank(s[t]))
			t++;
		if ((rc = dynbuf_append(&q, s + t, le - t)) != 0 ||
		    (rc = dynbuf_append(&q, "\n", 1)) != 0)
			goto out;
		i = next;
	}
	*pos = i;
	if ((rc = close_list(b)) != 0 ||
	    (rc = dynbuf_puts(b->out, "<blockquote>\n")) != 0 ||
	    (rc = render_blocks(b->m, q.data, q.len, b->depth + 1,
				b->out)) != 0)
		goto out;
	rc = dynbuf_puts(b->out, "</blockquote>\n");
out:
	dynbuf_cleanup(&q);
	return rc;
}

/* A line of text (S[0..N), trimmed, not blank) in no other block. */
static int
text_line(struct blocks *b, const char *s, size_t n)
{
	int rc;

	if (b->open == OPEN_NONE && b->list && (rc = close_list(b)) != 0)
		return rc;
	if (b->open != OPEN_NONE) {
		if ((rc = dynbuf_append(&b->text, "\n", 1)) != 0)
			return rc;
	} else {
		b->open = OPEN_PARA;
	}
	return dynbuf_append(&b->text, s, n);
}

static int
item_line(struct blocks *b, const char *s, size_t n, int kind)
{
	int rc;

	if ((rc = flush_block(b)) != 0)
		return rc;
	if (b->list && b->list != kind && (rc = close_list(b)) != 0)
		return rc;
	if (!b->list &&
	    (rc = dynbuf_puts(b->out, kind == 'u' ? "<ul>\n" : "<ol>\n")))
		return rc;
	b->list = kind;
	b->open = OPEN_ITEM;
	return dynbuf_append(&b->text, s, n);
}

/*
 * One line inside a fence, LINE[0..LEN) without its line end, LINE[T..E)
 * without blanks: the closing fence, or code kept verbatim.
 */
static int
fence_line(struct blocks *b, const char *line, size_t len, size_t t,
	   size_t e)
{
	size_t k = t;
	int rc;

	while (k < e && line[k] == '`')
		k++;
	if (e > t && k == e && e - t >= b->fence) {
		b->fence = 0;
		return dynbuf_puts(b->out, "</code></pre>\n");
	}
	if ((rc = put_escaped(b->out, line, len, 0)) != 0)
		return rc;
	return dynbuf_append(b->out, "\n", 1);
}

static int
render_blocks(struct md *m, const char *s, size_t n, int depth,
	      struct dynbuf *out)
{
	struct blocks b = { .m = m, .out = out, .depth = depth };
	size_t pos = 0;
	int rc = 0;

	dynbuf_init(&b.text, MARKDOWN_MAX_INPUT);
	while (pos < n) {
		const char *nl = memchr(s + pos, '\n', n - pos);
		size_t ls = pos, le = nl ? (size_t)(nl - s) : n;
		size_t t, e, content;
		int kind;

		pos = nl ? le + 1 : n;
		if (le > ls && s[le - 1] == '\r')
			le--;
		for (t = ls; t < le && is_blank(s[t]); t++)
			;
		for (e = le; e > t && is_blank(s[e - 1]); e--)
			;
		if (b.fence) {
			rc = fence_line(&b, s + ls, le - ls, t - ls, e - ls);
			if (rc)
				goto out;
			continue;
		}
		if (t == e) {
			rc = flush_block(&b);
		} else if ((rc = try_fence(&b, s + t, e - t)) != 0 ||
			   (rc = try_heading(&b, s + t, e - t)) != 0) {
			if (rc > 0)
				rc = 0;
		} else if (s[t] == '>' && depth < MARKDOWN_MAX_QUOTE) {
			pos = ls;
			rc = blockquote(&b, s, n, &pos);
		} else if ((kind = item_kind(s + t, e - t, &content)) != 0) {
			rc = item_line(&b, s + t + content, e - t - content,
				       kind);
		} else {
			rc = text_line(&b, s + t, e - t);
		}
		if (rc)
			goto out;
	}
	if (b.fence && (rc = dynbuf_puts(out, "</code></pre>\n")) != 0)
		goto out;
	rc = close_list(&b);
out:
	dynbuf_cleanup(&b.text);
	return rc;
}

int
markdown_render(const char *md, size_t n, struct dynbuf *out)
{
	struct md m;
	size_t before = out->len;
	int rc;

	if (n > MARKDOWN_MAX_INPUT)
		return TC_ETOOBIG;
	if (utf8_check(md, n) != 0)
		return TC_EINVALID;
	memset(&m, 0, sizeof(m));
	rc = render_blocks(&m, md, n, 0, out);
	md_cleanup(&m);
	if (rc) {
		out->len = before;
		if (out->data)
			out->data[before] = '\0';
	}
	return rc;
}
