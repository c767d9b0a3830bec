"""completion_test.py - completion rules, completions and grades over real HTTP:
who may read and set a course's rules, every validation error as a 400 that
names the field, unit uids checked against the course, the audit trail; and
completions recorded through the server's own path (POST .../completion runs
completion_check with what the server knows of the learner), written once,
pushed over the WebSocket to the learner and the lecturers, listed as JSON
and CSV (formula-safe); and the whole path without asking: a text unit read
and quiz attempts graded complete the course by themselves (weights, a
minimum score, the grade, one outbox event)."""
import base64
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ApiClient, DataCli, Server, Tap, sanitizer_clean  # noqa: E402
from wsclient import OP_TEXT, WebSocket  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-cp-"), "data")


cli = DataCli(data, COST)


person = cli.person


for code in ("VNU", "HUST"):
    rc, out, err = cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
    assert rc == 0, err
person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
person("100000000002", "Trần Thị Dạy", "lecturer", "VNU")
person("100000000003", "Phạm Khác", "lecturer", "HUST")
person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
NAMES = ["Học Viên 0", "Học Viên 1", "=1+2 Học, Viên", "Học Viên 3"]
for i, n in enumerate(NAMES):
    person("20000000000%d" % i, n, "learner", "VNU")

srv = Server("--password-cost", COST, data=data)


def Client(nid=None):
    return ApiClient(lambda: srv, nid)


anon = Client()
lec, lec2, other, admin = Client("100000000001"), Client("100000000002"), Client("100000000003"), Client("100000000009")
learners = [Client("20000000000%d" % i) for i in range(4)]


class WsLog:
    """A signed-in WebSocket whose messages a thread collects."""

    def __init__(self, cookie):
        self.msgs, self.lock = [], threading.Lock()
        self.ws = WebSocket(srv.port, headers={"Cookie": cookie}, timeout=None)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            while True:
                op, d = self.ws.recv_message()
                if op != OP_TEXT:
                    break
                with self.lock:
                    self.msgs.append(json.loads(d.decode("utf-8")))
        except (OSError, ValueError, ConnectionError):
            pass

    def of(self, typ):
        with self.lock:
            return [m for m in self.msgs if m.get("type") == typ]

    def wait(self, typ, n=1, timeout=5):
        deadline = time.time() + timeout
        while len(self.of(typ)) < n and time.time() < deadline:
            time.sleep(0.05)
        return self.of(typ)


def make_course(code, units):
    """The published course CODE with UNITS, each (kind, title, required)."""
    return harness.make_course(lec, code, [{"kind": k, "title": t, "required": r} for k, t, r in units],
                               credits="3")


# ---- rules: who reads, who writes -----------------------------------------------------
course, (u_text, u_quiz, u_opt) = make_course("CP101", [("text", "Giới thiệu", True), ("quiz", "Kiểm tra 1", True),
                                                        ("text", "Đọc thêm", False)])
lec.call("POST", "/api/v1/courses/%s/lecturers" % course, {"national_id": "100000000002"})
for i in (0, 1):
    st, h, j = learners[i].call("POST", "/api/v1/courses/%s/enrolment" % course)
    assert st == 201, j
R = "/api/v1/courses/%s/completion-rules" % course

st, h, j = anon.call("GET", R)
t.eq(st, 401, "rules: no identity is 401")
st, h, j = learners[2].call("GET", R)
t.eq(st, 403, "rules: a learner who is not enrolled is 403")
st, h, j = other.call("GET", R)
t.eq(st, 403, "rules: a lecturer of another institution is 403")
st, h, j = learners[0].call("GET", R)
t.ok(st == 200 and j["default"] is True and j["version"] == 0 and j["rules"] == {
    "video_threshold": 90, "min_scores": {}, "weights": {}, "pass_mark": 5.0, "letters": [], "rounding": 0.1},
    "rules: an enrolled learner sees the defaults", j)
st, h, j = anon.call("GET", "/api/v1/courses/00000000-0000-4000-8000-000000000000/completion-rules")
t.eq(st, 404, "rules of an unknown course: 404")

