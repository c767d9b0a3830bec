/*
 * api_xapi.c - the learning record store under /xapi/ (xAPI 2.0.0 Part
 * Three, and 1.0.x clients) and the admin API of its credentials.
 *
 * Every /xapi/ request goes through on_xapi: the alternate request syntax
 * of 1.0.x (POST ?method=X with the headers and content in a form body) is
 * unwrapped into a struct xreq, the caller is identified by HTTP Basic
 * (an LRS credential of one institution: it reads and writes only that
 * institution's records), the X-Experience-API-Version is checked, and the
 * resource handler runs. Every answer carries X-Experience-API-Version.
 *
 * Statements are validated by courses/xapi.h; a batch is stored in one
 * transaction (all or nothing). Attachment data comes in a multipart/mixed
 * body (the statements first, then one part per attachment, named by its
 * X-Experience-API-Hash and checked against it); the parts are stored in
 * the same transaction as the statements and sent back, after the
 * statements, to GET ?attachments=true. A signed statement's JWS (Data
 * 2.6) is checked: RS256/384/512, the payload the same statement, and the
 * signature itself when the header carries an x5c certificate.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/grow.h"
#include "courses/identity.h"
#include "courses/log.h"
#include "courses/xapi.h"
#include "server/api_util.h"
#include "server/api_xapi.h"
#include "server/app.h"
#include "server/config.h"
#include "server/http.h"
#include "server/problem.h"
#include "storage/identity.h"
#include "storage/xapi.h"

#define XAPI_MAX_BODY ((int64_t)8 << 20)
#define XAPI_PARAMS_MAX 24
#define XAPI_LIMIT_MAX 500	/* statements in one GET answer */
#define XAPI_BATCH_MAX 1000	/* statements in one POST */
#define AGENT_KEY_MAX 1024
#define XAPI_PARTS_MAX 64	/* parts of one multipart/mixed request */
#define XAPI_JWS_MAX ((size_t)1 << 20)

static const char VOIDED_VERB[] = "http://adlnet.gov/expapi/verbs/voided";
static const char SIGNATURE_USAGE[] = "http://adlnet.gov/expapi/attachments/signature";

/* ---- the request as xAPI sees it ------------------------------------------------ */

struct xparam {
	char *name, *value;	/* point into xreq.pbuf */
};

struct xreq {
	enum http_method method;
	struct xparam params[XAPI_PARAMS_MAX];
	int nparams;
	char *pbuf;			/* owned: the decoded parameters */
	const char *version_hdr, *if_match, *if_none_match, *content_type, *authorization;
	const char *body;
	size_t body_len;
	enum xapi_version v;
	struct lrs_credential cred;
	int alternate;			/* came by the alternate request syntax */
};

