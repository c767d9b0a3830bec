/* dataintegrity.c - see dataintegrity.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "courses/crypto.h"
#include "courses/dataintegrity.h"
#include "courses/did.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/jcs.h"

#define CANON_CAP (64u << 20)	/* canonical text of one document or proof */
#define PROOF_VALUE_MAX 100	/* 'z' + base58 of 64 bytes (at most 88) + NUL */

int
di_sign_ed25519_raw(void *arg, const void *msg, size_t n, unsigned char sig[64])
{
	return ed25519_sign_raw(arg, msg, n, sig);
}

/* N decimal digits at S, their value in *V. */
static int
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

/*
 * 1 when S is an XML Schema 1.1 dateTime: YYYY-MM-DDThh:mm:ss, optional
 * fraction, optional time zone (Z or +hh:mm / -hh:mm). Years of four digits
 * (what credentials use); 24:00:00 is refused for simplicity.
 */
int
di_datetime_ok(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, tzh, tzm;
	const char *p;

	if (strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
		return 0;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p == 'Z')
		return p[1] == '\0';
	if (*p == '+' || *p == '-')
		return strlen(p) == 6 && digits(p + 1, 2, &tzh) && p[3] == ':' &&
		       digits(p + 4, 2, &tzm) && tzh <= 14 && tzm <= 59 &&
		       (tzh < 14 || tzm == 0);
	return *p == '\0';
}

int
di_proof_config(const json_t *doc, const struct di_proof_options *opt, json_t **config)
{
	const json_t *ctx;
	json_t *c = NULL;
	int rc = TC_EINVALID;

	*config = NULL;
	if (!json_is_object(doc) || opt == NULL || opt->verification_method == NULL ||
	    (opt->created != NULL && !di_datetime_ok(opt->created)))
		goto out;
	rc = TC_ENOMEM;
	c = json_object();
	if (c == NULL ||
	    json_object_set_new(c, "type", json_string(DI_PROOF_TYPE)) != 0 ||
	    json_object_set_new(c, "cryptosuite", json_string(DI_CRYPTOSUITE)) != 0 ||
	    (opt->created != NULL &&
	     json_object_set_new(c, "created", json_string(opt->created)) != 0))
		goto out;
	/* Text that is not UTF-8 fails here: json_string checks it. */
	if (json_object_set_new(c, "verificationMethod",
				json_string(opt->verification_method)) != 0 ||
	    json_object_set_new(c, "proofPurpose",
				json_string(opt->proof_purpose ? opt->proof_purpose
							       : "assertionMethod")) != 0) {
		rc = TC_EINVALID;
		goto out;
	}
	ctx = json_object_get(doc, "@context");
	if (ctx != NULL && json_object_set_new(c, "@context", json_deep_copy(ctx)) != 0)
		goto out;
	*config = c;
	c = NULL;
	rc = 0;
out:
	json_decref(c);
	return rc;
}

/* SHA-256 of the canonical form of V, using BUF as scratch. */
static int
hash_canonical(const json_t *v, struct dynbuf *buf, unsigned char out[32])
{
	int rc;

	dynbuf_reset(buf);
	rc = jcs_canonicalize(v, buf);
	if (rc == 0)
		sha256_raw(buf->data ? buf->data : "", buf->len, out);
	return rc;
}

int
di_hash_data(const json_t *doc, const json_t *config, unsigned char hash[64])
{
	struct dynbuf buf;
	json_t *unsecured = NULL;
	int rc;

	dynbuf_init(&buf, CANON_CAP);
	rc = hash_canonical(config, &buf, hash);
	if (rc != 0)
		goto out;
	/* A shallow copy without "proof": its members are shared, not copied. */
	unsecured = json_is_object(doc) ? json_copy((json_t *)doc) : NULL;
	if (unsecured == NULL) {
		rc = json_is_object(doc) ? TC_ENOMEM : TC_EINVALID;
		goto out;
	}
	json_object_del(unsecured, "proof");
	rc = hash_canonical(unsecured, &buf, hash + 32);
out:
	json_decref(unsecured);
	dynbuf_cleanup(&buf);
	return rc;
}