good = {"video_threshold": 95, "min_scores": {u_quiz: 60}, "weights": {u_quiz: 0.6, u_text: 0.4},
        "pass_mark": 5, "letters": [{"min": 8.5, "letter": "A"}, {"min": 7, "letter": "B"}], "rounding": 0.5}
st, h, j = anon.call("PUT", R, good)
t.eq(st, 401, "put rules: no identity is 401")
st, h, j = learners[0].call("PUT", R, good)
t.eq(st, 403, "put rules: an enrolled learner is 403")
st, h, j = other.call("PUT", R, good)
t.ok(st in (403, 404), "put rules: a lecturer of another institution is refused (%d)" % st)
st, h, j = lec.call("PUT", R, good)
t.ok(st == 200 and j["version"] == 1 and j["default"] is False and j["rules"]["weights"] == {u_quiz: 0.6, u_text: 0.4}
     and j["rules"]["pass_mark"] == 5.0 and j["rules"]["rounding"] == 0.5 and j["rules"]["min_scores"] == {u_quiz: 60.0}
     and j["updated_at"], "the lecturer sets the rules: version 1", j)
st, h, j = lec2.call("PUT", R, dict(good, pass_mark=5.5))
t.ok(st == 200 and j["version"] == 2 and j["rules"]["pass_mark"] == 5.5, "the co-lecturer changes them: version 2", j)
st, h, j = learners[1].call("GET", R)
t.ok(st == 200 and j["version"] == 2 and j["rules"]["letters"] == good["letters"] and j["rules"]["video_threshold"] == 95,
     "the enrolled learner sees the current rules", j)

# ---- validation ---------------------------------------------------------------------------
NOUNIT = "99999999-9999-4999-8999-999999999999"
bad_cases = [
    ({"video_threshold": 40}, "video_threshold", "threshold below 50"),
    ({"video_threshold": "90"}, "video_threshold", "threshold as text"),
    ({"pass_mark": 10.5}, "pass_mark", "pass mark above 10"),
    ({"pass_mark": 4.955}, "pass_mark", "pass mark with three decimals"),
    ({"rounding": 0.2}, "rounding", "rounding 0.2"),
    ({"weights": {u_text: 0}}, "weights." + u_text, "a zero weight"),
    ({"weights": {u_text: -1}}, "weights." + u_text, "a negative weight"),
    ({"weights": []}, "weights", "weights as an array"),
    ({"weights": {"not-a-uid": 1}}, "weights.not-a-uid", "a weight key that is no uid"),
    ({"min_scores": {u_quiz: 101}}, "min_scores." + u_quiz, "a minimum above 100%"),
    ({"letters": [{"min": 7, "letter": "B"}, {"min": 8, "letter": "A"}]}, "letters[1].min", "rising letter mins"),
    ({"letters": [{"min": 7, "letter": ""}]}, "letters[0].letter", "an empty letter"),
    ({"letters": [{"min": 10 - i * 0.5, "letter": "L%d" % i} for i in range(17)]}, "letters", "17 letters"),
    ({"passmark": 5}, "passmark", "an unknown field"),
    ({"pass_mark": None}, "pass_mark", "a null"),
    ({"weights": {NOUNIT: 1}}, "weights." + NOUNIT, "a weight on a unit of no course"),
    ({"min_scores": {NOUNIT: 50}}, "min_scores." + NOUNIT, "a minimum on a unit of no course"),
    ({"min_scores": {u_text: 50}}, "min_scores." + u_text, "a minimum on a text unit"),
]
for body, field, why in bad_cases:
    st, h, j = lec.call("PUT", R, body)
    detail = j.get("detail", "") if isinstance(j, dict) else ""
    t.ok(st == 400 and detail.startswith(field) and "problem+json" in h.get("content-type", ""),
         "400 naming %s: %s" % (field, why), (st, j))
