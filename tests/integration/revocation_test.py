"""revocation_test.py - revocation over real HTTP: an institution's admin
revokes a credential with a reason (others may not; a bad reason changes
nothing; a second revocation is 409); the verify API then reports it
revoked with the date and reason; the issuer's status list credential (the
URL the credentials name) is a signed BitstringStatusListCredential whose
eddsa-jcs-2022 proof verifies here in Python and whose decoded bit is set,
served with an ETag and a short max-age; the log has the revoke entry;
bulk revocation from CSV names every bad row and changes nothing unless
all rows are good; and @digitalbazaar/vc, given the status list
credential, refuses the revoked credential."""
import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap, vc_verify, verify_settled  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("TOP_SRCDIR", os.path.join(HERE, "..", ".."))

t = Tap()
try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    Ed25519PublicKey = None

COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-rv-"), "data")
cli = DataCli(data, COST)
person = cli.person
for code in ("VNU", "HUST"):
    rc, out, err = cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
    assert rc == 0, err
person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
person("100000000008", "Phạm Quản Trị", "admin", "HUST")
LEARNERS = ("200000000001", "200000000002", "200000000003")
for i, nid in enumerate(LEARNERS):
    person(nid, "Học Viên %d" % (i + 1), "learner", "VNU")

srv = Server("--password-cost", COST, data=data)


def Client(nid=None):
    return ApiClient(lambda: srv, nid)


anon, lec, admin, other_admin = Client(), Client("100000000001"), Client("100000000009"), Client("100000000008")
learners = [Client(n) for n in LEARNERS]

st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "RV101", "title": "Thu hồi", "description": "Khoá học thử.",
                     "language": "vi", "credits": "2"})
assert st == 201, j
course = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "text", "title": "Bài", "required": True, "body": "x"})
assert st == 201, j
unit = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
assert st == 200, j
creds = []
for c in learners:
    st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % course)
    assert st == 201, j
    st, h, j = c.call("POST", "/api/v1/units/%s/read" % unit)
    assert st == 200, j
    st, h, j = c.call("GET", "/api/v1/credentials")
    assert st == 200 and len(j["credentials"]) == 1, j
    creds.append(j["credentials"][0])
t.ok(len(creds) == 3, "three learners complete the course and get a credential each")
cred = creds[0]["credential"]
uid = creds[0]["uid"]
index = int(cred["credentialStatus"]["statusListIndex"])
url = cred["credentialStatus"]["statusListCredential"]
path = "/" + url.split("://", 1)[1].split("/", 1)[1]
t.ok(path == "/api/v1/institutions/VNU/status/revocation", "the credentials name the issuer's status list", url)

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(s):
    n = 0
    for ch in s:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(s) - len(s.lstrip("1"))) + raw


def jcs(o):  # exact for documents of strings, objects and arrays (the status list credential)
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def di_verify(doc):
    """eddsa-jcs-2022 verification of DOC's single proof; True/False."""
    if Ed25519PublicKey is None:
        return None
    proofs = doc.get("proof")
    if not isinstance(proofs, list) or len(proofs) != 1:
        return False
    proof = dict(proofs[0])
    value = proof.pop("proofValue", "")
    if proof.get("cryptosuite") != "eddsa-jcs-2022" or not value.startswith("z"):
        return False
    did = doc["issuer"] if isinstance(doc["issuer"], str) else doc["issuer"]["id"]
    if not proof.get("verificationMethod", "").startswith(did + "#"):
        return False
    key = b58decode(did[len("did:key:z"):])
    if key[:2] != b"\xed\x01":
        return False
    proof["@context"] = doc["@context"]
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    data = hashlib.sha256(jcs(proof)).digest() + hashlib.sha256(jcs(unsecured)).digest()
    try:
        Ed25519PublicKey.from_public_bytes(key[2:34]).verify(b58decode(value[1:]), data)
        return True
    except Exception:
        return False


