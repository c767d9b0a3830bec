/*
 * api_vcapi.h - issuing over HTTP (api_vcapi.c): the W3C VC API
 * POST /credentials/issue for an institution's API tokens, and the bulk
 * CSV import of credentials by institution admins.
 */
#ifndef TINCHI_API_VCAPI_H
#define TINCHI_API_VCAPI_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_vcapi_routes[];
extern const size_t api_vcapi_routes_count;

#endif
