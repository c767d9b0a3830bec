/*
 * api_wallet.c - the learner's wallet: share links, the printable page
 * with its QR code, and the public view of a shared credential.
 *
 *   POST   /api/v1/credentials/{uid}/shares       a new share link (its learner)
 *   GET    /api/v1/credentials/{uid}/shares       the links, with access counts
 *   DELETE /api/v1/credentials/{uid}/shares/{id}  withdraw one (the link answers 410)
 *   POST   /api/v1/credentials/{uid}/verification the print link (made when
 *                                                  missing) and its QR code
 *   GET    /api/v1/credentials/{uid}/print        printable HTML with that QR code
 *                                                  (makes nothing: no link yet,
 *                                                  the page says so)
 *   GET    /api/v1/shared/{token}                 public: the credential + verification
 *   GET    /v/{token}                             public: the same as an HTML page
 *
 * A link token is 32 random bytes in base64url (43 characters), stored only
 * as its SHA-256 (storage/shares.h). The print page's link is a share of
 * kind "print" whose token is HMAC-SHA-256(platform secret, "tinchi print
 * share\n" + share uid), so printing again shows the same QR code until the
 * learner withdraws it (the next POST .../verification then makes a new
 * one: the wallet makes it before it opens the print page). Pages are
 * Vietnamese unless ?lang=en; they carry no script and no inline style
 * (the CSP forbids both), their look is web/style.css.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "courses/authz.h"
#include "courses/crypto.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/qrcode.h"
#include "server/api_verify.h"
#include "server/api_util.h"
#include "server/api_wallet.h"
#include "server/api_xapi.h"
#include "server/app.h"
#include "server/problem.h"
#include "storage/credentials.h"
#include "storage/identity.h"
#include "storage/shares.h"

#define SHARE_MAX_LIVE 100		/* live links of one credential */
#define SHARE_DAYS_MAX 3650		/* expires_in_days at most */
#define TOKEN_CHARS 43			/* base64url of 32 bytes */
#define PAGE_MAX (1 << 20)		/* an HTML page at most */

/* ---- helpers ------------------------------------------------------------------------ */

static int
token_ok(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	if (n != TOKEN_CHARS)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* The token of print share SHARE_UID, derived with the platform secret. */
static int
print_token(struct app *app, const char *share_uid, char out[TOKEN_CHARS + 1])
{
	char msg[64], hex[SHA256_HEX_LEN + 1];
	unsigned char raw[32];
	int rc, n = snprintf(msg, sizeof(msg), "tinchi print share\n%s", share_uid);

	if ((rc = hmac_sha256_hex(app->secret, sizeof(app->secret), msg, (size_t)n, hex)))
		return rc;
	for (size_t i = 0; i < sizeof(raw); i++) {
		unsigned v = 0;

		sscanf(hex + 2 * i, "%2x", &v);
		raw[i] = (unsigned char)v;
	}
	rc = b64url_encode(raw, sizeof(raw), out, TOKEN_CHARS + 1);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

static void
share_url(struct app *app, const char *token, char *out, size_t n)
{
	char home[512];

	lrs_home_page(app, home, sizeof(home));
	snprintf(out, n, "%s/v/%s", home, token);
}

static int
is_live(const struct share_rec *r, int64_t now)
{
	return !r->withdrawn_at && (!r->expires_at || r->expires_at > now);
}

static json_t *
share_json(struct app *app, const struct share_rec *r, const char *token)
{
	char url[640], tok[TOKEN_CHARS + 1];
	json_t *o;

	if (!token && strcmp(r->kind, "print") == 0 && !r->withdrawn_at &&
	    print_token(app, r->uid, tok) == 0)
		token = tok;
	o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:b, s:I, s:o}", "id", r->uid, "kind", r->kind,
		      "created_at", api_time_json(r->created_at),
		      "expires_at", api_time_json(r->expires_at),
		      "withdrawn_at", api_time_json(r->withdrawn_at),
		      "live", is_live(r, (int64_t)time(NULL)),
		      "access_count", (json_int_t)r->access_count,
		      "last_accessed_at", api_time_json(r->last_accessed_at));
	if (o && token) {
		share_url(app, token, url, sizeof(url));
		json_object_set_new(o, "url", json_string(url));
	}
	return o;
}

