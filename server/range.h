/*
 * range.h - HTTP byte ranges (RFC 9110 section 14): parsing Range and
 * deciding the answer. The Debian libwebsockets has no range support, so
 * this is tinchi's own.
 */
#ifndef TINCHI_RANGE_H
#define TINCHI_RANGE_H

#include <stdint.h>

enum range_result {
	RANGE_NONE = 0,		/* no (usable) Range: answer 200 with everything */
	RANGE_ONE,		/* one satisfiable range: 206 with *first..*last */
	RANGE_UNSATISFIABLE,	/* 416 with Content-Range: bytes * / size */
};

/*
 * Decides how to answer a GET of a representation of SIZE bytes whose
 * strong ETag is ETAG and Last-Modified LAST_MODIFIED (Unix seconds), given
 * the request's RANGE and IF_RANGE header values ("" when absent).
 *  - A Range that is not "bytes=" with valid specs is ignored (200).
 *  - If-Range that does not match (an ETag compared strongly, or a date
 *    that is not exactly LAST_MODIFIED) means 200 with everything.
 *  - Several ranges: if they coalesce into one (overlapping or adjacent
 *    after sorting), that one; otherwise RANGE_NONE (multipart is not
 *    offered: the whole representation is sent with 200). More than 100
 *    specs: RANGE_NONE, without looking further.
 *  - "bytes=a-b" (b clamped to size-1), "bytes=a-", "bytes=-n" (last n,
 *    clamped to size); a range starting at or past SIZE is unsatisfiable
 *    when it is the only one; with SIZE 0 every range is unsatisfiable.
 * FIRST and LAST are inclusive byte offsets.
 */
enum range_result range_decide(const char *range, const char *if_range, int64_t size,
			       const char *etag, int64_t last_modified,
			       int64_t *first, int64_t *last);

#endif
