/*
 * fold.h - folding text for search: "Lập trình C" and "lap trinh c" must
 * find each other.
 *
 * fold_text lower-cases and strips diacritics from UTF-8 text: every
 * Vietnamese letter (a ă â e ê i o ô ơ u ư y with the five tone marks, and
 * đ/Đ, which is a letter of its own in Unicode, not a decomposition) and
 * the Latin-1 / Latin Extended-A letters fold to plain ASCII; combining
 * marks (U+0300..U+036F, text in NFD) are dropped; other characters
 * (CJK, digits, punctuation) are copied unchanged, upper-case ASCII
 * lowered. Invalid UTF-8 bytes are replaced by U+FFFD.
 */
#ifndef TINCHI_FOLD_H
#define TINCHI_FOLD_H

#include <stddef.h>

/*
 * Folds the N bytes at IN into OUT (OUTSIZE bytes, NUL-terminated; the
 * folded text is never longer than the input plus 2 bytes per invalid
 * byte). Returns the length written, or -1 when OUTSIZE is too small
 * (OUT then holds a truncated, still valid, prefix).
 */
long fold_text(const char *in, size_t n, char *out, size_t outsize);

#endif