/*
 * The credential of the {uid} parameter, for its learner only: 0 with *C
 * filled (C->json allocated), or non-zero with the problem in RESP.
 */
static int
own_credential(struct app *app, struct http_request *req, struct http_response *resp,
	       struct credential_rec *c)
{
	const char *uid = http_request_param(req, "uid");
	int rc;

	if (api_allow(req, resp, AZ_SELF, 0))
		return 1;
	rc = uid ? store_credential_get(app->store, uid, c) : TC_ENOTFOUND;
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "no such credential"), 1;
	if (rc)
		return problem_respond_err(resp, rc, NULL), 1;
	if (c->person_id != req->actor.person_id) {
		free(c->json);
		c->json = NULL;
		return problem_respond(resp, 403, NULL, "only the credential's learner shares"
				       " or prints it"), 1;
	}
	return 0;
}

/* ---- share links -------------------------------------------------------------------- */

static int
on_share_create(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct credential_rec c = { 0 };
	struct share_rec r = { 0 };
	char token[TOKEN_CHARS + 8];
	json_t *body = NULL, *days, *o;
	const char *key;
	json_t *v;
	int rc;

	if (own_credential(app, req, resp, &c))
		return 0;
	free(c.json);
	if (req->body.len && api_read_json(req, resp, &body))
		return 0;
	json_object_foreach(body, key, v) {
		if (strcmp(key, "expires_in_days") != 0) {
			char d[160];

			snprintf(d, sizeof(d), "unknown member \"%.64s\": a share takes only"
				 " expires_in_days", key);
			json_decref(body);
			return problem_respond(resp, 400, NULL, d);
		}
	}
	days = json_object_get(body, "expires_in_days");
	if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
		     json_integer_value(days) > SHARE_DAYS_MAX)) {
		json_decref(body);
		return problem_respond(resp, 400, NULL, "expires_in_days must be a whole number"
				       " of days from 1 to 3650 (leave it out: no expiry)");
	}
	r.credential_id = c.id;
	r.created_at = (int64_t)time(NULL);
	r.expires_at = days ? r.created_at + (int64_t)json_integer_value(days) * 86400 : 0;
	json_decref(body);
	snprintf(r.kind, sizeof(r.kind), "link");
	if ((rc = uuid_v4(r.uid)) || (rc = token_new("", token, sizeof(token))))
		return problem_respond_err(resp, rc, NULL);
	sha256_hex(token, strlen(token), r.token_hash);
	rc = store_share_create(app->store, &r, SHARE_MAX_LIVE);
	if (rc == TC_ETOOBIG)
		return problem_respond(resp, 409, NULL, "this credential has 100 live share"
				       " links; withdraw one first");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	snprintf(r.credential_uid, sizeof(r.credential_uid), "%s", c.uid);
	o = share_json(app, &r, token);
	OPENSSL_cleanse(token, sizeof(token));
	return api_reply_json(resp, 201, o);
}

static int
add_share(const struct share_rec *r, void *arg)
{
	void **a = arg;
	json_t *o = share_json(a[0], r, NULL);

	return o && json_array_append_new(a[1], o) == 0 ? 0 : TC_ENOMEM;
}

static int
on_share_list(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct credential_rec c = { 0 };
	json_t *list;
	void *arg[2];
	int rc;

	if (own_credential(app, req, resp, &c))
		return 0;
	free(c.json);
	if (!(list = json_array()))
		return problem_respond_err(resp, TC_ENOMEM, NULL);
	arg[0] = app;
	arg[1] = list;
	if ((rc = store_shares_each(app->store, c.id, add_share, arg))) {
		json_decref(list);
		return problem_respond_err(resp, rc, NULL);
	}
	return api_reply_json(resp, 200, json_pack("{s:s, s:o}", "credential", c.uid,
						   "shares", list));
}

