"""web_test.py - the web front end (web/index.html and web/js/): how its
assets are served (hashed names rewritten into the pages, immutable caching,
gzip, CSP), its words (the Vietnamese and English dictionaries have the same
keys, every key the code uses exists, no page or module has hard-coded
text), GET /api/v1/me/courses, and, in Debian's Chromium driven by
playwright-core (web_page.mjs), the learner's scenario: activation, a search
without diacritics, enrolment, the lecture played, resumed after a reload and
completed, the quiz passed, the credit shown and downloaded, shared by a
link for 7 days that is listed, opened and withdrawn, the catalog's
first load under 150 KB. Screenshots go to web-test-output/ in the build
folder (or $WEB_TEST_OUT)."""
import datetime
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, DataCli, sanitizer_clean, Server, Tap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("TOP_SRCDIR", os.path.join(HERE, "..", ".."))
WEB = os.path.join(TOP, "web")
t = Tap()
COST = "12"
NID = "200000000001"

# ---- words: both dictionaries, every key used, no hard-coded text ------------------------------
vi = json.load(open(os.path.join(WEB, "i18n", "vi.json"), encoding="utf-8"))
en = json.load(open(os.path.join(WEB, "i18n", "en.json"), encoding="utf-8"))
t.eq(sorted(vi), sorted(en), "vi.json and en.json have the same keys")
t.ok(all(isinstance(v, str) and v.strip() for v in list(vi.values()) + list(en.values())),
     "every text is a non-empty string")
t.ok(all(re.findall(r"\{\w+\}", vi[k]) and sorted(re.findall(r"\{\w+\}", vi[k])) ==
         sorted(re.findall(r"\{\w+\}", en[k])) or not re.findall(r"\{\w+\}", vi[k] + en[k]) for k in vi),
     "both languages use the same placeholders")
APP = ["index.html"] + ["js/" + f for f in sorted(os.listdir(os.path.join(WEB, "js")))]
used, prefixes, hard = set(), set(), []
for f in APP:
    src = open(os.path.join(WEB, f), encoding="utf-8").read()
    src = re.sub(r"^\s*//.*$", "", src, flags=re.M)
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    used |= set(re.findall(r'\bt\("([a-zA-Z]+\.[a-zA-Z0-9]+)"', src))
    used |= set(re.findall(r'data-i18n(?:-label)?="([^"]+)"', src))
    prefixes |= set(re.findall(r'\bt\("([a-zA-Z]+\.)"\s*\+', src))
    used |= set(re.findall(r'link\("[^"]*",\s*"([a-zA-Z]+\.[a-zA-Z0-9]+)"', src))
    used |= set(re.findall(r'\["#/[a-z]*",\s*"([a-zA-Z]+\.[a-zA-Z0-9]+)"\]', src))
    code = re.sub(r"^\s*//.*$", "", src, flags=re.M)
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    if any(ord(ch) > 127 for ch in code):
        hard.append(f + ": a non-ASCII character outside comments")
    if f.endswith(".html"):
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", code, flags=re.S)
        words = [w for w in re.sub(r"<[^>]*>", " ", text).split() if w != "tinchi"]
        if words:
            hard.append(f + ": text in the page: " + " ".join(words[:5]))
    for m in re.finditer(r'"([A-Z][a-z]+ [a-z]+[^"]*)"|\'([A-Z][a-z]+ [a-z]+[^\']*)\'', code):
        hard.append(f + ": " + (m.group(1) or m.group(2)))
missing = sorted(k for k in used if k not in vi)
t.ok(not missing and len(used) > 60, "every key the pages use is in the dictionaries (%d)" % len(used), missing)
for p in prefixes:
    t.ok(any(k.startswith(p) for k in vi), "keys built from %s exist" % p)
t.ok(not hard, "no hard-coded text in index.html or web/js/", hard)

