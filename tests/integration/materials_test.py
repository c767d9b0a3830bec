"""materials_test.py - units and materials over real HTTP: uploads whose type
is decided from the bytes (a PDF renamed .mp4, HTML renamed .pdf), size limits
and quotas, the content store's de-duplication, units in order, and
downloads with validators and byte ranges for the people allowed to see
them."""
import concurrent.futures
import hashlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, BIN, Server, Tap, raw_exchange, sanitizer_clean  # noqa: E402

t = Tap()
COST = "12"
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-ma-"), "data")


def cli(*args, stdin=None):
    p = subprocess.run([BIN] + list(args) + ["--data", data, "--password-cost", COST], input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode()


cli("institution", "add", "VNU", "--name", "Đại học Quốc gia", "--kind", "university")
for nid, name, role in (("100000000001", "Lê Văn Giảng", "lecturer"), ("200000000001", "Học Viên", "learner"),
                        ("200000000002", "Người Ngoài", "learner")):
    cli("person", "add", "--national-id", nid, "--name", name, "--role", role, "--institution", "VNU",
        "--password-stdin", stdin=b"password-" + nid.encode() + b"\n")

srv = Server("--password-cost", COST, "--institution-quota", "300K", data=data)


def Client(nid=None):
    return ApiClient(lambda: srv, nid)


lec, learner, outsider, anon = Client("100000000001"), Client("200000000001"), Client("200000000002"), Client()
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "IT101", "title": "Lập trình C", "language": "vi", "credits": "3"})
course = j["uid"]

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n") + b"%" * 4000
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
HTML = b"<!DOCTYPE html><html><head><script>alert(1)</script></head><body>x</body></html>\n"


def upload(kind, body, name="f.bin", client=lec, course_uid=None):
    return client.call("POST", "/api/v1/courses/%s/materials?kind=%s&name=%s" % (course_uid or course, kind, name),
                       raw=body, ctype="application/octet-stream")


st, h, j = upload("document", PDF, "bai-giang.pdf")
t.ok(st == 201 and j["type"] == "application/pdf" and j["sha256"] == hashlib.sha256(PDF).hexdigest(),
     "a PDF is stored under its SHA-256", j)
pdf = j["uid"]
st, h, j2 = upload("document", PDF, "copy.pdf")
t.ok(st == 201 and j2["sha256"] == j["sha256"], "the same bytes again make a second material", j2)
copy_uid = j2["uid"]
stored = [f for d, _, fs in os.walk(os.path.join(data, "content")) for f in fs if f == j["sha256"][2:]]
t.eq(len(stored), 1, "identical uploads are stored once on disk")
st, h, j = upload("video", PDF, "lecture.mp4")
t.ok(st == 415 and "application/pdf" in j["detail"], "a PDF renamed .mp4 is refused as a video, naming its type", j)
st, h, j = upload("document", HTML, "notes.pdf")
t.ok(st == 415 and "text/html" in j["detail"], "an HTML file renamed .pdf is refused", j)
st, h, j = upload("document", b"", "empty.pdf")
t.eq(st, 400, "a zero-byte file is refused")
st, h, j = upload("image", PNG)
t.eq(st, 400, "an unknown kind is refused")
st, h, j = upload("document", PNG, "anh.png")
t.ok(st == 201 and j["type"] == "image/png", "a PNG is a document", j)
png = j["uid"]
s_ = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
s_.sendall(("POST /api/v1/courses/%s/materials?kind=captions HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n"
            "X-CSRF-Token: %s\r\nContent-Type: text/vtt\r\nContent-Length: %d\r\n\r\n"
            % (course, lec.cookie, lec.csrf, 2 * 1024 * 1024 + 1)).encode())
answer = s_.recv(4096)
s_.close()
t.ok(answer.startswith(b"HTTP/1.1 413"), "captions one byte over 2 MiB are refused before the body", answer[:80])
st, h, j = upload("document", PDF + b"x" * (300 * 1024))
t.eq(st, 507, "an upload past the institution's quota is 507")
st, h, j = upload("document", PDF, client=learner)
t.ok(st in (403, 404), "a learner cannot upload (%d)" % st)
st, h, j = upload("document", PDF, client=anon)
t.eq(st, 401, "an anonymous upload is 401")
# a client gone before the answer: no material was made for it, so no file
# may stay behind in the content store (nothing would ever remove it)
gone = PDF + os.urandom(60000)
gsha = hashlib.sha256(gone).hexdigest()
s_ = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
s_.sendall(("POST /api/v1/courses/%s/materials?kind=document&name=gone.pdf HTTP/1.1\r\nHost: x\r\n"
            "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: application/pdf\r\nContent-Length: %d\r\n\r\n"
            % (course, lec.cookie, lec.csrf, len(gone))).encode() + gone)