static int64_t
now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static const char *
param(const struct xreq *x, const char *name)
{
	for (int i = 0; i < x->nparams; i++)
		if (strcmp(x->params[i].name, name) == 0)
			return x->params[i].value;
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes %XX and '+' in place; -1 on a malformed escape. */
static int
url_decode(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '+') {
			*w++ = ' ';
		} else if (*r == '%') {
			int h = hexval((unsigned char)r[1]), l = h < 0 ? -1 : hexval((unsigned char)r[2]);
			if (h < 0 || l < 0)
				return -1;
			*w++ = (char)(h * 16 + l);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return 0;
}

/* Splits "a=b&c=d" (owned copy in *buf) into X's parameters; DECODE for
 * form bodies (the query string arrives decoded). Appends to what X has. */
static int
parse_params(struct xreq *x, char *s, int decode)
{
	for (char *p = s; p && *p;) {
		char *amp = strchr(p, '&'), *eq;

		if (amp)
			*amp = '\0';
		if (*p) {
			if (x->nparams == XAPI_PARAMS_MAX)
				return TC_ETOOBIG;
			eq = strchr(p, '=');
			if (eq)
				*eq = '\0';
			x->params[x->nparams].name = p;
			x->params[x->nparams].value = eq ? eq + 1 : p + strlen(p);
			if (decode && (url_decode(x->params[x->nparams].name) ||
				       url_decode(x->params[x->nparams].value)))
				return TC_EINVALID;
			for (int i = 0; i < x->nparams; i++)
				if (strcmp(x->params[i].name, x->params[x->nparams].name) == 0)
					return TC_ECONFLICT;
			x->nparams++;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

static void
xreq_cleanup(struct xreq *x)
{
	free(x->pbuf);
	x->pbuf = NULL;
}

/* ---- replies ---------------------------------------------------------------------- */

static void
set_version_header(struct http_response *resp, const struct xreq *x)
{
	http_response_header(resp, "x-experience-api-version",
			     x && x->v == XAPI_V1 ? "1.0.3" : "2.0.0");
}

static int
bad(struct http_response *resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
bad(struct http_response *resp, const char *fmt, ...)
{
	char detail[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	problem_respond(resp, 400, NULL, detail);
	return 0;
}

static void
iso_time_us(int64_t us, char out[80])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)((us % 1000000) / 1000));
}

static void
http_date(int64_t us, char out[40])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void
lrs_home_page(const struct app *app, char *out, size_t n)
{
	if (app->cfg->public_url[0])
		snprintf(out, n, "%s", app->cfg->public_url);
	else	/* the port bound (--listen HOST:0 picks one) when serving */
		snprintf(out, n, "http://%s:%d", app->cfg->listen_host,
			 http_server_port(app) > 0 ? http_server_port(app) : app->cfg->listen_port);
}

/* ---- authentication ------------------------------------------------------------------ */

static int
unauthorized(struct http_response *resp, const char *why)
{
	problem_respond(resp, 401, NULL, why);
	http_response_header(resp, "www-authenticate", "Basic realm=\"tinchi xAPI\"");
	return TC_EUNAUTH;
}

static int
authenticate(struct app *app, struct xreq *x, struct http_response *resp)
{
	unsigned char dec[512];
	char hash[65], stored[65], *colon;
	size_t n = 0;
	const char *a = x->authorization;
	int rc;

	if (!a || strncasecmp(a, "Basic ", 6) != 0)
		return unauthorized(resp, "send an LRS credential as HTTP Basic authentication");
	a += 6;
	while (*a == ' ')
		a++;
	if (b64_decode(a, dec, sizeof(dec) - 1, &n))
		return unauthorized(resp, "the Basic credentials are not valid base64");
	dec[n] = '\0';
	colon = strchr((char *)dec, ':');
	if (!colon || memchr(dec, '\0', n))
		return unauthorized(resp, "the Basic credentials are not key:secret");
	*colon = '\0';
	rc = store_lrs_credential_by_key(app->store, (char *)dec, &x->cred, stored);
	if (rc == TC_ENOTFOUND) {
		OPENSSL_cleanse(dec, sizeof(dec));
		return unauthorized(resp, "the LRS credential is unknown or revoked");
	}
	if (rc) {
		OPENSSL_cleanse(dec, sizeof(dec));
		problem_respond_err(resp, rc, "could not check the credential");
		return rc;
	}
	sha256_hex(colon + 1, strlen(colon + 1), hash);
	OPENSSL_cleanse(dec, sizeof(dec));
	if (!crypto_equal(hash, stored, 64))
		return unauthorized(resp, "the LRS credential is unknown or revoked");
	return 0;
}

/*
 * The version each credential last spoke (X-Experience-API-Version), in
 * memory: a request without the header is refused in that version (the
 * client's own), 2.0.0 when the credential has not spoken yet.
 */
#define VERSION_MEMO 256

static struct {
	int64_t cred;
	enum xapi_version v;
} version_memo[VERSION_MEMO];
static pthread_mutex_t version_memo_lock = PTHREAD_MUTEX_INITIALIZER;

static void
version_remember(int64_t cred, enum xapi_version v)
{
	size_t i = (size_t)((uint64_t)cred % VERSION_MEMO);

	pthread_mutex_lock(&version_memo_lock);
	version_memo[i].cred = cred;
	version_memo[i].v = v;
	pthread_mutex_unlock(&version_memo_lock);
}

static enum xapi_version
version_recalled(int64_t cred)
{
	size_t i = (size_t)((uint64_t)cred % VERSION_MEMO);
	enum xapi_version v = XAPI_V2;

	pthread_mutex_lock(&version_memo_lock);
	if (version_memo[i].cred == cred && version_memo[i].v)
		v = version_memo[i].v;
	pthread_mutex_unlock(&version_memo_lock);
	return v;
}

static int
version_parse(const char *s, enum xapi_version *v)
{
	static const char *const v1[] = { "1.0.0", "1.0.1", "1.0.2", "1.0.3", NULL };

	if (!s || !*s)
		return TC_EINVALID;
	for (const char *const *p = v1; *p; p++)
		if (strcmp(*p, s) == 0) {
			*v = XAPI_V1;
			return 0;
		}
	if (strcmp(s, "2.0.0") == 0) {
		*v = XAPI_V2;
		return 0;
	}
	return TC_EINVALID;
}

/* ---- agents and parameters ---------------------------------------------------------- */

/* The agent= parameter: parsed, checked, its key. */
static int
agent_param(struct xreq *x, struct http_response *resp, const char *name, json_t **agent,
	    char *key, size_t keysize)
{
	const char *s = param(x, name);
	char err[300];
	json_error_t je;

	*agent = NULL;
	if (!s)
		return bad(resp, "the %s parameter is required", name), TC_EINVALID;
	*agent = json_loads(s, JSON_REJECT_DUPLICATES, &je);
	if (!*agent)
		return bad(resp, "%s: not JSON: %s", name, je.text), TC_EINVALID;
	if (xapi_agent_check(*agent, x->v, err, sizeof(err)) ||
	    xapi_agent_key(*agent, key, keysize)) {
		json_decref(*agent);
		*agent = NULL;
		return bad(resp, "%s: not an Agent or identified Group: %s", name, err), TC_EINVALID;
	}
	return 0;
}

/* Refuses parameters outside ALLOWED (NULL-terminated). */
static int
only_params(const struct xreq *x, struct http_response *resp, const char *const *allowed)
{
	for (int i = 0; i < x->nparams; i++) {
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			ok |= strcmp(*a, x->params[i].name) == 0;
		if (!ok)
			return bad(resp, "unknown parameter \"%s\" for this resource",
				   x->params[i].name), TC_EINVALID;
	}
	return 0;
}

static int
time_param(const struct xreq *x, struct http_response *resp, const char *name, int64_t *out)
{
	const char *s = param(x, name);
	char buf[64];

	*out = 0;
	if (!s)
		return 0;
	/* a '+' of a zone offset may have been decoded as a space */
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *p = buf; *p; p++)
		if (*p == ' ')
			*p = '+';
	if (strlen(s) >= sizeof(buf) || xapi_timestamp_parse(buf, out))
		return bad(resp, "%s: not an ISO 8601 timestamp", name), TC_EINVALID;
	return 0;
}

static int
bool_param(const struct xreq *x, struct http_response *resp, const char *name, int *out)
{
	const char *s = param(x, name);

	*out = 0;
	if (!s)
		return 0;
	if (strcmp(s, "true") == 0)
		*out = 1;
	else if (strcmp(s, "false") != 0)
		return bad(resp, "%s: must be true or false", name), TC_EINVALID;
	return 0;
}

static int
is_json_type(const char *ct)
{
	return ct && strncasecmp(ct, "application/json", 16) == 0 &&
	       (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

/* ---- multipart/mixed ---------------------------------------------------------------- */

struct xpart {
	char ctype[128];
	char hash[129];			/* X-Experience-API-Hash, lower case; "" none */
	const unsigned char *data;	/* into the request body */
	size_t len;
	int used;			/* named by an attachment of the statements */
};

struct xparts {
	struct xpart v[XAPI_PARTS_MAX];
	int n;
};

static const unsigned char *
mem_find(const unsigned char *h, size_t hl, const char *needle, size_t nl)
{
	return memmem(h, hl, needle, nl);
}

/* The boundary parameter of a multipart Content-Type (quotes removed). */
static int
multipart_boundary(const char *ct, char *out, size_t outsize)
{
	const char *p = ct;
	size_t n;

	for (; (p = strchr(p, ';')); p++) {
		const char *q = p + 1;
		while (*q == ' ' || *q == '\t')
			q++;
		if (strncasecmp(q, "boundary=", 9) != 0)
			continue;
		q += 9;
		if (*q == '"') {
			q++;
			n = strcspn(q, "\"");
		} else {
			n = strcspn(q, "; \t");
		}
		if (n == 0 || n > 70 || n >= outsize)
			return TC_EINVALID;
		memcpy(out, q, n);
		out[n] = '\0';
		return 0;
	}
	return TC_EINVALID;
}

/* Reads the header lines H (LEN bytes, CRLF-separated) of one part. */
static int
part_headers(const char *h, size_t len, struct xpart *p, char *err, size_t errlen)
{
	size_t i = 0;

	while (i < len) {
		const char *line = h + i, *colon, *v;
		const char *eol = memchr(line, '\r', len - i);
		size_t ll = eol ? (size_t)(eol - line) : len - i, vl, nl;

		i += ll + 2;
		if (ll == 0)
			continue;
		colon = memchr(line, ':', ll);
		if (!colon)
			return snprintf(err, errlen, "a part's header line has no ':'"), TC_EINVALID;
		nl = (size_t)(colon - line);
		v = colon + 1;
		vl = ll - nl - 1;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (nl == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
			if (vl >= sizeof(p->ctype))
				return snprintf(err, errlen, "a part's Content-Type is too long"),
				       TC_EINVALID;
			memcpy(p->ctype, v, vl);
			p->ctype[vl] = '\0';
		} else if (nl == 21 && strncasecmp(line, "X-Experience-API-Hash", 21) == 0) {
			if (vl == 0 || vl >= sizeof(p->hash))
				return snprintf(err, errlen, "a part's X-Experience-API-Hash is not"
						" a SHA-2 digest"), TC_EINVALID;
			for (size_t k = 0; k < vl; k++)
				p->hash[k] = (char)tolower((unsigned char)v[k]);
			p->hash[vl] = '\0';
		} else if (nl == 25 && strncasecmp(line, "Content-Transfer-Encoding", 25) == 0) {
			if (vl != 6 || strncasecmp(v, "binary", 6) != 0)
				return snprintf(err, errlen, "a part's Content-Transfer-Encoding must"
						" be binary"), TC_EINVALID;
		}
	}
	return 0;
}

/*
 * Splits the multipart/mixed BODY (content type CT) into OUT's parts: the
 * first is the statements (application/json), the others attachment data.
 */
static int
multipart_parse(const char *ct, const char *body, size_t len, struct xparts *out,
		char *err, size_t errlen)
{
	char boundary[72], delim[80];
	const unsigned char *b = (const unsigned char *)(body ? body : ""), *end = b + len, *p;
	size_t dl;

	out->n = 0;
	if (multipart_boundary(ct, boundary, sizeof(boundary)))
		return snprintf(err, errlen, "multipart/mixed needs a boundary parameter (1 to 70"
				" characters)"), TC_EINVALID;
	dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	/* the first delimiter may open the body (no CRLF before it) */
	if (len >= dl - 2 && memcmp(b, delim + 2, dl - 2) == 0)
		p = b + dl - 2;
	else if ((p = mem_find(b, len, delim, dl)))
		p += dl;
	else
		return snprintf(err, errlen, "the body has no multipart boundary"), TC_EINVALID;
	for (;;) {
		const unsigned char *hend, *next;
		struct xpart *part;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;		/* the closing delimiter */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return snprintf(err, errlen, "a multipart delimiter is not followed by"
					" CRLF"), TC_EINVALID;
		p += 2;
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			hend = p;	/* no header lines */
		} else {
			hend = mem_find(p, (size_t)(end - p), "\r\n\r\n", 4);
			if (!hend)
				return snprintf(err, errlen, "a part's headers do not end"), TC_EINVALID;
			hend += 2;
		}
		next = mem_find(hend + 2, (size_t)(end - hend - 2), delim, dl);
		if (!next)
			return snprintf(err, errlen, "the multipart body is not closed"), TC_EINVALID;
		if (out->n == XAPI_PARTS_MAX)
			return snprintf(err, errlen, "more than %d parts", XAPI_PARTS_MAX),
			       TC_EINVALID;
		part = &out->v[out->n++];
		memset(part, 0, sizeof(*part));
		if (part_headers((const char *)p, (size_t)(hend - p), part, err, errlen))
			return TC_EINVALID;
		part->data = hend + 2;
		part->len = (size_t)(next - part->data);
		p = next + dl;
	}
	if (out->n == 0)
		return snprintf(err, errlen, "the multipart body has no part"), TC_EINVALID;
	if (!is_json_type(out->v[0].ctype))
		return snprintf(err, errlen, "the first part must be the statements, as"
				" application/json"), TC_EINVALID;
	for (int i = 1; i < out->n; i++)
		if (!out->v[i].hash[0])
			return snprintf(err, errlen, "part %d has no X-Experience-API-Hash", i + 1),
			       TC_EINVALID;
	return 0;
}

/* 1 when DATA has the SHA-2 hex digest HEX (SHA-256, 384 or 512 by its
 * length); else 0. */
static int
sha2_matches(const unsigned char *data, size_t len, const char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	char got[2 * EVP_MAX_MD_SIZE + 1];
	size_t hl = strlen(hex);
	const EVP_MD *alg = hl == 64 ? EVP_sha256() : hl == 96 ? EVP_sha384()
			  : hl == 128 ? EVP_sha512() : NULL;
	unsigned int n = 0;

	if (!alg || !EVP_Digest(data, len, md, &n, alg, NULL))
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		got[2 * i] = digits[md[i] >> 4];
		got[2 * i + 1] = digits[md[i] & 15];
	}
	got[2 * n] = '\0';
	return strcasecmp(got, hex) == 0;
}

static struct xpart *
part_by_hash(struct xparts *parts, const char *sha2)
{
	for (int i = 1; parts && sha2 && i < parts->n; i++)
		if (strcasecmp(parts->v[i].hash, sha2) == 0)
			return &parts->v[i];
	return NULL;
}

/* ---- signed statements (Data 2.6) ----------------------------------------------------- */

/* A copy of statement S without its signature attachments. */
static json_t *
unsigned_copy(const json_t *s)
{
	json_t *c = json_deep_copy(s), *att = json_object_get(c, "attachments"), *a;
	size_t i;

	if (!c)
		return NULL;
	for (i = json_array_size(att); i-- > 0;) {
		a = json_array_get(att, i);
		if (json_is_string(json_object_get(a, "usageType")) &&
		    strcmp(json_string_value(json_object_get(a, "usageType")), SIGNATURE_USAGE) == 0)
			json_array_remove(att, i);
	}
	if (att && json_array_size(att) == 0)
		json_object_del(c, "attachments");
	return c;
}

/* Verifies the JWS signature SIG over INPUT with the key of the x5c
 * certificate CERT_B64 (standard base64 DER). */
static int
jws_verify_x5c(const char *cert_b64, const EVP_MD *md, const char *input,
	       const unsigned char *sig, size_t siglen)
{
	size_t cl = strlen(cert_b64), n = 0;
	unsigned char *der = malloc(cl + 1);
	const unsigned char *p = der;
	X509 *cert = NULL;
	EVP_MD_CTX *ctx = NULL;
	int ok = 0;

	if (der && b64_decode(cert_b64, der, cl + 1, &n) == 0 &&
	    (cert = d2i_X509(NULL, &p, (long)n)) && X509_get0_pubkey(cert) &&
	    EVP_PKEY_get_base_id(X509_get0_pubkey(cert)) == EVP_PKEY_RSA &&
	    (ctx = EVP_MD_CTX_new()) &&
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, X509_get0_pubkey(cert)) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)input, strlen(input)) == 1)
		ok = 1;
	EVP_MD_CTX_free(ctx);
	X509_free(cert);
	free(der);
	return ok;
}

/*
 * Checks the JWS (compact serialization, LEN bytes) of a signed statement
 * STMT as the spec asks: algorithm RS256, RS384 or RS512; the payload a
 * JSON statement that is the same as STMT without its signature; the
 * signature valid for the x5c certificate's key when the header has one.
 */
