"""consent_test.py - learner consent and transcripts: a learner grants an
institution access to all or selected credit records (validated field by
field, nothing stored on a bad request), changes and withdraws it (each a
new version, history kept, audited); the institution's API token with
credits:read reads exactly the consented credentials, each read is in the
learner's access log; without consent (never given, withdrawn, expired, or
no such person) the answer is the same 404 byte for byte; another
institution's token is refused; malformed national IDs are 400. The
transcript as a VC 2.0 VerifiablePresentation (each credential verifies)
and as EMREX ELMO XML (well-formed, values right, escaped; validated
against the ELMO XSD when a copy of the schema repositories is at hand)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap, verify_settled  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-cn-"), "data")
cli = DataCli(data, COST)
person = cli.person
for code, site in (("VNU", "https://www.vnu.edu.vn"), ("HUST", None)):
    args = ["institution", "add", code, "--name", "Trường " + code, "--kind", "university"]
    if site:
        args += ["--website", site]
    rc, out, err = cli(*args)
    assert rc == 0, err
person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
person("100000000008", "Phạm Quản Trị", "admin", "HUST")
person("200000000001", "Học Viên Một", "learner", "VNU")
person("200000000002", "Học Viên Hai", "learner", "VNU")
person("200000000003", "Học Viên Ba", "learner", "VNU")

srv = Server("--password-cost", COST, data=data)
db = os.path.join(data, "tinchi.db")


def sql(q):
    p = subprocess.run(["sqlite3", "-cmd", ".timeout 5000", db, q], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().strip()


def Client(nid=None, bearer=None):
    c = ApiClient(srv, nid)
    if bearer:
        orig = c.call

        def call(method, path, body=None, raw=None, ctype="application/json", headers=None, timeout=None):
            h = dict(headers or {})
            h["Authorization"] = "Bearer " + bearer
            return orig(method, path, body, raw, ctype, h, timeout)
        c.call = call
        c.bearer = bearer
    return c


anon, lec, vadmin, hadmin = Client(), Client("100000000001"), Client("100000000009"), Client("100000000008")
l1, l2, l3 = Client("200000000001"), Client("200000000002"), Client("200000000003")

TITLES = {"CS101": "Lập trình C <cơ bản> & \"thực hành\"", "CS102": "Cấu trúc dữ liệu", "CS103": "Mạng máy tính"}
for code, title in TITLES.items():
    st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                        {"code": code, "title": title, "description": "Mô tả " + code,
                         "language": "vi", "credits": "3"})
    assert st == 201, j


def token(admin, inst, scopes):
    st, h, j = admin.call("POST", "/api/v1/institutions/%s/tokens" % inst, {"name": "SIS " + inst, "scopes": scopes})
    assert st == 201, j
    return Client(bearer=j["token"])


issuer = token(vadmin, "VNU", ["credentials:issue"])
hust = token(hadmin, "HUST", ["credits:read"])
hust_issue = token(hadmin, "HUST", ["credentials:issue"])
vnu_reader = token(vadmin, "VNU", ["credits:read"])


def issue(nid, code, grade, term):
    body = {"credential": {"credentialSubject": {"national_id": nid, "achievement": {"humanCode": code},
                                                 "grade": grade, "term": term, "completed_on": "2025-06-20"}}}
    st, h, j = issuer.call("POST", "/credentials/issue", body)
    assert st == 201, j
    return j["verifiableCredential"]


c1 = issue("200000000001", "CS101", "8.5", "2025-02-01/2025-06-30")
c2 = issue("200000000001", "CS102", "7", "2024-2025 HK2")
c3 = issue("200000000001", "CS103", "9", "2024-2025 HK2")
c_other = issue("200000000002", "CS101", "6", "2024-2025 HK2")
U1, U2, U3, UO = c1["id"], c2["id"], c3["id"], c_other["id"]
st, h, j = vadmin.call("POST", "/api/v1/credentials/%s/revocation" % U3, {"reason": "nhầm lẫn"})
assert st == 200, j

TODAY = time.strftime("%Y-%m-%d", time.gmtime())
YEAR = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 365 * 86400))
R = "/api/v1/institutions/%s/learners/%s/credentials"

# ---- bad grants: 400/404 with a path, nothing stored ----------------------------------
bad = [
    ({"institution": "HUST", "credentials": "all", "extra": 1}, 400, "extra"),
    ({"credentials": "all"}, 400, "institution"),
    ({"institution": 7, "credentials": "all"}, 400, "institution"),
    ({"institution": "NOPE", "credentials": "all"}, 404, "institution"),
    ({"institution": "HUST"}, 400, "credentials"),
    ({"institution": "HUST", "credentials": "some"}, 400, "credentials"),
    ({"institution": "HUST", "credentials": []}, 400, "credentials"),
    ({"institution": "HUST", "credentials": [U1, 5]}, 400, "credentials[1]"),
    ({"institution": "HUST", "credentials": [U1, U1]}, 400, "credentials[1]"),
    ({"institution": "HUST", "credentials": [U1, UO]}, 404, "credentials[1]"),
    ({"institution": "HUST", "credentials": ["urn:uuid:nope"]}, 404, "credentials[0]"),
    ({"institution": "HUST", "credentials": "all", "purpose": "x" * 201}, 400, "purpose"),
    ({"institution": "HUST", "credentials": "all", "purpose": "a\nb"}, 400, "purpose"),
    ({"institution": "HUST", "credentials": "all", "purpose": 3}, 400, "purpose"),
    ({"institution": "HUST", "credentials": "all", "until": "2030-13-01"}, 400, "until"),
    ({"institution": "HUST", "credentials": "all", "until": "2027-02-30"}, 400, "until"),
    ({"institution": "HUST", "credentials": "all", "until": "01/02/2030"}, 400, "until"),
    ({"institution": "HUST", "credentials": "all", "until": "2020-01-01"}, 400, "until"),
    ({"institution": "HUST", "credentials": "all",
      "until": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 6 * 366 * 86400))}, 400, "until"),
]
for body, want, path in bad:
    st, h, j = l1.call("POST", "/api/v1/me/consents", body)
    t.ok(st == want and isinstance(j, dict) and j.get("path") == path and path in j.get("detail", ""),
         "bad grant is %d naming %s" % (want, path), (st, j))
t.eq(sql("SELECT count(*) FROM consents"), "0", "no bad grant stored anything")
st, h, j = anon.call("POST", "/api/v1/me/consents", {"institution": "HUST", "credentials": "all"})
t.eq(st, 401, "granting needs a signed-in person")
st, h, j = hust.call("POST", "/api/v1/me/consents", {"institution": "HUST", "credentials": "all"})
t.eq(st, 403, "an API token cannot grant")

# ---- no consent yet: 404, identical for "no consent" and "no such person" -------------


def raw_read(client, inst, nid):
    """The status and the body's bytes as sent (not re-serialised)."""
    st, h, d = srv.request("GET", R % (inst, nid), headers={"Authorization": "Bearer " + client.bearer})
    return st, d


