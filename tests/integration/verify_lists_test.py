"""verify_lists_test.py - verifying never falls back to the service thread
when the issuers' status lists are not kept for the verify workers: with
room for only 2 lists (the hidden --verify-kept-lists 2; 256 by default),
a presentation naming 5 institutions' credentials, and single credentials
cycling through the 5, are all answered on the workers
(tinchi_verify_inline_total stays 0), verified, with the same bytes as
the same request answered from kept lists; a revocation shows at once; a
bad body is answered 400 there too, as before."""
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap, verify_settled  # noqa: E402

t = Tap()
COST = "12"
N = 5
tmp = tempfile.mkdtemp(prefix="tinchi-vl-")
data = os.path.join(tmp, "data")
cli = DataCli(data, COST)
codes = ["VL%d" % i for i in range(N)]
for i, code in enumerate(codes):
    rc, out, err = cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
    assert rc == 0, err
    cli.person("1000000001%02d" % i, "Giảng Viên %d" % i, "lecturer", code)
    cli.person("2000000001%02d" % i, "Học Viên %d" % i, "learner", code)
cli.person("100000000900", "Quản Trị", "admin", codes[0])

srv = Server("--password-cost", COST, "--verify-kept-lists", "2", data=data)


def Client(nid=None):
    return ApiClient(lambda: srv, nid)


anon = Client()
creds = []  # (credential, uid), one a institution
for i, code in enumerate(codes):
    lec, learner = Client("1000000001%02d" % i), Client("2000000001%02d" % i)
    st, h, j = lec.call("POST", "/api/v1/institutions/%s/courses" % code,
                        {"code": "C%d" % i, "title": "Khoá %d" % i, "description": "Thử.",
                         "language": "vi", "credits": "2"})
    assert st == 201, j
    course = j["uid"]
    st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course,
                        {"kind": "text", "title": "Bài", "required": True, "body": "x"})
    assert st == 201, j
    unit = j["uid"]
    st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
    assert st == 200, j
    st, h, j = learner.call("POST", "/api/v1/courses/%s/enrolment" % course)
    assert st == 201, j
    st, h, j = learner.call("POST", "/api/v1/units/%s/read" % unit)
    assert st == 200, j
    st, h, j = learner.call("GET", "/api/v1/credentials")
    assert st == 200 and len(j["credentials"]) == 1, j
    creds.append((j["credentials"][0]["credential"], j["credentials"][0]["uid"]))
for c, _ in creds:
    verify_settled(anon, c)  # each in a signed checkpoint


def verify_inline():
    st, h, body = srv.request("GET", "/metrics")
    m = re.search(r"^tinchi_verify_inline_total (\d+)$", body.decode(), re.M) if st == 200 else None
    return int(m.group(1)) if m else None


def post(route, doc):
    """(status, the answer's bytes)."""
    st, h, body = srv.request("POST", route, json.dumps(doc).encode(),
                              {"Content-Type": "application/json"})
    return st, body


vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
      "verifiableCredential": [c for c, _ in creds]}
before = verify_inline()
t.ok(before is not None, "/metrics counts verifications answered on the service thread", before)

# ---- a presentation naming more institutions than lists are kept -------------------------------
for route, body in (("/presentations/verify", {"verifiablePresentation": vp}),
                    ("/api/v1/credentials/verify", {"presentation": vp})):
    answers = [post(route, body) for _ in range(3)]
    st, first = answers[0]
    j = json.loads(first) if st == 200 else {}
    results = j.get("credentialResults", j.get("credentials", []))
    t.ok(st == 200 and j.get("verified") is True and len(results) == N and
         all(r.get("verified") is True for r in results),
         "%s: a presentation of %d institutions' credentials (2 lists kept) is verified" % (route, N),
         (st, first[:2000]))
    status = [c for r in results for c in r.get("details", r.get("checks", []))
              if isinstance(c, dict) and c.get("check") == "status"]
    t.ok(len(status) == N and all(c.get("ok") and c.get("detail", "").startswith("not revoked")
                                  for c in status),
         "%s: each member's status read from its issuer's list" % route, status)
    t.ok(all(a == answers[0] for a in answers),
         "%s: the same bytes each time, lists kept or not" % route, [a[1][:300] for a in answers])
t.eq(verify_inline(), before, "none answered on the service thread")

# ---- single credentials cycling through more institutions than kept ---------------------------
first = {}
ok = True
for rnd in range(3):
    for i, (c, _) in enumerate(creds):
        for route, body in (("/api/v1/credentials/verify", {"credential": c}),
                            ("/credentials/verify", {"verifiableCredential": c})):
            st, b = post(route, body)
            j = json.loads(b) if st == 200 else {}
            if st != 200 or j.get("verified") is not True or first.setdefault((i, route), b) != b:
                ok = False
                t.diag("round %d institution %d %s: %d %s" % (rnd, i, route, st, b[:500]))
t.ok(ok, "credentials of %d institutions in turn (2 lists kept) verify, the same bytes each round" % N)
t.eq(verify_inline(), before, "none answered on the service thread")

# ---- a revocation shows at once ------------------------------------------------------------------
admin = Client("100000000900")
st, h, j = admin.call("POST", "/api/v1/credentials/%s/revocation" % creds[0][1], {"reason": "Thử thu hồi"})
t.ok(st in (200, 201), "the first institution's credential is revoked", (st, j))
st, b = post("/presentations/verify", {"verifiablePresentation": vp})
j = json.loads(b) if st == 200 else {}
verdicts = [r.get("verified") for r in j.get("credentialResults", [])]
t.ok(st == 200 and j.get("verified") is False and verdicts == [False] + [True] * (N - 1),
     "the presentation now fails on the revoked member only", (st, b[:2000]))
st, b = post("/api/v1/credentials/verify", {"credential": creds[0][0]})
j = json.loads(b) if st == 200 else {}
status = [c for c in j.get("checks", []) if c.get("check") == "status"]
t.ok(st == 200 and j.get("verified") is False and status and not status[0].get("ok") and
     "Thử thu hồi" in status[0].get("detail", ""), "the credential alone: revoked, with the reason", j)

# ---- bad bodies: 400 on the workers, the words as before -----------------------------------------
for route, body, words in (
        ("/api/v1/credentials/verify", {"nothing": 1}, "holding a verifiable credential"),
        ("/api/v1/credentials/verify", {"presentation": vp, "options": 3}, "options must be an object"),
        ("/credentials/verify", {"verifiableCredential": {"x": 1}}, "\\\"verifiableCredential\\\""),
        ("/credentials/verify", {"verifiableCredential": creds[1][0], "options": {"challenge": 7}},
         "options must be an object"),
        ("/presentations/verify", {"verifiablePresentation": {"type": "x"}}, "VerifiablePresentation"),
        ("/presentations/verify", {"verifiablePresentation": vp, "options": {"domain": []}},
         "options must be an object")):
    st, b = post(route, body)
    t.ok(st == 400 and words in b.decode(), "%s %s: 400" % (route, json.dumps(body)[:60]), (st, b[:300]))
t.eq(verify_inline(), before, "none answered on the service thread")

code, log = srv.stop()
t.ok(code == 0, "the server stops cleanly", code)
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
shutil.rmtree(tmp, ignore_errors=True)
t.done()
