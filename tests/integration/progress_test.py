"""progress_test.py - learning progress end to end: a real lecture through the
media pipeline, a real WebSocket client reporting progress (acks after
commit, seq replay, reconnect resend, old messages), completion decided by
the server only from watched AND delivered time (fake heartbeats without
segment fetches never complete; fetching every segment through /media/
does), resume from another session, the HTTP path, documents and text
units read by POST .../read (never by a GET or a download), permissions and
bad inputs; WebSocket
messages written in group commits (many in flight on one and on several
connections, answered in order; a batch that cannot commit answers busy)."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, BIN, Server, Tap, sanitizer_clean  # noqa: E402
from wsclient import OP_TEXT, WebSocket  # noqa: E402

t = Tap()
FFMPEG = shutil.which("ffmpeg")
if not FFMPEG:
    t.skip_all("ffmpeg is needed to make the lecture")
COST = "12"
work = tempfile.mkdtemp(prefix="tinchi-progress-")
video = os.path.join(work, "lecture.mp4")
subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                "testsrc2=size=320x180:rate=25:duration=14", "-f", "lavfi", "-i",
                "sine=frequency=440:duration=14", "-c:v", "libx264", "-preset", "veryfast",
                "-pix_fmt", "yuv420p", "-g", "50", "-c:a", "aac", "-shortest", video], check=True)

data = os.path.join(work, "data")
people = (("100000000001", "Giảng Viên", "lecturer"), ("200000000001", "Học Viên", "learner"),
          ("200000000002", "Người Ngoài", "learner"), ("200000000003", "Học Viên Ba", "learner"),
          ("200000000004", "Học Viên Bốn", "learner"))
for i, (nid, name, role) in enumerate(people):
    if i == 0:
        subprocess.run([BIN, "institution", "add", "VNU", "--name", "Đại học", "--kind",
                        "university", "--data", data], check=True, stdout=subprocess.PIPE)
    subprocess.run([BIN, "person", "add", "--national-id", nid, "--name", name, "--role", role,
                    "--institution", "VNU", "--password-stdin", "--data", data,
                    "--password-cost", COST], input=b"password-" + nid.encode() + b"\n",
                   check=True, stdout=subprocess.PIPE)

srv = Server("--password-cost", COST, "--media-jobs", "1", data=data)
lec, learner, outsider, anon = (ApiClient(srv, "100000000001"), ApiClient(srv, "200000000001"),
                                ApiClient(srv, "200000000002"), ApiClient(srv))
db = sqlite3.connect(os.path.join(data, "tinchi.db"), timeout=10)


def q(sql, *args):
    return db.execute(sql, args).fetchall()


st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "PG101", "title": "Tiến độ", "language": "vi", "credits": "2"})
assert st == 201, (st, j)
course = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/materials?kind=video&name=l.mp4" % course,
                    raw=open(video, "rb").read(), ctype="application/octet-stream", timeout=120)
assert st == 201, (st, j)
vmat = j["uid"]
pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n" + b"%" * 3000
st, h, j = lec.call("POST", "/api/v1/courses/%s/materials?kind=document&name=a.pdf" % course,
                    raw=pdf, ctype="application/pdf")
assert st == 201, (st, j)
dmat = j["uid"]
units = {}
for kind, extra in (("video", {"material": vmat}), ("document", {"material": dmat}),
                    ("text", {"body": "# Đọc\n\nNội dung"})):
    body = {"kind": kind, "title": "Bài " + kind}
    body.update(extra)
    st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, body)
    assert st == 201, (st, j)
    units[kind] = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
assert st == 200, (st, j)
st, h, j = learner.call("POST", "/api/v1/courses/%s/enrolment" % course)
assert st in (200, 201), (st, j)

deadline = time.time() + 120
while True:
    st, h, mj = learner.call("GET", "/api/v1/materials/%s/media" % vmat)
    if mj.get("state") in ("ready", "failed") or time.time() > deadline:
        break
    time.sleep(0.3)
t.eq(mj.get("state"), "ready", "the lecture is processed")
duration = mj["probe"]["duration"] if "probe" in mj else 14.0
t.diag("duration %.3f s" % duration)
VU = units["video"]


class Ws:
    def __init__(self, cookie=None):
        self.ws = WebSocket(srv.port, headers={"Cookie": cookie} if cookie else None)
        self.hello = self.recv()
        self.pushed = []

    def recv(self):
        op, d = self.ws.recv_message()
        assert op == OP_TEXT
        return json.loads(d.decode())

    def send(self, **m):
        """Sends a progress message; the answer (pushed events set aside)."""
        m.setdefault("type", "progress")
        self.ws.send_text(json.dumps(m))
        while True:
            r = self.recv()
            if r.get("type") in ("ack", "error", "pong"):
                return r
            self.pushed.append(r)

    def close(self):
        self.ws.close()


def hb(seq, a, b, at, **kw):
    m = dict(seq=seq, unit=VU, event="heartbeat", position=b, to=b, at=at)
    m["from"] = a
    m.update(kw)
    return m


def row():
    r = q("SELECT watched, position_ms, percent, completed_at FROM progress p JOIN units u"
          " ON u.id = p.unit_id WHERE u.uid = ?", VU)
    return r[0] if r else None


# ---- the WebSocket: acks, replay, reconnect ------------------------------------------
w = Ws(learner.cookie)
t.ok(w.hello.get("person"), "the learner's WebSocket is signed in", w.hello)
a = w.send(**hb(1, 0, 3, 1000))
t.ok(a.get("type") == "ack" and a["seq"] == 1 and a["unit"] == VU and a["completed"] is False
     and abs(a["position"] - 3) < 0.01 and a["percent"] > 0, "heartbeat acked", a)
t.eq(row()[0], "0-3000", "the ack came after the row was committed")
a = w.send(**hb(1, 3, 9, 2000))
t.ok(a.get("type") == "ack" and a["seq"] == 1, "a repeated seq is acked again", a)
t.eq(row()[0], "0-3000", "... and not applied")
a = w.send(seq=2, unit=VU, event="seek", position=10, at=5000)
t.ok(a.get("type") == "ack" and abs(a["position"] - 10) < 0.01, "seek moves the position", a)
a = w.send(**hb(3, 3, 6, 4000))
t.ok(a.get("type") == "ack" and abs(a["position"] - 10) < 0.01,
     "an older message (at) does not move the position back", a)
t.eq(row()[0], "0-6000", "but its span is added")
w.close()
w = Ws(learner.cookie)
p0 = row()
for m in (hb(1, 0, 3, 1000), hb(3, 3, 6, 4000)):
    a = w.send(**m)
    t.ok(a.get("type") == "ack", "resent after a reconnect: acked", a)
t.eq(row()[:3], p0[:3], "resending on a new connection does not double count")

# ---- fake heartbeats without fetching the media never complete -------------------------
seq = 10
for s0 in range(0, int(duration) + 1, 3):
    s1 = min(s0 + 3, duration)
    if s1 <= s0:
        break
    seq += 1
    a = w.send(**hb(seq, s0, s1, 10000 + seq))
seq += 1
a = w.send(seq=seq, unit=VU, event="ended", position=duration, at=10000 + seq)
t.ok(a.get("type") == "ack" and a["percent"] >= 99 and a["completed"] is False,
     "everything claimed watched, nothing fetched: not completed", a)
t.eq(row()[3], 0, "completed_at stays unset")
t.eq(q("SELECT count(*) FROM deliveries")[0][0], 0, "nothing delivered yet")

# ---- fetching segments through /media/ ---------------------------------------------------
master_url = mj["stream"]["master"]
token = master_url.split("?t=", 1)[1]
st, h, master = learner.srv.request("GET", master_url)
variant = [ln for ln in master.decode().splitlines() if ln and not ln.startswith("#")][0]
vpath = urllib.parse.urljoin(master_url, variant)
st, h, pl = srv.request("GET", vpath)
segs = [urllib.parse.urljoin(vpath, ln) for ln in pl.decode().splitlines()
        if ln and not ln.startswith("#")]
t.ok(len(segs) >= 2, "the rendition has segments", segs)
st, h, d = srv.request("HEAD", segs[0])
t.eq(st, 200, "HEAD of a segment")
st, h, d = srv.request("GET", segs[0], headers={"Range": "bytes=0-99"})
t.eq(st, 206, "a partial range of a segment")
st, h, d = srv.request("GET", segs[0], headers={"If-None-Match": h.get("etag", "")})
t.ok(st in (200, 304), "a conditional GET", st)
if st == 200:
    db.execute("DELETE FROM deliveries")   # a 200 is a real delivery; start from zero
    db.commit()
t.eq(q("SELECT count(*) FROM deliveries")[0][0], 0,
     "HEAD, a partial range and a 304 deliver nothing")
seq += 1
a = w.send(**hb(seq, 0, 3, 20000 + seq))
t.eq(a.get("completed"), False, "still not completed")
for u in segs:
    st, h, d = srv.request("GET", u)
    assert st == 200, (u, st)
dl = q("SELECT delivered FROM deliveries")
t.ok(len(dl) == 1 and dl[0][0].startswith("0-"), "whole segments are recorded as delivered", dl)
seq += 1
a = w.send(**hb(seq, duration - 2, duration, 30000 + seq))
t.ok(a.get("type") == "ack" and a["completed"] is True,
     "after fetching every segment the next heartbeat completes the unit", a)
c1 = row()[3]
t.ok(c1 > 0, "completed_at is set")
deadline = time.time() + 3
while not any(m.get("type") == "unit.completed" for m in w.pushed) and time.time() < deadline:
    w.ws.send_text(json.dumps({"type": "ping", "id": 1}))
    r = w.recv()
    if r.get("type") != "pong":
        w.pushed.append(r)
done = [m for m in w.pushed if m.get("type") == "unit.completed"]
t.ok(done and done[0]["unit"] == VU and done[0]["course"] == course,
     "unit.completed is pushed to the learner's connection", w.pushed)
seq += 1
w.send(**hb(seq, 0, 2, 40000 + seq))
t.eq(row()[3], c1, "completed_at is set once and never changes")

# the learning records of that lecture, stored with the progress (xAPI): the
# writer turns the outbox rows into statements when it is idle
deadline = time.time() + 10
while q("SELECT count(*) FROM outbox WHERE kind = 'xapi.statement'")[0][0] and time.time() < deadline:
    time.sleep(0.1)
t.eq(q("SELECT count(*) FROM outbox WHERE kind = 'xapi.statement'")[0][0], 0,
     "records: the writer has stored every deferred statement")
who = q("SELECT uid FROM people WHERE national_id = '200000000001'")[0][0]
recs = [json.loads(x[0]) for x in q("SELECT json FROM statements ORDER BY id")]
mine = [x for x in recs if x["actor"]["account"]["name"] == who and x["object"]["id"].endswith("/units/" + VU)]
verbs = [x["verb"]["id"].rsplit("/", 1)[-1] for x in mine]
steps = [x["result"]["extensions"]["https://w3id.org/xapi/cmi5/result/extensions/progress"]
         for x in mine if x["verb"]["id"].endswith("/progressed")]
t.ok(verbs.count("initialized") == 1 and verbs.count("completed") == 1 and verbs.index("initialized") == 0,
     "records: the lecture initialized once, completed once", verbs)
t.ok(1 <= len(steps) <= 10 and steps == sorted(steps) and len(set(s // 10 for s in steps)) == len(steps),
     "records: progressed only when another tenth is passed, never per heartbeat", (steps, len(verbs)))
t.ok(all(x["context"]["contextActivities"]["parent"][0]["id"].endswith("/courses/" + course) for x in mine),
     "records: each names the course as parent", mine[:1])

# ---- resume on another device ------------------------------------------------------
other = ApiClient(srv, "200000000001")
st, h, j = other.call("GET", "/api/v1/units/%s/progress" % VU)
t.ok(st == 200 and abs(j["position"] - 2) < 0.01 and j["completed"] is True and
     j["watched"] and j["watched"][0][0] == 0, "another session reads the resume position", j)

# ---- WebSocket errors: each refused, the connection stays open ----------------------
before = row()
bad = [
    (dict(unit=VU, event="play", position=1), "invalid", "no seq"),
    (dict(seq=100, event="play", position=1), "invalid", "no unit"),
    (dict(seq=100, unit=VU, event="fly", position=1), "invalid", "unknown event"),
    (hb(100, 5, 5, 1), "invalid", "from == to"),
    (hb(100, 6, 5, 1), "invalid", "from > to"),
    (hb(100, 0, 121, 1, position=121), "invalid", "a span over 120 s"),
    (dict(seq=100, unit=VU, event="seek", position=duration + 1.5), "invalid",
     "a position past the end"),
    (dict(seq=100, unit=VU, event="heartbeat", position=3), "invalid", "a heartbeat without span"),
    (dict(seq=100, unit=units["text"], event="play", position=1), "invalid", "a text unit"),
    (dict(seq=100, unit="00000000-0000-4000-8000-000000000000", event="play", position=1),
     "not_found", "an unknown unit"),
]
for m, code, what in bad:
    r = w.send(**m)
    t.ok(r.get("type") == "error" and r.get("error") == code and r.get("detail"),
         "WebSocket %s: error %s" % (what, code), r)
r = w.send(seq="s" * 60000, unit=VU, event="play", position=1)
t.ok(r.get("error") == "invalid" and "seq" not in r and len(json.dumps(r)) < 300,
     "a 60 KB seq is refused without being echoed (the answer stays small)", str(r)[:120])
r = w.send(seq="s7", unit=VU, event="play", position=1)
t.ok(r.get("error") == "invalid" and r.get("seq") == "s7", "a short one is echoed", r)
t.eq(row(), before, "nothing changed")
w.ws.send_text(json.dumps({"type": "ping", "id": 9}))
t.eq(w.recv().get("type"), "pong", "the connection stays open")
# a second of the rate of their own: the one the messages above began (a
# dozen round trips, near a second under the sanitizers) may end in the
# middle of these 70, and then each part stays within 50
time.sleep(1.05)
busy, seen = 0, []
for i in range(70):
    w.ws.send_text(json.dumps(dict(type="progress", seq=1, unit=VU, event="pause", position=1)))
for i in range(70):
    r = w.recv()
    busy += r.get("error") == "busy"
    seen.append(r)
t.ok(busy >= 15, "more than 50 messages a second: busy", (busy, seen[-3:]))
w.close()

anon_ws = Ws()
r = anon_ws.send(**hb(1, 0, 1, 1))
t.ok(r.get("type") == "error" and r.get("error") == "forbidden", "an anonymous connection is refused", r)
anon_ws.close()
ow = Ws(outsider.cookie)
r = ow.send(**hb(1, 0, 1, 1))
t.ok(r.get("error") == "not_found", "a learner not enrolled: not_found", r)
ow.close()
lw = Ws(lec.cookie)
r = lw.send(**hb(1, 0, 1, 1))
t.ok(r.get("error") == "forbidden", "the lecturer: forbidden (not recorded)", r)
lw.close()

# ---- HTTP ----------------------------------------------------------------------------
st, h, j = outsider.call("POST", "/api/v1/units/%s/progress" % VU,
                         {"event": "play", "position": 1})
t.eq(st, 404, "HTTP: not enrolled is 404")
st, h, j = lec.call("POST", "/api/v1/units/%s/progress" % VU, {"event": "play", "position": 1})
t.eq(st, 403, "HTTP: the lecturer is 403")
st, h, j = anon.call("GET", "/api/v1/units/%s/progress" % VU)
t.eq(st, 401, "HTTP: anonymous is 401")
before = row()
for body, what in (({"event": "heartbeat", "position": 1, "from": 2, "to": 1}, "from > to"),
                   ({"events": []}, "no events"),
                   ({"events": [{"event": "play", "position": 1}] * 101}, "101 events"),
                   ({"events": [{"event": "play", "position": 1},
                                {"event": "play", "position": -1}]}, "one bad event of two"),
                   ({"event": "play"}, "no position")):
    st, h, j = learner.call("POST", "/api/v1/units/%s/progress" % VU, body)
    t.ok(st == 400 and j.get("detail"), "HTTP %s: 400 with a reason" % what, (st, j))
st, h, j = learner.call("POST", "/api/v1/units/%s/progress" % VU, raw=b"{nope")
t.eq(st, 400, "HTTP: malformed JSON is 400")
t.eq(row(), before, "HTTP refusals change nothing")
st, h, j = learner.call("POST", "/api/v1/units/%s/progress" % VU,
                        {"events": [{"event": "seek", "position": 4, "at": 99999999},
                                    {"event": "pause", "position": 5, "at": 99999999}]})
t.ok(st == 200 and abs(j["position"] - 5) < 0.01 and j["completed"] is True,
     "HTTP: a batch of events applied in order", j)

# ---- documents and text -----------------------------------------------------------
st, h, j = learner.call("GET", "/api/v1/courses/%s/progress/me" % course)
t.ok(st == 200 and [u["unit"] for u in j["units"]] == [units["video"], units["document"],
                                                      units["text"]],
     "every unit of the course, not-yet-started ones included", j)
byu = {u["unit"]: u for u in j["units"]}
t.ok(byu[units["document"]]["started"] is False and byu[units["text"]]["completed"] is False,
     "document and text not started yet", j)
st, h, d = learner.call("HEAD", "/api/v1/materials/%s" % dmat)
st, h, d = learner.call("GET", "/api/v1/materials/%s" % dmat, headers={"Range": "bytes=0-9"})
t.eq(st, 206, "a range of the document")
st, h, d = learner.call("GET", "/api/v1/materials/%s" % dmat)
t.eq(st, 200, "the learner downloads the document")
st, h, d = lec.call("GET", "/api/v1/materials/%s" % dmat)
st, h, j = learner.call("GET", "/api/v1/units/%s" % units["text"])
t.ok(st == 200 and j["kind"] == "text" and "body_html" in j, "GET a text unit", j)
# GETs change nothing: a cross-site navigation carries the SameSite=Lax
# cookie, so neither the download nor the unit's GET marks anything read
st, h, j = learner.call("GET", "/api/v1/courses/%s/progress/me" % course)
byu = {u["unit"]: u for u in j["units"]}
t.ok(byu[units["document"]]["started"] is False and byu[units["text"]]["started"] is False,
     "downloading the document and GET of the text unit record nothing", j)
rd = "/api/v1/units/%s/read"
st, h, j = srv.request("POST", rd % units["text"], headers={"Cookie": learner.cookie})
st2, h, j2 = learner.call("GET", "/api/v1/units/%s/progress" % units["text"])
t.ok(st == 403 and j2.get("started") is False, "POST .../read without the CSRF token: 403, nothing recorded",
     (st, j2))
for kind in ("document", "text"):
    st, h, j = learner.call("POST", rd % units[kind])
    t.ok(st == 200 and j.get("completed") is True and j.get("viewed_at") and j.get("kind") == kind,
         "POST .../read: the %s unit is read, so complete" % kind, (st, j))
st, h, j = learner.call("GET", "/api/v1/courses/%s/progress/me" % course)
byu = {u["unit"]: u for u in j["units"]}
t.ok(byu[units["document"]]["completed"] is True and byu[units["document"]]["viewed_at"],
     "the opened document counts as viewed", byu[units["document"]])
t.ok(byu[units["text"]]["completed"] is True and byu[units["text"]]["viewed_at"],
     "the opened text unit counts as read", byu[units["text"]])
st, h, j = learner.call("POST", rd % units["text"])
t.ok(st == 200 and j.get("completed") is True, "reading it again: 200, still complete", (st, j))
st, h, j = learner.call("POST", rd % VU)
t.ok(st == 400 and "video" in j.get("detail", ""), "POST .../read of a video unit: 400", (st, j))
st, h, j = lec.call("POST", rd % units["text"])
t.eq(st, 403, "a lecturer's POST .../read: 403")
st, h, j = outsider.call("POST", rd % units["text"])
t.eq(st, 404, "POST .../read of a course one is not in: 404")
st, h, j = anon.call("POST", rd % units["text"])
t.eq(st, 401, "anonymous POST .../read: 401")
t.eq(q("SELECT count(*) FROM progress p JOIN people e ON e.id = p.person_id"
       " WHERE e.national_id = '100000000001'")[0][0], 0, "the lecturer's views are not recorded")
st, h, j = outsider.call("GET", "/api/v1/units/%s" % units["text"])
t.eq(st, 404, "GET a unit of a course one is not in: 404")

# ---- group commit: many messages in flight, answered in order after the commit -------
l3, l4 = ApiClient(srv, "200000000003"), ApiClient(srv, "200000000004")
for c in (l3, l4):
    st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % course)
    assert st in (200, 201), (st, j)


def P(m):
    m["type"] = "progress"
    return json.dumps(m)


def row_of(nid):
    r = q("SELECT watched, position_ms FROM progress p JOIN units u ON u.id = p.unit_id"
          " JOIN people e ON e.id = p.person_id WHERE u.uid = ? AND e.national_id = ?", VU, nid)
    return r[0] if r else None


def answers(ws, n):
    """The next N ack/error answers of WS, pushed events set aside."""
    out = []
    while len(out) < n:
        r = ws.recv()
        if r.get("type") in ("ack", "error"):
            out.append(r)
    return out


def metric(name):
    st, h, d = srv.request("GET", "/metrics")
    for line in d.decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return None


jobs0, batches0 = metric("tinchi_progress_jobs_total"), metric("tinchi_progress_batches_total")
t.ok(jobs0 is not None and batches0 is not None, "/metrics counts progress batches and jobs")
w3 = Ws(l3.cookie)
N = 200
got = []
for i in range(N):		# 50 ms of video each, 10 s in all, without waiting for acks
    if i and i % 50 == 0:
        # 50 a second is the most a connection may send: the server's second
        # began when it took the first of these 50, before its acks came
        got += answers(w3, 50)
        time.sleep(1.05)
    w3.ws.send_text(P(hb(i + 1, i * 0.05, (i + 1) * 0.05, 50000 + i)))
got += answers(w3, N - len(got))
t.ok([a.get("type") for a in got] == ["ack"] * N, "200 messages sent back to back: all acked",
     [a for a in got if a.get("type") != "ack"][:3])
t.eq([a.get("seq") for a in got], list(range(1, N + 1)), "the acks come in the order sent")
t.ok(all(abs(a["position"] - (a["seq"]) * 0.05) < 0.001 for a in got),
     "each ack carries the state after its own message", got[-1])
t.eq(row_of("200000000003"), ("0-10000", 10000), "the final row holds all 200 messages")
jobs1, batches1 = metric("tinchi_progress_jobs_total"), metric("tinchi_progress_batches_total")
t.ok(jobs1 - jobs0 >= N and batches1 - batches0 < jobs1 - jobs0,
     "they were written in fewer commits than messages (group commit)",
     (jobs1 - jobs0, batches1 - batches0))
t.diag("200 messages: %d batches" % (batches1 - batches0))

# several connections, two of one learner, interleaved
w3b, w4 = Ws(l3.cookie), Ws(l4.cookie)
M = 50
time.sleep(1.05)
for i in range(M):
    w3.ws.send_text(P(hb(N + 1 + i, 10 + i * 0.02, 10 + (i + 1) * 0.02, 60000 + i)))
    w3b.ws.send_text(P(hb(i + 1, 11 + i * 0.02, 11 + (i + 1) * 0.02, 60000 + i)))
    w4.ws.send_text(P(hb(i + 1, i * 0.1, (i + 1) * 0.1, 60000 + i)))
ga, gb, g4 = answers(w3, M), answers(w3b, M), answers(w4, M)
t.ok([a.get("seq") for a in ga] == list(range(N + 1, N + M + 1)) and
     [a.get("seq") for a in gb] == list(range(1, M + 1)) and
     [a.get("seq") for a in g4] == list(range(1, M + 1)) and
     all(a.get("type") == "ack" for a in ga + gb + g4),
     "three connections interleaved: each gets its own acks, in order",
     [a for a in ga + gb + g4 if a.get("type") != "ack"][:3])
t.eq(row_of("200000000003")[0], "0-12000",
     "two connections of one learner: both sets of ranges kept")
t.eq(row_of("200000000004"), ("0-5000", 5000), "the other learner's row is its own")
w3b.close()
w4.close()

# a batch that cannot commit: "busy", never an ack; the resend with the same seq applies
time.sleep(1.05)
lock = sqlite3.connect(os.path.join(data, "tinchi.db"), timeout=10, isolation_level=None)
lock.execute("BEGIN IMMEDIATE")
w3.ws.send_text(P(hb(N + M + 1, 12, 13, 70000)))
w3.ws.send_text(P(hb(N + M + 2, 13, 14, 70001)))
busy = answers(w3, 2)
lock.execute("ROLLBACK")
lock.close()
t.ok([(a.get("type"), a.get("error"), a.get("seq")) for a in busy] ==
     [("error", "busy", N + M + 1), ("error", "busy", N + M + 2)] and
     all("could not be saved" in a.get("detail", "") for a in busy),
     "the database locked past the writer's wait: both answered busy, in order", busy)
t.eq(row_of("200000000003")[0], "0-12000", "nothing of the failed batch was written")
w3.ws.send_text(P(hb(N + M + 1, 12, 13, 70000)))
w3.ws.send_text(P(hb(N + M + 2, 13, 14, 70001)))
again = answers(w3, 2)
t.ok([(a.get("type"), a.get("seq")) for a in again] == [("ack", N + M + 1), ("ack", N + M + 2)],
     "resent with the same seqs: applied and acked", again)
t.eq(row_of("200000000003")[0], "0-14000", "the resent messages are in the row")
w3.close()

# a seq answered busy and resent after a LATER seq was applied: applied, not only acked
time.sleep(1.05)
w4 = Ws(l4.cookie)
lock = sqlite3.connect(os.path.join(data, "tinchi.db"), timeout=10, isolation_level=None)
lock.execute("BEGIN IMMEDIATE")
w4.ws.send_text(P(hb(1, 6, 7, 80000)))
busy = answers(w4, 1)
lock.execute("ROLLBACK")
lock.close()
t.eq([(a.get("type"), a.get("error"), a.get("seq")) for a in busy], [("error", "busy", 1)],
     "seq 1 could not be saved: busy")
a = w4.send(**hb(2, 8, 9, 80001))
t.eq((a.get("type"), a.get("seq")), ("ack", 2), "seq 2 after it: applied and acked")
a = w4.send(**hb(1, 6, 7, 80000))
t.eq((a.get("type"), a.get("seq")), ("ack", 1), "seq 1 resent after seq 2: acked")
t.eq(row_of("200000000004")[0], "0-5000,6000-7000,8000-9000",
     "... and applied: its span is in the row (an ack is never for a lost write)")
a = w4.send(**hb(1, 10, 11, 80002))
t.eq((a.get("type"), a.get("seq")), ("ack", 1), "seq 1 once more: acked again")
a = w4.send(**hb(2, 11, 12, 80003))
t.eq((a.get("type"), a.get("seq")), ("ack", 2), "seq 2 once more: acked again")
t.eq(row_of("200000000004")[0], "0-5000,6000-7000,8000-9000",
     "a resend of an applied seq is not applied twice")
# the same for a seq answered busy by the rate limit (51 and more in a second)
time.sleep(1.05)
for s in range(3, 63):
    w4.ws.send_text(P(hb(s, 0, 1, 80004)))
got = answers(w4, 60)
limited = [a["seq"] for a in got if a.get("error") == "busy"]
t.ok(limited and all(a.get("type") == "ack" for a in got if a["seq"] not in limited),
     "60 messages in a second: the excess answered busy", limited)
time.sleep(1.05)
a = w4.send(**hb(63, 9, 10, 80005))
t.eq((a.get("type"), a.get("seq")), ("ack", 63), "a later seq applied")
a = w4.send(**hb(limited[0] if limited else 62, 13, 14, 80006))
t.eq(a.get("type"), "ack", "the rate-limited seq resent after it: acked")
t.eq(row_of("200000000004")[0], "0-5000,6000-7000,8000-10000,13000-14000",
     "... and applied")
w4.close()

# ---- the pace: watched time grows at most 2.2 times as fast as the server's clock ---------
# a lecture whose media is not probed (an MP4 header, no video): the client's duration counts
st, h, j = lec.call("POST", "/api/v1/courses/%s/materials?kind=video&name=long.mp4" % course,
                    raw=b"\0\0\0\x18ftypisom\0\0\2\0isomiso2" + b"\0" * 2000,
                    ctype="application/octet-stream")
assert st == 201, (st, j)
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course,
                    {"kind": "video", "title": "Hai giờ", "material": j["uid"]})
assert st == 201, (st, j)
LU, HOURS2 = j["uid"], 7200.0
BURST, RATE = 600.0, 2.2


def long_row():
    r = q("SELECT watched, percent FROM progress p JOIN units u ON u.id = p.unit_id"
          " JOIN people e ON e.id = p.person_id WHERE u.uid = ? AND e.national_id = ?",
          LU, "200000000003")
    return sum(y - x for x, y in spans(r)) / 1000.0, r


def spans(r):
    """The watched ranges of long_row's row R, in milliseconds."""
    return [tuple(int(v) for v in x.split("-")) for x in r[0][0].split(",") if x] if r else []


