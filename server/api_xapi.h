/*
 * api_xapi.h - the learning record store (api_xapi.c): xAPI 2.0.0 (IEEE
 * 9274.1.1) and 1.0.x statements, state, activity profile, agent profile,
 * activities, agents and about resources under /xapi/, HTTP Basic
 * credentials per institution, and the admin API that issues them
 * (/api/v1/institutions/{code}/lrs-credentials).
 */
#ifndef TINCHI_API_XAPI_H
#define TINCHI_API_XAPI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/router.h"

struct app;
struct store;

extern const struct route api_xapi_routes[];
extern const size_t api_xapi_routes_count;

/*
 * Records a statement the platform itself makes (progress, quiz events) in
 * the institution's LRS: validates it as xAPI 2.0.0, fills id (when
 * absent), stored, timestamp, version and authority (the platform, an
 * account on the public URL), and stores it, committed before the return.
 * STMT is borrowed and not modified. ID_OUT gets the statement id.
 * Returns 0, TC_EINVALID (not a valid statement; logged with the reason),
 * TC_ECONFLICT (the id exists with other content), or a storage error.
 * Runs on the thread that owns app->store.
 */
int lrs_record(struct app *app, int64_t institution_id, json_t *stmt, char id_out[37]);

/*
 * The same inside a transaction the caller holds on ST (its own store
 * connection, e.g. the progress writer's): nothing is committed or rolled
 * back here; on failure the caller rolls back or goes on without the
 * statement (a SAVEPOINT around the call keeps the rest). APP is read for
 * its configuration only, so any thread may call it with its own ST.
 */
int lrs_record_in(struct app *app, struct store *st, int64_t institution_id, json_t *stmt,
		  char id_out[37]);

/* The platform's home page (the homePage of learners' xAPI accounts):
 * --public-url, else http://LISTEN. */
void lrs_home_page(const struct app *app, char *out, size_t n);

#endif