s_.close()
time.sleep(1.5)
db = sqlite3.connect(os.path.join(data, "tinchi.db"))
made = db.execute("SELECT count(*) FROM materials WHERE sha256 = ?", (gsha,)).fetchone()[0]
db.close()
on_disk = os.path.exists(os.path.join(data, "content", gsha[:2], gsha[2:]))
t.ok(on_disk == bool(made), "an upload whose client left: its file is on disk only with its material "
     "(on disk %s, materials %d)" % (on_disk, made))

# ---- units ---------------------------------------------------------------------------
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "document", "title": "Bài giảng 1", "material": pdf})
t.ok(st == 201 and j["position"] == 1 and j["material"] == pdf, "a document unit holds the PDF", j)
u1 = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "text", "title": "Giới thiệu",
                                                                   "body": "# Chào mừng", "required": False})
u2 = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "video", "title": "x", "material": pdf})
t.eq(st, 422, "a video unit cannot hold a document")
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "podcast", "title": "x"})
t.eq(st, 400, "an unknown unit kind is refused")
st, h, j = lec.call("PUT", "/api/v1/courses/%s/units:order" % course, {"units": [u2, u1]})
t.ok(st == 200 and [u["uid"] for u in j["units"]] == [u2, u1], "the lecturer reorders the units", j)
st, h, j = lec.call("PUT", "/api/v1/courses/%s/units:order" % course, {"units": [u2]})
t.eq(st, 422, "a reorder must name every unit")
st, h, j = lec.call("PATCH", "/api/v1/units/" + u2, {"title": "Giới thiệu khoá học"})
t.ok(st == 200 and j["title"] == "Giới thiệu khoá học" and j["body"] == "# Chào mừng", "a unit is edited", j)
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "quiz", "title": "Tạm"})
st, h, j2 = lec.call("DELETE", "/api/v1/units/" + j["uid"])
t.eq(st and j2 in (b"", None) and 204, 204, "a unit of a draft course is deleted")

# ---- downloads ---------------------------------------------------------------------------
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf)
t.eq(st, 404, "a learner who is not enrolled cannot download")
st, h, d = anon.call("GET", "/api/v1/materials/" + pdf)
t.eq(st, 401, "an anonymous download is 401")
lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
learner.call("POST", "/api/v1/courses/%s/enrolment" % course)
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf)
t.ok(st == 200 and d == PDF and h["content-type"] == "application/pdf", "an enrolled learner downloads the PDF")
t.ok(h.get("etag") == '"%s"' % hashlib.sha256(PDF).hexdigest() and h.get("accept-ranges") == "bytes"
     and h.get("x-content-type-options") == "nosniff" and "filename=\"bai-giang.pdf\"" in h.get("content-disposition", ""),
     "strong ETag (the hash), nosniff, a file name", h)
etag = h["etag"]
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf, headers={"If-None-Match": etag})
t.eq(st, 304, "If-None-Match with the ETag is 304")
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf, headers={"Range": "bytes=0-3"})
t.ok(st == 206 and d == PDF[:4] and h.get("content-range") == "bytes 0-3/%d" % len(PDF), "a byte range is 206", h)
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf, headers={"Range": "bytes=-10"})
t.ok(st == 206 and d == PDF[-10:], "a suffix range is the last bytes")
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf, headers={"Range": "bytes=%d-" % (len(PDF) + 5)})
t.ok(st == 416 and h.get("content-range") == "bytes */%d" % len(PDF), "a range past the end is 416", h)
many = "bytes=" + ",".join("%d-%d" % (i * 2, i * 2) for i in range(1000))
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf, headers={"Range": many})
t.ok((st == 200 and d == PDF) or st == 431,
     "1,000 ranges in one header (%d bytes) get the whole file or 431, never a multipart answer (%d)"
     % (len(many), st))
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf, headers={"Range": "bytes=0-1,4-5,9-10"})
t.ok(st == 200 and d == PDF, "ranges that do not join get the whole file with 200")
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf, headers={"Range": "bytes=0-3", "If-Range": '"stale"'})
t.ok(st == 200 and d == PDF, "a Range with a stale If-Range gets the whole file")
st, h, d = learner.call("GET", "/api/v1/materials/" + pdf, headers={"Range": "bytes=0-3", "If-Range": etag})
t.eq(st, 206, "a Range with a matching If-Range is honoured")
st, h, d = outsider.call("GET", "/api/v1/materials/" + png)
t.eq(st, 404, "another learner who is not enrolled cannot download")
st, h, j = learner.call("GET", "/api/v1/courses/" + course)
t.ok([u["uid"] for u in j["units"]] == [u2, u1] and j["units"][1]["material"] == pdf,
     "the course page lists its units in order", j)
