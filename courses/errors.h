/*
 * errors.h - the project's error codes.
 *
 * Every fallible function in tinchi returns int: 0 on success or one of the
 * negative codes below. The HTTP layer maps them to statuses in exactly one
 * place (server/problem.c); the CLI maps them to messages and exit codes.
 */
#ifndef TINCHI_ERRORS_H
#define TINCHI_ERRORS_H

enum tc_err {
	TC_OK = 0,
	TC_ENOTFOUND = -1,	/* no such object */
	TC_ECONFLICT = -2,	/* exists already / state does not allow it */
	TC_EINVALID = -3,	/* input is malformed or out of range */
	TC_EFORBIDDEN = -4,	/* identity known, not allowed */
	TC_ENOMEM = -5,		/* allocation failed */
	TC_EDB = -6,		/* database error */
	TC_EIO = -7,		/* file system or network I/O error */
	TC_EUNAUTH = -8,	/* no identity where one is needed */
	TC_ETOOBIG = -9,	/* input over a size limit */
	TC_EUNSUPPORTED = -10,	/* valid but not supported (type, version) */
	TC_EBUSY = -11,		/* temporarily unable; retry later */
	TC_ETOONEW = -12,	/* data written by a newer tinchi */
};

/* Short, stable, lower-case name of an error code ("not found"); never NULL. */
const char *tc_strerror(int err);

#endif
