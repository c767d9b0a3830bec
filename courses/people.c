/* people.c - see people.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

int
people_enrol(struct store *st, const unsigned char secret[32], int64_t now,
	     struct person *p, enum role role, int64_t institution_id,
	     const char *student_code, char code[ACTIVATION_CODE_LEN + 1], int *created)
{
	struct membership m = { 0 };
	char hash[65];
	int rc;

	if (!p->uid[0] && (rc = uuid_v4(p->uid)))
		return rc;
	if ((rc = people_nid_hmac(secret, p->national_id, p->nid_hmac)))
		return rc;
	if ((rc = store_person_upsert(st, p, now, created)))
		return rc;
	m.person_id = p->id;
	m.institution_id = institution_id;
	m.role = role;
	m.created_at = now;
	if (student_code)
		snprintf(m.student_code, sizeof(m.student_code), "%s", student_code);
	if ((rc = store_membership_add(st, &m)))
		return rc;
	if (code) {
		code[0] = '\0';
		if (p->password_hash[0])
			return 0;
		if ((rc = new_code(code)) || (rc = people_code_hash(secret, code, hash)))
			return rc;
		rc = store_activation_add(st, p->id, hash, now, now + ACTIVATION_TTL);
	}
	return rc;
}

struct import_pass {
	struct store *st;
	const unsigned char *secret;
	int64_t now, institution_id;
	struct import_outcome *out;
	int (*code_cb)(const struct learner_row *row, const char *code, void *arg);
	void *arg;
};

static int
write_row(const struct learner_row *row, void *arg)
{
	struct import_pass *ip = arg;
	struct person p;
	char code[ACTIVATION_CODE_LEN + 1];
	int created = 0, rc;

	memset(&p, 0, sizeof(p));
	memcpy(p.national_id, row->national_id, sizeof(p.national_id));
	memcpy(p.full_name, row->full_name, sizeof(p.full_name));
	memcpy(p.date_of_birth, row->date_of_birth, sizeof(p.date_of_birth));
	memcpy(p.email, row->email, sizeof(p.email));
	rc = people_enrol(ip->st, ip->secret, ip->now, &p, ROLE_LEARNER, ip->institution_id,
			  row->student_code, code, &created);
	if (rc)
		return rc;
	if (created)
		ip->out->created++;
	else
		ip->out->updated++;
	if (code[0] && ip->code_cb)
		return ip->code_cb(row, code, ip->arg);
	return 0;
}

int
people_import_learners(struct store *st, const unsigned char secret[32], int64_t now,
		       int64_t institution_id, FILE *fp, int partial,
		       int (*code_cb)(const struct learner_row *row, const char *code, void *arg),
		       void *arg, struct import_outcome *out)
{
	struct import_pass ip = { st, secret, now, institution_id, out, code_cb, arg };
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
	import_report_init(&second, 0);
	rc = store_begin(st);
	if (rc == 0)
		rc = learners_csv_read(fp, today, &second, write_row, &ip);
	import_report_cleanup(&second);
	if (rc == 0)
		rc = store_commit(st);
	if (rc) {
		store_rollback(st);
		out->created = out->updated = 0;
		log_err("import into institution %lld failed: %s", (long long)institution_id,
			tc_strerror(rc));
		return rc;
	}
	out->applied = 1;
	return 0;
}