def covered(r, a, b):
    """Seconds of [a, b] that the row's watched ranges cover."""
    return sum(max(0, min(y, b * 1000) - max(x, a * 1000)) for x, y in spans(r)) / 1000.0


def lhb(seq, a, b):
    return dict(seq=seq, unit=LU, event="heartbeat", position=b, to=b, duration=HOURS2,
                at=90000 + seq, **{"from": a})


time.sleep(1.05)
w5 = Ws(l3.cookie)
t0 = time.time()
acks = []
for i in range(60):		# 2 hours claimed in 60 reports of 120 s, in about 2 s
    if i == 40:
        # past the rate's second, counted from when the server took the first
        acks += answers(w5, 40)
        time.sleep(1.05)
    w5.ws.send_text(P(lhb(i + 1, i * 120, (i + 1) * 120)))
acks += answers(w5, 20)
took = time.time() - t0
got, r = long_row()
t.ok(all(a.get("type") == "ack" for a in acks), "2 hours claimed in %.1f s: every report acked"
     % took, [a for a in acks if a.get("type") != "ack"][:2])
t.ok(BURST <= got <= BURST + RATE * took + 5,
     "... but only the burst (600 s) and 2.2 x the time it took are credited", (got, took))
t.ok(acks[-1].get("percent", 100) <= (BURST + RATE * took + 5) * 100 / HOURS2 and
     sum(a.get("clipped", 0) for a in acks) >= HOURS2 - got - 1,
     "the acks' percent is what was credited; \"clipped\" says what was not",
     (acks[-1], sum(a.get("clipped", 0) for a in acks)))
