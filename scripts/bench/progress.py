#!/usr/bin/env python3
"""progress.py - the client half of scripts/bench/progress.sh.

    progress.py setup BASE --institution CODE --lecturer NID --password PW
        --codes FILE --video FILE --out DIR [--threads T]
    progress.py ws BASE --sessions FILE --unit UID --pid PID
        [--duration S] [--interval S] [--ramp N]
    progress.py check BASE --sessions FILE --unit UID --spans FILE [--sample N]
    progress.py admin-key BASE --institution CODE --national-id NID --password PW
    progress.py xapi BASE --key K --secret S [--statements N] [--batch B] [--threads T]
    progress.py xapi-ref DB [--statements N] [--batch B]

setup: as the lecturer (signed in with NID/PW) creates a course with one
video unit holding FILE, waits until its media job is ready, publishes the
course; then for every learner in the activation-code CSV FILE printed by
`tinchi import learners` (national_id,student_code,code rows): activates the
account with a password, signs in and enrols (T threads, one keep-alive
connection each). Writes DIR/sessions (cookie per line) and DIR/unit.

ws: opens one WebSocket (subprotocol tinchi.v1) per session, RAMP a second,
each signed in by its cookie; reads the server's RSS (/proc/PID/status)
before and after; then every connection sends a progress heartbeat every
INTERVAL seconds (random phase) for DURATION seconds, each covering the
next INTERVAL seconds of the lecture ("from" = previous "to"), and times
the ack (send -> ack with the same seq). Once per connection, halfway
between two heartbeats, it sends {"type":"ping"} too: the round trip of a
message that touches no database, under the same load (the reference).
After the last heartbeat it waits up to 15 s for missing acks. Writes the
spans each session sent (for check) and prints key/value lines.

check: for SAMPLE sessions, GET /api/v1/units/{uid}/progress and compare
the watched ranges with the spans that session's connection sent (all of
them acknowledged): equal = nothing lost, nothing counted twice.

xapi: POSTs N generated statements in batches of B to /xapi/statements
(HTTP Basic K:S, X-Experience-API-Version 2.0.0) from T threads, one
keep-alive connection each; prints the rate. xapi-ref: the same statements
inserted in batches of B (one transaction each, synchronous=FULL, WAL) into
a plain SQLite table (id primary key, json) with Python's sqlite3: the
floor of durable storage on this disk.
"""
import argparse
import asyncio
import base64
import csv
import http.client
import json
import os
import random
import re
import sqlite3
import struct
import sys
import threading
import time
import urllib.parse
import uuid


def die(msg):
    print("progress.py: " + msg, file=sys.stderr)
    sys.exit(1)


class Conn:
    """One keep-alive HTTP/1.1 connection, with a session cookie once signed in."""

    def __init__(self, base, auth=None):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.cookie = self.csrf = None
        self.auth = auth
        self.c = None

    def call(self, method, path, body=None, ctype="application/json", length=None, headers=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        if self.auth:
            h["Authorization"] = self.auth
        if body is not None:
            h["Content-Type"] = ctype
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
        if length is not None:
            h["Content-Length"] = str(length)
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, OSError):
                self.c.close()
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

    def sign_in(self, nid, password):
        st, h, j = self.call("POST", "/api/v1/session", {"national_id": nid, "password": password})
        if st != 200:
            die("sign-in of %s: %s %r" % (nid, st, j))
        self.cookie = re.match(r"([^=]+=[^;]+)", h["set-cookie"]).group(1)
        self.csrf = j["csrf_token"]


