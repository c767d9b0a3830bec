"""courses_test.py - courses, the catalog and enrolment over real HTTP:
lecturers create and publish courses, the catalog finds them with or without
Vietnamese diacritics, learners enrol, lecturers see the roster; bad input
gets clear errors and changes nothing."""
import json
import os
import urllib.parse
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, Server, Tap, sanitizer_clean  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-co-"), "data")


cli = DataCli(data, COST)


person = cli.person


for code, name in (("VNU", "Đại học Quốc gia Hà Nội"), ("HUST", "Đại học Bách khoa Hà Nội")):
    rc, out, err = cli("institution", "add", code, "--name", name, "--kind", "university")
    assert rc == 0, err
person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
person("100000000002", "Trần Thị Dạy", "lecturer", "VNU")
person("100000000003", "Phạm Khác", "lecturer", "HUST")
person("100000000009", "Nguyễn Thị Ánh", "admin", "VNU")
for i in range(4):
    person("20000000000%d" % i, "Học Viên %d" % i, "learner", "VNU")

srv = Server("--password-cost", COST, data=data)


def Client(nid=None):
    return ApiClient(lambda: srv, nid)


anon = Client()
lec, lec2, other, admin = Client("100000000001"), Client("100000000002"), Client("100000000003"), Client("100000000009")
learners = [Client("20000000000%d" % i) for i in range(4)]

# ---- creating and editing ----------------------------------------------------------
course = {"code": "IT101", "title": "Lập trình C", "language": "vi", "credits": "3",
          "level": "undergraduate-1", "tags": ["lập trình", "C"],
          "description": "Con trỏ, **bộ nhớ** và cấu trúc dữ liệu."}
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses", course)
t.ok(st == 201 and j["status"] == "draft" and j["credits"] == "3" and j["tags"] == ["lập trình", "C"],
     "a lecturer creates a draft course", j)
uid = j["uid"]
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses", course)
t.eq(st, 409, "a duplicate course code at the institution is 409")
for field, value, why in (("credits", "3.25", "two decimals"), ("credits", "-1", "negative credits"),
                          ("credits", "0", "zero credits"), ("language", "vietnamese", "a bad language"),
                          ("code", "IT 101", "a code with a space"), ("title", "", "an empty title"),
                          ("title", "x" * 201, "a 201-byte title"), ("tags", ["a,b"], "a tag with a comma")):
    bad = dict(course, code="BAD1")
    bad[field] = value
    st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses", bad)
    t.ok(st == 400 and j.get("detail"), "%s is refused with a reason" % why, j)
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    raw=b'{"code":"BAD2","title":"\xff\xfe","language":"vi","credits":"3"}')
t.eq(st, 400, "a title that is not UTF-8 is refused")
import socket  # noqa: E402
big = json.dumps(dict(course, code="BIG", title="x" * (10 << 20))).encode()
s_ = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
s_.sendall(("POST /api/v1/institutions/VNU/courses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Length: %d\r\n\r\n" % (lec.cookie, lec.csrf, len(big))).encode())
answer = s_.recv(4096)
s_.close()
t.ok(answer.startswith(b"HTTP/1.1 413"), "a 10 MB title is refused with 413 before it is read", answer[:100])
st, h, j = other.call("POST", "/api/v1/institutions/VNU/courses", dict(course, code="X1"))
t.eq(st, 403, "a lecturer of another institution cannot create courses here")
st, h, j = learners[0].call("POST", "/api/v1/institutions/VNU/courses", dict(course, code="X2"))
t.eq(st, 403, "a learner cannot create courses")
st, h, j = anon.call("GET", "/api/v1/courses/" + uid)
t.eq(st, 404, "a draft is invisible to the public")
st, h, j = anon.call("GET", "/api/v1/courses?q=lap+trinh")
t.eq(j["courses"], [], "a draft is not in the catalog")
st, h, j = other.call("PATCH", "/api/v1/courses/" + uid, {"title": "Hijacked"})
t.ok(st in (403, 404), "a lecturer of another institution cannot edit the course (%d)" % st)
st, h, j = lec2.call("PATCH", "/api/v1/courses/" + uid, {"title": "Hijacked"})
t.eq(st, 404, "a lecturer of the same institution who does not teach the draft does not even see it")
st, h, j = lec.call("POST", "/api/v1/courses/%s/lecturers" % uid, {"national_id": "200000000000"})
t.eq(st, 422, "a learner cannot be made a co-lecturer")
st, h, j = lec.call("POST", "/api/v1/courses/%s/lecturers" % uid, {"national_id": "100000000002"})
t.eq(st, 200, "the owner adds a co-lecturer of the institution")
st, h, j = lec2.call("PATCH", "/api/v1/courses/" + uid, {"description": "Con trỏ và **bộ nhớ**."})
t.ok(st == 200 and j["description"] == "Con trỏ và **bộ nhớ**.", "the co-lecturer edits it", j)
t.eq(j.get("description_html"), "<p>Con trỏ và <strong>bộ nhớ</strong>.</p>\n",
     "the description comes rendered as safe HTML too")