static int
on_share_delete(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *id = http_request_param(req, "id");
	struct credential_rec c = { 0 };
	int rc;

	if (own_credential(app, req, resp, &c))
		return 0;
	free(c.json);
	rc = store_share_withdraw(app->store, c.id, id ? id : "", (int64_t)time(NULL));
	if (rc == TC_ENOTFOUND)
		return problem_respond(resp, 404, NULL, "this credential has no such share link");
	if (rc == TC_ECONFLICT)
		return problem_respond(resp, 409, NULL, "this share link was withdrawn already");
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	resp->status = 204;
	return 0;
}

/* ---- the public side ---------------------------------------------------------------- */

/*
 * Opens share TOKEN (counting the access): 0 with *R, *CRED (the signed
 * credential) and *VER (credentials_verify's result); else the HTTP status
 * to answer (404 unknown, 410 withdrawn or expired, 500) with DETAIL.
 */
static int
open_share(struct app *app, const char *token, struct share_rec *r, json_t **cred,
	   json_t **ver, char *detail, size_t dsize)
{
	struct credential_rec c = { 0 };
	char hash[SHA256_HEX_LEN + 1], when[32];
	int64_t now = (int64_t)time(NULL);
	int rc;

	*cred = *ver = NULL;
	if (!token_ok(token)) {
		snprintf(detail, dsize, "no such share link");
		return 404;
	}
	sha256_hex(token, strlen(token), hash);
	rc = store_share_access(app->store, hash, now, r);
	if (rc == TC_ENOTFOUND) {
		snprintf(detail, dsize, "no such share link");
		return 404;
	}
	if (rc)
		goto fail;
	if (r->withdrawn_at) {
		api_time(r->withdrawn_at, when);
		snprintf(detail, dsize, "this link was withdrawn by its owner on %.10s", when);
		return 410;
	}
	if (!is_live(r, now)) {
		api_time(r->expires_at, when);
		snprintf(detail, dsize, "this link expired on %.10s", when);
		return 410;
	}
	if ((rc = store_credential_get(app->store, r->credential_uid, &c)))
		goto fail;
	*cred = json_loads(c.json, 0, NULL);
	free(c.json);
	if (!*cred) {
		rc = TC_EDB;
		goto fail;
	}
	if ((rc = credentials_verify(app, *cred, ver)) == 0)
		return 0;
	json_decref(*cred);
	*cred = NULL;
fail:
	snprintf(detail, dsize, "%s", tc_strerror(rc));
	return rc == TC_ENOMEM ? 503 : 500;
}

static int
on_shared(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct share_rec r = { 0 };
	char detail[160];
	json_t *cred, *ver;
	int st = open_share(app, http_request_param(req, "token"), &r, &cred, &ver, detail,
			    sizeof(detail));

	if (st)
		return problem_respond(resp, st, NULL, detail);
	http_response_header(resp, "cache-control", "no-store");
	return api_reply_json(resp, 200, json_pack("{s:o, s:o, s:{s:o, s:o}}", "credential", cred,
						   "verification", ver, "share",
						   "created_at", api_time_json(r.created_at),
						   "expires_at", api_time_json(r.expires_at)));
}

/* ---- HTML --------------------------------------------------------------------------- */

static int
html(struct dynbuf *b, const char *s)
{
	return s ? dynbuf_put_html(b, s, strlen(s)) : 0;
}

static int
want_english(const struct http_request *req)
{
	char lang[8];

	return api_query(req, "lang", lang, sizeof(lang)) == 0 && strcmp(lang, "en") == 0;
}

#define L(vi, en) (en_ ? (en) : (vi))