other_course, (other_unit,) = make_course("CP999", [("quiz", "Khác", True)])
st, h, j = lec.call("PUT", R, {"weights": {other_unit: 1}})
t.ok(st == 400 and j["detail"].startswith("weights." + other_unit) and "no such unit" in j["detail"],
     "a unit of another course is refused", j)
st, h, j = lec.call("PUT", R, raw=b'{"pass_mark": 5, "pass_mark": 6}')
t.eq(st, 400, "duplicate keys are refused")
st, h, j = lec.call("PUT", R, raw=b'{"pass_mark": 5')
t.eq(st, 400, "broken JSON is refused")
st, h, j = lec.call("PUT", R, raw=b'[]')
t.eq(st, 400, "a JSON array is refused")
st, h, j = lec.call("PUT", R, raw=b'pass_mark=5', ctype="application/x-www-form-urlencoded")
t.eq(st, 415, "a form body is 415")
st, h, j = lec.call("GET", R)
t.ok(st == 200 and j["version"] == 2 and j["rules"]["pass_mark"] == 5.5, "nothing changed after the refusals", j)

st, h, j = admin.call("GET", "/api/v1/institutions/VNU/audit?limit=200")
ev = [e for e in j["events"] if e["event"] == "course.completion_rules"] if st == 200 else []
t.ok(len(ev) == 2 and all(e["subject"] == course for e in ev), "both rule changes are in the audit trail", ev)

# ---- evaluation through the server: not met ---------------------------------------------
C = "/api/v1/courses/%s/completion" % course
st, h, j = learners[0].call("POST", C)
t.ok(st == 200 and j["completed"] is False and
     "unit \"Giới thiệu\" is not completed" in j["reasons"] and
     "quiz \"Kiểm tra 1\" is not passed yet" in j["reasons"] and
     "quiz \"Kiểm tra 1\": no attempt yet (60% needed)" in j["reasons"] and
     "grade 0.0 < pass mark 5.5" in j["reasons"], "a learner with no progress has not completed, with the reasons", j)
st, h, j = learners[0].call("GET", C)
t.ok(st == 404 and j["detail"] == "not completed yet", "GET: not completed yet", j)
st, h, j = learners[2].call("POST", C)
t.eq(st, 409, "a learner who is not enrolled cannot be evaluated")
st, h, j = anon.call("POST", C)
t.eq(st, 401, "evaluation needs a signed-in learner")

# ---- a course that can be completed: its only unit is optional -----------------------------
open_course, (open_unit,) = make_course("CP102", [("text", "Tự chọn", False)])
OR = "/api/v1/courses/%s/completion-rules" % open_course
lec.call("POST", "/api/v1/courses/%s/lecturers" % open_course, {"national_id": "100000000002"})
st, h, j = lec.call("PUT", OR, {"letters": [{"min": 9.5, "letter": "A+"}, {"min": 0, "letter": "F"}],
                                "weights": {open_unit: 1}, "pass_mark": 0})
t.eq(st, 200, "rules of the open course: the optional unit weighted, pass mark 0")
st, h, j = lec.call("PUT", OR, {"letters": [{"min": 9.5, "letter": "A+"}]})
t.ok(st == 200 and j["version"] == 2, "changed again: version 2 (no weights, default pass mark)", j)
for i in range(4):
    learners[i].call("POST", "/api/v1/courses/%s/enrolment" % open_course)
OC = "/api/v1/courses/%s/completion" % open_course
try:
    ws_l, ws_lec, ws_lec2, ws_other = (WsLog(learners[0].cookie), WsLog(lec.cookie), WsLog(lec2.cookie),
                                       WsLog(learners[1].cookie))
    time.sleep(0.3)
except Exception as e:  # noqa: BLE001
    ws_l = ws_lec = ws_lec2 = ws_other = None
    t.ok(False, "the WebSockets connect", repr(e))
st, h, j = learners[0].call("POST", OC)
t.ok(st == 201 and j["completed"] is True and j["grade"] == 10.0 and j["percent"] == 100.0 and j["letter"] == "A+"
     and j["passed"] is True and j["rules_version"] == 2 and j["completed_at"],
     "a learner completes the open course: 201, grade 10.0, A+", j)
