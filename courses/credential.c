/* credential.c - the unsigned OpenBadgeCredential of a completed course. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/credential.h"
#include "courses/errors.h"
#include "courses/identity.h"
#include "courses/identity_hash.h"
#include "courses/xapi.h"

/* A builder: the first error sticks, later puts do nothing. */
struct cb {
	int rc;
};

static void
put(struct cb *b, json_t *obj, const char *key, json_t *val)
{
	if (b->rc == 0 && (val == NULL || json_object_set_new(obj, key, val) != 0))
		b->rc = TC_ENOMEM;
	else if (b->rc != 0)
		json_decref(val);
}

static void
append(struct cb *b, json_t *arr, json_t *val)
{
	if (b->rc == 0 && (val == NULL || json_array_append_new(arr, val) != 0))
		b->rc = TC_ENOMEM;
	else if (b->rc != 0)
		json_decref(val);
}

/* KEY = S; a NULL S is left out when OPTIONAL, else (and when empty or
 * not UTF-8) TC_EINVALID. */
static void
put_str(struct cb *b, json_t *obj, const char *key, const char *s, int optional)
{
	if (b->rc != 0 || (s == NULL && optional))
		return;
	if (s == NULL || s[0] == '\0' || utf8_check(s, strlen(s)) != 0) {
		b->rc = TC_EINVALID;
		return;
	}
	put(b, obj, key, json_string(s));
}

/* ["A"] or ["A", "B"]. */
static json_t *
types(const char *a, const char *b)
{
	json_t *arr = json_array();

	if (arr != NULL && (json_array_append_new(arr, json_string(a)) != 0 ||
			    (b && json_array_append_new(arr, json_string(b)) != 0))) {
		json_decref(arr);
		arr = NULL;
	}
	return arr;
}

static int
credits_ok(double v)
{
	return isfinite(v) && v >= 0;
}

static int
hash_ok(const char *h)
{
	return h != NULL && strlen(h) == IDENTITY_HASH_LEN && strncmp(h, "sha256$", 7) == 0 &&
	       strspn(h + 7, "0123456789abcdefABCDEF") == SHA256_HEX_LEN;
}

/* Checks what put_str cannot: formats and numbers. */
static int
input_ok(const struct credential_input *in)
{
	size_t vlen = in->valid_from ? strlen(in->valid_from) : 0;

	if (in->id == NULL || strncmp(in->id, "urn:uuid:", 9) != 0 ||
	    !xapi_uuid_valid(in->id + 9))
		return 0;
	if (in->issuer_id == NULL || strncmp(in->issuer_id, "did:key:z", 9) != 0)
		return 0;
	if (vlen == 0 || in->valid_from[vlen - 1] != 'Z' ||
	    xapi_timestamp_parse(in->valid_from, NULL) != 0)
		return 0;
	if (!hash_ok(in->identity_hash) || in->salt == NULL)
		return 0;
	if (!credits_ok(in->credits_earned) || !credits_ok(in->credits_available))
		return 0;
	return in->n_alignment == 0 || in->alignment != NULL;
}

static json_t *
identity_object(struct cb *b, const struct credential_input *in)
{
	json_t *o = json_object();

	put(b, o, "type", json_string("IdentityObject"));
	put(b, o, "identityHash", json_string(in->identity_hash));
	put(b, o, "identityType", json_string("nationalIdentityNumber"));
	put(b, o, "hashed", json_true());
	/* An empty salt is an unsalted hash: "salt" is then left out. */
	if (in->salt != NULL && in->salt[0] != '\0')
		put_str(b, o, "salt", in->salt, 0);
	return o;
}