static int
page_start(struct dynbuf *b, int en_, const char *title, const char *body_class)
{
	int rc = dynbuf_printf(b, "<!doctype html>\n<html lang=\"%s\">\n<head>\n"
			       "<meta charset=\"utf-8\">\n<meta name=\"viewport\""
			       " content=\"width=device-width, initial-scale=1\">\n"
			       "<meta name=\"robots\" content=\"noindex\">\n<title>",
			       en_ ? "en" : "vi");

	if (rc == 0)
		rc = html(b, title);
	if (rc == 0)
		rc = dynbuf_printf(b, " — tinchi</title>\n<link rel=\"icon\" href=\"/favicon.svg\""
				   " type=\"image/svg+xml\">\n<link rel=\"stylesheet\""
				   " href=\"/style.css\">\n</head>\n<body class=\"%s\">\n"
				   "<header><a class=\"brand\" href=\"/\">tinchi</a>"
				   "<nav class=\"lang\"><a href=\"?lang=%s\" hreflang=\"%s\">%s</a>"
				   "</nav></header>\n<main>\n", body_class, en_ ? "vi" : "en",
				   en_ ? "vi" : "en", en_ ? "Tiếng Việt" : "English");
	return rc;
}

static int
page_reply(struct http_response *resp, int status, struct dynbuf *b, int rc)
{
	if (rc == 0)
		rc = dynbuf_puts(b, "</main>\n</body>\n</html>\n");
	if (rc) {
		dynbuf_cleanup(b);
		return problem_respond_err(resp, rc, NULL);
	}
	dynbuf_cleanup(&resp->body);
	resp->body = *b;
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	http_response_header(resp, "cache-control", "no-store");
	return 0;
}

/* One "<dt>NAME</dt><dd>VALUE</dd>" row; nothing when VALUE is NULL or "". */
static int
row(struct dynbuf *b, const char *name, const char *value)
{
	int rc;

	if (!value || !value[0])
		return 0;
	if ((rc = dynbuf_puts(b, "<dt>")) || (rc = html(b, name)) ||
	    (rc = dynbuf_puts(b, "</dt><dd>")) || (rc = html(b, value)))
		return rc;
	return dynbuf_puts(b, "</dd>\n");
}

/* What a credential says, as text. */
struct cred_view {
	const char *course, *code, *issuer, *grade, *term, *id, *valid_from, *awarded;
	char credits[32];
};

static void
cred_view(json_t *cred, struct cred_view *v)
{
	json_t *subj = json_object_get(cred, "credentialSubject");
	json_t *ach = json_object_get(subj, "achievement");
	json_t *res = json_array_get(json_object_get(subj, "result"), 0);
	json_t *cr = json_object_get(subj, "creditsEarned");

	memset(v, 0, sizeof(*v));
	v->course = json_string_value(json_object_get(ach, "name"));
	v->code = json_string_value(json_object_get(ach, "humanCode"));
	v->issuer = json_string_value(json_object_get(json_object_get(cred, "issuer"), "name"));
	v->grade = json_string_value(json_object_get(res, "value"));
	v->term = json_string_value(json_object_get(subj, "term"));
	v->id = json_string_value(json_object_get(cred, "id"));
	v->valid_from = json_string_value(json_object_get(cred, "validFrom"));
	v->awarded = json_string_value(json_object_get(cred, "awardedDate"));
	if (json_is_number(cr))
		snprintf(v->credits, sizeof(v->credits), "%g", json_number_value(cr));
}

