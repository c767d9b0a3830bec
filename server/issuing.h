/*
 * issuing.h - the credential issuer: turns 'course.completed' outbox
 * events (storage/completion.h) into signed Open Badges 3.0 credentials
 * (courses/credential.h + courses/dataintegrity.h, eddsa-jcs-2022, signed
 * by the institution's current key in DATA/keys) stored with
 * storage/credentials.h.
 */
#ifndef TINCHI_ISSUING_H
#define TINCHI_ISSUING_H

#include <stdint.h>

struct app;

#define ISSUING_PURPOSE "revocation"

/*
 * Issues a credential for every unconsumed 'course.completed' event whose
 * course issues automatically, oldest first: builds it, assigns the next
 * status list index, signs it (before the transaction), then stores it
 * and marks the event consumed in one transaction. An event whose
 * completion did not pass is consumed without a credential; one of a
 * course set to "approval", or of an institution without a key, stays
 * pending (logged). Service thread only (APP's store). *ISSUED (may be
 * NULL) gets how many were issued. 0, or the first storage error
 * (TC_EDB, TC_EBUSY, TC_ENOMEM); a failure of one event is logged and
 * the others go on.
 */
int issuing_run(struct app *app, int *issued);

/*
 * The status list secret of INSTITUTION_ID (64 bytes into OUT): an Ed25519
 * signature, by the institution's first key, of a fixed label, so that it
 * never changes with key rotation and only the key holder can compute it.
 * 0, TC_ENOTFOUND (no key), TC_EIO.
 */
int issuing_perm_secret(struct app *app, int64_t institution_id, unsigned char out[64]);

#endif
