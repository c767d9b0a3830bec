/* api_consent.h - learner consent, access log, consented reads and
 * transcript exports (server/api_consent.c). */
#ifndef TINCHI_API_CONSENT_H
#define TINCHI_API_CONSENT_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_consent_routes[];
extern const size_t api_consent_routes_count;

#endif