static int
fields(struct dynbuf *b, int en_, const struct cred_view *v, const char *learner)
{
	char date[11] = "", done[11] = "";
	int rc;

	if (v->valid_from)
		snprintf(date, sizeof(date), "%s", v->valid_from);
	if (v->awarded)
		snprintf(done, sizeof(done), "%s", v->awarded);
	if ((rc = dynbuf_puts(b, "<dl class=\"fields\">\n")) ||
	    (rc = row(b, L("Người học", "Learner"), learner)) ||
	    (rc = row(b, L("Học phần", "Course"), v->course)) ||
	    (rc = row(b, L("Mã học phần", "Course code"), v->code)) ||
	    (rc = row(b, L("Số tín chỉ", "Credits"), v->credits)) ||
	    (rc = row(b, L("Điểm", "Grade"), v->grade)) ||
	    (rc = row(b, L("Học kỳ", "Term"), v->term)) ||
	    (rc = row(b, L("Đơn vị cấp", "Issued by"), v->issuer)) ||
	    (rc = row(b, L("Ngày hoàn thành", "Completed on"), done)) ||
	    (rc = row(b, L("Ngày cấp", "Issued on"), date)) ||
	    (rc = row(b, L("Mã chứng chỉ", "Credential id"), v->id)))
		return rc;
	return dynbuf_puts(b, "</dl>\n");
}

/* The plain words for check NAME passing (OK) or not. */
static void
check_words(int en_, const char *name, int ok, const char **title, const char **says)
{
	static const struct {
		const char *name, *vi, *en, *ok_vi, *ok_en, *bad_vi, *bad_en;
	} w[] = {
		{ "schema", "Định dạng", "Format",
		  "Đúng định dạng chứng chỉ Open Badges 3.0.",
		  "It has the form of an Open Badges 3.0 credential.",
		  "Không đúng định dạng của một chứng chỉ.",
		  "It is not a well-formed credential." },
		{ "proof", "Chữ ký số", "Digital signature",
		  "Nội dung đúng như đơn vị cấp đã ký, không bị sửa đổi.",
		  "The content is exactly what the issuer signed; nothing was changed.",
		  "Chữ ký không khớp: nội dung đã bị sửa hoặc không do đơn vị này ký.",
		  "The signature does not match: the content was changed or not signed by"
		  " this issuer." },
		{ "issuer", "Đơn vị cấp", "Issuer",
		  "Khóa ký thuộc một cơ sở giáo dục đã đăng ký.",
		  "The signing key belongs to a registered institution.",
		  "Không nhận ra đơn vị cấp.",
		  "The issuer is not a known institution." },
		{ "status", "Tình trạng", "Status",
		  "Chưa bị thu hồi.", "Not revoked.",
		  "Đã bị thu hồi, hoặc không kiểm tra được.",
		  "Revoked, or its status could not be checked." },
		{ "dates", "Thời hạn", "Dates",
		  "Đang có hiệu lực.", "Valid now.",
		  "Chưa có hiệu lực hoặc đã hết hạn.", "Not valid yet, or expired." },
		{ "log", "Sổ công khai", "Public log",
		  "Đã được ghi vào sổ công khai, không thể bị xóa âm thầm.",
		  "Recorded in the public log, so it cannot be removed silently.",
		  "Chưa có trong sổ công khai (một chứng chỉ mới được ghi sau vài giây).",
		  "Not (yet) in the public log (a new credential is added within seconds)." },
	};

	*title = name;
	*says = ok ? L("Đạt.", "Passed.") : L("Không đạt.", "Failed.");
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strcmp(w[i].name, name) == 0) {
			*title = L(w[i].vi, w[i].en);
			*says = ok ? L(w[i].ok_vi, w[i].ok_en) : L(w[i].bad_vi, w[i].bad_en);
		}
}

