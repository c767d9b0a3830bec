/* identity_test.c - tests for courses/identity.c */
#include <string.h>

#include "courses/errors.h"
#include "courses/identity.h"
#include "tests/tap.h"

static void
test_roles(void)
{
	enum role r = ROLE_NONE;
	enum inst_kind k = INST_OTHER;

	is_str(role_name(ROLE_NONE), "none", "role 0 is none");
	is_str(role_name(ROLE_LEARNER), "learner", "learner name");
	is_str(role_name(ROLE_OPERATOR), "operator", "operator name");
	is_str(role_name((enum role)99), "?", "unknown role has a placeholder name");
	for (int i = ROLE_LEARNER; i <= ROLE_OPERATOR; i++) {
		enum role got = ROLE_NONE;

		ok(role_parse(role_name((enum role)i), &got) == 0 && got == (enum role)i,
		   "every real role round-trips through its name");
	}
	is_int(role_parse("none", &r), TC_EINVALID, "none is not an assignable role");
	is_int(role_parse("Admin", &r), TC_EINVALID, "role names are case-sensitive");
	is_int(role_parse("", &r), TC_EINVALID, "empty role rejected");
	is_int(role_parse(NULL, &r), TC_EINVALID, "NULL role rejected");

	is_str(inst_kind_name(INST_SCHOOL), "school", "school name");
	is_str(inst_kind_name(INST_UNIVERSITY), "university", "university name");
	is_str(inst_kind_name((enum inst_kind)0), "?", "kind 0 has a placeholder name");
	ok(inst_kind_parse("university", &k) == 0 && k == INST_UNIVERSITY, "university parses");
	ok(inst_kind_parse("other", &k) == 0 && k == INST_OTHER, "other parses");
	is_int(inst_kind_parse("college", &k), TC_EINVALID, "unknown kind rejected");
	is_int(inst_kind_parse(NULL, &k), TC_EINVALID, "NULL kind rejected");
}

static void
test_national_id(void)
{
	is_int(national_id_check("001203004567"), 0, "12 digits accepted");
	is_int(national_id_check("00120300456"), TC_EINVALID, "11 digits rejected");
	is_int(national_id_check("0012030045678"), TC_EINVALID, "13 digits rejected");
	is_int(national_id_check("00120300456a"), TC_EINVALID, "letter rejected");
	is_int(national_id_check(" 01203004567"), TC_EINVALID, "space rejected");
	is_int(national_id_check("+01203004567"), TC_EINVALID, "sign rejected");
	is_int(national_id_check("0012-3004567"), TC_EINVALID, "separator rejected");
	is_int(national_id_check(""), TC_EINVALID, "empty rejected");
	is_int(national_id_check(NULL), TC_EINVALID, "NULL rejected");
}

static void
test_inst_code(void)
{
	is_int(inst_code_check("HUST"), 0, "upper-case code accepted");
	is_int(inst_code_check("VNU-HCM_01"), 0, "digits, dash and underscore accepted");
	is_int(inst_code_check("01SCHOOL"), 0, "leading digit accepted");
	is_int(inst_code_check("AB"), 0, "two bytes accepted");
	is_int(inst_code_check("A"), TC_EINVALID, "one byte rejected");
	is_int(inst_code_check("hust"), TC_EINVALID, "lower case rejected");
	is_int(inst_code_check("-HUST"), TC_EINVALID, "leading dash rejected");
	is_int(inst_code_check("_HUST"), TC_EINVALID, "leading underscore rejected");
	is_int(inst_code_check("HU ST"), TC_EINVALID, "space rejected");
	is_int(inst_code_check("HU.ST"), TC_EINVALID, "dot rejected");
	is_int(inst_code_check("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"), 0, "32 bytes accepted");
	is_int(inst_code_check("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"), TC_EINVALID,
	       "33 bytes rejected");
	is_int(inst_code_check(""), TC_EINVALID, "empty rejected");
	is_int(inst_code_check(NULL), TC_EINVALID, "NULL rejected");
}

#define U8(s) utf8_check((s), sizeof(s) - 1)