# ---- web/js/progress.js with a fake WebSocket: kept until acked, resent after a reconnect ------------
if shutil.which("node"):
    p = subprocess.run([shutil.which("node"), os.path.join(HERE, "web_progress.mjs"), TOP],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    try:
        res = json.loads(p.stdout.decode().strip().splitlines()[-1])
    except (IndexError, ValueError):
        res = {"checks": 0, "failed": ["no result: " + p.stderr.decode()[-800:]]}
    t.ok(p.returncode == 0 and res["checks"] >= 18 and not res["failed"],
         "progress reporting (%d checks): acks, resending after a reconnect, busy, refusals, the spans watched"
         % res["checks"], res["failed"])
else:
    t.ok(True, "progress reporting # SKIP node not installed")

# ---- the server: hashed assets, caching, compression ---------------------------------------------
data = os.path.join(tempfile.mkdtemp(prefix="tinchi-web-"), "data")
cli = DataCli(data, COST)
rc, out, err = cli("institution", "add", "VNU", "--name", "Đại học Quốc gia Hà Nội", "--kind", "university")
assert rc == 0, err
cli.person("100000000001", "Lê Văn Giảng", "lecturer", "VNU")
rc, out, err = cli("person", "add", "--national-id", NID, "--name", "Trần Thị Học", "--role", "learner",
                   "--institution", "VNU")
assert rc == 0, err
code = re.search(r"activation code (\S+)", out).group(1)

srv = Server("--password-cost", COST, "--log-interval-ms", "100", data=data)
st, h, body = srv.request("GET", "/")
page = body.decode()
t.ok(st == 200 and h.get("cache-control") == "no-cache", "index.html: no-cache", h)
assets = re.findall(r'(?:href|src)="(/[^"]+)"', page)
t.ok(assets and all(re.search(r"\.[0-9a-f]{10}\.[a-z]+$", a) for a in assets),
     "every asset of the page has a hashed name", assets)
app_js = next(a for a in assets if a.startswith("/js/app."))
st, h, body = srv.request("GET", app_js, headers={"Accept-Encoding": "gzip"})
t.ok(st == 200 and h.get("cache-control") == "public, max-age=31536000, immutable",
     "a hashed asset is cached for a year, immutable", h)
t.ok(h.get("content-encoding") == "gzip" and h.get("vary") == "accept-encoding",
     "and sent gzipped when asked", h)
js = gzip.decompress(body).decode()
t.ok(re.search(r'from "/js/api\.[0-9a-f]{10}\.js"', js) and re.search(r'import\("/js/learn\.[0-9a-f]{10}\.js"\)', js),
     "imports inside modules point at hashed names too", js[:600])
st, h, plain = srv.request("GET", app_js)
t.ok(st == 200 and "content-encoding" not in h and plain.decode() == js, "the same bytes without gzip")
st2, h2, _ = srv.request("GET", app_js, headers={"If-None-Match": h.get("etag", "")})
t.eq(st2, 304, "a hashed asset answers 304 to its ETag")
st, h, _ = srv.request("GET", re.sub(r"\.[0-9a-f]{10}\.", ".0123456789.", app_js))
t.eq(st, 404, "a stale hash is 404")
st, h, _ = srv.request("GET", "/js/app.js")
t.ok(st == 200 and "immutable" not in h.get("cache-control", ""), "the plain name still answers, briefly cached", h)
csp = h.get("content-security-policy", "")
t.ok("unsafe-inline" not in csp and "script-src 'self'" in csp, "CSP without 'unsafe-inline'", csp)
t.ok("<script>" not in page and "style=" not in page and " on" not in re.sub(r'"[^"]*"', "", page),
     "no inline script, style or handler in index.html")
hls_url = re.search(r'"(/vendor/hls\.min\.[0-9a-f]{10}\.mjs)"',
                    gzip.decompress(srv.request("GET", re.search(r'"(/js/learn\.[0-9a-f]{10}\.js)"', js).group(1),
                                                headers={"Accept-Encoding": "gzip"})[2]).decode())
if os.path.isfile(os.path.join(TOP, "node_modules", "hls.js", "dist", "hls.min.mjs")):
    st, h, body = srv.request("GET", hls_url.group(1) if hls_url else "/vendor/hls.min.mjs",
                              headers={"Accept-Encoding": "gzip"})
    t.ok(hls_url and st == 200 and h.get("content-encoding") == "gzip" and len(body) < 250000,
         "hls.js from node_modules, hashed and gzipped (%d bytes)" % len(body), (st, h))
else:
    t.ok(True, "hls.js served # SKIP node_modules/hls.js missing (npm ci)")

# ---- GET /api/v1/me/courses ------------------------------------------------------------------------
anon, lec = ApiClient(srv), ApiClient(srv, "100000000001")
st, h, j = anon.call("GET", "/api/v1/me/courses")
t.eq(st, 401, "my courses: 401 without a session")
st, h, j = lec.call("GET", "/api/v1/me/courses")
t.ok(st == 200 and j == {"courses": []}, "a lecturer enrolled nowhere: an empty list", j)

# ---- the course the learner will take ----------------------------------------------------------------
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "WEB101", "title": "Lập trình web cơ bản", "language": "vi", "credits": "3",
                     "description": "Học **HTML** và CSS."})