static int
checks_html(struct dynbuf *b, int en_, json_t *ver)
{
	int verified = json_is_true(json_object_get(ver, "verified"));
	json_t *ch;
	size_t i;
	int rc = dynbuf_printf(b, "<p class=\"verdict %s\">%s</p>\n<h2>%s</h2>\n<ul class=\"checks\">\n",
			       verified ? "ok" : "bad",
			       verified ? L("Đã xác minh: chứng chỉ này hợp lệ.",
					    "Verified: this credential is genuine and valid.") :
			       L("Không xác minh được chứng chỉ này.",
				 "This credential could not be verified."),
			       L("Các bước kiểm tra", "Checks"));

	json_array_foreach(json_object_get(ver, "checks"), i, ch) {
		int ok = json_is_true(json_object_get(ch, "ok"));
		const char *title, *says;

		if (rc)
			break;
		check_words(en_, json_string_value(json_object_get(ch, "check")) ?
			    json_string_value(json_object_get(ch, "check")) : "?", ok, &title, &says);
		if ((rc = dynbuf_printf(b, "<li class=\"check %s\" data-check=\"", ok ? "ok" : "bad")) ||
		    (rc = html(b, json_string_value(json_object_get(ch, "check")))) ||
		    (rc = dynbuf_printf(b, "\"><span class=\"mark\">%s</span> <strong>",
					ok ? "✔" : "✘")) ||
		    (rc = html(b, title)) || (rc = dynbuf_puts(b, "</strong>: ")) ||
		    (rc = html(b, says)) || (rc = dynbuf_puts(b, " <small>")) ||
		    (rc = html(b, json_string_value(json_object_get(ch, "detail")))) ||
		    (rc = dynbuf_puts(b, "</small></li>\n")))
			break;
	}
	return rc ? rc : dynbuf_puts(b, "</ul>\n");
}

static int
on_view(struct app *app, struct http_request *req, struct http_response *resp)
{
	const char *token = http_request_param(req, "token");
	int en_ = want_english(req);
	struct share_rec r = { 0 };
	struct cred_view v;
	struct dynbuf b;
	char detail[160];
	json_t *cred = NULL, *ver = NULL;
	int rc, st = open_share(app, token, &r, &cred, &ver, detail, sizeof(detail));

	dynbuf_init(&b, PAGE_MAX);
	if (st) {
		rc = page_start(&b, en_, L("Không mở được liên kết", "Link not available"), "shared");
		if (rc == 0)
			rc = dynbuf_printf(&b, "<h1>%s</h1>\n<p class=\"verdict bad\">%s</p>\n"
					   "<p><a href=\"/verify.html\">%s</a></p>\n",
					   L("Không mở được liên kết", "Link not available"),
					   st == 410 ? L("Liên kết này đã bị người học thu hồi hoặc"
							 " đã hết hạn.", "This link was withdrawn"
							 " by its owner or has expired.") :
					   st == 404 ? L("Không có liên kết chia sẻ nào như vậy.",
							 "There is no such share link.") :
					   L("Máy chủ đang gặp lỗi; hãy thử lại sau.",
					     "The server failed; try again later."),
					   L("Kiểm tra một tệp chứng chỉ", "Check a credential file"));
		return page_reply(resp, st, &b, rc);
	}
	cred_view(cred, &v);
	rc = page_start(&b, en_, v.course ? v.course : L("Chứng chỉ", "Credential"), "shared");
	if (rc == 0)
		rc = dynbuf_printf(&b, "<h1>%s</h1>\n", L("Chứng chỉ tín chỉ", "Credit record"));
	if (rc == 0)
		rc = fields(&b, en_, &v, NULL);
	if (rc == 0)
		rc = checks_html(&b, en_, ver);
	if (rc == 0)
		rc = dynbuf_printf(&b, "<p class=\"links\"><a href=\"/api/v1/shared/%s\""
				   " type=\"application/json\">%s</a> · <a href=\"/verify.html%s\">%s</a>"
				   "</p>\n", token, L("Dữ liệu JSON", "JSON data"),
				   en_ ? "?lang=en" : "",
				   L("Kiểm tra một tệp chứng chỉ khác", "Check another credential"
				     " file"));
	json_decref(cred);
	json_decref(ver);
	return page_reply(resp, 200, &b, rc);
}

/* ---- the printable page ------------------------------------------------------------- */

/* The live print share of credential C and its token. MAKE (a POST
 * only): made when missing or when its token no longer derives (a new
 * platform secret); else TC_ENOTFOUND then, and nothing is written. */
