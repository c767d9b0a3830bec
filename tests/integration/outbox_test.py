"""outbox_test.py - retention of the outbox (server/outbox_pruner.h): a
server with a short retention (--outbox-retention 1, pruning every second)
deletes consumed events by itself; the credential whose event went is still
served, listed in the learner's wallet, in the transparency log with a
proof, and verifies; an unconsumed event (waiting for approval) and a
declined one (its reason still shown, still approvable) stay. With
--outbox-retention 0 nothing is deleted. `tinchi outbox prune` deletes
once: bad input exits 2 with a message and deletes nothing; --older-than 0
deletes every consumed event."""
import hashlib
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BIN, ApiClient, DataCli, Server, Tap, complete_course, course_with_quiz,  # noqa: E402
                     credentials_of, sanitizer_clean, verify_settled)

t = Tap()
COST = "12"
# one address for the three servers: the credentials name their status list by it
URL = "https://tinchi.example"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-ob-"), "data")
cli = DataCli(data, COST)
rc, out, err = cli("institution", "add", "VNU", "--name", "Trường VNU", "--kind", "university")
assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
for i in range(1, 4):
    cli.person("20000000000%d" % i, "Học Viên %d" % i, "learner", "VNU")

# the retry of failed credentials (issuing_retry_test.py) waits long here: the event that
# cannot be issued below is read by the completions' runs alone
srv = Server("--password-cost", COST, "--public-url", URL, "--outbox-retention", "1", "--outbox-prune-interval", "1",
             "--issuing-retry-ms", "600000", data=data)


def Client(nid=None):
    return ApiClient(lambda: srv, nid)


anon, lec = Client(), Client("100000000001")
learner1, learner2, learner3 = (Client("20000000000%d" % i) for i in range(1, 4))


def uid_of(c):
    st, h, j = c.call("GET", "/api/v1/session")
    assert st == 200, j
    return j["person"]["uid"]


L1, L2, L3 = (uid_of(c) for c in (learner1, learner2, learner3))
db = os.path.join(data, "tinchi.db")


def sql(q):
    p = subprocess.run(["sqlite3", db, q], stdout=subprocess.PIPE)
    return p.stdout.decode().strip()


def event_of(person_uid):
    """the id of PERSON_UID's course.completed event, "" when there is none"""
    return sql("SELECT o.id FROM outbox o JOIN people p ON p.id = o.person_id"
               " WHERE o.kind = 'course.completed' AND p.uid = '%s'" % person_uid)


def outbox_count():
    return sql("SELECT count(*) FROM outbox")


def wait_gone(person_uid, timeout=15):
    deadline = time.time() + timeout
    while event_of(person_uid) != "" and time.time() < deadline:
        time.sleep(0.2)
    return event_of(person_uid) == ""


ONE_TF = {"settings": {"attempts": 3, "pass_percent": 50},
          "questions": [{"id": "a", "kind": "truefalse", "text": "Một cộng một bằng hai.", "answer": True}]}
course, u_quiz, _ = course_with_quiz(lec, "OB101", ONE_TF, title="Lưu giữ sự kiện", credits="3", approval=True)


def pending():
    st, h, j = lec.call("GET", "/api/v1/courses/%s/credentials/pending" % course)
    assert st == 200, j
    return {r["learner"]: r for r in j["pending"]}


# an event that cannot be issued (its payload is not a completion's) stays
# pending; a new completion reads only the events after those read before,
# so it is read (and logged) once, not again at each of the completions
bad = sql("INSERT INTO outbox (kind, course_id, payload, created_at) SELECT 'course.completed', id, 'x', 0"
          " FROM courses WHERE uid = '%s' RETURNING id" % course)
for c in (learner1, learner2, learner3):
    complete_course(c, course, quiz=u_quiz, answers={"a": True})
t.ok(all(event_of(u) != "" for u in (L1, L2, L3)), "three completions, three events waiting")
t.eq(srv.read_log().count("outbox event %s: payload is not a course.completed event" % bad), 1,
     "the event that cannot be issued was read once by the three completions' runs")
sql("DELETE FROM outbox WHERE id = %s" % bad)
st, h, j = lec.call("POST", "/api/v1/courses/%s/credentials/approve" % course, {"learners": [L1]})
t.ok(st == 200 and len(j.get("issued", [])) == 1, "learner 1's credential is approved and issued", j)
st, h, j = lec.call("POST", "/api/v1/courses/%s/credentials/decline" % course,
                    {"learner": L2, "reason": "Chưa nộp đồ án"})
t.ok(st == 200, "learner 2's is declined", j)

# ---- the server prunes by itself --------------------------------------------------------------
t.ok(wait_gone(L1), "the issued credential's consumed event is deleted after the retention")
time.sleep(2.5)		# two more passes
t.ok(event_of(L2) != "", "the declined event stays")
t.ok(event_of(L3) != "", "the event waiting for approval stays")
p = pending()
t.ok(p.get(L2, {}).get("status") == "declined" and p[L2].get("reason") == "Chưa nộp đồ án",
     "the declined completion is still listed, with its reason", p.get(L2))
t.ok(p.get(L3, {}).get("status") == "waiting", "the waiting one is still listed", p.get(L3))
t.ok("outbox: deleted 1 consumed event(s)" in srv.read_log(), "the server logs what it deleted")

c1 = credentials_of(learner1)
t.ok(len(c1) == 1, "the learner's wallet still lists the credential", c1)
uid = c1[0]["uid"] if c1 else ""
st, h, raw = srv.request("GET", "/api/v1/credentials/" + uid, headers={"Cookie": learner1.cookie})
t.eq(st, 200, "the credential is still served")
digest = "sha256:" + hashlib.sha256(raw).hexdigest()
deadline = time.time() + 10
while True:
    st, h, pr = anon.call("GET", "/log/proof?hash=" + digest)
    if st == 200 or time.time() > deadline:
        break
    time.sleep(0.2)
