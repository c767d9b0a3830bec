"""statuslist_growth_test.py - an institution's status list grows past
131,072 credentials (issue 7) by segments of 131,072 entries. The store's
next_k is set to 131,070 directly (issuing 131,070 real credentials would
take hours; the running server reads it at each issue); five more completions then all issue, the last three in
segment 1 (indexes 131,072..262,143); the published list credential has
2 x 131,072 entries and a valid proof; every credential, old (segment 0)
and new, verifies by POST /api/v1/credentials/verify, offline with
`tinchi verify --status-list` and with @digitalbazaar/vc; revoking one in
segment 1 shows as revoked in all three, and only that one. At the
maximum (STATUSLIST_MAX_BITS credentials) a completion waits with a clear
log line, and the VC API, the CSV import and an approval answer 409 saying
the list is full."""
import base64
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap, vc_verify, verify_settled  # noqa: E402

SEGMENT = 131072
MAX_BITS = 128 << 20
BIN = os.environ.get("TINCHI_BIN", "build/tinchi")

t = Tap()
COST = "12"
tmp = tempfile.mkdtemp(prefix="tinchi-slg-")
data = os.path.join(tmp, "data")
db = os.path.join(data, "tinchi.db")
cli = DataCli(data, COST)
rc, out, err = cli("institution", "add", "VNU", "--name", "Trường VNU", "--kind", "university")
assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
cli.person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
LEARNERS = ["2000000000%02d" % i for i in range(1, 8)]
for i, nid in enumerate(LEARNERS):
    cli.person(nid, "Học Viên %d" % (i + 1), "learner", "VNU")

srv = Server("--password-cost", COST, data=data)


def Client(nid=None, bearer=None):
    c = ApiClient(lambda: srv, nid)
    if bearer:
        orig = c.call

        def call(method, path, body=None, raw=None, ctype="application/json", headers=None, timeout=None):
            return orig(method, path, body, raw, ctype, dict(headers or {}, Authorization="Bearer " + bearer),
                        timeout)
        c.call = call
    return c


def sql(q):
    p = subprocess.run(["sqlite3", "-cmd", ".timeout 5000", db, q], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().strip()


anon, lec, admin = Client(), Client("100000000001"), Client("100000000009")
learners = [Client(n) for n in LEARNERS]
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "SL101", "title": "Danh sách trạng thái", "description": "Khoá học thử.",
                     "language": "vi", "credits": "2"})
assert st == 201, j
course = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course,
                    {"kind": "text", "title": "Bài", "required": True, "body": "x"})
assert st == 201, j
unit = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
assert st == 200, j


def complete(c):
    """C enrols and completes the course: its credentials afterwards."""
    st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % course)
    assert st == 201, j
    st, h, j = c.call("POST", "/api/v1/units/%s/read" % unit)
    assert st == 200, j
    st, h, j = c.call("GET", "/api/v1/credentials")
    assert st == 200, j
    return j["credentials"]


def index_of(cred):
    return int(cred["credentialStatus"]["statusListIndex"])


def status_bits(doc):
    enc = doc["credentialSubject"]["encodedList"]
    assert enc[0] == "u"
    return gzip.decompress(base64.urlsafe_b64decode(enc[1:] + "=" * (-len(enc[1:]) % 4)))