time.sleep(2.2)			# real time: 2.2 s of it allows 4.8 s of media at 2.2 x
# The burst's trickle (2.2 x its own time) may already have credited a sliver
# at 3000 (report 26 began there): only the rest of the 4 s is new.
before = covered(r, 3000, 3004)
a = w5.send(**lhb(61, 3000, 3004))
t.ok(a.get("type") == "ack" and "clipped" not in a, "a report at the real pace: credited in full", a)
got2, r = long_row()
t.ok(abs(covered(r, 3000, 3004) - 4) < 0.001 and abs(got2 - got - (4 - before)) < 0.01,
     "its 4 s are in the row", (got, got2, before))
# 90 s at once: the credit left is what the sleep allowed past the 4 s (0.84
# s) and 2.2 x the time since the burst's last report beyond the 2.2 s (a
# commit, queries: slow on a loaded machine under the sanitizers, and half a
# second more there credits 2 s of 10 claimed)
t62 = time.time()
a62 = w5.send(**lhb(62, 3010, 3100))
t.ok(a62.get("type") == "ack" and a62.get("clipped", 0) >= 80, "90 s more at once: clipped", a62)
got3, r = long_row()
t.ok(got3 - got2 <= 10 and abs(covered(r, 3010, 3100) - (90 - a62.get("clipped", 0))) < 0.01,
     "... and not credited", (got2, got3))
