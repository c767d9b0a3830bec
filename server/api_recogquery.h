/*
 * api_recogquery.h - the recognition query (issue 8): what an institution
 * recognises of a learner's consented credentials, one learner or a batch,
 * and the same decisions explained to the learner (api_recogquery.c).
 *
 *   GET  /api/v1/recognition/{code}/learners/{national_id}
 *   POST /api/v1/recognition/{code}/learners:batch
 *   GET  /api/v1/me/recognition?institution=CODE
 */
#ifndef TINCHI_API_RECOGQUERY_H
#define TINCHI_API_RECOGQUERY_H

#include <stddef.h>

#include "server/router.h"

#define RECQ_BATCH_MAX 10000	/* national IDs in one batch */

extern const struct route api_recogquery_routes[];
extern const size_t api_recogquery_routes_count;

/* Verification results cached by credential hash (hits, misses, entries);
 * for tests and the benchmark. */
void api_recogquery_cache_stats(size_t *hits, size_t *misses, size_t *entries);

#endif