st1, b1 = raw_read(hust, "HUST", "200000000001")
st2, b2 = raw_read(hust, "HUST", "299999999999")
t.ok(st1 == 404 and st2 == 404 and b1 == b2, "no consent and no such person: the same 404", (b1, b2))

# ---- grant all ------------------------------------------------------------------------
st, h, j = l1.call("POST", "/api/v1/me/consents", {"institution": "HUST", "credentials": "all",
                                                      "purpose": "xét tuyển (admission)"})
t.ok(st == 201 and j["version"] == 1 and j["state"] == "active" and j["credentials"] == "all" and
     j["institution"]["code"] == "HUST" and j["until"] == YEAR and j["withdrawn_at"] is None,
     "a learner grants HUST all records: 201, active, until a year from today by default", (st, j))
CONSENT = j.get("uid")
st, h, j = l1.call("GET", "/api/v1/me/consents")
t.ok(st == 200 and [c["uid"] for c in j["consents"]] == [CONSENT], "the learner lists it", j)
st, h, j = l2.call("GET", "/api/v1/me/consents/%s" % CONSENT)
t.eq(st, 404, "another learner cannot see it")

# the institution reads: every credential of the learner (revoked flagged), logged
st, h, j = hust.call("GET", R % ("HUST", "200000000001"))
got = {c["uid"]: c for c in j.get("credentials", [])} if st == 200 else {}
t.ok(st == 200 and set(got) == {U1, U2, U3} and j["consent"]["uid"] == CONSENT and
     j["consent"]["purpose"] == "xét tuyển (admission)",
     "HUST's credits:read token reads the consented credentials", (st, j))
