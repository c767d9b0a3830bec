/*
 * api_credentials.h - issued credentials over HTTP (api_credentials.c):
 * the learner's own, one by uid, and verification.
 */
#ifndef TINCHI_API_CREDENTIALS_H
#define TINCHI_API_CREDENTIALS_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_credentials_routes[];
extern const size_t api_credentials_routes_count;

#endif
