/*
 * api_tlog.h - the public transparency log over HTTP (server/api_tlog.c).
 */
#ifndef TINCHI_API_TLOG_H
#define TINCHI_API_TLOG_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_tlog_routes[];
extern const size_t api_tlog_routes_count;

#endif
