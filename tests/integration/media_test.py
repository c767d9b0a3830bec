"""media_test.py - lecture streaming end to end: video and audio uploads
become HLS presentations in the sandboxed `tinchi media-worker`, followed
over the API and the WebSocket, and played with real clients (hls-parser
through hls_check.mjs, ffmpeg). Covers signed stream URLs (tokens checked
with the media key alone), captions, broken and hostile files (truncated,
no moov atom, empty, noise after ftyp, playlists and concat scripts naming
/etc/passwd, 100000x100000 pixels), unusual but good files (audio only,
video only, rotated, variable frame rate, HEVC, VP9, 20 audio tracks), a
worker killed by SIGSEGV and retried, a time limit, a restart in the middle
of a job, and deleting a lecture.

Every media file is made here with the ffmpeg CLI; without ffmpeg the test
is skipped."""
import atexit
import base64
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ApiClient, BIN, TOP, Server, Tap, sanitizer_clean  # noqa: E402
from wsclient import OP_TEXT, WebSocket  # noqa: E402

t = Tap()
FFMPEG, FFPROBE = shutil.which("ffmpeg"), shutil.which("ffprobe")
if not FFMPEG or not FFPROBE:
    t.skip_all("ffmpeg and ffprobe are needed to make the media files")

T_START = time.time()
COST = "12"
JOB_TIMEOUT = 60          # seconds one job may run before the test gives up on it
work = tempfile.mkdtemp(prefix="tinchi-media-")
media_dir = os.path.join(work, "files")
os.makedirs(media_dir)


def skip(name, why):
    """One skipped check, in TAP."""
    t.n += 1
    print("ok %d - %s # SKIP %s" % (t.n, name, why))
    sys.stdout.flush()


def elapsed():
    return "%.1f s" % (time.time() - T_START)


# ---- the media files ----------------------------------------------------------------

ENCODERS = subprocess.run([FFMPEG, "-hide_banner", "-encoders"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout.decode("utf-8", "replace")


def has_encoder(name):
    return re.search(r"^\s*\S+\s+%s\s" % re.escape(name), ENCODERS, re.M) is not None


def P(name):
    return os.path.join(media_dir, name)


def src_video(size, rate, dur):
    return ["-f", "lavfi", "-i", "testsrc2=size=%s:rate=%s:duration=%s" % (size, rate, dur)]


def src_sine(freq, dur):
    return ["-f", "lavfi", "-i", "sine=frequency=%d:duration=%s" % (freq, dur)]


H264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "96k"]

# name -> ffmpeg arguments (before the output file); each is run once
FILES = {
    # case 1: H.264 + AAC, copied as "original"
    "main.mp4": src_video("640x360", 30, 10) + src_sine(440, 10) + H264 + ["-g", "60"] + AAC
    + ["-shortest"],
    # a second lecture (video only); its tokens, then deleted
    "vonly.mp4": src_video("480x270", 25, 4) + H264 + ["-g", "50"],
    # case 4: input for the broken files
    "faststart.mp4": src_video("640x360", 30, 6) + src_sine(330, 6) + H264 + AAC
    + ["-shortest", "-movflags", "+faststart"],
    "moovlast.mp4": src_video("640x360", 30, 6) + src_sine(330, 6) + H264 + AAC + ["-shortest"],
    "zero.mp4": src_video("320x180", 30, 1) + ["-f", "lavfi", "-i", "anullsrc", "-frames:v", "0",
                                               "-t", "0"] + H264 + AAC,
    "small.mkv": src_video("320x180", 15, 2) + H264 + ["-f", "matroska"],
    "small-utvideo.mkv": src_video("64x36", 5, 2) + ["-c:v", "utvideo", "-f", "matroska"],
    # case 5
    "audio.mp3": src_sine(523, 4) + ["-c:a", "libmp3lame", "-b:a", "64k"],
    "audio.m4a": src_sine(587, 4) + AAC,
    "upright.mp4": src_video("640x360", 30, 4) + src_sine(660, 4) + H264 + AAC + ["-shortest"],
    "vfr.mp4": src_video("640x360", 30, 6)
    + ["-vf", "select='if(lt(t,3),not(mod(n,2)),1)'", "-fps_mode", "vfr"] + H264,
    "tracks20.mkv": src_video("320x180", 25, 4) + src_sine(700, 4)
    + ["-map", "0:v"] + ["-map", "1:a"] * 20 + H264 + AAC + ["-shortest"],
    # cases 6 and 7: long enough to be caught running
    "long.mp4": src_video("1280x720", 30, 48) + src_sine(300, 48)
    + ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "32", "-pix_fmt", "yuv420p", "-g", "60"]
    + AAC + ["-shortest"],
}
if has_encoder("libx265"):
    FILES["hevc.mp4"] = src_video("854x480", 30, 4) + src_sine(880, 4) + [
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
        "-tag:v", "hvc1", "-pix_fmt", "yuv420p"] + AAC + ["-shortest"]
if has_encoder("libvpx-vp9"):
    FILES["vp9.webm"] = src_video("640x360", 30, 4) + src_sine(990, 4) + [
        "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k",
        "-c:a", "libopus" if has_encoder("libopus") else "libvorbis", "-shortest"]


def make_files():
    """Runs the ffmpeg commands two at a time. Returns {name: error or None}."""
    todo = sorted(FILES, key=lambda n: n != "long.mp4")   # the longest first
    running, errors = [], {}
    while todo or running:
        while todo and len(running) < 2:
            n = todo.pop(0)
            cmd = [FFMPEG, "-nostdin", "-v", "error", "-y"] + FILES[n] + [P(n)]
            running.append((n, subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.PIPE)))
        n, p = running.pop(0)
        _, err = p.communicate(timeout=300)
        errors[n] = None if p.returncode == 0 and os.path.getsize(P(n)) > 0 else \
            "ffmpeg exit %d: %s" % (p.returncode, err.decode("utf-8", "replace")[-500:])
    return errors


