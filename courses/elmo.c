/* elmo.c - see elmo.h. */
#include <stdio.h>
#include <string.h>

#include "courses/elmo.h"
#include "courses/errors.h"

#define ELMO_NS "https://github.com/emrex-eu/elmo-schemas/tree/v1"

int
elmo_escape(struct dynbuf *out, const char *text)
{
	const unsigned char *p = (const unsigned char *)(text ? text : "");
	int rc = 0;

	for (; *p && rc == 0; p++) {
		switch (*p) {
		case '&': rc = dynbuf_puts(out, "&amp;"); break;
		case '<': rc = dynbuf_puts(out, "&lt;"); break;
		case '>': rc = dynbuf_puts(out, "&gt;"); break;
		case '"': rc = dynbuf_puts(out, "&quot;"); break;
		case '\'': rc = dynbuf_puts(out, "&apos;"); break;
		case '\t': case '\n': case '\r':
			rc = dynbuf_append(out, p, 1);
			break;
		default:
			if (*p < 0x20)
				break;	/* not an XML 1.0 character */
			/* U+FFFE and U+FFFF (EF BF BE / EF BF BF) are not either */
			if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) {
				p += 2;
				break;
			}
			rc = dynbuf_append(out, p, 1);
		}
	}
	return rc ? TC_ENOMEM : 0;
}

/* <NAME ATTRS>escaped TEXT</NAME>, nothing when TEXT is NULL or empty. */
static int
elem(struct dynbuf *out, const char *indent, const char *name, const char *attrs,
     const char *text)
{
	if (!text || !text[0])
		return 0;
	if (dynbuf_printf(out, "%s<%s%s>", indent, name, attrs ? attrs : "") ||
	    elmo_escape(out, text) || dynbuf_printf(out, "</%s>\n", name))
		return TC_ENOMEM;
	return 0;
}