def pct(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    k = min(len(sorted_ms) - 1, max(0, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


# ------------------------------------------------------------------ setup

def setup(a):
    lec = Conn(a.base)
    lec.sign_in(a.lecturer, a.password)
    st, h, j = lec.call("POST", "/api/v1/institutions/%s/courses" % a.institution,
                        {"code": "PROG1", "title": "Nhập môn lập trình", "language": "vi",
                         "credits": "3"})
    if st != 201:
        die("course: %s %r" % (st, j))
    course = j["uid"]
    size = os.path.getsize(a.video)
    with open(a.video, "rb") as f:
        st, h, j = lec.call("POST", "/api/v1/courses/%s/materials?kind=video&name=bai1.mp4"
                            % course, body=f, ctype="application/octet-stream", length=size)
    if st != 201:
        die("upload: %s %r" % (st, j))
    mat = j["uid"]
    deadline = time.time() + 300
    while True:
        st, h, j = lec.call("GET", "/api/v1/materials/%s/media" % mat)
        if st == 200 and j.get("state") == "ready":
            break
        if st != 200 or j.get("state") == "failed" or time.time() > deadline:
            die("media job: %s %r" % (st, j))
        time.sleep(0.25)
    st, h, j = lec.call("POST", "/api/v1/courses/%s/units" % course,
                        {"kind": "video", "title": "Bài 1", "material": mat})
    if st != 201:
        die("unit: %s %r" % (st, j))
    unit = j["uid"]
    st, h, j = lec.call("POST", "/api/v1/courses/%s/status" % course, {"status": "published"})
    if st != 200:
        die("publish: %s %r" % (st, j))

    with open(a.codes, newline="", encoding="utf-8") as f:
        rows = [{"national_id": r[0], "code": r[2]} for r in csv.reader(f)
                if len(r) == 3 and r[0] != "national_id"]
    if not rows:
        die("%s: no activation codes" % a.codes)
    sessions = [None] * len(rows)
    errors = []

    def work(k):
        c = Conn(a.base)
        for i in range(k, len(rows), a.threads):
            nid, code = rows[i]["national_id"], rows[i]["code"]
            pw = "learner-password-" + nid
            st, h, j = c.call("POST", "/api/v1/activate",
                              {"national_id": nid, "code": code, "password": pw})
            if st != 200:
                errors.append("activate %s: %s %r" % (nid, st, j))
                return
            c.cookie = c.csrf = None
            c.sign_in(nid, pw)
            st, h, j = c.call("POST", "/api/v1/courses/%s/enrolment" % course)
            if st not in (200, 201):
                errors.append("enrol %s: %s %r" % (nid, st, j))
                return
            sessions[i] = c.cookie
            c.cookie = c.csrf = None

    t = time.perf_counter()
    th = [threading.Thread(target=work, args=(k,)) for k in range(a.threads)]
    for x in th:
        x.start()
    for x in th:
        x.join()
    if errors:
        die(errors[0])
    with open(os.path.join(a.out, "sessions"), "w") as f:
        f.write("\n".join(sessions) + "\n")
    with open(os.path.join(a.out, "unit"), "w") as f:
        f.write(unit + "\n")
    print("learners %d %.1f" % (len(rows), time.perf_counter() - t))


# ------------------------------------------------------------------ WebSocket load

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def frame(text):
    payload = text.encode()
    n = len(payload)
    mask = os.urandom(4)
    if n < 126:
        head = struct.pack("!BB", 0x81, 0x80 | n)
    else:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return head + mask + masked


class WsConn:
    def __init__(self, idx, cookie):
        self.idx = idx
        self.cookie = cookie
        self.reader = self.writer = None
        self.pending = {}	# seq -> send time
        self.lat = []
        self.ping_lat = []
        self.ping_sent = None
        self.spans = []
        self.acked = 0
        self.sent = 0
        self.errors = []
        self.closed = None

    async def open(self, host, port):
        self.reader, self.writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        self.writer.write(("GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Protocol: tinchi.v1\r\n"
                           "Cookie: %s\r\n\r\n" % (host, port, key, self.cookie)).encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError("handshake: %r" % head[:80])
        hello = json.loads(await self.read_text())
        if hello.get("type") != "hello" or hello.get("auth") != "session":
            raise RuntimeError("hello: %r" % hello)

    async def read_text(self):
        while True:
            h = await self.reader.readexactly(2)
            op, n = h[0] & 0x0f, h[1] & 0x7f
            if n == 126:
                n = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            data = await self.reader.readexactly(n)
            if op == 1:
                return data
            if op == 9:	# ping -> pong
                mask = os.urandom(4)
                self.writer.write(struct.pack("!BB", 0x8a, 0x80 | len(data)) + mask +
                                  bytes(b ^ mask[i & 3] for i, b in enumerate(data)))
            elif op == 8:
                raise ConnectionError("closed by the server: %r" % data[2:])

    async def receive(self):
        try:
            while True:
                m = json.loads(await self.read_text())
                now = time.perf_counter()
                t = m.get("type")
                if t == "ack":
                    sent = self.pending.pop(m.get("seq"), None)
                    if sent is not None:
                        self.lat.append((now - sent) * 1000.0)
                        self.acked += 1
                elif t == "pong":
                    if self.ping_sent is not None:
                        self.ping_lat.append((now - self.ping_sent) * 1000.0)
                        self.ping_sent = None
                elif t == "error":
                    self.errors.append(m)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as e:
            self.closed = str(e) or type(e).__name__

    async def run(self, unit, interval, rounds, start):
        seq = 0
        pos = 0.0
        phase = random.random() * interval
        await asyncio.sleep(max(0.0, start + phase - time.perf_counter()))
        for r in range(rounds):
            if self.closed:
                return
            seq += 1
            msg = {"type": "progress", "seq": seq, "unit": unit, "event": "heartbeat",
                   "position": pos + interval, "from": pos, "to": pos + interval,
                   "at": int(time.time() * 1000)}
            self.spans.append((pos, pos + interval))
            pos += interval
            self.pending[seq] = time.perf_counter()
            self.writer.write(frame(json.dumps(msg)))
            self.sent += 1
            if r == rounds // 2:
                await asyncio.sleep(interval / 2)
                self.ping_sent = time.perf_counter()
                self.writer.write(frame(json.dumps({"type": "ping", "id": seq})))
                await asyncio.sleep(interval / 2)
            else:
                await asyncio.sleep(start + phase + (r + 1) * interval - time.perf_counter())


async def ws_load(a):
    u = urllib.parse.urlsplit(a.base)
    with open(a.sessions) as f:
        cookies = [line.strip() for line in f if line.strip()]
    unit = a.unit
    rss0 = rss_kib(a.pid)
    conns = [WsConn(i, c) for i, c in enumerate(cookies)]
    t0 = time.perf_counter()
    failed = 0
    batch = max(1, a.ramp // 10)
    for i in range(0, len(conns), batch):
        res = await asyncio.gather(*(c.open(u.hostname, u.port) for c in conns[i:i + batch]),
                                   return_exceptions=True)
        for c, r in zip(conns[i:i + batch], res):
            if isinstance(r, Exception):
                failed += 1
                c.closed = "open: %s" % r
        await asyncio.sleep(max(0.0, t0 + (i + batch) / a.ramp - time.perf_counter()))
    opened = sum(1 for c in conns if not c.closed)
    print("connected %d %d %.1f" % (opened, failed, time.perf_counter() - t0))
    sys.stdout.flush()
    await asyncio.sleep(2)
    rss1 = rss_kib(a.pid)
    live = [c for c in conns if not c.closed]
    readers = [asyncio.ensure_future(c.receive()) for c in live]
    rounds = max(1, int(a.duration / a.interval))
    start = time.perf_counter() + 1.0
    await asyncio.gather(*(c.run(unit, a.interval, rounds, start) for c in live))
    rss2 = rss_kib(a.pid)
    deadline = time.perf_counter() + 15
    while time.perf_counter() < deadline and any(c.pending and not c.closed for c in live):
        await asyncio.sleep(0.2)
    for c in live:
        c.writer.close()
    for r in readers:
        r.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    lat = sorted(x for c in live for x in c.lat)
    plat = sorted(x for c in live for x in c.ping_lat)
    sent = sum(c.sent for c in live)
    acked = sum(c.acked for c in live)
    errors = sum(len(c.errors) for c in live)
    closed = sum(1 for c in live if c.closed)
    print("rss %d %d %d" % (rss0, rss1, rss2))
    print("messages %d %d %d %d" % (sent, acked, errors, closed))
    print("ack %d %.2f %.2f %.2f %.2f" % (len(lat), pct(lat, 50), pct(lat, 95), pct(lat, 99),
                                          lat[-1] if lat else float("nan")))
    print("ping %d %.2f %.2f %.2f %.2f" % (len(plat), pct(plat, 50), pct(plat, 95),
                                           pct(plat, 99), plat[-1] if plat else float("nan")))
    for c in live:
        if c.errors:
            print("error-sample %s" % json.dumps(c.errors[0]))
            break
    with open(a.spans, "w") as f:
        for c in live:
            if not c.pending and not c.closed:
                f.write("%d %s\n" % (c.idx, json.dumps(c.spans)))


def ws(a):
    asyncio.run(ws_load(a))


def merge(spans):
    out = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def check(a):
    with open(a.sessions) as f:
        cookies = [line.strip() for line in f if line.strip()]
    rows = []
    with open(a.spans) as f:
        for line in f:
            idx, js = line.split(" ", 1)
            rows.append((int(idx), json.loads(js)))
    random.seed(7)
    sample = random.sample(rows, min(a.sample, len(rows)))
    c = Conn(a.base)
    good = bad = 0
    first_bad = None
    for idx, spans in sample:
        c.cookie = cookies[idx]
        st, h, j = c.call("GET", "/api/v1/units/%s/progress" % a.unit)
        want = merge(spans)
        got = j.get("watched") if st == 200 and isinstance(j, dict) else None
        if got is not None and [[round(x, 3) for x in r] for r in got] == \
                [[round(x, 3) for x in r] for r in want]:
            good += 1
        else:
            bad += 1
            first_bad = first_bad or (idx, st, got, want)
    print("checked %d %d" % (good, bad))
    if first_bad:
        print("mismatch %r" % (first_bad,))


# ------------------------------------------------------------------ xAPI

def statement(i, rng):
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": {"objectType": "Agent",
                  "account": {"homePage": "https://tinchi.example.vn",
                              "name": "learner-%06d" % (i % 50000)}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed",
                 "display": {"en-US": "progressed", "vi": "đã học tiếp"}},
        "object": {"objectType": "Activity",
                   "id": "https://tinchi.example.vn/units/%d" % (i % 977),
                   "definition": {"name": {"vi": "Bài %d" % (i % 977)},
                                  "type": "https://w3id.org/xapi/video/activity-type/video"}},
        "result": {"extensions": {"https://w3id.org/xapi/video/extensions/progress": (i % 100) / 100.0}},
        "context": {"registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "contextActivities": {"parent": [{"id": "https://tinchi.example.vn/courses/%d" % (i % 37)}]}},
        "timestamp": "2026-11-30T10:%02d:%02d.%03dZ" % ((i // 60000) % 60, (i // 1000) % 60, i % 1000),
    }


def batches(n, b):
    rng = random.Random(11)
    return [[statement(i, rng) for i in range(k, min(n, k + b))] for k in range(0, n, b)]


def xapi(a):
    bodies = [json.dumps(x).encode() for x in batches(a.statements, a.batch)]
    auth = "Basic " + base64.b64encode(("%s:%s" % (a.key, a.secret)).encode()).decode()
    errors = []
    lat = []

    def work(k):
        c = Conn(a.base, auth=auth)
        for i in range(k, len(bodies), a.threads):
            t = time.perf_counter()
            st, h, j = c.call("POST", "/xapi/statements", bodies[i],
                              headers={"X-Experience-API-Version": "2.0.0"})
            lat.append((time.perf_counter() - t) * 1000.0)
            if st != 200:
                errors.append("POST: %s %r" % (st, j))
                return

    t = time.perf_counter()
    th = [threading.Thread(target=work, args=(k,)) for k in range(a.threads)]
    for x in th:
        x.start()
    for x in th:
        x.join()
    el = time.perf_counter() - t
    if errors:
        die(errors[0])
    lat.sort()
    print("xapi %d %.3f %.2f %.2f" % (a.statements, el, pct(lat, 50), pct(lat, 99)))


def xapi_ref(a):
    db = sqlite3.connect(a.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE s (id TEXT PRIMARY KEY, json TEXT NOT NULL)")
    bodies = batches(a.statements, a.batch)
    t = time.perf_counter()
    for b in bodies:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO s VALUES (?, ?)", [(s["id"], json.dumps(s)) for s in b])
        db.execute("COMMIT")
    print("xapi-ref %d %.3f" % (a.statements, time.perf_counter() - t))


def admin_key(a):
    c = Conn(a.base)
    c.sign_in(a.national_id, a.password)
    st, h, j = c.call("POST", "/api/v1/institutions/%s/lrs-credentials" % a.institution,
                      {"name": "benchmark"})
    if st != 201:
        die("LRS credential: %s %r" % (st, j))
    print(j["key"], j["secret"])


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("base")
    s.add_argument("--institution", required=True)
    s.add_argument("--lecturer", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--codes", required=True)
    s.add_argument("--video", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--threads", type=int, default=8)
    s = sub.add_parser("ws")
    s.add_argument("base")
    s.add_argument("--sessions", required=True)
    s.add_argument("--unit", required=True)
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--spans", required=True)
    s.add_argument("--duration", type=float, default=60)
    s.add_argument("--interval", type=float, default=5)
    s.add_argument("--ramp", type=int, default=1000)
    s = sub.add_parser("check")
    s.add_argument("base")
    s.add_argument("--sessions", required=True)
    s.add_argument("--unit", required=True)
    s.add_argument("--spans", required=True)
    s.add_argument("--sample", type=int, default=500)
    s = sub.add_parser("xapi")
    s.add_argument("base")
    s.add_argument("--key", required=True)
    s.add_argument("--secret", required=True)
    s.add_argument("--statements", type=int, default=20000)
    s.add_argument("--batch", type=int, default=50)
    s.add_argument("--threads", type=int, default=4)
    s = sub.add_parser("xapi-ref")
    s.add_argument("db")
    s.add_argument("--statements", type=int, default=20000)
    s.add_argument("--batch", type=int, default=50)
    s = sub.add_parser("admin-key")
    s.add_argument("base")
    s.add_argument("--institution", required=True)
    s.add_argument("--national-id", required=True)
    s.add_argument("--password", required=True)
    a = p.parse_args()
    {"admin-key": admin_key, "setup": setup, "ws": ws, "check": check, "xapi": xapi, "xapi-ref": xapi_ref}[a.cmd](a)


if __name__ == "__main__":
    main()