static int
jws_check(const unsigned char *jws, size_t len, const json_t *stmt, char *err, size_t errlen)
{
	char *text = NULL, *dot1, *dot2, *input = NULL;
	unsigned char *hdr_raw = NULL, *pay_raw = NULL, *sig = NULL;
	size_t hl = 0, pl = 0, sl = 0, n;
	json_t *hdr = NULL, *pay = NULL, *mine = NULL, *theirs = NULL, *x5c;
	const char *alg;
	const EVP_MD *md = NULL;
	int rc = TC_EINVALID, same;

	while (len && (jws[len - 1] == '\r' || jws[len - 1] == '\n' || jws[len - 1] == ' '))
		len--;
	if (len == 0 || len > XAPI_JWS_MAX || memchr(jws, '\0', len)) {
		snprintf(err, errlen, "the signature is not a JWS");
		return TC_EINVALID;
	}
	text = malloc(len + 1);
	input = malloc(len + 1);
	hdr_raw = malloc(len);
	pay_raw = malloc(len);
	sig = malloc(len);
	if (!text || !input || !hdr_raw || !pay_raw || !sig) {
		snprintf(err, errlen, "out of memory");
		rc = TC_ENOMEM;
		goto out;
	}
	memcpy(text, jws, len);
	text[len] = '\0';
	dot1 = strchr(text, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2 || strchr(dot2 + 1, '.') || dot1 == text || dot2 == dot1 + 1 || !dot2[1]) {
		snprintf(err, errlen, "the signature is not a JWS in compact serialization");
		goto out;
	}
	n = (size_t)(dot2 - text);
	memcpy(input, text, n);
	input[n] = '\0';
	*dot1 = *dot2 = '\0';
	if (b64url_decode(text, hdr_raw, len, &hl) || b64url_decode(dot1 + 1, pay_raw, len, &pl) ||
	    b64url_decode(dot2 + 1, sig, len, &sl)) {
		snprintf(err, errlen, "the JWS is not base64url");
		goto out;
	}
	hdr = json_loadb((const char *)hdr_raw, hl, 0, NULL);
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (alg && strcmp(alg, "RS256") == 0)
		md = EVP_sha256();
	else if (alg && strcmp(alg, "RS384") == 0)
		md = EVP_sha384();
	else if (alg && strcmp(alg, "RS512") == 0)
		md = EVP_sha512();
	if (!md) {
		snprintf(err, errlen, "the JWS algorithm must be RS256, RS384 or RS512");
		goto out;
	}
	pay = json_loadb((const char *)pay_raw, pl, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(pay)) {
		snprintf(err, errlen, "the JWS payload is not a JSON statement");
		goto out;
	}
	mine = unsigned_copy(stmt);
	theirs = unsigned_copy(pay);
	same = mine && theirs && xapi_statement_same(mine, theirs);
	if (!same) {
		snprintf(err, errlen, "the JWS payload is not this statement");
		goto out;
	}
	x5c = json_array_get(json_object_get(hdr, "x5c"), 0);
	if (x5c && (!json_is_string(x5c) ||
		    !jws_verify_x5c(json_string_value(x5c), md, input, sig, sl))) {
		snprintf(err, errlen, "the JWS signature does not verify with its x5c certificate");
		goto out;
	}
	rc = 0;
out:
	json_decref(hdr);
	json_decref(pay);
	json_decref(mine);
	json_decref(theirs);
	free(text);
	free(input);
	free(hdr_raw);
	free(pay_raw);
	free(sig);
	return rc;
}

/*
 * The attachments of statement S (number I) against the request's PARTS
 * (NULL: application/json, no data): every attachment without a fileUrl
 * has its part, whose bytes have the attachment's sha2; a signature is an
 * application/octet-stream part holding a JWS of the statement.
 */
static int
check_attachments(const json_t *s, size_t i, struct xparts *parts, struct http_response *resp)
{
	json_t *a;
	size_t k;
	char err[300];

	json_array_foreach(json_object_get(s, "attachments"), k, a) {
		const char *sha2 = json_string_value(json_object_get(a, "sha2"));
		const char *usage = json_string_value(json_object_get(a, "usageType"));
		const char *ct = json_string_value(json_object_get(a, "contentType"));
		int is_sig = usage && strcmp(usage, SIGNATURE_USAGE) == 0;
		struct xpart *p = part_by_hash(parts, sha2);

		if (!parts && !json_object_get(a, "fileUrl"))
			return bad(resp, "statement %zu: attachments[%zu]: no fileUrl, so its data"
				   " must come in a multipart/mixed request", i, k), TC_EINVALID;
		if (is_sig && (!ct || strcasecmp(ct, "application/octet-stream") != 0))
			return bad(resp, "statement %zu: attachments[%zu]: a signature's contentType"
				   " must be application/octet-stream", i, k), TC_EINVALID;
		if (!p && (is_sig || !json_object_get(a, "fileUrl")))
			return bad(resp, "statement %zu: attachments[%zu]: no part has"
				   " X-Experience-API-Hash %s", i, k, sha2 ? sha2 : ""), TC_EINVALID;
		if (!p)
			continue;
		if (!p->used && !sha2_matches(p->data, p->len, p->hash))
			return bad(resp, "the part with X-Experience-API-Hash %s does not have that"
				   " SHA-2 digest", p->hash), TC_EINVALID;
		p->used = 1;
		if (is_sig && jws_check(p->data, p->len, s, err, sizeof(err)))
			return bad(resp, "statement %zu: attachments[%zu]: %s", i, k, err),
			       TC_EINVALID;
	}
	return 0;
}

/* ---- statements: storing ------------------------------------------------------------ */

struct refs {
	struct xapi_ref *v;
	char **owned;
	size_t n, cap;
};

static int
refs_add(struct refs *r, const char *key, enum xapi_role role, int copy)
{
	size_t capv = r->cap, capo = r->cap;

	/* the two arrays share R->cap: it grows once both have */
	if (GROW(&r->v, &capv, r->n + 1, 8) || GROW(&r->owned, &capo, r->n + 1, 8))
		return TC_ENOMEM;
	r->cap = capv;
	r->owned[r->n] = copy ? strdup(key) : NULL;
	if (copy && !r->owned[r->n])
		return TC_ENOMEM;
	r->v[r->n].key = copy ? r->owned[r->n] : key;
	r->v[r->n].role = role;
	r->n++;
	return 0;
}

static void
refs_free(struct refs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->owned[i]);
	free(r->owned);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static int
agent_refs(struct refs *r, const json_t *a, enum xapi_role role)
{
	char key[AGENT_KEY_MAX];
	json_t *m;
	size_t i;
	int rc = 0;

	if (!json_is_object(a))
		return 0;
	if (xapi_agent_key(a, key, sizeof(key)) == 0)
		rc = refs_add(r, key, role, 1);
	json_array_foreach(json_object_get(a, "member"), i, m)
		if (rc == 0)
			rc = agent_refs(r, m, XAPI_ROLE_RELATED);
	return rc;
}

static int
context_refs(struct refs *ag, struct refs *ac, const json_t *c)
{
	json_t *ca = json_object_get(c, "contextActivities"), *v, *x;
	const char *k;
	size_t i;
	int rc = 0;

	if (!json_is_object(c))
		return 0;
	rc = agent_refs(ag, json_object_get(c, "instructor"), XAPI_ROLE_RELATED);
	if (rc == 0)
		rc = agent_refs(ag, json_object_get(c, "team"), XAPI_ROLE_RELATED);
	json_array_foreach(json_object_get(c, "contextAgents"), i, x)
		if (rc == 0)
			rc = agent_refs(ag, json_object_get(x, "agent"), XAPI_ROLE_RELATED);
	json_array_foreach(json_object_get(c, "contextGroups"), i, x)
		if (rc == 0)
			rc = agent_refs(ag, json_object_get(x, "group"), XAPI_ROLE_RELATED);
	json_object_foreach(ca, k, v) {
		if (json_is_object(v)) {
			if (rc == 0 && json_string_value(json_object_get(v, "id")))
				rc = refs_add(ac, json_string_value(json_object_get(v, "id")),
					      XAPI_ROLE_RELATED, 0);
			continue;
		}
		json_array_foreach(v, i, x)
			if (rc == 0 && json_string_value(json_object_get(x, "id")))
				rc = refs_add(ac, json_string_value(json_object_get(x, "id")),
					      XAPI_ROLE_RELATED, 0);
	}
	return rc;
}

/* The agent and activity keys of a statement (or SubStatement: SUB). */
static int
statement_refs(struct refs *ag, struct refs *ac, const json_t *s, int sub)
{
	const json_t *obj = json_object_get(s, "object");
	const char *ot = json_string_value(json_object_get(obj, "objectType"));
	int rc = agent_refs(ag, json_object_get(s, "actor"), sub ? XAPI_ROLE_RELATED : XAPI_ROLE_ACTOR);

	if (rc == 0 && !sub)
		rc = agent_refs(ag, json_object_get(s, "authority"), XAPI_ROLE_RELATED);
	if (rc)
		return rc;
	if (!ot || strcmp(ot, "Activity") == 0)
		rc = refs_add(ac, json_string_value(json_object_get(obj, "id")),
			      sub ? XAPI_ROLE_RELATED : XAPI_ROLE_OBJECT, 0);
	else if (strcmp(ot, "Agent") == 0 || strcmp(ot, "Group") == 0)
		rc = agent_refs(ag, obj, sub ? XAPI_ROLE_RELATED : XAPI_ROLE_OBJECT);
	else if (strcmp(ot, "SubStatement") == 0)
		rc = statement_refs(ag, ac, obj, 1);
	if (rc == 0)
		rc = context_refs(ag, ac, json_object_get(s, "context"));
	return rc;
}

/* Merges the definition of activity A into what the store knows. */
static int
activity_learn(struct store *st, int64_t inst, const json_t *a)
{
	const char *id = json_string_value(json_object_get(a, "id"));
	json_t *def = json_object_get(a, "definition"), *old = NULL, *v;
	char *text = NULL;
	const char *k;
	int rc;

	if (!id || !json_is_object(def))
		return 0;
	rc = store_xapi_activity_get(st, inst, id, &text);
	if (rc && rc != TC_ENOTFOUND)
		return rc;
	old = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!json_is_object(old)) {
		json_decref(old);
		old = json_object();
		if (!old)
			return TC_ENOMEM;
	}
	json_object_foreach(def, k, v) {
		json_t *o = json_object_get(old, k);
		if (json_is_object(v) && json_is_object(o) &&
		    (strcmp(k, "name") == 0 || strcmp(k, "description") == 0))
			json_object_update(o, v);	/* language maps: add languages */
		else
			json_object_set(old, k, v);
	}
	text = json_dumps(old, JSON_COMPACT);
	json_decref(old);
	if (!text)
		return TC_ENOMEM;
	rc = store_xapi_activity_put(st, inst, id, text);
	free(text);
	return rc;
}

static int
activities_learn(struct store *st, int64_t inst, const json_t *s)
{
	const json_t *obj = json_object_get(s, "object"), *ca, *v, *x;
	const char *ot = json_string_value(json_object_get(obj, "objectType")), *k;
	size_t i;
	int rc = 0;

	if (!ot || strcmp(ot, "Activity") == 0)
		rc = activity_learn(st, inst, obj);
	else if (strcmp(ot, "SubStatement") == 0)
		rc = activities_learn(st, inst, obj);
	ca = json_object_get(json_object_get(s, "context"), "contextActivities");
	json_object_foreach((json_t *)ca, k, v) {
		if (json_is_object(v)) {
			if (rc == 0)
				rc = activity_learn(st, inst, v);
			continue;
		}
		json_array_foreach(v, i, x)
			if (rc == 0)
				rc = activity_learn(st, inst, x);
	}
	return rc;
}

