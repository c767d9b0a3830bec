/*
 * api_recognition.h - the public registry of institutions (the trust list)
 * and each institution's recognition agreements (api_recognition.c):
 *
 *   GET  /api/v1/registry                          every institution with its key history
 *   GET  /api/v1/registry/{code}                   one
 *   PUT  /api/v1/courses/{uid}/field               {"field": ISCED-F code or ""}
 *   GET  /api/v1/institutions/{code}/agreements    rules, current versions (?history=true)
 *   POST /api/v1/institutions/{code}/agreements    a new rule (version 1)
 *   GET  /api/v1/institutions/{code}/agreements/{id}   a rule with every version
 *   PUT  /api/v1/institutions/{code}/agreements/{id}   a new version (?version=N: the one edited)
 *   DELETE /api/v1/institutions/{code}/agreements/{id} a new version with status expired
 *   GET  /api/v1/institutions/{code}/agreement-proposals   mutual rules naming it, with their reverse
 *   POST /api/v1/institutions/{code}/agreement-proposals/{id}/accept   the reverse as its own rule
 *   POST /api/v1/institutions/{code}/agreement-proposals/{id}/decline
 *
 * Rules are in courses/recognition.h's JSON; storage in storage/recognition.h.
 */
#ifndef TINCHI_API_RECOGNITION_H
#define TINCHI_API_RECOGNITION_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_recognition_routes[];
extern const size_t api_recognition_routes_count;

#endif
