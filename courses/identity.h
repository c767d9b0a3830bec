/*
 * identity.h - who is who: roles, institution kinds, and the validation of
 * the identifiers people and institutions are known by.
 *
 * Pure functions with no I/O. Every check returns 0 when the text is
 * acceptable, or TC_EINVALID; none of them modifies its input.
 */
#ifndef TINCHI_IDENTITY_H
#define TINCHI_IDENTITY_H

#include <stddef.h>

#define NATIONAL_ID_LEN 12	/* digits of a national ID number */
#define INST_CODE_MAX 32	/* bytes of an institution code */
#define PERSON_NAME_MAX 200	/* bytes (UTF-8) of a full name */
#define EMAIL_MAX 254
#define STUDENT_CODE_MAX 64

enum role {
	ROLE_NONE = 0,
	ROLE_LEARNER,
	ROLE_LECTURER,
	ROLE_ADMIN,		/* institution admin */
	ROLE_VERIFIER,		/* a university's or employer's account */
	ROLE_OPERATOR,		/* runs the platform; no institution */
};

enum inst_kind {
	INST_SCHOOL = 1,
	INST_UNIVERSITY,
	INST_OTHER,
};

/* "learner", "lecturer", "admin", "verifier", "operator"; "none" for 0. */
const char *role_name(enum role r);
int role_parse(const char *s, enum role *out);

/* "school", "university", "other". */
const char *inst_kind_name(enum inst_kind k);
int inst_kind_parse(const char *s, enum inst_kind *out);

/* Exactly 12 ASCII digits, nothing else (no spaces, signs or separators). */
int national_id_check(const char *s);

/* 2..32 bytes of A-Z, 0-9, '-' and '_', starting with a letter or digit
 * (upper case only, so codes compare byte for byte). */
int inst_code_check(const char *s);

/* Well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF) of N bytes. */
int utf8_check(const char *s, size_t n);

/* A full name: valid UTF-8, 1..PERSON_NAME_MAX bytes, no control
 * characters, not only spaces. Stored exactly as given (no normalisation);
 * names are never used as identifiers. */
int person_name_check(const char *s);

/* An e-mail address: empty, or 3..254 bytes "local@domain" with one '@',
 * a dot in the domain, no spaces or control characters. */
int email_check(const char *s);

/* A calendar date "YYYY-MM-DD" that exists (leap years included), from
 * 1900-01-01 up to TODAY (same format; NULL means no upper bound). */
int date_check(const char *s, const char *today);

/* A student code: empty, or 1..64 bytes of printable ASCII without spaces. */
int student_code_check(const char *s);

#endif