a = w5.send(**lhb(63, 0, 120))
t.ok(a.get("type") == "ack" and "clipped" not in a, "rewatching what was credited costs nothing",
     a)
w5.close()
# the burst's trickle credited a sliver at the start of each report's 120 s
# (4080 is one): clipped is counted on what was not yet watched
pre = covered(r, 4000, 4300)
ev = [{"event": "heartbeat", "position": 4000 + (k + 1) * 30, "from": 4000 + k * 30,
       "to": 4000 + (k + 1) * 30, "duration": HOURS2} for k in range(10)]
st, h, j = l3.call("POST", "/api/v1/units/%s/progress" % LU, {"events": ev})
# report 62 spent the credit: what it has now is 2.2 x the server's time
# since, no more than the time measured here since 62 was sent
room = RATE * (time.time() - t62) + 0.01
got4, r = long_row()
t.ok(st == 200 and j.get("clipped", 0) >= 300 - pre - room and got4 - got3 <= room,
     "the HTTP route and a new connection share the credit: 300 s at once clipped",
     (st, j, got3, got4, pre, room))
t.diag("pace: report 62 clipped %.3f s of 90, the HTTP route %.3f s of 300 (%.3f s watched"
       " before, room %.3f s)" % (a62.get("clipped", 0), j.get("clipped", 0), pre, room))
t.ok(abs(j.get("percent", -1) - r[0][1]) < 0.01, "its percent is what was credited", (j, r))

db.close()
code, log = srv.stop()
t.eq(code, 0, "the server stops cleanly")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
shutil.rmtree(work, ignore_errors=True)
t.done()
