/*
 * cli_verify.c - `tinchi verify`: a credential, a presentation, or a bundle
 * (GET /api/v1/credentials/{uid}/bundle) verified offline.
 *
 * What is trusted comes from the command line, never from the file being
 * verified: the log key (--log-key), the institution registry (--registry,
 * the trust list GET /api/v1/registry or one institution: the keys with
 * their validity), the status list (--status-list: checked for its own proof and
 * issuer before its bit is read). The checkpoint may come from the bundle,
 * since its signature under the log key is checked either way;
 * --checkpoint names one fetched separately (the proof must be for its
 * size). A check whose inputs are missing is "not checked", and fails the
 * run unless --allow-unchecked.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/signednote.h"
#include "courses/verify.h"
#include "courses/xapi.h"
#include "server/cli_verify.h"

#define FILE_MAX ((size_t)64 << 20)

static const char verify_usage[] =
	"usage: tinchi verify FILE [--checkpoint FILE] [--status-list FILE]\n"
	"                          [--log-key VKEY|FILE] [--registry FILE]\n"
	"                          [--challenge TEXT] [--domain TEXT]\n"
	"                          [--allow-unchecked] [--json]\n\n"
	"Verifies offline (no network, no database) a credential, a presentation\n"
	"(every credential in it, and its proof), or a bundle {\"credential\" or\n"
	"\"presentation\", \"log\": the inclusion proof(s) as GET /log/proof gives}\n"
	"as GET /api/v1/credentials/{id}/bundle serves it. Checks: schema, proof,\n"
	"issuer, status, dates, log.\n\n"
	"  --log-key VKEY|FILE  the log's verifier key (GET /log/key, from a source\n"
	"                       you trust); without it the log is not checked\n"
	"  --checkpoint FILE    a checkpoint (GET /log/checkpoint) the inclusion\n"
	"                       proof must lead to; default: the bundle's own\n"
	"  --status-list FILE   the issuer's status list credential (the document\n"
	"                       at credentialStatus.statusListCredential); without\n"
	"                       it the status is not checked\n"
	"  --registry FILE      institutions and their keys with validity dates:\n"
	"                       the trust list GET /api/v1/registry, or one\n"
	"                       institution (GET /api/v1/institutions/{code}),\n"
	"                       or a list of them;\n"
	"                       without it the issuer is not checked\n"
	"  --challenge, --domain  what a signed presentation must answer\n"
	"  --allow-unchecked    exit 0 when nothing failed, even if some checks\n"
	"                       could not be made\n"
	"  --json               print the result as JSON\n\n"
	"Exit status: 0 every check passed, 1 a check failed or was not made,\n"
	"2 bad usage or unreadable input.\n";

struct cli_ctx {
	json_t *registry;	/* array of institutions */
	json_t *status_list;
	json_t *log;		/* a proof, or an array of proofs */
};

/* The whole file PATH, NUL-terminated, into *OUT (free it); NULL on error
 * (said on stderr). */
