/* fold_test.c - tests for courses/fold.c */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "courses/fold.h"
#include "tests/tap.h"

#define FFFD "\xEF\xBF\xBD"

/* Combining marks, UTF-8. */
#define GRAVE	"\xCC\x80"	/* U+0300 */
#define ACUTE	"\xCC\x81"	/* U+0301 */
#define CIRC	"\xCC\x82"	/* U+0302 */
#define TILDE	"\xCC\x83"	/* U+0303 */
#define BREVE	"\xCC\x86"	/* U+0306 */
#define HOOK	"\xCC\x89"	/* U+0309 */
#define HORN	"\xCC\x9B"	/* U+031B */
#define DOT	"\xCC\xA3"	/* U+0323 */

/*
 * The twelve Vietnamese vowels: base letter, the mark that makes the vowel
 * (NFD), and every precomposed form: the toneless one when it is not ASCII,
 * then grave, acute, hook above, tilde, dot below; lower case, then upper.
 */
static const struct {
	const char *base, *mark, *nfc;
} vowels[] = {
	{ "a", "", "àáảãạÀÁẢÃẠ" },
	{ "a", BREVE, "ăằắẳẵặĂẰẮẲẴẶ" },
	{ "a", CIRC, "âầấẩẫậÂẦẤẨẪẬ" },
	{ "e", "", "èéẻẽẹÈÉẺẼẸ" },
	{ "e", CIRC, "êềếểễệÊỀẾỂỄỆ" },
	{ "i", "", "ìíỉĩịÌÍỈĨỊ" },
	{ "o", "", "òóỏõọÒÓỎÕỌ" },
	{ "o", CIRC, "ôồốổỗộÔỒỐỔỖỘ" },
	{ "o", HORN, "ơờớởỡợƠỜỚỞỠỢ" },
	{ "u", "", "ùúủũụÙÚỦŨỤ" },
	{ "u", HORN, "ưừứửữựƯỪỨỬỮỰ" },
	{ "y", "", "ỳýỷỹỵỲÝỶỸỴ" },
};

static const char *const tones[] = { "", GRAVE, ACUTE, HOOK, TILDE, DOT };

/* Folds the C string IN and compares with WANT. */
static void
fold_is(const char *in, const char *want, const char *name)
{
	char out[256];
	long n = fold_text(in, strlen(in), out, sizeof(out));

	if (n < 0)
		out[0] = '\0';
	ok(n == (long)strlen(want), name);
	is_str(out, want, name);
}

/* Folds LEN bytes at IN and compares with the WANT_LEN bytes at WANT. */
static int
fold_bytes(const char *in, size_t len, const char *want, size_t want_len)
{
	char out[256];
	long n = fold_text(in, len, out, sizeof(out));

	return n == (long)want_len && memcmp(out, want, want_len) == 0 && out[n] == '\0';
}

/* Length of the UTF-8 character starting with byte C (valid input). */
static size_t
char_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static void
test_examples(void)
{
	fold_is("Lập trình C", "lap trinh c", "Lập trình C");
	fold_is("ĐẠI HỌC Bách Khoa", "dai hoc bach khoa", "ĐẠI HỌC Bách Khoa");
	fold_is("Nguyễn Thị Ánh", "nguyen thi anh", "Nguyễn Thị Ánh");
	fold_is("Ngữ văn 12", "ngu van 12", "digits are kept");
	fold_is("Trường Đại học Sư phạm", "truong dai hoc su pham", "ư ơ đ in a sentence");
	fold_is("đĐ", "dd", "đ and Đ fold to d");
	fold_is("Hello, WORLD! 42 [x_y] ~", "hello, world! 42 [x_y] ~", "ASCII: only letters lowered");
}