assert st == 201, j
course = j["uid"]
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "DRAFT1", "title": "Lập trình web nâng cao (nháp)", "language": "vi", "credits": "1"})
draft = j["uid"]
FFMPEG = shutil.which("ffmpeg")
video_unit = None
if FFMPEG:
    mp4 = os.path.join(os.path.dirname(data), "lecture.mp4")
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=640x360:rate=25:duration=12", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=12", "-c:v", "libx264", "-preset", "veryfast",
                    "-pix_fmt", "yuv420p", "-g", "50", "-c:a", "aac", "-shortest", mp4], check=True)
    st, h, j = lec.call("POST", "/api/v1/courses/%s/materials?kind=video&name=bai1.mp4" % course,
                        raw=open(mp4, "rb").read(), ctype="application/octet-stream", timeout=120)
    assert st == 201, j
    vmat = j["uid"]
    st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course,
                        {"kind": "video", "title": "Bài 1: Giới thiệu", "material": vmat})
    assert st == 201, j
    video_unit = j["uid"]
pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n" + b"%" * 3000
st, h, j = lec.call("POST", "/api/v1/courses/%s/materials?kind=document&name=slides.pdf" % course,
                    raw=pdf, ctype="application/pdf")
assert st == 201, j
dmat = j["uid"]
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course,
                    {"kind": "document", "title": "Tài liệu bài 1", "material": dmat, "required": False})
assert st == 201, j
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course, {"kind": "quiz", "title": "Kiểm tra cuối khóa"})
assert st == 201, j
quiz_unit = j["uid"]
st, h, j = lec.call("PUT", "/api/v1/units/%s/quiz" % quiz_unit, {
    "settings": {"time_limit": 600, "pass_percent": 50},
    "questions": [
        {"kind": "single", "text": "HTML là viết tắt của?",
         "options": [{"text": "HyperText Markup Language", "correct": True},
                     {"text": "High Tech Modern Language"}]},
        {"kind": "truefalse", "text": "CSS dùng để trình bày trang web.", "answer": True}]})
assert st == 200, j
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
assert st == 200, j
if video_unit:
    vtt = b"WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nXin ch\xc3\xa0o\n"
    st, h, j = lec.call("PUT", "/api/v1/materials/%s/captions/vi?label=Ti%%E1%%BA%%BFng%%20Vi%%E1%%BB%%87t" % vmat,
                        raw=vtt, ctype="text/vtt")
    t.ok(st in (200, 201), "captions for the lecture", j)
    deadline = time.time() + 180
    while True:
        st, h, mj = lec.call("GET", "/api/v1/materials/%s/media" % vmat)
        if mj.get("state") in ("ready", "failed") or time.time() > deadline:
            break
        time.sleep(0.3)
    t.eq(mj.get("state"), "ready", "the lecture is processed")
    master = srv.request("GET", mj["stream"]["master"].replace(srv.base, ""))[2].decode()
    t.ok("TYPE=SUBTITLES" in master, "its master playlist lists the captions", master)

