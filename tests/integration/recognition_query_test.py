"""recognition_query_test.py - the university's recognition query (issue 8):
HUST asks what it recognises of a learner's credentials from VNU. Each
consented credential comes with its verification (cached by hash once it
held) and the decision under HUST's agreements: overlapping rules (the most
specific wins), an expired agreement, a revoked credential, a key used
after its rotation, a grade below the minimum; totals by field. Withdrawn
consent and unknown people give the same 404; another institution's token
and a token without credits:read are 403; malformed national IDs 400. The
batch (JSON or CSV) answers 50 IDs in input order with bad and unknown ones
and a summary; bad batches are 400 before anything is computed. The
learner sees the same decisions explained, and can ask about a credential
signed by a did:key that is not in the registry (made here with Python
cryptography and JCS): "unregistered issuer". Every read by HUST is in the
learner's access log."""
import base64
import copy
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap, verify_settled  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-rq-"), "data")
cli = DataCli(data, COST)
for code in ("VNU", "HUST"):
    rc, out, err = cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
    assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
cli.person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
cli.person("100000000002", "Trần Giảng Viên", "lecturer", "HUST")
cli.person("100000000008", "Phạm Quản Trị", "admin", "HUST")
rc, out, err = cli("person", "add", "--national-id", "100000000007", "--name", "Vận Hành", "--role", "operator",
                   "--password-stdin", stdin=b"password-100000000007\n")
assert rc == 0, err
for n in range(1, 5):
    cli.person("20000000000%d" % n, "Học Viên %d" % n, "learner", "VNU")

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


anon, vlec, vadmin = Client(), Client("100000000001"), Client("100000000009")
hlec, hadmin, op = Client("100000000002"), Client("100000000008"), Client("100000000007")
L = {n: Client("20000000000%d" % n) for n in range(1, 5)}
NID = {n: "20000000000%d" % n for n in range(1, 5)}


def token(admin, inst, scopes):
    st, h, j = admin.call("POST", "/api/v1/institutions/%s/tokens" % inst, {"name": "SIS " + inst, "scopes": scopes})
    assert st == 201, j
    return Client(bearer=j["token"])


issuer = token(vadmin, "VNU", ["credentials:issue"])
hust = token(hadmin, "HUST", ["credits:read"])
hust_issue = token(hadmin, "HUST", ["credentials:issue"])
vnu_reader = token(vadmin, "VNU", ["credits:read"])

# ---- courses: VNU's (the source) and HUST's (the targets) ------------------------------
vcourse = {}
for code in ("CS101", "CS102", "CS103", "CS104"):
    st, h, j = vlec.call("POST", "/api/v1/institutions/VNU/courses",
                         {"code": code, "title": "Môn " + code, "language": "vi", "credits": "3"})
    assert st == 201, j
    vcourse[code] = j["uid"]
st, h, j = vlec.call("PUT", "/api/v1/courses/%s/field" % vcourse["CS102"], {"field": "0613"})
assert st == 200, j
for code, credits in (("IT101", "4"), ("IT102", "3"), ("IT103", "3")):
    st, h, j = hlec.call("POST", "/api/v1/institutions/HUST/courses",
                         {"code": code, "title": "Học phần " + code, "language": "vi", "credits": credits})
    assert st == 201, j

# ---- HUST's agreements --------------------------------------------------------------------
AG = "/api/v1/institutions/HUST/agreements"


def rule(body):
    st, h, j = hadmin.call("POST", AG, dict(body, status="active"))
    assert st == 201, j
    return j["id"]


R_CODE = rule({"source": "VNU", "match": {"course": "CS101"}, "target": {"course": "IT101"}, "min_grade": 5})
R_SET = rule({"source": "*", "match": {"courses": ["CS101", "CS102"]}, "target": {"course": "IT102"}})
R_FIELD = rule({"source": "VNU", "match": {"field": "06"}, "target": {"elective_credits": 2, "field": "06"}})
R_OLD = rule({"source": "VNU", "match": {"course": "CS103"}, "target": {"course": "IT103"}})
R_MIN = rule({"source": "VNU", "match": {"course": "CS104"}, "target": {"course": "IT103"}, "min_grade": 8})
st, h, j = hadmin.call("DELETE", "%s/%s" % (AG, R_OLD))
assert st == 200, j

