"""approval_test.py - a course set to issue "after a lecturer's approval":
the setting over PATCH (editors only, validated, written with the other
fields or not at all, shown to editors); a completion of such a course
issues nothing and is listed as pending; approving (by name or all) issues
credentials that verify; declining consumes the event without a credential,
tells the learner over the WebSocket, and a declined one may still be
approved; learners and other institutions are refused; bad requests are 400
(404 / 409 naming the learner) and change nothing; switching the course
back to automatic issues what waits."""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, Server, Tap, sanitizer_clean, verify_settled  # noqa: E402
from wsclient import OP_TEXT, WebSocket  # noqa: E402

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
person("200000000003", "Học Viên Ba", "learner", "VNU")
person("200000000004", "Học Viên Bốn", "learner", "VNU")
person("200000000005", "Học Viên Năm", "learner", "VNU")
person("100000000002", "Giảng Viên Khác", "lecturer", "HUST")

srv = Server("--password-cost", COST, data=data)


def Client(nid=None):
    return ApiClient(lambda: srv, nid)


anon, lec, admin, other_admin = Client(), Client("100000000001"), Client("100000000009"), Client("100000000008")
learner, learner2, learner3, learner4, learner5 = (Client("20000000000%d" % i) for i in range(1, 6))
other_lec = Client("100000000002")


def uid_of(c):
    st, h, j = c.call("GET", "/api/v1/session")
    assert st == 200, j
    return j["person"]["uid"]


L1, L2, L3, L4, L5 = (uid_of(c) for c in (learner, learner2, learner3, learner4, learner5))

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
for c in (learner, learner2, learner3, learner4, learner5):
    st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % course)
    assert st == 201, j


db = os.path.join(data, "tinchi.db")


def sql(q):
    p = subprocess.run(["sqlite3", db, q], stdout=subprocess.PIPE)
    return p.stdout.decode().strip()


def pending_events():
    return sql("SELECT count(*) FROM outbox WHERE consumed_at IS NULL")


def credential_count():
    return sql("SELECT count(*) FROM credentials")


def complete(c):
    st, h, j = c.call("POST", "/api/v1/units/%s/read" % u_text)
    assert st == 200, j
    st, h, paper = c.call("POST", "/api/v1/units/%s/attempts" % u_quiz)
    assert st == 201, paper
    st, h, res = c.call("POST", "/api/v1/attempts/%s/submit" % paper["uid"], {"answers": {"a": True, "b": False}})
    assert st == 200 and res["passed"], res
    st, h, j = c.call("GET", "/api/v1/courses/%s/completion" % course)
    assert st == 200 and j.get("completed") is not False, j


def creds_of(c):
    st, h, j = c.call("GET", "/api/v1/credentials")
    assert st == 200, j
    return j["credentials"]


def pending(c=None):
    return (c or lec).call("GET", "/api/v1/courses/%s/credentials/pending" % course)


def approve(body, c=None):
    return (c or lec).call("POST", "/api/v1/courses/%s/credentials/approve" % course, body)


def decline(body, c=None):
    return (c or lec).call("POST", "/api/v1/courses/%s/credentials/decline" % course, body)


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
# the mode is written with the other fields, in one transaction, or not at all
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "AP102", "title": "Khoá khác", "language": "vi", "credits": "2"})
assert st == 201, j
st, h, j = lec.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "approval", "code": "AP102"})
t.eq(st, 409, "PATCH with approval and a code another course has: 409")
st, h, j = lec.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "approval", "credits": "-1"})
t.ok(st == 400, "PATCH with approval and bad credits: 400", j)
st, h, j = lec.call("GET", "/api/v1/courses/%s" % course)
t.ok(st == 200 and j.get("credential_issue") == "auto" and j.get("code") == "AP101",
     "after both the mode is still auto and the code unchanged", j)
st, h, j = lec.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "approval", "title": "Tín chỉ 1"})
t.ok(st == 200 and j.get("credential_issue") == "approval" and j.get("title") == "Tín chỉ 1",
     "the lecturer sets approval together with a new title", j)
st, h, j = lec.call("GET", "/api/v1/courses/%s" % course)
t.ok(st == 200 and j.get("credential_issue") == "approval", "GET shows approval", j)

# ---- completions wait ------------------------------------------------------------------------
ws = WebSocket(srv.port, headers={"Cookie": learner.cookie}, timeout=5)
st, h, j = pending()
t.ok(st == 200 and j["pending"] == [] and j["credential_issue"] == "approval", "nothing pending yet", j)
for c in (learner, learner2, learner3):
    complete(c)
