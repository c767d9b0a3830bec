/* verify_facts.c - see verify_facts.h. */
#include <stdio.h>
#include <string.h>

#include "courses/errors.h"
#include "server/issuing.h"
#include "server/verify_facts.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/recognition.h"
#include "storage/store.h"

void
verify_facts_init(struct verify_facts *f)
{
	memset(f, 0, sizeof(*f));
}

static void
drop(struct verify_facts *f)
{
	f->nkeys = f->next_key = 0;
	f->ninsts = f->next_inst = 0;
	f->cp_rc = 1;
}

int
verify_facts_begin(struct verify_facts *f, struct store *st)
{
	int64_t v = 0;
	int rc = store_tlog_data_version(st, &v);

	f->reads++;
	if (rc) {
		f->valid = 0;
		drop(f);
		return rc;
	}
	if (!f->valid || v != f->version)
		drop(f);
	f->version = v;
	f->valid = 1;
	return 0;
}

int
verify_facts_issuer_key_read(struct store *st, const char *did, struct verify_key *out)
{
	struct institution inst;
	struct inst_key k;
	int rc;

	if ((rc = store_registry_key_by_did(st, did, &k)) ||
	    (rc = store_institution_get_id(st, k.institution_id, &inst)))
		return rc;
	snprintf(out->did, sizeof(out->did), "%s", k.did);
	out->valid_from = k.valid_from;
	out->valid_until = k.valid_until;
	snprintf(out->name, sizeof(out->name), "%s", inst.name);
	snprintf(out->code, sizeof(out->code), "%s", inst.code);
	out->ref = inst.id;
	return 0;
}

int
verify_facts_issuer_key(struct verify_facts *f, struct store *st, const char *did,
			struct verify_key *out)
{
	size_t i;
	int rc;

	if (f->valid)
		for (i = 0; i < f->nkeys; i++)
			if (strcmp(f->keys[i].did, did) == 0) {
				if (f->keys[i].rc == 0)
					*out = f->keys[i].key;
				return f->keys[i].rc;
			}
	f->reads++;
	rc = verify_facts_issuer_key_read(st, did, out);
	if (!f->valid || (rc && rc != TC_ENOTFOUND) || strlen(did) >= DID_KEY_MAX)
		return rc;
	if (f->nkeys < VERIFY_FACTS_KEYS)
		i = f->nkeys++;
	else
		i = f->next_key++ % VERIFY_FACTS_KEYS;
	memcpy(f->keys[i].did, did, strlen(did) + 1);
	f->keys[i].rc = rc;
	if (rc == 0)
		f->keys[i].key = *out;
	return rc;
}

/* INST's slot (made, its facts unread, when it has none); F is valid. */
static size_t
inst_slot(struct verify_facts *f, int64_t inst)
{
	size_t i;

	for (i = 0; i < f->ninsts; i++)
		if (f->insts[i].inst == inst)
			return i;
	if (f->ninsts < VERIFY_FACTS_INSTS)
		i = f->ninsts++;
	else
		i = f->next_inst++ % VERIFY_FACTS_INSTS;
	f->insts[i].inst = inst;
	f->insts[i].key_rc = f->insts[i].rev_rc = 1;
	return i;
}

int
verify_facts_key_current(struct verify_facts *f, struct store *st, int64_t inst,
			 char did[64])
{
	struct inst_key k;
	size_t i;
	int rc;

	if (f->valid) {
		i = inst_slot(f, inst);
		if (f->insts[i].key_rc != 1) {
			if (f->insts[i].key_rc == 0)
				memcpy(did, f->insts[i].did, 64);
			return f->insts[i].key_rc;
		}
	}
	f->reads++;
	rc = store_key_current(st, inst, &k);
	if (rc == 0)
		memcpy(did, k.did, 64);
	if (f->valid && (rc == 0 || rc == TC_ENOTFOUND)) {
		i = inst_slot(f, inst);
		f->insts[i].key_rc = rc;
		if (rc == 0)
			memcpy(f->insts[i].did, k.did, 64);
	}
	return rc;
}

int
verify_facts_list_rev(struct verify_facts *f, struct store *st, int64_t inst, int64_t *rev)
{
	size_t i;
	int rc;

	if (f->valid) {
		i = inst_slot(f, inst);
		if (f->insts[i].rev_rc != 1) {
			*rev = f->insts[i].rev;
			return f->insts[i].rev_rc;
		}
	}
	f->reads++;
	rc = store_status_list_rev(st, inst, ISSUING_PURPOSE, rev);
	if (f->valid && (rc == 0 || rc == TC_ENOTFOUND)) {
		i = inst_slot(f, inst);
		f->insts[i].rev_rc = rc;
		f->insts[i].rev = rc == 0 ? *rev : 0;
	}
	return rc;
}

int
verify_facts_checkpoint(struct verify_facts *f, struct store *st,
			const struct tlog_checkpoint **cp)
{
	int rc;

	*cp = NULL;
	if (!f->valid || f->cp_rc == 1) {
		f->reads++;
		rc = store_tlog_checkpoint_latest(st, &f->cp);
		f->cp_rc = f->valid && (rc == 0 || rc == TC_ENOTFOUND) ? rc : 1;
	} else {
		rc = f->cp_rc;
	}
	if (rc == 0)
		*cp = &f->cp;
	return rc;
}