/* A single context activity becomes an array of one (the stored form). */
static int
context_arrays(json_t *s)
{
	json_t *ca = json_object_get(json_object_get(s, "context"), "contextActivities"), *v;
	json_t *obj = json_object_get(s, "object");
	const char *k, *ot = json_string_value(json_object_get(obj, "objectType"));
	void *tmp;

	json_object_foreach_safe(ca, tmp, k, v)
		if (json_is_object(v) && json_object_set_new(ca, k, json_pack("[O]", v)))
			return TC_ENOMEM;
	return ot && strcmp(ot, "SubStatement") == 0 ? context_arrays(obj) : 0;
}

/*
 * Completes statement S (a new reference of ours) for storing: id (lower
 * case), stored, timestamp, version, authority, context activities as
 * arrays.
 */
static int
complete_statement(struct app *app, json_t *s, const struct lrs_credential *cred,
		   enum xapi_version v, int64_t stored_us)
{
	char id[37], stamp[80], home[600];
	const char *given = json_string_value(json_object_get(s, "id"));
	json_t *auth;

	if (context_arrays(s))
		return TC_ENOMEM;
	if (given) {
		for (int i = 0; i < 36; i++)
			id[i] = (char)tolower((unsigned char)given[i]);
		id[36] = '\0';
	} else if (uuid_v4(id)) {
		return TC_EIO;
	}
	iso_time_us(stored_us, stamp);
	lrs_home_page(app, home, sizeof(home));
	auth = json_pack("{s:s, s:{s:s, s:s}}", "objectType", "Agent", "account",
			 "homePage", home, "name", cred ? cred->key : "tinchi");
	if (!auth || json_object_set_new(s, "id", json_string(id)) ||
	    json_object_set_new(s, "stored", json_string(stamp)) ||
	    (!json_object_get(s, "timestamp") &&
	     json_object_set_new(s, "timestamp", json_string(stamp))) ||
	    (!json_object_get(s, "version") &&
	     json_object_set_new(s, "version", json_string(v == XAPI_V2 ? "2.0.0" : "1.0.0"))) ||
	    json_object_set_new(s, "authority", auth))
		return TC_ENOMEM;
	return 0;
}

/*
 * Stores the statements of ARR (checked and completed) in one
 * transaction. Each one whose id exists already with the same content is
 * skipped; other content: TC_ECONFLICT with CONFLICT_ID set.
 */
static int
store_statements(struct store *st, int own, int64_t inst, int64_t cred_id, json_t *arr,
		 const json_t *sent, int64_t stored_us, char *conflict_id,
		 const struct xparts *parts)
{
	size_t i;
	json_t *s;
	char *text = NULL, *old = NULL;
	int rc = own ? store_begin(st) : 0;

	if (rc)
		return rc;
	json_array_foreach(arr, i, s) {
		struct refs ag = { 0 }, ac = { 0 };
		const char *id = json_string_value(json_object_get(s, "id"));
		const char *ts = json_string_value(json_object_get(s, "timestamp"));
		const json_t *ctx = json_object_get(s, "context"), *obj = json_object_get(s, "object");
		const char *verb = json_string_value(json_object_get(json_object_get(s, "verb"), "id"));
		struct xapi_statement_row row = {
			.statement_id = id, .institution_id = inst, .credential_id = cred_id,
			.stored_us = stored_us, .verb_id = verb,
			.registration = json_string_value(json_object_get(ctx, "registration")),
		};
		char reg[37], target[37];
		const char *ot = json_string_value(json_object_get(obj, "objectType"));

		rc = store_xapi_statement_get(st, inst, id, &old, NULL, NULL, NULL);
		if (rc == 0) {
			json_t *prev = json_loads(old, 0, NULL), *orig = json_array_get(sent, i);
			int same;

			/* a timestamp the LRS filled in is not part of what was sent */
			if (prev && !json_object_get(orig, "timestamp"))
				json_object_del(prev, "timestamp");
			same = prev && xapi_statement_same(prev, orig);
			json_decref(prev);
			free(old);
			old = NULL;
			if (!same) {
				snprintf(conflict_id, 37, "%s", id);
				rc = TC_ECONFLICT;
				break;
			}
			continue;
		}
		if (rc != TC_ENOTFOUND)
			break;
		if (row.registration) {
			for (int k = 0; k < 36 && row.registration[k]; k++)
				reg[k] = (char)tolower((unsigned char)row.registration[k]);
			reg[36] = '\0';
			row.registration = reg;
		}
		if (ot && strcmp(ot, "StatementRef") == 0) {
			const char *t = json_string_value(json_object_get(obj, "id"));
			for (int k = 0; k < 36 && t && t[k]; k++)
				target[k] = (char)tolower((unsigned char)t[k]);
			target[36] = '\0';
			row.ref_target = target;
		}
		/* the target as stored: ids are kept in lower case, and SQL compares
		 * them exactly (an upper-case reference voided nothing) */
		if (strcmp(verb, VOIDED_VERB) == 0)
			row.voids = row.ref_target ? row.ref_target
				    : json_string_value(json_object_get(obj, "id"));
		if (xapi_timestamp_parse(ts, &row.timestamp_us))
			row.timestamp_us = stored_us;
		text = json_dumps(s, JSON_COMPACT);
		rc = text ? statement_refs(&ag, &ac, s, 0) : TC_ENOMEM;
		row.json = text;
		row.agents = ag.v;
		row.nagents = ag.n;
		row.activities = ac.v;
		row.nactivities = ac.n;
		if (rc == 0)
			rc = store_xapi_statement_add(st, &row);
		if (rc == 0)
			rc = activities_learn(st, inst, s);
		refs_free(&ag);
		refs_free(&ac);
		free(text);
		text = NULL;
		if (rc)
			break;
	}
	for (int p = 1; rc == 0 && parts && p < parts->n; p++)
		rc = store_xapi_attachment_put(st, inst, parts->v[p].hash,
					       parts->v[p].ctype[0] ? parts->v[p].ctype
								    : "application/octet-stream",
					       parts->v[p].data, parts->v[p].len);
	if (rc == 0 && own)
		rc = store_commit(st);
	if (rc && own)
		store_rollback(st);
	return rc;
}

/*
 * Checks and completes every statement of ARR (an array of new
 * references). On failure RESP holds the 400 and non-zero is returned.
 */
static int
prepare_statements(struct app *app, struct xreq *x, json_t *arr, int64_t stored_us,
		   struct http_response *resp, const char *put_id, struct xparts *parts)
{
	char err[400], tid[37];
	size_t i, j;
	json_t *s;

	json_array_foreach(arr, i, s) {
		json_t *obj = json_object_get(s, "object");
		const char *verb;

		if (xapi_statement_check(s, x->v, err, sizeof(err)))
			return bad(resp, "statement %zu: %s", i, err), TC_EINVALID;
		if (check_attachments(s, i, parts, resp))
			return TC_EINVALID;
		if (put_id) {
			const char *given = json_string_value(json_object_get(s, "id"));
			if (given && strcasecmp(given, put_id) != 0)
				return bad(resp, "the statement's id differs from statementId"), TC_EINVALID;
			json_object_set_new(s, "id", json_string(put_id));
		}
		verb = json_string_value(json_object_get(json_object_get(s, "verb"), "id"));
		if (verb && strcmp(verb, VOIDED_VERB) == 0) {
			const char *ot = json_string_value(json_object_get(obj, "objectType"));
			const char *target = json_string_value(json_object_get(obj, "id"));
			int is_voiding = 0;

			if (!ot || strcmp(ot, "StatementRef") != 0)
				return bad(resp, "statement %zu: a voiding statement's object must be"
					   " a StatementRef", i), TC_EINVALID;
			for (int c = 0; c < 36; c++)
				tid[c] = (char)tolower((unsigned char)target[c]);
			tid[36] = '\0';
			if (store_xapi_statement_get(app->store, x->cred.institution_id, tid, NULL,
						     NULL, &is_voiding, NULL) == 0 && is_voiding)
				return bad(resp, "statement %zu: a voiding statement cannot void"
					   " another voiding statement", i), TC_EINVALID;
		}
		if (complete_statement(app, s, &x->cred, x->v, stored_us))
			return problem_respond_err(resp, TC_ENOMEM, NULL), TC_ENOMEM;
	}
	for (int p = 1; parts && p < parts->n; p++)
		if (!parts->v[p].used)
			return bad(resp, "part %d (X-Experience-API-Hash %s) is no attachment of the"
				   " statements", p + 1, parts->v[p].hash), TC_EINVALID;
	json_array_foreach(arr, i, s)
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_object_get(s, "id")),
				   json_string_value(json_object_get(json_array_get(arr, j), "id"))) == 0)
				return bad(resp, "statements %zu and %zu have the same id", j, i),
				       TC_EINVALID;
	/* a void of a statement of the same request would run before that
	 * statement is stored (and so void nothing), or void a voiding one */
	json_array_foreach(arr, i, s) {
		const char *verb = json_string_value(json_object_get(json_object_get(s, "verb"), "id"));
		const char *target = json_string_value(json_object_get(json_object_get(s, "object"), "id"));

		if (!verb || strcmp(verb, VOIDED_VERB) != 0 || !target)
			continue;
		for (j = 0; j < json_array_size(arr); j++)
			if (j != i && strcasecmp(target, json_string_value(json_object_get(
						 json_array_get(arr, j), "id"))) == 0)
				return bad(resp, "statement %zu voids statement %zu of the same request;"
					   " send the voiding statement in a later request", i, j),
				       TC_EINVALID;
	}
	return 0;
}

/* Stores the statements of BODY (JSON) with the attachment data of PARTS
 * (NULL: none). */
static int
statements_store_body(struct app *app, struct xreq *x, struct http_response *resp,
		      const char *put_id, const char *body, size_t body_len,
		      struct xparts *parts)
{
	json_t *in = NULL, *arr = NULL, *ids = NULL, *s, *sent = NULL;
	json_error_t je;
	char conflict[37] = "";
	int64_t stored = now_us();
	size_t i;
	int rc;