# ---- credentials ------------------------------------------------------------------------


def issue(nid, code, grade, term):
    body = {"credential": {"credentialSubject": {"national_id": nid, "achievement": {"humanCode": code},
                                                 "grade": grade, "term": term, "completed_on": "2025-06-20"}}}
    st, h, j = issuer.call("POST", "/credentials/issue", body)
    assert st == 201, j
    return j["verifiableCredential"]


c101 = issue(NID[1], "CS101", "8.5", "2025 HK1")
c102 = issue(NID[1], "CS102", "7", "2025 HK1")
c103 = issue(NID[1], "CS103", "9", "2025 HK1")
c104 = issue(NID[1], "CS104", "6", "2025 HK1")
crev = issue(NID[1], "CS101", "9", "2024 HK2")
st, h, j = vadmin.call("POST", "/api/v1/credentials/%s/revocation" % crev["id"], {"reason": "cấp nhầm"})
assert st == 200, j
time.sleep(1.2)
clate = issue(NID[2], "CS101", "9", "2025 HK1")     # signed after the key's (back-dated) rotation
for c in (c101, c102, c103, c104, clate):
    st, h, v = verify_settled(anon, c)
    assert st == 200 and v.get("verified") is True, v

# VNU rotates its key; the old key's end is then put at the second clate was
# signed, as if the old key had been used after its rotation
st, h, j = op.call("POST", "/api/v1/institutions/VNU/keys")
assert st == 201, j
signed = clate["proof"][0]["created"]
sql("UPDATE institution_keys SET valid_until = CAST(strftime('%%s', '%s') AS INTEGER)"
    " WHERE did = '%s'" % (signed, clate["issuer"]["id"]))

# ---- consents ---------------------------------------------------------------------------
for n in (1, 2, 3):
    st, h, j = L[n].call("POST", "/api/v1/me/consents", {"institution": "HUST", "credentials": "all",
                                                         "purpose": "xét tuyển"})
    assert st == 201, j
    if n == 3:
        st, h, j = L[3].call("DELETE", "/api/v1/me/consents/%s" % j["uid"])
        assert st == 200, j

Q = "/api/v1/recognition/%s/learners/%s"

# ---- one learner --------------------------------------------------------------------------
st, h, j = hust.call("GET", Q % ("HUST", NID[1]))
got = {c["uid"]: c for c in j.get("credentials", [])} if st == 200 else {}
t.ok(st == 200 and set(got) == {c101["id"], c102["id"], c103["id"], c104["id"], crev["id"]},
     "HUST's credits:read token gets every consented credential", (st, j))


def dec(uid):
    return got.get(uid, {}).get("decision", {})


d = dec(c101["id"])
t.ok(d.get("recognised") is True and d.get("as") == "course" and d.get("course", {}).get("code") == "IT101" and
     d.get("credits") == 4 and d.get("rule") == {"id": R_CODE, "version": 1} and d.get("explanation"),
     "CS101 matches three rules: the single-code rule wins (IT101, 4 credits, its id and version)", d)
d = dec(c102["id"])
t.ok(d.get("recognised") is True and d.get("course", {}).get("code") == "IT102" and d.get("credits") == 3 and
     d.get("rule", {}).get("id") == R_SET,
     "CS102 (field 0613) matches the set and the field rule: the set wins", d)
d = dec(c103["id"])
t.ok(d.get("recognised") is False and d.get("reason") == "rule expired" and
     d.get("rule", {}).get("id") == R_OLD and d.get("rule", {}).get("version") == 2,
     "CS103: its only agreement expired (version 2)", d)
d = dec(c104["id"])
t.ok(d.get("recognised") is False and d.get("reason") == "grade below minimum" and
     d.get("rule", {}).get("id") == R_MIN, "CS104 with 6 under a minimum of 8: grade below minimum", d)
r = got.get(crev["id"], {})
t.ok(r.get("decision", {}).get("reason") == "revoked" and r.get("decision", {}).get("recognised") is False and
     r.get("verification") == {"verified": False, "failed_check": "status", "cached": False},
     "the revoked credential: verification fails on its status, refused as revoked", r)
