/*
 * api_reports.h - lecturers' progress reports (api_reports.c): per learner
 * and unit as JSON pages or CSV, and the watched-time histogram of a video
 * unit.
 */
#ifndef TINCHI_API_REPORTS_H
#define TINCHI_API_REPORTS_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_reports_routes[];
extern const size_t api_reports_routes_count;

#endif