st, h, j = lec2.call("PATCH", "/api/v1/courses/" + uid, {"description": "<script>alert(1)</script> [x](javascript:alert(1))"})
t.ok(st == 200 and "<script" not in j["description_html"] and "href" not in j["description_html"],
     "script and javascript: links in a description never reach the HTML", j.get("description_html"))
lec2.call("PATCH", "/api/v1/courses/" + uid, {"description": "Con trỏ và **bộ nhớ**."})
st, h, j = admin.call("PATCH", "/api/v1/courses/" + uid, {"capacity": 3})
t.ok(st == 200 and j["capacity"] == 3, "the institution's admin edits it", j)

# ---- publishing and the catalog ------------------------------------------------------
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % uid, {"status": "published"})
t.ok(st == 200 and j["status"] == "published", "the lecturer publishes the course", j)
for q in ("lap trinh", "lập trình", "LẬP TRÌNH", "lap", "Lập trình C", "it101", "lập"):
    st, h, j = anon.call("GET", "/api/v1/courses?q=" + urllib.parse.quote_plus(q))
    t.ok(st == 200 and [c["uid"] for c in j["courses"]] == [uid], "the catalog finds it with q=%r" % q, j)
st, h, j = anon.call("GET", "/api/v1/courses?q=lap+trinh")
t.eq(j["courses"][0].get("highlight", {}).get("title"), "<mark>Lập</mark> <mark>trình</mark> C",
     "results carry the title with the matches marked")
for q in ("python", "lap trinh java"):
    st, h, j = anon.call("GET", "/api/v1/courses?q=" + urllib.parse.quote_plus(q))
    t.ok(st == 200 and j["courses"] == [], "q=%r finds nothing" % q, j)
st, h, j = anon.call("GET", '/api/v1/courses?q=%22%29+OR+*')
t.ok(st in (200, 400), "FTS syntax in q cannot break the query (%d)" % st)
for filt, found in (("language=vi", True), ("language=en", False), ("credits=3", True), ("credits=1.5", False),
                    ("institution=VNU", True), ("institution=HUST", False), ("level=undergraduate-1", True)):
    st, h, j = anon.call("GET", "/api/v1/courses?" + filt)
    t.ok(st == 200 and (uid in [c["uid"] for c in j["courses"]]) == found, "filter %s" % filt, j)
st, h, j = anon.call("GET", "/api/v1/courses?institution=NOPE")
t.eq(st, 400, "an unknown institution filter is 400")

# keyset pagination over 25 more published courses
for i in range(25):
    st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                        dict(course, code="P%02d" % i, title="Khoá học số %d về lập trình" % i, tags=[]))
    lec.call("POST", "/api/v1/courses/%s/status" % j["uid"], {"status": "published"})
