/*
 * xapi.h - the xAPI statement data model (xAPI 2.0.0 / IEEE 9274.1.1, and
 * 1.0.x): validation of statements and agents as an LRS receives them,
 * agent identity keys for matching, statement comparison for idempotent
 * re-sends, and the GET formats. Pure domain: no storage, no transport.
 *
 * (Interface agreed before the implementation; courses/xapi.c documents
 * the rules it checks.)
 */
#ifndef TINCHI_XAPI_H
#define TINCHI_XAPI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum xapi_version { XAPI_V1 = 1 /* 1.0.x */, XAPI_V2 = 2 /* 2.0.x */ };

enum xapi_format { XAPI_FMT_EXACT, XAPI_FMT_IDS, XAPI_FMT_CANONICAL };

/*
 * Checks STMT as received in a POST/PUT (one statement, not an array)
 * against the data model of version V. On failure writes a sentence naming
 * the JSON path ("actor.mbox: must be a mailto: IRI") into ERR and returns
 * TC_EINVALID; 0 when valid. STMT is not modified.
 */
int xapi_statement_check(const json_t *stmt, enum xapi_version v, char *err, size_t errlen);

/* Checks an Agent or identified Group given alone (the agent= parameter). */
int xapi_agent_check(const json_t *agent, enum xapi_version v, char *err, size_t errlen);

/*
 * Canonical text key of the single inverse functional identifier of an
 * Agent or identified Group: "mbox:mailto:x@y", "mbox_sha1sum:<40 hex>",
 * "openid:<iri>", "account:<homePage> <name>". TC_EINVALID when there is not
 * exactly one, TC_ETOOBIG when OUT is too small.
 */
int xapi_agent_key(const json_t *agent, char *out, size_t outsize);

/*
 * 1 when A and B are the same statement by the specification's statement
 * comparison rules (properties the LRS sets are ignored), else 0.
 */
int xapi_statement_same(const json_t *a, const json_t *b);

/*
 * The statement as GET ?format= asks: a new reference (NULL on ENOMEM).
 * LANGS is the Accept-Language list for the canonical format (may be NULL).
 */
json_t *xapi_statement_format(const json_t *stmt, enum xapi_format f, const char *langs);

int xapi_uuid_valid(const char *s);			/* 1 or 0 */
int xapi_timestamp_parse(const char *s, int64_t *out_us);	/* 0 or TC_EINVALID */
int xapi_lang_tag_valid(const char *s);			/* 1 or 0 */

#endif
