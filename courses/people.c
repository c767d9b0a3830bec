/* people.c - see people.h. */
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "courses/people.h"

/* Crockford's base32 without I, L, O, U: easy to read out and type. */
static const char code_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
people_nid_hmac(const unsigned char secret[32], const char *national_id, char out[65])
{
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "nid:%s", national_id);

	if (n < 0 || (size_t)n >= sizeof(msg))
		return TC_EINVALID;
	return hmac_sha256_hex(secret, 32, msg, (size_t)n, out);
}

int
people_code_hash(const unsigned char secret[32], const char *code, char out[65])
{
	char msg[48] = "activation:";
	size_t o = strlen(msg);

	for (const char *p = code; *p; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		if (o >= sizeof(msg) - 1)
			return TC_EINVALID;
		msg[o++] = (char)toupper((unsigned char)*p);
	}
	msg[o] = '\0';
	return hmac_sha256_hex(secret, 32, msg, o, out);
}

static int
new_code(char out[ACTIVATION_CODE_LEN + 1])
{
	unsigned char r[10];
	int rc = crypto_random(r, sizeof(r));

	if (rc)
		return rc;
	for (int i = 0, o = 0; i < 10; i++) {
		if (i == 5)
			out[o++] = '-';
		out[o++] = code_alphabet[r[i] & 31];
	}
	out[ACTIVATION_CODE_LEN] = '\0';
	return 0;
}

