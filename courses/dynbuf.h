/*
 * dynbuf.h - a growable byte buffer with a hard size cap.
 *
 * The buffer always keeps a NUL after its content, so dynbuf_str() is a
 * valid C string when the content has no NUL of its own. Appending past the
 * cap fails with TC_ETOOBIG and leaves the content unchanged; an allocation
 * failure gives TC_ENOMEM, likewise unchanged.
 *
 *   struct dynbuf b; dynbuf_init(&b, 1 << 20);
 *   dynbuf_printf(&b, "%d", 42); ... dynbuf_cleanup(&b);
 */
#ifndef TINCHI_DYNBUF_H
#define TINCHI_DYNBUF_H

#include <stddef.h>

struct dynbuf {
	char *data;	/* owned; NULL until the first append */
	size_t len;
	size_t alloc;
	size_t cap;	/* the content never exceeds this many bytes */
};

void dynbuf_init(struct dynbuf *b, size_t cap);
void dynbuf_cleanup(struct dynbuf *b);	/* frees; the buffer can be reused */
void dynbuf_reset(struct dynbuf *b);	/* empties, keeps the allocation */

int dynbuf_append(struct dynbuf *b, const void *p, size_t n);
int dynbuf_puts(struct dynbuf *b, const char *s);
int dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reserves room for N more bytes without changing the content. */
int dynbuf_reserve(struct dynbuf *b, size_t n);

/* The content as a string ("" when empty). Borrowed. */
const char *dynbuf_str(const struct dynbuf *b);

/* Hands the content to the caller (free() it) and empties the buffer.
 * Returns NULL when empty. *len (may be NULL) receives its length. */
char *dynbuf_take(struct dynbuf *b, size_t *len);

/* Appends the N bytes at S escaped for HTML text and attribute values
 * (& < > " ' as entities). On failure part of it may have been appended. */
int dynbuf_put_html(struct dynbuf *b, const char *s, size_t n);

#endif
