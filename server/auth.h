/*
 * auth.h - who is asking: sign-in sessions (cookie) and API tokens
 * (Authorization: Bearer), CSRF tokens, and the cookie itself.
 *
 * A session token or API token is 32 random bytes; only its SHA-256 is
 * stored. A session ends after cfg->session_idle seconds unused or
 * cfg->session_max_age after sign-in. The CSRF token of a session is
 * HMAC-SHA-256(platform secret, "csrf:" + session token): nothing to store,
 * and a page that knows the session cookie's value cannot be on another
 * origin. State-changing requests authenticated by cookie must carry it in
 * X-CSRF-Token.
 */
#ifndef TINCHI_AUTH_H
#define TINCHI_AUTH_H

#include <stdint.h>

#include "server/request.h"

struct app;

#define SESSION_COOKIE "tinchi_session"
#define SESSION_COOKIE_TLS "__Host-tinchi_session"

/*
 * Fills REQ->actor (and REQ->session_token for a cookie session). Without
 * credentials the actor is ACTOR_NONE and the result 0. A session that has
 * ended is removed and treated as absent. Returns TC_EUNAUTH when an
 * Authorization header was sent but names no active token (or is not
 * Bearer), TC_EDB on a storage failure.
 */
int auth_identify(struct app *app, struct http_request *req, int64_t now);

/* 0 when REQ may change state: not signed in by cookie, or its
 * X-CSRF-Token matches the session's. TC_EFORBIDDEN otherwise. */
int auth_csrf_check(struct app *app, const struct http_request *req);

/* The CSRF token of a session token, 64 hex digits. */
void auth_csrf_token(struct app *app, const char *session_token, char out[65]);

/* A Set-Cookie value that sets (TOKEN non-NULL, MAX_AGE seconds) or clears
 * the session cookie; Secure and the __Host- name under TLS. */
void auth_cookie(char *out, size_t outsize, const char *token, int max_age, int tls);

/* Loads a person's roles into A (kind ACTOR_PERSON). */
int auth_load_roles(struct app *app, int64_t person_id, struct actor *a);

#endif
