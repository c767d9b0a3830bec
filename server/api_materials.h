/*
 * api_materials.h - routes of units and materials (api_materials.c).
 */
#ifndef TINCHI_API_MATERIALS_H
#define TINCHI_API_MATERIALS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/router.h"

struct app;
struct course;

/* 1 when the caller of REQ may read the files of course C: its editors,
 * and its enrolled learners once it is published. */
int api_material_readable(struct app *app, const struct http_request *req,
			  const struct course *c);

extern const struct route api_materials_routes[];
extern const size_t api_materials_routes_count;

/* Removes resumable uploads untouched since BEFORE (rows and partial
 * files). Returns how many. */
int api_uploads_expire(struct app *app, int64_t before);

/* The units of a course, in order, as a JSON array (new reference). */
json_t *api_units_json(struct app *app, int64_t course_id);

#endif