t.ok(st == 200 and isinstance(pr.get("proof"), list), "its log entry still has an inclusion proof", pr)
st, h, j = verify_settled(anon, c1[0]["credential"] if c1 else {})
t.ok(st == 200 and j.get("verified") is True, "and it verifies", j)
st, h, j = learner1.call("POST", "/api/v1/credentials/%s/shares" % uid)
t.ok(st == 201, "the learner can still share it from the wallet", j)

# a declined completion approved later: issued, then its event goes too
st, h, j = lec.call("POST", "/api/v1/courses/%s/credentials/approve" % course, {"learners": [L2]})
t.ok(st == 200 and len(j.get("issued", [])) == 1, "the declined completion is still approvable", j)
t.ok(len(credentials_of(learner2)) == 1, "learner 2 has the credential")
t.ok(wait_gone(L2), "then its event is deleted too")
t.ok(event_of(L3) != "", "the waiting event is still there")

# an id taken again: the pruner deleted the newest event (a consumed one),
# so the next completion's event gets an id an earlier issuing run read
# past; it is issued at once all the same
course2, q2, _ = course_with_quiz(lec, "OB102", {"questions": [{"id": "a", "kind": "truefalse", "text": "Đúng.",
                                                                "answer": True}]}, title="Cấp ngay")


def event_in_course2(person_uid):
    return sql("SELECT o.id FROM outbox o JOIN people p ON p.id = o.person_id JOIN courses c ON c.id = o.course_id"
               " WHERE c.uid = '%s' AND p.uid = '%s'" % (course2, person_uid))


complete_course(learner1, course2, quiz=q2, answers={"a": True})
first = event_in_course2(L1)
t.ok(len(credentials_of(learner1)) == 2 and first != "", "an automatic course's credential is issued at once", first)
deadline = time.time() + 15
while event_in_course2(L1) != "" and time.time() < deadline:
    time.sleep(0.2)
complete_course(learner2, course2, quiz=q2, answers={"a": True})
again = event_in_course2(L2)
t.ok(again != "" and first != "" and int(again) <= int(first),
     "the next completion's event took an id at or below the pruned one's", (first, again))
t.ok(len(credentials_of(learner2)) == 2, "and its credential is issued at once", credentials_of(learner2))
deadline = time.time() + 15
while event_in_course2(L2) != "" and time.time() < deadline:
    time.sleep(0.2)

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])

# ---- retention 0: kept forever ---------------------------------------------------------------
srv = Server("--password-cost", COST, "--public-url", URL, "--outbox-retention", "0", "--outbox-prune-interval", "1",
             data=data)
st, h, j = lec.call("POST", "/api/v1/courses/%s/credentials/approve" % course, {"learners": [L3]})
t.ok(st == 200 and len(j.get("issued", [])) == 1, "learner 3's credential is approved", j)
time.sleep(2.5)
t.ok(event_of(L3) != "", "with --outbox-retention 0 the consumed event is kept")
code, log = srv.stop()
t.ok(code == 0 and "consumed events are kept" in log, "server exits 0 and said it keeps them", log[-2000:])


# ---- tinchi outbox prune ---------------------------------------------------------------------
def prune(*args, data_dir=data):
    p = subprocess.run([BIN, "outbox"] + list(args) + ["--data", data_dir],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


before = outbox_count()
for args, why in ((("prune", "--older-than", "-1"), "a negative age"),
                  (("prune", "--older-than", "abc"), "an age that is not a number"),
                  (("prune", "--older-than", "1.5"), "a fraction of a day"),
                  (("prune", "--older-than", "36501"), "more than 100 years"),
                  (("prune", "--older-than", ""), "an empty age"),
                  (("prune", "--older-than"), "no age after --older-than"),
                  (("prune", "--bogus"), "an unknown option"),
                  (("purge",), "an unknown subcommand"),
                  ((), "no subcommand"),
                  (("prune", "extra"), "an extra argument")):
    rc, out, err = prune(*args)
    t.ok(rc == 2 and err.strip() != "" and out == "", "outbox %s: exit 2 with a message" % why, (rc, out, err))
rc, out, err = prune("prune", data_dir=os.path.join(data, "nope"))
t.ok(rc == 2 and "no database" in err, "a data folder without a database: exit 2, saying so", (rc, err))
t.ok(not os.path.exists(os.path.join(data, "nope")), "and none is made")
t.eq(outbox_count(), before, "bad input deleted nothing")
rc, out, err = prune("--help")
t.ok(rc == 0 and "--older-than DAYS" in out, "--help shows the usage", out)
rc, out, err = prune("prune")
t.ok(rc == 0 and "deleted 0 event(s) consumed more than 30 day(s) ago" in out,
     "prune with the default 30 days: nothing that young goes", (rc, out, err))
t.ok(event_of(L3) != "", "learner 3's event is still there")
rc, out, err = prune("prune", "--older-than", "0")
t.ok(rc == 0 and "deleted 1 event(s) consumed more than 0 day(s) ago" in out,
     "--older-than 0: the consumed event goes", (rc, out, err))
t.ok(event_of(L3) == "" and outbox_count() == "0", "the outbox is empty", outbox_count())

# the credentials are unaffected
srv = Server("--password-cost", COST, "--public-url", URL, data=data)
c3 = credentials_of(learner3)
st, h, j = verify_settled(anon, c3[0]["credential"] if c3 else {})
t.ok(len(c3) == 1 and st == 200 and j.get("verified") is True,
     "after the CLI pruned, learner 3's credential is listed and verifies", j)
code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
