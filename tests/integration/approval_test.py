"""approval_test.py - a course set to issue "after a lecturer's approval":
the setting over PATCH (editors only, validated, shown to editors), a
completion of such a course issues nothing and its event stays in the
outbox, and switching the course back to automatic issues it at once,
and the credential verifies."""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, Server, Tap, sanitizer_clean  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("TOP_SRCDIR", os.path.join(HERE, "..", ".."))
SCHEMA = os.path.join(TOP, "..", "shared", "standards", "ob_v3p0_achievementcredential_schema.json")

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-ap-"), "data")
cli = DataCli(data, COST)
person = cli.person
for code in ("VNU", "HUST"):
    rc, out, err = cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
    assert rc == 0, err
person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
person("100000000008", "Phạm Quản Trị", "admin", "HUST")
person("200000000001", "Học Viên Một", "learner", "VNU")
person("200000000002", "Học Viên Hai", "learner", "VNU")

srv = Server("--password-cost", COST, data=data)


def Client(nid=None):
    return ApiClient(lambda: srv, nid)


anon, lec, admin, other_admin = Client(), Client("100000000001"), Client("100000000009"), Client("100000000008")
learner, learner2 = Client("200000000001"), Client("200000000002")

st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "AP101", "title": "Nhập môn tín chỉ", "description": "Khoá học thử.",
                     "language": "vi", "credits": "3"})
assert st == 201, j
course = j["uid"]
units = []
for kind, title in (("text", "Giới thiệu"), ("quiz", "Kiểm tra")):
    body = {"kind": kind, "title": title, "required": True}
    if kind == "text":
        body["body"] = "x"
    st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, body)
    assert st == 201, j
    units.append(j["uid"])
u_text, u_quiz = units
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % u_quiz,
                    {"settings": {"attempts": 3, "pass_percent": 50},
                     "questions": [{"id": "a", "kind": "truefalse", "text": "Một cộng một bằng hai.", "answer": True},
                                   {"id": "b", "kind": "truefalse", "text": "Hai lớn hơn ba.", "answer": False}]})
assert st == 200, j
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
assert st == 200, j
for c in (learner, learner2):
    st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % course)
    assert st == 201, j


db = os.path.join(data, "tinchi.db")


def pending_events():
    p = subprocess.run(["sqlite3", db, "SELECT count(*) FROM outbox WHERE consumed_at IS NULL"],
                       stdout=subprocess.PIPE)
    return p.stdout.decode().strip()


# ---- the setting ---------------------------------------------------------------------------
st, h, j = lec.call("GET", "/api/v1/courses/%s" % course)
t.ok(st == 200 and j.get("credential_issue") == "auto", "editors see credential_issue, auto by default", j)
st, h, j = learner.call("GET", "/api/v1/courses/%s" % course)
t.ok(st == 200 and "credential_issue" not in j, "a learner does not see it", j)
for bad in ("manual", "", 1, None, ["auto"]):
    st, h, j = lec.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": bad, "title": "Đổi"})
    t.ok(st == 400 and "credential_issue" in j.get("detail", ""), "credential_issue %r is 400, saying why" % (bad,), j)
st, h, j = lec.call("GET", "/api/v1/courses/%s" % course)
t.ok(st == 200 and j.get("credential_issue") == "auto" and j.get("title") == "Nhập môn tín chỉ",
     "a refused PATCH changes nothing", j)
st, h, j = learner.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "approval"})
t.eq(st, 403, "a learner may not set it")
st, h, j = other_admin.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "approval"})
t.eq(st, 403, "another institution's admin may not set it")
st, h, j = anon.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "approval"})
t.eq(st, 401, "nor may anyone signed out")
st, h, j = lec.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "approval"})
t.ok(st == 200 and j.get("credential_issue") == "approval", "the lecturer sets approval", j)
st, h, j = lec.call("GET", "/api/v1/courses/%s" % course)
t.ok(st == 200 and j.get("credential_issue") == "approval", "GET shows approval", j)

# ---- a completion waits ----------------------------------------------------------------------
st, h, j = learner.call("GET", "/api/v1/units/%s" % u_text)
assert st == 200, j
st, h, paper = learner.call("POST", "/api/v1/units/%s/attempts" % u_quiz)
assert st == 201, paper
st, h, res = learner.call("POST", "/api/v1/attempts/%s/submit" % paper["uid"], {"answers": {"a": True, "b": False}})
t.ok(st == 200 and res["passed"], "the learner passes the quiz", res)
st, h, j = learner.call("GET", "/api/v1/courses/%s/completion" % course)
t.ok(st == 200 and j.get("completed") is not False, "the course is completed", j)
st, h, j = learner.call("GET", "/api/v1/credentials")
t.ok(st == 200 and j["credentials"] == [], "no credential while the course waits for approval", j)
t.eq(pending_events(), "1", "the completion event stays in the outbox")

# ---- back to automatic: issued now -------------------------------------------------------------
st, h, j = admin.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "auto"})
t.ok(st == 200 and j.get("credential_issue") == "auto", "the institution admin switches to auto", j)
st, h, j = learner.call("GET", "/api/v1/credentials")
creds = j.get("credentials", []) if st == 200 else []
t.ok(len(creds) == 1, "the waiting credential is issued at the switch", j)
t.eq(pending_events(), "0", "the event is consumed")
st, h, j = anon.call("POST", "/api/v1/credentials/verify", {"credential": creds[0]["credential"] if creds else {}})
t.ok(st == 200 and j.get("verified") is True, "and it verifies", j)

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
