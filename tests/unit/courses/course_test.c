/* course_test.c - the rules of courses/course.c: codes, credits, tags,
 * status changes, search text and queries, highlights. */
#include <stdlib.h>
#include <string.h>

#include "courses/course.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "tests/tap.h"

static const char *
hl(const char *text, const char *q)
{
	static char buf[2048];
	struct dynbuf b;

	dynbuf_init(&b, 1 << 20);
	course_highlight(text, q, &b);
	memcpy(buf, dynbuf_str(&b), b.len + 1 < sizeof(buf) ? b.len + 1 : sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	dynbuf_cleanup(&b);
	return buf;
}

int
main(void)
{
	char q[256], t[1024], cr[16];
	struct course c;
	int x;

	is_int(course_credits_parse("3", &x), 0, "3 credits");
	is_int(x, 30, "3 credits are 30 tenths");
	is_int(course_credits_parse("1.5", &x), 0, "1.5 credits");
	is_int(x, 15, "1.5 credits are 15 tenths");
	course_credits_format(15, cr);
	is_str(cr, "1.5", "15 tenths print as 1.5");
	course_credits_format(30, cr);
	is_str(cr, "3", "30 tenths print as 3");
	is_int(course_credits_parse("1.25", &x), TC_EINVALID, "two decimals refused");
	is_int(course_credits_parse("0", &x), TC_EINVALID, "zero refused");
	is_int(course_credits_parse("-1", &x), TC_EINVALID, "negative refused");
	is_int(course_credits_parse("61", &x), TC_EINVALID, "over 60 refused");
	is_int(course_credits_parse("1e3", &x), TC_EINVALID, "exponent refused");
	is_int(course_credits_parse("", &x), TC_EINVALID, "empty refused");
	is_int(course_code_check("IT101"), 0, "code IT101");
	is_int(course_code_check("IT 101"), TC_EINVALID, "code with a space refused");
	is_int(course_code_check(""), TC_EINVALID, "empty code refused");
	ok(course_unit_material_fits("video", "video") && course_unit_material_fits("video", "audio"),
	   "a video unit holds a video or audio file");
	ok(!course_unit_material_fits("video", "captions") && !course_unit_material_fits("video", "document"),
	   "but not captions or a document");
	ok(course_unit_material_fits("document", "document") && !course_unit_material_fits("document", "video"),
	   "a document unit holds a document only");
	ok(course_unit_material_fits("text", "captions") && course_unit_material_fits("quiz", "document"),
	   "text and quiz units hold any file (an attachment)");
	is_int(course_language_check("vi"), 0, "vi");
	is_int(course_language_check("en-GB"), 0, "en-GB");
	is_int(course_language_check("VI"), TC_EINVALID, "upper-case language refused");
	is_int(course_tags_check("lập trình,C"), 0, "two tags");
	is_int(course_tags_check("a,,b"), TC_EINVALID, "an empty tag refused");
	is_int(course_status_change_ok(COURSE_DRAFT, COURSE_PUBLISHED), 0, "draft to published");
	is_int(course_status_change_ok(COURSE_ARCHIVED, COURSE_PUBLISHED), TC_ECONFLICT, "archived stays archived");

	is_int(course_search_query("Lập trình C", q, sizeof(q)), 0, "a query");
	is_str(q, "\"lap\"* \"trinh\"* \"c\"*", "words folded, quoted, prefix, all required");
	is_int(course_search_query("\") OR * NEAR(", q, sizeof(q)), 0, "FTS syntax is quoted away");
	is_str(q, "\"or\"* \"near\"*", "only words survive");
	is_int(course_search_query(" ,.; ", q, sizeof(q)), TC_EINVALID, "no word at all is refused");

	memset(&c, 0, sizeof(c));
	strcpy(c.code, "IT101");
	strcpy(c.title, "Lập trình C");
	strcpy(c.tags, "cấu trúc,Đồ họa");
	is_int(course_search_text(&c, "Đại học Quốc gia", t, sizeof(t)), 0, "search text");
	is_str(t, "it101 lap trinh c cau truc do hoa", "search text: code, title and tags, folded, tags split");

	is_str(hl("Lập trình C", "lap trinh"), "<mark>Lập</mark> <mark>trình</mark> C", "highlight without diacritics");
	is_str(hl("Lập trình C", "LẬP"), "<mark>Lập</mark> trình C", "highlight of a prefix");
	is_str(hl("Cơ sở dữ liệu", "du lieu"), "Cơ sở <mark>dữ</mark> <mark>liệu</mark>", "highlight in the middle");
	is_str(hl("<b>Lập</b> & trình", "lap"), "&lt;b&gt;<mark>Lập</mark>&lt;/b&gt; &amp; trình", "everything else escaped");
	is_str(hl("Đồ họa", "do"), "<mark>Đồ</mark> họa", "đ folds to d");
	is_str(hl("Ngữ văn", "van"), "Ngữ <mark>văn</mark>", "only word starts match");
	is_str(hl("Lập trình", ""), "Lập trình", "no query, no marks");
	return done_testing();
}
