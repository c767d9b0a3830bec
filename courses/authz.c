/* authz.c - see authz.h. */
#include <string.h>

#include "courses/authz.h"
#include "courses/errors.h"

/* Scopes an API token may carry. */
static const char *const known_scopes[] = {
	"learners:import",
	"credits:read",
	"credentials:issue",
};

/* Who may do an action: a bit set of these. */
#define W_OPERATOR 0x1	/* a platform operator */
#define W_ADMIN 0x2	/* an admin of the object's institution */
#define W_PERSON 0x4	/* any signed-in person */
#define W_LECTURER 0x8	/* a lecturer of the object's institution */
#define W_TEACHER 0x10	/* a lecturer of the institution who teaches the course */

static const struct rule {
	enum authz_action act;
	unsigned who;
	const char *scope;	/* an API token of the institution with this scope */
} rules[] = {
	{ AZ_INSTITUTION_CREATE, W_OPERATOR, NULL },
	{ AZ_INSTITUTION_ROTATE_KEY, W_OPERATOR | W_ADMIN, NULL },
	{ AZ_PEOPLE_MANAGE, W_OPERATOR | W_ADMIN, NULL },
	{ AZ_LEARNERS_IMPORT, W_ADMIN, "learners:import" },
	{ AZ_TOKENS_MANAGE, W_ADMIN, NULL },
	{ AZ_AUDIT_READ, W_OPERATOR | W_ADMIN, NULL },
	{ AZ_SELF, W_PERSON, NULL },
	{ AZ_COURSE_CREATE, W_ADMIN | W_LECTURER, NULL },
	{ AZ_COURSE_EDIT, W_ADMIN | W_TEACHER, NULL },
	{ AZ_COURSE_ROSTER, W_ADMIN | W_TEACHER, NULL },
	{ AZ_COURSE_ENROL, W_PERSON, NULL },
	{ AZ_CREDENTIALS_ISSUE, W_ADMIN, "credentials:issue" },
	{ AZ_CREDENTIAL_REVOKE, W_ADMIN, NULL },
	{ AZ_AGREEMENTS_MANAGE, W_ADMIN, NULL },
	{ AZ_CONSENTS_READ, W_ADMIN, "credits:read" },
	{ AZ_CREDITS_READ, 0, "credits:read" },
	{ AZ_RECOGNITION_QUERY, W_ADMIN, "credits:read" },
};

int
scopes_contain(const char *scopes, const char *scope)
{
	size_t n = strlen(scope);

	for (const char *p = scopes; p && *p;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, scope, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p = strchr(p, ' ');
	}
	return 0;
}

int
scopes_check(const char *scopes)
{
	int words = 0;

	for (const char *p = scopes; *p;) {
		const char *e;
		size_t n, i;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		e = strchr(p, ' ');
		n = e ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < sizeof(known_scopes) / sizeof(known_scopes[0]); i++)
			if (strlen(known_scopes[i]) == n && strncmp(known_scopes[i], p, n) == 0)
				break;
		if (i == sizeof(known_scopes) / sizeof(known_scopes[0]))
			return TC_EINVALID;
		words++;
		p += n;
	}
	return words ? 0 : TC_EINVALID;
}

int
actor_has_role(const struct actor *a, enum role role, int64_t institution_id)
{
	if (a->kind != ACTOR_PERSON)
		return 0;
	for (int i = 0; i < a->nroles; i++)
		if (a->roles[i].role == role && a->roles[i].institution_id == institution_id)
			return 1;
	return 0;
}

int
authz_check(const struct actor *a, enum authz_action act, int64_t institution_id)
{
	return authz_check_course(a, act, institution_id, 0);
}

int
authz_check_course(const struct actor *a, enum authz_action act, int64_t institution_id,
		   int teaches)
{
	const struct rule *r = NULL;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].act == act)
			r = &rules[i];
	if (!a || a->kind == ACTOR_NONE)
		return TC_EUNAUTH;
	if (!r)
		return TC_EFORBIDDEN;
	if (a->kind == ACTOR_TOKEN)
		return r->scope && a->token_institution_id == institution_id &&
		       scopes_contain(a->scopes, r->scope) ? 0 : TC_EFORBIDDEN;
	if ((r->who & W_PERSON) ||
	    ((r->who & W_OPERATOR) && actor_has_role(a, ROLE_OPERATOR, 0)) ||
	    ((r->who & W_ADMIN) && institution_id > 0 &&
	     actor_has_role(a, ROLE_ADMIN, institution_id)) ||
	    ((r->who & W_LECTURER) && institution_id > 0 &&
	     actor_has_role(a, ROLE_LECTURER, institution_id)) ||
	    ((r->who & W_TEACHER) && teaches && institution_id > 0 &&
	     actor_has_role(a, ROLE_LECTURER, institution_id)))
		return 0;
	return TC_EFORBIDDEN;
}