int
di_add_proof(const json_t *doc, const struct di_proof_options *opt,
	     di_sign_fn sign, void *sign_arg, json_t **signed_doc)
{
	unsigned char hash[64], sig[64];
	char value[PROOF_VALUE_MAX];
	json_t *proof = NULL, *out = NULL, *existing, *set = NULL;
	int rc;

	*signed_doc = NULL;
	rc = di_proof_config(doc, opt, &proof);
	if (rc != 0)
		goto out;
	rc = di_hash_data(doc, proof, hash);
	if (rc != 0)
		goto out;
	rc = sign(sign_arg, hash, sizeof(hash), sig);
	if (rc != 0)
		goto out;
	value[0] = 'z';
	rc = base58btc_encode(sig, sizeof(sig), value + 1, sizeof(value) - 1);
	if (rc != 0)
		goto out;
	rc = TC_ENOMEM;
	if (json_object_set_new(proof, "proofValue", json_string(value)) != 0)
		goto out;
	out = json_deep_copy(doc);
	if (out == NULL)
		goto out;
	existing = json_object_get(out, "proof");
	if (json_is_array(existing)) {
		set = json_incref(existing);
	} else {
		set = json_array();
		if (set == NULL || (existing != NULL && json_array_append(set, existing) != 0))
			goto out;
	}
	if (json_array_append(set, proof) != 0)
		goto out;
	if (existing == NULL && !opt->proof_array)
		rc = json_object_set(out, "proof", proof);
	else
		rc = json_object_set(out, "proof", set);
	if (rc != 0) {
		rc = TC_ENOMEM;
		goto out;
	}
	*signed_doc = out;
	out = NULL;
	rc = 0;
out:
	json_decref(set);
	json_decref(out);
	json_decref(proof);
	return rc;
}

const char *
di_reason_str(enum di_reason r)
{
	switch (r) {
	case DI_VERIFIED: return "verified";
	case DI_NOT_AN_OBJECT: return "not a JSON object";
	case DI_NO_PROOF: return "no proof";
	case DI_MALFORMED_PROOF: return "malformed proof";
	case DI_WRONG_TYPE: return "wrong proof type";
	case DI_WRONG_CRYPTOSUITE: return "wrong cryptosuite";
	case DI_BAD_CREATED: return "bad created date";
	case DI_BAD_VERIFICATION_METHOD: return "bad verification method";
	case DI_KEY_MISMATCH: return "key mismatch";
	case DI_WRONG_PURPOSE: return "wrong proof purpose";
	case DI_BAD_MULTIBASE: return "bad multibase proof value";
	case DI_CONTEXT_MISMATCH: return "context mismatch";
	case DI_NOT_CANONICALIZABLE: return "not canonicalizable";
	case DI_SIGNATURE_MISMATCH: return "signature mismatch";
	case DI_TOO_MANY_PROOFS: return "too many proofs";
	}
	return "unknown";
}

/* Records a failed verification in RES; returns TC_EFORBIDDEN. */
static int
fail(struct di_result *res, enum di_reason r, int index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(struct di_result *res, enum di_reason r, int index, const char *fmt, ...)
{
	va_list ap;

	res->reason = r;
	res->proof_index = index;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	return TC_EFORBIDDEN;
}

/* V as a list: an array itself, anything else one element. */
static size_t
list_size(const json_t *v)
{
	return json_is_array(v) ? json_array_size(v) : 1;
}

static const json_t *
list_get(const json_t *v, size_t i)
{
	return json_is_array(v) ? json_array_get(v, i) : v;
}

/* 1 when the document's @context DOC_CTX starts with every value of the
 * proof's PROOF_CTX, in the same order. */
static int
context_starts_with(const json_t *doc_ctx, const json_t *proof_ctx)
{
	size_t n = list_size(proof_ctx);

	if (doc_ctx == NULL || n > list_size(doc_ctx))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!json_equal((json_t *)list_get(doc_ctx, i), (json_t *)list_get(proof_ctx, i)))
			return 0;
	return 1;
}

/* The string member KEY of P: NULL when absent; *BAD set when present but
 * not a string. */
static const char *
str_member(const json_t *p, const char *key, int *bad)
{
	const json_t *v = json_object_get(p, key);

	if (v != NULL && !json_is_string(v))
		*bad = 1;
	return json_string_value(v);
}

/* The hashes of the unsecured document under each distinct @context of a
 * document's proofs, made once each: proofs repeating a context (or the
 * same proof many times) cost one canonical form of the document, not one
 * each. */