t.ok(all(creds_of(c) == [] for c in (learner, learner2, learner3)),
     "no credential while the course waits for approval")
t.eq(pending_events(), "3", "the three completion events stay in the outbox")
st, h, j = pending()
rows = {r["learner"]: r for r in j.get("pending", [])} if st == 200 else {}
t.ok(st == 200 and [r["learner"] for r in j["pending"]] == [L1, L2, L3], "pending lists the three, oldest first", j)
r1 = rows.get(L1, {})
t.ok(r1.get("status") == "waiting" and r1.get("full_name") == "Học Viên Một" and r1.get("grade") == 10
     and isinstance(r1.get("event"), int) and r1.get("completed_at", "").endswith("Z"),
     "a pending row: learner, name, grade, completed_at, event, status waiting", r1)
st, h, j = pending(admin)
t.ok(st == 200 and len(j["pending"]) == 3, "the institution admin sees them too", j)
for who, c, want in (("a learner", learner, 403), ("another institution's lecturer", other_lec, 403),
                     ("another institution's admin", other_admin, 403), ("anyone signed out", anon, 401)):
    st, h, j = pending(c)
    t.eq(st, want, "%s may not list pending credentials (%d)" % (who, want))
    st, h, j = approve({"all": True}, c)
    t.eq(st, want, "%s may not approve (%d)" % (who, want))
    st, h, j = decline({"learner": L1, "reason": "Không"}, c)
    t.eq(st, want, "%s may not decline (%d)" % (who, want))
t.eq(credential_count(), "0", "the refused requests issued nothing")

# ---- bad approvals change nothing ------------------------------------------------------------
for body, why in (({}, "neither learners nor all"), ({"learners": [L2], "all": True}, "both"),
                  ({"learners": []}, "an empty list"), ({"learners": L2}, "a string for the list"),
                  ({"learners": [7]}, "a number for a uid"), ({"learners": [""]}, "an empty uid"),
                  ({"all": False}, "all false"), ({"all": 1}, "all 1"),
                  ({"learners": [L2, L2]}, "a learner named twice")):
    st, h, j = approve(body)
    t.ok(st == 400 and j.get("detail"), "approve with %s: 400 saying why" % why, j)
st, h, j = lec.call("POST", "/api/v1/courses/%s/credentials/approve" % course, raw=b"{not json")
t.eq(st, 400, "approve with malformed JSON: 400")
ghost = "00000000-0000-4000-8000-000000000000"
st, h, j = approve({"learners": [L2, ghost]})
t.ok(st == 404 and ghost in j.get("detail", ""), "an unknown learner: 404 naming the uid", j)
st, h, j = approve({"learners": [L2, L4]})
t.ok(st == 409 and L4 in j.get("detail", ""), "a learner without a waiting completion: 409 naming the uid", j)
t.eq(credential_count(), "0", "a bad approval issues nobody, not even the good learners named before")
t.eq(pending_events(), "3", "and consumes no event")

# ---- declining -------------------------------------------------------------------------------
for body, why in (({"learner": L1}, "no reason"), ({"learner": L1, "reason": "  "}, "a blank reason"),
                  ({"learner": L1, "reason": "a\nb"}, "a two-line reason"),
                  ({"learner": L1, "reason": "x" * 501}, "a reason of 501 characters"),
                  ({"learner": L1, "reason": 5}, "a number for the reason"),
                  ({"reason": "Không"}, "no learner"), ({"learner": 5, "reason": "Không"}, "a number for the learner")):
    st, h, j = decline(body)
    t.ok(st == 400 and j.get("detail"), "decline with %s: 400 saying why" % why, j)
st, h, j = decline({"learner": ghost, "reason": "Không"})
t.ok(st == 404 and ghost in j.get("detail", ""), "declining an unknown learner: 404 naming the uid", j)
st, h, j = decline({"learner": L4, "reason": "Không"})
t.ok(st == 409 and L4 in j.get("detail", ""), "declining a learner with nothing waiting: 409", j)
t.eq(pending_events(), "3", "the bad declines consume nothing")
reason = "Bài kiểm tra làm chung với người khác"
st, h, j = decline({"learner": L1, "reason": reason})
t.ok(st == 200 and j.get("status") == "declined" and j.get("reason") == reason, "the lecturer declines learner 1", j)
msg = None
try:
    end = time.time() + 5
    while time.time() < end and msg is None:
        op, d = ws.recv_message()
        if op != OP_TEXT:
            break
        m = json.loads(d.decode())
        if m.get("type") == "credential.declined":
            msg = m