def bit(bits, i):
    return (bits[i // 8] >> (7 - i % 8)) & 1


def get_list():
    st, h, sl = anon.call("GET", "/api/v1/institutions/VNU/status/revocation")
    assert st == 200, sl
    return sl


# ---- segment 0: the first credential, indexes as before ------------------------------------
old = complete(learners[0])
t.ok(len(old) == 1 and 0 <= index_of(old[0]["credential"]) < SEGMENT, "the first credential is in segment 0",
     old)
old = old[0]
one_segment = get_list()  # signed by the issuer: kept for the out-of-range check below
t.eq(len(status_bits(one_segment)) * 8, SEGMENT, "the list has 131,072 entries while segment 0 is in use")

# ---- the boundary: next_k 131,070, five more credentials -------------------------------------
sql("UPDATE status_lists SET next_k = %d" % (SEGMENT - 2))  # the server reads it at each issue
new = []
for c in learners[1:6]:
    got = complete(c)
    new.extend(got)
t.ok(len(new) == 5, "five completions at k = 131,070..131,074 issue five credentials", srv.read_log()[-3000:])
idx = [index_of(c["credential"]) for c in new]
t.ok(len(idx) == 5 and all(i < SEGMENT for i in idx[:2]) and all(SEGMENT <= i < 2 * SEGMENT for i in idx[2:]),
     "the first two are in segment 0, the last three in segment 1", idx)
t.ok(len(set(idx + [index_of(old["credential"])])) == 6, "all six indexes differ", idx)
t.eq(sql("SELECT next_k FROM status_lists"), str(SEGMENT + 3), "next_k is 131,075")

sl = get_list()
bits = status_bits(sl)
t.eq(len(bits) * 8, 2 * SEGMENT, "the published list has 2 x 131,072 entries")
t.ok(not any(bits), "none of them set")

for c in [old] + new:
    st, h, j = verify_settled(anon, c["credential"])
    checks = {x["check"]: x for x in j.get("checks", [])} if st == 200 else {}
    t.ok(st == 200 and j.get("verified") is True and checks.get("status", {}).get("ok"),
         "verify API: index %d verifies, status unset" % index_of(c["credential"]), j)


def save(name, doc):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(doc, f, ensure_ascii=False)
    return path


def offline(cred, sl):
    p = subprocess.run([BIN, "verify", save("cred.json", cred), "--status-list", save("sl.json", sl)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode()
    line = [x for x in out.splitlines() if x.split()[:1] == ["status"]]
    return (line[0].split()[1] if line else None), out + p.stderr.decode()


for c in (old, new[2], new[4]):
    state, out = offline(c["credential"], sl)
    t.ok(state == "passed", "tinchi verify --status-list: index %d passes the status check"
         % index_of(c["credential"]), out)
for c in (old, new[4]):
    r = vc_verify(c["credential"], sl)
    if r is None:
        t.ok(True, "independent verifier # SKIP node or node_modules (npm ci) absent")
    else:
        t.ok(r[0] == 0, "@digitalbazaar/vc with the 262,144-entry list verifies index %d"
             % index_of(c["credential"]), (r[1][-2000:], r[2][-2000:]))

# ---- revoking one in segment 1 -------------------------------------------------------------------
victim = new[3]
st, h, j = admin.call("POST", "/api/v1/credentials/%s/revocation" % victim["uid"], {"reason": "Sai điểm"})
t.ok(st == 200, "the admin revokes the credential at index %d" % idx[3], j)
st, h, j = anon.call("POST", "/api/v1/credentials/verify", {"credential": victim["credential"]})
checks = {x["check"]: x for x in j.get("checks", [])} if st == 200 else {}
t.ok(st == 200 and j.get("verified") is False and checks["status"]["detail"].startswith("revoked on"),
     "verify API: it is revoked", j)
for c in [old] + new[:3] + new[4:]:
    st, h, j = anon.call("POST", "/api/v1/credentials/verify", {"credential": c["credential"]})
    t.ok(st == 200 and j.get("verified") is True, "the others still verify (index %d)"
         % index_of(c["credential"]), j)
sl = get_list()
bits = status_bits(sl)
t.ok(len(bits) * 8 == 2 * SEGMENT and bit(bits, idx[3]) == 1 and sum(bin(b).count("1") for b in bits) == 1,
     "the list: 262,144 entries, exactly the revoked one's bit set")
state, out = offline(victim["credential"], sl)
t.ok(state == "FAILED" and "revoked" in out, "tinchi verify --status-list: revoked", out)
state, out = offline(new[4]["credential"], sl)
t.eq(state, "passed", "tinchi verify: its neighbour in segment 1 passes")
r = vc_verify(victim["credential"], sl)
if r is None:
    t.ok(True, "independent verifier # SKIP node or node_modules (npm ci) absent")
else:
    t.ok(r[0] == 1 and "revoked" in r[1], "@digitalbazaar/vc refuses the revoked one",
         (r[1][-2000:], r[2][-2000:]))

# ---- a (signed) list shorter than the index ----------------------------------------------------
state, out = offline(new[4]["credential"], one_segment)
t.ok(state == "FAILED" and "out of range" in out,
     "tinchi verify with the list from before segment 1 (131,072 entries): index %d is out of range"
     % idx[4], out)
state, out = offline(new[0]["credential"], one_segment)
t.eq(state, "passed", "while index %d (segment 0) passes with it" % idx[0])

# ---- the maximum: STATUSLIST_MAX_BITS credentials ---------------------------------------------
sql("UPDATE status_lists SET next_k = %d" % MAX_BITS)
got = complete(learners[6])
t.eq(len(got), 0, "at 134,217,728 credentials a completion issues none")
deadline = time.time() + 5
while time.time() < deadline and "status list is full" not in srv.read_log():
    time.sleep(0.1)
t.ok("status list is full" in srv.read_log(), "the log says the status list is full", srv.read_log()[-2000:])
t.eq(sql("SELECT count(*) FROM outbox WHERE consumed_at IS NULL AND kind = 'course.completed'"), "1",
     "its completion event is kept (waiting), not lost")
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/tokens", {"name": "SIS", "scopes": ["credentials:issue"]})
assert st == 201, j
issuer = Client(bearer=j["token"])
body = {"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"],
                       "type": ["VerifiableCredential", "OpenBadgeCredential"],
                       "credentialSubject": {"national_id": LEARNERS[6], "achievement": {"humanCode": "SL101"},
                                             "grade": "8.5", "term": "2024-2025 HK2",
                                             "completed_on": "2025-06-20"}}, "options": {}}
st, h, j = issuer.call("POST", "/credentials/issue", body)
t.ok(st == 409 and "status list is full" in j.get("detail", ""), "the VC API: 409, the status list is full",
     (st, j))
csv = "national_id,course_code,grade,term,completed_on\r\n%s,SL101,7,2024-2025 HK2,2025-06-20\r\n" % LEARNERS[6]
st, h, j = admin.call("POST", "/api/v1/institutions/VNU/credentials:import", raw=csv.encode(), ctype="text/csv")
t.ok(st == 409 and "status list is full" in j.get("detail", ""), "the CSV import: 409, the status list is full",
     (st, j))
st, h, j = lec.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "approval"})
assert st == 200, j
st, h, j = lec.call("POST", "/api/v1/courses/%s/credentials/approve" % course, {"all": True})
t.ok(st == 409 and "status list is full" in j.get("detail", ""),
     "approving the waiting completion: 409, the status list is full", (st, j))
t.eq(sql("SELECT count(*) FROM credentials"), "6", "nothing more was issued")
code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