ev = j.get("evidence") or {}
t.ok([u["uid"] for u in ev.get("units", [])] == [open_unit] and ev["units"][0]["required"] is False
     and ev["units"][0]["completed"] is False and ev.get("grade") == "10.0",
     "the evidence lists the unit and the grade", ev)
if ws_l:
    got = ws_l.wait("course.completed")
    t.ok(len(got) == 1 and got[0] == {"type": "course.completed", "course": open_course, "grade": 10.0,
                                      "letter": "A+", "passed": True},
         "the learner is told on the WebSocket", got)
    for name, w in (("the owner", ws_lec), ("the co-lecturer", ws_lec2)):
        got = w.wait("course.completion")
        t.ok(len(got) == 1 and got[0]["course"] == open_course and got[0]["learner"] and
             got[0]["full_name"] == NAMES[0] and got[0]["grade"] == 10.0 and got[0]["passed"] is True,
             "%s is told on the WebSocket" % name, got)
first = j
st, h, j = learners[0].call("POST", OC)
t.ok(st == 200 and j["completed"] is True and j["completed_at"] == first["completed_at"],
     "evaluating again: 200, the recorded completion unchanged", j)
if ws_l:
    time.sleep(0.3)
    t.eq(len(ws_l.of("course.completed")) + len(ws_lec.of("course.completion")), 2,
         "no second notification")
    t.eq(ws_other.of("course.completed") + ws_other.of("course.completion"), [],
         "another learner hears nothing")
    for w in (ws_l, ws_lec, ws_lec2, ws_other):
        w.ws.close()
st, h, j = learners[0].call("GET", OC)
t.ok(st == 200 and j["grade"] == 10.0 and j["letter"] == "A+" and j["evidence"]["units"][0]["uid"] == open_unit,
     "GET: the learner's own completion", j)
st, h, j = learners[1].call("GET", OC)
t.eq(st, 404, "another learner has none yet")
for i in (2, 3):
    st, h, j = learners[i].call("POST", OC)
    t.eq(st, 201, "learner %d completes too" % i)

# ---- the list, JSON and CSV ------------------------------------------------------------------
L = "/api/v1/courses/%s/completions" % open_course
st, h, j = learners[0].call("GET", L)
t.eq(st, 403, "a learner cannot list completions")
st, h, j = anon.call("GET", L)
t.eq(st, 401, "no identity cannot list completions")
st, h, j = other.call("GET", L)
t.ok(st in (403, 404), "a lecturer of another institution cannot list them (%d)" % st)
st, h, j = lec.call("GET", L)
rows = j.get("completions", []) if st == 200 else []
t.ok(st == 200 and [r["full_name"] for r in rows] == [NAMES[0], NAMES[2], NAMES[3]] and
     all(r["grade"] == 10.0 and r["percent"] == 100.0 and r["letter"] == "A+" and r["passed"] is True and
         r["rules_version"] == 2 and r["completed_at"] and r["learner"] for r in rows) and "next_after" not in j,
     "the lecturer lists three completions", j)
st, h, j = admin.call("GET", L + "?limit=2")
t.ok(st == 200 and len(j["completions"]) == 2 and "next_after" in j, "the admin pages by two", j)
st, h, j2 = admin.call("GET", L + "?limit=2&after=%d" % j.get("next_after", 0))
t.ok(st == 200 and [r["full_name"] for r in j2["completions"]] == [NAMES[3]], "the second page", j2)
st, h, body = lec2.call("GET", L + "?format=csv")
text = body.decode("utf-8") if isinstance(body, bytes) else ""
table = list(csv.reader(io.StringIO(text)))
t.ok(st == 200 and h.get("content-type", "").startswith("text/csv") and
     table[0] == ["learner_uid", "full_name", "grade", "percent", "letter", "passed", "completed_at"] and
     len(table) == 4 and table[1][2:6] == ["10.0", "100.0", "A+", "yes"], "CSV export", (st, h, body))