except Exception as e:  # noqa: BLE001
    t.diag("websocket: %r" % e)
t.ok(msg and msg["course"] == course and msg["reason"] == reason and msg["code"] == "AP101",
     "the learner's WebSocket gets credential.declined with the reason", msg)
ws.close()
t.ok(creds_of(learner) == [], "the declined learner has no credential")
t.eq(pending_events(), "2", "the declined event is consumed")
st, h, j = decline({"learner": L1, "reason": reason})
t.ok(st == 409 and "declined already" in j.get("detail", ""), "declining again: 409", j)
st, h, j = pending()
rows = {r["learner"]: r for r in j.get("pending", [])} if st == 200 else {}
r1 = rows.get(L1, {})
t.ok(r1.get("status") == "declined" and r1.get("reason") == reason and r1.get("declined_by") == uid_of(lec)
     and r1.get("declined_at"), "pending lists the declined one: status, reason, by whom, when", r1)
t.eq(sql("SELECT count(*) FROM audit_events WHERE event = 'credential.declined' AND subject = '%s'"
         " AND actor_person_id > 0 AND json_extract(detail, '$.reason') = '%s'" % (L1, reason)), "1",
     "the decline is audited with who and why")

# ---- approving -------------------------------------------------------------------------------
st, h, j = approve({"learners": [L2]})
t.ok(st == 200 and [x["learner"] for x in j.get("issued", [])] == [L2], "approving learner 2 issues one", j)
c2 = creds_of(learner2)
t.ok(len(c2) == 1 and j["issued"][0]["credential"] == c2[0]["uid"], "learner 2 has it, the uid answered", c2)
st, h, j = verify_settled(anon, c2[0]["credential"] if c2 else {})
t.ok(st == 200 and j.get("verified") is True, "the approved credential verifies", j)
t.eq(sql("SELECT count(*) FROM audit_events WHERE event = 'credential.approved' AND subject = '%s'"
         " AND actor_person_id > 0 AND json_extract(detail, '$.learner') = '%s'"
         % (c2[0]["uid"] if c2 else "", L2)), "1", "the approval is audited with who approved")
st, h, j = approve({"learners": [L2]})
t.ok(st == 409 and L2 in j.get("detail", ""), "approving learner 2 again: 409", j)
st, h, j = approve({"all": True}, admin)
t.ok(st == 200 and [x["learner"] for x in j.get("issued", [])] == [L3],
     "the admin approves all: the waiting learner 3, not the declined learner 1", j)
t.ok(len(creds_of(learner3)) == 1 and creds_of(learner) == [], "learner 3 has it, learner 1 not")
st, h, j = approve({"learners": [L1]})
t.ok(st == 200 and [x["learner"] for x in j.get("issued", [])] == [L1], "a declined completion can still be approved", j)
c1 = creds_of(learner)
st, h, j = verify_settled(anon, c1[0]["credential"] if c1 else {})
t.ok(len(c1) == 1 and st == 200 and j.get("verified") is True, "learner 1's credential verifies", j)
st, h, j = pending()
t.ok(st == 200 and j["pending"] == [], "nothing pending any more", j)
st, h, j = approve({"all": True})
t.ok(st == 200 and j["issued"] == [], "approving all with nothing waiting issues nothing", j)
t.eq(credential_count(), "3", "three credentials in all")

# ---- back to automatic: what waits is issued now ---------------------------------------------
complete(learner4)
t.ok(creds_of(learner4) == [], "learner 4 completes and waits")
st, h, j = admin.call("PATCH", "/api/v1/courses/%s" % course, {"credential_issue": "auto"})
t.ok(st == 200 and j.get("credential_issue") == "auto", "the institution admin switches to auto", j)
c4 = creds_of(learner4)
t.ok(len(c4) == 1, "the waiting credential is issued at the switch", c4)
t.eq(pending_events(), "0", "the event is consumed")
st, h, j = verify_settled(anon, c4[0]["credential"] if c4 else {})
t.ok(st == 200 and j.get("verified") is True, "and it verifies", j)
complete(learner5)
t.ok(len(creds_of(learner5)) == 1, "in auto mode a completion is issued at once")

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