v = got.get(c101["id"], {}).get("verification", {})
t.ok(v.get("verified") is True and v.get("failed_check") is None, "a good credential verifies", v)
x = got.get(c101["id"], {})
t.ok(x.get("course") == {"code": "CS101", "credits": 3, "grade": 8.5} and x.get("issuer", {}).get("code") == "VNU"
     and x.get("issuer", {}).get("did") == c101["issuer"]["id"],
     "each names its course, credits, grade and issuer", x)
tot = j.get("totals", {})
t.ok(tot == {"credentials": 5, "recognised": 2, "credits_recognised": 7,
             "by_field": {"unclassified": 4, "0613": 3}},
     "totals: 7 credits recognised, by field", tot)
t.ok(j.get("institution") == "HUST" and j.get("national_id") == NID[1], "the answer names who asked about whom")

st, h, j2 = hust.call("GET", Q % ("HUST", NID[1]))
got2 = {c["uid"]: c for c in j2.get("credentials", [])} if st == 200 else {}
t.ok(got2.get(c101["id"], {}).get("verification", {}).get("cached") is True and
     got2.get(crev["id"], {}).get("verification", {}).get("cached") is False and
     [c["decision"] for c in j2["credentials"]] == [c["decision"] for c in j["credentials"]],
     "asked again: verified ones come from the cache (the revoked one never), same decisions", j2)

st, h, j = hust.call("GET", Q % ("HUST", NID[2]))
d = (j.get("credentials") or [{}])[0].get("decision", {}) if st == 200 else {}
t.ok(st == 200 and d.get("reason") == "key not valid when signed" and d.get("recognised") is False,
     "a credential signed by VNU's key after the key's rotation: refused", (st, j))

# revocation after caching: the cache does not hide it
st, h, j = vadmin.call("POST", "/api/v1/credentials/%s/revocation" % c102["id"], {"reason": "sai điểm"})
assert st == 200, j
st, h, j = hust.call("GET", Q % ("HUST", NID[1]))
got = {c["uid"]: c for c in j.get("credentials", [])} if st == 200 else {}
t.ok(got.get(c102["id"], {}).get("decision", {}).get("reason") == "revoked" and
     got.get(c102["id"], {}).get("verification", {}).get("verified") is False and
     j.get("totals", {}).get("credits_recognised") == 4,
     "revoked after it was cached: verified again, refused, totals drop to 4", j.get("totals"))

# ---- refusals -----------------------------------------------------------------------------


def raw(client, path):
    st, h, d = srv.request("GET", path, headers={"Authorization": "Bearer " + client.bearer})
    return st, d


s1, b1 = raw(hust, Q % ("HUST", NID[3]))
s2, b2 = raw(hust, Q % ("HUST", "299999999999"))
s3, b3 = raw(hust, Q % ("HUST", NID[4]))
t.ok(s1 == s2 == s3 == 404 and b1 == b2 == b3,
     "withdrawn consent, no such person, never consented: the same 404 bytes", (b1, b2, b3))
st, h, j = vnu_reader.call("GET", Q % ("HUST", NID[1]))
t.eq(st, 403, "VNU's credits:read token on HUST's route: 403")
st, h, j = hust_issue.call("GET", Q % ("HUST", NID[1]))
t.eq(st, 403, "a HUST token without credits:read: 403")
st, h, j = anon.call("GET", Q % ("HUST", NID[1]))
t.eq(st, 401, "no credentials: 401")
st, h, j = hadmin.call("GET", Q % ("HUST", NID[1]))
t.ok(st == 200 and len(j.get("credentials", [])) == 5, "HUST's signed-in admin may ask too", st)
st, h, j = vadmin.call("GET", Q % ("HUST", NID[1]))
t.eq(st, 403, "VNU's admin may not ask on HUST's route")
for bad in ("12345", "20000000000x", "2000000000011", "%20" * 12):
    st, h, j = hust.call("GET", Q % ("HUST", bad))
    t.ok(st == 400 and "12 digits" in j.get("detail", ""), "malformed national ID %r: 400" % bad, (st, j))