st, h, j = lec.call("DELETE", "/api/v1/units/" + u1)
t.eq(st, 409, "units of a published course are kept")

# ---- deleting files -------------------------------------------------------------------
sha_pdf = hashlib.sha256(PDF).hexdigest()
def on_disk(sha):
    return os.path.exists(os.path.join(data, "content", sha[:2], sha[2:]))
st, h, d = lec.call("DELETE", "/api/v1/materials/" + pdf)
t.ok(st == 409 and on_disk(sha_pdf), "a file a unit uses cannot be deleted", d)
st, h, d = lec.call("DELETE", "/api/v1/materials/" + copy_uid)
t.ok(st == 204 and on_disk(sha_pdf), "deleting the copy keeps the bytes another material still uses")
st, h, d = learner.call("DELETE", "/api/v1/materials/" + png)
t.ok(st in (403, 404), "a learner cannot delete files (%d)" % st)
sha_png = hashlib.sha256(PNG).hexdigest()
st, h, d = lec.call("DELETE", "/api/v1/materials/" + png)
t.ok(st == 204 and not on_disk(sha_png), "the last material with some bytes takes them off the disk")
st, h, d = lec.call("DELETE", "/api/v1/materials/" + png)
t.eq(st, 404, "deleting twice is 404")

# ---- resumable uploads ----------------------------------------------------------------
body = PDF + b"%" * 1000
def put_chunk(uid, first, chunk, total=None, client=lec):
    return client.call("PUT", "/api/v1/uploads/" + uid, raw=chunk, ctype="application/octet-stream",
                       headers={"Content-Range": "bytes %d-%d/%d" % (first, first + len(chunk) - 1,
                                                                     total or len(body))})
st, h, j = lec.call("POST", "/api/v1/courses/%s/uploads" % course, {"kind": "document", "name": "dai.pdf",
                                                                     "size": len(body)})
t.ok(st == 201 and j["received"] == 0 and h.get("location") == "/api/v1/uploads/" + j["uid"],
     "a resumable upload is created", (j, h.get("location")))
up = j["uid"]
st, h, j = put_chunk(up, 0, body[:1000])
t.ok(st == 200 and j["received"] == 1000 and h.get("upload-offset") == "1000", "the first chunk arrives", j)
st, h, j = put_chunk(up, 2000, body[2000:3000])
t.ok(st == 409 and h.get("upload-offset") == "1000", "a chunk past the end of what arrived is 409 with the offset", h)
st, h, j = put_chunk(up, 500, body[500:1500])
t.ok(st == 200 and j["received"] == 1500, "an overlapping chunk with the same bytes is accepted", j)
st, h, j = put_chunk(up, 1000, b"X" * 500 + body[1500:2000])
t.ok(st == 409 and "different bytes" in j["detail"], "an overlapping chunk with different bytes is refused", j)
st, h, j = put_chunk(up, 1500, body[1500:2500], total=len(body) + 1)
t.eq(st, 400, "a Content-Range with the wrong total is refused")
st, h, j = put_chunk(up, 1500, body[1500:2500], client=learner)
t.eq(st, 404, "someone else cannot add to the upload")
s_ = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
s_.sendall(("PUT /api/v1/uploads/%s HTTP/1.1\r\nHost: x\r\nCookie: %s\r\nX-CSRF-Token: %s\r\n"
            "Content-Type: application/octet-stream\r\nContent-Range: bytes 1500-2499/%d\r\n"
            "Content-Length: 1000\r\n\r\n" % (up, lec.cookie, lec.csrf, len(body))).encode() + body[1500:1800])
