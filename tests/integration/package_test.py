"""package_test.py - courses moved as packages (zip + manifest.json): export
over HTTP and the command line, import into another institution with the
units and files intact, and unsafe or lying packages refused whole."""
import hashlib
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, BIN, Server, Tap, sanitizer_clean  # noqa: E402

t = Tap()
COST = "12"
tmp = tempfile.mkdtemp(prefix="tinchi-pk-")
data = os.path.join(tmp, "data")


def cli(*args, stdin=None, check=True):
    p = subprocess.run([BIN] + list(args) + ["--data", data, "--password-cost", COST], input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if check:
        assert p.returncode == 0, p.stderr
    return p.returncode, p.stdout.decode(), p.stderr.decode()


for code in ("VNU", "HUST"):
    cli("institution", "add", code, "--name", "Trường " + code, "--kind", "university")
for nid, inst in (("100000000001", "VNU"), ("100000000002", "HUST")):
    cli("person", "add", "--national-id", nid, "--name", "Giảng Viên " + inst, "--role", "lecturer",
        "--institution", inst, "--password-stdin", stdin=b"password-" + nid.encode() + b"\n")

srv = Server("--password-cost", COST, data=data)


def Client(nid=None):
    return ApiClient(lambda: srv, nid)


vnu, hust, anon = Client("100000000001"), Client("100000000002"), Client()
st, h, j = vnu.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "IT101", "title": "Lập trình C", "language": "vi", "credits": "1.5",
                     "tags": ["lập trình"], "description": "Con **trỏ**"})
course = j["uid"]
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
st, h, m = vnu.call("POST", "/api/v1/courses/%s/materials?kind=document&name=slides.pdf" % course, raw=PDF,
                    ctype="application/pdf")
vnu.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "text", "title": "Giới thiệu", "body": "# Xin chào"})
vnu.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "document", "title": "Bài giảng", "material": m["uid"],
                                                        "required": False})

st, h, pkg = vnu.call("GET", "/api/v1/courses/%s/package" % course)
t.ok(st == 200 and h["content-type"] == "application/zip" and 'filename="IT101.zip"' in h.get("content-disposition", ""),
     "a lecturer exports the course as a zip", h)
z = zipfile.ZipFile(io.BytesIO(pkg))
names = sorted(z.namelist())
man = json.loads(z.read("manifest.json"))
t.ok(names == ["manifest.json", "materials/" + hashlib.sha256(PDF).hexdigest()] and z.testzip() is None,
     "the package holds the manifest and the file, named by its hash", names)
t.ok(man["format"] == "tinchi-course" and man["course"]["credits"] == "1.5" and
     [u["title"] for u in man["units"]] == ["Giới thiệu", "Bài giảng"] and man["units"][1]["required"] is False,
     "the manifest describes the course and its units in order", man)
st, h, d = hust.call("GET", "/api/v1/courses/%s/package" % course)
t.ok(st in (403, 404), "another institution's lecturer cannot export it (%d)" % st)

st, h, j = hust.call("POST", "/api/v1/institutions/HUST/courses:import", raw=pkg, ctype="application/zip")
t.ok(st == 201 and j["status"] == "draft" and j["title"] == "Lập trình C" and j["credits"] == "1.5",
     "the package imports into another institution as a draft", j)
new = j["uid"]
st, h, j = hust.call("GET", "/api/v1/courses/" + new)
t.ok([u["title"] for u in j["units"]] == ["Giới thiệu", "Bài giảng"] and j["units"][0]["body_html"].startswith("<h2>"),
     "its units come across in order, text rendered", j["units"])
st, h, d = hust.call("GET", "/api/v1/materials/" + j["units"][1]["material"])
t.ok(st == 200 and d == PDF, "and its file downloads byte for byte")
st, h, j = hust.call("POST", "/api/v1/institutions/HUST/courses:import", raw=pkg, ctype="application/zip")
t.eq(st, 409, "importing the same course code again is 409")
st, h, j = hust.call("POST", "/api/v1/institutions/HUST/courses:import?code=IT101B", raw=pkg, ctype="application/zip")
t.ok(st == 201 and j["code"] == "IT101B", "with ?code= it imports under a new code", j)
st, h, j = hust.call("POST", "/api/v1/institutions/VNU/courses:import", raw=pkg, ctype="application/zip")
t.eq(st, 403, "a lecturer cannot import into another institution")
# both are audited (on the service thread, after the worker: by whom and from where)
db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "tinchi.db"), uri=True)
rows = db.execute("SELECT a.event, a.subject, a.source, i.code, p.full_name FROM audit_events a"
                  " JOIN institutions i ON i.id = a.institution_id"
                  " JOIN people p ON p.id = a.actor_person_id"
                  " WHERE a.event IN ('course.exported', 'course.imported') ORDER BY a.id").fetchall()