static void
test_utf8(void)
{
	is_int(U8(""), 0, "empty is valid UTF-8");
	is_int(U8("Nguy\xe1\xbb\x85n"), 0, "Vietnamese (3-byte) accepted");
	is_int(U8("\xc3\xa9"), 0, "2-byte sequence accepted");
	is_int(U8("\xf0\x9f\x98\x80"), 0, "4-byte emoji accepted");
	is_int(U8("\xf4\x8f\xbf\xbf"), 0, "U+10FFFF accepted");
	is_int(U8("\xed\x9f\xbf"), 0, "U+D7FF accepted");
	is_int(U8("\xee\x80\x80"), 0, "U+E000 accepted");
	is_int(U8("a\0b"), 0, "embedded NUL is well-formed");
	is_int(U8("\xc0\x80"), TC_EINVALID, "overlong NUL (C0 80) rejected");
	is_int(U8("\xc1\xbf"), TC_EINVALID, "overlong C1 rejected");
	is_int(U8("\xe0\x80\xaf"), TC_EINVALID, "overlong 3-byte rejected");
	is_int(U8("\xf0\x80\x80\xaf"), TC_EINVALID, "overlong 4-byte rejected");
	is_int(U8("\xed\xa0\x80"), TC_EINVALID, "surrogate U+D800 rejected");
	is_int(U8("\xed\xbf\xbf"), TC_EINVALID, "surrogate U+DFFF rejected");
	is_int(U8("\xf4\x90\x80\x80"), TC_EINVALID, "U+110000 rejected");
	is_int(U8("\xf5\x80\x80\x80"), TC_EINVALID, "F5 lead byte rejected");
	is_int(U8("\xff"), TC_EINVALID, "FF rejected");
	is_int(U8("\xe1\xbb"), TC_EINVALID, "truncated 3-byte sequence rejected");
	is_int(U8("\xf0\x9f\x98"), TC_EINVALID, "truncated 4-byte sequence rejected");
	is_int(U8("\xc3"), TC_EINVALID, "lone lead byte rejected");
	is_int(U8("ab\x80"), TC_EINVALID, "stray continuation byte rejected");
	is_int(U8("\xc3\xa9\xa9"), TC_EINVALID, "extra continuation byte rejected");
	is_int(U8("\xe1\x41\x85"), TC_EINVALID, "ASCII inside a sequence rejected");
	is_int(utf8_check("\xc3\xa9", 1), TC_EINVALID, "length cuts a sequence");
	is_int(utf8_check(NULL, 0), 0, "NULL with length 0 is empty");
	is_int(utf8_check(NULL, 1), TC_EINVALID, "NULL with a length rejected");
}

static void
test_person_name(void)
{
	char name[PERSON_NAME_MAX + 2];

	is_int(person_name_check("Nguy\xe1\xbb\x85n V\xc4\x83n An"), 0, "Vietnamese name accepted");
	is_int(person_name_check("O'Brien-Smith"), 0, "punctuation accepted");
	is_int(person_name_check("A"), 0, "one byte accepted");
	is_int(person_name_check(""), TC_EINVALID, "empty rejected");
	is_int(person_name_check("   "), TC_EINVALID, "only spaces rejected");
	is_int(person_name_check(" \xc2\xa0\xe3\x80\x80"), TC_EINVALID,
	       "only Unicode spaces rejected");
	is_int(person_name_check("An\tB"), TC_EINVALID, "tab rejected");
	is_int(person_name_check("An\nB"), TC_EINVALID, "newline rejected");
	is_int(person_name_check("An\x7f"), TC_EINVALID, "DEL rejected");
	is_int(person_name_check("An\xc2\x85"), TC_EINVALID, "C1 control rejected");
	is_int(person_name_check("An\xc0\x80"), TC_EINVALID, "invalid UTF-8 rejected");
	/* characters that change how a name reads without being seen */
	is_int(person_name_check("\xe2\x80\xae" "nA"), TC_EINVALID, "right-to-left override rejected");
	is_int(person_name_check("An\xe2\x81\xa6" "B"), TC_EINVALID, "bidi isolate rejected");
	is_int(person_name_check("An\xe2\x80\x8f" "B"), 0, "a right-to-left mark inside accepted (mixed directions)");
	is_int(person_name_check("\xe2\x80\x8f"), TC_EINVALID, "a right-to-left mark alone is not a name");
	is_int(person_name_check("\xe2\x80\x8b"), TC_EINVALID, "a zero-width space alone rejected");
	is_int(person_name_check("A\xe2\x80\x8bn"), TC_EINVALID, "a zero-width space inside rejected");
	is_int(person_name_check("An\xe2\x80\xa8" "B"), TC_EINVALID, "line separator rejected");
	is_int(person_name_check("\xef\xbb\xbf" "An"), TC_EINVALID, "byte order mark rejected");
	is_int(person_name_check("\xe2\x80\x8d"), TC_EINVALID, "a zero-width joiner alone is not a name");
	is_int(person_name_check("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7"), 0,
	       "a joiner inside a word (Devanagari) accepted");
	memset(name, 'a', PERSON_NAME_MAX);
	name[PERSON_NAME_MAX] = '\0';
	is_int(person_name_check(name), 0, "200 bytes accepted");
	name[PERSON_NAME_MAX] = 'a';
	name[PERSON_NAME_MAX + 1] = '\0';
	is_int(person_name_check(name), TC_EINVALID, "201 bytes rejected");
	is_int(person_name_check(NULL), TC_EINVALID, "NULL rejected");
}

