#!/usr/bin/env python3
"""media.py - the server half of scripts/bench/media.sh.

    media.py serve BASE FILE --national-id NID --password PW
        [--duration S] [--rate N]

Against a running `tinchi serve` (one media job thread) with a lecturer
NID: signs in, creates a course, uploads FILE as a video material (one
POST, the body streamed from the file), waits until its media job is
running, then measures the latency of other requests while the job runs:
one keep-alive connection, requests paced at RATE a second for DURATION
seconds, cycling through GET /api/v1/courses (the catalog), GET /healthz
and GET /api/v1/materials/{uid}/media (what a lecturer's page polls), each
timed with time.perf_counter. Waits for the job to be ready, measures the
same mix again with no job running (the reference), and finally finds a
360p segment through the signed master playlist.

Prints `key value...` lines for the shell:
    upload SECONDS BYTES
    during N P50 P90 P99 MAX ERRORS RUNNING_ALL   (ms; RUNNING_ALL 1 when every
    idle N P50 P90 P99 MAX ERRORS                   media answer said running)
    job SECONDS        (first seen running -> first seen ready, polled 4 times a second)
    material UID
    segment URL_PATH_WITH_TOKEN FILE_NAME
"""
import argparse
import http.client
import json
import os
import re
import sys
import time
import urllib.parse


def die(msg):
    print("media.py: " + msg, file=sys.stderr)
    sys.exit(1)


class Conn:
    """One keep-alive HTTP/1.1 connection with a session cookie."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.cookie = self.csrf = None
        self.c = None

    def _conn(self):
        if self.c is None:
            self.c = http.client.HTTPConnection(self.host, self.port, timeout=120)
        return self.c

    def call(self, method, path, body=None, ctype="application/json", length=None):
        h = {}
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        if body is not None:
            h["Content-Type"] = ctype
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
        if length is not None:
            h["Content-Length"] = str(length)
        for attempt in (0, 1):
            c = self._conn()
            try:
                c.request(method, path, body=body, headers=h)
                r = c.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, OSError):
                c.close()
                self.c = None
                if attempt or hasattr(body, "read"):
                    raise
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        j = None
        if "json" in hdrs.get("content-type", ""):
            try:
                j = json.loads(data)
            except ValueError:
                pass
        return r.status, hdrs, j if j is not None else data


def pct(sorted_ms, p):
    if not sorted_ms:
        return 0.0
    k = min(len(sorted_ms) - 1, max(0, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def measure(conn, paths, duration, rate):
    """Paced requests over PATHS in turn: (latencies in ms, errors, media states seen)."""
    lat, errors, states = [], 0, set()
    step = 1.0 / rate
    t0 = time.perf_counter()
    n = 0
    while True:
        due = t0 + n * step
        now = time.perf_counter()
        if due - t0 >= duration:
            break
        if due > now:
            time.sleep(due - now)
        path = paths[n % len(paths)]
        a = time.perf_counter()
        try:
            st, h, j = conn.call("GET", path)
        except (http.client.HTTPException, OSError):
            st, j = 0, None
        b = time.perf_counter()
        lat.append((b - a) * 1000.0)
        if st != 200:
            errors += 1
        if "/media" in path and isinstance(j, dict):
            states.add(j.get("state"))
        n += 1
    return sorted(lat), errors, states


def line(name, lat, errors, extra=""):
    print("%s %d %.2f %.2f %.2f %.2f %d%s" % (name, len(lat), pct(lat, 50), pct(lat, 90),
                                              pct(lat, 99), lat[-1] if lat else 0, errors, extra))


def serve(a):
    lec = Conn(a.base)
    st, h, j = lec.call("POST", "/api/v1/session", {"national_id": a.national_id,
                                                    "password": a.password})
    if st != 200:
        die("sign-in: %s %r" % (st, j))
    lec.cookie = re.match(r"([^=]+=[^;]+)", h["set-cookie"]).group(1)
    lec.csrf = j["csrf_token"]
    st, h, j = lec.call("POST", "/api/v1/institutions/%s/courses" % a.institution,
                        {"code": "MEDIA1", "title": "Bài giảng dài", "language": "vi",
                         "credits": "2"})
    if st != 201:
        die("course: %s %r" % (st, j))
    course = j["uid"]

    size = os.path.getsize(a.file)
    t = time.perf_counter()
    with open(a.file, "rb") as f:
        st, h, j = lec.call("POST", "/api/v1/courses/%s/materials?kind=video&name=lecture.mp4"
                            % course, body=f, ctype="application/octet-stream", length=size)
    up = time.perf_counter() - t
    if st != 201:
        die("upload: %s %r" % (st, j))
    mat = j["uid"]
    print("upload %.2f %d" % (up, size))
    print("material %s" % mat)
    sys.stdout.flush()

    media = "/api/v1/materials/%s/media" % mat
    paths = ["/api/v1/courses", "/healthz", media]
    deadline = time.time() + 120
    while True:
        st, h, j = lec.call("GET", media)
        state = j.get("state") if isinstance(j, dict) else None
        if state == "running":
            break
        if state in ("ready", "failed") or time.time() > deadline:
            die("the job did not start running: %s %r" % (st, j))
        time.sleep(0.1)
    t_run = time.perf_counter()

    lat, errors, states = measure(lec, paths, a.duration, a.rate)
    line("during", lat, errors, " %d" % (states == {"running"}))
    sys.stdout.flush()

    deadline = time.time() + a.job_timeout
    while True:
        st, h, j = lec.call("GET", media)
        state = j.get("state") if isinstance(j, dict) else None
        if state == "ready":
            break
        if state == "failed" or time.time() > deadline:
            die("the job did not end ready: %s %r" % (st, j))
        time.sleep(0.25)
    print("job %.1f" % (time.perf_counter() - t_run))
    sys.stdout.flush()

    lat, errors, states = measure(lec, paths, a.duration, a.rate)
    line("idle", lat, errors)

    st, h, j = lec.call("GET", media)
    master = ((j or {}).get("stream") or {}).get("master") if isinstance(j, dict) else None
    if not master:
        die("no stream URL: %r" % (j,))
    st, h, text = lec.call("GET", master)
    if st != 200:
        die("master playlist: %s" % st)
    text = text.decode() if isinstance(text, bytes) else text
    uri = next((x for x in text.splitlines() if x and not x.startswith("#") and "360p/" in x),
               None)
    if not uri:
        die("no 360p variant in the master playlist:\n" + text)
    pl = urllib.parse.urljoin(master, uri)
    st, h, text = lec.call("GET", pl)
    text = text.decode() if isinstance(text, bytes) else text
    segs = [x for x in text.splitlines() if x and not x.startswith("#")]
    if st != 200 or not segs:
        die("360p playlist: %s" % st)
    seg = urllib.parse.urljoin(pl, segs[len(segs) // 2])
    st, h, body = lec.call("GET", seg)
    if st != 200 or not body:
        die("segment %s: %s" % (seg, st))
    name = urllib.parse.urlsplit(seg).path.rsplit("/", 1)[1]
    print("segment %s %s %d" % (seg, name, len(body)))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("base")
    s.add_argument("file")
    s.add_argument("--national-id", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--institution", default="BENCH")
    s.add_argument("--duration", type=float, default=20)
    s.add_argument("--rate", type=float, default=50)
    s.add_argument("--job-timeout", type=float, default=900)
    a = ap.parse_args()
    if a.cmd == "serve":
        serve(a)


if __name__ == "__main__":
    main()