static int
is_date(const char *s, size_t n)
{
	if (n != 10)
		return 0;
	for (size_t i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

int
elmo_begin(struct dynbuf *out, const struct elmo_learner *l, const char *generated)
{
	const char *name, *sp;
	char family[256];
	size_t n;
	int rc;

	if (!l || !l->national_id || !l->full_name || !generated)
		return TC_EINVALID;
	name = l->full_name;
	while (*name == ' ')
		name++;
	sp = strchr(name, ' ');
	n = sp ? (size_t)(sp - name) : strlen(name);
	if (n == 0 || n >= sizeof(family))
		return TC_EINVALID;
	memcpy(family, name, n);
	family[n] = '\0';
	while (sp && *sp == ' ')
		sp++;
	if (dynbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<elmo xmlns=\"" ELMO_NS "\">\n"))
		return TC_ENOMEM;
	if ((rc = elem(out, "  ", "generatedDate", NULL, generated)) ||
	    dynbuf_puts(out, "  <learner>\n") ||
	    (rc = elem(out, "    ", "identifier", " type=\"nationalIdentifier\"", l->national_id)) ||
	    (rc = elem(out, "    ", "givenNames", NULL, sp && *sp ? sp : family)) ||
	    (rc = elem(out, "    ", "familyName", NULL, family)) ||
	    (l->date_of_birth && is_date(l->date_of_birth, strlen(l->date_of_birth)) &&
	     (rc = elem(out, "    ", "bday", NULL, l->date_of_birth))) ||
	    dynbuf_puts(out, "  </learner>\n"))
		return rc ? rc : TC_ENOMEM;
	return 0;
}

/* The host of URL ("https://www.uet.vnu.edu.vn/x" -> "uet.vnu.edu.vn"). */
static void
url_host(const char *url, char *out, size_t size)
{
	const char *p = url ? strstr(url, "://") : NULL;
	size_t n;

	out[0] = '\0';
	if (!p)
		return;
	p += 3;
	n = strcspn(p, "/:?#");
	if (n == 0 || n >= size)
		return;
	memcpy(out, p, n);
	out[n] = '\0';
	if (strncmp(out, "www.", 4) == 0)
		memmove(out, out + 4, n - 3);
}

/* CREDITS as an xs:decimal without trailing zeros ("3", "1.5"). */
static void
decimal(double credits, char out[32])
{
	char *e;

	snprintf(out, 32, "%.2f", credits);
	e = out + strlen(out) - 1;
	while (*e == '0')
		*e-- = '\0';
	if (*e == '.')
		*e = '\0';
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int
opportunity(struct dynbuf *out, json_t *cred)
{
	json_t *subj = json_object_get(cred, "credentialSubject");
	json_t *ach = json_object_get(subj, "achievement");
	json_t *credits = json_object_get(subj, "creditsEarned");
	json_t *result = json_array_get(json_object_get(subj, "result"), 0);
	const char *term = str(subj, "term"), *vf = str(cred, "validFrom");
	const char *title = str(ach, "name");
	char day[11] = "", num[32] = "", start[11] = "", end[11] = "";
	int rc;

	if (!title || !title[0])
		title = str(cred, "name");
	if (term && strlen(term) == 21 && term[10] == '/' && is_date(term, 10) &&
	    is_date(term + 11, 10)) {
		memcpy(start, term, 10);
		memcpy(end, term + 11, 10);
	}
	if (vf && strlen(vf) >= 10 && is_date(vf, 10))
		memcpy(day, vf, 10);
	if (json_is_number(credits) && json_number_value(credits) >= 0)
		decimal(json_number_value(credits), num);
	if (dynbuf_puts(out, "    <learningOpportunitySpecification>\n") ||
	    (rc = elem(out, "      ", "identifier", " type=\"local\"", str(ach, "humanCode"))) ||
	    (rc = elem(out, "      ", "title", NULL, title ? title : "?")) ||
	    dynbuf_puts(out, "      <type>Course</type>\n") ||
	    (rc = elem(out, "      ", "description", NULL, str(ach, "description"))) ||
	    dynbuf_puts(out, "      <specifies>\n        <learningOpportunityInstance>\n") ||
	    (rc = elem(out, "          ", "identifier", " type=\"credential\"", str(cred, "id"))) ||
	    (rc = elem(out, "          ", "start", NULL, start)) ||
	    (rc = elem(out, "          ", "date", NULL, day)))
		return rc ? rc : TC_ENOMEM;
	if (start[0] && (dynbuf_puts(out, "          <academicTerm>\n") ||
			 (rc = elem(out, "            ", "title", NULL, term)) ||
			 (rc = elem(out, "            ", "start", NULL, start)) ||
			 (rc = elem(out, "            ", "end", NULL, end)) ||
			 dynbuf_puts(out, "          </academicTerm>\n")))
		return rc ? rc : TC_ENOMEM;
	if (dynbuf_puts(out, "          <status>passed</status>\n"
			"          <gradingSchemeLocalId>0-10</gradingSchemeLocalId>\n") ||
	    (rc = elem(out, "          ", "resultLabel", NULL, str(result, "value"))))
		return rc ? rc : TC_ENOMEM;
	if (num[0] && dynbuf_printf(out, "          <credit>\n            <scheme>local</scheme>\n"
				    "            <value>%s</value>\n          </credit>\n", num))
		return TC_ENOMEM;
	if (dynbuf_puts(out, "        </learningOpportunityInstance>\n      </specifies>\n"
			"    </learningOpportunitySpecification>\n"))
		return TC_ENOMEM;
	return 0;
}

int
elmo_report(struct dynbuf *out, const struct elmo_issuer *issuer, json_t *credentials,
	    const char *generated)
{
	char host[256];
	size_t i;
	json_t *c;
	int rc;

	if (!issuer || !issuer->code || !issuer->name || !json_is_array(credentials) ||
	    !generated)
		return TC_EINVALID;
	url_host(issuer->website, host, sizeof(host));
	if (dynbuf_puts(out, "  <report>\n    <issuer>\n      <country>VN</country>\n") ||
	    (rc = elem(out, "      ", "identifier", " type=\"local\"", issuer->code)) ||
	    (rc = elem(out, "      ", "identifier", " type=\"schac\"", host)) ||
	    (rc = elem(out, "      ", "title", " xml:lang=\"vi\"", issuer->name)) ||
	    (rc = elem(out, "      ", "url", NULL, issuer->website && issuer->website[0] ?
			issuer->website : issuer->page ? issuer->page : issuer->code)) ||
	    dynbuf_puts(out, "    </issuer>\n"))
		return rc ? rc : TC_ENOMEM;
	json_array_foreach(credentials, i, c)
		if ((rc = opportunity(out, c)))
			return rc;
	if ((rc = elem(out, "    ", "issueDate", NULL, generated)) ||
	    dynbuf_puts(out, "  </report>\n"))
		return rc ? rc : TC_ENOMEM;
	return 0;
}

int
elmo_end(struct dynbuf *out)
{
	return dynbuf_puts(out, "</elmo>\n") ? TC_ENOMEM : 0;
}
