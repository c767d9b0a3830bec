/*
 * api_courses.h - routes of the courses, catalog and enrolment API
 * (api_courses.c).
 */
#ifndef TINCHI_API_COURSES_H
#define TINCHI_API_COURSES_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_courses_routes[];
extern const size_t api_courses_routes_count;

#endif
