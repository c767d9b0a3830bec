#!/usr/bin/env python3
"""limits_test.py - request limits and timeouts of the real server.

Header size, slow headers (slowloris), slow bodies, the connection cap, body
limits, keep-alive, malformed requests and a client that stalls reading.
"""
import http.client
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, parse_response, sanitizer_clean  # noqa: E402

tap = Tap()

HEADER_TIMEOUT = 2
REQUEST_TIMEOUT = 2
SEND_TIMEOUT = 2
BIG_FILE = 16 << 20


def read_until_eof(sock, timeout):
    """Reads until EOF; returns (bytes, closed). closed is False on timeout."""
    deadline = time.time() + timeout
    out = b""
    while True:
        left = deadline - time.time()
        if left <= 0:
            return out, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk


def exchange(port, data, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass        # the server may hang up before reading everything
        return read_until_eof(s, timeout)
    finally:
        s.close()


def healthz(srv):
    try:
        return srv.request("GET", "/healthz", timeout=5)[0]
    except OSError as e:
        return repr(e)


def poll(fn, timeout=5.0, step=0.05):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


def check_stop(srv, what):
    rc, log = srv.stop()
    tap.eq(rc, 0, "%s: SIGTERM stop exits 0" % what)
    tap.ok(sanitizer_clean(log), "%s: no sanitizer report" % what, log[-3000:])


# ---- header, body and timing limits -----------------------------------------

srv = Server("--max-header", "2048", "--header-timeout", str(HEADER_TIMEOUT),
             "--request-timeout", str(REQUEST_TIMEOUT), "--max-body", "1K")
try:
    raw, closed = exchange(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Small: " +
                           b"s" * 1000 + b"\r\nConnection: close\r\n\r\n")
    tap.eq(parse_response(raw)[0], 200, "a 1 KB header line is accepted")

    raw, closed = exchange(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: " +
                           b"c" * 4096 + b"\r\n\r\n")
    st, h, body = parse_response(raw)
    tap.eq(st, 431, "a 4 KB Cookie over --max-header 2048 is answered 431")
    tap.ok(h.get("content-type") == "application/problem+json" and b'"status":431' in body and closed,
           "the 431 is a problem+json body and the connection is closed", raw[:400])

    raw, closed = exchange(srv.port, b"GET /" + b"p" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    st = parse_response(raw)[0]
    tap.ok(st in (414, 431), "a 3 KB request target over the limit is refused with %r" % st, raw[:300])

    raw, closed = exchange(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                           b"a" * 9000 + b"\r\n\r\n")
    st = parse_response(raw)[0]
    outcome = "closed without an answer" if not raw else "answered %r" % st
    tap.diag("9 KB unknown header line with --max-header 2048: %s" % outcome)
    tap.ok((raw == b"" and closed) or (st is not None and 400 <= st < 500),
           "a 9 KB header line (past lws's 4x buffer) gets a 4xx or a closed connection (%s)" % outcome, raw[:300])
    tap.eq(healthz(srv), 200, "server answers after the oversized header")

    # slowloris: one header byte every 0.5 s
    s = srv.connect()
    t0 = time.time()
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    got, closed = b"", False
    while time.time() - t0 < HEADER_TIMEOUT + 5:
        try:
            s.sendall(b"X")
        except OSError:
            closed = True
            break
        chunk, closed = read_until_eof(s, 0.5)
        got += chunk
        if closed:
            break
    elapsed = time.time() - t0
    s.close()
    tap.ok(closed and elapsed < HEADER_TIMEOUT + 3 and b" 200 " not in got[:20],
           "slow headers are cut off within header-timeout + 3 s (%.1f s)" % elapsed,
           "closed=%r %r" % (closed, got[:200]))

    # a body that stops half-way
    s = srv.connect()
    t0 = time.time()
    s.sendall(b"POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 100\r\n\r\n0123456789")
    got, closed = read_until_eof(s, REQUEST_TIMEOUT + 6)
    elapsed = time.time() - t0
    s.close()
    tap.ok(closed and elapsed < REQUEST_TIMEOUT + 3 and b" 200 " not in got[:20],
           "a stalled body is cut off within request-timeout + 3 s (%.1f s)" % elapsed,
           "closed=%r %r" % (closed, got[:200]))

    # a body that keeps trickling (one byte every 0.7 s, so lws's per-chunk
    # timer never fires): the whole body must still arrive within
    # request-timeout
    s = srv.connect()
    t0 = time.time()
    s.sendall(b"POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 20\r\n\r\n")
    got = b""
    for i in range(20):
        time.sleep(0.7)
        try:
            s.sendall(b"x")
        except OSError:
            break
        if time.time() - t0 > REQUEST_TIMEOUT + 1.5:
            break
    got, closed = read_until_eof(s, 3)
    elapsed = time.time() - t0
    s.close()
    st = parse_response(got)[0]
    tap.ok(st == 408 and elapsed < REQUEST_TIMEOUT + 5,
           "a trickling body is answered 408 once request-timeout has passed (%.1f s)" % elapsed,
           "status=%r %r" % (st, got[:300]))
    tap.eq(healthz(srv), 200, "server answers after the slow clients")

    # body limits (POST /api/v1 exists for GET only: 405 once the body is read)
    st, h, body = srv.request("POST", "/api/v1", body=b"a" * 1024,
                              headers={"Content-Type": "application/json"})
    tap.ok(st != 413 and st in (404, 405), "a 1024-byte body is within --max-body 1K (%d)" % st,
           body[:200])
    st, h, body = srv.request("POST", "/api/v1", body=b"a" * 1025,
                              headers={"Content-Type": "application/json"})
    tap.ok(st == 413 and h.get("content-type") == "application/problem+json",
           "a 1025-byte body -> 413 problem+json", (st, h.get("content-type"), body[:200]))

    raw, closed = exchange(srv.port, b"POST /api/v1 HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"5\r\nhello\r\n0\r\n\r\n")
    st, h, _ = parse_response(raw)
    tap.ok(st == 411 and h.get("content-type") == "application/problem+json",
           "POST without Content-Length (chunked) -> 411 problem+json", raw[:300])

    raw, closed = exchange(srv.port, b"POST /api/v1 HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: 12abc\r\n\r\nhello world!")
    tap.eq(parse_response(raw)[0], 400, "a malformed Content-Length (12abc) -> 400")

    raw, closed = exchange(srv.port, b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n")
    st = parse_response(raw)[0]
    tap.ok((raw == b"" and closed) or (st is not None and 400 <= st < 600),
           "unknown method BREW -> 4xx/5xx or closed, never 200 (%r)" % st, raw[:300])
    tap.eq(healthz(srv), 200, "server survives the unknown method")

    # keep-alive: one connection, fifty requests
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    statuses, ports = [], set()
    try:
        for _ in range(50):
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            statuses.append(r.status)
            ports.add(c.sock.getsockname()[1] if c.sock else None)
    except (OSError, http.client.HTTPException) as e:
        statuses.append(repr(e))
    finally:
        c.close()
    tap.ok(statuses == [200] * 50 and len(ports) == 1 and None not in ports,
           "50 sequential keep-alive requests on one connection are all 200",
           "statuses=%r ports=%r" % (statuses[-3:], ports))
finally:
    check_stop(srv, "limits server")


# ---- the connection cap -----------------------------------------------------

srv = Server("--max-connections", "3")
try:
    held = []
    ok_held = True
    for _ in range(3):
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        ok_held = ok_held and r.status == 200 and not r.will_close
        held.append(c)
    tap.ok(ok_held, "three keep-alive connections are open and idle")

    raw, closed = exchange(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, body = parse_response(raw)
    tap.ok(closed and st == 503 and h.get("content-type") == "application/problem+json"
           and h.get("retry-after", "").isdigit() and b'"status":503' in body,
           "the 4th connection gets 503 problem+json with Retry-After, then closed",
           "closed=%r %r" % (closed, raw[:400]))

    for c in held:
        c.close()
    tap.eq(poll(lambda: healthz(srv) == 200), True,
           "after the three close, a new request succeeds")
finally:
    check_stop(srv, "max-connections server")


# ---- a client that stops reading -------------------------------------------

web = tempfile.mkdtemp(prefix="tinchi-web-")
try:
    with open(os.path.join(web, "big.bin"), "wb") as f:
        f.write(os.urandom(BIG_FILE))
    srv = Server("--send-timeout", str(SEND_TIMEOUT), web=web)
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(SEND_TIMEOUT + 4)
        got, closed = read_until_eof(s, 15)
        s.close()
        st = parse_response(got[:4096] + b"\r\n\r\n")[0] if got else None
        tap.ok(closed and st == 200 and len(got) < BIG_FILE,
               "a stalled reader is dropped: %d of %d bytes arrived" % (len(got), BIG_FILE),
               "closed=%r status=%r" % (closed, st))
        tap.eq(healthz(srv), 200, "server answers /healthz after the stalled reader")
        tap.ok("aborted" in srv.read_log(), "the aborted response is logged",
               srv.read_log()[-1500:])
    finally:
        check_stop(srv, "send-timeout server")
finally:
    shutil.rmtree(web, ignore_errors=True)

tap.done()