static char *
read_file(const char *what, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f) {
		fprintf(stderr, "tinchi verify: cannot read %s %s: %s\n", what, path,
			strerror(errno));
		return NULL;
	}
	do {
		if (n + 65536 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536 * 2;
			if (cap > FILE_MAX + 65536 + 1 || !(nb = realloc(buf, cap))) {
				fprintf(stderr, "tinchi verify: %s %s is too large\n", what, path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, 65536, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		fprintf(stderr, "tinchi verify: cannot read %s %s\n", what, path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (strlen(buf) != n) {
		fprintf(stderr, "tinchi verify: %s %s holds a NUL byte\n", what, path);
		free(buf);
		return NULL;
	}
	return buf;
}

static json_t *
read_json(const char *what, const char *path)
{
	char *text = read_file(what, path);
	json_error_t err;
	json_t *v;

	if (!text)
		return NULL;
	v = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	free(text);
	if (!v)
		fprintf(stderr, "tinchi verify: %s %s is not JSON (line %d: %s)\n", what, path,
			err.line, err.text);
	return v;
}

/* "YYYY-MM-DDThh:mm:ssZ" (or null for VALID_UNTIL) as unix seconds. */
static int
reg_time(const json_t *v, int null_ok, int64_t *t)
{
	int64_t us;

	if (null_ok && (!v || json_is_null(v))) {
		*t = 0;
		return 0;
	}
	if (!json_is_string(v) || xapi_timestamp_parse(json_string_value(v), &us) != 0)
		return TC_EINVALID;
	*t = us / 1000000;
	return 0;
}

/* The registry as an array of institutions, each checked; NULL and a
 * message on stderr when malformed. Takes DOC over. */
static json_t *
registry_load(json_t *doc, const char *path)
{
	json_t *list = json_is_array(doc) ? json_incref(doc) :
		       json_is_array(json_object_get(doc, "institutions")) ?
		       json_incref(json_object_get(doc, "institutions")) :
		       json_is_object(doc) ? json_pack("[O]", doc) : NULL;
	size_t i, j;
	json_t *inst, *k;
	int64_t t;

	json_decref(doc);
	json_array_foreach(list, i, inst) {
		if (!json_is_string(json_object_get(inst, "code")) ||
		    !json_is_array(json_object_get(inst, "keys")))
			goto bad;
		json_array_foreach(json_object_get(inst, "keys"), j, k)
			if (!json_is_string(json_object_get(k, "did")) ||
			    reg_time(json_object_get(k, "valid_from"), 0, &t) ||
			    reg_time(json_object_get(k, "valid_until"), 1, &t))
				goto bad;
	}
	if (list)
		return list;
bad:
	fprintf(stderr, "tinchi verify: the registry %s is not institutions with keys (the JSON of"
		" GET /api/v1/institutions/{code}: code, name, keys [{did, valid_from,"
		" valid_until}])\n", path);
	json_decref(list);
	return NULL;
}

static int
op_issuer_key(void *ctx, const char *did, struct verify_key *out)
{
	const struct cli_ctx *c = ctx;
	size_t i, j;
	json_t *inst, *k;

	json_array_foreach(c->registry, i, inst)
		json_array_foreach(json_object_get(inst, "keys"), j, k) {
			const char *name = json_string_value(json_object_get(inst, "name"));

			if (strcmp(json_string_value(json_object_get(k, "did")), did) != 0)
				continue;
			snprintf(out->did, sizeof(out->did), "%s", did);
			snprintf(out->code, sizeof(out->code), "%s",
				 json_string_value(json_object_get(inst, "code")));
			snprintf(out->name, sizeof(out->name), "%s", name ? name : out->code);
			reg_time(json_object_get(k, "valid_from"), 0, &out->valid_from);
			reg_time(json_object_get(k, "valid_until"), 1, &out->valid_until);
			out->ref = (int64_t)i + 1;
			return 0;
		}
	return TC_ENOTFOUND;
}

static int
op_status_list(void *ctx, const struct verify_key *issuer, const char *url, json_t **list,
	       int *made_here)
{
	const struct cli_ctx *c = ctx;

	(void)made_here;	/* a file vouches for nothing: checked in full */
	(void)issuer;
	(void)url;	/* the verifier checks that it is the list named */
	*list = json_incref(c->status_list);
	return 0;
}

static int
proof_of(const json_t *p, const char *hash)
{
	json_t *e = json_loads(json_string_value(json_object_get(p, "entry")) ?
			       json_string_value(json_object_get(p, "entry")) : "", 0, NULL);
	const char *h = json_string_value(json_object_get(e, "hash"));
	int yes = h && strcmp(h, hash) == 0;

	json_decref(e);
	return yes;
}

static int
op_log_proof(void *ctx, const char *hash, json_t **proof, char *why, size_t whysize)
{
	const struct cli_ctx *c = ctx;
	size_t i;
	json_t *p;

	*proof = NULL;
	if (json_is_object(c->log) && proof_of(c->log, hash))
		*proof = json_incref(c->log);
	json_array_foreach(c->log, i, p)
		if (!*proof && proof_of(p, hash))
			*proof = json_incref(p);
	if (*proof)
		return 0;
	snprintf(why, whysize, "the bundle has no inclusion proof of %s", hash);
	return TC_ENOTFOUND;
}

/* --log-key: a verifier key, or a file holding one. */
static int
load_log_key(const char *arg, struct signednote_verifier *v)
{
	char *text;
	size_t n;
	int rc;

	if (signednote_verifier_parse(arg, v) == 0)
		return 0;
	if (!(text = read_file("log key", arg)))
		return TC_EINVALID;
	for (n = strlen(text); n && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
				     text[n - 1] == ' '); n--)
		text[n - 1] = '\0';
	rc = signednote_verifier_parse(text, v);
	free(text);
	if (rc)
		fprintf(stderr, "tinchi verify: --log-key is neither a note verifier key"
			" (name+hex id+base64 key) nor a file holding one\n");
	return rc;
}

static void
print_checks(const json_t *checks, const char *indent)
{
	size_t i;
	json_t *c;

	json_array_foreach(checks, i, c) {
		const char *st = json_is_true(json_object_get(c, "ok")) ? "passed" :
				 json_is_true(json_object_get(c, "unchecked")) ? "not checked" :
				 "FAILED";

		const char *d = json_string_value(json_object_get(c, "detail"));

		if (strncmp(d, "not checked: ", 13) == 0)
			d += 13;
		printf("%s%-11s %-12s %s\n", indent, json_string_value(json_object_get(c, "check")),
		       st, d);
	}
}

/* "proof, status" of the checks in state ST (FAIL: not ok and checked). */
static void
names_in(const json_t *checks, int unchecked, char *out, size_t n)
{
	size_t i, at = 0;
	json_t *c;

	out[0] = '\0';
	json_array_foreach(checks, i, c) {
		int un = json_is_true(json_object_get(c, "unchecked"));

		if (json_is_true(json_object_get(c, "ok")) || un != unchecked || at >= n)
			continue;
		at += (size_t)snprintf(out + at, n - at, "%s%s", at ? ", " : "",
				       json_string_value(json_object_get(c, "check")));
	}
}

static void
print_verdict(enum verify_state v, const json_t *checks)
{
	char f[200], u[200];

	names_in(checks, 0, f, sizeof(f));
	names_in(checks, 1, u, sizeof(u));
	if (v == VERIFY_PASS)
		printf("verified: every check passed\n");
	else if (v == VERIFY_FAIL)
		printf("NOT verified: failed: %s%s%s\n", f, u[0] ? "; not checked: " : "", u);
	else
		printf("NOT fully verified: nothing failed, but not checked: %s\n", u);
}

int
cli_verify_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "status-list", required_argument, NULL, 's' },
		{ "log-key", required_argument, NULL, 'k' },
		{ "registry", required_argument, NULL, 'r' },
		{ "challenge", required_argument, NULL, 'C' },
		{ "domain", required_argument, NULL, 'D' },
		{ "allow-unchecked", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cp_path = NULL, *sl_path = NULL, *key_arg = NULL, *reg_path = NULL;
	const char *challenge = NULL, *domain = NULL;
	struct signednote_verifier lkey;
	struct cli_ctx ctx = { 0 };
	struct verify_ops ops = { 0 };
	enum verify_state verdict = VERIFY_FAIL;
	json_t *doc = NULL, *subject = NULL, *result = NULL;
	char *checkpoint = NULL;
	int ch, as_json = 0, allow_unchecked = 0, is_vp = 0, rc = 2;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': cp_path = optarg; break;
		case 's': sl_path = optarg; break;
		case 'k': key_arg = optarg; break;
		case 'r': reg_path = optarg; break;
		case 'C': challenge = optarg; break;
		case 'D': domain = optarg; break;
		case 'a': allow_unchecked = 1; break;
		case 'j': as_json = 1; break;
		case 'h':
			printf("%s", verify_usage);
			return 0;
		case ':':
			fprintf(stderr, "tinchi verify: option '%s' needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "tinchi verify: unknown option '%s' (see tinchi verify --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "tinchi verify: say which FILE to verify (see tinchi verify --help)\n");
		return 2;
	}
	ops.ctx = &ctx;
	ops.now = (int64_t)time(NULL);
	if (!(doc = read_json("file", argv[optind])))
		goto out;
	if (key_arg) {
		if (load_log_key(key_arg, &lkey))
			goto out;
		ops.log_keys = &lkey;
		ops.nlog_keys = 1;
	}
	if (cp_path) {
		if (!(checkpoint = read_file("checkpoint", cp_path)))
			goto out;
		ops.checkpoint = checkpoint;
	}
	if (sl_path) {
		if (!(ctx.status_list = read_json("status list", sl_path)))
			goto out;
		if (!verify_is_credential(ctx.status_list)) {
			fprintf(stderr, "tinchi verify: the status list %s is not a credential\n",
				sl_path);
			goto out;
		}
		ops.status_list = op_status_list;
	}
	if (reg_path) {
		json_t *r = read_json("registry", reg_path);

		if (!r || !(ctx.registry = registry_load(r, reg_path)))
			goto out;
		ops.issuer_key = op_issuer_key;
	}
	/* what the file is: a bundle, a presentation, a credential */
	if (json_is_object(json_object_get(doc, "credential")) ||
	    json_is_object(json_object_get(doc, "presentation"))) {
		json_t *log = json_object_get(doc, "log");

		subject = json_object_get(doc, "credential");
		if (!subject) {
			subject = json_object_get(doc, "presentation");
			is_vp = 1;
		}
		if (log && !json_is_null(log) && !json_is_object(log) && !json_is_array(log)) {
			fprintf(stderr, "tinchi verify: the bundle's log must be an inclusion proof"
				" or a list of them\n");
			goto out;
		}
		if (json_is_object(log) || json_is_array(log)) {
			ctx.log = log;
			ops.log_proof = op_log_proof;
		}
	} else {
		subject = doc;
		is_vp = verify_is_presentation(doc);
	}
	if (is_vp ? !verify_is_presentation(subject) : !verify_is_credential(subject)) {
		fprintf(stderr, "tinchi verify: %s holds no credential or presentation\n",
			argv[optind]);
		goto out;
	}
	if (is_vp) {
		rc = verify_presentation(subject, &ops, challenge, domain, &result, &verdict);
	} else {
		json_t *checks = json_array();

		rc = checks ? verify_credential(subject, &ops, checks, &verdict) : TC_ENOMEM;
		result = checks ? json_pack("{s:b, s:O?, s:o}", "verified", verdict == VERIFY_PASS,
					    "id", json_object_get(subject, "id"), "checks", checks)
				: NULL;
		if (rc == 0 && !result)
			rc = TC_ENOMEM;
	}
	if (rc) {
		fprintf(stderr, "tinchi verify: %s\n", tc_strerror(rc));
		rc = 2;
		goto out;
	}
	if (as_json) {
		char *text = json_dumps(result, JSON_INDENT(2));

		if (text)
			printf("%s\n", text);
		free(text);
	} else if (is_vp) {
		size_t i;
		json_t *c;

		printf("presentation\n");
		print_checks(json_object_get(result, "checks"), "  ");
		json_array_foreach(json_object_get(result, "credentials"), i, c) {
			printf("credential %zu: %s\n", i + 1,
			       json_string_value(json_object_get(c, "id")) ?
			       json_string_value(json_object_get(c, "id")) : "(no id)");
			print_checks(json_object_get(c, "checks"), "  ");
		}
		print_verdict(verdict, json_object_get(result, "checks"));
	} else {
		printf("credential %s\n", json_string_value(json_object_get(subject, "id")) ?
		       json_string_value(json_object_get(subject, "id")) : "(no id)");
		print_checks(json_object_get(result, "checks"), "  ");
		print_verdict(verdict, json_object_get(result, "checks"));
	}
	rc = verdict == VERIFY_PASS || (verdict == VERIFY_UNCHECKED && allow_unchecked) ? 0 : 1;
out:
	json_decref(result);
	json_decref(doc);
	json_decref(ctx.status_list);
	json_decref(ctx.registry);
	free(checkpoint);
	return rc;
}
