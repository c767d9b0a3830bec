/*
 * api_media.h - lecture streaming over HTTP (api_media.c): the processing
 * state of a lecture, its captions, and the HLS files under /media/ behind
 * signed, expiring URLs.
 */
#ifndef TINCHI_API_MEDIA_H
#define TINCHI_API_MEDIA_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_media_routes[];
extern const size_t api_media_routes_count;

#endif