# ---- in the browser ---------------------------------------------------------------------------------------
node, chromium = shutil.which("node"), shutil.which("chromium")
if node and chromium and FFMPEG and os.path.isdir(os.path.join(TOP, "node_modules", "playwright-core")):
    outdir = os.environ.get("WEB_TEST_OUT") or os.path.join(os.getcwd(), "web-test-output")
    os.makedirs(outdir, exist_ok=True)
    p = subprocess.run([node, os.path.join(HERE, "web_page.mjs"), srv.base, outdir, chromium, NID, code],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=400, cwd=TOP)
    lines = p.stdout.decode().strip().splitlines()
    try:
        seen = json.loads(lines[-1])
    except (IndexError, ValueError):
        seen = {"errors": ["no result"], "steps": []}
    t.ok(p.returncode == 0 and not seen["errors"],
         "in Chromium at 360 px: the whole scenario, no console error (screenshots in %s)" % outdir,
         (p.returncode, seen.get("errors"), seen.get("steps"), p.stderr.decode()[-2000:]))
    t.ok(seen.get("catalogBytes", 10 ** 9) < 150 * 1024,
         "the catalog's first load transferred %s bytes (< 150 KB)" % seen.get("catalogBytes"),
         seen.get("catalogFiles"))
    t.ok(seen.get("lang") == "vi" and seen.get("catalogTitle") == vi["catalog.title"],
         "Vietnamese by default", (seen.get("lang"), seen.get("catalogTitle")))
    t.ok(seen.get("fits360") is True, "nothing wider than 360 px")
    t.ok(seen.get("unlabelled") == [], "every field of the catalog has a label", seen.get("unlabelled"))
    t.ok(seen.get("firstTab") == "skip", "the first Tab reaches the skip link", seen.get("firstTab"))
    low = (seen.get("lowContrast") or []) + (seen.get("lowContrastResults") or []) + (seen.get("lowContrastQuiz") or [])
    t.ok("lowContrast" in seen and "lowContrastQuiz" in seen and not low,
         "text contrast AA (4.5:1, 3:1 large) on the catalog, the results and the quiz", low)
    t.ok("activated" in seen["steps"], "activation with the one-time code signs the learner in", seen["steps"])
    t.ok(seen.get("searchHit") == "Lập trình web cơ bản" and seen.get("searchMarked", 0) >= 1,
         "'lap trinh web' typed and Enter finds the course, matches marked", (seen.get("searchHit"), seen.get("searchMarked")))
    t.ok(seen.get("searchCount") == 1 and seen.get("moreHidden") is True,
         "only it (not the draft), and no 'show more' for a short list", (seen.get("searchCount"), seen.get("moreHidden")))
    t.ok(seen.get("captionTracks") == 1 and seen.get("captionsShowing"), "the caption track is offered and shows",
         seen.get("captionTracks"))
    pa = seen.get("progressAfterPause") or {}
    t.ok(seen.get("pausedAt", 0) > 5 and abs(pa.get("position", -99) - seen["pausedAt"]) < 1.5 and
         pa.get("watched"), "currentTime advanced and the position was recorded over the WebSocket",
         (seen.get("pausedAt"), pa))
    t.ok(abs(seen.get("resumedAt", -99) - seen.get("pausedAt", 0)) < 2.5 and seen.get("resumeText"),
         "after a reload the lecture resumes where it stopped",
         (seen.get("pausedAt"), seen.get("resumedAt"), seen.get("resumeText")))
    t.ok(seen.get("audioFetched", 0) >= 2 and seen.get("videoAfterAudio") == 0 and seen.get("quality") == "audio",
         "'audio only' plays the audio rendition's playlist and segments, no video, and is remembered",
         (seen.get("audioFetched"), seen.get("videoAfterAudio"), seen.get("quality")))
    t.ok("lectureCompleted" in seen["steps"], "played to the end (on audio), the unit is completed", seen["steps"])
    t.ok((seen.get("documentHref") or "").startswith("/api/v1/materials/") and
         seen.get("documentType") == "application/pdf", "the document unit links to its PDF",
         (seen.get("documentHref"), seen.get("documentType")))
    t.ok(re.match(r"Thời gian còn lại: \d+:\d\d", seen.get("timer") or ""), "the quiz shows its timer",
         seen.get("timer"))
    t.ok((seen.get("verdict") or "").startswith("Đạt"), "the quiz is passed", seen.get("verdict"))
    t.ok("Đã hoàn thành, điểm 10" in (seen.get("myCourses") or ""), "my courses shows the course completed with its grade",
         seen.get("myCourses"))
    t.ok("Lập trình web cơ bản" in (seen.get("credit") or "") and "3 tín chỉ" in seen["credit"] and
         "Điểm 10" in seen["credit"], "the credit is listed with its credits and grade", seen.get("credit"))
    dl = seen.get("downloaded") or {}
    t.ok("OpenBadgeCredential" in dl.get("type", []) and dl.get("proof"),
         "the downloaded file is the signed credential", list(dl)[:8])
    link, svg = seen.get("qrLink") or "", seen.get("qrSvg") or ""
    t.ok(re.match(r"^%s/v/[A-Za-z0-9_-]{20,}$" % re.escape(srv.base), link) and svg.startswith("<svg") and
         seen.get("qrBox", {}).get("width", 0) >= 100,
         "my credits: the QR code (shown) and the verification link", (link, svg[:80], seen.get("qrBox")))
    t.ok(seen.get("fits360Credits") is True, "my credits with the QR code open: nothing wider than 360 px")
    if shutil.which("zbarimg") and shutil.which("rsvg-convert") and svg:
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "qr.svg"), "w") as f:
                f.write(svg)
            subprocess.run(["rsvg-convert", "-w", "400", "-b", "white", "-o", os.path.join(d, "qr.png"),
                            os.path.join(d, "qr.svg")], check=True)
            p2 = subprocess.run(["zbarimg", "--raw", "-q", os.path.join(d, "qr.png")], stdout=subprocess.PIPE)
            t.eq(p2.stdout.decode().strip(), link, "the list's QR code decodes to its verification link")
    else:
        t.ok(True, "QR decoding # SKIP zbarimg (zbar-tools) or rsvg-convert (librsvg2-bin) not installed")
    st, h, j = ApiClient(srv).call("GET", link[link.index("/v/"):].replace("/v/", "/api/v1/shared/", 1)) \
        if "/v/" in link else (0, {}, {})
    t.ok(st == 200 and j.get("credential", {}).get("id") == dl.get("id"),
         "the verification link opens that credential", (st, str(j)[:200]))
    url, row, listed = seen.get("shareUrl") or "", seen.get("shareRow") or {}, seen.get("shareListed") or {}
    t.ok(link and seen.get("printLink") == link,
         "the Print link opens the printable page with the same verification link", seen.get("printLink"))
    t.ok("shared" in seen["steps"] and seen.get("sharesBefore") == ["print"],
         "the share panel lists the print link the QR code made", seen.get("sharesBefore"))
    t.ok(re.match(r"^%s/v/[A-Za-z0-9_-]{43}$" % re.escape(srv.base), url) and
         seen.get("clipboard") == url and seen.get("copyNote") == vi["credits.copied"],
         "a link made for 7 days is shown once and copied", (url, seen.get("clipboard"), seen.get("copyNote")))
    made, ends = (listed.get(k) and datetime.datetime.fromisoformat(listed[k].replace("Z", "+00:00"))
                  for k in ("created_at", "expires_at"))
    t.ok(made and ends and ends - made == datetime.timedelta(days=7) and listed.get("live") and listed.get("kind") == "link",
         "the API has the link expiring 7 days after it was made", listed)
    shown = seen.get("shareExpiresShown") or "?"
    t.ok(row.get("kind") == "link" and row.get("expires") == vi["credits.until"].replace("{date}", shown) and
         shown in (seen.get("shareUntil") or ""), "the list and the new link say until when it works",
         (row, seen.get("shareUntil"), shown))
    op = seen.get("shareOpened") or {}
    t.ok(op.get("status") == 200 and "ok" in (op.get("verdict") or "").split(),
         "the link opens the credential, verified", op)
    t.ok(seen.get("stillListedWhileAsking") == 1 and vi["credits.withdrawWarn"] in (seen.get("withdrawAsk") or ""),
         "withdrawing asks first", seen.get("withdrawAsk"))
    t.ok([k for k, _ in seen.get("sharesAfter") or [["?", "?"]]] == ["print"] and
         row.get("id") not in [i for _, i in seen.get("sharesAfter") or []] and
         seen.get("sharesEnded") == vi["credits.endedLinks"].replace("{n}", "1") and
         seen.get("withdrawnSaid") == vi["credits.withdrawn"] and seen.get("newLinkAfter") == "",
         "withdrawn: gone from the list and from the new link's box, counted as ended, and said",
         (seen.get("sharesAfter"), seen.get("sharesEnded"), seen.get("withdrawnSaid"), seen.get("newLinkAfter")))
    t.ok((seen.get("shareAfter") or {}).get("status") == 410, "the withdrawn link answers 410",
         seen.get("shareAfter"))
    tok = url.rsplit("/", 1)[-1]
    st, h, j = ApiClient(srv).call("GET", "/api/v1/shared/" + tok) if tok else (0, {}, {})
    t.ok(st == 410 and "credential" not in j, "and its JSON no longer gives the credential", (st, j))
    t.ok(seen.get("fits360Shares") is True and seen.get("unlabelledShares") == [] and
         seen.get("lowContrastShares") == [], "the share panel: no wider than 360 px, labelled, contrast AA",
         (seen.get("fits360Shares"), seen.get("unlabelledShares"), seen.get("lowContrastShares")))
    t.ok(seen.get("englishTitle") == en["credits.title"], "the English switch", seen.get("englishTitle"))
    t.ok("signedOut" in seen["steps"], "sign out", seen["steps"])
    st, h, j = ApiClient(srv, NID, password="mot-mat-khau-dai-" + NID).call("GET", "/api/v1/me/courses")
    t.ok(st == 200 and [c["uid"] for c in j["courses"]] == [course] and j["courses"][0]["enrolled_at"],
         "GET /api/v1/me/courses lists the enrolled course", j)
else:
    t.ok(True, "the learner's pages in a browser # SKIP needs node, Debian's chromium, ffmpeg and "
         "playwright-core (npm ci)")

code, log = srv.stop()
t.eq(code, 0, "server exits 0")
t.ok(sanitizer_clean(log), "no sanitizer report", log[-3000:])
t.done()
