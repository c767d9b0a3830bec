"""recognition_repeat_test.py - a target course counts once per learner
(issue 8): HUST recognises VNU's CS101 and UET's CS100 as its IT101 (4
credits). A learner took CS101 twice (grade 6, then a retake with 8) and
UET's CS100 (grade 8, issued last): IT101 is recognised once, from the best
grade, a tie going to the newest credential (CS100); the others are
"already recognised" naming it, with no credits. The totals count 4
credits, and the lone answer, the batch line and the learner's own view
agree. A field rule's elective credits add up (each credential matched)."""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-rr-"), "data")
cli = DataCli(data, COST)
for code in ("VNU", "UET", "HUST"):
    rc, out, err = cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
    assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
cli.person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
cli.person("100000000003", "Đỗ Giảng Viên", "lecturer", "UET")
cli.person("100000000004", "Hồ Quản Trị", "admin", "UET")
cli.person("100000000002", "Trần Giảng Viên", "lecturer", "HUST")
cli.person("100000000008", "Phạm Quản Trị", "admin", "HUST")
NID = "200000000001"
cli.person(NID, "Học Viên Một", "learner", "VNU")
srv = Server("--password-cost", COST, data=data)
L = ApiClient(srv, NID)


def token(admin, inst, scopes):
    st, h, j = ApiClient(srv, admin).call("POST", "/api/v1/institutions/%s/tokens" % inst,
                                          {"name": "SIS " + inst, "scopes": scopes})
    assert st == 201, j
    return j["token"]


def course(lecturer, inst, code, credits):
    st, h, j = ApiClient(srv, lecturer).call("POST", "/api/v1/institutions/%s/courses" % inst,
                                             {"code": code, "title": "Môn " + code, "language": "vi",
                                              "credits": credits})
    assert st == 201, j
    return j["uid"]


course("100000000001", "VNU", "CS101", "3")
fuid = course("100000000001", "VNU", "CS105", "2")
st, h, j = ApiClient(srv, "100000000001").call("PUT", "/api/v1/courses/%s/field" % fuid, {"field": "0613"})
assert st == 200, j
course("100000000003", "UET", "CS100", "3")
course("100000000002", "HUST", "IT101", "4")
vnu, uet = token("100000000009", "VNU", ["credentials:issue"]), token("100000000004", "UET", ["credentials:issue"])
reader = token("100000000008", "HUST", ["credits:read"])
hadmin = ApiClient(srv, "100000000008")
for body in ({"source": "VNU", "match": {"course": "CS101"}, "target": {"course": "IT101"}},
             {"source": "UET", "match": {"course": "CS100"}, "target": {"course": "IT101"}},
             {"source": "VNU", "match": {"field": "06"}, "target": {"elective_credits": 2, "field": "06"}}):
    st, h, j = hadmin.call("POST", "/api/v1/institutions/HUST/agreements", dict(body, status="active"))
    assert st == 201, j


def issue(tok, code, grade, term):
    body = {"credential": {"credentialSubject": {"national_id": NID, "achievement": {"humanCode": code},
                                                 "grade": grade, "term": term, "completed_on": "2025-06-20"}}}
    st, h, j = ApiClient(srv).call("POST", "/credentials/issue", body, headers={"Authorization": "Bearer " + tok})
    assert st == 201, j
    time.sleep(1.1)     # each its own issued_at second
    return j["verifiableCredential"]["id"]


first = issue(vnu, "CS101", "6", "2024 HK1")
retake = issue(vnu, "CS101", "8", "2025 HK1")
cs100 = issue(uet, "CS100", "8", "2025 HK1")
el1 = issue(vnu, "CS105", "7", "2024 HK2")
el2 = issue(vnu, "CS105", "9", "2025 HK2")
st, h, j = L.call("POST", "/api/v1/me/consents", {"institution": "HUST", "credentials": "all", "purpose": "xét tuyển"})
assert st == 201, j
auth = {"Authorization": "Bearer " + reader}
srv.request("GET", "/api/v1/recognition/HUST/learners/" + NID, headers=auth)     # verified: cached from now on
st, h, lone = srv.request("GET", "/api/v1/recognition/HUST/learners/" + NID, headers=auth)
j = json.loads(lone) if st == 200 else {}
d = {c["uid"]: c["decision"] for c in j.get("credentials", [])}
t.ok(st == 200 and d.get(cs100, {}).get("recognised") is True and d[cs100].get("course", {}).get("code") == "IT101",
     "IT101 is recognised from CS100 (grade 8 as the retake, issued last)", (st, d.get(cs100)))
t.ok(all(d.get(u, {}).get("recognised") is False and d[u].get("reason") == "already recognised" and
         cs100 in d[u].get("explanation", "") and "IT101" in d[u]["explanation"] and d[u].get("rule")
         for u in (first, retake)),
     "the first attempt and the retake: already recognised, naming the credential that counted",
     [d.get(u) for u in (first, retake)])
t.ok(d.get(el1, {}).get("recognised") is True and d.get(el2, {}).get("recognised") is True,
     "elective credits add up: both CS105 credentials count under the field rule", [d.get(el1), d.get(el2)])
t.eq(j.get("totals"), {"credentials": 5, "recognised": 3, "credits_recognised": 8,
                       "by_field": {"unclassified": 4, "06": 4}},
     "totals: IT101's 4 credits once, and 2 + 2 elective credits")
st, h, body = srv.request("POST", "/api/v1/recognition/HUST/learners:batch", body=json.dumps([NID]).encode(),
                          headers=dict(auth, **{"Content-Type": "application/json"}))
line = body.splitlines()[0] if st == 200 else b""
t.ok(lone[:lone.find(b',"institution":')] == line[:line.find(b',"national_id":')],
     "the batch line has the lone answer's bytes", (lone[:200], line[:200]))
st, h, mine = L.call("GET", "/api/v1/me/recognition?institution=HUST")
t.ok(st == 200 and {c["uid"]: c["decision"] for c in mine.get("credentials", [])} == d and
     mine.get("totals") == j.get("totals"), "the learner's own view decides and counts alike", mine)

rc, log = srv.stop()
t.eq(rc, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-2000:])
t.done()