static int
print_share(struct app *app, const struct credential_rec *c, int make,
	    char token[TOKEN_CHARS + 1])
{
	struct share_rec r = { 0 };
	char hash[SHA256_HEX_LEN + 1];
	int rc;

	for (int tries = 0; tries < 3; tries++) {
		rc = store_share_print(app->store, c->id, &r);
		if (rc == 0) {
			if ((rc = print_token(app, r.uid, token)))
				return rc;
			sha256_hex(token, strlen(token), hash);
			if (strcmp(hash, r.token_hash) == 0)
				return 0;
			if (!make)
				return TC_ENOTFOUND;
			rc = store_share_withdraw(app->store, c->id, r.uid, (int64_t)time(NULL));
			if (rc && rc != TC_ECONFLICT)
				return rc;
			continue;
		}
		if (rc != TC_ENOTFOUND || !make)
			return rc;
		memset(&r, 0, sizeof(r));
		r.credential_id = c->id;
		r.created_at = (int64_t)time(NULL);
		snprintf(r.kind, sizeof(r.kind), "print");
		if ((rc = uuid_v4(r.uid)) || (rc = print_token(app, r.uid, token)))
			return rc;
		sha256_hex(token, strlen(token), r.token_hash);
		rc = store_share_create(app->store, &r, SHARE_MAX_LIVE + 1);
		if (rc == 0)
			return 0;
		if (rc != TC_ECONFLICT)	/* TC_ECONFLICT: made meanwhile; read it */
			return rc;
	}
	return TC_EBUSY;
}

static int
on_print(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct credential_rec c = { 0 };
	struct person p = { 0 };
	struct cred_view v;
	struct dynbuf b;
	char token[TOKEN_CHARS + 1], url[640], alt[700];
	int en_ = want_english(req), linked;
	json_t *cred;
	int rc;

	if (own_credential(app, req, resp, &c))
		return 0;
	cred = json_loads(c.json, 0, NULL);
	free(c.json);
	if (!cred)
		return problem_respond_err(resp, TC_EDB, NULL);
	/* a GET writes nothing: the link is made by POST .../verification
	 * (the wallet does before it opens this page) */
	if ((rc = store_person_get(app->store, c.person_id, &p)) ||
	    ((rc = print_share(app, &c, 0, token)) && rc != TC_ENOTFOUND)) {
		json_decref(cred);
		return problem_respond_err(resp, rc, NULL);
	}
	linked = rc == 0;
	if (linked)
		share_url(app, token, url, sizeof(url));
	cred_view(cred, &v);
	dynbuf_init(&b, PAGE_MAX);
	rc = page_start(&b, en_, v.course ? v.course : L("Chứng chỉ", "Credential"), "print");
	if (rc == 0)
		rc = dynbuf_printf(&b, "<h1>%s</h1>\n", L("Chứng nhận tín chỉ", "Credit record"));
	if (rc == 0)
		rc = fields(&b, en_, &v, p.full_name);
	if (rc == 0 && c.revoked_at)
		rc = dynbuf_printf(&b, "<p class=\"verdict bad\">%s</p>\n",
				   L("Chứng chỉ này đã bị thu hồi.", "This credential was revoked."));
	if (rc == 0 && !linked) {
		rc = dynbuf_printf(&b, "<p class=\"verdict bad\">%s</p>\n",
				   L("Chứng chỉ này chưa có liên kết xác minh: mở “Mã QR” của nó"
				     " trong ví để tạo, rồi in lại.",
				     "This credential has no verification link yet: open its"
				     " “QR code” in the wallet to make one, then print again."));
		json_decref(cred);
		return page_reply(resp, 200, &b, rc);
	}
	snprintf(alt, sizeof(alt), "%s %s", L("Mã QR dẫn tới", "QR code linking to"), url);
	if (rc == 0)
		rc = dynbuf_puts(&b, "<figure class=\"qr\">");
	if (rc == 0)
		rc = qr_svg(url, alt, &b);
	if (rc == 0)
		rc = dynbuf_printf(&b, "<figcaption>%s<br><a class=\"verify-url\" href=\"",
				   L("Quét mã hoặc mở địa chỉ này để xác minh:",
				     "Scan the code or open this address to verify:"));
	if (rc == 0 && !(rc = html(&b, url)) && !(rc = dynbuf_puts(&b, "\">")) &&
	    !(rc = html(&b, url)))
		rc = dynbuf_printf(&b, "</a></figcaption></figure>\n<p class=\"hash\">%s"
				   " <code>sha256:%s</code></p>\n<p class=\"noprint\">%s</p>\n",
				   L("Mã băm của chứng chỉ (JCS, SHA-256):",
				     "Hash of the credential (JCS, SHA-256):"), c.hash,
				   L("In trang này bằng lệnh In của trình duyệt (Ctrl+P). Thu hồi"
				     " liên kết trong ví sẽ làm mã QR này hết hiệu lực.",
				     "Print this page with the browser's Print command (Ctrl+P)."
				     " Withdrawing its link in the wallet disables this QR code."));
	json_decref(cred);
	OPENSSL_cleanse(token, sizeof(token));
	return page_reply(resp, 200, &b, rc);
}