static json_t *
achievement(struct cb *b, const struct credential_input *in)
{
	json_t *a = json_object(), *criteria = json_object(), *align = json_array();

	put_str(b, a, "id", in->achievement_id, 0);
	put(b, a, "type", types("Achievement", NULL));
	put(b, a, "achievementType", json_string("Course"));
	put_str(b, a, "name", in->achievement_name, 0);
	put_str(b, a, "description", in->achievement_description, 0);
	put_str(b, criteria, "narrative", in->criteria_narrative, 0);
	put(b, a, "criteria", criteria);
	put_str(b, a, "humanCode", in->course_code, 0);
	put(b, a, "creditsAvailable", json_real(in->credits_available));
	for (size_t i = 0; i < in->n_alignment; i++) {
		const struct credential_alignment *al = &in->alignment[i];
		json_t *o = json_object();

		put(b, o, "type", types("Alignment", NULL));
		put_str(b, o, "targetName", al->target_name, 0);
		put_str(b, o, "targetUrl", al->target_url, 0);
		put_str(b, o, "targetFramework", al->target_framework, 1);
		put_str(b, o, "targetCode", al->target_code, 1);
		put_str(b, o, "targetDescription", al->target_description, 1);
		append(b, align, o);
	}
	if (in->n_alignment > 0)
		put(b, a, "alignment", align);
	else
		json_decref(align);
	return a;
}

static json_t *
subject(struct cb *b, const struct credential_input *in)
{
	json_t *s = json_object(), *ids = json_array(), *results = json_array();
	json_t *result = json_object();

	put(b, s, "type", types("AchievementSubject", NULL));
	append(b, ids, identity_object(b, in));
	put(b, s, "identifier", ids);
	put(b, s, "achievement", achievement(b, in));
	put(b, s, "creditsEarned", json_real(in->credits_earned));
	put_str(b, s, "term", in->term, 1);
	put(b, result, "type", types("Result", NULL));
	put_str(b, result, "value", in->grade, 1);
	put(b, result, "status", json_string("Completed"));
	append(b, results, result);
	put(b, s, "result", results);
	return s;
}

static json_t *
status_entry(struct cb *b, const struct credential_input *in)
{
	json_t *st = json_object();
	char index[24], *id = NULL;
	size_t idlen;

	snprintf(index, sizeof(index), "%" PRIu64, in->status_list_index);
	put_str(b, st, "statusListCredential", in->status_list_credential, 0);
	if (b->rc == 0) {
		idlen = strlen(in->status_list_credential) + 1 + strlen(index) + 1;
		id = malloc(idlen);
		if (id == NULL)
			b->rc = TC_ENOMEM;
		else
			snprintf(id, idlen, "%s#%s", in->status_list_credential, index);
	}
	if (b->rc == 0)
		put(b, st, "id", json_string(id));
	free(id);
	put(b, st, "type", json_string("BitstringStatusListEntry"));
	put(b, st, "statusPurpose", json_string("revocation"));
	put(b, st, "statusListIndex", json_string(index));
	return st;
}

int
credential_build(const struct credential_input *in, json_t **out)
{
	struct cb b = { 0 };
	json_t *vc = NULL, *ctx = NULL, *issuer = NULL;

	*out = NULL;
	if (in == NULL || !input_ok(in))
		return TC_EINVALID;
	vc = json_object();
	if (vc == NULL)
		return TC_ENOMEM;
	ctx = json_array();
	append(&b, ctx, json_string(CREDENTIAL_CONTEXT_VC));
	append(&b, ctx, json_string(CREDENTIAL_CONTEXT_OB));
	put(&b, vc, "@context", ctx);
	put_str(&b, vc, "id", in->id, 0);
	put(&b, vc, "type", types("VerifiableCredential", "OpenBadgeCredential"));
	issuer = json_object();
	put_str(&b, issuer, "id", in->issuer_id, 0);
	put(&b, issuer, "type", types("Profile", NULL));
	put_str(&b, issuer, "name", in->issuer_name, 0);
	put_str(&b, issuer, "url", in->issuer_url, 1);
	put(&b, vc, "issuer", issuer);
	put_str(&b, vc, "validFrom", in->valid_from, 0);
	put_str(&b, vc, "name", in->name, 0);
	put(&b, vc, "credentialSubject", subject(&b, in));
	put(&b, vc, "credentialStatus", status_entry(&b, in));
	if (b.rc != 0) {
		json_decref(vc);
		return b.rc;
	}
	*out = vc;
	return 0;
}