t.ok(len(table) == 4 and table[2][1] == "'" + NAMES[2], "a name that looks like a formula is defused in the CSV",
     table[2] if len(table) > 2 else text)
st, h, j = lec.call("GET", L + "?format=xml")
t.eq(st, 400, "an unknown format is 400")
st, h, j = lec.call("GET", L + "?limit=0")
t.eq(st, 400, "limit 0 is 400")
st, h, j = lec.call("GET", "/api/v1/courses/%s/completions" % course)
t.ok(st == 200 and j["completions"] == [], "the first course has no completions", j)

# ---- the whole path: a text read, quiz attempts graded -> the course completes once ------------
lw, lecw = WsLog(learners[1].cookie), WsLog(lec.cookie)
st, h, j = lec.call("PUT", R, {"min_scores": {u_quiz: 60}, "weights": {u_quiz: 3, u_text: 1}, "pass_mark": 5,
                               "letters": [{"min": 8.5, "letter": "A"}, {"min": 0, "letter": "F"}]})
t.eq(st, 200, "path: the lecturer sets weights 3:1 and a 60% minimum on the quiz")
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % u_quiz,
                    {"settings": {"attempts": 3, "pass_percent": 50},
                     "questions": [{"id": "a", "kind": "truefalse", "text": "Một cộng một bằng hai.", "answer": True},
                                   {"id": "b", "kind": "truefalse", "text": "Hai lớn hơn ba.", "answer": False},
                                   {"id": "c", "kind": "truefalse", "text": "Ba là số lẻ.", "answer": True}]})
t.eq(st, 200, "path: the quiz has three true/false questions")
st, h, j = learners[1].call("POST", "/api/v1/units/%s/read" % u_text)
t.eq(st, 200, "path: the learner opens the required text")
st, h, j = learners[1].call("POST", C)
t.ok(st == 200 and j["completed"] is False and
     not any("Giới thiệu" in r for r in j["reasons"]) and any("Kiểm tra 1" in r for r in j["reasons"]),
     "path: the text counts; only the quiz is missing", j)


def attempt(answers):
    return harness.take_quiz(learners[1], u_quiz, answers)


a1, res = attempt({"a": False, "b": True, "c": False})
t.ok(res["score"] == 0 and not res["passed"] and lw.wait("quiz.graded", 1), "path: a failed attempt is graded", res)
time.sleep(0.3)
t.eq(lw.of("course.completed"), [], "path: no completion after a failed attempt")
a2, res = attempt({"a": True, "b": False, "c": False})
t.ok(res["score"] == 2 and res["passed"], "path: 2 of 3 passes the quiz (66.7% >= 60%)", res)
done = lw.wait("course.completed", 1)
t.ok(len(done) == 1 and done[0]["course"] == course and done[0]["grade"] == 7.5 and done[0]["letter"] == "F",
     "path: the learner is told at once: grade 7.5 (0.75 x 66.7% + 0.25 x 100%)", lw.msgs)
told = lecw.wait("course.completion", 1)
t.ok(len(told) == 1 and told[0]["course"] == course, "path: the lecturer is told too", lecw.msgs)
st, h, j = learners[1].call("GET", C)
t.ok(st == 200 and j["grade"] == 7.5 and j["letter"] == "F" and json.dumps(j).count(a2) >= 1,
     "path: GET completion: grade, letter, and the attempt in the evidence", j)
ev_att = [a for a in (j.get("evidence") or {}).get("attempts", []) if a.get("attempt") == a2]
t.ok(len(ev_att) == 1 and ev_att[0]["score"] == 2 and ev_att[0]["max"] == 3,
     "path: the evidence gives the attempt's score and max in points (2 of 3)", ev_att)
a3, res = attempt({"a": True, "b": False, "c": True})
t.ok(res["score"] == 3, "path: a better attempt afterwards is graded", res)
time.sleep(0.3)
st, h, j = learners[1].call("GET", C)
t.ok(len(lw.of("course.completed")) == 1 and st == 200 and j["grade"] == 7.5,
     "path: the completion is recorded once and not rewritten", (lw.msgs, j))
