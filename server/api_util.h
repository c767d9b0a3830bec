/*
 * api_util.h - what every API handler file shares: JSON in and out, errors
 * as problem+json, query parameters, the audit trail, and the guard that
 * turns an authorization decision into 401/403.
 */
#ifndef TINCHI_API_UTIL_H
#define TINCHI_API_UTIL_H

#include <stdint.h>

#include <jansson.h>

#include "courses/authz.h"
#include "server/request.h"

struct app;
struct institution;

/* Serialises O (stolen) as the JSON body of RESP with STATUS. */
int api_reply_json(struct http_response *resp, int status, json_t *o);

/* Parses REQ's body as a JSON object into *OUT (caller decrefs). On
 * failure RESP holds the problem (415 not JSON, 400 malformed) and a
 * non-zero code is returned. */
int api_read_json(const struct http_request *req, struct http_response *resp, json_t **out);

/* A string member of O: NULL when absent; *bad set when present but not a
 * string. */
const char *api_str(json_t *o, const char *key, int *bad);

/* Value of query parameter NAME (decoded) into OUT; 0 or TC_ENOTFOUND. */
int api_query(const struct http_request *req, const char *name, char *out, size_t outsize);

/* Integer query parameter in [MIN, MAX], DEF when absent. TC_EINVALID when
 * present and not such a number. */
int api_query_int(const struct http_request *req, const char *name, int64_t def,
		  int64_t min, int64_t max, int64_t *out);

/* Checks authz_check(&req->actor, ACT, INSTITUTION_ID); on refusal fills RESP
 * (401 with WWW-Authenticate, or 403) and returns non-zero. */
int api_allow(const struct http_request *req, struct http_response *resp,
	      enum authz_action act, int64_t institution_id);

/* Loads the institution named by the {code} route parameter; 404 problem
 * in RESP when absent. */
int api_institution(struct app *app, const struct http_request *req,
		    struct http_response *resp, struct institution *out);

/* Appends an audit event (failures are logged, never fatal to the caller):
 * actor and source from REQ (REQ may be NULL: the command line). DETAIL is
 * a JSON object (stolen; NULL for none). */
void api_audit(struct app *app, const struct http_request *req, int64_t institution_id,
	       const char *event, const char *subject, json_t *detail);
/* The same with ACTOR (NULL: none) and SOURCE (NULL: "cli") given: for a
 * deferred job's finish, when its request is gone. */
void api_audit_by(struct app *app, const struct actor *actor, const char *source,
		  int64_t institution_id, const char *event, const char *subject, json_t *detail);

/*
 * Answers with the open file FD (SIZE bytes; ownership passes to RESP, or
 * it is closed) and REQ's Range / If-Range (server/range.h): 200 with all
 * of it, 206 with one range and Content-Range, or 416. ETAG and MTIME are
 * the file's validators for If-Range.
 */
void api_send_file(const struct http_request *req, struct http_response *resp, int fd,
		   int64_t size, const char *etag, int64_t mtime);

/* ISO 8601 UTC text of a Unix time ("2026-11-30T06:27:29Z"). */
void api_time(int64_t t, char out[32]);

/* api_time of T as a JSON string (new reference), or JSON null when T is 0. */
json_t *api_time_json(int64_t t);

/*
 * A set of strings, to find a key repeated in a bulk file (the same
 * learner, course and term twice; a credential twice) in constant time a
 * row: open addressing, doubling. Zero it to start; api_keyset_cleanup
 * frees it.
 */
struct api_keyset {
	char **slot;		/* owned copies; NULL: free */
	size_t mask;		/* slots - 1 */
	size_t count;
};

/* Adds KEY (copied) to S; *SEEN is 1 when it was there already (then S
 * is unchanged). 0 or TC_ENOMEM. */
int api_keyset_add(struct api_keyset *s, const char *key, int *seen);
void api_keyset_cleanup(struct api_keyset *s);

/*
 * On a worker thread: *A becomes a copy of APP with a store connection of
 * its own and none of the service thread's caches, so that a deferred job
 * may call what takes a struct app (issuing, auditing) without touching
 * the service thread's connection. 0, or store_open's error (nothing to
 * close then). api_job_app_close closes it.
 */
int api_job_app_open(const struct app *app, struct app *a);
void api_job_app_close(struct app *a);

/*
 * The institutions with a bulk credential job (a CSV import, a bulk
 * revocation) queued or running, so that each has at most one (another
 * is 429) and other writers of its credentials can tell (service thread
 * only; the job releases its claim in its finish). api_bulk_claim: 0 when
 * INSTITUTION_ID had none (it is noted now), 429 when it has one, 503 when
 * 16 institutions have one (struct app's bulk_jobs).
 */
int api_bulk_claim(struct app *app, int64_t institution_id);
void api_bulk_release(struct app *app, int64_t institution_id);
int api_bulk_busy(const struct app *app, int64_t institution_id);
/* A 429 problem in RESP for a request refused because of such a job. */
void api_bulk_refuse(struct http_response *resp, const char *what);

#endif
