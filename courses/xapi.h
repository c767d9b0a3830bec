/*
 * xapi.h - the xAPI statement data model (xAPI 2.0.0 / IEEE 9274.1.1, and
 * 1.0.x): validation of statements and agents as an LRS receives them,
 * agent identity keys for matching, statement comparison for idempotent
 * re-sends, and the GET formats. Pure domain: no storage, no transport.
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
 * TC_EINVALID; 0 when valid. STMT is not modified. ERR (ERRLEN bytes, may
 * be NULL) holds "" on success.
 *
 * Every object is checked against the properties the data model allows
 * for it (a misspelt or wrongly cased key is refused as unknown), and a
 * null is refused wherever a value has a type, that is everywhere but the
 * values of an "extensions" object.
 *
 * The rules, by node (1.0.x and 2.0.x unless marked):
 *  statement    required actor, verb, object; id UUID; timestamp and stored
 *               ISO 8601 instants (2.0: with an offset); "-00:00", "-0000"
 *               and "-00" offsets refused; version "1.0[.x]" (2.0 also
 *               "2.0[.x]"); authority; attachments; a voiding statement
 *               (verb http://adlnet.gov/expapi/verbs/voided) has a
 *               StatementRef object
 *  agent        objectType absent or "Agent"; name string; exactly one of
 *               mbox ("mailto:" address with an @), mbox_sha1sum (40 hex),
 *               openid (IRI), account {homePage IRL, name string}
 *  group        objectType "Group"; name; at most one IFI; member an array
 *               of agents; an anonymous group (no IFI) needs member
 *  authority    an agent, or an anonymous group of exactly two agents
 *  verb         id IRI; display language map
 *  object       objectType absent/"Activity": id IRI, definition;
 *               "Agent"/"Group" (objectType required, else it is read as
 *               an Activity and refused); "StatementRef": id UUID;
 *               "SubStatement": actor, verb, object, result, context,
 *               timestamp, attachments, objectType - no id, stored,
 *               version, authority, no SubStatement object
 *  definition   name/description language maps; type IRI; moreInfo IRL;
 *               interactionType one of the ten (exact case), required when
 *               correctResponsesPattern or a component list is present;
 *               correctResponsesPattern array of strings; choices
 *               (choice, sequencing), scale (likert), source and target
 *               (matching), steps (performance): arrays of {id string,
 *               description language map} with ids unique per list;
 *               extensions
 *  extensions   object whose keys are IRIs; values anything (null too)
 *  result       score {scaled in [-1,1], raw in [min,max], min <= max,
 *               numbers}; success, completion booleans; response string;
 *               duration ISO 8601 duration (PnYnMnDTnHnMnS or PnW);
 *               extensions
 *  context      registration UUID; instructor agent or group; team group;
 *               contextActivities {parent, grouping, category, other}
 *               each an activity or an array of activities; revision and
 *               platform strings, only when the object is an Activity;
 *               language RFC 5646 tag; statement StatementRef; extensions;
 *               2.0 only: contextAgents [{objectType "contextAgent", agent
 *               (an Agent), relevantTypes non-empty array of IRIs}] and
 *               contextGroups [{objectType "contextGroup", group (a Group),
 *               relevantTypes}]
 *  attachment   usageType IRI; display language map; description language
 *               map; contentType media type; length integer >= 0; sha2
 *               hex SHA-2 digest; fileUrl IRL
 *  language map object whose keys are well-formed RFC 5646 tags (full
 *               grammar: extlang, script, region, variants, extensions,
 *               private use, grandfathered; no repeated singleton or
 *               variant) and whose values are strings
 *  IRI / IRL    a scheme (ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")), ":",
 *               then at least one character, none of them space, control
 *               or one of <>"{}|\^`
 *
 * Not checked here (the LRS does it): that a StatementRef target exists,
 * that a voided target is not itself voiding, signatures of signed
 * statements, attachment parts against their sha2.
 */
int xapi_statement_check(const json_t *stmt, enum xapi_version v, char *err, size_t errlen);

/* Checks an Agent or identified Group given alone (the agent= parameter). */
int xapi_agent_check(const json_t *agent, enum xapi_version v, char *err, size_t errlen);

/*
 * Canonical text key of the single inverse functional identifier of an
 * Agent or identified Group: "mbox:mailto:x@y", "mbox_sha1sum:<40 hex>",
 * "openid:<iri>", "account:<homePage> <name>" (values as given, except
 * the SHA-1 in lower case). TC_EINVALID when there is not exactly one,
 * TC_ETOOBIG when OUT is too small.
 */
int xapi_agent_key(const json_t *agent, char *out, size_t outsize);

/*
 * 1 when A and B are the same statement by the specification's statement
 * comparison rules, else 0 (also for NULL, and when memory runs out).
 * Ignored: stored, authority, version, and id when one of them lacks it.
 * Normalised before comparing: timestamps to instants, durations to
 * hundredths of a second, UUIDs (id, registration, StatementRef ids) and
 * language map keys and mbox_sha1sum to lower case, absent objectTypes to
 * their defaults (Agent, Activity), a single context activity to an array
 * of one, numbers by value (1 == 1.0).
 */
int xapi_statement_same(const json_t *a, const json_t *b);

/*
 * The statement as GET ?format= asks: a new reference (NULL on ENOMEM).
 * EXACT: a deep copy. IDS: Agents and identified Groups reduced to
 * objectType and IFI, anonymous Groups to objectType and members (each
 * reduced), Activities to their id (no objectType), verbs to id, everywhere
 * (context, authority, SubStatement included). CANONICAL: every language
 * map reduced to the entry that best matches the Accept-Language list
 * LANGS (q values, exact tag before prefix); its first entry when nothing
 * matches or LANGS is NULL.
 */
json_t *xapi_statement_format(const json_t *stmt, enum xapi_format f, const char *langs);

/* 1 when S is a UUID in 8-4-4-4-12 hex digits, either case; else 0. */
int xapi_uuid_valid(const char *s);

/*
 * Parses an ISO 8601 / RFC 3339 date and time (YYYY-MM-DDThh:mm:ss[.f]
 * [Z|+hh:mm|+hhmm|+hh]) into microseconds since the epoch (*OUT_US, may be
 * NULL; digits beyond microseconds are dropped). Without an offset the
 * time is read as UTC. TC_EINVALID for anything else, including the
 * "unknown offset" forms -00:00, -0000 and -00.
 */
int xapi_timestamp_parse(const char *s, int64_t *out_us);

/* 1 when S is a well-formed RFC 5646 language tag (full grammar); else 0. */
int xapi_lang_tag_valid(const char *s);

#endif