st, h, j = hust.call("GET", Q % ("NOPE", NID[1]))
t.eq(st, 404, "an unknown institution: 404")

# ---- the batch ----------------------------------------------------------------------------
B = "/api/v1/recognition/HUST/learners:batch"
ids = []
for i in range(50):     # each ID once (a repeat is refused, below)
    k = i % 5
    ids.append([NID[1] if i == 0 else "2999999998%02d" % i, NID[2] if i == 1 else "2999999997%02d" % i,
                "2999999999%02d" % i, "bad-%d" % i, NID[3] if i == 4 else "2999999996%02d" % i][k])
st, h, body = srv.request("POST", B, body=json.dumps(ids).encode(),
                          headers={"Authorization": "Bearer " + hust.bearer, "Content-Type": "application/json"},
                          timeout=60)
lines = [json.loads(x) for x in body.decode().splitlines()] if st == 200 else []
t.ok(st == 200 and h.get("content-type", "").startswith("application/x-ndjson") and len(lines) == 51,
     "a batch of 50 national IDs: 50 lines and a summary, as NDJSON", (st, h, body[:300]))

def want(i):
    return 400 if i % 5 == 3 else 200 if i < 2 else 404


t.ok(all(lines[i].get("national_id") == ids[i] and lines[i].get("status") == want(i) for i in range(min(50, len(lines)))),
     "one line per ID, in input order: consented 200, unknown and withdrawn 404, malformed 400",
     [(x.get("national_id"), x.get("status")) for x in lines[:5]])
t.ok(len(lines) > 1 and lines[0].get("totals", {}).get("credits_recognised") == 4 and
     lines[1].get("credentials", [{}])[0].get("decision", {}).get("reason") == "key not valid when signed",
     "a batch line holds the same answer as the single query", lines[:2])
t.ok(lines and lines[-1].get("summary") == {"learners": 50, "answered": 2, "not_found": 38, "malformed": 10,
                                            "credits_recognised": 4},
     "the summary counts them (and says nothing of the server's time)", lines[-1] if lines else None)
b404 = json.loads(b1)["detail"]
t.ok(len(lines) > 4 and lines[2]["detail"] == lines[4]["detail"] == b404,
     "unknown and withdrawn look alike in the batch too")

csv = ("national_id\r\n%s\r\n\r\n299999999999\r\n%s\n" % (NID[2], NID[1])).encode()
st, h, body = srv.request("POST", B, body=csv, headers={"Authorization": "Bearer " + hust.bearer,
                                                        "Content-Type": "text/csv"})
lines = [json.loads(x) for x in body.decode().splitlines()] if st == 200 else []
t.ok(st == 200 and [(x.get("national_id"), x.get("status")) for x in lines[:3]] ==
     [(NID[2], 200), ("299999999999", 404), (NID[1], 200)] and "summary" in lines[-1],
     "CSV, one ID a line (header and blank lines skipped)", (st, body[:300]))

bad_batches = [
    (b'{"ids": []}', "application/json", 400),
    (b"[]", "application/json", 400),
    (b'["200000000001", 7]', "application/json", 400),
    (json.dumps(["200000000001"] * 10001).encode(), "application/json", 400),
    (b"[", "application/json", 400),
    (("x" * 65).encode(), "text/csv", 400),
    (b"", "text/csv", 400),
    (b"200000000001", "application/xml", 415),
]
before = sql("SELECT count(*) FROM consent_accesses")
for raw_body, ctype, want in bad_batches:
    st, h, body = srv.request("POST", B, body=raw_body, headers={"Authorization": "Bearer " + hust.bearer,
                                                                 "Content-Type": ctype})
    t.ok(st == want and h.get("content-type", "").startswith("application/problem+json"),
         "bad batch %r...: %d before anything is computed" % (raw_body[:20], want), (st, body[:200]))
