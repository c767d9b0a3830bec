/*
 * tmpdir.h - unit tests' scratch folders: one made under $TMPDIR (or
 * /tmp) at the start, removed with all it holds at the end. Header-only.
 */
#ifndef TINCHI_TEST_TMPDIR_H
#define TINCHI_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static inline int
test_tmpdir_remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Makes OUT (SIZE bytes) a new folder $TMPDIR/tinchi-NAME-XXXXXX (/tmp
 * when TMPDIR is unset or empty): 0, or -1. */
static inline int
test_tmpdir_make(char *out, size_t size, const char *name)
{
	const char *base = getenv("TMPDIR");
	int n = snprintf(out, size, "%s/tinchi-%s-XXXXXX", base && base[0] ? base : "/tmp", name);

	return n < 0 || (size_t)n >= size || mkdtemp(out) == NULL ? -1 : 0;
}

/* Removes DIR and everything below it (links not followed): 0, or -1. */
static inline int
test_tmpdir_remove(const char *dir)
{
	return nftw(dir, test_tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

#endif