t.ok(got.get(U3, {}).get("revoked_at") is not None and got.get(U1, {}).get("revoked_at") is None,
     "a revoked credential is flagged", got.get(U3))
for uid in (U1, U2):
    st, h, v = verify_settled(anon, got.get(uid, {}).get("credential", {}))
    t.ok(st == 200 and v.get("verified") is True, "the credential read verifies (%s)" % uid, v)
t.ok("200000000001" not in json.dumps(j), "the answer does not repeat the national ID")

st, h, j = l1.call("GET", "/api/v1/me/consents/accesses")
acc = j.get("accesses", []) if st == 200 else []
t.ok(len(acc) == 1 and acc[0]["institution"]["code"] == "HUST" and
     acc[0]["purpose"] == "xét tuyển (admission)" and set(acc[0]["credentials"]) == {U1, U2, U3} and
     acc[0]["reader"] == {"kind": "api_token", "name": "SIS HUST"} and
     acc[0]["text"] == "Trường HUST read your records on %s, for xét tuyển (admission)" % TODAY,
     "the learner sees the read in the access log", acc)
st, h, j = l2.call("GET", "/api/v1/me/consents/accesses")
t.ok(st == 200 and j["accesses"] == [], "another learner's log is empty", j)

# ---- wrong tokens and people; malformed national IDs ----------------------------------
st, h, j = vnu_reader.call("GET", R % ("HUST", "200000000001"))
t.eq(st, 403, "another institution's credits:read token is refused on HUST's route")
st3, b3 = raw_read(vnu_reader, "VNU", "200000000001")
t.ok(st3 == 404 and b3 == b1, "VNU's own token: the learner gave VNU nothing, the same 404", b3)
st, h, j = hust_issue.call("GET", R % ("HUST", "200000000001"))
t.eq(st, 403, "a HUST token without credits:read is refused")
st, h, j = hadmin.call("GET", R % ("HUST", "200000000001"))
t.eq(st, 403, "a person (even HUST's admin) is refused: API tokens only")
st, h, j = anon.call("GET", R % ("HUST", "200000000001"))
t.eq(st, 401, "nobody: 401")
for nid in ("12345", "2000000000011", "20000000000a", "+20000000001", "%20200000000001"):
    st, h, j = hust.call("GET", R % ("HUST", nid))
    t.ok(st == 400 and j.get("path") == "national_id", "malformed national ID %r is 400" % nid, (st, j))
st, h, j = hust.call("GET", R % ("NOPE", "200000000001"))
t.eq(st, 404, "an unknown institution is 404")
t.eq(sql("SELECT count(*) FROM consent_accesses"), "1", "refused reads are not logged (nothing was read)")

# ---- change to selected credentials: a new version ------------------------------------
st, h, j = l1.call("POST", "/api/v1/me/consents", {"institution": "HUST", "credentials": [U1],
                                                      "until": "2027-01-15", "purpose": "transfer"})
t.ok(st == 200 and j["uid"] == CONSENT and j["version"] == 2 and j["credentials"] == [U1] and
     j["until"] == "2027-01-15", "changing the consent is a new version of it (200)", (st, j))