	in = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &je);
	if (!in)
		return bad(resp, "the body is not JSON: %s (line %d)", je.text, je.line);
	if (put_id) {
		if (!json_is_object(in)) {
			json_decref(in);
			return bad(resp, "PUT takes one statement (a JSON object)");
		}
		arr = json_pack("[O]", in);
	} else if (json_is_array(in)) {
		arr = json_deep_copy(in);
	} else {
		arr = json_pack("[O]", in);
	}
	json_decref(in);
	/* our own copies: the checks see the statement as sent */
	if (arr) {
		json_t *copy = json_deep_copy(arr);
		json_decref(arr);
		arr = copy;
	}
	if (!arr)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (json_array_size(arr) == 0 || json_array_size(arr) > XAPI_BATCH_MAX) {
		json_decref(arr);
		return bad(resp, "send from 1 to %d statements", XAPI_BATCH_MAX);
	}
	sent = json_deep_copy(arr);
	json_array_foreach(sent, i, s)
		if (context_arrays(s)) {
			json_decref(sent);
			sent = NULL;
			break;
		}
	if (!sent || prepare_statements(app, x, arr, stored, resp, put_id, parts)) {
		if (!sent)
			problem_respond_err(resp, TC_ENOMEM, NULL);
		json_decref(arr);
		json_decref(sent);
		return 0;
	}
	rc = store_statements(app->store, 1, x->cred.institution_id, x->cred.id, arr, sent, stored, conflict,
			      parts);
	json_decref(sent);
	if (rc == TC_ECONFLICT) {
		char d[160];
		snprintf(d, sizeof(d), "statement %s exists with other content", conflict);
		problem_respond(resp, 409, NULL, d);
	} else if (rc) {
		problem_respond_err(resp, rc, "the statements were not stored");
	} else if (put_id) {
		resp->status = 204;
	} else {
		ids = json_array();
		json_array_foreach(arr, i, s)
			json_array_append(ids, json_object_get(s, "id"));
		api_reply_json(resp, 200, ids);
	}
	json_decref(arr);
	return 0;
}

static int
statements_write(struct app *app, struct xreq *x, struct http_response *resp,
		 const char *put_id)
{
	struct xparts *parts;
	char err[200];

	if (!x->content_type || strncasecmp(x->content_type, "multipart/mixed", 15) != 0) {
		if (!is_json_type(x->content_type))
			return bad(resp, "send statements as application/json, or multipart/mixed"
				   " with attachment data");
		return statements_store_body(app, x, resp, put_id, x->body ? x->body : "",
					     x->body_len, NULL);
	}
	parts = malloc(sizeof(*parts));
	if (!parts)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	if (multipart_parse(x->content_type, x->body, x->body_len, parts, err, sizeof(err)))
		bad(resp, "multipart/mixed: %s", err);
	else
		statements_store_body(app, x, resp, put_id, (const char *)parts->v[0].data,
				      parts->v[0].len, parts);
	free(parts);
	return 0;
}

/* ---- statements: reading ------------------------------------------------------------ */

struct result_acc {
	json_t *list;
	enum xapi_format fmt;
	const char *langs;
	int64_t last_cursor, newest_us;
	int64_t limit;		/* statements given; the one after only says "more" */
	int n;
};

static int
add_result(const char *text, int64_t cursor, int64_t stored_us, void *arg)
{
	struct result_acc *a = arg;
	json_t *s = json_loads(text, 0, NULL), *f;

	if (!s)
		return TC_EDB;
	f = xapi_statement_format(s, a->fmt, a->langs);
	json_decref(s);
	if (!f || json_array_append_new(a->list, f))
		return TC_ENOMEM;
	if (a->n < a->limit)
		a->last_cursor = cursor;
	if (stored_us > a->newest_us)
		a->newest_us = stored_us;
	a->n++;
	return 0;
}

static int
format_param(const struct xreq *x, struct http_response *resp, enum xapi_format *f)
{
	const char *s = param(x, "format");

	*f = XAPI_FMT_EXACT;
	if (!s || strcmp(s, "exact") == 0)
		return 0;
	if (strcmp(s, "ids") == 0)
		*f = XAPI_FMT_IDS;
	else if (strcmp(s, "canonical") == 0)
		*f = XAPI_FMT_CANONICAL;
	else
		return bad(resp, "format: must be exact, ids or canonical"), TC_EINVALID;
	return 0;
}

static void
consistent_through(struct http_response *resp)
{
	char t[80];

	iso_time_us(now_us(), t);
	http_response_header(resp, "x-experience-api-consistent-through", t);
}

/* Adds the sha2 of every attachment of statement S (and of its
 * SubStatement) to the set HASHES (an object: lower-case digest -> true). */
static int
attachment_hashes(const json_t *s, json_t *hashes)
{
	const json_t *obj = json_object_get(s, "object"), *a;
	const char *ot = json_string_value(json_object_get(obj, "objectType"));
	char h[129];
	size_t i;

	json_array_foreach(json_object_get(s, "attachments"), i, a) {
		const char *sha2 = json_string_value(json_object_get(a, "sha2"));
		size_t n = sha2 ? strlen(sha2) : 0;
		if (n == 0 || n >= sizeof(h))
			continue;
		for (size_t k = 0; k <= n; k++)
			h[k] = (char)tolower((unsigned char)sha2[k]);
		if (json_object_set_new(hashes, h, json_true()))
			return TC_ENOMEM;
	}
	return ot && strcmp(ot, "SubStatement") == 0 ? attachment_hashes(obj, hashes) : 0;
}

/*
 * Turns the JSON answer in RESP into multipart/mixed (attachments=true):
 * the statements first, then the data the LRS holds for each digest of
 * HASHES, one part each. Digests of attachments given by fileUrl alone
 * have no data here and no part.
 */
static int
as_multipart(struct app *app, int64_t inst, struct http_response *resp, const json_t *hashes)
{
	static const char boundary[] = "tinchi-xapi-7d1c0b3f9e2a";
	struct dynbuf b;
	const char *h;
	json_t *v;
	int rc;

	dynbuf_init(&b, resp->body.cap ? resp->body.cap : (size_t)64 << 20);
	rc = dynbuf_printf(&b, "--%s\r\nContent-Type: application/json\r\n\r\n", boundary);
	if (rc == 0)
		rc = dynbuf_append(&b, resp->body.data ? resp->body.data : "", resp->body.len);
	json_object_foreach((json_t *)hashes, h, v) {
		char ct[128];
		unsigned char *data = NULL;
		size_t len = 0;
		int grc;

		if (rc)
			break;
		grc = store_xapi_attachment_get(app->store, inst, h, ct, sizeof(ct), &data, &len);
		if (grc == TC_ENOTFOUND)
			continue;
		rc = grc;
		if (rc == 0)
			rc = dynbuf_printf(&b, "\r\n--%s\r\nContent-Type: %s\r\n"
					   "Content-Transfer-Encoding: binary\r\n"
					   "X-Experience-API-Hash: %s\r\n\r\n", boundary, ct, h);
		if (rc == 0 && len)
			rc = dynbuf_append(&b, data, len);
		free(data);
	}
	if (rc == 0)
		rc = dynbuf_printf(&b, "\r\n--%s--\r\n", boundary);
	if (rc) {
		dynbuf_cleanup(&b);
		return problem_respond_err(resp, rc, "the attachments could not be sent"), rc;
	}
	dynbuf_cleanup(&resp->body);
	resp->body = b;
	resp->content_type = "multipart/mixed; boundary=tinchi-xapi-7d1c0b3f9e2a";
	return 0;
}

static int
url_encode(struct dynbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			rc = dynbuf_append(b, p, 1);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			rc = dynbuf_append(b, e, 3);
		}
	}
	return rc;
}

static int
statement_single(struct app *app, struct xreq *x, struct http_response *resp,
		 const char *id, int want_voided, const char *langs)
{
	static const char *const allowed[] = { "statementId", "voidedStatementId", "format",
					       "attachments", NULL };
	char *text = NULL, lid[37], date[40];
	int voided = 0, attachments = 0, rc;
	int64_t stored = 0;
	enum xapi_format f;
	json_t *s, *out, *hashes;

	if (only_params(x, resp, allowed) || format_param(x, resp, &f) ||
	    bool_param(x, resp, "attachments", &attachments))
		return 0;
	if (param(x, "statementId") && param(x, "voidedStatementId"))
		return bad(resp, "give statementId or voidedStatementId, not both");
	if (!xapi_uuid_valid(id))
		return bad(resp, "%s: not a UUID", want_voided ? "voidedStatementId" : "statementId");
	for (int i = 0; i < 37; i++)
		lid[i] = (char)tolower((unsigned char)id[i]);
	rc = store_xapi_statement_get(app->store, x->cred.institution_id, lid, &text, &voided,
				      NULL, &stored);
	if (rc == 0 && voided != want_voided) {
		free(text);
		rc = TC_ENOTFOUND;
	}
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, want_voided ? "no such voided statement"
				       : "no such statement (voided ones: voidedStatementId)");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	s = json_loads(text, 0, NULL);
	free(text);
	out = s ? xapi_statement_format(s, f, langs) : NULL;
	json_decref(s);
	if (!out)
		return problem_respond_err(resp, TC_EDB, "a stored statement could not be read");
	hashes = attachments ? json_object() : NULL;
	if (attachments && (!hashes || attachment_hashes(out, hashes))) {
		json_decref(hashes);
		json_decref(out);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	if (api_reply_json(resp, 200, out) == 0) {
		http_date(stored, date);
		http_response_header(resp, "last-modified", date);
		if (attachments)
			as_multipart(app, x->cred.institution_id, resp, hashes);
	}
	json_decref(hashes);
	return 0;
}

