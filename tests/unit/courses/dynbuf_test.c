/* dynbuf_test.c - tests for courses/dynbuf.c */
#include <stdlib.h>
#include <string.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "tests/tap.h"

int
main(void)
{
	struct dynbuf b;
	size_t len;
	char *s;
	const char *html = "a<b>&\"c\" 'd' é";

	dynbuf_init(&b, 16);
	is_str(dynbuf_str(&b), "", "empty buffer reads as empty string");
	is_int(dynbuf_puts(&b, "hello"), 0, "append fits");
	is_int(dynbuf_printf(&b, " %d", 42), 0, "printf fits");
	is_str(dynbuf_str(&b), "hello 42", "content is what was appended");
	is_int(dynbuf_puts(&b, "0123456789"), TC_ETOOBIG, "append past the cap fails");
	is_str(dynbuf_str(&b), "hello 42", "failed append left content unchanged");
	is_int(dynbuf_printf(&b, "%s", "0123456789"), TC_ETOOBIG, "printf past the cap fails");
	is_int(b.len, 8, "length unchanged after failed printf");
	is_int(dynbuf_append(&b, "12345678", 8), 0, "filling exactly to the cap works");
	is_int(b.len, 16, "length is the cap");
	s = dynbuf_take(&b, &len);
	is_str(s, "hello 4212345678", "take hands over the content");
	is_int(len, 16, "take reports the length");
	is_int(b.len, 0, "buffer empty after take");
	free(s);
	ok(dynbuf_take(&b, NULL) == NULL, "take of an empty buffer is NULL");
	dynbuf_reset(&b);
	dynbuf_cleanup(&b);
	dynbuf_cleanup(&b);
	ok(1, "cleanup twice is safe");

	dynbuf_init(&b, 64);
	is_int(dynbuf_put_html(&b, html, strlen(html)), 0, "put_html");
	is_str(dynbuf_str(&b), "a&lt;b&gt;&amp;&quot;c&quot; &#39;d&#39; é", "HTML specials escaped, UTF-8 kept");
	dynbuf_reset(&b);
	is_int(dynbuf_put_html(&b, "x\0y", 3), 0, "put_html takes a length");
	is_int(b.len, 3, "the NUL byte too");
	dynbuf_cleanup(&b);
	dynbuf_init(&b, 3);
	is_int(dynbuf_put_html(&b, "<", 1), TC_ETOOBIG, "put_html past the cap fails");
	dynbuf_cleanup(&b);
	return done_testing();
}
