/*
 * api_approval.c - listing, approving and declining the credentials that
 * wait for a lecturer's approval (see api_approval.h for the routes).
 *
 * A request is checked whole before anything changes: every named learner
 * must have a waiting (or declined) completion of the course and the
 * institution a signing key, else the answer is a problem naming what is
 * wrong and nothing is issued. Each approved completion then commits on its
 * own (issuing_approve), audited one by one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/course.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/identity.h"
#include "courses/log.h"
#include "server/api_approval.h"
#include "server/api_courses.h"
#include "server/api_revocation.h"
#include "server/api_util.h"
#include "server/app.h"
#include "server/issuing.h"
#include "server/problem.h"
#include "server/ws.h"
#include "storage/completion.h"
#include "storage/credentials.h"
#include "storage/identity.h"

#define APPROVE_MAX 1000	/* learners named in one request */

/* The course's waiting and declined completions, payloads copied. */
struct waiting_list {
	struct credential_waiting *w;
	size_t n, cap;
};

static int
collect(const struct credential_waiting *w, void *arg)
{
	struct waiting_list *l = arg;

	if (GROW(&l->w, &l->cap, l->n + 1, 16))
		return TC_ENOMEM;
	l->w[l->n] = *w;
	if (!(l->w[l->n].payload = strdup(w->payload)))
		return TC_ENOMEM;
	l->n++;
	return 0;
}

static void
waiting_list_cleanup(struct waiting_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free((char *)l->w[i].payload);
	free(l->w);
	memset(l, 0, sizeof(*l));
}

static int
waiting_list_load(struct app *app, int64_t course_id, struct waiting_list *l)
{
	int rc = store_credential_waiting_each(app->store, course_id, collect, l);

	if (rc)
		waiting_list_cleanup(l);
	return rc;
}

/* The entry of learner UID in L, or NULL. */
static struct credential_waiting *
find_learner(struct waiting_list *l, const char *uid)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->w[i].person_uid, uid) == 0)
			return &l->w[i];
	return NULL;
}

/* Answers 404 for a learner UID that does not exist, else 409: W NULL,
 * no completion of this course waiting; W given, W is declined already.
 * Returns -1. */
static int
not_waiting(struct app *app, struct http_response *resp, const char *uid,
	    const struct credential_waiting *w)
{
	struct person p;
	char msg[200];
	int rc = store_person_get_by_uid(app->store, uid, &p);

	if (rc == TC_ENOTFOUND) {
		snprintf(msg, sizeof(msg), "no such learner: %s", uid);
		problem_respond(resp, 404, NULL, msg);
	} else if (rc) {
		problem_respond_err(resp, rc, NULL);
	} else {
		if (w)
			snprintf(msg, sizeof(msg), "the completion of learner %s is declined already",
				 uid);
		else
			snprintf(msg, sizeof(msg), "learner %s has no completion of this course"
				 " waiting for approval", uid);
		problem_respond(resp, 409, NULL, msg);
	}
	return -1;
}

static json_t *
waiting_json(const struct credential_waiting *w)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:f, s:s?, s:o, s:s}",
			      "event", (json_int_t)w->event_id, "learner", w->person_uid,
			      "full_name", w->full_name, "grade", w->grade_x100 / 100.0,
			      "letter", w->letter[0] ? w->letter : NULL,
			      "completed_at", api_time_json(w->completed_at),
			      "status", w->declined_at ? "declined" : "waiting");

	if (o && w->declined_at) {
		json_object_set_new(o, "declined_at", api_time_json(w->declined_at));
		json_object_set_new(o, "declined_by", w->declined_by[0] ?
				    json_string(w->declined_by) : json_null());
		json_object_set_new(o, "reason", json_string(w->decline_reason));
	}
	return o;
}