static void
test_vietnamese_letters(void)
{
	size_t count = 2;	/* đ Đ, tested above */
	char msg[128];

	for (size_t v = 0; v < sizeof(vowels) / sizeof(vowels[0]); v++) {
		const char *p = vowels[v].nfc;
		int nfc_ok = 1, nfd_ok = 1;
		size_t k = 0;

		for (int upper = 0; upper < 2; upper++) {
			for (size_t t = 0; t < 6; t++, k++) {
				char nfd[16], base[2];
				size_t len;

				if (t == 0 && vowels[v].mark[0] == '\0') {
					k--;		/* plain a e i o u y: ASCII */
					continue;
				}
				len = char_len((unsigned char)*p);
				if (!fold_bytes(p, len, vowels[v].base, 1)) {
					nfc_ok = 0;
					snprintf(msg, sizeof(msg), "NFC '%.*s' does not fold to %s",
						 (int)len, p, vowels[v].base);
					diag(msg);
				}
				base[0] = (char)(vowels[v].base[0] - (upper ? 32 : 0));
				base[1] = '\0';
				snprintf(nfd, sizeof(nfd), "%s%s%s", base, vowels[v].mark, tones[t]);
				if (!fold_bytes(nfd, strlen(nfd), vowels[v].base, 1)) {
					nfd_ok = 0;
					snprintf(msg, sizeof(msg), "NFD of '%.*s' does not fold to %s",
						 (int)len, p, vowels[v].base);
					diag(msg);
				}
				p += len;
				count++;
			}
		}
		snprintf(msg, sizeof(msg), "all %zu precomposed forms of %s%s fold to %s",
			 k, vowels[v].base, vowels[v].mark, vowels[v].base);
		ok(nfc_ok && *p == '\0', msg);
		snprintf(msg, sizeof(msg), "their NFD forms fold the same (%s%s)",
			 vowels[v].base, vowels[v].mark);
		ok(nfd_ok, msg);
	}
	is_int(count, 134, "134 precomposed Vietnamese letters tried");

	/* The brief's example: ậ as a + dot below + circumflex (canonical order). */
	fold_is("a" DOT CIRC, "a", "a + U+0323 + U+0302 folds to a");
	fold_is("L" "a" DOT CIRC "p tri" GRAVE "nh C", "lap trinh c", "NFD sentence = NFC sentence");
	fold_is("\xC4\x90" "A" DOT CIRC "I HO" DOT "C", "dai hoc", "NFD upper case with Đ");
	fold_is(GRAVE "x" ACUTE ACUTE ACUTE, "x", "stray and repeated combining marks dropped");
	fold_is("\xCD\xAF", "", "U+036F (last combining mark) dropped");
	fold_is("\xCD\xB0", "\xCD\xB0", "U+0370 (after the marks) kept");
}

static void
test_latin(void)
{
	int all = 1;
	char msg[96];

	/* Every letter of U+00C0..U+017F folds to 1 or 2 lower-case ASCII letters. */
	for (unsigned cp = 0xC0; cp <= 0x17F; cp++) {
		char in[2] = { (char)(0xC0 | (cp >> 6)), (char)(0x80 | (cp & 0x3F)) };
		char out[8];
		long n = fold_text(in, 2, out, sizeof(out));
		int good;

		if (cp == 0xD7 || cp == 0xF7) {
			good = n == 2 && memcmp(out, in, 2) == 0;
		} else {
			good = n == 1 || n == 2;
			for (long i = 0; good && i < n; i++)
				good = out[i] >= 'a' && out[i] <= 'z';
		}
		if (!good) {
			all = 0;
			snprintf(msg, sizeof(msg), "U+%04X folds wrongly (%ld)", cp, n);
			diag(msg);
		}
	}
	ok(all, "U+00C0..U+017F: letters fold to ASCII, × and ÷ kept");

	fold_is("ÀÉÎÕÜÇÑÝÿ", "aeioucnyy", "Latin-1 accented letters");
	fold_is("Straße", "strasse", "ß -> ss");
	fold_is("Æsir Œuvre ĲSSEL", "aesir oeuvre ijssel", "ligatures -> two letters");
	fold_is("Łódź Ørsted Þór Ðað", "lodz orsted thor dad", "ł ø þ ð");
	fold_is("İstanbul ıi Ħħ Ŧŧ ſ", "istanbul ii hh tt s", "İ ı ħ ŧ ſ");
	fold_is("Čeština Żółć Ŵŷ", "cestina zolc wy", "Latin Extended-A");
	fold_is("2×3÷4", "2×3÷4", "× ÷ unchanged");
	fold_is("ΑΒΓ Ωμέγα", "ΑΒΓ Ωμέγα", "Greek unchanged (only ASCII is lowered)");
	fold_is("ǍǎƀƁ", "ǍǎƀƁ", "Latin Extended-B outside Ơ ơ Ư ư unchanged");
}

static void
test_other_scripts(void)
{
	fold_is("中文", "中文", "CJK unchanged");
	fold_is("Tiếng Việt – 中文 ©2024!", "tieng viet – 中文 ©2024!", "mixed text");
	fold_is("\xF0\x9F\x98\x80 ok", "\xF0\x9F\x98\x80 ok", "4-byte character kept");
	fold_is("\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF", "U+10FFFF kept");
	fold_is("\xEF\xBF\xBD", FFFD, "U+FFFD in the input kept");
	ok(fold_bytes("a\0B", 3, "a\0b", 3), "NUL byte copied");
}

