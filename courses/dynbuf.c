/* dynbuf.c - see dynbuf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/grow.h"

void
dynbuf_init(struct dynbuf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void
dynbuf_cleanup(struct dynbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void
dynbuf_reset(struct dynbuf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int
dynbuf_reserve(struct dynbuf *b, size_t n)
{
	if (n > b->cap || b->len > b->cap - n)
		return TC_ETOOBIG;
	return GROW(&b->data, &b->alloc, b->len + n + 1, 64);
}

int
dynbuf_append(struct dynbuf *b, const void *p, size_t n)
{
	int rc = dynbuf_reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
dynbuf_puts(struct dynbuf *b, const char *s)
{
	return dynbuf_append(b, s, strlen(s));
}

int
dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return TC_EINVALID;
	rc = dynbuf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *
dynbuf_str(const struct dynbuf *b)
{
	return b->data ? b->data : "";
}

char *
dynbuf_take(struct dynbuf *b, size_t *len)
{
	char *p = b->len ? b->data : NULL;

	if (len)
		*len = b->len;
	if (!p)
		free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

int
dynbuf_put_html(struct dynbuf *b, const char *s, size_t n)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		switch (s[i]) {
		case '&': rc = dynbuf_puts(b, "&amp;"); break;
		case '<': rc = dynbuf_puts(b, "&lt;"); break;
		case '>': rc = dynbuf_puts(b, "&gt;"); break;
		case '"': rc = dynbuf_puts(b, "&quot;"); break;
		case '\'': rc = dynbuf_puts(b, "&#39;"); break;
		default: rc = dynbuf_append(b, s + i, 1); break;
		}
	}
	return rc;
}
