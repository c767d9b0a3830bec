/*
 * problem.h - RFC 9457 problem details, and the one place where a project
 * error code becomes an HTTP status.
 */
#ifndef TINCHI_PROBLEM_H
#define TINCHI_PROBLEM_H

#include "server/request.h"

/* HTTP status for a TC_E* code (TC_ENOTFOUND -> 404, ...; unknown -> 500). */
int problem_status_for(int err);

/* Reason phrase for a status ("Not Found"); "Unknown" when not known. */
const char *problem_reason(int status);

/*
 * Makes RESP an application/problem+json response:
 *   {"type": TYPE or "about:blank", "title": reason phrase,
 *    "status": STATUS, "detail": DETAIL}
 * TYPE may be NULL. DETAIL is any UTF-8 text (escaped here). Returns 0 or
 * TC_ENOMEM; on failure RESP still holds a minimal valid problem body.
 */
int problem_respond(struct http_response *resp, int status, const char *type,
		    const char *detail);

/* problem_respond with the status and title taken from a TC_E* code. */
int problem_respond_err(struct http_response *resp, int err, const char *detail);

#endif