st, h, j = hust.call("GET", R % ("HUST", "200000000001"))
t.ok(st == 200 and [c["uid"] for c in j["credentials"]] == [U1] and j["consent"]["version"] == 2,
     "only the selected credential is read now", j)
st, h, j = l1.call("GET", "/api/v1/me/consents/%s" % CONSENT)
hist = j.get("history", []) if st == 200 else []
t.ok([(v["version"], v["credentials"], v["purpose"]) for v in hist] ==
     [(1, "all", "xét tuyển (admission)"), (2, [U1], "transfer")], "the history keeps both versions", hist)

# ---- the institution's list -----------------------------------------------------------
st, h, j = hadmin.call("GET", "/api/v1/institutions/HUST/consents")
lst = j.get("consents", []) if st == 200 else []
t.ok(len(lst) == 1 and lst[0]["uid"] == CONSENT and lst[0]["learner"]["national_id"] == "********0001" and
     lst[0]["learner"]["full_name"] == "Học Viên Một" and "200000000001" not in json.dumps(j),
     "HUST's admin lists the consents given to HUST (national ID masked)", j)
st, h, j = hust.call("GET", "/api/v1/institutions/HUST/consents")
t.ok(st == 200 and len(j["consents"]) == 1, "so does HUST's credits:read token", j)
for who, name in ((vadmin, "VNU's admin"), (l1, "a learner"), (vnu_reader, "VNU's token")):
    st, h, j = who.call("GET", "/api/v1/institutions/HUST/consents")
    t.eq(st, 403, "%s cannot list HUST's consents" % name)
st, h, j = hadmin.call("GET", "/api/v1/institutions/HUST/consents?limit=0")
t.ok(st == 400 and j.get("path") == "query", "a bad limit is 400", j)

# ---- withdraw ---------------------------------------------------------------------------
st, h, j = l2.call("DELETE", "/api/v1/me/consents/%s" % CONSENT)
t.eq(st, 404, "another learner cannot withdraw it")
st, h, j = l1.call("DELETE", "/api/v1/me/consents/%s" % CONSENT)
t.ok(st == 200 and j["state"] == "withdrawn" and j["version"] == 3 and j["withdrawn_at"],
     "the learner withdraws it (a new version)", (st, j))
st4, b4 = raw_read(hust, "HUST", "200000000001")
t.ok(st4 == 404 and b4 == b1, "withdrawn: the same 404 at once", b4)
st, h, j = l1.call("POST", "/api/v1/me/consents/%s/withdraw" % CONSENT)
t.eq(st, 409, "withdrawing twice is 409")
st, h, j = l1.call("POST", "/api/v1/me/consents", {"institution": "HUST", "credentials": [U2]})
t.ok(st == 200 and j["version"] == 4 and j["state"] == "active", "granting again continues the chain", j)
st, h, j = hust.call("GET", R % ("HUST", "200000000001"))
t.ok(st == 200 and [c["uid"] for c in j["credentials"]] == [U2], "and HUST reads what it names now", j)
st, h, j = l1.call("POST", "/api/v1/me/consents/%s/withdraw" % CONSENT)
t.ok(st == 200 and j["state"] == "withdrawn", "POST .../withdraw withdraws too", j)
st, h, j = hadmin.call("GET", "/api/v1/institutions/HUST/audit")
events = [e.get("event") for e in j.get("events", [])] if st == 200 else []
t.ok(events.count("consent.granted") == 3 and events.count("consent.withdrawn") == 2,
     "grants and withdrawals are audited at the institution", events)
try:
    sql("UPDATE consents SET state = 'granted'")
    t.ok(False, "consent versions cannot be changed in place")
except AssertionError:
    t.ok(True, "consent versions cannot be changed in place (trigger)")