struct ctx_hashes {
	struct {
		const json_t *ctx;
		unsigned char h[32];
	} e[DI_PROOFS_MAX];
	size_t n;
};

/* Verifies PROOF (number I of DOC's proofs) by vc-di-eddsa 3.3.2.
 * DOC_HASH (NULL: none): SHA-256 of the canonical form of DOC without its
 * proofs, used when the proof has no @context of its own other than DOC's
 * (the unsecured document is then exactly that); KEPT: the hashes under
 * the other contexts met so far. */
static int
verify_one(const json_t *doc, const json_t *proof, int i,
	   const struct di_verify_options *opt, struct di_result *res,
	   const unsigned char *doc_hash, struct ctx_hashes *kept)
{
	const char *type, *suite, *created, *vm, *purpose, *value;
	const json_t *proof_ctx;
	const unsigned char *known = NULL;
	unsigned char pub[32], sig[70], hash[64];
	json_t *unsecured = NULL, *config = NULL;
	size_t siglen = 0;
	int bad = 0, rc;

	if (!json_is_object(proof))
		return fail(res, DI_MALFORMED_PROOF, i, "proof %d is not an object", i);
	type = str_member(proof, "type", &bad);
	suite = str_member(proof, "cryptosuite", &bad);
	created = str_member(proof, "created", &bad);
	vm = str_member(proof, "verificationMethod", &bad);
	purpose = str_member(proof, "proofPurpose", &bad);
	value = str_member(proof, "proofValue", &bad);
	if (bad)
		return fail(res, DI_MALFORMED_PROOF, i,
			    "proof %d: type, cryptosuite, created, verificationMethod, "
			    "proofPurpose and proofValue must be strings", i);
	if (type == NULL || strcmp(type, DI_PROOF_TYPE) != 0)
		return fail(res, DI_WRONG_TYPE, i, "proof %d: type is not " DI_PROOF_TYPE, i);
	if (suite == NULL || strcmp(suite, DI_CRYPTOSUITE) != 0)
		return fail(res, DI_WRONG_CRYPTOSUITE, i,
			    "proof %d: cryptosuite is not " DI_CRYPTOSUITE, i);
	if (created != NULL && !di_datetime_ok(created))
		return fail(res, DI_BAD_CREATED, i, "proof %d: created is not a dateTime", i);
	if (vm == NULL || did_key_to_ed25519(vm, pub) != 0)
		return fail(res, DI_BAD_VERIFICATION_METHOD, i,
			    "proof %d: verificationMethod is not an Ed25519 did:key", i);
	if (opt != NULL && opt->public_key != NULL && !crypto_equal(pub, opt->public_key, 32))
		return fail(res, DI_KEY_MISMATCH, i,
			    "proof %d: verificationMethod is not the expected key", i);
	if (purpose == NULL ||
	    (opt != NULL && opt->proof_purpose != NULL && strcmp(purpose, opt->proof_purpose) != 0))
		return fail(res, DI_WRONG_PURPOSE, i, "proof %d: proofPurpose is %s%s", i,
			    purpose ? "not " : "missing", purpose ? opt->proof_purpose : "");
	if (value == NULL || value[0] != 'z' ||
	    base58btc_decode(value + 1, sig, sizeof(sig), &siglen) != 0 || siglen != 64)
		return fail(res, DI_BAD_MULTIBASE, i,
			    "proof %d: proofValue is not 'z' + base58btc of 64 bytes", i);

	rc = TC_ENOMEM;
	unsecured = json_copy((json_t *)doc);
	config = json_copy((json_t *)proof);
	if (unsecured == NULL || config == NULL)
		goto out;
	json_object_del(unsecured, "proof");
	json_object_del(config, "proofValue");
	proof_ctx = json_object_get(proof, "@context");
	if (proof_ctx != NULL) {
		if (!context_starts_with(json_object_get(doc, "@context"), proof_ctx)) {
			rc = fail(res, DI_CONTEXT_MISMATCH, i,
				  "proof %d: the document's @context does not start with the proof's", i);
			goto out;
		}
		if (json_object_set(unsecured, "@context", (json_t *)proof_ctx) != 0)
			goto out;
	}
	/* The proof configuration carries the (unsecured) document's @context. */
	if (json_object_get(unsecured, "@context") != NULL &&
	    json_object_set(config, "@context", json_object_get(unsecured, "@context")) != 0)
		goto out;
	if (!proof_ctx || json_equal((json_t *)proof_ctx, json_object_get(doc, "@context")))
		known = doc_hash;
	for (size_t k = 0; !known && proof_ctx && k < kept->n; k++)
		if (json_equal((json_t *)proof_ctx, (json_t *)kept->e[k].ctx))
			known = kept->e[k].h;
	if (known) {
		struct dynbuf buf;

		dynbuf_init(&buf, CANON_CAP);
		rc = hash_canonical(config, &buf, hash);
		dynbuf_cleanup(&buf);
		memcpy(hash + 32, known, 32);
	} else {
		rc = di_hash_data(unsecured, config, hash);
		if (rc == 0 && proof_ctx && kept->n < DI_PROOFS_MAX) {
			kept->e[kept->n].ctx = proof_ctx;
			memcpy(kept->e[kept->n++].h, hash + 32, 32);
		}
	}
	if (rc == TC_EINVALID) {
		rc = fail(res, DI_NOT_CANONICALIZABLE, i,
			  "proof %d: the document or proof has no canonical JSON form", i);
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = ed25519_verify(pub, hash, sizeof(hash), sig);
	if (rc == TC_EFORBIDDEN)
		rc = fail(res, DI_SIGNATURE_MISMATCH, i,
			  "proof %d: the signature does not match the document", i);
out:
	json_decref(config);
	json_decref(unsecured);
	return rc;
}

int
di_verify(const json_t *doc, const struct di_verify_options *opt, struct di_result *res)
{
	return di_verify_canonical(doc, opt, res, NULL, NULL);
}

int
di_verify_canonical(const json_t *doc, const struct di_verify_options *opt,
		    struct di_result *res, struct dynbuf *canonical, int *have)
{
	struct di_result scratch;
	struct dynbuf own, *full = canonical ? canonical : &own;
	struct ctx_hashes kept = { .n = 0 };
	unsigned char doc_hash[32];
	const json_t *proofs;
	size_t at, start, end;
	int rc = 0, hashed = 0;

	if (have)
		*have = 0;
	if (res == NULL)
		res = &scratch;
	res->reason = DI_VERIFIED;
	res->proof_index = -1;
	res->detail[0] = '\0';
	if (!json_is_object(doc))
		return fail(res, DI_NOT_AN_OBJECT, -1, "the document is not a JSON object");
	proofs = json_object_get(doc, "proof");
	if (proofs == NULL || (json_is_array(proofs) && json_array_size(proofs) == 0))
		return fail(res, DI_NO_PROOF, -1, "the document has no proof");
	if (list_size(proofs) > DI_PROOFS_MAX)
		return fail(res, DI_TOO_MANY_PROOFS, -1, "the document has %zu proofs; at most %d are"
			    " verified", list_size(proofs), DI_PROOFS_MAX);
	/*
	 * One pass gives the canonical form of the whole document and, by
	 * leaving out the bytes of its "proof" member, of the document without
	 * it. When it has none (bad UTF-8, too deep) each proof finds that out
	 * itself below and says so in its words.
	 */
	if (!canonical)
		dynbuf_init(&own, CANON_CAP);
	at = full->len;
	if (jcs_canonicalize_split(doc, "proof", full, &start, &end) == 0) {
		struct dynbuf u;

		dynbuf_init(&u, CANON_CAP);
		if (dynbuf_append(&u, full->data + at, start - at) == 0 &&
		    dynbuf_append(&u, full->data + end, full->len - end) == 0) {
			sha256_raw(u.data, u.len, doc_hash);
			hashed = 1;
		}
		dynbuf_cleanup(&u);
		if (have)
			*have = 1;
	}
	if (!canonical)
		dynbuf_cleanup(&own);
	for (size_t i = 0; rc == 0 && i < list_size(proofs); i++)
		rc = verify_one(doc, list_get(proofs, i), (int)i, opt, res,
				hashed ? doc_hash : NULL, &kept);
	if (rc != 0 && rc != TC_EFORBIDDEN) {
		res->reason = DI_VERIFIED;
		res->proof_index = -1;
		res->detail[0] = '\0';
	}
	return rc;
}