static int
on_pending(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct waiting_list l = { 0 };
	struct course c;
	char mode[16] = "";
	json_t *arr;
	int rc;

	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), &c))
		return 0;
	if ((rc = store_course_issue_mode(app->store, c.id, mode)) ||
	    (rc = waiting_list_load(app, c.id, &l)))
		return problem_respond_err(resp, rc, NULL);
	arr = json_array();
	for (size_t i = 0; arr && i < l.n; i++)
		if (json_array_append_new(arr, waiting_json(&l.w[i]))) {
			json_decref(arr);
			arr = NULL;
		}
	waiting_list_cleanup(&l);
	if (!arr)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	return api_reply_json(resp, 200, json_pack("{s:s, s:s, s:o}", "course", c.uid,
						   "credential_issue", mode, "pending", arr));
}

/* A 400 problem saying WHY; -1. */
static int
refuse(struct http_response *resp, const char *why)
{
	problem_respond(resp, 400, NULL, why);
	return -1;
}

/* Marks in PICK the entries of L that BODY asks to approve; 0, or non-zero
 * with the problem in RESP. */
static int
pick_approved(struct app *app, struct http_response *resp, json_t *body,
	      struct waiting_list *l, char *pick)
{
	json_t *learners = json_object_get(body, "learners"), *all = json_object_get(body, "all"), *v;
	size_t i, k;

	if ((learners != NULL) == (all != NULL))
		return refuse(resp, "give either \"learners\" (an array of"
				       " learner uids) or \"all\": true");
	if (all) {
		if (!json_is_true(all))
			return refuse(resp, "\"all\" must be true");
		for (i = 0; i < l->n; i++)
			pick[i] = !l->w[i].declined_at;
		return 0;
	}
	if (!json_is_array(learners) || json_array_size(learners) == 0 ||
	    json_array_size(learners) > APPROVE_MAX)
		return refuse(resp, "\"learners\" must be an array of 1 to"
				       " 1000 learner uids");
	json_array_foreach(learners, k, v) {
		const char *uid = json_string_value(v);
		struct credential_waiting *w;
		char msg[160];

		if (!uid || !uid[0] || strlen(uid) > 36) {
			snprintf(msg, sizeof(msg), "learners[%zu] must be a learner uid", k);
			return refuse(resp, msg);
		}
		if (!(w = find_learner(l, uid)))
			return not_waiting(app, resp, uid, NULL);
		if (pick[w - l->w]) {
			snprintf(msg, sizeof(msg), "learner %s is named twice", uid);
			return refuse(resp, msg);
		}
		pick[w - l->w] = 1;
	}
	return 0;
}

static int
on_approve(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct waiting_list l = { 0 };
	struct inst_key key;
	struct course c;
	json_t *body = NULL, *issued = NULL;
	char *pick = NULL;
	int rc;

	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), &c))
		return 0;
	if (api_read_json(req, resp, &body))
		return 0;
	if ((rc = waiting_list_load(app, c.id, &l)) ||
	    !(pick = calloc(l.n + 1, 1)) || !(issued = json_array())) {
		problem_respond_err(resp, rc ? rc : TC_ENOMEM, NULL);
		goto out;
	}
	if (pick_approved(app, resp, body, &l, pick))
		goto out;
	if ((rc = store_key_current(app->store, c.institution_id, &key))) {
		if (rc == TC_ENOTFOUND)
			problem_respond(resp, 409, NULL, "the institution has no signing key yet");
		else
			problem_respond_err(resp, rc, NULL);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct credential_waiting *w = &l.w[i];
		struct outbox_event e = { .id = w->event_id, .kind = "course.completed",
					  .course_id = c.id, .person_id = w->person_id,
					  .payload = w->payload };
		struct credential_rec cred = { 0 };
		char msg[200];

		if (!pick[i])
			continue;
		if ((rc = issuing_approve(app, &e, &cred))) {
			int full = rc == TC_ETOOBIG && issuing_list_full(app, c.institution_id);

			/* those before it are issued (and audited); say so */
			snprintf(msg, sizeof(msg), "%zu issued, then the credential of learner %s"
				 " failed: %s", json_array_size(issued), w->person_uid,
				 full ? "the institution's status list is full" : tc_strerror(rc));
			problem_respond(resp, rc == TC_ENOTFOUND || full ? 409 : 500, NULL, msg);
			goto out;
		}
		free(cred.json);
		api_audit(app, req, c.institution_id, "credential.approved", cred.uid,
			  json_pack("{s:s, s:s, s:I, s:b}", "course", c.uid, "learner",
				    w->person_uid, "event", (json_int_t)w->event_id,
				    "was_declined", w->declined_at != 0));
		if (json_array_append_new(issued, json_pack("{s:s, s:s}", "learner", w->person_uid,
							    "credential", cred.uid)))
			log_warn("approve: the answer misses credential %s", cred.uid);
	}
	api_reply_json(resp, 200, json_pack("{s:s, s:O}", "course", c.uid, "issued", issued));
