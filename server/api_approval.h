/*
 * api_approval.h - a lecturer's approval of the credentials of a course set
 * to issue "after approval" (courses.credential_issue, PATCH
 * /api/v1/courses/{uid}), api_approval.c:
 *
 *   GET  /api/v1/courses/{uid}/credentials/pending   the completions waiting
 *   POST /api/v1/courses/{uid}/credentials/approve   {"learners": [uid, ...]}
 *                                                    or {"all": true}
 *   POST /api/v1/courses/{uid}/credentials/decline   {"learner": uid,
 *                                                    "reason": "..."}
 *
 * For the course's editors (its lecturers, the institution's admins). An
 * approved completion is issued at once by issuing_approve (credential, log
 * entry and consumed outbox event in one transaction), audited as
 * "credential.approved" with the approver. A declined one is consumed
 * without a credential, its reason kept with the event, audited as
 * "credential.declined", and the learner is told over the WebSocket
 * ({"type": "credential.declined", ...}); it stays listed with status
 * "declined" and may still be approved by naming the learner ("all"
 * approves only the waiting ones).
 */
#ifndef TINCHI_API_APPROVAL_H
#define TINCHI_API_APPROVAL_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_approval_routes[];
extern const size_t api_approval_routes_count;

#endif