static void
test_email(void)
{
	char mail[EMAIL_MAX + 2];

	is_int(email_check(""), 0, "empty e-mail allowed");
	is_int(email_check("an.nguyen@example.edu.vn"), 0, "ordinary address accepted");
	is_int(email_check("a@b.c"), 0, "short address accepted");
	is_int(email_check("an.example.com"), TC_EINVALID, "no @ rejected");
	is_int(email_check("a@@b.c"), TC_EINVALID, "two @ rejected");
	is_int(email_check("a@b@c.d"), TC_EINVALID, "second @ rejected");
	is_int(email_check("a\xc2\x85" "b@c.vn"), TC_EINVALID, "C1 control rejected");
	is_int(email_check("a\xe2\x80\xae" "b@c.vn"), TC_EINVALID, "right-to-left override rejected");
	is_int(email_check("@b.co"), TC_EINVALID, "empty local part rejected");
	is_int(email_check("a@localhost"), TC_EINVALID, "domain without a dot rejected");
	is_int(email_check("a@.com"), TC_EINVALID, "domain starting with a dot rejected");
	is_int(email_check("a@com."), TC_EINVALID, "domain ending with a dot rejected");
	is_int(email_check("a b@c.d"), TC_EINVALID, "space rejected");
	is_int(email_check("a\n@c.d"), TC_EINVALID, "control character rejected");
	is_int(email_check("a\xc0\x80@c.d"), TC_EINVALID, "invalid UTF-8 rejected");
	memset(mail, 'a', sizeof(mail));
	memcpy(mail + EMAIL_MAX - 6, "@b.com", 6);
	mail[EMAIL_MAX] = '\0';
	is_int(email_check(mail), 0, "254 bytes accepted");
	memcpy(mail + EMAIL_MAX - 5, "@b.com", 6);
	mail[EMAIL_MAX + 1] = '\0';
	is_int(email_check(mail), TC_EINVALID, "255 bytes rejected");
	is_int(email_check(NULL), TC_EINVALID, "NULL rejected");
}

static void
test_date(void)
{
	is_int(date_check("2024-02-29", NULL), 0, "2024-02-29 exists");
	is_int(date_check("2000-02-29", NULL), 0, "2000-02-29 exists (400 rule)");
	is_int(date_check("2023-02-29", NULL), TC_EINVALID, "2023-02-29 does not exist");
	is_int(date_check("1900-02-29", NULL), TC_EINVALID, "1900-02-29 does not exist (100 rule)");
	is_int(date_check("2023-02-28", NULL), 0, "2023-02-28 exists");
	is_int(date_check("2026-13-01", NULL), TC_EINVALID, "month 13 rejected");
	is_int(date_check("2026-00-10", NULL), TC_EINVALID, "month 0 rejected");
	is_int(date_check("2026-04-31", NULL), TC_EINVALID, "April 31 rejected");
	is_int(date_check("2026-04-00", NULL), TC_EINVALID, "day 0 rejected");
	is_int(date_check("2026-12-31", NULL), 0, "December 31 accepted");
	is_int(date_check("2026-1-01", NULL), TC_EINVALID, "one-digit month rejected");
	is_int(date_check("2026-01-1", NULL), TC_EINVALID, "one-digit day rejected");
	is_int(date_check("2026/01/01", NULL), TC_EINVALID, "slashes rejected");
	is_int(date_check("2026-01-01T00:00", NULL), TC_EINVALID, "trailing time rejected");
	is_int(date_check(" 2026-01-01", NULL), TC_EINVALID, "leading space rejected");
	is_int(date_check("1900-01-01", NULL), 0, "1900-01-01 is the lower bound");
	is_int(date_check("1899-12-31", NULL), TC_EINVALID, "before 1900 rejected");
	is_int(date_check("2026-05-10", "2026-05-10"), 0, "today itself accepted");
	is_int(date_check("2026-05-09", "2026-05-10"), 0, "yesterday accepted");
	is_int(date_check("2026-05-11", "2026-05-10"), TC_EINVALID, "tomorrow rejected");
	is_int(date_check("2027-01-01", "2026-12-31"), TC_EINVALID, "next year rejected");
	is_int(date_check("2026-05-10", "2026-5-10"), TC_EINVALID, "malformed today rejected");
	is_int(date_check("", NULL), TC_EINVALID, "empty rejected");
	is_int(date_check(NULL, NULL), TC_EINVALID, "NULL rejected");
}

static void
test_student_code(void)
{
	char code[STUDENT_CODE_MAX + 2];

	is_int(student_code_check(""), 0, "empty student code allowed");
	is_int(student_code_check("SV2026/001-A"), 0, "printable ASCII accepted");
	is_int(student_code_check("SV 001"), TC_EINVALID, "space rejected");
	is_int(student_code_check("SV\t001"), TC_EINVALID, "tab rejected");
	is_int(student_code_check("SV\xc3\xa9"), TC_EINVALID, "non-ASCII rejected");
	memset(code, 'x', STUDENT_CODE_MAX);
	code[STUDENT_CODE_MAX] = '\0';
	is_int(student_code_check(code), 0, "64 bytes accepted");
	code[STUDENT_CODE_MAX] = 'x';
	code[STUDENT_CODE_MAX + 1] = '\0';
	is_int(student_code_check(code), TC_EINVALID, "65 bytes rejected");
	is_int(student_code_check(NULL), TC_EINVALID, "NULL rejected");
}

int
main(void)
{
	test_roles();
	test_national_id();
	test_inst_code();
	test_utf8();
	test_person_name();
	test_email();
	test_date();
	test_student_code();
	return done_testing();
}