out:
	json_decref(issued);
	json_decref(body);
	free(pick);
	waiting_list_cleanup(&l);
	return 0;
}

static void
tell_declined(struct app *app, const struct course *c, int64_t person_id, const char *reason)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "credential.declined",
			      "course", c->uid, "code", c->code, "title", c->title,
			      "reason", reason);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text)
		ws_notify_person(app->ws, person_id, text, strlen(text));
	else
		log_warn("decline: no memory to tell person %lld", (long long)person_id);
	free(text);
	json_decref(o);
}

static int
on_decline(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct waiting_list l = { 0 };
	struct credential_waiting *w;
	struct course c;
	json_t *body = NULL;
	const char *uid, *reason, *why;
	int64_t now = (int64_t)time(NULL);
	int rc, bad_uid = 0, bad_reason = 0;

	if (api_course_editable(app, req, resp, http_request_param(req, "uid"), &c))
		return 0;
	if (api_read_json(req, resp, &body))
		return 0;
	uid = api_str(body, "learner", &bad_uid);
	reason = api_str(body, "reason", &bad_reason);
	why = bad_uid || !uid || !uid[0] || strlen(uid) > 36 ? "learner must be a learner uid" :
	      bad_reason ? "reason must be a string" : revocation_reason_problem(reason);
	if (why) {
		problem_respond(resp, 400, NULL, why);
		goto out;
	}
	if ((rc = waiting_list_load(app, c.id, &l))) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	if (!(w = find_learner(&l, uid)) || w->declined_at) {
		not_waiting(app, resp, uid, w);
		goto out;
	}
	rc = store_credential_decline(app->store, w->event_id,
				      req->actor.kind == ACTOR_PERSON ? req->actor.person_id : 0,
				      reason, now);
	if (rc == TC_ENOTFOUND) {
		not_waiting(app, resp, uid, NULL);	/* issued meanwhile */
		goto out;
	}
	if (rc) {
		problem_respond_err(resp, rc, NULL);
		goto out;
	}
	log_info("course %s: the credential of %s declined", c.uid, uid);
	api_audit(app, req, c.institution_id, "credential.declined", uid,
		  json_pack("{s:s, s:I, s:s}", "course", c.uid, "event", (json_int_t)w->event_id,
			    "reason", reason));
	tell_declined(app, &c, w->person_id, reason);
	api_reply_json(resp, 200, json_pack("{s:s, s:s, s:s, s:o, s:s}", "course", c.uid,
					    "learner", uid, "status", "declined",
					    "declined_at", api_time_json(now), "reason", reason));
out:
	json_decref(body);
	waiting_list_cleanup(&l);
	return 0;
}

const struct route api_approval_routes[] = {
	{ HTTP_GET, "/api/v1/courses/{uid}/credentials/pending", on_pending,
	  "credentials_pending" },
	{ HTTP_POST, "/api/v1/courses/{uid}/credentials/approve", on_approve,
	  "credentials_approve" },
	{ HTTP_POST, "/api/v1/courses/{uid}/credentials/decline", on_decline,
	  "credentials_decline" },
};
const size_t api_approval_routes_count =
	sizeof(api_approval_routes) / sizeof(api_approval_routes[0]);