# ---- expiry: a version whose end has passed --------------------------------------------
st, h, j = l3.call("POST", "/api/v1/me/consents", {"institution": "HUST", "credentials": "all"})
assert st == 201, j
C3 = j["uid"]
pid3 = sql("SELECT id FROM people WHERE national_id = '200000000003'")
now = int(time.time())
sql("INSERT INTO consents (uid, version, person_id, institution_id, state, all_credentials, purpose,"
    " valid_until, created_at, created_by) SELECT uid, 2, person_id, institution_id, 'granted', 1, '',"
    " %d, %d, person_id FROM consents WHERE uid = '%s'" % (now - 1, now - 1, C3))
st5, b5 = raw_read(hust, "HUST", "200000000003")
t.ok(st5 == 404 and b5 == b1, "an expired consent: the same 404", b5)
st, h, j = l3.call("GET", "/api/v1/me/consents")
t.ok(st == 200 and j["consents"][0]["state"] == "expired", "the learner sees it expired", j)
st, h, j = hadmin.call("GET", "/api/v1/institutions/HUST/consents")
body = json.dumps(j, ensure_ascii=False)
t.ok(st == 200 and not any(c["uid"] in (CONSENT, C3) for c in j.get("consents", [])) and
     "Học Viên Một" not in body and "0001" not in body and "0003" not in body,
     "HUST's list no longer shows the withdrawn and the expired consent, nor their learners", j)

# ---- paging of the access log -----------------------------------------------------------
st, h, j = l1.call("GET", "/api/v1/me/consents/accesses?limit=2")
p1 = j.get("accesses", []) if st == 200 else []
st, h, j2 = l1.call("GET", "/api/v1/me/consents/accesses?limit=2&before=%d" % j.get("next_before", 0))
p2 = j2.get("accesses", []) if st == 200 else []
ids = [a["id"] for a in p1 + p2]
t.ok(len(p1) == 2 and len(p2) == 1 and ids == sorted(ids, reverse=True) and "next_before" not in j2,
     "the access log pages newest first (3 reads)", (p1, p2))
st, h, j = l1.call("GET", "/api/v1/me/consents/accesses?limit=x")
t.eq(st, 400, "a bad limit is 400")

# ---- transcript: VerifiablePresentation -----------------------------------------------
st, h, vp = l1.call("GET", "/api/v1/me/transcript")
vcs = vp.get("verifiableCredential", []) if st == 200 else []
t.ok(st == 200 and vp["@context"] == ["https://www.w3.org/ns/credentials/v2"] and
     vp["type"] == ["VerifiablePresentation"] and vp["id"].startswith("urn:uuid:") and "holder" not in vp and
     "proof" not in vp, "GET /me/transcript is an unsigned VC 2.0 VerifiablePresentation", vp)
t.ok(sorted(c["id"] for c in vcs) == sorted([U1, U2]), "with every credential not revoked", vcs)
for c in vcs:
    st, h, v = verify_settled(anon, c)
    t.ok(st == 200 and v.get("verified") is True, "a presented credential verifies (%s)" % c["id"], v)
st, h, vp = l1.call("GET", "/api/v1/me/transcript?credentials=%s" % U2)
t.ok(st == 200 and [c["id"] for c in vp["verifiableCredential"]] == [U2], "?credentials= picks", vp)
st, h, vp = l1.call("GET", "/api/v1/me/transcript?credentials=%s,%s" % (U2, U1))
t.ok(st == 200 and [c["id"] for c in vp["verifiableCredential"]] == [U2, U1], "in the order asked", vp)
st, h, vp = l1.call("GET", "/api/v1/me/transcript?credentials=%s%%2C%s" % (U2.replace(":", "%3A"), U1))
t.ok(st == 200 and [c["id"] for c in vp["verifiableCredential"]] == [U2, U1], "percent-encoded too", (st, vp))
for q, want, path in ((UO, 404, "credentials[0]"), ("%s,%s" % (U1, U1), 400, "credentials[1]"),
                      ("%s,nope" % U1, 404, "credentials[1]"), (U3, 409, "credentials[0]"),
                      ("%s," % U1, 400, "credentials[1]")):
    st, h, j = l1.call("GET", "/api/v1/me/transcript?credentials=" + q)
    t.ok(st == want and j.get("path") == path, "transcript ?credentials=%s is %d at %s" % (q[:20], want, path),
         (st, j))