def ffprobe_json(path_or_url, *extra):
    p = subprocess.run([FFPROBE, "-v", "error", "-print_format", "json"] + list(extra) + [path_or_url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    try:
        return json.loads(p.stdout.decode()), p.stderr.decode("utf-8", "replace")
    except ValueError:
        return None, p.stderr.decode("utf-8", "replace")


# EBML (Matroska): rewrites the masters on the way to the pixel sizes with new
# sizes, so that PixelWidth/PixelHeight can grow from 2 to 3 bytes
EBML_MASTERS = {0x18538067, 0x1654AE6B, 0xAE, 0xE0}   # Segment, Tracks, TrackEntry, Video


def _ebml_id(d, p):
    n = 1
    while n <= 4 and not d[p] & (0x80 >> (n - 1)):
        n += 1
    return int.from_bytes(d[p:p + n], "big"), p + n


def _ebml_size(d, p):
    n = 1
    while not d[p] & (0x80 >> (n - 1)):
        n += 1
    v = d[p] & ((0x80 >> (n - 1)) - 1)
    for x in d[p + 1:p + n]:
        v = v << 8 | x
    return (None if v == (1 << 7 * n) - 1 else v), p + n


def _ebml_vint(v):
    n = 1
    while v >= (1 << 7 * n) - 1:
        n += 1
    return (1 << 7 * n | v).to_bytes(n, "big")


def ebml_patch(d, p, end, patch, found):
    out = b""
    while p < end:
        eid, q = _ebml_id(d, p)
        size, q = _ebml_size(d, q)
        unknown = size is None
        if unknown:
            size = end - q
        body = d[q:q + size]
        if eid in EBML_MASTERS:
            body = ebml_patch(d, q, q + size, patch, found)
        elif eid in patch:
            body = patch[eid].to_bytes(max(1, (patch[eid].bit_length() + 7) // 8), "big")
            found.append(eid)
        out += eid.to_bytes((eid.bit_length() + 7) // 8, "big") + \
            (b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown else _ebml_vint(len(body))) + body
        p = q + size
    return out


def huge_mkv(src, dst):
    """SRC with PixelWidth and PixelHeight set to 100000; True when both were found."""
    d = open(src, "rb").read()
    found = []
    out = ebml_patch(d, 0, len(d), {0xB0: 100000, 0xBA: 100000}, found)
    with open(dst, "wb") as f:
        f.write(out)
    return sorted(found) == [0xB0, 0xBA]


def remux(src, dst, *args):
    p = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-i", src, "-map", "0", "-c", "copy"]
                       + list(args) + [dst], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    return p.returncode == 0


t.diag("making media files with %s (%s)" % (FFMPEG, elapsed()))
made = make_files()
bad_made = {n: e for n, e in made.items() if e}
t.ok(not bad_made, "ffmpeg made the %d media files" % len(FILES), bad_made)
if bad_made:
    t.done()
# derived files
ok_rot = remux(P("upright.mp4"), P("rotated.mp4"), "-metadata:s:v:0", "rotate=90")
fast = open(P("faststart.mp4"), "rb").read()
with open(P("truncated.mp4"), "wb") as f:
    f.write(fast[:len(fast) * 40 // 100])
last = open(P("moovlast.mp4"), "rb").read()
moov_at = last.find(b"moov") - 4
mdat_at = last.find(b"mdat") - 4
with open(P("nomoov.mp4"), "wb") as f:
    f.write(last[:moov_at])
ftyp_len = int.from_bytes(fast[:4], "big")
with open(P("noise.mp4"), "wb") as f:
    f.write(fast[:ftyp_len] + random.Random(1).randbytes(300000))
with open(P("playlist.mp4"), "wb") as f:
    f.write(b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
            b"#EXTINF:10.0,\nfile:///etc/passwd\n#EXTINF:10.0,\n/etc/passwd\n#EXT-X-ENDLIST\n")
with open(P("concat.mp4"), "wb") as f:
    f.write(b"ffconcat version 1.0\nfile 'file:/etc/passwd'\nduration 10\nfile '/etc/passwd'\n")
ok_huge = huge_mkv(P("small.mkv"), P("huge.mkv"))
ok_huge_utv = huge_mkv(P("small-utvideo.mkv"), P("huge-utvideo.mkv"))

# the files are what they claim
pj, _ = ffprobe_json(P("rotated.mp4"), "-show_streams")
rot_tag = [sd.get("rotation") for s in (pj or {}).get("streams", []) for sd in s.get("side_data_list", [])
           if "rotation" in sd]
t.ok(ok_rot and rot_tag and abs(rot_tag[0]) == 90, "the phone video carries a 90 degree rotation", rot_tag)
pts = subprocess.run([FFPROBE, "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts",
                      "-of", "csv=p=0", P("vfr.mp4")], stdout=subprocess.PIPE).stdout.decode().split()
pts = sorted(int(x) for x in pts if x.strip().lstrip("-").isdigit())
steps = {b - a for a, b in zip(pts, pts[1:])}
t.ok(len(steps) >= 2, "the VFR file has frames of different durations", steps)
pj, _ = ffprobe_json(P("tracks20.mkv"), "-show_streams")
t.eq(sum(s["codec_type"] == "audio" for s in (pj or {}).get("streams", [])), 20,
     "the MKV has 20 audio tracks")
t.ok(mdat_at < moov_at and len(last[:moov_at]) > 100000, "moovlast.mp4 has its mdat before its moov",
     (mdat_at, moov_at))
for huge, ok_patch in (("huge.mkv", ok_huge), ("huge-utvideo.mkv", ok_huge_utv)):
    pj, perr = ffprobe_json(P(huge), "-show_streams")
    widths = [s.get("width") for s in (pj or {}).get("streams", [])]
    t.ok(ok_patch and (100000 in widths or "100000x100000" in perr),
         "ffprobe sees %s claim 100000x100000 pixels" % huge, (widths, perr[-400:]))
pj, _ = ffprobe_json(P("zero.mp4"), "-show_format")
t.ok(pj is not None and float(pj.get("format", {}).get("duration", "0") or 0) == 0,
     "zero.mp4 lasts 0 s", pj)
t.diag("media files ready (%s)" % elapsed())


# ---- people, a course ------------------------------------------------------------------

def setup_data(data):
    """An institution, a lecturer and two learners in DATA; the lecturer's uid."""
    uid = None
    for nid, name, role in (("100000000001", "Lê Văn Giảng", "lecturer"),
                            ("200000000001", "Học Viên", "learner"),
                            ("200000000002", "Người Ngoài", "learner")):
        if nid == "100000000001":
            p = subprocess.run([BIN, "institution", "add", "VNU", "--name", "Đại học Quốc gia",
                                "--kind", "university", "--data", data], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120)
            assert p.returncode == 0, p.stderr
        p = subprocess.run([BIN, "person", "add", "--national-id", nid, "--name", name, "--role", role,
                            "--institution", "VNU", "--password-stdin", "--data", data,
                            "--password-cost", COST], input=b"password-" + nid.encode() + b"\n",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert p.returncode == 0, p.stderr
        if role == "lecturer":
            uid = p.stdout.decode().split("\t")[0].strip()
    return uid


Client = ApiClient


def upload(client, course, kind, name, data=None):
    body = data if data is not None else open(P(name), "rb").read()
    return client.call("POST", "/api/v1/courses/%s/materials?kind=%s&name=%s" % (course, kind, name),
                       raw=body, ctype="application/octet-stream", timeout=120)


def media(client, uid):
    return client.call("GET", "/api/v1/materials/%s/media" % uid)


def healthy(srv):
    try:
        return srv.proc.poll() is None and srv.request("GET", "/healthz", timeout=10)[0] == 200
    except OSError:
        return False


def wait_jobs(client, uids, per_job=JOB_TIMEOUT, jobs=2, until=("ready", "failed"), on_end=None):
    """Polls GET .../media of UIDS until each is in a state of UNTIL. Returns
    {uid: last JSON}. A job that runs longer than PER_JOB seconds, or waits in
    the queue past the time its turn should have come, is given up on."""
    last, started, pending = {}, {}, list(uids)
    t0 = time.time()
    queue_deadline = t0 + per_job * (len(uids) + jobs - 1) // jobs + 30
    while pending:
        for u in list(pending):
            st, h, j = media(client, u)
            last[u] = j if st == 200 else {"status": st, "body": j}
            state = j.get("state") if st == 200 and isinstance(j, dict) else None
            if st != 200 or state in until:
                pending.remove(u)
                if on_end:
                    on_end(u, last[u])
            elif state == "running":
                started.setdefault(u, time.time())
        now = time.time()
        for u in list(pending):
            if (u in started and now - started[u] > per_job) or now > queue_deadline:
                pending.remove(u)
        if pending:
            time.sleep(0.25)
    return last


def fresh(client, uid):
    """(job JSON, stream URLs) of a new GET .../media: tokens expire in 60 s."""
    st, h, j = media(client, uid)
    return j, ((j or {}).get("stream") or {}) if st == 200 else {}


def token_of(url):
    return url.split("?t=", 1)[1] if "?t=" in url else ""


def alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return not re.search(r"^State:\s*Z", f.read(), re.M)
    except OSError:
        return False


def jdump(j):
    return json.dumps(j, ensure_ascii=False, indent=1)[:3000]


def human(err):
    """An error a lecturer can read: a sentence, not a code."""
    return isinstance(err, str) and len(err) >= 12 and " " in err.strip() and \
        not re.search(r"TC_E|\(null\)|error -?\d+$|^-?\d+$|Unknown error", err)


def names(j):
    return [r["name"] for r in (j or {}).get("renditions", [])]


def rendition(j, name):
    for r in (j or {}).get("renditions", []):
        if r["name"] == name:
            return r
    return None


# ---- HLS helpers -------------------------------------------------------------------------

def get(srv, url, headers=None):
    """GET of a path, or of an http://127.0.0.1:PORT/... URL sent in origin form."""
    u = urllib.parse.urlsplit(url)
    path = (u.path or "/") + ("?" + u.query if u.query else "") if u.scheme else url
    return srv.request("GET", path, headers=headers, timeout=30)


def tags(text, tag):
    """Attribute dicts of every #TAG: line of a playlist."""
    out = []
    for line in text.splitlines():
        if line.startswith("#" + tag + ":"):
            attrs = {}
            for m in re.finditer(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', line[len(tag) + 2:]):
                attrs[m.group(1)] = m.group(2).strip('"')
            out.append(attrs)
    return out


def uris(text):
    """Every URI of a playlist: lines that are not tags, and URI="..." attributes."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            out += re.findall(r'URI="([^"]*)"', line)
        else:
            out.append(line)
    return out


def variants(text):
    """[(attrs, uri)] of the master playlist's EXT-X-STREAM-INF entries."""
    lines = [x.strip() for x in text.splitlines()]
    out = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:") and i + 1 < len(lines):
            out.append((tags(line, "EXT-X-STREAM-INF")[0], lines[i + 1]))
    return out


def join(base, uri):
    return urllib.parse.urljoin(base, uri)


def hls_check(url):
    """(exit status, JSON line or output) of hls_check.mjs on URL."""
    node = shutil.which("node")
    if not node:
        return 77, "node not installed"
    p = subprocess.run([node, os.path.join(TOP, "tests", "integration", "hls_check.mjs"), url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out = p.stdout.decode("utf-8", "replace").strip()
    try:
        return p.returncode, json.loads(out.splitlines()[-1])
    except (ValueError, IndexError):
        return p.returncode, out + p.stderr.decode("utf-8", "replace")


def gray_frame(src, at=1.0):
    """One frame of SRC at AT seconds as 36x64 grey bytes (ffmpeg applies any rotation itself)."""
    # -ss after -i: ffmpeg 5.1 cannot seek inside an fMP4 HLS segment
    p = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", src, "-ss", str(at), "-frames:v", "1",
                        "-vf", "scale=36:64,format=gray", "-f", "rawvideo", "-"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.stdout if len(p.stdout) == 36 * 64 else None


def mad(a, b):
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


def ffmpeg_decode(url):
    p = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-xerror", "-i", url, "-map", "0", "-f", "null", "-"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    return p.returncode, p.stderr.decode("utf-8", "replace")[-1500:]


# ---- tokens: what a CDN edge holding the media key would do ------------------------------

def media_key(data):
    with open(os.path.join(data, "keys", "platform.secret"), "rb") as f:
        secret = f.read()
    assert len(secret) == 32, len(secret)
    return hmac.new(secret, b"tinchi media token v1", hashlib.sha256).digest()


def make_token(key, material, viewer, expires):
    mac = hmac.new(key, ("v1\n%s\n%s\n%d" % (material, viewer, expires)).encode(), hashlib.sha256).digest()
    return "v1.%d.%s.%s" % (expires, viewer, base64.urlsafe_b64encode(mac).rstrip(b"=").decode())


# ---- the worker's processes --------------------------------------------------------------

def workers(parent_pid, material=None):
    """PIDs of `tinchi media-worker` processes whose parent is PARENT_PID (and
    whose command line or folder names MATERIAL)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/status" % d) as f:
                ppid = int(re.search(r"^PPid:\s*(\d+)", f.read(), re.M).group(1))
            try:
                cwd = os.readlink("/proc/%s/cwd" % d)
            except OSError:
                cwd = ""
        except (OSError, AttributeError):
            continue
        if "media-worker" in cmd and ppid == parent_pid and \
                (material is None or material in cmd or material in cwd):
            out.append(int(d))
    return out


SERVERS = []


def start_server(*args, **kw):
    s = Server(*args, **kw)
    SERVERS.append(s)
    return s


@atexit.register
def kill_servers():
    """Should the test stop half-way, no server outlives it."""
    for s in SERVERS:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
    shutil.rmtree(work, ignore_errors=True)


def stop_server(srv, what):
    code, log = srv.stop()
    t.eq(code, 0, "%s: SIGTERM stop exits 0" % what)
    t.ok(sanitizer_clean(log), "%s: no sanitizer report" % what, log[-3000:])
    return log


# ======================================================================================
# Server A: the ordinary life of lectures, with two jobs at a time
# ======================================================================================

data = os.path.join(work, "data-a")
lec_uid = setup_data(data)
srv = start_server("--password-cost", COST, "--media-jobs", "2", "--media-token-ttl", "60", data=data)
lec, learner, outsider, anon = (Client(srv, "100000000001"), Client(srv, "200000000001"),
                                Client(srv, "200000000002"), Client(srv))
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "MM101", "title": "Bài giảng video", "language": "vi", "credits": "2"})
assert st == 201, (st, j)
course = j["uid"]

# case 8: WebSockets of the lecturer and of a learner, read by threads for the whole run
class WsLog:
    """A signed-in WebSocket whose messages a thread collects (answering pings)."""

    def __init__(self, srv, cookie):
        self.hello, self.msgs, self.lock = {}, [], threading.Lock()
        self.ws = WebSocket(srv.port, headers={"Cookie": cookie}, timeout=None)
        threading.Thread(target=self.run, daemon=True).start()
        deadline = time.time() + 5
        while not self.hello and time.time() < deadline:
            time.sleep(0.05)

    def run(self):
        try:
            while True:
                op, d = self.ws.recv_message()
                if op != OP_TEXT:
                    break
                m = json.loads(d.decode("utf-8"))
                with self.lock:
                    if not self.hello and m.get("type") == "hello":
                        self.hello.update(m)
                    else:
                        self.msgs.append(m)
        except (OSError, ValueError, ConnectionError):
            pass

    def progress(self):
        with self.lock:
            return [m for m in self.msgs if m.get("type") == "media.progress"]

    def close(self):
        self.ws.close()


try:
    ws, lws = WsLog(srv, lec.cookie), WsLog(srv, learner.cookie)
    t.ok(ws.hello.get("type") == "hello" and ws.hello.get("person") == lec_uid,
         "the lecturer's WebSocket hello names the lecturer", (ws.hello, lec_uid))
except Exception as e:  # noqa: BLE001
    ws = lws = None
    t.ok(False, "the WebSockets connect with session cookies", repr(e))

UPLOADS = [  # name, kind, expected: "ready", "failed" or 415
    ("main.mp4", "video", "ready"),
    ("vonly.mp4", "video", "ready"),
    ("truncated.mp4", "video", "failed"),
    ("nomoov.mp4", "video", "failed"),
    ("zero.mp4", "video", "failed"),
    ("noise.mp4", "video", "failed"),
    ("playlist.mp4", "video", 415),
    ("concat.mp4", "video", 415),
    ("huge.mkv", "video", "failed"),
    ("huge-utvideo.mkv", "video", "failed"),
    ("audio.mp3", "audio", "ready"),
    ("audio.m4a", "audio", "ready"),
    ("rotated.mp4", "video", "ready"),
    ("vfr.mp4", "video", "ready"),
    ("tracks20.mkv", "video", "ready"),
    ("hevc.mp4", "video", "ready"),
    ("vp9.webm", "video", "ready"),
]
mat = {}          # file name -> material uid
upload_answer = {}
for name, kind, want in UPLOADS:
    if not os.path.exists(P(name)):
        continue
    st, h, j = upload(lec, course, kind, name)
    upload_answer[name] = (st, j)
    if st == 201:
        mat[name] = j["uid"]
    if want == 415:
        t.ok(st == 415 and healthy(srv), "%s (text) is refused at upload with 415; server up" % name,
             (st, j))
    else:
        t.ok(st == 201 and j.get("media") == "queued" and j.get("kind") == kind,
             "%s uploaded as %s: 201 with \"media\": \"queued\"" % (name, kind), (st, j))
t.diag("uploads done (%s)" % elapsed())

# while the jobs run: who may look at a job
st, h, j = media(lec, mat["main.mp4"])
t.ok(st == 200 and j["material"] == mat["main.mp4"] and j["kind"] == "video" and
     j["state"] in ("queued", "running", "ready") and isinstance(j["attempts"], int) and
     isinstance(j["renditions"], list) and isinstance(j["captions"], list),
     "GET .../media answers the lecturer with the job", j)
st, h, j = media(anon, mat["main.mp4"])
t.eq(st, 401, "GET .../media anonymously is 401")
st, h, j = media(learner, mat["main.mp4"])
t.eq(st, 404, "GET .../media by a learner not enrolled is 404")
st, h, d = lec.call("POST", "/api/v1/courses/%s/materials?kind=document&name=a.pdf" % course,
                    raw=b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
                    + b"%" * 2000, ctype="application/pdf")
pdf_uid = d["uid"] if st == 201 else None
t.ok(st == 201 and d.get("media") is None, "a document upload has no \"media\" state", d)
if pdf_uid:
    st, h, j = media(lec, pdf_uid)
    t.eq(st, 404, "GET .../media of a document is 404")
# a unit so the course can be published; a learner enrols
st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course,
                    {"kind": "video", "title": "Bài 1", "material": mat["main.mp4"]})
t.eq(st, 201, "a video unit holds the lecture")
st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
t.eq(st, 200, "the course is published")
st, h, j = learner.call("POST", "/api/v1/courses/%s/enrolment" % course)
t.ok(st in (200, 201), "the learner enrols", (st, j))

ended = {}


def note_end(uid, j):
    ended[uid] = healthy(srv)


order = [mat[n] for n, _, want in UPLOADS if n in mat]
final = wait_jobs(lec, order, jobs=2, on_end=note_end)
t.diag("all jobs ended (%s)" % elapsed())
by_name = {n: final.get(u) for n, u in mat.items()}
for n, _, want in UPLOADS:
    if n in mat and want in ("ready", "failed"):
        j = by_name[n]
        t.ok(isinstance(j, dict) and j.get("state") == want,
             "%s ends %s" % (n, want), jdump(j) + "\n--- server log ---\n" + srv.read_log()[-1500:])

# the worker ran as uid 65534 when the server is root: what it made is the server's again
if "main.mp4" in mat:
    pub = os.path.join(data, "media", mat["main.mp4"])
    owners = {os.lstat(os.path.join(d, x)).st_uid for d, ds, fs in os.walk(pub) for x in ds + fs}
    t.ok(os.path.isdir(pub) and owners == {os.geteuid()},
         "main.mp4: every published file belongs to the server's user", (pub, owners))

# ---- case 1: H.264 + AAC ---------------------------------------------------------------
j = by_name["main.mp4"]
r_orig, r360, raud = rendition(j, "original"), rendition(j, "360p"), rendition(j, "audio")
t.eq(names(j), ["original", "360p", "audio"], "main.mp4: renditions original, 360p, audio")
t.ok(r_orig and r_orig["copy"] is True and r_orig["width"] == 640 and r_orig["height"] == 360 and
     r_orig["codecs"].startswith("avc1.") and "mp4a.40" in r_orig["codecs"],
     "main.mp4: the original is a stream copy, 640x360, avc1 + mp4a", r_orig)
t.ok(r360 and r360["copy"] is False and r360["height"] == 360 and r360["codecs"].startswith("avc1.")
     and 150000 <= r360["average_bandwidth"] <= 900000,
     "main.mp4: 360p is an H.264 encode of about 400 kbit/s", r360)
t.ok(raud and raud["width"] == 0 and raud["height"] == 0 and raud["codecs"].startswith("mp4a.40") and
     30000 <= raud["average_bandwidth"] <= 130000, "main.mp4: audio is AAC of about 64 kbit/s", raud)
t.ok(all(r and abs(r["duration"] - 10) < 0.6 and r["segments"] in (2, 3) and r["bandwidth"] >= r["average_bandwidth"]
         for r in (r_orig, r360, raud)),
     "main.mp4: each rendition lasts ~10 s in 2-3 segments of ~6 s, peak >= average", j and j.get("renditions"))
info = (j or {}).get("info") or {}
t.ok(info.get("vcodec") == "h264" and info.get("acodec") == "aac" and info.get("width") == 640 and
     info.get("height") == 360 and abs(info.get("duration", 0) - 10) < 0.5 and
     abs(info.get("frame_rate", 0) - 30) < 0.5 and info.get("video_streams") == 1 and
     info.get("audio_streams") == 1 and info.get("rotation") == 0 and info.get("sample_rate") == 44100,
     "main.mp4: the probe says h264 640x360 30 fps + aac 44.1 kHz, 10 s", info)
t.ok(j and j.get("poster") is True and j.get("error") is None and j.get("percent") == 100 and
     j.get("started") and j.get("finished"), "main.mp4: poster, no error, 100 %, started and finished", j)
# a fresh answer: the token is made at the time of the request
asked = time.time()
_, _, jnow = media(lec, mat["main.mp4"])
stream = (jnow if isinstance(jnow, dict) else {}).get("stream") or {}
master_url = stream.get("master", "")
mt = re.match(r"^/media/%s/master\.m3u8\?t=(v1\.(\d+)\.([0-9a-f-]+)\.([A-Za-z0-9_-]{43}))$"
              % re.escape(mat["main.mp4"]), master_url)
t.ok(mt and stream.get("poster") == "/media/%s/poster.jpg?t=%s" % (mat["main.mp4"], mt.group(1)),
     "main.mp4: the stream has a signed master URL and poster URL", stream)
token = mt.group(1) if mt else "v1.0.-.x"
try:
    exp_iso = datetime.strptime(stream.get("expires", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    ahead = exp_iso.timestamp() - asked
except ValueError:
    ahead = None
t.ok(ahead is not None and 45 <= ahead <= 62 and mt and int(mt.group(2)) == int(exp_iso.timestamp()),
     "with --media-token-ttl 60 the URL expires ~60 s ahead, as the token says", (stream, ahead))
t.eq(mt.group(3) if mt else None, lec_uid, "the token names the lecturer as its viewer")

st, h, body = get(srv, master_url)
master = body.decode("utf-8", "replace")
t.ok(st == 200 and h.get("content-type") == "application/vnd.apple.mpegurl" and
     h.get("cache-control") == "private, no-cache",
     "the master playlist: application/vnd.apple.mpegurl, private, no-cache", (st, h))
vs = variants(master)
t.ok(master.startswith("#EXTM3U") and "#EXT-X-VERSION:7" in master and "#EXT-X-INDEPENDENT-SEGMENTS" in master
     and len(vs) >= 2 and all("?t=" + token in u for u in uris(master)) and
     "SUBTITLES" not in master, "the master: version 7, independent segments, signed URIs, no captions", master)
t.ok(all(a.get("BANDWIDTH") and a.get("CODECS") for a, u in vs) and
     any(a.get("RESOLUTION") == "640x360" for a, u in vs), "every variant has BANDWIDTH and CODECS", master)
code, out = hls_check("http://127.0.0.1:%d%s" % (srv.port, master_url))
if code == 77:
    skip("hls_check.mjs (strict hls-parser) accepts main.mp4", "hls-parser not installed")
else:
    t.ok(code == 0 and out.get("ok") and out.get("segments", 0) >= 6,
         "hls_check.mjs (strict hls-parser) accepts main.mp4 and fetches every segment", out)
# the access log says which viewer got which file, and how many bytes: the
# 360p segments are fetched here (hls_check.mjs may have been skipped), and
# each one fetched must have its line
def seg_lines_now():
    return [ln for ln in srv.read_log().splitlines()
            if "/media/%s/360p/seg_" % mat["main.mp4"] in ln and " 200 " in ln]


before = len(seg_lines_now())	# hls_check.mjs's, if it ran
v360 = [u for a, u in vs if a.get("RESOLUTION") == "640x360"]
v360_url = join("http://127.0.0.1:%d%s" % (srv.port, master_url), v360[0]) if v360 else None
fetched = 0
if v360_url:
    st, h, body = get(srv, v360_url)
    for u in uris(body.decode("utf-8", "replace")) if st == 200 else []:
        if "seg_" in u and get(srv, join(v360_url, u))[0] == 200:
            fetched += 1
seg_lines = []
for _ in range(50):	# the line is written once the last byte has left
    seg_lines = seg_lines_now()
    if len(seg_lines) >= before + fetched:
        break
    time.sleep(0.1)
t.ok(fetched > 0 and len(seg_lines) >= before + fetched and
     all(re.search(r" 200 [1-9][0-9]* [0-9]+us viewer=%s$" % lec_uid, ln) for ln in seg_lines),
     "the access log names the viewer of every segment sent, with its bytes", (fetched, seg_lines[:3]))
base = "http://127.0.0.1:%d" % srv.port
code, err = ffmpeg_decode(base + master_url)
t.ok(code == 0, "ffmpeg -xerror decodes every stream of the master playlist", err)
for a, u in vs:
    code, err = ffmpeg_decode(join(base + master_url, u))
    t.ok(code == 0, "ffmpeg -xerror decodes the variant %s" % u.split("?")[0], err)
# headers of a variant, its init section and a segment
for rname, init_type in (("360p", "video/mp4"), ("audio", "audio/mp4")):
    purl = "/media/%s/%s/index.m3u8?t=%s" % (mat["main.mp4"], rname, token)
    st, h, body = get(srv, purl)
    text = body.decode("utf-8", "replace")
    u = uris(text)
    t.ok(st == 200 and h.get("content-type") == "application/vnd.apple.mpegurl" and
         h.get("cache-control") == "private, no-cache" and "#EXT-X-PLAYLIST-TYPE:VOD" in text and
         "#EXT-X-ENDLIST" in text and '#EXT-X-MAP:URI="init.mp4?t=' + token + '"' in text and
         u and all(x.endswith("?t=" + token) for x in u),
         "%s/index.m3u8: a VOD playlist with every URI signed" % rname, (st, h, text[:800]))
    seg = [x for x in u if x.startswith("seg_")]
    st, h, body = get(srv, join(purl, seg[0]) if seg else purl)
    t.ok(seg and st == 200 and h.get("content-type") == "video/iso.segment" and
         h.get("cache-control") == "public, max-age=31536000, immutable" and b"moof" in body[:4096],
         "%s: a segment is video/iso.segment, immutable, with a moof box" % rname, (st, h, seg[:2]))
    whole = body
    if seg:
        # the rest of a segment a weak link lost, by range
        st, h, body = get(srv, join(purl, seg[0]), headers={"Range": "bytes=100-"})
        t.ok(st == 206 and body == whole[100:] and
             h.get("content-range") == "bytes 100-%d/%d" % (len(whole) - 1, len(whole)) and
             h.get("accept-ranges") == "bytes",
             "%s: the rest of a segment from byte 100 is 206 with Content-Range" % rname, (st, h))
        st, h, body = get(srv, join(purl, seg[0]), headers={"Range": "bytes=%d-" % len(whole)})
        t.ok(st == 416 and h.get("content-range") == "bytes */%d" % len(whole),
             "%s: a range past the end of a segment is 416" % rname, (st, h))
    st, h, body = get(srv, join(purl, "init.mp4?t=" + token))
    t.ok(st == 200 and h.get("content-type") == init_type and
         h.get("cache-control") == "public, max-age=31536000, immutable" and body[4:8] == b"ftyp" and
         b"moov" in body, "%s: init.mp4 is %s, immutable, ftyp + moov" % (rname, init_type), (st, h))
st, h, body = get(srv, stream.get("poster") or "/none")
t.ok(st == 200 and h.get("content-type") == "image/jpeg" and body[:3] == b"\xff\xd8\xff" and
     h.get("cache-control") == "public, max-age=31536000, immutable", "poster.jpg is a JPEG", (st, h))
for bad in ("seg_1.m4s", "../master.m3u8", "..%2Fmaster.m3u8", "%2e%2e/%2e%2e/keys/platform.secret",
            "foo/index.m3u8", "360p/seg_99999.m4s", "360p/seg_0000a.m4s", "360p/../../../keys/platform.secret",
            "original/index.m3u8x", "audio/init.mp4/x", "captions/vi.m3u8", "master.m3u8.tmp"):
    st, h, body = get(srv, "/media/%s/%s?t=%s" % (mat["main.mp4"], bad, token))
    t.ok(st in (400, 404) and b"EXTM3U" not in body and b"ftyp" not in body,
         "/media/UID/%s is not served (%d)" % (bad, st), body[:200])
st, h, j2 = lec.call("POST", "/api/v1/materials/%s/media/retry" % mat["main.mp4"])
t.eq(st, 409, "retry of a ready job is 409")

# ---- case 2: tokens --------------------------------------------------------------------
u_main, u_b = mat["main.mp4"], mat["vonly.mp4"]
_, s2 = fresh(lec, u_main)
master_url, token = s2.get("master", "/none"), token_of(s2.get("master", ""))
exp = int(token.split(".")[1]) if token.count(".") == 3 else 0
for path, what in (("/media/%s/master.m3u8" % u_main, "without a token"),
                   ("/media/%s/master.m3u8?t=" % u_main, "with an empty token"),
                   ("/media/%s/360p/seg_00000.m4s" % u_main, "a segment without a token")):
    st, h, body = get(srv, path)
    t.ok(st == 403 and "application/problem+json" in h.get("content-type", ""), "%s -> 403 problem+json" % what,
         (st, h, body[:200]))
mac = token.rsplit(".", 1)[-1]
tampered_mac = token[:-43] + mac[:10] + ("A" if mac[10] != "A" else "B") + mac[11:]
for tok, what in ((tampered_mac, "a changed character in the MAC"),
                  (token.replace("v1.%d." % exp, "v1.%d." % (exp + 3600), 1), "a later expiry"),
                  (token.replace(lec_uid, "-", 1), "another viewer"),
                  (token + "A", "one character more")):
    st, h, body = get(srv, "/media/%s/master.m3u8?t=%s" % (u_main, tok))
    t.ok(st == 403 and "application/problem+json" in h.get("content-type", ""),
         "a token with %s -> 403" % what, (st, body[:200]))
st, h, body = get(srv, "/media/%s/master.m3u8?t=%s" % (u_b, token))
t.eq(st, 403, "lecture A's token on lecture B's master -> 403")
st, h, body = get(srv, "/media/%s/360p/init.mp4?t=%s" % (u_b, token))
t.eq(st, 403, "lecture A's token on lecture B's init section -> 403")
key = media_key(data)
t.eq(make_token(key, u_main, lec_uid, exp), token,
     "the token is HMAC-SHA-256(HMAC-SHA-256(secret, \"tinchi media token v1\"), ...) as documented")
old = make_token(key, u_main, lec_uid, int(time.time()) - 5)
st, h, j2 = srv.json("GET", "/media/%s/master.m3u8?t=%s" % (u_main, old))
t.ok(st == 403 and isinstance(j2, dict) and "expired" in (j2.get("detail") or ""),
     "a correctly signed token that expired 5 s ago -> 403 saying it expired", (st, j2))
edge = make_token(key, u_main, "-", int(time.time()) + 300)
st, h, body = get(srv, "/media/%s/master.m3u8?t=%s" % (u_main, edge))
t.ok(st == 200 and b"#EXTM3U" in body and ("?t=" + edge).encode() in body,
     "a token made with the media key alone (no session, no database) -> 200, URIs carry it",
     (st, body[:300]))
st, h, body = get(srv, "/media/%s/audio/init.mp4?t=%s" % (u_main, edge))
t.eq(st, 200, "the same token opens the init section")
# learners
st, h, j2 = media(learner, u_main)
ls = (j2 or {}).get("stream") or {} if st == 200 else {}
t.ok(st == 200 and j2.get("state") == "ready" and ls.get("master", "").startswith("/media/%s/master.m3u8?t=" % u_main),
     "an enrolled learner of the published course gets a stream URL", (st, j2))
lt = ls.get("master", "").split("?t=")[-1]
t.ok(lt and lt != token and get(srv, ls.get("master", "/x"))[0] == 200,
     "the learner's own token plays", lt)
st, h, j2 = media(outsider, u_main)
t.eq(st, 404, "a learner who is not enrolled still gets 404")
st, h, j2 = media(anon, u_main)
t.eq(st, 401, "anonymous still gets 401")
st, h, j2 = learner.call("POST", "/api/v1/materials/%s/media/retry" % u_main)
t.ok(st in (403, 404), "a learner cannot retry jobs (%d)" % st, j2)

# ---- case 3: captions ----------------------------------------------------------------------
_, s2 = fresh(lec, u_main)
master_url, token = s2.get("master", "/none"), token_of(s2.get("master", ""))
VTT_VI = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:03.000\nXin chào các bạn\n\n00:00:03.500 --> 00:00:07.000 align:start\nHôm nay: con trỏ\n".encode()
VTT_EN = b"WEBVTT - English\n\n00:00:00.000 --> 00:00:04.000\nHello everyone\n\n00:04.000 --> 00:09.000\nToday: pointers\n"
VTT_VI2 = VTT_VI + "\n00:00:07.000 --> 00:00:09.500\nHết\n".encode()


def put_caption(lang, body, label=None, client=lec, uid=None):
    q = "?label=" + urllib.parse.quote(label) if label is not None else ""
    return client.call("PUT", "/api/v1/materials/%s/captions/%s%s" % (uid or u_main, lang, q), raw=body,
                       ctype="text/vtt")


st, h, j2 = put_caption("vi", VTT_VI, "Tiếng Việt")
t.ok(st == 201 and j2.get("lang") == "vi" and j2.get("label") == "Tiếng Việt" and j2.get("cues") == 2,
     "PUT captions vi (label Tiếng Việt) -> 201, 2 cues", (st, j2))
st, h, j2 = put_caption("en", VTT_EN, "English")
t.ok(st == 201 and j2.get("cues") == 2, "PUT captions en -> 201", (st, j2))
st, h, body = get(srv, master_url)
master = body.decode("utf-8", "replace")
subs = tags(master, "EXT-X-MEDIA")
t.ok(len([s for s in subs if s.get("TYPE") == "SUBTITLES"]) == 2 and
     {s.get("LANGUAGE") for s in subs} == {"vi", "en"} and
     {s.get("NAME") for s in subs} == {"Tiếng Việt", "English"} and
     all(s.get("GROUP-ID") == "subs" and s.get("URI", "").endswith("?t=" + token) for s in subs),
     "the master lists two SUBTITLES renditions in group subs, signed", master)
t.ok(variants(master) and all(a.get("SUBTITLES") == "subs" for a, u in variants(master)),
     "every variant references SUBTITLES=\"subs\"", master)
st, h, j2 = media(lec, u_main)
t.ok(sorted((c["lang"], c["label"], c["cues"], c["size"]) for c in (j2 or {}).get("captions", [])) ==
     sorted([("vi", "Tiếng Việt", 2, len(VTT_VI)), ("en", "English", 2, len(VTT_EN))]),
     "GET .../media lists both captions", j2)
code, out = hls_check(base + master_url)
if code == 77:
    skip("hls_check.mjs accepts the master with captions", "hls-parser not installed")
else:
    t.ok(code == 0 and len([r for r in out.get("renditions", []) if r["type"] == "SUBTITLES"]) == 2,
         "hls_check.mjs accepts the master with captions and fetches them", out)
vi_uri = [s["URI"] for s in subs if s.get("LANGUAGE") == "vi"]
vi_pl_url = join(base + master_url, vi_uri[0]) if vi_uri else base + "/none"
st, h, body = get(srv, vi_pl_url)
vi_pl = body.decode("utf-8", "replace")
vtt_uris = [u for u in uris(vi_pl) if ".vtt" in u]
t.ok(st == 200 and h.get("content-type") == "application/vnd.apple.mpegurl" and "#EXT-X-ENDLIST" in vi_pl and
     len(vtt_uris) == 1 and re.match(r"^vi-[0-9a-f]{8}\.vtt\?t=" + re.escape(token) + "$", vtt_uris[0]),
     "captions/vi.m3u8 names one signed vi-XXXXXXXX.vtt", (st, h, vi_pl))
old_vtt = join(vi_pl_url, vtt_uris[0]) if vtt_uris else base + "/none"
st, h, body = get(srv, old_vtt)
t.ok(st == 200 and h.get("content-type", "").startswith("text/vtt") and body == VTT_VI and
     h.get("cache-control") == "public, max-age=31536000, immutable", "the .vtt is served as text/vtt", (st, h))
st, h, j2 = put_caption("vi", VTT_VI2, "Tiếng Việt")
t.ok(st == 200 and j2.get("cues") == 3, "PUT captions vi again -> 200 (replaced), 3 cues", (st, j2))
st, h, body = get(srv, old_vtt)
t.eq(st, 404, "the old .vtt name is 404 once replaced")
st, h, body = get(srv, vi_pl_url)
new = [u for u in uris(body.decode("utf-8", "replace")) if ".vtt" in u]
st2, h2, body2 = get(srv, join(vi_pl_url, new[0])) if new else (0, {}, b"")
t.ok(new and new[0] != vtt_uris[0] and st2 == 200 and body2 == VTT_VI2, "the new .vtt is served", (new, st2))
st, h, j2 = put_caption("fr", "WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nà l'envers\n".encode(), "Français")
t.ok(st == 422 and "line" in (j2 or {}).get("detail", ""), "a cue ending before it starts -> 422 naming the line",
     (st, j2))
st, h, j2 = put_caption("fr", b"Not a WebVTT file\n", "Français")
t.ok(st == 422 and "line" in (j2 or {}).get("detail", ""), "a file without WEBVTT -> 422 naming the line", (st, j2))
st, h, j2 = put_caption("english!", VTT_EN, "English")
t.eq(st, 400, "language tag english! -> 400")
st, h, j2 = put_caption("de", VTT_EN, 'Deutsch "quoted"')
t.eq(st, 400, "a label with a quote -> 400")
st, h, j2 = put_caption("de", VTT_EN, "x" * 65)
t.eq(st, 400, "a label of 65 bytes -> 400")
st, h, j2 = put_caption("de", VTT_EN, "Deutsch", client=learner)
t.ok(st in (403, 404), "a learner cannot add captions (%d)" % st)
s_ = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
s_.sendall(("PUT /api/v1/materials/%s/captions/de HTTP/1.1\r\nHost: x\r\nCookie: %s\r\nX-CSRF-Token: %s\r\n"
            "Content-Type: text/vtt\r\nContent-Length: %d\r\n\r\n"
            % (u_main, lec.cookie, lec.csrf, 2 * 1024 * 1024 + 1)).encode())
answer = s_.recv(4096)
s_.close()
t.ok(answer.startswith(b"HTTP/1.1 413"), "captions over 2 MiB -> 413", answer[:100])
st, h, j2 = put_caption("vi", VTT_VI, "Tiếng Việt", uid=mat.get("audio.mp3", u_main))
t.eq(st, 409, "captions on an audio lecture -> 409")
st, h, d = lec.call("DELETE", "/api/v1/materials/%s/captions/en" % u_main)
t.eq(st, 204, "DELETE captions en -> 204")
st, h, d = lec.call("DELETE", "/api/v1/materials/%s/captions/en" % u_main)
t.eq(st, 404, "DELETE captions en again -> 404")
db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "tinchi.db"), uri=True)
rows = db.execute("SELECT a.event, a.detail, a.source FROM audit_events a JOIN people p"
                  " ON p.id = a.actor_person_id WHERE a.subject = ? AND p.uid = ?"
                  " AND a.event LIKE 'captions.%' ORDER BY a.id", (u_main, lec_uid)).fetchall()
db.close()
t.ok([(r[0], json.loads(r[1]).get("lang"), r[2]) for r in rows] ==
     [("captions.saved", "vi", "127.0.0.1"), ("captions.saved", "en", "127.0.0.1"),
      ("captions.saved", "vi", "127.0.0.1"), ("captions.deleted", "en", "127.0.0.1")],
     "each change of captions is audited with the lecturer, the language and the source", rows)
st, h, body = get(srv, master_url)
master = body.decode("utf-8", "replace")
subs = tags(master, "EXT-X-MEDIA")
t.ok(st == 200 and [s.get("LANGUAGE") for s in subs] == ["vi"], "the master now lists vi only", master)
st, h, body = get(srv, "/media/%s/captions/en.m3u8?t=%s" % (u_main, token))
t.eq(st, 404, "captions/en.m3u8 is 404 once deleted")
code, out = hls_check(base + master_url)
if code != 77:
    t.ok(code == 0, "hls_check.mjs still accepts the master", out)

# ---- case 4: broken and hostile files --------------------------------------------------
BAD = {
    "truncated.mp4": lambda e: "truncat" in e.lower() or "ends" in e.lower(),
    "nomoov.mp4": lambda e: "moov" in e.lower() or "truncat" in e.lower() or "incomplete" in e.lower(),
    "zero.mp4": lambda e: any(w in e.lower() for w in ("duration", "empty", "video", "audio", "stream", "content")),
    "noise.mp4": lambda e: True,
    "huge.mkv": lambda e: "100000" in e,
    "huge-utvideo.mkv": lambda e: "100000" in e,
}
for name, pred in BAD.items():
    if name not in mat:
        continue
    j = by_name[name]
    err = (j or {}).get("error")
    t.ok(j and j.get("state") == "failed" and human(err) and pred(err) and not j.get("stream") and
         not j.get("renditions"), "%s fails with a readable reason: %r" % (name, err), jdump(j))
    t.ok(ended.get(mat[name]) is True, "%s: the server answered /healthz after the job ended" % name)

# the worker itself, fed the text files on its standard input
strace = shutil.which("strace")


def run_worker(name, trace=None):
    out_dir = tempfile.mkdtemp(prefix="worker-", dir=work)
    cmd = [BIN, "media-worker", out_dir]
    if trace:
        cmd = [strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", trace] + cmd
    with open(P(name), "rb") as f:
        return subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


for name in ("playlist.mp4", "concat.mp4"):
    p = run_worker(name)
    lines = [x for x in p.stdout.decode("utf-8", "replace").splitlines() if x.strip()]
    try:
        lastj = json.loads(lines[-1])
    except (ValueError, IndexError):
        lastj = None
    t.ok(p.returncode != 0 and isinstance(lastj, dict) and lastj.get("ok") is False and human(lastj.get("error")),
         "media-worker refuses %s: exit %d, last line {\"ok\":false,...}" % (name, p.returncode),
         (lines[-3:], p.stderr.decode("utf-8", "replace")[-800:]))
    trace = os.path.join(work, "strace-" + name + ".log")
    if strace:
        run_worker(name, trace)
    tr = open(trace, errors="replace").read() if strace and os.path.exists(trace) else ""
    if "openat(" not in tr:     # no strace, or no ptrace in this container
        skip("media-worker never opens /etc/passwd for %s" % name, "strace unavailable")
    else:
        t.ok("/etc/passwd" not in tr, "media-worker never opens /etc/passwd for %s (strace)" % name,
             [x for x in tr.splitlines() if "passwd" in x][:5])

# ---- case 5: unusual but good ---------------------------------------------------------
for name in ("audio.mp3", "audio.m4a"):
    j = by_name.get(name)
    t.ok(j and j.get("state") == "ready" and names(j) == ["audio"] and j.get("poster") is False and
         j["stream"].get("poster") is None and (j.get("info") or {}).get("vcodec") in ("", None) and
         abs(rendition(j, "audio")["duration"] - 4) < 0.5,
         "%s: only an audio rendition of ~4 s, no poster" % name, jdump(j))
    _, s2 = fresh(lec, mat[name]) if name in mat else (None, {})
    if s2:
        code, out = hls_check(base + s2["master"])
        if code != 77:
            t.ok(code == 0, "%s: hls_check.mjs accepts it" % name, out)
        code, err = ffmpeg_decode(base + s2["master"])
        t.ok(code == 0, "%s: ffmpeg decodes it" % name, err)
j = by_name["vonly.mp4"]
t.ok(j and names(j) == ["original", "360p"] and rendition(j, "original")["copy"] is True and
     "mp4a" not in rendition(j, "original")["codecs"] and (j.get("info") or {}).get("audio_streams") == 0,
     "vonly.mp4: original (copy) and 360p, no audio rendition", jdump(j))
j = by_name["rotated.mp4"]
r = rendition(j, "360p")
t.ok(j and r and r["width"] < r["height"] and r["width"] == 360 and (j.get("info") or {}).get("rotation") in (90, 270),
     "rotated.mp4: the 360p rendition is portrait (360 wide), rotation %r" % (j.get("info") or {}).get("rotation"),
     jdump(j))
_, s2 = fresh(lec, mat["rotated.mp4"])
if s2:
    pl_url = base + "/media/%s/360p/index.m3u8?t=%s" % (mat["rotated.mp4"], token_of(s2["master"]))
    pj, perr = ffprobe_json(pl_url, "-show_streams", "-select_streams", "v")
    vs_ = (pj or {}).get("streams", [])
    t.ok(vs_ and vs_[0].get("width") == 360 and vs_[0].get("height") == 640,
         "rotated.mp4: ffprobe sees 360x640 frames in the 360p rendition", (vs_[:1], perr[-300:]))
    ref = gray_frame(P("rotated.mp4"))
    for rn in names(by_name["rotated.mp4"]):
        if rn == "audio":
            continue
        got = gray_frame(pl_url.replace("/360p/", "/%s/" % rn))
        # turned the wrong way, the picture would be the right one turned 180 degrees
        d_ok, d_wrong = (mad(got, ref), mad(got, ref[::-1])) if ref and got else (None, None)
        t.ok(d_ok is not None and d_ok < 15 and d_ok * 2 < d_wrong,
             "rotated.mp4: the %s rendition plays upright (difference %s, turned over %s)" % (rn, d_ok, d_wrong))
j = by_name["vfr.mp4"]
t.ok(j and j.get("state") == "ready" and "360p" in names(j) and abs(rendition(j, "360p")["duration"] - 6) < 0.6,
     "vfr.mp4: ready, 360p lasts ~6 s", jdump(j))
_, s2 = fresh(lec, mat["vfr.mp4"])
if s2:
    code, err = ffmpeg_decode(base + s2["master"])
    t.ok(code == 0, "vfr.mp4: ffmpeg decodes it", err)
j = by_name["tracks20.mkv"]
t.ok(j and j.get("state") == "ready" and names(j).count("audio") == 1 and
     (j.get("info") or {}).get("audio_streams") == 20 and str((j.get("info") or {}).get("container")).startswith("matroska"),
     "tracks20.mkv: ready, 20 audio streams probed, one audio rendition", jdump(j))
_, s2 = fresh(lec, mat["tracks20.mkv"])
if s2:
    tk = token_of(s2["master"])
    counts = {}
    for rn in names(j):
        pj, _ = ffprobe_json(base + "/media/%s/%s/index.m3u8?t=%s" % (mat["tracks20.mkv"], rn, tk), "-show_streams")
        counts[rn] = sum(s["codec_type"] == "audio" for s in (pj or {}).get("streams", []))
    t.ok(counts and all(c <= 1 for c in counts.values()) and counts.get("audio") == 1,
         "tracks20.mkv: no rendition has more than one audio stream", counts)
for name, vc in (("hevc.mp4", "hevc"), ("vp9.webm", "vp9")):
    if name not in FILES:
        skip("%s ends ready" % name, "ffmpeg has no encoder for it")
        continue
    j = by_name.get(name)
    r = rendition(j, "360p")
    ro = rendition(j, "original")
    extra = True
    if name == "hevc.mp4":   # 480 lines: an H.264 "original" encode, not a copy
        extra = ro is not None and ro["copy"] is False and ro["height"] == 480 and ro["codecs"].startswith("avc1.")
    else:                    # 360 lines: no "original" at all
        extra = ro is None
    t.ok(j and j.get("state") == "ready" and (j.get("info") or {}).get("vcodec") == vc and r and
         r["codecs"].startswith("avc1.") and not any(x["copy"] for x in j["renditions"]) and extra and
         "audio" in names(j), "%s: ready, nothing copied, 360p is H.264 (%s)" % (name, names(j)), jdump(j))
    _, s2 = fresh(lec, mat[name])
    if s2:
        code, err = ffmpeg_decode(base + s2["master"])
        t.ok(code == 0, "%s: ffmpeg decodes the output" % name, err)

# ---- case 8: the WebSocket told the lecturer -----------------------------------------------
time.sleep(0.5)
msgs = ws.progress() if ws else []


def progress_of(uid):
    return [m for m in msgs if m.get("material") == uid]


pm = progress_of(u_main)
t.ok(any(m["state"] == "running" and m["stage"] in ("probe", "package", "poster") for m in pm) and
     pm and pm[-1]["state"] == "ready" and pm[-1]["percent"] == 100 and pm[-1]["error"] is None,
     "WebSocket: main.mp4 sent running messages and ended with ready 100 %", pm[-5:] if pm else msgs[:5])
t.ok(all(a["percent"] <= b["percent"] for a, b in zip(pm, pm[1:]) if b["state"] == "running"),
     "WebSocket: the percent never goes back", [m["percent"] for m in pm])
pf = progress_of(mat.get("truncated.mp4"))
t.ok(pf and pf[-1]["state"] == "failed" and pf[-1]["error"] == by_name["truncated.mp4"].get("error"),
     "WebSocket: truncated.mp4 ended with failed and the same error", pf[-3:])
t.ok({m["material"] for m in msgs} <= set(mat.values()) and
     all(set(m) == {"type", "material", "state", "stage", "percent", "error"} for m in msgs),
     "WebSocket: every message is about this lecturer's lectures, with the documented fields",
     [m for m in msgs if set(m) != {"type", "material", "state", "stage", "percent", "error"}][:3])
# ---- case 9: deleting a lecture ------------------------------------------------------------
VTT_B = b"WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nlecture B only\n"
st, h, jc = put_caption("en", VTT_B, "English", uid=u_b)
cap_file = os.path.join(data, "content", hashlib.sha256(VTT_B).hexdigest()[:2], hashlib.sha256(VTT_B).hexdigest()[2:])
t.ok(st == 201 and jc.get("sha256") == hashlib.sha256(VTT_B).hexdigest() and os.path.exists(cap_file),
     "lecture B gets captions, stored in the content store", (st, jc))
_, s2 = fresh(lec, u_b)
b_master = s2.get("master", "/none")
b_seg = b_master.replace("master.m3u8", "360p/seg_00000.m4s")
t.eq(get(srv, b_master)[0], 200, "lecture B plays before it is deleted")
st, h, d = lec.call("DELETE", "/api/v1/materials/" + u_b)
t.eq(st, 204, "DELETE the lecture -> 204")
t.ok(not os.path.exists(cap_file), "its captions' file left the content store", cap_file)
t.eq(get(srv, b_master)[0], 404, "its master playlist is 404 afterwards (token still valid)")
t.eq(get(srv, b_seg)[0], 404, "its segments are 404 afterwards")
st, h, j2 = media(lec, u_b)
t.eq(st, 404, "GET .../media of the deleted lecture is 404")
deadline = time.time() + 10
while time.time() < deadline and os.path.exists(os.path.join(data, "media", u_b)):
    time.sleep(0.2)
t.ok(not os.path.exists(os.path.join(data, "media", u_b)), "its published folder is gone from the disk",
     os.listdir(os.path.join(data, "media")))
st, h, j2 = lec.call("DELETE", "/api/v1/materials/" + u_main)
t.eq(st, 409, "a lecture a unit uses cannot be deleted")
t.eq(get(srv, fresh(lec, u_main)[1].get("master", "/none"))[0], 200, "and it still plays")

# no messages to a learner who uploaded nothing
if lws:
    t.ok(lws.hello.get("person") and lws.hello.get("person") != lec_uid and lws.progress() == [] and
         len(msgs) >= 2 * len(mat),
         "WebSocket: the learner, connected all along, got none of the %d media.progress messages" % len(msgs),
         (lws.hello, lws.progress()[:3]))
    lws.close()
if ws:
    ws.close()
t.ok(healthy(srv), "server A still answers /healthz")
log_a = stop_server(srv, "server A")
t.ok("Segmentation fault" not in log_a and "core dumped" not in log_a, "server A: no crash in its log")
t.diag("server A done (%s)" % elapsed())

# ======================================================================================
# Server B: a worker killed by SIGSEGV, retry, a restart during a job, a time limit
# ======================================================================================

data = os.path.join(work, "data-b")
setup_data(data)
# under AddressSanitizer the worker's own SIGSEGV handler would catch the kill
# and exit 1 with a report: let the signal kill it, as in a plain build
ASAN_ENV = {"ASAN_OPTIONS": ":".join(x for x in (os.environ.get("ASAN_OPTIONS", ""), "handle_segv=0") if x)}
srv = start_server("--password-cost", COST, "--media-jobs", "2", data=data, env=ASAN_ENV)
lec = Client(srv, "100000000001")
st, h, j = lec.call("POST", "/api/v1/institutions/VNU/courses",
                    {"code": "MM102", "title": "Bài giảng dài", "language": "vi", "credits": "2"})
course = j["uid"]
long_body = open(P("long.mp4"), "rb").read()
crash = upload(lec, course, "video", "long-a.mp4", long_body)[2]["uid"]
resume = upload(lec, course, "video", "long-b.mp4", long_body)[2]["uid"]
# both running, each in its own worker, and past its start
deadline = time.time() + 30
pids = {}
while time.time() < deadline and not (pids.get(crash) and pids.get(resume)):
    for u in (crash, resume):
        j = media(lec, u)[2]
        pids[u] = workers(srv.proc.pid, u) if j.get("state") == "running" and j.get("percent", 0) > 0 else []
    time.sleep(0.1)
t.ok(len(pids.get(crash) or []) == 1 and len(pids.get(resume) or []) == 1,
     "two media-worker processes run, children of the server, one per lecture", pids)
if pids.get(crash):
    with open("/proc/%d/status" % pids[crash][0]) as f:
        status = f.read()
    t.ok(re.search(r"^PPid:\s*%d$" % srv.proc.pid, status, re.M) and
         os.getpgid(pids[crash][0]) != os.getpgid(srv.proc.pid),
         "the worker is in its own process group", status[:300])
    try:
        with open("/proc/%d/limits" % pids[crash][0]) as f:
            limits = f.read()
    except OSError:
        limits = ""
    t.ok(re.search(r"^Max core file size\s+0\s+0", limits, re.M) and
         re.search(r"^Max cpu time\s+\d+", limits, re.M) and re.search(r"^Max file size\s+\d+", limits, re.M),
         "the worker runs under rlimits (core 0, CPU time, file size)", limits)
    # confined (media_worker.c): no new privileges; as uid/gid 65534 under a root server
    ids = [re.search(r"^%s:\s*(\d+)\s+(\d+)\s+(\d+)" % k, status, re.M) for k in ("Uid", "Gid")]
    t.ok(re.search(r"^NoNewPrivs:\s*1$", status, re.M) and
         (os.geteuid() != 0 or all(m and set(m.groups()) == {"65534"} for m in ids)),
         "the worker runs with no_new_privs%s" % (", as uid and gid 65534" if os.geteuid() == 0 else ""),
         status[:700])
    try:
        nets = [os.readlink("/proc/%d/ns/net" % p) for p in (pids[crash][0], srv.proc.pid)]
    except OSError:
        nets = [None, None]
    can_unshare = subprocess.run(["unshare", "--net", "true"] if os.geteuid() == 0 else
                                 ["unshare", "--user", "--net", "true"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0 \
        if shutil.which("unshare") else False
    if nets[0] and nets[0] == nets[1] and not can_unshare:
        skip("the worker has a network namespace of its own", "this machine makes none")
    else:
        t.ok(nets[0] and nets[1] and nets[0] != nets[1], "the worker has a network namespace of its own",
             nets)
    os.kill(pids[crash][0], signal.SIGSEGV)
jc = wait_jobs(lec, [crash], per_job=20)[crash]
err = (jc or {}).get("error") or ""
t.ok(jc and jc.get("state") == "failed" and "crash" in err.lower() and ("signal 11" in err or "SIGSEGV" in err),
     "a worker killed by SIGSEGV fails the job: %r" % err, jdump(jc))
t.ok(healthy(srv), "the server is still up after the worker's crash")
st, h, jr = media(lec, resume)
t.ok(st == 200 and jr.get("state") == "running" and jr.get("percent", 0) < 100,
     "the other job is still running (%s %%)" % (jr or {}).get("percent"), jr)
time.sleep(1.5)      # into its work
st, h, jr = media(lec, resume)
t.ok(jr.get("state") == "running", "the long job is running when SIGTERM comes (%s %%, stage %s)"
     % (jr.get("percent"), jr.get("stage")), jr)
left = workers(srv.proc.pid)
stop_server(srv, "server B1 (a job running)")
time.sleep(0.5)
t.ok(left and not [p for p in left if alive(p)], "no media-worker is left once the server stopped", left)

srv = start_server("--password-cost", COST, "--media-jobs", "2", data=data)
lec = Client(srv, "100000000001")
st, h, jr = media(lec, resume)
t.ok(st == 200 and jr.get("state") in ("queued", "running"),
     "after the restart the interrupted job is queued or running again", jr)
st, h, jc = media(lec, crash)
t.ok(jc.get("state") == "failed" and jc.get("error") == err, "the crashed job is still failed after the restart", jc)
st, h, j2 = lec.call("POST", "/api/v1/materials/%s/media/retry" % crash)
t.ok(st == 202 and j2.get("state") == "queued", "retry of the failed job -> 202 queued", (st, j2))
st, h, j2 = lec.call("POST", "/api/v1/materials/%s/media/retry" % crash)
t.eq(st, 409, "retry again while it waits or runs -> 409")
fin = wait_jobs(lec, [resume, crash], per_job=90)
t.ok(fin[resume].get("state") == "ready" and names(fin[resume]) == ["original", "360p", "audio"],
     "the interrupted job resumed after the restart and ended ready", jdump(fin[resume]))
t.ok(fin[crash].get("state") == "ready" and fin[crash].get("error") is None,
     "the retried job ended ready (attempt %s)" % fin[crash].get("attempts"), jdump(fin[crash]))
if fin[resume].get("stream"):
    code, out = hls_check("http://127.0.0.1:%d" % srv.port + fresh(lec, resume)[1].get("master", "/none"))
    if code != 77:
        t.ok(code == 0, "hls_check.mjs accepts the resumed job's output", out)
# a lecture deleted while its job runs: the job stops, nothing is published
gone = upload(lec, course, "video", "long-d.mp4", long_body)[2]["uid"]
deadline = time.time() + 30
wpids = []
while time.time() < deadline and not wpids:
    j = media(lec, gone)[2]
    wpids = workers(srv.proc.pid, gone) if j.get("state") == "running" and j.get("percent", 0) > 0 else []
    time.sleep(0.1)
st, h, d = lec.call("DELETE", "/api/v1/materials/" + gone)
t.ok(wpids and st == 204, "a lecture is deleted while its job runs -> 204", (wpids, st))
tmp_dir = os.path.join(data, "media", ".tmp")
deadline = time.time() + 15
while time.time() < deadline and ([p for p in wpids if alive(p)] or os.listdir(tmp_dir)):
    time.sleep(0.2)
t.ok(wpids and not [p for p in wpids if alive(p)], "its worker is stopped", wpids)
time.sleep(1)
t.ok(not os.path.exists(os.path.join(data, "media", gone)) and media(lec, gone)[0] == 404 and healthy(srv),
     "nothing of it is published, GET .../media is 404, the server is up", os.listdir(os.path.join(data, "media")))
t.eq(sorted(os.listdir(tmp_dir)), [], "no job folder is left in media/.tmp")
# the thread whose job was deleted goes on with the next jobs (it once kept
# its cancel flag and killed every later worker at once, for ever)
log_before = srv.read_log().count("it will run again")
nexts = [upload(lec, course, "video", "after-%d.mp4" % i, fast)[2]["uid"] for i in range(3)]
fin = wait_jobs(lec, nexts, per_job=60)
t.ok(all(fin[u].get("state") == "ready" for u in nexts) and
     srv.read_log().count("it will run again") == log_before,
     "after a deleted job, the next three jobs run to ready without being stopped",
     [(fin[u].get("state"), fin[u].get("error")) for u in nexts])
stop_server(srv, "server B2")

srv = start_server("--password-cost", COST, "--media-jobs", "1", "--media-timeout", "2", data=data)
lec = Client(srv, "100000000001")
slow = upload(lec, course, "video", "long-c.mp4", long_body)[2]["uid"]
t0 = time.time()
js = wait_jobs(lec, [slow], per_job=30)[slow]
err = (js or {}).get("error") or ""
t.ok(js and js.get("state") == "failed" and re.search(r"longer than|time limit|timed out|took too long", err)
     and re.search(r"\b2 ?s\b|\b2 seconds", err) and time.time() - t0 < 20,
     "with --media-timeout 2 a long job fails in time, saying so: %r" % err, jdump(js))
t.ok(workers(srv.proc.pid) == [] and healthy(srv), "its worker is gone and the server is up")
stop_server(srv, "server B3")

t.diag("total %s" % elapsed())
t.done()