db.close()
t.ok([r[0] for r in rows] == ["course.exported", "course.imported", "course.imported"] and
     rows[0][1] == course and rows[0][3:] == ("VNU", "Giảng Viên VNU") and
     all(r[3:] == ("HUST", "Giảng Viên HUST") for r in rows[1:]) and
     all(r[2] == "127.0.0.1" for r in rows),
     "the export and each import are audited with the lecturer, the institution and the source", rows)

s_ = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
s_.sendall(b"POST /api/v1/institutions/HUST/courses:import HTTP/1.1\r\nHost: x\r\n"
           b"Content-Type: application/zip\r\nContent-Length: 1000000000\r\n\r\nPK")
answer = s_.recv(4096)
s_.close()
t.ok(answer.startswith(b"HTTP/1.1 401"), "an anonymous 1 GB import is refused before its body", answer[:60])


def make_zip(entries, manifest=None, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as zz:
        if manifest is not None:
            zz.writestr("manifest.json", json.dumps(manifest))
        for name, content in entries:
            zz.writestr(name, content)
    return b.getvalue()


def refused(body, want, why):
    st, h, j = hust.call("POST", "/api/v1/institutions/HUST/courses:import?code=BAD", raw=body, ctype="application/zip")
    t.ok(st == want and isinstance(j, dict) and j.get("detail"), "%s is refused (%d): %s" % (why, st, j.get("detail") if isinstance(j, dict) else j))


sha = hashlib.sha256(PDF).hexdigest()
refused(make_zip([("../evil.txt", b"x"), ("materials/" + sha, PDF)], man), 422, "a zip with ../ (zip slip)")
refused(make_zip([("/etc/passwd", b"x")], man), 422, "a zip with an absolute path")
refused(make_zip([("materials/" + sha, PDF), ("bomb.bin", b"\0" * (20 << 20))], man), 422, "a zip bomb (ratio)")
tampered = make_zip([("materials/" + sha, PDF.replace(b"Catalog", b"Katalog"))], man)
refused(tampered, 422, "a file that does not match its hash")
# bytes stored already (VNU's PDF) under another hash in the manifest: the
# import is refused and the stored file, which VNU's course refers to, stays
other = hashlib.sha256(b"not the PDF").hexdigest()
mislabelled = json.loads(json.dumps(man))
mislabelled["units"][1]["material"]["sha256"] = other
mislabelled["units"][1]["material"]["file"] = "materials/" + other
refused(make_zip([("materials/" + other, PDF)], mislabelled), 422, "a stored file under another hash")
st, h, d = vnu.call("GET", "/api/v1/materials/" + m["uid"])
t.ok(st == 200 and d == PDF, "the other institution's file it holds is still there (%d)" % st)
as_video = json.loads(json.dumps(man))
as_video["units"][1]["kind"] = "video"
as_video["units"][1]["material"]["kind"] = "video"
refused(make_zip([("materials/" + sha, PDF)], as_video), 415, "a PDF declared as a video")
refused(b"this is not a zip", 422, "something that is not a zip")
refused(make_zip([("materials/" + sha, PDF)], {"format": "other"}), 422, "a foreign manifest")
bad_title = json.loads(json.dumps(man))
bad_title["course"]["title"] = "x" * 300
refused(make_zip([("materials/" + sha, PDF)], bad_title), 422, "a manifest with a 300-byte title")
# a unit holds only a material of its kind, as through the API
VTT = b"WEBVTT\n\n00:00.000 --> 00:01.000\nXin ch\xc3\xa0o\n"
vsha = hashlib.sha256(VTT).hexdigest()
captions_unit = json.loads(json.dumps(man))
captions_unit["units"][1] = {"kind": "video", "title": "Phụ đề", "required": True,
                             "material": {"file": "materials/" + vsha, "kind": "captions", "sha256": vsha,
                                          "name": "vi.vtt"}}
refused(make_zip([("materials/" + vsha, VTT)], captions_unit), 422, "a video unit holding captions")
# the size limit of a kind, as for an upload (captions: 2 MiB), from the declared size
big = VTT + b"".join(b"\n%02d:%02d.000 --> %02d:%02d.500\ncue %d\n" % (i // 60 % 60, i % 60, i // 60 % 60, i % 60, i)
                     for i in range(90000))
bsha = hashlib.sha256(big).hexdigest()
big_unit = json.loads(json.dumps(man))
big_unit["units"][1] = {"kind": "text", "title": "Phụ đề", "required": False,
                        "material": {"file": "materials/" + bsha, "kind": "captions", "sha256": bsha,
                                     "name": "vi.vtt"}}
refused(make_zip([("materials/" + bsha, big)], big_unit, zipfile.ZIP_STORED), 413,
        "captions of %.1f MiB (the limit is 2 MiB)" % (len(big) / 1048576))
st, h, j = hust.call("POST", "/api/v1/institutions/HUST/courses:import?code=BAD", raw=pkg, ctype="application/zip")
t.ok(st == 201, "no refused import left a course behind: the code BAD is still free (%d)" % st, j)
# many units naming one file: each gets its material, the file is stored once
shared = json.loads(json.dumps(man))
shared["units"] = [dict(man["units"][1], title="Bài %d" % k) for k in range(1, 4)]
st, h, j = hust.call("POST", "/api/v1/institutions/HUST/courses:import?code=SHARED",
                     raw=make_zip([("materials/" + sha, PDF)], shared), ctype="application/zip")
t.ok(st == 201, "three units naming one file import", j)
st, h, j = hust.call("GET", "/api/v1/courses/" + (j.get("uid") or "x"))
mats = [u.get("material") for u in j.get("units", [])] if isinstance(j, dict) else []
got = [hust.call("GET", "/api/v1/materials/" + u)[2] for u in mats if u]
t.ok(len(set(mats)) == 3 and got == [PDF] * 3, "each unit has its own material with the file's bytes", mats)
orphans = [f for d_, _, fs in os.walk(os.path.join(data, "content")) for f in fs]
t.ok(all(not f.endswith(".tmp") for f in orphans), "no temporary files are left in the content store", orphans)

# the command line
zpath = os.path.join(tmp, "it101.zip")
rc, out, err = cli("course", "export", "IT101", "--institution", "VNU", "--out", zpath)
t.ok(rc == 0 and zipfile.is_zipfile(zpath), "tinchi course export writes the package", err)
rc, out, err = cli("course", "import", zpath, "--institution", "HUST", "--owner", "100000000002", "--code", "CLI1")
t.ok(rc == 0 and "\tCLI1\tLập trình C" in out, "tinchi course import creates the course", out + err)
rc, out, err = cli("course", "import", zpath, "--institution", "HUST", "--owner", "100000000002", "--code", "CLI1",
                   check=False)
t.ok(rc == 1 and "already" in err, "a second CLI import with the same code fails clearly", err)
rc, out, err = cli("course", "export", "IT101", "--out", zpath, check=False)
t.eq(rc, 2, "a CLI export without --institution exits 2")

# the sample courses shipped in courses/samples/ import and publish cleanly
from harness import TOP  # noqa: E402
samples = sorted(f for f in os.listdir(os.path.join(TOP, "courses", "samples")) if f.endswith(".zip"))
cli("institution", "add", "SAMP", "--name", "Trường Mẫu", "--kind", "school")
for f in samples:
    rc, out, err = cli("course", "import", os.path.join(TOP, "courses", "samples", f), "--institution", "SAMP",
                       "--owner", "100000000002", "--publish", check=False)
    t.ok(rc == 0, "sample %s imports and is published" % f, err)
st, h, j = anon.call("GET", "/api/v1/courses?q=giai+tich&institution=SAMP")
t.ok(len(samples) >= 3 and [c["code"] for c in j["courses"]] == ["MATH201"],
     "the published samples are in the catalog", j)

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])