def status_bit(doc, i):
    enc = doc["credentialSubject"]["encodedList"]
    assert enc[0] == "u"
    bits = gzip.decompress(base64.urlsafe_b64decode(enc[1:] + "=" * (-len(enc[1:]) % 4)))
    return len(bits) * 8, (bits[i // 8] >> (7 - i % 8)) & 1


def get_list(headers=None):
    return anon.call("GET", path, headers=headers)


# ---- the status list credential before any revocation -------------------------------------
st, h, sl = get_list()
t.ok(st == 200 and h.get("content-type", "").startswith("application/json"), "the status list credential is public JSON", (st, sl))
etag0 = h.get("etag", "")
t.ok(etag0.startswith('"') and "max-age=300" in h.get("cache-control", ""), "it has an ETag and max-age=300", h)
keys = subprocess.run(["sqlite3", os.path.join(data, "tinchi.db"),
                      "SELECT k.did FROM institution_keys k JOIN institutions i ON i.id = k.institution_id"
                      " WHERE i.code = 'VNU' AND k.valid_until = 0"], stdout=subprocess.PIPE).stdout.decode().split()
subj = sl.get("credentialSubject", {}) if isinstance(sl, dict) else {}
t.ok(sl.get("@context") == ["https://www.w3.org/ns/credentials/v2"] and
     sl.get("type") == ["VerifiableCredential", "BitstringStatusListCredential"] and
     sl.get("id") == url and keys and sl.get("issuer") == keys[0] and sl.get("validFrom") and
     subj.get("id") == url + "#list" and subj.get("type") == "BitstringStatusList" and
     subj.get("statusPurpose") == "revocation", "a BitstringStatusListCredential by the institution's did:key", sl)
old_list = subj.get("encodedList")
nbits, bit = status_bit(sl, index)
t.ok(nbits >= 131072 and bit == 0, "its list has >= 131072 entries and the credential's bit unset", nbits)
v = di_verify(sl)
t.ok(v is not False, "its eddsa-jcs-2022 proof verifies" + (" # SKIP python3-cryptography absent" if v is None else ""))
st, h, j = get_list({"If-None-Match": etag0})
t.eq(st, 304, "If-None-Match with its ETag is 304")
st, h, j = anon.call("GET", "/api/v1/institutions/VNU/status/suspension")
t.eq(st, 404, "another purpose is 404")
st, h, j = anon.call("GET", "/api/v1/institutions/NOPE/status/revocation")
t.eq(st, 404, "an unknown institution is 404")

# ---- who may revoke, and bad input ----------------------------------------------------------
R = "/api/v1/credentials/%s/revocation"
REASON = "Gian lận trong kỳ thi cuối kỳ"
st, h, j = anon.call("POST", R % uid, {"reason": REASON})
t.eq(st, 401, "revocation needs a signed-in person")
for who, name in ((learners[0], "the learner"), (lec, "a lecturer"), (other_admin, "another institution's admin")):
    st, h, j = who.call("POST", R % uid, {"reason": REASON})
    t.eq(st, 403, "%s may not revoke" % name)
for body, why in (({}, "missing"), ({"reason": ""}, "empty"), ({"reason": "   "}, "blank"),
                  ({"reason": 5}, "not a string"), ({"reason": "x" * 501}, "501 characters"),
                  ({"reason": "a\nb"}, "two lines")):
    st, h, j = admin.call("POST", R % uid, body)
    t.ok(st == 400 and "reason" in j.get("detail", ""), "a reason %s is 400 naming reason" % why, (st, j))
st, h, j = admin.call("POST", R % "urn:uuid:00000000-0000-4000-8000-000000000000", {"reason": REASON})
t.eq(st, 404, "an unknown credential is 404")
st, h, j = verify_settled(anon, cred)
t.ok(st == 200 and j.get("verified") is True, "after the refused attempts it still verifies", j)

# ---- many verifications at once (the worker pool, the kept status list) ---------------------
def verify_many(docs, n_threads=6):
    import threading
    out, lock = [], threading.Lock()

    def one(k):
        c = Client()
        for d in docs[k::n_threads]:
            st, h, j = c.call("POST", "/api/v1/credentials/verify", {"credential": d})
            checks = {x["check"]: x for x in j.get("checks", [])} if st == 200 else {}
            with lock:
                out.append((st, j.get("verified") if st == 200 else None,
                            checks.get("status", {}).get("detail", ""),
                            [x for x in checks.values() if not x.get("ok")]))
    ts = [threading.Thread(target=one, args=(k,)) for k in range(n_threads)]
    for x in ts:
        x.start()
    for x in ts:
        x.join()
    return out


# Each credential first in a signed checkpoint (under load the checkpoint
# thread may not have covered the last ones yet): the concurrent part tests
# the worker pool, not the checkpoint interval.
for c in creds:
    verify_settled(anon, c["credential"])
many = [c["credential"] for c in creds] * 8
res = verify_many(many)
t.ok(len(res) == len(many) and all(r[0] == 200 and r[1] is True for r in res),
     "%d verifications at once from 6 clients: all 200 and verified" % len(many),
     [r for r in res if r[0] != 200 or r[1] is not True][:3])

# ---- revoke ------------------------------------------------------------------------------
st, h, j = admin.call("POST", R % uid, {"reason": "ừ" * 500})
t.ok(st == 200 and j.get("uid") == uid and j.get("reason") == "ừ" * 500 and j.get("revoked_at"),
     "the issuing institution's admin revokes it (a reason of 500 characters)", j)
today = j.get("revoked_at", "")[:10]
st, h, j = anon.call("POST", "/api/v1/credentials/verify", {"credential": cred})
checks = {c["check"]: c for c in j.get("checks", [])} if st == 200 else {}
t.ok(st == 200 and j["verified"] is False and not checks["status"]["ok"] and
     checks["status"]["detail"] == "revoked on %s: %s" % (today, "ừ" * 500) and checks["proof"]["ok"],
     "verify: revoked on <date>: <reason>", j)
st, h, j = admin.call("POST", R % uid, {"reason": REASON})
t.eq(st, 409, "a second revocation is 409")
res = verify_many([cred] * 12 + [c["credential"] for c in creds[1:]] * 2)
t.ok(all(r[0] == 200 for r in res) and
     sum(1 for r in res if r[1] is False and r[2].startswith("revoked on " + today)) == 12 and
     sum(1 for r in res if r[1] is True) == len(res) - 12,
     "at once after the revocation: the revoked one revoked each time, the others verified", res[:3])
st, h, j = learners[0].call("GET", "/api/v1/credentials")
t.ok(st == 200 and j["credentials"][0].get("revoked_at"), "the learner's list shows it revoked", j)

st, h, sl = get_list()
etag1 = h.get("etag", "")
t.ok(st == 200 and etag1 and etag1 != etag0, "the status list credential is signed anew (new ETag)", h)
t.ok(status_bit(sl, index)[1] == 1, "its bit for the credential is set")
t.ok(all(status_bit(sl, int(c["credential"]["credentialStatus"]["statusListIndex"]))[1] == 0 for c in creds[1:]),
     "the other credentials' bits are unset")
v = di_verify(sl)
t.ok(v is not False, "the new list's proof verifies" + (" # SKIP python3-cryptography absent" if v is None else ""))
bad = json.loads(json.dumps(sl))
bad["credentialSubject"]["encodedList"] = old_list
t.ok(di_verify(bad) in (False, None), "the new proof over the old bits does not verify")
st, h, j = get_list({"If-None-Match": etag0})
t.eq(st, 200, "the old ETag is no longer current")
st, h, j = get_list({"If-None-Match": etag1})
t.eq(st, 304, "the new one is")

# ---- the log ----------------------------------------------------------------------------------
raw = srv.request("GET", "/api/v1/credentials/" + uid, headers={"Cookie": learners[0].cookie})[2]
digest = "sha256:" + hashlib.sha256(raw).hexdigest()
found = []
deadline = time.time() + 10
while time.time() < deadline:
    st, h, cp = anon.call("GET", "/log/checkpoint")
    size = int(cp.split(b"\n")[1]) if st == 200 and isinstance(cp, bytes) else 0
    if size:
        st, h, lv = anon.call("GET", "/log/leaves?start=0&end=%d" % size)
        entries = [json.loads(e["entry"]) for e in lv.get("leaves", [])] if st == 200 else []
        found = [e for e in entries if e.get("hash") == digest]
        if any(e["kind"] == "revoke" for e in found):
            break
    time.sleep(0.2)
kinds = sorted(e["kind"] for e in found)
rev = [e for e in found if e["kind"] == "revoke"]
t.ok(kinds == ["issue", "revoke"] and rev[0]["issuer"] == cred["issuer"]["id"],
     "the log holds the issue and the revoke entry of the credential, by its issuer", found)

# ---- bulk revocation from CSV -------------------------------------------------------------------
BULK = "/api/v1/institutions/VNU/credentials:revoke"
u2, u3 = creds[1]["uid"], creds[2]["uid"]


def csv_call(who, text, inst="VNU", ctype="text/csv"):
    return who.call("POST", "/api/v1/institutions/%s/credentials:revoke" % inst, raw=text.encode(), ctype=ctype)


st, h, j = csv_call(other_admin, "credential_id,reason\r\n%s,x\r\n" % u2)
t.eq(st, 403, "another institution's admin may not revoke in bulk")
st, h, j = csv_call(lec, "credential_id,reason\r\n%s,x\r\n" % u2)
t.eq(st, 403, "nor may a lecturer")
st, h, j = csv_call(admin, '{"a": 1}', ctype="application/json")
t.eq(st, 415, "a body that is not text/csv is 415")
st, h, j = csv_call(admin, "id,why\n%s,x\n" % u2)
t.ok(st == 422 and j.get("errors", [{}])[0].get("line") == 1, "a wrong header is 422 naming line 1", j)
text = ("credential_id,reason\n%s,Sai điểm\nurn:uuid:00000000-0000-4000-8000-000000000000,x\n%s,\n%s,again\n%s,\"dup\"\n"
        % (u2, u3, uid, u2))
st, h, j = csv_call(admin, text)
errs = {(e["line"], e.get("column")): e["message"] for e in j.get("errors", [])} if st == 422 else {}
t.ok(st == 422 and j.get("revoked") is False and j.get("rows") == 5 and
     set(errs) == {(3, "credential_id"), (4, "reason"), (5, "credential_id"), (6, "credential_id")} and
     "revoked already" in errs[(5, "credential_id")] and "twice" in errs[(6, "credential_id")],
     "every bad row is reported with its line and column", j)
st, h, j = verify_settled(anon, creds[1]["credential"])
t.ok(st == 200 and j.get("verified") is True, "nothing changed: the good row's credential still verifies", j)
st, h, sl2 = get_list()
t.eq(h.get("etag"), etag1, "nor did the status list")
st, h, j = csv_call(admin, "credential_id,reason\n%s,Sai điểm\n\"%s\",\"Trùng lặp, hủy\"\n" % (u2, u3))
t.ok(st == 200 and j.get("count") == 2, "a file of good rows revokes them all", j)
for c in creds[1:]:
    st, h, j = anon.call("POST", "/api/v1/credentials/verify", {"credential": c["credential"]})
    checks = {x["check"]: x for x in j.get("checks", [])} if st == 200 else {}
    t.ok(st == 200 and j["verified"] is False and checks["status"]["detail"].startswith("revoked on " + today),
         "a bulk-revoked credential verifies as revoked", j)
st, h, j = admin.call("GET", "/api/v1/institutions/VNU/audit")
events = [e.get("event") for e in j.get("events", j if isinstance(j, list) else [])] if st == 200 else []
t.ok("credential.revoked" in events and "credentials.revoked" in events, "both revocations are audited", events)

# ---- an independent verifier with our status list credential -----------------------------------
st, h, sl = get_list()
r = vc_verify(cred, sl)
if r is None:
    t.ok(True, "independent verifier # SKIP node or node_modules (npm ci) absent")
else:
    t.ok(r[0] == 1 and "revoked" in r[1],
         "@digitalbazaar/vc with our status list credential refuses the revoked credential",
         (r[1][-2000:], r[2][-2000:]))

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