for q in ("", "&q=lap+trinh"):
    seen, cursor, pages = [], None, 0
    while pages < 10:
        st, h, j = anon.call("GET", "/api/v1/courses?limit=10" + q + ("&after=" + cursor if cursor else ""))
        seen += [c["uid"] for c in j["courses"]]
        pages += 1
        cursor = j.get("next")
        if not cursor:
            break
    t.ok(len(seen) == 26 and len(set(seen)) == 26 and pages == 3,
         "keyset pagination%s walks 26 courses in 3 pages without repeats" % (" of a search" if q else ""),
         (len(seen), len(set(seen)), pages))

# ---- enrolment -------------------------------------------------------------------------
st, h, j = learners[0].call("POST", "/api/v1/courses/%s/enrolment" % uid)
t.eq(st, 201, "a learner enrols")
st, h, j = learners[0].call("POST", "/api/v1/courses/%s/enrolment" % uid)
t.eq(st, 200, "enrolling twice is idempotent")
st, h, j = anon.call("POST", "/api/v1/courses/%s/enrolment" % uid)
t.eq(st, 401, "enrolling needs a sign-in")
for c in learners[1:3]:
    c.call("POST", "/api/v1/courses/%s/enrolment" % uid)
st, h, j = learners[3].call("POST", "/api/v1/courses/%s/enrolment" % uid)
t.ok(st == 409 and "full" in j["detail"], "the fourth learner finds the course (capacity 3) full", j)
st, h, j = learners[0].call("GET", "/api/v1/courses/" + uid)
t.ok(j["enrolled"] == 3 and j["you_are_enrolled"] is True, "the course page counts enrolments", j)
st, h, j = lec.call("GET", "/api/v1/courses/%s/roster" % uid)
t.ok(st == 200 and sorted(x["full_name"] for x in j["learners"]) == ["Học Viên 0", "Học Viên 1", "Học Viên 2"],
     "the lecturer sees the roster", j)
st, h, d = lec.call("GET", "/api/v1/courses/%s/roster?format=csv" % uid)
lines = d.decode().strip().split("\r\n") if isinstance(d, bytes) else []
t.ok(st == 200 and h["content-type"].startswith("text/csv") and lines[0].startswith("uid,full_name") and len(lines) == 4,
     "the roster exports as CSV", lines)
st, h, j = lec.call("GET", "/api/v1/courses/%s/roster?limit=2" % uid)
st2, h2, j2 = lec.call("GET", "/api/v1/courses/%s/roster?limit=2&after=%d" % (uid, j["next_after"]))
t.ok(len(j["learners"]) == 2 and len(j2["learners"]) == 1, "the roster is paginated", (j, j2))
st, h, j = learners[0].call("GET", "/api/v1/courses/%s/roster" % uid)
t.eq(st, 403, "a learner cannot read the roster")
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % uid, {"status": "draft"})
t.eq(st, 409, "a course with learners cannot go back to draft")
st, h, j = learners[0].call("DELETE", "/api/v1/courses/%s/enrolment" % uid)
t.eq(st, 204, "a learner leaves the course")
st, h, j = learners[3].call("POST", "/api/v1/courses/%s/enrolment" % uid)
t.eq(st, 201, "the place that was freed can be taken")
st, h, j = learners[0].call("DELETE", "/api/v1/courses/%s/enrolment" % uid)
t.eq(st, 404, "leaving twice is 404")
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % uid, {"status": "archived"})
t.eq(st, 200, "the lecturer archives the course")
st, h, j = learners[0].call("POST", "/api/v1/courses/%s/enrolment" % uid)
t.ok(st in (404, 409), "an archived course takes no learners (%d)" % st)
st, h, j = anon.call("GET", "/api/v1/courses?q=lap+trinh+c&limit=100")
t.ok(uid not in [c["uid"] for c in j["courses"]], "an archived course leaves the catalog", j)
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % uid, {"status": "published"})
t.eq(st, 409, "an archived course is not published again")

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
