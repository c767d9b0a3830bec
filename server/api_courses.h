/*
 * api_courses.h - routes of the courses, catalog and enrolment API
 * (api_courses.c).
 */
#ifndef TINCHI_API_COURSES_H
#define TINCHI_API_COURSES_H

#include <stddef.h>

#include "server/router.h"

struct app;
struct course;
struct http_request;
struct http_response;

extern const struct route api_courses_routes[];

/*
 * Loads course UID for a caller who wants to change it. Non-zero when RESP
 * holds the refusal: 404 when it does not exist or is a draft the caller
 * may not see, 401 or 403 when it is visible but not theirs to change.
 */
int api_course_editable(struct app *app, const struct http_request *req,
			struct http_response *resp, const char *uid, struct course *c);
extern const size_t api_courses_routes_count;

#endif
