/*
 * authz.h - the one place that decides who may do what, on which
 * institution's objects.
 *
 * The transport identifies the caller (a person by session, or an API
 * token) and describes it as a struct actor; handlers ask authz_check
 * before touching anything. Rules (docs: README "Authorization"):
 *
 *   action                  operator  admin of X  token of X          others
 *   institution.create      yes       -           -                   -
 *   institution.rotate_key  yes       yes         -                   -
 *   people.manage (at X)    yes       yes         -                   -
 *   learners.import (at X)  -         yes         learners:import     -
 *   tokens.manage (at X)    -         yes         -                   -
 *   audit.read (at X)       yes       yes         -                   -
 *   course.create (at X)    -         yes         -        lecturers of X
 *   course.edit (at X)      -         yes         -        its lecturers *
 *   course.roster (at X)    -         yes         -        its lecturers *
 *   credentials.issue (at X) -        yes         credentials:issue   -
 *   credential.revoke (X)   -         yes         -                   -
 *   agreements.manage (X)   -         yes         -                   -
 *   consents.read (at X)    -         yes         credits:read        -
 *   credits.read (at X)     -         -           credits:read        -
 *   recognition.query (at X) -        yes         credits:read        -
 *   self, course.enrol      any signed-in person
 *
 *   * the course's owner or a co-lecturer who is a lecturer of X
 *
 * No identity at all is TC_EUNAUTH (401); an identity without the right is
 * TC_EFORBIDDEN (403). Later issues add their actions to the same table.
 */
#ifndef TINCHI_AUTHZ_H
#define TINCHI_AUTHZ_H

#include <stdint.h>

#include "courses/identity.h"

#define ACTOR_ROLES_MAX 64	/* a learner of many institutions; see auth_load_roles */

enum actor_kind { ACTOR_NONE = 0, ACTOR_PERSON, ACTOR_TOKEN };

struct actor_role {
	int64_t institution_id;		/* 0: the platform */
	enum role role;
};

struct actor {
	enum actor_kind kind;
	int64_t person_id;		/* ACTOR_PERSON */
	struct actor_role roles[ACTOR_ROLES_MAX];
	int nroles;
	int64_t token_id;		/* ACTOR_TOKEN */
	int64_t token_institution_id;
	char scopes[256];		/* space-separated */
};

enum authz_action {
	AZ_INSTITUTION_CREATE = 1,
	AZ_INSTITUTION_ROTATE_KEY,
	AZ_PEOPLE_MANAGE,
	AZ_LEARNERS_IMPORT,
	AZ_TOKENS_MANAGE,
	AZ_AUDIT_READ,
	AZ_SELF,
	AZ_COURSE_CREATE,
	AZ_COURSE_EDIT,
	AZ_COURSE_ROSTER,
	AZ_COURSE_ENROL,
	AZ_CREDENTIALS_ISSUE,
	AZ_CREDENTIAL_REVOKE,
	AZ_AGREEMENTS_MANAGE,
	AZ_CONSENTS_READ,
	AZ_CREDITS_READ,
	AZ_RECOGNITION_QUERY,
};

/* 0 when A may do ACT on objects of INSTITUTION_ID (0 for platform-wide
 * actions), else TC_EUNAUTH or TC_EFORBIDDEN. */
int authz_check(const struct actor *a, enum authz_action act, int64_t institution_id);

/* authz_check for an object A may have a personal tie to: TEACHES is 1 when
 * A owns or co-teaches the course in question. */
int authz_check_course(const struct actor *a, enum authz_action act, int64_t institution_id,
		       int teaches);

/* 1 when A holds ROLE at INSTITUTION_ID (operators: institution 0). */
int actor_has_role(const struct actor *a, enum role role, int64_t institution_id);

/* 1 when the space-separated SCOPES contain SCOPE exactly. */
int scopes_contain(const char *scopes, const char *scope);

/* 0 when every word of SCOPES is a known scope and there is at least one. */
int scopes_check(const char *scopes);

#endif