s_.close()
st, h, j = lec.call("GET", "/api/v1/uploads/" + up)
t.ok(st == 200 and j["received"] == 1500, "a client that disconnects mid-chunk leaves the upload as it was", j)
st, h, j = lec.call("POST", "/api/v1/uploads/%s/finish" % up)
t.ok(st == 409 and h.get("upload-offset") == "1500", "finishing an incomplete upload is 409", j)
pos = 1500
while pos < len(body):
    st, h, j = put_chunk(up, pos, body[pos:pos + 1000])
    pos = j["received"]
st, h, j = lec.call("POST", "/api/v1/uploads/%s/finish" % up)
t.ok(st == 201 and j["sha256"] == hashlib.sha256(body).hexdigest() and j["type"] == "application/pdf"
     and j["name"] == "dai.pdf", "the finished upload becomes a material with the right hash", j)
made = j
st, h, j = lec.call("GET", "/api/v1/uploads/" + up)
t.ok(st == 200 and j.get("material") == made["uid"] and j["received"] == len(body),
     "a finished upload names the material it made", j)
t.eq(os.listdir(os.path.join(data, "uploads")), [], "no partial file is left behind")
st, h, j = lec.call("POST", "/api/v1/uploads/%s/finish" % up)
t.ok(st == 200 and j.get("uid") == made["uid"] and j["sha256"] == made["sha256"],
     "a finish retried (its answer lost) gets the same material, none made twice", j)
st, h, j = put_chunk(up, 0, body[:1000])
t.eq(st, 409, "a chunk to a finished upload is refused")
# two finishes at once (a client retrying while the first still hashes):
# one material, never two
body2 = PDF + os.urandom(2000)
st, h, j = lec.call("POST", "/api/v1/courses/%s/uploads" % course, {"kind": "document", "name": "twice.pdf",
                                                                     "size": len(body2)})
up2 = j["uid"]
st, h, j = put_chunk(up2, 0, body2, total=len(body2))
fin = ("POST /api/v1/uploads/%s/finish HTTP/1.1\r\nHost: x\r\nCookie: %s\r\nX-CSRF-Token: %s\r\n"
       "Content-Length: 0\r\nConnection: close\r\n\r\n" % (up2, lec.cookie, lec.csrf)).encode()
with concurrent.futures.ThreadPoolExecutor(3) as pool:
    answers = list(pool.map(lambda _: raw_exchange(srv.port, fin, timeout=20), range(3)))
uids = set(re.findall(rb'"uid":"([0-9a-f-]{36})"', b"".join(answers)))
db = sqlite3.connect(os.path.join(data, "tinchi.db"))
rows = db.execute("SELECT count(*) FROM materials WHERE sha256 = ?", (hashlib.sha256(body2).hexdigest(),)).fetchone()[0]
db.close()
t.ok(len(uids) == 1 and rows == 1 and all(a.split(b" ", 2)[1] in (b"200", b"201", b"409") for a in answers),
     "three finishes at once make one material (uids %d, rows %d: %s)"
     % (len(uids), rows, [a.split(b"\r\n", 1)[0].decode() for a in answers]))
st, h, j = lec.call("POST", "/api/v1/courses/%s/uploads" % course, {"kind": "video", "name": "x.mp4", "size": 10})
put_chunk(j["uid"], 0, b"12345", total=10)
st, h, d = lec.call("DELETE", "/api/v1/uploads/" + j["uid"])
t.ok(st == 204 and os.listdir(os.path.join(data, "uploads")) == [], "a cancelled upload leaves nothing")
st, h, j = lec.call("POST", "/api/v1/courses/%s/uploads" % course, {"kind": "captions", "size": 3 << 20})
t.eq(st, 413, "a resumable upload larger than the kind allows is refused at creation")
st, h, j = lec.call("POST", "/api/v1/courses/%s/uploads" % course, {"kind": "document", "name": "old.pdf", "size": 100})
stale = j["uid"]

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
import sqlite3  # noqa: E402
db = sqlite3.connect(os.path.join(data, "tinchi.db"))
db.execute("UPDATE uploads SET updated_at = updated_at - 3 * 86400 WHERE uid = ?", (stale,))
db.commit()
db.close()
srv = Server("--password-cost", COST, data=data)
import time  # noqa: E402
deadline = time.time() + 10
while time.time() < deadline and os.listdir(os.path.join(data, "uploads")):
    time.sleep(0.2)
t.ok(os.listdir(os.path.join(data, "uploads")) == [] and "abandoned upload" in srv.read_log(),
     "an abandoned upload is removed by housekeeping", srv.read_log()[-500:])

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
