"""quiz_test.py - quizzes over real HTTP: a lecturer writes a quiz, learners
take attempts; the paper never carries answers (checked in the raw bytes),
time limits are enforced by the server (a late submit is refused and the
attempt is graded from what was saved in time), attempts run out, papers are
drawn at random from banks, short answers match in NFD Vietnamese, only the
right people see what they may, and bad input changes nothing."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ApiClient, DataCli, Server, Tap, sanitizer_clean  # noqa: E402
from wsclient import OP_TEXT, WebSocket  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-quiz-"), "data")


cli = DataCli(data, COST)


person = cli.person


rc, out, err = cli("institution", "add", "VNU", "--name", "Đại học Quốc gia Hà Nội", "--kind", "university")
assert rc == 0, err
person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
person("100000000002", "Trần Thị Khác", "lecturer", "VNU")
for i in range(4):
    person("20000000000%d" % i, "Học Viên %d" % i, "learner", "VNU")

srv = Server("--password-cost", COST, data=data)
C = lambda nid=None: ApiClient(lambda: srv, nid)  # noqa: E731
anon, lec, lec2 = C(), C("100000000001"), C("100000000002")
learners = [C("20000000000%d" % i) for i in range(4)]
outsider = learners[3]          # never enrols
L0 = learners[0]


def raw(client, method, path, body=None):
    h = {"Cookie": client.cookie, "X-CSRF-Token": client.csrf}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    st, rh, d = srv.request(method, path, body=payload, headers=h)
    return st, d


st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "GEO1", "title": "Địa lý", "language": "vi", "credits": "2"})
assert st == 201, j
course = j["uid"]


def quiz_unit(title):
    st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "quiz", "title": title})
    assert st == 201, j
    return j["uid"]


main_unit, timed_unit, bank_unit = quiz_unit("Kiểm tra 1"), quiz_unit("Kiểm tra nhanh"), quiz_unit("Ngân hàng")
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "text", "title": "Đọc", "body": "x"})
text_unit = j["uid"]

QUIZ = {"settings": {"attempts": 2, "pass_percent": 50, "shuffle_options": True},
        "questions": [
            {"id": "capital", "kind": "single", "text": "Thủ đô của Việt Nam?", "points": 2,
             "options": [{"text": "Hà Nội", "correct": True}, {"text": "Huế"}, {"text": "Sài Gòn"}]},
            {"id": "even", "kind": "multiple", "scoring": "partial", "text": "Số chẵn?",
             "options": [{"text": "số hai", "correct": True}, {"text": "số ba"},
                         {"text": "số bốn", "correct": True}]},
            {"id": "tf", "kind": "truefalse", "text": "Hà Nội ở miền Bắc.", "answer": True},
            {"id": "pi", "kind": "numeric", "text": "Số pi (2 chữ số thập phân)?", "answer": 3.14,
             "tolerance": 0.005},
            {"id": "river", "kind": "text", "text": "Sông lớn nhất miền Bắc?", "match": "normalised",
             "accepted": ["Sông Hồng"]},
            {"id": "city", "kind": "text", "text": "Thành phố ngàn hoa?", "match": "normalised",
             "accepted": ["Thành phố Đà Lạt"]}]}
SECRETS = ["correct", "accepted", "tolerance", "3.14", "Sông Hồng", "Thành phố Đà Lạt", "\"answer\""]

# ---- writing the quiz -----------------------------------------------------------------
st, h, j = lec.call("GET", "/api/v1/units/%s/quiz" % main_unit)
t.ok(st == 200 and j["definition"] is None and j["version"] == 0 and j["updated"] is None,
     "before the first save an editor reads no definition (200, version 0), not a 404", j)
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % main_unit, QUIZ)
t.ok(st == 200 and j["version"] == 1 and j["definition"]["questions"][0]["points"] == 2,
     "the lecturer sets a quiz (version 1)", j)
for bad, reason in (({"questions": []}, "questions"),
                    ({"questions": [{"kind": "single", "text": "x", "options": [{"text": "a", "correct": True}]}]},
                     "questions[0].options: at least 2"),
                    (dict(QUIZ, settings={"attempts": -1}), "settings.attempts"),
                    ({"questions": [{"kind": "essay", "text": "x"}]}, "questions[0].kind")):
    st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % main_unit, bad)
    t.ok(st == 400 and reason in j.get("detail", ""), "a bad quiz is refused: %s" % reason, j)
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % main_unit, raw=b"{not json")
t.eq(st, 400, "malformed JSON is 400")
st, h, j = lec.call("GET", "/api/v1/units/%s/quiz" % main_unit)
t.ok(st == 200 and j["version"] == 1 and j["definition"]["questions"][4]["accepted"] == ["Sông Hồng"],
     "nothing changed: still version 1, and the editor sees the answers", j)
st, h, j = lec2.call("PUT", "/api/v1/units/%s/quiz" % main_unit, QUIZ)
t.eq(st, 404, "another lecturer cannot even see the draft course's quiz")
st, h, j = anon.call("PUT", "/api/v1/units/%s/quiz" % main_unit, QUIZ)
t.eq(st, 401, "anonymous: 401")
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % text_unit, QUIZ)
t.eq(st, 409, "a text unit cannot hold a quiz")
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % timed_unit,
                    {"settings": {"time_limit": 1}, "questions": [QUIZ["questions"][2], QUIZ["questions"][0]]})
assert st == 200, j
bank_qs = [{"id": "a%d" % i, "bank": "A", "kind": "truefalse", "text": "A%d" % i, "answer": True} for i in range(6)]
bank_qs += [{"id": "b%d" % i, "bank": "B", "kind": "truefalse", "text": "B%d" % i, "answer": False} for i in range(4)]
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % bank_unit,
                    {"settings": {"draw": [{"bank": "A", "draw": 2}, {"bank": "B", "draw": 1}],
                                  "shuffle_questions": True}, "questions": bank_qs})
t.ok(st == 200, "a quiz drawing 2 from bank A and 1 from bank B", j)

# ---- who may start ---------------------------------------------------------------------
st, h, j = learners[0].call("POST", "/api/v1/units/%s/attempts" % main_unit)
t.eq(st, 404, "a draft course's quiz is not there for learners")
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
assert st == 200, j
for c in learners[:3]:
    st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % course)
    assert st in (200, 201), j
st, h, j = outsider.call("POST", "/api/v1/units/%s/attempts" % main_unit)
t.eq(st, 404, "a learner who is not enrolled: 404")
st, h, j = outsider.call("GET", "/api/v1/units/%s/quiz" % main_unit)
t.eq(st, 404, "nor can they read the quiz")
st, h, j = lec.call("POST", "/api/v1/units/%s/attempts" % main_unit)
t.eq(st, 403, "the lecturer does not take attempts")
st, h, j = lec2.call("PUT", "/api/v1/units/%s/quiz" % main_unit, QUIZ)
t.eq(st, 403, "a lecturer who does not teach the published course cannot set its quiz")
st, h, j = L0.call("PUT", "/api/v1/units/%s/quiz" % main_unit, QUIZ)
t.eq(st, 403, "nor can an enrolled learner")
st, h, j = lec2.call("GET", "/api/v1/units/%s/quiz" % main_unit)
t.eq(st, 404, "a lecturer who does not teach it cannot read the answers")

# ---- the learner's view and the paper -------------------------------------------------
L = learners[0]
st, body = raw(L, "GET", "/api/v1/units/%s/quiz" % main_unit)
j = json.loads(body)
t.ok(st == 200 and j["settings"]["attempts"] == 2 and j["settings"]["questions"] == 6 and
     j["attempts"] == [] and j["attempts_left"] == 2 and "definition" not in j,
     "a learner sees settings, the question count and attempts left", j)
t.ok(not any(s.encode() in body for s in SECRETS), "... and no answer in the raw bytes", body)
ws = WebSocket(srv.port, headers={"Cookie": L.cookie}, timeout=5)
st, body = raw(L, "POST", "/api/v1/units/%s/attempts" % main_unit)
paper = json.loads(body)
t.ok(st == 201 and len(paper["questions"]) == 6 and paper["state"] == "open" and paper["deadline"] is None
     and paper["number"] == 1, "a learner starts attempt 1 (201, six questions, no deadline)", paper)
t.ok(not any(s.encode() in body for s in SECRETS), "the paper's raw bytes hold no answer", body)
# the editor's view tells which option ids are right: none of them may be marked in the paper
byid = {q["id"]: q for q in paper["questions"]}
opt = {q["id"]: {o["text"]: o["id"] for o in q.get("options", [])} for q in paper["questions"]}
t.ok(len(set(opt["capital"].values())) == 3 and all(len(i) == 12 for i in opt["capital"].values()),
     "each option has its own opaque id", opt)
att = paper["uid"]
st, h, j = L.call("POST", "/api/v1/units/%s/attempts" % main_unit)
t.ok(st == 409 and j.get("attempt") == att, "a second start: 409 naming the open attempt", j)
st, body = raw(L, "GET", "/api/v1/attempts/%s" % att)
t.ok(st == 200 and not any(s.encode() in body for s in SECRETS), "GET attempt while open: no answers", body)
st, h, j = learners[1].call("GET", "/api/v1/attempts/%s" % att)
t.eq(st, 404, "another learner cannot see the attempt")
st, h, j = lec.call("GET", "/api/v1/attempts/%s" % att)
t.ok(st == 200 and j["state"] == "open", "the lecturer can", j)

# ---- answers -------------------------------------------------------------------------------
for bad, reason in (({"answers": {"nope": 1}}, "answers.nope"),
                    ({"answers": {"tf": "yes"}}, "answers.tf"),
                    ({"answers": {"capital": "not-an-option"}}, "answers.capital"),
                    ({"answers": {"pi": "3.14"}}, "answers.pi"),
                    ({"answers": {"even": [opt["even"]["số hai"], opt["even"]["số hai"]]}}, "twice"),
                    ({"answers": []}, "answers"), ({"x": 1}, "answers")):
    st, h, j = L.call("PUT", "/api/v1/attempts/%s/answers" % att, bad)
    t.ok(st == 400 and reason in j.get("detail", ""), "bad answers are refused: %s" % reason, j)
st, body = raw(L, "PUT", "/api/v1/attempts/%s/answers" % att, {"answers": {"tf": True}})
t.eq(st, 200, "answers so far are saved")
st, h, j = learners[1].call("PUT", "/api/v1/attempts/%s/answers" % att, {"answers": {"tf": False}})
t.eq(st, 404, "someone else cannot save answers into it")
nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
answers = {"capital": opt["capital"]["Hà Nội"], "even": [opt["even"]["số hai"]], "tf": True,
           "pi": 3.1416, "river": nfd("  sông   HỒNG "), "city": nfd("thành phố đà lạt")}
st, h, j = L.call("POST", "/api/v1/attempts/%s/submit" % att, {"answers": {"pi": float("nan")}}
                  if False else {"answers": {"pi": "NaN"}})
t.eq(st, 400, "a non-number for a numeric answer is 400")
st, h, res = L.call("POST", "/api/v1/attempts/%s/submit" % att, raw=json.dumps({"answers": answers}).encode())
per = {r["id"]: r for r in res.get("results", [])}
t.ok(st == 200 and res["state"] == "submitted" and res["max"] == 7 and res["score"] == 6.5 and res["passed"],
     "submit: graded 6.5 of 7 and passed", res)
t.ok(per and per["river"]["correct"] and per["city"]["correct"], "NFD Vietnamese text answers match", per)
t.ok(per and per["even"]["points"] == 0.5 and not per["even"]["correct"], "partial credit for multiple", per)
t.ok(per and per["capital"]["correct_answer"] == opt["capital"]["Hà Nội"] and
     per["river"]["correct_answer"] == ["Sông Hồng"], "now the correct answers are shown", per)
st, h, j = L.call("POST", "/api/v1/attempts/%s/submit" % att, {"answers": answers})
t.eq(st, 409, "a second submit: 409")
st, h, j = L.call("PUT", "/api/v1/attempts/%s/answers" % att, {"answers": {"tf": False}})
t.eq(st, 409, "saving after submission: 409")
msg = None
try:
    end = time.time() + 5
    while time.time() < end:
        op, d = ws.recv_message()
        if op != OP_TEXT:
            break
        m = json.loads(d.decode())
        if m.get("type") == "quiz.graded":
            msg = m
            break
except Exception as e:  # noqa: BLE001
    t.diag("websocket: %r" % e)
t.ok(msg and msg["attempt"] == att and msg["unit"] == main_unit and msg["score"] == 6.5 and msg["passed"],
     "the learner's WebSocket gets quiz.graded", msg)
ws.close()
st, h, j = L.call("GET", "/api/v1/attempts/%s" % att)
t.ok(st == 200 and j["state"] == "submitted" and j["score"] == 6.5 and len(j["results"]) == 6,
     "the graded attempt reads back with results", j)

# editing the quiz later does not change an old attempt's grade
edited = json.loads(json.dumps(QUIZ))
edited["questions"][0]["options"] = [{"text": "Hà Nội"}, {"text": "Huế", "correct": True}, {"text": "Sài Gòn"}]
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % main_unit, edited)
t.eq(j.get("version"), 2, "the quiz is edited (version 2)")
st, h, j = L.call("GET", "/api/v1/attempts/%s" % att)
t.ok(st == 200 and j["score"] == 6.5 and {r["id"]: r for r in j["results"]}["capital"]["correct"],
     "the old attempt keeps its grade and its paper", j)

# ---- attempts run out ---------------------------------------------------------------------
st, h, p2 = L.call("POST", "/api/v1/units/%s/attempts" % main_unit)
t.ok(st == 201 and p2["number"] == 2, "attempt 2 starts", p2)
st, h, j = L.call("POST", "/api/v1/attempts/%s/submit" % p2["uid"])
t.ok(st == 200 and j["score"] == 0, "submitting with nothing answered scores 0", j)
st, h, j = L.call("POST", "/api/v1/units/%s/attempts" % main_unit)
t.ok(st == 409 and "no attempts left" in j.get("detail", ""), "a third with 2 allowed: 409", j)
st, h, j = L.call("GET", "/api/v1/units/%s/quiz" % main_unit)
t.ok(st == 200 and j["attempts_left"] == 0 and [a["score"] for a in j["attempts"]] == [6.5, 0],
     "the learner's view lists both attempts and none left", j)

# ---- the time limit ---------------------------------------------------------------------
L2 = learners[1]
st, h, tp = L2.call("POST", "/api/v1/units/%s/attempts" % timed_unit)
t.ok(st == 201 and tp["deadline"], "a timed attempt has a deadline", tp)
tf_only = {"tf": True}
st, h, j = L2.call("PUT", "/api/v1/attempts/%s/answers" % tp["uid"], {"answers": tf_only})
t.eq(st, 200, "answers saved in time")
time.sleep(4.2)     # 1 s limit + 2 s grace, in whole seconds of the server clock
topt = {q["id"]: {o["text"]: o["id"] for o in q.get("options", [])} for q in tp["questions"]}
st, h, j = L2.call("POST", "/api/v1/attempts/%s/submit" % tp["uid"],
                   {"answers": {"tf": True, "capital": topt["capital"]["Hà Nội"]}})
t.ok(st == 409 and j.get("detail", "").startswith("the time limit ended at ") and tp["deadline"] in j["detail"],
     "a late submit: 409 'the time limit ended at <time>'", j)
st, h, j = L2.call("GET", "/api/v1/attempts/%s" % tp["uid"])
t.ok(st == 200 and j["state"] == "expired" and j["score"] == 1 and j["max"] == 3,
     "the attempt expired, graded from the answers saved in time (1 of 3)", j)
st, h, j = L2.call("PUT", "/api/v1/attempts/%s/answers" % tp["uid"], {"answers": {"tf": False}})
t.eq(st, 409, "no saving after the deadline")
# an attempt left open past its deadline expires when a new one is started
st, h, tp2 = L2.call("POST", "/api/v1/units/%s/attempts" % timed_unit)
time.sleep(4.2)
st, h, tp3 = L2.call("POST", "/api/v1/units/%s/attempts" % timed_unit)
t.ok(st == 201 and tp3["number"] == 3, "an abandoned, overdue attempt does not block the next", tp3)
st, h, j = L2.call("GET", "/api/v1/attempts/%s" % tp2["uid"])
t.ok(st == 200 and j["state"] == "expired" and j["score"] == 0, "... it was expired and graded", j)

# ---- random draw from banks ------------------------------------------------------------
L3 = learners[2]
seen, ok_draws, firsts = set(), True, set()
for i in range(12):
    st, h, bp = L3.call("POST", "/api/v1/units/%s/attempts" % bank_unit)
    if st != 201:
        ok_draws = False
        break
    ids = [q["id"] for q in bp["questions"]]
    ok_draws &= len(ids) == 3 and sum(i.startswith("a") for i in ids) == 2 and \
        sum(i.startswith("b") for i in ids) == 1 and len(set(ids)) == 3
    seen.update(ids)
    firsts.add(ids[0])
    L3.call("POST", "/api/v1/attempts/%s/submit" % bp["uid"])
t.ok(ok_draws, "every paper: 2 questions from bank A and 1 from bank B")
t.ok(len(seen) >= 8 and len(firsts) >= 3, "over 12 papers most questions appear, in varied order", sorted(seen))

# ---- review findings: exact grades, the stored pass, strict submit bodies, who may finish -----
def course_with_quiz(code, quiz, text_unit=False):
    return harness.course_with_quiz(lec, code, quiz, text_unit=text_unit, credits="1", enrol=[learners[2]])


def sql(query):
    out = subprocess.run(["sqlite3", os.path.join(data, "tinchi.db"), query],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return out.stdout.decode().strip()


def recorded(cuid):
    """Completions and completion events of course CUID."""
    return sql("SELECT (SELECT count(*) FROM completions m JOIN courses c ON c.id = m.course_id"
               " WHERE c.uid = '%s') + (SELECT count(*) FROM outbox WHERE kind = 'course.completed'"
               " AND payload LIKE '%%%s%%')" % (cuid, cuid))


R = learners[2]
TENTHS = {"settings": {"pass_percent": 50},
          "questions": [{"id": "t%d" % i, "kind": "truefalse", "text": "T%d" % i, "points": 0.1, "answer": True}
                        for i in range(16)]}
c2, q2, t2 = course_with_quiz("GEO2", TENTHS, text_unit=True)
st, h, p = R.call("POST", "/api/v1/units/%s/attempts" % q2)
t.ok(st == 201 and "no-store" in h.get("cache-control", ""), "attempt start: 201 with cache-control: no-store",
     (st, h))
for bad, name in (({"answer": {"t0": True}}, "answer"), ({"answers": {}, "submit": True}, "submit")):
    st, h, j = R.call("POST", "/api/v1/attempts/%s/submit" % p["uid"], bad)
    t.ok(st == 400 and name in j.get("detail", ""), "submit with an unknown member '%s': 400 naming it" % name, j)
st, h, j = R.call("GET", "/api/v1/attempts/%s" % p["uid"])
t.ok(st == 200 and j["state"] == "open", "... and the attempt is still open", j)
st, h, res = R.call("POST", "/api/v1/attempts/%s/submit" % p["uid"],
                    {"answers": {"t%d" % i: i < 8 for i in range(16)}})
t.ok(st == 200 and res["score"] == 0.8 and res["max"] == 1.6 and res["passed"] is True and
     all(r["points"] in (0, 0.1) for r in res["results"]), "16 x 0.1 points, 8 right: 0.8 of 1.6, passed", res)
t.ok("no-store" in h.get("cache-control", ""), "submit: cache-control: no-store", h)
st, h, j = R.call("POST", "/api/v1/courses/%s/completion" % c2)
t.ok(st == 200 and j["completed"] is False and not any("Q GEO2" in r for r in j["reasons"]) and
     any("Đọc GEO2" in r for r in j["reasons"]), "completion agrees: the quiz is passed, only the text is missing", j)
lower = dict(TENTHS, settings={"pass_percent": 90})
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % q2, lower)
assert st == 200, j
st, h, j = R.call("POST", "/api/v1/courses/%s/completion" % c2)
t.ok(st == 200 and not any("Q GEO2" in r for r in j["reasons"]),
     "raising the quiz's pass percent later does not fail an old attempt", j)
st, h, j = R.call("GET", "/api/v1/attempts/%s" % p["uid"])
t.ok(st == 200 and j["passed"] is True and j["score"] == 0.8, "the attempt still reads passed", j)

# a learner who leaves the course cannot finish an open attempt; nothing is recorded
c3, q3, _ = course_with_quiz("GEO3", {"settings": {"time_limit": 1},
                                      "questions": [{"id": "tf", "kind": "truefalse", "text": "x", "answer": True}]})
st, h, p = R.call("POST", "/api/v1/units/%s/attempts" % q3)
assert st == 201, p
st, h, j = R.call("PUT", "/api/v1/attempts/%s/answers" % p["uid"], {"answers": {"tf": True}})
t.eq(st, 200, "left: answers saved while enrolled")
st, h, j = R.call("DELETE", "/api/v1/courses/%s/enrolment" % c3)
assert st in (200, 204), j
st, h, j = R.call("PUT", "/api/v1/attempts/%s/answers" % p["uid"], {"answers": {"tf": True}})
t.eq(st, 403, "left: saving answers after leaving the course is 403")
st, h, j = R.call("POST", "/api/v1/attempts/%s/submit" % p["uid"])
t.ok(st == 403 and "enrolled" in j.get("detail", ""), "left: submitting after leaving is 403", j)
time.sleep(4.2)
st, h, j = lec.call("GET", "/api/v1/attempts/%s" % p["uid"])
t.ok(st == 200 and j["state"] == "expired" and j["score"] == 1, "left: the lecturer's look expires and grades it", j)
time.sleep(0.3)
t.eq(recorded(c3), "0", "left: no completion and no completion event")

# nor in an archived course
c4, q4, _ = course_with_quiz("GEO4", {"questions": [{"id": "tf", "kind": "truefalse", "text": "x", "answer": True}]})
st, h, p = R.call("POST", "/api/v1/units/%s/attempts" % q4)
assert st == 201, p
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % c4, {"status": "archived"})
assert st == 200, j
st, h, j = R.call("PUT", "/api/v1/attempts/%s/answers" % p["uid"], {"answers": {"tf": True}})
t.eq(st, 403, "archived: saving answers is 403")
st, h, j = R.call("POST", "/api/v1/attempts/%s/submit" % p["uid"], {"answers": {"tf": True}})
t.eq(st, 403, "archived: submitting is 403")
st, h, j = R.call("GET", "/api/v1/attempts/%s" % p["uid"])
t.ok(st == 200 and j["state"] == "open", "archived: the attempt stays open, ungraded", j)
t.eq(recorded(c4), "0", "archived: no completion and no completion event")

# ---- when the correct answers are shown, and the wait between attempts --------------------
TF2 = [{"id": "a", "kind": "truefalse", "text": "A", "answer": True},
       {"id": "b", "kind": "truefalse", "text": "B", "answer": False}]


def take(quid, answers):
    return harness.take_quiz(R, quid, answers)


def shown(results):
    return [("correct_answer" in r) for r in results]


c5, q5, _ = course_with_quiz("GEO5", {"settings": {"attempts": 3, "show_answers": "after_passing",
                                                   "pass_percent": 100}, "questions": TF2})
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % q5, {"settings": {"show_answers": "later"}, "questions": TF2})
t.ok(st == 400 and "settings.show_answers" in j.get("detail", ""), "show_answers \"later\": 400 naming it", j)
a1, res = take(q5, {"a": True, "b": True})
t.ok(res["passed"] is False and shown(res["results"]) == [False, False] and
     [r["correct"] for r in res["results"]] == [True, False],
     "after_passing: a failed attempt says which answers are wrong, not what is right", res)
st, h, j = R.call("GET", "/api/v1/attempts/%s" % a1)
t.ok(st == 200 and shown(j["results"]) == [False, False], "... nor does reading it again", j)
st, h, j = lec.call("GET", "/api/v1/attempts/%s" % a1)
t.ok(st == 200 and shown(j["results"]) == [True, True], "the lecturer sees the correct answers", j)
a2, res = take(q5, {"a": True, "b": False})
t.ok(res["passed"] is True and shown(res["results"]) == [True, True], "passing shows them", res)
st, h, j = R.call("GET", "/api/v1/attempts/%s" % a1)
t.ok(st == 200 and shown(j["results"]) == [True, True], "... for the earlier attempt too", j)
st, h, j = R.call("GET", "/api/v1/units/%s/quiz" % q5)
t.ok(st == 200 and j["settings"]["show_answers"] == "after_passing" and j["settings"]["retry_wait"] == 0 and
     j["next_attempt_at"] is None, "the learner's view of the quiz names both settings", j)
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % q5, {"settings": {"show_answers": "never"}, "questions": TF2})
assert st == 200, j
st, h, j = R.call("GET", "/api/v1/attempts/%s" % a2)
t.ok(st == 200 and shown(j["results"]) == [False, False], "never (set later): hidden again, as the quiz says now", j)

c6, q6, _ = course_with_quiz("GEO6", {"settings": {"attempts": 2, "show_answers": "after_last",
                                                   "pass_percent": 100}, "questions": TF2})
a1, res = take(q6, {"a": False})
t.ok(shown(res["results"]) == [False, False], "after_last: hidden with an attempt left", res)
a2, res = take(q6, {"a": False})
t.ok(shown(res["results"]) == [True, True], "after_last: shown once no attempt is left", res)

c7, q7, _ = course_with_quiz("GEO7", {"settings": {"retry_wait": 3600}, "questions": TF2})
a1, res = take(q7, {"a": True})
st, h, j = R.call("POST", "/api/v1/units/%s/attempts" % q7)
t.ok(st == 429 and 3590 <= int(h.get("retry-after", "0")) <= 3600 and "3600 s between attempts" in j.get("detail", ""),
     "retry_wait 3600: the next attempt at once is 429 with Retry-After", (st, h, j))
st, h, j = R.call("GET", "/api/v1/units/%s/quiz" % q7)
t.ok(st == 200 and j["next_attempt_at"] and j["attempts_left"] is None and j["open"] is None,
     "the quiz says when the next attempt can start", j)
t.eq(sql("SELECT count(*) FROM attempts a JOIN units u ON u.id = a.unit_id WHERE u.uid = '%s'" % q7), "1",
     "the refused start made no attempt")
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % q7, {"settings": {"retry_wait": 0}, "questions": TF2})
assert st == 200, j
st, h, p = R.call("POST", "/api/v1/units/%s/attempts" % q7)
t.eq(st, 201, "with the wait set to 0 the next attempt starts")
# an attempt left open past its deadline is graded when next touched, maybe
# days later: the wait counts from its deadline, not from that grading
c8, q8, _ = course_with_quiz("GEO8", {"settings": {"retry_wait": 3600, "time_limit": 60}, "questions": TF2})
st, h, p = R.call("POST", "/api/v1/units/%s/attempts" % q8)
assert st == 201, p
sql("UPDATE attempts SET started_at = started_at - 86400, deadline = deadline - 86400 WHERE uid = '%s'" % p["uid"])
st, h, p2 = R.call("POST", "/api/v1/units/%s/attempts" % q8)
st2, h, j = R.call("GET", "/api/v1/attempts/%s" % p["uid"])
t.ok(st == 201 and st2 == 200 and j["state"] == "expired",
     "an attempt abandoned a day ago expires at the next start, which is not held back by the wait", (st, p2, j))

# ---- unknown things ------------------------------------------------------------------------
st, h, j = L.call("GET", "/api/v1/attempts/00000000-0000-4000-8000-000000000000")
t.eq(st, 404, "an unknown attempt: 404")
st, h, j = anon.call("GET", "/api/v1/attempts/%s" % att)
t.eq(st, 401, "anonymous: 401")
st, h, j = lec.call("GET", "/api/v1/units/%s/quiz" % text_unit)
t.eq(st, 409, "GET quiz of a text unit: 409")

code, log = srv.stop()
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