void
people_today(int64_t now, char out[11])
{
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* 1 when the person holds a role anywhere but INSTITUTION_ID. */
static int
belongs_elsewhere(struct store *st, int64_t person_id, int64_t institution_id, int *out)
{
	struct membership m[32];
	int n = 0, rc = store_memberships(st, person_id, m, 32, &n);

	*out = 0;
	for (int i = 0; rc == 0 && i < n; i++)
		if (m[i].institution_id != institution_id)
			*out = 1;
	return rc;
}

int
people_enrol(struct store *st, const unsigned char secret[32], int64_t now,
	     struct person *p, enum role role, int64_t institution_id,
	     const char *student_code, unsigned flags,
	     char code[ACTIVATION_CODE_LEN + 1], struct enrol_result *res)
{
	struct membership m = { 0 };
	struct person cur;
	char hash[65];
	int elsewhere = 0, pending = 0, rc;

	memset(res, 0, sizeof(*res));
	if (code)
		code[0] = '\0';
	rc = store_person_get_by_nid(st, p->national_id, &cur);
	if (rc == 0)
		rc = belongs_elsewhere(st, cur.id, institution_id, &elsewhere);
	else if (rc == TC_ENOTFOUND)
		rc = 0;
	if (rc)
		return rc;
	if (elsewhere && !(flags & ENROL_PRIVILEGED)) {
		*p = cur;		/* not ours to change */
		res->kept = 1;
	} else {
		if (!p->uid[0] && (rc = uuid_v4(p->uid)))
			return rc;
		if ((rc = people_nid_hmac(secret, p->national_id, p->nid_hmac)))
			return rc;
		if ((rc = store_person_upsert(st, p, now, &res->created)))
			return rc;
	}
	m.person_id = p->id;
	m.institution_id = institution_id;
	m.role = role;
	m.created_at = now;
	if (student_code)
		snprintf(m.student_code, sizeof(m.student_code), "%s", student_code);
	if ((rc = store_membership_add(st, &m)))
		return rc;

	if (p->password_hash[0]) {
		res->activation = ACTIVATION_ACTIVE;
		return 0;
	}
	if (res->kept) {
		res->activation = ACTIVATION_WITHHELD;
		return 0;
	}
	if (!code)
		return 0;
	if (!(flags & ENROL_REISSUE) && !res->created &&
	    (rc = store_activation_pending(st, p->id, now, &pending)))
		return rc;
	if (pending) {
		res->activation = ACTIVATION_PENDING;
		return 0;
	}
	if ((rc = new_code(code)) || (rc = people_code_hash(secret, code, hash)) ||
	    (rc = store_activation_add(st, p->id, hash, now, now + ACTIVATION_TTL))) {
		code[0] = '\0';
		return rc;
	}
	res->activation = ACTIVATION_ISSUED;
	return 0;
}

struct pending_code {
	struct learner_row row;
	char code[ACTIVATION_CODE_LEN + 1];
};

struct import_pass {
	struct store *st;
	const unsigned char *secret;
	int64_t now, institution_id;
	unsigned flags;
	struct import_outcome *out;
	int (*code_cb)(const struct learner_row *row, const char *code, void *arg);
	void *arg;
	/* the batch being written: counts and codes are only reported once
	 * it has committed */
	size_t in_batch, created, updated, kept, codes, pending;
	struct pending_code *batch_codes;
	size_t nbatch_codes;
};

/* Commits the open batch and reports it; 0 or the commit's error. */
static int
commit_batch(struct import_pass *ip)
{
	int rc = store_commit(ip->st);

	if (rc)
		return rc;
	ip->out->created += ip->created;
	ip->out->updated += ip->updated;
	ip->out->kept += ip->kept;
	ip->out->codes += ip->codes;
	ip->out->pending += ip->pending;
	for (size_t i = 0; rc == 0 && i < ip->nbatch_codes && ip->code_cb; i++)
		rc = ip->code_cb(&ip->batch_codes[i].row, ip->batch_codes[i].code, ip->arg);
	OPENSSL_cleanse(ip->batch_codes, ip->nbatch_codes * sizeof(*ip->batch_codes));
	ip->in_batch = ip->created = ip->updated = ip->kept = ip->codes = ip->pending = 0;
	ip->nbatch_codes = 0;
	/* let a writer waiting for the lock (the event loop) go first */
	nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	return rc;
}

static int
write_row(const struct learner_row *row, void *arg)
{
	struct import_pass *ip = arg;
	struct enrol_result res;
	struct person p;
	char code[ACTIVATION_CODE_LEN + 1];
	int rc;

	/* a full batch is committed when the next row arrives */
	if (ip->in_batch == IMPORT_BATCH && (rc = commit_batch(ip)))
		return rc;
	if (ip->in_batch == 0 && (rc = store_begin(ip->st)))
		return rc;
	memset(&p, 0, sizeof(p));
	memcpy(p.national_id, row->national_id, sizeof(p.national_id));
	memcpy(p.full_name, row->full_name, sizeof(p.full_name));
	memcpy(p.date_of_birth, row->date_of_birth, sizeof(p.date_of_birth));
	memcpy(p.email, row->email, sizeof(p.email));
	rc = people_enrol(ip->st, ip->secret, ip->now, &p, ROLE_LEARNER, ip->institution_id,
			  row->student_code, ip->flags, code, &res);
	if (rc)
		return rc;
	ip->in_batch++;
	if (res.created)
		ip->created++;
	else
		ip->updated++;
	ip->kept += res.kept;
	ip->pending += res.activation == ACTIVATION_PENDING;
	if (res.activation == ACTIVATION_ISSUED) {
		struct pending_code *pc = &ip->batch_codes[ip->nbatch_codes++];
		pc->row = *row;
		memcpy(pc->code, code, sizeof(pc->code));
		ip->codes++;
	}
	return 0;
}

int
people_import_learners(struct store *st, const unsigned char secret[32], int64_t now,
		       int64_t institution_id, FILE *fp, int partial, unsigned flags,
		       int (*code_cb)(const struct learner_row *row, const char *code, void *arg),
		       void *arg, struct import_outcome *out)
{
	struct import_pass ip = { .st = st, .secret = secret, .now = now,
				  .institution_id = institution_id, .flags = flags,
				  .out = out, .code_cb = code_cb, .arg = arg };
	struct import_report second;
	char today[11];
	int rc;

	memset(out, 0, sizeof(*out));
	import_report_init(&out->report, 1000);
	people_today(now, today);
	rc = learners_csv_read(fp, today, &out->report, NULL, NULL);
	if (rc)
		return rc;
	if (out->report.fatal || out->report.valid == 0 ||
	    (out->report.nerrors > 0 && !partial))
		return 0;
	if (fseek(fp, 0, SEEK_SET) != 0)
		return TC_EIO;
	ip.batch_codes = calloc(IMPORT_BATCH, sizeof(*ip.batch_codes));
	if (!ip.batch_codes)
		return TC_ENOMEM;
	import_report_init(&second, 0);
	store_set_bulk(st, 1);
	rc = learners_csv_read(fp, today, &second, write_row, &ip);
	import_report_cleanup(&second);
	if (rc == 0 && ip.in_batch)
		rc = commit_batch(&ip);
	if (rc && ip.in_batch)
		store_rollback(st);
	store_set_bulk(st, 0);
	if (rc) {
		log_err("import into institution %lld failed after %zu rows: %s",
			(long long)institution_id, out->created + out->updated, tc_strerror(rc));
	} else {
		out->applied = 1;
	}
	OPENSSL_cleanse(ip.batch_codes, IMPORT_BATCH * sizeof(*ip.batch_codes));
	free(ip.batch_codes);
	return rc;
}