/*
 * POST /api/v1/credentials/{uid}/verification: the same verification link
 * the printable page carries (its live print share, made when missing) and
 * its QR code as an SVG document, for the wallet's list: {url, qr_svg}. A
 * POST (with the session's CSRF token), as it may make a share link: a
 * cross-site navigation must not publish a learner's credential.
 */
static int
on_verification(struct app *app, struct http_request *req, struct http_response *resp)
{
	struct credential_rec c = { 0 };
	struct dynbuf svg;
	char token[TOKEN_CHARS + 1], url[640], alt[700];
	int en_ = want_english(req), rc;

	if (own_credential(app, req, resp, &c))
		return 0;
	free(c.json);
	rc = print_share(app, &c, 1, token);
	if (rc)
		return problem_respond_err(resp, rc, NULL);
	share_url(app, token, url, sizeof(url));
	OPENSSL_cleanse(token, sizeof(token));
	snprintf(alt, sizeof(alt), "%s %s", L("Mã QR dẫn tới", "QR code linking to"), url);
	dynbuf_init(&svg, PAGE_MAX);
	if ((rc = qr_svg(url, alt, &svg))) {
		dynbuf_cleanup(&svg);
		return problem_respond_err(resp, rc, NULL);
	}
	http_response_header(resp, "cache-control", "no-store");
	rc = api_reply_json(resp, 200, json_pack("{s:s, s:s}", "url", url, "qr_svg", dynbuf_str(&svg)));
	dynbuf_cleanup(&svg);
	return rc;
}

const struct route api_wallet_routes[] = {
	{ HTTP_POST, "/api/v1/credentials/{uid}/verification", on_verification,
	  "credential_verification" },
	{ HTTP_POST, "/api/v1/credentials/{uid}/shares", on_share_create, "credential_share_create" },
	{ HTTP_GET, "/api/v1/credentials/{uid}/shares", on_share_list, "credential_shares" },
	{ HTTP_DELETE, "/api/v1/credentials/{uid}/shares/{id}", on_share_delete,
	  "credential_share_withdraw" },
	{ HTTP_GET, "/api/v1/credentials/{uid}/print", on_print, "credential_print" },
	{ HTTP_GET, "/api/v1/shared/{token}", on_shared, "shared_credential", ROUTE_PUBLIC },
	{ HTTP_GET, "/v/{token}", on_view, "shared_page", ROUTE_PUBLIC },
};
const size_t api_wallet_routes_count = sizeof(api_wallet_routes) / sizeof(api_wallet_routes[0]);
