"""issuing_retry_test.py - credentials whose issuing failed are retried
while the server runs (server/issuing.h, issuing_retry_tick), not only at
the next start. With --issuing-retry-ms 300 --issuing-retry-max-ms 1200:
a completion while the institution's status list is full (next_k set to
STATUSLIST_MAX_BITS in the database, as statuslist_growth_test.py does)
issues nothing and its event stays pending; the retry reads it again
(logged each time, /metrics tinchi_issuing_failed_pending 1 and
tinchi_issuing_retry_total rising); once next_k is back (the operator
acted), the credential is issued WITHOUT a restart and verifies. A
completion of a course set to "approval" stays waiting through the
retries and is issued when the course goes back to "auto". An event that
can never be issued (its payload is not a completion's) is retried with a
doubling wait, not at every tick: a handful of log lines in 4 s, not 40,
while other completions still issue at once; once it is gone the gauge
goes back to 0."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, Server, Tap, sanitizer_clean, verify_settled  # noqa: E402

MAX_BITS = 128 << 20

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-ir-"), "data")
db = os.path.join(data, "tinchi.db")
cli = DataCli(data, COST)
rc, out, err = cli("institution", "add", "VNU", "--name", "Trường VNU", "--kind", "university")
assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
LEARNERS = ["2000000000%02d" % i for i in range(1, 5)]
for i, nid in enumerate(LEARNERS):
    cli.person(nid, "Học Viên %d" % (i + 1), "learner", "VNU")

srv = Server("--password-cost", COST, "--issuing-retry-ms", "300", "--issuing-retry-max-ms", "1200", data=data)
anon, lec = ApiClient(lambda: srv), ApiClient(lambda: srv, "100000000001")
learners = [ApiClient(lambda: srv, n) for n in LEARNERS]


def sql(q):
    p = subprocess.run(["sqlite3", "-cmd", ".timeout 5000", db, q], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().strip()


def make_course(code, mode):
    st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                        {"code": code, "title": "Thử lại " + code, "language": "vi", "credits": "2"})
    assert st == 201, j
    uid = j["uid"]
    st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % uid,
                        {"kind": "text", "title": "Bài", "required": True, "body": "x"})
    assert st == 201, j
    unit = j["uid"]
    if mode != "auto":
        st, h, j = lec.call("PATCH", "/api/v1/courses/%s" % uid, {"credential_issue": mode})
        assert st == 200, j
    st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % uid, {"status": "published"})
    assert st == 200, j
    return uid, unit


def complete(c, course):
    uid, unit = course
    st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % uid)
    assert st == 201, j
    st, h, j = c.call("POST", "/api/v1/units/%s/read" % unit)
    assert st == 200, j


def creds_of(c):
    st, h, j = c.call("GET", "/api/v1/credentials")
    assert st == 200, j
    return j["credentials"]


def metric(name):
    st, h, body = srv.request("GET", "/metrics")
    assert st == 200, body
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return None


def wait_for(cond, timeout):
    deadline = time.time() + timeout
    while not cond() and time.time() < deadline:
        time.sleep(0.1)
    return cond()


auto = make_course("IR101", "auto")
approval = make_course("IR102", "approval")

t.eq(metric("tinchi_issuing_retry_total"), 0, "/metrics: no retry yet")
t.eq(metric("tinchi_issuing_failed_pending"), 0, "/metrics: nothing failed")
complete(learners[0], auto)
t.eq(len(creds_of(learners[0])), 1, "an automatic course issues at once")
next_k = sql("SELECT next_k FROM status_lists")

# ---- a full status list: the completion waits, and is retried ----------------------------------
sql("UPDATE status_lists SET next_k = %d" % MAX_BITS)
complete(learners[1], auto)
complete(learners[2], approval)
t.eq(len(creds_of(learners[1])), 0, "while the status list is full a completion issues nothing")
t.ok(wait_for(lambda: srv.read_log().count("status list is full") >= 3, 5),
     "the retry reads it again, with a log line each time", srv.read_log()[-2000:])
t.eq(metric("tinchi_issuing_failed_pending"), 1, "/metrics: one credential failed and waits")
t.ok((metric("tinchi_issuing_retry_total") or 0) >= 2, "/metrics: retries counted")
t.eq(sql("SELECT count(*) FROM outbox WHERE consumed_at IS NULL AND kind = 'course.completed'"), "2",
     "both events are still pending")

sql("UPDATE status_lists SET next_k = %s" % next_k)  # the operator acted
t.ok(wait_for(lambda: len(creds_of(learners[1])) == 1, 5),
     "once the list has room the credential is issued, without a restart", srv.read_log()[-2000:])
got = creds_of(learners[1])
if got:
    st, h, j = verify_settled(anon, got[0]["credential"])
    t.ok(st == 200 and j.get("verified") is True, "and it verifies", j)
else:
    t.ok(False, "and it verifies")
t.ok("issuing retry: issued 1 credential(s) that had failed" in srv.read_log(), "the log says the retry issued it")
t.ok(wait_for(lambda: metric("tinchi_issuing_failed_pending") == 0, 3), "/metrics: nothing failed any more")
t.ok((metric("tinchi_issuing_retry_issued_total") or 0) == 1, "/metrics: one credential issued by a retry")
time.sleep(1)
t.eq(len(creds_of(learners[2])), 0, "the completion of the course set to approval still waits")
st, h, j = lec.call("GET", "/api/v1/courses/%s/credentials/pending" % approval[0])
t.ok(st == 200 and [p["status"] for p in j.get("pending", [])] == ["waiting"], "and is listed as waiting", j)

# ---- an event that can never be issued: backed off, not spinning ------------------------------
bad = sql("INSERT INTO outbox (kind, course_id, payload, created_at) SELECT 'course.completed', id, 'x', 0"
          " FROM courses WHERE uid = '%s' RETURNING id" % auto[0])
line = "outbox event %s: payload is not a course.completed event" % bad
complete(learners[3], auto)
t.eq(len(creds_of(learners[3])), 1, "a completion after it issues at once")
time.sleep(4)
n = srv.read_log().count(line)
# first try, then retries 0.3, 0.6, 1.2, 1.2 s apart: 4-5 in 4 s (a try every tick would be 40)
t.ok(2 <= n <= 8, "the event that cannot be issued is retried with a growing wait (%d tries in 4 s)" % n)
t.eq(metric("tinchi_issuing_failed_pending"), 1, "/metrics: it counts as failed and waiting")
sql("DELETE FROM outbox WHERE id = %s" % bad)
t.ok(wait_for(lambda: metric("tinchi_issuing_failed_pending") == 0, 4), "gone: the gauge is back to 0")

# ---- back to auto: what waited for approval is issued ------------------------------------------
st, h, j = lec.call("PATCH", "/api/v1/courses/%s" % approval[0], {"credential_issue": "auto"})
t.eq(st, 200, "the course is set back to auto")
t.eq(len(creds_of(learners[2])), 1, "and the waiting completion is issued")
t.eq(sql("SELECT count(*) FROM outbox WHERE consumed_at IS NULL AND kind = 'course.completed'"), "0",
     "no completion is left pending")

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