named = []
for raw_body, ctype, path, first in ((b"200000000001\n\xff\xfe\n", "text/csv", "[1]", None),
                                     (json.dumps([NID[2], NID[1], "x", NID[1], NID[2]]).encode(),
                                      "application/json", "[3]", "[1]"),
                                     (("%s\n%s\n%s\n" % (NID[1], NID[2], NID[1])).encode(), "text/csv", "[2]", "[0]")):
    st, h, body = srv.request("POST", B, body=raw_body, headers={"Authorization": "Bearer " + hust.bearer,
                                                                 "Content-Type": ctype})
    j = json.loads(body) if st == 400 else {}
    named.append((j.get("path") == path and (first is None and "UTF-8" in j.get("detail", "") or
                                             first is not None and first in j.get("detail", "")), st, body[:200]))
t.ok(all(x[0] for x in named), "a line that is not UTF-8 and a repeated ID are 400 naming the entry"
     " (and the entry repeated)", named)
t.eq(sql("SELECT count(*) FROM consent_accesses"), before, "bad batches read nobody's records")
st, h, body = srv.request("POST", B, body=b'["200000000001"]',
                          headers={"Authorization": "Bearer " + vnu_reader.bearer, "Content-Type": "application/json"})
t.eq(st, 403, "the batch refuses another institution's token")

# ---- the access log ---------------------------------------------------------------------
st, h, j = L[1].call("GET", "/api/v1/me/consents/accesses")
acc = j.get("accesses", []) if st == 200 else []
# single queries: 3 by the token and 1 by the admin; batches: 1 + 1
t.ok(len(acc) == 6 and all(a["institution"]["code"] == "HUST" and a["purpose"] == "xét tuyển" for a in acc),
     "every query of learner 1 is in their access log (4 single, 2 in batches)", len(acc))
t.ok(any(a["reader"].get("kind") == "api_token" for a in acc) and
     any(a["reader"].get("kind") == "person" for a in acc), "by the token and by the admin", acc[:2])
st, h, j = L[3].call("GET", "/api/v1/me/consents/accesses")
t.ok(st == 200 and j.get("accesses") == [], "after withdrawal nothing was read: learner 3's log is empty", j)

# ---- the learner's view -----------------------------------------------------------------
st, h, j = L[4].call("GET", "/api/v1/me/recognition?institution=HUST")
t.ok(st == 200 and j.get("credentials") == [] and j["totals"]["credits_recognised"] == 0 and
     j["institution"]["code"] == "HUST", "a learner without credentials: nothing to recognise", j)
st, h, j = L[1].call("GET", "/api/v1/me/recognition?institution=HUST")
mine = {c["uid"]: c for c in j.get("credentials", [])} if st == 200 else {}
t.ok(st == 200 and len(mine) == 5 and mine.get(c101["id"], {}).get("decision", {}).get("rule", {}).get("id") == R_CODE
     and "IT101" in mine[c101["id"]]["decision"]["explanation"],
     "the learner sees the same decisions, explained", j)
t.ok(mine and {u: c["decision"] for u, c in mine.items()} == {u: c["decision"] for u, c in got.items()} and
     {u: c["course"] for u, c in mine.items()} == {u: c["course"] for u, c in got.items()},
     "facts from the stored fields (institution) and from the signed text (learner) decide alike")
n_acc = len(L[1].call("GET", "/api/v1/me/consents/accesses")[2].get("accesses", []))
t.eq(n_acc, 6, "the learner's own view is not an institution's read")
st, h, j = L[1].call("GET", "/api/v1/me/recognition")
t.eq(st, 400, "?institution is required")
st, h, j = L[1].call("GET", "/api/v1/me/recognition?institution=NOPE")
t.eq(st, 404, "an unknown institution: 404")
st, h, j = anon.call("GET", "/api/v1/me/recognition?institution=HUST")
t.eq(st, 401, "signed in only")
st, h, j = hust.call("GET", "/api/v1/me/recognition?institution=HUST")
t.eq(st, 403, "an API token has no own credentials")