static int
statements_read(struct app *app, struct xreq *x, struct http_response *resp,
		const struct http_request *req)
{
	static const char *const allowed[] = { "agent", "verb", "activity", "registration",
		"related_activities", "related_agents", "since", "until", "limit", "format",
		"attachments", "ascending", "cursor", NULL };
	static const char *const keep[] = { "agent", "verb", "activity", "registration",
		"related_activities", "related_agents", "since", "until", "limit", "format",
		"attachments", "ascending", NULL };
	struct xapi_query q = { .institution_id = x->cred.institution_id };
	struct result_acc acc = { 0 };
	char key[AGENT_KEY_MAX], reg[37], date[40];
	json_t *agent = NULL, *o, *hashes;
	struct dynbuf more;
	size_t i;
	const char *s;
	int attachments = 0, rc;
	int64_t limit = 0;

	if (param(x, "statementId"))
		return statement_single(app, x, resp, param(x, "statementId"), 0,
					req->accept_language);
	if (param(x, "voidedStatementId"))
		return statement_single(app, x, resp, param(x, "voidedStatementId"), 1,
					req->accept_language);
	if (only_params(x, resp, allowed) || format_param(x, resp, &acc.fmt) ||
	    bool_param(x, resp, "attachments", &attachments) ||
	    bool_param(x, resp, "ascending", &q.ascending) ||
	    bool_param(x, resp, "related_agents", &q.related_agents) ||
	    bool_param(x, resp, "related_activities", &q.related_activities) ||
	    time_param(x, resp, "since", &q.since_us) || time_param(x, resp, "until", &q.until_us))
		return 0;
	if (param(x, "agent")) {
		if (agent_param(x, resp, "agent", &agent, key, sizeof(key)))
			return 0;
		json_decref(agent);
		q.agent = key;
	}
	if ((s = param(x, "verb")) && !*s)
		return bad(resp, "verb: must be an IRI");
	q.verb = s;
	if ((s = param(x, "activity")) && !*s)
		return bad(resp, "activity: must be an IRI");
	q.activity = s;
	if ((s = param(x, "registration"))) {
		if (!xapi_uuid_valid(s))
			return bad(resp, "registration: not a UUID");
		for (int i = 0; i < 37; i++)
			reg[i] = (char)tolower((unsigned char)s[i]);
		q.registration = reg;
	}
	if ((s = param(x, "limit"))) {
		char *end;
		limit = strtoll(s, &end, 10);
		if (!*s || *end || limit < 0)
			return bad(resp, "limit: must be a whole number, 0 or more");
	}
	if (limit == 0 || limit > XAPI_LIMIT_MAX)
		limit = XAPI_LIMIT_MAX;
	q.limit = (int)limit + 1;	/* one more tells whether there is more */
	if ((s = param(x, "cursor"))) {
		char *end;
		q.after = strtoll(s, &end, 10);
		if (!*s || *end || q.after <= 0)
			return bad(resp, "cursor: not one this LRS gave");
	}
	acc.limit = limit;
	acc.langs = req->accept_language;
	acc.list = json_array();
	if (!acc.list)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	rc = store_xapi_statements_query(app->store, &q, add_result, &acc);
	if (rc) {
		json_decref(acc.list);
		return problem_respond_err(resp, rc, "the statements could not be read");
	}
	dynbuf_init(&more, 8192);
	if (acc.n > limit) {
		/* the cursor is the row of the last statement given */
		json_array_remove(acc.list, json_array_size(acc.list) - 1);
		rc = dynbuf_puts(&more, "/xapi/statements?");
		for (const char *const *k = keep; *k && rc == 0; k++)
			if ((s = param(x, *k)) && rc == 0) {
				rc = dynbuf_printf(&more, "%s=", *k);
				if (rc == 0)
					rc = url_encode(&more, s);
				if (rc == 0)
					rc = dynbuf_puts(&more, "&");
			}
		if (rc == 0)
			rc = dynbuf_printf(&more, "cursor=%" PRId64, acc.last_cursor);
	}
	hashes = attachments ? json_object() : NULL;
	json_array_foreach(acc.list, i, o)
		if (hashes && attachment_hashes(o, hashes)) {
			json_decref(hashes);
			hashes = NULL;
			break;
		}
	if (attachments && !hashes) {
		json_decref(acc.list);
		dynbuf_cleanup(&more);
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	}
	o = json_pack("{s:o, s:s}", "statements", acc.list, "more", dynbuf_str(&more));
	dynbuf_cleanup(&more);
	if (api_reply_json(resp, 200, o) == 0) {
		http_date(acc.newest_us ? acc.newest_us : now_us(), date);
		http_response_header(resp, "last-modified", date);
		if (attachments)
			as_multipart(app, x->cred.institution_id, resp, hashes);
	}
	json_decref(hashes);
	return 0;
}

/* ---- documents ------------------------------------------------------------------------ */

static void
etag_of(const void *body, size_t len, char out[44])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";

	EVP_Digest(body ? body : "", len, md, &n, EVP_sha1(), NULL);
	out[0] = '"';
	for (unsigned int i = 0; i < n && i < 20; i++) {
		out[1 + 2 * i] = hex[md[i] >> 4];
		out[2 + 2 * i] = hex[md[i] & 15];
	}
	out[41] = '"';
	out[42] = '\0';
}

