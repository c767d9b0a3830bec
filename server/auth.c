/* auth.c - see auth.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/config.h"
#include "storage/identity.h"

/* Last-use times are written at most this often per session or token. */
#define TOUCH_EVERY 60

/* Finds NAME=value in a Cookie header; copies the value into OUT. */
static int
cookie_value(const char *header, const char *name, char *out, size_t outsize)
{
	size_t n = strlen(name);

	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			const char *v = p + n + 1, *e = strchr(v, ';');
			size_t l = e ? (size_t)(e - v) : strlen(v);

			if (l == 0 || l >= outsize)
				return TC_EINVALID;
			memcpy(out, v, l);
			out[l] = '\0';
			return 0;
		}
		p = strchr(p, ';');
	}
	return TC_ENOTFOUND;
}

int
auth_load_roles(struct app *app, int64_t person_id, struct actor *a)
{
	struct membership m[ACTOR_ROLES_MAX];
	int n = 0, rc;

	a->kind = ACTOR_PERSON;
	a->person_id = person_id;
	a->nroles = 0;
	rc = store_memberships(app->store, person_id, m, ACTOR_ROLES_MAX, &n);
	if (rc)
		return rc;
	if (n == ACTOR_ROLES_MAX)	/* there may be more: say so rather than cut silently */
		log_warn("person %lld has %d roles or more; those past %d are not used",
			 (long long)person_id, ACTOR_ROLES_MAX, ACTOR_ROLES_MAX);
	for (int i = 0; i < n; i++) {
		a->roles[i].institution_id = m[i].institution_id;
		a->roles[i].role = m[i].role;
	}
	a->nroles = n;
	return 0;
}

static int
identify_token(struct app *app, struct http_request *req, int64_t now)
{
	const char *v = req->authorization;
	char hash[SHA256_HEX_LEN + 1];
	struct api_token t;
	int rc;

	if (strncasecmp(v, "Bearer ", 7) != 0)
		return TC_EUNAUTH;
	v += 7;
	while (*v == ' ')
		v++;
	sha256_hex(v, strlen(v), hash);
	rc = store_token_by_hash(app->store, hash, &t);
	if (rc == TC_ENOTFOUND)
		return TC_EUNAUTH;
	if (rc)
		return rc;
	req->actor.kind = ACTOR_TOKEN;
	req->actor.token_id = t.id;
	req->actor.token_institution_id = t.institution_id;
	snprintf(req->actor.scopes, sizeof(req->actor.scopes), "%s", t.scopes);
	if (now - t.last_used_at >= TOUCH_EVERY)
		store_token_touch(app->store, t.id, now);
	return 0;
}

int
auth_identify(struct app *app, struct http_request *req, int64_t now)
{
	char token[64], hash[SHA256_HEX_LEN + 1];
	struct session s;
	int rc;

	req->actor.kind = ACTOR_NONE;
	req->actor.nroles = 0;
	req->session_token[0] = '\0';
	if (req->authorization[0])
		return identify_token(app, req, now);
	/* under TLS only the __Host- cookie counts: a sibling host or a
	 * plain-HTTP page cannot plant one of those */
	if (!req->cookie[0] ||
	    cookie_value(req->cookie, req->tls ? SESSION_COOKIE_TLS : SESSION_COOKIE,
			 token, sizeof(token)) != 0)
		return 0;
	sha256_hex(token, strlen(token), hash);
	rc = store_session_get(app->store, hash, &s);
	if (rc == TC_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (now >= s.expires_at || now - s.last_seen_at >= app->cfg->session_idle) {
		store_session_delete(app->store, hash);
		return 0;
	}
	rc = auth_load_roles(app, s.person_id, &req->actor);
	if (rc)
		return rc;
	memcpy(req->session_token, token, strlen(token) + 1);
	if (now - s.last_seen_at >= TOUCH_EVERY)
		store_session_touch(app->store, hash, now);
	return 0;
}

void
auth_csrf_token(struct app *app, const char *session_token, char out[65])
{
	char msg[80];
	int n = snprintf(msg, sizeof(msg), "csrf:%s", session_token);

	if (hmac_sha256_hex(app->secret, sizeof(app->secret), msg, (size_t)n, out) != 0)
		out[0] = '\0';
}

int
auth_csrf_check(struct app *app, const struct http_request *req)
{
	char want[SHA256_HEX_LEN + 1];

	if (!req->session_token[0] ||
	    (req->method & (HTTP_GET | HTTP_HEAD | HTTP_OPTIONS)))
		return 0;
	auth_csrf_token(app, req->session_token, want);
	if (!want[0] || strlen(req->csrf_token) != SHA256_HEX_LEN ||
	    !crypto_equal(req->csrf_token, want, SHA256_HEX_LEN))
		return TC_EFORBIDDEN;
	return 0;
}

void
auth_cookie(char *out, size_t outsize, const char *token, int max_age, int tls)
{
	snprintf(out, outsize, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s",
		 tls ? SESSION_COOKIE_TLS : SESSION_COOKIE, token ? token : "",
		 token ? max_age : 0, tls ? "; Secure" : "");
}
