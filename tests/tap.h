/*
 * tap.h - a tiny TAP producer for unit tests (header only).
 *
 *   plan(3); ok(x == 1, "x is one"); is_int(a, b, "..."); is_str(s, "v", "...");
 *   return done_testing();
 *
 * done_testing() returns the process exit status: 0 when every test passed
 * and the plan (if any) was met.
 */
#ifndef TINCHI_TAP_H
#define TINCHI_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_run_, tap_failed_, tap_planned_ = -1;

static inline void
plan(int n)
{
	tap_planned_ = n;
	printf("1..%d\n", n);
}

static inline int
tap_ok_(int cond, const char *file, int line, const char *name)
{
	tap_run_++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_run_, name);
	if (!cond) {
		tap_failed_++;
		printf("#   Failed test '%s'\n#   at %s line %d.\n", name, file, line);
	}
	fflush(stdout);
	return cond;
}
#define ok(cond, name) tap_ok_(!!(cond), __FILE__, __LINE__, (name))

#define is_int(got, want, name) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (!tap_ok_(g_ == w_, __FILE__, __LINE__, (name))) \
		printf("#          got: %lld\n#     expected: %lld\n", g_, w_); \
} while (0)

#define is_str(got, want, name) do { \
	const char *g_ = (got), *w_ = (want); \
	int same_ = (g_ == NULL && w_ == NULL) || \
		    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0); \
	if (!tap_ok_(same_, __FILE__, __LINE__, (name))) \
		printf("#          got: '%s'\n#     expected: '%s'\n", \
		       g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

static inline void
diag(const char *msg)
{
	printf("# %s\n", msg);
}

static inline int
done_testing(void)
{
	if (tap_planned_ < 0)
		printf("1..%d\n", tap_run_);
	else if (tap_planned_ != tap_run_) {
		printf("# planned %d tests but ran %d\n", tap_planned_, tap_run_);
		return 1;
	}
	return tap_failed_ ? 1 : 0;
}

#endif