/* 1 when the If-Match / If-None-Match list HDR names ETAG (or is "*"). */
static int
etag_listed(const char *hdr, const char *etag)
{
	size_t el = strlen(etag);

	for (const char *p = hdr; p && *p;) {
		size_t n;
		while (*p == ' ' || *p == ',')
			p++;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		n = strcspn(p, ",");
		while (n && p[n - 1] == ' ')
			n--;
		if ((n == 1 && *p == '*') || (n == el && strncmp(p, etag, n) == 0) ||
		    (n == el - 2 && strncmp(p, etag + 1, n) == 0))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

/* Checks If-Match / If-None-Match against the document (EXISTS, ETAG);
 * non-zero with 412 in RESP when a precondition fails. */
static int
preconditions(const struct xreq *x, struct http_response *resp, int exists, const char *etag)
{
	if (x->if_match && *x->if_match && (!exists || !etag_listed(x->if_match, etag)))
		return problem_respond(resp, 412, NULL, "If-Match does not match the document"), 1;
	if (x->if_none_match && *x->if_none_match && exists &&
	    etag_listed(x->if_none_match, etag))
		return problem_respond(resp, 412, NULL, "If-None-Match: the document exists"), 1;
	return 0;
}

struct doc_req {
	struct xapi_doc_key k;
	char agent_key[AGENT_KEY_MAX];
	char reg[37];
	const char *id_param;		/* "stateId" / "profileId" */
};

/* Fills D from the parameters of a document resource; 400 in RESP on a
 * problem. */
static int
doc_params(struct xreq *x, struct http_response *resp, enum xapi_doc_kind kind,
	   struct doc_req *d)
{
	static const char *const state_p[] = { "activityId", "agent", "registration", "stateId",
					       "since", NULL };
	static const char *const aprof_p[] = { "activityId", "profileId", "since", NULL };
	static const char *const gprof_p[] = { "agent", "profileId", "since", NULL };
	const char *s;
	json_t *agent = NULL;

	memset(d, 0, sizeof(*d));
	d->k.institution_id = x->cred.institution_id;
	d->k.kind = kind;
	d->k.activity_id = "";
	d->k.agent_key = "";
	d->k.registration = "";
	d->id_param = kind == XAPI_DOC_STATE ? "stateId" : "profileId";
	if (only_params(x, resp, kind == XAPI_DOC_STATE ? state_p :
			kind == XAPI_DOC_ACTIVITY_PROFILE ? aprof_p : gprof_p))
		return TC_EINVALID;
	if (kind != XAPI_DOC_AGENT_PROFILE) {
		s = param(x, "activityId");
		if (!s || !*s || !strchr(s, ':'))
			return bad(resp, "activityId: required, an IRI"), TC_EINVALID;
		d->k.activity_id = s;
	}
	if (kind != XAPI_DOC_ACTIVITY_PROFILE) {
		if (agent_param(x, resp, "agent", &agent, d->agent_key, sizeof(d->agent_key)))
			return TC_EINVALID;
		json_decref(agent);
		d->k.agent_key = d->agent_key;
	}
	if (kind == XAPI_DOC_STATE && (s = param(x, "registration"))) {
		if (!xapi_uuid_valid(s))
			return bad(resp, "registration: not a UUID"), TC_EINVALID;
		for (int i = 0; i < 37; i++)
			d->reg[i] = (char)tolower((unsigned char)s[i]);
		d->k.registration = d->reg;
	}
	d->k.doc_id = param(x, d->id_param);
	return 0;
}

static int
add_doc_id(const char *id, void *arg)
{
	return json_array_append_new(arg, json_string(id)) ? TC_ENOMEM : 0;
}

static int
doc_get(struct app *app, struct xreq *x, struct http_response *resp, struct doc_req *d)
{
	struct xapi_doc doc;
	char date[40];
	int64_t since = 0;
	int rc;

	if (!d->k.doc_id) {
		json_t *ids = json_array();
		if (time_param(x, resp, "since", &since) || !ids) {
			json_decref(ids);
			return ids ? 0 : problem_respond_err(resp, TC_ENOMEM, NULL);
		}
		rc = store_xapi_doc_ids(app->store, &d->k, since, add_doc_id, ids);
		if (rc) {
			json_decref(ids);
			return problem_respond_err(resp, rc, NULL);
		}
		return api_reply_json(resp, 200, ids);
	}
	if (param(x, "since"))
		return bad(resp, "since: only when listing ids (without %s)", d->id_param);
	rc = store_xapi_doc_get(app->store, &d->k, &doc);
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such document");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	dynbuf_reset(&resp->body);
	if (doc.len && dynbuf_append(&resp->body, doc.body, doc.len)) {
		free(doc.body);
		return problem_respond_err(resp, TC_ETOOBIG, "the document is too large to send");
	}
	free(doc.body);
	resp->status = 200;
	/* content_type is a static string in a response: the stored type is
	 * kept as one of the known ones, else sent as a header of our own */
	if (is_json_type(doc.content_type)) {
		resp->content_type = "application/json";
	} else {
		resp->content_type = NULL;
		http_response_header(resp, "content-type", doc.content_type);
	}
	http_response_header(resp, "etag", doc.etag);
	http_date(doc.updated_us, date);
	http_response_header(resp, "last-modified", date);
	return 0;
}

static int
doc_write(struct app *app, struct xreq *x, struct http_response *resp, struct doc_req *d,
	  int merge)
{
	struct xapi_doc old;
	char etag[44], *merged = NULL;
	const char *ct = x->content_type && *x->content_type ? x->content_type
							     : "application/octet-stream";
	const void *body = x->body;
	size_t len = x->body_len;
	int exists, rc;

	if (!d->k.doc_id || !*d->k.doc_id)
		return bad(resp, "%s is required", d->id_param);
	if (strlen(ct) >= sizeof(old.content_type))
		return bad(resp, "Content-Type is too long");
	rc = store_xapi_doc_get(app->store, &d->k, &old);
	if (rc && rc != TC_ENOTFOUND)
		return problem_respond_err(resp, rc, NULL);
	exists = rc == 0;
	if (preconditions(x, resp, exists, exists ? old.etag : ""))
		goto out;
	if (!merge && exists && !(x->if_match && *x->if_match) &&
	    !(x->if_none_match && *x->if_none_match) &&
	    (d->k.kind != XAPI_DOC_STATE || x->v == XAPI_V2)) {
		problem_respond(resp, 409, NULL, "the document exists: send If-Match with its"
				" ETag (or If-None-Match: * to create only)");
		goto out;
	}
	/* 1.0.x: a profile PUT carries a precondition, also to create */
	if (!merge && !exists && x->v == XAPI_V1 && d->k.kind != XAPI_DOC_STATE &&
	    !(x->if_match && *x->if_match) && !(x->if_none_match && *x->if_none_match)) {
		bad(resp, "xAPI 1.0.x: a profile PUT needs If-None-Match: * (to create) or"
		    " If-Match with the ETag");
		goto out;
	}
	if (merge && is_json_type(ct)) {
		json_t *n = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(n)) {
			json_decref(n);
			bad(resp, "POST merges JSON objects: the body is not one");
			goto out;
		}
		if (exists) {
			json_t *o = is_json_type(old.content_type)
				? json_loadb((const char *)old.body, old.len, 0, NULL) : NULL;
			if (!json_is_object(o)) {
				json_decref(o);
				json_decref(n);
				bad(resp, "the stored document is not a JSON object: it cannot be merged");
				goto out;
			}
			json_object_update(o, n);
			merged = json_dumps(o, JSON_COMPACT);
			json_decref(o);
			if (!merged) {
				json_decref(n);
				problem_respond_err(resp, TC_ENOMEM, NULL);
				goto out;
			}
			body = merged;
			len = strlen(merged);
		}
		json_decref(n);
	} else if (merge && exists) {
		bad(resp, "POST merges JSON documents: send application/json");
		goto out;
	}
	etag_of(body, len, etag);
	rc = store_xapi_doc_put(app->store, &d->k, merge && exists ? "application/json" : ct,
				body, len, etag, now_us());
	if (rc) {
		problem_respond_err(resp, rc, "the document was not stored");
		goto out;
	}
	resp->status = 204;
	http_response_header(resp, "etag", etag);
out:
	if (exists)
		free(old.body);
	free(merged);
	return 0;
}

static int
doc_delete(struct app *app, struct xreq *x, struct http_response *resp, struct doc_req *d)
{
	struct xapi_doc old;
	int rc;

	if (!d->k.doc_id && d->k.kind != XAPI_DOC_STATE)
		return bad(resp, "%s is required", d->id_param);
	if (param(x, "since"))
		return bad(resp, "since: not for DELETE");
	if (d->k.doc_id && x->if_match && *x->if_match) {
		rc = store_xapi_doc_get(app->store, &d->k, &old);
		if (rc && rc != TC_ENOTFOUND)
			return problem_respond_err(resp, rc, NULL);
		if (preconditions(x, resp, rc == 0, rc == 0 ? old.etag : "")) {
			if (rc == 0)
				free(old.body);
			return 0;
		}
		if (rc == 0)
			free(old.body);
	}
	rc = store_xapi_doc_delete(app->store, &d->k);
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	resp->status = 204;
	return 0;
}

static int
on_documents(struct app *app, struct xreq *x, struct http_response *resp,
	     enum xapi_doc_kind kind)
{
	struct doc_req d;

	if (doc_params(x, resp, kind, &d))
		return 0;
	switch (x->method) {
	case HTTP_GET:
	case HTTP_HEAD:
		return doc_get(app, x, resp, &d);
	case HTTP_PUT:
		return doc_write(app, x, resp, &d, 0);
	case HTTP_POST:
		return doc_write(app, x, resp, &d, 1);
	case HTTP_DELETE:
		return doc_delete(app, x, resp, &d);
	default:
		return problem_respond(resp, 405, NULL, "use GET, PUT, POST or DELETE");
	}
}

/* ---- activities, agents, about ----------------------------------------------------------- */

static int
on_activities(struct app *app, struct xreq *x, struct http_response *resp)
{
	static const char *const allowed[] = { "activityId", NULL };
	const char *id = param(x, "activityId");
	char *text = NULL;
	json_t *o, *def;
	int rc;

	if (only_params(x, resp, allowed))
		return 0;
	if (!(x->method & (HTTP_GET | HTTP_HEAD)))
		return problem_respond(resp, 405, NULL, "use GET");
	if (!id || !*id || !strchr(id, ':'))
		return bad(resp, "activityId: required, an IRI");
	rc = store_xapi_activity_get(app->store, x->cred.institution_id, id, &text);
	if (rc && rc != TC_ENOTFOUND)
		return problem_respond_err(resp, rc, NULL);
	o = json_pack("{s:s, s:s}", "objectType", "Activity", "id", id);
	def = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (o && def)
		json_object_set_new(o, "definition", def);
	return api_reply_json(resp, 200, o);
}

static int
on_agents(struct app *app, struct xreq *x, struct http_response *resp)
{
	static const char *const allowed[] = { "agent", NULL };
	static const char *const ifis[] = { "mbox", "mbox_sha1sum", "openid", "account", NULL };
	char key[AGENT_KEY_MAX];
	json_t *agent = NULL, *person;

	(void)app;
	if (only_params(x, resp, allowed))
		return 0;
	if (!(x->method & (HTTP_GET | HTTP_HEAD)))
		return problem_respond(resp, 405, NULL, "use GET");
	if (agent_param(x, resp, "agent", &agent, key, sizeof(key)))
		return 0;
	person = json_pack("{s:s}", "objectType", "Person");
	if (person && json_is_string(json_object_get(agent, "name")))
		json_object_set_new(person, "name", json_pack("[O]", json_object_get(agent, "name")));
	for (const char *const *k = ifis; person && *k; k++)
		if (json_object_get(agent, *k))
			json_object_set_new(person, *k, json_pack("[O]", json_object_get(agent, *k)));
	json_decref(agent);
	return api_reply_json(resp, 200, person);
}

static int
on_about(struct xreq *x, struct http_response *resp)
{
	if (!(x->method & (HTTP_GET | HTTP_HEAD)))
		return problem_respond(resp, 405, NULL, "use GET");
	return api_reply_json(resp, 200, json_pack("{s:[s,s,s,s,s]}", "version", "1.0.0",
						   "1.0.1", "1.0.2", "1.0.3", "2.0.0"));
}

/* ---- the /xapi/ entry ------------------------------------------------------------------- */

/* Unwraps the 1.0.x alternate request syntax: POST ?method=M with a form
 * body of headers, content and parameters. */
static int
alternate_syntax(struct xreq *x, struct http_response *resp)
{
	static const struct { const char *name; size_t off; } hdrs[] = {
		{ "Authorization", offsetof(struct xreq, authorization) },
		{ "X-Experience-API-Version", offsetof(struct xreq, version_hdr) },
		{ "Content-Type", offsetof(struct xreq, content_type) },
		{ "If-Match", offsetof(struct xreq, if_match) },
		{ "If-None-Match", offsetof(struct xreq, if_none_match) },
	};
	const char *m = param(x, "method");
	char *form;
	int first, rc;

	if (x->v == XAPI_V2)
		return bad(resp, "xAPI 2.0 has no alternate request syntax (method=)"), TC_EINVALID;
	if (x->method != HTTP_POST)
		return bad(resp, "the alternate request syntax is a POST"), TC_EINVALID;
	if (x->nparams != 1)
		return bad(resp, "with method=, every other parameter goes in the form body"),
		       TC_EINVALID;
	if (!x->content_type || strncasecmp(x->content_type, "application/x-www-form-urlencoded",
					    33) != 0)
		return bad(resp, "the alternate request syntax sends"
			   " application/x-www-form-urlencoded"), TC_EINVALID;
	x->method = http_method_parse(m);
	if (!(x->method & (HTTP_GET | HTTP_PUT | HTTP_POST | HTTP_DELETE)))
		return bad(resp, "method: must be GET, PUT, POST or DELETE"), TC_EINVALID;
	form = malloc(x->body_len + 1);
	if (!form)
		return problem_respond_err(resp, TC_ENOMEM, NULL), TC_ENOMEM;
	memcpy(form, x->body ? x->body : "", x->body_len);
	form[x->body_len] = '\0';
	first = x->nparams;
	free(x->pbuf);			/* "method" is all the query held */
	x->pbuf = form;
	x->nparams = 0;
	(void)first;
	rc = parse_params(x, form, 1);
	if (rc)
		return bad(resp, "the form body is not valid application/x-www-form-urlencoded"),
		       TC_EINVALID;
	x->body = NULL;
	x->body_len = 0;
	x->content_type = NULL;
	for (int i = 0; i < x->nparams;) {
		int hit = 0;
		for (size_t h = 0; h < sizeof(hdrs) / sizeof(hdrs[0]); h++)
			if (strcasecmp(hdrs[h].name, x->params[i].name) == 0) {
				*(const char **)(void *)((char *)x + hdrs[h].off) = x->params[i].value;
				hit = 1;
			}
		if (strcasecmp(x->params[i].name, "Content-Length") == 0)
			hit = 1;
		if (strcmp(x->params[i].name, "content") == 0) {
			x->body = x->params[i].value;
			x->body_len = strlen(x->params[i].value);
			hit = 1;
		}
		if (hit) {
			x->params[i] = x->params[--x->nparams];
			continue;
		}
		i++;
	}
	if (x->body && !x->content_type)
		x->content_type = "application/json";
	x->alternate = 1;
	return 0;
}

static int
on_statements(struct app *app, struct xreq *x, struct http_response *resp,
	      const struct http_request *req)
{
	const char *id;

	switch (x->method) {
	case HTTP_GET:
	case HTTP_HEAD:
		return statements_read(app, x, resp, req);
	case HTTP_PUT:
		id = param(x, "statementId");
		if (!id)
			return bad(resp, "PUT needs the statementId parameter");
		if (x->nparams != 1)
			return bad(resp, "PUT takes only the statementId parameter");
		if (!xapi_uuid_valid(id))
			return bad(resp, "statementId: not a UUID");
		return statements_write(app, x, resp, id);
	case HTTP_POST:
		if (x->nparams)
			return bad(resp, "POST takes no parameters");
		return statements_write(app, x, resp, NULL);
	default:
		return problem_respond(resp, 405, NULL, "use GET, PUT or POST");
	}
}

static int
on_xapi(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct xreq x;
	const char *path = req->path + strlen("/xapi");
	int about = strcmp(path, "/about") == 0, rc;

	memset(&x, 0, sizeof(x));
	x.method = req->method;
	x.v = XAPI_V2;
	x.version_hdr = req->xapi_version;
	x.if_match = req->if_match;
	x.if_none_match = req->if_none_match;
	x.content_type = req->content_type;
	x.authorization = req->authorization;
	x.body = req->body.data;
	x.body_len = req->body.len;
	x.pbuf = strdup(req->query);
	if (!x.pbuf) {
		problem_respond_err(resp, TC_ENOMEM, NULL);
		goto out;
	}
	rc = parse_params(&x, x.pbuf, 0);
	if (rc) {
		bad(resp, rc == TC_ECONFLICT ? "a parameter is given twice" : "too many parameters");
		goto out;
	}
	if (param(&x, "method")) {
		/* the version decides whether the syntax exists: read it from
		 * the header, or else the form */
		if (version_parse(x.version_hdr, &x.v))
			x.v = XAPI_V1;
		if (alternate_syntax(&x, resp))
			goto out;
	}
	if (about) {
		version_parse(x.version_hdr, &x.v);
		on_about(&x, resp);
		goto out;
	}
	if (authenticate(app, &x, resp))
		goto out;
	if (version_parse(x.version_hdr, &x.v) == 0) {
		version_remember(x.cred.id, x.v);
	} else {
		x.v = version_recalled(x.cred.id);
		bad(resp, "X-Experience-API-Version: send 1.0.0 to 1.0.3 or 2.0.0 (got \"%s\")",
		    x.version_hdr ? x.version_hdr : "");
		goto out;
	}
	if (strcmp(path, "/statements") == 0)
		on_statements(app, &x, resp, req);
	else if (strcmp(path, "/activities/state") == 0)
		on_documents(app, &x, resp, XAPI_DOC_STATE);
	else if (strcmp(path, "/activities/profile") == 0)
		on_documents(app, &x, resp, XAPI_DOC_ACTIVITY_PROFILE);
	else if (strcmp(path, "/agents/profile") == 0)
		on_documents(app, &x, resp, XAPI_DOC_AGENT_PROFILE);
	else if (strcmp(path, "/activities") == 0)
		on_activities(app, &x, resp);
	else if (strcmp(path, "/agents") == 0)
		on_agents(app, &x, resp);
	else
		problem_respond(resp, 404, NULL, "no such xAPI resource");
out:
	if (x.method == HTTP_HEAD)
		resp->head_only = 1;
	if (strcmp(path, "/statements") == 0 && (x.method & (HTTP_GET | HTTP_HEAD)))
		consistent_through(resp);	/* on every answer: clients poll with it */
	{
		char date[40];
		http_date(now_us(), date);
		http_response_header(resp, "date", date);
	}
	set_version_header(resp, &x);
	http_response_header(resp, "access-control-allow-origin", "*");
	http_response_header(resp, "access-control-expose-headers",
			     "ETag, Last-Modified, X-Experience-API-Version,"
			     " X-Experience-API-Consistent-Through");
	xreq_cleanup(&x);
	return 0;
}

/* CORS preflight: browsers ask before sending Authorization. */
static int
on_xapi_options(struct app *app, struct http_request *req, struct http_response *resp)
{
	(void)app;
	(void)req;
	resp->status = 204;
	http_response_header(resp, "access-control-allow-origin", "*");
	http_response_header(resp, "access-control-allow-methods",
			     "GET, HEAD, PUT, POST, DELETE, OPTIONS");
	http_response_header(resp, "access-control-allow-headers",
			     "Authorization, Content-Type, X-Experience-API-Version, If-Match,"
			     " If-None-Match");
	http_response_header(resp, "access-control-max-age", "86400");
	http_response_header(resp, "x-experience-api-version", "2.0.0");
	return 0;
}

/* ---- the platform's own statements --------------------------------------------------------- */

static int
record(struct app *app, struct store *st, int own, int64_t institution_id, json_t *stmt,
       char id_out[37])
{
	struct lrs_credential platform = { .institution_id = institution_id };
	char err[400], conflict[37];
	int64_t stored = now_us();
	json_t *arr, *sent;
	int rc;

	if (!stmt || !id_out)
		return TC_EINVALID;
	if (xapi_statement_check(stmt, XAPI_V2, err, sizeof(err))) {
		log_warn("lrs_record: not a valid statement: %s", err);
		return TC_EINVALID;
	}
	snprintf(platform.key, sizeof(platform.key), "tinchi");
	arr = json_pack("[o]", json_deep_copy(stmt));
	sent = json_pack("[o]", json_deep_copy(stmt));
	if (!arr || !sent || context_arrays(json_array_get(sent, 0))) {
		json_decref(arr);
		json_decref(sent);
		return TC_ENOMEM;
	}
	rc = complete_statement(app, json_array_get(arr, 0), &platform, XAPI_V2, stored);
	if (rc == 0)
		rc = store_statements(st, own, institution_id, 0, arr, sent, stored, conflict, NULL);
	json_decref(sent);
	if (rc == 0)
		snprintf(id_out, 37, "%s", json_string_value(json_object_get(json_array_get(arr, 0), "id")));
	json_decref(arr);
	return rc;
}

int
lrs_record(struct app *app, int64_t institution_id, json_t *stmt, char id_out[37])
{
	return record(app, app->store, 1, institution_id, stmt, id_out);
}

int
lrs_record_in(struct app *app, struct store *st, int64_t institution_id, json_t *stmt,
	      char id_out[37])
{
	return record(app, st, 0, institution_id, stmt, id_out);
}

/* ---- credentials (institution admins) ---------------------------------------------------- */

static json_t *
cred_json(const struct lrs_credential *c)
{
	char created[32], revoked[32];

	api_time(c->created_at, created);
	api_time(c->revoked_at, revoked);
	return json_pack("{s:s, s:s, s:s, s:s, s:s?}", "uid", c->uid, "key", c->key, "name",
			 c->name, "created_at", created, "revoked_at",
			 c->revoked_at ? revoked : NULL);
}

static int
on_cred_create(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	struct lrs_credential c;
	char secret[80], hash[65], key[80], endpoint[600];
	const char *name;
	json_t *body = NULL, *o;
	int bad_ = 0, rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_TOKENS_MANAGE, inst.id) || api_read_json(req, resp, &body))
		return 0;
	memset(&c, 0, sizeof(c));
	name = api_str(body, "name", &bad_);
	if (bad_ || !name || !*name || strlen(name) > LRS_NAME_MAX) {
		json_decref(body);
		return bad(resp, "send {\"name\": \"...\"} (1 to %d bytes): what tool uses the"
			   " credential", LRS_NAME_MAX);
	}
	snprintf(c.name, sizeof(c.name), "%s", name);
	json_decref(body);
	c.institution_id = inst.id;
	c.created_by = req->actor.person_id;
	c.created_at = (int64_t)time(NULL);
	snprintf(c.scopes, sizeof(c.scopes), "statements documents");
	if (uuid_v4(c.uid) || token_new("", key, sizeof(key)) ||
	    token_new("tlx_", secret, sizeof(secret))) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return problem_respond_err(resp, TC_EIO, NULL);
	}
	/* the key is public: 16 of the random characters are plenty */
	snprintf(c.key, sizeof(c.key), "tlk_%.16s", key);
	sha256_hex(secret, strlen(secret), hash);
	rc = store_lrs_credential_add(app->store, &c, hash);
	if (rc) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return problem_respond_err(resp, rc, NULL);
	}
	api_audit(app, req, inst.id, "lrs_credential.created", c.uid,
		  json_pack("{s:s, s:s}", "name", c.name, "key", c.key));
	lrs_home_page(app, endpoint, sizeof(endpoint) - 8);
	strncat(endpoint, "/xapi/", sizeof(endpoint) - strlen(endpoint) - 1);
	o = cred_json(&c);
	json_object_set_new(o, "secret", json_string(secret));
	json_object_set_new(o, "endpoint", json_string(endpoint));
	OPENSSL_cleanse(secret, sizeof(secret));
	api_reply_json(resp, 201, o);
	http_response_header(resp, "cache-control", "no-store");
	return 0;
}

