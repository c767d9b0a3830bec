/* authz_test.c - the authorization rules of courses/authz.c, as a table:
 * every action, as every kind of actor, on its own and a foreign
 * institution. */
#include <stdio.h>
#include <string.h>

#include "courses/authz.h"
#include "courses/errors.h"
#include "tests/tap.h"

#define OWN 7		/* the institution the actor belongs to */
#define OTHER 9

static struct actor
person(enum role role, int64_t inst)
{
	struct actor a = { .kind = ACTOR_PERSON, .person_id = 1 };

	if (role != ROLE_NONE) {
		a.roles[0].role = role;
		a.roles[0].institution_id = inst;
		a.nroles = 1;
	}
	return a;
}

static struct actor
token(const char *scopes)
{
	struct actor a = { .kind = ACTOR_TOKEN, .token_id = 5, .token_institution_id = OWN };

	snprintf(a.scopes, sizeof(a.scopes), "%s", scopes);
	return a;
}

enum { Y = 0, F = TC_EFORBIDDEN, U = TC_EUNAUTH };

int
main(void)
{
	struct actor actors[] = {
		{ .kind = ACTOR_NONE },
		person(ROLE_NONE, 0),
		person(ROLE_LEARNER, OWN),
		person(ROLE_LECTURER, OWN),
		person(ROLE_ADMIN, OWN),
		person(ROLE_VERIFIER, OWN),
		person(ROLE_OPERATOR, 0),
		token("learners:import"),
		token("credits:read"),
	};
	const char *names[] = { "anonymous", "no role", "learner", "lecturer", "admin",
				"verifier", "operator", "token learners:import", "token credits:read" };
	static const struct {
		enum authz_action act;
		const char *name;
		int own[9], other[9];	/* expected, per actor above */
	} table[] = {
		{ AZ_INSTITUTION_CREATE, "institution.create",
		  { U, F, F, F, F, F, Y, F, F }, { U, F, F, F, F, F, Y, F, F } },
		{ AZ_INSTITUTION_ROTATE_KEY, "institution.rotate_key",
		  { U, F, F, F, Y, F, Y, F, F }, { U, F, F, F, F, F, Y, F, F } },
		{ AZ_PEOPLE_MANAGE, "people.manage",
		  { U, F, F, F, Y, F, Y, F, F }, { U, F, F, F, F, F, Y, F, F } },
		{ AZ_LEARNERS_IMPORT, "learners.import",
		  { U, F, F, F, Y, F, F, Y, F }, { U, F, F, F, F, F, F, F, F } },
		{ AZ_TOKENS_MANAGE, "tokens.manage",
		  { U, F, F, F, Y, F, F, F, F }, { U, F, F, F, F, F, F, F, F } },
		{ AZ_AUDIT_READ, "audit.read",
		  { U, F, F, F, Y, F, Y, F, F }, { U, F, F, F, F, F, Y, F, F } },
		{ AZ_SELF, "self",
		  { U, Y, Y, Y, Y, Y, Y, F, F }, { U, Y, Y, Y, Y, Y, Y, F, F } },
		{ AZ_COURSE_CREATE, "course.create",
		  { U, F, F, Y, Y, F, F, F, F }, { U, F, F, F, F, F, F, F, F } },
		{ AZ_COURSE_EDIT, "course.edit (not teaching it)",
		  { U, F, F, F, Y, F, F, F, F }, { U, F, F, F, F, F, F, F, F } },
		{ AZ_COURSE_ROSTER, "course.roster (not teaching it)",
		  { U, F, F, F, Y, F, F, F, F }, { U, F, F, F, F, F, F, F, F } },
		{ AZ_COURSE_ENROL, "course.enrol",
		  { U, Y, Y, Y, Y, Y, Y, F, F }, { U, Y, Y, Y, Y, Y, Y, F, F } },
		{ AZ_CREDENTIALS_ISSUE, "credentials.issue",
		  { U, F, F, F, Y, F, F, F, F }, { U, F, F, F, F, F, F, F, F } },
		{ AZ_CREDENTIAL_REVOKE, "credential.revoke",
		  { U, F, F, F, Y, F, F, F, F }, { U, F, F, F, F, F, F, F, F } },
		{ AZ_AGREEMENTS_MANAGE, "agreements.manage",
		  { U, F, F, F, Y, F, F, F, F }, { U, F, F, F, F, F, F, F, F } },
	};
	char name[160];

	for (size_t t = 0; t < sizeof(table) / sizeof(table[0]); t++)
		for (int i = 0; i < 9; i++) {
			snprintf(name, sizeof(name), "%s as %s on own institution", table[t].name, names[i]);
			is_int(authz_check(&actors[i], table[t].act, OWN), table[t].own[i], name);
			snprintf(name, sizeof(name), "%s as %s on another institution", table[t].name, names[i]);
			is_int(authz_check(&actors[i], table[t].act, OTHER), table[t].other[i], name);
		}
	is_int(authz_check_course(&actors[3], AZ_COURSE_EDIT, OWN, 1), 0,
	       "a lecturer edits a course they teach at their institution");
	is_int(authz_check_course(&actors[3], AZ_COURSE_EDIT, OTHER, 1), TC_EFORBIDDEN,
	       "teaching does not count at an institution where one is not a lecturer");
	is_int(authz_check_course(&actors[2], AZ_COURSE_EDIT, OWN, 1), TC_EFORBIDDEN,
	       "a learner listed as teaching is still not a lecturer");
	is_int(authz_check_course(&actors[3], AZ_COURSE_ROSTER, OWN, 1), 0,
	       "a lecturer sees the roster of a course they teach");
	{
		struct actor iss = token("credentials:issue");

		is_int(authz_check(&iss, AZ_CREDENTIALS_ISSUE, OWN), 0,
		       "a credentials:issue token issues for its institution");
		is_int(authz_check(&iss, AZ_CREDENTIALS_ISSUE, OTHER), TC_EFORBIDDEN,
		       "but not for another one");
		is_int(authz_check(&iss, AZ_LEARNERS_IMPORT, OWN), TC_EFORBIDDEN,
		       "credentials:issue does not import learners");
	}
	is_int(authz_check(NULL, AZ_SELF, 0), TC_EUNAUTH, "no actor at all is unauthenticated");
	is_int(authz_check(&actors[4], (enum authz_action)999, OWN), TC_EFORBIDDEN, "an unknown action is forbidden");
	ok(scopes_contain("a learners:import b", "learners:import"), "scope found among others");
	ok(!scopes_contain("learners:importx", "learners:import"), "scope prefix is not a match");
	is_int(scopes_check("learners:import credits:read"), 0, "known scopes accepted");
	is_int(scopes_check("learners:import root"), TC_EINVALID, "unknown scope refused");
	is_int(scopes_check("  "), TC_EINVALID, "empty scope list refused");
	return done_testing();
}