st, h, j = anon.call("GET", "/api/v1/me/transcript")
t.eq(st, 401, "the transcript needs a signed-in person")

# ---- transcript: EMREX ELMO ------------------------------------------------------------
NS = "{https://github.com/emrex-eu/elmo-schemas/tree/v1}"
st, h, x = l1.call("GET", "/api/v1/me/transcript.xml")
t.ok(st == 200 and h.get("content-type", "").startswith("application/xml"), "GET /me/transcript.xml", (st, h))
root = None
try:
    root = ET.fromstring(x)
    t.ok(root.tag == NS + "elmo", "well-formed ELMO: the root is elmo")
except ET.ParseError as e:
    t.ok(False, "well-formed ELMO", (str(e), x[:400]))
if root is not None:
    lrn = root.find(NS + "learner")
    t.ok(lrn.find(NS + "identifier").get("type") == "nationalIdentifier" and
         lrn.find(NS + "identifier").text == "200000000001" and lrn.find(NS + "familyName").text == "Học" and
         lrn.find(NS + "givenNames").text == "Viên Một", "the learner: national ID, family and given names")
    reps = root.findall(NS + "report")
    t.eq(len(reps), 1, "one report (one issuer)")
    iss = reps[0].find(NS + "issuer")
    ids = {i.get("type"): i.text for i in iss.findall(NS + "identifier")}
    t.ok(ids.get("local") == "VNU" and ids.get("schac") == "vnu.edu.vn" and iss.find(NS + "title").text == "Trường VNU" and
         iss.find(NS + "title").get("{http://www.w3.org/XML/1998/namespace}lang") == "vi" and
         iss.find(NS + "country").text == "VN" and iss.find(NS + "url").text == "https://www.vnu.edu.vn",
         "the issuer: code, name in Vietnamese, country, url", ids)
    los = {lo.find(NS + "identifier").text: lo for lo in reps[0].findall(NS + "learningOpportunitySpecification")}
    t.eq(sorted(los), ["CS101", "CS102"], "one learning opportunity per credential (revoked left out)")
    lo = los.get("CS101")
    if lo is not None:
        inst = lo.find(NS + "specifies/" + NS + "learningOpportunityInstance")
        term = inst.find(NS + "academicTerm")
        t.ok(lo.find(NS + "title").text == TITLES["CS101"] and lo.find(NS + "type").text == "Course",
             "title (escaped and read back intact) and type Course", lo.find(NS + "title").text)
        t.ok(inst.find(NS + "status").text == "passed" and inst.find(NS + "resultLabel").text == "8.5" and
             inst.find(NS + "credit/" + NS + "scheme").text == "local" and
             inst.find(NS + "credit/" + NS + "value").text == "3" and
             inst.find(NS + "start").text == "2025-02-01" and inst.find(NS + "date").text == TODAY and
             term is not None and term.find(NS + "end").text == "2025-06-30" and
             inst.find(NS + "identifier").text == U1,
             "status, grade, credits (local scheme), dates and term")
    lo2 = los.get("CS102")
    t.ok(lo2 is not None and lo2.find(NS + "specifies/" + NS + "learningOpportunityInstance/" +
                                      NS + "academicTerm") is None,
         "a term that is not a date range has no academicTerm")
    t.ok(root.find(NS + "generatedDate").text == reps[0].find(NS + "issueDate").text, "issueDate = generatedDate")
