"""reports_test.py - lecturers' progress reports end to end: a real lecture
through the media pipeline, learners reporting different watched spans over
HTTP (one fetching every segment, so completing), then the per-learner
report (JSON pages, learners who never started, who left not shown), its
CSV bytes (formula-safe), the watched-time histogram with exact bucket
counts, median and drop-off, permissions and bad parameters."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, BIN, Server, Tap, sanitizer_clean  # noqa: E402

t = Tap()
FFMPEG = shutil.which("ffmpeg")
if not FFMPEG:
    t.skip_all("ffmpeg is needed to make the lecture")
COST = "12"
work = tempfile.mkdtemp(prefix="tinchi-reports-")
video = os.path.join(work, "lecture.mp4")
subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                "testsrc2=size=320x180:rate=25:duration=14", "-f", "lavfi", "-i",
                "sine=frequency=440:duration=14", "-c:v", "libx264", "-preset", "veryfast",
                "-pix_fmt", "yuv420p", "-g", "50", "-c:a", "aac", "-shortest", video], check=True)

data = os.path.join(work, "data")
for code in ("VNU", "HCM"):
    subprocess.run([BIN, "institution", "add", code, "--name", "Trường " + code, "--kind",
                    "university", "--data", data], check=True, stdout=subprocess.PIPE)
people = [("100000000001", "Giảng Viên", "lecturer", "VNU"),
          ("100000000002", "Giảng Viên Khác", "lecturer", "HCM"),
          ("200000000001", "An, Nguyễn", "learner", "VNU"),
          ("200000000002", "=HYPERLINK(\"http://x\")", "learner", "VNU"),
          ("200000000003", "Cường", "learner", "VNU"),
          ("200000000004", "Dũng", "learner", "VNU"),
          ("200000000005", "Em \"Bé\"", "learner", "VNU"),
          ("200000000006", "Phương", "learner", "VNU"),
          ("200000000007", "Giang", "learner", "VNU")]
for nid, name, role, inst in people:
    subprocess.run([BIN, "person", "add", "--national-id", nid, "--name", name, "--role", role,
                    "--institution", inst, "--password-stdin", "--data", data,
                    "--password-cost", COST], input=b"password-" + nid.encode() + b"\n",
                   check=True, stdout=subprocess.PIPE)

srv = Server("--password-cost", COST, "--media-jobs", "1", data=data)
lec, other_lec, anon = ApiClient(srv, "100000000001"), ApiClient(srv, "100000000002"), ApiClient(srv)
L = [ApiClient(srv, p[0]) for p in people[2:]]   # learners A..G
A, B, C, D, E, F, G = L
names = [p[1] for p in people[2:]]

st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "RP101", "title": "Báo cáo", "language": "vi", "credits": "2"})
assert st == 201, (st, j)
course = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/materials?kind=video&name=l.mp4" % course,
                    raw=open(video, "rb").read(), ctype="application/octet-stream", timeout=120)
assert st == 201, (st, j)
vmat = j["uid"]
units, titles = {}, {"video": "Bài 1, video", "text": "=Đọc thêm", "text2": "Ghi chú"}
for key, body in (("video", {"kind": "video", "material": vmat, "required": True}),
                  ("text", {"kind": "text", "body": "# Đọc", "required": True}),
                  ("text2", {"kind": "text", "body": "tuỳ chọn", "required": False})):
    body["title"] = titles[key]
    st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, body)
    assert st == 201, (st, j)
    units[key] = j["uid"]
VU = units["video"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
assert st == 200, (st, j)
for c in L:
    st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % course)
    assert st in (200, 201), (st, j)

deadline = time.time() + 120
while True:
    st, h, mj = B.call("GET", "/api/v1/materials/%s/media" % vmat)
    if mj.get("state") in ("ready", "failed") or time.time() > deadline:
        break
    time.sleep(0.3)
t.eq(mj.get("state"), "ready", "the lecture is processed")

# B fetches every segment, so B's progress can complete the unit
master_url = mj["stream"]["master"]
st, h, master = srv.request("GET", master_url)
variant = [ln for ln in master.decode().splitlines() if ln and not ln.startswith("#")][0]
vpath = urllib.parse.urljoin(master_url, variant)
st, h, pl = srv.request("GET", vpath)
for ln in pl.decode().splitlines():
    if ln and not ln.startswith("#"):
        st, h, d = srv.request("GET", urllib.parse.urljoin(vpath, ln))
        assert st == 200, st


def watch(client, spans):
    evs = [{"event": "heartbeat", "from": a, "to": b, "position": b, "at": 1000 + i}
           for i, (a, b) in enumerate(spans)]
    st, h, j = client.call("POST", "/api/v1/units/%s/progress" % VU, {"events": evs})
    assert st == 200, (st, j)
    return j


st, h, hist = lec.call("GET", "/api/v1/units/%s/progress/histogram" % VU)
t.ok(st == 200 and hist["started"] == 0 and hist["counts"] == [0] * 60 and
     hist["median_percent"] is None and hist["drop_off_bucket"] is None,
     "before anyone watched: an empty histogram", hist)
dur_s = hist["duration"]
DMS = int(round(dur_s * 1000))
spans = {0: [(0, 5)], 1: [(0, 7), (7, dur_s)], 2: [(0, 2), (8, 10)], 3: [(3, 6)]}
got = {k: watch(L[k], v) for k, v in spans.items()}
t.ok(got[1]["completed"] is True and got[0]["completed"] is False,
     "B (segments fetched) completed, A did not", got)
st, h, j = E.call("POST", "/api/v1/units/%s/read" % units["text"])
assert st == 200, (st, j)
watch(G, [(0, 14 if dur_s >= 14 else dur_s)])
st, h, j = G.call("DELETE", "/api/v1/courses/%s/enrolment" % course)
t.eq(st, 204, "G leaves the course")


def model(nb):
    counts = [0] * nb
    for v in spans.values():
        for b in range(nb):
            lo, hi = DMS * b // nb, DMS * (b + 1) // nb
            if hi > lo and any(int(round(a * 1000)) < hi and min(int(round(c * 1000)), DMS) > lo
                               for a, c in v):
                counts[b] += 1
    return counts


def dropoff(counts):
    for i in range(1, len(counts)):
        if counts[i] * 2 < counts[0]:
            return i
    return None


pcts = sorted(got[k]["percent"] for k in spans)
median = (pcts[1] + pcts[2]) / 2
for nb in (60, 10, 600):
    st, h, hist = lec.call("GET", "/api/v1/units/%s/progress/histogram?buckets=%d" % (VU, nb))
    want = model(nb)
    t.ok(st == 200 and hist["buckets"] == nb and hist["counts"] == want,
         "%d buckets: exact counts of the four learners still enrolled" % nb,
         (want, hist.get("counts")))
    t.ok(hist["started"] == 4 and hist["completed"] == 1 and hist["enrolled"] == 6 and
         abs(hist["median_percent"] - median) < 1e-9 and hist["drop_off_bucket"] == dropoff(want),
         "%d buckets: started, completed, enrolled, median, drop-off" % nb, (hist, median))
t.ok(dropoff(model(10)) is not None, "the spans do make a drop-off")

# ---- the per-learner report ----------------------------------------------------
st, h, rep = lec.call("GET", "/api/v1/courses/%s/progress?limit=500" % course)
t.eq(st, 200, "the lecturer reads the report")
t.eq([u["uid"] for u in rep["units"]], [VU, units["text"], units["text2"]],
     "units once, in course order")
t.eq([x["full_name"] for x in rep["learners"]], names[:6],
     "every enrolled learner by person id, never-started ones too, who left not")
t.ok(all("national_id" not in x for x in rep["learners"]), "no national ID, as the roster")
byn = {x["full_name"]: x for x in rep["learners"]}
b = byn[names[1]]
t.ok(b["units"][0]["started"] and b["units"][0]["percent"] == got[1]["percent"] and
     b["units"][0]["completed_at"] and b["summary"] == {"units_completed": 1,
                                                         "required_completed": 1,
                                                         "required_units": 2},
     "B: the video completed, summary 1 of 2 required", b)
e = byn[names[4]]
t.ok(not e["units"][0]["started"] and e["units"][1]["viewed_at"] and
     e["units"][1]["percent"] == 100 and e["summary"]["units_completed"] == 1,
     "E read the text unit only", e)
f = byn[names[5]]
t.ok(not any(u["started"] for u in f["units"]) and f["summary"]["units_completed"] == 0 and
     f["units"][0]["completed_at"] is None, "F never started: empty progress", f)
t.ok("next_after" not in rep, "one page holds all: no next_after", rep.get("next_after"))

pages, after = [], None
while True:
    st, h, j = lec.call("GET", "/api/v1/courses/%s/progress?limit=4%s" %
                        (course, "&after=%d" % after if after else ""))
    assert st == 200, (st, j)
    pages.append(j["learners"])
    after = j.get("next_after")
    if after is None:
        break
t.ok([len(p) for p in pages] == [4, 2] and sum(pages, []) == rep["learners"],
     "keyset pages of 4 give the same learners", [len(p) for p in pages])

st, h, d = lec.call("GET", "/api/v1/courses/%s/progress?format=csv" % course)


def q(s):
    if s[:1] in ("=", "+", "-", "@", "\t", "\r"):
        s = "'" + s
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\r\n') else s


want = "uid,full_name,student_code,%s,%s,%s,units_completed,required_completed,required_units\r\n" % (
    q(titles["video"]), q(titles["text"]), q(titles["text2"]))
for x in rep["learners"]:
    cells = ["%.1f" % u["percent"] if u["started"] else "" for u in x["units"]]
    s = x["summary"]
    want += ",".join([x["uid"], q(x["full_name"]), ""] + cells +
                     [str(s["units_completed"]), str(s["required_completed"]),
                      str(s["required_units"])]) + "\r\n"
t.ok(st == 200 and h.get("content-type", "").startswith("text/csv") and
     "attachment" in h.get("content-disposition", ""), "CSV answer, as an attachment", h)
t.eq(d.decode(), want, "CSV bytes: titles, percents, formula-safe names and titles")
t.ok("'=HYPERLINK" in d.decode() and "'=Đọc thêm" in d.decode(), "formulas are neutralised")
st, h, d2 = lec.call("GET", "/api/v1/courses/%s/progress?format=csv&limit=2" % course)
st2, h2, j2 = lec.call("GET", "/api/v1/courses/%s/progress?limit=2" % course)
t.ok(st == 200 and d2.decode() == "\r\n".join(want.split("\r\n")[:3]) + "\r\n" and
     h.get("x-next-after") == str(j2["next_after"]),
     "CSV with limit: the first learners and where to go on", (d2, h, j2.get("next_after")))
st, h, d3 = lec.call("GET", "/api/v1/courses/%s/progress?format=csv&after=%d" %
                     (course, j2["next_after"]))
t.ok(st == 200 and d3.decode() == "\r\n".join(want.split("\r\n")[:1] + want.split("\r\n")[3:])
     and "x-next-after" not in h, "CSV after a person id: the rest", d3)

# ---- permissions and bad parameters --------------------------------------------
for who, c, want_st in (("a learner", A, 403), ("another institution's lecturer", other_lec, 403),
                        ("anonymous", anon, 401)):
    st, h, j = c.call("GET", "/api/v1/courses/%s/progress" % course)
    t.eq(st, want_st, "report: %s gets %d" % (who, want_st))
    st, h, j = c.call("GET", "/api/v1/units/%s/progress/histogram" % VU)
    t.eq(st, want_st, "histogram: %s gets %d" % (who, want_st))
    st, h, j = c.call("GET", "/api/v1/courses/%s/progress?format=csv" % course)
    t.eq(st, want_st, "CSV: %s gets %d" % (who, want_st))
for qs in ("limit=0", "limit=501", "format=xml", "after=-1", "after=x", "format=csv&limit=100001"):
    st, h, j = lec.call("GET", "/api/v1/courses/%s/progress?%s" % (course, qs))
    t.ok(st == 400 and j.get("detail"), "report ?%s: 400 with a reason" % qs, (st, j))
for qs in ("buckets=9", "buckets=601", "buckets=abc", "buckets="):
    st, h, j = lec.call("GET", "/api/v1/units/%s/progress/histogram?%s" % (VU, qs))
    t.ok(st == 400 and j.get("detail"), "histogram ?%s: 400 with a reason" % qs, (st, j))
st, h, j = lec.call("GET", "/api/v1/units/%s/progress/histogram" % units["text"])
t.ok(st == 400 and "video" in j.get("detail", ""), "histogram of a text unit: 400", (st, j))
st, h, j = lec.call("GET", "/api/v1/units/00000000-0000-4000-8000-000000000000/progress/histogram")
t.eq(st, 404, "histogram of no unit: 404")
st, h, j = lec.call("GET", "/api/v1/courses/00000000-0000-4000-8000-000000000000/progress")
t.eq(st, 404, "report of no course: 404")
st, h, j = lec.call("POST", "/api/v1/courses/%s/progress" % course, {})
t.eq(st, 405, "POST to the report: 405")

code, log = srv.stop()
t.eq(code, 0, "the server stops cleanly")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
shutil.rmtree(work, ignore_errors=True)
t.done()