# the institution's storage quota holds for imports as for uploads: HUST may
# store 4 KB more, and the package's file is more than that
srv = Server("--password-cost", COST, "--institution-quota", "1M", data=data)
hust = Client("100000000002")
fat = b"%PDF-1.4\n" + os.urandom(1100000) + b"\n%%EOF\n"
fsha = hashlib.sha256(fat).hexdigest()
fat_man = json.loads(json.dumps(man))
fat_man["units"][1]["material"].update(file="materials/" + fsha, sha256=fsha)
st, h, j = hust.call("POST", "/api/v1/institutions/HUST/courses:import?code=FAT",
                     raw=make_zip([("materials/" + fsha, fat)], fat_man, zipfile.ZIP_STORED),
                     ctype="application/zip")
t.ok(st == 507 and "quota" in (j or {}).get("detail", ""), "an import over the quota is refused (%d)" % st, j)
t.ok(not os.path.exists(os.path.join(data, "content", fsha[:2], fsha[2:])), "and leaves no file behind")
zfat = os.path.join(tmp, "fat.zip")
with open(zfat, "wb") as f:
    f.write(make_zip([("materials/" + fsha, fat)], fat_man, zipfile.ZIP_STORED))
rc, out, err = cli("course", "import", zfat, "--institution", "HUST", "--owner", "100000000002", "--code", "FAT",
                   check=False)
t.ok(rc == 0, "nor a course: the operator's command line (not held to the quota) imports it as FAT", err)
code, log = srv.stop()
t.ok(code == 0 and sanitizer_clean(log), "second server exits 0, no sanitizer report", log[-3000:])
t.done()