st, h, x = l1.call("GET", "/api/v1/me/transcript.xml?credentials=%s" % U2)
t.ok(st == 200 and x.count(b"<learningOpportunitySpecification>") == 1, "the XML takes ?credentials= too")
st, h, j = l3.call("GET", "/api/v1/me/transcript.xml")
t.eq(st, 409, "no credentials: 409 (ELMO needs a report)")

# XSD validation against the public ELMO schema (never copied into tinchi): git
# mirrors of emrex-eu/elmo-schemas and the two EWP repositories it imports, in
# $SCHEMA_MIRRORS (default /work/.mirror, as the `fetch` tool leaves them), are
# extracted to a temporary folder and an XML catalog points the schemas' remote
# locations there. The W3C schema of the xml: namespace is stood in for by a
# declaration of xml:lang (the only xml: attribute these schemas use).
MIRRORS = os.environ.get("SCHEMA_MIRRORS", "/work/.mirror")
REPOS = {"elmo": "emrex-eu+elmo-schemas", "ewp-address": "erasmus-without-paper+ewp-specs-types-address",
         "ewp-arch": "erasmus-without-paper+ewp-specs-architecture"}
gits = {k: os.path.join(MIRRORS, v, "repo") for k, v in REPOS.items()}
if all(os.path.isdir(g) for g in gits.values()) and shutil.which("xmllint") and shutil.which("git"):
    tmp = tempfile.mkdtemp(prefix="tinchi-elmo-")
    for sub, g in gits.items():
        os.makedirs(os.path.join(tmp, sub))
        a = subprocess.run(["git", "--git-dir", g, "archive", "HEAD"], stdout=subprocess.PIPE, check=True)
        subprocess.run(["tar", "-x", "-C", os.path.join(tmp, sub)], input=a.stdout, check=True)
    with open(os.path.join(tmp, "xml.xsd"), "w") as f:
        f.write('<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"'
                ' targetNamespace="http://www.w3.org/XML/1998/namespace">\n<xs:attribute name="lang">'
                '<xs:simpleType><xs:union memberTypes="xs:language"><xs:simpleType>'
                '<xs:restriction base="xs:string"><xs:enumeration value=""/></xs:restriction>'
                '</xs:simpleType></xs:union></xs:simpleType></xs:attribute>\n</xs:schema>\n')
    cat = os.path.join(tmp, "catalog.xml")
    gh = "https://raw.githubusercontent.com/"
    with open(cat, "w") as f:
        f.write('<?xml version="1.0"?>\n<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">\n'
                '<system systemId="http://www.w3.org/2001/03/xml.xsd" uri="file://%s/xml.xsd"/>\n'
                '<rewriteSystem systemIdStartString="%semrex-eu/elmo-schemas/v1/" rewritePrefix="file://%s/elmo/"/>\n'
                '<system systemId="%serasmus-without-paper/ewp-specs-types-address/stable-v1/schema.xsd"'
                ' uri="file://%s/ewp-address/schema.xsd"/>\n'
                '<system systemId="%serasmus-without-paper/ewp-specs-architecture/stable-v1/common-types.xsd"'
                ' uri="file://%s/ewp-arch/common-types.xsd"/>\n</catalog>\n'
                % (tmp, gh, tmp, gh, tmp, gh, tmp))
    for q in ("", "?credentials=" + U2):
        st, h, x = l1.call("GET", "/api/v1/me/transcript.xml" + q)
        doc = os.path.join(tmp, "t.xml")
        with open(doc, "wb") as f:
            f.write(x)
        p = subprocess.run(["xmllint", "--nonet", "--noout", "--schema", os.path.join(tmp, "elmo", "schema.xsd"),
                            doc], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(os.environ, XML_CATALOG_FILES=cat))
        t.ok(st == 200 and p.returncode == 0, "the ELMO document%s validates against the ELMO XSD" % q[:12],
             p.stderr.decode()[-2000:])
    shutil.rmtree(tmp, ignore_errors=True)
else:
    t.diag("ELMO XSD validation skipped: no mirrors of the schema repositories in %s, or no xmllint" % MIRRORS)

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