static int
add_cred_json(const struct lrs_credential *c, void *arg)
{
	return json_array_append_new(arg, cred_json(c)) ? TC_ENOMEM : 0;
}

static int
on_creds_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	json_t *list;
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_TOKENS_MANAGE, inst.id))
		return 0;
	list = json_array();
	if (!list)
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	rc = store_lrs_credentials_each(app->store, inst.id, add_cred_json, list);
	if (rc) {
		json_decref(list);
		return problem_respond_err(resp, rc, NULL);
	}
	return api_reply_json(resp, 200, json_pack("{s:o}", "credentials", list));
}

static int
on_cred_revoke(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct institution inst;
	const char *uid = http_request_param(req, "uid");
	int rc;

	if (api_institution(app, req, resp, &inst) ||
	    api_allow(req, resp, AZ_TOKENS_MANAGE, inst.id))
		return 0;
	rc = store_lrs_credential_revoke(app->store, inst.id, uid, (int64_t)time(NULL));
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such LRS credential at this institution");
	if (rc == TC_ECONFLICT)
		return problem_respond(resp, 409, NULL, "the credential was revoked already");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	api_audit(app, req, inst.id, "lrs_credential.revoked", uid, NULL);
	resp->status = 204;
	return 0;
}

#define XM (HTTP_GET | HTTP_HEAD | HTTP_PUT | HTTP_POST | HTTP_DELETE)

const struct route api_xapi_routes[] = {
	{ XM, "/xapi/statements", on_xapi, "xapi_statements", ROUTE_PUBLIC, XAPI_MAX_BODY },
	{ XM, "/xapi/activities/state", on_xapi, "xapi_state", ROUTE_PUBLIC, XAPI_MAX_BODY },
	{ XM, "/xapi/activities/profile", on_xapi, "xapi_activity_profile", ROUTE_PUBLIC,
	  XAPI_MAX_BODY },
	{ XM, "/xapi/agents/profile", on_xapi, "xapi_agent_profile", ROUTE_PUBLIC, XAPI_MAX_BODY },
	{ XM, "/xapi/activities", on_xapi, "xapi_activities", ROUTE_PUBLIC, XAPI_MAX_BODY },
	{ XM, "/xapi/agents", on_xapi, "xapi_agents", ROUTE_PUBLIC, XAPI_MAX_BODY },
	{ XM, "/xapi/about", on_xapi, "xapi_about", ROUTE_PUBLIC, XAPI_MAX_BODY },
	{ HTTP_OPTIONS, "/xapi/*", on_xapi_options, "xapi_options", ROUTE_PUBLIC },
	{ HTTP_GET, "/api/v1/institutions/{code}/lrs-credentials", on_creds_list,
	  "lrs_credentials_list" },
	{ HTTP_POST, "/api/v1/institutions/{code}/lrs-credentials", on_cred_create,
	  "lrs_credential_create" },
	{ HTTP_DELETE, "/api/v1/institutions/{code}/lrs-credentials/{uid}", on_cred_revoke,
	  "lrs_credential_revoke" },
};
const size_t api_xapi_routes_count = sizeof(api_xapi_routes) / sizeof(api_xapi_routes[0]);