st, h, j = learners[1].call("POST", C)
t.eq(st, 200, "path: evaluating again answers 200, not 201 (nothing new)")
out = subprocess.run(["sqlite3", os.path.join(data, "tinchi.db"),
                      "SELECT count(*) FROM outbox o JOIN people p ON p.id = o.person_id "
                      "WHERE o.kind = 'course.completed' AND p.national_id = '200000000001'"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
t.eq(out.stdout.decode().strip(), "1", "path: one course.completed event in the outbox")
st, h, j = lec.call("GET", "/api/v1/courses/%s/completions" % course)
t.ok(st == 200 and [c["grade"] for c in j["completions"]] == [7.5], "path: the lecturer's list has it", j)

# ---- the learning records of that path, in the institution's LRS ----------------------------------
st, h, cred = admin.call("POST", "/api/v1/institutions/VNU/lrs-credentials", {"name": "báo cáo"})
t.eq(st, 201, "records: the admin makes an LRS credential")
basic = "Basic " + base64.b64encode(("%s:%s" % (cred.get("key"), cred.get("secret"))).encode()).decode()
st, h, me = learners[1].call("GET", "/api/v1/session")
who = me.get("person", {}).get("uid") if isinstance(me.get("person"), dict) else me.get("uid")
stmts, more = [], "/xapi/statements?limit=100&ascending=true"
while more and st == 200:
    st, h, body = srv.request("GET", more, headers={"Authorization": basic,
                                                    "X-Experience-API-Version": "2.0.0"})
    page = json.loads(body) if st == 200 else {}
    stmts += page.get("statements", [])
    more = page.get("more") or None
mine = [x for x in stmts if x["actor"].get("account", {}).get("name") == who]
verbs = {}
for x in mine:
    v = x["verb"]["id"].rsplit("/", 1)[-1]
    verbs[v] = verbs.get(v, 0) + 1
t.ok(st == 200 and who and verbs == {"completed": 2, "answered": 9, "scored": 3, "failed": 1, "passed": 2},
     "records: 9 answers, 3 scores, 1 failed and 2 passed attempts, the text and the course completed",
     (st, who, verbs))
course_done = [x for x in mine if x["verb"]["id"].endswith("/completed") and
               x["object"]["id"].endswith("/courses/" + course)]
t.ok(len(course_done) == 1 and course_done[0]["result"]["score"]["raw"] == 7.5 and
     course_done[0]["result"]["success"] is True, "records: the course completed with score 7.5 of 10",
     course_done)
answers = [x for x in mine if x["verb"]["id"].endswith("/answered")]
t.ok(answers and all(x["object"]["id"].rsplit("/", 1)[-1] in (u_quiz + "#a", u_quiz + "#b", u_quiz + "#c") and
                     x["context"]["contextActivities"]["parent"][0]["id"].endswith("/units/" + u_quiz)
                     for x in answers), "records: each answer is a question of the quiz", answers[:1])
t.ok("200000000001" not in json.dumps(stmts), "records: the national ID appears in no statement")
t.ok(answers and all("response" not in x.get("result", {}) and "success" in x["result"] and
                     "raw" in x["result"].get("score", {}) for x in answers),
     "records: answers carry score and success, never the learner's response", answers[:1])

# ---- a restart keeps everything ----------------------------------------------------------------
code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
srv = Server("--password-cost", COST, data=data)
lec = Client("100000000001")
st, h, j = lec.call("GET", L)
t.eq(len(j.get("completions", [])) if st == 200 else -1, 3, "completions survive a restart")
st, h, j = lec.call("GET", R)
t.ok(st == 200 and j["version"] == 3, "rules survive a restart", j)
code, log = srv.stop()
t.eq(code, 0, "server exits 0 again")
t.ok(sanitizer_clean(log), "no sanitizer report after the restart", log[-3000:])
t.done()