static void
test_invalid(void)
{
	ok(fold_bytes("\xFF", 1, FFFD, 3), "0xFF -> U+FFFD");
	ok(fold_bytes("a\x80" "B", 3, "a" FFFD "b", 5), "lone continuation byte");
	ok(fold_bytes("\xC0\xAF", 2, FFFD FFFD, 6), "overlong C0 AF: two");
	ok(fold_bytes("\xE0\x80\x80", 3, FFFD FFFD FFFD, 9), "overlong E0 80 80: three");
	ok(fold_bytes("\xED\xA0\x80", 3, FFFD FFFD FFFD, 9), "surrogate ED A0 80: three");
	ok(fold_bytes("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 12), "past U+10FFFF: four");
	ok(fold_bytes("\xF5\x80", 2, FFFD FFFD, 6), "F5 lead byte");
	ok(fold_bytes("\xE1\xBA", 2, FFFD, 3), "truncated at the end: one (maximal subpart)");
	ok(fold_bytes("\xE1\xBA" "X", 3, FFFD "x", 4), "broken off by ASCII: one, then x");
	ok(fold_bytes("\xF0\x9F\x98" "\xC3\xA1", 5, FFFD "a", 4),
	   "broken off by a new sequence: one, then the sequence");
	ok(fold_bytes("\xC3", 1, FFFD, 3), "lone lead byte");
	ok(fold_bytes("L\xE1\xBA\xADp\xFF", 6, "lap" FFFD, 6), "valid text around an invalid byte");
}

static void
test_truncation(void)
{
	const char *in = "Lập trình 中文 ß" "\xFF" "x";
	/* Lengths of the output units: no prefix may end inside one. */
	static const size_t units[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 1, 2, 3, 1 };
	char full[64], out[64];
	long need = fold_text(in, strlen(in), full, sizeof(full));
	int all = 1;

	is_str(full, "lap trinh 中文 ss" FFFD "x", "reference fold");
	for (size_t size = 0; size <= (size_t)need; size++) {
		size_t want = 0;
		long n;

		for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++)
			if (want + units[u] < size)
				want += units[u];
			else
				break;
		memset(out, 'Z', sizeof(out));
		n = fold_text(in, strlen(in), out, size);
		if (n != -1)
			all = 0;
		else if (size == 0)
			all &= out[0] == 'Z';		/* nothing written */
		else
			all &= strlen(out) == want && memcmp(out, full, want) == 0;
	}
	ok(all, "every OUTSIZE too small: -1, the longest prefix of whole characters");
	ok(fold_text(in, strlen(in), out, (size_t)need + 1) == need &&
	   strcmp(out, full) == 0, "OUTSIZE = length + 1 is enough");

	is_int(fold_text("中文", 6, out, 5), -1, "中文 into 5 bytes: -1");
	is_str(out, "中", "... holds 中, not a split 文");
	is_int(fold_text("ß", 2, out, 2), -1, "ß into 2 bytes: -1");
	is_str(out, "", "... ss is not split");
	is_int(fold_text("\xFF", 1, out, 3), -1, "U+FFFD into 3 bytes: -1");
	is_str(out, "", "... not split");
	is_int(fold_text("ab", 2, out, 2), -1, "ab into 2 bytes: -1");
	is_str(out, "a", "... holds a");

	/* The bound of fold.h: input plus 2 bytes per invalid byte, plus the NUL. */
	is_int(fold_text("\xFF\xFF\xFF\xFF\xFF", 5, out, 16), 15, "5 invalid bytes need 15 + 1");
	is_int(fold_text("\xFF\xFF\xFF\xFF\xFF", 5, out, 15), -1, "... and 15 is too small");
}

static void
test_empty(void)
{
	char out[4] = "xyz";

	is_int(fold_text("", 0, out, sizeof(out)), 0, "empty input: 0");
	is_str(out, "", "... and an empty string");
	is_int(fold_text("abc", 0, out, 1), 0, "N = 0 into 1 byte: 0");
	is_int(fold_text("", 0, out, 0), -1, "OUTSIZE 0: -1");
	is_int(fold_text(GRAVE ACUTE, 4, out, 1), 0, "only combining marks: empty");
}

static void
test_speed(void)
{
	static const char line[] = "Nguyễn Thị Ánh học Lập trình C ở ĐẠI HỌC Bách Khoa. ";
	static char in[1 << 20], out[(1 << 20) + 1];
	struct timespec t0, t1;
	size_t n = 0;
	char msg[96];
	long got;
	double us;

	while (n + sizeof(line) - 1 <= sizeof(in)) {
		memcpy(in + n, line, sizeof(line) - 1);
		n += sizeof(line) - 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	got = fold_text(in, n, out, sizeof(out));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
	snprintf(msg, sizeof(msg), "folded %zu bytes in %.0f us", n, us);
	diag(msg);
	ok(got > 0 && (size_t)got < n, "1 MiB of Vietnamese folds");
}

int
main(void)
{
	test_examples();
	test_vietnamese_letters();
	test_latin();
	test_other_scripts();
	test_invalid();
	test_truncation();
	test_empty();
	test_speed();
	return done_testing();
}