# ---- a credential of an unregistered issuer (signed here) -------------------------------
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(b):
    n = int.from_bytes(b, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + out


def jcs(o):
    """RFC 8785 for these documents: sorted keys, no spaces, integral numbers as integers."""
    def norm(x):
        if isinstance(x, float) and x.is_integer():
            return int(x)
        if isinstance(x, dict):
            return {k: norm(v) for k, v in x.items()}
        if isinstance(x, list):
            return [norm(v) for v in x]
        return x
    return json.dumps(norm(o), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


key = Ed25519PrivateKey.generate()
pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
did = "did:key:z" + b58(b"\xed\x01" + pub)
rogue = copy.deepcopy(c101)
rogue["issuer"]["id"] = did
rogue["id"] = "urn:uuid:0badc0de-0000-4000-8000-000000000001"
proof = dict(rogue.pop("proof")[0])
proof.pop("proofValue")
proof["verificationMethod"] = did + "#" + did[8:]
cfg = dict(proof, **{"@context": rogue["@context"]})
sig = key.sign(hashlib.sha256(jcs(cfg)).digest() + hashlib.sha256(jcs(rogue)).digest())
rogue["proof"] = [dict(proof, proofValue="z" + b58(sig))]
st, h, v = anon.call("POST", "/api/v1/credentials/verify", {"credential": rogue})
checks = {c["check"]: c["ok"] for c in v.get("checks", [])} if st == 200 else {}
t.ok(checks.get("proof") is True and checks.get("issuer") is False,
     "the credential made here has a valid proof by a did:key outside the registry", v)
st, h, j = L[1].call("POST", "/api/v1/me/recognition?institution=HUST", {"credential": rogue})
t.ok(st == 200 and j.get("decision", {}).get("reason") == "unregistered issuer" and
     j.get("decision", {}).get("recognised") is False and j.get("verification", {}).get("verified") is False and
     j.get("verification", {}).get("failed_check") == "issuer" and j.get("issuer", {}).get("did") == did,
     "asking about it: refused as from an unregistered issuer", j)
st, h, j = L[1].call("POST", "/api/v1/me/recognition?institution=HUST", {"credential": c101})
t.ok(st == 200 and j.get("decision", {}).get("rule", {}).get("id") == R_CODE and
     j.get("verification", {}).get("verified") is True,
     "the same question about a genuine credential: recognised as IT101", j)
tampered = copy.deepcopy(c101)
tampered["credentialSubject"]["result"][0]["value"] = "10"
st, h, j = L[1].call("POST", "/api/v1/me/recognition?institution=HUST", {"credential": tampered})
t.ok(st == 200 and j.get("decision", {}).get("reason") == "not verified" and
     j.get("verification", {}).get("failed_check") == "proof", "a changed grade: not verified (proof)", j)
for body, path in (({"credential": 5}, "credential"), ({"x": 1}, "credential"),
                   ({"credential": {"issuer": {"id": did}}}, "credential")):
    st, h, j = L[1].call("POST", "/api/v1/me/recognition?institution=HUST", body)
    t.ok(st == 400 and j.get("path") == path, "a bad body is 400 naming %s" % path, (st, j))

# ---- the access log under concurrent queries (group commit) ------------------------------
import threading  # noqa: E402
before = int(sql("SELECT count(*) FROM consent_accesses"))
st, h, j = hust.call("GET", Q % ("HUST", NID[1]))
t.ok(st == 200 and int(sql("SELECT count(*) FROM consent_accesses")) == before + 1,
     "the entry is committed when the answer arrives", st)
answers = []


def one():
    answers.append(srv.request("GET", Q % ("HUST", NID[1]), headers={"Authorization": "Bearer " + hust.bearer})[0])


threads = [threading.Thread(target=one) for _ in range(24)]
for th in threads:
    th.start()
for th in threads:
    th.join()
t.ok(answers == [200] * 24 and int(sql("SELECT count(*) FROM consent_accesses")) == before + 25,
     "24 concurrent queries: every one answered and every one logged", answers)

# ---- the answer waits for its access-log commit -----------------------------------------
# another connection holds the write lock: the entry cannot commit, so no
# answer may go out (it is computed meanwhile); released, it commits and
# the answer follows. Held past the writer's 5 s wait, the commit fails:
# 5xx, no credential sent, nothing logged.
import sqlite3  # noqa: E402
auth = {"Authorization": "Bearer " + hust.bearer}
before = int(sql("SELECT count(*) FROM consent_accesses"))
lock = sqlite3.connect(db, timeout=10, isolation_level=None)
lock.execute("BEGIN IMMEDIATE")
got = []
th = threading.Thread(target=lambda: got.append(srv.request("GET", Q % ("HUST", NID[1]), headers=auth,
                                                            timeout=30)))
th.start()
time.sleep(2)
t.ok(not got, "while the entry cannot commit (the database is locked) no answer goes out",
     got[:1])
lock.execute("ROLLBACK")
th.join()
st, h, body = got[0] if got else (0, {}, b"")
t.ok(st == 200 and len(json.loads(body).get("credentials", [])) == 5 and
     int(sql("SELECT count(*) FROM consent_accesses")) == before + 1,
     "released: the entry commits and the full answer follows", (st, body[:200]))
lock.execute("BEGIN IMMEDIATE")
t0 = time.time()
st, h, body = srv.request("GET", Q % ("HUST", NID[1]), headers=auth, timeout=30)
waited = time.time() - t0
lock.execute("ROLLBACK")
lock.close()
t.ok(st in (500, 503) and b"urn:uuid" not in body and b"credentials" not in body and
     h.get("content-type", "").startswith("application/problem+json"),
     "the entry's commit failed (locked past the writer's wait): %d, no credential sent" % st,
     (st, waited, body[:300]))
t.ok(waited >= 4.5, "it was answered only after the writer gave up (%.1f s)" % waited)
t.eq(int(sql("SELECT count(*) FROM consent_accesses")), before + 1, "the failed read is not logged")
st, h, j = hust.call("GET", Q % ("HUST", NID[1]))
t.ok(st == 200 and int(sql("SELECT count(*) FROM consent_accesses")) == before + 2,
     "the next query is answered and logged again", st)

# ---- the lone answer's bytes are the batch line's ------------------------------------------
# the lone query writes its JSON directly, the batch through jansson: up to
# their own last members the bytes must be the same (numbers included)
same = []
for n in range(1, 5):
    st1, h1, one_b = srv.request("GET", Q % ("HUST", NID[n]), headers=auth)
    st2, h2, bat = srv.request("POST", B, body=json.dumps([NID[n]]).encode(),
                               headers=dict(auth, **{"Content-Type": "application/json"}))
    line = bat.splitlines()[0] if st2 == 200 else b""
    if st1 != 200:
        same.append((n, st1, json.loads(line).get("status")))
        continue
    a, b = one_b[:one_b.find(b',"institution":')], line[:line.find(b',"national_id":')]
    same.append((n, a == b and len(a) > 100, a if a != b else len(a), b if a != b else b""))
t.ok([x[1] for x in same if x[1] != 404] == [True, True], "lone answers: the batch's bytes", same)

# ... and each credential's object is what jansson makes of it (the learner's
# own view is built as a tree and dumped): numbers (credits, grades, totals
# written without a format), strings, nulls, member order
st1, h1, one_b = srv.request("GET", Q % ("HUST", NID[1]), headers=auth)
st2, h2, mine_b = srv.request("GET", "/api/v1/me/recognition?institution=HUST",
                              headers={"Cookie": L[1].cookie})
body = one_b[len(b'{"credentials":['):one_b.find(b'],"totals":')]
objs = [b'{"uid":' + x.rstrip(b",") for x in body.split(b'{"uid":')[1:]]
t.ok(st1 == 200 and st2 == 200 and len(objs) >= 4 and all(o in mine_b for o in objs) and
     b'"grade":8.5' in one_b and b'"credits":3.0' in one_b,
     "every credential of the lone answer is byte for byte the learner's own view's (jansson)",
     [o for o in objs if o not in mine_b][:2])

# ---- a rule changed between two queries ------------------------------------------------
# each thread keeps the candidates it looked up under the rules' stamp: a
# new version of a rule must be seen by the very next query


def cs101_rule():
    st, h, j = hust.call("GET", Q % ("HUST", NID[1]))
    d = [c["decision"] for c in j.get("credentials", []) if c["uid"] == c101["id"]]
    return (d[0].get("rule") or {}).get("id") if d else None


first = cs101_rule()
st, h, j = hadmin.call("DELETE", "%s/%s" % (AG, R_CODE))
t.ok(first == R_CODE and st == 200 and cs101_rule() == R_SET,
     "the winning rule ended: the next query decides CS101 by the next one (the set)", (first, st))

# ---- a revocation between two batches --------------------------------------------------
# a batch reads each issuer's status list once a group (revocation_pin): the
# next batch must read it again


def batch_c104():
    st, h, body = srv.request("POST", B, body=json.dumps([NID[1]]).encode(),
                              headers={"Authorization": "Bearer " + hust.bearer,
                                       "Content-Type": "application/json"})
    line = json.loads(body.decode().splitlines()[0]) if st == 200 else {}
    return {c["uid"]: c for c in line.get("credentials", [])}.get(c104["id"], {})


x = batch_c104()
t.ok(x.get("decision", {}).get("reason") == "grade below minimum" and
     x.get("verification", {}).get("verified") is True, "in a batch, CS104 verifies (below the minimum)", x)
st, h, j = vadmin.call("POST", "/api/v1/credentials/%s/revocation" % c104["id"], {"reason": "nhầm lớp"})
assert st == 200, j
x = batch_c104()
t.ok(x.get("decision", {}).get("reason") == "revoked" and
     x.get("verification") == {"verified": False, "failed_check": "status", "cached": False},
     "revoked between two batches: the next batch reads the status list again and refuses it", x)

# ---- a key's validity changed after a credential was cached ------------------------------
# the cache keeps what cannot change under a hash (schema, proof, log); the
# issuer key's validity is the registry's and can: a rotation in the very
# second a credential was signed ends the key at that second (valid_until =
# its signing time), put here with SQL. The next answer must be what a fresh
# verification says (issuer fails), in the lone query, the batch and the
# learner's own view; restored, it verifies again.


def c101_in(path, client=hust, batch=False):
    if batch:
        st, h, body = srv.request("POST", B, body=json.dumps([NID[1]]).encode(),
                                  headers={"Authorization": "Bearer " + hust.bearer,
                                           "Content-Type": "application/json"})
        j = json.loads(body.decode().splitlines()[0]) if st == 200 else {}
    else:
        st, h, j = client.call("GET", path)
    return {c["uid"]: c for c in j.get("credentials", [])}.get(c101["id"], {})


MINE = "/api/v1/me/recognition?institution=HUST"
x = c101_in(Q % ("HUST", NID[1]))
t.ok(x.get("verification") == {"verified": True, "failed_check": None, "cached": True},
     "before: CS101 comes verified from the cache", x)
old_until = sql("SELECT valid_until FROM institution_keys WHERE did = '%s'" % c101["issuer"]["id"])
sql("UPDATE institution_keys SET valid_until = CAST(strftime('%%s', '%s') AS INTEGER) WHERE did = '%s'"
    % (c101["proof"][0]["created"], c101["issuer"]["id"]))
st, h, fresh = anon.call("POST", "/api/v1/credentials/verify", {"credential": c101})
failed = [k["check"] for k in fresh.get("checks", []) if not k.get("ok")] if st == 200 else None
want = {"verified": False, "failed_check": "issuer", "cached": True}
views = [("lone", c101_in(Q % ("HUST", NID[1]))), ("batch", c101_in(None, batch=True)),
         ("mine", c101_in(MINE, client=L[1]))]
t.ok(fresh.get("verified") is False and failed == ["issuer"],
     "a fresh verification now fails the issuer check alone", (st, failed))
t.ok(all(x.get("verification") == want and x.get("decision", {}).get("reason") == "key not valid when signed"
         for _, x in views),
     "cached, the key ended at its signing second: not verified (issuer) in every view", views)
sql("UPDATE institution_keys SET valid_until = %s WHERE did = '%s'" % (old_until, c101["issuer"]["id"]))
x = c101_in(Q % ("HUST", NID[1]))
t.ok(x.get("verification") == {"verified": True, "failed_check": None, "cached": True} and
     x.get("decision", {}).get("recognised") is True, "restored: verified from the cache again", x)

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
leaked = [n for n in NID.values() if n in log] if isinstance(NID, dict) else [n for n in NID if n and n in log]
t.ok("learners/{national_id}" in log and not leaked,
     "the access log names the route, never the national IDs queried",
     [ln for ln in log.splitlines() if any(n in ln for n in leaked)][:5])
t.done()
